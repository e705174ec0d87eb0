"""A user turn with images: ``ImageMessage``, and images returned by tools.

    >>> from claudevision import ImageMessage
    >>> message = ImageMessage("Which is larger?", "a.png", "b.png",
    ...                        model="claude-sonnet-4-6")                  # doctest: +SKIP
    >>> [block["type"] for block in message.content]                       # doctest: +SKIP
    ['text', 'image', 'text', 'image', 'text']

Images come before the prompt and, when there are several, each follows a text block
"Image 1:", "Image 2:", as Anthropic's vision guide recommends.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from anthropic.types import (
    CacheControlEphemeralParam,
    ContentBlockParam,
    ImageBlockParam,
    MessageParam,
    TextBlockParam,
    ToolResultBlockParam,
)

from ._exceptions import ConfigurationError
from ._limits import Platform
from ._models import estimate_cost
from ._prepare import OutputFormat, OversizedImage
from ._prepared import PreparedImage
from ._request import ImageSlot, fit_request
from ._sources import ImageInput, describe_input

if TYPE_CHECKING:
    from ._client import Answer, AsyncClientLike, AsyncTextStream, ClientLike, TextStream

__all__ = ["Cache", "ImageMessage", "ToolResult", "tool_result"]

Cache = bool | Literal["5m", "1h"]
"""``True`` for the default 5-minute prompt cache, or a TTL: ``"5m"``, ``"1h"``."""


def cache_control(cache: Cache) -> CacheControlEphemeralParam | None:
    """The ``cache_control`` value for a ``cache=`` argument (None for no caching)."""
    if cache is False:
        return None
    if cache is True:
        return {"type": "ephemeral"}
    if cache in ("5m", "1h"):
        return {"type": "ephemeral", "ttl": cache}
    raise ConfigurationError(f"cache={cache!r}: use True, False, '5m' or '1h'")


class ToolResult:
    """Images (and text) a tool returned, for a ``tool_result`` block in the next user turn.

    >>> result = ToolResult("toolu_01", "screenshot.png", text="Clicked OK")  # doctest: +SKIP
    >>> ImageMessage("", tool_results=[result], model="claude-opus-4-8")      # doctest: +SKIP
    """

    def __init__(
        self, tool_use_id: str, *images: ImageInput, text: str | None = None, is_error: bool = False
    ) -> None:
        if not tool_use_id:
            raise ConfigurationError("ToolResult needs the tool_use_id of the tool_use it answers")
        self.tool_use_id = tool_use_id
        self.images = images
        self.text = text
        self.is_error = is_error


class ImageMessage:
    """A user message of images and a prompt, prepared for one model and platform.

    Images are prepared lazily, on first use of ``images``, ``content`` or ``to_param()``
    (or in worker threads by ``aask``), and once. Request-wide rules apply across the
    message: more than 20 images caps every image at 2000 px, at most 100 or 600 images,
    the body within the platform's request limit.

    ``cache`` marks the last image for prompt caching; ``oversized_image`` sets the API's
    ``transformations.oversized_image`` on every image; ``label_images`` (default: when
    there are several images) puts "Image 1:" before each.
    """

    def __init__(
        self,
        prompt: str,
        *images: ImageInput,
        model: str | None = None,
        platform: str | Platform | None = None,
        cache: Cache = False,
        oversized_image: OversizedImage | None = None,
        label_images: bool | None = None,
        tool_results: Sequence[ToolResult] = (),
        max_bytes: int | None = None,
        format: OutputFormat | None = None,
        quality: int | None = None,
    ) -> None:
        if not isinstance(prompt, str):
            raise ConfigurationError(
                f"the prompt comes first and must be a str, got {describe_input(prompt)}; "
                "write ImageMessage('What is this?', image)"
            )
        if not prompt and not images and not tool_results:
            raise ConfigurationError("an ImageMessage needs a prompt, an image or a tool result")
        self.prompt = prompt
        self.model = model
        self.platform = platform
        self.tool_results = tuple(tool_results)
        self.label_images = len(images) > 1 if label_images is None else label_images
        self._cache_control = cache_control(cache)
        self._options: dict[str, Any] = {
            key: value
            for key, value in {
                "oversized_image": oversized_image,
                "max_bytes": max_bytes,
                "format": format,
                "quality": quality,
            }.items()
            if value is not None
        }
        self.slots: tuple[ImageSlot, ...] = tuple(
            ImageSlot(item, f"image {i} ({describe_input(item)})", self._options)
            for i, item in enumerate(
                [*(image for result in self.tool_results for image in result.images), *images], 1
            )
        )

    # -- preparation -------------------------------------------------------------------

    def prepare(
        self, *, model: str | None = None, platform: str | Platform | None = None
    ) -> tuple[PreparedImage, ...]:
        """The images prepared for ``model`` and ``platform`` (default: the message's)."""
        return tuple(
            fit_request(
                self.slots,
                text=[self.prompt],
                model=model or self.model,
                platform=platform or self.platform or "anthropic",
            )
        )

    @cached_property
    def images(self) -> tuple[PreparedImage, ...]:
        """Every image of the message, prepared, in the order they are sent."""
        return self.prepare()

    @property
    def content(self) -> list[ContentBlockParam]:
        """The message's content blocks: tool results, then images, then the prompt."""
        return self.render(self.images)

    def to_param(self) -> MessageParam:
        """The ``anthropic.types.MessageParam`` dict for ``messages=[...]``."""
        return {"role": "user", "content": self.render(self.images)}

    def render(
        self, prepared: Sequence[PreparedImage], *, mark_cache: bool = True
    ) -> list[ContentBlockParam]:
        """Content blocks built from ``prepared`` (one per slot, in slot order).

        ``mark_cache=False`` leaves out the ``cache`` marker (a conversation keeps only the
        newest one).
        """
        blocks: list[ImageBlockParam] = [dict(image.block) for image in prepared]  # type: ignore[misc]
        if blocks and mark_cache and self._cache_control is not None:
            blocks[-1]["cache_control"] = self._cache_control
        content: list[ContentBlockParam] = []
        position = 0
        for result in self.tool_results:
            inner: list[Any] = []
            if result.text:
                inner.append(TextBlockParam(type="text", text=result.text))
            inner += blocks[position : position + len(result.images)]
            position += len(result.images)
            block: ToolResultBlockParam = {
                "type": "tool_result",
                "tool_use_id": result.tool_use_id,
                "content": inner,
            }
            if result.is_error:
                block["is_error"] = True
            content.append(block)
        for number, image_block in enumerate(blocks[position:], 1):
            if self.label_images:
                content.append(TextBlockParam(type="text", text=f"Image {number}:"))
            content.append(image_block)
        if self.prompt:
            content.append(TextBlockParam(type="text", text=self.prompt))
        return content

    # -- what it costs -----------------------------------------------------------------

    @property
    def tokens(self) -> int | None:
        """Input tokens of the images (None when a URL or file-id image's size is unknown)."""
        counts = [image.tokens for image in self.images]
        return None if None in counts else sum(c for c in counts if c is not None)

    def cost(self) -> float | None:
        """Estimated US dollars for the images' tokens, where the model's price is known."""
        tokens = self.tokens
        if tokens is None or self.model is None:
            return None
        return estimate_cost(tokens, self.model)

    def describe(self) -> str:
        """What will be sent, image by image, with the total tokens."""
        lines = [image.describe() for image in self.images]
        tokens = self.tokens
        total = "unknown" if tokens is None else f"{tokens:,}"
        lines.append(f"{len(self.images)} image(s), {total} tokens")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"ImageMessage({self.prompt[:40]!r}, {len(self.slots)} image(s), model={self.model!r})"
        )

    # -- asking Claude (see claudevision._client) ----------------------------------------

    def ask(self, client: ClientLike | None = None, **params: Any) -> Answer:
        """Send this message and return the :class:`~claudevision.Answer` (see ``ask``)."""
        from ._client import ask_message

        return ask_message(self, client, **params)

    async def aask(self, client: AsyncClientLike | None = None, **params: Any) -> Answer:
        """Like :meth:`ask` with an async client; images are prepared in worker threads."""
        from ._client import aask_message

        return await aask_message(self, client, **params)

    def stream(self, client: ClientLike | None = None, **params: Any) -> TextStream:
        """Send this message and iterate over the reply's text as it arrives."""
        from ._client import stream_message

        return stream_message(self, client, **params)

    async def astream(
        self, client: AsyncClientLike | None = None, **params: Any
    ) -> AsyncTextStream:
        """:meth:`stream` for async code: ``async for text in await message.astream()``."""
        from ._client import astream_message

        return await astream_message(self, client, **params)


def tool_result(
    tool_use_id: str,
    *images: ImageInput,
    text: str | None = None,
    is_error: bool = False,
    model: str | None = None,
    platform: str | Platform | None = None,
    cache: Cache = False,
) -> ToolResultBlockParam:
    """A ``tool_result`` block holding images, e.g. a screenshot from a computer-use tool.

    >>> block = tool_result("toolu_01", "screen.png", model="claude-opus-4-8")  # doctest: +SKIP
    >>> messages.append({"role": "user", "content": [block]})                  # doctest: +SKIP
    """
    message = ImageMessage(
        "",
        tool_results=[ToolResult(tool_use_id, *images, text=text, is_error=is_error)],
        model=model,
        platform=platform,
        cache=cache,
    )
    block = message.content[0]
    assert block["type"] == "tool_result"
    return block
