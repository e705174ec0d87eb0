"""The two backends: the choice, and the same sizes, steps and errors from either."""

from __future__ import annotations

import struct
import zlib
from dataclasses import replace
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat, PngImagePlugin

import claudevision as cv
from claudevision import ConfigurationError, MissingDependencyError, prepare_image
from claudevision._prepare import backend
from claudevision.steps import Encoded

from .conftest import decode, encode, gradient

MODEL = "claude-sonnet-4-6"  # standard tier: 1568 px, so these images are resized


# -- the choice ---------------------------------------------------------------------------


def test_default_is_libvips_where_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(backend.ENV, raising=False)
    assert backend.chosen() == ("libvips" if backend.available("libvips") else "pillow")


@pytest.mark.parametrize("value", ["pillow", "PILLOW", " pillow "])
def test_pillow_can_be_forced(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(backend.ENV, value)
    assert backend.chosen() == "pillow"


def test_an_unknown_backend_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(backend.ENV, "imagemagick")
    with pytest.raises(ConfigurationError, match="CLAUDEVISION_BACKEND='imagemagick'"):
        prepare_image(encode(gradient(3000, 2000), "PNG"), model=MODEL)


def test_forcing_a_missing_libvips_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(backend.ENV, "libvips")
    monkeypatch.setattr(backend, "available", lambda name: name == "pillow")
    with pytest.raises(MissingDependencyError, match=r"claudevision\[fast\]"):
        backend.chosen()


def test_the_fixture_names_the_backend_in_use(backend: str) -> None:
    assert backend in ("pillow", "libvips")


# -- the same result either way -------------------------------------------------------------


def _png_with(image: Image.Image, **options: Any) -> bytes:
    return encode(image, "PNG", **options)


def _bad_crc(data: bytes, kind: bytes) -> bytes:
    at = data.find(kind) - 4
    (length,) = struct.unpack(">I", data[at : at + 4])
    crc = at + 8 + length
    return data[:crc] + bytes([data[crc] ^ 1]) + data[crc + 1 :]


def _flipped_idat(data: bytes) -> bytes:
    at = data.find(b"IDAT") + 24
    return data[:at] + bytes([data[at] ^ 0x55]) + data[at + 1 :]


def _inputs() -> dict[str, bytes]:
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "a screenshot")
    screen = gradient(2400, 1500)
    exif = Image.Exif()
    exif[0x0112] = 6
    sixteen = Image.linear_gradient("L").resize((2200, 1400)).convert("I;16")
    good = _png_with(screen, pnginfo=text)
    webp = encode(screen, "WEBP", quality=80)
    return {
        "RGB PNG": _png_with(screen),
        "RGBA PNG": _png_with(gradient(2400, 1500, "RGBA")),
        "L PNG": _png_with(gradient(2400, 1500, "L")),
        "LA PNG": _png_with(gradient(2400, 1500, "RGBA").convert("LA")),
        "palette PNG": _png_with(screen.convert("P")),
        "16-bit PNG": _png_with(sixteen),
        "PNG with EXIF orientation": _png_with(screen, exif=exif),
        "interlaced PNG": _png_with(screen, optimize=False, interlace=1),
        "WebP": webp,
        "lossless RGBA WebP": encode(gradient(2400, 1500, "RGBA"), "WEBP", lossless=True),
        "WebP, damaged image data": webp[:900] + bytes([webp[900] ^ 0x10]) + webp[901:],
        "WebP, cut short": webp[: len(webp) // 2],
        "small PNG (passes)": _png_with(gradient(300, 200)),
        "PNG, bad CRC in a text chunk": _bad_crc(good, b"tEXt"),
        "PNG, bad CRC in the image data": _bad_crc(good, b"IDAT"),
        "PNG, damaged image data": _flipped_idat(good),
        "PNG, cut short": good[: len(good) // 2],
        "PNG, bytes after the end": good + b"junk",
        "PNG, no end chunk": good[:-12],
        "PNG, damaged zlib stream": good[:60] + zlib.compress(b"x") + good[70:],
    }


INPUTS = _inputs()


def outcome(data: bytes) -> tuple[Any, ...]:
    try:
        prepared = prepare_image(data, model=MODEL)
    except cv.ClaudeVisionError as exc:
        return type(exc).__name__, str(exc)
    decoded = decode(prepared.data or b"")
    steps = [replace(s, size=0) if isinstance(s, Encoded) else s for s in prepared.steps]
    return prepared.size, prepared.media_type, decoded.mode, steps  # the bytes differ


@pytest.mark.parametrize("name", list(INPUTS))
def test_both_backends_give_the_same_sizes_steps_and_errors(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not backend.available("libvips"):
        pytest.skip("libvips is not installed")
    data = INPUTS[name]
    monkeypatch.setenv(backend.ENV, "pillow")
    with_pillow = outcome(data)
    monkeypatch.setenv(backend.ENV, "libvips")
    with_vips = outcome(data)
    assert with_vips == with_pillow


def test_libvips_shrinks_a_screenshot_without_pillow_decoding_it(
    each_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The libvips path never calls Pillow's load; the Pillow path always does."""
    import claudevision._prepare.prepare as prepare_module
    from claudevision._prepare.decode import load

    loads: list[Image.Image] = []

    def counted(image: Image.Image) -> None:
        loads.append(image)
        load(image)

    monkeypatch.setattr(prepare_module, "load", counted)
    prepared = prepare_image(INPUTS["RGB PNG"], model=MODEL)
    assert prepared.size is not None and prepared.size < (2400, 1500)
    assert bool(loads) == (each_backend == "pillow")


def test_libvips_pixels_match_pillow_closely(monkeypatch: pytest.MonkeyPatch) -> None:
    """Different filters, the same picture: the mean error per channel stays small."""
    if not backend.available("libvips"):
        pytest.skip("libvips is not installed")
    pictures = []
    for name in ("pillow", "libvips"):
        monkeypatch.setenv(backend.ENV, name)
        pictures.append(decode(prepare_image(INPUTS["RGBA PNG"], model=MODEL).data or b""))
    first, second = (picture.convert("RGBA") for picture in pictures)
    assert first.size == second.size
    difference = ImageStat.Stat(ImageChops.difference(first, second))
    assert max(difference.mean) < 2.0
