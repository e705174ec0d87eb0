"""Screenshots, coordinates and tiles (issue 10): real images made with Pillow, measured on
what is sent."""

from __future__ import annotations

import io
import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

import claudevision as cv
from claudevision import (
    SCREEN_TARGETS,
    TIERS,
    Base64Source,
    ClaudeVisionError,
    ConfigurationError,
    ImageBytes,
    Screenshot,
    Tile,
    TooManyImagesError,
    Transform,
    UnsupportedSourceError,
    URLSource,
    fit_screenshot,
    model_size,
    prepare_image,
    tile_image,
)
from claudevision._core.exceptions import CoordinateError
from claudevision._prepare.fit import resolve
from claudevision._prepare.tiles import _plan
from claudevision.steps import CorrectedMediaType, Letterboxed, Resized, ResizeReason, Tiled

from .conftest import decode, encode

STANDARD = "claude-sonnet-4-6"
HIGH_RES = "claude-opus-4-8"

# -- helpers ------------------------------------------------------------------------------


def screen(
    width: int,
    height: int,
    dots: tuple[tuple[float, float], ...] = (),
    *,
    radius: float = 9,
    mode: str = "RGB",
) -> Image.Image:
    """A screen-like picture: window chrome, text, buttons; red dots centred at ``dots``
    (continuous pixel coordinates: pixel i spans [i, i + 1))."""
    image = Image.new("RGB", (width, height), (236, 236, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, min(height, 28)), fill=(60, 60, 70))
    for top in range(40, height - 12, 24):
        draw.text((12 + top % 50, top), "File  Edit  View  Window  Help  0123456789", fill="black")
    for left in range(0, width, 300):
        draw.rectangle((left + 20, 60, left + 140, 90), outline=(30, 80, 200), width=2)
    pixels = np.asarray(image).copy()
    for cx, cy in dots:
        paint_dot(pixels, cx, cy, radius)
    out = Image.fromarray(pixels)
    return out if mode == "RGB" else out.convert(mode)


def paint_dot(pixels: Any, cx: float, cy: float, radius: float) -> None:
    """A red disc of pixels whose centres lie within ``radius`` of ``(cx, cy)``."""
    x0, y0 = max(0, int(cx - radius) - 1), max(0, int(cy - radius) - 1)
    ys, xs = np.mgrid[y0 : int(cy + radius) + 2, x0 : int(cx + radius) + 2]
    inside = (xs + 0.5 - cx) ** 2 + (ys + 0.5 - cy) ** 2 <= radius**2
    pixels[ys[inside], xs[inside]] = (230, 20, 20)


def png_of(image: Image.Image) -> bytes:
    return encode(image, "PNG", compress_level=1)


def sent(shot: Screenshot | Tile) -> Image.Image:
    """The image exactly as it is sent, decoded."""
    assert shot.image.data is not None
    return decode(shot.image.data).convert("RGB")


def red_dots(image: Image.Image, box: tuple[int, int, int, int] | None = None) -> list[Any]:
    """Centroids (continuous coordinates) of the red blobs, weighted by redness."""
    rgb = np.asarray(image.convert("RGB")).astype(np.int32)
    redness = np.clip(rgb[..., 0] - np.maximum(rgb[..., 1], rgb[..., 2]) - 40, 0, None)
    if box is not None:
        mask = np.zeros_like(redness)
        mask[box[1] : box[3], box[0] : box[2]] = 1
        redness = redness * mask
    found = []
    remaining = redness.copy()
    while remaining.max() > 0:
        y, x = np.unravel_index(int(remaining.argmax()), remaining.shape)
        y0, y1 = max(0, y - 20), y + 21
        x0, x1 = max(0, x - 20), x + 21
        patch = remaining[y0:y1, x0:x1].astype(float)
        ys, xs = np.mgrid[y0:y1, x0:x1][:, : patch.shape[0], : patch.shape[1]]
        total = patch.sum()
        found.append(((xs * patch).sum() / total + 0.5, (ys * patch).sum() / total + 0.5))
        remaining[y0:y1, x0:x1] = 0
    return found


