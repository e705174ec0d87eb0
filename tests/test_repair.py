"""History repair: poisoned histories in, requests the (local) API accepts out."""

from __future__ import annotations

import base64
import copy
import io
import itertools
from collections.abc import Callable
from functools import cache
from typing import Any, cast

import anthropic
import numpy as np
import pytest
from PIL import Image

import claudevision as cv
from claudevision import ChangeKind, Conversation, repair_messages
from claudevision.testing import ClaudeServer

from .conftest import encode, jpeg, png

MODEL = "claude-sonnet-4-6"
HIGH = "claude-opus-4-8"
SMALL_CONTEXT = "claude-haiku-4-5"
Block = dict[str, Any]


def image(data: bytes, media_type: str = "image/png") -> Block:
    return {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": media_type,
            "data": base64.b64encode(data).decode(),
        },
    }


@cache
def noise_png(width: int, height: int) -> bytes:
    rng = np.random.default_rng(width * height)
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    return encode(Image.fromarray(pixels), "PNG", compress_level=1)


def blocks(repaired: cv.Repaired, index: int) -> list[Any]:
    return cast("list[Any]", repaired.messages[index]["content"])


def user(*blocks: Block, text: str = "Look.") -> dict[str, Any]:
    return {"role": "user", "content": [*blocks, {"type": "text", "text": text}]}


_CALLS = itertools.count(1)


def tool_turn(*blocks: Block) -> list[dict[str, Any]]:
    """An assistant tool call and the user turn answering it with ``blocks``."""
    call_id = f"toolu_{next(_CALLS)}"  # tool_use ids must be unique in a request
    call = {"type": "tool_use", "id": call_id, "name": "screenshot", "input": {}}
    result = {"type": "tool_result", "tool_use_id": call_id, "content": list(blocks)}
    return [{"role": "assistant", "content": [call]}, {"role": "user", "content": [result]}]


def history_with(blocks: list[Block], where: str) -> list[dict[str, Any]]:
    start = [user(image(png(40, 30)), text="First."), {"role": "assistant", "content": "Ok."}]
    if where == "user":
        return [*start, user(*blocks)]
    return [*start, *tool_turn(*blocks)]


def over_bytes(platform: str) -> Block:
    """A screenshot whose base64 is over the platform's per-image limit."""
    limit = cv.PLATFORMS[platform].max_image_bytes
    side = int((limit * 3 / 4 / 3) ** 0.5) + 60  # noise PNG: about 3 bytes a pixel
    return image(noise_png(side, side))


POISONS: dict[str, Callable[[str], list[Block]]] = {
    "over the byte limit": lambda p: [over_bytes(p)],
    "PNG labelled image/jpeg": lambda p: [image(png(300, 200), "image/jpeg")],
    "over 8000 px": lambda p: [image(png(8100, 60))],
    "21 images over 2000 px": lambda p: [image(png(2100, 40)) for _ in range(21)],
    "damaged": lambda p: [image(png(300, 200)[:-200])],
    "not an image": lambda p: [image(b"SECRET=hunter2 " * 20, "image/png")],
    "URL on a base64-only platform": lambda p: [
        {"type": "image", "source": {"type": "url", "url": "https://example.test/a.png"}}
    ],
}


def send(server: ClaudeServer, platform: str, messages: list[Any]) -> Any:
    client: Any = {
        "anthropic": server.client,
        "bedrock": server.bedrock_client,
        "vertex": server.vertex_client,
    }[platform](max_retries=0)
    return client.messages.create(model=MODEL, max_tokens=50, messages=messages)


@pytest.mark.parametrize("platform", ["anthropic", "bedrock", "vertex"])
@pytest.mark.parametrize("where", ["user", "tool_result"])
@pytest.mark.parametrize("poison", list(POISONS))
def test_poisoned_history_is_refused_then_repaired_and_accepted(
    claude_server: ClaudeServer, platform: str, where: str, poison: str
) -> None:
    if poison.startswith("URL") and platform == "anthropic":
        claude_server.urls["https://example.test/a.png"] = png(30, 30)
    history = history_with(POISONS[poison](platform), where)
    before = copy.deepcopy(history)
    if not poison.startswith("URL") or platform != "anthropic":
        with pytest.raises(anthropic.APIStatusError):  # the poison is real
            send(claude_server, platform, history)
    repaired = repair_messages(history, model=MODEL, platform=platform)
    assert history == before  # the input is never changed
    reply = send(claude_server, platform, repaired.messages)
    assert reply.content[0].type == "text"
    if poison.startswith("URL") and platform == "anthropic":
        assert not repaired.changed
    else:
        assert repaired.changed
        assert all(str(change.where).startswith("messages[") for change in repaired.changes)


