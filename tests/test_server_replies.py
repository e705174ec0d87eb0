"""Unit tests of the local server's scripted replies (``claudevision.testing._replies``)."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest
from pydantic import TypeAdapter

from claudevision.testing._faults import (
    Fault,
    FaultQueue,
    error_body,
    retry_headers,
    status_fault,
)
from claudevision.testing._replies import input_tokens, message, reply_text, text_tokens
from claudevision.testing._rules import ReceivedImage
from claudevision.testing._streams import events

WIDE = ReceivedImage("image/png", (1920, 1080), (1456, 819), 1560, 100, "base64")
SMALL = ReceivedImage("image/jpeg", (200, 200), (200, 200), 64, 0, "url")


def body(content: Any, **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-6",
        "messages": [{"role": "user", "content": content}],
        **extra,
    }


def test_reply_text() -> None:
    assert reply_text(body("What is it?"), [WIDE]) == (
        "Received 1 image(s): 1. image/png 1920x1080 seen as 1456x819 (1560 tokens). "
        "Prompt: 'What is it?'"
    )
    content = [{"type": "text", "text": "Compare"}, {"type": "text", "text": "them."}]
    assert reply_text(body(content), [WIDE, SMALL]) == (
        "Received 2 image(s): 1. image/png 1920x1080 seen as 1456x819 (1560 tokens); "
        "2. image/jpeg 200x200 seen as 200x200 (64 tokens). Prompt: 'Compare them.'"
    )
    tool = [{"type": "tool_result", "tool_use_id": "t", "content": "ignored"}]
    assert reply_text(body(tool), []) == "Received 0 image(s): no images. Prompt: ''"


def test_text_tokens() -> None:
    assert text_tokens(body("abcd")) == 1
    assert text_tokens(body("abcde")) == 2
    assert text_tokens(body("abcd", system="efgh")) == 2
    assert text_tokens(body("abcd", system=[{"type": "text", "text": "efgh"}])) == 2
    tool = [
        {"type": "tool_result", "tool_use_id": "t", "content": "abcd"},
        {"type": "tool_result", "tool_use_id": "u", "content": [{"type": "text", "text": "abcd"}]},
        {"type": "image", "source": {}},
    ]
    assert text_tokens(body(tool)) == 2
    assert input_tokens(body("abcd"), [WIDE, SMALL]) == 1 + 1560 + 64


def test_message_is_an_sdk_message() -> None:
    reply = message(body("hi"), [WIDE])
    parsed = anthropic.types.Message.model_validate(reply)
    assert parsed.content[0].text == reply_text(body("hi"), [WIDE])  # type: ignore[union-attr]
    assert parsed.usage.input_tokens == 1 + 1560
    assert parsed.usage.output_tokens == -(-len(parsed.content[0].text) // 4)  # type: ignore[union-attr]
    assert parsed.model == "claude-sonnet-4-6" and parsed.stop_reason == "end_turn"
    assert reply["id"] != message(body("hi"), [WIDE])["id"]


@pytest.mark.parametrize("chunk_size", [1, 5, 12, 10_000])
def test_events_stream_the_message(chunk_size: int) -> None:
    reply = message(body("Describe it."), [SMALL])
    adapter: TypeAdapter[Any] = TypeAdapter(anthropic.types.RawMessageStreamEvent)
    parsed = []
    for raw in events(reply, chunk_size):
        kind, data = raw.decode().removesuffix("\n\n").split("\n")
        assert kind.startswith("event: ") and data.startswith("data: ")
        payload = json.loads(data[6:])
        assert payload["type"] == kind[7:]
        if payload["type"] != "ping":
            parsed.append(adapter.validate_python(payload))
    deltas = [event.delta.text for event in parsed if event.type == "content_block_delta"]
    assert "".join(deltas) == reply["content"][0]["text"]
    assert all(len(delta) <= chunk_size for delta in deltas)
    assert parsed[0].message.usage.input_tokens == reply["usage"]["input_tokens"]
    assert parsed[-2].usage.output_tokens == reply["usage"]["output_tokens"]
    assert parsed[-1].type == "message_stop"


def test_fault_queue() -> None:
    queue = FaultQueue()
    assert queue.next() is None
    queue.add(status_fault(429, times=2))
    queue.add(Fault("drop"))
    kinds = [(fault.kind, fault.status) for fault in iter(queue.next, None)]
    assert kinds == [("status", 429), ("status", 429), ("drop", 500)]


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (529, "Overloaded"),
        (429, "Too Many Requests"),
        (500, "Internal Server Error"),
        (599, "Error 599"),
    ],
)
def test_status_fault_messages(status: int, text: str) -> None:
    assert status_fault(status).message == text
    assert status_fault(status, message="custom").message == "custom"


def test_retry_headers() -> None:
    assert retry_headers(status_fault(429)) == {}
    assert retry_headers(status_fault(429, retry_after=1.5)) == {
        "retry-after": "2",
        "retry-after-ms": "1500",
    }


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (404, "not_found_error"),
        (411, "invalid_request_error"),
        (413, "request_too_large"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (529, "overloaded_error"),
        (418, "api_error"),
    ],
)
def test_error_body(status: int, kind: str) -> None:
    assert error_body(status, "why") == {"type": "error", "error": {"type": kind, "message": "why"}}
