"""Crash safety of the SQLite store: writers killed with SIGKILL at random moments.

A writer runs units of work that each register or change a customer, record a
purchase, earn loyalty points for it and, every third unit, redeem some, with
their events queued in the outbox, all in one unit of work. The test kills it
with ``SIGKILL`` at points drawn from a seeded RNG, over and over, and after
every kill checks the database against an oracle: the same units replayed on a
[`MemoryStore`][crmcore.storage.memory.MemoryStore].

* Every unit whose commit the writer acknowledged is fully present; nothing of a
  unit that did not commit is (no partial unit), so the database equals the
  oracle after exactly ``n`` units, where ``n`` is the number acknowledged or,
  when the writer died between its commit and its acknowledgement, one more.
* The outbox holds exactly the events of those ``n`` units, in order.
* Every loyalty balance equals the sum of the postings in its stored entries.

Kill points (each drawn from the RNG, after a random number of acknowledged units):

* ``race``: at once after an acknowledgement, wherever the writer has got to in
  the next unit (building it, committing it, checkpointing the WAL);
* ``built``: inside the next unit, all of it buffered, before the commit;
* ``rows``: inside the next unit's commit, after a random number of its write
  batches (the transaction is open, rows are in the WAL, ``COMMIT`` has not run);
* ``unacked``: after the next unit's commit returned but before the writer
  acknowledged it (the unit must be present).

Starting a Python interpreter that imports crmcore takes seconds on a busy CI
machine, so one helper process (the "zygote", this file run as a script) imports
once and forks a fresh writer per round; the test kills the writer by its pid.
All synchronisation is over the zygote's stdout pipe: nothing sleeps.
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest

from crmcore.customers import Customer, Purchase
from crmcore.kernel.money import Money
from crmcore.loyalty import LoyaltyAccount, LoyaltyProgram
from crmcore.ports import Store
from crmcore.storage.memory import MemoryStore
from crmcore.storage.sqlite import SqliteStore
from crmcore.storage.sqlite.writes import Progress

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX fork, signals and pipes")

SEED = 20_261_207
KILLS = 40  # the issue asks for at least 20 per run
CUSTOMERS = 5  # units cycle over this many customers and accounts, so most units update
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
PROGRAM = LoyaltyProgram(id="P", currency="EUR", point_value=Money("0.01", "EUR"))
WAIT = 60.0  # seconds: generous for slow CI machines; only reached when something hangs
MODES = ("race", "built", "rows", "unacked")


# --------------------------------------------------------------------------- the workload


def customer_of(unit: int) -> str:
    return f"c{unit % CUSTOMERS}"


def account_of(unit: int) -> str:
    return f"A{unit % CUSTOMERS}"


def run_unit(store: Store, unit: int, before_commit: Callable[[], None] = lambda: None) -> None:
    """Unit ``unit`` of the workload, in one unit of work (deterministic given the store)."""
    at = T0 + timedelta(minutes=unit)
    cid, aid = customer_of(unit), account_of(unit)
    with store.unit_of_work() as uow:
        if unit < CUSTOMERS:
            customer = uow.customers.add(uow.take(Customer.register(cid, f"Customer {cid}", at)))
            account = uow.loyalty_accounts.add(
                LoyaltyAccount(id=aid, customer_id=cid, program_id=PROGRAM.id)
            )
        else:
            customer = uow.customers.get(cid)
            account = uow.loyalty_accounts.get(aid)
        amount = Money(f"{10 + unit % 37}.{unit % 100:02d}", "EUR")
        purchase = Purchase(f"o{unit:05d}", cid, at, amount, items=1 + unit % 3)
        uow.purchases.add(purchase)
        uow.customers.save(uow.take(customer.record_purchase(purchase)))
        account = uow.take(account.earn(PROGRAM, purchase, key=f"earn-{unit}"))
        if unit % 3 == 2 and account.balance(at) > 0:
            spend = max(1, account.balance(at) // 2)
            account = uow.take(account.redeem(PROGRAM, spend, at=at, key=f"redeem-{unit}"))
        uow.loyalty_accounts.save(account)
        before_commit()


def oracle(units: int) -> MemoryStore:
    """The first ``units`` units, run on a fresh in-memory store."""
    store = MemoryStore()
    for unit in range(units):
        run_unit(store, unit)
    return store


# --------------------------------------------------------------------------- the writer


def say(line: str) -> None:
    """One line on stdout, written at once (shared by the zygote and its forks)."""
    os.write(1, (line + "\n").encode())


def writer(db: str, start: int, mode: str, pause_unit: int, pause_batch: int) -> None:
    """Run units from ``start`` on, acknowledging each commit, until killed.

    In unit ``pause_unit`` it stops where ``mode`` says (and reports it) and waits to be
    killed; ``race`` never stops. If the commit of ``pause_unit`` has fewer than
    ``pause_batch`` write batches it simply goes on (the test then kills it at once).
    """
    batches = 0
    unit = start
    real_advance = Progress.advance

    def advance(progress: Progress, rows: int) -> None:
        nonlocal batches
        real_advance(progress, rows)
        batches += 1
        if mode == "rows" and unit == pause_unit and batches == pause_batch:
            say(f"paused rows {unit} {batches}")
            signal.pause()

    def before_commit() -> None:
        if mode == "built" and unit == pause_unit:
            say(f"paused built {unit}")
            signal.pause()

    Progress.advance = advance  # type: ignore[method-assign]
    with SqliteStore(db, timeout=30) as store:
        while unit < start + 200:  # a bound in case the test stops killing
            batches = 0
            run_unit(store, unit, before_commit)
            if mode == "unacked" and unit == pause_unit:
                say(f"paused unacked {unit}")
                signal.pause()
            say(f"ack {unit}")
            unit += 1
    say("done")


def zygote(db: str) -> None:
    """Import once, then fork one writer per ``run`` command read from stdin; report its end."""
    say("ready")
    for line in sys.stdin:
        start, mode, pause_unit, pause_batch = line.split()
        pid = os.fork()
        if pid == 0:  # the writer
            code = 0
            try:
                writer(db, int(start), mode, int(pause_unit), int(pause_batch))
            except BaseException as error:  # pragma: no cover - reported to the test
                say(f"error {error!r}")
                code = 1
            finally:
                os._exit(code)
        say(f"pid {pid}")
        _, status = os.waitpid(pid, 0)
        say(f"exit {os.waitstatus_to_exitcode(status)}")


# --------------------------------------------------------------------------- the test side


class Zygote:
    """This file run as a script in ``zygote`` mode; its output read line by line on a thread."""

    def __init__(self, db: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "zygote", str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.errors: list[str | None] = []
        self._readers = [
            threading.Thread(target=self._pump, args=(self.process.stdout, self.lines.put)),
            threading.Thread(target=self._pump, args=(self.process.stderr, self.errors.append)),
        ]
        for reader in self._readers:
            reader.start()
        self.expect("ready")

    @staticmethod
    def _pump(stream: IO[str], sink: Any) -> None:
        for line in stream:
            sink(line.rstrip("\n"))
        sink(None)

    def expect(self, prefix: str) -> list[str]:
        """The words of the next line of output, which must start with ``prefix``."""
        try:
            line = self.lines.get(timeout=WAIT)
        except queue.Empty:  # pragma: no cover - a hung writer
            pytest.fail(f"no {prefix!r} from the writer within {WAIT}s")
        stderr = "\n".join(e for e in self.errors if e is not None)
        assert line is not None, f"the zygote ended before {prefix!r}: {stderr}"
        assert line.startswith(prefix), f"expected {prefix!r}, got {line!r}: {stderr}"
        return line.split()

    def run(self, start: int, mode: str, pause_unit: int, pause_batch: int) -> int:
        """Fork a writer; its pid."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{start} {mode} {pause_unit} {pause_batch}\n")
        self.process.stdin.flush()
        return int(self.expect("pid")[1])

    def close(self) -> None:
        try:
            if self.process.stdin is not None:
                with suppress(BrokenPipeError):
                    self.process.stdin.close()
            self.process.wait(timeout=WAIT)
        finally:
            if self.process.poll() is None:  # pragma: no cover - a hung zygote
                self.process.kill()
                self.process.wait()
            for reader in self._readers:
                reader.join(timeout=WAIT)
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()


