"""What the ledger's operations post: the rules that turn a checked request into entries.

Functions over a `LedgerState`, used by
[`LoyaltyAccount`][crmcore.loyalty.ledger.LoyaltyAccount]: the spendable balance at a
time, when points next expire and the expiry due by then, which lots a spend
consumes (FIFO), the lots an earn, award or positive adjustment creates
(settling debt first), what a refund claws back and what a cancelled
redemption restores. The rules themselves are stated in
[`crmcore.loyalty.ledger`][crmcore.loyalty.ledger] and ``docs/loyalty.md``.

A late posting (business time ``t`` behind the latest) may only use what is there at every instant
from ``t`` on: [`room_after()`][crmcore.loyalty._posting.room_after] gives, per open lot and for the
debt, the least amount held at any business time from ``t`` to the latest entry, and consumption,
debt settlement and claw-backs are capped by it, so the ledger stays consistent read in business
order as well as in posting order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Final

from crmcore.customers.records import Purchase
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import DomainEvent
from crmcore.kernel.money import Money
from crmcore.loyalty._journal import LedgerState, append_entry
from crmcore.loyalty.entries import (
    ACTIVITY,
    LOT_CREATING,
    MAX_POINTS,
    EntryType,
    LedgerEntry,
    Lot,
    new_entry,
)
from crmcore.loyalty.events import PointsExpired
from crmcore.loyalty.expiry import program_zone
from crmcore.loyalty.program import LoyaltyProgram

__all__ = [
    "Room",
    "balance_after",
    "balance_late",
    "balance_now",
    "consume",
    "create_lot",
    "earn_lot",
    "earned_on_day",
    "expire_due",
    "expiry_may_be_due",
    "next_expiry",
    "placement",
    "reversal",
    "room_after",
]

# Enum members read through their class cost a lookup per call: the hot paths use these.
_EARN: Final = EntryType.EARN
_EXPIRE: Final = EntryType.EXPIRE


class Room:
    """What a late posting at ``at`` may use: per open lot, and of the debt, the least amount held
    at any business time from ``at`` on; and the most debt owed at any of them (``debt_high``),
    which a late spend must leave covered."""

    __slots__ = ("at", "debt", "debt_high", "lots")

    def __init__(self, at: datetime, lots: dict[str, int], debt: int, debt_high: int) -> None:
        self.at = at
        self.lots = lots
        self.debt = debt
        self.debt_high = debt_high

    def lot(self, key: str, available: int) -> int:
        """How many of a lot's ``available`` points the posting may take."""
        return min(available, self.lots.get(key, 0))


def _later(state: LedgerState, at: datetime) -> list[tuple[datetime, int, LedgerEntry]]:
    """The entries with a business time after ``at``, as (at, position, entry), scanning back
    from the newest."""
    entries = state.journal.entries
    bound = at - state.max_lag
    out: list[tuple[datetime, int, LedgerEntry]] = []
    for i in range(state.n - 1, -1, -1):
        entry = entries[i]
        if entry.at > at:
            out.append((entry.at, i, entry))
        elif entry.at < bound:
            # Every entry is at most max_lag behind the latest business time before it, so none
            # posted earlier than this one is after ``at``.
            break
    return out


def room_after(state: LedgerState, at: datetime) -> Room:
    """The [`Room`][crmcore.loyalty._posting.Room] of a posting at business time ``at``: the
    minimum, over every point of business order (time, then posting order) from ``at`` to the
    latest, of each open lot's available points and of the debt."""
    later = sorted(_later(state, at), key=lambda t: (t[0], t[1]), reverse=True)
    running = {lot.key: lot.available for lot in state.lots}
    lowest = dict(running)
    debt = state.debt
    lowest_debt = highest_debt = debt
    for _when, _position, entry in later:  # undo them one by one, newest in business order first
        for key, delta in entry.moves:
            if key in running:
                running[key] -= delta
        debt -= entry.debt
        for key, value in running.items():
            if value < lowest[key]:
                lowest[key] = value
        lowest_debt = min(lowest_debt, debt)
        highest_debt = max(highest_debt, debt)
    lots = {k: max(v, 0) for k, v in lowest.items()}
    return Room(at, lots, max(lowest_debt, 0), highest_debt)


def _activity_as_of(state: LedgerState, at: datetime) -> datetime | None:
    """The latest activity (earn, award, redeem) dated at or before ``at``."""
    entries = state.journal.entries
    best: datetime | None = None
    for i in range(state.n - 1, -1, -1):
        entry = entries[i]
        if best is not None and entry.at < best - state.max_lag:
            break  # nothing posted earlier is dated after ``best``
        if entry.type in ACTIVITY and entry.at <= at and (best is None or entry.at > best):
            best = entry.at
    return best


