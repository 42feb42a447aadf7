"""Domain events of loyalty tiers and referrals.

Tier events (``loyalty.tier_*``) are raised by
:meth:`crmcore.loyalty.tiers.TierStatus.evaluate`; their ``aggregate_id`` is
the customer (or account) id. Referral events (``loyalty.referral_*``) are
raised by :class:`crmcore.loyalty.referrals.ReferralCode` and
:class:`~crmcore.loyalty.referrals.ReferralClaim`; their ``aggregate_id`` is
the code (issued) or the claim's id (claimed, rewarded), and ``program_id``
names the referral program. Events carry ids, tier names,
codes and numbers only, never personal data.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from crmcore.kernel.events import DomainEvent, event_type
from crmcore.kernel.money import Money

__all__ = [
    "ReferralClaimed",
    "ReferralCodeIssued",
    "ReferralRewarded",
    "TierDowngraded",
    "TierEvent",
    "TierRetained",
    "TierUpgraded",
]


@attrs.frozen(kw_only=True)
class TierEvent(DomainEvent):
    """Base of the tier events: the move and the qualification that justified it.

    ``points`` and ``spend`` are the qualifying totals of the window the
    decision looked at (spend in the policy's currency, rounded to its minor
    unit); ``policy`` names the :class:`~crmcore.loyalty.tiers.TierPolicy`.
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
