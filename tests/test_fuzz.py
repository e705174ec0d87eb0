"""Fuzzing prepare_image: for ANY bytes it raises a ClaudeVisionError or returns a valid block.

Seeds are small images of every format claudevision takes (``strict_decode.seeds``), made
in-process; each test mutates one seed (bit flips, overwrites, truncation, splices,
duplicated, deleted or inserted ranges) and asserts that ``prepare_image`` either raises
:class:`claudevision.ClaudeVisionError` or returns a block that passes
``strict_decode.check_prepared``: standard base64, the media type the bytes are, and an
image that decodes completely and strictly to ``.size``.

The run is derandomized (the same examples every time): 800 examples per seed, 24 seeds,
about 35 s on two slow cores when every example passes (a failing test stops at its
first failure and prints the exact seed and mutation; shrinking is off, it would cost
more than the run). ``CLAUDEVISION_FUZZ_EXAMPLES=N`` sets the examples per seed and
``CLAUDEVISION_FUZZ_RANDOM=1`` draws new ones each run (with Hypothesis's database).
For millions of cases, use ``benchmarks/fuzz_prepare.py``.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import signal
import struct
import threading
import warnings
import zlib
from collections.abc import Iterator
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from PIL import Image

import claudevision as cv
from claudevision import prepare_image

from .strict_decode import (
    SEED_NAMES,
    STRICT_ENTROPY,
    Mutation,
    StrictDecodeError,
    check_block,
    check_bytes,
    check_prepared,
    draw_mutation,
    encode_png,
    picture,
    seeds,
    sniff,
)

MODEL = "claude-opus-4-8"
EXAMPLES = int(os.environ.get("CLAUDEVISION_FUZZ_EXAMPLES", "800"))
RANDOMIZE = os.environ.get("CLAUDEVISION_FUZZ_RANDOM") == "1"
CALL_LIMIT_S = 10.0
"""One prepare_image call on a few-KB image taking longer than this is a hang."""
TEST_LIMIT_S = 120
"""Last resort for a hang inside C code the per-call guard cannot interrupt."""

_DATABASE: dict[str, Any] = {} if RANDOMIZE else {"database": None}
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOMIZE,
    **_DATABASE,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
    # Shrinking a failure costs more than the whole run; the example printed is exact.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    report_multiple_bugs=False,
)


class _Hang(BaseException):
    """Raised by the alarm; a BaseException so no ``except Exception`` swallows it."""


@contextlib.contextmanager
def hang_guard(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (main thread, POSIX; else no guard)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not (
        threading.main_thread()
    ):
        yield
        return

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise _Hang

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def assert_refused_or_valid(data: bytes) -> None:
    """The promise: a ClaudeVisionError, or a block the API would process."""
    try:
        with hang_guard(CALL_LIMIT_S), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's "Corrupt EXIF data" and the like
            try:
                prepared = prepare_image(data, model=MODEL)
            except cv.ClaudeVisionError:
                return
    except _Hang:
        raise AssertionError(
            f"prepare_image hung: over {CALL_LIMIT_S} s on {len(data)} bytes"
        ) from None
    check_prepared(prepared, original=data)


@st.composite
def mutations(draw: st.DrawFn, seed_name: str) -> Mutation:
    corpus = seeds()
    return draw_mutation(
        lambda low, high: draw(st.integers(low, high)),
        lambda count: draw(st.binary(min_size=count, max_size=count)),
        seed_name,
        corpus,
    )


# --------------------------------------------------------------------------------------
# The property
# --------------------------------------------------------------------------------------


@pytest.mark.timeout(TEST_LIMIT_S, method="thread")
@pytest.mark.parametrize("seed_name", SEED_NAMES)
def test_seed_is_refused_or_valid(seed_name: str) -> None:
    assert_refused_or_valid(seeds()[seed_name])


@pytest.mark.timeout(TEST_LIMIT_S, method="thread")
@pytest.mark.parametrize("seed_name", SEED_NAMES)
@FUZZ
@given(data=st.data())
def test_mutated_seed_is_refused_or_valid(seed_name: str, data: st.DataObject) -> None:
    mutation = data.draw(mutations(seed_name), label="mutation")
    mutated = mutation.apply(seeds()[seed_name], seeds())
    assert_refused_or_valid(mutated)


# --------------------------------------------------------------------------------------
# The validator itself
# --------------------------------------------------------------------------------------


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 8
    while pos < len(png):
        (length,) = struct.unpack_from(">I", png, pos)
        out.append((png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return out


def _build(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        for kind, data in chunks
    )
    return b"\x89PNG\r\n\x1a\n" + body


def _with_idat(png: bytes, compressed: bytes) -> bytes:
    """``png`` with its image data replaced by ``compressed``, CRCs recomputed."""
    chunks = [(k, d) for k, d in _chunks(png) if k != b"IDAT"]
    return _build([*chunks[:-1], (b"IDAT", compressed), chunks[-1]])


def _raw_idat(png: bytes) -> bytes:
    return zlib.decompress(b"".join(d for k, d in _chunks(png) if k == b"IDAT"))


def _rejects(data: bytes, media_type: str, kind_start: str) -> StrictDecodeError:
    with pytest.raises(StrictDecodeError) as info:
        check_bytes(data, media_type)
    assert info.value.kind.startswith(kind_start), info.value
    return info.value


def _block(data: bytes, media_type: str) -> dict[str, Any]:
    encoded = base64.b64encode(data).decode()
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": media_type, "data": encoded},
    }


def _save(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "seed_name", [name for name in SEED_NAMES if sniff(seeds()[name]) is not None]
)
def test_validator_accepts_the_seeds(seed_name: str) -> None:
    data = seeds()[seed_name]
    media_type = sniff(data)
    assert media_type is not None
    if seed_name == "jpeg-exif-rotated":
        _rejects(data, media_type, "exif: orientation left")
    elif seed_name == "jpeg-cmyk":
        _rejects(data, media_type, "jpeg: 4-component")
    else:
        check_bytes(data, media_type)
        check_block(_block(data, media_type))


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("JPEG", {"quality": 5, "subsampling": 2, "optimize": True}),
        ("JPEG", {"quality": 95, "progressive": True, "restart_marker_rows": 1}),
        ("PNG", {"optimize": True}),
        ("GIF", {"interlace": True}),
        ("WEBP", {"lossless": True}),
    ],
)
def test_validator_accepts_pillow_output(fmt: str, options: dict[str, Any]) -> None:
    image = picture(77, 133, seed=11)
    data = _save(image.quantize(16) if fmt == "GIF" else image, fmt, **options)
    check_bytes(data, str(sniff(data)), (77, 133))


def test_validator_accepts_interlaced_and_16_bit_png() -> None:
    image = picture(13, 11).convert("RGBA")
    for interlace in (False, True):
        data = encode_png(13, 11, 6, 8, image.tobytes(), interlace=interlace)
        check_bytes(data, "image/png", (13, 11))


def test_validator_rejects_a_bad_idat_crc() -> None:
    png = seeds()["png-rgb"]
    at = png.index(b"IDAT") + 20
    damaged = png[:at] + bytes([png[at] ^ 0x01]) + png[at + 1 :]
    error = _rejects(damaged, "image/png", "png: bad chunk CRC")
    assert "IDAT" in error.detail


def test_validator_rejects_truncated_zlib() -> None:
    png = seeds()["png-rgb"]
    compressed = zlib.compress(_raw_idat(png))
    _rejects(_with_idat(png, compressed[:-40]), "image/png", "png: IDAT zlib stream ends early")


def test_validator_rejects_zlib_of_the_wrong_size() -> None:
    png = seeds()["png-rgb"]
    raw = _raw_idat(png)
    _rejects(_with_idat(png, zlib.compress(raw[:-1])), "image/png", "png: IDAT inflates to fewer")
    _rejects(_with_idat(png, zlib.compress(raw + b"\0")), "image/png", "png: IDAT inflates to more")


def test_validator_rejects_a_bad_filter_byte_and_data_after_iend() -> None:
    png = seeds()["png-rgb"]
    raw = bytearray(_raw_idat(png))
    raw[0] = 7
    _rejects(_with_idat(png, zlib.compress(bytes(raw))), "image/png", "png: bad scanline filter")
    _rejects(png + b"\0", "image/png", "png: data after IEND")
    _rejects(png[:-12], "image/png", "png: no IEND")


def test_validator_rejects_the_wrong_media_type() -> None:
    png = seeds()["png-rgb"]
    with pytest.raises(StrictDecodeError, match="declared type differs"):
        check_block(_block(png, "image/jpeg"))
    with pytest.raises(StrictDecodeError, match="not accepted"):
        check_block(_block(png, "image/bmp"))
    with pytest.raises(StrictDecodeError, match="no accepted format"):
        check_block(_block(seeds()["tiff"], "image/png"))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:40] + "\n" + s[40:],  # whitespace
        lambda s: s.rstrip("="),  # padding dropped
        lambda s: s.replace("+", "-").replace("/", "_"),  # URL-safe alphabet
        lambda s: s[:-1],  # cut short
        lambda s: s[:-3] + "B==",  # non-zero padding bits
    ],
    ids=["whitespace", "unpadded", "urlsafe", "short", "noncanonical"],
)
def test_validator_rejects_broken_base64(mangle: Any) -> None:
    # 40 bytes (1 mod 3, so "==" padding); "+/+/..." base64. Refused before the bytes.
    block = _block(b"\xfb\xff\xbf" * 13 + b"\x00", "image/png")
    text = block["source"]["data"]
    assert "+" in text and "/" in text and text.endswith("==")
    block["source"]["data"] = mangle(text)
    with pytest.raises(StrictDecodeError, match="base64"):
        check_block(block)


def test_validator_rejects_a_wrong_size() -> None:
    with pytest.raises(StrictDecodeError, match="size: decoded size differs"):
        check_bytes(seeds()["png-rgb"], "image/png", (150, 100))


def test_validator_rejects_damaged_jpeg_scans_that_pillow_loads() -> None:
    jpeg = seeds()["jpeg-baseline"]
    scan = jpeg.index(b"\xff\xda")
    middle = (scan + len(jpeg)) // 2
    cut = jpeg[:middle] + jpeg[middle + 300 :]  # scan data lost, EOI kept
    padded = jpeg[:-2] + b"\x55" * 40 + jpeg[-2:]  # junk before EOI
    for damaged in (cut, padded):
        with Image.open(io.BytesIO(damaged)) as image:
            image.load()  # Pillow hides libjpeg's "Corrupt JPEG data" warnings
        _rejects(damaged, "image/jpeg", "jpeg: ")
    _rejects(padded, "image/jpeg", "jpeg: " + ("extraneous bytes" if STRICT_ENTROPY else "libjpeg"))
    _rejects(jpeg + b"\0\0", "image/jpeg", "jpeg: data after EOI")
    _rejects(jpeg[:-2], "image/jpeg", "jpeg: scan data runs to the end")


def test_validator_rejects_damaged_gif_and_webp() -> None:
    gif = seeds()["gif-still"]
    _rejects(gif[: len(gif) // 2] + b"\x00\x3b", "image/gif", "gif: ")
    _rejects(gif[:-1], "image/gif", "gif: no trailer")
    webp = seeds()["webp-lossy"]
    _rejects(webp + b"\0\0", "image/webp", "webp: RIFF size differs")
    _rejects(webp[:-10], "image/webp", "webp: RIFF size differs")


def test_check_prepared_compares_the_fields() -> None:
    prepared = prepare_image(seeds()["png-rgb"], model=MODEL)
    check_prepared(prepared, original=seeds()["png-rgb"])
    with pytest.raises(StrictDecodeError, match="size"):
        check_block(prepared.block, (1, 1))
