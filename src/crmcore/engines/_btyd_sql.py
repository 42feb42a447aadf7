"""The BTYD summary in SQL: frequency, recency, T and monetary value per customer.

The result is that of
[`summary_from_transactions()`][crmcore.analytics.btyd.summary_from_transactions].

The numpy definitions of [`crmcore.analytics.btyd`][crmcore.analytics.btyd], in SQL: the
purchase occasions ([`crmcore.engines._occasions_sql`][crmcore.engines._occasions_sql])
up to ``as_of`` collapse to periods (hour, day, Monday-to-Sunday week or calendar month, by
integer arithmetic on microseconds); per customer, ``frequency`` is the number of periods minus
one, ``recency`` and ``T`` the time from the first period's start to the last period's (to the
period of ``as_of``), in ``time_unit``, as one integer difference of microseconds divided by the
unit (months: a difference of month numbers), and ``monetary`` the mean of the repeat periods'
totals. The holdout counts the periods and sums the spend after ``as_of``. The returns up to
``as_of`` are counted and summed beside (``return_count``, ``return_value``).

Counts, times and return values are exact; ``monetary`` and the holdout spend
are summed exactly in units here, and as doubles by numpy (equal within 1e-9).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final

import attrs
import numpy as np

from crmcore.analytics.btyd import (
    BtydSummary,
    _elapsed,
    _period,
    _period_index,
)
from crmcore.columnar import STRING_DTYPE
from crmcore.columnar.occasions import DataUsed
from crmcore.engines._dialect import Dialect, cte
from crmcore.engines._occasions_sql import (
    SPEND_SCALE,
    EngineLog,
    check_currency,
    data_used,
    totals_sql,
)
from crmcore.engines._runner import Runner, fetched
from crmcore.kernel.clock import DAY_US, from_micros, to_micros, to_utc
from crmcore.kernel.errors import ValidationError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["BtydOptions", "btyd_options", "btyd_sql", "btyd_summary", "check_btyd_data"]

_US: Final = {"h": 3_600_000_000, "D": DAY_US, "W": 7 * DAY_US}
_MONDAY_US: Final = 4 * DAY_US  # 1970-01-05, the first Monday after the epoch


@attrs.frozen
class BtydOptions:
    """The checked options of one summary."""

    as_of: datetime
    as_us: int
    end_us: int
    period: str
    unit: str
    holdout: bool


def btyd_options(
    as_of: object, period: object, time_unit: object, holdout_end: object
) -> BtydOptions:
    """The options checked as ``summary_from_transactions`` checks them, in its order."""
    period = _period(period, "period")
    unit = period if time_unit is None else _period(time_unit, "time_unit")
    if unit == "M" and period != "M":
        raise ValidationError("time_unit", unit, 'months are a time unit only with period="M"')
    at = to_utc(as_of, "as_of")
    as_us = to_micros(at)
    end_us = as_us
    if holdout_end is not None:
        end = to_utc(holdout_end, "holdout_end")
        end_us = to_micros(end)
        if end_us <= as_us:
            raise ValidationError("holdout_end", end, "must be after as_of")
    return BtydOptions(at, as_us, end_us, str(period), str(unit), holdout_end is not None)


def check_btyd_data(runner: Runner, log: EngineLog, o: BtydOptions) -> tuple[str, DataUsed]:
    """The summary's checks after the log's own: one currency up to the end, a holdout period.

    Returns the table of per-customer totals and what the report used.
    """
    check_currency(runner, log, "average", o.end_us)
    if o.holdout:
        end_period = _period_index(np.array([o.end_us], dtype=np.int64), o.period)[0]
        as_period = _period_index(np.array([o.as_us], dtype=np.int64), o.period)[0]
        if end_period <= as_period:
            raise ValidationError(
                "holdout_end",
                to_utc(from_micros(o.end_us), "holdout_end"),
                f"must fall in a later {o.period} period than as_of",
            )
    totals = runner.fresh("btyd_totals")
    runner.table(totals, totals_sql(runner.dialect, log.occasions, o.as_us))
    return totals, data_used(runner, log, totals, o.as_us)


def _index(d: Dialect, us: str, period: str) -> str:
    """The period number of a time in microseconds (``_period_index``)."""
    if period == "M":
        return d.month_of_day(d.floordiv(us, d.integer(DAY_US)))
    if period == "W":
        return d.floordiv(f"{us} - {d.integer(_MONDAY_US)}", d.integer(_US["W"]))
    return d.floordiv(us, d.integer(_US[period]))


def _start_us(d: Dialect, index: str, period: str) -> str:
    """The start of a period number, in microseconds (``_period_start_us``)."""
    if period == "M":
        return f"{d.day_of_month(index)} * {d.integer(DAY_US)}"
    if period == "W":
        return f"({index}) * {d.integer(_US['W'])} + {d.integer(_MONDAY_US)}"
    return f"({index}) * {d.integer(_US[period])}"


def _elapsed_sql(d: Dialect, start: str, end: str, period: str, unit: str) -> str:
    """Time from period ``start`` to period ``end`` in ``unit`` (``_elapsed``)."""
    if unit == "M":
        return d.to_double(f"({end}) - ({start})")
    span = f"({_start_us(d, end, period)}) - ({_start_us(d, start, period)})"
    return f"{d.to_double(span)} / {d.double(float(_US[unit]))}"


def btyd_sql(d: Dialect, log: EngineLog, totals: str, o: BtydOptions) -> str:
    """One row per customer with a purchase occasion up to ``as_of``, in order of first
    appearance."""
    as_of, end = d.integer(o.as_us), d.integer(o.end_us)
    as_period = int(_period_index(np.array([o.as_us], dtype=np.int64), o.period)[0])
    zero = d.double(0.0)
    scale = d.double(SPEND_SCALE)
    steps = [
        (
            "rows",
            f"SELECT customer_id, at_us, units, {_index(d, 'at_us', o.period)} AS p "
            f"FROM {log.occasions} WHERE purchase AND at_us <= {end}",
        ),
        (
            "cal",
            "SELECT customer_id, p, sum(units) AS total FROM rows "
            f"WHERE at_us <= {as_of} GROUP BY customer_id, p",
        ),
        (
            "per",
            "SELECT customer_id, count(*) - 1 AS frequency, min(p) AS first_p, max(p) AS last_p, "
            "sum(total) AS total_sum, min_by(total, p) AS first_total "
            "FROM cal GROUP BY customer_id",
        ),
    ]
    holdout = ""
    if o.holdout:
        steps.append(
            (
                "hold",
                "SELECT customer_id, count(DISTINCT p) AS h_count, sum(units) AS h_sum "
                f"FROM rows WHERE at_us > {as_of} GROUP BY customer_id",
            )
        )
        h_sum = f"{d.to_double('h.h_sum')} / {scale}"
        holdout = (
            ", CAST(coalesce(h.h_count, 0) AS BIGINT) AS holdout_frequency, "
            f"CASE WHEN h.h_count > 0 THEN {h_sum} / {d.to_double('h.h_count')} ELSE {zero} END "
            "AS holdout_monetary"
        )
    recency = _elapsed_sql(d, "per.first_p", "per.last_p", o.period, o.unit)
    age = _elapsed_sql(d, "per.first_p", d.integer(as_period), o.period, o.unit)
    repeat = f"{d.to_double('per.total_sum - per.first_total')} / {scale}"
    monetary = (
        f"CASE WHEN per.frequency > 0 THEN {repeat} / "
        f"{d.to_double('per.frequency')} ELSE {zero} END"
    )
    join = " LEFT JOIN hold h ON per.customer_id = h.customer_id" if o.holdout else ""
    final = (
        f"SELECT per.customer_id, per.frequency, {recency} AS recency, {age} AS T, "
        f"{monetary} AS monetary{holdout}, f.n_back AS return_count, "
        f"{d.to_double('f.back')} / {scale} AS return_value "
        f"FROM per JOIN {totals} f ON per.customer_id = f.customer_id"
        f"{join} ORDER BY f.first_row"
    )
    return cte(steps, final)


def btyd_summary(result: pa.Table, o: BtydOptions, data: DataUsed) -> BtydSummary:
    """The [`BtydSummary`][crmcore.analytics.btyd.BtydSummary] of the fetched rows."""
    holdout: dict[str, object] = {}
    if o.holdout:
        start = _period_index(np.array([o.as_us], dtype=np.int64), o.period)
        stop = _period_index(np.array([o.end_us], dtype=np.int64), o.period)
        holdout = {
            "holdout_frequency": fetched(result, "holdout_frequency", np.int64),
            "holdout_monetary": fetched(result, "holdout_monetary", np.float64),
            "holdout_duration": float(_elapsed(start, stop, o.period, o.unit)[0]),
        }
    return BtydSummary(
        customer_ids=fetched(result, "customer_id", STRING_DTYPE),
        frequency=fetched(result, "frequency", np.int64),
        recency=fetched(result, "recency", np.float64),
        T=fetched(result, "T", np.float64),
        monetary=fetched(result, "monetary", np.float64),
        time_unit=o.unit,
        period=o.period,
        as_of=o.as_of,
        return_count=fetched(result, "return_count", np.int64),
        return_value=fetched(result, "return_value", np.float64),
        data=data,
        **holdout,  # type: ignore[arg-type]
    )
