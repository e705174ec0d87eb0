"""Images in other SDKs' shapes, and OpenAI chat histories converted and accepted."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import claudevision as cv
from claudevision._read.foreign import foreign_source
from claudevision.testing import ClaudeServer

from .conftest import assert_valid_message, jpeg, png

MODEL = "claude-sonnet-4-6"


def data_url(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


PNG = png(40, 30)
B64 = base64.b64encode(PNG).decode()
PNG_URL = data_url(PNG, "image/png")
SHAPES: dict[str, dict[str, Any]] = {
    "openai chat": {"type": "image_url", "image_url": {"url": data_url(PNG, "image/png")}},
    "openai chat, bare url": {"type": "image_url", "image_url": data_url(PNG, "image/png")},
    "openai responses": {"type": "input_image", "image_url": data_url(PNG, "image/png")},
    "langchain": {"type": "image", "base64": B64, "mime_type": "image/png"},
    "langchain v0": {"type": "image", "source_type": "base64", "data": B64,
                     "mime_type": "image/png"},
    "claude block": {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                 "data": B64}},
}  # fmt: skip


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_shape_is_an_image_input(shape: str) -> None:
    prepared = cv.prepare_image(SHAPES[shape], model=MODEL)
    assert prepared.size == (40, 30) and prepared.data == PNG
    assert_valid_message({"role": "user", "content": [prepared.block]})


@pytest.mark.parametrize(
    "part",
    [
        {
            "type": "image_url",
            "image_url": {"url": "https://images.example/a.png", "detail": "low"},
        },
        {"type": "input_image", "image_url": "https://images.example/a.png", "detail": "high"},
        {"type": "image", "url": "https://images.example/a.png"},
        {"type": "image", "source_type": "url", "url": "https://images.example/a.png"},
        {"type": "image", "source": {"type": "url", "url": "https://images.example/a.png"}},
    ],
)
def test_url_shapes_are_url_sources(part: dict[str, Any]) -> None:
    prepared = cv.prepare_image(part)
    assert prepared.block["source"] == {"type": "url", "url": "https://images.example/a.png"}


def test_a_mislabelled_image_in_a_shape_goes_out_with_the_right_type() -> None:
    part = {"type": "image_url", "image_url": {"url": data_url(jpeg(64, 48), "image/png")}}
    prepared = cv.prepare_image(part)
    assert prepared.media_type == "image/jpeg" and prepared.declared_media_type == "image/png"


@pytest.mark.parametrize(
    ("part", "error"),
    [
        ({"type": "input_image", "file_id": "file-abc"}, cv.UnsupportedSourceError),
        ({"type": "image_url", "image_url": {"url": "/etc/passwd"}}, cv.ImageInputError),
        ({"type": "image_url", "image_url": {}}, cv.ImageInputError),
        ({"type": "input_audio", "input_audio": {}}, cv.ImageInputError),
        ({"type": "image", "source": {"type": "base64"}}, cv.ImageInputError),
        ({"type": "image"}, cv.ImageInputError),
    ],
)
def test_shapes_without_a_usable_image_get_clear_errors(
    part: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error) as caught:
        cv.prepare_image(part)
    assert (
        "part" in str(caught.value) or "block" in str(caught.value) or "dict" in str(caught.value)
    )


def test_a_string_in_a_shape_is_never_read_as_a_path(tmp_path: Any) -> None:
    path = tmp_path / "secret.png"
    path.write_bytes(PNG)
    with pytest.raises(cv.ImageInputError):
        cv.prepare_image({"type": "image", "url": str(path)})


def test_claude_file_blocks_keep_their_id() -> None:
    prepared = cv.prepare_image({"type": "image", "source": {"type": "file", "file_id": "file_9"}})
    assert prepared.block["source"] == {"type": "file", "file_id": "file_9"}


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(["type", "image_url", "url", "detail", "source", "base64", "data",
                        "mime_type", "source_type", "file_id", "id", "media_type"])  # fmt: skip
TYPES = st.sampled_from(["image_url", "input_image", "image", "base64", "url", "file", "text"])


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(KEYS, TYPES | JSONISH, max_size=6))
def test_fuzzed_shapes_raise_only_our_errors(part: dict[str, Any]) -> None:
    try:
        found = foreign_source(part)
    except cv.ClaudeVisionError:
        return
    assert isinstance(found, (str, cv.Base64Source, cv.FileIdSource))


# -- from_openai ------------------------------------------------------------------------------


def test_an_openai_history_is_converted_and_accepted() -> None:
    url = "https://images.example/chart.png"
    history: list[dict[str, Any]] = [
        {"role": "system", "content": "You describe images."},
        {"role": "user", "content": [
            {"type": "text", "text": "Compare these."},
            {"type": "image_url", "image_url": {"url": PNG_URL, "detail": "high"}},
            {"type": "image_url", "image_url": {"url": url}},
            {"type": "image_url", "image_url": {"url": data_url(jpeg(80, 60), "image/png")}},
        ]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "zoom", "arguments": '{"x": 10, "y": 20}'}},
        ]},
        {"role": "tool", "tool_call_id": "call_1", "content": "zoomed"},
        {"role": "user", "content": "And now?"},
    ]  # fmt: skip
    converted = cv.from_openai(history, model=MODEL)
    assert converted.system == "You describe images."
    roles = [message["role"] for message in converted.messages]
    assert roles == ["user", "assistant", "user"]
    user = converted.messages[0]["content"]
    assert user[2]["source"] == {"type": "url", "url": url}  # type: ignore[index]
    assert user[3]["source"]["media_type"] == "image/jpeg"  # type: ignore[index]
    kinds = {change.what for change in converted.changes}
    assert kinds == {cv.ChangeKind.CONVERTED, cv.ChangeKind.RETYPED}
    assert converted.messages[1]["content"][0]["input"] == {"x": 10, "y": 20}  # type: ignore[index]
    tool_turn = converted.messages[2]["content"]
    assert tool_turn[0]["type"] == "tool_result" and tool_turn[1]["text"] == "And now?"  # type: ignore[index]
    for message in converted.messages:
        assert_valid_message(message)
    with ClaudeServer() as server:
        server.urls[url] = png(64, 64)
        server.client().messages.create(
            model=MODEL, max_tokens=50, system=converted.system or "", messages=converted.messages
        )


def test_openai_histories_with_images_on_bedrock_are_inlined_or_refused() -> None:
    history = [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://10.0.0.8/a.png"}},
        {"type": "text", "text": "What is it?"},
    ]}]  # fmt: skip
    converted = cv.from_openai(history, model=MODEL, platform="bedrock")
    (change,) = converted.changes
    assert change.what is cv.ChangeKind.REPLACED
    with ClaudeServer(platform="bedrock") as server:
        server.bedrock_client().messages.create(
            model=MODEL, max_tokens=50, messages=converted.messages
        )


@pytest.mark.parametrize(
    ("history", "match"),
    [
        ([{"role": "wizard", "content": "x"}], "role 'wizard'"),
        ([{"role": "user", "content": [{"type": "input_audio"}]}], "'input_audio' part"),
        ([{"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f",
           "arguments": "{oops"}}]}], "not JSON"),
        ([{"role": "tool", "content": "x"}], "tool_call_id"),
        (["hello"], "not a dict"),
    ],
)  # fmt: skip
def test_bad_openai_histories_get_clear_errors(history: list[Any], match: str) -> None:
    with pytest.raises(cv.ConfigurationError, match=match):
        cv.from_openai(history, model=MODEL)


@pytest.mark.parametrize(
    "call",
    [
        {"tool_calls": 5},
        {"tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "1" * 5000}}]},
        {"tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "[" * 100000}}]},
        {"tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "NaN"}}]},
    ],
)
def test_hostile_tool_calls_get_our_errors(call: dict[str, Any]) -> None:
    with pytest.raises(cv.ConfigurationError):
        cv.from_openai([{"role": "assistant", **call}], model=MODEL)


def test_empty_turns_are_dropped() -> None:
    converted = cv.from_openai(
        [{"role": "user", "content": []}, {"role": "assistant", "content": ""},
         {"role": "user", "content": [{"type": "text", "text": ""},
                                      {"type": "text", "text": "Hi"}]}],
        model=MODEL,
    )  # fmt: skip
    assert converted.messages == [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]


def test_url_blocks_the_api_cannot_fetch_are_replaced() -> None:
    history = [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://169.254.169.254/latest/meta-data"}},
        {"type": "text", "text": "?"},
    ]}]  # fmt: skip
    (change,) = cv.from_openai(history, model=MODEL).changes
    assert change.what is cv.ChangeKind.REPLACED