@pytest.mark.parametrize("platform", ["anthropic", "bedrock", "vertex"])
def test_every_poison_mixed_in_one_history(claude_server: ClaudeServer, platform: str) -> None:
    history: list[dict[str, Any]] = [user(image(png(40, 30)), text="Start.")]
    for name, make in POISONS.items():
        if name.startswith("URL") and platform == "anthropic":
            continue
        history += [{"role": "assistant", "content": f"Before {name}."}]
        history += tool_turn(*make(platform))
    repaired = repair_messages(history, model=MODEL, platform=platform)
    send(claude_server, platform, repaired.messages)
    kinds = {change.what for change in repaired.changes}
    assert {ChangeKind.REFITTED, ChangeKind.REPLACED, ChangeKind.RETYPED} <= kinds


def test_valid_history_comes_back_identical(claude_server: ClaudeServer) -> None:
    history = [
        user(image(png(300, 200)), image(jpeg(640, 480), "image/jpeg"), text="Compare."),
        {"role": "assistant", "content": [{"type": "text", "text": "The second is larger."}]},
        *tool_turn(image(png(1920, 1080))),  # over the model's size: valid, left for the API
    ]
    repaired = repair_messages(history, model=MODEL)
    assert not repaired.changed
    assert repaired.messages == history
    assert repaired.images == 3
    send(claude_server, "anthropic", repaired.messages)


def test_kept_images_are_byte_for_byte_and_fixed_ones_keep_their_fields() -> None:
    good = image(png(300, 200))
    bad = image(png(300, 200), "image/jpeg")
    bad["cache_control"] = {"type": "ephemeral"}
    repaired = repair_messages([user(good, bad)], model=MODEL)
    first, second = blocks(repaired, 0)[:2]
    assert first == good
    assert second["source"]["data"] == bad["source"]["data"]  # the bytes were fine
    assert second["source"]["media_type"] == "image/png"
    assert second["cache_control"] == {"type": "ephemeral"}
    [change] = repaired.changes
    assert change.what is ChangeKind.RETYPED and "image/jpeg" in change.why


def test_undecodable_image_becomes_a_short_text_that_says_why() -> None:
    repaired = repair_messages([user(image(png(50, 50)[:40]))], model=MODEL)
    block = blocks(repaired, 0)[0]
    assert block["type"] == "text" and block["text"].startswith("[image removed: ")
    assert "damaged" in block["text"] or "truncated" in block["text"]
    assert repaired.images == 0


def test_no_text_of_a_non_image_is_quoted() -> None:
    repaired = repair_messages([user(image(b"SECRET=hunter2 " * 20))], model=MODEL)
    assert "hunter2" not in str(repaired.messages) and "hunter2" not in str(repaired.changes)


def test_images_in_assistant_turns_are_replaced() -> None:
    history = [user(text="Hi"), {"role": "assistant", "content": [image(png(20, 20))]}]
    repaired = repair_messages(history, model=MODEL)
    assert blocks(repaired, 1)[0]["type"] == "text"
    assert repaired.changes[0].what is ChangeKind.REPLACED


def test_too_many_images_raise_unless_the_oldest_may_go(claude_server: ClaudeServer) -> None:
    history = [user(*[image(png(8, 8)) for _ in range(101)])]
    with pytest.raises(cv.TooManyImagesError, match="drop_oldest=True"):
        repair_messages(history, model=SMALL_CONTEXT)
    repaired = repair_messages(history, model=SMALL_CONTEXT, drop_oldest=True)
    assert repaired.images == 100
    [dropped] = [c for c in repaired.changes if c.what is ChangeKind.DROPPED]
    assert dropped.where.block == 0  # the oldest
    client = claude_server.client(max_retries=0)
    client.messages.create(model=SMALL_CONTEXT, max_tokens=10, messages=repaired.messages)


def test_pruning_keeps_the_newest_images_removing_in_chunks() -> None:
    history = [user(image(png(8 + i, 8))) for i in range(35)]
    repaired = repair_messages(history, model=MODEL, keep_images=20)
    pruned = [c for c in repaired.changes if c.what is ChangeKind.PRUNED]
    assert len(pruned) == 10  # 15 over, removed in a chunk of 10: the prefix moves rarely
    assert [c.where.message for c in pruned] == list(range(10))
    assert repaired.images == 25
    again = repair_messages([*history, user(image(png(99, 8)))], model=MODEL, keep_images=20)
    assert len([c for c in again.changes if c.what is ChangeKind.PRUNED]) == 10  # same cut


