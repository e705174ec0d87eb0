"""``python -m claudevision``: the quick start's output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from claudevision import model_info, model_size, visual_tokens
from claudevision.__main__ import main

from .conftest import assert_valid_message, jpeg, png


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


# -- claudevision inspect / prepare / ask ----------------------------------------------------


SONNET_SIZE = model_size(3000, 2000, model_info("claude-sonnet-4-6").tier)


def cli(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """The installed command line in a child process, as a shell would run it."""
    return subprocess.run(
        [sys.executable, "-m", "claudevision", *args],
        capture_output=True,
        text=True,
        timeout=120,
        **options,
    )


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """A folder of two images, one in a subfolder, a damaged JPEG and a text file."""
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.jpg").write_bytes(jpeg(3000, 2000))
    (folder / "sub" / "b.png").write_bytes(png(800, 600))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF cut short")
    (folder / "notes.txt").write_text("not an image, and not looked at")
    return folder


def test_inspect_json_on_a_folder_names_the_bad_file_and_fails(photos: Path) -> None:
    done = cli("inspect", str(photos), "--json", "--model", "claude-sonnet-4-6")
    assert done.returncode == 1
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [Path(row["input"]).name for row in rows] == ["a.jpg", "broken.jpg", "b.png"]
    good, bad, small = rows
    assert good["original"] == [3000, 2000] and good["sent"] == good["model_size"]
    assert good["tokens"] == visual_tokens(*good["model_size"]) and good["cost"] > 0
    assert good["format"] == "image/jpeg" and good["steps"][0].startswith("resized 3000x2000")
    assert (
        small["unchanged"] is True and small["bytes"] == (photos / "sub" / "b.png").stat().st_size
    )
    assert "damaged" in bad["error"] and set(bad) == {"input", "error"}
    errors = done.stderr.splitlines()
    assert len(errors) == 1 and errors[0].startswith(f"claudevision: {photos / 'broken.jpg'}: ")


def test_inspect_prints_a_table_with_a_total(
    photos: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = [str(photos / "a.jpg"), str(photos / "sub" / "b.png")]
    assert main(["inspect", *images, "--model", "claude-sonnet-4-6", "--platform", "bedrock"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "What would be sent to claude-sonnet-4-6 on bedrock"
    assert out[1].split() == [
        "input",
        "format",
        "original",
        "sent",
        "model",
        "sees",
        "tokens",
        "bytes",
        "cost",
    ]
    first = next(line for line in out if line.startswith(images[0])).split()
    width, height = SONNET_SIZE
    assert first[1:4] == ["image/jpeg", "3000x2000", f"{width}x{height}"]
    tokens = visual_tokens(width, height) + visual_tokens(800, 600)
    assert out[-1].startswith("total: 2 image(s)") and f"{tokens:,}" in out[-1]
    assert "    - sent unchanged: a whole image in an accepted format, within every limit" in out


def test_inspect_uses_rich_on_a_terminal(
    photos: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from claudevision._cli import table

    monkeypatch.setattr(table, "is_terminal", lambda stream: True)
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["inspect", str(photos / "sub" / "b.png")]) == 0
    out = capsys.readouterr().out
    assert "┃" in out or "│" in out  # a rich table, not the plain one
    assert "b.png" in out and "638" in out


def test_inspect_takes_globs_and_standard_input(photos: Path) -> None:
    done = cli(
        "inspect",
        str(photos / "**" / "*.png"),
        "-",
        "--json",
        input=None,
        stdin=(photos / "a.jpg").open("rb"),
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["input"] for row in rows] == [str(photos / "sub" / "b.png"), "-"]
    assert rows[1]["original"] == [3000, 2000]


def test_inspect_says_when_nothing_matches(tmp_path: Path) -> None:
    done = cli("inspect", str(tmp_path / "*.png"), str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"claudevision: {tmp_path / '*.png'}: no file matches this pattern",
        f"claudevision: {tmp_path}: the folder holds no image files",
    ]


def test_prepare_prints_blocks_or_the_message(photos: Path) -> None:
    blocks = json.loads(cli("prepare", str(photos / "sub" / "b.png")).stdout)
    assert [block["type"] for block in blocks] == ["image"]
    done = cli(
        "prepare",
        str(photos / "a.jpg"),
        str(photos / "sub" / "b.png"),
        "-p",
        "Which is larger?",
        "--message",
        "--platform",
        "vertex",
    )
    param = json.loads(done.stdout)
    assert_valid_message(param)
    assert [b["type"] for b in param["content"]] == ["text", "image", "text", "image", "text"]
    bad = cli("prepare", str(photos / "broken.jpg"))
    assert bad.returncode == 1 and bad.stdout == "" and len(bad.stderr.splitlines()) == 1


def test_ask_streams_the_answer_from_the_local_server(photos: Path, claude_server: Any) -> None:
    env = {**os.environ, "ANTHROPIC_BASE_URL": claude_server.url, "ANTHROPIC_API_KEY": "k"}
    done = cli(
        "ask",
        str(photos / "a.jpg"),
        "-p",
        "What is it?",
        "--system",
        "Be brief.",
        "--max-tokens",
        "300",
        "--model",
        "claude-sonnet-4-6",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert (
        f"image/jpeg {SONNET_SIZE[0]}x{SONNET_SIZE[1]}" in done.stdout
        and "What is it?" in done.stdout
    )
    body = claude_server.requests[-1].body
    assert body["system"] == "Be brief." and body["max_tokens"] == 300 and body["stream"]
    assert body["model"] == "claude-sonnet-4-6"


def test_ask_reaches_a_base_url_and_fails_in_one_line(photos: Path, claude_server: Any) -> None:
    env = {**os.environ, "ANTHROPIC_API_KEY": "k"}
    env.pop("ANTHROPIC_BASE_URL", None)
    ok = cli(
        "ask", str(photos / "sub" / "b.png"), "-p", "Hi", "--base-url", claude_server.url, env=env
    )
    assert ok.returncode == 0 and "image/png 800x600" in ok.stdout
    bad = cli(
        "ask", str(photos / "broken.jpg"), "-p", "Hi", "--base-url", claude_server.url, env=env
    )
    assert bad.returncode == 1 and len(bad.stderr.splitlines()) == 1
    assert "broken.jpg" in bad.stderr and "Traceback" not in bad.stderr


def test_many_files_show_a_progress_bar_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from claudevision._cli import table

    monkeypatch.setattr(table, "is_terminal", lambda stream: True)
    assert list(table.progress(iter(range(20)), 20, "preparing")) == list(range(20))
    assert list(table.progress(iter(range(3)), 3, "preparing")) == [0, 1, 2]  # too few: none
