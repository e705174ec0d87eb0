"""Unit tests of the local server's request rules (``claudevision.testing._rules``).

The rules are pure functions, so every rule and every error text is checked here
directly, without HTTP. Images are made with Pillow and base64, never by claudevision.
"""

from __future__ import annotations

import ast
import base64
import io
import struct
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image, ImageFile, UnidentifiedImageError

from claudevision.testing import _rules
from claudevision.testing._rules import (
    HIGH_RESOLUTION,
    LIMITS,
    STANDARD,
    Limits,
    ReceivedImage,
    Rejected,
    Tier,
    check_request,
    limits_for,
    max_images,
    normalise_model,
    parse_body,
    seen_size,
    tier_for,
    visual_tokens,
)

ANTHROPIC = LIMITS["anthropic"]
MODEL = "claude-sonnet-4-6"


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def picture(width: int, height: int, fmt: str = "PNG") -> bytes:
    return encode(Image.new("RGB", (width, height), (30, 120, 200)), fmt)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def block(data: bytes | str, media_type: str = "image/png", **extra: Any) -> dict[str, Any]:
    text = data if isinstance(data, str) else b64(data)
    source = {"type": "base64", "media_type": media_type, "data": text}
    return {"type": "image", "source": source, **extra}


def body(*content: dict[str, Any], model: str = MODEL, **extra: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": [*content, {"type": "text", "text": "?"}]}]
    return {"model": model, "max_tokens": 10, "messages": messages, **extra}


def rejected(
    request: object, limits: Limits = ANTHROPIC, *, counting: bool = False, **options: Any
) -> Rejected:
    with pytest.raises(Rejected) as info:
        check_request(request, limits, counting=counting, **options)
    return info.value


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` and holds almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


# -- the published resize rule and token formula ------------------------------------------

EXAMPLES = [
    # (size, standard tier: seen, tokens, high-resolution tier: seen, tokens)
    ((200, 200), (200, 200), 64, (200, 200), 64),
    ((1000, 1000), (1000, 1000), 1296, (1000, 1000), 1296),
    ((1092, 1092), (1092, 1092), 1521, (1092, 1092), 1521),
    ((1920, 1080), (1456, 819), 1560, (1920, 1080), 2691),
    ((3840, 2160), (1456, 819), 1560, (2576, 1449), 4784),
    ((1075, 1520), (924, 1307), 1551, (1075, 1520), 2145),
]


@pytest.mark.parametrize(("size", "standard", "standard_tokens", "high", "high_tokens"), EXAMPLES)
def test_published_examples(
    size: tuple[int, int],
    standard: tuple[int, int],
    standard_tokens: int,
    high: tuple[int, int],
    high_tokens: int,
) -> None:
    assert seen_size(*size, STANDARD) == standard
    assert visual_tokens(*standard) == standard_tokens
    assert seen_size(*size, HIGH_RESOLUTION) == high
    assert visual_tokens(*high) == high_tokens


def test_a4_scan_tokens_before_resizing() -> None:
    assert visual_tokens(1075, 1520) == 2145


def test_reference_rule_where_the_guide_table_differs() -> None:
    # The guide's table says 1269x952; its own reference rule gives 1270x952.
    assert seen_size(2000, 1500, STANDARD) == (1270, 952)


def test_tier_numbers() -> None:
    assert (STANDARD.max_edge, STANDARD.max_tokens) == (1568, 1568)
    assert (HIGH_RESOLUTION.max_edge, HIGH_RESOLUTION.max_tokens) == (2576, 4784)


@pytest.mark.parametrize("tier", [STANDARD, HIGH_RESOLUTION])
@pytest.mark.parametrize(
    "size", [(1, 1), (1, 9000), (9000, 1), (1569, 1), (2000, 2000), (4000, 3000), (801, 7999)]
)
def test_seen_size_is_the_largest_that_fits(tier: Tier, size: tuple[int, int]) -> None:
    width, height = seen_size(*size, tier)
    assert width <= size[0] and height <= size[1]
    assert -(-width // 28) * 28 <= tier.max_edge and -(-height // 28) * 28 <= tier.max_edge
    assert visual_tokens(width, height) <= tier.max_tokens
    if (width, height) != size:  # one pixel more on the long edge would not fit
        long = max(width, height) + 1
        bigger = _rules._with_long_edge(long, *size)
        assert not _rules._within(*bigger, tier)


# -- models -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("claude-haiku-4-5", "claude-haiku-4-5"),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"),
        ("anthropic.claude-opus-4-8-v1", "claude-opus-4-8"),
        ("claude-opus-4-8@20260101", "claude-opus-4-8"),
        (" Claude-Sonnet-4-6 ", "claude-sonnet-4-6"),
        ("claude-sonnet-5-latest", "claude-sonnet-5"),
    ],
)
def test_normalise_model(model: str, name: str) -> None:
    assert normalise_model(model) == name


@pytest.mark.parametrize(
    "model",
    [
        "claude-opus-4-7",
        "claude-opus-4-8",
        "claude-sonnet-5",
        "claude-fable-5",
        "claude-mythos-5",
        "global.anthropic.claude-opus-4-8-20260101-v1:0",
    ],
)
def test_high_resolution_models(model: str) -> None:
    assert tier_for(model) is HIGH_RESOLUTION
    assert max_images(model, ANTHROPIC) == 600


@pytest.mark.parametrize(
    ("model", "images"),
    [
        ("claude-haiku-4-5", 100),
        ("claude-sonnet-4-5", 100),
        ("claude-opus-4-5", 100),
        ("claude-opus-4-6", 600),
        ("claude-sonnet-4-6-20260101", 600),
        ("claude-opus-5", 100),  # not in the documented table: standard, 200k
        ("my-proxy-model", 100),
    ],
)
def test_standard_models(model: str, images: int) -> None:
    assert tier_for(model) is STANDARD
    assert max_images(model, ANTHROPIC) == images


# -- platforms ----------------------------------------------------------------------------


def test_platform_table() -> None:
    mib = 1024 * 1024
    assert LIMITS["anthropic"].max_image_bytes == 10 * mib
    assert LIMITS["anthropic-5mb"].max_image_bytes == 5 * mib
    assert LIMITS["bedrock"].max_image_bytes == LIMITS["vertex"].max_image_bytes == 5 * mib
    assert LIMITS["anthropic"].source_types == {"base64", "url", "file"}
    assert LIMITS["bedrock"].source_types == LIMITS["vertex"].source_types == {"base64"}
    assert LIMITS["anthropic"].max_request_bytes == 32_000_000
    assert LIMITS["bedrock"].max_request_bytes == LIMITS["vertex"].max_request_bytes == 20_000_000
    for limits in LIMITS.values():
        assert (limits.max_side, limits.many_images_threshold) == (8000, 20)
        assert limits.many_images_max_side == 2000
        assert limits.images_per_request_small_context == 100
        assert limits.images_per_request_large_context == 600


def test_limits_for() -> None:
    assert limits_for("bedrock") is LIMITS["bedrock"]
    assert limits_for(ANTHROPIC) is ANTHROPIC
    with pytest.raises(ValueError, match="unknown platform 'azure'"):
        limits_for("azure")
    with pytest.raises(TypeError, match="max_image_bytes, source_types"):
        limits_for(SimpleNamespace(name="x", max_request_bytes=1))


def test_limits_for_reads_platform_attributes() -> None:
    platform = SimpleNamespace(
        name="bedrock",
        max_image_bytes=1000,
        source_types=["base64"],
        max_request_bytes=5000,
        many_images_max_side=1000,
        unrelated="ignored",
    )
    limits = limits_for(platform)
    assert limits == Limits(
        "bedrock",
        1000,
        frozenset({"base64"}),
        5000,
        many_images_max_side=1000,
        documents_count_as_images=True,
    )


# -- malformed bodies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not valid JSON"),
        (b"{", "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b"[]", "must be a JSON object"),
        (b'"text"', "must be a JSON object"),
        (b"null", "must be a JSON object"),
    ],
)
def test_parse_body_refuses(raw: bytes, message: str) -> None:
    with pytest.raises(Rejected, match=message) as info:
        parse_body(raw)
    assert info.value.status == 400


def test_parse_body() -> None:
    assert parse_body(b'{"model": "m"}') == {"model": "m"}


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ([], "The request body must be a JSON object"),
        ({"max_tokens": 1, "messages": []}, "model: Field required"),
        ({"model": 7, "max_tokens": 1, "messages": []}, "model: Input should be a valid string"),
        ({"model": MODEL, "messages": [{}]}, "max_tokens: Field required"),
        ({"model": MODEL, "max_tokens": True, "messages": []}, "max_tokens: Input should be a"),
        ({"model": MODEL, "max_tokens": "9", "messages": []}, "max_tokens: Input should be a"),
        ({"model": MODEL, "max_tokens": 1}, "messages: at least one message is required"),
        ({"model": MODEL, "max_tokens": 1, "messages": []}, "at least one message is required"),
        ({"model": MODEL, "max_tokens": 1, "messages": {}}, "messages: Input should be a valid"),
        ({"model": MODEL, "max_tokens": 1, "messages": "hi"}, "messages: Input should be a valid"),
        ({"model": MODEL, "max_tokens": 1, "messages": [3]}, "messages.0: Input should be a valid"),
        (
            {"model": MODEL, "max_tokens": 1, "messages": [{"role": "system", "content": "x"}]},
            "messages.0.role: Input should be 'user' or 'assistant'",
        ),
        (
            {"model": MODEL, "max_tokens": 1, "messages": [{"role": "user"}]},
            "messages.0.content: Field required",
        ),
        (
            {"model": MODEL, "max_tokens": 1, "messages": [{"role": "user", "content": 5}]},
            "messages.0.content: Input should be a valid list",
        ),
        (
            {"model": MODEL, "max_tokens": 1, "messages": [{"role": "user", "content": ["x"]}]},
            "messages.0.content.0: Input should be a valid dictionary",
        ),
        (
            {"model": MODEL, "max_tokens": 1, "messages": [{"role": "user", "content": [{}]}]},
            "messages.0.content.0.type: Field required",
        ),
        (
            {
                "model": MODEL,
                "max_tokens": 1,
                "messages": [{"role": "user", "content": [{"type": "text"}]}],
            },
            "messages.0.content.0.text: Input should be a valid string",
        ),
        (
            {
                "model": MODEL,
                "max_tokens": 1,
                "messages": [
                    {"role": "user", "content": [{"type": "tool_result", "content": [None]}]}
                ],
            },
            "messages.0.content.0.content.0: Input should be a valid dictionary",
        ),
        (body(system=[{"type": "image"}]), "system.0.type: Input should be 'text'"),
        (body(system={"type": "text"}), "system: Input should be a valid list"),
        (body({"type": "image", "source": "x"}), "source: Field required"),
        (body({"type": "image"}), "source: Field required"),
    ],
)
def test_malformed_bodies(request_body: object, message: str) -> None:
    refusal = rejected(request_body)
    assert refusal.status == 400
    assert message in refusal.message


def test_counting_needs_no_max_tokens() -> None:
    request = body(block(picture(10, 10)))
    del request["max_tokens"]
    assert len(check_request(request, ANTHROPIC, counting=True)) == 1
    assert "max_tokens: Field required" in rejected(request).message


def test_text_only_requests() -> None:
    request = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    assert check_request(request, ANTHROPIC, counting=False) == []
    assert check_request(body(system="Be brief."), ANTHROPIC, counting=False) == []


# -- where images may be ------------------------------------------------------------------


def test_images_in_assistant_turns_are_refused() -> None:
    request = body()
    request["messages"] = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [block(picture(10, 10))]},
        {"role": "user", "content": "and?"},
    ]
    assert rejected(request).message == "'image' blocks are not permitted within assistant turns"


def test_images_in_tool_results_and_documents_are_checked() -> None:
    good = block(picture(30, 20))
    tool = {"type": "tool_result", "tool_use_id": "t", "content": [good]}
    document = {"type": "document", "source": {"type": "content", "content": [good]}}
    images = check_request(body(tool, document), ANTHROPIC, counting=False)
    assert [image.size for image in images] == [(30, 20), (30, 20)]
    bad = {"type": "tool_result", "tool_use_id": "t", "content": [block(b"nope!!!!")]}
    assert rejected(body(bad)).message == "Could not process image"


def test_received_image() -> None:
    data = b64(picture(1920, 1080))
    [image] = check_request(body(block(data)), ANTHROPIC, counting=False)
    assert image == ReceivedImage("image/png", (1920, 1080), (1456, 819), 1560, len(data), "base64")


# -- the API's error texts ----------------------------------------------------------------


def test_media_type_mismatch() -> None:
    refusal = rejected(body(block(picture(10, 10, "JPEG"), "image/png")))
    assert refusal.message == (
        "The image was specified using the image/png media type, but the image appears to be "
        "a image/jpeg image"
    )


@pytest.mark.parametrize("media_type", ["image/bmp", "image/jpg", "IMAGE/PNG", None, 3])
def test_unsupported_media_type(media_type: object) -> None:
    assert rejected(body(block(picture(10, 10), media_type))).message == (  # type: ignore[arg-type]
        "Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
    )


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_accepted_formats(fmt: str, media_type: str) -> None:
    [image] = check_request(
        body(block(picture(40, 30, fmt), media_type)), ANTHROPIC, counting=False
    )
    assert (image.media_type, image.size) == (media_type, (40, 30))


def test_animations_and_camera_jpegs() -> None:
    frames = [Image.new("RGB", (40, 30), colour) for colour in ("red", "blue")]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    mpo = encode(frames[0], "MPO", save_all=True, append_images=frames[1:])
    images = check_request(
        body(block(gif, "image/gif"), block(mpo, "image/jpeg")), ANTHROPIC, counting=False
    )
    assert [image.media_type for image in images] == ["image/gif", "image/jpeg"]


@pytest.mark.parametrize(
    "data",
    [
        "iVBORw0KGgo...not base64",
        b64(picture(10, 10))[:-2],  # padding missing
        b64(picture(10, 10)).replace("+", "-").replace("/", "_") + "-_-_",  # URL-safe alphabet
        "QUJD\nREVG",  # a line break
        "QUJD REVG",
        " QUJDREVG",
        "QUJDREVG\n",
        "QUJDREV===",
        "QU=DREVG",
        "QUJDRÉVG",
    ],
)
def test_invalid_base64(data: str) -> None:
    assert rejected(body(block(data))).message == "invalid base64 data"


@pytest.mark.parametrize("data", ["", None, 5])
def test_empty_image(data: object) -> None:
    request = body(block("x"))
    request["messages"][0]["content"][0]["source"]["data"] = data
    assert rejected(request).message == "image cannot be empty"


def test_too_large_is_measured_on_the_base64_string() -> None:
    limit = 10 * 1024 * 1024
    assert rejected(body(block("A" * (limit + 4)))).message == (
        "image exceeds 10 MB maximum: 10485764 bytes > 10485760 bytes"
    )
    # exactly at the limit it is not "too large" (these bytes just are not an image)
    assert rejected(body(block("A" * limit))).message == "Could not process image"
    for name in ("anthropic-5mb", "bedrock", "vertex"):
        refusal = rejected(body(block("A" * 5_242_884)), LIMITS[name])
        assert refusal.message == "image exceeds 5 MB maximum: 5242884 bytes > 5242880 bytes"


def test_pixel_limit() -> None:
    assert rejected(body(block(picture(8001, 10)))).message == (
        "At least one of the image dimensions exceed max allowed size: 8000 pixels"
    )
    assert rejected(body(block(picture(10, 8001)))).status == 400
    [image] = check_request(body(block(picture(8000, 10))), ANTHROPIC, counting=False)
    assert image.seen == (1568, 2)


def test_many_image_rule() -> None:
    wide = block(picture(2001, 10))
    assert len(check_request(body(*[wide] * 20), ANTHROPIC, counting=False)) == 20
    assert rejected(body(*[wide] * 21)).message == (
        "At least one of the image dimensions exceed max allowed size for many-image requests: "
        "2000 pixels"
    )
    edges = [block(picture(2000, 10)), block(picture(10, 2000))] * 11  # 2000 px is allowed
    assert len(check_request(body(*edges), ANTHROPIC, counting=False)) == 22


def test_documents_count_toward_the_many_image_rule_on_bedrock_and_vertex() -> None:
    wide = block(picture(2001, 10))
    pdf = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x"}}
    request = body(*[wide] * 20, pdf)
    assert len(check_request(request, ANTHROPIC, counting=False)) == 20
    for name in ("bedrock", "vertex"):
        assert "for many-image requests" in rejected(request, LIMITS[name]).message


def test_too_many_images() -> None:
    tiny = block(picture(1, 1))
    assert (
        len(check_request(body(*[tiny] * 100, model="claude-haiku-4-5"), ANTHROPIC, counting=False))
        == 100
    )
    refusal = rejected(body(*[tiny] * 101, model="claude-haiku-4-5"))
    assert refusal.message == "Too many images in request: 101 > 100"
    assert rejected(body(*[tiny] * 601)).message == "Too many images in request: 601 > 600"


def test_url_sources() -> None:
    def url(address: object) -> dict[str, Any]:
        return {"type": "image", "source": {"type": "url", "url": address}}

    assert rejected(body(url("http://x.test/a.png"))).message == "Only HTTPS URLs are supported."
    assert rejected(body(url(None))).message == "Only HTTPS URLs are supported."
    assert rejected(body(url("https://x.test/a.png"))).message == (
        "Unable to download the file. Please verify the URL and try again."
    )
    urls = {"https://x.test/a.png": picture(300, 200, "JPEG")}
    [image] = check_request(body(url("https://x.test/a.png")), ANTHROPIC, counting=False, urls=urls)
    assert (image.media_type, image.size, image.source, image.base64_bytes) == (
        "image/jpeg",
        (300, 200),
        "url",
        0,
    )
    urls = {"https://x.test/a.png": b"not an image"}
    assert rejected(body(url("https://x.test/a.png")), urls=urls).message == (
        "Could not process image"
    )


def test_file_sources() -> None:
    source = {"type": "image", "source": {"type": "file", "file_id": "file_1"}}
    refusal = rejected(body(source))
    assert (refusal.status, refusal.message) == (404, "File not found: file_1")
    files = {"file_1": picture(64, 64)}
    [image] = check_request(body(source), ANTHROPIC, counting=False, files=files)
    assert (image.source, image.size) == ("file", (64, 64))


@pytest.mark.parametrize("name", ["bedrock", "vertex"])
@pytest.mark.parametrize("kind", ["url", "file", "text", None])
def test_base64_only_platforms(name: str, kind: str | None) -> None:
    request = body({"type": "image", "source": {"type": kind, "url": "https://x.test/a.png"}})
    assert rejected(request, LIMITS[name]).message == (
        f"source.type: '{kind}' image sources are not supported on this platform"
    )


def test_count_tokens_needs_base64_sources() -> None:
    source = {"type": "image", "source": {"type": "file", "file_id": "file_1"}}
    refusal = rejected(body(source), counting=True, files={"file_1": picture(8, 8)})
    assert refusal.message == "Token counting requires images as base64 sources, not url or file"


def test_oversized_image_transformation() -> None:
    error = {"oversized_image": "error"}
    refusal = rejected(body(block(picture(1920, 1080), transformations=error)))
    assert refusal.message == (
        "Image dimensions 1920x1080 exceed the maximum for this model; the largest size that "
        "fits is 1456x819"
    )
    request = body(block(picture(1920, 1080), transformations=error), model="claude-opus-4-8")
    assert check_request(request, ANTHROPIC, counting=False)[0].seen == (1920, 1080)
    downsize = body(block(picture(1920, 1080), transformations={"oversized_image": "downsize"}))
    assert check_request(downsize, ANTHROPIC, counting=False)[0].seen == (1456, 819)
    bad = body(block(picture(10, 10), transformations={"oversized_image": "crop"}))
    assert "Input should be 'downsize' or 'error'" in rejected(bad).message
    assert "valid dictionary" in rejected(body(block(picture(10, 10), transformations=[1]))).message


# -- undecodable images and bounded decoding ----------------------------------------------


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png"),
        (picture(50, 50)[:-40], "image/png"),  # truncated
        (picture(50, 50, "JPEG")[:200], "image/jpeg"),
        (b"GIF89a" + b"\xff" * 20, "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 20, "image/webp"),
        (picture(10, 10, "BMP"), "image/png"),  # not one of the four formats
        (picture(10, 10, "TIFF"), "image/png"),
        (b"plain text, not an image", "image/png"),
    ],
)
def test_could_not_process_image(data: bytes, media_type: str) -> None:
    refusal = rejected(body(block(data, media_type)))
    assert (refusal.status, refusal.message) == (400, "Could not process image")


class _Loads:
    """Counts full decodes, to show a refusal came before decoding."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = ImageFile.ImageFile.load

        def load(image: ImageFile.ImageFile) -> Any:
            self.calls += 1
            return original(image)

        monkeypatch.setattr("PIL.ImageFile.ImageFile.load", load)


def test_huge_declared_size_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    loads = _Loads(monkeypatch)
    assert rejected(body(block(png_header(100_000, 100_000)))).message == (
        "Could not process image"
    )
    big_sides = Limits("big", 10 * 1024 * 1024, frozenset({"base64"}), 32_000_000, max_side=10_000)
    assert rejected(body(block(png_header(9000, 9000))), big_sides).message == (
        "Could not process image"
    )
    assert rejected(body(block(png_header(9000, 9000)))).message == (
        "At least one of the image dimensions exceed max allowed size: 8000 pixels"
    )
    assert loads.calls == 0
    assert rejected(body(block(png_header(100, 100)))).message == "Could not process image"
    assert loads.calls == 1  # a declared size within bounds is decoded (and found damaged)


@pytest.mark.parametrize(
    "error",
    [
        Image.DecompressionBombError("bomb"),
        UnidentifiedImageError("what"),
        EOFError(),
        struct.error("unpack"),
        TypeError("type"),
        ValueError("value"),
        OSError("truncated"),
        SyntaxError("syntax"),
        IndexError("index"),
        KeyError("key"),
        ZeroDivisionError(),
        MemoryError(),
        RuntimeError("runtime"),
    ],
)
@pytest.mark.parametrize("stage", ["open", "load"])
def test_every_decoder_error_is_an_api_error(
    monkeypatch: pytest.MonkeyPatch, error: BaseException, stage: str
) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    target = "PIL.Image.open" if stage == "open" else "PIL.ImageFile.ImageFile.load"
    monkeypatch.setattr(target, fail)
    refusal = rejected(body(block(picture(10, 10))))
    assert (refusal.status, refusal.message) == (400, "Could not process image")


# -- independence from the library --------------------------------------------------------

TESTING = Path(_rules.__file__).parent


def _imports(path: Path) -> list[tuple[int, str]]:
    """(level, module) of every import at module level (TYPE_CHECKING blocks included)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(0, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
    return found


def test_rules_import_nothing_from_the_library() -> None:
    imports = _imports(TESTING / "_rules.py")
    assert all(level == 0 for level, _ in imports)
    assert not [name for _, name in imports if name.split(".")[0] in ("claudevision", "anthropic")]


def test_the_server_uses_only_its_own_modules() -> None:
    for path in TESTING.glob("*.py"):
        for level, name in _imports(path):
            assert level in (0, 1), f"{path.name} imports from the library: {name}"
            assert name.split(".")[0] != "claudevision", f"{path.name} imports {name}"


def test_functions_are_short() -> None:
    for path in TESTING.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                assert length <= 50, f"{path.name}:{node.name} has {length} lines"


def test_message_with_extra_keys_is_refused() -> None:
    from claudevision.testing._rules import Rejected, check_request, limits_for

    body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi", "id": "msg_1"}],
    }
    with pytest.raises(Rejected, match=r"messages\.0\.id: Extra inputs are not permitted"):
        check_request(body, limits_for("anthropic"), counting=False)
