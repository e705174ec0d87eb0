"""Message Batches from many inputs: prepare, split, submit, poll, collect; resumable.

    >>> from claudevision import Vision
    >>> vision = Vision(model="claude-opus-4-8")
    >>> done = vision.batch(["photos/"], prompt="Caption it.", out="out.jsonl")  # doctest: +SKIP
    >>> print(done)                                                    # doctest: +SKIP
    120 inputs: 118 succeeded, 2 invalid_input (out.jsonl)

:func:`plan` is the whole run as a generator that waits on nothing itself: it yields
calls (``("create", ...)``, ``("retrieve", ...)``, ``("work", f)`` for file work that may
take a while, ...) and :class:`~.batch_calls.SyncCalls` or
:class:`~.batch_calls.AsyncCalls` makes them, so :meth:`Vision.batch` and
:meth:`AsyncVision.batch` differ only where they wait (the async one never writes a large
file on the event loop). Every step is written to the state folder
(:mod:`.batch_state`) before the next is taken; a run killed anywhere and started again
with the same arguments submits nothing twice and ends with every input in the output
exactly once.

A create call is never retried blindly: when its answer is lost (a dropped connection, a
timeout, a 5xx), the batches created since the call are listed and one with as many
requests is taken as ours; its results are checked to hold exactly our ``custom_id`` s
before any is written (otherwise it was not ours, and the chunk is submitted).
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from .._core.blocks import FILES_BETA
from .._core.exceptions import ConfigurationError, InternalError
from .._core.limits import BATCH_MAX_BYTES, BATCH_MAX_REQUESTS
from .batch_inputs import BatchInput, batch_inputs
from .batch_prepare import BatchSettings, Row
from .batch_results import STATUSES, line, reduced, refused, unprepared
from .batch_state import Chunk, State, write_atomic
from .batch_workers import prepared_rows
from .files import media_blocks

__all__ = ["BatchProgress", "BatchSummary", "Job", "Preparer", "new_job", "plan"]

Preparer = Callable[..., Iterator[Row]]
"""Prepares a run's inputs into rows, in order: ``prepare(items, settings=settings)``
(the default prepares on this machine's cores; :func:`claudevision.ray.prepare_on_ray`
on a Ray cluster)."""
Call = tuple[Any, ...]
Plan = Generator[Call, Any, "BatchSummary"]
_CLOCKS = 60.0  # seconds of difference allowed between our clock and the API's
_REFUSED = (400, 413, 422)  # statuses of a create call refused for what it holds
_CREATE_TRIES = 8
_HEAD, _TAIL = '{"requests": [\n', "]}\n"


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch run stands (given to ``progress=`` after every step)."""

    phase: str
    """``preparing``, ``submitting``, ``waiting`` or ``done``."""
    inputs: int
    prepared: int
    batches: int
    collected: int
    """Batches whose results are in the output."""
    counts: dict[str, int] = field(default_factory=dict)
    """Requests by status in the batches still running (``processing``, ``succeeded``...)."""


@dataclass(frozen=True)
class BatchSummary:
    """What a batch run did: the output, and how many inputs ended how."""

    out: Path
    state: Path
    inputs: int
    counts: dict[str, int]
    """Output lines by status: ``succeeded``, ``errored``, ``expired``, ``canceled``,
    ``invalid_input``."""
    pending: int
    """Inputs not in the output yet (their batches still run: ``wait=False``)."""
    batch_ids: tuple[str, ...]

    def __str__(self) -> str:
        parts = [f"{self.counts[s]} {s}" for s in STATUSES if self.counts.get(s)]
        if self.pending:
            parts.append(f"{self.pending} still processing (run again to collect them)")
        return f"{self.inputs} inputs: {', '.join(parts) or 'none'} ({self.out})"


