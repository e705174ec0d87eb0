"""What a call to the API may be given, checked before any image is read or prepared.

The keywords ``messages.create`` (and ``count_tokens``) take are read from the installed
SDK, so a new SDK parameter needs no change here; an unknown one is named with the
nearest known one.
"""

from __future__ import annotations

import difflib
import inspect
from functools import cache
from typing import Any

from .._core.exceptions import ConfigurationError
from .._render.request import DEFAULT_MAX_TOKENS

__all__ = ["check_call"]

# Set by claudevision itself, never passed through.
_OURS = frozenset({"messages", "model", "max_tokens", "system", "stream", "self"})
# Image options the client calls take beside the API's keywords.
_IMAGE_OPTIONS = frozenset({"download", "allow_private"})


@cache
def _api_parameters(endpoint: str) -> frozenset[str]:
    """What ``messages.create`` (or ``count_tokens``) accepts, from the installed SDK."""
    from anthropic.resources.messages import Messages

    return frozenset(inspect.signature(getattr(Messages, endpoint)).parameters) - _OURS


def check_call(
    name: str,
    prompt: object,
    *,
    model: object,
    max_tokens: object = DEFAULT_MAX_TOKENS,
    system: object = None,
    params: dict[str, Any],
    endpoint: str = "create",
) -> None:
    """Refuse what the API would refuse, before any image is read or prepared: a prompt
    that is not text, a model that is not a str, ``max_tokens`` that is not a whole number
    of at least 1, a system prompt of the wrong kind, a keyword ``messages.create`` does
    not take (with the nearest one it does)."""
    problems = []
    if not isinstance(prompt, str):
        problems.append(
            f"the prompt comes first and must be a str, got {type(prompt).__name__}; write "
            f"claudevision.{name}('What is this?', image, ...)"
        )
    if model is not None and not isinstance(model, str):
        problems.append(f"model={model!r}: pass a model id such as 'claude-opus-4-8'")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        problems.append(f"max_tokens={max_tokens!r}: use a whole number of at least 1")
    if system is not None and not isinstance(system, (str, list, tuple)):
        problems.append("system: pass a str or a list of text blocks")
    allowed = _api_parameters(endpoint)
    for key in sorted(set(params) - allowed - _OURS - _IMAGE_OPTIONS):  # ours: the request says why
        near = difflib.get_close_matches(key, sorted(allowed | {"model", "max_tokens"}), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        problems.append(f"{name}() got an unknown keyword argument {key!r}{hint}")
    if problems:
        raise ConfigurationError("; ".join(problems))
