"""The PostgreSQL adapter's connections: a psycopg pool, transactions, the schema's names.

A [`Database`][crmcore.storage.postgres.connections.Database] wraps a `psycopg_pool.ConnectionPool`:
its own, opened from a connection string (autocommit connections, closed with the store), or one
the host application passes in (borrowed, never closed, each connection handed back as it was
found). Every statement runs either alone in autocommit (single-statement reads, one round trip) or
inside an explicit transaction
([`Database.transaction()`][crmcore.storage.postgres.connections.Database.transaction]); the adapter
never leaves a transaction open on a connection it returns.

All of crmcore's tables live in one schema;
[`Database.table()`][crmcore.storage.postgres.connections.Database.table] gives a table's
qualified, quoted name. psycopg reads every ``%`` in a query as a placeholder, so
[`quote()`][crmcore.storage.postgres.connections.quote] doubles it inside identifiers and every
statement is executed with a parameter sequence (possibly empty), which is what makes psycopg turn
``%%`` back into ``%``.

psycopg and psycopg-pool are the optional extra ``postgres``; they are imported on first use
([`load_psycopg()`][crmcore.storage.postgres.connections.load_psycopg]), and a missing one raises
[`MissingDependencyError`][crmcore.kernel.errors.MissingDependencyError].
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

from crmcore.kernel.errors import MissingDependencyError, StorageError, ValidationError
from crmcore.storage.postgres.errors import translated

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

__all__ = [
    "MAX_IDENTIFIER",
    "Database",
    "check_schema_name",
    "identifier_text",
    "load_pool",
    "load_psycopg",
    "quote",
]

MAX_IDENTIFIER: Final = 63
"""The longest identifier PostgreSQL keeps (in bytes); longer ones would be truncated silently."""

_FEATURE: Final = "crmcore.storage.postgres"
_IDLE: Final = 0  # psycopg.pq.TransactionStatus.IDLE: no transaction open


def load_psycopg() -> ModuleType:
    """The ``psycopg`` module (imported on first use; `MissingDependencyError` when absent)."""
    try:
        import psycopg
    except ImportError as exc:
        raise MissingDependencyError("psycopg", "postgres", _FEATURE) from exc
    return psycopg


def load_pool() -> ModuleType:
    """The ``psycopg_pool`` module (imported on first use; `MissingDependencyError` when
    absent)."""
    load_psycopg()
    try:
        import psycopg_pool
    except ImportError as exc:
        raise MissingDependencyError("psycopg_pool", "postgres", _FEATURE) from exc
    return psycopg_pool


def quote(name: str) -> str:
    """``name`` as a quoted identifier for a psycopg query: ``"`` and ``%`` doubled.

    Examples:
        >>> quote('my "crm" 100%')
        '"my ""crm"" 100%%"'
    """
    return '"' + name.replace('"', '""').replace("%", "%%") + '"'


def identifier_text(name: str) -> str:
    """``name`` as a quoted identifier for a parameter value (``"`` doubled, ``%`` kept), e.g. for
    ``to_regclass(%s)`` or ``set_config('search_path', %s, true)``.

    Examples:
        >>> print(identifier_text('a"b%'))
        "a""b%"
    """
    return '"' + name.replace('"', '""') + '"'


def check_schema_name(schema: object) -> str:
    """A valid schema name: a non-empty string of at most 63 bytes without NUL, not ``pg_*``.

    Examples:
        >>> check_schema_name("crm_tenant_7")
        'crm_tenant_7'
    """
    if (
        not isinstance(schema, str)
        or not schema
        or "\x00" in schema
        or len(schema.encode("utf-8")) > MAX_IDENTIFIER
    ):
        raise ValidationError(
            "schema", schema, f"must be a name of 1 to {MAX_IDENTIFIER} bytes without NUL"
        )
    if schema.lower().startswith("pg_") or schema == "information_schema":
        raise ValidationError("schema", schema, "is reserved by PostgreSQL")
    return schema


class Database:
    """Connections to one PostgreSQL database and the names of crmcore's schema in it.

    ``target`` is a connection string (``"postgresql://user@host:5432/db"`` or
    ``"host=... dbname=..."``), for which a pool of ``min_size`` to ``max_size`` autocommit
    connections is opened and owned, or a host's open `psycopg_pool.ConnectionPool`, which is
    borrowed. ``timeout`` bounds the wait for a free connection (and, for an owned pool, for the
    first connection at open).
    """

    def __init__(
        self,
        target: str | ConnectionPool[Any],
        schema: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 30.0,
    ) -> None:
        pool_module = load_pool()
        self.schema = check_schema_name(schema)
        self.prefix = quote(self.schema) + "."
        self.timeout = timeout
        self._lock = threading.Lock()
        self._closed = False
        if isinstance(target, pool_module.ConnectionPool):
            self.pool: ConnectionPool[Any] = target
            self.owned = False
        elif isinstance(target, str) and target.strip():
            with translated("connect"):
                # One direct connection first: a wrong password or database fails at once with
                # the server's reason, instead of as a pool timeout after ``timeout`` seconds.
                load_psycopg().connect(
                    target, autocommit=True, connect_timeout=max(1, round(timeout))
                ).close()
                pool = pool_module.ConnectionPool(
                    target,
                    min_size=min_size,
                    max_size=max_size,
                    kwargs={"autocommit": True},
                    timeout=timeout,
                    open=False,
                    name=f"crmcore-{self.schema}",
                )
                pool.open(wait=True, timeout=timeout)
            self.pool = pool
            self.owned = True
        else:
            raise ValidationError(
                "target",
                target,
                "must be a PostgreSQL connection string or a psycopg ConnectionPool",
            )

    def table(self, name: str) -> str:
        """The qualified, quoted name of crmcore's table ``name`` (ready for a psycopg query)."""
        return self.prefix + quote(name)

    @property
    def closed(self) -> bool:
        """True once [`close()`][crmcore.storage.postgres.connections.Database.close] ran."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"the PostgreSQL store of schema {self.schema!r} is closed")

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection in autocommit mode, no transaction open (restored when returned).

        Only failing to get a connection is translated here (into
        [`StorageError`][crmcore.kernel.errors.StorageError]); errors of the block propagate as
        they are, for the caller to translate.
        """
        self._check_open()
        with translated("connect"):
            connection = self.pool.getconn(timeout=self.timeout)
        before = connection.autocommit
        try:
            if not before:
                if connection.info.transaction_status != _IDLE:
                    connection.rollback()
                connection.autocommit = True
            yield connection
        finally:
            try:
                if not before and not connection.closed:
                    connection.autocommit = False
            finally:
                self.pool.putconn(connection)

    def read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The rows of one statement, run in autocommit."""
        with translated("read"), self.connection() as connection:
            return connection.execute(sql, params).fetchall()

    @contextmanager
    def transaction(
        self, *, read_only: bool = False, snapshot: bool = False
    ) -> Iterator[psycopg.Connection[Any]]:
        """A connection inside ``BEGIN`` … ``COMMIT`` (``ROLLBACK`` when the block raises).

        ``snapshot`` reads in one ``REPEATABLE READ`` snapshot; ``read_only`` refuses writes.
        Errors propagate untranslated (wrap the block in
        [`translated()`][crmcore.storage.postgres.errors.translated]).
        """
        with self.connection() as connection, connection.transaction():
            if snapshot or read_only:
                mode = "REPEATABLE READ" if snapshot else "READ COMMITTED"
                access = " READ ONLY" if read_only else ""
                connection.execute(f"SET TRANSACTION ISOLATION LEVEL {mode}{access}", ())
            yield connection

    def close(self) -> None:
        """Close an owned pool (idempotent); a borrowed pool stays open for its owner."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self.owned:
            self.pool.close()
