"""Campaigns: who is targeted, on which channels, when, within which budget, measured how.

A [`Campaign`][crmcore.marketing.campaigns.Campaign] is a versioned aggregate holding:

* a **target** segment (rule text, [`crmcore.marketing.targeting`][crmcore.marketing.targeting])
  and the **channels** it speaks on;
* a **schedule**, ``[starts_at, ends_at)``;
* a **split** ([`Split`][crmcore.marketing.experiments.Split]): a control (holdout) share and A/B
  variants, drawn deterministically by hash with the campaign id as salt;
* a **budget** ([`CampaignBudget`][crmcore.marketing.campaigns.CampaignBudget]) in money and/or
  counts of messages, points and coupons, a **cost per send**, and the **usage** charged so far;
* an **attribution** policy ([`Attribution`][crmcore.marketing.campaigns.Attribution]): first or
  last touch within a window, used by
  [`measure_campaign()`][crmcore.marketing.campaign_results.measure_campaign];
* a **status** on the state-machine kernel,
  [`CAMPAIGN_MACHINE`][crmcore.marketing.campaigns.CAMPAIGN_MACHINE]:

      draft --schedule--> scheduled --start (at or after starts_at)--> running
      running --pause--> paused --resume--> running
      running | paused --complete--> completed
      draft | scheduled | running | paused --cancel--> cancelled

Usage is charged only while running, and never beyond a budget:
[`Campaign.allowance()`][crmcore.marketing.campaigns.Campaign.allowance] says how many sends still
fit, and [`Campaign.record_usage()`][crmcore.marketing.campaigns.Campaign.record_usage] refuses
more with a [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the budget.

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> from crmcore.kernel.money import Money
    >>> t = datetime(2026, 6, 1, tzinfo=UTC)
    >>> campaign = Campaign.draft(
    ...     "summer-26", "Summer sale", channels=["email"], starts_at=t,
    ...     ends_at=t + timedelta(days=14), segment="total_spent >= 100",
    ...     split=Split(control_share="0.1"), budget=CampaignBudget(messages=5000),
    ...     cost_per_send=Money("0.02", "EUR"), at=t - timedelta(days=3)).value
    >>> campaign = campaign.schedule(t - timedelta(days=1)).value.start(t).value
    >>> campaign.status, campaign.allowance(6000)
    (<CampaignStatus.RUNNING: 'running'>, 5000)
    >>> campaign = campaign.record_usage(t, messages=1200).value
    >>> campaign.usage.messages, campaign.usage.money
    (1200, Money('24.00', 'EUR'))
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final, TypeAlias

import attrs

from crmcore.customers.records import MarketingChannel, parse_channel
from crmcore.kernel import machine, validators
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.ids import validate_id
from crmcore.kernel.money import Money
from crmcore.marketing.experiments import Split
from crmcore.marketing.offer_events import (
    CampaignBudgetExhausted,
    CampaignCreated,
    CampaignStatusChanged,
    CampaignUsageRecorded,
)
from crmcore.marketing.targeting import target_text

__all__ = [
    "CAMPAIGN_MACHINE",
    "Attribution",
    "AttributionModel",
    "Campaign",
    "CampaignBudget",
    "CampaignChange",
    "CampaignStatus",
    "CampaignTrigger",
    "CampaignUsage",
]

MAX_WINDOW: Final = timedelta(days=366)


class CampaignStatus(enum.StrEnum):
    """Where a campaign stands."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class CampaignTrigger(enum.StrEnum):
    """What moves a campaign from one status to another."""

    SCHEDULE = "schedule"
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    COMPLETE = "complete"
    CANCEL = "cancel"


class AttributionModel(enum.StrEnum):
    """Which touch within the window gets the credit for a conversion."""

    FIRST_TOUCH = "first_touch"
    LAST_TOUCH = "last_touch"


def _window(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, timedelta) or not timedelta(0) < value <= MAX_WINDOW:
        raise ValidationError(
            "attribution.window", value, "must be a timedelta of more than 0 and at most 366 days"
        )


def _model(value: object) -> AttributionModel:
    return validators.choice(value, "model", AttributionModel)


@attrs.frozen
class Attribution:
    """Credit a conversion to the first or last campaign touch within ``window`` before it.

    A touch at ``t`` credits a purchase at ``p`` when ``p - window <= t <= p``.
    """

    model: AttributionModel = attrs.field(default=AttributionModel.LAST_TOUCH, converter=_model)
    window: timedelta = attrs.field(default=timedelta(days=7), validator=_window)


def _optional_count(
    _instance: object, attribute: attrs.Attribute[int | None], value: object
) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(
            f"budget.{attribute.name}", value, "must be None or a non-negative whole number"
        )


