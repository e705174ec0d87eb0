"""Send: a client object that owns the ``anthropic`` client, the model and the platform.

    >>> from claudevision import Vision
    >>> vision = Vision(model="claude-opus-4-8")          # anthropic.Anthropic() from the env
    >>> vision.ask("What is in it?", "photo.jpg").text      # doctest: +SKIP
    >>> for text in vision.stream("Describe it.", "photo.jpg"):  # doctest: +SKIP
    ...     print(text, end="")

:class:`_BaseVision` holds everything that does no I/O (defaults, messages, requests);
:class:`Vision` and :class:`AsyncVision` differ only where they wait. API errors are the
SDK's own exceptions and retries are the SDK's (``max_retries``); they are never wrapped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from .._core.blocks import Cache
from .._core.exceptions import UnsupportedSourceError
from .._core.limits import Bounds, Platform
from .._prepare.prepare import beside_event_loop
from .._prepare.prepared import PreparedImage
from .._read.read import ReadImage
from .._read.sources import ImageInput
from .._render.message import ImageMessage, ToolResult
from .._render.request import DEFAULT_MAX_TOKENS, RenderedRequest, Request
from .answer import Answer
from .sdk import AsyncClientLike, ClientLike, async_client, platform_of, sync_client
from .stream import AsyncTextStream, TextStream

if TYPE_CHECKING:
    from anthropic.types import MessageParam

__all__ = ["AsyncVision", "Vision", "countable"]


class _BaseVision:
    """Defaults and request building shared by :class:`Vision` and :class:`AsyncVision`."""

    _client: Any

    def __init__(
        self,
        *,
        model: str | None = None,
        platform: str | Platform | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        paths: bool = True,
        bounds: Bounds | None = None,
    ) -> None:
        self.model = model
        """The model used when a call names none."""
        self._platform = platform
        self.max_tokens = max_tokens
        self.paths = paths
        """False: strings are never read as file paths (for strangers' input)."""
        self.bounds = bounds

    @property
    def platform(self) -> str | Platform:
        """The platform whose limits apply: as given, else the client's."""
        if self._platform is not None:
            return self._platform
        return platform_of(self._client) if self._client is not None else "anthropic"

    def message(
        self,
        prompt: str,
        *images: ImageInput | ReadImage | PreparedImage,
        cache: Cache = False,
        tool_results: Sequence[ToolResult] = (),
        model: str | None = None,
        **options: Any,
    ) -> ImageMessage:
        """An :class:`~claudevision.ImageMessage` with this client's model and platform."""
        return ImageMessage(
            prompt,
            *images,
            model=model or self.model,
            platform=self._platform,
            cache=cache,
            tool_results=tool_results,
            paths=self.paths,
            bounds=self.bounds,
            **options,
        )

    def request(
        self,
        turns: Sequence[ImageMessage | MessageParam],
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        system: str | Sequence[Any] | None = None,
        keep_images: int | None = None,
        **params: Any,
    ) -> Request:
        """The :class:`~claudevision.Request` for ``turns`` under this client's defaults."""
        named = next((m.model for m in turns if isinstance(m, ImageMessage) and m.model), None)
        platform = next(
            (m.platform for m in turns if isinstance(m, ImageMessage) and m.platform), None
        )
        return Request(
            model=model or named or self.model or "",
            turns=tuple(turns),
            platform=platform or self.platform,
            max_tokens=max_tokens or self.max_tokens,
            system=system,
            params=params,
            keep_images=keep_images,
        )


def countable(rendered: RenderedRequest) -> dict[str, Any]:
    """The ``count_tokens`` keywords, refusing URL and file images the endpoint refuses."""
    for image in rendered.images:
        if image.source_type != "base64":
            raise UnsupportedSourceError(
                f"count_tokens takes images only inline as base64, not as a "
                f"{image.source_type} source; pass the image's bytes or path",
                input=image.label,
            )
    return rendered.for_count_tokens()


class Vision(_BaseVision):
    """Ask Claude about images through a sync ``anthropic`` client.

    ``client`` defaults to ``anthropic.Anthropic()`` from the environment, made (and its
    credentials checked) when first needed. Its kind decides the platform's limits
    (``AnthropicBedrock``, ``AnthropicVertex``) unless ``platform`` is given.
    """

    def __init__(self, client: ClientLike | None = None, **defaults: Any) -> None:
        super().__init__(**defaults)
        self._client = client
        self._checked: ClientLike | None = None

    @property
    def client(self) -> ClientLike:
        """The ``anthropic`` client, checked for credentials (made from the env if needed)."""
        if self._checked is None:
            self._checked = sync_client(self._client)
            self._client = self._checked
        return self._checked

    def ask(
        self,
        prompt: str,
        *images: ImageInput | ReadImage | PreparedImage,
        model: str | None = None,
        system: str | Sequence[Any] | None = None,
        cache: Cache = False,
        max_tokens: int | None = None,
        **params: Any,
    ) -> Answer:
        """Ask about ``images``; extra keywords (``tools``, ``metadata``, ...) go to the API."""
        message = self.message(prompt, *images, cache=cache, model=model)
        return self.send(message, system=system, max_tokens=max_tokens, **params)

    def send(self, *turns: ImageMessage | MessageParam, **params: Any) -> Answer:
        """Send ``turns`` (``ImageMessage`` and ``MessageParam`` dicts) as one request."""
        client = self.client
        rendered = self.request(turns, **params).render()
        return Answer.of(client.messages.create(**rendered.kwargs), rendered.images)

    def stream(
        self,
        prompt: str,
        *images: ImageInput | ReadImage | PreparedImage,
        model: str | None = None,
        system: str | Sequence[Any] | None = None,
        cache: Cache = False,
        max_tokens: int | None = None,
        **params: Any,
    ) -> TextStream:
        """Like :meth:`ask`, yielding the text as it arrives; images are prepared now."""
        message = self.message(prompt, *images, cache=cache, model=model)
        return self.stream_turns(message, system=system, max_tokens=max_tokens, **params)

    def stream_turns(self, *turns: ImageMessage | MessageParam, **params: Any) -> TextStream:
        """:meth:`send`, streamed."""
        client = self.client
        return TextStream(client, self.request(turns, **params).render())

    def count_tokens(
        self,
        prompt: str,
        *images: ImageInput | ReadImage | PreparedImage,
        model: str | None = None,
        system: str | Sequence[Any] | None = None,
        **params: Any,
    ) -> int:
        """Input tokens the API counts for this message (``messages.count_tokens``)."""
        client = self.client
        message = self.message(prompt, *images, model=model)
        rendered = self.request([message], system=system, **params).render()
        return client.messages.count_tokens(**countable(rendered)).input_tokens


class AsyncVision(_BaseVision):
    """:class:`Vision` over an async client: image work runs in worker threads."""

    def __init__(self, client: AsyncClientLike | None = None, **defaults: Any) -> None:
        super().__init__(**defaults)
        self._client = client
        self._checked: AsyncClientLike | None = None

    @property
    def client(self) -> AsyncClientLike:
        """The async ``anthropic`` client, checked for credentials."""
        if self._checked is None:
            self._checked = async_client(self._client)
            self._client = self._checked
        return self._checked

    async def render(self, request: Request) -> RenderedRequest:
        """Render ``request`` in a worker thread, so the event loop never waits on images
        (its thread pools leave the loop a core)."""
        return await anyio.to_thread.run_sync(beside_event_loop(request.render))

    async def ask(
        self,
        prompt: str,
        *images: ImageInput | ReadImage | PreparedImage,
        model: str | None = None,
        system: str | Sequence[Any] | None = None,
        cache: Cache = False,
        max_tokens: int | None = None,
        **params: Any,
    ) -> Answer:
        """:meth:`Vision.ask` for async code: never blocks the event loop."""
        message = self.message(prompt, *images, cache=cache, model=model)
        return await self.send(message, system=system, max_tokens=max_tokens, **params)

    async def send(self, *turns: ImageMessage | MessageParam, **params: Any) -> Answer:
        """:meth:`Vision.send` for async code."""
        client = self.client
        rendered = await self.render(self.request(turns, **params))
        return Answer.of(await client.messages.create(**rendered.kwargs), rendered.images)

    async def stream(
        self,
        prompt: str,
        *images: ImageInput | ReadImage | PreparedImage,
        model: str | None = None,
        system: str | Sequence[Any] | None = None,
        cache: Cache = False,
        max_tokens: int | None = None,
        **params: Any,
    ) -> AsyncTextStream:
        """:meth:`Vision.stream` for async code: ``async for text in await ...``."""
        message = self.message(prompt, *images, cache=cache, model=model)
        return await self.stream_turns(message, system=system, max_tokens=max_tokens, **params)

    async def stream_turns(
        self, *turns: ImageMessage | MessageParam, **params: Any
    ) -> AsyncTextStream:
        """:meth:`send`, streamed."""
        client = self.client
        return AsyncTextStream(client, await self.render(self.request(turns, **params)))

    async def count_tokens(
        self,
        prompt: str,
        *images: ImageInput | ReadImage | PreparedImage,
        model: str | None = None,
        system: str | Sequence[Any] | None = None,
        **params: Any,
    ) -> int:
        """:meth:`Vision.count_tokens` for async code."""
        client = self.client
        message = self.message(prompt, *images, model=model)
        rendered = await self.render(self.request([message], system=system, **params))
        return (await client.messages.count_tokens(**countable(rendered))).input_tokens
