"""A local Claude: enough of the Messages API on 127.0.0.1 for the real SDK to talk to.

It checks every image block by the API's published rules (:mod:`._rules`, written
independently of the rest of claudevision) and answers with the API's own error shapes
and texts, so a test against it fails where the real API would. Its replies
(:mod:`._replies`) are deterministic and describe what it received; :mod:`._http` serves
them. This module ties the three together.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from . import _replies
from ._files import FileStore, StoredFile
from ._replies import Fault, FaultQueue, Responder
from ._routes import RecordedRequest, Reply, Route
from ._rules import Limits, ReceivedImage, check_request, limits_for

if TYPE_CHECKING:
    from collections.abc import Iterator

    import anthropic

    from ._http import LocalServer

__all__ = ["ClaudeServer", "Fault", "ReceivedImage", "RecordedRequest"]


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

    def __init__(self, *, platform: object = "anthropic", chunk_size: int = 12) -> None:
        self.platform: Limits = limits_for(platform)
        self.chunk_size = chunk_size
        self.requests: list[RecordedRequest] = []
        self.urls: dict[str, bytes] = {}
        self.files = FileStore()
        """The Files API's store: uploads land here; ``files[id] = data`` registers one and
        ``del files[id]`` (or :meth:`expire_file`) makes one vanish."""
        self.responder: Responder | None = None
        """Scripted replies: ``responder(body, images)`` returns the reply's content blocks
        (a ``tool_use`` block makes ``stop_reason`` ``"tool_use"``); None describes what was
        received. Streamed requests always get the description."""
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
                    "pip install 'claudevision[testing]'"
                ) from error
            stopping = threading.Event()
            servers: list[LocalServer] = []
            api = Api(self, abort=lambda client: servers[0].abort(client), stopping=stopping)
            servers.append(LocalServer(api, stopping=stopping))
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
        fault = _replies.status_fault(status, times=times, retry_after=retry_after, message=message)
        self._faults.add(fault)

    def delay(self, seconds: float, *, times: int = 1) -> None:
        """Wait ``seconds`` before answering the next ``times`` requests."""
        self._faults.add(Fault("delay", seconds=seconds, times=times))

    def drop(self, *, times: int = 1) -> None:
        """Close the connection without answering the next ``times`` requests."""
        self._faults.add(Fault("drop", times=times))

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
        """The Message JSON the server answers ``body`` with."""
        return _replies.message(body, images, self.responder)

    def events(self, body: dict[str, Any], images: list[ReceivedImage]) -> Iterator[bytes]:
        """The server-sent events of a streamed reply."""
        return _replies.events(_replies.message(body, images), self.chunk_size)

    # -- what the HTTP layer calls (see _http.App) -------------------------------------

    def record(self, request: RecordedRequest) -> None:
        """Append ``request`` to :attr:`requests`."""
        with self._lock:
            self.requests.append(request)

    def next_fault(self) -> Fault | None:
        """The injected fault for the request arriving now, if any."""
        return self._faults.next()

    def answer(self, body: dict[str, Any], route: Route, record: RecordedRequest) -> Reply:
        """Check ``body`` by the route's rules and build the reply; raises Rejected."""
        call = body if route.model is None else dict(body, model=route.model)
        images = check_request(
            call, route.limits, counting=route.counting, urls=self.urls, files=self.files
        )
        record.images = images
        if route.counting:
            return {"input_tokens": _replies.input_tokens(call, images)}
        if route.streams(call):
            return _replies.events(_replies.message(call, images), self.chunk_size)
        return _replies.message(call, images, self.responder)