def near(a: tuple[float, float], b: tuple[float, float], tolerance: float) -> bool:
    return math.dist(a, b) <= tolerance


# -- Transform ----------------------------------------------------------------------------

scales = st.floats(0.05, 20, allow_nan=False)
ratios = st.sampled_from([1.0, 1.25, 1.5, 2.0, 3.0]) | st.floats(0.5, 4)
pads = st.floats(0, 500)
offsets = st.floats(-1e4, 1e4)


@st.composite
def transforms(draw: st.DrawFn) -> Transform:
    left, top = draw(pads), draw(pads)
    width, height = draw(st.floats(1, 4000)), draw(st.floats(1, 4000))
    return Transform(
        scale_x=draw(scales),
        scale_y=draw(scales),
        pad_left=left,
        pad_top=top,
        device_pixel_ratio=draw(ratios),
        offset_x=draw(offsets),
        offset_y=draw(offsets),
        content=(left, top, left + width, top + height),
    )


def close(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6) for x, y in zip(a, b, strict=True))


@st.composite
def inside(draw: st.DrawFn, box: tuple[float, float, float, float]) -> tuple[float, float]:
    fx, fy = draw(st.floats(0, 1)), draw(st.floats(0, 1))
    return box[0] + fx * (box[2] - box[0]), box[1] + fy * (box[3] - box[1])


@settings(max_examples=300, deadline=None)
@given(data=st.data(), t=transforms())
def test_points_round_trip_both_ways(data: st.DataObject, t: Transform) -> None:
    assert t.content is not None and t.screen_box is not None
    x, y = data.draw(inside(t.content))
    assert close(t.to_model(*t.to_screen(x, y)), (x, y))
    sx, sy = data.draw(inside(t.screen_box))
    assert close(t.to_screen(*t.to_model(sx, sy)), (sx, sy))


@settings(max_examples=200, deadline=None)
@given(data=st.data(), t=transforms())
def test_boxes_round_trip_both_ways(data: st.DataObject, t: Transform) -> None:
    assert t.content is not None
    box = (*data.draw(inside(t.content)), *data.draw(inside(t.content)))
    assert close(t.box_to_model(t.box_to_screen(box)), box)
    mapped = t.box_to_screen(box)
    assert close(mapped[:2], t.to_screen(*box[:2])) and close(mapped[2:], t.to_screen(*box[2:]))


@settings(max_examples=200, deadline=None)
@given(data=st.data(), a=transforms(), scale=scales, ratio=ratios, shift=offsets)
def test_composition_is_applying_one_then_the_other(
    data: st.DataObject, a: Transform, scale: float, ratio: float, shift: float
) -> None:
    b = Transform(scale_x=scale, scale_y=1 / scale, device_pixel_ratio=ratio, offset_x=shift)
    both = a.then(b)
    assert both == b @ a
    assert both.content is not None
    x, y = data.draw(inside(both.content))
    assert close(both.to_screen(x, y), b.to_screen(*a.to_screen(x, y)))
    assert close(both.to_model(*both.to_screen(x, y)), (x, y))


def test_composition_intersects_what_both_bound() -> None:
    model_to_shot = Transform(scale_x=2, scale_y=2, content=(0, 0, 100, 100))
    crop = Transform(pad_left=50, pad_top=50, content=(50, 50, 250, 250))
    both = model_to_shot.then(crop)
    assert both.content == (25.0, 25.0, 100.0, 100.0)
    assert both.to_screen(25, 25) == (0.0, 0.0)
    with pytest.raises(CoordinateError):
        both.to_screen(10, 10)
    disjoint = Transform(content=(1000, 1000, 1001, 1001))
    with pytest.raises(ConfigurationError, match="do not overlap"):
        model_to_shot.then(disjoint)


def test_identity_changes_nothing_and_bounds_nothing() -> None:
    identity = Transform.identity()
    assert identity.to_screen(-5, 1e6) == (-5.0, 1e6)
    assert identity.box_to_model((1, 2, 3, 4)) == (1.0, 2.0, 3.0, 4.0)
    t = Transform(scale_x=3, scale_y=2, pad_left=4, device_pixel_ratio=2, content=(4, 0, 10, 10))
    assert identity.then(t) == t and t @ identity == t


