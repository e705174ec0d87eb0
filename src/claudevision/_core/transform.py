"""Coordinates both ways between the image Claude saw and the screen (or page) it shows.

Claude gives points and boxes in pixels of the image it was sent. A :class:`Transform`
turns them into screen coordinates (what to click) and back (what to point Claude at):

    screen = (model - pad) * scale / device_pixel_ratio + offset

per axis, where ``scale`` is screenshot pixels per model pixel, ``pad`` the letterbox
padding in model pixels, ``device_pixel_ratio`` the screenshot pixels per screen point of
a HiDPI screen, and ``offset`` where the content starts on the screen (a tile's place on
its page). Coordinates are continuous: pixel ``i`` spans ``[i, i + 1)``, so the image's
edges map onto the screen's edges exactly.

>>> t = Transform(scale_x=2.8125, scale_y=2.8125, device_pixel_ratio=2.0,
...               content=(0, 0, 1024, 640))
>>> t.to_screen(512, 320)           # the middle of a 1440x900-point screen
(720.0, 450.0)
>>> t.to_model(720, 450)
(512.0, 320.0)

A point outside ``content`` (the part of the model image that shows the screen: not the
padding, not beyond the image) raises :class:`~claudevision.CoordinateError` unless
``clamp=True``, which maps it to the nearest point of the content's edge. A transform
without ``content`` maps every point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

from .exceptions import ConfigurationError, CoordinateError

__all__ = ["Box", "Point", "Transform"]

Point = tuple[float, float]
Box = tuple[float, float, float, float]
"""``(x0, y0, x1, y1)``: left, top, right, bottom."""

# Rounding slack when a point is tested against the content: a relative 1e-9 of its size.
_SLACK = 1e-9


def _box(value: Sequence[float], name: str) -> Box:
    try:
        x0, y0, x1, y1 = (float(v) for v in value)
    except (TypeError, ValueError, OverflowError):
        raise CoordinateError(
            f"{name} {value!r} is not a box; pass four numbers (x0, y0, x1, y1)"
        ) from None
    return x0, y0, x1, y1


def _content(value: object) -> Box | None:
    """A content box as four finite floats, or None when it is not one."""
    try:
        x0, y0, x1, y1 = (float(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError, OverflowError):
        return None
    box = (x0, y0, x1, y1)
    return box if all(math.isfinite(v) for v in box) else None


def _finite(x: float, y: float) -> Point:
    try:
        px, py = float(x), float(y)
    except (TypeError, ValueError, OverflowError):
        raise CoordinateError(f"({x!r}, {y!r}) is not a point; pass two numbers") from None
    if not (math.isfinite(px) and math.isfinite(py)):
        raise CoordinateError(f"({x!r}, {y!r}) is not a finite point; pass two finite numbers")
    return px, py


def _limit(value: float, low: float, high: float, clamp: bool) -> float | None:
    """``value`` within ``[low, high]`` (clamped, or within rounding slack), else None."""
    slack = _SLACK * max(1.0, abs(low), abs(high))
    if low - slack <= value <= high + slack or clamp:
        return min(max(value, low), high)
    return None


@dataclass(frozen=True, slots=True)
class Transform:
    """Maps points and boxes between the model's image and the screen, both ways.

    ``scale_x``, ``scale_y``: screenshot pixels per model pixel. ``pad_left``,
    ``pad_top``: padding before the content, in model pixels. ``device_pixel_ratio``:
    screenshot pixels per screen point (2.0 on a Retina screen whose coordinates are in
    points). ``offset_x``, ``offset_y``: added after scaling, in screen units.
    ``content``: the box of the model image that shows the screen, or None for no bound.

    >>> letterboxed = Transform(scale_x=1.875, scale_y=1.875, pad_top=96,
    ...                         content=(0, 96, 1024, 672))
    >>> letterboxed.to_screen(0, 96), letterboxed.to_screen(1024, 672)
    ((0.0, 0.0), (1920.0, 1080.0))
    >>> try:
    ...     letterboxed.to_screen(10, 20)
    ... except CoordinateError as exc:
    ...     print(exc)  # doctest: +ELLIPSIS
    point (10, 20) lies outside the screen's part of the image (x 0..1024, y 96..672), ...
    >>> letterboxed.to_screen(10, 20, clamp=True)
    (18.75, 0.0)
    """

    scale_x: float = 1.0
    scale_y: float = 1.0
    pad_left: float = 0.0
    pad_top: float = 0.0
    device_pixel_ratio: float = 1.0
    offset_x: float = 0.0
    offset_y: float = 0.0
    content: Box | None = None

    def __post_init__(self) -> None:
        problems = []
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "content" or (
                isinstance(value, (int, float))
                and not isinstance(value, bool)
                and math.isfinite(value)
            ):
                continue
            problems.append(f"{field.name}={value!r}: use a finite number")
        for name in ("scale_x", "scale_y", "device_pixel_ratio"):
            value = getattr(self, name)
            if isinstance(value, (int, float)) and not value > 0:
                problems.append(f"{name}={value!r}: use a number above 0")
        if self.content is not None:
            box = _content(self.content)
            if box is None:
                problems.append(
                    f"content={self.content!r}: use four finite numbers (x0, y0, x1, y1)"
                )
            elif box[0] > box[2] or box[1] > box[3]:
                problems.append(f"content={self.content!r}: x0 <= x1 and y0 <= y1")
            else:
                object.__setattr__(self, "content", box)
        if problems:
            raise ConfigurationError("Transform(" + "; ".join(problems) + ")")

    @classmethod
    def identity(cls) -> Transform:
        """The transform that changes nothing and bounds nothing.

        >>> Transform.identity().to_screen(3, 4)
        (3.0, 4.0)
        """
        return cls()

    @property
    def factor_x(self) -> float:
        """Screen units per model pixel across: ``scale_x / device_pixel_ratio``."""
        return self.scale_x / self.device_pixel_ratio

    @property
    def factor_y(self) -> float:
        """Screen units per model pixel down: ``scale_y / device_pixel_ratio``."""
        return self.scale_y / self.device_pixel_ratio

    @property
    def screen_box(self) -> Box | None:
        """``content`` in screen coordinates: the screen's extent (None when unbounded).

        >>> Transform(scale_x=2, scale_y=2, content=(0, 0, 640, 400)).screen_box
        (0.0, 0.0, 1280.0, 800.0)
        """
        if self.content is None:
            return None
        x0, y0, x1, y1 = self.content
        return (*self._forward(x0, y0), *self._forward(x1, y1))

    def _forward(self, x: float, y: float) -> Point:
        return (
            (x - self.pad_left) * self.factor_x + self.offset_x,
            (y - self.pad_top) * self.factor_y + self.offset_y,
        )

    def _backward(self, x: float, y: float) -> Point:
        return (
            (x - self.offset_x) / self.factor_x + self.pad_left,
            (y - self.offset_y) / self.factor_y + self.pad_top,
        )

    def to_screen(self, x: float, y: float, *, clamp: bool = False) -> Point:
        """A point Claude gave (pixels of the image it saw) in screen coordinates.

        Raises :class:`~claudevision.CoordinateError` for a point outside ``content``;
        ``clamp=True`` maps it to the nearest point of the content's edge instead.
        """
        point = _inside(_finite(x, y), self.content, clamp, "the screen's part of the image")
        return self._forward(*point)

    def to_model(self, x: float, y: float, *, clamp: bool = False) -> Point:
        """A screen point in pixels of the image Claude saw (to point Claude at it).

        Raises :class:`~claudevision.CoordinateError` for a point off the screen
        (outside ``screen_box``); ``clamp=True`` maps it to the nearest edge instead.
        """
        point = _inside(_finite(x, y), self.screen_box, clamp, "the screen")
        return self._backward(*point)

    def box_to_screen(self, box: Sequence[float], *, clamp: bool = False) -> Box:
        """An ``(x0, y0, x1, y1)`` box Claude gave, in screen coordinates.

        Each corner is checked like a point: ``clamp=True`` clips the box to the content.

        >>> Transform(scale_x=2, scale_y=2).box_to_screen((10, 20, 30, 40))
        (20.0, 40.0, 60.0, 80.0)
        """
        x0, y0, x1, y1 = _box(box, "box")
        return (*self.to_screen(x0, y0, clamp=clamp), *self.to_screen(x1, y1, clamp=clamp))

    def box_to_model(self, box: Sequence[float], *, clamp: bool = False) -> Box:
        """A screen box in pixels of the image Claude saw; corners checked like points."""
        x0, y0, x1, y1 = _box(box, "box")
        return (*self.to_model(x0, y0, clamp=clamp), *self.to_model(x1, y1, clamp=clamp))

    def then(self, other: Transform) -> Transform:
        """This transform followed by ``other``: ``other`` maps this one's screen onward.

        The content is what both bound. ``a.then(b)`` is ``b @ a``.

        >>> tile = Transform(offset_y=900, content=(0, 0, 1280, 952))  # a tile of a page
        >>> css = Transform(device_pixel_ratio=2)                       # page pixels -> CSS px
        >>> tile.then(css).to_screen(640, 100)
        (320.0, 500.0)
        """
        if other == _IDENTITY:
            return self
        if self == _IDENTITY:
            return other
        scale_x = self.factor_x * other.factor_x
        scale_y = self.factor_y * other.factor_y
        offset_x = (self.offset_x - other.pad_left) * other.factor_x + other.offset_x
        offset_y = (self.offset_y - other.pad_top) * other.factor_y + other.offset_y
        content = self.content
        if other.content is not None:
            ox0, oy0, ox1, oy1 = other.content
            mine = (*self._backward(ox0, oy0), *self._backward(ox1, oy1))
            content = mine if content is None else _intersection(content, mine)
        dpr = self.device_pixel_ratio * other.device_pixel_ratio
        return Transform(
            scale_x * dpr,
            scale_y * dpr,
            self.pad_left,
            self.pad_top,
            dpr,
            offset_x,
            offset_y,
            content,
        )

    def __matmul__(self, other: Transform) -> Transform:
        """``b @ a`` applies ``a`` first, then ``b`` (like functions and matrices).

        >>> a, b = Transform(scale_x=2, scale_y=2), Transform(offset_x=5)
        >>> (b @ a).to_screen(1, 1)
        (7.0, 2.0)
        """
        if not isinstance(other, Transform):
            return NotImplemented
        return other.then(self)


_IDENTITY = Transform()


def _inside(point: Point, box: Box | None, clamp: bool, what: str) -> Point:
    if box is None:
        return point
    x, y = point
    x0, y0, x1, y1 = box
    px, py = _limit(x, x0, x1, clamp), _limit(y, y0, y1, clamp)
    if px is None or py is None:
        raise CoordinateError(
            f"point ({x:g}, {y:g}) lies outside {what} (x {x0:g}..{x1:g}, y {y0:g}..{y1:g})"
            + (", in the padding or beyond the image" if what != "the screen" else "")
            + "; ask Claude for a point inside it, or pass clamp=True to map it to the "
            "nearest edge"
        )
    return px, py


def _intersection(a: Box, b: Box) -> Box:
    box = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    if box[0] > box[2] or box[1] > box[3]:
        raise ConfigurationError(
            f"the transforms do not overlap: content {a} and {b} share no point; compose "
            "transforms whose screens meet"
        )
    return box
