"""Large PNGs decoded by Pillow a band at a time: the pixels of a whole decode (within a
level where the resize itself is made by bands), the same errors for damaged data, and
never the whole image in memory."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from PIL import Image

import claudevision as cv
from claudevision import prepare_image
from claudevision._prepare import backend, pixels, pngbands
from claudevision.steps import Encoded

from .conftest import encode

MODEL = "claude-sonnet-4-6"


@pytest.fixture(autouse=True)
def _pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(backend.ENV, "pillow")
    monkeypatch.setattr(pixels, "BAND_THRESHOLD", 200_000)  # small images, quick tests
    monkeypatch.setattr(pngbands, "THRESHOLD", 200_000)


def picture(mode: str, width: int, height: int, seed: int = 0) -> Image.Image:
    """Gradients and noise in every channel, a varying alpha: every row filter is used."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    channels = [
        ((x * (c + 1) + y * (3 - c)) // 7 + rng.integers(0, 24, (height, width))) % 256
        for c in range(len(mode))
    ]
    if mode in ("LA", "RGBA"):
        channels[-1] = (x + 2 * y) % 256
    array = np.stack(channels, -1).astype(np.uint8)
    return Image.fromarray(array[..., 0] if len(mode) == 1 else array, mode)


def outcome(data: bytes) -> tuple[Any, ...]:
    try:
        prepared = prepare_image(data, model=MODEL)
    except cv.ClaudeVisionError as exc:
        return type(exc).__name__, str(exc)
    return prepared.size, prepared.media_type, prepared.steps, prepared.data


def whole_and_banded(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    banded = outcome(data)
    with monkeypatch.context() as patch:
        patch.setattr(pngbands, "handles", lambda data, image: False)
        whole = outcome(data)
    return whole, banded


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize("size", [(6500, 700), (1000, 6500)])
def test_bands_give_the_pixels_of_a_whole_decode(
    mode: str, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = encode(picture(mode, *size), "PNG")
    assert pngbands.handles(data, Image.open(io.BytesIO(data)))
    whole, banded = whole_and_banded(data, monkeypatch)
    assert pngbands.shrink(data, whole[0]) is not None  # banded indeed
    assert banded == whole  # the same bytes: the same pixels, encoded the same way


def _levels(first: Image.Image, second: Image.Image) -> tuple[int, int]:
    """Pixels that differ, and by how much at most (premultiplied where there is alpha)."""
    mode = {"RGBA": "RGBa", "LA": "La"}.get(first.mode, first.mode)
    a = np.asarray(first.convert(mode), dtype=int).reshape(first.height, first.width, -1)
    b = np.asarray(second.convert(mode), dtype=int).reshape(first.height, first.width, -1)
    return int((a != b).any(-1).sum()), int(np.abs(a - b).max())


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_an_image_too_close_to_its_target_to_reduce_is_resized_by_bands(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = encode(picture(mode, 2600, 1700, seed=5), "PNG")  # 2.2x: no box reduction
    whole, banded = whole_and_banded(data, monkeypatch)
    assert whole[0] == banded[0] == (1371, 896) and whole[2][0] == banded[2][0]
    assert pngbands.shrink(data, (1371, 896)) is not None
    differ, levels = _levels(cv_pil(whole[3]), cv_pil(banded[3]))
    assert levels <= (1 if len(mode) % 2 else 2)  # the weights' rounding, premultiplied
    assert differ <= 1371 * 896 // (1000 if len(mode) % 2 else 20)


def cv_pil(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_screenshot_is_never_decoded_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    import claudevision._prepare.prepare as prepare_module

    monkeypatch.setattr(pngbands, "THRESHOLD", 4_000_000)
    data = encode(picture("RGB", 2880, 1800), "PNG")
    loads: list[Image.Image] = []
    monkeypatch.setattr(prepare_module, "load", loads.append)
    assert prepare_image(data, model=MODEL).size == (1389, 868) and loads == []


def test_the_pillow_path_never_loads_a_png_bomb_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    import claudevision._prepare.prepare as prepare_module

    monkeypatch.setattr(pixels, "BAND_THRESHOLD", 16_000_000)
    bomb = encode(Image.new("RGBA", (6000, 6000), (10, 20, 30, 255)), "PNG", compress_level=9)
    loads: list[Image.Image] = []
    monkeypatch.setattr(prepare_module, "load", loads.append)
    prepared = prepare_image(bomb, model=MODEL)
    assert loads == [] and prepared.size == (1092, 1092)
    assert prepared.to_pil().convert("RGB").getextrema() == ((10, 10), (20, 20), (30, 30))


# -- damaged data: refused by the bands, then Pillow's own verdict ----------------------------


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _rebuilt(data: bytes, raw: bytes) -> bytes:
    """``data`` with its image data replaced by ``raw`` (filtered rows), recompressed."""
    head = data[: data.find(b"IDAT") - 4]
    return head + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")


def _raw(data: bytes) -> bytes:
    position, parts = 8, []
    while position < len(data):
        (length,) = struct.unpack_from(">I", data, position)
        if data[position + 4 : position + 8] == b"IDAT":
            parts.append(data[position + 8 : position + 8 + length])
        position += 12 + length
    return zlib.decompress(b"".join(parts))


GOOD = encode(picture("RGB", 6400, 1000, seed=3), "PNG")
TARGET = (1568, 245)
STRIDE = 1 + 6400 * 3
DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "bad CRC": lambda d: d[:40] + bytes([d[40] ^ 1]) + d[41:],
    "flipped image data": lambda d: d[:5000] + bytes([d[5000] ^ 0x55]) + d[5001:],
    "cut short": lambda d: d[: len(d) // 2],
    "no end chunk": lambda d: d[:-12],
    "bytes after the end": lambda d: d + b"junk",
    "a row short": lambda d: _rebuilt(d, _raw(d)[:-STRIDE]),
    "a row too many": lambda d: _rebuilt(d, _raw(d) + _raw(d)[:STRIDE]),
    "a byte too many": lambda d: _rebuilt(d, _raw(d) + b"\x00"),
    "a filter that does not exist": lambda d: _rebuilt(
        d, _raw(d)[: 500 * STRIDE] + b"\x07" + _raw(d)[500 * STRIDE + 1 :]
    ),
    "data after the zlib stream": lambda d: (
        _rebuilt(d, _raw(d))[:-12] + _chunk(b"IDAT", b"\x00\x01") + _chunk(b"IEND", b"")
    ),
    "a text chunk after the image data": lambda d: (
        d[:-12] + _chunk(b"tEXt", b"Comment\x00late") + d[-12:]
    ),
}


def test_the_undamaged_image_is_banded() -> None:
    assert pngbands.shrink(GOOD, TARGET) is not None


@pytest.mark.parametrize("name", list(DAMAGE))
def test_damaged_data_is_refused_by_the_bands_and_judged_by_pillow(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = DAMAGE[name](GOOD)
    assert pngbands.shrink(data, TARGET) is None
    whole, banded = whole_and_banded(data, monkeypatch)
    assert banded == whole


def test_the_same_sizes_steps_and_errors_as_libvips(monkeypatch: pytest.MonkeyPatch) -> None:
    if not backend.available("libvips"):
        pytest.skip("libvips is not installed")
    results = []
    for name in ("pillow", "libvips"):
        monkeypatch.setenv(backend.ENV, name)
        prepared = prepare_image(GOOD, model=MODEL)
        steps = [replace(s, size=0) if isinstance(s, Encoded) else s for s in prepared.steps]
        results.append((prepared.size, prepared.media_type, steps))
    assert results[0] == results[1]
