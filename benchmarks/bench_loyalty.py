"""Benchmark: the points ledger in memory, and nightly expiry / liability over many accounts.

Measured in one process, as the median wall time over ``--repeat`` runs:

* **earn/redeem mix.** ``--accounts`` accounts, each warmed up with a
  realistic history (``--history`` entries: purchases with pending points,
  redemptions, expiries under "end of the 12th month"), then a mix of 70 %
  earns (prebuilt :class:`~crmcore.customers.Purchase` values, a tier
  multiplier and a campaign) and 30 % redemptions, round-robin over the
  accounts. Reported as operations per second, with the share of the time
  spent in the cyclic garbage collector (the benchmark keeps every run's warm
  accounts alive, as a server keeps its working set, so collections scan
  them). Every operation checks its idempotency key, posts its entry, updates
  the lots and raises its event inside the timed region; only the
  :class:`~crmcore.customers.Purchase` inputs are built beforehand.
  ``--profile`` prints the cProfile top entries of one extra run. Baseline on
  the same operations: a copy-on-write aggregate that materialises its whole
  entries tuple on every operation (what a plain ``tuple`` field would cost);
* **expiry of many accounts.** ``expire_all`` (one vectorised mask over the
  flattened lots, then :meth:`LoyaltyAccount.expire` on the accounts with
  something due) against calling ``expire`` on every account;
* **liability report.** ``liability_report`` on the flattened lots against a
  Python loop over the lots grouping by month.

Run from the repository root::

    .venv/bin/python benchmarks/bench_loyalty.py --quick    # 2,000 ledgers / 100k accounts
    .venv/bin/python benchmarks/bench_loyalty.py            # 10,000 ledgers / 1M accounts
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import platform
import pstats
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from _timing import line as _timing_line
from _timing import measure, peak_rss_gb

from crmcore.customers import Purchase
from crmcore.kernel.money import Money
from crmcore.loyalty.expiry import ExpiryPolicy
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.ledger_batch import expire_all, liability_report, lot_columns
from crmcore.loyalty.program import Campaign, EarnRule, LoyaltyProgram

line = functools.partial(_timing_line, width=52)  # one result line

T0 = datetime(2025, 1, 1, tzinfo=UTC)

PROGRAM = LoyaltyProgram(
    id="bench",
    currency="EUR",
    point_value=Money("0.01", "EUR"),
    earn=EarnRule(tier_multipliers={"gold": Decimal("1.5")}, channel_multipliers={"app": 2}),
    campaigns=(
        Campaign(name="double", starts_at=T0, ends_at=T0 + timedelta(days=3650), multiplier=2),
    ),
    actions={"sign_up": 100},
    expiry=ExpiryPolicy.end_of_month(12),
    pending_days=14,
)


def warm_account(i: int, history: int, rng: np.random.Generator) -> tuple[LoyaltyAccount, datetime]:
    """An account with about ``history`` entries over two years; returns it and its last time."""
    acc = LoyaltyAccount(id=f"A{i}", customer_id=f"c{i}", program_id=PROGRAM.id)
    at = T0
    acc = acc.award(PROGRAM, "sign_up", at=at, key="signup").value
    k = 0
    while len(acc) < history:
        at += timedelta(hours=int(rng.integers(24, 24 * 30)))
        k += 1
        if k % 3 == 0 and acc.balance(at) >= 50:
            acc = acc.redeem(PROGRAM, 50, at=at, key=f"w-r{k}").value
        else:
            cents = int(rng.integers(500, 20_000))
            sale = Purchase(f"w{i}-{k}", f"c{i}", at, Money.of_minor(cents, "EUR"))
            acc = acc.earn(PROGRAM, sale, key=f"w-e{k}").value
    return acc, at


def make_ops(accounts: int, per_account: int, starts: list[datetime], seed: int) -> list[Any]:
    """The operation mix: (account index, kind, argument, key), round-robin over accounts."""
    rng = np.random.default_rng(seed)
    ops: list[Any] = []
    for j in range(per_account):
        for i in range(accounts):
            at = starts[i] + timedelta(days=15 + j)  # past the pending window of the warm-up
            if rng.random() < 0.7:
                cents = int(rng.integers(500, 20_000))
                channel = "app" if rng.random() < 0.3 else "web"
                sale = Purchase(f"m{i}-{j}", f"c{i}", at, Money.of_minor(cents, "EUR"),
                                channel=channel)  # fmt: skip
                ops.append((i, "earn", sale, f"m-e{j}"))
            else:
                ops.append((i, "redeem", at, f"m-r{j}"))
    return ops


class GcTimer:
    """Accumulates the wall time of the garbage collections run inside ``with`` blocks.

    Installed only around the timed call, so the ``gc.collect()`` that
    :func:`measure` runs before each repeat is not counted.
    """

    def __init__(self) -> None:
        self.total = 0.0
        self._start = 0.0

    def __call__(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self)


def run_mix(bases: list[LoyaltyAccount], ops: list[Any], copy_history: bool) -> int:
    """Apply ``ops`` to fresh copies of ``bases``; returns how many operations posted."""
    accs = list(bases)
    posted = 0
    program = PROGRAM
    for i, kind, arg, key in ops:
        acc = accs[i]
        if kind == "earn":
            acc = acc.earn(program, arg, key=key, tier="gold").value
        else:
            balance = acc.balance(arg)
            if balance < 10:
                continue
            acc = acc.redeem(program, 10, at=arg, key=key).value
        if copy_history:
            _ = acc.entries  # the baseline: a full tuple of the history per version
        accs[i] = acc
        posted += 1
    return posted


def bench_mix(
    accounts: int, history: int, per_account: int, repeats: int, seed: int, profile: bool = False
) -> None:
    """The earn/redeem throughput."""
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    # One independent set of warm accounts per run: a run never branches from another's.
    sets: list[list[LoyaltyAccount]] = []
    starts: list[datetime] = []
    for r in range(repeats * 2 + int(profile)):
        rng_r = np.random.default_rng(seed + 17 * r)
        warmed = [warm_account(i, history, rng_r) for i in range(accounts)]
        sets.append([a for a, _ in warmed])
        if r == 0:
            starts = [t for _, t in warmed]
        else:
            starts = [max(s, t) for s, (_, t) in zip(starts, warmed, strict=True)]
    ops = make_ops(accounts, per_account, starts, int(rng.integers(1 << 30)))
    entries = sum(len(a) for a in sets[0]) / accounts
    print(
        f"ledgers: {accounts:,} accounts x {entries:.0f} entries of history, "
        f"{len(ops):,} operations (70% earn with tier + campaign, 30% redeem); "
        f"prepared in {time.perf_counter() - t0:.1f} s"
    )
    ours_sets = iter(sets[:repeats])
    base_sets = iter(sets[repeats : repeats * 2])
    collector = GcTimer()

    def ours_run() -> int:
        with collector:
            return run_mix(next(ours_sets), ops, False)

    ours, posted = measure(ours_run, repeats)
    share = collector.total / repeats / ours  # mean GC time per run / median run time
    line(
        "crmcore ledger, earn/redeem mix",
        ours,
        f"{posted / ours:,.0f} ops/s ({posted:,} posted; {share:.0%} of the time in GC, "
        f"{ours / posted * 1e6:.1f} us/op)",
    )
    theirs, posted_b = measure(lambda: run_mix(next(base_sets), ops, True), repeats)
    line(
        "baseline: copy the entries tuple per operation",
        theirs,
        f"{posted_b / theirs:,.0f} ops/s; crmcore/baseline = {ours / theirs:.2f}x",
    )
    if profile:
        profiler = cProfile.Profile()
        gc.collect()
        profiler.enable()
        run_mix(sets[-1], ops, False)
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)


def build_accounts(accounts: int, seed: int) -> tuple[list[LoyaltyAccount], int]:
    """``accounts`` accounts of one to four purchases each (the same for the same seed)."""
    rng = np.random.default_rng(seed)
    accs: list[LoyaltyAccount] = []
    lots = rng.integers(1, 5, accounts)
    offsets = rng.integers(0, 700, (accounts, 4))
    cents = rng.integers(500, 20_000, (accounts, 4))
    for i in range(accounts):
        acc = LoyaltyAccount(id=f"B{i}", customer_id=f"c{i}", program_id=PROGRAM.id)
        days = np.sort(offsets[i, : lots[i]])
        for j in range(int(lots[i])):
            at = T0 + timedelta(days=int(days[j]))
            sale = Purchase(f"b{i}-{j}", f"c{i}", at, Money.of_minor(int(cents[i, j]), "EUR"))
            acc = acc.earn(PROGRAM, sale, key=f"e{j}").value
        accs.append(acc)
    return accs, int(lots.sum())


def bench_batch(accounts: int, repeats: int, seed: int) -> None:
    """Expiry and liability over ``accounts`` accounts of one to four lots each.

    Expiry changes what it runs on (a second run over the same account values
    would branch their shared journals), so each path runs once, on its own
    identical set of accounts built from the same seed.
    """
    t0 = time.perf_counter()
    accs, purchases = build_accounts(accounts, seed)
    twins, _ = build_accounts(accounts, seed)
    as_of = T0 + timedelta(days=720)
    print(
        f"batch: {accounts:,} accounts (twice), {purchases:,} purchases each, as of "
        f"{as_of.date()}; built in {time.perf_counter() - t0:.1f} s"
    )
    flatten, cols = measure(lambda: lot_columns(PROGRAM, accs), repeats)
    line("lot_columns (flatten once)", flatten, f"{len(cols):,} open lots")
    ours_gc = GcTimer()

    def ours_expiry() -> Any:
        with ours_gc:
            return expire_all(PROGRAM, accs, as_of)

    ours, run = measure(ours_expiry, 1)
    line(
        "crmcore expire_all (next_expiry per account)",
        ours,
        f"{run.accounts_expired:,} accounts expired, {run.expired_points:,} points; "
        f"{ours_gc.total / ours:.0%} in GC",
    )

    theirs_gc = GcTimer()

    def every_account() -> tuple[list[LoyaltyAccount], list[Any]]:
        kept: list[LoyaltyAccount] = []
        events: list[Any] = []
        with theirs_gc:
            for acc in twins:
                outcome = acc.expire(PROGRAM, as_of)
                kept.append(outcome.value)
                events.extend(outcome.events)
        return kept, events

    theirs, (kept, events) = measure(every_account, 1)
    assert kept == list(run.accounts)
    assert len(events) == len(run.events)
    line(
        "baseline: expire() on every account",
        theirs,
        f"crmcore/baseline = {ours / theirs:.2f}x; {theirs_gc.total / theirs:.0%} in GC",
    )
    after = lot_columns(PROGRAM, run.accounts)
    ours_l, report = measure(lambda: liability_report(PROGRAM, after, as_of), repeats)
    line(
        "crmcore liability_report (vectorised)",
        ours_l,
        f"{len(report.months)} months, {report.total_points:,} points = {report.total_value}",
    )

    def python_liability() -> dict[tuple[int, int], int]:
        out: dict[tuple[int, int], int] = {}
        for acc in run.accounts:
            for lot in acc.lots:
                if lot.expires_at is not None and lot.expires_at > as_of:
                    last = lot.expires_at - timedelta(microseconds=1)
                    month = (last.year, last.month)
                    out[month] = out.get(month, 0) + lot.available
        return out

    theirs_l, grouped = measure(python_liability, max(1, min(repeats, 3)))
    assert sum(grouped.values()) == report.total_points
    line(
        "baseline: Python loop over the lots",
        theirs_l,
        f"crmcore/baseline = {ours_l / theirs_l:.2f}x (flattening not included)",
    )


def main(argv: list[str] | None = None) -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--ledgers", type=int, default=10_000, help="accounts in the op mix")
    parser.add_argument("--history", type=int, default=40, help="entries per account before")
    parser.add_argument("--ops", type=int, default=20, help="operations per account measured")
    parser.add_argument("--accounts", type=int, default=1_000_000, help="accounts for expiry")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--quick", action="store_true", help="smaller: 2,000 ledgers, 100k accounts"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one mix run")
    parser.add_argument("--mix-only", action="store_true", help="skip the batch benchmarks")
    args = parser.parse_args(argv)
    ledgers, accounts = args.ledgers, args.accounts
    if args.quick:
        ledgers, accounts = min(ledgers, 2_000), min(accounts, 100_000)
    if min(ledgers, accounts, args.history, args.ops, args.repeat) < 1:
        parser.error("sizes and --repeat must be positive")
    print(f"crmcore loyalty benchmark: python {platform.python_version()}, numpy {np.__version__}")
    bench_mix(ledgers, args.history, args.ops, args.repeat, args.seed, args.profile)
    # Ten times the history on a tenth of the accounts: the cost per operation must not grow.
    bench_mix(max(1, ledgers // 10), args.history * 10, args.ops, args.repeat, args.seed)
    if not args.mix_only:
        bench_batch(accounts, args.repeat, args.seed)
    print(f"peak RSS: {peak_rss_gb():.2f} GB")


if __name__ == "__main__":
    main()
