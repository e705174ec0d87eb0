"""Proof that bytes may go out unchanged: a whole, single, undamaged image of its type.

A pass-through is allowed only for bytes proven whole here, so a damaged file is never
sent "unchanged". PNG is proven without Pillow (every chunk's CRC, and the IDAT stream
inflated to exactly the size its header implies, with valid row filters); JPEG, GIF and
WebP by a strict decode: JPEG by libjpeg-turbo through ``simplejpeg`` with its
recoverable errors made fatal (Pillow decodes damaged entropy-coded data silently), after
a walk of the markers that checks every table and refuses a second picture appended
(MPO) or anything after the end of image; GIF by a walk of its blocks and Pillow's LZW
decoder, which must fill the frame exactly (``lzw``); WebP by libwebp through Pillow and
its RIFF length.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from types import ModuleType

from PIL import Image

from .._core.limits import Bounds
from .._core.media import ACCEPTED_MEDIA_TYPES, MEDIA_TYPE_TO_PIL_FORMAT, probe, sniff_mime
from .decode import DECODE_ERRORS, holding, quiet
from .lzw import blocks_fill

__all__ = [
    "Verdict",
    "assess",
    "image_size",
    "is_intact",
    "is_whole",
    "png_layout",
    "proven_after_load",
]

_INFLATE_STEP = 1 << 20
# PNG colour type -> channels; and the bit depths each allows.
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
# Adam7: (x start, y start, x step, y step) of each pass.
_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether bytes would be accepted as they are; if not, ``problem`` says why."""

    media_type: str | None
    size: tuple[int, int] | None
    problem: str | None


def image_size(data: bytes) -> tuple[int, int] | None:
    """The size an accepted-format image declares, from its header (None if unreadable)."""
    head = probe(data)
    if head is not None:
        return head.width, head.height
    try:
        with quiet():
            return Image.open(io.BytesIO(data)).size
    except DECODE_ERRORS:
        return None


def assess(data: bytes, *, max_side: int, bounds: Bounds) -> Verdict:
    """Would the API take ``data`` as it is, at most ``max_side`` px per side?

    The type comes from the bytes; the image must be whole (:func:`is_whole`).
    """
    media_type = sniff_mime(data)
    if media_type not in ACCEPTED_MEDIA_TYPES:
        return Verdict(None, None, f"{media_type or 'these bytes'} is not a type the API takes")
    size = image_size(data)
    if size is None or size[0] * size[1] > bounds.max_pixels or min(size) < 1:
        return Verdict(media_type, size, "the image header is damaged or declares a bad size")
    if max(size) > max_side:
        return Verdict(media_type, size, f"{size[0]}x{size[1]} is over {max_side} px per side")
    with holding(size, bounds):
        whole = is_whole(data, media_type, size)
    if not whole:
        return Verdict(media_type, size, "the image data is damaged or incomplete")
    return Verdict(media_type, size, None)


def is_whole(data: bytes, media_type: str, size: tuple[int, int]) -> bool:
    """True when ``data`` is one complete, undamaged ``media_type`` image of ``size``."""
    try:
        return is_intact(data, media_type) and _decodes(data, media_type, size)
    except (*DECODE_ERRORS, zlib.error):
        return False


def proven_after_load(data: bytes, media_type: str, size: tuple[int, int]) -> bool:
    """:func:`is_whole` for bytes Pillow has just decoded strictly: that decode stands for
    the second one, except for JPEG, whose damage Pillow does not report."""
    if media_type == "image/jpeg":
        return is_whole(data, media_type, size)
    return is_intact(data, media_type)


def is_intact(data: bytes, media_type: str) -> bool:
    """The checks beyond a decode: PNG proven whole; JPEG and GIF one image with sound
    tables and blocks, ending at its end; WebP exactly as long as its RIFF header says."""
    try:
        if media_type == "image/png":
            return _png_is_whole(data)
        if media_type == "image/jpeg":
            return _jpeg_is_single(data)
        if media_type == "image/gif":
            return _gif_is_single(data)
        return _webp_is_single(data)
    except (IndexError, struct.error):
        return False


# -- WebP -----------------------------------------------------------------------------------

# VP8X flag bits and the chunk each one promises.
_VP8X_FLAGS = ((0x20, b"ICCP"), (0x08, b"EXIF"), (0x04, b"XMP "), (0x02, b"ANIM"))


