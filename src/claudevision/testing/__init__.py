"""Test your code against a local Claude: a real HTTP server on 127.0.0.1, no network.

    >>> from claudevision.testing import ClaudeServer
    >>> with ClaudeServer() as server:                                  # doctest: +SKIP
    ...     answer = claudevision.ask("What is it?", "cat.png", client=server.client(),
    ...                               model="claude-opus-4-8")
    ...     assert "image/png" in answer.text

With pytest, the ``claude_server`` fixture gives a started server per test (the plugin is
registered when claudevision is installed).
"""

from ._server import ClaudeServer, Fault, ReceivedImage, RecordedRequest, Reply

__all__ = ["ClaudeServer", "Fault", "ReceivedImage", "RecordedRequest", "Reply"]
