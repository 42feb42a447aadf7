"""The PostgreSQL adapter's schema and its forward migrations.

All of crmcore's tables live in one PostgreSQL schema (``crmcore`` by default), beside the host
application's own tables. The table ``schema_migrations`` in it records each migration applied
(version, description, time). [`migrate()`][crmcore.storage.postgres.schema.migrate] applies the
missing ones in order, all in one transaction, under a transaction-scoped advisory lock keyed by
the schema name, so several processes opening the store at once migrate it exactly once; it is
idempotent and refuses a schema written by a newer crmcore
([`SchemaVersionError`][crmcore.kernel.errors.SchemaVersionError]). A
[`PostgresStore`][crmcore.storage.postgres.PostgresStore] runs it on open by default; a deployment
that migrates explicitly opens stores with ``migrate=False``, which only checks the version.

A migration is frozen once released: it never changes, a later one alters what it made.

Types: documents (aggregates, generic records, outbox payloads) are ``jsonb``; the scalar columns of
[`CUSTOMER_SCHEMA`][crmcore.columnar.schema.CUSTOMER_SCHEMA] are real columns of ``customers`` named
as there (strings and categories ``text``, ints ``bigint``, floats ``double precision``, bools
``boolean``, datetimes ``timestamptz``, dates ``date``), so segment SQL reads plain columns; amounts
are ``numeric`` (exact). Every query the repositories, the outbox and segments make has an index:
lookups by id and unique key (primary keys), a customer's records in time order
(``(customer_id, at, id)``), logs in time order (``(at, id)``), events of a kind in a window
(``(customer_id, kind, at)``), tag tests (``(field, tag)``), the unpublished outbox (a partial
index on ``position``), and the lookups of aggregate indexes (``aggregate_index``: by
``(kind, name, value)``, equal or in a range) and of customers by phone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from crmcore.columnar.schema import CUSTOMER_SCHEMA
from crmcore.kernel.errors import SchemaVersionError, StorageError
from crmcore.storage.postgres.connections import Database, identifier_text, quote
from crmcore.storage.postgres.errors import translated

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "apply_migrations",
    "check_customer_columns",
    "lock_key",
    "migrate",
    "schema_version",
]

_V1: Final[tuple[str, ...]] = (
    """
    CREATE TABLE {s}.customers (
        id                  text             NOT NULL PRIMARY KEY,
        version             integer          NOT NULL CHECK (version >= 1),
        body                jsonb            NOT NULL,
        name                text             NOT NULL,
        email               text,
        phone               text,
        created_at          timestamptz      NOT NULL,
        birth_date          date,
        gender              text,
        income_band         text,
        education           text,
        country             text,
        region              text,
        city                text,
        postal_code         text,
        purchase_count      bigint           NOT NULL,
        items_purchased     bigint           NOT NULL,
        total_spent         double precision NOT NULL,
        currency            text,
        first_purchase_at   timestamptz,
        last_purchase_at    timestamptz,
        interaction_count   bigint           NOT NULL,
        last_interaction_at timestamptz,
        service_count       bigint           NOT NULL,
        last_service_at     timestamptz,
        consent_email       boolean          NOT NULL,
        consent_sms         boolean          NOT NULL,
        consent_phone       boolean          NOT NULL,
        consent_post        boolean          NOT NULL,
        consent_push        boolean          NOT NULL,
        consent_messaging   boolean          NOT NULL,
        erased              boolean          NOT NULL
    )
    """,
    # NULLs are distinct in a unique index: any number of customers without e-mail.
    "CREATE UNIQUE INDEX customers_email ON {s}.customers (email)",
    """
    CREATE TABLE {s}.customer_tags (
        customer_id text NOT NULL REFERENCES {s}.customers (id) ON DELETE CASCADE,
        field       text NOT NULL,
        tag         text NOT NULL,
        PRIMARY KEY (customer_id, field, tag)
    )
    """,
    "CREATE INDEX customer_tags_by_tag ON {s}.customer_tags (field, tag)",
    # type: the codec's tag; value: its exact text; the typed columns serve segment SQL.
    """
    CREATE TABLE {s}.customer_attributes (
        customer_id  text    NOT NULL REFERENCES {s}.customers (id) ON DELETE CASCADE,
        name         text    NOT NULL,
        ordinal      integer NOT NULL,
        type         text    NOT NULL CHECK (
            type IN ('str', 'int', 'float', 'bool', 'decimal', 'date', 'datetime')
        ),
        value        text    NOT NULL,
        text_value   text,
        number_value double precision,
        bool_value   boolean,
        date_value   date,
        time_value   timestamptz,
        PRIMARY KEY (customer_id, name)
    )
    """,
    "CREATE INDEX customer_attributes_by_name ON {s}.customer_attributes (name, type)",
    """
    CREATE TABLE {s}.aggregates (
        kind    text    NOT NULL,
        id      text    NOT NULL,
        version integer NOT NULL CHECK (version >= 1),
        body    jsonb   NOT NULL,
        PRIMARY KEY (kind, id)
    )
    """,
    """
    CREATE TABLE {s}.aggregate_keys (
        kind  text NOT NULL,
        key   text NOT NULL,
        value text NOT NULL,
        id    text NOT NULL,
        PRIMARY KEY (kind, key, value)
    )
    """,
    "CREATE INDEX aggregate_keys_by_id ON {s}.aggregate_keys (kind, id)",
    """
    CREATE TABLE {s}.purchases (
        order_id    text        NOT NULL PRIMARY KEY,
        customer_id text        NOT NULL,
        at          timestamptz NOT NULL,
        amount      numeric     NOT NULL,
        currency    text        NOT NULL,
        items       bigint      NOT NULL,
        channel     text        NOT NULL,
        category    text
    )
    """,
    "CREATE INDEX purchases_by_customer ON {s}.purchases (customer_id, at, order_id)",
    "CREATE INDEX purchases_by_time ON {s}.purchases (at, order_id)",
    """
    CREATE TABLE {s}.interactions (
        id          text        NOT NULL PRIMARY KEY,
        customer_id text        NOT NULL,
        at          timestamptz NOT NULL,
        channel     text        NOT NULL,
        kind        text        NOT NULL,
        stage       text,
        note        text
    )
    """,
    "CREATE INDEX interactions_by_customer ON {s}.interactions (customer_id, at, id)",
    "CREATE INDEX interactions_by_time ON {s}.interactions (at, id)",
    "CREATE INDEX interactions_by_kind ON {s}.interactions (customer_id, kind, at)",
    """
    CREATE TABLE {s}.service_records (
        id          text        NOT NULL PRIMARY KEY,
        customer_id text        NOT NULL,
        at          timestamptz NOT NULL,
        kind        text        NOT NULL,
        channel     text        NOT NULL,
        summary     text        NOT NULL,
        resolved_at timestamptz
    )
    """,
    "CREATE INDEX service_records_by_customer ON {s}.service_records (customer_id, at, id)",
    """
    CREATE TABLE {s}.records (
        kind        text        NOT NULL,
        id          text        NOT NULL,
        customer_id text        NOT NULL,
        at          timestamptz NOT NULL,
        body        jsonb       NOT NULL,
        PRIMARY KEY (kind, id)
    )
    """,
    "CREATE INDEX records_by_customer ON {s}.records (kind, customer_id, at, id)",
    # Positions are taken under an advisory lock held to commit (see the outbox module), so
    # they increase with commit order; an identity column never reuses a value.
    """
    CREATE TABLE {s}.outbox (
        position     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id   text        NOT NULL UNIQUE,
        kind         text        NOT NULL,
        aggregate_id text        NOT NULL,
        occurred_at  timestamptz NOT NULL,
        payload      jsonb       NOT NULL,
        published_at timestamptz
    )
    """,
    "CREATE INDEX outbox_unpublished ON {s}.outbox (position) WHERE published_at IS NULL",
)

_V2: Final[tuple[str, ...]] = (
    # Lookup indexes of aggregates (AggregateKind.indexes): any number of ids per value. Values
    # compare byte-wise (COLLATE "C") whatever the database's collation, so a range of values is
    # a range of sortable_time() text; the primary key serves equality and range lookups.
    """
    CREATE TABLE {s}.aggregate_index (
        kind  text NOT NULL,
        name  text NOT NULL,
        value text COLLATE "C" NOT NULL,
        id    text NOT NULL,
        PRIMARY KEY (kind, name, value, id)
    )
    """,
    "CREATE INDEX aggregate_index_by_id ON {s}.aggregate_index (kind, id)",
    # Customers by phone number (CUSTOMERS' index "phone": a lead's duplicates among customers).
    "CREATE INDEX customers_phone ON {s}.customers (phone)",
)

MIGRATIONS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("customers, records, aggregates, outbox", _V1),
    ("aggregate lookup indexes, customers by phone", _V2),
)
"""The forward migrations, in order, as (description, statements); ``{s}`` is the quoted schema.
Migration ``i`` brings a schema to version ``i + 1``."""

SCHEMA_VERSION: Final = len(MIGRATIONS)
"""The schema version this code writes and reads."""

_LOCK_SPACE: Final = "crmcore.storage.postgres.migrate"


def lock_key(purpose: str, schema: str) -> int:
    """A stable 64-bit advisory-lock key for ``purpose`` in ``schema`` (the same in every
    process)."""
    digest = hashlib.blake2b(f"{purpose}\x00{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _installed(connection: psycopg.Connection[Any], db: Database) -> int | None:
    """The schema's version, or ``None`` when crmcore's migrations table is not there."""
    row = connection.execute(
        "SELECT to_regclass(%s) IS NOT NULL", (f"{identifier_text(db.schema)}.schema_migrations",)
    ).fetchone()
    if row is None or not row[0]:
        return None
    found = connection.execute(
        f"SELECT COALESCE(MAX(version), 0) FROM {db.table('schema_migrations')}", ()
    ).fetchone()
    return int(found[0]) if found is not None else 0


def schema_version(db: Database) -> int:
    """The version of crmcore's schema in the database (0 when it was never migrated)."""
    with translated("read of the schema version"), db.connection() as connection:
        return _installed(connection, db) or 0


