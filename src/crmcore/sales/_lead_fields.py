"""The validated fields of a lead: the converters its attributes run through.

Shared by [`crmcore.sales.leads`][crmcore.sales.leads] and
[`crmcore.sales.lead_history`][crmcore.sales.lead_history]; each raises
[`ValidationError`][crmcore.kernel.errors.ValidationError] naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final, TypeVar

from crmcore.customers.contact import Contact, country_code
from crmcore.customers.customer import AttributeValue, normalize_attribute
from crmcore.customers.records import normalize_slug
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.ids import CustomerId, customer_id, validate_id
from crmcore.kernel.machine import parse_member
from crmcore.sales.activities import Activity
from crmcore.sales.lead_history import LeadChange, MergedLead
from crmcore.sales.lead_machine import MACHINE, LeadGuardContext, LeadStatus

__all__ = [
    "attributes_of",
    "check_row",
    "history_of",
    "KEEP",
    "lead_activities",
    "lead_attributes",
    "lead_campaign",
    "lead_channel",
    "lead_company",
    "lead_contact",
    "lead_country",
    "lead_created",
    "lead_customer",
    "lead_history",
    "lead_id",
    "lead_merged",
    "lead_merged_into",
    "lead_name",
    "lead_notes",
    "lead_opportunity",
    "lead_source",
    "lead_status",
    "optional_id",
    "optional_slug",
    "optional_text",
    "required_slug",
    "RESERVED_ATTRIBUTES",
    "text_of",
]

T = TypeVar("T")

RESERVED_ATTRIBUTES: Final = frozenset({"source", "channel", "campaign", "status", "owner"})
"""Attribute names a lead keeps for its own fields (``attr.source``, ... in its record)."""


def required_slug(value: object, field: str) -> str:
    """A code such as a source: a slug (``"Web Form"`` → ``"web_form"``)."""
    return normalize_slug(value, field)


def optional_slug(value: object, field: str) -> str | None:
    """A slug, or ``None``."""
    return None if value is None else normalize_slug(value, field)


def optional_id(value: object, field: str) -> str | None:
    """An id, or ``None``."""
    return None if value is None else validate_id(value, field)


def optional_text(value: object, field: str, limit: int) -> str | None:
    """A short text with its whitespace collapsed (``None`` or blank: ``None``)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationError(field, value, f"must be a string of at most {limit} characters")
    return " ".join(value.split()) or None


def text_of(value: object, field: str, limit: int) -> str:
    """Free text of at most ``limit`` characters, as given."""
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationError(field, value, f"must be a string of at most {limit} characters")
    return value


def attributes_of(values: object) -> FrozenDict[str, AttributeValue]:
    """Custom attributes (the customer's rules), none named like a lead field."""
    if not isinstance(values, Mapping):
        raise ValidationError("attributes", values, "must be a mapping of name to value")
    out = FrozenDict(normalize_attribute(k, v) for k, v in values.items())
    for name in out:
        if name in RESERVED_ATTRIBUTES:
            raise ValidationError(f"attributes.{name}", name, "is a lead field, not an attribute")
    return out


def history_of(values: object, kind: type[T], field: str) -> tuple[T, ...]:
    """A tuple of ``kind`` items from a sequence (a string is not a sequence here)."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValidationError(field, values, f"must be a sequence of {kind.__name__}")
    items: tuple[Any, ...] = tuple(values)
    for i, item in enumerate(items):
        if not isinstance(item, kind):
            raise ValidationError(f"{field}[{i}]", item, f"must be a {kind.__name__}")
    return items


# -- the fields of a lead ------------------------------------------------------------------------


def lead_id(value: object) -> str:
    return validate_id(value, "id")


def lead_created(value: object) -> datetime:
    return to_utc(value, "created_at")


def lead_source(value: object) -> str:
    return required_slug(value, "source")


def lead_channel(value: object) -> str | None:
    return optional_slug(value, "channel")


def lead_campaign(value: object) -> str | None:
    return optional_id(value, "campaign")


def lead_name(value: object) -> str | None:
    return optional_text(value, "name", 200)


def lead_company(value: object) -> str | None:
    return optional_text(value, "company", 200)


def lead_contact(value: object) -> Contact:
    if not isinstance(value, Contact):
        raise ValidationError("contact", value, "must be a Contact")
    return value


def lead_country(value: object) -> str | None:
    return None if value is None else country_code(value)


def lead_customer(value: object) -> CustomerId | None:
    return None if value is None else customer_id(value)


def lead_opportunity(value: object) -> str | None:
    return optional_id(value, "opportunity_id")


def lead_attributes(value: object) -> FrozenDict[str, AttributeValue]:
    return attributes_of(value)


def lead_notes(value: object) -> str:
    return text_of(value, "notes", 10_000)


def lead_status(value: object) -> LeadStatus:
    return parse_member(LeadStatus, value, "status")


def lead_merged_into(value: object) -> str | None:
    return optional_id(value, "merged_into")


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()
"""The default of an optional argument that leaves a field as it is."""


def lead_history(value: object) -> tuple[LeadChange, ...]:
    """A lead's status history."""
    return history_of(value, LeadChange, "history")


def lead_activities(value: object) -> tuple[Activity, ...]:
    """A lead's activities."""
    return history_of(value, Activity, "activities")


def lead_merged(value: object) -> tuple[MergedLead, ...]:
    """The leads a lead absorbed."""
    return history_of(value, MergedLead, "merged")


def check_row(i: int, change: LeadChange) -> None:
    """Check that stored change ``i`` is a move of the lead table (guards re-checked)."""
    context = LeadGuardContext(change.from_state, change.trigger, change.reason, recheck=True)
    try:
        row = MACHINE.choose(MACHINE.triggered(change.from_state, change.trigger), context)
    except IllegalTransitionError:
        row = None
    if row is None or row.target is not change.to_state:
        raise ValidationError(f"history[{i}]", change.trigger.value, "is not an allowed move")
