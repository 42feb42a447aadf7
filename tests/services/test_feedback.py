from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crmcore import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    Customer,
    IllegalTransitionError,
    MemoryStore,
    NotFoundError,
    SqliteStore,
    Store,
    ValidationError,
)
from crmcore.feedback.cases import Case
from crmcore.feedback.feedback import Feedback
from crmcore.feedback.improvement import ActionStatus, ImprovementAction
from crmcore.feedback.rules import CaseRule, CaseRules
from crmcore.feedback.vocabulary import CaseState, Priority
from crmcore.kernel.events import Outcome
from crmcore.services import (
    act_on_case,
    add_improvement_action,
    change_improvement_action,
    erase_customer,
    register_customer,
    retry_on_conflict,
    submit_feedback,
)

T = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "f.db")
    yield made
    made.close()


def _feedback(n: int = 1, **fields: object) -> Feedback:
    values: dict[str, object] = {
        "id": f"fb-{n}",
        "customer_id": "c-1",
        "channel": "email",
        "kind": "complaint",
        "text": "The parcel arrived broken",
        "at": T,
    }
    values.update(fields)
    return Feedback(**values)  # type: ignore[arg-type]


def _kinds(store: Store) -> list[str]:
    return [m.kind for m in store.outbox.pending(limit=1000)]


def test_matching_feedback_is_stored_with_its_case_in_one_unit_of_work(store: Store) -> None:
    rules = CaseRules(
        rules=(CaseRule(name="complaint", severity="high", kinds=["complaint"], team="care"),)
    )
    result = submit_feedback(store, _feedback(), rules=rules, customer_value=20_000)
    assert result.case is not None
    assert (result.case.id, result.case.version) == ("case-fb-1", 1)
    assert result.case.priority is Priority.URGENT  # high, raised by two value steps, capped
    assert result.case.team == "care"
    with store.unit_of_work() as uow:
        assert uow.feedback.get("fb-1") == result.feedback
        assert uow.cases.get("case-fb-1") == result.case
        assert uow.cases.find_by_feedback("fb-1") == result.case
    assert _kinds(store) == ["feedback.received", "case.opened", "case.assigned"]


def test_feedback_matching_no_rule_opens_no_case(store: Store) -> None:
    praise = _feedback(kind="praise", text="Lovely staff", scores={"nps": 10})
    result = submit_feedback(store, praise)
    assert result.case is None
    with store.unit_of_work() as uow:
        assert uow.feedback.count() == 1
        assert uow.cases.count() == 0
    assert _kinds(store) == ["feedback.received"]


def test_resubmitting_feedback_raises_and_opens_no_second_case(store: Store) -> None:
    submit_feedback(store, _feedback())
    with pytest.raises(AlreadyExistsError):
        submit_feedback(store, _feedback(), case_id="case-other")
    with store.unit_of_work() as uow:
        assert uow.cases.count() == 1
    assert _kinds(store) == ["feedback.received", "case.opened"]


def test_a_failure_after_the_feedback_is_added_writes_nothing(store: Store) -> None:
    submit_feedback(store, _feedback(1))
    # The second feedback would open a case under a taken id: the whole unit of work fails.
    with pytest.raises(AlreadyExistsError):
        submit_feedback(store, _feedback(2), case_id="case-fb-1")
    with store.unit_of_work() as uow:
        assert uow.feedback.find("fb-2") is None
        assert uow.cases.count() == 1
    assert _kinds(store) == ["feedback.received", "case.opened"]


def test_bad_input_is_rejected_before_anything_is_written(store: Store) -> None:
    with pytest.raises(ValidationError):
        submit_feedback(store, "not feedback")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):  # the case cannot open before the feedback
        submit_feedback(store, _feedback(), at=T - timedelta(hours=1))
    with store.unit_of_work() as uow:
        assert uow.feedback.count() == 0
    assert _kinds(store) == []


