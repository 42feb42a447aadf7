"""The ledger's journal and the state replayed from it: how posted entries move points.

Entries go into an append-only journal shared by successive versions of an
account: a version sees its own prefix, and acting on an older version copies
the journal once. A `LedgerState` is what a prefix adds up to (the open
lots in FIFO order, the debt, the totals, the lots still pending);
`append_entry()` derives the next state from one entry, checking that no
lot or debt goes negative, without copying history or re-sorting the lots.
`replay_state()` rebuilds it from entries alone, checking each.

The journal is in posting order; an entry's ``at`` is its business time, which may be earlier
than entries posted before it (a late arrival, see
[`crmcore.loyalty.ledger`][crmcore.loyalty.ledger]).
The state keeps the latest business time (``last_at``) and the largest lateness seen
(``max_lag``), and `replay_state()` checks that a ledger with late entries is consistent in
business-time order too: every lot and the debt stay non-negative at every instant, no entry
takes from a lot created after it, and no reversal precedes what it reverses.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.ids import validate_id
from crmcore.loyalty.entries import (
    ACTIVITY,
    LOT_CREATING,
    MAX_POINTS,
    EntryType,
    LedgerEntry,
    Lot,
    fifo_key,
    new_lot,
)

__all__ = ["LedgerState", "append_entry", "replay_state"]

_EARN: Final = EntryType.EARN  # an enum member read through its class costs a lookup per call


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
    if entry.type is _EARN and entry.order_id is not None:
        index["order#" + entry.order_id] = position


def _fork(journal: _Journal, n: int) -> _Journal:
    """A journal of the first ``n`` entries of ``journal`` (called with its lock held).

    Both copies are made in C (a list slice, a dict copy); only the keys of the entries past
    ``n``, which the newer versions posted, are then taken out of the index.
    """
    entries = journal.entries
    index = dict(journal.index)
    for position in range(n, len(entries)):
        entry = entries[position]
        del index[entry.key]
        if entry.type is _EARN and entry.order_id is not None:
            del index["order#" + entry.order_id]
    return _Journal(entries[:n], index)


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
        "max_lag",
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
        max_lag: timedelta = timedelta(0),
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
        self.last_at = last_at  # the latest business time posted (not the last entry's)
        self.last_activity = last_activity
        self.max_lag = max_lag  # how far behind last_at any entry was posted (0: in order)

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
_NO_LAG = timedelta(0)


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
    available = state.available + entry.points + entry.debt
    if available >= MAX_POINTS or debt >= MAX_POINTS:
        raise ValidationError(
            f"entries[{n}].points", entry.points, "takes the account to 10**12 points (MAX_POINTS)"
        )
    with journal.lock:
        if len(journal.entries) != n:  # an older version branches: copy its prefix once
            journal = _fork(journal, n)
        journal.entries.append(entry)
        _index_entry(journal.index, entry, n)
    at = entry.at
    last = state.last_at
    max_lag = state.max_lag
    if last is not None and at < last:  # a late arrival: business time behind the latest
        clock = last
        if last - at > max_lag:
            max_lag = last - at
    else:
        clock = at
    activity = state.last_activity
    if entry.type in ACTIVITY and (activity is None or at > activity):
        activity = at
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
            lot for lot in lots if lot.pending_until is not None and lot.pending_until > clock
        )
        held, held_until = _holding(pending)
    else:
        if held_until is not None and clock >= held_until:  # some pending lot is released
            pending = tuple([lot for lot in pending if lot.pending_until > clock])  # type: ignore[operator]
            held, held_until = _holding(pending)
        until = entry.pending_until
        if until is not None and until > clock and moves and (created or entry.creates_lot):
            if created is not None:  # only ever the entry's own lot
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
        clock,
        activity,
        available,
        pending,
        held,
        held_until,
        max_lag,
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
        delta = moves[0][1]
        if delta <= 0:
            raise ValidationError(f"entries[{n}].moves", moves, "a new lot must be positive")
        earned_at = entry.earned_at
        if earned_at is None or entry.type not in LOT_CREATING:
            raise ValidationError(f"entries[{n}].moves", moves, f"{entry.key!r} is not a lot")
        lot = new_lot(
            entry.key,
            n,
            entry.points,
            delta,
            earned_at,
            entry.expires_at,
            entry.pending_until,
            entry.order_id,
        )
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


_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,127}(?:#.*)?\Z", re.DOTALL)
"""An entry's key: a caller's id, or one the ledger derived from it (``<key>#expire``)."""


def _utc_or_none(value: object) -> bool:
    return value is None or (type(value) is datetime and value.tzinfo is UTC)


def _check_entry(entry: object, i: int, state: LedgerState) -> LedgerEntry:
    """``entry``, checked before it is replayed (the common, canonical case in a few tests)."""
    if not isinstance(entry, LedgerEntry):
        raise ValidationError(f"entries[{i}]", entry, "must be a LedgerEntry")
    key = entry.key
    if type(key) is not str or not _KEY.match(key):
        if not isinstance(key, str):
            raise ValidationError(f"entries[{i}].key", key, "must be a string")
        validate_id(key.split("#", 1)[0], f"entries[{i}].key")
    if type(entry.type) is not EntryType:
        raise ValidationError(f"entries[{i}].type", entry.type, "must be an EntryType")
    if not (type(entry.at) is datetime and entry.at.tzinfo is UTC):
        to_utc(entry.at, f"entries[{i}].at")
    if not (
        _utc_or_none(entry.earned_at)
        and _utc_or_none(entry.expires_at)
        and _utc_or_none(entry.pending_until)
    ):
        for name in ("earned_at", "expires_at", "pending_until"):
            if getattr(entry, name) is not None:
                to_utc(getattr(entry, name), f"entries[{i}].{name}")
    if state.position(key) is not None:
        raise ValidationError(f"entries[{i}].key", key, "is used twice")
    points, debt = entry.points, entry.debt
    if not (
        type(points) is int
        and type(debt) is int
        and type(entry.forgiven) is int
        and type(entry.shortfall) is int
        and -MAX_POINTS < points < MAX_POINTS
        and -MAX_POINTS < debt < MAX_POINTS
        and 0 <= entry.forgiven < MAX_POINTS
        and 0 <= entry.shortfall < MAX_POINTS
    ):
        for name in ("points", "debt", "forgiven", "shortfall"):
            number = getattr(entry, name)
            if type(number) is not int or not -MAX_POINTS < number < MAX_POINTS:
                raise ValidationError(
                    f"entries[{i}].{name}", number, "must be an integer below 10**12"
                )
        raise ValidationError(f"entries[{i}].shortfall", entry.shortfall, "must not be negative")
    moves, withheld = entry.moves, entry.withheld
    if not (
        type(moves) is tuple
        and type(withheld) is tuple
        and all(_is_move(pair) for pair in moves)
        and all(_is_move(pair) for pair in withheld)
    ):
        name = "moves" if type(moves) is not tuple or not all(map(_is_move, moves)) else "withheld"
        raise ValidationError(
            f"entries[{i}].{name}", getattr(entry, name), "must be (lot key, points) pairs"
        )
    if points != sum(d for _, d in moves) - debt:
        raise ValidationError(f"entries[{i}].points", points, "is not sum(moves) - debt")
    return entry


def _is_move(pair: object) -> bool:
    return (
        type(pair) is tuple
        and len(pair) == 2
        and type(pair[0]) is str
        and type(pair[1]) is int
        and -MAX_POINTS < pair[1] < MAX_POINTS
    )


def replay_state(entries: Iterable[LedgerEntry]) -> LedgerState:
    """The state after ``entries``, each checked first (unique keys, sums, no lot or debt
    negative), and checked in business-time order when some entry arrived late."""
    state = _empty_state()
    for i, entry in enumerate(entries):
        state = append_entry(state, _check_entry(entry, i, state))
    if state.max_lag:
        check_business_order(state.entries())
    return state


def check_business_order(entries: Sequence[LedgerEntry]) -> None:
    """Check the ledger read in business-time order (ties by posting order).

    Every lot and the debt stay non-negative at every instant, no entry moves points of a lot
    created later in business time, and no reversal is dated before the entry it reverses.
    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the entry.
    """
    order = sorted(range(len(entries)), key=lambda i: (entries[i].at, i))
    available: dict[str, int] = {}
    created: dict[str, datetime] = {}
    times = {entry.key: entry.at for entry in entries}
    debt = 0
    for i in order:
        entry = entries[i]
        where = f"entries[{i}]"
        if entry.reverses is not None:
            target = times.get(entry.reverses)
            if target is not None and entry.at < target:
                raise ValidationError(
                    f"{where}.at", entry.at, f"is before the entry it reverses ({target})"
                )
        if entry.creates_lot and entry.key not in created:
            created[entry.key] = entry.at
        for lot_key, delta in entry.moves:
            if lot_key not in created:
                raise ValidationError(
                    f"{where}.at", entry.at, f"is before lot {lot_key!r} was created"
                )
            left = available.get(lot_key, 0) + delta
            if left < 0:
                raise ValidationError(
                    f"{where}.moves", entry.moves, f"over-consumes lot {lot_key!r} at {entry.at}"
                )
            available[lot_key] = left
        debt += entry.debt
        if debt < 0:
            raise ValidationError(f"{where}.debt", entry.debt, "settles debt not owed yet")
