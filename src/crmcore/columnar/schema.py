"""Column schemas: the flat shape of customers, transactions and events.

One schema serves every flat representation of a customer: the columns of a
[`CustomerFrame`][crmcore.columnar.frame.CustomerFrame], the records (dicts) it is
built from, the header of its CSV files and the columns of the SQLite
``customers`` table, where segment SQL will run. Keeping the names in one
place is what lets a rule mean the same thing in all of them.

Column kinds and how each is held in memory (numpy), with its missing value:

| kind | numpy dtype | missing value |
|---|---|---|
| ``string`` | ``StringDType`` | ``None`` in records; mask + ``""`` |
| ``float`` | ``float64`` | ``NaN`` |
| ``int`` | narrowest of ``int8`` .. ``int64`` holding the values | mask + ``0`` (if any) |
| ``bool`` | ``bool`` | mask + ``False`` (if any) |
| ``datetime`` | ``datetime64[us]`` (UTC) | ``NaT`` |
| ``date`` | ``datetime64[D]`` | ``NaT`` |
| ``category`` | narrowest signed integer codes | code ``-1``; categories kept sorted |
| ``tags`` | CSR: ``int64`` offsets + narrowest integer codes | an empty set (no "missing" state) |
"""

from __future__ import annotations

from typing import Final, Literal

import attrs

from crmcore.customers.customer import Customer
from crmcore.customers.records import MarketingChannel
from crmcore.kernel.errors import NotFoundError, ValidationError

__all__ = [
    "CUSTOMER_SCHEMA",
    "EVENT_SCHEMA",
    "TRANSACTION_SCHEMA",
    "ColumnKind",
    "ColumnSpec",
    "Schema",
    "customer_record",
]

ColumnKind = Literal["string", "float", "int", "bool", "datetime", "date", "category", "tags"]
COLUMN_KINDS: Final[tuple[ColumnKind, ...]] = (
    "string",
    "float",
    "int",
    "bool",
    "datetime",
    "date",
    "category",
    "tags",
)


@attrs.frozen
class ColumnSpec:
    """One column: its name, kind, whether it may be missing, and what it means."""

    name: str
    kind: ColumnKind
    nullable: bool = True
    doc: str = ""


