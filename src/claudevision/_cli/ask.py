"""``claudevision ask IMAGES... -p PROMPT``: send the images and stream the answer.

    $ claudevision ask photo.jpg -p "What is in this image?"
    $ ANTHROPIC_BASE_URL=http://127.0.0.1:8080 claudevision ask shot.png -p "Describe it."

The client is the SDK's ``anthropic.Anthropic()``, so ``ANTHROPIC_API_KEY`` and
``ANTHROPIC_BASE_URL`` apply; ``--base-url`` overrides the latter (a local Claude server,
a proxy). Errors are one line on standard error and exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from .._core.exceptions import ClaudeVisionError
from .._render.request import DEFAULT_MAX_TOKENS
from .._send.client import Vision
from .common import add_target_options, expand, fail, source

__all__ = ["run"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claudevision ask",
        description="Send images and a prompt to Claude and stream the answer.",
    )
    parser.add_argument("images", nargs="+", help="files, folders, globs, URLs, or - for stdin")
    parser.add_argument("-p", "--prompt", required=True, help="what to ask about the images")
    parser.add_argument("--system", default=None, help="a system prompt")
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=DEFAULT_MAX_TOKENS,
        help=f"the most tokens the answer may take (default: {DEFAULT_MAX_TOKENS})",
    )
    parser.add_argument(
        "--base-url",
        default=None,
        help="the API's address (default: ANTHROPIC_BASE_URL, else the API)",
    )
    add_target_options(parser)
    return parser


def _client(base_url: str | None) -> Any:
    """The SDK's client from the environment, at ``base_url`` when given."""
    if base_url is None:
        return None  # Vision makes anthropic.Anthropic() from the environment
    import anthropic

    return anthropic.Anthropic(base_url=base_url)


def run(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    names = list(expand(args.images))
    bad = [f"{name}: {problem}" for name, problem in names if problem]
    if bad:
        for line in bad:
            fail(line)
        return 1
    import anthropic

    try:
        vision = Vision(_client(args.base_url), model=args.model, platform=args.platform)
        message = vision.message(
            args.prompt, *[source(name) for name, _ in names], metadata=args.metadata
        )
        stream = vision.stream_turns(message, system=args.system, max_tokens=args.max_tokens)
        for text in stream:
            sys.stdout.write(text)
            sys.stdout.flush()
    except ClaudeVisionError as exc:
        fail(str(exc))
        return 1
    except anthropic.APIError as exc:
        fail(f"the API refused the request: {exc}")
        return 1
    print()
    return 0
