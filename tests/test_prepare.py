"""The fit pipeline: orientation, formats, exact resize, budgets, pass-through, safety."""

from __future__ import annotations

import base64
import io
import re
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import claudevision as cv
from claudevision import PLATFORMS, prepare_image, prepare_many
from claudevision.steps import (
    AssumedTier,
    Converted,
    ConvertedMode,
    CorrectedMediaType,
    Encoded,
    FlattenedAlpha,
    KeptFirstFrame,
    Oriented,
    Shrunk,
    SwitchedToLossy,
)

from .conftest import decode, encode, gradient, jpeg, png

STANDARD = "claude-sonnet-4-6"
HIGH = "claude-opus-4-8"


def sent(prepared: cv.PreparedImage) -> Image.Image:
    source: Any = prepared.block["source"]
    assert source["type"] == "base64"
    data = base64.b64decode(source["data"])
    assert data == prepared.data
    return decode(data)


# -- pass-through ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (jpeg(800, 600), "image/jpeg"),
        (png(640, 480), "image/png"),
        (png(300, 200, "RGBA"), "image/png"),
        (encode(gradient(320, 240), "WEBP", quality=80), "image/webp"),
        (encode(gradient(320, 240), "WEBP", lossless=True), "image/webp"),
        (encode(gradient(100, 80).convert("P"), "GIF"), "image/gif"),
    ],
)
def test_acceptable_image_goes_out_byte_for_byte(data: bytes, media_type: str) -> None:
    prepared = prepare_image(data, model=STANDARD)
    assert prepared.unchanged
    assert prepared.data == data
    assert prepared.media_type == media_type
    assert prepared.block["source"] == {
        "type": "base64",
        "media_type": media_type,
        "data": base64.b64encode(data).decode(),
    }
    assert prepared.size == prepared.original_size == prepared.model_size == decode(data).size


def test_pass_through_from_a_path(tmp_path: Path) -> None:
    data = jpeg(800, 600)
    path = tmp_path / "small.jpg"
    path.write_bytes(data)
    prepared = prepare_image(path, model=STANDARD)
    assert prepared.unchanged and prepared.data == data
    assert prepared.label == f"path {str(path)!r}"


# -- media type from the bytes ---------------------------------------------------------


def test_declared_type_is_corrected_and_visible() -> None:
    data = jpeg(64, 64)
    source = cv.Base64Source(data=data, media_type="image/png")
    prepared = prepare_image(source)
    assert prepared.media_type == "image/jpeg"
    assert prepared.block["source"]["media_type"] == "image/jpeg"  # type: ignore[typeddict-item]
    assert prepared.declared_media_type == "image/png"
    assert CorrectedMediaType("image/png", "image/jpeg") in prepared.steps
    assert str(prepared.steps[0]) == (
        "declared image/png, but the bytes are image/jpeg: sent as image/jpeg"
    )


def test_data_url_prefix_does_not_decide_the_type() -> None:
    data = png(50, 40)
    prepared = prepare_image("data:image/jpeg;base64," + base64.b64encode(data).decode())
    assert prepared.media_type == "image/png"
    assert prepared.declared_media_type == "image/jpeg"


def test_file_name_does_not_decide_the_type(tmp_path: Path) -> None:
    path = tmp_path / "really-a-png.jpg"
    path.write_bytes(png(30, 30))
    assert prepare_image(path).media_type == "image/png"


# -- orientation -----------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(orientation: int) -> None:
    base = gradient(240, 160)
    expected = base.transpose(Image.Transpose.ROTATE_270) if orientation == 6 else None
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(base, "JPEG", quality=95, exif=exif)
    prepared = prepare_image(data, model=STANDARD)
    rotated = orientation in (5, 6, 7, 8)
    assert prepared.original_size == ((160, 240) if rotated else (240, 160))
    out = sent(prepared)
    assert out.size == prepared.original_size
    assert (prepared.steps[0] == cv.steps.SentUnchanged()) is (orientation == 1)  # EXIF dropped
    reference = Image.open(io.BytesIO(data))
    from PIL import ImageOps

    truth = ImageOps.exif_transpose(reference)
    assert truth is not None
    diff = np.abs(np.asarray(out, dtype=int) - np.asarray(truth.convert("RGB"), dtype=int))
    assert diff.mean() < 4, f"orientation {orientation} came out wrong"
    if expected is not None:
        assert Oriented(6) in prepared.steps
        assert "applied EXIF orientation 6 (rotated 90° clockwise)" in map(str, prepared.steps)


