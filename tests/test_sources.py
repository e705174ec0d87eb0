"""Every kind of input becomes a source model; every bad input a clear error."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import claudevision as cv
from claudevision import (
    Base64Source,
    FileIdSource,
    FileSource,
    URLSource,
    decode_base64,
    prepare_image,
    to_source,
)

from .conftest import decode, jpeg, png

PNG_BYTES = png(40, 30)
B64 = base64.b64encode(PNG_BYTES).decode()


def test_path_string_and_pathlib(tmp_path: Path) -> None:
    path = tmp_path / "a picture.png"
    path.write_bytes(PNG_BYTES)
    assert to_source(str(path)) == FileSource(path=path)
    assert to_source(path) == FileSource(path=path)


def test_https_url() -> None:
    assert to_source("https://example.com/x.jpg") == URLSource(url="https://example.com/x.jpg")


def test_http_url_is_refused_with_advice() -> None:
    with pytest.raises(cv.UnsupportedSourceError, match="only https:// URLs"):
        to_source("http://example.com/x.jpg")


def test_data_url_keeps_declared_type() -> None:
    source = to_source(f"data:image/jpeg;base64,{B64}")
    assert isinstance(source, Base64Source)
    assert source.data == PNG_BYTES
    assert source.media_type == "image/jpeg"


@pytest.mark.parametrize(
    "text",
    [
        B64,
        "\n".join(B64[i : i + 76] for i in range(0, len(B64), 76)),  # MIME line breaks
        "  " + B64 + "\r\n",
        B64.rstrip("="),  # missing padding
        base64.urlsafe_b64encode(PNG_BYTES).decode().rstrip("="),  # URL-safe alphabet
    ],
)
def test_base64_as_people_paste_it(text: str) -> None:
    source = to_source(text)
    assert isinstance(source, Base64Source)
    assert source.data == PNG_BYTES


def test_output_base64_is_standard_padded_single_line() -> None:
    urlsafe = base64.urlsafe_b64encode(PNG_BYTES).decode().rstrip("=")
    data = prepare_image(urlsafe).block["source"]["data"]  # type: ignore[typeddict-item]
    assert data == B64
    assert "\n" not in data and "-" not in data and "_" not in data
    assert len(data) % 4 == 0


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_bytes_like(kind: type) -> None:
    source = to_source(kind(PNG_BYTES))
    assert isinstance(source, Base64Source)
    assert source.data == PNG_BYTES


def test_binary_file_object() -> None:
    assert to_source(io.BytesIO(PNG_BYTES)) == Base64Source(data=PNG_BYTES)


def test_text_file_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("hello")
    with (
        path.open() as handle,
        pytest.raises(cv.ImageInputError, match="text mode; open it in binary mode"),
    ):
        to_source(handle)  # type: ignore[arg-type]


def test_pil_image_is_lossless_png() -> None:
    image = Image.new("RGB", (5, 4), (10, 20, 30))
    source = to_source(image)
    assert isinstance(source, Base64Source)
    assert decode(source.data).getpixel((2, 2)) == (10, 20, 30)


@pytest.mark.parametrize("shape", [(6, 5), (6, 5, 3), (6, 5, 4)])
def test_numpy_arrays(shape: tuple[int, ...]) -> None:
    array = np.full(shape, 7, dtype=np.uint8)
    image = decode(to_source(array).data)  # type: ignore[union-attr]
    assert image.size == (5, 6)
    prepared = prepare_image(array)
    assert prepared.size == (5, 6)
    assert prepared.media_type == "image/png"


def test_numpy_wrong_dtype_is_explained() -> None:
    with pytest.raises(cv.ImageInputError, match=r"expected a uint8 array.*astype\('uint8'\)"):
        to_source(np.zeros((4, 4), dtype=np.float32))


def test_source_models_pass_through() -> None:
    source = FileIdSource(file_id="file_011CNha8iCJcU1wXNR6q4V8w")
    assert to_source(source) is source


def test_union_is_discriminated() -> None:
    from pydantic import TypeAdapter

    adapter: TypeAdapter[cv.ImageSource] = TypeAdapter(cv.ImageSource)
    assert isinstance(
        adapter.validate_python({"type": "url", "url": "https://a.b/c.png"}), URLSource
    )
    assert isinstance(adapter.validate_python({"type": "file", "file_id": "file_1"}), FileIdSource)
    assert isinstance(adapter.validate_python({"type": "path", "path": "x.png"}), FileSource)
    parsed = adapter.validate_python({"type": "base64", "data": B64})
    assert isinstance(parsed, Base64Source)
    assert parsed.data == PNG_BYTES


def test_decode_base64_returns_declared_type() -> None:
    assert decode_base64("data:image/gif;base64,R0lGODlh") == (b"GIF89a", "image/gif")


# -- bad input: a claudevision error that names the input, says what is wrong and what to do


def test_empty_string() -> None:
    with pytest.raises(cv.EmptyImageError, match=r"^'' \(empty string\): the image is empty"):
        prepare_image("")


def test_empty_bytes() -> None:
    with pytest.raises(cv.EmptyImageError, match=r"bytes \(0 bytes\).*empty"):
        prepare_image(b"")


def test_truncated_how_to_example() -> None:
    with pytest.raises(cv.InvalidBase64Error) as info:
        prepare_image("iVBORw0KGgoAAAANSUhEUgAAAAUA...")
    message = str(info.value)
    assert message.startswith("'iVBORw0KGgoAAAANSUhEUgAA'...")
    assert "character '.' at position 28" in message
    assert "shortened example" in message


def test_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.jpg"
    path.write_bytes(jpeg(400, 300)[:3000])
    with pytest.raises(cv.CorruptImageError, match=r"cut\.jpg.*truncated.*complete file"):
        prepare_image(path)


def test_truncated_png_is_not_passed_through() -> None:
    with pytest.raises(cv.CorruptImageError, match=r"truncated|damaged"):
        prepare_image(png(300, 200)[:-40])


def test_random_bytes() -> None:
    noise = np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    with pytest.raises(
        cv.NotAnImageError, match=r"bytes \(5000 bytes\): 5,000 bytes of .*not an image"
    ):
        prepare_image(noise)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(cv.ImageNotFoundError, match="is a directory"):
        prepare_image(tmp_path)


def test_missing_path_string() -> None:
    with pytest.raises(cv.ImageNotFoundError, match=r"'no/such/photo\.jpg' does not exist"):
        prepare_image("no/such/photo.jpg")


def test_missing_path_object(tmp_path: Path) -> None:
    with pytest.raises(cv.ImageNotFoundError, match="does not exist"):
        prepare_image(tmp_path / "nope.png")


def test_svg_file(tmp_path: Path) -> None:
    path = tmp_path / "logo.svg"
    path.write_text('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>')
    with pytest.raises(cv.UnsupportedFormatError, match=r"SVG is a vector format.*rasterize"):
        prepare_image(path)


def test_svg_markup_string() -> None:
    with pytest.raises(cv.UnsupportedFormatError, match="SVG markup"):
        prepare_image('<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>')


def test_pdf_bytes_are_named() -> None:
    with pytest.raises(cv.NotAnImageError, match=r"a PDF document \(application/pdf\)"):
        prepare_image(b"%PDF-1.7\n" + b"0" * 200)


def test_unsupported_object() -> None:
    with pytest.raises(cv.ImageInputError, match="cannot make an image from a int"):
        prepare_image(42)  # type: ignore[arg-type]


def test_bad_data_url() -> None:
    with pytest.raises(cv.InvalidBase64Error, match="not base64-encoded"):
        prepare_image("data:image/png,%89PNG")


def test_cut_base64() -> None:
    with pytest.raises(cv.InvalidBase64Error, match="cut short"):
        prepare_image(B64[:81])  # 81 characters cannot be whole bytes


def test_errors_are_claudevision_errors_only() -> None:
    bad_inputs: list[Any] = [
        "",
        "iVBORw0KGgoAAAANSUhEUgAAAAUA...",
        b"\x00" * 64,
        3.5,
        "nope.png",
    ]
    for bad in bad_inputs:
        with pytest.raises(cv.ClaudeVisionError):
            prepare_image(bad)


def test_models_raise_our_errors_directly() -> None:
    with pytest.raises(cv.InvalidBase64Error, match="invalid base64"):
        Base64Source.model_validate({"data": "not base64 at all!"})
    with pytest.raises(cv.InvalidBase64Error, match="invalid base64"):
        Base64Source.from_string("data:image/png;base64,@@@@")
    with pytest.raises(cv.UnsupportedSourceError, match="only https:// URLs"):
        URLSource(url="ftp://example.com/a.png")
