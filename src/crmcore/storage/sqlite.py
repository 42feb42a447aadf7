"""SQLite storage: the embedded, durable adapter (stdlib :mod:`sqlite3` only).

>>> store = SqliteStore()  # ":memory:": one shared connection, gone on close
>>> with store.unit_of_work() as uow:
...     uow.customers.count()
0
>>> store.close()

**Durability.** Every connection runs with ``journal_mode=WAL`` and
``synchronous=FULL``: when a commit returns, its WAL frames have been synced
to disk, so nothing is lost even on power failure (``NORMAL`` would only
survive a crash of the process, not of the machine). A unit of work is
applied in one ``BEGIN IMMEDIATE`` … ``COMMIT`` transaction that re-checks
every expected version and unique key first, exactly like
:mod:`crmcore.storage.memory`; domain events go to the ``outbox`` table in
the same transaction.

**Concurrency.** Any number of processes and threads may open the same file.
Writers take the database's write lock at ``BEGIN IMMEDIATE`` and wait up to
``timeout`` seconds for it (``busy_timeout``); readers never wait for writers
(WAL). Single-statement reads run in autocommit; the multi-statement read of
:meth:`~crmcore.ports.CustomerRepository.to_frame` runs in one read
transaction, so it sees one consistent snapshot.

**Threads.** A store opened on a file gives each thread its own connection
(connections of threads that have ended are closed as new ones open, and all
by :meth:`SqliteStore.close`). ``":memory:"`` (the default) is one private
database, so that store keeps a single connection shared by all threads and
serialises every operation on it with a lock; it is not durable and is gone
when closed. Do not share a store across ``fork()``.

**Errors.** The public API raises only :class:`~crmcore.kernel.errors.CrmError`
subclasses: conflicts as :class:`~crmcore.kernel.errors.ConcurrencyConflictError`, taken
ids and unique keys as :class:`~crmcore.kernel.errors.AlreadyExistsError` (also when the
database's own UNIQUE constraint catches one), and every ``sqlite3`` failure
(locked past the timeout, disk full, corrupt or non-SQLite file, closed
store) as :class:`~crmcore.kernel.errors.StorageError` with the original chained.
A database written by a newer crmcore raises
:class:`~crmcore.kernel.errors.SchemaVersionError`; see
:mod:`crmcore.storage.sqlite_schema` for the tables and migrations.

**Test hook (private).** When the environment variable
``CRMCORE_SQLITE_TEST_PAUSE_AFTER_ROWS`` is set to ``N``, a commit that has
written ``N`` rows (inside its transaction, before ``COMMIT``) prints
``CRMCORE_SQLITE_TEST_PAUSE_AFTER_ROWS <rows written>`` to stdout, once, and
blocks reading a line from stdin. The crash tests use it to kill a process
at a known point in the middle of a commit. Unset, it costs one environment
lookup per commit.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

import attrs

from crmcore.columnar.schema import CUSTOMER_SCHEMA, ColumnKind, customer_record
from crmcore.customers.customer import AttributeValue, Customer
from crmcore.customers.records import Interaction, Purchase, ServiceRecord
from crmcore.kernel.clock import EPOCH, to_micros, to_utc
from crmcore.kernel.codec import JSON, decode, encode
from crmcore.kernel.errors import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    CrmError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from crmcore.kernel.money import Money
from crmcore.kernel.stage import Stage
from crmcore.ports import OutboxMessage
from crmcore.storage.base import (
    CUSTOMERS,
    INTERACTIONS,
    PURCHASES,
    SERVICE_RECORDS,
    AggregateKind,
    AggregateWrite,
    BufferedUnitOfWork,
    ChangeSet,
    RecordKind,
    RecordWrite,
    check_limit,
    new_message_id,
    relay,
)
from crmcore.storage.sqlite_schema import SCHEMA_VERSION, migrate

if TYPE_CHECKING:
    from crmcore.columnar.frame import CustomerFrame, EventLog, TransactionLog
    from crmcore.segments.rules import FieldType, Predicate, RuleSchema

__all__ = ["SCHEMA_VERSION", "SqliteOutbox", "SqliteStore"]

A = TypeVar("A")
R = TypeVar("R")

#: A value sqlite3 binds as a parameter.
SqlValue = str | int | float | bytes | None
Row = tuple[SqlValue, ...]

#: The rule type of each stored custom attribute type (for :meth:`SqliteStore.segment_members`).
_ATTRIBUTE_RULE_TYPES: Final[dict[str, FieldType]] = {
    "str": "string",
    "int": "number",
    "float": "number",
    "decimal": "number",
    "bool": "bool",
    "date": "date",
    "datetime": "datetime",
}

#: The environment variable of the private crash-test hook (see the module docstring).
PAUSE_ENV: Final = "CRMCORE_SQLITE_TEST_PAUSE_AFTER_ROWS"
_CHUNK: Final = 500  # rows per executemany batch and ids per "IN (...)" lookup
_MICROSECOND: Final = timedelta(microseconds=1)
_INT64: Final = range(-(2**63), 2**63)

# --------------------------------------------------------------------------- customer columns

#: Scalar CUSTOMER_SCHEMA columns stored as real columns of ``customers`` (schema order).
_SCALARS: Final = tuple(c for c in CUSTOMER_SCHEMA.columns if c.kind != "tags" and c.name != "id")
#: The tag-set columns, stored as rows of ``customer_tags`` (field = column name).
_TAG_FIELDS: Final = tuple(c.name for c in CUSTOMER_SCHEMA.columns if c.kind == "tags")
_CUSTOMER_COLUMNS: Final = ("id", "version", "body", *(c.name for c in _SCALARS))
_EMAIL: Final = _CUSTOMER_COLUMNS.index("email")
#: Customer unique keys (CUSTOMERS.unique_keys) and the column holding each.
_CUSTOMER_KEY_COLUMNS: Final = {"email": "email"}

if not {name for name, _get in CUSTOMERS.unique_keys} <= set(_CUSTOMER_KEY_COLUMNS):
    raise ImportError("every unique key of CUSTOMERS needs a column in the SQLite adapter")


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _placeholders(n: int) -> str:
    return ", ".join("?" * n)


_CUSTOMER_UPSERT: Final = (
    f"INSERT INTO customers ({', '.join(map(_q, _CUSTOMER_COLUMNS))}) "
    f"VALUES ({_placeholders(len(_CUSTOMER_COLUMNS))}) ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in _CUSTOMER_COLUMNS[1:])
)
_CUSTOMER_SELECT: Final = f"SELECT id, {', '.join(_q(c.name) for c in _SCALARS)} FROM customers"


def _from_micros(value: int) -> datetime:
    """The aware UTC datetime ``value`` microseconds after the Unix epoch."""
    return EPOCH + timedelta(microseconds=value)


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
        "datetime": _from_micros,
        "date": date.fromisoformat,
        "bool": bool,
        "float": float,
        "int": int,
    }
    read = readers.get(kind, str)
    return lambda value: None if value is None else read(value)


_READERS: Final = tuple(_reader(c.kind) for c in _SCALARS)


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
        return _from_micros(value)
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


def _dumps(data: JSON) -> str:
    return json.dumps(data, separators=(",", ":"))


def _body(value: object) -> str:
    """The stored JSON document of an aggregate or record (:mod:`crmcore.kernel.codec`)."""
    return _dumps(encode(value))


def _record_at(record: object) -> int:
    at: object = getattr(record, "at")  # noqa: B009 - generic over record classes
    return to_micros(to_utc(at, "at"))


# --------------------------------------------------------------------------- errors


def _storage_error(exc: BaseException, action: str) -> StorageError:
    """A :class:`StorageError` describing a failed ``sqlite3`` call (chain it with ``from``)."""
    name = str(getattr(exc, "sqlite_errorname", ""))
    if name == "SQLITE_NOTADB":
        reason = "the file is not a SQLite database (or it is encrypted or corrupt)"
    elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        reason = "the database stayed locked by another connection past the timeout"
    elif name == "SQLITE_FULL":
        reason = "the disk is full"
    elif name.startswith("SQLITE_CORRUPT"):
        reason = "the database file is corrupt"
    elif isinstance(exc, OverflowError | UnicodeError):
        reason = f"a value cannot be stored in SQLite ({exc})"
    else:
        reason = str(exc) or type(exc).__name__
    suffix = f" [{name}]" if name else ""
    return StorageError(f"SQLite {action} failed: {reason}{suffix}")


#: What sqlite3 raises besides sqlite3.Error: binding a too-large int or an unencodable str.
_BIND_ERRORS: Final = (OverflowError, UnicodeEncodeError)


@contextmanager
def _translated(action: str) -> Iterator[None]:
    """Turn ``sqlite3`` (and parameter binding) errors into :class:`StorageError`."""
    try:
        yield
    except (sqlite3.Error, *_BIND_ERRORS) as exc:
        raise _storage_error(exc, action) from exc


def _corrupt(entity: str, id: object, exc: BaseException) -> StorageError:
    error = StorageError(f"stored {entity} {id!r} cannot be read back: {exc}")
    error.__cause__ = exc
    return error


def _decode_body(kind: AggregateKind[A] | RecordKind[A], id: object, body: object) -> A:
    try:
        if not isinstance(body, str):
            raise TypeError(f"body is a {type(body).__name__}, not text")
        value: A = decode(kind.cls, json.loads(body))
    except (CrmError, ValueError, TypeError) as exc:
        raise _corrupt(kind.name, id, exc) from exc
    return value


# Entity names of the tables, for errors raised by the database's own constraints.
_TABLE_ENTITIES: Final = {
    "customers": "customer",
    "customer_tags": "customer",
    "customer_attributes": "customer",
    "purchases": PURCHASES.name,
    "interactions": INTERACTIONS.name,
    "service_records": SERVICE_RECORDS.name,
    "outbox": "outbox message",
}


def _integrity_error(
    exc: sqlite3.IntegrityError, table: str, columns: Sequence[str], row: Row
) -> CrmError:
    """The error for a constraint the database caught on ``row`` (inserted into ``table``)."""
    message = str(exc)
    prefix = "UNIQUE constraint failed: "
    if not message.startswith(prefix) or len(columns) != len(row):
        return _storage_error(exc, f"write to {table}")
    values = dict(zip(columns, row, strict=True))
    failed = [part.strip().rpartition(".")[2] for part in message[len(prefix) :].split(",")]
    entity = str(values["kind"]) if "kind" in values else _TABLE_ENTITIES.get(table, table)
    if table == "aggregate_keys":
        return AlreadyExistsError(entity, values["value"], str(values["key"]))
    if table == "customer_attributes":
        return AlreadyExistsError(entity, values["customer_id"], f"attributes.{values['name']!s}")
    fields = [f for f in failed if f != "kind" and f in values]
    if len(fields) == 1:
        field = fields[0]
        if field in ("id", "order_id", "position"):
            return AlreadyExistsError(entity, values[field])
        return AlreadyExistsError(entity, values[field], field)
    return AlreadyExistsError(entity, tuple(values[f] for f in fields), ", ".join(fields))


# --------------------------------------------------------------------------- connections


class _Connections:
    """Opens and hands out configured connections.

    A file gets one connection per thread (``check_same_thread=False`` only so
    that :meth:`close` can close them all from one thread); ``":memory:"``
    gets one connection, shared under a lock.
    """

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self.shared = path == ":memory:"
        self._lock = threading.RLock()
        self._local = threading.local()
        self._open: list[tuple[weakref.ref[threading.Thread], sqlite3.Connection]] = []
        self._closed = False

    def connect(self) -> sqlite3.Connection:
        """A new connection: autocommit, foreign keys on, synchronous FULL, busy timeout."""
        with _translated(f"open of {self.path!r}"):
            connection = sqlite3.connect(
                self.path,
                timeout=self.timeout,
                isolation_level=None,  # we issue BEGIN / COMMIT ourselves
                check_same_thread=False,
            )
        try:
            with _translated(f"open of {self.path!r}"):
                connection.execute(f"PRAGMA busy_timeout = {round(self.timeout * 1000)}")
                connection.execute("PRAGMA foreign_keys = ON")
                connection.execute("PRAGMA synchronous = FULL")
        except BaseException:
            connection.close()
            raise
        return connection

    def adopt(self, connection: sqlite3.Connection) -> None:
        """Register ``connection`` as the calling thread's (or the shared) connection."""
        with self._lock:
            self._open.append((weakref.ref(threading.current_thread()), connection))
            self._local.connection = connection

    @contextmanager
    def use(self) -> Iterator[sqlite3.Connection]:
        """The calling thread's connection (the shared one, locked, for ``:memory:``)."""
        if self.shared:
            with self._lock:
                yield self._get()
        else:
            yield self._get()

    def _get(self) -> sqlite3.Connection:
        if self._closed:
            raise StorageError(f"the SQLite store {self.path!r} is closed")
        if self.shared:
            return self._open[0][1]
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        with self._lock:  # so that a concurrent close() cannot miss the new connection
            if self._closed:
                raise StorageError(f"the SQLite store {self.path!r} is closed")
            self._close_orphans()
            connection = self.connect()
            self.adopt(connection)
            return connection

    def _close_orphans(self) -> None:
        """Close the connections of threads that have ended (call with the lock held)."""
        alive = []
        for ref, connection in self._open:
            thread = ref()
            if thread is not None and thread.is_alive():
                alive.append((ref, connection))
            else:
                connection.close()
        self._open = alive

    def discard(self, connection: sqlite3.Connection) -> None:
        """Close a connection left in an unknown state; the thread gets a new one next time."""
        if self.shared:
            return  # the only copy of the database: keep it
        with self._lock:
            self._open = [(r, c) for r, c in self._open if c is not connection]
            if getattr(self._local, "connection", None) is connection:
                del self._local.connection
        connection.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    def close(self) -> None:
        """Close every connection (idempotent)."""
        with self._lock:
            self._closed = True
            connections = [c for _r, c in self._open]
            self._open = []
        for connection in connections:
            connection.close()


