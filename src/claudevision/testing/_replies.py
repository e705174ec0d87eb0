"""What the local server answers: scripted faults, deterministic replies, usage and SSE.

Nothing here does I/O; the HTTP layer writes what these functions build.

>>> from claudevision.testing._rules import ReceivedImage
>>> image = ReceivedImage("image/png", (1920, 1080), (1456, 819), 1560, 0, "base64")
>>> body = {"messages": [{"role": "user", "content": "What is it?"}]}
>>> reply_text(body, [image])
"Received 1 image(s): 1. image/png 1920x1080 seen as 1456x819 (1560 tokens). Prompt: 'What is it?'"
>>> input_tokens(body, [image])
1563
"""

from __future__ import annotations

import json
import math
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

from ._rules import ReceivedImage

__all__ = [
    "ERROR_TYPES",
    "Fault",
    "FaultKind",
    "FaultQueue",
    "error_body",
    "events",
    "input_tokens",
    "message",
    "reply_text",
    "retry_headers",
    "status_fault",
    "text_tokens",
]

FaultKind = Literal["status", "delay", "drop"]

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    411: "invalid_request_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}

CHARS_PER_TOKEN = 4


# -- faults ---------------------------------------------------------------------------


@dataclass
class Fault:
    """One injected failure, used by the next ``times`` requests."""

    kind: FaultKind
    status: int = 500
    retry_after: float | None = None
    seconds: float = 0.0
    times: int = 1
    message: str = "injected failure"


def status_fault(
    status: int, *, times: int = 1, retry_after: float | None = None, message: str | None = None
) -> Fault:
    """A fault answering ``status``, with the API's wording when no message is given."""
    if message is None:
        message = "Overloaded" if status == 529 else _phrase(status)
    return Fault("status", status=status, times=times, retry_after=retry_after, message=message)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def retry_headers(fault: Fault) -> dict[str, str]:
    """The ``retry-after`` headers of a status fault (none when it sets no delay)."""
    if fault.retry_after is None:
        return {}
    return {
        "retry-after": str(math.ceil(fault.retry_after)),
        "retry-after-ms": str(int(fault.retry_after * 1000)),
    }


class FaultQueue:
    """Faults waiting for requests, first in first out; safe across handler threads."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        """Queue ``fault`` behind the ones already waiting."""
        with self._lock:
            self._faults.append(fault)

    def next(self) -> Fault | None:
        """The fault for the request arriving now, if any (using up one of its times)."""
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.times -= 1
            if fault.times <= 0:
                self._faults.pop(0)
            return fault


def error_body(status: int, message: str) -> dict[str, Any]:
    """The API's error JSON for ``status``."""
    kind = ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


# -- replies --------------------------------------------------------------------------


def _texts(content: object) -> list[str]:
    """The text of a content value: a string, or the text blocks of a list (recursing into
    tool_result content)."""
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        return []
    texts: list[str] = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif block.get("type") == "tool_result":
            texts += _texts(block.get("content"))
    return texts


def text_tokens(body: dict[str, Any]) -> int:
    """The text's tokens at four characters a token: system prompt and every message."""
    texts = _texts(body.get("system"))
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            texts += _texts(message.get("content"))
    return math.ceil(sum(len(text) for text in texts) / CHARS_PER_TOKEN)


def input_tokens(body: dict[str, Any], images: list[ReceivedImage]) -> int:
    """Deterministic input tokens: text at 4 characters a token, images by the rule."""
    return text_tokens(body) + sum(image.tokens for image in images)


def reply_text(body: dict[str, Any], images: list[ReceivedImage]) -> str:
    """What the server answers: a description of what it received."""
    messages = body.get("messages") or [{}]
    last = messages[-1].get("content") if isinstance(messages[-1], dict) else None
    if isinstance(last, list):  # the text blocks of the last turn, not tool results
        last = [block for block in last if isinstance(block, dict) and block.get("type") == "text"]
    prompt = " ".join(_texts(last))
    parts = [
        f"{i}. {im.media_type} {im.size[0]}x{im.size[1]} seen as {im.seen[0]}x{im.seen[1]} "
        f"({im.tokens} tokens)"
        for i, im in enumerate(images, 1)
    ]
    described = "; ".join(parts) if parts else "no images"
    return f"Received {len(images)} image(s): {described}. Prompt: {prompt!r}"


Responder = Callable[[dict[str, Any], list[ReceivedImage]], list[dict[str, Any]]]
"""Scripted replies: the request body and its images in, the reply's content blocks out."""


def message(
    body: dict[str, Any], images: list[ReceivedImage], responder: Responder | None = None
) -> dict[str, Any]:
    """The Message JSON of a reply to ``body`` (its content from ``responder`` if given)."""
    if responder is not None:
        return _scripted(body, images, responder(body, images))
    text = reply_text(body, images)
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens(body, images),
            "output_tokens": math.ceil(len(text) / CHARS_PER_TOKEN),
        },
    }


def _scripted(
    body: dict[str, Any], images: list[ReceivedImage], content: list[dict[str, Any]]
) -> dict[str, Any]:
    calls = any(block.get("type") == "tool_use" for block in content)
    text = json.dumps(content)
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": "tool_use" if calls else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens(body, images),
            "output_tokens": math.ceil(len(text) / CHARS_PER_TOKEN),
        },
    }


def _event(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(dict(data, type=kind))}\n\n".encode()


def events(reply: dict[str, Any], chunk_size: int) -> Iterator[bytes]:
    """The server-sent events streaming ``reply`` (a :func:`message`), text in chunks."""
    text = reply["content"][0]["text"]
    start = dict(reply, content=[], stop_reason=None)
    start["usage"] = dict(reply["usage"], output_tokens=1)
    yield _event("message_start", {"message": start})
    yield _event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
    for offset in range(0, len(text), max(chunk_size, 1)):
        delta = {"type": "text_delta", "text": text[offset : offset + max(chunk_size, 1)]}
        yield _event("content_block_delta", {"index": 0, "delta": delta})
    yield _event("content_block_stop", {"index": 0})
    yield _event(
        "message_delta",
        {
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": reply["usage"]["output_tokens"]},
        },
    )
    yield _event("message_stop", {})
