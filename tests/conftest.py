"""Shared helpers: real images made with Pillow, and a strict check of emitted shapes."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterable
from typing import Any

import anthropic
import pytest
from PIL import Image
from pydantic import TypeAdapter

from claudevision.testing import ClaudeServer

from . import netguard

netguard.install()

MESSAGE_PARAM: TypeAdapter[Any] = TypeAdapter(anthropic.types.MessageParam)


def gradient(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A smooth, asymmetric test picture (so orientation mistakes show)."""
    base = Image.linear_gradient("L").resize((width, height))
    other = Image.radial_gradient("L").resize((width, height))
    rgb = Image.merge("RGB", (base, other, base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    if mode == "RGB":
        return rgb
    if mode == "RGBA":
        rgba = rgb.convert("RGBA")
        rgba.putalpha(other)
        return rgba
    return rgb.convert(mode)


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def jpeg(width: int, height: int, *, orientation: int | None = None, quality: int = 90) -> bytes:
    options: dict[str, Any] = {"quality": quality}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif
    return encode(gradient(width, height), "JPEG", **options)


def png(width: int, height: int, mode: str = "RGB") -> bytes:
    return encode(gradient(width, height, mode), "PNG")


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_valid_message(param: Any) -> None:
    """Validate against the SDK's MessageParam, forcing its lazily checked iterables."""
    validated = MESSAGE_PARAM.validate_python(param)
    for block in list(validated["content"]):
        if block.get("type") == "tool_result":
            list(block["content"])


def image_blocks(content: Iterable[Any]) -> list[Any]:
    out = []
    for block in content:
        if block["type"] == "image":
            out.append(block)
        elif block["type"] == "tool_result":
            out += [b for b in block["content"] if b["type"] == "image"]
    return out


@pytest.fixture
def sample_jpeg() -> bytes:
    return jpeg(800, 600)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def client(claude_server: ClaudeServer) -> anthropic.Anthropic:
    return claude_server.client(max_retries=0)


@pytest.fixture
async def aclient(claude_server: ClaudeServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    client = claude_server.async_client(max_retries=0)
    yield client
    await client.close()  # before the test's event loop closes


@pytest.fixture
def names() -> Iterable[dict[str, list[str]]]:
    """The test suite's name table (host -> addresses), emptied after the test."""
    yield netguard.NAMES
    netguard.NAMES.clear()


@pytest.fixture
def backend() -> str:
    """The backend this run prepares images with (``CLAUDEVISION_BACKEND``, else libvips
    where pyvips is installed); CI runs the whole suite once with each."""
    from claudevision._prepare.backend import chosen

    return chosen()


@pytest.fixture(params=["pillow", "libvips"])
def each_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test once per backend in the same run (libvips skipped where not installed)."""
    from claudevision._prepare.backend import ENV, available

    name: str = request.param
    if not available(name):
        pytest.skip(f"{name} is not installed")
    monkeypatch.setenv(ENV, name)
    return name
