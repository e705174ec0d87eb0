"""A griffe extension for the API reference: the docstrings' reST idioms as Markdown.

The docstrings are written for ``help()`` and doctest: ``>>>`` examples, ``double
backticks`` and Sphinx roles (:class:`~claudevision.Bounds`). Here, for the documentation
site only, examples become ``pycon`` code blocks, roles become cross-references and double
backticks single ones. The source is never changed.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc):`~?([\w.]+)(?:\(\))?`")
_DOUBLE = re.compile(r"``([^`]+)``")


def _role(match: re.Match[str]) -> str:
    target = match.group(1).lstrip(".")
    return f"[`{target.rsplit('.', 1)[-1]}`][{target}]" if target.startswith("claudevision") else f"`{target.rsplit('.', 1)[-1]}`"


def to_markdown(text: str) -> str:
    """``>>>`` runs as fenced ``pycon`` blocks; roles and double backticks as Markdown."""
    out: list[str] = []
    in_example = False
    for line in text.splitlines():
        stripped = line.strip()
        starts = stripped.startswith(">>>")
        if starts and not in_example:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}```pycon")
            in_example = True
        elif in_example and not stripped:
            out.append(f"{indent}```")
            in_example = False
        if in_example:
            out.append(line.replace("  # doctest: +SKIP", "").rstrip())
            continue
        if stripped.endswith("::") and not stripped.startswith(">>>"):
            line = line[:-1]  # a reST literal-block marker
        out.append(_DOUBLE.sub(r"`\1`", _ROLE.sub(_role, line)))
    if in_example:
        out.append(f"{indent}```")
    return "\n".join(out)


class ReSTDocstrings(griffe.Extension):
    """Rewrite every docstring with :func:`to_markdown` as it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)
