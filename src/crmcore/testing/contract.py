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
from crmcore.feedback.cases import Case
from crmcore.feedback.feedback import Feedback, receive_feedback
from crmcore.feedback.improvement import ImprovementAction
from crmcore.feedback.rules import open_case_for
from crmcore.funnel.position import FunnelPosition
from crmcore.kernel.errors import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    IllegalTransitionError,
    InsufficientPointsError,
    NotFoundError,
    ValidationError,
)
from crmcore.kernel.events import DomainEvent
from crmcore.kernel.money import Money
from crmcore.kernel.stage import Stage
from crmcore.lifecycle import Lifecycle, LifecycleState, classify, reclassify
from crmcore.loyalty.expiry import ExpiryPolicy
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.program import LoyaltyProgram
from crmcore.loyalty.referrals import ReferralCode, ReferralProgram, claim_id
from crmcore.loyalty.tiers import Tier, TierPolicy, TierStatus, facts_from_ledger
from crmcore.ports import OutboxMessage, Store

__all__ = ["StoreContract"]

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


class _BoomError(Exception):
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


def _feedback(
    n: int, customer: str = "C0001", *, text: str = "", days: int = 0, **fields: object
) -> Feedback:
    return Feedback(
        id=f"F{n}",
        customer_id=customer,
        channel=fields.pop("channel", "email"),
        kind=fields.pop("kind", "complaint"),
        text=text,
        at=T0 + timedelta(days=days),
        **fields,  # type: ignore[arg-type]
    )


#: The loyalty program of the contract tests: 1 point per EUR, points expire after 12 months.
PROGRAM = LoyaltyProgram(
    id="P",
    currency="EUR",
    point_value=Money("0.01", "EUR"),
    actions={"referral": 100},
    expiry=ExpiryPolicy.months_after(12),
)
TIERS = TierPolicy(
    name="status",
    currency="EUR",
    tiers=(Tier("base"), Tier("gold", min_points=50, multiplier=Decimal(2))),
)
#: The referral program of the contract tests.
REFERRALS = ReferralProgram(
    id="friends", referrer_points=100, referee_points=50, minimum_purchase=Money("20", "EUR")
)


def _account(n: int, *, program_id: str = "P") -> LoyaltyAccount:
    return LoyaltyAccount(id=f"{program_id}-A{n}", customer_id=f"C{n:04d}", program_id=program_id)


