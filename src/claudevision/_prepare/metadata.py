"""What leaves with an image: personal metadata dropped from bytes sent unchanged.

Pure functions over bytes already proven whole. Nothing is re-encoded: whole JPEG
segments, PNG chunks, WebP chunks and GIF extensions are left out and every other byte is
copied as it was, then the result is proven whole again (:func:`~.verify.is_intact`).

``"strip"`` (the default) keeps only what decoding and colour need: in a JPEG the JFIF
header, the ICC profile and Adobe's colour transform (EXIF with its GPS position and
maker notes, XMP, IPTC, comments, thumbnails and vendor segments go); in a PNG the
critical chunks and the chunks that say how to show the pixels (text, EXIF, time and
private chunks go); in a WebP the image, alpha and ICC chunks; in a GIF everything but
comments and application extensions. ``"keep"`` keeps metadata, except ancillary data a
decoder would refuse (a text or ICC chunk inflating past Pillow's limits, an EXIF block
whose directories run past its end), which is dropped in both modes.

>>> from claudevision._prepare.metadata import clean
>>> clean(b"not an image", "image/png", "strip").removed
()
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Final, Literal

from .._core.steps import RemovedMetadata, Step
from .verify import is_intact

__all__ = [
    "METADATA_CHOICES",
    "Cleaned",
    "MetadataChoice",
    "clean",
    "exif_is_readable",
    "sent_metadata",
]

MetadataChoice = Literal["strip", "keep"]
METADATA_CHOICES: Final = ("strip", "keep")

# Pillow's limits on what one PNG text or ICC chunk may inflate to, and on all text.
_MAX_CHUNK_TEXT: Final = 1 << 20
_MAX_TEXT: Final = 64 << 20
# PNG ancillary chunks that say how to show the pixels: kept by "strip".
_PNG_DISPLAY: Final = frozenset(
    {b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"cICP", b"mDCv", b"cLLi", b"sBIT", b"bKGD"}
    | {b"pHYs", b"acTL", b"fcTL", b"fdAT"}
)
_PNG_CRITICAL: Final = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND"})
_PNG_NAMES: Final = {
    b"tEXt": "text",
    b"zTXt": "text",
    b"iTXt": "text",
    b"eXIf": "EXIF",
    b"tIME": "time",
}
_WEBP_IMAGE: Final = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ICCP", b"ANIM", b"ANMF"})
_WEBP_FLAGS: Final = {b"EXIF": 0x08, b"XMP ": 0x04}
# A bound on the directories one EXIF block may chain (IFD0, IFD1, Exif, GPS, Interop...).
_MAX_IFDS: Final = 16


@dataclass(frozen=True, slots=True)
class Cleaned:
    """The bytes to send and what was left out (kinds in words, e.g. ``"EXIF"``).

    ``data`` is the very object given when nothing was left out. ``unreadable`` names what
    was dropped because a decoder would refuse it (in both modes).
    """

    data: bytes
    removed: tuple[str, ...] = ()
    unreadable: tuple[str, ...] = ()


def clean(data: bytes, media_type: str, choice: MetadataChoice) -> Cleaned:
    """``data`` without personal metadata (``"strip"``) or without unreadable ancillary
    data (``"keep"``); raises ``ValueError`` if the result is not whole (never expected:
    only whole segments and chunks are left out)."""
    finder = _FINDERS.get(media_type)
    if finder is None:
        return Cleaned(data)
    try:
        drops, removed, unreadable = finder(data, choice == "strip")
    except (IndexError, struct.error, ValueError):
        return Cleaned(data)  # not the whole image ``verify`` proved: left to the proof
    if not drops:
        return Cleaned(data)
    out = _without(data, drops)
    if media_type == "image/webp":
        out = _webp_fix_header(out)
    if not is_intact(out, media_type):
        raise ValueError(f"the {media_type} is not whole once its metadata is left out")
    return Cleaned(out, _unique(removed), _unique(unreadable))


def sent_metadata(data: bytes, media_type: str, choice: str, steps: list[Step]) -> bytes:
    """The bytes to send in place of ``data`` (sent unchanged otherwise); a
    :class:`~claudevision.steps.RemovedMetadata` step is added to ``steps`` when anything
    was left out."""
    cleaned = clean(data, media_type, "keep" if choice == "keep" else "strip")
    if cleaned.data is not data:
        steps.append(RemovedMetadata(cleaned.removed, cleaned.unreadable))
    return cleaned.data


def _unique(names: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def _without(data: bytes, drops: list[tuple[int, int]]) -> bytes:
    parts, position = [], 0
    for start, end in drops:
        parts.append(data[position:start])
        position = end
    parts.append(data[position:])
    return b"".join(parts)


Found = tuple[list[tuple[int, int]], list[str], list[str]]

# -- JPEG --------------------------------------------------------------------------------------


def _jpeg(data: bytes, strip: bool) -> Found:
    """Segments before the first scan to leave out; everything from the scan on is kept."""
    drops: list[tuple[int, int]] = []
    removed: list[str] = []
    unreadable: list[str] = []
    position = 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1
            continue
        if marker == 0xDA or not (0xC0 <= marker <= 0xFE):
            break
        (length,) = struct.unpack_from(">H", data, position + 2)
        end = position + 2 + length
        body = data[position + 4 : end]
        name = _jpeg_segment_name(marker, body)
        if name is not None and (strip or not _jpeg_segment_readable(body)):
            drops.append((position, end))
            (removed if strip else unreadable).append(name)
        position = end
    return drops, removed, unreadable


def _jpeg_segment_name(marker: int, body: bytes) -> str | None:
    """What a metadata segment holds, or None for a segment decoding or colour needs."""
    if marker == 0xFE:
        return "comment"
    if not 0xE0 <= marker <= 0xEF:
        return None
    if (marker == 0xE0 and body.startswith(b"JFIF\x00")) or (
        marker == 0xE2 and body.startswith(b"ICC_PROFILE\x00")
    ):
        return None
    if marker == 0xEE and body.startswith(b"Adobe"):
        return None
    if body.startswith(b"Exif\x00"):
        return "EXIF"
    if body.startswith((b"http://ns.adobe.com/xap/", b"http://ns.adobe.com/xmp/")):
        return "XMP"
    if marker == 0xED:
        return "IPTC"
    if marker == 0xE0:
        return "thumbnail"
    return f"APP{marker - 0xE0}"


def _jpeg_segment_readable(body: bytes) -> bool:
    """Kept metadata a decoder can read: an EXIF block's directories must fit."""
    if body.startswith(b"Exif\x00"):
        return exif_is_readable(body[6:])
    return True


