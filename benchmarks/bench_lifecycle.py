"""Benchmark: lifecycle classification of a whole transaction log, against pandas and Python.

Generates a synthetic :class:`~crmcore.columnar.TransactionLog` with a seeded
numpy RNG (customers with different start dates, lifetimes, purchase rates,
rising/steady/falling activity and basket sizes, so every lifecycle state
occurs), then measures in one process, as the median wall time over
``--repeat`` runs:

* ``crmcore.lifecycle.classify_log(log, as_of)``: the vectorised classifier;
* the same rules written the way a pandas user would: one ``groupby`` on
  integer customer codes with named aggregations over window flags, then the
  decision list with ``numpy.select`` (pandas gets integer codes rather than
  id strings, its fastest group key, so the comparison favours pandas). Its
  states and risk scores are checked to equal crmcore's;
* the per-customer Python path, ``crmcore.lifecycle.classify``, on a random
  sample of customers (their ``(at, amount)`` lists are prepared beforehand),
  scaled to the whole population by the time per customer;
* ``classify_log`` with an explicit population list (10% more ids, prospects
  without purchases; the ids are looked up in the log's customer index, a
  vectorised hash table built by the first such call and kept), timed in
  turn with the plain call round by round, and the median of the rounds'
  ratios (wall and CPU time; target <= 1.2x, issue 18), with the floor of that
  design in the same rounds: the steps such a call cannot skip (the copy of the
  ids the result keeps, their marked bytes, one probe of the index per id, the
  8 gathers of the rule inputs), timed alone; and, for information, the
  vectorised ``transitions`` diff between two nights.

The first call on a log reads it as purchase occasions (cached on the log) and
the first call with a population builds the log's customer index (kept on it):
each is reported on its own line; the other lines time calls on a log already read.
Every result is checked (pandas states and risk scores, the per-customer path
on a sample, the population rows against the plain call): the script fails on
a difference.

Run from the repository root::

    .venv/bin/python benchmarks/bench_lifecycle.py --quick      # 100k customers / 1M rows
    .venv/bin/python benchmarks/bench_lifecycle.py              # 1M customers / 10M rows
    .venv/bin/python benchmarks/bench_lifecycle.py --customers 200000 --transactions 2000000
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
from _timing import line as _timing_line
from _timing import measure, pandas_transactions, peak_rss_gb

from crmcore.columnar import STRING_DTYPE, Column, TransactionLog
from crmcore.columnar.id_index import _same, _slots
from crmcore.kernel.clock import EPOCH
from crmcore.lifecycle import (
    DEFAULT_POLICY,
    LifecyclePolicy,
    LifecycleState,
    Reason,
    classify,
    classify_log,
    transitions,
)

line = functools.partial(_timing_line, width=52)  # one result line

try:
    import pandas as pd
except ImportError:  # pragma: no cover - runs without the extra, minus the baseline
    pd = None  # type: ignore[assignment]

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
DAY_US = 86_400_000_000
YEAR_US = 365 * DAY_US


# -- data -----------------------------------------------------------------------------------


def make_log(customers: int, transactions: int, seed: int) -> tuple[TransactionLog, Any]:
    """A log of ``transactions`` rows over ``customers`` customers (each buys at least once).

    Also returns a population of ids: the customers plus 10% more who never bought.
    """
    rng = np.random.default_rng(seed)
    as_us = (AS_OF - EPOCH) // timedelta(microseconds=1)
    # Customers: start within six years (a tenth within the last 90 days), a lifetime
    # (exponential, mean two years; censored at as_of), a purchase rate (lognormal) and a
    # trend exponent (< 1: activity rising towards the end; > 1: falling).
    recent = rng.random(customers) < 0.1
    start = np.where(
        recent,
        as_us - rng.integers(0, 90 * DAY_US, customers),
        as_us - rng.integers(90 * DAY_US, 6 * YEAR_US, customers),
    )
    end = np.minimum(start + (rng.exponential(2.0, customers) * YEAR_US).astype(np.int64), as_us)
    end = np.maximum(end, start + DAY_US)
    rate = rng.lognormal(0.0, 1.0, customers)
    trend = rng.choice(np.array([0.5, 1.0, 1.0, 2.0]), customers)
    basket = rng.lognormal(3.5, 0.6, customers)
    weight = rate * (end - start) / YEAR_US
    more = max(transactions - customers, 0)
    codes = np.concatenate(
        [
            np.arange(min(customers, transactions)),
            rng.choice(customers, more, p=weight / weight.sum()),
        ]
    )
    codes = codes[rng.permutation(len(codes))]  # rows in no particular order
    u = rng.random(transactions) ** trend[codes]
    at = start[codes] + (u * (end[codes] - start[codes])).astype(np.int64)
    amount = np.round(rng.gamma(2.0, basket[codes] / 2.0), 2)
    ids = np.array([f"C{i:08d}" for i in range(customers + customers // 10)], dtype=STRING_DTYPE)
    log = TransactionLog(
        {
            "customer_id": Column.from_numpy("string", ids[codes]),
            "at": Column.from_numpy("datetime", at.astype("datetime64[us]")),
            "amount": Column.from_numpy("float", amount),
        }
    )
    return log, ids


# -- the pandas equivalent ------------------------------------------------------------------


def pandas_classify(df: Any, as_of: datetime, p: LifecyclePolicy) -> tuple[Any, Any, Any]:
    """The lifecycle rules in idiomatic pandas: states (codes), risk scores, group keys."""
    as_ts = pd.Timestamp(as_of)
    window = pd.Timedelta(days=p.window_days)
    d = df[df["at"] <= as_ts]
    current = d["at"] > as_ts - window
    previous = (d["at"] > as_ts - 2 * window) & ~current
    scaled = (d["amount"] * 1e4).round()
    agg = (
        d.assign(
            cur=current,
            prev=previous,
            s_cur=scaled.where(current, 0.0),
            s_prev=scaled.where(previous, 0.0),
        )
        .groupby("customer", sort=False)
        .agg(
            n=("at", "size"),
            first=("at", "min"),
            last=("at", "max"),
            f_cur=("cur", "sum"),
            f_prev=("prev", "sum"),
            s_cur=("s_cur", "sum"),
            s_prev=("s_prev", "sum"),
        )
    )
    n = agg["n"]
    recency = (as_ts - agg["last"]) // pd.Timedelta(microseconds=1)
    span = (agg["last"] - agg["first"]) // pd.Timedelta(microseconds=1)
    tenure_new = agg["first"] > as_ts - pd.Timedelta(days=p.new_days)
    f_cur, f_prev = agg["f_cur"].astype("float64"), agg["f_prev"].astype("float64")
    s_cur, s_prev = agg["s_cur"], agg["s_prev"]
    rec_f, span_f, n1 = recency.astype("float64"), span.astype("float64"), (n - 1).astype("float64")
    trend = agg["f_prev"] >= p.min_trend_purchases
    spend_trend = trend & (s_prev > 0)
    silence = (rec_f / float(p.churn_days * DAY_US)).clip(upper=1.0)
    overdue = ((rec_f * n1) / ((2.0 * p.gap_multiple) * span_f)).where((n >= 2) & (span > 0), 0.0)
    frequency_drop = (1.0 - f_cur / f_prev).clip(lower=0.0).where(trend, 0.0)
    spend_drop = (1.0 - s_cur / s_prev).clip(lower=0.0).where(spend_trend, 0.0)
    risk = pd.concat([silence, overdue.clip(upper=1.0), frequency_drop, spend_drop], axis=1).max(
        axis=1
    )
    churned = recency >= p.churn_days * DAY_US
    decline = (
        (
            (n >= 2)
            & (recency > p.min_silence_days * DAY_US)
            & (rec_f * n1 > p.gap_multiple * span_f)
        )
        | (n == 1)
        | (trend & (f_cur <= p.decline_ratio * f_prev))
        | (spend_trend & (s_cur <= p.decline_ratio * s_prev))
    )
    growing = agg["f_cur"] >= p.min_trend_purchases
    growth = (
        (growing & (f_cur >= p.growth_ratio * f_prev))
        | (growing & (s_cur > 0) & (s_cur >= p.growth_ratio * s_prev))
        | (n < p.mature_min_purchases)
    )
    state = LifecycleState
    states = np.select(
        [churned, tenure_new, decline, growth],
        [state.CHURNED.code, state.NEW.code, state.DECLINE.code, state.GROWTH.code],
        state.MATURE.code,
    ).astype(np.int8)
    return states, risk.to_numpy(), agg.index.to_numpy()


# -- measuring ------------------------------------------------------------------------------


def python_sample(log: TransactionLog, size: int, seed: int) -> list[tuple[str, list[Any]]]:
    """``size`` random customers of the log with their ``(at, amount)`` lists (untimed prep)."""
    rng = np.random.default_rng(seed)
    k = len(log.customer_ids)
    chosen = np.sort(rng.choice(k, min(size, k), replace=False))
    rows = np.flatnonzero(np.isin(log.customer_codes, chosen))
    codes = log.customer_codes[rows]
    order = np.argsort(codes, kind="stable")
    rows, codes = rows[order], codes[order]
    bounds = np.flatnonzero(np.diff(codes)) + 1
    at = log.at[rows].astype(object)
    amount = log["amount"].values[rows].tolist()
    out: list[tuple[str, list[Any]]] = []
    for part in np.split(np.arange(len(rows)), bounds):
        if not len(part):
            continue
        pairs = [(at[i].replace(tzinfo=UTC), amount[i]) for i in part.tolist()]
        out.append((str(log.customer_ids[codes[part[0]]]), pairs))
    return out


def measure_cpu(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Median wall time and median CPU time (this process, all threads) of ``fn``, and its last
    result: on a shared machine the CPU time is the steadier of the two."""
    walls: list[float] = []
    cpus: list[float] = []
    result: Any = None
    for _ in range(repeats):
        result = None
        gc.collect()
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        cpus.append(time.process_time() - c0)
        walls.append(time.perf_counter() - w0)
    return statistics.median(walls), statistics.median(cpus), result


