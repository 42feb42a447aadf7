"""The vectorised funnel engine: per-customer outcomes from numpy columns.

Input is one row per event: customer code, time (int64 microseconds) and a
*signature*, a bit mask of the funnel steps (bits ``0..K-1``) and exclusions
(bits ``K..``) the event matches. Output is one row per customer who started
at least one trial: how far their chosen trial got, when it started and the
instant of each step (see [`crmcore.funnel.analytics`][crmcore.funnel.analytics] for the rules).

Everything is whole-array numpy work. Python loops run over the funnel's
steps and exclusions only, plus a bounded number of pointer-jumping rounds
to walk the chains of trials; never over customers or events.

The stream order is (customer, time, first step the event matches, log
order): at equal timestamps events are taken in step order, the "most
generous" reading PostHog gets by replaying every permutation of a tie.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any, Final

import attrs
import numpy as np

from crmcore.funnel._steps import Plan
from crmcore.kernel.arrays import AnyArray, BoolArray, Int8Array, Int64Array, UIntArray
from crmcore.kernel.errors import ValidationError

__all__ = ["Outcomes", "outcomes", "signature_dtype", "step_rank"]


def signature_dtype(plan: Plan) -> type[np.unsignedinteger[Any]]:
    """The narrowest unsigned integer type with a bit for every step and exclusion."""
    bits = plan.size + len(plan.exclusions)
    return next(d for d in (np.uint8, np.uint16, np.uint32, np.uint64) if np.iinfo(d).bits >= bits)


_BIG: Final = np.iinfo(np.int64).max
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


def step_rank(signature: UIntArray, steps: int, bits: int) -> Int8Array:
    """For each event, the first step it matches (``steps`` when it matches none).

    ``bits`` is the number of signature bits in use; up to 16 the answer is
    read from a table of every signature (one gather instead of a pass per step).
    """
    if bits <= 16:
        table = np.full(1 << bits, steps, dtype=np.int8)
        values = np.arange(1 << bits)
        for k in reversed(range(steps)):
            table[(values >> k) & 1 == 1] = k
        ranks: Int8Array = table[signature]
        return ranks
    rank = np.full(len(signature), steps, dtype=np.int8)
    for k in reversed(range(steps)):
        rank[(signature >> k) & 1 == 1] = k
    return rank


def _radix_argsort(keys: Int64Array) -> Int64Array:
    """A stable argsort of non-negative int64 keys, least significant digit first.

    numpy radix-sorts 8- and 16-bit integers (``kind="stable"``), several
    times faster than its merge sort of int64 on large random input. Digits
    are 16 bits, the last one 8 bits when that is enough (customer codes
    below 2**24 take one 16-bit and one 8-bit pass); each pass gathers only
    the next digit, not the keys.
    """
    top = int(keys.max()) if len(keys) else 0
    order: Int64Array | None = None
    shift = 0
    while True:
        width = 8 if shift > 0 and top >> shift < 1 << 8 else 16
        # The cast keeps the low bits: no masking copy needed.
        digit = (keys >> shift if shift else keys).astype(np.uint8 if width == 8 else np.uint16)
        step = np.argsort(digit if order is None else digit[order], kind="stable")
        order = step if order is None else order[step]
        shift += width
        if top >> shift == 0:
            return order


def check_customer_time_order(codes: Int64Array, at_us: Int64Array, ids: AnyArray) -> None:
    """Raise if rows are not grouped by customer and time-ordered within each customer.

    The error names the first row (in log order) that breaks the promise, so
    ``assume_sorted=True`` can never silently give a wrong number.
    """
    n = len(codes)
    if n < 2:
        return
    same = codes[1:] == codes[:-1]
    back = same & (at_us[1:] < at_us[:-1])
    bad_time = int(np.argmax(back)) + 1 if back.any() else n
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    first = np.unique(codes[starts], return_index=True)[1]
    bad_group = n
    if len(first) < len(starts):
        seen_before = np.ones(len(starts), dtype=bool)
        seen_before[first] = False
        bad_group = int(starts[np.argmax(seen_before)])
    row = min(bad_time, bad_group)
    if row == n:
        return
    customer = str(ids[int(codes[row])])
    reason = (
        f"is earlier than the previous event of customer {customer!r}"
        if row == bad_time
        else f"continues customer {customer!r} after other customers' rows (rows are not grouped)"
    )
    raise ValidationError(
        f"row {row}: at",
        str(at_us[row].astype("datetime64[us]")),
        f"{reason}; with assume_sorted=True the log must be grouped by customer and "
        "time-ordered (EventLog.sort_by_customer_time()), or leave assume_sorted=False",
    )


def _stream_order(
    codes: Int64Array, at_us: Int64Array, sig: UIntArray, plan: Plan, grouped: bool
) -> tuple[Int64Array, Int64Array, UIntArray]:
    """The rows (customer code, time, signature) in stream order, by a stable sort.

    ``grouped``: rows are known to be grouped by customer and time-ordered
    (verified by the caller), so only equal-time ties may need reordering.
    """
    steps = plan.size
    if len(codes) < 2:
        return codes, at_us, sig
    if not grouped:
        same = codes[1:] == codes[:-1]
        rising = at_us[1:] >= at_us[:-1]
        if not ((codes[1:] > codes[:-1]) | (same & rising)).all():
            low = int(codes.min())
            relative = codes - low  # fewer radix passes for a chunk's narrow range of codes
            if rising.all():  # a time-ordered log (the usual append-only case)
                order = _radix_argsort(relative)
            else:
                by_time = np.argsort(at_us, kind="stable")
                order = by_time[_radix_argsort(relative[by_time])]
            at_us, sig = at_us[order], sig[order]
            # Sorted by code, the codes are each code repeated by its count: no gather needed.
            present = np.bincount(relative)
            codes = np.repeat(np.arange(low, low + len(present), dtype=np.int64), present)
    rank = step_rank(sig, steps, steps + len(plan.exclusions))
    tie = (codes[1:] == codes[:-1]) & (at_us[1:] == at_us[:-1])
    if (tie & (rank[1:] < rank[:-1])).any():
        moment = np.concatenate(([0], np.cumsum(~tie)))
        fix = np.argsort(moment * (steps + 1) + rank.astype(np.int64), kind="stable")
        codes, at_us, sig = codes[fix], at_us[fix], sig[fix]
    return codes, at_us, sig


def _next_at(positions: Int64Array, after: Int64Array, side: str) -> tuple[Int64Array, BoolArray]:
    """The first entry of sorted ``positions`` after (``right``) / at or after (``left``) each."""
    if not len(positions):
        return np.zeros(len(after), dtype=np.int64), np.zeros(len(after), dtype=bool)
    i = np.searchsorted(positions, after, side=side)  # type: ignore[call-overload]
    found = i < len(positions)
    return positions[np.minimum(i, len(positions) - 1)], found


def _pair_keys(groups: Int64Array, times: Int64Array) -> AnyArray:
    """Keys that sort like the pairs (group, time): big-endian bytes of two non-negative int64.

    numpy has no lexicographic ``searchsorted``; 16-byte strings compare
    byte by byte, which for big-endian non-negative integers is numeric
    order, first on the group, then on the time.
    """
    pairs = np.empty((len(groups), 2), dtype=">i8")
    pairs[:, 0] = groups
    pairs[:, 1] = times
    keys: AnyArray = pairs.view("S16").ravel()
    return keys


class _WindowAxis:
    """Answers "the first entry of the same block later than ``t + window``" for sorted pairs.

    One time axis serves all blocks: gaps between consecutive times are
    clipped to ``window + 1`` and every block starts ``window + 1`` after the
    previous one. Clipping never changes whether two times of a block are
    more than ``window`` apart, and the axis stays increasing. If it could
    overflow int64, byte keys of the pairs are searched instead.
    """

    def __init__(self, block: Int64Array, t: Int64Array, window: int) -> None:
        self.block = block
        self.window = window
        n = len(t)
        self.base = int(t.min()) if n else 0
        self.t = t
        self.axis: Int64Array | None = None
        self.keys: AnyArray | None = None
        gaps = np.diff(t)
        np.minimum(gaps, window + 1, out=gaps)
        gaps[block[1:] != block[:-1]] = window + 1
        if float(gaps.sum(dtype=np.float64)) + window < 2.0**62:
            self.axis = np.zeros(n, dtype=np.int64)
            np.cumsum(gaps, out=self.axis[1:])
        else:  # pragma: no cover - needs a history of ~2**62 microseconds of windows
            self.keys = _pair_keys(block, t - self.base)

    def after(self, rows: Int64Array) -> Int64Array:
        """For entries ``rows``: the next entry past their window (``len``: none)."""
        n = len(self.block)
        if self.axis is not None:
            found = np.searchsorted(self.axis, self.axis[rows] + self.window, side="right")
        else:
            assert self.keys is not None
            query = _pair_keys(self.block[rows], self.t[rows] - self.base + self.window)
            found = np.searchsorted(self.keys, query, side="right")
        same = found < n
        same[same] = self.block[found[same]] == self.block[rows[same]]
        return np.where(same, found, n).astype(np.int64)


class _Stream:
    """Rows in stream order: customer code, block, time and signature; instants on demand.

    ``block`` identifies each customer's run of rows and ascends through the
    stream (the codes themselves when the sort produced them, else dense ids).
    An *instant* ("moment") is a run of one customer's rows sharing a time;
    its arrays are built only by the modes that need them.
    """

    def __init__(self, codes: Int64Array, t: Int64Array, sig: UIntArray, grouped: bool) -> None:
        self.codes = codes
        self.t = t
        self.sig = sig
        n = len(codes)
        self.new_moment = np.ones(n, dtype=bool)
        self.new_moment[1:] = (codes[1:] != codes[:-1]) | (t[1:] != t[:-1])
        if grouped and n:  # a grouped log's customers need not come in code order
            new_block = np.ones(n, dtype=bool)
            new_block[1:] = codes[1:] != codes[:-1]
            self.block: Int64Array = np.cumsum(new_block) - 1
        else:
            self.block = codes

    def rows(self, bit: int) -> Int64Array:
        """Rows (positions) whose signature has ``bit``."""
        return np.flatnonzero((self.sig >> bit) & 1)

    def starts(self, bits: int) -> Int64Array:
        """The first row of every instant that has a row matching ``bits``.

        Stream order puts the rows matching step 1 first in their instant
        (in "any" order: the rows matching any step), so that row is the
        instant's first.
        """
        return np.flatnonzero(self.new_moment & ((self.sig & bits) != 0)).astype(np.int64)

    @functools.cached_property
    def moment(self) -> Int64Array:
        """Instant id of each row, ascending."""
        ids: Int64Array = np.cumsum(self.new_moment) - 1
        return ids

    @functools.cached_property
    def mstart(self) -> Int64Array:
        """First row of each instant."""
        return np.flatnonzero(self.new_moment).astype(np.int64)

    @functools.cached_property
    def mend(self) -> Int64Array:
        """One past the last row of each instant."""
        return np.append(self.mstart[1:], len(self.t)).astype(np.int64)

    def moment_has(self, bit: int) -> BoolArray:
        """For each instant: does any of its rows match ``bit``."""
        if not len(self.sig):
            return np.zeros(0, dtype=bool)
        has: BoolArray = np.logical_or.reduceat((self.sig >> bit) & 1 == 1, self.mstart)
        return has


@attrs.frozen(eq=False)
class _Trials:
    """Trials with their paths: the row of each step reached (-1 beyond), and how they end."""

    start: Int64Array  # row of each trial's start, ascending
    reached: Int64Array
    rows: Int64Array  # (n, K)
    stop: Int64Array  # strict: the instant that interrupted the trial, -1 if none

    def take(self, which: Int64Array | BoolArray) -> _Trials:
        """The trials selected by ``which``."""
        return _Trials(self.start[which], self.reached[which], self.rows[which], self.stop[which])


def _same_block(s: _Stream, rows: Int64Array, start: Int64Array) -> BoolArray:
    same: BoolArray = s.block[rows] == s.block[start]
    return same


def _ordered(s: _Stream, start: Int64Array, plan: Plan, deadline: Int64Array | None) -> _Trials:
    """Ordered: step k is the first step-k event after step k-1's event, within the window."""
    n, steps = len(start), plan.size
    rows = np.full((n, steps), -1, dtype=np.int64)
    rows[:, 0] = start
    reached = np.ones(n, dtype=np.int64)
    live = np.arange(n)
    at = start
    for k in range(1, steps):
        cand, ok = _next_at(s.rows(k), at, "right")
        ok &= _same_block(s, cand, start[live])
        if deadline is not None:
            ok &= s.t[cand] <= deadline[live]
        live, at = live[ok], cand[ok]
        if not len(live):
            break
        rows[live, k] = at
        reached[live] = k + 1
    return _Trials(start, reached, rows, np.full(n, -1, dtype=np.int64))