def kill_round(zygote: Zygote, rng: random.Random, start: int) -> tuple[str, int, int]:
    """One writer from unit ``start``, killed at a random point.

    Returns the mode of the kill, the number of units acknowledged in all (``start`` plus this
    round's), and how many units the database must then hold at least.
    """
    mode = rng.choice(MODES)
    acks = rng.randrange(0, 4)
    pause_unit, pause_batch = start + acks, rng.randrange(1, 10)
    pid = zygote.run(start, mode, pause_unit, pause_batch)
    acked = start
    for _ in range(acks):
        acked = int(zygote.expect("ack")[1]) + 1
    if mode != "race":
        words = zygote.expect("")
        if words[0] == "ack":  # the commit had fewer batches than pause_batch: kill it now
            assert (mode, words[1]) == ("rows", str(pause_unit)), words
            acked, mode = pause_unit + 1, "race"
        else:
            assert words[:3] == ["paused", mode, str(pause_unit)], words
    os.kill(pid, signal.SIGKILL)
    while (words := zygote.expect(""))[0] == "ack":  # acknowledged before the kill landed
        acked = int(words[1]) + 1
    assert words == ["exit", str(-signal.SIGKILL)], words
    must_hold = acked + 1 if mode == "unacked" else acked
    return mode, acked, must_hold


