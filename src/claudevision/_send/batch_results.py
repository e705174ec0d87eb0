"""The lines of a batch's results file: one per input, whatever became of it.

    >>> line({"custom_id": "a", "input": "a.png"}, {"type": "expired"})["status"]
    'expired'

Each line holds ``custom_id``, ``input`` and ``status``: ``succeeded`` (with ``text``,
``usage``, ``stop_reason`` and ``model``), ``errored``, ``expired``, ``canceled`` or
``invalid_input`` (with ``error``: its ``type`` and ``message``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["STATUSES", "line", "reduced", "refused", "unprepared"]

STATUSES = ("succeeded", "errored", "expired", "canceled", "invalid_input")

_ENDED = {
    "expired": "the batch ended (after 24 hours) before this request was processed",
    "canceled": "the batch was canceled before this request was processed",
}


def line(entry: dict[str, Any], result: dict[str, Any] | None) -> dict[str, Any]:
    """The output line of ``entry`` (a chunk index line) given its API ``result``."""
    head = {"custom_id": entry["custom_id"], "input": entry["input"]}
    kind = (result or {}).get("type")
    if result is None or kind not in ("succeeded", "errored", "expired", "canceled"):
        error = {"type": "missing_result", "message": "the batch's results hold no line for it"}
        return {**head, "status": "errored", "error": error}
    if kind == "succeeded":
        message = result.get("message") or {}
        text = "".join(
            block.get("text", "")
            for block in message.get("content") or []
            if isinstance(block, dict) and block.get("type") == "text"
        )
        usage = message.get("usage") or {}
        return {
            **head,
            "status": "succeeded",
            "text": text,
            "usage": {key: value for key, value in usage.items() if value is not None},
            "stop_reason": message.get("stop_reason"),
            "model": message.get("model"),
        }
    if kind == "errored":
        return {**head, "status": "errored", "error": _error(result.get("error"))}
    return {**head, "status": kind, "error": {"type": kind, "message": _ENDED[kind]}}


def reduced(result: Any) -> Any:
    """What :func:`line` reads of an API result (the rest of a message is dropped)."""
    if not isinstance(result, dict) or result.get("type") != "succeeded":
        return result
    message = result.get("message") or {}
    content = [
        {"type": "text", "text": block.get("text", "")}
        for block in message.get("content") or []
        if isinstance(block, dict) and block.get("type") == "text"
    ]
    kept = {key: message.get(key) for key in ("usage", "stop_reason", "model")}
    return {"type": "succeeded", "message": {**kept, "content": content}}


def _error(body: Any) -> dict[str, str]:
    """``{"type", "message"}`` from the API's error body (``{"type": "error", "error":
    {...}}``) or an error object itself."""
    inner = body.get("error") if isinstance(body, dict) else None
    found = inner if isinstance(inner, dict) else body if isinstance(body, dict) else {}
    return {
        "type": str(found.get("type") or "api_error"),
        "message": str(found.get("message") or "the API gave no message"),
    }


def unprepared(entry: dict[str, Any]) -> dict[str, Any]:
    """The line of an input that failed preparation."""
    return {
        "custom_id": entry["custom_id"],
        "input": entry["input"],
        "status": "invalid_input",
        "error": entry["error"],
    }


def refused(entry: dict[str, Any], kind: str, message: str) -> dict[str, Any]:
    """The line of a request whose whole batch the API refused to create."""
    return {
        "custom_id": entry["custom_id"],
        "input": entry["input"],
        "status": "errored",
        "error": {"type": kind, "message": f"the API refused the batch: {message}"},
    }
