"""The fit pipeline: any image in, the smallest block that loses nothing the model sees out.

Pure logic over bytes and pixels: no network, no client. Steps, in order:

1. read the source; an image already acceptable and within the model's size is sent
   byte-for-byte (headers are read, nothing is decoded);
2. otherwise decode it (refusing decompression bombs before any pixel is allocated),
   keep the first frame of an animation, apply EXIF orientation, convert CMYK, 16-bit,
   palette and odd modes;
3. resize to exactly the size the model would resize to (JPEGs decode at reduced scale
   first), capped at the platform's pixels per side;
4. encode to an accepted format and fit the platform's byte budget by quality search,
   then by shrinking, never by truncation.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

from anthropic.types import CacheControlEphemeralParam, ImageBlockParam
from PIL import Image, UnidentifiedImageError

from ._exceptions import (
    ConfigurationError,
    CorruptImageError,
    EmptyImageError,
    ImageTooLargeError,
    NotAnImageError,
    UnsupportedFormatError,
    UnsupportedSourceError,
)
from ._geometry import fit_within, model_size, visual_tokens
from ._limits import MAX_DECODE_PIXELS, Platform, base64_length, get_platform
from ._media import (
    CONVERTIBLE,
    PIL_FORMAT_TO_MEDIA_TYPE,
    describe_bytes,
    probe,
    sniff_mime,
)
from ._models import ModelInfo, model_info
from ._prepared import PreparedImage
from ._sources import (
    Base64Source,
    FileIdSource,
    FileSource,
    ImageInput,
    URLSource,
    _is_numpy_array,
    _is_pil_image,
    array_to_image,
    describe_input,
    read_path,
    to_source,
)

__all__ = ["OutputFormat", "OversizedImage", "prepare_image", "prepare_many", "run_parallel"]

OutputFormat = Literal["jpeg", "png", "webp"]
OversizedImage = Literal["downsize", "error"]

DEFAULT_QUALITY = 85
"""JPEG and WebP quality for images claudevision re-encodes."""
MIN_QUALITY = 40
"""The lowest quality the byte-budget search goes to before it shrinks the image instead."""

# Formats whose pixels are exact: re-encoded as PNG so nothing is lost.
_LOSSLESS_FORMATS = frozenset(
    {"PNG", "GIF", "BMP", "DIB", "TIFF", "ICO", "PPM", "TGA", "PCX", "SGI"}
)
# Modes each accepted format can be sent in unchanged.
_SENDABLE_MODES = {
    "JPEG": frozenset({"L", "RGB"}),
    "PNG": frozenset({"1", "L", "LA", "P", "RGB", "RGBA"}),
    "GIF": frozenset({"L", "P"}),
    "WEBP": frozenset({"RGB", "RGBA"}),
}
_ORIENTATION = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT, "mirrored"),
    3: (Image.Transpose.ROTATE_180, "rotated 180°"),
    4: (Image.Transpose.FLIP_TOP_BOTTOM, "flipped"),
    5: (Image.Transpose.TRANSPOSE, "transposed"),
    6: (Image.Transpose.ROTATE_270, "rotated 90° clockwise"),
    7: (Image.Transpose.TRANSVERSE, "transversed"),
    8: (Image.Transpose.ROTATE_90, "rotated 90° counter-clockwise"),
}


@dataclass(slots=True)
class _Fit:
    """Everything that decides the output, resolved once per call."""

    model: ModelInfo
    platform: Platform
    max_side: int
    max_bytes: int  # on the base64 string
    format: OutputFormat | None
    quality: int
    block_extras: dict[str, Any]
    max_side_reason: str

    def target(self, width: int, height: int) -> tuple[int, int]:
        """What to send for an image of this (oriented) size: the model's size, capped."""
        return fit_within(*model_size(width, height, self.model.tier), self.max_side)


