"""How a customer is stored in SQLite: real columns, tags and custom attributes.

Each scalar column of [`CUSTOMER_SCHEMA`][crmcore.columnar.schema.CUSTOMER_SCHEMA] is a
real column of the ``customers`` table (next to ``id``, ``version`` and the
JSON ``body``), so that segment SQL and frames read plain columns. The
tag-set columns are rows of ``customer_tags`` and the custom attributes rows
of ``customer_attributes`` (with the codec's type tag, so that they are
restored exactly). `customer_rows()` writes a customer as those rows and
[`customer_records_from_rows()`][crmcore.storage.sqlite.customer_columns.customer_records_from_rows]
reads them back as [`customer_record()`][crmcore.columnar.schema.customer_record] dicts without
decoding JSON.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from crmcore.columnar.schema import CUSTOMER_SCHEMA, ColumnKind, customer_record
from crmcore.customers.customer import AttributeValue, Customer
from crmcore.kernel.clock import from_micros, to_micros
from crmcore.kernel.errors import StorageError, ValidationError
from crmcore.storage.kinds import CUSTOMERS, AggregateKind
from crmcore.storage.sqlite.encoding import (
    Row,
    SqlValue,
    corrupt,
    encode_body,
    placeholders,
    quote,
)

__all__ = [
    "CUSTOMER_COLUMNS",
    "CUSTOMER_INDEX_COLUMNS",
    "CUSTOMER_KEY_COLUMNS",
    "CUSTOMER_SELECT",
    "CUSTOMER_UPSERT",
    "EMAIL_INDEX",
    "check_customer_columns",
    "customer_records_from_rows",
    "customer_rows",
    "is_customers",
]

_SCALARS: Final = tuple(c for c in CUSTOMER_SCHEMA.columns if c.kind != "tags" and c.name != "id")
"""Scalar CUSTOMER_SCHEMA columns stored as real columns of ``customers`` (schema order)."""
_TAG_FIELDS: Final = tuple(c.name for c in CUSTOMER_SCHEMA.columns if c.kind == "tags")
"""The tag-set columns, stored as rows of ``customer_tags`` (field = column name)."""
CUSTOMER_COLUMNS: Final = ("id", "version", "body", *(c.name for c in _SCALARS))
"""The columns of ``customers``, in table order."""
EMAIL_INDEX: Final = CUSTOMER_COLUMNS.index("email")
"""Where the e-mail is in a row of CUSTOMER_COLUMNS."""
CUSTOMER_KEY_COLUMNS: Final = {"email": "email"}
"""Customer unique keys (CUSTOMERS.unique_keys) and the column holding each."""

CUSTOMER_INDEX_COLUMNS: Final = {"phone": "phone"}
"""Customer indexes (CUSTOMERS.indexes) and the column holding each (an indexed column)."""

if not {name for name, _get in CUSTOMERS.unique_keys} <= set(CUSTOMER_KEY_COLUMNS):
    raise ImportError("every unique key of CUSTOMERS needs a column in the SQLite adapter")
if not {name for name, _get in CUSTOMERS.indexes} <= set(CUSTOMER_INDEX_COLUMNS):
    raise ImportError("every index of CUSTOMERS needs a column in the SQLite adapter")

CUSTOMER_UPSERT: Final = (
    f"INSERT INTO customers ({', '.join(map(quote, CUSTOMER_COLUMNS))}) "
    f"VALUES ({placeholders(len(CUSTOMER_COLUMNS))}) ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in CUSTOMER_COLUMNS[1:])
)
"""Inserts a customer row (CUSTOMER_COLUMNS), or updates the stored one."""
CUSTOMER_SELECT: Final = f"SELECT id, {', '.join(quote(c.name) for c in _SCALARS)} FROM customers"
"""The id and scalar columns of every customer (for
[`customer_records_from_rows()`][crmcore.storage.sqlite.customer_columns.customer_records_from_rows]).
"""


def _column_to_sql(kind: ColumnKind, value: object) -> SqlValue:
    if value is None:
        return None
    if kind == "datetime" and isinstance(value, datetime):
        return to_micros(value)
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    if kind == "bool" and isinstance(value, bool):
        return int(value)
    if kind == "float" and isinstance(value, int | float):
        return float(value)
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind in ("string", "category") and isinstance(value, str):
        return value
    raise ValidationError("customer column", value, f"is not a {kind} value")


def _reader(kind: ColumnKind) -> Callable[[Any], object]:
    """How to turn a stored column value of ``kind`` back into its record value."""
    readers: dict[ColumnKind, Callable[[Any], object]] = {
        "datetime": from_micros,
        "date": date.fromisoformat,
        "bool": bool,
        "float": float,
        "int": int,
    }
    read = readers.get(kind, str)
    return lambda value: None if value is None else read(value)


_READERS: Final = tuple(_reader(c.kind) for c in _SCALARS)


_INT64: Final = range(-(2**63), 2**63)
"""The ints stored as INTEGER; larger ones are stored as text."""


def _attribute_to_sql(value: AttributeValue) -> tuple[str, SqlValue]:
    """A custom attribute as (codec type tag, stored value), restorable exactly."""
    # bool before int and datetime before date: both are subclasses.
    if isinstance(value, bool):
        return "bool", int(value)
    if isinstance(value, datetime):
        return "datetime", to_micros(value)
    if isinstance(value, date):
        return "date", value.isoformat()
    if isinstance(value, Decimal):
        return "decimal", str(value)
    if isinstance(value, int):
        return "int", value if value in _INT64 else str(value)  # beyond 64 bits: as text
    if isinstance(value, float):
        return "float", value  # the value column has no affinity: -0.0 and 3.0 stay REAL
    if isinstance(value, str):
        return "str", value
    raise ValidationError("attributes", value, "is not a storable attribute value")


def _attribute_from_sql(tag: str, value: Any) -> AttributeValue:
    if tag == "bool":
        return bool(value)
    if tag == "datetime":
        return from_micros(value)
    if tag == "date":
        return date.fromisoformat(value)
    if tag == "decimal":
        return Decimal(value)
    if tag == "int":
        return int(value)
    if tag == "float":
        return float(value)
    if tag == "str" and isinstance(value, str):
        return value
    raise ValueError(f"unknown attribute type {tag!r} for {value!r}")


def is_customers(kind: AggregateKind[Any]) -> bool:
    """Whether ``kind`` is stored in the ``customers`` table (not as a JSON aggregate)."""
    return kind.name == CUSTOMERS.name


def customer_rows(customer: Customer) -> tuple[Row, list[Row], list[Row]]:
    record = customer_record(customer)
    row: Row = (
        customer.id,
        customer.version,
        encode_body(customer),
        *(_column_to_sql(c.kind, record[c.name]) for c in _SCALARS),
    )
    tags: list[Row] = []
    for field in _TAG_FIELDS:
        values = record[field]
        assert isinstance(values, frozenset)
        tags.extend((customer.id, field, tag) for tag in sorted(values))
    attributes: list[Row] = [
        (customer.id, name, ordinal, *_attribute_to_sql(value))
        for ordinal, (name, value) in enumerate(customer.attributes.items())
    ]
    return row, tags, attributes


def customer_records_from_rows(
    scalars: list[Any],
    tags: Mapping[str, Mapping[str, set[str]]],
    attributes: Mapping[str, list[tuple[str, str, Any]]],
) -> Iterator[dict[str, object]]:
    """Records from the rows of ``customers``, ``customer_tags`` and ``customer_attributes``."""
    no_tags: dict[str, set[str]] = {}
    for row in scalars:
        id = row[0]
        try:
            values = {
                c.name: read(v) for c, read, v in zip(_SCALARS, _READERS, row[1:], strict=True)
            }
            own_tags = tags.get(id, no_tags)
            record: dict[str, object] = {}
            for column in CUSTOMER_SCHEMA.columns:  # customer_record's key order
                if column.name == "id":
                    record["id"] = id
                elif column.kind == "tags":
                    record[column.name] = frozenset(own_tags.get(column.name, ()))
                else:
                    record[column.name] = values[column.name]
            for name, tag, value in attributes.get(id, ()):
                record[f"attr.{name}"] = _attribute_from_sql(tag, value)
        except (ValueError, TypeError, OverflowError) as exc:
            raise corrupt("customer", id, exc) from exc
        yield record


def check_customer_columns(connection: sqlite3.Connection, location: str) -> None:
    """Fail clearly when CUSTOMER_SCHEMA has a column that no migration has added yet."""
    present = {row[1] for row in connection.execute("PRAGMA table_info(customers)")}
    missing = [c for c in CUSTOMER_COLUMNS if c not in present]
    if missing:
        raise StorageError(
            f"SQLite open of {location!r} failed: the customers table lacks columns {missing}; "
            "CUSTOMER_SCHEMA changed without a migration in crmcore.storage.sqlite.schema"
        )
