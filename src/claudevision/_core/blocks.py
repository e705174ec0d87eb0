"""The SDK's shapes, built as plain dicts: ``anthropic.types`` is imported for typing only.

Every dict claudevision emits is one of the SDK's TypedDicts (``ImageBlockParam``,
``TextBlockParam``, ``ToolResultBlockParam``, ...); they are built here and nowhere else,
so importing claudevision never imports the SDK.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from . import b64
from .exceptions import ConfigurationError

if TYPE_CHECKING:
    from anthropic.types import (
        CacheControlEphemeralParam,
        ImageBlockParam,
        TextBlockParam,
        ToolResultBlockParam,
    )

__all__ = ["cache_control", "image_block", "text_block", "tool_result_block"]

OversizedImage = Literal["downsize", "error"]
Cache = bool | Literal["5m", "1h"]
"""``True`` for the default 5-minute prompt cache, or a TTL: ``"5m"``, ``"1h"``."""


def cache_control(cache: Cache) -> CacheControlEphemeralParam | None:
    """The ``cache_control`` value for a ``cache=`` argument (None for no caching)."""
    if cache is False:
        return None
    if cache is True:
        return {"type": "ephemeral"}
    if cache in ("5m", "1h"):
        return {"type": "ephemeral", "ttl": cache}
    raise ConfigurationError(f"cache={cache!r}: use True, False, '5m' or '1h'")


def image_block(
    *,
    media_type: str | None = None,
    data: bytes | None = None,
    url: str | None = None,
    file_id: str | None = None,
    cache: CacheControlEphemeralParam | None = None,
    oversized_image: OversizedImage | None = None,
) -> ImageBlockParam:
    """An ``image`` block: base64 of ``data`` (encoded here, once), a URL or a file id."""
    source: dict[str, Any]
    if data is not None:
        text = b64.encode(data)
        source = {"type": "base64", "media_type": media_type, "data": text}
    elif url is not None:
        source = {"type": "url", "url": url}
    else:
        source = {"type": "file", "file_id": file_id}
    block: dict[str, Any] = {"type": "image", "source": source}
    if cache is not None:
        block["cache_control"] = cache
    if oversized_image is not None:
        block["transformations"] = {"oversized_image": oversized_image}
    return cast("ImageBlockParam", block)


def text_block(text: str) -> TextBlockParam:
    """A ``text`` block."""
    return {"type": "text", "text": text}


def tool_result_block(
    tool_use_id: str, content: Sequence[TextBlockParam | ImageBlockParam], *, is_error: bool
) -> ToolResultBlockParam:
    """A ``tool_result`` block answering ``tool_use_id``."""
    block: ToolResultBlockParam = {
        "type": "tool_result",
        "tool_use_id": tool_use_id,
        "content": list(content),
    }
    if is_error:
        block["is_error"] = True
    return block
