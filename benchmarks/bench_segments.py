"""Benchmark: the segment mask of a 4-predicate rule, against numpy, Python and pandas.

Builds a :class:`~crmcore.columnar.CustomerFrame` of synthetic customers
straight from seeded numpy arrays (no records), then measures in one
process, as the median wall time over ``--repeat`` runs, the rule

    total_spent >= 500 and country in ("CN", "TW")
    and last_purchase_at within 90 days and purchase_count >= 3

evaluated by:

* ``crmcore.segments.mask(rule, frame, as_of)``: the vectorised back end
  (type check and resolution included in the time);
* hand-written numpy over the same arrays (the two country codes looked up
  once and compared with ``==``; ``NaT`` compares false by itself), the
  floor any vectorised evaluator can reach;
* the per-record evaluator ``crmcore.segments.matches`` on a random sample of
  records (prepared beforehand), scaled to the whole population;
* pandas ``DataFrame.query`` of the same predicate over a DataFrame of the
  four columns (country categorical, last purchase a tz-aware datetime).

All four results are checked to be equal. Run from the repository root::

    .venv/bin/python benchmarks/bench_segments.py --quick   # 100k customers
    .venv/bin/python benchmarks/bench_segments.py           # 1M customers
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from _timing import measure, peak_rss_gb

from crmcore.columnar import STRING_DTYPE, Column, CustomerFrame
from crmcore.columnar.schema import CUSTOMER_SCHEMA
from crmcore.kernel.clock import EPOCH
from crmcore.segments.evaluate import matches
from crmcore.segments.evaluate_batch import mask
from crmcore.segments.rules import And, Compare, Duration, Field, InList, Literal, Within

try:
    import pandas as pd
except ImportError:  # pragma: no cover - runs without the extra, minus the baseline
    pd = None  # type: ignore[assignment]

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
DAY_US = 86_400_000_000
COUNTRIES = ("AU", "BR", "CN", "DE", "FR", "GB", "IN", "JP", "SG", "TW", "US")

RULE = And(
    (
        Compare(Field("total_spent"), ">=", Literal(500)),
        InList(Field("country"), (Literal("CN"), Literal("TW"))),
        Within(Field("last_purchase_at"), Duration(90, "days")),
        Compare(Field("purchase_count"), ">=", Literal(3)),
    )
)


def make_frame(n: int, seed: int) -> CustomerFrame:
    """``n`` customers built directly from numpy arrays (required columns plus the rule's)."""
    rng = np.random.default_rng(seed)
    as_us = (AS_OF - EPOCH) // timedelta(microseconds=1)
    ids = np.strings.add("C", np.arange(n).astype(STRING_DTYPE))
    created = as_us - rng.integers(0, 5 * 365 * DAY_US, n)
    counts = rng.poisson(3, n)
    never = counts == 0
    last = created + ((as_us - created) * rng.random(n)).astype(np.int64)
    spent = np.round(rng.lognormal(5, 1.2, n) * (counts > 0), 2)
    country = rng.integers(-1, len(COUNTRIES), n)  # -1: missing
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
        "interaction_count": Column.from_numpy("int", np.zeros(n, dtype=np.int64)),
        "service_count": Column.from_numpy("int", np.zeros(n, dtype=np.int64)),
    }
    for spec in CUSTOMER_SCHEMA.columns:
        if spec.kind == "bool":
            columns[spec.name] = Column.from_numpy("bool", np.zeros(n, dtype=bool))
    return CustomerFrame(columns)


