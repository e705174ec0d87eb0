"""A strict, independent check of what the API would accept, and the fuzzing corpus.

:func:`check_block` and :func:`check_bytes` decide, with Pillow and the standard library
only, whether an ``image`` block's bytes are an image the API can process: standard padded
base64, one of the four accepted media types and the one the signature says, and an image
that decodes completely and strictly. Structure is walked by hand before Pillow decodes:

- PNG: every chunk's CRC, chunk order, IHDR fields, the IDAT zlib stream decompressing
  completely to exactly the bytes width, height, bit depth, colour type and interlace
  call for (valid filter byte on every scanline), and IEND ending the file;
- JPEG: the marker structure (SOI, tables, one baseline/extended/progressive frame, scans,
  EOI ending the file) and every scan's Huffman-coded data decoded block by block: bad
  codes, data that runs out or runs over, restart markers and progression are all
  checked (Pillow hides libjpeg's "Corrupt JPEG data" warnings);
- GIF: every block, sub-block and colour table, and every frame's LZW data decoded to
  exactly its pixel count with an end code;
- WebP: the RIFF container, chunk layout, VP8X flags and frame headers.

Each problem raises :class:`StrictDecodeError`, an ``AssertionError`` whose ``kind`` is a
stable short class name (``"png: bad chunk CRC"``) and whose ``detail`` says where.

The second half holds what ``tests/test_fuzz.py`` and ``benchmarks/fuzz_prepare.py`` share:
small seed images of every format claudevision takes (made here, in-process) and the
mutations applied to them.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import os
import random
import re
import struct
import warnings
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFile

__all__ = [
    "ACCEPTED",
    "MUTATION_KINDS",
    "Mutation",
    "StrictDecodeError",
    "check_block",
    "check_bytes",
    "check_prepared",
    "draw_mutation",
    "encode_png",
    "random_mutation",
    "seeds",
    "sniff",
]

ACCEPTED = ("image/jpeg", "image/png", "image/gif", "image/webp")
API_MAX_SIDE = 8000
"""The API refuses images with a side longer than this."""
MAX_CHECKED_FRAMES = 64
"""Frames of an animation Pillow decodes (the API reads the first; we read more)."""
STRICT_ENTROPY = os.environ.get("CLAUDEVISION_FUZZ_STRICT_JPEG") == "1"
"""Decode JPEG entropy-coded data block by block here, refusing what even libjpeg-turbo in
strict mode accepts (an AC run past 63, a few extraneous bits). Off by default: the API
refuses far fewer one-bit-flipped JPEGs (12% of baseline ones, issue 9) than libjpeg-turbo
in strict mode does (about 43% here), so libjpeg-turbo strict is already the stricter
judge; set ``CLAUDEVISION_FUZZ_STRICT_JPEG=1`` to hold the library to this one too."""


class StrictDecodeError(AssertionError):
    """The bytes are not an image the API would take; ``kind`` names the class of problem."""

    def __init__(self, kind: str, detail: str = "") -> None:
        self.kind = kind
        self.detail = detail
        super().__init__(f"{kind} ({detail})" if detail else kind)


def _fail(kind: str, detail: str = "") -> StrictDecodeError:
    return StrictDecodeError(kind, detail)


# --------------------------------------------------------------------------------------
# The block and base64
# --------------------------------------------------------------------------------------

_BASE64_RE = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def decode_block_data(text: object) -> bytes:
    """The bytes of a block's base64 ``data``: standard alphabet, padded, canonical."""
    if not isinstance(text, str):
        raise _fail("block: data is not a str", type(text).__name__)
    if not text:
        raise _fail("block: data is empty")
    if _BASE64_RE.fullmatch(text) is None:
        bad = sorted({c for c in text if not (c.isascii() and (c.isalnum() or c in "+/="))})
        raise _fail(
            "base64: not standard padded base64",
            f"length {len(text)}, length % 4 = {len(text) % 4}, odd characters {bad[:8]!r}",
        )
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error as exc:  # pragma: no cover - the regex already refused it
        raise _fail("base64: not standard padded base64", str(exc)) from None
    if base64.b64encode(data).decode("ascii") != text:
        raise _fail("base64: not canonical (non-zero padding bits)")
    return data


def check_block(block: object, size: tuple[int, int] | None = None) -> None:
    """Raise :class:`StrictDecodeError` unless ``block`` is a base64 image block the API takes.

    ``size``, when given, is what the bytes must decode to (``PreparedImage.size``).
    """
    if not isinstance(block, Mapping):
        raise _fail("block: not a mapping", type(block).__name__)
    if block.get("type") != "image":
        raise _fail("block: type is not 'image'", repr(block.get("type")))
    extra = set(block) - {"type", "source", "cache_control"}
    if extra:
        raise _fail("block: unexpected keys", repr(sorted(extra)))
    source = block.get("source")
    if not isinstance(source, Mapping):
        raise _fail("block: source is not a mapping", type(source).__name__)
    if source.get("type") != "base64":
        raise _fail("block: source type is not 'base64'", repr(source.get("type")))
    if set(source) != {"type", "media_type", "data"}:
        raise _fail("block: source keys are not type, media_type, data", repr(sorted(source)))
    media_type = source.get("media_type")
    if media_type not in ACCEPTED:
        raise _fail("block: media type not accepted by the API", repr(media_type))
    data = decode_block_data(source.get("data"))
    check_bytes(data, str(media_type), size)


def check_prepared(prepared: Any, original: bytes | None = None) -> None:
    """:func:`check_block` on ``prepared.block``, and that the other fields agree with it.

    ``original`` is the input; when ``prepared.unchanged`` the bytes sent must be it.
    """
    block = prepared.block
    check_block(block, prepared.size)
    data = base64.b64decode(block["source"]["data"])
    if prepared.data is not None and bytes(prepared.data) != data:
        raise _fail("prepared: .data differs from the block's bytes")
    if prepared.media_type != block["source"]["media_type"]:
        raise _fail(
            "prepared: .media_type differs from the block's",
            f"{prepared.media_type!r} != {block['source']['media_type']!r}",
        )
    if prepared.unchanged and original is not None and data != bytes(original):
        raise _fail("prepared: unchanged, but the bytes sent differ from the input")


def sniff(data: bytes) -> str | None:
    """The accepted media type whose signature ``data`` starts with, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_bytes(data: bytes, media_type: str, size: tuple[int, int] | None = None) -> None:
    """Raise :class:`StrictDecodeError` unless ``data`` is a complete, strictly valid image
    of ``media_type`` (and of ``size``, when given)."""
    if media_type not in ACCEPTED:
        raise _fail("block: media type not accepted by the API", repr(media_type))
    actual = sniff(data)
    if actual is None:
        raise _fail("media type: bytes are no accepted format", f"start {data[:12].hex(' ')}")
    if actual != media_type:
        raise _fail("media type: declared type differs from the bytes", f"{media_type} != {actual}")
    structural = {
        "image/png": _check_png,
        "image/jpeg": _check_jpeg,
        "image/gif": _check_gif,
        "image/webp": _check_webp,
    }[media_type]
    header_size = structural(data)
    if media_type == "image/jpeg":
        _libjpeg_strict(data)
    decoded_size = _pillow_decode(data, media_type)
    if decoded_size != header_size:
        raise _fail("pillow: size differs from the headers", f"{decoded_size} != {header_size}")
    width, height = decoded_size
    if max(width, height) > API_MAX_SIDE:
        raise _fail("api: a side is over 8000 px", f"{width}x{height}")
    if size is not None and tuple(size) != decoded_size:
        raise _fail("size: decoded size differs from .size", f"{decoded_size} != {tuple(size)}")


def _libjpeg_strict(data: bytes) -> None:
    """libjpeg-turbo's decode with every recoverable error (Pillow hides them) an error."""
    import simplejpeg

    try:
        simplejpeg.decode_jpeg(data, strict=True)
    except ValueError as exc:
        raise _fail("jpeg: libjpeg-turbo (strict) refuses it", str(exc)[:120]) from None


