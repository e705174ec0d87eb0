"""A local Claude: enough of the Messages API on 127.0.0.1 for the real SDK to talk to.

It checks every image block by the API's published rules and answers with the API's own
error shapes and texts, so a test against it fails where the real API would. Its replies
are deterministic and describe what it received.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import anthropic
from PIL import Image, UnidentifiedImageError

from .._fit_request import max_images
from .._geometry import model_size, visual_tokens
from .._limits import MAX_DECODE_PIXELS, Platform, get_platform
from .._media import ACCEPTED_MEDIA_TYPES, PIL_FORMAT_TO_MEDIA_TYPE
from .._models import model_info

__all__ = ["ClaudeServer", "Fault", "ReceivedImage", "RecordedRequest"]

FaultKind = Literal["status", "delay", "drop"]
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass
class Fault:
    """One injected failure, used by the next ``times`` requests."""

    kind: FaultKind
    status: int = 500
    retry_after: float | None = None
    seconds: float = 0.0
    times: int = 1
    message: str = "injected failure"


@dataclass(frozen=True)
class ReceivedImage:
    """An image block the server accepted, as the model would see it."""

    media_type: str
    size: tuple[int, int]
    seen: tuple[int, int]
    tokens: int
    base64_bytes: int
    source: str


@dataclass
class RecordedRequest:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int = 0
    images: list[ReceivedImage] = field(default_factory=list)


class _Rejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class ClaudeServer:
    """A real HTTP server on 127.0.0.1 (a free port) speaking the Messages API.

    Routes: ``POST /v1/messages`` (plain and streaming), ``POST /v1/messages/count_tokens``,
    Bedrock's ``POST /model/{id}/invoke`` and Vertex's ``...:rawPredict`` /
    ``...:streamRawPredict``, each with its platform's limits.

    >>> from claudevision.testing import ClaudeServer
    >>> with ClaudeServer() as server:                                    # doctest: +SKIP
    ...     client = server.client()
    ...     reply = client.messages.create(model="claude-opus-4-8", max_tokens=50,
    ...                                    messages=[{"role": "user", "content": "hi"}])

    Known URLs and Files API ids can be registered in ``urls`` and ``files`` (name to
    bytes); others answer as the API does when it cannot fetch them.
    """

    def __init__(self, *, platform: str | Platform = "anthropic", chunk_size: int = 12) -> None:
        self.platform = get_platform(platform)
        self.chunk_size = chunk_size
        self.requests: list[RecordedRequest] = []
        self.urls: dict[str, bytes] = {}
        self.files: dict[str, bytes] = {}
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> ClaudeServer:
        """Start serving in a background thread; returns self."""
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ClaudeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the ``base_url`` for a client."""
        if self._httpd is None:
            raise RuntimeError("the server is not started; call start() or use 'with'")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- clients -----------------------------------------------------------------------

    def client(self, **options: Any) -> anthropic.Anthropic:
        """An ``anthropic.Anthropic`` pointed at this server."""
        options.setdefault("api_key", "test-key")
        return anthropic.Anthropic(base_url=self.url, **options)

    def async_client(self, **options: Any) -> anthropic.AsyncAnthropic:
        """An ``anthropic.AsyncAnthropic`` pointed at this server."""
        options.setdefault("api_key", "test-key")
        return anthropic.AsyncAnthropic(base_url=self.url, **options)

    def bedrock_client(self, **options: Any) -> anthropic.AnthropicBedrock:
        """An ``anthropic.AnthropicBedrock`` pointed at this server (Bedrock limits apply)."""
        options.setdefault("api_key", "test-key")
        options.setdefault("aws_region", "us-east-1")
        return anthropic.AnthropicBedrock(base_url=self.url, **options)

    def vertex_client(self, **options: Any) -> anthropic.AnthropicVertex:
        """An ``anthropic.AnthropicVertex`` pointed at this server (Vertex limits apply)."""
        options.setdefault("access_token", "test-token")
        options.setdefault("region", "us-east5")
        options.setdefault("project_id", "test-project")
        return anthropic.AnthropicVertex(base_url=self.url, **options)

    # -- fault injection ---------------------------------------------------------------

    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (429, 500, 529, ...)."""
        if message is None:
            message = "Overloaded" if status == 529 else HTTPStatus(status).phrase
        self._add(
            Fault("status", status=status, times=times, retry_after=retry_after, message=message)
        )

    def delay(self, seconds: float, *, times: int = 1) -> None:
        """Wait ``seconds`` before answering the next ``times`` requests."""
        self._add(Fault("delay", seconds=seconds, times=times))

    def drop(self, *, times: int = 1) -> None:
        """Close the connection without answering the next ``times`` requests."""
        self._add(Fault("drop", times=times))

    def _add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _next_fault(self) -> Fault | None:
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.times -= 1
            if fault.times <= 0:
                self._faults.pop(0)
            return fault

    # -- the API's rules ---------------------------------------------------------------

    def check(
        self, body: dict[str, Any], platform: Platform, *, counting: bool
    ) -> list[ReceivedImage]:
        """Validate a request body as the API does; return its images or raise _Rejected."""
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise _Rejected(400, "model: Field required")
        if not counting and not isinstance(body.get("max_tokens"), int):
            raise _Rejected(400, "max_tokens: Field required")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _Rejected(400, "messages: at least one message is required")
        found: list[tuple[dict[str, Any], str]] = []
        for index, message in enumerate(messages):
            role = message.get("role")
            if role not in ("user", "assistant"):
                raise _Rejected(
                    400, f"messages.{index}.role: Input should be 'user' or 'assistant'"
                )
            content = message.get("content")
            if isinstance(content, str):
                continue
            for block in content or []:
                if block.get("type") == "image":
                    if role == "assistant":
                        raise _Rejected(
                            400, "'image' blocks are not permitted within assistant turns"
                        )
                    found.append((block, role))
                elif block.get("type") == "tool_result" and isinstance(block.get("content"), list):
                    found += [(b, role) for b in block["content"] if b.get("type") == "image"]
        limit = max_images(model, platform)
        if len(found) > limit:
            raise _Rejected(400, f"Too many images in request: {len(found)} > {limit}")
        many = len(found) > platform.many_images_threshold
        return [self._check_image(block, model, platform, many, counting) for block, _ in found]

    def _image_bytes(self, block: dict[str, Any], platform: Platform, counting: bool) -> bytes:
        source = block.get("source") or {}
        kind = source.get("type")
        if kind not in platform.source_types:
            raise _Rejected(
                400, f"source.type: '{kind}' image sources are not supported on this platform"
            )
        if counting and kind != "base64":
            raise _Rejected(
                400, "Token counting requires images as base64 sources, not url or file"
            )
        if kind == "url":
            url = str(source.get("url", ""))
            if not url.startswith("https://"):
                raise _Rejected(400, "Only HTTPS URLs are supported.")
            if url not in self.urls:
                raise _Rejected(
                    400, "Unable to download the file. Please verify the URL and try again."
                )
            return self.urls[url]
        if kind == "file":
            file_id = str(source.get("file_id", ""))
            if file_id not in self.files:
                raise _Rejected(404, f"File not found: {file_id}")
            return self.files[file_id]
        media_type = source.get("media_type")
        if media_type not in ACCEPTED_MEDIA_TYPES:
            raise _Rejected(
                400, "Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
            )
        data = source.get("data")
        if not isinstance(data, str) or not data:
            raise _Rejected(400, "image cannot be empty")
        limit = platform.max_image_bytes
        if len(data) > limit:
            raise _Rejected(
                400,
                f"image exceeds {limit // (1024 * 1024)} MB maximum: {len(data)} bytes > "
                f"{limit} bytes",
            )
        if len(data) % 4 or not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", data):
            raise _Rejected(400, "invalid base64 data")
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error:
            raise _Rejected(400, "invalid base64 data") from None

    def _check_image(
        self, block: dict[str, Any], model: str, platform: Platform, many: bool, counting: bool
    ) -> ReceivedImage:
        data = self._image_bytes(block, platform, counting)
        try:
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_DECODE_PIXELS:
                raise _Rejected(400, "Could not process image")
            image.load()
        except (
            UnidentifiedImageError,
            OSError,
            SyntaxError,
            ValueError,
            Image.DecompressionBombError,
        ):
            raise _Rejected(400, "Could not process image") from None
        actual = PIL_FORMAT_TO_MEDIA_TYPE.get(image.format or "")
        if actual is None:
            raise _Rejected(400, "Could not process image")
        source = block["source"]
        declared = source.get("media_type")
        if source["type"] == "base64" and declared != actual:
            raise _Rejected(
                400,
                f"The image was specified using the {declared} media type, but the image appears "
                f"to be a {actual} image",
            )
        side = platform.max_side
        if width > side or height > side:
            raise _Rejected(
                400, f"At least one of the image dimensions exceed max allowed size: {side} pixels"
            )
        side = platform.many_images_max_side
        if many and (width > side or height > side):
            raise _Rejected(
                400,
                "At least one of the image dimensions exceed max allowed size for many-image "
                f"requests: {side} pixels",
            )
        seen = model_size(width, height, model_info(model).tier)
        oversized = (block.get("transformations") or {}).get("oversized_image")
        if oversized == "error" and seen != (width, height):
            raise _Rejected(
                400,
                f"Image dimensions {width}x{height} exceed the maximum for this model; the largest "
                f"size that fits is {seen[0]}x{seen[1]}",
            )
        return ReceivedImage(
            media_type=actual,
            size=(width, height),
            seen=seen,
            tokens=visual_tokens(*seen),
            base64_bytes=len(source.get("data", "")),
            source=source["type"],
        )

    # -- answers -----------------------------------------------------------------------

    @staticmethod
    def _text_tokens(body: dict[str, Any]) -> int:
        chars = len(json.dumps(body.get("system", ""))) if body.get("system") else 0
        for message in body["messages"]:
            content = message["content"]
            if isinstance(content, str):
                chars += len(content)
                continue
            for block in content:
                if block.get("type") == "text":
                    chars += len(block["text"])
                elif block.get("type") == "tool_result":
                    inner = block.get("content")
                    if isinstance(inner, str):
                        chars += len(inner)
                    else:
                        chars += sum(
                            len(b.get("text", "")) for b in inner or [] if b.get("type") == "text"
                        )
        return math.ceil(chars / 4)

    def input_tokens(self, body: dict[str, Any], images: list[ReceivedImage]) -> int:
        """Deterministic input tokens: text at 4 characters a token, images by the rule."""
        return self._text_tokens(body) + sum(image.tokens for image in images)

    @staticmethod
    def reply_text(body: dict[str, Any], images: list[ReceivedImage]) -> str:
        """What the server answers: a description of what it received."""
        last = body["messages"][-1]["content"]
        prompt = (
            last
            if isinstance(last, str)
            else " ".join(b["text"] for b in last if b.get("type") == "text")
        )
        parts = [
            f"{i}. {im.media_type} {im.size[0]}x{im.size[1]} seen as {im.seen[0]}x{im.seen[1]} "
            f"({im.tokens} tokens)"
            for i, im in enumerate(images, 1)
        ]
        described = "; ".join(parts) if parts else "no images"
        return f"Received {len(images)} image(s): {described}. Prompt: {prompt!r}"

    def message(self, body: dict[str, Any], images: list[ReceivedImage]) -> dict[str, Any]:
        text = self.reply_text(body, images)
        return {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": self.input_tokens(body, images),
                "output_tokens": math.ceil(len(text) / 4),
            },
        }

    def events(self, body: dict[str, Any], images: list[ReceivedImage]) -> Iterator[bytes]:
        """The server-sent events of a streamed reply."""
        message = self.message(body, images)
        text = message["content"][0]["text"]
        start = dict(message, content=[], stop_reason=None)
        start["usage"] = dict(message["usage"], output_tokens=1)

        def event(kind: str, data: dict[str, Any]) -> bytes:
            return f"event: {kind}\ndata: {json.dumps(dict(data, type=kind))}\n\n".encode()

        yield event("message_start", {"message": start})
        yield event(
            "content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}
        )
        for offset in range(0, len(text), self.chunk_size):
            delta = {"type": "text_delta", "text": text[offset : offset + self.chunk_size]}
            yield event("content_block_delta", {"index": 0, "delta": delta})
        yield event("content_block_stop", {"index": 0})
        yield event(
            "message_delta",
            {
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": message["usage"]["output_tokens"]},
            },
        )
        yield event("message_stop", {})


_VERTEX_PATH = re.compile(
    r"^(?:/v1)?/projects/[^/]+/locations/[^/]+/publishers/anthropic/models/([^/:]+):(\w+)$"
)
_BEDROCK_PATH = re.compile(r"^/model/([^/]+)/(invoke|invoke-with-response-stream)$")


class _Handler(BaseHTTPRequestHandler):
    owner: ClaudeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_POST(self) -> None:
        server = self.owner
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        record = RecordedRequest("POST", self.path, dict(self.headers.items()), body)
        with server._lock:
            server.requests.append(record)

        fault = server._next_fault()
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
        if fault is not None and fault.kind == "status":
            headers = {}
            if fault.retry_after is not None:
                headers = {
                    "retry-after": str(math.ceil(fault.retry_after)),
                    "retry-after-ms": str(int(fault.retry_after * 1000)),
                }
            self._error(record, fault.status, fault.message, headers)
            return

        path = self.path.split("?")[0]
        platform, model, counting, streaming = (
            server.platform,
            None,
            False,
            bool(body.get("stream")),
        )
        if path == "/v1/messages":
            pass
        elif path == "/v1/messages/count_tokens":
            counting = True
        elif match := _BEDROCK_PATH.match(path):
            platform, model = get_platform("bedrock"), match.group(1)
            streaming = match.group(2) != "invoke"
        elif match := _VERTEX_PATH.match(path):
            platform, model = get_platform("vertex"), match.group(1)
            counting = model == "count-tokens"
            streaming = match.group(2) == "streamRawPredict"
            if counting:
                model = None
        else:
            self._error(record, 404, f"Not found: {path}")
            return
        if not (self.headers.get("x-api-key") or self.headers.get("authorization")):
            self._error(record, 401, "x-api-key header is required")
            return
        if model is not None:
            body = dict(body, model=model)
        if length > platform.max_request_bytes:
            self._error(record, 413, "Request exceeds the maximum allowed number of bytes.")
            return
        if platform.name == "bedrock" and streaming:
            self._error(record, 400, "the local server does not stream Bedrock event streams")
            return
        try:
            images = server.check(body, platform, counting=counting)
        except _Rejected as rejected:
            self._error(record, rejected.status, rejected.message)
            return
        record.images = images
        if counting:
            self._json(record, 200, {"input_tokens": server.input_tokens(body, images)})
        elif streaming:
            self._stream(record, server.events(body, images))
        else:
            self._json(record, 200, server.message(body, images))

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
        self.end_headers()
        self.wfile.write(data)

    def _error(
        self,
        record: RecordedRequest,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        kind = _ERROR_TYPES.get(status, "api_error")
        payload = {"type": "error", "error": {"type": kind, "message": message}}
        self._json(record, status, payload, headers)

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
