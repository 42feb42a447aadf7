"""Loyalty tiers at batch speed: the rules of [`crmcore.loyalty.tiers`][crmcore.loyalty.tiers] for
many customers.

[`evaluate_batch()`][crmcore.loyalty.tiers_batch.evaluate_batch] runs the same rules as
[`crmcore.loyalty.tiers.TierStatus.evaluate()`][crmcore.loyalty.tiers.TierStatus.evaluate] over
flattened facts of many customers with numpy: customers move in lock-step, one fact time per step,
so the work grows with the number of distinct fact times, not with customers x facts in Python.
[`evaluate_log()`][crmcore.loyalty.tiers_batch.evaluate_log] does it from a
[`TransactionLog`][crmcore.columnar.TransactionLog]. A differential property test checks that both
paths give the same tiers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from crmcore.columnar import STRING_DTYPE, TransactionLog
from crmcore.columnar.id_index import rows_equal_to
from crmcore.kernel import validators
from crmcore.kernel.arrays import AnyArray, Int64Array, read_only
from crmcore.kernel.clock import DAY_US, from_micros, to_utc
from crmcore.kernel.errors import CurrencyMismatchError, NotFoundError, ValidationError
from crmcore.kernel.money import Money
from crmcore.kernel.reports import data_frame, fmt_datetime, html_table, json_number
from crmcore.loyalty.tier_policy import (
    DowngradePolicy,
    QualificationWindow,
    TierPolicy,
    tier_micros,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BatchTiers", "evaluate_batch", "evaluate_log"]

NO_PERIOD_END: Final = int(np.iinfo(np.int64).max)  # "no period end" in the batch arrays
_MAX_CUSTOMERS: Final = 10**9  # a count beyond this is a mistake: its arrays would not fit


def _np_year_start(us: Int64Array) -> Int64Array:
    years = us.astype("datetime64[us]").astype("datetime64[Y]")
    out: Int64Array = years.astype("datetime64[us]").astype(np.int64)
    return out


def _np_next_year(us: Int64Array) -> Int64Array:
    years = us.astype("datetime64[us]").astype("datetime64[Y]") + 1
    out: Int64Array = years.astype("datetime64[us]").astype(np.int64)
    return out


def _np_shift_years(us: Int64Array, years: int) -> Int64Array:
    """``+ relativedelta(years=years)``: same month and day, 29 Feb clipped to 28 Feb."""
    t = us.astype("datetime64[us]")
    days = t.astype("datetime64[D]")
    month = t.astype("datetime64[M]")
    day_of_month = (days - month.astype("datetime64[D]")).astype(np.int64)
    time_of_day = us - days.astype("datetime64[us]").astype(np.int64)
    target = month + 12 * years
    first = target.astype("datetime64[D]")
    length = ((target + 1).astype("datetime64[D]") - first).astype(np.int64)
    day = first + np.minimum(day_of_month, length - 1)
    out: Int64Array = day.astype("datetime64[us]").astype(np.int64) + time_of_day
    return out


class _BatchEngine:
    """The rules over arrays: customers move in lock-step, one fact time per step."""

    def __init__(
        self,
        policy: TierPolicy,
        n: int,
        codes: Int64Array,
        times: Int64Array,
        points: Int64Array,
        spend: Int64Array,
    ) -> None:
        self.policy = policy
        self.calendar = policy.window is QualificationWindow.CALENDAR_YEAR
        self.grace = policy.grace_days * DAY_US
        self.times = times
        self.cum_points = np.concatenate(([0], np.cumsum(points, dtype=np.int64)))
        self.cum_spend = np.concatenate(([0], np.cumsum(spend, dtype=np.int64)))
        customers = np.arange(n, dtype=np.int64)
        self.seg_start = np.searchsorted(codes, customers, side="left").astype(np.int64)
        self.seg_end = np.searchsorted(codes, customers, side="right").astype(np.int64)
        self.tier = np.zeros(n, dtype=np.int64)
        self.since = np.full(n, NO_PERIOD_END, dtype=np.int64)
        self.period_end = np.full(n, NO_PERIOD_END, dtype=np.int64)
        self.upgrades = np.zeros(n, dtype=np.int64)
        self.downgrades = np.zeros(n, dtype=np.int64)
        self.retentions = np.zeros(n, dtype=np.int64)
        thresholds = policy._thresholds()
        self.min_points = [p for p, _ in thresholds]
        self.min_spend = [s for _, s in thresholds]

    def lower(self, us: Int64Array) -> Int64Array:
        if self.calendar:
            return _np_year_start(us) - 1
        return _np_shift_years(us, -1)

    def period_end_of(self, us: Int64Array) -> Int64Array:
        return _np_next_year(us) if self.calendar else _np_shift_years(us, 1)

    def right(self, customers: Int64Array, value: Int64Array) -> Int64Array:
        """Per customer, the position after its last fact at or before ``value`` (bisection)."""
        lo = self.seg_start[customers].copy()
        hi = self.seg_end[customers].copy()
        top = len(self.times) - 1
        while True:
            active = lo < hi
            if not active.any():
                return lo
            mid = (lo + hi) // 2
            go_right = self.times[np.minimum(mid, top)] <= value
            lo = np.where(active & go_right, mid + 1, lo)
            hi = np.where(active & ~go_right, mid, hi)

    def window(self, customers: Int64Array, high: Int64Array) -> tuple[Int64Array, Int64Array]:
        i = self.right(customers, high)
        j = self.right(customers, self.lower(high))
        return self.cum_points[i] - self.cum_points[j], self.cum_spend[i] - self.cum_spend[j]

    def supported(self, points: Int64Array, spend: Int64Array) -> Int64Array:
        best = np.zeros(len(points), dtype=np.int64)
        for i in range(1, len(self.min_points)):
            ok = np.zeros(len(points), dtype=bool)
            min_points, min_spend = self.min_points[i], self.min_spend[i]
            if min_points is not None:
                ok |= points >= min_points
            if min_spend is not None:
                ok |= spend >= min_spend
            best[ok] = i
        return best

    def upgrade(self, customers: Int64Array, at: Int64Array, target: Int64Array) -> None:
        up = target > self.tier[customers]
        who = customers[up]
        self.tier[who] = target[up]
        self.since[who] = at[up]
        self.period_end[who] = self.period_end_of(at[up])
        self.upgrades[who] += 1

    def reviews(self, customers: Int64Array, limit: Int64Array, *, strict: bool) -> None:
        while len(customers):
            ends = self.period_end[customers]
            has = ends != NO_PERIOD_END
            review = np.where(has, ends, 0) + self.grace
            due = has & ((review < limit) if strict else (review <= limit))
            if not due.any():
                return
            customers, limit, ends, review = customers[due], limit[due], ends[due], review[due]
            close = (ends - 1) if self.calendar else ends
            by_period = self.supported(*self.window(customers, close))
            by_now = self.supported(*self.window(customers, review))
            current = self.tier[customers]
            if self.policy.downgrade is DowngradePolicy.BALANCE_BASED:
                target = by_period
            else:
                target = np.maximum(current - 1, by_period)
            new = np.minimum(current, np.maximum(target, by_now))
            keep = new == current
            kept = customers[keep]
            self.period_end[kept] = self.period_end_of(ends[keep])
            self.retentions[kept] += 1
            drop = ~keep
            dropped = customers[drop]
            self.tier[dropped] = new[drop]
            self.since[dropped] = review[drop]
            self.period_end[dropped] = np.where(
                new[drop] > 0, self.period_end_of(review[drop]), NO_PERIOD_END
            )
            self.downgrades[dropped] += 1


def _as_micros(value: npt.ArrayLike, field: str) -> Int64Array:
    array = np.asarray(value)
    if array.dtype.kind != "M":
        raise ValidationError(field, str(array.dtype), "must be a datetime64 array (UTC)")
    us = array.astype("datetime64[us]")
    if np.isnat(us).any():
        i = int(np.argmax(np.isnat(us)))
        raise ValidationError(f"{field}[{i}]", "NaT", "must be a time")
    out: Int64Array = us.astype(np.int64)
    return out


def _as_int64(value: npt.ArrayLike | None, n: int, field: str) -> Int64Array:
    if value is None:
        return np.zeros(n, dtype=np.int64)
    array = np.asarray(value)
    if array.dtype.kind not in "iu":
        raise ValidationError(field, str(array.dtype), "must be an integer array")
    if array.shape != (n,):
        raise ValidationError(field, array.shape, f"must have shape ({n},) like customer_codes")
    return array.astype(np.int64)


class BatchTiers:
    """Tiers of many customers at one ``as_of``, as aligned read-only numpy arrays.

    Row ``i`` is customer ``i`` (``customer_ids[i]`` when ids were given):
    ``tiers`` holds positions in ``policy.tiers``, ``since`` and
    ``period_end`` are ``datetime64[us]`` (``NaT`` where the per-customer
    status has ``None``), ``upgrades``/``downgrades``/``retentions`` count
    the events the per-customer `TierStatus.evaluate()` would raise.
    A report: ``to_dict()`` and ``_repr_html_()`` show customers per tier.
    """

    __slots__ = (
        "as_of",
        "customer_ids",
        "downgrades",
        "period_end",
        "policy",
        "retentions",
        "since",
        "tiers",
        "upgrades",
    )

    def __init__(
        self,
        policy: TierPolicy,
        as_of: datetime,
        customer_ids: AnyArray | None,
        engine: _BatchEngine,
    ) -> None:
        """Assemble a result ([`evaluate_batch()`][crmcore.loyalty.tiers_batch.evaluate_batch] does
        this)."""
        self.policy = validators.instance_of(policy, TierPolicy, "policy")
        self.as_of = to_utc(as_of, "as_of")
        if not isinstance(engine, _BatchEngine):
            raise ValidationError("engine", engine, "must be what evaluate_batch() computed")
        self.customer_ids = None if customer_ids is None else read_only(customer_ids)
        nat = np.datetime64("NaT", "us")
        self.tiers: Int64Array = read_only(engine.tier)
        self.since: AnyArray = read_only(
            np.where(engine.since == NO_PERIOD_END, nat, engine.since.astype("datetime64[us]"))
        )
        self.period_end: AnyArray = read_only(
            np.where(
                engine.period_end == NO_PERIOD_END, nat, engine.period_end.astype("datetime64[us]")
            )
        )
        self.upgrades: Int64Array = read_only(engine.upgrades)
        self.downgrades: Int64Array = read_only(engine.downgrades)
        self.retentions: Int64Array = read_only(engine.retentions)

    def __len__(self) -> int:
        return len(self.tiers)

    def __repr__(self) -> str:
        return f"BatchTiers({len(self)} customers as of {self.as_of.isoformat()})"

    def tier_of(self, row: int | str) -> str:
        """The tier name of a row (position, or customer id when ids were given)."""
        return self.policy.tiers[int(self.tiers[self._row(row)])].name

    def tier_names(self) -> list[str]:
        """All tier names, in row order."""
        names = self.policy.names
        return [names[i] for i in self.tiers.tolist()]

    def _row(self, row: int | str) -> int:
        if isinstance(row, str):
            validators.storable_text(row, "row")  # compared as a numpy string
            if self.customer_ids is None:
                raise ValidationError("row", row, "ids need customer_ids; pass a position")
            hits = rows_equal_to(self.customer_ids, row)
            if not len(hits):
                raise NotFoundError("customer", row)
            return int(hits[0])
        if (
            isinstance(row, bool)
            or not isinstance(row, int | np.integer)
            or not (0 <= row < len(self))
        ):
            raise ValidationError("row", row, f"must be a position in 0..{len(self) - 1}")
        return int(row)

    def counts(self) -> dict[str, int]:
        """Customers per tier (every tier listed, zeros included)."""
        counts = np.bincount(self.tiers, minlength=len(self.policy.tiers)).tolist()
        return dict(zip(self.policy.names, counts, strict=True))

    def to_dict(self) -> dict[str, object]:
        """Customers per tier and event totals, as JSON data."""
        total = len(self)
        return {
            "as_of": self.as_of.isoformat(),
            "policy": self.policy.name,
            "customers": total,
            "tiers": {
                name: {"count": n, "share": json_number(n / total) if total else None}
                for name, n in self.counts().items()
            },
            "upgrades": int(self.upgrades.sum()),
            "downgrades": int(self.downgrades.sum()),
            "retentions": int(self.retentions.sum()),
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per customer: ``customer_id`` (``None`` without ids), ``tier`` (its name),
        ``since``, ``period_end`` (``NaT`` where none) and the ``upgrades``, ``downgrades`` and
        ``retentions`` the evaluation raised."""
        ids = self.customer_ids
        names = np.array(self.policy.names, dtype=object)
        return data_frame(
            {
                "customer_id": [None] * len(self) if ids is None else ids,
                "tier": names[self.tiers],
                "since": self.since,
                "period_end": self.period_end,
                "upgrades": self.upgrades,
                "downgrades": self.downgrades,
                "retentions": self.retentions,
            },
            "BatchTiers.to_pandas",
        )

    def _repr_html_(self) -> str:
        total = len(self)
        counts = self.counts()
        rows = [
            [name, self.policy.multiplier(name), n, n / total if total else None]
            for name, n in counts.items()
        ]
        return html_table(
            f"Tiers as of {fmt_datetime(self.as_of)}",
            ["tier", "multiplier", "customers", "share"],
            rows,
            kinds=["auto", "auto", "int", "pct"],
            bars={2: float(max(counts.values(), default=0))},
            caption=(
                f"policy {self.policy.name!r}; {total:,} customers; "
                f"{int(self.upgrades.sum()):,} upgrades, {int(self.downgrades.sum()):,} downgrades"
            ),
        )


