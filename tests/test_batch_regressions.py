"""Message Batches: one test per problem a review found (each failed before its fix)."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from claudevision import BatchStateError, Vision
from claudevision.testing import ClaudeServer

MODEL = "claude-opus-4-8"
FAST: dict[str, Any] = {"poll_interval": 0.02, "max_poll_interval": 0.05, "workers": 1}


def photos(folder: Path, count: int, prefix: str = "photo") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for i in range(count):
        path = folder / f"{prefix}{i:03d}.png"
        Image.new("RGB", (32 + i, 32), (i * 7 % 256, 40, 90)).save(path)
        made.append(path)
    return made


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def submitted(server: ClaudeServer) -> Counter[str]:
    return Counter(cid for b in server.batches._batches.values() for cid, _ in b.results)


def end_all(server: ClaudeServer) -> None:
    for batch in server.batches._batches.values():
        batch.ends_at = 0


@pytest.fixture
def vision(claude_server: ClaudeServer) -> Vision:
    return Vision(claude_server.client(max_retries=0), model=MODEL)


# 1 ------------------------------------------------------------------------------------
def test_killed_after_collect_saved_but_before_the_output_rebuild(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill between ``state.save()`` (chunk ``collected``) and ``_rebuild`` in
    ``_finish``: the run started again finds nothing to do and never writes the output, yet
    its summary says every input succeeded."""
    from claudevision._send import batch as batch_module

    photos(tmp_path / "in", 3)
    out = tmp_path / "out.jsonl"
    real = batch_module._rebuild

    def killed(job: Any) -> None:
        raise SystemExit("kill -9 here")

    monkeypatch.setattr(batch_module, "_rebuild", killed)
    with pytest.raises(SystemExit):
        vision.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    monkeypatch.setattr(batch_module, "_rebuild", real)
    summary = vision.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    assert summary.counts["succeeded"] == 3
    assert len(lines(out)) == 3


