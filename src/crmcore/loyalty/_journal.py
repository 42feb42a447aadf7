"""The ledger's journal and the state replayed from it: how posted entries move points.

Entries go into an append-only journal shared by successive versions of an
account: a version sees its own prefix, and acting on an older version copies
the journal once. A `LedgerState` is what a prefix adds up to (the open
lots in FIFO order, the debt, the totals, the lots still pending);
`append_entry()` derives the next state from one entry, checking that no
lot or debt goes negative, without copying history or re-sorting the lots.
`replay_state()` rebuilds it from entries alone, checking each.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime

from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.ids import validate_id
from crmcore.loyalty.entries import ACTIVITY, EntryType, LedgerEntry, Lot, fifo_key, new_lot

__all__ = ["LedgerState", "append_entry", "replay_state"]


class _Journal:
    """Append-only entries shared by the versions of one lineage, with a key index.

    A version of the account sees ``entries[:n]``. Only the version at the
    end appends in place; any other copies the prefix first (copy on branch).
    Index values are positions; keys of lots' orders are indexed as
    ``order#<id>`` (``#`` cannot occur in a caller's key).
    """

    __slots__ = ("entries", "index", "lock")

    def __init__(self, entries: list[LedgerEntry], index: dict[str, int]) -> None:
        self.entries = entries
        self.index = index
        self.lock = threading.Lock()


def _index_entry(index: dict[str, int], entry: LedgerEntry, position: int) -> None:
    index[entry.key] = position
    if entry.type is EntryType.EARN and entry.order_id is not None:
        index["order#" + entry.order_id] = position


class LedgerState:
    """Everything derived from a prefix of the journal (never mutated once built)."""

    __slots__ = (
        "available",
        "debt",
        "held",
        "held_until",
        "journal",
        "last_activity",
        "last_at",
        "lots",
        "n",
        "pending",
        "total",
    )

    def __init__(
        self,
        journal: _Journal,
        n: int,
        lots: tuple[Lot, ...],
        debt: int,
        total: int,
        last_at: datetime | None,
        last_activity: datetime | None,
        available: int,
        pending: tuple[Lot, ...],
        held: int,
        held_until: datetime | None,
    ) -> None:
        self.available = available  # the open lots' points, pending ones included
        self.pending = pending  # the open lots still pending at last_at (a few at most)
        self.held = held  # the pending lots' available points
        self.held_until = held_until  # the earliest pending_until of those (None: none)
        self.journal = journal
        self.n = n
        self.lots = lots
        self.debt = debt
        self.total = total
        self.last_at = last_at
        self.last_activity = last_activity

    def find(self, key: str) -> LedgerEntry | None:
        position = self.journal.index.get(key)
        if position is None or position >= self.n:
            return None
        return self.journal.entries[position]

    def position(self, key: str) -> int | None:
        position = self.journal.index.get(key)
        return None if position is None or position >= self.n else position

    def entries(self) -> Sequence[LedgerEntry]:
        return self.journal.entries[: self.n]


_EMPTY_LOTS: tuple[Lot, ...] = ()


def _empty_state() -> LedgerState:
    return LedgerState(_Journal([], {}), 0, _EMPTY_LOTS, 0, 0, None, None, 0, _EMPTY_LOTS, 0, None)


def _holding(pending: tuple[Lot, ...]) -> tuple[int, datetime | None]:
    """The points held by ``pending`` lots and the earliest time one is released."""
    held = 0
    until: datetime | None = None
    for lot in pending:
        held += lot.available
        release = lot.pending_until
        if release is not None and (until is None or release < until):
            until = release
    return held, until


def append_entry(state: LedgerState, entry: LedgerEntry) -> LedgerState:
    """The state after ``entry`` (validated: no lot or debt goes negative)."""
    journal = state.journal
    n = state.n
    lots, created = _apply_moves(state, entry, n)
    debt = state.debt + entry.debt
    if debt < 0:
        raise ValidationError(f"entries[{n}].debt", entry.debt, "settles more than the debt")
    lock = journal.lock
    lock.acquire()
    try:
        if len(journal.entries) != n:  # an older version branches: copy its prefix once
            entries = journal.entries[:n]
            index: dict[str, int] = {}
            for i, old in enumerate(entries):
                _index_entry(index, old, i)
            journal = _Journal(entries, index)
        journal.entries.append(entry)
        _index_entry(journal.index, entry, n)
    finally:
        lock.release()
    at = entry.at
    activity = at if entry.type in ACTIVITY else state.last_activity
    moves = entry.moves
    pending = state.pending
    held = state.held
    held_until = state.held_until
    touched = False
    if pending and moves and created is None:  # a new lot of its own touches no other
        for lot_key, _ in moves:
            for lot in pending:
                if lot.key == lot_key:
                    touched = True
                    break
            if touched:
                break
    if touched:
        pending = tuple(
            lot for lot in lots if lot.pending_until is not None and lot.pending_until > at
        )
        held, held_until = _holding(pending)
    else:
        if held_until is not None and at >= held_until:  # some pending lot is released
            pending = tuple([lot for lot in pending if lot.pending_until > at])  # type: ignore[operator]
            held, held_until = _holding(pending)
        until = entry.pending_until
        if until is not None and until > at and moves and entry.creates_lot:
            if created is not None and created.key == entry.key:
                fresh: tuple[Lot, ...] = (created,)
            else:
                fresh = tuple(lot for lot in lots if lot.key == entry.key)
            pending += fresh
            for lot in fresh:
                held += lot.available
            if held_until is None or until < held_until:
                held_until = until
    return LedgerState(
        journal,
        n + 1,
        lots,
        debt,
        state.total + entry.points,
        at,
        activity,
        state.available + entry.points + entry.debt,
        pending,
        held,
        held_until,
    )


def _apply_moves(
    state: LedgerState, entry: LedgerEntry, n: int
) -> tuple[tuple[Lot, ...], Lot | None]:
    """The open lots after ``entry``'s moves, still in FIFO order (no full re-sort).

    Also the lot the entry created when it only creates its own (else None).
    """
    lots = state.lots
    moves = entry.moves
    if not moves:
        return lots, None
    if len(moves) == 1 and moves[0][0] == entry.key:  # the entry creates its own lot
        if moves[0][1] <= 0:
            raise ValidationError(f"entries[{n}].moves", moves, "a new lot must be positive")
        lot = _reopen(state, entry, n, entry.key, moves[0][1])
        return _insort(lots, lot), lot
    todo: dict[str, int] = {}
    for lot_key, delta in moves:
        todo[lot_key] = todo.get(lot_key, 0) + delta
    out: list[Lot] = []
    for i, lot in enumerate(lots):
        change = todo.pop(lot.key, None)
        if change is None:
            out.append(lot)
            continue
        available = lot.available + change
        if available < 0:
            raise ValidationError(f"entries[{n}].moves", moves, f"over-consumes lot {lot.key!r}")
        if available:
            out.append(_with_available(lot, available))
        if not todo:
            out.extend(lots[i + 1 :])
            break
    result = tuple(out)
    for lot_key, delta in todo.items():
        if delta <= 0:
            raise ValidationError(
                f"entries[{n}].moves", moves, f"takes from lot {lot_key!r}, which is not open"
            )
        result = _insort(result, _reopen(state, entry, n, lot_key, delta))
    return result, None


def _insort(lots: tuple[Lot, ...], lot: Lot) -> tuple[Lot, ...]:
    order = fifo_key(lot)
    if not lots or fifo_key(lots[-1]) <= order:
        return (*lots, lot)
    i = bisect.bisect_right(lots, order, key=fifo_key)
    return (*lots[:i], lot, *lots[i:])


def _with_available(lot: Lot, available: int) -> Lot:
    return new_lot(
        lot.key,
        lot.seq,
        lot.points,
        available,
        lot.earned_at,
        lot.expires_at,
        lot.pending_until,
        lot.order_id,
    )


def _reopen(state: LedgerState, entry: LedgerEntry, n: int, lot_key: str, delta: int) -> Lot:
    if lot_key == entry.key:
        origin, seq = entry, n
    else:
        found = state.position(lot_key)
        if found is None:
            raise ValidationError(f"entries[{n}].moves", entry.moves, f"no lot {lot_key!r}")
        origin, seq = state.journal.entries[found], found
    if not origin.creates_lot or origin.earned_at is None:
        raise ValidationError(f"entries[{n}].moves", entry.moves, f"{lot_key!r} is not a lot")
    return new_lot(
        origin.key,
        seq,
        origin.points,
        delta,
        origin.earned_at,
        origin.expires_at,
        origin.pending_until,
        origin.order_id,
    )


def _check_entry(entry: object, i: int, state: LedgerState) -> LedgerEntry:
    where = f"entries[{i}]"
    if not isinstance(entry, LedgerEntry):
        raise ValidationError(where, entry, "must be a LedgerEntry")
    validate_id(entry.key.split("#", 1)[0], f"{where}.key")
    to_utc(entry.at, f"{where}.at")
    if state.last_at is not None and entry.at < state.last_at:
        raise ValidationError(f"{where}.at", entry.at, "is before the previous entry")
    if state.position(entry.key) is not None:
        raise ValidationError(f"{where}.key", entry.key, "is used twice")
    if entry.points != sum(d for _, d in entry.moves) - entry.debt:
        raise ValidationError(f"{where}.points", entry.points, "is not sum(moves) - debt")
    if entry.forgiven < 0 or entry.shortfall < 0:
        raise ValidationError(f"{where}.shortfall", entry.shortfall, "must not be negative")
    return entry


def replay_state(entries: Iterable[LedgerEntry]) -> LedgerState:
    """The state after ``entries``, each checked first (time order, unique keys, sums)."""
    state = _empty_state()
    for i, entry in enumerate(entries):
        state = append_entry(state, _check_entry(entry, i, state))
    return state