_PIL_FORMATS = {
    "image/png": ("PNG", {"PNG"}),
    "image/jpeg": ("JPEG", {"JPEG", "MPO"}),
    "image/gif": ("GIF", {"GIF"}),
    "image/webp": ("WEBP", {"WEBP"}),
}


def _pillow_decode(data: bytes, media_type: str) -> tuple[int, int]:
    """Decode with Pillow refusing truncated data: the first frames, in full."""
    name, allowed = _PIL_FORMATS[media_type]
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                with Image.open(io.BytesIO(data), formats=[name]) as image:
                    if image.format not in allowed:
                        raise _fail("pillow: opened as another format", str(image.format))
                    image.load()
                    size: tuple[int, int] = image.size
                    frames = getattr(image, "n_frames", 1)
                    for index in range(1, min(frames, MAX_CHECKED_FRAMES)):
                        image.seek(index)
                        image.load()
                    image.seek(0)
                    try:
                        orientation = image.getexif().get(0x0112, 1)
                    except Exception as exc:
                        raise _fail("exif: Pillow cannot read it", _describe(exc)) from None
            except StrictDecodeError:
                raise
            except Exception as exc:
                raise _fail(f"pillow: {type(exc).__name__} decoding it", _describe(exc)) from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous
    if orientation not in (1, 0, None):
        raise _fail("exif: orientation left in the sent image", f"orientation {orientation!r}")
    return size


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:120]}"


# --------------------------------------------------------------------------------------
# PNG
# --------------------------------------------------------------------------------------

_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_PNG_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}
_ADAM7: tuple[tuple[int, int, int, int], ...] = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
_PNG_SINGLETONS = frozenset(
    {
        b"IHDR",
        b"PLTE",
        b"tRNS",
        b"gAMA",
        b"cHRM",
        b"sRGB",
        b"iCCP",
        b"sBIT",
        b"bKGD",
        b"pHYs",
        b"tIME",
        b"acTL",
        b"eXIf",
        b"cICP",
        b"hIST",
    }
)
_PNG_BEFORE_PLTE = frozenset({b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"cICP"})
_PNG_BEFORE_IDAT = _PNG_BEFORE_PLTE | {b"tRNS", b"bKGD", b"pHYs", b"hIST", b"sPLT", b"acTL"}
_PNG_CRITICAL = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND"})


def png_rows(width: int, height: int, colour_type: int, depth: int, interlace: int) -> list[int]:
    """Length of each filtered scanline (filter byte included), in stream order."""
    bits = _PNG_CHANNELS[colour_type] * depth
    passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
    rows: list[int] = []
    for x0, y0, dx, dy in passes:
        pass_width = (width - x0 + dx - 1) // dx if width > x0 else 0
        pass_height = (height - y0 + dy - 1) // dy if height > y0 else 0
        if pass_width and pass_height:
            rows += [1 + (pass_width * bits + 7) // 8] * pass_height
    return rows


def _check_png(data: bytes) -> tuple[int, int]:
    n = len(data)
    pos = 8
    seen: set[bytes] = set()
    ihdr: tuple[int, int, int, int, int] | None = None
    palette_entries = 0
    idat: list[bytes] = []
    idat_state = 0  # 0 before IDAT, 1 in the IDAT run, 2 after it
    while True:
        if pos == n:
            raise _fail("png: no IEND (file truncated)", f"{n} bytes")
        if pos + 12 > n:
            raise _fail("png: chunk header cut short (file truncated)", f"at {pos}")
        length, kind = struct.unpack_from(">I4s", data, pos)
        name = kind.decode("latin-1")
        if length > 0x7FFFFFFF:
            raise _fail("png: chunk length over 2^31-1", f"{name!r} at {pos}")
        if pos + 12 + length > n:
            raise _fail("png: chunk runs past the end (file truncated)", f"{name!r} at {pos}")
        if not all(65 <= c <= 90 or 97 <= c <= 122 for c in kind):
            raise _fail("png: chunk type is not four letters", f"{kind!r} at {pos}")
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack_from(">I", data, pos + 8 + length)
        if zlib.crc32(kind + body) != crc:
            raise _fail("png: bad chunk CRC", f"{name} at {pos}")
        if 97 <= kind[2] <= 122:
            raise _fail("png: reserved bit set in chunk type", name)
        if ihdr is None and kind != b"IHDR":
            raise _fail("png: first chunk is not IHDR", name)
        if kind in seen and kind in _PNG_SINGLETONS:
            raise _fail(f"png: more than one {name} chunk")
        if kind[0] <= 90 and kind not in _PNG_CRITICAL:
            raise _fail("png: unknown critical chunk", name)
        if idat_state == 1 and kind != b"IDAT":
            idat_state = 2
        if kind == b"IHDR":
            ihdr = _png_ihdr(body)
        elif kind == b"PLTE":
            assert ihdr is not None
            if idat_state:
                raise _fail("png: PLTE after IDAT")
            if ihdr[3] in (0, 4):
                raise _fail("png: PLTE in a greyscale image")
            if length % 3 or not 3 <= length <= 768:
                raise _fail("png: bad PLTE length", str(length))
            palette_entries = length // 3
            if ihdr[3] == 3 and palette_entries > 1 << ihdr[2]:
                raise _fail("png: PLTE longer than the bit depth allows", str(palette_entries))
        elif kind == b"IDAT":
            if idat_state == 2:
                raise _fail("png: IDAT chunks not consecutive", f"at {pos}")
            idat_state = 1
            idat.append(body)
        elif kind == b"IEND":
            if length:
                raise _fail("png: IEND has data")
            if pos + 12 != n:
                raise _fail("png: data after IEND", f"{n - pos - 12} bytes")
            break
        elif kind in _PNG_BEFORE_IDAT and idat_state:
            raise _fail("png: ancillary chunk after IDAT that must precede it", name)
        elif kind in _PNG_BEFORE_PLTE and b"PLTE" in seen:
            raise _fail("png: ancillary chunk after PLTE that must precede it", name)
        elif kind == b"tRNS":
            assert ihdr is not None
            _png_trns(ihdr[3], length, palette_entries, b"PLTE" in seen)
        seen.add(kind)
        pos += 12 + length
    assert ihdr is not None
    width, height, depth, colour_type, interlace = ihdr
    if not idat:
        raise _fail("png: no IDAT")
    if colour_type == 3 and not palette_entries:
        raise _fail("png: palette image without PLTE")
    _png_inflate(b"".join(idat), png_rows(width, height, colour_type, depth, interlace))
    return width, height


def _png_ihdr(body: bytes) -> tuple[int, int, int, int, int]:
    if len(body) != 13:
        raise _fail("png: IHDR is not 13 bytes", str(len(body)))
    width, height, depth, colour_type, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", body
    )
    if not (0 < width <= 0x7FFFFFFF and 0 < height <= 0x7FFFFFFF):
        raise _fail("png: IHDR size out of range", f"{width}x{height}")
    if colour_type not in _PNG_DEPTHS or depth not in _PNG_DEPTHS[colour_type]:
        raise _fail("png: IHDR bit depth / colour type invalid", f"{depth}/{colour_type}")
    if compression or filtering or interlace > 1:
        raise _fail(
            "png: IHDR compression, filter or interlace method invalid",
            f"{compression}/{filtering}/{interlace}",
        )
    return width, height, depth, colour_type, interlace


