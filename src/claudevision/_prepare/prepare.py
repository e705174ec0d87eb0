"""Prepare: any read image in, the smallest block that loses nothing the model sees out.

Pure CPU over values: no file or network I/O (that is the read stage), no SDK. In order:

1. bytes in an accepted format, within the model's size and the byte budget, and proven
   whole (``verify``) are sent byte for byte, decoded at most once to prove it;
2. otherwise they are decoded (bounded: ``decode``), on the frame the model should see,
   upright, in an 8-bit mode (``pixels``);
3. resized to exactly the size the model would resize to (JPEGs decode at reduced scale
   first), capped at the platform's pixels per side;
4. encoded to an accepted format within the byte budget (``encode``).

:func:`prepare` is the stage itself; :func:`prepare_image` reads and prepares in one call.
"""

from __future__ import annotations

import inspect
import io
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

from PIL import Image

from .._core.blocks import OversizedImage
from .._core.exceptions import ConfigurationError, UnsupportedSourceError, about
from .._core.geometry import model_size, visual_tokens
from .._core.limits import Bounds, Platform, base64_length
from .._core.media import CONVERTIBLE, PIL_FORMAT_TO_MEDIA_TYPE, probe, sniff_mime
from .._core.steps import (
    AssumedTier,
    Converted,
    CorrectedMediaType,
    Oriented,
    SentAsReference,
    SentUnchanged,
    Step,
)
from .._read.read import (
    ImageBytes,
    ImagePixels,
    ImageReference,
    ReadImage,
    plain_http,
    read_image,
)
from .._read.sources import ImageInput, URLSource, describe_input
from . import backend
from .decode import (
    DECODE_ERRORS,
    bounded,
    check_size,
    load,
    open_image,
    quiet,
    select_frame,
)
from .encode import choose_format, encode_within
from .fit import DEFAULT_QUALITY, Fit, OutputFormat, resolve
from .metadata import MetadataChoice, sent_metadata
from .pixels import (
    RESAMPLE,
    RESAMPLE_AFTER_DRAFT,
    drop_opaque_alpha,
    normalize_and_shrink,
    orient,
    orientation_of,
)
from .prepared import PreparedImage
from .verify import is_whole, proven_after_load

if TYPE_CHECKING:
    from anthropic.types import CacheControlEphemeralParam

__all__ = [
    "OutputFormat",
    "OversizedImage",
    "beside_event_loop",
    "prepare",
    "prepare_image",
    "prepare_many",
    "reuse",
    "run_parallel",
]

Size = tuple[int, int]
# Modes each accepted format can be sent in unchanged.
_SENDABLE_MODES = {
    "JPEG": frozenset({"L", "RGB"}),
    "PNG": frozenset({"1", "L", "LA", "P", "RGB", "RGBA"}),
    "GIF": frozenset({"L", "P"}),
    "WEBP": frozenset({"RGB", "RGBA"}),
}


def prepare_image(
    image: ImageInput | ReadImage | PreparedImage,
    *,
    model: str | None = None,
    platform: str | Platform = "anthropic",
    max_side: int | None = None,
    max_bytes: int | None = None,
    format: OutputFormat | None = None,
    quality: int = DEFAULT_QUALITY,
    cache_control: CacheControlEphemeralParam | None = None,
    oversized_image: OversizedImage | None = None,
    label: str | None = None,
    paths: bool = True,
    bounds: Bounds | None = None,
    download: bool | None = None,
    allow_private: bool = False,
    metadata: MetadataChoice = "strip",
) -> PreparedImage:
    """Turn any image into an ``image`` block the API accepts for ``model`` on ``platform``.

    ``max_side`` and ``max_bytes`` (on the base64 string) tighten the platform's limits;
    ``format`` forces the output format of re-encoded images; ``cache_control`` and
    ``oversized_image`` go on the block. ``paths=False`` never reads a string as a path
    (strangers' strings); ``bounds`` limits what one input may cost. ``metadata="strip"``
    leaves personal metadata out of bytes sent unchanged; ``"keep"`` keeps it.

    A URL goes out as a ``url`` source, unless ``download=True`` or the platform takes
    base64 only and ``download`` is not False: then it is downloaded (guarded, bounded)
    and prepared like bytes. ``allow_private=True``: downloads may reach private hosts.

    >>> img = prepare_image("IMG_0042.jpg", model="claude-sonnet-4-6")  # doctest: +SKIP
    >>> img.block["source"]["media_type"], img.size, img.tokens       # doctest: +SKIP
    ('image/jpeg', (1270, 952), 1564)
    """
    fit = resolve(
        model=model, platform=platform, max_side=max_side, max_bytes=max_bytes,
        format=format, quality=quality, bounds=bounds, metadata=metadata,
    )  # fmt: skip
    _check_block_options(oversized_image, cache_control)
    _check_download_options(download, allow_private)
    if isinstance(image, PreparedImage) and not _fetch(image.reference, download, fit, True):
        prepared = reuse(image, fit)
    else:
        prepared = prepare(_read(image, label, paths, fit, download, allow_private), fit)
    if cache_control is None and oversized_image is None:
        return prepared
    return replace(prepared, cache_control=cache_control, oversized_image=oversized_image)


