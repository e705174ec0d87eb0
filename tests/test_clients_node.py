"""The TypeScript SDK, through node, against the local server (skipped where node or the
SDK is missing; ``.ci/run`` installs it with ``npm install --prefix tests/node``)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from claudevision.testing import ClaudeServer

NODE_DIR = Path(__file__).parent / "node"


def test_typescript_sdk(claude_server: ClaudeServer) -> None:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "@anthropic-ai" / "sdk").is_dir():
        pytest.skip("node or @anthropic-ai/sdk is not installed (npm install --prefix tests/node)")
    result = subprocess.run(
        [node, str(NODE_DIR / "client.mjs"), claude_server.url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=NODE_DIR,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["streamedUsage"] == out["plainUsage"]
    assert out["forced"]["type"] == "tool_use" and out["forcedStop"] == "tool_use"
    assert isinstance(out["forced"]["input"]["days"], int) and out["forced"]["input"]["days"] >= 1
    assert out["retried"] == "text"
    assert out["badRequest"]["status"] == 400
    assert out["badRequest"]["type"] == "invalid_request_error"
    assert out["badRequest"]["requestId"].startswith("req_")
    assert len(out["models"]) > 2
    statuses = [r.status for r in claude_server.requests if r.path == "/v1/messages"]
    assert statuses[3:6] == [529, 529, 200]