def test_request_size_limit_shrinks_the_largest_images(claude_server: ClaudeServer) -> None:
    history = [user(image(noise_png(1200, 1200))) for _ in range(8)]  # ~35 MB of base64
    repaired = repair_messages(history, model=MODEL)
    assert len(str(repaired.messages)) < 32_000_000
    assert all(c.what is ChangeKind.REFITTED for c in repaired.changes)
    send(claude_server, "anthropic", repaired.messages)


def test_sdk_objects_are_accepted(claude_server: ClaudeServer) -> None:
    client = claude_server.client(max_retries=0)
    first = user(image(png(30, 30)))
    reply = client.messages.create(model=MODEL, max_tokens=20, messages=[cast(Any, first)])
    history: list[Any] = [first, reply, user(image(png(30, 30), "image/gif"))]
    repaired = repair_messages(history, model=MODEL)
    assert repaired.messages[1]["role"] == "assistant"
    client.messages.create(model=MODEL, max_tokens=20, messages=repaired.messages)


def test_image_tokens_of_the_history() -> None:
    history = [user(image(png(1920, 1080))), user(image(png(200, 200)))]
    repaired = repair_messages(history, model=MODEL)
    assert repaired.image_tokens == 1560 + 64


def test_conversation_from_a_poisoned_history_is_never_refused(
    claude_server: ClaudeServer,
) -> None:
    poisoned = history_with([image(png(8100, 60)), image(png(50, 40), "image/jpeg")], "tool_result")
    chat = Conversation(
        claude_server.client(max_retries=0), model=MODEL, history=cast(Any, poisoned)
    )
    for turn in range(3):
        answer = chat.ask(f"Turn {turn}?", png(60, 40))
        assert "Received" in answer.text
    assert chat.image_tokens is not None
    assert chat.count_tokens() > 0
    assert all(r.status == 200 for r in claude_server.requests)


def test_conversation_with_many_images_counts_history_images(
    claude_server: ClaudeServer,
) -> None:
    """Images already in a history count toward the 20-image rule for new ones too."""
    history = [user(*[image(png(100, 100)) for _ in range(20)])]
    chat = Conversation(claude_server.client(max_retries=0), model=HIGH, history=cast(Any, history))
    answer = chat.ask("And this?", png(2100, 100))  # the 21st image: 2000 px now
    assert answer.images[0].size == (2000, 95)
    assert claude_server.requests[-1].status == 200


def test_bad_options_are_configuration_errors() -> None:
    with pytest.raises(cv.ConfigurationError):
        repair_messages([], model=MODEL, keep_images=-1)
    with pytest.raises(cv.ConfigurationError):
        repair_messages([], model=MODEL, prune_chunk=0)
    with pytest.raises(cv.ConfigurationError):
        repair_messages(["not a message"], model=MODEL)


def test_pruned_images_are_neither_prepared_nor_counted(claude_server: ClaudeServer) -> None:
    big = noise_png(700, 700)  # ~1.5 MB each: 40 of them are over 32 MB, 10 are not
    turns = [cv.ImageMessage(f"Shot {i}.", big) for i in range(40)]
    request = cv.Request(model=MODEL, turns=tuple(turns), keep_images=10)
    rendered = request.render()
    assert len(rendered.images) == 10 and all(image.unchanged for image in rendered.images)
    texts = [b for m in rendered.kwargs["messages"] for b in m["content"] if b["type"] == "text"]
    assert sum(b["text"].startswith("[image removed") for b in texts) == 30
    client = claude_server.client(max_retries=0)
    client.messages.create(**rendered.kwargs)


def test_history_images_are_pruned_with_the_conversation_images() -> None:
    history = [user(image(png(20 + i, 20))) for i in range(15)]
    turns = (*history, cv.ImageMessage("Now?", png(30, 30)))
    rendered = cv.Request(model=MODEL, turns=cast(Any, turns), keep_images=5).render()
    kept = [b for m in rendered.kwargs["messages"] for b in cv_blocks(m) if b["type"] == "image"]
    assert len(kept) == 6  # 16 images, 10 over: pruned in one chunk of 10