def test_points_in_the_padding_raise_or_clamp_to_the_nearest_edge() -> None:
    t = Transform(scale_x=1.875, scale_y=1.875, pad_top=96, content=(0, 96, 1024, 672))
    for point in [(10, 20), (10, 700), (-1, 300), (1025, 300)]:
        with pytest.raises(CoordinateError, match=r"clamp=True") as raised:
            t.to_screen(*point)
        assert isinstance(raised.value, ValueError) and isinstance(raised.value, ClaudeVisionError)
    assert t.to_screen(10, 20, clamp=True) == (18.75, 0.0)
    assert t.to_screen(2000, 700, clamp=True) == (1920.0, 1080.0)
    assert t.box_to_screen((-10, 50, 100, 100), clamp=True) == (0.0, 0.0, 187.5, 7.5)
    assert t.to_screen(1024, 672) == (1920.0, 1080.0)  # the far edges are inside
    with pytest.raises(CoordinateError, match="outside the screen"):
        t.to_model(1921, 10)
    assert t.to_model(1921, -3, clamp=True) == (1024.0, 96.0)


@pytest.mark.parametrize(
    "options",
    [
        {"scale_x": 0},
        {"scale_y": -1},
        {"device_pixel_ratio": math.nan},
        {"pad_left": math.inf},
        {"offset_x": "3"},
        {"content": (10, 0, 5, 5)},
        {"content": (0, 0, 1)},
        {"content": (0, 0, math.nan, 1)},
    ],
)
def test_a_wrong_transform_is_a_configuration_error(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match=r"Transform\("):
        Transform(**options)


@pytest.mark.parametrize("point", [(math.nan, 1), (1, math.inf), ("a", 1), (None, 2)])
def test_a_point_that_is_not_a_number_is_a_coordinate_error(point: tuple[Any, Any]) -> None:
    with pytest.raises(CoordinateError, match="point"):
        Transform.identity().to_screen(*point)
    with pytest.raises(CoordinateError, match="box"):
        Transform.identity().box_to_screen((1, 2, 3))


def test_content_given_as_a_list_is_kept_as_a_tuple() -> None:
    t = Transform(content=[0, 0, 10, 10])  # type: ignore[arg-type]
    assert t.content == (0.0, 0.0, 10.0, 10.0) and hash(t) == hash(Transform(content=t.content))


# -- fit_screenshot: sizes, aspect, padding -------------------------------------------------

FULL_HD = png_of(screen(1920, 1080))


@pytest.mark.parametrize(
    ("target", "pad", "size"),
    [
        ("XGA", False, (1024, 576)),
        ("XGA", True, (1024, 768)),
        ("WXGA", False, (1280, 720)),
        ("WXGA", True, (1280, 800)),
        ("FWXGA", False, (1365, 768)),
        ("FWXGA", True, (1366, 768)),
        ("auto", False, (1365, 768)),
        ((800, 800), True, (800, 800)),
        ((800, 800), False, (800, 450)),
    ],
)
def test_each_named_target(target: Any, pad: bool, size: tuple[int, int]) -> None:
    shot = fit_screenshot(FULL_HD, target=target, pad=pad, model=STANDARD)
    out = sent(shot)
    assert out.size == shot.size == shot.image.size == shot.image.model_size == size
    assert shot.image.original_size == (1920, 1080)
    assert shot.target == ("FWXGA" if target == "auto" else target)
    assert shot.screen_size == (1920, 1080)
    assert shot.image.base64_size <= shot.image.model.tier.max_edge * 10_000
    assert shot.to_screen(*shot.transform.content[:2]) == (0, 0)  # type: ignore[index]
    assert close(shot.to_screen(*shot.transform.content[2:]), (1920, 1080))  # type: ignore[index]


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1920, 1080), "FWXGA"),
        ((2880, 1800), "WXGA"),
        ((1440, 900), "WXGA"),
        ((1600, 1200), "XGA"),
        ((1280, 1024), "XGA"),
        ((1080, 1920), "FWXGA"),
    ],
)
def test_auto_picks_the_target_closest_in_aspect(size: tuple[int, int], expected: str) -> None:
    shot = fit_screenshot(screen(*size), target="auto", model=STANDARD)
    assert shot.target == expected
    w, h = SCREEN_TARGETS[expected]
    box = (h, w) if size[1] > size[0] else (w, h)  # a portrait screen gets a portrait target
    assert shot.size[0] <= box[0] and shot.size[1] <= box[1]
    assert box[0] in shot.size or box[1] in shot.size


