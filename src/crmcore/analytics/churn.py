"""Churn early warning (流失预警): a 0-1 risk score with reason codes, vectorised.

DOMAIN.md §3 and §8 ask for a warning that watches activity, frequency and
satisfaction for the drift toward decline. [`churn_risk()`][crmcore.analytics.churn.churn_risk]
combines up to four signals per customer of a [`TransactionLog`][crmcore.columnar.TransactionLog],
each turned into a component in ``[0, 1]`` (1 = strongest churn signal):

| signal | component | weight |
|---|---|---|
| P(alive) (optional) | ``1 - P(alive)`` from a BTYD model (e.g. BG/NBD) | 0.35 |
| lifecycle (optional) | 1 in ``decline`` or ``churned`` (from ``classify_log``) | 0.25 |
| overdue (from the log) | ``clip((recency / gap - 1) / (gap_multiple - 1))`` | 0.25 |
| satisfaction (optional) | how far survey scores fell, in half scale ranges (below) | 0.15 |

**Risk** = the weighted mean of the components *available* for the customer:
``sum(w_i * c_i) / sum(w_i)`` over the signals that have a value for them
(a customer not in the P(alive) input, or without scores in both
satisfaction windows, is scored on the other signals). `ChurnRisk.coverage`
is the share of the total weight that was available, so a score resting on
little evidence can be told apart. A customer with no available signal has
risk 0 and coverage 0.

**Expected inter-purchase time** (the overdue signal): for a customer with
two or more purchases at different times, ``(last - first) / (n - 1)``, the
mean gap between purchases; otherwise (one-time buyers) the median of that
gap over the repeat buyers of the log. With ``gap_multiple = 3`` the
component is 0 up to one expected gap of silence and reaches 1 at three.

**Satisfaction** comes as [`TouchpointScores`][crmcore.journey.TouchpointScores] (CSAT,
NPS or CES answers with times): the customer's mean score in the last
``satisfaction_days`` before ``as_of`` against their mean score before that.
Only a fall counts; answers after ``as_of`` or without a time are ignored.

**Reasons**: a reason code fires when its component is at least
``reason_at`` (default 0.5); the lifecycle reason names the state.
**At risk** means ``risk >= threshold`` (default 0.5).

Weights are a [`ChurnWeights`][crmcore.analytics.churn.ChurnWeights] (the defaults above: P(alive)
is the best-founded signal, then the customer's own lifecycle and rhythm, satisfaction the
noisiest); pass your own to re-balance or to drop a signal (weight 0).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.analytics.kpis import check_window_days, per_customer, read_purchases
from crmcore.columnar import STRING_DTYPE, IdIndex, TransactionLog
from crmcore.columnar.id_index import rows_equal_to
from crmcore.journey import TouchpointScores
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array, Int64Array, read_only
from crmcore.kernel.clock import DAY_US
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.reports import data_frame, fmt_datetime, html_table, json_number
from crmcore.kernel.validators import boolean, choice, integer, mapping_of, storable_text, text
from crmcore.lifecycle import BatchClassification, LifecycleState

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_CHURN_WEIGHTS",
    "ChurnReason",
    "ChurnRisk",
    "ChurnWeights",
    "CustomerValues",
    "churn_risk",
]


_HTML_ROWS: Final = 20


class ChurnReason(enum.StrEnum):
    """Why a customer's churn risk is up (one bit each in `ChurnRisk.reason_bits`)."""

    LOW_P_ALIVE = "low_p_alive"
    LIFECYCLE_DECLINE = "lifecycle_decline"
    LIFECYCLE_CHURNED = "lifecycle_churned"
    OVERDUE = "overdue"
    FALLING_SATISFACTION = "falling_satisfaction"

    @property
    def bit(self) -> int:
        """This reason's bit in a reason mask."""
        return 1 << list(ChurnReason).index(self)


