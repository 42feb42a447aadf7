"""Many processes, one store: concurrent writers with retries, and writers killed mid-transaction.

Both durable adapters run the same two tests (the SQLite one against a database file):

* **Concurrency.** 8 processes earn and redeem on the same 10 loyalty accounts and tag the same
  10 customers through the services (which retry with backoff), each with its own clock, up to
  two minutes apart (the ledger's out-of-order tolerance places the late ones). Afterwards every
  balance equals the sum of the operations that succeeded, no redemption is applied twice, no
  balance is negative at any business time, and the outbox holds exactly one event per applied
  operation.
* **Crash.** A writer is killed with SIGKILL in the middle of a unit of work (customer, purchase,
  loyalty ledger and outbox), 20 times, each time at another row of the commit (the adapter's
  private pause hook stops it there); after each kill nothing of that unit of work is visible,
  and the outbox agrees with the state.

Limits. PostgreSQL: writers of one account serialise on its row lock for the few milliseconds of a
commit; how many a single account sustains with the default retry policy is measured in
``benchmarks/bench_postgres.py`` and stated in ``docs/postgres.md``. SQLite: one writer at a time
for the whole database (a commit takes its write lock); the others wait up to the store's
``timeout`` (30 s here), so throughput is that of one process, and all processes must share one
machine and a local file system (WAL needs shared memory).

One subprocess runs ``CHILD`` with this interpreter: it imports crmcore once and forks every
writer (each opens its own store), talking to the test over stdin/stdout; nothing sleeps.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest

from crmcore.customers import Customer
from crmcore.kernel.money import Money
from crmcore.loyalty import LoyaltyProgram
from crmcore.ports import Store
from crmcore.services import open_account, register_customer
from crmcore.storage.postgres import PostgresStore
from crmcore.storage.postgres.writes import PAUSE_ENV as PG_PAUSE
from crmcore.storage.sqlite import SqliteStore
from crmcore.storage.sqlite.writes import PAUSE_ENV as SQLITE_PAUSE
from tests.storage._postgres import ThrowawayStore, postgres_dsn

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and pipes")

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WAIT = 120.0  # seconds: only reached when something hangs
ACCOUNTS = 10
PROCESSES = 8
OPERATIONS = 30  # per process
PROGRAM = LoyaltyProgram(id="P", currency="EUR", point_value=Money("0.01", "EUR"))

CHILD = r"""
import json, os, random, sys, time
from datetime import UTC, datetime, timedelta

from crmcore.customers import Customer, Purchase
from crmcore.kernel.errors import ConcurrencyConflictError, InsufficientPointsError, StorageError
from crmcore.kernel.money import Money
from crmcore.loyalty import LoyaltyProgram
from crmcore.services import change_customer, earn_for_purchase, redeem_points
from crmcore.storage.postgres import PostgresStore
from crmcore.storage.sqlite import SqliteStore

# A zygote: crmcore is imported once, then every writer is a fork that opens its own store.
adapter, target, schema, pause_env = sys.argv[1:5]
if adapter == "postgres":
    import psycopg, psycopg_pool  # the adapter imports them on first use: once, here
program = LoyaltyProgram(id="P", currency="EUR", point_value=Money("0.01", "EUR"))
t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

def say(**fields):
    sys.stdout.flush()
    os.write(1, (json.dumps(fields) + "\n").encode())  # one write: lines of forks never mix

def open_store():
    if adapter == "postgres":
        return PostgresStore(target, schema=schema, migrate=False, max_size=2)
    return SqliteStore(target, timeout=30)

def work(worker, operations, accounts, go):
    store = open_store()
    rnd = random.Random(worker)
    skew = timedelta(seconds=(worker - 4) * 15)  # this process's clock: up to 1 minute off
    say(event="ready", worker=worker)
    os.read(go, 1)  # everyone starts together
    started = time.monotonic()
    for i in range(operations):
        now = t0 + timedelta(seconds=time.monotonic() - started) + skew
        k = rnd.randrange(accounts)
        kind = rnd.choice(["earn", "earn", "redeem", "redeem", "tag"])
        key = f"w{worker}-{i}"
        try:
            if kind == "earn":
                sale = Purchase(f"o-{key}", f"C{k}", now, Money(str(rnd.randint(1, 60)), "EUR"))
                result = earn_for_purchase(store, f"A{k}", program, sale, key=f"e-{key}")
                say(event="earn", account=f"A{k}", key=f"e-{key}",
                    points=result.account.entry(f"e-{key}").points)
            elif kind == "redeem":
                points = rnd.randint(1, 40)
                redeem_points(store, f"A{k}", program, points, at=now, key=f"r-{key}")
                say(event="redeem", account=f"A{k}", key=f"r-{key}", points=points)
            else:
                change_customer(store, f"C{k}", lambda c: c.tag([f"t-{key}"], now))
                say(event="tag", customer=f"C{k}", tag=f"t-{key}")
        except InsufficientPointsError:
            say(event="short", key=key)
        except (ConcurrencyConflictError, StorageError) as error:
            say(event="gave_up", key=key, error=repr(error))
    store.close()
    say(event="done", worker=worker)

