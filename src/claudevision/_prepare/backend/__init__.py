"""Which library shrinks a decodable image to its model size: Pillow or libvips.

Pillow is always there and does everything. libvips (``pip install -e ".[fast]"`` from a clone,
which brings ``pyvips`` and its own libvips) is chosen automatically when installed: it
decodes PNG and WebP in a stream, shrinking as it goes, so a large screenshot or a PNG
bomb is never held whole. JPEG stays with Pillow's DCT-scaled decode, which is faster.
``CLAUDEVISION_BACKEND=pillow`` or ``=libvips`` forces one (read on each call).

The backend changes how pixels are shrunk, nothing else: the sizes, the steps, the proof
of a pass-through and every error are decided by the same code either way. libvips
handles only what it does exactly as Pillow would (8-bit L, LA, RGB and RGBA, one
frame, a resize needed, no orientation Pillow must decode a whole PNG to find); it
decodes strictly, and an image it refuses goes to Pillow, whose verdict (an error, or
pixels) is the one returned. It never holds a whole decoded image, so the memory shared
between threads (``Bounds.max_memory_bytes``) is counted for Pillow's decodes only.

With Pillow, a large 8-bit PNG that shrinks by a factor of 4 or more is decoded by bands
and box-reduced on the way (``pngbands``), with the same pixels as a whole decode, so a
PNG bomb is not held whole either.

    >>> chosen() in BACKENDS
    True
"""

from __future__ import annotations

import os
from functools import cache
from typing import Final, Literal

from PIL import Image

from ..._core.exceptions import ConfigurationError, MissingDependencyError
from ..._core.media import sniff_mime

__all__ = ["BACKENDS", "ENV", "Backend", "available", "chosen", "shrink", "takes"]

Backend = Literal["pillow", "libvips"]
BACKENDS: Final[tuple[Backend, ...]] = ("pillow", "libvips")
ENV: Final = "CLAUDEVISION_BACKEND"


@cache
def available(name: str) -> bool:
    """Whether backend ``name`` can be used here (libvips: pyvips imports and loads)."""
    if name == "pillow":
        return True
    if name != "libvips":
        return False
    try:
        from . import vips  # noqa: F401 - pyvips and its libvips, loaded once
    except (ImportError, OSError):
        return False
    return True


def chosen() -> Backend:
    """The backend in use: ``CLAUDEVISION_BACKEND`` if set, else libvips where installed."""
    forced = os.environ.get(ENV, "").strip().lower()
    if not forced:
        return "libvips" if available("libvips") else "pillow"
    if forced not in BACKENDS:
        raise ConfigurationError(f"{ENV}={forced!r}: use 'pillow' or 'libvips', or unset it")
    if not available(forced):
        raise MissingDependencyError(
            f"{ENV}=libvips but pyvips (or its libvips) cannot be loaded: pip install "
            "'claudevision[fast]', or unset it to use Pillow"
        )
    return "libvips" if forced == "libvips" else "pillow"


def takes(data: bytes, image: Image.Image) -> bool:
    """Whether the chosen backend shrinks ``data`` (opened by Pillow as ``image``) on the
    way, never holding it whole: libvips, or with Pillow a large PNG decoded by bands
    (``pngbands``); False leaves it to Pillow's whole decode."""
    if chosen() != "libvips":
        from .. import pngbands

        return pngbands.handles(data, image)
    from . import vips

    return vips.handles(data, image)


def shrink(data: bytes, size: tuple[int, int]) -> Image.Image | None:
    """``data`` decoded and shrunk to exactly ``size`` as stored (orientation not applied)
    by the chosen backend, for an image it :func:`takes`; None if it refused the data, or
    the data is not proven whole (libvips decodes some damaged files Pillow refuses; the
    band decoder proves the image data as it inflates it)."""
    if chosen() != "libvips":
        from .. import pngbands

        return pngbands.shrink(data, size)
    from ..verify import is_intact
    from . import vips

    media_type = sniff_mime(data)
    if media_type not in ("image/png", "image/webp") or not is_intact(data, media_type):
        return None
    return vips.shrink(data, size)
