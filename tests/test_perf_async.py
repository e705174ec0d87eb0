"""Async renders leave the event loop a core: their pools take one worker fewer."""

from __future__ import annotations

import os
import threading
import time

import anthropic
import pytest

import claudevision as cv
import claudevision._prepare.fit_request as fit_request
from claudevision._prepare import prepare as prepare_module
from claudevision._prepare.prepare import beside_event_loop, run_parallel
from claudevision.testing import ClaudeServer

from .conftest import jpeg, png


def threads_used(calls: int) -> int:
    """How many pool threads ``run_parallel`` starts for ``calls`` slow calls."""
    names: set[str] = set()
    lock = threading.Lock()

    def call() -> None:
        with lock:
            names.add(threading.current_thread().name)
        time.sleep(0.05)

    run_parallel([call] * calls)
    return len(names)


def test_pools_leave_one_core_beside_an_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert threads_used(8) == 4
    assert beside_event_loop(lambda: threads_used(8))() == 3
    assert threads_used(8) == 4  # only inside


def test_one_core_still_gets_one_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert beside_event_loop(lambda: run_parallel([lambda: 1, lambda: 2]))() == [1, 2]


@pytest.mark.anyio
async def test_async_renders_run_beside_the_loop(
    monkeypatch: pytest.MonkeyPatch,
    claude_server: ClaudeServer,
    aclient: anthropic.AsyncAnthropic,
) -> None:
    seen: list[tuple[bool, bool]] = []
    real = getattr(fit_request, "run_parallel")  # noqa: B009 - not exported

    def spy(calls: list[object], **options: object) -> list[object]:
        main = threading.current_thread() is threading.main_thread()
        seen.append((prepare_module._beside_event_loop.get(), main))
        result: list[object] = real(calls, **options)
        return result

    monkeypatch.setattr(fit_request, "run_parallel", spy)
    answer = await cv.aask(
        "Hi", png(1920, 1080), jpeg(200, 200), client=aclient, model="claude-sonnet-4-6"
    )
    assert answer.text.startswith("Received 2 image(s)")
    assert seen and all(beside and not main for beside, main in seen)
    seen.clear()
    cv.ask(
        "Hi", png(64, 64), jpeg(64, 64), client=claude_server.client(), model="claude-sonnet-4-6"
    )
    assert seen and not any(beside for beside, _ in seen)
