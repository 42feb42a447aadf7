from pathlib import Path

from crmcore.ports import Store
from crmcore.storage.sqlite import SqliteStore
from crmcore.testing.contract import StoreContract


class TestSqliteStoreContract(StoreContract):
    def make_store(self, tmp_path: Path) -> SqliteStore:
        return SqliteStore(tmp_path / "contract.db")

    def reopen(self, store: Store, tmp_path: Path) -> SqliteStore:
        store.close()
        return SqliteStore(tmp_path / "contract.db")


class TestSqliteInMemoryContract(StoreContract):
    def make_store(self, tmp_path: Path) -> SqliteStore:
        return SqliteStore(":memory:")
