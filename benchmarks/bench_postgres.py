"""Benchmark: units of work per second on PostgreSQL, writers per account, segments in the database.

Needs a PostgreSQL server: ``--dsn`` or ``CRMCORE_POSTGRES_DSN`` (start a throwaway one with
``TEARDOWN=(); source .ci/parts/10-postgres.sh``). Every part runs in a fresh schema, dropped at
the end. In one run it measures:

1. **Units of work per second** through the services, with 1, 4 and 8 processes (each process
   opens its own store; the clock runs from a common start barrier to the last process done):

   * ``register``: [`register_customer`][crmcore.services.register_customer] (a customer and its
     event);
   * ``purchase+earn``: one unit of work storing a purchase, updating the customer's summary and
     earning the points on the customer's ledger (three writes, two events);
   * ``redeem``: [`redeem_points`][crmcore.services.redeem_points] of 1 point.

   Each process works on its own customers and accounts (no contention: this is throughput).
   The baseline is ``SqliteStore`` on a file, same workload, same process counts; the ratio is
   PostgreSQL's units of work per second over SQLite's.
2. **Writers per account**: N processes (1 to 16) redeeming and earning on *one* account at once
   with the services' default retry policy; how many operations gave up, how many retries they
   needed, and the account's throughput. The largest N with no operation given up is what one
   account sustains with the defaults.
3. **Segments**: ``PostgresStore.segment_members`` of a three-predicate rule over 1M customers
   (100k with ``--quick``) loaded into PostgreSQL, against the numpy mask of the same rule on
   the same data as a ``CustomerFrame``; both results are asserted equal.

Run from the repository root::

    python3 scripts/dev.py bench postgres --quick
    python3 scripts/dev.py bench postgres
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from _timing import line, measure

from crmcore.columnar import STRING_DTYPE, Column, CustomerFrame
from crmcore.columnar.schema import CUSTOMER_SCHEMA
from crmcore.customers import Customer, Purchase
from crmcore.kernel.clock import EPOCH
from crmcore.kernel.errors import ConcurrencyConflictError, InsufficientPointsError, StorageError
from crmcore.kernel.money import Money
from crmcore.loyalty import LoyaltyProgram
from crmcore.ports import Store
from crmcore.segments import to_text
from crmcore.segments.evaluate_batch import mask
from crmcore.segments.rules import And, Compare, Duration, Field, InList, Literal, Within
from crmcore.services import (
    DEFAULT_RETRY,
    RetryPolicy,
    adjust_points,
    earn_for_purchase,
    open_account,
    redeem_points,
    register_customer,
)
from crmcore.storage.postgres import PostgresStore
from crmcore.storage.sqlite import SqliteStore

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PROGRAM = LoyaltyProgram(id="P", currency="EUR", point_value=Money("0.01", "EUR"))
SEEDED = 10  # customers and accounts of each process
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
DAY_US = 86_400_000_000
AS_OF_US = (AS_OF - EPOCH) // timedelta(microseconds=1)
COUNTRIES = ("AU", "BR", "CN", "DE", "FR", "GB", "IN", "JP", "SG", "TW", "US")
RULE = And(
    (
        Compare(Field("total_spent"), ">=", Literal(500)),
        InList(Field("country"), (Literal("CN"), Literal("US"))),
        Within(Field("last_purchase_at"), Duration(90, "days")),
    )
)


# --------------------------------------------------------------------------- stores


def open_store(adapter: str, target: str, schema: str) -> Store:
    if adapter == "postgres":
        return PostgresStore(target, schema=schema, migrate=False, max_size=1)
    return SqliteStore(target, timeout=60)


def drop(dsn: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', ())


def seed(store: Store, worker: int, balance: int) -> None:
    """The process's customers and accounts (each account holding ``balance`` points)."""
    for k in range(SEEDED):
        cid = f"w{worker}-c{k}"
        register_customer(store, Customer.register(cid, f"Customer {cid}", T0))
        open_account(store, f"w{worker}-a{k}", cid, PROGRAM)
        if balance:
            adjust_points(
                store, f"w{worker}-a{k}", PROGRAM, balance, reason="seed", at=T0, key="seed"
            )


