"""Benchmark: building crmcore frames from records and CSV, against pandas.

Generates synthetic customers (every CUSTOMER_SCHEMA column plus two
``attr.*`` columns) and transactions with a seeded numpy RNG, then measures,
in one process, the median wall time over ``--repeat`` runs of:

* ``CustomerFrame.from_records`` and ``TransactionLog.from_records``;
* ``CustomerFrame.from_csv`` and ``TransactionLog.from_csv`` (the CSV files
  are written once, by ``to_csv``, into a temporary directory);
* when pandas is installed, the pandas equivalents on the same data:
  ``pd.DataFrame(records)`` and ``pd.read_csv(path, parse_dates=[...])``.

For each it prints the rows, median seconds, bytes per row of the result
(``memory_bytes() / rows`` for crmcore, ``memory_usage(deep=True)`` for
pandas) and the ratio of crmcore's time to pandas' (below 1: crmcore is
faster). crmcore validates every value (aware datetimes, types, required
columns); pandas only infers dtypes, so the comparison favours pandas.

CSV reads are timed with both of crmcore's engines (``engine="python"``, the
built-in parser, and ``engine="pyarrow"``, pyarrow's CSV reader, used
automatically when installed) against ``pd.read_csv`` with date parsing, on the
same file in the same run; the two engines' frames are checked equal. The
last lines print each frame's memory against its *raw column bytes*: what the
data needs in the narrowest fixed-width layout (narrowest integers, 8-byte
floats and times, 1-byte booleans, the narrowest codes for categories and
ids plus their labels, UTF-8 bytes plus an 8-byte offset per string), as
``benchmarks/bench_csv.py`` computes it; that benchmark times the 500k-row
transaction file of the performance targets.

Run from the repository root::

    .venv/bin/python benchmarks/bench_frames.py --quick        # 100k / 1M rows, < 1 min
    .venv/bin/python benchmarks/bench_frames.py                # 1M customers, 10M transactions
    .venv/bin/python benchmarks/bench_frames.py --customers 200000 --transactions 2000000 --repeat 5
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
from _timing import measure, peak_rss_gb
from bench_csv import raw_bytes

from crmcore.columnar import CUSTOMER_SCHEMA, CustomerFrame, TransactionLog

try:
    import pandas as pd
except ImportError:  # pragma: no cover - the benchmark runs without the extra, minus baselines
    pd = None  # type: ignore[assignment]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
START_US = 1_420_070_400_000_000  # 2015-01-01
SPAN_US = 10 * 365 * 86_400 * 1_000_000
COUNTRIES = ["CN", "TW", "US", "DE", "FR", "GB", "JP", "KR", "BR", "IN", "ES", "IT"]
CITIES = [f"City {i}" for i in range(300)]
REGIONS = [f"Region {i}" for i in range(40)]
TAG_POOL = [f"tag_{i}" for i in range(24)]
CHANNELS = ["web", "store", "app", "phone", "marketplace"]
CATEGORIES = ["shoes", "apparel", "outdoor", "books", "beauty", "home", "toys"]


def _aware(micros: np.ndarray[Any, Any]) -> list[datetime]:
    """Aware UTC datetimes from int64 microseconds since the epoch."""
    return list(map(EPOCH.__add__, micros.astype("timedelta64[us]").astype(object)))


def _maybe(rng: np.random.Generator, values: list[Any], p_missing: float) -> list[Any]:
    drop = rng.random(len(values)) < p_missing
    return [None if d else v for v, d in zip(values, drop.tolist(), strict=True)]


def _only(keep: np.ndarray[Any, Any], values: list[Any]) -> list[Any]:
    return [v if k else None for v, k in zip(values, keep.tolist(), strict=True)]


def _pick(rng: np.random.Generator, pool: Sequence[Any], n: int) -> list[Any]:
    return [pool[i] for i in rng.integers(0, len(pool), n).tolist()]


def _tag_sets(rng: np.random.Generator, n: int) -> list[frozenset[str]]:
    combos = [
        frozenset(rng.choice(TAG_POOL, size=int(rng.integers(0, 4)), replace=False).tolist())
        for _ in range(256)
    ]
    return _pick(rng, combos, n)


def customer_records(n: int, seed: int) -> list[dict[str, object]]:
    """``n`` synthetic customer records with every schema column and two attributes."""
    rng = np.random.default_rng(seed)
    created = START_US + rng.integers(0, SPAN_US, n)
    first = created + rng.integers(0, SPAN_US // 10, n)
    last = first + rng.integers(0, SPAN_US // 10, n)
    purchases = rng.integers(0, 40, n)
    bought = purchases > 0
    birth = (rng.integers(-20_000, 12_000, n)).astype("datetime64[D]").astype(object).tolist()
    cols: dict[str, list[Any]] = {
        "id": [f"c{i:08d}" for i in range(n)],
        "name": [f"Customer {i}" for i in range(n)],
        "email": _maybe(rng, [f"customer.{i}@example.com" for i in range(n)], 0.2),
        "phone": _maybe(rng, [f"+86138{i:08d}" for i in range(n)], 0.4),
        "created_at": _aware(created),
        "birth_date": _maybe(rng, birth, 0.3),
        "gender": _maybe(rng, _pick(rng, ["female", "male", "non_binary"], n), 0.2),
        "income_band": _maybe(rng, _pick(rng, ["low", "middle", "high"], n), 0.5),
        "education": _maybe(rng, _pick(rng, ["secondary", "bachelor", "master"], n), 0.5),
        "country": _maybe(rng, _pick(rng, COUNTRIES, n), 0.05),
        "region": _maybe(rng, _pick(rng, REGIONS, n), 0.3),
        "city": _maybe(rng, _pick(rng, CITIES, n), 0.3),
        "postal_code": _maybe(rng, [f"{i % 100000:05d}" for i in range(n)], 0.3),
        "tags": _tag_sets(rng, n),
        "interests": _tag_sets(rng, n),
        "lifestyle": _tag_sets(rng, n),
        "values": _tag_sets(rng, n),
        "purchase_count": purchases.tolist(),
        "items_purchased": (purchases * 2).tolist(),
        "total_spent": np.round(purchases * rng.gamma(2.0, 30.0, n), 2).tolist(),
        "currency": _only(bought, _pick(rng, ["CNY", "USD"], n)),
        "first_purchase_at": _only(bought, _aware(first)),
        "last_purchase_at": _only(bought, _aware(last)),
        "interaction_count": rng.integers(0, 100, n).tolist(),
        "last_interaction_at": _maybe(rng, _aware(last), 0.2),
        "service_count": rng.integers(0, 5, n).tolist(),
        "last_service_at": _maybe(rng, _aware(created), 0.6),
        **{
            spec.name: (rng.random(n) < 0.5).tolist()
            for spec in CUSTOMER_SCHEMA.columns
            if spec.name.startswith("consent_")
        },
        "erased": (rng.random(n) < 0.01).tolist(),
        "attr.loyalty_tier": _maybe(rng, _pick(rng, ["bronze", "silver", "gold"], n), 0.5),
        "attr.nps": _maybe(rng, rng.integers(0, 11, n).tolist(), 0.7),
    }
    names = list(cols)
    return list(map(dict, map(zip, repeat(names), zip(*cols.values(), strict=True))))


def transaction_records(n: int, customers: int, seed: int) -> list[dict[str, object]]:
    """``n`` synthetic purchases spread over ``customers`` customers."""
    rng = np.random.default_rng(seed)
    ids = [f"c{i:08d}" for i in range(customers)]
    cols: dict[str, list[Any]] = {
        "customer_id": _pick(rng, ids, n),
        "at": _aware(START_US + rng.integers(0, SPAN_US, n)),
        "amount": np.round(rng.gamma(2.0, 30.0, n), 2).tolist(),
        "currency": _pick(rng, ["CNY", "USD", "EUR"], n),
        "order_id": [f"o{i:09d}" for i in range(n)],
        "items": rng.integers(1, 6, n).tolist(),
        "channel": _pick(rng, CHANNELS, n),
        "category": _maybe(rng, _pick(rng, CATEGORIES, n), 0.1),
    }
    names = list(cols)
    return list(map(dict, map(zip, repeat(names), zip(*cols.values(), strict=True))))


def _pandas_bytes(df: Any) -> int:
    return int(df.memory_usage(deep=True, index=False).sum())


class Table:
    """Prints result rows as they come."""

    def header(self, repeats: int, seed: int) -> None:
        """Name the environment and the baseline."""
        baseline = f"pandas {pd.__version__}" if pd is not None else "none (pandas not installed)"
        print(
            f"crmcore frames benchmark: python {platform.python_version()}, numpy {np.__version__}"
        )
        print(f"baseline: {baseline}; median of {repeats} run(s); seed {seed}")
        print(f"  {'operation':<42} {'rows':>11} {'median s':>9} {'B/row':>9} {'vs pandas':>9}")

    def add(self, op: str, rows: int, seconds: float, nbytes: int, baseline: float | None) -> None:
        """One result row; ``baseline`` is pandas' time for the same work."""
        ratio = "" if baseline is None else f"{seconds / baseline:9.2f}"
        per_row = nbytes / max(rows, 1)
        print(f"  {op:<42} {rows:>11,} {seconds:>9.3f} {per_row:>9.1f} {ratio}")
        sys.stdout.flush()


