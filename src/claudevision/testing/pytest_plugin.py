"""The pytest plugin claudevision registers: a ``claude_server`` fixture.

def test_my_app(claude_server):
    client = claude_server.client()            # anthropic.Anthropic at 127.0.0.1
    answer = my_app.describe("cat.png", client=client)
    assert claude_server.requests[-1].images[0].media_type == "image/png"
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._server import ClaudeServer


@pytest.fixture
def claude_server() -> Iterator[ClaudeServer]:
    """A started :class:`~claudevision.testing.ClaudeServer`, stopped after the test."""
    with ClaudeServer() as server:
        yield server
