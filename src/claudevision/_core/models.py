"""What claudevision knows about each model: resolution tier, context window, input price.

Look a model up with :func:`model_info`; teach claudevision a model it does not know (or
correct one) with :func:`register_model`::

    >>> from claudevision import model_info, register_model
    >>> model_info("claude-opus-4-7").tier.name
    'high-resolution'
    >>> model_info("anthropic.claude-haiku-4-5-20251001-v1:0").tier.name   # Bedrock id
    'standard'
    >>> register_model("my-proxy-model", tier="standard", context_window=200_000,
    ...                input_price_per_mtok=1.0).tier.max_edge
    1568

A model that is not in the table is treated as high-resolution: preparing for the larger
tier loses nothing any model can see (a standard-tier model shrinks it further on the
server), and the tokens reported are an upper bound. Such a lookup warns once with
:class:`~claudevision.UnknownModelWarning`.
"""

from __future__ import annotations

import re
import sys
import warnings
from dataclasses import dataclass
from functools import lru_cache
from types import FrameType

from .exceptions import UnknownModelWarning
from .limits import TIERS, Tier, TierName

__all__ = ["ModelInfo", "estimate_cost", "model_info", "register_model"]


@dataclass(frozen=True)
class ModelInfo:
    """One model's facts. ``known`` is False for a model looked up but not in the table."""

    name: str
    tier: Tier
    context_window: int | None
    input_price_per_mtok: float | None
    known: bool = True


_M = 1_000_000
_K = 1_000

# name: (tier, context window, input $ per million tokens). None where not published.
# Sources: Anthropic's vision guide (tiers) and model overview pages (context, prices).
_TABLE: dict[str, tuple[TierName, int | None, float | None]] = {
    "claude-haiku-4-5": ("standard", 200 * _K, 1.0),
    "claude-sonnet-4-5": ("standard", 200 * _K, 3.0),
    "claude-opus-4-5": ("standard", 200 * _K, 5.0),
    "claude-sonnet-4-6": ("standard", _M, 3.0),
    "claude-opus-4-6": ("standard", _M, 5.0),
    # The high-resolution tier has a 1M-token context (the facts file, November 2026).
    "claude-opus-4-7": ("high-resolution", _M, None),
    "claude-opus-4-8": ("high-resolution", _M, None),
    "claude-sonnet-5": ("high-resolution", _M, None),
    "claude-fable-5": ("high-resolution", _M, None),
    "claude-mythos-5": ("high-resolution", _M, None),
}

_registry: dict[str, ModelInfo] = {
    name: ModelInfo(name, TIERS[tier], context, price)
    for name, (tier, context, price) in _TABLE.items()
}
_warned: set[str] = set()

_DATE_SUFFIX = re.compile(r"(-\d{8}|-v\d+(:\d+)?|@\d{8}|-latest)+$")


@lru_cache(maxsize=1024)
def _normalize(model: str) -> str:
    """``us.anthropic.claude-haiku-4-5-20251001-v1:0`` -> ``claude-haiku-4-5``."""
    name = model.strip().lower()
    start = name.find("claude-")
    if start > 0:
        name = name[start:]
    return _DATE_SUFFIX.sub("", name)


def register_model(
    name: str,
    *,
    tier: TierName,
    context_window: int | None = None,
    input_price_per_mtok: float | None = None,
) -> ModelInfo:
    """Add or replace a model in the table. Dated and platform ids resolve to it."""
    info = ModelInfo(_normalize(name), TIERS[tier], context_window, input_price_per_mtok)
    _registry[info.name] = info
    return info


def _callers_level() -> int:
    """The ``stacklevel`` of the first frame outside claudevision: warnings name the
    caller's line, however deep in the library they are raised."""
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and _ours(frame.f_globals.get("__name__", "")):
        frame, level = frame.f_back, level + 1
    return level


def _ours(module: str) -> bool:
    return module.startswith("claudevision.") or module == "functools"  # cached_property


def model_info(model: str | None) -> ModelInfo:
    """The facts for ``model``; an unknown or missing model gets the assumption above."""
    key = _normalize(model) if model else ""
    info = _registry.get(key)
    if info is not None:
        return info
    if model and key not in _warned:
        _warned.add(key)
        warnings.warn(
            f"claudevision does not know the resolution tier of model {model!r}; images are "
            "prepared for the high-resolution tier (nothing is lost, tokens are an upper "
            "bound). Call claudevision.register_model() to state its tier.",
            UnknownModelWarning,
            stacklevel=_callers_level(),
        )
    return ModelInfo(key or "(no model)", TIERS["high-resolution"], None, None, known=False)


def estimate_cost(tokens: int, model: str) -> float | None:
    """Estimated US dollars for ``tokens`` input tokens on ``model``, or None if unpriced.

    >>> estimate_cost(1560, "claude-sonnet-4-6")
    0.00468
    """
    price = model_info(model).input_price_per_mtok
    if price is None:
        return None
    return round(tokens * price / _M, 10)
