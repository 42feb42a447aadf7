"""The vectorised funnel engine: per-customer outcomes from numpy columns.

Input is one row per event: customer code, time (int64 microseconds) and a
*signature*, a bit mask of the funnel steps (bits ``0..K-1``) and exclusions
(bits ``K..``) the event matches. Output is one row per customer who started
at least one trial: how far their chosen trial got, when it started and the
instant of each step (see [`crmcore.funnel.analytics`][crmcore.funnel.analytics] for the rules).
The paths themselves are `crmcore.funnel._paths`; here, which attempts count.
Both ways of counting share the paths: ``"trials"`` follows only the chain
of trials that re-entry opens, ``"max_step"`` a path from every step-1
instant, keeping the furthest.

When trials close only with their window (ordered or any-order funnels
without exclusions), the chain of trials is found on the starts alone, and
only the trials' paths are followed. A strict funnel without exclusions
reads every attempt's path off runs of instants (`crmcore.funnel._runs`)
for the customers none of whose instants matches two steps. Otherwise, when
a trial may close earlier (strict interruptions, exclusions), where it
closes depends on its path: the chains are walked a round at a time from
each customer's first attempt, following the paths of the frontier's
trials only.

Everything is whole-array numpy work. Python loops run over the funnel's
steps and exclusions only, plus a bounded number of rounds to walk the
chains of trials (finished by pointer jumping); never over customers or
events.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, Final, TypeAlias

import attrs
import numpy as np

from crmcore.funnel._paths import (
    PATHS,
    Stream,
    Trials,
    WindowAxis,
    check_customer_time_order,
    exclusions,
    stream_order,
)
from crmcore.funnel._runs import Runs, strict_runs
from crmcore.funnel._steps import Plan
from crmcore.kernel.arrays import BoolArray, Int64Array, UIntArray

__all__ = ["Outcomes", "check_customer_time_order", "outcomes", "signature_dtype"]


def signature_dtype(plan: Plan) -> type[np.unsignedinteger[Any]]:
    """The narrowest unsigned integer type with a bit for every step and exclusion."""
    bits = plan.size + len(plan.exclusions)
    return next(d for d in (np.uint8, np.uint16, np.uint32, np.uint64) if np.iinfo(d).bits >= bits)


_FRONTIER_ROUNDS: Final = 32  # walk trial chains one link at a time this often, then jump
_CHUNK_ROWS: Final = 1 << 20  # rows per chunk of customers (see ``outcomes``)


@attrs.frozen(eq=False)
class Outcomes:
    """What each customer's chosen trial achieved (one row per customer with a trial).

    ``customers`` are codes into the log's customer vocabulary, in stream
    order (ascending, unless the log came grouped in another order).
    ``reached`` is the number of steps reached (``0``: every trial was
    excluded, see ``excluded``); ``times_us[i, k]`` is the instant of step
    ``k`` (valid for ``k < reached[i]``); ``entry_us`` is the trial's start.
    """

    customers: Int64Array
    reached: Int64Array
    excluded: BoolArray
    entry_us: Int64Array
    times_us: Int64Array


@attrs.frozen(eq=False)
class _Attempts:
    """Every attempt (a possible trial) of a stream, and what re-entry looks up in them."""

    start: Int64Array  # the row of each attempt's start, ascending
    block: Int64Array  # each attempt's customer block
    first_from: Int64Array  # per instant (and one past the last): the first attempt there or later
    axis: WindowAxis | None  # the first attempt past each attempt's window

    @classmethod
    def of(cls, s: Stream, start: Int64Array, plan: Plan) -> _Attempts:
        """The attempts starting at rows ``start``."""
        block = s.block[start]
        counts = np.zeros(len(s.mstart) + 1, dtype=np.int64)
        counts[s.moment[start] + 1] = 1  # at most one attempt per instant
        first_from = np.cumsum(counts)
        axis = None if plan.window_us is None else WindowAxis(block, s.t[start], plan.window_us)
        return cls(start, block, first_from, axis)


def _next_trial(
    s: Stream,
    attempts: _Attempts,
    which: Int64Array,
    trials: Trials,
    excluded: BoolArray,
    first_hit: Int64Array,
    plan: Plan,
) -> Int64Array:
    """For the attempts ``which`` (with their ``trials``), the attempt that starts next for
    the customer when each is a trial (``len(attempts.start)``: none).

    Mixpanel's re-entry: after the window closed (ordered / any, strictly
    after ``start + window``), at the instant that interrupted a strict
    trial, or strictly after (the instant of) the first event that excluded
    the trial.
    """
    n = len(attempts.start)
    after = np.full(len(which), -1, dtype=np.int64)  # re-enter at this instant or later
    if plan.mode == "strict":
        stopped = trials.stop >= 0
        after[stopped] = trials.stop[stopped]
    by_window = (after < 0) & ~excluded
    after[excluded] = s.moment[first_hit[excluded]] + 1
    nxt = np.full(len(which), n, dtype=np.int64)
    rows = np.flatnonzero(after >= 0)
    nxt[rows] = attempts.first_from[after[rows]]
    if attempts.axis is not None and by_window.any():
        rows = np.flatnonzero(by_window)
        nxt[rows] = attempts.axis.after(which[rows])
    valid = nxt < n
    valid[valid] = attempts.block[nxt[valid]] == attempts.block[which[valid]]
    return np.where(valid, nxt, n)


def _attempts(
    s: Stream, attempts: _Attempts, which: Int64Array, plan: Plan
) -> tuple[Trials, BoolArray, Int64Array]:
    """The paths of the attempts ``which`` (indices into ``attempts``), whether an exclusion
    hit each, and the attempt that would follow each as a trial."""
    begin = attempts.start[which]
    deadline = None if plan.window_us is None else s.t[begin] + plan.window_us
    trials = PATHS[plan.mode](s, begin, plan, deadline)
    excluded, first_hit = exclusions(s, trials, plan, deadline)
    return trials, excluded, _next_trial(s, attempts, which, trials, excluded, first_hit, plan)


def _later_attempts(block: Int64Array, frontier: Int64Array) -> tuple[Int64Array, Int64Array]:
    """Every attempt of the customers of ``frontier`` from their frontier attempt on, and the
    position in ``frontier`` each belongs to."""
    ends = np.append(np.flatnonzero(block[1:] != block[:-1]), len(block) - 1)
    stop = ends[np.searchsorted(ends, frontier)] + 1
    lengths = stop - frontier
    offsets = np.repeat(frontier - (np.cumsum(lengths) - lengths), lengths)
    later: Int64Array = np.arange(int(lengths.sum()), dtype=np.int64) + offsets
    return later, np.repeat(np.arange(len(frontier), dtype=np.int64), lengths)


_Chosen: TypeAlias = tuple[Int64Array, Int64Array, Int64Array]
"""The trial each customer counts with: its start row, the steps it reached (0: excluded) and
the row of each step (-1 beyond), one customer per row."""


def _walk(s: Stream, start: Int64Array, roots: Int64Array, plan: Plan) -> _Chosen:
    """Each customer's chain of trials, walked from its first attempt (``roots``), and the
    trial each customer counts with.

    Where a trial may close before its window (strict interruptions,
    exclusions), where it closes depends on its path. The chains are walked
    a round at a time, following the paths of the frontier's trials only
    (about half of the attempts on typical logs are never trials, and their
    paths are never followed), and each customer's best trial so far is
    kept as the walk goes (a later trial replaces it only by reaching
    further: ties go to the earliest). Chains longer than
    ``_FRONTIER_ROUNDS`` are finished by following every later attempt of
    their customers and pointer jumping (``_chain``).
    """
    n, customers = len(start), len(roots)
    attempts = _Attempts.of(s, start, plan)
    score = np.full(customers, -1, dtype=np.int64)
    best_start = np.zeros(customers, dtype=np.int64)
    best_rows = np.full((customers, plan.size), -1, dtype=np.int64)

    def keep(owner: Int64Array, trials: Trials, excluded: BoolArray) -> None:
        got = np.where(excluded, 0, trials.reached)
        better = got > score[owner]  # each owner once per call
        who = owner[better]
        score[who] = got[better]
        best_start[who] = trials.start[better]
        best_rows[who] = trials.rows[better]

    frontier, owner = roots, np.arange(customers, dtype=np.int64)
    for _ in range(_FRONTIER_ROUNDS):
        trials, excluded, nxt = _attempts(s, attempts, frontier, plan)
        keep(owner, trials, excluded)
        more = nxt < n
        frontier, owner = nxt[more], owner[more]
        if not len(frontier):
            break
    else:
        pending, of = _later_attempts(attempts.block, frontier)
        trials, excluded, nxt = _attempts(s, attempts, pending, plan)
        local = np.full(n + 1, len(pending), dtype=np.int64)
        local[pending] = np.arange(len(pending), dtype=np.int64)
        links = local[nxt]  # each pending attempt's successor, as a pending position
        on = np.flatnonzero(_chain(len(pending), local[frontier], links.__getitem__))
        # The first of each customer's furthest trials on the rest of its chain.
        mine = of[on]
        got = np.where(excluded[on], 0, trials.reached[on])
        heads = _firsts(mine)
        top = np.repeat(np.maximum.reduceat(got, heads), np.diff(np.append(heads, len(got))))
        wins = np.flatnonzero(got == top)
        pick = on[wins[_firsts(mine[wins])]]
        keep(owner[of[pick]], trials.take(pick), excluded[pick])
    return best_start, score, best_rows


def _chain(n: int, roots: Int64Array, successors: Callable[[Int64Array], Int64Array]) -> BoolArray:
    """Mark the nodes reachable from ``roots`` by following ``successors`` (``n``: the end).

    Links always point forward, so chains are paths. A few rounds follow
    them one link at a time, asking ``successors`` only about the frontier
    (cheap: it shrinks fast); long chains are finished by pointer jumping
    over the links of all nodes, O(n log length).
    """
    on = np.zeros(n + 1, dtype=bool)
    on[roots] = True
    frontier = roots
    for _ in range(_FRONTIER_ROUNDS):
        frontier = successors(frontier)
        frontier = frontier[frontier < n]
        if not len(frontier):
            return on[:n]
        on[frontier] = True
    jump = np.append(successors(np.arange(n)), n)
    reach = np.zeros(n + 1, dtype=bool)
    reach[frontier] = True
    while True:
        reach[jump[np.flatnonzero(reach[:n])]] = True
        jump = jump[jump]
        if (jump[:n] == n).all():
            break
    reach[n] = False
    return on[:n] | reach[:n]


def outcomes(
    codes: Int64Array, at_us: Int64Array, sig: UIntArray, plan: Plan, grouped: bool
) -> Outcomes:
    """Per-customer outcomes of the funnel ``plan`` over events (customer code, time, signature).

    Customers are independent, so a large log is cut into chunks of whole
    customers of about ``_CHUNK_ROWS`` rows each (contiguous ranges of
    codes, split off with one 8-bit radix pass, or runs of a grouped log)
    and the chunks are computed one after another: their arrays stay small
    enough for the CPU caches and for the allocator to reuse, instead of
    mapping (and zeroing) fresh memory for every temporary.
    """
    sig = sig.astype(signature_dtype(plan), copy=False)  # narrow: less memory traffic
    if plan.mode != "strict":  # only strict mode needs the events that match nothing
        keep = np.flatnonzero(sig)
        if len(keep) < len(sig):
            codes, at_us, sig = codes[keep], at_us[keep], sig[keep]
    n = len(codes)
    if n <= 2 * _CHUNK_ROWS:
        return _outcomes(codes, at_us, sig, plan, grouped)
    if grouped:
        starts = np.flatnonzero(codes[1:] != codes[:-1]) + 1  # where each customer's rows begin
        near = np.searchsorted(starts, np.arange(_CHUNK_ROWS, n, _CHUNK_ROWS))
        bounds = [0, *np.unique(starts[near[near < len(starts)]]).tolist(), n]
    else:
        per_code = np.bincount(codes)
        chunks = -(-n // _CHUNK_ROWS)
        # Code boundaries at every n/chunks rows (a customer is never split).
        edges = np.searchsorted(np.cumsum(per_code), np.arange(1, chunks) * (n / chunks))
        chunk_of_code = np.zeros(len(per_code), dtype=np.int64)
        np.add.at(chunk_of_code, edges[edges < len(per_code)], 1)
        chunk_of_code = np.cumsum(chunk_of_code)
        chunk = chunk_of_code[codes].astype(np.uint8 if chunks <= 256 else np.uint16)
        order = np.argsort(chunk, kind="stable")
        codes, at_us, sig = codes[order], at_us[order], sig[order]
        bounds = [0, *np.cumsum(np.bincount(chunk)).tolist()]
    parts = [
        _outcomes(codes[a:b], at_us[a:b], sig[a:b], plan, grouped)
        for a, b in itertools.pairwise(bounds)
        if b > a
    ]
    return Outcomes(
        customers=np.concatenate([p.customers for p in parts]),
        reached=np.concatenate([p.reached for p in parts]),
        excluded=np.concatenate([p.excluded for p in parts]),
        entry_us=np.concatenate([p.entry_us for p in parts]),
        times_us=np.concatenate([p.times_us for p in parts]),
    )


def _outcomes(
    codes: Int64Array, at_us: Int64Array, sig: UIntArray, plan: Plan, grouped: bool
) -> Outcomes:
    """The outcomes of the customers of one chunk (all of their rows)."""
    s = Stream(*stream_order(codes, at_us, sig, plan, grouped), grouped=grouped)
    if plan.mode == "strict" and (runs := strict_runs(s, plan)) is not None:
        return _outcome(s, *_by_runs(s, runs, plan))
    # Trials start at the first event of an instant with a step-1 event (any order: any step).
    start = s.starts((1 << plan.size) - 1 if plan.mode == "any" else 1)
    return _outcome(s, *_by_paths(s, start, plan))


def _by_paths(s: Stream, start: Int64Array, plan: Plan) -> _Chosen:
    """The trials the customers count with, from the paths of the attempts at rows ``start``
    (all of those customers' attempts)."""
    if plan.counting == "max_step":
        # Every instant with a step-1 event starts a chain of its own: no chaining.
        deadline = None if plan.window_us is None else s.t[start] + plan.window_us
        trials = PATHS[plan.mode](s, start, plan, deadline)
        excluded = (
            exclusions(s, trials, plan, deadline)[0]
            if plan.exclusions
            else np.zeros(len(start), dtype=bool)
        )
        return _choose(s, trials, excluded, latest=True)
    start_block = s.block[start]
    roots = _firsts(start_block)
    if plan.mode != "strict" and not plan.exclusions:
        # Trials then close only when their window does: chain them first, and
        # walk the paths of the real trials only.
        if plan.window_us is None:
            start = start[roots]
        else:
            axis = WindowAxis(start_block, s.t[start], plan.window_us)
            start = start[_chain(len(start), roots, axis.after)]
        deadline = None if plan.window_us is None else s.t[start] + plan.window_us
        trials = PATHS[plan.mode](s, start, plan, deadline)
        return _choose(s, trials, np.zeros(len(start), dtype=bool))
    return _walk(s, start, roots, plan)


def _by_runs(s: Stream, runs: Runs, plan: Plan) -> _Chosen:
    """The trials a strict funnel's customers count with, from its runs
    (`crmcore.funnel._runs`): the trials are the chains of successors from each customer's
    first attempt (``"max_step"``: every attempt), and only the chosen trials' paths are
    spelled out. Customers the runs do not cover take the paths, and the two are merged in
    stream order."""
    n = len(runs.attempts)
    if plan.counting == "max_step":
        trials = np.flatnonzero(runs.plain)
    else:
        roots = _firsts(runs.block)
        roots = roots[runs.plain[roots]]
        trials = np.flatnonzero(_chain(n, roots, runs.successor.__getitem__))
    chosen = trials[_best(runs.block[trials], runs.reached[trials], plan.counting == "max_step")]
    plain = s.mstart[runs.attempts[chosen]], runs.reached[chosen]
    plain_rows = runs.step_rows(s, chosen, plan.size)
    if runs.plain.all():
        return (*plain, plain_rows)
    rest = _by_paths(s, s.mstart[runs.attempts[~runs.plain]], plan)
    start = np.concatenate((plain[0], rest[0]))
    order = np.argsort(start, kind="stable")
    return (
        start[order],
        np.concatenate((plain[1], rest[1]))[order],
        np.concatenate((plain_rows, rest[2]))[order],
    )


def _best(block: Int64Array, score: Int64Array, latest: bool) -> Int64Array:
    """Per run of equal ``block``: the position of the highest ``score``, ties to the first
    (``latest``: to the last)."""
    heads = _firsts(block)
    if not len(heads):
        return heads
    best = np.repeat(np.maximum.reduceat(score, heads), np.diff(np.append(heads, len(score))))
    wins = np.flatnonzero(score == best)
    return wins[_lasts(block[wins]) if latest else _firsts(block[wins])]


def _choose(s: Stream, trials: Trials, excluded: BoolArray, latest: bool = False) -> _Chosen:
    """Each customer's furthest trial, ties to the earliest (``latest``: to the latest).

    Excluded trials reach 0.
    """
    score = np.where(excluded, 0, trials.reached)
    chosen = _best(s.block[trials.start], score, latest)
    return trials.start[chosen], score[chosen], trials.rows[chosen]


def _outcome(s: Stream, start: Int64Array, reached: Int64Array, rows: Int64Array) -> Outcomes:
    """The outcomes of the chosen trials (one per customer, in stream order): their start,
    the steps reached (0: excluded) and the row of each step (-1 beyond)."""
    missing = rows < 0
    times = s.t[np.where(missing, 0, rows)]
    times[missing] = 0
    return Outcomes(
        customers=s.codes[start],
        reached=reached,
        excluded=reached == 0,
        entry_us=s.t[start],
        times_us=times,
    )


def _firsts(keys: Int64Array) -> Int64Array:
    """Positions where a run of equal ``keys`` begins."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))


def _lasts(keys: Int64Array) -> Int64Array:
    """Positions where a run of equal ``keys`` ends."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate((keys[1:] != keys[:-1], [True])))
