"""Where an image comes from: four source models, and what a string says it is.

Pure logic: nothing here touches the file system (reading is in ``read``).

    >>> from claudevision import to_source
    >>> to_source("https://example.com/cat.jpg")
    URLSource(type='url', url='https://example.com/cat.jpg')
    >>> to_source("data:image/png;base64,iVBORw0KGgo=").type
    'base64'

``to_source`` accepts a path (``str`` or ``pathlib.Path``), an ``https://`` URL, a
``data:`` URL, raw base64 (with line breaks, URL-safe alphabet or missing padding), bytes,
``bytearray``, ``memoryview``, a binary file object, a ``PIL.Image.Image``, a NumPy array
(uint8, H x W, H x W x 3 or H x W x 4) or a source model. Files API ids are never guessed
from a string: wrap them as ``FileIdSource(file_id="file_...")``.

A string is taken as a path only where the caller allows it (``paths=True``, the
default for code that passes its own files); for strings from strangers pass
``paths=False``, or build ``Base64Source.from_string(text)``, which never reads a file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, Literal

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from .._core import b64
from .._core.exceptions import (
    BlockedURLError,
    EmptyImageError,
    ImageTooLargeError,
    InvalidBase64Error,
    UnsupportedFormatError,
    UnsupportedSourceError,
)
from .guard import check_url, literal_address, redact, refusal

__all__ = [
    "Base64Source",
    "FileIdSource",
    "FileSource",
    "ImageInput",
    "ImageSource",
    "URLSource",
    "base64_in_bytes",
    "classify_string",
    "could_be_base64",
    "decode_base64",
    "describe_input",
    "describe_shape",
    "figure_png",
    "is_figure",
]

_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/=_-]*")
# How base64 of each accepted format begins; a string starting so is never taken as a path.
_BASE64_IMAGE_PREFIXES = ("iVBORw0KGgo", "/9j/", "R0lGOD", "UklGR")
_MAX_PATH_LENGTH = 4096
_OTHER_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{1,15}://")
# The smallest valid image files take 60-odd bytes, so their base64 is longer than this.
_MIN_BASE64_IMAGE = 64


_EMPTY = b64.EMPTY


def _short(text: str, keep: int = 24) -> str:
    text = text.strip()
    if len(text) <= keep:
        return repr(text)
    return f"{text[:keep]!r}... ({len(text)} chars)"


def describe_input(obj: object) -> str:
    """How error messages name an input: a path, a short prefix of a string, a size."""
    if isinstance(obj, str):
        if not obj.strip():
            return f"{obj!r} (empty string)"
        if "://" in obj[:16] and "@" in obj[:1024]:  # credentials sit at the start
            obj = redact(obj)
        if len(obj) > 200:  # never scanned whole: a data URL may hold megabytes
            return _short(obj)
        looks_like_path = not obj.startswith(_BASE64_IMAGE_PREFIXES) and (
            "." in obj or obj.startswith(("~", "/", "http"))
        )
        if looks_like_path and not any(c.isspace() for c in obj):
            return repr(obj)
        return _short(obj)
    if isinstance(obj, Path):
        return f"path {str(obj)!r}"
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return f"{type(obj).__name__} ({len(obj)} bytes)"
    if isinstance(obj, FileSource):
        return f"path {str(obj.path)!r}"
    if isinstance(obj, URLSource):
        return f"URL {redact(obj.url)!r}"
    if isinstance(obj, FileIdSource):
        return f"file id {obj.file_id!r}"
    if isinstance(obj, Base64Source):
        return f"base64 source ({len(obj.data)} bytes)"
    if isinstance(obj, Mapping):
        return describe_shape(obj)
    name = getattr(obj, "name", None)
    if isinstance(name, str):
        return f"file object {name!r}"
    size = getattr(obj, "size", None)
    mode = getattr(obj, "mode", None)
    if mode is not None and size is not None:
        return f"PIL image {mode} {size[0]}x{size[1]}"
    if is_figure(obj):
        return f"matplotlib {type(obj).__name__}"
    shape = getattr(obj, "shape", None)
    if shape is not None:
        return f"array {tuple(shape)} {getattr(obj, 'dtype', '')}"
    return type(obj).__name__


def describe_shape(part: Mapping[str, Any]) -> str:
    """How error messages name a dict image: its shape, never its (long) data."""
    kind = part.get("type")
    names = {
        "image_url": "an OpenAI image_url part",
        "input_image": "an OpenAI input_image part",
        "image": "an image block" if "source" in part else "a LangChain image block",
    }
    return names.get(str(kind), f"a dict with type {kind!r}")


def decode_base64(text: str, *, label: str | None = None) -> tuple[bytes, str | None]:
    """Decode base64 the way people paste it; return the bytes and any declared media type.

    Accepts a ``data:`` URL prefix, whitespace and line breaks, the URL-safe alphabet and
    missing padding. ``label`` names the input in errors (default: a prefix of ``text``).

    >>> decode_base64("data:image/gif;base64,R0lG\\nODlh")
    (b'GIF89a', 'image/gif')
    """
    try:
        return _decode_base64(text)
    except InvalidBase64Error as exc:
        exc.input = exc.input or label or _short(text)
        raise


def _decode_base64(text: str) -> tuple[bytes, str | None]:
    declared: str | None = None
    payload = text.strip()
    if payload[:5].lower() == "data:":
        header, comma, payload = payload.partition(",")
        if not comma:
            raise InvalidBase64Error("a data URL needs a comma before its data")
        if ";base64" not in header.lower():
            raise InvalidBase64Error(
                f"the data URL is not base64-encoded (no ';base64' in {header[:40]!r}); "
                "encode the image as base64 or pass the bytes"
            )
        declared = header[5:].split(";")[0].strip().lower() or None
    return b64.decode(payload), declared


class Base64Source(BaseModel):
    """Image bytes held in memory, sent to the API as a ``base64`` source.

    ``data`` holds the raw bytes; build it from bytes, or from a base64 / data-URL string
    with :meth:`from_string` (validating a dict with a base64 string works too).
    ``media_type`` is what the caller claims; the bytes decide what is sent.

    >>> Base64Source.from_string("data:image/gif;base64,R0lGODlh")
    Base64Source(type='base64', data=b'GIF89a', media_type='image/gif')
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    type: Literal["base64"] = "base64"
    data: bytes
    media_type: str | None = None

    @field_validator("data", mode="before")
    @classmethod
    def _decode(cls, value: Any) -> Any:
        if isinstance(value, str):
            return decode_base64(value)[0]
        if isinstance(value, (bytearray, memoryview)):
            return bytes(value)
        return value

    @field_serializer("data", when_used="json")
    def _encode(self, value: bytes) -> str:
        return b64.encode(value)  # standard alphabet, as the API takes

    @classmethod
    def from_string(cls, text: str, *, label: str | None = None) -> Base64Source:
        """From base64 or a data URL, keeping the data URL's media type as the claim.

        This never reads a file, whatever ``text`` holds: use it for strings from strangers.
        """
        data, declared = decode_base64(text, label=label)
        return cls(data=data, media_type=declared)


