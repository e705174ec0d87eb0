"""Proof that bytes may go out unchanged: a whole, single, undamaged image of its type.

A pass-through is allowed only for bytes proven whole here, so a damaged file is never
sent "unchanged". PNG is proven without Pillow (every chunk's CRC, and the IDAT stream
inflated to exactly the size its header implies, with valid row filters); JPEG, GIF and
WebP by a strict decode with Pillow (JPEG at one eighth scale: every entropy-coded bit
is still read, the inverse DCT mostly skipped) after a walk of the JPEG markers that
refuses a second picture appended (MPO) or anything after the end of image.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator

from PIL import Image

from ._decode import DECODE_ERRORS, quiet
from ._media import MEDIA_TYPE_TO_PIL_FORMAT

__all__ = ["is_intact", "is_whole"]

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


def is_whole(data: bytes, media_type: str, size: tuple[int, int]) -> bool:
    """True when ``data`` is one complete, undamaged ``media_type`` image of ``size``."""
    try:
        return is_intact(data, media_type) and _decodes(data, media_type, size)
    except (*DECODE_ERRORS, zlib.error):
        return False


def is_intact(data: bytes, media_type: str) -> bool:
    """The checks beyond a decode: PNG proven whole, JPEG one image ending at its end."""
    if media_type == "image/png":
        return _png_is_whole(data)
    if media_type == "image/jpeg":
        return _jpeg_is_single(data)
    if media_type == "image/gif":
        return data.rstrip(b"\x00").endswith(b"\x3b")
    return len(data) >= 12 and int.from_bytes(data[4:8], "little") + 8 in (len(data), len(data) - 1)


def _decodes(data: bytes, media_type: str, size: tuple[int, int]) -> bool:
    if media_type == "image/png":  # proven above, and Pillow would not check more
        return True
    with quiet():
        image = Image.open(io.BytesIO(data))
        if image.format != MEDIA_TYPE_TO_PIL_FORMAT[media_type] or image.size != size:
            return False
        if media_type == "image/jpeg":
            image.draft(image.mode, (max(size[0] // 8, 1), max(size[1] // 8, 1)))
        image.load()
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
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return False
    try:
        chunks = list(_chunks(data))
    except (ValueError, struct.error):
        return False
    if not chunks or chunks[0][0] != b"IHDR" or chunks[0][2] - chunks[0][1] != 13:
        return False
    width, height, depth, colour, _c, _f, interlace = struct.unpack_from(
        ">IIBBBBB", data, chunks[0][1]
    )
    if depth not in _DEPTHS.get(colour, ()) or interlace > 1 or width < 1 or height < 1:
        return False
    kinds = [kind for kind, _, _ in chunks]
    if colour == 3 and b"PLTE" not in kinds:
        return False
    at = [i for i, kind in enumerate(kinds) if kind == b"IDAT"]
    if not at or at != list(range(at[0], at[-1] + 1)):
        return False  # IDAT chunks must be consecutive
    idat = [(start, end) for kind, start, end in chunks if kind == b"IDAT"]
    rows = _rows(width, height, _CHANNELS[colour] * depth, interlace == 1)
    return _inflates_to(data, idat, rows)


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


def _jpeg_is_single(data: bytes) -> bool:
    """One image: markers well formed, and the end-of-image marker is the last two bytes."""
    position, n = 2, len(data)
    while position + 2 <= n:
        if data[position] != 0xFF:
            return False
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1
        elif marker == 0xD9:
            return position + 2 == n
        elif marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            return False  # a stray SOI or restart marker outside entropy-coded data
        elif position + 4 > n:
            return False
        else:
            (length,) = struct.unpack_from(">H", data, position + 2)
            if length < 2 or (marker == 0xE2 and data[position + 4 : position + 8] == b"MPF\x00"):
                return False
            position += 2 + length
            if marker == 0xDA:
                position = _end_of_scan(data, position)
    return False


def _end_of_scan(data: bytes, position: int) -> int:
    """Where the entropy-coded data starting at ``position`` ends (the next marker)."""
    while True:
        found = data.find(b"\xff", position)
        if found < 0 or found + 1 >= len(data):
            return len(data)
        following = data[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            position = found + 1 if following == 0xFF else found + 2
            continue
        return found
