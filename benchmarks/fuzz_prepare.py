"""Fuzz prepare_image with mutated images in worker processes; count everything that escapes.

    PYTHONPATH=src python benchmarks/fuzz_prepare.py --cases 20000 --workers 2 --out fuzz-out

Each case is one seed from ``tests/strict_decode.py`` (small PNG, JPEG, WebP, GIF, TIFF,
BMP, ICO, AVIF and HEIC images made in-process) with one mutation (bit flips, overwrite,
truncation, splice with another seed, duplicated, deleted or inserted range), chosen from
``--seed`` and the case number alone, so a run is reproducible. Workers run
``prepare_image(data, model=--model)`` with a per-case time limit (the worker is killed:
a HANG) and an address-space limit (``RLIMIT_AS``: a MemoryError or a kill is a MEMORY
blowup). Every block returned goes through ``strict_decode.check_prepared``.

Outcomes: ``refused`` (a ClaudeVisionError, the promise kept), ``ok`` (a block that passes
the strict check), ``invalid`` (a block that fails it; split by ``.unchanged``), ``escaped``
(any other exception), ``hang``, ``memory``, ``crash`` (the worker died on a signal) and
``checker`` (the strict check itself failed: a bug here, not in claudevision).

Into ``--out`` go ``report.txt`` (the tables), ``catalogue.json`` and, per distinct failure
class -- (exception type, message prefix, innermost library frame) for exceptions, the
strict-check kind for invalid blocks -- the smallest input seen (``*.orig.bin``), the same
input shrunk while it stays in its class (``*.bin``) and what is known (``*.json``).
Reproduce one with::

    python -c "import sys, claudevision; claudevision.prepare_image(
        open(sys.argv[1], 'rb').read(), model='claude-opus-4-8')" FILE.bin
"""

from __future__ import annotations

import argparse
import collections
import faulthandler
import json
import multiprocessing
import os
import random
import re
import resource
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.strict_decode import (  # noqa: E402
    MUTATION_KINDS,
    SEED_NAMES,
    Mutation,
    StrictDecodeError,
    check_prepared,
    family,
    random_mutation,
    seeds,
)

import claudevision  # noqa: E402
from claudevision._core import media as _media  # noqa: E402

OUTCOMES = ("refused", "ok", "invalid", "escaped", "hang", "memory", "crash", "checker")
_LIBRARIES = ("claudevision", "PIL", "pillow_heif")

Result = dict[str, Any]


# --------------------------------------------------------------------------------------
# In the worker
# --------------------------------------------------------------------------------------


def _short_path(filename: str) -> str:
    parts = Path(filename).parts
    for library in _LIBRARIES:
        if library in parts:
            return "/".join(parts[len(parts) - 1 - parts[::-1].index(library) :])
    return Path(filename).name


def _where(frame: traceback.FrameSummary) -> str:
    return f"{_short_path(frame.filename)}:{frame.lineno} in {frame.name}"


def _locate(tb: TracebackType | None) -> tuple[str, str]:
    """(innermost library frame, innermost claudevision frame) of a traceback."""
    frames = traceback.extract_tb(tb)
    library = [f for f in frames if any(f"/{lib}/" in f.filename for lib in _LIBRARIES)]
    ours = [f for f in frames if "/claudevision/" in f.filename]
    where = _where(library[-1] if library else frames[-1]) if frames else "?"
    via = _where(ours[-1]) if ours else "?"
    return where, via


def _prefix(message: str) -> str:
    """A message with its numbers and quoted values masked, cut to a stable prefix."""
    message = re.sub(r"b?'[^']*'|b?\"[^\"]*\"", "'*'", message)
    message = re.sub(r"0x[0-9a-fA-F]+|\d+", "N", message)
    return message[:48]


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )


def _exception_result(outcome: str, exc: BaseException) -> Result:
    where, via = _locate(exc.__traceback__)
    message = str(exc)
    return {
        "outcome": outcome,
        "type": _type_name(exc),
        "message": message[:300],
        "prefix": _prefix(message),
        "where": where,
        "via": via,
        "traceback": "".join(traceback.format_exception(exc)[-12:])[-3000:],
    }


class _Alarm(BaseException):
    pass


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _Alarm


