"""Loyalty tiers: qualification, upgrades at once, downgrades at period end after a grace.

A :class:`TierPolicy` is frozen, serialisable data: ordered :class:`Tier` s
(a name, a threshold on qualifying points and/or qualifying spend, an earn
multiplier), a :class:`QualificationWindow` (calendar year or rolling 12
months), a :class:`DowngradePolicy` (Talon.One's ``one_down`` or
``balance_based``) and a grace period in days. A :class:`TierStatus` is a
customer's tier with its history (an aggregate with ``id`` and ``version``);
:meth:`TierStatus.evaluate` brings it up to ``as_of`` from a sequence of
:class:`QualifyingFact` s (time, points, spend) and returns an
:class:`~crmcore.kernel.events.Outcome` with the tier events.
:func:`evaluate_batch` runs the same rules for many customers with numpy,
and a differential property test checks that both give the same answers.

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
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final, Protocol

import attrs
import numpy as np
import numpy.typing as npt
from dateutil.relativedelta import relativedelta

from crmcore.columnar import STRING_DTYPE, TransactionLog
from crmcore.kernel import validators
from crmcore.kernel.arrays import AnyArray, Int64Array, read_only
from crmcore.kernel.clock import from_micros, to_micros, to_utc
from crmcore.kernel.errors import CurrencyMismatchError, NotFoundError, ValidationError
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.ids import validate_id
from crmcore.kernel.money import Money, currency_code, to_decimal
from crmcore.kernel.reports import html_table, json_number
from crmcore.loyalty.tier_events import TierDowngraded, TierRetained, TierUpgraded

__all__ = [
    "BatchTiers",
    "DowngradePolicy",
    "QualificationWindow",
    "QualifyingFact",
    "Tier",
    "TierChange",
    "TierChangeReason",
    "TierPolicy",
    "TierProgress",
    "TierStatus",
    "evaluate_batch",
    "evaluate_log",
    "facts_from_ledger",
]


_US: Final = timedelta(microseconds=1)
_NONE: Final = int(np.iinfo(np.int64).max)  # "no period end" in the batch arrays
_NAME: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 ._-]{0,62}[A-Za-z0-9._-])?\Z")
MAX_GRACE_DAYS: Final = 3660
_LAST_YEAR: Final = 9990


class QualificationWindow(enum.Enum):
    """Which facts count toward a tier: the calendar year, or the last 12 months."""

    CALENDAR_YEAR = "calendar_year"
    ROLLING_12_MONTHS = "rolling_12_months"


class DowngradePolicy(enum.Enum):
    """How far a review may drop a tier (Talon.One's names).

    ``one_down``: one tier down, or less if the period supports more (never
    below what the period supports). ``balance_based``: straight to the tier
    the period's qualification supports.
    """

    ONE_DOWN = "one_down"
    BALANCE_BASED = "balance_based"


class TierChangeReason(enum.Enum):
    """Why a tier changed: reached a threshold, or did not re-qualify in a period."""

    QUALIFIED = "qualified"
    NOT_REQUALIFIED = "not_requalified"


def _name(value: object, field: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValidationError(
            field, value, "must be 1-64 letters, digits, spaces or . _ - (no outer spaces)"
        )
    return value


def _tier_name(value: object) -> str:
    return _name(value, "tier.name")


def _multiplier(value: object) -> Decimal:
    number = to_decimal(value, "tier.multiplier")
    if number <= 0:
        raise ValidationError("tier.multiplier", value, "must be positive")
    return number


def _min_points(_instance: object, _attribute: object, value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError("tier.min_points", value, "must be a positive whole number or None")


def _min_spend(_instance: object, _attribute: object, value: Money | None) -> None:
    if value is None:
        return
    if not isinstance(value, Money) or value.amount <= 0:
        raise ValidationError("tier.min_spend", value, "must be a positive Money or None")
    if value.rounded() != value:
        raise ValidationError("tier.min_spend", value, "must not be finer than the minor unit")


@attrs.frozen(kw_only=False)
class Tier:
    """One tier: its ``name``, thresholds and earn ``multiplier``.

    A customer qualifies when the qualifying points reach ``min_points`` or
    the qualifying spend reaches ``min_spend`` (either one; a tier may set
    only one). The first tier of a policy is the base tier and sets neither.
    """

    name: str = attrs.field(converter=_tier_name)
    min_points: int | None = attrs.field(default=None, validator=_min_points, kw_only=True)
    min_spend: Money | None = attrs.field(default=None, validator=_min_spend, kw_only=True)
    multiplier: Decimal = attrs.field(default=Decimal(1), converter=_multiplier, kw_only=True)


def _policy_name(value: object) -> str:
    return _name(value, "policy.name")


def _currency(value: object) -> str:
    return currency_code(value, "policy.currency")


def _tiers(value: object) -> tuple[Tier, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError("policy.tiers", value, "must be a sequence of Tier")
    tiers = tuple(value)
    for i, tier in enumerate(tiers):
        if not isinstance(tier, Tier):
            raise ValidationError(f"policy.tiers[{i}]", tier, "must be a Tier")
    return tiers


def _window(value: object) -> QualificationWindow:
    try:
        return QualificationWindow(value)
    except ValueError:
        allowed = ", ".join(w.value for w in QualificationWindow)
        raise ValidationError("policy.window", value, f"must be one of {allowed}") from None


def _downgrade(value: object) -> DowngradePolicy:
    try:
        return DowngradePolicy(value)
    except ValueError:
        allowed = ", ".join(d.value for d in DowngradePolicy)
        raise ValidationError("policy.downgrade", value, f"must be one of {allowed}") from None


def _grace(_instance: object, _attribute: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_GRACE_DAYS:
        raise ValidationError(
            "policy.grace_days", value, f"must be a whole number of days in 0..{MAX_GRACE_DAYS}"
        )


@attrs.frozen(kw_only=True)
class TierPolicy:
    """The tier rules of a program: frozen data that round-trips through the codec.

    ``tiers`` are ordered from the base tier up; thresholds rise strictly
    along the tiers that set them; spend thresholds are in ``currency``.
    ``window`` chooses what counts, ``downgrade`` how far a review may drop,
    ``grace_days`` how long after a period end the review happens.
    """

    name: str = attrs.field(converter=_policy_name)
    currency: str = attrs.field(converter=_currency)
    tiers: tuple[Tier, ...] = attrs.field(converter=_tiers)
    window: QualificationWindow = attrs.field(
        default=QualificationWindow.CALENDAR_YEAR, converter=_window
    )
    downgrade: DowngradePolicy = attrs.field(default=DowngradePolicy.ONE_DOWN, converter=_downgrade)
    grace_days: int = attrs.field(default=0, validator=_grace)

    def __attrs_post_init__(self) -> None:
        if len(self.tiers) < 2:
            raise ValidationError("policy.tiers", self.tiers, "must hold a base tier and one more")
        names = [t.name for t in self.tiers]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ValidationError(f"policy.tiers[{i}].name", name, "is used twice")
        base = self.tiers[0]
        if base.min_points is not None or base.min_spend is not None:
            raise ValidationError(
                "policy.tiers[0]", base.name, "is the base tier and must set no threshold"
            )
        last_points = last_spend = None
        for i, tier in enumerate(self.tiers[1:], 1):
            where = f"policy.tiers[{i}]"
            if tier.min_points is None and tier.min_spend is None:
                raise ValidationError(where, tier.name, "must set min_points or min_spend")
            if tier.min_points is not None:
                if last_points is not None and tier.min_points <= last_points:
                    raise ValidationError(
                        f"{where}.min_points", tier.min_points, "must rise along the tiers"
                    )
                last_points = tier.min_points
            if tier.min_spend is not None:
                if tier.min_spend.currency != self.currency:
                    raise CurrencyMismatchError(self.currency, tier.min_spend.currency, "compare")
                if last_spend is not None and tier.min_spend <= last_spend:
                    raise ValidationError(
                        f"{where}.min_spend", tier.min_spend, "must rise along the tiers"
                    )
                last_spend = tier.min_spend

    # -- queries -------------------------------------------------------------------------------
    @property
    def base(self) -> Tier:
        """The tier every customer starts in."""
        return self.tiers[0]

    @property
    def names(self) -> tuple[str, ...]:
        """The tier names, base first."""
        return tuple(t.name for t in self.tiers)

    def index(self, tier: str) -> int:
        """The position of ``tier`` (0 is the base); raises NotFoundError for an unknown tier."""
        for i, t in enumerate(self.tiers):
            if t.name == tier:
                return i
        raise NotFoundError("tier", tier)

    def multiplier(self, tier: str) -> Decimal:
        """The earn multiplier of ``tier`` (pass it, or the tier name, to earning)."""
        return self.tiers[self.index(tier)].multiplier

    def multipliers(self) -> FrozenDict[str, Decimal]:
        """Earn multipliers keyed by tier name, as a program's tier multipliers expect."""
        return FrozenDict((t.name, t.multiplier) for t in self.tiers)

    # -- the rule, on scalars (the batch path has the same on arrays) ---------------------------
    def supported(self, points: int, spend: Money) -> str:
        """The highest tier whose points or spend threshold the totals reach."""
        if spend.currency != self.currency:
            raise CurrencyMismatchError(self.currency, spend.currency, "compare")
        return self.tiers[self._supported(points, spend.to_minor())].name

    def _supported(self, points: int, spend_minor: int) -> int:
        best = 0
        for i, (min_points, min_spend) in enumerate(self._thresholds()):
            if (min_points is not None and points >= min_points) or (
                min_spend is not None and spend_minor >= min_spend
            ):
                best = i
        return best

    def _thresholds(self) -> list[tuple[int | None, int | None]]:
        return [
            (t.min_points, None if t.min_spend is None else t.min_spend.to_minor())
            for t in self.tiers
        ]


# ---------------------------------------------------------------------------------------------
# Time arithmetic in integer microseconds (exact; the batch path mirrors it on arrays)
# ---------------------------------------------------------------------------------------------


def _micros(value: object, field: str) -> int:
    moment = to_utc(value, field)
    if moment.year > _LAST_YEAR:
        raise ValidationError(field, value, f"must be before the year {_LAST_YEAR + 1}")
    return to_micros(moment)


def _year_start(us: int) -> int:
    return _micros(datetime(from_micros(us).year, 1, 1, tzinfo=UTC), "at")


def _shift_years(us: int, years: int) -> int:
    return _micros(from_micros(us) + relativedelta(years=years), "at")


def _lower(window: QualificationWindow, us: int) -> int:
    """The exclusive lower bound of the live window ending at ``us`` (inclusive)."""
    if window is QualificationWindow.CALENDAR_YEAR:
        return _year_start(us) - 1
    return _shift_years(us, -1)


def _period_end(window: QualificationWindow, us: int) -> int:
    """The end of the period that starts (or runs) at ``us``."""
    if window is QualificationWindow.CALENDAR_YEAR:
        return _micros(datetime(from_micros(us).year + 1, 1, 1, tzinfo=UTC), "at")
    return _shift_years(us, 1)


def _closing(window: QualificationWindow, period_end: int) -> int:
    """The last instant of the period ending at ``period_end``: its window ends there."""
    return period_end - 1 if window is QualificationWindow.CALENDAR_YEAR else period_end


# ---------------------------------------------------------------------------------------------
# Facts
# ---------------------------------------------------------------------------------------------


def _fact_at(value: object) -> datetime:
    moment = to_utc(value, "fact.at")
    _micros(moment, "fact.at")
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

    Reads :meth:`crmcore.loyalty.ledger.LoyaltyAccount.qualifying_earns`
    (purchases net of their refunds, dated at the purchase), so a refund
    lowers the qualifying totals from then on; action awards such as
    referral rewards do not qualify. Any object with such a method works:
    this module does not import the ledger.
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
            t = _micros(fact.at, f"facts[{i}].at")
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
    from_tier: str = attrs.field(converter=_tier_name)
    to_tier: str = attrs.field(converter=_tier_name)
    reason: TierChangeReason = attrs.field(converter=_reason)
    points: int = attrs.field(validator=_int)
    spend: Money = attrs.field(validator=_money)


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
    of the last evaluation. Build a new one with :meth:`new`.
    """

    id: str = attrs.field(converter=_status_id)
    tier: str = attrs.field(converter=_tier_name)
    since: datetime | None = attrs.field(default=None, converter=_optional_time)
    period_end: datetime | None = attrs.field(default=None, converter=_optional_time)
    evaluated_at: datetime | None = attrs.field(default=None, converter=_optional_time)
    history: tuple[TierChange, ...] = attrs.field(default=(), converter=_changes)
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        previous: TierChange | None = None
        for i, change in enumerate(self.history):
            if previous is not None:
                if change.from_tier != previous.to_tier:
                    raise ValidationError(
                        f"history[{i}].from_tier", change.from_tier, f"must be {previous.to_tier}"
                    )
                if change.at < previous.at:
                    raise ValidationError(f"history[{i}].at", change.at, "must not go back")
            if change.from_tier == change.to_tier:
                raise ValidationError(f"history[{i}].to_tier", change.to_tier, "must differ")
            previous = change
        if previous is not None:
            if self.tier != previous.to_tier:
                raise ValidationError("tier", self.tier, f"must be {previous.to_tier}")
            if self.since != previous.at:
                raise ValidationError("since", self.since, "must be the time of the last change")
        elif self.since is not None:
            raise ValidationError("since", self.since, "must be None without a history")
        last = previous.at if previous is not None else None
        if last is not None and (self.evaluated_at is None or self.evaluated_at < last):
            raise ValidationError(
                "evaluated_at", self.evaluated_at, "must not be before the last change"
            )

    @classmethod
    def new(cls, id: str, policy: TierPolicy) -> TierStatus:
        """A customer in the policy's base tier, never evaluated."""
        return cls(id=id, tier=policy.base.name)

    # -- queries -------------------------------------------------------------------------------
    def tier_at(self, when: datetime) -> str:
        """The tier as of ``when``: where the last change at or before it ended."""
        instant = to_utc(when, "when")
        i = bisect.bisect_right(self.history, instant, key=_at_of)
        if i:
            return self.history[i - 1].to_tier
        return self.history[0].from_tier if self.history else self.tier

    def multiplier(self, policy: TierPolicy) -> Decimal:
        """The earn multiplier of the current tier under ``policy``."""
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
        end = _micros(as_of, "as_of")
        start = None if self.evaluated_at is None else _micros(self.evaluated_at, "evaluated_at")
        if start is not None and end < start:
            raise ValidationError(
                "as_of", as_of, f"must not be before the last evaluation ({self.evaluated_at})"
            )
        series = _Series.of(facts, policy, end)
        engine = _Engine(
            policy,
            series,
            index,
            None if self.since is None else _micros(self.since, "since"),
            None if self.period_end is None else _micros(self.period_end, "period_end"),
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
        facts = list(facts) if not isinstance(facts, str | bytes) else facts
        status = self.evaluate(facts, as_of, policy).value
        end = _micros(as_of, "as_of")
        series = _Series.of(facts, policy, end)
        index = policy.index(status.tier)
        live_points, live_spend = series.between(_lower(policy.window, end), end)
        nxt = policy.tiers[index + 1] if index + 1 < len(policy.tiers) else None
        keep_points = keep_spend = None
        period_points, period_spend = live_points, live_spend
        if status.period_end is not None:
            close = _closing(policy.window, _micros(status.period_end, "period_end"))
            period_points, period_spend = series.between(
                _lower(policy.window, close), min(close, end)
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


def _at_of(change: TierChange) -> datetime:
    return change.at


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
        self.grace = policy.grace_days * 86_400_000_000
        self.changes: list[TierChange] = []
        self.events: list[DomainEvent] = []

    def _window(self, high: int) -> tuple[int, int]:
        return self.series.between(_lower(self.policy.window, high), high)

    def _name(self, index: int) -> str:
        return self.policy.tiers[index].name

    def upgrade(self, t: int) -> None:
        points, spend = self._window(t)
        target = self.policy._supported(points, spend)
        if target <= self.tier:
            return
        self._record(t, target, TierChangeReason.QUALIFIED, points, spend)
        self.events.append(
            TierUpgraded(**self._event(t, target, points, spend))  # type: ignore[arg-type]
        )
        self.tier, self.since = target, t
        self.period_end = _period_end(self.policy.window, t)

    def reviews(self, limit: int, *, strict: bool) -> None:
        while self.period_end is not None:
            review = self.period_end + self.grace
            if review > limit or (strict and review == limit):
                return
            self._review(self.period_end, review)

    def _review(self, period_end: int, review: int) -> None:
        window = self.policy.window
        points, spend = self._window(_closing(window, period_end))
        by_period = self.policy._supported(points, spend)
        by_now = self.policy._supported(*self._window(review))
        if self.policy.downgrade is DowngradePolicy.BALANCE_BASED:
            target = by_period
        else:
            target = max(self.tier - 1, by_period)
        new = min(self.tier, max(target, by_now))
        if new == self.tier:
            nxt = _period_end(window, period_end)
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
        self.period_end = _period_end(window, review) if new > 0 else None

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


# ---------------------------------------------------------------------------------------------
# Batch: the same rules over flattened facts of many customers
# ---------------------------------------------------------------------------------------------


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
        self.grace = policy.grace_days * 86_400_000_000
        self.times = times
        self.cum_points = np.concatenate(([0], np.cumsum(points, dtype=np.int64)))
        self.cum_spend = np.concatenate(([0], np.cumsum(spend, dtype=np.int64)))
        customers = np.arange(n, dtype=np.int64)
        self.seg_start = np.searchsorted(codes, customers, side="left").astype(np.int64)
        self.seg_end = np.searchsorted(codes, customers, side="right").astype(np.int64)
        self.tier = np.zeros(n, dtype=np.int64)
        self.since = np.full(n, _NONE, dtype=np.int64)
        self.period_end = np.full(n, _NONE, dtype=np.int64)
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
            has = ends != _NONE
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
                new[drop] > 0, self.period_end_of(review[drop]), _NONE
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
    the events the per-customer :meth:`TierStatus.evaluate` would raise.
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
        """Assemble a result (:func:`evaluate_batch` does this)."""
        self.policy = policy
        self.as_of = as_of
        self.customer_ids = None if customer_ids is None else read_only(customer_ids)
        nat = np.datetime64("NaT", "us")
        self.tiers: Int64Array = read_only(engine.tier)
        self.since: AnyArray = read_only(
            np.where(engine.since == _NONE, nat, engine.since.astype("datetime64[us]"))
        )
        self.period_end: AnyArray = read_only(
            np.where(engine.period_end == _NONE, nat, engine.period_end.astype("datetime64[us]"))
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
            if self.customer_ids is None:
                raise ValidationError("row", row, "ids need customer_ids; pass a position")
            hits = np.flatnonzero(self.customer_ids == np.array(row, dtype=STRING_DTYPE))
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

    def _repr_html_(self) -> str:
        total = len(self)
        counts = self.counts()
        rows = [
            [name, self.policy.multiplier(name), n, n / total if total else None]
            for name, n in counts.items()
        ]
        return html_table(
            f"Tiers as of {self.as_of.isoformat()}",
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
    end = _micros(as_of, "as_of")
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
        n = customers
    else:
        ids = np.asarray(list(customers), dtype=STRING_DTYPE)
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
    """:func:`evaluate_batch` over a :class:`~crmcore.columnar.TransactionLog`.

    Each purchase's amount counts as qualifying spend (rounded half-even to
    the minor unit, as :meth:`Money.to_minor <crmcore.kernel.money.Money.to_minor>`
    does); ``points`` optionally gives qualifying points per row. Rows are
    the log's customers, in its ``customer_ids`` order. A row in another
    currency than the policy's raises :class:`~crmcore.kernel.errors.CurrencyMismatchError`.
    """
    if not isinstance(log, TransactionLog):
        raise ValidationError("log", log, "must be a TransactionLog")
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