class URLSource(BaseModel):
    """An ``https://`` URL the API downloads itself (direct Claude API only)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    type: Literal["url"] = "url"
    url: str

    @field_validator("url")
    @classmethod
    def _https_only(cls, value: str) -> str:
        if not value.lower().startswith("https://"):
            raise UnsupportedSourceError(
                f"URL {redact(value)!r}: the API downloads only https:// URLs; pass "
                "download=True to fetch it here (http needs allow_private=True too), or "
                "pass the image's bytes"
            )
        checked = check_url(value, allow_http=False)
        address = literal_address(checked.host)
        reason = None if address is None else refusal(address, allow_private=False)
        if reason is not None or checked.host == "localhost" or checked.host.endswith(".localhost"):
            raise BlockedURLError(
                f"URL {redact(value)!r} names {reason or 'this machine'}, which the API "
                "cannot reach; pass download=True with allow_private=True to fetch it here"
            )
        return value


class FileSource(BaseModel):
    """A local file, read when the image is prepared."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    type: Literal["path"] = "path"
    path: Path


class FileIdSource(BaseModel):
    """A file uploaded with the Files API, referenced by id (direct Claude API only)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    type: Literal["file"] = "file"
    file_id: str = Field(min_length=1, pattern=r"^\S+$")


ImageSource = Annotated[
    Base64Source | URLSource | FileSource | FileIdSource, Field(discriminator="type")
]
"""Any of the four source models, discriminated by ``type``."""

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from numpy.typing import NDArray

    ImageInput = (
        str
        | Path
        | bytes
        | bytearray
        | memoryview
        | IO[bytes]
        | Image.Image
        | NDArray[Any]
        | Figure
        | Base64Source
        | URLSource
        | FileSource
        | FileIdSource
        | Mapping[str, Any]
    )
else:
    ImageInput = Any
"""Everything :func:`to_source` and :func:`~claudevision.prepare_image` accept."""


def classify_string(
    text: str, *, paths: bool, label: str | None = None
) -> Base64Source | URLSource | Path:
    """What a string holds: base64 or a data URL, an ``https://`` URL, or (if allowed) a path.

    Returns a :class:`~pathlib.Path` for a string to be read as a file; whether it exists
    is for the reader to find out. With ``paths=False`` nothing is ever a path.
    """
    stripped = text.strip()
    if not stripped:
        raise EmptyImageError(_EMPTY)
    lowered = stripped[:8].lower()
    if lowered.startswith("data:"):
        return Base64Source.from_string(stripped, label=label)
    if lowered.startswith(("https://", "http://")):
        return URLSource(url=stripped)
    if _OTHER_URL.match(stripped):
        check_url(stripped, allow_http=False)  # names the scheme it refuses
    if stripped.startswith(_BASE64_IMAGE_PREFIXES):
        return Base64Source.from_string(stripped, label=label)
    if stripped.startswith("<") and "<svg" in stripped[:1024].lower():
        raise UnsupportedFormatError(
            "SVG markup is a vector format the API does not take; rasterize it first "
            "(e.g. cairosvg.svg2png) and pass the PNG"
        )
    if paths and len(text) < _MAX_PATH_LENGTH and "\n" not in text:
        return Path(text)
    return Base64Source.from_string(stripped, label=label)


def base64_in_bytes(data: bytes, *, label: str | None = None) -> tuple[bytes, str | None]:
    """Bytes that hold base64 text or a data URL (read from a text file, a form, an HTTP
    body) decoded, with any declared media type; other bytes as they are."""
    head = data[:16].lstrip()
    if head[:5].lower() == b"data:" or head.startswith(
        tuple(prefix.encode() for prefix in _BASE64_IMAGE_PREFIXES)
    ):
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            return data, None
        return decode_base64(text, label=label)
    return data, None


def is_figure(obj: object) -> bool:
    """A matplotlib ``Figure`` (or anything of matplotlib's that can ``savefig``)."""
    return type(obj).__module__.startswith("matplotlib") and callable(getattr(obj, "savefig", None))


def figure_png(figure: Any, *, max_pixels: int) -> bytes:
    """A matplotlib figure rendered to PNG at its own size and dpi, as it would be shown."""
    width, height = (round(side * figure.dpi) for side in figure.get_size_inches())
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"the figure would be {width}x{height} pixels, over the {max_pixels:,} pixel "
            "bound; lower its dpi or size (fig.set_dpi(100))"
        )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi, metadata={"Software": None})
    return buffer.getvalue()


def could_be_base64(text: str) -> bool:
    """Long enough for an image and only base64 characters: decode it when no such file."""
    stripped = text.strip()
    return len(stripped) >= _MIN_BASE64_IMAGE and _BASE64_TEXT.fullmatch(stripped) is not None
