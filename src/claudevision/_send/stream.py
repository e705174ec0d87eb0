"""Streamed replies: the text as it arrives, sent once however often it is iterated."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from .._core.exceptions import ConfigurationError
from .._prepare.prepared import PreparedImage
from .._render.request import RenderedRequest

if TYPE_CHECKING:
    from anthropic.types import Message

    from .sdk import AsyncClientLike, ClientLike

__all__ = ["AsyncTextStream", "TextStream"]

_STARTED = (
    "this stream was started and not finished; a stream sends its request once, so "
    "iterate it to the end once (later iterations replay the text)"
)


class _StreamBase:
    """The state both streams share: the request, the text so far, the final message."""

    def __init__(self, rendered: RenderedRequest) -> None:
        self._rendered = rendered
        self.images: tuple[PreparedImage, ...] = rendered.images
        """The images that were sent."""
        self.message: Message | None = None
        """The full ``anthropic.types.Message``, once the stream has ended."""
        self._chunks: list[str] = []
        self._started = False

    @property
    def text(self) -> str:
        """The text received so far (all of it once the stream has ended)."""
        return "".join(self._chunks)

    def _replay(self) -> list[str] | None:
        """The text to replay when already sent; None when this is the first iteration."""
        if self.message is not None:
            return list(self._chunks)
        if self._started:
            raise ConfigurationError(_STARTED)
        self._started = True
        return None


class TextStream(_StreamBase):
    """Text of a reply as it arrives; ``message`` holds the full ``Message`` once done.

    Iterating again replays the text without sending the request again.

    >>> for text in stream("Describe it.", "photo.jpg", model="claude-opus-4-8"):  # doctest: +SKIP
    ...     print(text, end="", flush=True)
    """

    def __init__(self, client: ClientLike, rendered: RenderedRequest) -> None:
        super().__init__(rendered)
        self._client = client

    def __iter__(self) -> Iterator[str]:
        replay = self._replay()
        if replay is not None:
            yield from replay
            return
        with self._client.messages.stream(**self._rendered.kwargs) as events:
            for text in events.text_stream:
                self._chunks.append(text)
                yield text
            self.message = events.get_final_message()


class AsyncTextStream(_StreamBase):
    """:class:`TextStream` for async code: ``async for text in await astream(...)``."""

    def __init__(self, client: AsyncClientLike, rendered: RenderedRequest) -> None:
        super().__init__(rendered)
        self._client = client

    async def __aiter__(self) -> AsyncIterator[str]:
        replay = self._replay()
        if replay is not None:
            for text in replay:
                yield text
            return
        async with self._client.messages.stream(**self._rendered.kwargs) as events:
            async for text in events.text_stream:
                self._chunks.append(text)
                yield text
            self.message = await events.get_final_message()
