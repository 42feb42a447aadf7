"""The [`Backend`][crmcore.storage.backend.Backend] over a PostgreSQL database.

Reads run in autocommit, one statement each, except the bulk read behind
[`to_frame()`][crmcore.ports.CustomerRepository.to_frame], which runs in one ``REPEATABLE READ``
snapshot. `PostgresBackend.apply()` commits a change set in one ``READ COMMITTED`` transaction,
in pipeline mode (the reads in one round trip, the writes and ``COMMIT`` in another):

1. it locks the stored rows of every aggregate the change set updates (``SELECT … FOR UPDATE``,
   in a fixed order: customers first, then by kind and id, so two commits never lock in opposite
   orders) and checks their versions: a stale one raises
   [`ConcurrencyConflictError`][crmcore.kernel.errors.ConcurrencyConflictError]. A concurrent
   commit of the same aggregate waits for the lock and then sees the new version, so an update is
   never lost;
2. it checks unique keys and records that must already exist, as the memory adapter does;
3. it writes the rows [`prepare()`][crmcore.storage.postgres.writes.prepare] made, the outbox last.

A change set that only inserts skips steps 1 and 2 (one round trip in all): an id or unique key
taken meanwhile, or by a concurrent commit, is caught by the database's unique indexes; the
commit is then rolled back and re-checked against what is committed, which raises the
[`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError] (or conflict) the memory adapter
would have raised.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from crmcore.columnar.frame import CustomerFrame, EventLog, TransactionLog
from crmcore.kernel.errors import (
    AlreadyExistsError,
    CrmError,
)
from crmcore.storage._change_rules import Stored, check_changes, writes_by_kind
from crmcore.storage.backend import AggregateWrite, ChangeSet, RecordWrite
from crmcore.storage.kinds import CUSTOMERS, AggregateKind, RecordKind
from crmcore.storage.postgres.connections import Database, quote
from crmcore.storage.postgres.customer_columns import (
    CUSTOMER_INDEX_COLUMNS,
    CUSTOMER_KEY_COLUMNS,
    CUSTOMER_SELECT,
    EMAIL_INDEX,
    customer_records,
    is_customers,
)
from crmcore.storage.postgres.documents import decode_document
from crmcore.storage.postgres.errors import (
    UNIQUE_VIOLATION,
    is_driver_error,
    sqlstate,
    storage_error,
    translated,
)
from crmcore.storage.postgres.record_tables import record_table
from crmcore.storage.postgres.schema import lock_key
from crmcore.storage.postgres.writes import OUTBOX_LOCK, Prepared, prepare, statements, write

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresBackend"]

A = TypeVar("A")
R = TypeVar("R")


class PostgresBackend:
    """The [`Backend`][crmcore.storage.backend.Backend] over crmcore's schema in a PostgreSQL
    database."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._sql = statements(db)
        self._outbox_key = lock_key(OUTBOX_LOCK, db.schema)
        t = db.table
        self._customers = t("customers")
        self._aggregates = t("aggregates")
        self._keys = t("aggregate_keys")
        self._index = t("aggregate_index")

    @property
    def db(self) -> Database:
        """The connections and names this backend uses."""
        return self._db

    # -- reads ---------------------------------------------------------------------------
    def read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The rows of one statement, run in autocommit."""
        return self._db.read(sql, params)

    def fetch(self, kind: AggregateKind[A], id: str) -> A | None:
        if is_customers(kind):
            rows = self.read(f"SELECT body FROM {self._customers} WHERE id = %s", (id,))
        else:
            rows = self.read(
                f"SELECT body FROM {self._aggregates} WHERE kind = %s AND id = %s", (kind.name, id)
            )
        return decode_document(kind, id, rows[0][0]) if rows else None

    def fetch_by_key(self, kind: AggregateKind[A], key: str, value: str) -> A | None:
        if is_customers(kind):
            column = CUSTOMER_KEY_COLUMNS.get(key)
            if column is None:
                return None
            rows = self.read(
                f"SELECT id, body FROM {self._customers} WHERE {quote(column)} = %s", (value,)
            )
        else:
            rows = self.read(
                f"SELECT a.id, a.body FROM {self._keys} AS k JOIN {self._aggregates} AS a"
                " ON a.kind = k.kind AND a.id = k.id"
                " WHERE k.kind = %s AND k.key = %s AND k.value = %s",
                (kind.name, key, value),
            )
        return decode_document(kind, rows[0][0], rows[0][1]) if rows else None

    def fetch_page(self, kind: AggregateKind[A], limit: int, after: str | None) -> list[A]:
        if is_customers(kind):
            sql, params = f"SELECT id, body FROM {self._customers}", []
            prefix = " WHERE"
        else:
            sql, params = f"SELECT id, body FROM {self._aggregates} WHERE kind = %s", [kind.name]
            prefix = " AND"
        if after is not None:
            sql += f"{prefix} id > %s"
            params.append(after)
        rows = self.read(f"{sql} ORDER BY id LIMIT %s", (*params, limit))
        return [decode_document(kind, id, body) for id, body in rows]

    def count(self, kind: AggregateKind[Any]) -> int:
        if is_customers(kind):
            rows = self.read(f"SELECT COUNT(*) FROM {self._customers}")
        else:
            rows = self.read(
                f"SELECT COUNT(*) FROM {self._aggregates} WHERE kind = %s", (kind.name,)
            )
        return int(rows[0][0])

    def fetch_many(self, kind: AggregateKind[A], ids: Sequence[str]) -> list[A]:
        wanted = sorted(set(ids))
        if is_customers(kind):
            sql = f"SELECT id, body FROM {self._customers} WHERE id = ANY(%s) ORDER BY id"
            rows = self.read(sql, (wanted,))
        else:
            sql = (
                f"SELECT id, body FROM {self._aggregates} WHERE kind = %s AND id = ANY(%s)"
                " ORDER BY id"
            )
            rows = self.read(sql, (kind.name, wanted))
        return [decode_document(kind, id, body) for id, body in rows]

    def fetch_indexed(self, kind: AggregateKind[A], index: str, values: Sequence[str]) -> list[A]:
        wanted = sorted(set(values))
        if is_customers(kind):
            column = quote(CUSTOMER_INDEX_COLUMNS[index])
            sql = f"SELECT id, body FROM {self._customers} WHERE {column} = ANY(%s) ORDER BY id"
            rows = self.read(sql, (wanted,))
        else:
            sql = (
                f"SELECT a.id, a.body FROM {self._aggregates} AS a WHERE a.kind = %s AND a.id IN"
                f" (SELECT i.id FROM {self._index} AS i"
                "  WHERE i.kind = %s AND i.name = %s AND i.value = ANY(%s))"
                " ORDER BY a.id"
            )
            rows = self.read(sql, (kind.name, kind.name, index, wanted))
        return [decode_document(kind, id, body) for id, body in rows]

    def fetch_range(self, kind: AggregateKind[A], index: str, low: str, high: str) -> list[A]:
        if is_customers(kind):
            column = quote(CUSTOMER_INDEX_COLUMNS[index])
            rows = self.read(
                f"SELECT {column}, id, body FROM {self._customers}"
                f" WHERE {column} BETWEEN %s AND %s ORDER BY {column}, id",
                (low, high),
            )
        else:
            rows = self.read(
                f"SELECT i.value, a.id, a.body FROM {self._index} AS i JOIN {self._aggregates}"
                " AS a ON a.kind = i.kind AND a.id = i.id"
                " WHERE i.kind = %s AND i.name = %s AND i.value BETWEEN %s AND %s"
                " ORDER BY i.value, i.id",
                (kind.name, index, low, high),
            )
        found: dict[str, A] = {}
        for _value, id, body in rows:
            if id not in found:
                found[id] = decode_document(kind, id, body)
        return list(found.values())

    def fetch_record(self, kind: RecordKind[R], id: str) -> R | None:
        table = record_table(kind)
        rows = self.read(
            table.select(self._db.table(table.table)) + table.where(f"{table.id_column} = %s"),
            (*table.scope_values, id),
        )
        if not rows:
            return None
        found: R = table.rebuild(rows[0])
        return found

    def records_for(self, kind: RecordKind[R], customer_id: str) -> list[R]:
        table = record_table(kind)
        rows = self.read(
            table.select(self._db.table(table.table))
            + table.where("customer_id = %s")
            + table.order,
            (*table.scope_values, customer_id),
        )
        return [table.rebuild(row) for row in rows]

    def count_records(self, kind: RecordKind[Any]) -> int:
        table = record_table(kind)
        rows = self.read(
            f"SELECT COUNT(*) FROM {self._db.table(table.table)}{table.where()}",
            table.scope_values,
        )
        return int(rows[0][0])

    def all_records(self, kind: RecordKind[R]) -> list[R]:
        table = record_table(kind)
        rows = self.read(
            table.select(self._db.table(table.table)) + table.where() + table.order,
            table.scope_values,
        )
        return [table.rebuild(row) for row in rows]

    def customer_records(self) -> Iterator[dict[str, object]]:
        """Every customer as a [`customer_record()`][crmcore.columnar.schema.customer_record], in id
        order: three bulk SELECTs in one ``REPEATABLE READ`` snapshot, no JSON decoded."""
        t = self._db.table
        with translated("read"), self._db.transaction(snapshot=True, read_only=True) as connection:
            scalars = connection.execute(
                f"{CUSTOMER_SELECT} FROM {self._customers} ORDER BY id", ()
            ).fetchall()
            tags: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
            for customer_id, field, tag in connection.execute(
                f"SELECT customer_id, field, tag FROM {t('customer_tags')}", ()
            ):
                tags[customer_id][field].add(tag)
            attributes: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
            for customer_id, name, tag, value in connection.execute(
                f"SELECT customer_id, name, type, value FROM {t('customer_attributes')}"
                " ORDER BY customer_id, ordinal",
                (),
            ):
                attributes[customer_id].append((name, tag, value))
        return customer_records(scalars, tags, attributes)

    def customer_frame(self) -> CustomerFrame:
        return CustomerFrame.from_records(self.customer_records())

    def transaction_records(self) -> Iterator[dict[str, object]]:
        """Every purchase as a TRANSACTION_SCHEMA record (amount as float), by (at, order id)."""
        rows = self.read(
            "SELECT customer_id, at, amount, currency, order_id, items, channel, category"
            f" FROM {self._db.table('purchases')} ORDER BY at, order_id"
        )
        for customer_id, at, amount, currency, order_id, items, channel, category in rows:
            yield {
                "customer_id": customer_id,
                "at": at.astimezone(UTC),
                "amount": float(Decimal(amount)),
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
            "SELECT customer_id, at, kind, channel, stage, id"
            f" FROM {self._db.table('interactions')} ORDER BY at, id"
        )
        for customer_id, at, kind, channel, stage, _id in rows:
            yield {
                "customer_id": customer_id,
                "at": at.astimezone(UTC),
                "kind": kind,
                "channel": channel,
                "stage": stage,
            }

    def event_log(self) -> EventLog:
        return EventLog.from_records(self.event_records())

    # -- the commit ----------------------------------------------------------------------
    def apply(self, changes: ChangeSet) -> None:
        prepared = prepare(changes)  # encode before taking a connection
        # Only updates need the stored rows read (and locked) first; a change set of inserts
        # alone is refused by the unique indexes when it collides, and explained then.
        check = prepared.error is not None or any(w.expected for w in changes.aggregates)
        check = check or any(w.replace for w in changes.records)
        try:
            with (
                self._db.connection() as connection,
                connection.pipeline() as pipeline,  # round trips: the reads, then the rest
                connection.transaction(),
            ):
                current: dict[tuple[str, str], Stored] = {}
                if check:
                    current = self._current(connection, changes.aggregates, lock=True)
                    self._validate(connection, changes, current, check_inserts=False)
                if prepared.error is not None:
                    raise prepared.error
                self._write(connection, changes, prepared, current, pipeline.sync)
        except CrmError:
            raise
        except Exception as exc:
            if not is_driver_error(exc):
                raise
            if sqlstate(exc) == UNIQUE_VIOLATION:
                raise self._explain(changes, exc) from exc
            raise storage_error(exc, "commit") from exc

    def _explain(self, changes: ChangeSet, exc: BaseException) -> CrmError:
        """Why the database refused a duplicate: the change set checked again, now that the
        concurrent commit that won is visible."""
        try:
            with translated("commit"), self._db.transaction() as connection:
                current = self._current(connection, changes.aggregates, lock=False)
                self._validate(connection, changes, current, check_inserts=True)
        except CrmError as found:
            return found
        diag = getattr(exc, "diag", None)
        table = getattr(diag, "table_name", None) or "a table"
        constraint = getattr(diag, "constraint_name", None) or "a unique index"
        return AlreadyExistsError(f"{table} row", constraint, "unique index")

    def _current(
        self,
        connection: psycopg.Connection[Any],
        writes: Sequence[AggregateWrite],
        *,
        lock: bool,
    ) -> dict[tuple[str, str], Stored]:
        """Stored versions and key values of the aggregates ``writes`` touch (rows locked).

        One query per kind, all sent before any result is read (one round trip in a pipeline).
        """
        by_kind = writes_by_kind(writes)
        pending = []
        # Customers first, then kinds and ids in sorted order: every commit locks in one order.
        for name in sorted(by_kind, key=lambda n: (n != CUSTOMERS.name, n)):
            ids = sorted(set(by_kind[name]))
            if name == CUSTOMERS.name:
                columns = ", ".join(quote(c) for c in CUSTOMER_KEY_COLUMNS.values())
                sql = (
                    f"SELECT id, version, {columns} FROM {self._customers}"
                    f" WHERE id = ANY(%s) ORDER BY id{' FOR UPDATE' if lock else ''}"
                )
                pending.append((name, connection.execute(sql, (ids,))))
            else:
                sql = (
                    f"SELECT a.id, a.version, k.key, k.value FROM {self._aggregates} AS a"
                    f" LEFT JOIN {self._keys} AS k ON k.kind = a.kind AND k.id = a.id"
                    f" WHERE a.kind = %s AND a.id = ANY(%s)"
                    f" ORDER BY a.id{' FOR UPDATE OF a' if lock else ''}"
                )
                pending.append((name, connection.execute(sql, (name, ids))))
        current: dict[tuple[str, str], Stored] = {}
        for name, cursor in pending:
            if name == CUSTOMERS.name:
                for id, version, *values in cursor.fetchall():
                    keys = {
                        key: value
                        for key, value in zip(CUSTOMER_KEY_COLUMNS, values, strict=True)
                        if value is not None
                    }
                    current[(name, id)] = Stored(version, keys)
                continue
            for id, version, key, value in cursor.fetchall():
                stored = current.setdefault((name, id), Stored(version, {}))
                if key is not None:
                    stored.keys[key] = value
        return current

    def _holders(
        self, connection: psycopg.Connection[Any], wanted: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], str]:
        """Which stored aggregate holds each (kind, key, value)."""
        by_index: dict[tuple[str, str], list[str]] = defaultdict(list)
        for name, key, value in set(wanted):
            by_index[(name, key)].append(value)
        holders: dict[tuple[str, str, str], str] = {}
        for (name, key), values in sorted(by_index.items()):
            if name == CUSTOMERS.name:
                column = quote(CUSTOMER_KEY_COLUMNS[key])
                sql = f"SELECT {column}, id FROM {self._customers} WHERE {column} = ANY(%s)"
                params: tuple[object, ...] = (sorted(values),)
            else:
                sql = (
                    f"SELECT value, id FROM {self._keys}"
                    " WHERE kind = %s AND key = %s AND value = ANY(%s)"
                )
                params = (name, key, sorted(values))
            for value, id in connection.execute(sql, params):
                holders[(name, key, value)] = id
        return holders

    def _validate(
        self,
        connection: psycopg.Connection[Any],
        changes: ChangeSet,
        current: Mapping[tuple[str, str], Stored],
        *,
        check_inserts: bool,
    ) -> None:
        """Raise if ``changes`` cannot apply (the rules every adapter shares).

        New records are only looked up when ``check_inserts``: in a commit their primary keys
        catch a duplicate, and the commit is then explained by this check with it on.
        """
        check_changes(
            changes,
            current,
            lambda wanted: self._holders(connection, wanted),
            lambda writes: self._existing_records(connection, writes),
            check_inserts=check_inserts,
        )

    def _existing_records(
        self, connection: psycopg.Connection[Any], writes: Sequence[RecordWrite]
    ) -> set[tuple[str, str]]:
        by_kind: dict[str, tuple[RecordKind[Any], list[str]]] = {}
        for write_ in writes:
            by_kind.setdefault(write_.kind.name, (write_.kind, []))[1].append(write_.id)
        existing: set[tuple[str, str]] = set()
        for name, (kind, ids) in by_kind.items():
            table = record_table(kind)
            condition = f"{table.id_column} = ANY(%s)"
            sql = f"SELECT {table.id_column} FROM {self._db.table(table.table)}"
            for (id,) in connection.execute(
                sql + table.where(condition), (*table.scope_values, ids)
            ):
                existing.add((name, id))
        return existing

    def _write(
        self,
        connection: psycopg.Connection[Any],
        changes: ChangeSet,
        prepared: Prepared,
        stored: Mapping[tuple[str, str], Stored],
        sync: Callable[[], None],
    ) -> None:
        customer_ids = [w.id for w in changes.aggregates if is_customers(w.kind)]
        moving: list[str] = []
        updated: list[str] = []
        for (row, _tags, _attributes), id in zip(prepared.customers, customer_ids, strict=True):
            current = stored.get((CUSTOMERS.name, id))
            if current is None:
                continue
            updated.append(id)
            if current.keys.get("email") not in (None, row[EMAIL_INDEX]):
                moving.append(id)
        write(connection, self._sql, prepared, updated, moving, self._outbox_key, sync)
