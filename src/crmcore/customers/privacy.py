"""Data protection: export everything held about one customer, and erase it.

[`export_customer()`][crmcore.customers.privacy.export_customer] returns a JSON-serialisable
document with the customer and every record held about them (the right of access and data
portability, GDPR arts. 15 and 20);
[`import_customer_export()`][crmcore.customers.privacy.import_customer_export] reads it back, so an
export is also a faithful backup of one customer.
[`erase_records()`][crmcore.customers.privacy.erase_records] redacts the free text of a customer's
records to go with [`Customer.erase`][crmcore.customers.customer.Customer.erase].
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final

import attrs

from crmcore.customers.customer import Customer
from crmcore.customers.records import Interaction, Purchase, ServiceRecord
from crmcore.kernel.codec import JSON, decode, encode
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import instance_of, instances_of

__all__ = ["CustomerExport", "erase_records", "export_customer", "import_customer_export"]

EXPORT_FORMAT: Final = "crmcore.customer-export"
EXPORT_VERSION: Final = 1


def _purchases(values: object) -> tuple[Purchase, ...]:
    return instances_of(values, Purchase, "purchases")


def _interactions(values: object) -> tuple[Interaction, ...]:
    return instances_of(values, Interaction, "interactions")


def _services(values: object) -> tuple[ServiceRecord, ...]:
    return instances_of(values, ServiceRecord, "service_records")


@attrs.frozen
class CustomerExport:
    """A customer with all their records, ordered by time."""

    customer: Customer = attrs.field(
        validator=lambda _i, _a, v: instance_of(v, Customer, "customer")
    )
    purchases: tuple[Purchase, ...] = attrs.field(default=(), converter=_purchases)
    interactions: tuple[Interaction, ...] = attrs.field(default=(), converter=_interactions)
    service_records: tuple[ServiceRecord, ...] = attrs.field(default=(), converter=_services)

    def __attrs_post_init__(self) -> None:
        for name in ("purchases", "interactions", "service_records"):
            for i, record in enumerate(getattr(self, name)):
                if record.customer_id != self.customer.id:
                    raise ValidationError(
                        f"{name}[{i}].customer_id",
                        record.customer_id,
                        "belongs to another customer",
                    )


def _by_time(records: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(sorted(records, key=lambda r: r.at))


def export_customer(
    customer: Customer,
    purchases: Sequence[Purchase] = (),
    interactions: Sequence[Interaction] = (),
    service_records: Sequence[ServiceRecord] = (),
) -> dict[str, JSON]:
    """Everything held about ``customer`` as one JSON-serialisable document."""
    bundle = CustomerExport(
        customer,
        _by_time(_purchases(purchases)),
        _by_time(_interactions(interactions)),
        _by_time(_services(service_records)),
    )
    data = encode(bundle)
    assert isinstance(data, dict)
    return {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, **data}


def import_customer_export(document: dict[str, JSON]) -> CustomerExport:
    """Rebuild a [`CustomerExport`][crmcore.customers.privacy.CustomerExport] from
    [`export_customer()`][crmcore.customers.privacy.export_customer] output."""
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise ValidationError("format", document, f"is not a {EXPORT_FORMAT} document")
    if document.get("version") != EXPORT_VERSION:
        raise ValidationError("version", document.get("version"), f"must be {EXPORT_VERSION}")
    # Records of other modules (e.g. the service layer's "feedback") travel beside the
    # customer's own in the same document; this rebuilds the customer part.
    body = {k: v for k, v in document.items() if k not in ("format", "version", "feedback")}
    bundle: CustomerExport = decode(CustomerExport, body)
    return bundle


def erase_records(
    interactions: Iterable[Interaction], service_records: Iterable[ServiceRecord]
) -> tuple[tuple[Interaction, ...], tuple[ServiceRecord, ...]]:
    """The records with their free text removed (notes, summaries); facts are kept."""
    return (
        tuple(i.redacted() for i in _interactions(interactions)),
        tuple(r.redacted() for r in _services(service_records)),
    )
