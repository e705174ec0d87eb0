"""Read: the only stage that does I/O. Whatever the caller holds becomes one immutable value.

    >>> from claudevision import read_image
    >>> image = read_image(b"GIF89a...")                      # doctest: +SKIP
    >>> prepare_image(image, max_bytes=100_000)              # doctest: +SKIP
    >>> prepare_image(image, platform="bedrock")  # doctest: +SKIP
    >>> read_image("https://example.com/cat.jpg", download=True)  # doctest: +SKIP

The values hold the bytes once (:class:`ImageBytes`), a private copy of the caller's
pixels (:class:`ImagePixels`), or a reference the API fetches itself
(:class:`ImageReference`). They can be prepared again and again, from several threads,
and the caller's objects are never changed. Every read is bounded by
:class:`~claudevision.Bounds`: only regular files are opened, without blocking, and at
most ``max_input_bytes`` are read from anything. A URL is downloaded only when asked
(``download=True``), through the guarded downloader of :mod:`.download`.

:func:`read_image` and :func:`aread_image` share everything but the read itself.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import anyio.to_thread
from PIL import Image

from .._core.exceptions import (
    ClaudeVisionError,
    CorruptImageError,
    EmptyImageError,
    ImageInputError,
    ImageNotFoundError,
    ImageTooLargeError,
    about,
)
from .._core.limits import DEFAULT_BOUNDS, Bounds
from .download import adownload, download
from .foreign import foreign_source
from .sources import (
    _EMPTY,
    Base64Source,
    FileIdSource,
    FileSource,
    ImageInput,
    URLSource,
    base64_in_bytes,
    classify_string,
    could_be_base64,
    describe_input,
    figure_png,
    is_figure,
)

__all__ = [
    "ImageBytes",
    "ImagePixels",
    "ImageReference",
    "ReadImage",
    "aread_image",
    "fetch_reference",
    "plain_http",
    "read_head",
    "read_image",
    "to_source",
]

_CHUNK = 1024 * 1024
_TEXT_MODE = "the file is open in text mode; open it in binary mode with open(path, 'rb')"
# Pillow objects are not safe to load from two threads at once; callers share theirs.
_CALLER_IMAGE_LOCK = threading.Lock()
# Streams that cannot seek and were read to the end: a second read gets a clear error.
# (A stream that takes no weak reference is not tracked: its second read finds no bytes.)
_SPENT: weakref.WeakSet[Any] = weakref.WeakSet()


def _reset_after_fork() -> None:
    global _CALLER_IMAGE_LOCK
    _CALLER_IMAGE_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


@dataclass(frozen=True, slots=True, repr=False)
class ImageBytes:
    """Encoded image bytes as read, and the media type the caller claimed, if any."""

    data: bytes
    label: str
    declared_media_type: str | None = None

    def __repr__(self) -> str:
        return f"ImageBytes({self.label}, {len(self.data):,} bytes)"


@dataclass(frozen=True, slots=True)
class ImagePixels:
    """A private copy of a caller's PIL image or array (never the caller's own object).

    ``format`` is the format the caller's image was decoded from (``"JPEG"``), if known.
    """

    image: Image.Image
    label: str
    format: str | None = None


@dataclass(frozen=True, slots=True)
class ImageReference:
    """A URL or Files API image that the API fetches itself."""

    source: URLSource | FileIdSource
    label: str


ReadImage = ImageBytes | ImagePixels | ImageReference
"""What :func:`read_image` returns; :func:`~claudevision.prepare_image` accepts it."""


@dataclass(frozen=True, slots=True)
class _URL:
    """A URL to download (``download=True``)."""

    url: str
    allow_private: bool


@dataclass(frozen=True, slots=True)
class _Pending:
    """The one piece of I/O left to do: a file to open, a file object to read, a URL."""

    target: Path | _URL | Any
    label: str
    fallback: str | None = None  # base64 to decode when no such file exists


def read_image(
    obj: ImageInput | ReadImage,
    *,
    label: str | None = None,
    paths: bool = True,
    bounds: Bounds = DEFAULT_BOUNDS,
    download: bool = False,
    allow_private: bool = False,
) -> ReadImage:
    """Read any image input once, into a value that can be prepared again and again.

    ``paths=False`` never treats a string as a path (use it for strings from strangers:
    only base64, data URLs and ``https://`` URLs are accepted then). ``download=True``
    downloads a URL (``https://``, or ``http://`` with ``allow_private=True``) into
    :class:`ImageBytes`; otherwise a URL stays an :class:`ImageReference` the API fetches.
    ``allow_private=True`` lets the download reach loopback and private addresses (tests,
    intranets); cloud metadata addresses stay refused.
    """
    name = label or describe_input(obj)
    with about(name):
        planned = _plan(obj, name, paths, bounds, _URL("", allow_private) if download else None)
        if isinstance(planned, _Pending):
            return _complete(planned, bounds)
        return planned


async def aread_image(
    obj: ImageInput | ReadImage,
    *,
    label: str | None = None,
    paths: bool = True,
    bounds: Bounds = DEFAULT_BOUNDS,
    download: bool = False,
    allow_private: bool = False,
) -> ReadImage:
    """:func:`read_image` for async code: a file is read in a worker thread, a URL is
    downloaded on the event loop."""
    name = label or describe_input(obj)
    with about(name):
        planned = _plan(obj, name, paths, bounds, _URL("", allow_private) if download else None)
        if isinstance(planned, _Pending):
            pending = planned
            if isinstance(pending.target, _URL):
                fetched = await adownload(
                    pending.target.url, bounds=bounds, allow_private=pending.target.allow_private
                )
                return _from_bytes(fetched, name, None, bounds)
            return await anyio.to_thread.run_sync(lambda: _complete(pending, bounds))
        return planned


def fetch_reference(
    image: ImageReference, *, bounds: Bounds = DEFAULT_BOUNDS, allow_private: bool = False
) -> ReadImage:
    """A URL reference downloaded into :class:`ImageBytes` (a file id is returned as it is)."""
    if not isinstance(image.source, URLSource):
        return image
    with about(image.label):
        data = download(image.source.url, bounds=bounds, allow_private=allow_private)
        return _from_bytes(data, image.label, None, bounds)


def to_source(
    obj: ImageInput, *, label: str | None = None, paths: bool = True
) -> Base64Source | URLSource | FileSource | FileIdSource:
    """Turn whatever image a user holds into one of the source models.

    Paths stay :class:`FileSource` (not read); file objects are read (bounded); in-memory
    images (PIL, NumPy) are encoded losslessly as PNG.
    """
    if isinstance(obj, (Base64Source, URLSource, FileSource, FileIdSource)):
        return obj
    name = label or describe_input(obj)
    with about(name):
        if isinstance(obj, str):
            found = classify_string(obj, paths=paths, label=name)
            return FileSource.model_construct(path=found) if isinstance(found, Path) else found
        if isinstance(obj, Path):
            return FileSource.model_construct(path=obj)
        read = read_image(obj, label=name)
        if isinstance(read, ImageReference):
            return read.source
        if isinstance(read, ImagePixels):
            return Base64Source(data=_lossless(read.image), media_type="image/png")
        return Base64Source(data=read.data, media_type=read.declared_media_type)


# -- planning: everything but the read -----------------------------------------------------


def _plan(
    obj: object, label: str, paths: bool, bounds: Bounds, fetch: _URL | None
) -> ReadImage | _Pending:
    if isinstance(obj, Mapping):
        obj = foreign_source(obj)
        paths = False
    if fetch is not None:
        url = _url_of(obj)
        if url is not None:
            return _Pending(_URL(url, fetch.allow_private), label)
    if isinstance(obj, (ImageBytes, ImagePixels, ImageReference)):
        return obj
    if isinstance(obj, (bytes, bytearray, memoryview)):
        data, declared = base64_in_bytes(bytes(obj), label=label)  # base64 text as bytes too
        return _from_bytes(data, label, declared, bounds)
    if isinstance(obj, str):
        return _from_string(obj, label, paths, bounds)
    if isinstance(obj, (Path, FileSource)):
        return _Pending(obj if isinstance(obj, Path) else obj.path, label)
    if isinstance(obj, Base64Source):
        return _from_bytes(obj.data, label, obj.media_type, bounds)
    if isinstance(obj, (URLSource, FileIdSource)):
        return ImageReference(obj, label)
    if _is_pil_image(obj):
        return _copy_pixels(obj, label, bounds)
    if _is_numpy_array(obj):
        return ImagePixels(_array_to_image(obj, bounds), label)
    if is_figure(obj):
        return _from_bytes(figure_png(obj, max_pixels=bounds.max_pixels), label, None, bounds)
    if callable(getattr(obj, "read", None)):
        return _Pending(obj, label)
    raise ImageInputError(
        f"cannot make an image from a {type(obj).__name__}; pass a path, URL, base64 "
        "string, bytes, a binary file, a PIL image, a NumPy array or an image part dict"
    )


def plain_http(obj: object) -> bool:
    """True for an ``http://`` URL string: the API never fetches one, so it is downloaded
    wherever a download is left to claudevision (``download=None``)."""
    if isinstance(obj, Mapping):
        try:
            obj = foreign_source(obj)
        except ClaudeVisionError:
            return False
    url = _url_of(obj)
    return url is not None and url[:7].lower() == "http://"


def _url_of(obj: object) -> str | None:
    """The URL ``obj`` names, if it is one (a string, a URL source or reference)."""
    if isinstance(obj, ImageReference):
        obj = obj.source
    if isinstance(obj, URLSource):
        return obj.url
    if isinstance(obj, str) and obj.strip()[:8].lower().startswith(("https://", "http://")):
        return obj.strip()
    return None


def _from_bytes(data: bytes, label: str, declared: str | None, bounds: Bounds) -> ImageBytes:
    if not data:
        raise EmptyImageError(_EMPTY)
    _check_size(len(data), bounds)
    return ImageBytes(data, label, declared)


def _check_size(size: int, bounds: Bounds) -> None:
    if size > bounds.max_input_bytes:
        raise ImageTooLargeError(
            f"the input holds {size:,} bytes or more, over the {bounds.max_input_bytes:,} "
            "byte bound; pass a smaller file or raise Bounds.max_input_bytes"
        )


def _from_string(text: str, label: str, paths: bool, bounds: Bounds) -> ReadImage | _Pending:
    if len(text) > 2 * bounds.max_input_bytes:  # base64 is 4/3 of the bytes, plus spacing
        _check_size(len(text) * 3 // 4, bounds)
    found = classify_string(text, paths=paths, label=label)
    if isinstance(found, Path):
        return _Pending(found, label, fallback=text if could_be_base64(text) else None)
    if isinstance(found, URLSource):
        return ImageReference(found, label)
    return _from_bytes(found.data, label, found.media_type, bounds)


# -- in-memory images -----------------------------------------------------------------------


def _is_pil_image(obj: object) -> TypeGuard[Image.Image]:
    return isinstance(obj, Image.Image)


def _is_numpy_array(obj: object) -> bool:
    return type(obj).__module__ == "numpy" and hasattr(obj, "__array_interface__")


def _check_pixels(width: int, height: int, bounds: Bounds) -> None:
    if width * height > bounds.max_pixels:
        raise ImageTooLargeError(
            f"refused a {width}x{height} image ({width * height:,} pixels); the bound is "
            f"{bounds.max_pixels:,} pixels, a guard against decompression bombs. Shrink it "
            "first or raise Bounds.max_pixels"
        )
    if width < 1 or height < 1:
        raise EmptyImageError(f"the image has no pixels ({width}x{height})")


def _copy_pixels(image: Image.Image, label: str, bounds: Bounds) -> ImagePixels:
    """Copy the caller's image (its current frame) without changing it; one thread at a time."""
    _check_pixels(*image.size, bounds)
    with _CALLER_IMAGE_LOCK:
        try:
            copy = image.copy()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise CorruptImageError(f"the PIL image cannot be loaded ({exc})") from None
    return ImagePixels(copy, label, image.format)


def _array_to_image(array: Any, bounds: Bounds) -> Image.Image:
    """A copy of a NumPy uint8 array (H x W, H x W x 3, H x W x 4) as a PIL image."""
    shape = tuple(array.shape)
    dtype = str(array.dtype)
    channels = shape[-1] if len(shape) == 3 else None
    if dtype != "uint8" or not (len(shape) == 2 or channels in (3, 4)):
        raise ImageInputError(
            f"expected a uint8 array shaped H x W, H x W x 3 (RGB) or H x W x 4 (RGBA), got "
            f"{shape} {dtype}; convert it, e.g. (array * 255).clip(0, 255).astype('uint8')"
        )
    _check_pixels(shape[1], shape[0], bounds)
    return Image.fromarray(array.copy())


def _lossless(image: Image.Image) -> bytes:
    if image.mode not in ("1", "L", "LA", "I;16", "P", "RGB", "RGBA"):  # what PNG can hold
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


# -- the read itself ------------------------------------------------------------------------


def _complete(pending: _Pending, bounds: Bounds) -> ReadImage:
    if isinstance(pending.target, _URL):
        target = pending.target
        data = download(target.url, bounds=bounds, allow_private=target.allow_private)
    elif isinstance(pending.target, Path):
        try:
            data = _read_file(pending.target, bounds)
        except ImageNotFoundError:
            if pending.fallback is None:
                raise
            found = Base64Source.from_string(pending.fallback.strip(), label=pending.label)
            return _from_bytes(found.data, pending.label, found.media_type, bounds)
    else:
        data = _read_file_object(pending.target, bounds)
    return _from_bytes(data, pending.label, None, bounds)


def _read_file_object(stream: Any, bounds: Bounds) -> bytes:
    """Read from where the stream stands and seek back there, so a second read is the same.

    A stream that cannot seek is read once; reading it again is an error, not an "empty
    image".
    """
    start = _position(stream)
    if start is None and _is_spent(stream):
        raise ImageInputError(
            "the file object was already read to its end and cannot seek back; read it "
            "once (data = f.read()) and pass the bytes"
        )
    try:
        data = _read_stream(stream, bounds)
    finally:
        if start is not None:
            stream.seek(start)
    if start is None:
        _mark_spent(stream)
    return data


def _position(stream: Any) -> int | None:
    """Where a seekable stream stands, or None for one that cannot seek."""
    try:
        if callable(getattr(stream, "seekable", None)) and not stream.seekable():
            return None
        position = stream.tell()
    except (AttributeError, OSError, ValueError):
        return None
    return position if isinstance(position, int) and not isinstance(position, bool) else None


def _is_spent(stream: Any) -> bool:
    try:
        weakref.ref(stream)
    except TypeError:
        return False
    return stream in _SPENT


def _mark_spent(stream: Any) -> None:
    with contextlib.suppress(TypeError):
        _SPENT.add(stream)


def _open_regular(path: Path) -> int:
    """A descriptor of a regular file; FIFOs, devices and sockets are refused unread."""
    try:
        expanded = path.expanduser()
    except RuntimeError:  # '~nosuchuser/...'
        raise ImageNotFoundError(
            f"path {str(path)!r} names a home directory that does not exist; check the path"
        ) from None
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(expanded, flags)
    except (ValueError, UnicodeError):  # a null byte, a lone surrogate
        raise ImageInputError(
            "the path holds a character no file name can (a null byte or a lone "
            "surrogate); pass a valid path, or the image's bytes"
        ) from None
    except OSError as exc:
        raise _path_error(expanded, exc) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise ImageNotFoundError(
            f"path {str(expanded)!r} is {kind} (a device, pipe or socket is never read); "
            "pass the path of an image file"
        )
    return fd


def _path_error(path: Path, exc: OSError) -> ImageNotFoundError:
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return ImageNotFoundError(
            f"path {str(path)!r} does not exist (looked in {os.getcwd()!r}); check the path"
        )
    if exc.errno == errno.EISDIR:
        return ImageNotFoundError(
            f"path {str(path)!r} is a directory, not an image file; pass the path of a file in it"
        )
    return ImageNotFoundError(
        f"path {str(path)!r} cannot be read ({exc.strerror}); check its permissions"
    )


def _read_file(path: Path, bounds: Bounds) -> bytes:
    fd = _open_regular(path)
    with os.fdopen(fd, "rb") as file:
        _check_size(os.fstat(file.fileno()).st_size, bounds)
        return _read_stream(file, bounds)


def read_head(path: Path, limit: int, *, label: str) -> tuple[bytes, int]:
    """The first ``limit`` bytes of the regular file at ``path``, and its whole size (for
    estimates from headers: the rest is never read)."""
    with about(label):
        fd = _open_regular(path)
        with os.fdopen(fd, "rb") as file:
            return file.read(limit), os.fstat(file.fileno()).st_size


def _read_stream(stream: Any, bounds: Bounds) -> bytes:
    """At most ``max_input_bytes`` from a binary file object, refusing anything more."""
    buffer = bytearray()
    limit = bounds.max_input_bytes
    while len(buffer) <= limit:
        try:
            chunk = stream.read(min(_CHUNK, limit + 1 - len(buffer)))
        except UnicodeDecodeError:
            raise ImageInputError(_TEXT_MODE) from None
        except (ValueError, OSError) as exc:  # closed, or failing underneath
            raise ImageInputError(
                f"the file object cannot be read ({exc}); pass an open binary file "
                "(open(path, 'rb')), the path or the bytes"
            ) from None
        if isinstance(chunk, str):
            raise ImageInputError(_TEXT_MODE)
        if chunk is None:
            raise ImageInputError("the file object is non-blocking and has no data ready")
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise ImageInputError(f"read() returned {type(chunk).__name__}, not bytes")
        if not chunk:
            return bytes(buffer)
        buffer += chunk
    _check_size(len(buffer), bounds)
    return bytes(buffer)