def crash(n, rows):
    if rows:
        os.environ[pause_env] = str(rows)
    store = open_store()
    with store.unit_of_work() as uow:
        outcome = Customer.register(f"K{n}", f"Killed {n}", t0)
        uow.customers.add(uow.take(outcome))
        sale = Purchase(f"k-{n}", "C0", t0 + timedelta(minutes=n), Money("10", "EUR"))
        uow.purchases.add(sale)
        customer = uow.customers.get("C0")
        uow.customers.save(uow.take(customer.record_purchase(sale)))
        account = uow.loyalty_accounts.get("A0")
        uow.loyalty_accounts.save(uow.take(account.earn(program, sale, key=f"ek-{n}")))
        say(event="built", pid=os.getpid())
    store.close()
    say(event="committed")

def forked(run, *args):
    sys.stdout.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        quiet = os.pipe()  # the pause hook reads stdin: give it one that never speaks
        os.dup2(quiet[0], 0)
        run(*args)
    except BaseException as error:
        print(repr(error), file=sys.stderr, flush=True)
        code = 1
    finally:
        os._exit(code)

say(event="zygote")
for line in sys.stdin:
    command, *args = line.split()
    if command == "work":
        processes, operations, accounts = map(int, args)
        go_read, go_write = os.pipe()
        pids = [forked(work, w, operations, accounts, go_read) for w in range(processes)]
        os.close(go_read)
        sys.stdin.readline()
        os.write(go_write, b"x" * processes)
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
        say(event="reaped", codes=codes)
    elif command == "crash":
        n, rows = map(int, args)
        pid = forked(crash, n, rows)
        say(event="reaped", codes=[os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])])
