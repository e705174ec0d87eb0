"""Images in other SDKs' shapes, read as the sources they hold.

Pure logic. Anywhere an image is taken, these dicts are taken too, and their image goes
through the same pipeline as any other (type from the bytes, proof, fitting):

- an OpenAI chat part: ``{"type": "image_url", "image_url": {"url": ..., "detail": ...}}``
  (or ``"image_url": "..."``), as LangChain also writes it;
- an OpenAI Responses part: ``{"type": "input_image", "image_url": ..., "detail": ...}``;
- LangChain's standard image block: ``{"type": "image", "url": ...}``,
  ``{"type": "image", "base64": ..., "mime_type": ...}``, ``{"type": "image",
  "file_id": ...}``, and its older form with ``"source_type"``
  (``"url"``, ``"base64"``, ``"id"``) and ``"data"``;
- a Claude image block: ``{"type": "image", "source": {"type": "base64" | "url" | "file",
  ...}}``.

    >>> foreign_source({"type": "image_url", "image_url": {"url": "https://a.example/c.png"}})
    'https://a.example/c.png'
    >>> foreign_source({"type": "image", "source": {"type": "file", "file_id": "file_1"}})
    FileIdSource(type='file', file_id='file_1')

A URL comes back as the string (so ``download`` and the URL guard decide what becomes of
it); a string is never read as a path. ``detail`` has no Claude equivalent and is
dropped: the model sees the image at the size claudevision prepares.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core.exceptions import ImageInputError, UnsupportedSourceError
from .sources import Base64Source, FileIdSource, describe_shape

__all__ = ["foreign_source"]


def foreign_source(part: Mapping[str, Any]) -> str | Base64Source | FileIdSource:
    """The image a dict of another SDK's shape holds: a URL or data-URL string, or a source."""
    kind = part.get("type")
    if kind == "image_url":
        inner = part.get("image_url")
        url = inner.get("url") if isinstance(inner, Mapping) else inner
        return _url(url, part)
    if kind == "input_image":
        if part.get("file_id"):
            raise UnsupportedSourceError(
                f"{describe_shape(part)} names an OpenAI file id ({part['file_id']!r}), which "
                "Claude cannot read; pass the image's bytes or URL instead"
            )
        return _url(part.get("image_url"), part)
    if kind == "image" and isinstance(part.get("source"), Mapping):
        return _claude(part["source"], part)
    if kind == "image":
        return _langchain(part)
    raise ImageInputError(
        f"{describe_shape(part)} holds no image; pass an image_url, input_image or image "
        "part, or the image itself"
    )


def _url(url: object, part: Mapping[str, Any]) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ImageInputError(f"{describe_shape(part)} has no url; give it the image's URL")
    lowered = url.strip()[:8].lower()
    if not lowered.startswith(("data:", "https://", "http://")):
        raise ImageInputError(
            f"{describe_shape(part)}: its url must be a data: URL or an http(s) URL, not "
            f"{url[:40]!r}"
        )
    return url.strip()


def _claude(
    source: Mapping[str, Any], part: Mapping[str, Any]
) -> str | Base64Source | FileIdSource:
    kind = source.get("type")
    if kind == "base64" and isinstance(source.get("data"), str):
        return _base64(source["data"], source.get("media_type"))
    if kind == "url":
        return _url(source.get("url"), part)
    if kind == "file" and isinstance(source.get("file_id"), str):
        return FileIdSource(file_id=source["file_id"])
    raise ImageInputError(
        f"{describe_shape(part)} has a source of type {kind!r} without its data; use "
        "base64 (with data), url (with url) or file (with file_id)"
    )


def _langchain(part: Mapping[str, Any]) -> str | Base64Source | FileIdSource:
    kind = part.get("source_type")
    if isinstance(part.get("base64"), str) or (kind == "base64" and "data" in part):
        data = part.get("base64", part.get("data"))
        if isinstance(data, str):
            return _base64(data, part.get("mime_type"))
    if isinstance(part.get("url"), str):
        return _url(part["url"], part)
    file_id = part.get("file_id") or (part.get("id") if kind == "id" else None)
    if isinstance(file_id, str) and file_id:
        return FileIdSource(file_id=file_id)
    raise ImageInputError(
        f"{describe_shape(part)} has no url, base64 or file_id; give it one of them"
    )


def _base64(data: str, media_type: object) -> Base64Source:
    claimed = media_type if isinstance(media_type, str) else None
    if data.strip()[:5].lower() == "data:":
        return Base64Source.from_string(data)
    source = Base64Source.from_string(data)
    return Base64Source(data=source.data, media_type=claimed)
