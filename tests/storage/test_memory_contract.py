from pathlib import Path

from crmcore.storage.memory import MemoryStore
from crmcore.testing.contract import StoreContract


class TestMemoryStoreContract(StoreContract):
    def make_store(self, tmp_path: Path) -> MemoryStore:
        return MemoryStore()
