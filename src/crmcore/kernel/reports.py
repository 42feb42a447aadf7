"""Report objects: small results that print, serialise and render in Jupyter.

Analytics return report objects rather than bare arrays. Every report has
``to_dict()`` (JSON-compatible: numbers, strings, lists, dicts, ``None`` for
undefined values such as a rate with no denominator), ``to_pandas()`` (a
`pandas.DataFrame`, one row per item of the report, with the ``pandas`` extra)
and ``_repr_html_()``, which Jupyter calls to show a table with inline bars:
plain HTML and CSS, no plotting dependency, and every value escaped. Reports
that have a natural figure also have ``plot()`` (see
[`crmcore.plotting`][crmcore.plotting]).

The helpers here give all reports one look:

* one font and size for every table ([`html_table()`][crmcore.kernel.reports.html_table],
  [`html_heatmap()`][crmcore.kernel.reports.html_heatmap]), numbers right-aligned in
  tabular figures, headers and numbers that never wrap;
* one way to write times ([`fmt_datetime()`][crmcore.kernel.reports.fmt_datetime]: ``2026-06-01
  14:30 UTC``) and days ([`fmt_date()`][crmcore.kernel.reports.fmt_date]: ``2026-06-01``);
* money columns (kind ``"money"``) carry their currency in the header;
* [`json_number()`][crmcore.kernel.reports.json_number] turns numpy scalars and NaN into JSON
  values, [`data_frame()`][crmcore.kernel.reports.data_frame] builds the ``to_pandas()`` result.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from crmcore.kernel.currencies import CURRENCIES
from crmcore.kernel.errors import MissingDependencyError
from crmcore.kernel.money import Money

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "REPORT_FONT",
    "Report",
    "data_frame",
    "flat_record",
    "fmt",
    "fmt_date",
    "fmt_datetime",
    "html_heatmap",
    "html_table",
    "json_number",
    "records_frame",
]

REPORT_FONT: Final = (
    "font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;"
    "font-size:13px"
)
"""The CSS font of every report table and caption (the system UI font, 13 px)."""


@runtime_checkable
class Report(Protocol):
    """What every report object offers."""

    def to_dict(self) -> dict[str, object]:
        """The report as JSON-compatible data."""
        ...

    def to_pandas(self) -> pd.DataFrame:
        """The report as a pandas DataFrame (needs the ``pandas`` extra)."""
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


def fmt(value: object, kind: str = "auto") -> str:
    """Format a cell.

    ``kind`` is ``"int"``, ``"float"``, ``"money"`` (two decimals, or the
    currency's minor units for a [`Money`][crmcore.kernel.money.Money]; the
    currency goes in the header), ``"pct"`` (0..1), ``"days"``, ``"date"``,
    ``"datetime"`` or ``"auto"`` (by the value's type: datetimes, dates and
    `Money` in the house format).

    Examples:
        >>> fmt(0.1234, "pct"), fmt(1234.5, "money"), fmt(Money("1234.5", "EUR"))
        ('12.3%', '1,234.50', '1,234.50 EUR')
        >>> fmt(Money("1234", "JPY"), "money")
        '1,234'
    """
    if value is None or (isinstance(value, float | np.floating) and not math.isfinite(value)):
        return "-"
    if isinstance(value, Money):
        digits = CURRENCIES[value.currency].minor_units
        amount = f"{value.amount:,.{digits}f}"
        return amount if kind == "money" else f"{amount} {value.currency}"
    if isinstance(value, datetime):
        return fmt_date(value) if kind == "date" else fmt_datetime(value)
    if isinstance(value, date):
        return fmt_date(value)
    if kind == "pct":
        return f"{float(value):.1%}"  # type: ignore[arg-type]
    if kind == "days":
        return f"{float(value):.1f} d"  # type: ignore[arg-type]
    if kind == "money":
        return f"{float(value):,.2f}"  # type: ignore[arg-type]
    if kind == "int" or isinstance(value, int | np.integer):
        return f"{int(value):,}"  # type: ignore[call-overload]
    if kind == "float" or isinstance(value, float | np.floating):
        return f"{float(value):,.2f}"  # type: ignore[arg-type]
    return str(value)


_BAR: Final = "#4c78a8"
_STYLE: Final = f"border-collapse:collapse;{REPORT_FONT};margin:4px 0"
_CELL: Final = "padding:3px 8px;border-bottom:1px solid #ddd;"
_NUMBER: Final = "text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums;"
_HEAD: Final = "text-align:left;white-space:nowrap;"
_CAPTION: Final = f'<div style="color:#666;{REPORT_FONT};font-size:12px">'


def _header(name: str, kind: str, currency: str | None) -> str:
    if kind == "money" and currency:
        return f"{name} ({currency})"
    return name


def _numeric(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating | Money)


def html_table(
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    kinds: Sequence[str] | None = None,
    bars: Mapping[int, float] | None = None,
    caption: str = "",
    currency: str | None = None,
) -> str:
    """An HTML table; ``bars`` maps a column index to its maximum for an inline bar.

    ``kinds`` (see [`fmt()`][crmcore.kernel.reports.fmt]) format each column;
    the header of a ``"money"`` column names ``currency`` when one is given.
    Values are escaped with `html.escape()`; numbers are right-aligned; the
    first column (the row's label), the headers and the numbers do not wrap.
    """
    kinds = list(kinds) if kinds is not None else ["auto"] * len(header)
    bars = dict(bars or {})
    out = [
        f'<div class="crmcore-report" style="{REPORT_FONT}"><strong>{html.escape(title)}</strong>'
    ]
    out.append(f'<table style="{_STYLE}"><thead><tr>')
    for i, name in enumerate(header):
        kind = kinds[i] if i < len(kinds) else "auto"
        text = html.escape(_header(str(name), kind, currency))
        out.append(f'<th style="{_CELL}{_HEAD}">{text}</th>')
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>")
        for i, value in enumerate(row):
            text = html.escape(fmt(value, kinds[i] if i < len(kinds) else "auto"))
            numeric = _numeric(value)
            align = _NUMBER if numeric else ("white-space:nowrap;" if i == 0 else "")
            cell = f'<td style="{_CELL}{align or "text-align:left;"}">{text}'
            top = bars.get(i)
            number = float(value.amount) if isinstance(value, Money) else value
            if top and numeric and math.isfinite(float(number)) and float(number) > 0:  # type: ignore[arg-type]
                width = max(1, round(120 * float(number) / top))  # type: ignore[arg-type]
                cell += (
                    f'<div style="background:{_BAR};height:6px;width:{width}px;'
                    'margin-top:2px"></div>'
                )
            out.append(cell + "</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    if caption:
        out.append(f"{_CAPTION}{html.escape(caption)}</div>")
    out.append("</div>")
    return "".join(out)


def html_heatmap(
    title: str,
    corner: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    values: npt.ArrayLike,
    *,
    lead: Sequence[tuple[str, Sequence[object], str]] = (),
    kind: str = "pct",
    top: float = 1.0,
    caption: str = "",
) -> str:
    """A table whose cells are shaded by value (e.g. cohort retention).

    ``values`` is a 2-d array (rows x columns; ``NaN`` draws an empty cell);
    ``lead`` adds columns before the cells, each ``(header, values, kind)``;
    a cell's shade is ``value / top`` (clipped to 0..1). Row labels never
    wrap, so ``2026-W07`` stays on one line however narrow the output.
    """
    matrix = np.asarray(values, dtype=np.float64)
    cell = f"{_CELL}padding:3px 6px;"
    out = [
        f'<div class="crmcore-report" style="{REPORT_FONT}"><strong>{html.escape(title)}</strong>',
        f'<table style="{_STYLE}"><thead><tr>',
        f'<th style="{cell}{_HEAD}">{html.escape(corner)}</th>',
    ]
    out += [f'<th style="{cell}{_NUMBER}">{html.escape(name)}</th>' for name, _, _ in lead]
    out += [f'<th style="{cell}{_NUMBER}">{html.escape(c)}</th>' for c in column_labels]
    out.append("</tr></thead><tbody>")
    for r, label in enumerate(row_labels):
        out.append(f'<tr><td style="{cell}{_HEAD}">{html.escape(label)}</td>')
        out += [
            f'<td style="{cell}{_NUMBER}">{html.escape(fmt(column[r], k))}</td>'
            for _, column, k in lead
        ]
        for value in matrix[r].tolist():
            if not math.isfinite(value):
                out.append(f'<td style="{cell}"></td>')
                continue
            alpha = 0.08 + 0.92 * min(max(value / top if top else 0.0, 0.0), 1.0)
            ink = "#fff" if alpha > 0.55 else "#222"
            out.append(
                f'<td style="{cell}{_NUMBER}background:rgba(76,120,168,{alpha:.3f});color:{ink}">'
                f"{html.escape(fmt(value, kind))}</td>"
            )
        out.append("</tr>")
    out.append("</tbody></table>")
    if caption:
        out.append(f"{_CAPTION}{html.escape(caption)}</div>")
    out.append("</div>")
    return "".join(out)


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