def _png_trns(colour_type: int, length: int, palette_entries: int, has_plte: bool) -> None:
    if colour_type in (4, 6):
        raise _fail("png: tRNS in an image with an alpha channel")
    if colour_type == 3:
        if not has_plte:
            raise _fail("png: tRNS before PLTE")
        if length > palette_entries:
            raise _fail("png: tRNS longer than PLTE", f"{length} > {palette_entries}")
    elif length != (2 if colour_type == 0 else 6):
        raise _fail("png: bad tRNS length", str(length))


def _png_inflate(compressed: bytes, rows: list[int]) -> None:
    """Inflate the IDAT stream in pieces, checking every filter byte and the exact size."""
    expected = sum(rows)
    inflater = zlib.decompressobj()
    row_iter = iter(rows)
    next_filter = 0  # offset of the next scanline's filter byte
    produced = 0
    pending = compressed
    try:
        while True:
            piece = inflater.decompress(pending, 1 << 20)
            pending = inflater.unconsumed_tail
            if piece:
                start = produced
                produced += len(piece)
                if produced > expected:
                    raise _fail(
                        "png: IDAT inflates to more than the image needs",
                        f"over {expected} bytes",
                    )
                while next_filter < produced:
                    value = piece[next_filter - start]
                    if value > 4:
                        raise _fail("png: bad scanline filter type", f"{value} at {next_filter}")
                    next_filter += next(row_iter)
            if inflater.eof or (not piece and not pending):
                break
    except zlib.error as exc:
        raise _fail("png: IDAT zlib data corrupt", str(exc)) from None
    if not inflater.eof:
        raise _fail(
            "png: IDAT zlib stream ends early (truncated)", f"{produced} of {expected} bytes"
        )
    if produced < expected:
        raise _fail("png: IDAT inflates to fewer bytes than the image needs")
    if inflater.unused_data:
        raise _fail("png: data after the zlib stream in IDAT", f"{len(inflater.unused_data)}")


# --------------------------------------------------------------------------------------
# JPEG
# --------------------------------------------------------------------------------------

_JPEG_FRAMES = {0xC0: "baseline", 0xC1: "extended", 0xC2: "progressive"}
# Lossless (C3), hierarchical (C5-C7) and arithmetic-coded (C9-CB, CD-CF) frames.
_JPEG_UNSUPPORTED_FRAMES = frozenset(range(0xC3, 0xD0)) - {0xC4, 0xC8, 0xCC}


@dataclass
class _Component:
    cid: int
    h: int
    v: int
    tq: int
    blocks_wide: int = 0
    blocks_high: int = 0
    padded_wide: int = 0
    padded_high: int = 0
    nonzero: list[int] = field(default_factory=list)  # per block: bitmask of coefficients
    coef_bits: list[int] = field(default_factory=lambda: [-1] * 64)
    scanned: bool = False


@dataclass
class _Frame:
    marker: int
    width: int
    height: int
    components: list[_Component]
    mcus_wide: int
    mcus_high: int

    @property
    def progressive(self) -> bool:
        return self.marker == 0xC2


_Table = tuple[int, ...]
"""A Huffman lookup table (see :func:`_huffman_table`)."""
_ScanEntry = tuple[_Component, "_Table | None", "_Table | None"]


class _Overrun(Exception):
    """The scan's entropy-coded data ran out."""


class _Bits:
    """MSB-first bit reader over unstuffed entropy-coded bytes, padding with 1 bits."""

    __slots__ = ("acc", "buf", "nbits", "pad", "pos", "size")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.size = len(buf)
        self.pos = 0
        self.acc = 0
        self.nbits = 0
        self.pad = 0

    def _fill(self) -> None:
        while self.nbits < 16:
            if self.pos < self.size:
                byte = self.buf[self.pos]
                self.pos += 1
            else:
                self.pad += 1
                if self.pad > 3:
                    raise _Overrun
                byte = 0xFF
            self.acc = (self.acc << 8) | byte
            self.nbits += 8
        self.acc &= (1 << self.nbits) - 1

    def consumed(self) -> int:
        return 8 * (self.pos + self.pad) - self.nbits

    def huff(self, table: tuple[int, ...]) -> int:
        if self.nbits < 16:
            self._fill()
        entry = table[(self.acc >> (self.nbits - 16)) & 0xFFFF]
        if entry < 0:
            if self.consumed() + 8 > 8 * self.size:
                raise _Overrun
            raise _fail("jpeg: invalid Huffman code in scan data", f"bit {self.consumed()}")
        self.nbits -= entry & 31
        return entry >> 5

    def bits(self, count: int) -> int:
        if not count:
            return 0
        if self.nbits < count:
            self._fill()
        self.nbits -= count
        return (self.acc >> self.nbits) & ((1 << count) - 1)


@functools.lru_cache(maxsize=256)
def _huffman_table(counts: bytes, symbols: bytes) -> _Table:
    """A 16-bit lookup table: entry = symbol << 5 | code length, -1 for no code."""
    table = [-1] * 65536
    code = 0
    index = 0
    for length in range(1, 17):
        for _ in range(counts[length - 1]):
            if code >= 1 << length:
                raise _fail("jpeg: Huffman table overflows its code space")
            span = 1 << (16 - length)
            start = code << (16 - length)
            table[start : start + span] = [symbols[index] << 5 | length] * span
            index += 1
            code += 1
        code <<= 1
    return tuple(table)


def _u16(data: bytes, pos: int) -> int:
    return int(data[pos]) << 8 | data[pos + 1]


