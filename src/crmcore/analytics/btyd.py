"""The BTYD customer summary: frequency, recency, T and monetary value per customer.

"Buy 'til you die" models (BG/NBD, Pareto/NBD, Gamma-Gamma) do not read the
transactions themselves but four sufficient statistics per customer, in the
convention of Fader, Hardie & Lee (2005) and of the ``lifetimes`` and
``pymc-marketing`` packages:

* the log is read as **purchase occasions** (the one rule of
  [`crmcore.columnar.occasions`][crmcore.columnar.occasions]: an order is one
  occasion, a return is none), which are then collapsed to **periods**
  (``period="D"``: several orders on one day count as one purchase, with their
  amounts summed), as ``lifetimes`` does on a log of purchases;
* ``frequency`` (*x*) = number of periods with a purchase, minus one: the
  number of **repeat** purchases (the first purchase is the customer's
  "birth" and is not counted);
* ``recency`` (*t_x*) = time from the first to the last purchase period
  (the customer's *age at the last purchase*, not "time since last
  purchase"; 0 when there is no repeat purchase);
* ``T`` = time from the first purchase period to the period of ``as_of``;
* ``monetary`` = mean spend of the **repeat** periods (first excluded; 0
  when there is none).

Times are measured in ``time_unit`` (default: the period), so the CDNOW
convention, daily aggregation with times in weeks, is
``period="D", time_unit="W"``.

Returns are reported beside the summary, never counted in it:
``return_count`` and ``return_value`` per customer (calibration period), and
``data`` ([`DataUsed`][crmcore.columnar.occasions.DataUsed]) with the totals, the
returns of customers with no purchase, and the rows left out.

[`summary_from_transactions()`][crmcore.analytics.btyd.summary_from_transactions] builds it from a
[`TransactionLog`][crmcore.columnar.TransactionLog] with numpy only (one sort, then
``np.unique`` / ``np.bincount`` over integer keys; no loop per customer),
optionally with a **holdout** period after ``as_of`` (repeat purchase
periods and mean spend in the holdout) to validate a model fitted on the
calibration period.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.columnar import TransactionLog
    >>> day = lambda d: datetime(2024, 1, d, tzinfo=UTC)
    >>> log = TransactionLog.from_records([
    ...     {"customer_id": "a", "at": day(1), "amount": 10.0},
    ...     {"customer_id": "a", "at": day(8), "amount": 20.0},
    ...     {"customer_id": "a", "at": day(8), "amount": 5.0},
    ...     {"customer_id": "a", "at": day(15), "amount": 30.0},
    ...     {"customer_id": "b", "at": day(10), "amount": 7.0},
    ... ])
    >>> s = summary_from_transactions(log, day(29), period="D")
    >>> s.frequency.tolist(), s.recency.tolist(), s.T.tolist(), s.monetary.tolist()
    ([2, 0], [14.0, 0.0], [28.0, 19.0], [27.5, 0.0])
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.columnar import STRING_DTYPE, TransactionLog
from crmcore.columnar.occasions import UNITS, DataUsed, data_used, purchase_occasions
from crmcore.kernel.arrays import AnyArray, Float64Array, Int64Array, read_only
from crmcore.kernel.clock import to_micros, to_utc
from crmcore.kernel.deprecation import renamed
from crmcore.kernel.errors import CurrencyMismatchError, ValidationError
from crmcore.kernel.reports import data_frame, html_table, json_number
from crmcore.kernel.validators import choice

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BtydSummary", "SummaryPeriod", "summary_from_transactions"]


SummaryPeriod = Literal["h", "D", "W", "M"]
"""Aggregation periods and time units: hour, day, week (Monday to Sunday), calendar month."""
PERIODS: Final[tuple[str, ...]] = ("h", "D", "W", "M")

_US: Final = {"h": 3_600_000_000, "D": 86_400_000_000, "W": 7 * 86_400_000_000}
_MONDAY_US: Final = 4 * 86_400_000_000  # 1970-01-05, the first Monday after the epoch
_HTML_ROWS: Final = 10


# -- construction helpers ------------------------------------------------------------------


def _floats(value: npt.ArrayLike, field: str) -> Float64Array:
    raw = np.asarray(value)
    if raw.ndim != 1 or raw.dtype.kind not in "fiu":
        raise ValidationError(field, raw.dtype, "must be a one-dimensional array of numbers")
    arr = np.array(raw, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        i = int(np.argmin(np.isfinite(arr)))
        raise ValidationError(f"{field}[{i}]", float(arr[i]), "must be finite")
    return read_only(arr)


def _opt_floats(value: npt.ArrayLike | None, field: str) -> Float64Array | None:
    return None if value is None else _floats(value, field)


def _counts(value: npt.ArrayLike, field: str) -> Int64Array:
    raw = np.asarray(value)
    if raw.ndim != 1 or raw.dtype.kind not in "fiu":
        raise ValidationError(field, raw.dtype, "must be a one-dimensional array of counts")
    as_float = raw.astype(np.float64)
    bad = ~np.isfinite(as_float) | (as_float < 0) | (as_float != np.floor(as_float))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValidationError(f"{field}[{i}]", raw[i].item(), "must be a whole number >= 0")
    return read_only(raw.astype(np.int64))


def _opt_counts(value: npt.ArrayLike | None, field: str) -> Int64Array | None:
    return None if value is None else _counts(value, field)


def _ids(value: npt.ArrayLike) -> AnyArray:
    raw = np.asarray(value)
    if raw.ndim != 1 or not (raw.dtype == STRING_DTYPE or raw.dtype.kind in "UO"):
        raise ValidationError("customer_ids", raw.dtype, "must be a one-dimensional array of str")
    if raw.dtype.kind == "O" and not all(isinstance(v, str) for v in raw.tolist()):
        raise ValidationError("customer_ids", raw.dtype, "must hold str values only")
    return read_only(np.array(raw, dtype=STRING_DTYPE))


def _period(value: object, field: str) -> str:
    return str(choice(value, field, PERIODS))


def _opt_time(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "as_of")


def _frequency(value: npt.ArrayLike) -> Int64Array:
    return _counts(value, "frequency")


def _recency(value: npt.ArrayLike) -> Float64Array:
    return _floats(value, "recency")


def _age(value: npt.ArrayLike) -> Float64Array:
    return _floats(value, "T")


def _monetary(value: npt.ArrayLike) -> Float64Array:
    return _floats(value, "monetary")


def _time_unit(value: object) -> str:
    return _period(value, "time_unit")


def _period_name(value: object) -> str:
    return _period(value, "period")


def _holdout_frequency(value: npt.ArrayLike | None) -> Int64Array | None:
    return _opt_counts(value, "holdout_frequency")


def _holdout_monetary(value: npt.ArrayLike | None) -> Float64Array | None:
    return _opt_floats(value, "holdout_monetary")


def _return_count(value: npt.ArrayLike | None) -> Int64Array | None:
    return _opt_counts(value, "return_count")


def _return_value(value: npt.ArrayLike | None) -> Float64Array | None:
    return _opt_floats(value, "return_value")


def _check_same_length(summary: BtydSummary) -> None:
    n = len(summary.customer_ids)
    for name in ("frequency", "recency", "T", "monetary"):
        if len(getattr(summary, name)) != n:
            raise ValidationError(name, len(getattr(summary, name)), f"must have length {n}")
    for name in ("holdout_frequency", "holdout_monetary", "return_count", "return_value"):
        value = getattr(summary, name)
        if value is not None and len(value) != n:
            raise ValidationError(name, len(value), f"must have length {n}")


@attrs.frozen(kw_only=True, eq=False)
class BtydSummary:
    """Per-customer BTYD statistics as aligned, read-only numpy arrays.

    Build it with [`summary_from_transactions()`][crmcore.analytics.btyd.summary_from_transactions],
    or directly from arrays (e.g. a published data set). Construction validates: equal lengths,
    ``frequency`` whole numbers >= 0, ``0 <= recency <= T``, ``recency == 0`` and ``monetary == 0``
    when ``frequency == 0``, everything finite. Arguments are copied, never modified.

    ``holdout_frequency`` / ``holdout_monetary`` are the purchase periods and
    mean spend per period in the holdout window of length
    ``holdout_duration`` (in ``time_unit``) after ``as_of``; ``None`` when no
    holdout was asked for.
    """

    customer_ids: AnyArray = attrs.field(converter=_ids)
    frequency: Int64Array = attrs.field(converter=_frequency)
    recency: Float64Array = attrs.field(converter=_recency)
    T: Float64Array = attrs.field(converter=_age)
    monetary: Float64Array = attrs.field(converter=_monetary)
    time_unit: str = attrs.field(default="D", converter=_time_unit)
    period: str = attrs.field(default="D", converter=_period_name)
    as_of: datetime | None = attrs.field(default=None, converter=_opt_time)
    holdout_frequency: Int64Array | None = attrs.field(default=None, converter=_holdout_frequency)
    holdout_monetary: Float64Array | None = attrs.field(default=None, converter=_holdout_monetary)
    holdout_duration: float | None = None
    return_count: Int64Array | None = attrs.field(default=None, converter=_return_count)
    return_value: Float64Array | None = attrs.field(default=None, converter=_return_value)
    data: DataUsed | None = None

    def __attrs_post_init__(self) -> None:
        _check_same_length(self)
        checks = (
            (self.recency < 0, "recency", "must be >= 0"),
            (self.recency > self.T * (1 + 1e-12), "recency", "must be <= T"),
            (
                (self.frequency == 0) & (self.recency != 0),
                "recency",
                "must be 0 when frequency is 0",
            ),
            (
                (self.frequency == 0) & (self.monetary != 0),
                "monetary",
                "must be 0 when frequency is 0 (it is the mean of repeat purchases)",
            ),
        )
        for bad, name, reason in checks:
            if bad.any():
                i = int(np.argmax(bad))
                raise ValidationError(f"{name}[{i}]", float(getattr(self, name)[i]), reason)
        if (self.holdout_frequency is None) != (self.holdout_duration is None):
            raise ValidationError(
                "holdout_duration", self.holdout_duration, "is given exactly with holdout_frequency"
            )
        if self.holdout_duration is not None and not (
            np.isfinite(self.holdout_duration) and self.holdout_duration > 0
        ):
            raise ValidationError("holdout_duration", self.holdout_duration, "must be > 0")

    def __len__(self) -> int:
        return len(self.customer_ids)

    def __repr__(self) -> str:
        holdout = "" if self.holdout_duration is None else ", with holdout"
        return (
            f"BtydSummary({len(self)} customers, times in {self.time_unit}, "
            f"{int(np.count_nonzero(self.frequency))} repeat buyers{holdout})"
        )

    @property
    def repeat_buyers(self) -> npt.NDArray[np.bool_]:
        """Mask of the customers with at least one repeat purchase (``frequency > 0``)."""
        return self.frequency > 0

    def take(self, indices: npt.ArrayLike) -> BtydSummary:
        """The customers at ``indices`` (int positions), in that order."""
        idx = np.asarray(indices)
        if idx.size == 0:
            idx = np.empty(0, dtype=np.int64)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise ValidationError("indices", idx.dtype, "must be a 1-d array of int positions")
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise ValidationError("indices", idx.tolist()[:5], f"must lie in 0..{len(self) - 1}")

        def pick(a: AnyArray | None) -> AnyArray | None:
            return None if a is None else a[idx]

        return BtydSummary(
            customer_ids=self.customer_ids[idx],
            frequency=self.frequency[idx],
            recency=self.recency[idx],
            T=self.T[idx],
            monetary=self.monetary[idx],
            time_unit=self.time_unit,
            period=self.period,
            as_of=self.as_of,
            holdout_frequency=pick(self.holdout_frequency),
            holdout_monetary=pick(self.holdout_monetary),
            holdout_duration=self.holdout_duration,
            return_count=pick(self.return_count),
            return_value=pick(self.return_value),
            data=self.data,
        )

    def filter(self, mask: npt.ArrayLike) -> BtydSummary:
        """The customers where the boolean ``mask`` is true (e.g.
        [`repeat_buyers`][crmcore.analytics.btyd.BtydSummary.repeat_buyers])."""
        keep = np.asarray(mask)
        if keep.dtype != np.bool_ or keep.shape != (len(self),):
            raise ValidationError("mask", keep.shape, f"must be a bool array of length {len(self)}")
        return self.take(np.flatnonzero(keep))

    def to_dict(self) -> dict[str, object]:
        """JSON-compatible data: settings, totals and one list per column."""
        out: dict[str, object] = {
            "customers": len(self),
            "repeat_buyers": int(np.count_nonzero(self.frequency)),
            "time_unit": self.time_unit,
            "period": self.period,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "customer_ids": self.customer_ids.tolist(),
            "frequency": self.frequency.tolist(),
            "recency": [json_number(v) for v in self.recency],
            "T": [json_number(v) for v in self.T],
            "monetary": [json_number(v) for v in self.monetary],
        }
        if self.holdout_frequency is not None:
            out["holdout_duration"] = json_number(self.holdout_duration)
            out["holdout_frequency"] = self.holdout_frequency.tolist()
        if self.holdout_monetary is not None:
            out["holdout_monetary"] = [json_number(v) for v in self.holdout_monetary]
        if self.return_count is not None:
            out["return_count"] = self.return_count.tolist()
        if self.return_value is not None:
            out["return_value"] = [json_number(v) for v in self.return_value]
        if self.data is not None:
            out["data"] = self.data.to_dict()
        return out

    def to_pandas(self) -> pd.DataFrame:
        """One row per customer: ``customer_id``, ``frequency``, ``recency``, ``T``,
        ``monetary`` and, when present, the holdout and return columns (lifetimes' summary
        with the customer as a column)."""
        optional = ("holdout_frequency", "holdout_monetary", "return_count", "return_value")
        columns: dict[str, object] = {
            "customer_id": self.customer_ids,
            "frequency": self.frequency,
            "recency": self.recency,
            "T": self.T,
            "monetary": self.monetary,
        }
        columns |= {c: getattr(self, c) for c in optional if getattr(self, c) is not None}
        return data_frame(columns, "BtydSummary.to_pandas")

    def _repr_html_(self) -> str:
        """The first rows as an HTML table, with the column means as caption."""
        n = min(len(self), _HTML_ROWS)
        header = ["customer", "frequency", "recency", "T", "monetary"]
        columns: list[AnyArray] = [
            self.customer_ids[:n],
            self.frequency[:n],
            self.recency[:n],
            self.T[:n],
            self.monetary[:n],
        ]
        if self.holdout_frequency is not None:
            header.append("holdout frequency")
            columns.append(self.holdout_frequency[:n])
        rows = [list(row) for row in zip(*(c.tolist() for c in columns), strict=True)]

        def mean(values: AnyArray) -> float:
            return float(values.mean()) if len(values) else float("nan")

        caption = (
            f"{len(self):,} customers, times in {self.time_unit}; means: frequency "
            f"{mean(self.frequency):.3f}, recency {mean(self.recency):.2f}, T {mean(self.T):.2f}"
        )
        if self.data is not None:
            caption += "; " + "; ".join(self.data.notes())
        return html_table("BTYD summary", header, rows, caption=caption)


# -- from transactions ---------------------------------------------------------------------


def _period_index(us: Int64Array, period: str) -> Int64Array:
    """Integer index of the period each time (µs since the epoch) falls in."""
    if period == "M":
        months: Int64Array = us.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)
        return months
    if period == "W":
        return (us - _MONDAY_US) // _US["W"]
    return us // _US[period]


def _period_start_us(index: Int64Array, period: str) -> Int64Array:
    """The start (µs since the epoch) of each period index."""
    if period == "M":
        starts: Int64Array = index.astype("datetime64[M]").astype("datetime64[us]").astype(np.int64)
        return starts
    if period == "W":
        return index * _US["W"] + _MONDAY_US
    return index * _US[period]


def _elapsed(start: Int64Array, end: Int64Array, period: str, unit: str) -> Float64Array:
    """Time from period ``start`` to period ``end`` (period indexes) in ``unit``."""
    if unit == "M":
        return (end - start).astype(np.float64)
    span = _period_start_us(end, period) - _period_start_us(start, period)
    return span / _US[unit]


def _check_currency(log: TransactionLog, rows: Int64Array) -> None:
    column = log["currency"]
    codes = column.values[rows]
    present = np.unique(codes[codes >= 0])
    if present.size > 1:
        names = column.categories
        raise CurrencyMismatchError(names[int(present[0])], names[int(present[1])], "average")


def _period_totals(
    codes: Int64Array, index: Int64Array, amounts: Float64Array
) -> tuple[Int64Array, Int64Array, Float64Array]:
    """Distinct (customer, period) pairs, sorted, with the summed amount of each."""
    if codes.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    low = int(index.min())
    width = int(index.max()) - low + 1
    keys = codes * width + (index - low)
    pairs, inverse = np.unique(keys, return_inverse=True)
    totals = np.bincount(inverse, weights=amounts, minlength=len(pairs)).astype(np.float64)
    customers: Int64Array = pairs // width
    periods: Int64Array = pairs % width + low
    return customers, periods, totals


def summary_from_transactions(
    log: TransactionLog,
    as_of: datetime,
    period: SummaryPeriod = "D",
    *,
    time_unit: SummaryPeriod | None = None,
    holdout_end: datetime | None = None,
) -> BtydSummary:
    """The BTYD summary of every customer who bought at or before ``as_of``.

    The log is read as purchase occasions (returns beside, in ``return_count``,
    ``return_value`` and ``data``). Transactions after ``as_of`` are ignored
    (except in the holdout).
    ``period`` aggregates purchases (``"h"``, ``"D"``, ``"W"`` Monday to
    Sunday in UTC, ``"M"`` calendar month); ``time_unit`` (default
    ``period``) is the unit of ``recency``, ``T`` and the holdout duration;
    a ``"M"`` unit needs ``"M"`` periods. ``T`` runs to the start of the
    period containing ``as_of``.

    With ``holdout_end``, the window ``(as_of, holdout_end]`` is the holdout:
    ``holdout_frequency`` counts each customer's purchase periods there and
    ``holdout_monetary`` their mean spend per period (0 when none);
    customers whose first purchase is in the holdout are left out (they did
    not exist at calibration time).

    Customers appear in order of first appearance in the log. Amounts in
    several currencies raise [`CurrencyMismatchError`][crmcore.kernel.errors.CurrencyMismatchError];
    a naive datetime, an unknown period or ``holdout_end <= as_of`` raise
    [`ValidationError`][crmcore.kernel.errors.ValidationError]. An empty result is allowed (the
    model fits refuse it).
    """
    if not isinstance(log, TransactionLog):
        raise ValidationError("log", type(log).__name__, "must be a TransactionLog")
    period = _period(period, "period")  # type: ignore[assignment]
    unit = period if time_unit is None else _period(time_unit, "time_unit")
    if unit == "M" and period != "M":
        raise ValidationError("time_unit", unit, 'months are a time unit only with period="M"')
    as_of = to_utc(as_of, "as_of")
    as_us = to_micros(as_of)
    end_us = as_us
    if holdout_end is not None:
        holdout_end = to_utc(holdout_end, "holdout_end")
        end_us = to_micros(holdout_end)
        if end_us <= as_us:
            raise ValidationError("holdout_end", holdout_end, "must be after as_of")

    _check_currency(log, np.flatnonzero(log.at.view(np.int64) <= end_us))
    occasions = purchase_occasions(log).up_to(end_us)
    at = occasions.t
    codes = occasions.codes
    amounts = occasions.value
    index = _period_index(at, period)
    calibration = at <= as_us

    cust, pidx, totals = _period_totals(
        codes[calibration], index[calibration], amounts[calibration]
    )
    starts = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]]) if cust.size else cust
    ends = np.r_[starts[1:], cust.size] - 1 if cust.size else cust
    customers = cust[starts]
    frequency = ends - starts
    first_period = pidx[starts]
    last_period = pidx[ends] if cust.size else pidx
    as_of_period = _period_index(np.array([as_us], dtype=np.int64), period)[0]
    recency = _elapsed(first_period, last_period, period, unit)
    age = _elapsed(first_period, np.full_like(first_period, as_of_period), period, unit)
    sums = np.add.reduceat(totals, starts) if cust.size else totals
    repeat_spend = sums - totals[starts] if cust.size else totals
    monetary = np.divide(repeat_spend, frequency, out=np.zeros(len(frequency)), where=frequency > 0)

    holdout: dict[str, Any] = {}
    if holdout_end is not None:
        later = ~calibration
        h_cust, _, h_totals = _period_totals(codes[later], index[later], amounts[later])
        size = len(log.customer_ids)
        h_count = np.bincount(h_cust, minlength=size)[customers]
        h_sum = np.bincount(h_cust, weights=h_totals, minlength=size)[customers]
        end_period = _period_index(np.array([end_us], dtype=np.int64), period)[0]
        duration = _elapsed(np.array([as_of_period]), np.array([end_period]), period, unit)[0]
        holdout = {
            "holdout_frequency": h_count,
            "holdout_monetary": np.divide(
                h_sum, h_count, out=np.zeros(len(h_count)), where=h_count > 0
            ),
            "holdout_duration": float(duration) if duration > 0 else None,
        }
        if holdout["holdout_duration"] is None:
            raise ValidationError(
                "holdout_end", holdout_end, f"must fall in a later {period} period than as_of"
            )

    calibration_only = occasions.up_to(as_us)
    size = len(log.customer_ids)
    back = calibration_only.return_codes
    return_count = np.bincount(back, minlength=size)[customers]
    return_units = np.bincount(
        back, weights=calibration_only.return_units.astype(np.float64), minlength=size
    )
    return BtydSummary(
        customer_ids=log.customer_ids[customers],
        frequency=frequency,
        recency=recency,
        T=age,
        monetary=monetary,
        time_unit=unit,
        period=period,
        as_of=as_of,
        return_count=return_count,
        return_value=return_units[customers] / UNITS,
        data=data_used(log, calibration_only, as_us),
        **holdout,
    )


__getattr__ = renamed(
    globals(),
    {
        "RFMSummary": "BtydSummary",
    },
)
"""Names before 0.2, kept for one release."""
