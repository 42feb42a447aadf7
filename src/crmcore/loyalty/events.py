"""Domain events of loyalty: the points ledger, tiers and referrals.

Every ledger entry raises exactly one event naming the account
(``aggregate_id``), the customer, the entry's idempotency key, its signed
``points`` and the spendable ``balance`` right after it. They carry ids,
codes and numbers only (an adjustment's free-text reason stays in the
ledger, not in the event), so the outbox holds no personal data.

The ledger builds its events (and its entries and lots) with
[`trusted_setters()`][crmcore.loyalty.events.trusted_setters]: the same classes and values, without
re-running the validators on data it has already validated. Constructing an event directly still
validates.

Tier events (``loyalty.tier_*``) are raised by
[`crmcore.loyalty.tiers.TierStatus.evaluate()`][crmcore.loyalty.tiers.TierStatus.evaluate]; their
``aggregate_id`` is the customer (or account) id. Referral events (``loyalty.referral_*``) are
raised by [`crmcore.loyalty.referrals.ReferralCode`][crmcore.loyalty.referrals.ReferralCode] and
[`ReferralClaim`][crmcore.loyalty.referrals.ReferralClaim]; their ``aggregate_id`` is the code
(issued) or the claim's id (claimed, rewarded), and ``program_id`` names the referral program. Like
the ledger's, they carry ids, tier names, codes and numbers only, never personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import attrs

from crmcore.kernel.events import DomainEvent, Outcome, event_type
from crmcore.kernel.money import Money

__all__ = [
    "LoyaltyEvent",
    "PointsAdjusted",
    "PointsAwarded",
    "PointsEarned",
    "PointsExpired",
    "PointsRedeemed",
    "PointsReversed",
    "ReferralClaimed",
    "ReferralCodeIssued",
    "ReferralRewarded",
    "TierDowngraded",
    "TierEvent",
    "TierRetained",
    "TierUpgraded",
]


@attrs.frozen(kw_only=True)
class LoyaltyEvent(DomainEvent):
    """Base of the ledger events.

    ``entry_key`` is the entry's idempotency key, ``points`` its signed effect
    on the balance and ``balance`` the spendable balance just after it.
    """

    customer_id: str
    entry_key: str
    points: int
    balance: int


@event_type("loyalty.points_earned")
@attrs.frozen(kw_only=True)
class PointsEarned(LoyaltyEvent):
    """A purchase earned points (pending until ``pending_until`` when set)."""

    order_id: str
    pending_until: datetime | None
    expires_at: datetime | None


@event_type("loyalty.points_awarded")
@attrs.frozen(kw_only=True)
class PointsAwarded(LoyaltyEvent):
    """An action (sign-up, review, referral, birthday...) awarded points."""

    action: str
    expires_at: datetime | None


@event_type("loyalty.points_redeemed")
@attrs.frozen(kw_only=True)
class PointsRedeemed(LoyaltyEvent):
    """Points were redeemed for ``value`` (``points`` is negative)."""

    value: Money


@event_type("loyalty.points_expired")
@attrs.frozen(kw_only=True)
class PointsExpired(LoyaltyEvent):
    """Points expired (``points`` is negative); ``lots`` counts the lots they came from."""

    lots: int


@event_type("loyalty.points_reversed")
@attrs.frozen(kw_only=True)
class PointsReversed(LoyaltyEvent):
    """An earlier entry was (partly) reversed: a refund clawback or a cancelled redemption.

    ``reverses`` is the key of the reversed entry; ``shortfall`` the points
    that could not be clawed back (already spent, policy ``within_balance``).
    """

    reverses: str
    order_id: str | None
    shortfall: int


@event_type("loyalty.points_adjusted")
@attrs.frozen(kw_only=True)
class PointsAdjusted(LoyaltyEvent):
    """A manual correction by ``points`` (signed)."""


Setter = Callable[[object, Any], None]
T = TypeVar("T")


def trusted_setters(cls: type, *names: str) -> tuple[Setter, ...]:
    """The slot setters of an attrs slotted class's fields ``names``, in that order (internal).

    ``names`` must be exactly the class's fields (so a field added or renamed
    fails at import, never silently). ``object.__new__(cls)`` followed by one
    setter per field builds the same value as ``cls(...)`` minus converters
    and validators, so it is only for values that are already valid (what
    the ledger derives from validated inputs). The tests compare such values
    with publicly constructed ones.
    """
    fields = {field.name for field in attrs.fields(cls)}
    if set(names) != fields or len(names) != len(fields):
        raise TypeError(f"{cls.__name__} fields are {sorted(fields)}, not {sorted(names)}")
    out: list[Setter] = []
    for name in names:
        slot = next(k.__dict__[name] for k in cls.__mro__ if name in k.__dict__)
        out.append(slot.__set__)
    return tuple(out)


_LOYALTY_FIELDS = ("aggregate_id", "occurred_at", "customer_id", "entry_key", "points", "balance")
_new = object.__new__
(
    _aggregate_id,
    _occurred_at,
    _customer_id,
    _entry_key,
    _points,
    _balance,
    _order_id,
    _pending_until,
    _expires_at,
) = trusted_setters(PointsEarned, *_LOYALTY_FIELDS, "order_id", "pending_until", "expires_at")
_redeemed_value = trusted_setters(PointsRedeemed, *_LOYALTY_FIELDS, "value")[-1]
_outcome_value, _outcome_events = trusted_setters(Outcome, "value", "events")


def points_earned(
    aggregate_id: str,
    occurred_at: datetime,
    customer_id: str,
    entry_key: str,
    points: int,
    balance: int,
    order_id: str,
    pending_until: datetime | None,
    expires_at: datetime | None,
) -> PointsEarned:
    """[`PointsEarned`][crmcore.loyalty.events.PointsEarned] from already-valid values
    (``occurred_at`` aware; internal)."""
    event: PointsEarned = _new(PointsEarned)
    _aggregate_id(event, aggregate_id)
    _occurred_at(event, occurred_at)
    _customer_id(event, customer_id)
    _entry_key(event, entry_key)
    _points(event, points)
    _balance(event, balance)
    _order_id(event, order_id)
    _pending_until(event, pending_until)
    _expires_at(event, expires_at)
    return event


def points_redeemed(
    aggregate_id: str,
    occurred_at: datetime,
    customer_id: str,
    entry_key: str,
    points: int,
    balance: int,
    value: Money,
) -> PointsRedeemed:
    """[`PointsRedeemed`][crmcore.loyalty.events.PointsRedeemed] from already-valid values
    (``occurred_at`` aware; internal)."""
    event: PointsRedeemed = _new(PointsRedeemed)
    _aggregate_id(event, aggregate_id)
    _occurred_at(event, occurred_at)
    _customer_id(event, customer_id)
    _entry_key(event, entry_key)
    _points(event, points)
    _balance(event, balance)
    _redeemed_value(event, value)
    return event


def outcome(value: T, events: tuple[DomainEvent, ...]) -> Outcome[T]:
    """``Outcome(value, events)`` for an ``events`` tuple (the converter is a no-op; internal)."""
    result: Outcome[T] = _new(Outcome)
    _outcome_value(result, value)
    _outcome_events(result, events)
    return result


# -- tiers and referrals ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TierEvent(DomainEvent):
    """Base of the tier events: the move and the qualification that justified it.

    ``points`` and ``spend`` are the qualifying totals of the window the
    decision looked at (spend in the policy's currency, rounded to its minor
    unit); ``policy`` names the [`TierPolicy`][crmcore.loyalty.tiers.TierPolicy].
    """

    from_tier: str
    to_tier: str
    points: int
    spend: Money
    policy: str


@event_type("loyalty.tier_upgraded")
@attrs.frozen(kw_only=True)
class TierUpgraded(TierEvent):
    """The customer reached a higher tier's threshold and moved up at once."""


