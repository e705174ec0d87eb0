"""What a batch is made of: one :class:`BatchInput` per request, each with a stable id.

    >>> [item.custom_id for item in batch_inputs(["https://example.com/a.png"], prompt="Hi")]
    ['a-png-...']

Inputs are paths, folders (their images and PDFs, recursively), globs, ``http(s)://``
URLs, CSV or JSON Lines manifests (a row per request: ``image`` or ``images``, and
optionally ``prompt`` and ``id``), :class:`~claudevision.ImageMessage` objects and other
images (bytes, PIL images); a mapping gives each its ``custom_id``. Every id is derived
from what the input is (its name and its prompt), so the same arguments give the same ids
on every run: what a resumed run relies on. Nothing here reads an image.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._core.exceptions import ConfigurationError, ManifestError
from .._read.expand import DOCUMENT_SUFFIXES, IMAGE_SUFFIXES, expand, is_pattern
from .._read.sources import describe_input
from .._render.message import ImageMessage

__all__ = ["BatchInput", "batch_inputs", "valid_custom_id"]

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MANIFESTS = (".csv", ".jsonl", ".ndjson")
_IMAGE_KEYS = ("image", "images", "path", "url", "file")
_ID_KEYS = ("custom_id", "id")
_URL_PREFIXES = ("http://", "https://", "data:")
_CELL_LIMIT = 64 * 1024 * 1024  # a data URL of a large image fits in one cell


@dataclass(frozen=True)
class BatchInput:
    """One request of a batch before it is prepared."""

    custom_id: str
    """The request's ``custom_id``: given, or derived from the input (stable across runs)."""
    input: str
    """How the results file names the input: a path, a URL, ``manifest.csv:3``."""
    prompt: str | None = None
    images: tuple[Any, ...] = ()
    message: ImageMessage | None = None
    """A message given whole (its own prompt and images)."""
    problem: str | None = None
    """Why the input cannot be sent, known before preparing (no file matches, a bad row)."""
    key: str = ""
    """A digest of what the request is (its images' names or contents, its prompt): what
    a resumed run must find unchanged."""


def valid_custom_id(value: object) -> bool:
    """Whether the API takes ``value`` as a ``custom_id``: 1 to 64 of ``[A-Za-z0-9_-]``."""
    return isinstance(value, str) and bool(_ID.match(value))


@dataclass(frozen=True)
class _Draft:
    input: str
    prompt: str | None = None
    images: tuple[Any, ...] = ()
    message: ImageMessage | None = None
    problem: str | None = None
    custom_id: str | None = None


def batch_inputs(
    inputs: Iterable[Any] | Mapping[str, Any],
    *,
    prompt: str | None,
    paths: bool = True,
    salt: str = "",
) -> list[BatchInput]:
    """Every request of a batch, in order, each with a unique ``custom_id``.

    ``paths=False``: no string is read as a path (URLs and messages only). ``salt`` (the
    run's settings) goes into derived ids: runs with other settings never share an id.
    """
    if isinstance(inputs, (str, bytes, os.PathLike)):
        inputs = [inputs]
    if isinstance(inputs, Mapping):
        drafts = [_given(key, value, prompt) for key, value in inputs.items()]
    else:
        drafts = [d for item in inputs for d in _drafts(item, prompt, paths)]
    if not drafts:
        raise ConfigurationError("the batch has no inputs; pass images, folders or a manifest")
    return _with_ids(drafts, salt)


def _given(custom_id: object, value: Any, prompt: str | None) -> _Draft:
    if not valid_custom_id(custom_id):
        raise ConfigurationError(
            f"custom_id {custom_id!r}: the API takes 1 to 64 letters, digits, '_' or '-'"
        )
    if isinstance(value, ImageMessage):
        return _Draft(_message_name(value), message=value, custom_id=str(custom_id))
    if isinstance(value, (str, os.PathLike)):
        name = os.fspath(value)
        if not name.startswith(_URL_PREFIXES) and (
            os.path.isdir(name) or is_pattern(name) or name.lower().endswith(_MANIFESTS)
        ):
            raise ConfigurationError(
                f"custom_id {custom_id!r} names {name!r}, a folder, pattern or manifest: a "
                "mapping gives one request per id; pass such inputs in a list instead"
            )
    return _Draft(_name(value), prompt, (value,), custom_id=str(custom_id))


