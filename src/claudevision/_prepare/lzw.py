"""GIF LZW data proven to fill its frame exactly: by Pillow's C decoder, a walk, and the
same walk in NumPy.

All check the same things: a code size from 2 to 8, no code the dictionary does not yet
hold, no pixel past the colour table, exactly ``pixels`` pixels, an end code, and nothing
after the byte that holds it.

:func:`blocks_fill` (the proof a pass-through runs) lets Pillow's decoder do the LZW work
on the sub-blocks as stored, and reads the rest from what it reports: the bytes it read
before the end code, whether it filled a frame one pixel larger than the image, and the
pixels it wrote. Where that decoder cannot be driven, it falls back to :func:`lzw_fills`.

:func:`walk` tracks only the lengths of the dictionary's strings, never the strings.
:func:`lzw_fills` reads the codes of each run between clear codes at once: after a clear
the width of every code is known in advance (the dictionary grows by one entry per code),
so their bit offsets are a cumulative sum; a code's length is one more than the length of
the code that made its entry, so lengths are depths in a tree, found by pointer jumping.
A stream of many short runs (as only hostile files have) is walked code by code instead.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from PIL import Image

__all__ = ["blocks_fill", "joined", "lzw_fills", "walk"]

_MAX_RUNS = 64
"""Runs between clear codes handled at once; past this many the walk is cheaper."""
_TABLE = 4096
_TAIL_CHUNK = 1 << 16


def blocks_fill(blocks: bytes, minimum: int, pixels: int, colours: int) -> bool:
    """:func:`lzw_fills` for LZW data as stored: sub-blocks, each after its size byte, up
    to and including the empty block that ends them.

    Pillow's decoder refuses a code the dictionary does not hold, stops at the end code
    saying how many bytes it read, and stops with -1 once its frame is full. Its frame is
    one row of ``pixels + 1``, filled beforehand with a sentinel: full means a pixel too
    many. The end code must come in the last byte of data (every byte read but the empty
    block), the frame's last pixel must have been written (not too few) and every pixel
    must be in the colour table.
    """
    if not 2 <= minimum <= 8:
        return False
    if not _drivable():  # pragma: no cover - a Pillow whose GIF decoder takes other arguments
        return lzw_fills(joined(blocks), minimum, pixels, colours)
    limit = min(colours, 1 << minimum)  # pixels from this up are past the colour table
    if limit < 256:  # a pixel of 255 is never valid: the sentinel speaks for itself
        frame = _decoded(blocks, minimum, pixels, 255)
        if frame is None:
            return False
        if colours < 1 << minimum:  # every pixel in the table, the extra one aside
            return sum(frame.histogram()[limit:]) == 1
        return pixels == 0 or frame.getpixel((pixels - 1, 0)) != 255
    for sentinel in (255, 0):  # any value is a pixel: a second sentinel settles a tie
        frame = _decoded(blocks, minimum, pixels, sentinel)
        if frame is None:
            return False
        if pixels == 0 or frame.getpixel((pixels - 1, 0)) != sentinel:
            return True
    return False


@cache
def _drivable() -> bool:
    """Whether Pillow's GIF decoder can be driven here as :func:`_decoded` drives it."""
    try:
        return _decoded(b"\x02\x44\x01\x00", 2, 1, 0) is not None
    except (AttributeError, TypeError, OSError, ValueError):  # pragma: no cover
        return False


def _decoded(blocks: bytes, minimum: int, pixels: int, sentinel: int) -> Image.Image | None:
    """The one-row frame Pillow's decoder wrote; None where it refused, filled the frame,
    or read past the byte holding the end code (or never found one)."""
    frame = Image.new("L", (pixels + 1, 1), sentinel)
    decoder = Image._getdecoder("L", "gif", (minimum, 0, -1))
    decoder.setimage(frame.im, (0, 0, pixels + 1, 1))
    try:
        consumed, _error = decoder.decode(blocks)
    finally:
        decoder.cleanup()
    return frame if 0 <= consumed == len(blocks) - 1 else None


def joined(blocks: bytes) -> bytes:
    """The data of a chain of sub-blocks, without their size bytes."""
    parts, position = [], 0
    while position < len(blocks) and blocks[position]:
        parts.append(blocks[position + 1 : position + 1 + blocks[position]])
        position += 1 + blocks[position]
    return b"".join(parts)


def lzw_fills(stream: bytes, minimum: int, pixels: int, colours: int) -> bool:
    """GIF LZW data that decodes to exactly ``pixels`` pixels of the ``colours`` in its
    colour table, with no invalid code and an end code as the last thing in it."""
    if not 2 <= minimum <= 8:
        return False
    try:
        verdict = _by_runs(stream, minimum, pixels, colours)
    except ImportError:  # pragma: no cover - NumPy comes with simplejpeg; without it, walk
        verdict = None
    return walk(stream, minimum, pixels, colours) if verdict is None else verdict


