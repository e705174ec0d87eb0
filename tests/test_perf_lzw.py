"""The GIF proofs (Pillow's decoder, runs in NumPy) agree with the code-by-code walk, on real
and broken data."""

from __future__ import annotations

import io
import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from claudevision._prepare.lzw import _by_runs, blocks_fill, lzw_fills, walk

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


# -- the proof by Pillow's decoder ------------------------------------------------------------


def lzw_encode(indices: bytes, minimum: int, clear_every: int = 0) -> bytes:
    """A GIF LZW stream of ``indices``: clear first, end last, optionally a clear code after
    every ``clear_every`` codes (as some encoders do), codes packed LSB first."""
    clear, out, bits, filled = 1 << minimum, 0, 0, 0

    def put(code: int, width: int) -> None:
        nonlocal out, filled
        out |= code << filled
        filled += width

    table: dict[bytes, int] = {}
    width, following, written = minimum + 1, clear + 2, 0
    put(clear, width)
    current = b""
    for value in indices:
        candidate = current + bytes([value])
        if not current or candidate in table:
            current = candidate
            continue
        put(table[current] if len(current) > 1 else current[0], width)
        written += 1
        if clear_every and written % clear_every == 0:
            put(clear, width)
            table, width, following, current = {}, minimum + 1, clear + 2, bytes([value])
            continue
        if following < 4096:
            table[candidate] = following
            following += 1
            if following > (1 << width) and width < 12:
                width += 1
        current = bytes([value])
    put(table[current] if len(current) > 1 else current[0], width)
    if following == (1 << width) and width < 12:
        width += 1  # the decoder grows the width after the entry this code makes
    put(clear + 1, width)
    bits = filled
    return out.to_bytes((bits + 7) // 8, "little")


def as_blocks(stream: bytes) -> bytes:
    """``stream`` in GIF sub-blocks of at most 255 bytes, with the empty block that ends them."""
    parts = [
        bytes([len(stream[i : i + 255])]) + stream[i : i + 255] for i in range(0, len(stream), 255)
    ]
    return b"".join(parts) + b"\x00"


def encoded(
    minimum: int, colours: int, pixels: int, clear_every: int, seed: int
) -> tuple[bytes, int, int, int]:
    rng = random.Random(seed)
    runs = bytearray()
    while len(runs) < pixels:
        runs += bytes([rng.randrange(colours)]) * rng.choice([1, 1, 2, 5, 40])
    return lzw_encode(bytes(runs[:pixels]), minimum, clear_every), minimum, pixels, colours


ENCODED = [
    encoded(minimum, colours, pixels, clear_every, seed)
    for seed, (minimum, colours, pixels, clear_every) in enumerate(
        [
            (2, 4, 5000, 0),
            (2, 2, 300, 7),
            (3, 8, 20000, 0),
            (4, 5, 3000, 0),
            (5, 32, 999, 50),
            (7, 100, 40000, 0),
            (8, 256, 70000, 0),
            (8, 17, 5000, 300),
            (6, 64, 1, 0),
        ]
    )
]


@pytest.mark.parametrize("index", range(len(ENCODED)))
def test_encoded_streams_are_proven_by_the_decoder_as_by_the_walk(index: int) -> None:
    stream, minimum, pixels, colours = ENCODED[index]
    assert walk(stream, minimum, pixels, colours)
    blocks = as_blocks(stream)
    assert blocks_fill(blocks, minimum, pixels, colours)
    assert not blocks_fill(blocks, minimum, pixels + 1, colours)
    assert not blocks_fill(blocks, minimum, pixels - 1, colours)
    assert not blocks_fill(as_blocks(stream + b"\x00"), minimum, pixels, colours)
    assert not blocks_fill(as_blocks(stream[:-1]), minimum, pixels, colours)
    half = max(colours // 2, 1)
    assert blocks_fill(blocks, minimum, pixels, half) == walk(stream, minimum, pixels, half)


@pytest.mark.parametrize("index", range(len(STREAMS)))
def test_real_streams_are_proven_by_the_decoder(index: int) -> None:
    stream, minimum, pixels, colours = STREAMS[index]
    assert blocks_fill(as_blocks(stream), minimum, pixels, colours)


@st.composite
def broken_encoded(draw: st.DrawFn) -> tuple[bytes, int, int, int]:
    stream, minimum, pixels, colours = draw(st.sampled_from(ENCODED + STREAMS))
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
    pixels = draw(st.sampled_from([pixels, pixels, pixels - 1, pixels + 1, 0, 1]))
    colours = draw(st.sampled_from([colours, colours, colours // 2, colours + 1, 256, 0, 1]))
    return bytes(data), minimum, max(pixels, 0), colours


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None)
@given(broken_encoded())
def test_the_decoder_agrees_with_the_walk_on_broken_streams(
    case: tuple[bytes, int, int, int],
) -> None:
    stream, minimum, pixels, colours = case
    assert blocks_fill(as_blocks(stream), minimum, pixels, colours) == walk(
        stream, minimum, pixels, colours
    )


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None)
@given(st.binary(max_size=200), st.integers(1, 9), st.integers(0, 400), st.integers(0, 256))
def test_the_decoder_agrees_with_the_walk_on_any_bytes(
    stream: bytes, minimum: int, pixels: int, colours: int
) -> None:
    assert blocks_fill(as_blocks(stream), minimum, pixels, colours) == walk(
        stream, minimum, pixels, colours
    )


def test_a_last_pixel_equal_to_the_sentinel_is_settled_by_a_second_decode() -> None:
    for last in (0, 255):
        indices = bytes([7] * 99 + [last])
        stream = lzw_encode(indices, 8)
        assert blocks_fill(as_blocks(stream), 8, 100, 256)
        assert not blocks_fill(as_blocks(stream), 8, 101, 256)


def test_a_still_gif_passes_through_with_one_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import ImageFile

    import claudevision

    buffer = io.BytesIO()
    pictures()[2].save(buffer, "GIF")
    loads = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(self))
    prepared = claudevision.prepare_image(buffer.getvalue(), model="claude-sonnet-4-6")
    assert prepared.unchanged and prepared.data == buffer.getvalue()
    assert loads == []  # the proof is the only decode
