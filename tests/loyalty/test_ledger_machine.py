"""Stateful property test: random sequences of every ledger operation keep the invariants.

Each step runs one operation (earn, award, redeem, expire, refund, cancel a
redemption, adjust, replay a key, reuse a key with another payload, act on an
older version) at a time that moves forward, or arrives late: dated up to the
program's out-of-order tolerance before the latest entry (accepted and placed at
its own business time), or further back (refused, unless it is an explicit
back-dated adjustment), under a program drawn from several expiry rules and both
return policies. After every step:

* the balance is never negative unless the program allows it;
* balance == the spendable lots minus the debt, and the entries add up to the
  open lots minus the debt; an independent recomputation from the entries
  alone (moves per lot, pending and expiry dates) gives the same balance;
* no lot is over-consumed (0 < available <= points);
* no redemption ever took points from a lot that was expired or pending then;
* replaying the last operation posts nothing;
* an account rebuilt from its entries equals the original, lots and debt too
  (which also checks every lot and the debt stay >= 0 read in business order);
* the balance as of each recent business time equals the independent
  recomputation from the entries dated up to it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from crmcore.customers import Purchase
from crmcore.kernel.errors import DuplicateOperationError, InsufficientPointsError, ValidationError
from crmcore.kernel.money import Money
from crmcore.loyalty.entries import EntryType
from crmcore.loyalty.expiry import ExpiryPolicy
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.program import LoyaltyProgram, RedemptionRule, ReturnPolicy

T0 = datetime(2026, 1, 1, tzinfo=UTC)

POLICIES = [
    ExpiryPolicy.never(),
    ExpiryPolicy.months_after(1),
    ExpiryPolicy.end_of_month(0),
    ExpiryPolicy.fixed_date(3, 31),
    ExpiryPolicy.inactivity(2),
]

PROGRAMS = [
    LoyaltyProgram(
        id="P",
        currency="EUR",
        point_value=Money("0.01", "EUR"),
        actions={"sign_up": 50, "review": 10, "referral": 100},
        redemption=RedemptionRule(minimum=1, increment=1),
        expiry=policy,
        pending_days=pending,
        return_policy=returns,
    )
    for policy in POLICIES
    for pending in (0, 7)
    for returns in ReturnPolicy
]

STEP = st.sampled_from([0, 0, 1, 6, 24, 72, 24 * 8, 24 * 20, 24 * 45]).map(
    lambda h: timedelta(hours=h)
)
STEPS_RUN = [0]


LAG = st.sampled_from([1, 59, 60, 120, 299, 300]).map(lambda s: timedelta(seconds=s))
TOO_LATE = st.sampled_from([301, 3600, 86_400]).map(lambda s: timedelta(seconds=s))


def independent_balance(acc: LoyaltyAccount, program: LoyaltyProgram, at: datetime) -> int:
    """The spendable balance at ``at`` recomputed from the entries dated up to it alone (no lot
    objects, no posting order)."""
    available: dict[str, int] = {}
    dates: dict[str, tuple[datetime | None, datetime | None]] = {}
    last_activity: datetime | None = None
    debt = 0
    for entry in acc.entries:
        if entry.at > at:
            continue
        if entry.creates_lot:
            dates[entry.key] = (entry.expires_at, entry.pending_until)
        for lot, delta in entry.moves:
            available[lot] = available.get(lot, 0) + delta
        debt += entry.debt
        if entry.type in (EntryType.EARN, EntryType.AWARD, EntryType.REDEEM):
            last_activity = entry.at if last_activity is None else max(last_activity, entry.at)
    deadline = program.expiry.inactivity_deadline(last_activity, program.timezone)
    if deadline is not None and at >= deadline:
        return -debt
    total = 0
    for lot, points in available.items():
        expires, pending = dates[lot]
        if (expires is None or at < expires) and (pending is None or at >= pending):
            total += points
    return total - debt


class LedgerMachine(RuleBasedStateMachine):
    """Drive one account with every operation; check the ledger's invariants each step."""

    def __init__(self) -> None:
        super().__init__()
        self.acc = LoyaltyAccount(id="A", customer_id="c", program_id="P")
        self.program = PROGRAMS[0]
        self.now = T0
        self.counter = 0
        self.orders: list[str] = []
        self.redemptions: list[str] = []
        self.last: tuple[Any, ...] | None = None
        self.history: list[LoyaltyAccount] = []

    @initialize(program=st.sampled_from(PROGRAMS))
    def choose(self, program: LoyaltyProgram) -> None:
        self.program = program

    def _key(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def _advance(self, step: timedelta) -> datetime:
        self.now += step
        return self.now

    def _run(self, method: str, *args: Any, **kwargs: Any) -> bool:
        before = self.acc
        short: InsufficientPointsError | None = None
        try:
            outcome = getattr(self.acc, method)(self.program, *args, **kwargs)
        except InsufficientPointsError as error:
            short = error
        if short is not None:
            assert short.requested > short.balance
            assert short.balance == before.balance(self.now, self.program)
            return False
        self.history.append(before)
        self.acc = outcome.value
        self.last = (method, args, kwargs)
        posted = len(self.acc) - len(before)
        assert posted == len(outcome.events)
        return True

    @rule(
        amount=st.integers(min_value=0, max_value=50_000),
        step=STEP,
        channel=st.sampled_from(["web", "app"]),
    )
    def earn(self, amount: int, step: timedelta, channel: str) -> None:
        at = self._advance(step)
        order = self._key("o")
        purchase = Purchase(order, "c", at, Money.of_minor(amount, "EUR"), channel=channel)
        if self._run("earn", purchase, key=self._key("e")):
            self.orders.append(order)

    @rule(
        action=st.sampled_from(["sign_up", "review", "referral"]),
        step=STEP,
        override=st.none() | st.integers(min_value=1, max_value=500),
    )
    def award(self, action: str, step: timedelta, override: int | None) -> None:
        self._run("award", action, at=self._advance(step), key=self._key("a"), points=override)

    @rule(points=st.integers(min_value=1, max_value=400), step=STEP)
    def redeem(self, points: int, step: timedelta) -> None:
        at = self._advance(step)
        balance = self.acc.balance(at, self.program)
        key = self._key("r")
        done = self._run("redeem", points, at=at, key=key)
        assert done == (points <= balance)
        if done:
            self.redemptions.append(key)
            entry = self.acc.entry(key)
            for lot_key, _ in entry.moves:  # never from an expired or pending lot
                origin = self.acc.entry(lot_key)
                assert origin.expires_at is None or at < origin.expires_at
                assert origin.pending_until is None or at >= origin.pending_until
            assert self.acc.balance(at, self.program) == balance - points

    def _late(self, method: str, when: datetime, *args: Any, **kwargs: Any) -> bool:
        """Run an operation dated ``when``, before the latest entry; check what it may use."""
        before = self.acc
        short: InsufficientPointsError | None = None
        try:
            outcome = getattr(before, method)(self.program, *args, **kwargs)
        except InsufficientPointsError as error:
            short = error
        if short is not None:
            assert short.requested > short.balance
            assert short.balance <= before.balance(when, self.program)  # never more than then
            return False
        self.history.append(before)
        self.acc = outcome.value
        self.last = (method, args, kwargs)
        assert len(self.acc) - len(before) == len(outcome.events) == 1  # no expiry posted
        assert self.acc.last_at == before.last_at  # the latest business time stays
        return True

    @precondition(lambda self: self.acc.last_at is not None)
    @rule(
        lag=LAG,
        kind=st.sampled_from(["earn", "award", "redeem", "adjust"]),
        amount=st.integers(min_value=1, max_value=300),
    )
    def late(self, lag: timedelta, kind: str, amount: int) -> None:
        assert self.acc.last_at is not None
        at = self.acc.last_at - lag
        if kind == "earn":
            order = self._key("o")
            purchase = Purchase(order, "c", at, Money.of_minor(amount * 100, "EUR"))
            if self._late("earn", at, purchase, key=self._key("e")):
                self.orders.append(order)
        elif kind == "award":
            self._late("award", at, "review", at=at, key=self._key("a"), points=amount)
        elif kind == "redeem":
            latest = self.acc.last_at
            then = self.acc.balance(at, self.program)
            later = self.acc.balance(latest, self.program)
            key = self._key("r")
            if self._late("redeem", at, amount, at=at, key=key):
                self.redemptions.append(key)
                assert amount <= then
                assert self.acc.balance(at, self.program) == then - amount
                # the points taken may have expired by the latest time anyway
                assert later - amount <= self.acc.balance(latest, self.program) <= later
        else:
            delta = amount if amount % 2 else -amount
            self._late("adjust", at, delta, reason="late correction", at=at, key=self._key("j"))

    @precondition(lambda self: self.acc.last_at is not None)
    @rule(lag=TOO_LATE, points=st.integers(min_value=1, max_value=100))
    def too_late(self, lag: timedelta, points: int) -> None:
        assert self.acc.last_at is not None
        at = self.acc.last_at - lag
        with pytest.raises(ValidationError, match="back-dated adjustment") as info:
            self.acc.redeem(self.program, points, at=at, key=self._key("r"))
        assert info.value.field == "at"
        key = self._key("j")
        self._late("adjust", at, points, reason="back-dated", at=at, key=key, backdated=True)

    @rule(step=STEP)
    def expire(self, step: timedelta) -> None:
        at = self._advance(step)
        self._run("expire", at)
        again = self.acc.expire(self.program, at)
        assert again.value is self.acc and again.events == ()  # expiry is idempotent

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), step=STEP, cents=st.none() | st.integers(min_value=1, max_value=50_000))
    def refund(self, data: st.DataObject, step: timedelta, cents: int | None) -> None:
        order = data.draw(st.sampled_from(self.orders))
        at = self._advance(step)
        amount = None if cents is None else Money.of_minor(cents, "EUR")
        refused = None
        try:
            self._run("refund", order, at=at, key=self._key("f"), amount=amount)
        except ValidationError as error:  # refunding more than paid, or nothing left
            refused = error.field
        assert refused in (None, "amount", "of")

    @precondition(lambda self: self.redemptions)
    @rule(data=st.data(), step=STEP, points=st.none() | st.integers(min_value=1, max_value=200))
    def cancel(self, data: st.DataObject, step: timedelta, points: int | None) -> None:
        key = data.draw(st.sampled_from(self.redemptions))
        refused = None
        try:
            self._run("reverse", key, at=self._advance(step), key=self._key("x"), points=points)
        except ValidationError as error:  # more than is left to restore
            refused = error.field
        assert refused in (None, "points", "of")

    @rule(delta=st.integers(min_value=-300, max_value=300).filter(bool), step=STEP)
    def adjust(self, delta: int, step: timedelta) -> None:
        self._run("adjust", delta, reason="correction", at=self._advance(step), key=self._key("j"))

    @precondition(lambda self: self.last is not None)
    @rule(step=STEP)
    def replay_last(self, step: timedelta) -> None:
        assert self.last is not None
        method, args, kwargs = self.last
        if method == "expire":
            return
        kwargs = dict(kwargs)
        if "at" in kwargs:
            kwargs["at"] = self._advance(step)
        outcome = getattr(self.acc, method)(self.program, *args, **kwargs)
        assert outcome.value is self.acc and outcome.events == ()

    @precondition(lambda self: self.last is not None and self.last[0] != "expire")
    @rule()
    def reuse_key(self) -> None:
        assert self.last is not None
        key = self.last[2]["key"]
        with pytest.raises(DuplicateOperationError):
            self.acc.adjust(self.program, 7, reason="other payload", at=self.now, key=key)

    @precondition(lambda self: len(self.history) > 1)
    @rule(data=st.data())
    def branch_from_an_older_version(self, data: st.DataObject) -> None:
        old = data.draw(st.sampled_from(self.history))
        branched = old.adjust(self.program, 1, reason="branch", at=self.now, key=self._key("b"))
        assert len(branched.value) >= len(old) + 1
        assert branched.value.entries[: len(old)] == old.entries
        assert not self.acc.has_entry(branched.value.entries[-1].key)

    @invariant()
    def ledger_is_consistent(self) -> None:
        STEPS_RUN[0] += 1  # runs once after every step
        acc, now = self.acc, self.now
        balance = acc.balance(now, self.program)
        if not self.program.allows_negative:
            assert balance >= 0 and acc.debt == 0
        assert balance == independent_balance(acc, self.program, now)
        assert acc.total_points == sum(e.points for e in acc.entries)
        assert acc.total_points == sum(lot.available for lot in acc.lots) - acc.debt
        assert all(0 < lot.available <= lot.points for lot in acc.lots)
        if not self.program.allows_negative:
            # A refunded purchase's points never come back (not even by cancelling a
            # redemption that spent them): a lot holds at most what was not clawed back.
            owed: dict[str, int] = {}
            for e in acc.entries:
                if e.type is EntryType.REVERSE and e.reverses is not None and e.points <= 0:
                    owed[e.reverses] = owed.get(e.reverses, 0) - e.points + e.forgiven + e.shortfall
            for lot in acc.lots:
                assert lot.available <= lot.points - owed.get(lot.key, 0)
        rebuilt = LoyaltyAccount.from_entries(
            id="A", customer_id="c", program_id="P", entries=acc.entries
        )
        assert rebuilt == acc
        assert (rebuilt.lots, rebuilt.debt) == (acc.lots, acc.debt)
        for entry in acc.entries[-4:]:  # as of recent business times, late ones included
            then = entry.at
            assert acc.balance(then, self.program) == independent_balance(acc, self.program, then)


def test_ledger_machine_quick() -> None:
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


@pytest.mark.slow
def test_ledger_machine_ten_thousand_steps() -> None:
    STEPS_RUN[0] = 0
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=250,
            stateful_step_count=60,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    assert STEPS_RUN[0] >= 10_000
