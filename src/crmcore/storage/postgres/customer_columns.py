"""How a customer is stored in PostgreSQL: real columns, tags and custom attributes.

Each scalar column of [`CUSTOMER_SCHEMA`][crmcore.columnar.schema.CUSTOMER_SCHEMA] is a typed
column of ``customers`` (next to ``id``, ``version`` and the ``jsonb`` ``body``), so that segment
SQL and frames read plain columns. The tag-set columns are rows of ``customer_tags``; custom
attributes are rows of ``customer_attributes`` with the codec's type tag and exact text (restored
exactly) plus one typed column for SQL (``text_value``, ``number_value``, ``bool_value``,
``date_value`` or ``time_value``).
[`customer_rows()`][crmcore.storage.postgres.customer_columns.customer_rows] writes a customer as
those rows and [`customer_records()`][crmcore.storage.postgres.customer_columns.customer_records]
reads them back as [`customer_record()`][crmcore.columnar.schema.customer_record] dicts without
decoding JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final

from crmcore.columnar.schema import CUSTOMER_SCHEMA, customer_record
from crmcore.customers.customer import AttributeValue, Customer
from crmcore.kernel.errors import ValidationError
from crmcore.storage.kinds import CUSTOMERS, AggregateKind
from crmcore.storage.postgres.connections import quote
from crmcore.storage.postgres.documents import Row, corrupt, encode_document

__all__ = [
    "ATTRIBUTE_COLUMNS",
    "ATTRIBUTE_VALUE_COLUMN",
    "CUSTOMER_COLUMNS",
    "CUSTOMER_INDEX_COLUMNS",
    "CUSTOMER_KEY_COLUMNS",
    "CUSTOMER_SELECT",
    "EMAIL_INDEX",
    "SCALAR_COLUMNS",
    "customer_records",
    "customer_rows",
    "is_customers",
]

_SCALARS: Final = tuple(c for c in CUSTOMER_SCHEMA.columns if c.kind != "tags" and c.name != "id")
SCALAR_COLUMNS: Final = tuple(c.name for c in _SCALARS)
"""The scalar CUSTOMER_SCHEMA columns stored as real columns of ``customers`` (schema order)."""
_TAG_FIELDS: Final = tuple(c.name for c in CUSTOMER_SCHEMA.columns if c.kind == "tags")
CUSTOMER_COLUMNS: Final = ("id", "version", "body", *SCALAR_COLUMNS)
"""The columns of ``customers`` a customer row fills, in order (``body`` is cast to ``jsonb``)."""
EMAIL_INDEX: Final = CUSTOMER_COLUMNS.index("email")
"""Where the e-mail is in a customer row."""
CUSTOMER_KEY_COLUMNS: Final = {"email": "email"}
"""Customer unique keys (CUSTOMERS.unique_keys) and the column holding each."""
CUSTOMER_INDEX_COLUMNS: Final = {"phone": "phone"}
"""Customer indexes (CUSTOMERS.indexes) and the column holding each (an indexed column)."""
ATTRIBUTE_COLUMNS: Final = (
    "customer_id",
    "name",
    "ordinal",
    "type",
    "value",
    "text_value",
    "number_value",
    "bool_value",
    "date_value",
    "time_value",
)
"""The columns of ``customer_attributes``, in the order of an attribute row."""
ATTRIBUTE_VALUE_COLUMN: Final = {
    "string": "text_value",
    "number": "number_value",
    "bool": "bool_value",
    "date": "date_value",
    "datetime": "time_value",
}
"""The typed column of ``customer_attributes`` segment SQL reads for each rule type."""

if not {name for name, _get in CUSTOMERS.unique_keys} <= set(CUSTOMER_KEY_COLUMNS):
    raise ImportError("every unique key of CUSTOMERS needs a column in the PostgreSQL adapter")
if not {name for name, _get in CUSTOMERS.indexes} <= set(CUSTOMER_INDEX_COLUMNS):
    raise ImportError("every index of CUSTOMERS needs a column in the PostgreSQL adapter")


def is_customers(kind: AggregateKind[Any]) -> bool:
    """Whether ``kind`` is stored in the ``customers`` table (not as a JSON aggregate)."""
    return kind.name == CUSTOMERS.name


def _check(kind: str, value: object) -> object:
    """A record value as its column's parameter (refusing a value of the wrong type)."""
    if value is None:
        return None
    if kind == "datetime":
        ok = isinstance(value, datetime)
    elif kind == "date":
        ok = isinstance(value, date) and not isinstance(value, datetime)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind in ("float", "int"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and (kind == "float" or isinstance(value, int))
        if ok and kind == "float":
            return float(value)  # type: ignore[arg-type]
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ValidationError("customer column", value, f"is not a {kind} value")
    return value


def _attribute(value: AttributeValue) -> tuple[str, str, Any, Any, Any, Any, Any]:
    """A custom attribute as (type tag, exact text, text, number, bool, date, time)."""
    # bool before int and datetime before date: both are subclasses.
    if isinstance(value, bool):
        return "bool", "true" if value else "false", None, None, value, None, None
    if isinstance(value, datetime):
        utc = value.astimezone(UTC)
        return "datetime", utc.isoformat(), None, None, None, None, utc
    if isinstance(value, date):
        return "date", value.isoformat(), None, None, None, value, None
    if isinstance(value, Decimal):
        return "decimal", str(value), None, _number(value), None, None, None
    if isinstance(value, int):
        return "int", str(value), None, _number(value), None, None, None
    if isinstance(value, float):
        return "float", repr(value), None, _number(value), None, None, None
    if isinstance(value, str):
        return "str", value, value, None, None, None, None
    raise ValidationError("attributes", value, "is not a storable attribute value")


def _number(value: int | float | Decimal) -> float | None:
    try:
        number = float(value)
    except OverflowError:
        return None  # beyond a double: kept exactly in ``value``, not comparable in SQL
    return number if math.isfinite(number) or isinstance(value, float) else None


def _attribute_value(tag: str, text: str) -> AttributeValue:
    if tag == "str":
        return text
    if tag == "bool":
        if text not in ("true", "false"):
            raise ValueError(f"bad bool {text!r}")
        return text == "true"
    if tag == "int":
        return int(text)
    if tag == "float":
        return float(text)
    if tag == "decimal":
        return Decimal(text)
    if tag == "date":
        return date.fromisoformat(text)
    if tag == "datetime":
        return datetime.fromisoformat(text).astimezone(UTC)
    raise ValueError(f"unknown attribute type {tag!r}")


def customer_rows(customer: Customer) -> tuple[Row, list[Row], list[Row]]:
    """A customer as its ``customers`` row, its tag rows and its attribute rows."""
    record = customer_record(customer)
    row: Row = (
        customer.id,
        customer.version,
        encode_document(customer),
        *(_check(c.kind, record[c.name]) for c in _SCALARS),
    )
    tags: list[Row] = []
    for field in _TAG_FIELDS:
        values = record[field]
        assert isinstance(values, frozenset)
        tags.extend((customer.id, field, tag) for tag in sorted(values))
    attributes: list[Row] = [
        (customer.id, name, ordinal, *_attribute(value))
        for ordinal, (name, value) in enumerate(customer.attributes.items())
    ]
    return row, tags, attributes


CUSTOMER_SELECT: Final = "SELECT id, " + ", ".join(quote(name) for name in SCALAR_COLUMNS)
"""The start of a SELECT of the id and scalar columns of customers (add ``FROM``)."""


def _utc(value: object) -> object:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def customer_records(
    scalars: list[tuple[Any, ...]],
    tags: Mapping[str, Mapping[str, set[str]]],
    attributes: Mapping[str, list[tuple[str, str, str]]],
) -> Iterator[dict[str, object]]:
    """Records from the rows of ``customers`` (``CUSTOMER_SELECT``), ``customer_tags`` and
    ``customer_attributes`` (name, type, value)."""
    no_tags: dict[str, set[str]] = {}
    for row in scalars:
        id = row[0]
        values = dict(zip(SCALAR_COLUMNS, row[1:], strict=True))
        own_tags = tags.get(id, no_tags)
        try:
            record: dict[str, object] = {}
            for column in CUSTOMER_SCHEMA.columns:  # customer_record's key order
                if column.name == "id":
                    record["id"] = id
                elif column.kind == "tags":
                    record[column.name] = frozenset(own_tags.get(column.name, ()))
                else:
                    record[column.name] = _utc(values[column.name])
            for name, tag, text in attributes.get(id, ()):
                record[f"attr.{name}"] = _attribute_value(tag, text)
        except (ValueError, TypeError, OverflowError) as exc:
            raise corrupt("customer", id, exc) from exc
        yield record