def _drafts(item: Any, prompt: str | None, paths: bool) -> Iterator[_Draft]:
    if isinstance(item, ImageMessage):
        yield _Draft(_message_name(item), message=item)
    elif isinstance(item, (os.PathLike, str)):
        yield from _named(os.fspath(item), prompt, paths)
    else:
        yield _Draft(describe_input(item), prompt, (item,))


def _named(name: str, prompt: str | None, paths: bool) -> Iterator[_Draft]:
    if name.startswith(_URL_PREFIXES):
        yield _Draft(_name(name), prompt, (name,))
    elif not paths:
        yield _Draft(name[:200], problem="strings are not read as paths here (paths=False)")
    elif name.lower().endswith(_MANIFESTS) and os.path.isfile(name):
        yield from _manifest(Path(name), prompt)
    else:
        for found, problem in expand([name], IMAGE_SUFFIXES | DOCUMENT_SUFFIXES):
            found = found if problem else os.path.normpath(found)
            yield _Draft(found, prompt, () if problem else (found,), problem=problem)


def _manifest(path: Path, prompt: str | None) -> Iterator[_Draft]:
    """The rows of a CSV or JSON Lines manifest, references resolved beside it."""
    rows = _csv_rows(path) if path.suffix.lower() == ".csv" else _json_rows(path)
    for line, row in rows:
        where = f"{path}:{line}"
        if isinstance(row, str):
            yield _Draft(where, problem=row)
            continue
        references = _references(row)
        if not references:
            keys = ", ".join(_IMAGE_KEYS)
            yield _Draft(where, problem=f"the row names no image (give one of: {keys})")
            continue
        if any("\x00" in reference for reference in references):
            yield _Draft(where, problem="an image reference holds a NUL character")
            continue
        text = row.get("prompt")
        row_prompt = text if isinstance(text, str) and text else prompt
        images = tuple(_resolve(path, reference) for reference in references)
        value = next((row[k] for k in _ID_KEYS if row.get(k) not in (None, "")), None)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # {"id": 42} as a CSV's 42
        custom_id = str(value) if valid_custom_id(value) else None
        problem: str | None = None
        if value is not None and custom_id is None:
            problem = f"id {value!r}: the API takes 1 to 64 letters, digits, '_' or '-'"
        name = ", ".join(str(reference) for reference in references)
        yield _Draft(name, row_prompt, images, problem=problem, custom_id=custom_id)


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    csv.field_size_limit(max(csv.field_size_limit(), _CELL_LIMIT))
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            columns = [name.strip().lower() for name in reader.fieldnames or []]
            if not set(columns) & set(_IMAGE_KEYS):
                raise ManifestError(
                    f"the CSV has no image column (its columns: {', '.join(columns) or 'none'}); "
                    f"name one of them {' or '.join(_IMAGE_KEYS)}",
                    input=str(path),
                )
            for row in reader:
                fields = {(k or "").strip().lower(): v for k, v in row.items()}
                yield reader.line_num, {k: (v or "").strip() for k, v in fields.items() if k}
    except (UnicodeDecodeError, csv.Error) as error:
        raise ManifestError(f"the file cannot be read as CSV: {error}", input=str(path)) from None


