"""The local server's routes, on Starlette: the API's paths, bounded reads, JSON errors.

Every answer, whatever the request, is JSON in the API's shape (errors carry a
``request_id`` and a ``request-id`` header) or a stream of server-sent events; an
injected fault may cut the connection on purpose. What to answer is the server's
(:class:`App`); this module reads requests, routes them and writes the replies.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol
from urllib.parse import unquote

import anyio.to_thread
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from ._batches import BatchStore
from ._control import PREFIX as CONTROL_PREFIX
from ._faults import Fault, error_body, retry_headers
from ._files import EXPIRY_RANGE, MAX_FILE_BYTES, MAX_LIST_LIMIT, FileStore
from ._http import new_request_id
from ._models import ModelTable
from ._routes import Outcome, RecordedRequest, Route, Stream, match_route
from ._rules import Limits, Rejected, parse_body

__all__ = ["Api", "App"]

DRAIN_LIMIT = 256 * 1024 * 1024
"""A body over the route's limit is read and discarded up to this size (so the client
sees the 413 instead of a reset connection); a larger one is not read at all."""

_MULTIPART_OVERHEAD = 1024 * 1024

_BATCH_PATH = re.compile(r"^/v1/messages/batches/([^/]+)(/results|/cancel)?$")
_BATCH_BYTES = 256 * 1000 * 1000
_FILE_PATH = re.compile(r"^/v1/files/([^/]+)(/content)?$")


class App(Protocol):
    """What the routes ask of the server they serve."""

    @property
    def platform(self) -> Limits:
        """The limits of the direct API routes."""

    @property
    def files(self) -> FileStore:
        """The Files API's store."""

    @property
    def models(self) -> ModelTable:
        """The models the server knows."""

    @property
    def batches(self) -> BatchStore:
        """The Message Batches."""

    def create_batch(self, body: object, headers: dict[str, str]) -> dict[str, Any]:
        """Create a batch (``{"id": ...}``); raises Rejected."""

    def record(self, request: RecordedRequest) -> None:
        """Keep ``request`` (its body and images are filled in as they are known)."""

    def next_fault(self) -> Fault | None:
        """The injected fault for the request arriving now, if any."""

    def answer(self, body: dict[str, Any], route: Route, record: RecordedRequest) -> Outcome:
        """The reply to a checked, authenticated request; raises Rejected."""

    def control(self, method: str, path: str, body: object) -> dict[str, Any]:
        """A control request's answer (see :mod:`._control`); raises Rejected."""


class _Raw(Response):
    """A response written by an ASGI callable of its own."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Any]) -> None:
        super().__init__()
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


class _Drop(Exception):
    """Cut the connection without answering."""


class _Answer(Exception):
    """Answer now with ``response`` (a refusal that needs its own headers)."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


