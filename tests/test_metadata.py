"""What leaves with an image: personal metadata dropped without re-encoding, proven whole."""

from __future__ import annotations

import base64
import io
import struct
import warnings
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

import claudevision
from claudevision import ConfigurationError, ImageMessage, prepare_image
from claudevision._prepare.metadata import clean, exif_is_readable
from claudevision._prepare.verify import is_intact, is_whole
from claudevision.steps import Oriented, RemovedMetadata, SentUnchanged

from .conftest import encode, gradient

MODEL = "claude-opus-4-8"
GPS_IFD = 0x8825


def phone_exif(orientation: int | None = None) -> bytes:
    """EXIF as a phone writes it: maker, model, a GPS position and maker notes."""
    exif = Image.Exif()
    exif[0x010F] = "Phone Maker"
    exif[0x0110] = "Phone 15"
    if orientation is not None:
        exif[0x0112] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2] = "N", (51.0, 30.0, 26.0)
    gps[3], gps[4] = "W", (0.0, 7.0, 39.0)
    exif.get_ifd(0x8769)[0x927C] = b"maker notes: serial 1234"
    return exif.tobytes()


def jpeg_segments(data: bytes) -> list[bytes]:
    """A JPEG as its segments before the scan, then the rest (scan data to the end) whole."""
    out, position = [], 2
    while data[position + 1] != 0xDA:
        (length,) = struct.unpack_from(">H", data, position + 2)
        out.append(data[position : position + 2 + length])
        position += 2 + length
    return [*out, data[position:]]


def png_chunks(data: bytes) -> list[bytes]:
    out, position = [], 8
    while position < len(data):
        (length,) = struct.unpack_from(">I", data, position)
        out.append(data[position : position + 12 + length])
        position += 12 + length
    return out


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def quiet_exif(data: bytes) -> Image.Exif:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Image.open(io.BytesIO(data)).getexif()


# -- JPEG -------------------------------------------------------------------------------------


def test_a_jpeg_with_gps_sent_unchanged_has_no_gps_and_keeps_every_other_segment() -> None:
    data = encode(gradient(640, 480), "JPEG", exif=phone_exif(), quality=90)
    assert quiet_exif(data).get_ifd(GPS_IFD)  # the photo does say where it was taken

    prepared = prepare_image(data, model=MODEL)

    assert prepared.data is not None and not prepared.unchanged
    assert prepared.steps == (SentUnchanged(), RemovedMetadata(("EXIF",)))
    assert not quiet_exif(prepared.data)  # no EXIF at all: no GPS, maker or maker notes
    kept = [s for s in jpeg_segments(data) if not s.startswith(b"\xff\xe1")]
    assert jpeg_segments(prepared.data) == kept  # the rest byte for byte, scan data included
    assert prepared.data == data.replace(jpeg_segments(data)[1], b"")
    assert is_whole(prepared.data, "image/jpeg", (640, 480))
    assert "removed metadata (EXIF)" in prepared.describe()


def test_keep_sends_the_jpeg_byte_for_byte() -> None:
    data = encode(gradient(640, 480), "JPEG", exif=phone_exif())
    prepared = prepare_image(data, model=MODEL, metadata="keep")
    assert prepared.unchanged and prepared.data == data
    assert prepared.steps == (SentUnchanged(),)


def test_only_what_decoding_and_colour_need_stays_in_a_jpeg() -> None:
    image = gradient(320, 240)
    data = encode(image, "JPEG", exif=phone_exif(), comment=b"taken at home", icc_profile=b"x")
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>home</x:xmpmeta>"
    iptc = b"Photoshop 3.0\x00" + b"8BIM" + b"\x04\x04" + b"\x00" * 8
    extra = b"".join(
        b"\xff" + bytes([marker]) + struct.pack(">H", len(body) + 2) + body
        for marker, body in ((0xE1, xmp), (0xED, iptc), (0xE4, b"vendor"))
    )
    data = data[:2] + extra + data[2:]

    prepared = prepare_image(data, model=MODEL)

    step = prepared.steps[-1]
    assert isinstance(step, RemovedMetadata)
    assert set(step.removed) == {"EXIF", "XMP", "IPTC", "comment", "APP4"}
    markers = [segment[:2] for segment in jpeg_segments(prepared.data or b"")[:-1]]
    assert b"\xff\xe1" not in markers and b"\xff\xed" not in markers and b"\xff\xfe" not in markers
    assert b"\xff\xe0" in markers  # JFIF
    assert b"ICC_PROFILE" in (prepared.data or b"")
    assert Image.open(io.BytesIO(prepared.data or b"")).info.get("icc_profile") == b"x"


