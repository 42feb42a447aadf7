"""The bad-input sweep of the PostgreSQL store's methods, against a real server.

The general sweep (``tests/test_bad_input_sweep.py``) runs without a server, so it leaves out
the methods of [`PostgresStore`][crmcore.storage.postgres.store.PostgresStore] that need one
(``SKIPPED_NAMES`` in ``tests/sweep_kit.py``). Here they meet the same hostile values on a store
seeded like the sweep's own. With ``CI=true`` this runs, never skips.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crmcore.storage.postgres import PostgresStore
from tests import sweep_kit as kit
from tests import sweep_world as world
from tests.storage._postgres import ThrowawayStore, postgres_dsn

SECONDS = 10.0
METHODS = [name for name in kit.SKIPPED_NAMES if name.startswith("crmcore.storage.postgres.")]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PostgresStore]:
    dsn = postgres_dsn()
    monkeypatch.chdir(tmp_path)  # some sweep values are files written here
    opened = ThrowawayStore(dsn)
    try:
        world.seed(opened)
        yield opened
    finally:
        opened.close()


def test_the_skipped_methods_are_swept_here() -> None:
    assert METHODS, "no PostgreSQL method is left out of the general sweep: drop this file"
    for name in METHODS:
        assert callable(getattr(PostgresStore, name.rsplit(".", 1)[-1]))


@pytest.mark.parametrize("name", METHODS)
def test_bad_input_raises_only_crm_errors(name: str, store: PostgresStore) -> None:
    method = getattr(PostgresStore, name.rsplit(".", 1)[-1])
    target = kit.Target(name, method, PostgresStore)
    base = {**world.BASE, name: {**world.BASE.get(name, {}), "self": store}}
    pool = kit.build_pool(base, world.NAMES, world.FRESH, world.world(), seconds=SECONDS)
    call = kit.prepare(target, pool)
    assert not isinstance(call, str), call
    assert getattr(call.function, "__self__", None) is store
    kit.limited(call, SECONDS)  # the valid call succeeds
    result = kit.sweep(target, call, seconds=SECONDS)
    assert result.calls == len(call.parameters) * len(kit.hostile_for(target)) > 0
    assert result.escapes == [], "\n".join(map(str, result.escapes[:40]))
