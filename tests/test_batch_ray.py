"""Preparing a batch on a local Ray cluster with Ray Data (skipped where Ray is absent)."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from claudevision import MissingDependencyError, Vision
from claudevision._send.batch_inputs import BatchInput, batch_inputs
from claudevision._send.batch_prepare import BatchSettings, prepare_row
from claudevision.testing import ClaudeServer

from .conftest import jpeg, png

ray = pytest.importorskip("ray")
from claudevision.ray import prepare_on_ray  # noqa: E402 (only where Ray is installed)

MODEL = "claude-opus-4-8"
PROMPT = "Caption it."


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """A local Ray cluster of two CPUs, shut down after the module's tests."""
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        namespace="claudevision-tests",
    )
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Good images of several kinds and sizes, and two that fail preparation."""
    root = tmp_path_factory.mktemp("photos")
    for index in range(6):
        (root / f"good{index}.jpg").write_bytes(jpeg(900 + 300 * index, 700, orientation=6))
    (root / "screen.png").write_bytes(png(2000, 1200))
    (root / "small.png").write_bytes(png(64, 48, "RGBA"))
    (root / "broken.jpg").write_bytes(jpeg(800, 600)[:400])
    (root / "notes.png").write_bytes(b"just some text, not an image")
    return root


def items_of(photos: Path) -> list[BatchInput]:
    return batch_inputs([str(photos)], prompt=PROMPT)


def test_rows_equal_the_local_rows_in_order(cluster: None, photos: Path) -> None:
    items = items_of(photos)
    settings = BatchSettings(model=MODEL, max_tokens=300)
    rows = list(prepare_on_ray(items, settings=settings, batch_size=2, concurrency=2))
    assert rows == [prepare_row(item, settings) for item in items]
    assert [row["custom_id"] for row in rows] == [item.custom_id for item in items]
    assert sum("error" in row for row in rows) == 2


def test_an_input_that_cannot_be_pickled_is_prepared_on_the_driver(cluster: None) -> None:
    local = BatchInput("local", "lambda", PROMPT, (lambda: None,))  # a lambda cannot be pickled
    good = BatchInput("good", "bytes", PROMPT, (png(40, 30),))
    settings = BatchSettings(model=MODEL)
    rows = list(prepare_on_ray([local, good], settings=settings))
    assert rows == [prepare_row(local, settings), prepare_row(good, settings)]
    assert "error" in rows[0] and "params" in rows[1]


def test_vision_batch_accounts_for_every_input(cluster: None, photos: Path, tmp_path: Path) -> None:
    items = items_of(photos)
    with ClaudeServer() as server:
        vision = Vision(server.client(), model=MODEL)
        done = vision.batch(
            [str(photos)],
            prompt=PROMPT,
            out=tmp_path / "ray.jsonl",
            prepare=prepare_on_ray,
            poll_interval=0.05,
        )
        local = vision.batch([str(photos)], prompt=PROMPT, out=tmp_path / "local.jsonl", workers=1)
    lines = [json.loads(text) for text in (tmp_path / "ray.jsonl").read_text().splitlines()]
    assert [line["input"] for line in lines] == [item.input for item in items]
    bad = {"broken.jpg", "notes.png"}
    for line in lines:
        want = "invalid_input" if Path(line["input"]).name in bad else "succeeded"
        assert line["status"] == want, line
    counts = {status: count for status, count in done.counts.items() if count}
    assert counts == {"succeeded": len(items) - 2, "invalid_input": 2}
    assert done.pending == 0 and local.counts == done.counts
    assert (tmp_path / "ray.jsonl").read_text() == (tmp_path / "local.jsonl").read_text()


def test_importing_without_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ray", "ray.data", "claudevision.ray", "claudevision._send.ray"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setitem(sys.modules, "ray", None)  # None: "import ray" fails
    monkeypatch.setitem(sys.modules, "ray.data", None)
    with pytest.raises(MissingDependencyError, match=r'pip install -e "\.\[ray\]"'):
        importlib.import_module("claudevision.ray")
    with pytest.raises(MissingDependencyError, match="ray extra"):
        importlib.import_module("claudevision._send.ray")
