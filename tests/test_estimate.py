"""``claudevision.estimate``: the tokens prepare_image gives, from headers where it can."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import claudevision
from claudevision import (
    Bounds,
    ConfigurationError,
    CorruptImageError,
    ImageNotFoundError,
    ImageTooLargeError,
    UnsupportedSourceError,
    URLSource,
    estimate,
    prepare_image,
)

from .conftest import encode, gradient, jpeg, png

MODELS = ["claude-opus-4-8", "claude-sonnet-4-6", "an-unknown-model"]


def inputs(tmp_path: Path) -> list[Any]:
    sideways = tmp_path / "sideways.jpg"
    sideways.write_bytes(jpeg(4032, 3024, orientation=6))
    screenshot = tmp_path / "screen.png"
    screenshot.write_bytes(png(2880, 1800))
    return [
        sideways,
        str(screenshot),
        jpeg(800, 600),
        encode(gradient(5000, 300), "WEBP"),
        encode(gradient(640, 480).convert("P"), "GIF"),
        encode(gradient(3000, 2000), "TIFF"),
        gradient(1200, 3000),
        jpeg(9000, 200, orientation=8),
    ]


@pytest.mark.filterwarnings("ignore::claudevision.UnknownModelWarning")
@pytest.mark.parametrize("platform", ["anthropic", "bedrock"])
@pytest.mark.parametrize("model", MODELS)
def test_tokens_and_sizes_are_prepare_images(tmp_path: Path, model: str, platform: str) -> None:
    items = inputs(tmp_path)
    found = estimate(items, model=model, platform=platform)
    assert len(found) == len(items)
    for item, one in zip(items, found, strict=True):
        prepared = prepare_image(item, model=model, platform=platform)
        assert (one.tokens, one.size, one.model_size, one.original_size) == (
            prepared.tokens,
            prepared.size,
            prepared.model_size,
            prepared.original_size,
        )
    assert found.tokens == sum(one.tokens or 0 for one in found)
    assert [one.decoded for one in found] == [False] * 5 + [True, False, False]  # TIFF decoded
    assert found.images[0].format == "image/jpeg" and found.images[5].format == "image/tiff"


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 9000),
    st.integers(1, 3000),
    st.sampled_from([1, 3, 5, 6, 8]),
    st.sampled_from(["claude-opus-4-8", "claude-sonnet-4-6"]),
)
def test_any_size_and_orientation(width: int, height: int, orientation: int, model: str) -> None:
    data = encode(Image.new("L", (width, height)), "JPEG", exif=_orientation(orientation))
    assert estimate(data, model=model).images[0].tokens == prepare_image(data, model=model).tokens


def _orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def test_only_the_header_of_a_file_is_read(tmp_path: Path) -> None:
    """A 12 MB file whose JPEG header is followed by zeros: the estimate never reads them."""
    header = jpeg(4032, 3024)[:2000]
    path = tmp_path / "big.jpg"
    path.write_bytes(header + bytes(12_000_000))
    small = Bounds(max_input_bytes=1_000_000)
    one = estimate([path], model="claude-sonnet-4-6", bounds=small).images[0]
    assert one.original_size == (4032, 3024) and one.input_bytes == 12_002_000
    assert not one.decoded
    with pytest.raises(ImageTooLargeError):
        prepare_image(path, model="claude-sonnet-4-6", bounds=small)  # preparing reads it all


def test_cost_is_the_sum_of_each_images() -> None:
    found = estimate([jpeg(3000, 2000), png(400, 300)], model="claude-sonnet-4-6")
    assert found.cost == pytest.approx(sum(one.cost or 0 for one in found))
    assert found.cost == pytest.approx(claudevision.estimate_cost(found.tokens or 0, found.model))
    assert "2 image(s)" in found.describe()


def test_urls_have_no_size_and_platforms_that_refuse_them_say_so() -> None:
    found = estimate(
        [URLSource(url="https://example.com/a.png"), png(10, 10)], model="claude-opus-4-8"
    )
    assert found.images[0].tokens is None and found.tokens is None and found.cost is None
    with pytest.raises(UnsupportedSourceError, match="bedrock"):
        estimate(
            [URLSource(url="https://example.com/a.png")],
            model="claude-opus-4-8",
            platform="bedrock",
        )


def test_bad_inputs_are_named(tmp_path: Path) -> None:
    with pytest.raises(ImageNotFoundError, match=r"image 2 \('no/such.png'\)"):
        estimate([png(10, 10), "no/such.png"], model="claude-opus-4-8")
    with pytest.raises(CorruptImageError, match="image 1"):
        estimate([b"\x89PNG\r\n\x1a\n" + bytes(40)], model="claude-opus-4-8")
    with pytest.raises(ConfigurationError, match="at least one"):
        estimate([], model="claude-opus-4-8")
    with pytest.raises(ConfigurationError, match="max_side"):
        estimate([png(10, 10)], model="claude-opus-4-8", max_side=0)
