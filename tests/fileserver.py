"""A real HTTP file server on 127.0.0.1 for the downloader's tests, scripted per path.

with FileServer() as files:
    files.add("/cat.png", png_bytes)
    files.redirect("/old", "/cat.png")
    url = files.url("/old")
"""

from __future__ import annotations

import gzip
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""
    delay: float = 0.0  # before the status line
    pause: float = 0.0  # between body chunks
    length: bool = True  # send Content-Length for bytes bodies


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class FileServer:
    """Serves scripted replies; records every request (path and headers)."""

    def __init__(self, tls: Any = None) -> None:
        """``tls``: a ``trustme.CA`` to serve https with a certificate it issued."""
        self.replies: dict[str, Reply] = {}
        self.seen: list[Seen] = []
        self.stopping = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.seen.append(Seen(self.path, dict(self.headers.items())))
                reply = outer.replies.get(self.path.split("?")[0]) or Reply(404, body=b"nope")
                if reply.delay and outer.stopping.wait(reply.delay):
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if isinstance(reply.body, bytes) and reply.length:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                chunks = [reply.body] if isinstance(reply.body, bytes) else reply.body
                try:
                    for chunk in chunks:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        if reply.pause and outer.stopping.wait(reply.pause):
                            return
                except OSError:
                    return

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.scheme = "http"
        self.ca = tls
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.issue_cert("cdn.test", "a.test", "b.test", "127.0.0.1").configure_cert(context)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def add(self, path: str, body: bytes | Iterable[bytes], **options: Any) -> None:
        self.replies[path] = Reply(body=body, **options)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.replies[path] = Reply(status, {"Location": location})

    def gzipped(self, path: str, data: bytes) -> None:
        self.add(path, gzip.compress(data), headers={"Content-Encoding": "gzip"})

    def __enter__(self) -> FileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def drip(data: bytes, size: int) -> Iterator[bytes]:
    """``data`` in pieces of ``size`` bytes (sent with ``pause`` between them)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def endless(chunk: bytes = b"\0" * 65536, seconds: float = 30.0) -> Iterator[bytes]:
    """Bytes for ``seconds`` (a body with no end, for size and time limits)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        yield chunk
