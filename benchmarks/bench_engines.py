"""Benchmark: funnel, RFM and BTYD summary on DuckDB and Spark from Parquet, against numpy.

Generates synthetic Parquet files with a seeded numpy RNG, written chunk by
chunk into a temporary directory (removed at the end): a transaction log
(about ten purchases per customer over three years, amounts in cents, 3 % of
the rows returns with a negative amount and 2 % guest checkouts without a
customer, so the purchase-occasions rule does real work) and an event log
(visits, sign-ups and purchases of about twenty events per customer over 90
days). Each measurement runs in a fresh child process, so the peak
resident memory it reports is that of the measurement alone (Python and
DuckDB; for Spark the driver JVM, read after it exits):

* **DuckDB from Parquet** at ``--events`` rows (default 100 million):
  ``crmcore.engines.duckdb.funnel_report`` (five steps, 14-day window, both
  ways of counting), ``rfm_scores`` and ``summary_from_transactions``, with
  DuckDB's memory limited to ``--duckdb-memory`` (it spills beyond that);
* **numpy** on the same files (``read_parquet`` into frames, then the numpy
  function), the baseline the DuckDB results are checked against: RFM codes
  and funnel counts exactly, BTYD counts and times exactly and spend within
  1e-9;
* **Spark local[2] from Parquet** at ``--spark-events`` rows (default 10
  million), checked the same way;
* the **crossover**: numpy and DuckDB on the same in-memory frames (DuckDB
  scans them through Arrow, no copy) at growing sizes, and the size from
  which DuckDB is faster.

Run from the repository root (``python3 scripts/dev.py bench engines``)::

    .venv/bin/python benchmarks/bench_engines.py --quick       # 2M rows, Spark 500k
    .venv/bin/python benchmarks/bench_engines.py               # 100M rows, Spark 10M
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from _timing import line

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
EVENTS_START = datetime(2025, 10, 1, tzinfo=UTC)
DAY_US = 86_400_000_000
CHUNK = 5_000_000
FUNNEL = ["visit", "product_view", "cart_add", "checkout", "purchase"]
RETURN_SHARE = 0.03
GUEST_SHARE = 0.02
KIND_SHARE = [0.45, 0.25, 0.15, 0.09, 0.06]


# -- data ---------------------------------------------------------------------------------------


def _micros(when: datetime) -> int:
    return (when - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _ids(codes: np.ndarray, guests: np.ndarray | None = None) -> Any:
    import pyarrow as pa

    text = np.char.add("C", np.char.zfill(codes.astype(str), 9))
    return pa.array(text, type=pa.string(), mask=guests)


def write_transactions(path: Path, rows: int, seed: int) -> None:
    """``rows`` purchases of ``rows // 10`` customers (skewed rates), in chunks."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    customers = max(rows // 10, 1)
    rng = np.random.default_rng(seed)
    rate = rng.lognormal(0.0, 1.0, customers)
    cumulative = np.cumsum(rate / rate.sum())
    basket = rng.lognormal(3.5, 0.6, customers)
    as_us = _micros(AS_OF)
    schema = pa.schema(
        [("customer_id", pa.string()), ("at", pa.timestamp("us", tz="UTC")),
         ("amount", pa.float64())]
    )  # fmt: skip
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for start in range(0, rows, CHUNK):
            n = min(CHUNK, rows - start)
            codes = np.minimum(np.searchsorted(cumulative, rng.random(n)), customers - 1)
            at = as_us - rng.integers(-30 * DAY_US, 3 * 365 * DAY_US, n)
            amount = np.round(rng.gamma(2.0, basket[codes] / 2.0), 2)
            amount[rng.random(n) < RETURN_SHARE] *= -1.0
            guests = rng.random(n) < GUEST_SHARE
            table = pa.table(
                [_ids(codes, guests),
                 pa.array(at, type=pa.int64()).cast(pa.timestamp("us", tz="UTC")),
                 pa.array(amount)],
                schema=schema,
            )  # fmt: skip
            writer.write_table(table)