def run_case(data: bytes, model: str) -> Result:
    """One prepare_image call and the strict check of what it returns."""
    try:
        prepared = claudevision.prepare_image(data, model=model)
    except claudevision.ClaudeVisionError as exc:
        return {"outcome": "refused", "type": type(exc).__name__}
    except MemoryError as exc:
        return _exception_result("memory", exc)
    except _Alarm:
        raise
    except BaseException as exc:
        return _exception_result("escaped", exc)
    unchanged = bool(prepared.unchanged)
    path = "re-encoded"
    if unchanged:  # which pass-through: the header-only fast path, or after Image.open
        head = _media.probe(data)
        path = "probe fast path" if head is not None and head.simple else "open+load path"
    try:
        check_prepared(prepared, original=data)
    except StrictDecodeError as exc:
        return {
            "outcome": "invalid",
            "kind": exc.kind,
            "detail": exc.detail[:300],
            "media_type": prepared.media_type,
            "unchanged": unchanged,
            "path": path,
            "steps": [str(step) for step in prepared.steps],
        }
    except _Alarm:
        raise
    except BaseException as exc:
        return _exception_result("checker", exc)
    return {"outcome": "ok", "unchanged": unchanged, "media_type": prepared.media_type}


def class_key(result: Result) -> str:
    """The failure class of a result ('' for refused and ok)."""
    outcome = result["outcome"]
    if outcome in ("escaped", "memory", "checker"):
        return f"{outcome} | {result['type']} | {result['prefix']} | {result['where']}"
    if outcome == "invalid":
        how = f"pass-through, {result['path']}" if result["unchanged"] else "re-encoded"
        kind = result["kind"]
        if kind.startswith("pillow:"):
            kind += f": {_prefix(result['detail'].partition(': ')[2])}"
        return f"invalid | {kind} | {result['media_type']} | {how}"
    if outcome in ("hang", "crash"):
        return f"{outcome} | {result.get('type', '')} | {result.get('where', '?')}"
    return ""


