"""Base64 in and out at the speed of C (pybase64), with one clear error for bad text.

``decode`` takes base64 the way people paste it: line breaks and other ASCII whitespace,
the URL-safe alphabet (``-`` and ``_``), missing or extra trailing padding. A well-formed
string is decoded by one C call; a tolerated one by a C translate and a second call; only
when both fail is the text searched (by a regular expression, still in C) for the first
character that is wrong, which the error names with its position.

    >>> decode("R0lG\\nODlh")
    b'GIF89a'
    >>> encode(b"GIF89a")
    'R0lGODlh'
    >>> decode("R0lG*Dlh")
    Traceback (most recent call last):
    ...
    claudevision._core.exceptions.InvalidBase64Error: invalid base64: character '*' at ...
"""

from __future__ import annotations

import binascii
import re

import pybase64

from .exceptions import EmptyImageError, InvalidBase64Error

__all__ = ["EMPTY", "decode", "encode"]

EMPTY = "the image is empty (0 bytes); pass a path, bytes or a base64 string of an image"

_WHITESPACE = " \t\r\n\f\v"
_WHITESPACE_BYTES = _WHITESPACE.encode("ascii")
_URLSAFE_BYTES = bytes.maketrans(b"-_", b"+/")
_URLSAFE = str.maketrans("-_", "+/")
_STRIP_WHITESPACE = str.maketrans("", "", _WHITESPACE)
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")


def encode(data: bytes) -> str:
    """The standard-alphabet base64 text of ``data``, with padding, as the API takes it."""
    return pybase64.b64encode_as_string(data)


def decode(text: str) -> bytes:
    """The bytes of tolerant base64 ``text`` (no ``data:`` prefix: the caller strips it).

    Raises :class:`EmptyImageError` for text with no base64 characters, and
    :class:`InvalidBase64Error` naming the first character outside the alphabet, or saying
    the text is cut short.
    """
    try:  # the common case: one C call on the str's own buffer, the GIL released
        data = pybase64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error, or not ASCII
        data = b""
    if data:
        return data
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise _explain(text) from None
    cleaned = _tolerated(raw)
    if cleaned and len(cleaned) % 4 != 1:
        try:
            return pybase64.b64decode(cleaned + b"=" * (-len(cleaned) % 4), validate=True)
        except binascii.Error:
            pass
    raise _explain(text)


def _tolerated(raw: bytes) -> bytes:
    """``raw`` without whitespace or trailing padding, in the standard alphabet.

    Each removal is a C scan (``in``, ``replace``), faster than one ``translate`` with
    deletions on the usual case, MIME line breaks.
    """
    for space in _WHITESPACE_BYTES:
        if space in raw:
            raw = raw.replace(bytes((space,)), b"")
    if b"-" in raw or b"_" in raw:
        raw = raw.translate(_URLSAFE_BYTES)
    return raw.rstrip(b"=") if raw.endswith(b"=") else raw


def _explain(text: str) -> EmptyImageError | InvalidBase64Error:
    """The error for text the fast paths refused: the first bad character, or why."""
    payload = text.translate(_STRIP_WHITESPACE).translate(_URLSAFE).rstrip("=")
    if not payload:
        return EmptyImageError(EMPTY)
    bad = _NOT_BASE64.search(payload)
    if bad is not None:
        hint = (
            " It ends with '...': it looks like a shortened example, not a whole image."
            if text.rstrip().endswith("...")
            else ""
        )
        return InvalidBase64Error(
            f"invalid base64: character {bad.group()!r} at position {bad.start()} is not in "
            f"the base64 alphabet.{hint} Pass the complete base64 string, a path or the bytes."
        )
    if len(payload) % 4 == 1:
        return InvalidBase64Error(
            f"{len(payload)} base64 characters cannot be a whole number of bytes; the "
            "string is cut short. Pass the complete base64 string."
        )
    # Unreachable for text the fast paths saw; kept so no input escapes without an error.
    return InvalidBase64Error(
        "invalid base64 that could not be decoded. Pass the complete base64 string."
    )