def test_a_case_is_worked_through_the_closed_loop(store: Store) -> None:
    submit_feedback(store, _feedback())
    steps = [
        lambda c: c.acknowledge(T + timedelta(hours=1)),
        lambda c: c.start(T + timedelta(hours=2)),
        lambda c: c.resolve(
            T + timedelta(hours=5), root_cause="carrier", action_taken="replacement sent"
        ),
        lambda c: c.follow_up(T + timedelta(days=2), verdict="resolved", satisfaction=5),
        lambda c: c.close(T + timedelta(days=2, hours=1)),
    ]
    case = None
    for version, step in enumerate(steps, start=2):
        case = act_on_case(store, "case-fb-1", step)
        assert case.version == version
    assert case is not None
    assert case.state is CaseState.CLOSED
    assert case.loop_closed
    with store.unit_of_work() as uow:
        assert uow.cases.get("case-fb-1") == case
    assert _kinds(store)[-5:] == [
        "case.acknowledged",
        "case.moved",
        "case.resolved",
        "case.followed_up",
        "case.closed",
    ]


def test_an_illegal_step_or_a_stale_version_changes_nothing(store: Store) -> None:
    submit_feedback(store, _feedback())
    before = _kinds(store)
    with pytest.raises(IllegalTransitionError):
        act_on_case(store, "case-fb-1", lambda c: c.close(T + timedelta(hours=1)))
    acknowledged = act_on_case(store, "case-fb-1", lambda c: c.acknowledge(T))
    with pytest.raises(ConcurrencyConflictError):
        act_on_case(store, "case-fb-1", lambda c: c.start(T), expected_version=1)
    with pytest.raises(NotFoundError):
        act_on_case(store, "case-nope", lambda c: c.start(T))
    with pytest.raises(ValidationError):  # an operation may not swap in another case
        act_on_case(store, "case-fb-1", lambda c: Case.open("case-x", "c-1", T))
    with store.unit_of_work() as uow:
        assert uow.cases.get("case-fb-1") == acknowledged
        assert uow.cases.count() == 1
    assert _kinds(store) == [*before, "case.acknowledged"]


def test_act_on_case_can_be_retried_after_a_conflict(store: Store) -> None:
    submit_feedback(store, _feedback())
    calls = 0

    def racing(case: Case) -> Outcome[Case]:
        nonlocal calls
        calls += 1
        if calls == 1:  # someone else assigns the case meanwhile
            with store.unit_of_work() as uow:
                current = uow.cases.get(case.id)
                uow.cases.save(current.assign(T, assignee="bob").value)
        return case.acknowledge(T + timedelta(minutes=5))

    case = retry_on_conflict(lambda: act_on_case(store, "case-fb-1", racing))
    assert calls == 2
    assert (case.assignee, case.state, case.version) == ("bob", CaseState.ACKNOWLEDGED, 3)


def test_improvement_actions_are_stored_and_moved(store: Store) -> None:
    planned = ImprovementAction.plan("act-1", "Sturdier boxes", ["packaging"], "ops", at=T)
    stored = add_improvement_action(store, planned)
    assert stored.version == 1
    same = change_improvement_action(store, "act-1", lambda a: a.reassign("ops", T))
    assert same == stored  # nothing changed: not saved again, no event
    with pytest.raises(AlreadyExistsError):
        add_improvement_action(store, planned)
    started = change_improvement_action(store, "act-1", lambda a: a.start(T + timedelta(days=1)))
    done = change_improvement_action(store, "act-1", lambda a: a.complete(T + timedelta(days=9)))
    assert (started.version, done.version, done.status) == (2, 3, ActionStatus.DONE)
    with pytest.raises(IllegalTransitionError):
        change_improvement_action(store, "act-1", lambda a: a.start(T + timedelta(days=10)))
    with pytest.raises(ValidationError):
        add_improvement_action(store, "plan")  # type: ignore[arg-type]
    with store.unit_of_work() as uow:
        assert uow.improvement_actions.get("act-1") == done
    assert _kinds(store) == [
        "improvement.action_planned",
        "improvement.action_status_changed",
        "improvement.action_status_changed",
    ]


def test_erasing_a_customer_blanks_their_feedback_text(store: Store) -> None:
    register_customer(store, Customer.register("c-1", "Ann", T))
    first = submit_feedback(store, _feedback(1, scores={"nps": 2}, themes=["delivery"]))
    submit_feedback(store, _feedback(2, customer_id="c-2", text="keep me"))
    erase_customer(store, "c-1", T + timedelta(days=30))
    with store.unit_of_work() as uow:
        erased = uow.feedback.get("fb-1")
        assert erased.text == ""
        assert (erased.scores, erased.themes) == (first.feedback.scores, first.feedback.themes)
        assert uow.feedback.get("fb-2").text == "keep me"