def compare(
    table: Table,
    rows: int,
    ours: tuple[str, Callable[[], Any]],
    theirs: tuple[str, Callable[[], Any]],
    repeats: int,
) -> Any:
    """Time pandas' way (if installed), then crmcore's, of building the same table."""
    baseline = None
    if pd is not None:
        label, build = theirs
        baseline, df = measure(build, repeats)
        table.add(f"pandas  {label}", rows, baseline, _pandas_bytes(df), None)
        del df
    label, build = ours
    seconds, frame = measure(build, repeats)
    table.add(f"crmcore {label}", rows, seconds, frame.memory_bytes(), baseline)
    return frame


def from_records_then_csv(
    table: Table,
    frame_type: type[CustomerFrame] | type[TransactionLog],
    records: list[dict[str, object]],
    label: str,
    csv_path: Path,
    repeats: int,
    timed: bool = True,
) -> None:
    """Time building from ``records`` (crmcore and pandas), then write the CSV once."""
    if not timed:
        frame_type.from_records(records).to_csv(csv_path)
        return
    frame = compare(
        table,
        len(records),
        (f"{frame_type.__name__}.from_records", lambda: frame_type.from_records(records)),
        (f"pd.DataFrame({label} records)", lambda: pd.DataFrame(records)),
        repeats,
    )
    frame.to_csv(csv_path)


