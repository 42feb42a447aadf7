"""The lifecycle policy at batch speed: classify a whole transaction log with numpy.

[`classify_log()`][crmcore.lifecycle.policy_batch.classify_log] applies the rules of
[`crmcore.lifecycle.policy`][crmcore.lifecycle.policy] to every customer of a
[`TransactionLog`][crmcore.columnar.TransactionLog] at once, with no Python loop per
customer. The log is read as purchase occasions (the one rule of
[`crmcore.columnar.occasions`][crmcore.columnar.occasions]: an order is one occasion,
a return never makes a customer active); each occasion gets a window bin
(current, previous, older, after ``as_of``) from two comparisons on its time;
one ``np.bincount`` over
``customer_code * 4 + bin`` counts purchases per customer and window, a
second with the amounts as weights sums spend; ``np.minimum.at`` /
``np.maximum.at`` find first and last purchase times. The decision list then
runs over per-customer arrays, in the same floating-point order as the
per-customer [`classify()`][crmcore.lifecycle.policy.classify], so both give the
same states, reasons, risk scores and facts, bit for bit.

Row order does not matter: counts, exact fixed-point sums and minima/maxima
are independent of it, so an unsorted log gives the same answer as a sorted
one (no sorting is needed or done).

The state changes between two classifications are
[`crmcore.lifecycle.transitions_batch.transitions()`][crmcore.lifecycle.transitions_batch.transitions].

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.columnar import TransactionLog
    >>> t = datetime(2026, 6, 1, tzinfo=UTC)
    >>> log = TransactionLog.from_records([{"customer_id": "a", "at": t, "amount": 10.0}])
    >>> batch = classify_log(log, datetime(2026, 6, 30, tzinfo=UTC), customers=["a", "b"])
    >>> tuple(s.value for s in batch.state_list())
    ('new', 'prospect')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from crmcore.columnar import STRING_DTYPE, CustomerFrame, IdIndex, TransactionLog
from crmcore.columnar.id_index import rows_equal_to
from crmcore.columnar.occasions import purchase_occasions
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array, Int64Array, read_only
from crmcore.kernel.clock import DAY_US, from_micros, to_micros
from crmcore.kernel.errors import (
    CurrencyMismatchError,
    NotFoundError,
    ValidationError,
)
from crmcore.kernel.reports import data_frame, fmt_datetime, html_table, json_number
from crmcore.kernel.validators import choice, instance_of, storable_text
from crmcore.lifecycle.evidence import ActivityFacts, Evidence, Reason, reasons_from_bits
from crmcore.lifecycle.policy import (
    DEFAULT_POLICY,
    MAX_SCALED_SPEND,
    SPEND_SCALE,
    Classification,
    LifecyclePolicy,
)
from crmcore.lifecycle.states import LifecycleState
from crmcore.plotting.lifecycle import plot_lifecycle_flow

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["BatchClassification", "classify_log"]


_STATES: Final = tuple(LifecycleState)
_I64_MAX: Final = np.iinfo(np.int64).max
_I64_MIN: Final = np.iinfo(np.int64).min
_BINS: Final = 4  # current window, previous window, older, after as_of


class BatchClassification:
    """Lifecycle states of many customers at one ``as_of``, as aligned numpy arrays.

    Row ``i`` is customer ``customer_ids[i]``: ``states`` holds
    [`LifecycleState.code`][crmcore.lifecycle.states.LifecycleState.code]
    values (``int8``), ``risk_scores`` the churn risk (``float64``, 0..1),
    ``reason_bits`` the reasons as a mask of :attr:`Reason.bit
    <crmcore.lifecycle.evidence.Reason.bit>` (``uint16``), and the fact
    arrays what [`ActivityFacts`][crmcore.lifecycle.evidence.ActivityFacts] holds per
    customer (``NaN``/``NaT`` where undefined).
    [`classification()`][crmcore.lifecycle.policy_batch.BatchClassification.classification] gives
    one row as the per-customer result. Arrays are read-only.

    It is a report: ``to_dict()`` and ``_repr_html_()`` show the state
    distribution, mean risk per state and how often each reason fired.
    """

    __slots__ = (
        "as_of",
        "customer_ids",
        "first_purchase_at",
        "frequency_current",
        "frequency_previous",
        "last_purchase_at",
        "policy",
        "purchases",
        "reason_bits",
        "recency_days",
        "risk_scores",
        "spend_current",
        "spend_previous",
        "spend_total",
        "states",
        "usual_gap_days",
    )

    as_of: datetime
    policy: LifecyclePolicy
    customer_ids: AnyArray
    states: npt.NDArray[np.int8]
    risk_scores: Float64Array
    reason_bits: npt.NDArray[np.uint16]
    purchases: Int64Array
    first_purchase_at: AnyArray
    last_purchase_at: AnyArray
    recency_days: Float64Array
    usual_gap_days: Float64Array
    frequency_current: Int64Array
    frequency_previous: Int64Array
    spend_current: Float64Array
    spend_previous: Float64Array
    spend_total: Float64Array

    def __init__(self, as_of: datetime, policy: LifecyclePolicy, **arrays: AnyArray) -> None:
        """Assemble a result (``classify_log`` does this; arrays are frozen, not copied)."""
        self.as_of = as_of
        self.policy = policy
        names = set(self.__slots__) - {"as_of", "policy"}
        if set(arrays) != names:
            raise ValidationError("arrays", sorted(arrays), f"must be exactly {sorted(names)}")
        lengths = {len(a) for a in arrays.values()}
        if len(lengths) > 1:
            raise ValidationError("arrays", sorted(lengths), "must all have the same length")
        for name, array in arrays.items():
            setattr(self, name, read_only(array))

    def __len__(self) -> int:
        return len(self.states)

    def __repr__(self) -> str:
        return f"BatchClassification({len(self)} customers as of {self.as_of.isoformat()})"

    # -- rows ----------------------------------------------------------------------------------
    def index_of(self, customer: str) -> int:
        """The row of ``customer``; [`NotFoundError`][crmcore.kernel.errors.NotFoundError] when
        absent."""
        wanted = storable_text(
            instance_of(customer, str, "customer", "a str customer id"), "customer"
        )
        hits = rows_equal_to(self.customer_ids, wanted)
        if not len(hits):
            raise NotFoundError("customer", customer)
        return int(hits[0])

    def state_of(self, row: int | str) -> LifecycleState:
        """The state of a row (position or customer id)."""
        return _STATES[int(self.states[self._row(row)])]

    def state_list(self) -> list[LifecycleState]:
        """All states as enum members, in row order."""
        return [_STATES[c] for c in self.states.tolist()]

    def _row(self, row: int | str) -> int:
        if isinstance(row, str):
            return self.index_of(row)
        if (
            isinstance(row, bool)
            or not isinstance(row, int | np.integer)
            or not (-len(self) <= row < len(self))
        ):
            raise ValidationError("row", row, f"must be a position in 0..{len(self) - 1}")
        return int(row) % len(self)

    def classification(self, row: int | str) -> Classification:
        """Row ``row`` (position or customer id) as a per-customer classification.

        Equal to what [`classify()`][crmcore.lifecycle.policy.classify] returns for
        that customer's purchases.
        """
        i = self._row(row)
        n = int(self.purchases[i])
        facts = ActivityFacts()
        if n:
            gap = float(self.usual_gap_days[i])
            facts = ActivityFacts(
                purchases=n,
                spend_total=float(self.spend_total[i]),
                first_purchase_at=_datetime(self.first_purchase_at[i]),
                last_purchase_at=_datetime(self.last_purchase_at[i]),
                recency_days=float(self.recency_days[i]),
                usual_gap_days=None if gap != gap else gap,
                frequency_current=int(self.frequency_current[i]),
                frequency_previous=int(self.frequency_previous[i]),
                spend_current=float(self.spend_current[i]),
                spend_previous=float(self.spend_previous[i]),
            )
        evidence = Evidence(
            self.as_of,
            reasons_from_bits(int(self.reason_bits[i])),
            float(self.risk_scores[i]),
            facts,
            self.policy.name,
        )
        return Classification(str(self.customer_ids[i]), _STATES[int(self.states[i])], evidence)

    # -- selections ----------------------------------------------------------------------------
    def mask(self, state: LifecycleState | str) -> BoolArray:
        """Rows in ``state``."""
        mask: BoolArray = self.states == LifecycleState.parse(state).code
        return mask

    def has_reason(self, reason: Reason | str) -> BoolArray:
        """Rows where ``reason`` fired."""
        bit = np.uint16(choice(reason, "reason", Reason).bit)
        mask: BoolArray = (self.reason_bits & bit) != 0
        return mask

    def counts(self) -> dict[LifecycleState, int]:
        """Customers per state (every state listed, zeros included)."""
        counts = np.bincount(self.states, minlength=len(_STATES)).tolist()
        return dict(zip(_STATES, counts, strict=True))

    def reason_counts(self) -> dict[Reason, int]:
        """How many customers each reason fired for."""
        return {r: int(np.count_nonzero(self.has_reason(r))) for r in Reason}

    # -- report --------------------------------------------------------------------------------
    def _mean_risk(self) -> list[float]:
        counts = np.bincount(self.states, minlength=len(_STATES))
        sums = np.bincount(self.states, weights=self.risk_scores, minlength=len(_STATES))
        means = np.full(len(_STATES), np.nan)
        np.divide(sums, counts, out=means, where=counts > 0)
        return [float(x) for x in means]

    def to_dict(self) -> dict[str, object]:
        """The distribution as JSON data: count, share and mean risk per state; reason counts."""
        total = len(self)
        means = self._mean_risk()
        states = {
            state.value: {
                "count": count,
                "share": json_number(count / total) if total else None,
                "mean_risk": json_number(means[state.code]),
            }
            for state, count in self.counts().items()
        }
        return {
            "as_of": self.as_of.isoformat(),
            "policy": self.policy.name,
            "customers": total,
            "mean_risk": json_number(self.risk_scores.mean()) if total else None,
            "states": states,
            "reasons": {r.value: n for r, n in self.reason_counts().items()},
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per customer: ``customer_id``, ``state``, ``risk_score``, ``reasons``
        (comma-separated) and the activity facts the state was judged on."""
        names = np.array([s.value for s in _STATES], dtype=object)
        bits, inverse = np.unique(self.reason_bits, return_inverse=True)
        reasons = np.array(
            [",".join(r.value for r in reasons_from_bits(int(b))) for b in bits.tolist()],
            dtype=object,
        )
        facts = ("purchases", "first_purchase_at", "last_purchase_at", "recency_days",
                 "usual_gap_days", "frequency_current", "frequency_previous", "spend_current",
                 "spend_previous", "spend_total")  # fmt: skip
        columns: dict[str, object] = {
            "customer_id": self.customer_ids,
            "state": names[self.states.astype(np.intp)],
            "risk_score": self.risk_scores,
            "reasons": reasons[inverse.reshape(-1)],
        }
        columns |= {f: getattr(self, f) for f in facts}
        return data_frame(columns, "BatchClassification.to_pandas")

    def plot(self, *, ax: Axes | None = None) -> Axes:
        """Customers per state; give several classifications (dates) to
        [`plot_lifecycle_flow()`][crmcore.plotting.lifecycle.plot_lifecycle_flow] for the flow
        over time."""
        return plot_lifecycle_flow(self, ax=ax)

    def _repr_html_(self) -> str:
        total = len(self)
        counts = self.counts()
        means = self._mean_risk()
        rows = [
            [state.value, count, count / total if total else None, means[state.code]]
            for state, count in counts.items()
        ]
        return html_table(
            f"Lifecycle as of {fmt_datetime(self.as_of)}",
            ["state", "customers", "share", "mean risk"],
            rows,
            kinds=["auto", "int", "pct", "float"],
            bars={1: float(max(counts.values(), default=0))},
            caption=f"policy {self.policy.name!r}; {total:,} customers",
        )


