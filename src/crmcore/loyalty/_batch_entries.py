"""The entries, events and accounts a batch posted, built from the engine's arrays on demand.

[`BatchPosting.accounts`][crmcore.loyalty.posting_batch.BatchPosting.accounts] and
[`BatchPosting.events`][crmcore.loyalty.posting_batch.BatchPosting.events] come from here: for each
operation the engine posted, the expiry entry due before it (if any) and its own entry, with the
same fields, keys and canonical request text the per-account path writes, appended to the account
through the journal (so every move is checked again: no lot over-consumed, no debt negative), and
the events that path raises, with the balances the engine computed.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np

from crmcore.kernel.arrays import Int64Array
from crmcore.kernel.clock import from_micros
from crmcore.kernel.events import DomainEvent
from crmcore.kernel.money import Money
from crmcore.loyalty._batch_engine import AWARD, EARN, REDEEM
from crmcore.loyalty._batch_route import POSTED, Routed
from crmcore.loyalty._batch_rules import NEVER_US, NONE_US
from crmcore.loyalty._journal import LedgerState, append_entry
from crmcore.loyalty.entries import EntryType, LedgerEntry, new_entry
from crmcore.loyalty.events import PointsAwarded, PointsExpired, points_earned, points_redeemed
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.program import LoyaltyProgram

if TYPE_CHECKING:
    from crmcore.loyalty.posting_batch import Postings

__all__ = ["Materialized", "materialize"]


class Materialized:
    """The batch's accounts and events, built once, the first time either is asked for."""

    __slots__ = ("_accounts", "_events", "_postings", "_program", "_routed", "_values")

    def __init__(
        self,
        program: LoyaltyProgram,
        accounts: tuple[LoyaltyAccount, ...],
        postings: Postings,
        routed: Routed,
    ) -> None:
        self._program = program
        self._values = accounts
        self._postings = postings
        self._routed = routed
        self._accounts: tuple[LoyaltyAccount, ...] | None = None
        self._events: dict[int, tuple[DomainEvent, ...]] = {}

    def accounts(self) -> tuple[LoyaltyAccount, ...]:
        """Every account after the batch, in input order."""
        if self._accounts is None:
            self._build()
        assert self._accounts is not None
        return self._accounts

    def events(self) -> tuple[DomainEvent, ...]:
        """The posted operations' events, in input order."""
        if self._accounts is None:
            self._build()
        status = self._routed.status
        out: list[DomainEvent] = []
        for i in np.flatnonzero(status == POSTED).tolist():
            out.extend(self._events.get(i, ()))
        return tuple(out)

    def _build(self) -> None:
        values = list(self._values)
        routed = self._routed
        for row, (account, events) in routed.fallback.items():
            values[row] = account
            self._events.update(events)
        if routed.engine is not None:
            _Posting(self._program, self._postings, routed, self._events).apply(values)
        self._accounts = tuple(values)


def _grouped(ops: Int64Array, columns: Int64Array, deltas: Int64Array) -> dict[int, list[Any]]:
    """The moves of each engine operation: ``{op: [(column, delta), ...]}`` in column order."""
    out: dict[int, list[Any]] = {}
    for op, column, delta in zip(ops.tolist(), columns.tolist(), deltas.tolist(), strict=True):
        out.setdefault(op, []).append((column, delta))
    return out