def _check_jpeg(data: bytes) -> tuple[int, int]:
    n = len(data)
    pos = 2
    frame: _Frame | None = None
    quant: set[int] = set()
    dc_tables: dict[int, _Table] = {}
    ac_tables: dict[int, _Table] = {}
    restart_interval = 0
    scans = 0
    while True:
        if pos >= n:
            raise _fail("jpeg: no EOI (file truncated)", f"{n} bytes")
        if data[pos] != 0xFF:
            raise _fail("jpeg: bytes where a marker should be", f"0x{data[pos]:02x} at {pos}")
        while pos + 1 < n and data[pos + 1] == 0xFF:
            pos += 1
        if pos + 1 >= n:
            raise _fail("jpeg: no EOI (file truncated)", f"{n} bytes")
        marker = data[pos + 1]
        pos += 2
        if marker == 0xD9:
            if pos != n:
                raise _fail("jpeg: data after EOI", f"{n - pos} bytes")
            break
        if marker == 0xD8:
            raise _fail("jpeg: second SOI")
        if 0xD0 <= marker <= 0xD7:
            raise _fail("jpeg: restart marker outside a scan", f"at {pos - 2}")
        if marker in (0x00, 0x01) or 0x02 <= marker <= 0xBF:
            raise _fail("jpeg: invalid or reserved marker", f"0x{marker:02x} at {pos - 2}")
        if pos + 2 > n:
            raise _fail("jpeg: segment cut short (file truncated)", f"0x{marker:02x}")
        length = _u16(data, pos)
        if length < 2 or pos + length > n:
            raise _fail("jpeg: segment length past the end or under 2", f"0x{marker:02x}")
        segment = data[pos + 2 : pos + length]
        pos += length
        if marker in _JPEG_FRAMES:
            if frame is not None:
                raise _fail("jpeg: more than one frame header")
            frame = _jpeg_frame(marker, segment)
        elif marker in _JPEG_UNSUPPORTED_FRAMES:
            raise _fail("jpeg: lossless, hierarchical or arithmetic frame", f"SOF 0x{marker:02x}")
        elif marker == 0xC4:
            _jpeg_dht(segment, dc_tables, ac_tables)
        elif marker == 0xDB:
            _jpeg_dqt(segment, quant)
        elif marker == 0xDD:
            if len(segment) != 2:
                raise _fail("jpeg: bad DRI length")
            restart_interval = _u16(segment, 0)
        elif marker == 0xDA:
            if frame is None:
                raise _fail("jpeg: scan before the frame header")
            for component in frame.components:
                if component.tq not in quant:
                    raise _fail("jpeg: frame uses an undefined quantization table")
            pos = _jpeg_scan(data, pos, frame, segment, dc_tables, ac_tables, restart_interval)
            scans += 1
        elif marker == 0xCC:
            raise _fail("jpeg: arithmetic coding conditioning (DAC)")
        elif marker == 0xDC:
            raise _fail("jpeg: DNL marker (height defined after the scan)")
        elif marker in (0xDE, 0xDF):
            raise _fail("jpeg: hierarchical marker", f"0x{marker:02x}")
        # APPn (E0-EF), COM (FE) and JPGn (F0-FD) segments are skipped.
    if frame is None:
        raise _fail("jpeg: no frame header")
    if not scans:
        raise _fail("jpeg: no scan")
    for component in frame.components:
        if not component.scanned:
            raise _fail("jpeg: a component is in no scan", f"id {component.cid}")
    return frame.width, frame.height


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _jpeg_frame(marker: int, segment: bytes) -> _Frame:
    if len(segment) < 6:
        raise _fail("jpeg: frame header too short")
    precision, height, width, count = struct.unpack_from(">BHHB", segment)
    if precision != 8:
        raise _fail("jpeg: sample precision is not 8 bits", str(precision))
    if height == 0:
        raise _fail("jpeg: frame height 0 (DNL)")
    if width == 0:
        raise _fail("jpeg: frame width 0")
    if count == 4:
        raise _fail("jpeg: 4-component (CMYK/YCCK) frame")
    if count not in (1, 3) or len(segment) != 6 + 3 * count:
        raise _fail("jpeg: bad component count or frame header length", str(count))
    components: list[_Component] = []
    for index in range(count):
        cid, sampling, tq = segment[6 + 3 * index : 9 + 3 * index]
        h, v = sampling >> 4, sampling & 15
        if not (1 <= h <= 4 and 1 <= v <= 4) or tq > 3:
            raise _fail("jpeg: bad component sampling or table", f"{h}x{v} tq {tq}")
        if any(c.cid == cid for c in components):
            raise _fail("jpeg: duplicate component id", str(cid))
        components.append(_Component(cid, h, v, tq))
    hmax = max(c.h for c in components)
    vmax = max(c.v for c in components)
    mcus_wide = _ceil_div(width, 8 * hmax)
    mcus_high = _ceil_div(height, 8 * vmax)
    for c in components:
        c.blocks_wide = _ceil_div(_ceil_div(width * c.h, hmax), 8)
        c.blocks_high = _ceil_div(_ceil_div(height * c.v, vmax), 8)
        c.padded_wide = mcus_wide * c.h
        c.padded_high = mcus_high * c.v
    if mcus_wide * mcus_high * sum(c.h * c.v for c in components) > 20_000_000:
        raise _fail("jpeg: too many blocks to check", f"{width}x{height}")
    return _Frame(marker, width, height, components, mcus_wide, mcus_high)


def _jpeg_dht(segment: bytes, dc: dict[int, _Table], ac: dict[int, _Table]) -> None:
    off = 0
    while off < len(segment):
        if off + 17 > len(segment):
            raise _fail("jpeg: DHT segment cut short")
        table_class, table_id = segment[off] >> 4, segment[off] & 15
        if table_class > 1 or table_id > 3:
            raise _fail("jpeg: bad DHT class or id", f"{table_class}/{table_id}")
        counts = segment[off + 1 : off + 17]
        total = sum(counts)
        if total > 256 or off + 17 + total > len(segment):
            raise _fail("jpeg: DHT symbol count wrong or cut short", str(total))
        symbols = segment[off + 17 : off + 17 + total]
        if table_class == 0 and any(s > 11 for s in symbols):
            raise _fail("jpeg: DC Huffman table symbol over 11")
        (ac if table_class else dc)[table_id] = _huffman_table(bytes(counts), bytes(symbols))
        off += 17 + total


def _jpeg_dqt(segment: bytes, quant: set[int]) -> None:
    off = 0
    while off < len(segment):
        precision, table_id = segment[off] >> 4, segment[off] & 15
        if precision > 1 or table_id > 3:
            raise _fail("jpeg: bad DQT precision or id", f"{precision}/{table_id}")
        size = 64 * (precision + 1)
        values = segment[off + 1 : off + 1 + size]
        if len(values) != size:
            raise _fail("jpeg: DQT segment cut short")
        if precision:
            entries = struct.unpack(">64H", values)
            if any(e == 0 for e in entries):
                raise _fail("jpeg: zero in a quantization table")
        elif 0 in values:
            raise _fail("jpeg: zero in a quantization table")
        quant.add(table_id)
        off += 1 + size


def _entropy_segments(data: bytes, pos: int) -> tuple[list[bytes], list[int], int]:
    """Split a scan's entropy-coded data at restart markers; unstuff; find where it ends."""
    n = len(data)
    start = search = pos
    segments: list[bytes] = []
    restarts: list[int] = []
    while True:
        ff = data.find(b"\xff", search)
        if ff < 0:
            raise _fail("jpeg: scan data runs to the end of the file (truncated)")
        k = ff + 1
        while k < n and data[k] == 0xFF:
            k += 1
        if k >= n:
            raise _fail("jpeg: scan data runs to the end of the file (truncated)")
        marker = data[k]
        if marker == 0x00:
            search = k + 1
            continue
        segment = re.sub(rb"\xff+\x00", b"\xff", data[start:ff])
        segments.append(segment)
        if 0xD0 <= marker <= 0xD7:
            restarts.append(marker - 0xD0)
            start = search = k + 1
            continue
        return segments, restarts, k - 1


