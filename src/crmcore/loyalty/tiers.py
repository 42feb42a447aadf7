"""A customer's tier: qualification, upgrades at once, downgrades at period end after a grace.

A [`TierPolicy`][crmcore.loyalty.tiers.TierPolicy] is frozen, serialisable data: ordered
[`Tier`][crmcore.loyalty.tiers.Tier] s (a name, a threshold on qualifying points and/or qualifying
spend, an earn multiplier), a [`QualificationWindow`][crmcore.loyalty.QualificationWindow] (calendar
year or rolling 12 months), a [`DowngradePolicy`][crmcore.loyalty.tiers.DowngradePolicy]
(Talon.One's ``one_down`` or ``balance_based``) and a grace period in days. A
[`TierStatus`][crmcore.loyalty.tiers.TierStatus] is a customer's tier with its history (an aggregate
with ``id`` and ``version``); [`TierStatus.evaluate()`][crmcore.loyalty.tiers.TierStatus.evaluate]
brings it up to ``as_of`` from a sequence of
[`QualifyingFact`][crmcore.loyalty.tiers.QualifyingFact] s (time, points, spend) and returns an
[`Outcome`][crmcore.kernel.events.Outcome] with the tier events.
[`evaluate_batch()`][crmcore.loyalty.evaluate_batch] runs the same rules for many customers with
numpy, and a differential property test checks that both give the same answers.

The rules (all times in UTC):

* **Qualifying total at an instant** ``t``: the points and the spend of the
  facts in the live window, ``[1 Jan of t's year, t]`` for the calendar year,
  ``(t - 12 months, t]`` rolling. Spend counts each fact's amount rounded to
  the currency's minor unit (half-even); negative facts (returns) count
  negatively. A tier is *supported* when its points threshold or its spend
  threshold is reached (either suffices); the supported tier is the highest
  such tier, the first (base) tier always.
* **Upgrade at once**: at each time a fact occurs the supported tier is
  computed; when it is above the current tier the customer moves up to it at
  that time (skipping tiers if earned), and a new period starts.
* **Periods**: a tier's period ends at the end of the calendar year it
  started in (``calendar_year``), or 12 months after it started, the tier
  anniversary (``rolling_12_months``; months are added with
  ``relativedelta``, so 29 February rolls to 28 February and the review's
  12-month window then reaches back to 28 February). A retained tier's next
  period ends a year after the last. The base tier never ends.
* **Review, downgrade only at period end after the grace**: at
  ``period_end + grace_days`` the period is judged on its own qualifying total
  (the calendar year just ended; the 12 months up to the anniversary). When
  that supports the current tier, the tier is *retained* and runs to the next
  period end. Otherwise the customer drops to the tier the period supports
  (``balance_based``) or one tier down but not below what the period supports
  (``one_down``), and never below what the live window supports at the
  review (re-qualifying during the grace keeps the tier). A review never moves
  a customer up; upgrades happen only when facts occur.
* At equal times, facts come before a review; several facts at one time
  count together.

Facts at or before the status' last evaluation are counted in later windows
but do not trigger upgrades in the past: evaluate as facts arrive (or
rebuild from the first fact) for a history that is exact. Evaluating at
several checkpoints gives the same status as evaluating once at the last.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.kernel.money import Money
    >>> policy = TierPolicy(
    ...     name="club", currency="EUR",
    ...     tiers=(Tier("Member"), Tier("Silver", min_points=1000, multiplier=Decimal("1.25")),
    ...            Tier("Gold", min_points=5000, multiplier=Decimal("1.5"))),
    ... )
    >>> facts = [QualifyingFact(datetime(2026, 3, 1, tzinfo=UTC), points=1200)]
    >>> june = datetime(2026, 6, 1, tzinfo=UTC)
    >>> outcome = TierStatus.new("c-1", policy).evaluate(facts, june, policy)
    >>> outcome.value.tier, [e.kind for e in outcome.events]
    ('Silver', ['loyalty.tier_upgraded'])
    >>> outcome.value.multiplier(policy)
    Decimal('1.25')
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

import attrs

from crmcore.kernel import machine, validators
from crmcore.kernel.clock import DAY_US, from_micros, to_utc
from crmcore.kernel.errors import CurrencyMismatchError, ValidationError
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.ids import validate_id
from crmcore.kernel.money import Money
from crmcore.loyalty.events import TierDowngraded, TierRetained, TierUpgraded
from crmcore.loyalty.tier_policy import (
    DowngradePolicy,
    Tier,
    TierPolicy,
    period_close,
    period_end_of,
    tier_micros,
    tier_name,
    window_start,
)

__all__ = [
    "QualifyingFact",
    "TierChange",
    "TierChangeReason",
    "TierProgress",
    "TierStatus",
    "facts_from_ledger",
]


class TierChangeReason(enum.Enum):
    """Why a tier changed: reached a threshold, or did not re-qualify in a period."""

    QUALIFIED = "qualified"
    NOT_REQUALIFIED = "not_requalified"


# ---------------------------------------------------------------------------------------------
# Facts
# ---------------------------------------------------------------------------------------------


def _fact_at(value: object) -> datetime:
    moment = to_utc(value, "fact.at")
    tier_micros(moment, "fact.at")
    return moment


def _fact_points(_instance: object, _attribute: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("fact.points", value, "must be a whole number of points")


def _fact_spend(_instance: object, _attribute: object, value: Money | None) -> None:
    if value is not None and not isinstance(value, Money):
        raise ValidationError("fact.spend", value, "must be Money or None")


@attrs.frozen
class QualifyingFact:
    """Something that counts toward a tier: qualifying ``points`` and/or ``spend`` at ``at``.

    Negative values (a return clawing back points or spend) count negatively.
    The ledger's earn and award entries are the usual source of facts.
    """

    at: datetime = attrs.field(converter=_fact_at)
    points: int = attrs.field(default=0, validator=_fact_points)
    spend: Money | None = attrs.field(default=None, validator=_fact_spend)


class _Earn(Protocol):
    """One purchase's qualifying contribution, as the ledger reports it."""

    @property
    def at(self) -> datetime: ...

    @property
    def points(self) -> int: ...

    @property
    def spend(self) -> Money: ...


