"""Benchmark: the segment mask against the hand-written numpy floor, Python and pandas.

Builds a ``CustomerFrame`` of synthetic customers straight from seeded numpy arrays (no
records) and measures in one process, as the median wall time over ``--repeat`` runs taken in
turns with the floor (the median CPU time of the process in brackets: on a shared machine it
leaves out the time other processes held the core), two rules:

* ``int-in``, the rule of issue 18 (three predicates, an ``in`` on an int column)::

      total_spent >= 500 and purchase_count in (1, 4, 6, 9)
      and last_purchase_at after 90 days ago

  measured twice: as the frame keeps ``purchase_count`` (the narrowest integer type that holds
  it, ``int8``), and with one customer of 2**40 purchases, which makes the column ``int64``;

* ``category-in`` (four predicates, an ``in`` on a category column)::

      total_spent >= 500 and country in ("CN", "TW")
      and last_purchase_at within 90 days and purchase_count >= 3

each evaluated by

* ``crmcore.segments.mask(rule, frame, as_of)``: the numpy back end (type check and
  resolution included in the time);
* the **floor**: the same rule written by hand in numpy the way an expert would, knowing the
  data — 64K-row blocks with ``out=`` buffers, the ``in`` as a lookup table (``np.take`` of a
  bool table), datetimes compared on their ``int64`` view (``NaT`` is the smallest ``int64``,
  so it fails ``>`` by itself), no missing-value handling where the data has none;
* at the first size only: the per-record evaluator ``crmcore.segments.matches`` on a random
  sample of records (prepared beforehand), scaled to the whole population, and pandas
  ``DataFrame.query`` over a DataFrame of the rule's columns.

Each rule runs at 1M customers and (without ``--quick``) at 10M. Every result is asserted equal
to the floor's. Run from the repository root::

    python3 scripts/dev.py bench segments --quick   # 1M customers
    python3 scripts/dev.py bench segments           # 1M and 10M customers
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import numpy as np
from _timing import measure, peak_rss_gb

from crmcore.columnar import STRING_DTYPE, Column, CustomerFrame
from crmcore.columnar.schema import CUSTOMER_SCHEMA
from crmcore.kernel.clock import EPOCH
from crmcore.segments.evaluate import matches
from crmcore.segments.evaluate_batch import mask
from crmcore.segments.rules import (
    And,
    Compare,
    Duration,
    Field,
    InList,
    Literal,
    Predicate,
    TimeCompare,
    Within,
)

try:
    import pandas as pd
except ImportError:  # pragma: no cover - runs without the extra, minus the baseline
    pd = None  # type: ignore[assignment]

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
DAY_US = 86_400_000_000
AS_OF_US = (AS_OF - EPOCH) // timedelta(microseconds=1)
CUTOFF_US = AS_OF_US - 90 * DAY_US
COUNTRIES = ("AU", "BR", "CN", "DE", "FR", "GB", "IN", "JP", "SG", "TW", "US")
WANTED_COUNTS = (1, 4, 6, 9)
BLOCK = 65_536  # the floor's block: 64K rows

INT_IN = And(
    (
        Compare(Field("total_spent"), ">=", Literal(500)),
        InList(Field("purchase_count"), tuple(Literal(v) for v in WANTED_COUNTS)),
        TimeCompare(Field("last_purchase_at"), "after", Duration(90, "days")),
    )
)
CATEGORY_IN = And(
    (
        Compare(Field("total_spent"), ">=", Literal(500)),
        InList(Field("country"), (Literal("CN"), Literal("TW"))),
        Within(Field("last_purchase_at"), Duration(90, "days")),
        Compare(Field("purchase_count"), ">=", Literal(3)),
    )
)


def make_frame(n: int, seed: int) -> CustomerFrame:
    """``n`` customers built directly from numpy arrays (required columns plus the rules')."""
    rng = np.random.default_rng(seed)
    ids = np.strings.add("C", np.arange(n).astype(STRING_DTYPE))
    created = AS_OF_US - rng.integers(0, 5 * 365 * DAY_US, n)
    counts = rng.poisson(3, n)
    never = counts == 0
    last = created + ((AS_OF_US - created) * rng.random(n)).astype(np.int64)
    spent = np.round(rng.lognormal(5, 1.2, n) * (counts > 0), 2)
    country = rng.integers(-1, len(COUNTRIES), n)  # -1: missing
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
    del ids, created, last, spent, country
    for spec in CUSTOMER_SCHEMA.columns:
        if spec.kind == "bool":
            columns[spec.name] = Column.from_numpy("bool", np.zeros(n, dtype=bool))
    return CustomerFrame(columns)


def widen(frame: CustomerFrame) -> CustomerFrame:
    """``frame`` with one customer of 2**40 purchases: ``purchase_count`` needs ``int64``."""
    counts = frame["purchase_count"].values.astype(np.int64)
    counts[0] = 2**40
    columns = {name: frame.column(name) for name in frame.names}
    columns["purchase_count"] = Column.from_numpy("int", counts)
    return CustomerFrame(columns)


def _blocked(n: int, step: Callable[[int, int, Any, Any], None]) -> Any:
    """Run ``step(lo, hi, out_block, scratch_block)`` over 64K-row blocks of a fresh mask."""
    out = np.empty(n, dtype=bool)
    scratch = np.empty(min(n, BLOCK), dtype=bool)
    for lo in range(0, n, BLOCK):
        hi = min(n, lo + BLOCK)
        step(lo, hi, out[lo:hi], scratch[: hi - lo])
    return out


def floor_int_in(frame: CustomerFrame) -> Any:
    """``INT_IN`` by hand: 64K blocks, a lookup table for the ``in``, the int64 view of times."""
    spent = frame["total_spent"].values
    counts = frame["purchase_count"].values  # never missing, never negative: no mask, clip
    last = frame["last_purchase_at"].values.view(np.int64)
    table = np.zeros(max(WANTED_COUNTS) + 2, dtype=bool)  # the last entry: beyond the list
    table[list(WANTED_COUNTS)] = True

    def step(lo: int, hi: int, out: Any, scratch: Any) -> None:
        np.greater_equal(spent[lo:hi], 500.0, out=out)
        np.take(table, counts[lo:hi], out=scratch, mode="clip")
        out &= scratch
        np.greater(last[lo:hi], CUTOFF_US, out=scratch)
        out &= scratch

    return _blocked(len(spent), step)


def floor_category_in(frame: CustomerFrame) -> Any:
    """``CATEGORY_IN`` by hand: 64K blocks, a lookup table over the country codes."""
    spent = frame["total_spent"].values
    country = frame["country"]
    codes = country.codes
    table = np.zeros(len(country.categories) + 1, dtype=bool)  # the last entry: code -1
    table[[country.code_of("CN"), country.code_of("TW")]] = True
    counts = frame["purchase_count"].values
    last = frame["last_purchase_at"].values.view(np.int64)

    def step(lo: int, hi: int, out: Any, scratch: Any) -> None:
        np.greater_equal(spent[lo:hi], 500.0, out=out)
        np.take(table, codes[lo:hi], out=scratch, mode="wrap")
        out &= scratch
        np.greater(last[lo:hi], CUTOFF_US, out=scratch)
        out &= scratch
        np.less_equal(last[lo:hi], AS_OF_US, out=scratch)  # NaT is below, but > failed it
        out &= scratch
        np.greater_equal(counts[lo:hi], 3, out=scratch)
        out &= scratch

    return _blocked(len(spent), step)


def pandas_frame(frame: CustomerFrame) -> Any:
    """The rules' columns as a pandas DataFrame (country categorical, UTC datetimes)."""
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


PANDAS_QUERIES = {  # by case name
    "int-in": "total_spent >= 500 and purchase_count in @wanted and last_purchase_at > @cutoff",
    "category-in": (
        "total_spent >= 500 and country in ['CN', 'TW'] and last_purchase_at > @cutoff"
        " and last_purchase_at <= @end and purchase_count >= 3"
    ),
}


def pandas_query(df: Any, query: str) -> Any:
    """A rule as ``DataFrame.query``; returns a bool mask."""
    wanted = list(WANTED_COUNTS)  # noqa: F841 - used by the query
    cutoff = pd.Timestamp(AS_OF - timedelta(days=90))  # noqa: F841 - used by the query
    end = pd.Timestamp(AS_OF)  # noqa: F841 - used by the query
    hits = df.query(query)
    out = np.zeros(len(df), dtype=bool)
    out[hits.index.to_numpy()] = True
    return out


class Timing(NamedTuple):
    """Median wall and CPU seconds of one contender, and its last result."""

    wall: float
    cpu: float
    result: Any


def line(label: str, seconds: float, note: str = "") -> None:
    """Print one result line."""
    print(f"  {label:<36} {seconds:>8.4f} s  {note}")
    sys.stdout.flush()


# name: (rule, its floor, on the widened frame)
CASES: dict[str, tuple[Predicate, Callable[[CustomerFrame], Any], bool]] = {
    "int-in": (INT_IN, floor_int_in, False),
    "int-in, int64 column": (INT_IN, floor_int_in, True),
    "category-in": (CATEGORY_IN, floor_category_in, False),
}
TARGETS = {1_000_000: 1.5, 10_000_000: 2.0}


def interleaved(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, Timing]:
    """Median wall and CPU time of each function, run in turn ``repeats`` times (after a GC).

    Taking turns (in alternating order) exposes every contender to the same drift of a shared
    machine; the CPU time of the process (``time.process_time``) also leaves out the time other
    processes held the core.
    """
    wall: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    results: dict[str, Any] = {}
    names = list(fns)
    for turn in range(repeats):
        for name in names if turn % 2 == 0 else names[::-1]:
            fn = fns[name]
            results[name] = None
            gc.collect()
            w0, c0 = time.perf_counter(), time.process_time()
            results[name] = fn()
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - w0)
    return {
        name: Timing(statistics.median(wall[name]), statistics.median(cpu[name]), results[name])
        for name in fns
    }


