"""The SQLite store: opening a database, units of work over it, segments run inside it.

[`SqliteStore`][crmcore.storage.sqlite.store.SqliteStore] opens (and creates or migrates, see
[`crmcore.storage.sqlite.schema`][crmcore.storage.sqlite.schema]) a database file in WAL mode, hands
out [`BufferedUnitOfWork`][crmcore.storage.unit_of_work.BufferedUnitOfWork] instances over its
[`SqliteBackend`][crmcore.storage.sqlite.backend.SqliteBackend] and its
[`SqliteOutbox`][crmcore.storage.sqlite.outbox.SqliteOutbox], and runs segment rules as SQL
([`SqliteStore.segment_members()`][crmcore.storage.sqlite.store.SqliteStore.segment_members])
against the schema of what it stores
([`SqliteStore.rule_schema()`][crmcore.storage.sqlite.store.SqliteStore.rule_schema]).
"""

from __future__ import annotations

import os
from datetime import datetime
from types import TracebackType
from typing import Final, cast

from crmcore.kernel.errors import StorageError, ValidationError
from crmcore.segments.rules import FieldType, Predicate, RuleSchema
from crmcore.segments.sql import to_sql
from crmcore.storage.sqlite.backend import SqliteBackend
from crmcore.storage.sqlite.connections import Connections
from crmcore.storage.sqlite.customer_columns import check_customer_columns
from crmcore.storage.sqlite.encoding import SqlValue
from crmcore.storage.sqlite.errors import translated
from crmcore.storage.sqlite.outbox import SqliteOutbox
from crmcore.storage.sqlite.schema import migrate
from crmcore.storage.unit_of_work import BufferedUnitOfWork

__all__ = ["SqliteStore"]


_ATTRIBUTE_RULE_TYPES: Final[dict[str, FieldType]] = {
    "str": "string",
    "int": "number",
    "float": "number",
    "decimal": "number",
    "bool": "bool",
    "date": "date",
    "datetime": "datetime",
}
"""The rule type of each stored custom attribute type (for
[`SqliteStore.segment_members()`][crmcore.storage.sqlite.store.SqliteStore.segment_members])."""


class SqliteStore:
    """A [`Store`][crmcore.ports.Store] in a SQLite database file.

    ``path`` is the database file (created when missing, migrated to
    [`SCHEMA_VERSION`][crmcore.storage.sqlite.schema.SCHEMA_VERSION] on open) or
    ``":memory:"`` for a private, non-durable database shared by the store's
    threads. ``timeout`` is how many seconds a write waits for another
    connection's lock before failing with
    [`StorageError`][crmcore.kernel.errors.StorageError].

    Raises [`SchemaVersionError`][crmcore.kernel.errors.SchemaVersionError] for a database from a
    newer crmcore and [`StorageError`][crmcore.kernel.errors.StorageError] for a file that
    is not a SQLite database or cannot be opened. Use it as a context
    manager, or call [`close()`][crmcore.storage.sqlite.store.SqliteStore.close].
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:", *, timeout: float = 5.0) -> None:
        if not isinstance(path, str | os.PathLike):
            raise ValidationError("path", path, "must be a file path or ':memory:'")
        location = os.fspath(path)
        if not isinstance(location, str) or not location:
            raise ValidationError("path", path, "must be a non-empty file path or ':memory:'")
        if "\x00" in location:  # no file system takes it; sqlite3 raises a bare ValueError
            raise ValidationError("path", path, "must not contain a NUL character")
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not 0 <= timeout < float("inf")
        ):
            raise ValidationError("timeout", timeout, "must be a non-negative number of seconds")
        self._path = location
        self._connections = Connections(location, float(timeout))
        connection = self._connections.connect()
        try:
            with translated(f"open of {location!r}"):
                mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if not self._connections.shared and str(mode).lower() != "wal":
                    raise StorageError(
                        f"SQLite open of {location!r} failed: cannot use WAL journal mode "
                        f"(got {mode!r}; is the file on a network or read-only file system?)"
                    )
                migrate(connection)
                check_customer_columns(connection, location)
        except BaseException:
            connection.close()
            raise
        self._connections.adopt(connection)
        self._backend = SqliteBackend(self._connections)
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
        types: dict[str, FieldType] = {}
        rows = self._backend.read("SELECT DISTINCT name, type FROM customer_attributes")
        for name, tag in rows:
            types[f"attr.{name}"] = _ATTRIBUTE_RULE_TYPES.get(tag, "string")
        return RuleSchema.default().with_attributes(types)

    def segment_members(
        self, rule: Predicate, as_of: datetime, *, schema: RuleSchema | None = None
    ) -> list[str]:
        """The ids of the customers matching segment ``rule`` at ``as_of``, in id order.

        The rule is compiled by [`crmcore.segments.sql.to_sql()`][crmcore.segments.sql.to_sql] and
        runs inside the database (no customer is loaded into Python); it means exactly what
        [`crmcore.segments.matches()`][crmcore.segments.matches] means on the stored customers,
        purchases and interactions. ``schema`` defaults to
        [`rule_schema()`][crmcore.storage.sqlite.store.SqliteStore.rule_schema]. Raises
        [`RuleTypeError`][crmcore.kernel.errors.RuleTypeError] for a rule that does not fit the
        schema.
        """
        sql, params = to_sql(
            rule, "sqlite", as_of=as_of, schema=self.rule_schema() if schema is None else schema
        )
        values = [cast(SqlValue, p) for p in params]
        return [str(row[0]) for row in self._backend.read(sql, values)]

    @property
    def outbox(self) -> SqliteOutbox:
        """The transactional outbox."""
        return self._outbox

    def scrub(self) -> None:
        """Leave no copy of deleted or overwritten data in the database's files.

        Every connection runs with ``secure_delete`` on, so deleted content is zeroed in the
        pages it leaves; this checkpoints the write-ahead log into the database and truncates
        it (``wal_checkpoint(TRUNCATE)``), so the old page images in the ``-wal`` file are gone
        too. [`erase_customer`][crmcore.services.customers.erase_customer] calls it after an
        erasure. Raises [`StorageError`][crmcore.kernel.errors.StorageError] when another
        connection's open read keeps the log from being emptied (call it again when it ends).
        """
        if self._connections.closed:
            raise StorageError(f"the SQLite store {self._path!r} is closed")
        if self._connections.shared:  # ":memory:" has no files
            return
        with translated(f"scrub of {self._path!r}"), self._connections.use() as connection:
            busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise StorageError(
                f"SQLite scrub of {self._path!r} could not empty the write-ahead log: another "
                "connection is reading; call scrub() again when it has finished"
            )

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
