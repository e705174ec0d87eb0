"""Rules that apply to a whole request rather than one image.

- at most 100 (200k-context models) or 600 images in one request;
- more than 20 images in the request: every image at most 2000 px per side (the count
  covers every turn re-sent and images inside ``tool_result`` blocks);
- the whole body within the platform's request limit, counting every parameter of the
  request: when the images together are too large, the largest are given equal, smaller
  byte budgets (water-filling) so that the small ones keep their quality.

Prepare-stage logic: each :class:`ImageSlot` reads its input once and keeps every
preparation it made, so applying a tighter rule later costs only the images it changes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from .._core.exceptions import (
    RequestTooLargeError,
    TooManyImagesError,
    TooManyPagesError,
    UnsupportedSourceError,
    about,
)
from .._core.limits import DEFAULT_BOUNDS, Platform, get_platform
from .._core.models import model_info
from .._core.steps import ResizeReason, SharedBudget
from .._read.read import (
    ImageBytes,
    ImageReference,
    ReadImage,
    fetch_reference,
    plain_http,
    read_image,
)
from .._read.sources import ImageInput, URLSource
from .document import PreparedDocument, max_pdf_pages, prepare_document
from .fit import resolve
from .pdf import is_pdf
from .prepare import prepare, reuse, run_parallel
from .prepared import PreparedImage

__all__ = [
    "MIN_FAIR_SHARE",
    "ImageSlot",
    "fit_request",
    "max_images",
    "prepare",
    "water_level",
]

# JSON around each image block, generously counted (the data itself is counted exactly).
_BLOCK_OVERHEAD = 256
# Render options an image slot carries that are not preparation options.
_NOT_FIT = frozenset({"oversized_image", "paths", "download", "allow_private"})
# Below this many base64 bytes per image a fair share is useless: better to say so.
MIN_FAIR_SHARE = 8192


@dataclass(eq=False)
class ImageSlot:
    """One image of a request: its input, read once, and its preparations so far."""

    input: ImageInput | ReadImage | PreparedImage | PreparedDocument
    label: str
    options: dict[str, Any] = field(default_factory=dict)
    """The image's own options (format, quality, max_bytes, bounds, paths, ...); request
    limits tighten them."""
    _read: ReadImage | None = field(default=None, repr=False)
    _done: dict[tuple[Any, bool], PreparedImage] = field(default_factory=dict, repr=False)
    _documents: dict[Any, PreparedDocument] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled as its input and options (a batch prepares it in another process)."""
        return {"input": self.input, "label": self.label, "options": self.options}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["input"], state["label"], state["options"])  # type: ignore[misc]

    def read(self) -> ReadImage:
        """The input read once (a file object is never read twice, even from two threads)."""
        with self._lock:
            return self._read_once()

    def _read_once(self) -> ReadImage:
        if self._read is None:
            source = self.input
            if isinstance(source, PreparedDocument):
                source = (
                    ImageReference(source.reference, self.label)
                    if source.reference is not None
                    else ImageBytes(source.data or b"", self.label, "application/pdf")
                )
            if isinstance(source, PreparedImage):  # its bytes, as a fresh input
                source = (
                    ImageReference(source.reference, self.label)
                    if source.reference is not None
                    else ImageBytes(source.data or b"", self.label, source.media_type)
                )
            self._read = read_image(
                source,
                label=self.label,
                paths=self.options.get("paths", True),
                bounds=self._bounds,
                download=self.options.get("download") is True
                or (self.options.get("download") is None and plain_http(source)),
                allow_private=self.options.get("allow_private", False),
            )
        return self._read

    @property
    def _bounds(self) -> Any:
        return self.options.get("bounds") or DEFAULT_BOUNDS

    def _downloaded(self) -> ReadImage:
        """The input read, a URL downloaded into bytes (once, whichever thread asks)."""
        with self._lock:
            read = self._read_once()
            if isinstance(read, ImageReference) and isinstance(read.source, URLSource):
                if self.options.get("download") is False:
                    raise UnsupportedSourceError(
                        "this request needs the image's bytes (its platform or endpoint "
                        "takes base64 only, or it holds more than 20 images and every size "
                        "must be known); leave download unset or True to fetch it here"
                    )
                read = fetch_reference(
                    read,
                    bounds=self._bounds,
                    allow_private=self.options.get("allow_private", False),
                )
                self._read = read
            return read

    def prepare(
        self, *, need_bytes: bool = False, inline: bool = False, **limits: Any
    ) -> PreparedImage:
        """The image prepared under ``limits``, reusing an earlier identical preparation.

        ``need_bytes``: the request must know the image's bytes (a URL is downloaded);
        ``inline``: it takes base64 only (an uploaded image goes by its bytes).
        """
        options = {k: v for k, v in self.options.items() if k not in _NOT_FIT}
        options.update(limits)
        for name in ("max_side", "max_bytes"):
            if self.options.get(name) is not None and limits.get(name) is not None:
                options[name] = min(self.options[name], limits[name])
        fit = resolve(**options)
        reference = self._reference()
        if reference is not None and (need_bytes or self.options.get("download") is True):
            read: ReadImage | None = self._downloaded()
        else:
            read = None
        given = self.input
        if inline and isinstance(given, PreparedImage) and given.data is not None:
            given = replace(given, reference=None)  # an uploaded image, by its bytes
        key = (fit, read is not None or given is not self.input)
        if key not in self._done:
            if read is not None:
                self._done[key] = prepare(read, fit)
            elif isinstance(given, PreparedImage):
                self._done[key] = reuse(given, fit)
            else:
                self._done[key] = prepare(self.read(), fit)
        prepared = self._done[key]
        oversized = self.options.get("oversized_image")
        return prepared if oversized is None else replace(prepared, oversized_image=oversized)

    def document(self, *, model: str | None, platform: Platform) -> PreparedDocument | None:
        """The input as a PDF document checked for ``model`` on ``platform``, or None when
        it is not a PDF. A ``PreparedDocument`` keeps its title, context and citations."""
        key = ("document", model, platform)
        if key in self._documents:
            return self._documents[key]
        given = self.input
        if isinstance(given, PreparedDocument):
            source: Any = given.reference or ImageBytes(given.data or b"", self.label, None)
        else:
            source = self.read()
            if not (isinstance(source, ImageBytes) and is_pdf(source.data)):
                return None
        with self._lock:
            made = prepare_document(
                source, model=model, platform=platform, bounds=self._bounds,
                allow_private=self.options.get("allow_private", False),
            )  # fmt: skip
        if isinstance(given, PreparedDocument):
            made = replace(made, title=given.title, context=given.context)
            made = replace(made, citations=given.citations, cache_control=given.cache_control)
        self._documents[key] = made
        return made

    def known_document(self) -> PreparedDocument | None:
        """The checked document this slot turned out to hold, once a request found it."""
        if isinstance(self.input, PreparedDocument):
            return self.input
        return next(iter(self._documents.values()), None)

    def _reference(self) -> URLSource | None:
        """The URL the input names, when it is one the API would fetch itself."""
        if isinstance(self.input, PreparedImage):
            reference = self.input.reference
            return reference if isinstance(reference, URLSource) else None
        read = self.read()
        if isinstance(read, ImageReference) and isinstance(read.source, URLSource):
            return read.source
        return None


