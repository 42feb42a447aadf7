"""Contract tests for units of work (all or nothing, rollback, refusals) and their outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.ports import OutboxMessage, Store
from crmcore.testing.contract.hooks import AdapterHooks
from crmcore.testing.contract.samples import T0, _BoomError, _purchase, _registered, new_customer

__all__ = ["UnitOfWorkContract"]


class UnitOfWorkContract(AdapterHooks):
    """A unit of work commits all its writes and events or none; the outbox relays them in order."""

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
