"""The calls a batch :func:`~claudevision._send.batch.plan` asks for, made through a sync
or an async ``anthropic`` client: the only place a batch run waits.

:func:`drive` and :func:`adrive` run a plan to its end: each call the plan yields is made
and its result sent back (or its exception thrown in, for the plan to decide).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import anyio
import anyio.to_thread

from .._core.blocks import merged_betas
from .batch import BatchSummary, Plan
from .batch_state import settle, write_atomic
from .files import FileCache, alocked, bytes_upload_args, cache_key

__all__ = ["AsyncCalls", "SyncCalls", "adrive", "drive"]

_PATH = "/v1/messages/batches"


def _create_headers(client: Any, betas: list[str]) -> dict[str, str]:
    kwargs: dict[str, Any] = {"extra_headers": {"Content-Type": "application/json"}}
    if betas:
        kwargs["extra_headers"]["anthropic-beta"] = ",".join(betas)
    headers: dict[str, str] = merged_betas(kwargs, getattr(client, "default_headers", None))[
        "extra_headers"
    ]
    return headers


def _batch_type() -> Any:
    from anthropic.types.messages import MessageBatch

    return MessageBatch


def _ours(batch: Any, since: float, count: int, known: frozenset[str]) -> bool | None:
    """True: a candidate; False: not one; None: older than ``since`` (stop listing)."""
    created = batch.created_at
    stamp = created.timestamp() if isinstance(created, datetime) else float(created or 0)
    if stamp < since:
        return None
    counts = batch.request_counts
    total = sum(
        getattr(counts, name, 0) or 0
        for name in ("processing", "succeeded", "errored", "canceled", "expired")
    )
    return batch.id not in known and total == count


def _key(client: Any, data: bytes) -> str:
    credential = getattr(client, "api_key", None) or getattr(client, "auth_token", None)
    return cache_key(data, str(client.base_url), credential)


def _dump(result: Any) -> str:
    body = result.model_dump(mode="json") if hasattr(result, "model_dump") else result
    return json.dumps(body) + "\n"


def _spool(path: Path) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=".fetch-", delete=False, encoding="utf-8"
    )


class SyncCalls:
    """The plan's calls through a sync client."""

    def __init__(self, client: Any, files: FileCache) -> None:
        self.client = client
        self.files = files

    def next_row(self, rows: Iterator[Any]) -> Any:
        return next(rows, None)

    def create(self, path: Path, betas: list[str]) -> str:
        """``POST /v1/messages/batches`` with the body streamed from the chunk's file
        (``messages.batches.create`` would hold every request in memory twice)."""
        once = self.client.with_options(max_retries=0)  # a retry could create it twice
        options = {"headers": _create_headers(self.client, betas)}
        with open(path, "rb") as body:
            made = once.post(_PATH, cast_to=_batch_type(), content=body, options=options)
        return str(made.id)

    def find(self, since: float, count: int, known: frozenset[str]) -> list[str]:
        found: list[str] = []
        for batch in self.client.messages.batches.list(limit=100):
            verdict = _ours(batch, since, count, known)
            if verdict is None:
                break
            if verdict:
                found.append(batch.id)
        return found

    def retrieve(self, batch_id: str) -> tuple[str, dict[str, int]]:
        batch = self.client.messages.batches.retrieve(batch_id)
        return str(batch.processing_status), dict(batch.request_counts.model_dump())

    def fetch(self, batch_id: str, path: Path) -> None:
        write_atomic(path, (_dump(r) for r in self.client.messages.batches.results(batch_id)))

    def upload(self, data: bytes, media_type: str) -> str:
        key = _key(self.client, data)
        with self.files.lock(key):
            file_id = self.files.get(key)
            if file_id is None:
                args = bytes_upload_args(data, media_type)
                file_id = str(self.client.beta.files.upload(**args).id)
                self.files.put(key, file_id)
        return file_id

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def work(self, function: Callable[[], Any]) -> Any:
        """File work of the plan (writing a chunk, the output)."""
        return function()


class AsyncCalls:
    """The plan's calls through an async client (preparing runs in a worker thread)."""

    def __init__(self, client: Any, files: FileCache) -> None:
        self.client = client
        self.files = files

    async def next_row(self, rows: Iterator[Any]) -> Any:
        return await anyio.to_thread.run_sync(next, rows, None)

    async def create(self, path: Path, betas: list[str]) -> str:
        body = await anyio.to_thread.run_sync(path.read_bytes)
        once = self.client.with_options(max_retries=0)
        options = {"headers": _create_headers(self.client, betas)}
        made = await once.post(_PATH, cast_to=_batch_type(), content=body, options=options)
        return str(made.id)

    async def find(self, since: float, count: int, known: frozenset[str]) -> list[str]:
        found: list[str] = []
        async for batch in self.client.messages.batches.list(limit=100):
            verdict = _ours(batch, since, count, known)
            if verdict is None:
                break
            if verdict:
                found.append(batch.id)
        return found

    async def retrieve(self, batch_id: str) -> tuple[str, dict[str, int]]:
        batch = await self.client.messages.batches.retrieve(batch_id)
        return str(batch.processing_status), dict(batch.request_counts.model_dump())

    async def fetch(self, batch_id: str, path: Path) -> None:
        """The results written as they arrive, a thousand lines at a time from a thread
        (never the whole file in memory, never a write on the event loop)."""
        spool = await anyio.to_thread.run_sync(_spool, path)
        try:
            lines: list[str] = []
            async for result in await self.client.messages.batches.results(batch_id):
                lines.append(_dump(result))
                if len(lines) >= 1000:
                    await anyio.to_thread.run_sync(spool.writelines, lines)
                    lines = []
            await anyio.to_thread.run_sync(spool.writelines, lines)
        except BaseException:
            spool.close()
            Path(spool.name).unlink()
            raise
        await anyio.to_thread.run_sync(spool.close)
        await anyio.to_thread.run_sync(settle, Path(spool.name), path)

    async def upload(self, data: bytes, media_type: str) -> str:
        key = _key(self.client, data)
        async with alocked(self.files, key):
            file_id = self.files.get(key)
            if file_id is None:
                args = bytes_upload_args(data, media_type)
                uploaded = await self.client.beta.files.upload(**args)
                file_id = str(uploaded.id)
                self.files.put(key, file_id)
        return file_id

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)

    async def work(self, function: Callable[[], Any]) -> Any:
        """File work of the plan, in a worker thread: never on the event loop."""
        return await anyio.to_thread.run_sync(function)


def drive(run: Plan, calls: SyncCalls) -> BatchSummary:
    """Run ``run`` to its end, making its calls with ``calls``."""
    answer: Any = None
    failure: Exception | None = None
    while True:
        try:
            call = run.send(answer) if failure is None else run.throw(failure)
        except StopIteration as stop:
            summary: BatchSummary = stop.value
            return summary
        answer, failure = None, None
        try:
            answer = getattr(calls, call[0])(*call[1:])
        except Exception as error:
            failure = error


async def adrive(run: Plan, calls: AsyncCalls) -> BatchSummary:
    """:func:`drive` for async code."""
    answer: Any = None
    failure: Exception | None = None
    while True:
        try:
            call = run.send(answer) if failure is None else run.throw(failure)
        except StopIteration as stop:
            summary: BatchSummary = stop.value
            return summary
        answer, failure = None, None
        try:
            answer = await getattr(calls, call[0])(*call[1:])
        except Exception as error:
            failure = error
