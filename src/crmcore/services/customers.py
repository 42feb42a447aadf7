"""Customer use cases: load through a unit of work, apply the domain, save, collect events.

Each function is one transaction: it either completes entirely (aggregate,
records and outbox events) or leaves the store unchanged. Functions that
change an existing customer take an ``expected_version`` where a caller
holds a copy (a form that was open for a while): a stale version raises
[`ConcurrencyConflictError`][crmcore.kernel.errors.ConcurrencyConflictError] instead of overwriting
a newer change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar

from crmcore.customers.customer import Customer
from crmcore.customers.privacy import export_customer
from crmcore.customers.records import Interaction, MarketingChannel, Purchase, ServiceRecord
from crmcore.feedback.feedback import Feedback
from crmcore.kernel.codec import JSON, encode
from crmcore.kernel.errors import ConcurrencyConflictError, ValidationError
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.ports import Store, UnitOfWork

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


def register_customer(store: Store, outcome: Outcome[Customer]) -> Customer:
    """Store a customer made with
    [`Customer.register()`][crmcore.customers.customer.Customer.register] and its events; return it
    stored."""
    with store.unit_of_work() as uow:
        customer = uow.customers.add(uow.take(outcome))
    return customer


def change_customer(
    store: Store,
    customer_id: str,
    change: Callable[[Customer], Outcome[Customer]],
    *,
    expected_version: int | None = None,
) -> Customer:
    """Apply ``change`` to the stored customer and save it, in one transaction.

    Examples:
        >>> # change_customer(store, "c-1", lambda c: c.tag(["vip"], at))
    """
    with store.unit_of_work() as uow:
        current = uow.customers.get(customer_id)
        if expected_version is not None and current.version != expected_version:
            raise ConcurrencyConflictError(
                "customer", customer_id, expected_version, current.version
            )
        customer = uow.customers.save(uow.take(change(current)))
    return customer


def _record(
    uow: UnitOfWork, customer_id: str, apply: Callable[[Customer], Outcome[Customer]]
) -> Customer:
    current = uow.customers.get(customer_id)
    return uow.customers.save(uow.take(apply(current)))


def record_purchase(store: Store, purchase: Purchase) -> Customer:
    """Store a purchase and update its customer's summary together.

    A purchase whose order id is already stored raises
    [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError] and changes nothing, so a
    retried request cannot count an order twice.
    """
    with store.unit_of_work() as uow:
        uow.purchases.add(purchase)
        customer = _record(uow, purchase.customer_id, lambda c: c.record_purchase(purchase))
    return customer


def record_interaction(store: Store, interaction: Interaction) -> Customer:
    """Store a touchpoint interaction and update its customer's summary together."""
    with store.unit_of_work() as uow:
        uow.interactions.add(interaction)
        customer = _record(
            uow, interaction.customer_id, lambda c: c.record_interaction(interaction)
        )
    return customer


def record_service(store: Store, record: ServiceRecord) -> Customer:
    """Store a service record and update its customer's summary together."""
    with store.unit_of_work() as uow:
        uow.service_records.add(record)
        customer = _record(uow, record.customer_id, lambda c: c.record_service(record))
    return customer


def set_consent(
    store: Store,
    customer_id: str,
    channel: MarketingChannel | str,
    granted: bool,
    at: datetime,
    source: str | None = None,
) -> Customer:
    """Grant or withdraw marketing consent on ``channel``."""

    def apply(customer: Customer) -> Outcome[Customer]:
        if granted:
            return customer.grant_consent(channel, at, source)
        return customer.withdraw_consent(channel, at, source)

    return change_customer(store, customer_id, apply)


def export_customer_data(store: Store, customer_id: str) -> dict[str, JSON]:
    """Everything stored about one customer, as one JSON document (right of access).

    The customer export of [`export_customer()`][crmcore.customers.export_customer] plus the
    customer's ``feedback`` (what they told the company, with its text).
    """
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
    store: Store, customer_id: str, at: datetime, reason: str = "data subject request"
) -> Customer:
    """Erase a customer's personal data and the free text of their records, atomically.

    Interaction notes, service summaries and feedback texts are blanked, and
    so are the notes and actions of the cases opened from that feedback
    ([`redacted()`][crmcore.feedback.cases.Case.redacted]); the rest (times,
    channels, scores, themes, case states) stays for analytics. A case opened
    without feedback is not linked to the customer's records: redact it with
    ``Case.redacted`` where the application keeps that link.
    """
    with store.unit_of_work() as uow:
        customer = uow.customers.save(uow.take(uow.customers.get(customer_id).erase(at, reason)))
        uow.interactions.redact(customer_id)
        uow.service_records.redact(customer_id)
        for said in uow.feedback.for_customer(customer_id):
            case = uow.cases.find_by_feedback(said.id)
            if case is not None and case.redacted() != case:
                uow.cases.save(case.redacted())
        uow.feedback.redact(customer_id)
    return customer


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
    with store.unit_of_work() as uow:
        count = 0
        for customer in customers:
            uow.customers.add(customer)
            count += 1
        for purchase in purchases:
            uow.purchases.add(purchase)
        for interaction in interactions:
            uow.interactions.add(interaction)
        for record in service_records:
            uow.service_records.add(record)
        uow.collect(*events)
    return count


def retry_on_conflict(operation: Callable[[], T], attempts: int = 3) -> T:
    """Run ``operation``, again after each
    [`ConcurrencyConflictError`][crmcore.services.customers.ConcurrencyConflictError] (``attempts``
    in all).

    Only safe for operations that reload what they change (all the functions
    in this module without ``expected_version`` do).
    """
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise ValidationError("attempts", attempts, "must be a positive integer")
    for attempt in range(1, attempts + 1):
        try:
            return operation()
        except ConcurrencyConflictError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
