"""Benchmark: RFM scores and segments of a whole transaction log, against pandas and numpy.

Generates a synthetic :class:`~crmcore.columnar.TransactionLog` directly with
a seeded numpy RNG (lognormal purchase rates, so frequency and spend are
skewed and tie heavily at the low end; times over three years), then measures
in one process, as medians over ``--repeat`` rounds (each round runs every
contender once, in turn, so that a busy machine slows them alike), wall and
CPU time:

* ``crmcore.analytics.rfm.rfm_scores(log, as_of)``, **first call** on a log:
  reading the log as purchase occasions (``crmcore.columnar.occasions``: orders,
  returns; the result is cached on the log), recency / frequency / monetary per
  customer, quintile scores on ``rank(method="first")``, the composite code and
  the 11 named segments;
* the same call **again** on the same log (the occasions cached): the RFM work
  itself;
* a **hand-written numpy floor**: ``bincount`` / weighted ``bincount`` /
  ``maximum.at`` on the raw rows and ranks by one stable ``argsort`` per
  dimension (what the RFM work costs when written by hand, without reading
  orders and returns);
* the usual **pandas** recipe on the same data: ``groupby`` on the integer
  customer codes (pandas' fastest key, so the comparison favours pandas) with
  ``max`` / ``size`` / ``sum`` (amounts in integer units of 1/10,000, as crmcore sums
  them, so equal totals tie in both), then ``qcut(x.rank(method="first"), 5)`` per
  dimension, and the segment by a 125-entry lookup.

The scores and segments of all of them must be equal (the script fails
otherwise). Target (issue 18): crmcore <= 0.35x pandas.

Run from the repository root::

    .venv/bin/python benchmarks/bench_rfm.py --quick      # 100k customers / 1M rows
    .venv/bin/python benchmarks/bench_rfm.py              # 1M customers / 10M rows
"""

from __future__ import annotations

import argparse
import functools
import gc
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from _timing import line, pandas_transactions, peak_rss_gb

from crmcore.analytics.rfm import rfm_scores
from crmcore.analytics.rfm_segments import RFM_SEGMENTS
from crmcore.columnar import STRING_DTYPE, Column, TransactionLog
from crmcore.kernel.clock import EPOCH

try:
    import pandas as pd
except ImportError:  # pragma: no cover - runs without the extra, minus the baseline
    pd = None  # type: ignore[assignment]

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
DAY_US = 86_400_000_000


def make_log(customers: int, transactions: int, seed: int) -> TransactionLog:
    """``transactions`` rows over ``customers`` customers (each buys at least once)."""
    rng = np.random.default_rng(seed)
    as_us = (AS_OF - EPOCH) // timedelta(microseconds=1)
    rate = rng.lognormal(0.0, 1.0, customers)
    more = max(transactions - customers, 0)
    codes = np.concatenate(
        [np.arange(min(customers, transactions)), rng.choice(customers, more, p=rate / rate.sum())]
    )
    codes = codes[rng.permutation(len(codes))]
    at = as_us - rng.integers(0, 3 * 365 * DAY_US, len(codes))
    basket = rng.lognormal(3.5, 0.6, customers)
    amount = np.round(rng.gamma(2.0, basket[codes] / 2.0), 2)
    ids = np.array([f"C{i:08d}" for i in range(customers)], dtype=STRING_DTYPE)
    return TransactionLog(
        {
            "customer_id": Column.from_numpy("string", ids[codes]),
            "at": Column.from_numpy("datetime", at.astype("datetime64[us]")),
            "amount": Column.from_numpy("float", amount),
        }
    )