def test_a_re_encoded_photo_carries_no_metadata_either() -> None:
    data = encode(gradient(640, 480), "JPEG", exif=phone_exif(orientation=6))
    prepared = prepare_image(data, model=MODEL)
    assert Oriented(6) in prepared.steps
    assert not quiet_exif(prepared.data or b"")


def test_a_damaged_exif_block_is_dropped_even_when_kept() -> None:
    exif = b"Exif\x00\x00II*\x00" + struct.pack("<IH", 8, 5) + struct.pack("<HHII", 0x0112, 3, 1, 1)
    data = encode(gradient(64, 64), "JPEG", exif=exif)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing of Pillow's reaches the caller
        prepared = prepare_image(data, model=MODEL, metadata="keep")
    assert prepared.steps == (SentUnchanged(), RemovedMetadata((), ("EXIF",)))
    assert b"Exif" not in (prepared.data or b"")
    assert "dropped unreadable EXIF" in str(prepared.steps[-1])


# -- PNG, WebP, GIF ---------------------------------------------------------------------------


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Doe")
    info.add_text("Location", "51.5N 0.1W", zip=True)
    info.add_itxt("Description", "at home", zip=True)
    return encode(gradient(300, 200), "PNG", pnginfo=info, exif=phone_exif(), icc_profile=b"p")


def test_png_text_and_exif_chunks_are_dropped_and_the_rest_kept() -> None:
    data = png_with_text()
    prepared = prepare_image(data, model=MODEL)
    step = prepared.steps[-1]
    assert isinstance(step, RemovedMetadata) and set(step.removed) == {"text", "EXIF"}
    kept = [c for c in png_chunks(data) if c[4:8] not in (b"tEXt", b"zTXt", b"iTXt", b"eXIf")]
    assert png_chunks(prepared.data or b"") == kept
    decoded = Image.open(io.BytesIO(prepared.data or b""))
    assert decoded.info.get("icc_profile") == b"p" and not getattr(decoded, "text", {})


def inflating_text_png() -> bytes:
    """A PNG whose zTXt chunk inflates to 5 MiB, past what Pillow (and others) will read."""
    data = encode(gradient(64, 64), "PNG")
    bomb = chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"\x00" * (5 << 20), 9))
    return data[:33] + bomb + data[33:]


@pytest.mark.parametrize("choice", ["strip", "keep"])
def test_a_text_chunk_a_decoder_refuses_never_goes_out(choice: Any) -> None:
    data = inflating_text_png()
    with pytest.raises(ValueError, match="Decompressed"):
        Image.open(io.BytesIO(data))
    prepared = prepare_image(data, model=MODEL, metadata=choice)
    assert prepared.data is not None and b"zTXt" not in prepared.data
    Image.open(io.BytesIO(prepared.data)).load()  # now it opens
    expected = RemovedMetadata(("text",)) if choice == "strip" else RemovedMetadata((), ("text",))
    assert prepared.steps == (SentUnchanged(), expected)


def test_an_icc_chunk_a_decoder_refuses_is_dropped() -> None:
    data = encode(gradient(64, 64), "PNG")
    bad = chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(b"\x00" * (3 << 20)))
    prepared = prepare_image(data[:33] + bad + data[33:], model=MODEL, metadata="keep")
    assert prepared.data == data
    assert prepared.steps[-1] == RemovedMetadata((), ("iCCP",))


def test_webp_exif_and_xmp_chunks_go_and_the_header_stays_true() -> None:
    data = encode(gradient(200, 100), "WEBP", exif=phone_exif(), xmp=b"<x>home</x>", lossless=True)
    prepared = prepare_image(data, model=MODEL)
    assert prepared.steps == (SentUnchanged(), RemovedMetadata(("EXIF", "XMP")))
    out = prepared.data or b""
    assert is_intact(out, "image/webp") and b"EXIF" not in out and b"XMP " not in out
    assert not quiet_exif(out)
    assert Image.open(io.BytesIO(out)).convert("RGB").tobytes() == (
        Image.open(io.BytesIO(data)).convert("RGB").tobytes()
    )


def test_gif_comments_go() -> None:
    data = encode(gradient(64, 64).convert("P"), "GIF", comment=b"secret place")
    prepared = prepare_image(data, model=MODEL)
    assert prepared.steps == (SentUnchanged(), RemovedMetadata(("comment",)))
    assert b"secret" not in (prepared.data or b"")
    assert is_intact(prepared.data or b"", "image/gif")


