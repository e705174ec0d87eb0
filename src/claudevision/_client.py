"""Asking Claude: thin sync and async helpers over the caller's own ``anthropic`` client.

Everything that does no I/O (checking the client, preparing images, building the request)
lives in :func:`build_request`; the sync and async helpers differ only where they wait.
API errors are the SDK's own exceptions; retries are the SDK's (``max_retries``).

    >>> import claudevision
    >>> answer = claudevision.ask("What is in this image?", "photo.jpg",
    ...                           model="claude-opus-4-8")                 # doctest: +SKIP
    >>> print(answer)                                                       # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import anthropic
import anyio.to_thread
from anthropic.types import Message, MessageParam

from ._exceptions import ConfigurationError, MissingAPIKeyError, UnsupportedSourceError
from ._limits import Platform
from ._message import Cache, ImageMessage, ToolResult
from ._prepared import PreparedImage
from ._request import fit_request
from ._sources import ImageInput

__all__ = [
    "Answer",
    "AsyncConversation",
    "AsyncTextStream",
    "Conversation",
    "TextStream",
    "aask",
    "acount_tokens",
    "ask",
    "astream",
    "count_tokens",
    "stream",
]

ClientLike = anthropic.Anthropic | anthropic.AnthropicBedrock | anthropic.AnthropicVertex
AsyncClientLike = (
    anthropic.AsyncAnthropic | anthropic.AsyncAnthropicBedrock | anthropic.AsyncAnthropicVertex
)
AnyClient = ClientLike | AsyncClientLike

DEFAULT_MAX_TOKENS = 1024


def _classes(*names: str) -> tuple[type, ...]:
    """The SDK's client classes of these names (older SDKs lack some)."""
    return tuple(getattr(anthropic, name) for name in names if hasattr(anthropic, name))


_BEDROCK = _classes("AnthropicBedrock", "AnthropicBedrockMantle")
_ASYNC_BEDROCK = _classes("AsyncAnthropicBedrock", "AsyncAnthropicBedrockMantle")
_VERTEX = _classes("AnthropicVertex")
_ASYNC_VERTEX = _classes("AsyncAnthropicVertex")
_ASYNC = (anthropic.AsyncAnthropic, *_ASYNC_BEDROCK, *_ASYNC_VERTEX)


def platform_of(client: AnyClient) -> str:
    """The platform whose limits apply to requests sent through ``client``."""
    if isinstance(client, (*_BEDROCK, *_ASYNC_BEDROCK)):
        return "bedrock"
    if isinstance(client, (*_VERTEX, *_ASYNC_VERTEX)):
        return "vertex"
    return "anthropic"


def check_credentials(client: AnyClient) -> None:
    """Raise :class:`MissingAPIKeyError` when a Claude API client has nothing to sign with."""
    if not isinstance(client, (anthropic.Anthropic, anthropic.AsyncAnthropic)):
        return  # Bedrock and Vertex resolve cloud credentials at request time
    if (
        getattr(client, "api_key", None) is None
        and getattr(client, "auth_token", None) is None
        and getattr(client, "credentials", None) is None
    ):
        raise MissingAPIKeyError(
            "no Anthropic API key: set the ANTHROPIC_API_KEY environment variable, or pass "
            "client=anthropic.Anthropic(api_key=...)"
        )


def _from_environment(kind: type[anthropic.Anthropic | anthropic.AsyncAnthropic]) -> Any:
    try:
        return kind()
    except anthropic.AnthropicError as exc:  # e.g. a profile named but not found
        raise MissingAPIKeyError(
            f"could not make an {kind.__name__} client from the environment ({exc}); set the "
            "ANTHROPIC_API_KEY environment variable, or pass "
            "client=anthropic.Anthropic(api_key=...)"
        ) from exc


def _sync_client(client: ClientLike | None) -> ClientLike:
    if client is None:
        client = _from_environment(anthropic.Anthropic)
    elif isinstance(client, _ASYNC):
        raise ConfigurationError(
            f"{type(client).__name__} is an async client; use the async helper (aask, astream, "
            "acount_tokens) or pass a sync client"
        )
    check_credentials(client)
    return client


def _async_client(client: AsyncClientLike | None) -> AsyncClientLike:
    if client is None:
        client = _from_environment(anthropic.AsyncAnthropic)
    elif not isinstance(client, _ASYNC):
        raise ConfigurationError(
            f"{type(client).__name__} is a sync client; use the sync helper (ask, stream, "
            "count_tokens) or pass an async client"
        )
    check_credentials(client)
    return client


