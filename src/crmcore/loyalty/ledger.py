"""The points ledger: an account of append-only entries whose points live in lots.

A :class:`LoyaltyAccount` is a frozen aggregate (``id``, ``version``, the
customer and the program it belongs to) holding its :class:`LedgerEntry`
values in order. Every operation returns an :class:`~crmcore.kernel.events.Outcome`
with the new account and one event per posted entry; nothing is ever changed
or removed, corrections are new entries.

Rules (all documented in ``docs/loyalty.md``):

* **Lots.** Points created by an earn, award or positive adjustment form a
  :class:`Lot` (earned at, expires at, pending until, available). The
  balance is the sum of the available points of the lots that are neither
  pending nor expired, minus any debt; it always equals what the entries add
  up to (pending and not-yet-posted expiries aside).
* **FIFO.** Redemptions and negative adjustments consume spendable lots in
  order of expiry (soonest first, lots without expiry last), then earning
  time, then posting order.
* **Pending.** Purchase points stay pending for the program's
  ``pending_days`` after the purchase (the return window): they count in no
  balance and cannot be spent until ``pending_until``.
* **Expiry.** Each operation at ``at`` first posts an ``expire`` entry for
  the lots due by then, so expired points can never be spent;
  :meth:`LoyaltyAccount.expire` does the same on its own (idempotent).
  :meth:`LoyaltyAccount.balance` excludes lots past their expiry even before
  that entry is posted.
* **Refunds.** :meth:`LoyaltyAccount.reverse` of an earn claws back that
  entry's points (all, a number, or in proportion to a refunded amount,
  cumulatively, with the program's rounding) from what remains of its lot.
  Points of the lot that already expired are not owed. The rest was spent:
  under ``within_balance`` it is recorded as the entry's ``shortfall`` and the
  balance stays >= 0; under ``allow_negative`` it becomes a debt (the balance
  goes negative) that new points settle first, pending ones included.
* **Cancelled redemptions.** Reversing a redemption restores its points to the
  very lots it consumed, with their original expiry; points already past
  their expiry expire at the next run. Points that would go back to a lot
  whose purchase was refunded with a shortfall settle that shortfall instead
  (``withheld``), so redeem, refund, cancel never hands back returned points.
* **Idempotency.** Every operation takes a caller's ``key``. The same key
  with the same request returns the account unchanged and posts nothing; the
  same key with a different request raises
  :class:`~crmcore.kernel.errors.DuplicateOperationError`. An order earns once.
* **Time.** Times must be aware; an operation dated before the last entry is
  rejected (:class:`~crmcore.kernel.errors.ValidationError` naming ``at``): the
  ledger is a journal in posting order, so "as of" answers stay stable.

Operations copy no history: entries go into an append-only journal shared by
successive versions of an account (a version sees its own prefix; acting on an
older version copies the journal once), and the open lots are a short tuple.
The entries, lots and events an operation derives from inputs it has already
validated are built without re-running validators (same classes, equal
values); the program's derived data (multipliers, expiry per earning day,
point values) is computed once per program value. Building an entry or an
account from outside still validates everything.

>>> from datetime import UTC, datetime
>>> from crmcore.customers import Purchase
>>> from crmcore.kernel.money import Money
>>> from crmcore.loyalty.program import LoyaltyProgram
>>> program = LoyaltyProgram(id="P", currency="EUR", point_value=Money("0.01", "EUR"))
>>> at = datetime(2026, 3, 1, tzinfo=UTC)
>>> account = LoyaltyAccount(id="A-1", customer_id="c-1", program_id="P")
>>> sale = Purchase("o-1", "c-1", at, Money("120.50", "EUR"))
>>> account = account.earn(program, sale, key="earn-o-1").value
>>> outcome = account.redeem(program, 100, at=at, key="r-1")
>>> outcome.value.balance(at), [e.kind for e in outcome.events]
(20, ['loyalty.points_redeemed'])
"""

from __future__ import annotations

import bisect
import enum
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final

import attrs

from crmcore.customers.records import Purchase
from crmcore.kernel import validators
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import (
    DuplicateOperationError,
    InsufficientPointsError,
    NotFoundError,
    ValidationError,
)
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.ids import validate_id
from crmcore.kernel.money import Money
from crmcore.kernel.reports import html_table
from crmcore.loyalty.events import (
    PointsAdjusted,
    PointsAwarded,
    PointsExpired,
    PointsReversed,
    outcome,
    points_earned,
    points_redeemed,
    trusted_setters,
)
from crmcore.loyalty.expiry import program_zone
from crmcore.loyalty.program import LoyaltyProgram

__all__ = [
    "EntryType",
    "LedgerEntry",
    "LoyaltyAccount",
    "Lot",
    "QualifyingEarn",
    "Statement",
    "replay",
]

_FAR: Final = datetime.max.replace(tzinfo=UTC)


class EntryType(enum.StrEnum):
    """The closed set of ledger entry types."""

    EARN = "earn"
    AWARD = "award"
    REDEEM = "redeem"
    EXPIRE = "expire"
    REVERSE = "reverse"
    ADJUST = "adjust"


_CREATES: Final = frozenset({EntryType.EARN, EntryType.AWARD, EntryType.ADJUST})
_ACTIVITY: Final = frozenset({EntryType.EARN, EntryType.AWARD, EntryType.REDEEM})