class _Posting:
    """Builds the engine's entries and events, reading its arrays as Python lists once."""

    def __init__(
        self,
        program: LoyaltyProgram,
        postings: Postings,
        routed: Routed,
        events: dict[int, tuple[DomainEvent, ...]],
    ) -> None:
        engine = routed.engine
        assert engine is not None
        ops = routed.engine_ops
        self.program = program
        self.postings = postings
        self.routed = routed
        self.events = events
        self.ops = ops.tolist()
        self.rows = postings.account[ops].tolist()
        self.kinds = postings.kind[ops].tolist()
        self.times = [from_micros(t) for t in postings.at_us[ops].tolist()]
        self.expires = routed.lot_expires[ops].tolist()
        self.pending = routed.lot_pending[ops].tolist()
        self.accepted = engine.accepted.tolist()
        self.points = engine.points.tolist()
        self.settle = engine.settle.tolist()
        self.balance = engine.balance.tolist()
        self.before = engine.before.tolist()
        self.expired = _grouped(engine.expire_op, engine.expire_column, engine.expire_delta)
        self.spent = _grouped(engine.spend_op, engine.spend_column, engine.spend_delta)
        self.money: dict[int, Money] = {}

    def apply(self, values: list[LoyaltyAccount]) -> None:
        """Replace each engine account in ``values`` with the account after its operations."""
        rows = self.rows
        bounds = [*np.flatnonzero(np.diff(rows, prepend=-1)).tolist(), len(rows)]
        for start, stop in itertools.pairwise(bounds):
            row = rows[start]
            values[row] = self._account(values[row], start, stop)

    def _account(self, acc: LoyaltyAccount, start: int, stop: int) -> LoyaltyAccount:
        """``acc`` after the engine's operations ``start``..``stop`` (engine order)."""
        state: LedgerState = acc._state
        lot_keys = [lot.key for lot in state.lots]  # by column: open lots, then new ones
        keys = self.postings.keys
        for e in range(start, stop):
            i = self.ops[e]
            if self.kinds[e] != REDEEM:  # a lot-creating operation takes the next column
                lot_keys.append(keys[i])
            if not self.accepted[e]:
                continue
            events: list[DomainEvent] = []
            due = self.expired.get(e)
            if due:
                moves = tuple((lot_keys[c], d) for c, d in due)
                state = append_entry(state, self._expiry(acc, e, i, moves, events))
            spent = tuple((lot_keys[c], d) for c, d in self.spent.get(e, ()))
            entry, event = self._entry(acc, e, i, spent)
            state = append_entry(state, entry)
            events.append(event)
            self.events[i] = tuple(events)
        return acc._spawn(state)

    def _expiry(
        self,
        acc: LoyaltyAccount,
        e: int,
        i: int,
        moves: tuple[tuple[str, int], ...],
        events: list[DomainEvent],
    ) -> LedgerEntry:
        """The expiry entry posted before operation ``i`` (and its event into ``events``)."""
        key = self.postings.keys[i] + "#expire"
        points = sum(d for _, d in moves)
        when = self.times[e]
        events.append(
            PointsExpired(
                aggregate_id=acc.id,
                occurred_at=when,
                customer_id=acc.customer_id,
                entry_key=key,
                points=points,
                balance=self.before[e],
                lots=len(moves),
            )
        )
        describe = self.program._derived.describe
        return new_entry(EntryType.EXPIRE, key, when, points, moves, "", reason=describe)

    def _money(self, i: int) -> Money:
        postings = self.postings
        if postings.amounts is not None:
            return postings.money(i)
        minor = int(postings.amount_minor[i])
        found = self.money.get(minor)
        if found is None:
            found = self.money[minor] = postings.money(i)
        return found

    def _entry(
        self, acc: LoyaltyAccount, e: int, i: int, moves: tuple[tuple[str, int], ...]
    ) -> tuple[LedgerEntry, DomainEvent]:
        """Operation ``i``'s entry and event (``e``: its engine index)."""
        postings = self.postings
        when = self.times[e]
        key = postings.keys[i]
        kind = self.kinds[e]
        points = self.points[e]
        balance = self.balance[e]
        settle = self.settle[e]
        lot = ((key, points - settle),) if points - settle else ()
        expires = self.expires[e]
        expires_at = None if expires == NEVER_US else from_micros(expires)
        if kind == EARN:
            money = self._money(i)
            order = postings.refs[i]
            k = int(postings.category[i])
            channel = postings.channels[int(postings.channel[i])]
            category = None if k < 0 else postings.categories[k]
            request = f"earn|{order}|{money.amount}|{channel}|{category}|{postings.tier_of(i)}"
            pending = self.pending[e]
            until = None if pending == NONE_US else from_micros(pending)
            entry = new_entry(
                EntryType.EARN,
                key,
                when,
                points,
                lot,
                request,
                debt=-settle,
                reason=self.routed.reasons[i],
                order_id=order,
                spend=money,
                earned_at=when,
                expires_at=expires_at,
                pending_until=until,
            )
            event: DomainEvent = points_earned(
                acc.id, when, acc.customer_id, key, points, balance, order, until, expires_at
            )
            return entry, event
        if kind == AWARD:
            name = self.routed.actions[i]
            entry = new_entry(
                EntryType.AWARD,
                key,
                when,
                points,
                lot,
                f"award|{name}|{points}",
                debt=-settle,
                action=name,
                earned_at=when,
                expires_at=expires_at,
            )
            event = PointsAwarded(
                aggregate_id=acc.id,
                occurred_at=when,
                customer_id=acc.customer_id,
                entry_key=key,
                points=points,
                balance=balance,
                action=name,
                expires_at=expires_at,
            )
            return entry, event
        amount = -points
        reference = postings.refs[i] or key
        value = self.program.value_of(amount)
        request = f"redeem|{amount}|{reference}"
        entry = new_entry(
            EntryType.REDEEM,
            key,
            when,
            points,
            moves,
            request,
            redemption_id=reference,
            value=value,
        )
        event = points_redeemed(acc.id, when, acc.customer_id, key, points, balance, value)
        return entry, event


def materialize(
    program: LoyaltyProgram,
    accounts: tuple[LoyaltyAccount, ...],
    postings: Postings,
    routed: Routed,
) -> Materialized:
    """The lazy accounts and events of a routed batch."""
    return Materialized(program, accounts, postings, routed)
