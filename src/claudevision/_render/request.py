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

from .._core.blocks import with_files_beta
from .._core.exceptions import ConfigurationError
from .._core.limits import MAX_CACHE_BREAKPOINTS, Bounds, Platform
from .._prepare.document import PreparedDocument
from .._prepare.fit_request import fit_request
from .._prepare.prepared import PreparedImage
from .message import ImageMessage
from .repair import (
    as_param,
    count_images,
    document_blocks,
    has_documents,
    image_blocks,
    prune_images,
    pruned_count,
    repair_messages,
)

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
    inline: bool = False
    """Every image as base64 (``count_tokens`` takes no url or file sources): URL images
    are downloaded, unless an image says ``download=False``."""
    download: bool | None = None
    allow_private: bool = False
    bounds: Bounds | None = None
    """How URL images already in dict turns are downloaded (as for ``ImageMessage``)."""

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
        turns = [_as_turn(turn) for turn in self.turns]
        pruned = self._pruned(turns)
        slots = [
            slot
            for i, turn in enumerate(turns)
            if isinstance(turn, ImageMessage)
            for j, slot in enumerate(turn.slots)
            if (i, j) not in pruned
        ]
        plain = [
            prune_images(turn, {k for (i2, k) in pruned if i2 == i}, _WHY)
            if not isinstance(turn, ImageMessage)
            else turn
            for i, turn in enumerate(turns)
        ]
        found = sum(count_images(turn) for turn in plain if not isinstance(turn, ImageMessage))
        prepared = fit_request(
            slots,
            other_bytes=self._other_bytes(plain),
            other_images=found,
            model=self.model,
            platform=self.platform,
            inline=self.inline,
        )
        rendered = self._messages(plain, prepared, pruned)
        if found or any(
            has_documents(as_param(t)) for t in plain if not isinstance(t, ImageMessage)
        ):
            rendered = self._repaired(plain, rendered)
        kwargs = self._kwargs(rendered)
        _limit_cache_markers(kwargs)
        if any(
            (block.get("source") or {}).get("type") == "file"
            for message in rendered
            for block in [*image_blocks(message), *document_blocks(message)]
        ):
            kwargs = with_files_beta(kwargs)
        return RenderedRequest(kwargs, tuple(p for p in prepared if isinstance(p, PreparedImage)))

    def _pruned(self, turns: Sequence[Any]) -> set[tuple[int, int]]:
        """(turn, image) positions of the oldest images ``keep_images`` removes."""
        if self.keep_images is None:
            return set()
        order = [
            (i, j)
            for i, turn in enumerate(turns)
            for j in range(
                len(turn.slots) if isinstance(turn, ImageMessage) else count_images(turn)
            )
        ]
        return set(order[: pruned_count(len(order), self.keep_images)])

    def _repaired(self, turns: Sequence[Any], rendered: list[MessageParam]) -> list[MessageParam]:
        """The whole history through the repair, our own images counted but not re-checked."""
        ours = {
            id(data)
            for turn, message in zip(turns, rendered, strict=True)
            if isinstance(turn, ImageMessage)
            for block in image_blocks(message)
            if (data := block["source"].get("data")) is not None
        }
        options = self._kwargs([])
        return repair_messages(
            rendered,
            model=self.model,
            platform=self.platform,
            other_bytes=len(json.dumps(options, default=str)),
            trusted=ours,
            inline=self.inline,
            download=self.download,
            allow_private=self.allow_private,
            bounds=self.bounds,
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

    def _other_bytes(self, turns: Sequence[Any]) -> int:
        """Bytes of the whole body but the images' data: every parameter counts."""
        plain = [m for m in turns if not isinstance(m, ImageMessage)]
        skeleton = json.dumps(self._kwargs(plain), default=str)
        return len(skeleton) + sum(m.skeleton_bytes() for m in turns if isinstance(m, ImageMessage))

    def _messages(
        self,
        turns: Sequence[Any],
        prepared: Sequence[PreparedImage | PreparedDocument],
        pruned: set[tuple[int, int]],
    ) -> list[MessageParam]:
        last_cached = max(
            (i for i, m in enumerate(turns) if isinstance(m, ImageMessage) and m.slots),
            default=-1,
        )
        rendered: list[MessageParam] = []
        left = iter(prepared)
        for index, turn in enumerate(turns):
            if isinstance(turn, ImageMessage):
                own = [None if (index, j) in pruned else next(left) for j in range(len(turn.slots))]
                content = turn.render(own, mark_cache=index == last_cached)
                rendered.append({"role": "user", "content": content})
            else:
                rendered.append(turn)
        return rendered


_WHY = "older than the most recent images kept"


def _marked(blocks: Any) -> list[dict[str, Any]]:
    """The blocks (tool results' included) that carry a ``cache_control`` marker."""
    found: list[dict[str, Any]] = []
    for block in blocks if isinstance(blocks, (list, tuple)) else []:
        if isinstance(block, dict):
            if "cache_control" in block:
                found.append(block)
            found += _marked(block.get("content")) if block.get("type") == "tool_result" else []
    return found


def _limit_cache_markers(kwargs: dict[str, Any]) -> None:
    """Keep the newest cache markers when there are more than the API takes: the oldest
    in the messages lose theirs (on copies: the caller's dicts stay as they were)."""
    messages = kwargs["messages"]
    contents = [m.get("content") if isinstance(m, dict) else None for m in messages]
    excess = (
        len(_marked(kwargs.get("system")))
        + len(_marked(kwargs.get("tools")))
        + sum(len(_marked(content)) for content in contents)
        - MAX_CACHE_BREAKPOINTS
    )
    for index, content in enumerate(contents):
        if excess <= 0:
            return
        if _marked(content):
            messages[index] = copied = as_param(messages[index])
            for block in _marked(copied["content"])[:excess]:
                del block["cache_control"]
                excess -= 1


def _as_turn(turn: Any) -> Any:
    """An SDK object (a ``Message`` reply) as the ``MessageParam`` dict the API takes."""
    if hasattr(turn, "model_dump") and not isinstance(turn, ImageMessage):
        return as_param(turn)
    return turn
