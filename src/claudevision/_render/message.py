"""A user turn with images: ``ImageMessage``, and images returned by tools.

    >>> from claudevision import ImageMessage
    >>> message = ImageMessage("Which is larger?", "a.png", "b.png",
    ...                        model="claude-sonnet-4-6")                  # doctest: +SKIP
    >>> [block["type"] for block in message.content]                       # doctest: +SKIP
    ['text', 'image', 'text', 'image', 'text']

Images come before the prompt and, when there are several, each follows a text block
"Image 1:", "Image 2:", as Anthropic's vision guide recommends.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .._core.blocks import Cache, OversizedImage, cache_control, text_block, tool_result_block
from .._core.exceptions import ConfigurationError
from .._core.limits import Bounds, Platform
from .._core.models import estimate_cost, model_info
from .._prepare.document import PreparedDocument
from .._prepare.fit import DEFAULT_QUALITY, OutputFormat, resolve
from .._prepare.fit_request import ImageSlot, fit_request
from .._prepare.metadata import METADATA_CHOICES, MetadataChoice
from .._prepare.prepared import PreparedImage
from .._read.read import ReadImage
from .._read.sources import ImageInput, describe_input
from .display import message_html

if TYPE_CHECKING:
    from anthropic.types import (
        ContentBlockParam,
        MessageParam,
        ToolResultBlockParam,
    )

__all__ = ["Cache", "ImageMessage", "ToolResult", "tool_result"]

PRUNED = "[image removed: older than the most recent images kept]"
"""What stands in for an image pruned from a long conversation (``keep_images``)."""
# Stands in for each image when the rest of a message is measured.
_PLACEHOLDER = PreparedImage(label="", model=model_info(None), media_type="image/jpeg", data=b"")


class ToolResult:
    """Images (and text) a tool returned, for a ``tool_result`` block in the next user turn.

    >>> result = ToolResult("toolu_01", "screenshot.png", text="Clicked OK")  # doctest: +SKIP
    >>> ImageMessage("", tool_results=[result], model="claude-opus-4-8")      # doctest: +SKIP
    """

    def __init__(
        self,
        tool_use_id: str,
        *images: ImageInput | ReadImage | PreparedImage | PreparedDocument,
        text: str | None = None,
        is_error: bool = False,
    ) -> None:
        if not tool_use_id:
            raise ConfigurationError("ToolResult needs the tool_use_id of the tool_use it answers")
        self.tool_use_id = tool_use_id
        self.images = images
        self.text = text
        self.is_error = is_error


def _check_message_options(
    model: object,
    oversized: object,
    tool_results: object,
    metadata: object,
    download: object = None,
    private: object = False,
) -> None:
    problems = []
    if metadata not in METADATA_CHOICES:
        problems.append(f"metadata={metadata!r}: use 'strip' (the default) or 'keep'")
    if download not in (None, True, False):
        problems.append(f"download={download!r}: use True, False or None (when needed)")
    if private not in (True, False):
        problems.append(f"allow_private={private!r}: use True or False")
    if model is not None and not isinstance(model, str):
        problems.append(f"model={model!r}: pass a model id such as 'claude-opus-4-8'")
    if oversized not in (None, "downsize", "error"):
        problems.append(f"oversized_image={oversized!r}: use 'downsize' or 'error'")
    if not isinstance(tool_results, (list, tuple)) or not all(
        isinstance(result, ToolResult) for result in tool_results
    ):
        problems.append("tool_results: pass a list of claudevision.ToolResult")
    if problems:
        raise ConfigurationError("; ".join(problems))


def _check_preparation(
    platform: str | Platform | None,
    max_bytes: int | None,
    format: OutputFormat | None,
    quality: int | None,
    bounds: Bounds | None,
) -> None:
    """Every preparation option checked now, before any image is read."""
    resolve(
        platform=platform or "anthropic",
        max_bytes=max_bytes,
        format=format,
        quality=DEFAULT_QUALITY if quality is None else quality,
        bounds=bounds,
    )


class ImageMessage:
    """A user message of images and a prompt, prepared for one model and platform.

    Plain data: it holds the prompt, the inputs and the options, and knows nothing of
    clients (send it with :class:`~claudevision.Vision`, or pass ``to_param()`` to your
    own ``client.messages.create``). Images are read once and prepared lazily, on first
    use of ``images``, ``content`` or ``to_param()``. Request-wide rules apply across the
    message: more than 20 images caps every image at 2000 px, at most 100 or 600 images,
    the body within the platform's request limit.

    ``cache`` marks the last image for prompt caching; ``oversized_image`` sets the API's
    ``transformations.oversized_image`` on every image; ``label_images`` (default: when
    there are several images) puts "Image 1:" before each. ``metadata="strip"`` (the
    default) leaves location and other personal metadata out of every image sent;
    ``"keep"`` keeps it. ``download`` and ``allow_private`` say when URL images are
    downloaded, as for :func:`~claudevision.prepare_image`.
    """

    def __init__(
        self,
        prompt: str,
        *images: ImageInput | ReadImage | PreparedImage | PreparedDocument,
        model: str | None = None,
        platform: str | Platform | None = None,
        cache: Cache = False,
        oversized_image: OversizedImage | None = None,
        label_images: bool | None = None,
        tool_results: Sequence[ToolResult] = (),
        max_bytes: int | None = None,
        format: OutputFormat | None = None,
        quality: int | None = None,
        paths: bool = True,
        bounds: Bounds | None = None,
        download: bool | None = None,
        allow_private: bool = False,
        metadata: MetadataChoice = "strip",
    ) -> None:
        if not isinstance(prompt, str):
            raise ConfigurationError(
                f"the prompt comes first and must be a str, got {describe_input(prompt)}; "
                "write ImageMessage('What is this?', image)"
            )
        if not prompt and not images and not tool_results:
            raise ConfigurationError("an ImageMessage needs a prompt, an image or a tool result")
        _check_message_options(
            model, oversized_image, tool_results, metadata, download, allow_private
        )
        _check_preparation(platform, max_bytes, format, quality, bounds)
        self.prompt, self.model, self.platform = prompt, model, platform
        self.tool_results = tuple(tool_results)
        self.label_images = len(images) > 1 if label_images is None else label_images
        self._cache_control = cache_control(cache)
        given = {
            "oversized_image": oversized_image, "max_bytes": max_bytes, "format": format,
            "quality": quality, "paths": None if paths else False, "bounds": bounds,
            "download": download, "allow_private": allow_private or None,
            "metadata": None if metadata == "strip" else metadata,
        }  # fmt: skip
        self._options: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        self.slots: tuple[ImageSlot, ...] = tuple(
            ImageSlot(item, f"image {i} ({describe_input(item)})", self._options)
            for i, item in enumerate(
                [*(image for result in self.tool_results for image in result.images), *images], 1
            )
        )

    # -- preparation -------------------------------------------------------------------

    def prepare(
        self, *, model: str | None = None, platform: str | Platform | None = None
    ) -> tuple[PreparedImage | PreparedDocument, ...]:
        """The images (and PDF documents) prepared for ``model`` and ``platform`` (default:
        the message's), one per input, in order."""
        return tuple(
            fit_request(
                self.slots,
                other_bytes=self.skeleton_bytes(),
                model=model or self.model,
                platform=platform or self.platform or "anthropic",
            )
        )

    def skeleton_bytes(self) -> int:
        """Bytes of this message's JSON without its images' data (what the images add to)."""
        placeholders = [_PLACEHOLDER] * len(self.slots)
        return len(json.dumps({"role": "user", "content": self.render(placeholders)}))

    @cached_property
    def prepared(self) -> tuple[PreparedImage | PreparedDocument, ...]:
        """Every input of the message, prepared, in the order they are sent."""
        return self.prepare()

    @property
    def images(self) -> tuple[PreparedImage, ...]:
        """Every image of the message, prepared, in the order they are sent."""
        return tuple(p for p in self.prepared if isinstance(p, PreparedImage))

    @property
    def documents(self) -> tuple[PreparedDocument, ...]:
        """The PDF documents of the message (inputs whose bytes are a PDF), checked."""
        return tuple(p for p in self.prepared if isinstance(p, PreparedDocument))

    @property
    def content(self) -> list[ContentBlockParam]:
        """The message's content blocks: tool results, then images, then the prompt."""
        return self.render(self.prepared)

    def to_param(self) -> MessageParam:
        """The ``anthropic.types.MessageParam`` dict for ``messages=[...]``."""
        return {"role": "user", "content": self.render(self.prepared)}

    def render(
        self,
        prepared: Sequence[PreparedImage | PreparedDocument | None],
        *,
        mark_cache: bool = True,
    ) -> list[ContentBlockParam]:
        """Content blocks built from ``prepared`` (one per slot, in slot order).

        ``None`` stands for an image pruned from the request: a short text takes its
        place. ``mark_cache=False`` leaves out the ``cache`` marker (a conversation keeps
        only the newest one).
        """
        last = max((i for i, image in enumerate(prepared) if image is not None), default=-1)
        marked = mark_cache and self._cache_control is not None
        blocks: list[Any] = [
            text_block(PRUNED)
            if image is None
            else replace(image, cache_control=self._cache_control).block
            if marked and i == last
            else image.block
            for i, image in enumerate(prepared)
        ]
        content: list[ContentBlockParam] = []
        position = 0
        for result in self.tool_results:
            inner: list[Any] = [text_block(result.text)] if result.text else []
            inner += blocks[position : position + len(result.images)]
            position += len(result.images)
            content.append(tool_result_block(result.tool_use_id, inner, is_error=result.is_error))
        numbers = {"image": 0, "document": 0}
        for block in blocks[position:]:
            kind = "document" if block.get("type") == "document" else "image"
            numbers[kind] += 1
            if self.label_images:
                content.append(text_block(f"{kind.title()} {numbers[kind]}:"))
            content.append(block)
        if self.prompt:
            content.append(text_block(self.prompt))
        return content

    # -- what it costs -----------------------------------------------------------------

    @property
    def tokens(self) -> int | None:
        """Input tokens of the images and documents (documents' an estimate; None when a
        URL or file-id input's size is unknown)."""
        counts = [item.tokens for item in self.prepared]
        return None if None in counts else sum(c for c in counts if c is not None)

    def cost(self) -> float | None:
        """Estimated US dollars for the images' tokens, where the model's price is known."""
        tokens = self.tokens
        if tokens is None or self.model is None:
            return None
        return estimate_cost(tokens, self.model)

    def describe(self) -> str:
        """What will be sent, image by image, with the total tokens."""
        lines = [image.describe() for image in self.images]
        tokens = self.tokens
        total = "unknown" if tokens is None else f"{tokens:,}"
        lines.append(f"{len(self.images)} image(s), {total} tokens")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """A notebook's view: each image as the model will see it, the prompt, the cost."""
        return message_html(
            self.prompt, self.images, model=self.model, tokens=self.tokens, cost=self.cost()
        )

    def __repr__(self) -> str:
        return (
            f"ImageMessage({self.prompt[:40]!r}, {len(self.slots)} image(s), model={self.model!r})"
        )


def tool_result(
    tool_use_id: str,
    *images: ImageInput,
    text: str | None = None,
    is_error: bool = False,
    model: str | None = None,
    platform: str | Platform | None = None,
    cache: Cache = False,
) -> ToolResultBlockParam:
    """A ``tool_result`` block holding images, e.g. a screenshot from a computer-use tool.

    >>> block = tool_result("toolu_01", "screen.png", model="claude-opus-4-8")  # doctest: +SKIP
    >>> messages.append({"role": "user", "content": [block]})                  # doctest: +SKIP
    """
    message = ImageMessage(
        "",
        tool_results=[ToolResult(tool_use_id, *images, text=text, is_error=is_error)],
        model=model,
        platform=platform,
        cache=cache,
    )
    block = message.content[0]
    assert block["type"] == "tool_result"
    return block