# --------------------------------------------------------------------------- workers


def _operation(kind: str, store: Store, worker: int, i: int, policy: RetryPolicy) -> None:
    at = T0 + timedelta(seconds=i)
    k = i % SEEDED
    if kind == "register":
        outcome = Customer.register(f"w{worker}-n{i}", "New customer", at)
        register_customer(store, outcome, retry=policy)
    elif kind == "purchase+earn":
        cid = f"w{worker}-c{k}"
        sale = Purchase(f"w{worker}-o{i}", cid, at, Money("25.00", "EUR"))
        with store.unit_of_work() as uow:
            uow.purchases.add(sale)
            customer = uow.customers.get(cid)
            uow.customers.save(uow.take(customer.record_purchase(sale)))
            account = uow.loyalty_accounts.get(f"w{worker}-a{k}")
            uow.loyalty_accounts.save(uow.take(account.earn(PROGRAM, sale, key=f"e{i}")))
    elif kind == "redeem":
        redeem_points(store, f"w{worker}-a{k}", PROGRAM, 1, at=at, key=f"r{i}", retry=policy)
    else:  # "contended": every process on account w0-a0, a redemption then an earn
        if i % 2:
            sale = Purchase(f"w{worker}-o{i}", "w0-c0", at, Money("2.00", "EUR"))
            earn_for_purchase(store, "w0-a0", PROGRAM, sale, key=f"e-{worker}-{i}", retry=policy)
        else:
            key = f"r-{worker}-{i}"
            redeem_points(store, "w0-a0", PROGRAM, 1, at=at, key=key, retry=policy)


def worker(
    kind: str, adapter: str, target: str, schema: str, n: int, ops: int, barrier: Any, out: Any
) -> None:
    store = open_store(adapter, target, schema)
    retries = [0]

    def counted(seconds: float) -> None:
        retries[0] += 1
        time.sleep(seconds)

    policy = RetryPolicy(sleep=counted)
    gave_up = 0
    barrier.wait()
    start = time.time()
    for i in range(ops):
        try:
            _operation(kind, store, n, i, policy)
        except InsufficientPointsError:
            pass
        except (ConcurrencyConflictError, StorageError):
            gave_up += 1
    end = time.time()
    store.close()
    out.put((start, end, gave_up, retries[0]))


def run_processes(
    kind: str, adapter: str, target: str, schema: str, processes: int, ops: int
) -> tuple[float, int, int]:
    """Wall seconds from the common start to the last process done; give-ups; retries."""
    context = mp.get_context("fork")  # workers share the imported modules (no pool open here)
    barrier = context.Barrier(processes)
    out = context.Queue()
    children = [
        context.Process(target=worker, args=(kind, adapter, target, schema, n, ops, barrier, out))
        for n in range(processes)
    ]
    for child in children:
        child.start()
    results = [out.get(timeout=600) for _ in children]
    for child in children:
        child.join(600)
        assert child.exitcode == 0, f"{kind} worker failed"
    starts, ends, gave_up, retries = zip(*results, strict=True)
    return max(ends) - min(starts), sum(gave_up), sum(retries)


# --------------------------------------------------------------------------- part 1


def fresh(adapter: str, dsn: str, workdir: Path, processes: int, balance: int) -> tuple[str, str]:
    """A new store seeded for ``processes`` workers: (target, schema)."""
    if adapter == "postgres":
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        store: Store = PostgresStore(dsn, schema=schema)
        target = dsn
    else:
        schema = "-"
        target = str(workdir / f"bench-{uuid.uuid4().hex[:10]}.db")
        store = SqliteStore(target)
    for n in range(max(processes, 1)):
        seed(store, n, balance)
    store.close()
    return target, schema