def aspect_kept(out: tuple[int, int], screen_size: tuple[int, int]) -> bool:
    """Within the half pixel that rounding one side to whole pixels costs."""
    (w, h), (sw, sh) = out, screen_size
    return min(abs(w - h * sw / sh), abs(h - w * sh / sw)) <= 0.5 + 1e-9


@settings(max_examples=30, deadline=None)
@given(
    width=st.integers(300, 3200),
    height=st.integers(300, 2400),
    target=st.sampled_from(["XGA", "WXGA", "FWXGA", "auto", (900, 500), (640, 1000)]),
    pad=st.booleans(),
)
def test_aspect_is_never_distorted_and_padding_is_as_asked(
    width: int, height: int, target: Any, pad: bool
) -> None:
    shot = fit_screenshot(Image.new("RGB", (width, height), "white"), target=target, pad=pad)
    out = sent(shot)
    assert shot.transform.content is not None
    x0, y0, x1, y1 = (round(v) for v in shot.transform.content)
    content = (x1 - x0, y1 - y0)
    assert aspect_kept(content, (width, height))
    assert content[0] <= width and content[1] <= height  # never enlarged
    pixels = np.asarray(out)
    assert pixels[y0:y1, x0:x1].min() == 255  # the screen: all white
    if pad:
        name, box = shot.target, shot.target
        if isinstance(name, str):
            w, h = SCREEN_TARGETS[name]
            box = (h, w) if height > width else (w, h)
        assert out.size == box
        padding = np.ones(pixels.shape[:2], bool)
        padding[y0:y1, x0:x1] = False
        assert padding.sum() == out.width * out.height - content[0] * content[1]
        assert not padding.any() or pixels[padding].max() == 0  # black, all of it
        assert abs(x0 - (out.width - x1)) <= 1 and abs(y0 - (out.height - y1)) <= 1  # centred
    else:
        assert out.size == content and (x0, y0) == (0, 0)


@pytest.mark.parametrize("target", ["XGA", "FWXGA", (500, 900)])
def test_stretch_fills_the_target_exactly(target: Any) -> None:
    shot = fit_screenshot(FULL_HD, target=target, stretch=True)
    size = SCREEN_TARGETS[target] if isinstance(target, str) else target
    assert sent(shot).size == size
    assert shot.to_screen(0, 0) == (0, 0)
    assert close(shot.to_screen(*size), (1920, 1080))
    assert not any(isinstance(step, Letterboxed) for step in shot.image.steps)


def test_a_small_screen_is_never_enlarged_only_padded() -> None:
    shot = fit_screenshot(screen(800, 600), target="XGA")
    assert shot.size == (800, 600)
    padded = fit_screenshot(screen(800, 600), target="XGA", pad=True)
    assert padded.size == (1024, 768)
    assert padded.transform.content == (112.0, 84.0, 912.0, 684.0)
    assert padded.to_screen(112, 84) == (0.0, 0.0)
    assert Letterboxed((800, 600), (1024, 768), 112, 84) in padded.image.steps


def test_a_target_larger_than_the_model_sees_is_shrunk_to_the_models_size() -> None:
    big = png_of(screen(3000, 2000))
    shot = fit_screenshot(big, target=(3000, 2000), pad=True, model=STANDARD)
    assert shot.size == model_size(3000, 2000, TIERS["standard"]) == shot.image.model_size
    step = next(s for s in shot.image.steps if isinstance(s, Resized))
    assert step.reason is ResizeReason.TARGET and "shrunk to" in step.detail
    capped = fit_screenshot(big, target=(3000, 2000), max_side=1000)
    assert max(capped.size) <= 1000


