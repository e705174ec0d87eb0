"""Screenshots for computer-use and browser agents: fitted, and coordinates mapped back.

:func:`fit_screenshot` prepares a screenshot the way ``prepare_image`` prepares any image
(same decoding, orientation, encoder and byte budget) at the size asked for, and returns
it with the :class:`~claudevision.Transform` that turns the points Claude gives back into
screen coordinates:

>>> from claudevision import fit_screenshot
>>> shot = fit_screenshot("screen.png", target="auto")  # a 2560x1600 screenshot # doctest: +SKIP
>>> shot.size                   # the computer tool's display size     # doctest: +SKIP
(1280, 800)
>>> shot.to_screen(640, 400)    # Claude's click, on the screen        # doctest: +SKIP
(1280.0, 800.0)

Targets: ``"model"`` is exactly what the model looks at (its own resize rule);
``"XGA"`` (1024x768), ``"WXGA"`` (1280x800) and ``"FWXGA"`` (1366x768) are the sizes of
Anthropic's computer-use reference, and ``"auto"`` picks the one whose aspect ratio is
closest to the screen's, as the reference does; a ``(width, height)`` is any size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from PIL import Image

from .._core.exceptions import ConfigurationError, about
from .._core.limits import Bounds, Platform
from .._core.steps import Letterboxed, Resized, ResizeReason, Step
from .._core.transform import Box, Point, Transform
from .._read.read import ImageBytes, ImagePixels, ReadImage, read_image
from .._read.sources import ImageInput
from .fit import DEFAULT_QUALITY, Fit, OutputFormat, resolve
from .pixels import resize
from .prepare import prepare
from .prepared import PreparedImage
from .upright import require_pixels, upright

if TYPE_CHECKING:
    from anthropic.types import ImageBlockParam

__all__ = ["SCREEN_TARGETS", "ScreenTarget", "Screenshot", "fit_screenshot"]

Size = tuple[int, int]
ScreenTarget = Literal["model", "auto", "XGA", "WXGA", "FWXGA"]

SCREEN_TARGETS: dict[str, Size] = {
    "XGA": (1024, 768),  # 4:3
    "WXGA": (1280, 800),  # 16:10
    "FWXGA": (1366, 768),  # about 16:9
}
"""The screenshot sizes of Anthropic's computer-use reference implementation."""

_NAMES = {name.lower(): name for name in ("model", "auto", *SCREEN_TARGETS)}
_BLACK: dict[str, int | tuple[int, ...]] = {
    "L": 0,
    "LA": (0, 255),
    "RGB": (0, 0, 0),
    "RGBA": (0, 0, 0, 255),
}


@dataclass(frozen=True)
class Screenshot:
    """A fitted screenshot: the image to send and the way back to the screen.

    ``image`` is the :class:`~claudevision.PreparedImage` to send; ``transform`` maps the
    points Claude gives (pixels of ``image``) to screen coordinates, which are points
    (not pixels) when ``device_pixel_ratio`` is not 1. ``target`` is the target used
    (the named size ``"auto"`` chose, or the size asked for) and ``screen_size`` the
    screen's extent in screen coordinates.
    """

    image: PreparedImage
    transform: Transform
    target: str | Size
    screen_size: tuple[float, float]

    @property
    def size(self) -> Size:
        """The size sent, padding included: the computer tool's ``display_width_px`` and
        ``display_height_px``, since Claude's coordinates are pixels of it."""
        assert self.image.size is not None
        return self.image.size

    @property
    def block(self) -> ImageBlockParam:
        """The ``image`` block to send (in a user turn or a ``tool_result``)."""
        return self.image.block

    def to_screen(self, x: float, y: float, *, clamp: bool = False) -> Point:
        """A point Claude gave, in screen coordinates (see :meth:`Transform.to_screen`)."""
        return self.transform.to_screen(x, y, clamp=clamp)

    def to_model(self, x: float, y: float, *, clamp: bool = False) -> Point:
        """A screen point in pixels of the image sent (see :meth:`Transform.to_model`)."""
        return self.transform.to_model(x, y, clamp=clamp)

    def box_to_screen(self, box: Sequence[float], *, clamp: bool = False) -> Box:
        """An ``(x0, y0, x1, y1)`` box Claude gave, in screen coordinates."""
        return self.transform.box_to_screen(box, clamp=clamp)

    def box_to_model(self, box: Sequence[float], *, clamp: bool = False) -> Box:
        """A screen box in pixels of the image sent."""
        return self.transform.box_to_model(box, clamp=clamp)


