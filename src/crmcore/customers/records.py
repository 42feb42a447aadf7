"""What a customer did: purchases, touchpoint interactions, service records, consent.

These are immutable facts, stored append-only beside the customer. The
[`Customer`][crmcore.customers.customer.Customer] aggregate keeps running
summaries of them (counts, totals, first and last times), which is what
segmentation and analytics read, and which survive erasure.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime

import attrs

from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.ids import (
    CustomerId,
    InteractionId,
    OrderId,
    ServiceRecordId,
    customer_id,
    interaction_id,
    order_id,
    service_record_id,
)
from crmcore.kernel.money import Money
from crmcore.kernel.stage import Stage
from crmcore.kernel.validators import storable_text

__all__ = [
    "ConsentRecord",
    "ConsentStatus",
    "Interaction",
    "MarketingChannel",
    "Purchase",
    "ServiceRecord",
    "normalize_slug",
    "parse_channel",
]

_SLUG = re.compile(r"[a-z][a-z0-9_]{0,39}\Z")


def normalize_slug(value: object, field: str) -> str:
    """A short code such as a channel or kind: ``"Website Visit"`` → ``"website_visit"``."""
    if not isinstance(value, str):
        raise ValidationError(field, value, "must be a string")
    slug = "_".join(value.strip().lower().replace("-", " ").split())
    if not _SLUG.match(slug):
        raise ValidationError(
            field, value, "must be 1-40 letters, digits or _ starting with a letter"
        )
    return slug


def _text(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationError(field, value, f"must be a string of at most {limit} characters")
    return storable_text(value, field)


def _order_at(value: object) -> datetime:
    return to_utc(value, "purchase.at")


def _order_channel(value: object) -> str:
    return normalize_slug(value, "purchase.channel")


def _order_category(value: object) -> str | None:
    return None if value is None else normalize_slug(value, "purchase.category")


def _interaction_at(value: object) -> datetime:
    return to_utc(value, "interaction.at")


def _interaction_channel(value: object) -> str:
    return normalize_slug(value, "interaction.channel")


def _interaction_kind(value: object) -> str:
    return normalize_slug(value, "interaction.kind")


def _service_at(value: object) -> datetime:
    return to_utc(value, "service_record.at")


def _service_kind(value: object) -> str:
    return normalize_slug(value, "service_record.kind")


def _service_channel(value: object) -> str:
    return normalize_slug(value, "service_record.channel")


def _service_summary(value: object) -> str:
    return _text(value, "service_record.summary", 4000)


def _resolved_at(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "service_record.resolved_at")


def _consent_at(value: object) -> datetime:
    return to_utc(value, "consent.at")


def _optional_stage(value: object) -> Stage | None:
    return None if value is None else Stage.parse(value, "stage")


@attrs.frozen
class Purchase:
    """A completed order: what a customer paid, when, through which channel.

    Amounts are non-negative whole minor units (19.99 EUR, 1999 JPY: what was paid);
    returns and refunds are recorded by the modules that need them (loyalty reversals), not as
    negative purchases.
    """

    order_id: OrderId = attrs.field(converter=order_id)
    customer_id: CustomerId = attrs.field(converter=customer_id)
    at: datetime = attrs.field(converter=_order_at)
    amount: Money = attrs.field()
    items: int = attrs.field(default=1)
    channel: str = attrs.field(default="web", converter=_order_channel)
    category: str | None = attrs.field(default=None, converter=_order_category)

    @amount.validator
    def _check_amount(self, _attribute: object, value: object) -> None:
        if not isinstance(value, Money):
            raise ValidationError("purchase.amount", value, "must be Money")
        if value.is_negative:
            raise ValidationError("purchase.amount", value, "must not be negative")
        if not value.is_whole:
            raise ValidationError(
                "purchase.amount",
                value,
                f"must be a whole number of minor units ({value.minor_units} decimals in "
                f"{value.currency}): a paid amount has no fraction of a cent",
            )

    @items.validator
    def _check_items(self, _attribute: object, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError("purchase.items", value, "must be a non-negative integer")


@attrs.frozen
class Interaction:
    """A touchpoint: the customer met the brand on ``channel`` doing ``kind``.

    ``channel`` is where (``web``, ``email``, ``store``, ``phone``, ``chat``,
    ``social``, ``app``...), ``kind`` what happened (``website_visit``,
    ``service_inquiry``, ``demo_request``...). ``stage`` optionally places it
    in the funnel; ``note`` is free text (removed on erasure).
    """

    id: InteractionId = attrs.field(converter=interaction_id)
    customer_id: CustomerId = attrs.field(converter=customer_id)
    at: datetime = attrs.field(converter=_interaction_at)
    channel: str = attrs.field(converter=_interaction_channel)
    kind: str = attrs.field(converter=_interaction_kind)
    stage: Stage | None = attrs.field(default=None, converter=_optional_stage)
    note: str | None = attrs.field(default=None)

    @note.validator
    def _check_note(self, _attribute: object, value: object) -> None:
        if value is not None:
            _text(value, "interaction.note", 4000)

    def redacted(self) -> Interaction:
        """This interaction without its free-text note (for erasure)."""
        return attrs.evolve(self, note=None)


@attrs.frozen
class ServiceRecord:
    """A service event: an inquiry, repair, return or complaint handled for the customer."""

    id: ServiceRecordId = attrs.field(converter=service_record_id)
    customer_id: CustomerId = attrs.field(converter=customer_id)
    at: datetime = attrs.field(converter=_service_at)
    kind: str = attrs.field(converter=_service_kind)
    channel: str = attrs.field(converter=_service_channel)
    summary: str = attrs.field(default="", converter=_service_summary)
    resolved_at: datetime | None = attrs.field(default=None, converter=_resolved_at)

    @resolved_at.validator
    def _check_resolved(self, _attribute: object, value: datetime | None) -> None:
        if value is not None and value < self.at:
            raise ValidationError(
                "service_record.resolved_at", value, f"is before the record's time {self.at}"
            )

    def redacted(self) -> ServiceRecord:
        """This record without its free-text summary (for erasure)."""
        return attrs.evolve(self, summary="")


class MarketingChannel(enum.StrEnum):
    """A channel that needs the customer's consent for marketing messages."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    POST = "post"
    PUSH = "push"
    MESSAGING = "messaging"


class ConsentStatus(enum.StrEnum):
    """Whether marketing on a channel is allowed at a given time."""

    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"


def parse_channel(value: object) -> MarketingChannel:
    """A [`MarketingChannel`][crmcore.customers.records.MarketingChannel] from its value
    (``"email"``); ValidationError otherwise."""
    try:
        return MarketingChannel(value)  # type: ignore[arg-type]
    except ValueError:
        allowed = ", ".join(m.value for m in MarketingChannel)
        raise ValidationError("consent.channel", value, f"must be one of {allowed}") from None


@attrs.frozen
class ConsentRecord:
    """One consent decision: granted or withdrawn on ``channel`` at ``at``.

    ``source`` records the evidence (a form id, ``"checkout"``, ``"unsubscribe link"``).
    """

    channel: MarketingChannel = attrs.field(converter=parse_channel)
    granted: bool = attrs.field()
    at: datetime = attrs.field(converter=_consent_at)
    source: str | None = attrs.field(default=None)

    @granted.validator
    def _check_granted(self, _attribute: object, value: object) -> None:
        if not isinstance(value, bool):
            raise ValidationError("consent.granted", value, "must be True or False")

    @source.validator
    def _check_source(self, _attribute: object, value: object) -> None:
        if value is not None:
            _text(value, "consent.source", 200)
