"""Multi-turn conversations with images, over :class:`~claudevision.Vision`.

The whole history is re-sent each turn, so the request-wide rules count every image in
it: once more than 20 images have been sent, earlier ones are re-prepared at 2000 px per
side too, and only the newest image keeps the prompt-cache marker. A history begun
elsewhere (``history=``) goes through :func:`~claudevision.repair_messages` on every
request, and ``keep_images=`` keeps only the most recent images, pruned ten at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._core.blocks import Cache
from .._core.limits import Platform
from .._prepare.prepared import PreparedImage
from .._read.read import ReadImage
from .._read.sources import ImageInput
from .._render.display import Turn, blocks_of, conversation_html
from .._render.message import ImageMessage, ToolResult
from .._render.repair import image_blocks, repair_messages
from .._render.request import DEFAULT_MAX_TOKENS, Request
from .answer import Answer
from .client import AsyncVision, Vision, _BaseVision, countable
from .sdk import AsyncClientLike, ClientLike

if TYPE_CHECKING:
    from anthropic.types import Message, MessageParam

__all__ = ["AsyncConversation", "Conversation"]


class _ConversationBase:
    """The history and request building both conversation classes share (no I/O)."""

    vision: _BaseVision

    def __init__(
        self,
        *,
        model: str,
        system: str | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        cache: Cache = False,
        history: Sequence[ImageMessage | MessageParam] = (),
        keep_images: int | None = None,
        by_reference: bool = False,
        **params: Any,
    ) -> None:
        self.model, self.system, self.max_tokens = model, system, max_tokens
        self.by_reference = by_reference
        """True: once a turn is answered, its images are uploaded with the Files API and
        later requests re-send their ids, not their bytes (where a later request's rules
        need them smaller, they go inline again)."""
        self.cache, self.params, self.keep_images = cache, params, keep_images
        self.turns: list[ImageMessage | MessageParam] = list(history)
        """User turns as :class:`ImageMessage`, assistant turns (and any history passed
        in) as ``MessageParam`` dicts."""

    def _user_turn(
        self,
        prompt: str,
        images: Sequence[ImageInput | ReadImage | PreparedImage],
        tools: Sequence[ToolResult],
    ) -> ImageMessage:
        return self.vision.message(
            prompt, *images, cache=self.cache, tool_results=tools, model=self.model
        )

    def _request(
        self, turns: Sequence[ImageMessage | MessageParam], *, inline: bool = False
    ) -> Request:
        return self.vision.request(
            turns,
            model=self.model,
            max_tokens=self.max_tokens,
            system=self.system,
            keep_images=self.keep_images,
            inline=inline,
            **self.params,
        )

    def _record(
        self, turn: ImageMessage, reply: Message, answer: Answer, kept: ImageMessage | None = None
    ) -> Answer:
        self.turns += [kept or turn, {"role": "assistant", "content": reply.to_param()["content"]}]
        return Answer(answer.text, reply, self._own(turn, answer))

    @staticmethod
    def _own(turn: ImageMessage, answer: Answer) -> tuple[PreparedImage, ...]:
        count = sum(1 for slot in turn.slots if slot.known_document() is None)
        return answer.images[-count:] if count else ()

    def _referenced(self, turn: ImageMessage, uploaded: Sequence[PreparedImage]) -> ImageMessage:
        """``turn`` again, its images the uploaded ones (tool results' first, as in slots)."""
        images = iter(uploaded)
        rest: list[Any] = [slot.known_document() or next(images) for slot in turn.slots]
        results = []
        for result in turn.tool_results:
            mine, rest = rest[: len(result.images)], rest[len(result.images) :]
            results.append(
                ToolResult(result.tool_use_id, *mine, text=result.text, is_error=result.is_error)
            )
        return self.vision.message(
            turn.prompt, *rest, cache=self.cache, tool_results=results, model=self.model,
            label_images=turn.label_images,
        )  # fmt: skip

    @property
    def image_tokens(self) -> int | None:
        """Input tokens of every image the next request re-sends, computed here exactly
        (None when a URL or Files API image's size is unknown). Text is counted by the
        API: see ``count_tokens()``."""
        if not self.turns:
            return 0
        rendered = self._request(self.turns).render()
        messages = rendered.kwargs["messages"]
        return repair_messages(
            messages, model=self.model, platform=self.vision.platform, trusted=_all_data(messages)
        ).image_tokens

    def _repr_html_(self) -> str:
        """A notebook's view: every turn, with thumbnails of the images sent."""
        turns: list[Turn] = []
        for turn in self.turns:
            if isinstance(turn, ImageMessage):
                turns.append(("user", turn.prompt, turn.images))
            else:
                text, images = blocks_of(turn.get("content"))
                turns.append((str(turn.get("role")), text, images))
        return conversation_html(turns, model=self.model)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r}, {len(self.turns)} turn(s))"

    def messages(self) -> list[MessageParam]:
        """The history as ``MessageParam`` dicts, images prepared under the request rules."""
        if not self.turns:
            return []
        messages: list[MessageParam] = self._request(self.turns).render().kwargs["messages"]
        return messages