@event_type("loyalty.tier_downgraded")
@attrs.frozen(kw_only=True)
class TierDowngraded(TierEvent):
    """At a period's review (period end plus grace) the qualification did not support the tier.

    ``period_end`` is the end of the qualification period that was judged.
    """

    period_end: datetime


@event_type("loyalty.tier_retained")
@attrs.frozen(kw_only=True)
class TierRetained(TierEvent):
    """At a period's review the customer kept the tier (``from_tier == to_tier``).

    ``period_end`` is the end of the period judged; ``next_period_end`` the
    end of the new period that the tier now runs to.
    """

    period_end: datetime
    next_period_end: datetime


@event_type("loyalty.referral_code_issued")
@attrs.frozen(kw_only=True)
class ReferralCodeIssued(DomainEvent):
    """A referral code was issued to a referrer (an advocate)."""

    program_id: str
    code: str
    referrer: str
    starts_at: datetime
    expires_at: datetime | None
    usage_limit: int


@event_type("loyalty.referral_claimed")
@attrs.frozen(kw_only=True)
class ReferralClaimed(DomainEvent):
    """A referee (a friend) claimed a referrer's code; rewards wait for a qualifying purchase."""

    program_id: str
    code: str
    referrer: str
    referee: str


@event_type("loyalty.referral_rewarded")
@attrs.frozen(kw_only=True)
class ReferralRewarded(DomainEvent):
    """The referee made a qualifying purchase: both sides are rewarded, once.

    The keys are the idempotency keys under which the caller posts the
    points to each side's ledger (``award(..., key=...)``).
    """

    program_id: str
    code: str
    referrer: str
    referee: str
    order_id: str
    referrer_points: int
    referee_points: int
    referrer_key: str
    referee_key: str