# 2 ------------------------------------------------------------------------------------
def test_a_bad_key_on_create_is_not_recorded_as_every_request_errored(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    """A 401 (or 403, 404 from a wrong base URL) on the create call is ``_refused``: the
    chunk is marked collected with every request ``errored`` for good, so the same command
    run again with the right key submits nothing (batch.py:330-332, _transient)."""
    import anthropic

    photos(tmp_path / "in", 3)
    out = tmp_path / "out.jsonl"
    claude_server.fail(401, message="invalid x-api-key")
    with pytest.raises(anthropic.AuthenticationError):
        vision.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    summary = vision.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    assert summary.counts["succeeded"] == 3


# 3 ------------------------------------------------------------------------------------
def test_wait_false_again_collects_the_batches_that_ended(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    """docs/batches.md: "``wait=False`` (``--no-wait``) submits and returns; the same call
    later collects". Called again with ``wait=False`` (a cron job), it never looks at the
    batches: ``plan`` skips ``_wait`` entirely (batch.py:138), so nothing is ever collected."""
    photos(tmp_path / "in", 3)
    claude_server.batch_processing_seconds = 60
    out = tmp_path / "out.jsonl"
    args: dict[str, Any] = {"prompt": "Hi", "out": out, "wait": False, **FAST}
    assert vision.batch([tmp_path / "in"], **args).pending == 3
    end_all(claude_server)
    again = vision.batch([tmp_path / "in"], **args)
    assert again.pending == 0 and again.counts["succeeded"] == 3
    assert len(lines(out)) == 3


# 4 ------------------------------------------------------------------------------------
def test_a_rate_limited_poll_does_not_end_the_run(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    """``_wait`` re-raises any status below 500 but 404 (batch.py:385): one 429 (or 408,
    409) on a ``retrieve`` during a day of polling ends the run with RateLimitError,
    although ``_transient`` already knows a 429 is to be tried again."""
    photos(tmp_path / "in", 2)
    claude_server.batch_processing_seconds = 60
    out = tmp_path / "out.jsonl"
    vision.batch([tmp_path / "in"], prompt="Hi", out=out, wait=False, **FAST)
    end_all(claude_server)
    claude_server.fail(429)
    summary = vision.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    assert summary.counts["succeeded"] == 2


def test_a_connection_lost_while_fetching_results_does_not_end_the_run(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``retrieve`` errors are tolerated in ``_wait`` but a ``fetch`` error in ``_collect``
    (batch.py:402) escapes the plan: a blip while downloading 100,000 results ends a
    day-long ``wait=True`` run."""
    import anthropic
    import httpx2

    from claudevision._send import batch_calls

    photos(tmp_path / "in", 2)
    out = tmp_path / "out.jsonl"
    real = batch_calls.SyncCalls.fetch
    calls = {"n": 0}

    def flaky(self: Any, batch_id: str, path: Path) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise anthropic.APIConnectionError(request=httpx2.Request("GET", "http://x"))
        real(self, batch_id, path)

    monkeypatch.setattr(batch_calls.SyncCalls, "fetch", flaky)
    summary = vision.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    assert summary.counts["succeeded"] == 2


# 5 ------------------------------------------------------------------------------------
def test_another_prompt_with_given_ids_is_refused(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    """docs: "Different arguments (another prompt, model or set of inputs) with the same
    state folder are refused". The fingerprint is the settings and the custom_ids
    (batch.py:500-501); a derived id hashes the prompt, but a given id (mapping, manifest
    ``id`` column) does not, so another prompt resumes silently and mixes two prompts."""
    a, b = photos(tmp_path / "in", 2)
    claude_server.batch_processing_seconds = 60
    out = tmp_path / "out.jsonl"
    first = {"sku-1": a, "sku-2": b}
    vision.batch(first, prompt="First", out=out, max_requests=1, wait=False, **FAST)
    with pytest.raises(BatchStateError):
        vision.batch(
            {"sku-1": a, "sku-2": b}, prompt="Second", out=out, max_requests=1, wait=False, **FAST
        )


def test_other_images_under_the_same_given_ids_are_refused(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    """The same hole for the images: {"sku-1": "a.png"} then {"sku-1": "b.png"}."""
    a, b = photos(tmp_path / "in", 2)
    claude_server.batch_processing_seconds = 60
    out = tmp_path / "out.jsonl"
    vision.batch({"sku-1": a}, prompt="Hi", out=out, wait=False, **FAST)
    with pytest.raises(BatchStateError):
        vision.batch({"sku-1": b}, prompt="Hi", out=out, wait=False, **FAST)


def test_in_memory_images_of_the_same_size_are_told_apart(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    """An in-memory image's id is derived from ``describe_input`` ("bytes (N bytes)") and
    the prompt (batch_inputs.py:105, 239): two different images of the same byte length get
    the same id base, so a run resumed with other images is taken as the same run."""
    import io

    def bmp(colour: tuple[int, int, int]) -> bytes:
        data = io.BytesIO()
        Image.new("RGB", (16, 16), colour).save(data, "BMP")
        return data.getvalue()

    red, blue = bmp((255, 0, 0)), bmp((0, 0, 255))
    assert red != blue and len(red) == len(blue)
    claude_server.batch_processing_seconds = 60
    out = tmp_path / "out.jsonl"
    vision.batch([red], prompt="Colour?", out=out, wait=False, **FAST)
    with pytest.raises(BatchStateError):
        vision.batch([blue], prompt="Colour?", out=out, wait=False, **FAST)


# 6 ------------------------------------------------------------------------------------
def test_a_lost_create_does_not_adopt_another_runs_batch(
    claude_server: ClaudeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after ``submitting`` is saved and before the create leaves (batch.py:333-336),
    the run started again lists batches made since ``intent_at - 300 s`` with as many
    requests and adopts the oldest (batch_calls.py:_ours, ``find``). Another run over the
    same inputs and prompt made a minute before with another model (or system prompt, or
    max_tokens) has the same derived custom_ids (they hash only input and prompt), so the
    check at collect passes and this run's output holds the other model's answers; the
    server never saw this run's requests."""
    from claudevision._send import batch_calls

    photos(tmp_path / "in", 3)
    client = claude_server.client(max_retries=0)
    other = Vision(client, model="claude-sonnet-4-6")
    other.batch([tmp_path / "in"], prompt="Hi", out=tmp_path / "sonnet.jsonl", **FAST)

    real = batch_calls.SyncCalls.create
    monkeypatch.setattr(
        batch_calls.SyncCalls, "create", lambda *a: (_ for _ in ()).throw(SystemExit("kill"))
    )
    ours = Vision(client, model=MODEL)
    out = tmp_path / "opus.jsonl"
    with pytest.raises(SystemExit):
        ours.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    monkeypatch.setattr(batch_calls.SyncCalls, "create", real)
    ours.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    assert {line["model"] for line in lines(out)} == {MODEL}
    assert len(claude_server.batches._batches) == 2


# 7 ------------------------------------------------------------------------------------
def test_a_run_that_ended_while_this_one_listed_its_inputs_is_not_repeated(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Vision.batch`` reads ``state.json`` in ``new_job`` (``State.open``) and only then
    takes the folder's lock (client.py ``with job.state.locked()``). A run that holds the
    lock and finishes in between (two cron jobs, a double Enter) leaves this one with the
    state it read before: it prepares and submits every input again."""
    from claudevision._send import client as client_module

    photos(tmp_path / "in", 3)
    out = tmp_path / "out.jsonl"
    real = client_module.new_job  # type: ignore[attr-defined]
    first = {"done": False}

    def slow_listing(*args: Any, **kwargs: Any) -> Any:
        job = real(*args, **kwargs)
        if not first["done"]:  # the other run takes the lock and ends meanwhile
            first["done"] = True
            vision.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
        return job

    monkeypatch.setattr(client_module, "new_job", slow_listing)
    vision.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    sent = submitted(claude_server)
    assert all(count == 1 for count in sent.values()), sent


# 8 ------------------------------------------------------------------------------------
def test_a_manifest_image_named_file_something_is_beside_the_manifest(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``_resolve`` (batch_inputs.py:200) leaves any reference starting ``file_`` as it is,
    taking it for a Files API id; but a plain string is never read as a file id (only
    ``FileIdSource`` is), so ``file_001.png`` beside the manifest (a common camera or
    export name) is looked up in the current folder instead and reported not found."""
    folder = tmp_path / "catalogue"
    folder.mkdir()
    Image.new("RGB", (20, 20), "red").save(folder / "file_001.png")
    (folder / "list.csv").write_text("id,image\nsku-1,file_001.png\n")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out.jsonl"
    vision.batch(["catalogue/list.csv"], prompt="Hi", out=out, **FAST)
    (line,) = lines(out)
    assert line["status"] == "succeeded", line["error"]


def test_csv_images_of_urls_split_on_the_bar() -> None:
    """docs: "``images`` for several: a JSON list, or ``|`` between them in a CSV". The bar
    is ignored as soon as the cell holds ``://`` (batch_inputs.py:191): two URLs, or a path
    and a URL, become one reference that can never load."""
    import tempfile

    from claudevision._send.batch_inputs import batch_inputs

    with tempfile.TemporaryDirectory() as folder:
        manifest = Path(folder) / "list.csv"
        manifest.write_text(
            "images\n"
            "https://example.com/a.png|https://example.com/b.png\n"
            "a.png|https://example.com/b.png\n"
        )
        items = batch_inputs([str(manifest)], prompt="Hi")
    assert [len(item.images) for item in items] == [2, 2]


def test_a_jsonl_numeric_id_is_taken_as_the_csv_one_is() -> None:
    """The same catalogue as CSV (``id`` 42 read as "42") is accepted, as JSON Lines
    (``{"id": 42}``) every row is ``invalid_input``: valid_custom_id wants a str."""
    import tempfile

    from claudevision._send.batch_inputs import batch_inputs

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "list.csv").write_text("id,image\n42,a.png\n")
        (Path(folder) / "list.jsonl").write_text('{"id": 42, "image": "b.png"}\n')
        from_csv = batch_inputs([os.path.join(folder, "list.csv")], prompt="Hi")
        from_json = batch_inputs([os.path.join(folder, "list.jsonl")], prompt="Hi")
    assert from_csv[0].custom_id == "42" and from_csv[0].problem is None
    assert from_json[0].problem is None


def test_a_jsonl_manifest_with_a_byte_order_mark() -> None:
    """The CSV reader takes a BOM (``utf-8-sig``), the JSON Lines reader does not
    (batch_inputs.py:167): a JSONL saved by a Windows editor loses its first row."""
    import tempfile

    from claudevision._send.batch_inputs import batch_inputs

    with tempfile.TemporaryDirectory() as folder:
        manifest = Path(folder) / "list.jsonl"
        manifest.write_text('{"id": "a", "image": "a.png"}\n', encoding="utf-8-sig")
        (item,) = batch_inputs([str(manifest)], prompt="Hi")
    assert item.problem is None and item.custom_id == "a"


def test_a_csv_row_holding_a_large_data_url_is_read(tmp_path: Path) -> None:
    """Data URLs are manifest references (``_URL_PREFIXES``), but the csv module refuses a
    field over 131,072 characters: one inline image of ~100 KB or more turns the whole manifest
    into a ManifestError (batch_inputs.py:162) instead of a row."""
    import base64
    import io

    from claudevision._send.batch_inputs import batch_inputs

    data = io.BytesIO()
    Image.frombytes("RGB", (220, 220), os.urandom(220 * 220 * 3)).save(data, "PNG")
    url = "data:image/png;base64," + base64.b64encode(data.getvalue()).decode()
    assert len(url) > 131_072
    manifest = tmp_path / "list.csv"
    manifest.write_text(f"id,image\nbig,{url}\nsmall,a.png\n")
    items = batch_inputs([str(manifest)], prompt="Hi")
    assert [item.custom_id for item in items] == ["big", "small"]


def test_ids_do_not_depend_on_how_a_path_is_spelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The id hashes the input string as given (batch_inputs.py:239): ``in/a.png``,
    ``./in/a.png`` and ``in//a.png`` (a glob ``./in/*.png`` gives the ``./`` form) are
    three custom_ids for one file, and a resume spelled differently is refused as
    "other arguments (model 'm', 1 inputs; now 'm', 1 inputs...)"."""
    from claudevision._send.batch_inputs import batch_inputs

    photos(tmp_path / "in", 1)
    monkeypatch.chdir(tmp_path)
    ids = {
        batch_inputs([spelled], prompt="Hi")[0].custom_id
        for spelled in ("in/photo000.png", "./in/photo000.png", "in//photo000.png", "./in/*.png")
    }
    assert len(ids) == 1, ids


# 9 ------------------------------------------------------------------------------------
def test_a_preparer_that_skips_a_row_is_caught(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    """``prepare=`` is a documented extension point (``Preparer``), but ``_prepare`` never
    checks that row i is input i (batch.py:216-229): chunk ranges are positions. A preparer
    that yields one row fewer (drops a failure, say) leaves ``pending=1``; the next run
    prepares ``items[prepared:]`` by position and sends an input that was already sent."""
    from claudevision._send.batch_prepare import prepare_row

    made = photos(tmp_path / "in", 3)
    (tmp_path / "in" / "a-broken.png").write_bytes(b"no")  # sorts first

    def only_good(items: Any, *, settings: Any) -> Any:
        rows = (prepare_row(item, settings) for item in items)
        return (row for row in rows if "error" not in row)

    out = tmp_path / "out.jsonl"
    args: dict[str, Any] = {"prompt": "Hi", "out": out, "prepare": only_good, **FAST}
    try:
        vision.batch([tmp_path / "in"], **args)
        vision.batch([tmp_path / "in"], **args)
    except Exception:
        return  # the mismatch is reported: what should happen
    ids = Counter(line["custom_id"] for line in lines(out))
    assert all(count == 1 for count in ids.values()), ids
    assert len(made) == 3


# 10 -----------------------------------------------------------------------------------
class _KillsItsProcess:
    """An input whose preparation kills the preparing process (as a segfault in a
    decoder, or the OOM killer, would)."""

    def __reduce__(self) -> Any:
        return (os._exit, (3,))


def test_an_input_that_kills_its_worker_is_reported_not_fatal_for_ever(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    """A worker that dies ends the run with InternalError (batch_workers.py:154-156); the
    same command again dies at the same input, so the run can never finish. The issue:
    "Inputs that fail preparation are reported in the output ... and do not stop the
    rest"."""
    made = photos(tmp_path / "in", 10)
    out = tmp_path / "out.jsonl"
    args: dict[str, Any] = {"prompt": "Hi", "out": out, "poll_interval": 0.02}
    summary = vision.batch([*made, _KillsItsProcess()], workers=2, **args)
    assert summary.counts["succeeded"] == 10 and summary.counts["invalid_input"] == 1


# 11 -----------------------------------------------------------------------------------
def test_a_deleted_output_is_written_again_by_the_same_call(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    """The output is only rebuilt in ``_finish``: with every chunk collected, the same call
    (or one with the same ``state=`` and another ``out=``) says "3 succeeded" and writes
    no file."""
    photos(tmp_path / "in", 3)
    out = tmp_path / "out.jsonl"
    vision.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    out.unlink()
    summary = vision.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    assert summary.counts["succeeded"] == 3
    assert len(lines(out)) == 3


# 12 -----------------------------------------------------------------------------------
def test_collected_chunks_do_not_keep_their_create_bodies(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    """Each chunk's create body (base64 images, up to 256 MB) stays in the state folder
    for ever (chunks/NNNNN.json), beside its raw results: with ``files=False`` a set of
    100,000 photos leaves a copy of every image, base64, on disk."""
    photos(tmp_path / "in", 3)
    out = tmp_path / "out.jsonl"
    vision.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    left = sorted(p.name for p in (tmp_path / "out.jsonl.state" / "chunks").glob("*.json"))
    assert left == []


# 14 -----------------------------------------------------------------------------------
def test_limits_past_the_api_s_are_refused_before_anything_is_sent(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    """``max_requests`` / ``max_bytes`` (``--max-requests``) are never checked: 0 or -1
    act as 1 (plus an empty chunk), and 150,000 makes chunks the API refuses with a 400,
    which ``_submit`` records as every request ``errored`` for good (see the 401 test)."""
    from claudevision import ConfigurationError

    photos(tmp_path / "in", 1)
    cases: list[dict[str, Any]] = [
        {"max_requests": 0},
        {"max_requests": 150_000},
        {"max_bytes": 300_000_000},
    ]
    for bad in cases:
        with pytest.raises(ConfigurationError):
            vision.batch([tmp_path / "in"], prompt="Hi", out=tmp_path / "o.jsonl", **bad, **FAST)


def test_a_mapping_to_a_folder_or_manifest_is_not_one_broken_request(tmp_path: Path) -> None:
    """docs/batches.md: a mapping ``{custom_id: input}`` takes "the inputs above" (folders,
    globs, manifests...). ``_given`` makes any value one request whose image is the value
    (batch_inputs.py:96), so ``{"shelf": "photos/"}`` is a request that can only fail."""
    from claudevision import ConfigurationError
    from claudevision._send.batch_inputs import batch_inputs

    photos(tmp_path / "in", 2)
    try:
        items = batch_inputs({"shelf": str(tmp_path / "in")}, prompt="Hi")
    except ConfigurationError:
        return  # refused up front with a clear message: fine
    assert len(items) == 2


def test_a_lost_create_beside_another_batch_of_the_same_size_is_not_sent_twice(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    """Even when the other batch's ids differ: our create went through but its answer was
    lost; ``find`` sees two candidates (ours, and another run's of as many requests made
    in the 300 s margin before) and takes the oldest, the other's (batch_calls.py:111).
    At collect the ids differ, so the chunk is submitted again: ours is orphaned, each
    custom_id is sent (and billed) twice."""
    photos(tmp_path / "in", 3)
    vision.batch([tmp_path / "in"], prompt="Other prompt", out=tmp_path / "o.jsonl", **FAST)
    claude_server.lose()  # our create is done by the server, its answer lost
    out = tmp_path / "out.jsonl"
    vision.batch([tmp_path / "in"], prompt="Hi", out=out, **FAST)
    sent = submitted(claude_server)
    assert all(count == 1 for count in sent.values()), sent


# 15 -----------------------------------------------------------------------------------
def test_the_progress_bar_moves_while_the_first_chunk_is_prepared(
    claude_server: ClaudeServer, vision: Vision, tmp_path: Path
) -> None:
    """``BatchProgress.prepared`` is ``state.prepared``: the end of the last *sealed* chunk
    (batch.py ``Job.report``). A run of up to 100,000 inputs is one chunk, so the bar of
    ``claudevision batch`` reads 0/N for the whole preparation (minutes of decoding
    photos) and jumps to N/N at the end; the report every 100 rows repeats the same 0."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(250):
        Image.new("RGB", (8, 8), (i, 0, 0)).save(folder / f"p{i:03d}.png")
    seen: list[int] = []

    def progress(p: Any) -> None:
        if p.phase == "preparing":
            seen.append(p.prepared)

    vision.batch([folder], prompt="Hi", out=tmp_path / "o.jsonl", progress=progress, **FAST)
    assert any(0 < n < 250 for n in seen), seen