def pandas_rfm(df: Any, as_of: datetime, lookup: Any) -> Any:
    """The notebook recipe: groupby + rank(first) + qcut, then the segment by lookup."""
    as_ts = pd.Timestamp(as_of)
    d = df[df["at"] <= as_ts]
    # Sum in integer cents-of-cents, the usual cure for float sums that differ in the last bit
    # (crmcore sums exactly the same way, so equal totals tie in both).
    units = (d["amount"] * 10_000).round().astype("int64")
    g = (
        d.assign(units=units)
        .groupby("customer", sort=True)
        .agg(last=("at", "max"), frequency=("at", "size"), units=("units", "sum"))
    )
    g["monetary"] = g["units"] / 10_000
    recency = (as_ts - g["last"]) / pd.Timedelta(days=1)
    r = pd.qcut(recency.rank(method="first"), 5, labels=[5, 4, 3, 2, 1]).astype("int8")
    f = pd.qcut(g["frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype("int8")
    m = pd.qcut(g["monetary"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype("int8")
    code = (r.astype("int64") - 1) * 25 + (f.astype("int64") - 1) * 5 + (m.astype("int64") - 1)
    segment = lookup[code.to_numpy()]
    return r.to_numpy(), f.to_numpy(), m.to_numpy(), segment


LEVELS = np.linspace(0, 1, 6)  # quintiles, as pandas.qcut(q=5)


def numpy_rfm(log: TransactionLog, as_of: datetime, lookup: Any) -> Any:
    """The hand-written numpy floor: group-bys on the raw rows, ranks by stable argsorts."""
    as_us = (as_of - EPOCH) // timedelta(microseconds=1)
    codes, t = log.customer_codes, log.at.view(np.int64)
    k = len(log.customer_ids)
    keep = t <= as_us
    codes, t = codes[keep], t[keep]
    units = np.rint(log["amount"].values[keep] * 10_000)
    frequency = np.bincount(codes, minlength=k)
    spend = np.bincount(codes, weights=units, minlength=k)
    last = np.full(k, np.iinfo(np.int64).min)
    np.maximum.at(last, codes, t)
    edges = np.quantile(np.arange(1, k + 1, dtype=np.float64), LEVELS)

    def quintile(values: Any) -> Any:
        ranks = np.empty(k)
        ranks[np.argsort(values, kind="stable")] = np.arange(1, k + 1)
        scores = np.searchsorted(edges, ranks, side="left")
        scores[ranks == edges[0]] = 1
        return scores.astype(np.int8)

    r = (6 - quintile(as_us - last)).astype(np.int8)
    f, m = quintile(frequency), quintile(spend)
    code = (r.astype(np.int64) - 1) * 25 + (f.astype(np.int64) - 1) * 5 + (m - 1)
    return r, f, m, lookup[code]


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of one call of ``fn`` (after a GC), and its result."""
    gc.collect()
    w0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - w0, time.process_time() - c0, result


def same(table: Any, scores: Any) -> bool:
    """Whether ``(r, f, m, segment codes)`` equal the table's."""
    r, f, m, segment = scores
    return bool(
        np.array_equal(table.r, r)
        and np.array_equal(table.f, f)
        and np.array_equal(table.m, m)
        and np.array_equal(table.segment_codes, segment)
    )


def run(customers: int, transactions: int, repeats: int, seed: int) -> None:
    """Generate the data, time the contenders round by round and print the results."""
    print(
        f"crmcore RFM benchmark: python {platform.python_version()}, numpy {np.__version__}, "
        f"pandas {pd.__version__ if pd is not None else 'not installed'}"
    )
    t0 = time.perf_counter()
    log = make_log(customers, transactions, seed)
    print(
        f"data: {len(log.customer_ids):,} customers, {len(log):,} transactions, as of "
        f"{AS_OF.date()}; built in {time.perf_counter() - t0:.1f} s; median of {repeats} "
        "round(s), wall and CPU time"
    )
    lookup = RFM_SEGMENTS.lookup()
    df = pandas_transactions(log) if pd is not None else None
    names = ("first", "again", "numpy", "pandas")
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    table = None
    for _ in range(repeats):
        fresh = TransactionLog({name: log[name] for name in log.names})  # nothing cached yet
        contenders: list[tuple[str, Callable[[], Any]]] = [
            ("first", functools.partial(rfm_scores, fresh, AS_OF)),
            ("again", functools.partial(rfm_scores, fresh, AS_OF)),
            ("numpy", functools.partial(numpy_rfm, log, AS_OF, lookup)),
        ]
        if df is not None:
            contenders.append(("pandas", functools.partial(pandas_rfm, df, AS_OF, lookup)))
        for name, fn in contenders:
            w, c, result = timed(fn)
            wall[name].append(w)
            cpu[name].append(c)
            if name in ("first", "again"):
                assert table is None or same(
                    result, (table.r, table.f, table.m, table.segment_codes)
                )
                table = result
            else:
                assert table is not None
                assert same(table, result), f"{name}: the scores differ from crmcore's"
            del result
        del fresh
    assert table is not None
    med_w = {name: statistics.median(v) for name, v in wall.items() if v}
    med_c = {name: statistics.median(v) for name, v in cpu.items() if v}

    def ratio(name: str, base: str) -> str:
        if base not in med_w:
            return ""
        return f"/{base} {med_w[name] / med_w[base]:.2f}x (CPU {med_c[name] / med_c[base]:.2f}x)"

    per = f"{med_w['first'] / len(table) * 1e9:.0f} ns/customer"
    line(
        "crmcore rfm_scores, first call on a log",
        med_w["first"],
        f"CPU {med_c['first']:.3f} s; {ratio('first', 'pandas')} (target <= 0.35x); {per}",
    )
    line(
        "crmcore rfm_scores again (occasions cached)",
        med_w["again"],
        f"CPU {med_c['again']:.3f} s; {ratio('again', 'pandas')}; {ratio('again', 'numpy')}",
    )
    line(
        "numpy floor (bincount, maximum.at, argsort)",
        med_w["numpy"],
        f"CPU {med_c['numpy']:.3f} s; same scores: True",
    )
    if "pandas" in med_w:
        line(
            "pandas groupby + rank(first) + qcut",
            med_w["pandas"],
            f"CPU {med_c['pandas']:.3f} s; same scores: True",
        )
    else:
        print("  pandas not installed: the pandas baseline is skipped")
    report = table.summary()
    print(
        "segments: "
        + ", ".join(f"{s.name} {s.share:.1%}" for s in report.segments if s.share is not None)
    )
    print(f"peak RSS: {peak_rss_gb():.2f} GB")


def main(argv: list[str] | None = None) -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="rounds (medians)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true", help="10x smaller data")
    args = parser.parse_args(argv)
    customers, transactions = args.customers, args.transactions
    if args.quick:
        customers, transactions = customers // 10, transactions // 10
    if customers < 1 or transactions < 1 or args.repeat < 1:
        parser.error("sizes and --repeat must be positive")
    run(customers, transactions, args.repeat, args.seed)


if __name__ == "__main__":
    main()
