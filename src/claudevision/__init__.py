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

from . import steps
from ._core.blocks import Cache
from ._core.exceptions import (
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
from ._core.geometry import fit_within, model_size, visual_tokens
from ._core.limits import (
    DEFAULT_BOUNDS,
    MAX_DECODE_PIXELS,
    PLATFORMS,
    TIERS,
    Bounds,
    Platform,
    Tier,
)
from ._core.media import ACCEPTED_MEDIA_TYPES, MediaType
from ._core.models import ModelInfo, estimate_cost, model_info, register_model
from ._core.transform import Transform
from ._prepare.document import Page, PreparedDocument, pdf_pages, prepare_document
from ._prepare.estimate import Estimate, ImageEstimate, estimate
from ._prepare.fit import OutputFormat
from ._prepare.prepare import prepare_image, prepare_many
from ._prepare.prepared import PreparedImage
from ._prepare.screenshot import SCREEN_TARGETS, Screenshot, ScreenTarget, fit_screenshot
from ._prepare.tiles import Tile, tile_image
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
from ._render.message import ToolResult, tool_result
from ._render.openai import ClaudeHistory, from_openai
from ._render.repair import Change, ChangeKind, Location, Repaired, repair_messages
from ._render.request import RenderedRequest, Request
from ._send.answer import Answer
from ._send.client import AsyncVision, Vision
from ._send.conversation import AsyncConversation, Conversation
from ._send.deprecated import ImageMessage
from ._send.shortcuts import aask, acount_tokens, ask, astream, count_tokens, stream
from ._send.stream import AsyncTextStream, TextStream

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