def prepare_image(
    image: ImageInput,
    *,
    model: str | None = None,
    platform: str | Platform = "anthropic",
    max_side: int | None = None,
    max_bytes: int | None = None,
    format: OutputFormat | None = None,
    quality: int = DEFAULT_QUALITY,
    cache_control: CacheControlEphemeralParam | None = None,
    oversized_image: OversizedImage | None = None,
    label: str | None = None,
) -> PreparedImage:
    """Turn any image into an ``image`` block the API accepts for ``model`` on ``platform``.

    ``max_side`` and ``max_bytes`` (measured on the base64 string) tighten the platform's
    limits; ``format`` forces the output format of images that are re-encoded.
    ``cache_control`` and ``oversized_image`` are copied onto the block.

    >>> from claudevision import prepare_image
    >>> img = prepare_image("IMG_0042.jpg", model="claude-sonnet-4-6")  # doctest: +SKIP
    >>> img.block["source"]["media_type"], img.size, img.tokens       # doctest: +SKIP
    ('image/jpeg', (1270, 952), 1564)
    """
    _check_options(model, max_side, max_bytes, format, quality, oversized_image)
    target_platform = get_platform(platform)
    side_limit = target_platform.max_side
    reason = f"{target_platform.name} allows {side_limit} px per side"
    if max_side is not None and max_side < side_limit:
        side_limit, reason = max_side, f"capped at {max_side} px per side"
    byte_limit = target_platform.max_image_bytes
    if max_bytes is not None:
        byte_limit = min(byte_limit, max_bytes)
    extras: dict[str, Any] = {}
    if cache_control is not None:
        extras["cache_control"] = cache_control
    if oversized_image is not None:
        extras["transformations"] = {"oversized_image": oversized_image}
    fit = _Fit(
        model_info(model),
        target_platform,
        side_limit,
        byte_limit,
        format,
        quality,
        extras,
        reason,
    )
    label = label or describe_input(image)

    if _is_pil_image(image):
        return _from_pixels(image, None, fit, label, [])
    if _is_numpy_array(image):
        return _from_pixels(array_to_image(image), None, fit, label, [])

    if isinstance(image, Path):  # the common case, without building a model
        return _from_bytes(read_path(image.expanduser()), None, fit, label)
    source = to_source(image, label=label)
    if isinstance(source, (URLSource, FileIdSource)):
        return _reference(source, fit, label)
    if isinstance(source, FileSource):
        return _from_bytes(source.read(), None, fit, label)
    assert isinstance(source, Base64Source)
    return _from_bytes(source.data, source.media_type, fit, label)


def _check_options(
    model: object,
    max_side: object,
    max_bytes: object,
    format: object,
    quality: object,
    oversized_image: object,
) -> None:
    """Refuse option values the pipeline or the API would trip over, naming the fix."""
    problems = []
    if model is not None and not isinstance(model, str):
        problems.append(f"model={model!r}: pass a model id such as 'claude-opus-4-8'")
    for name, value in (("max_side", max_side), ("max_bytes", max_bytes)):
        if value is not None and (not isinstance(value, int) or value < 1):
            problems.append(f"{name}={value!r}: use a whole number of at least 1")
    if format is not None and format not in ("jpeg", "png", "webp"):
        problems.append(f"format={format!r}: use 'jpeg', 'png' or 'webp'")
    if not isinstance(quality, int) or not MIN_QUALITY <= quality <= 100:
        problems.append(f"quality={quality!r}: use a whole number from {MIN_QUALITY} to 100")
    if oversized_image not in (None, "downsize", "error"):
        problems.append(f"oversized_image={oversized_image!r}: use 'downsize' or 'error'")
    if problems:
        raise ConfigurationError("; ".join(problems))


def prepare_many(
    images: Iterable[ImageInput],
    *,
    max_workers: int | None = None,
    **options: Any,
) -> list[PreparedImage]:
    """:func:`prepare_image` for several images at once, on all cores (Pillow drops the GIL).

    Results keep the order of ``images``; ``options`` go to every call. Labels name each
    image by its position: ``image 2 ('cat.png')``.
    """
    items = list(images)
    calls = [
        partial(prepare_image, item, label=f"image {i} ({describe_input(item)})", **options)
        for i, item in enumerate(items, 1)
    ]
    return run_parallel(calls, max_workers=max_workers)


T = TypeVar("T")


def run_parallel(calls: Sequence[Callable[[], T]], *, max_workers: int | None = None) -> list[T]:
    """Run ``calls`` on a thread pool sized to the cores; results in order, errors raised."""
    if len(calls) <= 1:
        return [call() for call in calls]
    workers = max_workers or min(len(calls), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="claudevision") as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]


def _reference(source: URLSource | FileIdSource, fit: _Fit, label: str) -> PreparedImage:
    if source.type not in fit.platform.source_types:
        allowed = ", ".join(sorted(fit.platform.source_types))
        raise UnsupportedSourceError(
            f"{label}: {fit.platform.name} accepts only {allowed} image sources, not "
            f"{source.type}; download the image (or fetch the file) and pass its bytes"
        )
    if isinstance(source, URLSource):
        reference: dict[str, Any] = {"type": "url", "url": source.url}
        step = "sent as a URL: the API downloads it; size and tokens are known only then"
    else:
        reference = {"type": "file", "file_id": source.file_id}
        step = "sent as a Files API reference; size and tokens are known only to the API"
    block = cast(ImageBlockParam, {"type": "image", "source": reference, **fit.block_extras})
    return PreparedImage(block=block, label=label, model=fit.model, steps=(step,))