def _webp_is_single(data: bytes) -> bool:
    """The RIFF length exact, chunks laid end to end, one still image, VP8X flags true."""
    if len(data) < 20 or int.from_bytes(data[4:8], "little") + 8 != len(data):
        return False
    kinds, position = [], 12
    while position + 8 <= len(data):
        kind, size = (
            data[position : position + 4],
            int.from_bytes(data[position + 4 : position + 8], "little"),
        )
        kinds.append(kind)
        position += 8 + size + (size & 1)
    if position != len(data) or sum(kind in (b"VP8 ", b"VP8L") for kind in kinds) != 1:
        return False
    if kinds[0] != b"VP8X":
        return len(kinds) == 1
    flags = data[20]
    return all(bool(flags & bit) == (kind in kinds) for bit, kind in _VP8X_FLAGS)


# -- GIF -------------------------------------------------------------------------------------


def _after_blocks(data: bytes, position: int) -> int:
    """The position after a chain of GIF sub-blocks starting at ``position``."""
    while True:
        size = data[position]
        if position + 1 + size > len(data):
            raise IndexError("sub-block runs past the end")
        position += 1 + size
        if size == 0:
            return position


def _gif_is_single(data: bytes) -> bool:
    """One still image inside the logical screen, only known blocks, ending at the trailer."""
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 14:
        return False
    screen_w, screen_h, flags = struct.unpack_from("<HHB", data, 6)
    colours = 2 << (flags & 7) if flags & 0x80 else 0
    position = 13 + 3 * colours
    images = 0
    while position < len(data):
        kind = data[position]
        if kind == 0x3B:
            return images == 1 and not data[position + 1 :].strip(b"\x00")
        if kind == 0x21:
            position = _after_blocks(data, position + 2)
        elif kind == 0x2C:
            left, top, width, height, local = struct.unpack_from("<HHHHB", data, position + 1)
            if images or left + width > screen_w or top + height > screen_h:
                return False
            images += 1
            table = 2 << (local & 7) if local & 0x80 else colours
            position += 10 + (3 * table if local & 0x80 else 0)
            after = _after_blocks(data, position + 1)
            if not blocks_fill(data[position + 1 : after], data[position], width * height, table):
                return False
            position = after
        else:
            return False
    return False


@cache
def _simplejpeg() -> ModuleType | None:
    """libjpeg-turbo with warnings as errors: the only decoder here that sees bad entropy
    data. Imported on the first JPEG proof (it imports NumPy, 60 ms)."""
    try:
        import simplejpeg
    except ImportError:  # pragma: no cover - a platform without its wheels
        return None
    module: ModuleType = simplejpeg
    return module


