"""Plain-text output helpers shared by the demo sections."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TextIO, TypeVar

import numpy as np

__all__ = ["Timings", "pct", "section", "table", "timed"]

T = TypeVar("T")

Timings = list[tuple[str, float]]
"""(step label, seconds) in the order the steps ran."""


def table(out: TextIO, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain-text table: numbers (and figures such as '12.5%') right-aligned, text left."""
    cells = [[str(h) for h in header], *[[_fmt(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = [
        all(_looks_numeric(row[i]) for row in cells[1:]) and len(cells) > 1
        for i in range(len(header))
    ]
    for n, row in enumerate(cells):
        line = "  ".join(
            cell.rjust(width) if numeric[i] else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        out.write("  " + line.rstrip() + "\n")
        if n == 0:
            out.write("  " + "  ".join("-" * w for w in widths) + "\n")


def _looks_numeric(text: str) -> bool:
    return text == "-" or text.replace(",", "").replace(".", "").rstrip("%").lstrip("-").isdigit()


def _fmt(value: object) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:,.2f}"
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    return str(value)


def section(out: TextIO, title: str) -> None:
    """A section title, underlined."""
    out.write(f"\n{title}\n{'=' * len(title)}\n")


def timed(label: str, timings: Timings, work: Callable[[], T]) -> T:
    """Run ``work``, append its wall time to ``timings`` and return its result."""
    start = time.perf_counter()
    result = work()
    timings.append((label, time.perf_counter() - start))
    return result


def pct(share: float | None) -> str:
    """A share as ``"12.5%"``, or ``"-"`` when it is undefined."""
    return "-" if share is None else f"{share:.1%}"
