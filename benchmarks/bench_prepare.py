"""Speed and memory of claudevision against baselines measured in the same run, with goals.

    python benchmarks/bench_prepare.py [--repeat 7] [--backend pillow|libvips|all] [--detail]

Every row of the performance goals (issue 21) is measured here: the figure, the baseline
measured beside it, the goal, and pass or fail. Images are generated into a temporary
folder. Baselines:

- ``stdlib``: ``base64.b64decode(text, validate=True)`` of the same base64 text;
- ``naive``: ``ImageOps.exif_transpose(Image.open(p))``, ``thumbnail`` to the tier's
  1568 px, JPEG q85 or PNG, base64;
- ``libvips``: ``pyvips.Image.thumbnail_buffer`` plus its save and base64 (where pyvips
  is installed);
- ``floor``: for a JPEG that passes through, libjpeg-turbo's strict decode at 1/8 DCT
  scale (``simplejpeg``) plus the raw base64; for a GIF, Pillow's own decode of it;
- ``SDK alone``: the event loop's longest stall while the ``anthropic`` SDK sends the
  request claudevision rendered, against a local server in another process.

Time is the median of ``--repeat`` batches of calls lasting 50 ms or more each, after a
quarter of a second of warm-up. Peak memory is how far the peak resident set of a fresh
process rises during one call, after the same call on a 64x48 image of the same format
(so imports and codecs are loaded before). ``--detail`` adds the per-image table of every method.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import PIL
from PIL import Image, ImageDraw, ImageOps

import claudevision

MODEL = "claude-sonnet-4-6"
EDGE = claudevision.TIERS["standard"].max_edge
MiB = 1024 * 1024


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


IMAGES = {
    "phone": "12 MP phone JPEG",
    "phone6": "12 MP q95 JPEG, EXIF 6",
    "screen": "2880x1800 PNG screenshot",
    "jpeg": "800x600 JPEG (passes)",
    "png": "1280x800 PNG (passes)",
    "webp": "800x600 WebP (passes)",
    "gif": "640x480 GIF (passes)",
    "panorama": "8000x2000 panorama JPEG",
    "bomb": "8000x8000 RGBA PNG bomb",
}


def make_images(folder: Path) -> dict[str, Path]:
    exif = Image.Exif()
    exif[0x0112] = 6
    paths = {
        "phone": folder / "phone.jpg",
        "phone6": folder / "phone6.jpg",
        "screen": folder / "screen.png",
        "jpeg": folder / "small.jpg",
        "png": folder / "small.png",
        "webp": folder / "small.webp",
        "gif": folder / "small.gif",
        "panorama": folder / "panorama.jpg",
        "bomb": folder / "bomb.png",
    }
    photo = photo_like(4032, 3024)
    photo.save(paths["phone"], quality=92)
    photo.save(paths["phone6"], quality=95, exif=exif)
    screenshot(2880, 1800).save(paths["screen"])
    photo_like(800, 600, 1).save(paths["jpeg"], quality=85)
    screenshot(1280, 800).save(paths["png"])
    photo_like(800, 600, 3).save(paths["webp"], quality=80)
    screenshot(640, 480).convert("P").save(paths["gif"])
    photo_like(8000, 2000, 2).save(paths["panorama"], quality=90)
    Image.new("RGBA", (8000, 8000), (10, 20, 30, 255)).save(paths["bomb"], compress_level=9)
    return paths


# -- the methods ------------------------------------------------------------------------


def lower_bound(path: Path) -> object:
    return base64.b64encode(path.read_bytes())


def naive_pillow(path: Path) -> object:
    opened = Image.open(path)
    image = ImageOps.exif_transpose(opened) or opened
    image.thumbnail((EDGE, EDGE))
    buffer = io.BytesIO()
    formats = {".jpg": "JPEG", ".webp": "WEBP", ".gif": "GIF"}
    if path.suffix == ".jpg":
        image.save(buffer, "JPEG", quality=85)
    else:
        image.save(buffer, formats.get(path.suffix, "PNG"))
    return base64.b64encode(buffer.getvalue())


def with_claudevision(path: Path) -> object:
    return claudevision.prepare_image(path, model=MODEL).block


def with_vips(path: Path) -> object:
    import pyvips

    thumb = pyvips.Image.thumbnail_buffer(path.read_bytes(), EDGE, height=EDGE)
    suffix = path.suffix if path.suffix in (".jpg", ".webp", ".gif") else ".png"
    return base64.b64encode(thumb.write_to_buffer(suffix))


def jpeg_floor(path: Path) -> object:
    import simplejpeg

    data = path.read_bytes()
    simplejpeg.decode_jpeg(data, fastdct=True, min_factor=8, strict=True)
    return base64.b64encode(data)


def pillow_decode(path: Path) -> object:
    with Image.open(path) as image:
        image.load()
        return image.size


def many_photos(path: Path) -> object:
    return claudevision.prepare_many([path] * 16, model=MODEL)


METHODS: dict[str, Callable[[Path], object]] = {
    "b64 lower bound": lower_bound,
    "naive Pillow": naive_pillow,
    "claudevision": with_claudevision,
    "jpeg floor": jpeg_floor,
    "pillow decode": pillow_decode,
    "prepare_many 16": many_photos,
}
try:
    import pyvips  # noqa: F401

    METHODS["libvips"] = with_vips
except (ImportError, OSError):
    pass


def median_ms(func: Callable[[], object], repeat: int) -> float:
    """Median time of one call, over ``repeat`` batches of calls lasting 50 ms or more each."""
    start = time.perf_counter()
    func()  # imports, then warm caches and the allocator for a quarter of a second
    once = time.perf_counter() - start
    while time.perf_counter() - start < 0.25:
        func()
    calls = max(1, int(0.05 / max(once, 1e-6)))
    batches = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            func()
        batches.append((time.perf_counter() - start) / calls)
    return statistics.median(batches) * 1000


def peak_mib(method: str, path: Path) -> float:
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

    with tempfile.TemporaryDirectory() as tmp:  # imports and codecs loaded beforehand
        small = Path(tmp) / f"warm{path.suffix}"
        Image.open(path).convert("RGB").resize((64, 48)).save(small)
        METHODS[method](small)
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # reset VmHWM to the current RSS
    before = status_kb("VmRSS")
    METHODS[method](path)
    print(f"{max(status_kb('VmHWM') - before, 0) / 1024:.1f}")


# -- the goals --------------------------------------------------------------------------


@dataclass
class Row:
    work: str
    figure: str
    baseline: str
    goal: str
    passed: bool | None  # None: not measurable here


def ratio_row(
    work: str, unit: str, figure: float, base_name: str, base: float, goal: str, passed: bool | None
) -> Row:
    return Row(
        work,
        f"{figure:.2f} {unit}",
        f"{base_name} {base:.2f} {unit} ({figure / base:.2f}x)",
        goal,
        passed,
    )


def base64_rows(repeat: int) -> list[Row]:
    raw = np.random.default_rng(5).bytes(5_000_000)
    text = base64.b64encode(raw).decode()
    url = "data:image/jpeg;base64," + text
    mime = base64.encodebytes(raw).decode()
    stdlib = median_ms(lambda: base64.b64decode(text, validate=True), repeat)
    rows = []
    for name, given in (("base64", text), ("data URL", url), ("MIME lines", mime)):
        ms = median_ms(lambda given=given: claudevision.decode_base64(given), repeat)  # type: ignore[misc]
        rows.append(
            ratio_row(
                f"5 MB {name} string to bytes",
                "ms",
                ms,
                "stdlib",
                stdlib,
                "<= 1.1x stdlib",
                ms <= 1.1 * stdlib,
            )
        )
    return rows


def time_rows(paths: dict[str, Path], repeat: int, backend: str) -> list[Row]:
    vips = "libvips" in METHODS
    rows = []

    def ms(method: str, key: str) -> float:
        func = METHODS[method]
        return median_ms(lambda: func(paths[key]), repeat)

    ours = ms("claudevision", "jpeg")
    floor = ms("jpeg floor", "jpeg")
    rows.append(
        ratio_row(
            IMAGES["jpeg"] + ", proof included",
            "ms",
            ours,
            "floor",
            floor,
            "<= 1.15x floor",
            ours <= 1.15 * floor,
        )
    )
    ours, pillow = ms("claudevision", "gif"), ms("pillow decode", "gif")
    rows.append(
        ratio_row(
            IMAGES["gif"] + ", proof included",
            "ms",
            ours,
            "Pillow decode",
            pillow,
            "<= 1.5x Pillow decode",
            ours <= 1.5 * pillow,
        )
    )
    for key, naive_goal, vips_goal in (
        ("phone", 4.0, 0.7),
        ("phone6", None, 0.7),
        ("screen", 2.0, 1.2),
    ):
        ours, naive = ms("claudevision", key), ms("naive Pillow", key)
        if naive_goal is not None:
            need = naive_goal if backend == "pillow" or key != "screen" else None
            rows.append(
                Row(
                    IMAGES[key] + " to model size",
                    f"{ours:.1f} ms",
                    f"naive {naive:.1f} ms ({naive / ours:.2f}x faster)",
                    f">= {naive_goal}x naive" + (" (Pillow)" if key == "screen" else ""),
                    None if need is None else naive / ours >= need,
                )
            )
        if vips:
            lib = ms("libvips", key)
            applies = key != "screen" or backend == "libvips"
            rows.append(
                ratio_row(
                    IMAGES[key] + " to model size",
                    "ms",
                    ours,
                    "libvips",
                    lib,
                    f"<= {vips_goal}x libvips" + ("" if key != "screen" else " (libvips backend)"),
                    ours <= vips_goal * lib if applies else None,
                )
            )
    return rows


def memory_rows(paths: dict[str, Path]) -> list[Row]:
    screen = paths["screen"]
    ours, naive = peak_mib("claudevision", screen), peak_mib("naive Pillow", screen)
    rows = [
        Row(
            "peak memory, " + IMAGES["screen"],
            f"{ours:.0f} MiB",
            f"naive {naive:.0f} MiB ({ours / max(naive, 0.1):.2f} of it)",
            "<= 1/3 of naive",
            ours <= naive / 3,
        )
    ]
    bomb = paths["bomb"]
    ours = peak_mib("claudevision", bomb)
    naive = peak_mib("naive Pillow", bomb)
    rows.append(
        Row(
            f"peak memory, {IMAGES['bomb']} ({bomb.stat().st_size / 1000:.0f} KB)",
            f"{ours:.0f} MiB",
            f"naive {naive:.0f} MiB",
            "<= 150 MiB",
            ours <= 150,
        )
    )
    return rows


def many_rows(paths: dict[str, Path], repeat: int) -> list[Row]:
    photo = paths["phone"]
    batch = [photo] * 16
    cores = os.cpu_count() or 1
    loop = median_ms(lambda: [claudevision.prepare_image(p, model=MODEL) for p in batch], repeat)
    many = median_ms(lambda: claudevision.prepare_many(batch, model=MODEL), repeat)
    one = peak_mib("claudevision", photo)
    peak = peak_mib("prepare_many 16", photo)
    output = sum(len(p.data or b"") for p in claudevision.prepare_many(batch, model=MODEL)) / MiB
    workers = min(16, cores)
    bound = (workers + 1) * one + output
    return [
        Row(
            f"prepare_many, 16 photos, {workers} workers",
            f"{many:.0f} ms ({loop / many:.2f}x a loop)",
            f"loop {loop:.0f} ms",
            f">= {0.7 * cores:.1f}x (0.7 x {cores} cores)",
            loop / many >= 0.7 * cores,
        ),
        Row(
            "prepare_many peak memory",
            f"{peak:.0f} MiB",
            f"one photo {one:.0f} MiB, outputs {output:.1f} MiB",
            f"<= {bound:.0f} MiB ((workers + 1) x one + outputs)",
            peak <= bound,
        ),
    ]


def import_row() -> Row:
    timed = "import time; t = time.perf_counter(); import {}; print(time.perf_counter() - t)"
    code, bare = timed.format("claudevision"), timed.format("pydantic.main, PIL.Image")

    def fresh(source: str) -> float:
        runs = [
            float(
                subprocess.run(
                    [sys.executable, "-c", source], check=True, capture_output=True, text=True
                ).stdout
            )
            for _ in range(5)
        ]
        return statistics.median(runs) * 1000

    ours, base = fresh(code), fresh(bare)
    return Row(
        "import claudevision",
        f"{ours:.0f} ms",
        f"pydantic + Pillow {base:.0f} ms",
        "<= 200 ms",
        ours <= 200,
    )


def stall_rows(paths: dict[str, Path]) -> list[Row]:
    """The event loop's longest stall while aask sends 8 data-URL 12 MP photos."""
    import anthropic

    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\nfrom claudevision.testing import ClaudeServer\n"
            "server = ClaudeServer().start()\nprint(server.url, flush=True)\nsys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    url = server.stdout.readline().strip()
    text = base64.b64encode(paths["phone"].read_bytes()).decode()
    photos = ["data:image/jpeg;base64," + text] * 8

    async def longest_stall(work: Callable[[], Any]) -> float:
        gaps: list[float] = []
        done = False

        async def beat() -> None:
            while not done:
                start = time.perf_counter()
                await asyncio.sleep(0.001)
                gaps.append(time.perf_counter() - start - 0.001)

        task = asyncio.create_task(beat())
        await asyncio.sleep(0.02)
        gaps.clear()
        await work()
        done = True
        await task
        return max(gaps) * 1000

    async def measure() -> tuple[float, float]:
        client = anthropic.AsyncAnthropic(base_url=url, api_key="local", max_retries=0)
        vision = claudevision.AsyncVision(client, model=MODEL)
        rendered = await vision.render(vision.request([vision.message("What is it?", *photos)]))
        sdk, ours = [], []
        for _ in range(5):
            sdk.append(await longest_stall(lambda: client.messages.create(**rendered.kwargs)))
            ours.append(await longest_stall(lambda: vision.ask("What is it?", *photos)))
        await client.close()
        return statistics.median(ours), statistics.median(sdk)

    try:
        ours, sdk = asyncio.run(measure())
    finally:
        server.stdin.close()
        server.wait()
    return [
        Row(
            "event-loop stall, aask of 8 data-URL 12 MP photos",
            f"{ours:.1f} ms",
            f"SDK alone {sdk:.1f} ms",
            "<= SDK alone + 3 ms",
            ours <= sdk + 3,
        )
    ]