def test_portrait_phone_photo_is_resized_after_rotation() -> None:
    prepared = prepare_image(jpeg(4032, 3024, orientation=6), model=STANDARD)
    assert prepared.original_size == (3024, 4032)
    assert prepared.size == cv.model_size(3024, 4032, cv.TIERS["standard"]) == (952, 1270)
    assert sent(prepared).size == (952, 1270)


# -- formats ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "options", "media_type"),
    [
        ("TIFF", {}, "image/png"),
        ("BMP", {}, "image/png"),
        ("ICO", {"sizes": [(64, 64)]}, "image/png"),
        ("JPEG2000", {}, "image/jpeg"),
        ("AVIF", {"quality": 80}, "image/jpeg"),
    ],
)
def test_unaccepted_formats_are_converted(
    fmt: str, options: dict[str, object], media_type: str
) -> None:
    source = gradient(64, 64)
    prepared = prepare_image(encode(source, fmt, **options), model=STANDARD)
    assert prepared.media_type == media_type
    out = sent(prepared)
    assert out.size == (64, 64)
    diff = np.abs(np.asarray(out.convert("RGB"), dtype=int) - np.asarray(source, dtype=int))
    assert diff.mean() < 6
    assert any(isinstance(step, Converted) for step in prepared.steps)


def test_heic_with_the_extra() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    buffer = io.BytesIO()
    pillow_heif.from_pillow(gradient(120, 80)).save(buffer, format="HEIF", quality=90)
    prepared = prepare_image(buffer.getvalue(), model=STANDARD)
    assert prepared.media_type == "image/jpeg"
    assert sent(prepared).size == (120, 80)
    assert Converted("HEIC") in prepared.steps


def test_heic_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    buffer = io.BytesIO()
    pillow_heif.from_pillow(gradient(32, 32)).save(buffer, format="HEIF")
    monkeypatch.setitem(sys.modules, "pillow_heif", None)
    monkeypatch.setattr(Image, "OPEN", {k: v for k, v in Image.OPEN.items() if k != "HEIF"})
    with pytest.raises(cv.UnsupportedFormatError, match=r"HEIC/HEIF.*pip install pillow-heif"):
        prepare_image(buffer.getvalue())


def test_animated_gif_sends_only_the_first_frame() -> None:
    frames = [Image.new("P", (40, 30), color) for color in (1, 2, 3)]
    for frame in frames:
        frame.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 756)
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    prepared = prepare_image(buffer.getvalue(), model=STANDARD)
    assert not prepared.unchanged
    assert prepared.media_type == "image/png"
    out = sent(prepared)
    assert getattr(out, "n_frames", 1) == 1
    assert out.convert("RGB").getpixel((5, 5)) == (255, 0, 0)
    assert KeptFirstFrame(None) in prepared.steps