@dataclass
class Job:
    """One batch run: its inputs, settings, state and options."""

    items: list[BatchInput]
    settings: BatchSettings
    state: State
    out: Path
    rows: Callable[[list[BatchInput]], Iterator[Row]]
    files: bool | None = None
    wait: bool = True
    poll_interval: float = 10.0
    max_poll_interval: float = 60.0
    max_requests: int = BATCH_MAX_REQUESTS
    max_bytes: int = BATCH_MAX_BYTES
    progress: Callable[[BatchProgress], None] | None = None
    filling: int = 0
    """Inputs prepared into the chunk being filled (not in the state yet)."""

    def report(self, phase: str, counts: dict[str, int] | None = None) -> None:
        if self.progress is None:
            return
        chunks = self.state.chunks
        self.progress(
            BatchProgress(
                phase=phase,
                inputs=len(self.items),
                prepared=self.state.prepared + self.filling,
                batches=sum(1 for c in chunks if c.requests),
                collected=sum(1 for c in chunks if c.requests and c.status == "collected"),
                counts=counts or {},
            )
        )


def plan(job: Job) -> Plan:
    """The whole run (see the module's docstring); returns the summary."""
    state = job.state
    if job.files is not None and state.files is None:
        state.files = job.files
    for chunk in state.chunks:
        if chunk.status == "submitting":
            yield from _submit(job, chunk, recovering=True)
    for chunk in state.chunks:
        if chunk.status == "sealed":
            yield from _submit(job, chunk)
    yield from _prepare(job)
    yield from _wait(job, once=not job.wait)
    yield ("work", partial(_rebuild, job))  # also when a run stopped before writing it
    job.report("done")
    return _summary(job)


# -- preparing and sealing chunks ------------------------------------------------------


