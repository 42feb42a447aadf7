"""Lead use cases: capture leads with a duplicate check, work them, merge them, convert them.

Each function is one unit of work over a [`Store`][crmcore.ports.Store]: it loads what it needs
through the repositories of [`crmcore.sales_ports`][crmcore.sales_ports], applies the domain
([`crmcore.sales`][crmcore.sales]), saves, and queues the events in the same transaction, so it
completes entirely or changes nothing. It returns an [`Outcome`][crmcore.kernel.events.Outcome]:
what was stored (at its new version) and the events written to the outbox with it.

* **Duplicates are found, never merged silently.**
  [`capture_lead()`][crmcore.services.sales.capture_lead] stores a lead and reports the open
  leads and the customers sharing its normalised e-mail address or phone number (or refuses it
  with ``on_duplicate="refuse"``); [`merge_leads()`][crmcore.services.sales.merge_leads] merges
  two when asked.
* **Conversion is one unit of work.**
  [`convert_lead()`][crmcore.services.sales.convert_lead] marks the qualified lead converted,
  registers its new [`Customer`][crmcore.customers.customer.Customer] (or links an existing one)
  and opens its [`Opportunity`][crmcore.sales.opportunities.Opportunity] in the stored pipeline:
  all three are stored, or none.
* **Replays are harmless** where a caller may resend: a conversion or an activity already stored
  returns what is stored and writes nothing.
* **Concurrency.** Every function reloads what it changes, so it redoes its unit of work after a
  concurrent change or a transient database failure with the ``retry`` policy
  ([`DEFAULT_RETRY`][crmcore.services.retry.DEFAULT_RETRY]; ``retry=None`` raises at once). A
  function taking a ``change`` runs it again on the reloaded aggregate, so it must have no side
  effects.

Opportunities and pipelines are in
[`crmcore.services.opportunities`][crmcore.services.opportunities], accounts and the relationship
graph in [`crmcore.services.sales_accounts`][crmcore.services.sales_accounts].

Examples:
    >>> from datetime import UTC, date, datetime, timedelta
    >>> from crmcore.customers.contact import Contact
    >>> from crmcore.kernel.money import Money
    >>> from crmcore.sales.leads import Lead
    >>> from crmcore.sales.pipeline import DEFAULT_PIPELINE
    >>> from crmcore.storage.memory import MemoryStore
    >>> store, t = MemoryStore(), datetime(2026, 3, 2, 9, tzinfo=UTC)
    >>> from crmcore.services.opportunities import save_pipeline, win_opportunity
    >>> _ = save_pipeline(store, DEFAULT_PIPELINE)
    >>> ann = Lead.create("l-1", t, source="webinar", name="Ann Lee", owner="rep-7",
    ...                   contact=Contact(email="ann@example.com"))
    >>> capture_lead(store, ann).value.duplicates
    ()
    >>> again = Lead.create("l-2", t, source="ads", contact=Contact(email="ANN@example.com"))
    >>> [lead.id for lead in capture_lead(store, again).value.duplicates]
    ['l-1']
    >>> _ = qualify_lead(store, "l-1", t + timedelta(days=1))
    >>> done = convert_lead(store, "l-1", t + timedelta(days=2), opportunity_id="opp-1",
    ...                     new_customer_id="c-1", pipeline_id="sales",
    ...                     close_date=date(2026, 4, 30), amount=Money("12000", "EUR")).value
    >>> done.lead.status.value, done.customer.name, done.opportunity.stage
    ('converted', 'Ann Lee', 'appointment_scheduled')
    >>> won = win_opportunity(store, "opp-1", t + timedelta(days=9), reason="value")
    >>> won.value.status.value, [e.kind for e in won.events]
    ('won', ['opportunity.won'])
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Literal, TypeVar

import attrs

from crmcore.customers.customer import Customer
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import AlreadyExistsError, DuplicateOperationError, ValidationError
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.ids import validate_id
from crmcore.kernel.machine import parse_member
from crmcore.kernel.money import Money
from crmcore.kernel.validators import choice
from crmcore.ports import Store, UnitOfWork
from crmcore.sales import lead_conversion
from crmcore.sales.activities import ActivityKind, ActivityOutcome
from crmcore.sales.duplicates import LeadMerge, duplicate_keys, duplicates_of
from crmcore.sales.duplicates import merge_leads as merge
from crmcore.sales.lead_machine import LeadStatus, LeadTrigger
from crmcore.sales.leads import Lead
from crmcore.sales.opportunities import Opportunity
from crmcore.services._checks import callback, store_of
from crmcore.services.retry import DEFAULT_RETRY, RetryPolicy
from crmcore.services.retry import retry as run_retrying

__all__ = [
    "Conversion",
    "LeadCapture",
    "capture_lead",
    "change_lead",
    "change_lead_status",
    "complete_activity",
    "convert_lead",
    "disqualify_lead",
    "log_activity",
    "merge_leads",
    "qualify_lead",
    "schedule_activity",
]

A = TypeVar("A")


def _changed(
    store: Store,
    load: Callable[[UnitOfWork], A],
    save: Callable[[UnitOfWork, A], A],
    change: Callable[[A], Outcome[A]],
    policy: RetryPolicy | None,
) -> Outcome[A]:
    """Load, apply ``change``, save (unless it returned the value unchanged), in one unit of work
    retried with ``policy``; the saved value and the events written."""

    def once() -> Outcome[A]:
        with store.unit_of_work() as uow:
            current = load(uow)
            outcome = change(current)
            if not isinstance(outcome, Outcome):
                raise ValidationError("change", outcome, "must return an Outcome")
            if outcome.value is current:
                return Outcome(current)
            saved = save(uow, uow.take(outcome))
        return Outcome(saved, outcome.events)

    return run_retrying(once, policy)


# -- leads --------------------------------------------------------------------------------------


@attrs.frozen
class LeadCapture:
    """What [`capture_lead()`][crmcore.services.sales.capture_lead] stored and found.

    ``duplicates``: the stored leads sharing the lead's e-mail address or phone number (merged
    and erased ones left out), best survivor first
    ([`duplicates_of()`][crmcore.sales.duplicates.duplicates_of]); ``customers``: the stored
    customers sharing either, in id order (link one with
    [`Lead.link_customer()`][crmcore.sales.leads.Lead.link_customer]).
    """

    lead: Lead
    duplicates: tuple[Lead, ...] = ()
    customers: tuple[Customer, ...] = ()


def _known_customers(uow: UnitOfWork, lead: Lead) -> tuple[Customer, ...]:
    found: dict[str, Customer] = {}
    for key, value in duplicate_keys(lead):
        if key == "email":
            customer = uow.customers.find_by_email(value)
            matches: tuple[Customer, ...] = () if customer is None else (customer,)
        else:
            matches = uow.customers.with_phone(value)
        found.update((c.id, c) for c in matches if not c.is_erased)
    return tuple(found[id] for id in sorted(found))


def capture_lead(
    store: Store,
    outcome: Outcome[Lead],
    *,
    on_duplicate: Literal["keep", "refuse"] = "keep",
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[LeadCapture]:
    """Store a new lead (made with [`Lead.create()`][crmcore.sales.leads.Lead.create]) and say
    which leads and customers it duplicates.

    Duplicates are looked up by the normalised e-mail address and E.164 phone number (indexes,
    not a scan). With ``on_duplicate="keep"`` the lead is stored and its duplicates reported, to
    be merged on purpose; with ``"refuse"`` a duplicate raises
    [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError] naming the shared key
    (``field`` is ``email`` or ``phone``) and nothing is stored. A taken lead id is an
    ``AlreadyExistsError`` too.
    """
    store = store_of(store)
    if not isinstance(outcome, Outcome) or not isinstance(outcome.value, Lead):
        raise ValidationError("outcome", outcome, "must be an Outcome of Lead.create()")
    choice(on_duplicate, "on_duplicate", ("keep", "refuse"))
    lead = outcome.value

    def once() -> Outcome[LeadCapture]:
        with store.unit_of_work() as uow:
            duplicates = duplicates_of(lead, uow.leads.matching(lead))
            if duplicates and on_duplicate == "refuse":
                first = dict(duplicate_keys(duplicates[0]))
                kind, value = next((k, v) for k, v in duplicate_keys(lead) if first.get(k) == v)
                raise AlreadyExistsError("lead", value, kind)
            customers = _known_customers(uow, lead)
            stored = uow.leads.add(uow.take(outcome))
        return Outcome(LeadCapture(stored, duplicates, customers), outcome.events)

    return run_retrying(once, retry)


def change_lead(
    store: Store,
    lead_id: str,
    change: Callable[[Lead], Outcome[Lead]],
    *,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Lead]:
    """Apply ``change`` to the stored lead and save it (nothing is written when it returns the
    lead unchanged)."""
    store = store_of(store)
    callback(change, "change")
    return _changed(
        store,
        lambda uow: uow.leads.get(lead_id),
        lambda uow, lead: uow.leads.save(lead),
        change,
        retry,
    )


def change_lead_status(
    store: Store,
    lead_id: str,
    trigger: LeadTrigger | str,
    at: datetime,
    *,
    reason: str | None = None,
    owner: str | None = None,
    note: str = "",
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Lead]:
    """Move the stored lead with ``trigger`` (``assign``, ``work``, ``nurture``, ``qualify``,
    ``disqualify``, ``reopen``): [`Lead.fire()`][crmcore.sales.leads.Lead.fire].

    A move the lead's table refuses raises
    [`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError] and stores nothing;
    conversion is [`convert_lead()`][crmcore.services.sales.convert_lead].
    """
    store = store_of(store)
    return change_lead(
        store,
        lead_id,
        lambda lead: lead.fire(trigger, at, reason=reason, owner=owner, note=note),
        retry=retry,
    )


def qualify_lead(
    store: Store,
    lead_id: str,
    at: datetime,
    *,
    note: str = "",
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Lead]:
    """Mark the stored lead sales-qualified (new, working or nurturing → qualified)."""
    store = store_of(store)
    return change_lead_status(store, lead_id, LeadTrigger.QUALIFY, at, note=note, retry=retry)


def disqualify_lead(
    store: Store,
    lead_id: str,
    at: datetime,
    reason: str,
    *,
    note: str = "",
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Lead]:
    """Drop the stored lead for ``reason`` (a code such as ``"no_budget"``)."""
    store = store_of(store)
    return change_lead_status(
        store, lead_id, LeadTrigger.DISQUALIFY, at, reason=reason, note=note, retry=retry
    )


def _once(
    lead: Lead, activity_id: str, make: Callable[[Lead], Outcome[Lead]], **expected: object
) -> Outcome[Lead]:
    """``make(lead)``, unless the activity ``activity_id`` is stored: then a replay (it holds the
    ``expected`` values) changes nothing, and anything else is a
    [`DuplicateOperationError`][crmcore.kernel.errors.DuplicateOperationError]."""
    held = next((a for a in lead.activities if a.id == activity_id), None)
    if held is None:
        return make(lead)
    if any(getattr(held, name) != value for name, value in expected.items()):
        raise DuplicateOperationError(activity_id)
    return Outcome(lead)


def log_activity(
    store: Store,
    lead_id: str,
    activity_id: str,
    kind: ActivityKind | str,
    at: datetime,
    outcome: ActivityOutcome | str,
    *,
    owner: str | None = None,
    subject: str = "",
    note: str = "",
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Lead]:
    """Record a follow-up already done at ``at`` (a call just made) with its outcome.

    ``activity_id`` is the idempotency key: logging the same activity again is a replay that
    writes nothing; another activity under a used id raises
    [`DuplicateOperationError`][crmcore.kernel.errors.DuplicateOperationError].
    """
    store = store_of(store)
    expected = {
        "kind": parse_member(ActivityKind, kind, "kind"),
        "created_at": to_utc(at, "at"),
        "outcome": parse_member(ActivityOutcome, outcome, "outcome"),
    }
    return change_lead(
        store,
        lead_id,
        lambda lead: _once(
            lead,
            activity_id,
            lambda it: it.log_activity(
                activity_id, kind, at, outcome, owner=owner, subject=subject, note=note
            ),
            **expected,
        ),
        retry=retry,
    )


def schedule_activity(
    store: Store,
    lead_id: str,
    activity_id: str,
    kind: ActivityKind | str,
    at: datetime,
    *,
    due_at: datetime | None = None,
    owner: str | None = None,
    subject: str = "",
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Lead]:
    """Plan a follow-up on the stored lead (created at ``at``, due at ``due_at``); its owner
    defaults to the lead's. ``activity_id`` is the idempotency key, as for
    [`log_activity()`][crmcore.services.sales.log_activity]."""
    store = store_of(store)
    expected = {
        "kind": parse_member(ActivityKind, kind, "kind"),
        "created_at": to_utc(at, "at"),
    }
    return change_lead(
        store,
        lead_id,
        lambda lead: _once(
            lead,
            activity_id,
            lambda it: it.schedule(
                activity_id, kind, at, due_at=due_at, owner=owner, subject=subject
            ),
            **expected,
        ),
        retry=retry,
    )


def complete_activity(
    store: Store,
    lead_id: str,
    activity_id: str,
    at: datetime,
    outcome: ActivityOutcome | str,
    *,
    note: str | None = None,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Lead]:
    """Complete an open activity of the stored lead at ``at`` with ``outcome``; completing it
    again with the same outcome and time is a replay that writes nothing."""
    store = store_of(store)
    validate_id(activity_id, "activity_id")
    wanted = (to_utc(at, "at"), parse_member(ActivityOutcome, outcome, "outcome"))

    def change(lead: Lead) -> Outcome[Lead]:
        held = lead.activity(activity_id)
        if (held.completed_at, held.outcome) == wanted:
            return Outcome(lead)
        return lead.complete_activity(activity_id, at, outcome, note=note)

    return change_lead(store, lead_id, change, retry=retry)


def merge_leads(
    store: Store,
    first_id: str,
    second_id: str,
    at: datetime,
    *,
    survivor: str | None = None,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[LeadMerge]:
    """Merge two stored duplicate leads (see
    [`merge_leads()`][crmcore.sales.duplicates.merge_leads]); both are saved in one unit of work.
    """
    store = store_of(store)
    if survivor is not None:
        validate_id(survivor, "survivor")

    def once() -> Outcome[LeadMerge]:
        with store.unit_of_work() as uow:
            first, second = uow.leads.get(first_id), uow.leads.get(second_id)
            outcome = merge(first, second, at, survivor=survivor)
            merged = uow.take(outcome)
            kept = uow.leads.save(merged.survivor)
            gone = uow.leads.save(merged.absorbed)
        return Outcome(LeadMerge(kept, gone), outcome.events)

    return run_retrying(once, retry)


# -- conversion ---------------------------------------------------------------------------------


@attrs.frozen
class Conversion:
    """What [`convert_lead()`][crmcore.services.sales.convert_lead] stored: the converted lead,
    its customer (``new_customer``: registered by the conversion) and the opened opportunity."""

    lead: Lead
    customer: Customer
    opportunity: Opportunity
    new_customer: bool


def convert_lead(
    store: Store,
    lead_id: str,
    at: datetime,
    *,
    opportunity_id: str,
    pipeline_id: str,
    close_date: date,
    amount: Money | None = None,
    customer_id: str | None = None,
    new_customer_id: str | None = None,
    name: str | None = None,
    owner: str | None = None,
    stage: str | None = None,
    note: str = "",
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Conversion]:
    """Convert a qualified lead into a customer and an opportunity, in one unit of work.

    The customer is the lead's own when it is linked to one, an existing one (``customer_id``,
    which must be stored) or a new one registered from the lead (``new_customer_id``, named
    ``name`` or the lead's name): see
    [`convert_lead()`][crmcore.sales.lead_conversion.convert_lead]. The opportunity is opened in
    the stored pipeline ``pipeline_id`` (in ``stage``, default its first open stage) with the
    lead's source, for ``owner`` (default the lead's owner), with ``amount`` and ``close_date``.
    A conversion already stored (the lead converted into ``opportunity_id``) is a replay: it is
    returned with no events and nothing is written.

    Raises:
        IllegalTransitionError: the lead is not qualified.
        NotFoundError: the lead, the pipeline or the existing customer is not stored.
        AlreadyExistsError: the new customer's id or e-mail, or the opportunity id, is taken.
        ValidationError: no customer or two, an opportunity without an owner, bad facts (naming
            the field). Nothing is stored on any error.
    """
    store = store_of(store)
    validate_id(opportunity_id, "opportunity_id")
    for field, given in (("customer_id", customer_id), ("new_customer_id", new_customer_id)):
        if given is not None:
            validate_id(given, field)

    def once() -> Outcome[Conversion]:
        with store.unit_of_work() as uow:
            lead = uow.leads.get(lead_id)
            if lead.status is LeadStatus.CONVERTED and lead.opportunity_id == opportunity_id:
                assert lead.customer_id is not None
                return Outcome(
                    Conversion(
                        lead,
                        uow.customers.get(lead.customer_id),
                        uow.opportunities.get(opportunity_id),
                        new_customer=False,
                    )
                )
            pipeline = uow.pipelines.get(pipeline_id)
            converted = lead_conversion.convert_lead(
                lead,
                at,
                opportunity_id=opportunity_id,
                customer_id=customer_id,
                new_customer_id=new_customer_id,
                name=name,
                note=note,
            )
            conversion = uow.take(converted)
            if conversion.customer is not None:
                customer = uow.customers.add(conversion.customer)
            else:
                customer = uow.customers.get(conversion.customer_id)
            seller = owner if owner is not None else conversion.owner
            if seller is None:
                raise ValidationError("owner", None, "the lead has no owner: give the deal one")
            opened = Opportunity.open(
                opportunity_id,
                pipeline,
                owner=seller,
                close_date=close_date,
                at=conversion.converted_at,
                amount=amount,
                stage=stage,
                name=lead.company or "",
                customer_id=customer.id,
                source=conversion.source,
                lead_id=lead.id,
            )
            opportunity = uow.opportunities.add(uow.take(opened))
            saved = uow.leads.save(conversion.lead)
        events: tuple[DomainEvent, ...] = (*converted.events, *opened.events)
        return Outcome(Conversion(saved, customer, opportunity, conversion.new_customer), events)

    return run_retrying(once, retry)
