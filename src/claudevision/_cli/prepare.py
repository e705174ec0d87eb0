"""``claudevision prepare IMAGES...``: the content blocks (or the whole message) as JSON.

    $ claudevision prepare shot.png > blocks.json
    $ claudevision prepare a.png b.png -p "Which is larger?" --message > message.json

Nothing is sent; the JSON is exactly what ``ImageMessage(...).content`` (or
``.to_param()``) would give, ready for ``messages.create``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .._core.exceptions import ClaudeVisionError
from .._render.message import ImageMessage
from .common import add_target_options, expand, fail, source

__all__ = ["run"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claudevision prepare",
        description="Print the image blocks (or the whole message) as JSON; nothing is sent.",
    )
    parser.add_argument("images", nargs="+", help="files, folders, globs, URLs, or - for stdin")
    parser.add_argument("-p", "--prompt", default="", help="the text after the images")
    parser.add_argument(
        "--message", action="store_true", help="print the whole MessageParam, not the blocks"
    )
    add_target_options(parser)
    return parser


def run(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    names = list(expand(args.images))
    bad = [f"{name}: {problem}" for name, problem in names if problem]
    if bad:
        for line in bad:
            fail(line)
        return 1
    inputs = [source(name) for name, _ in names]
    try:
        message = ImageMessage(
            args.prompt,
            *inputs,
            model=args.model,
            platform=args.platform,
            metadata=args.metadata,
            label_images=None if len(inputs) > 1 else False,
        )
        param = message.to_param()
    except ClaudeVisionError as exc:
        fail(str(exc))
        return 1
    json.dump(param if args.message else param["content"], sys.stdout)
    print()
    return 0
