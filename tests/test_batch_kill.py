"""Resumability: ``claudevision batch`` killed with SIGKILL, then started again.

The command runs in a subprocess against the local server (``ANTHROPIC_BASE_URL``). After
every kill and at the end: the output never holds an input twice, and when the last run
ends every input is in it exactly once and the server was sent each ``custom_id`` once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from claudevision.testing import ClaudeServer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

INPUTS = 9


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    made = tmp_path / "in"
    made.mkdir()
    for i in range(INPUTS - 1):
        Image.new("RGB", (40 + i, 30), (i * 20, 0, 0)).save(made / f"p{i}.png")
    (made / "zz-broken.png").write_bytes(b"broken")
    return made


def command(folder: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "claudevision", "batch", str(folder), "-p", "Colour?",
        "--out", str(out), "--max-requests", "2", "--poll", "0.05", "-q", *extra,
    ]  # fmt: skip


def start(server: ClaudeServer, argv: list[str]) -> subprocess.Popen[bytes]:
    env = dict(os.environ, ANTHROPIC_BASE_URL=server.url, ANTHROPIC_API_KEY="sk-ant-test")
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )


def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


def finish(server: ClaudeServer, argv: list[str]) -> str:
    process = start(server, argv)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr.decode()
    return stdout.decode()


def check(server: ClaudeServer, out: Path, *, complete: bool) -> None:
    lines = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    ids = Counter(line["custom_id"] for line in lines)
    assert all(count == 1 for count in ids.values()), ids.most_common(2)
    sent = Counter(cid for b in server.batches._batches.values() for cid, _ in b.results)
    assert all(count == 1 for count in sent.values()), sent.most_common(2)
    if complete:
        assert len(lines) == INPUTS
        assert {line["status"] for line in lines} == {"succeeded", "invalid_input"}
        assert set(sent) == {line["custom_id"] for line in lines if line["status"] == "succeeded"}


def end_batches(server: ClaudeServer) -> None:
    server.batch_processing_seconds = 0
    for batch in server.batches._batches.values():
        batch.ends_at = min(batch.ends_at, time.time())


def test_killed_between_submit_and_collect(
    claude_server: ClaudeServer, folder: Path, tmp_path: Path
) -> None:
    claude_server.batch_processing_seconds = 600
    out = tmp_path / "out.jsonl"
    process = start(claude_server, command(folder, out))
    wait_for(lambda: len(claude_server.batches._batches) >= 2)
    kill(process)
    check(claude_server, out, complete=False)
    end_batches(claude_server)
    summary = finish(claude_server, command(folder, out))
    assert "8 succeeded, 1 invalid_input" in summary
    check(claude_server, out, complete=True)
    assert len(claude_server.batches._batches) == 4  # 8 requests, 2 per batch


def test_killed_after_the_api_made_the_batch_but_before_the_answer(
    claude_server: ClaudeServer, folder: Path, tmp_path: Path
) -> None:
    claude_server.lose(after=60)  # the first create is done; its answer never comes
    out = tmp_path / "out.jsonl"
    process = start(claude_server, command(folder, out))
    wait_for(lambda: len(claude_server.batches._batches) == 1)
    time.sleep(0.2)
    kill(process)
    state = json.loads((tmp_path / "out.jsonl.state" / "state.json").read_text())
    assert state["chunks"][0]["status"] == "submitting" and state["chunks"][0]["batch_id"] is None
    finish(claude_server, command(folder, out))
    check(claude_server, out, complete=True)
    assert len(claude_server.batches._batches) == 4


@pytest.mark.parametrize("seed", [1, 2])
def test_killed_at_random_moments(
    claude_server: ClaudeServer, folder: Path, tmp_path: Path, seed: int
) -> None:
    chance = random.Random(seed)
    claude_server.batch_processing_seconds = 0.3
    out = tmp_path / "out.jsonl"
    argv = command(folder, out, "--workers", "2")
    for _ in range(6):
        process = start(claude_server, argv)
        time.sleep(chance.uniform(0.05, 1.5))
        if process.poll() is None:
            kill(process)
        check(claude_server, out, complete=False)
    finish(claude_server, argv)
    check(claude_server, out, complete=True)


def test_ctrl_c_says_how_to_resume(
    claude_server: ClaudeServer, folder: Path, tmp_path: Path
) -> None:
    claude_server.batch_processing_seconds = 600
    out = tmp_path / "out.jsonl"
    argv = [*command(folder, out), "--base-url", claude_server.url]
    process = start(claude_server, argv)
    wait_for(lambda: len(claude_server.batches._batches) >= 1)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: to the whole group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert b"run the same command again to resume" in stderr
    assert b"Traceback" not in stderr  # the worker processes leave Ctrl-C to the parent
    end_batches(claude_server)
    finish(claude_server, argv)
    check(claude_server, out, complete=True)
