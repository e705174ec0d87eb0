"""Message Batches from many inputs, over HTTP against the local server.

Every test checks the same two promises: each input is in the output exactly once (in
input order, with its status), and the server saw each ``custom_id`` submitted once.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import anthropic
import pytest
from PIL import Image

from claudevision import (
    AsyncVision,
    BatchStateError,
    ConfigurationError,
    ImageMessage,
    ManifestError,
    Vision,
)
from claudevision.testing import ClaudeServer, Reply

MODEL = "claude-opus-4-8"
FAST: dict[str, Any] = {"poll_interval": 0.02, "max_poll_interval": 0.05, "workers": 1}


def photos(
    folder: Path, count: int, *, bad: int = 0, size: int = 64, noisy: bool = False
) -> list[Path]:
    """``count`` small PNGs (each different) and ``bad`` files that are not images."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for i in range(count):
        path = folder / f"photo{i:03d}.png"
        image = Image.new("RGB", (size + i, size), (i * 7 % 256, 40, 90))
        if noisy:
            image = Image.frombytes("RGB", image.size, os.urandom(image.width * size * 3))
        image.save(path)
        made.append(path)
    for i in range(bad):
        path = folder / f"broken{i}.png"
        path.write_bytes(b"not an image at all " * (i + 1))
        made.append(path)
    return sorted(made)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def submitted(server: ClaudeServer) -> Counter[str]:
    """How many times the server was sent each custom_id, over every batch."""
    return Counter(cid for b in server.batches._batches.values() for cid, _ in b.results)


def check_exactly_once(out: Path, server: ClaudeServer, inputs: int) -> list[dict[str, Any]]:
    found = lines(out)
    assert len(found) == inputs
    assert len({line["custom_id"] for line in found}) == inputs
    sent = submitted(server)
    assert all(count == 1 for count in sent.values()), sent.most_common(3)
    sendable = {line["custom_id"] for line in found if line["status"] != "invalid_input"}
    assert set(sent) == sendable
    return found


@pytest.fixture
def vision(claude_server: ClaudeServer) -> Vision:
    return Vision(claude_server.client(max_retries=0), model=MODEL)


