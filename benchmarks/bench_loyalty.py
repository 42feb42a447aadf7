"""Benchmark: the points ledger in memory, one account at a time and in batches; expiry; liability.

Measured in one process, as medians over ``--repeat`` rounds (each round runs every contender
once, in turn, so a busy machine slows them alike), wall and CPU time:

* **preparing the warm accounts.** ``--ledgers`` accounts with a realistic history (``--history``
  entries: purchases with pending points, redemptions, expiries under "end of the 12th month"),
  then the same with ten times the history on a tenth of the accounts (the 200 x 400 case of
  issue 18). Each run needs accounts of its own (acting on an older version copies its journal,
  which would be timed). The old preparation built every run's set through the operations
  (``2 x --repeat`` sets, each holding its own entries); now one set is built and the others are
  rebuilt from its entries (``LoyaltyAccount.from_entries``, the storage decode path: replayed
  and validated, sharing the entry values). Both are run in a fresh child process (``spawn``)
  for their time and peak RSS;
* **earn/redeem mix, one account at a time.** 70 % earns (prebuilt ``Purchase`` values, a tier
  multiplier and a campaign) and 30 % redemptions of 10 points (skipped when the balance is
  short), round-robin over the accounts: operations per second and the share of the time in the
  cyclic garbage collector, which walks every live entry of every account in memory; the same
  after ``gc.freeze()`` (what a server does after loading its working set) shows the ledger's
  own cost. Baseline: a copy-on-write aggregate that materialises its whole
  entries tuple on every operation (what a plain ``tuple`` field would cost);
* **the same mix as one batch.** ``post_batch`` on the same accounts with their
  ``LedgerColumns`` (built once, outside the timer; a batch returns the next one) and the
  operations as ``Postings`` arrays (built once, outside the timer). Baseline: the per-account
  calls above on the same operations. The batch's accounts must equal the per-account ones
  (entries, lots, events), checked after the timing; building them from the batch's arrays
  (``BatchPosting.accounts``, lazily) is timed on its own, and so is the first ``post_batch``
  call in the process (fresh memory to fault in: 1.3-1.5x a warm call), before the rounds.
  ``post_batch`` runs five times a round (the median is of ``5 x --repeat`` calls);
* **the floor of one call** (after the first mix): the values one earn must
  build, timed alone in a loop (CPU time, no GC): the entry, the lot, the state, the event, the
  outcome and the new account, plus the input checks every call makes (the key, the canonical
  request text, the points quote). No per-account implementation that returns those values can
  beat it in this interpreter; the ledger's bookkeeping (idempotency, expiry, FIFO order, the
  pending lots, the lock) comes on top;
* **expiry of many accounts** (``expire_all`` against ``expire()`` on every account) and the
  **liability report** (vectorised against a Python loop over the lots).

Targets (issue 18): >= 200,000 ops/s one account at a time; >= 1,000,000 ops/s batched.

Run from the repository root::

    .venv/bin/python benchmarks/bench_loyalty.py --quick    # 2,000 ledgers / 100k accounts
    .venv/bin/python benchmarks/bench_loyalty.py            # 10,000 ledgers / 1M accounts
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import multiprocessing
import platform
import pstats
import resource
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from _timing import line as _timing_line
from _timing import measure, peak_rss_gb

from crmcore.customers import Purchase
from crmcore.kernel.clock import to_micros
from crmcore.kernel.ids import validate_id
from crmcore.kernel.money import Money
from crmcore.loyalty._journal import LedgerState
from crmcore.loyalty.entries import EntryType, new_entry, new_lot
from crmcore.loyalty.events import outcome, points_earned
from crmcore.loyalty.expiry import ExpiryPolicy
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.ledger_batch import expire_all, ledger_columns, liability_report, lot_columns
from crmcore.loyalty.posting_batch import Postings, PostingStatus, post_batch
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


def warm_set(accounts: int, history: int, seed: int) -> tuple[list[LoyaltyAccount], list[datetime]]:
    """``accounts`` warm accounts built through the operations (the same for the same seed)."""
    rng = np.random.default_rng(seed)
    warmed = [warm_account(i, history, rng) for i in range(accounts)]
    return [a for a, _ in warmed], [t for _, t in warmed]


def rebuilt(accounts: list[LoyaltyAccount]) -> list[LoyaltyAccount]:
    """The same accounts rebuilt from their entries (replayed and validated, as on decoding)."""
    return [
        LoyaltyAccount.from_entries(
            id=a.id, customer_id=a.customer_id, program_id=a.program_id, entries=a.entries
        )
        for a in accounts
    ]


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
                sale = Purchase(
                    f"m{i}-{j}", f"c{i}", at, Money.of_minor(cents, "EUR"), channel=channel
                )
                ops.append((i, "earn", sale, f"m-e{j}"))
            else:
                ops.append((i, "redeem", at, f"m-r{j}"))
    return ops


def postings_of(ops: list[Any]) -> Postings:
    """The mix as batch columns (every earn in the gold tier, like ``run_mix``)."""
    earn = [kind == "earn" for _, kind, _, _ in ops]
    return Postings(
        account=[i for i, _, _, _ in ops],
        kind=[0 if e else 2 for e in earn],
        at_us=[
            to_micros(arg.at if e else arg) for (_, _, arg, _), e in zip(ops, earn, strict=True)
        ],
        keys=[key for _, _, _, key in ops],
        refs=[arg.order_id if e else "" for (_, _, arg, _), e in zip(ops, earn, strict=True)],
        points=[0 if e else 10 for e in earn],
        amount_minor=[
            int(arg.amount.amount * 100) if e else 0
            for (_, _, arg, _), e in zip(ops, earn, strict=True)
        ],
        currency="EUR",
        channel=[
            1 if e and arg.channel == "app" else 0
            for (_, _, arg, _), e in zip(ops, earn, strict=True)
        ],
        category=[-1] * len(ops),
        tier=[0 if e else -1 for e in earn],
        channels=("web", "app"),
        tiers=("gold",),
    )


class GcTimer:
    """Accumulates the wall time of the garbage collections run inside ``with`` blocks."""

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


def run_mix(bases: list[LoyaltyAccount], ops: list[Any], copy_history: bool) -> list[Any]:
    """Apply ``ops`` to ``bases`` one account at a time; returns the accounts after them."""
    accs = list(bases)
    program = PROGRAM
    for i, kind, arg, key in ops:
        acc = accs[i]
        if kind == "earn":
            acc = acc.earn(program, arg, key=key, tier="gold").value
        else:
            if acc.balance(arg) < 10:
                continue
            acc = acc.redeem(program, 10, at=arg, key=key).value
        if copy_history:
            _ = acc.entries  # the baseline: a full tuple of the history per version
        accs[i] = acc
    return accs


def interleaved(
    runs: dict[str, tuple[Callable[[], Any], Callable[[Any], Any]]],
    repeats: int,
    times_per_round: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Run each contender in turn, round by round (``times_per_round[name]`` times a round, one
    by default): ``setup()`` untimed, then ``run(setup())`` timed; median (wall, CPU) seconds and
    the last result. Inputs and results are dropped between runs, so the heap the garbage
    collector walks stays the same for everyone."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    results: dict[str, Any] = {}
    for _ in range(repeats):
        for name, (setup, run) in runs.items():
            for _ in range((times_per_round or {}).get(name, 1)):
                results[name] = None
                given = setup()
                gc.collect()
                wall, cpu = time.perf_counter(), time.process_time()
                results[name] = run(given)
                times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
                del given
    return {
        name: (
            statistics.median(w for w, _ in times[name]),
            statistics.median(c for _, c in times[name]),
            results[name],
        )
        for name in runs
    }


def _prepare_child(kind: str, accounts: int, history: int, sets: int, seed: int, out: Any) -> None:
    """In a fresh interpreter: prepare ``sets`` sets the ``kind`` way; report seconds and RSS."""
    gc.collect()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    first, _ = warm_set(accounts, history, seed)
    kept = [first]
    for _ in range(1, sets):
        kept.append(warm_set(accounts, history, seed)[0] if kind == "old" else rebuilt(first))
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.put((seconds, (peak - base) / 1024**2, sum(len(a) for a in kept[0]), len(kept)))


def bench_preparation(accounts: int, history: int, sets: int, seed: int) -> None:
    """Preparing ``sets`` warm sets: one by operations each (old) or one then rebuilt (new)."""
    context = multiprocessing.get_context("spawn")
    found = {}
    for kind in ("old", "new"):
        queue = context.Queue()
        child = context.Process(
            target=_prepare_child, args=(kind, accounts, history, sets, seed, queue)
        )
        child.start()
        found[kind] = queue.get()
        child.join()
    (old_s, old_gb, entries, _), (new_s, new_gb, _, _) = found["old"], found["new"]
    print(
        f"preparation of {sets} sets of {accounts:,} accounts x {history} entries "
        f"({entries:,} entries a set), each in a fresh process:"
    )
    line("old: every set built by operations", old_s, f"peak RSS +{old_gb:.2f} GB")
    line(
        "new: one set built, the others from its entries",
        new_s,
        f"peak RSS +{new_gb:.2f} GB; new/old = {new_s / old_s:.2f}x time, "
        f"{new_gb / old_gb:.2f}x memory",
    )


def bench_mix(
    accounts: int,
    history: int,
    per_account: int,
    repeats: int,
    seed: int,
    profile: bool = False,
    floor: bool = False,
) -> None:
    """The earn/redeem throughput, one account at a time and as one batch."""
    t0 = time.perf_counter()
    first, starts = warm_set(accounts, history, seed)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    rebuilt(first)
    replayed = time.perf_counter() - t0
    ops = make_ops(accounts, per_account, starts, seed + 1)
    entries = sum(len(a) for a in first)
    print(
        f"ledgers: {accounts:,} accounts x {entries / accounts:.0f} entries of history "
        f"(built by operations in {built:.1f} s; rebuilt from entries in {replayed:.2f} s, "
        f"{replayed / entries * 1e6:.1f} us an entry), {len(ops):,} operations "
        "(70% earn with tier + campaign, 30% redeem)"
    )
    columns = ledger_columns(PROGRAM, first)
    postings = postings_of(ops)
    collector = GcTimer()

    def ours(bases: list[LoyaltyAccount]) -> list[Any]:
        with collector:
            return run_mix(bases, ops, False)

    def frozen(bases: list[LoyaltyAccount]) -> list[Any]:
        gc.freeze()  # what a server does after loading its working set: the collector skips it
        try:
            return run_mix(bases, ops, False)
        finally:
            gc.unfreeze()

    def batch(bases: list[LoyaltyAccount]) -> Any:
        return post_batch(PROGRAM, bases, postings, columns=columns)

    def fresh() -> list[LoyaltyAccount]:
        return rebuilt(first)  # each run posts to accounts of its own (no branching timed)

    # The first call in the process touches fresh memory (page faults) and numpy's caches: it
    # is timed on its own line, so the medians below are of calls in a warm process.
    gc.collect()
    cold_wall, cold_cpu = time.perf_counter(), time.process_time()
    batch(first)
    cold_wall, cold_cpu = time.perf_counter() - cold_wall, time.process_time() - cold_cpu
    found = interleaved(
        {
            "ours": (fresh, ours),
            "frozen": (fresh, frozen),
            "baseline": (fresh, lambda bases: run_mix(bases, ops, True)),
            "batch": (lambda: first, batch),
        },
        repeats,
        {"batch": 5},  # a fraction of a second: five calls a round steady its median
    )
    wall, cpu, after = found["ours"]
    posted = sum(len(a) for a in after) - entries  # entries posted (expiries included)
    done = found["batch"][2]
    n_posted = int((done.status == PostingStatus.POSTED).sum())
    share = collector.total / repeats / wall
    line(
        "crmcore ledger, one account at a time",
        wall,
        f"{n_posted / wall:,.0f} ops/s ({n_posted / cpu:,.0f} per CPU second; {n_posted:,} "
        f"posted, {posted:,} entries; {share:.0%} of the time in GC)",
    )
    f_wall, f_cpu, _ = found["frozen"]
    line(
        "  the same after gc.freeze() (heap not walked)",
        f_wall,
        f"{n_posted / f_wall:,.0f} ops/s ({n_posted / f_cpu:,.0f} per CPU second): the "
        "ledger's own cost",
    )
    b_wall, _, _ = found["baseline"]
    line(
        "baseline: copy the entries tuple per operation",
        b_wall,
        f"{n_posted / b_wall:,.0f} ops/s; one-at-a-time/baseline = {wall / b_wall:.2f}x",
    )
    p_wall, p_cpu, _ = found["batch"]
    line(
        "crmcore post_batch (engine, columns carried)",
        p_wall,
        f"{len(ops) / p_wall:,.0f} ops/s ({len(ops) / p_cpu:,.0f} per CPU second); "
        f"batch/one-at-a-time = {p_wall / wall:.3f}x ({wall / p_wall:.0f}x faster)",
    )
    line(
        "  its first call in the process (cold memory)",
        cold_wall,
        f"{len(ops) / cold_wall:,.0f} ops/s ({len(ops) / cold_cpu:,.0f} per CPU second)",
    )
    t0 = time.perf_counter()
    materialised = done.accounts
    events = done.events
    m_wall = time.perf_counter() - t0
    line(
        "  + its accounts and events, built on demand",
        m_wall,
        f"{len(ops) / (p_wall + m_wall):,.0f} ops/s end to end",
    )
    assert list(materialised) == after, "the batch and the per-account path disagree"
    assert all(
        m.lots == a.lots and m.debt == a.debt for m, a in zip(materialised, after, strict=True)
    )
    assert len(events) == posted
    if floor:
        bench_floor(after[0], repeats)
    if profile:
        profiler = cProfile.Profile()
        gc.collect()
        profiler.enable()
        run_mix(rebuilt(first), ops, False)
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)


def bench_floor(account: LoyaltyAccount, repeats: int) -> None:
    """The values one earn returns and keeps, and its input checks, built alone (CPU time)."""
    at = account.last_at or T0
    sale = Purchase("floor-1", account.customer_id, at, Money.of_minor(1234, "EUR"))
    state = account._state
    spend = sale.amount
    earn = EntryType.EARN

    def objects() -> Any:
        entry = new_entry(
            earn, "k", at, 10, (("k", 10),), "r", order_id="o", spend=spend, earned_at=at
        )
        lot = new_lot("k", state.n, 10, 10, at, None, None, "o")
        after = LedgerState(
            state.journal, state.n + 1, (*state.lots, lot), 0, 10, at, at, 10, (), 0, None
        )
        event = points_earned(account.id, at, account.customer_id, "k", 10, 10, "o", None, None)
        return entry, outcome(account._spawn(after), (event,))

    def inputs() -> Any:
        validate_id("floor-key-1", "key")
        text = f"earn|{sale.order_id}|{sale.amount.amount}|{sale.channel}|{sale.category}|gold"
        return text, PROGRAM._derived.quote(sale, "gold")

    number = 20_000
    gc.disable()
    try:
        made = min(timeit.repeat(objects, number=number, repeat=repeats, timer=time.process_time))
        checked = min(timeit.repeat(inputs, number=number, repeat=repeats, timer=time.process_time))
    finally:
        gc.enable()
    floor = (made + checked) / number
    line(
        f"floor: {number:,} earns' values, built alone",
        made + checked,
        f"{made / number * 1e6:.2f} us the entry, lot, state, event, outcome and account + "
        f"{checked / number * 1e6:.2f} us key, request text and quote: at most "
        f"{1 / floor:,.0f} ops per CPU second before any bookkeeping",
    )


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
    twins = rebuilt(accs)
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
    parser.add_argument("--mix-only", action="store_true", help="skip expiry and liability")
    parser.add_argument(
        "--no-preparation", action="store_true", help="skip the old/new preparation comparison"
    )
    args = parser.parse_args(argv)
    ledgers, accounts = args.ledgers, args.accounts
    if args.quick:
        ledgers, accounts = min(ledgers, 2_000), min(accounts, 100_000)
    if min(ledgers, accounts, args.history, args.ops, args.repeat) < 1:
        parser.error("sizes and --repeat must be positive")
    print(f"crmcore loyalty benchmark: python {platform.python_version()}, numpy {np.__version__}")
    long_ledgers, long_history = max(1, ledgers // 10), args.history * 10
    if not args.no_preparation:
        bench_preparation(long_ledgers, long_history, 2 * args.repeat, args.seed)
    bench_mix(ledgers, args.history, args.ops, args.repeat, args.seed, args.profile, True)
    # Ten times the history on a tenth of the accounts: the cost per operation must not grow.
    bench_mix(long_ledgers, long_history, args.ops, args.repeat, args.seed)
    if not args.mix_only:
        bench_batch(accounts, args.repeat, args.seed)
    print(f"peak RSS: {peak_rss_gb():.2f} GB")


if __name__ == "__main__":
    main()