def _datetime(value: np.datetime64) -> datetime:
    return from_micros(int(value.astype(np.int64)))


def _population(customers: object) -> AnyArray:
    """The population's ids as a fresh ``StringDType`` array (the result keeps it)."""
    if isinstance(customers, CustomerFrame):
        ids: AnyArray = customers.ids.copy()
        return ids
    if isinstance(customers, np.ndarray):
        if customers.ndim != 1 or (customers.dtype != STRING_DTYPE and customers.dtype.kind != "U"):
            raise ValidationError("customers", customers.dtype, "must be a 1-d array of str ids")
        return customers.astype(STRING_DTYPE)  # a copy
    if isinstance(customers, str) or not isinstance(customers, Iterable):
        raise ValidationError("customers", customers, "must be customer ids or a CustomerFrame")
    values = list(customers)
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise ValidationError(f"customers[{i}]", value, "must be a str customer id")
    return np.array(values, dtype=STRING_DTYPE)


def _rows_of(log: TransactionLog, population: AnyArray, frame: CustomerFrame | None) -> Int64Array:
    """For each population id, its customer code in ``log`` (-1: no purchases there).

    The log keeps an [`IdIndex`][crmcore.columnar.id_index.IdIndex] of its customers, so a
    call matches only the population's ids against it; a frame keeps one of its ids too, and
    then the log's customers are looked up in it without converting any id (a frame's ids are
    distinct). Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] for an id
    listed twice.
    """
    if frame is not None:
        found = frame.id_index.rows_of_index(log.customer_index)
        listed = np.flatnonzero(found >= 0)
        frame_rows = np.full(len(population), -1, dtype=np.int64)
        frame_rows[found[listed]] = listed
        return frame_rows
    rows = log.customer_index.rows(population)
    known = rows >= 0
    listed = np.bincount(rows[known], minlength=len(log.customer_ids))
    if listed.size and listed.max() > 1:  # name the first such id in the population's order
        twice = known & (listed[np.maximum(rows, 0)] > 1)
        raise ValidationError("customers", str(population[np.argmax(twice)]), "lists an id twice")
    if not known.all():  # the prospects' ids must be distinct too
        IdIndex(population[~known], "customers")
    return rows


