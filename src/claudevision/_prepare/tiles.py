"""Tiles of long images: full-page screenshots, receipts, scans, each tile kept sharp.

Sent whole, a 1280x12000 page is shrunk until it fits the model's limits (to 167x1568 on
a standard-tier model) and its text is lost. :func:`tile_image` cuts it along its long
side into tiles that span the whole width, each as long as the model's resize rule
allows without shrinking that width any further than the model's long-edge limit already
does (on a standard-tier model a 1280 px wide tile may be up to 1280x952, and is sent
and seen at that size). Neighbouring tiles overlap a little, so a line cut by one edge
is whole in the next tile.

>>> from claudevision import tile_image
>>> tiles = tile_image("page.png", model="claude-sonnet-4-6")      # doctest: +SKIP
>>> len(tiles), tiles[1].box, tiles[1].image.size                   # doctest: +SKIP
(14, (0, 854, 1280, 1756), (1280, 902))
>>> tiles[1].to_page(640, 10)    # a point Claude gave in tile 2   # doctest: +SKIP
(640.0, 864.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Literal

from .._core.exceptions import ConfigurationError, TooManyImagesError, about
from .._core.limits import Bounds, Platform
from .._core.steps import Resized, ResizeReason, Step, Tiled
from .._core.transform import Box, Point, Transform
from .._read.read import ImagePixels, ReadImage, read_image
from .._read.sources import ImageInput
from .fit import DEFAULT_QUALITY, Fit, OutputFormat, resolve
from .pixels import resize
from .prepare import prepare, run_parallel
from .prepared import PreparedImage
from .upright import Upright, upright

if TYPE_CHECKING:
    from anthropic.types import ImageBlockParam

__all__ = ["DEFAULT_MAX_TILES", "Tile", "tile_image"]

PageBox = tuple[int, int, int, int]

DEFAULT_MAX_TILES = 20
"""At most this many tiles unless asked: a request holding only them stays within 20
images, above which every image is limited to 2000 px per side."""


@dataclass(frozen=True)
class Tile:
    """One tile of a long image: what to send, and the way back to the page.

    ``index`` counts from 0 of ``count``; ``box`` is the ``(x0, y0, x1, y1)`` the tile
    covers, in pixels of the (upright) page image; ``transform`` maps points Claude gives
    in this tile to page coordinates (page pixels divided by ``device_pixel_ratio``).
    ``axis`` is the direction the tiles advance: ``"y"`` down a tall page, ``"x"``
    across a wide one.
    """

    index: int
    count: int
    box: PageBox
    image: PreparedImage
    transform: Transform
    axis: Literal["x", "y"] = "y"

    @property
    def block(self) -> ImageBlockParam:
        """The ``image`` block to send."""
        return self.image.block

    @property
    def caption(self) -> str:
        """Words for a text block before the tile: ``Tile 2 of 14 (page y 854-1756):``."""
        x0, y0, x1, y1 = self.box
        span = f"y {y0}-{y1}" if self.axis == "y" else f"x {x0}-{x1}"
        return f"Tile {self.index + 1} of {self.count} (page {span}):"

    def to_page(self, x: float, y: float, *, clamp: bool = False) -> Point:
        """A point Claude gave in this tile, in page coordinates."""
        return self.transform.to_screen(x, y, clamp=clamp)

    def box_to_page(self, box: Sequence[float], *, clamp: bool = False) -> Box:
        """An ``(x0, y0, x1, y1)`` box Claude gave in this tile, in page coordinates."""
        return self.transform.box_to_screen(box, clamp=clamp)


def tile_image(
    image: ImageInput | ReadImage,
    *,
    model: str | None = None,
    platform: str | Platform = "anthropic",
    overlap: float = 0.05,
    max_tiles: int = DEFAULT_MAX_TILES,
    device_pixel_ratio: float = 1.0,
    max_side: int | None = None,
    max_bytes: int | None = None,
    format: OutputFormat | None = None,
    quality: int = DEFAULT_QUALITY,
    label: str | None = None,
    paths: bool = True,
    bounds: Bounds | None = None,
) -> list[Tile]:
    """Cut a long image along its long side into tiles the model sees at full detail.

    Each tile spans the image's whole short side (its width, for a tall page), kept at
    the largest width the model looks at (the width itself, up to the model's long-edge
    limit), and is as long as the model's resize rule then allows; every tile has the
    same size. Consecutive tiles overlap by at least ``overlap`` (a fraction of a tile,
    from 0 to under 0.5). An image that fits in one such tile is one tile.

    More than ``max_tiles`` tiles raise :class:`~claudevision.TooManyImagesError`
    before anything is encoded. Pass ``max_side=2000`` for tiles that go in a request of
    more than 20 images. Other options are those of :func:`~claudevision.prepare_image`;
    ``device_pixel_ratio`` makes the transforms give CSS pixels of a HiDPI page.
    """
    fit = resolve(
        model=model,
        platform=platform,
        max_side=max_side,
        max_bytes=max_bytes,
        format=format,
        quality=quality,
        bounds=bounds,
    )
    _check(overlap, max_tiles, device_pixel_ratio)
    read = read_image(image, label=label, paths=paths, bounds=fit.bounds)
    with about(read.label):
        return _tiles(read, fit, overlap, max_tiles, float(device_pixel_ratio))


def _tiles(read: ReadImage, fit: Fit, overlap: float, max_tiles: int, dpr: float) -> list[Tile]:
    source = upright(read, fit.bounds, "tile_image")
    plan = _plan(source.image.size, fit, overlap, max_tiles)
    count = len(plan.boxes)
    prepared = run_parallel(
        [
            partial(_tile, source, box, i, count, plan.sent, fit, read.label)
            for i, box in enumerate(plan.boxes)
        ]
    )
    axis: Literal["x", "y"] = "y" if source.image.height >= source.image.width else "x"
    return [
        Tile(i, count, box, image, _page_transform(box, image, dpr), axis)
        for i, (box, image) in enumerate(zip(plan.boxes, prepared, strict=True))
    ]


def _check(overlap: object, max_tiles: object, dpr: object) -> None:
    problems = []
    if not isinstance(overlap, (int, float)) or isinstance(overlap, bool) or not 0 <= overlap < 0.5:
        problems.append(f"overlap={overlap!r}: use a fraction of a tile from 0 to under 0.5")
    if isinstance(max_tiles, bool) or not isinstance(max_tiles, int) or max_tiles < 1:
        problems.append(f"max_tiles={max_tiles!r}: use a whole number of at least 1")
    if isinstance(dpr, bool) or not isinstance(dpr, (int, float)) or not 0 < dpr < math.inf:
        problems.append(f"device_pixel_ratio={dpr!r}: use a number above 0, such as 2.0")
    if problems:
        raise ConfigurationError("; ".join(problems))


@dataclass(frozen=True, slots=True)
class _Plan:
    """The tiles' page boxes, and the one size each is sent at."""

    boxes: list[PageBox]
    sent: tuple[int, int]


