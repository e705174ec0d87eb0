"""Base64 in C (``_core/b64``) agrees with the per-character reference it replaced.

The reference below is the 0.2.0 decoder, kept here verbatim in behaviour: every string
it accepts decodes to the same bytes, and every string it refuses is refused with the same
error class and message (the first bad character and its position, or "cut short").
"""

from __future__ import annotations

import base64
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claudevision import EmptyImageError, InvalidBase64Error, decode_base64
from claudevision._core import b64

_URLSAFE = str.maketrans("-_", "+/")
_WHITESPACE = str.maketrans("", "", " \t\r\n\f\v")
_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=")
EXAMPLES = int(os.environ.get("CLAUDEVISION_FUZZ_EXAMPLES", "800"))


def reference(text: str) -> bytes:
    """The 0.2.0 decoder: a Python loop over characters finds the first bad one."""
    payload = text.translate(_WHITESPACE).translate(_URLSAFE).rstrip("=")
    if not payload:
        raise EmptyImageError(b64.EMPTY)
    bad = next((i for i, c in enumerate(payload) if c not in _CHARS or c == "="), None)
    if bad is not None:
        hint = (
            " It ends with '...': it looks like a shortened example, not a whole image."
            if text.rstrip().endswith("...")
            else ""
        )
        raise InvalidBase64Error(
            f"invalid base64: character {payload[bad]!r} at position {bad} is not in the "
            f"base64 alphabet.{hint} Pass the complete base64 string, a path or the bytes."
        )
    if len(payload) % 4 == 1:
        raise InvalidBase64Error(
            f"{len(payload)} base64 characters cannot be a whole number of bytes; the "
            "string is cut short. Pass the complete base64 string."
        )
    return base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)


def outcome(func: object, text: str) -> tuple[str, object]:
    assert callable(func)
    try:
        return "ok", func(text)
    except (EmptyImageError, InvalidBase64Error) as exc:
        return type(exc).__name__, str(exc)


def assert_agree(text: str) -> None:
    assert outcome(b64.decode, text) == outcome(reference, text), repr(text[:80])


@st.composite
def pasted(draw: st.DrawFn) -> str:
    """Base64 of some bytes, then mangled the ways people and tools mangle it."""
    data = draw(st.binary(max_size=64))
    text = base64.b64encode(data).decode()
    if draw(st.booleans()):
        text = text.replace("+", "-").replace("/", "_")
    if draw(st.booleans()):
        text = text.rstrip("=")
    if draw(st.booleans()):
        text += "=" * draw(st.integers(0, 4))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        insert = draw(
            st.sampled_from([" ", "\n", "\r\n", "\t", "\f", "\v", "=", "*", ".", "...", "é"])
            | st.text(max_size=3)
        )
        text = text[:at] + insert + text[at:]
    if draw(st.booleans()) and text:
        text = text[: draw(st.integers(0, len(text)))]
    return text


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None)
@given(pasted())
def test_fast_decode_agrees_with_reference(text: str) -> None:
    assert_agree(text)


@settings(max_examples=EXAMPLES // 2, derandomize=True, deadline=None)
@given(st.text(alphabet="ABCDEFabcdef0123456789+/-_= \n\t.*", max_size=40))
def test_any_base64_like_text_agrees(text: str) -> None:
    assert_agree(text)


@settings(max_examples=EXAMPLES // 4, derandomize=True, deadline=None)
@given(st.binary(max_size=300))
def test_encode_is_the_standard_alphabet(data: bytes) -> None:
    assert b64.encode(data) == base64.b64encode(data).decode("ascii")
    if data:
        assert b64.decode(b64.encode(data)) == data


@pytest.mark.parametrize(
    "text",
    ["", "====", "QQ", "QQ=", "QQ==", "QUJD====", "QR==", "QU=JD", "QUJ-", "QQ==QQ==", " Q\nQ "],
)
def test_edge_cases_agree(text: str) -> None:
    assert_agree(text)


def test_large_data_url_decodes_and_names_a_late_bad_character() -> None:
    data = os.urandom(300_000)
    text = base64.encodebytes(data).decode()  # MIME line breaks every 76 characters
    assert decode_base64("data:image/png;base64," + text) == (data, "image/png")
    broken = text[:-10] + "!" + text[-9:]
    with pytest.raises(InvalidBase64Error, match=r"character '!' at position \d+"):
        decode_base64(broken)
    assert outcome(b64.decode, broken) == outcome(reference, broken)