def max_images(model: str | None, platform: Platform) -> int:
    """Images one request may hold for ``model``; 100 when its context window is unknown."""
    context = model_info(model).context_window
    if context is not None and context > 200_000:
        return platform.images_per_request_large_context
    return platform.images_per_request_small_context


def water_level(sizes: Sequence[int], available: int) -> int:
    """The largest cap with ``sum(min(size, cap)) <= available``."""
    remaining, left = available, len(sizes)
    for size in sorted(sizes):
        if size * left <= remaining:
            remaining -= size
            left -= 1
        else:
            return remaining // left
    return max(sizes, default=0)


def fit_request(
    slots: Sequence[ImageSlot],
    *,
    other_bytes: int = 0,
    other_images: int = 0,
    model: str | None,
    platform: str | Platform,
    inline: bool = False,
) -> list[PreparedImage | PreparedDocument]:
    """Prepare every image of one request so the request as a whole is accepted.

    ``other_bytes``: the size of the rest of the body (messages without their images,
    system, tools, ...); ``other_images``: images already in it (dict turns).
    ``inline=True``: base64 only (``count_tokens``). URL images are downloaded where
    bytes are needed: ``inline``, no url sources, more than 20 images."""
    target = get_platform(platform)
    documents = run_parallel([partial(_document, slot, model, target) for slot in slots])
    images = [slot for slot, document in zip(slots, documents, strict=True) if document is None]
    pages = sum(document.pages or 0 for document in documents if document is not None)
    count = len(images) + other_images
    _check_count(count, model, target, pages)
    many = len(slots) + other_images > target.many_images_threshold
    need_bytes = inline or many or "url" not in target.source_types
    common: dict[str, Any] = {
        "model": model, "platform": target, "need_bytes": need_bytes, "inline": inline
    }  # fmt: skip
    if many:
        common["max_side"] = target.many_images_max_side
        common["side_reason"] = ResizeReason.MANY_IMAGES
    done = iter(run_parallel([partial(_labelled, slot, common) for slot in images]))
    every = [document or next(done) for document in documents]
    prepared = [p for p in every if isinstance(p, PreparedImage)]

    fixed = other_bytes + _BLOCK_OVERHEAD * (count + len(slots) - len(images))
    fixed += sum(len(p.reference.model_dump_json()) for p in every if p.reference)
    fixed += sum(
        p.base64_size + len(json.dumps([p.title, p.context]))
        for p in every
        if isinstance(p, PreparedDocument)
    )
    sizes = [p.base64_size for p in prepared]
    total = fixed + sum(sizes)
    if total <= target.max_request_bytes:
        return every

    common["count"] = count
    shrunk = _share(images, prepared, sizes, target.max_request_bytes - fixed, total, common)
    refitted = iter(shrunk)
    return [p if isinstance(p, PreparedDocument) else next(refitted) for p in every]