def _all_data(messages: Sequence[Any]) -> set[int]:
    return {id(block["source"].get("data")) for m in messages for block in image_blocks(m)}


def _options(platform: str | Platform | None, options: dict[str, Any]) -> dict[str, Any]:
    """Split ``Vision`` defaults from conversation options."""
    keys = ("paths", "bounds", "download", "allow_private", "file_cache")
    defaults = {k: options.pop(k) for k in keys if k in options}
    if platform is not None:
        defaults["platform"] = platform
    return defaults


class Conversation(_ConversationBase):
    """A multi-turn conversation with images, over a sync client (or a :class:`Vision`).

    >>> chat = Conversation(model="claude-opus-4-8")                      # doctest: +SKIP
    >>> chat.ask("What is in this photo?", "photo.jpg").text              # doctest: +SKIP
    >>> chat.ask("And in this one, compared to the first?", "photo2.jpg") # doctest: +SKIP
    """

    vision: Vision

    def __init__(
        self,
        client: ClientLike | Vision | None = None,
        *,
        model: str,
        platform: str | Platform | None = None,
        **options: Any,
    ) -> None:
        defaults = _options(platform, options)
        super().__init__(model=model, **options)
        self.vision = client if isinstance(client, Vision) else Vision(client, **defaults)
        self.client = self.vision.client  # credentials checked now, before any image work

    def ask(
        self,
        prompt: str,
        *images: ImageInput | ReadImage | PreparedImage,
        tool_results: Sequence[ToolResult] = (),
    ) -> Answer:
        """Send the next user turn (prompt, images, tool results) and record the reply."""
        turn = self._user_turn(prompt, images, tool_results)
        rendered = self._request([*self.turns, turn]).render()
        reply = self.vision.create(rendered)
        answer = Answer.of(reply, rendered.images)
        kept = None
        if self.by_reference and turn.slots:
            own = self._own(turn, answer)
            kept = self._referenced(turn, [self.vision.upload_or_keep(i) for i in own])
        return self._record(turn, reply, answer, kept)

    def count_tokens(self, prompt: str = "", *images: ImageInput | ReadImage) -> int:
        """Input tokens the API counts for the whole history (and a next turn, if given)."""
        turns = (
            [*self.turns, self._user_turn(prompt, images, ())] if prompt or images else self.turns
        )
        rendered = self._request(turns, inline=True).render()
        return self.client.messages.count_tokens(**countable(rendered)).input_tokens


class AsyncConversation(_ConversationBase):
    """:class:`Conversation` over an async client; images are prepared in worker threads."""

    vision: AsyncVision

    def __init__(
        self,
        client: AsyncClientLike | AsyncVision | None = None,
        *,
        model: str,
        platform: str | Platform | None = None,
        **options: Any,
    ) -> None:
        defaults = _options(platform, options)
        super().__init__(model=model, **options)
        self.vision = client if isinstance(client, AsyncVision) else AsyncVision(client, **defaults)
        self.client = self.vision.client

    async def ask(
        self,
        prompt: str,
        *images: ImageInput | ReadImage | PreparedImage,
        tool_results: Sequence[ToolResult] = (),
    ) -> Answer:
        """Send the next user turn and record the reply."""
        turn = self._user_turn(prompt, images, tool_results)
        rendered = await self.vision.render(self._request([*self.turns, turn]))
        reply = await self.vision.create(rendered)
        answer = Answer.of(reply, rendered.images)
        kept = None
        if self.by_reference and turn.slots:
            own = self._own(turn, answer)
            kept = self._referenced(turn, [await self.vision.upload_or_keep(i) for i in own])
        return self._record(turn, reply, answer, kept)

    async def count_tokens(self, prompt: str = "", *images: ImageInput | ReadImage) -> int:
        """:meth:`Conversation.count_tokens` for async code."""
        turns = (
            [*self.turns, self._user_turn(prompt, images, ())] if prompt or images else self.turns
        )
        rendered = await self.vision.render(self._request(turns, inline=True))
        counted = await self.client.messages.count_tokens(**countable(rendered))
        return counted.input_tokens
