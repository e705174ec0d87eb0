"""Repair a whole Messages API history, so one bad image never bricks a conversation.

    >>> from claudevision import repair_messages
    >>> repaired = repair_messages(history, model="claude-opus-4-8")     # doctest: +SKIP
    >>> client.messages.create(model="claude-opus-4-8", max_tokens=1024,
    ...                        messages=repaired.messages)              # doctest: +SKIP
    >>> for change in repaired.changes:                                 # doctest: +SKIP
    ...     print(change)   # messages[4].content[0].content[1]: refitted: over 8000 px ...

Every request rule is applied to the whole history, user turns and ``tool_result``
contents alike: the media type against the bytes, the platform's bytes per image, 8000 px
per side, 2000 px once the request holds more than 20 images, the image count, the request
size. What can be fixed is fixed (the media type corrected, the image re-fitted); what
cannot be decoded is replaced by a short text saying an image was removed and why. Images
that are already valid are left exactly as they were, so prompt caches stay valid.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from .._core.blocks import document_block, image_block, text_block
from .._core.exceptions import (
    ClaudeVisionError,
    ConfigurationError,
    ImageInputError,
    ImageTooLargeError,
    LimitError,
    MissingDependencyError,
    NotAnImageError,
    RequestTooLargeError,
    TooManyImagesError,
    TooManyPagesError,
    about,
)
from .._core.geometry import model_size, visual_tokens
from .._core.limits import DEFAULT_BOUNDS, Bounds, Platform, base64_length, get_platform
from .._core.models import model_info
from .._core.steps import ResizeReason, Step
from .._prepare.document import max_pdf_pages
from .._prepare.fit import resolve
from .._prepare.fit_request import MIN_FAIR_SHARE, max_images, water_level
from .._prepare.pdf import open_pdf
from .._prepare.prepare import prepare, run_parallel
from .._prepare.verify import assess, image_size
from .._read.download import download
from .._read.read import ImageBytes
from .._read.sources import URLSource, decode_base64
from .display import repaired_html

if TYPE_CHECKING:
    from anthropic.types import MessageParam

__all__ = [
    "Change",
    "ChangeKind",
    "Location",
    "Repaired",
    "as_param",
    "count_images",
    "document_blocks",
    "has_documents",
    "image_blocks",
    "prune_images",
    "pruned_count",
    "repair_messages",
]

_REQUEST_OVERHEAD = 1024


@dataclass(frozen=True, order=True)
class Location:
    """Where an image block is: ``messages[message].content[block]``, and inside a
    ``tool_result`` block ``.content[inner]``."""

    message: int
    block: int
    inner: int | None = None

    def __str__(self) -> str:
        inside = "" if self.inner is None else f".content[{self.inner}]"
        return f"messages[{self.message}].content[{self.block}]{inside}"


class ChangeKind(Enum):
    """What was done to an image."""

    RETYPED = "retyped"
    """The image was fine; its ``media_type`` or base64 text was corrected, bytes kept."""
    REFITTED = "refitted"
    """Re-prepared (re-encoded, resized or shrunk) so the API accepts it."""
    REPLACED = "replaced"
    """Could not be used (damaged, not an image, a source the platform refuses, in an
    assistant turn): replaced by a short text saying so."""
    CONVERTED = "converted"
    """An image part of another SDK's shape made a Claude image block (``from_openai``):
    what had no Claude equivalent (``detail``) was dropped."""
    INLINED = "inlined"
    """A URL image downloaded and sent as base64: the platform or endpoint takes no URLs,
    or the request holds more than 20 images and its size had to be known."""
    PRUNED = "pruned"
    """Removed to keep only the most recent images (``keep_images``)."""
    DROPPED = "dropped"
    """Removed because the request held more images than the model takes
    (``drop_oldest=True``)."""


@dataclass(frozen=True)
class Change:
    """One change: where, what and why (and the pipeline's steps when re-fitted)."""

    where: Location
    what: ChangeKind
    why: str
    steps: tuple[Step, ...] = ()

    def __str__(self) -> str:
        return f"{self.where}: {self.what.value}: {self.why}"


@dataclass(frozen=True)
class Repaired:
    """The repaired history: ``messages`` (a new list) and one ``Change`` per change."""

    messages: list[MessageParam]
    changes: tuple[Change, ...]
    images: int
    """Images left in the history."""
    image_tokens: int | None
    """Input tokens of those images on the model, or None when one's size is unknown (a
    URL or Files API image)."""

    @property
    def changed(self) -> bool:
        """False when the history came back exactly as it was."""
        return bool(self.changes)

    def _repr_html_(self) -> str:
        """A notebook's view: every change, where, what and why."""
        return repaired_html(
            self.changes, messages=len(self.messages), images=self.images, tokens=self.image_tokens
        )


@dataclass
class _Spot:
    """One image block found in the history, and what became of it."""

    where: Location
    block: dict[str, Any]
    in_assistant_turn: bool
    trusted: bool = False
    data: bytes | None = None
    size: tuple[int, int] | None = None
    result: dict[str, Any] | None = None  # the block to send; None: keep ``block``
    change: Change | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def repair_messages(
    messages: Iterable[MessageParam | Any],
    *,
    model: str,
    platform: str | Platform = "anthropic",
    keep_images: int | None = None,
    prune_chunk: int = 10,
    drop_oldest: bool = False,
    other_bytes: int = 0,
    bounds: Bounds | None = None,
    trusted: Iterable[int] = (),
    inline: bool = False,
    download: bool | None = None,
    allow_private: bool = False,
) -> Repaired:
    """Make every image of a whole history acceptable for ``model`` on ``platform``.

    ``messages`` are ``MessageParam`` dicts or SDK objects (a ``Message`` reply, pydantic
    blocks), from any source; they are never changed. ``keep_images`` keeps only the most
    recent images, removing older ones ``prune_chunk`` at a time so the cached prefix
    changes rarely. ``drop_oldest=True`` drops the oldest images (and PDFs, checked too)
    past the model's limits instead of raising. ``other_bytes``: the rest of the request.
    ``trusted`` holds ``id()`` of the base64 ``data`` strings of blocks known valid
    (claudevision just made them): they are counted, not checked again.

    URL images stay URLs where the API fetches them; where their bytes are needed (no
    url sources, ``inline=True``, more than 20 images) they are downloaded and inlined,
    unless ``download=False`` (``allow_private`` as for :func:`~claudevision.read_image`).
    """
    target = get_platform(platform)
    _check(messages, model, keep_images, prune_chunk, other_bytes, bounds, drop_oldest)
    history = [as_param(message) for message in messages]
    spots = _find(history, set(trusted or ()))
    changes: list[Change] = []
    documents, pages = _check_documents(history, model, target, drop_oldest, bounds, inline)
    live = _prune(spots, keep_images, prune_chunk, changes)
    live = _limit(live, model, target, drop_oldest, changes, pages)
    spots += documents
    fit_options = _fit_options(model, target, len(live), bounds)
    many = len(live) + len(documents) > target.many_images_threshold  # Bedrock counts both
    needed = inline or many or "url" not in target.source_types
    fetch = _Fetch(download is not False and needed, allow_private, download is not False)
    run_parallel([partial(_judge, spot, target, fit_options, fetch) for spot in live])
    live = [spot for spot in live if spot.result is None or spot.data is not None]
    _fit_size(live, history, target, fit_options, other_bytes)
    changes += [spot.change for spot in spots if spot.change is not None]
    repaired = _apply(history, spots)
    return Repaired(
        repaired, tuple(sorted(changes, key=lambda c: c.where)), len(live), _tokens(live, model)
    )


def _fit_options(
    model: str, target: Platform, images: int, bounds: Bounds | None
) -> dict[str, Any]:
    """The preparation options for re-fitting: the many-image rule when it applies."""
    many = images > target.many_images_threshold
    return {
        "model": model,
        "platform": target,
        "max_side": target.many_images_max_side if many else target.max_side,
        "side_reason": ResizeReason.MANY_IMAGES if many else ResizeReason.PLATFORM,
        "bounds": bounds or DEFAULT_BOUNDS,
    }


def _whole(value: object, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _check(
    messages: object,
    model: object,
    keep_images: object,
    prune_chunk: object,
    other_bytes: object,
    bounds: object,
    drop_oldest: object,
) -> None:
    problems = []
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Iterable):
        problems.append(f"messages must be a list of messages, not {type(messages).__name__}")
    if not isinstance(model, str) or not model:
        problems.append(f"model={model!r}: pass a model id such as 'claude-opus-4-8'")
    if keep_images is not None and not _whole(keep_images, 0):
        problems.append(f"keep_images={keep_images!r}: use a whole number of 0 or more")
    if not _whole(prune_chunk, 1):
        problems.append(f"prune_chunk={prune_chunk!r}: use a whole number of at least 1")
    if not _whole(other_bytes, 0):
        problems.append(f"other_bytes={other_bytes!r}: use a whole number of 0 or more")
    if bounds is not None and not isinstance(bounds, Bounds):
        problems.append(f"bounds={bounds!r}: pass a claudevision.Bounds")
    if not isinstance(drop_oldest, bool):
        problems.append(f"drop_oldest={drop_oldest!r}: use True or False")
    if problems:
        raise ConfigurationError("; ".join(problems))


def as_param(message: Any) -> dict[str, Any]:
    """A ``MessageParam`` dict from a dict or an SDK object; never the caller's own."""
    if hasattr(message, "model_dump"):
        dumped = message.model_dump(mode="json", exclude_none=True)
        return {"role": dumped.get("role"), "content": dumped.get("content")}
    if not isinstance(message, dict):
        raise ConfigurationError(
            f"a message must be a MessageParam dict or an SDK message, not {type(message).__name__}"
        )
    try:
        return _lists(copy.deepcopy(message))  # strings (the base64) are shared, not copied
    except Exception as exc:  # an object in it that cannot be copied
        raise ConfigurationError(
            f"a message holds something that is not JSON data ({exc}); pass MessageParam dicts"
        ) from None


def _walk(
    history: Sequence[Any], kind: str = "image"
) -> Iterator[tuple[Location, dict[str, Any], bool]]:
    """Every block of ``kind`` (image or document), oldest first, with where it is and
    whether an assistant sent it: in user and assistant turns and in ``tool_result``s."""
    for m, message in enumerate(history):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, (list, tuple)):
            continue
        assistant = message.get("role") == "assistant"
        for b, block in enumerate(content):
            if not isinstance(block, dict):
                continue
            if block.get("type") == kind:
                yield Location(m, b), block, assistant
            elif block.get("type") == "tool_result" and isinstance(
                block.get("content"), (list, tuple)
            ):
                for i, inner in enumerate(block["content"]):
                    if isinstance(inner, dict) and inner.get("type") == kind:
                        yield Location(m, b, i), inner, assistant