def _fetch(image: object, download: bool | None, fit: Fit, reference: bool = False) -> bool:
    """Whether a URL input is downloaded: asked for, or needed and not refused."""
    if reference and not isinstance(image, URLSource):
        return False
    if download is not None:
        return download
    return "url" not in fit.platform.source_types or plain_http(image)


def _read(
    image: ImageInput | ReadImage | PreparedImage,
    label: str | None,
    paths: bool,
    fit: Fit,
    download: bool | None,
    allow_private: bool,
) -> ReadImage:
    if isinstance(image, PreparedImage):  # a URL reference to download
        image = ImageReference(cast("URLSource", image.reference), image.label)
    fetch = _fetch(image, download, fit)
    return read_image(
        image, label=label, paths=paths, bounds=fit.bounds, download=fetch,
        allow_private=allow_private,
    )  # fmt: skip


def _check_download_options(download: object, allow_private: object) -> None:
    if download not in (None, True, False):
        raise ConfigurationError(f"download={download!r}: use True, False or None (when needed)")
    if allow_private not in (True, False):
        raise ConfigurationError(f"allow_private={allow_private!r}: use True or False")


def _check_block_options(oversized_image: object, cache_control: object) -> None:
    """Refuse block fields the API would refuse."""
    if oversized_image not in (None, "downsize", "error"):
        raise ConfigurationError(f"oversized_image={oversized_image!r}: use 'downsize' or 'error'")
    if cache_control is not None and (
        not isinstance(cache_control, dict) or cache_control.get("type") != "ephemeral"
    ):
        raise ConfigurationError(
            f"cache_control={cache_control!r}: use {{'type': 'ephemeral'}}, optionally with "
            "'ttl': '5m' or '1h'"
        )


def reuse(prepared: PreparedImage, fit: Fit) -> PreparedImage:
    """An image prepared earlier (a fitted screenshot, a tile), sent as it is when it was
    prepared for the same resolution tier and ``fit``'s limits allow it, so coordinate
    mappings made with it stay true.

    Otherwise it is re-prepared from its bytes (a request of more than 20 images caps it
    at 2000 px, another model's tier shrinks it); the result's ``original_size`` is the
    earlier image's, so ``to_original`` still maps to the original picture. A
    ``Screenshot`` transform does not follow: fit screenshots with ``max_side=2000`` for
    requests that will hold more than 20 images.
    """
    if prepared.reference is not None and prepared.data is None:
        return prepare(ImageReference(prepared.reference, prepared.label), fit)
    size, data = prepared.size, prepared.data
    if prepared.reference is not None and prepared.reference.type not in fit.platform.source_types:
        size = None  # an uploaded image on a platform without file sources: sent inline
    if (
        size is not None
        and data is not None
        and prepared.model.tier == fit.model.tier
        and max(size) <= fit.max_side
        and base64_length(len(data)) <= fit.max_bytes
    ):
        return prepared
    again = prepare(ImageBytes(data or b"", prepared.label, prepared.media_type), fit)
    return replace(again, original_size=prepared.original_size or again.original_size)


def prepare(read: ReadImage, fit: Fit) -> PreparedImage:
    """The prepare stage: one read image, one :class:`Fit`, one :class:`PreparedImage`.

    Never changes ``read`` (it can be prepared again, from several threads at once); every
    error names ``read.label``; anything unexpected becomes an ``InternalError``.
    """
    with about(read.label):
        if isinstance(read, ImageReference):
            return _reference(read, fit)
        if isinstance(read, ImagePixels):
            return _from_pixels(read.image, _Origin(None, read.format or "", None), fit, [], read)
        return _from_bytes(read, fit)


