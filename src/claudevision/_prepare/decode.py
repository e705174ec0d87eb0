"""Decoding with Pillow, bounded: open, pick the frame the model sees, load.

Every Pillow call on untrusted bytes goes through here. Errors are named in the user's
words: a format we cannot decode, an optional dependency missing (with the command that
installs it), or a damaged file. Pixels are bounded before any are allocated, decoded
memory is shared fairly between threads (:func:`decoding`), and Pillow's own warnings
never reach the caller's console.
"""

from __future__ import annotations

import io
import os
import re
import struct
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Final, TypeVar

from PIL import Image, UnidentifiedImageError

from .._core.exceptions import (
    CorruptImageError,
    ImageTooLargeError,
    MissingDependencyError,
    NotAnImageError,
    UnsupportedFormatError,
)
from .._core.limits import Bounds
from .._core.media import describe_bytes, sniff_mime
from .._core.steps import KeptFirstFrame, KeptPrimaryImage, Step

__all__ = [
    "DECODE_ERRORS",
    "bounded",
    "check_size",
    "holding",
    "load",
    "open_image",
    "quiet",
    "select_frame",
]

# Pillow raises all of these on damaged data, depending on the plugin and the damage.
DECODE_ERRORS: Final = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    struct.error,
    RuntimeError,  # pillow-heif, AVIF
    NotImplementedError,  # e.g. DDS pixel formats
)
_HEIF: Final = frozenset({"image/heic", "image/heif", "image/avif-sequence"})
# How Pillow says a file is fine but uses a codec or variant it lacks.
_UNSUPPORTED: Final = re.compile(
    r"compression|codec|not supported|unsupported|unknown raw mode|unknown pixel format", re.I
)

# -- Pillow's warnings -------------------------------------------------------------------

_quiet_lock = threading.Lock()
_quiet_depth = 0
_QUIET_FILTER: Final = ("ignore", None, Warning, re.compile(r"PIL(\.|$)"), 0)


@contextmanager
def quiet() -> Iterator[None]:
    """Ignore warnings issued by Pillow's modules while inside (from any of our threads).

    One filter is added while any thread is inside and removed when the last leaves; the
    caller's own filters are left as they are.
    """
    global _quiet_depth
    with _quiet_lock:
        if _quiet_depth == 0:
            _drop_quiet_filter()  # a copy a caller's catch_warnings() restored, if any
            warnings.filters.insert(0, _QUIET_FILTER)  # type: ignore[attr-defined]
            _filters_mutated()
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                _drop_quiet_filter()
                _filters_mutated()


def _drop_quiet_filter() -> None:
    while _QUIET_FILTER in warnings.filters:
        with suppress(ValueError):  # another thread changed the filters meanwhile
            warnings.filters.remove(_QUIET_FILTER)  # type: ignore[attr-defined]


def _filters_mutated() -> None:
    mutated = getattr(warnings, "_filters_mutated", None) or getattr(
        warnings, "_filters_mutated_lock_held", None
    )
    if mutated is not None:
        mutated()


T = TypeVar("T")

# -- memory shared between threads -------------------------------------------------------


class _MemoryGate:
    """Admits decodes while their estimated memory fits the caller's bound.

    One decode is always admitted when nothing else is in flight, so an image larger than
    the bound still works alone; it just never runs beside others.
    """

    def __init__(self) -> None:
        self._in_use = 0
        self._changed = threading.Condition()

    @contextmanager
    def hold(self, cost: int, capacity: int) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: self._in_use == 0 or self._in_use + cost <= capacity)
            self._in_use += cost
        try:
            yield
        finally:
            with self._changed:
                self._in_use -= cost
                self._changed.notify_all()


_GATE = _MemoryGate()
_heavy_lock = threading.Lock()
_heavy: ThreadPoolExecutor | None = None


