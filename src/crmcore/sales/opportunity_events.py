"""Domain events of opportunities: opened, stage moves (won, lost, reopened), revisions.

Each operation of an [`Opportunity`][crmcore.sales.opportunities.Opportunity] raises one event;
``aggregate_id`` is the opportunity id. Stage moves share
[`OpportunityStageEvent`][crmcore.sales.opportunity_events.OpportunityStageEvent] (from, to, kind of
move, the amount then): a plain move raises ``opportunity.stage_changed``, closing raises
``opportunity.won`` or ``opportunity.lost`` (with the reason code), reopening
``opportunity.reopened``. Events carry ids, codes, dates and amounts only: never the opportunity's
name or notes.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs

from crmcore.kernel.events import DomainEvent, event_type
from crmcore.kernel.money import Money
from crmcore.sales.pipeline_machine import PipelineMove

__all__ = [
    "OpportunityAmountChanged",
    "OpportunityCloseDateChanged",
    "OpportunityLost",
    "OpportunityOpened",
    "OpportunityProbabilitySet",
    "OpportunityReassigned",
    "OpportunityReopened",
    "OpportunityStageChanged",
    "OpportunityStageEvent",
    "OpportunityWon",
]


@event_type("opportunity.opened")
@attrs.frozen(kw_only=True)
class OpportunityOpened(DomainEvent):
    """An opportunity was opened in ``stage`` of ``pipeline_id``."""

    pipeline_id: str
    stage: str
    owner: str
    amount: Money
    close_date: date
    account_id: str | None = None
    customer_id: str | None = None
    source: str | None = None
    lead_id: str | None = None


@attrs.frozen(kw_only=True)
class OpportunityStageEvent(DomainEvent):
    """Base of the stage events: the move, and the amount and close date at the time."""

    pipeline_id: str
    from_stage: str
    to_stage: str
    move: PipelineMove
    amount: Money
    close_date: date


@event_type("opportunity.stage_changed")
@attrs.frozen(kw_only=True)
class OpportunityStageChanged(OpportunityStageEvent):
    """The opportunity moved between open stages (forward or back)."""


@event_type("opportunity.won")
@attrs.frozen(kw_only=True)
class OpportunityWon(OpportunityStageEvent):
    """The opportunity was won; ``reason`` is the win reason code, if any."""

    reason: str | None = None
    days_open: int = 0


@event_type("opportunity.lost")
@attrs.frozen(kw_only=True)
class OpportunityLost(OpportunityStageEvent):
    """The opportunity was lost; ``reason`` is the loss reason code."""

    reason: str | None = None
    days_open: int = 0


@event_type("opportunity.reopened")
@attrs.frozen(kw_only=True)
class OpportunityReopened(OpportunityStageEvent):
    """A won or lost opportunity went back into an open stage."""


@event_type("opportunity.amount_changed")
@attrs.frozen(kw_only=True)
class OpportunityAmountChanged(DomainEvent):
    """The amount was revised (by hand or from new line items)."""

    old: Money
    new: Money
    from_line_items: bool = False


@event_type("opportunity.close_date_changed")
@attrs.frozen(kw_only=True)
class OpportunityCloseDateChanged(DomainEvent):
    """The expected close date moved; ``slipped`` when it moved later."""

    old: date
    new: date
    slipped: bool


@event_type("opportunity.reassigned")
@attrs.frozen(kw_only=True)
class OpportunityReassigned(DomainEvent):
    """The owner changed."""

    old_owner: str
    new_owner: str


@event_type("opportunity.probability_set")
@attrs.frozen(kw_only=True)
class OpportunityProbabilitySet(DomainEvent):
    """The win probability was overridden (``None``: back to the stage's default)."""

    probability: Decimal | None
