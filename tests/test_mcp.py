"""The MCP adapter against the real ``mcp`` package: ImageContent in, ImageContent out."""

from __future__ import annotations

import base64
import subprocess
import sys
from typing import Any

import pytest

from claudevision import (
    EmptyImageError,
    FileIdSource,
    ImageBytes,
    ImageInputError,
    InvalidBase64Error,
    MissingDependencyError,
    UnsupportedSourceError,
    fit_screenshot,
    prepare_image,
    tile_image,
)
from claudevision.mcp import from_mcp, to_mcp
from claudevision.steps import CorrectedMediaType, SentUnchanged

from .conftest import jpeg, png

mcp_types: Any = pytest.importorskip("mcp.types")

STANDARD = "claude-sonnet-4-6"


def test_a_fitted_screenshot_round_trips_through_image_content() -> None:
    shot = fit_screenshot(png(2880, 1800), target="auto", pad=True, model=STANDARD)
    content = to_mcp(shot.image)
    assert isinstance(content, mcp_types.ImageContent)
    wire = content.model_dump(by_alias=True, exclude_none=True)
    assert wire == {
        "type": "image",
        "data": base64.b64encode(shot.image.data or b"").decode(),
        "mimeType": "image/png",
    }
    again = mcp_types.ImageContent.model_validate_json(content.model_dump_json(by_alias=True))
    read = from_mcp(again)
    assert isinstance(read, ImageBytes) and read.data == shot.image.data
    assert read.declared_media_type == "image/png"
    # already fitted: prepared again for the same model, it goes out byte for byte
    prepared = prepare_image(read, model=STANDARD)
    assert prepared.unchanged and prepared.steps == (SentUnchanged(),)
    assert prepared.size == shot.size


def test_the_json_form_of_image_content_is_read_too() -> None:
    data = png(64, 48)
    read = from_mcp(
        {"type": "image", "data": base64.b64encode(data).decode(), "mimeType": "image/png"}
    )
    assert read.data == data and read.label == "MCP image content (image/png)"
    assert from_mcp({"type": "image", "data": base64.b64encode(data).decode()}).data == data


def test_the_media_type_is_only_a_claim_the_bytes_decide() -> None:
    data = jpeg(640, 480)
    content = mcp_types.ImageContent(
        type="image", data=base64.b64encode(data).decode(), mimeType="image/png"
    )
    prepared = prepare_image(from_mcp(content), model=STANDARD)
    assert prepared.media_type == "image/jpeg"
    assert prepared.block["source"]["media_type"] == "image/jpeg"  # type: ignore[typeddict-item]
    assert CorrectedMediaType("image/png", "image/jpeg") in prepared.steps
    shot = fit_screenshot(from_mcp(content), target="XGA")
    assert shot.image.media_type == "image/jpeg"


def test_a_screenshot_from_an_mcp_tool_is_fitted_like_any_other() -> None:
    content = to_mcp(prepare_image(png(1920, 1080), model="claude-opus-4-8"))
    shot = fit_screenshot(from_mcp(content, label="browser_screenshot"), target="FWXGA")
    assert shot.size == (1365, 768) and shot.image.label == "browser_screenshot"
    assert shot.to_screen(1365, 768) == pytest.approx((1920, 1080))


def test_tiles_go_out_as_image_content() -> None:
    tiles = tile_image(png(1000, 5000), model=STANDARD)
    contents = [to_mcp(tile.image) for tile in tiles]
    assert [base64.b64decode(c.data) for c in contents] == [t.image.data for t in tiles]


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        ({"type": "text", "text": "hello"}, ImageInputError, "type 'text'"),
        ({"type": "image", "data": b"abc", "mimeType": "image/png"}, ImageInputError, "bytes"),
        ({"type": "image", "data": "!!!!", "mimeType": "image/png"}, InvalidBase64Error, "base64"),
        ({"type": "image", "data": "", "mimeType": "image/png"}, EmptyImageError, "empty"),
        (42, ImageInputError, "from a int"),
    ],
)
def test_content_that_is_not_an_image_is_refused(
    content: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        from_mcp(content)


def test_text_content_objects_are_refused() -> None:
    with pytest.raises(ImageInputError, match="type 'text'"):
        from_mcp(mcp_types.TextContent(type="text", text="clicked"))


def test_a_reference_has_no_bytes_for_mcp() -> None:
    reference = prepare_image(FileIdSource(file_id="file_011"))
    with pytest.raises(UnsupportedSourceError, match="carries the image itself"):
        to_mcp(reference)


def test_to_mcp_without_the_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mcp", None)
    monkeypatch.setitem(sys.modules, "mcp.types", None)
    with pytest.raises(
        MissingDependencyError, match=r"pip install mcp \(or pip install -e '\.\[mcp\]'"
    ):
        to_mcp(prepare_image(png(10, 10)))


def test_importing_the_adapter_imports_neither_mcp_nor_the_sdk() -> None:
    code = (
        "import sys, base64, claudevision.mcp as m\n"
        "m.from_mcp({'type': 'image', 'mimeType': 'image/gif', 'data': "
        "'R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=='})\n"
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'mcp', 'mcp_types', 'anthropic'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
