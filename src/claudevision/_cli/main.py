"""``claudevision COMMAND ...``: pick the command; with no command, show the sample.

$ claudevision                                   # what would be sent for the sample photo
$ claudevision inspect photos/ --json            # a table (or JSON lines) per image
$ claudevision prepare shot.png --message        # the blocks, or the whole message
$ claudevision ask photo.jpg -p "What is it?"    # sends, and streams the answer
$ claudevision batch photos/ -p "Caption it." --out captions.jsonl   # Message Batches
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from . import ask, batch, inspect, prepare, sample

__all__ = ["main"]

_COMMANDS = {
    "inspect": inspect.run,
    "prepare": prepare.run,
    "ask": ask.run,
    "batch": batch.run,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    A first argument that names no command keeps the original behaviour: the images (or
    the sample) are prepared and summarised.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in _COMMANDS:
            return _COMMANDS[args[0]](args[1:])
        return sample.run(args)
    except BrokenPipeError:  # `claudevision inspect ... | head`: the reader has gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
