"""PDFs checked with PDFium (``pypdfium2``, the ``pdf`` extra): what the API will refuse,
known before the call, and pages rendered at the model's exact size.

Pure CPU over bytes. A PDF is sent only when PDFium opens it, it has no encryption at all
(the API refuses encrypted PDFs, even those that open without a password or whose
``/Encrypt`` entry PDFium ignores), and every page is in its page tree with a usable size;
a damaged PDF that PDFium still opens this way is sent as it is (the API renders PDFs
itself, and this is the check closest to its own), one it cannot open is refused.
Checking never parses a page's content (a few kilobytes of compressed content can
inflate to gigabytes); drawing a page does, only for pages asked for. Nothing in a PDF
runs: PDFium here executes no JavaScript and fetches nothing.

Tokens per page are an **estimate** (``count_tokens`` gives the exact figure): the API
sends the model each page as an image and as its text; the estimate counts the image at
the model's resolution tier (the page fitted to the tier, as :func:`render_page` draws
it). The text is not counted: knowing it means parsing the page.
"""

from __future__ import annotations

import ctypes
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._core.exceptions import (
    ConfigurationError,
    CorruptPDFError,
    EncryptedPDFError,
    ImageTooLargeError,
    MissingDependencyError,
    NotAPDFError,
    TooManyPagesError,
)
from .._core.geometry import model_size, visual_tokens
from .._core.limits import Bounds, Tier

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["PdfFacts", "is_pdf", "open_pdf", "page_tokens", "render_for_tiles", "render_page"]

_CHARS_PER_TOKEN = 4
# Pages per PDF ever looked at, whatever the model: the API's largest page limit.
_MAX_PAGES = 600
_POINTS_PER_INCH = 72
# PDFium is not thread-safe: one call into it at a time, process-wide.
_PDFIUM = threading.Lock()
_SLICE = 0.05  # seconds PDFium draws before the deadline is looked at again
_clock = time.monotonic
# An /Encrypt entry in a trailer or cross-reference stream, even one PDFium ignores.
_ENCRYPT = re.compile(rb"(?:trailer\s*<<|/Type\s*/XRef)[^>]{0,4096}?/Encrypt\b")


def is_pdf(data: bytes) -> bool:
    """True when ``data`` starts (within its first KiB, as readers allow) with ``%PDF-``."""
    return b"%PDF-" in data[:1024]


@dataclass(frozen=True)
class PdfFacts:
    """What checking a PDF found: its pages' sizes (points) and text lengths."""

    page_sizes: tuple[tuple[float, float], ...]
    text_chars: tuple[int, ...]

    @property
    def pages(self) -> int:
        return len(self.page_sizes)


def _pdfium() -> Any:
    try:
        import pypdfium2
    except ImportError:
        raise MissingDependencyError(
            "PDFs need the pdf extra (pypdfium2): pip install -e '.[pdf]' from a clone"
        ) from None
    return pypdfium2


@contextmanager
def _opened(data: bytes) -> Iterator[Any]:
    pdfium = _pdfium()
    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                raise EncryptedPDFError(
                    "the PDF is encrypted (it needs a password); the API takes no encrypted "
                    "PDFs: save an unencrypted copy"
                ) from None
            raise CorruptPDFError(f"PDFium cannot open the PDF ({exc})") from None
        try:
            yield document
        finally:
            document.close()


def open_pdf(data: bytes, *, bounds: Bounds) -> PdfFacts:
    """Check ``data`` is a PDF the API takes, and measure its pages."""
    if not is_pdf(data):
        raise NotAPDFError("the bytes are not a PDF (no %PDF- header); pass a PDF file")
    if len(data) > bounds.max_input_bytes:
        raise ImageTooLargeError(
            f"the PDF holds {len(data):,} bytes, over the {bounds.max_input_bytes:,} byte bound"
        )
    with _opened(data) as document:
        raw = _pdfium().raw
        if raw.FPDF_GetSecurityHandlerRevision(document.raw) != -1 or _ENCRYPT.search(data):
            raise EncryptedPDFError(
                "the PDF is encrypted (an owner password or permissions); the API takes no "
                "encrypted PDFs: save an unencrypted copy"
            )
        count = len(document)
        if count < 1:
            raise CorruptPDFError("the PDF has no pages")
        if count > _MAX_PAGES:
            raise TooManyPagesError(
                f"the PDF has {count:,} pages; no model takes more than {_MAX_PAGES} in one "
                "request. Split it, or send chosen pages with pdf_pages()"
            )
        sizes = tuple(_size(raw, document, index) for index in range(count))
    return PdfFacts(sizes, (0,) * count)


def _size(raw: Any, document: Any, index: int) -> tuple[float, float]:
    """A page's size in points, read from the page tree: its content is never parsed
    here (a few kilobytes of compressed content can inflate to gigabytes)."""
    size = raw.FS_SIZEF()
    if not raw.FPDF_GetPageSizeByIndexF(document.raw, index, ctypes.byref(size)):
        raise CorruptPDFError(f"page {index + 1} cannot be found in the page tree")
    width, height = float(size.width), float(size.height)
    if not (width > 0 and height > 0) or not (width < 1e7 and height < 1e7):
        raise CorruptPDFError(f"page {index + 1} has no usable size ({width}x{height} points)")
    return width, height


