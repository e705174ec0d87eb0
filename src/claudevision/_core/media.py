"""Media types: which the API accepts, and what a run of bytes really is.

The type of an image is decided here, from its bytes, and nowhere else: never from a file
name, a data-URL prefix or a caller's claim. :func:`probe` reads only the headers (and the
last bytes, to tell a truncated file) of the four accepted formats, so an image that can go
out unchanged is never decoded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final, Literal

import filetype

__all__ = ["ACCEPTED_MEDIA_TYPES", "MediaType", "Probe", "describe_bytes", "probe"]

MediaType = Literal["image/jpeg", "image/png", "image/gif", "image/webp"]

ACCEPTED_MEDIA_TYPES: Final[tuple[MediaType, ...]] = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
)

PIL_FORMAT_TO_MEDIA_TYPE: Final[dict[str, MediaType]] = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
MEDIA_TYPE_TO_PIL_FORMAT: Final[dict[str, str]] = {
    v: k for k, v in PIL_FORMAT_TO_MEDIA_TYPE.items()
}

# Formats Pillow decodes (natively or through pillow-heif) that the API does not take.
CONVERTIBLE: Final[dict[str, str]] = {
    "image/avif": "AVIF",
    "image/heic": "HEIC",
    "image/heif": "HEIF",
    "image/tiff": "TIFF",
    "image/bmp": "BMP",
    "image/x-icon": "ICO",
    "image/vnd.microsoft.icon": "ICO",
    "image/jp2": "JPEG 2000",
    "image/jpx": "JPEG 2000",
}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
# SOF markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


@dataclass(frozen=True, slots=True)
class Probe:
    """What the headers of an accepted-format image say, without decoding it.

    ``orientation`` is the EXIF orientation (1 when absent). ``simple`` is True when the
    file is complete, still (not animated), 8-bit and has no orientation to apply: the
    conditions under which its bytes can be sent unchanged.
    """

    media_type: MediaType
    width: int
    height: int
    orientation: int
    simple: bool


def probe(data: bytes) -> Probe | None:
    """Read the size of a JPEG, PNG or WebP from its headers; None if that is not possible.

    GIF returns None: telling a still GIF from an animation means walking every block.
    """
    try:
        if data.startswith(b"\xff\xd8\xff"):
            return _probe_jpeg(data)
        if data.startswith(_PNG_SIGNATURE):
            return _probe_png(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _probe_webp(data)
    except (struct.error, IndexError, ValueError):
        return None
    return None


def _probe_jpeg(data: bytes) -> Probe | None:
    orientation = 1
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack_from(">H", data, i + 2)
        if marker == 0xE1 and data[i + 4 : i + 10] == b"Exif\x00\x00":
            orientation = _tiff_orientation(data[i + 10 : i + 2 + length])
        elif marker in _JPEG_SOF:
            precision, height, width, components = struct.unpack_from(">BHHB", data, i + 4)
            end = data.rstrip(b"\x00")[-2:] if data[-1] == 0 else data[-2:]
            simple = (
                end == b"\xff\xd9"
                and orientation == 1
                and precision == 8
                and components in (1, 3)  # not CMYK
            )
            return Probe("image/jpeg", width, height, orientation, simple)
        elif marker == 0xDA:  # start of scan before any frame header
            return None
        i += 2 + length
    return None


def _tiff_orientation(tiff: bytes) -> int:
    """The orientation tag of IFD0 in an EXIF TIFF block, 1 when absent or unreadable."""
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None:
        return 1
    (ifd,) = struct.unpack_from(order + "I", tiff, 4)
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    for entry in range(ifd + 2, ifd + 2 + 12 * count, 12):
        tag, _type, _n, value = struct.unpack_from(order + "HHIH", tiff, entry)
        if tag == 0x0112:
            return value if 1 <= value <= 8 else 1
    return 1


def _probe_png(data: bytes) -> Probe | None:
    if data[12:16] != b"IHDR":
        return None
    width, height, bit_depth = struct.unpack_from(">IIB", data, 16)
    animated = has_exif = False
    i = 8
    while i + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, i)
        if kind == b"IDAT":
            break
        animated = animated or kind == b"acTL"
        has_exif = has_exif or kind == b"eXIf"
        i += 12 + length
    simple = data.endswith(_PNG_END) and not animated and not has_exif and bit_depth <= 8
    return Probe("image/png", width, height, 1, simple)


def _probe_webp(data: bytes) -> Probe | None:
    (riff_size,) = struct.unpack_from("<I", data, 4)
    complete = riff_size + 8 in (len(data), len(data) - 1)
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack_from("<HH", data, 26)
        return Probe("image/webp", width & 0x3FFF, height & 0x3FFF, 1, complete)
    if chunk == b"VP8L":
        b0, b1, b2, b3 = data[21:25]
        width = 1 + (b0 | (b1 & 0x3F) << 8)
        height = 1 + (b1 >> 6 | b2 << 2 | (b3 & 0x0F) << 10)
        return Probe("image/webp", width, height, 1, complete)
    if chunk == b"VP8X":
        flags = data[20]
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        animated, has_exif = bool(flags & 0x02), bool(flags & 0x08)
        return Probe("image/webp", width, height, 1, complete and not animated and not has_exif)
    return None


def describe_bytes(data: bytes) -> str:
    """A short human name for what ``data`` is, for error messages: ``'a PDF document'``."""
    head = data[:1024].lstrip().lower()
    if b"<svg" in head:
        return "SVG (a vector drawing)"
    mime = sniff_mime(data)
    if mime is None:
        if head[:1] in (b"{", b"[", b"<") or all(32 <= c < 127 or c in (9, 10, 13) for c in head):
            return "text, not image data"
        return "unrecognised binary data"  # never quote bytes: they may not be the caller's
    return {
        "application/pdf": "a PDF document (application/pdf)",
        "application/zip": "a ZIP archive (application/zip)",
    }.get(mime, mime)


# ISO base media brands of HEIF images (10-bit 'heix' included) and of AVIF.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"})
_HEIF_BRANDS = _HEIC_BRANDS | {b"mif1", b"msf1"}
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


def sniff_mime(data: bytes) -> str | None:
    """The MIME type the signature of ``data`` shows (``filetype``'s guess), or None."""
    if data[4:8] == b"ftyp":
        brands = {data[i : i + 4] for i in range(8, min(len(data), 64), 4)}
        if brands & _AVIF_BRANDS:
            return "image/avif"
        if brands & _HEIF_BRANDS:
            return "image/heic" if data[8:12] in _HEIC_BRANDS else "image/heif"
    kind = filetype.guess(data[:8192])
    return None if kind is None else str(kind.mime)
