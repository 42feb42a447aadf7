"""The [`Backend`][crmcore.storage.backend.Backend] over a SQLite database.

Reads run in autocommit, one statement each, except the bulk read behind
[`to_frame()`][crmcore.ports.CustomerRepository.to_frame], which runs in one read
transaction so that it sees one snapshot. `SqliteBackend.apply()`
commits a change set in one ``BEGIN IMMEDIATE`` … ``COMMIT`` transaction:
it re-checks every expected version and unique key first (as the memory
adapter does), then writes the rows [`prepare()`][crmcore.storage.sqlite.writes.prepare]
made, domain events included, and rolls everything back on any failure.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from crmcore.columnar.frame import CustomerFrame, EventLog, TransactionLog
from crmcore.kernel.clock import from_micros
from crmcore.storage._change_rules import Stored, check_changes, writes_by_kind
from crmcore.storage.backend import AggregateWrite, ChangeSet, RecordWrite
from crmcore.storage.kinds import CUSTOMERS, INTERACTIONS, PURCHASES, AggregateKind, RecordKind
from crmcore.storage.sqlite.connections import Connections
from crmcore.storage.sqlite.customer_columns import (
    CUSTOMER_COLUMNS,
    CUSTOMER_INDEX_COLUMNS,
    CUSTOMER_KEY_COLUMNS,
    CUSTOMER_SELECT,
    CUSTOMER_UPSERT,
    EMAIL_INDEX,
    customer_records_from_rows,
    is_customers,
)
from crmcore.storage.sqlite.encoding import (
    Row,
    SqlValue,
    chunks,
    corrupt,
    decode_body,
    placeholders,
    quote,
)
from crmcore.storage.sqlite.errors import storage_error, translated
from crmcore.storage.sqlite.record_tables import record_table
from crmcore.storage.sqlite.writes import Prepared, Writer, prepare

__all__ = ["SqliteBackend"]

A = TypeVar("A")
R = TypeVar("R")


class SqliteBackend:
    """The [`Backend`][crmcore.storage.backend.Backend] over a SQLite database."""

    def __init__(self, connections: Connections) -> None:
        self._db = connections

    # -- reads ---------------------------------------------------------------
    def read(self, sql: str, params: Sequence[SqlValue] = ()) -> list[Any]:
        """The rows of one statement, run in autocommit."""
        with self._db.use() as connection, translated("read"):
            return connection.execute(sql, params).fetchall()

    def fetch(self, kind: AggregateKind[A], id: str) -> A | None:
        if is_customers(kind):
            rows = self.read("SELECT body FROM customers WHERE id = ?", (id,))
        else:
            rows = self.read(
                "SELECT body FROM aggregates WHERE kind = ? AND id = ?", (kind.name, id)
            )
        return decode_body(kind, id, rows[0][0]) if rows else None

    def fetch_by_key(self, kind: AggregateKind[A], key: str, value: str) -> A | None:
        if is_customers(kind):
            column = CUSTOMER_KEY_COLUMNS.get(key)
            if column is None:
                return None
            rows = self.read(f"SELECT id, body FROM customers WHERE {quote(column)} = ?", (value,))
        else:
            rows = self.read(
                "SELECT a.id, a.body FROM aggregate_keys AS k JOIN aggregates AS a"
                " ON a.kind = k.kind AND a.id = k.id"
                " WHERE k.kind = ? AND k.key = ? AND k.value = ?",
                (kind.name, key, value),
            )
        return decode_body(kind, rows[0][0], rows[0][1]) if rows else None

    def fetch_page(self, kind: AggregateKind[A], limit: int, after: str | None) -> list[A]:
        if is_customers(kind):
            sql, params = "SELECT id, body FROM customers", []
            prefix = " WHERE"
        else:
            sql, params = "SELECT id, body FROM aggregates WHERE kind = ?", [kind.name]
            prefix = " AND"
        if after is not None:
            sql += f"{prefix} id > ?"
            params.append(after)
        rows = self.read(f"{sql} ORDER BY id LIMIT ?", (*params, limit))
        return [decode_body(kind, id, body) for id, body in rows]

    def count(self, kind: AggregateKind[Any]) -> int:
        if is_customers(kind):
            rows = self.read("SELECT COUNT(*) FROM customers")
        else:
            rows = self.read("SELECT COUNT(*) FROM aggregates WHERE kind = ?", (kind.name,))
        count: int = rows[0][0]
        return count

    def fetch_many(self, kind: AggregateKind[A], ids: Sequence[str]) -> list[A]:
        found: dict[str, A] = {}
        for chunk in chunks(sorted(set(ids))):
            marks = placeholders(len(chunk))
            if is_customers(kind):
                sql, params = f"SELECT id, body FROM customers WHERE id IN ({marks})", chunk
            else:
                sql = f"SELECT id, body FROM aggregates WHERE kind = ? AND id IN ({marks})"
                params = (kind.name, *chunk)
            for id, body in self.read(sql, params):
                found[id] = decode_body(kind, id, body)
        return [found[id] for id in sorted(found)]

    def fetch_indexed(self, kind: AggregateKind[A], index: str, values: Sequence[str]) -> list[A]:
        found: dict[str, A] = {}
        for chunk in chunks(sorted(set(values))):
            marks = placeholders(len(chunk))
            if is_customers(kind):
                column = quote(CUSTOMER_INDEX_COLUMNS[index])
                sql = f"SELECT id, body FROM customers WHERE {column} IN ({marks})"
                params: tuple[SqlValue, ...] = tuple(chunk)
            else:
                sql = (
                    "SELECT DISTINCT a.id, a.body FROM aggregate_index AS i JOIN aggregates AS a"
                    " ON a.kind = i.kind AND a.id = i.id"
                    f" WHERE i.kind = ? AND i.name = ? AND i.value IN ({marks})"
                )
                params = (kind.name, index, *chunk)
            for id, body in self.read(sql, params):
                if id not in found:
                    found[id] = decode_body(kind, id, body)
        return [found[id] for id in sorted(found)]

    def fetch_range(self, kind: AggregateKind[A], index: str, low: str, high: str) -> list[A]:
        if is_customers(kind):
            column = quote(CUSTOMER_INDEX_COLUMNS[index])
            rows = self.read(
                f"SELECT {column}, id, body FROM customers WHERE {column} BETWEEN ? AND ?"
                f" ORDER BY {column}, id",
                (low, high),
            )
        else:
            rows = self.read(
                "SELECT i.value, a.id, a.body FROM aggregate_index AS i JOIN aggregates AS a"
                " ON a.kind = i.kind AND a.id = i.id"
                " WHERE i.kind = ? AND i.name = ? AND i.value BETWEEN ? AND ?"
                " ORDER BY i.value, i.id",
                (kind.name, index, low, high),
            )
        found: dict[str, A] = {}
        for _value, id, body in rows:
            if id not in found:
                found[id] = decode_body(kind, id, body)
        return list(found.values())

    def fetch_record(self, kind: RecordKind[R], id: str) -> R | None:
        table = record_table(kind)
        rows = self.read(
            table.select + table.where(f"{table.id_column} = ?"), (*table.scope_values, id)
        )
        if not rows:
            return None
        found: R = table.rebuild(rows[0])
        return found

    def records_for(self, kind: RecordKind[R], customer_id: str) -> list[R]:
        table = record_table(kind)
        rows = self.read(
            table.select + table.where("customer_id = ?") + table.order,
            (*table.scope_values, customer_id),
        )
        return [table.rebuild(row) for row in rows]

    def count_records(self, kind: RecordKind[Any]) -> int:
        table = record_table(kind)
        rows = self.read(f"SELECT COUNT(*) FROM {table.table}{table.where()}", table.scope_values)
        count: int = rows[0][0]
        return count

    def all_records(self, kind: RecordKind[R]) -> list[R]:
        table = record_table(kind)
        rows = self.read(table.select + table.where() + table.order, table.scope_values)
        return [table.rebuild(row) for row in rows]

    def customer_records(self) -> Iterator[dict[str, object]]:
        """Every customer as a [`customer_record()`][crmcore.columnar.schema.customer_record], in id
        order.

        Built from the real columns, ``customer_tags`` and
        ``customer_attributes`` with three bulk SELECTs in one read
        transaction (one snapshot); no JSON is decoded. The records are made
        lazily, one at a time, from the fetched rows.
        """
        with self._db.use() as connection, translated("read"):
            connection.execute("BEGIN")
            try:
                scalars = connection.execute(CUSTOMER_SELECT + " ORDER BY id").fetchall()
                tags: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
                for customer_id, field, tag in connection.execute(
                    "SELECT customer_id, field, tag FROM customer_tags"
                ):
                    tags[customer_id][field].add(tag)
                attributes: dict[str, list[tuple[str, str, Any]]] = defaultdict(list)
                for customer_id, name, tag, value in connection.execute(
                    "SELECT customer_id, name, type, value FROM customer_attributes"
                    " ORDER BY customer_id, ordinal"
                ):
                    attributes[customer_id].append((name, tag, value))
            finally:
                connection.execute("ROLLBACK")  # read only: ends the snapshot
        return customer_records_from_rows(scalars, tags, attributes)

    def customer_frame(self) -> CustomerFrame:
        return CustomerFrame.from_records(self.customer_records())

    def transaction_records(self) -> Iterator[dict[str, object]]:
        """Every purchase as a TRANSACTION_SCHEMA record (amount as float), by (at, order id)."""
        rows = self.read(
            "SELECT customer_id, at, amount, currency, order_id, items, channel, category"
            " FROM purchases ORDER BY at, order_id"
        )
        for customer_id, at, amount, currency, order_id, items, channel, category in rows:
            try:
                value = float(Decimal(amount))
                when = from_micros(at)
            except (ValueError, ArithmeticError, TypeError) as exc:
                raise corrupt(PURCHASES.name, order_id, exc) from exc
            yield {
                "customer_id": customer_id,
                "at": when,
                "amount": value,
                "currency": currency,
                "order_id": order_id,
                "items": items,
                "channel": channel,
                "category": category,
            }

    def transaction_log(self) -> TransactionLog:
        return TransactionLog.from_records(self.transaction_records())

    def event_records(self) -> Iterator[dict[str, object]]:
        """Every interaction as an EVENT_SCHEMA record, ordered by (at, id)."""
        rows = self.read(
            "SELECT customer_id, at, kind, channel, stage, id FROM interactions ORDER BY at, id"
        )
        for customer_id, at, kind, channel, stage, id in rows:
            try:
                when = from_micros(at)
            except (OverflowError, TypeError) as exc:
                raise corrupt(INTERACTIONS.name, id, exc) from exc
            yield {
                "customer_id": customer_id,
                "at": when,
                "kind": kind,
                "channel": channel,
                "stage": stage,
            }

    def event_log(self) -> EventLog:
        return EventLog.from_records(self.event_records())

    # -- the commit ----------------------------------------------------------
    def apply(self, changes: ChangeSet) -> None:
        prepared = prepare(changes)  # encode before taking the write lock
        with self._db.use() as connection:
            with translated("commit"):
                connection.execute("BEGIN IMMEDIATE")
            try:
                current = self._validate(connection, changes)
                if prepared.error is not None:
                    raise prepared.error
                self._write(connection, changes, prepared, current)
                connection.execute("COMMIT")
            except BaseException as exc:
                self._rollback(connection)
                if isinstance(exc, sqlite3.Error | OverflowError | UnicodeEncodeError):
                    raise storage_error(exc, "commit") from exc
                raise

    def _rollback(self, connection: sqlite3.Connection) -> None:
        try:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
        except sqlite3.Error:
            # SQLite rolls back itself when a connection closes mid-transaction.
            self._db.discard(connection)

    def _current(
        self, connection: sqlite3.Connection, writes: Sequence[AggregateWrite]
    ) -> dict[tuple[str, str], Stored]:
        """Stored versions and key values of the aggregates ``writes`` touch."""
        current: dict[tuple[str, str], Stored] = {}
        for name, ids in writes_by_kind(writes).items():
            for chunk in chunks(ids):
                marks = placeholders(len(chunk))
                if name == CUSTOMERS.name:
                    columns = ", ".join(quote(c) for c in CUSTOMER_KEY_COLUMNS.values())
                    for id, version, *values in connection.execute(
                        f"SELECT id, version, {columns} FROM customers WHERE id IN ({marks})",
                        chunk,
                    ):
                        keys = {
                            key: value
                            for key, value in zip(CUSTOMER_KEY_COLUMNS, values, strict=True)
                            if value is not None
                        }
                        current[(name, id)] = Stored(version, keys)
                    continue
                for id, version in connection.execute(
                    f"SELECT id, version FROM aggregates WHERE kind = ? AND id IN ({marks})",
                    (name, *chunk),
                ):
                    current[(name, id)] = Stored(version, {})
                for id, key, value in connection.execute(
                    f"SELECT id, key, value FROM aggregate_keys WHERE kind = ? AND id IN ({marks})",
                    (name, *chunk),
                ):
                    if (name, id) in current:
                        current[(name, id)].keys[key] = value
        return current

    def _holders(
        self, connection: sqlite3.Connection, wanted: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], str]:
        """Which stored aggregate holds each (kind, key, value)."""
        by_index: dict[tuple[str, str], list[str]] = defaultdict(list)
        for name, key, value in set(wanted):
            by_index[(name, key)].append(value)
        holders: dict[tuple[str, str, str], str] = {}
        for (name, key), values in by_index.items():
            for chunk in chunks(sorted(values)):
                marks = placeholders(len(chunk))
                if name == CUSTOMERS.name:
                    column = quote(CUSTOMER_KEY_COLUMNS[key])
                    sql = f"SELECT {column}, id FROM customers WHERE {column} IN ({marks})"
                    params: tuple[str, ...] = tuple(chunk)
                else:
                    sql = (
                        "SELECT value, id FROM aggregate_keys"
                        f" WHERE kind = ? AND key = ? AND value IN ({marks})"
                    )
                    params = (name, key, *chunk)
                for value, id in connection.execute(sql, params):
                    holders[(name, key, value)] = id
        return holders

    def _validate(
        self, connection: sqlite3.Connection, changes: ChangeSet
    ) -> dict[tuple[str, str], Stored]:
        """Raise if ``changes`` cannot apply (the rules every adapter shares), else what is
        stored of the aggregates it writes."""
        current = self._current(connection, changes.aggregates)
        check_changes(
            changes,
            current,
            lambda wanted: self._holders(connection, wanted),
            lambda writes: self._existing_records(connection, writes),
        )
        return current

    def _existing_records(
        self, connection: sqlite3.Connection, writes: Sequence[RecordWrite]
    ) -> set[tuple[str, str]]:
        by_kind: dict[str, tuple[RecordKind[Any], list[str]]] = {}
        for write in writes:
            by_kind.setdefault(write.kind.name, (write.kind, []))[1].append(write.id)
        existing: set[tuple[str, str]] = set()
        for name, (kind, ids) in by_kind.items():
            table = record_table(kind)
            for chunk in chunks(ids):
                condition = f"{table.id_column} IN ({placeholders(len(chunk))})"
                sql = f"SELECT {table.id_column} FROM {table.table}{table.where(condition)}"
                for (id,) in connection.execute(sql, (*table.scope_values, *chunk)):
                    existing.add((name, id))
        return existing

    def _write(
        self,
        connection: sqlite3.Connection,
        changes: ChangeSet,
        prepared: Prepared,
        stored: Mapping[tuple[str, str], Stored],
    ) -> None:
        writer = Writer(connection)
        customer_ids = [w.id for w in changes.aggregates if is_customers(w.kind)]
        # Release e-mails that move, so a swap between two customers passes the UNIQUE index.
        moving: list[Row] = []
        updated: list[Row] = []
        for (row, _tags, _attributes), id in zip(prepared.customers, customer_ids, strict=True):
            current = stored.get((CUSTOMERS.name, id))
            if current is None:
                continue
            updated.append((id,))
            if current.keys.get("email") not in (None, row[EMAIL_INDEX]):
                moving.append((id,))
        writer.run("UPDATE customers SET email = NULL WHERE id = ?", moving, "customers")
        writer.run("DELETE FROM customer_tags WHERE customer_id = ?", updated, "customer_tags")
        writer.run(
            "DELETE FROM customer_attributes WHERE customer_id = ?", updated, "customer_attributes"
        )
        writer.run(
            CUSTOMER_UPSERT, [c[0] for c in prepared.customers], "customers", CUSTOMER_COLUMNS
        )
        writer.run(
            "INSERT INTO customer_tags (customer_id, field, tag) VALUES (?, ?, ?)",
            [tag for c in prepared.customers for tag in c[1]],
            "customer_tags",
            ("customer_id", "field", "tag"),
        )
        writer.run(
            "INSERT INTO customer_attributes (customer_id, name, ordinal, type, value)"
            " VALUES (?, ?, ?, ?, ?)",
            [attribute for c in prepared.customers for attribute in c[2]],
            "customer_attributes",
            ("customer_id", "name", "ordinal", "type", "value"),
        )
        writer.run(
            "DELETE FROM aggregate_keys WHERE kind = ? AND id = ?",
            [row[:2] for row, _keys in prepared.aggregates],
            "aggregate_keys",
        )
        writer.run(
            "INSERT INTO aggregates (kind, id, version, body) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (kind, id) DO UPDATE"
            " SET version = excluded.version, body = excluded.body",
            [row for row, _keys in prepared.aggregates],
            "aggregates",
            ("kind", "id", "version", "body"),
        )
        writer.run(
            "INSERT INTO aggregate_keys (kind, key, value, id) VALUES (?, ?, ?, ?)",
            [key for _row, keys in prepared.aggregates for key in keys],
            "aggregate_keys",
            ("kind", "key", "value", "id"),
        )
        writer.run(
            "DELETE FROM aggregate_index WHERE kind = ? AND id = ?",
            [row[:2] for row, _keys in prepared.aggregates if (row[0], row[1]) in stored],
            "aggregate_index",
        )
        writer.run(
            "INSERT INTO aggregate_index (kind, name, value, id) VALUES (?, ?, ?, ?)",
            prepared.indexes,
            "aggregate_index",
            ("kind", "name", "value", "id"),
        )
        for (_name, replace), (table, rows) in prepared.records.items():
            sql, columns = table.insert(replace)
            writer.run(sql, rows, table.table, columns)
        writer.run(
            "INSERT INTO outbox (message_id, kind, aggregate_id, occurred_at, payload)"
            " VALUES (?, ?, ?, ?, ?)",
            prepared.outbox,
            "outbox",
            ("message_id", "kind", "aggregate_id", "occurred_at", "payload"),
        )
