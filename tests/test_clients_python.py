"""Real Python clients against the local server, untouched: structured output through tools
(instructor, pydantic-ai, langchain-anthropic) and through ``messages.parse``, streams,
retries, Bedrock streaming. Each library is skipped where it is not installed."""

from __future__ import annotations

from typing import Any, Literal

import anthropic
import httpx2
import pytest
from pydantic import BaseModel, Field

from claudevision.testing import ClaudeServer, Reply

MODEL = "claude-sonnet-4-6"


class Address(BaseModel):
    street: str
    city: str
    postcode: str = Field(min_length=4, max_length=10)


class Person(BaseModel):
    name: str
    age: int = Field(ge=18, le=130)
    role: Literal["admin", "user"]
    tags: list[str]
    home: Address
    nickname: str | None = None


def test_instructor_structured_output(claude_server: ClaudeServer) -> None:
    instructor = pytest.importorskip("instructor")
    client = instructor.from_anthropic(claude_server.client(max_retries=0))
    person = client.messages.create(
        model=MODEL,
        max_tokens=1000,
        messages=[{"role": "user", "content": "Extract: Ada, 36, admin."}],
        response_model=Person,
    )
    assert isinstance(person, Person) and person.age >= 18
    body = claude_server.requests[-1].body
    assert body["tool_choice"]["type"] == "tool"


def test_pydantic_ai_output_type(claude_server: ClaudeServer) -> None:
    pytest.importorskip("pydantic_ai")
    from pydantic_ai import Agent
    from pydantic_ai.models.anthropic import AnthropicModel
    from pydantic_ai.providers.anthropic import AnthropicProvider

    provider = AnthropicProvider(anthropic_client=claude_server.async_client(max_retries=0))
    agent = Agent(AnthropicModel(MODEL, provider=provider), output_type=Person)
    result = agent.run_sync("Extract: Ada, 36, admin.")
    assert isinstance(result.output, Person)
    assert claude_server.requests[-1].status == 200


def test_langchain_with_structured_output(claude_server: ClaudeServer) -> None:
    pytest.importorskip("langchain_anthropic")
    from langchain_anthropic import ChatAnthropic

    chat = ChatAnthropic(
        model=MODEL,
        api_key="test-key",  # type: ignore[arg-type]
        base_url=claude_server.url,
        max_retries=0,
        max_tokens=1000,  # type: ignore[call-arg]
    )
    person = chat.with_structured_output(Person).invoke("Extract: Ada, 36, admin.")
    assert isinstance(person, Person)
    plain = chat.invoke("Say hi")
    assert "Prompt: 'Say hi'" in str(plain.content)


def test_messages_parse(claude_server: ClaudeServer) -> None:
    client = claude_server.client(max_retries=0)
    parsed = client.messages.parse(
        model=MODEL,
        max_tokens=1000,
        messages=[{"role": "user", "content": "Extract: Ada, 36, admin."}],
        output_format=Person,
    )
    assert isinstance(parsed.parsed_output, Person)
    assert claude_server.requests[-1].body["output_config"]["format"]["type"] == "json_schema"


def test_forced_tool_input_is_valid_against_its_schema(claude_server: ClaudeServer) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = Person.model_json_schema()
    client = claude_server.client(max_retries=0)
    for choice in ({"type": "tool", "name": "record"}, {"type": "any"}):
        tools: Any = [{"name": "record", "description": "Save", "input_schema": schema}]
        tool_choice: Any = choice
        reply = client.messages.create(
            model=MODEL,
            max_tokens=1000,
            messages=[{"role": "user", "content": "Extract"}],
            tools=tools,
            tool_choice=tool_choice,
        )
        [block] = reply.content
        assert block.type == "tool_use" and reply.stop_reason == "tool_use"
        jsonschema.validate(block.input, schema)


def test_streaming_usage_equals_the_plain_reply(claude_server: ClaudeServer) -> None:
    client = claude_server.client(max_retries=0)
    tool = {"name": "record", "input_schema": Person.model_json_schema()}
    for extra in ({}, {"tools": [tool], "tool_choice": {"type": "tool", "name": "record"}}):
        request: dict[str, Any] = {
            "model": MODEL,
            "max_tokens": 1000,
            "messages": [{"role": "user", "content": "Describe the weather at length."}],
            **extra,
        }
        plain = client.messages.create(**request)
        with client.messages.stream(**request) as stream:
            streamed = stream.get_final_message()
        assert streamed.usage == plain.usage
        assert streamed.stop_reason == plain.stop_reason
        assert [b.type for b in streamed.content] == [b.type for b in plain.content]
        if extra:
            assert streamed.content[0].input == plain.content[0].input  # type: ignore[union-attr]