def throughput(dsn: str, ops: int, repeat: int, workdir: Path) -> None:
    print(
        "\n1. units of work per second (services; each process on its own customers and"
        f" accounts; median of {repeat} runs, PostgreSQL and SQLite taking turns)"
    )
    for kind in ("register", "purchase+earn", "redeem"):
        one = 0.0
        for processes in (1, 4, 8):
            rates: dict[str, list[float]] = {"postgres": [], "sqlite": []}
            for _ in range(repeat):
                for adapter in rates:
                    target, schema = fresh(adapter, dsn, workdir, processes, 10 * ops)
                    try:
                        wall, gave_up, _retries = run_processes(
                            kind, adapter, target, schema, processes, ops
                        )
                    finally:
                        if adapter == "postgres":
                            drop(dsn, schema)
                    assert gave_up == 0, f"{kind}: {gave_up} operations gave up"
                    rates[adapter].append(processes * ops / wall)
            pg = statistics.median(rates["postgres"])
            lite = statistics.median(rates["sqlite"])
            one = one or pg
            line(
                f"{kind}, {processes} process{'es' if processes > 1 else ''}",
                processes * ops / pg,
                f"PostgreSQL {pg:6.0f} uow/s   SQLite {lite:6.0f} uow/s   ratio {pg / lite:5.2f}x"
                f"   ({pg / one:4.2f}x one process)",
                width=30,
            )


# --------------------------------------------------------------------------- part 2


def writers(dsn: str, ops: int, counts: list[int]) -> None:
    print(
        f"\n2. writers on one account (default retry: {DEFAULT_RETRY.attempts} tries, waits"
        f" {DEFAULT_RETRY.base_delay * 1000:g} ms doubling to {DEFAULT_RETRY.max_delay * 1000:g}"
        f" ms, full jitter; {ops} operations per process)"
    )
    for processes in counts:
        target, schema = fresh("postgres", dsn, Path("."), 1, 100 * processes * ops)
        try:
            wall, gave_up, retries = run_processes(
                "contended", "postgres", target, schema, processes, ops
            )
        finally:
            drop(dsn, schema)
        total = processes * ops
        line(
            f"{processes:2d} processes, one account",
            wall,
            f"{total / wall:7.0f} ops/s   gave up {gave_up:4d} of {total}"
            f"   retries {retries / total:5.2f} per op",
            width=30,
        )


# --------------------------------------------------------------------------- part 3


def make_frame(n: int, seed_: int) -> tuple[CustomerFrame, dict[str, Any]]:
    """``n`` customers as a frame built from numpy arrays, and the same arrays for COPY."""
    rng = np.random.default_rng(seed_)
    ids = np.strings.add("C", np.arange(n).astype(STRING_DTYPE))
    created = AS_OF_US - rng.integers(0, 5 * 365 * DAY_US, n)
    counts = rng.poisson(3, n)
    never = counts == 0
    last = created + ((AS_OF_US - created) * rng.random(n)).astype(np.int64)
    spent = np.round(rng.lognormal(5, 1.2, n) * (counts > 0), 2)
    country = rng.integers(-1, len(COUNTRIES), n)
    zeros = np.zeros(n, dtype=np.int64)
    columns: dict[str, Column] = {
        "id": Column.from_numpy("string", ids),
        "name": Column.from_numpy("string", ids),
        "created_at": Column.from_numpy("datetime", created.astype("datetime64[us]")),
        "country": Column.from_numpy("category", country, categories=COUNTRIES),
        "purchase_count": Column.from_numpy("int", counts),
        "items_purchased": Column.from_numpy("int", counts * 2),
        "total_spent": Column.from_numpy("float", spent),
        "last_purchase_at": Column.from_numpy(
            "datetime", last.astype("datetime64[us]"), missing=never
        ),
        "interaction_count": Column.from_numpy("int", zeros),
        "service_count": Column.from_numpy("int", zeros),
    }
    for spec in CUSTOMER_SCHEMA.columns:
        if spec.kind == "bool":
            columns[spec.name] = Column.from_numpy("bool", np.zeros(n, dtype=bool))
    arrays = {"ids": ids, "created": created, "counts": counts, "never": never, "last": last,
              "spent": spent, "country": country}  # fmt: skip
    return CustomerFrame(columns), arrays