def write_events(path: Path, rows: int, seed: int) -> None:
    """``rows`` events of ``rows // 20`` customers over 90 days, in chunks."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    customers = max(rows // 20, 1)
    rng = np.random.default_rng(seed)
    start_us = _micros(EVENTS_START)
    depth = rng.integers(1, len(FUNNEL) + 1, customers)  # how far each customer tends to go
    schema = pa.schema(
        [("customer_id", pa.string()), ("at", pa.timestamp("us", tz="UTC")), ("kind", pa.string())]
    )
    kinds = pa.array(FUNNEL, type=pa.string())
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for start in range(0, rows, CHUNK):
            n = min(CHUNK, rows - start)
            codes = rng.integers(0, customers, n)
            step = rng.choice(len(FUNNEL), n, p=KIND_SHARE)
            step = np.minimum(step, depth[codes] - 1)
            at = start_us + rng.integers(0, 90 * DAY_US, n)
            table = pa.table(
                [_ids(codes), pa.array(at, type=pa.int64()).cast(pa.timestamp("us", tz="UTC")),
                 kinds.take(pa.array(step))],
                schema=schema,
            )  # fmt: skip
            writer.write_table(table)


# -- one measurement (in a child process) --------------------------------------------------------


def _digest(*arrays: Any) -> str:
    h = hashlib.sha1()
    for a in arrays:
        values = np.asarray(a)
        if values.dtype.kind in "OTU":
            h.update("\n".join(str(v) for v in values.tolist()).encode())
        else:
            h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


def _fingerprint(what: str, result: Any) -> dict[str, Any]:
    if what == "rfm":
        return {
            "rows": len(result),
            "digest": _digest(result.customer_ids, result.codes, result.monetary),
            "data": result.data.to_dict(),
        }
    if what == "btyd":
        ids = result.customer_ids
        return {
            "rows": len(result),
            "digest": _digest(
                ids,
                result.frequency,
                result.recency,
                result.T,
                result.return_count,
                result.return_value,
            ),
            "monetary": float(np.sum(result.monetary)),
            "data": result.data.to_dict(),
        }
    return {
        "counts": list(result.counts),
        "customers": result.customers,
        "medians": [None if s.time is None else s.time.median for s in result.steps],
    }


def _spark_session(memory: str) -> Any:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", memory)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "16")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _jvm_peak_gb(session: Any) -> float:
    """Peak resident memory of the driver JVM (Linux ``VmHWM``), 0 when it cannot be read."""
    proc = getattr(session.sparkContext._gateway, "proc", None)
    try:
        status = Path(f"/proc/{proc.pid}/status").read_text()
    except (AttributeError, OSError):
        return 0.0
    for entry in status.splitlines():
        if entry.startswith("VmHWM:"):
            return int(entry.split()[1]) / 1024**2
    return 0.0


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement described by ``spec``; return its time, memory and fingerprint."""
    engine, what, path = spec["engine"], spec["what"], spec["path"]
    counting = spec.get("counting", "trials")
    session = None
    if engine == "duckdb":
        import duckdb

        from crmcore.engines import duckdb as module

        # A database file, so that intermediate tables too can leave memory; file and
        # spill directory live in the benchmark's temporary directory.
        connection = duckdb.connect(str(Path(spec["spill"]) / f"{what}-{counting}.duckdb"))
        connection.execute(f"SET memory_limit = '{spec['memory']}'")
        connection.execute(f"SET temp_directory = '{spec['spill']}'")
        # The plans never rely on the order of a table they created (Parquet rows are
        # numbered by file_row_number), so DuckDB may drop it and save memory.
        connection.execute("SET preserve_insertion_order = false")
        options: dict[str, Any] = {"connection": connection}
    elif engine == "spark":
        from crmcore.engines import spark as module

        session = _spark_session(spec["memory"])
        options = {"session": session}
    else:
        from crmcore.analytics import btyd, rfm
        from crmcore.columnar import EventLog, TransactionLog
        from crmcore.columnar.arrow import read_parquet
        from crmcore.funnel import analytics as funnel

        module = None
        options = {}
    t0 = time.perf_counter()
    loaded = 0.0
    if module is None:  # numpy: read the file into a frame first (timed apart)
        source: Any = read_parquet(EventLog if what == "funnel" else TransactionLog, path)
        loaded = time.perf_counter() - t0
        t0 = time.perf_counter()
        calls = {"rfm": rfm.rfm_scores, "btyd": btyd.summary_from_transactions,
                 "funnel": funnel.funnel_report}  # fmt: skip
    else:
        source = path
        calls = {
            name: functools.partial(function, **options)
            for name, function in (("rfm", module.rfm_scores), ("funnel", module.funnel_report),
                                   ("btyd", module.summary_from_transactions))
        }  # fmt: skip
    if what == "funnel":
        result = calls["funnel"](source, FUNNEL, window=timedelta(days=14), counting=counting)
    elif what == "rfm":
        result = calls["rfm"](source, AS_OF)
    else:
        result = calls["btyd"](source, AS_OF, "D", time_unit="W")
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    if session is not None:
        peak = max(peak, _jvm_peak_gb(session))
        session.stop()
    return {"seconds": seconds, "load": loaded, "peak_gb": peak,
            "fingerprint": _fingerprint(what, result)}  # fmt: skip


