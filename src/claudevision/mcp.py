"""Model Context Protocol: images MCP tools return, and images to return from MCP tools.

An MCP tool result carries an image as ``ImageContent``: base64 ``data`` and a
``mimeType``. :func:`from_mcp` reads one like any other input (the media type is only a
claim: the bytes decide), so a screenshot an MCP server sent is fitted the same way:

>>> from claudevision import prepare_image
>>> from claudevision.mcp import from_mcp
>>> content = {"type": "image", "mimeType": "image/png",  # the JSON form works too
...            "data": "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="}
>>> image = prepare_image(from_mcp(content), model="claude-sonnet-4-6")
>>> image.media_type, [str(step) for step in image.steps][0]
('image/gif', 'declared image/png, but the bytes are image/gif: sent as image/gif')

:func:`to_mcp` turns a prepared image (a fitted screenshot's ``.image``, a tile's) into
``mcp.types.ImageContent`` for an MCP server to return::

    from claudevision import fit_screenshot
    from claudevision.mcp import to_mcp

    @server.tool()
    def screenshot() -> list[ImageContent]:
        return [to_mcp(fit_screenshot(grab_screen(), target="auto").image)]

``to_mcp`` needs the ``mcp`` package (``pip install mcp``, or ``pip install -e '.[mcp]'``
in a clone of claudevision). Importing this
module, and :func:`from_mcp`, do not.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._core.exceptions import (
    ImageInputError,
    ImageTooLargeError,
    MissingDependencyError,
    UnsupportedSourceError,
    about,
)
from ._core.limits import DEFAULT_BOUNDS, Bounds
from ._prepare.prepared import PreparedImage
from ._read.read import ImageBytes, read_image
from ._read.sources import Base64Source, decode_base64

if TYPE_CHECKING:
    from mcp.types import ImageContent

__all__ = ["from_mcp", "to_mcp"]

_INSTALL = "pip install mcp (or pip install -e '.[mcp]' in a clone of claudevision)"


def from_mcp(
    content: ImageContent | Mapping[str, Any],
    *,
    label: str | None = None,
    bounds: Bounds = DEFAULT_BOUNDS,
) -> ImageBytes:
    """The image of an MCP ``ImageContent`` (or its JSON dict), read and bounded.

    ``mimeType`` is kept as the claimed media type; what is sent is decided from the
    bytes, and a wrong claim is corrected (a ``CorrectedMediaType`` step says so). Pass
    the result to ``prepare_image``, ``fit_screenshot``, ``tile_image`` or a message.
    Works with ``mcp`` 1.x (``mimeType``) and 2.x (``mime_type``) objects alike.
    """
    kind, data, mime = _fields(content)
    name = label or f"MCP image content ({mime or 'no mimeType'})"
    with about(name):
        if kind != "image":
            raise ImageInputError(
                f"expected MCP image content (type 'image'), got type {kind!r}; pass the "
                "ImageContent items of a tool result, not its text or resources"
            )
        if not isinstance(data, str):
            raise ImageInputError(
                f"the content's data is a {type(data).__name__}, not a base64 str; MCP "
                "sends images as base64 text"
            )
        if len(data) > 2 * bounds.max_input_bytes:  # base64 is 4/3 of the bytes
            raise ImageTooLargeError(
                f"the content holds {len(data):,} base64 characters, over the "
                f"{bounds.max_input_bytes:,} byte bound; raise Bounds.max_input_bytes"
            )
        raw, _ = decode_base64(data, label=name)
        claim = mime.strip().lower() if isinstance(mime, str) and mime.strip() else None
        read = read_image(Base64Source(data=raw, media_type=claim), label=name, bounds=bounds)
    assert isinstance(read, ImageBytes)
    return read


def _fields(content: object) -> tuple[object, object, object]:
    """``type``, ``data`` and the media type of an ImageContent of any mcp version, or a dict."""
    if isinstance(content, Mapping):
        mime = content.get("mimeType", content.get("mime_type"))
        return content.get("type"), content.get("data"), mime
    if not hasattr(content, "type"):
        raise ImageInputError(
            f"cannot read MCP image content from a {type(content).__name__}; pass an "
            "mcp.types.ImageContent or its JSON dict"
        )
    mime = getattr(content, "mime_type", None) or getattr(content, "mimeType", None)
    return getattr(content, "type", None), getattr(content, "data", None), mime


def to_mcp(prepared: PreparedImage) -> ImageContent:
    """An ``mcp.types.ImageContent`` holding the prepared image's bytes, for a tool result.

    The bytes and media type are exactly what ``prepared.block`` sends. Raises
    :class:`~claudevision.MissingDependencyError` when ``mcp`` is not installed.

    >>> from claudevision.mcp import to_mcp                               # doctest: +SKIP
    >>> to_mcp(prepare_image("screen.png")).mime_type                      # doctest: +SKIP
    'image/png'
    """
    if prepared.data is None or prepared.media_type is None:
        raise UnsupportedSourceError(
            f"the image is a {prepared.source_type} source without bytes here; MCP image "
            "content carries the image itself: prepare it from its bytes",
            input=prepared.label,
        )
    try:
        from mcp.types import ImageContent
    except ImportError:
        raise MissingDependencyError(
            f"to_mcp needs the mcp package, which is not installed; {_INSTALL}",
            input=prepared.label,
        ) from None
    data = base64.b64encode(prepared.data).decode("ascii")
    return ImageContent.model_validate(
        {"type": "image", "data": data, "mimeType": prepared.media_type}
    )