def prepare_many(
    images: Iterable[ImageInput | ReadImage],
    *,
    max_workers: int | None = None,
    **options: Any,
) -> list[PreparedImage]:
    """:func:`prepare_image` for several images at once, on all cores (Pillow drops the GIL).

    Results keep the order of ``images``; ``options`` go to every call. Labels name each
    image by its position: ``image 2 ('cat.png')``. Decoded pixels held at once stay
    within ``Bounds.max_memory_bytes``: larger batches wait their turn instead.
    """
    if isinstance(images, (str, bytes)) or not isinstance(images, Iterable):
        raise ConfigurationError(f"images must be a list of images, not {type(images).__name__}")
    if max_workers is not None and (
        not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers < 1
    ):
        raise ConfigurationError(f"max_workers={max_workers!r}: use a whole number of at least 1")
    unknown = set(options) - set(inspect.signature(prepare_image).parameters)
    if unknown:
        raise ConfigurationError(f"prepare_many got unknown options: {', '.join(sorted(unknown))}")
    calls = [
        partial(prepare_image, item, **{"label": f"image {i} ({describe_input(item)})", **options})
        for i, item in enumerate(images, 1)
    ]
    return run_parallel(calls, max_workers=max_workers)


T = TypeVar("T")

# Set while a render runs for an event loop: its pools leave one core to the loop.
_beside_event_loop: ContextVar[bool] = ContextVar("claudevision_beside_event_loop", default=False)


def beside_event_loop(work: Callable[[], T]) -> Callable[[], T]:
    """``work`` made to leave one core free for an event loop (run it in a worker thread).

    Its thread pools take one worker fewer than the cores (at least one): on a machine
    with few cores, image work on every core starves the loop's thread even though the
    work drops the GIL.
    """

    def run() -> T:
        token = _beside_event_loop.set(True)
        try:
            return work()
        finally:
            _beside_event_loop.reset(token)

    return run


def run_parallel(calls: Sequence[Callable[[], T]], *, max_workers: int | None = None) -> list[T]:
    """Run ``calls`` on a thread pool sized to the cores; results in order, errors raised."""
    if len(calls) <= 1:
        return [call() for call in calls]
    cores = os.cpu_count() or 1
    if _beside_event_loop.get():
        cores = max(1, cores - 1)
    workers = max_workers or min(len(calls), cores)
    # Pillow's own block cache (Image.core.set_blocks_max) is left as it is: kept between
    # threads, freed blocks raised the peak of a batch (100 MiB for 16 photos on two
    # workers, 58 MiB without; 153 and 119 MiB for eight PNG bombs).
    with ThreadPoolExecutor(workers, "claudevision") as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]


# -- references and pass-through ------------------------------------------------------------


def _reference(read: ImageReference, fit: Fit) -> PreparedImage:
    kind = read.source.type
    if kind not in fit.platform.source_types:
        allowed = ", ".join(sorted(fit.platform.source_types))
        fix = (
            "leave download unset (or True) to fetch it here"
            if kind == "url"
            else "pass the image itself (its path or bytes) instead of a Files API id"
        )
        raise UnsupportedSourceError(
            f"{fit.platform.name} accepts only {allowed} image sources, not {kind}; {fix}"
        )
    return PreparedImage(
        label=read.label, model=fit.model, reference=read.source, steps=(SentAsReference(kind),)
    )


@dataclass(frozen=True, slots=True)
class _Origin:
    """Where decoded pixels came from: the bytes (if any), their format, the claimed type."""

    data: bytes | None
    format: str
    declared: str | None


def _from_bytes(read: ImageBytes, fit: Fit) -> PreparedImage:
    data = read.data
    head = probe(data)
    if head is not None:
        size = (head.width, head.height)
        check_size(size, fit.bounds)
        if (
            head.simple
            and fit.target(*size) == size
            and base64_length(len(data)) <= fit.max_bytes
            and is_whole(data, head.media_type, size)
            and _upright(data)
        ):
            said = [*_declared(read.declared_media_type, head.media_type), SentUnchanged()]
            return _finish(data, head.media_type, size, size, fit, said, read)
    image = open_image(data, fit.bounds)
    origin = _Origin(data, image.format or "", read.declared_media_type)
    steps: list[Step] = []
    if origin.format not in PIL_FORMAT_TO_MEDIA_TYPE:
        steps.append(Converted(CONVERTIBLE.get(sniff_mime(data) or "", origin.format)))
    return _shrunk_by_backend(image, origin, fit, steps, read) or _from_pixels(
        image, origin, fit, steps, read
    )


