"""The bad-input sweep: every public callable, every parameter, every hostile value.

For each public callable (the functions and classes in ``crmcore.__all__`` and each package's
``__all__``, and the public methods of those classes), the sweep builds a *valid* call
(``tests/sweep_world.py``), checks that it succeeds, then calls it again once per parameter and
per value of ``HOSTILE`` (``tests/sweep_kit.py``) with only that argument changed: naive and
out-of-range datetimes, NaN and infinities, negative, huge, sub-cent and mixed-currency money,
empty, huge and control-character strings, and wrong types (None, lists, dicts, bytes, objects,
functions, floats for ints, arrays of the wrong shape or kind).

The contract: only [`CrmError`][crmcore.kernel.errors.CrmError] subclasses escape (a
``MissingDependencyError`` is one), no call hangs, and a refused call that touches a store
(``MemoryStore`` and ``SqliteStore``, each seeded) leaves the store's committed contents exactly
as they were.

A new public function is swept without any change here. If the sweep cannot build a valid call
for it, its test fails and says which parameter needs a value: add one to ``BASE`` in
``tests/sweep_world.py``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crmcore.storage.memory import MemoryStore
from crmcore.storage.sqlite import SqliteStore
from tests import sweep_kit as kit
from tests import sweep_world as world
from tests.sweep_escapes import EXPECTED, UNREACHED

pytestmark = pytest.mark.slow

TARGETS = [t for t in kit.public_targets() if kit.parameter_count(t) > 0]
SECONDS = 10.0  # a call on bad input that runs longer than this is reported as a hang


def _cases() -> list[Any]:
    """One case per target; the ones with known escapes in files the sweep's author does not
    own are strict xfails, so fixing them turns the test red until the mark is removed."""
    cases = []
    for target in TARGETS:
        marks = []
        if target.name in EXPECTED:
            marks.append(
                pytest.mark.xfail(strict=True, reason=f"fixed by lead: {EXPECTED[target.name]}")
            )
        cases.append(pytest.param(target, id=target.name, marks=marks))
    return cases


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A scratch working directory: some calls write files (CSV exports, SQLite stores)."""
    path = tmp_path_factory.mktemp("sweep")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(path)
        yield path


@pytest.fixture(scope="module")
def pool(workdir: Path) -> kit.Pool:
    """Valid values for every parameter (see ``kit.build_pool``)."""
    return kit.build_pool(world.BASE, world.NAMES, world.FRESH, world.world(), seconds=SECONDS)


def snapshot(store: object) -> object:
    """The committed contents of a store, comparable with ``==``."""
    if isinstance(store, SqliteStore):
        connection = sqlite3.connect(store.path)
        try:
            tables = [
                name
                for (name,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
            return {
                table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
                for table in tables
            }
        finally:
            connection.close()
    assert isinstance(store, MemoryStore)
    # A peek at the reference adapter's committed state (test-only): every stored object.
    # Its dictionaries are defaultdicts, so a read leaves an empty entry: those are skipped.
    data: Any = store._data
    return (
        {kind: dict(objects) for kind, objects in data.aggregates.items() if objects},
        {kind: dict(records) for kind, records in data.records.items() if records},
        list(data.outbox),
        set(data.published),
    )


def snapshots(pool: kit.Pool) -> object:
    return [snapshot(store) for store in pool.stores]


@pytest.mark.parametrize("target", _cases())
def test_bad_input_raises_only_crm_errors(target: kit.Target, pool: kit.Pool) -> None:
    shallow = target.name in UNREACHED
    kinds: list[type] = [SqliteStore, MemoryStore] if kit.takes_store(target) else [MemoryStore]
    found: list[str] = []
    calls = 0
    for store_type in kinds:
        pool.store_type = store_type
        pool.stores.clear()
        call = kit.prepare(target, pool)
        failure = call if isinstance(call, str) else None
        if failure is None:
            try:
                kit.limited(call, SECONDS)  # type: ignore[arg-type]
            except BaseException as error:
                failure = f"the valid call fails ({store_type.__name__}): {error!r}"
        if shallow:
            assert failure is not None, "a valid call can be built now: remove it from UNREACHED"
        else:
            assert failure is None, f"{failure}; add valid values to BASE in tests/sweep_world.py"
        pool.stores.clear()
        call = kit.prepare(target, pool, partial=shallow)  # fresh stores for the hostile calls
        if isinstance(call, str):
            pytest.skip(f"cannot be called at all ({call}): {UNREACHED[target.name]}")
        result = kit.sweep(
            target,
            call,
            snapshot=(lambda: snapshots(pool)) if pool.stores else None,
            seconds=SECONDS,
        )
        for store in pool.stores:
            if isinstance(store, SqliteStore):
                store.close()
        calls += result.calls
        assert result.calls == len(call.parameters) * len(kit.hostile_for(target)) > 0
        found += [str(e) for e in result.escapes]
        found += [f"{store_type.__name__} half-written by {h}" for h in result.half_written]
    print(f"{target}: {calls} calls, {len(found)} escapes")
    assert found == [], "\n".join(found[:40])


def test_the_sweep_covers_the_public_api() -> None:
    """Enough callables and calls that the sweep cannot pass by sweeping nothing."""
    assert kit.IMPORT_ERRORS == {}, "packages that do not import are not swept"
    planned = sum(kit.parameter_count(t) * len(kit.hostile_for(t)) for t in TARGETS)
    print(f"{len(TARGETS)} public callables, {planned} hostile calls planned")
    assert len(TARGETS) > 1000
    assert planned > 100_000
    assert not set(UNREACHED) - {t.name for t in TARGETS}, "stale entries in UNREACHED"
    assert not set(EXPECTED) - {t.name for t in TARGETS}, "stale entries in EXPECTED"