def _strict(s: _Stream, start: Int64Array, plan: Plan, deadline: Int64Array | None) -> _Trials:
    """Strict: the trial advances instant by instant (see the module docs of ``analytics``).

    At each of the customer's later instants the trial takes the next step
    (and every further step the same instant provides), stays put on a
    repeat of its current step, or is interrupted; per step, the repeats
    are skipped with one search over the instants that are not repeats.
    """
    n, steps = len(start), plan.size
    rows = np.full((n, steps), -1, dtype=np.int64)
    rows[:, 0] = start
    reached = np.ones(n, dtype=np.int64)
    stop = np.full(n, -1, dtype=np.int64)
    has = [s.moment_has(k) for k in range(steps)]
    last = len(s.mstart) - 1
    live = np.arange(n)
    at = start
    for k in range(1, steps):
        rows_k = s.rows(k)
        # 1. The same instant provides step k after the current event.
        cand, same = _next_at(rows_k, at, "right")
        same &= s.moment[cand] == s.moment[at]
        # 2. Else the first later instant that is not a mere repeat of step k-1.
        turn = np.flatnonzero(~has[k - 1] | has[k])
        nxt, found = _next_at(turn, s.moment[at] + 1, "left")
        nxt = np.minimum(nxt, last)
        first = s.mstart[nxt]
        found &= ~same & _same_block(s, first, start[live])
        if deadline is not None:
            found &= s.t[first] <= deadline[live]
        enters = found & has[k][nxt]
        entry, _ = _next_at(rows_k, first, "left")
        interrupted = found & ~enters
        stop[live[interrupted]] = nxt[interrupted]
        ok = same | enters
        at = np.where(same, cand, entry)[ok]
        live = live[ok]
        if not len(live):
            break
        rows[live, k] = at
        reached[live] = k + 1
    return _Trials(start, reached, rows, stop)