def migrate(target: str | ConnectionPool[Any], *, schema: str = "crmcore") -> int:
    """Create or migrate crmcore's ``schema`` to
    [`SCHEMA_VERSION`][crmcore.storage.postgres.schema.SCHEMA_VERSION] (a deployment step); return
    the version.

    ``target`` is a connection string or a psycopg ``ConnectionPool``, as for
    [`PostgresStore`][crmcore.storage.postgres.PostgresStore]. Idempotent; safe while stores are
    open and from several processes at once. See
    [`apply_migrations()`][crmcore.storage.postgres.schema.apply_migrations].
    """
    db = Database(target, schema, min_size=1, max_size=1)
    try:
        return apply_migrations(db)
    finally:
        db.close()


def apply_migrations(
    db: Database, migrations: Sequence[tuple[str, Sequence[str]]] = MIGRATIONS
) -> int:
    """Bring crmcore's schema up to ``len(migrations)`` in one transaction; return the version.

    Creates the schema when missing. Idempotent, and safe to run from several processes at once
    (they serialise on an advisory lock). Raises
    [`SchemaVersionError`][crmcore.kernel.errors.SchemaVersionError] for a schema newer than the
    code and [`StorageError`][crmcore.kernel.errors.StorageError] when the database refuses (for
    example a role without ``CREATE`` on the database).
    """
    supported = len(migrations)
    with translated(f"migration of schema {db.schema!r}"), db.transaction() as connection:
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(_LOCK_SPACE, db.schema),))
        found = _installed(connection, db)
        if found is not None and found == supported:
            return found
        if found is not None and found > supported:
            raise SchemaVersionError(found, supported)
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(db.schema)}", ())
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {db.table('schema_migrations')} ("
            " version integer PRIMARY KEY, description text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())",
            (),
        )
        for version in range((found or 0) + 1, supported + 1):
            description, statements = migrations[version - 1]
            for statement in statements:
                connection.execute(statement.format(s=quote(db.schema)), ())
            connection.execute(
                f"INSERT INTO {db.table('schema_migrations')} (version, description)"
                " VALUES (%s, %s)",
                (version, description),
            )
    return supported


def check_customer_columns(db: Database) -> None:
    """Fail clearly when [`CUSTOMER_SCHEMA`][crmcore.columnar.schema.CUSTOMER_SCHEMA] has a column
    that no migration has added yet."""
    rows = db.read(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = 'customers'",
        (db.schema,),
    )
    present = {row[0] for row in rows}
    wanted = [c.name for c in CUSTOMER_SCHEMA.columns if c.kind != "tags"]
    missing = [name for name in wanted if name not in present]
    if missing:
        raise StorageError(
            f"PostgreSQL schema {db.schema!r}: the customers table lacks columns {missing}; "
            "CUSTOMER_SCHEMA changed without a migration in crmcore.storage.postgres.schema"
        )