# --------------------------------------------------------------------------- record tables


@attrs.frozen
class _RecordTable:
    """Where and how one :class:`RecordKind` is stored."""

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
        values = _placeholders(len(columns))
        return f"{verb} INTO {self.table} ({', '.join(columns)}) VALUES ({values})", columns

    def rebuild(self, row: Sequence[Any]) -> Any:
        try:
            return self.from_row(row)
        except (CrmError, ValueError, TypeError) as exc:
            raise _corrupt(self.entity, row[0], exc) from exc


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
        at=_from_micros(row[2]),
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
        at=_from_micros(row[2]),
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
        at=_from_micros(row[2]),
        kind=row[3],
        channel=row[4],
        summary=row[5],
        resolved_at=None if row[6] is None else _from_micros(row[6]),
    )


_DEDICATED: Final[dict[str, _RecordTable]] = {
    PURCHASES.name: _RecordTable(
        PURCHASES.name,
        "purchases",
        "order_id",
        ("order_id", "customer_id", "at", "amount", "currency", "items", "channel", "category"),
        _purchase_row,
        _purchase,
    ),
    INTERACTIONS.name: _RecordTable(
        INTERACTIONS.name,
        "interactions",
        "id",
        ("id", "customer_id", "at", "channel", "kind", "stage", "note"),
        _interaction_row,
        _interaction,
    ),
    SERVICE_RECORDS.name: _RecordTable(
        SERVICE_RECORDS.name,
        "service_records",
        "id",
        ("id", "customer_id", "at", "kind", "channel", "summary", "resolved_at"),
        _service_row,
        _service_record,
    ),
}


