"""How a commit writes: a change set turned into rows, written in batches inside the transaction.

[`prepare()`][crmcore.storage.postgres.writes.prepare] encodes a
[`ChangeSet`][crmcore.storage.backend.ChangeSet] into rows before any connection is taken (pure CPU
work); [`write()`][crmcore.storage.postgres.writes.write] then runs the batched statements
(``executemany``, which psycopg pipelines) inside the open transaction: released e-mails first (so
two customers can swap addresses), then customers with their tags and attributes, aggregates with
their unique keys, records, and the outbox last, under the outbox's ordering lock
([`crmcore.storage.postgres.outbox`][crmcore.storage.postgres.outbox]).

**Test hook (private).** When the environment variable
``CRMCORE_POSTGRES_TEST_PAUSE_AFTER_ROWS``
([`PAUSE_ENV`][crmcore.storage.postgres.writes.PAUSE_ENV]) is set to ``N``, a commit that has
written ``N`` rows (inside its transaction, before ``COMMIT``) prints
``CRMCORE_POSTGRES_TEST_PAUSE_AFTER_ROWS <rows written>`` to stdout, once, and blocks reading a
line from stdin. The crash tests use it to kill a process at a known point in the middle
of a transaction. Unset, it costs one environment lookup per commit.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from crmcore.kernel.errors import CrmError
from crmcore.storage.backend import ChangeSet
from crmcore.storage.outbox import new_message_id
from crmcore.storage.postgres.connections import Database, quote
from crmcore.storage.postgres.customer_columns import (
    ATTRIBUTE_COLUMNS,
    CUSTOMER_COLUMNS,
    customer_rows,
    is_customers,
)
from crmcore.storage.postgres.documents import Row, dumps
from crmcore.storage.postgres.record_tables import RecordTable, record_table

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "OUTBOX_LOCK",
    "PAUSE_ENV",
    "Prepared",
    "Progress",
    "Statements",
    "prepare",
    "statements",
    "write",
]

PAUSE_ENV: Final = "CRMCORE_POSTGRES_TEST_PAUSE_AFTER_ROWS"
"""The environment variable of the private crash-test hook (see the module docstring)."""

OUTBOX_LOCK: Final = "crmcore.storage.postgres.outbox"
"""The purpose of the advisory lock that orders outbox positions by commit."""


class Progress:
    """Counts rows written by a commit; drives the private crash-test pause.

    ``sync`` sends what a pipeline has queued, so that at the pause the rows are on the server,
    inside the open transaction.
    """

    def __init__(self, sync: Callable[[], None] | None = None) -> None:
        raw = os.environ.get(PAUSE_ENV)
        self.rows = 0
        self.pause_after: int | None = int(raw) if raw and raw.strip().isdigit() else None
        self._sync = sync

    def advance(self, rows: int) -> None:
        """Count ``rows`` more written; pause (test hook) once the threshold is reached."""
        self.rows += rows
        if self.pause_after is not None and self.rows >= self.pause_after:
            self.pause_after = None
            if self._sync is not None:
                self._sync()
            print(f"{PAUSE_ENV} {self.rows}", flush=True)
            sys.stdin.readline()


@attrs.define
class Prepared:
    """A change set turned into rows before the transaction starts (pure CPU work)."""

    customers: list[tuple[Row, list[Row], list[Row]]] = attrs.Factory(list)
    aggregates: list[tuple[Row, list[Row]]] = attrs.Factory(list)
    indexes: list[Row] = attrs.Factory(list)
    """(kind, index, value, id) rows of the aggregates' indexes."""
    records: dict[tuple[str, bool], tuple[RecordTable, list[Row]]] = attrs.Factory(dict)
    outbox: list[Row] = attrs.Factory(list)
    error: CrmError | None = None
    """The first encoding failure, raised after validation (as the memory adapter would)."""


def prepare(changes: ChangeSet) -> Prepared:
    """The rows of ``changes``; an encoding failure is kept in
    [`Prepared.error`][crmcore.storage.postgres.writes.Prepared.error]."""
    prepared = Prepared()
    try:
        for write_ in changes.aggregates:
            if is_customers(write_.kind):
                prepared.customers.append(customer_rows(write_.aggregate))
                continue
            kind, id = write_.kind, write_.id
            row: Row = (
                kind.name,
                id,
                kind.version_of(write_.aggregate),
                dumps(kind.encode(write_.aggregate)),
            )
            keys: list[Row] = [
                (kind.name, key, value, id)
                for key, value in kind.keys_of(write_.aggregate).items()
                if value is not None
            ]
            prepared.aggregates.append((row, keys))
            prepared.indexes.extend(
                (kind.name, index, value, id)
                for index, values in kind.index_values_of(write_.aggregate).items()
                for value in values
            )
        for record_write in changes.records:
            slot = (record_write.kind.name, record_write.replace)
            if slot not in prepared.records:
                prepared.records[slot] = (record_table(record_write.kind), [])
            table, rows = prepared.records[slot]
            rows.append((*table.scope_values, *table.to_row(record_write.record)))
        for event in changes.events:
            prepared.outbox.append(
                (
                    new_message_id(),
                    event.kind,
                    event.aggregate_id,
                    event.occurred_at,
                    dumps(event.payload()),
                )
            )
    except CrmError as exc:
        prepared.error = exc
    return prepared


def _columns(names: Iterable[str]) -> str:
    return ", ".join(quote(name) for name in names)