def _after_fork_in_child() -> None:
    """A forked child has none of the parent's threads, and locks they held stay held:
    start afresh (the caller-image lock in the read stage resets itself the same way)."""
    global _heavy, _GATE, _heavy_lock, _quiet_lock, _quiet_depth
    _heavy, _GATE, _heavy_lock = None, _MemoryGate(), threading.Lock()
    _quiet_lock = threading.Lock()
    _quiet_depth = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _heavy_lane() -> ThreadPoolExecutor:
    global _heavy
    with _heavy_lock:
        if _heavy is None:
            _heavy = ThreadPoolExecutor(1, "claudevision-large")
        return _heavy


def _cost(width: int, height: int, bands: int = 3) -> int:
    """Bytes a decode and what follows take: about three RGB copies of the pixels."""
    return width * height * max(bands, 3) * 3


def holding(size: tuple[int, int], bounds: Bounds) -> AbstractContextManager[None]:
    """Hold the memory decoding an image of ``size`` takes, within ``bounds``."""
    return _GATE.hold(_cost(*size), bounds.max_memory_bytes)


def bounded(image: Image.Image, bounds: Bounds, work: Callable[[], T]) -> T:
    """Run ``work`` (the decode of ``image`` and what follows) within the memory bounds.

    Its cost is estimated at three RGB copies of the pixels. Work that costs more than
    half of ``Bounds.max_memory_bytes`` runs on one shared thread, one image at a time,
    so the memory one large image frees is what the next one reuses (threads would each
    keep their own); lighter work runs where it is, while the total fits the bound.
    """
    width, height = image.size
    cost = _cost(width, height, len(image.getbands()))
    if cost * 2 <= bounds.max_memory_bytes:
        with _GATE.hold(cost, bounds.max_memory_bytes):
            return work()
    if threading.current_thread().name.startswith("claudevision-large"):
        return work()
    return _heavy_lane().submit(work).result()


# -- opening ------------------------------------------------------------------------------


def open_image(data: bytes, bounds: Bounds) -> Image.Image:
    """Open ``data`` with Pillow (headers only) and check its declared size."""
    mime = sniff_mime(data)
    if mime in _HEIF:
        _register_heif()
    try:
        with quiet():
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise _too_many_pixels(bounds, None) from None
    except UnidentifiedImageError:
        raise _not_decodable(data, mime) from None
    except DECODE_ERRORS as exc:
        raise _damaged_or_unsupported("the image header", exc) from None
    check_size(image.size, bounds)
    return image


def check_size(size: tuple[int, int], bounds: Bounds) -> None:
    """Refuse a declared size with no pixels, or more than the bounds allow."""
    width, height = size
    if width * height > bounds.max_pixels:
        raise _too_many_pixels(bounds, size)
    if width < 1 or height < 1:
        raise CorruptImageError(
            f"the image declares {width}x{height} pixels: it has no picture; pass a whole image"
        )


def _register_heif() -> None:
    try:
        import pillow_heif
    except ImportError:
        raise MissingDependencyError(
            "HEIC/HEIF (an iPhone photo format) needs pillow-heif: pip install pillow-heif "
            "(or pip install -e '.[heif]' in a clone of claudevision), or export the photo "
            "as JPEG"
        ) from None
    pillow_heif.register_heif_opener()


def _not_decodable(data: bytes, mime: str | None) -> Exception:
    what = describe_bytes(data)
    if what.startswith("SVG"):
        return UnsupportedFormatError(
            "SVG is a vector format the API does not take; rasterize it first "
            "(e.g. cairosvg.svg2png) and pass the PNG"
        )
    if mime in ("image/jpeg", "image/png", "image/gif", "image/webp", *_HEIF, "image/avif"):
        return CorruptImageError(
            f"the {mime} header is damaged (Pillow cannot identify the file); pass an "
            "undamaged file"
        )
    if mime is not None and mime.startswith("image/"):
        return UnsupportedFormatError(f"{mime} cannot be decoded here; convert it to PNG or JPEG")
    return NotAnImageError(
        f"{len(data):,} bytes of {what}, not an image; pass a JPEG, PNG, GIF, WebP (or a "
        "format claudevision converts: HEIC, AVIF, TIFF, BMP, ICO, JPEG 2000)"
    )