def _error(
    status: int, message: str, request_id: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = dict(error_body(status, message), request_id=request_id)
    return JSONResponse(body, status, headers={"request-id": request_id, **(headers or {})})


class Api:
    """The ASGI application: every route of the local server."""

    def __init__(
        self,
        app: App,
        *,
        abort: Callable[[tuple[str, int] | None], None],
        stopping: threading.Event,
    ) -> None:
        self.app = app
        self._abort = abort
        self._stopping = stopping

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        if request.url.path.startswith(CONTROL_PREFIX):
            await self._control(request)(scope, receive, send)
            return
        request_id = new_request_id()
        scope["claudevision.request_id"] = request_id
        record = RecordedRequest(
            request.method,
            request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            dict(request.headers.items()),
            {},
            request_id=request_id,
        )
        self.app.record(record)
        try:
            response = await self._route(request, record)
            if record.lose_after is not None:  # done, and the answer lost on the way
                await self._sleep(record.lose_after)
                raise _Drop
        except Rejected as rejected:
            response = _error(rejected.status, rejected.message, record.request_id)
        except _Answer as answer:
            response = answer.response
        except (_Drop, ClientDisconnect):
            await self._cut(scope)
            return
        except Exception as error:  # a bug here must fail the test, not hang the client
            response = _error(500, f"the local server failed: {error!r}", record.request_id)
        response.headers.setdefault("request-id", record.request_id)
        record.status = response.status_code
        await response(scope, receive, send)

    def _control(self, request: Request) -> Response:
        async def answer(scope: Scope, receive: Receive, send: Send) -> None:
            request_id = new_request_id()
            try:
                raw = await request.body()
                body = json.loads(raw) if raw.strip() else None
                payload = self.app.control(request.method, request.url.path, body)
                response: Response = JSONResponse(payload)
            except Rejected as rejected:
                response = _error(rejected.status, rejected.message, request_id)
            except ValueError:
                response = _error(400, "The request body is not valid JSON", request_id)
            await response(scope, receive, send)

        return _Raw(answer)

    async def _cut(self, scope: Scope) -> None:
        client = scope.get("client")
        self._abort((str(client[0]), int(client[1])) if client else None)
        await asyncio.sleep(0)  # let the transport report the loss before returning

    async def _route(self, request: Request, record: RecordedRequest) -> Response:
        path, method = request.url.path, request.method
        route = match_route(path, self.app.platform)
        if route is not None:
            self._allow(method, "POST")
            return await self._messages(request, record, route)
        if path == "/v1/files":
            self._allow(method, "GET", "POST")
            if method == "POST":
                return await self._upload(request, record)
            await self._admit(request, record)
            return JSONResponse(self._list_files(request))
        if path == "/v1/messages/batches":
            self._allow(method, "GET", "POST")
            return await self._batches(request, record)
        if match := _BATCH_PATH.match(path):
            return await self._batch(request, record, match.group(1), match.group(2) or "")
        if path == "/v1/models" or path.startswith("/v1/models/"):
            return await self._models(request, record, unquote(path[len("/v1/models/") :]))
        if match := _FILE_PATH.match(path):
            return await self._file(request, record, unquote(match.group(1)), bool(match.group(2)))
        raise Rejected(404, f"Not found: {method} {path}")

    @staticmethod
    def _allow(method: str, *allowed: str) -> None:
        if method not in allowed:
            raise Rejected(405, f"Method {method} is not allowed here; use {' or '.join(allowed)}")

    # -- reading requests ---------------------------------------------------------------

    async def _read(self, request: Request, limit: int, request_id: str) -> bytes | None:
        """The body, or None when it is over ``limit`` (drained if not too large)."""
        text = request.headers.get("content-length")
        if request.headers.get("transfer-encoding") or text is None:
            message = "Content-Length header is required"
            if text is None and request.headers.get("transfer-encoding"):
                message = "Send the request body with a Content-Length header, not chunked"
            raise _Answer(_error(411, message, request_id, {"connection": "close"}))
        length = int(text)  # h11 has refused any Content-Length that is not a number
        if length <= limit:
            return await request.body()
        if length > DRAIN_LIMIT:
            raise _Answer(
                _error(
                    413,
                    "Request exceeds the maximum allowed number of bytes.",
                    request_id,
                    {"connection": "close"},
                )
            )
        async for _ in request.stream():
            pass
        return None

    async def _apply(self, fault: Fault | None, record: RecordedRequest) -> None:
        """Act out an injected fault (or nothing): wait, cut, or answer its status."""
        if fault is None:
            return
        if fault.kind == "delay":
            if await self._sleep(fault.seconds):
                return
            raise _Drop  # a delay cut short by stop() drops the request
        if fault.kind == "drop":
            raise _Drop
        if fault.kind == "lose":
            record.lose_after = fault.seconds
            return
        raise _Answer(_error(fault.status, fault.message, record.request_id, retry_headers(fault)))

    async def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; False if the server began stopping meanwhile."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while (left := end - loop.time()) > 0:
            if self._stopping.is_set():
                return False
            await asyncio.sleep(min(left, 0.05))
        return not self._stopping.is_set()

    async def _admit(self, request: Request, record: RecordedRequest) -> None:
        """Faults first, then credentials (for the routes that read no body)."""
        await self._apply(self.app.next_fault(), record)
        _check_credentials(request)

    # -- messages -----------------------------------------------------------------------

    async def _messages(self, request: Request, record: RecordedRequest, route: Route) -> Response:
        raw = await self._read(request, route.limits.max_request_bytes, record.request_id)
        problem: Rejected | None = None
        if raw is not None:
            try:
                record.body = parse_body(raw)
            except Rejected as rejected:
                problem = rejected
        await self._apply(self.app.next_fault(), record)
        _check_credentials(request)
        if raw is None:
            raise Rejected(413, "Request exceeds the maximum allowed number of bytes.")
        if problem is not None:
            raise problem
        outcome = await anyio.to_thread.run_sync(self.app.answer, record.body, route, record)
        return await self._deliver(outcome, request)

    async def _deliver(self, outcome: Outcome, request: Request) -> Response:
        if outcome.delay and not await self._sleep(outcome.delay):
            raise _Drop
        if outcome.stream is None:
            payload = dict(outcome.payload or {})
            if outcome.status != 200:
                payload["request_id"] = request.scope.get("claudevision.request_id", "")
            return JSONResponse(payload, outcome.status, headers=outcome.headers)
        stream = outcome.stream
        client = request.scope.get("client")
        return StreamingResponse(
            self._events(stream, client),
            media_type=stream.media_type,
            headers={"cache-control": "no-cache"},
        )

    async def _events(self, stream: Stream, client: Any) -> AsyncIterator[bytes]:
        for number, event in enumerate(stream.events):
            if stream.cut_after is not None and number >= stream.cut_after:
                break
            if number and stream.event_delay and not await self._sleep(stream.event_delay):
                break
            yield event
        else:
            return
        if stream.cut_with is not None and not self._stopping.is_set():
            yield stream.cut_with
            return
        self._abort((str(client[0]), int(client[1])) if client else None)
        await asyncio.sleep(0)

    # -- message batches ----------------------------------------------------------------

    async def _batches(self, request: Request, record: RecordedRequest) -> Response:
        base = str(request.base_url).rstrip("/")
        batches = self.app.batches
        if request.method == "GET":
            await self._admit(request, record)
            query = request.query_params
            limit = _int_param(query.get("limit"), "limit", 20, 1, MAX_LIST_LIMIT)
            page = batches.page(
                base, limit=limit, after_id=query.get("after_id"), before_id=query.get("before_id")
            )
            return JSONResponse(page)
        raw = await self._read(request, _BATCH_BYTES, record.request_id)
        await self._admit(request, record)
        if raw is None:
            raise Rejected(413, "Request exceeds the maximum allowed number of bytes.")
        record.body = parse_body(raw)
        created = await anyio.to_thread.run_sync(self.app.create_batch, record.body, record.headers)
        return JSONResponse(batches.view(created["id"], base))

    async def _batch(
        self, request: Request, record: RecordedRequest, batch_id: str, action: str
    ) -> Response:
        allowed = {"": ("GET", "DELETE"), "/results": ("GET",), "/cancel": ("POST",)}[action]
        self._allow(request.method, *allowed)
        await self._admit(request, record)
        batches = self.app.batches
        base = str(request.base_url).rstrip("/")
        if batches.get(batch_id) is None:
            raise Rejected(404, f"Message batch not found: {batch_id}")
        if request.method == "DELETE":
            try:
                batches.delete(batch_id)
            except ValueError as error:
                raise Rejected(400, str(error)) from None
            return JSONResponse({"id": batch_id, "type": "message_batch_deleted"})
        if action == "/cancel":
            batches.cancel(batch_id)
        if action == "/results":
            data = batches.results(batch_id)
            if data is None:
                raise Rejected(400, f"Message batch {batch_id} has not ended; no results yet")
            return Response(data, media_type="application/binary")
        return JSONResponse(batches.view(batch_id, base))

    # -- models -------------------------------------------------------------------------

    async def _models(self, request: Request, record: RecordedRequest, model_id: str) -> Response:
        self._allow(request.method, "GET")
        await self._admit(request, record)
        models = self.app.models
        if model_id:
            model = models.find(model_id)
            if model is None:
                raise Rejected(404, f"model: {model_id}")
            return JSONResponse(model.info())
        query = request.query_params
        limit = _int_param(query.get("limit"), "limit", 20, 1, MAX_LIST_LIMIT)
        page = models.page(
            limit=limit, after_id=query.get("after_id"), before_id=query.get("before_id")
        )
        return JSONResponse(page)

    # -- files --------------------------------------------------------------------------

    async def _upload(self, request: Request, record: RecordedRequest) -> Response:
        limit = MAX_FILE_BYTES + _MULTIPART_OVERHEAD
        text = request.headers.get("content-length")
        if text is not None and int(text) > limit:
            raise _Answer(
                _error(
                    413,
                    f"File exceeds the maximum size of {MAX_FILE_BYTES} bytes.",
                    record.request_id,
                    {"connection": "close"},
                )
            )
        await self._apply(self.app.next_fault(), record)
        _check_credentials(request)
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise Rejected(400, "content-type: upload the file as multipart/form-data")
        try:
            form = await request.form(max_files=1, max_fields=8)
        except ClientDisconnect:
            raise
        except Exception as error:
            raise Rejected(400, f"The multipart body could not be parsed: {error}") from None
        try:
            upload = form.get("file")
            if upload is None:
                raise Rejected(400, "file: Field required")
            expiry = _expiry(form.get("expires_in_seconds"))
            extra = sorted(set(form.keys()) - {"file", "expires_in_seconds"})
            if extra:
                raise Rejected(400, f"{extra[0]}: Extra inputs are not permitted")
            if isinstance(upload, UploadFile):
                data = await upload.read(MAX_FILE_BYTES + 1)
                filename, mime_type = upload.filename or "", upload.content_type or ""
            else:  # a part with an empty filename arrives as a plain field
                data, filename, mime_type = upload.encode(), "", ""
            if len(data) > MAX_FILE_BYTES:
                raise Rejected(413, f"File exceeds the maximum size of {MAX_FILE_BYTES} bytes.")
            stored = self.app.files.add(
                data, filename=filename, mime_type=mime_type, expires_in_seconds=expiry
            )
        finally:
            await form.close()
        record.body = {"file": stored.metadata()}
        return JSONResponse(stored.metadata())

    def _list_files(self, request: Request) -> dict[str, Any]:
        query = request.query_params
        limit = _int_param(query.get("limit"), "limit", 20, 1, MAX_LIST_LIMIT)
        given = query.getlist("ids") + query.getlist("ids[]")
        ids = [part for text in given for part in text.split(",") if part] or None
        if ids is not None and len(ids) > 100:
            raise Rejected(400, "ids: at most 100 ids may be given")
        page = query.get("page")
        if page is not None and not re.fullmatch(r"page_\d+", page):
            raise Rejected(400, f"page: invalid page cursor {page!r}")
        return self.app.files.page(
            limit=limit,
            page=page,
            ids=ids,
            after_id=query.get("after_id"),
            before_id=query.get("before_id"),
        )

    async def _file(
        self, request: Request, record: RecordedRequest, file_id: str, content: bool
    ) -> Response:
        self._allow(request.method, "GET", *(() if content else ("DELETE",)))
        await self._admit(request, record)
        stored = self.app.files.get_file(file_id)
        if stored is None:
            raise Rejected(404, f"File not found: {file_id}")
        if request.method == "DELETE":
            self.app.files.remove(file_id)
            return JSONResponse({"id": file_id, "type": "file_deleted"})
        if not content:
            return JSONResponse(stored.metadata())
        if not stored.downloadable:
            raise Rejected(
                400,
                f"File {file_id} is not downloadable: only files created by tools can be "
                "downloaded, not files you uploaded",
            )
        return Response(stored.data, media_type=stored.mime_type)


def _check_credentials(request: Request) -> None:
    if not (request.headers.get("x-api-key") or request.headers.get("authorization")):
        raise Rejected(401, "x-api-key header is required")


def _int_param(text: str | None, name: str, default: int, low: int, high: int) -> int:
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise Rejected(400, f"{name}: Input should be a valid integer") from None
    if not low <= value <= high:
        raise Rejected(400, f"{name}: Input should be between {low} and {high}")
    return value


def _expiry(value: object) -> int | None:
    if value is None:
        return None
    low, high = EXPIRY_RANGE
    return _int_param(str(value), "expires_in_seconds", 0, low, high)
