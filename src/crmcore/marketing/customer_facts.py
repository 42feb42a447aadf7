"""What the automation engine knows about a customer: a flat record, consent, a time zone.

The engine ([`advance()`][crmcore.marketing.engine.advance]) never loads anything: the host passes
one [`CustomerFacts`][crmcore.marketing.customer_facts.CustomerFacts] per customer it touches. Facts
are a snapshot taken at ``as_of``:

* ``record``: the flat record segment rules run on
  ([`customer_record()`][crmcore.columnar.schema.customer_record], or a row of
  `CustomerFrame.to_records()`): workflow conditions, branches and goals are tested on it, as of
  ``as_of`` (relative windows such as ``within 30 days`` end there);
* ``consents``: the consent history of a [`Customer`][crmcore.customers.Customer] when the facts
  come from one, so consent is judged at the instant of each send and a withdrawal is told apart
  from consent never given; facts built from a record use its ``consent_<channel>`` flags;
* ``time_zone``: the customer's IANA zone, from the ``attr.time_zone`` attribute or a default.

Facts hold personal data (the record), so they are built for a call and never stored or put in an
event.

Examples:
    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 5, 1, tzinfo=UTC)
    >>> facts = CustomerFacts.from_record(
    ...     {"id": "c-1", "consent_email": True, "attr.time_zone": "Asia/Shanghai"}, t)
    >>> facts.time_zone, facts.consent("email", t).value, facts.consent("sms", t).value
    ('Asia/Shanghai', 'granted', 'unknown')
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from crmcore.columnar.schema import customer_record
from crmcore.customers.customer import Customer
from crmcore.customers.records import (
    ConsentRecord,
    ConsentStatus,
    MarketingChannel,
    parse_channel,
)
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.ids import CustomerId, customer_id
from crmcore.marketing.local_time import DEFAULT_ZONE, check_zone, zone_of_record

__all__ = ["CustomerFacts", "customer_of"]


def _record(value: object) -> FrozenDict[str, object]:
    if not isinstance(value, Mapping):
        raise ValidationError("record", value, "must be a mapping of column name to value")
    return value if isinstance(value, FrozenDict) else FrozenDict(value)


def _as_of(value: object) -> datetime:
    return to_utc(value, "as_of")


def _zone(value: object) -> str:
    return check_zone(value, "time_zone")


def _consents(value: object) -> tuple[ConsentRecord, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, tuple | list):
        raise ValidationError("consents", value, "must be a sequence of ConsentRecord or None")
    for i, record in enumerate(value):
        if not isinstance(record, ConsentRecord):
            raise ValidationError(f"consents[{i}]", record, "must be a ConsentRecord")
    return tuple(sorted(value, key=lambda r: r.at))


@attrs.frozen
class CustomerFacts:
    """One customer as the engine sees it: ``record`` as of ``as_of``, consent and time zone.

    Build it with [`from_customer()`][crmcore.marketing.customer_facts.CustomerFacts.from_customer]
    or [`from_record()`][crmcore.marketing.customer_facts.CustomerFacts.from_record]; the record
    must carry the customer's ``id``.
    """

    customer_id: CustomerId = attrs.field(converter=customer_id)
    record: FrozenDict[str, object] = attrs.field(converter=_record, repr=False)
    as_of: datetime = attrs.field(converter=_as_of)
    time_zone: str = attrs.field(default=DEFAULT_ZONE, converter=_zone)
    consents: tuple[ConsentRecord, ...] | None = attrs.field(
        default=None, converter=_consents, repr=False
    )
    _erased: bool = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if self.record.get("id") != self.customer_id:
            raise ValidationError(
                "record.id", self.record.get("id"), f"must be the customer id {self.customer_id!r}"
            )
        object.__setattr__(self, "_erased", self.record.get("erased") is True)

    @classmethod
    def from_customer(
        cls, customer: Customer, as_of: datetime, *, default_zone: str = DEFAULT_ZONE
    ) -> CustomerFacts:
        """The facts of a [`Customer`][crmcore.customers.Customer] (its consent history included).

        The zone is the ``time_zone`` custom attribute, else ``default_zone``.
        """
        if not isinstance(customer, Customer):
            raise ValidationError("customer", customer, "must be a Customer")
        record = customer_record(customer)
        return cls(
            customer.id,
            record,
            as_of,
            zone_of_record(record, check_zone(default_zone, "default_zone")),
            customer.consents,
        )

    @classmethod
    def from_record(
        cls, record: Mapping[str, object], as_of: datetime, *, default_zone: str = DEFAULT_ZONE
    ) -> CustomerFacts:
        """The facts of a flat record (``consent_<channel>`` flags give consent).

        The zone is the record's ``attr.time_zone``, else ``default_zone``.
        """
        if not isinstance(record, Mapping):
            raise ValidationError("record", record, "must be a mapping of column name to value")
        return cls(
            customer_id(record.get("id")),
            record,
            as_of,
            zone_of_record(record, check_zone(default_zone, "default_zone")),
        )

    @property
    def erased(self) -> bool:
        """Whether the customer's personal data was erased (nothing is sent to them)."""
        return self._erased

    def consent(self, channel: MarketingChannel | str, at: datetime) -> ConsentStatus:
        """Consent on ``channel`` at ``at``: from the history, else the record's flag.

        A record's ``consent_<channel>`` flag is the latest decision: ``True`` is granted,
        anything else unknown (a record cannot tell a withdrawal from consent never given).
        In a history, the latest decision at or before ``at`` counts; of decisions made at the
        same instant, a withdrawal wins (the safe reading, whatever their order).
        """
        wanted = parse_channel(channel)
        if self.consents is None:
            flag = self.record.get(f"consent_{wanted.value}")
            return ConsentStatus.GRANTED if flag is True else ConsentStatus.UNKNOWN
        when = to_utc(at, "at")
        status = ConsentStatus.UNKNOWN
        last: datetime | None = None
        for record in self.consents:
            if record.at > when:
                break
            if record.channel is wanted:
                withdrawn_then = record.at == last and status is ConsentStatus.WITHDRAWN
                granted = record.granted and not withdrawn_then
                status = ConsentStatus.GRANTED if granted else ConsentStatus.WITHDRAWN
                last = record.at
        return status


def customer_of(event: Any) -> str | None:
    """The customer an event is about: its ``customer_id`` field, else its ``aggregate_id``."""
    value = getattr(event, "customer_id", None)
    if isinstance(value, str):
        return value
    aggregate = getattr(event, "aggregate_id", None)
    return aggregate if isinstance(aggregate, str) else None
