"""Pixel transforms: modes brought to 8-bit L/LA/RGB/RGBA, orientation, resizing, alpha.

Pure functions from image to new image: the input image is never changed, so an image
shared between threads (a read value prepared twice) stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterable

from PIL import Image

from .._core.steps import ConvertedMode, FlattenedAlpha, ScaledSamples, Step

__all__ = [
    "band_rows",
    "drop_opaque_alpha",
    "flatten",
    "normalize_and_shrink",
    "normalize_mode",
    "orient",
    "resize",
    "shrink_bands",
    "stack",
]

ORIENTATIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Pillow's antialiased bicubic: within 55 dB PSNR of Lanczos on photos, 1.4x faster.
RESAMPLE = Image.Resampling.BICUBIC
# After a JPEG was decoded at reduced scale the shrink left is under 2x, where the
# antialiased triangle filter is within 51 dB of Lanczos and 1.6x faster than bicubic.
RESAMPLE_AFTER_DRAFT = Image.Resampling.BILINEAR
# Integer box reduction first when shrinking more than 2x (Pillow's "fair quality" setting).
_REDUCING_GAP = 2.0
_NORMAL = frozenset({"L", "LA", "RGB", "RGBA"})
# Pillow resizes these through a premultiplied copy of the whole image (RGBa, La).
_PREMULTIPLIED = frozenset({"LA", "RGBA"})
# Above this many pixels, modes that grow when converted are converted in bands of
# about _BAND_PIXELS pixels each.
BAND_THRESHOLD = 16_000_000
_BAND_PIXELS = 2_000_000
_DIRECT = {"1": "L", "La": "LA", "RGBa": "RGBA", "RGBX": "RGB", "PA": "RGBA"}


def orientation_of(image: Image.Image) -> int:
    """The EXIF orientation still to apply (1 when none, unreadable or already applied)."""
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # a damaged EXIF block must not stop the image
        return 1
    return value if isinstance(value, int) and value in ORIENTATIONS else 1


def normalize_mode(
    image: Image.Image, sample_range: tuple[float, float] | None = None
) -> tuple[Image.Image, list[Step]]:
    """Any mode as L, LA, RGB or RGBA, and what was done (nothing said for lossless moves).

    ``sample_range`` is the range of high-bit-depth samples when already measured (on the
    whole image, for a band of it).
    """
    mode = image.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        return image, []
    if mode in _DIRECT:
        return image.convert(_DIRECT[mode]), []
    if mode == "P":
        palette = image.palette
        has_alpha = "transparency" in image.info or (palette is not None and palette.mode == "RGBA")
        return image.convert("RGBA" if has_alpha else "RGB"), []
    if mode.startswith("I") or mode == "F":
        return _to_eight_bits(image, sample_range)
    target = "RGB"
    return image.convert(target), [ConvertedMode(mode, target)]


def _to_eight_bits(
    image: Image.Image, sample_range: tuple[float, float] | None
) -> tuple[Image.Image, list[Step]]:
    """High-bit-depth or float samples scaled from their real range, not clipped."""
    mode = image.mode
    wide = image if mode in ("I", "F") else image.convert("I")
    low, high = sample_range or measure_range(wide)
    scale = 255.0 / ((high - low) or 1)
    scaled = wide.convert("F").point(lambda v: (v - low) * scale)
    return scaled.convert("L"), [ScaledSamples(mode, low, high)]


def measure_range(image: Image.Image) -> tuple[float, float]:
    """The range the samples were written in: 0..1 floats, 10-, 12- or 16-bit integers."""
    mode = image.mode
    extrema = image.getextrema()
    low, high = float(extrema[0]), float(extrema[1])  # type: ignore[arg-type]
    if mode == "F":
        return (0.0, 1.0) if low >= 0 and high <= 1 else (low, high)
    if low < 0:  # signed data: its own range
        return low, high
    bits = max(8, int(high).bit_length())
    bits += bits % 2  # 12-bit data in a 16-bit container is 0..4095
    return 0, 2**bits - 1


def normalize_and_shrink(
    image: Image.Image, size: tuple[int, int], resample: Image.Resampling = RESAMPLE
) -> tuple[Image.Image, list[Step]]:
    """:func:`normalize_mode` then :func:`resize`, in bands when that bounds memory.

    A large image in a mode that grows when converted (a palette or 1-bit bomb becomes
    RGB, 16-bit becomes 32-bit), or that Pillow premultiplies to resize (RGBA, LA), is
    converted and box-reduced a band at a time, so the full-size copy never exists; the
    exact resize follows on the reduced image.
    """
    factor = min(image.width // size[0], image.height // size[1]) // 2
    grows = image.mode not in _NORMAL or image.mode in _PREMULTIPLIED
    if factor < 2 or not grows or image.width * image.height < BAND_THRESHOLD:
        pixels, steps = normalize_mode(image)
        return resize(pixels, size, resample), steps
    wide = image.mode.startswith("I") or image.mode == "F"
    sample_range = (
        measure_range(image if image.mode in ("I", "F") else image.convert("I")) if wide else None
    )
    rows = band_rows(image.width, factor)
    crops = (
        image.crop((0, top, image.width, min(image.height, top + rows)))
        for top in range(0, image.height, rows)
    )
    return shrink_bands(crops, factor, size, resample, sample_range)


def band_rows(width: int, factor: int) -> int:
    """Rows in a band of an image ``width`` wide reduced by ``factor``: a multiple of it,
    about ``_BAND_PIXELS`` pixels."""
    return factor * max(1, _BAND_PIXELS // (width * factor))


def shrink_bands(
    bands: Iterable[Image.Image],
    factor: int,
    size: tuple[int, int],
    resample: Image.Resampling = RESAMPLE,
    sample_range: tuple[float, float] | None = None,
    skip: int = 0,
) -> tuple[Image.Image, list[Step]]:
    """Bands of an image, top to bottom (less the first ``skip`` rows of each), each
    normalised and box-reduced by ``factor`` as it comes, then the whole resized to
    ``size``."""
    reduced: list[Image.Image] = []
    steps: list[Step] = []
    for band in bands:
        normal, steps = normalize_mode(band, sample_range)
        reduced.append(normal.reduce(factor, box=(0, skip, *normal.size)))
    return resize(stack(reduced), size, resample), steps


def stack(bands: list[Image.Image]) -> Image.Image:
    """Bands of one width, one mode, pasted top to bottom into one image."""
    whole = Image.new(bands[0].mode, (bands[0].width, sum(band.height for band in bands)))
    top = 0
    for band in bands:
        whole.paste(band, (0, top))
        top += band.height
    return whole


def drop_opaque_alpha(image: Image.Image) -> Image.Image:
    """An alpha channel that is opaque everywhere says nothing: drop it."""
    if image.mode in ("RGBA", "LA") and image.getchannel("A").getextrema()[0] == 255:
        return image.convert(image.mode[:-1])
    return image


def orient(image: Image.Image, orientation: int) -> Image.Image:
    """Turn an image upright by its EXIF orientation."""
    if orientation == 1:
        return image
    return image.transpose(ORIENTATIONS[orientation])


def resize(
    image: Image.Image, size: tuple[int, int], resample: Image.Resampling = RESAMPLE
) -> Image.Image:
    """Resize (Pillow premultiplies alpha itself, so transparent pixels do not bleed)."""
    if image.size == size:
        return image
    return image.resize(size, resample, reducing_gap=_REDUCING_GAP)


def flatten(image: Image.Image) -> tuple[Image.Image, list[Step]]:
    """Transparency onto white, for formats without alpha."""
    if image.mode not in ("RGBA", "LA"):
        return image, []
    background = Image.new("RGB", image.size, "white")
    background.paste(image.convert("RGBA"), mask=image.getchannel("A"))
    return background, [FlattenedAlpha()]