def _shrunk_by_backend(
    image: Image.Image, origin: _Origin, fit: Fit, steps: list[Step], read: ImageBytes
) -> PreparedImage | None:
    """An image that must shrink, decoded and shrunk on the way by the backend (libvips,
    or Pillow by bands) when it can; None leaves it to Pillow's whole decode. Sizes, steps
    and encoding are the pipeline's own."""
    if origin.data is None or not backend.takes(origin.data, image):
        return None
    # A PNG the backend takes has no EXIF or XMP, and Pillow would decode it to say so.
    orientation, original, target = _geometry(image, fit, 1 if image.format == "PNG" else None)
    if target == original:
        return None
    # Only proven bytes are shrunk by the backend: it refuses the rest (None).
    shrunk = backend.shrink(origin.data, _stored(target, orientation))
    if shrunk is None:
        return None
    geometry = (orientation, original, target, RESAMPLE)
    return _convert(image, origin, fit, steps, read, geometry, shrunk=shrunk)


def _upright(data: bytes) -> bool:
    """No EXIF orientation to apply, as Pillow reads it (a damaged EXIF block can say
    something else to Pillow than to the header probe)."""
    if b"Exif" not in data[:65536]:
        return True
    try:
        with quiet():
            value = Image.open(io.BytesIO(data)).getexif().get(0x0112)
    except DECODE_ERRORS:
        return False
    return value in (None, 0, 1)  # any other value, valid or not, is re-encoded away


def _declared(declared: str | None, actual: str | None) -> list[Step]:
    """The correction of the caller's claim about the input, when the input is otherwise."""
    if declared and actual and declared != actual:
        return [CorrectedMediaType(declared, actual)]
    return []


def _finish(
    data: bytes,
    media_type: str,
    size: Size,
    original: Size,
    fit: Fit,
    steps: list[Step],
    read: ImageBytes | ImagePixels,
) -> PreparedImage:
    seen = model_size(*size, fit.model.tier)
    unchanged = False
    if isinstance(read, ImageBytes) and data is read.data:  # only whole metadata may go
        data = sent_metadata(data, media_type, fit.metadata, steps)
        unchanged = data is read.data
    if not fit.model.known:
        steps.append(AssumedTier(fit.model.tier.name, fit.model.name))
    return PreparedImage(
        label=read.label,
        model=fit.model,
        media_type=media_type,
        declared_media_type=read.declared_media_type if isinstance(read, ImageBytes) else None,
        size=size,
        original_size=original,
        model_size=seen,
        tokens=visual_tokens(*seen),
        data=data,
        unchanged=unchanged,
        steps=tuple(steps),
    )


# -- decoded pixels -------------------------------------------------------------------------


def _from_pixels(
    image: Image.Image,
    origin: _Origin,
    fit: Fit,
    steps: list[Step],
    read: ImageBytes | ImagePixels,
) -> PreparedImage:
    """Pick the frame, decode (at reduced scale for JPEG), then send unchanged or convert."""
    frame_step = select_frame(image)
    if frame_step is not None:
        steps.append(frame_step)
    plan = _Plan(image.size, frame_step is None, None)
    if origin.format in ("JPEG", "MPO"):  # the EXIF is in the header; draft before decoding
        plan = replace(plan, geometry=_geometry(image, fit))
        orientation, original, target = plan.geometry  # type: ignore[misc]
        if target != original and image.mode in ("RGB", "L"):
            image.draft(image.mode, _stored(target, orientation))
    return bounded(image, fit.bounds, partial(_decoded, image, origin, fit, steps, read, plan))


@dataclass(frozen=True, slots=True)
class _Plan:
    """What is known before decoding: the stored size, one frame or several, and for JPEG
    (whose decode may be drafted smaller) the geometry."""

    full_size: Size
    single: bool
    geometry: tuple[int, Size, Size] | None


