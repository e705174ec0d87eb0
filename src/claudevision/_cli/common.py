"""What every command shares: the model and platform options, the inputs, the errors."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from .._core.limits import PLATFORMS
from .._read.expand import IMAGE_SUFFIXES, STDIN, expand

__all__ = [
    "DEFAULT_MODEL",
    "IMAGE_SUFFIXES",
    "STDIN",
    "add_target_options",
    "expand",
    "fail",
    "is_terminal",
    "source",
    "version",
]

DEFAULT_MODEL = "claude-opus-4-8"


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("claudevision")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """``--model`` and ``--platform``: whose limits and tokens apply."""
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"model id (default: {DEFAULT_MODEL})"
    )
    parser.add_argument(
        "--platform",
        default="anthropic",
        choices=sorted(PLATFORMS),
        help="whose limits apply (default: anthropic)",
    )
    parser.add_argument(
        "--metadata",
        default="strip",
        choices=("strip", "keep"),
        help="personal metadata (EXIF GPS, XMP, text chunks) in images sent (default: strip)",
    )


def is_terminal(stream: TextIO) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


def fail(message: str, stream: TextIO | None = None) -> None:
    """One clear line on standard error, prefixed ``claudevision:``."""
    print(f"claudevision: {message}", file=stream or sys.stderr)


def source(name: str) -> Any:
    """What to prepare for ``name``: standard input's bytes for ``-``, else the name."""
    return sys.stdin.buffer if name == STDIN else name