def test_animated_webp_sends_only_the_first_frame() -> None:
    frames = [Image.new("RGB", (40, 30), c) for c in ((255, 0, 0), (0, 255, 0))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    prepared = prepare_image(buffer.getvalue(), model=STANDARD)
    out = sent(prepared)
    assert prepared.media_type == "image/webp"
    assert getattr(out, "n_frames", 1) == 1
    r, g, b = out.convert("RGB").getpixel((5, 5))  # type: ignore[misc]
    assert r > 250 and g < 5 and b < 5


def test_cmyk_jpeg_comes_out_rgb() -> None:
    cmyk = Image.new("CMYK", (50, 50), (0, 255, 255, 0))  # pure red
    prepared = prepare_image(encode(cmyk, "JPEG", quality=95), model=STANDARD)
    out = sent(prepared)
    assert out.mode == "RGB"
    r, g, b = out.getpixel((25, 25))  # type: ignore[misc]
    assert r > 230 and g < 25 and b < 25
    assert ConvertedMode("CMYK", "RGB") in prepared.steps


def test_16_bit_png_is_scaled_not_clipped() -> None:
    values = np.linspace(0, 65535, 256, dtype=np.uint16).reshape(16, 16)
    image = Image.fromarray(values)
    prepared = prepare_image(encode(image, "PNG"), model=STANDARD)
    out = np.asarray(sent(prepared).convert("L"), dtype=int)
    assert out.min() == 0 and out.max() == 255
    assert 100 < out[8, 0] < 160  # mid-grey stays mid-grey


def test_palette_png_with_transparency_keeps_alpha() -> None:
    image = Image.new("P", (20, 20), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(1, (10, 0, 20, 20))
    image.info["transparency"] = 0
    data = encode(image, "PNG", transparency=0)
    prepared = prepare_image(data, model=STANDARD, max_bytes=200)
    out = sent(prepared).convert("RGBA")
    assert out.getpixel((2, 2))[3] == 0  # type: ignore[index]
    assert out.getpixel((15, 2)) == (0, 0, 255, 255)


def test_alpha_is_flattened_on_purpose_for_jpeg() -> None:
    image = Image.new("RGBA", (30, 30), (0, 0, 0, 0))
    prepared = prepare_image(encode(image, "TIFF"), model=STANDARD, format="jpeg")
    assert sent(prepared).getpixel((5, 5)) == (255, 255, 255)
    assert FlattenedAlpha() in prepared.steps


def test_opaque_alpha_is_dropped() -> None:
    image = Image.new("RGBA", (3000, 20), (10, 20, 30, 255))
    prepared = prepare_image(encode(image, "PNG"), model=STANDARD)
    assert sent(prepared).mode == "RGB"


# -- exact resize --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "model", "expected"),
    [
        ((1920, 1080), STANDARD, (1456, 819)),
        ((3840, 2160), HIGH, (2576, 1449)),
        ((1075, 1520), STANDARD, (924, 1307)),
        ((1920, 1080), HIGH, (1920, 1080)),
    ],
)
def test_sends_exactly_what_the_model_sees(
    size: tuple[int, int], model: str, expected: tuple[int, int]
) -> None:
    prepared = prepare_image(png(*size), model=model)
    assert prepared.size == prepared.model_size == expected
    assert sent(prepared).size == expected
    assert prepared.tokens == cv.visual_tokens(*expected)
    assert prepared.unchanged is (expected == size)


def test_screenshot_stays_png() -> None:
    prepared = prepare_image(png(2880, 1800), model=STANDARD)
    assert prepared.media_type == "image/png"
    assert prepared.size == cv.model_size(2880, 1800, cv.TIERS["standard"])


def test_unknown_model_prepares_for_high_resolution() -> None:
    with pytest.warns(cv.UnknownModelWarning, match="claude-future-9"):
        prepared = prepare_image(png(3840, 2160), model="claude-future-9")
    assert prepared.size == (2576, 1449)
    assert AssumedTier("high-resolution", "claude-future-9") in prepared.steps


def test_no_model_prepares_for_high_resolution_without_warning() -> None:
    prepared = prepare_image(png(3840, 2160))
    assert prepared.size == (2576, 1449)


def test_max_side_caps_the_model_size() -> None:
    prepared = prepare_image(png(3840, 2160), model=HIGH, max_side=2000)
    assert prepared.size == (2000, 1125)


def test_dated_and_platform_model_ids_resolve() -> None:
    for name in (
        "claude-haiku-4-5-20251001",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "claude-haiku-4-5@20251001",
    ):
        assert cv.model_info(name).tier.name == "standard"


def test_register_model() -> None:
    cv.register_model("claude-test-tier-1", tier="standard", input_price_per_mtok=2.0)
    prepared = prepare_image(png(3840, 2160), model="claude-test-tier-1-20260101")
    assert prepared.size == (1456, 819)
    assert cv.estimate_cost(1_000_000, "claude-test-tier-1") == 2.0


def test_cost() -> None:
    assert cv.estimate_cost(1560, "claude-sonnet-4-6") == pytest.approx(0.00468)
    assert cv.estimate_cost(1560, "claude-opus-4-8") is None


# -- coordinates ---------------------------------------------------------------------------


def test_coordinates_map_back_to_the_original() -> None:
    prepared = prepare_image(png(3840, 2160), model=STANDARD)
    assert prepared.model_size == (1456, 819)
    x, y = prepared.to_original(728, 409.5)
    assert x == pytest.approx(1920) and y == pytest.approx(1080)
    box = prepared.box_to_original((0, 0, 1456, 819))
    assert box == pytest.approx((0, 0, 3840, 2160))
    assert prepared.to_model(3840, 2160) == pytest.approx((1456, 819))


def test_coordinates_follow_orientation() -> None:
    prepared = prepare_image(jpeg(4032, 3024, orientation=6), model=STANDARD)
    assert prepared.to_original(952, 1270) == pytest.approx((3024, 4032))


def test_coordinates_need_sizes() -> None:
    prepared = prepare_image("https://example.com/a.png")
    with pytest.raises(cv.UnsupportedSourceError, match="sizes are unknown for a url source"):
        prepared.to_original(1, 1)


# -- byte budgets --------------------------------------------------------------------------


def noisy(width: int, height: int) -> Image.Image:
    rng = np.random.default_rng(7)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


@pytest.mark.parametrize("platform", ["anthropic", "bedrock", "vertex", "anthropic-5mb"])
def test_base64_fits_the_platform_budget(platform: str) -> None:
    data = encode(noisy(1800, 1200), "PNG")  # 6.5 MB of noise, 8.6 MB as base64
    assert len(base64.b64encode(data)) > 5 * 1024 * 1024
    prepared = prepare_image(data, model=HIGH, platform=platform)
    limit = PLATFORMS[platform].max_image_bytes
    assert prepared.base64_size <= limit
    assert len(prepared.block["source"]["data"]) == prepared.base64_size  # type: ignore[typeddict-item,arg-type]
    if platform == "anthropic":
        assert prepared.unchanged
    else:
        assert prepared.media_type == "image/jpeg"
        assert any(
            isinstance(step, SwitchedToLossy) and step.target == "JPEG" for step in prepared.steps
        )
        assert prepared.size == (1800, 1200)


def test_quality_search_then_shrink() -> None:
    prepared = prepare_image(encode(noisy(1000, 1000), "JPEG", quality=95), max_bytes=60_000)
    assert prepared.base64_size <= 60_000
    assert any(isinstance(step, Shrunk) for step in prepared.steps)
    assert prepared.size is not None and prepared.size[0] < 1000
    assert prepared.tokens == cv.visual_tokens(*prepared.size)


def test_quality_search_keeps_the_highest_quality_that_fits() -> None:
    image = noisy(600, 400)
    data = encode(image, "JPEG", quality=98)
    budget = len(base64.b64encode(encode(image, "JPEG", quality=60)))
    prepared = prepare_image(data, max_bytes=budget)
    assert prepared.base64_size <= budget
    [step] = [s for s in prepared.steps if isinstance(s, Encoded) and s.quality is not None]
    assert step.quality is not None
    quality = step.quality
    assert 55 <= quality <= 75  # near 60: the highest quality that fits, not the floor
    assert prepared.size == (600, 400)


def test_alpha_image_over_budget_becomes_webp() -> None:
    image = noisy(800, 800).convert("RGBA")
    image.putalpha(128)
    prepared = prepare_image(encode(image, "PNG"), max_bytes=400_000)
    assert prepared.media_type == "image/webp"
    assert sent(prepared).mode == "RGBA"


def test_impossible_budget_is_a_clear_error() -> None:
    with pytest.raises(cv.ImageTooLargeError, match="no encoding fits 10 base64 bytes"):
        prepare_image(png(400, 400), max_bytes=10)


# -- safety --------------------------------------------------------------------------------


def png_header_only(width: int, height: int) -> bytes:
    """A small PNG that declares a huge canvas: the classic decompression bomb."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload))
        )

    row = b"\x00" + b"\x00" * (width // 8 + 1)
    compressor = zlib.compressobj(9)
    body = compressor.compress(row * 64) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused() -> None:
    import resource

    bomb = png_header_only(40000, 40000)
    assert len(bomb) < 500_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(cv.ImageTooLargeError, match=r"too many pixels|refused to decode"):
        prepare_image(bomb)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert after - before < 200_000  # KiB: nothing near the 1.6 GB a decode would take


def test_large_but_allowed_image_is_refused_above_the_limit() -> None:
    bomb = png_header_only(10000, 9000)
    with pytest.raises(cv.ImageTooLargeError, match="90,000,000 pixels"):
        prepare_image(bomb)


# -- sources the platform does not take ---------------------------------------------------


def test_url_and_file_id_blocks() -> None:
    url = prepare_image("https://example.com/a.png")
    assert url.block == {
        "type": "image",
        "source": {"type": "url", "url": "https://example.com/a.png"},
    }
    file = prepare_image(cv.FileIdSource(file_id="file_abc"), cache_control={"type": "ephemeral"})
    assert file.block == {
        "type": "image",
        "source": {"type": "file", "file_id": "file_abc"},
        "cache_control": {"type": "ephemeral"},
    }
    assert url.tokens is None and url.size is None


@pytest.mark.parametrize("platform", ["bedrock", "vertex"])
def test_url_on_cloud_platforms_is_refused(platform: str) -> None:
    with pytest.raises(cv.UnsupportedSourceError, match=f"{platform} accepts only base64"):
        prepare_image("https://example.com/a.png", platform=platform, download=False)


def test_oversized_image_transformation_is_exposed() -> None:
    prepared = prepare_image(png(10, 10), oversized_image="error")
    assert prepared.block.get("transformations") == {"oversized_image": "error"}


def test_unknown_platform() -> None:
    with pytest.raises(cv.ConfigurationError, match="unknown platform 'azure'"):
        prepare_image(png(10, 10), platform="azure")


# -- many at once --------------------------------------------------------------------------


def test_prepare_many_keeps_order_and_labels() -> None:
    images = [png(100 + i, 50) for i in range(6)]
    prepared = prepare_many(images, model=STANDARD)
    assert [p.size for p in prepared] == [(100 + i, 50) for i in range(6)]
    assert prepared[2].label == f"image 3 (bytes ({len(images[2])} bytes))"


def test_prepare_many_reports_which_image_failed() -> None:
    with pytest.raises(cv.NotAnImageError, match=r"^image 2 \(bytes \(64 bytes\)\)"):
        prepare_many([png(10, 10), b"\x01" * 64, png(10, 10)])


def test_describe_says_what_will_be_sent() -> None:
    text = prepare_image(png(1920, 1080), model=STANDARD).describe()
    assert "sent         1456x819" in text
    assert "tokens       1,560" in text
    assert "resized 1920x1080 -> 1456x819 (standard tier: 1568 px, 1568 tokens)" in text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_side": 0}, "max_side=0: use a whole number of at least 1"),
        ({"max_bytes": -5}, "max_bytes=-5"),
        ({"format": "bmp"}, "format='bmp': use 'jpeg', 'png' or 'webp'"),
        ({"quality": 101}, "quality=101: use a whole number from 40 to 100"),
        ({"oversized_image": "shrink"}, "oversized_image='shrink': use 'downsize' or 'error'"),
        ({"model": 4}, "model=4: pass a model id"),
    ],
)
def test_bad_options_are_configuration_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(cv.ConfigurationError, match=re.escape(message)):
        prepare_image(png(10, 10), **options)


def test_memory_bound_makes_large_decodes_run_one_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Images costing more than half of Bounds.max_memory_bytes never decode side by side."""
    import threading
    import time

    from claudevision._prepare import prepare as stage

    active, most, lock = 0, 0, threading.Lock()
    real = stage.load  # type: ignore[attr-defined]

    def counting(image: Image.Image) -> None:
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        time.sleep(0.05)  # long enough that unbounded workers would overlap
        try:
            real(image)
        finally:
            with lock:
                active -= 1

    monkeypatch.setattr(stage, "load", counting)
    monkeypatch.setenv("CLAUDEVISION_BACKEND", "pillow")  # libvips never decodes them whole
    images = [png(2400, 1600) for _ in range(4)]  # resized, so decoded: ~35 MB each
    tight = cv.Bounds(max_memory_bytes=20_000_000)
    prepare_many(images, max_workers=4, bounds=tight, model=STANDARD)
    assert most == 1
    most = 0
    prepare_many(images, max_workers=4, model=STANDARD)  # the default 1 GiB: side by side
    assert most > 1
