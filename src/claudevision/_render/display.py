"""Rich display in notebooks: messages, histories, repairs and answers as HTML or Markdown.

Jupyter calls ``_repr_html_`` (or ``_repr_markdown_``) on the last value of a cell; the
classes delegate here. Every image is shown as a thumbnail of the bytes that are sent
(:meth:`~claudevision.PreparedImage._repr_html_`), beside its sizes, tokens, estimated
cost and what was done. Built from plain values, so this module imports no class that
uses it.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import Any

from .._prepare.prepared import PreparedImage
from .._prepare.preview import THUMBNAIL_SIDE, thumbnail_uri

__all__ = [
    "Turn",
    "answer_markdown",
    "blocks_of",
    "conversation_html",
    "message_html",
    "repaired_html",
]

Turn = tuple[str, str, Sequence[PreparedImage | bytes]]
"""One turn of a history: the role, its text, its images (prepared, or raw bytes)."""


def _money(cost: float | None) -> str:
    return "unknown" if cost is None else f"${cost:.5f}"


def _tokens(tokens: int | None) -> str:
    return "unknown" if tokens is None else f"{tokens:,}"


def message_html(
    prompt: str,
    images: Sequence[PreparedImage],
    *,
    model: str | None,
    tokens: int | None,
    cost: float | None,
) -> str:
    """A user message: each image's card, the prompt, and the total tokens and cost."""
    cards = "".join(image._repr_html_() for image in images)
    summary = (
        f"{len(images)} image(s) for {html.escape(model or 'the default model')}: "
        f"{_tokens(tokens)} image tokens, estimated {_money(cost)}"
    )
    return (
        '<div class="claudevision-message">'
        f"<div><b>ImageMessage</b> &middot; {summary}</div>{cards}"
        f"<blockquote>{html.escape(prompt)}</blockquote></div>"
    )


def repaired_html(changes: Sequence[Any], *, messages: int, images: int, tokens: int | None) -> str:
    """A repaired history: what was changed where and why, and what is left."""
    rows = "".join(
        f"<tr><td><code>{html.escape(str(change.where))}</code></td>"
        f"<td>{html.escape(change.what.value)}</td><td>{html.escape(change.why)}</td></tr>"
        for change in changes
    )
    head = (
        f"<b>Repaired</b> &middot; {messages} message(s), {images} image(s), "
        f"{_tokens(tokens)} image tokens, {len(changes)} change(s)"
    )
    if not changes:
        return f"<div>{head}: the history was already accepted as it is</div>"
    return f"<div>{head}<table><tr><th>where</th><th>what</th><th>why</th></tr>{rows}</table></div>"


def _thumbnail(image: PreparedImage | bytes) -> str:
    if isinstance(image, PreparedImage):
        return image._repr_html_()
    uri = thumbnail_uri(image, THUMBNAIL_SIDE // 2)
    if uri is None:
        return "<i>[an image that cannot be shown]</i>"
    return f'<img src="{uri}" style="max-height:{THUMBNAIL_SIDE // 2}px">'


def conversation_html(turns: Sequence[Turn], *, model: str) -> str:
    """A history, turn by turn: who spoke, the text, and thumbnails of the images."""
    parts = []
    for role, text, images in turns:
        pictures = "".join(_thumbnail(image) for image in images)
        parts.append(
            f'<div style="margin:0.5em 0"><b>{html.escape(role)}</b>'
            f'<div style="white-space:pre-wrap">{html.escape(text)}</div>{pictures}</div>'
        )
    return (
        f'<div class="claudevision-conversation"><div><b>Conversation</b> with '
        f"{html.escape(model)}, {len(turns)} turn(s)</div>{''.join(parts)}</div>"
    )


def blocks_of(content: Any) -> tuple[str, list[bytes]]:
    """The text and the base64 images of a ``MessageParam``'s content (for display only)."""
    if isinstance(content, str):
        return content, []
    texts: list[str] = []
    images: list[bytes] = []
    for block in content or ():
        kind = block.get("type") if isinstance(block, dict) else getattr(block, "type", None)
        if kind == "text":
            texts.append(str(block["text"] if isinstance(block, dict) else block.text))
        elif kind == "image" and isinstance(block, dict):
            source = block.get("source") or {}
            if source.get("type") == "base64" and isinstance(source.get("data"), str):
                try:
                    images.append(base64.b64decode(source["data"]))
                except ValueError:
                    continue
        elif kind == "tool_result" and isinstance(block, dict):
            text, inner = blocks_of(block.get("content"))
            texts.append(text)
            images += inner
    return "\n".join(t for t in texts if t), images


def answer_markdown(text: str, *, model: str, usage: Any, images: int) -> str:
    """Claude's answer as Markdown, with a line saying what it cost in tokens."""
    line = f"{model} · {images} image(s)"
    if usage is not None:
        line += f" · {usage.input_tokens:,} input tokens · {usage.output_tokens:,} output tokens"
    return f"{text}\n\n---\n*{line}*"
