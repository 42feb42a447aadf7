"""The storage contract test-kit: what every :class:`~crmcore.ports.Store` must do.

crmcore runs these tests against its in-memory and SQLite adapters; run them
against your own adapter (PostgreSQL, Django ORM, ...) by subclassing
:class:`StoreContract` in your test suite and telling it how to make a store::

    # tests/test_my_store.py
    from crmcore.testing.contract import StoreContract

    class TestMyStore(StoreContract):
        def make_store(self, tmp_path):
            return MyStore(dsn=..., schema=f"test_{tmp_path.name}")

        def reopen(self, store, tmp_path):      # optional: durable adapters
            return MyStore(dsn=..., schema=f"test_{tmp_path.name}")

Then ``pytest tests/test_my_store.py``. Every ``make_store`` call must return
an empty store. The kit needs ``pytest`` and ``hypothesis``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
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

from crmcore.columnar.frame import CustomerFrame, TransactionLog
from crmcore.customers.contact import Contact
from crmcore.customers.customer import Customer
from crmcore.customers.records import Interaction, Purchase, ServiceRecord
from crmcore.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    IllegalTransition,
    NotFound,
    ValidationError,
)
from crmcore.events import DomainEvent
from crmcore.funnel.position import FunnelPosition
from crmcore.lifecycle import Lifecycle, LifecycleState, classify, reclassify
from crmcore.money import Money
from crmcore.ports import OutboxMessage, Store
from crmcore.stage import Stage

__all__ = ["StoreContract"]

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


class _Boom(Exception):
    """Raised inside units of work to test rollback."""


def new_customer(n: int, *, email: str | None = "default", at: datetime = T0) -> Customer:
    """A customer ``C<n>`` registered at ``at`` (e-mail ``c<n>@example.com`` by default)."""
    address = f"c{n}@example.com" if email == "default" else email
    return Customer.register(f"C{n:04d}", f"Customer {n}", at, contact=Contact(email=address)).value


def _registered(n: int) -> tuple[Customer, tuple[DomainEvent, ...]]:
    outcome = Customer.register(f"C{n:04d}", f"Customer {n}", T0)
    return outcome.value, outcome.events


def _purchase(order: str, customer: str, days: int = 0, amount: str = "10.00") -> Purchase:
    return Purchase(order, customer, T0 + timedelta(days=days), Money(amount, "EUR"))


class StoreContract:
    """Subclass with :meth:`make_store` to run the storage contract against an adapter."""

    def make_store(self, tmp_path: Path) -> Store:
        """Return a new, empty store. Subclasses must override this."""
        raise TypeError(f"{type(self).__name__} must override make_store(tmp_path)")

    def reopen(self, store: Store, tmp_path: Path) -> Store | None:
        """Return a new store over the same data (durable adapters), or ``None`` to skip."""
        return None

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        """A fresh store, closed after the test."""
        made = self.make_store(tmp_path)
        try:
            yield made
        finally:
            made.close()

    # -- customers ----------------------------------------------------------------
    def test_add_returns_version_1_and_get_returns_it(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            added = uow.customers.add(new_customer(1))
        assert added.version == 1
        with store.unit_of_work() as uow:
            assert uow.customers.get("C0001") == added

    def test_get_unknown_raises_not_found_and_find_returns_none(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            with pytest.raises(NotFound) as info:
                uow.customers.get("nope")
            assert info.value.key == "nope"
            assert uow.customers.find("nope") is None

    def test_duplicate_id_raises_and_keeps_the_first(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            first = uow.customers.add(new_customer(1))
        other = attrs.evolve(new_customer(1, email="other@example.com"), name="Impostor")
        with pytest.raises(AlreadyExists), store.unit_of_work() as uow:
            uow.customers.add(other)
        with store.unit_of_work() as uow:
            assert uow.customers.get("C0001") == first

    def test_duplicate_email_raises_naming_the_field(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.customers.add(new_customer(1, email="same@example.com"))
        with pytest.raises(AlreadyExists) as info, store.unit_of_work() as uow:
            uow.customers.add(new_customer(2, email="SAME@example.com"))
        assert info.value.field == "email"
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 1

    def test_many_customers_without_email_are_fine(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            for n in range(3):
                uow.customers.add(new_customer(n, email=None))
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 3

    def test_add_requires_version_zero_and_save_requires_a_stored_version(
        self, store: Store
    ) -> None:
        with store.unit_of_work() as uow:
            stored = uow.customers.add(new_customer(1))
            with pytest.raises(ValidationError):
                uow.customers.add(attrs.evolve(new_customer(2), version=3))
            with pytest.raises(ValidationError):
                uow.customers.save(new_customer(3))
        assert stored.version == 1

    def test_save_bumps_the_version_each_time(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            c = uow.customers.add(new_customer(1))
        for expected in (2, 3):
            with store.unit_of_work() as uow:
                current = uow.customers.get(c.id)
                c = uow.customers.save(current.tag([f"t{expected}"], T0).value)
            assert c.version == expected
        with store.unit_of_work() as uow:
            assert uow.customers.get(c.id).tags == {"t2", "t3"}

    def test_stale_save_raises_conflict_and_keeps_the_newer_change(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            loaded = uow.customers.add(new_customer(1))
        with store.unit_of_work() as uow:
            winner = uow.customers.save(loaded.tag(["winner"], T0).value)
        with pytest.raises(ConcurrencyConflict) as info, store.unit_of_work() as uow:
            uow.customers.save(loaded.tag(["loser"], T0).value)
        assert (info.value.expected, info.value.actual) == (1, 2)
        with store.unit_of_work() as uow:
            assert uow.customers.get("C0001") == winner

    def test_conflict_detected_at_commit_leaves_nothing_written(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.customers.add(new_customer(1))
        with pytest.raises(ConcurrencyConflict), store.unit_of_work() as slow:
            current = slow.customers.get("C0001")
            slow.customers.save(current.tag(["slow"], T0).value)
            slow.customers.add(new_customer(2))
            slow.purchases.add(_purchase("O-slow", "C0002"))
            with store.unit_of_work() as fast:  # commits first
                fast.customers.save(fast.customers.get("C0001").tag(["fast"], T0).value)
        with store.unit_of_work() as uow:
            assert uow.customers.get("C0001").tags == {"fast"}
            assert uow.customers.find("C0002") is None
            assert uow.purchases.find("O-slow") is None

    def test_find_by_email_normalises_and_follows_changes(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            c = uow.customers.add(new_customer(1, email="ann@example.com"))
        with store.unit_of_work() as uow:
            assert uow.customers.get_by_email(" ANN@Example.com ").id == c.id
            moved = c.change_contact(Contact(email="ann@new.example"), T0).value
            uow.customers.save(moved)
            assert uow.customers.find_by_email("ann@example.com") is None
            assert uow.customers.get_by_email("ann@new.example").id == c.id
        with store.unit_of_work() as uow:
            assert uow.customers.find_by_email("ann@example.com") is None
            uow.customers.add(new_customer(2, email="ann@example.com"))  # freed
            with pytest.raises(NotFound):
                uow.customers.get_by_email("nobody@example.com")

    def test_two_customers_can_swap_emails_in_one_unit_of_work(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            a = uow.customers.add(new_customer(1, email="a@example.com"))
            b = uow.customers.add(new_customer(2, email="b@example.com"))
        with store.unit_of_work() as uow:
            uow.customers.save(a.change_contact(Contact(email="tmp@example.com"), T0).value)
            uow.customers.save(b.change_contact(Contact(email="a@example.com"), T0).value)
            a2 = uow.customers.get(a.id)
            uow.customers.save(a2.change_contact(Contact(email="b@example.com"), T0).value)
        with store.unit_of_work() as uow:
            assert uow.customers.get_by_email("a@example.com").id == b.id
            assert uow.customers.get_by_email("b@example.com").id == a.id

    def test_list_pages_through_everything_in_id_order(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            for n in (5, 3, 9, 1, 7, 2, 8):
                uow.customers.add(new_customer(n))
        seen: list[str] = []
        after: str | None = None
        with store.unit_of_work() as uow:
            while True:
                page = uow.customers.list(limit=3, after=after)
                seen.extend(c.id for c in page.items)
                if page.next_after is None:
                    break
                after = page.next_after
            assert seen == sorted(seen) == [f"C{n:04d}" for n in (1, 2, 3, 5, 7, 8, 9)]
            assert uow.customers.count() == 7
            with pytest.raises(ValidationError):
                uow.customers.list(limit=0)

    def test_reads_in_a_unit_of_work_see_its_own_writes(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            added = uow.customers.add(new_customer(1, email="x@example.com"))
            assert uow.customers.get("C0001") == added
            assert uow.customers.get_by_email("x@example.com") == added
            uow.purchases.add(_purchase("O1", "C0001"))
            assert uow.purchases.get("O1").order_id == "O1"
            assert [p.order_id for p in uow.purchases.for_customer("C0001")] == ["O1"]

    # -- records ------------------------------------------------------------------
    def test_records_round_trip_in_time_order(self, store: Store) -> None:
        purchases = [_purchase("O3", "C0001", 3), _purchase("O1", "C0001", 1, "0.10")]
        interaction = Interaction("I1", "C0001", T0, "web", "website_visit", note="hi")
        service = ServiceRecord("S1", "C0001", T0, "repair", "phone", "broken screen")
        with store.unit_of_work() as uow:
            uow.customers.add(new_customer(1))
            for p in purchases:
                uow.purchases.add(p)
            uow.interactions.add(interaction)
            uow.service_records.add(service)
        with store.unit_of_work() as uow:
            assert uow.purchases.for_customer("C0001") == (purchases[1], purchases[0])
            assert uow.purchases.get("O1").amount == Money("0.10", "EUR")
            assert uow.interactions.get("I1") == interaction
            assert uow.service_records.for_customer("C0001") == (service,)
            assert uow.purchases.for_customer("nobody") == ()
            assert uow.purchases.count() == 2

    def test_duplicate_record_id_raises_and_changes_nothing(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.purchases.add(_purchase("O1", "C0001"))
        with pytest.raises(AlreadyExists), store.unit_of_work() as uow:
            uow.purchases.add(_purchase("O2", "C0001"))
            uow.purchases.add(_purchase("O1", "C0001", amount="99.00"))
        with store.unit_of_work() as uow:
            assert uow.purchases.count() == 1
            assert uow.purchases.get("O1").amount == Money("10.00", "EUR")

    def test_redact_removes_free_text_only(self, store: Store) -> None:
        interaction = Interaction("I1", "C0001", T0, "chat", "question", note="my address is ...")
        service = ServiceRecord("S1", "C0001", T0, "repair", "phone", "call me on ...")
        with store.unit_of_work() as uow:
            uow.interactions.add(interaction)
            uow.service_records.add(service)
        with store.unit_of_work() as uow:
            assert uow.interactions.redact("C0001") == 1
            assert uow.service_records.redact("C0001") == 1
            assert uow.purchases.redact("C0001") == 0
        with store.unit_of_work() as uow:
            assert uow.interactions.get("I1") == attrs.evolve(interaction, note=None)
            assert uow.service_records.get("S1") == attrs.evolve(service, summary="")

    # -- unit of work -------------------------------------------------------------
    def test_an_exception_discards_every_write(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.customers.add(new_customer(1))
        with pytest.raises(_Boom), store.unit_of_work() as uow:
            uow.customers.add(new_customer(2))
            uow.customers.save(uow.customers.get("C0001").tag(["x"], T0).value)
            uow.purchases.add(_purchase("O1", "C0001"))
            uow.collect(*_registered(3)[1])
            raise _Boom
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 1
            assert uow.customers.get("C0001").version == 1
            assert uow.purchases.count() == 0
        assert store.outbox.pending() == []

    def test_rollback_discards_and_commit_applies_midway(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.customers.add(new_customer(1))
            uow.rollback()
            uow.customers.add(new_customer(2))
            uow.commit()
            uow.customers.add(new_customer(3))
            uow.rollback()
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.list().items] == ["C0002"]

    def test_a_finished_unit_of_work_refuses_use(self, store: Store) -> None:
        uow = store.unit_of_work()
        with uow:
            pass
        with pytest.raises(IllegalTransition):
            uow.customers.find("C0001")
        with pytest.raises(IllegalTransition):
            uow.customers.add(new_customer(1))

    def test_wrong_types_are_validation_errors(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            with pytest.raises(ValidationError):
                uow.customers.add("not a customer")  # type: ignore[arg-type]
            with pytest.raises(ValidationError):
                uow.purchases.add(new_customer(1))  # type: ignore[arg-type]
            with pytest.raises(ValidationError):
                uow.collect("not an event")  # type: ignore[arg-type]

    # -- outbox -------------------------------------------------------------------
    def test_events_reach_the_outbox_in_commit_order(self, store: Store) -> None:
        customer, events = _registered(1)
        with store.unit_of_work() as uow:
            stored = uow.customers.add(customer)
            uow.collect(*events)
        with store.unit_of_work() as uow:
            outcome = stored.tag(["vip"], T0 + timedelta(hours=1))
            uow.customers.save(uow.take(outcome))
        pending = store.outbox.pending()
        assert [m.kind for m in pending] == ["customer.registered", "customer.tags_changed"]
        assert pending[0].position < pending[1].position
        assert pending[0].message_id != pending[1].message_id
        assert [m.event for m in pending] == [*events, *outcome.events]
        assert all(m.aggregate_id == "C0001" for m in pending)

    def test_mark_published_is_idempotent_and_pending_respects_limit(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            for n in range(5):
                uow.collect(*_registered(n)[1])
        first_two = store.outbox.pending(limit=2)
        assert len(first_two) == 2
        store.outbox.mark_published([m.position for m in first_two])
        store.outbox.mark_published([m.position for m in first_two])
        rest = store.outbox.pending()
        assert [m.aggregate_id for m in rest] == ["C0002", "C0003", "C0004"]

    def test_relay_hands_on_each_message_once_and_stops_at_a_failure(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            for n in range(4):
                uow.collect(*_registered(n)[1])
        received: list[str] = []

        def flaky(message: OutboxMessage) -> None:
            if message.aggregate_id == "C0002" and "C0002" not in received:
                received.append("C0002")
                raise _Boom
            received.append(message.aggregate_id)

        with pytest.raises(_Boom):
            store.outbox.relay(flaky)
        assert store.outbox.relay(flaky) == 2
        assert store.outbox.relay(flaky) == 0
        assert received == ["C0000", "C0001", "C0002", "C0002", "C0003"]

    # -- funnel positions (any other aggregate kind is stored the same way) -------
    def test_funnel_positions_are_versioned_aggregates(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.customers.add(new_customer(1))
            stored = uow.funnel_positions.add(
                uow.take(FunnelPosition.start("C0001", Stage.AWARENESS, T0, source="I1"))
            )
        assert stored.version == 1
        later = T0 + timedelta(days=1)
        with store.unit_of_work() as uow:
            current = uow.funnel_positions.get("C0001")
            assert current == stored
            outcome = current.advance(Stage.INTENT, later, source="I2")
            moved = uow.funnel_positions.save(uow.take(outcome))
        assert (moved.version, moved.stage) == (2, Stage.INTENT)
        assert moved.entered_at(Stage.INTEREST) == later  # skipped stages are passed through
        with pytest.raises(ConcurrencyConflict), store.unit_of_work() as uow:
            uow.funnel_positions.save(stored.advance(Stage.INTEREST, later).value)
        with store.unit_of_work() as uow:
            assert uow.funnel_positions.get("C0001") == moved
            assert uow.funnel_positions.count() == 1
            assert [p.id for p in uow.funnel_positions.list().items] == ["C0001"]
            assert uow.customers.get("C0001").version == 1  # same id, separate aggregate
            with pytest.raises(AlreadyExists):
                uow.funnel_positions.add(FunnelPosition.start("C0001", Stage.INTENT, T0).value)
        kinds = [m.kind for m in store.outbox.pending()]
        assert kinds.count("funnel.stage_entered") == 4  # start + 2 skipped + intent

    def test_lifecycle_records_keep_their_history_and_evidence(self, store: Store) -> None:
        bought = [(T0 + timedelta(days=d), Decimal("20.00")) for d in (0, 30, 60, 90)]
        first = classify("C0001", bought[:1], T0 + timedelta(days=1))
        with store.unit_of_work() as uow:
            stored = uow.lifecycles.add(
                uow.take(reclassify(Lifecycle(id="C0001"), first, T0 + timedelta(days=1)))
            )
        assert (stored.version, stored.state) == (1, LifecycleState.NEW)
        later = T0 + timedelta(days=400)
        with store.unit_of_work() as uow:
            current = uow.lifecycles.get("C0001")
            assert current == stored
            moved = uow.lifecycles.save(
                uow.take(reclassify(current, classify("C0001", bought, later), later))
            )
        assert moved.version == 2
        assert moved.state is not LifecycleState.NEW
        with store.unit_of_work() as uow:
            again = uow.lifecycles.get("C0001")
        assert again == moved
        assert again.state_at(T0 + timedelta(days=2)) is LifecycleState.NEW
        assert again.history[-1].evidence.reasons  # the evidence survives storage
        assert any(m.kind.startswith("lifecycle.") for m in store.outbox.pending())

    # -- bulk views ---------------------------------------------------------------
    def test_to_frame_equals_a_frame_of_the_stored_customers(self, store: Store) -> None:
        customers = [new_customer(n) for n in (2, 1, 3)]
        customers[0] = customers[0].set_attribute("plan", "gold", T0).value
        customers[1] = customers[1].record_purchase(_purchase("O1", "C0001")).value
        with store.unit_of_work() as uow:
            stored = [uow.customers.add(c) for c in customers]
        with store.unit_of_work() as uow:
            frame = uow.customers.to_frame()
        assert isinstance(frame, CustomerFrame)
        assert frame == CustomerFrame.from_customers(sorted(stored, key=lambda c: c.id))

    def test_to_log_holds_every_purchase_in_time_order(self, store: Store) -> None:
        purchases = [_purchase("O2", "C0002", 2), _purchase("O1", "C0001", 5, "1.50")]
        with store.unit_of_work() as uow:
            for p in purchases:
                uow.purchases.add(p)
        with store.unit_of_work() as uow:
            log = uow.purchases.to_log()
        assert isinstance(log, TransactionLog)
        assert log == TransactionLog.from_purchases(purchases)

    # -- durability -----------------------------------------------------------------
    def test_committed_data_survives_reopening(self, store: Store, tmp_path: Path) -> None:
        with store.unit_of_work() as uow:
            added = uow.customers.add(new_customer(1))
            uow.collect(*_registered(1)[1])
        again = self.reopen(store, tmp_path)
        if again is None:
            pytest.skip("adapter is not durable")
        try:
            with again.unit_of_work() as uow:
                assert uow.customers.get("C0001") == added
            assert len(again.outbox.pending()) == 1
        finally:
            again.close()

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
        except AlreadyExists:
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
        except AlreadyExists:
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
        with pytest.raises(ConcurrencyConflict), self.store.unit_of_work() as uow:
            uow.customers.save(stale)

    @rule(order=st.integers(0, 5), n=_IDS)
    def purchase(self, order: int, n: int) -> None:
        oid, cid = f"O{order}", f"C{n:04d}"
        try:
            with self.store.unit_of_work() as uow:
                uow.purchases.add(_purchase(oid, cid, order))
        except AlreadyExists:
            assert oid in self.orders
            return
        assert oid not in self.orders
        self.orders[oid] = cid

    @rule(n=_IDS)
    def failing_unit_of_work(self, n: int) -> None:
        with pytest.raises(_Boom), self.store.unit_of_work() as uow:
            customer, events = _registered(100 + n)
            uow.customers.add(customer)
            uow.collect(*events)
            uow.purchases.add(_purchase(f"X{n}", customer.id))
            raise _Boom

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
