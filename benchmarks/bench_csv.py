"""Benchmark: a 500k-row transaction CSV into a ``TransactionLog``, against pandas.

Generates a transaction log with a seeded numpy RNG (100k customers, one
order per row, ISO 8601 times in UTC, amounts with two decimals, three
categorical columns, one with gaps), writes it once with ``to_csv`` and then
measures, in one process, interleaved so that the three share the machine's
load, the median over ``--repeat`` runs of:

* **pandas**: ``pd.read_csv(path)`` then ``pd.to_datetime(df["at"], format="ISO8601",
  utc=True)`` (the baseline of every ratio; pandas 3 keeps text in Arrow arrays when pyarrow is
  installed), and for information the same with text in Python strings, as pandas reads where
  pyarrow is absent;
* **crmcore, built-in parser**: ``TransactionLog.from_csv(path, engine="python")``, numpy
  only (what runs where pyarrow is not installed);
* **crmcore, pyarrow**: ``TransactionLog.from_csv(path, engine="pyarrow")``;
* **the floor of that**: ``pyarrow.csv.read_csv`` alone, with the frame's column types
  (no checks, no encoded ids, no frame): no pyarrow-based reader can be faster; and the same
  followed by numbering the two id columns with crmcore's encoder (what a reader returning
  encoded ids does at the least), whose CPU time divided by the cores bounds the wall time any
  such reader can reach on this machine.

Each line gives the wall-clock median, the CPU seconds of that run (all threads) and
the ratio of wall times to pandas' (below 1: crmcore is faster). crmcore validates
every cell and builds dictionary-encoded ids and categories; pandas infers dtypes and
keeps ids as strings, so the comparison favours pandas. Both engines' frames are
checked equal to the log that was written.

The last lines print the frame's memory against its *raw column bytes*: what the
data needs in the narrowest fixed-width layout (narrowest integers, 8-byte floats
and times, 1-byte booleans, the narrowest codes for categories and ids plus their
labels, UTF-8 bytes plus an 8-byte offset per string), for the log and for a
customer frame (``--customers`` rows, read back the same way).

Run from the repository root::

    .venv/bin/python benchmarks/bench_csv.py --quick     # 100k rows, a few seconds
    .venv/bin/python benchmarks/bench_csv.py             # 500k rows (the target's file)
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _timing import peak_rss_gb

from crmcore.columnar import STRING_DTYPE, Column, CustomerFrame, TransactionLog, csvio
from crmcore.columnar._arrow_csv import _encoded

try:
    import pandas as pd
except ImportError:  # pragma: no cover - the benchmark runs without the extra, minus baselines
    pd = None  # type: ignore[assignment]

try:
    import pyarrow
except ImportError:  # pragma: no cover
    pyarrow = None

START_US = 1_420_070_400_000_000  # 2015-01-01
SPAN_US = 10 * 365 * 86_400 * 1_000_000
CURRENCIES = ["CNY", "EUR", "USD"]
CHANNELS = ["app", "marketplace", "phone", "store", "web"]
CATEGORIES = ["apparel", "beauty", "books", "home", "outdoor", "shoes", "toys"]


def make_log(rows: int, customers: int, seed: int) -> TransactionLog:
    """``rows`` purchases over ``customers`` customers, built from numpy arrays."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"c{i:08d}" for i in range(customers)], dtype=STRING_DTYPE)
    orders = np.array([f"o{i:09d}" for i in range(rows)], dtype=STRING_DTYPE)
    category = rng.integers(0, len(CATEGORIES), rows)
    category[rng.random(rows) < 0.1] = -1
    return TransactionLog(
        {
            "customer_id": Column.from_numpy("string", ids[rng.integers(0, customers, rows)]),
            "at": Column.from_numpy(
                "datetime", (START_US + rng.integers(0, SPAN_US, rows)).astype("datetime64[us]")
            ),
            "amount": Column.from_numpy("float", np.round(rng.gamma(2.0, 30.0, rows), 2)),
            "currency": Column.from_numpy(
                "category", rng.integers(0, len(CURRENCIES), rows), categories=CURRENCIES
            ),
            "order_id": Column.from_numpy("string", orders),
            "items": Column.from_numpy("int", rng.integers(1, 6, rows)),
            "channel": Column.from_numpy(
                "category", rng.integers(0, len(CHANNELS), rows), categories=CHANNELS
            ),
            "category": Column.from_numpy("category", category, categories=CATEGORIES),
        }
    )