def population_floor(log: TransactionLog, ids: Any) -> Callable[[], dict[str, float]]:
    """The steps a call with a population cannot skip in this design, as a function timing each
    once (CPU seconds): the copy of the ids the result keeps; the ids as marked fixed-width bytes
    (append the mark, measure the longest, cast); one probe of the log's index per id (hash,
    table, the owner's bytes, compare), as if no id ever needed a second; and the 8 gathers of
    the rule inputs into the population's order. Left out: the second probes, the repeated-id
    checks and the rules on the prospects' rows, so the real call costs more."""
    index = log.customer_index
    table, words, bits = index._table, index._words, index._bits
    assert table is not None, "the benchmark's ids are ASCII"
    assert words is not None
    width = 8 * words.shape[1]
    rows = index.rows(ids)
    facts = [np.zeros(len(index) + 1) for _ in range(8)]

    def steps() -> dict[str, float]:
        times: dict[str, float] = {}
        gc.collect()
        t = time.process_time()
        copy = ids.astype(STRING_DTYPE)
        times["copy"] = time.process_time() - t
        t = time.process_time()
        marked = np.strings.add(copy, "\x01")
        longest = int(np.strings.str_len(marked).max())
        assert longest <= width
        probe = marked.astype(f"S{width}").view(np.uint64).reshape(len(copy), -1)
        times["bytes"] = time.process_time() - t
        t = time.process_time()
        owner = np.take(table, _slots(probe, bits))
        found = _same(np.take(words, owner, axis=0), probe)
        times["one probe"] = time.process_time() - t
        assert np.array_equal(owner[found], rows[found])  # what one probe finds is right
        t = time.process_time()
        for fact in facts:
            np.take(fact, rows)
        times["8 gathers"] = time.process_time() - t
        return times

    return steps


