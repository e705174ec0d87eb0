"""The options of one preparation, checked and resolved once: what decides the output.

Pure values: no I/O, no Pillow. :func:`resolve` turns the keyword arguments of
``prepare_image`` into a :class:`Fit`, or raises :class:`~claudevision.ConfigurationError`
naming every option that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .._core.exceptions import ConfigurationError
from .._core.geometry import fit_within, model_size
from .._core.limits import DEFAULT_BOUNDS, Bounds, Platform, get_platform
from .._core.models import ModelInfo, model_info
from .._core.steps import Resized, ResizeReason

__all__ = ["DEFAULT_QUALITY", "MIN_QUALITY", "Fit", "OutputFormat", "resolve"]

OutputFormat = Literal["jpeg", "png", "webp"]

DEFAULT_QUALITY = 85
"""JPEG and WebP quality for images claudevision re-encodes."""
MIN_QUALITY = 40
"""The lowest quality the byte-budget search goes to before it shrinks the image instead."""


@dataclass(frozen=True, slots=True)
class Fit:
    """Everything that decides the output of one preparation, resolved once."""

    model: ModelInfo
    platform: Platform
    max_side: int
    side_reason: ResizeReason
    max_bytes: int  # on the base64 string
    format: OutputFormat | None = None
    quality: int = DEFAULT_QUALITY
    bounds: Bounds = DEFAULT_BOUNDS
    metadata: str = "strip"  # what to do with metadata in bytes sent unchanged

    def target(self, width: int, height: int) -> tuple[int, int]:
        """What to send for an image of this (upright) size: the model's size, capped."""
        return fit_within(*model_size(width, height, self.model.tier), self.max_side)

    def resized(self, original: tuple[int, int], target: tuple[int, int]) -> Resized:
        """The step that says which limit made ``original`` into ``target``."""
        by_side = fit_within(*original, self.max_side)
        if target == by_side and target != model_size(*original, self.model.tier):
            detail = {
                ResizeReason.PLATFORM: f"{self.platform.name} allows {self.max_side} px per side",
                ResizeReason.MAX_SIDE: f"capped at {self.max_side} px per side",
            }.get(self.side_reason, self.side_reason.value)
            return Resized(original, target, self.side_reason, detail)
        tier = self.model.tier
        detail = f"{tier.name} tier: {tier.max_edge} px, {tier.max_tokens} tokens"
        return Resized(original, target, ResizeReason.TIER, detail)


def resolve(
    *,
    model: str | None = None,
    platform: str | Platform = "anthropic",
    max_side: int | None = None,
    max_bytes: int | None = None,
    format: OutputFormat | None = None,
    quality: int = DEFAULT_QUALITY,
    bounds: Bounds | None = None,
    side_reason: ResizeReason = ResizeReason.MAX_SIDE,
    metadata: str = "strip",
) -> Fit:
    """Check the options and resolve the model and platform into one :class:`Fit`."""
    _check(model, max_side, max_bytes, format, quality, bounds)
    if metadata not in ("strip", "keep"):
        raise ConfigurationError(f"metadata={metadata!r}: use 'strip' (the default) or 'keep'")
    target = get_platform(platform)
    side, reason = target.max_side, ResizeReason.PLATFORM
    if max_side is not None and max_side < side:
        side, reason = max_side, side_reason
    byte_limit = (
        target.max_image_bytes if max_bytes is None else min(target.max_image_bytes, max_bytes)
    )
    return Fit(
        model_info(model),
        target,
        side,
        reason,
        byte_limit,
        format,
        quality,
        bounds or DEFAULT_BOUNDS,
        metadata,
    )


def _check(
    model: object,
    max_side: object,
    max_bytes: object,
    format: object,
    quality: object,
    bounds: object,
) -> None:
    problems = []
    if model is not None and not isinstance(model, str):
        problems.append(f"model={model!r}: pass a model id such as 'claude-opus-4-8'")
    for name, value in (("max_side", max_side), ("max_bytes", max_bytes)):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 1
        ):
            problems.append(f"{name}={value!r}: use a whole number of at least 1")
    if format is not None and format not in ("jpeg", "png", "webp"):
        problems.append(f"format={format!r}: use 'jpeg', 'png' or 'webp'")
    if (
        not isinstance(quality, int)
        or isinstance(quality, bool)
        or not MIN_QUALITY <= quality <= 100
    ):
        problems.append(f"quality={quality!r}: use a whole number from {MIN_QUALITY} to 100")
    if bounds is not None and not isinstance(bounds, Bounds):
        problems.append(f"bounds={bounds!r}: pass a claudevision.Bounds")
    if problems:
        raise ConfigurationError("; ".join(problems))