class _QualifyingSource(Protocol):
    """Anything that lists qualifying earns (a ``LoyaltyAccount``)."""

    def qualifying_earns(self) -> Iterable[_Earn]: ...


def facts_from_ledger(account: _QualifyingSource) -> tuple[QualifyingFact, ...]:
    """The qualifying facts of a loyalty account: each purchase's points and spend.

    Reads
    [`crmcore.loyalty.ledger.LoyaltyAccount.qualifying_earns()`][crmcore.loyalty.ledger.LoyaltyAccount.qualifying_earns]
    (purchases net of their refunds, dated at the purchase), so a refund lowers the qualifying
    totals from then on; action awards such as referral rewards do not qualify. Any object with such
    a method works: this module does not import the ledger.
    """
    earns = getattr(account, "qualifying_earns", None)
    if not callable(earns):
        raise ValidationError("account", account, "must offer qualifying_earns()")
    return tuple(QualifyingFact(e.at, points=e.points, spend=e.spend) for e in earns())


@attrs.frozen
class _Series:
    """One customer's facts up to ``as_of``: distinct times with running totals."""

    times: list[int]
    cum_points: list[int]  # cum_*[i] = total of the facts at times[:i]
    cum_spend: list[int]

    @classmethod
    def of(cls, facts: Iterable[QualifyingFact], policy: TierPolicy, as_of: int) -> _Series:
        if isinstance(facts, str | bytes) or not isinstance(facts, Iterable):
            raise ValidationError("facts", facts, "must be an iterable of QualifyingFact")
        totals: dict[int, list[int]] = {}
        for i, fact in enumerate(facts):
            if not isinstance(fact, QualifyingFact):
                raise ValidationError(f"facts[{i}]", fact, "must be a QualifyingFact")
            spend = 0
            if fact.spend is not None:
                if fact.spend.currency != policy.currency:
                    raise CurrencyMismatchError(
                        policy.currency, fact.spend.currency, "count spend of"
                    )
                spend = fact.spend.to_minor()
            t = tier_micros(fact.at, f"facts[{i}].at")
            if t > as_of:
                continue
            slot = totals.setdefault(t, [0, 0])
            slot[0] += fact.points
            slot[1] += spend
        times = sorted(totals)
        cum_points, cum_spend = [0], [0]
        for t in times:
            cum_points.append(cum_points[-1] + totals[t][0])
            cum_spend.append(cum_spend[-1] + totals[t][1])
        return cls(times, cum_points, cum_spend)

    def between(self, low: int, high: int) -> tuple[int, int]:
        """Points and spend (minor units) of the facts in ``(low, high]``."""
        if high <= low:
            return 0, 0
        i = bisect.bisect_right(self.times, high)
        j = bisect.bisect_right(self.times, low)
        return self.cum_points[i] - self.cum_points[j], self.cum_spend[i] - self.cum_spend[j]