def _jpeg_scan(
    data: bytes,
    pos: int,
    frame: _Frame,
    header: bytes,
    dc_tables: Mapping[int, _Table],
    ac_tables: Mapping[int, _Table],
    restart_interval: int,
) -> int:
    if not header or not 1 <= header[0] <= 4 or len(header) != 4 + 2 * header[0]:
        raise _fail("jpeg: bad scan header")
    count = header[0]
    scan: list[_ScanEntry] = []
    ss, se, approx = header[1 + 2 * count : 4 + 2 * count]
    ah, al = approx >> 4, approx & 15
    for index in range(count):
        cid, tables = header[1 + 2 * index], header[2 + 2 * index]
        matching = [c for c in frame.components if c.cid == cid]
        if not matching:
            raise _fail("jpeg: scan names a component not in the frame", str(cid))
        component = matching[0]
        if any(entry[0] is component for entry in scan):
            raise _fail("jpeg: component twice in a scan")
        td, ta = tables >> 4, tables & 15
        if frame.marker == 0xC0 and (td > 1 or ta > 1):
            raise _fail("jpeg: baseline scan uses a Huffman table id over 1")
        needs_dc = ss == 0 and ah == 0
        needs_ac = se > 0
        dc = dc_tables.get(td)
        ac = ac_tables.get(ta)
        if (needs_dc and dc is None) or (needs_ac and ac is None):
            raise _fail("jpeg: scan uses an undefined Huffman table")
        scan.append((component, dc, ac))
        component.scanned = True
    if frame.progressive:
        _jpeg_progression(frame, scan, ss, se, ah, al)
    elif (ss, se, ah, al) != (0, 63, 0, 0):
        raise _fail("jpeg: sequential scan with progressive parameters", f"{ss}-{se} {ah}/{al}")
    segments, restarts, end = _entropy_segments(data, pos)

    # The MCUs of the scan: interleaved ones hold H x V blocks per component.
    if count == 1:
        c = scan[0][0]
        total = c.blocks_wide * c.blocks_high
    else:
        total = frame.mcus_wide * frame.mcus_high
    expected_segments = -(-total // restart_interval) if restart_interval else 1
    if len(segments) != expected_segments:
        raise _fail(
            "jpeg: wrong number of restart intervals in a scan",
            f"{len(segments)} != {expected_segments}",
        )
    for index, number in enumerate(restarts):
        if number != index % 8:
            raise _fail("jpeg: restart marker out of sequence", f"RST{number} for {index % 8}")
    if not STRICT_ENTROPY:
        return end  # the entropy-coded data is judged by libjpeg-turbo (check_bytes)
    decode = _block_decoder(frame, ss, se, ah, al)
    per_segment = restart_interval or total
    for index, segment in enumerate(segments):
        bits = _Bits(segment)
        eob = [0]
        first = index * per_segment
        try:
            for mcu in range(first, min(first + per_segment, total)):
                for component, block, dc, ac in _mcu_blocks(frame, scan, mcu):
                    decode(bits, component, block, dc, ac, eob)
        except _Overrun:
            raise _fail("jpeg: scan data ends before all blocks are decoded") from None
        used = bits.consumed()
        if used > 8 * len(segment):
            raise _fail("jpeg: scan data ends before all blocks are decoded")
        if 8 * len(segment) - used >= 8:
            raise _fail(
                "jpeg: extraneous bytes after the last block of a scan",
                f"{(8 * len(segment) - used) // 8} bytes",
            )
        if eob[0]:
            raise _fail("jpeg: end-of-band run longer than the blocks left")
    return end


def _mcu_blocks(
    frame: _Frame, scan: list[_ScanEntry], mcu: int
) -> Iterator[tuple[_Component, int, _Table | None, _Table | None]]:
    """(component, block index, dc table, ac table) for each block of MCU ``mcu``."""
    if len(scan) == 1:
        component, dc, ac = scan[0]
        row, col = divmod(mcu, component.blocks_wide)
        yield component, row * component.padded_wide + col, dc, ac
        return
    my, mx = divmod(mcu, frame.mcus_wide)
    for component, dc, ac in scan:
        for v in range(component.v):
            base = (my * component.v + v) * component.padded_wide + mx * component.h
            for h in range(component.h):
                yield component, base + h, dc, ac


def _jpeg_progression(
    frame: _Frame,
    scan: list[_ScanEntry],
    ss: int,
    se: int,
    ah: int,
    al: int,
) -> None:
    if ss == 0:
        if se != 0:
            raise _fail("jpeg: progressive DC scan includes AC coefficients")
    elif se < ss or se > 63 or len(scan) != 1:
        raise _fail("jpeg: bad progressive AC scan", f"{ss}-{se}, {len(scan)} components")
    if (ah and al != ah - 1) or al > 13:
        raise _fail("jpeg: bad successive approximation", f"{ah}/{al}")
    for component, _dc, _ac in scan:
        if not component.nonzero:
            component.nonzero = [0] * (component.padded_wide * component.padded_high)
        bits = component.coef_bits
        if ss and bits[0] < 0:
            raise _fail("jpeg: AC scan before the DC scan of a component")
        for k in range(ss, se + 1):
            expected = 0 if bits[k] < 0 else bits[k]
            if ah != expected or (ah == 0 and bits[k] >= 0):
                raise _fail("jpeg: progressive scans out of order", f"coef {k}: {ah}/{al}")
            bits[k] = al


Decoder = Callable[[_Bits, _Component, int, "_Table | None", "_Table | None", list[int]], None]


def _block_decoder(frame: _Frame, ss: int, se: int, ah: int, al: int) -> Decoder:
    if not frame.progressive:
        return _decode_sequential
    if ss == 0:
        return _decode_dc_first if ah == 0 else _decode_dc_refine
    return _make_ac_first(ss, se) if ah == 0 else _make_ac_refine(ss, se)


def _decode_sequential(
    bits: _Bits,
    component: _Component,
    block: int,
    dc: _Table | None,
    ac: _Table | None,
    eob: list[int],
) -> None:
    assert dc is not None and ac is not None
    size = bits.huff(dc)
    if size > 11:
        raise _fail("jpeg: DC difference category over 11")
    bits.bits(size)
    k = 1
    while k < 64:
        rs = bits.huff(ac)
        run, size = rs >> 4, rs & 15
        if size == 0:
            if run == 15:
                k += 16
                if k > 64:
                    raise _fail("jpeg: AC coefficients run past 63")
                continue
            if run:
                raise _fail("jpeg: undefined AC run/size symbol", f"0x{rs:02x}")
            break
        if size > 10:
            raise _fail("jpeg: AC coefficient category over 10")
        k += run
        if k > 63:
            raise _fail("jpeg: AC coefficients run past 63")
        bits.bits(size)
        k += 1


def _decode_dc_first(
    bits: _Bits,
    component: _Component,
    block: int,
    dc: _Table | None,
    ac: _Table | None,
    eob: list[int],
) -> None:
    assert dc is not None
    size = bits.huff(dc)
    if size > 11:
        raise _fail("jpeg: DC difference category over 11")
    bits.bits(size)


def _decode_dc_refine(
    bits: _Bits,
    component: _Component,
    block: int,
    dc: _Table | None,
    ac: _Table | None,
    eob: list[int],
) -> None:
    bits.bits(1)


def _make_ac_first(ss: int, se: int) -> Decoder:
    def decode(
        bits: _Bits,
        component: _Component,
        block: int,
        dc: _Table | None,
        ac: _Table | None,
        eob: list[int],
    ) -> None:
        assert ac is not None
        if eob[0]:
            eob[0] -= 1
            return
        mask = component.nonzero[block]
        k = ss
        while k <= se:
            rs = bits.huff(ac)
            run, size = rs >> 4, rs & 15
            if size:
                if size > 10:
                    raise _fail("jpeg: AC coefficient category over 10")
                k += run
                if k > se:
                    raise _fail("jpeg: AC coefficients run past the band")
                bits.bits(size)
                mask |= 1 << k
                k += 1
            elif run == 15:
                k += 16
                if k > se + 1:
                    raise _fail("jpeg: AC coefficients run past the band")
            else:
                eob[0] = (1 << run) + bits.bits(run) - 1
                break
        component.nonzero[block] = mask

    return decode


def _make_ac_refine(ss: int, se: int) -> Decoder:
    def decode(
        bits: _Bits,
        component: _Component,
        block: int,
        dc: _Table | None,
        ac: _Table | None,
        eob: list[int],
    ) -> None:
        assert ac is not None
        mask = component.nonzero[block]
        k = ss
        if not eob[0]:
            while k <= se:
                rs = bits.huff(ac)
                run, size = rs >> 4, rs & 15
                if size:
                    if size != 1:
                        raise _fail("jpeg: refinement coefficient of size over 1")
                    bits.bits(1)
                elif run != 15:
                    eob[0] = (1 << run) + bits.bits(run)
                    break
                while k <= se:
                    if mask >> k & 1:
                        bits.bits(1)
                    else:
                        if run == 0:
                            break
                        run -= 1
                    k += 1
                if size:
                    if k > se:
                        raise _fail("jpeg: refinement coefficient past the band")
                    mask |= 1 << k
                k += 1
        if eob[0]:
            while k <= se:
                if mask >> k & 1:
                    bits.bits(1)
                k += 1
            eob[0] -= 1
        component.nonzero[block] = mask

    return decode


# --------------------------------------------------------------------------------------
# GIF
# --------------------------------------------------------------------------------------


def _gif_subblocks(data: bytes, pos: int) -> tuple[bytes, int]:
    parts: list[bytes] = []
    n = len(data)
    while True:
        if pos >= n:
            raise _fail("gif: sub-blocks cut short (file truncated)")
        size = data[pos]
        pos += 1
        if not size:
            return b"".join(parts), pos
        if pos + size > n:
            raise _fail("gif: sub-blocks cut short (file truncated)")
        parts.append(data[pos : pos + size])
        pos += size


def _check_gif(data: bytes) -> tuple[int, int]:
    n = len(data)
    if n < 13:
        raise _fail("gif: header cut short (file truncated)")
    version89 = data[3:6] == b"89a"
    width, height, packed = struct.unpack_from("<HHB", data, 6)
    if not width or not height:
        raise _fail("gif: logical screen of zero size", f"{width}x{height}")
    pos = 13
    global_colours = 0
    if packed & 0x80:
        global_colours = 2 << (packed & 7)
        pos += 3 * global_colours
    frames = 0
    transparent = -1  # from the graphic control extension before the next frame
    while True:
        if pos >= n:
            raise _fail("gif: no trailer (file truncated)")
        kind = data[pos]
        if kind == 0x3B:
            if pos + 1 != n:
                raise _fail("gif: data after the trailer", f"{n - pos - 1} bytes")
            break
        if kind == 0x21:
            if not version89:
                raise _fail("gif: extension block in a GIF87a file")
            if pos + 2 >= n:
                raise _fail("gif: extension cut short (file truncated)")
            label = data[pos + 1]
            if label == 0xF9:
                if data[pos + 2] != 4 or pos + 7 >= n:
                    raise _fail("gif: graphic control extension is not 4 bytes")
                transparent = data[pos + 6] if data[pos + 3] & 1 else -1
            _, pos = _gif_subblocks(data, pos + 2)
            continue
        if kind != 0x2C:
            raise _fail("gif: unknown block type", f"0x{kind:02x} at {pos}")
        if pos + 10 > n:
            raise _fail("gif: image descriptor cut short (file truncated)")
        left, top, frame_width, frame_height, frame_packed = struct.unpack_from(
            "<HHHHB", data, pos + 1
        )
        pos += 10
        if not frame_width or not frame_height:
            raise _fail("gif: frame of zero size")
        if left + frame_width > width or top + frame_height > height:
            raise _fail(
                "gif: frame extends outside the logical screen",
                f"{frame_width}x{frame_height}+{left}+{top} in {width}x{height}",
            )
        colours = global_colours
        if frame_packed & 0x80:
            colours = 2 << (frame_packed & 7)
            pos += 3 * colours
        if not colours:
            raise _fail("gif: frame without a colour table")
        if pos >= n:
            raise _fail("gif: image data cut short (file truncated)")
        min_size = data[pos]
        if not 2 <= min_size <= 8:
            raise _fail("gif: LZW minimum code size out of range", str(min_size))
        lzw, pos = _gif_subblocks(data, pos + 1)
        _gif_lzw(lzw, min_size, frame_width * frame_height, colours, transparent)
        frames += 1
        transparent = -1
    if not frames:
        raise _fail("gif: no image")
    return width, height


def _gif_lzw(buf: bytes, min_size: int, pixels: int, colours: int, transparent: int) -> None:
    """Decode LZW codes just far enough to count pixels and check every code and index.

    An index past the colour table is allowed only as the frame's transparent index.
    """
    clear = 1 << min_size
    end = clear + 1
    size = min_size + 1
    next_code = end + 1
    lengths = [1] * clear + [0] * (4096 - clear)
    previous = -1
    count = 0
    acc = nbits = pos = 0
    n = len(buf)
    while True:
        while nbits < size:
            if pos >= n:
                if count < pixels:
                    raise _fail("gif: frame data ends early (truncated)", f"{count}/{pixels}")
                raise _fail("gif: LZW data has no end code")
            acc |= buf[pos] << nbits
            pos += 1
            nbits += 8
        code = acc & ((1 << size) - 1)
        acc >>= size
        nbits -= size
        if code == clear:
            size, next_code, previous = min_size + 1, end + 1, -1
            continue
        if code == end:
            break
        if colours <= code < clear and code != transparent:
            raise _fail("gif: pixel index beyond the colour table", f"{code} >= {colours}")
        if previous < 0:
            if code > end:
                raise _fail("gif: LZW code not yet defined", f"{code} first after clear")
            count += 1
        else:
            if code < next_code:
                length = lengths[code]
            elif code == next_code:
                length = lengths[previous] + 1
            else:
                raise _fail("gif: LZW code not yet defined", f"{code} > {next_code}")
            count += length
            if next_code < 4096:
                lengths[next_code] = lengths[previous] + 1
                next_code += 1
                if next_code == 1 << size and size < 12:
                    size += 1
        previous = code
        if count > pixels:
            raise _fail("gif: LZW data holds more pixels than the frame")
    if count < pixels:
        raise _fail("gif: frame data ends early (truncated)", f"{count}/{pixels}")
    if n - pos:
        raise _fail("gif: data after the LZW end code", f"{n - pos} bytes")


# --------------------------------------------------------------------------------------
# WebP
# --------------------------------------------------------------------------------------


def _webp_chunks(data: bytes, start: int, end: int) -> list[tuple[bytes, bytes]]:
    chunks = []
    pos = start
    while pos < end:
        if pos + 8 > end:
            raise _fail("webp: chunk header cut short (file truncated)")
        kind = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        if pos + 8 + size > end:
            raise _fail("webp: chunk runs past its container (truncated)", repr(kind))
        chunks.append((kind, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    if pos != end:
        raise _fail("webp: odd chunk padding runs past the container")
    return chunks


def _vp8(chunk: bytes) -> tuple[int, int]:
    if len(chunk) < 10:
        raise _fail("webp: VP8 chunk too short")
    tag = chunk[0] | chunk[1] << 8 | chunk[2] << 16
    if tag & 1:
        raise _fail("webp: VP8 frame is not a key frame")
    if (tag >> 1) & 7 > 3:
        raise _fail("webp: VP8 version over 3")
    if not (tag >> 4) & 1:
        raise _fail("webp: VP8 frame is not shown")
    if chunk[3:6] != b"\x9d\x01\x2a":
        raise _fail("webp: bad VP8 start code")
    if tag >> 5 > len(chunk) - 10:
        raise _fail("webp: VP8 first partition runs past the chunk")
    width, height = struct.unpack_from("<HH", chunk, 6)
    width, height = width & 0x3FFF, height & 0x3FFF
    if not width or not height:
        raise _fail("webp: VP8 frame of zero size")
    return width, height


def _vp8l(chunk: bytes) -> tuple[int, int]:
    if len(chunk) < 5:
        raise _fail("webp: VP8L chunk too short")
    if chunk[0] != 0x2F:
        raise _fail("webp: bad VP8L signature")
    value = int.from_bytes(chunk[1:5], "little")
    if value >> 29:
        raise _fail("webp: VP8L version is not 0")
    return (value & 0x3FFF) + 1, ((value >> 14) & 0x3FFF) + 1


def _webp_image(chunks: list[tuple[bytes, bytes]], where: str) -> tuple[int, int]:
    """The size of one still image: optional ALPH, then exactly one VP8 or VP8L."""
    kinds = [kind for kind, _ in chunks if kind in (b"ALPH", b"VP8 ", b"VP8L")]
    if kinds not in ([b"VP8 "], [b"VP8L"], [b"ALPH", b"VP8 "]):
        raise _fail("webp: image chunks are not [ALPH] VP8 or VP8L", f"{where}: {kinds}")
    for kind, body in chunks:
        if kind == b"ALPH":
            if not body:
                raise _fail("webp: empty ALPH chunk")
            if body[0] & 3 > 1 or body[0] >> 4 & 3 > 1 or body[0] >> 6:
                raise _fail("webp: bad ALPH header", f"0x{body[0]:02x}")
        elif kind == b"VP8 ":
            return _vp8(body)
        elif kind == b"VP8L":
            return _vp8l(body)
    raise AssertionError("unreachable")  # pragma: no cover


def _check_webp(data: bytes) -> tuple[int, int]:
    if len(data) < 20:
        raise _fail("webp: file too short")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    if riff_size + 8 != len(data):
        raise _fail(
            "webp: RIFF size differs from the file length", f"{riff_size + 8} != {len(data)}"
        )
    chunks = _webp_chunks(data, 12, len(data))
    first = chunks[0][0]
    if first in (b"VP8 ", b"VP8L"):
        if len(chunks) != 1:
            raise _fail("webp: simple file with more than one chunk")
        return _webp_image(chunks, "simple")
    if first != b"VP8X":
        raise _fail("webp: first chunk is not VP8, VP8L or VP8X", repr(first))
    header = chunks[0][1]
    if len(header) != 10:
        raise _fail("webp: VP8X chunk is not 10 bytes")
    flags = header[0]
    width = 1 + int.from_bytes(header[4:7], "little")
    height = 1 + int.from_bytes(header[7:10], "little")
    kinds = [kind for kind, _ in chunks[1:]]
    for bit, kind in ((0x20, b"ICCP"), (0x08, b"EXIF"), (0x04, b"XMP "), (0x02, b"ANIM")):
        if bool(flags & bit) != (kind in kinds):
            raise _fail("webp: VP8X flags disagree with the chunks", kind.decode("latin-1"))
        if kinds.count(kind) > 1:
            raise _fail("webp: duplicate chunk", kind.decode("latin-1"))
    if b"ICCP" in kinds and kinds[0] != b"ICCP":
        raise _fail("webp: ICCP chunk is not right after VP8X")
    if flags & 0x02:
        frames = [body for kind, body in chunks if kind == b"ANMF"]
        if not frames:
            raise _fail("webp: animation without frames")
        if any(kind in (b"VP8 ", b"VP8L", b"ALPH") for kind in kinds):
            raise _fail("webp: image chunk outside ANMF in an animation")
        for body in frames:
            if len(body) < 16:
                raise _fail("webp: ANMF chunk too short")
            x = 2 * int.from_bytes(body[0:3], "little")
            y = 2 * int.from_bytes(body[3:6], "little")
            frame_width = 1 + int.from_bytes(body[6:9], "little")
            frame_height = 1 + int.from_bytes(body[9:12], "little")
            if x + frame_width > width or y + frame_height > height:
                raise _fail("webp: animation frame outside the canvas")
            inner = _webp_chunks(body, 16, len(body))
            if _webp_image(inner, "ANMF") != (frame_width, frame_height):
                raise _fail("webp: frame bitstream size differs from ANMF")
        return width, height
    if b"ANMF" in kinds:
        raise _fail("webp: ANMF chunk in a still image")
    if _webp_image(chunks[1:], "VP8X") != (width, height):
        raise _fail("webp: bitstream size differs from the VP8X canvas")
    return width, height


# --------------------------------------------------------------------------------------
# The fuzzing corpus: seeds
# --------------------------------------------------------------------------------------


def picture(width: int, height: int, seed: int = 0) -> Image.Image:
    """A deterministic RGB picture: gradients, a few shapes, and mild noise."""
    rng = random.Random(seed)
    base = Image.linear_gradient("L").resize((width, height))
    other = Image.radial_gradient("L").resize((width, height))
    noise = Image.frombytes("L", (width, height), rng.randbytes(width * height))
    noise = noise.point(lambda v: v // 10)
    red = ImageChops.add(base, noise)
    blue = ImageChops.subtract(base.transpose(Image.Transpose.FLIP_LEFT_RIGHT), noise)
    image = Image.merge("RGB", (red, other, blue))
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 8, height // 6, width // 3, height // 2), fill=(250, 40, 30))
    if width > 16 and height > 16:
        box = (width // 2, height // 3, width - 4, height - 4)
        draw.ellipse(box, outline=(10, 10, 200), width=3)
    return image


def encode_png(
    width: int,
    height: int,
    colour_type: int,
    depth: int,
    samples: bytes,
    *,
    interlace: bool = False,
    idat_chunks: int = 2,
) -> bytes:
    """A PNG written by hand (Pillow writes neither Adam7 nor 16-bit colour).

    ``samples`` are the pixels row by row, big-endian for 16-bit; depth is 8 or 16.
    Scanlines alternate filter types None and Sub.
    """
    pixel = _PNG_CHANNELS[colour_type] * depth // 8
    stride = width * pixel
    raw = bytearray()
    passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
    line = 0
    for x0, y0, dx, dy in passes:
        if width <= x0 or height <= y0:
            continue
        for y in range(y0, height, dy):
            row = bytearray()
            for x in range(x0, width, dx):
                row += samples[y * stride + x * pixel : y * stride + (x + 1) * pixel]
            if line % 2:
                filtered = bytearray(row[:pixel])
                filtered += bytes((row[i] - row[i - pixel]) & 0xFF for i in range(pixel, len(row)))
                raw += b"\x01" + filtered
            else:
                raw += b"\x00" + row
            line += 1
    compressed = zlib.compress(bytes(raw), 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, int(interlace))
    step = -(-len(compressed) // idat_chunks)
    idats = b"".join(
        chunk(b"IDAT", compressed[i : i + step]) for i in range(0, len(compressed), step)
    )
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + idats + chunk(b"IEND", b"")


def _save(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _sixteen_bit(image: Image.Image) -> bytes:
    """Big-endian 16-bit samples of an 8-bit image, with the low byte varied."""
    out = bytearray()
    for index, value in enumerate(image.tobytes()):
        out += bytes((value, (value * 7 + index) & 0xFF))
    return bytes(out)


def _heic(image: Image.Image) -> bytes:
    import pillow_heif  # the heif extra; encoding needs no opener registered

    buffer = io.BytesIO()
    pillow_heif.from_pillow(image).save(buffer, quality=50)
    return buffer.getvalue()


def _seed_factories() -> dict[str, Callable[[], bytes]]:
    def exif(orientation: int) -> Image.Exif:
        value = Image.Exif()
        value[0x0112] = orientation
        return value

    def frames(width: int, height: int, count: int) -> list[Image.Image]:
        return [picture(width, height, seed=i).rotate(25 * i) for i in range(count)]

    rgb = picture(150, 101)
    small = picture(96, 64, seed=3)
    rgba = picture(120, 90, seed=1).convert("RGBA")
    rgba.putalpha(Image.radial_gradient("L").resize((120, 90)))
    palette = picture(128, 96, seed=2).quantize(64)
    gif_frames = [f.quantize(32) for f in frames(96, 64, 3)]
    return {
        "png-rgb": lambda: _save(rgb, "PNG"),
        "png-rgba": lambda: _save(rgba, "PNG"),
        "png-palette": lambda: _save(palette, "PNG", transparency=0),
        "png-gray16": lambda: _save(picture(100, 80, 4).convert("L").convert("I;16"), "PNG"),
        "png-interlaced": lambda: encode_png(
            97, 61, 2, 8, picture(97, 61, 5).tobytes(), interlace=True
        ),
        "png-rgba16": lambda: encode_png(
            64, 48, 6, 16, _sixteen_bit(picture(64, 48, 6).convert("RGBA"))
        ),
        "jpeg-baseline": lambda: _save(rgb, "JPEG", quality=85),
        "jpeg-gray": lambda: _save(small.convert("L"), "JPEG", quality=80),
        "jpeg-progressive": lambda: _save(rgb, "JPEG", quality=80, progressive=True),
        "jpeg-exif-rotated": lambda: _save(small, "JPEG", quality=80, exif=exif(6)),
        "jpeg-444-restart": lambda: _save(
            small, "JPEG", quality=75, subsampling=0, restart_marker_blocks=4
        ),
        "jpeg-cmyk": lambda: _save(small.convert("CMYK"), "JPEG", quality=75),
        "webp-lossy": lambda: _save(rgb, "WEBP", quality=70),
        "webp-lossless": lambda: _save(small, "WEBP", lossless=True),
        "webp-alpha": lambda: _save(rgba, "WEBP", quality=70),
        "webp-animated": lambda: _save(
            frames(64, 48, 3)[0],
            "WEBP",
            save_all=True,
            append_images=frames(64, 48, 3)[1:],
            duration=100,
            quality=60,
        ),
        "gif-still": lambda: _save(palette, "GIF", transparency=0),
        "gif-animated": lambda: _save(
            gif_frames[0], "GIF", save_all=True, append_images=gif_frames[1:], duration=80, loop=0
        ),
        "tiff": lambda: _save(small, "TIFF", compression="tiff_lzw"),
        "bmp": lambda: _save(picture(64, 48, 7), "BMP"),
        "ico-png": lambda: _save(picture(48, 48, 8), "ICO", sizes=[(48, 48)]),
        "ico-bmp": lambda: _save(picture(32, 32, 9), "ICO", sizes=[(32, 32)], bitmap_format="bmp"),
        "avif": lambda: _save(small, "AVIF", quality=50),
        "heic": lambda: _heic(small),
    }


SEED_NAMES: tuple[str, ...] = tuple(_seed_factories())
"""Every seed, named ``format-variant``; the part before the dash is the family."""


@functools.lru_cache(maxsize=1)
def seeds() -> Mapping[str, bytes]:
    """The seed images, made once per process (deterministic, a few KB each)."""
    return {name: make() for name, make in _seed_factories().items()}


def family(seed_name: str) -> str:
    """``'png'`` for ``'png-rgba16'``: the seed's format."""
    return seed_name.split("-", 1)[0]


# --------------------------------------------------------------------------------------
# The fuzzing corpus: mutations
# --------------------------------------------------------------------------------------

MUTATION_KINDS = ("bitflip", "overwrite", "truncate", "splice", "duplicate", "delete", "insert")
_INTERESTING = (
    b"\x00",
    b"\xff",
    b"\x7f",
    b"\x80",
    b"\x00\x00",
    b"\xff\xff",
    b"\x7f\xff",
    b"\x80\x00",
    b"\x00\x00\x00\x00",
    b"\xff\xff\xff\xff",
    b"\x7f\xff\xff\xff",
    b"\x00\x00\x00\x01",
    b"\x01\x00\x00\x00",
    b"\xff\xd9",
    b"\xff\xda",
    b"IEND",
    b"IDAT",
    b"\x3b",
    b"\x2c",
)

IntDraw = Callable[[int, int], int]
"""``draw(low, high)``: an integer in ``[low, high]``."""
BytesDraw = Callable[[int], bytes]
"""``draw(count)``: that many bytes."""


@dataclass(frozen=True)
class Mutation:
    """One change to a seed; ``apply`` is deterministic."""

    kind: str
    positions: tuple[int, ...] = ()  # bit indexes for bitflip, byte offsets otherwise
    length: int = 0
    junk: bytes = b""
    other: str = ""  # the seed spliced in

    def apply(self, data: bytes, corpus: Mapping[str, bytes]) -> bytes:
        if self.kind == "bitflip":
            out = bytearray(data)
            for bit in self.positions:
                out[bit // 8] ^= 0x80 >> (bit % 8)
            return bytes(out)
        at = self.positions[0]
        if self.kind == "overwrite":
            return data[:at] + self.junk[: max(0, len(data) - at)] + data[at + len(self.junk) :]
        if self.kind == "truncate":
            return data[:at]
        if self.kind == "splice":
            return data[:at] + corpus[self.other][self.positions[1] :]
        if self.kind == "duplicate":
            end = at + self.length
            return data[:end] + data[at:end] + data[end:]
        if self.kind == "delete":
            return data[:at] + data[at + self.length :]
        if self.kind == "insert":
            return data[:at] + self.junk + data[at:]
        raise ValueError(f"unknown mutation {self.kind!r}")

    def describe(self) -> str:
        parts = [self.kind]
        if self.kind == "bitflip":
            parts.append("bits " + ",".join(f"{b // 8}.{b % 8}" for b in self.positions))
        elif self.positions:
            parts.append("at " + ",".join(str(p) for p in self.positions))
        if self.length:
            parts.append(f"length {self.length}")
        if self.junk:
            parts.append(f"bytes {self.junk[:16].hex()}")
        if self.other:
            parts.append(f"with {self.other}")
        return " ".join(parts)


def _offset(draw: IntDraw, n: int) -> int:
    """A byte offset in ``[0, n)``, biased to the headers and the trailer."""
    region = draw(0, 3)
    if region == 0:
        return draw(0, min(n, 64) - 1)
    if region == 1:
        return draw(max(0, n - 32), n - 1)
    return draw(0, n - 1)


def draw_mutation(
    draw: IntDraw,
    draw_bytes: BytesDraw,
    seed_name: str,
    corpus: Mapping[str, bytes],
    kind: str | None = None,
) -> Mutation:
    """A mutation of seed ``seed_name`` from any source of integers and bytes."""
    n = len(corpus[seed_name])
    if kind is None:
        kind = MUTATION_KINDS[draw(0, len(MUTATION_KINDS) - 1)]

    def junk(most: int) -> bytes:
        if draw(0, 2) == 0:
            return _INTERESTING[draw(0, len(_INTERESTING) - 1)]
        return draw_bytes(draw(1, most))

    if kind == "bitflip":
        flips = draw(1, 8)
        first = _offset(draw, n)
        # Clustered flips damage one structure; spread ones damage several.
        spread = draw(0, 1)
        bits = [
            (first * 8 + draw(0, 7))
            if i == 0
            else (draw(0, 8 * n - 1) if spread else min(8 * n - 1, first * 8 + draw(0, 63)))
            for i in range(flips)
        ]
        return Mutation(kind, tuple(bits))
    if kind == "overwrite":
        return Mutation(kind, (_offset(draw, n),), junk=junk(16))
    if kind == "truncate":
        return Mutation(kind, (_offset(draw, n),))
    if kind == "splice":
        names = sorted(corpus)
        other = names[draw(0, len(names) - 1)]
        return Mutation(kind, (_offset(draw, n), _offset(draw, len(corpus[other]))), other=other)
    if kind in ("duplicate", "delete"):
        at = _offset(draw, n)
        return Mutation(kind, (at,), length=draw(1, max(1, min(n - at, 256))))
    if kind == "insert":
        return Mutation(kind, (draw(0, n),), junk=junk(64))
    raise ValueError(f"unknown mutation kind {kind!r}")


def random_mutation(rng: random.Random, seed_name: str, corpus: Mapping[str, bytes]) -> Mutation:
    """:func:`draw_mutation` from a ``random.Random``."""
    return draw_mutation(rng.randint, rng.randbytes, seed_name, corpus)
