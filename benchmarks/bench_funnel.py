"""Benchmark: funnel reports over an event log, crmcore against pandas and the per-customer path.

Generates a synthetic, time-ordered event log with a seeded numpy RNG: each
customer walks a five-step funnel (visit, view_pricing, signup,
add_to_cart, purchase) as deep as their own drop-off allows, over one or
two journeys two months apart, with gaps of hours to weeks between steps
(so the 14-day window matters) and 30% noise events of other kinds. Then,
in one process, it measures the median wall time over ``--repeat`` runs of:

* ``crmcore`` :func:`~crmcore.funnel.analytics.funnel_report` (ordered,
  14-day window) over the whole log;
* an idiomatic pandas implementation of the same rules (trial chain and
  one ``merge_asof`` per step, by customer; step counts and time-to-convert
  statistics), on a DataFrame of the same data, its best case (integer
  customer keys, rows already in time order). Its numbers are checked
  against crmcore's before any time is reported;
* :func:`~crmcore.funnel.analytics.funnel_report_python`, the per-customer
  reference path, on a subsample of customers (``--python-customers``),
  compared per event processed;
* crmcore's other modes, the sliding-window ``counting="max_step"`` and a
  weekly cohort breakdown, each as a ratio to the ordered funnel.

Run from the repository root::

    .venv/bin/python benchmarks/bench_funnel.py --quick      # 100k customers, 1M events
    .venv/bin/python benchmarks/bench_funnel.py              # 1M customers, 10M events
    .venv/bin/python benchmarks/bench_funnel.py --customers 200000 --events 2000000 --repeat 5
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from _timing import measure, peak_rss_gb

from crmcore.columnar import STRING_DTYPE, Column, EventLog
from crmcore.funnel.analytics import (
    Exclusion,
    FunnelReport,
    funnel_breakdown,
    funnel_report,
    funnel_report_python,
)

try:
    import pandas as pd
except ImportError:  # pragma: no cover - the benchmark runs without the extra, minus the baseline
    pd = None  # type: ignore[assignment]

STEPS = ["visit", "view_pricing", "signup", "add_to_cart", "purchase"]
NOISE = ["email_open", "newsletter_click", "support_ticket"]
WINDOW = timedelta(days=14)
START_US = 1_700_000_000_000_000  # 2023-11-14
DAY_US = 86_400_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def synthetic(customers: int, events: int, seed: int) -> tuple[np.ndarray[Any, Any], ...]:
    """(customer code, time in µs, kind index into STEPS + NOISE), in time order."""
    rng = np.random.default_rng(seed)
    who = rng.integers(0, customers, events)
    # How deep each customer can go: about half continue at every step.
    depth = np.minimum(rng.geometric(0.5, customers) - 1, len(STEPS) - 1)
    start = START_US + rng.integers(0, 365 * DAY_US, customers)
    gap = rng.exponential(2 * DAY_US, customers).astype(np.int64) + 60_000_000
    step = (rng.random(events) * (depth[who] + 1)).astype(np.int64)
    journey = (rng.random(events) < 0.2).astype(np.int64) * 60 * DAY_US
    jitter = (rng.random(events) * gap[who] * 0.5).astype(np.int64)
    at = start[who] + journey + step * gap[who] + jitter
    noise = rng.random(events) < 0.3
    kind = np.where(noise, len(STEPS) + rng.integers(0, len(NOISE), events), step)
    order = np.argsort(at, kind="stable")
    return who[order], at[order], kind[order]


def event_log(
    who: np.ndarray[Any, Any], at: np.ndarray[Any, Any], kind: np.ndarray[Any, Any]
) -> EventLog:
    """The log through the public column API (ids ``c00000042``, kinds as a category)."""
    ids = np.char.add("c", np.char.zfill(who.astype(str), 8)).astype(STRING_DTYPE)
    labels = STEPS + NOISE
    categories = sorted(labels)
    rank = np.array([categories.index(label) for label in labels])
    return EventLog(
        {
            "customer_id": Column.from_numpy("string", ids),
            "at": Column.from_numpy("datetime", at.astype("datetime64[us]")),
            "kind": Column.from_numpy("category", rank[kind], categories=categories),
        }
    )


def pandas_frame(
    who: np.ndarray[Any, Any], at: np.ndarray[Any, Any], kind: np.ndarray[Any, Any]
) -> Any:
    """The same events as a DataFrame: int customer keys, UTC timestamps, categorical kinds."""
    labels = np.array(STEPS + NOISE, dtype=object)
    return pd.DataFrame(
        {
            "customer": who,
            "at": pd.to_datetime(at, unit="us", utc=True),
            "kind": pd.Categorical(labels[kind], categories=STEPS + NOISE),
        }
    )


def pandas_funnel(
    df: Any, steps: Sequence[str], window: timedelta
) -> tuple[list[int], list[tuple[float, ...]]]:
    """crmcore's ordered-funnel rules written with pandas (rows in time order, distinct kinds).

    Trials: a customer's first step-1 event opens one; the next opens at the
    first step-1 event after ``start + window`` (a ``merge_asof`` per round).
    Step k: the first step-k event at or after step k-1's (a ``merge_asof``
    per step), kept if within the window of the trial's start. Each customer
    counts with the furthest trial, ties to the earliest.
    """
    span = pd.Timedelta(window)
    ev = df[df["kind"].isin(steps)]
    first = ev.loc[ev["kind"] == steps[0], ["customer", "at"]].drop_duplicates()
    starts = first.groupby("customer", sort=False, as_index=False)["at"].min()
    starts = starts.rename(columns={"at": "start"})
    trials, current = [starts], starts
    while len(current):
        due = current.assign(close=current["start"] + span).sort_values("close")
        nxt = pd.merge_asof(
            due, first.rename(columns={"at": "next"}), left_on="close", right_on="next",
            by="customer", direction="forward", allow_exact_matches=False,
        )  # fmt: skip
        current = nxt.dropna(subset=["next"])[["customer", "next"]]
        current = current.rename(columns={"next": "start"})
        trials.append(current)
    paths = pd.concat(trials, ignore_index=True)
    paths["t0"] = paths["start"]
    for k, kind in enumerate(steps[1:], 1):
        prev, col = f"t{k - 1}", f"t{k}"
        right = ev.loc[ev["kind"] == kind, ["customer", "at"]].rename(columns={"at": col})
        left = paths.loc[paths[prev].notna(), ["customer", prev, "start"]].sort_values(prev)
        hit = pd.merge_asof(
            left.reset_index(), right, left_on=prev, right_on=col, by="customer",
            direction="forward",
        ).set_index("index")  # fmt: skip
        paths[col] = hit[col].where(hit[col] - hit["start"] <= span)
    cols = [f"t{k}" for k in range(len(steps))]
    paths["reached"] = paths[cols].notna().sum(axis=1)
    best = paths.sort_values(["customer", "reached", "start"], ascending=[True, False, True])
    best = best.drop_duplicates("customer")
    counts = [int((best["reached"] > k).sum()) for k in range(len(steps))]
    times = []
    for k in range(1, len(steps)):
        delta = (best[cols[k]] - best[cols[k - 1]]).dropna().dt.total_seconds()
        quantiles = delta.quantile([0.25, 0.5, 0.75, 0.9]).tolist()
        times.append((float(len(delta)), float(delta.mean()), *quantiles))
    return counts, times


def check_same(report: FunnelReport, counts: list[int], times: list[tuple[float, ...]]) -> None:
    """Stop the benchmark if pandas and crmcore disagree on any number."""
    if list(report.counts) != counts:
        sys.exit(f"pandas and crmcore disagree: {counts} != {list(report.counts)}")
    for step, (n, mean, p25, median, p75, p90) in zip(report.steps[1:], times, strict=True):
        t = step.time
        assert t is not None
        ours = (t.count, t.mean, t.p25, t.median, t.p75, t.p90)
        if n and not np.allclose(ours, (n, mean, p25, median, p75, p90), rtol=1e-9):
            sys.exit(f"pandas and crmcore disagree on step {step.number} times: {ours}")


def line(label: str, rows: int, seconds: float, note: str = "") -> None:
    """One result row: rows processed, median seconds, events per second."""
    print(f"  {label:<44} {rows:>11,} {seconds:>9.3f} {rows / seconds:>13,.0f}  {note}")
    sys.stdout.flush()


def python_sample(
    who: np.ndarray[Any, Any], at: np.ndarray[Any, Any], kind: np.ndarray[Any, Any], customers: int
) -> tuple[list[tuple[str, str, datetime]], EventLog]:
    """The events of customers ``0 .. customers-1`` as tuples and as a log."""
    keep = who < customers
    labels = STEPS + NOISE
    micros = at[keep].astype("timedelta64[us]").astype(object).tolist()
    events = [
        (f"c{c:08d}", labels[k], EPOCH + m)
        for c, k, m in zip(who[keep].tolist(), kind[keep].tolist(), micros, strict=True)
    ]
    return events, event_log(who[keep], at[keep], kind[keep])


def run(customers: int, events: int, repeats: int, seed: int, sample: int) -> None:
    """Generate the data, time every operation and print the table."""
    baseline = f"pandas {pd.__version__}" if pd is not None else "none (pandas not installed)"
    print(f"crmcore funnel benchmark: python {platform.python_version()}, numpy {np.__version__}")
    print(f"baseline: {baseline}; median of {repeats} run(s); seed {seed}")
    print(f"funnel: {' > '.join(STEPS)}; ordered; window {WINDOW.days} days")
    who, at, kind = synthetic(customers, events, seed)
    log = event_log(who, at, kind)
    print(f"  {'operation':<44} {'events':>11} {'median s':>9} {'events/s':>13}")
    ours, report = measure(lambda: funnel_report(log, STEPS, window=WINDOW), repeats)
    line("crmcore funnel_report (ordered)", events, ours)
    print(f"    counts {list(report.counts)}; overall conversion {report.conversion:.2%}")
    if pd is not None:
        df = pandas_frame(who, at, kind)
        theirs, (counts, times) = measure(lambda: pandas_funnel(df, STEPS, WINDOW), repeats)
        check_same(report, counts, times)
        line("pandas merge_asof funnel (same numbers)", events, theirs,
             f"crmcore / pandas = {ours / theirs:.2f}")  # fmt: skip
        del df
        gc.collect()
    for label, call in (
        ("crmcore funnel_report (strict)", lambda: funnel_report(log, STEPS, mode="strict")),
        (
            "crmcore ordered, counting max_step",
            lambda: funnel_report(log, STEPS, window=WINDOW, counting="max_step"),
        ),
        ("crmcore funnel_report (any order)", lambda: funnel_report(log, STEPS, mode="any")),
        (
            "crmcore ordered + exclusion (support_ticket)",
            lambda: funnel_report(log, STEPS, exclusions=[Exclusion("support_ticket", after=3)]),
        ),
        ("crmcore weekly cohorts", lambda: funnel_breakdown(log, STEPS, cohort="week")),
    ):
        seconds, _ = measure(call, repeats)
        target = " (target <= 1.3x)" if "strict" in label else ""
        line(label, events, seconds, f"{seconds / ours:.2f} x ordered{target}")
    take = min(sample, customers)
    tuples, small = python_sample(who, at, kind, take)
    slow, expected = measure(lambda: funnel_report_python(tuples, STEPS, WINDOW), 1)
    _, got = measure(lambda: funnel_report(small, STEPS, window=WINDOW), 1)
    if expected.counts != got.counts:
        sys.exit(f"the per-customer path disagrees: {expected.counts} != {got.counts}")
    line(f"python per-customer path ({take:,} customers)", len(tuples), slow)
    per_event_python = slow / max(len(tuples), 1)
    per_event_ours = ours / events
    python_us, ours_us = per_event_python * 1e6, per_event_ours * 1e6
    print(
        f"    per event: python {python_us:.2f} µs, crmcore {ours_us:.3f} µs"
        f" -> crmcore is {per_event_python / per_event_ours:,.0f}x faster per event"
    )
    print(f"peak resident memory: {peak_rss_gb():.2f} GB")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--python-customers", type=int, default=5_000,
                        help="customers in the per-customer Python sample")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="10x fewer customers and events")
    args = parser.parse_args(argv)
    customers, events, sample = args.customers, args.events, args.python_customers
    if args.quick:
        customers, events, sample = customers // 10, events // 10, sample // 5
    run(customers, events, args.repeat, args.seed, sample)


if __name__ == "__main__":
    main()
