"""Sizes, tokens and cost of many images without preparing them: headers, not pixels.

    >>> from claudevision import estimate
    >>> found = estimate(["a.jpg", "b.png"], model="claude-sonnet-4-6")   # doctest: +SKIP
    >>> found.tokens, found.cost                                         # doctest: +SKIP
    (3128, 0.009384)

For a JPEG, PNG, GIF or WebP file only its first bytes are read: the size and the EXIF
orientation come from the header, as Pillow reads them when the image is prepared, and
the size sent follows from the same rule (:meth:`~.fit.Fit.target`), so the tokens are
those :func:`~claudevision.prepare_image` gives. Other formats (HEIC, TIFF, ...) and
headers that cannot be read are prepared in full: decoded only where they must be.

The estimate is of each image alone: a request of more than 20 images caps each at
2000 px per side (``ImageMessage`` applies it), and an image the byte budget forces
smaller (a ``Shrunk`` step, rare) costs fewer tokens than estimated.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final

from PIL import Image

from .._core.exceptions import ConfigurationError, about
from .._core.geometry import model_size, visual_tokens
from .._core.limits import Bounds, Platform
from .._core.media import PIL_FORMAT_TO_MEDIA_TYPE, sniff_mime
from .._core.models import estimate_cost
from .._read.read import ImageBytes, ImagePixels, ImageReference, ReadImage, read_head, read_image
from .._read.sources import ImageInput, classify_string, describe_input
from .decode import DECODE_ERRORS, check_size, quiet
from .fit import Fit, resolve
from .pixels import orientation_of
from .prepare import prepare, run_parallel
from .prepared import PreparedImage

__all__ = ["Estimate", "ImageEstimate", "estimate"]

Size = tuple[int, int]
# Enough for the headers of nearly every photo (EXIF, ICC profile and frame header).
_HEAD: Final = 256 * 1024
# Formats whose header gives the size Pillow decodes to; others are prepared in full.
_FROM_HEADER: Final = frozenset({"JPEG", "MPO", "PNG", "GIF", "WEBP"})


@dataclass(frozen=True)
class ImageEstimate:
    """One image's estimate: its format and sizes, the tokens it costs, what they cost."""

    label: str
    format: str | None
    """The input's media type (``image/heic`` for a HEIC photo); None for a URL or file id."""
    original_size: Size | None
    """The input as a viewer shows it (after EXIF orientation)."""
    size: Size | None
    """What would be sent."""
    model_size: Size | None
    tokens: int | None
    cost: float | None
    """Estimated US dollars, where the model's price is known."""
    input_bytes: int | None
    """Bytes of the input (its file size); None for a URL or file id."""
    decoded: bool = False
    """True when the header did not tell and the image was prepared in full."""


@dataclass(frozen=True)
class Estimate:
    """Estimates of many images: ``images`` in order, and the totals."""

    model: str
    images: tuple[ImageEstimate, ...]

    @property
    def tokens(self) -> int | None:
        """Total image tokens (None when a URL or file-id image's size is unknown)."""
        counts = [image.tokens for image in self.images]
        return None if None in counts else sum(c for c in counts if c is not None)

    @property
    def cost(self) -> float | None:
        """Total estimated US dollars (None when the price or a size is unknown)."""
        costs = [image.cost for image in self.images]
        return None if None in costs else round(sum(c for c in costs if c is not None), 10)

    def __iter__(self) -> Iterator[ImageEstimate]:
        return iter(self.images)

    def __len__(self) -> int:
        return len(self.images)

    def describe(self) -> str:
        """One line per image and the total, for logs."""
        lines = []
        for image in self.images:
            size = "unknown" if image.size is None else f"{image.size[0]}x{image.size[1]}"
            tokens = "unknown" if image.tokens is None else f"{image.tokens:,}"
            lines.append(f"{image.label}: {image.format}, sent {size}, {tokens} tokens")
        total = "unknown" if self.tokens is None else f"{self.tokens:,}"
        cost = "" if self.cost is None else f", estimated ${self.cost:.5f}"
        lines.append(f"{len(self.images)} image(s), {total} tokens{cost}")
        return "\n".join(lines)