def _decoded(
    image: Image.Image,
    origin: _Origin,
    fit: Fit,
    steps: list[Step],
    read: ImageBytes | ImagePixels,
    plan: _Plan,
) -> PreparedImage:
    """Decode, then send unchanged when the decode proved the bytes fine, else convert.

    A GIF is proven before it is decoded: its proof runs its LZW data through Pillow's
    decoder itself, so a pass-through decodes it once (its mode and size are known on
    opening; nothing in a GIF turns it upright)."""
    gif = plan.single and origin.format == "GIF"
    if gif:
        orientation, original, target = _geometry(image, fit)
        if _sendable(image, origin, orientation, target, original, fit):
            return _unchanged(origin, target, original, fit, steps, read)
    load(image)
    # After the decode for all but JPEG: decoders such as TIFF's turn the image upright.
    orientation, original, target = plan.geometry or _geometry(image, fit)
    if plan.single and not gif and _sendable(image, origin, orientation, target, original, fit):
        return _unchanged(origin, target, original, fit, steps, read)
    resample = RESAMPLE_AFTER_DRAFT if image.size != plan.full_size else RESAMPLE
    return _convert(image, origin, fit, steps, read, (orientation, original, target, resample))


def _unchanged(
    origin: _Origin,
    target: Size,
    original: Size,
    fit: Fit,
    steps: list[Step],
    read: ImageBytes | ImagePixels,
) -> PreparedImage:
    """The decoded bytes, proven whole, sent as they are."""
    assert origin.data is not None
    media_type = PIL_FORMAT_TO_MEDIA_TYPE[origin.format]
    said = [*_declared(origin.declared, media_type), *steps, SentUnchanged()]
    return _finish(origin.data, media_type, target, original, fit, said, read)


def _geometry(
    image: Image.Image, fit: Fit, orientation: int | None = None
) -> tuple[int, Size, Size]:
    """Orientation still to apply (read from ``image`` unless given), the upright size,
    and the size to send."""
    orientation = orientation_of(image) if orientation is None else orientation
    width, height = image.size
    original = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    return orientation, original, fit.target(*original)


def _stored(size: Size, orientation: int) -> Size:
    """A size as stored in the file, before the orientation turns it upright."""
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else size


def _sendable(
    image: Image.Image,
    origin: _Origin,
    orientation: int,
    target: Size,
    original: Size,
    fit: Fit,
) -> bool:
    """Decoded bytes that may still go out unchanged (the decode proved them whole)."""
    data = origin.data
    return (
        data is not None
        and image.mode in _SENDABLE_MODES.get(origin.format, ())
        and orientation == 1
        and target == original
        and base64_length(len(data)) <= fit.max_bytes
        and proven_after_load(data, PIL_FORMAT_TO_MEDIA_TYPE[origin.format], image.size)
        and _upright(data)
    )


def _convert(
    image: Image.Image,
    origin: _Origin,
    fit: Fit,
    steps: list[Step],
    read: ImageBytes | ImagePixels,
    geometry: tuple[int, Size, Size, Image.Resampling],
    *,
    shrunk: Image.Image | None = None,
) -> PreparedImage:
    """Normalise, orient, resize and encode decoded pixels (``shrunk``: already resized
    to the stored target by the backend, in a normal mode)."""
    orientation, original, target, resample = geometry
    icc_profile = image.info.get("icc_profile") if image.mode != "CMYK" else None
    if shrunk is None:
        pixels, mode_steps = normalize_and_shrink(image, _stored(target, orientation), resample)
    else:
        pixels, mode_steps = shrunk, []
    steps += mode_steps
    pixels = orient(drop_opaque_alpha(pixels), orientation)
    if orientation != 1:
        steps.append(Oriented(orientation))
    if target != original:
        steps.append(fit.resized(original, target))
    output = choose_format(origin.format, pixels.mode in ("RGBA", "LA"), fit)
    encoded, output, pixels, encode_steps = encode_within(pixels, output, icc_profile, fit)
    media_type = PIL_FORMAT_TO_MEDIA_TYPE[output]
    given = PIL_FORMAT_TO_MEDIA_TYPE.get(origin.format) or Image.MIME.get(origin.format)
    steps = [*_declared(origin.declared, given), *steps, *encode_steps]
    return _finish(encoded, media_type, pixels.size, original, fit, steps, read)
