"""What the local server answers: default and scripted replies, cut as the API cuts them.

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

import base64
import json
import math
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Literal

from ._faults import status_fault
from ._rules import ReceivedImage
from ._schema import example

CHARS_PER_TOKEN = 4

__all__ = [
    "CHARS_PER_TOKEN",
    "Reply",
    "ReplyQueue",
    "Responder",
    "as_reply",
    "default_content",
    "forced_tool",
    "input_tokens",
    "message",
    "reply_text",
    "text_tokens",
]

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


def _tool_chars(tools: object) -> int:
    """Tools count toward the input: their definitions' JSON."""
    return len(json.dumps(tools)) if isinstance(tools, list) and tools else 0


def text_tokens(body: dict[str, Any]) -> int:
    """The text's tokens at four characters a token: system prompt, every message, tools."""
    texts = _texts(body.get("system"))
    for item in body.get("messages") or []:
        if isinstance(item, dict):
            texts += _texts(item.get("content"))
            if not isinstance(item.get("content"), list):
                continue
            for block in item["content"]:
                if isinstance(block, dict) and block.get("type") == "tool_use":
                    texts.append(json.dumps(block.get("input")))
    chars = sum(len(text) for text in texts) + _tool_chars(body.get("tools"))
    return math.ceil(chars / CHARS_PER_TOKEN)


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


def _new_id(prefix: str) -> str:
    return f"{prefix}_01{uuid.uuid4().hex[:22]}"


@dataclass
class Reply:
    """One scripted answer: content, an error, or faults in how it is delivered.

    ``content`` None means the server's default reply for the request. Build one with
    :meth:`text`, :meth:`tool_use` or :meth:`error`, or directly:

    >>> Reply.tool_use("get_weather", {"city": "Paris"}).content[0]["name"]
    'get_weather'
    """

    content: list[dict[str, Any]] | None = None
    stop_reason: str | None = None
    """None: ``tool_use`` if the content calls a tool, else ``end_turn`` (or what
    ``max_tokens`` and ``stop_sequences`` make it)."""
    usage: dict[str, Any] | None = None
    """Counts that replace the computed ones (``{"output_tokens": 7}``)."""
    status: int = 200
    """Not 200: answer with the API's error of this status instead."""
    message: str | None = None
    retry_after: float | None = None
    delay: float = 0.0
    """Seconds before the first byte of the answer."""
    event_delay: float = 0.0
    """Streams: seconds between events."""
    fail_after: int | None = None
    """Streams: send this many events, then fail as ``fail_with`` says."""
    fail_with: Literal["error", "drop"] = "error"
    """``"error"``: an ``error`` event (``error_status``'s type), then the end; ``"drop"``:
    the connection is cut."""
    error_status: int = 529

    @classmethod
    def text(cls, text: str, **options: Any) -> Reply:
        """A reply of one text block."""
        return cls(content=[{"type": "text", "text": text}], **options)

    @classmethod
    def tool_use(
        cls,
        name: str,
        input: dict[str, Any],
        *,
        text: str | None = None,
        id: str | None = None,
        **options: Any,
    ) -> Reply:
        """A reply calling tool ``name`` with ``input`` (after ``text``, if given)."""
        blocks: list[dict[str, Any]] = [] if text is None else [{"type": "text", "text": text}]
        call_id = id or _new_id("toolu")
        blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": input})
        return cls(content=blocks, **options)

    @classmethod
    def error(
        cls,
        status: int,
        message: str | None = None,
        *,
        retry_after: float | None = None,
        **options: Any,
    ) -> Reply:
        """An error answer (429, 500, 529, ...), after the request was checked."""
        text = message if message is not None else status_fault(status).message
        return cls(status=status, message=text, retry_after=retry_after, **options)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        """A reply from JSON (the control endpoint's body): the fields of this class, or
        ``text`` / ``tool_use`` ({"name", "input"}) shortcuts."""
        data = dict(data)
        if "text" in data:
            data["content"] = [{"type": "text", "text": str(data.pop("text"))}]
        if "tool_use" in data:
            call = data.pop("tool_use")
            block = {"type": "tool_use", "id": call.get("id") or _new_id("toolu")}
            data["content"] = [*(data.get("content") or []), {**block, **call}]
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown reply field {unknown[0]!r}; use {sorted(known)}")
        return cls(**data)


class ReplyQueue:
    """Scripted replies waiting for requests, first in first out; safe across threads."""

    def __init__(self) -> None:
        self._replies: list[Reply] = []
        self._lock = threading.Lock()

    def add(self, *replies: Reply) -> None:
        """Queue ``replies`` behind the ones already waiting."""
        with self._lock:
            self._replies.extend(replies)

    def next(self) -> Reply | None:
        """The reply for the request answered now, if any."""
        with self._lock:
            return self._replies.pop(0) if self._replies else None

    def clear(self) -> None:
        """Forget every waiting reply."""
        with self._lock:
            self._replies.clear()

    def __len__(self) -> int:
        return len(self._replies)


Responder = Callable[[dict[str, Any], list[ReceivedImage]], "list[dict[str, Any]] | Reply | str"]
"""Scripted replies: the request body and its images in; the reply's content blocks, a
:class:`Reply` or a text out."""


