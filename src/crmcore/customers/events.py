"""Events raised by the customer aggregate.

Events carry ids and non-identifying facts, never personal data (names,
addresses, free text): they leave the system through the outbox, where an
erasure could no longer reach them. A consumer that needs details loads the
customer by ``aggregate_id``.
"""

from __future__ import annotations

from typing import Any

import attrs

from crmcore.kernel.events import DomainEvent, event_type
from crmcore.kernel.money import Money
from crmcore.kernel.stage import Stage
from crmcore.kernel.validators import instances_of

__all__ = [
    "AttributeChanged",
    "ConsentChanged",
    "ContactChanged",
    "CustomerErased",
    "CustomerRegistered",
    "InteractionRecorded",
    "ProfileUpdated",
    "PurchaseRecorded",
    "ServiceRecorded",
    "TagsChanged",
]


def _names(values: Any, field: str) -> tuple[str, ...]:
    return tuple(sorted(instances_of(values, str, field)))


def _fields(values: Any) -> tuple[str, ...]:
    return _names(values, "fields")


def _added(values: Any) -> tuple[str, ...]:
    return _names(values, "added")


def _removed(values: Any) -> tuple[str, ...]:
    return _names(values, "removed")


@event_type("customer.registered")
@attrs.frozen(kw_only=True)
class CustomerRegistered(DomainEvent):
    """A customer record was created."""

    country: str | None = None


@event_type("customer.profile_updated")
@attrs.frozen(kw_only=True)
class ProfileUpdated(DomainEvent):
    """Name, demographics, geography or psychographics changed; ``fields`` says which."""

    fields: tuple[str, ...] = attrs.field(converter=_fields)


@event_type("customer.contact_changed")
@attrs.frozen(kw_only=True)
class ContactChanged(DomainEvent):
    """E-mail and/or phone changed; ``fields`` says which (values are not included)."""

    fields: tuple[str, ...] = attrs.field(converter=_fields)


@event_type("customer.consent_changed")
@attrs.frozen(kw_only=True)
class ConsentChanged(DomainEvent):
    """Marketing consent on ``channel`` was granted or withdrawn.

    The free-text source of the decision stays on the customer's consent record (where erasure
    can remove it) and is not carried here: events outlive erasure in the outbox and downstream.
    """

    channel: str
    granted: bool


@event_type("customer.tags_changed")
@attrs.frozen(kw_only=True)
class TagsChanged(DomainEvent):
    """Tags were added and/or removed."""

    added: tuple[str, ...] = attrs.field(default=(), converter=_added)
    removed: tuple[str, ...] = attrs.field(default=(), converter=_removed)


@event_type("customer.attribute_changed")
@attrs.frozen(kw_only=True)
class AttributeChanged(DomainEvent):
    """A custom attribute was set (``removed=False``) or removed."""

    name: str
    removed: bool = False


@event_type("customer.purchase_recorded")
@attrs.frozen(kw_only=True)
class PurchaseRecorded(DomainEvent):
    """A purchase was recorded for the customer."""

    order_id: str
    amount: Money
    items: int
    channel: str
    category: str | None = None


@event_type("customer.interaction_recorded")
@attrs.frozen(kw_only=True)
class InteractionRecorded(DomainEvent):
    """A touchpoint interaction was recorded."""

    interaction_id: str
    channel: str
    interaction_kind: str
    stage: Stage | None = None


@event_type("customer.service_recorded")
@attrs.frozen(kw_only=True)
class ServiceRecorded(DomainEvent):
    """A service record (inquiry, repair, return, complaint) was added."""

    record_id: str
    service_kind: str
    channel: str


@event_type("customer.erased")
@attrs.frozen(kw_only=True)
class CustomerErased(DomainEvent):
    """The customer's personal data was erased (anonymised) on request."""

    reason: str
