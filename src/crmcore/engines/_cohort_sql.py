"""Cohort matrices in SQL: the counts and revenue of ``cohort_matrix``, cell for cell.

The result is that of [`cohort_matrix()`][crmcore.analytics.cohorts.cohort_matrix].

The numpy definitions of [`crmcore.analytics.cohorts`][crmcore.analytics.cohorts], in SQL, on
the log's purchase occasions ([`crmcore.engines._occasions_sql`][crmcore.engines._occasions_sql]):
an occasion's period is its UTC month (months since January 1970, from the
day number, ``floor(us / day)``) or ISO week (``floor((day + 3) / 7)``);
a customer's cohort is the period of their first purchase occasion up to
``as_of``; a cell counts each customer once per period (``count(DISTINCT
customer)``) and sums the spend exactly in units of 1/10,000. The engine returns one row
per non-empty cell, a few thousand at most, and the matrix is assembled from
them: empty cohorts, offsets beyond ``max_periods`` and the observed mask as
numpy does.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final

import attrs
import numpy as np

from crmcore.analytics.cohorts import CohortMatrix, CohortPeriod, _label, _start, period_index
from crmcore.columnar.occasions import DataUsed
from crmcore.engines._dialect import Dialect
from crmcore.engines._occasions_sql import (
    MAX_EXACT,
    SPEND_SCALE,
    EngineLog,
    check_currency,
    data_used,
    totals_sql,
)
from crmcore.engines._runner import Runner
from crmcore.kernel.arrays import read_only
from crmcore.kernel.clock import DAY_US, from_micros, to_micros
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import choice

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["CohortOptions", "check_cohort_data", "cohort_options", "cohort_sql", "cohort_table"]

_WEEK_SHIFT: Final = 3  # 1970-01-01 was a Thursday: (day + 3) // 7 starts weeks on Monday
_MAX_CELLS: Final = 20_000_000  # cohorts x offsets, as numpy's cohort_matrix: ~340 MB of arrays


@attrs.frozen
class CohortOptions:
    """The checked options of one cohort run."""

    as_us: int
    period: CohortPeriod
    max_periods: int | None


def cohort_options(as_of: datetime, period: object, max_periods: object) -> CohortOptions:
    """The options checked as [`cohort_matrix()`][crmcore.analytics.cohorts.cohort_matrix] does."""
    periods: tuple[CohortPeriod, ...] = ("month", "week")
    chosen = choice(period, "period", periods)
    if max_periods is not None and (
        isinstance(max_periods, bool) or not isinstance(max_periods, int) or max_periods < 1
    ):
        raise ValidationError("max_periods", max_periods, "must be a positive whole number")
    return CohortOptions(to_micros(as_of, "as_of"), chosen, max_periods)


def check_cohort_data(runner: Runner, log: EngineLog, o: CohortOptions) -> DataUsed:
    """The data checks of ``read_purchases`` after the log's own, and some purchase to count.

    Returns what the report used (the per-cell exact limit is checked on the cells).
    """
    check_currency(runner, log, "aggregate spend in")
    totals = totals_sql(runner.dialect, log.occasions, o.as_us)
    data = data_used(runner, log, f"({totals}) t", o.as_us)
    if not data.purchase_occasions:
        raise ValidationError("log", 0, "has no purchase up to as_of")
    return data


def _period(d: Dialect, period: CohortPeriod) -> str:
    day = d.floordiv("at_us", d.integer(DAY_US))
    if period == "week":
        return d.floordiv(f"{day} + {_WEEK_SHIFT}", "7")
    return d.month_of_day(day)


def cohort_sql(d: Dialect, log: EngineLog, o: CohortOptions) -> str:
    """One row per non-empty cell: ``cohort`` (a period number), the offset, active, units."""
    rows = (
        f"SELECT customer_id, units, {_period(d, o.period)} AS p "
        f"FROM {log.occasions} WHERE purchase AND at_us <= {d.integer(o.as_us)}"
    )
    return (
        f"WITH rows AS ({rows}), "
        "firsts AS (SELECT customer_id, min(p) AS c FROM rows GROUP BY customer_id) "
        "SELECT f.c AS cohort, r.p - f.c AS period_offset, "
        "count(DISTINCT r.customer_id) AS active, sum(r.units) AS units "
        "FROM rows r JOIN firsts f ON r.customer_id = f.customer_id GROUP BY f.c, r.p - f.c"
    )


def cohort_table(result: pa.Table, o: CohortOptions, data: DataUsed) -> CohortMatrix:
    """The [`CohortMatrix`][crmcore.analytics.cohorts.CohortMatrix] of the fetched cells."""
    cohort = np.asarray(result.column("cohort").to_numpy(zero_copy_only=False), dtype=np.int64)
    offset = np.asarray(result.column("period_offset").to_numpy(zero_copy_only=False), np.int64)
    active = np.asarray(result.column("active").to_numpy(zero_copy_only=False), dtype=np.int64)
    units = np.asarray(result.column("units").to_numpy(zero_copy_only=False), dtype=np.float64)
    if len(units) and units.max() >= MAX_EXACT:
        i = int(np.argmax(units))
        raise ValidationError(
            "amount", float(units[i] / SPEND_SCALE), "a total must stay below 2**53 / 10,000"
        )
    now = int(period_index(np.array([o.as_us], dtype=np.int64), o.period)[0])
    low = int(cohort.min())
    cohorts = now - low + 1
    offsets = cohorts if o.max_periods is None else min(cohorts, o.max_periods)
    if cohorts * offsets > _MAX_CELLS:  # the limit of the numpy matrix, for the same reason
        raise ValidationError(
            "as_of",
            from_micros(o.as_us),
            f"is {cohorts - 1:,} {o.period}s after the first purchase: a matrix of {cohorts:,} x "
            f"{offsets:,} cells (at most {_MAX_CELLS:,}); pass an earlier as_of or max_periods",
        )
    keep = offset < offsets
    cell = (cohort[keep] - low) * offsets + offset[keep]
    matrix = np.zeros(cohorts * offsets, dtype=np.int64)
    matrix[cell] = active[keep]
    revenue = np.zeros(cohorts * offsets, dtype=np.float64)
    revenue[cell] = units[keep]
    revenue /= SPEND_SCALE
    grid = matrix.reshape(cohorts, offsets)
    observed = (np.arange(cohorts)[:, None] + np.arange(offsets)[None, :]) <= cohorts - 1
    indices = range(low, now + 1)
    return CohortMatrix(
        as_of=from_micros(o.as_us),
        period=o.period,
        labels=tuple(_label(i, o.period) for i in indices),
        starts=tuple(_start(i, o.period) for i in indices),
        sizes=read_only(np.ascontiguousarray(grid[:, 0])),
        active=read_only(grid),
        revenue=read_only(revenue.reshape(cohorts, offsets)),
        observed=read_only(observed),
        data=data,
    )
