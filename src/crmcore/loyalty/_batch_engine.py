"""The posting engine of the batch path: many accounts' operations in rounds of numpy arithmetic.

[`crmcore.loyalty.posting_batch`][crmcore.loyalty.posting_batch] hands it the accounts it can post
at array speed (operations in time order, fresh keys, new lots that sort last) with their open lots
and the operations' derived values (purchase points, lot dates, deadlines). Accounts are
independent, so they are posted side by side: each account's open lots are a row of a padded
matrix in FIFO order (new lots go to the next free column, which is their FIFO place), and round
``r`` posts the ``r``-th operation of every account that has one. Each round does, for all those
accounts at once, what one operation does on the per-account path:

1. the lots due by the operation's time (their expiry, or all of them past the inactivity
   deadline) expire, when the operation is posted;
2. the spendable balance (open lots neither due nor pending, minus the debt) decides a redemption:
   refused when short, otherwise taken FIFO (a cumulative sum along the row);
3. an earn or award settles the debt first and puts the rest in a new lot.

Rows are grouped by their width (open lots plus lots to create) so one long ledger does not widen
every row; within a group rows are sorted by their number of operations, so the accounts still
posting in round ``r`` are a prefix of the rows and every round works on views.
"""

from __future__ import annotations

import attrs
import numpy as np

from crmcore.kernel.arrays import BoolArray, Int8Array, Int64Array
from crmcore.loyalty._batch_rules import NEVER_US, NONE_US

__all__ = ["EARN", "REDEEM", "EngineInput", "EngineOutput", "run"]

EARN = 0
"""Operation codes, as [`PostingKind`][crmcore.loyalty.posting_batch.PostingKind] numbers them."""
AWARD = 1
REDEEM = 2


@attrs.frozen(kw_only=True, eq=False)
class EngineInput:
    """What the engine posts: rows (accounts) with their lots as CSR, and their operations.

    Per row: ``lot_start``/``lot_count`` into the lot arrays (``available``, ``earned_us``,
    ``expires_us``, ``pending_us``), ``debt``, ``deadline_us``, ``cap_day``, ``cap_points``,
    ``entries``, ``last_us``; ``op_start``/``op_count`` into the operation arrays, which are
    sorted by row then posting order: ``kind``, ``at_us``, ``points`` (earn: quoted; award,
    redeem: the amount), ``lot_expires``, ``lot_pending`` (``NONE_US``: not pending),
    ``activity_deadline``, ``day``; and ``day_cap``, ``inactivity`` (the program's).
    """

    lot_start: Int64Array
    lot_count: Int64Array
    available: Int64Array
    earned_us: Int64Array
    expires_us: Int64Array
    pending_us: Int64Array
    debt: Int64Array
    deadline_us: Int64Array
    cap_day: Int64Array
    cap_points: Int64Array
    entries: Int64Array
    last_us: Int64Array
    op_start: Int64Array
    op_count: Int64Array
    kind: Int8Array
    at_us: Int64Array
    points: Int64Array
    lot_expires: Int64Array
    lot_pending: Int64Array
    activity_deadline: Int64Array
    day: Int64Array
    day_cap: int | None
    inactivity: bool


class EngineOutput:
    """Per operation (sorted order): ``accepted``, ``points`` (signed, as posted), ``settle``,
    ``before`` (the spendable balance at its time, after the expiry it posts: what a redemption
    is judged on), ``balance`` (after it; a refusal's is ``before``), ``expired`` and
    ``expired_lots`` (posted just before it), ``column`` (the lot it created, -1 none); the moves
    as COO arrays sorted by operation then column (``expire_*`` and ``spend_*``); per row the
    final lots (``lot_count`` and the concatenated ``available``, ``earned_us``, ``expires_us``,
    ``pending_us`` in row order) and state (``debt``, ``deadline_us``, ``cap_day``,
    ``cap_points``, ``entries``, ``last_us``)."""

    accepted: BoolArray
    points: Int64Array
    settle: Int64Array
    before: Int64Array
    balance: Int64Array
    expired: Int64Array
    expired_lots: Int64Array
    column: Int64Array
    expire_op: Int64Array
    expire_column: Int64Array
    expire_delta: Int64Array
    spend_op: Int64Array
    spend_column: Int64Array
    spend_delta: Int64Array
    lot_count: Int64Array
    available: Int64Array
    earned_us: Int64Array
    expires_us: Int64Array
    pending_us: Int64Array
    debt: Int64Array
    deadline_us: Int64Array
    cap_day: Int64Array
    cap_points: Int64Array
    entries: Int64Array
    last_us: Int64Array

    def __init__(self, inp: EngineInput) -> None:
        n_ops = int(inp.kind.shape[0])
        self.accepted = np.zeros(n_ops, dtype=bool)
        for name in ("points", "settle", "before", "balance", "expired", "expired_lots"):
            setattr(self, name, np.zeros(n_ops, dtype=np.int64))
        self.column = np.full(n_ops, -1, dtype=np.int64)
        for name in ("debt", "deadline_us", "cap_day", "cap_points", "entries", "last_us"):
            setattr(self, name, np.array(getattr(inp, name), dtype=np.int64))


