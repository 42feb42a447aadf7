"""Acquisition cohorts: retention and revenue by months (or weeks) since the first purchase.

[`cohort_matrix()`][crmcore.analytics.cohorts.cohort_matrix] groups the customers of a
[`TransactionLog`][crmcore.columnar.TransactionLog] by the calendar period (UTC month,
or ISO week starting Monday) of their **first purchase**, their acquisition
cohort, and counts, for each cohort *c* and each offset *k* = 0, 1, 2, ...
periods after acquisition. Purchases are purchase occasions, by the one rule
of [`crmcore.columnar.occasions`][crmcore.columnar.occasions]: acquisition and
activity come from them only (a return makes nobody active), and the returns
are counted beside the matrix, in ``data``.

* ``active[c, k]``: customers of cohort *c* with at least one purchase in
  period *c + k* (each customer counted once per period);
* ``revenue[c, k]``: what the cohort spent in that period (purchase occasions);
* ``sizes[c]`` = ``active[c, 0]``: the customers acquired in period *c*.

Definitions (documented once, used everywhere):

* **period retention** ``r(c, k) = active[c, k] / sizes[c]``: the share of
  the cohort that bought in its *k*-th period after acquisition
  (``r(c, 0) = 1``). It is *not* cumulative: a customer who skips a month
  and comes back counts again.
* **retention curve** ``R(k)``: the same share pooled over every cohort old
  enough to have reached offset *k*: ``sum active[c, k] / sum sizes[c]``.
* **cohort churn** ``1 - R(k)``: the share of acquired customers who did
  not buy in their *k*-th period. (Window churn over the whole base, the
  complement of window retention, is in [`crmcore.analytics.kpis`][crmcore.analytics.kpis].)

A cell is **observed** when period *c + k* has started by ``as_of``; later
cells are not yet knowable and hold ``NaN`` in
[`CohortMatrix.retention()`][crmcore.analytics.cohorts.CohortMatrix.retention] (``None`` in
``to_dict``) with `CohortMatrix.observed` saying which they are. The period containing ``as_of`` is
observed but partial: purchases after ``as_of`` are ignored. Periods between the first cohort and
``as_of`` in which nobody was acquired appear as empty cohorts (size 0, rates undefined), so the
axis is continuous.

Vectorised: one pass of integer arithmetic per row, a boolean mark array
over (customer, offset) to count each customer once per period, and
``np.bincount`` into the matrix; no loop per customer or per row.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.columnar import TransactionLog
    >>> rows = [("a", 1, 10.0), ("a", 2, 5.0), ("b", 1, 20.0), ("c", 2, 8.0), ("b", 3, 4.0)]
    >>> log = TransactionLog.from_records(
    ...     {"customer_id": c, "at": datetime(2026, m, 15, tzinfo=UTC), "amount": a}
    ...     for c, m, a in rows
    ... )
    >>> cm = cohort_matrix(log, datetime(2026, 3, 31, tzinfo=UTC))
    >>> cm.labels, cm.sizes.tolist()
    (('2026-01', '2026-02', '2026-03'), [2, 1, 0])
    >>> cm.active.tolist()
    [[2, 1, 1], [1, 0, 0], [0, 0, 0]]
    >>> cm.retention_curve()
    [1.0, 0.3333333333333333, 0.5]
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Final, Literal, TypeAlias

import attrs
import numpy as np

from crmcore.analytics.kpis import exact_sums, read_purchases
from crmcore.columnar.occasions import DataUsed
from crmcore.kernel.arrays import BoolArray, Float64Array, Int64Array, read_only
from crmcore.kernel.clock import DAY_US, to_micros
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.reports import fmt_datetime, html_heatmap, json_number, records_frame
from crmcore.kernel.validators import choice
from crmcore.plotting.cohorts import CohortValue, plot_cohort_heatmap

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["CohortMatrix", "CohortPeriod", "cohort_matrix", "period_index"]


CohortPeriod: TypeAlias = Literal["month", "week"]
"""Calendar period of a cohort: UTC month, or ISO week (Monday to Sunday, UTC)."""
_MARK_LIMIT: Final = (
    400_000_000  # bytes of the (customer, offset) mark array before sorting instead
)
_HTML_COHORTS: Final = 36
_EPOCH_DAY: Final = date(1970, 1, 1)
_I64_MAX: Final = np.iinfo(np.int64).max
_MIN_US: Final = to_micros(datetime(1, 1, 1, tzinfo=UTC))
_MAX_US: Final = to_micros(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
_MAX_CELLS: Final = 20_000_000  # cohorts x offsets: 20 M cells is about 340 MB of arrays


def period_index(micros: Int64Array, period: CohortPeriod) -> Int64Array:
    """Period numbers of UTC timestamps (microseconds since the epoch).

    Months count from January 1970 (``0``); weeks from the week of Monday
    1969-12-29 (``0``), so week ``w`` starts on Monday ``1969-12-29 + 7w``.
    ``micros`` must be a one-dimensional integer array of times from year 1 to 9999.
    """
    period = choice(period, "period", ("month", "week"))
    if not (isinstance(micros, np.ndarray) and micros.ndim == 1 and micros.dtype.kind in "iu"):
        raise ValidationError("micros", micros, "must be a 1-D integer array of microseconds")
    if len(micros) and (int(micros.min()) < _MIN_US or int(micros.max()) > _MAX_US):
        raise ValidationError("micros", micros, "must be times from year 1 to 9999")
    return _period_numbers(micros.astype(np.int64, copy=False), period)


def _period_numbers(micros: Int64Array, period: CohortPeriod) -> Int64Array:
    """[`period_index()`][crmcore.analytics.cohorts.period_index] of checked times."""
    days = micros // DAY_US
    if period == "week":
        week: Int64Array = (days + 3) // 7  # 1970-01-01 was a Thursday
        return week
    if not len(days):
        return days
    low, high = int(days.min()), int(days.max())
    span = np.arange(low, high + 1, dtype=np.int64)
    months = span.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    out: Int64Array = months[days - low]  # a day -> month table: one gather per row
    return out


def _start(index: int, period: CohortPeriod) -> date:
    if period == "week":
        return _EPOCH_DAY + timedelta(days=7 * index - 3)
    return date(1970 + index // 12, index % 12 + 1, 1)


def _label(index: int, period: CohortPeriod) -> str:
    start = _start(index, period)
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{start.year:04d}-{start.month:02d}"


@attrs.frozen(eq=False, kw_only=True)
class CohortMatrix:
    """Acquisition cohorts x periods since acquisition (see the module docs for definitions).

    Row ``c`` is the cohort ``labels[c]`` (acquired in the period starting
    ``starts[c]``), column ``k`` the ``k``-th period after acquisition.
    Arrays are read-only. A report: ``to_dict()``, ``to_pandas()`` (one row per
    observed cell), ``_repr_html_()`` (a heat-map of retention rates) and
    [`plot()`][crmcore.analytics.cohorts.CohortMatrix.plot].
    """

    as_of: datetime
    period: CohortPeriod
    labels: tuple[str, ...]
    starts: tuple[date, ...]
    sizes: Int64Array
    active: Int64Array
    revenue: Float64Array
    observed: BoolArray
    data: DataUsed | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(cohorts, offsets)."""
        rows, columns = self.active.shape
        return int(rows), int(columns)

    def row(self, label: str) -> int:
        """The row of the cohort labelled ``label``; [`NotFoundError`][crmcore.NotFoundError] if
        none."""
        if not isinstance(label, str):
            raise ValidationError("label", label, "must be a cohort label (a str)")
        if label not in self.labels:
            raise NotFoundError("cohort", label)
        return self.labels.index(label)

    def retention(self) -> Float64Array:
        """Period retention ``active / sizes``; ``NaN`` where unobserved or the cohort is empty."""
        out = np.full(self.active.shape, np.nan)
        ok = self.observed & (self.sizes[:, None] > 0)
        np.divide(self.active, self.sizes[:, None], out=out, where=ok)
        return out

    def churn(self) -> Float64Array:
        """``1 - retention()`` per cell (``NaN`` where retention is)."""
        out: Float64Array = 1.0 - self.retention()
        return out

    def retention_curve(self) -> list[float | None]:
        """``R(k)``: retention at offset ``k`` pooled over the cohorts that reached it."""
        reached = self.observed & (self.sizes[:, None] > 0)
        base = np.where(reached, self.sizes[:, None], 0).sum(axis=0)
        kept = np.where(reached, self.active, 0).sum(axis=0)
        return [float(a / b) if b else None for a, b in zip(kept, base, strict=True)]

    def revenue_per_customer(self) -> Float64Array:
        """Revenue per acquired customer in each cell (``NaN`` where unobserved or empty)."""
        out = np.full(self.revenue.shape, np.nan)
        ok = self.observed & (self.sizes[:, None] > 0)
        np.divide(self.revenue, self.sizes[:, None], out=out, where=ok)
        return out

    def cumulative_revenue_per_customer(self) -> Float64Array:
        """Running total of
        [`revenue_per_customer()`][crmcore.analytics.cohorts.CohortMatrix.revenue_per_customer]
        along the offsets (an LTV curve)."""
        per = self.revenue_per_customer()
        out: Float64Array = np.cumsum(np.nan_to_num(per), axis=1)
        out[np.isnan(per)] = np.nan
        return out

    def cohort_revenue(self) -> Float64Array:
        """Total revenue of each cohort to date."""
        total: Float64Array = self.revenue.sum(axis=1)
        return total

    def to_dict(self) -> dict[str, object]:
        """The matrix as JSON data: per cohort its size, revenue, active counts and rates."""
        rates = self.retention()
        cohorts = []
        for c, label in enumerate(self.labels):
            seen = self.observed[c]
            cohorts.append(
                {
                    "cohort": label,
                    "start": self.starts[c].isoformat(),
                    "size": int(self.sizes[c]),
                    "revenue": json_number(self.revenue[c].sum()),
                    "active": [
                        int(a) if s else None for a, s in zip(self.active[c], seen, strict=True)
                    ],
                    "retention": [json_number(r) for r in rates[c]],
                    "revenue_by_period": [
                        json_number(v) if s else None
                        for v, s in zip(self.revenue[c], seen, strict=True)
                    ],
                }
            )
        return {
            "as_of": self.as_of.isoformat(),
            "period": self.period,
            "customers": int(self.sizes.sum()),
            "retention_curve": self.retention_curve(),
            "cohorts": cohorts,
            "data": None if self.data is None else self.data.to_dict(),
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per observed cell: cohort, its start and size, the offset, the customers
        active, retention and revenue (pivot it with
        ``df.pivot(index="cohort", columns="offset", values="retention")``)."""
        rates = self.retention()
        rows = [
            {
                "cohort": label,
                "start": self.starts[c],
                "size": int(self.sizes[c]),
                "offset": k,
                "active": int(self.active[c, k]),
                "retention": json_number(rates[c, k]),
                "revenue": float(self.revenue[c, k]),
            }
            for c, label in enumerate(self.labels)
            for k in range(self.shape[1])
            if self.observed[c, k]
        ]
        columns = ("cohort", "start", "size", "offset", "active", "retention", "revenue")
        return records_frame(rows, "CohortMatrix.to_pandas", columns)

    def plot(self, *, value: CohortValue = "retention", ax: Axes | None = None) -> Axes:
        """The retention heatmap (or revenue per customer):
        [`plot_cohort_heatmap()`][crmcore.plotting.cohorts.plot_cohort_heatmap]."""
        return plot_cohort_heatmap(self, value=value, ax=ax)

    def _repr_html_(self) -> str:
        """A heat-map table: one row per cohort (newest last), a cell per offset, shaded by rate."""
        rows = self.shape[0]
        first = max(0, rows - _HTML_COHORTS)
        shown = f"last {rows - first} of {rows} cohorts; " if first else ""
        notes = "" if self.data is None else "; " + "; ".join(self.data.notes())
        return html_heatmap(
            f"Retention by {self.period} of acquisition as of {fmt_datetime(self.as_of)}",
            "cohort",
            self.labels[first:],
            [f"+{k}" for k in range(self.shape[1])],
            self.retention()[first:],
            lead=[("customers", self.sizes[first:].tolist(), "int")],
            caption=f"{shown}{int(self.sizes.sum()):,} customers; cell = share of the cohort "
            f"buying in that period; blank = not yet observed{notes}",
        )


def cohort_matrix(
    log: object,
    as_of: datetime,
    *,
    period: CohortPeriod = "month",
    max_periods: int | None = None,
) -> CohortMatrix:
    """Acquisition cohorts x periods since acquisition, with counts and revenue (vectorised).

    ``period`` is ``"month"`` (UTC calendar months) or ``"week"`` (ISO weeks,
    Monday to Sunday, UTC); ``max_periods`` caps the offsets kept (columns
    ``0..max_periods-1``). Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] for
    a bad option, a naive ``as_of``, bad amounts, or a log with no purchase up
    to ``as_of``; [`CurrencyMismatchError`][crmcore.kernel.errors.CurrencyMismatchError] for mixed
    currencies.
    """
    period = choice(period, "period", ("month", "week"))
    if max_periods is not None and (
        isinstance(max_periods, bool) or not isinstance(max_periods, int) or max_periods < 1
    ):
        raise ValidationError("max_periods", max_periods, "must be a positive whole number")
    p = read_purchases(log, as_of)
    if not len(p.t):
        raise ValidationError("log", 0, "has no purchase up to as_of")
    first = np.full(p.k, _I64_MAX, dtype=np.int64)
    np.minimum.at(first, p.codes, p.t)
    present = first != _I64_MAX
    row_period = _period_numbers(p.t, period)
    now = int(_period_numbers(np.array([p.as_us], dtype=np.int64), period)[0])
    first_period = np.zeros(p.k, dtype=np.int64)
    first_period[present] = _period_numbers(first[present], period)
    low = int(first_period[present].min())
    cohorts = now - low + 1
    offsets = cohorts if max_periods is None else min(cohorts, max_periods)
    if cohorts * offsets > _MAX_CELLS:
        raise ValidationError(
            "as_of",
            p.as_of,
            f"is {cohorts - 1:,} {period}s after the first purchase: a matrix of {cohorts:,} x "
            f"{offsets:,} cells (at most {_MAX_CELLS:,}); pass an earlier as_of or max_periods",
        )
    cohort_of = first_period - low  # per customer (meaningless where absent: never used)
    offset = row_period - first_period[p.codes]
    codes = p.codes
    amount = p.amount
    if offsets < cohorts:
        keep = offset < offsets
        codes, offset, amount = codes[keep], offset[keep], amount[keep]
    cell = cohort_of[codes] * offsets + offset
    revenue = exact_sums(cell, amount, cohorts * offsets)
    if p.k * offsets <= _MARK_LIMIT:
        seen = np.zeros(p.k * offsets, dtype=bool)
        seen[codes * offsets + offset] = True
        pairs = np.flatnonzero(seen)
    else:  # too many (customer, offset) pairs for a mark array: deduplicate by sorting
        pairs = np.unique(codes * offsets + offset)
    active = np.bincount(
        cohort_of[pairs // offsets] * offsets + pairs % offsets, minlength=cohorts * offsets
    ).reshape(cohorts, offsets)
    sizes = np.ascontiguousarray(active[:, 0]).astype(np.int64)
    observed = (np.arange(cohorts)[:, None] + np.arange(offsets)[None, :]) <= cohorts - 1
    indices = range(low, now + 1)
    return CohortMatrix(
        as_of=p.as_of,
        period=period,
        labels=tuple(_label(i, period) for i in indices),
        starts=tuple(_start(i, period) for i in indices),
        sizes=read_only(sizes),
        active=read_only(active.astype(np.int64)),
        revenue=read_only(revenue.reshape(cohorts, offsets).astype(np.float64)),
        observed=read_only(observed),
        data=p.data,
    )