def numpy_mask(frame: CustomerFrame) -> Any:
    """The rule written by hand in numpy over the frame's arrays."""
    country = frame["country"]
    codes = country.codes
    cn, tw = country.code_of("CN"), country.code_of("TW")
    last = frame["last_purchase_at"].values
    cutoff = np.datetime64(
        ((AS_OF - timedelta(days=90)) - EPOCH) // timedelta(microseconds=1), "us"
    )
    end = np.datetime64((AS_OF - EPOCH) // timedelta(microseconds=1), "us")
    return (
        (frame["total_spent"].values >= 500)
        & ((codes == cn) | (codes == tw))
        & (last >= cutoff)
        & (last <= end)
        & (frame["purchase_count"].values >= 3)
    )


def pandas_frame(frame: CustomerFrame) -> Any:
    """The four columns as a pandas DataFrame (country categorical, UTC datetimes)."""
    country = frame["country"]
    return pd.DataFrame(
        {
            "total_spent": frame["total_spent"].values,
            "country": pd.Categorical.from_codes(
                country.codes, categories=list(country.categories)
            ),
            "last_purchase_at": pd.Series(frame["last_purchase_at"].values).dt.tz_localize("UTC"),
            "purchase_count": frame["purchase_count"].values,
        }
    )


def pandas_query(df: Any) -> Any:
    """The rule as ``DataFrame.query``; returns a bool mask."""
    cutoff = pd.Timestamp(AS_OF - timedelta(days=90))  # noqa: F841 - used by the query
    end = pd.Timestamp(AS_OF)  # noqa: F841 - used by the query
    hits = df.query(
        "total_spent >= 500 and country in ['CN', 'TW'] and last_purchase_at >= @cutoff"
        " and last_purchase_at <= @end and purchase_count >= 3"
    )
    out = np.zeros(len(df), dtype=bool)
    out[hits.index.to_numpy()] = True
    return out


def line(label: str, seconds: float, note: str = "") -> None:
    """Print one result line."""
    print(f"  {label:<52} {seconds:>9.4f} s  {note}")
    sys.stdout.flush()


def run(customers: int, repeats: int, sample: int, seed: int) -> None:
    """Build the frame, time everything and print the results."""
    print(
        f"crmcore segment mask benchmark: python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__ if pd is not None else 'not installed'}"
    )
    t0 = time.perf_counter()
    frame = make_frame(customers, seed)
    print(
        f"data: {customers:,} customers built in {time.perf_counter() - t0:.1f} s; "
        f"median of {repeats} run(s); seed {seed}"
    )

    ours, result = measure(lambda: mask(RULE, frame, AS_OF), repeats)
    hits = int(result.sum())
    line(
        "crmcore mask (4 predicates)",
        ours,
        f"{hits:,} matches; {ours / customers * 1e9:.1f} ns/customer",
    )

    hand, expected = measure(lambda: numpy_mask(frame), repeats)
    assert np.array_equal(result, expected)
    line("hand-written numpy", hand, f"crmcore/numpy = {ours / hand:.2f}x (target <= 2x)")

    rng = np.random.default_rng(seed + 1)
    chosen = np.sort(rng.choice(customers, min(sample, customers), replace=False))
    records = frame.take(chosen).to_records()

    def per_record() -> list[bool]:
        return [matches(RULE, r, AS_OF) for r in records]

    slow, flags = measure(per_record, max(1, min(repeats, 3)))
    assert flags == result[chosen].tolist()
    scaled = slow / len(records) * customers
    line(
        f"per-record matches, {len(records):,} sampled, scaled",
        scaled,
        f"{slow / len(records) * 1e6:.1f} us/customer; {scaled / ours:,.0f}x slower than mask"
        " (target >= 100x)",
    )

    if pd is not None:
        df = pandas_frame(frame)
        theirs, got = measure(lambda: pandas_query(df), repeats)
        assert np.array_equal(got, result)
        line(
            "pandas DataFrame.query", theirs, f"crmcore/pandas = {ours / theirs:.2f}x (target < 1)"
        )
    print(f"peak RSS: {peak_rss_gb():.2f} GB")


def main(argv: list[str] | None = None) -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7, help="runs per measurement (median)")
    parser.add_argument("--sample", type=int, default=5_000, help="records for matches()")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true", help="10x fewer customers")
    args = parser.parse_args(argv)
    customers, sample = args.customers, args.sample
    if args.quick:
        customers, sample = customers // 10, sample // 5
    if customers < 1 or args.repeat < 1 or sample < 1:
        parser.error("sizes and --repeat must be positive")
    run(customers, args.repeat, sample, args.seed)


if __name__ == "__main__":
    main()
