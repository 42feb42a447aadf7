"""The SQLite adapter under faults: exceptions, SIGKILL mid-commit, racing processes and threads.

Subprocesses run small scripts (``CHILD`` below) with this interpreter and
synchronise with the test over their stdin/stdout pipes, never by sleeping.
The kill test uses the adapter's private hook
``CRMCORE_SQLITE_TEST_PAUSE_AFTER_ROWS`` to stop a commit at a known row.
"""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pytest

from crmcore.customers import Contact, Customer, Purchase
from crmcore.kernel.errors import ConcurrencyConflictError, StorageError
from crmcore.kernel.money import Money
from crmcore.storage.sqlite import SqliteStore
from crmcore.storage.sqlite.writes import PAUSE_ENV, Progress

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and pipes")

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
WAIT = 60.0  # seconds: generous for slow CI machines; only reached when something hangs

CHILD = """
import sys
from datetime import UTC, datetime, timedelta

from crmcore.customers import Customer, Interaction, Purchase
from crmcore.kernel.errors import ConcurrencyConflictError
from crmcore.kernel.money import Money
from crmcore.storage.sqlite import SqliteStore

mode, path = sys.argv[1], sys.argv[2]
t0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
store = SqliteStore(path, timeout=30)
if mode == "bulk":
    # One large unit of work: n customers, each with a purchase and an interaction.
    n = int(sys.argv[3])
    with store.unit_of_work() as uow:
        for i in range(n):
            cid = f"bulk-{i:06d}"
            at = t0 + timedelta(minutes=i)
            uow.customers.add(Customer(cid, f"Bulk {i}", t0, tags=["bulk"]))
            uow.purchases.add(Purchase(f"order-{i:06d}", cid, at, Money("9.99", "EUR")))
            uow.interactions.add(Interaction(f"visit-{i:06d}", cid, at, "web", "website_visit"))
        print("built", flush=True)
    print("committed", flush=True)
    sys.stdin.readline()  # wait here to be killed
elif mode == "race":
    # Load X, wait; save a change, wait; commit; report the outcome.
    name = sys.argv[3]
    try:
        with store.unit_of_work() as uow:
            customer = uow.customers.get("X")
            print("loaded", customer.version, flush=True)
            sys.stdin.readline()
            uow.customers.save(uow.take(customer.update_profile(t0, name=name)))
            print("saved", flush=True)
            sys.stdin.readline()
        print("ok", flush=True)
    except ConcurrencyConflictError as conflict:
        print("conflict", conflict.expected, conflict.actual, flush=True)
store.close()
"""


