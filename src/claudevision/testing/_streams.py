"""Server-sent events of a streamed reply, in the order and shapes the API sends them.

>>> from claudevision.testing._replies import message
>>> body = {"model": "claude-haiku-4-5", "max_tokens": 50,
...         "messages": [{"role": "user", "content": "hi"}]}
>>> [e.split(b"\\n")[0] for e in events(message(body, []), 1000)][:3]
[b'event: message_start', b'event: content_block_start', b'event: ping']
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ._faults import error_body

__all__ = ["error_event", "events"]


def _event(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(dict(data, type=kind))}\n\n".encode()


def error_event(status: int, message: str) -> bytes:
    """The ``error`` event a stream ends with when it fails midway."""
    return _event("error", {"error": error_body(status, message)["error"]})


def _chunks(text: str, size: int) -> list[str]:
    size = max(size, 1)
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _block_events(index: int, block: dict[str, Any], chunk_size: int) -> Iterator[bytes]:
    kind = block.get("type")
    if kind == "text":
        yield _event("content_block_start", {"index": index, "content_block": dict(block, text="")})
        for piece in _chunks(str(block.get("text", "")), chunk_size):
            yield _event(
                "content_block_delta",
                {"index": index, "delta": {"type": "text_delta", "text": piece}},
            )
    elif kind in ("tool_use", "server_tool_use"):
        yield _event(
            "content_block_start", {"index": index, "content_block": dict(block, input={})}
        )
        for piece in _chunks(json.dumps(block.get("input", {})), chunk_size):
            delta = {"type": "input_json_delta", "partial_json": piece}
            yield _event("content_block_delta", {"index": index, "delta": delta})
    elif kind == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        yield _event("content_block_start", {"index": index, "content_block": start})
        for piece in _chunks(str(block.get("thinking", "")), chunk_size):
            delta = {"type": "thinking_delta", "thinking": piece}
            yield _event("content_block_delta", {"index": index, "delta": delta})
        delta = {"type": "signature_delta", "signature": str(block.get("signature", ""))}
        yield _event("content_block_delta", {"index": index, "delta": delta})
    else:  # blocks that arrive whole (redacted thinking, server tool results)
        yield _event("content_block_start", {"index": index, "content_block": block})
    yield _event("content_block_stop", {"index": index})


def events(reply: dict[str, Any], chunk_size: int) -> Iterator[bytes]:
    """The server-sent events streaming ``reply`` (a :func:`message`), as the API sends
    them: ``message_start``, a ``ping``, each block's start, deltas and stop, then
    ``message_delta`` with the final usage and ``message_stop``."""
    usage = reply["usage"]
    start = dict(reply, content=[], stop_reason=None, stop_sequence=None)
    start["usage"] = dict(usage, output_tokens=min(1, usage["output_tokens"]))
    yield _event("message_start", {"message": start})
    pinged = False
    for index, block in enumerate(reply["content"]):
        for number, event in enumerate(_block_events(index, block, chunk_size)):
            yield event
            if number == 0 and not pinged:
                yield _event("ping", {})
                pinged = True
    if not pinged:
        yield _event("ping", {})
    delta = {"stop_reason": reply["stop_reason"], "stop_sequence": reply["stop_sequence"]}
    final = {k: v for k, v in usage.items() if k != "service_tier"}
    yield _event("message_delta", {"delta": delta, "usage": final})
    yield _event("message_stop", {})
