"""PDF documents: checked ``document`` blocks, and pages as images where coordinates matter.

    >>> from claudevision import prepare_document, pdf_pages
    >>> report = prepare_document("report.pdf", model="claude-sonnet-4-6")   # doctest: +SKIP
    >>> report.pages, report.tokens                                         # doctest: +SKIP
    (12, 21840)
    >>> page = pdf_pages("report.pdf", [3], model="claude-opus-4-8")[0]     # doctest: +SKIP
    >>> page.to_points(812, 400)      # a point Claude gave, in PDF points  # doctest: +SKIP
    (296.2, 145.9)

Everything the API refuses is refused here first, each with its own error: not a PDF,
one PDFium cannot open, encryption, more pages than the model takes, more bytes than the
platform's request takes. Tokens are an estimate (see :mod:`.pdf`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._core.blocks import document_block
from .._core.exceptions import (
    ConfigurationError,
    NotAPDFError,
    RequestTooLargeError,
    TooManyPagesError,
    UnsupportedSourceError,
    about,
)
from .._core.limits import DEFAULT_BOUNDS, Bounds, Platform, base64_length, get_platform
from .._core.models import ModelInfo, model_info
from .._core.transform import Transform
from .._read.read import ImageBytes, ImageReference, ReadImage, read_image
from .._read.sources import FileIdSource, ImageInput, URLSource, describe_input
from .pdf import chosen_pages, open_pdf, page_tokens, render_for_tiles, render_page
from .prepare import prepare_image
from .prepared import PreparedImage
from .tiles import DEFAULT_MAX_TILES, Tile, tile_image

if TYPE_CHECKING:
    from anthropic.types import CacheControlEphemeralParam, DocumentBlockParam

__all__ = [
    "Page",
    "PreparedDocument",
    "max_pdf_pages",
    "pdf_page_tiles",
    "pdf_pages",
    "prepare_document",
]

_BLOCK_OVERHEAD = 1024


def max_pdf_pages(model: str | None, platform: Platform) -> int:
    """PDF pages one request may hold: 600, or 100 under a 1M-token context."""
    context = model_info(model).context_window
    if context is not None and context >= 1_000_000:
        return platform.pdf_pages_large_context
    return platform.pdf_pages_small_context


@dataclass(frozen=True)
class PreparedDocument:
    """One PDF, ready to send as a ``document`` block, with its pages counted.

    ``pages``, ``page_sizes`` (points) and ``tokens`` (an estimate) are None for a URL or
    Files API document claudevision did not download.
    """

    label: str
    model: ModelInfo
    data: bytes | None = field(default=None, repr=False)
    reference: URLSource | FileIdSource | None = None
    pages: int | None = None
    page_sizes: tuple[tuple[float, float], ...] | None = None
    page_tokens: tuple[int, ...] | None = None
    title: str | None = None
    context: str | None = None
    citations: bool | None = None
    cache_control: CacheControlEphemeralParam | None = None

    @property
    def tokens(self) -> int | None:
        """Estimated input tokens of the whole document (``count_tokens`` is exact)."""
        return None if self.page_tokens is None else sum(self.page_tokens)

    @property
    def source_type(self) -> str:
        return "base64" if self.reference is None else self.reference.type

    @property
    def base64_size(self) -> int:
        """Length of the base64 text sent (0 when sent by reference)."""
        if self.data is None or self.reference is not None:
            return 0
        return base64_length(len(self.data))

    @property
    def block(self) -> DocumentBlockParam:
        """The ``anthropic.types.DocumentBlockParam`` dict to put in a message."""
        location: dict[str, str] = {}
        if isinstance(self.reference, URLSource):
            location = {"url": self.reference.url}
        elif isinstance(self.reference, FileIdSource):
            location = {"file_id": self.reference.file_id}
        return document_block(
            data=self.data if self.reference is None else None,
            title=self.title,
            context=self.context,
            citations=self.citations,
            cache=self.cache_control,
            **location,
        )

    def describe(self) -> str:
        """A few lines saying what will be sent."""
        if self.pages is None:
            return f"{self.label}\n  sent as      {self.source_type} document (not read here)"
        return (
            f"{self.label}\n  PDF          {self.pages} pages, {len(self.data or b''):,} bytes "
            f"({self.base64_size:,} as base64)\n  tokens       about {self.tokens:,} "
            f"(estimate; {self.model.name})"
        )

    def __repr__(self) -> str:
        return (
            f"PreparedDocument(label={self.label!r}, source={self.source_type!r}, "
            f"pages={self.pages}, tokens={self.tokens})"
        )


def prepare_document(
    document: ImageInput | ReadImage,
    *,
    model: str | None = None,
    platform: str | Platform = "anthropic",
    title: str | None = None,
    context: str | None = None,
    citations: bool | None = None,
    cache_control: CacheControlEphemeralParam | None = None,
    label: str | None = None,
    paths: bool = True,
    bounds: Bounds | None = None,
    download: bool | None = None,
    allow_private: bool = False,
) -> PreparedDocument:
    """Check a PDF (path, bytes, file object, base64, data URL, URL or Files API id) and
    make its ``document`` block. URLs follow the rules of :func:`prepare_image`."""
    target, limits = get_platform(platform), bounds or DEFAULT_BOUNDS
    name = label or describe_input(document)
    with about(name):
        read = _read(document, name, paths, limits, target, download, allow_private)
        info = model_info(model)
        extras = {"title": title, "context": context, "citations": citations,
                  "cache_control": cache_control}  # fmt: skip
        if isinstance(read, ImageReference):
            if read.source.type not in target.source_types:
                raise UnsupportedSourceError(
                    f"{target.name} takes documents only as base64, not {read.source.type}; "
                    "pass the PDF's bytes or path"
                )
            return PreparedDocument(name, info, reference=read.source, **extras)  # type: ignore[arg-type]
        data = read.data if hasattr(read, "data") else b""
        facts = open_pdf(data, bounds=limits)
        _check(facts.pages, len(data), model, target)
        tokens = tuple(
            page_tokens(size, chars, info.tier)
            for size, chars in zip(facts.page_sizes, facts.text_chars, strict=True)
        )
        return PreparedDocument(
            name,
            info,
            data,
            None,
            facts.pages,
            facts.page_sizes,
            tokens,
            **extras,  # type: ignore[arg-type]
        )


def _read(
    document: ImageInput | ReadImage,
    name: str,
    paths: bool,
    bounds: Bounds,
    target: Platform,
    download: bool | None,
    allow_private: bool,
) -> ReadImage:
    fetch = download if download is not None else "url" not in target.source_types
    return read_image(
        document, label=name, paths=paths, bounds=bounds, download=fetch,
        allow_private=allow_private,
    )  # fmt: skip


def _bytes_of(read: ReadImage) -> bytes:
    if isinstance(read, ImageBytes):
        return read.data
    raise NotAPDFError("a PIL image or array is not a PDF; pass the PDF's path or bytes")


def _check(pages: int, size: int, model: str | None, target: Platform) -> None:
    limit = max_pdf_pages(model, target)
    if pages > limit:
        raise TooManyPagesError(
            f"the PDF has {pages} pages; {model_info(model).name} takes at most {limit} PDF "
            f"pages in one request (the API: 'A maximum of {limit} PDF pages may be "
            "provided'). Split it, or send chosen pages with pdf_pages()"
        )
    if base64_length(size) + _BLOCK_OVERHEAD > target.max_request_bytes:
        raise RequestTooLargeError(
            f"the PDF is {base64_length(size):,} bytes as base64, over {target.name}'s "
            f"{target.max_request_bytes:,} byte request limit; split it or upload it with "
            "the Files API"
        )


@dataclass(frozen=True)
class Page:
    """One PDF page as an image at the model's exact size, and the way back to the page.

    ``transform`` maps pixels of ``image`` (what Claude's coordinates are in) to points of
    the page as displayed (rotation applied), from the top-left of its crop box, y
    downward; for an unrotated page whose box starts at (0, 0), user space is
    ``(x, height - y)``.
    """

    number: int
    """1-based, as people number pages."""
    image: PreparedImage
    transform: Transform
    size_points: tuple[float, float]

    def to_points(self, x: float, y: float) -> tuple[float, float]:
        """A point Claude gave on this page, in PDF points."""
        return self.transform.to_screen(x, y)

    def box_to_points(self, box: Sequence[float]) -> tuple[float, float, float, float]:
        """An ``(x0, y0, x1, y1)`` box Claude gave, in PDF points."""
        x0, y0 = self.to_points(box[0], box[1])
        x1, y1 = self.to_points(box[2], box[3])
        return x0, y0, x1, y1


def pdf_pages(
    document: ImageInput | ReadImage,
    pages: Sequence[int] | None = None,
    *,
    model: str | None = None,
    platform: str | Platform = "anthropic",
    label: str | None = None,
    paths: bool = True,
    bounds: Bounds | None = None,
    download: bool | None = None,
    allow_private: bool = False,
) -> list[Page]:
    """Pages of a PDF (1-based numbers; all by default) drawn at the model's exact size.

    The API rasterises document pages at sizes you do not control, so boxes Claude gives
    for a ``document`` block cannot be mapped back; for these images they can.
    """
    if pages is not None and (isinstance(pages, (str, bytes)) or not isinstance(pages, Sequence)):
        raise ConfigurationError("pages= takes a list of page numbers, e.g. [1, 3]")
    target, limits = get_platform(platform), bounds or DEFAULT_BOUNDS
    name = label or describe_input(document)
    with about(name):
        read = _read(document, name, paths, limits, target, True, allow_private)
        data = _bytes_of(read)
        facts = open_pdf(data, bounds=limits)
        tier = model_info(model).tier
        result = []
        for index in chosen_pages(pages, facts.pages):
            image = render_page(data, index, tier, limits)
            prepared = prepare_image(
                image, model=model, platform=target, label=f"{name} page {index + 1}"
            )
            width, height = facts.page_sizes[index]
            sent = prepared.size or image.size
            transform = Transform(scale_x=width / sent[0], scale_y=height / sent[1])
            result.append(Page(index + 1, prepared, transform, (width, height)))
        return result


def pdf_page_tiles(
    document: ImageInput | ReadImage,
    page: int,
    *,
    model: str | None = None,
    platform: str | Platform = "anthropic",
    overlap: float = 0.05,
    max_tiles: int = DEFAULT_MAX_TILES,
    label: str | None = None,
    paths: bool = True,
    bounds: Bounds | None = None,
    download: bool | None = None,
    allow_private: bool = False,
) -> list[Tile]:
    """One tall (or wide) page (1-based) cut into tiles the model sees at full detail, as
    :func:`~claudevision.tile_image` cuts a long screenshot; each tile's ``transform`` maps
    what Claude gives to PDF points from the page's top-left corner, y downward."""
    target, limits = get_platform(platform), bounds or DEFAULT_BOUNDS
    name = label or describe_input(document)
    with about(name):
        data = _bytes_of(_read(document, name, paths, limits, target, True, allow_private))
        facts = open_pdf(data, bounds=limits)
        (index,) = chosen_pages([page], facts.pages)
        tier = model_info(model).tier
        image = render_for_tiles(data, index, tier, limits)
        return tile_image(
            image, model=model, platform=target, overlap=overlap, max_tiles=max_tiles,
            device_pixel_ratio=image.size[0] / facts.page_sizes[index][0],
            label=f"{name} page {index + 1}", bounds=limits,
        )  # fmt: skip
