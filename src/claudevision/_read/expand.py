"""Many inputs from few names: a folder's images, a glob's matches, files as given.

    >>> list(expand(["no-such-*.png"]))
    [('no-such-*.png', 'no file matches this pattern')]

Folders are searched recursively for names with an image suffix (and ``.pdf`` where
``suffixes`` says so), sorted, without following links to folders; a file named outright
is always tried, whatever its suffix. Nothing here reads a file's contents.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["DOCUMENT_SUFFIXES", "IMAGE_SUFFIXES", "STDIN", "expand", "is_pattern"]

STDIN = "-"
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".gif", ".webp", ".heic", ".heif", ".avif", ".tif"}
    | {".tiff", ".bmp", ".ico", ".jp2", ".j2k", ".jpx", ".psd", ".tga", ".dds"}
)
"""What a folder is searched for."""
DOCUMENT_SUFFIXES = frozenset({".pdf"})
_GLOB = frozenset("*?[")


def is_pattern(name: str) -> bool:
    """Whether ``name`` is a glob (and not an existing file whose name holds ``*?[``)."""
    return bool(_GLOB & set(name)) and not os.path.exists(name)


def expand(
    items: Iterable[str], suffixes: frozenset[str] = IMAGE_SUFFIXES
) -> Iterator[tuple[str, str | None]]:
    """Each input as ``(name, problem)``: files as given, a folder's files with one of
    ``suffixes`` (recursively, sorted), a glob's matches, ``-`` for standard input.
    ``problem`` is set for a name that matches nothing."""
    for item in items:
        if item == STDIN:
            yield item, None
        elif os.path.isdir(item):
            found = sorted(
                str(path)
                for path in Path(item).rglob("*")
                if path.suffix.lower() in suffixes and path.is_file()
            )
            if not found:
                yield item, "the folder holds no image files"
            yield from ((name, None) for name in found)
        elif is_pattern(item):
            matches = sorted(
                name for name in glob.glob(item, recursive=True) if os.path.isfile(name)
            )
            if not matches:
                yield item, "no file matches this pattern"
            yield from ((name, None) for name in matches)
        else:
            yield item, None