def _by_runs(stream: bytes, minimum: int, pixels: int, colours: int) -> bool | None:
    """:func:`walk`, a run of codes at a time; None after too many runs."""
    import numpy as np

    clear, first = 1 << minimum, (1 << minimum) + 2
    total_bits = 8 * len(stream)
    buffer = np.frombuffer(stream + b"\0\0\0", dtype=np.uint8)
    widths = _widths(minimum)
    produced, bit = 0, 0
    for _ in range(_MAX_RUNS):
        codes, ends = _codes(buffer, bit, total_bits, widths)
        stops = np.flatnonzero((codes == clear) | (codes == clear + 1))
        if stops.size == 0 and codes.size == widths.size:  # a run past a full table
            codes, ends = _with_tail(buffer, codes, ends, total_bits, clear)
            stops = np.flatnonzero((codes == clear) | (codes == clear + 1))
        if stops.size == 0:
            return False  # no end code: the data was cut short
        stop = int(stops[0])
        run = codes[:stop]
        if run.size:
            grown = _run_length(np, run, clear, first, colours)
            if grown < 0:
                return False
            produced += grown
            if produced > pixels:
                return False
        if codes[stop] == clear + 1:  # the end: nothing may follow its byte
            return produced == pixels and (int(ends[stop]) - 1) // 8 == len(stream) - 1
        bit = int(ends[stop])
    return None


@cache
def _widths(minimum: int) -> Any:
    """The width of each code of a run, from the dictionary's size before it."""
    import numpy as np

    steps = np.arange(_TABLE + 1)
    before = np.minimum((1 << minimum) + 2 + np.maximum(steps - 1, 0), _TABLE)
    return np.minimum(12, np.maximum(minimum + 1, np.ceil(np.log2(before + 1)))).astype(np.int64)


def _codes(buffer: Any, bit: int, total_bits: int, widths: Any) -> tuple[Any, Any]:
    """The codes of the given ``widths`` from ``bit`` on, as far as the data goes."""
    import numpy as np

    ends = bit + np.cumsum(widths)
    ends = ends[ends <= total_bits]
    starts = ends - widths[: ends.size]
    byte = starts >> 3
    word = (
        buffer[byte].astype(np.uint32)
        | (buffer[byte + 1].astype(np.uint32) << 8)
        | (buffer[byte + 2].astype(np.uint32) << 16)
    )
    masks = (1 << widths[: ends.size]) - 1
    return (word >> (starts & 7).astype(np.uint32)) & masks.astype(np.uint32), ends


def _with_tail(buffer: Any, codes: Any, ends: Any, total_bits: int, clear: int) -> tuple[Any, Any]:
    """A full-table run continued with 12-bit codes, a chunk at a time, to its stop."""
    import numpy as np

    parts, stops = [codes], [ends]
    twelve = np.full(_TAIL_CHUNK, 12, dtype=np.int64)
    while True:
        more, more_ends = _codes(buffer, int(stops[-1][-1]), total_bits, twelve)
        parts.append(more)
        stops.append(more_ends)
        if more.size < _TAIL_CHUNK or np.any((more == clear) | (more == clear + 1)):
            return np.concatenate(parts), np.concatenate(stops)


def _run_length(np: Any, run: Any, clear: int, first: int, colours: int) -> int:
    """Pixels a run of codes (no clear or end in it) produces; -1 for an invalid code."""
    steps = np.arange(run.size)
    literal = run < clear
    if not literal[0] or np.any(run[literal] >= colours):
        return -1  # a first code that is not a pixel, or a pixel past the colour table
    following = np.minimum(first + steps - 1, _TABLE)  # the next entry, before each code
    if np.any(run[~literal] > following[~literal]):
        return -1  # a code the dictionary does not hold yet
    parent = np.where(literal, steps, run.astype(np.int64) - first)
    depth = (~literal).astype(np.int64)
    for _ in range(13):  # chains are shorter than 2**13: entries end at 4096
        above = parent[parent]
        depth += depth[parent]
        if np.array_equal(above, parent):
            break
        parent = above
    return int(depth.sum()) + int(run.size)


def walk(stream: bytes, minimum: int, pixels: int, colours: int) -> bool:
    """GIF LZW data that decodes to exactly ``pixels`` pixels of the ``colours`` in its
    colour table, with no invalid code and an end code.

    Only the lengths of the dictionary's strings are tracked, never the strings.
    """
    if not 2 <= minimum <= 8:
        return False
    clear = 1 << minimum
    lengths = [1] * clear + [0] * (4097 - clear)
    first = clear + 2  # the first code the dictionary gives out after a clear
    size, grow_at, following = minimum + 1, 1 << (minimum + 1), first
    produced, previous, buffer, bits = 0, -1, 0, 0
    last = len(stream) - 1
    for index, byte in enumerate(stream):
        buffer |= byte << bits
        bits += 8
        while bits >= size:
            code = buffer & (grow_at - 1)
            buffer >>= size
            bits -= size
            if code >= clear:
                if code == clear:
                    size, grow_at, following, previous = minimum + 1, clear << 1, first, -1
                    continue
                if code == clear + 1:  # the end: nothing may follow its byte
                    return produced == pixels and index == last
                if previous < 0 or code > following:
                    return False
                grown = lengths[previous] + 1
                produced += grown if code == following else lengths[code]
            elif code >= colours:
                return False  # a pixel past the colour table
            elif previous < 0:
                produced += 1
                previous = code
                continue
            else:
                grown = lengths[previous] + 1
                produced += 1
            if following < 4096:
                lengths[following] = grown
                following += 1
                if following == grow_at and size < 12:
                    size, grow_at = size + 1, grow_at << 1
            if produced > pixels:
                return False
            previous = code
    return False  # no end code: the data was cut short