def _decodes(data: bytes, media_type: str, size: tuple[int, int]) -> bool:
    if media_type == "image/png":  # proven above, and Pillow would not check more
        return True
    if media_type == "image/jpeg" and _simplejpeg() is not None:
        return _jpeg_decodes_strictly(data, size)
    with quiet():
        image = Image.open(io.BytesIO(data))
        if image.format != MEDIA_TYPE_TO_PIL_FORMAT[media_type] or image.size != size:
            return False
        if media_type == "image/gif":  # its LZW data went through Pillow's decoder above,
            return True  # checked more strictly than a load() checks it
        if media_type == "image/jpeg":
            image.draft(image.mode, (max(size[0] // 8, 1), max(size[1] // 8, 1)))
        image.load()
    return True


def _jpeg_decodes_strictly(data: bytes, size: tuple[int, int]) -> bool:
    """libjpeg-turbo's decode with its recoverable errors made fatal.

    Pillow decodes a JPEG whose entropy-coded data is damaged without a word (libjpeg
    fills in and warns); in strict mode the same warning is an error. The decode is at
    1/8 scale in grey: libjpeg still entropy-decodes every block of every component
    (where the damage shows) but skips most of the inverse DCT and all colour work.
    """
    simplejpeg = _simplejpeg()
    assert simplejpeg is not None
    try:
        header = simplejpeg.decode_jpeg_header(data)
        if (header[1], header[0]) != size:
            return False
        simplejpeg.decode_jpeg(
            data, colorspace="GRAY", fastdct=True, fastupsample=True, min_factor=8, strict=True
        )
    except ValueError:
        return False
    return True


# -- PNG -------------------------------------------------------------------------------------


def _chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, start, end) of each chunk's data, CRCs checked; stops at IEND."""
    view = memoryview(data)
    position = 8
    while position + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        end = position + 8 + length
        if end + 4 > len(data):
            raise ValueError("chunk runs past the end")
        (crc,) = struct.unpack_from(">I", data, end)
        if zlib.crc32(view[position + 4 : end]) != crc:
            raise ValueError("bad CRC")
        yield kind, position + 8, end
        if kind == b"IEND":
            if end + 4 != len(data):
                raise ValueError("data after IEND")
            return
        position = end + 4
    raise ValueError("no IEND")


def _png_is_whole(data: bytes) -> bool:
    """Every chunk intact and the image data inflating to exactly what the header says."""
    layout = png_layout(data)
    if layout is None:
        return False
    width, height, depth, colour, interlace, idat = layout
    rows = _rows(width, height, _CHANNELS[colour] * depth, interlace == 1)
    return _inflates_to(data, idat, rows)


PngLayout = tuple[int, int, int, int, int, list[tuple[int, int]]]
"""Width, height, bit depth, colour type, interlace, and where each IDAT's data lies."""


def png_layout(data: bytes) -> PngLayout | None:
    """The header of a PNG whose chunks are all intact and in a valid order (None if not):
    everything :func:`is_intact` proves but the image data."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    try:
        chunks = list(_chunks(data))
    except (ValueError, struct.error):
        return None
    kinds = [kind for kind, _, _ in chunks]
    if not _png_order_ok(kinds):
        return None
    if not chunks or chunks[0][0] != b"IHDR" or chunks[0][2] - chunks[0][1] != 13:
        return None
    width, height, depth, colour, _c, _f, interlace = struct.unpack_from(
        ">IIBBBBB", data, chunks[0][1]
    )
    if depth not in _DEPTHS.get(colour, ()) or interlace > 1 or width < 1 or height < 1:
        return None
    if colour == 3 and b"PLTE" not in kinds:
        return None
    at = [i for i, kind in enumerate(kinds) if kind == b"IDAT"]
    if not at or at != list(range(at[0], at[-1] + 1)):
        return None  # IDAT chunks must be consecutive
    idat = [(start, end) for kind, start, end in chunks if kind == b"IDAT"]
    return width, height, depth, colour, interlace, idat


_CRITICAL = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND"})


def _png_order_ok(kinds: list[bytes]) -> bool:
    """One IHDR first, at most one PLTE before the image data, no unknown critical chunk."""
    if kinds.count(b"IHDR") != 1 or kinds.count(b"PLTE") > 1:
        return False
    if b"PLTE" in kinds and b"IDAT" in kinds and kinds.index(b"PLTE") > kinds.index(b"IDAT"):
        return False
    return all(kind in _CRITICAL or kind[0:1].islower() for kind in kinds)


def _rows(width: int, height: int, bits: int, interlaced: bool) -> list[tuple[int, int]]:
    """(row count, bytes per row including the filter byte) of each pass."""
    passes = _ADAM7 if interlaced else ((0, 0, 1, 1),)
    out = []
    for x0, y0, dx, dy in passes:
        columns = (width - x0 + dx - 1) // dx if width > x0 else 0
        count = (height - y0 + dy - 1) // dy if height > y0 else 0
        if columns and count:
            out.append((count, 1 + (columns * bits + 7) // 8))
    return out


def _filter_offsets(rows: list[tuple[int, int]]) -> Iterator[int]:
    offset = 0
    for count, length in rows:
        for _ in range(count):
            yield offset
            offset += length
    yield -1


def _inflates_to(data: bytes, idat: list[tuple[int, int]], rows: list[tuple[int, int]]) -> bool:
    expected = sum(count * length for count, length in rows)
    inflater = zlib.decompressobj()
    filters = _filter_offsets(rows)
    next_filter, produced = next(filters), 0
    view = memoryview(data)
    for start, end in idat:
        pending: bytes | memoryview = view[start:end]
        while pending:
            out = inflater.decompress(pending, _INFLATE_STEP)
            pending = inflater.unconsumed_tail
            if produced + len(out) > expected or (inflater.eof and pending):
                return False
            while 0 <= next_filter < produced + len(out):
                if out[next_filter - produced] > 4:
                    return False
                next_filter = next(filters)
            produced += len(out)
            if inflater.eof:
                break
    return inflater.eof and not inflater.unused_data and produced == expected


# -- JPEG ------------------------------------------------------------------------------------


@dataclass
class _JpegTables:
    """What the segments so far have defined: Huffman tables, quantizers, the frame."""

    huffman: set[tuple[int, int]]
    quantizers: set[int]
    components: dict[int, int] | None = None  # component id -> quantizer id
    progressive: bool = False


def _jpeg_is_single(data: bytes) -> bool:
    """One image: markers well formed, and the end-of-image marker is the last two bytes."""
    position, n = 2, len(data)
    tables = _JpegTables(set(), set())
    while position + 2 <= n:
        if data[position] != 0xFF:
            return False
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1
        elif marker == 0xD9:
            return position + 2 == n and tables.components is not None
        elif marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            return False  # a stray SOI or restart marker outside entropy-coded data
        elif position + 4 > n:
            return False
        else:
            (length,) = struct.unpack_from(">H", data, position + 2)
            segment = data[position + 4 : position + 2 + length]
            if length < 2 or len(segment) != length - 2:
                return False
            if not _segment_ok(marker, segment, tables):
                return False
            position += 2 + length
            if marker == 0xDA:
                position = _end_of_scan(data, position)
    return False


def _segment_ok(marker: int, segment: bytes, tables: _JpegTables) -> bool:
    """Tables and headers a strict decoder would refuse: zero quantizers, impossible
    Huffman codes, a frame or scan that does not add up or uses tables never defined,
    a second picture (MPO)."""
    if marker == 0xDB:
        return _quantizers_ok(segment, tables.quantizers)
    if marker == 0xC4:
        return _huffman_ok(segment, tables.huffman)
    if marker in (0xC0, 0xC1, 0xC2):
        return tables.components is None and _frame_ok(marker, segment, tables)
    if 0xC3 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
        return False  # lossless, hierarchical or arithmetic-coded frames
    if marker == 0xDA:
        return _scan_ok(segment, tables)
    return not (marker == 0xE2 and segment.startswith(b"MPF\x00"))


def _frame_ok(marker: int, segment: bytes, tables: _JpegTables) -> bool:
    precision, _h, _w, count = struct.unpack_from(">BHHB", segment)
    parts = segment[6:]
    if precision != 8 or count not in (1, 3) or len(parts) != 3 * count:
        return False
    if not all(1 <= b >> 4 <= 4 and 1 <= b & 15 <= 4 for b in parts[1::3]):
        return False
    tables.components = dict(zip(parts[0::3], parts[2::3], strict=True))
    tables.progressive = marker == 0xC2
    return bool(len(tables.components) == count)


def _scan_ok(segment: bytes, tables: _JpegTables) -> bool:
    count = segment[0]
    if tables.components is None or not 1 <= count <= 4 or len(segment) != 4 + 2 * count:
        return False
    start, stop, approximation = segment[1 + 2 * count : 4 + 2 * count]
    needs_dc = start == 0 and approximation >> 4 == 0 if tables.progressive else True
    needs_ac = stop > 0
    for index in range(count):
        component, ids = segment[1 + 2 * index], segment[2 + 2 * index]
        quantizer = tables.components.get(component)
        if quantizer is None or quantizer not in tables.quantizers:
            return False
        if needs_dc and (0, ids >> 4) not in tables.huffman:
            return False
        if needs_ac and (1, ids & 15) not in tables.huffman:
            return False
    return True


def _quantizers_ok(segment: bytes, defined: set[int]) -> bool:
    position = 0
    while position < len(segment):
        wide, index = segment[position] >> 4, segment[position] & 15
        size = 128 if wide else 64
        table = segment[position + 1 : position + 1 + size]
        if len(table) != size or wide > 1 or index > 3:
            return False
        values = struct.unpack(">64H", table) if wide else table
        if 0 in values:
            return False
        defined.add(index)
        position += 1 + size
    return True


def _huffman_ok(segment: bytes, defined: set[tuple[int, int]]) -> bool:
    position = 0
    while position < len(segment):
        kind, index = segment[position] >> 4, segment[position] & 15
        counts = segment[position + 1 : position + 17]
        if len(counts) != 16 or kind > 1 or index > 3:
            return False
        space = 1
        for count in counts:
            space = space * 2 - count
            if space < 0 or (count and space < 1):
                return False
        symbols = segment[position + 17 : position + 17 + sum(counts)]
        if len(symbols) != sum(counts) or (kind == 0 and any(s > 11 for s in symbols)):
            return False
        defined.add((kind, index))
        position += 17 + sum(counts)
    return position == len(segment)


# A marker after entropy-coded data: 0xFF followed by neither a stuffed zero, a restart
# marker nor a fill byte (a run of fill bytes ends at its last 0xFF).
_MARKER = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")


def _end_of_scan(data: bytes, position: int) -> int:
    """Where the entropy-coded data starting at ``position`` ends (the next marker)."""
    found = _MARKER.search(data, position)
    return len(data) if found is None else found.start()