@attrs.frozen
class Schema:
    """An ordered set of columns."""

    columns: tuple[ColumnSpec, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Column names, in order."""
        return tuple(c.name for c in self.columns)

    def __getitem__(self, name: str) -> ColumnSpec:
        for column in self.columns:
            if column.name == name:
                return column
        raise NotFoundError("column", name)

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)


def _c(name: str, kind: ColumnKind, doc: str, nullable: bool = True) -> ColumnSpec:
    return ColumnSpec(name, kind, nullable, doc)


CUSTOMER_SCHEMA: Final = Schema(
    (
        _c("id", "string", "customer id", nullable=False),
        _c("name", "string", "display name", nullable=False),
        _c("email", "string", "normalised e-mail address"),
        _c("phone", "string", "E.164 phone number"),
        _c("created_at", "datetime", "when the customer record was created", nullable=False),
        _c("birth_date", "date", "date of birth"),
        _c("gender", "category", "Gender value"),
        _c("income_band", "category", "IncomeBand value"),
        _c("education", "category", "Education value"),
        _c("country", "category", "ISO 3166-1 alpha-2 code"),
        _c("region", "category", "region / state / province"),
        _c("city", "category", "city"),
        _c("postal_code", "string", "postal code"),
        _c("tags", "tags", "segment and marketing tags"),
        _c("interests", "tags", "psychographic interests"),
        _c("lifestyle", "tags", "psychographic lifestyle traits"),
        _c("values", "tags", "psychographic values"),
        _c("purchase_count", "int", "number of purchases", nullable=False),
        _c("items_purchased", "int", "number of items over all purchases", nullable=False),
        _c("total_spent", "float", "total spend in the customer's currency (0 if none)", False),
        _c("currency", "category", "ISO 4217 code of total_spent"),
        _c("first_purchase_at", "datetime", "time of the first purchase"),
        _c("last_purchase_at", "datetime", "time of the latest purchase"),
        _c("interaction_count", "int", "number of touchpoint interactions", nullable=False),
        _c("last_interaction_at", "datetime", "time of the latest interaction"),
        _c("service_count", "int", "number of service records", nullable=False),
        _c("last_service_at", "datetime", "time of the latest service record"),
        *(
            _c(
                f"consent_{ch.value}",
                "bool",
                f"latest {ch.value} marketing consent is granted",
                False,
            )
            for ch in MarketingChannel
        ),
        _c("erased", "bool", "personal data has been erased", nullable=False),
    )
)
"""The standard customer columns. Custom attributes follow as ``attr.<name>``
columns whose kind is inferred from their values.
"""

TRANSACTION_SCHEMA: Final = Schema(
    (
        _c("customer_id", "string", "customer id", nullable=False),
        _c("at", "datetime", "time of the purchase", nullable=False),
        _c("amount", "float", "amount paid (negative: a return); quantity x unit_price", False),
        _c("currency", "category", "ISO 4217 code"),
        _c("order_id", "string", "order id: the rows of one order are its lines"),
        _c("items", "int", "number of items"),
        _c("channel", "category", "sales channel"),
        _c("category", "category", "product category"),
        _c("quantity", "int", "units on the line (negative: returned)"),
        _c("unit_price", "float", "price of one unit"),
    )
)
"""A transaction log: one row per purchase, or per order line (rows sharing an ``order_id``).

``amount`` is the row's value; with ``quantity`` and ``unit_price`` it may be
left out and is then computed, exactly, as their product. A negative amount
or quantity is a return. How every analysis reads these rows (purchase
occasions, returns, guests) is [`crmcore.columnar.occasions`][crmcore.columnar.occasions].
"""

EVENT_SCHEMA: Final = Schema(
    (
        _c("customer_id", "string", "customer id", nullable=False),
        _c("at", "datetime", "time of the event", nullable=False),
        _c("kind", "category", "event kind (an interaction kind or a funnel stage label)", False),
        _c("channel", "category", "touchpoint channel"),
        _c("stage", "category", "funnel stage label, where the event places one"),
    )
)
"""An event log: one row per customer event (interaction kind or funnel stage)."""

RecordValue = object
"""Scalar values a flat record may hold (``tags`` columns hold frozensets)."""


def customer_record(customer: Customer) -> dict[str, RecordValue]:
    """Flatten a customer into a record with the
    [`CUSTOMER_SCHEMA`][crmcore.columnar.schema.CUSTOMER_SCHEMA] columns.

    Datetimes stay aware ``datetime`` (UTC), dates ``date``, enums become
    their string values, money a float ``total_spent`` plus ``currency``;
    custom attributes appear as ``attr.<name>`` keys.
    """
    if not isinstance(customer, Customer):
        raise ValidationError("customer", type(customer).__name__, "must be a Customer")
    c = customer
    total = c.purchases.total
    latest: dict[MarketingChannel, bool] = {}
    for consent in c.consents:  # time-ordered: the last decision wins
        latest[consent.channel] = consent.granted
    record: dict[str, RecordValue] = {
        "id": c.id,
        "name": c.name,
        "email": c.contact.email,
        "phone": c.contact.phone,
        "created_at": c.created_at,
        "birth_date": c.demographics.birth_date,
        "gender": None if c.demographics.gender is None else c.demographics.gender.value,
        "income_band": None
        if c.demographics.income_band is None
        else c.demographics.income_band.value,
        "education": None if c.demographics.education is None else c.demographics.education.value,
        "country": c.geography.country,
        "region": c.geography.region,
        "city": c.geography.city,
        "postal_code": c.geography.postal_code,
        "tags": c.tags,
        "interests": c.psychographics.interests,
        "lifestyle": c.psychographics.lifestyle,
        "values": c.psychographics.values,
        "purchase_count": c.purchases.count,
        "items_purchased": c.purchases.items,
        "total_spent": 0.0 if total is None else float(total.amount),
        "currency": None if total is None else total.currency,
        "first_purchase_at": c.purchases.first_at,
        "last_purchase_at": c.purchases.last_at,
        "interaction_count": c.interactions.count,
        "last_interaction_at": c.interactions.last_at,
        "service_count": c.service.count,
        "last_service_at": c.service.last_at,
        **{f"consent_{ch.value}": latest.get(ch, False) for ch in MarketingChannel},
        "erased": c.is_erased,
    }
    for name, value in c.attributes.items():
        record[f"attr.{name}"] = value
    return record