def _lists(message: dict[str, Any]) -> dict[str, Any]:
    """Tuples of blocks as lists (the SDK sends both as JSON arrays), so all are seen."""
    content = message.get("content")
    if isinstance(content, tuple):
        message["content"] = content = list(content)
    for block in content if isinstance(content, list) else []:
        if isinstance(block, dict) and isinstance(block.get("content"), tuple):
            block["content"] = list(block["content"])
    return message


def _find(history: list[dict[str, Any]], trusted: set[int]) -> list[_Spot]:
    return [
        _Spot(where, block, assistant, _data_id(block) in trusted)
        for where, block, assistant in _walk(history)
    ]


def image_blocks(message: Any) -> list[dict[str, Any]]:
    """The image blocks of one message dict, its tool results' included."""
    return [block for _, block, _ in _walk([message])]


def count_images(message: Any) -> int:
    """How many image blocks one message dict (or SDK message) holds."""
    return len(
        image_blocks(
            as_param(message)
            if isinstance(message, dict) or hasattr(message, "model_dump")
            else message
        )
    )


def _data_id(block: dict[str, Any]) -> int | None:
    source = block.get("source")
    data = source.get("data") if isinstance(source, dict) else None
    return id(data) if isinstance(data, str) else None


def has_documents(message: Any) -> bool:
    """True when a message dict holds a document block (its tool results' included)."""
    return bool(document_blocks(message))


