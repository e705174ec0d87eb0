"""The client helpers, through the real anthropic SDK, over HTTP to the local server."""

from __future__ import annotations

import base64
import os
import threading
from pathlib import Path
from typing import Any

import anthropic
import numpy as np
import pytest
from PIL import Image

import claudevision as cv
from claudevision import Conversation, ImageMessage, ToolResult
from claudevision.testing import ClaudeServer, Reply

from .conftest import encode, jpeg, png

STANDARD = "claude-sonnet-4-6"
HIGH = "claude-opus-4-8"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def noise_png(width: int, height: int) -> bytes:
    rng = np.random.default_rng(5)
    return encode(Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)), "PNG")


# -- ask ---------------------------------------------------------------------------------


def test_ask_returns_text_and_the_full_message(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    answer = cv.ask("What is it?", png(1920, 1080), client=client, model=STANDARD)
    assert answer.text == (
        "Received 1 image(s): 1. image/png 1456x819 seen as 1456x819 (1560 tokens). "
        "Prompt: 'What is it?'"
    )
    assert str(answer) == answer.text
    assert isinstance(answer.message, anthropic.types.Message)
    assert answer.message.stop_reason == "end_turn"
    assert answer.usage.input_tokens == 1560 + 3  # image + "What is it?" at 4 chars a token
    assert answer.images[0].tokens == 1560
    [request] = claude_server.requests
    assert request.path == "/v1/messages"
    assert request.body["model"] == STANDARD
    assert request.body["max_tokens"] == 1024


def test_extra_parameters_and_system_pass_through(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    cv.ask(
        "Hi",
        png(20, 20),
        client=client,
        model=STANDARD,
        system="Be brief.",
        max_tokens=55,
        stop_sequences=["END"],
        metadata={"user_id": "u-1"},
    )
    body = claude_server.requests[-1].body
    assert body["system"] == "Be brief."
    assert body["max_tokens"] == 55
    assert body["stop_sequences"] == ["END"]
    assert body["metadata"] == {"user_id": "u-1"}


def test_message_ask_sends_its_blocks(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    message = ImageMessage("Compare.", png(30, 30), jpeg(40, 30), model=STANDARD)
    answer = message.ask(client)
    assert "Received 2 image(s)" in answer.text
    assert claude_server.requests[-1].body["messages"] == [message.to_param()]


def test_cache_marks_the_image_part(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    cv.ask("Hi", png(20, 20), png(30, 20), client=client, model=STANDARD, cache=True)
    content = claude_server.requests[-1].body["messages"][0]["content"]
    images = [b for b in content if b["type"] == "image"]
    assert "cache_control" not in images[0]
    assert images[1]["cache_control"] == {"type": "ephemeral"}


def test_the_how_to_question_answered(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    image_b64 = base64.b64encode(jpeg(640, 480)).decode()
    answer = cv.ask("Describe this image.", image_b64, client=client, model=HIGH)
    [image] = claude_server.requests[-1].images
    assert image.media_type == "image/jpeg" and image.size == (640, 480)
    assert "image/jpeg 640x480" in answer.text


# -- before anything is sent --------------------------------------------------------------


def test_missing_api_key_is_clear_and_early(
    no_credentials: None, claude_server: ClaudeServer
) -> None:
    with pytest.raises(
        cv.MissingAPIKeyError, match="set the ANTHROPIC_API_KEY environment variable"
    ):
        cv.ask("Hi", b"not an image: no image work happens first", model=STANDARD)
    assert claude_server.requests == []


@pytest.mark.anyio
async def test_missing_api_key_async(no_credentials: None) -> None:
    with pytest.raises(cv.MissingAPIKeyError, match="ANTHROPIC_API_KEY"):
        await cv.aask("Hi", b"junk", model=STANDARD)


def test_missing_model_is_clear(claude_server: ClaudeServer, client: anthropic.Anthropic) -> None:
    with pytest.raises(cv.ConfigurationError, match="no model given: pass model="):
        cv.ask("Hi", png(10, 10), client=client)
    assert claude_server.requests == []


def test_wrong_kind_of_client(claude_server: ClaudeServer) -> None:
    async_client: Any = claude_server.async_client()
    with pytest.raises(cv.ConfigurationError, match="AsyncAnthropic is an async client"):
        cv.ask("Hi", png(10, 10), client=async_client, model=STANDARD)


def test_our_input_errors_stay_ours(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    with pytest.raises(cv.NotAnImageError):
        cv.ask("Hi", b"\x00" * 80, client=client, model=STANDARD)
    assert claude_server.requests == []


# -- the platform follows the client -----------------------------------------------------


def test_bedrock_client_gets_bedrock_limits(claude_server: ClaudeServer) -> None:
    big = noise_png(1800, 1200)  # 8.6 MB as base64: fine direct, too large for Bedrock
    answer = cv.ask("Hi", big, client=claude_server.bedrock_client(max_retries=0), model=HIGH)
    request = claude_server.requests[-1]
    assert request.path == f"/model/{HIGH}/invoke"
    [image] = request.images
    assert image.base64_bytes <= 5 * 1024 * 1024
    assert "Received 1 image(s)" in answer.text


def test_same_image_direct_is_sent_unchanged(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    big = noise_png(1800, 1200)
    answer = cv.ask("Hi", big, client=client, model=HIGH)
    assert answer.images[0].unchanged
    assert claude_server.requests[-1].images[0].base64_bytes > 5 * 1024 * 1024


def test_vertex_client_gets_vertex_limits(claude_server: ClaudeServer) -> None:
    vertex = claude_server.vertex_client(max_retries=0)
    with pytest.raises(cv.UnsupportedSourceError, match="leave download unset"):
        cv.ask("Hi", "https://example.com/a.png", client=vertex, model=STANDARD, download=False)
    answer = cv.ask("Hi", png(300, 200), client=vertex, model=STANDARD)
    assert claude_server.requests[-1].path.endswith(f"/models/{STANDARD}:rawPredict")
    assert "image/png 300x200" in answer.text
    streamed = "".join(cv.stream("Hi", png(30, 20), client=vertex, model=STANDARD))
    assert "image/png 30x20" in streamed


# -- streaming --------------------------------------------------------------------------


def test_stream_yields_text_as_it_arrives(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    stream = cv.stream("Describe.", png(100, 80), client=client, model=STANDARD)
    chunks = list(stream)
    assert len(chunks) > 3
    assert "".join(chunks) == claude_server.reply_text(
        claude_server.requests[-1].body, claude_server.requests[-1].images
    )
    assert stream.message is not None and stream.message.stop_reason == "end_turn"
    assert claude_server.requests[-1].body["stream"] is True


def test_stream_checks_images_before_sending(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    with pytest.raises(cv.EmptyImageError):
        cv.stream("Describe.", b"", client=client, model=STANDARD)
    assert claude_server.requests == []


@pytest.mark.anyio
async def test_astream(claude_server: ClaudeServer, aclient: anthropic.AsyncAnthropic) -> None:
    stream = await cv.astream("Describe.", png(100, 80), client=aclient, model=STANDARD)
    chunks = [text async for text in stream]
    assert len(chunks) > 3
    assert "image/png 100x80" in "".join(chunks)
    assert stream.message is not None


# -- async ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_aask(claude_server: ClaudeServer, aclient: anthropic.AsyncAnthropic) -> None:
    answer = await cv.aask("Hi", png(1920, 1080), jpeg(200, 200), client=aclient, model=STANDARD)
    assert answer.text.startswith("Received 2 image(s): 1. image/png 1456x819")
    message = ImageMessage("Again", png(50, 50), model=STANDARD)
    again = await message.aask(aclient)
    assert "image/png 50x50" in again.text


@pytest.mark.anyio
async def test_async_work_runs_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch, aclient: anthropic.AsyncAnthropic
) -> None:
    from claudevision._prepare import fit_request as request_module

    threads: list[str] = []
    real = request_module.prepare

    def spy(*args: Any, **kwargs: Any) -> cv.PreparedImage:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(request_module, "prepare", spy)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)  # async pools leave the loop one core
    loop_thread = threading.current_thread().name
    images = [jpeg(1600, 1200) for _ in range(4)]
    await cv.aask("Hi", *images, client=aclient, model=STANDARD)
    assert len(threads) == 4
    assert loop_thread not in threads
    assert len(set(threads)) >= min(2, len(images))  # several images at once


@pytest.mark.anyio
async def test_acount_tokens(aclient: anthropic.AsyncAnthropic) -> None:
    assert await cv.acount_tokens("Hi", png(200, 200), client=aclient, model=STANDARD) == 64 + 1


# -- count_tokens -------------------------------------------------------------------------


def test_count_tokens(claude_server: ClaudeServer, client: anthropic.Anthropic) -> None:
    tokens = cv.count_tokens("Count me", png(1920, 1080), client=client, model=STANDARD)
    assert tokens == 1560 + 2
    request = claude_server.requests[-1]
    assert request.path == "/v1/messages/count_tokens"
    assert "max_tokens" not in request.body


def test_count_tokens_needs_inline_images(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    with pytest.raises(cv.UnsupportedSourceError, match="leave download unset"):
        cv.count_tokens(
            "Hi", "https://example.com/a.png", client=client, model=STANDARD, download=False
        )
    with pytest.raises(cv.UnsupportedSourceError, match="count_tokens takes images only inline"):
        cv.count_tokens("Hi", cv.FileIdSource(file_id="file_1"), client=client, model=STANDARD)
    assert claude_server.requests == []


# -- conversations ------------------------------------------------------------------------


def test_conversation_keeps_history(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    chat = Conversation(client, model=STANDARD, system="Be brief.")
    first = chat.ask("What is this?", png(300, 200))
    second = chat.ask("And this one?", jpeg(200, 100))
    third = chat.ask("Which was larger?")
    assert "Received 1 image(s)" in first.text
    assert "Received 2 image(s)" in second.text  # the first image is re-sent
    assert "Received 2 image(s)" in third.text
    body = claude_server.requests[-1].body
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"] * 2 + ["user"]
    assert body["messages"][1]["content"][0]["text"] == first.text
    assert body["system"] == "Be brief."
    assert len(chat.messages()) == 6


def test_conversation_applies_the_many_image_rule_to_history(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    wide = png(2100, 1000)
    chat = Conversation(client, model=HIGH)
    chat.ask("First batch", *[wide] * 11)
    assert {image.size for image in claude_server.requests[-1].images} == {(2100, 1000)}
    chat.ask("Second batch", *[wide] * 10)  # 21 in the request: all at most 2000 px
    last = claude_server.requests[-1]
    assert last.status == 200
    assert len(last.images) == 21
    assert {image.size for image in last.images} == {(2000, 952)}


def test_conversation_with_tool_results_and_cache(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    chat = Conversation(client, model=STANDARD, cache=True)
    claude_server.queue(Reply.tool_use("computer", {"action": "screenshot"}, id="toolu_01"))
    chat.ask("Open the app", png(40, 40))
    chat.ask("", tool_results=[ToolResult("toolu_01", png(1920, 1080), text="screenshot")])
    body = claude_server.requests[-1].body
    last_user = body["messages"][-1]["content"]
    assert last_user[0]["type"] == "tool_result"
    assert last_user[0]["tool_use_id"] == "toolu_01"
    assert last_user[0]["content"][1]["cache_control"] == {"type": "ephemeral"}
    first_image = body["messages"][0]["content"][0]
    assert "cache_control" not in first_image  # one marker, on the newest images
    assert len(claude_server.requests[-1].images) == 2


@pytest.mark.anyio
async def test_async_conversation(
    claude_server: ClaudeServer, aclient: anthropic.AsyncAnthropic
) -> None:
    chat = cv.AsyncConversation(aclient, model=STANDARD)
    await chat.ask("One", png(30, 30))
    answer = await chat.ask("Two", png(40, 40))
    assert "Received 2 image(s)" in answer.text


# -- API errors are the SDK's, retries are the SDK's -------------------------------------


def test_rate_limit_is_retried_by_the_sdk(claude_server: ClaudeServer) -> None:
    claude_server.fail(429, times=2, retry_after=0.01)
    answer = cv.ask("Hi", png(10, 10), client=claude_server.client(max_retries=2), model=STANDARD)
    assert "Received 1 image(s)" in answer.text
    assert [r.status for r in claude_server.requests] == [429, 429, 200]


def test_overloaded_ends_in_the_sdk_exception(claude_server: ClaudeServer) -> None:
    claude_server.fail(529, times=3, retry_after=0.01)
    with pytest.raises(anthropic.OverloadedError):
        cv.ask("Hi", png(10, 10), client=claude_server.client(max_retries=2), model=STANDARD)
    assert len(claude_server.requests) == 3


def test_server_error_is_retried(claude_server: ClaudeServer) -> None:
    claude_server.fail(500, times=1, retry_after=0.01)
    answer = cv.ask("Hi", png(10, 10), client=claude_server.client(max_retries=1), model=STANDARD)
    assert answer.message.stop_reason == "end_turn"


def test_dropped_connection(claude_server: ClaudeServer) -> None:
    claude_server.drop(times=5)
    with pytest.raises(anthropic.APIConnectionError):
        cv.ask("Hi", png(10, 10), client=claude_server.client(max_retries=1), model=STANDARD)


def test_slow_answer_times_out(claude_server: ClaudeServer) -> None:
    claude_server.delay(1.0)
    slow = claude_server.client(max_retries=0, timeout=0.2)
    with pytest.raises(anthropic.APITimeoutError):
        cv.ask("Hi", png(10, 10), client=slow, model=STANDARD)


def test_api_400_is_not_wrapped(claude_server: ClaudeServer, client: anthropic.Anthropic) -> None:
    claude_server.fail(400, message="something we did not foresee")
    with pytest.raises(anthropic.BadRequestError, match="something we did not foresee"):
        cv.ask("Hi", png(10, 10), client=client, model=STANDARD)


def test_message_stream(claude_server: ClaudeServer, client: anthropic.Anthropic) -> None:
    message = ImageMessage("Stream it.", png(64, 48), model=STANDARD)
    text = "".join(message.stream(client, max_tokens=20))
    assert "image/png 64x48" in text
    assert claude_server.requests[-1].body["max_tokens"] == 20


@pytest.mark.anyio
async def test_message_astream(aclient: anthropic.AsyncAnthropic) -> None:
    message = ImageMessage("Stream it.", png(64, 48), model=STANDARD)
    stream = await message.astream(aclient)
    assert "image/png 64x48" in "".join([text async for text in stream])


def test_messages_parameter_is_refused(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    with pytest.raises(cv.ConfigurationError, match="messages= would replace the images"):
        cv.ask("Hi", png(10, 10), client=client, model=STANDARD, messages=[])
    with pytest.raises(cv.ConfigurationError, match=r"use stream\(\) / astream\(\)"):
        cv.ask("Hi", png(10, 10), client=client, model=STANDARD, stream=True)
    assert claude_server.requests == []
