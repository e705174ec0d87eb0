"""What every command shares: the model and platform options, the inputs, the errors."""

from __future__ import annotations

import argparse
import glob
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from .._core.limits import PLATFORMS

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
STDIN = "-"
# What a folder is searched for (a file named on the command line is always tried).
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".gif", ".webp", ".heic", ".heif", ".avif", ".tif"}
    | {".tiff", ".bmp", ".ico", ".jp2", ".j2k", ".jpx", ".psd", ".tga", ".dds"}
)
_GLOB = frozenset("*?[")


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


def expand(items: Sequence[str]) -> Iterator[tuple[str, str | None]]:
    """Each input as ``(name, problem)``: files as given, a folder's images (recursively,
    sorted), a glob's matches, ``-`` for standard input. ``problem`` is set for a name
    that matches nothing."""
    for item in items:
        if item == STDIN:
            yield item, None
        elif os.path.isdir(item):
            found = sorted(
                str(path)
                for path in Path(item).rglob("*")
                if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()
            )
            if not found:
                yield item, "the folder holds no image files"
            yield from ((name, None) for name in found)
        elif not os.path.exists(item) and _GLOB & set(item):
            matches = sorted(
                name for name in glob.glob(item, recursive=True) if os.path.isfile(name)
            )
            if not matches:
                yield item, "no file matches this pattern"
            yield from ((name, None) for name in matches)
        else:
            yield item, None


def is_terminal(stream: TextIO) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


def fail(message: str, stream: TextIO | None = None) -> None:
    """One clear line on standard error, prefixed ``claudevision:``."""
    print(f"claudevision: {message}", file=stream or sys.stderr)


def source(name: str) -> Any:
    """What to prepare for ``name``: standard input's bytes for ``-``, else the name."""
    return sys.stdin.buffer if name == STDIN else name
