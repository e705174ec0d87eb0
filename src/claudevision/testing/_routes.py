"""Where a request goes, and what the server records of it: pure data, no HTTP.

>>> match_route("/model/claude-haiku-4-5/invoke", LIMITS["anthropic"]).limits.name
'bedrock'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ._rules import LIMITS, Limits, ReceivedImage

__all__ = ["Outcome", "RecordedRequest", "Route", "Stream", "match_route"]

_VERTEX_PATH = re.compile(
    r"^(?:/v1)?/projects/[^/]+/locations/[^/]+/publishers/anthropic/models/([^/:]+):(\w+)$"
)
_BEDROCK_PATH = re.compile(r"^/model/([^/]+)/(invoke|invoke-with-response-stream)$")


@dataclass
class RecordedRequest:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int = 0
    images: list[ReceivedImage] = field(default_factory=list)
    request_id: str = ""
    lose_after: float | None = None
    """Set by a ``lose`` fault: the answer is dropped this many seconds after the work."""


@dataclass(frozen=True)
class Route:
    """Where a Messages request goes: the limits that apply and how it is answered."""

    limits: Limits
    counting: bool = False
    model: str | None = None
    streaming: bool | None = None
    """None: as the body's ``stream`` says."""
    cloud: str = ""
    """``"bedrock"`` or ``"vertex"`` for their paths (the body is theirs), else empty."""

    def streams(self, body: dict[str, Any]) -> bool:
        """Whether the reply to ``body`` is a stream of server-sent events."""
        return bool(body.get("stream")) if self.streaming is None else self.streaming


def match_route(path: str, limits: Limits) -> Route | None:
    """The Messages route of a request path (``limits`` for the direct API), or None."""
    if path == "/v1/messages":
        return Route(limits)
    if path == "/v1/messages/count_tokens":
        return Route(limits, counting=True)
    if match := _BEDROCK_PATH.match(path):
        streaming = match.group(2) != "invoke"
        model = unquote(match.group(1))
        return Route(LIMITS["bedrock"], model=model, streaming=streaming, cloud="bedrock")
    if match := _VERTEX_PATH.match(path):
        model = unquote(match.group(1))
        if model == "count-tokens":
            return Route(LIMITS["vertex"], counting=True, streaming=False, cloud="vertex")
        streaming = match.group(2) == "streamRawPredict"
        return Route(LIMITS["vertex"], model=model, streaming=streaming, cloud="vertex")
    return None


@dataclass
class Stream:
    """A streamed answer: its events, how fast they go, and how it may fail midway."""

    events: list[bytes]
    media_type: str = "text/event-stream"
    event_delay: float = 0.0
    cut_after: int | None = None
    """Send this many events, then ``cut_with`` (None: send them all)."""
    cut_with: bytes | None = None
    """The last event sent after ``cut_after`` events; None: the connection is cut."""


@dataclass
class Outcome:
    """What the server answers a checked request with."""

    payload: dict[str, Any] | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    stream: Stream | None = None