_WIDTH_GROUPS = 1.5  # a group's rows are at most this factor narrower than its widest

Parts = list[tuple[Int64Array, Int64Array, Int64Array]]
"""Moves recorded round by round: (operation, column, delta) arrays."""


def _moves(parts: Parts) -> tuple[Int64Array, ...]:
    if not parts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    op = np.concatenate([p[0] for p in parts])
    column = np.concatenate([p[1] for p in parts])
    delta = np.concatenate([p[2] for p in parts])
    order = np.lexsort((column, op))
    return op[order], column[order], delta[order]


def run(inp: EngineInput) -> EngineOutput:
    """Post every operation of ``inp`` (see the module docstring)."""
    n_rows = int(inp.op_count.shape[0])
    out = EngineOutput(inp)
    creating = np.bincount(
        np.repeat(np.arange(n_rows), inp.op_count)[inp.kind != REDEEM], minlength=n_rows
    )
    width = inp.lot_count + creating
    moves: tuple[Parts, Parts] = ([], [])
    finals: list[tuple[Int64Array, ...]] = []
    by_width = np.argsort(-width, kind="stable")
    start = 0
    while start < n_rows:
        widest = max(int(width[by_width[start]]), 1)
        stop = start + int(np.searchsorted(-width[by_width[start:]], -widest / _WIDTH_GROUPS))
        stop = max(stop, start + 1)
        group = by_width[start:stop]
        group = group[np.argsort(-inp.op_count[group], kind="stable")]
        finals.append(_run_group(inp, out, group, widest, moves))
        start = stop
    out.expire_op, out.expire_column, out.expire_delta = _moves(moves[0])
    out.spend_op, out.spend_column, out.spend_delta = _moves(moves[1])
    _gather_lots(out, finals, n_rows)
    return out


