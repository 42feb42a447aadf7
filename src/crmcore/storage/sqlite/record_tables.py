"""Where each kind of record is stored in SQLite, and how it becomes a row.

Purchases, interactions and service records have dedicated tables with one
column per field (so that segment SQL and logs read plain columns); records
of any other [`RecordKind`][crmcore.storage.kinds.RecordKind] share the generic
``records`` table as JSON documents, scoped by their kind.
[`record_table()`][crmcore.storage.sqlite.record_tables.record_table] gives the
[`RecordTable`][crmcore.storage.sqlite.record_tables.RecordTable] of a kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Final

import attrs

from crmcore.customers.records import Interaction, Purchase, ServiceRecord
from crmcore.kernel.clock import from_micros, to_micros
from crmcore.kernel.errors import CrmError
from crmcore.kernel.money import Money
from crmcore.kernel.stage import Stage
from crmcore.storage.kinds import INTERACTIONS, PURCHASES, SERVICE_RECORDS, RecordKind
from crmcore.storage.sqlite.encoding import Row, corrupt, decode_body, dumps, placeholders

__all__ = ["RecordTable", "record_table"]


@attrs.frozen
class RecordTable:
    """Where and how one [`RecordKind`][crmcore.storage.kinds.RecordKind] is stored."""

    entity: str
    table: str
    id_column: str
    columns: tuple[str, ...]  # id column first, then customer_id, at, ...
    to_row: Callable[[Any], Row]
    from_row: Callable[[Sequence[Any]], Any]
    scope: tuple[tuple[str, str], ...] = ()  # fixed column values (the generic table's kind)

    def where(self, condition: str = "") -> str:
        parts = [f"{column} = ?" for column, _value in self.scope]
        if condition:
            parts.append(condition)
        return " WHERE " + " AND ".join(parts) if parts else ""

    @property
    def scope_values(self) -> tuple[str, ...]:
        return tuple(value for _column, value in self.scope)

    @property
    def select(self) -> str:
        return f"SELECT {', '.join(self.columns)} FROM {self.table}"

    @property
    def order(self) -> str:
        return f" ORDER BY at, {self.id_column}"

    def insert(self, replace: bool) -> tuple[str, tuple[str, ...]]:
        columns = (*(c for c, _v in self.scope), *self.columns)
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        values = placeholders(len(columns))
        return f"{verb} INTO {self.table} ({', '.join(columns)}) VALUES ({values})", columns

    def rebuild(self, row: Sequence[Any]) -> Any:
        try:
            return self.from_row(row)
        except (CrmError, ValueError, TypeError) as exc:
            raise corrupt(self.entity, row[0], exc) from exc


def _purchase_row(p: Purchase) -> Row:
    return (
        p.order_id,
        p.customer_id,
        to_micros(p.at),
        str(p.amount.amount),
        p.amount.currency,
        p.items,
        p.channel,
        p.category,
    )


def _purchase(row: Sequence[Any]) -> Purchase:
    return Purchase(
        order_id=row[0],
        customer_id=row[1],
        at=from_micros(row[2]),
        amount=Money(Decimal(row[3]), row[4]),
        items=row[5],
        channel=row[6],
        category=row[7],
    )


def _interaction_row(i: Interaction) -> Row:
    stage = None if i.stage is None else i.stage.label
    return (i.id, i.customer_id, to_micros(i.at), i.channel, i.kind, stage, i.note)


def _interaction(row: Sequence[Any]) -> Interaction:
    return Interaction(
        id=row[0],
        customer_id=row[1],
        at=from_micros(row[2]),
        channel=row[3],
        kind=row[4],
        stage=None if row[5] is None else Stage.parse(row[5]),
        note=row[6],
    )


def _service_row(s: ServiceRecord) -> Row:
    resolved = None if s.resolved_at is None else to_micros(s.resolved_at)
    return (s.id, s.customer_id, to_micros(s.at), s.kind, s.channel, s.summary, resolved)


def _service_record(row: Sequence[Any]) -> ServiceRecord:
    return ServiceRecord(
        id=row[0],
        customer_id=row[1],
        at=from_micros(row[2]),
        kind=row[3],
        channel=row[4],
        summary=row[5],
        resolved_at=None if row[6] is None else from_micros(row[6]),
    )


_DEDICATED: Final[dict[str, RecordTable]] = {
    PURCHASES.name: RecordTable(
        PURCHASES.name,
        "purchases",
        "order_id",
        ("order_id", "customer_id", "at", "amount", "currency", "items", "channel", "category"),
        _purchase_row,
        _purchase,
    ),
    INTERACTIONS.name: RecordTable(
        INTERACTIONS.name,
        "interactions",
        "id",
        ("id", "customer_id", "at", "channel", "kind", "stage", "note"),
        _interaction_row,
        _interaction,
    ),
    SERVICE_RECORDS.name: RecordTable(
        SERVICE_RECORDS.name,
        "service_records",
        "id",
        ("id", "customer_id", "at", "kind", "channel", "summary", "resolved_at"),
        _service_row,
        _service_record,
    ),
}


def record_table(kind: RecordKind[Any]) -> RecordTable:
    """The dedicated table of a built-in record kind, or the generic ``records`` table."""
    table = _DEDICATED.get(kind.name)
    if table is not None:
        return table

    def to_row(record: Any) -> Row:
        return (
            kind.id_of(record),
            kind.owner_of(record),
            to_micros(kind.at_of(record)),
            dumps(kind.encode(record)),
        )

    def from_row(row: Sequence[Any]) -> Any:
        return decode_body(kind, row[0], row[3])

    return RecordTable(
        kind.name,
        "records",
        "id",
        ("id", "customer_id", "at", "body"),
        to_row,
        from_row,
        (("kind", kind.name),),
    )
