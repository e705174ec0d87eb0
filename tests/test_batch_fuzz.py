"""Hypothesis over the batch manifest readers: any bytes give rows or a ManifestError.

Whatever a CSV or JSON Lines manifest holds, every request gets a unique ``custom_id``
the API takes, every row is accounted for, and nothing but a claudevision error escapes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claudevision import ConfigurationError, ManifestError
from claudevision._send.batch_inputs import batch_inputs, valid_custom_id

CELLS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["a.png", "../x.jpg", "https://h/x.png", "data:,x", "file_1", "|", ""]),
)


def check(path: Path) -> None:
    try:
        items = batch_inputs([path], prompt="Hi")
    except ManifestError as error:
        named = str(path) in str(error)
        assert named
        return
    except ConfigurationError as error:  # an empty manifest
        empty = "has no inputs" in str(error)
        assert empty
        return
    ids = [item.custom_id for item in items]
    assert len(ids) == len(set(ids))
    assert all(valid_custom_id(i) for i in ids)
    assert all(item.problem or item.images or item.message for item in items)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=400))
def test_any_bytes_as_a_csv_manifest(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(data)
    check(path)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.lists(
        st.sampled_from(["id", "image", "images", "prompt", "url", "x"]), min_size=1, max_size=4
    ),
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=5), max_size=6),
)
def test_csv_tables(tmp_path: Path, header: list[str], rows: list[list[str]]) -> None:
    import csv

    path = tmp_path / "table.csv"
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    check(path)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | CELLS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["image", "images", "id", "custom_id", "prompt", "path"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=8,
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(st.one_of(JSON.map(json.dumps), st.text(max_size=20)), max_size=6))
def test_json_lines(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "list.jsonl"
    path.write_text("\n".join(line.replace("\n", " ") for line in lines))
    check(path)


NAMES = st.text(max_size=40).filter(lambda name: not os.path.isdir(name) and "**" not in name)


@settings(max_examples=150, deadline=None)
@given(names=st.lists(NAMES, min_size=1, max_size=5))
def test_any_names_as_inputs(names: list[str]) -> None:
    items = batch_inputs(names, prompt="Hi")  # paths that match nothing: problems, not errors
    ids = [item.custom_id for item in items]
    assert len(ids) == len(set(ids)) and all(valid_custom_id(i) for i in ids)
