"""Amazon's binary event-stream framing, which Bedrock's streaming answers use.

Each frame: total length and headers length (big-endian 32-bit), a CRC-32 of those eight
bytes, the headers (name length, name, type 7 = string, value length, value), the
payload, and a CRC-32 of everything before it. Bedrock wraps each Messages event as
``{"bytes": base64(event JSON)}`` in a ``chunk`` event.

>>> frame = chunk(b'{"type": "ping"}')
>>> int.from_bytes(frame[:4], "big") == len(frame)
True
"""

from __future__ import annotations

import base64
import json
import zlib

__all__ = ["chunk", "exception", "frame", "from_sse"]

_STRING = 7


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        bytes([len(raw_name)])
        + raw_name
        + bytes([_STRING])
        + len(raw_value).to_bytes(2, "big")
        + raw_value
    )


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message."""
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = total.to_bytes(4, "big") + len(encoded).to_bytes(4, "big")
    head = prelude + zlib.crc32(prelude).to_bytes(4, "big")
    body = head + encoded + payload
    return body + zlib.crc32(body).to_bytes(4, "big")


def chunk(event_json: bytes) -> bytes:
    """A Bedrock ``chunk`` event carrying one Messages stream event."""
    payload = json.dumps({"bytes": base64.b64encode(event_json).decode()}).encode()
    headers = {
        ":event-type": "chunk",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return frame(headers, payload)


def exception(kind: str, message: str) -> bytes:
    """A Bedrock exception frame (``kind`` such as ``modelStreamErrorException``)."""
    headers = {
        ":exception-type": kind,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return frame(headers, json.dumps({"message": message}).encode())


def from_sse(event: bytes) -> bytes:
    """A server-sent event (``event: …\\ndata: {json}\\n\\n``) as a Bedrock chunk frame."""
    data = event.decode().split("\ndata: ", 1)[1].rstrip("\n")
    return chunk(data.encode())