@dataclass(frozen=True)
class Answer:
    """Claude's reply: the text, the SDK's full ``Message`` and the images that were sent.

    ``str(answer)`` is the text, so ``print(claudevision.ask(...))`` prints the reply.
    """

    text: str
    message: Message
    images: tuple[PreparedImage, ...]

    @property
    def usage(self) -> anthropic.types.Usage:
        """Token usage the API reported."""
        return self.message.usage

    def __str__(self) -> str:
        return self.text


def _text_of(message: Message) -> str:
    return "".join(block.text for block in message.content if block.type == "text")


def build_request(
    turns: Sequence[ImageMessage | MessageParam],
    client: AnyClient | None = None,
    /,
    *,
    model: str | None,
    platform: str | Platform | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    system: str | None = None,
    **params: Any,
) -> tuple[dict[str, Any], tuple[PreparedImage, ...]]:
    """The keyword arguments for ``client.messages.create`` and the images they hold.

    Images of every :class:`ImageMessage` in ``turns`` are prepared together, so the
    request-wide rules (image count, 2000 px above 20 images, body size) see all of them.
    Only the last message carrying images keeps its ``cache`` marker (the API allows few).
    """
    if "stream" in params:
        raise ConfigurationError("use claudevision.stream() / astream() to stream a reply")
    if "messages" in params:
        raise ConfigurationError(
            "messages= would replace the images; use a Conversation for earlier turns"
        )
    if not model:
        raise ConfigurationError(
            "no model given: pass model='claude-opus-4-8' (or another Claude model id)"
        )
    target = platform or (platform_of(client) if client is not None else "anthropic")
    image_messages = [m for m in turns if isinstance(m, ImageMessage)]
    slots = [slot for m in image_messages for slot in m.slots]
    text = [m.prompt for m in image_messages] + ([system] if system else [])
    text += [json.dumps(m, default=str) for m in turns if not isinstance(m, ImageMessage)]
    prepared = fit_request(slots, text=text, model=model, platform=target)
    last_cached = max(
        (i for i, m in enumerate(turns) if isinstance(m, ImageMessage) and m.slots),
        default=-1,
    )
    rendered: list[MessageParam] = []
    position = 0
    for index, message in enumerate(turns):
        if isinstance(message, ImageMessage):
            own = prepared[position : position + len(message.slots)]
            position += len(message.slots)
            content = message.render(own, mark_cache=index == last_cached)
            rendered.append({"role": "user", "content": content})
        else:
            rendered.append(message)
    request: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "messages": rendered,
        **params,
    }
    if system:
        request["system"] = system
    return request, tuple(prepared)


# -- one message ---------------------------------------------------------------------------


def _sync_request(
    message: ImageMessage, client: ClientLike | None, params: dict[str, Any]
) -> tuple[ClientLike, dict[str, Any], tuple[PreparedImage, ...]]:
    """The client (checked first), request and images for sending ``message``."""
    checked = _sync_client(client)
    params.setdefault("model", message.model)
    request, images = build_request([message], checked, platform=message.platform, **params)
    return checked, request, images


async def _async_request(
    message: ImageMessage, client: AsyncClientLike | None, params: dict[str, Any]
) -> tuple[AsyncClientLike, dict[str, Any], tuple[PreparedImage, ...]]:
    """:func:`_sync_request` with the image work in worker threads."""
    checked = _async_client(client)
    params.setdefault("model", message.model)
    request, images = await anyio.to_thread.run_sync(
        partial(build_request, [message], checked, platform=message.platform, **params)
    )
    return checked, request, images


def ask_message(message: ImageMessage, client: ClientLike | None = None, **params: Any) -> Answer:
    """Send ``message`` with a sync client; see :func:`ask`."""
    checked, request, images = _sync_request(message, client, params)
    reply = checked.messages.create(**request)
    return Answer(_text_of(reply), reply, images)


async def aask_message(
    message: ImageMessage, client: AsyncClientLike | None = None, **params: Any
) -> Answer:
    """Send ``message`` with an async client; images are prepared in worker threads."""
    checked, request, images = await _async_request(message, client, params)
    reply = await checked.messages.create(**request)
    return Answer(_text_of(reply), reply, images)


