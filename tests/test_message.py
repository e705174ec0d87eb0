"""ImageMessage: block order, labels, SDK shapes for every input, request-wide rules."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import claudevision as cv
from claudevision import ImageMessage, Platform, ToolResult, tool_result
from claudevision.steps import Resized, ResizeReason, SharedBudget

from .conftest import assert_valid_message, encode, gradient, image_blocks, jpeg, png

STANDARD = "claude-sonnet-4-6"
HIGH = "claude-opus-4-8"


def every_kind_of_input(tmp_path: Path) -> list[Any]:
    data = png(60, 40)
    path = tmp_path / "x.png"
    path.write_bytes(data)
    encoded = base64.b64encode(data).decode()
    return [
        str(path),
        path,
        data,
        bytearray(data),
        memoryview(data),
        io.BytesIO(data),
        encoded,
        "data:image/png;base64," + encoded,
        "https://example.com/cat.jpg",
        cv.FileIdSource(file_id="file_011CNha8iCJcU1wXNR6q4V8w"),
        gradient(60, 40),
        np.zeros((40, 60, 3), dtype=np.uint8),
        cv.Base64Source(data=data),
        cv.FileSource(path=path),
        cv.URLSource(url="https://example.com/a.webp"),
    ]


def test_every_input_kind_validates_against_the_sdk(tmp_path: Path) -> None:
    inputs = every_kind_of_input(tmp_path)
    for item in inputs:
        message = ImageMessage("Describe it.", item, model=STANDARD)
        assert_valid_message(message.to_param())
    together = ImageMessage("Compare them.", *every_kind_of_input(tmp_path), model=STANDARD)
    param = together.to_param()
    assert_valid_message(param)
    assert len(image_blocks(param["content"])) == len(inputs)


def test_single_image_comes_before_the_prompt() -> None:
    message = ImageMessage("What is this?", png(30, 20), model=STANDARD)
    content = message.content
    assert [b["type"] for b in content] == ["image", "text"]
    assert content[1] == {"type": "text", "text": "What is this?"}


def test_several_images_are_labelled() -> None:
    message = ImageMessage("Which is larger?", png(30, 20), png(40, 20), model=STANDARD)
    content = message.content
    assert [b["type"] for b in content] == ["text", "image", "text", "image", "text"]
    assert content[0] == {"type": "text", "text": "Image 1:"}
    assert content[2] == {"type": "text", "text": "Image 2:"}
    assert content[4] == {"type": "text", "text": "Which is larger?"}


def test_labels_can_be_turned_off() -> None:
    message = ImageMessage("Hi", png(10, 10), png(10, 10), label_images=False)
    assert [b["type"] for b in message.content] == ["image", "image", "text"]


def test_cache_marks_the_last_image() -> None:
    message = ImageMessage("Hi", png(10, 10), png(12, 10), cache="1h")
    blocks = image_blocks(message.content)
    assert "cache_control" not in blocks[0]
    assert blocks[1]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert_valid_message(message.to_param())


def test_oversized_image_field() -> None:
    message = ImageMessage("Hi", png(10, 10), oversized_image="error")
    assert image_blocks(message.content)[0]["transformations"] == {"oversized_image": "error"}
    assert_valid_message(message.to_param())


def test_tokens_and_cost() -> None:
    message = ImageMessage("Hi", png(1920, 1080), png(200, 200), model=STANDARD)
    assert message.tokens == 1560 + 64
    assert message.cost() == pytest.approx((1560 + 64) * 3 / 1_000_000)
    assert ImageMessage("Hi", "https://example.com/a.png").tokens is None


def test_prompt_must_come_first() -> None:
    with pytest.raises(cv.ConfigurationError, match="the prompt comes first"):
        ImageMessage(png(10, 10), "what is it?")  # type: ignore[arg-type]


def test_errors_name_the_image_by_position() -> None:
    message = ImageMessage("Hi", png(10, 10), b"not an image at all, clearly" * 4)
    with pytest.raises(cv.NotAnImageError, match=r"^image 2 \(bytes \(112 bytes\)\)"):
        message.to_param()


def test_tool_result_with_a_screenshot() -> None:
    block = tool_result("toolu_01", png(1920, 1080), text="Took a screenshot", model=STANDARD)
    assert block["type"] == "tool_result"
    assert block["tool_use_id"] == "toolu_01"
    content: list[Any] = list(block["content"])
    assert content[0] == {"type": "text", "text": "Took a screenshot"}
    assert content[1]["type"] == "image"
    assert_valid_message({"role": "user", "content": [block]})


def test_tool_results_come_first_and_count_as_images() -> None:
    results = [ToolResult(f"toolu_{i}", png(2100, 1000)) for i in range(11)]
    message = ImageMessage("Next?", *[png(2100, 1000)] * 10, tool_results=results, model=HIGH)
    content = message.content
    assert [b["type"] for b in content[:11]] == ["tool_result"] * 11
    assert len(image_blocks(content)) == 21
    assert all(image.size == (2000, 952) for image in message.images)
    assert_valid_message(message.to_param())


# -- request-wide rules --------------------------------------------------------------------


def test_twenty_images_keep_their_size_twenty_one_are_capped() -> None:
    wide = png(2100, 1000)
    twenty = ImageMessage("Hi", *[wide] * 20, model=HIGH)
    assert all(image.size == (2100, 1000) and image.unchanged for image in twenty.images)
    many = ImageMessage("Hi", *[wide] * 21, model=HIGH)
    assert all(image.size == (2000, 952) for image in many.images)
    assert all(
        Resized((2100, 1000), (2000, 952), ResizeReason.MANY_IMAGES) in image.steps
        for image in many.images
    )


@pytest.mark.parametrize(("model", "limit"), [("claude-haiku-4-5", 100), (STANDARD, 600)])
def test_images_per_request(model: str, limit: int) -> None:
    tiny = png(8, 8)
    assert len(ImageMessage("Hi", *[tiny] * limit, model=model).images) == limit
    with pytest.raises(
        cv.TooManyImagesError, match=f"{limit + 1} images in one request.*at most {limit}"
    ):
        ImageMessage("Hi", *[tiny] * (limit + 1), model=model).images  # noqa: B018


def test_unknown_context_window_allows_100() -> None:
    with pytest.raises(cv.TooManyImagesError, match="at most 100"):
        ImageMessage("Hi", *[png(8, 8)] * 101).images  # noqa: B018


def test_request_over_32_mb_is_shrunk_fairly() -> None:
    rng = np.random.default_rng(3)
    noise = Image.fromarray(rng.integers(0, 256, (1200, 1800, 3), dtype=np.uint8))
    big = encode(noise, "PNG")  # ~6.5 MB, ~8.6 MB as base64
    small = jpeg(400, 300)
    message = ImageMessage("Hi", *[big] * 5, small, model=HIGH)
    images = message.images
    body = len(json.dumps(message.to_param()))
    assert body <= 32_000_000
    assert images[-1].unchanged  # the small one keeps its bytes
    shares = {image.steps[-1] for image in images[:-1]}
    assert (
        len(shares) == 1
        and isinstance(share := shares.pop(), SharedBudget)
        and (share.platform, share.limit) == ("anthropic", 32_000_000)
    )
    assert all(image.base64_size <= 32_000_000 // 5 for image in images[:-1])


def test_request_that_cannot_fit_is_a_clear_error() -> None:
    tight = Platform("tight", 10_000_000, frozenset({"base64"}), max_request_bytes=40_000)
    images = [encode(gradient(300, 300), "PNG")] * 10
    with pytest.raises(cv.RequestTooLargeError, match=r"over tight's 40,000 byte limit.*10 images"):
        ImageMessage("Hi", *images, platform=tight).images  # noqa: B018


def test_platform_limits_apply() -> None:
    message = ImageMessage("Hi", "https://example.com/a.png", platform="bedrock", download=False)
    with pytest.raises(cv.UnsupportedSourceError, match="leave download unset"):
        message.images  # noqa: B018


def test_describe_lists_images_and_total() -> None:
    text = ImageMessage("Hi", png(1920, 1080), model=STANDARD).describe()
    assert text.endswith("1 image(s), 1,560 tokens")
