"""Customer KPIs from a transaction log: order value, frequency, repeat rate, retention, CLV.

The descriptive numbers every CRM dashboard shows (DOMAIN.md §8: retention
rate, churn rate, average order value, CLV), computed vectorised over a
[`TransactionLog`][crmcore.columnar.TransactionLog] as of a date. The log is read by the
one rule of [`crmcore.columnar.occasions`][crmcore.columnar.occasions] (orders, not
rows; returns beside the purchases; guests left out and counted); anything
after ``as_of`` is ignored. Definitions:

* **customers**: distinct customers with at least one purchase occasion up to ``as_of``.
* **orders**: purchase occasions up to ``as_of``; **revenue**: their value
  (gross, exactly, in units of 1/10,000, so the order of the rows never matters);
  **returns** / **return value**: the returns up to ``as_of``; **net revenue** =
  revenue + return value.
* **average order value (AOV)** = revenue / orders.
* **purchase frequency** = orders / customers.
* **repeat purchase rate** = customers with two or more purchase occasions / customers.
* **historical CLV** of a customer = ``margin`` x the customer's net spend to
  date (``margin=1``: revenue; pass a gross-margin rate for profit). Without
  returns its mean over customers equals AOV x purchase frequency x margin.
* **window retention** (``window_days`` = *w*): of the customers who bought
  in the previous window ``(as_of - 2w, as_of - w]``, the share who bought
  again in the current window ``(as_of - w, as_of]``. **Churn rate** =
  1 - window retention. Both are ``None`` when nobody bought in the
  previous window (no denominator; never ``NaN``).

Undefined ratios (an empty log) are ``None`` in the report, never ``NaN``.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.columnar import TransactionLog
    >>> t = datetime(2026, 5, 1, tzinfo=UTC)
    >>> log = TransactionLog.from_records([
    ...     {"customer_id": "a", "at": t, "amount": 30.0},
    ...     {"customer_id": "a", "at": t, "amount": 10.0},
    ...     {"customer_id": "b", "at": t, "amount": 20.0},
    ... ])
    >>> k = customer_kpis(log, datetime(2026, 6, 1, tzinfo=UTC))
    >>> k.average_order_value, k.purchase_frequency, k.repeat_purchase_rate
    (20.0, 1.5, 0.5)
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.columnar import TransactionLog
from crmcore.columnar.id_index import rows_equal_to
from crmcore.columnar.occasions import DataUsed, Occasions, data_used, purchase_occasions
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array, Int64Array, read_only
from crmcore.kernel.clock import DAY_US, EPOCH, to_micros
from crmcore.kernel.errors import CurrencyMismatchError, NotFoundError, ValidationError
from crmcore.kernel.reports import data_frame, fmt_datetime, html_table, json_number, records_frame
from crmcore.kernel.validators import instance_of, storable_text

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CustomerKpis", "HistoricalClv", "customer_kpis", "historical_clv"]


_US: Final = timedelta(microseconds=1)
"""Microseconds per day (the unit of ``datetime64[us]`` columns)."""
_I64_MAX: Final = np.iinfo(np.int64).max
_I64_MIN: Final = np.iinfo(np.int64).min
_MAX_WINDOW_DAYS: Final = 36_500
SPEND_SCALE: Final = 10_000.0
"""Amounts are summed in units of 1/SPEND_SCALE (exact integers in float64)."""
MAX_EXACT: Final = float(2**53)
_SAFE_ABS_SUM: Final = float(2**52)  # margin for the rounding of the check's own float sum
_LOW_BITS: Final = 26
_LOW_MASK: Final = (1 << _LOW_BITS) - 1


def from_micros(value: int) -> datetime:
    """The aware UTC datetime ``value`` microseconds after the epoch."""
    return EPOCH + timedelta(microseconds=value)


@attrs.frozen(eq=False, kw_only=True)
class Purchases:
    """The purchase occasions of a log up to ``as_of`` as plain arrays (shared by the analytics).

    One entry per purchase occasion (an order, or a row without an order id,
    by the rule of [`crmcore.columnar.occasions`][crmcore.columnar.occasions]): ``codes``
    index ``vocabulary`` (the log's customer ids), ``t`` is microseconds since the epoch,
    ``amount`` the value (``units``: the same in exact 1/10,000). Returns up to ``as_of``
    are in ``returns``; ``data`` is what the analysis used and left out, for its
    report. ``k`` is the vocabulary size.
    """

    codes: Int64Array
    t: Int64Array
    units: Int64Array
    vocabulary: AnyArray
    as_us: int
    returns: Occasions
    data: DataUsed

    @property
    def amount(self) -> Float64Array:
        """The value of each purchase occasion (computed from ``units`` when asked for)."""
        out: Float64Array = self.units / SPEND_SCALE
        return out

    @property
    def k(self) -> int:
        """Number of ids in the vocabulary (customers with purchases at any time)."""
        return len(self.vocabulary)

    @property
    def as_of(self) -> datetime:
        """``as_of`` as an aware UTC datetime."""
        return from_micros(self.as_us)


def read_purchases(log: object, as_of: object) -> Purchases:
    """Validate ``log`` and ``as_of`` and return the purchase occasions up to ``as_of``.

    Returns are data, not errors: they are kept beside the purchases
    (``returns``) and counted in ``data``. Raises
    [`ValidationError`][crmcore.kernel.errors.ValidationError] for something that is
    not a [`TransactionLog`][crmcore.columnar.TransactionLog], a naive ``as_of``, or
    a non-finite amount (naming the row), and
    [`CurrencyMismatchError`][crmcore.kernel.errors.CurrencyMismatchError] when the log mixes
    currencies (spend in two currencies cannot be ranked or summed together).
    """
    if not isinstance(log, TransactionLog):
        raise ValidationError("log", log, "must be a TransactionLog")
    as_us = to_micros(as_of, "as_of")
    currency = log["currency"]
    if len(currency.categories) > 1:
        used = np.flatnonzero(np.bincount(currency.codes.astype(np.int64) + 1)[1:])
        if len(used) > 1:
            names = currency.categories
            raise CurrencyMismatchError(names[used[0]], names[used[1]], "aggregate spend in")
    occasions = purchase_occasions(log).up_to(as_us)
    return Purchases(
        codes=occasions.codes,
        t=occasions.t,
        units=occasions.units,
        vocabulary=log.customer_ids,
        as_us=as_us,
        returns=occasions,
        data=data_used(log, occasions, as_us),
    )


@attrs.frozen(eq=False)
class PerCustomer:
    """Per-customer aggregates over the vocabulary (rows without purchases have count 0)."""

    count: Int64Array
    revenue: Float64Array
    first: Int64Array
    last: Int64Array
    net: Float64Array

    @property
    def present(self) -> BoolArray:
        """Customers with at least one purchase up to ``as_of``."""
        mask: BoolArray = self.count > 0
        return mask


def exact_sums(keys: Int64Array, amount: Float64Array, size: int) -> Float64Array:
    """Sums of ``amount`` per key in ``0..size-1``, exact to 1/10,000 and independent of order.

    Amounts are rounded to units of 1/10,000 and summed as integers (see
    [`unit_sums()`][crmcore.analytics.kpis.unit_sums]), so equal totals compare equal however
    the rows were ordered: a ranking of customers by spend then has no rounding noise. A total
    beyond exact representation raises
    [`ValidationError`][crmcore.kernel.errors.ValidationError].
    """
    units = np.multiply(amount, SPEND_SCALE)
    return unit_sums(keys, np.rint(units, out=units), size)


def unit_sums(keys: Int64Array, units: npt.ArrayLike, size: int) -> Float64Array:
    """Sums of whole ``units`` (1/10,000) per key in ``0..size-1``, exactly, as amounts.

    See [`unit_totals()`][crmcore.analytics.kpis.unit_totals]; the totals are divided by
    10,000 once, at the end.
    """
    out: Float64Array = unit_totals(keys, units, size) / SPEND_SCALE
    return out


def unit_totals(keys: Int64Array, units: npt.ArrayLike, size: int) -> Float64Array:
    """Sums of whole ``units`` per key in ``0..size-1``, exactly, as whole float64 numbers.

    One weighted ``np.bincount``: its float64 accumulator adds whole numbers exactly while
    every partial sum stays below 2**53, which holds for any order of the rows when the
    absolute values add up to less than that (checked with one pass). Larger data split each
    value into a high and a low part of 26 bits, two bincounts that are each exact, recombined
    in int64. A total of 2**53 units or more cannot be an exact float64 number and raises
    [`ValidationError`][crmcore.kernel.errors.ValidationError].
    """
    weights = np.asarray(units)
    if weights.dtype != np.float64:
        weights = weights.astype(np.float64)
    if _exact_in_float(weights):
        # (astype: numpy counts an empty input in int64 even with weights)
        sums = np.bincount(keys, weights=weights, minlength=size).astype(np.float64, copy=False)
    else:
        sums = _split_sums(keys, weights, size)
    if len(sums) and np.abs(sums).max() >= MAX_EXACT:
        i = int(np.argmax(np.abs(sums)))
        raise ValidationError(
            "amount", float(sums[i] / SPEND_SCALE), "a total must stay below 2**53 / 10,000"
        )
    return sums


def _exact_in_float(weights: Float64Array) -> bool:
    """Whether every partial sum of ``weights``, in any order, stays below 2**53 in magnitude.

    First the bound n * max|w| (two passes, no temporary), then the absolute sum itself.
    A NaN is summed as it is (the callers refuse non-finite amounts before).
    """
    if not len(weights):
        return True
    largest = max(float(weights.max()), -float(weights.min()))
    if not largest * len(weights) >= _SAFE_ABS_SUM:
        return True
    return not float(np.abs(weights).sum()) >= _SAFE_ABS_SUM


def _split_sums(keys: Int64Array, weights: Float64Array, size: int) -> Float64Array:
    """Exact per-key sums of whole numbers whose absolute sum passes 2**53 (int64 total)."""
    big = np.abs(weights) >= MAX_EXACT
    if big.any():
        i = int(np.argmax(big))
        raise ValidationError(
            "amount", float(weights[i] / SPEND_SCALE), "must stay below 2**53 / 10,000"
        )
    whole = weights.astype(np.int64)
    low = np.bitwise_and(whole, _LOW_MASK)  # 0 <= low < 2**26: exact below 2**27 rows per key
    high = np.right_shift(whole, _LOW_BITS)  # |high| < 2**27: exact below 2**26 rows per key
    low_sums = np.bincount(keys, weights=low.astype(np.float64), minlength=size)
    high_sums = np.bincount(keys, weights=high.astype(np.float64), minlength=size)
    total = high_sums.astype(np.int64) * (1 << _LOW_BITS) + low_sums.astype(np.int64)
    # a total of 2**53 or more stays >= 2**53 as a float: the caller's check refuses it
    out: Float64Array = total.astype(np.float64)
    return out


def per_customer(p: Purchases, *, first: bool = True) -> PerCustomer:
    """Counts, gross and net spend, first and last purchase time per vocabulary id (vectorised).

    ``count`` counts purchase occasions; ``revenue`` is their value (gross) and
    ``net`` adds the customer's returns up to ``as_of`` (summed on their own, so the
    purchases are read once). ``first=False`` skips the first-purchase times (left at the
    int64 maximum).
    """
    k = p.k
    count = np.bincount(p.codes, minlength=k).astype(np.int64, copy=False)
    gross = unit_totals(p.codes, p.units, k)
    returns = p.returns
    # whole numbers of opposite signs, each below 2**53: their sum is exact
    net = gross + unit_totals(returns.return_codes, returns.return_units, k)
    revenue: Float64Array = gross / SPEND_SCALE
    net /= SPEND_SCALE
    earliest = np.full(k, _I64_MAX, dtype=np.int64)
    last = np.full(k, _I64_MIN, dtype=np.int64)
    if first:
        np.minimum.at(earliest, p.codes, p.t)
    np.maximum.at(last, p.codes, p.t)
    return PerCustomer(count, revenue, earliest, last, net)


def check_margin(margin: object) -> float:
    """``margin`` as a float in (0, 1] (a gross-margin rate; 1 means revenue)."""
    if isinstance(margin, bool) or not isinstance(margin, int | float):
        raise ValidationError("margin", margin, "must be a number in (0, 1]")
    value = float(margin)
    if not 0.0 < value <= 1.0:
        raise ValidationError("margin", margin, "must be a number in (0, 1]")
    return value


def check_window_days(value: object, field: str = "window_days") -> int:
    """A whole, positive number of days (at most 100 years)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, value, "must be a whole number of days")
    if not 1 <= value <= _MAX_WINDOW_DAYS:
        raise ValidationError(field, value, f"must lie in 1..{_MAX_WINDOW_DAYS} days")
    return value


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


