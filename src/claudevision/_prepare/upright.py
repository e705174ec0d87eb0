"""Decoded, upright, 8-bit pixels of a read image: what screenshots and tiles start from.

Pure CPU over values, bounded like ``prepare``: Pillow opens only what ``decode``
lets it, on the frame the model sees, turned upright by its EXIF orientation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from PIL import Image

from .._core.exceptions import UnsupportedSourceError
from .._core.limits import Bounds
from .._core.media import CONVERTIBLE, PIL_FORMAT_TO_MEDIA_TYPE, sniff_mime
from .._core.steps import Converted, CorrectedMediaType, Oriented, Step
from .._read.read import ImageBytes, ImagePixels, ImageReference, ReadImage
from .decode import bounded, load, open_image, select_frame
from .pixels import drop_opaque_alpha, normalize_mode, orient, orientation_of

__all__ = ["Upright", "require_pixels", "upright"]


@dataclass(frozen=True, slots=True)
class Upright:
    """Pixels in L, LA, RGB or RGBA, upright; the source's format, claim and steps."""

    image: Image.Image
    format: str
    declared_media_type: str | None
    steps: tuple[Step, ...]


def require_pixels(read: ReadImage, what: str) -> ImageBytes | ImagePixels:
    """``read`` itself, unless it is a URL or file id (whose pixels are not here)."""
    if isinstance(read, ImageReference):
        raise UnsupportedSourceError(
            f"{what} needs the image's pixels, and a {read.source.type} source is fetched "
            "by the API, not here; download the image and pass its bytes"
        )
    return read


def upright(read: ReadImage, bounds: Bounds, what: str) -> Upright:
    """Decode ``read`` (bounded) into upright pixels; ``what`` names the feature in errors."""
    read = require_pixels(read, what)
    steps: list[Step] = []
    declared = None
    if isinstance(read, ImageBytes):
        image = open_image(read.data, bounds)
        actual = sniff_mime(read.data)
        declared = read.declared_media_type
        if declared and actual and declared != actual:
            steps.append(CorrectedMediaType(declared, actual))
        if (image.format or "") not in PIL_FORMAT_TO_MEDIA_TYPE:
            steps.append(Converted(CONVERTIBLE.get(actual or "", image.format or "")))
    else:
        image = read.image
    format = image.format or getattr(read, "format", None) or ""
    frame = select_frame(image)
    if frame is not None:
        steps.append(frame)
    pixels, more = bounded(image, bounds, partial(_decode, image))
    return Upright(pixels, format, declared, (*steps, *more))


def _decode(image: Image.Image) -> tuple[Image.Image, list[Step]]:
    load(image)
    orientation = orientation_of(image)
    pixels, steps = normalize_mode(image)
    icc_profile = image.info.get("icc_profile") if image.mode != "CMYK" else None
    pixels = orient(drop_opaque_alpha(pixels), orientation)
    if pixels is image:  # never hand on the caller's (shared) image itself
        pixels = image.copy()
    # Only the colour profile goes on: an EXIF orientation would be applied twice.
    pixels.info = {"icc_profile": icc_profile} if icc_profile else {}
    if orientation != 1:
        steps.append(Oriented(orientation))
    return pixels, steps
