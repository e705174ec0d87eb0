"""Speed and memory of prepare_image against baselines measured in the same run.

    python benchmarks/bench_prepare.py [--repeat 7]

Images are generated into a temporary folder: a 12 MP phone JPEG stored sideways (EXIF
orientation 6), a 2880x1800 PNG screenshot, images that pass through unchanged (an 800x600
JPEG, a 1280x800 PNG, an 800x600 WebP, a 640x480 GIF: their cost is the proof that they
are whole, against the raw base64 of the file), and an 8000x2000 panorama. Each is
prepared for a standard-tier model (1568 px, 1568 tokens) by:

- ``b64 lower bound``: ``base64.b64encode(path.read_bytes())`` (no checks at all);
- ``naive Pillow``: open, exif_transpose, thumbnail to 1568, save, base64;
- ``claudevision``: ``prepare_image(path, model=...)``;
- ``libvips``: ``pyvips.Image.thumbnail_buffer`` + base64, where pyvips is installed.

Time is the median of ``--repeat`` runs; peak memory is the growth of the peak resident
set of a fresh process doing one run. A last table compares ``prepare_many`` with a loop.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import PIL
from PIL import Image, ImageDraw, ImageOps

import claudevision

MODEL = "claude-sonnet-4-6"
EDGE = claudevision.TIERS["standard"].max_edge


def photo_like(width: int, height: int, seed: int = 0) -> Image.Image:
    """Smooth shapes, texture and sensor-like noise: compresses like a photo, not like noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    red = 120 + 80 * np.sin(x / 97) * np.cos(y / 131)
    green = 110 + 90 * np.cos((x + y) / 173)
    blue = 100 + 70 * np.sin(x / 41 + y / 59)
    pixels = np.dstack([red, green, blue]) + rng.normal(0, 6, (height, width, 3))
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def screenshot(width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height), (246, 246, 248))
    draw = ImageDraw.Draw(image)
    for row in range(0, height, 36):
        draw.rectangle(
            [40, row + 6, width - 40, row + 28], fill=(255, 255, 255), outline=(220, 220, 225)
        )
        draw.text(
            (60, row + 10), f"Row {row // 36}: settings, values and labels " * 3, fill=(30, 30, 30)
        )
    draw.rectangle([0, 0, width, 64], fill=(40, 90, 200))
    return image


def make_images(folder: Path) -> dict[str, Path]:
    exif = Image.Exif()
    exif[0x0112] = 6
    paths = {
        "12 MP phone JPEG, EXIF 6": folder / "phone.jpg",
        "2880x1800 PNG screenshot": folder / "screen.png",
        "800x600 JPEG (passes)": folder / "small.jpg",
        "1280x800 PNG (passes)": folder / "small.png",
        "800x600 WebP (passes)": folder / "small.webp",
        "640x480 GIF (passes)": folder / "small.gif",
        "8000x2000 panorama JPEG": folder / "panorama.jpg",
    }
    photo_like(4032, 3024).save(paths["12 MP phone JPEG, EXIF 6"], quality=92, exif=exif)
    screenshot(2880, 1800).save(paths["2880x1800 PNG screenshot"])
    photo_like(800, 600, 1).save(paths["800x600 JPEG (passes)"], quality=85)
    screenshot(1280, 800).save(paths["1280x800 PNG (passes)"])
    photo_like(800, 600, 3).save(paths["800x600 WebP (passes)"], quality=80)
    screenshot(640, 480).convert("P").save(paths["640x480 GIF (passes)"])
    photo_like(8000, 2000, 2).save(paths["8000x2000 panorama JPEG"], quality=90)
    return paths


def lower_bound(path: Path) -> object:
    return base64.b64encode(path.read_bytes())


def naive_pillow(path: Path) -> object:
    opened = Image.open(path)
    image = ImageOps.exif_transpose(opened) or opened
    image.thumbnail((EDGE, EDGE))
    buffer = io.BytesIO()
    formats = {".jpg": "JPEG", ".webp": "WEBP", ".gif": "GIF"}
    image.save(buffer, formats.get(path.suffix, "PNG"))
    return base64.b64encode(buffer.getvalue())