def _any(s: _Stream, start: Int64Array, plan: Plan, deadline: Int64Array | None) -> _Trials:
    """Any order: step j counts at its first event in the window; steps sorted by time."""
    n, steps = len(start), plan.size
    first = np.full((n, steps), _BIG, dtype=np.int64)
    for j in range(steps):
        cand, ok = _next_at(s.rows(j), start, "left")
        ok &= _same_block(s, cand, start)
        if deadline is not None:
            ok &= s.t[cand] <= deadline
        first[ok, j] = cand[ok]
    first.sort(axis=1)  # rows ascend with time within a customer
    done = first < _BIG
    rows = np.where(done, first, -1)
    return _Trials(start, done.sum(axis=1), rows, np.full(n, -1, dtype=np.int64))


_PATHS: Final = {"ordered": _ordered, "strict": _strict, "any": _any}


def _exclusions(
    s: _Stream, trials: _Trials, plan: Plan, deadline: Int64Array | None
) -> tuple[BoolArray, Int64Array]:
    """Which trials an exclusion hits, and the first excluding row of each."""
    n, steps = len(trials.start), plan.size
    excluded = np.zeros(n, dtype=bool)
    first_hit = np.full(n, _BIG, dtype=np.int64)
    for e, (after, before) in enumerate(plan.exclusion_bounds):
        rows = s.rows(steps + e)
        live = np.flatnonzero(trials.reached > after)
        if not len(rows) or not len(live):
            continue
        lower = s.mend[s.moment[trials.rows[live, after]]]  # strictly after step `after`'s instant
        x, ok = _next_at(rows, lower, "left")
        ok &= _same_block(s, x, trials.start[live])
        done = trials.reached[live] > before
        # strictly before step `before`'s instant
        within = s.moment[x] < s.moment[np.maximum(trials.rows[live, before], 0)]
        still_open = np.ones(len(live), dtype=bool)  # else: while the trial is still open
        if deadline is not None:
            still_open &= s.t[x] <= deadline[live]
        stop = trials.stop[live]
        still_open &= (stop < 0) | (s.moment[x] <= stop)
        hit = ok & np.where(done, within, still_open)
        excluded[live[hit]] = True
        first_hit[live[hit]] = np.minimum(first_hit[live[hit]], x[hit])
    return excluded, first_hit


