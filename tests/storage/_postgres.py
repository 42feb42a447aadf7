"""The PostgreSQL server the tests run against: found through ``CRMCORE_POSTGRES_DSN``.

When ``CI=true`` a missing server is a failure (``.ci/parts/10-postgres.sh`` starts one); locally
the PostgreSQL tests skip and say how to enable them. Every store a test opens lives in its own
throwaway schema, dropped when the store closes.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

from crmcore.storage.postgres import PostgresStore

DSN_ENV = "CRMCORE_POSTGRES_DSN"
HOW = (
    f"set {DSN_ENV}=postgresql://USER@127.0.0.1:PORT/DATABASE (a role that may create schemas), "
    "or start a throwaway PostgreSQL 15 in this shell with "
    "`TEARDOWN=(); source .ci/parts/10-postgres.sh` (it prints how to stop it)"
)


def postgres_dsn() -> str:
    """The test server's DSN; skips (locally) or fails (CI=true) without one."""
    dsn = os.environ.get(DSN_ENV, "").strip()
    if not dsn:
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"CI=true but {DSN_ENV} is not set: the PostgreSQL tests must run in CI "
                "(.ci/parts/10-postgres.sh starts the server and exports it)",
                pytrace=False,
            )
        pytest.skip(f"no PostgreSQL server: {HOW}")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but psycopg is not installed: pip install 'crmcore[postgres]'")
        pytest.skip("psycopg is not installed: pip install 'crmcore[postgres]'")
    return dsn


def schema_name(tag: str = "t") -> str:
    """A fresh schema name for one test."""
    return f"crm_{tag}_{uuid.uuid4().hex[:12]}"


def drop_schema(dsn: str, schema: str) -> None:
    """Drop ``schema`` and everything in it (test clean-up)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as connection:
        name = '"' + schema.replace('"', '""') + '"'
        connection.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE".replace("%", "%%"), ())


class ThrowawayStore(PostgresStore):
    """A store in a new schema that is dropped when the store closes."""

    def __init__(self, dsn: str, schema: str | None = None, **options: Any) -> None:
        self._dsn = dsn
        super().__init__(dsn, schema=schema or schema_name(), **options)

    def close(self) -> None:
        first = not self._db.closed
        super().close()
        if first:
            drop_schema(self._dsn, self.schema)