def ask(
    prompt: str,
    *images: ImageInput,
    client: ClientLike | None = None,
    model: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    system: str | None = None,
    cache: Cache = False,
    **params: Any,
) -> Answer:
    """Ask Claude about images; return the :class:`Answer`.

    ``client`` defaults to ``anthropic.Anthropic()`` (from the environment); its platform
    decides the limits. Extra keyword arguments (``tools``, ``metadata``,
    ``stop_sequences``, ...) go to ``client.messages.create`` unchanged.

    >>> answer = ask("What is in it?", "photo.jpg", model="claude-opus-4-8")  # doctest: +SKIP
    >>> answer.text, answer.message.usage.input_tokens                       # doctest: +SKIP
    """
    message = ImageMessage(prompt, *images, model=model, cache=cache)
    return ask_message(message, client, max_tokens=max_tokens, system=system, **params)


async def aask(
    prompt: str,
    *images: ImageInput,
    client: AsyncClientLike | None = None,
    model: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    system: str | None = None,
    cache: Cache = False,
    **params: Any,
) -> Answer:
    """:func:`ask` for async code: never blocks the event loop.

    >>> answer = await aask("Describe it.", image_b64, model="claude-opus-4-8")  # doctest: +SKIP
    """
    message = ImageMessage(prompt, *images, model=model, cache=cache)
    return await aask_message(message, client, max_tokens=max_tokens, system=system, **params)


# -- streaming -----------------------------------------------------------------------------


class TextStream:
    """Text of a reply as it arrives; ``message`` holds the full ``Message`` once done.

    >>> for text in stream("Describe it.", "photo.jpg", model="claude-opus-4-8"):  # doctest: +SKIP
    ...     print(text, end="", flush=True)
    """

    def __init__(
        self, client: ClientLike, request: dict[str, Any], images: Sequence[PreparedImage]
    ):
        self._client, self._request = client, request
        self.images = tuple(images)
        self.message: Message | None = None

    def __iter__(self) -> Iterator[str]:
        with self._client.messages.stream(**self._request) as events:
            yield from events.text_stream
            self.message = events.get_final_message()


class AsyncTextStream:
    """:class:`TextStream` for async code: ``async for text in astream(...)``."""

    def __init__(
        self, client: AsyncClientLike, request: dict[str, Any], images: Sequence[PreparedImage]
    ):
        self._client, self._request = client, request
        self.images = tuple(images)
        self.message: Message | None = None

    async def __aiter__(self) -> AsyncIterator[str]:
        async with self._client.messages.stream(**self._request) as events:
            async for text in events.text_stream:
                yield text
            self.message = await events.get_final_message()


def stream_message(
    message: ImageMessage, client: ClientLike | None = None, **params: Any
) -> TextStream:
    """Check and prepare ``message`` now; return a :class:`TextStream` that sends it."""
    return TextStream(*_sync_request(message, client, params))


async def astream_message(
    message: ImageMessage, client: AsyncClientLike | None = None, **params: Any
) -> AsyncTextStream:
    """Prepare ``message`` in worker threads; return an :class:`AsyncTextStream`."""
    return AsyncTextStream(*await _async_request(message, client, params))


def stream(
    prompt: str,
    *images: ImageInput,
    client: ClientLike | None = None,
    model: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    system: str | None = None,
    cache: Cache = False,
    **params: Any,
) -> TextStream:
    """Like :func:`ask`, but yields the reply's text as it arrives.

    Images are checked and prepared when this is called, before anything is sent.
    """
    message = ImageMessage(prompt, *images, model=model, cache=cache)
    return stream_message(message, client, max_tokens=max_tokens, system=system, **params)


async def astream(
    prompt: str,
    *images: ImageInput,
    client: AsyncClientLike | None = None,
    model: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    system: str | None = None,
    cache: Cache = False,
    **params: Any,
) -> AsyncTextStream:
    """:func:`stream` for async code: ``async for text in await astream(...)``."""
    message = ImageMessage(prompt, *images, model=model, cache=cache)
    return await astream_message(message, client, max_tokens=max_tokens, system=system, **params)


# -- token counting ------------------------------------------------------------------------


def _count_request(request: dict[str, Any], images: Sequence[PreparedImage]) -> dict[str, Any]:
    for image in images:
        if image.block["source"]["type"] != "base64":
            raise UnsupportedSourceError(
                f"{image.label}: count_tokens takes images only inline as base64, not as a "
                f"{image.block['source']['type']} source; pass the image's bytes or path"
            )
    request = dict(request)
    request.pop("max_tokens", None)
    return request


def count_tokens(
    prompt: str,
    *images: ImageInput,
    client: ClientLike | None = None,
    model: str | None = None,
    system: str | None = None,
    **params: Any,
) -> int:
    """Input tokens the API counts for this message (``client.messages.count_tokens``)."""
    message = ImageMessage(prompt, *images, model=model)
    checked, request, prepared = _sync_request(message, client, dict(params, system=system))
    return checked.messages.count_tokens(**_count_request(request, prepared)).input_tokens


