"""The PostgreSQL store: opening a schema, units of work over it, segments run inside it.

[`PostgresStore`][crmcore.storage.postgres.store.PostgresStore] opens (and, by default, creates or
migrates, see [`crmcore.storage.postgres.schema`][crmcore.storage.postgres.schema]) crmcore's
schema in a PostgreSQL database, hands out
[`BufferedUnitOfWork`][crmcore.storage.unit_of_work.BufferedUnitOfWork] instances over its
[`PostgresBackend`][crmcore.storage.postgres.backend.PostgresBackend] and its
[`PostgresOutbox`][crmcore.storage.postgres.outbox.PostgresOutbox], and runs segment rules as SQL
([`PostgresStore.segment_members()`][crmcore.storage.postgres.store.PostgresStore.segment_members])
against the schema of what it stores
([`PostgresStore.rule_schema()`][crmcore.storage.postgres.store.PostgresStore.rule_schema]).
"""

from __future__ import annotations

import math
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

import attrs

from crmcore.kernel.errors import SchemaVersionError, StorageError, ValidationError
from crmcore.kernel.validators import storable_text
from crmcore.segments.rules import Field, FieldType, Predicate, RuleSchema, walk
from crmcore.segments.sql import SqlTables, to_sql
from crmcore.storage.postgres.backend import PostgresBackend
from crmcore.storage.postgres.connections import Database, identifier_text, quote
from crmcore.storage.postgres.customer_columns import ATTRIBUTE_VALUE_COLUMN
from crmcore.storage.postgres.errors import translated
from crmcore.storage.postgres.outbox import PostgresOutbox
from crmcore.storage.postgres.schema import (
    SCHEMA_VERSION,
    apply_migrations,
    check_customer_columns,
    schema_version,
)
from crmcore.storage.unit_of_work import BufferedUnitOfWork

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

__all__ = ["PostgresStore"]

_ATTRIBUTE_RULE_TYPES: Final[dict[str, FieldType]] = {
    "str": "string",
    "int": "number",
    "float": "number",
    "decimal": "number",
    "bool": "bool",
    "date": "date",
    "datetime": "datetime",
}
"""The rule type of each stored custom attribute type."""

_PURCHASE_COLUMNS: Final = frozenset({"amount", "items"})
"""The numeric purchase columns the ``purchases`` table holds (what rules may aggregate)."""

#: The tables that can hold personal data (and so dead versions of it after an erasure).
_SCRUBBED_TABLES: Final = (
    "customers",
    "customer_tags",
    "customer_attributes",
    "aggregates",
    "aggregate_keys",
    "aggregate_index",
    "interactions",
    "service_records",
    "records",
    "outbox",
)
_SEGMENT_TABLES: Final = SqlTables(attributes=None, time_encoding="timestamp", date_encoding="date")
"""The layout segment SQL sees: ``customers`` with a typed ``attr.<name>`` column per attribute
(a derived table built by ``segment_members()``)."""


def _positive(name: str, value: object, *, integer: bool) -> None:
    kinds = int if integer else int | float
    if (
        isinstance(value, bool)
        or not isinstance(value, kinds)
        or not (value > 0 and math.isfinite(value))
    ):
        raise ValidationError(
            name, value, "must be a positive " + ("integer" if integer else "number")
        )


