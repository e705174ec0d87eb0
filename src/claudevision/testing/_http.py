"""The local server's HTTP layer: uvicorn serving an ASGI app on 127.0.0.1, in a thread.

uvicorn parses HTTP (with h11), keeps connections alive, times idle ones out and shuts
down cleanly; this module starts it on a socket bound beforehand (so the port is known at
once), stops it, and lets the app cut a connection without answering (for injected
faults). A request so malformed that h11 refuses it gets the API's JSON error shape, not
uvicorn's plain-text page.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
import uuid
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["LocalServer", "new_request_id"]

_START_SECONDS = 30.0
_LOGGER = "claudevision.testing"


def new_request_id() -> str:
    """An id shaped like the API's ``request-id`` header: ``req_`` and 24 hex digits."""
    return f"req_{uuid.uuid4().hex[:24]}"


class _JsonErrorProtocol(H11Protocol):
    """uvicorn's h11 protocol, answering unparsable requests in the API's JSON shape."""

    def send_400_response(self, msg: str) -> None:
        """The 400 for a request h11 cannot parse (bad Content-Length, bad request line)."""
        request_id = new_request_id()
        body = json.dumps(
            {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": f"{msg.rstrip('.')}."},
                "request_id": request_id,
            }
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"request-id", request_id.encode()),
            (b"connection", b"close"),
        ]
        try:
            event = h11.Response(status_code=400, headers=headers, reason=b"Bad Request")
            self.transport.write(self.conn.send(event) or b"")
            self.transport.write(self.conn.send(h11.Data(data=body)) or b"")
            self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
        except h11.LocalProtocolError:  # h11 cannot answer in this state: close instead
            pass
        self.transport.close()


class _OurThreads(logging.Filter):
    """Drops uvicorn's log records from the local server's threads (tests read
    ``ClaudeServer.requests`` instead); other uvicorn servers in the process still log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not threading.current_thread().name.startswith("claudevision-server-")


_FILTER = _OurThreads()


def _quiet_our_threads() -> None:
    for name in ("uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


class LocalServer:
    """uvicorn serving ``app`` on ``host:port`` (port 0: a free one) in a background thread.

    The thread is named ``claudevision-server-PORT``.
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        stopping: threading.Event | None = None,
    ) -> None:
        self.stopping = stopping or threading.Event()
        """Set when :meth:`stop` begins, so handlers waiting on purpose give up."""
        self._socket = socket.create_server((host, port), backlog=128)
        config = uvicorn.Config(
            app,
            http=_JsonErrorProtocol,
            ws="none",
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_keep_alive=30,
            timeout_graceful_shutdown=1,
        )
        _quiet_our_threads()
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name=self.name, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._socket.close()
                raise RuntimeError("the local Claude server did not start")
            time.sleep(0.002)

    @property
    def port(self) -> int:
        """The port served."""
        return int(self._socket.getsockname()[1])

    @property
    def name(self) -> str:
        """A name for the thread of this server (it carries its port)."""
        return f"claudevision-server-{self.port}"

    @property
    def url(self) -> str:
        """``http://HOST:PORT``."""
        host = self._socket.getsockname()[0]
        return f"http://{host}:{self.port}"

    def abort(self, client: tuple[str, int] | None) -> None:
        """Cut the connection from ``client`` at once (a reset, no answer).

        Called from the server's own event loop, by the app serving that connection.
        """
        for connection in list(self._server.server_state.connections):
            if getattr(connection, "client", None) == client:
                transport: asyncio.BaseTransport = connection.transport
                if isinstance(transport, asyncio.Transport):
                    transport.abort()
                else:
                    transport.close()

    def stop(self) -> None:
        """Stop accepting, cut every connection, wait for the thread to end."""
        self.stopping.set()
        self._server.should_exit = True
        self._thread.join()
        self._socket.close()
