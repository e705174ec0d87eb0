"""The example notebook runs on a real Jupyter kernel, cell by cell, against the local server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "notebook.ipynb"


def outputs(cell: Any) -> dict[str, Any]:
    """Every MIME type a code cell displayed, merged."""
    shown: dict[str, Any] = {}
    for output in cell.get("outputs", []):
        shown.update(output.get("data", {}))
        if output.get("output_type") == "stream":
            shown["stream"] = shown.get("stream", "") + output["text"]
    return shown


@pytest.mark.timeout(300)
def test_the_example_notebook_runs_on_a_kernel(tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails

    cells = {
        cell.source.splitlines()[0]: outputs(cell)
        for cell in notebook.cells
        if cell.cell_type == "code"
    }
    image = cells["image = claudevision.prepare_image(photo, model=MODEL)"]
    assert 'src="data:image/jpeg;base64,' in image["text/html"]  # the thumbnail is shown
    assert "applied EXIF orientation 6" in image["text/html"]
    assert image["text/plain"].startswith("PreparedImage(")
    answer = cells[
        'answer = claudevision.ask("What is in this photo?", photo, client=client, model=MODEL)'
    ]
    assert "Received 1 image(s)" in answer["text/markdown"]
    message = cells["import matplotlib.pyplot as plt"]
    assert message["text/html"].count("data:image/") == 2  # the chart and the photo
    assert (
        "2 image(s)"
        in cells["print(claudevision.estimate([photo, fig], model=MODEL).describe())"]["stream"]
    )
    chat = cells["chat = claudevision.Conversation(client, model=MODEL)"]
    assert "And in this chart?" in chat["text/html"]


def test_the_notebook_is_committed_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
