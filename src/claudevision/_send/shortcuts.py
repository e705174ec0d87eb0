"""Module-level shortcuts: ``claudevision.ask`` and friends, each a one-call :class:`Vision`.

    >>> import claudevision
    >>> answer = claudevision.ask("What is in this image?", "photo.jpg",
    ...                           model="claude-opus-4-8")                 # doctest: +SKIP
    >>> print(answer)                                                       # doctest: +SKIP

``client`` defaults to ``anthropic.Anthropic()`` (or ``AsyncAnthropic()``) from the
environment; its kind decides the platform's limits. Extra keyword arguments go to
``messages.create`` unchanged. For many calls, keep a :class:`~claudevision.Vision`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._core.blocks import Cache
from .._prepare.prepared import PreparedImage
from .._read.read import ReadImage
from .._read.sources import ImageInput
from .._render.request import DEFAULT_MAX_TOKENS
from .answer import Answer
from .client import AsyncVision, Vision
from .params import check_call
from .sdk import AsyncClientLike, ClientLike
from .stream import AsyncTextStream, TextStream

__all__ = ["aask", "acount_tokens", "ask", "astream", "count_tokens", "stream"]

System = str | Sequence[Any] | None


def ask(
    prompt: str,
    *images: ImageInput | ReadImage | PreparedImage,
    client: ClientLike | None = None,
    model: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    system: System = None,
    cache: Cache = False,
    **params: Any,
) -> Answer:
    """Ask Claude about images; return the :class:`~claudevision.Answer`.

    Every argument is checked before any image is read; extra keywords (``temperature``,
    ``tools``, ``metadata``, ...) go to ``messages.create``.
    """
    check_call("ask", prompt, model=model, max_tokens=max_tokens, system=system, params=params)
    return Vision(client, model=model, max_tokens=max_tokens).ask(
        prompt, *images, system=system, cache=cache, **params
    )


async def aask(
    prompt: str,
    *images: ImageInput | ReadImage | PreparedImage,
    client: AsyncClientLike | None = None,
    model: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    system: System = None,
    cache: Cache = False,
    **params: Any,
) -> Answer:
    """:func:`ask` for async code: never blocks the event loop.

    >>> answer = await aask("Describe it.", image_b64, model="claude-opus-4-8")  # doctest: +SKIP
    """
    check_call("aask", prompt, model=model, max_tokens=max_tokens, system=system, params=params)
    return await AsyncVision(client, model=model, max_tokens=max_tokens).ask(
        prompt, *images, system=system, cache=cache, **params
    )


def stream(
    prompt: str,
    *images: ImageInput | ReadImage | PreparedImage,
    client: ClientLike | None = None,
    model: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    system: System = None,
    cache: Cache = False,
    **params: Any,
) -> TextStream:
    """Like :func:`ask`, but yields the reply's text as it arrives.

    Images are checked and prepared when this is called, before anything is sent.
    """
    check_call("stream", prompt, model=model, max_tokens=max_tokens, system=system, params=params)
    return Vision(client, model=model, max_tokens=max_tokens).stream(
        prompt, *images, system=system, cache=cache, **params
    )


async def astream(
    prompt: str,
    *images: ImageInput | ReadImage | PreparedImage,
    client: AsyncClientLike | None = None,
    model: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    system: System = None,
    cache: Cache = False,
    **params: Any,
) -> AsyncTextStream:
    """:func:`stream` for async code: ``async for text in await astream(...)``."""
    check_call("astream", prompt, model=model, max_tokens=max_tokens, system=system, params=params)
    return await AsyncVision(client, model=model, max_tokens=max_tokens).stream(
        prompt, *images, system=system, cache=cache, **params
    )


def count_tokens(
    prompt: str,
    *images: ImageInput | ReadImage | PreparedImage,
    client: ClientLike | None = None,
    model: str | None = None,
    system: System = None,
    **params: Any,
) -> int:
    """Input tokens the API counts for this message (``client.messages.count_tokens``)."""
    check_call(
        "count_tokens", prompt, model=model, system=system, params=params, endpoint="count_tokens"
    )
    return Vision(client, model=model).count_tokens(prompt, *images, system=system, **params)


async def acount_tokens(
    prompt: str,
    *images: ImageInput | ReadImage | PreparedImage,
    client: AsyncClientLike | None = None,
    model: str | None = None,
    system: System = None,
    **params: Any,
) -> int:
    """:func:`count_tokens` for async code."""
    check_call(
        "acount_tokens", prompt, model=model, system=system, params=params, endpoint="count_tokens"
    )
    return await AsyncVision(client, model=model).count_tokens(
        prompt, *images, system=system, **params
    )
