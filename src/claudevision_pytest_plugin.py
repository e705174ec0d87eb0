"""The pytest plugin claudevision registers: a ``claude_server`` fixture, loaded lazily.

This module sits outside the ``claudevision`` package on purpose: pytest imports every
registered plugin at start-up, and importing anything inside the package would import
claudevision itself. Here nothing is imported until a test asks for the fixture.

    def test_my_app(claude_server):
        client = claude_server.client()            # anthropic.Anthropic at 127.0.0.1
        answer = my_app.describe("cat.png", client=client)
        assert claude_server.requests[-1].images[0].media_type == "image/png"
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from claudevision.testing import ClaudeServer

__all__ = ["claude_server"]


@pytest.fixture
def claude_server() -> Iterator[ClaudeServer]:
    """A started :class:`~claudevision.testing.ClaudeServer`, stopped after the test."""
    from claudevision.testing import ClaudeServer

    with ClaudeServer() as server:
        yield server