def test_a_folder_every_input_once_in_order(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    made = photos(tmp_path / "in", 7, bad=2)
    out = tmp_path / "out.jsonl"
    seen: list[str] = []
    summary = vision.batch(
        [tmp_path / "in"], prompt="Colour?", out=out, max_requests=3,
        progress=lambda p: seen.append(p.phase), **FAST,
    )  # fmt: skip
    found = check_exactly_once(out, claude_server, 9)
    assert [line["input"] for line in found] == [str(p) for p in made]
    assert summary.counts["succeeded"] == 7 and summary.counts["invalid_input"] == 2
    assert summary.pending == 0 and len(summary.batch_ids) == 3  # 7 requests, 3 per batch
    assert "7 succeeded, 2 invalid_input" in str(summary)
    broken = [line for line in found if line["status"] == "invalid_input"]
    assert {b["error"]["type"] for b in broken} == {"NotAnImageError"}
    good = next(line for line in found if line["status"] == "succeeded")
    assert "Colour?" in good["text"] and good["usage"]["input_tokens"] > 0
    assert seen[-1] == "done" and "waiting" in seen
    # Every request the server got was checked by its rules (an image it refuses fails).
    for batch in claude_server.batches._batches.values():
        assert all(result["type"] == "succeeded" for _, result in batch.results)


def test_ids_are_stable_and_derived_from_the_input(vision: Vision, tmp_path: Path) -> None:
    photos(tmp_path / "in", 2)
    first = lines_of(vision, tmp_path, "one.jsonl", [tmp_path / "in"], "Describe.")
    again = lines_of(vision, tmp_path, "two.jsonl", [tmp_path / "in"], "Describe.")
    other = lines_of(vision, tmp_path, "three.jsonl", [tmp_path / "in"], "Caption.")
    assert [x["custom_id"] for x in first] == [x["custom_id"] for x in again]
    assert {x["custom_id"] for x in first}.isdisjoint(x["custom_id"] for x in other)
    assert all(x["custom_id"].startswith("photo00") for x in first)


def lines_of(vision: Vision, folder: Path, name: str, inputs: Any, prompt: str) -> Any:
    vision.batch(inputs, prompt=prompt, out=folder / name, **FAST)
    return lines(folder / name)


def test_repeated_inputs_mappings_and_messages(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    (one,) = photos(tmp_path, 1)
    message = ImageMessage("Two at once?", one, one)
    out = tmp_path / "out.jsonl"
    vision.batch([one, one, message], prompt="Hi", out=out, **FAST)
    found = check_exactly_once(out, claude_server, 3)
    ids = [line["custom_id"] for line in found]
    assert ids[1] == ids[0] + "-2"
    assert "Two at once?" in found[2]["text"] and "2 image(s)" in found[2]["text"]
    given = tmp_path / "given.jsonl"
    vision.batch({"sku-1": one, "sku-2": message}, prompt="Hi", out=given, **FAST)
    assert [line["custom_id"] for line in lines(given)] == ["sku-1", "sku-2"]
    with pytest.raises(ConfigurationError, match="custom_id 'bad id!'"):
        vision.batch({"bad id!": one}, prompt="Hi", out=tmp_path / "x.jsonl", **FAST)


def test_manifests_csv_and_jsonl(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    photos(tmp_path / "img", 3)
    csv = tmp_path / "list.csv"
    csv.write_text(
        "id,image,prompt\n"
        "a-1,img/photo000.png,What is it?\n"
        "a-2,img/photo001.png,\n"
        "bad id,img/photo002.png,x\n"
        "a-3,,no image\n"
        "a-4,img/missing.png,\n"
    )
    jsonl = tmp_path / "list.jsonl"
    jsonl.write_text(
        json.dumps({"images": ["img/photo000.png", "img/photo001.png"], "prompt": "Differ?"})
        + "\nnot json\n"
        + json.dumps({"custom_id": "j-2", "image": "img/photo002.png"})
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    vision.batch([csv, jsonl], prompt="Default prompt", out=out, **FAST)
    found = check_exactly_once(out, claude_server, 8)
    status = {line["custom_id"]: line["status"] for line in found}
    assert status["a-1"] == status["a-2"] == status["j-2"] == "succeeded"
    assert status["a-4"] == "invalid_input"  # a missing file: reported, the rest went on
    texts = {line["custom_id"]: line.get("text", "") for line in found}
    assert "What is it?" in texts["a-1"] and "Default prompt" in texts["a-2"]
    problems = [line["error"]["message"] for line in found if line["status"] == "invalid_input"]
    assert any("names no image" in p for p in problems)
    assert any("is not JSON" in p for p in problems)
    assert any("'bad id'" in p for p in problems)
    assert any("2 image(s)" in line.get("text", "") for line in found)
    empty = tmp_path / "nothing.csv"
    empty.write_text("name,notes\nx,y\n")
    with pytest.raises(ManifestError, match="no image column"):
        vision.batch([empty], prompt="Hi", out=tmp_path / "x.jsonl", **FAST)


def test_resume_after_wait_false_submits_nothing_twice(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    photos(tmp_path / "in", 5)
    claude_server.batch_processing_seconds = 30
    out = tmp_path / "out.jsonl"
    args: dict[str, Any] = {"prompt": "Hi", "out": out, "max_requests": 2, **FAST}
    first = vision.batch([tmp_path / "in"], wait=False, **args)
    assert first.pending == 5 and len(first.batch_ids) == 3 and out.read_text() == ""
    for batch in claude_server.batches._batches.values():
        batch.ends_at = 0  # the API ends them
    second = vision.batch([tmp_path / "in"], **args)
    assert second.batch_ids == first.batch_ids and second.counts["succeeded"] == 5
    check_exactly_once(out, claude_server, 5)
    third = vision.batch([tmp_path / "in"], **args)  # all done: nothing sent at all
    assert third.counts == second.counts
    assert sum(1 for r in claude_server.requests if r.method == "POST") == 3


def test_a_run_with_other_arguments_is_refused(vision: Vision, tmp_path: Path) -> None:
    photos(tmp_path / "in", 2)
    out = tmp_path / "out.jsonl"
    vision.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    with pytest.raises(BatchStateError, match="other arguments"):
        vision.batch([tmp_path / "in"], prompt="Other", out=out, **FAST)
    (tmp_path / "in" / "photo009.png").write_bytes((tmp_path / "in" / "photo000.png").read_bytes())
    with pytest.raises(BatchStateError, match="2 inputs; now 'claude-opus-4-8', 3 inputs"):
        vision.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    state = tmp_path / "elsewhere"
    vision.batch([tmp_path / "in"], prompt="Hi", out=out, state=state, **FAST)
    assert (state / "state.json").exists()


def test_a_lost_create_answer_is_found_not_sent_again(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    photos(tmp_path / "in", 4)
    claude_server.lose()  # the first create is done by the server, its answer lost
    out = tmp_path / "out.jsonl"
    summary = vision.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    check_exactly_once(out, claude_server, 4)
    assert len(summary.batch_ids) == 1 and len(claude_server.batches._batches) == 1


def test_rate_limited_create_is_retried(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("claudevision._send.batch_calls.time.sleep", lambda s: None)
    photos(tmp_path / "in", 3)
    claude_server.fail(429, times=2)
    out = tmp_path / "out.jsonl"
    summary = vision.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    assert summary.counts["succeeded"] == 3
    check_exactly_once(out, claude_server, 3)


def test_a_refused_batch_is_reported_per_request(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    photos(tmp_path / "in", 3, bad=1)
    claude_server.fail(400, message="requests: something the API dislikes")
    out = tmp_path / "out.jsonl"
    summary = vision.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    found = lines(out)
    assert [line["status"] for line in found].count("errored") == 3
    assert summary.counts == {**summary.counts, "errored": 3, "invalid_input": 1}
    refused = next(line for line in found if line["status"] == "errored")
    assert refused["error"]["type"] == "invalid_request_error"
    assert "something the API dislikes" in refused["error"]["message"]


def test_errored_expired_and_canceled_requests(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    photos(tmp_path / "in", 3)
    claude_server.queue("fine", Reply(status=500, message="it broke"))
    out = tmp_path / "out.jsonl"
    vision.batch([tmp_path / "in"], prompt="Hi", out=out, max_requests=2, **FAST)
    found = check_exactly_once(out, claude_server, 3)
    assert [line["status"] for line in found] == ["succeeded", "errored", "succeeded"]
    assert found[1]["error"] == {"type": "api_error", "message": "it broke"}
    claude_server.batch_processing_seconds = 60
    later = tmp_path / "later.jsonl"
    vision.batch([tmp_path / "in"], prompt="Later", out=later, max_requests=2, wait=False, **FAST)
    first, second = list(claude_server.batches._batches)[-2:]
    claude_server.expire_batch(first)
    claude_server.client().messages.batches.cancel(second)
    vision.batch([tmp_path / "in"], prompt="Later", out=later, max_requests=2, **FAST)
    assert [line["status"] for line in lines(later)] == ["expired", "expired", "canceled"]
    assert "24 hours" in lines(later)[0]["error"]["message"]


def test_a_set_too_large_for_one_batch_goes_through_the_files_api(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    vision.files.directory = tmp_path / "cache"
    photos(tmp_path / "in", 6, size=100, noisy=True)
    out = tmp_path / "out.jsonl"
    summary = vision.batch([tmp_path / "in"], prompt="Hi", out=out, max_bytes=60_000, **FAST)
    check_exactly_once(out, claude_server, 6)
    assert summary.counts["succeeded"] == 6 and len(summary.batch_ids) == 1
    assert len(claude_server.files) == 6  # each image uploaded once
    assert len(claude_server.batches._batches) == 1
    creates = [r for r in claude_server.requests if r.path == "/v1/messages/batches"]
    sources = [
        block["source"]["type"]
        for request in creates[-1].body["requests"]
        for block in request["params"]["messages"][0]["content"]
        if block["type"] == "image"
    ]
    assert sources == ["file"] * 6
    assert "files-api-2025-04-14" in creates[-1].headers.get("anthropic-beta", "")
    inline = tmp_path / "inline.jsonl"
    summary = vision.batch(
        [tmp_path / "in"], prompt="Hi", out=inline, max_bytes=60_000, files=False, **FAST
    )
    assert len(summary.batch_ids) > 1 and summary.counts["succeeded"] == 6


def test_no_prompt_no_model_and_other_platforms_are_refused(
    claude_server: ClaudeServer, tmp_path: Path
) -> None:
    photos(tmp_path / "in", 1)
    vision = Vision(claude_server.client(), model=MODEL)
    with pytest.raises(ConfigurationError, match="no prompt for"):
        vision.batch([tmp_path / "in"], out=tmp_path / "o.jsonl")
    with pytest.raises(ConfigurationError, match="no model"):
        Vision(claude_server.client()).batch([tmp_path / "in"], prompt="x", out=tmp_path / "o")
    bedrock = Vision(claude_server.bedrock_client(), model=MODEL)
    with pytest.raises(ConfigurationError, match="not bedrock"):
        bedrock.batch([tmp_path / "in"], prompt="x", out=tmp_path / "o.jsonl")
    with pytest.raises(ConfigurationError, match="cannot stream"):
        vision.batch([tmp_path / "in"], prompt="x", out=tmp_path / "o.jsonl", stream=True)
    with pytest.raises(ConfigurationError, match="at least 1"):
        vision.batch([tmp_path / "in"], prompt="x", out=tmp_path / "o.jsonl", max_tokens=0)


def test_paths_false_reads_no_path(claude_server: ClaudeServer, tmp_path: Path) -> None:
    (one,) = photos(tmp_path, 1)
    vision = Vision(claude_server.client(), model=MODEL, paths=False)
    out = tmp_path / "out.jsonl"
    vision.batch([str(one)], prompt="x", out=out, **FAST)
    (line,) = lines(out)
    assert line["status"] == "invalid_input" and "paths=False" in line["error"]["message"]


def test_a_second_run_on_the_same_state_at_once_is_refused(vision: Vision, tmp_path: Path) -> None:
    photos(tmp_path / "in", 1)
    out = tmp_path / "out.jsonl"
    from claudevision._send.batch_state import State

    state = State(tmp_path / "out.jsonl.state", "x", {})
    with state.locked(), pytest.raises(BatchStateError, match="another run"):
        vision.batch([tmp_path / "in"], prompt="x", out=out, **FAST)


def test_worker_processes_give_the_same_rows_in_order(tmp_path: Path) -> None:
    from claudevision._send.batch_inputs import batch_inputs
    from claudevision._send.batch_prepare import BatchSettings, prepare_row
    from claudevision._send.batch_workers import prepared_rows

    photos(tmp_path, 9, bad=2)
    items = batch_inputs([tmp_path], prompt="Hi")
    settings = BatchSettings(model=MODEL)
    here = [prepare_row(item, settings) for item in items]
    assert list(prepared_rows(items, settings, workers=2)) == here


@pytest.mark.anyio
async def test_async_batch(claude_server: ClaudeServer, tmp_path: Path) -> None:
    photos(tmp_path / "in", 4, bad=1)
    client = claude_server.async_client(max_retries=0)
    vision = AsyncVision(client, model=MODEL)
    claude_server.lose()
    out = tmp_path / "out.jsonl"
    summary = await vision.batch([tmp_path / "in"], prompt="Hi", out=out, max_requests=2, **FAST)
    await client.close()
    check_exactly_once(out, claude_server, 5)
    assert summary.counts["succeeded"] == 4 and len(summary.batch_ids) == 2


def test_the_sdk_reads_our_requests(claude_server: ClaudeServer, tmp_path: Path) -> None:
    """What is stored to resume is exactly what the SDK sends (a create body)."""
    photos(tmp_path / "in", 2)
    vision = Vision(claude_server.client(), model=MODEL)
    claude_server.batch_processing_seconds = 60  # collected, a chunk's body is dropped
    vision.batch([tmp_path / "in"], prompt="x", out=tmp_path / "o.jsonl", wait=False, **FAST)
    stored = json.loads((tmp_path / "o.jsonl.state" / "chunks" / "00001.json").read_text())
    sent = next(r for r in claude_server.requests if r.path == "/v1/messages/batches")
    assert stored == sent.body and len(stored["requests"]) == 2
    assert isinstance(claude_server.client(), anthropic.Anthropic)


def test_worker_processes_take_inputs_a_few_at_a_time(tmp_path: Path) -> None:
    """Memory stays bounded: inputs are taken only as rows are used, never all at once."""
    from claudevision._send.batch_inputs import batch_inputs
    from claudevision._send.batch_prepare import BatchSettings
    from claudevision._send.batch_workers import in_processes

    photos(tmp_path, 2)
    items = batch_inputs([tmp_path] * 200, prompt="Hi")  # 400 inputs
    taken = 0

    def counted() -> Any:
        nonlocal taken
        for item in items:
            taken += 1
            yield item

    rows = in_processes(counted(), BatchSettings(model=MODEL), workers=2)
    next(rows)
    assert taken <= 4 * (2 + 2 * 2) + 4  # groups of 4: the workers' and the reorder buffer
    assert sum(1 for _ in rows) == 399
    assert taken == 400


def test_pdfs_inline_and_through_the_files_api(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    pytest.importorskip("pypdfium2")
    from .pdfs import pdf

    vision.files.directory = tmp_path / "cache"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "report.pdf").write_bytes(pdf(2))
    photos(tmp_path / "in", 1)
    for files in (False, True):
        out = tmp_path / f"out-{files}.jsonl"
        vision.batch([tmp_path / "in"], prompt=f"Summarise {files}", out=out, files=files, **FAST)
        found = lines(out)
        assert [line["status"] for line in found] == ["succeeded", "succeeded"]
    assert all(count == 1 for count in submitted(claude_server).values())
    uploaded = sorted(f.mime_type for f in claude_server.files.all_files())
    assert uploaded == ["application/pdf", "image/png"]