def run(customers: int, transactions: int, repeats: int, sample: int, seed: int) -> None:
    """Generate the data, time everything and print the results."""
    print(
        f"crmcore lifecycle benchmark: python {platform.python_version()}, numpy {np.__version__}, "
        f"pandas {pd.__version__ if pd is not None else 'not installed'}"
    )
    t0 = time.perf_counter()
    log, ids = make_log(customers, transactions, seed)
    k = len(log.customer_ids)
    print(
        f"data: {k:,} customers with purchases (+{len(ids) - k:,} prospects in the population), "
        f"{len(log):,} transactions, "
        f"as of {AS_OF.date()}; built in {time.perf_counter() - t0:.1f} s; "
        f"median of {repeats} run(s); seed {seed}"
    )
    policy = DEFAULT_POLICY

    first_wall, first_cpu, batch = measure_cpu(lambda: classify_log(log, AS_OF, policy=policy), 1)
    line(
        "crmcore classify_log, first call on the log",
        first_wall,
        f"CPU {first_cpu:.3f} s (reads the log as purchase occasions, cached on it)",
    )
    first_wall, first_cpu, full = measure_cpu(
        lambda: classify_log(log, AS_OF, policy=policy, customers=ids), 1
    )
    line(
        f"crmcore classify_log, first call with a {len(ids):,}-id population list",
        first_wall,
        f"CPU {first_cpu:.3f} s (builds the log's customer index, kept on it)",
    )
    # the plain call and the call with a population list, in turn, round by round: a busy
    # machine slows both alike, and the ratio of each round is taken
    plain: list[tuple[float, float]] = []
    listed: list[tuple[float, float]] = []
    floors: list[dict[str, float]] = []
    floor_steps = population_floor(log, ids)
    for _ in range(repeats):
        wall, cpu, batch = measure_cpu(lambda: classify_log(log, AS_OF, policy=policy), 1)
        plain.append((wall, cpu))
        wall, cpu, full = measure_cpu(
            lambda: classify_log(log, AS_OF, policy=policy, customers=ids), 1
        )
        listed.append((wall, cpu))
        floors.append(floor_steps())
    ours = statistics.median(w for w, _ in plain)
    ours_cpu = statistics.median(c for _, c in plain)
    line(
        "crmcore classify_log (vectorised)",
        ours,
        f"{ours / k * 1e9:.0f} ns/customer; CPU {ours_cpu:.3f} s",
    )

    if pd is not None:
        df = pandas_transactions(log)
        theirs, (states, risk, keys) = measure(lambda: pandas_classify(df, AS_OF, policy), repeats)
        assert np.array_equal(batch.states[keys], states)
        assert np.array_equal(batch.risk_scores[keys], risk)
        line(
            "pandas groupby equivalent",
            theirs,
            f"crmcore/pandas = {ours / theirs:.2f}x; same states and risks: True",
        )
        del df, states, risk, keys
        gc.collect()

    prepared = python_sample(log, sample, seed + 1)
    n_sample = len(prepared)

    def per_customer() -> None:
        for customer, pairs in prepared:
            classify(customer, pairs, AS_OF, policy=policy)

    slow, _ = measure(per_customer, max(1, min(repeats, 3)))
    scaled = slow / n_sample * k
    line(
        f"per-customer classify, {n_sample:,} sampled, scaled to {k:,}",
        scaled,
        f"{slow / n_sample * 1e6:.1f} us/customer; crmcore/python = {ours / scaled:.4f}x "
        f"({scaled / ours:,.0f}x faster)",
    )
    for customer, pairs in prepared[:200]:  # spot check: the two paths agree here too
        assert batch.classification(customer) == classify(customer, pairs, AS_OF, policy=policy)

    rows = np.array([int(c[1:]) for c in log.customer_ids.tolist()])  # ids are C<row>
    for name in ("states", "risk_scores", "reason_bits", "purchases", "spend_total"):
        assert np.array_equal(getattr(full, name)[rows], getattr(batch, name)), name
    assert not full.purchases[np.setdiff1d(np.arange(len(ids)), rows)].any()
    assert full.customer_ids.tolist() == ids.tolist()
    wall_ratio = statistics.median(b[0] / a[0] for a, b in zip(plain, listed, strict=True))
    cpu_ratio = statistics.median(b[1] / a[1] for a, b in zip(plain, listed, strict=True))
    line(
        f"crmcore classify_log with a {len(ids):,}-id population list",
        statistics.median(w for w, _ in listed),
        f"CPU {statistics.median(c for _, c in listed):.3f} s; / plain call = {wall_ratio:.2f}x "
        f"(CPU {cpu_ratio:.2f}x; target <= 1.2x); same rows: True",
    )
    steps = {name: statistics.median(f[name] for f in floors) for name in floors[0]}
    least = sum(steps.values())
    floor_ratio = statistics.median(
        (a[1] + sum(f.values())) / a[1] for a, f in zip(plain, floors, strict=True)
    )
    line(
        "  floor: the least a population adds in this design",
        least,
        " + ".join(f"{name} {ms * 1e3:.0f} ms" for name, ms in steps.items())
        + f"; (plain + floor) / plain = {floor_ratio:.2f}x (CPU)",
    )
    earlier = classify_log(log, AS_OF - timedelta(days=30), policy=policy, customers=ids)
    diff_time, diff = measure(lambda: transitions(earlier, full), repeats)
    line("crmcore transitions (30 days earlier -> as_of)", diff_time, f"{len(diff):,} changes")

    counts = full.counts()
    total = len(full)
    print("states: " + ", ".join(f"{s.value} {c / total:.1%}" for s, c in counts.items()))
    warned = full.has_reason(Reason.RECENCY_BEYOND_USUAL_GAP).sum()
    kinds = diff.to_dict()["kinds"]
    print(f"overdue customers: {warned:,}; transitions by kind: {kinds}")
    print(f"peak RSS: {peak_rss_gb():.2f} GB")


def main(argv: list[str] | None = None) -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--sample", type=int, default=5_000, help="customers for the Python path")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true", help="10x smaller data, < 1 minute")
    args = parser.parse_args(argv)
    customers, transactions, sample = args.customers, args.transactions, args.sample
    if args.quick:
        customers, transactions, sample = customers // 10, transactions // 10, sample // 5
    if customers < 1 or transactions < 1 or args.repeat < 1 or sample < 1:
        parser.error("sizes and --repeat must be positive")
    run(customers, transactions, args.repeat, sample, args.seed)


if __name__ == "__main__":
    main()
