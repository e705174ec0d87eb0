"""The local server rejects exactly what the API rejects, with the API's own texts.

These requests are built by hand, with Pillow and base64, as code that does not use
claudevision would build them, and sent through the real SDK.
"""

from __future__ import annotations

import asyncio
import base64
import io
from types import SimpleNamespace
from typing import Any

import anthropic
import pytest
from PIL import Image

import claudevision
from claudevision.testing import ClaudeServer

MODEL = "claude-sonnet-4-6"
HIGH = "claude-opus-4-8"


def encode(width: int, height: int, fmt: str = "PNG") -> bytes:
    """A picture of ``width`` x ``height`` in ``fmt``, made with Pillow."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(buffer, fmt)
    return buffer.getvalue()


def png(width: int, height: int) -> bytes:
    return encode(width, height, "PNG")


def jpeg(width: int, height: int) -> bytes:
    return encode(width, height, "JPEG")


def image_block(data: bytes | str, media_type: str = "image/png") -> dict[str, Any]:
    text = data if isinstance(data, str) else base64.b64encode(data).decode()
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": text}}


def user(*blocks: dict[str, Any], text: str = "?") -> list[Any]:
    return [{"role": "user", "content": [*blocks, {"type": "text", "text": text}]}]


def send(server: ClaudeServer, *blocks: dict[str, Any], **extra: Any) -> Any:
    client = server.client(max_retries=0)
    messages = extra.pop("messages", user(*blocks))
    model = extra.pop("model", MODEL)
    max_tokens = extra.pop("max_tokens", 1000)
    return client.messages.create(model=model, max_tokens=max_tokens, messages=messages, **extra)


# -- the API's error texts --------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            image_block(jpeg(10, 10), "image/png"),
            "The image was specified using the image/png media type, but the image appears to be a "
            "image/jpeg image",
        ),
        (
            image_block(png(10, 10), "image/bmp"),
            "Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'",
        ),
        (image_block("iVBORw0KGgo...not base64"), "invalid base64 data"),
        (image_block(""), "image cannot be empty"),
        (image_block(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40), "Could not process image"),
        (
            image_block(png(8001, 10)),
            "At least one of the image dimensions exceed max allowed size: 8000 pixels",
        ),
        (
            {"type": "image", "source": {"type": "url", "url": "http://x.test/a.png"}},
            "Only HTTPS URLs are supported.",
        ),
        (
            {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
            "Unable to download the file. Please verify the URL and try again.",
        ),
    ],
)
def test_api_error_texts(claude_server: ClaudeServer, block: dict[str, Any], message: str) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        send(claude_server, block)
    assert info.value.body["error"] == {"type": "invalid_request_error", "message": message}  # type: ignore[index]
    assert claude_server.requests[-1].status == 400


def test_too_large_image(claude_server: ClaudeServer) -> None:
    with pytest.raises(
        anthropic.BadRequestError,
        match=r"image exceeds 10 MB maximum: 10485764 bytes > 10485760 bytes",
    ):
        send(claude_server, image_block("A" * 10_485_764))


def test_5mb_profile() -> None:
    with (
        ClaudeServer(platform="anthropic-5mb") as server,
        pytest.raises(
            anthropic.BadRequestError, match=r"image exceeds 5 MB maximum: 5242884 bytes > 5242880"
        ),
    ):
        send(server, image_block("A" * 5_242_884))


def test_many_image_rule(claude_server: ClaudeServer) -> None:
    wide = image_block(png(2100, 1000))
    send(claude_server, *[wide] * 20)
    with pytest.raises(anthropic.BadRequestError, match="for many-image requests: 2000 pixels"):
        send(claude_server, *[wide] * 21)


def test_too_many_images(claude_server: ClaudeServer) -> None:
    tiny = image_block(png(8, 8))
    send(claude_server, *[tiny] * 100, model="claude-haiku-4-5")
    with pytest.raises(anthropic.BadRequestError, match=r"Too many images in request: 101 > 100"):
        send(claude_server, *[tiny] * 101, model="claude-haiku-4-5")
    send(claude_server, *[tiny] * 101, model=MODEL)  # 1M context: 600


def test_images_in_assistant_turns(claude_server: ClaudeServer) -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [image_block(png(10, 10))]},
        {"role": "user", "content": "and?"},
    ]
    with pytest.raises(
        anthropic.BadRequestError, match="'image' blocks are not permitted within assistant turns"
    ):
        send(claude_server, messages=messages)


def test_images_in_tool_results_are_checked(claude_server: ClaudeServer) -> None:
    messages: Any = [
        {"role": "user", "content": "look"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "shot", "input": {}}],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [image_block(jpeg(10, 10), "image/png")],
                }
            ],
        },
    ]
    with pytest.raises(anthropic.BadRequestError, match="appears to be a image/jpeg image"):
        send(claude_server, messages=messages)


def test_oversized_image_error_transformation(claude_server: ClaudeServer) -> None:
    block = dict(image_block(png(1920, 1080)), transformations={"oversized_image": "error"})
    with pytest.raises(anthropic.BadRequestError, match="the largest size that fits is 1456x819"):
        send(claude_server, block)
    send(claude_server, block, model=HIGH)  # fits the high-resolution tier as it is


def test_request_too_large(claude_server: ClaudeServer) -> None:
    blocks = [image_block("A" * 9_000_000)] * 4
    with pytest.raises(anthropic.RequestTooLargeError):
        send(claude_server, *blocks)
    assert claude_server.requests[-1].status == 413


def test_requires_credentials(claude_server: ClaudeServer) -> None:
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{claude_server.url}/v1/messages", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 401
    assert json.loads(info.value.read())["error"]["type"] == "authentication_error"


# -- platforms --------------------------------------------------------------------------


def test_bedrock_route_has_bedrock_limits(claude_server: ClaudeServer) -> None:
    client = claude_server.bedrock_client(max_retries=0)
    messages: Any = [{"role": "user", "content": [image_block("A" * 6_000_000)]}]
    with pytest.raises(anthropic.BadRequestError, match="image exceeds 5 MB maximum"):
        client.messages.create(model=MODEL, max_tokens=1000, messages=messages)


def test_bedrock_takes_base64_sources_only(claude_server: ClaudeServer) -> None:
    client = claude_server.bedrock_client(max_retries=0)
    url = {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}}
    with pytest.raises(anthropic.BadRequestError, match="'url' image sources are not supported"):
        client.messages.create(
            model="us.anthropic.claude-haiku-4-5-20251001-v1:0", max_tokens=1000, messages=user(url)
        )
    reply: Any = client.messages.create(
        model="us.anthropic.claude-haiku-4-5-20251001-v1:0",
        max_tokens=1000,
        messages=user(image_block(png(1920, 1080))),
    )
    assert "seen as 1456x819" in reply.content[0].text


def test_vertex_routes(claude_server: ClaudeServer) -> None:
    client = claude_server.vertex_client(max_retries=0)
    messages = user(image_block(png(1920, 1080)))
    reply: Any = client.messages.create(
        model=f"{HIGH}@20260101", max_tokens=1000, messages=messages
    )
    assert "1920x1080 seen as 1920x1080 (2691 tokens)" in reply.content[0].text
    assert claude_server.requests[-1].path.endswith(f"/models/{HIGH}@20260101:rawPredict")
    with client.messages.stream(model=MODEL, max_tokens=1000, messages=messages) as stream:
        text = "".join(stream.text_stream)
    assert "seen as 1456x819 (1560 tokens)" in text
    assert claude_server.requests[-1].path.endswith(":streamRawPredict")


def test_platform_objects_are_read_by_their_attributes() -> None:
    strict = SimpleNamespace(
        name="strict",
        max_image_bytes=1000,
        source_types=frozenset({"base64"}),
        max_request_bytes=8_000_000,
        max_side=100,
    )
    with ClaudeServer(platform=strict) as server:
        with pytest.raises(anthropic.BadRequestError, match="exceed max allowed size: 100 pixels"):
            send(server, image_block(png(101, 10)))
        send(server, image_block(png(100, 10)))
    library = claudevision.Platform(
        name="small",
        max_image_bytes=2 * 1024 * 1024,
        source_types=frozenset({"base64"}),
        max_request_bytes=8_000_000,
    )
    with (
        ClaudeServer(platform=library) as server,
        pytest.raises(anthropic.BadRequestError, match="image exceeds 2 MB maximum"),
    ):
        send(server, image_block("A" * 3_000_000))


# -- replies ----------------------------------------------------------------------------


def test_registered_url_and_file_are_served(claude_server: ClaudeServer) -> None:
    claude_server.urls["https://x.test/cat.jpg"] = jpeg(300, 200)
    claude_server.files["file_123"] = png(64, 64)
    reply = send(
        claude_server,
        {"type": "image", "source": {"type": "url", "url": "https://x.test/cat.jpg"}},
        {"type": "image", "source": {"type": "file", "file_id": "file_123"}},
    )
    text = reply.content[0].text
    assert "1. image/jpeg 300x200" in text and "2. image/png 64x64" in text
    assert [image.source for image in claude_server.requests[-1].images] == ["url", "file"]


def test_unknown_file_id(claude_server: ClaudeServer) -> None:
    with pytest.raises(anthropic.NotFoundError, match="File not found: file_nope"):
        send(claude_server, {"type": "image", "source": {"type": "file", "file_id": "file_nope"}})


def test_reply_describes_what_it_received(claude_server: ClaudeServer) -> None:
    reply = send(claude_server, messages=user(image_block(png(1920, 1080)), text="What is it?"))
    assert reply.content[0].text == (
        "Received 1 image(s): 1. image/png 1920x1080 seen as 1456x819 (1560 tokens). "
        "Prompt: 'What is it?'"
    )
    [image] = claude_server.requests[-1].images
    assert (image.media_type, image.size, image.seen, image.tokens) == (
        "image/png",
        (1920, 1080),
        (1456, 819),
        1560,
    )


def test_usage_counts_images_by_the_rule(claude_server: ClaudeServer) -> None:
    reply = send(claude_server, image_block(png(1920, 1080)))
    assert reply.usage.input_tokens == 1560 + 1  # seen as 1456x819, plus "?"


def test_count_tokens(claude_server: ClaudeServer) -> None:
    client = claude_server.client(max_retries=0)
    counted = client.messages.count_tokens(model=HIGH, messages=user(image_block(png(3840, 2160))))
    assert counted.input_tokens == 4784 + 1
    url = {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}}
    with pytest.raises(anthropic.BadRequestError, match="requires images as base64 sources"):
        client.messages.count_tokens(model=HIGH, messages=user(url))


def test_streaming(claude_server: ClaudeServer) -> None:
    client = claude_server.client(max_retries=0)
    messages = user(image_block(png(200, 200)), text="Describe it.")
    with client.messages.stream(model=MODEL, max_tokens=1000, messages=messages) as stream:
        chunks = list(stream.text_stream)
        final = stream.get_final_message()
    record = claude_server.requests[-1]
    assert "".join(chunks) == claude_server.reply_text(record.body, record.images)
    assert len(chunks) > 1 and all(len(chunk) <= 12 for chunk in chunks)
    assert final.usage.input_tokens == 64 + 3


def test_async_client(claude_server: ClaudeServer) -> None:
    async def ask() -> Any:
        async with claude_server.async_client(max_retries=0) as client:
            return await client.messages.create(
                model=MODEL, max_tokens=1000, messages=user(image_block(png(1000, 1000)))
            )

    reply = asyncio.run(ask())
    assert "1000x1000 seen as 1000x1000 (1296 tokens)" in reply.content[0].text


# -- fault injection --------------------------------------------------------------------


def test_fail_then_succeed(claude_server: ClaudeServer) -> None:
    claude_server.fail(429, times=2, retry_after=0.01)
    client = claude_server.client(max_retries=2)
    client.messages.create(model=MODEL, max_tokens=1000, messages=user())
    assert [request.status for request in claude_server.requests] == [429, 429, 200]
    headers = {name.lower(): value for name, value in claude_server.requests[0].headers.items()}
    assert "test-key" in (headers.get("x-api-key"), headers.get("authorization", "")[7:])
    assert claude_server.requests[0].body["model"] == MODEL


@pytest.mark.parametrize(
    ("status", "error"),
    [(529, anthropic.OverloadedError), (500, anthropic.InternalServerError)],
)
def test_fail_statuses(
    claude_server: ClaudeServer, status: int, error: type[anthropic.APIStatusError]
) -> None:
    claude_server.fail(status)
    with pytest.raises(error):
        send(claude_server)
    send(claude_server)


def test_drop_and_delay(claude_server: ClaudeServer) -> None:
    claude_server.drop()
    with pytest.raises(anthropic.APIConnectionError):
        send(claude_server)
    claude_server.delay(0.05)
    assert send(claude_server).content[0].text.startswith("Received 0 image(s)")
