"""``claudevision [IMAGES...]``: what would be sent for some images (default: the sample).

    $ claudevision                                  # the bundled sample photo
    $ claudevision shot.png scan.tiff --model claude-sonnet-4-6 --platform bedrock
    $ claudevision photo.heic --json > message.json

Nothing is sent: the images are prepared and their media types, sizes, tokens, what was
done to each and a summary of the blocks are printed (``--json``: the whole message).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib import resources
from typing import Any

from .._core.exceptions import ClaudeVisionError
from .._render.message import ImageMessage
from .common import add_target_options, fail, version

__all__ = ["run", "sample_path"]


def sample_path() -> str:
    """The bundled sample: a 2400x1800 photo stored sideways with EXIF orientation 6."""
    return str(resources.files("claudevision") / "_data" / "sample.jpg")


def _summary(block: Any) -> Any:
    """A block with long base64 data shortened, for reading."""
    if isinstance(block, dict):
        out = {}
        for key, value in block.items():
            if key == "data" and isinstance(value, str) and len(value) > 40:
                out[key] = f"{value[:16]}...({len(value):,} chars)"
            else:
                out[key] = _summary(value)
        return out
    if isinstance(block, list):
        return [_summary(item) for item in block]
    return block


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claudevision",
        description=(
            "Prepare images for Claude and print what would be sent (nothing is sent). "
            "Commands: inspect, prepare, ask (claudevision COMMAND --help)."
        ),
    )
    parser.add_argument("images", nargs="*", help="paths, URLs or base64 (default: a sample)")
    parser.add_argument("--prompt", default="Describe this image.")
    add_target_options(parser)
    parser.add_argument("--json", action="store_true", help="print the whole MessageParam")
    parser.add_argument("--version", action="version", version=f"claudevision {version()}")
    return parser


def run(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    images = args.images or [sample_path()]
    message = ImageMessage(
        args.prompt, *images, model=args.model, platform=args.platform, metadata=args.metadata
    )
    try:
        param = message.to_param()
    except ClaudeVisionError as exc:
        fail(str(exc))
        return 1
    if args.json:
        json.dump(param, sys.stdout)
        print()
        return 0
    print(f"claudevision {version()}: what would be sent to {args.model} on {args.platform}\n")
    print(message.describe())
    cost = message.cost()
    if cost is not None:
        print(f"estimated image cost: ${cost:.5f}")
    print("\nblocks:")
    for block in param["content"]:
        print("  " + json.dumps(_summary(block)))
    return 0