@attrs.frozen(kw_only=True)
class CustomerKpis:
    """The headline customer KPIs as of a date (a report; see the module docstring).

    Ratios are ``None`` where their denominator is zero.
    """

    as_of: datetime
    window_days: int
    margin: float
    customers: int
    orders: int
    revenue: float
    returns: int
    return_value: float
    net_revenue: float
    average_order_value: float | None
    purchase_frequency: float | None
    repeat_purchase_rate: float | None
    historical_clv_mean: float | None
    active_previous: int
    active_current: int
    retained: int
    new_customers: int
    retention_rate: float | None
    churn_rate: float | None
    data: DataUsed | None = None

    def to_dict(self) -> dict[str, object]:
        """The KPIs as JSON data (with what the input held and left out, under ``data``)."""
        out: dict[str, object] = {}
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if isinstance(value, DataUsed):
                out[field.name] = value.to_dict()
            elif value is None or not isinstance(value, datetime):
                out[field.name] = json_number(value)
            else:
                out[field.name] = value.isoformat()
        return out

    def to_pandas(self) -> pd.DataFrame:
        """One row: the KPIs of ``to_dict()`` (without ``data``), ``as_of`` as text; concatenate
        the frames of several dates for a KPI history."""
        record = {k: v for k, v in self.to_dict().items() if k != "data"}
        return records_frame([record], "CustomerKpis.to_pandas")

    def _repr_html_(self) -> str:
        w = self.window_days
        currency = None if self.data is None else self.data.currency
        money = "" if currency is None else f" ({currency})"
        rows: list[list[object]] = [
            ["customers with purchases", self.customers, "int"],
            ["orders (purchase occasions)", self.orders, "int"],
            [f"revenue{money}", self.revenue, "float"],
            ["returns", self.returns, "int"],
            [f"return value{money}", self.return_value, "float"],
            [f"net revenue{money}", self.net_revenue, "float"],
            [f"average order value{money}", self.average_order_value, "float"],
            ["purchase frequency (orders per customer)", self.purchase_frequency, "float"],
            ["repeat purchase rate", self.repeat_purchase_rate, "pct"],
            [
                f"historical CLV per customer{money} (margin {self.margin:g})",
                self.historical_clv_mean,
                "float",
            ],
            [f"active in the previous {w} days", self.active_previous, "int"],
            [f"active in the last {w} days", self.active_current, "int"],
            [f"new in the last {w} days", self.new_customers, "int"],
            [f"{w}-day retention rate", self.retention_rate, "pct"],
            [f"{w}-day churn rate", self.churn_rate, "pct"],
        ]
        body = [[name, _cell(value, kind)] for name, value, kind in rows]
        return html_table(
            f"Customer KPIs as of {fmt_datetime(self.as_of)}",
            ["KPI", "value"],
            body,
            caption="retention: previous-window buyers who bought again in the current window"
            + ("" if self.data is None else "; " + "; ".join(self.data.notes())),
        )


