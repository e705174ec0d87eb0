"""claudevision: any image in, Claude Messages API content the API accepts the first time.

>>> from claudevision import ImageMessage
>>> message = ImageMessage("What is in it?", "photo.jpg", model="claude-opus-4-8")  # doctest: +SKIP
>>> message.to_param()  # doctest: +SKIP
{'role': 'user', 'content': [{'type': 'image', ...}, {'type': 'text', ...}]}

Data flows one way, one private folder per stage: **read** (``_read``: the only I/O)
-> **prepare** (``_prepare``: pure CPU, from read values to what the model sees) ->
**render** (``_render``: the SDK's dicts) -> **send** (``_send``: :class:`Vision` and
:class:`AsyncVision`), all over ``_core`` (errors, limits, models, media types, shapes).
Importing claudevision never imports the ``anthropic`` SDK; it is loaded when a client is
needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import steps
    from ._core.blocks import Cache
    from ._core.exceptions import (
        BatchStateError,
        BlockedURLError,
        ClaudeVisionError,
        ConfigurationError,
        CoordinateError,
        CorruptImageError,
        CorruptPDFError,
        DocumentError,
        DownloadError,
        DownloadTimeoutError,
        EmptyImageError,
        EncryptedPDFError,
        ImageInputError,
        ImageNotFoundError,
        ImageTooLargeError,
        InternalError,
        InvalidBase64Error,
        LimitError,
        ManifestError,
        MissingAPIKeyError,
        MissingDependencyError,
        NotAnImageError,
        NotAPDFError,
        RequestTooLargeError,
        TooManyImagesError,
        TooManyPagesError,
        UnknownModelWarning,
        UnsupportedFormatError,
        UnsupportedSourceError,
    )
    from ._core.geometry import (
        fit_within,
        model_size,
        visual_tokens,
    )
    from ._core.limits import (
        DEFAULT_BOUNDS,
        MAX_DECODE_PIXELS,
        PLATFORMS,
        TIERS,
        Bounds,
        Platform,
        Tier,
    )
    from ._core.media import (
        ACCEPTED_MEDIA_TYPES,
        MediaType,
    )
    from ._core.models import (
        ModelInfo,
        estimate_cost,
        model_info,
        register_model,
    )
    from ._core.transform import Transform
    from ._prepare.document import (
        Page,
        PreparedDocument,
        pdf_page_tiles,
        pdf_pages,
        prepare_document,
    )
    from ._prepare.estimate import (
        Estimate,
        ImageEstimate,
        estimate,
    )
    from ._prepare.fit import OutputFormat
    from ._prepare.prepare import (
        prepare_image,
        prepare_many,
    )
    from ._prepare.prepared import PreparedImage
    from ._prepare.screenshot import (
        SCREEN_TARGETS,
        Screenshot,
        ScreenTarget,
        fit_screenshot,
    )
    from ._prepare.tiles import (
        Tile,
        tile_image,
    )
    from ._read.read import (
        ImageBytes,
        ImagePixels,
        ImageReference,
        ReadImage,
        aread_image,
        read_image,
        to_source,
    )
    from ._read.sources import (
        Base64Source,
        FileIdSource,
        FileSource,
        ImageInput,
        ImageSource,
        URLSource,
        decode_base64,
    )
    from ._render.message import (
        ToolResult,
        tool_result,
    )
    from ._render.openai import (
        ClaudeHistory,
        from_openai,
    )
    from ._render.repair import (
        Change,
        ChangeKind,
        Location,
        Repaired,
        repair_messages,
    )
    from ._render.request import (
        RenderedRequest,
        Request,
    )
    from ._send.answer import Answer
    from ._send.batch import BatchProgress, BatchSummary
    from ._send.client import (
        AsyncVision,
        Vision,
    )
    from ._send.conversation import (
        AsyncConversation,
        Conversation,
    )
    from ._send.deprecated import ImageMessage
    from ._send.shortcuts import (
        aask,
        acount_tokens,
        ask,
        astream,
        count_tokens,
        stream,
    )
    from ._send.stream import (
        AsyncTextStream,
        TextStream,
    )

# Every public name and the module that defines it. ``import claudevision`` loads none of
# them; the first use of a name imports its module (and the stages below it), so a script
# that only reads images never loads the send stage, and nothing loads NumPy.
_EXPORTS: dict[str, tuple[str, ...]] = {
    ".": ("steps",),
    "._core.blocks": ("Cache",),
    "._core.exceptions": (
        "BatchStateError",
        "BlockedURLError",
        "ClaudeVisionError",
        "ConfigurationError",
        "CoordinateError",
        "CorruptImageError",
        "CorruptPDFError",
        "DocumentError",
        "DownloadError",
        "DownloadTimeoutError",
        "EmptyImageError",
        "EncryptedPDFError",
        "ImageInputError",
        "ImageNotFoundError",
        "ImageTooLargeError",
        "InternalError",
        "InvalidBase64Error",
        "LimitError",
        "ManifestError",
        "MissingAPIKeyError",
        "MissingDependencyError",
        "NotAnImageError",
        "NotAPDFError",
        "RequestTooLargeError",
        "TooManyImagesError",
        "TooManyPagesError",
        "UnknownModelWarning",
        "UnsupportedFormatError",
        "UnsupportedSourceError",
    ),
    "._core.geometry": (
        "fit_within",
        "model_size",
        "visual_tokens",
    ),
    "._core.limits": (
        "DEFAULT_BOUNDS",
        "MAX_DECODE_PIXELS",
        "PLATFORMS",
        "TIERS",
        "Bounds",
        "Platform",
        "Tier",
    ),
    "._core.media": (
        "ACCEPTED_MEDIA_TYPES",
        "MediaType",
    ),
    "._core.models": (
        "ModelInfo",
        "estimate_cost",
        "model_info",
        "register_model",
    ),
    "._core.transform": ("Transform",),
    "._prepare.document": (
        "Page",
        "PreparedDocument",
        "pdf_page_tiles",
        "pdf_pages",
        "prepare_document",
    ),
    "._prepare.estimate": (
        "Estimate",
        "ImageEstimate",
        "estimate",
    ),
    "._prepare.fit": ("OutputFormat",),
    "._prepare.prepare": (
        "prepare_image",
        "prepare_many",
    ),
    "._prepare.prepared": ("PreparedImage",),
    "._prepare.screenshot": (
        "SCREEN_TARGETS",
        "Screenshot",
        "ScreenTarget",
        "fit_screenshot",
    ),
    "._prepare.tiles": (
        "Tile",
        "tile_image",
    ),
    "._read.read": (
        "ImageBytes",
        "ImagePixels",
        "ImageReference",
        "ReadImage",
        "aread_image",
        "read_image",
        "to_source",
    ),
    "._read.sources": (
        "Base64Source",
        "FileIdSource",
        "FileSource",
        "ImageInput",
        "ImageSource",
        "URLSource",
        "decode_base64",
    ),
    "._render.message": (
        "ToolResult",
        "tool_result",
    ),
    "._render.openai": (
        "ClaudeHistory",
        "from_openai",
    ),
    "._render.repair": (
        "Change",
        "ChangeKind",
        "Location",
        "Repaired",
        "repair_messages",
    ),
    "._render.request": (
        "RenderedRequest",
        "Request",
    ),
    "._send.answer": ("Answer",),
    "._send.batch": ("BatchProgress", "BatchSummary"),
    "._send.client": (
        "AsyncVision",
        "Vision",
    ),
    "._send.conversation": (
        "AsyncConversation",
        "Conversation",
    ),
    "._send.deprecated": ("ImageMessage",),
    "._send.shortcuts": (
        "aask",
        "acount_tokens",
        "ask",
        "astream",
        "count_tokens",
        "stream",
    ),
    "._send.stream": (
        "AsyncTextStream",
        "TextStream",
    ),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}


if not TYPE_CHECKING:  # type checkers see the imports above; a typo stays an error

    def __getattr__(name: str) -> Any:
        module = _WHERE.get(name)
        if module is None:
            raise AttributeError(f"module 'claudevision' has no attribute {name!r}")
        if module == ".":  # a public submodule
            return importlib.import_module(f".{name}", __name__)
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})


__version__ = "0.2.0"

__all__ = [
    "ACCEPTED_MEDIA_TYPES",
    "DEFAULT_BOUNDS",
    "MAX_DECODE_PIXELS",
    "PLATFORMS",
    "SCREEN_TARGETS",
    "TIERS",
    "Answer",
    "AsyncConversation",
    "AsyncTextStream",
    "AsyncVision",
    "Base64Source",
    "BatchProgress",
    "BatchStateError",
    "BatchSummary",
    "BlockedURLError",
    "Bounds",
    "Cache",
    "Change",
    "ChangeKind",
    "ClaudeHistory",
    "ClaudeVisionError",
    "ConfigurationError",
    "Conversation",
    "CoordinateError",
    "CorruptImageError",
    "CorruptPDFError",
    "DocumentError",
    "DownloadError",
    "DownloadTimeoutError",
    "EmptyImageError",
    "EncryptedPDFError",
    "Estimate",
    "FileIdSource",
    "FileSource",
    "ImageBytes",
    "ImageEstimate",
    "ImageInput",
    "ImageInputError",
    "ImageMessage",
    "ImageNotFoundError",
    "ImagePixels",
    "ImageReference",
    "ImageSource",
    "ImageTooLargeError",
    "InternalError",
    "InvalidBase64Error",
    "LimitError",
    "Location",
    "ManifestError",
    "MediaType",
    "MissingAPIKeyError",
    "MissingDependencyError",
    "ModelInfo",
    "NotAPDFError",
    "NotAnImageError",
    "OutputFormat",
    "Page",
    "Platform",
    "PreparedDocument",
    "PreparedImage",
    "ReadImage",
    "RenderedRequest",
    "Repaired",
    "Request",
    "RequestTooLargeError",
    "ScreenTarget",
    "Screenshot",
    "TextStream",
    "Tier",
    "Tile",
    "TooManyImagesError",
    "TooManyPagesError",
    "ToolResult",
    "Transform",
    "URLSource",
    "UnknownModelWarning",
    "UnsupportedFormatError",
    "UnsupportedSourceError",
    "Vision",
    "__version__",
    "aask",
    "acount_tokens",
    "aread_image",
    "ask",
    "astream",
    "count_tokens",
    "decode_base64",
    "estimate",
    "estimate_cost",
    "fit_screenshot",
    "fit_within",
    "from_openai",
    "model_info",
    "model_size",
    "pdf_page_tiles",
    "pdf_pages",
    "prepare_document",
    "prepare_image",
    "prepare_many",
    "read_image",
    "register_model",
    "repair_messages",
    "steps",
    "stream",
    "tile_image",
    "to_source",
    "tool_result",
    "visual_tokens",
]
