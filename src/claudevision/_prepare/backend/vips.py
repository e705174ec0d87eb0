"""The libvips backend: PNG and WebP decoded in a stream and shrunk on the way.

``thumbnail_buffer`` with ``size="force"`` gives exactly the size the pipeline chose.
PNG rows are reduced as they are decoded (sequential access) and WebP is shrunk by
libwebp on load, so a 2880x1800 screenshot or an 8000x8000 PNG bomb is never held whole.
JPEG stays with Pillow, whose DCT-scaled decode (``draft``) measured faster than
libvips' shrink-on-load followed by the same encode. Orientation is left to the
pipeline (``no_rotate``). Decoding fails on the first warning (``fail_on="warning"``):
damaged data goes back to Pillow, whose error is the one the caller sees.

libvips' operation cache is turned off: every image is seen once, and a cache of
decoded images would defeat the memory bounds.
"""

from __future__ import annotations

from typing import Final

import pyvips
from PIL import Image

__all__ = ["shrink"]

pyvips.cache_set_max(0)

_FORMATS: Final = frozenset({"PNG", "WEBP"})
_MODES: Final = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_PNG_EXIF: Final = (b"eXIf", b"Raw profile type", b"XML:com.adobe.xmp")


def handles(data: bytes, image: Image.Image) -> bool:
    """Images libvips shrinks exactly as Pillow would: one 8-bit frame of a normal mode."""
    if image.format not in _FORMATS or image.mode not in ("L", "LA", "RGB", "RGBA"):
        return False
    if getattr(image, "is_animated", False):
        return False
    if image.format == "PNG":
        # 8 bits per sample (Pillow opens 16-bit RGB as "RGB"), and no EXIF or XMP:
        # Pillow finds an orientation after the image data only by decoding it all.
        return data[24:25] == b"\x08" and not any(mark in data for mark in _PNG_EXIF)
    return True


def shrink(data: bytes, size: tuple[int, int]) -> Image.Image | None:
    """``data`` decoded and resized to exactly ``size`` (as stored), or None if libvips
    refuses the data."""
    try:
        thumb = pyvips.Image.thumbnail_buffer(
            data, size[0], height=size[1], size="force", no_rotate=True, fail_on="warning"
        )
        if thumb.format != "uchar" or thumb.bands not in _MODES:
            return None
        pixels = thumb.write_to_memory()
    except pyvips.Error:
        return None
    if (thumb.width, thumb.height) != size:
        return None
    mode = _MODES[thumb.bands]
    return Image.frombuffer(mode, size, pixels, "raw", mode, 0, 1)
