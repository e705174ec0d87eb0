"""Every code sample in the README and the docs runs, against the local Claude server.

Python samples of one page run in order in one namespace, as a reader would type them,
in a folder holding the files the samples name (``photo.jpg``, ``q1.png``, ...) and with
the SDK's environment pointing at a local server (``anthropic.Anthropic()`` reaches it).
Samples that use names a reader brings (``image_b64``, ``upload_bytes``, ``history``...)
get them from :func:`reader_names`. Shell samples run when every line is a
``claudevision`` command, or when marked ``<!-- test: shell -->``; samples that install
or clone are not run.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from claudevision.testing import ClaudeServer

from .conftest import encode, gradient, jpeg, png

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"(<!-- test: ([\w-]+) -->\s*)?```(python|bash)\n(.*?)```", re.DOTALL)


def samples(page: Path, language: str) -> list[tuple[str | None, str]]:
    return [
        (marker or None, code)
        for _, marker, lang, code in FENCE.findall(page.read_text())
        if lang == language
    ]


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


PYTHON_PAGES = [page for page in PAGES if samples(page, "python")]


def runnable_shell(marker: str | None, code: str) -> bool:
    lines = [line for line in code.splitlines() if line.strip() and not line.startswith("#")]
    return marker == "shell" or all(line.startswith("claudevision ") for line in lines)


SHELL = [
    (f"{page_id(page)}:{i}", code)
    for page in PAGES
    for i, (marker, code) in enumerate(samples(page, "bash"))
    if runnable_shell(marker, code)
]


def phone_photo() -> bytes:
    """A 12 MP photo stored sideways, with a GPS position, as a phone writes it."""
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 26.0)
    return encode(gradient(4032, 3024), "JPEG", exif=exif, quality=85)


def heic() -> bytes:
    import pillow_heif

    buffer = io.BytesIO()
    pillow_heif.from_pillow(gradient(1200, 900)).save(buffer, quality=60)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files the samples name."""
    root = tmp_path_factory.mktemp("reader")
    files = {
        "photo.jpg": phone_photo(),
        "q1.png": png(1200, 800),
        "q2.png": png(1200, 800),
        "screen.png": png(2880, 1800),
        "screenshot.png": png(1440, 900),
        "scan1.png": png(1000, 1400, "L"),
        "scan2.png": png(1000, 1400, "L"),
        "cat.png": png(640, 480),
        "IMG_0042.HEIC": heic(),
        "photo.heic": heic(),
        "photos/a.jpg": jpeg(3000, 2000),
        "photos/b.png": png(800, 600),
    }
    for name, data in files.items():
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_bytes(data)
    shutil.copytree(ROOT / "src", root / "src")  # the sample photo at its README path
    return root


@pytest.fixture
def reader(
    folder: Path, monkeypatch: pytest.MonkeyPatch, claude_server: ClaudeServer
) -> ClaudeServer:
    """Run in the samples' folder, with every SDK client pointed at the local server."""
    monkeypatch.chdir(folder)
    for name, value in environment(claude_server.url).items():
        monkeypatch.setenv(name, value)
    return claude_server


def environment(url: str) -> dict[str, str]:
    return {
        "ANTHROPIC_BASE_URL": url,
        "ANTHROPIC_API_KEY": "test-key",
        "ANTHROPIC_BEDROCK_BASE_URL": url,
        "AWS_BEARER_TOKEN_BEDROCK": "test-token",
        "ANTHROPIC_VERTEX_BASE_URL": url,
        "MPLBACKEND": "Agg",
    }


def reader_names(server: ClaudeServer) -> dict[str, Any]:
    """The names samples assume the reader already has, as a reader would have them."""
    import anthropic

    client = anthropic.Anthropic()
    photo = Path("photo.jpg").read_bytes()
    from claudevision import ImageMessage

    history: list[Any] = [
        {
            "role": "user",
            "content": [
                {
                    "type": "image",
                    "source": {
                        "type": "base64",
                        "media_type": "image/jpeg",
                        "data": base64.b64encode(png(640, 480)).decode(),
                    },
                },
                {"type": "text", "text": "What is on the screen?"},
            ],
        },
        {"role": "assistant", "content": "A login form."},
    ]
    return {
        "__name__": "docs_example",
        "client": client,
        "image_b64": base64.b64encode(photo).decode(),
        "upload_bytes": photo,
        "upload": type("Upload", (), {"file": io.BytesIO(photo)})(),
        "form_field_text": "data:image/png;base64," + base64.b64encode(png(300, 200)).decode(),
        "text_from_a_form": base64.b64encode(png(300, 200)).decode(),
        "screenshot_png": png(1280, 800),
        "history": history,
        "messages": [dict(turn) for turn in history] + [{"role": "user", "content": "And now?"}],
        "message": ImageMessage("What is in this image?", "photo.jpg", model="claude-opus-4-8"),
        "next_message": ImageMessage("And this one?", "q1.png", model="claude-opus-4-8"),
        "claude_server": server,
    }


def run(code: str, name: str, namespace: dict[str, Any]) -> None:
    """Run a sample; top-level ``await`` runs on an event loop, as in a notebook."""
    compiled = compile(code, name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if compiled.co_flags & 0x80:  # CO_COROUTINE: the sample awaits
        asyncio.run(eval(compiled, namespace))
    else:
        exec(compiled, namespace)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("page", PYTHON_PAGES, ids=page_id)
def test_python_samples_run(page: Path, reader: ClaudeServer) -> None:
    if page.name == "ray.md":
        pytest.importorskip("ray")  # the ray extra
    namespace = reader_names(reader)
    for i, (_, code) in enumerate(samples(page, "python")):
        run(code, f"{page_id(page)}:{i}", namespace)


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("name", "code"), SHELL, ids=[name for name, _ in SHELL])
def test_shell_samples_run(name: str, code: str, reader: ClaudeServer, folder: Path) -> None:
    env = {**os.environ, **environment(reader.url)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, f"{name}\n{done.stdout}\n{done.stderr}"


def test_the_samples_that_matter_are_among_them() -> None:
    assert ROOT / "README.md" in PYTHON_PAGES and ROOT / "docs" / "agents.md" in PYTHON_PAGES
    assert any(name.startswith("README.md") for name, _ in SHELL)
    assert [marker for marker, _ in samples(ROOT / "README.md", "python")].count("notebook") == 1


def test_no_page_says_to_install_from_the_package_index() -> None:
    wrong = re.compile(r"pip install [\"']?claudevision(?!\S*\s*@)")
    for page in [*PAGES, *(ROOT / "src" / "claudevision").rglob("*.py")]:
        assert not wrong.search(page.read_text()), page
