"""The server from the shell: ``python -m claudevision.testing serve``, driven with curl
(or urllib where curl is missing) and the control endpoint, stopped with signals."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

HEADERS = {
    "x-api-key": "k",
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
}
BODY = {
    "model": "claude-haiku-4-5",
    "max_tokens": 100,
    "messages": [{"role": "user", "content": "hi"}],
}


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "claudevision.testing", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), process.stderr.read() if process.stderr else url
    yield process, url
    if process.poll() is None:
        process.kill()
        process.wait(30)


def call(
    url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None
) -> Any:
    """One request with curl (as a shell test would), urllib where curl is missing."""
    data = None if body is None else json.dumps(body)
    sent = headers if headers is not None else {}
    if shutil.which("curl"):
        command = ["curl", "-sS", "-X", method, url]
        for name, value in sent.items():
            command += ["-H", f"{name}: {value}"]
        if data is not None:
            command += ["--data-binary", data]
        result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
        return json.loads(result.stdout)
    request = urllib.request.Request(
        url, data=None if data is None else data.encode(), headers=sent, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read())


def test_serve_answers_and_is_scripted(served: tuple[subprocess.Popen[str], str]) -> None:
    _, url = served
    reply = call(f"{url}/v1/messages", "POST", BODY, HEADERS)
    assert reply["type"] == "message" and reply["content"][0]["text"].startswith("Received")
    assert call(f"{url}/_control/replies", "POST", [{"text": "scripted"}, {"status": 529}]) == {
        "queued": 2
    }
    assert call(f"{url}/v1/messages", "POST", BODY, HEADERS)["content"][0]["text"] == "scripted"
    overloaded = call(f"{url}/v1/messages", "POST", BODY, HEADERS)
    assert overloaded["error"]["type"] == "overloaded_error" and overloaded["request_id"]
    call(f"{url}/_control/replies", "POST", {"tool_use": {"name": "f", "input": {"a": 1}}})
    used = call(f"{url}/v1/messages", "POST", BODY, HEADERS)
    assert (used["stop_reason"], used["content"][0]["input"]) == ("tool_use", {"a": 1})
    recorded = call(f"{url}/_control/requests")["data"]
    assert [r["status"] for r in recorded] == [200, 200, 529, 200]
    assert recorded[0]["body"] == BODY and recorded[0]["request_id"].startswith("req_")
    call(f"{url}/_control/faults", "POST", {"status": 429, "retry_after": 1})
    assert call(f"{url}/v1/messages", "POST", BODY, HEADERS)["error"]["type"] == "rate_limit_error"
    assert call(f"{url}/_control/models", "POST", {"id": "my-model"})["id"] == "my-model"
    assert call(f"{url}/v1/models/my-model", headers=HEADERS)["type"] == "model"
    settings = call(f"{url}/_control/settings", "POST", {"batch_processing_seconds": 60})
    assert settings == {"ok": True}
    batch = call(
        f"{url}/v1/messages/batches",
        "POST",
        {"requests": [{"custom_id": "a", "params": BODY}]},
        HEADERS,
    )
    assert batch["processing_status"] == "in_progress"
    call(f"{url}/_control/batches/{batch['id']}/expire", "POST")
    ended = call(f"{url}/v1/messages/batches/{batch['id']}", headers=HEADERS)
    assert ended["request_counts"]["expired"] == 1
    call(f"{url}/_control/reset", "POST")
    assert call(f"{url}/_control/requests")["data"] == []
    assert call(f"{url}/_control/nothing")["error"]["type"] == "not_found_error"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_on_signals(served: tuple[subprocess.Popen[str], str], sig: int) -> None:
    process, url = served
    call(f"{url}/v1/messages", "POST", BODY, HEADERS)
    process.send_signal(sig)
    assert process.wait(30) == 0
    assert process.stderr is not None and "Traceback" not in process.stderr.read()


def test_busy_port_is_a_clear_error(served: tuple[subprocess.Popen[str], str]) -> None:
    _, url = served
    port = url.rsplit(":", 1)[1]
    result = subprocess.run(
        [sys.executable, "-m", "claudevision.testing", "serve", "--port", port],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and f"cannot serve on 127.0.0.1:{port}" in result.stderr


def test_the_pytest_plugin_imports_nothing_until_used() -> None:
    code = (
        "import sys, pytest\n"
        "before = set(sys.modules)\n"
        "import claudevision_pytest_plugin\n"
        "print(sorted(m for m in set(sys.modules) - before if not m.startswith('_')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "['claudevision_pytest_plugin']"
