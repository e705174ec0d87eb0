"""The GIF proof by runs (NumPy) agrees with the code-by-code walk, on real and broken data."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from claudevision._prepare.lzw import _by_runs, lzw_fills, walk

EXAMPLES = int(os.environ.get("CLAUDEVISION_FUZZ_EXAMPLES", "800"))


def gif_stream(image: Image.Image) -> tuple[bytes, int, int, int]:
    """The LZW stream of a one-frame GIF Pillow writes, with its code size, pixels and colours."""
    buffer = io.BytesIO()
    image.save(buffer, "GIF")
    data = buffer.getvalue()
    flags = data[10]
    colours = 2 << (flags & 7) if flags & 0x80 else 0
    position = 13 + 3 * colours
    while data[position] == 0x21:  # extensions
        position += 2
        while data[position]:
            position += 1 + data[position]
        position += 1
    assert data[position] == 0x2C
    local = data[position + 9]
    if local & 0x80:
        colours = 2 << (local & 7)
        position += 3 * colours
    position += 10
    minimum, position = data[position], position + 1
    parts = []
    while data[position]:
        parts.append(data[position + 1 : position + 1 + data[position]])
        position += 1 + data[position]
    return b"".join(parts), minimum, image.width * image.height, colours


def pictures() -> list[Image.Image]:
    noise = Image.frombytes("L", (300, 200), os.urandom(60_000)).convert("P")
    flat = Image.new("RGB", (640, 480), (10, 20, 30)).convert("P")
    gradient = Image.linear_gradient("L").resize((400, 300)).convert("P")
    two = Image.frombytes("1", (64, 64), os.urandom(512)).convert("P")
    return [noise, flat, gradient, two]


STREAMS = [gif_stream(picture) for picture in pictures()]


@pytest.mark.parametrize("index", range(len(STREAMS)))
def test_real_streams_fill_their_frame(index: int) -> None:
    stream, minimum, pixels, colours = STREAMS[index]
    assert walk(stream, minimum, pixels, colours)
    assert _by_runs(stream, minimum, pixels, colours) is True
    assert not lzw_fills(stream, minimum, pixels + 1, colours)
    assert not lzw_fills(stream, minimum, pixels - 1, colours)
    assert not lzw_fills(stream + b"\x00", minimum, pixels, colours)


@st.composite
def broken(draw: st.DrawFn) -> tuple[bytes, int, int, int]:
    stream, minimum, pixels, colours = draw(st.sampled_from(STREAMS))
    data = bytearray(stream)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "overwrite"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif data:
            data[at] = draw(st.integers(0, 255))
    return bytes(data), minimum, pixels, draw(st.sampled_from([colours, colours // 2, 256]))


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None)
@given(broken())
def test_runs_agree_with_the_walk_on_broken_streams(case: tuple[bytes, int, int, int]) -> None:
    stream, minimum, pixels, colours = case
    by_runs = _by_runs(stream, minimum, pixels, colours)
    assert by_runs is None or by_runs == walk(stream, minimum, pixels, colours)


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None)
@given(st.binary(max_size=200), st.integers(2, 8), st.integers(1, 400), st.integers(2, 256))
def test_runs_agree_with_the_walk_on_any_bytes(
    stream: bytes, minimum: int, pixels: int, colours: int
) -> None:
    by_runs = _by_runs(stream, minimum, pixels, colours)
    assert by_runs is None or by_runs == walk(stream, minimum, pixels, colours)


def test_many_clear_codes_fall_back_to_the_walk() -> None:
    # Code size 2: clear is 4 and codes take 3 bits; 3 bytes hold 8 clear codes.
    stream = sum(4 << (3 * i) for i in range(8)).to_bytes(3, "little") * 100
    assert _by_runs(stream, 2, 1, 4) is None
    assert lzw_fills(stream, 2, 1, 4) == walk(stream, 2, 1, 4)
