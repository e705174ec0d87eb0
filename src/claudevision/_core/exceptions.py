"""Every error claudevision raises for something the caller can fix.

The hierarchy::

    ClaudeVisionError
    ├── ImageInputError            the input cannot be read as an image
    │   ├── EmptyImageError        empty string, empty bytes, empty file
    │   ├── InvalidBase64Error     a string that is neither a path, a URL nor valid base64
    │   ├── ImageNotFoundError     a path that does not exist, or is a directory
    │   ├── NotAnImageError        bytes of something else: a PDF, a ZIP, random bytes
    │   ├── UnsupportedFormatError an image format or codec we cannot convert (SVG, a TIFF
    │   │   │                      compression Pillow lacks)
    │   │   └── MissingDependencyError  an optional package or program is needed (HEIC
    │   │                          without the ``heif`` extra, EPS without Ghostscript)
    │   ├── CorruptImageError      truncated or damaged image data
    │   ├── ManifestError          a CSV or JSON Lines list of batch inputs that cannot be
    │   │                          read: no image column, not a table
    │   ├── DocumentError          a PDF that cannot be sent
    │   │   ├── NotAPDFError       bytes that are not a PDF (whatever the name says)
    │   │   ├── CorruptPDFError    a PDF the renderer cannot open, or a page it cannot load
    │   │   └── EncryptedPDFError  a PDF with any encryption (the API takes none)
    │   └── DownloadError          a URL that could not be downloaded: an HTTP status, too
    │       │                      many redirects, an encoding other than gzip, a stream
    │       │                      already read
    │       └── DownloadTimeoutError  past the connect, read or total deadline
    ├── LimitError                 the image or request cannot be made to fit a limit
    │   ├── ImageTooLargeError     too many pixels to decode safely, or no way to fit the
    │   │                          byte budget
    │   ├── TooManyImagesError     more images (and document pages) than one request takes
    │   ├── TooManyPagesError      more PDF pages than the model takes
    │   └── RequestTooLargeError   the request body cannot fit the platform's limit
    ├── UnsupportedSourceError     a source kind the platform does not accept (a file id on
    │   │                          Bedrock, an ``http://`` URL as a url source, a shape of
    │   │                          another SDK that holds no image)
    │   └── BlockedURLError        a URL refused before any connection: its scheme, its
    │                              credentials, a private, loopback or metadata address
    ├── CoordinateError            a point or box that cannot be mapped: in the padding of a
    │                              letterboxed screenshot, beyond the image, not a number
    ├── ConfigurationError         the call is set up wrong (no model, no API key)
    │   ├── MissingAPIKeyError
    │   └── BatchStateError        a batch state folder made by other arguments, or damaged
    └── InternalError              a bug in claudevision: please report it (the original
                                   exception is chained as ``__cause__``)

Errors from the API itself (rate limits, overload, a 400 we did not foresee) are the
``anthropic`` SDK's own exceptions and are never wrapped.

Every message names the input, says what is wrong with a measured value and the limit
where there is one, and what to do::

    >>> from claudevision import prepare_image, ClaudeVisionError
    >>> try:  # doctest: +ELLIPSIS
    ...     prepare_image("")
    ... except ClaudeVisionError as exc:
    ...     print(exc)
    '' (empty string): the image is empty (0 bytes); pass a path, bytes or a base64 string ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "BatchStateError",
    "BlockedURLError",
    "ClaudeVisionError",
    "ConfigurationError",
    "CoordinateError",
    "CorruptImageError",
    "CorruptPDFError",
    "DocumentError",
    "DownloadError",
    "DownloadTimeoutError",
    "EmptyImageError",
    "EncryptedPDFError",
    "ImageInputError",
    "ImageNotFoundError",
    "ImageTooLargeError",
    "InternalError",
    "InvalidBase64Error",
    "LimitError",
    "ManifestError",
    "MissingAPIKeyError",
    "MissingDependencyError",
    "NotAPDFError",
    "NotAnImageError",
    "RequestTooLargeError",
    "TooManyImagesError",
    "TooManyPagesError",
    "UnknownModelWarning",
    "UnsupportedFormatError",
    "UnsupportedSourceError",
]


class ClaudeVisionError(Exception):
    """Base class of every error claudevision raises.

    ``input`` names the input the error is about (a path, a short prefix of a string, a
    size), or is None for errors about the call itself. ``str(error)`` starts with it.
    """

    def __init__(self, message: str, *, input: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.input = input

    def __str__(self) -> str:
        return f"{self.input}: {self.message}" if self.input else self.message

    def __reduce__(self) -> tuple[object, ...]:  # keep ``input`` across pickling
        return (type(self), (self.message,), {"input": self.input})


class ImageInputError(ClaudeVisionError):
    """The input cannot be read as an image."""


class EmptyImageError(ImageInputError):
    """The input holds no bytes at all."""


class InvalidBase64Error(ImageInputError):
    """A string that is not a path, a URL or valid base64 image data."""


class ImageNotFoundError(ImageInputError, FileNotFoundError):
    """A path that does not exist, is a directory or cannot be read."""


class NotAnImageError(ImageInputError):
    """Bytes that are not an image at all."""


class UnsupportedFormatError(ImageInputError):
    """An image format or codec claudevision cannot convert to one the API accepts."""


class MissingDependencyError(UnsupportedFormatError):
    """The image needs an optional package or program that is not installed."""


class CorruptImageError(ImageInputError):
    """Image data that is truncated or damaged."""


class ManifestError(ImageInputError):
    """A CSV or JSON Lines list of batch inputs that cannot be read as one."""


class DocumentError(ImageInputError):
    """A PDF that cannot be sent as a document block."""


class NotAPDFError(DocumentError):
    """Bytes given as a document that are not a PDF."""


class CorruptPDFError(DocumentError):
    """A PDF the renderer (PDFium) cannot open, or one of whose pages it cannot load."""


class EncryptedPDFError(DocumentError):
    """An encrypted PDF: the API refuses them, with or without a user password."""


class DownloadError(ImageInputError):
    """A URL that could not be downloaded (an HTTP error, too many redirects, ...)."""


class DownloadTimeoutError(DownloadError):
    """The download took longer than ``Bounds.download_seconds`` or a server stalled."""


class LimitError(ClaudeVisionError):
    """The image or the request cannot be made to fit a platform or model limit."""


class ImageTooLargeError(LimitError):
    """Too many pixels to decode safely, or no encoding fits the byte budget."""


class TooManyImagesError(LimitError):
    """More images than the model accepts in one request."""


class TooManyPagesError(LimitError):
    """More PDF pages than the model takes in one request."""


class RequestTooLargeError(LimitError):
    """The request body cannot be made to fit the platform's request size limit."""


