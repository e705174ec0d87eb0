"""The Files API: upload a prepared image once, send it by id ever after.

    >>> from claudevision import Vision
    >>> vision = Vision(model="claude-opus-4-8")
    >>> shot = vision.upload("screen.png")                          # doctest: +SKIP
    >>> shot.block["source"]                                        # doctest: +SKIP
    {'type': 'file', 'file_id': 'file_011C...'}
    >>> vision.ask("What changed?", shot, "screen2.png")            # doctest: +SKIP

The ids are cached on disk (:class:`FileCache`, in the user's cache directory), keyed by
the SHA-256 of the prepared bytes, the API's base URL and a fingerprint of the API key
(never the key): the same image is uploaded once, across runs and processes. Several
processes uploading the same image at once upload it once (a lock file per key). An id
the API no longer knows (a 404 when used) is forgotten, uploaded again and the request
retried once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from .._core.blocks import FILES_BETA
from .._core.exceptions import UnsupportedSourceError
from .._core.limits import get_platform
from .._core.steps import SentAsReference
from .._prepare.prepared import PreparedImage
from .._read.sources import FileIdSource

__all__ = [
    "FileCache",
    "alocked",
    "as_uploaded",
    "bytes_upload_args",
    "cache_key",
    "file_ids",
    "media_blocks",
    "swap_file_ids",
]

_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
}


def default_directory() -> Path:
    """``$CLAUDEVISION_CACHE_DIR``, else the platform's user cache directory."""
    chosen = os.environ.get("CLAUDEVISION_CACHE_DIR")
    if chosen:
        return Path(chosen)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "claudevision" / "Cache" / "files"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "claudevision" / "files"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "claudevision" / "files"


def cache_key(data: bytes, base_url: str, credential: str | None) -> str:
    """The cache key of ``data`` uploaded to ``base_url`` with ``credential`` (hashed)."""
    fingerprint = hashlib.sha256((credential or "").encode()).hexdigest()[:16]
    digest = hashlib.sha256(data).hexdigest()
    return hashlib.sha256(f"{digest}\n{base_url.rstrip('/')}\n{fingerprint}".encode()).hexdigest()


class FileCache:
    """File ids by cache key: one small JSON file each, written atomically."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_directory()

    def get(self, key: str) -> str | None:
        """The file id cached for ``key``, or None."""
        try:
            entry = json.loads((self.directory / f"{key}.json").read_text())
        except (OSError, ValueError):
            return None
        file_id = entry.get("file_id") if isinstance(entry, dict) else None
        return file_id if isinstance(file_id, str) and file_id else None

    def put(self, key: str, file_id: str) -> None:
        """Remember ``file_id`` for ``key`` (readers never see a half-written entry)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".entry-")
        with os.fdopen(handle, "w") as file:
            json.dump({"file_id": file_id}, file)
        os.replace(temporary, self.directory / f"{key}.json")

    def forget(self, file_id: str) -> None:
        """Drop every entry naming ``file_id`` (the API no longer knows it)."""
        for entry in self.directory.glob("*.json"):
            with contextlib.suppress(OSError, ValueError):
                if json.loads(entry.read_text()).get("file_id") == file_id:
                    entry.unlink()

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold ``key`` against other threads and processes (an OS lock on a file)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / f"{key}.lock", "a+b") as file:
            _lock(file.fileno())
            try:
                yield
            finally:
                _unlock(file.fileno())


@contextlib.asynccontextmanager
async def alocked(cache: FileCache, key: str) -> AsyncIterator[None]:
    """:meth:`FileCache.lock` for async code: the wait runs in a worker thread."""
    import anyio.to_thread

    held = cache.lock(key)
    await anyio.to_thread.run_sync(held.__enter__)
    try:
        yield
    finally:
        held.__exit__(None, None, None)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def upload_args(prepared: PreparedImage) -> dict[str, Any]:
    """The keywords of ``client.beta.files.upload`` for a prepared image."""
    return bytes_upload_args(prepared.data or b"", prepared.media_type)


def bytes_upload_args(data: bytes, media_type: str | None) -> dict[str, Any]:
    """The keywords of ``client.beta.files.upload`` for an image's or a PDF's bytes."""
    media_type = media_type or "application/octet-stream"
    name = f"image.{_EXTENSIONS.get(media_type, 'bin')}"
    return {"file": (name, data, media_type), "betas": [FILES_BETA]}


def check_uploadable(prepared: PreparedImage, platform: Any) -> None:
    """Refuse what cannot be uploaded: no bytes, or a platform without file sources."""
    target = get_platform(platform)
    if "file" not in target.source_types:
        raise UnsupportedSourceError(
            f"{target.name} takes no Files API images; send the image inline instead",
            input=prepared.label,
        )
    if prepared.data is None:
        raise UnsupportedSourceError(
            "only an image claudevision holds the bytes of can be uploaded; pass the image "
            "with download=True for a URL",
            input=prepared.label,
        )


def as_uploaded(prepared: PreparedImage, file_id: str) -> PreparedImage:
    """``prepared`` sent by ``file_id``; its bytes, sizes and tokens kept."""
    steps = tuple(s for s in prepared.steps if not isinstance(s, SentAsReference))
    return replace(
        prepared, reference=FileIdSource(file_id=file_id), steps=(*steps, SentAsReference("file"))
    )


def file_ids(kwargs: dict[str, Any]) -> set[str]:
    """Every file id the image blocks of a request's messages name."""
    found: set[str] = set()
    for block in media_blocks(kwargs.get("messages", [])):
        source = block.get("source")
        if isinstance(source, dict) and source.get("type") == "file":
            found.add(str(source.get("file_id")))
    return found


def swap_file_ids(kwargs: dict[str, Any], new: dict[str, str]) -> dict[str, Any]:
    """A copy of a request's keywords with file ids replaced (``old -> new``)."""
    copied: dict[str, Any] = json.loads(json.dumps(kwargs, default=str))
    for block in media_blocks(copied.get("messages", [])):
        source = block.get("source")
        if isinstance(source, dict) and source.get("file_id") in new:
            source["file_id"] = new[source["file_id"]]
    for key, value in kwargs.items():
        if key != "messages":
            copied[key] = value
    return copied


def media_blocks(value: Any) -> Iterator[dict[str, Any]]:
    """Every image and document block inside ``value`` (messages, a tool result, ...)."""
    if isinstance(value, dict):
        if value.get("type") in ("image", "document"):
            yield value
        for inner in value.values():
            yield from media_blocks(inner)
    elif isinstance(value, list):
        for item in value:
            yield from media_blocks(item)