# -- EXIF --------------------------------------------------------------------------------------

# Tags that point at another directory: Exif, GPS, Interoperability.
_SUB_IFDS: Final = frozenset({0x8769, 0x8825, 0xA005})
_TYPE_SIZES: Final = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}


def exif_is_readable(tiff: bytes) -> bool:
    """A TIFF-structured EXIF block whose directories and values all lie within it.

    Bounded: at most a few directories, each visited once. This is the damage that makes
    Pillow warn "Corrupt EXIF data" and drop what it cannot read.
    """
    try:
        return _ifds_fit(tiff)
    except struct.error:
        return False


def _ifds_fit(tiff: bytes) -> bool:
    if tiff[:4] == b"II*\x00":
        order = "<"
    elif tiff[:4] == b"MM\x00*":
        order = ">"
    else:
        return False
    (first,) = struct.unpack_from(order + "I", tiff, 4)
    pending, seen = [first], set()
    while pending:
        offset = pending.pop()
        if offset == 0 or offset in seen:
            continue
        seen.add(offset)
        if len(seen) > _MAX_IFDS or offset + 2 > len(tiff):
            return False
        (count,) = struct.unpack_from(order + "H", tiff, offset)
        entries = offset + 2
        if entries + 12 * count + 4 > len(tiff):
            return False
        for index in range(count):
            tag, kind, number, value = struct.unpack_from(
                order + "HHII", tiff, entries + 12 * index
            )
            size = _TYPE_SIZES.get(kind, 1) * number
            if size > 4 and value + size > len(tiff):
                return False
            if tag in _SUB_IFDS:
                pending.append(value)
        (following,) = struct.unpack_from(order + "I", tiff, entries + 12 * count)
        pending.append(following)
    return True


# -- PNG ---------------------------------------------------------------------------------------


def _png(data: bytes, strip: bool) -> Found:
    drops: list[tuple[int, int]] = []
    removed: list[str] = []
    unreadable: list[str] = []
    text = 0
    position = 8
    while position + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        end = position + 12 + length
        if kind == b"IEND":
            break
        if kind in _PNG_CRITICAL:
            position = end
            continue
        body = data[position + 8 : position + 8 + length]
        personal = kind not in _PNG_DISPLAY
        readable, text = _png_chunk_readable(kind, body, text)
        name = _PNG_NAMES.get(kind, kind.decode("latin-1"))
        if strip and personal:
            drops.append((position, end))
            removed.append(name)
        elif not readable:
            drops.append((position, end))
            unreadable.append(name)
        position = end
    return drops, removed, unreadable


