"""Benchmark: BTYD summary, BG/NBD + Gamma-Gamma fits and CLV, on CDNOW and synthetic customers.

Measures in one process, as the median wall time over ``--repeat`` runs:

* on the CDNOW sample (``crmcore/datasets/data/cdnow``, 2,357 customers, 6,919 rows):
  ``summary_from_transactions``, ``fit_bgnbd``, ``fit_gamma_gamma`` and a
  12-month ``customer_lifetime_value``, and checks the published estimates;
* on synthetic customers drawn from the BG/NBD process with Gamma-Gamma
  spend (``--customers``, default 1M; ``--quick`` 100k): transactions are
  generated day by day into a :class:`~crmcore.columnar.TransactionLog`,
  then the same four steps run on it;
* baselines on the same data in the same process:

  - the summary written the way a pandas user (and ``lifetimes``) computes
    it: ``groupby`` (customer, day) then ``groupby`` customer, on integer
    codes; its result is checked to equal crmcore's;
  - the BG/NBD fit the way ``lifetimes`` does it: Nelder-Mead over the
    log-parameters on the uncompressed likelihood (no gradient); on the
    synthetic data only up to ``--nelder-mead-max`` customers, since it
    needs thousands of likelihood evaluations;
  - ``lifetimes`` itself if it is importable: ``BetaGeoFitter.fit`` (one run)
    and ``conditional_probability_alive``, with crmcore/lifetimes ratios (targets
    of issue 18: fit <= 0.4x, P(alive) <= 1.0x); P(alive) is also timed against
    a numpy floor (the formula written directly). lifetimes is not a dependency
    (unmaintained); without it the lines say so and quote the recorded figures;

* on customers drawn from the BG/NBD process in continuous time (``--continuous``,
  default 769k; ``--quick`` 76.9k; times in weeks, so no two customers share a
  row and compression cannot pay): the fit and P(alive), with the same baselines.

Every comparison is checked (the summary against pandas, the CDNOW fit against
the published estimates, Nelder-Mead's and lifetimes' parameters and
likelihood, P(alive) against the floor and lifetimes): the script fails on a
difference.

Run from the repository root::

    .venv/bin/python benchmarks/bench_clv.py --quick     # 100k synthetic customers
    .venv/bin/python benchmarks/bench_clv.py             # 1M synthetic customers

lifetimes is not in the ``dev`` extra; to compare with it, install it (with
``autograd``) where the venv can import it, e.g. on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import functools
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
from _timing import line as _timing_line
from _timing import measure, pandas_transactions, peak_rss_gb

import crmcore.datasets
from crmcore.analytics._optimize import load_scipy
from crmcore.analytics.bgnbd import BgNbdModel, bgnbd_log_likelihood, fit_bgnbd
from crmcore.analytics.btyd import BtydSummary, summary_from_transactions
from crmcore.analytics.clv import customer_lifetime_value
from crmcore.analytics.gamma_gamma import fit_gamma_gamma
from crmcore.columnar import STRING_DTYPE, Column, TransactionLog
from crmcore.kernel.clock import EPOCH

line = functools.partial(_timing_line, width=50)  # one result line

try:
    import pandas as pd
except ImportError:  # pragma: no cover - runs without the extra, minus the baseline
    pd = None  # type: ignore[assignment]

CDNOW = Path(crmcore.datasets.__file__).resolve().parent / "data" / "cdnow" / "CDNOW_sample.txt"
CDNOW_END = datetime(1997, 9, 30, tzinfo=UTC)
SYNTH_START = datetime(2025, 1, 1, tzinfo=UTC)
SYNTH_END = datetime(2025, 12, 31, tzinfo=UTC)
DAY_US = 86_400_000_000


# -- data -----------------------------------------------------------------------------------


def cdnow_log() -> TransactionLog:
    """The CDNOW sample as a TransactionLog (dates at 00:00 UTC)."""
    raw = np.loadtxt(CDNOW, dtype=np.float64)
    ymd = raw[:, 2].astype(np.int64)
    dates = np.array(
        [f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}" for d in ymd.tolist()],
        dtype="datetime64[D]",
    )
    return TransactionLog(
        {
            "customer_id": Column.from_numpy("string", raw[:, 1].astype(np.int64).astype(str)),
            "at": Column.from_numpy("datetime", dates.astype("datetime64[us]")),
            "amount": Column.from_numpy("float", raw[:, 4]),
        }
    )


def synthetic_log(customers: int, seed: int) -> TransactionLog:
    """Customers born in the first quarter of 2025, buying per BG/NBD until 2025-12-31.

    Rates (per day) ~ Gamma(0.5, 1/10), dropout ~ Beta(0.8, 3); spend per purchase
    ~ Gamma(4, nu) with nu ~ Gamma(3, 1/60) (mean 40). Rows are in no particular order.
    """
    rng = np.random.default_rng(seed)
    start_us = (SYNTH_START - EPOCH) // timedelta(microseconds=1)
    end_us = (SYNTH_END - EPOCH) // timedelta(microseconds=1)
    birth = start_us + rng.integers(0, 90, customers) * DAY_US
    span_days = (end_us - birth) / DAY_US
    lam = rng.gamma(0.5, 1 / 10, customers)
    lives = rng.geometric(rng.beta(0.8, 3.0, customers))
    possible = rng.poisson(lam * span_days)
    keep = np.minimum(lives, possible)
    # the first `keep` of `possible` uniform times: draw all, sort per customer, keep a prefix
    owner = np.repeat(np.arange(customers), possible)
    u = rng.random(owner.size)
    order = np.lexsort((u, owner))
    owner, u = owner[order], u[order]
    rank = np.arange(owner.size) - np.repeat(np.cumsum(possible) - possible, possible)
    kept = rank < keep[owner]
    owner, u = owner[kept], u[kept]
    repeat_at = birth[owner] + (u * (end_us - birth[owner])).astype(np.int64)
    codes = np.concatenate([np.arange(customers), owner])
    at = np.concatenate([birth + rng.integers(0, DAY_US, customers), repeat_at])
    nu = rng.gamma(3.0, 1 / 60, customers)
    amount = np.round(rng.gamma(4.0, 1 / nu[codes]), 2)
    shuffle = rng.permutation(codes.size)
    ids = np.array([f"C{i:08d}" for i in range(customers)], dtype=STRING_DTYPE)
    return TransactionLog(
        {
            "customer_id": Column.from_numpy("string", ids[codes[shuffle]]),
            "at": Column.from_numpy("datetime", at[shuffle].astype("datetime64[us]")),
            "amount": Column.from_numpy("float", amount[shuffle]),
        }
    )


# -- baselines ------------------------------------------------------------------------------


def pandas_summary(df: Any, as_of: datetime, unit_days: float) -> Any:
    """The BTYD summary the way lifetimes / a pandas user computes it (days aggregated)."""
    d = df[df["at"] <= pd.Timestamp(as_of)]
    daily = (
        d.assign(day=d["at"].dt.floor("D"))
        .groupby(["customer", "day"], sort=True)["amount"]
        .sum()
        .reset_index()
    )
    g = daily.groupby("customer", sort=True)
    out = g.agg(
        first=("day", "min"), last=("day", "max"), n=("day", "size"), total=("amount", "sum")
    )
    first_amount = g["amount"].first()
    end = pd.Timestamp(as_of).floor("D")
    out["frequency"] = out["n"] - 1
    out["recency"] = (out["last"] - out["first"]).dt.days / unit_days
    out["T"] = (end - out["first"]).dt.days / unit_days
    repeat = out["total"] - first_amount
    out["monetary"] = (repeat / out["frequency"]).where(out["frequency"] > 0, 0.0)
    return out


def nelder_mead_fit(s: BtydSummary) -> tuple[float, ...]:
    """The lifetimes way: Nelder-Mead on log-parameters, full likelihood, no gradient."""
    optimize, _ = load_scipy("benchmark")
    x, t_x, big_t = s.frequency, s.recency, s.T

    def negative(log_params: np.ndarray) -> float:
        params = tuple(float(v) for v in np.exp(log_params))
        return -float(bgnbd_log_likelihood(params, x, t_x, big_t).sum())  # type: ignore[arg-type]

    with np.errstate(all="ignore"):
        result = optimize.minimize(
            negative, np.zeros(4), method="Nelder-Mead", options={"maxiter": 4000}
        )
    return tuple(float(v) for v in np.exp(result.x))


def try_lifetimes() -> Any:
    try:
        import lifetimes
    except ImportError:
        return None
    return lifetimes


# -- measuring ------------------------------------------------------------------------------


def run(
    name: str,
    log: TransactionLog,
    as_of: datetime,
    unit: str,
    repeat: int,
    nelder_mead: bool,
    published: BgNbdModel | None,
) -> None:
    """Time the four steps and the baselines on one log."""
    print(f"\n{name}: {len(log):,} transactions")
    t_sum, s = measure(
        lambda: summary_from_transactions(log, as_of, "D", time_unit=unit),
        repeat,  # type: ignore[arg-type]
    )
    print(f"  {len(s):,} customers, {int(np.count_nonzero(s.frequency)):,} repeat buyers")
    line("crmcore summary_from_transactions", t_sum)
    if pd is not None:
        df = pandas_transactions(log)
        unit_days = 7.0 if unit == "W" else 1.0
        t_pd, ref = measure(lambda: pandas_summary(df, as_of, unit_days), repeat)
        ours = np.argsort(s.customer_ids.astype(STRING_DTYPE))
        codes = ref.index.to_numpy()
        same = (
            np.array_equal(np.sort(log.customer_ids[codes]), s.customer_ids[ours])
            and np.array_equal(
                ref["frequency"].to_numpy()[np.argsort(log.customer_ids[codes])], s.frequency[ours]
            )
            and np.allclose(
                ref["monetary"].to_numpy()[np.argsort(log.customer_ids[codes])], s.monetary[ours]
            )
        )
        assert same, "the summary differs from the pandas recipe's"
        line(
            "pandas groupby summary (lifetimes' method)",
            t_pd,
            f"crmcore is {t_pd / t_sum:.1f}x faster; same result: True",
        )
    else:
        print("  pandas not installed: pandas summary baseline skipped")

    t_fit, model = measure(lambda: fit_bgnbd(s), repeat)
    line(
        "crmcore fit_bgnbd (L-BFGS-B, gradient, compressed)",
        t_fit,
        f"r={model.r:.4f} alpha={model.alpha:.4f} a={model.a:.4f} b={model.b:.4f} "
        f"LL={model.log_likelihood:.2f} iters={model.iterations}",
    )
    if published is not None:
        worst = max(abs(model.params[k] / published.params[k] - 1) for k in model.params)
        assert worst < 0.01, "the CDNOW fit is not the published one"
        print(
            f"    published: r=0.243 alpha=4.414 a=0.793 b=2.426 LL=-9582.4; "
            f"largest relative difference {worst:.2%}"
        )
    if nelder_mead:
        t_nm, nm = measure(lambda: nelder_mead_fit(s), 1)
        diff = max(abs(a / b - 1) for a, b in zip(nm, model.params.values(), strict=True))
        assert diff < 1e-3, "Nelder-Mead found other parameters"
        line(
            "Nelder-Mead, no gradient (lifetimes' method)",
            t_nm,
            f"crmcore is {t_nm / t_fit:.1f}x faster; params differ by <= {diff:.2%}",
        )
    else:
        print("  Nelder-Mead baseline skipped at this size (--nelder-mead-max)")
    t_gg, gg = measure(lambda: fit_gamma_gamma(s), repeat)
    line(
        "crmcore fit_gamma_gamma",
        t_gg,
        f"p={gg.p:.3f} q={gg.q:.3f} v={gg.v:.3f} on {gg.n_customers:,} repeat buyers",
    )
    t_clv, report = measure(lambda: customer_lifetime_value(model, gg, s), repeat)
    line(
        "crmcore customer_lifetime_value (12 months)",
        t_clv,
        f"total {float(report.clv.sum()):,.0f}, top {float(report.clv.max()):,.2f}",
    )

    compare_models(s, model, repeat)


# -- the purchase model alone: fit and P(alive) against lifetimes ---------------------------

RECORDED: Final = "issue 18, before this work: fit 0.66x lifetimes, P(alive) 1.46x lifetimes"


def numpy_p_alive(model: BgNbdModel, s: BtydSummary) -> np.ndarray:
    """P(alive) (Hardie's note 021) written directly in numpy: the floor of this computation."""
    x = s.frequency
    log_odds = np.log(model.a / (model.b + np.maximum(x, 1) - 1)) + (model.r + x) * np.log(
        (model.alpha + s.T) / (model.alpha + s.recency)
    )
    with np.errstate(over="ignore"):
        return np.where(x == 0, 1.0, 1.0 / (1.0 + np.exp(log_odds)))


def in_turn(contenders: dict[str, Callable[[], Any]], rounds: int) -> dict[str, Any]:
    """Median wall and CPU seconds of each contender, timed one after the other round by round
    (a busy machine then slows them alike), and each one's last result."""
    wall: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    results: dict[str, Any] = {}
    for _ in range(rounds):
        for name, fn in contenders.items():
            w0, c0 = time.perf_counter(), time.process_time()
            results[name] = fn()
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - w0)
    return {
        name: (statistics.median(wall[name]), statistics.median(cpu[name]), results[name])
        for name in contenders
    }