def test_stream_events_are_the_apis(claude_server: ClaudeServer) -> None:
    claude_server.queue(Reply.tool_use("record", {"name": "Ada"}, text="Saving."))
    client = claude_server.client(max_retries=0)
    tool: Any = {"name": "record", "input_schema": {"type": "object"}}
    with client.messages.stream(
        model=MODEL,
        max_tokens=1000,
        messages=[{"role": "user", "content": "x"}],
        tools=[tool],
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert kinds[:3] == ["message_start", "content_block_start", "text"] or "ping" not in kinds
    raw = [e for e in kinds if e in ("message_start", "message_delta", "message_stop")]
    assert raw == ["message_start", "message_delta", "message_stop"]
    assert "input_json" in kinds
    assert final.content[1].input == {"name": "Ada"}  # type: ignore[union-attr]


def test_max_tokens_and_stop_sequences(claude_server: ClaudeServer) -> None:
    client = claude_server.client(max_retries=0)
    question = [{"role": "user", "content": "Tell me everything."}]
    short = client.messages.create(model=MODEL, max_tokens=1, messages=question)  # type: ignore[arg-type]
    assert short.stop_reason == "max_tokens" and short.usage.output_tokens == 1
    claude_server.queue("One. Two. STOP Three.")
    stopped = client.messages.create(
        model=MODEL,
        max_tokens=100,
        messages=question,  # type: ignore[arg-type]
        stop_sequences=["STOP"],
    )
    assert (stopped.stop_reason, stopped.stop_sequence) == ("stop_sequence", "STOP")
    assert stopped.content[0].text == "One. Two. "  # type: ignore[union-attr]
    with client.messages.stream(model=MODEL, max_tokens=2, messages=question) as stream:  # type: ignore[arg-type]
        assert stream.get_final_text() == "Received"
        assert stream.get_final_message().stop_reason == "max_tokens"


def test_faults_midway_through_a_stream(claude_server: ClaudeServer) -> None:
    client = claude_server.client(max_retries=0)
    question: Any = [{"role": "user", "content": "Tell me everything."}]
    claude_server.queue(Reply(fail_after=4, fail_with="error", error_status=529))
    seen: list[str] = []
    with (
        pytest.raises(anthropic.APIStatusError, match="Overloaded"),
        client.messages.stream(model=MODEL, max_tokens=500, messages=question) as stream,
    ):
        seen.extend(event.type for event in stream)
    assert seen[0] == "message_start"  # the stream had begun
    claude_server.queue(Reply(fail_after=4, fail_with="drop"))
    with (
        pytest.raises(httpx2.RemoteProtocolError),  # the SDK does not wrap a cut mid-stream
        client.messages.stream(model=MODEL, max_tokens=500, messages=question) as stream,
    ):
        seen += [event.type for event in stream]
    reply = client.messages.create(model=MODEL, max_tokens=500, messages=question)
    assert reply.content  # still serving


def test_sdk_retries_succeed_against_429_and_529(claude_server: ClaudeServer) -> None:
    client = claude_server.client(max_retries=3)
    question: Any = [{"role": "user", "content": "hi"}]
    claude_server.fail(429, times=2, retry_after=0.01)
    assert client.messages.create(model=MODEL, max_tokens=50, messages=question).content
    claude_server.fail(529, times=2, retry_after=0.01)
    assert client.messages.create(model=MODEL, max_tokens=50, messages=question).content
    claude_server.queue(Reply.error(529, retry_after=0.01), Reply.error(429, retry_after=0.01))
    assert client.messages.create(model=MODEL, max_tokens=50, messages=question).content
    assert [r.status for r in claude_server.requests] == [
        429,
        429,
        200,
        529,
        529,
        200,
        529,
        429,
        200,
    ]
    [retry_after] = {r.headers.get("x-stainless-retry-count") for r in claude_server.requests[1:2]}
    assert retry_after == "1"


def test_bedrock_streaming(claude_server: ClaudeServer) -> None:
    pytest.importorskip("botocore")
    client = claude_server.bedrock_client(max_retries=0)
    question: Any = [{"role": "user", "content": "hi"}]
    with client.messages.stream(model=MODEL, max_tokens=500, messages=question) as stream:
        text = stream.get_final_text()
    assert text.startswith("Received 0 image(s)")
    assert claude_server.requests[-1].path.endswith("/invoke-with-response-stream")
    plain = client.messages.create(model=MODEL, max_tokens=500, messages=question)
    assert stream.get_final_message().usage == plain.usage


def test_vertex_streaming(claude_server: ClaudeServer) -> None:
    client = claude_server.vertex_client(max_retries=0)
    question: Any = [{"role": "user", "content": "hi"}]
    with client.messages.stream(model=MODEL, max_tokens=500, messages=question) as stream:
        assert stream.get_final_text().startswith("Received 0 image(s)")
    assert claude_server.requests[-1].path.endswith(":streamRawPredict")


def test_models_list_and_retrieve(claude_server: ClaudeServer) -> None:
    client = claude_server.client(max_retries=0)
    ids = [model.id for model in client.models.list(limit=3)]
    assert MODEL in ids and len(ids) == len(set(ids)) > 3
    assert client.models.retrieve("claude-haiku-4-5-20251001").id == "claude-haiku-4-5"
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("claude-nonesuch")
    with pytest.raises(anthropic.NotFoundError, match="model: claude-nonesuch"):
        client.messages.create(
            model="claude-nonesuch",
            max_tokens=5,
            messages=[{"role": "user", "content": "hi"}],
        )
    claude_server.model("claude-nonesuch", max_tokens=10)
    client.messages.create(
        model="claude-nonesuch", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
    )
    with pytest.raises(anthropic.BadRequestError, match="maximum allowed number of output"):
        client.messages.create(
            model="claude-nonesuch", max_tokens=11, messages=[{"role": "user", "content": "hi"}]
        )


def test_thinking_replies_open_with_a_thinking_block(claude_server: ClaudeServer) -> None:
    client = claude_server.client(max_retries=0)
    question: Any = [{"role": "user", "content": "Think first."}]
    thinking: Any = {"type": "enabled", "budget_tokens": 2000}
    plain = client.messages.create(
        model=MODEL, max_tokens=4000, messages=question, thinking=thinking
    )
    assert [b.type for b in plain.content] == ["thinking", "text"]
    with client.messages.stream(
        model=MODEL, max_tokens=4000, messages=question, thinking=thinking
    ) as stream:
        streamed = stream.get_final_message()
    assert streamed.content[0].signature  # type: ignore[union-attr]
    assert streamed.usage == plain.usage
    history: Any = [*question, {"role": "assistant", "content": plain.content}]
    history.append({"role": "user", "content": "And then?"})
    client.messages.create(model=MODEL, max_tokens=4000, messages=history, thinking=thinking)
