"""The Messages API's request rules, as pure functions (no I/O, no HTTP).

Written from Anthropic's published documentation, on purpose without importing anything
from the rest of claudevision: the library prepares images by its own copy of these
rules, and a mistake in one copy shows up as a test failure instead of passing unseen on
both sides. Every number lives in the tables below.

>>> seen_size(1920, 1080, STANDARD)
(1456, 819)
>>> visual_tokens(1456, 819)
1560
>>> tier_for("us.anthropic.claude-haiku-4-5-20251001-v1:0").name
'standard'
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from PIL import Image

__all__ = [
    "HIGH_RESOLUTION",
    "LIMITS",
    "MAX_DECODE_PIXELS",
    "MEDIA_TYPES",
    "PATCH",
    "STANDARD",
    "Limits",
    "ReceivedImage",
    "Rejected",
    "Tier",
    "check_request",
    "limits_for",
    "max_images",
    "normalise_model",
    "parse_body",
    "seen_size",
    "tier_for",
    "visual_tokens",
]

MiB = 1024 * 1024
MB = 1000 * 1000

PATCH = 28
"""The model sees an image in square patches of 28 px; one patch costs one token."""

MAX_DECODE_PIXELS = 8000 * 8000
"""Images declaring more pixels than this are refused before decoding. No image within
the API's 8000 px a side has more; it only bites for limits allowing larger sides."""

MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")

# Pillow's format names -> media type. Cameras' JPEGs often open as MPO (JPEG + thumbnails).
_FORMATS = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}

_PILLOW_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")  # the only decoders tried

_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


# -- limits per platform --------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """One platform's limits. ``max_image_bytes`` is measured on the base64 string."""

    name: str
    max_image_bytes: int
    source_types: frozenset[str]
    max_request_bytes: int
    max_side: int = 8000
    many_images_threshold: int = 20
    many_images_max_side: int = 2000
    images_per_request_small_context: int = 100
    images_per_request_large_context: int = 600
    documents_count_as_images: bool = False
    """Bedrock and Vertex count document blocks toward the many-image threshold."""


_ALL_SOURCES = frozenset({"base64", "url", "file"})
_BASE64_ONLY = frozenset({"base64"})

LIMITS: dict[str, Limits] = {
    "anthropic": Limits("anthropic", 10 * MiB, _ALL_SOURCES, 32 * MB),
    "anthropic-5mb": Limits("anthropic-5mb", 5 * MiB, _ALL_SOURCES, 32 * MB),
    "bedrock": Limits("bedrock", 5 * MiB, _BASE64_ONLY, 20 * MB, documents_count_as_images=True),
    # Vertex publishes no body limit; Bedrock's 20 MB until it does.
    "vertex": Limits("vertex", 5 * MiB, _BASE64_ONLY, 20 * MB, documents_count_as_images=True),
}

_REQUIRED = ("name", "max_image_bytes", "source_types", "max_request_bytes")


def limits_for(platform: object) -> Limits:
    """The :class:`Limits` of a platform name, or of any object with a Platform's attributes.

    The object is read by its attributes (``name``, ``max_image_bytes``, ``source_types``,
    ``max_request_bytes`` and, optionally, ``max_side``, ``many_images_threshold``,
    ``many_images_max_side``, ``images_per_request_small_context``,
    ``images_per_request_large_context``), so ``claudevision.Platform`` works without
    this module importing it.
    """
    if isinstance(platform, Limits):
        return platform
    if isinstance(platform, str):
        if platform in LIMITS:
            return LIMITS[platform]
        known = ", ".join(repr(name) for name in LIMITS)
        raise ValueError(f"unknown platform {platform!r}; use one of {known} or a Platform")
    missing = [name for name in _REQUIRED if not hasattr(platform, name)]
    if missing:
        raise TypeError(f"{platform!r} is not a platform: it has no {', '.join(missing)}")
    names = [f.name for f in fields(Limits)]
    values = {name: getattr(platform, name) for name in names if hasattr(platform, name)}
    values["name"] = str(values["name"])
    values["source_types"] = frozenset(str(kind) for kind in values["source_types"])
    values.setdefault("documents_count_as_images", values["name"] in ("bedrock", "vertex"))
    return Limits(**values)