@attrs.frozen(kw_only=True)
class LedgerEntry:
    """One posted line of the ledger (immutable; validated when an account is built).

    ``points`` is the signed effect on the balance; ``moves`` the changes to
    lots' available points as ``(lot key, delta)`` pairs (a lot's key is the
    key of the entry that created it); ``debt`` the change of the debt
    (+ added, - settled), so ``points == sum(deltas) - debt``. Lot-creating
    entries (earn, award, positive adjust) carry the lot's ``earned_at``,
    ``expires_at`` and ``pending_until``. References: ``order_id`` (earn and
    its reversals), ``redemption_id`` (redeem and its reversals), ``reverses``
    (the key of the reversed entry). A reversal records ``spend`` (the amount
    refunded), ``forgiven`` (points of the lot that had expired, not owed)
    and ``shortfall`` (spent points not clawed back, ``within_balance``); a
    cancelled redemption records in ``withheld`` the ``(lot, points)`` it kept
    back to settle such shortfalls instead of restoring them.
    ``request`` is the canonical request, compared when a key is replayed.
    """

    type: EntryType
    key: str
    at: datetime
    points: int
    moves: tuple[tuple[str, int], ...] = ()
    debt: int = 0
    reason: str = ""
    order_id: str | None = None
    redemption_id: str | None = None
    reverses: str | None = None
    action: str | None = None
    spend: Money | None = None
    value: Money | None = None
    earned_at: datetime | None = None
    expires_at: datetime | None = None
    pending_until: datetime | None = None
    forgiven: int = 0
    shortfall: int = 0
    withheld: tuple[tuple[str, int], ...] = ()
    request: str = ""

    @property
    def creates_lot(self) -> bool:
        """True when the entry created a lot (its key is the lot's key)."""
        return self.type in _CREATES and self.earned_at is not None


@attrs.frozen(kw_only=True)
class Lot:
    """Points created together: how many are still ``available``, and their dates.

    ``key`` is the creating entry's key, ``seq`` its position in the ledger;
    ``points`` what the lot started with.
    """

    key: str
    seq: int
    points: int
    available: int
    earned_at: datetime
    expires_at: datetime | None
    pending_until: datetime | None
    order_id: str | None

    def spendable(self, as_of: datetime) -> bool:
        """True when the lot is neither pending nor expired as of ``as_of``."""
        if self.pending_until is not None and as_of < self.pending_until:
            return False
        return self.expires_at is None or as_of < self.expires_at

    @property
    def fifo(self) -> tuple[datetime, datetime, int]:
        """The consumption order: expiry (none = last), earning time, posting order."""
        return (self.expires_at or _FAR, self.earned_at, self.seq)


def _lot_fifo(lot: Lot) -> tuple[datetime, datetime, int]:
    return (lot.expires_at or _FAR, lot.earned_at, lot.seq)


# Trusted construction (same classes, same values, no re-validation) for what the
# ledger derives from already-validated inputs; see crmcore.loyalty.events.
_new = object.__new__
(
    _e_type,
    _e_key,
    _e_at,
    _e_points,
    _e_moves,
    _e_debt,
    _e_reason,
    _e_order_id,
    _e_redemption_id,
    _e_reverses,
    _e_action,
    _e_spend,
    _e_value,
    _e_earned_at,
    _e_expires_at,
    _e_pending_until,
    _e_forgiven,
    _e_shortfall,
    _e_withheld,
    _e_request,
) = trusted_setters(
    LedgerEntry,
    "type",
    "key",
    "at",
    "points",
    "moves",
    "debt",
    "reason",
    "order_id",
    "redemption_id",
    "reverses",
    "action",
    "spend",
    "value",
    "earned_at",
    "expires_at",
    "pending_until",
    "forgiven",
    "shortfall",
    "withheld",
    "request",
)
(
    _l_key,
    _l_seq,
    _l_points,
    _l_available,
    _l_earned_at,
    _l_expires_at,
    _l_pending_until,
    _l_order_id,
) = trusted_setters(
    Lot, "key", "seq", "points", "available", "earned_at", "expires_at", "pending_until", "order_id"
)


def _entry(
    type_: EntryType,
    key: str,
    at: datetime,
    points: int,
    moves: tuple[tuple[str, int], ...],
    request: str,
    *,
    debt: int = 0,
    reason: str = "",
    order_id: str | None = None,
    redemption_id: str | None = None,
    action: str | None = None,
    spend: Money | None = None,
    value: Money | None = None,
    earned_at: datetime | None = None,
    expires_at: datetime | None = None,
    pending_until: datetime | None = None,
) -> LedgerEntry:
    """A :class:`LedgerEntry` of an operation (not a reversal) from validated values."""
    entry: LedgerEntry = _new(LedgerEntry)
    _e_type(entry, type_)
    _e_key(entry, key)
    _e_at(entry, at)
    _e_points(entry, points)
    _e_moves(entry, moves)
    _e_debt(entry, debt)
    _e_reason(entry, reason)
    _e_order_id(entry, order_id)
    _e_redemption_id(entry, redemption_id)
    _e_reverses(entry, None)
    _e_action(entry, action)
    _e_spend(entry, spend)
    _e_value(entry, value)
    _e_earned_at(entry, earned_at)
    _e_expires_at(entry, expires_at)
    _e_pending_until(entry, pending_until)
    _e_forgiven(entry, 0)
    _e_shortfall(entry, 0)
    _e_withheld(entry, ())
    _e_request(entry, request)
    return entry


def _lot(
    key: str,
    seq: int,
    points: int,
    available: int,
    earned_at: datetime,
    expires_at: datetime | None,
    pending_until: datetime | None,
    order_id: str | None,
) -> Lot:
    """A :class:`Lot` from the values of a validated entry."""
    lot: Lot = _new(Lot)
    _l_key(lot, key)
    _l_seq(lot, seq)
    _l_points(lot, points)
    _l_available(lot, available)
    _l_earned_at(lot, earned_at)
    _l_expires_at(lot, expires_at)
    _l_pending_until(lot, pending_until)
    _l_order_id(lot, order_id)
    return lot


