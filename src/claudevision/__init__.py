"""claudevision: any image in, Claude Messages API content the API accepts the first time.

>>> from claudevision import ImageMessage
>>> message = ImageMessage("What is in it?", "photo.jpg", model="claude-opus-4-8")  # doctest: +SKIP
>>> message.to_param()  # doctest: +SKIP
{'role': 'user', 'content': [{'type': 'image', ...}, {'type': 'text', ...}]}

Data flows one way, each stage in its own modules: **read** (``_read``: the only I/O)
-> **prepare** (``_prepare`` and the pure modules it uses: ``_decode``, ``_verify``,
``_pixels``, ``_encode``, ``_fit_request``) -> **render** (``_message``, ``_request``,
``_blocks``) -> **send** (``_client``: :class:`Vision` and :class:`AsyncVision`). Importing
claudevision never imports the ``anthropic`` SDK; it is loaded when a client is needed.
"""

from . import steps
from ._answer import Answer
from ._blocks import Cache
from ._client import AsyncVision, Vision
from ._conversation import AsyncConversation, Conversation
from ._deprecated import ImageMessage
from ._exceptions import (
    ClaudeVisionError,
    ConfigurationError,
    CoordinateError,
    CorruptImageError,
    EmptyImageError,
    ImageInputError,
    ImageNotFoundError,
    ImageTooLargeError,
    InternalError,
    InvalidBase64Error,
    LimitError,
    MissingAPIKeyError,
    MissingDependencyError,
    NotAnImageError,
    RequestTooLargeError,
    TooManyImagesError,
    UnknownModelWarning,
    UnsupportedFormatError,
    UnsupportedSourceError,
)
from ._fit import OutputFormat
from ._geometry import fit_within, model_size, visual_tokens
from ._limits import DEFAULT_BOUNDS, MAX_DECODE_PIXELS, PLATFORMS, TIERS, Bounds, Platform, Tier
from ._media import ACCEPTED_MEDIA_TYPES, MediaType
from ._message import ToolResult, tool_result
from ._models import ModelInfo, estimate_cost, model_info, register_model
from ._prepare import prepare_image, prepare_many
from ._prepared import PreparedImage
from ._read import (
    ImageBytes,
    ImagePixels,
    ImageReference,
    ReadImage,
    aread_image,
    read_image,
    to_source,
)
from ._repair import Change, ChangeKind, Location, Repaired, repair_messages
from ._request import RenderedRequest, Request
from ._screenshot import SCREEN_TARGETS, Screenshot, ScreenTarget, fit_screenshot
from ._shortcuts import aask, acount_tokens, ask, astream, count_tokens, stream
from ._sources import (
    Base64Source,
    FileIdSource,
    FileSource,
    ImageInput,
    ImageSource,
    URLSource,
    decode_base64,
)
from ._stream import AsyncTextStream, TextStream
from ._tiles import Tile, tile_image
from ._transform import Transform

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
    "Bounds",
    "Cache",
    "Change",
    "ChangeKind",
    "ClaudeVisionError",
    "ConfigurationError",
    "Conversation",
    "CoordinateError",
    "CorruptImageError",
    "EmptyImageError",
    "FileIdSource",
    "FileSource",
    "ImageBytes",
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
    "NotAnImageError",
    "OutputFormat",
    "Platform",
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
    "estimate_cost",
    "fit_screenshot",
    "fit_within",
    "model_info",
    "model_size",
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
