"""The local server's HTTP layer: a threaded server on 127.0.0.1, routing, bounded reads.

The accept loop waits on a selector together with a wake-up socket, so :meth:`stop`
returns at once instead of after a polling interval; it then closes every open
connection and joins every handler thread, so no thread is left serving.
"""

from __future__ import annotations

import contextlib
import json
import re
import selectors
import socket
import socketserver
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol, TypeAlias, cast
from urllib.parse import unquote, urlsplit

from ._replies import Fault, error_body, retry_headers
from ._rules import LIMITS, Limits, ReceivedImage, Rejected, parse_body

__all__ = ["App", "LocalServer", "RecordedRequest", "Reply", "Route", "match_route"]

DRAIN_LIMIT = 256 * 1024 * 1024
"""A body over the route's limit is read and discarded up to this size (so the client
sees the 413 instead of a reset connection); a larger one is not read at all."""

_CHUNK = 1024 * 1024
_JOIN_SECONDS = 5.0

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


@dataclass(frozen=True)
class Route:
    """Where a request goes: the limits that apply and how it is answered."""

    limits: Limits
    counting: bool = False
    model: str | None = None
    streaming: bool | None = None
    """None: as the body's ``stream`` says."""

    def streams(self, body: dict[str, Any]) -> bool:
        """Whether the reply to ``body`` is a stream of server-sent events."""
        return bool(body.get("stream")) if self.streaming is None else self.streaming


def match_route(path: str, limits: Limits) -> Route | None:
    """The route of a request path (``limits`` for the direct API), None if unknown."""
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


class App(Protocol):
    """What the HTTP layer asks of the server it serves."""

    @property
    def platform(self) -> Limits:
        """The limits of the direct API routes."""

    def record(self, request: RecordedRequest) -> None:
        """Keep ``request`` (its body and images are filled in as they are known)."""

    def next_fault(self) -> Fault | None:
        """The injected fault for the request arriving now, if any."""

    def answer(self, body: dict[str, Any], route: Route, record: RecordedRequest) -> Reply:
        """The reply to a checked, authenticated request; raises Rejected."""


class LocalServer(socketserver.TCPServer):
    """A TCP server on 127.0.0.1 (a free port), one thread per connection."""

    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, app: App) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.app = app
        self.stopping = threading.Event()
        self._wake_read, self._wake_write = socket.socketpair()
        self._lock = threading.Lock()
        self._connections: dict[threading.Thread, socket.socket] = {}
        self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
        self._thread.start()

    @property
    def name(self) -> str:
        """A name for the threads of this server (they carry its port)."""
        return f"claudevision-server-{self.server_address[1]}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            while not self.stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self.socket and not self.stopping.is_set():
                        self._accept()

    def _accept(self) -> None:
        try:
            request, client_address = self.get_request()
        except OSError:
            return
        self.process_request(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the new connection ``request`` in a thread of its own."""
        thread = threading.Thread(
            target=self._process, args=(request, client_address), name=self.name, daemon=True
        )
        with self._lock:
            self._connections[thread] = request
        thread.start()

    def _process(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._lock:
                self._connections.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away is routine here; anything else is printed."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def stop(self) -> None:
        """Stop accepting, close the listening socket and every connection, join threads."""
        self.stopping.set()
        self._wake_write.send(b"\0")
        self._thread.join()
        self.server_close()
        with self._lock:
            connections = dict(self._connections)
        for connection in connections.values():
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in connections:
            thread.join(_JOIN_SECONDS)
        self._wake_read.close()
        self._wake_write.close()


class _Handler(BaseHTTPRequestHandler):
    """One connection: POST requests answered as the Messages API (and its platforms)."""

    protocol_version = "HTTP/1.1"

    @property
    def _server(self) -> LocalServer:
        return cast(LocalServer, self.server)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``ClaudeServer.requests`` instead."""

    def do_POST(self) -> None:
        """Answer one request; an unexpected error in the server itself answers 500."""
        record = RecordedRequest("POST", self.path, dict(self.headers.items()), {})
        self._server.app.record(record)
        try:
            self._post(record)
        except OSError:
            self.close_connection = True
        except Exception as error:  # a bug here must fail the test, not hang the client
            self.close_connection = True
            self._error(record, 500, f"the local server failed: {error!r}")

    def _post(self, record: RecordedRequest) -> None:
        app = self._server.app
        route = match_route(urlsplit(self.path).path, app.platform)
        limit = (route.limits if route else app.platform).max_request_bytes
        try:
            raw = self._read_body(limit)
        except Rejected as rejected:
            self.close_connection = True
            self._error(record, rejected.status, rejected.message)
            return
        problem = self._parse(record, raw)
        fault = app.next_fault()
        if fault is not None and self._apply(fault, record):
            return
        try:
            route = self._admit(route, raw, problem)
            reply = app.answer(record.body, route, record)
        except Rejected as rejected:
            self._error(record, rejected.status, rejected.message)
            return
        if isinstance(reply, dict):
            self._json(record, 200, reply)
        else:
            self._stream(record, reply)

    @staticmethod
    def _parse(record: RecordedRequest, raw: bytes | None) -> Rejected | None:
        """Parse the body into ``record.body``; the refusal to answer later if it is not."""
        if raw is None:
            return None
        try:
            record.body = parse_body(raw)
        except Rejected as rejected:
            return rejected
        return None

    def _admit(self, route: Route | None, raw: bytes | None, problem: Rejected | None) -> Route:
        """The route, once the request passes routing, credentials, size and parsing."""
        if route is None:
            raise Rejected(404, f"Not found: {urlsplit(self.path).path}")
        if not (self.headers.get("x-api-key") or self.headers.get("authorization")):
            raise Rejected(401, "x-api-key header is required")
        if raw is None:
            raise Rejected(413, "Request exceeds the maximum allowed number of bytes.")
        if problem is not None:
            raise problem
        if route.limits.name == "bedrock" and route.streaming:
            raise Rejected(400, "the local server does not stream Bedrock event streams")
        return route

    def _read_body(self, limit: int) -> bytes | None:
        """The body (Content-Length bytes), or None when it is over ``limit``."""
        if self.headers.get("transfer-encoding"):
            raise Rejected(411, "Send the request body with a Content-Length header")
        text = self.headers.get("content-length")
        if text is None:
            raise Rejected(411, "Content-Length header is required")
        try:
            length = int(text)
        except ValueError:
            length = -1
        if length < 0:
            raise Rejected(400, f"Invalid Content-Length header: {text!r}")
        if length <= limit:
            return self.rfile.read(length)
        if length > DRAIN_LIMIT:
            self.close_connection = True
            return None
        while length > 0 and (chunk := self.rfile.read(min(length, _CHUNK))):
            length -= len(chunk)
        return None

    def _apply(self, fault: Fault, record: RecordedRequest) -> bool:
        """Act out ``fault``; True when it answered (or dropped) the request."""
        if fault.kind == "delay" and not self._server.stopping.wait(fault.seconds):
            return False
        if fault.kind in ("drop", "delay"):  # a delay cut short by stop() drops too
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        self._error(record, fault.status, fault.message, retry_headers(fault))
        return True

    def _json(
        self,
        record: RecordedRequest,
        status: int,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload).encode()
        record.status = status
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", f"req_{uuid.uuid4().hex[:24]}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _error(
        self,
        record: RecordedRequest,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._json(record, status, error_body(status, message), headers)

    def _stream(self, record: RecordedRequest, events: Iterator[bytes]) -> None:
        record.status = 200
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        for event in events:
            self.wfile.write(event)
            self.wfile.flush()