def as_reply(value: list[dict[str, Any]] | Reply | str) -> Reply:
    """What a responder returned, as a :class:`Reply`."""
    if isinstance(value, Reply):
        return value
    if isinstance(value, str):
        return Reply.text(value)
    return Reply(content=list(value))


def forced_tool(body: dict[str, Any]) -> dict[str, Any] | None:
    """The tool ``tool_choice`` forces (``tool`` by name, ``any``: the first custom tool)."""
    choice = body.get("tool_choice")
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
    if not isinstance(choice, dict) or choice.get("type") not in ("tool", "any"):
        return None
    if choice["type"] == "tool":
        return next((t for t in tools if t.get("name") == choice.get("name")), None)
    return next((t for t in tools if t.get("type", "custom") == "custom"), None)


def _output_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    config = body.get("output_config") or {}
    fmt = (config.get("format") if isinstance(config, dict) else None) or body.get("output_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = fmt.get("schema")
        return schema if isinstance(schema, dict) else None
    return None


def default_content(body: dict[str, Any], images: list[ReceivedImage]) -> list[dict[str, Any]]:
    """What the server answers unscripted: JSON valid against ``output_config.format``, a
    call of the tool ``tool_choice`` forces (its input valid against its schema), or a
    description of what it received."""
    schema = _output_schema(body)
    if schema is not None:
        return [{"type": "text", "text": json.dumps(example(schema))}]
    tool = forced_tool(body)
    if tool is not None:
        call = example(tool.get("input_schema") or {"type": "object"})
        return [{"type": "tool_use", "id": _new_id("toolu"), "name": tool["name"], "input": call}]
    return [*_thinking(body), {"type": "text", "text": reply_text(body, images)}]


def _thinking(body: dict[str, Any]) -> list[dict[str, Any]]:
    """With thinking on, the API's reply opens with a (signed) thinking block."""
    thinking = body.get("thinking")
    if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "adaptive"):
        return []
    signature = base64.b64encode(uuid.uuid4().bytes * 2).decode()
    return [{"type": "thinking", "thinking": "Reading the request.", "signature": signature}]


def _block_chars(block: dict[str, Any]) -> int:
    kind = block.get("type")
    if kind == "text":
        return len(str(block.get("text", "")))
    if kind == "thinking":
        return len(str(block.get("thinking", "")))
    if kind in ("tool_use", "server_tool_use"):
        return len(json.dumps(block.get("input", {})))
    return len(json.dumps(block))


def _limit(
    content: list[dict[str, Any]], max_tokens: int, stops: list[str]
) -> tuple[list[dict[str, Any]], str | None, str | None]:
    """``content`` as the model would end it: cut at the first stop sequence or when
    ``max_tokens`` runs out. Returns the content, the stop reason (None: not cut) and the
    stop sequence met."""
    room = max_tokens * CHARS_PER_TOKEN
    kept: list[dict[str, Any]] = []
    for block in content:
        if block.get("type") == "text":
            text = str(block.get("text", ""))
            hits = [(text.find(s), s) for s in stops if s and s in text]
            if hits:
                at, sequence = min(hits)
                if at <= room:
                    if text[:at]:
                        kept.append(dict(block, text=text[:at]))
                    return kept, "stop_sequence", sequence
            if len(text) > room:
                if room > 0:
                    kept.append(dict(block, text=text[:room]))
                return kept, "max_tokens", None
        elif _block_chars(block) > room:
            return kept, "max_tokens", None
        room -= _block_chars(block)
        kept.append(block)
    return kept, None, None


def message(
    body: dict[str, Any],
    images: list[ReceivedImage],
    responder: Responder | Reply | None = None,
) -> dict[str, Any]:
    """The Message JSON answering ``body``: scripted (a :class:`Reply` or a responder) or
    the default, cut by ``stop_sequences`` and ``max_tokens`` as the API would."""
    reply = responder if isinstance(responder, Reply) else None
    if responder is not None and reply is None:
        reply = as_reply(responder(body, images))  # type: ignore[operator]
    scripted = reply.content if reply is not None else None
    content = default_content(body, images) if scripted is None else scripted
    stops = [s for s in body.get("stop_sequences") or [] if isinstance(s, str)]
    max_tokens = body.get("max_tokens")
    limit = max_tokens if isinstance(max_tokens, int) else 1 << 30
    content, cut, sequence = _limit(content, limit, stops)
    calls = any(block.get("type") == "tool_use" for block in content)
    stop_reason = cut or ("tool_use" if calls else "end_turn")
    if reply is not None and reply.stop_reason is not None:
        stop_reason = reply.stop_reason
    output = math.ceil(sum(_block_chars(b) for b in content) / CHARS_PER_TOKEN)
    usage: dict[str, Any] = {
        "input_tokens": input_tokens(body, images),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output,
        "service_tier": "standard",
    }
    if reply is not None and reply.usage:
        usage.update(reply.usage)
    return {
        "id": _new_id("msg"),
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": sequence,
        "usage": usage,
    }
