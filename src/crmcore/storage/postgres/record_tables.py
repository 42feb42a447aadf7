"""Where each kind of record is stored in PostgreSQL, and how it becomes a row.

Purchases, interactions and service records have dedicated tables with one typed column per field
(so that segment SQL and logs read plain columns); records of any other
[`RecordKind`][crmcore.storage.kinds.RecordKind] share the generic ``records`` table as ``jsonb``
documents, scoped by their kind (sales and marketing records declared later plug in there).
[`record_table()`][crmcore.storage.postgres.record_tables.record_table] gives the
[`RecordTable`][crmcore.storage.postgres.record_tables.RecordTable] of a kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

import attrs

from crmcore.customers.records import Interaction, Purchase, ServiceRecord
from crmcore.kernel.errors import CrmError
from crmcore.kernel.money import Money
from crmcore.kernel.stage import Stage
from crmcore.storage.kinds import INTERACTIONS, PURCHASES, SERVICE_RECORDS, RecordKind
from crmcore.storage.postgres.documents import Row, corrupt, decode_document, dumps

__all__ = ["RecordTable", "record_table"]


@attrs.frozen
class RecordTable:
    """Where and how one [`RecordKind`][crmcore.storage.kinds.RecordKind] is stored.

    ``columns`` start with the id column, then ``customer_id`` and ``at``; ``casts`` gives a SQL
    cast for a column's parameter (the ``jsonb`` body); ``scope`` fixes column values (the generic
    table's ``kind``).
    """

    entity: str
    table: str
    id_column: str
    columns: tuple[str, ...]
    to_row: Callable[[Any], Row]
    from_row: Callable[[Sequence[Any]], Any]
    scope: tuple[tuple[str, str], ...] = ()
    casts: tuple[tuple[str, str], ...] = ()

    def where(self, condition: str = "") -> str:
        """`` WHERE`` with the scope and ``condition`` (empty when neither)."""
        parts = [f"{column} = %s" for column, _value in self.scope]
        if condition:
            parts.append(condition)
        return " WHERE " + " AND ".join(parts) if parts else ""

    @property
    def scope_values(self) -> tuple[str, ...]:
        """The scope's values, in the order of its placeholders."""
        return tuple(value for _column, value in self.scope)

    def select(self, qualified: str) -> str:
        """``SELECT <columns> FROM <qualified table>``."""
        return f"SELECT {', '.join(self.columns)} FROM {qualified}"

    @property
    def order(self) -> str:
        """`` ORDER BY at, <id>``: the order every adapter returns records in."""
        return f" ORDER BY at, {self.id_column}"

    def insert(self, qualified: str, replace: bool) -> str:
        """The INSERT of one row (scope values first), an upsert when ``replace``."""
        columns = (*(c for c, _v in self.scope), *self.columns)
        cast = dict(self.casts)
        values = ", ".join(f"%s{cast.get(c, '')}" for c in columns)
        sql = f"INSERT INTO {qualified} ({', '.join(columns)}) VALUES ({values})"
        if not replace:
            return sql
        key = ", ".join((*(c for c, _v in self.scope), self.id_column))
        updates = ", ".join(f"{c} = excluded.{c}" for c in self.columns if c != self.id_column)
        return f"{sql} ON CONFLICT ({key}) DO UPDATE SET {updates}"

    def rebuild(self, row: Sequence[Any]) -> Any:
        """The record of a row read with ``select()`` (or
        [`corrupt()`][crmcore.storage.postgres.documents.corrupt])."""
        try:
            return self.from_row(row)
        except (CrmError, ValueError, TypeError, AttributeError) as exc:
            raise corrupt(self.entity, row[0], exc) from exc


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _purchase_row(p: Purchase) -> Row:
    return (
        p.order_id,
        p.customer_id,
        p.at,
        p.amount.amount,
        p.amount.currency,
        p.items,
        p.channel,
        p.category,
    )


def _purchase(row: Sequence[Any]) -> Purchase:
    amount = row[3]
    return Purchase(
        order_id=row[0],
        customer_id=row[1],
        at=_utc(row[2]),
        amount=Money(amount if isinstance(amount, Decimal) else Decimal(str(amount)), row[4]),
        items=row[5],
        channel=row[6],
        category=row[7],
    )


def _interaction_row(i: Interaction) -> Row:
    stage = None if i.stage is None else i.stage.label
    return (i.id, i.customer_id, i.at, i.channel, i.kind, stage, i.note)


def _interaction(row: Sequence[Any]) -> Interaction:
    return Interaction(
        id=row[0],
        customer_id=row[1],
        at=_utc(row[2]),
        channel=row[3],
        kind=row[4],
        stage=None if row[5] is None else Stage.parse(row[5]),
        note=row[6],
    )


def _service_row(s: ServiceRecord) -> Row:
    return (s.id, s.customer_id, s.at, s.kind, s.channel, s.summary, s.resolved_at)


def _service_record(row: Sequence[Any]) -> ServiceRecord:
    return ServiceRecord(
        id=row[0],
        customer_id=row[1],
        at=_utc(row[2]),
        kind=row[3],
        channel=row[4],
        summary=row[5],
        resolved_at=None if row[6] is None else _utc(row[6]),
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
            kind.at_of(record),
            dumps(kind.encode(record)),
        )

    def from_row(row: Sequence[Any]) -> Any:
        return decode_document(kind, row[0], row[3])

    return RecordTable(
        kind.name,
        "records",
        "id",
        ("id", "customer_id", "at", "body"),
        to_row,
        from_row,
        (("kind", kind.name),),
        (("body", "::jsonb"),),
    )
