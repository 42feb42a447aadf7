"""Lifecycle policy: infer a customer's state from purchases, one customer at a time.

A [`LifecyclePolicy`][crmcore.lifecycle.policy.LifecyclePolicy] is frozen, serialisable data: the
windows and ratios of the rules below. [`classify()`][crmcore.lifecycle.policy.classify] applies it
to one customer's purchases in plain Python;
[`crmcore.lifecycle.policy_batch.classify_log()`][crmcore.lifecycle.policy_batch.classify_log]
applies the same rules to a whole [`TransactionLog`][crmcore.columnar.TransactionLog] with numpy,
and the two agree exactly (a differential property test checks it).

The rules, evaluated at ``as_of`` on the purchase occasions made at or before
it (later ones are ignored, so past dates give true as-of answers; orders and
returns are read by the one rule of
[`crmcore.columnar.occasions`][crmcore.columnar.occasions]: a return never makes a
customer active); first match wins:

1. no purchase → **prospect** (``no_purchases``);
2. no purchase within ``churn_days`` → **churned**
   (``no_activity_beyond_churn_horizon``);
3. first purchase within ``new_days`` → **new** (``first_purchase_recent``);
4. any decline signal → **decline**, the churn early warning:
   ``recency_beyond_usual_gap`` (at least two purchases, silent for more than
   ``min_silence_days`` and for more than ``gap_multiple`` times the mean gap
   between them), ``no_repeat_purchase`` (one purchase, new window passed),
   ``frequency_down`` / ``spend_down`` (at least ``min_trend_purchases`` in
   the previous window, and the current window at ``decline_ratio`` of it or
   less);
5. any growth signal → **growth**: ``frequency_up`` / ``spend_up`` (at least
   ``min_trend_purchases`` in the current window, at ``growth_ratio`` of the
   previous or more) or ``building_history`` (fewer than
   ``mature_min_purchases`` purchases so far);
6. otherwise → **mature** (``stable_activity``).

Windows are half-open and end at ``as_of``: the current window is
``(as_of - window, as_of]``, the previous ``(as_of - 2·window, as_of - window]``;
"within ``n`` days" likewise means after ``as_of - n days``.

The risk score (0..1) is the strongest of three signals, each scaled so that
0.5 sits near the default decline threshold and 1 means certain:

* silence: ``min(1, recency / churn_days)`` (1 = churned);
* overdue: ``min(1, recency / (2 · gap_multiple · usual_gap))`` with
  ``usual_gap = (last - first) / (purchases - 1)`` (0 with fewer than two
  purchases or no time between them);
* trend: ``max(1 - freq_current / freq_previous, 1 - spend_current / spend_previous)``
  clipped at 0, when the previous window had ``min_trend_purchases`` or more
  (0 otherwise).

A prospect's risk is 0. Spend is summed exactly in units of 1/10,000 of the
currency (each amount rounded half-even), so no result depends on the order
of the purchases; a customer's spend must stay below 2**53 such units
(about 900 billion).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

import attrs

from crmcore.customers.records import Purchase
from crmcore.kernel.clock import DAY_US, from_micros, to_micros
from crmcore.kernel.errors import CurrencyMismatchError, ValidationError
from crmcore.kernel.ids import CustomerId, customer_id
from crmcore.kernel.money import Money
from crmcore.kernel.validators import items_of
from crmcore.lifecycle.evidence import ActivityFacts, Evidence, Reason
from crmcore.lifecycle.states import LifecycleState

__all__ = [
    "DEFAULT_POLICY",
    "Amount",
    "Classification",
    "LifecyclePolicy",
    "PurchaseInput",
    "classify",
]

Amount = float | int | Decimal | Money
"""An amount paid: a number or [`Money`][crmcore.kernel.money.Money] (converted to float)."""
PurchaseInput = Purchase | tuple[datetime, Amount]
"""One purchase for [`classify()`][crmcore.lifecycle.policy.classify]: a
[`Purchase`][crmcore.lifecycle.policy.Purchase] or an ``(at, amount)`` pair."""

SPEND_SCALE: Final = 10_000.0
"""Spend is summed in these units per currency unit (exact, order-independent sums)."""
MAX_SCALED_SPEND: Final = 2.0**53
"""A customer's spend in [`SPEND_SCALE`][crmcore.lifecycle.policy.SPEND_SCALE] units must stay below
this (float64 exactness)."""
MAX_DAYS: Final = 36_500
_US: Final = timedelta(microseconds=1)


def _days(minimum: int) -> Callable[[object, attrs.Attribute[int], object], None]:
    def check(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(attribute.name, value, "must be a whole number of days")
        if not minimum <= value <= MAX_DAYS:
            raise ValidationError(attribute.name, value, f"must lie in {minimum}..{MAX_DAYS} days")

    return check


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValidationError("value", value, "must be a number")
    return float(value)


def _positive(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise ValidationError(attribute.name, value, "must be a finite number above 0")


def _below_one(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 < value < 1:
        raise ValidationError(attribute.name, value, "must lie strictly between 0 and 1")


def _above_one(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not math.isfinite(value) or value <= 1:
        raise ValidationError(attribute.name, value, "must be a finite number above 1")


def _at_least_one(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1_000_000:
        raise ValidationError(attribute.name, value, "must be a whole number from 1 to 1000000")


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise ValidationError("name", value, "must be a non-empty name of at most 100 characters")
    return value.strip()


@attrs.frozen
class LifecyclePolicy:
    """The thresholds of the lifecycle rules (see the module docs for the rules).

    The defaults and why:

    * ``window_days = 90``: the trend compares the last 90 days with the 90
      before. A quarter is long enough for a monthly buyer, the typical
      regular customer, to show about three purchases per window, so a
      halving is a signal rather than noise; short enough to react within a
      season; and the usual recency bucket of RFM analysis. Both windows
      have the same length, so the comparison has no length bias (it is not
      seasonally adjusted).
    * ``new_days = 90``: a customer is new for one trend window after the
      first purchase, until there is a full window to compare against
      (seed 002: the new-customer stage is about the first purchase and a
      good first experience).
    * ``churn_days = 365``: a year without a purchase is churned. A full
      year spans every seasonal cycle, so a once-a-year buyer is warned
      (decline) but not written off before missing their season.
    * ``gap_multiple = 2.0``: overdue when silent for more than twice the
      customer's own mean gap between purchases. For a customer buying at a
      steady random rate such a silence happens by chance about one time in
      seven (e^-2 ≈ 13.5%), so it is probably a real change yet early enough
      to act; three gaps (5%) would be surer but later.
    * ``min_silence_days = 30``: a weekly buyer away for two weeks is not at
      risk; a month is the shortest silence worth a retention action.
    * ``decline_ratio = 0.5`` and ``growth_ratio = 2.0``: a trend is a
      halving or a doubling of purchases or spend from one window to the
      next, symmetric on a log scale; a steady monthly buyer's jitter (3 ± 1
      purchases a quarter) triggers neither.
    * ``min_trend_purchases = 2``: a trend needs two purchases in the window
      it is measured against (a drop from one purchase to none is noise for
      an occasional buyer), and growth needs two in the current window.
    * ``mature_min_purchases = 4``: an established customer has made at
      least four purchases (a first and three repeats); fewer, without a
      decline, is still growth (building a history). A monthly buyer
      reaches four at about the end of the new window.

    Mapped to seed 002's stages: new = first purchase recently; growth =
    rising frequency or spend (or still building up); mature = stable buying,
    the main revenue; decline = falling activity or overdue; churned = no
    activity beyond the churn horizon. ``name`` identifies the policy in
    evidence (change it whenever the thresholds change).
    """

    name: str = attrs.field(default="default", converter=_name)
    window_days: int = attrs.field(default=90, validator=_days(1))
    new_days: int = attrs.field(default=90, validator=_days(1))
    churn_days: int = attrs.field(default=365, validator=_days(1))
    gap_multiple: float = attrs.field(default=2.0, converter=_number, validator=_positive)
    min_silence_days: int = attrs.field(default=30, validator=_days(0))
    decline_ratio: float = attrs.field(default=0.5, converter=_number, validator=_below_one)
    growth_ratio: float = attrs.field(default=2.0, converter=_number, validator=_above_one)
    min_trend_purchases: int = attrs.field(default=2, validator=_at_least_one)
    mature_min_purchases: int = attrs.field(default=4, validator=_at_least_one)

    def __attrs_post_init__(self) -> None:
        # A customer new for longer than the churn horizon could churn while still new and
        # then be new again: a move the lifecycle table rightly refuses.
        if self.new_days > self.churn_days:
            raise ValidationError(
                "new_days", self.new_days, f"must not exceed churn_days ({self.churn_days})"
            )


DEFAULT_POLICY: Final = LifecyclePolicy()
"""The policy with the documented defaults."""


def _state(value: object) -> LifecycleState:
    return LifecycleState.parse(value)


@attrs.frozen
class Classification:
    """A customer's lifecycle state at ``evidence.as_of``, with the evidence for it."""

    customer_id: CustomerId = attrs.field(converter=customer_id)
    state: LifecycleState = attrs.field(converter=_state)
    evidence: Evidence = attrs.field()

    @evidence.validator
    def _check_evidence(self, _attribute: object, value: object) -> None:
        if not isinstance(value, Evidence):
            raise ValidationError("evidence", value, "must be Evidence")

    @property
    def as_of(self) -> datetime:
        """The instant the classification describes."""
        return self.evidence.as_of

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """The reason codes that fired."""
        return self.evidence.reasons

    @property
    def risk_score(self) -> float:
        """The churn risk score, 0..1."""
        return self.evidence.risk_score

    @property
    def facts(self) -> ActivityFacts:
        """The activity facts the rules looked at."""
        return self.evidence.facts