def goal_table(paths: dict[str, Path], repeat: int, backend: str) -> list[Row]:
    rows = base64_rows(repeat)
    rows += stall_rows(paths)
    rows += time_rows(paths, repeat, backend)
    rows += memory_rows(paths)
    rows += many_rows(paths, max(3, repeat // 2))
    rows.append(import_row())
    return rows


def print_rows(rows: list[Row], backend: str) -> None:
    print(f"\nbackend: {backend}\n")
    print("| work | figure | baseline (same run) | goal | result |")
    print("|---|---:|---|---|---|")
    for row in rows:
        result = "n/a" if row.passed is None else "pass" if row.passed else "FAIL"
        print(f"| {row.work} | {row.figure} | {row.baseline} | {row.goal} | {result} |")


def detail_table(paths: dict[str, Path], repeat: int) -> None:
    methods = ["b64 lower bound", "naive Pillow", "claudevision"] + (
        ["libvips"] if "libvips" in METHODS else []
    )
    header = f"{'image':28} {'method':16} {'ms':>9} {'x lower':>8} {'x naive':>8} {'peak MiB':>8}"
    print("\n" + header + "\n" + "-" * len(header))
    for key, path in paths.items():
        if key == "bomb":
            continue
        times = {m: median_ms(lambda m=m, p=path: METHODS[m](p), repeat) for m in methods}  # type: ignore[misc]
        for method, ms in times.items():
            print(
                f"{IMAGES[key] if method == methods[0] else '':28} {method:16} {ms:9.2f} "
                f"{ms / times['b64 lower bound']:8.2f} {ms / times['naive Pillow']:8.2f} "
                f"{peak_mib(method, path):8.1f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--backend", default=None, help="pillow, libvips or all (default: all)")
    parser.add_argument("--detail", action="store_true", help="add the per-image table")
    parser.add_argument("--memory", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory:
        measure_memory(args.memory[0], Path(args.memory[1]))
        return
    if args.backend not in (None, "all"):  # measured in this process and its children
        os.environ["CLAUDEVISION_BACKEND"] = args.backend
    backend = os.environ.get("CLAUDEVISION_BACKEND", "pillow")
    if args.backend in (None, "all"):
        for name in available_backends():
            subprocess.run(
                [sys.executable, __file__, "--repeat", str(args.repeat), "--backend", name]
                + (["--detail"] if args.detail else []),
                check=True,
                env={**os.environ, "CLAUDEVISION_BACKEND": name},
            )
        return
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_images(Path(tmp))
        print(
            f"claudevision {claudevision.__version__}, Pillow {PIL.__version__}, "
            f"{os.cpu_count()} cores, model {MODEL}, median of {args.repeat}"
        )
        print_rows(goal_table(paths, args.repeat, backend), backend)
        if args.detail:
            detail_table(paths, args.repeat)


def available_backends() -> list[str]:
    """The backends claudevision can use here (libvips where pyvips is installed)."""
    names = ["pillow"]
    try:
        from claudevision._prepare import backend  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return names
    return [name for name in backend.BACKENDS if backend.available(name)] or names


if __name__ == "__main__":
    main()
