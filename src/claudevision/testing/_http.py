"""The local server's HTTP layer: uvicorn serving an ASGI app on 127.0.0.1, in a thread.

uvicorn parses HTTP (with h11), keeps connections alive, times idle ones out and shuts
down cleanly; this module starts it on a socket bound beforehand (so the port is known at
once), stops it, and lets the app cut a connection without answering (for injected
faults). A request so malformed that h11 refuses it gets the API's JSON error shape, not
uvicorn's plain-text page.
"""

from __future__ import annotations

import asyncio
import contextlib
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
    """uvicorn's h11 protocol, answering unparsable requests in the API's JSON shape, with
    ``TCP_NODELAY`` on each connection: a reply's head and body go out as two writes, and
    without it the body waits out the client's delayed acknowledgement (40 ms a request
    on a kept-alive connection)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Set ``TCP_NODELAY`` (asyncio skips it for accepted sockets), then as uvicorn."""
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)  # type: ignore[arg-type]

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


class _Server(uvicorn.Server):
    """uvicorn's server, woken at once by :meth:`wake` and shut down without its fixed
    pauses (a tenth of a second each), so a test's server starts and stops in
    milliseconds."""

    _SHUTDOWN_SECONDS = 1.0

    async def main_loop(self) -> None:
        """Wait for :meth:`wake` (uvicorn polls ``should_exit`` every 0.1 s instead)."""
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        if not self.should_exit:
            await self._wake.wait()

    def wake(self) -> None:
        """Ask the loop to stop, from any thread."""
        self.should_exit = True
        loop = getattr(self, "_loop", None)
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                loop.call_soon_threadsafe(self._wake.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop listening, close idle connections, give busy ones a second, then cut."""
        await asyncio.sleep(0.005)  # let connections already in the backlog be accepted
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._SHUTDOWN_SECONDS
        while self.server_state.connections and loop.time() < deadline:
            await asyncio.sleep(0.005)
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if isinstance(transport, asyncio.Transport):
                transport.abort()
        for task in list(self.server_state.tasks):
            task.cancel()
        for server in self.servers:
            await server.wait_closed()


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
        self._server = _Server(config)
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
        self._server.wake()
        self._thread.join()
        self._socket.close()