def estimate(
    images: Iterable[ImageInput | ReadImage] | ImageInput,
    *,
    model: str | None = None,
    platform: str | Platform = "anthropic",
    max_side: int | None = None,
    paths: bool = True,
    bounds: Bounds | None = None,
) -> Estimate:
    """Sizes, tokens and cost of ``images`` (one input or many) for ``model`` on ``platform``.

    Reads headers only where the format allows (a few hundred KiB of each JPEG, PNG, GIF
    or WebP file) and prepares the rest; the tokens are those
    :func:`~claudevision.prepare_image` gives each image alone.
    """
    fit = resolve(model=model, platform=platform, max_side=max_side, bounds=bounds)
    items = _items(images)
    labels = [f"image {i} ({describe_input(item)})" for i, item in enumerate(items, 1)]
    found: list[ImageEstimate | None] = [
        _from_header(item, label, fit, paths) for item, label in zip(items, labels, strict=True)
    ]
    todo = [i for i, one in enumerate(found) if one is None]
    full = run_parallel([partial(_prepared, items[i], labels[i], fit, paths) for i in todo])
    for i, one in zip(todo, full, strict=True):
        found[i] = one
    return Estimate(fit.model.name, tuple(one for one in found if one is not None))


def _items(images: Any) -> list[Any]:
    if isinstance(images, (str, bytes, bytearray, memoryview, Path, Image.Image)):
        return [images]
    if not isinstance(images, Iterable):
        return [images]
    items = list(images)
    if not items:
        raise ConfigurationError("estimate() needs at least one image")
    return items


def _from_header(item: Any, label: str, fit: Fit, paths: bool) -> ImageEstimate | None:
    """The estimate from the first bytes of a file (or from bytes or pixels in memory);
    None when only preparing the image can tell."""
    with about(label):
        target: Any = item
        if isinstance(item, str):
            found = classify_string(item, paths=paths, label=label)
            target = found if isinstance(found, Path) else item
        if isinstance(target, Path):
            head, total = read_head(target, _HEAD, label=label)
            read: ReadImage = ImageBytes(head, label)
        else:
            read = read_image(item, label=label, paths=paths, bounds=fit.bounds)
            total = len(read.data) if isinstance(read, ImageBytes) else 0
        if isinstance(read, ImageReference):
            prepare(read, fit)  # the platform may refuse the source kind
            return ImageEstimate(label, None, None, None, None, None, None, None)
        if isinstance(read, ImagePixels):
            return _result(label, read.image, read.format, fit, None)
        try:
            with quiet():
                image = Image.open(io.BytesIO(read.data))
                if image.format not in _FROM_HEADER:
                    return None
                return _result(label, image, image.format, fit, total)
        except DECODE_ERRORS:
            return None  # a header past the first bytes, or damage: prepare it to know


def _result(
    label: str, image: Image.Image, format: str | None, fit: Fit, total: int | None
) -> ImageEstimate:
    check_size(image.size, fit.bounds)
    with quiet():
        orientation = orientation_of(image)
    width, height = image.size
    original = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    size = fit.target(*original)
    seen = model_size(*size, fit.model.tier)
    tokens = visual_tokens(*seen)
    media_type = PIL_FORMAT_TO_MEDIA_TYPE.get(format or "") or Image.MIME.get(format or "")
    return ImageEstimate(
        label,
        media_type,
        original,
        size,
        seen,
        tokens,
        estimate_cost(tokens, fit.model.name),
        total,
    )


def _prepared(item: Any, label: str, fit: Fit, paths: bool) -> ImageEstimate:
    with about(label):
        read = read_image(item, label=label, paths=paths, bounds=fit.bounds)
        prepared: PreparedImage = prepare(read, fit)
    data = read.data if isinstance(read, ImageBytes) else None
    tokens = prepared.tokens
    return ImageEstimate(
        label,
        sniff_mime(data) if data else None,
        prepared.original_size,
        prepared.size,
        prepared.model_size,
        tokens,
        None if tokens is None else estimate_cost(tokens, fit.model.name),
        None if data is None else len(data),
        decoded=True,
    )