def _earned(account: LoyaltyAccount, order: str, amount: str, days: int = 0) -> LoyaltyAccount:
    sale = _purchase(order, account.customer_id, days, amount)
    return account.earn(PROGRAM, sale, key=f"earn-{order}").value


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
            with pytest.raises(NotFoundError) as info:
                uow.customers.get("nope")
            assert info.value.key == "nope"
            assert uow.customers.find("nope") is None

    def test_duplicate_id_raises_and_keeps_the_first(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            first = uow.customers.add(new_customer(1))
        other = attrs.evolve(new_customer(1, email="other@example.com"), name="Impostor")
        with pytest.raises(AlreadyExistsError), store.unit_of_work() as uow:
            uow.customers.add(other)
        with store.unit_of_work() as uow:
            assert uow.customers.get("C0001") == first

    def test_duplicate_email_raises_naming_the_field(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.customers.add(new_customer(1, email="same@example.com"))
        with pytest.raises(AlreadyExistsError) as info, store.unit_of_work() as uow:
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
        with pytest.raises(ConcurrencyConflictError) as info, store.unit_of_work() as uow:
            uow.customers.save(loaded.tag(["loser"], T0).value)
        assert (info.value.expected, info.value.actual) == (1, 2)
        with store.unit_of_work() as uow:
            assert uow.customers.get("C0001") == winner

    def test_conflict_detected_at_commit_leaves_nothing_written(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.customers.add(new_customer(1))
        with pytest.raises(ConcurrencyConflictError), store.unit_of_work() as slow:
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
            with pytest.raises(NotFoundError):
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
        with pytest.raises(AlreadyExistsError), store.unit_of_work() as uow:
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
        with pytest.raises(_BoomError), store.unit_of_work() as uow:
            uow.customers.add(new_customer(2))
            uow.customers.save(uow.customers.get("C0001").tag(["x"], T0).value)
            uow.purchases.add(_purchase("O1", "C0001"))
            uow.collect(*_registered(3)[1])
            raise _BoomError
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
        with pytest.raises(IllegalTransitionError):
            uow.customers.find("C0001")
        with pytest.raises(IllegalTransitionError):
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
                raise _BoomError
            received.append(message.aggregate_id)

        with pytest.raises(_BoomError):
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
        with pytest.raises(ConcurrencyConflictError), store.unit_of_work() as uow:
            uow.funnel_positions.save(stored.advance(Stage.INTEREST, later).value)
        with store.unit_of_work() as uow:
            assert uow.funnel_positions.get("C0001") == moved
            assert uow.funnel_positions.count() == 1
            assert [p.id for p in uow.funnel_positions.list().items] == ["C0001"]
            assert uow.customers.get("C0001").version == 1  # same id, separate aggregate
            with pytest.raises(AlreadyExistsError):
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

    # -- feedback loops ---------------------------------------------------------------
    def test_feedback_records_round_trip_and_erasure_blanks_their_text(self, store: Store) -> None:
        rich = _feedback(
            1,
            text="The refund took three weeks",
            scores={"nps": 3, "csat": 2},
            themes=["refunds", "speed"],
            touchpoint="email/support",
            stage=Stage.RETENTION,
        )
        quiet = _feedback(2, days=1, channel="survey", kind="praise", scores={"ces": 2})
        other = _feedback(3, "C0002", text="fine")
        with store.unit_of_work() as uow:
            for item in (quiet, rich, other):
                uow.feedback.add(uow.take(receive_feedback(item)))
            assert uow.feedback.get("F1") == rich  # pending writes are visible
        with store.unit_of_work() as uow:
            assert uow.feedback.get("F1") == rich
            assert uow.feedback.for_customer("C0001") == (rich, quiet)
            assert uow.feedback.count() == 3
            assert uow.feedback.find("F9") is None
            with pytest.raises(AlreadyExistsError):
                uow.feedback.add(_feedback(1, text="again"))
            with pytest.raises(ValidationError):
                uow.feedback.add(_purchase("O1", "C0001"))  # type: ignore[arg-type]
        with store.unit_of_work() as uow:
            assert uow.feedback.redact("C0001") == 1  # the quiet one has no text
        with store.unit_of_work() as uow:
            assert uow.feedback.get("F1") == attrs.evolve(rich, text="")
            assert uow.feedback.get("F2") == quiet
            assert uow.feedback.get("F3") == other  # another customer's text stays
        kinds = [m.kind for m in store.outbox.pending()]
        assert kinds == ["feedback.received"] * 3

    def test_cases_are_versioned_and_unique_per_feedback(self, store: Store) -> None:
        feedback = _feedback(1, text="I want a refund")
        opened = open_case_for(feedback, customer_value=5000)
        assert opened is not None
        with store.unit_of_work() as uow:
            uow.feedback.add(feedback)
            stored = uow.cases.add(uow.take(opened))
            assert uow.cases.find_by_feedback("F1") == stored
        assert stored.version == 1
        later = T0 + timedelta(hours=2)
        with store.unit_of_work() as uow:
            current = uow.cases.get(stored.id)
            assert current == stored
            acknowledged = uow.cases.save(uow.take(current.acknowledge(later)))
        assert (acknowledged.version, acknowledged.state.value) == (2, "acknowledged")
        with pytest.raises(ConcurrencyConflictError), store.unit_of_work() as uow:
            uow.improvement_actions.add(
                ImprovementAction.plan("ACT-1", "Faster refunds", ["refunds"], "ops", at=T0).value
            )
            uow.feedback.add(_feedback(2))
            uow.cases.save(stored.acknowledge(later).value)  # stale: based on version 1
        with store.unit_of_work() as uow:
            assert uow.cases.get(stored.id) == acknowledged
            assert uow.cases.find_by_feedback("F1") == acknowledged
            assert uow.cases.find_by_feedback("F2") is None
            assert uow.feedback.find("F2") is None
            assert uow.improvement_actions.count() == 0
            with pytest.raises(AlreadyExistsError) as info:
                uow.cases.add(Case.open("CASE-2", "C0001", T0, feedback_id="F1").value)
            assert info.value.field == "feedback_id"
            uow.cases.add(Case.open("CASE-3", "C0001", T0).value)  # no feedback: not indexed
            uow.cases.add(Case.open("CASE-4", "C0001", T0).value)
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.cases.list().items] == ["CASE-3", "CASE-4", stored.id]
        kinds = [m.kind for m in store.outbox.pending()]
        assert kinds == ["case.opened", "case.acknowledged"]

    def test_improvement_actions_keep_their_status_history(self, store: Store) -> None:
        planned = ImprovementAction.plan(
            "ACT-1", "Same-day refunds", ["refunds", "speed"], "ops", at=T0
        )
        with store.unit_of_work() as uow:
            stored = uow.improvement_actions.add(uow.take(planned))
        with store.unit_of_work() as uow:
            current = uow.improvement_actions.get("ACT-1")
            started = current.start(T0 + timedelta(days=1)).value
            done = uow.improvement_actions.save(started.complete(T0 + timedelta(days=9)).value)
        with store.unit_of_work() as uow:
            again = uow.improvement_actions.get("ACT-1")
            assert again == done != stored
            assert again.done_at == T0 + timedelta(days=9)
            assert again.version == 2
            with pytest.raises(ConcurrencyConflictError):
                uow.improvement_actions.save(stored.drop(T0).value)

    # -- loyalty ------------------------------------------------------------------------
    def test_loyalty_accounts_store_their_ledger(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            opened = uow.loyalty_accounts.add(_account(1))
            assert uow.loyalty_accounts.find_for_customer("P", "C0001") == opened
        assert opened.version == 1
        with store.unit_of_work() as uow:
            account = _earned(uow.loyalty_accounts.get("P-A1"), "O1", "120.50")
            outcome = account.redeem(PROGRAM, 20, at=T0 + timedelta(days=1), key="r-1")
            saved = uow.loyalty_accounts.save(uow.take(outcome))
        with store.unit_of_work() as uow:
            again = uow.loyalty_accounts.get("P-A1")
        assert again == saved
        assert again.version == 2
        assert again.entries == saved.entries
        assert len(again.entries) == 2
        assert again.lots == saved.lots
        assert again.balance(T0 + timedelta(days=1)) == 100
        assert again.entry("r-1").points == saved.entry("r-1").points
        with store.unit_of_work() as uow:
            assert uow.loyalty_accounts.get_for_customer("P", "C0001") == again
            assert uow.loyalty_accounts.find_for_customer("Q", "C0001") is None
            with pytest.raises(NotFoundError):
                uow.loyalty_accounts.get_for_customer("Q", "C0001")
            with pytest.raises(AlreadyExistsError) as info:  # one account per program and customer
                uow.loyalty_accounts.add(attrs.evolve(_account(1), id="P-other"))
            assert info.value.field == "customer"
            uow.loyalty_accounts.add(_account(1, program_id="Q"))  # another program is fine
        with store.unit_of_work() as uow:
            assert uow.loyalty_accounts.count() == 2
            assert uow.loyalty_accounts.get_for_customer("Q", "C0001").id == "Q-A1"
        assert [m.kind for m in store.outbox.pending()] == ["loyalty.points_redeemed"]

    def test_a_stale_ledger_save_writes_nothing_of_its_unit_of_work(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            loaded = uow.loyalty_accounts.add(_earned(_account(1), "O1", "80.00"))
            uow.tier_statuses.add(TierStatus.new("P-A1", TIERS))
        with store.unit_of_work() as uow:  # a concurrent redemption commits first
            current = uow.loyalty_accounts.get("P-A1")
            winner = uow.loyalty_accounts.save(
                current.redeem(PROGRAM, 30, at=T0 + timedelta(days=1), key="r-fast").value
            )
        with pytest.raises(ConcurrencyConflictError), store.unit_of_work() as uow:
            status = uow.tier_statuses.get("P-A1")
            facts = facts_from_ledger(loaded)
            uow.tier_statuses.save(status.evaluate(facts, T0 + timedelta(days=1), TIERS).value)
            uow.loyalty_accounts.add(_account(2))
            slow = loaded.redeem(PROGRAM, 70, at=T0 + timedelta(days=1), key="r-slow")
            uow.loyalty_accounts.save(uow.take(slow))
        with store.unit_of_work() as uow:
            assert uow.loyalty_accounts.get("P-A1") == winner
            assert uow.loyalty_accounts.find("P-A2") is None
            assert uow.tier_statuses.get("P-A1").version == 1
        assert "loyalty.points_redeemed" not in {
            m.kind for m in store.outbox.pending() if m.payload.get("entry_key") == "r-slow"
        }

    def test_tier_statuses_and_referrals_round_trip(self, store: Store) -> None:
        account = _earned(_account(1), "O1", "60.00")
        status = TierStatus.new("P-A1", TIERS)
        evaluated = status.evaluate(facts_from_ledger(account), T0 + timedelta(days=1), TIERS)
        issued = ReferralCode.issue(REFERRALS, "C0001", T0, code="ann-2024")
        with store.unit_of_work() as uow:
            stored_status = uow.tier_statuses.add(uow.take(evaluated))
            stored_code = uow.referral_codes.add(uow.take(issued))
        assert stored_status.tier == "gold"
        assert (stored_code.id, stored_code.version) == ("ANN-2024", 1)
        claimed = stored_code.claim(REFERRALS, "C0002", T0 + timedelta(hours=1))
        with store.unit_of_work() as uow:
            used, claim = uow.take(claimed)
            saved_code = uow.referral_codes.save(used)
            stored_claim = uow.referral_claims.add(claim)
        assert (saved_code.uses, saved_code.version, stored_claim.version) == (1, 2, 1)
        with store.unit_of_work() as uow:
            assert uow.tier_statuses.get("P-A1") == stored_status
            assert uow.referral_codes.get("ANN-2024") == saved_code
            assert uow.referral_claims.get(claim_id("friends", "C0002")) == stored_claim
            qualified = stored_claim.qualify(
                REFERRALS, _purchase("O2", "C0002", 1, "25.00"), T0 + timedelta(days=1)
            )
            saved = uow.referral_claims.save(uow.take(qualified).claim)
        with store.unit_of_work() as uow:
            assert uow.referral_claims.get(stored_claim.id) == saved
            assert (saved.version, saved.rewarded, len(saved.rewards)) == (2, True, 2)
            with pytest.raises(ConcurrencyConflictError):
                uow.referral_claims.save(stored_claim)
        kinds = [m.kind for m in store.outbox.pending()]
        assert kinds[0] == "loyalty.tier_upgraded"
        assert kinds[-3:] == [
            "loyalty.referral_code_issued",
            "loyalty.referral_claimed",
            "loyalty.referral_rewarded",
        ]

    def test_a_stale_referral_code_save_conflicts_and_writes_no_claim(self, store: Store) -> None:
        program = attrs.evolve(REFERRALS, usage_limit=1)
        with store.unit_of_work() as uow:
            issued = ReferralCode.issue(program, "C0001", T0, code="ANN-2024")
            code = uow.referral_codes.add(uow.take(issued))
        # two referees read the code at uses == 0; the first to commit wins the last use
        first = code.claim(program, "C0002", T0)
        second = code.claim(program, "C0003", T0)
        with store.unit_of_work() as uow:
            used, claim = uow.take(first)
            uow.referral_codes.save(used)
            uow.referral_claims.add(claim)
        with pytest.raises(ConcurrencyConflictError), store.unit_of_work() as uow:
            used, late = uow.take(second)
            uow.referral_claims.add(late)
            uow.referral_codes.save(used)
        with store.unit_of_work() as uow:
            stored = uow.referral_codes.get("ANN-2024")
            assert (stored.uses, stored.version) == (1, 2)
            assert uow.referral_claims.find(claim_id("friends", "C0003")) is None
            assert uow.referral_claims.count() == 1
        with pytest.raises(ValidationError, match="usage limit"):
            stored.claim(program, "C0003", T0)  # the reloaded code refuses the late referee
        with pytest.raises(AlreadyExistsError), store.unit_of_work() as uow:
            uow.referral_claims.add(claim)  # a second claim of a referee collides on its id
        kinds = [m.kind for m in store.outbox.pending()]
        assert kinds.count("loyalty.referral_claimed") == 1

    def test_feedback_and_loyalty_survive_reopening(self, store: Store, tmp_path: Path) -> None:
        feedback = _feedback(1, text="cancel my order", scores={"nps": 0}, themes=["orders"])
        opened = open_case_for(feedback)
        assert opened is not None
        account = _earned(_account(1), "O1", "33.33")
        with store.unit_of_work() as uow:
            uow.feedback.add(feedback)
            case = uow.cases.add(opened.value)
            stored = uow.loyalty_accounts.add(account)
        again = self.reopen(store, tmp_path)
        if again is None:
            pytest.skip("adapter is not durable")
        try:
            with again.unit_of_work() as uow:
                assert uow.feedback.get("F1") == feedback
                assert uow.cases.find_by_feedback("F1") == case
                assert uow.loyalty_accounts.get_for_customer("P", "C0001") == stored
        finally:
            again.close()

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
        self.accounts: dict[str, LoyaltyAccount] = {}
        self.cases: dict[str, Case] = {}
        self.sales = 0
        self.clock = T0

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
