"""Benchmark: RFM scores and segments of a whole transaction log, against pandas.

Generates a synthetic :class:`~crmcore.columnar.TransactionLog` directly with
a seeded numpy RNG (lognormal purchase rates, so frequency and spend are
skewed and tie heavily at the low end; times over three years), then measures
in one process, as the median wall time over ``--repeat`` runs:

* ``crmcore.analytics.rfm.rfm_scores(log, as_of)``: recency / frequency /
  monetary per customer, quintile scores on ``rank(method="first")``, the
  composite code and the 11 named segments;
* the usual pandas recipe on the same data: ``groupby`` on the integer
  customer codes (pandas' fastest key, so the comparison favours pandas) with
  ``max`` / ``size`` / ``sum`` (amounts in integer units of 1/10,000, as crmcore sums
  them, so equal totals tie in both), then ``qcut(x.rank(method="first"), 5)`` per
  dimension, and the segment by a 125-entry lookup. Its scores are checked
  to equal crmcore's.

Run from the repository root::

    .venv/bin/python benchmarks/bench_rfm.py --quick      # 100k customers / 1M rows
    .venv/bin/python benchmarks/bench_rfm.py              # 1M customers / 10M rows
"""

from __future__ import annotations

import argparse
import gc
import platform
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from _timing import line, measure, pandas_transactions, peak_rss_gb

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


def run(customers: int, transactions: int, repeats: int, seed: int) -> None:
    """Generate the data, time both paths and print the results."""
    print(
        f"crmcore RFM benchmark: python {platform.python_version()}, numpy {np.__version__}, "
        f"pandas {pd.__version__ if pd is not None else 'not installed'}"
    )
    t0 = time.perf_counter()
    log = make_log(customers, transactions, seed)
    print(
        f"data: {len(log.customer_ids):,} customers, {len(log):,} transactions, as of "
        f"{AS_OF.date()}; built in {time.perf_counter() - t0:.1f} s; median of {repeats} run(s)"
    )
    ours, table = measure(lambda: rfm_scores(log, AS_OF), repeats)
    line("crmcore rfm_scores (vectorised)", ours, f"{ours / len(table) * 1e9:.0f} ns/customer")
    if pd is not None:
        df = pandas_transactions(log)
        lookup = RFM_SEGMENTS.lookup()
        theirs, (r, f, m, segment) = measure(lambda: pandas_rfm(df, AS_OF, lookup), repeats)
        same = (
            np.array_equal(table.r, r)
            and np.array_equal(table.f, f)
            and np.array_equal(table.m, m)
            and np.array_equal(table.segment_codes, segment)
        )
        line(
            "pandas groupby + rank(first) + qcut",
            theirs,
            f"crmcore/pandas = {ours / theirs:.2f}x (target <= 0.5x); same scores: {same}",
        )
        del df
        gc.collect()
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
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
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
