"""Claude's reply, with the images that were sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._prepare.prepared import PreparedImage

if TYPE_CHECKING:
    from anthropic.types import Message, Usage

__all__ = ["Answer"]


@dataclass(frozen=True)
class Answer:
    """Claude's reply: the text, the SDK's full ``Message`` and the images that were sent.

    ``str(answer)`` is the text, so ``print(claudevision.ask(...))`` prints the reply.
    """

    text: str
    message: Message
    images: tuple[PreparedImage, ...]

    @classmethod
    def of(cls, message: Message, images: tuple[PreparedImage, ...]) -> Answer:
        """The answer for a reply ``message`` to a request holding ``images``."""
        text = "".join(block.text for block in message.content if block.type == "text")
        return cls(text, message, images)

    @property
    def usage(self) -> Usage:
        """Token usage the API reported."""
        return self.message.usage

    def __str__(self) -> str:
        return self.text
