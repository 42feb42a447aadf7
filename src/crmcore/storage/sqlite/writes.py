"""How a commit writes: a change set turned into rows, written in checked batches.

[`prepare()`][crmcore.storage.sqlite.writes.prepare] encodes a
[`ChangeSet`][crmcore.storage.backend.ChangeSet] into rows before the write lock is taken (pure CPU
work); a [`Writer`][crmcore.storage.sqlite.writes.Writer] then runs the batched statements inside
the open transaction and, when the database refuses a batch, redoes it row by row to name the
culprit ([`integrity_error()`][crmcore.storage.sqlite.errors.integrity_error]).

**Test hook (private).** When the environment variable
``CRMCORE_SQLITE_TEST_PAUSE_AFTER_ROWS`` ([`PAUSE_ENV`][crmcore.storage.sqlite.writes.PAUSE_ENV]) is
set to ``N``, a commit that has written ``N`` rows (inside its transaction, before ``COMMIT``)
prints ``CRMCORE_SQLITE_TEST_PAUSE_AFTER_ROWS <rows written>`` to stdout, once, and blocks reading a
line from stdin. The crash tests use it to kill a process at a known point in the middle of a
commit. Unset, it costs one environment lookup per commit.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Sequence
from typing import Final

import attrs

from crmcore.kernel.errors import CrmError
from crmcore.storage.backend import ChangeSet
from crmcore.storage.outbox import new_message_id
from crmcore.storage.sqlite.customer_columns import customer_rows, is_customers
from crmcore.storage.sqlite.encoding import Row, chunks, dumps
from crmcore.storage.sqlite.errors import integrity_error, storage_error
from crmcore.storage.sqlite.record_tables import RecordTable, record_table

__all__ = ["PAUSE_ENV", "Prepared", "Progress", "Writer", "prepare"]

PAUSE_ENV: Final = "CRMCORE_SQLITE_TEST_PAUSE_AFTER_ROWS"
"""The environment variable of the private crash-test hook (see the module docstring)."""


class Progress:
    """Counts rows written by a commit; drives the private crash-test pause."""

    def __init__(self) -> None:
        raw = os.environ.get(PAUSE_ENV)
        self.rows = 0
        self.pause_after: int | None = int(raw) if raw and raw.strip().isdigit() else None

    def advance(self, rows: int) -> None:
        self.rows += rows
        if self.pause_after is not None and self.rows >= self.pause_after:
            self.pause_after = None
            print(f"{PAUSE_ENV} {self.rows}", flush=True)
            sys.stdin.readline()


class Writer:
    """Runs batched writes in the open transaction, explaining constraint failures."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._progress = Progress()

    def run(self, sql: str, rows: Sequence[Row], table: str, columns: Sequence[str] = ()) -> None:
        connection = self._connection
        for chunk in chunks(rows):
            # A savepoint per batch lets us redo a failed batch row by row to name the culprit.
            connection.execute("SAVEPOINT crmcore_batch")
            try:
                connection.executemany(sql, chunk)
            except sqlite3.IntegrityError as exc:
                connection.execute("ROLLBACK TO crmcore_batch")
                raise self._explain(exc, sql, chunk, table, columns) from exc
            connection.execute("RELEASE crmcore_batch")
            self._progress.advance(len(chunk))

    def _explain(
        self,
        exc: sqlite3.IntegrityError,
        sql: str,
        chunk: Sequence[Row],
        table: str,
        columns: Sequence[str],
    ) -> CrmError:
        for row in chunk:
            try:
                self._connection.execute(sql, row)
            except sqlite3.IntegrityError as row_exc:
                return integrity_error(row_exc, table, columns, row)
        return storage_error(exc, f"write to {table}")


@attrs.define
class Prepared:
    """A change set turned into rows before the write lock is taken (pure CPU work)."""

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
    [`Prepared.error`][crmcore.storage.sqlite.writes.Prepared.error]."""
    prepared = Prepared()
    try:
        for write in changes.aggregates:
            if is_customers(write.kind):
                prepared.customers.append(customer_rows(write.aggregate))
            else:
                kind, id = write.kind, write.id
                row: Row = (
                    kind.name,
                    id,
                    kind.version_of(write.aggregate),
                    dumps(kind.encode(write.aggregate)),
                )
                keys: list[Row] = [
                    (kind.name, key, value, id)
                    for key, value in kind.keys_of(write.aggregate).items()
                    if value is not None
                ]
                prepared.aggregates.append((row, keys))
                prepared.indexes.extend(
                    (kind.name, index, value, id)
                    for index, values in kind.index_values_of(write.aggregate).items()
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
                    event.occurred_at.isoformat(),
                    dumps(event.payload()),
                )
            )
    except CrmError as exc:
        prepared.error = exc
    return prepared
