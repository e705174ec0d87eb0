"""Claude's reply, with the images that were sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._prepare.prepared import PreparedImage
from .._render.display import answer_markdown

if TYPE_CHECKING:
    from anthropic.types import Message, Usage

__all__ = ["Answer"]


@dataclass(frozen=True, repr=False)
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

    def _repr_markdown_(self) -> str:
        """A notebook's view: the answer rendered as Markdown, then the tokens it took."""
        return answer_markdown(
            self.text,
            model=self.message.model,
            usage=getattr(self.message, "usage", None),
            images=len(self.images),
        )

    def __repr__(self) -> str:
        short = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return f"Answer({short!r}, {len(self.images)} image(s))"
