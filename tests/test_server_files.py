"""The local server's Files API, driven by the real SDK: upload, list, metadata, delete,
content, and ``file`` sources in messages checked as strictly as base64 images."""

from __future__ import annotations

import io
from typing import Any

import anthropic
import pytest
from PIL import Image

from claudevision.testing import ClaudeServer

MODEL = "claude-sonnet-4-6"
BETA = "files-api-2025-04-14"


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 60)).save(buffer, "PNG")
    return buffer.getvalue()


def ask_about(file_id: str, kind: str = "image") -> list[dict[str, Any]]:
    block = {"type": kind, "source": {"type": "file", "file_id": file_id}}
    return [{"role": "user", "content": [block, {"type": "text", "text": "What is it?"}]}]


@pytest.fixture
def client(claude_server: ClaudeServer) -> anthropic.Anthropic:
    return claude_server.client(max_retries=0)


def test_upload_then_use_in_a_message(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    uploaded = client.files.upload(file=("cat.png", png(300, 200), "image/png"))
    assert uploaded.id.startswith("file_") and uploaded.type == "file"
    assert (uploaded.filename, uploaded.mime_type, uploaded.size_bytes) == (
        "cat.png",
        "image/png",
        len(png(300, 200)),
    )
    assert uploaded.downloadable is False
    reply = client.messages.create(
        model=MODEL,
        max_tokens=20,
        messages=ask_about(uploaded.id),  # type: ignore[arg-type]
        extra_headers={"anthropic-beta": BETA},
    )
    assert "image/png 300x200" in reply.content[0].text  # type: ignore[union-attr]
    [image] = claude_server.requests[-1].images
    assert (image.size, image.source) == ((300, 200), "file")
    assert claude_server.requests[-1].headers["anthropic-beta"] == BETA


def test_beta_upload_sends_the_header(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    uploaded = client.beta.files.upload(file=("a.png", png(10, 10), "image/png"), betas=[BETA])
    request = claude_server.requests[-1]
    assert (request.method, request.path, request.status) == ("POST", "/v1/files", 200)
    assert BETA in request.headers["anthropic-beta"]
    assert claude_server.files[uploaded.id] == png(10, 10)


def test_mime_type_comes_from_the_bytes(client: anthropic.Anthropic) -> None:
    uploaded = client.files.upload(file=("photo.jpg", png(10, 10), "image/jpeg"))
    assert uploaded.mime_type == "image/png"
    unnamed = client.files.upload(file=("", b"%PDF-1.7\n", "application/octet-stream"))
    assert (unnamed.mime_type, unnamed.filename) == ("application/pdf", "unnamed.pdf")


def test_list_retrieve_delete(claude_server: ClaudeServer, client: anthropic.Anthropic) -> None:
    ids = [client.files.upload(file=(f"{n}.png", png(8, 8), "image/png")).id for n in range(5)]
    listed = [f.id for f in client.files.list(limit=2)]  # auto-paging, newest first
    assert listed == ids[::-1]
    first = client.files.list(limit=2)
    assert [f.id for f in first.data] == ids[:2:-1] and first.next_page
    assert [f.id for f in client.beta.files.list(limit=2)] == ids[::-1]
    assert client.files.retrieve_metadata(ids[0]).filename == "0.png"
    deleted = client.files.delete(ids[0])
    assert (deleted.id, deleted.type) == (ids[0], "file_deleted")
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.files.retrieve_metadata(ids[0])
    assert caught.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    assert ids[0] not in claude_server.files and len(claude_server.files) == 4


def test_list_by_ids_and_bad_limits(client: anthropic.Anthropic) -> None:
    kept = client.files.upload(file=("a.png", png(8, 8), "image/png")).id
    client.files.upload(file=("b.png", png(8, 8), "image/png"))
    assert [f.id for f in client.files.list(ids=[kept, "file_gone"])] == [kept]
    with pytest.raises(anthropic.BadRequestError, match="limit"):
        client.files.list(limit=0)


def test_content_of_uploads_is_refused_but_tool_files_download(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    uploaded = client.files.upload(file=("a.png", png(8, 8), "image/png"))
    with pytest.raises(anthropic.BadRequestError, match="not downloadable"):
        client.files.download(uploaded.id)
    made = claude_server.add_file(b"col\n1\n", filename="out.csv", downloadable=True)
    assert client.files.download(made).read() == b"col\n1\n"
    assert client.files.retrieve_metadata(made).mime_type == "text/csv"


def test_unknown_file_id_is_404(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.messages.create(
            model=MODEL,
            max_tokens=5,
            messages=ask_about("file_011nothere"),  # type: ignore[arg-type]
        )
    assert caught.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    assert "file_011nothere" in caught.value.body["error"]["message"]  # type: ignore[index]
    assert caught.value.request_id and caught.value.request_id.startswith("req_")


def test_expired_file_then_upload_again(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    file_id = client.files.upload(file=("a.png", png(20, 20), "image/png")).id
    claude_server.expire_file(file_id)
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model=MODEL, max_tokens=5, messages=ask_about(file_id))  # type: ignore[arg-type]
    again = client.files.upload(file=("a.png", png(20, 20), "image/png")).id
    assert again != file_id
    client.messages.create(model=MODEL, max_tokens=5, messages=ask_about(again))  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        claude_server.expire_file(file_id)


def test_uploaded_bytes_are_checked_like_base64_images(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    broken = client.files.upload(file=("a.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "image/png"))
    with pytest.raises(anthropic.BadRequestError, match="Could not process image"):
        client.messages.create(model=MODEL, max_tokens=5, messages=ask_about(broken.id))  # type: ignore[arg-type]
    huge = claude_server.add_file(png(8001, 8))
    with pytest.raises(anthropic.BadRequestError, match="8000 pixels"):
        client.messages.create(model=MODEL, max_tokens=5, messages=ask_about(huge))  # type: ignore[arg-type]
    wide = client.files.upload(file=("w.png", png(2100, 50), "image/png")).id
    many: list[Any] = [{"type": "image", "source": {"type": "file", "file_id": wide}}] * 21
    with pytest.raises(anthropic.BadRequestError, match="many-image"):
        client.messages.create(
            model=MODEL,
            max_tokens=5,
            messages=[{"role": "user", "content": many}],
        )


def test_file_sources_refused_where_the_api_refuses_them(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    file_id = client.files.upload(file=("a.png", png(20, 20), "image/png")).id
    with pytest.raises(anthropic.BadRequestError, match="base64"):
        client.messages.count_tokens(model=MODEL, messages=ask_about(file_id))  # type: ignore[arg-type]
    for platform in (claude_server.bedrock_client, claude_server.vertex_client):
        with pytest.raises(anthropic.BadRequestError, match="not supported"):
            platform(max_retries=0).messages.create(
                model=MODEL,
                max_tokens=5,
                messages=ask_about(file_id),  # type: ignore[arg-type]
            )


def test_upload_needs_credentials_and_a_file(claude_server: ClaudeServer) -> None:
    import httpx2

    with httpx2.Client(base_url=claude_server.url) as http:
        answer = http.post("/v1/files", files={"file": ("a.png", png(8, 8), "image/png")})
        assert answer.status_code == 401 and answer.json()["request_id"].startswith("req_")
        headers = {"x-api-key": "k"}
        answer = http.post("/v1/files", files={"other": ("a.bin", b"x")}, headers=headers)
        assert answer.status_code == 400 and "file" in answer.json()["error"]["message"]
        answer = http.post("/v1/files", json={"file": "x"}, headers=headers)
        assert answer.status_code == 400 and "multipart" in answer.json()["error"]["message"]
        answer = http.put("/v1/files", headers=headers)
        assert answer.status_code == 405 and answer.json()["type"] == "error"
        data = {"expires_in_seconds": "10"}
        files = {"file": ("a.png", png(8, 8), "image/png")}
        answer = http.post("/v1/files", files=files, data=data, headers=headers)
        assert answer.status_code == 400 and "expires_in_seconds" in answer.text


@pytest.mark.anyio
async def test_async_upload(claude_server: ClaudeServer) -> None:
    client = claude_server.async_client(max_retries=0)
    uploaded = await client.files.upload(file=("a.png", png(12, 12), "image/png"))
    reply = await client.messages.create(
        model=MODEL,
        max_tokens=5,
        messages=ask_about(uploaded.id),  # type: ignore[arg-type]
    )
    assert reply.content
    await client.close()


def one_page_pdf() -> bytes:
    from .pdfs import pdf

    return pdf(1)


def test_document_file_sources_are_looked_up(
    claude_server: ClaudeServer, client: anthropic.Anthropic
) -> None:
    pdf = client.files.upload(file=("a.pdf", one_page_pdf(), "application/pdf")).id
    client.messages.create(model=MODEL, max_tokens=5, messages=ask_about(pdf, "document"))  # type: ignore[arg-type]
    claude_server.expire_file(pdf)
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model=MODEL, max_tokens=5, messages=ask_about(pdf, "document"))  # type: ignore[arg-type]
    bedrock = claude_server.bedrock_client(max_retries=0)
    with pytest.raises(anthropic.BadRequestError, match="not supported"):
        bedrock.messages.create(model=MODEL, max_tokens=5, messages=ask_about(pdf, "document"))  # type: ignore[arg-type]
