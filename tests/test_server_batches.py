"""Message Batches on the local server, driven by the real SDK."""

from __future__ import annotations

import base64
from typing import Any

import anthropic
import pytest

from claudevision.testing import ClaudeServer, Reply

MODEL = "claude-sonnet-4-6"


def request(custom_id: str, content: Any = "hi", **params: Any) -> Any:
    return {
        "custom_id": custom_id,
        "params": {
            "model": MODEL,
            "max_tokens": 100,
            "messages": [{"role": "user", "content": content}],
            **params,
        },
    }


@pytest.fixture
def client(claude_server: ClaudeServer) -> anthropic.Anthropic:
    return claude_server.client(max_retries=0)


def test_create_retrieve_results(claude_server: ClaudeServer, client: anthropic.Anthropic) -> None:
    broken = {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": "image/png",
            "data": base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 30).decode(),
        },
    }
    claude_server.queue("first", Reply.error(500))
    batch = client.messages.batches.create(
        requests=[
            request("a"),
            request("b"),
            request("c", [broken]),
            request("d", model="claude-nonesuch"),
            request("e"),
        ]
    )
    assert batch.id.startswith("msgbatch_") and batch.processing_status == "ended"
    counts = client.messages.batches.retrieve(batch.id).request_counts
    assert (counts.succeeded, counts.errored, counts.processing) == (2, 3, 0)
    results = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
    assert results["a"].type == "succeeded" and results["a"].message.content[0].text == "first"  # type: ignore[union-attr]
    assert results["b"].error.error.type == "api_error"  # type: ignore[union-attr]
    assert "Could not process image" in results["c"].error.error.message  # type: ignore[union-attr]
    assert results["d"].error.error.type == "not_found_error"  # type: ignore[union-attr]
    assert results["e"].message.content[0].text.startswith("Received")  # type: ignore[union-attr]


def test_processing_time_cancel_expire_delete(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    claude_server.batch_processing_seconds = 3600
    running = client.messages.batches.create(requests=[request("a"), request("b")])
    assert running.processing_status == "in_progress" and running.results_url is None
    assert running.request_counts.processing == 2
    with pytest.raises(anthropic.BadRequestError, match="only once it has ended"):
        client.messages.batches.delete(running.id)
    canceled = client.messages.batches.cancel(running.id)
    assert canceled.processing_status == "ended" and canceled.request_counts.canceled == 2
    assert canceled.cancel_initiated_at is not None
    expiring = client.messages.batches.create(requests=[request("x")])
    claude_server.expire_batch(expiring.id)
    [line] = list(client.messages.batches.results(expiring.id))
    assert (line.custom_id, line.result.type) == ("x", "expired")
    listed = [b.id for b in client.messages.batches.list(limit=1)]
    assert listed == [expiring.id, running.id]
    assert client.messages.batches.delete(running.id).type == "message_batch_deleted"
    with pytest.raises(anthropic.NotFoundError):
        client.messages.batches.retrieve(running.id)


@pytest.mark.parametrize(
    ("requests", "words"),
    [
        ([], "a batch holds 1 to"),
        ([request("a"), request("a")], "custom_id values must be unique"),
        ([request("a b")], "requests.0.custom_id: String should match"),
        ([request("a", stream=True)], "requests.0.params.stream"),
        ([request("a", max_tokens=0)], "requests.0.params.max_tokens"),
        ([request("a", temperature=3)], "requests.0.params.temperature: Input should be"),
    ],
)
def test_invalid_batches(client: anthropic.Anthropic, requests: Any, words: str) -> None:
    with pytest.raises(anthropic.BadRequestError, match=words):
        client.messages.batches.create(requests=requests)
