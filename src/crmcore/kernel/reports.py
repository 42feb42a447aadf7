"""Report objects: small results that print, serialise and render in Jupyter.

Analytics return report objects rather than bare arrays. Every report has
``to_dict()`` (JSON-compatible: numbers, strings, lists, dicts, ``None`` for
undefined values such as a rate with no denominator) and ``_repr_html_()``,
which Jupyter calls to show a table with inline bars: plain HTML and CSS, no
plotting dependency, and every value escaped.

The helpers here give all reports one look: [`html_table()`][crmcore.kernel.reports.html_table]
renders rows with optional bar columns, [`json_number()`][crmcore.kernel.reports.json_number] turns
numpy scalars and NaN into JSON values.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Report", "fmt", "html_table", "json_number"]


@runtime_checkable
class Report(Protocol):
    """What every report object offers."""

    def to_dict(self) -> dict[str, object]:
        """The report as JSON-compatible data."""
        ...

    def _repr_html_(self) -> str:
        """The report as an HTML fragment (Jupyter rich display)."""
        ...


def json_number(value: object) -> int | float | None:
    """A JSON-safe number: numpy scalars to Python, NaN and infinities to ``None``."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, int | np.integer):
        return int(value)
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def fmt(value: object, kind: str = "auto") -> str:
    """Format a cell: ``kind`` is ``"int"``, ``"float"``, ``"pct"`` (0..1), ``"days"`` or auto."""
    if value is None or (isinstance(value, float | np.floating) and not math.isfinite(value)):
        return "-"
    if kind == "pct":
        return f"{float(value):.1%}"  # type: ignore[arg-type]
    if kind == "days":
        return f"{float(value):.1f} d"  # type: ignore[arg-type]
    if kind == "int" or isinstance(value, int | np.integer):
        return f"{int(value):,}"  # type: ignore[call-overload]
    if kind == "float" or isinstance(value, float | np.floating):
        return f"{float(value):,.2f}"  # type: ignore[arg-type]
    return str(value)


_STYLE = "border-collapse:collapse;font-family:system-ui,sans-serif;font-size:13px;margin:4px 0"
_CELL = "padding:3px 8px;border-bottom:1px solid #ddd;"


def html_table(
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    kinds: Sequence[str] | None = None,
    bars: Mapping[int, float] | None = None,
    caption: str = "",
) -> str:
    """An HTML table; ``bars`` maps a column index to its maximum for an inline bar.

    Values are escaped with `html.escape()`; numbers are right-aligned.
    """
    kinds = list(kinds) if kinds is not None else ["auto"] * len(header)
    bars = dict(bars or {})
    out = [f'<div class="crmcore-report"><strong>{html.escape(title)}</strong>']
    out.append(f'<table style="{_STYLE}"><thead><tr>')
    for name in header:
        out.append(f'<th style="{_CELL}text-align:left">{html.escape(str(name))}</th>')
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>")
        for i, value in enumerate(row):
            text = html.escape(fmt(value, kinds[i] if i < len(kinds) else "auto"))
            numeric = isinstance(value, int | float | np.integer | np.floating)
            align = "right" if numeric else "left"
            cell = f'<td style="{_CELL}text-align:{align}">{text}'
            top = bars.get(i)
            if top and numeric and math.isfinite(float(value)) and float(value) > 0:  # type: ignore[arg-type]
                width = max(1, round(120 * float(value) / top))  # type: ignore[arg-type]
                cell += (
                    f'<div style="background:#4c78a8;height:6px;width:{width}px;'
                    'margin-top:2px"></div>'
                )
            out.append(cell + "</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    if caption:
        out.append(f'<div style="color:#666;font-size:12px">{html.escape(caption)}</div>')
    out.append("</div>")
    return "".join(out)