def csv_engines(table: Table, frame_type: Any, path: Path, rows: int, repeats: int) -> None:
    """Time both engines against pandas on one file; check they agree; print memory."""
    dates = [s.name for s in frame_type.SCHEMA.columns if s.kind in ("datetime", "date")]
    frames = {}
    for engine in ("python", "pyarrow"):
        frames[engine] = compare(
            table,
            rows,
            (f"{frame_type.__name__}.from_csv({engine})",
             lambda e=engine: frame_type.from_csv(path, engine=e, float_ids=False)),
            (f"pd.read_csv({path.name})", lambda: pd.read_csv(path, parse_dates=dates)),
            repeats,
        )  # fmt: skip
    assert frames["python"] == frames["pyarrow"], "the engines disagree"
    frame = frames["python"]
    raw = raw_bytes(frame)
    print(
        f"  {frame_type.__name__} memory: {frame.memory_bytes() / max(rows, 1):.1f} B/row, "
        f"raw column bytes {raw / max(rows, 1):.1f} B/row: "
        f"{frame.memory_bytes() / max(raw, 1):.2f}x the raw column bytes"
    )


def run(customers: int, transactions: int, repeats: int, seed: int, csv_only: bool = False) -> None:
    """Generate the data, time every operation and print the table."""
    table = Table()
    table.header(repeats, seed)
    with tempfile.TemporaryDirectory(prefix="crmcore-bench-") as tmp:
        customer_csv = Path(tmp) / "customers.csv"
        transaction_csv = Path(tmp) / "transactions.csv"
        # Each data set lives only while its call runs, to bound peak memory.
        from_records_then_csv(
            table, CustomerFrame, customer_records(customers, seed), "customer", customer_csv,
            repeats, not csv_only,
        )  # fmt: skip
        from_records_then_csv(
            table, TransactionLog, transaction_records(transactions, customers, seed + 1),
            "transaction", transaction_csv, repeats, not csv_only,
        )  # fmt: skip
        gc.collect()
        csv_engines(table, CustomerFrame, customer_csv, customers, repeats)
        csv_engines(table, TransactionLog, transaction_csv, transactions, repeats)
    print(f"peak resident memory: {peak_rss_gb():.2f} GB")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--quick", action="store_true", help="10x fewer rows (< 1 minute)")
    parser.add_argument(
        "--csv-only", action="store_true", help="time only the CSV reads (and write the files)"
    )
    args = parser.parse_args(argv)
    customers, transactions = args.customers, args.transactions
    if args.quick:
        customers, transactions = customers // 10, transactions // 10
    run(customers, transactions, args.repeat, args.seed, args.csv_only)


if __name__ == "__main__":
    main()
