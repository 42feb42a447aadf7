"""Domain events of campaigns, coupons and customer care.

Campaign events (``marketing.campaign_*``) are raised by
[`Campaign`][crmcore.marketing.campaigns.Campaign]; their ``aggregate_id`` is the campaign id.
Coupon events (``marketing.coupon_*``) are raised by the operations of
[`crmcore.marketing.coupon_redemption`][crmcore.marketing.coupon_redemption]; their
``aggregate_id`` is the coupon code (issue, redeem, reverse, void) or the coupon definition (budget
exhausted), and each names the idempotency ``key`` of the operation that raised it. Care events
(``marketing.care_due``) come from
[`CareTrigger.to_event()`][crmcore.marketing.care.CareTrigger.to_event]; their ``aggregate_id`` is
the customer id.

Like every crmcore event they carry ids, codes, amounts and counts only, never personal data: a
birthday greeting says "occasion ``birthday`` on 2026-02-28", not the birth date.
"""

from __future__ import annotations

from datetime import date, datetime

import attrs

from crmcore.kernel.events import DomainEvent, event_type
from crmcore.kernel.money import Money

__all__ = [
    "CampaignBudgetExhausted",
    "CampaignCreated",
    "CampaignStatusChanged",
    "CampaignUsageRecorded",
    "CareOccasionDue",
    "CouponBudgetExhausted",
    "CouponIssued",
    "CouponRedeemed",
    "CouponRedemptionReversed",
    "CouponVoided",
]


@event_type("marketing.campaign_created")
@attrs.frozen(kw_only=True)
class CampaignCreated(DomainEvent):
    """A campaign was drafted: its channels, schedule and control-group share."""

    channels: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime | None
    control_share: str
    variants: tuple[str, ...]


@event_type("marketing.campaign_status_changed")
@attrs.frozen(kw_only=True)
class CampaignStatusChanged(DomainEvent):
    """A campaign moved from ``from_status`` to ``to_status`` on ``trigger``."""

    from_status: str
    to_status: str
    trigger: str


@event_type("marketing.campaign_usage_recorded")
@attrs.frozen(kw_only=True)
class CampaignUsageRecorded(DomainEvent):
    """Sends (and the points and coupons they gave) were charged to a campaign's budget.

    ``cost`` is what the sends cost (``None`` without a cost per send); the ``*_used`` fields are
    the campaign's totals after this usage.
    """

    messages: int
    points: int
    coupons: int
    cost: Money | None
    messages_used: int
    points_used: int
    coupons_used: int
    money_used: Money | None


@event_type("marketing.campaign_budget_exhausted")
@attrs.frozen(kw_only=True)
class CampaignBudgetExhausted(DomainEvent):
    """A campaign used up one of its budgets (``budget`` names which: money, messages, ...)."""

    budget: str


@event_type("marketing.coupon_issued")
@attrs.frozen(kw_only=True)
class CouponIssued(DomainEvent):
    """A coupon code was issued (``holder`` is ``None`` for a code anyone may use)."""

    definition_id: str
    code: str
    holder: str | None
    max_uses: int
    key: str


@event_type("marketing.coupon_redeemed")
@attrs.frozen(kw_only=True)
class CouponRedeemed(DomainEvent):
    """A coupon took ``discount`` off order ``order_id`` of ``customer_id``."""

    definition_id: str
    code: str
    customer_id: str
    order_id: str
    order_amount: Money
    discount: Money
    key: str


@event_type("marketing.coupon_redemption_reversed")
@attrs.frozen(kw_only=True)
class CouponRedemptionReversed(DomainEvent):
    """A redemption was rolled back (the order was cancelled): its use and budget are freed."""

    definition_id: str
    code: str
    customer_id: str
    order_id: str
    discount: Money
    reverses: str
    key: str


@event_type("marketing.coupon_voided")
@attrs.frozen(kw_only=True)
class CouponVoided(DomainEvent):
    """A coupon code was voided: it accepts no further redemption."""

    definition_id: str
    code: str
    key: str


@event_type("marketing.coupon_budget_exhausted")
@attrs.frozen(kw_only=True)
class CouponBudgetExhausted(DomainEvent):
    """A coupon definition reached its total usage limit or spent its discount budget."""

    budget: str


@event_type("marketing.care_due")
@attrs.frozen(kw_only=True)
class CareOccasionDue(DomainEvent):
    """A care occasion (birthday, anniversary, holiday) is due for a customer.

    ``occasion_date`` is the customer's local calendar date of the occasion, ``occurred_at`` the
    instant the greeting is due; ``holiday`` is the holiday's code for holiday care; ``years`` the
    age or anniversary reached (``None`` for holidays).
    """

    occasion: str
    occasion_date: date
    holiday: str | None
    years: int | None