def document_blocks(message: Any) -> list[dict[str, Any]]:
    """The document blocks of one message dict, its tool results' included."""
    return [block for _, block, _ in _walk([message], "document")]


def _check_documents(
    history: list[dict[str, Any]],
    model: str,
    target: Platform,
    drop_oldest: bool,
    bounds: Bounds | None,
    inline: bool = False,
) -> tuple[list[_Spot], int]:
    """PDF documents checked as the API checks them: each a PDF PDFium opens, without
    encryption (else replaced by a short text), their pages within the model's limit
    (else the oldest dropped, with ``drop_oldest``). Returns them and their pages."""
    spots = [_Spot(where, block, turn) for where, block, turn in _walk(history, "document")]
    kinds = target.source_types - ({"url", "file"} if inline else set())
    pages = [_pages(spot, bounds or DEFAULT_BOUNDS, kinds) for spot in spots]
    limit = max_pdf_pages(model, target)
    total = sum(pages)
    if total > limit and not drop_oldest:
        raise TooManyPagesError(
            f"the history holds {total} PDF pages; {model_info(model).name} takes at most "
            f"{limit} in one request. Pass drop_oldest=True to remove the oldest documents."
        )
    for i, spot in enumerate(spots):
        if total <= limit:
            break
        if pages[i]:
            _remove(spot, ChangeKind.DROPPED, f"past the {limit} PDF pages one request may hold")
            total, pages[i] = total - pages[i], 0
    return spots, total