def _minimize(data: bytes, key: str, model: str, seconds: float) -> bytes:
    """Delete ranges (halving their size) while the input stays in class ``key``."""
    deadline = time.monotonic() + seconds

    def same(candidate: bytes) -> bool:
        signal.setitimer(signal.ITIMER_REAL, 1.0)
        try:
            return class_key(run_case(candidate, model)) == key
        except _Alarm:
            return False
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    chunk = max(1, len(data) // 2)
    while time.monotonic() < deadline:
        start = 0
        while start < len(data) and time.monotonic() < deadline:
            candidate = data[:start] + data[start + chunk :]
            if candidate and same(candidate):
                data = candidate
            else:
                start += chunk
        if chunk == 1:
            break
        chunk //= 2
    return data


def _vm_size() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _peak_rss() -> int:
    """The process's peak resident set so far, in bytes (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _worker(
    conn: Connection,
    corpus: Mapping[str, bytes],
    model: str,
    mem_mb: int,
    big_mb: int,
    dump: str,
    limit: float,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, _on_alarm)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)  # libtiff and libheif print to stderr; faulthandler writes to dump
    warnings.simplefilter("ignore")
    try:  # registered up front, so a case never depends on the cases a worker ran before
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:
        pass
    if mem_mb:
        cap = _vm_size() + mem_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    dump_file = open(dump, "wb", buffering=0)  # noqa: SIM115 - the worker's lifetime
    faulthandler.enable(dump_file)
    baseline = _peak_rss()
    while True:
        message = conn.recv()
        if message is None:
            return
        if message[0] == "minimize":
            _, job, data, key, seconds = message
            conn.send((job, _minimize(data, key, model, seconds)))
            continue
        _, index, seed_name, mutation = message
        data = mutation.apply(corpus[seed_name], corpus)
        os.ftruncate(dump_file.fileno(), 0)
        os.lseek(dump_file.fileno(), 0, os.SEEK_SET)
        faulthandler.dump_traceback_later(limit * 0.8, file=dump_file)
        started = time.perf_counter()
        result = run_case(data, model)
        result["seconds"] = time.perf_counter() - started
        faulthandler.cancel_dump_traceback_later()
        grown = _peak_rss() - baseline
        if big_mb and grown > big_mb * 1024 * 1024:
            # The peak only grows: report it, then exit so the next case is measured afresh.
            result["peak_mb"] = round(grown / 2**20)
            conn.send((index, result))
            return
        conn.send((index, result))


# --------------------------------------------------------------------------------------
# In the parent
# --------------------------------------------------------------------------------------


@dataclass
class Case:
    index: int
    seed_name: str
    mutation: Mutation


def make_case(seed: int, index: int, seed_names: tuple[str, ...]) -> Case:
    rng = random.Random(f"{seed}:{index}")
    name = seed_names[rng.randrange(len(seed_names))]
    return Case(index, name, random_mutation(rng, name, seeds()))


class Worker:
    def __init__(self, ctx: BaseContext, number: int, args: argparse.Namespace) -> None:
        self.number = number
        self.generation = 0
        self.args = args
        self.ctx = ctx
        self.case: Case | None = None
        self.job: Any = None
        self.started = 0.0
        self.deadline = 0.0
        self._start()

    def _start(self) -> None:
        self.generation += 1
        tmp = Path(self.args.out) / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        self.dump = tmp / f"worker{self.number}-{self.generation}.txt"
        parent, child = self.ctx.Pipe()
        self.process: BaseProcess = self.ctx.Process(  # type: ignore[attr-defined]
            target=_worker,
            args=(
                child,
                seeds(),
                self.args.model,
                self.args.mem_mb,
                self.args.big_mb,
                str(self.dump),
                self.args.timeout,
            ),
            daemon=True,
        )
        self.process.start()
        child.close()
        self.conn = parent

    def restart(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()
        self.dump.unlink(missing_ok=True)
        self.case = self.job = None
        self._start()

    def send_case(self, case: Case) -> None:
        self.case, self.started = case, time.monotonic()
        self.deadline = self.started + self.args.timeout
        self.conn.send(("case", case.index, case.seed_name, case.mutation))

    def send_minimize(self, job: Any, data: bytes, key: str) -> None:
        self.job, self.started = job, time.monotonic()
        seconds = self.args.minimize_seconds
        self.deadline = self.started + seconds + 2 * self.args.timeout
        self.conn.send(("minimize", job, data, key, seconds))

    @property
    def busy(self) -> bool:
        return self.case is not None or self.job is not None

    def dumped_location(self) -> str:
        """The innermost frame of the last traceback faulthandler wrote, if any."""
        try:
            text = self.dump.read_text(errors="replace")
        except OSError:
            return "?"
        # Innermost frame first; the only Python thread is the worker's main thread.
        frames = re.findall(r'File "([^"]+)", line (\d+) in (\S+)', text)
        if not frames:
            return "?"
        for filename, line, name in frames:
            if any(f"/{lib}/" in filename for lib in _LIBRARIES):
                return f"{_short_path(filename)}:{line} in {name}"
        filename, line, name = frames[0]
        return f"{_short_path(filename)}:{line} in {name}"


@dataclass
class FailureClass:
    key: str
    count: int = 0
    by_family: collections.Counter[str] = field(default_factory=collections.Counter)
    by_seed: collections.Counter[str] = field(default_factory=collections.Counter)
    smallest: bytes | None = None
    case: Case | None = None
    result: Result = field(default_factory=dict)
    minimized: bytes | None = None


@dataclass
class Tally:
    counts: dict[str, collections.Counter[str]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    refused_types: collections.Counter[str] = field(default_factory=collections.Counter)
    escaped_types: collections.Counter[str] = field(default_factory=collections.Counter)
    classes: dict[str, FailureClass] = field(default_factory=dict)
    slow: list[tuple[float, int, str]] = field(default_factory=list)
    big: list[tuple[int, int, str, str]] = field(default_factory=list)
    done: int = 0

    def add(self, case: Case, result: Result) -> None:
        self.done += 1
        outcome = result["outcome"]
        column = outcome
        if outcome == "invalid":
            column = "invalid-pass" if result["unchanged"] else "invalid-reenc"
        for row in (
            f"seed {case.seed_name}",
            f"family {family(case.seed_name)}",
            f"mutation {case.mutation.kind}",
            "total",
        ):
            self.counts[row]["cases"] += 1
            self.counts[row][column] += 1
            if outcome == "ok" and result["unchanged"]:
                self.counts[row]["ok-pass"] += 1
        if outcome == "refused":
            self.refused_types[result["type"]] += 1
        elif outcome in ("escaped", "memory", "checker", "crash"):
            self.escaped_types[f"{outcome}: {result.get('type', '?')}"] += 1
        seconds = result.get("seconds", 0.0)
        if seconds > 1.0:
            self.slow.append((seconds, case.index, case.seed_name))
        keys = [class_key(result)]
        if "peak_mb" in result:
            for row in (f"seed {case.seed_name}", f"family {family(case.seed_name)}"):
                self.counts[row]["big"] += 1
            self.counts[f"mutation {case.mutation.kind}"]["big"] += 1
            self.counts["total"]["big"] += 1
            self.big.append((result["peak_mb"], case.index, case.seed_name, outcome))
            keys.append(f"bigrss | {family(case.seed_name)} | {outcome}")
        for key in filter(None, keys):
            self._add_class(key, case, result)

    def _add_class(self, key: str, case: Case, result: Result) -> None:
        failure = self.classes.setdefault(key, FailureClass(key))
        failure.count += 1
        failure.by_family[family(case.seed_name)] += 1
        failure.by_seed[case.seed_name] += 1
        data = case.mutation.apply(seeds()[case.seed_name], seeds())
        if failure.smallest is None or len(data) < len(failure.smallest):
            failure.smallest, failure.case, failure.result = data, case, result


def _death_result(worker: Worker, killed_by_us: bool) -> Result:
    where = worker.dumped_location()
    if killed_by_us:
        return {"outcome": "hang", "type": "timeout", "where": where}
    code = worker.process.exitcode
    if code == -signal.SIGKILL:  # the kernel's OOM killer, or a cgroup limit
        return {"outcome": "memory", "type": "killed (SIGKILL)", "prefix": "", "where": where}
    name = signal.Signals(-code).name if code is not None and code < 0 else f"exit {code}"
    return {"outcome": "crash", "type": name, "where": where}


def run(args: argparse.Namespace) -> tuple[Tally, float]:
    names = SEED_NAMES
    if args.seeds:
        wanted = tuple(args.seeds.split(","))
        names = tuple(n for n in SEED_NAMES if n.startswith(wanted))
    seeds()  # made once here; forked workers inherit them
    ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    workers = [Worker(ctx, number, args) for number in range(args.workers)]
    tally = Tally()
    cases: Iterator[Case] = (make_case(args.seed, i, names) for i in range(args.cases))
    remaining = True
    started = time.monotonic()
    last_report = started

    def finish(worker: Worker, result: Result) -> None:
        assert worker.case is not None
        tally.add(worker.case, result)
        worker.case = None

    while True:
        for worker in workers:
            if not worker.busy and remaining:
                case = next(cases, None)
                if case is None:
                    remaining = False
                else:
                    worker.send_case(case)
        busy = [w for w in workers if w.busy]
        if not busy:
            break
        ready = wait([w.conn for w in busy], timeout=0.05)
        for worker in busy:
            if worker.conn in ready:
                try:
                    _index, result = worker.conn.recv()
                except (EOFError, OSError):
                    worker.process.join(2)
                    finish(worker, _death_result(worker, killed_by_us=False))
                    worker.restart()
                    continue
                finish(worker, result)
                if "peak_mb" in result:  # the worker exits to reset its peak
                    worker.restart()
            elif time.monotonic() > worker.deadline:
                worker.process.kill()
                worker.process.join(2)
                finish(worker, _death_result(worker, killed_by_us=True))
                worker.restart()
        now = time.monotonic()
        if now - last_report > 10:
            last_report = now
            rate = tally.done / (now - started)
            print(
                f"  {tally.done:,}/{args.cases:,} cases, {rate:.0f}/s, "
                f"{len(tally.classes)} failure classes",
                file=sys.stderr,
                flush=True,
            )
    elapsed = time.monotonic() - started
    if args.minimize_seconds > 0:
        _minimize_all(tally, workers)
    for worker in workers:
        if worker.process.is_alive():
            worker.conn.send(None)
            worker.process.join(5)
        worker.dump.unlink(missing_ok=True)
    return tally, elapsed


def _minimize_all(tally: Tally, workers: list[Worker]) -> None:
    """Shrink the smallest input of each exception and invalid-block class, in the workers."""
    todo = [
        c
        for c in tally.classes.values()
        if c.smallest is not None and c.key.split(" | ")[0] in ("escaped", "invalid", "checker")
    ]
    print(f"  minimizing {len(todo)} reproducers", file=sys.stderr, flush=True)
    queue = list(todo)
    while True:
        for worker in workers:
            if not worker.busy and queue:
                failure = queue.pop()
                assert failure.smallest is not None
                worker.send_minimize(failure, failure.smallest, failure.key)
        busy = [w for w in workers if w.busy]
        if not busy:
            return
        ready = wait([w.conn for w in busy], timeout=0.05)
        for worker in busy:
            if worker.conn in ready:
                try:
                    _job, data = worker.conn.recv()
                    worker.job.minimized = data
                    worker.job = None
                except (EOFError, OSError):
                    worker.restart()
            elif time.monotonic() > worker.deadline:
                worker.restart()


# --------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------

_COLUMNS = (
    ("cases", "cases"),
    ("refused", "CVError"),
    ("ok", "OK"),
    ("ok-pass", "(pass)"),
    ("invalid-pass", "INV pass"),
    ("invalid-reenc", "INV re-enc"),
    ("escaped", "ESCAPED"),
    ("hang", "HANG"),
    ("memory", "MEM"),
    ("crash", "CRASH"),
    ("checker", "CHECKER"),
    ("big", "BIG RSS"),
)


def _table(tally: Tally, prefix: str, title: str) -> list[str]:
    rows = sorted(k for k in tally.counts if k.startswith(prefix))
    width = max([len(title)] + [len(r) - len(prefix) for r in rows])
    head = f"{title:<{width}} " + " ".join(f"{label:>10}" for _, label in _COLUMNS)
    lines = [head, "-" * len(head)]
    for row in [*rows, "total"]:
        counts = tally.counts[row]
        name = row[len(prefix) :] if row != "total" else "TOTAL"
        lines.append(f"{name:<{width}} " + " ".join(f"{counts[key]:>10,}" for key, _ in _COLUMNS))
    return lines


def _invalid_summary(tally: Tally) -> list[str]:
    groups: dict[tuple[str, str], collections.Counter[str]] = collections.defaultdict(
        collections.Counter
    )
    kinds: dict[tuple[str, str], int] = collections.Counter()
    for failure in tally.classes.values():
        parts = failure.key.split(" | ")
        if parts[0] == "invalid":
            groups[parts[2], parts[3]].update(failure.by_family)
            kinds[parts[2], parts[3]] += 1
    lines = []
    for (media_type, how), by_family in sorted(groups.items(), key=lambda g: -g[1].total()):
        formats = ", ".join(f"{f} {n:,}" for f, n in by_family.most_common())
        lines.append(
            f"  {by_family.total():>8,}  {media_type:<10} {how:<30} "
            f"{kinds[media_type, how]:>3} kinds; input format: {formats}"
        )
    return lines


def report(tally: Tally, elapsed: float, args: argparse.Namespace) -> str:
    total = tally.counts["total"]
    lines = [
        f"fuzz_prepare: {tally.done:,} cases, seed {args.seed}, {args.workers} workers, "
        f"model {args.model}, limits {args.timeout:g} s and {args.mem_mb} MiB per case",
        f"{elapsed:.1f} s, {tally.done / max(elapsed, 1e-9):.1f} cases/s; "
        f"claudevision {Path(claudevision.__file__).parent}",
        "",
        *_table(tally, "family ", "format"),
        "",
        *_table(tally, "seed ", "seed"),
        "",
        *_table(tally, "mutation ", "mutation"),
        "",
        "Invalid blocks by media type sent and path (kinds are in the class list):",
        *_invalid_summary(tally),
        "",
        "Refused (ClaudeVisionError subclasses):",
        *(f"  {n:>8,}  {t}" for t, n in tally.refused_types.most_common()),
        "",
        "Escaped (not ClaudeVisionError), memory, crashes, checker errors, by type:",
        *(f"  {n:>8,}  {t}" for t, n in tally.escaped_types.most_common()),
        "",
        f"Bad outcomes: {sum(total[k] for k, _ in _COLUMNS[4:-1]):,} of "
        f"{tally.done:,} ({len(tally.classes)} classes)",
    ]
    if tally.big:
        biggest = sorted(tally.big, reverse=True)[:5]
        lines.append(
            f"BIG RSS: {len(tally.big)} cases grew the worker's peak RSS by over "
            f"{args.big_mb} MiB (not failures); largest "
            + ", ".join(f"#{i} {s} {mb} MiB ({o})" for mb, i, s, o in biggest)
        )
    if tally.slow:
        slowest = sorted(tally.slow, reverse=True)[:5]
        lines.append(
            f"Slow cases (over 1 s, under the limit): {len(tally.slow)}; slowest "
            + ", ".join(f"#{i} {s} {t:.1f}s" for t, i, s in slowest)
        )
    return "\n".join(lines)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:60].lower()


def save(tally: Tally, elapsed: float, args: argparse.Namespace, text: str) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    order = sorted(tally.classes.values(), key=lambda c: (c.key.split(" | ")[0], -c.count))
    catalogue = []
    for number, failure in enumerate(order, 1):
        result = failure.result
        parts = failure.key.split(" | ")
        name = f"{number:03d}-{_slug(' '.join(parts[:3]))}"
        entry: dict[str, Any] = {
            "id": number,
            "class": failure.key,
            "count": failure.count,
            "by_format": dict(failure.by_family.most_common()),
            "by_seed": dict(failure.by_seed.most_common()),
            **{k: v for k, v in result.items() if k != "seconds"},
        }
        if failure.case is not None:
            entry["example"] = {
                "case": failure.case.index,
                "seed": failure.case.seed_name,
                "mutation": failure.case.mutation.describe(),
            }
        if failure.smallest is not None:
            (out / f"{name}.orig.bin").write_bytes(failure.smallest)
            reproducer = failure.minimized or failure.smallest
            (out / f"{name}.bin").write_bytes(reproducer)
            entry["reproducer"] = str(out / f"{name}.bin")
            entry["reproducer_bytes"] = len(reproducer)
            entry["original_bytes"] = len(failure.smallest)
        (out / f"{name}.json").write_text(json.dumps(entry, indent=2) + "\n")
        catalogue.append(entry)
    (out / "catalogue.json").write_text(json.dumps(catalogue, indent=2) + "\n")
    lines = [text, "", "Failure classes (reproducers in this folder):"]
    for entry in catalogue:
        lines.append(
            f"{entry['id']:03d} x{entry['count']:<6,} {entry['class']}"
            + (f"\n       via {entry['via']}" if entry.get("via", "?") != "?" else "")
            + (
                f"\n       e.g. {entry['example']['seed']}: {entry['example']['mutation']}"
                if "example" in entry
                else ""
            )
            + f"\n       formats {entry['by_format']}"
            + (f"\n       file {entry['reproducer']}" if "reproducer" in entry else "")
        )
    (out / "report.txt").write_text("\n".join(lines) + "\n")
    tmp = out / "tmp"
    if tmp.is_dir() and not any(tmp.iterdir()):
        tmp.rmdir()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2000, help="mutated files to run")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=0, help="decides every case")
    parser.add_argument("--out", default="fuzz-out", help="folder for the report and files")
    parser.add_argument("--model", default="claude-opus-4-8")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per case")
    parser.add_argument(
        "--mem-mb", type=int, default=1024, help="address space per case above the worker's"
    )
    parser.add_argument(
        "--big-mb", type=int, default=256, help="count cases whose peak RSS grows more (info)"
    )
    parser.add_argument("--seeds", default="", help="only seeds starting so (comma list)")
    parser.add_argument(
        "--minimize-seconds",
        type=float,
        default=3.0,
        help="time to shrink each reproducer (0: keep the smallest seen)",
    )
    args = parser.parse_args(argv)
    print(
        f"fuzzing {args.cases:,} cases on {args.workers} workers "
        f"({len(SEED_NAMES)} seeds x {len(MUTATION_KINDS)} mutation kinds)",
        file=sys.stderr,
    )
    tally, elapsed = run(args)
    text = report(tally, elapsed, args)
    print(text)
    save(tally, elapsed, args, text)
    print(f"\nreport, catalogue and reproducers in {args.out}/", file=sys.stderr)


if __name__ == "__main__":
    main()
