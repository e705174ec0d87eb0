"""The models the local server knows: ids, names, context windows, output limits.

A request for a model not listed here answers 404 ``not_found_error`` as the API does;
a test adds its own with :meth:`ModelTable.add`. Dated ids (``-20251001``), Bedrock ids
(``us.anthropic.…-v1:0``) and Vertex ids (``…@20251001``) resolve to the plain name.

>>> table = ModelTable()
>>> table.find("us.anthropic.claude-haiku-4-5-20251001-v1:0").id
'claude-haiku-4-5'
>>> table.find("claude-nonesuch") is None
True
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from ._rules import HIGH_RESOLUTION_MODELS, LARGE_CONTEXT_MODELS, normalise_model

__all__ = ["KNOWN_MODELS", "Model", "ModelTable"]


@dataclass(frozen=True)
class Model:
    """One model: what ``GET /v1/models`` says of it and what bounds a request."""

    id: str
    display_name: str
    created_at: str
    max_tokens: int
    """The most output tokens a request may ask for."""
    max_input_tokens: int = 200_000

    def info(self) -> dict[str, Any]:
        """The API's ``ModelInfo`` JSON."""
        return {
            "type": "model",
            "id": self.id,
            "display_name": self.display_name,
            "created_at": self.created_at,
            "max_input_tokens": self.max_input_tokens,
            "max_tokens": self.max_tokens,
            "lifecycle": "active",
        }


def _model(model_id: str, name: str, date: str, max_tokens: int) -> Model:
    window = 1_000_000 if model_id in LARGE_CONTEXT_MODELS else 200_000
    return Model(model_id, name, f"{date}T00:00:00Z", max_tokens, window)


KNOWN_MODELS: tuple[Model, ...] = (
    _model("claude-mythos-5", "Claude Mythos 5", "2026-09-01", 128_000),
    _model("claude-fable-5", "Claude Fable 5", "2026-09-01", 128_000),
    _model("claude-sonnet-5", "Claude Sonnet 5", "2026-08-01", 128_000),
    _model("claude-opus-4-8", "Claude Opus 4.8", "2026-07-01", 128_000),
    _model("claude-opus-4-7", "Claude Opus 4.7", "2026-04-01", 128_000),
    _model("claude-opus-4-6", "Claude Opus 4.6", "2026-02-05", 128_000),
    _model("claude-sonnet-4-6", "Claude Sonnet 4.6", "2026-02-17", 128_000),
    _model("claude-opus-4-5", "Claude Opus 4.5", "2025-11-24", 64_000),
    _model("claude-haiku-4-5", "Claude Haiku 4.5", "2025-10-01", 64_000),
    _model("claude-sonnet-4-5", "Claude Sonnet 4.5", "2025-09-29", 64_000),
    _model("claude-opus-4-1", "Claude Opus 4.1", "2025-08-05", 32_000),
    _model("claude-opus-4", "Claude Opus 4", "2025-05-14", 32_000),
    _model("claude-sonnet-4", "Claude Sonnet 4", "2025-05-14", 64_000),
)
"""Newest first, as the API lists them. Every high-resolution model is here."""

assert {m.id for m in KNOWN_MODELS} >= HIGH_RESOLUTION_MODELS


class ModelTable:
    """The models a server knows; a test may add more (safe across threads)."""

    def __init__(self, models: tuple[Model, ...] = KNOWN_MODELS) -> None:
        self._models = {m.id: m for m in models}
        self._lock = threading.Lock()

    def add(
        self,
        model_id: str,
        *,
        display_name: str | None = None,
        max_tokens: int = 64_000,
        max_input_tokens: int = 200_000,
    ) -> Model:
        """Know ``model_id`` from now on (its dated and platform ids too)."""
        name = normalise_model(model_id)
        model = Model(
            name, display_name or name, "2026-01-01T00:00:00Z", max_tokens, max_input_tokens
        )
        with self._lock:
            self._models = {name: model, **self._models}
        return model

    def find(self, model_id: str) -> Model | None:
        """The model ``model_id`` names, or None."""
        return self._models.get(normalise_model(model_id))

    def all(self) -> list[Model]:
        """Every model, newest first."""
        return list(self._models.values())

    def page(
        self, *, limit: int = 20, after_id: str | None = None, before_id: str | None = None
    ) -> dict[str, Any]:
        """One page of ``GET /v1/models``."""
        models = self.all()
        ids = [m.id for m in models]
        if before_id in ids:
            end = ids.index(before_id)
            start = max(end - limit, 0)
        else:
            start = ids.index(after_id) + 1 if after_id in ids else 0
            end = start + limit
        chosen = models[start:end]
        return {
            "data": [m.info() for m in chosen],
            "has_more": end < len(models) if before_id not in ids else start > 0,
            "first_id": chosen[0].id if chosen else None,
            "last_id": chosen[-1].id if chosen else None,
        }
