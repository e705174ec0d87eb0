"""Issue 9: inputs a hostile user tried, each asserting the behaviour the issue asks for.

Every error must be a ``claudevision.ClaudeVisionError`` of the right class whose message
names the input and says what to do; every picture sent must be the right one. Cases
that could hang or eat memory run in a child process with a memory limit and a
deadline; memory is measured there (peak RSS growth). Builders are in ``hostile.py``.
"""

from __future__ import annotations

import base64
import builtins
import io
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pytest
from PIL import EpsImagePlugin, Image, features

import claudevision as cv
from claudevision import prepare_image

from . import hostile as h
from .conftest import jpeg
from .hostile import BLUE, HIGH, RED, STANDARD, WHITE, new_api

MiB = 1024 * 1024
GiB = 1024 * MiB
ADVICE = re.compile(
    r"\b(pass|convert|check|use|install|pip|open|export|shrink|raise|lower|increase|report|"
    r"re-?save|save|rasteri[sz]e|encode|decode|send|try|remove|set|split|fix|repair|allow)\b",
    re.IGNORECASE,
)
DAMNING = re.compile(r"damaged|corrupt", re.IGNORECASE)
MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


# -- helpers -----------------------------------------------------------------------------


def prepare_with(image: object, **options: Any) -> cv.PreparedImage:
    """``prepare_image`` of inputs outside its declared types, or with options issue 9
    adds (``bounds=``, ``paths=``)."""
    prepare = cast(Any, prepare_image)
    return cast(cv.PreparedImage, prepare(image, **options))


def label_of(data: bytes) -> str:
    return f"bytes ({len(data)} bytes)"


def expect_error(
    call: Callable[[], object],
    expected: type[BaseException] | tuple[type[BaseException], ...],
    *,
    names: str | None,
    advice: bool = True,
) -> cv.ClaudeVisionError:
    """The ClaudeVisionError ``call`` raises, checked: its class, the input named, advice."""
    error: BaseException | None = None
    try:
        call()
    except Exception as exc:
        error = exc
    if error is None:
        pytest.fail("no error was raised")
    if not isinstance(error, cv.ClaudeVisionError):
        pytest.fail(f"{type(error).__name__} escaped instead of a claudevision error: {error}")
    message = str(error)
    assert isinstance(error, expected), f"{type(error).__name__}: {message}"
    if names is not None:
        assert names in message, f"the message does not name the input ({names}): {message}"
    if advice:
        assert ADVICE.search(message), f"the message says nothing to do: {message}"
    return error


def decoded(result: cv.PreparedImage) -> Image.Image:
    """What is sent, decoded; its format must be the media type and its size the size."""
    assert result.data is not None
    source: Any = result.block["source"]
    assert base64.b64decode(source["data"]) == result.data
    image = Image.open(io.BytesIO(result.data))
    image.load()
    assert MEDIA_TYPES.get(image.format or "") == result.media_type, (
        f"sent {image.format} data as {result.media_type}"
    )
    assert image.size == result.size
    return image


def near(pixel: tuple[int, ...], color: tuple[int, int, int], tolerance: int = 48) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], color, strict=True))


