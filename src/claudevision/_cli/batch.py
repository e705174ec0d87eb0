"""``claudevision batch INPUTS... -p PROMPT --out results.jsonl``: many images, one run.

    $ claudevision batch photos/ -p "Caption this product photo." --out captions.jsonl
    $ claudevision batch catalogue.csv -p "Describe it." --out out.jsonl --no-wait

Inputs are files, folders, globs, URLs and CSV or JSON Lines manifests (``image`` or
``images``, ``prompt``, ``id``). Each is prepared and checked, the requests go to Message
Batches (half price, results within 24 hours), and ``--out`` gets one JSON line per input.
Stopped anywhere (Ctrl-C, ``kill -9``, a lost connection), the same command again picks up
where it stood and submits nothing twice; the state is kept in ``--state`` (default:
beside the output). The client is the SDK's ``anthropic.Anthropic()``: ``ANTHROPIC_API_KEY``
and ``ANTHROPIC_BASE_URL`` apply.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from .._core.exceptions import ClaudeVisionError
from .._core.limits import BATCH_MAX_REQUESTS
from .._render.request import DEFAULT_MAX_TOKENS
from .._send.batch import BatchProgress
from .._send.client import Vision
from .common import DEFAULT_MODEL, fail, is_terminal

__all__ = ["run"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claudevision batch",
        description="Ask about many images through Message Batches; resumable.",
    )
    add = parser.add_argument
    add("inputs", nargs="+", help="files, folders, globs, URLs, CSV or JSON Lines manifests")
    add("-p", "--prompt", default=None, help="what to ask (a manifest row's prompt wins)")
    add("--out", required=True, help="the results file: one JSON line per input")
    add("--state", default=None, help="the state folder (default: OUT.state beside it)")
    add("--model", default=DEFAULT_MODEL, help=f"model id (default: {DEFAULT_MODEL})")
    add("--system", default=None, help="a system prompt")
    add("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS, help="the most tokens per answer")
    files = parser.add_mutually_exclusive_group()
    files.add_argument(
        "--files", dest="files", action="store_true", default=None,
        help="send images through the Files API (default: when one batch cannot hold them)",
    )  # fmt: skip
    files.add_argument("--no-files", dest="files", action="store_false", help="always inline")
    add("--workers", type=int, default=None, help="processes preparing images (default: cores)")
    add("--no-wait", dest="wait", action="store_false", help="submit, then exit (run again)")
    add("--poll", type=float, default=10.0, help="seconds between first polls (default: 10)")
    add("--max-requests", type=int, default=BATCH_MAX_REQUESTS, help="requests per batch")
    add("--base-url", default=None, help="the API's address (default: ANTHROPIC_BASE_URL)")
    add("--quiet", "-q", action="store_true", help="no progress on standard error")
    return parser


class _Progress:
    """One line on standard error: redrawn in a terminal, else printed when it changes."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = is_terminal(stream)
        self.last = ""

    def __call__(self, progress: BatchProgress) -> None:
        text = _describe(progress)
        if text == self.last:
            return
        self.last = text
        if self.live:
            self.stream.write(f"\r\x1b[2K{text}")
        else:
            self.stream.write(f"{text}\n")
        self.stream.flush()

    def end(self) -> None:
        if self.live and self.last:
            self.stream.write("\n")


def _describe(progress: BatchProgress) -> str:
    if progress.phase in ("preparing", "submitting"):
        done, total, what = progress.prepared, progress.inputs, "inputs prepared"
    else:
        done, total, what = progress.collected, progress.batches, "batches collected"
    width = 24
    filled = width * done // total if total else width
    bar = "#" * filled + "." * (width - filled)
    counts = progress.counts
    running = ""
    if counts.get("processing") is not None:
        finished = sum(v for k, v in counts.items() if k != "processing")
        running = f", {finished}/{finished + counts['processing']} requests answered"
    return f"{progress.phase:<10} [{bar}] {done}/{total} {what}{running}"


def run(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    import anthropic

    progress = None if args.quiet else _Progress(sys.stderr)
    try:
        client = None if args.base_url is None else anthropic.Anthropic(base_url=args.base_url)
        summary = Vision(client, model=args.model).batch(
            args.inputs, prompt=args.prompt, out=args.out, state=args.state,
            system=args.system, max_tokens=args.max_tokens, files=args.files,
            workers=args.workers, wait=args.wait, poll_interval=args.poll,
            max_requests=args.max_requests, progress=progress,
        )  # fmt: skip
    except KeyboardInterrupt:
        fail("interrupted; run the same command again to resume (nothing is sent twice)")
        return 130
    except ClaudeVisionError as exc:
        fail(str(exc))
        return 1
    except anthropic.APIError as exc:
        fail(f"the API refused a call: {exc}; run the same command again to resume")
        return 1
    finally:
        if progress is not None:
            progress.end()
    print(summary)
    if summary.pending:
        print(f"state: {summary.state}")
    return 0