def _tile_size(across: int, along: int, fit: Fit, tall: bool) -> tuple[int, int, int]:
    """The longest tile's length on the page, and its short and long sides as sent.

    The short side (``across``, spanned whole) is sent at the most the model keeps of
    it (itself, up to the long-edge limit and the platform's pixels per side); the long
    side is the most the model then looks at unresized, scaled by the same factor.
    """

    def oriented(short: int, long: int) -> tuple[int, int]:
        return (short, long) if tall else (long, short)

    def fits(long: int) -> bool:
        return fit.target(*oriented(best, long)) == oriented(best, long)

    best = fit.target(*oriented(across, 1))[0 if tall else 1]
    low, high = 1, fit.max_side + 1  # low fits, high never does
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    length = min(along, low * across // best)
    return length, best, min(low, max(1, round(length * best / across)))


def _spread(along: int, longest: int, overlap: float) -> tuple[int, list[int]]:
    """The fewest tiles of at most ``longest`` that cover ``along`` with ``overlap``:
    their common length (no longer than needed) and evenly spread starts."""
    if along <= longest:
        return along, [0]
    shared = math.ceil(overlap * longest)
    count = 1 + math.ceil((along - longest) / max(1, longest - shared))
    length = -(-(along + (count - 1) * shared) // count)
    return length, [round(i * (along - length) / (count - 1)) for i in range(count)]


def _plan(size: tuple[int, int], fit: Fit, overlap: float, max_tiles: int) -> _Plan:
    width, height = size
    tall = height >= width
    across, along = (width, height) if tall else (height, width)
    longest, sent_across, _ = _tile_size(across, along, fit, tall)
    length, starts = _spread(along, longest, overlap)
    sent_along = max(1, round(length * sent_across / across))
    if len(starts) > max_tiles:
        side = "width" if tall else "height"
        shape = f"{across}x{length}" if tall else f"{length}x{across}"
        raise TooManyImagesError(
            f"the image is {width}x{height}: keeping its {across} px {side} legible for "
            f"{fit.model.name} takes {len(starts)} tiles of {shape} with {overlap:.0%} "
            f"overlap, over max_tiles={max_tiles}; raise max_tiles, crop the image to the "
            "part that matters, or accept less detail with prepare_image"
        )
    if tall:
        boxes = [(0, start, width, start + length) for start in starts]
        return _Plan(boxes, (sent_across, sent_along))
    boxes = [(start, 0, start + length, height) for start in starts]
    return _Plan(boxes, (sent_along, sent_across))


def _tile(
    source: Upright,
    box: PageBox,
    index: int,
    count: int,
    sent: tuple[int, int],
    fit: Fit,
    label: str,
) -> PreparedImage:
    """Crop, resize to the planned size (the model's, so it is not resized again), prepare."""
    crop = source.image.crop(box)
    steps: list[Step] = [Tiled(index, count, box)]
    if crop.size != sent:
        tier = fit.model.tier
        detail = f"{tier.name} tier: {tier.max_edge} px, {tier.max_tokens} tokens"
        steps.append(Resized(crop.size, sent, ResizeReason.TIER, detail))
        crop = resize(crop, sent)
    name = f"{label}, tile {index + 1} of {count}"
    prepared = prepare(ImagePixels(crop, name, source.format), fit)
    return replace(
        prepared,
        original_size=(box[2] - box[0], box[3] - box[1]),
        declared_media_type=source.declared_media_type,
        steps=(*source.steps, *steps, *prepared.steps),
    )


def _page_transform(box: PageBox, image: PreparedImage, dpr: float) -> Transform:
    assert image.size is not None
    x0, y0, x1, y1 = box
    sent_w, sent_h = image.size
    return Transform(
        scale_x=(x1 - x0) / sent_w,
        scale_y=(y1 - y0) / sent_h,
        device_pixel_ratio=dpr,
        offset_x=x0 / dpr,
        offset_y=y0 / dpr,
        content=(0, 0, sent_w, sent_h),
    )
