"""Malformed requests: each gets the API's JSON error, the right status, a ``request_id``
and a message naming the field. Written with ``http.client``, so a request can be as wrong
as a test needs."""

from __future__ import annotations

import copy
import http.client
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from claudevision.testing import ClaudeServer

MODEL = "claude-sonnet-4-6"
HEADERS = {
    "x-api-key": "test-key",
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
}
TOOL = {"name": "lookup", "input_schema": {"type": "object"}}
CALL = {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}
RESULT = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}
PNG_DATA = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYGAAAAAEAAH2FzhVAAAAAElFTkSuQmCC"
)


def base() -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}


def turns(*messages: Any) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        body["messages"] = list(messages)

    return change


def setting(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        body.update(fields)

    return change


def without(key: str) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        del body[key]

    return change


def user(*blocks: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


def assistant(*blocks: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": list(blocks)}


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


IMAGE: dict[str, Any] = {
    "type": "image",
    "source": {"type": "base64", "media_type": "image/png", "data": PNG_DATA},
}

# (name, change to a valid body, status, text the message must contain)
BODIES: list[tuple[str, Callable[[dict[str, Any]], None], int, str]] = [
    ("no model", without("model"), 400, "model: Field required"),
    ("model not a string", setting(model=5), 400, "model: Input should be a valid string"),
    ("unknown model", setting(model="claude-nonesuch"), 404, "model: claude-nonesuch"),
    ("no max_tokens", without("max_tokens"), 400, "max_tokens: Field required"),
    ("max_tokens a string", setting(max_tokens="5"), 400, "max_tokens: Input should be a valid"),
    ("max_tokens negative", setting(max_tokens=-1), 400, "max_tokens: Input should be greater"),
    ("max_tokens too high", setting(max_tokens=10**7), 400, "max_tokens: 10000000 >"),
    ("max_tokens a bool", setting(max_tokens=True), 400, "max_tokens: Input should be a valid"),
    ("no messages", without("messages"), 400, "messages: Field required"),
    ("empty messages", setting(messages=[]), 400, "messages: List should have at least 1"),
    ("messages an object", setting(messages={}), 400, "messages: Input should be a valid list"),
    ("a message a string", turns("hi"), 400, "messages.0: Input should be a valid dictionary"),
    ("bad role", turns({"role": "bot", "content": "x"}), 400, "messages.0.role: Input should be"),
    ("no content", turns({"role": "user"}), 400, "messages.0.content: Field required"),
    ("extra key", turns({"role": "user", "content": "x", "id": 1}), 400, "messages.0.id: Extra"),
    ("empty string", turns({"role": "user", "content": ""}), 400, "messages.0: all messages"),
    ("block not a dict", turns(user(1)), 400, "messages.0.content.0: Input should be a valid dict"),
    ("block no type", turns(user({"text": "x"})), 400, "messages.0.content.0.type: Field required"),
    ("unknown block", turns(user({"type": "video"})), 400, "messages.0.content.0.type: Input tag"),
    ("text not str", turns(user({"type": "text", "text": 1})), 400, "content.0.text: Input should"),
    ("empty text", turns(user(text(""))), 400, "text content blocks must be non-empty"),
    ("image in assistant", turns(user(text("a")), assistant(IMAGE)), 400, "'image' blocks"),
    ("tool_use in user", turns(user(CALL)), 400, "'tool_use' blocks are not permitted within user"),
    ("trailing space", turns(user(text("a")), assistant(text("b "))), 400, "trailing whitespace"),
    (
        "tool_use unanswered",
        turns(user(text("a")), assistant(CALL), user(text("b"))),
        400,
        "messages.1: `tool_use` ids were found without `tool_result`",
    ),
    (
        "tool_result unasked",
        turns(user(text("a")), assistant(text("b")), user(RESULT)),
        400,
        "messages.2.content.0: unexpected `tool_use_id`",
    ),
    (
        "tool_use ids repeat",
        turns(user(text("a")), assistant(CALL), user(RESULT), assistant(CALL), user(RESULT)),
        400,
        "messages.3.content.0: `tool_use` ids must be unique",
    ),
    (
        "tool_use bad id",
        turns(user(text("a")), assistant(dict(CALL, id="a.b"))),
        400,
        "tool_use.id: String should match pattern",
    ),
    (
        "tool_result without id",
        turns(user({"type": "tool_result"})),
        400,
        "messages.0.content.0.tool_use_id: Field required",
    ),
    ("system a number", setting(system=5), 400, "system: Input should be a valid list"),
    ("system image", setting(system=[IMAGE]), 400, "system.0.type: Input should be 'text'"),
    ("metadata extra", setting(metadata={"user": "x"}), 400, "metadata.user: Extra inputs"),
    ("user_id too long", setting(metadata={"user_id": "x" * 300}), 400, "metadata.user_id"),
    ("stop_sequences str", setting(stop_sequences="END"), 400, "stop_sequences: Input should be"),
    ("blank stop", setting(stop_sequences=[" "]), 400, "stop_sequences.0: stop sequences"),
    ("temperature > 1", setting(temperature=1.5), 400, "temperature: Input should be between"),
    ("top_p a string", setting(top_p="x"), 400, "top_p: Input should be a valid number"),
    ("top_k negative", setting(top_k=-1), 400, "top_k: Input should be greater"),
    ("stream a string", setting(stream="yes"), 400, "stream: Input should be a valid boolean"),
    ("unknown field", setting(temprature=1), 400, "temprature: Extra inputs are not permitted"),
    ("tools an object", setting(tools={}), 400, "tools: Input should be a valid list"),
    ("tool no schema", setting(tools=[{"name": "a"}]), 400, "tools.0.input_schema: Field required"),
    ("tool bad name", setting(tools=[dict(TOOL, name="a b")]), 400, "tools.0.name: String should"),
    ("tools repeat", setting(tools=[TOOL, TOOL]), 400, "Tool names must be unique"),
    (
        "tool_choice unknown tool",
        setting(tools=[TOOL], tool_choice={"type": "tool", "name": "nope"}),
        400,
        "tool_choice.name: Tool 'nope' not found",
    ),
    ("tool_choice bad type", setting(tool_choice={"type": "all"}), 400, "tool_choice.type"),
    (
        "tool_choice without tools",
        setting(tool_choice={"type": "any"}),
        400,
        "tool_choice: tool_choice may only be specified while providing tools",
    ),
    (
        "thinking budget low",
        setting(thinking={"type": "enabled", "budget_tokens": 10}),
        400,
        "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
    ),
    (
        "thinking over max_tokens",
        setting(thinking={"type": "enabled", "budget_tokens": 2000}),
        400,
        "max_tokens: `max_tokens` must be greater than `thinking.budget_tokens`",
    ),
    ("thinking bad type", setting(thinking={"type": "on"}), 400, "thinking.type: Input should"),
    (
        "cache_control bad ttl",
        turns(user({**text("a"), "cache_control": {"type": "ephemeral", "ttl": "2h"}})),
        400,
        "messages.0.content.0.cache_control.ttl: Input should be '5m' or '1h'",
    ),
    (
        "five cache breakpoints",
        turns(user(*[{**text("a"), "cache_control": {"type": "ephemeral"}}] * 5)),
        400,
        "A maximum of 4 blocks with cache_control may be provided. Found 5.",
    ),
    (
        "document bad media type",
        turns(user({"type": "document", "source": {"type": "base64", "media_type": "x/y"}})),
        400,
        "messages.0.content.0.source.data: Field required",
    ),
    (
        "document unknown source",
        turns(user({"type": "document", "source": {"type": "blob"}})),
        400,
        "messages.0.content.0.source.type: Input should be",
    ),
    (
        "image bad media type",
        turns(user({"type": "image", "source": dict(IMAGE["source"], media_type="image/bmp")})),
        400,
        "Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'",
    ),
    (
        "output_config bad format",
        setting(output_config={"format": {"type": "xml"}}),
        400,
        "output_config.format.type: Input should be 'json_schema'",
    ),
    ("service_tier bad", setting(service_tier="fast"), 400, "service_tier: Input should be"),
]

RAW: list[tuple[str, bytes, dict[str, str], int, str]] = [
    ("not JSON", b"{nope", {}, 400, "not valid JSON"),
    ("JSON list", b"[]", {}, 400, "must be a JSON object"),
    ("no credentials", b"{}", {"x-api-key": ""}, 401, "x-api-key header is required"),
    ("no version", b"{}", {"anthropic-version": ""}, 400, "anthropic-version: header is required"),
    ("bad version", b"{}", {"anthropic-version": "v1"}, 400, "anthropic-version: 'v1' is not"),
    ("bad beta", json.dumps(base()).encode(), {"anthropic-beta": "x y"}, 400, "anthropic-beta"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[ClaudeServer]:
    with ClaudeServer() as started:
        yield started


def post(
    server: ClaudeServer, raw: bytes, headers: dict[str, str], path: str = "/v1/messages"
) -> tuple[int, dict[str, Any], str]:
    port = int(server.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    sent = {k: v for k, v in {**HEADERS, **headers}.items() if v}
    try:
        connection.request("POST", path, body=raw, headers=sent)
        response = connection.getresponse()
        assert response.getheader("content-type") == "application/json"
        return response.status, json.loads(response.read()), response.getheader("request-id", "")
    finally:
        connection.close()


def assert_error(answer: tuple[int, dict[str, Any], str], status: int, words: str) -> None:
    got, body, header = answer
    assert (got, body["type"]) == (status, "error"), body
    assert words in body["error"]["message"], body["error"]["message"]
    assert body["request_id"].startswith("req_") and body["request_id"] == header


@pytest.mark.parametrize(
    ("change", "status", "words"), [case[1:] for case in BODIES], ids=[c[0] for c in BODIES]
)
def test_malformed_body(
    server: ClaudeServer, change: Callable[[dict[str, Any]], None], status: int, words: str
) -> None:
    body = copy.deepcopy(base())
    change(body)
    assert_error(post(server, json.dumps(body).encode(), {}), status, words)


@pytest.mark.parametrize(
    ("raw", "headers", "status", "words"), [case[1:] for case in RAW], ids=[c[0] for c in RAW]
)
def test_malformed_request(
    server: ClaudeServer, raw: bytes, headers: dict[str, str], status: int, words: str
) -> None:
    assert_error(post(server, raw, headers), status, words)


def test_at_least_fifty_kinds() -> None:
    assert len(BODIES) + len(RAW) >= 50


@pytest.mark.parametrize("path", ["/v1/nothing", "/v1/messages/batches/x/y/z", "/"])
def test_unknown_paths_are_json_404(server: ClaudeServer, path: str) -> None:
    assert_error(post(server, b"{}", {}, path), 404, "Not found")


def test_valid_body_still_served(server: ClaudeServer) -> None:
    status, body, _ = post(server, json.dumps(base()).encode(), {})
    assert status == 200 and body["type"] == "message"


def test_injected_faults_carry_the_request_id(server: ClaudeServer) -> None:
    server.fail(529, retry_after=1)
    status, body, header = post(server, json.dumps(base()).encode(), {})
    assert status == 529 and body["request_id"] == header == server.requests[-1].request_id


def test_current_top_level_fields_are_accepted(server: ClaudeServer) -> None:
    extra = {"cache_control": {"type": "ephemeral"}, "speed": "fast", "user_profile_id": "u"}
    status, body, _ = post(server, json.dumps({**base(), **extra}).encode(), {})
    assert status == 200, body
    status, body, _ = post(server, json.dumps({**base(), "speed": "warp"}).encode(), {})
    assert status == 400 and body["error"]["message"].startswith("speed: Input should be")
