"""The local server's Files API store: what was uploaded, its metadata, and its pages.

A :class:`FileStore` is also a mapping of file id to bytes, so a test can register a file
(``server.files["file_1"] = data``) or make one vanish (``del server.files[file_id]``) as
the API does when a file expires or is deleted elsewhere.

>>> store = FileStore()
>>> stored = store.add(b"%PDF-1.7 ...", filename="a.pdf", mime_type="")
>>> stored.mime_type, stored.size_bytes, stored.id.startswith("file_")
('application/pdf', 12, True)
>>> store.page(limit=1)["data"][0]["filename"]
'a.pdf'
"""

from __future__ import annotations

import mimetypes
import secrets
import string
import threading
import time
from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_LIST_LIMIT",
    "FileStore",
    "StoredFile",
    "new_file_id",
    "sniff_mime_type",
]

MAX_FILE_BYTES = 500 * 1024 * 1024
"""The API's limit on one uploaded file."""

MAX_LIST_LIMIT = 1000
EXPIRY_RANGE = (3600, 7_776_000)
"""``expires_in_seconds`` must lie in this range (one hour to ninety days)."""

_ALPHABET = string.ascii_letters + string.digits

# What the first bytes say, checked in order (RIFF needs its WEBP tag too).
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)


def new_file_id() -> str:
    """An id shaped like the API's: ``file_011`` and 24 letters and digits."""
    return "file_011" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


def sniff_mime_type(data: bytes, declared: str = "", filename: str = "") -> str:
    """The MIME type of an upload: from its first bytes, else declared, else its name."""
    for magic, mime_type in _MAGIC:
        if data.startswith(magic):
            return mime_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if declared and declared != "application/octet-stream":
        return declared.split(";")[0].strip()
    guessed = mimetypes.guess_type(filename)[0] if filename else None
    return guessed or "application/octet-stream"


def _rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class StoredFile:
    """One file the server holds."""

    id: str
    filename: str
    mime_type: str
    data: bytes
    created_at: float
    downloadable: bool = False
    """Files a client uploads are not downloadable on the API; files made by tools are."""
    expires_at: float | None = None

    @property
    def size_bytes(self) -> int:
        """The file's size."""
        return len(self.data)

    def metadata(self) -> dict[str, Any]:
        """The API's ``FileMetadata`` JSON."""
        return {
            "id": self.id,
            "type": "file",
            "filename": self.filename,
            "mime_type": self.mime_type,
            "size_bytes": self.size_bytes,
            "created_at": _rfc3339(self.created_at),
            "downloadable": self.downloadable,
            "expires_at": None if self.expires_at is None else _rfc3339(self.expires_at),
        }


class FileStore(MutableMapping[str, bytes]):
    """Uploaded files by id, oldest first; safe across the server's threads."""

    def __init__(self) -> None:
        self._files: dict[str, StoredFile] = {}
        self._lock = threading.Lock()

    def add(
        self,
        data: bytes,
        *,
        filename: str = "",
        mime_type: str = "",
        downloadable: bool = False,
        expires_in_seconds: int | None = None,
        file_id: str | None = None,
    ) -> StoredFile:
        """Store ``data`` as a new file; returns it with its new id."""
        now = time.time()
        mime_type = sniff_mime_type(data, mime_type, filename)
        name = filename.replace("\\", "/").rsplit("/", 1)[-1]
        if not name:
            name = "unnamed" + (mimetypes.guess_extension(mime_type) or "")
        stored = StoredFile(
            id=file_id or new_file_id(),
            filename=name,
            mime_type=mime_type,
            data=data,
            created_at=now,
            downloadable=downloadable,
            expires_at=None if expires_in_seconds is None else now + expires_in_seconds,
        )
        with self._lock:
            self._files[stored.id] = stored
        return stored

    def get_file(self, file_id: str) -> StoredFile | None:
        """The file called ``file_id``, or None (also once it has expired)."""
        with self._lock:
            stored = self._files.get(file_id)
            expires = None if stored is None else stored.expires_at
            if expires is not None and expires <= time.time():
                del self._files[file_id]
                return None
            return stored

    def remove(self, file_id: str) -> bool:
        """Forget ``file_id``; False if it was not there."""
        with self._lock:
            return self._files.pop(file_id, None) is not None

    def all_files(self) -> list[StoredFile]:
        """Every live file, oldest first."""
        return [f for f in (self.get_file(i) for i in list(self._files)) if f is not None]

    def page(
        self,
        *,
        limit: int = 20,
        page: str | None = None,
        ids: Sequence[str] | None = None,
        after_id: str | None = None,
        before_id: str | None = None,
    ) -> dict[str, Any]:
        """One page of the list, newest first, in the shapes of both of the SDK's pagers.

        ``page`` is the ``next_page`` cursor of the previous page; ``after_id`` and
        ``before_id`` are the older pager's cursors.
        """
        files = list(reversed(self.all_files()))
        if ids is not None:
            wanted = set(ids)
            chosen = [f for f in files if f.id in wanted]
            return _page_body(chosen, has_more=False, next_page=None)
        order = [f.id for f in files]
        start = 0
        if page:
            start = int(page.removeprefix("page_"))
        elif after_id in order:
            start = order.index(after_id) + 1
        elif before_id in order:
            end = order.index(before_id)
            start = max(end - limit, 0)
            chosen = files[start:end]
            return _page_body(chosen, has_more=start > 0, next_page=None)
        chosen = files[start : start + limit]
        more = start + limit < len(files)
        return _page_body(
            chosen, has_more=more, next_page=f"page_{start + limit}" if more else None
        )

    # -- the mapping of id to bytes (the server's older interface) --------------------

    def __getitem__(self, file_id: str) -> bytes:
        stored = self.get_file(file_id)
        if stored is None:
            raise KeyError(file_id)
        return stored.data

    def __setitem__(self, file_id: str, data: bytes) -> None:
        self.add(data, filename=file_id, file_id=file_id)

    def __delitem__(self, file_id: str) -> None:
        if not self.remove(file_id):
            raise KeyError(file_id)

    def __iter__(self) -> Iterator[str]:
        return iter([f.id for f in self.all_files()])

    def __len__(self) -> int:
        return len(self.all_files())


def _page_body(files: list[StoredFile], *, has_more: bool, next_page: str | None) -> dict[str, Any]:
    return {
        "data": [f.metadata() for f in files],
        "has_more": has_more,
        "first_id": files[0].id if files else None,
        "last_id": files[-1].id if files else None,
        "next_page": next_page,
    }
