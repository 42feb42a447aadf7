"""Contract tests for funnel positions and lifecycle records, stored as versioned aggregates."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from crmcore.funnel import FunnelPosition
from crmcore.kernel.errors import AlreadyExistsError, ConcurrencyConflictError
from crmcore.kernel.stage import Stage
from crmcore.lifecycle import Lifecycle, LifecycleState, classify, reclassify
from crmcore.ports import Store
from crmcore.testing.contract.hooks import AdapterHooks
from crmcore.testing.contract.samples import T0, new_customer

__all__ = ["FunnelLifecycleContract"]


class FunnelLifecycleContract(AdapterHooks):
    """Funnel positions and lifecycle records keep their versions, history and events."""

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