@dataclass(frozen=True, slots=True)
class _Plan:
    """Where the screenshot goes: the target used, its size inside the canvas, the canvas."""

    target: str | Size
    content: Size
    canvas: Size
    left: int
    top: int
    detail: str


def fit_screenshot(
    image: ImageInput | ReadImage,
    *,
    target: ScreenTarget | tuple[int, int] = "model",
    model: str | None = None,
    platform: str | Platform = "anthropic",
    device_pixel_ratio: float = 1.0,
    pad: bool = False,
    stretch: bool = False,
    max_side: int | None = None,
    max_bytes: int | None = None,
    format: OutputFormat | None = None,
    quality: int = DEFAULT_QUALITY,
    label: str | None = None,
    paths: bool = True,
    bounds: Bounds | None = None,
) -> Screenshot:
    """Fit a screenshot to ``target`` for ``model`` and map Claude's points back.

    The aspect ratio is kept (the screenshot fits inside the target, never enlarged)
    unless ``stretch=True``, which resizes to exactly the target. ``pad=True``
    letterboxes to exactly the target size, centred on black; the transform skips the
    padding. A target larger than ``model`` looks at is shrunk to the model's size (never
    sent bigger than the model sees), and everything stays within the platform's limits
    and ``max_side`` / ``max_bytes``. Named targets turn portrait for a portrait screen.

    ``device_pixel_ratio`` is the screenshot's pixels per screen point: 2.0 for a Retina
    screenshot of a screen whose coordinates (clicks, CSS) are in points. Other options
    are those of :func:`~claudevision.prepare_image`.
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
    wanted = _check(target, device_pixel_ratio, pad, stretch)
    read = read_image(image, label=label, paths=paths, bounds=fit.bounds)
    dpr = float(device_pixel_ratio)
    with about(read.label):
        pixels = require_pixels(read, "fit_screenshot")
        if wanted == "model":
            return _as_model_sees(pixels, fit, dpr)
        return _to_target(pixels, fit, wanted, pad, stretch, dpr)


def _check(target: object, dpr: object, pad: object, stretch: object) -> str | Size:
    """The target, checked and canonical (``"XGA"``, ``(w, h)``), or a ConfigurationError."""
    problems = []
    wanted: str | Size = "model"
    if isinstance(target, str) and target.lower() in _NAMES:
        wanted = _NAMES[target.lower()]
    elif (
        isinstance(target, (tuple, list))
        and len(target) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in target)
    ):
        wanted = (target[0], target[1])
    else:
        problems.append(
            f"target={target!r}: use 'model', 'auto', 'XGA', 'WXGA', 'FWXGA' or a "
            "(width, height) of whole numbers"
        )
    if isinstance(dpr, bool) or not isinstance(dpr, (int, float)) or not 0 < dpr < math.inf:
        problems.append(f"device_pixel_ratio={dpr!r}: use a number above 0, such as 2.0")
    if pad and stretch:
        problems.append("pad=True and stretch=True: choose one (stretch leaves no padding)")
    elif wanted == "model" and (pad or stretch):
        problems.append(
            f"{'pad' if pad else 'stretch'}=True needs a target size; target='model' keeps "
            "the screenshot's aspect. Pass target='auto', 'XGA', ... or (width, height)"
        )
    if problems:
        raise ConfigurationError("; ".join(problems))
    return wanted


def _as_model_sees(read: ImageBytes | ImagePixels, fit: Fit, dpr: float) -> Screenshot:
    prepared = prepare(read, fit)
    assert prepared.size is not None and prepared.original_size is not None
    (width, height), (sent_w, sent_h) = prepared.original_size, prepared.size
    transform = Transform(
        scale_x=width / sent_w,
        scale_y=height / sent_h,
        device_pixel_ratio=dpr,
        content=(0, 0, sent_w, sent_h),
    )
    return Screenshot(prepared, transform, "model", (width / dpr, height / dpr))


def _to_target(
    read: ImageBytes | ImagePixels,
    fit: Fit,
    wanted: str | Size,
    pad: bool,
    stretch: bool,
    dpr: float,
) -> Screenshot:
    """Decode, resize into the target (padding if asked), then prepare like any image."""
    source = upright(read, fit.bounds, "fit_screenshot")
    original = source.image.size
    plan = _plan(original, wanted, fit, pad, stretch)
    canvas = resize(source.image, plan.content)
    steps: list[Step] = []
    if plan.content != original:
        steps.append(Resized(original, plan.content, ResizeReason.TARGET, plan.detail))
    if plan.canvas != plan.content:
        background = Image.new(canvas.mode, plan.canvas, _BLACK[canvas.mode])
        background.paste(canvas, (plan.left, plan.top))
        background.info = dict(source.image.info)  # the colour profile, nothing else
        canvas = background
        steps.append(Letterboxed(plan.content, plan.canvas, plan.left, plan.top))
    prepared = prepare(ImagePixels(canvas, read.label, source.format), fit)
    prepared = replace(
        prepared,
        original_size=original,
        declared_media_type=source.declared_media_type,
        steps=(*source.steps, *steps, *prepared.steps),
    )
    return Screenshot(
        prepared, _letterbox(original, plan, prepared, dpr), plan.target, _points(original, dpr)
    )


def _points(size: Size, dpr: float) -> tuple[float, float]:
    return size[0] / dpr, size[1] / dpr


def _letterbox(original: Size, plan: _Plan, prepared: PreparedImage, dpr: float) -> Transform:
    """The transform for the image as sent (the encoder may have shrunk the canvas)."""
    assert prepared.size is not None
    fx, fy = prepared.size[0] / plan.canvas[0], prepared.size[1] / plan.canvas[1]
    left, top = plan.left * fx, plan.top * fy
    right, bottom = (plan.left + plan.content[0]) * fx, (plan.top + plan.content[1]) * fy
    return Transform(
        scale_x=original[0] / (right - left),
        scale_y=original[1] / (bottom - top),
        pad_left=left,
        pad_top=top,
        device_pixel_ratio=dpr,
        content=(left, top, right, bottom),
    )


def _plan(original: Size, wanted: str | Size, fit: Fit, pad: bool, stretch: bool) -> _Plan:
    name, box = _target_box(original, wanted)
    limit = fit.target(*box)  # never larger than the model looks at, nor the platform takes
    detail = f"{name + ' ' if isinstance(name, str) else ''}target {box[0]}x{box[1]}"
    if limit != box:
        detail += f", shrunk to {limit[0]}x{limit[1]} for {fit.model.name}"
    if stretch:
        return _Plan(name, limit, limit, 0, 0, detail + ", stretched")
    content = _inside(original, limit)
    canvas = limit if pad else content
    left, top = (canvas[0] - content[0]) // 2, (canvas[1] - content[1]) // 2
    return _Plan(name, content, canvas, left, top, detail)


def _target_box(original: Size, wanted: str | Size) -> tuple[str | Size, Size]:
    """The target's name and size, turned portrait for a portrait screen if named."""
    if isinstance(wanted, tuple):
        return wanted, wanted
    width, height = original
    if wanted == "auto":
        aspect = max(width, height) / min(width, height)
        wanted = min(SCREEN_TARGETS, key=lambda n: abs(_aspect(SCREEN_TARGETS[n]) - aspect))
    w, h = SCREEN_TARGETS[wanted]
    return wanted, ((h, w) if height > width else (w, h))


def _aspect(size: Size) -> float:
    return size[0] / size[1]


def _inside(size: Size, box: Size) -> Size:
    """The largest aspect-preserving size within ``box``; never larger than ``size``."""
    width, height = size
    box_w, box_h = box
    if width <= box_w and height <= box_h:
        return size
    if width * box_h >= height * box_w:  # the width limits
        return box_w, min(box_h, max(1, round(height * box_w / width)))
    return min(box_w, max(1, round(width * box_h / height))), box_h
