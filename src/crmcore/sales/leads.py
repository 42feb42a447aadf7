"""The lead aggregate: a possible sale, worked from first contact to conversion or disqualification.

A [`Lead`][crmcore.sales.leads.Lead] may be a person nobody knows yet (``customer_id`` is
``None``) or a known customer showing new interest. It records where it came from (``source``,
``channel``, ``campaign``), who owns it, its follow-up
[`Activity`][crmcore.sales.activities.Activity] s, and every status move in its ``history`` (the
rows of [`crmcore.sales.lead_machine`][crmcore.sales.lead_machine]), so the status as of any date
is known ([`state_at()`][crmcore.sales.leads.Lead.state_at]).

Operations return an [`Outcome`][crmcore.kernel.events.Outcome] with the new lead and its events
([`crmcore.sales.lead_events`][crmcore.sales.lead_events]); nothing changes on refusal. A move the
table does not allow raises [`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError]
naming the status, the target and the rule; bad facts raise
[`ValidationError`][crmcore.kernel.errors.ValidationError] naming the field. Conversion (the
status move plus the customer and opportunity it creates or links) is
[`convert_lead()`][crmcore.sales.lead_conversion.convert_lead]; merging duplicates is
[`merge_leads()`][crmcore.sales.duplicates.merge_leads].

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> from crmcore.customers.contact import Contact
    >>> t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    >>> lead = Lead.create("l-1", t, source="web_form", contact=Contact(email="ann@example.com"),
    ...                    owner="rep-7").value
    >>> lead = lead.log_activity("a-1", "call", t + timedelta(minutes=20), "connected").value
    >>> lead = lead.work(t + timedelta(minutes=21)).value
    >>> lead = lead.qualify(t + timedelta(days=2)).value
    >>> lead.status, lead.owner, lead.time_to_first_touch
    (<LeadStatus.QUALIFIED: 'qualified'>, 'rep-7', datetime.timedelta(seconds=1200))
    >>> lead.state_at(t + timedelta(days=1))
    <LeadStatus.WORKING: 'working'>
    >>> Lead.create("l-2", t, source="web_form").value.qualify(t)
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.IllegalTransitionError: cannot go from new to qualified on 'qualify': ...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from crmcore.customers.contact import Contact
from crmcore.customers.customer import AttributeValue
from crmcore.customers.profile import normalize_tags
from crmcore.kernel import machine, validators
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import IllegalTransitionError, NotFoundError, ValidationError
from crmcore.kernel.events import Outcome
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.ids import CustomerId, customer_id, validate_id
from crmcore.kernel.machine import parse_member
from crmcore.sales import _lead_fields as f
from crmcore.sales import lead_events as ev
from crmcore.sales.activities import Activity, ActivityKind, ActivityOutcome
from crmcore.sales.lead_history import LeadChange, MergedLead
from crmcore.sales.lead_machine import MACHINE, LeadGuardContext, LeadStatus, LeadTrigger

__all__ = ["Lead"]


@attrs.frozen(kw_only=True)
class Lead:
    """A lead: origin, contact, owner, status with its full history, activities and links.

    Build one with [`create()`][crmcore.sales.leads.Lead.create]. Invariants, re-checked on
    construction (also when decoded from storage): the history starts at ``new`` on or after
    ``created_at``, never goes back in time, each change starts where the previous ended and is
    a row of the table, ``status`` is where it ends; activity ids are unique and no activity
    starts before the lead; a converted lead names its customer and opportunity (and only a
    converted lead names an opportunity); a lead merged into another is disqualified.
    """

    id: str = attrs.field(converter=f.lead_id)
    created_at: datetime = attrs.field(converter=f.lead_created)
    source: str = attrs.field(converter=f.lead_source)
    channel: str | None = attrs.field(default=None, converter=f.lead_channel)
    campaign: str | None = attrs.field(default=None, converter=f.lead_campaign)
    name: str | None = attrs.field(default=None, converter=f.lead_name)
    company: str | None = attrs.field(default=None, converter=f.lead_company)
    contact: Contact = attrs.field(factory=Contact, converter=f.lead_contact)
    country: str | None = attrs.field(default=None, converter=f.lead_country)
    customer_id: CustomerId | None = attrs.field(default=None, converter=f.lead_customer)
    opportunity_id: str | None = attrs.field(default=None, converter=f.lead_opportunity)
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=normalize_tags)
    attributes: FrozenDict[str, AttributeValue] = attrs.field(
        factory=FrozenDict, converter=f.lead_attributes
    )
    notes: str = attrs.field(default="", converter=f.lead_notes)
    status: LeadStatus = attrs.field(default=LeadStatus.NEW, converter=f.lead_status)
    history: tuple[LeadChange, ...] = attrs.field(default=(), converter=f.lead_history)
    activities: tuple[Activity, ...] = attrs.field(default=(), converter=f.lead_activities)
    merged_into: str | None = attrs.field(default=None, converter=f.lead_merged_into)
    merged: tuple[MergedLead, ...] = attrs.field(default=(), converter=f.lead_merged)
    erased: bool = attrs.field(default=False, validator=validators.flag)
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        end = machine.check_history(
            self.history,
            LeadStatus.NEW,
            start=self.created_at,
            start_name="created_at",
            rule=f.check_row,
        )
        if self.status is not end:
            raise ValidationError("status", self.status, f"must be {end.value}, where history ends")
        seen: set[str] = set()
        for i, activity in enumerate(self.activities):
            if activity.id in seen:
                raise ValidationError(f"activities[{i}].id", activity.id, "is used twice")
            seen.add(activity.id)
            if activity.created_at < self.created_at:
                raise ValidationError(
                    f"activities[{i}].created_at", activity.created_at, "is before the lead"
                )
        converted = self.status is LeadStatus.CONVERTED
        if converted and (self.customer_id is None or self.opportunity_id is None):
            raise ValidationError(
                "opportunity_id", None, "a converted lead names its customer and opportunity"
            )
        if not converted and self.opportunity_id is not None:
            raise ValidationError(
                "opportunity_id", self.opportunity_id, "only a converted lead has an opportunity"
            )
        if self.merged_into is not None and (
            self.merged_into == self.id or self.status is not LeadStatus.DISQUALIFIED
        ):
            raise ValidationError(
                "merged_into",
                self.merged_into,
                "a merged lead is disqualified and merged into another lead",
            )

    # -- creation --------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        id: str,
        at: datetime,
        *,
        source: str,
        channel: str | None = None,
        campaign: str | None = None,
        name: str | None = None,
        company: str | None = None,
        contact: Contact | None = None,
        country: str | None = None,
        customer_id: str | None = None,
        owner: str | None = None,
        tags: Iterable[str] = (),
        attributes: Mapping[str, AttributeValue] | None = None,
        notes: str = "",
    ) -> Outcome[Lead]:
        """A new lead (status ``new``) created at ``at``; an owner, if given, is its first assign.

        Raises ``lead.created`` (and ``lead.assigned`` with an owner).
        """
        lead = cls(
            id=id,
            created_at=at,
            source=source,
            channel=channel,
            campaign=campaign,
            name=name,
            company=company,
            contact=Contact() if contact is None else contact,
            country=country,
            customer_id=customer_id,
            tags=tags,
            attributes={} if attributes is None else attributes,
            notes=notes,
        )
        created = ev.LeadCreated(
            aggregate_id=lead.id,
            occurred_at=lead.created_at,
            source=lead.source,
            channel=lead.channel,
            campaign=lead.campaign,
            customer_id=lead.customer_id,
            owner=None if owner is None else validate_id(owner, "owner"),
        )
        outcome: Outcome[Lead] = Outcome(lead, (created,))
        if owner is not None:
            return outcome.then(lambda new: new.assign(at, owner))
        return outcome

    # -- queries ---------------------------------------------------------------------------------
    @property
    def owner(self) -> str | None:
        """The current owner: the latest ``assign`` (``None``: unassigned)."""
        for change in reversed(self.history):
            if change.trigger is LeadTrigger.ASSIGN:
                return change.owner
        return None

    @property
    def is_open(self) -> bool:
        """Whether the lead is still worked (not disqualified, not converted)."""
        return self.status.is_open

    @property
    def is_reachable(self) -> bool:
        """Whether it has an e-mail address, a phone number or a known customer."""
        return (
            self.contact.email is not None
            or self.contact.phone is not None
            or self.customer_id is not None
        )

    @property
    def last_changed_at(self) -> datetime:
        """The time of the latest status change (``created_at`` if none)."""
        return self.history[-1].at if self.history else self.created_at

    def state_at(self, when: datetime) -> LeadStatus | None:
        """The status as of ``when`` (``None`` before the lead was created)."""
        instant = to_utc(when, "when")
        if instant < self.created_at:
            return None
        return machine.state_at(self.history, instant, LeadStatus.NEW)

    def entered_at(self, status: LeadStatus | str) -> datetime | None:
        """When the lead first entered ``status`` (``created_at`` for ``new``; ``None``: never)."""
        wanted = parse_member(LeadStatus, status, "status")
        if wanted is LeadStatus.NEW:
            return self.created_at
        return next(
            (c.at for c in self.history if c.to_state is wanted and c.from_state is not wanted),
            None,
        )

    @property
    def qualified_at(self) -> datetime | None:
        """When the lead was first qualified (``None``: never)."""
        return self.entered_at(LeadStatus.QUALIFIED)

    @property
    def converted_at(self) -> datetime | None:
        """When the lead was converted (``None``: not converted)."""
        return self.entered_at(LeadStatus.CONVERTED)

    @property
    def disqualify_reason(self) -> str | None:
        """The reason code of the current disqualification (``None`` unless disqualified)."""
        if self.status is not LeadStatus.DISQUALIFIED:
            return None
        return next(c.reason for c in reversed(self.history) if c.trigger is LeadTrigger.DISQUALIFY)

    def activity(self, activity_id: str) -> Activity:
        """The activity with this id; [`NotFoundError`][crmcore.kernel.errors.NotFoundError] if
        none."""
        validate_id(activity_id, "activity_id")
        for activity in self.activities:
            if activity.id == activity_id:
                return activity
        raise NotFoundError("activity", activity_id)

    @property
    def open_activities(self) -> tuple[Activity, ...]:
        """The activities still to do."""
        return tuple(a for a in self.activities if a.is_open)

    def overdue_activities(self, as_of: datetime) -> tuple[Activity, ...]:
        """The activities open at ``as_of`` whose due time had passed."""
        return tuple(a for a in self.activities if a.is_overdue(as_of))

    @property
    def touches(self) -> tuple[Activity, ...]:
        """The completed calls, e-mails and meetings, in completion order."""
        done = (a for a in self.activities if a.is_touch)
        return tuple(sorted(done, key=lambda a: (a.completed_at, a.id)))

    @property
    def first_touch_at(self) -> datetime | None:
        """When the lead was first touched (``None``: not yet)."""
        touches = self.touches
        return touches[0].completed_at if touches else None

    @property
    def time_to_first_touch(self) -> timedelta | None:
        """From creation to the first touch (``None``: not touched yet)."""
        first = self.first_touch_at
        return None if first is None else first - self.created_at

    # -- status moves ----------------------------------------------------------------------------
    def _alive(self, what: object) -> None:
        if self.erased:
            raise IllegalTransitionError(
                self.status,
                None,
                "the lead's personal data was erased; it accepts no changes",
                what,
            )

    def fire(
        self,
        trigger: LeadTrigger | str,
        at: datetime,
        *,
        reason: str | None = None,
        owner: str | None = None,
        note: str = "",
    ) -> Outcome[Lead]:
        """Apply ``trigger`` at ``at``: the generic form of the named moves.

        ``convert`` needs its customer and opportunity: use
        [`mark_converted()`][crmcore.sales.leads.Lead.mark_converted] (or
        [`convert_lead()`][crmcore.sales.lead_conversion.convert_lead]).

        Raises:
            IllegalTransitionError: the table has no such move from the current status, or its
                guard refuses (no reason to disqualify, an unreachable lead to qualify, a merged
                lead to reopen), or the lead was erased.
            ValidationError: a bad trigger, reason, owner or note, or ``at`` before the latest
                change.
        """
        chosen = parse_member(LeadTrigger, trigger, "trigger")
        if chosen is LeadTrigger.CONVERT:
            MACHINE.triggered(self.status, chosen)  # an illegal move is refused first
            raise ValidationError("trigger", chosen.value, "use mark_converted() to convert")
        return self._move(chosen, at, reason=reason, owner=owner, note=note)

    def _move(
        self,
        trigger: LeadTrigger,
        at: datetime,
        *,
        reason: str | None = None,
        owner: str | None = None,
        note: str = "",
        **links: Any,
    ) -> Outcome[Lead]:
        self._alive(trigger)
        instant = to_utc(at, "at")
        if instant < self.last_changed_at:
            raise ValidationError(
                "at", at, f"must not be before the lead's latest change ({self.last_changed_at})"
            )
        rows = MACHINE.triggered(self.status, trigger)
        change = LeadChange(
            at=instant,
            trigger=trigger,
            from_state=self.status,
            to_state=rows[0].target,
            reason=reason if trigger is LeadTrigger.DISQUALIFY else None,
            owner=owner if trigger is LeadTrigger.ASSIGN else None,
            note=note,
        )
        context = LeadGuardContext(
            self.status,
            trigger,
            change.reason,
            reachable=self.is_reachable,
            merged=self.merged_into is not None,
        )
        row = MACHINE.choose(rows, context)
        change = attrs.evolve(change, to_state=row.target)
        lead = attrs.evolve(self, status=row.target, history=(*self.history, change), **links)
        return Outcome(
            lead,
            ev.status_events(
                lead.id, change, previous_owner=self.owner, customer_id=lead.customer_id
            ),
        )

    def assign(self, at: datetime, owner: str | None) -> Outcome[Lead]:
        """Give the lead to ``owner`` (``None``: unassign); allowed while it is open."""
        return self._move(LeadTrigger.ASSIGN, at, owner=owner)

    def work(self, at: datetime, *, note: str = "") -> Outcome[Lead]:
        """Start (or resume) working the lead: new, nurturing or qualified → working."""
        return self._move(LeadTrigger.WORK, at, note=note)

    def nurture(self, at: datetime, *, note: str = "") -> Outcome[Lead]:
        """Not ready yet: new, working or qualified → nurturing."""
        return self._move(LeadTrigger.NURTURE, at, note=note)

    def qualify(self, at: datetime, *, note: str = "") -> Outcome[Lead]:
        """Sales-qualified: new, working or nurturing → qualified (only a reachable lead)."""
        return self._move(LeadTrigger.QUALIFY, at, note=note)

    def disqualify(self, at: datetime, reason: str, *, note: str = "") -> Outcome[Lead]:
        """Drop the lead for ``reason`` (a code such as ``"no_budget"``): open → disqualified."""
        return self._move(LeadTrigger.DISQUALIFY, at, reason=reason, note=note)

    def reopen(self, at: datetime, *, note: str = "") -> Outcome[Lead]:
        """Take a disqualified lead back: disqualified → working (not after a merge)."""
        return self._move(LeadTrigger.REOPEN, at, note=note)

    def mark_converted(
        self,
        at: datetime,
        *,
        customer_id: str,
        opportunity_id: str,
        new_customer: bool = False,
        note: str = "",
    ) -> Outcome[Lead]:
        """Qualified → converted, linking the customer and the opportunity it became.

        The status side of [`convert_lead()`][crmcore.sales.lead_conversion.convert_lead],
        which also builds the new customer. A lead already linked to a customer converts to that
        customer only.

        Raises:
            IllegalTransitionError: the lead is not qualified (``from_state`` names its status).
            ValidationError: a bad id, or a customer other than the one the lead is linked to.
        """
        MACHINE.triggered(self.status, LeadTrigger.CONVERT)
        validators.boolean(new_customer, "new_customer")
        who = self._linkable(customer_id)
        opportunity = validate_id(opportunity_id, "opportunity_id")
        outcome = self._move(
            LeadTrigger.CONVERT, at, note=note, customer_id=who, opportunity_id=opportunity
        )
        lead = outcome.value
        converted = ev.LeadConverted(
            aggregate_id=lead.id,
            occurred_at=lead.last_changed_at,
            customer_id=who,
            opportunity_id=opportunity,
            new_customer=new_customer,
            source=lead.source,
            owner=lead.owner,
        )
        return Outcome(lead, (*outcome.events, converted))

    def _linkable(self, value: object) -> CustomerId:
        who = customer_id(value)
        if self.customer_id is not None and self.customer_id != who:
            raise ValidationError(
                "customer_id", who, f"the lead is linked to customer {self.customer_id!r}"
            )
        return who

    # -- details ---------------------------------------------------------------------------------
    def link_customer(self, customer_id: str, at: datetime) -> Outcome[Lead]:
        """Record that the lead is the known customer ``customer_id`` (a no-op if already so)."""
        self._alive("link_customer")
        who = self._linkable(customer_id)
        instant = self._not_before_creation(at)
        if self.customer_id == who:
            return Outcome(self)
        linked = ev.LeadLinkedToCustomer(aggregate_id=self.id, occurred_at=instant, customer_id=who)
        return Outcome(attrs.evolve(self, customer_id=who), (linked,))

    def _not_before_creation(self, at: object) -> datetime:
        instant = to_utc(at, "at")
        if instant < self.created_at:
            raise ValidationError(
                "at", at, f"must not be before the lead's creation ({self.created_at})"
            )
        return instant

    def update_details(
        self,
        at: datetime,
        *,
        name: str | None = f.KEEP,
        company: str | None = f.KEEP,
        contact: Contact = f.KEEP,
        country: str | None = f.KEEP,
        tags: Iterable[str] = f.KEEP,
        attributes: Mapping[str, AttributeValue] = f.KEEP,
        notes: str = f.KEEP,
    ) -> Outcome[Lead]:
        """Change any of the given details; ``lead.details_changed`` names the fields that changed.

        Fields left out keep their values; nothing that did not change is reported.
        """
        self._alive("update_details")
        instant = self._not_before_creation(at)
        given: dict[str, Any] = {
            "name": name,
            "company": company,
            "contact": contact,
            "country": country,
            "tags": tags,
            "attributes": attributes,
            "notes": notes,
        }
        changes: dict[str, Any] = {k: v for k, v in given.items() if v is not f.KEEP}
        lead = attrs.evolve(self, **changes)
        fields = tuple(k for k in changes if getattr(lead, k) != getattr(self, k))
        if not fields:
            return Outcome(self)
        changed = ev.LeadDetailsChanged(aggregate_id=self.id, occurred_at=instant, fields=fields)
        return Outcome(lead, (changed,))

    # -- activities ------------------------------------------------------------------------------
    def _replace(self, activity: Activity) -> Lead:
        activities = tuple(activity if a.id == activity.id else a for a in self.activities)
        return attrs.evolve(self, activities=activities)

    def _add(self, activity: Activity) -> Lead:
        self._alive("schedule")
        if self.status is LeadStatus.CONVERTED or self.merged_into is not None:
            where = "converted" if self.merged_into is None else f"merged into {self.merged_into}"
            raise IllegalTransitionError(
                self.status, None, f"the lead is {where}: follow up on what it became", "schedule"
            )
        if any(a.id == activity.id for a in self.activities):
            raise ValidationError("activity.id", activity.id, "is already an activity of the lead")
        if activity.created_at < self.created_at:
            raise ValidationError(
                "at",
                activity.created_at,
                f"must not be before the lead's creation ({self.created_at})",
            )
        return attrs.evolve(self, activities=(*self.activities, activity))

    def schedule(
        self,
        activity_id: str,
        kind: ActivityKind | str,
        at: datetime,
        *,
        due_at: datetime | None = None,
        owner: str | None = None,
        subject: str = "",
    ) -> Outcome[Lead]:
        """Plan a follow-up (created at ``at``, due at ``due_at``); its owner defaults to the
        lead's."""
        activity = Activity(
            id=activity_id,
            kind=kind,
            created_at=at,
            due_at=due_at,
            owner=self.owner if owner is None else owner,
            subject=subject,
        )
        lead = self._add(activity)
        return Outcome(lead, (ev.activity_scheduled(lead.id, activity),))

    def log_activity(
        self,
        activity_id: str,
        kind: ActivityKind | str,
        at: datetime,
        outcome: ActivityOutcome | str,
        *,
        owner: str | None = None,
        subject: str = "",
        note: str = "",
    ) -> Outcome[Lead]:
        """Record a follow-up already done at ``at`` (a call just made) with its outcome."""
        activity = Activity(
            id=activity_id,
            kind=kind,
            created_at=at,
            owner=self.owner if owner is None else owner,
            subject=subject,
            completed_at=at,
            outcome=outcome,
            note=note,
        )
        lead = self._add(activity)
        first = lead.first_touch_at != self.first_touch_at
        done = ev.activity_completed(lead.id, activity, first_touch=first)
        return Outcome(lead, (ev.activity_scheduled(lead.id, activity), done))

    def complete_activity(
        self,
        activity_id: str,
        at: datetime,
        outcome: ActivityOutcome | str,
        *,
        note: str | None = None,
    ) -> Outcome[Lead]:
        """Complete an open activity at ``at`` with ``outcome``."""
        self._alive("complete")
        done = self.activity(activity_id).complete(at, outcome, note)
        lead = self._replace(done)
        first = lead.first_touch_at != self.first_touch_at
        return Outcome(lead, (ev.activity_completed(lead.id, done, first_touch=first),))

    def cancel_activity(
        self, activity_id: str, at: datetime, *, note: str | None = None
    ) -> Outcome[Lead]:
        """Cancel an open activity at ``at``."""
        self._alive("cancel")
        cancelled = self.activity(activity_id).cancel(at, note)
        event = ev.LeadActivityCancelled(
            aggregate_id=self.id,
            occurred_at=to_utc(at, "at"),
            activity_id=cancelled.id,
            activity_kind=cancelled.kind,
        )
        return Outcome(self._replace(cancelled), (event,))

    def reschedule_activity(
        self, activity_id: str, due_at: datetime, at: datetime
    ) -> Outcome[Lead]:
        """Give an open activity a new due time (decided at ``at``)."""
        self._alive("reschedule")
        before = self.activity(activity_id)
        moved = before.reschedule(due_at, at)
        event = ev.LeadActivityRescheduled(
            aggregate_id=self.id,
            occurred_at=to_utc(at, "at"),
            activity_id=moved.id,
            activity_kind=moved.kind,
            due_at=moved.due_at,
            previous_due_at=before.due_at,
        )
        return Outcome(self._replace(moved), (event,))

    # -- erasure ---------------------------------------------------------------------------------
    def redacted(self) -> Lead:
        """This lead without personal data, for an erasure request.

        Blanked: name, company, contact, country, tags, attributes, notes, the notes of status
        changes and the subjects and notes of activities. Kept: ids, source, channel, campaign,
        owner, statuses and their times, reason codes, activity kinds, times and outcomes, the
        customer and opportunity links, so the reports still count the lead.
        """
        return attrs.evolve(
            self,
            name=None,
            company=None,
            contact=Contact(),
            country=None,
            tags=frozenset(),
            attributes={},
            notes="",
            history=tuple(attrs.evolve(c, note="") for c in self.history),
            activities=tuple(a.redacted() for a in self.activities),
            erased=True,
        )

    def erase(self, at: datetime) -> Outcome[Lead]:
        """[`redacted()`][crmcore.sales.leads.Lead.redacted] with its ``lead.redacted`` event."""
        instant = to_utc(at, "at")
        return Outcome(
            self.redacted(), (ev.LeadRedacted(aggregate_id=self.id, occurred_at=instant),)
        )