def _pages(spot: _Spot, bounds: Bounds, kinds: frozenset[str] | set[str]) -> int:
    """The pages of a base64 PDF block (0 for url, file and text documents); a source the
    platform or endpoint does not take is replaced, base64 not in the API's form rebuilt."""
    source = spot.block.get("source")
    kind = source.get("type") if isinstance(source, dict) else None
    if kind in ("url", "file") and kind not in kinds:
        _remove(spot, ChangeKind.REPLACED, f"{kind} documents are not taken here; send base64")
        return 0
    if not isinstance(source, dict) or kind != "base64":
        return 0
    try:
        with about(str(spot.where)):
            text = str(source.get("data") or "")
            data, _ = decode_base64(text)
            pages = open_pdf(data, bounds=bounds).pages
            if source.get("media_type") != "application/pdf" or not _canonical(text, data):
                spot.result = {**spot.block, "source": document_block(data=data)["source"]}
                why = "the PDF's media type or base64 text was not in the API's form"
                spot.change = Change(spot.where, ChangeKind.RETYPED, why)
            return pages
    except (ImageInputError, LimitError) as exc:
        if isinstance(exc, MissingDependencyError):
            raise  # a PDF never goes out unchecked
        _remove(spot, ChangeKind.REPLACED, exc.message.split(";")[0])
        return 0


def _remove(spot: _Spot, kind: ChangeKind, why: str) -> None:
    what = "document" if spot.block.get("type") == "document" else "image"
    spot.result = dict(text_block(f"[{what} removed: {why}]"))
    spot.change = Change(spot.where, kind, why)


def _prune(spots: list[_Spot], keep: int | None, chunk: int, changes: list[Change]) -> list[_Spot]:
    """Replace assistant-turn images; keep only the newest ``keep``, removing in chunks."""
    live = []
    for spot in spots:
        if spot.in_assistant_turn:
            _remove(spot, ChangeKind.REPLACED, "images are not allowed in assistant turns")
        else:
            live.append(spot)
    excess = pruned_count(len(live), keep, chunk)
    for spot in live[:excess]:
        _remove(spot, ChangeKind.PRUNED, f"older than the {keep} most recent images kept")
    return live[excess:]


def pruned_count(images: int, keep: int | None, chunk: int = 10) -> int:
    """How many of the oldest images go so that about ``keep`` remain: the excess, rounded
    down to whole chunks, so the cached prefix moves only every ``chunk`` images."""
    if keep is None or images <= keep:
        return 0
    excess = images - keep
    return excess - excess % chunk


def prune_images(message: Any, drop: set[int], why: str) -> Any:
    """A copy of one message dict with its ``drop`` image blocks (by position among its
    images) replaced by a short text."""
    if not drop:
        return message
    copied = as_param(message)
    for index, (where, _block, _) in enumerate(list(_walk([copied]))):
        if index in drop:
            spot = _Spot(where, {}, False)
            _remove(spot, ChangeKind.PRUNED, why)
            _apply([copied], [spot])
    return copied