def compare_models(s: BtydSummary, model: BgNbdModel, repeat: int) -> None:
    """P(alive) against a numpy floor and lifetimes; the fit against lifetimes' fit.

    Checks: P(alive) equal to the floor's and lifetimes' (1e-9), lifetimes' parameters
    within 1e-3 of crmcore's and its log-likelihood no better than crmcore's.
    """
    lifetimes = try_lifetimes()
    x, t_x, big_t = s.frequency.astype(np.float64), np.asarray(s.recency), np.asarray(s.T)
    contenders: dict[str, Callable[[], Any]] = {
        "crmcore": lambda: model.probability_alive(s),
        "floor": lambda: numpy_p_alive(model, s),
    }
    if lifetimes is not None:
        fitter = lifetimes.BetaGeoFitter()
        fitter.params_ = pd.Series(model.params)  # P(alive) at crmcore's parameters
        contenders["lifetimes"] = lambda: fitter.conditional_probability_alive(x, t_x, big_t)
    timed = in_turn(contenders, max(repeat, 15))
    wall, cpu, alive = timed["crmcore"]
    for name, (_, _, other) in timed.items():
        assert float(np.max(np.abs(alive - other))) < 1e-9, f"P(alive) differs from {name}'s"
    floor_wall, floor_cpu, _ = timed["floor"]
    line(
        "crmcore BgNbdModel.probability_alive",
        wall,
        f"CPU {cpu * 1e3:.1f} ms; /numpy floor {wall / floor_wall:.2f}x "
        f"(CPU {cpu / floor_cpu:.2f}x)",
    )
    if lifetimes is None:
        print(f"  lifetimes is not importable: compare with the recorded figures ({RECORDED})")
        return
    theirs_wall, theirs_cpu, _ = timed["lifetimes"]
    line(
        "lifetimes conditional_probability_alive",
        theirs_wall,
        f"crmcore/lifetimes = {wall / theirs_wall:.2f}x (CPU {cpu / theirs_cpu:.2f}x; "
        "target <= 1.0x); same values: True",
    )
    t_fit, _ = measure(lambda: fit_bgnbd(s), repeat)
    t0 = time.perf_counter()
    fitter = lifetimes.BetaGeoFitter().fit(x, t_x, big_t)
    t_lt = time.perf_counter() - t0
    diff = max(abs(float(fitter.params_[k]) / v - 1) for k, v in model.params.items())
    assert diff < 1e-3, f"lifetimes' parameters differ by {diff:.2%}"
    theirs_ll = float(bgnbd_log_likelihood(tuple(fitter.params_), x, t_x, big_t).sum())
    assert model.log_likelihood is not None
    assert model.log_likelihood >= theirs_ll - 1e-6 * len(x), "lifetimes found a better optimum"
    line(
        "lifetimes BetaGeoFitter.fit (one run)",
        t_lt,
        f"crmcore/lifetimes = {t_fit / t_lt:.2f}x (target <= 0.4x); params differ by <= {diff:.1e}",
    )