def _too_many_pixels(bounds: Bounds, size: tuple[int, int] | None) -> ImageTooLargeError:
    declared = (
        "too many pixels"
        if size is None
        else (f"{size[0]}x{size[1]} ({size[0] * size[1]:,} pixels)")
    )
    return ImageTooLargeError(
        f"refused to decode an image of {declared}; the bound is {bounds.max_pixels:,} "
        "pixels, a guard against decompression bombs. Shrink it with a tool that streams "
        "(e.g. vips) first, or raise Bounds.max_pixels"
    )


def _damaged_or_unsupported(where: str, exc: BaseException) -> Exception:
    """Pillow's error, told apart: a codec or feature we lack, or damaged data."""
    message = str(exc) or type(exc).__name__
    if "ghostscript" in message.lower() or isinstance(exc, NotImplementedError):
        if "ghostscript" in message.lower():
            return MissingDependencyError(
                "EPS and PostScript need the Ghostscript program, which is not installed "
                "(e.g. apt install ghostscript, brew install ghostscript); or convert the "
                "file to PNG first"
            )
        return UnsupportedFormatError(
            f"this variant of the format cannot be decoded ({message}); convert it to PNG"
        )
    if _UNSUPPORTED.search(message) and "truncated" not in message:
        return UnsupportedFormatError(
            f"the image uses a feature or compression Pillow cannot decode ({message}); "
            "convert it to PNG or JPEG"
        )
    if "truncated" in message or isinstance(exc, EOFError):
        return CorruptImageError(
            f"the image data is truncated ({message}); the file was cut short, pass the "
            "complete file"
        )
    return CorruptImageError(f"{where} is damaged ({message}); pass an undamaged file")


# -- frames and loading ------------------------------------------------------------------


def select_frame(image: Image.Image) -> Step | None:
    """Say which frame is sent when the file holds more than one; never seek.

    Pillow opens each format on the frame a viewer shows: the first frame of an
    animation or multi-page file, the primary image of a HEIF, the composite of a PSD.
    Frames are never counted by walking the file.
    """
    try:
        animated = bool(getattr(image, "is_animated", False))
    except DECODE_ERRORS:
        animated = False
    if not animated:
        return None
    total = _stated_frames(image)
    if image.format in ("HEIF", "AVIF"):
        return KeptPrimaryImage(image.tell(), total) if total else None
    return KeptFirstFrame(total)


def _stated_frames(image: Image.Image) -> int | None:
    """The frame count where a header states it (PNG, WebP, HEIF), else None."""
    if image.format not in ("PNG", "WEBP", "HEIF", "AVIF"):
        return None
    try:
        return int(getattr(image, "n_frames", 1))
    except DECODE_ERRORS:
        return None


def load(image: Image.Image) -> None:
    """Decode the pixels, strictly: a truncated or damaged file is an error, never padded."""
    try:
        with quiet():
            image.load()
    except Image.DecompressionBombError:
        raise ImageTooLargeError(
            "the image holds more pixels than it declared; refused as a decompression bomb. "
            "Pass a smaller image, or raise Bounds.max_pixels if you trust the file"
        ) from None
    except DECODE_ERRORS as exc:
        unsupported = _unsupported_tiff(image)
        if unsupported is not None:
            raise unsupported from None
        raise _damaged_or_unsupported("the image data", exc) from None


# TIFF compressions every Pillow build decodes; others may lack a codec.
_COMMON_TIFF = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 32773, 32946})


def _unsupported_tiff(image: Image.Image) -> UnsupportedFormatError | None:
    """A TIFF that failed to decode because of its compression, not damage."""
    if image.format != "TIFF":
        return None
    compression = getattr(image, "tag_v2", {}).get(259, 1)
    if compression in _COMMON_TIFF:
        return None
    return UnsupportedFormatError(
        f"the TIFF uses compression {compression}, which this Pillow build cannot decode; "
        "re-save it uncompressed, or with LZW or Deflate compression, or as PNG"
    )