def _share(
    slots: Sequence[ImageSlot],
    prepared: list[PreparedImage],
    sizes: list[int],
    available: int,
    total: int,
    common: dict[str, Any],
) -> list[PreparedImage]:
    """The largest images re-fitted to equal, smaller byte budgets (water-filling)."""
    common = dict(common)
    target: Platform = common["platform"]
    count: int = common.pop("count")
    share = water_level([s for s in sizes if s], available)
    if share < MIN_FAIR_SHARE:
        raise RequestTooLargeError(
            f"the request would be {total:,} bytes, over {target.name}'s "
            f"{target.max_request_bytes:,} byte limit, and {count} images cannot share "
            f"the room left ({available:,} bytes). "
            "Send fewer images per request or use Files API ids."
        )
    too_big = [i for i, size in enumerate(sizes) if size > share]
    shrunk = run_parallel(
        [partial(_labelled, slots[i], dict(common, max_bytes=share)) for i in too_big]
    )
    note = SharedBudget(share, count, target.name, target.max_request_bytes)
    for i, image in zip(too_big, shrunk, strict=True):
        prepared[i] = replace(image, steps=(*image.steps, note))
    return prepared


def _check_count(count: int, model: str | None, target: Platform, pages: int = 0) -> None:
    page_limit = max_pdf_pages(model, target)
    if pages > page_limit:
        raise TooManyPagesError(
            f"{pages} PDF pages in one request; {model_info(model).name} takes at most "
            f"{page_limit}. Split the documents across requests."
        )
    limit = max_images(model, target)
    if count + pages > limit:
        media = f"{pages} document pages + {count} images" if pages else f"{count} images"
        raise TooManyImagesError(
            f"{media} in one request; {model_info(model).name} on {target.name} takes at "
            f"most {limit}. Split them across requests of at most {limit}."
        )


def _document(slot: ImageSlot, model: str | None, target: Platform) -> PreparedDocument | None:
    with about(slot.label):
        return slot.document(model=model, platform=target)


def _labelled(slot: ImageSlot, limits: dict[str, Any]) -> PreparedImage:
    with about(slot.label):
        return slot.prepare(**limits)
