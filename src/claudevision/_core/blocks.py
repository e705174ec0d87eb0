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
        DocumentBlockParam,
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


def _source(
    media_type: str | None, data: bytes | None, url: str | None, file_id: str | None
) -> dict[str, Any]:
    """A block's source: base64 of ``data``, else a URL, else a Files API id."""
    if data is not None:
        return {"type": "base64", "media_type": media_type, "data": b64.encode(data)}
    if url is not None:
        return {"type": "url", "url": url}
    return {"type": "file", "file_id": file_id}


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
    block: dict[str, Any] = {"type": "image", "source": _source(media_type, data, url, file_id)}
    if cache is not None:
        block["cache_control"] = cache
    if oversized_image is not None:
        block["transformations"] = {"oversized_image": oversized_image}
    return cast("ImageBlockParam", block)


def document_block(
    *,
    data: bytes | None = None,
    url: str | None = None,
    file_id: str | None = None,
    title: str | None = None,
    context: str | None = None,
    citations: bool | None = None,
    cache: CacheControlEphemeralParam | None = None,
) -> DocumentBlockParam:
    """A PDF ``document`` block: base64 of ``data`` (encoded here), a URL or a file id."""
    source = _source("application/pdf", data, url, file_id)
    block: dict[str, Any] = {"type": "document", "source": source}
    for key, value in (("title", title), ("context", context), ("cache_control", cache)):
        if value is not None:
            block[key] = value
    if citations is not None:
        block["citations"] = {"enabled": citations}
    return cast("DocumentBlockParam", block)


FILES_BETA = "files-api-2025-04-14"
"""The ``anthropic-beta`` value for requests holding Files API sources (sent on every
such request: harmless where the API no longer needs it)."""


def _betas(headers: Any) -> list[str]:
    """The ``anthropic-beta`` values of ``headers``, whatever the key's case."""
    found: list[str] = []
    for key, value in dict(headers or {}).items():
        if str(key).lower() == "anthropic-beta" and isinstance(value, str):
            found += [beta.strip() for beta in value.split(",") if beta.strip()]
    return found


def _with_betas(kwargs: dict[str, Any], betas: list[str]) -> dict[str, Any]:
    headers = {
        key: value
        for key, value in dict(kwargs.get("extra_headers") or {}).items()
        if str(key).lower() != "anthropic-beta"
    }
    headers["anthropic-beta"] = ",".join(dict.fromkeys(betas))
    return {**kwargs, "extra_headers": headers}


def with_files_beta(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with the Files API beta added to ``extra_headers`` (any betas kept)."""
    return _with_betas(kwargs, [*_betas(kwargs.get("extra_headers")), FILES_BETA])


def merged_betas(kwargs: dict[str, Any], client_headers: Any) -> dict[str, Any]:
    """``kwargs`` whose ``anthropic-beta`` also keeps the client's default betas (the SDK
    would otherwise let one replace the other)."""
    extra = _betas(kwargs.get("extra_headers"))
    defaults = _betas(client_headers)
    if not extra or not defaults:
        return kwargs
    return _with_betas(kwargs, [*defaults, *extra])


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
