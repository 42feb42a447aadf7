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


def _run_group(
    inp: EngineInput, out: EngineOutput, rows: Int64Array, width: int, moves: tuple[Parts, Parts]
) -> tuple[Int64Array, ...]:
    """Post the operations of ``rows`` (sorted by number of operations, descending)."""
    group = _Group(inp, out, rows, width)
    op_count = inp.op_count[rows]
    first_op = inp.op_start[rows]
    rounds = int(op_count[0]) if rows.shape[0] else 0
    finished = np.cumsum(np.bincount(op_count, minlength=rounds + 1))  # rows done by round r
    for r in range(rounds):
        k = rows.shape[0] - int(finished[r])
        _round(inp, out, group, first_op[:k] + r, k, moves)
    return group.finish(out)


def _round(
    inp: EngineInput,
    out: EngineOutput,
    group: _Group,
    op: Int64Array,
    k: int,
    moves: tuple[Parts, Parts],
) -> None:
    """Post the operations ``op``, one for each of the first ``k`` rows of ``group``."""
    at = inp.at_us[op]
    kind = inp.kind[op]
    wanted = inp.points[op]
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
    out.accepted[op] = accepted
    out.before[op] = balance
    out.balance[op] = balance  # a refusal keeps it: the balance it was judged on
    if maybe.size:
        _expire(out, group, op, maybe, due & accepted[maybe][:, None], due_points, due_held, moves)
    spend = np.flatnonzero(redeem & accepted)
    if spend.size:
        _spend(group, op[spend], spend, at[spend], wanted[spend], moves)
        out.points[op[spend]] = -wanted[spend]
        out.balance[op[spend]] = balance[spend] - wanted[spend]
    create = np.flatnonzero(~redeem)
    if create.size:
        _create(inp, out, group, op[create], create, at[create], spendable[create])
    posted = np.flatnonzero(accepted)
    group.entries[posted] += 1
    group.last[posted] = np.maximum(group.last[posted], at[posted])
    if inp.inactivity:
        group.deadline[posted] = inp.activity_deadline[op[posted]]


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
    out: EngineOutput,
    group: _Group,
    op: Int64Array,
    rows: Int64Array,
    due: BoolArray,
    due_points: Int64Array,
    due_held: Int64Array,
    moves: tuple[Parts, Parts],
) -> None:
    """Post the expiry of the ``due`` cells of ``rows`` (those whose operation is posted)."""
    hit, col = np.nonzero(due)
    if hit.size:
        amounts = group.available[rows[hit], col]
        moves[0].append((op[rows[hit]], col.astype(np.int64), -amounts))
        starts = np.flatnonzero(np.diff(hit, prepend=-1))
        expired = rows[hit[starts]]
        out.expired[op[expired]] = np.add.reduceat(amounts, starts)
        out.expired_lots[op[expired]] = np.diff(np.append(starts, hit.shape[0]))
        group.available[rows[hit], col] = 0
        group.entries[expired] += 1
        group.total[expired] -= due_points[expired]
        group.held[expired] -= due_held[expired]
    group.soonest[rows] = group._soonest(group.available[rows], group.expires[rows])


def _create(
    inp: EngineInput,
    out: EngineOutput,
    group: _Group,
    op: Int64Array,
    rows: Int64Array,
    at: Int64Array,
    spendable: Int64Array,
) -> None:
    """Earns and awards: the per-day cap on purchase points, debt settled first, a new lot."""
    points = inp.points[op].copy()
    if inp.day_cap is not None:
        earn = np.flatnonzero(inp.kind[op] == EARN)
        if earn.size:
            day = inp.day[op[earn]]
            where = rows[earn]
            used = np.where(day == group.cap_day[where], group.cap_points[where], 0)
            points[earn] = np.minimum(points[earn], np.maximum(0, inp.day_cap - used))
            group.cap_day[where] = day
            group.cap_points[where] = used + points[earn]
    settle = np.minimum(points, group.debt[rows])
    lot = points - settle
    column = group.free[rows]
    until = inp.lot_pending[op]
    expires = inp.lot_expires[op]
    cell = rows * group.available.shape[1] + column  # flat positions (put: no 2-D indexing)
    np.put(group.available, cell, lot)
    np.put(group.earned, cell, at)
    np.put(group.expires, cell, expires)
    np.put(group.pending, cell, until)
    group.free[rows] += 1
    group.debt[rows] -= settle
    group.total[rows] += lot
    held = (until > at) & (lot > 0)
    group.held[rows] += np.where(held, lot, 0)
    group.release[rows] = np.where(
        held, np.minimum(group.release[rows], until), group.release[rows]
    )
    group.soonest[rows] = np.where(
        lot > 0, np.minimum(group.soonest[rows], expires), group.soonest[rows]
    )
    out.points[op] = points
    out.settle[op] = settle
    out.column[op] = np.where(lot > 0, column, -1)
    out.balance[op] = spendable + np.where(held, 0, lot) - group.debt[rows]