def _finish(
    data: bytes,
    media_type: str,
    size: tuple[int, int],
    original_size: tuple[int, int],
    fit: _Fit,
    label: str,
    steps: list[str],
    declared: str | None,
    unchanged: bool,
) -> PreparedImage:
    import base64

    seen = model_size(*size, fit.model.tier)
    if declared and declared != media_type:
        note = f"declared {declared}, but the bytes are {media_type}: sent as {media_type}"
        steps.insert(0, note)
    if not fit.model.known:
        steps.append(
            f"tier assumed {fit.model.tier.name} for {fit.model.name} (tokens are an upper bound)"
        )
    source = {
        "type": "base64",
        "media_type": media_type,
        "data": base64.b64encode(data).decode("ascii"),
    }
    block = cast(ImageBlockParam, {"type": "image", "source": source, **fit.block_extras})
    return PreparedImage(
        block=block,
        label=label,
        model=fit.model,
        media_type=media_type,
        declared_media_type=declared,
        size=size,
        original_size=original_size,
        model_size=seen,
        tokens=visual_tokens(*seen),
        data=data,
        unchanged=unchanged,
        steps=tuple(steps),
    )


def _from_bytes(data: bytes, declared: str | None, fit: _Fit, label: str) -> PreparedImage:
    if not data:
        raise EmptyImageError(
            f"{label}: the image is empty (0 bytes); pass a path, bytes or a base64 string of "
            "an image."
        )
    head = probe(data)
    if head is not None and head.width * head.height > MAX_DECODE_PIXELS:
        raise _too_many_pixels(label, head.width, head.height)
    if (
        head is not None
        and head.simple
        and fit.target(head.width, head.height) == (head.width, head.height)
        and base64_length(len(data)) <= fit.max_bytes
    ):
        steps = ["sent unchanged: an accepted format, within the model's size and budget"]
        size = (head.width, head.height)
        return _finish(data, head.media_type, size, size, fit, label, steps, declared, True)

    mime = sniff_mime(data)
    image = _open(data, mime, label)
    source_format = image.format or ""
    steps = []
    if source_format not in PIL_FORMAT_TO_MEDIA_TYPE:
        kind = CONVERTIBLE.get(mime or "", source_format)
        steps.append(f"{kind} is not accepted by the API: converted")
    return _from_pixels(image, data, fit, label, steps, declared)


