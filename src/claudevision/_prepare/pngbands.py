"""A large PNG decoded by Pillow a band of rows at a time and shrunk on the way.

Pillow decodes a PNG whole: a 2880x1800 screenshot is 20 MB of pixels, an 8000x8000
RGBA bomb 256 MB, before any shrinking. Here the image data is inflated a band of rows
at a time, and each band is handed to Pillow's own PNG row decoder (which undoes the
row filters) as a stored, uncompressed zlib stream, after rows of the band before it
(unfiltered): the one the filters of its first row refer to, and as many as the resize
reaches back. Each band is shrunk as soon as it is decoded, so only the shrunk image and
a band or two are ever held.

Where Pillow's own ``resize(reducing_gap=2)`` starts with a box reduction, the bands are
box-reduced and the reduced image resized as Pillow would resize it: pixel for pixel the
whole decode's result (RGBA and LA larger than ``pixels.BAND_THRESHOLD`` as
:func:`~.pixels.normalize_and_shrink` bands them, also pixel for pixel). Where there is
nothing to reduce (a screenshot, about 2x its target), the bicubic resize itself is made
band by band, each output row from a band holding every row its filter reaches: within a
level of the whole resize in a few pixels (premultiplied, for alpha), as the filter's
weights are computed from other offsets.

The proof comes on the way: every chunk's CRC and order first (:func:`~.verify.png_layout`),
then a valid filter on every row and image data inflating to exactly the rows the header
implies. Anything else (damage, interlacing, other bit depths, palettes, chunks after the
image data but the end) returns None, and the image is decoded whole by Pillow, whose
verdict is the one the caller sees.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from functools import partial
from typing import Final

from PIL import Image

from . import pixels
from .pixels import RESAMPLE, band_rows, shrink_bands, stack
from .verify import png_layout

__all__ = ["THRESHOLD", "handles", "shrink"]

THRESHOLD = 4_000_000
"""Pixels from which a PNG is decoded by bands: below, a whole decode costs little."""

_MODES: Final = {0: "L", 2: "RGB", 4: "LA", 6: "RGBA"}
_MARKS: Final = (b"eXIf", b"Raw profile type", b"XML:com.adobe.xmp", b"acTL")
_STORED: Final = 65535
_ZLIB_HEADER: Final = b"\x78\x01"


class _Refused(Exception):
    """The data is not what the band decoder proves and decodes: decode it whole."""


def handles(data: bytes, image: Image.Image) -> bool:
    """A large, 8-bit, non-interlaced, still PNG of a normal mode, with nothing that makes
    Pillow decode it whole to learn its orientation."""
    return (
        image.format == "PNG"
        and image.mode in ("L", "LA", "RGB", "RGBA")
        and image.width * image.height >= THRESHOLD
        and data[24:25] == b"\x08"
        and data[28:29] == b"\x00"
        and not any(mark in data for mark in _MARKS)
    )


def shrink(data: bytes, size: tuple[int, int]) -> Image.Image | None:
    """``data`` decoded by bands and resized to exactly ``size``, or None where it is not
    proven whole or cannot be decoded by bands (then Pillow decodes it whole)."""
    layout = png_layout(data)
    if layout is None:
        return None
    width, height, depth, colour, interlace, idat = layout
    after = idat[-1][1] + 4
    if depth != 8 or interlace or colour not in _MODES or data[after + 4 : after + 8] != b"IEND":
        return None
    mode, full = _MODES[colour], (width, height)
    factor = min(width // size[0], height // size[1]) // 2
    above = 1  # the row the first row's filter refers to
    plan: Callable[[Iterable[tuple[int, Image.Image]]], Image.Image]
    if mode in ("LA", "RGBA") and width * height >= pixels.BAND_THRESHOLD and factor >= 2:
        plan = partial(_as_normalize_and_shrink, factor=factor, size=size)
        rows = band_rows(width, factor)
    else:  # as Pillow's resize(reducing_gap=2): a box reduction, then the resize
        step = (int(width / size[0] / 2) or 1, int(height / size[1] / 2) or 1)
        plan = partial(_reduce_then_resize, step=step, full=full, size=size)
        rows = band_rows(width, step[1])
        if step == (1, 1):  # nothing to reduce: the resize itself by bands
            above = math.ceil(6 * height / size[1]) + 4  # the filter's reach, and more
            plan = partial(_resize, full=full, size=size)
            rows = max(rows // 4, 8 * above)
    bands = _bands(data, idat, mode, full, rows, above)
    try:
        return plan(bands)
    except (_Refused, zlib.error, OSError, ValueError):
        return None
    finally:
        bands.close()


_WEIGHTED = {"LA": "La", "RGBA": "RGBa"}  # Pillow resizes alpha premultiplied


def _as_normalize_and_shrink(
    bands: Iterable[tuple[int, Image.Image]], factor: int, size: tuple[int, int]
) -> Image.Image:
    """:func:`~.pixels.normalize_and_shrink`'s bands, for a large RGBA or LA image."""
    return shrink_bands((band for _, band in bands), factor, size, RESAMPLE, skip=1)[0]


def _reduce_then_resize(
    bands: Iterable[tuple[int, Image.Image]],
    step: tuple[int, int],
    full: tuple[int, int],
    size: tuple[int, int],
) -> Image.Image:
    """What ``resize(size, RESAMPLE, reducing_gap=2)`` of the whole image gives: the box
    reduction (block by block, so band by band), then the resize of the same box."""
    reduced, mode = [], ""
    for skip, band in bands:
        mode = band.mode
        weighted = band.convert(_WEIGHTED[mode]) if mode in _WEIGHTED else band
        reduced.append(weighted.reduce(step, box=(0, skip, *band.size)))
    box = (0.0, 0.0, full[0] / step[0], full[1] / step[1])
    whole = stack(reduced).resize(size, RESAMPLE, box=box)
    return whole.convert(mode) if mode in _WEIGHTED else whole


