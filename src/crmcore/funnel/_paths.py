"""The paths funnel attempts take through a customer's events, in stream order.

The inside of the vectorised funnel engine (`crmcore.funnel._engine`): the
events sorted into *stream order* (customer, time, first step the event
matches, log order: at equal timestamps events are taken in step order, the
"most generous" reading PostHog gets by replaying every permutation of a
tie), the customer's *instants* (runs of rows sharing a time), and for a set
of attempt starts, the path each takes by the rules of its mode
(``ordered``, ``strict``, ``any``) and whether an exclusion hits it (see
[`crmcore.funnel.analytics`][crmcore.funnel.analytics] for the rules). All of it is
whole-array numpy work: searches in sorted arrays, no loop over customers or
events.
"""

from __future__ import annotations

import functools
from typing import Final

import attrs
import numpy as np

from crmcore.funnel._steps import Plan
from crmcore.kernel.arrays import AnyArray, BoolArray, Int8Array, Int64Array, UIntArray
from crmcore.kernel.errors import ValidationError

__all__ = [
    "PATHS",
    "Stream",
    "Trials",
    "WindowAxis",
    "check_customer_time_order",
    "exclusions",
    "next_at",
    "pair_keys",
    "radix_argsort",
    "repeats",
    "same_block",
    "step_rank",
    "stream_order",
]

BIG: Final = np.iinfo(np.int64).max
"""A time or row later than any (the empty cell of a sorted search)."""


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


def radix_argsort(keys: Int64Array) -> Int64Array:
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