# -- models ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    """How large an image a model looks at; the API shrinks anything larger."""

    name: str
    max_edge: int
    max_tokens: int


STANDARD = Tier("standard", max_edge=1568, max_tokens=1568)
HIGH_RESOLUTION = Tier("high-resolution", max_edge=2576, max_tokens=4784)

HIGH_RESOLUTION_MODELS = frozenset(
    {"claude-opus-4-7", "claude-opus-4-8", "claude-sonnet-5", "claude-fable-5", "claude-mythos-5"}
)
"""Every other model, known or not, is on the standard tier."""

LARGE_CONTEXT_MODELS = HIGH_RESOLUTION_MODELS | {"claude-opus-4-6", "claude-sonnet-4-6"}
"""Models with a 1M-token context window; every other model has 200k."""

_ID_SUFFIX = re.compile(r"(?:-\d{8}|-v\d+(?::\d+)?|@\d{8}|-latest)+$")


def normalise_model(model: str) -> str:
    """``us.anthropic.claude-haiku-4-5-20251001-v1:0`` or ``claude-opus-4-8@20260101``
    to the plain name (``claude-haiku-4-5``, ``claude-opus-4-8``)."""
    name = model.strip().lower()
    start = name.find("claude-")
    if start > 0:
        name = name[start:]
    return _ID_SUFFIX.sub("", name)


def tier_for(model: str) -> Tier:
    """The resolution tier of ``model``: high-resolution if listed, standard otherwise."""
    return HIGH_RESOLUTION if normalise_model(model) in HIGH_RESOLUTION_MODELS else STANDARD


def max_images(model: str, limits: Limits) -> int:
    """Images one request may hold: 600 for 1M-context models, 100 for the others."""
    if normalise_model(model) in LARGE_CONTEXT_MODELS:
        return limits.images_per_request_large_context
    return limits.images_per_request_small_context


# -- what the model sees --------------------------------------------------------------