def test_model_target_is_exactly_what_prepare_image_sends() -> None:
    shot = fit_screenshot(FULL_HD, model=STANDARD)
    plain = prepare_image(FULL_HD, model=STANDARD)
    assert shot.image.data == plain.data and shot.size == plain.size == (1456, 819)
    assert shot.image.steps == plain.steps
    small = png_of(screen(1000, 700))
    unchanged = fit_screenshot(small, model=STANDARD)
    assert unchanged.image.unchanged and unchanged.image.data == small
    assert unchanged.to_screen(500, 350) == (500.0, 350.0)


# -- fit_screenshot: a point Claude would give maps back to the marker --------------------

MARKERS = ((1000.5, 333.5), (75.5, 820.5), (1390.5, 40.5))  # logical points of a 1440x900 screen


@pytest.mark.parametrize("dpr", [1.0, 2.0])
@pytest.mark.parametrize(
    ("target", "pad"),
    [
        ("model", False),
        ("auto", False),
        ("XGA", False),
        ("XGA", True),
        ("WXGA", True),
        ("FWXGA", False),
        ("FWXGA", True),
        ((700, 700), True),
    ],
)
def test_a_point_at_a_marker_maps_back_to_it(dpr: float, target: Any, pad: bool) -> None:
    size = (round(1440 * dpr), round(900 * dpr))
    physical = tuple((x * dpr, y * dpr) for x, y in MARKERS)
    shot = fit_screenshot(
        png_of(screen(*size, physical, radius=7 * dpr)),
        target=target,
        pad=pad,
        device_pixel_ratio=dpr,
        model=STANDARD,
    )
    assert shot.screen_size == (1440, 900)
    found = sorted(red_dots(sent(shot)), key=lambda p: shot.to_screen(*p)[0])
    assert len(found) == len(MARKERS)
    for marker, (x, y) in zip(sorted(MARKERS), found, strict=True):
        assert near(shot.to_screen(x, y), marker, 1.0)  # the dot's centre
        assert near(shot.to_screen(round(x), round(y)), marker, 2.0)  # as Claude says it
        assert near(shot.to_model(*marker), (x, y), 1.0)


def test_hidpi_model_points_map_to_logical_points() -> None:
    shot = fit_screenshot(screen(2880, 1800), device_pixel_ratio=2, model=STANDARD)
    assert shot.screen_size == (1440, 900)
    w, h = shot.size
    assert (w, h) == model_size(2880, 1800, TIERS["standard"])
    assert close(shot.to_screen(w, h), (1440, 900))
    assert close(shot.to_screen(w / 2, h / 2), (720, 450))
    assert close(shot.box_to_screen((0, 0, w, h)), (0, 0, 1440, 900))
    assert shot.transform.device_pixel_ratio == 2


def test_rotated_jpeg_screenshot_is_turned_upright_before_fitting() -> None:
    upright_screen = screen(1600, 1000, ((400.5, 700.5),), radius=10)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: a viewer turns it 90° clockwise
    stored = encode(upright_screen.transpose(Image.Transpose.ROTATE_90), "JPEG", exif=exif)
    shot = fit_screenshot(stored, target="WXGA", pad=True)
    assert shot.image.original_size == (1600, 1000) and shot.size == (1280, 800)
    assert shot.image.media_type == "image/jpeg"
    (dot,) = red_dots(sent(shot))
    assert near(shot.to_screen(*dot), (400.5, 700.5), 1.5)


def test_the_byte_budget_shrinks_and_the_transform_follows() -> None:
    noisy = Image.effect_noise((1920, 1080), 90).convert("RGB")
    pixels = np.asarray(noisy).copy()
    pixels[..., 0] = pixels[..., 1] = pixels[..., 2] = pixels[..., 0] // 3 + 100
    paint_dot(pixels, 960.5, 300.5, 20)
    shot = fit_screenshot(
        png_of(Image.fromarray(pixels)), target="FWXGA", pad=True, max_bytes=80_000
    )
    assert shot.image.base64_size <= 80_000
    assert shot.size != (1366, 768)  # shrunk to fit the budget
    dots = red_dots(sent(shot))
    assert near(shot.to_screen(*dots[0]), (960.5, 300.5), 3.0)