def stored_units(db: Path) -> int:
    """How many units the database holds (by their purchases), checking they are a prefix."""
    connection = sqlite3.connect(db)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        ids = sorted(row[0] for row in connection.execute("SELECT order_id FROM purchases"))
    finally:
        connection.close()
    assert ids == [f"o{unit:05d}" for unit in range(len(ids))], "units are not a prefix"
    return len(ids)


def raw_ledgers(db: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each stored loyalty account document, read without crmcore."""
    connection = sqlite3.connect(db)
    try:
        rows = connection.execute("SELECT id, body FROM aggregates WHERE kind = 'loyalty_account'")
        for account_id, body in rows.fetchall():
            yield account_id, json.loads(body)
    finally:
        connection.close()


def check_against_oracle(db: Path, units: int) -> None:
    """The database equals ``units`` whole units of the workload, and nothing else."""
    expected = oracle(units)
    end = T0 + timedelta(days=1)
    balances: dict[str, int] = {}
    with SqliteStore(db) as store:
        with store.unit_of_work() as got, expected.unit_of_work() as want:
            assert got.customers.count() == want.customers.count() == min(units, CUSTOMERS)
            assert got.purchases.count() == want.purchases.count() == units
            for i in range(min(units, CUSTOMERS)):
                cid, aid = customer_of(i), account_of(i)
                assert got.customers.get(cid) == want.customers.get(cid)
                assert got.purchases.for_customer(cid) == want.purchases.for_customer(cid)
                account, wanted = got.loyalty_accounts.get(aid), want.loyalty_accounts.get(aid)
                assert (account.entries, account.version) == (wanted.entries, wanted.version)
                balances[aid] = account.balance(end)
                assert balances[aid] == wanted.balance(end)
        outbox = store.outbox.pending(limit=10_000)
    oracle_outbox = expected.outbox.pending(limit=10_000)
    assert [(m.kind, m.aggregate_id, m.occurred_at, m.payload) for m in outbox] == [
        (m.kind, m.aggregate_id, m.occurred_at, m.payload) for m in oracle_outbox
    ]
    assert [m.position for m in outbox] == sorted({m.position for m in outbox})
    assert len({m.message_id for m in outbox}) == len(outbox)
    # The stored documents, read without crmcore: each posting moves exactly its points
    # between lots, and the balance is the sum of the postings.
    stored = dict(raw_ledgers(db))
    assert set(stored) == set(balances)
    for account_id, body in stored.items():
        entries = body["entries"]
        for entry in entries:
            assert sum(points for _lot, points in entry["moves"]) == entry["points"], entry
        assert sum(entry["points"] for entry in entries) == balances[account_id], account_id


def test_writers_killed_at_random_points_leave_whole_units_only(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    SqliteStore(db).close()
    rng = random.Random(SEED)
    zygote = Zygote(db)
    modes: list[str] = []
    units = 0
    try:
        for _ in range(KILLS):
            mode, acked, must_hold = kill_round(zygote, rng, units)
            units = stored_units(db)
            # every acknowledged unit is there; at most the one in flight beyond them
            assert must_hold <= units <= acked + 1, (mode, acked, units)
            if mode in ("built", "rows"):
                assert units == acked, (mode, acked, units)  # the paused unit did not commit
            check_against_oracle(db, units)
            modes.append(mode)
    finally:
        zygote.close()
    assert len(modes) == KILLS
    assert set(modes) == set(MODES), modes  # every kind of kill point was exercised
    assert units >= KILLS  # the rounds made progress: most acknowledged at least one unit


if __name__ == "__main__":
    if sys.argv[1:2] == ["zygote"]:
        zygote(sys.argv[2])
