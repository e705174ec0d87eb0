"""Every number the API imposes, in one place: per platform and per resolution tier.

Nothing else in claudevision writes these numbers as literals. To target a platform
profile not listed here, build a :class:`Platform` and pass it wherever ``platform=`` is
accepted::

    >>> from claudevision import PLATFORMS, Platform
    >>> PLATFORMS["bedrock"].max_image_bytes
    5242880
    >>> strict = Platform(name="strict", max_image_bytes=1_000_000,
    ...                   source_types=frozenset({"base64"}), max_request_bytes=8_000_000)
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

from .exceptions import ConfigurationError

__all__ = [
    "DEFAULT_BOUNDS",
    "MAX_CACHE_BREAKPOINTS",
    "MAX_DECODE_PIXELS",
    "PATCH_SIZE",
    "PLATFORMS",
    "TIERS",
    "Bounds",
    "Platform",
    "PlatformName",
    "SourceType",
    "Tier",
    "TierName",
    "base64_length",
    "get_platform",
]

SourceType = Literal["base64", "url", "file"]
PlatformName = Literal["anthropic", "anthropic-5mb", "bedrock", "vertex"]
TierName = Literal["standard", "high-resolution"]

MiB = 1024 * 1024
MB = 1000 * 1000

PATCH_SIZE = 28
"""The model sees an image in square patches of this many pixels; one patch is one token."""

MAX_CACHE_BREAKPOINTS = 4
"""``cache_control`` markers one request may hold (system, tools and messages together)."""

BATCH_MAX_REQUESTS = 100_000
"""Requests one Message Batch may hold."""

BATCH_MAX_BYTES = 256 * MB
"""Bytes one Message Batch's create request may hold (its JSON body)."""

MAX_DECODE_PIXELS = 89_000_000
"""Images declaring more pixels than this are refused before decoding (decompression
bombs). 89 MP covers every phone and most camera photos and stays under Pillow's own
warning threshold (``PIL.Image.MAX_IMAGE_PIXELS``)."""


@dataclass(frozen=True)
class Bounds:
    """How much work one input may cost: the guards against hostile input.

    Every read, decode and loop in claudevision is bounded by these. The defaults take
    every real photo, scan and screenshot; lower them for a service that prepares
    strangers' uploads, raise them for huge scans::

        >>> from claudevision import Bounds
        >>> Bounds().max_input_bytes
        104857600
        >>> strict = Bounds(max_input_bytes=20_000_000, max_pixels=40_000_000)

    ``max_input_bytes``: bytes read from any input (a file, a file object, base64).
    ``max_pixels``: pixels an image may declare; larger ones are refused before decoding.
    ``max_memory_bytes``: decoded pixels held at once when several images are prepared
    together (``prepare_many``, a request); more images wait their turn.
    ``download_seconds``: the whole of one URL download, redirects included (a server
    that drips bytes cannot hold it open longer); ``max_redirects``: hops it may follow.
    ``render_seconds``: drawing one PDF page (PDFium pauses and the deadline is checked).

    Frames need no bound: only the frame the model sees is decoded, and frames are never
    counted by walking a file (an 80,000-page TIFF costs what its first page does).
    """

    max_input_bytes: int = 100 * MiB
    max_pixels: int = MAX_DECODE_PIXELS
    max_memory_bytes: int = 1024 * MiB
    download_seconds: int = 30
    max_redirects: int = 10
    render_seconds: int = 10

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            least = 0 if field.name == "max_redirects" else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ConfigurationError(
                    f"Bounds({field.name}={value!r}): use a whole number of at least {least}"
                )


DEFAULT_BOUNDS = Bounds()


@dataclass(frozen=True)
class Platform:
    """The limits of one place the Messages API is served from.

    ``max_image_bytes`` is measured on the base64 string, as the API measures it.
    """

    name: str
    max_image_bytes: int
    source_types: frozenset[SourceType]
    max_request_bytes: int
    max_side: int = 8000
    many_images_threshold: int = 20
    many_images_max_side: int = 2000
    images_per_request_small_context: int = 100
    images_per_request_large_context: int = 600
    pdf_pages_small_context: int = 100
    pdf_pages_large_context: int = 600


_ALL_SOURCES: frozenset[SourceType] = frozenset({"base64", "url", "file"})
_BASE64_ONLY: frozenset[SourceType] = frozenset({"base64"})

PLATFORMS: dict[str, Platform] = {
    "anthropic": Platform("anthropic", 10 * MiB, _ALL_SOURCES, max_request_bytes=32 * MB),
    # The direct API's limit before 2026; some gateways and proxies still enforce it.
    "anthropic-5mb": Platform("anthropic-5mb", 5 * MiB, _ALL_SOURCES, max_request_bytes=32 * MB),
    # Bedrock InvokeModel takes 20 MB bodies.
    "bedrock": Platform("bedrock", 5 * MiB, _BASE64_ONLY, max_request_bytes=20 * MB),
    # Vertex publishes no smaller body limit than Bedrock's; we use Bedrock's to stay safe.
    "vertex": Platform("vertex", 5 * MiB, _BASE64_ONLY, max_request_bytes=20 * MB),
}


def base64_length(size: int) -> int:
    """Characters of the padded base64 of ``size`` bytes: what the byte limits measure."""
    return -(-size // 3) * 4


def get_platform(platform: str | Platform) -> Platform:
    """Return the :class:`Platform` named ``platform`` (or ``platform`` itself)."""
    if isinstance(platform, Platform):
        return platform
    try:
        return PLATFORMS[platform]
    except (KeyError, TypeError):
        known = ", ".join(repr(name) for name in PLATFORMS)
        raise ConfigurationError(
            f"unknown platform {platform!r}; use one of {known} or a claudevision.Platform"
        ) from None


@dataclass(frozen=True)
class Tier:
    """How large an image a model looks at: the server shrinks anything larger."""

    name: TierName
    max_edge: int
    max_tokens: int


TIERS: dict[TierName, Tier] = {
    "standard": Tier("standard", max_edge=1568, max_tokens=1568),
    "high-resolution": Tier("high-resolution", max_edge=2576, max_tokens=4784),
}