def _cell(value: object, kind: object) -> object:
    if value is None:
        return None
    if kind == "pct":
        return f"{float(value):.1%}"  # type: ignore[arg-type]
    if kind == "int":
        return int(value)  # type: ignore[call-overload]
    return float(value)  # type: ignore[arg-type]


def customer_kpis(
    log: TransactionLog, as_of: datetime, *, window_days: int = 90, margin: float = 1.0
) -> CustomerKpis:
    """The headline KPIs of ``log`` as of ``as_of`` (definitions in the module docstring).

    ``window_days`` sets the retention window, ``margin`` the gross-margin
    rate applied to historical CLV. Vectorised: a few ``np.bincount`` passes.
    """
    w = check_window_days(window_days)
    rate = check_margin(margin)
    p = read_purchases(log, as_of)
    agg = per_customer(p)
    present = agg.present
    customers = int(np.count_nonzero(present))
    orders = len(p.t)
    revenue = int(p.units.sum()) / SPEND_SCALE
    net = float(agg.net[present].sum())
    repeaters = int(np.count_nonzero(agg.count >= 2))
    window = w * DAY_US
    current = p.t > p.as_us - window
    previous = (p.t > p.as_us - 2 * window) & ~current
    in_current = np.bincount(p.codes[current], minlength=p.k) > 0
    in_previous = np.bincount(p.codes[previous], minlength=p.k) > 0
    active_previous = int(np.count_nonzero(in_previous))
    retained = int(np.count_nonzero(in_previous & in_current))
    new = int(np.count_nonzero(present & (agg.first > p.as_us - window)))
    retention = _ratio(retained, active_previous)
    return CustomerKpis(
        as_of=p.as_of,
        window_days=w,
        margin=rate,
        customers=customers,
        orders=orders,
        revenue=revenue,
        returns=p.data.returns,
        return_value=p.data.return_value,
        net_revenue=p.data.net_value,
        average_order_value=_ratio(revenue, orders),
        purchase_frequency=_ratio(orders, customers),
        repeat_purchase_rate=_ratio(repeaters, customers),
        historical_clv_mean=_ratio(net * rate, customers),
        active_previous=active_previous,
        active_current=int(np.count_nonzero(in_current)),
        retained=retained,
        new_customers=new,
        retention_rate=retention,
        churn_rate=None if retention is None else 1.0 - retention,
        data=p.data,
    )


