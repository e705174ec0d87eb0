"""The resize rule and token count, against the published examples and the reference rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claudevision import TIERS, Tier, fit_within, model_size, visual_tokens

STANDARD, HIGH = TIERS["standard"], TIERS["high-resolution"]


@pytest.mark.parametrize(
    ("size", "tier", "expected", "tokens"),
    [
        ((200, 200), STANDARD, (200, 200), 64),
        ((1000, 1000), STANDARD, (1000, 1000), 1296),
        ((1092, 1092), STANDARD, (1092, 1092), 1521),
        ((1920, 1080), STANDARD, (1456, 819), 1560),
        ((1920, 1080), HIGH, (1920, 1080), 2691),
        ((3840, 2160), STANDARD, (1456, 819), 1560),
        ((3840, 2160), HIGH, (2576, 1449), 4784),
        ((1075, 1520), STANDARD, (924, 1307), 1551),
        ((1075, 1520), HIGH, (1075, 1520), 2145),
        # The guide's table says 1269x952; its own reference rule (and so this) gives 1270x952.
        ((2000, 1500), STANDARD, (1270, 952), 1564),
    ],
)
def test_published_examples(
    size: tuple[int, int], tier: Tier, expected: tuple[int, int], tokens: int
) -> None:
    assert model_size(*size, tier) == expected
    assert visual_tokens(*expected) == tokens


def test_a4_scan_tokens_before_resize() -> None:
    assert visual_tokens(1075, 1520) == 2145


def _reference(width: int, height: int, tier: Tier) -> tuple[int, int]:
    """The rule as the facts state it, by exhaustive search instead of bisection."""

    def fits(w: int, h: int) -> bool:
        return (
            math.ceil(w / 28) * 28 <= tier.max_edge
            and math.ceil(h / 28) * 28 <= tier.max_edge
            and math.ceil(w / 28) * math.ceil(h / 28) <= tier.max_tokens
        )

    if fits(width, height):
        return width, height
    long_side, short_side = max(width, height), min(width, height)
    aspect = long_side / short_side
    for long_edge in range(long_side, 0, -1):
        short_edge = max(round(long_edge / aspect), 1)
        w, h = (long_edge, short_edge) if width >= height else (short_edge, long_edge)
        if fits(w, h):
            return w, h
    raise AssertionError("unreachable")


@settings(max_examples=400, deadline=None)
@given(
    width=st.integers(1, 9000),
    height=st.integers(1, 9000),
    tier=st.sampled_from([STANDARD, HIGH]),
)
def test_matches_reference_rule(width: int, height: int, tier: Tier) -> None:
    got = model_size(width, height, tier)
    assert got == _reference(width, height, tier)
    w, h = got
    assert w <= width and h <= height
    assert visual_tokens(w, h) <= tier.max_tokens or (w, h) == (width, height)


@given(width=st.integers(1, 20000), height=st.integers(1, 20000), side=st.integers(1, 8000))
def test_fit_within_caps_and_keeps_aspect(width: int, height: int, side: int) -> None:
    w, h = fit_within(width, height, side)
    if max(width, height) <= side:
        assert (w, h) == (width, height)  # never enlarged, never touched
        return
    assert max(w, h) == side
    assert 1 <= min(w, h) <= side
    short = min(width, height) * side / max(width, height)
    assert abs(min(w, h) - max(round(short), 1)) <= 1  # aspect kept to the pixel
