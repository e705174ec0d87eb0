"""A local Claude: enough of the Messages API on 127.0.0.1 for the real SDK to talk to.

It checks every image block by the API's published rules (:mod:`._rules`, written
independently of the rest of claudevision) and answers with the API's own error shapes
and texts, so a test against it fails where the real API would. Its replies
(:mod:`._replies`) are deterministic and describe what it received; :mod:`._http` serves
them. This module ties the three together.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from . import _control, _eventstream, _faults, _replies, _streams
from ._batches import BatchStore, check_requests
from ._faults import Fault, FaultQueue
from ._files import FileStore, StoredFile
from ._models import Model, ModelTable
from ._replies import Reply, ReplyQueue, Responder
from ._routes import Outcome, RecordedRequest, Route, Stream
from ._rules import Limits, ReceivedImage, Rejected, check_request, limits_for
from ._validate import check_body, check_headers

if TYPE_CHECKING:
    from collections.abc import Iterator

    import anthropic

    from ._http import LocalServer

__all__ = ["ClaudeServer", "Fault", "ReceivedImage", "RecordedRequest", "Reply"]


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

    ``platform`` is ``"anthropic"``, ``"anthropic-5mb"``, ``"bedrock"``, ``"vertex"`` or an
    object with the attributes of ``claudevision.Platform``. Known URLs and Files API ids
    can be registered in ``urls`` and ``files`` (name to bytes); others answer as the API
    does when it cannot fetch them.
    """

    def __init__(
        self,
        *,
        platform: object = "anthropic",
        chunk_size: int = 12,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.platform: Limits = limits_for(platform)
        self.chunk_size = chunk_size
        """Characters of text (or of tool input JSON) per streamed delta."""
        self.host, self.port = host, port
        self.requests: list[RecordedRequest] = []
        self.models = ModelTable()
        """The models the server knows (others answer 404); ``models.add("my-model")``."""
        self.urls: dict[str, bytes] = {}
        self.files = FileStore()
        """The Files API's store: uploads land here; ``files[id] = data`` registers one and
        ``del files[id]`` (or :meth:`expire_file`) makes one vanish."""
        self.responder: Responder | None = None
        """Scripted replies: ``responder(body, images)`` returns the reply's content blocks,
        a :class:`Reply` or a text (a ``tool_use`` block makes ``stop_reason``
        ``"tool_use"``); None: the default reply. Replies queued with :meth:`queue` come
        first."""
        self.replies = ReplyQueue()
        self.batches = BatchStore()
        self.batch_processing_seconds = 0.0
        """How long a new Message Batch stays ``in_progress`` (0: it ends at once)."""
        self._faults = FaultQueue()
        self._lock = threading.Lock()
        self._http: LocalServer | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> ClaudeServer:
        """Start serving in a background thread (if not already); returns self."""
        if self._http is None:
            try:
                from ._app import Api
                from ._http import LocalServer
            except ImportError as error:  # pragma: no cover - the extra is in dev
                raise ImportError(
                    f"the local Claude server needs {error.name}: "
                    "pip install -e '.[testing]' from a clone of claudevision"
                ) from error
            stopping = threading.Event()
            servers: list[LocalServer] = []
            api = Api(self, abort=lambda client: servers[0].abort(client), stopping=stopping)
            servers.append(LocalServer(api, host=self.host, port=self.port, stopping=stopping))
            self._http = servers[0]
        return self

    def stop(self) -> None:
        """Stop at once: close the port and every connection, and join every thread."""
        if self._http is not None:
            http, self._http = self._http, None
            http.stop()

    def __enter__(self) -> ClaudeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the ``base_url`` for a client."""
        if self._http is None:
            raise RuntimeError("the server is not started; call start() or use 'with'")
        return self._http.url

    # -- clients (the SDK is imported only here) ---------------------------------------

    def client(self, **options: Any) -> anthropic.Anthropic:
        """An ``anthropic.Anthropic`` pointed at this server."""
        import anthropic

        options.setdefault("api_key", "test-key")
        return anthropic.Anthropic(base_url=self.url, **options)

    def async_client(self, **options: Any) -> anthropic.AsyncAnthropic:
        """An ``anthropic.AsyncAnthropic`` pointed at this server."""
        import anthropic

        options.setdefault("api_key", "test-key")
        return anthropic.AsyncAnthropic(base_url=self.url, **options)

    def bedrock_client(self, **options: Any) -> anthropic.AnthropicBedrock:
        """An ``anthropic.AnthropicBedrock`` pointed at this server (Bedrock limits apply)."""
        import anthropic

        options.setdefault("api_key", "test-key")
        options.setdefault("aws_region", "us-east-1")
        return anthropic.AnthropicBedrock(base_url=self.url, **options)

    def vertex_client(self, **options: Any) -> anthropic.AnthropicVertex:
        """An ``anthropic.AnthropicVertex`` pointed at this server (Vertex limits apply)."""
        import anthropic

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
        fault = _faults.status_fault(status, times=times, retry_after=retry_after, message=message)
        self._faults.add(fault)

    def delay(self, seconds: float, *, times: int = 1) -> None:
        """Wait ``seconds`` before answering the next ``times`` requests."""
        self._faults.add(Fault("delay", seconds=seconds, times=times))

    def drop(self, *, times: int = 1) -> None:
        """Close the connection without answering the next ``times`` requests."""
        self._faults.add(Fault("drop", times=times))

    def lose(self, *, times: int = 1, after: float = 0.0) -> None:
        """Handle the next ``times`` requests, then wait ``after`` seconds and close the
        connection without answering: the work is done, the answer lost on the way."""
        self._faults.add(Fault("lose", seconds=after, times=times))

    # -- scripted replies ----------------------------------------------------------------

    def queue(self, *replies: Reply | str | list[dict[str, Any]]) -> None:
        """Answer the next valid requests with ``replies``, in order (then the default).

        A text, a list of content blocks, or a :class:`Reply` (tool calls, errors, delays,
        stop reasons, usage, a stream that fails midway):

        >>> server.queue("Hello!", Reply.tool_use("lookup", {"q": "cats"}))  # doctest: +SKIP
        """
        self.replies.add(*(_replies.as_reply(r) for r in replies))

    def model(self, model_id: str, **options: Any) -> Model:
        """Know ``model_id`` from now on (``max_tokens``, ``max_input_tokens``, ...)."""
        return self.models.add(model_id, **options)

    def reset(self) -> None:
        """Forget recorded requests, queued replies and faults (files and models stay)."""
        with self._lock:
            self.requests.clear()
        self.replies.clear()
        self._faults = FaultQueue()

    # -- files ---------------------------------------------------------------------------

    def add_file(
        self,
        data: bytes,
        *,
        filename: str = "",
        mime_type: str = "",
        downloadable: bool = False,
    ) -> str:
        """Store ``data`` as if uploaded (``downloadable`` as if a tool made it); its id."""
        stored = self.files.add(
            data, filename=filename, mime_type=mime_type, downloadable=downloadable
        )
        return stored.id

    def expire_file(self, file_id: str) -> None:
        """Make ``file_id`` vanish, as when it expires: using it then answers 404."""
        if not self.files.remove(file_id):
            raise KeyError(f"no file {file_id!r} on this server")

    def uploaded(self) -> list[StoredFile]:
        """Every file the server holds, oldest first."""
        return self.files.all_files()

    # -- the rules and the replies -----------------------------------------------------

    def check(
        self, body: dict[str, Any], platform: object = None, *, counting: bool = False
    ) -> list[ReceivedImage]:
        """Validate a request body as the API does; return its images.

        Raises ``_rules.Rejected`` (its ``status`` and ``message``) as the API would.
        """
        limits = self.platform if platform is None else limits_for(platform)
        return check_request(body, limits, counting=counting, urls=self.urls, files=self.files)

    def input_tokens(self, body: dict[str, Any], images: list[ReceivedImage]) -> int:
        """Deterministic input tokens: text at 4 characters a token, images by the rule."""
        return _replies.input_tokens(body, images)

    @staticmethod
    def reply_text(body: dict[str, Any], images: list[ReceivedImage]) -> str:
        """What the server answers: a description of what it received."""
        return _replies.reply_text(body, images)

    def message(self, body: dict[str, Any], images: list[ReceivedImage]) -> dict[str, Any]:
        """The Message JSON the server answers ``body`` with (the responder's, if set)."""
        return _replies.message(body, images, self.responder)

    def events(self, body: dict[str, Any], images: list[ReceivedImage]) -> Iterator[bytes]:
        """The server-sent events of a streamed reply."""
        return _streams.events(_replies.message(body, images), self.chunk_size)

    # -- what the HTTP layer calls (see _http.App) -------------------------------------

    def record(self, request: RecordedRequest) -> None:
        """Append ``request`` to :attr:`requests`."""
        with self._lock:
            self.requests.append(request)

    def next_fault(self) -> Fault | None:
        """The injected fault for the request arriving now, if any."""
        return self._faults.next()

    def answer(self, body: dict[str, Any], route: Route, record: RecordedRequest) -> Outcome:
        """Check ``body`` by the route's rules and build the reply; raises Rejected."""
        call = body if route.model is None else dict(body, model=route.model)
        check_headers(record.headers, direct=not route.cloud)
        check_body(call, counting=route.counting, platform=route.cloud)
        return self._reply(call, route, record)

    def create_batch(self, body: object, headers: dict[str, str]) -> dict[str, Any]:
        """Create a Message Batch from a create body; its ``MessageBatch`` JSON (without
        ``results_url``: the HTTP layer adds the base URL). Raises Rejected."""
        check_headers(headers, direct=True)
        try:
            requests = check_requests(body)
        except ValueError as error:
            raise Rejected(400, str(error)) from None
        for index, (_, params) in enumerate(requests):
            try:
                check_body(params)
            except Rejected as rejected:
                raise Rejected(400, f"requests.{index}.params.{rejected.message}") from None
        results = [(custom_id, self._batch_result(params)) for custom_id, params in requests]
        batch = self.batches.create(results, processing_seconds=self.batch_processing_seconds)
        return {"id": batch.id}

    def _batch_result(self, params: dict[str, Any]) -> dict[str, Any]:
        record = RecordedRequest("BATCH", "/v1/messages/batches", {}, params)
        try:
            outcome = self._reply(dict(params, stream=False), Route(self.platform), record)
        except Rejected as rejected:
            outcome = Outcome(_faults.error_body(rejected.status, rejected.message), 400)
        if outcome.status != 200 or outcome.payload is None:
            error = dict(outcome.payload or {}, request_id=None)
            return {"type": "errored", "error": error}
        return {"type": "succeeded", "message": outcome.payload}

    def expire_batch(self, batch_id: str) -> None:
        """End ``batch_id`` as if its 24 hours ran out (unfinished requests ``expired``)."""
        if self.batches.expire(batch_id) is None:
            raise KeyError(f"no batch {batch_id!r} on this server")

    def _reply(self, call: dict[str, Any], route: Route, record: RecordedRequest) -> Outcome:
        model = self.models.find(call["model"])
        if model is None:
            raise Rejected(404, f"model: {call['model']}")
        if not route.counting and call["max_tokens"] > model.max_tokens:
            raise Rejected(
                400,
                f"max_tokens: {call['max_tokens']} > {model.max_tokens}, which is the maximum "
                f"allowed number of output tokens for {model.id}",
            )
        images = check_request(
            call, route.limits, counting=route.counting, urls=self.urls, files=self.files
        )
        record.images = images
        if route.counting:
            return Outcome({"input_tokens": _replies.input_tokens(call, images)})
        reply = self.replies.next()
        if reply is None and self.responder is not None:
            reply = _replies.as_reply(self.responder(call, images))
        if reply is not None and reply.status != 200:
            message = reply.message or _faults.status_fault(reply.status).message
            fault = Fault("status", reply.status, reply.retry_after)
            return Outcome(
                _faults.error_body(reply.status, message),
                reply.status,
                _faults.retry_headers(fault),
                reply.delay,
            )
        answer = _replies.message(call, images, reply)
        delay = reply.delay if reply is not None else 0.0
        if not route.streams(call):
            return Outcome(answer, delay=delay)
        stream = self._stream(answer, reply, bedrock=route.cloud == "bedrock")
        return Outcome(delay=delay, stream=stream)

    def control(self, method: str, path: str, body: object) -> dict[str, Any]:
        """Answer a request to the control endpoint (``/_control/...``)."""
        return _control.handle(self, method, path, body)

    def _stream(self, answer: dict[str, Any], reply: Reply | None, *, bedrock: bool) -> Stream:
        events = list(_streams.events(answer, self.chunk_size))
        stream = Stream(events)
        if reply is not None:
            stream.event_delay = reply.event_delay
            if reply.fail_after is not None:
                stream.cut_after = reply.fail_after
                if reply.fail_with == "error":
                    status = reply.error_status
                    text = reply.message or _faults.status_fault(status).message
                    stream.cut_with = _streams.error_event(status, text)
        if bedrock:
            stream.media_type = "application/vnd.amazon.eventstream"
            stream.events = [_eventstream.from_sse(event) for event in stream.events]
            if stream.cut_with is not None:
                stream.cut_with = _eventstream.exception(
                    "modelStreamErrorException", _error_message(stream.cut_with)
                )
        return stream


def _error_message(event: bytes) -> str:
    data = json.loads(event.decode().split("\ndata: ", 1)[1])
    return str(data["error"]["message"])
