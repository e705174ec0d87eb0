"""The shape issue 8 asked for: stages, the client objects, typed values, lazy SDK import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anthropic
import pytest
from anthropic.types import MessageParam

import claudevision as cv
from claudevision import AsyncVision, Base64Source, ImageMessage, Request, Vision
from claudevision.steps import Encoded, Resized, ResizeReason, SentUnchanged
from claudevision.testing import ClaudeServer

from .conftest import assert_valid_message, jpeg, png

STANDARD = "claude-sonnet-4-6"


def test_importing_claudevision_does_not_import_the_sdk() -> None:
    code = (
        "import sys, claudevision\n"
        "claudevision.prepare_image(claudevision.to_source(b'x' * 0 or "
        "__import__('base64').b64decode("
        "'R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==')))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'anthropic'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_text_stream_iterated_twice_sends_once(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    stream = cv.stream("Describe.", png(64, 48), client=client, model=STANDARD)
    first = "".join(stream)
    second = "".join(stream)
    assert first == second == stream.text
    assert "image/png 64x48" in first
    assert len(claude_server.requests) == 1  # billed once
    assert stream.message is not None


def test_text_stream_abandoned_then_iterated_again_is_refused(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    stream = cv.stream("Describe.", png(64, 48), client=client, model=STANDARD)
    iterator = iter(stream)
    next(iterator)
    with pytest.raises(cv.ConfigurationError, match="sends its request once"):
        next(iter(stream))
    assert len(claude_server.requests) == 1


@pytest.mark.anyio
async def test_async_text_stream_iterated_twice_sends_once(
    claude_server: ClaudeServer, aclient: anthropic.AsyncAnthropic
) -> None:
    stream = await cv.astream("Describe.", png(64, 48), client=aclient, model=STANDARD)
    first = "".join([text async for text in stream])
    second = "".join([text async for text in stream])
    assert first == second and "64x48" in first
    assert len(claude_server.requests) == 1


def test_base64_source_round_trips_through_json() -> None:
    data = jpeg(20, 10)  # bytes that are not UTF-8
    source = Base64Source(data=data, media_type="image/png")
    text = source.model_dump_json()
    assert json.loads(text)["data"].startswith("/9j/")
    assert Base64Source.model_validate_json(text) == source


def test_vision_owns_client_model_and_platform(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    vision = Vision(client, model=STANDARD)
    answer = vision.ask("What is it?", png(1920, 1080))
    assert answer.images[0].size == (1456, 819)
    assert vision.count_tokens("What is it?", png(1920, 1080)) == answer.usage.input_tokens
    assert "".join(vision.stream("Again?", png(10, 10)))
    bedrock = Vision(claude_server.bedrock_client(max_retries=0), model=STANDARD)
    assert bedrock.platform == "bedrock"
    assert [r.path for r in claude_server.requests] == [
        "/v1/messages",
        "/v1/messages/count_tokens",
        "/v1/messages",
    ]


def test_vision_send_takes_whole_turns(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    vision = Vision(client, model=STANDARD)
    history: list[ImageMessage | MessageParam] = [
        ImageMessage("First?", png(30, 20)),
        {"role": "assistant", "content": "A small gradient."},
        ImageMessage("And this?", png(40, 20)),
    ]
    answer = vision.send(*history, max_tokens=50, system="Be brief.")
    body = claude_server.requests[-1].body
    assert body["system"] == "Be brief." and body["max_tokens"] == 50
    assert len(answer.images) == 2


@pytest.mark.anyio
async def test_async_vision(claude_server: ClaudeServer, aclient: anthropic.AsyncAnthropic) -> None:
    vision = AsyncVision(aclient, model=STANDARD)
    answer = await vision.ask("What is it?", png(100, 50))
    assert answer.images[0].size == (100, 50)
    assert await vision.count_tokens("What is it?", png(100, 50)) == answer.usage.input_tokens


def test_request_is_a_value_rendered_to_create_keywords() -> None:
    request = Request(
        model=STANDARD,
        turns=(ImageMessage("What is it?", png(3000, 1000)),),
        params={"metadata": {"user_id": "u1"}},
    )
    rendered = request.render()
    assert set(rendered.kwargs) == {"model", "max_tokens", "messages", "metadata"}
    assert_valid_message(rendered.kwargs["messages"][0])
    assert rendered.images[0].size == model_size_standard(3000, 1000)
    assert "max_tokens" not in rendered.for_count_tokens()


def model_size_standard(width: int, height: int) -> tuple[int, int]:
    return cv.model_size(width, height, cv.TIERS["standard"])


def test_request_budget_counts_every_parameter() -> None:
    tools = [{"name": "t", "description": "x" * 31_995_000, "input_schema": {"type": "object"}}]
    image = png(800, 600)
    request = Request(model=STANDARD, turns=(ImageMessage("Hi", image),), params={"tools": tools})
    with pytest.raises(cv.RequestTooLargeError):
        request.render()
    small = Request(model=STANDARD, turns=(ImageMessage("Hi", image),), params={"tools": []})
    assert small.render().images[0].unchanged


def test_steps_are_typed_values_with_words() -> None:
    unchanged = cv.prepare_image(jpeg(200, 100), model=STANDARD)
    assert unchanged.steps == (SentUnchanged(),)
    resized = cv.prepare_image(png(3000, 1500), model=STANDARD)
    step = resized.steps[0]
    assert step == Resized((3000, 1500), (1568, 784), ResizeReason.TIER)
    assert str(step) == "resized 3000x1500 -> 1568x784 (standard tier: 1568 px, 1568 tokens)"
    assert isinstance(resized.steps[-1], Encoded)


def test_deprecated_image_message_methods_warn(client: anthropic.Anthropic) -> None:
    message = ImageMessage("Hi", png(10, 10), model=STANDARD)
    with pytest.warns(DeprecationWarning, match=r"Vision\(client\)\.send\(message\)"):
        answer = message.ask(client)
    assert "10x10" in answer.text


def test_image_message_is_plain_data() -> None:
    import claudevision._render.message as plain

    assert not hasattr(plain.ImageMessage, "ask")
    message = plain.ImageMessage("Hi", png(10, 10), model=STANDARD)
    assert_valid_message(message.to_param())


def test_no_function_is_over_fifty_lines() -> None:
    import ast
    from pathlib import Path

    root = Path(cv.__file__).parent
    long = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 50:
                    long.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({length})")
    assert long == []


@pytest.mark.anyio
async def test_aread_image_reads_in_a_worker_thread(tmp_path: Path) -> None:
    path = tmp_path / "small.png"
    path.write_bytes(png(40, 30))
    image = await cv.aread_image(path)
    assert isinstance(image, cv.ImageBytes) and image.data == path.read_bytes()
    assert cv.prepare_image(image).size == (40, 30)
    assert await cv.aread_image(image) is image  # already read: returned as it is
