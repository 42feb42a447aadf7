"""Domain events of leads: creation, status moves, owners, activities, conversion, merges.

``aggregate_id`` is always the lead id. Every status move raises one
[`LeadStatusChanged`][crmcore.sales.lead_events.LeadStatusChanged] (the event the funnel consumes,
through [`LeadStageMap`][crmcore.sales.lead_stages.LeadStageMap]); conversion raises it and then
[`LeadConverted`][crmcore.sales.lead_events.LeadConverted]. Like every crmcore event they carry
ids, codes and times only: no name, no e-mail address, no phone number, no note, no activity
subject, so an outbox keeps nothing an erasure would have to reach.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import DomainEvent, event_type
from crmcore.kernel.validators import boolean, instance_of
from crmcore.sales.activities import Activity, ActivityKind, ActivityOutcome
from crmcore.sales.lead_history import LeadChange
from crmcore.sales.lead_machine import LeadStatus, LeadTrigger

__all__ = [
    "activity_completed",
    "activity_scheduled",
    "status_events",
    "LeadActivityCancelled",
    "LeadActivityCompleted",
    "LeadActivityRescheduled",
    "LeadActivityScheduled",
    "LeadAssigned",
    "LeadConverted",
    "LeadCreated",
    "LeadDetailsChanged",
    "LeadLinkedToCustomer",
    "LeadRedacted",
    "LeadStatusChanged",
    "LeadsMerged",
]


@event_type("lead.created")
@attrs.frozen(kw_only=True)
class LeadCreated(DomainEvent):
    """A lead was created (status ``new``): where it came from, and whom it is known to be."""

    source: str
    channel: str | None = None
    campaign: str | None = None
    customer_id: str | None = None
    owner: str | None = None


@event_type("lead.status_changed")
@attrs.frozen(kw_only=True)
class LeadStatusChanged(DomainEvent):
    """The lead's status moved (``reason``: the disqualification reason code, if any).

    ``customer_id`` is the known customer behind the lead, if any: the funnel position to move.
    """

    from_state: LeadStatus
    to_state: LeadStatus
    trigger: LeadTrigger
    reason: str | None = None
    customer_id: str | None = None


@event_type("lead.assigned")
@attrs.frozen(kw_only=True)
class LeadAssigned(DomainEvent):
    """The lead has a new owner (``None``: unassigned); ``previous`` is the owner before."""

    owner: str | None
    previous: str | None = None


@event_type("lead.details_changed")
@attrs.frozen(kw_only=True)
class LeadDetailsChanged(DomainEvent):
    """Some of the lead's details changed: the names of the fields, not their values."""

    fields: tuple[str, ...]


@event_type("lead.linked_to_customer")
@attrs.frozen(kw_only=True)
class LeadLinkedToCustomer(DomainEvent):
    """The lead was recognised as a known customer."""

    customer_id: str


@event_type("lead.converted")
@attrs.frozen(kw_only=True)
class LeadConverted(DomainEvent):
    """A qualified lead was converted: its customer (``new_customer``: created for it) and
    opportunity."""

    customer_id: str
    opportunity_id: str
    new_customer: bool
    source: str
    owner: str | None = None


@event_type("lead.activity_scheduled")
@attrs.frozen(kw_only=True)
class LeadActivityScheduled(DomainEvent):
    """An activity was added to the lead (already completed when it was logged after the fact)."""

    activity_id: str
    activity_kind: ActivityKind
    due_at: datetime | None = None
    owner: str | None = None


@event_type("lead.activity_completed")
@attrs.frozen(kw_only=True)
class LeadActivityCompleted(DomainEvent):
    """An activity was completed with ``outcome``; ``late`` if after its due time.

    ``first_touch`` is true for the lead's first touch (a completed call, e-mail or meeting).
    """

    activity_id: str
    activity_kind: ActivityKind
    outcome: ActivityOutcome
    late: bool = False
    first_touch: bool = False


@event_type("lead.activity_cancelled")
@attrs.frozen(kw_only=True)
class LeadActivityCancelled(DomainEvent):
    """An open activity was cancelled."""

    activity_id: str
    activity_kind: ActivityKind


@event_type("lead.activity_rescheduled")
@attrs.frozen(kw_only=True)
class LeadActivityRescheduled(DomainEvent):
    """An open activity got a new due time."""

    activity_id: str
    activity_kind: ActivityKind
    due_at: datetime | None
    previous_due_at: datetime | None = None


@event_type("lead.merged")
@attrs.frozen(kw_only=True)
class LeadsMerged(DomainEvent):
    """``absorbed_id`` was merged into this lead (the survivor); both histories are kept."""

    absorbed_id: str
    keys: tuple[str, ...] = ()


@event_type("lead.redacted")
@attrs.frozen(kw_only=True)
class LeadRedacted(DomainEvent):
    """The lead's personal data was erased; statuses and times remain for the reports."""


def activity_scheduled(lead_id: str, activity: Activity) -> LeadActivityScheduled:
    """The ``lead.activity_scheduled`` event of ``activity`` added to lead ``lead_id``."""
    instance_of(activity, Activity, "activity")
    return LeadActivityScheduled(
        aggregate_id=lead_id,
        occurred_at=activity.created_at,
        activity_id=activity.id,
        activity_kind=activity.kind,
        due_at=activity.due_at,
        owner=activity.owner,
    )


def activity_completed(
    lead_id: str, activity: Activity, *, first_touch: bool
) -> LeadActivityCompleted:
    """The ``lead.activity_completed`` event of a completed ``activity`` of lead ``lead_id``."""
    instance_of(activity, Activity, "activity")
    first_touch = boolean(first_touch, "first_touch")
    if activity.completed_at is None or activity.outcome is None:
        raise ValidationError("activity", activity.id, "is not completed")
    return LeadActivityCompleted(
        aggregate_id=lead_id,
        occurred_at=activity.completed_at,
        activity_id=activity.id,
        activity_kind=activity.kind,
        outcome=activity.outcome,
        late=activity.completed_late,
        first_touch=activity.is_touch and first_touch,
    )


def status_events(
    lead_id: str, change: LeadChange, *, previous_owner: str | None, customer_id: str | None
) -> tuple[DomainEvent, ...]:
    """The event of a status ``change`` of lead ``lead_id``: assigned, or status changed."""
    instance_of(change, LeadChange, "change")
    if change.trigger is LeadTrigger.ASSIGN:
        assigned = LeadAssigned(
            aggregate_id=lead_id, occurred_at=change.at, owner=change.owner, previous=previous_owner
        )
        return (assigned,)
    moved = LeadStatusChanged(
        aggregate_id=lead_id,
        occurred_at=change.at,
        from_state=change.from_state,
        to_state=change.to_state,
        trigger=change.trigger,
        reason=change.reason,
        customer_id=customer_id,
    )
    return (moved,)