def _optional_money(
    _instance: object, attribute: attrs.Attribute[Money | None], value: object
) -> None:
    if value is not None and (not isinstance(value, Money) or value.is_negative):
        raise ValidationError(f"budget.{attribute.name}", value, "must be None or Money >= 0")


@attrs.frozen(kw_only=True)
class CampaignBudget:
    """Caps on what a campaign may use; ``None`` leaves a dimension uncapped."""

    money: Money | None = attrs.field(default=None, validator=_optional_money)
    messages: int | None = attrs.field(default=None, validator=_optional_count)
    points: int | None = attrs.field(default=None, validator=_optional_count)
    coupons: int | None = attrs.field(default=None, validator=_optional_count)


def _count(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"usage.{attribute.name}", value, "must be a non-negative integer")


@attrs.frozen(kw_only=True)
class CampaignUsage:
    """What a campaign has used so far (``money`` is ``None`` without a cost per send)."""

    messages: int = attrs.field(default=0, validator=_count)
    points: int = attrs.field(default=0, validator=_count)
    coupons: int = attrs.field(default=0, validator=_count)
    money: Money | None = attrs.field(default=None)


@attrs.frozen
class CampaignChange:
    """One status change of a campaign: when, from where, to where, on which trigger."""

    at: datetime
    from_state: CampaignStatus
    to_state: CampaignStatus
    trigger: CampaignTrigger


@attrs.frozen
class _Move:
    """What the guards of the campaign machine see."""

    campaign: Campaign
    at: datetime


CampaignGuard: TypeAlias = machine.Guard[_Move]

S = CampaignStatus
T = CampaignTrigger

_STARTED = CampaignGuard(
    "started",
    "a campaign starts at or after its starts_at",
    lambda m: m.at >= m.campaign.starts_at,
    lambda m: f"it starts at {m.campaign.starts_at.isoformat()}, not {m.at.isoformat()}",
)
_NOT_OVER = CampaignGuard(
    "not_over",
    "a campaign is scheduled or resumed before its ends_at",
    lambda m: m.campaign.ends_at is None or m.at < m.campaign.ends_at,
    lambda m: f"it ended at {m.campaign.ends_at.isoformat() if m.campaign.ends_at else '-'}",
)

CAMPAIGN_MACHINE: Final = machine.Machine[
    CampaignStatus, CampaignTrigger, machine.Transition[CampaignStatus, CampaignTrigger], _Move
](
    "campaign",
    S,
    T,
    initial=S.DRAFT,
    final=[S.COMPLETED, S.CANCELLED],
    transitions=[
        machine.Transition(S.DRAFT, T.SCHEDULE, S.SCHEDULED, guard="not_over"),
        machine.Transition(S.SCHEDULED, T.START, S.RUNNING, guard="started"),
        machine.Transition(S.RUNNING, T.PAUSE, S.PAUSED),
        machine.Transition(S.PAUSED, T.RESUME, S.RUNNING, guard="not_over"),
        machine.Transition(S.RUNNING, T.COMPLETE, S.COMPLETED),
        machine.Transition(S.PAUSED, T.COMPLETE, S.COMPLETED),
        *(machine.Transition(s, T.CANCEL, S.CANCELLED) for s in (S.DRAFT, S.SCHEDULED)),
        *(machine.Transition(s, T.CANCEL, S.CANCELLED) for s in (S.RUNNING, S.PAUSED)),
    ],
    guards=[_STARTED, _NOT_OVER],
)
"""The campaign's status table on the kernel machine."""


def _id(value: object) -> str:
    return validate_id(value, "id")


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ValidationError("name", value, "must be 1-200 characters, not blank")
    return value.strip()


