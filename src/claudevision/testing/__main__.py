"""``python -m claudevision.testing serve``: the local Claude for tests in any language.

    $ python -m claudevision.testing serve --port 8765
    http://127.0.0.1:8765

The first line printed is the base URL (``ANTHROPIC_BASE_URL`` for any SDK). Script it and
read what it received at ``/_control/`` (see :mod:`claudevision.testing._control`). It
stops cleanly on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ._rules import LIMITS
from ._server import ClaudeServer

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m claudevision.testing",
        description="A local stand-in for the Claude API that checks every request.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve until SIGTERM or Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port (8765; 0: a free one)")
    serve.add_argument(
        "--platform", default="anthropic", choices=sorted(LIMITS), help="direct API limits"
    )
    serve.add_argument(
        "--chunk-size", type=int, default=12, help="characters per streamed delta (12)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status."""
    options = _parser().parse_args(argv)
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    server = ClaudeServer(
        platform=options.platform,
        chunk_size=options.chunk_size,
        host=options.host,
        port=options.port,
    )
    try:
        server.start()
    except OSError as error:
        print(f"cannot serve on {options.host}:{options.port}: {error}", file=sys.stderr)
        return 1
    print(server.url, flush=True)
    try:
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