def _next_trial(
    s: _Stream, trials: _Trials, excluded: BoolArray, first_hit: Int64Array, plan: Plan
) -> Int64Array:
    """For each trial, the one that starts next for its customer (``n``: none).

    Mixpanel's re-entry: after the window closed (ordered / any, strictly
    after ``start + window``), at the instant that interrupted a strict
    trial, or strictly after the first event that excluded the trial.
    """
    start = trials.start
    n = len(start)
    after = np.full(n, -1, dtype=np.int64)  # re-enter at the first trial start at/after this row
    if plan.mode == "strict":
        stopped = trials.stop >= 0
        after[stopped] = s.mstart[trials.stop[stopped]]
    by_window = (after < 0) & ~excluded
    after[excluded] = s.mend[s.moment[first_hit[excluded]]]
    nxt = np.full(n, n, dtype=np.int64)
    rows = np.flatnonzero(after >= 0)
    nxt[rows] = np.searchsorted(start, after[rows], side="left")
    if plan.window_us is not None and by_window.any():
        rows = np.flatnonzero(by_window)
        nxt[rows] = _WindowAxis(s.block[start], s.t[start], plan.window_us).after(rows)
    valid = nxt < n
    valid[valid] = s.block[start[nxt[valid]]] == s.block[start[valid]]
    return np.where(valid, nxt, n)


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
    s = _Stream(*_stream_order(codes, at_us, sig, plan, grouped), grouped=grouped)
    # Trials start at the first event of an instant with a step-1 event (any order: any step).
    start = s.starts((1 << plan.size) - 1 if plan.mode == "any" else 1)
    start_block = s.block[start]
    roots = _firsts(start_block)
    if plan.mode != "strict" and not plan.exclusions:
        # Trials then close only when their window does: chain them first, and
        # walk the paths of the real trials only.
        if plan.window_us is None:
            start = start[roots]
        else:
            axis = _WindowAxis(start_block, s.t[start], plan.window_us)
            start = start[_chain(len(start), roots, axis.after)]
        deadline = None if plan.window_us is None else s.t[start] + plan.window_us
        trials = _PATHS[plan.mode](s, start, plan, deadline)
        return _choose(s, trials, np.zeros(len(start), dtype=bool))
    deadline = None if plan.window_us is None else s.t[start] + plan.window_us
    trials = _PATHS[plan.mode](s, start, plan, deadline)
    excluded, first_hit = _exclusions(s, trials, plan, deadline)
    nxt = _next_trial(s, trials, excluded, first_hit, plan)
    real = _chain(len(start), roots, nxt.__getitem__)
    return _choose(s, trials.take(real), excluded[real])


def _choose(s: _Stream, trials: _Trials, excluded: BoolArray) -> Outcomes:
    """Each customer's furthest trial, ties to the earliest (excluded trials reach 0)."""
    score = np.where(excluded, 0, trials.reached)
    block = s.block[trials.start]
    heads = _firsts(block)
    if len(heads):
        best = np.repeat(np.maximum.reduceat(score, heads), np.diff(np.append(heads, len(score))))
        wins = np.flatnonzero(score == best)
        chosen = wins[_firsts(block[wins])]
    else:
        chosen = heads
    rows = trials.rows[chosen]
    reached = score[chosen]
    start = trials.start[chosen]
    missing = rows < 0
    rows[missing] = 0
    times = s.t[rows]
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