@attrs.frozen(eq=False)
class HistoricalClv:
    """Historical CLV per customer: ``margin`` x net spend to date, with the purchase counts.

    Row ``i`` is ``customer_ids[i]`` (customers with a purchase up to
    ``as_of``, in order of first appearance in the log). Arrays are read-only.
    A report: ``to_dict()`` and ``_repr_html_()`` show the distribution.
    """

    as_of: datetime
    margin: float
    customer_ids: AnyArray
    values: Float64Array
    purchases: Int64Array
    data: DataUsed | None = None

    def __len__(self) -> int:
        return len(self.values)

    def value_of(self, customer: str) -> float:
        """The historical CLV of ``customer``;
        [`NotFoundError`][crmcore.NotFoundError] if absent.
        """
        wanted = storable_text(instance_of(customer, str, "customer", "a customer id"), "customer")
        hits = rows_equal_to(self.customer_ids, wanted)
        if not len(hits):
            raise NotFoundError("customer", customer)
        return float(self.values[hits[0]])

    def _stats(self) -> dict[str, float | None]:
        n = len(self.values)
        if not n:
            keys = ("total", "mean", "median", "p90", "max", "top_10pct_share")
            return dict.fromkeys(keys)
        total = float(self.values.sum())
        top = max(1, math.ceil(n / 10))
        top_sum = float(np.partition(self.values, n - top)[n - top :].sum())
        return {
            "total": total,
            "mean": total / n,
            "median": float(np.median(self.values)),
            "p90": float(np.quantile(self.values, 0.9)),
            "max": float(self.values.max()),
            "top_10pct_share": top_sum / total if total else None,
        }

    def to_dict(self) -> dict[str, object]:
        """Summary statistics as JSON data (per-customer values stay in the arrays)."""
        stats = {name: json_number(v) for name, v in self._stats().items()}
        return (
            {
                "as_of": self.as_of.isoformat(),
                "margin": self.margin,
                "customers": len(self),
            }
            | stats
            | {"data": None if self.data is None else self.data.to_dict()}
        )

    def to_pandas(self) -> pd.DataFrame:
        """One row per customer: ``customer_id``, ``value`` (the historical CLV) and
        ``purchases``."""
        return data_frame(
            {"customer_id": self.customer_ids, "value": self.values, "purchases": self.purchases},
            "HistoricalClv.to_pandas",
        )

    def _repr_html_(self) -> str:
        currency = None if self.data is None else self.data.currency
        stats = self._stats()
        rows: list[list[object]] = [["customers", len(self)]]
        rows += [[name.replace("_", " "), value] for name, value in stats.items()]
        return html_table(
            f"Historical CLV as of {fmt_datetime(self.as_of)}",
            ["statistic", "value" if currency is None else f"value ({currency})"],
            rows,
            caption=f"margin x net spend to date, margin {self.margin:g}"
            + ("" if self.data is None else "; " + "; ".join(self.data.notes())),
        )


def historical_clv(log: TransactionLog, as_of: datetime, *, margin: float = 1.0) -> HistoricalClv:
    """Historical CLV per customer: ``margin`` x the customer's net spend up to ``as_of``.

    Net spend is purchases plus returns (the rule of
    [`crmcore.columnar.occasions`][crmcore.columnar.occasions]). Customers without a
    purchase occasion up to ``as_of`` are not listed. The
    values can feed
    [`crmcore.analytics.value_tiers.value_tiers()`][crmcore.analytics.value_tiers.value_tiers].
    """
    rate = check_margin(margin)
    p = read_purchases(log, as_of)
    agg = per_customer(p)
    rows = np.flatnonzero(agg.present)
    return HistoricalClv(
        p.as_of,
        rate,
        read_only(p.vocabulary[rows]),
        read_only(agg.net[rows] * rate),
        read_only(agg.count[rows]),
        p.data,
    )