def crossover_child(spec: dict[str, Any]) -> dict[str, Any]:
    """numpy and DuckDB on the same in-memory frames of ``spec['rows']`` rows."""
    import duckdb

    from crmcore.analytics.rfm import rfm_scores
    from crmcore.columnar import EventLog, TransactionLog
    from crmcore.columnar.arrow import read_parquet
    from crmcore.engines import duckdb as engine
    from crmcore.funnel.analytics import funnel_report

    log = read_parquet(TransactionLog, spec["transactions"])
    events = read_parquet(EventLog, spec["events"])
    connection = duckdb.connect()
    out: dict[str, Any] = {}
    for name, run_numpy, run_duck in (
        ("rfm", lambda: rfm_scores(log, AS_OF),
         lambda: engine.rfm_scores(log, AS_OF, connection=connection)),
        ("funnel", lambda: funnel_report(events, FUNNEL, window=timedelta(days=14)),
         lambda: engine.funnel_report(events, FUNNEL, window=timedelta(days=14),
                                      connection=connection)),
    ):  # fmt: skip
        times = {}
        for label, fn in (("numpy", run_numpy), ("duckdb", run_duck)):
            best = float("inf")
            for _ in range(spec["repeat"]):
                t0 = time.perf_counter()
                result = fn()
                best = min(best, time.perf_counter() - t0)
            times[label] = best
            times[f"{label}_fp"] = _fingerprint(name, result)
        assert times["numpy_fp"] == times["duckdb_fp"], (name, spec["rows"])
        out[name] = {"numpy": times["numpy"], "duckdb": times["duckdb"]}
    return out


def _spawn(spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{spec.get('engine', 'crossover')} failed:\n"
                           f"{done.stderr[-3000:]}")  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- the run ------------------------------------------------------------------------------------


def _same(what: str, a: dict[str, Any], b: dict[str, Any]) -> bool:
    if what == "btyd":
        close = abs(a["monetary"] - b["monetary"]) <= 1e-9 * max(abs(a["monetary"]), 1.0)
        same = a["rows"] == b["rows"] and a["digest"] == b["digest"] and a["data"] == b["data"]
        return same and close
    if what == "funnel":
        medians = all(
            (x is None and y is None) or abs(x - y) <= 1e-9 * max(abs(x), 1.0)
            for x, y in zip(a["medians"], b["medians"], strict=True)
        )
        return a["counts"] == b["counts"] and a["customers"] == b["customers"] and medians
    return a == b


def engine_round(
    engine: str, rows: int, directory: Path, memory: str, seed: int, numpy_check: bool
) -> None:
    """Write the files, time the three analytics on ``engine`` and check them against numpy."""
    t0 = time.perf_counter()
    transactions = directory / f"transactions-{rows}.parquet"
    events = directory / f"events-{rows}.parquet"
    if not transactions.exists():
        write_transactions(transactions, rows, seed)
        write_events(events, rows, seed + 1)
    size = (transactions.stat().st_size + events.stat().st_size) / 1024**3
    print(f"\n{engine} at {rows:,} rows per log: Parquet written in "
          f"{time.perf_counter() - t0:.0f} s ({size:.2f} GB)")  # fmt: skip
    spill = directory / "spill"
    spill.mkdir(exist_ok=True)
    cases = [("funnel", "trials"), ("funnel", "max_step"), ("rfm", None), ("btyd", None)]
    for what, counting in cases:
        path = str(events if what == "funnel" else transactions)
        spec = {"engine": engine, "what": what, "path": path, "memory": memory,
                "spill": str(spill), "counting": counting or "trials"}  # fmt: skip
        ours = _spawn(spec)
        note = f"peak {ours['peak_gb']:.1f} GB"
        if numpy_check:
            theirs = _spawn({**spec, "engine": "numpy"})
            same = _same(what, ours["fingerprint"], theirs["fingerprint"])
            assert same, (what, counting, ours["fingerprint"], theirs["fingerprint"])
            note += (
                f"; numpy {theirs['seconds']:.1f} s (+{theirs['load']:.1f} s reading, peak "
                f"{theirs['peak_gb']:.1f} GB): {engine}/numpy = "
                f"{ours['seconds'] / theirs['seconds']:.2f}x; same result: {same}"
            )
        label = f"{what}{'' if counting is None else f' ({counting})'}"
        line(f"{engine} {label}", ours["seconds"], note, width=26)


