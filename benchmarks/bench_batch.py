"""Preparation throughput of a batch: images per second on 1, 2 and all cores, and on Ray.

    python benchmarks/bench_batch.py [--count 32] [--repeat 3] [--no-ray]

``--count`` twelve-megapixel JPEGs (4032x3024, photo-like, 2-4 MB each; every third
stored sideways with EXIF orientation 6, as phones write them) are written to a temporary
folder, then prepared as the requests of one batch (``batch_inputs`` of the folder, a
standard-tier model) by:

- ``naive``: one process, one image at a time: ``ImageOps.exif_transpose(Image.open(p))``,
  ``thumbnail`` to 1568 px, JPEG q85, base64 (``naive_pillow`` of ``bench_prepare.py``);
- ``prepared_rows``: the batch engine's own preparer with ``workers`` = 1 (in this
  process), 2 and every core (worker processes started as ``python -m``, their start-up
  included: it is what a run pays);
- ``prepare_on_ray`` (where Ray is installed and ``--no-ray`` is not given): on a local
  Ray cluster of every core, started and warmed up before the clock runs.

Each row runs in a fresh interpreter (imports and codecs loaded, one image prepared,
before the clock); its figure is the median of ``--repeat`` runs over warm files (the
page cache holds them). Peak memory is the largest resident set of that interpreter and
all its descendants together (worker processes; Ray's own processes for the Ray row),
sampled every 25 ms, and in brackets its rise over the same tree just before the runs
(Linux; ``n/a`` elsewhere). CPU time is the same tree's (the children it reaped
included), per image: what the work costs whatever the machine's other load. Prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench_prepare import naive_pillow, photo_like
from PIL import Image

from claudevision import MissingDependencyError
from claudevision._send.batch_inputs import BatchInput, batch_inputs
from claudevision._send.batch_prepare import BatchSettings, Row
from claudevision._send.batch_workers import prepared_rows

MODEL = "claude-sonnet-4-6"  # the standard tier: 1568 px, as the naive baseline
MiB = 1024 * 1024


def make_photos(folder: Path, count: int) -> list[Path]:
    """``count`` distinct 12 MP JPEGs from four generated scenes."""
    scenes = [photo_like(4032, 3024, seed) for seed in range(min(count, 4))]
    paths = []
    for index in range(count):
        image = scenes[index % len(scenes)]
        options: dict[str, object] = {"quality": 88 + index % 8}
        if index % 3 == 0:
            exif = Image.Exif()
            exif[0x0112] = 6
            options["exif"] = exif
        path = folder / f"photo{index:03}.jpg"
        image.save(path, "JPEG", **options)
        paths.append(path)
    return paths


def _tree() -> list[int]:
    """This process and every descendant (empty where /proc is absent)."""
    if not os.path.isdir("/proc"):
        return []
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry))
    pids, todo = [], [os.getpid()]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, ()))
    return pids


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command's name (state first)."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def tree_rss() -> int:
    """Resident bytes of this process and every descendant (0 where /proc is absent)."""
    total = 0
    for pid in _tree():
        try:
            with open(f"/proc/{pid}/statm") as file:
                total += int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


def tree_cpu() -> float:
    """CPU seconds of this process, its descendants and the children they have reaped."""
    ticks = 0
    for pid in _tree():
        fields = _stat(pid)
        if fields:
            ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


class PeakMemory:
    """The largest :func:`tree_rss` seen while the ``with`` block runs."""

    def __enter__(self) -> PeakMemory:
        self.peak = tree_rss()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.025):
            self.peak = max(self.peak, tree_rss())

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss())


@dataclass
class Result:
    name: str
    workers: int
    seconds: float
    cpu: float
    peak: int
    before: int


def consume(rows: Iterator[Row]) -> int:
    """How many rows were prepared without error (each dropped once counted)."""
    good = 0
    for row in rows:
        if "error" in row:
            raise SystemExit(f"{row['input']}: {row['error']}")
        good += 1
    return good


def on_ray(cores: int, items: list[BatchInput], settings: BatchSettings) -> Callable[[], int]:
    """``prepare_on_ray`` on a local cluster of ``cores`` CPUs, its workers started."""
    import ray

    from claudevision.ray import prepare_on_ray

    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    consume(prepare_on_ray(items[:cores], settings=settings))
    return lambda: consume(prepare_on_ray(items, settings=settings))


def runner(kind: str, folder: Path) -> Callable[[], int]:
    """What one row runs, warmed up: ``naive``, ``ray`` or the number of workers."""
    paths = sorted(folder.glob("*.jpg"))
    items = batch_inputs([str(folder)], prompt="Write a one-line caption.")
    settings = BatchSettings(model=MODEL)
    if kind == "naive":
        naive_pillow(paths[0])  # codecs loaded before the clock, as for the others
        return lambda: len([naive_pillow(path) for path in paths])
    if kind == "ray":
        return on_ray(os.cpu_count() or 1, items, settings)
    consume(prepared_rows(items[:1], settings, workers=1))
    return lambda: consume(prepared_rows(items, settings, workers=int(kind)))


def measure_here(kind: str, folder: Path, repeat: int) -> None:
    """Run one row in this (fresh) process and print its figures as JSON."""
    run = runner(kind, folder)
    count = len(list(folder.glob("*.jpg")))
    times, cpu, peak, before = [], [], 0, tree_rss()
    for _ in range(repeat):
        with PeakMemory() as memory:
            start, used = time.perf_counter(), tree_cpu()
            done = run()
            times.append(time.perf_counter() - start)
            cpu.append(tree_cpu() - used)
        if done != count:
            raise SystemExit(f"{kind}: {done} of {count} images prepared")
        peak = max(peak, memory.peak)
    figures = {"seconds": statistics.median(times), "cpu": statistics.median(cpu)}
    print(json.dumps({**figures, "peak": peak, "before": before}))


def measure(name: str, kind: str, workers: int, folder: Path, repeat: int) -> Result:
    """One row, measured in a fresh interpreter (so memory and warm caches start equal)."""
    command = [sys.executable, __file__, "--row", kind, "--folder", str(folder)]
    done = subprocess.run([*command, "--repeat", str(repeat)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return Result(
        name, workers, figures["seconds"], figures["cpu"], figures["peak"], figures["before"]
    )


def run_all(folder: Path, repeat: int, use_ray: bool) -> list[Result]:
    cores = os.cpu_count() or 1
    results = [measure("naive (Pillow, one process)", "naive", 1, folder, repeat)]
    for workers in sorted({1, 2, cores}):
        label = "prepared_rows" + (" (all cores)" if workers == cores else "")
        results.append(measure(label, str(workers), workers, folder, repeat))
    if use_ray and _has_ray():
        results.append(measure("prepare_on_ray (local cluster)", "ray", cores, folder, repeat))
    return results


def _has_ray() -> bool:
    try:
        import claudevision.ray  # noqa: F401
    except MissingDependencyError as error:
        print(f"(no Ray row: {error})", file=sys.stderr)
        return False
    return True


def table(results: list[Result], count: int) -> str:
    naive = results[0].seconds
    one = next(r.seconds for r in results if r.name.startswith("prepared_rows") and r.workers == 1)
    lines = [
        "| preparer | workers | images/s | vs naive | vs 1 worker | CPU ms/image "
        "| peak RSS, tree (rise) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        memory = f"{r.peak / MiB:.0f} MiB (+{(r.peak - r.before) / MiB:.0f})" if r.peak else "n/a"
        vs_one = "" if r is results[0] else f"{one / r.seconds:.2f}x"
        lines.append(
            f"| {r.name} | {r.workers} | {count / r.seconds:.1f} | {naive / r.seconds:.2f}x "
            f"| {vs_one} | {1000 * r.cpu / count:.0f} | {memory} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-ray", action="store_true", help="leave out the Ray row")
    parser.add_argument("--row", help=argparse.SUPPRESS)  # one row, in a child process
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.row:
        measure_here(args.row, args.folder, args.repeat)
        return
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        paths = make_photos(Path(folder), args.count)
        size = sum(p.stat().st_size for p in paths) / MiB
        print(
            f"{args.count} photos of 4032x3024, {size:.0f} MiB in all, made in "
            f"{time.perf_counter() - start:.1f} s; {os.cpu_count()} cores; "
            f"median of {args.repeat} runs\n"
        )
        results = run_all(Path(folder), args.repeat, not args.no_ray)
    print(table(results, args.count))


if __name__ == "__main__":
    main()
