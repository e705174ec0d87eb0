"""Tables and progress for people: rich on a terminal (the ``cli`` extra), plain text
otherwise, so pipes and logs get lines a script can read."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from .common import is_terminal

__all__ = ["images", "progress"]

T = TypeVar("T")
_COLUMNS = ("input", "format", "original", "sent", "model sees", "tokens", "bytes", "cost")


def _rich() -> Any:
    """The ``rich`` module when standard output is a terminal and it is installed."""
    if not is_terminal(sys.stdout):
        return None
    try:
        import rich
    except ImportError:
        return None
    return rich


def _size(value: Sequence[int]) -> str:
    return f"{value[0]}x{value[1]}" if value else "-"


def _cells(row: dict[str, Any]) -> list[str]:
    cost = row.get("cost")
    return [
        row["input"],
        str(row.get("format") or "-"),
        _size(row.get("original", ())),
        _size(row.get("sent", ())),
        _size(row.get("model_size", ())),
        "-" if row.get("tokens") is None else f"{row['tokens']:,}",
        f"{row.get('bytes', 0):,}",
        "-" if cost is None else f"${cost:.5f}",
    ]


def _total(rows: Sequence[dict[str, Any]]) -> list[str]:
    good = [row for row in rows if "error" not in row]
    tokens = [row["tokens"] for row in good]
    costs = [row["cost"] for row in good]
    return [
        f"total: {len(good)} image(s)"
        + (f", {len(rows) - len(good)} bad" if len(good) < len(rows) else ""),
        "",
        "",
        "",
        "",
        "-" if None in tokens else f"{sum(tokens):,}",
        f"{sum(row['bytes'] for row in good):,}",
        "-" if None in costs or not costs else f"${sum(costs):.5f}",
    ]


def images(rows: Sequence[dict[str, Any]], *, title: str) -> None:
    """The inspect table: one row per image (what was done below it), and the total."""
    rich = _rich()
    if rich is not None:
        from rich.table import Table

        grid = Table(title=title, show_footer=False)
        for column in _COLUMNS:
            grid.add_column(
                column, justify="right" if column in ("tokens", "bytes", "cost") else "left"
            )
        for row in rows:
            if "error" in row:
                grid.add_row(row["input"], "[red]error[/red]", *[""] * 6)
                continue
            grid.add_row(*_cells(row))
            for step in row["steps"]:
                grid.add_row(f"  [dim]- {step}[/dim]", *[""] * 7)
        grid.add_section()
        grid.add_row(*_total(rows), style="bold")
        rich.print(grid)
        return
    good = [_cells(row) for row in rows if "error" not in row]
    total = _total(rows)
    widths = [max(len(cells[i]) for cells in [list(_COLUMNS), *good, total]) for i in range(8)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(width) if i >= 5 else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    print(title)
    print(line(_COLUMNS))
    for row in rows:
        if "error" in row:
            print(line([row["input"], "error", *[""] * 6]))
            continue
        print(line(_cells(row)))
        for step in row["steps"]:
            print(f"    - {step}")
    print(line(total))


def progress(items: Iterable[T], count: int, what: str) -> Iterator[T]:
    """``items`` as they come, with a progress bar on a terminal for more than a few."""
    if count < 8 or not is_terminal(sys.stderr):
        yield from items
        return
    try:
        from rich.console import Console
        from rich.progress import track
    except ImportError:
        yield from items
        return
    yield from track(
        items, description=what, total=count, console=Console(stderr=True), transient=True
    )