class _Open:
    """The chunk being filled: its index in memory, its requests spooled to a file that is
    the create call's JSON body (one request per line), sent from the disk as it is."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.start = job.state.prepared
        self.entries: list[dict[str, Any]] = []
        self.count = 0
        self.size = 0
        self.betas: set[str] = set()
        folder = job.state.path("chunks", 0).parent
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=folder, prefix=".open-")
        self.path = Path(name)
        self.spool = os.fdopen(handle, "w", encoding="utf-8")
        self.spool.write(_HEAD)

    def fits(self, text: str) -> bool:
        return (
            self.count < self.job.max_requests
            and len(_HEAD) + self.size + len(text) + 2 + len(_TAIL) <= self.job.max_bytes
        )

    def add(self, row: Row, text: str | None) -> None:
        entry = {"custom_id": row["custom_id"], "input": row["input"]}
        if "error" in row:
            entry["error"] = row["error"]
        self.entries.append(entry)
        if text is not None:
            self.spool.write(("," if self.count else "") + text + "\n")
            self.count += 1
            self.size += len(text) + 2
            self.betas.update(row.get("betas", ()))

    def texts(self) -> Iterator[str]:
        """The spooled requests (the spool is closed and removed after)."""
        self.spool.close()
        try:
            with open(self.path, encoding="utf-8") as file:
                for line in file:
                    if line != _HEAD:
                        yield line.removeprefix(",")
        finally:
            self.path.unlink()

    def discard(self) -> None:
        self.spool.close()
        self.path.unlink()

    def seal(self, target: Path) -> None:
        """Move the spooled requests to ``target``, on disk for good."""
        self.spool.write(_TAIL)
        self.spool.flush()
        os.fsync(self.spool.fileno())
        self.spool.close()
        os.replace(self.path, target)


def _prepare(job: Job) -> Generator[Call, Any, None]:
    state = job.state
    todo = job.items[state.prepared :]
    if not todo:
        return
    rows = job.rows(todo)
    current = _Open(job)
    job.report("preparing")
    given = 0
    while (row := (yield ("next_row", rows))) is not None:
        _check_order(row, todo, given)
        given += 1
        if state.files and "params" in row:
            row = yield from _uploaded(row)
        text = _request_text(row)
        if text is not None and not current.fits(text):
            if current.count and state.files is None and current.count < job.max_requests:
                state.files = True  # the set is too large for base64 in one batch
                current = yield from _reupload(job, current)
                row = yield from _uploaded(row)
                text = _request_text(row)
            if not current.fits(text or ""):
                yield from _seal(job, current)
                current = _Open(job)
        current.add(row, text)
        job.filling = len(current.entries)
        if job.filling % 100 == 0 or given == len(todo):
            job.report("preparing")
    _check_order(None, todo, given)
    if current.entries:
        yield from _seal(job, current)
    else:
        current.discard()


def _check_order(row: Row | None, todo: list[BatchInput], given: int) -> None:
    """The preparer gives one row per input, in order (chunks are ranges of inputs)."""
    if row is None:
        if given != len(todo):
            raise InternalError(f"the preparer gave {given} rows for {len(todo)} inputs")
        return
    expected = todo[given].custom_id if given < len(todo) else None
    if not isinstance(row, dict) or row.get("custom_id") != expected:
        found = row.get("custom_id") if isinstance(row, dict) else type(row).__name__
        raise InternalError(
            f"the preparer gave {found!r} where input {given} ({expected!r}) was due: a "
            "preparer must give one row per input, in order"
        )


def _request_text(row: Row) -> str | None:
    if "params" not in row:
        return None
    return json.dumps({"custom_id": row["custom_id"], "params": row["params"]})


def _reupload(job: Job, current: _Open) -> Generator[Call, Any, _Open]:
    """The open chunk again, its images sent through the Files API."""
    fresh = _Open(job)
    texts = current.texts()
    for entry in current.entries:
        if "error" in entry:
            fresh.add(entry, None)
            continue
        params = json.loads(next(texts))["params"]
        row = yield from _uploaded({**entry, "params": params, "betas": sorted(current.betas)})
        fresh.add(row, _request_text(row))
    return fresh


def _uploaded(row: Row) -> Generator[Call, Any, Row]:
    """``row`` with each base64 image and document uploaded (by the cache) and sent by id."""
    params = json.loads(json.dumps(row["params"]))
    found = False
    for block in media_blocks(params.get("messages", [])):
        source = block.get("source")
        if isinstance(source, dict) and source.get("type") == "base64":
            data = base64.b64decode(source["data"])
            file_id = yield ("upload", data, source.get("media_type", ""))
            block["source"] = {"type": "file", "file_id": file_id}
            found = True
    betas = sorted({*row.get("betas", ()), FILES_BETA}) if found else row.get("betas", [])
    return {**row, "params": params, "betas": betas}


def _seal(job: Job, current: _Open) -> Generator[Call, Any, None]:
    """Write the open chunk's files, record it, and submit it (or finish it at once when
    every input failed preparation)."""
    chunk = yield ("work", partial(_sealed, job, current))
    yield from _submit(job, chunk)


def _sealed(job: Job, current: _Open) -> Chunk:
    state = job.state
    number = len(state.chunks) + 1
    current.seal(state.path("chunks", number))
    write_atomic(state.path("index", number), (f"{json.dumps(e)}\n" for e in current.entries))
    chunk = Chunk(
        number=number,
        start=current.start,
        end=current.start + len(current.entries),
        requests=current.count,
        betas=sorted(current.betas),
    )
    state.chunks.append(chunk)
    state.save()
    job.filling = 0
    return chunk


# -- submitting -------------------------------------------------------------------------


def _submit(job: Job, chunk: Chunk, *, recovering: bool = False) -> Generator[Call, Any, None]:
    """Create the chunk's batch: once, whatever is lost on the way."""
    if chunk.requests == 0:
        yield ("work", partial(_finish, job, chunk, {}))
        return
    job.report("submitting")
    for attempt in range(_CREATE_TRIES):
        last = attempt == _CREATE_TRIES - 1
        if attempt:
            yield ("sleep", min(2.0**attempt, 60.0))
        if recovering:
            try:
                found = yield from _find(job, chunk)
            except Exception as error:
                if last or not _transient(error):
                    raise
                continue
            if found:
                chunk.status, chunk.batch_id, chunk.adopted = "submitted", None, True
                chunk.candidates = found
                job.state.save()
                return
        chunk.status, chunk.intent_at = "submitting", time.time()
        job.state.save()
        try:
            batch_id = yield ("create", job.state.path("chunks", chunk.number), chunk.betas)
        except Exception as error:
            if getattr(error, "status_code", None) in _REFUSED:
                yield ("work", partial(_finish, job, chunk, None, refusal=_refusal(error)))
                return
            if not _transient(error):  # a bad key, a wrong address: nothing was made
                chunk.status = "sealed"
                job.state.save()
                raise
            if last:
                raise
            recovering = getattr(error, "status_code", None) != 429  # a 429 created nothing
            continue
        _submitted(job, chunk, batch_id, adopted=False)
        return


