"""The local server rejects exactly what the API rejects, with the API's own texts.

These requests are built by hand, as code that does not use claudevision would build them,
and sent through the real SDK.
"""

from __future__ import annotations

import base64
from typing import Any

import anthropic
import pytest

from claudevision.testing import ClaudeServer

from .conftest import encode, gradient, jpeg, png

MODEL = "claude-sonnet-4-6"


def image_block(data: bytes | str, media_type: str = "image/png") -> dict[str, Any]:
    text = data if isinstance(data, str) else base64.b64encode(data).decode()
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": text}}


def send(server: ClaudeServer, *blocks: dict[str, Any], **extra: Any) -> Any:
    client = server.client(max_retries=0)
    messages = extra.pop(
        "messages", [{"role": "user", "content": [*blocks, {"type": "text", "text": "?"}]}]
    )
    return client.messages.create(model=MODEL, max_tokens=10, messages=messages, **extra)


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
            image_block(encode(gradient(8001, 10), "PNG")),
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


def test_too_large_image(claude_server: ClaudeServer) -> None:
    with pytest.raises(
        anthropic.BadRequestError,
        match=r"image exceeds 10 MB maximum: 10485764 bytes > 10485760 bytes",
    ):
        send(claude_server, image_block("A" * 10_485_764))


def test_many_image_rule(claude_server: ClaudeServer) -> None:
    wide = image_block(png(2100, 1000))
    send(claude_server, *[wide] * 20)
    with pytest.raises(anthropic.BadRequestError, match="for many-image requests: 2000 pixels"):
        send(claude_server, *[wide] * 21)


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


def test_request_too_large(claude_server: ClaudeServer) -> None:
    blocks = [image_block("A" * 9_000_000)] * 4
    with pytest.raises(anthropic.RequestTooLargeError):
        send(claude_server, *blocks)
    assert claude_server.requests[-1].status == 413


def test_bedrock_route_has_bedrock_limits(claude_server: ClaudeServer) -> None:
    client = claude_server.bedrock_client(max_retries=0)
    messages: Any = [{"role": "user", "content": [image_block("A" * 6_000_000)]}]
    with pytest.raises(anthropic.BadRequestError, match="image exceeds 5 MB maximum"):
        client.messages.create(model=MODEL, max_tokens=10, messages=messages)


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


def test_requires_credentials(claude_server: ClaudeServer) -> None:
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{claude_server.url}/v1/messages", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 401
    assert json.loads(info.value.read())["error"]["type"] == "authentication_error"


def test_usage_counts_images_by_the_rule(claude_server: ClaudeServer) -> None:
    reply = send(claude_server, image_block(png(1920, 1080)))
    assert reply.usage.input_tokens == 1560 + 1  # seen as 1456x819, plus "?"
