"""Contract tests for the feedback loop: feedback records, cases and improvement actions."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from crmcore.feedback import Case, ImprovementAction, open_case_for, receive_feedback
from crmcore.kernel.errors import AlreadyExistsError, ConcurrencyConflictError, ValidationError
from crmcore.kernel.stage import Stage
from crmcore.ports import Store
from crmcore.testing.contract.hooks import AdapterHooks
from crmcore.testing.contract.samples import T0, _feedback, _purchase

__all__ = ["FeedbackContract"]


class FeedbackContract(AdapterHooks):
    """Feedback is stored and erased like a record; cases and improvement actions are versioned."""

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
