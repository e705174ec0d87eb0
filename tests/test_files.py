"""The Files API: upload once (across processes), send by id, re-upload after a 404."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import anthropic
import pytest

import claudevision as cv
from claudevision.testing import ClaudeServer

from .conftest import jpeg, png

MODEL = "claude-sonnet-4-6"


@pytest.fixture
def server() -> Any:
    with ClaudeServer() as running:
        yield running


def last_messages(server: ClaudeServer) -> list[Any]:
    sent = [r for r in server.requests if r.path == "/v1/messages"]
    messages: list[Any] = sent[-1].body["messages"]
    return messages


def vision_for(server: ClaudeServer, tmp_path: Path, **options: Any) -> cv.Vision:
    return cv.Vision(server.client(), model=MODEL, file_cache=tmp_path / "files", **options)


def test_upload_once_and_send_by_id(server: ClaudeServer, tmp_path: Path) -> None:
    vision = vision_for(server, tmp_path)
    first = vision.upload(png(300, 200))
    again = vision.upload(png(300, 200))
    assert first.block["source"] == again.block["source"]
    assert first.block["source"]["type"] == "file" and len(server.uploaded()) == 1
    assert first.size == (300, 200) and first.tokens is not None
    answer = vision.ask("What is it?", first)
    sent = server.requests[-1]
    assert sent.body["messages"][0]["content"][0]["source"] == first.block["source"]
    assert "files-api-2025-04-14" in sent.headers.get("anthropic-beta", "")
    assert answer.images[0].source_type == "file"


def test_a_fresh_vision_finds_the_id_on_disk(server: ClaudeServer, tmp_path: Path) -> None:
    vision_for(server, tmp_path).upload(jpeg(64, 48))
    vision_for(server, tmp_path).upload(jpeg(64, 48))
    assert len(server.uploaded()) == 1


def test_another_api_key_uploads_again(server: ClaudeServer, tmp_path: Path) -> None:
    vision_for(server, tmp_path).upload(jpeg(64, 48))
    other = cv.Vision(
        anthropic.Anthropic(base_url=server.url, api_key="another-key"),
        model=MODEL,
        file_cache=tmp_path / "files",
    )
    other.upload(jpeg(64, 48))
    assert len(server.uploaded()) == 2
    entries = list((tmp_path / "files").glob("*.json"))
    assert all("another-key" not in entry.read_text() for entry in entries)


def test_an_expired_id_is_uploaded_again_and_the_request_retried(
    server: ClaudeServer, tmp_path: Path
) -> None:
    vision = vision_for(server, tmp_path)
    uploaded = vision.upload(png(120, 90))
    old = uploaded.block["source"]["file_id"]  # type: ignore[typeddict-item]
    server.expire_file(old)
    answer = vision.ask("What is it?", uploaded)
    new = server.requests[-1].body["messages"][0]["content"][0]["source"]["file_id"]
    assert new != old and answer.text
    assert len(server.uploaded()) == 1  # the expired one is gone, the new one is there


@pytest.mark.anyio
async def test_async_upload_and_retry(server: ClaudeServer, tmp_path: Path) -> None:
    vision = cv.AsyncVision(server.async_client(), model=MODEL, file_cache=tmp_path / "f")
    uploaded = await vision.upload(png(120, 90))
    assert (await vision.upload(png(120, 90))).reference == uploaded.reference
    server.expire_file(uploaded.block["source"]["file_id"])  # type: ignore[typeddict-item]
    answer = await vision.ask("What is it?", uploaded)
    assert answer.text and len(server.uploaded()) == 1


def test_file_sources_are_refused_on_bedrock(tmp_path: Path) -> None:
    with ClaudeServer(platform="bedrock") as server:
        vision = cv.Vision(server.bedrock_client(), model=MODEL, file_cache=tmp_path)
        with pytest.raises(cv.UnsupportedSourceError, match="no Files API images"):
            vision.upload(png(10, 10))


def test_an_uploaded_image_goes_inline_where_files_are_not_taken(
    server: ClaudeServer, tmp_path: Path
) -> None:
    uploaded = vision_for(server, tmp_path).upload(png(120, 90))
    prepared = cv.prepare_image(uploaded, platform="vertex")
    assert prepared.source_type == "base64" and prepared.size == (120, 90)


_UPLOADER = textwrap.dedent(
    """
    import sys, time
    import anthropic, claudevision as cv
    from PIL import Image
    import io
    start, base_url, cache = float(sys.argv[1]), sys.argv[2], sys.argv[3]
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((300, 200)).save(buffer, "PNG")
    vision = cv.Vision(anthropic.Anthropic(base_url=base_url, api_key="k"),
                       model="claude-sonnet-4-6", file_cache=cache)
    time.sleep(max(0.0, start - time.time()))
    print(vision.upload(buffer.getvalue()).block["source"]["file_id"])
    """
)


def test_two_processes_uploading_at_once_upload_once(server: ClaudeServer, tmp_path: Path) -> None:
    start = time.time() + 3
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC")}
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _UPLOADER, str(start), server.url, str(tmp_path / "c")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    ids = {out.strip() for out, _ in outputs}
    assert len(ids) == 1 and len(server.uploaded()) == 1


def test_a_conversation_by_reference_resends_ids_not_bytes(
    server: ClaudeServer, tmp_path: Path
) -> None:
    vision = vision_for(server, tmp_path)
    chat = cv.Conversation(vision, model=MODEL, by_reference=True)
    for i in range(4):
        chat.ask(f"Step {i}: what changed?", png(800 + i, 600))
    last = last_messages(server)
    sources = [m["content"][0]["source"]["type"] for m in last if m["role"] == "user"]
    assert sources == ["file", "file", "file", "base64"]
    assert len(server.uploaded()) == 4  # each turn uploaded once answered
    assert len(json.dumps(last)) < len(png(800, 600)) * 2


def test_by_reference_images_go_inline_again_when_many_must_shrink(
    server: ClaudeServer, tmp_path: Path
) -> None:
    vision = vision_for(server, tmp_path)
    chat = cv.Conversation(vision, model="claude-opus-4-8", by_reference=True)
    chat.ask("A tall one.", png(600, 2600))  # 594x2576 for the high-resolution tier
    chat.ask("Many more.", *[png(32, 32)] * 21)
    first = last_messages(server)[0]["content"][0]["source"]
    assert first["type"] == "base64"  # 2600 px is over the many-image 2000 px rule


def test_a_conversation_by_reference_never_loses_a_reply(
    server: ClaudeServer, tmp_path: Path
) -> None:
    """A URL image (download=False) cannot be uploaded: it stays a URL, the turn is kept."""
    url = "https://cdn.example/cat.png"
    server.urls[url] = png(64, 64)
    vision = vision_for(server, tmp_path, download=False)
    chat = cv.Conversation(vision, model=MODEL, by_reference=True)
    chat.ask("What?", url, png(32, 32))
    assert len(chat.turns) == 2
    chat.ask("And now?")
    sources = [b["source"]["type"] for b in last_messages(server)[0]["content"] if "source" in b]
    assert sources == ["url", "file"]


def test_count_tokens_sends_uploaded_images_inline(server: ClaudeServer, tmp_path: Path) -> None:
    vision = vision_for(server, tmp_path)
    chat = cv.Conversation(vision, model=MODEL, by_reference=True)
    chat.ask("What?", png(64, 48))
    assert chat.count_tokens("And now?") > 0
    assert vision.count_tokens("x", vision.upload(png(64, 48))) > 0


def test_the_files_beta_keeps_the_clients_own_betas(server: ClaudeServer, tmp_path: Path) -> None:
    client = server.client(default_headers={"anthropic-beta": "context-1m-2025-08-07"})
    vision = cv.Vision(client, model=MODEL, file_cache=tmp_path)
    extra = {"Anthropic-Beta": "token-efficient-tools-2025-02-19"}
    vision.ask("What?", vision.upload(png(40, 30)), extra_headers=extra)
    sent = [r for r in server.requests if r.path == "/v1/messages"][-1].headers
    betas = set(sent["anthropic-beta"].split(","))
    assert {"context-1m-2025-08-07", "token-efficient-tools-2025-02-19"} < betas
    assert "files-api-2025-04-14" in betas


def test_a_404_that_is_not_about_a_file_uploads_nothing(
    server: ClaudeServer, tmp_path: Path
) -> None:
    uploaded = vision_for(server, tmp_path).upload(png(40, 30))
    lost = anthropic.Anthropic(base_url=server.url + "/no/such/prefix", api_key="k")
    with pytest.raises(anthropic.NotFoundError):
        cv.Vision(lost, model=MODEL, file_cache=tmp_path / "files").ask("What?", uploaded)
    assert len(server.uploaded()) == 1


def test_upload_takes_preparation_options(server: ClaudeServer, tmp_path: Path) -> None:
    vision = vision_for(server, tmp_path)
    small = vision.upload(png(800, 600), max_side=400, paths=False, bounds=cv.Bounds())
    assert small.size is not None and max(small.size) <= 400