def crossover(sizes: list[int], directory: Path, seed: int, repeat: int) -> None:
    """Time numpy and DuckDB on the same in-memory frames; print where DuckDB wins."""
    print("\ncrossover, numpy vs DuckDB on the same in-memory frames (best of "
          f"{repeat}):")  # fmt: skip
    first: dict[str, int | None] = {"rfm": None, "funnel": None}
    for rows in sizes:
        transactions = directory / f"x-transactions-{rows}.parquet"
        events = directory / f"x-events-{rows}.parquet"
        write_transactions(transactions, rows, seed)
        write_events(events, rows, seed + 1)
        out = _spawn({"transactions": str(transactions), "events": str(events),
                      "rows": rows, "repeat": repeat, "crossover": True})  # fmt: skip
        for name, t in out.items():
            ratio = t["duckdb"] / t["numpy"]
            if ratio < 1 and first[name] is None:
                first[name] = rows
            print(f"  {name:<7} {rows:>12,} rows: numpy {t['numpy']:8.3f} s, DuckDB "
                  f"{t['duckdb']:8.3f} s, DuckDB/numpy = {ratio:.2f}x")  # fmt: skip
    for name, rows in first.items():
        where = f"from about {rows:,} rows" if rows else "not within the sizes tried"
        print(f"  crossover ({name}): DuckDB is faster {where}")


def main(argv: list[str] | None = None) -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000_000, help="rows per log, DuckDB")
    parser.add_argument("--spark-events", type=int, default=10_000_000, help="rows, Spark")
    parser.add_argument("--duckdb-memory", default="12GB", help="DuckDB memory_limit")
    parser.add_argument("--spark-memory", default="8g", help="spark.driver.memory")
    parser.add_argument("--no-numpy-check", action="store_true", help="skip the numpy runs")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs per crossover point (best)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tmp", default=None, help="directory for the Parquet files")
    parser.add_argument(
        "--data", default=None, help="keep the Parquet files in this directory and reuse them"
    )
    parser.add_argument("--quick", action="store_true", help="2M rows, Spark 500k")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        spec = json.loads(args.child)
        print(json.dumps(crossover_child(spec) if spec.get("crossover") else child(spec)))
        return
    rows, spark_rows = args.events, args.spark_events
    sizes = [10_000, 100_000, 1_000_000, 10_000_000]
    if args.quick:
        rows, spark_rows, sizes = 2_000_000, 500_000, [10_000, 100_000, 1_000_000]
    import duckdb
    import pyarrow

    print(f"crmcore engines benchmark: python {platform.python_version()}, numpy "
          f"{np.__version__}, duckdb {duckdb.__version__}, pyarrow {pyarrow.__version__}; "
          f"{os.cpu_count()} cores")  # fmt: skip
    keep = args.data is not None
    directory = (
        Path(args.data)
        if keep
        else Path(tempfile.mkdtemp(prefix="crmcore-bench-engines-", dir=args.tmp))
    )
    directory.mkdir(parents=True, exist_ok=True)
    try:
        free = shutil.disk_usage(directory).free / 1024**3
        print(f"data in {directory} ({free:.0f} GB free)")
        engine_round("duckdb", rows, directory, args.duckdb_memory, args.seed,
                     not args.no_numpy_check)  # fmt: skip
        if not args.skip_spark:
            engine_round("spark", spark_rows, directory, args.spark_memory, args.seed,
                         not args.no_numpy_check)  # fmt: skip
        crossover(sizes, directory, args.seed, args.repeat)
    finally:
        shutil.rmtree(directory / "spill", ignore_errors=True)
        if not keep:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
