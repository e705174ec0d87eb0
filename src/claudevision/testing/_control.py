"""The control endpoint: script the server and read what it received, over HTTP.

For tests in any language (a TypeScript, Go or curl test against ``python -m
claudevision.testing serve``). Paths under ``/_control/``, no credentials, JSON in and out:

========================================  =============================================
``GET /_control/requests``                what the server received (oldest first)
``DELETE /_control/requests``             forget it
``POST /_control/replies``                queue replies: one object or a list; each is
                                          ``{"text": ...}``, ``{"tool_use": {"name",
                                          "input"}}``, ``{"status": 529}`` or any field
                                          of ``claudevision.testing.Reply``
``POST /_control/faults``                 ``{"status": 429, "times": 2, "retry_after":
                                          1}``, ``{"delay": 2.5}``, ``{"drop": true}``
                                          (before any check, for the next requests) or
                                          ``{"lose": true, "after": 1.0}`` (handled, then
                                          the answer lost)
``POST /_control/models``                 ``{"id": "my-model", "max_tokens": 8192}``
``POST /_control/files``                  ``{"filename", "data_base64", "downloadable"}``
``DELETE /_control/files/{id}``           make a file vanish (as if it expired)
``POST /_control/batches/{id}/expire``    end a batch as if its 24 hours ran out
``POST /_control/settings``               ``{"batch_processing_seconds": 5}``
``POST /_control/reset``                  requests, replies and faults forgotten
========================================  =============================================
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, Protocol

from ._files import FileStore
from ._models import Model
from ._replies import Reply
from ._routes import RecordedRequest
from ._rules import Rejected

__all__ = ["PREFIX", "Controlled", "handle"]

PREFIX = "/_control/"


class Controlled(Protocol):
    """What the control endpoint drives: the public methods of ``ClaudeServer``."""

    requests: list[RecordedRequest]
    files: FileStore
    batch_processing_seconds: float

    def reset(self) -> None: ...
    def queue(self, *replies: Reply) -> None: ...
    def model(self, model_id: str, **options: Any) -> Model: ...
    def expire_file(self, file_id: str) -> None: ...
    def expire_batch(self, batch_id: str) -> None: ...
    def delay(self, seconds: float, *, times: int = 1) -> None: ...
    def drop(self, *, times: int = 1) -> None: ...
    def lose(self, *, times: int = 1, after: float = 0.0) -> None: ...
    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> None: ...


def handle(server: Controlled, method: str, path: str, body: object) -> dict[str, Any]:
    """Carry out one control request; the JSON to answer (raises Rejected when invalid)."""
    name = path.removeprefix(PREFIX).strip("/")
    action = _ACTIONS.get((method, name))
    if action is not None:
        return action(server, body)
    if name.startswith("files/") and method == "DELETE":
        file_id = name.removeprefix("files/")
        try:
            server.expire_file(file_id)
        except KeyError:
            raise Rejected(404, f"File not found: {file_id}") from None
        return {"ok": True}
    if name.startswith("batches/") and name.endswith("/expire") and method == "POST":
        batch_id = name.removeprefix("batches/").removesuffix("/expire")
        try:
            server.expire_batch(batch_id)
        except KeyError:
            raise Rejected(404, f"Message batch not found: {batch_id}") from None
        return {"ok": True}
    raise Rejected(404, f"Not found: {method} {path}")


def _requests(server: Controlled, body: object) -> dict[str, Any]:
    return {"data": [_recorded(r) for r in list(server.requests)]}


def _forget(server: Controlled, body: object) -> dict[str, Any]:
    server.requests.clear()
    return {"ok": True}


def _reset(server: Controlled, body: object) -> dict[str, Any]:
    server.reset()
    return {"ok": True}


def _replies(server: Controlled, body: object) -> dict[str, Any]:
    items = body if isinstance(body, list) else [body]
    try:
        replies = [Reply.from_dict(_object(item)) for item in items]
    except (TypeError, ValueError) as error:
        raise Rejected(400, f"replies: {error}") from None
    server.queue(*replies)
    return {"queued": len(replies)}


def _model(server: Controlled, body: object) -> dict[str, Any]:
    fields = _object(body)
    model_id = fields.pop("id", None)
    if not isinstance(model_id, str):
        raise Rejected(400, "id: Field required")
    try:
        return server.model(model_id, **fields).info()
    except TypeError as error:
        raise Rejected(400, f"models: {error}") from None


def _settings(server: Controlled, body: object) -> dict[str, Any]:
    fields = _object(body)
    seconds = fields.pop("batch_processing_seconds", None)
    if fields or not isinstance(seconds, (int, float)) or seconds < 0:
        raise Rejected(400, "settings: give batch_processing_seconds, a number >= 0")
    server.batch_processing_seconds = float(seconds)
    return {"ok": True}


def _object(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Rejected(400, "The request body must be a JSON object")
    return dict(value)


def _recorded(request: Any) -> dict[str, Any]:
    return {
        "method": request.method,
        "path": request.path,
        "headers": request.headers,
        "body": request.body,
        "status": request.status,
        "request_id": request.request_id,
        "images": [asdict(image) for image in request.images],
    }


def _fault(server: Controlled, body: object) -> dict[str, Any]:
    fields = _object(body)
    times = fields.get("times", 1)
    if not isinstance(times, int) or times < 1:
        raise Rejected(400, "times: Input should be a positive integer")
    if "delay" in fields:
        server.delay(float(fields["delay"]), times=times)
    elif fields.get("drop"):
        server.drop(times=times)
    elif fields.get("lose"):
        server.lose(times=times, after=float(fields.get("after", 0.0)))
    elif isinstance(fields.get("status"), int):
        retry = fields.get("retry_after")
        server.fail(
            fields["status"],
            times=times,
            retry_after=None if retry is None else float(retry),
            message=fields.get("message"),
        )
    else:
        raise Rejected(400, "faults: give 'status', 'delay', 'drop' or 'lose'")
    return {"ok": True}


def _add_file(server: Controlled, body: object) -> dict[str, Any]:
    fields = _object(body)
    try:
        data = base64.b64decode(str(fields.get("data_base64", "")), validate=True)
    except binascii.Error:
        raise Rejected(400, "data_base64: invalid base64 data") from None
    stored = server.files.add(
        data,
        filename=str(fields.get("filename", "")),
        mime_type=str(fields.get("mime_type", "")),
        downloadable=bool(fields.get("downloadable", False)),
    )
    return stored.metadata()


_ACTIONS: dict[tuple[str, str], Callable[[Controlled, object], dict[str, Any]]] = {
    ("GET", "requests"): _requests,
    ("DELETE", "requests"): _forget,
    ("POST", "reset"): _reset,
    ("POST", "replies"): _replies,
    ("POST", "faults"): _fault,
    ("POST", "models"): _model,
    ("POST", "files"): _add_file,
    ("POST", "settings"): _settings,
}
