"""Events raised by the points ledger: one per posted entry.

Every ledger entry raises exactly one event naming the account
(``aggregate_id``), the customer, the entry's idempotency key, its signed
``points`` and the spendable ``balance`` right after it. They carry ids,
codes and numbers only (an adjustment's free-text reason stays in the
ledger, not in the event), so the outbox holds no personal data.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from crmcore.events import DomainEvent, event_type
from crmcore.money import Money

__all__ = [
    "LoyaltyEvent",
    "PointsAdjusted",
    "PointsAwarded",
    "PointsEarned",
    "PointsExpired",
    "PointsRedeemed",
    "PointsReversed",
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
