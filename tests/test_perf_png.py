"""PNG written with one row filter chosen by trial: the exact pixels in every mode it
takes, the ICC profile kept, transparency and other modes left to Pillow, a proof that
passes, and the filter that suits the picture."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from claudevision import prepare_image
from claudevision._prepare import pngwrite
from claudevision._prepare.verify import is_whole
from claudevision.steps import Encoded

MODEL = "claude-sonnet-4-6"


def noisy(mode: str, width: int, height: int) -> Image.Image:
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:height, 0:width]
    base = ((x + 2 * y) // 3 + rng.integers(0, 9, (height, width))) % 256
    rgba = np.dstack([base, (base * 3) % 256, 255 - base, (x * 5) % 256]).astype(np.uint8)
    return Image.fromarray(rgba, "RGBA").convert(mode)


def ui(width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height), (246, 246, 248))
    draw = ImageDraw.Draw(image)
    for row in range(0, height, 30):
        draw.rectangle([20, row + 4, width - 20, row + 24], fill="white", outline=(210, 210, 215))
        draw.text((30, row + 8), f"Row {row}: a label and its value " * 2, fill=(20, 20, 20))
    return image


def first_filters(data: bytes, image: Image.Image) -> set[int]:
    """The filter byte of every row of a PNG written here (one IDAT chunk)."""
    start = data.index(b"IDAT") + 4
    length = int.from_bytes(data[start - 8 : start - 4], "big")
    raw = zlib.decompress(data[start : start + length])
    stride = 1 + image.width * len(image.getbands())
    return set(raw[::stride])


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize("size", [(1, 1), (5, 3), (37, 64), (200, 131), (300, 700)])
def test_the_pixels_are_exactly_the_images(mode: str, size: tuple[int, int]) -> None:
    image = noisy(mode, *size)
    assert pngwrite.writes(image)
    data = pngwrite.write(image, 1)
    back = Image.open(io.BytesIO(data))
    back.load()
    assert back.mode == mode and back.size == size and back.tobytes() == image.tobytes()
    assert is_whole(data, "image/png", size)
    assert len(first_filters(data, image)) == 1


def test_the_icc_profile_is_kept_given_or_from_the_image() -> None:
    image = noisy("RGB", 40, 30)
    assert Image.open(io.BytesIO(pngwrite.write(image, 1, b"given"))).info["icc_profile"] == (
        b"given"
    )
    image.info["icc_profile"] = b"own"
    assert Image.open(io.BytesIO(pngwrite.write(image, 1))).info["icc_profile"] == b"own"


def test_transparency_and_other_modes_are_left_to_pillow() -> None:
    keyed = noisy("RGB", 20, 20)
    keyed.info["transparency"] = (1, 2, 3)
    assert not pngwrite.writes(keyed)
    for mode in ("1", "P", "I;16", "I", "CMYK"):
        assert not pngwrite.writes(noisy("RGB", 20, 20).convert(mode))


def test_a_screenshot_goes_unfiltered_and_a_photo_filtered() -> None:
    screen = ui(700, 500)
    assert first_filters(pngwrite.write(screen, 1), screen) == {0}
    photo = noisy("RGB", 400, 300)
    assert first_filters(pngwrite.write(photo, 1), photo) != {0}


def test_no_larger_than_pillow_on_a_screenshot() -> None:
    screen = ui(1400, 880)
    buffer = io.BytesIO()
    screen.save(buffer, "PNG", compress_level=1)
    assert len(pngwrite.write(screen, 1)) <= len(buffer.getvalue())


def test_a_converted_screenshot_is_written_here() -> None:
    buffer = io.BytesIO()
    ui(3000, 1900).save(buffer, "PNG")
    prepared = prepare_image(buffer.getvalue(), model=MODEL)
    assert prepared.media_type == "image/png"
    assert prepared.data is not None and prepared.size is not None
    assert any(isinstance(step, Encoded) and step.format == "PNG" for step in prepared.steps)
    shown = Image.open(io.BytesIO(prepared.data))
    assert first_filters(prepared.data, shown) == {0}
