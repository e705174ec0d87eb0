"""Preparing a batch on a Ray cluster with Ray Data (the ``ray`` extra).

    >>> from claudevision._send.batch_prepare import BatchSettings
    >>> list(prepare_on_ray([], settings=BatchSettings(model="claude-opus-4-8")))
    []

:func:`prepare_on_ray` is a preparer for :meth:`~claudevision.Vision.batch`
(``prepare=prepare_on_ray``): the inputs become a ``ray.data`` dataset, each Ray worker
runs :func:`~claudevision._send.batch_prepare.prepare_row` over a batch of them, and the
rows come back to the driver one at a time, in input order, while later ones are still
being prepared (Ray Data streams: never every prepared request at once). Each row
travels as one JSON string, so the nested request comes back exactly as it was built.

Ray is imported with this module: without it, importing raises
:class:`~claudevision.MissingDependencyError` naming the extra.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterable, Iterator
from functools import partial
from typing import Any

from .._core.exceptions import InternalError, MissingDependencyError
from .batch_inputs import BatchInput
from .batch_prepare import BatchSettings, Row, prepare_row

try:
    import ray.data
except ImportError as error:
    raise MissingDependencyError(
        "preparing on Ray needs Ray Data: install the ray extra "
        '(pip install -e ".[ray]" in a clone of claudevision, or pip install "ray[data]")',
        input="ray",
    ) from error

__all__ = ["prepare_on_ray"]

DEFAULT_BATCH_SIZE = 8
"""Inputs per ``map_batches`` call: few, since each is a large photo to decode."""


def prepare_on_ray(
    items: Iterable[BatchInput],
    *,
    settings: BatchSettings,
    batch_size: int = DEFAULT_BATCH_SIZE,
    concurrency: int | None = None,
) -> Iterator[Row]:
    """Each of ``items`` prepared as a batch request on Ray workers (the rows
    :meth:`~claudevision.Vision.batch` takes as ``prepare=``), yielded in order as they
    are ready.

    ``batch_size``: inputs per task; ``concurrency``: at most this many tasks at once
    (None: as many as the cluster's CPUs allow). Ray is started on this machine when no
    cluster is connected (``ray.init()`` first to choose one).
    """
    records = [_record(index, item, settings) for index, item in enumerate(items)]
    if not records:
        return
    dataset = ray.data.from_items(records)
    dataset.context.execution_options.preserve_order = True  # copied to what derives from it
    prepared = dataset.map_batches(
        partial(_prepare_batch, settings=settings),
        batch_size=batch_size,
        batch_format="numpy",
        concurrency=concurrency,
    )
    expected = 0
    for record in prepared.iter_rows():
        if int(record["index"]) != expected:
            raise InternalError(
                f"Ray gave the row of input {record['index']} where input {expected} was due"
            )
        expected += 1
        yield _row(record["row"])
    if expected != len(records):
        raise InternalError(f"Ray gave {expected} rows for {len(records)} inputs")


def _record(index: int, item: BatchInput, settings: BatchSettings) -> dict[str, Any]:
    """One input as a dataset row: pickled, or prepared here when it cannot be pickled
    (an open file in an :class:`~claudevision.ImageMessage`, say)."""
    try:
        return {"index": index, "item": pickle.dumps(item, pickle.HIGHEST_PROTOCOL), "row": ""}
    except (pickle.PicklingError, TypeError, AttributeError):
        return {"index": index, "item": b"", "row": json.dumps(prepare_row(item, settings))}


def _prepare_batch(batch: Any, *, settings: BatchSettings) -> dict[str, Any]:
    """One ``map_batches`` call on a Ray worker (``batch``: columns of NumPy arrays):
    each input's row, as JSON text."""
    rows = []
    for data, ready in zip(batch["item"], batch["row"], strict=True):
        if ready:
            rows.append(str(ready))
            continue
        item = pickle.loads(bytes(data))
        rows.append(json.dumps(prepare_row(item, settings)))
    return {"index": [int(index) for index in batch["index"]], "row": rows}


def _row(text: Any) -> Row:
    value = json.loads(text.decode() if isinstance(text, bytes) else str(text))
    if not isinstance(value, dict):
        raise InternalError(f"Ray gave a row that is not a JSON object: {text!r:.80}")
    return value