def _find(job: Job, chunk: Chunk) -> Generator[Call, Any, list[str]]:
    """The batches a lost create call may have made for ``chunk``: those made since the
    call (give or take the clocks' difference) with as many requests, not already ours.
    Which one is ours shows when they end (their results' ``custom_id`` s)."""
    known = {c.batch_id for c in job.state.chunks if c.batch_id}
    known |= {i for c in job.state.chunks if c is not chunk for i in c.candidates}
    since = (chunk.intent_at or time.time()) - _CLOCKS
    found: list[str] = yield ("find", since, chunk.requests, frozenset(known))
    return found


def _transient(error: Exception) -> bool:
    """An error after which the call may be made again: no answer, a 5xx, 408, 409, 429.
    Anything else with a status (400, 401, 413, ...) is the API's refusal."""
    status = getattr(error, "status_code", None)
    return not isinstance(status, int) or status >= 500 or status in (408, 409, 429)


def _submitted(job: Job, chunk: Chunk, batch_id: str, *, adopted: bool) -> None:
    chunk.status, chunk.batch_id, chunk.adopted = "submitted", batch_id, adopted
    job.state.save()


def _refusal(error: Exception) -> tuple[str, str]:
    """The API's error type and message of a refused create call."""
    body = getattr(error, "body", None)
    inner = body.get("error") if isinstance(body, dict) else None
    kind = inner.get("type") if isinstance(inner, dict) else None
    message = inner.get("message") if isinstance(inner, dict) else None
    return str(kind or "invalid_request_error"), str(message or error)


# -- waiting and collecting ------------------------------------------------------------


def _wait(job: Job, *, once: bool = False) -> Generator[Call, Any, None]:
    """Poll the running batches (backing off) and collect each as it ends; ``once``: one
    round without waiting (``wait=False``)."""
    delay = job.poll_interval
    while running := [c for c in job.state.chunks if c.status == "submitted"]:
        counts: dict[str, int] = {}
        for chunk in running:
            found = yield from _poll(job, chunk)
            for key, value in found.items():
                counts[key] = counts.get(key, 0) + value
        job.report("waiting", counts)
        if once or not any(c.status == "submitted" for c in job.state.chunks):
            return
        yield ("sleep", delay)
        delay = min(delay * 1.5, job.max_poll_interval)


def _poll(job: Job, chunk: Chunk) -> Generator[Call, Any, dict[str, int]]:
    """Ask after the chunk's batch (or each batch that may be it); collect what ended."""
    for batch_id in list(chunk.candidates if chunk.adopted else [str(chunk.batch_id)]):
        try:
            status, counts = yield ("retrieve", batch_id)
            if status != "ended":
                if chunk.adopted:
                    continue
                return dict(counts)
            yield ("fetch", batch_id, job.state.path("raw", chunk.number))
        except Exception as error:
            if _transient(error):
                continue  # lost on the way: asked again next time round
            if getattr(error, "status_code", None) != 404:
                raise
            if not chunk.adopted:
                gone = ("not_found_error", f"the batch {batch_id} is gone")
                yield ("work", partial(_finish, job, chunk, None, refusal=gone))
                return {}
            chunk.candidates.remove(batch_id)
            job.state.save()
            continue
        results, ours = yield ("work", partial(_results, job.state, chunk))
        if not chunk.adopted or set(results) == ours:
            chunk.batch_id, chunk.candidates, chunk.adopted = batch_id, [], False
            yield ("work", partial(_finish, job, chunk, results))
            return {}
        chunk.candidates.remove(batch_id)  # ended, and not ours
        job.state.save()
    if chunk.adopted and not chunk.candidates:  # none of them was ours: it was never made
        chunk.status, chunk.adopted = "sealed", False
        job.state.save()
        yield from _submit(job, chunk)
    return {}


