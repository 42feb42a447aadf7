"""Benchmark: the acquisition-cohort retention matrix of a whole log, against pandas.

Generates a synthetic :class:`~crmcore.columnar.TransactionLog` directly with
a seeded numpy RNG (customers acquired over three years, each buying at a
lognormal rate from their acquisition on), then measures in one process, as
the median wall time over ``--repeat`` runs:

* ``crmcore.analytics.cohorts.cohort_matrix(log, as_of)``: monthly cohorts x
  months since acquisition, distinct active customers and revenue per cell;
* the same matrix in idiomatic pandas: month numbers from the ``.dt``
  accessor, the first month per customer by ``groupby().transform("min")``,
  distinct (customer, offset) pairs by ``drop_duplicates``, then
  ``groupby([cohort, offset])`` sizes and revenue sums, unstacked. pandas
  gets integer customer codes (its fastest key). Its matrix is checked to
  equal crmcore's.

Run from the repository root::

    .venv/bin/python benchmarks/bench_cohorts.py --quick   # 100k customers / 1M rows
    .venv/bin/python benchmarks/bench_cohorts.py           # 1M customers / 10M rows
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

from crmcore.analytics.cohorts import cohort_matrix
from crmcore.columnar import STRING_DTYPE, Column, TransactionLog
from crmcore.kernel.clock import EPOCH

try:
    import pandas as pd
except ImportError:  # pragma: no cover - runs without the extra, minus the baseline
    pd = None  # type: ignore[assignment]

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
DAY_US = 86_400_000_000


def make_log(customers: int, transactions: int, seed: int) -> TransactionLog:
    """``transactions`` rows over ``customers`` customers acquired over three years."""
    rng = np.random.default_rng(seed)
    as_us = (AS_OF - EPOCH) // timedelta(microseconds=1)
    start = as_us - rng.integers(0, 3 * 365 * DAY_US, customers)
    rate = rng.lognormal(0.0, 1.0, customers) * (as_us - start) / DAY_US
    more = max(transactions - customers, 0)
    codes = np.concatenate(
        [np.arange(min(customers, transactions)), rng.choice(customers, more, p=rate / rate.sum())]
    )
    first = np.arange(len(codes)) < min(customers, transactions)
    # The first row of each customer is the acquisition; the others fall after it.
    at = np.where(
        first, start[codes], start[codes] + rng.random(len(codes)) * (as_us - start[codes])
    )
    order = rng.permutation(len(codes))
    codes, at = codes[order], at[order].astype(np.int64)
    amount = np.round(rng.gamma(2.0, 25.0, len(codes)), 2)
    ids = np.array([f"C{i:08d}" for i in range(customers)], dtype=STRING_DTYPE)
    return TransactionLog(
        {
            "customer_id": Column.from_numpy("string", ids[codes]),
            "at": Column.from_numpy("datetime", at.astype("datetime64[us]")),
            "amount": Column.from_numpy("float", amount),
        }
    )


def pandas_cohorts(df: Any, as_of: datetime) -> tuple[Any, Any]:
    """Distinct active customers and revenue per (cohort month, months since acquisition)."""
    d = df[df["at"] <= pd.Timestamp(as_of)]
    month = d["at"].dt.year * 12 + d["at"].dt.month
    cohort = month.groupby(d["customer"]).transform("min")
    frame = pd.DataFrame(
        {"customer": d["customer"], "cohort": cohort, "k": month - cohort, "amount": d["amount"]}
    )
    revenue = frame.groupby(["cohort", "k"])["amount"].sum().unstack(fill_value=0)
    pairs = frame.drop_duplicates(["customer", "k"])
    active = pairs.groupby(["cohort", "k"]).size().unstack(fill_value=0)
    return active, revenue


def run(customers: int, transactions: int, repeats: int, seed: int) -> None:
    """Generate the data, time both paths and print the results."""
    print(
        f"crmcore cohort benchmark: python {platform.python_version()}, numpy {np.__version__}, "
        f"pandas {pd.__version__ if pd is not None else 'not installed'}"
    )
    t0 = time.perf_counter()
    log = make_log(customers, transactions, seed)
    print(
        f"data: {len(log.customer_ids):,} customers, {len(log):,} transactions, as of "
        f"{AS_OF.date()}; built in {time.perf_counter() - t0:.1f} s; median of {repeats} run(s)"
    )
    ours, cm = measure(lambda: cohort_matrix(log, AS_OF), repeats)
    rows, columns = cm.shape
    line("crmcore cohort_matrix (monthly)", ours, f"{rows} cohorts x {columns} offsets")
    if pd is not None:
        df = pandas_transactions(log)
        theirs, (active, revenue) = measure(lambda: pandas_cohorts(df, AS_OF), repeats)
        start = cm.starts[0].year * 12 + cm.starts[0].month  # pandas' cohort key of row 0
        cells = {"index": range(start, start + rows), "columns": range(columns)}
        full = active.reindex(**cells, fill_value=0).to_numpy()
        money = revenue.reindex(**cells, fill_value=0.0).to_numpy()
        same = np.array_equal(cm.active, full) and np.allclose(cm.revenue, money)
        line(
            "pandas transform + drop_duplicates + groupby",
            theirs,
            f"crmcore/pandas = {ours / theirs:.2f}x (target <= 0.5x); same matrix: {same}",
        )
        del df
        gc.collect()
    curve = cm.retention_curve()
    shown = ", ".join(f"+{k}: {r:.1%}" for k, r in enumerate(curve[:7]) if r is not None)
    print(f"retention curve: {shown}")
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