def test_transparent_screenshot_keeps_alpha_and_pads_opaque_black() -> None:
    window = screen(900, 600, mode="RGBA")
    window.putalpha(Image.linear_gradient("L").resize((900, 600)))
    shot = fit_screenshot(window, target=(900, 900), pad=True)
    out = decode(shot.image.data or b"")
    assert out.mode == "RGBA" and out.getpixel((0, 0)) == (0, 0, 0, 255)
    assert shot.image.media_type == "image/png"


def test_a_wrong_media_type_claim_is_corrected_and_named() -> None:
    jpeg_bytes = encode(screen(1200, 800), "JPEG")
    shot = fit_screenshot(Base64Source(data=jpeg_bytes, media_type="image/png"), target="XGA")
    assert shot.image.media_type == "image/jpeg"
    assert shot.image.declared_media_type == "image/png"
    assert CorrectedMediaType("image/png", "image/jpeg") in shot.image.steps


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"target": "SVGA"}, "target='SVGA'"),
        ({"target": (0, 10)}, "target=(0, 10)"),
        ({"target": (True, 10)}, "target="),
        ({"pad": True}, "pad=True needs a target size"),
        ({"stretch": True}, "stretch=True needs a target size"),
        ({"target": "XGA", "pad": True, "stretch": True}, "choose one"),
        ({"device_pixel_ratio": 0}, "device_pixel_ratio=0"),
        ({"device_pixel_ratio": True}, "device_pixel_ratio=True"),
        ({"model": 3}, "model=3"),
    ],
)
def test_wrong_options_are_configuration_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fit_screenshot(FULL_HD, **options)


def test_targets_are_case_insensitive() -> None:
    assert fit_screenshot(FULL_HD, target="xga").target == "XGA"  # type: ignore[arg-type]


def test_a_url_screenshot_has_no_pixels_here() -> None:
    with pytest.raises(UnsupportedSourceError, match="download the image") as raised:
        fit_screenshot(URLSource(url="https://example.com/shot.png"), target="XGA")
    assert raised.value.input is not None
    with pytest.raises(UnsupportedSourceError):
        tile_image("https://example.com/page.png")


# -- tiles ----------------------------------------------------------------------------------

PAGE_DOTS = ((640.5, 880.5), (200.5, 5000.5), (1100.5, 11990.5))


@pytest.fixture(scope="module")
def page() -> bytes:
    return png_of(screen(1280, 12000, PAGE_DOTS, radius=6))


def covers(tiles: list[Tile], along: int, overlap: float) -> None:
    boxes = [tile.box for tile in tiles]
    assert boxes[0][1] == 0 and boxes[-1][3] == along
    length = boxes[0][3] - boxes[0][1]
    for a, b in itertools.pairwise(boxes):
        assert b[3] - b[1] == length
        assert a[3] - b[1] >= math.ceil(overlap * length)  # at least the overlap asked


@pytest.mark.parametrize(
    ("model", "count", "tile", "limit"),
    [(STANDARD, 14, (1280, 902), 1568), (HIGH_RES, 5, (1280, 2504), 4784)],
)
def test_tiles_of_a_full_page_screenshot(
    page: bytes, model: str, count: int, tile: tuple[int, int], limit: int
) -> None:
    tiles = tile_image(page, model=model)
    assert len(tiles) == count and [t.index for t in tiles] == list(range(count))
    covers(tiles, 12000, 0.05)
    for t in tiles:
        # what the model sees: the page's full 1280 px width, not resized by the server
        assert t.image.size == t.image.model_size == tile
        assert sent(t).size == tile and t.image.tokens is not None and t.image.tokens <= limit
        assert t.count == count and t.axis == "y" and t.box[0] == 0 and t.box[2] == 1280
        assert Tiled(t.index, count, t.box) in t.image.steps
        assert t.caption == f"Tile {t.index + 1} of {count} (page y {t.box[1]}-{t.box[3]}):"
    whole = prepare_image(page, model=model)
    assert whole.size is not None and whole.size[0] < 1280 / 2  # what tiling saves


