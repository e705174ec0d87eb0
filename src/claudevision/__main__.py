"""``python -m claudevision``: show what would be sent to Claude for some images.

    $ python -m claudevision                      # the bundled sample photo
    $ python -m claudevision shot.png scan.tiff --model claude-sonnet-4-6 --platform bedrock
    $ python -m claudevision photo.heic --json > message.json

Nothing is sent: this prepares the images and prints media types, sizes, tokens, what was
done to each image, and a summary of the blocks (``--json`` prints the whole message).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib import resources
from typing import Any

from . import PLATFORMS, ClaudeVisionError, ImageMessage, __version__

DEFAULT_MODEL = "claude-opus-4-8"


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="claudevision",
        description="Prepare images for Claude and print what would be sent (nothing is sent).",
    )
    parser.add_argument("images", nargs="*", help="paths, URLs or base64 (default: a sample)")
    parser.add_argument("--prompt", default="Describe this image.")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"default: {DEFAULT_MODEL}")
    parser.add_argument("--platform", default="anthropic", choices=sorted(PLATFORMS))
    parser.add_argument("--json", action="store_true", help="print the whole MessageParam")
    parser.add_argument("--version", action="version", version=f"claudevision {__version__}")
    args = parser.parse_args(argv)

    images = args.images or [sample_path()]
    message = ImageMessage(args.prompt, *images, model=args.model, platform=args.platform)
    try:
        param = message.to_param()
    except ClaudeVisionError as exc:
        print(f"claudevision: {exc}", file=sys.stderr)
        return 1
    if args.json:
        json.dump(param, sys.stdout)
        print()
        return 0
    print(f"claudevision {__version__}: what would be sent to {args.model} on {args.platform}\n")
    print(message.describe())
    cost = message.cost()
    if cost is not None:
        print(f"estimated image cost: ${cost:.5f}")
    print("\nblocks:")
    for block in param["content"]:
        print("  " + json.dumps(_summary(block)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
