"""Notebooks: what will be sent, shown; the sent image as pixels or a file; figures as input."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import IO, Any

import anthropic
import pytest
from PIL import Image, ImageChops, ImageStat

import claudevision
from claudevision import (
    Conversation,
    FileIdSource,
    ImageMessage,
    UnsupportedSourceError,
    prepare_image,
    repair_messages,
)

from .conftest import encode, gradient, jpeg, png

MODEL = "claude-sonnet-4-6"
URI = re.compile(r'src="data:image/(jpeg|png);base64,([A-Za-z0-9+/=]+)"')


def thumbnails(html: str) -> list[Image.Image]:
    return [Image.open(io.BytesIO(base64.b64decode(data))) for _, data in URI.findall(html)]


def test_a_prepared_image_shows_a_thumbnail_of_what_is_sent() -> None:
    prepared = prepare_image(jpeg(3000, 2000, orientation=6), model=MODEL)
    html = prepared._repr_html_()

    (thumb,) = thumbnails(html)
    sent = prepared.to_pil()
    assert sent.size == prepared.size  # the sent pixels: upright, resized
    assert (
        max(thumb.size) <= 384 and abs(thumb.width / thumb.height - sent.width / sent.height) < 0.02
    )
    small = sent.convert("RGB").resize(thumb.size)
    difference = ImageChops.difference(thumb.convert("RGB"), small)
    assert max(ImageStat.Stat(difference).mean) < 6  # the same picture, the same way up
    turned = small.transpose(Image.Transpose.ROTATE_180)
    assert max(ImageStat.Stat(ImageChops.difference(thumb.convert("RGB"), turned)).mean) > 20
    size = prepared.size or (0, 0)
    for text in ("2000 x 3000", f"{size[0]} x {size[1]}", f"{prepared.tokens:,}", "image/jpeg"):
        assert text in html
    assert f"${prepared.cost():.5f}" in html
    assert "applied EXIF orientation 6" in html and "resized 2000x3000" in html
    assert repr(prepared).startswith("PreparedImage(label=") and len(repr(prepared)) < 200


def test_to_pil_and_save_give_the_sent_image(tmp_path: Path) -> None:
    prepared = prepare_image(png(300, 200, "RGBA"), model=MODEL)
    assert prepared.to_pil().mode == "RGBA" and prepared.to_pil().size == (300, 200)
    path = prepared.save(tmp_path / "sent.png")
    assert path.read_bytes() == prepared.data


def test_an_image_the_api_fetches_has_no_pixels_here() -> None:
    prepared = prepare_image(FileIdSource(file_id="file_011"), model=MODEL)
    assert "not downloaded here" in prepared._repr_html_()
    with pytest.raises(UnsupportedSourceError, match="to_pil"):
        prepared.to_pil()
    with pytest.raises(UnsupportedSourceError, match="save"):
        prepared.save("x.png")


def test_a_message_shows_every_image_and_its_prompt_escaped() -> None:
    message = ImageMessage("<b>Which</b> is larger?", png(200, 100), jpeg(800, 600), model=MODEL)
    html = message._repr_html_()
    assert len(thumbnails(html)) == 2
    assert "&lt;b&gt;Which&lt;/b&gt; is larger?" in html and "<b>Which</b>" not in html
    assert f"{message.tokens:,} image tokens" in html
    assert (
        repr(message)
        == "ImageMessage('<b>Which</b> is larger?', 2 image(s), model='claude-sonnet-4-6')"
    )


def test_a_repair_shows_its_changes() -> None:
    data = base64.b64encode(png(64, 64)).decode()
    history = [
        {
            "role": "user",
            "content": [
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/jpeg", "data": data},
                },
                {"type": "text", "text": "What is it?"},
            ],
        },
    ]
    html = repair_messages(history, model=MODEL)._repr_html_()
    assert "messages[0].content[0]" in html and "retyped" in html and "1 change(s)" in html
    clean = repair_messages(repair_messages(history, model=MODEL).messages, model=MODEL)
    assert "already accepted" in clean._repr_html_()


def test_answers_and_conversations_in_a_notebook(client: anthropic.Anthropic) -> None:
    answer = claudevision.ask("What is it?", png(640, 480), client=client, model=MODEL)
    markdown = answer._repr_markdown_()
    assert markdown.startswith(answer.text)
    assert f"{answer.usage.input_tokens:,} input tokens" in markdown and "1 image(s)" in markdown
    assert repr(answer).startswith("Answer(") and len(repr(answer)) < 120

    history = [
        {
            "role": "user",
            "content": [
                {
                    "type": "image",
                    "source": {
                        "type": "base64",
                        "media_type": "image/png",
                        "data": base64.b64encode(png(64, 48)).decode(),
                    },
                },
                {"type": "text", "text": "Earlier"},
            ],
        },
        {"role": "assistant", "content": "An earlier answer"},
    ]
    chat = Conversation(client, model=MODEL, history=history)
    chat.ask("And this <one>?", jpeg(320, 240))
    html = chat._repr_html_()
    assert len(thumbnails(html)) == 2  # the earlier image and the new one
    assert "An earlier answer" in html and "And this &lt;one&gt;?" in html
    assert repr(chat) == "Conversation(model='claude-sonnet-4-6', 4 turn(s))"


def test_a_matplotlib_figure_is_an_image() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 3), dpi=100)
    figure.add_subplot().plot([1, 3, 2])
    prepared = prepare_image(figure, model=MODEL)
    assert prepared.size == (400, 300) and prepared.media_type == "image/png"
    assert prepared.label == "matplotlib Figure" and prepared.unchanged
    huge = Figure(figsize=(100, 100), dpi=1000)
    with pytest.raises(claudevision.ImageTooLargeError, match="lower its dpi"):
        prepare_image(huge, model=MODEL)


@pytest.mark.parametrize("prefix", [b"", b"data:image/png;base64,", b"  \n"])
def test_bytes_holding_base64_are_decoded(prefix: bytes) -> None:
    data = png(120, 80)
    prepared = prepare_image(prefix + base64.encodebytes(data), model=MODEL)
    assert prepared.data == data and prepared.size == (120, 80)


def test_other_bytes_are_taken_as_they_are() -> None:
    data = encode(gradient(64, 64), "GIF")
    assert prepare_image(data, model=MODEL).data == data


def display_of(value: Any) -> dict[str, Any]:
    """What IPython's display machinery would show for ``value``."""
    from IPython.core.formatters import DisplayFormatter

    shown: dict[str, Any] = DisplayFormatter().format(value)[0]  # type: ignore[no-untyped-call]
    return shown


