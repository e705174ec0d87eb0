"""Injected faults (statuses, delays, dropped connections, lost answers) and the API's
error shapes.

>>> error_body(529, "Overloaded")["error"]["type"]
'overloaded_error'
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

__all__ = [
    "ERROR_TYPES",
    "Fault",
    "FaultKind",
    "FaultQueue",
    "error_body",
    "retry_headers",
    "status_fault",
]

FaultKind = Literal["status", "delay", "drop", "lose"]

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    411: "invalid_request_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
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


def status_fault(
    status: int, *, times: int = 1, retry_after: float | None = None, message: str | None = None
) -> Fault:
    """A fault answering ``status``, with the API's wording when no message is given."""
    if message is None:
        message = "Overloaded" if status == 529 else _phrase(status)
    return Fault("status", status=status, times=times, retry_after=retry_after, message=message)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def retry_headers(fault: Fault) -> dict[str, str]:
    """The ``retry-after`` headers of a status fault (none when it sets no delay)."""
    if fault.retry_after is None:
        return {}
    return {
        "retry-after": str(math.ceil(fault.retry_after)),
        "retry-after-ms": str(int(fault.retry_after * 1000)),
    }


class FaultQueue:
    """Faults waiting for requests, first in first out; safe across handler threads."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        """Queue ``fault`` behind the ones already waiting."""
        with self._lock:
            self._faults.append(fault)

    def next(self) -> Fault | None:
        """The fault for the request arriving now, if any (using up one of its times)."""
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.times -= 1
            if fault.times <= 0:
                self._faults.pop(0)
            return fault


def error_body(status: int, message: str) -> dict[str, Any]:
    """The API's error JSON for ``status``."""
    kind = ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}
