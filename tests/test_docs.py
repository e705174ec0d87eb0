"""The examples the docs promise run: each block marked ``<!-- test: name -->`` is run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
MARKED = re.compile(r"<!-- test: ([\w-]+) -->\s*```python\n(.*?)```", re.DOTALL)


def marked_blocks() -> list[tuple[str, str]]:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        found += [(f"{page.stem}:{name}", code) for name, code in MARKED.findall(page.read_text())]
    return found


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("name", "code"), marked_blocks(), ids=[n for n, _ in marked_blocks()])
def test_docs_example_runs(name: str, code: str) -> None:
    exec(compile(code, name, "exec"), {"__name__": "docs_example"})


def test_the_agent_loop_is_among_them() -> None:
    assert "agents:agent-loop" in [name for name, _ in marked_blocks()]
