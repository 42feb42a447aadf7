"""The SQLite adapter's schema and its forward migrations.

``PRAGMA user_version`` holds the schema version of a database: the number
of migrations applied to it. [`migrate()`][crmcore.storage.sqlite.schema.migrate] applies the
missing ones in order, all in one transaction, when a
[`SqliteStore`][crmcore.storage.sqlite.SqliteStore] opens, and refuses a database written by a newer
crmcore ([`SchemaVersionError`][crmcore.kernel.errors.SchemaVersionError]).

A migration is frozen once released: it never changes, a later one alters
what it made. Each is idempotent in effect (``IF NOT EXISTS``), so a
half-applied version from a crash, impossible inside a transaction anyway,
would not break the next open.

The ``customers`` table has one column per scalar column of
[`CUSTOMER_SCHEMA`][crmcore.columnar.schema.CUSTOMER_SCHEMA], named as there, so that
segment SQL and :meth:`CustomerFrame.from_records
<crmcore.columnar.frame.CustomerFrame.from_records>` read plain columns.
Encodings: strings and categories ``TEXT``, ints ``INTEGER``, floats
``REAL``, bools ``INTEGER`` 0/1, datetimes ``INTEGER`` microseconds since
the Unix epoch (UTC), dates ``TEXT`` ``YYYY-MM-DD``. The four tag columns
live in ``customer_tags`` and custom attributes in ``customer_attributes``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Final

from crmcore.kernel.errors import SchemaVersionError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration", "migrate", "user_version"]

Migration = Callable[[sqlite3.Connection], None]
"""A forward migration: runs inside the migrating transaction on the connection."""


def _statements(*sql: str) -> Migration:
    """A migration running SQL statements in order.

    (``executescript`` is not used: it commits first, breaking the all-or-nothing open.)
    """

    def run(connection: sqlite3.Connection) -> None:
        for statement in sql:
            connection.execute(statement)

    return run


_V1: Final[Sequence[str]] = (
    """
    CREATE TABLE IF NOT EXISTS customers (
        id                  TEXT    NOT NULL PRIMARY KEY,
        version             INTEGER NOT NULL CHECK (version >= 1),
        body                TEXT    NOT NULL,
        name                TEXT    NOT NULL,
        email               TEXT,
        phone               TEXT,
        created_at          INTEGER NOT NULL,
        birth_date          TEXT,
        gender              TEXT,
        income_band         TEXT,
        education           TEXT,
        country             TEXT,
        region              TEXT,
        city                TEXT,
        postal_code         TEXT,
        purchase_count      INTEGER NOT NULL,
        items_purchased     INTEGER NOT NULL,
        total_spent         REAL    NOT NULL,
        currency            TEXT,
        first_purchase_at   INTEGER,
        last_purchase_at    INTEGER,
        interaction_count   INTEGER NOT NULL,
        last_interaction_at INTEGER,
        service_count       INTEGER NOT NULL,
        last_service_at     INTEGER,
        consent_email       INTEGER NOT NULL CHECK (consent_email IN (0, 1)),
        consent_sms         INTEGER NOT NULL CHECK (consent_sms IN (0, 1)),
        consent_phone       INTEGER NOT NULL CHECK (consent_phone IN (0, 1)),
        consent_post        INTEGER NOT NULL CHECK (consent_post IN (0, 1)),
        consent_push        INTEGER NOT NULL CHECK (consent_push IN (0, 1)),
        consent_messaging   INTEGER NOT NULL CHECK (consent_messaging IN (0, 1)),
        erased              INTEGER NOT NULL CHECK (erased IN (0, 1))
    )
    """,
    # NULLs are distinct in a UNIQUE index: any number of customers without e-mail.
    "CREATE UNIQUE INDEX IF NOT EXISTS customers_email ON customers (email)",
    """
    CREATE TABLE IF NOT EXISTS customer_tags (
        customer_id TEXT NOT NULL REFERENCES customers (id),
        field       TEXT NOT NULL,
        tag         TEXT NOT NULL,
        PRIMARY KEY (customer_id, field, tag)
    )
    """,
    "CREATE INDEX IF NOT EXISTS customer_tags_by_tag ON customer_tags (field, tag)",
    # type: the codec's tag (str, int, float, bool, decimal, date, datetime); value has
    # no declared type (no affinity), so it keeps the storage class it was written with.
    """
    CREATE TABLE IF NOT EXISTS customer_attributes (
        customer_id TEXT    NOT NULL REFERENCES customers (id),
        name        TEXT    NOT NULL,
        ordinal     INTEGER NOT NULL,
        type        TEXT    NOT NULL CHECK (
            type IN ('str', 'int', 'float', 'bool', 'decimal', 'date', 'datetime')
        ),
        value               NOT NULL,
        PRIMARY KEY (customer_id, name)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS aggregates (
        kind    TEXT    NOT NULL,
        id      TEXT    NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        body    TEXT    NOT NULL,
        PRIMARY KEY (kind, id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS aggregate_keys (
        kind  TEXT NOT NULL,
        key   TEXT NOT NULL,
        value TEXT NOT NULL,
        id    TEXT NOT NULL,
        PRIMARY KEY (kind, key, value)
    )
    """,
    "CREATE INDEX IF NOT EXISTS aggregate_keys_by_id ON aggregate_keys (kind, id)",
    """
    CREATE TABLE IF NOT EXISTS purchases (
        order_id    TEXT    NOT NULL PRIMARY KEY,
        customer_id TEXT    NOT NULL,
        at          INTEGER NOT NULL,
        amount      TEXT    NOT NULL,
        currency    TEXT    NOT NULL,
        items       INTEGER NOT NULL,
        channel     TEXT    NOT NULL,
        category    TEXT
    )
    """,
    "CREATE INDEX IF NOT EXISTS purchases_by_customer ON purchases (customer_id, at)",
    "CREATE INDEX IF NOT EXISTS purchases_by_time ON purchases (at, order_id)",
    """
    CREATE TABLE IF NOT EXISTS interactions (
        id          TEXT    NOT NULL PRIMARY KEY,
        customer_id TEXT    NOT NULL,
        at          INTEGER NOT NULL,
        channel     TEXT    NOT NULL,
        kind        TEXT    NOT NULL,
        stage       TEXT,
        note        TEXT
    )
    """,
    "CREATE INDEX IF NOT EXISTS interactions_by_customer ON interactions (customer_id, at)",
    "CREATE INDEX IF NOT EXISTS interactions_by_time ON interactions (at, id)",
    """
    CREATE TABLE IF NOT EXISTS service_records (
        id          TEXT    NOT NULL PRIMARY KEY,
        customer_id TEXT    NOT NULL,
        at          INTEGER NOT NULL,
        kind        TEXT    NOT NULL,
        channel     TEXT    NOT NULL,
        summary     TEXT    NOT NULL,
        resolved_at INTEGER
    )
    """,
    "CREATE INDEX IF NOT EXISTS service_records_by_customer ON service_records (customer_id, at)",
    """
    CREATE TABLE IF NOT EXISTS records (
        kind        TEXT    NOT NULL,
        id          TEXT    NOT NULL,
        customer_id TEXT    NOT NULL,
        at          INTEGER NOT NULL,
        body        TEXT    NOT NULL,
        PRIMARY KEY (kind, id)
    )
    """,
    "CREATE INDEX IF NOT EXISTS records_by_customer ON records (kind, customer_id, at)",
    # AUTOINCREMENT: positions are never reused, even after the newest row is deleted.
    """
    CREATE TABLE IF NOT EXISTS outbox (
        position     INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id   TEXT    NOT NULL UNIQUE,
        kind         TEXT    NOT NULL,
        aggregate_id TEXT    NOT NULL,
        occurred_at  TEXT    NOT NULL,
        payload      TEXT    NOT NULL,
        published_at TEXT
    )
    """,
    "CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (position) WHERE published_at IS NULL",
)

_V2: Final[Sequence[str]] = (
    # Lookup indexes of aggregates (AggregateKind.indexes): any number of ids per value. The
    # primary key serves equality and range lookups (kind, name, value ...); by id, rewrites.
    """
    CREATE TABLE IF NOT EXISTS aggregate_index (
        kind  TEXT NOT NULL,
        name  TEXT NOT NULL,
        value TEXT NOT NULL,
        id    TEXT NOT NULL,
        PRIMARY KEY (kind, name, value, id)
    )
    """,
    "CREATE INDEX IF NOT EXISTS aggregate_index_by_id ON aggregate_index (kind, id)",
    # Customers by phone number (CUSTOMERS' index "phone": a lead's duplicates among customers).
    "CREATE INDEX IF NOT EXISTS customers_phone ON customers (phone)",
)

MIGRATIONS: Final[tuple[Migration, ...]] = (_statements(*_V1), _statements(*_V2))
"""The forward migrations, in order; migration ``i`` brings a database to version ``i + 1``."""

SCHEMA_VERSION: Final = len(MIGRATIONS)
"""The schema version this code writes and reads."""


def user_version(connection: sqlite3.Connection) -> int:
    """The database's schema version (``PRAGMA user_version``)."""
    row = connection.execute("PRAGMA user_version").fetchone()
    version: int = row[0]
    return version


def migrate(connection: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the database up to ``len(migrations)`` in one transaction; return the version.

    ``connection`` must be in autocommit mode (``isolation_level=None``) with
    no transaction open. A database already up to date is not locked for
    writing. Raises [`SchemaVersionError`][crmcore.kernel.errors.SchemaVersionError] for a
    database newer than the code; ``sqlite3`` errors propagate to the caller.
    """
    supported = len(migrations)
    found = user_version(connection)
    if found == supported:
        return found
    if found > supported:
        raise SchemaVersionError(found, supported)
    connection.execute("BEGIN IMMEDIATE")
    try:
        found = user_version(connection)  # another process may have migrated meanwhile
        if found > supported:
            raise SchemaVersionError(found, supported)
        for migration in migrations[found:]:
            migration(connection)
        # PRAGMA takes no parameters; the value is an int we computed.
        connection.execute(f"PRAGMA user_version = {int(supported)}")
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return supported
