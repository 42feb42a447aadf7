"""The whole storage contract kit against a real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

from crmcore.ports import Store
from crmcore.storage.postgres import PostgresStore
from crmcore.testing.contract import StoreContract
from tests.storage._postgres import ThrowawayStore, postgres_dsn


class TestPostgresStoreContract(StoreContract):
    def make_store(self, tmp_path: Path) -> PostgresStore:
        return ThrowawayStore(postgres_dsn(), max_size=4)

    def reopen(self, store: Store, tmp_path: Path) -> PostgresStore:
        assert isinstance(store, PostgresStore)
        return PostgresStore(postgres_dsn(), schema=store.schema, migrate=False, max_size=2)
