"""Encoding: pick the output format, then fit the byte budget by quality, then by size.

Never by truncation: every output is a whole image Pillow just wrote.
"""

from __future__ import annotations

import io
import math
from typing import Any

from PIL import Image

from .._core.exceptions import ImageTooLargeError
from .._core.limits import base64_length
from .._core.steps import Encoded, Shrunk, Step, SwitchedToLossy
from . import pngwrite
from .fit import MIN_QUALITY, Fit
from .pixels import flatten, resize

__all__ = ["choose_format", "encode_within"]

# Formats whose pixels are exact: re-encoded as PNG so nothing is lost.
_LOSSLESS_FORMATS = frozenset(
    {"PNG", "GIF", "BMP", "DIB", "TIFF", "ICO", "PPM", "TGA", "PCX", "SGI", "PSD", "DDS", "ICNS"}
)
# zlib level 1: within 1% of level 3 on screenshots (3% on photos) in half to a third of
# its time, and smaller than the default 6 on screenshots.
_PNG_COMPRESS_LEVEL = 1
_MAX_SHRINKS = 8


def choose_format(source_format: str, has_alpha: bool, fit: Fit) -> str:
    """The Pillow format to write: the caller's choice, else the source's kind."""
    if fit.format is not None:
        return fit.format.upper()
    if source_format in ("JPEG", "MPO"):
        return "JPEG"
    if source_format == "WEBP":
        return "WEBP"
    if has_alpha or source_format in _LOSSLESS_FORMATS or not source_format:
        return "PNG"
    return "JPEG"


def _encode(image: Image.Image, output: str, quality: int, icc_profile: bytes | None) -> bytes:
    buffer = io.BytesIO()
    extra: dict[str, Any] = {"icc_profile": icc_profile} if icc_profile else {}
    if output == "JPEG":
        image.save(buffer, "JPEG", quality=quality, **extra)
    elif output == "WEBP":
        image.save(buffer, "WEBP", quality=quality, method=4, **extra)
    elif pngwrite.writes(image):  # one filter by trial: Pillow's per-row choice costs more
        return pngwrite.write(image, _PNG_COMPRESS_LEVEL, icc_profile)
    else:
        image.save(buffer, "PNG", compress_level=_PNG_COMPRESS_LEVEL, **extra)
    return buffer.getvalue()


def _fits(data: bytes, budget: int) -> bool:
    return base64_length(len(data)) <= budget


def encode_within(
    image: Image.Image, output: str, icc_profile: bytes | None, fit: Fit
) -> tuple[bytes, str, Image.Image, list[Step]]:
    """Encode, then lower quality, then shrink, until the base64 fits ``fit.max_bytes``.

    Returns the bytes, the format written, the image they hold and the steps taken.
    """
    steps: list[Step] = []
    if output == "JPEG":
        image, steps = flatten(image)
    encoded = _encode(image, output, fit.quality, icc_profile)
    if _fits(encoded, fit.max_bytes):
        return encoded, output, image, [*steps, Encoded(output, len(encoded))]
    if output == "PNG":
        lossy = "WEBP" if image.mode in ("RGBA", "LA") else "JPEG"
        steps.append(SwitchedToLossy(output, lossy, base64_length(len(encoded)), fit.max_bytes))
        output = lossy
    for _ in range(_MAX_SHRINKS):
        found = _best_quality(image, output, icc_profile, fit)
        if isinstance(found, tuple):
            data, quality = found
            steps.append(Encoded(output, len(data), quality, fit.max_bytes))
            return data, output, image, steps
        ratio = math.sqrt(fit.max_bytes / base64_length(len(found))) * 0.9
        size = (max(1, int(image.width * ratio)), max(1, int(image.height * ratio)))
        steps.append(Shrunk(image.size, size, fit.max_bytes))
        image = resize(image, size)
    raise ImageTooLargeError(
        f"no encoding fits {fit.max_bytes:,} base64 bytes; raise max_bytes or pass a smaller image"
    )


def _best_quality(
    image: Image.Image, output: str, icc_profile: bytes | None, fit: Fit
) -> tuple[bytes, int] | bytes:
    """The highest quality within budget (bisection), or the smallest encoding if none fits."""
    low, high = MIN_QUALITY, fit.quality
    smallest = _encode(image, output, low, icc_profile)
    if not _fits(smallest, fit.max_bytes):
        return smallest
    best, chosen = smallest, low
    while low < high:
        middle = (low + high + 1) // 2
        candidate = _encode(image, output, middle, icc_profile)
        if _fits(candidate, fit.max_bytes):
            best, chosen, low = candidate, middle, middle
        else:
            high = middle - 1
    return best, chosen