def _check_currencies(log: TransactionLog, codes: Int64Array, k: int) -> None:
    column = log["currency"]
    if len(column.categories) <= 1:
        return
    currency = column.codes.astype(np.int64)
    used = np.bincount(currency + 1, minlength=len(column.categories) + 1)[1:]
    if np.count_nonzero(used) <= 1:
        return
    known = currency >= 0
    low = np.full(k, _I64_MAX, dtype=np.int64)
    high = np.full(k, -1, dtype=np.int64)
    np.minimum.at(low, codes[known], currency[known])
    np.maximum.at(high, codes[known], currency[known])
    mixed = (high >= 0) & (low != high)
    if mixed.any():
        i = int(np.argmax(mixed))
        names = column.categories
        raise CurrencyMismatchError(names[low[i]], names[high[i]], "compare spend of")


def classify_log(
    log: TransactionLog,
    as_of: datetime,
    *,
    policy: LifecyclePolicy = DEFAULT_POLICY,
    customers: CustomerFrame | Sequence[str] | AnyArray | None = None,
) -> BatchClassification:
    """Classify every customer of ``log`` at ``as_of``, vectorised (one rule, two speeds).

    Rows are customers in order of first appearance in the log or, with
    ``customers`` (ids or a [`CustomerFrame`][crmcore.columnar.CustomerFrame]), in that
    order: then customers without purchases are prospects and log rows of
    customers not listed are ignored (the ids are looked up in the log's
    [`TransactionLog.customer_index`][crmcore.columnar.frame.TransactionLog], built on the
    first such call and kept: about a tenth of a second per million ids after that).
    Purchases after ``as_of`` are ignored. The log may be in any row order.

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] for a naive ``as_of``,
    a non-finite amount (naming the row), a duplicate customer
    id, or a customer's spend beyond exact summation, and
    [`CurrencyMismatchError`][crmcore.kernel.errors.CurrencyMismatchError] when one customer's
    purchases are in two currencies.
    """
    if not isinstance(log, TransactionLog):
        raise ValidationError("log", log, "must be a TransactionLog")
    if not isinstance(policy, LifecyclePolicy):
        raise ValidationError("policy", policy, "must be a LifecyclePolicy")
    as_us = to_micros(as_of, "as_of")
    vocabulary = log.customer_ids
    k = len(vocabulary)
    _check_currencies(log, log.customer_codes, k)
    population = vocabulary
    rows: Int64Array | None = None  # the population's rows among the log's customers
    if customers is not None:
        population = _population(customers)
        frame = customers if isinstance(customers, CustomerFrame) else None
        rows = _rows_of(log, population, frame)
    size = k if rows is None else k + 1  # row k: no purchases, which a prospect's -1 reads
    occasions = purchase_occasions(log)
    codes: Int64Array = occasions.codes
    t: Int64Array = occasions.t
    units: Int64Array = occasions.units

    window = policy.window_days * DAY_US
    bins = (t <= as_us - window).view(np.int8) + (t <= as_us - 2 * window).view(np.int8)
    future: BoolArray | None = None
    if len(t) and int(t.max()) > as_us:
        future = t > as_us
        bins[future] = 3
    key = codes * _BINS
    key += bins
    del bins
    counts = np.bincount(key, minlength=_BINS * size).reshape(size, _BINS)
    scaled = units.astype(np.float64)
    huge = scaled >= MAX_SCALED_SPEND
    if future is not None:
        huge &= ~future
    if huge.any():
        i = int(np.argmax(huge))
        raise _too_much(str(vocabulary[codes[i]]), float(scaled[i] / SPEND_SCALE))
    weighted = np.bincount(key, weights=scaled, minlength=_BINS * size)
    sums = weighted.astype(np.float64, copy=False).reshape(size, _BINS)
    del key, scaled

    first = np.full(size, _I64_MAX, dtype=np.int64)
    last = np.full(size, _I64_MIN, dtype=np.int64)
    if future is None:
        np.minimum.at(first, codes, t)
        np.maximum.at(last, codes, t)
    else:
        keep = ~future
        np.minimum.at(first, codes[keep], t[keep])
        np.maximum.at(last, codes[keep], t[keep])

    s_cur, s_prev, s_old = sums[:, 0], sums[:, 1], sums[:, 2]
    total: Float64Array = s_cur + s_prev
    total += s_old
    too_much = (total >= MAX_SCALED_SPEND) | (s_cur >= MAX_SCALED_SPEND)
    too_much |= (s_prev >= MAX_SCALED_SPEND) | (s_old >= MAX_SCALED_SPEND)
    if too_much.any():
        i = int(np.argmax(too_much))
        raise _too_much(str(vocabulary[i]), float(total[i] / SPEND_SCALE))
    n: Int64Array = counts[:, :3].sum(axis=1)
    facts: list[AnyArray] = [n, first, last, counts[:, 0], counts[:, 1], s_cur, s_prev, total]
    if rows is None:
        facts = [np.ascontiguousarray(fact) for fact in facts]
        ids = vocabulary.copy() if customers is None else population
    else:  # the population's rows, one gather per fact (-1 reads row k: no purchases)
        facts = [np.take(fact, rows) for fact in facts]
        ids = population
    arrays = _rules(policy, as_us, *facts)
    return BatchClassification(from_micros(as_us), policy, customer_ids=ids, **arrays)