def page_tokens(size: tuple[float, float], text_chars: int, tier: Tier) -> int:
    """The estimated tokens of one page: its image at ``tier`` plus ``text_chars`` of text
    (0 when the text is not known)."""
    width, height = _fitted(size, tier)
    return visual_tokens(width, height) + -(-text_chars // _CHARS_PER_TOKEN)


def _fitted(size: tuple[float, float], tier: Tier) -> tuple[int, int]:
    """The pixel size a page is drawn at for ``tier``: as large as the model looks."""
    width, height = size
    scale = (tier.max_edge * 4) / max(width, height)  # larger than needed, then fitted
    return model_size(max(1, round(width * scale)), max(1, round(height * scale)), tier)


def render_page(data: bytes, index: int, tier: Tier, bounds: Bounds) -> Image.Image:
    """Page ``index`` (0-based) drawn at exactly the size the model sees it for ``tier``."""
    width, height = _fitted(_page_size(data, index), tier)
    return _render(data, index, (width, height), bounds)


def render_for_tiles(data: bytes, index: int, tier: Tier, bounds: Bounds) -> Image.Image:
    """Page ``index`` drawn with its short side at the tier's long edge: sharp enough to
    cut into tiles the model sees at full detail (a tall receipt, a long statement)."""
    points_w, points_h = _page_size(data, index)
    scale = tier.max_edge / min(points_w, points_h)
    size = (max(1, round(points_w * scale)), max(1, round(points_h * scale)))
    return _render(data, index, size, bounds)


def _render(data: bytes, index: int, size: tuple[int, int], bounds: Bounds) -> Image.Image:
    width, height = size
    if width * height > bounds.max_pixels:
        raise ImageTooLargeError(
            f"page {index + 1} would be {width}x{height} pixels, over Bounds.max_pixels"
        )
    raw = _pdfium().raw
    with _opened(data) as document:
        page = document[index]
        bitmap = raw.FPDFBitmap_Create(width, height, 0)
        try:
            raw.FPDFBitmap_FillRect(bitmap, 0, 0, width, height, 0xFFFFFFFF)
            _draw(raw, page.raw, bitmap, size, bounds.render_seconds, index)
            stride = raw.FPDFBitmap_GetStride(bitmap)
            pixels = ctypes.string_at(raw.FPDFBitmap_GetBuffer(bitmap), stride * height)
        finally:
            raw.FPDFBitmap_Destroy(bitmap)
            page.close()
    from PIL import Image as PILImage

    return PILImage.frombuffer("RGB", size, pixels, "raw", "BGRX", stride, 1)


def _draw(
    raw: Any, page: Any, bitmap: Any, size: tuple[int, int], seconds: int, index: int
) -> None:
    """Draw the page in slices, giving up past ``seconds`` (PDFium pauses between them)."""
    deadline = _clock() + seconds
    slice_end = [_clock() + _SLICE]

    def pause_now(_: Any) -> int:
        return int(_clock() > slice_end[0])

    callback = dict(raw.IFSDK_PAUSE._fields_)["NeedToPauseNow"](pause_now)
    pause = raw.IFSDK_PAUSE(version=1, NeedToPauseNow=callback)
    status = raw.FPDF_RenderPageBitmap_Start(
        bitmap, page, 0, 0, size[0], size[1], 0, raw.FPDF_ANNOT, ctypes.byref(pause)
    )
    try:
        while status == raw.FPDF_RENDER_TOBECONTINUED:
            if _clock() > deadline:
                raise ImageTooLargeError(
                    f"page {index + 1} took over {seconds} s to draw "
                    "(Bounds.render_seconds); the page is too complex"
                )
            slice_end[0] = _clock() + _SLICE
            status = raw.FPDF_RenderPage_Continue(page, ctypes.byref(pause))
    finally:
        raw.FPDF_RenderPage_Close(page)
    if status != raw.FPDF_RENDER_DONE:
        raise CorruptPDFError(f"page {index + 1} cannot be drawn")


def _page_size(data: bytes, index: int) -> tuple[float, float]:
    with _opened(data) as document:
        if not 0 <= index < len(document):
            raise CorruptPDFError(f"there is no page {index + 1} (the PDF has {len(document)})")
        page = document[index]
        try:
            width, height = page.get_size()
        finally:
            page.close()
    return float(width), float(height)


def chosen_pages(pages: Sequence[int] | None, count: int) -> list[int]:
    """0-based indexes of ``pages`` (1-based, as people number pages), checked."""
    if pages is None:
        return list(range(count))
    chosen = []
    for number in pages:
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= count:
            raise ConfigurationError(f"there is no page {number!r}: the PDF has pages 1 to {count}")
        chosen.append(number - 1)
    return chosen
