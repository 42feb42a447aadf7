"""Factories: valid objects in one call, with every field overridable.

For example-based tests, where a hypothesis strategy would be too much:

    from crmcore.testing.factories import make_customer, make_purchase

    ann = make_customer(name="Ann", email="ann@example.com")
    order = make_purchase(ann.id, amount="19.90")

Defaults are fixed (no randomness), so tests stay deterministic; numbered
ids and e-mail addresses keep successive objects distinct.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from crmcore.customers.contact import Contact
from crmcore.customers.customer import Customer
from crmcore.customers.profile import Geography
from crmcore.customers.records import Interaction, Purchase, ServiceRecord
from crmcore.kernel.money import Money
from crmcore.kernel.stage import Stage

__all__ = ["T0", "make_customer", "make_interaction", "make_purchase", "make_service_record"]

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
"""The default time of every factory: an aware UTC datetime."""

_numbers = itertools.count(1)


def _next() -> int:
    return next(_numbers)


def make_customer(
    id: str | None = None,
    *,
    name: str = "Test Customer",
    email: str | None = "default",
    country: str | None = "DE",
    at: datetime = T0,
    **fields: Any,
) -> Customer:
    """A registered customer (version 0). ``email="default"`` gives a unique address.

    Extra keyword arguments are passed to [`Customer`][crmcore.customers.customer.Customer]
    (``tags=...``, ``attributes=...``, ``demographics=...``).
    """
    n = _next()
    cid = id if id is not None else f"CUST{n:06d}"
    address = f"customer{n}@example.com" if email == "default" else email
    return Customer(
        id=cid,
        name=name,
        created_at=at,
        contact=fields.pop("contact", Contact(email=address)),
        geography=fields.pop("geography", Geography(country=country)),
        **fields,
    )


def make_purchase(
    customer_id: str,
    *,
    amount: str | int | Decimal = "25.00",
    currency: str = "EUR",
    at: datetime = T0,
    days: float = 0,
    order_id: str | None = None,
    **fields: Any,
) -> Purchase:
    """A purchase by ``customer_id``, ``days`` after ``at``."""
    return Purchase(
        order_id=order_id if order_id is not None else f"ORD{_next():06d}",
        customer_id=customer_id,
        at=at + timedelta(days=days),
        amount=Money(amount, currency),
        **fields,
    )


def make_interaction(
    customer_id: str,
    *,
    kind: str = "website_visit",
    channel: str = "web",
    stage: Stage | str | None = None,
    at: datetime = T0,
    days: float = 0,
    id: str | None = None,
    **fields: Any,
) -> Interaction:
    """A touchpoint interaction by ``customer_id``, ``days`` after ``at``."""
    return Interaction(
        id=id if id is not None else f"INT{_next():06d}",
        customer_id=customer_id,
        at=at + timedelta(days=days),
        channel=channel,
        kind=kind,
        stage=stage,
        **fields,
    )


def make_service_record(
    customer_id: str,
    *,
    kind: str = "inquiry",
    channel: str = "email",
    at: datetime = T0,
    days: float = 0,
    id: str | None = None,
    **fields: Any,
) -> ServiceRecord:
    """A service record for ``customer_id``, ``days`` after ``at``."""
    return ServiceRecord(
        id=id if id is not None else f"SRV{_next():06d}",
        customer_id=customer_id,
        at=at + timedelta(days=days),
        kind=kind,
        channel=channel,
        **fields,
    )
