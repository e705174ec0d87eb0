"""Builders of hostile inputs (issue 9): each made in-process, small, deterministic, fast.

Nothing here downloads anything or reads a stored sample. The "huge" inputs are cheap:
header fields that declare a size the data does not hold, a highly compressible PNG
built row by row, a sparse file made with ``truncate``, a stream that never ends.

Where a format cannot be written by Pillow (PSD, DDS, ICNS, EPS) it is written here
with ``struct``; where a damaged file is needed, a valid one is written first and one
field is patched, so that what is damaged is exactly one thing.
"""

from __future__ import annotations

import base64
import io
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image

import claudevision as cv

STANDARD = "claude-sonnet-4-6"
"""A standard-tier model (1568 px): the model the builders' sizes are chosen for."""
HIGH = "claude-opus-4-8"

RED = (220, 20, 20)
BLUE = (20, 20, 220)
WHITE = (255, 255, 255)


def new_api(name: str) -> Any:
    """``claudevision.<name>``, a name issue 9 adds; a clear failure while it is missing."""
    if not hasattr(cv, name):
        import pytest

        pytest.fail(f"claudevision.{name} does not exist yet (issue 9 asks for it)")
    return getattr(cv, name)


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def solid(color: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> Image.Image:
    return Image.new("RGB", size, color)


def marked_picture(width: int = 40, height: int = 24) -> Image.Image:
    """White, a red block in the top-left corner and a blue one in the top-right.

    Two markers tell all eight orientations apart (with the size, for the transposes).
    """
    image = Image.new("RGB", (width, height), WHITE)
    image.paste(RED, (0, 0, width // 4, height // 4))
    image.paste(BLUE, (width - width // 4, 0, width, height // 4))
    return image


def noisy_picture(width: int, height: int, seed: int = 9) -> Image.Image:
    """Deterministic noise: an image whose size depends strongly on the encoder quality."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


# -- PNG, GIF, WebP, TIFF internals -------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_from_parts(
    width: int, height: int, *, depth: int, color: int, idat: bytes, plte: bytes = b""
) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + (png_chunk(b"PLTE", plte) if plte else b"")
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def gif_blocks(data: bytes) -> Iterator[tuple[str, int]]:
    """Walk a GIF: ``("extension", offset)``, ``("image", offset)``, ``("trailer", offset)``."""
    packed = data[10]
    i = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
    while i < len(data):
        kind = data[i]
        if kind == 0x3B:
            yield "trailer", i
            return
        if kind == 0x21:
            yield "extension", i
            i += 2
        elif kind == 0x2C:
            yield "image", i
            flags = data[i + 9]
            i += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0) + 1  # + LZW code size
        else:
            raise ValueError(f"not a GIF block at {i}: {kind:#x}")
        while data[i]:  # data sub-blocks
            i += 1 + data[i]
        i += 1


def two_frame_gif() -> bytes:
    """A red frame then a blue frame, 8x8, palette."""
    frames = []
    for index in (0, 1):
        frame = Image.new("P", (8, 8), index)
        frame.putpalette([*RED, *BLUE] * 128)
        frames.append(frame)
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def _tiff_entries(data: bytes | bytearray, ifd: int) -> dict[int, int]:
    """Tag -> offset of its 12-byte entry, in a little-endian TIFF's IFD at ``ifd``."""
    (count,) = struct.unpack_from("<H", data, ifd)
    entries = {}
    for i in range(count):
        offset = ifd + 2 + 12 * i
        entries[struct.unpack_from("<H", data, offset)[0]] = offset
    return entries


def _tiff_ifds(data: bytes | bytearray) -> list[int]:
    assert data[:4] == b"II*\x00", "Pillow writes little-endian TIFFs"
    ifds = []
    (ifd,) = struct.unpack_from("<I", data, 4)
    while ifd:
        ifds.append(ifd)
        (count,) = struct.unpack_from("<H", data, ifd)
        (ifd,) = struct.unpack_from("<I", data, ifd + 2 + 12 * count)
    return ifds


def _set_short(data: bytearray, entry: int, value: int) -> None:
    assert struct.unpack_from("<H", data, entry + 2)[0] == 3, "a SHORT tag"
    struct.pack_into("<H", data, entry + 8, value)


# -- crashes instead of claudevision errors ------------------------------------------------

DamagedTiff = Literal["bad-entry-types", "unknown-compression", "unknown-photometric"]


def damaged_multiframe_tiff(kind: DamagedTiff) -> bytes:
    """Two 8x8 pages, page 1 red and intact, page 2's IFD damaged.

    ``bad-entry-types``: every entry has field type 99 (Pillow: TypeError, "Missing
    dimensions"); ``unknown-compression``: compression 60000 (KeyError);
    ``unknown-photometric``: photometric 99 (SyntaxError, "unknown pixel mode").
    """
    data = bytearray(
        encode(solid(RED, (8, 8)), "TIFF", save_all=True, append_images=[solid(BLUE, (8, 8))])
    )
    second = _tiff_ifds(data)[1]
    entries = _tiff_entries(data, second)
    if kind == "bad-entry-types":
        for entry in entries.values():
            struct.pack_into("<H", data, entry + 2, 99)
    elif kind == "unknown-compression":
        _set_short(data, entries[259], 60000)
    else:
        _set_short(data, entries[262], 99)
    return bytes(data)


DamagedGif = Literal["missing-local-palette", "truncated-extension", "truncated-descriptor"]


def damaged_multiframe_gif(kind: DamagedGif) -> bytes:
    """Two 8x8 frames, frame 1 red and intact, frame 2 damaged.

    ``missing-local-palette``: frame 2 says a 256-colour local palette follows and none
    does (IndexError); ``truncated-extension``: the file ends inside frame 2's graphic
    control extension (IndexError); ``truncated-descriptor``: it ends inside frame 2's
    image descriptor (struct.error).
    """
    data = two_frame_gif()
    blocks = list(gif_blocks(data))
    images = [offset for name, offset in blocks if name == "image"]
    extensions = [offset for name, offset in blocks if name == "extension"]
    second_image = images[1]
    second_extension = max(offset for offset in extensions if offset < second_image)
    if kind == "missing-local-palette":
        patched = bytearray(data)
        patched[second_image + 9] = 0x87
        return bytes(patched)
    if kind == "truncated-extension":
        return data[: second_extension + 3]
    return data[: second_image + 5]


def damaged_avif() -> bytes:
    """A 64x48 AVIF whose coded data (the ``mdat`` payload) is zeroed: RuntimeError."""
    data = encode(solid(RED), "AVIF", quality=50)
    mdat = data.index(b"mdat") + 4
    return data[:mdat] + bytes(len(data) - mdat)


def heic(image: Image.Image, **options: Any) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return encode(image, "HEIF", **options)


def damaged_heic() -> bytes:
    """A 64x48 HEIC whose SPS declares a nonsense picture size.

    The first byte of the size fields of the HEVC sequence parameter set (in the
    ``hvcC`` box) is zeroed, so the Exp-Golomb codes read a huge height; libheif then
    fails the decode with "Security limit exceeded", which pillow-heif raises as
    RuntimeError. The 20-byte offset is the size fields' place in x265's SPS for one
    sub-layer (NAL header 2, VPS id 1, profile-tier-level 12, emulation-prevention 3,
    SPS id + chroma format 2).
    """
    data = bytearray(heic(solid(RED), quality=50))
    box = data.index(b"hvcC") + 4
    i = box + 23  # past the 23-byte configuration record header, at numOfArrays - 1
    arrays = data[i - 1]
    sps = None
    for _ in range(arrays):
        nal_type = data[i] & 0x3F
        (count,) = struct.unpack_from(">H", data, i + 1)
        i += 3
        for _ in range(count):
            (length,) = struct.unpack_from(">H", data, i)
            if nal_type == 33 and sps is None:
                sps = i + 2
            i += 2 + length
    assert sps is not None, "x265 always writes an SPS in hvcC"
    data[sps + 20] = 0
    return bytes(data)


def psd(*, layers: int = 2, damaged: bool = False, size: tuple[int, int] = (8, 8)) -> bytes:
    """A PSD (RGB, 8-bit) whose composite image is red, with ``layers`` empty layers.

    With ``layers >= 2`` Pillow counts the layers as frames, starting at 1, and
    ``seek(0)`` raises EOFError. ``damaged`` declares ``layers`` layers in a layer block
    too short for them (SyntaxError while counting frames); the composite stays intact.
    """
    width, height = size
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, height, width, 8, 3)
    record = (
        struct.pack(">iiii", 0, 0, height, width)
        + struct.pack(">H", 0)  # no channels
        + b"8BIMnorm"
        + bytes([255, 0, 0, 0])
        + struct.pack(">I", 0)  # no extra data
    )
    info = struct.pack(">h", layers) + (record[:10] if damaged else record * layers)
    layer_section = struct.pack(">I", len(info)) + info
    body = (
        struct.pack(">I", 0)  # colour mode data
        + struct.pack(">I", 0)  # image resources
        + struct.pack(">I", len(layer_section))
        + layer_section
    )
    pixels = b"".join(bytes([value]) * (width * height) for value in RED)
    return header + body + struct.pack(">H", 0) + pixels


def dds_unsupported_pixel_format() -> bytes:
    """A 4x4 DDS whose FourCC pixel format is ``ABCD``: Pillow raises NotImplementedError."""
    caps = 0x1000  # DDSCAPS_TEXTURE
    flags = 0x1 | 0x2 | 0x4 | 0x1000  # caps, height, width, pixel format
    header = (
        struct.pack("<7I", 124, flags, 4, 4, 0, 0, 0)
        + bytes(44)
        + struct.pack("<4I", 32, 0x4, int.from_bytes(b"ABCD", "little"), 0)
        + bytes(16)
        + struct.pack("<5I", caps, 0, 0, 0, 0)
    )
    assert len(header) == 124
    return b"DDS " + header + bytes(64)


def icns_bomb() -> bytes:
    """An ICNS with one 1024x1024 (``ic10``) entry whose PNG declares 20000x20000.

    The container says 1024x1024, so size checks pass at open; on load Pillow raises
    DecompressionBombError.
    """
    inner = png_from_parts(20000, 20000, depth=1, color=0, idat=zlib.compress(b""))
    entry = b"ic10" + struct.pack(">I", 8 + len(inner)) + inner
    return b"icns" + struct.pack(">I", 8 + len(entry)) + entry


def zero_height_png(width: int = 16) -> bytes:
    """A PNG header declaring ``width`` x 0 (RGB, 8-bit), with an empty IDAT."""
    return png_from_parts(width, 0, depth=8, color=2, idat=zlib.compress(b""))


def zero_height_gif() -> bytes:
    """A 16x16 GIF patched to declare a height of 0 (screen and image descriptor)."""
    data = bytearray(encode(Image.new("P", (16, 16)), "GIF"))
    struct.pack_into("<H", data, 8, 0)
    image = next(offset for name, offset in gif_blocks(bytes(data)) if name == "image")
    struct.pack_into("<H", data, image + 7, 0)
    return bytes(data)


def zero_height_webp() -> bytes:
    """A lossy 16x16 WebP whose VP8 frame header is patched to a height of 0."""
    data = bytearray(encode(solid(RED, (16, 16)), "WEBP", quality=80))
    assert data[12:16] == b"VP8 "
    struct.pack_into("<H", data, 28, 0)  # 14-bit height, scale bits 0
    return bytes(data)


def truncated_webp() -> bytes:
    """The first 22 bytes of a lossless WebP: the VP8L size fields are cut off."""
    data = encode(solid(RED, (16, 16)), "WEBP", lossless=True)
    assert data[12:16] == b"VP8L"
    return data[:22]


def non_ascii_data_url(*, insert: bool) -> str:
    """A PNG data URL with a ``ü`` where the first base64 character is (or before it)."""
    payload = base64.b64encode(encode(solid(RED, (8, 8)), "PNG")).decode()
    rest = payload if insert else payload[1:]
    return "data:image/png;base64,ü" + rest


def long_base64_with_bad_char() -> tuple[str, str, int]:
    """Base64 of a ~10 KB PNG (no padding) with one ``!`` inserted in the middle.

    Returns the text, the bad character and its position. The insertion makes the length
    1 more than a multiple of 4, which is what a length check sees first.
    """
    data = encode(noisy_picture(48, 48), "PNG")
    data = data[: len(data) - len(data) % 3]  # no padding: the length is a multiple of 4
    text = base64.b64encode(data).decode()
    middle = len(text) // 2
    return text[:middle] + "!" + text[middle:], "!", middle


# -- wrong pictures, silently ----------------------------------------------------------


def tiff_with_orientation(orientation: int = 6) -> tuple[bytes, Image.Image]:
    """A 40x24 marked picture stored with an EXIF orientation tag, and how it must look."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = marked_picture()
    upright = {
        3: Image.Transpose.ROTATE_180,
        6: Image.Transpose.ROTATE_270,
        8: Image.Transpose.ROTATE_90,
    }[orientation]
    return encode(stored, "TIFF", exif=exif), stored.transpose(upright)


def float_image(low: float, high: float, size: tuple[int, int] = (64, 16)) -> Image.Image:
    """Mode F, a left-to-right ramp from ``low`` to ``high``."""
    width, height = size
    ramp = np.linspace(low, high, width, dtype=np.float32)
    return Image.fromarray(np.tile(ramp, (height, 1)))


def float_tiff(low: float, high: float) -> bytes:
    """A 32-bit float grayscale TIFF (SampleFormat 3), a ramp from ``low`` to ``high``."""
    image = float_image(low, high)
    assert image.mode == "F"
    return encode(image, "TIFF")


def twelve_bit_in_sixteen(fmt: Literal["PNG", "TIFF"], size: tuple[int, int] = (64, 16)) -> bytes:
    """A 16-bit grayscale PNG or TIFF holding 12-bit data: a ramp from 0 to 4095."""
    width, height = size
    ramp = np.linspace(0, 4095, width).round().astype(np.uint16)
    image = Image.fromarray(np.tile(ramp, (height, 1)))
    assert image.mode == "I;16"
    return encode(image, fmt)


def multi_image_heic() -> bytes:
    """A HEIC of two images: the first red, the second blue and marked primary."""
    import pillow_heif

    heif = pillow_heif.from_pillow(solid(RED))
    heif.add_from_pillow(solid(BLUE))
    buffer = io.BytesIO()
    heif.save(buffer, quality=60, primary_index=1)
    return buffer.getvalue()


def heif_10bit() -> bytes:
    """A 10-bit HEIF (brand ``heix``, as libheif writes high bit depth): a grey ramp."""
    import pillow_heif

    ramp = np.linspace(0, 65535, 64).round().astype(np.uint16)
    plane = np.tile(ramp, (48, 1))
    rgb = np.dstack([plane, plane, plane])
    heif = pillow_heif.from_bytes(mode="RGB;16", size=(64, 48), data=rgb.tobytes())
    buffer = io.BytesIO()
    heif.save(buffer, quality=60)
    return buffer.getvalue()


def mpo() -> bytes:
    """A two-picture MPO (stereo JPEG): picture 1 red, picture 2 blue, 64x48."""
    return encode(solid(RED), "MPO", save_all=True, append_images=[solid(BLUE)])


def bmp_over_bomb_warning() -> bytes:
    """A 1-bit BMP header declaring just over Pillow's DecompressionBombWarning threshold.

    Only the header: 10000 x (MAX_IMAGE_PIXELS // 10000 + 1), below twice the threshold,
    so Pillow warns (and does not raise) on open.
    """
    width = 10000
    height = Image.MAX_IMAGE_PIXELS // width + 1 if Image.MAX_IMAGE_PIXELS else 9000
    row = (width + 31) // 32 * 4
    palette = b"\x00\x00\x00\x00\xff\xff\xff\x00"
    offset = 14 + 40 + len(palette)
    dib = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 1, 0, row * height, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", offset + row * height, 0, 0, offset) + dib + palette


def palette_png_with_bytes_transparency() -> bytes:
    """A 3000x40 palette PNG whose tRNS holds several alphas (transparency as bytes).

    Wider than the standard tier, so it is converted and resized.
    """
    image = Image.new("P", (3000, 40))
    image.putpalette([0, 0, 0, *RED, 0, 200, 0, *BLUE] + [0] * (768 - 12))
    image.putdata([(x // 10) % 4 for x in range(3000)] * 40)
    return encode(image, "PNG", transparency=bytes([0, 128, 255, 255]))


def jpeg_with_truncated_exif() -> bytes:
    """A 64x64 JPEG whose EXIF IFD0 declares 5 entries and holds 1 (orientation 6).

    Pillow warns "Corrupt EXIF data" when it reads the EXIF.
    """
    exif = (
        b"Exif\x00\x00II*\x00"
        + struct.pack("<I", 8)
        + struct.pack("<H", 5)
        + struct.pack("<HHII", 0x0112, 3, 1, 6)
    )
    return encode(solid(RED, (64, 64)), "JPEG", exif=exif)


# -- misleading errors ---------------------------------------------------------------


def eps() -> bytes:
    """A minimal EPS (a diagonal line); Pillow needs Ghostscript to rasterize it."""
    return (
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 16 16\n%%EndComments\n"
        b"newpath 0 0 moveto 16 16 lineto stroke\nshowpage\n%%EOF\n"
    )


def tiff_unsupported_compression(compression: int = 50001) -> bytes:
    """An 8x8 RGB TIFF whose compression tag says WebP (50001), a codec libtiff may lack.

    The strip holds raw samples; the point is the compression the decoder does not have.
    """
    data = bytearray(encode(solid(RED, (8, 8)), "TIFF"))
    entries = _tiff_entries(data, _tiff_ifds(data)[0])
    _set_short(data, entries[259], compression)
    return bytes(data)


def libtiff_has_webp() -> bool:
    try:
        encode(solid(RED, (8, 8)), "TIFF", compression="webp")
    except OSError:
        return False
    return True


XML_PLIST = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
    b'"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
    b'<plist version="1.0"><dict><key>a</key><string>b</string></dict></plist>\n'
)
XHTML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title></head>'
    b"<body><p>hello</p></body></html>\n"
)


# -- inputs used up or changed -------------------------------------------------------


def jpeg_for_draft(path: Path, size: tuple[int, int] = (1280, 960)) -> Path:
    """A JPEG large enough that ``draft()`` decodes it at 1/4 scale for ``max_side=320``.

    A gradient with a red block in the top-left sixteenth, so scale and orientation show.
    """
    width, height = size
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.paste(RED, (0, 0, width // 8, height // 8))
    image.save(path, "JPEG", quality=90)
    return path


def three_frame_gif(path: Path) -> Path:
    """A 40x30 GIF of three solid frames: red, green, blue."""
    frames = []
    for index in range(3):
        frame = Image.new("P", (40, 30), index)
        frame.putpalette([*RED, 0, 200, 0, *BLUE] + [0] * (768 - 9))
        frames.append(frame)
    frames[0].save(path, "GIF", save_all=True, append_images=frames[1:], duration=100)
    return path


def three_page_tiff(path: Path) -> Path:
    """A 40x30 RGB TIFF of three pages: red, green, blue."""
    pages = [solid(color, (40, 30)) for color in (RED, (0, 200, 0), BLUE)]
    pages[0].save(path, "TIFF", save_all=True, append_images=pages[1:])
    return path


# -- unbounded work ------------------------------------------------------------------


def many_page_tiff(pages: int) -> bytes:
    """A TIFF of ``pages`` 1x1 grey pages, all sharing one strip: ~106 bytes a page."""
    entries = [
        (256, 3, 1, 1),  # width
        (257, 3, 1, 1),  # height
        (258, 3, 1, 8),  # bits per sample
        (259, 3, 1, 1),  # no compression
        (262, 3, 1, 1),  # min-is-black
        (273, 4, 1, 8),  # the strip, at offset 8
        (278, 3, 1, 1),  # rows per strip
        (279, 4, 1, 1),  # strip byte count
    ]
    body = b"".join(struct.pack("<HHII", *entry) for entry in entries)
    ifd_size = 2 + len(body) + 4
    first = 16
    parts = [b"II*\x00", struct.pack("<I", first), b"\x80", bytes(7)]
    count = struct.pack("<H", len(entries))
    for page in range(pages):
        following = first + (page + 1) * ifd_size if page + 1 < pages else 0
        parts += [count, body, struct.pack("<I", following)]
    return b"".join(parts)


def png_bomb(width: int, height: int, *, palette: bool = True, seed: int = 0) -> bytes:
    """A 1-bit PNG of ``width`` x ``height`` zero pixels: kilobytes that decode to megapixels.

    ``palette`` makes it a palette image (Pillow decodes it as P, one byte a pixel);
    otherwise it is 1-bit greyscale. ``seed`` changes the palette so that several bombs
    differ in their bytes.
    """
    row = b"\x00" + bytes((width + 7) // 8)
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row * 64) for _ in range(height // 64)]
    parts += [compressor.compress(row * (height % 64)), compressor.flush()]
    plte = bytes([seed % 256, 0, 0, 255, 255, 255]) if palette else b""
    return png_from_parts(
        width, height, depth=1, color=3 if palette else 0, idat=b"".join(parts), plte=plte
    )


def sparse_file(path: Path, size: int = 2 * 1024**3) -> Path:
    """A file of ``size`` bytes that takes no disk space (a hole, made with truncate)."""
    with path.open("wb") as file:
        file.truncate(size)
    return path


def fifo(path: Path) -> Path:
    """A named pipe with no writer: opening it for reading blocks forever."""
    os.mkfifo(path)
    return path


class EndlessStream(io.RawIOBase):
    """A binary stream of zeros that never ends, counting what was read from it.

    ``read(n)`` gives ``n`` zeros; ``read()`` (to the end) never returns: it keeps
    producing a mebibyte at a time, as reading a socket or ``/dev/zero`` would.
    """

    def __init__(self) -> None:
        super().__init__()
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        view[:] = bytes(len(view))
        self.consumed += len(view)
        return len(view)

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size >= 0:
            self.consumed += size
            return bytes(size)
        chunks = []
        while True:  # the end never comes
            chunks.append(bytes(1 << 20))
            self.consumed += 1 << 20

    def readall(self) -> bytes:
        return self.read()
