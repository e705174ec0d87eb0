"""PDFs: checked document blocks, and pages as images mapped back to PDF points."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import claudevision as cv
from claudevision.testing import ClaudeServer

from .fileserver import FileServer
from .pdfs import encrypted, pdf

SMALL_CONTEXT = "claude-haiku-4-5"  # 200k tokens: 100 pages
LARGE_CONTEXT = "claude-sonnet-4-6"  # 1M tokens: 600 pages


@pytest.fixture(scope="module")
def server() -> Iterator[ClaudeServer]:
    with ClaudeServer() as running:
        yield running


def send(server: ClaudeServer, document: cv.PreparedDocument, model: str) -> None:
    server.client().messages.create(
        model=model,
        max_tokens=20,
        messages=[{"role": "user", "content": [document.block, {"type": "text", "text": "Hi"}]}],
    )


@pytest.mark.parametrize(
    ("pages", "model", "accepted"),
    [
        (1, SMALL_CONTEXT, True),
        (100, SMALL_CONTEXT, True),
        (101, SMALL_CONTEXT, False),
        (101, LARGE_CONTEXT, True),
        (600, LARGE_CONTEXT, True),
        (600, "claude-opus-4-8", True),
        (601, LARGE_CONTEXT, False),
    ],
)
def test_page_limits_follow_the_models_context(
    server: ClaudeServer, pages: int, model: str, accepted: bool
) -> None:
    data = pdf(pages)
    if not accepted:
        with pytest.raises(cv.TooManyPagesError, match="pages"):
            cv.prepare_document(data, model=model)
        return
    document = cv.prepare_document(data, model=model, title="Report", citations=True)
    assert document.pages == pages and document.tokens is not None and document.tokens > 0
    assert document.block["source"]["media_type"] == "application/pdf"  # type: ignore[typeddict-item]
    assert document.block["title"] == "Report" and document.block["citations"] == {"enabled": True}
    send(server, document, model)


def test_token_estimate_is_each_pages_image_at_the_tier() -> None:
    for model in (LARGE_CONTEXT, "claude-opus-4-8"):
        document = cv.prepare_document(pdf(2), model=model)
        (page,) = cv.pdf_pages(pdf(2), [1], model=model)
        assert document.page_tokens == (page.image.tokens, page.image.tokens)


@pytest.mark.parametrize("user_password", ["", "secret"])
def test_encrypted_pdfs_are_refused(user_password: str) -> None:
    with pytest.raises(cv.EncryptedPDFError, match="encrypted"):
        cv.prepare_document(encrypted(pdf(2), user_password=user_password))


def test_a_truncated_pdf_is_refused() -> None:
    data = pdf(3)
    with pytest.raises(cv.CorruptPDFError):
        cv.prepare_document(data[: len(data) // 3])


def test_a_non_pdf_named_pdf_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "report.pdf"
    fake.write_bytes(b"<html>not a pdf</html>" * 10)
    with pytest.raises(cv.NotAPDFError) as caught:
        cv.prepare_document(fake)
    assert "report.pdf" in str(caught.value)


def test_inputs_of_every_kind(tmp_path: Path) -> None:
    import base64
    import io

    data = pdf(2)
    path = tmp_path / "a.pdf"
    path.write_bytes(data)
    text = base64.b64encode(data).decode()
    for given in (path, str(path), data, io.BytesIO(data), f"data:application/pdf;base64,{text}"):
        assert cv.prepare_document(given).pages == 2


def test_url_documents_stay_urls_on_the_direct_api() -> None:
    document = cv.prepare_document("https://papers.example/a.pdf")
    assert document.block["source"] == {"type": "url", "url": "https://papers.example/a.pdf"}
    assert document.pages is None and document.tokens is None


def test_a_url_pdf_is_inlined_on_bedrock() -> None:
    with FileServer() as files:
        files.add("/paper.pdf", pdf(4))
        document = cv.prepare_document(
            files.url("/paper.pdf"), platform="bedrock", allow_private=True
        )
    assert document.source_type == "base64" and document.pages == 4
    with ClaudeServer(platform="bedrock") as bedrock:
        bedrock.bedrock_client().messages.create(
            model=LARGE_CONTEXT, max_tokens=20,
            messages=[{"role": "user", "content": [document.block, {"type": "text", "text": "?"}]}],
        )  # fmt: skip


def test_a_pdf_over_the_request_limit_is_refused() -> None:
    strict = cv.Platform("strict", 5_000_000, frozenset({"base64"}), max_request_bytes=2_000)
    with pytest.raises(cv.RequestTooLargeError, match="request limit"):
        cv.prepare_document(pdf(3), platform=strict)


def test_file_ids_on_bedrock_are_refused() -> None:
    with pytest.raises(cv.UnsupportedSourceError, match="only as base64"):
        cv.prepare_document(cv.FileIdSource(file_id="file_1"), platform="bedrock")


@pytest.mark.parametrize("model", [LARGE_CONTEXT, "claude-opus-4-8"])
def test_pages_as_images_map_a_box_back_to_points_within_one_point(model: str) -> None:
    box = (100.0, 500.0, 200.0, 100.0)  # x, y (upward), width, height in PDF user space
    (page,) = cv.pdf_pages(pdf(2, box=box), [2], model=model)
    assert page.number == 2 and page.image.size == page.image.model_size
    pixels = np.asarray(_decoded(page.image))
    blue = (pixels[:, :, 2] > 200) & (pixels[:, :, 0] < 60) & (pixels[:, :, 1] < 60)
    ys, xs = np.nonzero(blue)
    found = page.box_to_points((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
    height = page.size_points[1]
    expected = (box[0], height - box[1] - box[3], box[0] + box[2], height - box[1])
    assert all(abs(a - b) <= 1.0 for a, b in zip(found, expected, strict=True)), found


def _decoded(image: cv.PreparedImage) -> object:
    import io

    from PIL import Image

    return Image.open(io.BytesIO(image.data or b"")).convert("RGB")


def test_page_numbers_are_checked() -> None:
    with pytest.raises(cv.ConfigurationError, match="no page 3"):
        cv.pdf_pages(pdf(2), [3])


def test_without_pypdfium2_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pypdfium2", None)
    with pytest.raises(cv.MissingDependencyError, match=r"\[pdf\]"):
        cv.prepare_document(pdf(1))


# -- documents beside images in one message ---------------------------------------------------


def test_image_message_sends_a_pdf_and_an_image_in_order(
    server: ClaudeServer, tmp_path: Path
) -> None:
    from .conftest import assert_valid_message, png

    report = tmp_path / "report.pdf"
    report.write_bytes(pdf(3))
    message = cv.ImageMessage("Summarise", report, png(64, 48), model=LARGE_CONTEXT)
    content = message.to_param()["content"]
    kinds = [block["type"] for block in content]  # type: ignore[index]
    assert kinds == ["text", "document", "text", "image", "text"]
    assert content[0]["text"] == "Document 1:" and content[2]["text"] == "Image 1:"  # type: ignore[index]
    assert len(message.documents) == 1 and message.documents[0].pages == 3
    assert len(message.images) == 1
    assert message.tokens == message.documents[0].tokens + message.images[0].tokens  # type: ignore[operator]
    assert_valid_message(message.to_param())
    cv.Vision(server.client(), model=LARGE_CONTEXT).send(message)


def test_pages_and_images_share_the_media_limit() -> None:
    from .conftest import png

    message = cv.ImageMessage("x", pdf(95), *[png(8, 8)] * 6, model=SMALL_CONTEXT)
    with pytest.raises(cv.TooManyImagesError, match="95 document pages \\+ 6 images"):
        message.to_param()


def test_pages_of_several_documents_add_up() -> None:
    message = cv.ImageMessage("x", pdf(60), pdf(60), model=SMALL_CONTEXT)
    with pytest.raises(cv.TooManyPagesError, match="120 PDF pages"):
        message.to_param()


def test_a_prepared_document_keeps_its_title_in_a_message() -> None:
    document = cv.prepare_document(pdf(2), title="Q3", citations=True)
    message = cv.ImageMessage("What changed?", document, model=LARGE_CONTEXT)
    content = message.to_param()["content"]
    assert isinstance(content, list)
    block = content[0]
    assert block["type"] == "document" and block["title"] == "Q3"


# -- the local server refuses what the API refuses; the library fixes it first ---------------


def document_turn(*blocks: dict[str, object]) -> dict[str, object]:
    return {"role": "user", "content": [*blocks, {"type": "text", "text": "Summarise."}]}


def raw_document(data: bytes) -> dict[str, object]:
    import base64

    text = base64.b64encode(data).decode()
    return {"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
                                           "data": text}}  # fmt: skip


def _refused(server: ClaudeServer, messages: list[dict[str, object]], model: str) -> str:
    import anthropic

    with pytest.raises(anthropic.BadRequestError) as caught:
        server.client().messages.create(model=model, max_tokens=20, messages=messages)  # type: ignore[arg-type]
    return str(caught.value)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (encrypted(pdf(2)), "encrypted"),
        (pdf(3)[: len(pdf(3)) // 3], "not valid"),
        (b"<html>no pdf</html>" * 5, "not valid"),
    ],
    ids=["encrypted", "truncated", "not-a-pdf"],
)
def test_bad_pdfs_are_refused_by_the_server_and_replaced_by_the_repair(
    server: ClaudeServer, data: bytes, text: str
) -> None:
    history = [document_turn(raw_document(data))]
    assert text in _refused(server, history, LARGE_CONTEXT)
    repaired = cv.repair_messages(history, model=LARGE_CONTEXT)
    (change,) = repaired.changes
    assert change.what is cv.ChangeKind.REPLACED
    server.client().messages.create(model=LARGE_CONTEXT, max_tokens=20, messages=repaired.messages)


def test_too_many_pages_are_refused_then_dropped_oldest_first(server: ClaudeServer) -> None:
    history = [document_turn(raw_document(pdf(60))), document_turn(raw_document(pdf(60)))]
    assert "A maximum of 100 PDF pages may be provided" in _refused(server, history, SMALL_CONTEXT)
    with pytest.raises(cv.TooManyPagesError, match="120 PDF pages"):
        cv.repair_messages(history, model=SMALL_CONTEXT)
    repaired = cv.repair_messages(history, model=SMALL_CONTEXT, drop_oldest=True)
    assert [c.what for c in repaired.changes] == [cv.ChangeKind.DROPPED]
    assert repaired.changes[0].where.message == 0
    server.client().messages.create(model=SMALL_CONTEXT, max_tokens=20, messages=repaired.messages)


def test_pages_and_images_in_a_history_share_the_media_limit(server: ClaudeServer) -> None:
    import base64

    from .conftest import png

    data = base64.b64encode(png(8, 8)).decode()
    source = {"type": "base64", "media_type": "image/png", "data": data}
    image: dict[str, object] = {"type": "image", "source": source}
    history = [document_turn(raw_document(pdf(95)), *[image] * 6)]
    assert "Too much media: 95 document pages + 6 images > 100" in _refused(
        server, history, SMALL_CONTEXT
    )
    with pytest.raises(cv.TooManyImagesError, match="95 document pages \\+ 6 images"):
        cv.repair_messages(history, model=SMALL_CONTEXT)
    repaired = cv.repair_messages(history, model=SMALL_CONTEXT, drop_oldest=True)
    assert [c.what for c in repaired.changes] == [cv.ChangeKind.DROPPED]
    server.client().messages.create(model=SMALL_CONTEXT, max_tokens=20, messages=repaired.messages)


def test_a_request_repairs_documents_in_dict_turns(server: ClaudeServer) -> None:
    earlier = document_turn(raw_document(encrypted(pdf(1))))
    turns: list[Any] = [
        earlier,
        {"role": "assistant", "content": "It is locked."},
        cv.ImageMessage("And this one?", pdf(2), model=LARGE_CONTEXT),
    ]
    answer = cv.Vision(server.client(), model=LARGE_CONTEXT).send(*turns)
    assert answer.text
    sent = [r for r in server.requests if r.path == "/v1/messages"][-1].body["messages"]
    assert (
        sent[0]["content"][0]["type"] == "text"
        and "document removed" in sent[0]["content"][0]["text"]
    )


def test_a_tall_page_is_cut_into_tiles_mapped_back_to_points() -> None:
    box = (50.0, 2500.0, 100.0, 80.0)  # x, y (upward), width, height on a 400 x 3000 receipt
    tiles = cv.pdf_page_tiles(pdf(1, size=(400, 3000), box=box), 1, model=LARGE_CONTEXT)
    assert len(tiles) > 1 and all(tile.image.size == tile.image.model_size for tile in tiles)
    expected = (box[0], 3000 - box[1] - box[3], box[0] + box[2], 3000 - box[1])
    for tile in tiles:
        pixels = np.asarray(_decoded(tile.image))
        blue = (pixels[:, :, 2] > 200) & (pixels[:, :, 0] < 60) & (pixels[:, :, 1] < 60)
        ys, xs = np.nonzero(blue)
        if not len(ys) or ys.min() == 0 or ys.max() == pixels.shape[0] - 1:
            continue  # not here, or cut by the tile's edge
        x0, y0 = tile.transform.to_screen(float(xs.min()), float(ys.min()))
        x1, y1 = tile.transform.to_screen(float(xs.max() + 1), float(ys.max() + 1))
        found = (x0, y0, x1, y1)
        assert all(abs(a - b) <= 1.0 for a, b in zip(found, expected, strict=True)), found
        return
    pytest.fail("no tile shows the whole box")


def test_hostile_pdfs_cost_what_a_page_costs() -> None:
    huge = pdf(1, size=(200_000, 200_000))  # a page declaring 200,000 x 200,000 points
    assert cv.prepare_document(huge).pages == 1
    (page,) = cv.pdf_pages(huge, [1], model=LARGE_CONTEXT)
    assert page.image.size == page.image.model_size
    lying = pdf(1).replace(b"/Count 1", b"/Count 1000000")  # a million-page page tree
    with pytest.raises(cv.TooManyPagesError):
        cv.prepare_document(lying)
    nested = pdf(1).replace(b"/Type /Catalog", b"/Type /Catalog /Deep " + b"[" * 5000 + b"]" * 5000)
    assert cv.prepare_document(nested).pages == 1
    with pytest.raises(cv.ImageTooLargeError, match="max_pixels"):
        cv.pdf_page_tiles(pdf(1, size=(1, 14_400)), 1)  # a 1-point-wide strip, tiled


def test_drawing_a_page_stops_at_its_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """PDFium draws in slices; between them the deadline (Bounds.render_seconds) is
    checked. A clock that runs 0.1 s per look stands in for a page that draws slowly."""
    import itertools

    from claudevision._prepare import pdf as pdf_module

    ops = b"".join(b"%d %d 3 3 re f\n" % (i % 600, (i * 7) % 780) for i in range(200_000))
    data = pdf(1, extra=ops)
    ticks = itertools.count()
    monkeypatch.setattr(pdf_module, "_clock", lambda: next(ticks) * 0.1)
    with pytest.raises(cv.ImageTooLargeError, match="render_seconds"):
        cv.pdf_pages(data, [1], model=LARGE_CONTEXT, bounds=cv.Bounds(render_seconds=1))


def test_prepared_reference_documents_are_checked_for_the_messages_platform() -> None:
    url_document = cv.prepare_document("https://papers.example/a.pdf", title="Paper")
    message = cv.ImageMessage("Summarise", url_document, model=LARGE_CONTEXT)
    block = message.documents[0].block
    assert block["source"] == {"type": "url", "url": "https://papers.example/a.pdf"}
    assert block["title"] == "Paper"
    file_document = cv.prepare_document(cv.FileIdSource(file_id="file_1"))
    with pytest.raises(cv.UnsupportedSourceError, match="only as base64"):
        cv.ImageMessage("x", file_document, platform="vertex", model=LARGE_CONTEXT).to_param()


# -- review fixes -------------------------------------------------------------------------------


def test_a_compressed_bomb_page_costs_nothing_to_check() -> None:
    import re
    import zlib

    bomb = zlib.compress(b" " * 200_000_000)  # 200 MB of page content in 200 KB
    data = pdf(1).replace(b"<< /Length", b"<< /Filter /FlateDecode /Length", 1)
    start, end = data.index(b"stream\n") + 7, data.index(b"\nendstream")
    data = data[:start] + bomb + data[end:]
    data = re.sub(rb"/Length \d+", b"/Length %d" % len(bomb), data, count=1)
    assert cv.prepare_document(data).pages == 1


def test_an_encrypt_entry_pdfium_ignores_still_counts_as_encrypted() -> None:
    data = pdf(1).replace(b"trailer\n<< /Size", b"trailer\n<< /Encrypt 99 0 R /Size")
    with pytest.raises(cv.EncryptedPDFError):
        cv.prepare_document(data)


def test_history_documents_in_tuples_non_canonical_base64_and_url_sources(
    server: ClaudeServer,
) -> None:
    import base64

    pasted = base64.encodebytes(pdf(2)).decode()  # line breaks, as pasted
    block = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
                                            "data": pasted}}  # fmt: skip
    url = {"type": "document", "source": {"type": "url", "url": "https://papers.example/a.pdf"}}
    history = [{"role": "user", "content": (block, url, {"type": "text", "text": "?"})}]
    repaired = cv.repair_messages(history, model=LARGE_CONTEXT, platform="bedrock")
    assert [c.what for c in repaired.changes] == [cv.ChangeKind.RETYPED, cv.ChangeKind.REPLACED]
    with ClaudeServer(platform="bedrock") as bedrock:
        bedrock.bedrock_client().messages.create(
            model=LARGE_CONTEXT, max_tokens=20, messages=repaired.messages
        )
    server.urls["https://papers.example/a.pdf"] = pdf(1)
    turns: list[Any] = [history[0], {"role": "assistant", "content": "Hm."},
                        cv.ImageMessage("And?", model=LARGE_CONTEXT)]  # fmt: skip
    cv.Vision(server.client(), model=LARGE_CONTEXT).send(*turns)  # the tuple turn is repaired


def test_file_documents_carry_the_files_beta() -> None:
    document = cv.prepare_document(cv.FileIdSource(file_id="file_abc"))
    kwargs = (
        cv.Request(
            model=LARGE_CONTEXT, turns=(cv.ImageMessage("x", document, model=LARGE_CONTEXT),)
        )
        .render()
        .kwargs
    )
    assert "files-api-2025-04-14" in kwargs["extra_headers"]["anthropic-beta"]


def test_a_documents_title_and_context_count_toward_the_request_size() -> None:
    document = cv.prepare_document(pdf(1), context="x" * 21_000_000)
    with pytest.raises(cv.RequestTooLargeError):
        cv.ImageMessage(
            "x", document, png_image(), platform="bedrock", model=LARGE_CONTEXT
        ).to_param()


def png_image() -> bytes:
    from .conftest import png

    return png(64, 64)
