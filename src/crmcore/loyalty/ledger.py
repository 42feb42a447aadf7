"""The points ledger: an account of append-only entries whose points live in lots.

A [`LoyaltyAccount`][crmcore.loyalty.ledger.LoyaltyAccount] is a frozen aggregate (``id``,
``version``, the customer and the program it belongs to) holding its
[`LedgerEntry`][crmcore.loyalty.entries.LedgerEntry] values in order. Every operation returns an
[`Outcome`][crmcore.kernel.events.Outcome] with the new account and one event per posted entry;
nothing is ever changed or removed, corrections are new entries.

Rules (all documented in ``docs/loyalty.md``):

* **Lots.** Points created by an earn, award or positive adjustment form a
  [`Lot`][crmcore.loyalty.entries.Lot] (earned at, expires at, pending until,
  available). The balance is the sum of the available points of the lots
  that are neither pending nor expired, minus any debt; it always equals what
  the entries add up to (pending and not-yet-posted expiries aside).
* **FIFO.** Redemptions and negative adjustments consume spendable lots in
  order of expiry (soonest first, lots without expiry last), then earning
  time, then posting order.
* **Pending.** Purchase points stay pending for the program's
  ``pending_days`` after the purchase (the return window): they count in no
  balance and cannot be spent until ``pending_until``.
* **Expiry.** Each operation at ``at`` first posts an ``expire`` entry for
  the lots due by then, so expired points can never be spent;
  [`LoyaltyAccount.expire()`][crmcore.loyalty.ledger.LoyaltyAccount.expire] does the same on its own
  (idempotent). [`LoyaltyAccount.balance()`][crmcore.loyalty.ledger.LoyaltyAccount.balance] excludes
  lots past their expiry even before that entry is posted.
* **Refunds.** [`LoyaltyAccount.reverse()`][crmcore.loyalty.ledger.LoyaltyAccount.reverse] of an
  earn claws back that entry's points (all, a number, or in proportion to a refunded amount,
  cumulatively, with the program's rounding) from what remains of its lot. Points of the lot that
  already expired are not owed. The rest was spent: under ``within_balance`` it is recorded as the
  entry's ``shortfall`` and the balance stays >= 0; under ``allow_negative`` it becomes a debt (the
  balance goes negative) that new points settle first, pending ones included.
* **Cancelled redemptions.** Reversing a redemption restores its points to the
  very lots it consumed, with their original expiry; points already past
  their expiry expire at the next run. Points that would go back to a lot
  whose purchase was refunded with a shortfall settle that shortfall instead
  (``withheld``), so redeem, refund, cancel never hands back returned points.
* **Idempotency.** Every operation takes a caller's ``key``. The same key
  with the same request returns the account unchanged and posts nothing; the
  same key with a different request raises
  [`DuplicateOperationError`][crmcore.kernel.errors.DuplicateOperationError]. An order earns once.
* **Time: business time and posting order.** Times are aware. An entry's ``at`` is its business
  time; its place in ``entries`` its posting order. App servers' clocks differ and requests
  overtake each other, so an operation may be dated up to the program's
  ``out_of_order_tolerance`` (default 5 minutes) before the latest entry (``last_at``): it is
  appended and placed at its own time (balances as of any time, statements and expiry count it
  from ``at``), using only what the account held at every time from ``at`` on (a late redemption
  spends neither points earned after it nor points a later entry spent; the expiry due was posted
  by the later operation). Anything older raises a
  [`ValidationError`][crmcore.kernel.errors.ValidationError] naming ``at``: it must be posted now,
  or as an explicit back-dated adjustment (``adjust(..., backdated=True)``, same rules). A
  reversal is never dated before what it reverses. The ledger stays consistent read in business
  order as in posting order ([`replay()`][crmcore.loyalty.ledger.replay] checks both).

Operations copy no history: successive versions share an append-only journal (acting on an
older version copies it once) and the open lots are a short tuple. What an operation derives
from inputs it has validated is built without re-running validators, the program's derived data
once per program value; building an entry or an account from outside validates everything.

The entries and lots are defined in [`crmcore.loyalty.entries`][crmcore.loyalty.entries], the
statement in [`crmcore.loyalty.statement`][crmcore.loyalty.statement]; the array path over many
accounts (nightly expiry, the liability report) is
[`crmcore.loyalty.ledger_batch`][crmcore.loyalty.ledger_batch].

Examples:
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

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

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
from crmcore.loyalty._journal import LedgerState, append_entry, replay_state
from crmcore.loyalty._posting import (
    Room,
    balance_after,
    balance_late,
    balance_now,
    consume,
    create_lot,
    earn_lot,
    earned_on_day,
    expire_due,
    expiry_may_be_due,
    next_expiry,
    placement,
    reversal,
)
from crmcore.loyalty.entries import (
    MAX_POINTS,
    EntryType,
    LedgerEntry,
    Lot,
    QualifyingEarn,
    new_entry,
    qualifying_earns,
)
from crmcore.loyalty.events import (
    PointsAdjusted,
    PointsAwarded,
    PointsReversed,
    outcome,
    points_earned,
    points_redeemed,
)
from crmcore.loyalty.program import LoyaltyProgram
from crmcore.loyalty.statement import Statement, statement_of

__all__ = ["LoyaltyAccount", "replay"]


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


def replay(entries: Iterable[LedgerEntry]) -> tuple[tuple[Lot, ...], int]:
    """Rebuild the open lots and the debt from ``entries`` alone, validating them.

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the first entry
    that does not fit (a key used twice, a lot over-consumed, points not matching moves, or, read
    in business-time order, a lot or the debt going negative, points taken from a lot before it
    existed, a reversal dated before what it reverses).
    """
    state = replay_state(validators.items_of(entries, "entries", "LedgerEntry values"))
    return state.lots, state.debt


@attrs.frozen(kw_only=True, slots=False)
class LoyaltyAccount:
    """A customer's points account in one program: entries in posting order.

    ``id`` is the account id, ``version`` the stored version (0 until a
    repository saves it). Built from entries (also when decoded from
    storage), it replays and validates them; operations append without
    copying the history. Each operation takes the
    [`LoyaltyProgram`][crmcore.loyalty.ledger.LoyaltyProgram] (its ``id`` must be the account's
    ``program_id``) and returns an [`Outcome`][crmcore.kernel.events.Outcome].
    """

    id: str = attrs.field(converter=_account_id)
    customer_id: str = attrs.field(converter=_customer)
    program_id: str = attrs.field(converter=_program_ref)
    entries: tuple[LedgerEntry, ...] = attrs.field(default=(), converter=_entries, repr=False)
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_st", replay_state(self.entries))

    def __getattr__(self, name: str) -> Any:
        # Versions made by operations carry only their state; the entries tuple
        # is materialised on first use (equality, storage, repr).
        if name == "entries":
            state: LedgerState = self.__dict__["_st"]
            value = tuple(state.entries())
            object.__setattr__(self, "entries", value)
            return value
        raise AttributeError(name)

    def __getstate__(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in attrs.fields(type(self))}

    def __setstate__(self, data: dict[str, Any]) -> None:
        for name, value in data.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_st", replay_state(self.entries))

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
            entries=validators.items_of(entries, "entries", "LedgerEntry values"),
            version=version,
        )

    def _spawn(self, state: LedgerState) -> LoyaltyAccount:
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
    def _state(self) -> LedgerState:
        state: LedgerState = self.__dict__["_st"]
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
        """The latest business time posted (operations may be dated before it by at most the
        program's ``out_of_order_tolerance``)."""
        return self._state.last_at

    @property
    def last_activity(self) -> datetime | None:
        """The time of the last earn, award or redemption (the inactivity rule's clock)."""
        return self._state.last_activity

    def __len__(self) -> int:
        return self._state.n

    def entry(self, key: str) -> LedgerEntry:
        """The entry posted under ``key`` (raises
        [`NotFoundError`][crmcore.kernel.errors.NotFoundError])."""
        found = self._state.find(key) if isinstance(key, str) else None
        if found is None:
            raise NotFoundError("ledger entry", key)
        return found

    def has_entry(self, key: str) -> bool:
        """True when an entry was posted under ``key``."""
        return isinstance(key, str) and self._state.find(key) is not None

    def earn_entry_for(self, order_id: str) -> LedgerEntry:
        """The earn entry of ``order_id`` (raises
        [`NotFoundError`][crmcore.kernel.errors.NotFoundError])."""
        found = self._state.find("order#" + order_id) if isinstance(order_id, str) else None
        if found is None:
            raise NotFoundError("earn entry for order", order_id)
        return found

    def balance(self, as_of: datetime, program: LoyaltyProgram | None = None) -> int:
        """Spendable points as of ``as_of``: not pending, not expired, minus the debt.

        For a time before the latest entry the entries dated up to it are replayed
        (by business time, late arrivals included). Pass the ``program`` for the
        inactivity rule (lots of other rules carry their own dates).
        """
        instant = _at(as_of, "as_of")
        if program is not None and not isinstance(program, LoyaltyProgram):
            raise ValidationError("program", program, "must be a LoyaltyProgram or None")
        state = self._state
        if state.last_at is not None and instant < state.last_at:
            state = replay_state(e for e in state.entries() if e.at <= instant)
        return balance_now(state, instant, program)

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
        entries = self._state.entries()
        if self._state.max_lag:  # late arrivals: list the period in business-time order
            order = sorted(range(len(entries)), key=lambda i: (entries[i].at, i))
            entries = [entries[i] for i in order]
        return statement_of(self.id, entries, lo, hi)

    def qualifying_earns(self) -> tuple[QualifyingEarn, ...]:
        """Each purchase's (at, points, spend) net of its refunds: the tiers module's input."""
        return qualifying_earns(self._state.entries())

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

    def _due(
        self, program: LoyaltyProgram, at: datetime, key: str, room: Room | None
    ) -> tuple[LedgerState, list[DomainEvent]]:
        """Post the expiry due by ``at`` first (in order only: for a late posting, the later
        operation already expired what was due)."""
        if room is not None or not expiry_may_be_due(self._state, program, at):
            return self._state, []  # the common case: decided without building the expiry key
        return self._expire_due(program, at, key, "#expire")

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
        room = placement(self._state, program, posted, False)
        previous = self._state.find("order#" + purchase.order_id)
        if previous is not None:
            raise DuplicateOperationError(
                key, f"order {purchase.order_id!r} earned under {previous.key!r}"
            )
        derived = program._derived
        campaigns, points = derived.quote(purchase, tier)[3:]
        day_cap = derived.earn.max_points_per_day
        if day_cap is not None:
            points = min(points, max(0, day_cap - earned_on_day(self._state, program, purchase.at)))
        state, events = self._due(program, posted, key, room)
        order = str(purchase.order_id)
        campaign = ", ".join(campaigns)
        state, pending_until, expires_at = earn_lot(
            program, state, purchase, order, key, posted, points, campaign, request, room
        )
        events.append(
            points_earned(
                self.id,
                posted,
                self.customer_id,
                key,
                points,
                balance_after(state, posted, program),
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
        room = placement(self._state, program, instant, False)
        state, events = self._due(program, instant, key, room)
        state, expires_at = create_lot(
            program, state, EntryType.AWARD, key, instant, amount, request, action=name, room=room
        )
        events.append(
            PointsAwarded(
                aggregate_id=self.id,
                occurred_at=instant,
                customer_id=self.customer_id,
                entry_key=key,
                points=amount,
                balance=balance_after(state, instant, program),
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

        Raises [`InsufficientPointsError`][crmcore.kernel.errors.InsufficientPointsError] with the
        balance as of ``at`` when it is short.
        """
        program = self._check_program(program)
        key = _key(key)
        amount = program.redemption.check(points)
        reference = key if redemption_id is None else validate_id(redemption_id, "redemption_id")
        instant = _at(at)
        request = f"redeem|{amount}|{reference}"
        if self._replayed(key, request):
            return Outcome(self)
        room = placement(self._state, program, instant, False)
        state, events = self._due(program, instant, key, room)
        available = (
            balance_late(state, room, program) if room else balance_now(state, instant, program)
        )
        if amount > available:
            raise InsufficientPointsError(self.id, available, amount)
        moves = consume(state.lots, instant, amount, room)
        value = program.value_of(amount)
        entry = new_entry(
            EntryType.REDEEM,
            key,
            instant,
            -amount,
            moves,
            request,
            redemption_id=reference,
            value=value,
        )
        state = append_entry(state, entry)
        after = available - amount if room is None else balance_after(state, instant, program)
        events.append(
            points_redeemed(self.id, instant, self.customer_id, key, -amount, after, value)
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
        backdated: bool = False,
    ) -> Outcome[LoyaltyAccount]:
        """A manual correction: ``delta > 0`` creates a lot, ``delta < 0`` consumes FIFO.

        A negative adjustment beyond the spendable balance raises
        [`InsufficientPointsError`][crmcore.kernel.errors.InsufficientPointsError] (only refunds
        create debt). ``backdated=True`` is the explicit back-dated adjustment: it is placed at
        ``at`` however far that is behind the latest entry (beyond the program's out-of-order
        tolerance), with the rules of any late posting; ``reason`` says why.
        """
        program = self._check_program(program)
        key = _key(key)
        if type(delta) is not int or delta == 0 or not -MAX_POINTS < delta < MAX_POINTS:
            raise ValidationError("delta", delta, "must be a non-zero integer below 10**12")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
            raise ValidationError("reason", reason, "must be a non-empty string (<= 500)")
        if not isinstance(backdated, bool):
            raise ValidationError("backdated", backdated, "must be True or False")
        instant = _at(at)
        request = f"adjust|{delta}|{reason}"
        if self._replayed(key, request):
            return Outcome(self)
        room = placement(self._state, program, instant, backdated)
        state, events = self._due(program, instant, key, room)
        if delta > 0:
            state, _ = create_lot(
                program, state, EntryType.ADJUST, key, instant, delta, request, reason, room
            )
        else:
            wanted = -delta
            if room is None:
                available = balance_now(state, instant, program)
            else:
                available = balance_late(state, room, program)
            if wanted > available:
                raise InsufficientPointsError(self.id, available, wanted)
            entry = LedgerEntry(
                type=EntryType.ADJUST,
                key=key,
                at=instant,
                points=delta,
                moves=consume(state.lots, instant, wanted, room),
                reason=reason,
                request=request,
            )
            state = append_entry(state, entry)
        events.append(
            PointsAdjusted(
                aggregate_id=self.id,
                occurred_at=instant,
                customer_id=self.customer_id,
                entry_key=key,
                points=delta,
                balance=balance_after(state, instant, program),
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
        room = placement(self._state, program, instant, False)
        state, events = self._due(program, instant, key, room)
        entry = reversal(
            program, state, target, key, instant, points, amount, reason, request, room
        )
        state = append_entry(state, entry)
        events.append(
            PointsReversed(
                aggregate_id=self.id,
                occurred_at=instant,
                customer_id=self.customer_id,
                entry_key=key,
                points=entry.points,
                balance=balance_after(state, instant, program),
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
        return next_expiry(self._state, self._check_program(program))

    def expire(self, program: LoyaltyProgram, as_of: datetime) -> Outcome[LoyaltyAccount]:
        """Post the expiry of every lot due by ``as_of`` (idempotent: a rerun posts nothing).

        A run dated before the latest entry posts nothing: every operation
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

    def _expire_due(
        self, program: LoyaltyProgram, at: datetime, key: str, suffix: str = ""
    ) -> tuple[LedgerState, list[DomainEvent]]:
        """Post the expiry due by ``at`` under ``key + suffix`` (if any is due)."""
        return expire_due(self._state, program, at, key + suffix, self.id, self.customer_id)