def _limit(
    live: list[_Spot],
    model: str,
    target: Platform,
    drop_oldest: bool,
    changes: list[Change],
    pages: int = 0,
) -> list[_Spot]:
    limit = max(0, max_images(model, target) - pages)  # pages and images share one limit
    if len(live) <= limit:
        return live
    if not drop_oldest:
        media = f"{pages} document pages + {len(live)} images" if pages else f"{len(live)} images"
        raise TooManyImagesError(
            f"the history holds {media}; {model_info(model).name} on {target.name} takes "
            f"at most {max_images(model, target)} in one request. Pass drop_oldest=True "
            f"or keep_images={limit} to remove the oldest images."
        )
    for spot in live[: len(live) - limit]:
        _remove(spot, ChangeKind.DROPPED, f"past the {limit} images one request may hold")
    return live[len(live) - limit :]


@dataclass(frozen=True)
class _Fetch:
    """Whether URL images are downloaded, and where they may be downloaded from."""

    needed: bool
    allow_private: bool
    allowed: bool = True


def _judge(spot: _Spot, target: Platform, fit_options: dict[str, Any], fetch: _Fetch) -> None:
    """Keep, correct, re-fit or replace one image block."""
    if spot.trusted:
        spot.data = _data_of(spot.block)
        spot.size = image_size(spot.data) if spot.data else None
        return
    found = spot.block.get("source")
    source: dict[str, Any] = found if isinstance(found, dict) else {}
    kind = source.get("type")
    url = str(source.get("url", ""))
    if kind == "url" and (fetch.needed or (fetch.allowed and url[:7].lower() == "http://")):
        _inline(spot, url, target, fit_options, fetch)
        return
    if kind == "url" and "url" in target.source_types:
        try:
            URLSource(url=url)  # https, well formed, not this machine or a private address
        except ClaudeVisionError as exc:
            _remove(spot, ChangeKind.REPLACED, exc.message.split(";")[0])
        return
    if kind in ("url", "file"):
        if kind not in target.source_types:
            _remove(spot, ChangeKind.REPLACED, f"{target.name} does not accept {kind} images")
        elif kind == "url" and not str(source.get("url", "")).lower().startswith("https://"):
            _remove(spot, ChangeKind.REPLACED, "the API downloads only https:// URLs")
        elif kind == "file" and not source.get("file_id"):
            _remove(spot, ChangeKind.REPLACED, "the file source names no file id")
        return
    try:
        with about(str(spot.where)):
            text = source.get("data")
            if kind != "base64" or not isinstance(text, str):
                raise NotAnImageError("the block has no image source the API knows")
            data, _ = decode_base64(text)
            _judge_bytes(spot, source, data, target, fit_options)
    except ClaudeVisionError as exc:
        _remove(spot, ChangeKind.REPLACED, exc.message.split(";")[0])


def _inline(
    spot: _Spot, url: str, target: Platform, fit_options: dict[str, Any], fetch: _Fetch
) -> None:
    """Download a URL image and put it in as base64, proven and fitted like any bytes."""
    why = (
        f"{target.name} takes no url images"
        if "url" not in target.source_types
        else "its bytes were needed (count_tokens, or the size rule of many-image requests)"
    )
    try:
        with about(str(spot.where)):
            data = download(url, bounds=fit_options["bounds"], allow_private=fetch.allow_private)
            _refit(spot, ImageBytes(data, str(spot.where), None), fit_options, why)
    except ClaudeVisionError as exc:
        _remove(spot, ChangeKind.REPLACED, exc.message.split(";")[0])
        return
    if spot.change is not None:
        spot.change = Change(
            spot.where, ChangeKind.INLINED, f"downloaded: {why}", spot.change.steps
        )