def _amount(value: object, field: str) -> float:
    if isinstance(value, Money):
        value = value.amount
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValidationError(field, value, "must be a number or Money")
    try:
        amount = float(value)
    except OverflowError:
        raise ValidationError(field, value, "must be a finite amount") from None
    if not math.isfinite(amount):
        raise ValidationError(field, value, "must be a finite amount")
    return amount


def _orders(cid: str, purchases: Iterable[PurchaseInput]) -> list[tuple[int, int]]:
    """The purchase occasions among ``purchases``: ``(time, spend in units)`` per order.

    The rule of [`crmcore.columnar.occasions`][crmcore.columnar.occasions]: purchases
    sharing an ``order_id`` are one order, at its first time, worth their sum; an
    order is a purchase occasion unless its value is negative or every line of it
    is a return (a negative amount).
    """
    orders: dict[object, list[int]] = {}  # key -> [first time, units, lines kept]
    currency: str | None = None
    for i, purchase in enumerate(items_of(purchases, "purchases", "purchases")):
        where = f"purchases[{i}]"
        key: object = i
        if isinstance(purchase, Purchase):
            if purchase.customer_id != cid:
                raise ValidationError(
                    f"{where}.customer_id", purchase.customer_id, f"is not customer {cid!r}"
                )
            at: object = purchase.at
            raw: object = purchase.amount
            if purchase.order_id is not None:
                key = ("order", purchase.order_id)
        elif isinstance(purchase, tuple) and len(purchase) == 2:
            at, raw = purchase
        else:
            raise ValidationError(where, purchase, "must be a Purchase or an (at, amount) pair")
        if isinstance(raw, Money):
            if currency is not None and raw.currency != currency:
                raise CurrencyMismatchError(currency, raw.currency, "compare spend of")
            currency = raw.currency
        amount = _amount(raw, f"{where}.amount")
        t = to_micros(at, f"{where}.at")
        scaled = round(amount * SPEND_SCALE)  # half-even, as numpy.rint
        order = orders.get(key)
        if order is None:
            orders[key] = [t, scaled, int(scaled >= 0)]
        else:
            order[0] = min(order[0], t)
            order[1] += scaled
            order[2] += int(scaled >= 0)
    return [(t, units) for t, units, kept in orders.values() if units >= 0 and kept]