def _record_table(kind: RecordKind[Any]) -> _RecordTable:
    """The dedicated table of a built-in record kind, or the generic ``records`` table."""
    table = _DEDICATED.get(kind.name)
    if table is not None:
        return table

    def to_row(record: Any) -> Row:
        return (kind.id_of(record), record.customer_id, _record_at(record), _body(record))

    def from_row(row: Sequence[Any]) -> Any:
        return _decode_body(kind, row[0], row[3])

    return _RecordTable(
        kind.name,
        "records",
        "id",
        ("id", "customer_id", "at", "body"),
        to_row,
        from_row,
        (("kind", kind.name),),
    )


def _is_customers(kind: AggregateKind[Any]) -> bool:
    return kind.name == CUSTOMERS.name


def _chunks(items: Sequence[A]) -> Iterator[Sequence[A]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


# --------------------------------------------------------------------------- writing


class _Progress:
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


class _Writer:
    """Runs batched writes in the open transaction, explaining constraint failures."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._progress = _Progress()

    def run(self, sql: str, rows: Sequence[Row], table: str, columns: Sequence[str] = ()) -> None:
        connection = self._connection
        for chunk in _chunks(rows):
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
                return _integrity_error(row_exc, table, columns, row)
        return _storage_error(exc, f"write to {table}")


@attrs.define
class _Prepared:
    """A change set turned into rows before the write lock is taken (pure CPU work)."""

    customers: list[tuple[Row, list[Row], list[Row]]] = attrs.Factory(list)
    aggregates: list[tuple[Row, list[Row]]] = attrs.Factory(list)
    records: dict[tuple[str, bool], tuple[_RecordTable, list[Row]]] = attrs.Factory(dict)
    outbox: list[Row] = attrs.Factory(list)
    #: The first encoding failure, raised after validation (as the memory adapter would).
    error: CrmError | None = None


def _prepare(changes: ChangeSet) -> _Prepared:
    prepared = _Prepared()
    try:
        for write in changes.aggregates:
            if _is_customers(write.kind):
                prepared.customers.append(_customer_rows(write.aggregate))
            else:
                kind, id = write.kind, write.id
                row: Row = (kind.name, id, kind.version_of(write.aggregate), _body(write.aggregate))
                keys: list[Row] = [
                    (kind.name, key, value, id)
                    for key, value in kind.keys_of(write.aggregate).items()
                    if value is not None
                ]
                prepared.aggregates.append((row, keys))
        for record_write in changes.records:
            slot = (record_write.kind.name, record_write.replace)
            if slot not in prepared.records:
                prepared.records[slot] = (_record_table(record_write.kind), [])
            table, rows = prepared.records[slot]
            rows.append((*table.scope_values, *table.to_row(record_write.record)))
        for event in changes.events:
            prepared.outbox.append(
                (
                    new_message_id(),
                    event.kind,
                    event.aggregate_id,
                    event.occurred_at.isoformat(),
                    _dumps(event.payload()),
                )
            )
    except CrmError as exc:
        prepared.error = exc
    return prepared


def _customer_rows(customer: Customer) -> tuple[Row, list[Row], list[Row]]:
    record = customer_record(customer)
    row: Row = (
        customer.id,
        customer.version,
        _body(customer),
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


def _customer_records(
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
            raise _corrupt("customer", id, exc) from exc
        yield record


@attrs.define
class _Current:
    """The stored version and unique-key values of an aggregate a change set writes."""

    version: int
    keys: dict[str, str]


# --------------------------------------------------------------------------- the backend


class _SqliteBackend:
    """The :class:`~crmcore.storage.base.Backend` over a SQLite database."""

    def __init__(self, connections: _Connections) -> None:
        self._db = connections

    # -- reads ---------------------------------------------------------------
    def _read(self, sql: str, params: Sequence[SqlValue] = ()) -> list[Any]:
        with self._db.use() as connection, _translated("read"):
            return connection.execute(sql, params).fetchall()

    def fetch(self, kind: AggregateKind[A], id: str) -> A | None:
        if _is_customers(kind):
            rows = self._read("SELECT body FROM customers WHERE id = ?", (id,))
        else:
            rows = self._read(
                "SELECT body FROM aggregates WHERE kind = ? AND id = ?", (kind.name, id)
            )
        return _decode_body(kind, id, rows[0][0]) if rows else None

    def fetch_by_key(self, kind: AggregateKind[A], key: str, value: str) -> A | None:
        if _is_customers(kind):
            column = _CUSTOMER_KEY_COLUMNS.get(key)
            if column is None:
                return None
            rows = self._read(f"SELECT id, body FROM customers WHERE {_q(column)} = ?", (value,))
        else:
            rows = self._read(
                "SELECT a.id, a.body FROM aggregate_keys AS k JOIN aggregates AS a"
                " ON a.kind = k.kind AND a.id = k.id"
                " WHERE k.kind = ? AND k.key = ? AND k.value = ?",
                (kind.name, key, value),
            )
        return _decode_body(kind, rows[0][0], rows[0][1]) if rows else None

    def fetch_page(self, kind: AggregateKind[A], limit: int, after: str | None) -> list[A]:
        if _is_customers(kind):
            sql, params = "SELECT id, body FROM customers", []
            prefix = " WHERE"
        else:
            sql, params = "SELECT id, body FROM aggregates WHERE kind = ?", [kind.name]
            prefix = " AND"
        if after is not None:
            sql += f"{prefix} id > ?"
            params.append(after)
        rows = self._read(f"{sql} ORDER BY id LIMIT ?", (*params, limit))
        return [_decode_body(kind, id, body) for id, body in rows]

    def count(self, kind: AggregateKind[Any]) -> int:
        if _is_customers(kind):
            rows = self._read("SELECT COUNT(*) FROM customers")
        else:
            rows = self._read("SELECT COUNT(*) FROM aggregates WHERE kind = ?", (kind.name,))
        count: int = rows[0][0]
        return count

    def fetch_record(self, kind: RecordKind[R], id: str) -> R | None:
        table = _record_table(kind)
        rows = self._read(
            table.select + table.where(f"{table.id_column} = ?"), (*table.scope_values, id)
        )
        if not rows:
            return None
        found: R = table.rebuild(rows[0])
        return found

    def records_for(self, kind: RecordKind[R], customer_id: str) -> list[R]:
        table = _record_table(kind)
        rows = self._read(
            table.select + table.where("customer_id = ?") + table.order,
            (*table.scope_values, customer_id),
        )
        return [table.rebuild(row) for row in rows]

    def count_records(self, kind: RecordKind[Any]) -> int:
        table = _record_table(kind)
        rows = self._read(f"SELECT COUNT(*) FROM {table.table}{table.where()}", table.scope_values)
        count: int = rows[0][0]
        return count

    def customer_records(self) -> Iterator[dict[str, object]]:
        """Every customer as a :func:`~crmcore.columnar.schema.customer_record`, in id order.

        Built from the real columns, ``customer_tags`` and
        ``customer_attributes`` with three bulk SELECTs in one read
        transaction (one snapshot); no JSON is decoded. The records are made
        lazily, one at a time, from the fetched rows.
        """
        with self._db.use() as connection, _translated("read"):
            connection.execute("BEGIN")
            try:
                scalars = connection.execute(_CUSTOMER_SELECT + " ORDER BY id").fetchall()
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
        return _customer_records(scalars, tags, attributes)

    def customer_frame(self) -> CustomerFrame:
        from crmcore.columnar.frame import CustomerFrame

        return CustomerFrame.from_records(self.customer_records())

    def transaction_records(self) -> Iterator[dict[str, object]]:
        """Every purchase as a TRANSACTION_SCHEMA record (amount as float), by (at, order id)."""
        rows = self._read(
            "SELECT customer_id, at, amount, currency, order_id, items, channel, category"
            " FROM purchases ORDER BY at, order_id"
        )
        for customer_id, at, amount, currency, order_id, items, channel, category in rows:
            try:
                value = float(Decimal(amount))
                when = _from_micros(at)
            except (ValueError, ArithmeticError, TypeError) as exc:
                raise _corrupt(PURCHASES.name, order_id, exc) from exc
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
        from crmcore.columnar.frame import TransactionLog

        return TransactionLog.from_records(self.transaction_records())

    def event_records(self) -> Iterator[dict[str, object]]:
        """Every interaction as an EVENT_SCHEMA record, ordered by (at, id)."""
        rows = self._read(
            "SELECT customer_id, at, kind, channel, stage, id FROM interactions ORDER BY at, id"
        )
        for customer_id, at, kind, channel, stage, id in rows:
            try:
                when = _from_micros(at)
            except (OverflowError, TypeError) as exc:
                raise _corrupt(INTERACTIONS.name, id, exc) from exc
            yield {
                "customer_id": customer_id,
                "at": when,
                "kind": kind,
                "channel": channel,
                "stage": stage,
            }

    def event_log(self) -> EventLog:
        from crmcore.columnar.frame import EventLog

        return EventLog.from_records(self.event_records())

    # -- the commit ----------------------------------------------------------
    def apply(self, changes: ChangeSet) -> None:
        prepared = _prepare(changes)  # encode before taking the write lock
        with self._db.use() as connection:
            with _translated("commit"):
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
                    raise _storage_error(exc, "commit") from exc
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
    ) -> dict[tuple[str, str], _Current]:
        """Stored versions and key values of the aggregates ``writes`` touch."""
        current: dict[tuple[str, str], _Current] = {}
        by_kind: dict[str, list[str]] = defaultdict(list)
        for write in writes:
            by_kind[write.kind.name].append(write.id)
        for name, ids in by_kind.items():
            for chunk in _chunks(ids):
                marks = _placeholders(len(chunk))
                if name == CUSTOMERS.name:
                    columns = ", ".join(_q(c) for c in _CUSTOMER_KEY_COLUMNS.values())
                    for id, version, *values in connection.execute(
                        f"SELECT id, version, {columns} FROM customers WHERE id IN ({marks})",
                        chunk,
                    ):
                        keys = {
                            key: value
                            for key, value in zip(_CUSTOMER_KEY_COLUMNS, values, strict=True)
                            if value is not None
                        }
                        current[(name, id)] = _Current(version, keys)
                    continue
                for id, version in connection.execute(
                    f"SELECT id, version FROM aggregates WHERE kind = ? AND id IN ({marks})",
                    (name, *chunk),
                ):
                    current[(name, id)] = _Current(version, {})
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
            for chunk in _chunks(sorted(values)):
                marks = _placeholders(len(chunk))
                if name == CUSTOMERS.name:
                    column = _q(_CUSTOMER_KEY_COLUMNS[key])
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
    ) -> dict[tuple[str, str], _Current]:
        """Raise if ``changes`` cannot apply (memory ``_validate``, in SQL), else the state."""
        current = self._current(connection, changes.aggregates)
        released: dict[tuple[str, str], set[str]] = defaultdict(set)
        for write in changes.aggregates:
            kind, id = write.kind, write.id
            stored = current.get((kind.name, id))
            if write.expected == 0:
                if stored is not None:
                    raise AlreadyExistsError(kind.name, id)
            else:
                actual = None if stored is None else stored.version
                if actual != write.expected:
                    raise ConcurrencyConflictError(kind.name, id, write.expected, actual)
            if stored is not None:
                for key, value in stored.keys.items():
                    released[(kind.name, key)].add(value)
        new_keys = [(write, write.kind.keys_of(write.aggregate)) for write in changes.aggregates]
        holders = self._holders(
            connection,
            (
                (write.kind.name, key, value)
                for write, keys in new_keys
                for key, value in keys.items()
                if value is not None
            ),
        )
        claimed: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
        for write, keys in new_keys:
            kind, id = write.kind, write.id
            for key, claim in keys.items():
                if claim is None:
                    continue
                index = (kind.name, key)
                holder = holders.get((kind.name, key, claim))
                if holder is not None and holder != id and claim not in released[index]:
                    raise AlreadyExistsError(kind.name, claim, key)
                other = claimed[index].setdefault(claim, id)
                if other != id:
                    raise AlreadyExistsError(kind.name, claim, key)
        existing = self._existing_records(connection, changes.records)
        seen: set[tuple[str, str]] = set()
        for record_write in changes.records:
            name, id = record_write.kind.name, record_write.id
            exists = (name, id) in existing
            if record_write.replace and not exists:
                raise NotFoundError(name, id)
            if not record_write.replace and (exists or (name, id) in seen):
                raise AlreadyExistsError(name, id)
            seen.add((name, id))
        return current

    def _existing_records(
        self, connection: sqlite3.Connection, writes: Sequence[RecordWrite]
    ) -> set[tuple[str, str]]:
        by_kind: dict[str, tuple[RecordKind[Any], list[str]]] = {}
        for write in writes:
            by_kind.setdefault(write.kind.name, (write.kind, []))[1].append(write.id)
        existing: set[tuple[str, str]] = set()
        for name, (kind, ids) in by_kind.items():
            table = _record_table(kind)
            for chunk in _chunks(ids):
                condition = f"{table.id_column} IN ({_placeholders(len(chunk))})"
                sql = f"SELECT {table.id_column} FROM {table.table}{table.where(condition)}"
                for (id,) in connection.execute(sql, (*table.scope_values, *chunk)):
                    existing.add((name, id))
        return existing

    def _write(
        self,
        connection: sqlite3.Connection,
        changes: ChangeSet,
        prepared: _Prepared,
        stored: Mapping[tuple[str, str], _Current],
    ) -> None:
        writer = _Writer(connection)
        customer_ids = [w.id for w in changes.aggregates if _is_customers(w.kind)]
        # Release e-mails that move, so a swap between two customers passes the UNIQUE index.
        moving: list[Row] = []
        updated: list[Row] = []
        for (row, _tags, _attributes), id in zip(prepared.customers, customer_ids, strict=True):
            current = stored.get((CUSTOMERS.name, id))
            if current is None:
                continue
            updated.append((id,))
            if current.keys.get("email") not in (None, row[_EMAIL]):
                moving.append((id,))
        writer.run("UPDATE customers SET email = NULL WHERE id = ?", moving, "customers")
        writer.run("DELETE FROM customer_tags WHERE customer_id = ?", updated, "customer_tags")
        writer.run(
            "DELETE FROM customer_attributes WHERE customer_id = ?", updated, "customer_attributes"
        )
        writer.run(
            _CUSTOMER_UPSERT, [c[0] for c in prepared.customers], "customers", _CUSTOMER_COLUMNS
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


# --------------------------------------------------------------------------- outbox and store


class SqliteOutbox:
    """The outbox of a :class:`SqliteStore`: the ``outbox`` table, in position order."""

    def __init__(self, connections: _Connections) -> None:
        self._db = connections

    def pending(self, limit: int = 100) -> list[OutboxMessage]:
        """Up to ``limit`` unpublished messages, oldest first."""
        check_limit(limit)
        with self._db.use() as connection, _translated("read of the outbox"):
            rows = connection.execute(
                "SELECT position, message_id, kind, aggregate_id, occurred_at, payload"
                " FROM outbox WHERE published_at IS NULL ORDER BY position LIMIT ?",
                (limit,),
            ).fetchall()
        messages = []
        for position, message_id, kind, aggregate_id, occurred_at, payload in rows:
            try:
                data = json.loads(payload)
                if not isinstance(data, dict):
                    raise TypeError("payload is not a JSON object")
                message = OutboxMessage(
                    position=position,
                    message_id=message_id,
                    kind=kind,
                    aggregate_id=aggregate_id,
                    occurred_at=datetime.fromisoformat(occurred_at),
                    payload=data,
                )
            except (ValueError, TypeError) as exc:
                raise _corrupt("outbox message", position, exc) from exc
            messages.append(message)
        return messages

    def mark_published(self, positions: Iterable[int]) -> None:
        """Mark messages published (idempotent; unknown positions are ignored)."""
        wanted = list(positions)
        for position in wanted:
            if isinstance(position, bool) or not isinstance(position, int):
                raise ValidationError("positions", position, "must be integers")
        if not wanted:
            return
        now = datetime.now(UTC).isoformat()
        with self._db.use() as connection, _translated("update of the outbox"):
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany(
                    "UPDATE outbox SET published_at = ?"
                    " WHERE position = ? AND published_at IS NULL",
                    [(now, position) for position in wanted],
                )
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def relay(self, handler: Callable[[OutboxMessage], None], *, limit: int = 100) -> int:
        """Hand pending messages to ``handler`` in order (:func:`~crmcore.storage.base.relay`)."""
        return relay(self, handler, limit)


def _check_customer_columns(connection: sqlite3.Connection, location: str) -> None:
    """Fail clearly when CUSTOMER_SCHEMA has a column that no migration has added yet."""
    present = {row[1] for row in connection.execute("PRAGMA table_info(customers)")}
    missing = [c for c in _CUSTOMER_COLUMNS if c not in present]
    if missing:
        raise StorageError(
            f"SQLite open of {location!r} failed: the customers table lacks columns {missing}; "
            "CUSTOMER_SCHEMA changed without a migration in crmcore.storage.sqlite_schema"
        )


class SqliteStore:
    """A :class:`~crmcore.ports.Store` in a SQLite database file.

    ``path`` is the database file (created when missing, migrated to
    :data:`SCHEMA_VERSION` on open) or ``":memory:"`` for a private,
    non-durable database shared by the store's threads. ``timeout`` is how
    many seconds a write waits for another connection's lock before
    failing with :class:`~crmcore.kernel.errors.StorageError`.

    Raises :class:`~crmcore.kernel.errors.SchemaVersionError` for a database from a
    newer crmcore and :class:`~crmcore.kernel.errors.StorageError` for a file that
    is not a SQLite database or cannot be opened. Use it as a context
    manager, or call :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:", *, timeout: float = 5.0) -> None:
        if not isinstance(path, str | os.PathLike):
            raise ValidationError("path", path, "must be a file path or ':memory:'")
        location = os.fspath(path)
        if not isinstance(location, str) or not location:
            raise ValidationError("path", path, "must be a non-empty file path or ':memory:'")
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not 0 <= timeout < float("inf")
        ):
            raise ValidationError("timeout", timeout, "must be a non-negative number of seconds")
        self._path = location
        self._connections = _Connections(location, float(timeout))
        connection = self._connections.connect()
        try:
            with _translated(f"open of {location!r}"):
                mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if not self._connections.shared and str(mode).lower() != "wal":
                    raise StorageError(
                        f"SQLite open of {location!r} failed: cannot use WAL journal mode "
                        f"(got {mode!r}; is the file on a network or read-only file system?)"
                    )
                migrate(connection)
                _check_customer_columns(connection, location)
        except BaseException:
            connection.close()
            raise
        self._connections.adopt(connection)
        self._backend = _SqliteBackend(self._connections)
        self._outbox = SqliteOutbox(self._connections)

    @property
    def path(self) -> str:
        """The database file (or ``":memory:"``)."""
        return self._path

    def unit_of_work(self) -> BufferedUnitOfWork:
        """A new unit of work over this store."""
        if self._connections.closed:
            raise StorageError(f"the SQLite store {self._path!r} is closed")
        return BufferedUnitOfWork(self._backend)

    def rule_schema(self) -> RuleSchema:
        """What segment rules may refer to in this database.

        The standard customer fields and computed fields, and the custom
        attributes stored here (``attr.<name>`` with their stored types). Event
        kinds are not restricted: a segment may name a kind no interaction
        has had yet (it then matches nobody, or everybody under ``not``).
        """
        from crmcore.segments.rules import RuleSchema as _RuleSchema

        types: dict[str, FieldType] = {}
        rows = self._backend._read("SELECT DISTINCT name, type FROM customer_attributes")
        for name, tag in rows:
            types[f"attr.{name}"] = _ATTRIBUTE_RULE_TYPES.get(tag, "string")
        return _RuleSchema.default().with_attributes(types)

    def segment_members(
        self, rule: Predicate, as_of: datetime, *, schema: RuleSchema | None = None
    ) -> list[str]:
        """The ids of the customers matching segment ``rule`` at ``as_of``, in id order.

        The rule is compiled by :func:`crmcore.segments.sql.to_sql` and runs
        inside the database (no customer is loaded into Python); it means
        exactly what :func:`crmcore.segments.matches` means on the stored
        customers, purchases and interactions. ``schema`` defaults to
        :meth:`rule_schema`. Raises :class:`~crmcore.kernel.errors.RuleTypeError` for
        a rule that does not fit the schema.
        """
        from crmcore.segments.sql import to_sql

        sql, params = to_sql(
            rule, "sqlite", as_of=as_of, schema=self.rule_schema() if schema is None else schema
        )
        values = [cast(SqlValue, p) for p in params]
        return [str(row[0]) for row in self._backend._read(sql, values)]

    @property
    def outbox(self) -> SqliteOutbox:
        """The transactional outbox."""
        return self._outbox

    def close(self) -> None:
        """Close every connection (idempotent). Units of work still open then fail."""
        self._connections.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteStore({self._path!r})"