def with_claudevision(path: Path) -> object:
    return claudevision.prepare_image(path, model=MODEL).block


def with_vips(path: Path) -> object:
    import pyvips

    thumb = pyvips.Image.thumbnail_buffer(path.read_bytes(), EDGE, height=EDGE)
    suffix = path.suffix if path.suffix in (".jpg", ".webp", ".gif") else ".png"
    return base64.b64encode(thumb.write_to_buffer(suffix))


METHODS: dict[str, Callable[[Path], object]] = {
    "b64 lower bound": lower_bound,
    "naive Pillow": naive_pillow,
    "claudevision": with_claudevision,
}
try:
    import pyvips  # noqa: F401

    METHODS["libvips"] = with_vips
except (ImportError, OSError):
    pass


def median_ms(func: Callable[[Path], object], path: Path, repeat: int) -> float:
    """Median time of one call, over ``repeat`` batches of calls lasting 50 ms or more each."""
    start = time.perf_counter()
    func(path)  # imports, then warm caches and the allocator for a quarter of a second
    once = time.perf_counter() - start
    while time.perf_counter() - start < 0.25:
        func(path)
    calls = max(1, int(0.05 / max(once, 1e-6)))
    batches = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            func(path)
        batches.append((time.perf_counter() - start) / calls)
    return statistics.median(batches) * 1000


def peak_mb(method: str, path: Path) -> float:
    """Growth of peak RSS over the process's RSS before the call, in a fresh process."""
    output = subprocess.run(
        [sys.executable, __file__, "--memory", method, str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(output.strip())


def measure_memory(method: str, path: Path) -> None:
    """Print how far the peak RSS (VmHWM, reset first) rose above the RSS before the call."""

    def status_kb(field: str) -> int:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise RuntimeError(f"no {field} in /proc/self/status")

    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # reset VmHWM to the current RSS
    before = status_kb("VmRSS")
    METHODS[method](path)
    print(f"{max(status_kb('VmHWM') - before, 0) / 1024:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--memory", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory:
        measure_memory(args.memory[0], Path(args.memory[1]))
        return

    with tempfile.TemporaryDirectory() as tmp:
        images = make_images(Path(tmp))
        print(
            f"claudevision {claudevision.__version__}, Pillow {PIL.__version__}, "
            f"{os.cpu_count()} cores, model {MODEL}, median of {args.repeat}\n"
        )
        header = (
            f"{'image':28} {'method':16} {'ms':>9} {'x lower':>8} {'x naive':>8} {'peak MB':>8}"
        )
        print(header)
        print("-" * len(header))
        for name, path in images.items():
            size_mb = path.stat().st_size / 1e6
            times = {method: median_ms(func, path, args.repeat) for method, func in METHODS.items()}
            for method, ms in times.items():
                print(
                    f"{name if method == 'b64 lower bound' else '':28} {method:16} {ms:9.2f} "
                    f"{ms / times['b64 lower bound']:8.2f} {ms / times['naive Pillow']:8.2f} "
                    f"{peak_mb(method, path):8.1f}"
                )
            prepared = claudevision.prepare_image(path, model=MODEL)
            print(
                f"{'':28} ({size_mb:.2f} MB in; claudevision sent {prepared.size}, "
                f"{len(prepared.data or b'') / 1e6:.2f} MB, unchanged={prepared.unchanged})"
            )
        print()

        batch = [images["12 MP phone JPEG, EXIF 6"]] * 8
        loop = median_ms(
            lambda _: [claudevision.prepare_image(p, model=MODEL) for p in batch], batch[0], 3
        )
        many = median_ms(lambda _: claudevision.prepare_many(batch, model=MODEL), batch[0], 3)
        print(
            f"8 phone JPEGs: loop of prepare_image {loop:.0f} ms, prepare_many {many:.0f} ms "
            f"({loop / many:.2f}x on {os.cpu_count()} cores)"
        )


if __name__ == "__main__":
    main()