def placement(
    state: LedgerState, program: LoyaltyProgram, at: datetime, backdated: bool
) -> Room | None:
    """``None`` for a posting at or after the latest business time; for a late one, what it may
    use ([`room_after()`][crmcore.loyalty._posting.room_after]), or the refusal when it is further
    behind than the program's out-of-order tolerance and not an explicit back-dated adjustment."""
    last = state.last_at
    if last is None or at >= last:
        return None
    lag = last - at
    tolerance = program.out_of_order_tolerance
    if lag > tolerance and not backdated:
        raise ValidationError(
            "at",
            at,
            f"is {lag} before the account's latest entry ({last.isoformat()}), more than the"
            f" program's out-of-order tolerance ({tolerance}); post it at a later time, or book it"
            " as an explicit back-dated adjustment: adjust(..., backdated=True)",
        )
    return room_after(state, at)


def balance_after(state: LedgerState, at: datetime, program: LoyaltyProgram) -> int:
    """The balance an event reports: as of ``at``, or as of the latest business time for a late
    posting."""
    last = state.last_at
    return balance_now(state, at if last is None or at >= last else last, program)


def balance_late(state: LedgerState, room: Room, program: LoyaltyProgram | None) -> int:
    """What a late posting at ``room.at`` may spend: the room of the lots spendable then, minus
    the debt."""
    at = room.at
    if program is not None and program._derived.inactivity:
        activity = _activity_as_of(state, at)
        deadline = program.expiry.inactivity_deadline(activity, program.timezone)
        if deadline is not None and at >= deadline:
            return -room.debt_high
    total = 0
    for lot in state.lots:
        if _usable(lot, at):
            total += room.lot(lot.key, lot.available)
    return total - room.debt_high


def _usable(lot: Lot, at: datetime) -> bool:
    """[`Lot.spendable()`][crmcore.loyalty.entries.Lot.spendable] for a checked ``at``."""
    until = lot.pending_until
    if until is not None and at < until:
        return False
    expires = lot.expires_at
    return expires is None or at < expires


def next_expiry(state: LedgerState, program: LoyaltyProgram | None) -> datetime | None:
    """The first instant at which some open lot expires (``None``: nothing ever will)."""
    if not state.lots:
        return None
    first = state.lots[0].expires_at  # FIFO order: the soonest expiry comes first
    deadline = _deadline(state, program)
    if deadline is None:
        return first
    return deadline if first is None else min(first, deadline)


def expiry_may_be_due(state: LedgerState, program: LoyaltyProgram, at: datetime) -> bool:
    """False when no open lot can be due by ``at`` (none open, or the soonest expiry is later and
    no inactivity rule applies): the common case, decided before anything is built."""
    lots = state.lots
    if not lots:
        return False
    first = lots[0].expires_at  # FIFO order: the soonest expiry comes first
    return program._derived.inactivity or (first is not None and at >= first)


def _deadline(state: LedgerState, program: LoyaltyProgram | None) -> datetime | None:
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


def balance_now(state: LedgerState, at: datetime, program: LoyaltyProgram | None) -> int:
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


def consume(
    lots: Sequence[Lot], at: datetime, points: int, room: Room | None = None
) -> tuple[tuple[str, int], ...]:
    """Moves taking ``points`` from the spendable lots in FIFO order (lots are sorted), within
    ``room`` for a late posting."""
    moves: list[tuple[str, int]] = []
    left = points
    for lot in lots:
        if not _usable(lot, at):
            continue
        available = lot.available if room is None else room.lot(lot.key, lot.available)
        if available <= 0:
            continue
        take = available if available < left else left
        moves.append((lot.key, -take))
        left -= take
        if not left:
            break
    return tuple(moves)


def reversal(
    program: LoyaltyProgram,
    state: LedgerState,
    target: LedgerEntry,
    key: str,
    at: datetime,
    points: int | None,
    amount: Money | None,
    reason: str,
    request: str,
    room: Room | None = None,
) -> LedgerEntry:
    """The entry reversing (part of) ``target``: a refund clawback or a restored spend."""
    if at < target.at:
        raise ValidationError("at", at, f"is before the entry it reverses ({target.at})")
    if target.type in (EntryType.REDEEM,) or (
        target.type is EntryType.ADJUST and target.points < 0
    ):
        if amount is not None:
            raise ValidationError("amount", amount, "applies to purchases only")
        return _restore(state, target, key, at, points, reason, request)
    if target.type in LOT_CREATING:
        return _clawback(program, state, target, key, at, points, amount, reason, request, room)
    raise ValidationError("of", target.key, f"a {target.type} entry cannot be reversed")