class UnsupportedSourceError(ClaudeVisionError):
    """A source kind the target platform or endpoint does not accept."""


class BlockedURLError(UnsupportedSourceError):
    """A URL refused before connecting: a scheme, credentials or an address not allowed.

    Private, loopback, link-local, shared (CGNAT), multicast and reserved addresses are
    refused unless ``allow_private=True``; cloud metadata addresses always are.
    """


class CoordinateError(ClaudeVisionError, ValueError):
    """A point or box that cannot be mapped between the model's image and the screen.

    It lies in the padding of a letterboxed screenshot or beyond the image, or is not a
    finite number. ``clamp=True`` maps points outside to the nearest edge instead.
    """


class ConfigurationError(ClaudeVisionError):
    """The call is set up wrong: no model, no credentials, a client of the wrong kind."""


class MissingAPIKeyError(ConfigurationError):
    """No API key or other credentials were found for the client."""


class BatchStateError(ConfigurationError):
    """A batch's state folder that belongs to a run with other arguments, or is damaged."""


class InternalError(ClaudeVisionError):
    """An exception claudevision did not expect: a bug of ours, never of the caller."""


@contextmanager
def about(label: str) -> Iterator[None]:
    """Name ``label`` in any error raised inside, and turn unexpected exceptions into ours.

    The stages raise errors without naming their input; the entry point that knows the
    input's name wraps the work in ``about(label)``. Anything that is not a
    :class:`ClaudeVisionError` escaping from inside is a bug in claudevision (or in a
    decoder it calls) and becomes an :class:`InternalError` with the original chained.
    """
    try:
        yield
    except ClaudeVisionError as exc:
        if exc.input is None:
            exc.input = label
        raise
    except MemoryError as exc:
        raise ImageTooLargeError(
            "ran out of memory while decoding the image; lower Bounds.max_pixels or pass a "
            "smaller image",
            input=label,
        ) from exc
    except Exception as exc:
        raise InternalError(
            f"unexpected {type(exc).__name__} while preparing the image ({exc}). This is a "
            "bug in claudevision: please report it with the image if you can share it",
            input=label,
        ) from exc


class UnknownModelWarning(UserWarning):
    """A model claudevision has no resolution tier for; the high-resolution tier is assumed."""
