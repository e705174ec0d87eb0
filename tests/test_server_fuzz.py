"""Hypothesis against the local server's parsers: any JSON body gets a verdict (never a
crash), any schema gets a value, and generated values satisfy the schemas they came from."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claudevision.testing import ClaudeServer
from claudevision.testing._rules import Rejected
from claudevision.testing._schema import example
from claudevision.testing._validate import check_body, check_headers

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)
KEYS = st.sampled_from(
    [
        "model",
        "max_tokens",
        "messages",
        "system",
        "tools",
        "tool_choice",
        "thinking",
        "metadata",
        "stop_sequences",
        "temperature",
        "role",
        "content",
        "type",
        "text",
        "source",
        "tool_use_id",
        "id",
        "name",
        "input",
        "input_schema",
        "cache_control",
    ]
)
SHAPED = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5000)
    | st.text(max_size=6)
    | st.sampled_from(
        [
            "user",
            "assistant",
            "text",
            "image",
            "tool_use",
            "tool_result",
            "claude-haiku-4-5",
            "enabled",
            "any",
            "tool",
            "auto",
            "ephemeral",
        ]
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=25,
)


@given(st.one_of(JSON, SHAPED))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_any_body_gets_a_verdict(body: Any) -> None:
    if not isinstance(body, dict):
        body = {"messages": body}
    for counting in (False, True):
        verdict = (400, "accepted")
        try:
            check_body(body, counting=counting)
        except Rejected as rejected:
            verdict = (rejected.status, rejected.message)
        assert verdict[0] == 400 and verdict[1]


@given(st.dictionaries(st.sampled_from(["anthropic-version", "anthropic-beta"]), st.text()))
def test_any_headers_get_a_verdict(headers: dict[str, str]) -> None:
    status = 400
    try:
        check_headers(headers, direct=True)
    except Rejected as rejected:
        status = rejected.status
    assert status == 400


@given(JSON)
@settings(max_examples=300)
def test_any_schema_gives_a_value(schema: Any) -> None:
    json.dumps(example(schema))  # never raises; always JSON


SCHEMAS: st.SearchStrategy[Any] = st.deferred(
    lambda: st.one_of(
        st.fixed_dictionaries(
            {"type": st.sampled_from(["string", "integer", "number", "boolean", "null"])}
        ),
        st.fixed_dictionaries(
            {"type": st.just("integer"), "minimum": st.integers(-50, 50)},
            optional={"maximum": st.integers(60, 100), "multipleOf": st.integers(1, 5)},
        ),
        st.fixed_dictionaries(
            {"type": st.just("string")},
            optional={"minLength": st.integers(0, 20), "maxLength": st.integers(20, 30)},
        ),
        st.fixed_dictionaries(
            {"type": st.just("string"), "format": st.sampled_from(["date", "email", "uuid"])}
        ),
        st.fixed_dictionaries(
            {"enum": st.lists(st.integers() | st.text(max_size=4), min_size=1, max_size=3)}
        ),
        st.fixed_dictionaries(
            {"type": st.just("array"), "items": SCHEMAS}, optional={"minItems": st.integers(0, 3)}
        ),
        st.fixed_dictionaries({"anyOf": st.lists(SCHEMAS, min_size=1, max_size=3)}),
        st.builds(
            lambda props, required: {
                "type": "object",
                "properties": props,
                "required": [k for k in props if required],
                "additionalProperties": False,
            },
            st.dictionaries(st.text("abcdef", min_size=1, max_size=5), SCHEMAS, max_size=4),
            st.booleans(),
        ),
    )
)


@given(SCHEMAS)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_generated_values_satisfy_their_schema(schema: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(example(schema), schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture(scope="module")
def server() -> Any:
    with ClaudeServer() as started:
        yield started


@given(st.one_of(JSON, SHAPED))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_body_over_http_gets_json(server: ClaudeServer, body: Any) -> None:
    import http.client

    port = int(server.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {
        "x-api-key": "k",
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
    }
    try:
        connection.request("POST", "/v1/messages", body=json.dumps(body), headers=headers)
        response = connection.getresponse()
        answer = json.loads(response.read())
    finally:
        connection.close()
    assert response.status in (200, 400, 404), answer
    if response.status != 200:
        assert answer["type"] == "error" and answer["request_id"].startswith("req_")