def stream_order(
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
                order = radix_argsort(relative)
            else:
                by_time = np.argsort(at_us, kind="stable")
                order = by_time[radix_argsort(relative[by_time])]
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


def next_at(positions: Int64Array, after: Int64Array, side: str) -> tuple[Int64Array, BoolArray]:
    """The first entry of sorted ``positions`` after (``right``) / at or after (``left``) each."""
    if not len(positions):
        return np.zeros(len(after), dtype=np.int64), np.zeros(len(after), dtype=bool)
    i = np.searchsorted(positions, after, side=side)  # type: ignore[call-overload]
    found = i < len(positions)
    return positions[np.minimum(i, len(positions) - 1)], found


def pair_keys(groups: Int64Array, times: Int64Array) -> AnyArray:
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


class WindowAxis:
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
            self.keys = pair_keys(block, t - self.base)

    def after(self, rows: Int64Array) -> Int64Array:
        """For entries ``rows``: the next entry past their window (``len``: none)."""
        n = len(self.block)
        if self.axis is not None:
            found = np.searchsorted(self.axis, self.axis[rows] + self.window, side="right")
        else:
            assert self.keys is not None
            query = pair_keys(self.block[rows], self.t[rows] - self.base + self.window)
            found = np.searchsorted(self.keys, query, side="right")
        same = found < n
        same[same] = self.block[found[same]] == self.block[rows[same]]
        return np.where(same, found, n).astype(np.int64)


class Stream:
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
        self._rows: dict[int, Int64Array] = {}
        self._turns: dict[int, tuple[BoolArray, Int64Array]] = {}

    def rows(self, bit: int) -> Int64Array:
        """Rows (positions) whose signature has ``bit`` (computed once per bit)."""
        found = self._rows.get(bit)
        if found is None:
            found = self._rows[bit] = np.flatnonzero((self.sig >> bit) & 1)
        return found

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

    @functools.cached_property
    def moment_sig(self) -> UIntArray:
        """The signature of each instant: the union of its rows' bits (one pass for all bits)."""
        if len(self.mstart) == len(self.sig):  # every row an instant of its own
            return self.sig
        union: UIntArray = np.bitwise_or.reduceat(self.sig, self.mstart)
        return union

    def moment_has(self, bit: int) -> BoolArray:
        """For each instant: does any of its rows match ``bit``."""
        has: BoolArray = (self.moment_sig >> bit) & 1 == 1
        return has

    def next_turn(self, step: int, moments: Int64Array) -> tuple[Int64Array, BoolArray]:
        """The first instant at or after each of ``moments`` where a strict trial at ``step``
        stops standing still (an instant that is not a mere repeat of the step: it has no row
        of the step, or a row of the next one), and whether there is one.

        From a mask of the step's turns, built once: a lookup where the instant itself is a
        turn (the usual case), a search for the rest.
        """
        cached = self._turns.get(step)
        if cached is None:
            sig = self.moment_sig
            if sig.dtype.itemsize <= 2:  # one lookup per instant in a table of signatures
                still: BoolArray = repeats(np.arange(1 << (8 * sig.dtype.itemsize)), step)[sig]
            else:
                still = repeats(sig, step)
            cached = self._turns[step] = (still, np.flatnonzero(~still))
        still, turns = cached
        inside = moments < len(still)
        found = inside & ~still[np.minimum(moments, len(still) - 1)]
        out = moments.copy()
        rest = np.flatnonzero(inside & ~found)
        if len(rest):
            out[rest], found[rest] = next_at(turns, moments[rest], "left")
        return out, found


def repeats(sig: AnyArray, step: int) -> BoolArray:
    """Which signatures are a mere repeat of ``step``: they have it, and not the next step."""
    mask: BoolArray = ((sig >> step) & 1 == 1) & ((sig >> (step + 1)) & 1 == 0)
    return mask


@attrs.frozen(eq=False)
class Trials:
    """Trials with their paths: the row of each step reached (-1 beyond), and how they end."""

    start: Int64Array  # row of each trial's start, ascending
    reached: Int64Array
    rows: Int64Array  # (n, K)
    stop: Int64Array  # strict: the instant that interrupted the trial, -1 if none

    def take(self, which: Int64Array | BoolArray) -> Trials:
        """The trials selected by ``which``."""
        return Trials(self.start[which], self.reached[which], self.rows[which], self.stop[which])


def same_block(s: Stream, rows: Int64Array, start: Int64Array) -> BoolArray:
    same: BoolArray = s.block[rows] == s.block[start]
    return same


def ordered_paths(s: Stream, start: Int64Array, plan: Plan, deadline: Int64Array | None) -> Trials:
    """Ordered: step k is the first step-k event after step k-1's event, within the window."""
    n, steps = len(start), plan.size
    rows = np.full((n, steps), -1, dtype=np.int64)
    rows[:, 0] = start
    reached = np.ones(n, dtype=np.int64)
    live = np.arange(n)
    at = start
    for k in range(1, steps):
        cand, ok = next_at(s.rows(k), at, "right")
        ok &= same_block(s, cand, start[live])
        if deadline is not None:
            ok &= s.t[cand] <= deadline[live]
        live, at = live[ok], cand[ok]
        if not len(live):
            break
        rows[live, k] = at
        reached[live] = k + 1
    return Trials(start, reached, rows, np.full(n, -1, dtype=np.int64))


def strict_paths(s: Stream, start: Int64Array, plan: Plan, deadline: Int64Array | None) -> Trials:
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
    last = len(s.mstart) - 1
    live = np.arange(n)
    at = start
    block = s.block[start]  # of the live trials, as ``deadline``
    for k in range(1, steps):
        moment = s.moment[at]
        # The first step-k event after the current one: the step, if its instant is this
        # one, or the first later instant that is not a mere repeat of step k-1 (if that
        # instant has no step-k event, the trial is interrupted there).
        cand, has = next_at(s.rows(k), at, "right")
        at_moment = s.moment[cand]
        same = has & (at_moment == moment)
        nxt, found = s.next_turn(k - 1, moment + 1)
        nxt = np.minimum(nxt, last)
        first = s.mstart[nxt]
        found &= ~same & (s.block[first] == block)
        if deadline is not None:
            found &= s.t[first] <= deadline
        enters = found & has & (at_moment == nxt)
        interrupted = found & ~enters
        stop[live[interrupted]] = nxt[interrupted]
        ok = same | enters
        at, live, block = cand[ok], live[ok], block[ok]
        if deadline is not None:
            deadline = deadline[ok]
        if not len(live):
            break
        rows[live, k] = at
        reached[live] = k + 1
    return Trials(start, reached, rows, stop)


def any_paths(s: Stream, start: Int64Array, plan: Plan, deadline: Int64Array | None) -> Trials:
    """Any order: step j counts at its first event in the window; steps sorted by time."""
    n, steps = len(start), plan.size
    first = np.full((n, steps), BIG, dtype=np.int64)
    for j in range(steps):
        cand, ok = next_at(s.rows(j), start, "left")
        ok &= same_block(s, cand, start)
        if deadline is not None:
            ok &= s.t[cand] <= deadline
        first[ok, j] = cand[ok]
    first.sort(axis=1)  # rows ascend with time within a customer
    done = first < BIG
    rows = np.where(done, first, -1)
    return Trials(start, done.sum(axis=1), rows, np.full(n, -1, dtype=np.int64))


PATHS: Final = {"ordered": ordered_paths, "strict": strict_paths, "any": any_paths}


def exclusions(
    s: Stream, trials: Trials, plan: Plan, deadline: Int64Array | None
) -> tuple[BoolArray, Int64Array]:
    """Which trials an exclusion hits, and the first excluding row of each."""
    n, steps = len(trials.start), plan.size
    excluded = np.zeros(n, dtype=bool)
    first_hit = np.full(n, BIG, dtype=np.int64)
    for e, (after, before) in enumerate(plan.exclusion_bounds):
        rows = s.rows(steps + e)
        live = np.flatnonzero(trials.reached > after)
        if not len(rows) or not len(live):
            continue
        lower = s.mend[s.moment[trials.rows[live, after]]]  # strictly after step `after`'s instant
        x, ok = next_at(rows, lower, "left")
        ok &= same_block(s, x, trials.start[live])
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
