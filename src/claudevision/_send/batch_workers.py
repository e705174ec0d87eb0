"""Preparing a batch on every core: worker processes started as ``python -m`` this module.

    >>> from claudevision._send.batch_prepare import BatchSettings
    >>> rows = in_processes(iter([]), BatchSettings(model="claude-opus-4-8"), workers=2)
    >>> list(rows)
    []

Each worker is a fresh interpreter that imports only claudevision (never the caller's
``__main__``, so a script without ``if __name__ == "__main__":``, a notebook or standard
input all work). It reads pickled groups of inputs on its standard input and writes their
rows on its standard output, each message prefixed by its length. Results come back in
order; a group is sent to a worker only when it is idle and fewer than two groups per
worker wait to be yielded, so memory stays bounded whatever the number of inputs. A worker
that dies (a crash in a decoder, the OOM killer) is replaced, and its inputs are prepared
again one at a time in processes of their own: one that kills its process again is an
``invalid_input`` row naming the process's exit status, and the run goes on.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator, Sized
from itertools import islice
from typing import IO, Any

from .batch_inputs import BatchInput
from .batch_prepare import BatchSettings, Row, prepare_row

__all__ = ["in_processes", "main", "prepared_rows"]

_HEADER = struct.Struct("<Q")
_GROUP = 4
_IN_PROCESS = 8  # fewer inputs are prepared here: starting a worker costs about 0.25 s


def _send(stream: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def main() -> None:
    """The worker: prepare each group it is sent until its input ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops us
    source = sys.stdin.buffer
    sink = os.fdopen(os.dup(1), "wb")  # the rows' own channel: stray prints go to stderr
    os.dup2(2, 1)
    while True:
        try:
            number, items, settings = _receive(source)
        except EOFError:
            return
        _send(sink, (number, [prepare_row(item, settings) for item in items]))


class _Worker:
    def __init__(self, results: queue.Queue[tuple[int, Any]], index: int) -> None:
        self.index = index
        self.group: list[Any] = []
        """The inputs it is preparing now."""
        self.number = -1
        """The number of that group."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self.reader = threading.Thread(target=self._read, args=(results,), daemon=True)
        self.reader.start()

    def _read(self, results: queue.Queue[tuple[int, Any]]) -> None:
        assert self.process.stdout is not None
        try:
            while True:
                results.put((self.index, _receive(self.process.stdout)))
        except (EOFError, OSError, pickle.UnpicklingError):
            results.put((self.index, None))

    def give(self, value: Any) -> None:
        assert self.process.stdin is not None
        _send(self.process.stdin, value)

    def stop(self) -> None:
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def prepared_rows(
    items: Iterable[BatchInput], settings: BatchSettings, *, workers: int | None = None
) -> Iterator[Row]:
    """:func:`prepare_row` for each of ``items``, in order, on ``workers`` processes
    (default: every core; 1: here, in this process, as for 8 inputs or fewer)."""
    workers = workers or os.cpu_count() or 1
    if workers == 1 or (isinstance(items, Sized) and len(items) <= _IN_PROCESS):
        yield from (prepare_row(item, settings) for item in items)
    else:
        yield from in_processes(iter(items), settings, workers=workers)


def in_processes(items: Iterator[Any], settings: Any, *, workers: int) -> Iterator[Any]:
    """The rows of ``items`` prepared on ``workers`` processes, in order."""
    results: queue.Queue[tuple[int, Any]] = queue.Queue()
    pool = [_Worker(results, index) for index in range(workers)]
    try:
        yield from _run(pool, results, items, settings)
    finally:
        for worker in pool:
            worker.stop()


def _run(
    pool: list[_Worker], results: queue.Queue[tuple[int, Any]], items: Iterator[Any], settings: Any
) -> Iterator[Any]:
    done: dict[int, list[Any]] = {}
    sent = wanted = 0
    idle = list(pool)
    while True:
        while idle and len(done) < 2 * len(pool):
            group = list(islice(items, _GROUP))
            if not group:
                break
            worker = idle.pop()
            worker.group, worker.number = group, sent
            try:
                worker.give((sent, group, settings))
            except (pickle.PicklingError, TypeError, AttributeError):  # prepared here instead
                done[sent] = [prepare_row(item, settings) for item in group]
                idle.append(worker)
            sent += 1
        if wanted == sent:
            return
        if wanted in done:
            yield from done.pop(wanted)
            wanted += 1
            continue
        index, message = results.get()
        if message is None:  # the worker died (a crash in a decoder, the OOM killer)
            dead = pool[index]
            dead.process.wait()
            done[dead.number] = [_alone(item, settings) for item in dead.group]
            pool[index] = _Worker(results, index)
            idle.append(pool[index])
            continue
        number, rows = message
        done[number] = rows
        idle.append(pool[index])
        while wanted in done:
            yield from done.pop(wanted)
            wanted += 1


def _alone(item: Any, settings: Any) -> Any:
    """``item`` prepared in a process of its own (its group's worker died): its row, or an
    ``invalid_input`` row naming the process's end if it kills this one too."""
    results: queue.Queue[tuple[int, Any]] = queue.Queue()
    worker = _Worker(results, 0)
    try:
        worker.give((0, [item], settings))
        _, message = results.get()
    finally:
        worker.stop()
    if message is not None:
        return message[1][0]
    row: dict[str, Any] = {"custom_id": item.custom_id, "input": item.input}
    status = worker.process.returncode
    reason = f"the process preparing it stopped (status {status}): a crash or out of memory"
    return {**row, "error": {"type": "InternalError", "message": reason}}


if __name__ == "__main__":
    main()
