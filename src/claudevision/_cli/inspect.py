"""``claudevision inspect PATHS...``: what would be sent for each image, and the total.

Nothing is sent. Per image: the input's format, its original size, the size sent and the
size the model sees, tokens, bytes, estimated cost and what was done; ``--json`` prints
one JSON object per input instead (a bad input's object holds its ``error``). Any bad
input makes the exit status 1, with one line on standard error naming it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .._core.exceptions import ClaudeVisionError
from .._core.media import sniff_mime
from .._core.models import estimate_cost
from .._prepare.prepare import prepare_image
from .._read.read import ImageBytes, read_image
from . import table
from .common import add_target_options, expand, fail, source

__all__ = ["inspect_one", "run"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claudevision inspect",
        description="Show what would be sent to Claude for each image (nothing is sent).",
    )
    parser.add_argument("paths", nargs="+", help="files, folders, globs, or - for stdin")
    add_target_options(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object per input")
    return parser


def inspect_one(name: str, *, model: str, platform: str, metadata: str = "strip") -> dict[str, Any]:
    """What would be sent for the input ``name``, as a JSON-ready dict (or its error)."""
    try:
        read = read_image(source(name), label=name)
        prepared = prepare_image(
            read,
            model=model,
            platform=platform,
            metadata=metadata,  # type: ignore[arg-type]
        )
    except ClaudeVisionError as exc:
        return {"input": name, "error": str(exc)}
    data = prepared.data or b""
    tokens = prepared.tokens
    return {
        "input": name,
        "format": sniff_mime(read.data) if isinstance(read, ImageBytes) else "pixels",
        "media_type": prepared.media_type,
        "original": list(prepared.original_size or ()),
        "sent": list(prepared.size or ()),
        "model_size": list(prepared.model_size or ()),
        "tokens": tokens,
        "bytes": len(data),
        "base64_bytes": prepared.base64_size,
        "cost": None if tokens is None else estimate_cost(tokens, model),
        "unchanged": prepared.unchanged,
        "steps": [str(step) for step in prepared.steps],
    }


def run(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    names = list(expand(args.paths))
    rows: list[dict[str, Any]] = [
        {"input": name, "error": f"{name}: {problem}"} for name, problem in names if problem
    ]
    todo = [name for name, problem in names if not problem]

    def one(name: str) -> dict[str, Any]:
        return inspect_one(name, model=args.model, platform=args.platform, metadata=args.metadata)

    with ThreadPoolExecutor(min(len(todo), os.cpu_count() or 1) or 1) as pool:
        done = list(table.progress(pool.map(one, todo), len(todo), "preparing"))
    rows += done
    order = {name: i for i, (name, _) in enumerate(names)}
    rows.sort(key=lambda row: order[row["input"]])
    bad = [row for row in rows if "error" in row]
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        table.images(rows, title=f"What would be sent to {args.model} on {args.platform}")
    for row in bad:
        fail(row["error"])
    return 1 if bad else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(run(sys.argv[1:]))