# ---------------------------------------------------------------------------------------------
# The aggregate
# ---------------------------------------------------------------------------------------------


def _change_at(value: object) -> datetime:
    return to_utc(value, "change.at")


def _reason(value: object) -> TierChangeReason:
    try:
        return TierChangeReason(value)
    except ValueError:
        allowed = ", ".join(r.value for r in TierChangeReason)
        raise ValidationError("change.reason", value, f"must be one of {allowed}") from None


def _int(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(attribute.name, value, "must be an integer")


def _money(_instance: object, attribute: attrs.Attribute[Money], value: object) -> None:
    if not isinstance(value, Money):
        raise ValidationError(attribute.name, value, "must be Money")


@attrs.frozen
class TierChange:
    """One recorded move: when, from which tier to which, why, on what qualifying totals."""

    at: datetime = attrs.field(converter=_change_at)
    from_tier: str = attrs.field(converter=tier_name)
    to_tier: str = attrs.field(converter=tier_name)
    reason: TierChangeReason = attrs.field(converter=_reason)
    points: int = attrs.field(validator=_int)
    spend: Money = attrs.field(validator=_money)

    @property
    def from_state(self) -> str:
        """`from_tier` under the name all histories share (the kernel's machine)."""
        return self.from_tier

    @property
    def to_state(self) -> str:
        """`to_tier` under the name all histories share."""
        return self.to_tier


def _changes(values: object) -> tuple[TierChange, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError("history", values, "must be a sequence of TierChange")
    changes = tuple(values)
    for i, change in enumerate(changes):
        if not isinstance(change, TierChange):
            raise ValidationError(f"history[{i}]", change, "must be a TierChange")
    return changes


def _status_id(value: object) -> str:
    return validate_id(value, "id")


def _optional_time(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "at")


@attrs.frozen(kw_only=True)
class TierStatus:
    """A customer's tier, the period it runs to, and every change that led to it.

    ``id`` is the customer (or loyalty account) id, ``version`` the stored
    version (0 until saved). ``since`` is when the current tier started
    (``None`` in the base tier before any change), ``period_end`` when its
    period ends (``None`` in the base tier), ``evaluated_at`` the ``as_of``
    of the last evaluation. Build a new one with [`new()`][crmcore.loyalty.tiers.TierStatus.new].
    """

    id: str = attrs.field(converter=_status_id)
    tier: str = attrs.field(converter=tier_name)
    since: datetime | None = attrs.field(default=None, converter=_optional_time)
    period_end: datetime | None = attrs.field(default=None, converter=_optional_time)
    evaluated_at: datetime | None = attrs.field(default=None, converter=_optional_time)
    history: tuple[TierChange, ...] = attrs.field(default=(), converter=_changes)
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        def moves(i: int, change: TierChange) -> None:
            if change.from_tier == change.to_tier:
                raise ValidationError(f"history[{i}].to_tier", change.to_tier, "must differ")

        if self.history:
            current = machine.check_history(self.history, self.history[0].from_tier, rule=moves)
            if self.tier != current:
                raise ValidationError("tier", self.tier, f"must be {current}")
            if self.since != self.history[-1].at:
                raise ValidationError("since", self.since, "must be the time of the last change")
            if self.evaluated_at is None or self.evaluated_at < self.history[-1].at:
                raise ValidationError(
                    "evaluated_at", self.evaluated_at, "must not be before the last change"
                )
        elif self.since is not None:
            raise ValidationError("since", self.since, "must be None without a history")

    @classmethod
    def new(cls, id: str, policy: TierPolicy) -> TierStatus:
        """A customer in the policy's base tier, never evaluated."""
        validators.instance_of(policy, TierPolicy, "policy")
        return cls(id=id, tier=policy.base.name)

    # -- queries -------------------------------------------------------------------------------
    def tier_at(self, when: datetime) -> str:
        """The tier as of ``when``: where the last change at or before it ended."""
        initial = self.history[0].from_tier if self.history else self.tier
        return machine.state_at(self.history, when, initial)

    def multiplier(self, policy: TierPolicy) -> Decimal:
        """The earn multiplier of the current tier under ``policy``."""
        validators.instance_of(policy, TierPolicy, "policy")
        return policy.multiplier(self.tier)

    def review_at(self, policy: TierPolicy) -> datetime | None:
        """When the current period will be judged: its end plus the grace (``None`` in base)."""
        if self.period_end is None:
            return None
        return self.period_end + timedelta(days=policy.grace_days)

    # -- evaluation ----------------------------------------------------------------------------
    def _check(self, policy: TierPolicy) -> int:
        if not isinstance(policy, TierPolicy):
            raise ValidationError("policy", policy, "must be a TierPolicy")
        if self.tier not in policy.names:
            raise ValidationError("tier", self.tier, f"is not a tier of policy {policy.name!r}")
        index = policy.index(self.tier)
        if (index == 0) != (self.period_end is None):
            raise ValidationError(
                "period_end", self.period_end, "must be None exactly in the base tier"
            )
        return index

    def evaluate(
        self, facts: Iterable[QualifyingFact], as_of: datetime, policy: TierPolicy
    ) -> Outcome[TierStatus]:
        """Apply the rules from the last evaluation up to ``as_of``.

        ``facts`` are all of the customer's qualifying facts (those after
        ``as_of`` are ignored). Raises one event per upgrade, review
        (retained or downgraded) in time order.
        """
        index = self._check(policy)
        end = tier_micros(as_of, "as_of")
        start = (
            None if self.evaluated_at is None else tier_micros(self.evaluated_at, "evaluated_at")
        )
        if start is not None and end < start:
            raise ValidationError(
                "as_of", as_of, f"must not be before the last evaluation ({self.evaluated_at})"
            )
        series = _Series.of(facts, policy, end)
        engine = _Engine(
            policy,
            series,
            index,
            None if self.since is None else tier_micros(self.since, "since"),
            None if self.period_end is None else tier_micros(self.period_end, "period_end"),
            self.id,
        )
        lo = 0 if start is None else bisect.bisect_right(series.times, start)
        for t in series.times[lo:]:
            engine.reviews(t, strict=True)
            engine.upgrade(t)
            engine.reviews(t, strict=False)
        engine.reviews(end, strict=False)
        updated = attrs.evolve(
            self,
            tier=policy.tiers[engine.tier].name,
            since=None if engine.since is None else from_micros(engine.since),
            period_end=None if engine.period_end is None else from_micros(engine.period_end),
            evaluated_at=from_micros(end),
            history=(*self.history, *engine.changes),
        )
        return Outcome(updated, tuple(engine.events))

    def progress(
        self, facts: Iterable[QualifyingFact], as_of: datetime, policy: TierPolicy
    ) -> TierProgress:
        """What the customer needs, as of ``as_of``, to reach the next tier and to keep this one.

        Evaluates first (the status is brought to ``as_of``; the stored one
        is not changed). Either the points or the spend shortfall suffices.
        """
        facts = validators.items_of(facts, "facts", "QualifyingFact values")
        status = self.evaluate(facts, as_of, policy).value
        end = tier_micros(as_of, "as_of")
        series = _Series.of(facts, policy, end)
        index = policy.index(status.tier)
        live_points, live_spend = series.between(window_start(policy.window, end), end)
        nxt = policy.tiers[index + 1] if index + 1 < len(policy.tiers) else None
        keep_points = keep_spend = None
        period_points, period_spend = live_points, live_spend
        if status.period_end is not None:
            close = period_close(policy.window, tier_micros(status.period_end, "period_end"))
            period_points, period_spend = series.between(
                window_start(policy.window, close), min(close, end)
            )
            current = policy.tiers[index]
            keep_points, keep_spend = _shortfall(current, period_points, period_spend, policy)
        to_points, to_spend = (
            _shortfall(nxt, live_points, live_spend, policy) if nxt is not None else (None, None)
        )
        return TierProgress(
            as_of=from_micros(end),
            tier=status.tier,
            multiplier=policy.tiers[index].multiplier,
            qualifying_points=live_points,
            qualifying_spend=Money.of_minor(live_spend, policy.currency),
            next_tier=None if nxt is None else nxt.name,
            points_to_next=to_points,
            spend_to_next=to_spend,
            period_end=status.period_end,
            review_at=status.review_at(policy),
            period_points=period_points,
            period_spend=Money.of_minor(period_spend, policy.currency),
            points_to_keep=keep_points,
            spend_to_keep=keep_spend,
        )


def _shortfall(
    tier: Tier, points: int, spend_minor: int, policy: TierPolicy
) -> tuple[int | None, Money | None]:
    need_points = None if tier.min_points is None else max(0, tier.min_points - points)
    need_spend = None
    if tier.min_spend is not None:
        need_spend = Money.of_minor(
            max(0, tier.min_spend.to_minor() - spend_minor), policy.currency
        )
    return need_points, need_spend


@attrs.frozen(kw_only=True)
class TierProgress:
    """A customer's standing (Talon.One shows it as "points needed to keep / reach").

    ``qualifying_*`` are the live window's totals at ``as_of``;
    ``points_to_next`` / ``spend_to_next`` what the next tier still needs
    (``None`` at the top tier or where that tier has no such threshold);
    ``period_*`` what the current period has counted so far and
    ``points_to_keep`` / ``spend_to_keep`` what it still needs by
    ``period_end`` to keep the tier (``None`` in the base tier). Reaching
    either threshold is enough.
    """

    as_of: datetime
    tier: str
    multiplier: Decimal
    qualifying_points: int
    qualifying_spend: Money
    next_tier: str | None
    points_to_next: int | None
    spend_to_next: Money | None
    period_end: datetime | None
    review_at: datetime | None
    period_points: int
    period_spend: Money
    points_to_keep: int | None
    spend_to_keep: Money | None


class _Engine:
    """The rules on one customer, in integer microseconds (mirrored by ``_BatchEngine``)."""

    def __init__(
        self,
        policy: TierPolicy,
        series: _Series,
        tier: int,
        since: int | None,
        period_end: int | None,
        customer: str,
    ) -> None:
        self.policy = policy
        self.series = series
        self.tier = tier
        self.since = since
        self.period_end = period_end
        self.customer = customer
        self.grace = policy.grace_days * DAY_US
        self.changes: list[TierChange] = []
        self.events: list[DomainEvent] = []

    def _window(self, high: int) -> tuple[int, int]:
        return self.series.between(window_start(self.policy.window, high), high)

    def _name(self, index: int) -> str:
        return self.policy.tiers[index].name

    def upgrade(self, t: int) -> None:
        points, spend = self._window(t)
        target = self.policy.supported_index(points, spend)
        if target <= self.tier:
            return
        self._record(t, target, TierChangeReason.QUALIFIED, points, spend)
        self.events.append(
            TierUpgraded(**self._event(t, target, points, spend))  # type: ignore[arg-type]
        )
        self.tier, self.since = target, t
        self.period_end = period_end_of(self.policy.window, t)

    def reviews(self, limit: int, *, strict: bool) -> None:
        while self.period_end is not None:
            review = self.period_end + self.grace
            if review > limit or (strict and review == limit):
                return
            self._review(self.period_end, review)

    def _review(self, period_end: int, review: int) -> None:
        window = self.policy.window
        points, spend = self._window(period_close(window, period_end))
        by_period = self.policy.supported_index(points, spend)
        by_now = self.policy.supported_index(*self._window(review))
        if self.policy.downgrade is DowngradePolicy.BALANCE_BASED:
            target = by_period
        else:
            target = max(self.tier - 1, by_period)
        new = min(self.tier, max(target, by_now))
        if new == self.tier:
            nxt = period_end_of(window, period_end)
            self.events.append(
                TierRetained(
                    **self._event(review, new, points, spend),  # type: ignore[arg-type]
                    period_end=from_micros(period_end),
                    next_period_end=from_micros(nxt),
                )
            )
            self.period_end = nxt
            return
        self._record(review, new, TierChangeReason.NOT_REQUALIFIED, points, spend)
        self.events.append(
            TierDowngraded(
                **self._event(review, new, points, spend),  # type: ignore[arg-type]
                period_end=from_micros(period_end),
            )
        )
        self.tier, self.since = new, review
        self.period_end = period_end_of(window, review) if new > 0 else None

    def _record(
        self, t: int, target: int, reason: TierChangeReason, points: int, spend: int
    ) -> None:
        self.changes.append(
            TierChange(
                from_micros(t),
                self._name(self.tier),
                self._name(target),
                reason,
                points,
                Money.of_minor(spend, self.policy.currency),
            )
        )

    def _event(self, t: int, target: int, points: int, spend: int) -> dict[str, object]:
        return {
            "aggregate_id": self.customer,
            "occurred_at": from_micros(t),
            "from_tier": self._name(self.tier),
            "to_tier": self._name(target),
            "points": points,
            "spend": Money.of_minor(spend, self.policy.currency),
            "policy": self.policy.name,
        }
