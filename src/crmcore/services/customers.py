"""Customer use cases: load through a unit of work, apply the domain, save, collect events.

Each function is one transaction: it either completes entirely (aggregate,
records and outbox events) or leaves the store unchanged. Functions that
change an existing customer take an ``expected_version`` where a caller
holds a copy (a form that was open for a while): a stale version raises
[`ConcurrencyConflictError`][crmcore.kernel.errors.ConcurrencyConflictError] instead of overwriting
a newer change.

**Retries.** Every function reloads what it changes, so each redoes its unit of work after a
concurrent change or a transient database failure, with the ``retry`` policy
([`DEFAULT_RETRY`][crmcore.services.retry.DEFAULT_RETRY]: bounded exponential backoff with jitter;
``retry=None`` raises at once). A change guarded by ``expected_version`` is never retried: its
conflict is the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar

import attrs

from crmcore.customers.customer import Customer
from crmcore.customers.privacy import export_customer
from crmcore.customers.records import Interaction, MarketingChannel, Purchase, ServiceRecord
from crmcore.feedback.feedback import Feedback
from crmcore.kernel.clock import to_utc
from crmcore.kernel.codec import JSON, encode
from crmcore.kernel.errors import ConcurrencyConflictError, ValidationError
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.validators import boolean, instances_of, integer, items_of
from crmcore.marketing.enrolment_machine import ExitReason
from crmcore.ports import Store, UnitOfWork
from crmcore.services._checks import callback, outcome_of, store_of
from crmcore.services.retry import DEFAULT_RETRY, RetryPolicy
from crmcore.services.retry import retry as run_retrying

__all__ = [
    "change_customer",
    "erase_customer",
    "export_customer_data",
    "import_customers",
    "record_interaction",
    "record_purchase",
    "record_service",
    "register_customer",
    "retry_on_conflict",
    "set_consent",
]

T = TypeVar("T")


def register_customer(
    store: Store, outcome: Outcome[Customer], *, retry: RetryPolicy | None = DEFAULT_RETRY
) -> Customer:
    """Store a customer made with
    [`Customer.register()`][crmcore.customers.customer.Customer.register] and its events; return it
    stored."""
    store = store_of(store)
    if not isinstance(outcome, Outcome) or not isinstance(outcome.value, Customer):
        raise ValidationError("outcome", outcome, "must be an Outcome of Customer.register()")

    def once() -> Customer:
        with store.unit_of_work() as uow:
            customer = uow.customers.add(uow.take(outcome))
        return customer

    return run_retrying(once, retry)


def change_customer(
    store: Store,
    customer_id: str,
    change: Callable[[Customer], Outcome[Customer]],
    *,
    expected_version: int | None = None,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Customer:
    """Apply ``change`` to the stored customer and save it, in one transaction.

    ``change`` runs again on the reloaded customer when the unit of work is retried (so it must
    not have side effects). With ``expected_version`` nothing is retried.

    Examples:
        >>> # change_customer(store, "c-1", lambda c: c.tag(["vip"], at))
    """
    store = store_of(store)
    callback(change, "change")
    if expected_version is not None:
        expected_version = integer(expected_version, "expected_version", low=0)

    def once() -> Customer:
        with store.unit_of_work() as uow:
            current = uow.customers.get(customer_id)
            if expected_version is not None and current.version != expected_version:
                raise ConcurrencyConflictError(
                    "customer", customer_id, expected_version, current.version
                )
            customer = uow.customers.save(uow.take(outcome_of(change(current), "change", Customer)))
        return customer

    return run_retrying(once, None if expected_version is not None else retry)


def _record(
    uow: UnitOfWork, customer_id: str, apply: Callable[[Customer], Outcome[Customer]]
) -> Customer:
    current = uow.customers.get(customer_id)
    return uow.customers.save(uow.take(apply(current)))


def record_purchase(
    store: Store, purchase: Purchase, *, retry: RetryPolicy | None = DEFAULT_RETRY
) -> Customer:
    """Store a purchase and update its customer's summary together.

    A purchase whose order id is already stored raises
    [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError] and changes nothing, so a
    retried request cannot count an order twice.
    """
    store = store_of(store)

    def once() -> Customer:
        with store.unit_of_work() as uow:
            uow.purchases.add(purchase)
            customer = _record(uow, purchase.customer_id, lambda c: c.record_purchase(purchase))
        return customer

    return run_retrying(once, retry)


def record_interaction(
    store: Store, interaction: Interaction, *, retry: RetryPolicy | None = DEFAULT_RETRY
) -> Customer:
    """Store a touchpoint interaction and update its customer's summary together."""
    store = store_of(store)

    def once() -> Customer:
        with store.unit_of_work() as uow:
            uow.interactions.add(interaction)
            customer = _record(
                uow, interaction.customer_id, lambda c: c.record_interaction(interaction)
            )
        return customer

    return run_retrying(once, retry)


def record_service(
    store: Store, record: ServiceRecord, *, retry: RetryPolicy | None = DEFAULT_RETRY
) -> Customer:
    """Store a service record and update its customer's summary together."""
    store = store_of(store)

    def once() -> Customer:
        with store.unit_of_work() as uow:
            uow.service_records.add(record)
            customer = _record(uow, record.customer_id, lambda c: c.record_service(record))
        return customer

    return run_retrying(once, retry)


