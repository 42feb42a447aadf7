"""The contract's state machine: random operations on a store, checked against a model.

[`StateMachineContract`][crmcore.testing.contract.state_machine.StateMachineContract] runs a
hypothesis `RuleBasedStateMachine` of customers, purchases, loyalty ledgers, feedback cases and
sales leads (moved through their statuses, found by e-mail and owner) against stores made by the
adapter's
[`make_store()`][crmcore.testing.contract.hooks.AdapterHooks.make_store].
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from crmcore.customers import Contact, Customer, Purchase
from crmcore.feedback import Case, open_case_for, receive_feedback
from crmcore.kernel.errors import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    IllegalTransitionError,
    InsufficientPointsError,
)
from crmcore.kernel.money import Money
from crmcore.loyalty import LoyaltyAccount
from crmcore.ports import Store
from crmcore.sales.leads import Lead
from crmcore.testing.contract.hooks import AdapterHooks
from crmcore.testing.contract.samples import (
    PROGRAM,
    T0,
    _account,
    _BoomError,
    _earned,
    _feedback,
    _lead,
    _purchase,
    _registered,
)

__all__ = ["StateMachineContract"]

_IDS = st.integers(0, 5)
_EMAILS = st.sampled_from([None, "a@example.com", "b@example.com", "c@example.com"])


class _StoreMachine(RuleBasedStateMachine):
    """Random operations on a store, checked against a dictionary model."""

    def make(self) -> Store:
        raise TypeError("subclass must provide make()")

    def __init__(self) -> None:
        super().__init__()
        self.store = self.make()
        self.model: dict[str, Customer] = {}
        self.orders: dict[str, str] = {}
        self.events = 0
        self.accounts: dict[str, LoyaltyAccount] = {}
        self.cases: dict[str, Case] = {}
        self.sales = 0
        self.clock = T0
        self.leads: dict[str, Lead] = {}

    def teardown(self) -> None:
        self.store.close()

    def _email_owner(self, email: str | None) -> str | None:
        for cid, customer in self.model.items():
            if email is not None and customer.contact.email == email:
                return cid
        return None

    @rule(n=_IDS, email=_EMAILS)
    def add(self, n: int, email: str | None) -> None:
        customer, events = _registered(n)
        customer = attrs.evolve(customer, contact=Contact(email=email))
        expect_error = customer.id in self.model or self._email_owner(email) is not None
        try:
            with self.store.unit_of_work() as uow:
                stored = uow.customers.add(customer)
                uow.collect(*events)
        except AlreadyExistsError:
            assert expect_error
            return
        assert not expect_error
        self.model[stored.id] = stored
        self.events += len(events)

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), email=_EMAILS, tag=st.sampled_from(["x", "y"]))
    def update(self, data: st.DataObject, email: str | None, tag: str) -> None:
        cid = data.draw(st.sampled_from(sorted(self.model)))
        owner = self._email_owner(email)
        expect_error = owner is not None and owner != cid
        try:
            with self.store.unit_of_work() as uow:
                current = uow.customers.get(cid)
                changed = current.change_contact(Contact(email=email), T0).value
                outcome = changed.tag([tag], T0)
                saved = uow.customers.save(uow.take(outcome))
        except AlreadyExistsError:
            assert expect_error
            return
        assert not expect_error
        self.model[cid] = saved
        self.events += len(outcome.events)

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data())
    def stale_save(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(sorted(self.model)))
        current = self.model[cid]
        if current.version < 2:
            return
        stale = attrs.evolve(current, version=current.version - 1, name="Stale")
        with pytest.raises(ConcurrencyConflictError), self.store.unit_of_work() as uow:
            uow.customers.save(stale)

    @rule(order=st.integers(0, 5), n=_IDS)
    def purchase(self, order: int, n: int) -> None:
        oid, cid = f"O{order}", f"C{n:04d}"
        try:
            with self.store.unit_of_work() as uow:
                uow.purchases.add(_purchase(oid, cid, order))
        except AlreadyExistsError:
            assert oid in self.orders
            return
        assert oid not in self.orders
        self.orders[oid] = cid

    @rule(n=_IDS)
    def failing_unit_of_work(self, n: int) -> None:
        with pytest.raises(_BoomError), self.store.unit_of_work() as uow:
            customer, events = _registered(100 + n)
            uow.customers.add(customer)
            uow.collect(*events)
            uow.purchases.add(_purchase(f"X{n}", customer.id))
            uow.loyalty_accounts.add(_earned(_account(100 + n), f"X{n}", "10.00"))
            uow.feedback.add(_feedback(100 + n, customer.id))
            raise _BoomError

    # -- loyalty ledgers and feedback cases (stored like any other aggregate kind) ---
    def _tick(self) -> datetime:
        self.clock += timedelta(hours=1)
        return self.clock

    @rule(n=_IDS)
    def open_account(self, n: int) -> None:
        account = _account(n)
        try:
            with self.store.unit_of_work() as uow:
                stored = uow.loyalty_accounts.add(account)
        except AlreadyExistsError:
            assert account.id in self.accounts
            return
        assert account.id not in self.accounts
        self.accounts[stored.id] = stored

    @precondition(lambda self: bool(self.accounts))
    @rule(data=st.data(), amount=st.sampled_from(["5.00", "19.99", "120.50"]))
    def earn(self, data: st.DataObject, amount: str) -> None:
        aid = data.draw(st.sampled_from(sorted(self.accounts)))
        self.sales += 1
        at = self._tick()
        sale = Purchase(f"L{self.sales}", self.accounts[aid].customer_id, at, Money(amount, "EUR"))
        with self.store.unit_of_work() as uow:
            outcome = uow.loyalty_accounts.get(aid).earn(PROGRAM, sale, key=f"earn-L{self.sales}")
            saved = uow.loyalty_accounts.save(uow.take(outcome))
        self.accounts[aid] = saved
        self.events += len(outcome.events)

    @precondition(lambda self: bool(self.accounts))
    @rule(data=st.data(), points=st.integers(1, 150))
    def redeem(self, data: st.DataObject, points: int) -> None:
        aid = data.draw(st.sampled_from(sorted(self.accounts)))
        at = self._tick()
        balance = self.accounts[aid].balance(at)
        try:
            with self.store.unit_of_work() as uow:
                current = uow.loyalty_accounts.get(aid)
                outcome = current.redeem(PROGRAM, points, at=at, key=f"r-{at.isoformat()}")
                saved = uow.loyalty_accounts.save(uow.take(outcome))
        except InsufficientPointsError:
            assert points > balance
            return
        assert points <= balance
        assert saved.balance(at) == balance - points
        self.accounts[aid] = saved
        self.events += len(outcome.events)

    @precondition(lambda self: any(a.version >= 2 for a in self.accounts.values()))
    @rule(data=st.data())
    def stale_ledger_save(self, data: st.DataObject) -> None:
        aid = data.draw(
            st.sampled_from(sorted(a for a, v in self.accounts.items() if v.version > 1))
        )
        stale = attrs.evolve(self.accounts[aid], version=self.accounts[aid].version - 1)
        with pytest.raises(ConcurrencyConflictError), self.store.unit_of_work() as uow:
            uow.loyalty_accounts.add(_account(50))
            uow.loyalty_accounts.save(stale)

    @rule(n=_IDS)
    def feedback_opens_a_case(self, n: int) -> None:
        feedback = attrs.evolve(_feedback(n, f"C{n:04d}", text="please refund"), at=self._tick())
        opened = open_case_for(feedback)
        assert opened is not None
        try:
            with self.store.unit_of_work() as uow:
                uow.feedback.add(uow.take(receive_feedback(feedback)))
                case = uow.cases.add(uow.take(opened))
        except AlreadyExistsError:
            assert opened.value.id in self.cases
            return
        assert opened.value.id not in self.cases
        self.cases[case.id] = case
        self.events += 1 + len(opened.events)

    @precondition(lambda self: bool(self.cases))
    @rule(data=st.data(), trigger=st.sampled_from(["acknowledge", "start", "wait_on_customer"]))
    def move_case(self, data: st.DataObject, trigger: str) -> None:
        cid = data.draw(st.sampled_from(sorted(self.cases)))
        at = self._tick()
        try:
            with self.store.unit_of_work() as uow:
                outcome = uow.cases.get(cid).fire(trigger, at)
                saved = uow.cases.save(uow.take(outcome))
        except IllegalTransitionError:
            assert not self.cases[cid].can(trigger, at)
            return
        self.cases[cid] = saved
        self.events += len(outcome.events)

    # -- sales leads: versioned, found by their indexes ------------------------------------
    @rule(n=_IDS, email=_EMAILS, owner=st.sampled_from([None, "rep-1", "rep-2"]))
    def capture_lead(self, n: int, email: str | None, owner: str | None) -> None:
        lead = _lead(n, email=email, owner=owner)
        try:
            with self.store.unit_of_work() as uow:
                stored = uow.leads.add(lead)
        except AlreadyExistsError:
            assert lead.id in self.leads
            return
        assert lead.id not in self.leads
        self.leads[stored.id] = stored

    @precondition(lambda self: bool(self.leads))
    @rule(data=st.data(), move=st.sampled_from(["work", "nurture", "qualify", "disqualify"]))
    def move_lead(self, data: st.DataObject, move: str) -> None:
        lid = data.draw(st.sampled_from(sorted(self.leads)))
        at = self._tick()
        expected = self.leads[lid]
        try:
            with self.store.unit_of_work() as uow:
                current = uow.leads.get(lid)
                assert current == expected
                outcome = current.fire(move, at, reason="no_fit" if move == "disqualify" else None)
                saved = uow.leads.save(uow.take(outcome))
        except IllegalTransitionError:
            with pytest.raises(IllegalTransitionError):
                expected.fire(move, at, reason="no_fit")
            return
        assert saved.version == expected.version + 1
        self.leads[lid] = saved
        self.events += len(outcome.events)

    @precondition(lambda self: any(lead.version > 1 for lead in self.leads.values()))
    @rule(data=st.data())
    def stale_lead_save(self, data: st.DataObject) -> None:
        lid = data.draw(st.sampled_from(sorted(k for k, v in self.leads.items() if v.version > 1)))
        stale = attrs.evolve(self.leads[lid], version=self.leads[lid].version - 1)
        with pytest.raises(ConcurrencyConflictError), self.store.unit_of_work() as uow:
            uow.leads.add(_lead(90))
            uow.leads.save(stale)

    @invariant()
    def leads_match_the_model(self) -> None:
        with self.store.unit_of_work() as uow:
            assert uow.leads.count() == len(self.leads)
            for email in ("a@example.com", "b@example.com"):
                found = [lead.id for lead in uow.leads.with_email(email)]
                assert found == sorted(k for k, v in self.leads.items() if v.contact.email == email)
            for owner in ("rep-1", "rep-2"):
                found = [lead.id for lead in uow.leads.open_for_owner(owner)]
                assert found == sorted(
                    k for k, v in self.leads.items() if v.owner == owner and v.is_open
                )
            for lid, lead in self.leads.items():
                assert uow.leads.get(lid) == lead

    @invariant()
    def ledgers_and_cases_match_the_model(self) -> None:
        with self.store.unit_of_work() as uow:
            assert uow.loyalty_accounts.count() == len(self.accounts)
            for aid, account in self.accounts.items():
                stored = uow.loyalty_accounts.get(aid)
                assert stored == account
                assert stored.balance(self.clock) == account.balance(self.clock)
                found = uow.loyalty_accounts.find_for_customer("P", account.customer_id)
                assert found == account
            assert uow.cases.count() == len(self.cases)
            assert uow.feedback.count() == len(self.cases)
            for case in self.cases.values():
                assert case.feedback_id is not None
                assert uow.cases.find_by_feedback(case.feedback_id) == case

    @invariant()
    def storage_matches_the_model(self) -> None:
        with self.store.unit_of_work() as uow:
            assert uow.customers.count() == len(self.model)
            listed = uow.customers.list(limit=100).items
            assert [c.id for c in listed] == sorted(self.model)
            for customer in listed:
                assert customer == self.model[customer.id]
                if customer.contact.email is not None:
                    assert uow.customers.get_by_email(customer.contact.email) == customer
            assert uow.purchases.count() == len(self.orders)
        assert len(self.store.outbox.pending(limit=10_000)) == self.events


class StateMachineContract(AdapterHooks):
    """Random sequences of operations leave the store agreeing with a dictionary model."""

    # -- random operations against a model -------------------------------------
    def test_random_operations_agree_with_a_model(self, tmp_path: Path) -> None:
        contract = self

        class Machine(_StoreMachine):
            def make(self) -> Store:
                return contract.make_store(Path(tempfile.mkdtemp(dir=tmp_path)))

        run_state_machine_as_test(
            Machine,
            settings=settings(
                max_examples=25,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