def test_a_marker_maps_back_to_the_page_from_every_tile_that_shows_it(page: bytes) -> None:
    tiles = tile_image(page, model=STANDARD)
    seen: dict[tuple[float, float], int] = {}
    for t in tiles:
        for dot in red_dots(sent(t)):
            x, y = t.to_page(*dot)
            marker = min(PAGE_DOTS, key=lambda m: math.dist(m, (x, y)))
            assert near((x, y), marker, 1.0)
            assert near(t.to_page(round(dot[0]), round(dot[1])), marker, 1.5)
            seen[marker] = seen.get(marker, 0) + 1
    boundary = tiles[1].box[1]
    assert boundary < PAGE_DOTS[0][1] < tiles[0].box[3]  # the first marker is in the overlap
    assert seen == {PAGE_DOTS[0]: 2, PAGE_DOTS[1]: 1, PAGE_DOTS[2]: 1}


def test_wide_images_are_tiled_along_x() -> None:
    wide = screen(9000, 1000, ((4500.5, 500.5),))
    tiles = tile_image(wide, model=STANDARD, overlap=0.1)
    assert {t.axis for t in tiles} == {"x"}
    assert all(t.box[1] == 0 and t.box[3] == 1000 for t in tiles)
    assert all(t.image.size is not None and t.image.size[1] == 1000 for t in tiles)
    assert tiles[0].box[0] == 0 and tiles[-1].box[2] == 9000
    hits = [t.to_page(*dot) for t in tiles for dot in red_dots(sent(t))]
    assert hits and all(near(hit, (4500.5, 500.5), 1.0) for hit in hits)
    assert tiles[0].caption.endswith(f"(page x 0-{tiles[0].box[2]}):")


def test_a_page_wider_than_the_model_looks_at_keeps_the_most_it_can() -> None:
    tiles = tile_image(screen(3000, 7000, ((1500.5, 3500.5),), radius=12), model=STANDARD)
    for t in tiles:
        assert t.image.size is not None and t.image.size[0] == 1568  # the tier's long edge
        assert t.image.size == t.image.model_size
        assert any(isinstance(s, Resized) and s.reason is ResizeReason.TIER for s in t.image.steps)
    hits = [t.to_page(*dot) for t in tiles for dot in red_dots(sent(t))]
    assert hits and all(near(hit, (1500.5, 3500.5), 2.0) for hit in hits)


def test_too_many_tiles_is_a_clear_error(page: bytes) -> None:
    with pytest.raises(TooManyImagesError, match=r"14 tiles of 1280x\d+ .* max_tiles=5"):
        tile_image(page, model=STANDARD, max_tiles=5)
    assert len(tile_image(page, model=STANDARD, max_tiles=14)) == 14


def test_an_image_that_fits_one_tile_is_one_tile() -> None:
    (tile,) = tile_image(png_of(screen(1000, 1200)), model=STANDARD)
    assert tile.box == (0, 0, 1000, 1200) and tile.image.size == (1000, 1200)
    assert tile.to_page(10, 20) == (10.0, 20.0)


def test_tiles_of_a_hidpi_page_map_to_css_pixels() -> None:
    tiles = tile_image(screen(2560, 6000), model=HIGH_RES, device_pixel_ratio=2)
    last = tiles[-1]
    size = last.image.size
    assert size is not None
    assert close(last.to_page(*size), (1280, 3000))
    assert close(last.box_to_page((0, 0, *size)), tuple(v / 2 for v in last.box))


def test_max_side_bounds_tiles_for_requests_of_many_images() -> None:
    tiles = tile_image(screen(1280, 9000), model=HIGH_RES, max_side=2000)
    assert all(t.image.size is not None and max(t.image.size) <= 2000 for t in tiles)


