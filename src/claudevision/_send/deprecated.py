"""Names kept for one release so code written for 0.1 keeps working, with a warning.

``ImageMessage.ask`` and its siblings made a plain message reach into the client layer.
The public ``claudevision.ImageMessage`` is, for this release, this subclass that still
has them; the plain class lives in ``_render.message``. Both go in 0.3.
"""

from __future__ import annotations

import warnings
from typing import Any

from .._render import message as _message
from .answer import Answer
from .client import AsyncVision, Vision
from .sdk import AsyncClientLike, ClientLike
from .stream import AsyncTextStream, TextStream

__all__ = ["ImageMessage"]


def _warn(old: str, new: str) -> None:
    warnings.warn(
        f"ImageMessage.{old}() is deprecated and will be removed in claudevision 0.3; use {new}",
        DeprecationWarning,
        stacklevel=3,
    )


class ImageMessage(_message.ImageMessage):
    __doc__ = _message.ImageMessage.__doc__

    def ask(self, client: ClientLike | None = None, **params: Any) -> Answer:
        """Deprecated: use ``Vision(client).send(message)``."""
        _warn("ask", "Vision(client).send(message)")
        return Vision(client).send(self, **params)

    async def aask(self, client: AsyncClientLike | None = None, **params: Any) -> Answer:
        """Deprecated: use ``await AsyncVision(client).send(message)``."""
        _warn("aask", "await AsyncVision(client).send(message)")
        return await AsyncVision(client).send(self, **params)

    def stream(self, client: ClientLike | None = None, **params: Any) -> TextStream:
        """Deprecated: use ``Vision(client).stream_turns(message)``."""
        _warn("stream", "Vision(client).stream_turns(message)")
        return Vision(client).stream_turns(self, **params)

    async def astream(
        self, client: AsyncClientLike | None = None, **params: Any
    ) -> AsyncTextStream:
        """Deprecated: use ``await AsyncVision(client).stream_turns(message)``."""
        _warn("astream", "await AsyncVision(client).stream_turns(message)")
        return await AsyncVision(client).stream_turns(self, **params)