def _patches(pixels: int) -> int:
    return -(-pixels // PATCH)


def visual_tokens(width: int, height: int) -> int:
    """``ceil(w/28) * ceil(h/28)``: the tokens of a ``width`` x ``height`` image."""
    return _patches(width) * _patches(height)


def _within(width: int, height: int, tier: Tier) -> bool:
    edge = tier.max_edge
    return (
        _patches(width) * PATCH <= edge
        and _patches(height) * PATCH <= edge
        and visual_tokens(width, height) <= tier.max_tokens
    )


def _with_long_edge(long: int, width: int, height: int) -> tuple[int, int]:
    if width >= height:
        return long, max(round(long / (width / height)), 1)
    return max(round(long / (height / width)), 1), long


def seen_size(width: int, height: int, tier: Tier) -> tuple[int, int]:
    """The size the API resizes an image to: the published rule.

    An image that fits is kept. Otherwise a binary search on the long edge finds the
    largest aspect-preserving size (short edge rounded half to even) whose sides, padded
    to 28 px, fit ``tier.max_edge`` and whose tokens fit ``tier.max_tokens``.
    """
    if _within(width, height, tier):
        return width, height
    low, high = 1, max(width, height)
    while low < high:
        middle = (low + high + 1) // 2
        if _within(*_with_long_edge(middle, width, height), tier):
            low = middle
        else:
            high = middle - 1
    return _with_long_edge(low, width, height)


# -- checking a request ---------------------------------------------------------------


class Rejected(Exception):
    """The API's refusal: an HTTP status and the error message it answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class ReceivedImage:
    """An image block the server accepted, as the model would see it."""

    media_type: str
    size: tuple[int, int]
    seen: tuple[int, int]
    tokens: int
    base64_bytes: int
    source: str


@dataclass(frozen=True)
class _Context:
    model: str
    limits: Limits
    many: bool
    counting: bool
    urls: Mapping[str, bytes] = field(default_factory=dict)
    files: Mapping[str, bytes] = field(default_factory=dict)


def parse_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body, or :class:`Rejected` (400)."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise Rejected(400, "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Rejected(400, "The request body must be a JSON object")
    return body


def check_request(
    body: object,
    limits: Limits,
    *,
    counting: bool,
    urls: Mapping[str, bytes] | None = None,
    files: Mapping[str, bytes] | None = None,
) -> list[ReceivedImage]:
    """Check a Messages (or count_tokens) body as the API does; return its images.

    ``urls`` and ``files`` are what URL and Files API sources resolve to. Raises
    :class:`Rejected` with the API's status and text for the first rule broken.
    """
    if not isinstance(body, dict):
        raise Rejected(400, "The request body must be a JSON object")
    model = _check_fields(body, counting)
    _check_system(body.get("system"))
    images, documents = _collect(body["messages"])
    limit = max_images(model, limits)
    counted = len(images) + (documents if limits.documents_count_as_images else 0)
    context = _Context(
        model, limits, counted > limits.many_images_threshold, counting, urls or {}, files or {}
    )
    pages = 0
    for source in _document_sources(body["messages"]):
        _check_document_source(source, context)
        pages += _pdf_pages(source, context)
    if pages > max_pdf_pages(model):
        raise Rejected(400, f"A maximum of {max_pdf_pages(model)} PDF pages may be provided.")
    if pages and len(images) + pages > limit:
        raise Rejected(
            400, f"Too much media: {pages} document pages + {len(images)} images > {limit}"
        )
    if len(images) > limit:
        raise Rejected(400, f"Too many images in request: {len(images)} > {limit}")
    return [_check_image(block, context) for block in images]


def max_pdf_pages(model: str) -> int:
    """PDF pages one request may hold: 600 for 1M-context models, 100 for the others."""
    return 600 if normalise_model(model) in LARGE_CONTEXT_MODELS else 100


def _pdf_pages(source: dict[str, Any], context: _Context) -> int:
    """The pages of a PDF document source, read with pypdf (not the library's PDFium):
    refused as the API refuses them when it is no PDF, unreadable or encrypted."""
    kind = source.get("type")
    if kind == "base64":
        if source.get("media_type") != "application/pdf":
            return 0
        text = source.get("data")
        if not isinstance(text, str) or len(text) % 4 or not _BASE64.fullmatch(text):
            raise Rejected(400, "invalid base64 data")
        data = base64.b64decode(text)
    elif kind == "url":
        data = context.urls.get(str(source.get("url")), b"")
    elif kind == "file":
        data = context.files.get(str(source.get("file_id")), b"")
    else:
        return 0
    if b"%PDF-" not in data[:1024]:
        raise Rejected(400, "The PDF specified was not valid.")
    from pypdf import PdfReader  # the testing extra

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise Rejected(400, "The PDF specified is encrypted, which is not supported.")
        return len(reader.pages)
    except Rejected:
        raise
    except Exception:  # pypdf raises many kinds on damaged files
        raise Rejected(400, "The PDF specified was not valid.") from None


def _document_sources(content: object) -> list[dict[str, Any]]:
    """The sources of every document block (in turns and in tool results)."""
    found: list[dict[str, Any]] = []
    if isinstance(content, list):
        for item in content:
            if not isinstance(item, dict):
                continue
            if item.get("type") == "document" and isinstance(item.get("source"), dict):
                found.append(item["source"])
            found += _document_sources(item.get("content"))
    return found


def _check_document_source(source: dict[str, Any], context: _Context) -> None:
    """A document's ``url`` or ``file`` source: allowed here, and known."""
    kind = source.get("type")
    if kind not in ("url", "file"):
        return
    if kind not in context.limits.source_types:
        raise Rejected(
            400, f"source.type: '{kind}' document sources are not supported on this platform"
        )
    if context.counting:
        raise Rejected(400, "Token counting requires documents as base64 sources, not url or file")
    if kind == "file":
        file_id = source.get("file_id")
        if not isinstance(file_id, str) or file_id not in context.files:
            raise Rejected(404, f"File not found: {file_id}")


def _check_fields(body: dict[str, Any], counting: bool) -> str:
    model = body.get("model")
    if not model:
        raise Rejected(400, "model: Field required")
    if not isinstance(model, str):
        raise Rejected(400, "model: Input should be a valid string")
    max_tokens = body.get("max_tokens")
    if not counting and max_tokens is None:
        raise Rejected(400, "max_tokens: Field required")
    if not counting and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool)):
        raise Rejected(400, "max_tokens: Input should be a valid integer")
    messages = body.get("messages")
    if messages is not None and not isinstance(messages, list):
        raise Rejected(400, "messages: Input should be a valid list")
    if not messages:
        raise Rejected(400, "messages: at least one message is required")
    return model