def cv_blocks(message: Any) -> list[Any]:
    from claudevision._render.repair import image_blocks

    return [*image_blocks(message), *[b for b in message["content"] if b["type"] != "image"]]


def test_a_block_without_data_is_never_trusted() -> None:
    turns = (
        {"role": "user", "content": [{"type": "image", "source": {"type": "base64"}}]},
        {"role": "assistant", "content": "Ok."},
        cv.ImageMessage("And?", cv.URLSource(url="https://example.test/a.png")),
    )
    rendered = cv.Request(model=MODEL, turns=cast(Any, turns)).render()
    assert rendered.kwargs["messages"][0]["content"][0]["type"] == "text"


def test_sdk_replies_in_turns_are_sent_as_message_params(claude_server: ClaudeServer) -> None:
    client = claude_server.client(max_retries=0)
    reply = client.messages.create(model=MODEL, max_tokens=20, messages=[cast(Any, user())])
    turns = (user(), reply, cv.ImageMessage("More?"))
    rendered = cv.Request(model=MODEL, turns=cast(Any, turns)).render()
    assert set(rendered.kwargs["messages"][1]) == {"role", "content"}


def test_tuple_contents_are_repaired_too() -> None:
    bad = image(png(30, 20), "image/jpeg")
    history = [{"role": "user", "content": (bad, {"type": "text", "text": "Hi"})}]
    repaired = repair_messages(history, model=MODEL)
    assert blocks(repaired, 0)[0]["source"]["media_type"] == "image/png"


def test_repair_keeps_to_the_input_bound() -> None:
    data = png(300, 200)
    repaired = repair_messages(
        [user(image(data))], model=MODEL, bounds=cv.Bounds(max_input_bytes=len(data) - 1)
    )
    assert repaired.changes[0].what is ChangeKind.REPLACED
    assert "max_input_bytes" in repaired.changes[0].why


def test_prepared_image_for_another_tier_is_prepared_again() -> None:
    shot = cv.fit_screenshot(Image.new("RGB", (2880, 1800), "white"), model=HIGH)
    assert shot.image.size == (2420, 1512)
    [sent] = cv.ImageMessage("Hi", shot.image, model=MODEL).images
    assert sent.size == cv.model_size(2420, 1512, cv.TIERS["standard"])
    assert sent.original_size == shot.image.original_size


def test_one_file_object_rendered_from_two_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    message = cv.ImageMessage("Hi", io.BytesIO(png(64, 48)), model=MODEL)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda p: message.prepare(platform=p), ["anthropic", "bedrock"]))
    assert all(isinstance(r[0], cv.PreparedImage) and r[0].size == (64, 48) for r in results)


def test_bad_arguments_are_our_errors() -> None:
    for call in (
        lambda: repair_messages(cast(Any, None), model=MODEL),
        lambda: repair_messages([], model=cast(Any, 5)),
        lambda: repair_messages([], model=MODEL, drop_oldest=cast(Any, "no")),
        lambda: cv.prepare_many(cast(Any, None)),
        lambda: cv.prepare_many([b"x"], max_workers=-1),
        lambda: cv.ImageMessage("x", b"y", oversized_image=cast(Any, "bogus")),
        lambda: cv.ImageMessage("x", model=cast(Any, 5)),
        lambda: cv.prepare_image(b"x", max_side=True),
    ):
        with pytest.raises(cv.ConfigurationError):
            call()


def test_at_most_four_cache_breakpoints_are_sent(claude_server: ClaudeServer) -> None:
    marked = []
    for i in range(4):
        block = image(png(20 + i, 20))
        block["cache_control"] = {"type": "ephemeral"}
        marked.append(user(block))
    before = copy.deepcopy(marked)
    turns = (*marked, cv.ImageMessage("New?", png(30, 30), cache=True))
    kwargs = cv.Request(model=MODEL, turns=cast(Any, turns)).render().kwargs
    found = [b for m in kwargs["messages"] for b in m["content"] if "cache_control" in b]
    assert len(found) == 4 and "cache_control" in kwargs["messages"][-1]["content"][0]
    assert marked == before  # the caller's dicts keep their markers


def test_http_urls_in_a_history_are_replaced() -> None:
    block = {"type": "image", "source": {"type": "url", "url": "http://example.test/a.png"}}
    repaired = repair_messages([user(block)], model=MODEL)
    assert (
        repaired.changes[0].what is ChangeKind.REPLACED and "plain http" in repaired.changes[0].why
    )