def _reversals(state: LedgerState, of: str) -> list[LedgerEntry]:
    return [e for e in state.entries() if e.type is EntryType.REVERSE and e.reverses == of]


def _clawback(
    program: LoyaltyProgram,
    state: LedgerState,
    target: LedgerEntry,
    key: str,
    at: datetime,
    points: int | None,
    amount: Money | None,
    reason: str,
    request: str,
    room: Room | None,
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
    if lot is None:
        take = 0
    else:
        take = min(wanted, lot.available if room is None else room.lot(lot.key, lot.available))
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
    state: LedgerState,
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


def earned_on_day(state: LedgerState, program: LoyaltyProgram, when: datetime) -> int:
    """The points earned by purchases made on the local day of ``when`` (the daily cap)."""
    zone = program_zone(program.timezone)
    local_day = when.astimezone(zone).date()
    start = datetime.combine(local_day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    entries = state.journal.entries
    bound = start - state.max_lag  # entries posted late lag at most max_lag behind
    total = 0
    for i in range(state.n - 1, -1, -1):
        entry = entries[i]
        if entry.at < bound:
            break
        earned = entry.earned_at
        if entry.type is _EARN and earned is not None and start <= earned < end:
            total += entry.points
    return total


def earn_lot(
    program: LoyaltyProgram,
    state: LedgerState,
    purchase: Purchase,
    order: str,
    key: str,
    posted: datetime,
    points: int,
    reason: str,
    request: str,
    room: Room | None = None,
) -> tuple[LedgerState, datetime | None, datetime | None]:
    """Post the ``points`` a purchase earns: a lot pending for the return window, settling debt
    (only debt owed from the posting's time on, for a late one).

    Returns the new state, the lot's ``pending_until`` and its expiry.
    """
    if points >= MAX_POINTS or state.available + points >= MAX_POINTS:
        raise ValidationError(
            "purchase.amount",
            purchase.amount,
            f"earns {points} points, taking the account to 10**12 points (MAX_POINTS) or more",
        )
    derived = program._derived
    pending = derived.pending
    pending_until = None if pending is None else purchase.at + pending
    expires_at = derived.lot_expiry(purchase.at)
    owed = state.debt if room is None else room.debt
    settle = min(points, owed) if owed else 0
    entry = new_entry(
        _EARN,
        key,
        posted,
        points,
        ((key, points - settle),) if points - settle else (),
        request,
        debt=-settle,
        reason=reason,
        order_id=order,
        spend=purchase.amount,
        earned_at=purchase.at,
        expires_at=expires_at,
        pending_until=pending_until,
    )
    return append_entry(state, entry), pending_until, expires_at


def create_lot(
    program: LoyaltyProgram,
    state: LedgerState,
    type_: EntryType,
    key: str,
    at: datetime,
    points: int,
    request: str,
    reason: str = "",
    room: Room | None = None,
    *,
    action: str | None = None,
) -> tuple[LedgerState, datetime | None]:
    """Post an award or positive adjustment of ``points``: a new lot, settling debt first.

    Returns the new state and the lot's expiry.
    """
    if state.available + points >= MAX_POINTS:
        field = "delta" if type_ is EntryType.ADJUST else "points"
        raise ValidationError(field, points, "takes the account to 10**12 points (MAX_POINTS)")
    expires_at = program._derived.lot_expiry(at)
    settle = min(points, state.debt if room is None else room.debt)
    entry = new_entry(
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
    return append_entry(state, entry), expires_at


def expire_due(
    state: LedgerState,
    program: LoyaltyProgram,
    at: datetime,
    key: str,
    account_id: str,
    customer_id: str,
) -> tuple[LedgerState, list[DomainEvent]]:
    """Post the expiry due by ``at`` under ``key`` (if any is due), with its event."""
    lots = state.lots
    soonest = next_expiry(state, program)
    if soonest is None or at < soonest:
        return state, []
    deadline = _deadline(state, program)
    if deadline is not None and at >= deadline:
        due: Sequence[Lot] = lots
    else:
        due = [lot for lot in lots if lot.expires_at is not None and lot.expires_at <= at]
    moves = tuple((lot.key, -lot.available) for lot in due)
    points = sum(d for _, d in moves)
    entry = new_entry(_EXPIRE, key, at, points, moves, "", reason=program._derived.describe)
    state = append_entry(state, entry)
    event = PointsExpired(
        aggregate_id=account_id,
        occurred_at=at,
        customer_id=customer_id,
        entry_key=key,
        points=points,
        balance=balance_now(state, at, program),
        lots=len(moves),
    )
    return state, [event]