def continuous_summary(customers: int, seed: int) -> BtydSummary:
    """Customers drawn from the BG/NBD process in continuous time (weeks), as a summary.

    T ~ U(10, 78) weeks; r, alpha, a, b = 0.25, 4.4, 0.8, 2.4 (CDNOW-like). Recency and T
    are continuous, so no two customers share a row: compression cannot pay.
    """
    rng = np.random.default_rng(seed)
    big_t = rng.uniform(10.0, 78.0, customers)
    lam = rng.gamma(0.25, 1.0 / 4.4, customers)
    lives = rng.geometric(rng.beta(0.8, 2.4, customers))
    possible = rng.poisson(lam * big_t)
    x = np.minimum(lives, possible)
    has = x > 0
    t_x = np.zeros(customers)
    t_x[has] = big_t[has] * rng.beta(x[has], possible[has] - x[has] + 1)
    return BtydSummary(
        customer_ids=np.arange(customers).astype(str),
        frequency=x,
        recency=t_x,
        T=big_t,
        monetary=np.where(has, 1.0, 0.0),
        time_unit="W",
    )


def run_continuous(customers: int, repeat: int, seed: int) -> None:
    """The fit and P(alive) on continuous times (the issue 18 rows)."""
    s = continuous_summary(customers, seed)
    print(
        f"\ncontinuous-time BG/NBD customers (weeks): {len(s):,} customers, "
        f"{int(np.count_nonzero(s.frequency)):,} repeat buyers"
    )
    t_fit, model = measure(lambda: fit_bgnbd(s), repeat)
    line(
        "crmcore fit_bgnbd (L-BFGS-B, analytic Hessian)",
        t_fit,
        f"r={model.r:.4f} alpha={model.alpha:.4f} a={model.a:.4f} b={model.b:.4f} "
        f"iters={model.iterations}",
    )
    compare_models(s, model, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k synthetic customers")
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nelder-mead-max", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--continuous", type=int, default=None, help="continuous-time customers (769k)"
    )
    args = parser.parse_args()
    customers = args.customers or (100_000 if args.quick else 1_000_000)
    continuous = args.continuous or (76_900 if args.quick else 769_000)
    print(
        f"crmcore CLV benchmark: Python {platform.python_version()}, numpy {np.__version__}, "
        f"{platform.machine()}; median of {args.repeat} runs"
    )
    published = BgNbdModel(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W")
    run("CDNOW sample (weeks)", cdnow_log(), CDNOW_END, "W", max(args.repeat, 5), True, published)
    t0 = time.perf_counter()
    log = synthetic_log(customers, args.seed)
    print(f"\n(generated {customers:,} synthetic customers in {time.perf_counter() - t0:.1f} s)")
    run(
        f"synthetic, {customers:,} customers (days)",
        log,
        SYNTH_END,
        "D",
        args.repeat,
        customers <= args.nelder_mead_max,
        None,
    )
    del log
    run_continuous(continuous, args.repeat, args.seed)
    print(f"\npeak RSS {peak_rss_gb():.2f} GB")


if __name__ == "__main__":
    main()