class Statements:
    """The write statements of one schema, built once per store."""

    def __init__(self, db: Database) -> None:
        t = db.table
        self.release_emails = f"UPDATE {t('customers')} SET email = NULL WHERE id = ANY(%s)"
        self.delete_tags = f"DELETE FROM {t('customer_tags')} WHERE customer_id = ANY(%s)"
        self.delete_attributes = (
            f"DELETE FROM {t('customer_attributes')} WHERE customer_id = ANY(%s)"
        )
        marks = ", ".join("%s::jsonb" if c == "body" else "%s" for c in CUSTOMER_COLUMNS)
        updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in CUSTOMER_COLUMNS[1:])
        # New rows are plain INSERTs, so that a concurrent insert of the same id fails on the
        # primary key instead of overwriting; stored rows (locked by the commit) are upserted.
        self.insert_customer = (
            f"INSERT INTO {t('customers')} ({_columns(CUSTOMER_COLUMNS)}) VALUES ({marks})"
        )
        self.upsert_customer = f"{self.insert_customer} ON CONFLICT (id) DO UPDATE SET {updates}"
        self.insert_tag = (
            f"INSERT INTO {t('customer_tags')} (customer_id, field, tag) VALUES (%s, %s, %s)"
        )
        self.insert_attribute = (
            f"INSERT INTO {t('customer_attributes')} ({_columns(ATTRIBUTE_COLUMNS)})"
            f" VALUES ({', '.join('%s' for _c in ATTRIBUTE_COLUMNS)})"
        )
        self.delete_keys = f"DELETE FROM {t('aggregate_keys')} WHERE kind = %s AND id = %s"
        self.insert_aggregate = (
            f"INSERT INTO {t('aggregates')} (kind, id, version, body)"
            " VALUES (%s, %s, %s, %s::jsonb)"
        )
        self.upsert_aggregate = (
            f"{self.insert_aggregate} ON CONFLICT (kind, id) DO UPDATE"
            " SET version = excluded.version, body = excluded.body"
        )
        self.insert_key = (
            f"INSERT INTO {t('aggregate_keys')} (kind, key, value, id) VALUES (%s, %s, %s, %s)"
        )
        self.delete_index = f"DELETE FROM {t('aggregate_index')} WHERE kind = %s AND id = %s"
        self.insert_index = (
            f"INSERT INTO {t('aggregate_index')} (kind, name, value, id) VALUES (%s, %s, %s, %s)"
        )
        self.outbox_lock = "SELECT pg_advisory_xact_lock(%s)"
        self.insert_outbox = (
            f"INSERT INTO {t('outbox')} (message_id, kind, aggregate_id, occurred_at, payload)"
            " VALUES (%s, %s, %s, %s, %s::jsonb)"
        )
        self.records: dict[tuple[str, bool], str] = {}
        self._db = db

    def record_insert(self, table: RecordTable, replace: bool) -> str:
        """The INSERT (or upsert) of one record table, cached."""
        slot = (table.entity, replace)
        sql = self.records.get(slot)
        if sql is None:
            sql = table.insert(self._db.table(table.table), replace)
            self.records[slot] = sql
        return sql


def statements(db: Database) -> Statements:
    """The write statements for ``db``'s schema."""
    return Statements(db)


def _run(
    connection: psycopg.Connection[Any], progress: Progress, sql: str, rows: Sequence[Row]
) -> None:
    if not rows:
        return
    if len(rows) == 1:
        connection.execute(sql, rows[0])
    else:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
    progress.advance(len(rows))


def write(
    connection: psycopg.Connection[Any],
    sql: Statements,
    prepared: Prepared,
    updated_customers: Sequence[str],
    moving_emails: Sequence[str],
    outbox_key: int,
    sync: Callable[[], None] | None = None,
) -> None:
    """Write ``prepared`` in the open transaction of ``connection``.

    ``updated_customers`` are the ids of stored customers being replaced (their tags and
    attributes are rewritten; the others are inserted), ``moving_emails`` those whose e-mail
    changes (released first).
    """
    progress = Progress(sync)
    if moving_emails:
        connection.execute(sql.release_emails, (list(moving_emails),))
    if updated_customers:
        connection.execute(sql.delete_tags, (list(updated_customers),))
        connection.execute(sql.delete_attributes, (list(updated_customers),))
    stored = set(updated_customers)
    customers = [c[0] for c in prepared.customers]
    _run(connection, progress, sql.insert_customer, [r for r in customers if r[0] not in stored])
    _run(connection, progress, sql.upsert_customer, [r for r in customers if r[0] in stored])
    _run(connection, progress, sql.insert_tag, [tag for c in prepared.customers for tag in c[1]])
    _run(
        connection,
        progress,
        sql.insert_attribute,
        [attribute for c in prepared.customers for attribute in c[2]],
    )
    # Version 1 is an insert (the commit checked nothing is stored); later versions replace.
    inserted = [row for row, _keys in prepared.aggregates if row[2] == 1]
    replaced = [row for row, _keys in prepared.aggregates if row[2] > 1]
    _run(connection, progress, sql.delete_keys, [row[:2] for row in replaced])
    _run(connection, progress, sql.delete_index, [row[:2] for row in replaced])
    _run(connection, progress, sql.insert_aggregate, inserted)
    _run(connection, progress, sql.upsert_aggregate, replaced)
    _run(
        connection,
        progress,
        sql.insert_key,
        [k for _row, keys in prepared.aggregates for k in keys],
    )
    _run(connection, progress, sql.insert_index, prepared.indexes)
    for (_name, replace), (table, rows) in prepared.records.items():
        _run(connection, progress, sql.record_insert(table, replace), rows)
    if prepared.outbox:
        # Held to COMMIT: positions are drawn in commit order (see the outbox module).
        connection.execute(sql.outbox_lock, (outbox_key,))
        _run(connection, progress, sql.insert_outbox, prepared.outbox)