def _narrow(n_values: int, high: int) -> int:
    """Bytes of ``n_values`` integers in the narrowest width that holds ``high``."""
    for width in (1, 2, 4, 8):
        if high < 2 ** (8 * width - 1):
            return n_values * width
    return n_values * 8  # pragma: no cover


def raw_bytes(frame: Any) -> int:
    """What a frame's data needs in the narrowest fixed-width layout (see the module docs)."""
    total = 0
    for name in frame.names:
        column = frame[name]
        n = len(column)
        kind = column.kind
        if kind == "int":
            values = column.values
            total += _narrow(n, int(np.abs(values).max()) if n else 0)
        elif kind in ("float", "datetime", "date"):
            total += 8 * n
        elif kind == "bool":
            total += n
        elif kind in ("category", "tags"):
            total += _narrow(len(column.values), len(column.categories))
            total += sum(len(c.encode()) for c in column.categories)
            if kind == "tags":
                total += 8 * (n + 1)
        elif column.vocabulary is not None:
            words = column.vocabulary.tolist()
            total += _narrow(n, len(words)) + sum(len(w.encode()) + 8 for w in words)
        else:
            total += sum(len(v.encode()) + 8 for v in column.values.tolist())
    return total


def memory_line(frame: Any) -> str:
    """One frame's bytes per row, its raw column bytes per row and their ratio."""
    rows = max(len(frame), 1)
    raw = raw_bytes(frame)
    return (
        f"  {type(frame).__name__} memory: {frame.memory_bytes() / rows:.1f} B/row, raw column "
        f"bytes {raw / rows:.1f} B/row: {frame.memory_bytes() / max(raw, 1):.2f}x the raw bytes"
    )


def pandas_read(path: Path) -> Any:
    """The baseline: ``read_csv`` and the timestamps parsed to UTC."""
    df = pd.read_csv(path)
    df["at"] = pd.to_datetime(df["at"], format="ISO8601", utc=True)
    return df


def pandas_python_strings(path: Path) -> Any:
    """The baseline as pandas reads where pyarrow is not installed: text in Python strings
    (pandas 3 stores text in Arrow arrays when it can, about three times faster to read)."""
    with pd.option_context("mode.string_storage", "python"):
        return pandas_read(path)


def arrow_floor(path: Path) -> Any:
    """Arrow's reader alone, typed as the frame's columns: no checks, no encoding, no frame."""
    import pyarrow.csv as pacsv

    words = pyarrow.dictionary(pyarrow.int32(), pyarrow.string())
    types = {
        "customer_id": pyarrow.string(), "order_id": pyarrow.string(),
        "at": pyarrow.timestamp("us", tz="UTC"), "amount": pyarrow.float64(),
        "items": pyarrow.int64(), "quantity": pyarrow.int64(), "unit_price": pyarrow.float64(),
        "currency": words, "channel": words, "category": words,
    }  # fmt: skip
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))


def floor_and_ids(path: Path) -> Any:
    """The floor, then ``customer_id`` and ``order_id`` numbered in order of first appearance
    by crmcore's encoder (2-3x less CPU than Arrow's ``dictionary_encode``): what any reader that
    returns encoded ids does at the least."""
    import pyarrow.compute as pc

    table = arrow_floor(path)
    return [
        _encoded(pyarrow, pc, table.column(name), name, False)
        for name in ("customer_id", "order_id")
    ]


def interleaved(
    runs: dict[str, Callable[[], Any]], repeats: int
) -> dict[str, tuple[float, float, Any]]:
    """Median wall seconds, CPU seconds of the median run and the last result of each run.

    One repetition runs every candidate once, so all see the same load.
    """
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    results: dict[str, Any] = {}
    for _ in range(repeats):
        for name, run in runs.items():
            results[name] = None
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            results[name] = run()
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    out = {}
    for name, pairs in times.items():
        wall = statistics.median(w for w, _ in pairs)
        cpu = min(pairs, key=lambda p: abs(p[0] - wall))[1]
        out[name] = (wall, cpu, results[name])
    return out


