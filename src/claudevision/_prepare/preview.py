"""A look at what will be sent, for notebooks: a small thumbnail and an HTML card.

The thumbnail is made from the very bytes that are sent (decoded, shrunk, as a ``data:``
URI), so what a notebook shows is what the model sees. Cards are built from plain values
here; the render stage lays messages, histories and answers out from them.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

from PIL import Image

from .decode import DECODE_ERRORS, quiet

__all__ = ["THUMBNAIL_SIDE", "card_html", "decode_sent", "thumbnail_uri"]

THUMBNAIL_SIDE = 384
"""The longest side of a notebook thumbnail, in pixels."""


def decode_sent(data: bytes) -> Image.Image:
    """The sent bytes decoded, as the model's decoder would see them (warnings kept quiet)."""
    with quiet():
        image = Image.open(io.BytesIO(data))
        image.load()
    return image


def thumbnail_uri(data: bytes, side: int = THUMBNAIL_SIDE) -> str | None:
    """A ``data:`` URI of the sent image shrunk to ``side`` px (None if it cannot be read)."""
    try:
        with quiet():
            opened = Image.open(io.BytesIO(data))
            if opened.format == "JPEG":
                opened.draft("RGB", (side, side))
            opened.load()
            opened.thumbnail((side, side))
            alpha = opened.mode in ("RGBA", "LA", "PA") or "transparency" in opened.info
            small = opened.convert("RGBA" if alpha else "RGB")
            buffer = io.BytesIO()
            if alpha:
                small.save(buffer, "PNG")
            else:
                small.save(buffer, "JPEG", quality=80)
    except DECODE_ERRORS:
        return None
    kind = "png" if alpha else "jpeg"
    return f"data:image/{kind};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


def card_html(
    title: str,
    thumbnail: str | None,
    rows: Sequence[tuple[str, str]],
    notes: Sequence[str] = (),
) -> str:
    """One image as a small HTML card: the thumbnail beside a table and a list of notes."""
    picture = (
        f'<img src="{thumbnail}" alt="{html.escape(title)}" '
        f'style="max-width:{THUMBNAIL_SIDE}px;max-height:{THUMBNAIL_SIDE}px;'
        'border:1px solid #ccc">'
        if thumbnail
        else '<div style="padding:1em;border:1px dashed #ccc">not downloaded here</div>'
    )
    table = "".join(
        f'<tr><th style="text-align:left;padding-right:1em">{html.escape(name)}</th>'
        f'<td style="text-align:left">{html.escape(value)}</td></tr>'
        for name, value in rows
    )
    items = "".join(f"<li>{html.escape(note)}</li>" for note in notes)
    return (
        '<div class="claudevision" style="display:flex;gap:1em;align-items:flex-start;'
        'margin:0.5em 0">'
        f"<div>{picture}</div>"
        f"<div><b>{html.escape(title)}</b><table>{table}</table>"
        + (f'<ul style="margin:0.3em 0">{items}</ul>' if items else "")
        + "</div></div>"
    )