def _check_system(system: object) -> None:
    if system is None or isinstance(system, str):
        return
    for index, block in enumerate(_as_list(system, "system")):
        where = f"system.{index}"
        if _block_type(block, where) != "text":
            raise Rejected(400, f"{where}.type: Input should be 'text'")


def _as_list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise Rejected(400, f"{where}: Input should be a valid list")
    return value


def _block_type(block: object, where: str) -> object:
    if not isinstance(block, dict):
        raise Rejected(400, f"{where}: Input should be a valid dictionary")
    if "type" not in block:
        raise Rejected(400, f"{where}.type: Field required")
    if block["type"] == "text" and not isinstance(block.get("text"), str):
        raise Rejected(400, f"{where}.text: Input should be a valid string")
    return block["type"]


def _collect(messages: list[Any]) -> tuple[list[dict[str, Any]], int]:
    """Every image block of the messages (in order), and how many document blocks."""
    images: list[dict[str, Any]] = []
    documents = 0
    for index, message in enumerate(messages):
        where = f"messages.{index}"
        if not isinstance(message, dict):
            raise Rejected(400, f"{where}: Input should be a valid dictionary")
        role = message.get("role")
        if role not in ("user", "assistant"):
            raise Rejected(400, f"{where}.role: Input should be 'user' or 'assistant'")
        if "content" not in message:
            raise Rejected(400, f"{where}.content: Field required")
        extra = sorted(set(message) - {"role", "content"})
        if extra:  # e.g. a whole SDK Message (id, usage, ...) passed back as a turn
            raise Rejected(400, f"{where}.{extra[0]}: Extra inputs are not permitted")
        found, docs = _content_images(message["content"], f"{where}.content")
        if found and role == "assistant":
            raise Rejected(400, "'image' blocks are not permitted within assistant turns")
        images += found
        documents += docs
    return images, documents


def _content_images(content: object, where: str) -> tuple[list[dict[str, Any]], int]:
    """Images of one content list: top level, in tool_result content, in documents."""
    if isinstance(content, str):
        return [], 0
    images: list[dict[str, Any]] = []
    documents = 0
    for index, block in enumerate(_as_list(content, where)):
        kind = _block_type(block, f"{where}.{index}")
        inner = block.get("content")
        if kind == "image":
            images.append(block)
        elif kind == "tool_result" and inner is not None:
            found, docs = _content_images(inner, f"{where}.{index}.content")
            images += found
            documents += docs
        elif kind == "document":
            documents += 1
            source = block.get("source")
            if isinstance(source, dict) and source.get("type") == "content":
                images += _content_images(source.get("content"), f"{where}.{index}.source")[0]
    return images, documents


# -- checking one image ---------------------------------------------------------------


def _check_image(block: dict[str, Any], context: _Context) -> ReceivedImage:
    source = block.get("source")
    if not isinstance(source, dict):
        raise Rejected(400, "source: Field required")
    data = _source_bytes(source, context)
    width, height, actual = _decode(data, source, context)
    seen = seen_size(width, height, tier_for(context.model))
    oversized = _oversized_setting(block)
    if oversized == "error" and seen != (width, height):
        raise Rejected(
            400,
            f"Image dimensions {width}x{height} exceed the maximum for this model; the largest "
            f"size that fits is {seen[0]}x{seen[1]}",
        )
    encoded = source.get("data")
    return ReceivedImage(
        media_type=actual,
        size=(width, height),
        seen=seen,
        tokens=visual_tokens(*seen),
        base64_bytes=len(encoded) if isinstance(encoded, str) else 0,
        source=str(source["type"]),
    )