def _open(data: bytes, mime: str | None, label: str) -> Image.Image:
    if mime in ("image/heic", "image/heif"):
        try:
            import pillow_heif
        except ImportError:
            raise UnsupportedFormatError(
                f"{label}: HEIC/HEIF (an iPhone photo format) needs the heif extra; "
                "pip install 'claudevision[heif]', or export the photo as JPEG"
            ) from None
        pillow_heif.register_heif_opener()
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(
            f"{label}: refused to decode, the image declares too many pixels ({exc}); the limit "
            f"is {MAX_DECODE_PIXELS:,} pixels. Shrink it with a tool that streams (e.g. vips)."
        ) from None
    except UnidentifiedImageError:
        what = describe_bytes(data)
        if what.startswith("SVG"):
            raise UnsupportedFormatError(
                f"{label}: SVG is a vector format the API does not take; rasterize it first "
                "(e.g. cairosvg.svg2png) and pass the PNG"
            ) from None
        if mime is not None and mime.startswith("image/"):
            raise UnsupportedFormatError(
                f"{label}: {mime} cannot be decoded here; convert it to PNG or JPEG"
            ) from None
        raise NotAnImageError(
            f"{label}: {len(data):,} bytes of {what}, not an image; pass a JPEG, PNG, GIF, "
            "WebP (or a format claudevision converts: HEIC, AVIF, TIFF, BMP, ICO, JPEG 2000)"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise CorruptImageError(f"{label}: the image header is damaged ({exc})") from None
    width, height = image.size
    if width * height > MAX_DECODE_PIXELS:
        raise _too_many_pixels(label, width, height)
    if width == 0 or height == 0:
        raise CorruptImageError(f"{label}: the image declares {width}x{height} pixels")
    return image


def _too_many_pixels(label: str, width: int, height: int) -> ImageTooLargeError:
    return ImageTooLargeError(
        f"{label}: refused to decode a {width}x{height} image ({width * height:,} pixels); "
        f"the limit is {MAX_DECODE_PIXELS:,} pixels, a guard against decompression bombs. "
        "Shrink it with a tool that streams (e.g. vips) first."
    )


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # a damaged EXIF block must not stop the image
        return 1
    return value if isinstance(value, int) and value in _ORIENTATION else 1


def _load(image: Image.Image, label: str) -> None:
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        message = str(exc)
        if "truncated" in message or isinstance(exc, EOFError):
            raise CorruptImageError(
                f"{label}: the image data is truncated ({message}); the file was cut short, "
                "pass the complete file"
            ) from None
        raise CorruptImageError(f"{label}: the image data is damaged ({message})") from None


def _normalize_mode(image: Image.Image, steps: list[str]) -> Image.Image:
    """Bring any mode to L, LA, RGB or RGBA (what resizing and encoding handle right)."""
    mode = image.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        return image
    if mode == "1":
        return image.convert("L")
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if mode == "CMYK":
        steps.append("converted CMYK to RGB")
        return image.convert("RGB")
    if mode.startswith("I;16") or mode in ("I", "F"):
        steps.append(f"reduced {mode} samples to 8-bit")
        scale = 1 / 256 if mode != "F" else 255.0
        return image.convert("I" if mode != "F" else "F").point(lambda v: v * scale).convert("L")
    if mode == "La":
        return image.convert("LA")
    if mode in ("RGBa", "RGBX"):
        return image.convert("RGBA" if mode == "RGBa" else "RGB")
    steps.append(f"converted {mode} to RGB")
    return image.convert("RGB")


def _choose_format(source_format: str, has_alpha: bool, fit: _Fit) -> str:
    if fit.format is not None:
        return fit.format.upper()
    if source_format in ("JPEG", "MPO"):
        return "JPEG"
    if source_format == "WEBP":
        return "WEBP"
    if has_alpha or source_format in _LOSSLESS_FORMATS or not source_format:
        return "PNG"
    return "JPEG"


# Pillow's antialiased bicubic: within 55 dB PSNR of Lanczos on photos, 1.4x faster.
_RESAMPLE = Image.Resampling.BICUBIC
# After a JPEG was decoded at reduced scale the shrink left is under 2x, where the
# antialiased triangle filter is within 51 dB of Lanczos and 1.6x faster than bicubic.
_RESAMPLE_AFTER_DRAFT = Image.Resampling.BILINEAR
# Integer box reduction first when shrinking more than 2x (Pillow's "fair quality" setting).
_REDUCING_GAP = 2.0
# zlib level 3: as small as the default 6 on screenshots here, in two thirds the time.
_PNG_COMPRESS_LEVEL = 3


def _resize(
    image: Image.Image, size: tuple[int, int], resample: Image.Resampling = _RESAMPLE
) -> Image.Image:
    if image.size == size:
        return image
    if image.mode in ("RGBA", "LA"):  # premultiply so transparent pixels do not bleed colour
        premultiplied = "RGBa" if image.mode == "RGBA" else "La"
        resized = image.convert(premultiplied).resize(size, resample, reducing_gap=_REDUCING_GAP)
        return resized.convert(image.mode)
    return image.resize(size, resample, reducing_gap=_REDUCING_GAP)


def _from_pixels(
    image: Image.Image,
    data: bytes | None,
    fit: _Fit,
    label: str,
    steps: list[str],
    declared: str | None = None,
) -> PreparedImage:
    """Decode (if not yet), orient, convert, resize and encode one image."""
    source_format = image.format or ""
    orientation = _orientation(image)
    frames = getattr(image, "n_frames", 1)
    width, height = image.size
    rotated = orientation in (5, 6, 7, 8)
    original = (height, width) if rotated else (width, height)
    target = fit.target(*original)
    stored_target = (target[1], target[0]) if rotated else target

    sendable = source_format in _SENDABLE_MODES and image.mode in _SENDABLE_MODES[source_format]
    if (
        data is not None
        and sendable
        and orientation == 1
        and frames == 1
        and target == original
        and base64_length(len(data)) <= fit.max_bytes
    ):
        _load(image, label)
        media_type = PIL_FORMAT_TO_MEDIA_TYPE[source_format]
        steps.append("sent unchanged: an accepted format, within the model's size and budget")
        return _finish(data, media_type, target, original, fit, label, steps, declared, True)

    if frames > 1:
        image.seek(0)
        steps.append(f"kept frame 1 of {frames}: the model sees only the first frame")
    full_size = image.size
    jpeg = source_format in ("JPEG", "MPO")
    if jpeg and stored_target != full_size and image.mode in ("RGB", "L"):
        image.draft(image.mode, stored_target)
    _load(image, label)
    resample = _RESAMPLE_AFTER_DRAFT if image.size != full_size else _RESAMPLE
    icc_profile = image.info.get("icc_profile")
    if image.mode == "CMYK":
        icc_profile = None
    pixels = _normalize_mode(image, steps)

    if pixels.mode in ("RGBA", "LA") and pixels.getchannel("A").getextrema()[0] == 255:
        pixels = pixels.convert(pixels.mode[:-1])
    if orientation != 1:
        words = _ORIENTATION[orientation][1]
        steps.append(f"applied EXIF orientation {orientation} ({words})")
    if target != original:
        if target == fit_within(*original, fit.max_side) and target != model_size(
            *original, fit.model.tier
        ):
            why = fit.max_side_reason
        else:
            tier = fit.model.tier
            why = f"{tier.name} tier: {tier.max_edge} px, {tier.max_tokens} tokens"
        steps.append(f"resized {original[0]}x{original[1]} -> {target[0]}x{target[1]} ({why})")
    pixels = _resize(pixels, stored_target, resample)
    if orientation != 1:
        pixels = pixels.transpose(_ORIENTATION[orientation][0])

    has_alpha = pixels.mode in ("RGBA", "LA")
    output = _choose_format(source_format, has_alpha, fit)
    encoded, output, pixels = _encode_within(pixels, output, icc_profile, fit, steps, label)
    media_type = PIL_FORMAT_TO_MEDIA_TYPE[output]
    return _finish(encoded, media_type, pixels.size, original, fit, label, steps, declared, False)


def _encode(image: Image.Image, output: str, quality: int, icc_profile: bytes | None) -> bytes:
    buffer = io.BytesIO()
    extra: dict[str, Any] = {"icc_profile": icc_profile} if icc_profile else {}
    if output == "JPEG":
        image.save(buffer, "JPEG", quality=quality, **extra)
    elif output == "WEBP":
        image.save(buffer, "WEBP", quality=quality, method=4, **extra)
    elif output == "GIF":
        image.save(buffer, "GIF")
    else:
        image.save(buffer, "PNG", compress_level=_PNG_COMPRESS_LEVEL, **extra)
    return buffer.getvalue()


def _to_mode_for(image: Image.Image, output: str, steps: list[str]) -> Image.Image:
    if output == "JPEG" and image.mode in ("RGBA", "LA"):
        steps.append("flattened transparency onto white (JPEG has no alpha)")
        background = Image.new("RGB", image.size, "white")
        background.paste(image.convert("RGBA"), mask=image.getchannel("A"))
        return background
    return image


def _encode_within(
    image: Image.Image,
    output: str,
    icc_profile: bytes | None,
    fit: _Fit,
    steps: list[str],
    label: str,
) -> tuple[bytes, str, Image.Image]:
    """Encode, then lower quality, then shrink, until the base64 fits ``fit.max_bytes``."""
    budget = fit.max_bytes
    image = _to_mode_for(image, output, steps)
    encoded = _encode(image, output, fit.quality, icc_profile)
    if base64_length(len(encoded)) <= budget:
        steps.append(f"encoded {output} ({len(encoded):,} bytes)")
        return encoded, output, image
    if output in ("PNG", "GIF"):
        lossy = "WEBP" if image.mode in ("RGBA", "LA") else "JPEG"
        steps.append(
            f"{output} was {base64_length(len(encoded)):,} base64 bytes, over the "
            f"{budget:,} budget: re-encoded as {lossy}"
        )
        output = lossy
        image = _to_mode_for(image, output, steps)
    for _ in range(8):
        best: bytes | None = None
        low, high = MIN_QUALITY, fit.quality
        smallest = _encode(image, output, low, icc_profile)
        if base64_length(len(smallest)) <= budget:
            best, chosen = smallest, low
            while low < high:
                middle = (low + high + 1) // 2
                candidate = _encode(image, output, middle, icc_profile)
                if base64_length(len(candidate)) <= budget:
                    best, chosen, low = candidate, middle, middle
                else:
                    high = middle - 1
            steps.append(f"encoded {output} at quality {chosen} to fit {budget:,} base64 bytes")
            return best, output, image
        ratio = math.sqrt(budget / base64_length(len(smallest))) * 0.9
        size = (max(1, int(image.width * ratio)), max(1, int(image.height * ratio)))
        steps.append(
            f"shrank {image.width}x{image.height} -> {size[0]}x{size[1]} to fit {budget:,} "
            "base64 bytes"
        )
        image = _resize(image, size)
    raise ImageTooLargeError(
        f"{label}: no encoding fits {budget:,} base64 bytes; raise max_bytes or pass a "
        "smaller image"
    )