def test_an_image_without_metadata_is_the_same_object() -> None:
    data = encode(gradient(64, 64), "PNG")
    prepared = prepare_image(data, model=MODEL)
    assert prepared.unchanged and prepared.data is not None and prepared.steps == (SentUnchanged(),)


# -- the choice, everywhere an image is sent ---------------------------------------------------


def test_messages_strip_by_default_and_keep_on_request() -> None:
    data = encode(gradient(320, 240), "JPEG", exif=phone_exif())
    stripped = ImageMessage("Where?", data, model=MODEL).images[0]
    kept = ImageMessage("Where?", data, model=MODEL, metadata="keep").images[0]
    assert b"Exif" not in (stripped.data or b"") and kept.data == data


def test_a_bad_choice_is_refused_before_any_image_work() -> None:
    with pytest.raises(ConfigurationError, match="metadata='all'"):
        prepare_image("no/such/file.png", model=MODEL, metadata="all")  # type: ignore[arg-type]


def test_sent_over_http_without_gps(claude_server: Any) -> None:
    data = encode(gradient(320, 240), "JPEG", exif=phone_exif())
    claudevision.ask("Where is this?", data, client=claude_server.client(), model=MODEL)
    block = claude_server.requests[-1].body["messages"][0]["content"][0]
    sent = base64.b64decode(block["source"]["data"])
    assert b"Exif" not in sent and len(sent) < len(data)


# -- the parsers, fuzzed ------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400), st.sampled_from(["image/jpeg", "image/png", "image/webp"]))
def test_clean_never_fails_on_arbitrary_bytes(noise: bytes, media_type: str) -> None:
    heads = {"image/jpeg": b"\xff\xd8", "image/png": b"\x89PNG\r\n\x1a\n", "image/webp": b"RIFF"}
    data = heads[media_type] + noise
    for choice in ("strip", "keep"):
        try:
            out = clean(data, media_type, choice)
        except ValueError:
            continue  # not whole once cleaned: never sent (the bytes were never proven)
        assert out.data is data or out.removed or out.unreadable


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_exif_reading_is_bounded_and_total(tail: bytes) -> None:
    for head in (b"II*\x00\x08\x00\x00\x00", b"MM\x00*\x00\x00\x00\x08", b""):
        assert exif_is_readable(head + tail) in (True, False)


segment_bodies = st.tuples(
    st.sampled_from([0xE1, 0xE3, 0xED, 0xFE, 0xE2, 0xEE]), st.binary(min_size=0, max_size=80)
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(segment_bodies, max_size=6), st.booleans())
def test_any_metadata_segments_leave_a_whole_jpeg(segments: list[Any], strip: bool) -> None:
    base = encode(gradient(32, 24), "JPEG")
    extra = b"".join(
        b"\xff" + bytes([marker]) + struct.pack(">H", len(body) + 2) + body
        for marker, body in segments
    )
    data = base[:2] + extra + base[2:]
    out = clean(data, "image/jpeg", "strip" if strip else "keep")
    assert is_whole(out.data, "image/jpeg", (32, 24))
    if strip:
        assert all(
            s[:2] in (b"\xff\xe0", b"\xff\xdb", b"\xff\xc4", b"\xff\xc0", b"\xff\xe2", b"\xff\xee")
            or s[:2] == b"\xff\xda"
            for s in jpeg_segments(out.data)[:-1]
        )


# -- no decoder warning reaches the caller -----------------------------------------------------


def hostile_inputs() -> dict[str, bytes]:
    """Every seed of the fuzzing corpus and every hostile file the suite makes."""
    import inspect

    from . import hostile, strict_decode

    found = dict(strict_decode.seeds())
    for name, make in inspect.getmembers(hostile, inspect.isfunction):
        if make.__module__ == hostile.__name__ and not inspect.signature(make).parameters:
            try:
                value = make()
            except Exception:  # a maker that needs something this machine lacks
                continue
            if isinstance(value, bytes):
                found[name] = value
    return found


@pytest.mark.timeout(300)
def test_no_decoder_warning_reaches_the_caller() -> None:
    inputs = hostile_inputs()
    assert len(inputs) > 30
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, data in inputs.items():
            for choice in ("strip", "keep"):
                try:
                    prepared = prepare_image(data, model=MODEL, metadata=choice)
                except claudevision.ClaudeVisionError:
                    continue
                assert prepared.data, name
