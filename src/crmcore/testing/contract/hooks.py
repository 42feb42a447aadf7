"""The adapter hooks every group of contract tests builds on: making and reopening a store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crmcore.ports import Store

__all__ = ["AdapterHooks"]


class AdapterHooks:
    """The base of every contract group: an adapter overrides
    [`make_store()`][crmcore.testing.contract.hooks.AdapterHooks.make_store]."""

    def make_store(self, tmp_path: Path) -> Store:
        """Return a new, empty store. Subclasses must override this."""
        raise TypeError(f"{type(self).__name__} must override make_store(tmp_path)")

    def reopen(self, store: Store, tmp_path: Path) -> Store | None:
        """Return a new store over the same data (durable adapters), or ``None`` to skip."""
        return None

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        """A fresh store, closed after the test."""
        made = self.make_store(tmp_path)
        try:
            yield made
        finally:
            made.close()
