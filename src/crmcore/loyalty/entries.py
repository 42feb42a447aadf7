"""The points ledger's values: entry types, entries, the lots they form, qualifying earns.

A [`LedgerEntry`][crmcore.loyalty.entries.LedgerEntry] is one posted line of the ledger; points
created by an earn, award or positive adjustment form a [`Lot`][crmcore.loyalty.entries.Lot] (earned
at, expires at, pending until, available), which later entries consume or restore by ``(lot key,
delta)`` moves. A [`QualifyingEarn`][crmcore.loyalty.entries.QualifyingEarn] is a purchase's
contribution to tier qualification, read from the entries.

The ledger derives its entries and lots from inputs it has already validated;
[`new_entry()`][crmcore.loyalty.entries.new_entry] and
[`new_lot()`][crmcore.loyalty.entries.new_lot] build those without re-running validators (same
classes, equal values). Building an entry from outside still validates everything.

Points are bounded: every operation's points, every lot, and an account's points and debt stay
below [`MAX_POINTS`][crmcore.loyalty.entries.MAX_POINTS] (10**12) in magnitude, so balances and the
sums of the batch paths (int64 columns) cannot overflow.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

import attrs

from crmcore.kernel.clock import to_utc
from crmcore.kernel.money import Money
from crmcore.loyalty.events import trusted_setters

__all__ = [
    "MAX_POINTS",
    "EntryType",
    "LedgerEntry",
    "Lot",
    "QualifyingEarn",
]

_FAR: Final = datetime.max.replace(tzinfo=UTC)

MAX_POINTS: Final = 10**12
"""The bound on points (exclusive): an operation's points, a lot, an account's points and its debt
are less than 10**12 in magnitude. A trillion points is far beyond any program, and it leaves the
int64 columns of the batch paths room to sum the points of millions of accounts."""


class EntryType(enum.StrEnum):
    """The closed set of ledger entry types."""

    EARN = "earn"
    AWARD = "award"
    REDEEM = "redeem"
    EXPIRE = "expire"
    REVERSE = "reverse"
    ADJUST = "adjust"


LOT_CREATING: Final = frozenset({EntryType.EARN, EntryType.AWARD, EntryType.ADJUST})
"""The entry types that can create a lot (earn, award, positive adjust; internal)."""
ACTIVITY: Final = frozenset({EntryType.EARN, EntryType.AWARD, EntryType.REDEEM})
"""The entry types that count as activity for the inactivity rule (internal)."""


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
        return self.type in LOT_CREATING and self.earned_at is not None


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
        """True when the lot is neither pending nor expired as of ``as_of`` (an aware datetime)."""
        if type(as_of) is not datetime or as_of.tzinfo is None:
            as_of = to_utc(as_of, "as_of")  # raises ValidationError for anything but a time
        if self.pending_until is not None and as_of < self.pending_until:
            return False
        return self.expires_at is None or as_of < self.expires_at

    @property
    def fifo(self) -> tuple[datetime, datetime, int]:
        """The consumption order: expiry (none = last), earning time, posting order."""
        return (self.expires_at or _FAR, self.earned_at, self.seq)


def fifo_key(lot: Lot) -> tuple[datetime, datetime, int]:
    """[`Lot.fifo`][crmcore.loyalty.entries.Lot.fifo] as a function: the key the open lots are
    sorted by (internal)."""
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


def new_entry(
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
    """A [`LedgerEntry`][crmcore.loyalty.entries.LedgerEntry] of an operation (not a reversal) from
    validated values (internal)."""
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


def new_lot(
    key: str,
    seq: int,
    points: int,
    available: int,
    earned_at: datetime,
    expires_at: datetime | None,
    pending_until: datetime | None,
    order_id: str | None,
) -> Lot:
    """A [`Lot`][crmcore.loyalty.entries.Lot] from the values of a validated entry (internal)."""
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


def qualifying_earns(entries: Sequence[LedgerEntry]) -> tuple[QualifyingEarn, ...]:
    """Each purchase's [`QualifyingEarn`][crmcore.loyalty.entries.QualifyingEarn] in ``entries``,
    net of its reversals (internal)."""
    reversed_points: dict[str, int] = {}
    refunded: dict[str, Money] = {}
    for entry in entries:
        if entry.type is EntryType.REVERSE and entry.reverses is not None:
            owed = -entry.points + entry.forgiven + entry.shortfall
            reversed_points[entry.reverses] = reversed_points.get(entry.reverses, 0) + owed
            if entry.spend is not None:
                before = refunded.get(entry.reverses)
                refunded[entry.reverses] = entry.spend if before is None else before + entry.spend
    out = []
    for entry in entries:
        if entry.type is EntryType.EARN and entry.spend is not None:
            spend = entry.spend - refunded.get(entry.key, Money.zero(entry.spend.currency))
            points = entry.points - reversed_points.get(entry.key, 0)
            at = entry.earned_at or entry.at
            out.append(QualifyingEarn(at, entry.order_id or "", points, spend))
    return tuple(out)