def _resize(
    bands: Iterable[tuple[int, Image.Image]], full: tuple[int, int], size: tuple[int, int]
) -> Image.Image:
    """The resize of the whole image, its rows made band by band: each output row from
    a band holding every row its filter reaches (within a level of the whole image's
    resize in a few pixels: the filter's weights come from other offsets)."""
    width, height = full
    scale, done, seen, whole = height / size[1], 0, 0, None
    for skip, band in bands:
        top, seen, mode = seen - skip, seen + band.height - skip, band.mode
        if top < 0:  # the first band: not the row of zeros above it
            band, top = band.crop((0, skip, *band.size)), 0
        weighted = band.convert(_WEIGHTED[mode]) if mode in _WEIGHTED else band
        whole = whole or Image.new(weighted.mode, size)
        end = size[1] if seen == height else int((seen - 2 * scale - 1) / scale) - 1
        if end > done:
            box = (0.0, done * scale - top, float(width), end * scale - top)
            whole.paste(weighted.resize((size[0], end - done), RESAMPLE, box=box), (0, done))
            done = end
    assert whole is not None and done == size[1]
    return whole.convert(mode) if mode in _WEIGHTED else whole


def _bands(
    data: bytes,
    idat: list[tuple[int, int]],
    mode: str,
    full: tuple[int, int],
    rows: int,
    above: int,
) -> Generator[tuple[int, Image.Image]]:
    """The image, ``rows`` rows at a time, decoded by Pillow's PNG row decoder, each band
    after rows of the one before (up to ``above``, their filters undone already; a row
    of zeros above the first), with the number of those rows."""
    width, height = full
    stride = 1 + width * len(mode)  # L, LA, RGB, RGBA: one byte a channel
    raw = _raw_rows(data, idat, stride, rows, height)
    before = [bytes(stride)]  # the row above the first is zeros, filter None
    for top in range(0, height, rows):
        count = min(rows, height - top)
        band = _decoded(mode, (width, len(before) + count), (*before, next(raw)))
        yield len(before), band
        kept = min(above, top + count)
        rest = band.crop((0, band.height - kept, width, band.height)).tobytes()
        line = stride - 1
        before = [b"\x00" + rest[i : i + line] for i in range(0, len(rest), line)]
    next(raw, None)  # the end of the image data is checked after the last band


def _decoded(mode: str, size: tuple[int, int], pieces: tuple[bytes, ...]) -> Image.Image:
    """Filtered rows (``pieces`` one after the other) decoded by Pillow's PNG row decoder,
    fed as a zlib stream of stored blocks, without a copy (no checksum: the decoder stops
    at its last row, before one would be read)."""
    band = Image.new(mode, size)
    decoder = Image._getdecoder(mode, "zip", mode)
    decoder.setimage(band.im, (0, 0, *size))
    blocks = [
        part
        for piece in pieces
        for start in range(0, len(piece), _STORED)
        for part in _block(memoryview(piece)[start : start + _STORED])
    ]
    status, error = 0, 0
    try:
        for part in [_ZLIB_HEADER, *blocks]:
            if status < 0:
                raise _Refused("the row decoder stopped early")
            status, error = decoder.decode(part)
    finally:
        decoder.cleanup()
    if status != -1 or error != 0:
        raise _Refused("the row decoder stopped early")
    return band


def _block(data: memoryview) -> tuple[bytes, memoryview]:
    """The header of a stored deflate block, and its data."""
    return struct.pack("<BHH", 0, len(data), ~len(data) & 0xFFFF), data


def _raw_rows(
    data: bytes, idat: list[tuple[int, int]], stride: int, rows: int, height: int
) -> Iterator[bytes]:
    """The inflated image data, ``rows`` rows at a time, each row's filter checked; then,
    asked once more, proof that the data ends with the last row (else ``_Refused``)."""
    view = memoryview(data)
    chunks = (view[start:end] for start, end in idat)
    inflater = zlib.decompressobj()
    pending: bytes | memoryview = b""
    for top in range(0, height, rows):
        want = stride * min(rows, height - top)
        parts, have = [], 0
        while have < want:
            if not pending:
                pending = next(chunks, b"")
            if not pending or inflater.eof:
                raise _Refused("the image data ends early")
            out = inflater.decompress(pending, want - have)
            pending = inflater.unconsumed_tail
            parts.append(out)
            have += len(out)
        band = b"".join(parts)
        if max(band[::stride]) > 4:
            raise _Refused("a row filter that does not exist")
        yield band
    _check_end(inflater, pending, chunks)
    yield b""


def _check_end(
    inflater: zlib._Decompress, pending: bytes | memoryview, chunks: Iterator[memoryview]
) -> None:
    """Nothing but the end of the zlib stream after the last row, and nothing after it."""
    while not inflater.eof:
        if not pending:
            pending = next(chunks, b"")
        if inflater.decompress(pending, 1):
            raise _Refused("more image data than rows")
        if not pending and not inflater.eof:
            raise _Refused("the zlib stream does not end")
        pending = inflater.unconsumed_tail
    if inflater.unused_data or pending or next(chunks, None) is not None:
        raise _Refused("data after the zlib stream")
