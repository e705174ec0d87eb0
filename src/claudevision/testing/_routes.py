"""Where a request goes, and what the server records of it: pure data, no HTTP.

>>> match_route("/model/claude-haiku-4-5/invoke", LIMITS["anthropic"]).limits.name
'bedrock'
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias
from urllib.parse import unquote

from ._rules import LIMITS, Limits, ReceivedImage

__all__ = ["RecordedRequest", "Reply", "Route", "match_route"]

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


@dataclass(frozen=True)
class Route:
    """Where a Messages request goes: the limits that apply and how it is answered."""

    limits: Limits
    counting: bool = False
    model: str | None = None
    streaming: bool | None = None
    """None: as the body's ``stream`` says."""

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
        return Route(LIMITS["bedrock"], model=unquote(match.group(1)), streaming=streaming)
    if match := _VERTEX_PATH.match(path):
        model = unquote(match.group(1))
        if model == "count-tokens":
            return Route(LIMITS["vertex"], counting=True, streaming=False)
        streaming = match.group(2) == "streamRawPredict"
        return Route(LIMITS["vertex"], model=model, streaming=streaming)
    return None


Reply: TypeAlias = "dict[str, Any] | Iterator[bytes]"
"""A JSON payload (answered 200) or the server-sent events of a stream."""
