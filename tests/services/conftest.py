"""The stores the service tests run on: memory, a SQLite file and (with a server) PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crmcore.ports import Store
from crmcore.storage.memory import MemoryStore
from crmcore.storage.sqlite import SqliteStore
from tests.storage._postgres import ThrowawayStore, postgres_dsn


def make_store(kind: str, path: Path) -> Store:
    """A new, empty store of ``kind``."""
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return SqliteStore(path / "services.db")
    return ThrowawayStore(postgres_dsn(), max_size=4)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each test once per adapter (PostgreSQL only when a server is configured)."""
    store = make_store(request.param, tmp_path)
    try:
        yield store
    finally:
        store.close()