def _weight(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < np.inf:
        raise ValidationError(attribute.name, value, "must be a finite, non-negative number")


@attrs.frozen(kw_only=True)
class ChurnWeights:
    """Weights of the four signals in the risk score (non-negative; at least one positive)."""

    p_alive: float = attrs.field(default=0.35, validator=_weight)
    lifecycle: float = attrs.field(default=0.25, validator=_weight)
    overdue: float = attrs.field(default=0.25, validator=_weight)
    satisfaction: float = attrs.field(default=0.15, validator=_weight)

    def __attrs_post_init__(self) -> None:
        if self.total <= 0:
            raise ValidationError("weights", attrs.asdict(self), "need one positive weight")

    @property
    def total(self) -> float:
        """The sum of the weights."""
        return float(self.p_alive + self.lifecycle + self.overdue + self.satisfaction)

    def to_dict(self) -> dict[str, float]:
        """The weights as JSON data."""
        return {k: float(v) for k, v in attrs.asdict(self).items()}


DEFAULT_CHURN_WEIGHTS: Final = ChurnWeights()
"""The documented default weights (P(alive) 0.35, lifecycle 0.25, overdue 0.25,
satisfaction 0.15).
"""


def _ids(value: object, field: str = "customer_ids") -> AnyArray:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError(field, value, "must be a sequence of str ids")
    items = value.tolist() if isinstance(value, np.ndarray) else list(value)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise ValidationError(f"{field}[{i}]", item, "must be a str")
    try:
        out = np.array(items, dtype=STRING_DTYPE)
    except UnicodeEncodeError:  # a lone surrogate: name the id (a loop on this path only)
        for i, item in enumerate(items):
            storable_text(item, f"{field}[{i}]")
        raise
    out.setflags(write=False)
    return out


def _floats(value: object) -> Float64Array:
    try:
        array = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise ValidationError("values", value, "must be numbers") from None
    if array.ndim != 1:
        raise ValidationError("values", array.shape, "must be one-dimensional")
    array.setflags(write=False)
    return array


@attrs.frozen(eq=False)
class CustomerValues:
    """One number per customer id: the form optional model outputs come in (e.g. P(alive)).

    Examples:
        >>> CustomerValues.from_mapping({"a": 0.9, "b": 0.2}).values.tolist()
        [0.9, 0.2]
    """

    customer_ids: AnyArray = attrs.field(converter=_ids)
    values: Float64Array = attrs.field(converter=_floats)

    def __attrs_post_init__(self) -> None:
        if len(self.customer_ids) != len(self.values):
            raise ValidationError(
                "values", len(self.values), f"must be one per id ({len(self.customer_ids)})"
            )
        bad = ~np.isfinite(self.values)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValidationError(f"values[{i}]", float(self.values[i]), "must be finite")

    @classmethod
    def from_mapping(cls, values: Mapping[str, float]) -> CustomerValues:
        """From a dict of customer id to value."""
        found = mapping_of(values, "values", str)
        return cls(list(found), list(found.values()))

    def aligned(self, ids: AnyArray, field: str) -> tuple[Float64Array, BoolArray]:
        """Values for ``ids`` (``NaN`` and ``False`` where an id is not listed)."""
        if not (isinstance(ids, np.ndarray) and ids.ndim == 1 and ids.dtype.kind in "TU"):
            ids = _ids(ids, text(field, "field", limit=200))
        where = _positions(self.customer_ids, ids, field)
        found = where >= 0
        out = np.full(len(ids), np.nan)
        out[found] = self.values[where[found]]
        return out, found


def _positions(population: AnyArray, wanted: AnyArray, field: str) -> Int64Array:
    """For each id in ``wanted``, its position in ``population`` (-1 if absent; an id listed
    twice in ``population`` is a [`ValidationError`][crmcore.kernel.errors.ValidationError])."""
    return IdIndex(population, field).rows(wanted)


@attrs.frozen(eq=False, kw_only=True)
class ChurnRisk:
    """Churn risk of every customer with a purchase up to ``as_of`` (read-only arrays).

    Row ``i`` is ``customer_ids[i]`` (order of first appearance in the log).
    ``components`` is ``(n, 4)``: P(alive), lifecycle, overdue, satisfaction
    components, ``NaN`` where a signal is unavailable for that customer.
    ``risk`` is the weighted mean of the available components, ``coverage``
    the share of the weight they carry, ``reason_bits`` a mask of
    [`ChurnReason.bit`][crmcore.analytics.churn.ChurnReason.bit] values. ``expected_gap_days`` and
    ``recency_days`` are the facts behind the overdue signal. A report:
    [`at_risk()`][crmcore.analytics.churn.ChurnRisk.at_risk], ``to_dict()`` and ``_repr_html_()``
    (the at-risk list).
    """

    as_of: datetime
    weights: ChurnWeights
    threshold: float
    customer_ids: AnyArray
    risk: Float64Array
    coverage: Float64Array
    components: Float64Array
    reason_bits: npt.NDArray[np.uint8]
    recency_days: Float64Array
    expected_gap_days: Float64Array
    revenue: Float64Array

    def __len__(self) -> int:
        return len(self.risk)

    def has_reason(self, reason: ChurnReason | str) -> BoolArray:
        """Rows where ``reason`` fired."""
        bit = np.uint8(choice(reason, "reason", ChurnReason).bit)
        mask: BoolArray = (self.reason_bits & bit) != 0
        return mask

    def reasons_of(self, row: int | str) -> tuple[ChurnReason, ...]:
        """The reasons of one row (position or customer id)."""
        i = self._row(row)
        bits = int(self.reason_bits[i])
        return tuple(r for r in ChurnReason if bits & r.bit)

    def _row(self, row: int | str) -> int:
        if isinstance(row, str):
            storable_text(row, "row")
            hits = rows_equal_to(self.customer_ids, row)
            if not len(hits):
                raise NotFoundError("customer", row)
            return int(hits[0])
        if isinstance(row, bool) or not isinstance(row, int) or not 0 <= row < len(self):
            raise ValidationError("row", row, f"must be a position in 0..{len(self) - 1}")
        return row

    @property
    def at_risk_mask(self) -> BoolArray:
        """Rows with ``risk >= threshold``."""
        mask: BoolArray = self.risk >= self.threshold
        return mask

    def at_risk(
        self, top: int | None = None, *, include_churned: bool = True
    ) -> list[dict[str, object]]:
        """The at-risk customers, highest risk first (then higher revenue, then row order).

        ``include_churned=False`` leaves out customers whose lifecycle state
        (when a lifecycle input was given) is already ``churned``: the early
        warning list of customers still worth a retention action.
        """
        if top is not None:
            top = integer(top, "top", low=0)
        boolean(include_churned, "include_churned")
        mask = self.at_risk_mask
        if not include_churned:
            mask = mask & ~self.has_reason(ChurnReason.LIFECYCLE_CHURNED)
        rows = np.flatnonzero(mask)
        order = np.lexsort((rows, -self.revenue[rows], -self.risk[rows]))
        chosen = rows[order][:top] if top is not None else rows[order]
        return [
            {
                "customer_id": str(self.customer_ids[i]),
                "risk": float(self.risk[i]),
                "coverage": float(self.coverage[i]),
                "reasons": [r.value for r in self.reasons_of(int(i))],
                "recency_days": float(self.recency_days[i]),
                "expected_gap_days": json_number(self.expected_gap_days[i]),
                "revenue": float(self.revenue[i]),
            }
            for i in chosen.tolist()
        ]

    def reason_counts(self) -> dict[ChurnReason, int]:
        """How many customers each reason fired for."""
        return {r: int(np.count_nonzero(self.has_reason(r))) for r in ChurnReason}

    def to_dict(self) -> dict[str, object]:
        """Summary and the top 100 at-risk customers as JSON data."""
        n = len(self)
        return {
            "as_of": self.as_of.isoformat(),
            "weights": self.weights.to_dict(),
            "threshold": self.threshold,
            "customers": n,
            "at_risk": int(np.count_nonzero(self.at_risk_mask)),
            "mean_risk": json_number(self.risk.mean()) if n else None,
            "reasons": {r.value: c for r, c in self.reason_counts().items()},
            "top_at_risk": self.at_risk(100),
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per customer: risk, coverage, ``at_risk``, the four components (``NaN`` where
        unavailable), the facts behind them, revenue and one ``reason_<code>`` flag per reason."""
        names = ("p_alive", "lifecycle", "overdue", "satisfaction")
        columns: dict[str, object] = {
            "customer_id": self.customer_ids,
            "risk": self.risk,
            "coverage": self.coverage,
            "at_risk": self.at_risk_mask,
            **{f"{name}_component": self.components[:, i] for i, name in enumerate(names)},
            "recency_days": self.recency_days,
            "expected_gap_days": self.expected_gap_days,
            "revenue": self.revenue,
            **{f"reason_{r.value}": self.has_reason(r) for r in ChurnReason},
        }
        return data_frame(columns, "ChurnRisk.to_pandas")

    def _repr_html_(self) -> str:
        top = self.at_risk(_HTML_ROWS)
        rows = [
            [r["customer_id"], r["risk"], ", ".join(r["reasons"]), r["recency_days"],  # type: ignore[arg-type]
             r["expected_gap_days"], r["revenue"]]
            for r in top
        ]  # fmt: skip
        total = int(np.count_nonzero(self.at_risk_mask))
        return html_table(
            f"Churn early warning as of {fmt_datetime(self.as_of)}",
            ["customer", "risk", "reasons", "recency", "usual gap", "revenue"],
            rows,
            kinds=["auto", "pct", "auto", "days", "days", "float"],
            bars={1: 1.0},
            caption=f"{total:,} of {len(self):,} customers at risk (risk >= {self.threshold:g}); "
            f"top {len(rows)} shown",
        )


def _check_unit(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValidationError(field, value, "must be a number in (0, 1]")
    return float(value)


def _satisfaction(scores: TouchpointScores, ids: AnyArray, as_us: int, days: int) -> Float64Array:
    """Per customer: how far the mean score fell (0..1), ``NaN`` without both windows."""
    at = scores.at.view(np.int64)
    usable = ~np.isnat(scores.at) & (at <= as_us)
    where = _positions(ids, scores.customer_ids, "satisfaction.customer_ids")
    usable &= where >= 0
    n = len(ids)
    recent = usable & (at > as_us - days * DAY_US)
    earlier = usable & ~recent
    values = scores.scores

    def mean(mask: BoolArray) -> Float64Array:
        counts = np.bincount(where[mask], minlength=n)
        sums = np.bincount(where[mask], weights=values[mask], minlength=n)
        out = np.full(n, np.nan)
        np.divide(sums, counts, out=out, where=counts > 0)
        return out

    now, before = mean(recent), mean(earlier)
    half_range = (scores.scale.high - scores.scale.low) / 2.0
    both = ~np.isnan(now) & ~np.isnan(before)
    out = np.full(n, np.nan)
    out[both] = np.clip((before[both] - now[both]) / half_range, 0.0, 1.0)
    return out


def churn_risk(
    log: TransactionLog,
    as_of: datetime,
    *,
    p_alive: CustomerValues | None = None,
    lifecycle: BatchClassification | None = None,
    satisfaction: TouchpointScores | None = None,
    weights: ChurnWeights = DEFAULT_CHURN_WEIGHTS,
    gap_multiple: float = 3.0,
    satisfaction_days: int = 90,
    reason_at: float = 0.5,
    threshold: float = 0.5,
) -> ChurnRisk:
    """Score the churn risk of every customer of ``log`` (see the module docs for the rule).

    ``p_alive`` holds P(alive) per customer id (values in ``[0, 1]``);
    ``lifecycle`` a [`classify_log()`][crmcore.lifecycle.classify_log] result;
    ``satisfaction`` survey scores. Customers are those with a purchase up to
    ``as_of``; input rows for other ids are ignored. Raises
    [`ValidationError`][crmcore.kernel.errors.ValidationError] for bad options or inputs.
    """
    if not isinstance(weights, ChurnWeights):
        raise ValidationError("weights", weights, "must be ChurnWeights")
    if (
        isinstance(gap_multiple, bool)
        or not isinstance(gap_multiple, int | float)
        or not (1 < gap_multiple < np.inf)
    ):
        raise ValidationError("gap_multiple", gap_multiple, "must be a number above 1")
    days = check_window_days(satisfaction_days, "satisfaction_days")
    reason_level = _check_unit(reason_at, "reason_at")
    level = _check_unit(threshold, "threshold")
    if p_alive is not None and not isinstance(p_alive, CustomerValues):
        raise ValidationError("p_alive", p_alive, "must be CustomerValues")
    if lifecycle is not None and not isinstance(lifecycle, BatchClassification):
        raise ValidationError("lifecycle", lifecycle, "must be a BatchClassification")
    if satisfaction is not None and not isinstance(satisfaction, TouchpointScores):
        raise ValidationError("satisfaction", satisfaction, "must be TouchpointScores")

    p = read_purchases(log, as_of)
    agg = per_customer(p)
    rows = np.flatnonzero(agg.present)
    ids = read_only(p.vocabulary[rows])
    n = len(rows)
    count, first, last = agg.count[rows], agg.first[rows], agg.last[rows]
    components = np.full((n, 4), np.nan)

    if p_alive is not None:
        alive, found = p_alive.aligned(ids, "p_alive.customer_ids")
        bad = found & ((alive < 0) | (alive > 1))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValidationError("p_alive", float(alive[i]), "must be probabilities in [0, 1]")
        components[found, 0] = 1.0 - alive[found]
    state = np.full(n, -1, dtype=np.int64)
    if lifecycle is not None:
        where = _positions(lifecycle.customer_ids, ids, "lifecycle.customer_ids")
        found = where >= 0
        state[found] = lifecycle.states[where[found]]
        bad_states = (LifecycleState.DECLINE.code, LifecycleState.CHURNED.code)
        components[found, 1] = np.isin(state[found], bad_states).astype(np.float64)

    recency = (p.as_us - last).astype(np.float64)
    span = (last - first).astype(np.float64)
    own = (count >= 2) & (span > 0)
    gap = np.full(n, np.nan)
    gap[own] = span[own] / (count[own] - 1)
    if own.any():
        gap[~own] = float(np.median(gap[own]))
        components[:, 2] = np.clip((recency / gap - 1.0) / (gap_multiple - 1.0), 0.0, 1.0)

    if satisfaction is not None:
        components[:, 3] = _satisfaction(satisfaction, ids, p.as_us, days)

    w = np.array([weights.p_alive, weights.lifecycle, weights.overdue, weights.satisfaction])
    available = ~np.isnan(components) & (w > 0)
    weight_sum = (available * w).sum(axis=1)
    weighted = np.where(available, np.nan_to_num(components) * w, 0.0).sum(axis=1)
    risk = np.zeros(n)
    np.divide(weighted, weight_sum, out=risk, where=weight_sum > 0)
    coverage = weight_sum / weights.total

    bits = np.zeros(n, dtype=np.uint8)
    fired = np.nan_to_num(components, nan=0.0) >= reason_level
    for column, reason in ((0, ChurnReason.LOW_P_ALIVE), (2, ChurnReason.OVERDUE),
                           (3, ChurnReason.FALLING_SATISFACTION)):  # fmt: skip
        bits[fired[:, column]] |= np.uint8(reason.bit)
    bits[state == LifecycleState.DECLINE.code] |= np.uint8(ChurnReason.LIFECYCLE_DECLINE.bit)
    bits[state == LifecycleState.CHURNED.code] |= np.uint8(ChurnReason.LIFECYCLE_CHURNED.bit)
    return ChurnRisk(
        as_of=p.as_of,
        weights=weights,
        threshold=level,
        customer_ids=ids,
        risk=read_only(risk),
        coverage=read_only(coverage),
        components=read_only(components),
        reason_bits=read_only(bits),
        recency_days=read_only(recency / DAY_US),
        expected_gap_days=read_only(gap / DAY_US),
        revenue=read_only(agg.net[rows]),
    )