def test_zero_overlap_tiles_abut(page: bytes) -> None:
    tiles = tile_image(page, model=STANDARD, overlap=0)
    covers(tiles, 12000, 0)
    assert len(tiles) == 13


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"overlap": 0.5}, "overlap=0.5"),
        ({"overlap": -0.1}, "overlap=-0.1"),
        ({"overlap": True}, "overlap=True"),
        ({"max_tiles": 0}, "max_tiles=0"),
        ({"max_tiles": 2.0}, "max_tiles=2.0"),
        ({"device_pixel_ratio": -1}, "device_pixel_ratio=-1"),
    ],
)
def test_wrong_tile_options_are_configuration_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        tile_image(png_of(screen(100, 100)), **options)


@settings(max_examples=300, deadline=None)
@given(
    across=st.integers(1, 6000),
    along=st.integers(1, 60000),
    overlap=st.floats(0, 0.49),
    tier=st.sampled_from([STANDARD, HIGH_RES]),
    tall=st.booleans(),
    max_side=st.sampled_from([None, 2000]),
)
def test_tile_plans_cover_the_page_and_stay_sharp(
    across: int, along: int, overlap: float, tier: str, tall: bool, max_side: int | None
) -> None:
    assume(along >= across)
    fit = resolve(model=tier, max_side=max_side)
    size = (across, along) if tall or across == along else (along, across)
    plan = _plan(size, fit, overlap, 10**6)
    axis = 1 if tall or across == along else 0
    spans = [(box[axis], box[axis + 2]) for box in plan.boxes]
    assert spans[0][0] == 0 and spans[-1][1] == along
    assert len({b - a for a, b in spans}) == 1  # one tile size
    for (a0, a1), (b0, _) in itertools.pairwise(spans):
        assert a1 - b0 >= math.ceil(overlap * (a1 - a0))
    # sent at a size the model keeps unresized, the short side at the most the model keeps
    assert fit.target(*plan.sent) == plan.sent
    thinnest = fit.target(*((across, 1) if axis == 1 else (1, across)))
    assert plan.sent[1 - axis] == thinnest[1 - axis]


def test_read_values_and_caller_images_are_left_as_they_were() -> None:
    image = screen(1600, 1000)
    before = image.tobytes()
    read = ImageBytes(png_of(image), "shot.png")
    first = fit_screenshot(read, target="XGA", pad=True)
    again = fit_screenshot(read, target="XGA", pad=True)
    assert first.image.data == again.image.data
    fit_screenshot(image, target="WXGA")
    tile_image(image)
    assert image.tobytes() == before and image.size == (1600, 1000)


def test_labels_name_the_input_and_the_tile() -> None:
    tiles = tile_image(png_of(screen(1280, 3000)), model=STANDARD, label="receipt.png")
    assert tiles[1].image.label == f"receipt.png, tile 2 of {len(tiles)}"
    shot = fit_screenshot(io.BytesIO(FULL_HD), target="XGA", label="screen")
    assert shot.image.label == "screen"


def test_tiles_keep_to_the_byte_budget_and_their_transforms_follow() -> None:
    noise = np.asarray(Image.effect_noise((1000, 4000), 120).convert("RGB")).copy()
    noise[..., 1] = noise[..., 2] = noise[..., 0]
    paint_dot(noise, 500.5, 2010.5, 18)
    tiles = tile_image(png_of(Image.fromarray(noise)), model=STANDARD, max_bytes=60_000)
    assert all(t.image.base64_size <= 60_000 for t in tiles)
    assert any(
        t.image.size != tiles[0].image.model_size or t.image.media_type == "image/jpeg"
        for t in tiles
    )
    hits = [t.to_page(*dot) for t in tiles for dot in red_dots(sent(t))]
    assert hits and all(near(hit, (500.5, 2010.5), 3.0) for hit in hits)


def test_a_fitted_screenshot_goes_into_messages_as_it_is() -> None:
    shot = fit_screenshot(Image.new("RGB", (2880, 1800), "white"), device_pixel_ratio=2.0)
    message = cv.ImageMessage("", tool_results=[cv.ToolResult("toolu_1", shot.image)])
    [sent] = message.images
    assert sent is shot.image  # not re-prepared: the transform still holds
    many = cv.ImageMessage("Hi", *[shot.image] * 21, model="claude-opus-4-8")
    assert all(max(image.size or (0, 0)) <= 2000 for image in many.images)
