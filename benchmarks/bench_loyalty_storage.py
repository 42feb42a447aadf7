"""Benchmark: an earn/redeem mix posted through the stores, in batches per unit of work.

Generates ``--accounts`` loyalty accounts and ``--operations`` postings
(round robin over the accounts, one minute apart; two earns for one
redemption of 5 points, so every redemption is covered; purchase amounts
10-200 EUR from a seeded RNG), then measures in one process, as the median
wall time over ``--repeat`` runs, posting everything with
``--batch`` operations per unit of work (load each account once per batch,
post, save, collect the events, commit):

* ``SqliteStore`` on a file (WAL, ``synchronous=FULL``);
* ``SqliteStore(":memory:")`` (the same SQL without the disk);
* ``MemoryStore`` (the in-memory reference adapter): the baseline;
* for information: the ledger alone, without any store (the domain's own
  cost: ``LoyaltyAccount.earn`` / ``redeem`` on a dict of accounts).

Every run starts from a fresh store holding the empty accounts (made
before the clock starts); the final balances of all paths are checked to be
equal. Accounts are stored as one JSON document each, so a batch writes each
account it touched once, with its whole ledger.

Run from the repository root::

    .venv/bin/python benchmarks/bench_loyalty_storage.py --quick   # 1,000 accounts, 10k ops
    .venv/bin/python benchmarks/bench_loyalty_storage.py           # 10,000 accounts, 100k ops
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from _timing import measure, peak_rss_gb

from crmcore.customers.records import Purchase
from crmcore.kernel.money import Money
from crmcore.loyalty.expiry import ExpiryPolicy
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.program import LoyaltyProgram
from crmcore.ports import Store
from crmcore.storage.memory import MemoryStore
from crmcore.storage.sqlite import SqliteStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PROGRAM = LoyaltyProgram(
    id="P",
    currency="EUR",
    point_value=Money("0.01", "EUR"),
    expiry=ExpiryPolicy.months_after(12),
)
REDEEM_POINTS = 5

#: One posting: (account index, purchase or None for a redemption, time, key).
Operation = tuple[int, Purchase | None, datetime, str]


def make_operations(accounts: int, operations: int, seed: int) -> list[Operation]:
    """The postings, round robin over the accounts: earn, earn, redeem, earn, earn, redeem..."""
    rng = np.random.default_rng(seed)
    cents = rng.integers(1_000, 20_001, operations)
    out: list[Operation] = []
    for i in range(operations):
        account, round_ = i % accounts, i // accounts
        at = T0 + timedelta(minutes=i)
        if round_ % 3 == 2:
            out.append((account, None, at, f"r-{i}"))
        else:
            amount = Money(f"{cents[i] // 100}.{cents[i] % 100:02d}", "EUR")
            out.append((account, Purchase(f"o-{i}", f"c-{account}", at, amount), at, f"e-{i}"))
    return out


def new_accounts(n: int) -> list[LoyaltyAccount]:
    """``n`` empty accounts ``A-<i>`` of customers ``c-<i>``."""
    return [LoyaltyAccount(id=f"A-{i}", customer_id=f"c-{i}", program_id="P") for i in range(n)]


def post(account: LoyaltyAccount, op: Operation) -> tuple[LoyaltyAccount, int]:
    """Apply one posting; return the account and the number of events."""
    _, purchase, at, key = op
    if purchase is None:
        outcome = account.redeem(PROGRAM, REDEEM_POINTS, at=at, key=key)
    else:
        outcome = account.earn(PROGRAM, purchase, key=key)
    return outcome.value, len(outcome.events)


def run_domain(ops: list[Operation], accounts: int) -> dict[str, int]:
    """The ledger alone: postings on a list of accounts, no store."""
    book = new_accounts(accounts)
    for op in ops:
        book[op[0]], _ = post(book[op[0]], op)
    end = ops[-1][2]
    return {a.id: a.balance(end) for a in book}


def run_store(store: Store, ops: list[Operation], batch: int) -> dict[str, int]:
    """Post ``ops`` through ``store``, ``batch`` operations per unit of work."""
    for start in range(0, len(ops), batch):
        with store.unit_of_work() as uow:
            for op in ops[start : start + batch]:
                repo = uow.loyalty_accounts
                current = repo.get(f"A-{op[0]}")
                _, purchase, at, key = op
                if purchase is None:
                    outcome = current.redeem(PROGRAM, REDEEM_POINTS, at=at, key=key)
                else:
                    outcome = current.earn(PROGRAM, purchase, key=key)
                repo.save(uow.take(outcome))
    end = ops[-1][2]
    balances: dict[str, int] = {}
    with store.unit_of_work() as uow:
        after: str | None = None
        while True:
            page = uow.loyalty_accounts.list(limit=10_000, after=after)
            balances.update((a.id, a.balance(end)) for a in page.items)
            if page.next_after is None:
                break
            after = page.next_after
    store.close()
    return balances


def seeded(factory: Callable[[], Store], accounts: int) -> Store:
    """A fresh store holding the empty accounts."""
    store = factory()
    with store.unit_of_work() as uow:
        for account in new_accounts(accounts):
            uow.loyalty_accounts.add(account)
    return store


def _runner(
    factory: Callable[[], Store], accounts: int, ops: list[Operation], batch: int, repeat: int
) -> Callable[[], dict[str, int]]:
    """One timed run per call, each on its own store seeded before the clock starts."""
    stores = [seeded(factory, accounts) for _ in range(repeat)]
    return lambda: run_store(stores.pop(), ops, batch)


def run(accounts: int, operations: int, batch: int, repeat: int, seed: int) -> None:
    """Generate the postings, time every path and print medians and ratios."""
    print(
        f"crmcore loyalty storage benchmark: {accounts:,} accounts, {operations:,} operations "
        f"(2 earns : 1 redemption), {batch:,} per unit of work, median of {repeat}"
    )
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    ops = make_operations(accounts, operations, seed)
    results: dict[str, tuple[float, dict[str, int]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(10**9))
        paths: dict[str, Callable[[], Store]] = {
            "SqliteStore (file, WAL, synchronous=FULL)": lambda: SqliteStore(
                Path(tmp) / f"bench-{next(counter)}.db"
            ),
            'SqliteStore(":memory:")': lambda: SqliteStore(":memory:"),
            "MemoryStore": MemoryStore,
        }
        for label, factory in paths.items():
            results[label] = measure(_runner(factory, accounts, ops, batch, repeat), repeat)
    results["ledger alone (no store)"] = measure(lambda: run_domain(ops, accounts), repeat)
    baseline = results["MemoryStore"][0]
    expected = results["ledger alone (no store)"][1]
    for label, (seconds, balances) in results.items():
        assert balances == expected, f"{label}: balances differ from the ledger alone"
        rate = operations / seconds
        ratio = seconds / baseline
        print(f"  {label:<44} {seconds:>8.3f} s  {rate:>10,.0f} ops/s  {ratio:>6.2f}x MemoryStore")
    print(f"balances agree on all paths; total points outstanding {sum(expected.values()):,}")
    print(f"peak RSS: {peak_rss_gb():.2f} GB")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--operations", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000, help="operations per unit of work")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true", help="10x smaller data")
    args = parser.parse_args(argv)
    if args.quick:
        args.accounts, args.operations = args.accounts // 10, args.operations // 10
    if min(args.accounts, args.operations, args.batch, args.repeat) < 1:
        sys.exit("all sizes must be positive")
    run(args.accounts, args.operations, args.batch, args.repeat, args.seed)


if __name__ == "__main__":
    main()
