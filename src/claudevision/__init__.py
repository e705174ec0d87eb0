"""claudevision: any image in, Claude Messages API content the API accepts the first time.

>>> from claudevision import ImageMessage
>>> message = ImageMessage("What is in it?", "photo.jpg", model="claude-opus-4-8")  # doctest: +SKIP
>>> message.to_param()  # doctest: +SKIP
{'role': 'user', 'content': [{'type': 'image', ...}, {'type': 'text', ...}]}
"""

from ._client import (
    Answer,
    AsyncConversation,
    AsyncTextStream,
    Conversation,
    TextStream,
    aask,
    acount_tokens,
    ask,
    astream,
    count_tokens,
    stream,
)
from ._exceptions import (
    ClaudeVisionError,
    ConfigurationError,
    CorruptImageError,
    EmptyImageError,
    ImageInputError,
    ImageNotFoundError,
    ImageTooLargeError,
    InvalidBase64Error,
    LimitError,
    MissingAPIKeyError,
    NotAnImageError,
    RequestTooLargeError,
    TooManyImagesError,
    UnknownModelWarning,
    UnsupportedFormatError,
    UnsupportedSourceError,
)
from ._geometry import fit_within, model_size, visual_tokens
from ._limits import MAX_DECODE_PIXELS, PLATFORMS, TIERS, Platform, Tier
from ._media import ACCEPTED_MEDIA_TYPES, MediaType
from ._message import Cache, ImageMessage, ToolResult, tool_result
from ._models import ModelInfo, estimate_cost, model_info, register_model
from ._prepare import OutputFormat, prepare_image, prepare_many
from ._prepared import PreparedImage
from ._sources import (
    Base64Source,
    FileIdSource,
    FileSource,
    ImageInput,
    ImageSource,
    URLSource,
    decode_base64,
    to_source,
)

__version__ = "0.1.0"

__all__ = [
    "ACCEPTED_MEDIA_TYPES",
    "MAX_DECODE_PIXELS",
    "PLATFORMS",
    "TIERS",
    "Answer",
    "AsyncConversation",
    "AsyncTextStream",
    "Base64Source",
    "Cache",
    "ClaudeVisionError",
    "ConfigurationError",
    "Conversation",
    "CorruptImageError",
    "EmptyImageError",
    "FileIdSource",
    "FileSource",
    "ImageInput",
    "ImageInputError",
    "ImageMessage",
    "ImageNotFoundError",
    "ImageSource",
    "ImageTooLargeError",
    "InvalidBase64Error",
    "LimitError",
    "MediaType",
    "MissingAPIKeyError",
    "ModelInfo",
    "NotAnImageError",
    "OutputFormat",
    "Platform",
    "PreparedImage",
    "RequestTooLargeError",
    "TextStream",
    "Tier",
    "TooManyImagesError",
    "ToolResult",
    "URLSource",
    "UnknownModelWarning",
    "UnsupportedFormatError",
    "UnsupportedSourceError",
    "__version__",
    "aask",
    "acount_tokens",
    "ask",
    "astream",
    "count_tokens",
    "decode_base64",
    "estimate_cost",
    "fit_within",
    "model_info",
    "model_size",
    "prepare_image",
    "prepare_many",
    "register_model",
    "stream",
    "to_source",
    "tool_result",
    "visual_tokens",
]