def _too_much(customer: str, value: float) -> ValidationError:
    return ValidationError(
        "amount",
        value,
        f"customer {customer!r}: spend must stay below 2**53 units of 1/10,000 "
        "to be summed exactly",
    )


def _rules(
    p: LifecyclePolicy,
    as_us: int,
    n: Int64Array,
    first: Int64Array,
    last: Int64Array,
    f_cur: Int64Array,
    f_prev: Int64Array,
    s_cur: Float64Array,
    s_prev: Float64Array,
    s_total: Float64Array,
) -> dict[str, AnyArray]:
    """The decision list of ``crmcore.lifecycle.policy._rules``, over arrays.

    Every float expression is evaluated in the same order as there, so the
    results are identical, not just close.
    """
    has = n > 0
    first = np.where(has, first, as_us)
    last = np.where(has, last, as_us)
    recency = as_us - last
    span = last - first
    rec_f = recency.astype(np.float64)
    span_f = span.astype(np.float64)
    n_less_1 = (n - 1).astype(np.float64)
    fc = f_cur.astype(np.float64)
    fp = f_prev.astype(np.float64)
    zeros = np.zeros(len(n))

    # risk score
    silence = np.minimum(1.0, rec_f / float(p.churn_days * DAY_US))
    can_overdue = (n >= 2) & (span > 0)
    overdue = np.divide(
        rec_f * n_less_1, (2.0 * p.gap_multiple) * span_f, out=zeros.copy(), where=can_overdue
    )
    np.minimum(overdue, 1.0, out=overdue)
    trend = f_prev >= p.min_trend_purchases
    frequency_drop = np.maximum(0.0, 1.0 - np.divide(fc, fp, out=zeros.copy(), where=trend))
    frequency_drop[~trend] = 0.0
    spend_trend = trend & (s_prev > 0)
    spend_drop = np.maximum(
        0.0, 1.0 - np.divide(s_cur, s_prev, out=zeros.copy(), where=spend_trend)
    )
    spend_drop[~spend_trend] = 0.0
    risk = np.maximum(np.maximum(silence, overdue), np.maximum(frequency_drop, spend_drop))
    risk[~has] = 0.0

    # decision list
    churned = has & (recency >= p.churn_days * DAY_US)
    new = has & ~churned & (first > as_us - p.new_days * DAY_US)
    rest = has & ~churned & ~new
    gap = rest & (n >= 2) & (recency > p.min_silence_days * DAY_US)
    gap &= rec_f * n_less_1 > p.gap_multiple * span_f
    no_repeat = rest & (n == 1)
    frequency_down = rest & trend & (fc <= p.decline_ratio * fp)
    spend_down = rest & spend_trend & (s_cur <= p.decline_ratio * s_prev)
    decline = gap | no_repeat | frequency_down | spend_down
    grow = rest & ~decline
    growing = f_cur >= p.min_trend_purchases
    frequency_up = grow & growing & (fc >= p.growth_ratio * fp)
    spend_up = grow & growing & (s_cur > 0) & (s_cur >= p.growth_ratio * s_prev)
    building = grow & (n < p.mature_min_purchases)
    growth = frequency_up | spend_up | building
    mature = grow & ~growth

    states = np.zeros(len(n), dtype=np.int8)
    reasons = np.zeros(len(n), dtype=np.uint16)
    for mask, state in (
        (new, LifecycleState.NEW),
        (growth, LifecycleState.GROWTH),
        (mature, LifecycleState.MATURE),
        (decline, LifecycleState.DECLINE),
        (churned, LifecycleState.CHURNED),
    ):
        states[mask] = state.code
    for mask, reason in (
        (~has, Reason.NO_PURCHASES),
        (churned, Reason.NO_ACTIVITY_BEYOND_CHURN_HORIZON),
        (new, Reason.FIRST_PURCHASE_RECENT),
        (gap, Reason.RECENCY_BEYOND_USUAL_GAP),
        (no_repeat, Reason.NO_REPEAT_PURCHASE),
        (frequency_down, Reason.FREQUENCY_DOWN),
        (spend_down, Reason.SPEND_DOWN),
        (frequency_up, Reason.FREQUENCY_UP),
        (spend_up, Reason.SPEND_UP),
        (building, Reason.BUILDING_HISTORY),
        (mature, Reason.STABLE_ACTIVITY),
    ):
        reasons[mask] |= np.uint16(reason.bit)

    nat = np.datetime64("NaT", "us")
    gap_days = np.full(len(n), np.nan)
    np.divide(span_f / np.maximum(n_less_1, 1.0), DAY_US, out=gap_days, where=n >= 2)
    return {
        "states": states,
        "risk_scores": risk,
        "reason_bits": reasons,
        "purchases": n.astype(np.int64),
        "first_purchase_at": np.where(has, first.astype("datetime64[us]"), nat),
        "last_purchase_at": np.where(has, last.astype("datetime64[us]"), nat),
        "recency_days": np.where(has, rec_f / DAY_US, np.nan),
        "usual_gap_days": gap_days,
        "frequency_current": f_cur.astype(np.int64),
        "frequency_previous": f_prev.astype(np.int64),
        "spend_current": s_cur / SPEND_SCALE,
        "spend_previous": s_prev / SPEND_SCALE,
        "spend_total": s_total / SPEND_SCALE,
    }