def _channels(value: object) -> tuple[MarketingChannel, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError("channels", value, "must be a sequence of channels")
    found: list[MarketingChannel] = []
    for i, item in enumerate(value):
        try:
            found.append(parse_channel(item))
        except ValidationError as error:
            raise ValidationError(f"channels[{i}]", item, error.reason) from None
    channels = tuple(dict.fromkeys(found))
    if not channels:
        raise ValidationError("channels", value, "must name at least one channel")
    return channels


def _time(value: object) -> datetime:
    return to_utc(value, "starts_at")


def _optional_end(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "ends_at")


def _segment(value: object) -> str | None:
    return target_text(value, "segment")


def _split(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, Split):
        raise ValidationError("split", value, "must be a Split")


def _attribution(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, Attribution):
        raise ValidationError("attribution", value, "must be an Attribution")


def _budget(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, CampaignBudget):
        raise ValidationError("budget", value, "must be a CampaignBudget")


def _cost(_instance: object, _attribute: object, value: Money | None) -> None:
    if value is not None and (not isinstance(value, Money) or value.is_negative):
        raise ValidationError("cost_per_send", value, "must be None or Money >= 0")


def _history(value: object) -> tuple[CampaignChange, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError("history", value, "must be a sequence of CampaignChange")
    return tuple(value)


def _status(value: object) -> CampaignStatus:
    return validators.choice(value, "status", CampaignStatus)


@attrs.frozen(kw_only=True)
class Campaign:
    """A marketing campaign (an aggregate): target, channels, schedule, split, budget, status.

    Build one with [`Campaign.draft()`][crmcore.marketing.campaigns.Campaign.draft]; each operation
    returns a new campaign and the events it raised.
    """

    id: str = attrs.field(converter=_id)
    name: str = attrs.field(converter=_name)
    channels: tuple[MarketingChannel, ...] = attrs.field(converter=_channels)
    starts_at: datetime = attrs.field(converter=_time)
    ends_at: datetime | None = attrs.field(default=None, converter=_optional_end)
    segment: str | None = attrs.field(default=None, converter=_segment)
    split: Split = attrs.field(factory=Split, validator=_split)
    attribution: Attribution = attrs.field(factory=Attribution, validator=_attribution)
    budget: CampaignBudget = attrs.field(factory=CampaignBudget, validator=_budget)
    cost_per_send: Money | None = attrs.field(default=None, validator=_cost)
    usage: CampaignUsage = attrs.field(factory=CampaignUsage)
    status: CampaignStatus = attrs.field(default=CampaignStatus.DRAFT, converter=_status)
    history: tuple[CampaignChange, ...] = attrs.field(default=(), converter=_history)
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValidationError("ends_at", self.ends_at, "must be after starts_at")
        money = self.budget.money
        cost = self.cost_per_send
        if money is not None and cost is not None and money.currency != cost.currency:
            raise ValidationError(
                "cost_per_send",
                self.cost_per_send,
                f"must be in the budget's currency {money.currency}",
            )
        if money is not None and self.cost_per_send is None:
            raise ValidationError("cost_per_send", None, "is needed for a money budget")
        if not isinstance(self.usage, CampaignUsage):
            raise ValidationError("usage", self.usage, "must be a CampaignUsage")
        state = CAMPAIGN_MACHINE.initial
        for i, change in enumerate(self.history):
            if not isinstance(change, CampaignChange) or change.from_state is not state:
                raise ValidationError(f"history[{i}]", change, f"must start from {state.value}")
            CAMPAIGN_MACHINE.reaching(change.from_state, change.to_state)
            state = change.to_state
        if state is not self.status:
            raise ValidationError("status", self.status, f"the history ends in {state.value}")

    @classmethod
    def draft(
        cls,
        id: str,
        name: str,
        *,
        channels: Iterable[MarketingChannel | str],
        starts_at: datetime,
        at: datetime,
        ends_at: datetime | None = None,
        segment: object = None,
        split: Split | None = None,
        attribution: Attribution | None = None,
        budget: CampaignBudget | None = None,
        cost_per_send: Money | None = None,
    ) -> Outcome[Campaign]:
        """A new campaign in ``draft``, and its ``marketing.campaign_created`` event at ``at``."""
        campaign = cls(
            id=id,
            name=name,
            channels=channels,
            starts_at=starts_at,
            ends_at=ends_at,
            segment=segment,
            split=Split() if split is None else split,
            attribution=Attribution() if attribution is None else attribution,
            budget=CampaignBudget() if budget is None else budget,
            cost_per_send=cost_per_send,
        )
        event = CampaignCreated(
            aggregate_id=campaign.id,
            occurred_at=to_utc(at, "at"),
            channels=tuple(c.value for c in campaign.channels),
            starts_at=campaign.starts_at,
            ends_at=campaign.ends_at,
            control_share=str(campaign.split.control_share),
            variants=tuple(v.name for v in campaign.split.variants),
        )
        return Outcome(campaign, (event,))

    # -- status -----------------------------------------------------------------------------------
    def _fire(self, trigger: CampaignTrigger, at: datetime) -> Outcome[Campaign]:
        when = to_utc(at, "at")
        if self.history and when < self.history[-1].at:
            raise ValidationError("at", when, "is before the campaign's latest change")
        row = CAMPAIGN_MACHINE.fire(self.status, trigger, _Move(self, when))
        change = CampaignChange(when, self.status, row.target, trigger)
        moved = attrs.evolve(self, status=row.target, history=(*self.history, change))
        event = CampaignStatusChanged(
            aggregate_id=self.id,
            occurred_at=when,
            from_status=self.status.value,
            to_status=row.target.value,
            trigger=trigger.value,
        )
        return Outcome(moved, (event,))

    def schedule(self, at: datetime) -> Outcome[Campaign]:
        """Draft to scheduled (before ``ends_at``)."""
        return self._fire(CampaignTrigger.SCHEDULE, at)

    def start(self, at: datetime) -> Outcome[Campaign]:
        """Scheduled to running, at or after ``starts_at``."""
        return self._fire(CampaignTrigger.START, at)

    def pause(self, at: datetime) -> Outcome[Campaign]:
        """Running to paused."""
        return self._fire(CampaignTrigger.PAUSE, at)

    def resume(self, at: datetime) -> Outcome[Campaign]:
        """Paused to running (before ``ends_at``)."""
        return self._fire(CampaignTrigger.RESUME, at)

    def complete(self, at: datetime) -> Outcome[Campaign]:
        """Running or paused to completed (final)."""
        return self._fire(CampaignTrigger.COMPLETE, at)

    def cancel(self, at: datetime) -> Outcome[Campaign]:
        """Any open status to cancelled (final)."""
        return self._fire(CampaignTrigger.CANCEL, at)

    # -- budget -----------------------------------------------------------------------------------
    def _remaining_sends(self) -> int | None:
        """Sends the message and money budgets still allow (``None``: uncapped)."""
        caps: list[int] = []
        if self.budget.messages is not None:
            caps.append(self.budget.messages - self.usage.messages)
        money, cost = self.budget.money, self.cost_per_send
        if money is not None and cost is not None and cost.amount > 0:
            spent = self.usage.money.amount if self.usage.money is not None else 0
            caps.append(int((money.amount - spent) // cost.amount))
        return max(0, min(caps)) if caps else None

    def allowance(self, messages: int) -> int:
        """How many of ``messages`` sends the budgets still allow (all of them when uncapped)."""
        _check_count("messages", messages)
        remaining = self._remaining_sends()
        return messages if remaining is None else min(messages, remaining)

    def record_usage(
        self, at: datetime, *, messages: int = 0, points: int = 0, coupons: int = 0
    ) -> Outcome[Campaign]:
        """Charge sends, points and coupons to the budget (only while running).

        Raises [`ValidationError`][crmcore.kernel.errors.ValidationError]: ``status`` when the
        campaign is not running, ``budget.<name>`` when a budget would be exceeded (nothing is
        charged then). A budget reached exactly raises ``marketing.campaign_budget_exhausted``.
        """
        when = to_utc(at, "at")
        for name, value in (("messages", messages), ("points", points), ("coupons", coupons)):
            _check_count(name, value)
        if self.status is not CampaignStatus.RUNNING:
            raise ValidationError("status", self.status.value, "usage is recorded while running")
        cost = None if self.cost_per_send is None else self.cost_per_send * messages
        previous = self.usage.money
        money = cost if previous is None else (previous if cost is None else previous + cost)
        usage = CampaignUsage(
            messages=self.usage.messages + messages,
            points=self.usage.points + points,
            coupons=self.usage.coupons + coupons,
            money=money,
        )
        exhausted = self._check_budget(usage)
        events: list[DomainEvent] = [
            CampaignUsageRecorded(
                aggregate_id=self.id,
                occurred_at=when,
                messages=messages,
                points=points,
                coupons=coupons,
                cost=cost,
                messages_used=usage.messages,
                points_used=usage.points,
                coupons_used=usage.coupons,
                money_used=usage.money,
            )
        ]
        events.extend(
            CampaignBudgetExhausted(aggregate_id=self.id, occurred_at=when, budget=name)
            for name in exhausted
        )
        return Outcome(attrs.evolve(self, usage=usage), events)

    def _check_budget(self, usage: CampaignUsage) -> list[str]:
        """The budgets ``usage`` reaches exactly; ValidationError for one it exceeds."""
        exhausted: list[str] = []
        limits: list[tuple[str, int | Money | None, int | Money | None, int | Money | None]] = [
            ("messages", self.budget.messages, usage.messages, self.usage.messages),
            ("points", self.budget.points, usage.points, self.usage.points),
            ("coupons", self.budget.coupons, usage.coupons, self.usage.coupons),
            ("money", self.budget.money, usage.money, self.usage.money),
        ]
        for name, cap, used, before in limits:
            if cap is None or used is None:
                continue
            if used > cap:
                raise ValidationError(
                    f"budget.{name}", used, f"would exceed the campaign's budget of {cap}"
                )
            if used == cap and before != cap:
                exhausted.append(name)
        return exhausted


def _check_count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(name, value, "must be a non-negative whole number")
