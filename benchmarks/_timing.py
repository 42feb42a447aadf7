"""Timing helpers shared by the benchmark scripts (imported as ``_timing`` from beside them)."""

from __future__ import annotations

import gc
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["line", "measure", "peak_rss_gb", "pandas_transactions"]


def measure(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``fn`` over ``repeats`` runs (after a GC each), and its last result."""
    times: list[float] = []
    result: Any = None
    for _ in range(repeats):
        result = None
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far, in GB (Linux: ru_maxrss is in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def line(label: str, seconds: float, note: str = "", width: int = 44) -> None:
    """Print one result line: the label, the median seconds and a note (ratios, checks)."""
    print(f"  {label:<{width}} {seconds:>9.3f} s  {note}")
    sys.stdout.flush()


def pandas_transactions(log: Any) -> Any:
    """A ``TransactionLog`` as pandas would hold it: integer customer codes, UTC times, amounts.

    The baseline input of the RFM and cohort benchmarks (needs pandas).
    """
    import pandas as pd

    return pd.DataFrame(
        {
            "customer": log.customer_codes,
            "at": pd.DatetimeIndex(log.at).tz_localize("UTC"),
            "amount": log["amount"].values,
        }
    )
