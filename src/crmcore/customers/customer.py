"""The customer aggregate: one unified view of a customer (DOMAIN.md §1).

A [`Customer`][crmcore.customers.customer.Customer] is immutable. Every change is a method that
returns an [`Outcome`][crmcore.kernel.events.Outcome]: the new customer and the events raised.
Nothing is stored until a unit of work saves it.

Examples:
    >>> from datetime import datetime, UTC
    >>> t = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    >>> outcome = Customer.register("c-1", "Ann Lee", t, contact=Contact(email="Ann@Example.com"))
    >>> ann = outcome.value
    >>> ann.contact.email, [e.kind for e in outcome.events]
    ('ann@example.com', ['customer.registered'])
    >>> ann = ann.grant_consent("email", t, source="signup form").value
    >>> ann.can_market("email", t)
    True
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, cast

import attrs

from crmcore.customers.contact import Contact
from crmcore.customers.events import (
    AttributeChanged,
    ConsentChanged,
    ContactChanged,
    CustomerErased,
    CustomerRegistered,
    InteractionRecorded,
    ProfileUpdated,
    PurchaseRecorded,
    ServiceRecorded,
    TagsChanged,
)
from crmcore.customers.profile import (
    Demographics,
    Geography,
    Psychographics,
    normalize_tag,
    normalize_tags,
)
from crmcore.customers.records import (
    ConsentRecord,
    ConsentStatus,
    Interaction,
    MarketingChannel,
    Purchase,
    ServiceRecord,
    parse_channel,
)
from crmcore.kernel import validators
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import CurrencyMismatchError, CustomerErasedError, ValidationError
from crmcore.kernel.events import Outcome
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.ids import CustomerId, customer_id
from crmcore.kernel.money import Money

__all__ = [
    "ActivitySummary",
    "AttributeValue",
    "Customer",
    "PurchaseSummary",
    "normalize_attribute",
]

AttributeValue = str | int | float | Decimal | bool | date | datetime
"""The types a custom attribute may hold."""

ERASED_NAME: Final = "[erased]"
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_ATTRIBUTE_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}\Z")


def normalize_attribute(name: object, value: object) -> tuple[str, AttributeValue]:
    """Validate a custom attribute: a snake_case name and a typed scalar value.

    Strings are limited to 1,000 characters and may not hold NUL (SQLite's string functions stop
    at it, so back ends would disagree) or a lone surrogate, integers to 64 bits (so every
    customer fits a [`CustomerFrame`][crmcore.columnar.frame.CustomerFrame]), floats
    and decimals must be finite and datetimes aware (stored in UTC).
    """
    if not isinstance(name, str) or not _ATTRIBUTE_NAME.match(name):
        raise ValidationError(
            "attributes", name, "names must be 1-40 lower-case letters, digits or _"
        )
    field = f"attributes.{name}"
    if isinstance(value, datetime):
        return name, to_utc(value, field)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(field, value, "must be a finite number")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValidationError(field, value, "must be a finite number")
    if isinstance(value, str) and len(value) > 1000:
        raise ValidationError(field, value, "must be at most 1000 characters")
    if isinstance(value, str):
        validators.nul_free_text(value, field)
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and not _INT64_MIN <= value <= _INT64_MAX
    ):
        raise ValidationError(
            field, value, "must fit in 64 bits (use a Decimal for larger numbers)"
        )
    if isinstance(value, str | int | float | Decimal | bool | date):
        return name, value
    raise ValidationError(
        field, value, "must be a str, int, float, Decimal, bool, date or datetime"
    )


def _attributes(values: Mapping[str, object] | None) -> FrozenDict[str, AttributeValue]:
    if values is None:
        return FrozenDict()
    if not isinstance(values, Mapping):
        raise ValidationError("attributes", values, "must be a mapping of name to value")
    return FrozenDict(normalize_attribute(k, v) for k, v in values.items())


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("name", value, "must be a non-empty string")
    name = " ".join(value.split())
    if len(name) > 200:
        raise ValidationError("name", value, "must be at most 200 characters")
    return validators.plain_text(name, "name")


def _consents(values: Iterable[ConsentRecord]) -> tuple[ConsentRecord, ...]:
    records = validators.instances_of(values, ConsentRecord, "consents")
    # Stable sort: decisions at the same instant keep the order they were made in.
    return tuple(sorted(records, key=lambda r: r.at))


def _non_negative(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(attribute.name, value, "must be a non-negative integer")


def _created_at(value: object) -> datetime:
    return to_utc(value, "created_at")


def _optional_utc(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "at")


@attrs.frozen
class ActivitySummary:
    """Running count and first/last time of a kind of activity."""

    count: int = attrs.field(default=0, validator=_non_negative)
    first_at: datetime | None = attrs.field(default=None, converter=_optional_utc)
    last_at: datetime | None = attrs.field(default=None, converter=_optional_utc)

    def add(self, at: datetime) -> ActivitySummary:
        """The summary after one more activity at ``at`` (in any time order)."""
        return ActivitySummary(
            self.count + 1,
            at if self.first_at is None else min(self.first_at, at),
            at if self.last_at is None else max(self.last_at, at),
        )


@attrs.frozen
class PurchaseSummary:
    """Running purchase totals: orders, items, spend (one currency), first and last time."""

    count: int = attrs.field(default=0, validator=_non_negative)
    items: int = attrs.field(default=0, validator=_non_negative)
    total: Money | None = attrs.field(default=None)
    first_at: datetime | None = attrs.field(default=None, converter=_optional_utc)
    last_at: datetime | None = attrs.field(default=None, converter=_optional_utc)

    @total.validator
    def _check_total(self, _attribute: object, value: object) -> None:
        if value is not None:
            validators.instance_of(value, Money, "purchases.total", "Money")

    def add(self, purchase: Purchase) -> PurchaseSummary:
        """The summary after ``purchase``; a second currency raises ``CurrencyMismatchError``."""
        validators.instance_of(purchase, Purchase, "purchase")
        if self.total is not None and purchase.amount.currency != self.total.currency:
            raise CurrencyMismatchError(self.total.currency, purchase.amount.currency, "add")
        total = purchase.amount if self.total is None else self.total + purchase.amount
        return PurchaseSummary(
            self.count + 1,
            self.items + purchase.items,
            total,
            purchase.at if self.first_at is None else min(self.first_at, purchase.at),
            purchase.at if self.last_at is None else max(self.last_at, purchase.at),
        )

    @property
    def average_order_value(self) -> Money | None:
        """Mean spend per order, rounded to the currency's minor unit."""
        if self.total is None or self.count == 0:
            return None
        return Money(self.total.amount / self.count, self.total.currency).rounded()


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