class Child:
    """A subprocess running ``CHILD``, read line by line on a thread (no sleeping, no hangs)."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.errors: list[str] = []
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self._readers = [
            threading.Thread(target=self._pump, args=(self.process.stdout, self.lines.put)),
            threading.Thread(target=self._pump, args=(self.process.stderr, self.errors.append)),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _pump(stream: IO[str], sink: Any) -> None:
        for line in stream:
            sink(line.rstrip("\n"))
        sink(None)

    def expect(self, prefix: str) -> str:
        """The next line of output, which must start with ``prefix``."""
        try:
            line = self.lines.get(timeout=WAIT)
        except queue.Empty:  # pragma: no cover - a hung child
            pytest.fail(f"no {prefix!r} from the child within {WAIT}s")
        assert line is not None, f"child ended before {prefix!r}: {self.stderr}"
        assert line.startswith(prefix), f"expected {prefix!r}, got {line!r}: {self.stderr}"
        return line

    def send(self, line: str = "") -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)

    @property
    def stderr(self) -> str:
        return "\n".join(e for e in self.errors if e is not None)

    def finish(self) -> int:
        """Wait for the child, close its pipes, return its exit status."""
        try:
            status = self.process.wait(timeout=WAIT)
        finally:
            if self.process.poll() is None:  # pragma: no cover - a hung child
                self.process.kill()
                self.process.wait()
            for reader in self._readers:
                reader.join(timeout=WAIT)
            for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
                if stream is not None:
                    with suppress(BrokenPipeError):
                        stream.close()
        return status


def dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (and the schema), in a stable order."""
    connection = sqlite3.connect(db)
    try:
        tables = [
            n for (n,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        result = {
            "schema": connection.execute(
                "SELECT type, name, sql FROM sqlite_master ORDER BY name"
            ).fetchall()
        }
        for table in tables:
            rows = connection.execute(f'SELECT * FROM "{table}"').fetchall()
            result[table] = sorted(rows, key=repr)
        return result
    finally:
        connection.close()


def integrity(db: Path) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(db)
    try:
        return connection.execute("PRAGMA integrity_check").fetchall()
    finally:
        connection.close()


def seed(db: Path) -> Customer:
    """A store with one committed customer, X, at version 1 (and its outbox message)."""
    with SqliteStore(db) as store, store.unit_of_work() as uow:
        outcome = Customer.register("X", "Xena", T0, contact=Contact(email="x@example.com"))
        return uow.customers.add(uow.take(outcome))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "crm.db"


# --------------------------------------------------------------------------- 1. exceptions


class BoomError(Exception):
    pass


class Crash(BaseException):
    """Not even an Exception (like KeyboardInterrupt or SystemExit)."""


@contextmanager
def big_unit_of_work(store: SqliteStore) -> Iterator[None]:
    """Write customers, records and events, then yield inside the unit of work."""
    with store.unit_of_work() as uow:
        for i in range(1200):  # more than two write batches
            cid = f"big-{i:05d}"
            uow.customers.add(uow.take(Customer.register(cid, f"Big {i}", T0, tags=["big"])))
            uow.purchases.add(Purchase(f"bo-{i:05d}", cid, T0, Money("1.00", "EUR")))
        x = uow.customers.get("X")
        uow.customers.save(uow.take(x.tag(["touched"], T0)))
        yield


def test_an_exception_in_the_unit_of_work_changes_nothing(db: Path) -> None:
    seed(db)
    before = dump(db)
    with SqliteStore(db) as store, pytest.raises(BoomError), big_unit_of_work(store):
        raise BoomError
    assert dump(db) == before


def test_a_failure_in_the_middle_of_the_commit_rolls_everything_back(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows already written inside the transaction are rolled back, for any exception."""
    seed(db)
    before = dump(db)
    written: list[int] = []
    real_advance = Progress.advance

    def advance(self: Any, rows: int) -> None:
        real_advance(self, rows)
        written.append(rows)
        if sum(written) > 1000:
            raise Crash

    monkeypatch.setattr(Progress, "advance", advance)
    with SqliteStore(db) as store:
        with pytest.raises(Crash), big_unit_of_work(store):
            pass
        monkeypatch.undo()
        assert dump(db) == before
        with big_unit_of_work(store):  # the same store still commits afterwards
            pass
    assert len(dump(db)["customers"]) == 1201


def test_a_database_error_in_the_middle_of_the_commit_rolls_everything_back(db: Path) -> None:
    seed(db)
    connection = sqlite3.connect(db)
    connection.execute(
        "CREATE TRIGGER outbox_full BEFORE INSERT ON outbox"
        " BEGIN SELECT RAISE(ABORT, 'outbox is full'); END"
    )
    connection.commit()
    connection.close()
    before = dump(db)
    with SqliteStore(db) as store:
        with pytest.raises(StorageError, match="outbox is full") as caught, big_unit_of_work(store):
            pass
        assert isinstance(caught.value.__cause__, sqlite3.IntegrityError)
    assert dump(db) == before


# --------------------------------------------------------------------------- 2. SIGKILL


BULK = 10_000  # customers (plus as many purchases and interactions) in one unit of work


def test_a_process_killed_in_the_middle_of_a_commit_leaves_none_of_it(db: Path) -> None:
    seed(db)
    before = dump(db)
    child = Child("bulk", str(db), str(BULK), env={PAUSE_ENV: str(BULK // 2)})
    try:
        child.expect("built")
        paused = child.expect(PAUSE_ENV)
        assert int(paused.split()[1]) >= BULK // 2
        # The child holds the write lock inside its transaction right now ...
        probe = sqlite3.connect(db, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                probe.execute("BEGIN IMMEDIATE")
            # ... and has already spilled uncommitted pages into the WAL.
            assert probe.execute("SELECT COUNT(*) FROM customers").fetchone() == (1,)
        finally:
            probe.close()
        assert Path(f"{db}-wal").stat().st_size > 1_000_000
        child.kill()
    finally:
        status = child.finish()
    assert status == -signal.SIGKILL
    assert integrity(db) == [("ok",)]
    assert dump(db) == before
    with SqliteStore(db) as store:
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 1
            assert uow.purchases.count() == 0
            uow.customers.add(Customer("after", "After", T0))
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 2
    assert integrity(db) == [("ok",)]


def test_a_process_killed_after_its_commit_returned_keeps_all_of_it(db: Path) -> None:
    seed(db)
    count = BULK // 4
    child = Child("bulk", str(db), str(count))
    try:
        child.expect("built")
        child.expect("committed")
        child.kill()
    finally:
        status = child.finish()
    assert status == -signal.SIGKILL
    assert integrity(db) == [("ok",)]
    with SqliteStore(db) as store, store.unit_of_work() as uow:
        assert uow.customers.count() == count + 1
        assert uow.purchases.count() == count
        assert uow.interactions.count() == count
        last = f"bulk-{count - 1:06d}"
        assert uow.customers.get(last).tags == frozenset({"bulk"})
        assert [p.order_id for p in uow.purchases.for_customer(last)] == [f"order-{count - 1:06d}"]


# --------------------------------------------------------------------------- 3. two processes


def test_two_processes_saving_one_customer_one_wins_one_conflicts(db: Path) -> None:
    seed(db)
    children = {name: Child("race", str(db), name) for name in ("Alice", "Bob")}
    try:
        for child in children.values():
            assert child.expect("loaded") == "loaded 1"
        for child in children.values():  # both have loaded: release both to save
            child.send()
        for child in children.values():
            child.expect("saved")  # neither sees the other yet: both saves pass the early check
        for child in children.values():  # release both commits at once
            child.send()
        outcomes = {name: child.expect("") for name, child in children.items()}
    finally:
        statuses = [child.finish() for child in children.values()]
    assert statuses == [0, 0], [c.stderr for c in children.values()]
    assert sorted(outcomes.values()) == ["conflict 1 2", "ok"]
    (winner,) = [name for name, outcome in outcomes.items() if outcome == "ok"]
    with SqliteStore(db) as store:
        with store.unit_of_work() as uow:
            stored = uow.customers.get("X")
        kinds = [m.kind for m in store.outbox.pending()]
    assert (stored.version, stored.name) == (2, winner)
    assert kinds == ["customer.registered", "customer.profile_updated"]


# --------------------------------------------------------------------------- 4. two threads


def test_two_threads_saving_one_customer_one_wins_one_conflicts(db: Path) -> None:
    seed(db)
    loaded, saved = threading.Barrier(2, timeout=WAIT), threading.Barrier(2, timeout=WAIT)
    outcomes: dict[str, str] = {}

    def edit(store: SqliteStore, name: str) -> None:
        try:
            with store.unit_of_work() as uow:
                customer = uow.customers.get("X")
                loaded.wait()
                uow.customers.save(uow.take(customer.update_profile(T0, name=name)))
                saved.wait()
            outcomes[name] = "ok"
        except ConcurrencyConflictError as conflict:
            outcomes[name] = f"conflict {conflict.expected} {conflict.actual}"
        except BaseException as exc:  # pragma: no cover - reported by the assertion
            outcomes[name] = repr(exc)

    with SqliteStore(db) as store:
        threads = [threading.Thread(target=edit, args=(store, n)) for n in ("Alice", "Bob")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=WAIT)
        assert sorted(outcomes.values()) == ["conflict 1 2", "ok"], outcomes
        (winner,) = [name for name, outcome in outcomes.items() if outcome == "ok"]
        with store.unit_of_work() as uow:
            stored = uow.customers.get("X")
        assert (stored.version, stored.name) == (2, winner)
        assert [m.kind for m in store.outbox.pending()] == [
            "customer.registered",
            "customer.profile_updated",
        ]