def _results(state: State, chunk: Chunk) -> tuple[dict[str, Any], set[str]]:
    """The chunk's results by ``custom_id`` (only what the output keeps of each), and the
    ids it sent."""
    results = {e["custom_id"]: reduced(e.get("result")) for e in state.lines("raw", chunk.number)}
    ours = {e["custom_id"] for e in state.lines("index", chunk.number) if "error" not in e}
    return results, ours


def _finish(
    job: Job,
    chunk: Chunk,
    results: dict[str, Any] | None,
    *,
    refusal: tuple[str, str] | None = None,
) -> None:
    """Write the chunk's output lines, mark it collected, rebuild the output file and
    drop the chunk's create body (its results are kept in ``raw/``)."""
    state = job.state
    counts: dict[str, int] = {}

    def lines() -> Iterator[str]:
        for entry in state.lines("index", chunk.number):
            if "error" in entry:
                out = unprepared(entry)
            elif refusal is not None:
                out = refused(entry, *refusal)
            else:
                out = line(entry, (results or {}).get(entry["custom_id"]))
            counts[out["status"]] = counts.get(out["status"], 0) + 1
            yield json.dumps(out) + "\n"

    write_atomic(state.path("parts", chunk.number), lines())
    chunk.status, chunk.counts = "collected", counts
    state.save()
    state.path("chunks", chunk.number).unlink(missing_ok=True)
    _rebuild(job)


def _rebuild(job: Job) -> None:
    """The output file: every collected chunk's lines, in input order."""
    state = job.state

    def lines() -> Iterator[bytes]:
        for chunk in state.chunks:
            if chunk.status == "collected":
                with open(state.path("parts", chunk.number), "rb") as file:
                    yield from file

    write_atomic(job.out, lines())


def _summary(job: Job) -> BatchSummary:
    counts = dict.fromkeys(STATUSES, 0)
    done = 0
    for chunk in job.state.chunks:
        for status, count in chunk.counts.items():
            counts[status] = counts.get(status, 0) + count
            done += count
    return BatchSummary(
        out=job.out,
        state=job.state.folder,
        inputs=len(job.items),
        counts=counts,
        pending=len(job.items) - done,
        batch_ids=tuple(c.batch_id for c in job.state.chunks if c.batch_id),
    )


def new_job(
    inputs: Any,
    settings: BatchSettings,
    *,
    prompt: str | None,
    out: str | os.PathLike[str],
    state: str | os.PathLike[str] | None = None,
    prepare: Preparer | None = None,
    workers: int | None = None,
    **options: Any,
) -> Job:
    """The :class:`Job` for a run: its inputs listed and given ids, its state opened."""
    _check_limits(options)
    salt = json.dumps(settings.fingerprint(), sort_keys=True)
    items = batch_inputs(inputs, prompt=prompt, paths=settings.paths, salt=salt)
    missing = [item.input for item in items if _no_prompt(item)]
    if missing:
        raise ConfigurationError(
            f"no prompt for {missing[0]!r}"
            + (f" and {len(missing) - 1} more" if missing[1:] else "")
            + "; pass prompt= (-p on the command line) or give each row a prompt",
        )
    if prepare is None:
        rows: Callable[[list[BatchInput]], Iterator[Row]] = partial(
            prepared_rows, settings=settings, workers=workers
        )
    else:
        rows = partial(prepare, settings=settings)
    out_path = Path(out)
    folder = Path(state) if state is not None else out_path.with_name(out_path.name + ".state")
    limits = {key: options.get(key) for key in ("files", "max_requests", "max_bytes")}
    run = {**settings.fingerprint(), **limits}
    opened = State.open(folder, run, [(item.custom_id, item.key) for item in items])
    return Job(items=items, settings=settings, state=opened, out=out_path, rows=rows, **options)


def _check_limits(options: dict[str, Any]) -> None:
    for name, most in (("max_requests", BATCH_MAX_REQUESTS), ("max_bytes", BATCH_MAX_BYTES)):
        value = options.get(name, most)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
            raise ConfigurationError(
                f"{name}={value!r}: use a whole number from 1 to {most}, the API's limit"
            )


def _no_prompt(item: BatchInput) -> bool:
    return item.message is None and item.problem is None and not item.prompt