def set_consent(
    store: Store,
    customer_id: str,
    channel: MarketingChannel | str,
    granted: bool,
    at: datetime,
    source: str | None = None,
    *,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Customer:
    """Grant or withdraw marketing consent on ``channel``."""
    store = store_of(store)
    boolean(granted, "granted")

    def apply(customer: Customer) -> Outcome[Customer]:
        if granted:
            return customer.grant_consent(channel, at, source)
        return customer.withdraw_consent(channel, at, source)

    return change_customer(store, customer_id, apply, retry=retry)


def export_customer_data(store: Store, customer_id: str) -> dict[str, JSON]:
    """Everything stored about one customer, as one JSON document (right of access).

    The customer export of [`export_customer()`][crmcore.customers.export_customer] plus the
    customer's ``feedback`` (what they told the company, with its text).
    """
    store = store_of(store)
    with store.unit_of_work() as uow:
        customer = uow.customers.get(customer_id)
        document = export_customer(
            customer,
            uow.purchases.for_customer(customer_id),
            uow.interactions.for_customer(customer_id),
            uow.service_records.for_customer(customer_id),
        )
        feedback = uow.feedback.for_customer(customer_id)
    document["feedback"] = [encode(f, Feedback) for f in feedback]
    return document


def erase_customer(
    store: Store,
    customer_id: str,
    at: datetime,
    reason: str = "data subject request",
    *,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Customer:
    """Erase a customer's personal data and the free text of their records, atomically.

    Interaction notes, service summaries and feedback texts are blanked, and
    so are the notes and actions of the cases opened from that feedback
    ([`redacted()`][crmcore.feedback.cases.Case.redacted]); the rest (times,
    channels, scores, themes, case states) stays for analytics. A case opened
    without feedback is not linked to the customer's records: redact it with
    ``Case.redacted`` where the application keeps that link.

    Sales and marketing data go in the same unit of work: the leads linked to the customer or
    holding their e-mail address or phone number are erased
    ([`Lead.erase()`][crmcore.sales.leads.Lead.erase]: name, company, contact, notes, activity
    subjects and notes), the names and notes of their opportunities and the names of their
    household accounts are blanked, their open workflow enrolments end (reason ``erased``, so
    nothing more is sent) and their contact history is emptied.

    After the commit the store is scrubbed ([`Store.scrub()`][crmcore.ports.Store.scrub]): in
    SQLite no copy of the erased values is left in the database file, its write-ahead log or its
    free pages.
    """
    store = store_of(store)

    def once() -> Customer:
        with store.unit_of_work() as uow:
            current = uow.customers.get(customer_id)
            customer = uow.customers.save(uow.take(current.erase(at, reason)))
            uow.interactions.redact(customer_id)
            uow.service_records.redact(customer_id)
            for said in uow.feedback.for_customer(customer_id):
                case = uow.cases.find_by_feedback(said.id)
                if case is not None and case.redacted() != case:
                    uow.cases.save(case.redacted())
            uow.feedback.redact(customer_id)
            _erase_sales_and_marketing(uow, current, at)
        return customer

    erased = run_retrying(once, retry)
    store.scrub()  # no copy left in journals or free pages
    return erased


def _erase_sales_and_marketing(uow: UnitOfWork, customer: Customer, at: datetime) -> None:
    """Erase what the sales and marketing repositories hold about ``customer`` (as it was before
    its own erasure, so its contact details still find its leads)."""
    leads = {lead.id: lead for lead in uow.leads.for_customer(customer.id)}
    leads.update((lead.id, lead) for lead in uow.leads.matching(customer))
    for lead in leads.values():
        if not lead.erased:
            uow.leads.save(uow.take(lead.erase(at)))
    for opportunity in uow.opportunities.for_customer(customer.id):
        clean = opportunity.redacted()
        if clean != opportunity:
            uow.opportunities.save(clean)
    for account in uow.accounts.with_contact(customer.id):
        named = account.redacted()
        if named != account:
            uow.accounts.save(named)
    for enrolment in uow.enrolments.for_customers([customer.id]):
        if not enrolment.is_final:
            when = max(to_utc(at, "at"), enrolment.last_changed_at)
            uow.enrolments.save(uow.take(enrolment.exit(when, ExitReason.ERASED)))
    history = uow.contact_histories.find(customer.id)
    if history is not None and history.sends:
        uow.contact_histories.save(attrs.evolve(history, sends=()))


def import_customers(
    store: Store,
    customers: Iterable[Customer],
    *,
    purchases: Iterable[Purchase] = (),
    interactions: Iterable[Interaction] = (),
    service_records: Iterable[ServiceRecord] = (),
    events: Iterable[DomainEvent] = (),
) -> int:
    """Bulk-load new customers (version 0, summaries already filled) and their records.

    One transaction: any duplicate id, duplicate e-mail or invalid record
    aborts the whole import. Returns the number of customers added.
    """
    store = store_of(store)
    new = items_of(customers, "customers", "customers")
    records = (
        items_of(purchases, "purchases", "purchases"),
        items_of(interactions, "interactions", "interactions"),
        items_of(service_records, "service_records", "service records"),
    )
    raised = instances_of(events, DomainEvent, "events")
    with store.unit_of_work() as uow:
        for customer in new:
            uow.customers.add(customer)
        for purchase in records[0]:
            uow.purchases.add(purchase)
        for interaction in records[1]:
            uow.interactions.add(interaction)
        for record in records[2]:
            uow.service_records.add(record)
        uow.collect(*raised)
    return len(new)


def retry_on_conflict(operation: Callable[[], T], attempts: int = DEFAULT_RETRY.attempts) -> T:
    """Run ``operation`` with [`retry()`][crmcore.services.retry.retry] and the default backoff,
    ``attempts`` tries in all.

    The name of 0.2, kept working: it now waits between tries (bounded exponential backoff with
    jitter) and also retries transient database failures. Only safe for operations that reload
    what they change (every service does).
    """
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise ValidationError("attempts", attempts, "must be a positive integer")
    return run_retrying(operation, attrs.evolve(DEFAULT_RETRY, attempts=attempts))