def _oversized_setting(block: dict[str, Any]) -> object:
    transformations = block.get("transformations") or {}
    if not isinstance(transformations, dict):
        raise Rejected(400, "transformations: Input should be a valid dictionary")
    value = transformations.get("oversized_image", "downsize")
    if value not in ("downsize", "error"):
        raise Rejected(
            400, "transformations.oversized_image: Input should be 'downsize' or 'error'"
        )
    return value


def _source_bytes(source: dict[str, Any], context: _Context) -> bytes:
    kind = source.get("type")
    if kind not in context.limits.source_types:
        raise Rejected(
            400, f"source.type: '{kind}' image sources are not supported on this platform"
        )
    if context.counting and kind != "base64":
        raise Rejected(400, "Token counting requires images as base64 sources, not url or file")
    if kind == "url":
        url = source.get("url")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise Rejected(400, "Only HTTPS URLs are supported.")
        if url not in context.urls:
            raise Rejected(400, "Unable to download the file. Please verify the URL and try again.")
        return context.urls[url]
    if kind == "file":
        return _file_bytes(source, context)
    return _base64_bytes(source, context.limits)


def _file_bytes(source: dict[str, Any], context: _Context) -> bytes:
    """The bytes of an uploaded file, held to the same byte limit as a base64 image."""
    file_id = source.get("file_id")
    if not isinstance(file_id, str) or not file_id:
        raise Rejected(400, "source.file_id: Field required")
    try:
        data = context.files[file_id]
    except KeyError:
        raise Rejected(404, f"File not found: {file_id}") from None
    encoded = 4 * -(-len(data) // 3)
    limit = context.limits.max_image_bytes
    if encoded > limit:
        raise Rejected(
            400, f"image exceeds {limit / MiB:g} MB maximum: {encoded} bytes > {limit} bytes"
        )
    if not data:
        raise Rejected(400, "image cannot be empty")
    return data


def _base64_bytes(source: dict[str, Any], limits: Limits) -> bytes:
    if source.get("media_type") not in MEDIA_TYPES:
        raise Rejected(
            400, "Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
        )
    data = source.get("data")
    if not isinstance(data, str) or not data:
        raise Rejected(400, "image cannot be empty")
    limit = limits.max_image_bytes
    if len(data) > limit:
        raise Rejected(
            400, f"image exceeds {limit / MiB:g} MB maximum: {len(data)} bytes > {limit} bytes"
        )
    if len(data) % 4 or not _BASE64.fullmatch(data):
        raise Rejected(400, "invalid base64 data")
    try:
        return base64.b64decode(data, validate=True)
    except binascii.Error:
        raise Rejected(400, "invalid base64 data") from None


def _decode(data: bytes, source: dict[str, Any], context: _Context) -> tuple[int, int, str]:
    """Open, check by the header, then decode fully; returns width, height, media type."""
    try:
        image = Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS)
        width, height = image.size
        actual = _FORMATS.get(image.format or "")
    except Exception:  # Pillow raises many kinds for damaged or hostile input
        raise Rejected(400, "Could not process image") from None
    if actual is None:
        raise Rejected(400, "Could not process image")
    declared = source.get("media_type")
    if source.get("type") == "base64" and declared != actual:
        raise Rejected(
            400,
            f"The image was specified using the {declared} media type, but the image appears "
            f"to be a {actual} image",
        )
    _check_sides(width, height, context)
    if width * height > MAX_DECODE_PIXELS:
        raise Rejected(400, "Could not process image")
    try:
        image.load()
    except Exception:
        raise Rejected(400, "Could not process image") from None
    return width, height, actual


def _check_sides(width: int, height: int, context: _Context) -> None:
    side = context.limits.max_side
    if width > side or height > side:
        raise Rejected(
            400, f"At least one of the image dimensions exceed max allowed size: {side} pixels"
        )
    side = context.limits.many_images_max_side
    if context.many and (width > side or height > side):
        raise Rejected(
            400,
            "At least one of the image dimensions exceed max allowed size for many-image "
            f"requests: {side} pixels",
        )
