"""An OpenAI chat history as a Claude one, every image checked like any history.

    >>> from claudevision import from_openai
    >>> history = from_openai([
    ...     {"role": "system", "content": "Be brief."},
    ...     {"role": "user", "content": "Hi"},
    ... ], model="claude-sonnet-4-6")
    >>> history.system, history.messages
    ('Be brief.', [{'role': 'user', 'content': [{'type': 'text', 'text': 'Hi'}]}])

System and developer messages become ``system``; text and image parts become text and
image blocks; assistant ``tool_calls`` become ``tool_use`` blocks and ``tool`` messages
``tool_result`` blocks; turns of one role in a row are merged, as Claude takes them.
Then :func:`~claudevision.repair_messages` checks every image (media types from the
bytes, sizes, the many-image rule, URLs downloaded where needed), and a part's
``detail`` (which Claude has no use for) is noted as dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from .._core.blocks import image_block, text_block
from .._core.exceptions import ClaudeVisionError, ConfigurationError
from .._read.foreign import foreign_source
from .._read.sources import Base64Source, FileIdSource
from .repair import Change, ChangeKind, Location, repair_messages

if TYPE_CHECKING:
    from anthropic.types import MessageParam

__all__ = ["ClaudeHistory", "from_openai"]

_SYSTEM_ROLES = ("system", "developer")


@dataclass(frozen=True)
class ClaudeHistory:
    """A converted history: pass ``system`` and ``messages`` to ``messages.create``."""

    system: str | None
    messages: list[MessageParam]
    changes: tuple[Change, ...]
    """What the conversion and the image checks changed (``detail`` dropped, media types
    corrected, images re-fitted or downloaded...)."""


def from_openai(
    messages: Iterable[Mapping[str, Any]],
    *,
    model: str,
    platform: str | Any = "anthropic",
    **repair_options: Any,
) -> ClaudeHistory:
    """Convert an OpenAI chat ``messages`` list; ``repair_options`` go to
    :func:`~claudevision.repair_messages` (``keep_images``, ``download``, ...)."""
    if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Iterable):
        raise ConfigurationError("messages must be a list of OpenAI chat messages (dicts)")
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    notes: list[Change] = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise ConfigurationError(f"messages[{i}] is a {type(message).__name__}, not a dict")
        role = message.get("role")
        if role in _SYSTEM_ROLES:
            system.append(_text_of(message.get("content"), i))
            continue
        claude_role, blocks = _convert(message, i, notes, len(turns))
        if not blocks:
            continue  # an empty turn: the API refuses them, and it says nothing
        if turns and turns[-1]["role"] == claude_role:
            notes = [_moved(note, len(turns) - 1, len(turns[-1]["content"])) if
                     note.where.message == len(turns) else note for note in notes]  # fmt: skip
            turns[-1]["content"] += blocks
        else:
            turns.append({"role": claude_role, "content": blocks})
    repaired = repair_messages(turns, model=model, platform=platform, **repair_options)
    changes = tuple(sorted((*notes, *repaired.changes), key=lambda change: change.where))
    return ClaudeHistory("\n\n".join(system) or None, repaired.messages, changes)


def _moved(note: Change, message: int, offset: int) -> Change:
    where = Location(message, note.where.block + offset, note.where.inner)
    return Change(where, note.what, note.why, note.steps)


def _convert(
    message: Mapping[str, Any], i: int, notes: list[Change], position: int
) -> tuple[str, list[dict[str, Any]]]:
    role = message.get("role")
    if role == "user":
        return "user", _parts(message.get("content"), i, notes, position)
    if role == "assistant":
        text = _text_of(message.get("content"), i)
        blocks: list[dict[str, Any]] = [dict(text_block(text))] if text else []
        calls = message.get("tool_calls") or []
        if not isinstance(calls, list):
            raise ConfigurationError(f"messages[{i}].tool_calls must be a list of tool calls")
        blocks += [_tool_use(call, i) for call in calls]
        return "assistant", blocks
    if role == "tool":
        content = message.get("content")
        inner = _parts(content, i, [], position) if isinstance(content, list) else None
        result: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": _required(message, "tool_call_id", i),
            "content": inner if inner is not None else _text_of(content, i),
        }
        return "user", [result]
    raise ConfigurationError(
        f"messages[{i}] has role {role!r}; OpenAI chat roles are system, developer, user, "
        "assistant and tool"
    )


def _parts(content: object, i: int, notes: list[Change], position: int) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [cast("dict[str, Any]", text_block(content))] if content else []
    if not isinstance(content, list):
        raise ConfigurationError(f"messages[{i}].content must be a string or a list of parts")
    blocks: list[dict[str, Any]] = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            if part.get("text"):
                blocks.append(cast("dict[str, Any]", text_block(str(part["text"]))))
        elif kind in ("image_url", "input_image", "image"):
            detail = _detail(part)
            if detail is not None:
                why = f"detail {detail!r} dropped: Claude sees the image at the size sent"
                notes.append(Change(Location(position, len(blocks)), ChangeKind.CONVERTED, why))
            blocks.append(_image(part, i, j))
        else:
            raise ConfigurationError(
                f"messages[{i}].content[{j}] is a {kind!r} part, which Claude does not take; "
                "send text and image parts only"
            )
    return blocks


def _detail(part: Mapping[str, Any]) -> str | None:
    inner = part.get("image_url")
    detail = inner.get("detail") if isinstance(inner, Mapping) else part.get("detail")
    return detail if isinstance(detail, str) and detail != "auto" else None


def _image(part: Mapping[str, Any], i: int, j: int) -> dict[str, Any]:
    try:
        source = foreign_source(part)
    except ClaudeVisionError as exc:
        exc.input = exc.input or f"messages[{i}].content[{j}]"
        raise
    if isinstance(source, FileIdSource):
        return cast("dict[str, Any]", image_block(file_id=source.file_id))
    if isinstance(source, Base64Source):
        return cast("dict[str, Any]", image_block(media_type=source.media_type, data=source.data))
    if source[:5].lower() == "data:":
        decoded = Base64Source.from_string(source, label=f"messages[{i}].content[{j}]")
        return cast("dict[str, Any]", image_block(media_type=decoded.media_type, data=decoded.data))
    return cast("dict[str, Any]", image_block(url=source))


def _tool_use(call: object, i: int) -> dict[str, Any]:
    if not isinstance(call, Mapping) or not isinstance(call.get("function"), Mapping):
        raise ConfigurationError(f"messages[{i}].tool_calls holds a call without a function")
    function = call["function"]
    arguments = function.get("arguments") or "{}"
    try:
        parsed = (
            json.loads(arguments, parse_constant=_no_constant)
            if isinstance(arguments, str)
            else json.loads(json.dumps(arguments, allow_nan=False))
        )
    except (ValueError, TypeError, RecursionError) as exc:
        raise ConfigurationError(
            f"the arguments of tool call {call.get('id')!r} are not JSON the API takes "
            f"({type(exc).__name__}: {str(exc)[:80]})",
            input=f"messages[{i}]",
        ) from None
    if not isinstance(parsed, dict):
        parsed = {"value": parsed}
    return {
        "type": "tool_use",
        "id": _required(call, "id", i),
        "name": _required(function, "name", i),
        "input": parsed,
    }


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _required(holder: Mapping[str, Any], key: str, i: int) -> str:
    value = holder.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"messages[{i}] needs {key!r} (a non-empty string)")
    return value


def _text_of(content: object, i: int) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            p.get("text") for p in content if isinstance(p, Mapping) and p.get("type") == "text"
        ]
        if len(texts) == len(content):
            return "\n".join(str(text) for text in texts)
    raise ConfigurationError(f"messages[{i}].content must be text here (a string or text parts)")
