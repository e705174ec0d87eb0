"""Preparing a batch's requests: stateless and picklable, on every core or on Ray workers.

    >>> settings = BatchSettings(model="claude-opus-4-8")
    >>> row = prepare_row(BatchInput("x", "nowhere.png", "Hi", ("nowhere.png",)), settings)
    >>> row["error"]["type"]
    'ImageNotFoundError'

:func:`prepare_row` turns one :class:`~claudevision._send.batch_inputs.BatchInput` into
one row: ``{"custom_id", "input", "params"}`` (the request, checked and rendered like any
``messages.create`` call) or ``{"custom_id", "input", "error": {"type", "message"}}`` for
an input that failed preparation. :mod:`.batch_workers` runs it on every core.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._core.exceptions import ClaudeVisionError, ConfigurationError
from .._core.limits import Bounds, Platform
from .._render.message import ImageMessage
from .._render.request import DEFAULT_MAX_TOKENS, Request
from .batch_inputs import BatchInput

__all__ = ["BatchSettings", "Row", "prepare_row"]

Row = dict[str, Any]
"""One prepared request: ``custom_id``, ``input``, and ``params`` or ``error``."""


@dataclass(frozen=True)
class BatchSettings:
    """What every request of a batch shares (picklable: it travels to worker processes)."""

    model: str
    max_tokens: int = DEFAULT_MAX_TOKENS
    system: str | Sequence[Any] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    platform: str | Platform = "anthropic"
    paths: bool = True
    bounds: Bounds | None = None
    download: bool | None = None
    allow_private: bool = False

    def __post_init__(self) -> None:
        if self.params.get("stream"):
            raise ConfigurationError("a batch request cannot stream; leave out stream=True")
        if not isinstance(self.max_tokens, int) or self.max_tokens < 1:
            raise ConfigurationError(
                f"max_tokens={self.max_tokens!r}: a batch request needs at least 1"
            )
        try:
            json.dumps([self.system, dict(self.params)])
        except (TypeError, ValueError) as error:
            raise ConfigurationError(
                f"batch parameters must be JSON values (they are stored to resume): {error}"
            ) from None

    def fingerprint(self) -> dict[str, Any]:
        """What a resumed run must share with the first (JSON)."""
        platform = self.platform if isinstance(self.platform, str) else self.platform.name
        return {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": self.system,
            "params": dict(self.params),
            "platform": platform,
        }


def prepare_row(item: BatchInput, settings: BatchSettings) -> Row:
    """One input as a batch request, or as the error that stopped it (never raised)."""
    row: Row = {"custom_id": item.custom_id, "input": item.input}
    if item.problem is not None:
        return {**row, "error": {"type": "invalid_input", "message": item.problem}}
    try:
        message = item.message or ImageMessage(
            item.prompt or "",
            *item.images,
            paths=settings.paths,
            bounds=settings.bounds,
            download=settings.download,
            allow_private=settings.allow_private,
        )
        request = Request(
            model=message.model or settings.model,
            turns=(message,),
            platform=settings.platform,
            max_tokens=settings.max_tokens,
            system=settings.system,
            params=settings.params,
            download=settings.download,
            allow_private=settings.allow_private,
            bounds=settings.bounds,
        )
        kwargs = dict(request.render().kwargs)
    except ClaudeVisionError as error:
        return {**row, "error": {"type": type(error).__name__, "message": str(error)}}
    except Exception as error:  # a bug of ours: reported for this input, never the batch's end
        return {**row, "error": {"type": "InternalError", "message": repr(error)}}
    headers = kwargs.pop("extra_headers", None) or {}
    betas = [b.strip() for b in str(headers.get("anthropic-beta", "")).split(",") if b.strip()]
    row["params"] = kwargs
    if betas:
        row["betas"] = betas
    return row