async def acount_tokens(
    prompt: str,
    *images: ImageInput,
    client: AsyncClientLike | None = None,
    model: str | None = None,
    system: str | None = None,
    **params: Any,
) -> int:
    """:func:`count_tokens` for async code."""
    message = ImageMessage(prompt, *images, model=model)
    checked, request, prepared = await _async_request(message, client, dict(params, system=system))
    counted = await checked.messages.count_tokens(**_count_request(request, prepared))
    return counted.input_tokens


# -- conversations -------------------------------------------------------------------------


class _ConversationBase:
    """The history and request building shared by both conversation classes (no I/O)."""

    client: AnyClient

    def __init__(
        self,
        *,
        model: str,
        system: str | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        platform: str | Platform | None = None,
        cache: Cache = False,
        **params: Any,
    ) -> None:
        self.model, self.system, self.max_tokens = model, system, max_tokens
        self.platform, self.cache, self.params = platform, cache, params
        self.turns: list[ImageMessage | MessageParam] = []
        """User turns as :class:`ImageMessage`, assistant turns as ``MessageParam`` dicts."""

    def _user_turn(
        self, prompt: str, images: Sequence[ImageInput], tool_results: Sequence[ToolResult]
    ) -> ImageMessage:
        return ImageMessage(
            prompt,
            *images,
            model=self.model,
            platform=self.platform,
            cache=self.cache,
            tool_results=tool_results,
        )

    def _request(
        self, client: AnyClient, turns: Sequence[ImageMessage | MessageParam]
    ) -> tuple[dict[str, Any], tuple[PreparedImage, ...]]:
        return build_request(
            turns,
            client,
            model=self.model,
            platform=self.platform,
            max_tokens=self.max_tokens,
            system=self.system,
            **self.params,
        )

    def _record(
        self, turn: ImageMessage, reply: Message, images: tuple[PreparedImage, ...]
    ) -> Answer:
        self.turns += [turn, {"role": "assistant", "content": reply.to_param()["content"]}]
        return Answer(_text_of(reply), reply, images[-len(turn.slots) :] if turn.slots else ())

    def messages(self) -> list[MessageParam]:
        """The history as ``MessageParam`` dicts, images prepared under the request rules."""
        if not self.turns:
            return []
        request, _ = self._request(self.client, self.turns)
        messages: list[MessageParam] = request["messages"]
        return messages


class Conversation(_ConversationBase):
    """A multi-turn conversation with images, over a sync client.

    The whole history is re-sent each turn, so the request-wide rules count every image
    in it: once more than 20 images have been sent, earlier ones are re-prepared at
    2000 px per side too.

    >>> chat = Conversation(model="claude-opus-4-8")                      # doctest: +SKIP
    >>> chat.ask("What is in this photo?", "photo.jpg").text              # doctest: +SKIP
    >>> chat.ask("And in this one, compared to the first?", "photo2.jpg") # doctest: +SKIP
    """

    client: ClientLike

    def __init__(self, client: ClientLike | None = None, *, model: str, **options: Any) -> None:
        super().__init__(model=model, **options)
        self.client = _sync_client(client)

    def ask(
        self, prompt: str, *images: ImageInput, tool_results: Sequence[ToolResult] = ()
    ) -> Answer:
        """Send the next user turn (prompt, images, tool results) and record the reply."""
        turn = self._user_turn(prompt, images, tool_results)
        request, prepared = self._request(self.client, [*self.turns, turn])
        reply = self.client.messages.create(**request)
        return self._record(turn, reply, prepared)


class AsyncConversation(_ConversationBase):
    """:class:`Conversation` over an async client; images are prepared in worker threads."""

    client: AsyncClientLike

    def __init__(
        self, client: AsyncClientLike | None = None, *, model: str, **options: Any
    ) -> None:
        super().__init__(model=model, **options)
        self.client = _async_client(client)

    async def ask(
        self, prompt: str, *images: ImageInput, tool_results: Sequence[ToolResult] = ()
    ) -> Answer:
        """Send the next user turn and record the reply."""
        turn = self._user_turn(prompt, images, tool_results)
        request, prepared = await anyio.to_thread.run_sync(
            partial(self._request, self.client, [*self.turns, turn])
        )
        reply = await self.client.messages.create(**request)
        return self._record(turn, reply, prepared)
