"""``claudevision.estimate`` on a folder of phone photos, against baselines in the same run.

    python benchmarks/bench_estimate.py [--count 200] [--repeat 5]

``--count`` twelve-megapixel JPEGs (4032x3024, photo-like, about 3 MB each; every third
stored sideways with EXIF orientation 6 and a GPS position, as phones write them) are
written to a temporary folder. Then, for a standard-tier model:

- ``read every file``: ``path.read_bytes()`` for each, the least any full preparation costs;
- ``Pillow headers``: ``Image.open(path).size`` for each (no orientation, so wrong tokens
  for a third of them);
- ``estimate``: ``claudevision.estimate(paths, model=...)`` (sizes, orientation, tokens, cost);
- ``prepare_many``: ``claudevision.prepare_many`` on the first 10 files, scaled to the count.

Times are the median of ``--repeat`` runs over warm files (the page cache holds them).
The estimate's tokens are checked against ``prepare_image`` on a sample of the files.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

import claudevision

MODEL = "claude-sonnet-4-6"
SIZE = (4032, 3024)


def photo(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : SIZE[1], 0 : SIZE[0]].astype(np.float32)
    red = 120 + 80 * np.sin(x / 97 + seed) * np.cos(y / 131)
    green = 110 + 90 * np.cos((x + y) / 173)
    blue = 100 + 70 * np.sin(x / 41 + y / 59)
    pixels = np.dstack([red, green, blue]) + rng.normal(0, 6, (SIZE[1], SIZE[0], 3))
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def exif(sideways: bool) -> bytes:
    tags = Image.Exif()
    tags[0x010F] = "Phone"
    if sideways:
        tags[0x0112] = 6
        gps = tags.get_ifd(0x8825)
        gps[1], gps[2] = "N", (51.0, 30.0, 26.0)
    return tags.tobytes()


def make_folder(folder: Path, count: int) -> list[Path]:
    """``count`` files from two encoded photos (encoding 200 would take minutes)."""
    encoded = {}
    for sideways in (False, True):
        path = folder / f"seed-{sideways}.jpg"
        photo(int(sideways)).save(path, "JPEG", quality=92, exif=exif(sideways))
        encoded[sideways] = path.read_bytes()
    paths = []
    for i in range(count):
        path = folder / f"IMG_{i:04d}.jpg"
        path.write_bytes(encoded[i % 3 == 0])
        paths.append(path)
    return paths


def timed(work: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_folder(Path(tmp), args.count)
        mb = sum(p.stat().st_size for p in paths) / 1e6
        found = claudevision.estimate(paths, model=MODEL)
        for path, one in list(zip(paths, found, strict=True))[:6]:
            prepared = claudevision.prepare_image(path, model=MODEL)
            assert (prepared.tokens, prepared.size) == (one.tokens, one.size), path
        sample = paths[:10]
        rows = [
            ("read every file", timed(lambda: [p.read_bytes() for p in paths], args.repeat)),
            ("Pillow headers", timed(lambda: [Image.open(p).size for p in paths], args.repeat)),
            ("estimate", timed(lambda: claudevision.estimate(paths, model=MODEL), args.repeat)),
            (
                "prepare_many (scaled)",
                timed(lambda: claudevision.prepare_many(sample, model=MODEL), 1)
                * len(paths)
                / len(sample),
            ),
        ]
        print(f"{args.count} JPEGs of {SIZE[0]}x{SIZE[1]} ({mb:.0f} MB), {MODEL}")
        print(f"estimate: {found.tokens:,} tokens, ${found.cost:.4f}")
        print()
        print(f"{'method':<24}{'seconds':>10}{'per image ms':>14}")
        print("-" * 48)
        for name, seconds in rows:
            print(f"{name:<24}{seconds:>10.3f}{seconds / len(paths) * 1000:>14.2f}")


if __name__ == "__main__":
    main()
