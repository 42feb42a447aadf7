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
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from crmcore.kernel.errors import MissingDependencyError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Report",
    "data_frame",
    "flat_record",
    "fmt",
    "fmt_date",
    "fmt_datetime",
    "html_table",
    "json_number",
    "records_frame",
]


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


def fmt_datetime(value: datetime) -> str:
    """An instant as every report writes it: ``2026-06-01 14:30 UTC`` (seconds only if any).

    Examples:
        >>> from datetime import timedelta, timezone
        >>> fmt_datetime(datetime(2026, 6, 1, 16, 30, tzinfo=timezone(timedelta(hours=2))))
        '2026-06-01 14:30 UTC'
        >>> fmt_datetime(datetime(2026, 6, 1, 0, 0, 5, tzinfo=UTC))
        '2026-06-01 00:00:05 UTC'
    """
    utc = value.astimezone(UTC) if value.tzinfo is not None else value
    text = utc.strftime("%Y-%m-%d %H:%M:%S" if utc.second or utc.microsecond else "%Y-%m-%d %H:%M")
    return f"{text} UTC" if value.tzinfo is not None else text


def fmt_date(value: date) -> str:
    """A calendar day as every report writes it: ``2026-06-01`` (ISO 8601).

    A `datetime` is written as its UTC day.
    """
    if isinstance(value, datetime):
        value = (value.astimezone(UTC) if value.tzinfo is not None else value).date()
    return value.isoformat()


def data_frame(columns: Mapping[str, object], feature: str) -> pd.DataFrame:
    """A `pandas.DataFrame` of ``columns`` (name -> sequence or array), for ``to_pandas()``.

    pandas is imported here, when a report is converted; without it this
    raises [`MissingDependencyError`][crmcore.kernel.errors.MissingDependencyError]
    naming the ``pandas`` extra and ``feature`` (e.g. ``"FunnelReport.to_pandas"``).
    """
    try:
        import pandas as pd
    except ImportError:
        raise MissingDependencyError("pandas", "pandas", feature) from None
    return pd.DataFrame({name: _column(values) for name, values in columns.items()})


def flat_record(record: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """A nested JSON record flattened for a table row: ``{"nps": {"value": 1}}`` -> ``nps_value``.

    Lists and scalars stay as they are; a nested ``None`` stays one column.

    Examples:
        >>> flat_record({"theme": "price", "nps": {"n": 3, "value": -33.3}, "trend": [1, 2]})
        {'theme': 'price', 'nps_n': 3, 'nps_value': -33.3, 'trend': [1, 2]}
    """
    out: dict[str, object] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flat_record(value, f"{name}_"))
        else:
            out[name] = value
    return out


def records_frame(
    records: Sequence[Mapping[str, object]],
    feature: str,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """A `pandas.DataFrame` with one row per record (each flattened by
    [`flat_record()`][crmcore.kernel.reports.flat_record]).

    ``columns`` fixes the columns (and their order) when there may be no
    records, so an empty report still has its header. Raises
    [`MissingDependencyError`][crmcore.kernel.errors.MissingDependencyError] without pandas.
    """
    try:
        import pandas as pd
    except ImportError:
        raise MissingDependencyError("pandas", "pandas", feature) from None
    rows = [flat_record(r) for r in records]
    names = (
        list(columns) if columns is not None else list(dict.fromkeys(k for r in rows for k in r))
    )
    return pd.DataFrame({name: [r.get(name) for r in rows] for name in names}, columns=names)


def _column(values: object) -> object:
    """Text arrays (numpy ``StringDType``) as Python objects, which pandas takes as text."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "T":
        return values.astype(object)
    return values
