"""What the model sees: the server's resize rule and the token count, as pure arithmetic.

>>> from claudevision import TIERS, model_size, visual_tokens
>>> model_size(1920, 1080, TIERS["standard"])
(1456, 819)
>>> visual_tokens(1456, 819)
1560
"""

from __future__ import annotations

from .limits import PATCH_SIZE, Tier

__all__ = ["fit_within", "model_size", "visual_tokens"]


def _patches(pixels: int) -> int:
    return -(-pixels // PATCH_SIZE)


def visual_tokens(width: int, height: int) -> int:
    """Tokens the model spends on a ``width`` x ``height`` image: one per 28 px patch."""
    return _patches(width) * _patches(height)


def _fits(width: int, height: int, tier: Tier) -> bool:
    edge = tier.max_edge
    return (
        _patches(width) * PATCH_SIZE <= edge
        and _patches(height) * PATCH_SIZE <= edge
        and visual_tokens(width, height) <= tier.max_tokens
    )


def _scaled(long_edge: int, width: int, height: int) -> tuple[int, int]:
    """Aspect-preserving size whose long edge is ``long_edge`` (short edge rounds half to even)."""
    if width >= height:
        return long_edge, max(round(long_edge / (width / height)), 1)
    return max(round(long_edge / (height / width)), 1), long_edge


def model_size(width: int, height: int, tier: Tier) -> tuple[int, int]:
    """The size the server resizes a ``width`` x ``height`` image to for ``tier``.

    The largest aspect-preserving size whose padded sides fit ``tier.max_edge`` and whose
    tokens fit ``tier.max_tokens``, found by binary search on the long edge. An image that
    already fits is returned unchanged.
    """
    if _fits(width, height, tier):
        return width, height
    low, high = 1, max(width, height)  # low always fits, high never does
    while high - low > 1:
        middle = (low + high) // 2
        if _fits(*_scaled(middle, width, height), tier):
            low = middle
        else:
            high = middle
    return _scaled(low, width, height)


def fit_within(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Shrink to at most ``max_side`` pixels per side, preserving aspect; never enlarge."""
    if width <= max_side and height <= max_side:
        return width, height
    return _scaled(max_side, width, height)