def evaluate_batch(
    policy: TierPolicy,
    as_of: datetime,
    *,
    customer_codes: npt.ArrayLike,
    at: npt.ArrayLike,
    points: npt.ArrayLike | None = None,
    spend_minor: npt.ArrayLike | None = None,
    customers: int | Sequence[str] | AnyArray | None = None,
) -> BatchTiers:
    """Evaluate every customer from the base tier up to ``as_of``, vectorised.

    The facts are flattened: fact ``j`` belongs to customer
    ``customer_codes[j]`` (``0..n-1``), happened at ``at[j]``
    (``datetime64``, UTC) and counts ``points[j]`` points and
    ``spend_minor[j]`` minor units of ``policy.currency`` (either may be
    left out: zeros). ``customers`` is the number of customers or their ids
    (row ``i`` is code ``i``); by default ``max(code) + 1``. Rows may be in
    any order. The result equals, row by row, what
    ``TierStatus.new(...).evaluate(facts, as_of, policy)`` gives.

    Customers move in lock-step, one of their distinct fact times per step,
    so the Python loop runs once per step (the most facts one customer
    has), never once per customer; window totals come from prefix sums and
    a vectorised bisection within each customer's facts.
    """
    if not isinstance(policy, TierPolicy):
        raise ValidationError("policy", policy, "must be a TierPolicy")
    end = tier_micros(as_of, "as_of")
    codes = np.asarray(customer_codes)
    if codes.ndim != 1 or codes.dtype.kind not in "iu":
        raise ValidationError("customer_codes", str(codes.dtype), "must be a 1-d integer array")
    codes = codes.astype(np.int64)
    m = len(codes)
    times = _as_micros(at, "at")
    if times.shape != (m,):
        raise ValidationError("at", times.shape, f"must have shape ({m},) like customer_codes")
    pts = _as_int64(points, m, "points")
    spend = _as_int64(spend_minor, m, "spend_minor")
    ids: AnyArray | None = None
    if isinstance(customers, bool | str):
        raise ValidationError("customers", customers, "must be a count or a sequence of ids")
    if customers is None:
        n = int(codes.max()) + 1 if m else 0
    elif isinstance(customers, int):
        n = validators.integer(customers, "customers", low=0, high=_MAX_CUSTOMERS)
    else:
        found = validators.items_of(customers, "customers", "customer ids")
        ids = np.asarray(found, dtype=STRING_DTYPE)
        n = len(ids)
    if n < 0:
        raise ValidationError("customers", customers, "must not be negative")
    if m and (codes.min() < 0 or codes.max() >= n):
        bad = int(np.argmax((codes < 0) | (codes >= n)))
        raise ValidationError(f"customer_codes[{bad}]", int(codes[bad]), f"must lie in 0..{n - 1}")
    keep = times <= end
    codes, times, pts, spend = codes[keep], times[keep], pts[keep], spend[keep]
    order = np.lexsort((times, codes))
    codes, times, pts, spend = codes[order], times[order], pts[order], spend[order]
    engine = _BatchEngine(policy, n, codes, times, pts, spend)

    # distinct (customer, time) pairs: the last row of each run carries the running total
    last = np.ones(len(codes), dtype=bool)
    last[:-1] = (codes[1:] != codes[:-1]) | (times[1:] != times[:-1])
    rows = np.flatnonzero(last)
    d_codes, d_times = codes[rows], times[rows]
    low = engine.right(d_codes, engine.lower(d_times))
    d_target = engine.supported(
        engine.cum_points[rows + 1] - engine.cum_points[low],
        engine.cum_spend[rows + 1] - engine.cum_spend[low],
    )
    rank = np.arange(len(rows), dtype=np.int64) - np.searchsorted(d_codes, d_codes, side="left")
    steps = np.lexsort((d_codes, rank))
    bounds = np.searchsorted(rank[steps], np.arange(int(rank.max(initial=-1)) + 2))
    for k in range(len(bounds) - 1):
        step = steps[bounds[k] : bounds[k + 1]]
        who, when = d_codes[step], d_times[step]
        engine.reviews(who, when, strict=True)
        engine.upgrade(who, when, d_target[step])
        engine.reviews(who, when, strict=False)
    everyone = np.arange(n, dtype=np.int64)
    engine.reviews(everyone, np.full(n, end, dtype=np.int64), strict=False)
    return BatchTiers(policy, from_micros(end), ids, engine)