def _judge_bytes(
    spot: _Spot,
    source: dict[str, Any],
    data: bytes,
    target: Platform,
    fit_options: dict[str, Any],
) -> None:
    declared = source.get("media_type")
    bounds: Bounds = fit_options["bounds"]
    if len(data) > bounds.max_input_bytes:
        raise ImageTooLargeError(
            f"{len(data):,} bytes, over the {bounds.max_input_bytes:,} byte bound "
            "(Bounds.max_input_bytes)"
        )
    verdict = assess(data, max_side=fit_options["max_side"], bounds=bounds)
    problem = verdict.problem
    if problem is None and base64_length(len(data)) > target.max_image_bytes:
        problem = (
            f"{base64_length(len(data)):,} base64 bytes, over {target.name}'s "
            f"{target.max_image_bytes:,} byte limit per image"
        )
    if problem is None and declared == verdict.media_type and _canonical(source["data"], data):
        spot.data, spot.size = data, verdict.size
        return
    if problem is None:
        spot.data, spot.size = data, verdict.size
        spot.result = _rebuilt(spot.block, verdict.media_type, data)
        why = (
            f"declared {declared}, but the bytes are {verdict.media_type}"
            if declared != verdict.media_type
            else "the base64 text was not in the API's form (standard alphabet, padded)"
        )
        spot.change = Change(spot.where, ChangeKind.RETYPED, why)
        return
    _refit(spot, ImageBytes(data, str(spot.where), declared), fit_options, problem)


def _refit(spot: _Spot, read: ImageBytes, fit_options: dict[str, Any], why: str) -> None:
    prepared = prepare(read, resolve(**fit_options))
    spot.data, spot.size = prepared.data, prepared.size
    spot.result = _rebuilt(spot.block, prepared.media_type, prepared.data)
    spot.change = Change(spot.where, ChangeKind.REFITTED, why, prepared.steps)


def _rebuilt(block: dict[str, Any], media_type: str | None, data: bytes | None) -> dict[str, Any]:
    """The block with a new source; its other fields (cache_control, ...) kept."""
    fresh = dict(block)
    fresh["source"] = image_block(media_type=media_type, data=data)["source"]
    return fresh


def _canonical(text: str, data: bytes) -> bool:
    return (
        base64_length(len(data)) == len(text)
        and "\n" not in text
        and "-" not in text
        and ("_" not in text)
    )


def _data_of(block: dict[str, Any]) -> bytes | None:
    source = block.get("source") or {}
    text = source.get("data") if source.get("type") == "base64" else None
    return decode_base64(text)[0] if isinstance(text, str) else None


def _fit_size(
    live: list[_Spot],
    history: list[dict[str, Any]],
    target: Platform,
    fit_options: dict[str, Any],
    other_bytes: int,
) -> None:
    """Shrink the largest images until the whole request fits the platform's size limit."""
    sizes = [base64_length(len(spot.data)) if spot.data else 0 for spot in live]
    total = _body_bytes(history, live) + other_bytes + _REQUEST_OVERHEAD
    if total <= target.max_request_bytes:
        return
    fixed = total - sum(sizes)
    share = water_level([s for s in sizes if s], target.max_request_bytes - fixed)
    if share < MIN_FAIR_SHARE:
        raise RequestTooLargeError(
            f"the history is {total:,} bytes, over {target.name}'s "
            f"{target.max_request_bytes:,} byte limit, and its {len(live)} images cannot "
            "share the room left; pass keep_images= to keep fewer"
        )
    why = f"{len(live)} images must share {target.name}'s {target.max_request_bytes:,} byte limit"
    for spot, size in zip(live, sizes, strict=True):
        if size > share and spot.data is not None:
            read = ImageBytes(spot.data, str(spot.where), None)
            _refit(spot, read, dict(fit_options, max_bytes=share), why)


def _body_bytes(history: list[dict[str, Any]], live: list[_Spot]) -> int:
    """The JSON size of the history as it will be sent, images at their new sizes."""
    skeleton = json.dumps(history, default=str)
    originals = sum(len(str((spot.block.get("source") or {}).get("data", ""))) for spot in live)
    return (
        len(skeleton) - originals + sum(base64_length(len(spot.data)) for spot in live if spot.data)
    )


def _apply(history: list[dict[str, Any]], spots: Sequence[_Spot]) -> list[MessageParam]:
    for spot in spots:
        if spot.result is None:
            continue
        block = history[spot.where.message]["content"][spot.where.block]
        if spot.where.inner is None:
            history[spot.where.message]["content"][spot.where.block] = spot.result
        else:
            block["content"][spot.where.inner] = spot.result
    return cast("list[MessageParam]", history)


def _tokens(live: Sequence[_Spot], model: str) -> int | None:
    tier = model_info(model).tier
    total = 0
    for spot in live:
        if spot.size is None:
            return None
        total += visual_tokens(*model_size(*spot.size, tier))
    return total
