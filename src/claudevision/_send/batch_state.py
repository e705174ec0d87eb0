"""A batch run's state folder: what was prepared, submitted and collected, kept atomically.

The folder (``results.jsonl.state/`` beside the output unless chosen) holds::

    state.json          the run: its fingerprint, and each chunk's range and status
    lock                held while a run works here (a second run is refused)
    chunks/00001.json   the chunk's create body, as sent: ``{"requests": [...]}``, one
                        request (``custom_id``, ``params``) per line
    chunks/00001.index  every input of the chunk in order: ``custom_id``, ``input``, and
                        ``error`` for one that failed preparation
    raw/00001.jsonl     the API's results file for the chunk's batch
    parts/00001.jsonl   the chunk's lines of the output, in input order

Every file is written to a temporary name, flushed to disk and renamed, so a run killed
at any instant leaves either the old file or the new one. A chunk covers a contiguous
range of the inputs and moves ``sealed`` -> ``submitting`` (written before the create
call) -> ``submitted`` (its batch id) -> ``collected``; a run started again reads where
each chunk stands and goes on from there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from .._core.exceptions import BatchStateError

__all__ = ["Chunk", "State", "settle", "write_atomic"]

Status = Literal["sealed", "submitting", "submitted", "collected"]
_VERSION = 1


@dataclass
class Chunk:
    """Inputs ``start`` to ``end`` (exclusive), sent as one batch."""

    number: int
    start: int
    end: int
    requests: int
    """How many of the inputs are sent (the others failed preparation)."""
    betas: list[str] = field(default_factory=list)
    status: Status = "sealed"
    batch_id: str | None = None
    intent_at: float | None = None
    """When the create call was about to be made (to find the batch after a crash)."""
    adopted: bool = False
    """The batch was found by listing after a crash: its results are checked to be ours."""
    counts: dict[str, int] = field(default_factory=dict)
    """Output lines by status, once collected."""
    candidates: list[str] = field(default_factory=list)
    """After a lost create answer: the batches that may be this chunk's (``adopted``);
    the one whose results hold exactly its ids is."""


def write_atomic(path: Path, lines: Iterable[str | bytes]) -> None:
    """Write ``lines`` to ``path`` so that no reader or crash sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            for line in lines:
                file.write(line.encode() if isinstance(line, str) else line)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(path.parent)


def settle(temporary: Path, path: Path) -> None:
    """Move a finished temporary file to ``path`` for good (flushed to disk first)."""
    with open(temporary, "rb+") as file:
        os.fsync(file.fileno())
    os.replace(temporary, path)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover - folders cannot be opened there
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class State:
    """The state folder of one batch run (open it with :meth:`open`)."""

    def __init__(self, folder: Path, fingerprint: str, summary: dict[str, Any]) -> None:
        self.folder = folder
        self.fingerprint = fingerprint
        self.summary = summary
        self.chunks: list[Chunk] = []
        self.files: bool | None = None
        """Whether images go through the Files API (None: not decided yet)."""

    @classmethod
    def open(cls, folder: Path, run: dict[str, Any], inputs: list[tuple[str, str]]) -> State:
        """The state in ``folder`` for a run of ``run`` (settings) over ``inputs`` (each
        input's ``custom_id`` and key). What a run left there is read once the folder is
        held (:meth:`locked`)."""
        digest = hashlib.sha256(json.dumps([run, inputs], sort_keys=True).encode()).hexdigest()
        summary = {"model": run.get("model"), "inputs": len(inputs), "first": inputs[0][0]}
        return cls(folder, digest, summary)

    def _read(self) -> None:
        """Take what a run with the same arguments left; BatchStateError otherwise."""
        try:
            saved = json.loads((self.folder / "state.json").read_text())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as error:
            raise BatchStateError(
                f"the state file cannot be read ({error}); delete the folder to start over "
                "(batches already submitted would be submitted again)",
                input=str(self.folder),
            ) from None
        self._load(saved)

    def _load(self, saved: Any) -> None:
        if not isinstance(saved, dict) or saved.get("version") != _VERSION:
            raise BatchStateError(
                "the folder holds no claudevision batch state of this version; choose "
                "another --state folder",
                input=str(self.folder),
            )
        if saved.get("fingerprint") != self.fingerprint:
            was = saved.get("summary") or {}
            raise BatchStateError(
                f"the state was made by a run with other arguments (model {was.get('model')!r}, "
                f"{was.get('inputs')} inputs; now {self.summary['model']!r}, "
                f"{self.summary['inputs']} inputs, or other images, prompts or parameters); "
                "run again "
                "with the same arguments to resume, or choose another --state folder",
                input=str(self.folder),
            )
        self.files = saved.get("files")
        self.chunks = [Chunk(**chunk) for chunk in saved.get("chunks", [])]

    def save(self) -> None:
        """Write ``state.json`` atomically."""
        body = {
            "version": _VERSION,
            "fingerprint": self.fingerprint,
            "summary": self.summary,
            "files": self.files,
            "chunks": [asdict(chunk) for chunk in self.chunks],
        }
        write_atomic(self.folder / "state.json", [json.dumps(body, indent=1), "\n"])

    @property
    def prepared(self) -> int:
        """Inputs already in sealed chunks (a resumed run prepares from here)."""
        return self.chunks[-1].end if self.chunks else 0

    def path(self, kind: Literal["chunks", "index", "raw", "parts"], number: int) -> Path:
        """Where chunk ``number``'s file of ``kind`` lives."""
        chosen = {"index": ("chunks", "index"), "chunks": ("chunks", "json")}
        folder, suffix = chosen.get(kind, (kind, "jsonl"))
        return self.folder / folder / f"{number:05d}.{suffix}"

    def lines(self, kind: Literal["chunks", "index", "raw", "parts"], number: int) -> Iterator[Any]:
        """The JSON lines of chunk ``number``'s file of ``kind``."""
        with open(self.path(kind, number), "rb") as file:
            for line in file:
                if line.strip():
                    yield json.loads(line)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder for this run, then read what an earlier run left (never before:
        a run that ended meanwhile is seen); another run using it now is refused."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "lock", "a+b") as file:
            if not _try_lock(file):
                raise BatchStateError(
                    "another run is using this state folder now; wait for it to end "
                    "(or stop it) and run again",
                    input=str(self.folder),
                )
            self._read()
            self._tidy()
            yield

    def _tidy(self) -> None:
        """Remove the temporary files of a run that was stopped while writing one."""
        for folder in (self.folder, *(self.folder / k for k in ("chunks", "raw", "parts"))):
            for stale in folder.glob(".*") if folder.is_dir() else ():
                with contextlib.suppress(OSError):
                    stale.unlink()


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(file: IO[bytes]) -> bool:
        try:
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(file: IO[bytes]) -> bool:
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True