@attrs.frozen
class QualifyingEarn:
    """A purchase's contribution to tier qualification, net of its reversals.

    ``at`` is the purchase time, ``points`` the points it earned minus what
    refunds reversed, ``spend`` the amount paid minus what was refunded.
    """

    at: datetime
    order_id: str
    points: int
    spend: Money


# -- the shared journal and the per-version state ------------------------------------------


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


class _State:
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


def _empty_state() -> _State:
    return _State(_Journal([], {}), 0, _EMPTY_LOTS, 0, 0, None, None, 0, _EMPTY_LOTS, 0, None)


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


def _append(state: _State, entry: LedgerEntry) -> _State:
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
    activity = at if entry.type in _ACTIVITY else state.last_activity
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
    return _State(
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


def _apply_moves(state: _State, entry: LedgerEntry, n: int) -> tuple[tuple[Lot, ...], Lot | None]:
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
    order = _lot_fifo(lot)
    if not lots or _lot_fifo(lots[-1]) <= order:
        return (*lots, lot)
    i = bisect.bisect_right(lots, order, key=_lot_fifo)
    return (*lots[:i], lot, *lots[i:])


def _with_available(lot: Lot, available: int) -> Lot:
    return _lot(
        lot.key,
        lot.seq,
        lot.points,
        available,
        lot.earned_at,
        lot.expires_at,
        lot.pending_until,
        lot.order_id,
    )


def _reopen(state: _State, entry: LedgerEntry, n: int, lot_key: str, delta: int) -> Lot:
    if lot_key == entry.key:
        origin, seq = entry, n
    else:
        found = state.position(lot_key)
        if found is None:
            raise ValidationError(f"entries[{n}].moves", entry.moves, f"no lot {lot_key!r}")
        origin, seq = state.journal.entries[found], found
    if not origin.creates_lot or origin.earned_at is None:
        raise ValidationError(f"entries[{n}].moves", entry.moves, f"{lot_key!r} is not a lot")
    return _lot(
        origin.key,
        seq,
        origin.points,
        delta,
        origin.earned_at,
        origin.expires_at,
        origin.pending_until,
        origin.order_id,
    )


def _check_entry(entry: object, i: int, state: _State) -> LedgerEntry:
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


def replay(entries: Iterable[LedgerEntry]) -> tuple[tuple[Lot, ...], int]:
    """Rebuild the open lots and the debt from ``entries`` alone, validating them.

    Raises :class:`~crmcore.kernel.errors.ValidationError` naming the first entry
    that does not fit (time going back, a key used twice, a lot
    over-consumed, points not matching moves).
    """
    state = _build(entries)
    return state.lots, state.debt


def _build(entries: Iterable[LedgerEntry]) -> _State:
    state = _empty_state()
    for i, entry in enumerate(entries):
        state = _append(state, _check_entry(entry, i, state))
    return state


# -- the aggregate -------------------------------------------------------------------------


def _account_id(value: object) -> str:
    return validate_id(value, "id")


def _customer(value: object) -> str:
    return validate_id(value, "customer_id")


def _program_ref(value: object) -> str:
    return validate_id(value, "program_id")


def _entries(value: object) -> tuple[LedgerEntry, ...]:
    if isinstance(value, str) or not isinstance(value, tuple | list):
        raise ValidationError("entries", value, "must be a sequence of LedgerEntry")
    return tuple(value)


def _key(value: object) -> str:
    return validate_id(value, "key")


def _at(value: object, field: str = "at") -> datetime:
    if type(value) is datetime and value.tzinfo is UTC and not value.fold:
        return value  # already what to_utc returns (an equal, canonical UTC datetime)
    return to_utc(value, field)


@attrs.frozen(kw_only=True, slots=False)
class LoyaltyAccount:
    """A customer's points account in one program: entries in posting order.

    ``id`` is the account id, ``version`` the stored version (0 until a
    repository saves it). Built from entries (also when decoded from
    storage), it replays and validates them; operations append without
    copying the history. Each operation takes the :class:`LoyaltyProgram`
    (its ``id`` must be the account's ``program_id``) and returns an
    :class:`~crmcore.kernel.events.Outcome`.
    """

    id: str = attrs.field(converter=_account_id)
    customer_id: str = attrs.field(converter=_customer)
    program_id: str = attrs.field(converter=_program_ref)
    entries: tuple[LedgerEntry, ...] = attrs.field(default=(), converter=_entries, repr=False)
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_st", _build(self.entries))

    def __getattr__(self, name: str) -> Any:
        # Versions made by operations carry only their state; the entries tuple
        # is materialised on first use (equality, storage, repr).
        if name == "entries":
            state: _State = self.__dict__["_st"]
            value = tuple(state.entries())
            object.__setattr__(self, "entries", value)
            return value
        raise AttributeError(name)

    def __getstate__(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in attrs.fields(type(self))}

    def __setstate__(self, data: dict[str, Any]) -> None:
        for name, value in data.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_st", _build(self.entries))

    @classmethod
    def from_entries(
        cls,
        *,
        id: str,
        customer_id: str,
        program_id: str,
        entries: Iterable[LedgerEntry],
        version: int = 0,
    ) -> LoyaltyAccount:
        """Rebuild an account from its entries (validated, as on decoding)."""
        return cls(
            id=id,
            customer_id=customer_id,
            program_id=program_id,
            entries=tuple(entries),
            version=version,
        )

    def _spawn(self, state: _State) -> LoyaltyAccount:
        new = object.__new__(LoyaltyAccount)
        data = new.__dict__
        data["id"] = self.id
        data["customer_id"] = self.customer_id
        data["program_id"] = self.program_id
        data["version"] = self.version
        data["_st"] = state
        return new

    def with_version(self, version: int) -> LoyaltyAccount:
        """This account at ``version``, sharing its replayed state (no replay, unlike evolve).

        Repositories use it to stamp a saved account with its new version.
        """
        validators.version(self, attrs.fields(LoyaltyAccount).version, version)
        new = self._spawn(self._state)
        new.__dict__["version"] = version
        if "entries" in self.__dict__:
            new.__dict__["entries"] = self.__dict__["entries"]
        return new

    @property
    def _state(self) -> _State:
        state: _State = self.__dict__["_st"]
        return state

    # -- queries ------------------------------------------------------------------------------
    @property
    def lots(self) -> tuple[Lot, ...]:
        """The open lots (some points still available), in FIFO order."""
        return self._state.lots

    @property
    def debt(self) -> int:
        """Points owed after refunds of spent points (``allow_negative`` only)."""
        return self._state.debt

    @property
    def total_points(self) -> int:
        """What the entries add up to: the open lots' points (pending too) minus the debt."""
        return self._state.total

    @property
    def last_at(self) -> datetime | None:
        """The time of the last entry (operations may not be dated before it)."""
        return self._state.last_at

    @property
    def last_activity(self) -> datetime | None:
        """The time of the last earn, award or redemption (the inactivity rule's clock)."""
        return self._state.last_activity

    def __len__(self) -> int:
        return self._state.n

    def entry(self, key: str) -> LedgerEntry:
        """The entry posted under ``key`` (raises :class:`~crmcore.kernel.errors.NotFoundError`)."""
        found = self._state.find(key) if isinstance(key, str) else None
        if found is None:
            raise NotFoundError("ledger entry", key)
        return found

    def has_entry(self, key: str) -> bool:
        """True when an entry was posted under ``key``."""
        return isinstance(key, str) and self._state.find(key) is not None

    def earn_entry_for(self, order_id: str) -> LedgerEntry:
        """The earn entry of ``order_id`` (raises :class:`~crmcore.kernel.errors.NotFoundError`)."""
        found = self._state.find("order#" + order_id) if isinstance(order_id, str) else None
        if found is None:
            raise NotFoundError("earn entry for order", order_id)
        return found

    def balance(self, as_of: datetime, program: LoyaltyProgram | None = None) -> int:
        """Spendable points as of ``as_of``: not pending, not expired, minus the debt.

        For a time before the last entry the ledger is replayed up to it. Pass
        the ``program`` for the inactivity rule (lots of other rules carry
        their own dates).
        """
        instant = _at(as_of, "as_of")
        state = self._state
        if state.last_at is not None and instant < state.last_at:
            state = _build(e for e in state.entries() if e.at <= instant)
        return _balance_now(state, instant, program)

    def pending(self, as_of: datetime) -> int:
        """Points earned but still pending (return window) as of ``as_of``."""
        instant = _at(as_of, "as_of")
        return sum(
            lot.available
            for lot in self._state.lots
            if lot.pending_until is not None
            and instant < lot.pending_until
            and (lot.expires_at is None or instant < lot.expires_at)
        )

    def statement(self, start: datetime, end: datetime) -> Statement:
        """The entries in ``[start, end)`` with the opening and closing ledger totals."""
        lo, hi = _at(start, "start"), _at(end, "end")
        if hi < lo:
            raise ValidationError("end", end, "must not be before start")
        opening = 0
        chosen: list[LedgerEntry] = []
        for entry in self._state.entries():
            if entry.at < lo:
                opening += entry.points
            elif entry.at < hi:
                chosen.append(entry)
        closing = opening + sum(e.points for e in chosen)
        return Statement(
            account_id=self.id,
            start=lo,
            end=hi,
            opening=opening,
            entries=tuple(chosen),
            closing=closing,
        )

    def qualifying_earns(self) -> tuple[QualifyingEarn, ...]:
        """Each purchase's (at, points, spend) net of its refunds: the tiers module's input."""
        entries = self._state.entries()
        reversed_points: dict[str, int] = {}
        refunded: dict[str, Money] = {}
        for entry in entries:
            if entry.type is EntryType.REVERSE and entry.reverses is not None:
                owed = -entry.points + entry.forgiven + entry.shortfall
                reversed_points[entry.reverses] = reversed_points.get(entry.reverses, 0) + owed
                if entry.spend is not None:
                    before = refunded.get(entry.reverses)
                    refunded[entry.reverses] = (
                        entry.spend if before is None else before + entry.spend
                    )
        out = []
        for entry in entries:
            if entry.type is EntryType.EARN and entry.spend is not None:
                spend = entry.spend - refunded.get(entry.key, Money.zero(entry.spend.currency))
                points = entry.points - reversed_points.get(entry.key, 0)
                at = entry.earned_at or entry.at
                out.append(QualifyingEarn(at, entry.order_id or "", points, spend))
        return tuple(out)

    # -- operations ---------------------------------------------------------------------------
    def _check_program(self, program: object) -> LoyaltyProgram:
        if not isinstance(program, LoyaltyProgram):
            raise ValidationError("program", program, "must be a LoyaltyProgram")
        if program.id != self.program_id:
            raise ValidationError("program", program.id, f"is not {self.program_id!r}")
        return program

    def _replayed(self, key: str, request: str) -> bool:
        found = self._state.find(key)
        if found is None:
            return False
        if found.request != request:
            raise DuplicateOperationError(key, f"was used for {found.request!r}")
        return True

    def _start(self, at: datetime) -> None:
        last = self._state.last_at
        if last is not None and at < last:
            raise ValidationError("at", at, f"is before the last entry ({last.isoformat()})")

    def earn(
        self,
        program: LoyaltyProgram,
        purchase: Purchase,
        *,
        key: str,
        at: datetime | None = None,
        tier: str | None = None,
    ) -> Outcome[LoyaltyAccount]:
        """Post the points ``purchase`` earns (``tier``: the customer's current tier name).

        ``at`` is the posting time (default: the purchase time; never before
        it). Points are pending until ``purchase.at + pending_days`` and
        expire by the program's policy counted from the purchase time.
        """
        program = self._check_program(program)
        key = _key(key)
        if not isinstance(purchase, Purchase):
            raise ValidationError("purchase", purchase, "must be a crmcore Purchase")
        if str(purchase.customer_id) != self.customer_id:
            raise ValidationError(
                "purchase.customer_id", purchase.customer_id, "is not the account's"
            )
        posted = purchase.at if at is None else _at(at)
        if posted < purchase.at:
            raise ValidationError("at", at, "is before the purchase")
        request = (
            f"earn|{purchase.order_id}|{purchase.amount.amount}|{purchase.channel}"
            f"|{purchase.category}|{tier}"
        )
        if self._replayed(key, request):
            return Outcome(self)
        self._start(posted)
        previous = self._state.find("order#" + purchase.order_id)
        if previous is not None:
            raise DuplicateOperationError(
                key, f"order {purchase.order_id!r} earned under {previous.key!r}"
            )
        derived = program._derived
        campaigns, points = derived.quote(purchase, tier)[3:]
        day_cap = derived.earn.max_points_per_day
        if day_cap is not None:
            points = min(points, max(0, day_cap - self._earned_on_day(program, purchase.at)))
        state, events = self._expire_due(program, posted, key, "#expire")
        pending = derived.pending
        pending_until = None if pending is None else purchase.at + pending
        expires_at = derived.lot_expiry(purchase.at)
        settle = min(points, state.debt) if state.debt else 0
        order = str(purchase.order_id)
        entry = _entry(
            EntryType.EARN,
            key,
            posted,
            points,
            ((key, points - settle),) if points - settle else (),
            request,
            debt=-settle,
            reason=", ".join(campaigns),
            order_id=order,
            spend=purchase.amount,
            earned_at=purchase.at,
            expires_at=expires_at,
            pending_until=pending_until,
        )
        state = _append(state, entry)
        events.append(
            points_earned(
                self.id,
                posted,
                self.customer_id,
                key,
                points,
                _balance_now(state, posted, program),
                order,
                pending_until,
                expires_at,
            )
        )
        return outcome(self._spawn(state), tuple(events))

    def award(
        self,
        program: LoyaltyProgram,
        action: str,
        *,
        at: datetime,
        key: str,
        points: int | None = None,
    ) -> Outcome[LoyaltyAccount]:
        """Award the points of ``action`` (``points`` overrides the configured amount).

        Referral rewards are the action ``"referral"`` with the caller's key
        (e.g. ``"referral:<referee>"``), so a reward is granted once.
        """
        program = self._check_program(program)
        key = _key(key)
        name, amount = program.action_points(action, points)
        instant = _at(at)
        request = f"award|{name}|{amount}"
        if self._replayed(key, request):
            return Outcome(self)
        self._start(instant)
        state, events = self._expire_due(program, instant, key, "#expire")
        state, expires_at = self._create(
            program, state, EntryType.AWARD, key, instant, amount, request, action=name
        )
        events.append(
            PointsAwarded(
                aggregate_id=self.id,
                occurred_at=instant,
                customer_id=self.customer_id,
                entry_key=key,
                points=amount,
                balance=_balance_now(state, instant, program),
                action=name,
                expires_at=expires_at,
            )
        )
        return Outcome(self._spawn(state), tuple(events))

    def redeem(
        self,
        program: LoyaltyProgram,
        points: int,
        *,
        at: datetime,
        key: str,
        redemption_id: str | None = None,
    ) -> Outcome[LoyaltyAccount]:
        """Spend ``points`` (FIFO over spendable lots); ``redemption_id`` defaults to ``key``.

        Raises :class:`~crmcore.kernel.errors.InsufficientPointsError` with the balance
        as of ``at`` when it is short.
        """
        program = self._check_program(program)
        key = _key(key)
        amount = program.redemption.check(points)
        reference = key if redemption_id is None else validate_id(redemption_id, "redemption_id")
        instant = _at(at)
        request = f"redeem|{amount}|{reference}"
        if self._replayed(key, request):
            return Outcome(self)
        self._start(instant)
        state, events = self._expire_due(program, instant, key, "#expire")
        available = _balance_now(state, instant, program)
        if amount > available:
            raise InsufficientPointsError(self.id, available, amount)
        moves = _consume(state.lots, instant, amount)
        value = program.value_of(amount)
        entry = _entry(
            EntryType.REDEEM,
            key,
            instant,
            -amount,
            moves,
            request,
            redemption_id=reference,
            value=value,
        )
        state = _append(state, entry)
        events.append(
            points_redeemed(
                self.id, instant, self.customer_id, key, -amount, available - amount, value
            )
        )
        return outcome(self._spawn(state), tuple(events))

    def adjust(
        self,
        program: LoyaltyProgram,
        delta: int,
        *,
        reason: str,
        at: datetime,
        key: str,
    ) -> Outcome[LoyaltyAccount]:
        """A manual correction: ``delta > 0`` creates a lot, ``delta < 0`` consumes FIFO.

        A negative adjustment beyond the spendable balance raises
        :class:`~crmcore.kernel.errors.InsufficientPointsError` (only refunds create debt).
        """
        program = self._check_program(program)
        key = _key(key)
        if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
            raise ValidationError("delta", delta, "must be a non-zero integer")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
            raise ValidationError("reason", reason, "must be a non-empty string (<= 500)")
        instant = _at(at)
        request = f"adjust|{delta}|{reason}"
        if self._replayed(key, request):
            return Outcome(self)
        self._start(instant)
        state, events = self._expire_due(program, instant, key, "#expire")
        if delta > 0:
            state, _ = self._create(
                program, state, EntryType.ADJUST, key, instant, delta, request, reason=reason
            )
        else:
            wanted = -delta
            available = _balance_now(state, instant, program)
            if wanted > available:
                raise InsufficientPointsError(self.id, available, wanted)
            entry = LedgerEntry(
                type=EntryType.ADJUST,
                key=key,
                at=instant,
                points=delta,
                moves=_consume(state.lots, instant, wanted),
                reason=reason,
                request=request,
            )
            state = _append(state, entry)
        events.append(
            PointsAdjusted(
                aggregate_id=self.id,
                occurred_at=instant,
                customer_id=self.customer_id,
                entry_key=key,
                points=delta,
                balance=_balance_now(state, instant, program),
            )
        )
        return Outcome(self._spawn(state), tuple(events))

    def reverse(
        self,
        program: LoyaltyProgram,
        of: str,
        *,
        at: datetime,
        key: str,
        points: int | None = None,
        amount: Money | None = None,
        reason: str = "",
    ) -> Outcome[LoyaltyAccount]:
        """Reverse (part of) the entry posted under ``of``.

        For an earn, award or positive adjustment: claw back ``points``, or
        the share of a refunded ``amount`` (earn only; cumulative over partial
        refunds, so refunding everything claws back everything), or all that
        is left. For a redemption or negative adjustment: restore ``points``
        (default all) to the lots it consumed, with their original expiry.
        """
        program = self._check_program(program)
        key = _key(key)
        target = self.entry(of)
        instant = _at(at)
        if points is not None and amount is not None:
            raise ValidationError("points", points, "give points or amount, not both")
        if points is not None and (
            isinstance(points, bool) or not isinstance(points, int) or points <= 0
        ):
            raise ValidationError("points", points, "must be a positive integer")
        if amount is not None and not isinstance(amount, Money):
            raise ValidationError("amount", amount, "must be Money")
        shown = None if amount is None else f"{amount.amount} {amount.currency}"
        request = f"reverse|{of}|{points}|{shown}"
        if self._replayed(key, request):
            return Outcome(self)
        self._start(instant)
        state, events = self._expire_due(program, instant, key, "#expire")
        if target.type in (EntryType.REDEEM,) or (
            target.type is EntryType.ADJUST and target.points < 0
        ):
            if amount is not None:
                raise ValidationError("amount", amount, "applies to purchases only")
            entry = _restore(state, target, key, instant, points, reason, request)
        elif target.type in _CREATES:
            entry = _clawback(program, state, target, key, instant, points, amount, reason, request)
        else:
            raise ValidationError("of", of, f"a {target.type} entry cannot be reversed")
        state = _append(state, entry)
        events.append(
            PointsReversed(
                aggregate_id=self.id,
                occurred_at=instant,
                customer_id=self.customer_id,
                entry_key=key,
                points=entry.points,
                balance=_balance_now(state, instant, program),
                reverses=target.key,
                order_id=target.order_id,
                shortfall=entry.shortfall,
            )
        )
        return Outcome(self._spawn(state), tuple(events))

    def refund(
        self,
        program: LoyaltyProgram,
        order_id: str,
        *,
        at: datetime,
        key: str,
        amount: Money | None = None,
        points: int | None = None,
    ) -> Outcome[LoyaltyAccount]:
        """Claw back the points of ``order_id`` for a full or partial (``amount``) refund."""
        target = self.earn_entry_for(order_id)
        return self.reverse(
            program, target.key, at=at, key=key, points=points, amount=amount, reason="refund"
        )

    def next_expiry(self, program: LoyaltyProgram) -> datetime | None:
        """When points next expire (``None`` when no open lot ever will).

        Lots expire by their own dates; under an inactivity policy every open
        lot also expires at the inactivity deadline. Use it for "your points
        expire on ..." reminders, and to skip accounts with nothing due.
        """
        return _next_expiry(self._state, self._check_program(program))

    def expire(self, program: LoyaltyProgram, as_of: datetime) -> Outcome[LoyaltyAccount]:
        """Post the expiry of every lot due by ``as_of`` (idempotent: a rerun posts nothing).

        A run dated before the last entry posts nothing: every operation
        already expired what was due at its own time.
        """
        program = self._check_program(program)
        instant = _at(as_of, "as_of")
        last = self._state.last_at
        if last is not None and instant < last:
            return Outcome(self)
        key = f"expire#{instant.isoformat()}#{self._state.n}"  # unique: runs may repeat a time
        state, events = self._expire_due(program, instant, key)
        if state is self._state:
            return Outcome(self)
        return Outcome(self._spawn(state), tuple(events))

    # -- helpers ------------------------------------------------------------------------------
    def _earned_on_day(self, program: LoyaltyProgram, when: datetime) -> int:
        zone = program_zone(program.timezone)
        local_day = when.astimezone(zone).date()
        start = datetime.combine(local_day, time(0), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        state = self._state
        entries = state.journal.entries
        total = 0
        for i in range(state.n - 1, -1, -1):
            entry = entries[i]
            if entry.at < start:
                break
            earned = entry.earned_at
            if entry.type is EntryType.EARN and earned is not None and start <= earned < end:
                total += entry.points
        return total

    def _expire_due(
        self, program: LoyaltyProgram, at: datetime, key: str, suffix: str = ""
    ) -> tuple[_State, list[DomainEvent]]:
        """Post the expiry due by ``at`` under ``key + suffix`` (if any is due)."""
        state = self._state
        lots = state.lots
        soonest = _next_expiry(state, program)
        if soonest is None or at < soonest:
            return state, []
        deadline = _deadline(state, program)
        if deadline is not None and at >= deadline:
            due: Sequence[Lot] = lots
        else:
            due = [lot for lot in lots if lot.expires_at is not None and lot.expires_at <= at]
        moves = tuple((lot.key, -lot.available) for lot in due)
        points = sum(d for _, d in moves)
        key += suffix
        entry = _entry(
            EntryType.EXPIRE, key, at, points, moves, "", reason=program._derived.describe
        )
        state = _append(state, entry)
        event = PointsExpired(
            aggregate_id=self.id,
            occurred_at=at,
            customer_id=self.customer_id,
            entry_key=key,
            points=points,
            balance=_balance_now(state, at, program),
            lots=len(moves),
        )
        return state, [event]

    def _create(
        self,
        program: LoyaltyProgram,
        state: _State,
        type_: EntryType,
        key: str,
        at: datetime,
        points: int,
        request: str,
        *,
        action: str | None = None,
        reason: str = "",
    ) -> tuple[_State, datetime | None]:
        expires_at = program._derived.lot_expiry(at)
        settle = min(points, state.debt)
        entry = _entry(
            type_,
            key,
            at,
            points,
            ((key, points - settle),) if points - settle else (),
            request,
            debt=-settle,
            reason=reason,
            action=action,
            earned_at=at,
            expires_at=expires_at,
        )
        return _append(state, entry), expires_at


def _next_expiry(state: _State, program: LoyaltyProgram | None) -> datetime | None:
    """The first instant at which some open lot expires (``None``: nothing ever will)."""
    if not state.lots:
        return None
    first = state.lots[0].expires_at  # FIFO order: the soonest expiry comes first
    deadline = _deadline(state, program)
    if deadline is None:
        return first
    return deadline if first is None else min(first, deadline)


def _deadline(state: _State, program: LoyaltyProgram | None) -> datetime | None:
    if program is None or not program._derived.inactivity:
        return None
    return program.expiry.inactivity_deadline(state.last_activity, program.timezone)


def _spendable(lots: Sequence[Lot], as_of: datetime) -> int:
    total = 0
    for lot in lots:
        if lot.pending_until is not None and as_of < lot.pending_until:
            continue
        if lot.expires_at is not None and as_of >= lot.expires_at:
            continue
        total += lot.available
    return total


def _balance_now(state: _State, at: datetime, program: LoyaltyProgram | None) -> int:
    """Spendable balance at ``at`` (not before the last entry)."""
    if program is not None and program._derived.inactivity:
        deadline = _deadline(state, program)
        if deadline is not None and at >= deadline:
            return -state.debt
    lots = state.lots
    if not lots:
        return -state.debt
    first = lots[0].expires_at
    if first is not None and at >= first:  # some lot expired and not yet posted: scan
        return _spendable(lots, at) - state.debt
    # Nothing expired: all open points, minus those still pending (a few recent lots).
    until = state.held_until
    if until is None or at < until:  # every pending lot still held (or none pending)
        return state.available - state.held - state.debt
    held = 0
    for lot in state.pending:
        if at < lot.pending_until:  # type: ignore[operator]
            held += lot.available
    return state.available - held - state.debt


def _consume(lots: Sequence[Lot], at: datetime, points: int) -> tuple[tuple[str, int], ...]:
    """Moves taking ``points`` from the spendable lots in FIFO order (lots are sorted)."""
    moves: list[tuple[str, int]] = []
    left = points
    for lot in lots:
        if not lot.spendable(at):
            continue
        take = lot.available if lot.available < left else left
        moves.append((lot.key, -take))
        left -= take
        if not left:
            break
    return tuple(moves)


def _reversals(state: _State, of: str) -> list[LedgerEntry]:
    return [e for e in state.entries() if e.type is EntryType.REVERSE and e.reverses == of]


def _clawback(
    program: LoyaltyProgram,
    state: _State,
    target: LedgerEntry,
    key: str,
    at: datetime,
    points: int | None,
    amount: Money | None,
    reason: str,
    request: str,
) -> LedgerEntry:
    earlier = _reversals(state, target.key)
    owed_before = sum(-e.points + e.forgiven + e.shortfall for e in earlier)
    remaining = target.points - owed_before
    refunded: Money | None = None
    if amount is not None:
        if target.type is not EntryType.EARN or target.spend is None:
            raise ValidationError("amount", amount, "applies to purchases only")
        if amount.currency != target.spend.currency or amount.amount <= 0:
            raise ValidationError("amount", amount, f"must be positive {target.spend.currency}")
        before = Money.sum((e.spend for e in earlier if e.spend is not None), amount.currency)
        total_refunded = before + amount
        if total_refunded > target.spend:
            raise ValidationError("amount", amount, f"refunds more than {target.spend}")
        share = (
            Decimal(target.points) * total_refunded.amount / target.spend.amount
            if target.spend.amount
            else Decimal(target.points)
        )
        wanted = int(share.to_integral_value(rounding=program.earn.rounding)) - owed_before
        wanted = max(0, min(wanted, remaining))
        refunded = amount
    elif points is not None:
        if points > remaining:
            raise ValidationError("points", points, f"exceeds the {remaining} left to reverse")
        wanted = points
    else:
        if remaining <= 0 and not _spend_left(target, earlier):
            raise ValidationError("of", target.key, "is already fully reversed")
        wanted = max(remaining, 0)  # a purchase that earned nothing can still be refunded
    if refunded is None and target.type is EntryType.EARN and target.spend is not None:
        # Record the spend taken back with the points, so net spend stays consistent.
        left_spend = _spend_left(target, earlier) or Money.zero(target.spend.currency)
        if wanted == remaining or remaining <= 0:
            refunded = left_spend
        else:
            refunded = Money(left_spend.amount * wanted / remaining, left_spend.currency).rounded()
    lot = next((lot for lot in state.lots if lot.key == target.key), None)
    take = min(wanted, lot.available) if lot is not None else 0
    rest = wanted - take
    expired = sum(
        -d
        for e in state.entries()
        if e.type is EntryType.EXPIRE
        for lot_key, d in e.moves
        if lot_key == target.key
    )
    forgiven = min(rest, max(0, expired - sum(e.forgiven for e in earlier)))
    rest -= forgiven
    debt = rest if program.allows_negative else 0
    shortfall = rest - debt
    return LedgerEntry(
        type=EntryType.REVERSE,
        key=key,
        at=at,
        points=-take - debt,
        moves=((target.key, -take),) if take else (),
        debt=debt,
        reason=reason,
        order_id=target.order_id,
        reverses=target.key,
        spend=refunded,
        forgiven=forgiven,
        shortfall=shortfall,
        request=request,
    )


def _spend_left(target: LedgerEntry, earlier: Sequence[LedgerEntry]) -> Money | None:
    """What is left of an earn's spend after its earlier refunds (None when nothing)."""
    if target.spend is None:
        return None
    refunded = Money.sum((e.spend for e in earlier if e.spend is not None), target.spend.currency)
    left = target.spend - refunded
    return left if left.amount > 0 else None


def _restore(
    state: _State,
    target: LedgerEntry,
    key: str,
    at: datetime,
    points: int | None,
    reason: str,
    request: str,
) -> LedgerEntry:
    earlier = _reversals(state, target.key)
    restored_lots: dict[str, int] = {}
    for e in earlier:
        for lot_key, d in (*e.moves, *e.withheld):
            restored_lots[lot_key] = restored_lots.get(lot_key, 0) + d
    total = -target.points
    remaining = total - sum(restored_lots.values())
    if remaining <= 0:
        raise ValidationError("of", target.key, "is already fully reversed")
    wanted = remaining if points is None else points
    if wanted > remaining:
        raise ValidationError("points", points, f"exceeds the {remaining} left to restore")
    # Points going back to a lot whose purchase was refunded while they were spent
    # settle that refund's shortfall first: a cancelled redemption never hands back
    # points of a returned order (the redeem -> refund -> cancel exploit).
    outstanding: dict[str, int] = {}
    for e in state.entries():
        if e.type is EntryType.REVERSE:
            if e.shortfall and e.reverses is not None:
                outstanding[e.reverses] = outstanding.get(e.reverses, 0) + e.shortfall
            for lot_key, w in e.withheld:
                outstanding[lot_key] = outstanding.get(lot_key, 0) - w
    left = wanted
    moves: list[tuple[str, int]] = []
    withheld: list[tuple[str, int]] = []
    for lot_key, d in reversed(target.moves):  # the last consumed comes back first
        if not left:
            break
        room = -d - restored_lots.get(lot_key, 0)
        give = min(room, left)
        if give > 0:
            keep = min(give, outstanding.get(lot_key, 0))
            if keep:
                withheld.append((lot_key, keep))
                outstanding[lot_key] -= keep
            if give - keep:
                moves.append((lot_key, give - keep))
            left -= give
    return LedgerEntry(
        type=EntryType.REVERSE,
        key=key,
        at=at,
        points=sum(d for _, d in moves),
        moves=tuple(moves),
        reason=reason,
        redemption_id=target.redemption_id,
        reverses=target.key,
        withheld=tuple(withheld),
        request=request,
    )


# -- the statement report ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Statement:
    """An account statement over ``[start, end)``: opening total, entries, closing total.

    Totals are ledger totals (what the entries add up to, pending points
    included), so ``closing == opening + sum(entry.points)``.
    """

    account_id: str
    start: datetime
    end: datetime
    opening: int
    entries: tuple[LedgerEntry, ...]
    closing: int

    def to_dict(self) -> dict[str, object]:
        """JSON-compatible statement."""
        return {
            "account_id": self.account_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "opening": self.opening,
            "closing": self.closing,
            "entries": [
                {
                    "type": e.type.value,
                    "key": e.key,
                    "at": e.at.isoformat(),
                    "points": e.points,
                    "order_id": e.order_id,
                    "redemption_id": e.redemption_id,
                    "reverses": e.reverses,
                    "reason": e.reason,
                }
                for e in self.entries
            ],
        }

    def _repr_html_(self) -> str:
        rows: list[list[object]] = [["", "opening", "", self.opening]]
        running = self.opening
        for e in self.entries:
            running += e.points
            rows.append([e.at.isoformat(), e.type.value, e.key, e.points, running])
        rows.append(["", "closing", "", self.closing])
        return html_table(
            f"Statement {self.account_id}",
            ["at", "type", "key", "points", "running"],
            rows,
            caption=f"{self.start.isoformat()} to {self.end.isoformat()}",
        )