def _iso(us: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(us.astype("datetime64[us]"), unit="us", timezone="UTC")


def load_postgres(store: PostgresStore, arrays: dict[str, Any]) -> None:
    """COPY the customers into the store's table (the columns the rule and the table need)."""
    n = len(arrays["ids"])
    country = np.array([*COUNTRIES, r"\N"], dtype=object)[arrays["country"]]
    last = np.where(arrays["never"], r"\N", _iso(arrays["last"]))
    consents = ["consent_email", "consent_sms", "consent_phone", "consent_post", "consent_push",
                "consent_messaging"]  # fmt: skip
    names = ["id", "version", "body", "name", "created_at", "country", "purchase_count",
             "items_purchased", "total_spent", "last_purchase_at", "interaction_count",
             "service_count", *consents, "erased"]  # fmt: skip
    created = _iso(arrays["created"])
    ids = arrays["ids"].tolist()
    counts = arrays["counts"].astype(str)
    items = (2 * arrays["counts"]).astype(str)
    spent = arrays["spent"].astype(str)
    fixed = "\t".join(["0", "0"] + ["f"] * (len(consents) + 1))
    with store._db.transaction() as connection, connection.cursor() as cursor:
        columns = ", ".join(names)
        with cursor.copy(f"COPY {store._db.table('customers')} ({columns}) FROM STDIN") as copy:
            for lo in range(0, n, 100_000):
                hi = min(n, lo + 100_000)
                rows = (
                    f"{ids[i]}\t1\t{{}}\t{ids[i]}\t{created[i]}\t{country[i]}\t{counts[i]}\t"
                    f"{items[i]}\t{spent[i]}\t{last[i]}\t{fixed}\n"
                    for i in range(lo, hi)
                )
                copy.write("".join(rows))
    with store._db.connection() as connection:
        connection.execute(f"ANALYZE {store._db.table('customers')}", ())


def segments(dsn: str, n: int, repeat: int) -> None:
    print(f"\n3. segment_members over {n:,} customers: {to_text(RULE)}")
    frame, arrays = make_frame(n, 7)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    store = PostgresStore(dsn, schema=schema, max_size=2)
    try:
        started = time.perf_counter()
        load_postgres(store, arrays)
        line("load (COPY, not timed below)", time.perf_counter() - started, width=30)
        numpy_s, flags = measure(lambda: mask(RULE, frame, AS_OF), repeat)
        expected = sorted(np.asarray(arrays["ids"])[np.asarray(flags)].tolist())
        pg_s, members = measure(lambda: store.segment_members(RULE, AS_OF), repeat)
        assert members == expected, "PostgreSQL and numpy disagree"
        line("numpy mask (baseline)", numpy_s, f"{len(expected):,} members", width=30)
        line("PostgreSQL segment_members", pg_s, f"{pg_s / numpy_s:6.1f}x numpy", width=30)
    finally:
        store.close()
        drop(dsn, schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=os.environ.get("CRMCORE_POSTGRES_DSN"))
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    parser.add_argument("--ops", type=int, help="operations per process (part 1)")
    parser.add_argument("--customers", type=int, help="customers of part 3")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("throughput", "writers", "segments"))
    args = parser.parse_args()
    if not args.dsn:
        sys.exit(
            "bench postgres needs a server: pass --dsn or set CRMCORE_POSTGRES_DSN (start a "
            "throwaway one with: TEARDOWN=(); source .ci/parts/10-postgres.sh)"
        )
    ops = args.ops or (100 if args.quick else 300)
    customers = args.customers or (100_000 if args.quick else 1_000_000)
    counts = [1, 2, 4, 8] if args.quick else [1, 2, 4, 8, 12, 16]
    print(f"crmcore bench postgres: Python {platform.python_version()}, numpy {np.__version__},")
    print(f"  {os.cpu_count()} CPUs, {ops} operations per process, medians of {args.repeat}")
    steps: dict[str, Callable[[], None]] = {
        "throughput": lambda: throughput(args.dsn, ops, args.repeat, Path(tempfile.mkdtemp())),
        "writers": lambda: writers(args.dsn, 20 if args.quick else 30, counts),
        "segments": lambda: segments(args.dsn, customers, args.repeat),
    }
    for name, step in steps.items():
        if args.only in (None, name):
            step()


if __name__ == "__main__":
    main()