def run_size(customers: int, repeats: int, sample: int, seed: int, baselines: bool) -> None:
    """Build one frame, time both rules on it and print the results."""
    t0 = time.perf_counter()
    frame = make_frame(customers, seed)
    print(
        f"{customers:,} customers (built in {time.perf_counter() - t0:.1f} s); "
        f"median of {repeats} interleaved runs, wall (cpu)"
    )
    df = pandas_frame(frame) if baselines and pd is not None else None
    wide = widen(frame)
    target = TARGETS.get(customers)
    for name, (rule, floor, widened) in CASES.items():
        data = wide if widened else frame
        timed = interleaved(
            {
                "mask": lambda rule=rule, data=data: mask(rule, data, AS_OF),
                "floor": lambda floor=floor, data=data: floor(data),
            },
            repeats,
        )
        ours, hand = timed["mask"], timed["floor"]
        result = ours.result
        assert np.array_equal(result, hand.result), f"{name}: mask differs from the floor"
        hits = int(result.sum())
        assert 0 < hits < customers, f"{name}: a trivial rule ({hits:,} matches)"
        goal = f" (target <= {target}x)" if target is not None else ""
        print(f" {name} (purchase_count {data['purchase_count'].values.dtype}):")
        line(
            "crmcore mask",
            ours.wall,
            f"({ours.cpu:.4f} s cpu) {hits:,} matches; {ours.wall / customers * 1e9:.2f} ns/row",
        )
        line(
            "hand numpy floor (64K blocks, table)",
            hand.wall,
            f"({hand.cpu:.4f} s cpu) crmcore/floor = {ours.wall / hand.wall:.2f}x wall, "
            f"{ours.cpu / hand.cpu:.2f}x cpu{goal}",
        )
        if not baselines or widened:
            continue
        rng = np.random.default_rng(seed + 1)
        chosen = np.sort(rng.choice(customers, min(sample, customers), replace=False))
        records = frame.take(chosen).to_records()

        def per_record(rule: Predicate = rule, records: list[Any] = records) -> list[bool]:
            return [matches(rule, r, AS_OF) for r in records]

        slow, flags = measure(per_record, max(1, min(repeats, 3)))
        assert flags == result[chosen].tolist()
        scaled = slow / len(records) * customers
        line(
            "per-record matches, scaled",
            scaled,
            f"{len(records):,} sampled; {scaled / ours.wall:,.0f}x slower than mask"
            " (target >= 100x)",
        )
        if df is not None:
            query = PANDAS_QUERIES[name]
            theirs, got = measure(lambda query=query: pandas_query(df, query), repeats)
            assert np.array_equal(got, result)
            line(
                "pandas DataFrame.query",
                theirs,
                f"crmcore/pandas = {ours.wall / theirs:.2f}x (target < 1)",
            )


def main(argv: list[str] | None = None) -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000, help="the first size")
    parser.add_argument("--repeat", type=int, default=15, help="runs per measurement (median)")
    parser.add_argument("--sample", type=int, default=2_000, help="records for matches()")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true", help="the first size only")
    args = parser.parse_args(argv)
    if args.customers < 1 or args.repeat < 1 or args.sample < 1:
        parser.error("sizes and --repeat must be positive")
    sizes = [args.customers] if args.quick else [args.customers, 10 * args.customers]
    print(
        f"crmcore segment mask benchmark: python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__ if pd is not None else 'not installed'}"
        f"; seed {args.seed}"
    )
    for i, customers in enumerate(sizes):
        run_size(customers, args.repeat, args.sample, args.seed, baselines=i == 0)
    print(f"peak RSS: {peak_rss_gb():.2f} GB")


if __name__ == "__main__":
    main()