def classify(
    customer: str,
    purchases: Iterable[PurchaseInput],
    as_of: datetime,
    *,
    policy: LifecyclePolicy = DEFAULT_POLICY,
) -> Classification:
    """Classify one customer at ``as_of`` from their purchases (any order).

    ``purchases`` are [`Purchase`][crmcore.customers.records.Purchase] objects of
    this customer or ``(at, amount)`` pairs (``at`` aware, ``amount`` a number or
    [`Money`][crmcore.kernel.money.Money]; negative: a return). Activity comes from
    purchase occasions only (the rule of
    [`crmcore.columnar.occasions`][crmcore.columnar.occasions]: purchases sharing an
    ``order_id`` are one order; a return never makes a customer active); occasions
    after ``as_of`` are ignored. Amounts in more than one currency raise
    [`CurrencyMismatchError`][crmcore.kernel.errors.CurrencyMismatchError].

    Examples:
        >>> from datetime import UTC, datetime
        >>> t = datetime(2026, 6, 30, tzinfo=UTC)
        >>> c = classify("c-1", [(datetime(2026, 6, 1, tzinfo=UTC), 25)], t)
        >>> c.state, c.reasons
        (<LifecycleState.NEW: 'new'>, (<Reason.FIRST_PURCHASE_RECENT: 'first_purchase_recent'>,))
    """
    cid = customer_id(customer)
    if not isinstance(policy, LifecyclePolicy):
        raise ValidationError("policy", policy, "must be a LifecyclePolicy")
    as_us = to_micros(as_of, "as_of")
    window = policy.window_days * DAY_US
    current_from, previous_from = as_us - window, as_us - 2 * window
    n = f_cur = f_prev = 0
    s_cur = s_prev = s_old = 0
    first = last = 0
    for t, scaled in _orders(cid, purchases):
        if t > as_us:
            continue
        if scaled >= MAX_SCALED_SPEND:
            raise ValidationError("amount", scaled / SPEND_SCALE, _TOO_MUCH.format(customer=cid))
        if n == 0:
            first = last = t
        else:
            first, last = min(first, t), max(last, t)
        n += 1
        if t > current_from:
            f_cur += 1
            s_cur += scaled
        elif t > previous_from:
            f_prev += 1
            s_prev += scaled
        else:
            s_old += scaled
    total = s_cur + s_prev + s_old
    if total >= MAX_SCALED_SPEND:
        raise ValidationError("amount", total / SPEND_SCALE, _TOO_MUCH.format(customer=cid))
    state, reasons, risk = _rules(
        policy, as_us, n, first, last, f_cur, f_prev, float(s_cur), float(s_prev)
    )
    facts = (
        ActivityFacts()
        if n == 0
        else _facts(as_us, n, first, last, f_cur, f_prev, float(s_cur), float(s_prev), float(total))
    )
    evidence = Evidence(from_micros(as_us), reasons, risk, facts, policy.name)
    return Classification(cid, state, evidence)