def middle_color(image: Image.Image) -> tuple[int, ...]:
    rgb = image.convert("RGB")
    return cast(tuple[int, ...], rgb.getpixel((rgb.width // 2, rgb.height // 2)))


def corners(image: Image.Image) -> tuple[str, ...]:
    """Which marker colour each corner holds: top-left, top-right, bottom-left, -right."""
    rgb = image.convert("RGB")
    w, h_ = rgb.size
    names = []
    for x, y in ((1, 1), (w - 2, 1), (1, h_ - 2), (w - 2, h_ - 2)):
        pixel = cast(tuple[int, int, int], rgb.getpixel((x, y)))
        names.append(
            min(
                (("red", RED), ("blue", BLUE), ("white", WHITE)),
                key=lambda item: sum((a - b) ** 2 for a, b in zip(pixel, item[1], strict=True)),
            )[0]
        )
    return tuple(names)


def assert_ramp(image: Image.Image) -> None:
    """A left-to-right ramp that shows: dark left, bright right, a real range between."""
    grey = np.asarray(image.convert("L"), dtype=float)
    columns = grey.mean(axis=0)
    low, high = float(grey.min()), float(grey.max())
    assert high - low >= 128, f"the ramp is flattened to {low:.0f}..{high:.0f} of 0..255"
    assert columns[-1] - columns[0] >= 128, "the ramp does not rise from left to right"
    assert float((grey >= 254).mean()) < 0.5, "the picture is mostly white"
    assert float((grey <= 1).mean()) < 0.5, "the picture is mostly black"


def frame_one_or_corrupt(data: bytes, color: tuple[int, int, int]) -> None:
    """A damaged later frame: send the intact first frame, or say the file is damaged."""
    error: BaseException | None = None
    try:
        result = prepare_image(data, model=STANDARD)
    except Exception as exc:
        error = exc
    if error is not None and not isinstance(error, cv.ClaudeVisionError):
        pytest.fail(f"{type(error).__name__} escaped instead of a claudevision error: {error}")
    if error is not None:
        message = str(error)
        assert isinstance(error, cv.CorruptImageError), f"{type(error).__name__}: {message}"
        assert label_of(data) in message and ADVICE.search(message), message
    else:
        assert near(middle_color(decoded(result)), color), "not the first frame"


def pillow_warnings(call: Callable[[], object]) -> list[str]:
    """Warnings ``call`` lets escape (its claudevision errors are allowed)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with suppress(cv.ClaudeVisionError):
            call()
    return [f"{w.category.__name__}: {w.message}" for w in caught]


# -- a forked child for what may hang or eat memory -------------------------------------


class _Hung(BaseException):
    """Raised in the child when a case runs past its alarm."""


def _on_alarm(signum: int, frame: object) -> None:
    raise _Hung()


def _maxrss() -> int:
    import resource  # POSIX only, like os.fork

    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value if sys.platform == "darwin" else value * 1024  # KiB on Linux


def _run_case(
    call: Callable[[], object], alarm: int, headroom: int, report: Callable[[], object] | None
) -> dict[str, Any]:
    try:
        with open("/proc/self/status") as file:
            size = re.search(r"VmSize:\s+(\d+) kB", file.read())
    except OSError:
        size = None  # no /proc (macOS): no memory limit, the alarm still holds
    if size is not None:
        import resource

        limit = int(size.group(1)) * 1024 + headroom
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    signal.signal(signal.SIGALRM, _on_alarm)
    outcome: dict[str, Any] = {}
    before = _maxrss()
    signal.alarm(alarm)
    try:
        try:
            call()
            outcome["ok"] = True
        finally:
            signal.alarm(0)
    except _Hung:
        outcome["hung"] = True
    except BaseException as exc:
        outcome["error"] = type(exc).__name__
        outcome["mro"] = [kind.__name__ for kind in type(exc).__mro__]
        outcome["message"] = str(exc)[:2000]
    outcome["growth"] = _maxrss() - before
    outcome["report"] = report() if report is not None else None
    return outcome


def isolated(
    call: Callable[[], object],
    *,
    alarm: int = 3,
    headroom: int = GiB,
    report: Callable[[], object] | None = None,
    deadline: float = 15,
) -> dict[str, Any]:
    """Run ``call`` in a forked child under a memory limit and an alarm; what happened.

    The outcome holds ``ok``, or ``hung`` (past ``alarm`` seconds), or ``error``, ``mro``
    and ``message``; ``growth`` is the child's peak RSS growth (ru_maxrss) in bytes and
    ``report`` what ``report()`` returned afterwards. A child that does not answer by
    ``deadline`` is killed.
    """
    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # forking with threads alive
        pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read_end)
            try:
                answer = json.dumps(_run_case(call, alarm, headroom, report), default=repr)
            except BaseException as exc:
                answer = json.dumps({"crash": f"{type(exc).__name__}: {exc}"})
            view = memoryview(answer.encode())
            while view:
                view = view[os.write(write_end, view) :]
        finally:
            os._exit(0)
    os.close(write_end)
    chunks = []
    until = time.monotonic() + deadline
    answered = False
    try:
        while (remaining := until - time.monotonic()) > 0:
            if select.select([read_end], [], [], remaining)[0]:
                chunk = os.read(read_end, 1 << 16)
                if not chunk:
                    answered = True
                    break
                chunks.append(chunk)
    finally:
        os.close(read_end)
        if not answered:  # past the deadline, or pytest's own timeout: end it
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    if not answered:
        return {"killed": True, "growth": None}
    outcome: dict[str, Any] = json.loads(b"".join(chunks) or b'{"crash": "no answer"}')
    assert "crash" not in outcome, outcome["crash"]
    return outcome


def describe(outcome: dict[str, Any]) -> str:
    if outcome.get("killed"):
        return "the child was killed: it did not even answer its alarm"
    if outcome.get("hung"):
        return "still running at its alarm"
    if outcome.get("ok"):
        return "no error"
    if outcome["error"] == "MemoryError":
        return f"MemoryError: the child's memory limit was hit ({outcome['growth'] // MiB} MiB)"
    return f"{outcome['error']}: {outcome['message']}"


# == crashes instead of claudevision errors ===============================================


@pytest.mark.parametrize("kind", ["bad-entry-types", "unknown-compression", "unknown-photometric"])
def test_damaged_multiframe_tiff(kind: h.DamagedTiff) -> None:
    frame_one_or_corrupt(h.damaged_multiframe_tiff(kind), RED)


@pytest.mark.parametrize(
    "kind", ["missing-local-palette", "truncated-extension", "truncated-descriptor"]
)
def test_damaged_multiframe_gif(kind: h.DamagedGif) -> None:
    frame_one_or_corrupt(h.damaged_multiframe_gif(kind), RED)


@pytest.mark.skipif(not features.check("avif"), reason="Pillow is built without AVIF")
def test_damaged_avif_is_corrupt() -> None:
    data = h.damaged_avif()
    expect_error(lambda: prepare_image(data), cv.CorruptImageError, names=label_of(data))


def test_damaged_heic_is_corrupt() -> None:
    data = h.damaged_heic()
    expect_error(lambda: prepare_image(data), cv.CorruptImageError, names=label_of(data))


def test_layered_psd_sends_the_composite() -> None:
    result = prepare_image(h.psd(layers=2), model=STANDARD)
    assert near(middle_color(decoded(result)), RED)


def test_psd_with_a_damaged_layer_block() -> None:
    frame_one_or_corrupt(h.psd(layers=3, damaged=True), RED)


def test_dds_with_an_unsupported_pixel_format() -> None:
    data = h.dds_unsupported_pixel_format()
    error = expect_error(
        lambda: prepare_image(data), cv.UnsupportedFormatError, names=label_of(data)
    )
    assert not DAMNING.search(str(error))


def test_icns_holding_a_decompression_bomb() -> None:
    data = h.icns_bomb()
    expect_error(lambda: prepare_image(data), cv.ImageTooLargeError, names=label_of(data))


@pytest.mark.parametrize(
    "build",
    [
        h.zero_height_png,
        lambda: h.zero_height_png(5000),  # wide enough to be resized: ZeroDivisionError
        h.zero_height_gif,
        h.zero_height_webp,
    ],
    ids=["png-16x0", "png-5000x0", "gif-16x0", "webp-16x0"],
)
def test_zero_sized_image_is_refused(build: Callable[[], bytes]) -> None:
    data = build()
    expect_error(
        lambda: prepare_image(data, model=STANDARD),
        (cv.CorruptImageError, cv.EmptyImageError),
        names=label_of(data),
    )


def test_truncated_webp_header_is_corrupt() -> None:
    data = h.truncated_webp()
    expect_error(lambda: prepare_image(data), cv.CorruptImageError, names=label_of(data))


@pytest.mark.parametrize("insert", [False, True], ids=["replacing", "inserted"])
def test_non_ascii_data_url_names_the_character(insert: bool) -> None:
    text = h.non_ascii_data_url(insert=insert)
    error = expect_error(lambda: prepare_image(text), cv.InvalidBase64Error, names="data:image")
    assert "ü" in str(error) or "\\xfc" in str(error), str(error)
    assert "cut short" not in str(error)


@pytest.mark.parametrize("kind", [str, Path], ids=["str", "Path"])
def test_unknown_user_home(kind: Callable[[str], object]) -> None:
    expect_error(
        lambda: prepare_with(kind("~nosuchuser/x.png")),
        cv.ImageNotFoundError,
        names="~nosuchuser/x.png",
    )


@pytest.mark.parametrize("text", ["a\x00b.png", "\ud800.png"], ids=["null-byte", "surrogate"])
@pytest.mark.parametrize("kind", [str, Path], ids=["str", "Path"])
def test_impossible_path_characters(text: str, kind: Callable[[str], object]) -> None:
    expect_error(lambda: prepare_with(kind(text)), cv.ImageInputError, names=repr(text)[1:-1])


def test_text_mode_file_object(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(h.encode(h.solid(RED, (8, 8)), "PNG"))
    with path.open(encoding="utf-8") as file:
        error = expect_error(lambda: prepare_with(file), cv.ImageInputError, names="photo.png")
    assert "'rb'" in str(error) or "binary" in str(error), str(error)


@pytest.mark.parametrize("kind", ["open file", "BytesIO"])
def test_closed_file_object(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(h.encode(h.solid(RED, (8, 8)), "PNG"))
    file: io.IOBase = path.open("rb") if kind == "open file" else io.BytesIO(path.read_bytes())
    file.close()
    names = "photo.png" if kind == "open file" else "BytesIO"
    error = expect_error(lambda: prepare_with(file), cv.ImageInputError, names=names)
    assert "closed" in str(error), str(error)


# == wrong pictures, silently ============================================================


def test_tiff_orientation_is_applied_once() -> None:
    data, upright = h.tiff_with_orientation(6)
    result = prepare_image(data, model=STANDARD)
    image = decoded(result)
    assert image.size == upright.size == result.original_size
    assert corners(image) == corners(upright), "the TIFF came out turned the wrong way"


@pytest.mark.parametrize(("low", "high"), [(0.0, 1.0), (0.0, 65535.0), (-1.0, 1.0)])
@pytest.mark.parametrize("kind", ["TIFF bytes", "PIL image"])
def test_float_image_shows_its_range(kind: str, low: float, high: float) -> None:
    image: object = h.float_tiff(low, high) if kind == "TIFF bytes" else h.float_image(low, high)
    assert_ramp(decoded(prepare_with(image, model=STANDARD)))


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_twelve_bit_data_in_sixteen_bits_is_not_black(fmt: Literal["PNG", "TIFF"]) -> None:
    data = h.twelve_bit_in_sixteen(fmt)
    assert_ramp(decoded(prepare_image(data, model=STANDARD)))


def test_multi_image_heic_sends_the_primary_image() -> None:
    result = prepare_image(h.multi_image_heic(), model=STANDARD)
    assert near(middle_color(decoded(result)), BLUE), "sent the first image, not the primary"


def test_mpo_sends_only_the_first_picture() -> None:
    data = h.mpo()
    assert Image.open(io.BytesIO(data)).format == "MPO"
    result = prepare_image(data, model=STANDARD)
    image = decoded(result)  # a plain JPEG, not an MPO
    assert getattr(image, "n_frames", 1) == 1
    assert result.data is not None and result.data.find(b"\xff\xd8\xff", 2) == -1, (
        "a second picture is appended after the first"
    )
    assert near(middle_color(image), RED)


@pytest.mark.parametrize(
    "build",
    [
        h.bmp_over_bomb_warning,
        h.palette_png_with_bytes_transparency,
        h.jpeg_with_truncated_exif,
    ],
    ids=["DecompressionBombWarning", "palette-transparency-bytes", "corrupt-exif"],
)
def test_pillow_warnings_do_not_escape(build: Callable[[], bytes]) -> None:
    data = build()
    assert pillow_warnings(lambda: prepare_image(data, model=STANDARD)) == []


# == misleading errors ===================================================================


@pytest.mark.skipif(
    bool(EpsImagePlugin.has_ghostscript()), reason="Ghostscript is installed: EPS can be read"
)
def test_eps_without_ghostscript_is_a_missing_dependency() -> None:
    data = h.eps()
    error = expect_error(
        lambda: prepare_image(data), cv.UnsupportedFormatError, names=label_of(data)
    )
    message = str(error)
    assert not DAMNING.search(message), message
    assert "Ghostscript" in message or "install" in message.lower(), message
    assert isinstance(error, new_api("MissingDependencyError"))


def test_tiff_with_unsupported_compression_is_not_called_damaged() -> None:
    if h.libtiff_has_webp():
        pytest.skip("this libtiff decodes WebP-compressed TIFF")
    data = h.tiff_unsupported_compression()
    error = expect_error(
        lambda: prepare_image(data), cv.UnsupportedFormatError, names=label_of(data)
    )
    assert not DAMNING.search(str(error)), str(error)


@pytest.mark.parametrize("data", [h.XML_PLIST, h.XHTML], ids=["plist", "xhtml"])
@pytest.mark.parametrize("kind", ["bytes", "str"])
def test_xml_that_is_not_svg_is_not_called_svg(data: bytes, kind: str) -> None:
    value: object = data if kind == "bytes" else data.decode()
    expected = cv.NotAnImageError if kind == "bytes" else cv.ImageInputError
    names = label_of(data) if kind == "bytes" else "<?xml"
    error = expect_error(lambda: prepare_with(value), expected, names=names)
    assert "SVG" not in str(error), str(error)


def test_ten_bit_heif_is_an_image() -> None:
    data = h.heif_10bit()
    assert data[8:12] == b"heix"
    error: cv.ClaudeVisionError | None = None
    try:
        result = prepare_image(data, model=STANDARD)
    except cv.ClaudeVisionError as exc:
        error = exc
    if error is not None:
        assert isinstance(error, cv.UnsupportedFormatError), f"{type(error).__name__}: {error}"
    else:
        assert_ramp(decoded(result))


def test_one_bad_character_in_long_base64_is_named() -> None:
    text, bad, position = h.long_base64_with_bad_char()
    error = expect_error(lambda: prepare_image(text), cv.InvalidBase64Error, names=text[:10])
    message = str(error)
    assert repr(bad) in message and str(position) in message, message
    assert "cut short" not in message, message


# == inputs used up or changed ===========================================================


@pytest.mark.parametrize("kind", ["BytesIO", "open file"])
def test_file_object_can_be_prepared_again(tmp_path: Path, kind: str) -> None:
    data = jpeg(800, 600)
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    with io.BytesIO(data) if kind == "BytesIO" else path.open("rb") as file:
        message = cv.ImageMessage("x", file, model=HIGH)
        (anthropic,) = message.prepare(platform="anthropic")
        (bedrock,) = message.prepare(platform="bedrock")
    assert isinstance(anthropic, cv.PreparedImage) and isinstance(bedrock, cv.PreparedImage)
    assert decoded(anthropic).size == decoded(bedrock).size == (800, 600)


def test_read_image_can_be_prepared_again_and_again() -> None:
    read_image = new_api("read_image")
    data = h.encode(h.noisy_picture(320, 240), "JPEG", quality=90)
    value = read_image(io.BytesIO(data))
    large = prepare_image(value, model=STANDARD, max_bytes=40_000)
    small = prepare_image(value, model=STANDARD, max_bytes=16_000)
    assert large.base64_size <= 40_000 and small.base64_size <= 16_000
    assert large.data != small.data
    assert decoded(large).size[0] > 0 and decoded(small).size[0] > 0


def test_lazy_jpeg_is_left_unchanged(tmp_path: Path) -> None:
    path = h.jpeg_for_draft(tmp_path / "big.jpg")
    image = Image.open(path)
    before = (image.size, image.mode, image.tell())
    first = prepare_image(image, model=STANDARD, max_side=320)
    assert (image.size, image.mode, image.tell()) == before
    second = prepare_image(image, model=STANDARD, max_side=320)
    for result in (first, second):
        assert result.original_size == (1280, 960)
        assert result.to_original(*cast(tuple[int, int], result.model_size)) == pytest.approx(
            (1280, 960)
        )
    assert first.data == second.data
    image.load()
    with Image.open(path) as fresh:
        fresh.load()
        assert image.size == fresh.size and image.tobytes() == fresh.tobytes()


@pytest.mark.parametrize("build", [h.three_frame_gif, h.three_page_tiff], ids=["GIF", "TIFF"])
def test_lazy_multiframe_image_is_left_unchanged(
    tmp_path: Path, build: Callable[[Path], Path]
) -> None:
    path = build(tmp_path / "frames")
    image = Image.open(path)
    before = (image.size, image.mode, image.tell())
    result = prepare_image(image, model=STANDARD)
    assert (image.size, image.mode, image.tell()) == before
    assert near(middle_color(decoded(result)), RED)
    image.load()
    with Image.open(path) as fresh:
        fresh.load()
        assert image.mode == fresh.mode and image.tobytes() == fresh.tobytes()


@pytest.mark.timeout(20)
def test_one_lazy_image_from_eight_threads(tmp_path: Path) -> None:
    path = h.jpeg_for_draft(tmp_path / "big.jpg")
    reference = prepare_image(Image.open(path), model=STANDARD, max_side=320)
    shared = Image.open(path)

    def call(_: int) -> cv.PreparedImage | Exception:
        try:
            return prepare_image(shared, model=STANDARD, max_side=320)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(call, range(80)))
    raised = [r for r in results if isinstance(r, Exception)]
    assert not raised, f"{len(raised)} of 80 calls raised, e.g. {raised[0]!r}"
    expected = (reference.data, reference.size, reference.original_size)
    prepared = [r for r in results if isinstance(r, cv.PreparedImage)]
    wrong = [r for r in prepared if (r.data, r.size, r.original_size) != expected]
    assert not wrong, f"{len(wrong)} of 80 results differ, e.g. {wrong[0]!r}"


def test_numpy_array_is_not_modified() -> None:
    array = np.asarray(h.marked_picture()).copy()
    original = array.copy()
    prepare_image(array, model=STANDARD)
    assert np.array_equal(array, original)


def test_read_image_copies_a_numpy_array() -> None:
    read_image = new_api("read_image")
    array = np.asarray(h.marked_picture()).copy()
    expected = prepare_image(array.copy(), model=STANDARD)
    value = read_image(array)
    array[:] = 0
    assert prepare_image(value, model=STANDARD).data == expected.data


# == unbounded work ======================================================================


def unbounded_input(
    kind: str, folder: Path
) -> tuple[Callable[[], object], str, h.EndlessStream | None]:
    """How to make the input (in the child), what the error must name, the stream if any."""
    if kind == "path /dev/zero":
        return lambda: "/dev/zero", "/dev/zero", None
    if kind == "path to a FIFO without writer":
        pipe = str(h.fifo(folder / "pipe.png"))
        return lambda: pipe, "pipe.png", None
    if kind == "path to a 2 GB sparse file":
        sparse = h.sparse_file(folder / "sparse.png")
        return lambda: sparse, "sparse.png", None
    if kind == "file object on /dev/zero":
        return lambda: open("/dev/zero", "rb"), "/dev/zero", None
    stream = h.EndlessStream()
    return lambda: stream, "EndlessStream", stream


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero and mkfifo")
@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    "kind",
    [
        "path /dev/zero",
        "path to a FIFO without writer",
        "path to a 2 GB sparse file",
        "file object on /dev/zero",
        "endless file object",
    ],
)
def test_unbounded_input_is_refused_promptly(tmp_path: Path, kind: str) -> None:
    make, names, stream = unbounded_input(kind, tmp_path)
    outcome = isolated(
        lambda: prepare_with(make(), model=STANDARD),
        report=(lambda: stream.consumed) if stream is not None else None,
    )
    assert "ClaudeVisionError" in outcome.get("mro", []), f"{kind}: {describe(outcome)}"
    message = outcome["message"]
    assert names in message and ADVICE.search(message), message
    assert outcome["growth"] < 256 * MiB, f"{kind}: peak RSS grew {outcome['growth'] // MiB} MiB"
    if stream is not None:
        assert outcome["report"] <= GiB, f"read {outcome['report']:,} bytes of an endless stream"


@pytest.mark.timeout(20)
def test_tiff_with_very_many_pages_prepares_quickly() -> None:
    result = prepare_image(h.many_page_tiff(80_000), model=STANDARD)
    image = decoded(result)
    assert image.size == (1, 1)
    assert abs(cast(int, image.convert("L").getpixel((0, 0))) - 0x80) <= 2


_GROWTH_SCRIPT = """
import resource, sys
sys.path.insert(0, {root!r})
from tests import hostile as h
import claudevision as cv
bombs = [h.png_bomb(9400, 9400, seed=seed) for seed in range(8)]
single = h.png_bomb(20000, 20000, palette=False) if {grey!r} else bombs[0]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    {call}
except cv.ImageTooLargeError:
    pass
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)
"""


def bomb_growth(call: str, *, grey: bool = False) -> int:
    """Peak RSS growth in bytes of ``call`` (Python source) in a fresh interpreter.

    A fresh process, not a fork of this one: a forked child's RSS also counts the
    parent's pages it writes to, which depends on what ran before in this session.
    ``import claudevision`` loads no SDK, so a fresh interpreter starts in well under a
    second. The call may prepare, or refuse with ImageTooLargeError.
    """
    if sys.platform != "linux":
        pytest.skip("ru_maxrss is measured in KiB on Linux only")
    root = str(Path(__file__).resolve().parent.parent)
    script = _GROWTH_SCRIPT.format(root=root, grey=grey, call=call)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "palette", [False, True], ids=["20000x20000-1-bit-grey", "9400x9400-1-bit-palette"]
)
def test_small_png_that_decodes_huge_takes_bounded_memory(palette: bool) -> None:
    data = h.png_bomb(9400, 9400) if palette else h.png_bomb(20000, 20000, palette=False)
    assert len(data) < 64 * 1024
    growth = bomb_growth("cv.prepare_image(single, model='claude-sonnet-4-6')", grey=not palette)
    assert growth < 300 * MiB, f"peak RSS grew {growth // MiB} MiB"


@pytest.mark.timeout(60)
def test_prepare_many_bombs_does_not_take_eight_times_the_memory() -> None:
    single = bomb_growth("cv.prepare_image(bombs[0], model='claude-sonnet-4-6')")
    # eight workers whatever the cores here: what an 8-core machine would run
    eight = bomb_growth("cv.prepare_many(bombs, model='claude-sonnet-4-6', max_workers=8)")
    assert eight <= max(300 * MiB, 2 * single), (
        f"eight took {eight // MiB} MiB, one {single // MiB} MiB"
    )


@pytest.mark.parametrize("kind", ["bytes", "path"])
def test_bounds_max_input_bytes(tmp_path: Path, kind: str) -> None:
    bounds = new_api("Bounds")
    data = jpeg(800, 600)
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    value: object = data if kind == "bytes" else path
    names = label_of(data) if kind == "bytes" else "photo.jpg"
    prepare_with(value, model=STANDARD, bounds=bounds(max_input_bytes=len(data)))
    error = expect_error(
        lambda: prepare_with(value, model=STANDARD, bounds=bounds(max_input_bytes=len(data) - 1)),
        cv.ImageTooLargeError,
        names=names,
    )
    assert "max_input_bytes" in str(error), str(error)


def test_bounds_max_pixels() -> None:
    bounds = new_api("Bounds")
    data = jpeg(800, 600)
    prepare_with(data, model=STANDARD, bounds=bounds(max_pixels=800 * 600))
    error = expect_error(
        lambda: prepare_with(data, model=STANDARD, bounds=bounds(max_pixels=800 * 600 - 1)),
        cv.ImageTooLargeError,
        names=label_of(data),
    )
    assert "max_pixels" in str(error), str(error)


# == security ============================================================================


@contextmanager
def file_access(monkeypatch: pytest.MonkeyPatch, needle: str) -> Iterator[list[str]]:
    """Record every open or stat of a path containing ``needle``."""
    seen: list[str] = []

    def watch(function: Callable[..., Any]) -> Callable[..., Any]:
        def watched(*args: Any, **kwargs: Any) -> Any:
            if args and isinstance(args[0], (str, bytes, os.PathLike)):
                name = os.fsdecode(args[0])
                if needle in name:
                    seen.append(f"{function.__name__}({name!r})")
            return function(*args, **kwargs)

        return watched

    for owner, name in [
        (builtins, "open"),
        (io, "open"),
        (os, "open"),
        (os, "stat"),
        (os, "lstat"),
        (os, "access"),
    ]:
        monkeypatch.setattr(owner, name, watch(getattr(owner, name)))
    yield seen


SECRET = "SECRET=hunter2"
SECRET_HEX = "68 75 6e"


@pytest.mark.parametrize("which", ["tmp secret", "/etc/hostname", "/proc/self/environ"])
def test_paths_false_never_reads_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    if which == "tmp secret":
        path = tmp_path / "secret.txt"
        path.write_text(SECRET)
    else:
        path = Path(which)
        if not path.exists():
            pytest.skip(f"{which} does not exist here")
    content = path.read_bytes()[:64].decode(errors="replace").strip() or SECRET
    with file_access(monkeypatch, str(path)) as seen:
        error = expect_error(
            lambda: prepare_with(str(path), model=STANDARD, paths=False),
            cv.ImageInputError,
            names=path.name,
        )
    assert not seen, f"looked at the file: {seen}"
    assert content not in str(error) and "hunter2" not in str(error), str(error)


def test_base64_source_from_string_never_reads_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    with file_access(monkeypatch, str(path)) as seen:
        error = expect_error(
            lambda: cv.Base64Source.from_string(str(path)),
            cv.InvalidBase64Error,
            names=str(path)[:16],
        )
    assert not seen, f"looked at the file: {seen}"
    assert "hunter2" not in str(error)


@pytest.mark.parametrize(
    "content", [b"SECRET=hunter2\n", b"hunter2\x00\x01\x02 secret"], ids=["text", "binary"]
)
@pytest.mark.parametrize("kind", [str, Path], ids=["str", "Path"])
def test_error_for_a_non_image_file_does_not_quote_it(
    tmp_path: Path, content: bytes, kind: Callable[[str], object]
) -> None:
    path = tmp_path / "notes.png"
    path.write_bytes(content)
    error = expect_error(
        lambda: prepare_with(kind(str(path))), cv.NotAnImageError, names="notes.png"
    )
    message = str(error)
    assert "hunter2" not in message and SECRET_HEX not in message.lower(), message


# == escaping exceptions are bugs ========================================================


def test_unexpected_exception_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    boom = RuntimeError("boom")

    def broken(self: Image.Image, *args: Any, **kwargs: Any) -> Image.Image:
        raise boom

    monkeypatch.setattr(Image.Image, "resize", broken)
    monkeypatch.setenv("CLAUDEVISION_BACKEND", "pillow")  # libvips would not call resize
    data = h.encode(h.marked_picture(3000, 40), "PNG")  # wider than the model takes
    error = expect_error(
        lambda: prepare_image(data, model=STANDARD), cv.ClaudeVisionError, names=label_of(data)
    )
    assert isinstance(error, new_api("InternalError")), f"{type(error).__name__}: {error}"
    assert error.__cause__ is boom
    assert "report" in str(error).lower(), str(error)