def run(rows: int, customers: int, repeats: int, seed: int, customer_rows: int) -> None:
    """Write the file, time the three readers, check the frames and print the table."""
    print(f"crmcore CSV benchmark: python {platform.python_version()}, numpy {np.__version__}")
    versions = [
        f"pandas {pd.__version__}" if pd is not None else "pandas not installed",
        f"pyarrow {pyarrow.__version__}" if pyarrow is not None else "pyarrow not installed",
    ]
    print(f"{', '.join(versions)}; median of {repeats} interleaved run(s); seed {seed}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{os.cpu_count()} cores, load average {load:.1f} at the start: the built-in parser "
        f"starts {csvio._idle_workers()} thread(s) beside the caller's (one per idle core)"
    )
    log = make_log(rows, customers, seed)
    with tempfile.TemporaryDirectory(prefix="crmcore-bench-csv-") as tmp:
        path = Path(tmp) / "transactions.csv"
        log.to_csv(path)
        megabytes = path.stat().st_size / 1e6
        print(f"file: {rows:,} rows, {megabytes:.1f} MB ({', '.join(log.names)})")
        runs: dict[str, Callable[[], Any]] = {}
        if pd is not None:
            runs["pandas  read_csv + to_datetime"] = lambda: pandas_read(path)
            runs["pandas  the same, strings in Python"] = lambda: pandas_python_strings(path)
        runs['crmcore from_csv(engine="python")'] = lambda: TransactionLog.from_csv(
            path, engine="python", float_ids=False
        )
        if pyarrow is not None:
            runs['crmcore from_csv(engine="pyarrow")'] = lambda: TransactionLog.from_csv(
                path, engine="pyarrow", float_ids=False
            )
        if pyarrow is not None:
            runs["floor   pyarrow.csv.read_csv, typed"] = lambda: arrow_floor(path)
            runs["floor   + the two id columns numbered"] = lambda: floor_and_ids(path)
        found = interleaved(runs, repeats)
        baseline = found.get("pandas  read_csv + to_datetime", (None, None, None))[0]
        print(f"  {'reader':<36} {'wall s':>8} {'cpu s':>8} {'vs pandas':>10}")
        for name, (wall, cpu, result) in found.items():
            ratio = "" if baseline is None else f"{wall / baseline:9.2f}x"
            print(f"  {name:<36} {wall:>8.3f} {cpu:>8.3f} {ratio:>10}")
            if name.startswith("crmcore"):
                assert result == log, f"{name} did not give the log that was written"
        plain = found.get("pandas  the same, strings in Python")
        built_in = found['crmcore from_csv(engine="python")']
        if plain is not None:
            print(
                f"  the built-in reader against pandas without pyarrow (strings in Python, as "
                f"pandas stores them when pyarrow is absent): {built_in[0] / plain[0]:.2f}x"
            )
        both = found.get("floor   + the two id columns numbered")
        if both is not None and baseline is not None:
            cores = os.cpu_count() or 1
            print(
                f"  the floor with ids numbered takes {both[1]:.3f} CPU s: on {cores} core(s), at "
                f"least {both[1] / cores:.3f} s wall, {both[1] / cores / baseline:.2f}x pandas "
                "(target of issue 18 for the pyarrow engine: <= 0.5x)"
            )
        print(memory_line(found['crmcore from_csv(engine="python")'][2]))
        del found
        gc.collect()
        if customer_rows:
            path = Path(tmp) / "customers.csv"
            customer_frame(customer_rows, seed).to_csv(path)
            print(memory_line(CustomerFrame.from_csv(path, engine="python")))
    print(f"peak resident memory: {peak_rss_gb():.2f} GB")
    sys.stdout.flush()


def customer_frame(rows: int, seed: int) -> CustomerFrame:
    """The customers of ``benchmarks/bench_frames.py`` (every schema column, two attributes)."""
    from bench_frames import customer_records

    return CustomerFrame.from_records(customer_records(rows, seed))


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--customers", type=int, default=100_000, help="distinct ids in the log")
    parser.add_argument(
        "--customer-rows", type=int, default=100_000, help="rows of the customer frame (0: none)"
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--quick", action="store_true", help="5x fewer rows, 3 runs")
    args = parser.parse_args(argv)
    rows, customers, repeats = args.rows, args.customers, args.repeat
    customer_rows = args.customer_rows
    if args.quick:
        rows, customers, repeats, customer_rows = rows // 5, customers // 5, 3, customer_rows // 5
    run(rows, customers, repeats, args.seed, customer_rows)


if __name__ == "__main__":
    main()