def _png_chunk_readable(kind: bytes, body: bytes, text: int) -> tuple[bool, int]:
    """Whether Pillow would read the chunk, and the text read so far (Pillow bounds both)."""
    if kind == b"tEXt":
        text += len(body)
        return text <= _MAX_TEXT, text
    if kind == b"zTXt":
        _keyword, _, rest = body.partition(b"\x00")
        inflated = _inflate(rest[1:]) if rest[:1] == b"\x00" else None
    elif kind == b"iTXt":
        _keyword, _, rest = body.partition(b"\x00")
        compressed, method = rest[:1] == b"\x01", rest[1:2]
        parts = rest[2:].split(b"\x00", 2)
        if len(parts) < 3:
            return True, text  # Pillow keeps such a chunk unread, without complaint
        inflated = (_inflate(parts[2]) if method == b"\x00" else None) if compressed else parts[2]
    elif kind == b"iCCP":
        _name, _, rest = body.partition(b"\x00")
        return rest[:1] == b"\x00" and _inflate(rest[1:]) is not None, text
    elif kind == b"eXIf":
        return exif_is_readable(body[6:] if body.startswith(b"Exif\x00") else body), text
    else:
        return True, text
    if inflated is None:
        return False, text
    text += len(inflated)
    return text <= _MAX_TEXT, text


def _inflate(compressed: bytes) -> bytes | None:
    """The inflated data within Pillow's bound, or None when over it or damaged."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(compressed, _MAX_CHUNK_TEXT)
    except zlib.error:
        return None
    if inflater.unconsumed_tail or not inflater.eof:
        return None
    return out


# -- WebP --------------------------------------------------------------------------------------


def _webp(data: bytes, strip: bool) -> Found:
    drops: list[tuple[int, int]] = []
    removed: list[str] = []
    unreadable: list[str] = []
    position = 12
    while position + 8 <= len(data):
        kind = data[position : position + 4]
        (size,) = struct.unpack_from("<I", data, position + 4)
        end = position + 8 + size + (size & 1)
        if kind not in _WEBP_IMAGE:
            body = data[position + 8 : position + 8 + size]
            name = {b"EXIF": "EXIF", b"XMP ": "XMP"}.get(kind, kind.decode("latin-1").strip())
            if strip:
                drops.append((position, end))
                removed.append(name)
            elif kind == b"EXIF" and not exif_is_readable(
                body[6:] if body.startswith(b"Exif\x00") else body
            ):
                drops.append((position, end))
                unreadable.append(name)
        position = end
    return drops, removed, unreadable


def _webp_fix_header(data: bytes) -> bytes:
    """The RIFF length, and the VP8X flags of chunks no longer there, made true again."""
    out = bytearray(data)
    out[4:8] = struct.pack("<I", len(out) - 8)
    if out[12:16] == b"VP8X":
        kinds = _webp_kinds(bytes(out))
        for kind, bit in _WEBP_FLAGS.items():
            if kind not in kinds:
                out[20] &= ~bit & 0xFF
    return bytes(out)


def _webp_kinds(data: bytes) -> set[bytes]:
    kinds, position = set(), 12
    while position + 8 <= len(data):
        kinds.add(data[position : position + 4])
        (size,) = struct.unpack_from("<I", data, position + 4)
        position += 8 + size + (size & 1)
    return kinds


# -- GIF ---------------------------------------------------------------------------------------

# Application extensions that say how to play an animation, not who made it.
_GIF_PLAYBACK: Final = (b"NETSCAPE2.0", b"ANIMEXTS1.0")


def _gif(data: bytes, strip: bool) -> Found:
    drops: list[tuple[int, int]] = []
    removed: list[str] = []
    if not strip:
        return drops, removed, []
    flags = data[10]
    position = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    while position < len(data):
        kind = data[position]
        if kind == 0x3B:
            break
        if kind == 0x2C:
            local = data[position + 9]
            position += 10 + (3 * (2 << (local & 7)) if local & 0x80 else 0)
            position = _gif_skip_blocks(data, position + 1)
            continue
        if kind != 0x21:
            raise ValueError("not a GIF block")
        label = data[position + 1]
        end = _gif_skip_blocks(data, position + 2)
        if label == 0xFE:
            drops.append((position, end))
            removed.append("comment")
        elif label == 0xFF and data[position + 3 : position + 14] not in _GIF_PLAYBACK:
            drops.append((position, end))
            removed.append("XMP" if data[position + 3 : position + 11] == b"XMP Data" else "app")
        position = end
    return drops, removed, []


def _gif_skip_blocks(data: bytes, position: int) -> int:
    while True:
        size = data[position]
        position += 1 + size
        if size == 0:
            return position
        if position > len(data):
            raise IndexError("sub-block runs past the end")


_FINDERS: Final = {
    "image/jpeg": _jpeg,
    "image/png": _png,
    "image/webp": _webp,
    "image/gif": _gif,
}
