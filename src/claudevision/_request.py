"""Render a whole request: a typed :class:`Request` value to ``messages.create`` keywords.

    >>> from claudevision import ImageMessage, Request
    >>> request = Request(model="claude-opus-4-8",
    ...                   turns=(ImageMessage("What is it?", "cat.png"),))  # doctest: +SKIP
    >>> rendered = request.render()                                       # doctest: +SKIP
    >>> client.messages.create(**rendered.kwargs)                         # doctest: +SKIP

The images of every :class:`~claudevision.ImageMessage` in the turns are prepared
together, so the request-wide rules (image count, 2000 px above 20 images, the body
size counting every parameter) see all of them. Only the last message carrying images
keeps its ``cache`` marker (the API allows few breakpoints).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._exceptions import ConfigurationError
from ._fit_request import fit_request
from ._limits import Platform
from ._message import ImageMessage
from ._prepared import PreparedImage
from ._repair import count_images, image_blocks, repair_messages

if TYPE_CHECKING:
    from anthropic.types import MessageParam

__all__ = ["DEFAULT_MAX_TOKENS", "RenderedRequest", "Request"]

DEFAULT_MAX_TOKENS = 1024
# Keywords a Request sets itself; passing them in ``params`` would silently replace it.
_RESERVED = {
    "stream": "use stream() / astream() to stream a reply",
    "messages": "messages= would replace the images; use a Conversation for earlier turns",
}


@dataclass(frozen=True)
class RenderedRequest:
    """What is sent: the keyword arguments of ``messages.create`` and the images in them."""

    kwargs: dict[str, Any]
    images: tuple[PreparedImage, ...]

    def for_count_tokens(self) -> dict[str, Any]:
        """The keywords of ``messages.count_tokens`` (no ``max_tokens``)."""
        return {key: value for key, value in self.kwargs.items() if key != "max_tokens"}


@dataclass(frozen=True)
class Request:
    """One Messages API call as a value: model, turns, platform and every other parameter.

    ``turns`` are :class:`~claudevision.ImageMessage` user turns and ``MessageParam``
    dicts (earlier replies, text turns). ``params`` are passed to ``messages.create``
    unchanged (``tools``, ``metadata``, ``stop_sequences``, ...) and counted in the body.
    Images already inside ``MessageParam`` turns (a history from elsewhere) are checked
    and repaired by :func:`~claudevision.repair_messages` under the same rules.
    """

    model: str
    turns: tuple[ImageMessage | MessageParam, ...]
    platform: str | Platform = "anthropic"
    max_tokens: int = DEFAULT_MAX_TOKENS
    system: str | Sequence[Any] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    keep_images: int | None = None
    """Keep only this many most recent images (older ones pruned in chunks of ten)."""

    def __post_init__(self) -> None:
        if not self.model or not isinstance(self.model, str):
            raise ConfigurationError(
                "no model given: pass model='claude-opus-4-8' (or another Claude model id)"
            )
        for name, why in _RESERVED.items():
            if name in self.params:
                raise ConfigurationError(f"{name}=: {why}")

    def render(self) -> RenderedRequest:
        """Prepare every image under the request's rules and build the keywords."""
        messages = [m for m in self.turns if isinstance(m, ImageMessage)]
        slots = [slot for m in messages for slot in m.slots]
        plain = [m for m in self.turns if not isinstance(m, ImageMessage)]
        found = sum(count_images(m) for m in plain)
        prepared = fit_request(
            slots,
            other_bytes=self._other_bytes(),
            other_images=found,
            model=self.model,
            platform=self.platform,
        )
        rendered = self._messages(prepared)
        if found or self.keep_images is not None:
            rendered = self._repaired(rendered, prepared)
        return RenderedRequest(self._kwargs(rendered), tuple(prepared))

    def _repaired(
        self, rendered: list[MessageParam], prepared: Sequence[PreparedImage]
    ) -> list[MessageParam]:
        """The whole history through the repair, our own images counted but not re-checked."""
        ours = {
            id(block["source"].get("data"))
            for turn, message in zip(self.turns, rendered, strict=True)
            if isinstance(turn, ImageMessage)
            for block in image_blocks(message)
        }
        options = self._kwargs([])
        return repair_messages(
            rendered,
            model=self.model,
            platform=self.platform,
            keep_images=self.keep_images,
            other_bytes=len(json.dumps(options, default=str)),
            trusted=ours,
        ).messages

    def _kwargs(self, messages: list[MessageParam]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "messages": messages,
            **self.params,
        }
        if self.system:
            kwargs["system"] = self.system
        return kwargs

    def _other_bytes(self) -> int:
        """Bytes of the whole body but the images' data: every parameter counts."""
        plain = [m for m in self.turns if not isinstance(m, ImageMessage)]
        skeleton = json.dumps(self._kwargs(plain), default=str)
        return len(skeleton) + sum(
            m.skeleton_bytes() for m in self.turns if isinstance(m, ImageMessage)
        )

    def _messages(self, prepared: Sequence[PreparedImage]) -> list[MessageParam]:
        last_cached = max(
            (i for i, m in enumerate(self.turns) if isinstance(m, ImageMessage) and m.slots),
            default=-1,
        )
        rendered: list[MessageParam] = []
        position = 0
        for index, turn in enumerate(self.turns):
            if isinstance(turn, ImageMessage):
                own = prepared[position : position + len(turn.slots)]
                position += len(turn.slots)
                content = turn.render(own, mark_cache=index == last_cached)
                rendered.append({"role": "user", "content": content})
            else:
                rendered.append(turn)
        return rendered