def test_ipython_picks_the_rich_views() -> None:
    prepared = prepare_image(png(100, 100), model=MODEL)
    shown = display_of(prepared)
    assert "text/html" in shown and shown["text/plain"] == repr(prepared)


# -- every parameter checked before any image work ----------------------------------------------


class _Untouchable(io.RawIOBase):
    """An input that fails the test if anything tries to read it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise AssertionError("an image was read before the call was checked")


def Untouchable() -> IO[bytes]:
    return io.BufferedReader(_Untouchable())


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"stop_sequence": ["."]}, "argument 'stop_sequence'; did you mean 'stop_sequences'"),
        ({"max_tokens": 0}, "max_tokens=0"),
        ({"model": 4}, "model=4"),
        ({"system": 3}, "system: pass a str"),
    ],
)
def test_ask_checks_every_argument_before_any_image(
    client: anthropic.Anthropic, options: dict[str, Any], expected: str
) -> None:
    call = {"model": MODEL, "client": client, **options}
    with pytest.raises(claudevision.ConfigurationError, match=re.escape(expected)):
        claudevision.ask("What is it?", Untouchable(), **call)
    with pytest.raises(claudevision.ConfigurationError, match=re.escape(expected)):
        claudevision.stream("What is it?", Untouchable(), **call)


def test_count_tokens_knows_its_own_keywords(client: anthropic.Anthropic) -> None:
    with pytest.raises(claudevision.ConfigurationError, match="'metadata'"):
        claudevision.count_tokens("Hi", Untouchable(), client=client, model=MODEL, metadata={})
    assert claudevision.count_tokens("Hi", png(64, 64), client=client, model=MODEL) > 0


def test_a_prompt_that_is_not_text_is_refused_first(client: anthropic.Anthropic) -> None:
    with pytest.raises(claudevision.ConfigurationError, match="the prompt comes first"):
        claudevision.ask(png(8, 8), client=client, model=MODEL)  # type: ignore[arg-type]


def test_warnings_name_the_callers_line() -> None:
    with pytest.warns(claudevision.UnknownModelWarning) as caught:
        prepare_image(png(8, 8), model="claude-not-yet-known-7")
    assert caught[0].filename == __file__
    with pytest.warns(claudevision.UnknownModelWarning) as caught:
        ImageMessage("Hi", png(8, 8), model="claude-not-yet-known-8").to_param()
    assert caught[0].filename == __file__


def test_vision_checks_its_arguments_first(client: anthropic.Anthropic) -> None:
    vision = claudevision.Vision(client, model=MODEL)
    with pytest.raises(claudevision.ConfigurationError, match="'tool'; did you mean 'tools'"):
        vision.ask("What is it?", Untouchable(), tool=[])
    with pytest.raises(claudevision.ConfigurationError, match="max_tokens=-3"):
        vision.stream("What is it?", Untouchable(), max_tokens=-3)