def _gather_lots(
    out: EngineOutput,
    finals: list[tuple[Int64Array, ...]],
    n_rows: int,
) -> None:
    """The groups' final lots, put back in row order (CSR by row)."""
    count = np.zeros(n_rows, dtype=np.int64)
    for rows, counts, *_ in finals:
        count[rows] = counts
    offsets = np.concatenate([[0], np.cumsum(count)]).astype(np.int64)
    total = int(offsets[-1])
    out.lot_count = count
    names = ("available", "earned_us", "expires_us", "pending_us")
    for name in names:
        setattr(out, name, np.empty(total, dtype=np.int64))
    for rows, counts, *values in finals:
        first = np.repeat(offsets[rows], counts)
        rank = np.arange(first.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
        for name, value in zip(names, values, strict=True):
            getattr(out, name)[first + rank] = value


class _Group:
    """The padded state of a group of rows: a matrix per lot field, a vector per row field.

    Beside the lots, each row keeps running figures so a round touches the lot matrix only for
    the rows that need it: ``total`` (the open lots' points), ``held`` (those of lots still
    pending) with ``release`` (no pending lot is released before it), and ``soonest`` (no open
    lot expires before it). ``release`` and ``soonest`` are lower bounds: a row reaching one is
    recomputed from its lots.
    """

    __slots__ = (
        "available",
        "cap_day",
        "cap_points",
        "deadline",
        "debt",
        "earned",
        "entries",
        "expires",
        "free",
        "head",
        "held",
        "last",
        "pending",
        "release",
        "rows",
        "soonest",
        "total",
    )

    def __init__(self, inp: EngineInput, out: EngineOutput, rows: Int64Array, width: int) -> None:
        size = rows.shape[0]
        self.rows = rows
        self.available = np.zeros((size, width), dtype=np.int64)
        self.earned = np.zeros((size, width), dtype=np.int64)
        self.expires = np.full((size, width), NEVER_US, dtype=np.int64)
        self.pending = np.full((size, width), NONE_US, dtype=np.int64)
        counts = inp.lot_count[rows]
        row = np.repeat(np.arange(size), counts)
        column = np.arange(row.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
        source = np.repeat(inp.lot_start[rows], counts) + column
        cell = row * width + column  # flat positions (put: no 2-D indexing)
        np.put(self.available, cell, inp.available[source])
        np.put(self.earned, cell, inp.earned_us[source])
        np.put(self.expires, cell, inp.expires_us[source])
        np.put(self.pending, cell, inp.pending_us[source])
        self.free = counts.astype(np.int64)  # the next free column of each row
        self.head = np.zeros(size, dtype=np.int64)  # no lot before it holds points
        self.debt = out.debt[rows]
        self.deadline = out.deadline_us[rows]
        self.cap_day = out.cap_day[rows]
        self.cap_points = out.cap_points[rows]
        self.entries = out.entries[rows]
        self.last = out.last_us[rows]
        self.total = self.available.sum(axis=1)
        dated = self.pending != NONE_US  # held as of the beginning of time
        self.held = (self.available * dated).sum(axis=1)
        self.release = np.where(dated, self.pending, NEVER_US).min(axis=1, initial=NEVER_US)
        self.soonest = self._soonest(self.available, self.expires)

    @staticmethod
    def _soonest(available: Int64Array, expires: Int64Array) -> Int64Array:
        found: Int64Array = np.where(available > 0, expires, NEVER_US).min(axis=1, initial=NEVER_US)
        return found

    def release_due(self, k: int, at: Int64Array) -> None:
        """Recompute ``held`` and ``release`` of the first ``k`` rows that reached ``release``."""
        rows = np.flatnonzero(self.release[:k] <= at)
        if rows.size:
            lots = self.available[rows]
            pending = self.pending[rows]
            still = (pending > at[rows][:, None]) & (lots > 0)
            self.held[rows] = (lots * still).sum(axis=1)
            self.release[rows] = np.where(still, pending, NEVER_US).min(axis=1, initial=NEVER_US)

    def due(self, k: int, at: Int64Array, inactivity: bool) -> tuple[Int64Array, BoolArray]:
        """The rows among the first ``k`` with lots due by ``at`` (maybe), and their due cells."""
        if inactivity:
            rows = np.flatnonzero((self.deadline[:k] <= at) & (self.total[:k] > 0))
            return rows, self.available[rows] > 0
        rows = np.flatnonzero(self.soonest[:k] <= at)
        lots = self.available[rows]
        return rows, (lots > 0) & (self.expires[rows] <= at[rows][:, None])

    def finish(self, out: EngineOutput) -> tuple[Int64Array, ...]:
        """Write the rows' state to ``out``; return the rows, their open-lot counts and lots."""
        rows = self.rows
        out.debt[rows] = self.debt
        out.deadline_us[rows] = self.deadline
        out.cap_day[rows] = self.cap_day
        out.cap_points[rows] = self.cap_points
        out.entries[rows] = self.entries
        out.last_us[rows] = self.last
        kept = self.available > 0
        lots = (self.available, self.earned, self.expires, self.pending)
        return (rows, kept.sum(1), *(lot[kept] for lot in lots))


class _Rounds:
    """A group's operations in round-major order: round ``r``'s operations (the ``r``-th of each
    of the first ``k_r`` rows) are one contiguous slice, so a round reads its inputs and writes
    its results without gathering or scattering; results reach ``out`` in one scatter each."""

    __slots__ = (
        "accepted",
        "at",
        "balance",
        "before",
        "bounds",
        "column",
        "day",
        "deadline",
        "expired",
        "expired_lots",
        "kind",
        "lot_expires",
        "lot_pending",
        "op",
        "points",
        "posted",
        "settle",
    )

    def __init__(self, inp: EngineInput, first_op: Int64Array, live: Int64Array) -> None:
        total = int(live.sum())
        self.bounds = np.zeros(live.shape[0] + 1, dtype=np.int64)
        np.cumsum(live, out=self.bounds[1:])
        index = np.arange(total, dtype=np.int64) - np.repeat(self.bounds[:-1], live)
        self.op = first_op[index] + np.repeat(np.arange(live.shape[0], dtype=np.int64), live)
        op = self.op
        self.at, self.kind, self.points = inp.at_us[op], inp.kind[op], inp.points[op]
        self.lot_expires, self.lot_pending = inp.lot_expires[op], inp.lot_pending[op]
        self.day = inp.day[op] if inp.day_cap is not None else self.at
        self.deadline = inp.activity_deadline[op] if inp.inactivity else self.at
        self.accepted = np.zeros(total, dtype=bool)
        self.before = np.zeros(total, dtype=np.int64)
        self.balance = np.zeros(total, dtype=np.int64)
        self.posted = np.zeros(total, dtype=np.int64)  # the points as posted (signed)
        self.settle = np.zeros(total, dtype=np.int64)
        self.expired = np.zeros(total, dtype=np.int64)
        self.expired_lots = np.zeros(total, dtype=np.int64)
        self.column = np.full(total, -1, dtype=np.int64)

    def write(self, out: EngineOutput) -> None:
        op = self.op
        out.accepted[op] = self.accepted
        out.before[op] = self.before
        out.balance[op] = self.balance
        out.points[op] = self.posted
        out.settle[op] = self.settle
        out.expired[op] = self.expired
        out.expired_lots[op] = self.expired_lots
        out.column[op] = self.column


def _run_group(
    inp: EngineInput, out: EngineOutput, rows: Int64Array, width: int, moves: tuple[Parts, Parts]
) -> tuple[Int64Array, ...]:
    """Post the operations of ``rows`` (sorted by number of operations, descending)."""
    group = _Group(inp, out, rows, width)
    op_count = inp.op_count[rows]
    rounds = int(op_count[0]) if rows.shape[0] else 0
    finished = np.cumsum(np.bincount(op_count, minlength=rounds + 1))  # rows done by round r
    live = rows.shape[0] - finished[:rounds]  # the rows posting in each round: a prefix
    ops = _Rounds(inp, inp.op_start[rows], live)
    for r in range(rounds):
        _round(inp, group, ops, slice(int(ops.bounds[r]), int(ops.bounds[r + 1])), moves)
    ops.write(out)
    return group.finish(out)


def _round(
    inp: EngineInput, group: _Group, ops: _Rounds, this: slice, moves: tuple[Parts, Parts]
) -> None:
    """Post the operations ``ops[this]``, one for each of the first ``k`` rows of ``group``."""
    op, at, kind, wanted = ops.op[this], ops.at[this], ops.kind[this], ops.points[this]
    k = op.shape[0]
    group.release_due(k, at)
    maybe, due = group.due(k, at, inp.inactivity)
    lots = group.available[maybe]
    due_points = np.zeros(k, dtype=np.int64)
    due_held = np.zeros(k, dtype=np.int64)
    if maybe.size:
        due_points[maybe] = (lots * due).sum(axis=1)
        due_held[maybe] = (lots * (due & (group.pending[maybe] > at[maybe][:, None]))).sum(axis=1)
    spendable = group.total[:k] - due_points - (group.held[:k] - due_held)
    balance = spendable - group.debt[:k]
    redeem = kind == REDEEM
    accepted = ~redeem | (wanted <= balance)
    ops.accepted[this] = accepted
    ops.before[this] = balance
    ops.balance[this] = balance  # a refusal keeps it: the balance it was judged on
    if maybe.size:
        due &= accepted[maybe][:, None]
        _expire(group, ops, this, maybe, due, due_points, due_held, moves)
    spend = np.flatnonzero(redeem & accepted)
    if spend.size:
        _spend(group, op[spend], spend, at[spend], wanted[spend], moves)
        ops.posted[this][spend] = -wanted[spend]
        ops.balance[this][spend] = balance[spend] - wanted[spend]
    if not redeem.all():
        _create(inp, group, ops, this, ~redeem, spendable)
    group.entries[:k] += accepted
    np.maximum(group.last[:k], np.where(accepted, at, group.last[:k]), out=group.last[:k])
    if inp.inactivity:
        group.deadline[:k] = np.where(accepted, ops.deadline[this], group.deadline[:k])


_WINDOW = 4  # lots a redemption looks at first, from the row's first lot with points


def _spend(
    group: _Group,
    op: Int64Array,
    rows: Int64Array,
    at: Int64Array,
    wanted: Int64Array,
    moves: tuple[Parts, Parts],
) -> None:
    """Redemptions of ``wanted`` points from ``rows`` (balance checked), FIFO over the usable
    lots (open, not pending at ``at``).

    FIFO takes from the first lots, so each row first looks at the ``_WINDOW`` lots from its
    ``head`` (the lots before it are empty): a redemption those cover takes nothing beyond
    them, as the whole row would give. The rest go over their whole row.
    """
    width = group.available.shape[1]
    span = min(_WINDOW, width)
    head = np.minimum(group.head[rows], width - span)  # (a window inside the matrix)
    cols = head[:, None] + np.arange(span)
    cells = (rows * width)[:, None] + cols  # flat positions (take/put: no 2-D indexing)
    lots = np.take(group.available, cells)
    usable = lots * (np.take(group.pending, cells) <= at[:, None])
    ahead = np.cumsum(usable, axis=1)
    fits = ahead[:, -1] >= wanted
    take = np.minimum(np.maximum(wanted[:, None] - (ahead - usable), 0), usable)
    take[~fits] = 0
    left = lots - take
    np.put(group.available, cells, left)
    row, col = np.nonzero(take)
    moves[1].append((op[row], cols[row, col], -take[row, col]))
    # The new head: past the window's empty leading lots (never past the next free column).
    empty = np.where((left != 0).any(axis=1), np.argmax(left != 0, axis=1), span)
    group.head[rows] = np.where(fits, np.minimum(head + empty, group.free[rows]), group.head[rows])
    group.total[rows] -= wanted
    wide = np.flatnonzero(~fits)
    if wide.size:
        whole = rows[wide]
        lots = group.available[whole]
        usable = lots * (group.pending[whole] <= at[wide][:, None])
        before = np.cumsum(usable, axis=1) - usable
        take = np.minimum(np.maximum(wanted[wide][:, None] - before, 0), usable)
        group.available[whole] = lots - take
        row, col = np.nonzero(take)
        moves[1].append((op[wide[row]], col.astype(np.int64), -take[row, col]))


def _expire(
    group: _Group,
    ops: _Rounds,
    this: slice,
    rows: Int64Array,
    due: BoolArray,
    due_points: Int64Array,
    due_held: Int64Array,
    moves: tuple[Parts, Parts],
) -> None:
    """Post the expiry of the ``due`` cells of ``rows`` (those whose operation is posted)."""
    hit, col = np.nonzero(due)
    if hit.size:
        op = ops.op[this]
        amounts = group.available[rows[hit], col]
        moves[0].append((op[rows[hit]], col.astype(np.int64), -amounts))
        starts = np.flatnonzero(np.diff(hit, prepend=-1))
        expired = rows[hit[starts]]
        ops.expired[this][expired] = np.add.reduceat(amounts, starts)
        ops.expired_lots[this][expired] = np.diff(np.append(starts, hit.shape[0]))
        group.available[rows[hit], col] = 0
        group.entries[expired] += 1
        group.total[expired] -= due_points[expired]
        group.held[expired] -= due_held[expired]
    group.soonest[rows] = group._soonest(group.available[rows], group.expires[rows])


def _create(
    inp: EngineInput,
    group: _Group,
    ops: _Rounds,
    this: slice,
    create: BoolArray,
    spendable: Int64Array,
) -> None:
    """Earns and awards (``create``, over the round's rows): the per-day cap on purchase
    points, debt settled first, a new lot. Row figures are updated over the whole round
    (zero for the other rows), which costs less than gathering and scattering the rows."""
    k = create.shape[0]
    at, until, expires = ops.at[this], ops.lot_pending[this], ops.lot_expires[this]
    points = np.where(create, ops.points[this], 0)
    if inp.day_cap is not None:
        earn = create & (ops.kind[this] == EARN)
        if earn.any():
            day = ops.day[this]
            used = np.where(day == group.cap_day[:k], group.cap_points[:k], 0)
            points = np.where(earn, np.minimum(points, np.maximum(0, inp.day_cap - used)), points)
            group.cap_day[:k] = np.where(earn, day, group.cap_day[:k])
            group.cap_points[:k] = np.where(earn, used + points, group.cap_points[:k])
    debt = group.debt[:k]
    settle = np.minimum(points, debt)
    lot = points - settle
    column = group.free[:k]
    rows = np.flatnonzero(create)
    cell = rows * group.available.shape[1] + column[rows]  # flat positions (put: no 2-D)
    np.put(group.available, cell, lot[rows])
    np.put(group.earned, cell, at[rows])
    np.put(group.expires, cell, expires[rows])
    np.put(group.pending, cell, until[rows])
    made = create & (lot > 0)
    ops.column[this] = np.where(made, column, -1)
    column += create
    debt -= settle
    group.total[:k] += lot
    held = made & (until > at)
    group.held[:k] += np.where(held, lot, 0)
    release = group.release[:k]
    release[held] = np.minimum(release[held], until[held])
    soonest = group.soonest[:k]
    np.minimum(soonest, np.where(made, expires, soonest), out=soonest)
    ops.posted[this][rows] = points[rows]
    ops.settle[this] = settle
    balance = spendable + np.where(held, 0, lot) - debt
    ops.balance[this][rows] = balance[rows]
