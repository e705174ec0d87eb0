"""The result of preparing one image: the block to send and everything known about it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .._core.blocks import OversizedImage, image_block
from .._core.exceptions import UnsupportedSourceError
from .._core.limits import base64_length
from .._core.models import ModelInfo, estimate_cost
from .._core.steps import Step
from .._read.sources import FileIdSource, URLSource
from .preview import card_html, decode_sent, thumbnail_uri

if TYPE_CHECKING:
    from anthropic.types import CacheControlEphemeralParam, ImageBlockParam
    from PIL import Image

__all__ = ["PreparedImage"]

Size = tuple[int, int]


@dataclass(frozen=True)
class PreparedImage:
    """One image, ready to send: the API block plus what was done and what it will cost.

    >>> from claudevision import prepare_image
    >>> img = prepare_image("photo.jpg", model="claude-sonnet-4-6")      # doctest: +SKIP
    >>> img.original_size, img.size, img.tokens                         # doctest: +SKIP
    ((4032, 3024), (1270, 952), 1564)
    >>> img.to_original(635, 476)                                       # doctest: +SKIP
    (2016.0, 1512.0)

    Sizes are ``(width, height)``. ``original_size`` is the input as a viewer shows it,
    after EXIF orientation. ``size`` is what is sent and ``model_size`` what the model
    looks at; claudevision sends exactly that size when it knows the model, so the two are
    equal and coordinates Claude returns are pixels of ``size``. All three are None for a
    URL or Files API source, which claudevision does not download.
    """

    label: str
    """How the input is named in messages and errors: a path, a prefix, an index."""
    model: ModelInfo
    """The model (and so the resolution tier) the image was prepared for."""
    media_type: str | None = None
    """What is sent, decided from the bytes; None for URL and file-id sources."""
    declared_media_type: str | None = None
    """What the caller claimed (a data-URL prefix, ``Base64Source.media_type``), if anything."""
    size: Size | None = None
    original_size: Size | None = None
    model_size: Size | None = None
    tokens: int | None = None
    """Input tokens the image costs on ``model`` (an upper bound when the model is unknown)."""
    data: bytes | None = field(default=None, repr=False)
    """The encoded image bytes that are sent (held once; base64 is made when rendered)."""
    reference: URLSource | FileIdSource | None = None
    """The URL or Files API id sent instead of bytes, for images the API fetches."""
    unchanged: bool = False
    """True when the input bytes are sent exactly as given."""
    steps: tuple[Step, ...] = ()
    """What was done to the image, in order: :mod:`claudevision.steps` values
    (``str(step)`` says it in words)."""
    cache_control: CacheControlEphemeralParam | None = None
    """Put on the block when rendered (a prompt-cache breakpoint)."""
    oversized_image: OversizedImage | None = None
    """The API's ``transformations.oversized_image`` for the block, if set."""

    @property
    def block(self) -> ImageBlockParam:
        """The ``anthropic.types.ImageBlockParam`` dict to put in a message.

        Built on each access (the base64 text is not kept beside the bytes).
        """
        if isinstance(self.reference, URLSource):
            location = {"url": self.reference.url}
        elif isinstance(self.reference, FileIdSource):
            location = {"file_id": self.reference.file_id}
        else:
            location = {}
        return image_block(
            media_type=self.media_type,
            data=self.data if self.reference is None else None,
            cache=self.cache_control,
            oversized_image=self.oversized_image,
            **location,
        )

    @property
    def source_type(self) -> str:
        """``"base64"``, ``"url"`` or ``"file"``: how the image travels."""
        return "base64" if self.reference is None else self.reference.type

    @property
    def base64_size(self) -> int:
        """Length of the base64 string sent: the number the API's byte limit applies to
        (0 when the image is sent by reference)."""
        if self.data is None or self.reference is not None:
            return 0
        return base64_length(len(self.data))

    def _scale(self) -> tuple[float, float]:
        if self.original_size is None or self.model_size is None:
            raise UnsupportedSourceError(
                f"sizes are unknown for a {self.source_type} source; coordinates can be "
                "mapped only for images claudevision prepared from bytes",
                input=self.label,
            )
        (ow, oh), (mw, mh) = self.original_size, self.model_size
        return ow / mw, oh / mh

    def to_original(self, x: float, y: float) -> tuple[float, float]:
        """Map a point Claude gave (pixels of what it saw) to pixels of the original image."""
        sx, sy = self._scale()
        return x * sx, y * sy

    def to_model(self, x: float, y: float) -> tuple[float, float]:
        """Map a point of the original image to pixels of what Claude sees (for prompts)."""
        sx, sy = self._scale()
        return x / sx, y / sy

    def box_to_original(self, box: Sequence[float]) -> tuple[float, float, float, float]:
        """Map an ``(x0, y0, x1, y1)`` box Claude gave to pixels of the original image."""
        x0, y0, x1, y1 = box
        sx, sy = self._scale()
        return x0 * sx, y0 * sy, x1 * sx, y1 * sy

    def cost(self) -> float | None:
        """Estimated US dollars for the image's tokens, where the model's price is known."""
        return None if self.tokens is None else estimate_cost(self.tokens, self.model.name)

    def _bytes(self, what: str) -> bytes:
        if self.data is None:
            raise UnsupportedSourceError(
                f"{what} needs the image's bytes; a {self.source_type} source is fetched by "
                "the API, not here: download it and prepare its bytes",
                input=self.label,
            )
        return self.data

    def to_pil(self) -> Image.Image:
        """The sent image, decoded: exactly the pixels the model will see.

        >>> prepare_image("photo.jpg", model="claude-opus-4-8").to_pil().size  # doctest: +SKIP
        (2212, 1659)
        """
        return decode_sent(self._bytes("to_pil()"))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the sent bytes, byte for byte, to ``path``; returns it as a ``Path``.

        The bytes are in ``media_type``'s format whatever the name says.
        """
        target = Path(path)
        target.write_bytes(self._bytes("save()"))
        return target

    def _repr_html_(self) -> str:
        """A notebook's view: a thumbnail of what the model sees, sizes, tokens, cost, steps."""
        return card_html(
            self.label,
            thumbnail_uri(self.data) if self.data is not None else None,
            self._rows(),
            [str(step) for step in self.steps],
        )

    def _rows(self) -> list[tuple[str, str]]:
        def size(value: Size | None) -> str:
            return "unknown" if value is None else f"{value[0]} x {value[1]}"

        if self.reference is not None:
            return [("sent as", f"{self.source_type} source (not downloaded here)")]
        cost = self.cost()
        return [
            ("media type", str(self.media_type)),
            ("original", size(self.original_size)),
            ("sent", f"{size(self.size)}, {len(self.data or b''):,} bytes"),
            ("model sees", f"{size(self.model_size)} ({self.model.name})"),
            ("tokens", "unknown" if self.tokens is None else f"{self.tokens:,}"),
            ("estimated cost", "unknown" if cost is None else f"${cost:.5f}"),
        ]

    def describe(self) -> str:
        """A few lines saying what will be sent, for logs, notebooks and the CLI."""

        def size(value: Size | None) -> str:
            return "unknown" if value is None else f"{value[0]}x{value[1]}"

        lines = [f"{self.label}"]
        if self.reference is not None:
            lines.append(f"  sent as      {self.source_type} source (not downloaded here)")
        else:
            lines += [
                f"  media type   {self.media_type}"
                + (
                    f" (declared {self.declared_media_type})"
                    if self.declared_media_type not in (None, self.media_type)
                    else ""
                ),
                f"  original     {size(self.original_size)}",
                f"  sent         {size(self.size)}, {len(self.data or b''):,} bytes "
                f"({self.base64_size:,} as base64)",
                f"  model sees   {size(self.model_size)} ({self.model.tier.name} tier, "
                f"{self.model.name})",
                f"  tokens       {'unknown' if self.tokens is None else f'{self.tokens:,}'}",
            ]
        lines += [f"  - {step}" for step in self.steps]
        return "\n".join(lines)

    def __repr__(self) -> str:
        parts = [f"label={self.label!r}", f"source={self.source_type!r}"]
        if self.media_type:
            parts.append(f"media_type={self.media_type!r}")
        if self.size:
            parts.append(f"size={self.size}")
        if self.tokens is not None:
            parts.append(f"tokens={self.tokens}")
        return f"PreparedImage({', '.join(parts)})"
