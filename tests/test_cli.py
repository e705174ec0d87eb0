"""``python -m claudevision``: the quick start's output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from claudevision.__main__ import main

from .conftest import assert_valid_message, png


def test_sample_shows_what_would_be_sent(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "what would be sent to claude-opus-4-8 on anthropic" in out
    assert "original     2400x1800" in out
    assert "applied EXIF orientation 6 (rotated 90° clockwise)" in out
    assert "resized 2400x1800 -> 2212x1659 (high-resolution tier: 2576 px, 4784 tokens)" in out
    assert "1 image(s), 4,740 tokens" in out
    assert '"media_type": "image/jpeg"' in out


def test_json_is_a_valid_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(png(1920, 1080))
    assert main([str(path), "--json", "--model", "claude-sonnet-4-6", "--platform", "bedrock"]) == 0
    param = json.loads(capsys.readouterr().out)
    assert_valid_message(param)
    assert param["content"][-1] == {"type": "text", "text": "Describe this image."}


def test_bad_input_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no/such/file.png"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("claudevision: image 1 ('no/such/file.png')")
    assert "Traceback" not in err


def test_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "claudevision", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.startswith("claudevision ")