class PostgresStore:
    """A [`Store`][crmcore.ports.Store] in a schema of a PostgreSQL database.

    ``target`` is a connection string (``"postgresql://crm@db.internal:5432/app"``), for which
    the store opens and owns a pool of ``min_size`` to ``max_size`` connections, or the host
    application's `psycopg_pool.ConnectionPool`, which the store borrows connections from and
    never closes. ``schema`` (default ``"crmcore"``) is the PostgreSQL schema holding crmcore's
    tables, beside the application's own. With ``migrate=True`` (the default) the schema is created
    or migrated to [`SCHEMA_VERSION`][crmcore.storage.postgres.schema.SCHEMA_VERSION] on open
    (safe from several processes at once); with ``migrate=False`` it must already be there (run
    [`crmcore.storage.postgres.migrate()`][crmcore.storage.postgres.schema.migrate] in the
    deployment) and only its version is checked. ``timeout`` (seconds) bounds the wait for a free
    connection.

    Raises [`SchemaVersionError`][crmcore.kernel.errors.SchemaVersionError] for a schema from a
    newer crmcore, [`StorageError`][crmcore.kernel.errors.StorageError] when the server cannot be
    reached or the schema is missing or behind (``migrate=False``), and
    [`MissingDependencyError`][crmcore.kernel.errors.MissingDependencyError] without the
    ``postgres`` extra. Use it as a context manager, or call
    [`close()`][crmcore.storage.postgres.store.PostgresStore.close]. Open one store per process
    (a store is thread-safe; do not share one across ``fork()``).
    """

    def __init__(
        self,
        target: str | ConnectionPool[Any],
        *,
        schema: str = "crmcore",
        migrate: bool = True,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 30.0,
    ) -> None:
        _positive("min_size", min_size, integer=True)
        _positive("max_size", max_size, integer=True)
        _positive("timeout", timeout, integer=False)
        if max_size < min_size:
            raise ValidationError("max_size", max_size, f"must be at least min_size ({min_size})")
        if not isinstance(migrate, bool):
            raise ValidationError("migrate", migrate, "must be True or False")
        for field, value in (("target", target), ("schema", schema)):
            if isinstance(value, str):
                storable_text(value, field)  # both are sent to the server as UTF-8
        self._db = Database(
            target, schema, min_size=min_size, max_size=max_size, timeout=float(timeout)
        )
        try:
            if migrate:
                self._version = apply_migrations(self._db)
            else:
                self._version = schema_version(self._db)
                if self._version > SCHEMA_VERSION:
                    raise SchemaVersionError(self._version, SCHEMA_VERSION)
                if self._version < SCHEMA_VERSION:
                    raise StorageError(
                        f"PostgreSQL schema {schema!r} is at version {self._version}, this crmcore"
                        f" needs {SCHEMA_VERSION}: run crmcore.storage.postgres.migrate() first"
                        " (or open the store with migrate=True)"
                    )
            check_customer_columns(self._db)
        except BaseException:
            self._db.close()
            raise
        self._backend = PostgresBackend(self._db)
        self._outbox = PostgresOutbox(self._db)

    @property
    def schema(self) -> str:
        """The PostgreSQL schema holding crmcore's tables."""
        return self._db.schema

    @property
    def schema_version(self) -> int:
        """The schema version found (or reached by migrating) when the store opened."""
        return self._version

    def unit_of_work(self) -> BufferedUnitOfWork:
        """A new unit of work over this store."""
        if self._db.closed:
            raise StorageError(f"the PostgreSQL store of schema {self.schema!r} is closed")
        return BufferedUnitOfWork(self._backend)

    @property
    def outbox(self) -> PostgresOutbox:
        """The transactional outbox (relays claim batches with ``FOR UPDATE SKIP LOCKED``)."""
        return self._outbox

    def rule_schema(self) -> RuleSchema:
        """What segment rules may refer to here: the standard customer fields and computed fields,
        and the custom attributes stored in this schema (``attr.<name>`` with their stored types).

        Event kinds are not restricted: a segment may name a kind no interaction has had yet.
        Aggregates may use the purchase columns the ``purchases`` table holds.
        """
        types: dict[str, FieldType] = {}
        rows = self._backend.read(
            f"SELECT DISTINCT name, type FROM {self._db.table('customer_attributes')}"
            " ORDER BY name, type"
        )
        for name, tag in rows:
            types[f"attr.{name}"] = _ATTRIBUTE_RULE_TYPES.get(tag, "string")
        schema = RuleSchema.default().with_attributes(types)
        columns = {k: v for k, v in schema.purchase_columns.items() if k in _PURCHASE_COLUMNS}
        return attrs.evolve(schema, purchase_columns=columns)

    def segment_members(
        self, rule: Predicate, as_of: datetime, *, schema: RuleSchema | None = None
    ) -> list[str]:
        """The ids of the customers matching segment ``rule`` at ``as_of``, in id order.

        The rule is compiled by [`to_sql()`][crmcore.segments.sql.to_sql] for ``postgresql``
        (every literal a parameter) and runs inside the database: no customer is loaded into
        Python. It means exactly what [`matches()`][crmcore.segments.evaluate.matches] means on the
        stored customers, purchases and interactions. Custom attributes the rule names become
        typed columns ``attr.<name>`` of a derived customers table. ``schema`` defaults to
        [`rule_schema()`][crmcore.storage.postgres.store.PostgresStore.rule_schema]. Raises
        [`RuleTypeError`][crmcore.kernel.errors.RuleTypeError] for a rule that does not fit it.
        """
        rules = self.rule_schema() if schema is None else schema
        condition, params = to_sql(
            rule, "postgresql", as_of=as_of, schema=rules, tables=_SEGMENT_TABLES, what="where"
        )
        named = sorted(
            {n.name for n in walk(rule) if isinstance(n, Field) and n.name.startswith("attr.")}
        )
        columns = []
        values: list[object] = []
        table = self._db.table("customer_attributes")
        for name in named:
            column = ATTRIBUTE_VALUE_COLUMN[rules.fields[name]]
            columns.append(
                f", (SELECT a.{column} FROM {table} AS a WHERE a.customer_id = cu.id"
                f" AND a.name = %s) AS {quote(name)}"
            )
            values.append(name[len("attr.") :])
        customers = f"(SELECT cu.*{''.join(columns)} FROM {self._db.table('customers')} AS cu)"
        sql = f'SELECT c."id" FROM {customers} AS c WHERE {condition} ORDER BY c."id"'
        with (
            translated("segment query"),
            self._db.connection() as connection,
            connection.pipeline(),  # one round trip for the settings and the query
            connection.transaction(),
        ):
            connection.execute("SET TRANSACTION READ ONLY", ())
            # The rule's subqueries name tables unqualified (customer_tags, purchases, ...).
            connection.execute(
                "SELECT set_config('search_path', %s, true)", (identifier_text(self.schema),)
            )
            rows = connection.execute(sql, (*values, *params)).fetchall()
        return [str(row[0]) for row in rows]

    def scrub(self) -> None:
        """Remove the dead row versions of crmcore's tables (``VACUUM``), so erased values no
        longer sit in the table files as old versions of updated or deleted rows.

        PostgreSQL also keeps changed pages in its write-ahead log until the server recycles the
        segments (and in any WAL archive or backup the operator keeps): those are outside what a
        client can remove, and the operator's retention policy decides how long they live.
        [`erase_customer`][crmcore.services.customers.erase_customer] calls this after an erasure.
        """
        with translated("scrub"), self._db.connection() as connection:
            for table in _SCRUBBED_TABLES:
                connection.execute(f"VACUUM {self._db.table(table)}", ())

    def close(self) -> None:
        """Close the store's own connection pool (idempotent; a borrowed pool stays open)."""
        self._db.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresStore(schema={self.schema!r})"