_TOO_MUCH: Final = (
    "customer {customer!r}: spend must stay below 2**53 units of 1/10,000 to be summed exactly"
)


def _facts(
    as_us: int,
    n: int,
    first: int,
    last: int,
    f_cur: int,
    f_prev: int,
    s_cur: float,
    s_prev: float,
    s_total: float,
) -> ActivityFacts:
    gap = float(last - first) / float(n - 1) / DAY_US if n >= 2 else None
    return ActivityFacts(
        purchases=n,
        spend_total=s_total / SPEND_SCALE,
        first_purchase_at=from_micros(first),
        last_purchase_at=from_micros(last),
        recency_days=float(as_us - last) / DAY_US,
        usual_gap_days=gap,
        frequency_current=f_cur,
        frequency_previous=f_prev,
        spend_current=s_cur / SPEND_SCALE,
        spend_previous=s_prev / SPEND_SCALE,
    )


def _rules(
    p: LifecyclePolicy,
    as_us: int,
    n: int,
    first: int,
    last: int,
    f_cur: int,
    f_prev: int,
    s_cur: float,
    s_prev: float,
) -> tuple[LifecycleState, tuple[Reason, ...], float]:
    """The decision list and the risk score for one customer.

    The batch classifier ([`crmcore.lifecycle.policy_batch`][crmcore.lifecycle.policy_batch])
    evaluates the same expressions over arrays, in the same floating-point order: keep them in step.
    """
    if n == 0:
        return LifecycleState.PROSPECT, (Reason.NO_PURCHASES,), 0.0
    recency, span = as_us - last, last - first
    trend = f_prev >= p.min_trend_purchases
    silence = min(1.0, float(recency) / float(p.churn_days * DAY_US))
    overdue = (
        min(1.0, float(recency) * float(n - 1) / (2.0 * p.gap_multiple * float(span)))
        if n >= 2 and span > 0
        else 0.0
    )
    frequency_drop = max(0.0, 1.0 - float(f_cur) / float(f_prev)) if trend else 0.0
    spend_drop = max(0.0, 1.0 - s_cur / s_prev) if trend and s_prev > 0 else 0.0
    risk = max(silence, overdue, frequency_drop, spend_drop)
    if recency >= p.churn_days * DAY_US:
        return LifecycleState.CHURNED, (Reason.NO_ACTIVITY_BEYOND_CHURN_HORIZON,), risk
    if first > as_us - p.new_days * DAY_US:
        return LifecycleState.NEW, (Reason.FIRST_PURCHASE_RECENT,), risk
    fired = []
    if (
        n >= 2
        and recency > p.min_silence_days * DAY_US
        and float(recency) * float(n - 1) > p.gap_multiple * float(span)
    ):
        fired.append(Reason.RECENCY_BEYOND_USUAL_GAP)
    if n == 1:
        fired.append(Reason.NO_REPEAT_PURCHASE)
    if trend and float(f_cur) <= p.decline_ratio * float(f_prev):
        fired.append(Reason.FREQUENCY_DOWN)
    if trend and s_prev > 0 and s_cur <= p.decline_ratio * s_prev:
        fired.append(Reason.SPEND_DOWN)
    if fired:
        return LifecycleState.DECLINE, tuple(fired), risk
    growing = f_cur >= p.min_trend_purchases
    if growing and float(f_cur) >= p.growth_ratio * float(f_prev):
        fired.append(Reason.FREQUENCY_UP)
    if growing and s_cur > 0 and s_cur >= p.growth_ratio * s_prev:
        fired.append(Reason.SPEND_UP)
    if n < p.mature_min_purchases:
        fired.append(Reason.BUILDING_HISTORY)
    if fired:
        return LifecycleState.GROWTH, tuple(fired), risk
    return LifecycleState.MATURE, (Reason.STABLE_ACTIVITY,), risk