def evaluate_log(
    log: TransactionLog,
    policy: TierPolicy,
    as_of: datetime,
    *,
    points: npt.ArrayLike | None = None,
) -> BatchTiers:
    """[`evaluate_batch()`][crmcore.loyalty.tiers_batch.evaluate_batch] over a
    [`TransactionLog`][crmcore.columnar.TransactionLog].

    Each purchase's amount counts as qualifying spend (rounded half-even to
    the minor unit, as [`Money.to_minor`][crmcore.kernel.money.Money.to_minor]
    does); ``points`` optionally gives qualifying points per row. Rows are
    the log's customers, in its ``customer_ids`` order. A row in another
    currency than the policy's raises
    [`CurrencyMismatchError`][crmcore.kernel.errors.CurrencyMismatchError].
    """
    if not isinstance(log, TransactionLog):
        raise ValidationError("log", log, "must be a TransactionLog")
    validators.instance_of(policy, TierPolicy, "policy")
    currency = log["currency"]
    used = np.unique(currency.codes[~currency.missing])
    for code in used.tolist():
        name = currency.categories[code]
        if name != policy.currency:
            raise CurrencyMismatchError(policy.currency, name, "count spend of")
    amount = np.asarray(log["amount"].values, dtype=np.float64)
    spend = np.rint(amount * 10.0 ** Money.zero(policy.currency).minor_units).astype(np.int64)
    return evaluate_batch(
        policy,
        as_of,
        customer_codes=log.customer_codes,
        at=log.at,
        points=points,
        spend_minor=spend,
        customers=log.customer_ids,
    )