def _json_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    try:
        with open(path, encoding="utf-8-sig") as file:
            for line, text in enumerate(file, 1):
                if not text.strip():
                    continue
                try:
                    row = json.loads(text)
                except ValueError as error:
                    yield line, f"the line is not JSON ({error})"
                    continue
                if isinstance(row, str):
                    row = {"image": row}
                if not isinstance(row, dict):
                    yield line, "the line must be a JSON object or a string"
                    continue
                yield line, {str(k).lower(): v for k, v in row.items()}
    except UnicodeDecodeError as error:
        raise ManifestError(f"the file is not UTF-8 text: {error}", input=str(path)) from None


def _references(row: dict[str, Any]) -> list[str]:
    for key in _IMAGE_KEYS:
        value = row.get(key)
        if isinstance(value, str) and value.strip():
            parts = value.split("|") if key == "images" else [value]
            return [part.strip() for part in parts if part.strip()]
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return [v.strip() for v in value if v.strip()]
    return []


def _resolve(manifest: Path, reference: str) -> str:
    """A manifest's reference: a URL as it is, a path relative to the manifest's folder."""
    if reference.startswith(_URL_PREFIXES):
        return reference
    return os.path.normpath(manifest.parent / os.path.expanduser(reference))


def _name(value: Any) -> str:
    if isinstance(value, (str, os.PathLike)):
        text = os.fspath(value)
        return text if not text.startswith("data:") else describe_input(text)
    return describe_input(value)


def _message_name(message: ImageMessage) -> str:
    names = ", ".join(describe_input(slot.input) for slot in message.slots)
    return names or "text only"


def _with_ids(drafts: list[_Draft], salt: str) -> list[BatchInput]:
    taken = {d.custom_id for d in drafts if d.custom_id is not None}
    given: set[str] = set()
    counts: dict[str, int] = {}
    items = []
    for draft in drafts:
        custom_id, problem = draft.custom_id, draft.problem
        key = _key(draft)
        if custom_id is not None and custom_id in given:
            problem = f"id {custom_id!r} is given to an earlier input too"
            custom_id = None
        if custom_id is None:
            custom_id = _derived(draft.input, f"{key}\0{salt}", counts, taken)
        given.add(custom_id)
        items.append(
            BatchInput(
                custom_id, draft.input, draft.prompt, draft.images, draft.message, problem, key
            )
        )
    return items


def _key(draft: _Draft) -> str:
    """What the request is: its prompt and each image's name or, held in memory, contents."""
    if draft.message is not None:
        parts = [draft.message.prompt, *(_identity(slot.input) for slot in draft.message.slots)]
    else:
        parts = [draft.prompt or "", draft.input, *(_identity(image) for image in draft.images)]
    joined = "\0".join(parts)
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()


def _identity(image: Any) -> str:
    """A name for a path or URL; a digest of the contents for anything held in memory."""
    if isinstance(image, (str, os.PathLike)):
        text = os.fspath(image)
        if text.startswith(_URL_PREFIXES) or len(text) > 4096:
            return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        return os.path.normpath(text) if text else text
    digest = hashlib.sha256(type(image).__name__.encode())
    if isinstance(image, (bytes, bytearray, memoryview)):
        digest.update(image)
    elif hasattr(image, "tobytes"):  # PIL images, NumPy arrays
        shape = getattr(image, "size", None) or getattr(image, "shape", None)
        mode = getattr(image, "mode", None) or getattr(image, "dtype", None)
        digest.update(f"{shape}{mode}".encode())
        digest.update(image.tobytes())
    else:
        digest.update(describe_input(image).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _derived(name: str, key: str, counts: dict[str, int], taken: set[str]) -> str:
    """``<name>-<hash of what the request is>``, with ``-2``, ``-3`` for repeats."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    stem = os.path.basename(name.rstrip("/\\").split("?")[0]) or "input"
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-")[:40] or "input"
    base = f"{slug}-{digest}"
    counts[base] = counts.get(base, 0) + 1
    custom_id = base if counts[base] == 1 else f"{base}-{counts[base]}"
    while custom_id in taken:
        counts[base] += 1
        custom_id = f"{base}-{counts[base]}"
    taken.add(custom_id)
    return custom_id