"""


class Child:
    """A subprocess running ``CHILD``, read line by line on threads (no sleeping, no hangs)."""

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
        assert self.process.stdout is not None and self.process.stderr is not None
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

    def next_line(self) -> str:
        try:
            line = self.lines.get(timeout=WAIT)
        except queue.Empty:  # pragma: no cover - a hung child
            pytest.fail(f"no output from the child within {WAIT}s: {self.stderr}")
        assert line is not None, f"the child ended early: {self.stderr}"
        return line

    def expect(self, event: str) -> dict[str, Any]:
        line = self.next_line()
        if line.startswith(("CRMCORE_", "{")) is False:  # pragma: no cover - stray output
            pytest.fail(f"unexpected output {line!r}: {self.stderr}")
        if line.startswith("CRMCORE_"):
            assert event == "pause", f"expected {event!r}, got {line!r}"
            return {"event": "pause", "rows": int(line.split()[1])}
        fields: dict[str, Any] = json.loads(line)
        assert fields["event"] == event, f"expected {event!r}, got {line!r}: {self.stderr}"
        return fields

    def send(self, line: str = "") -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    @property
    def stderr(self) -> str:
        return "\n".join(e for e in self.errors if e is not None)[-3000:]

    def finish(self) -> int:
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
                    with contextlib.suppress(BrokenPipeError):
                        stream.close()
        return status


class Target:
    """A store of one adapter the children open too: (adapter, target, schema)."""

    def __init__(self, adapter: str, tmp_path: Path) -> None:
        self.adapter = adapter
        if adapter == "postgres":
            self.store: Store = ThrowawayStore(postgres_dsn(), max_size=2)
            assert isinstance(self.store, PostgresStore)
            self.args = ("postgres", postgres_dsn(), self.store.schema, PG_PAUSE)
        else:
            path = str(tmp_path / "crm.db")
            self.store = SqliteStore(path, timeout=30)
            self.args = ("sqlite", path, "-", SQLITE_PAUSE)

    def reopen(self) -> Store:
        if self.adapter == "postgres":
            return PostgresStore(self.args[1], schema=self.args[2], migrate=False, max_size=2)
        return SqliteStore(self.args[1], timeout=30)


@pytest.fixture(params=["postgres", "sqlite"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    made = Target(request.param, tmp_path)
    try:
        yield made
    finally:
        made.store.close()


def _seed(store: Store) -> None:
    """10 customers, each with a loyalty account; their events relayed already."""
    for k in range(ACCOUNTS):
        register_customer(store, Customer.register(f"C{k}", f"Customer {k}", T0))
        open_account(store, f"A{k}", f"C{k}", PROGRAM)
    while store.outbox.relay(lambda message: None, limit=100):
        pass


def test_eight_processes_on_ten_accounts_lose_nothing_and_apply_nothing_twice(
    target: Target,
) -> None:
    _seed(target.store)
    zygote = Child(*target.args)
    results: list[dict[str, Any]] = []
    try:
        zygote.expect("zygote")
        zygote.send(f"work {PROCESSES} {OPERATIONS} {ACCOUNTS}")
        for _ in range(PROCESSES):
            zygote.expect("ready")
        zygote.send()  # go
        finished = 0
        while finished < PROCESSES:
            line = json.loads(zygote.next_line())
            if line["event"] == "done":
                finished += 1
            else:
                results.append(line)
        assert zygote.expect("reaped")["codes"] == [0] * PROCESSES, zygote.stderr
    finally:
        zygote.process.stdin.close()  # type: ignore[union-attr]
        assert zygote.finish() == 0, zygote.stderr
    outcomes = Counter(r["event"] for r in results)
    assert outcomes["gave_up"] == 0, [r for r in results if r["event"] == "gave_up"]
    assert sum(outcomes.values()) == PROCESSES * OPERATIONS
    assert outcomes["earn"] > 20 and outcomes["redeem"] > 10 and outcomes["tag"] > 10

    done = {kind: [r for r in results if r["event"] == kind] for kind in ("earn", "redeem", "tag")}
    store = target.reopen()
    try:
        with store.unit_of_work() as uow:
            for k in range(ACCOUNTS):
                account = uow.loyalty_accounts.get(f"A{k}")
                earned = sum(r["points"] for r in done["earn"] if r["account"] == account.id)
                spent = sum(r["points"] for r in done["redeem"] if r["account"] == account.id)
                latest = account.last_at or T0
                assert account.balance(latest) == earned - spent == account.total_points
                keys = [e.key for e in account.entries]
                assert len(keys) == len(set(keys))  # no entry, no redemption, twice
                expected = {r["key"] for r in done["earn"] + done["redeem"]
                            if r["account"] == account.id}  # fmt: skip
                assert set(keys) == expected
                for entry in account.entries:  # never negative, at any business time
                    assert account.balance(entry.at) >= 0
                customer = uow.customers.get(f"C{k}")
                tags = {r["tag"] for r in done["tag"] if r["customer"] == customer.id}
                assert customer.tags == tags
                assert customer.version == 1 + len(tags)
        messages = []
        while batch := store.outbox.pending(limit=1000):
            messages.extend(batch)
            store.outbox.mark_published([m.position for m in batch])
    finally:
        store.close()
    kinds = Counter(m.kind for m in messages)
    assert kinds == {
        "loyalty.points_earned": len(done["earn"]),
        "loyalty.points_redeemed": len(done["redeem"]),
        "customer.tags_changed": len(done["tag"]),
    }
    keyed = Counter(str(m.payload.get("entry_key")) for m in messages if m.kind.startswith("loy"))
    assert set(keyed.values()) == {1}
    assert set(keyed) == {r["key"] for r in done["earn"] + done["redeem"]}
    positions = [m.position for m in messages]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)


KILLS = 20


def test_a_writer_killed_mid_transaction_twenty_times_leaves_no_partial_unit(
    target: Target,
) -> None:
    _seed(target.store)
    rnd = random.Random(20260302)
    zygote = Child(*target.args)
    try:
        zygote.expect("zygote")
        for n in range(KILLS):
            # The unit of work writes 8 to 12 rows (adapter-dependent): stop it at one of them.
            rows = rnd.randint(1, 7)
            zygote.send(f"crash {n} {rows}")
            writer = zygote.expect("built")["pid"]
            assert zygote.expect("pause")["rows"] >= rows
            os.kill(writer, signal.SIGKILL)  # inside its transaction, before COMMIT
            assert zygote.expect("reaped")["codes"] == [-signal.SIGKILL]
            _check(target.store, n, killed=n)
            zygote.send(f"crash {n} 0")  # the same unit of work, this time left to commit
            zygote.expect("built")
            zygote.expect("committed")
            assert zygote.expect("reaped")["codes"] == [0], zygote.stderr
            _check(target.store, n + 1, killed=None)
    finally:
        zygote.process.stdin.close()  # type: ignore[union-attr]
        assert zygote.finish() == 0, zygote.stderr


def _check(store: Store, committed: int, killed: int | None) -> None:
    """The state holds exactly the ``committed`` units of work, and the outbox agrees."""
    with store.unit_of_work() as uow:
        if killed is not None:
            assert uow.customers.find(f"K{killed}") is None
            assert uow.purchases.find(f"k-{killed}") is None
        assert uow.customers.count() == ACCOUNTS + committed
        assert uow.purchases.count() == committed
        buyer = uow.customers.get("C0")
        assert buyer.purchases.count == committed
        assert buyer.version == 1 + committed
        account = uow.loyalty_accounts.get("A0")
        assert len(account.entries) == committed
        assert account.version == 1 + committed
        assert account.balance(T0 + timedelta(days=1)) == 10 * committed
    kinds = Counter(m.kind for m in store.outbox.pending(limit=10_000))
    assert kinds == Counter(
        {"customer.registered": committed, "customer.purchase_recorded": committed,
         "loyalty.points_earned": committed}
    ) - Counter()  # fmt: skip