_KEEP: Any = _Keep()


@attrs.frozen
class Customer:
    """One customer: identity, contact, profile, consent, tags, attributes and activity summaries.

    ``version`` is the stored version for optimistic concurrency: 0 for a
    customer never saved; repositories set it. A customer's purchases share
    one currency (its account currency); convert at the edge otherwise.
    """

    id: CustomerId = attrs.field(converter=customer_id)
    name: str = attrs.field(converter=_name)
    created_at: datetime = attrs.field(converter=_created_at)
    contact: Contact = attrs.field(factory=Contact)
    demographics: Demographics = attrs.field(factory=Demographics)
    geography: Geography = attrs.field(factory=Geography)
    psychographics: Psychographics = attrs.field(factory=Psychographics)
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=normalize_tags)
    attributes: FrozenDict[str, AttributeValue] = attrs.field(
        factory=FrozenDict, converter=_attributes
    )
    consents: tuple[ConsentRecord, ...] = attrs.field(default=(), converter=_consents)
    purchases: PurchaseSummary = attrs.field(factory=PurchaseSummary)
    interactions: ActivitySummary = attrs.field(factory=ActivitySummary)
    service: ActivitySummary = attrs.field(factory=ActivitySummary)
    erased_at: datetime | None = attrs.field(default=None, converter=_optional_utc)
    version: int = attrs.field(default=0, validator=_non_negative)

    @contact.validator
    def _check_contact(self, _a: object, value: object) -> None:
        if not isinstance(value, Contact):
            raise ValidationError("contact", value, "must be a Contact")

    @demographics.validator
    def _check_demographics(self, _a: object, value: object) -> None:
        if not isinstance(value, Demographics):
            raise ValidationError("demographics", value, "must be Demographics")

    @geography.validator
    def _check_geography(self, _a: object, value: object) -> None:
        if not isinstance(value, Geography):
            raise ValidationError("geography", value, "must be a Geography")

    @psychographics.validator
    def _check_psychographics(self, _a: object, value: object) -> None:
        if not isinstance(value, Psychographics):
            raise ValidationError("psychographics", value, "must be Psychographics")

    # -- creation ---------------------------------------------------------------
    @classmethod
    def register(
        cls,
        id: str,
        name: str,
        at: datetime,
        *,
        contact: Contact | None = None,
        demographics: Demographics | None = None,
        geography: Geography | None = None,
        psychographics: Psychographics | None = None,
        tags: Iterable[str] = (),
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> Outcome[Customer]:
        """Create a customer at ``at``; raises ``CustomerRegistered``."""
        customer = cls(
            id=CustomerId(id),
            name=name,
            created_at=at,
            contact=Contact() if contact is None else contact,
            demographics=Demographics() if demographics is None else demographics,
            geography=Geography() if geography is None else geography,
            psychographics=Psychographics() if psychographics is None else psychographics,
            tags=tags,
            attributes=attributes,
        )
        event = CustomerRegistered(
            aggregate_id=customer.id,
            occurred_at=customer.created_at,
            country=customer.geography.country,
        )
        return Outcome(customer, (event,))

    # -- queries ----------------------------------------------------------------
    @property
    def is_erased(self) -> bool:
        """True once the customer's personal data has been erased."""
        return self.erased_at is not None

    def age_at(self, on: date) -> int | None:
        """Age in whole years on ``on`` (a date), or ``None`` without a birth date."""
        return self.demographics.age_at(on)

    def consent_status(self, channel: MarketingChannel | str, at: datetime) -> ConsentStatus:
        """The consent on ``channel`` in force at ``at`` (the latest decision not after it)."""
        wanted = parse_channel(channel)
        when = to_utc(at, "at")
        status = ConsentStatus.UNKNOWN
        for record in self.consents:
            if record.at > when:
                break
            if record.channel == wanted:
                status = ConsentStatus.GRANTED if record.granted else ConsentStatus.WITHDRAWN
        return status

    def can_market(self, channel: MarketingChannel | str, at: datetime) -> bool:
        """True only with consent granted and in force at ``at`` (no consent means no)."""
        return self.consent_status(channel, at) is ConsentStatus.GRANTED

    def attribute(self, name: str, default: AttributeValue | None = None) -> AttributeValue | None:
        """A custom attribute's value, or ``default`` when it is not set."""
        return self.attributes.get(validators.instance_of(name, str, "name", "a string"), default)

    # -- changes ----------------------------------------------------------------
    def _alive(self) -> None:
        if self.erased_at is not None:
            raise CustomerErasedError(self.id)

    def _event_time(self, at: object) -> datetime:
        self._alive()
        return to_utc(at, "at")

    def update_profile(
        self,
        at: datetime,
        *,
        name: str = _KEEP,
        demographics: Demographics = _KEEP,
        geography: Geography = _KEEP,
        psychographics: Psychographics = _KEEP,
    ) -> Outcome[Customer]:
        """Change any of name, demographics, geography, psychographics.

        Only fields whose value actually changes are reported in the
        ``ProfileUpdated`` event; with no change, no event and the same customer.
        """
        when = self._event_time(at)
        changes = {
            key: value
            for key, value in (
                ("name", name),
                ("demographics", demographics),
                ("geography", geography),
                ("psychographics", psychographics),
            )
            if value is not _KEEP
        }
        updated = attrs.evolve(self, **cast(dict[str, Any], changes))
        changed = [key for key in changes if getattr(updated, key) != getattr(self, key)]
        if not changed:
            return Outcome(self)
        return Outcome(
            updated, (ProfileUpdated(aggregate_id=self.id, occurred_at=when, fields=changed),)
        )

    def change_contact(self, contact: Contact, at: datetime) -> Outcome[Customer]:
        """Replace the contact details; ``ContactChanged`` names the fields that changed."""
        when = self._event_time(at)
        if not isinstance(contact, Contact):
            raise ValidationError("contact", contact, "must be a Contact")
        changed = [
            f.name
            for f in attrs.fields(Contact)
            if getattr(contact, f.name) != getattr(self.contact, f.name)
        ]
        if not changed:
            return Outcome(self)
        updated = attrs.evolve(self, contact=contact)
        return Outcome(
            updated, (ContactChanged(aggregate_id=self.id, occurred_at=when, fields=changed),)
        )

    def _consent(
        self, channel: MarketingChannel | str, granted: bool, at: datetime, source: str | None
    ) -> Outcome[Customer]:
        self._alive()
        record = ConsentRecord(channel, granted, at, source)
        updated = attrs.evolve(self, consents=(*self.consents, record))
        event = ConsentChanged(
            aggregate_id=self.id,
            occurred_at=record.at,
            channel=record.channel.value,
            granted=granted,
        )
        return Outcome(updated, (event,))

    def grant_consent(
        self, channel: MarketingChannel | str, at: datetime, source: str | None = None
    ) -> Outcome[Customer]:
        """Record that the customer agreed to marketing on ``channel`` at ``at``."""
        return self._consent(channel, True, at, source)

    def withdraw_consent(
        self, channel: MarketingChannel | str, at: datetime, source: str | None = None
    ) -> Outcome[Customer]:
        """Record that the customer withdrew consent for ``channel`` at ``at``."""
        return self._consent(channel, False, at, source)

    def tag(self, tags: Iterable[str], at: datetime) -> Outcome[Customer]:
        """Add tags (normalised); no event when all are already present."""
        when = self._event_time(at)
        added = normalize_tags(tags) - self.tags
        if not added:
            return Outcome(self)
        updated = attrs.evolve(self, tags=self.tags | added)
        return Outcome(updated, (TagsChanged(aggregate_id=self.id, occurred_at=when, added=added),))

    def untag(self, tags: Iterable[str], at: datetime) -> Outcome[Customer]:
        """Remove tags; no event when none was present."""
        when = self._event_time(at)
        removed = normalize_tags(tags) & self.tags
        if not removed:
            return Outcome(self)
        updated = attrs.evolve(self, tags=self.tags - removed)
        return Outcome(
            updated, (TagsChanged(aggregate_id=self.id, occurred_at=when, removed=removed),)
        )

    def has_tag(self, tag: str) -> bool:
        """True when the customer carries ``tag`` (compared in normal form)."""
        return normalize_tag(tag) in self.tags

    def set_attribute(self, name: str, value: AttributeValue, at: datetime) -> Outcome[Customer]:
        """Set a custom attribute; no event when the value is unchanged."""
        when = self._event_time(at)
        key, clean = normalize_attribute(name, value)
        current = self.attributes.get(key, _KEEP)
        if current is not _KEEP and type(current) is type(clean) and current == clean:
            return Outcome(self)
        updated = attrs.evolve(self, attributes=self.attributes.set(key, clean))
        return Outcome(
            updated, (AttributeChanged(aggregate_id=self.id, occurred_at=when, name=key),)
        )

    def remove_attribute(self, name: str, at: datetime) -> Outcome[Customer]:
        """Remove a custom attribute; no event when it was not set."""
        when = self._event_time(at)
        if validators.instance_of(name, str, "name", "a string") not in self.attributes:
            return Outcome(self)
        updated = attrs.evolve(self, attributes=self.attributes.delete(name))
        event = AttributeChanged(aggregate_id=self.id, occurred_at=when, name=name, removed=True)
        return Outcome(updated, (event,))

    def _own(self, record_customer: str, what: str) -> None:
        if record_customer != self.id:
            raise ValidationError(
                f"{what}.customer_id",
                record_customer,
                f"belongs to another customer than {self.id!r}",
            )

    def record_purchase(self, purchase: Purchase) -> Outcome[Customer]:
        """Add a purchase to the running summary; raises ``PurchaseRecorded``."""
        validators.instance_of(purchase, Purchase, "purchase")
        self._alive()
        self._own(purchase.customer_id, "purchase")
        updated = attrs.evolve(self, purchases=self.purchases.add(purchase))
        event = PurchaseRecorded(
            aggregate_id=self.id,
            occurred_at=purchase.at,
            order_id=purchase.order_id,
            amount=purchase.amount,
            items=purchase.items,
            channel=purchase.channel,
            category=purchase.category,
        )
        return Outcome(updated, (event,))

    def record_interaction(self, interaction: Interaction) -> Outcome[Customer]:
        """Count a touchpoint interaction; raises ``InteractionRecorded``."""
        validators.instance_of(interaction, Interaction, "interaction", "an Interaction")
        self._alive()
        self._own(interaction.customer_id, "interaction")
        updated = attrs.evolve(self, interactions=self.interactions.add(interaction.at))
        event = InteractionRecorded(
            aggregate_id=self.id,
            occurred_at=interaction.at,
            interaction_id=interaction.id,
            channel=interaction.channel,
            interaction_kind=interaction.kind,
            stage=interaction.stage,
        )
        return Outcome(updated, (event,))

    def record_service(self, record: ServiceRecord) -> Outcome[Customer]:
        """Count a service record; raises ``ServiceRecorded``."""
        validators.instance_of(record, ServiceRecord, "record")
        self._alive()
        self._own(record.customer_id, "service_record")
        updated = attrs.evolve(self, service=self.service.add(record.at))
        event = ServiceRecorded(
            aggregate_id=self.id,
            occurred_at=record.at,
            record_id=record.id,
            service_kind=record.kind,
            channel=record.channel,
        )
        return Outcome(updated, (event,))

    def erase(self, at: datetime, reason: str = "data subject request") -> Outcome[Customer]:
        """Anonymise the customer (right to erasure); raises ``CustomerErased``.

        Removed: name, contact, demographics, region/city/postal code,
        psychographics and custom attributes. Kept, as non-identifying
        aggregates: the id, country, tags, the purchase/interaction/service
        summaries and the consent history (without the free-text ``source`` of
        each decision), to which a withdrawal on every channel is appended so
        nobody markets to the erased record. Afterwards
        every change raises [`CustomerErasedError`][crmcore.kernel.errors.CustomerErasedError].
        """
        when = self._event_time(at)
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError("reason", reason, "must be a non-empty string")
        withdrawals = [
            ConsentRecord(channel, False, when, "erasure")
            for channel in MarketingChannel
            if self.consent_status(channel, when) is ConsentStatus.GRANTED
        ]
        erased = attrs.evolve(
            self,
            name=ERASED_NAME,
            contact=Contact(),
            demographics=Demographics(),
            geography=Geography(country=self.geography.country),
            psychographics=Psychographics(),
            attributes=FrozenDict(),
            # the decisions stay (nobody may market to the record); their free-text
            # evidence may name the person, so it goes
            consents=tuple(attrs.evolve(c, source=None) for c in (*self.consents, *withdrawals)),
            erased_at=when,
        )
        event = CustomerErased(aggregate_id=self.id, occurred_at=when, reason=reason.strip())
        return Outcome(erased, (event,))
