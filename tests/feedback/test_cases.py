"""The case aggregate: the closed loop, guards, history, events, bad input, codec."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from crmcore.feedback.case_changes import Assignment, CaseChange, FollowUp, Resolution
from crmcore.feedback.case_machine import (
    CASE_GUARDS,
    CASE_TRANSITIONS,
    CasePolicy,
    allowed_triggers,
    transitions_on,
)
from crmcore.feedback.cases import Case
from crmcore.feedback.events import (
    CaseAcknowledged,
    CaseAssigned,
    CaseClosed,
    CaseFollowedUp,
    CaseMoved,
    CaseOpened,
    CaseReopened,
    CaseResolved,
)
from crmcore.feedback.vocabulary import CaseState, CaseTrigger, Priority, Verdict
from crmcore.kernel import codec
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.events import event_from_json

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)


def opened() -> Case:
    return Case.open("case-1", "c-1", T0, priority="high", feedback_id="fb-1").value


def resolved() -> Case:
    case = opened().acknowledge(T0 + 5 * M).value.start(T0 + 10 * M).value
    return case.resolve(T0 + 2 * H, root_cause="Billing Error", action_taken="refunded").value


def closed() -> Case:
    case = resolved().follow_up(T0 + D, verdict="resolved", satisfaction=5).value
    return case.close(T0 + D + M).value


def test_the_whole_loop() -> None:
    o = Case.open("case-1", "c-1", T0, priority="high", assignee="agent-7", team="care")
    case = o.value
    assert [type(e) for e in o.events] == [CaseOpened, CaseAssigned]
    assert case.state is CaseState.NEW and case.assignee == "agent-7" and case.team == "care"
    steps = [
        (lambda c: c.acknowledge(T0 + 5 * M), CaseState.ACKNOWLEDGED, CaseAcknowledged),
        (lambda c: c.start(T0 + 10 * M), CaseState.IN_PROGRESS, CaseMoved),
        (lambda c: c.wait_on_customer(T0 + H), CaseState.WAITING_ON_CUSTOMER, CaseMoved),
        (lambda c: c.customer_replied(T0 + 3 * H), CaseState.IN_PROGRESS, CaseMoved),
        (
            lambda c: c.resolve(T0 + 4 * H, root_cause="billing_error", action_taken="refund"),
            CaseState.RESOLVED,
            CaseResolved,
        ),
        (
            lambda c: c.follow_up(T0 + D, verdict=Verdict.RESOLVED, satisfaction=4),
            CaseState.RESOLVED,
            CaseFollowedUp,
        ),
        (lambda c: c.close(T0 + D + H), CaseState.CLOSED, CaseClosed),
    ]
    for step, state, event_type in steps:
        before = case
        outcome = step(case)
        case = outcome.value
        assert case.state is state
        assert [type(e) for e in outcome.events] == [event_type]
        assert before.history == case.history[:-1]  # the old value is untouched
    assert case.loop_closed and not case.is_open
    assert case.acknowledged_at == T0 + 5 * M
    assert case.resolved_at == T0 + 4 * H and case.closed_at == T0 + D + H
    assert case.resolution == Resolution("billing_error", "refund")
    assert case.last_follow_up == FollowUp("resolved", 4)
    assert [c.to_state for c in case.history][-3:] == [
        CaseState.RESOLVED,
        CaseState.RESOLVED,
        CaseState.CLOSED,
    ]
    assert case.state_at(T0 - M) is None
    assert case.state_at(T0 + 2 * H) is CaseState.WAITING_ON_CUSTOMER
    assert case.reopen_count == 0


def test_close_needs_a_verified_follow_up() -> None:
    case = resolved()
    with pytest.raises(IllegalTransitionError) as info:
        case.close(T0 + D)
    assert info.value.from_state == "resolved" and info.value.to_state == "closed"
    assert "follow-up" in info.value.why
    assert not case.can("close", T0 + D)


def test_unhappy_follow_up_reopens() -> None:
    for verdict, satisfaction in [("not_resolved", 5), ("resolved", 2)]:
        outcome = resolved().follow_up(T0 + D, verdict=verdict, satisfaction=satisfaction)
        case = outcome.value
        assert case.state is CaseState.IN_PROGRESS
        assert [type(e) for e in outcome.events] == [CaseFollowedUp, CaseReopened]
        reopened = outcome.events[1]
        assert isinstance(reopened, CaseReopened) and reopened.reason == "customer_unhappy"
        assert case.reopen_count == 1
        assert case.resolved_at is None
        assert case.last_follow_up is not None and case.last_follow_up.unhappy
        # The loop must go round again: resolve, follow up happily, then close.
        with pytest.raises(IllegalTransitionError):
            case.close(T0 + 2 * D)
        case = case.resolve(T0 + 2 * D, root_cause="billing_error", action_taken="again").value
        with pytest.raises(IllegalTransitionError):
            case.close(T0 + 2 * D)
        case = case.follow_up(T0 + 3 * D, verdict="resolved", satisfaction=3).value
        assert case.close(T0 + 3 * D).value.state is CaseState.CLOSED


def test_follow_up_before_a_new_resolution_does_not_count() -> None:
    case = resolved().follow_up(T0 + D, verdict="resolved", satisfaction=5).value
    case = case.reopen(T0 + 2 * D).value
    case = case.resolve(T0 + 3 * D, root_cause="x", action_taken="y").value
    assert case.last_follow_up is None
    with pytest.raises(IllegalTransitionError):
        case.close(T0 + 3 * D)


def test_reopen_within_window_only() -> None:
    policy = CasePolicy(reopen_window=3 * D)
    case = closed()  # resolved at T0 + 2h
    outcome = case.reopen(T0 + 2 * H + 3 * D, policy=policy)
    assert outcome.value.state is CaseState.IN_PROGRESS
    (event,) = outcome.events
    assert isinstance(event, CaseReopened) and event.reopen_count == 1
    assert event.reason == "reopened"
    with pytest.raises(IllegalTransitionError) as info:
        case.reopen(T0 + 2 * H + 3 * D + M, policy=policy)
    assert "reopen window" in info.value.why
    assert resolved().reopen(T0 + 3 * H, policy=policy).value.state is CaseState.IN_PROGRESS


def test_resolve_requires_root_cause_by_default() -> None:
    case = opened().acknowledge(T0 + M).value.start(T0 + 2 * M).value
    with pytest.raises(IllegalTransitionError) as info:
        case.resolve(T0 + H)
    assert "root cause" in info.value.why
    lax = CasePolicy(require_resolution=False)
    done = case.resolve(T0 + H, policy=lax)
    assert done.value.state is CaseState.RESOLVED and done.value.resolution is None
    event = done.events[0]
    assert isinstance(event, CaseResolved) and event.root_cause is None
    with pytest.raises(ValidationError) as err:
        case.resolve(T0 + H, root_cause="billing", action_taken="  ")
    assert err.value.field == "resolution.action_taken"


def test_resolve_from_waiting_on_customer() -> None:
    case = opened().acknowledge(T0 + M).value.start(T0 + 2 * M).value
    case = case.wait_on_customer(T0 + H).value
    case = case.resolve(T0 + 2 * D, root_cause="no_reply", action_taken="closed out").value
    assert case.state is CaseState.RESOLVED


@pytest.mark.parametrize(
    ("make", "trigger"),
    [
        (opened, "start"),
        (opened, "resolve"),
        (opened, "close"),
        (opened, "customer_replied"),
        (opened, "follow_up"),
        (resolved, "acknowledge"),
        (resolved, "wait_on_customer"),
        (closed, "assign"),
        (closed, "close"),
    ],
)
def test_moves_out_of_order_are_illegal(make: object, trigger: str) -> None:
    case = make()  # type: ignore[operator]
    with pytest.raises((IllegalTransitionError, ValidationError)) as info:
        case.fire(
            trigger,
            case.last_changed_at + M,
            follow_up=FollowUp("resolved", 5) if trigger == "follow_up" else None,
        )
    if isinstance(info.value, IllegalTransitionError):
        assert info.value.from_state == case.state.value
        # The trigger is named as the trigger; to_state is where a refused row led, if any.
        assert info.value.trigger == trigger
        assert info.value.to_state is None or info.value.to_state in set(CaseState)


def test_time_must_not_go_backwards() -> None:
    case = opened().acknowledge(T0 + H).value
    with pytest.raises(ValidationError) as info:
        case.start(T0 + 30 * M)
    assert info.value.field == "at"
    with pytest.raises(ValidationError) as info:
        case.start(datetime(2026, 3, 2, 12))
    assert info.value.field == "at"
    assert case.start(T0 + H).value.state is CaseState.IN_PROGRESS  # same instant is fine


def test_assignment_history() -> None:
    case = opened()
    assert case.assignment == Assignment() and case.assignee is None
    case = case.assign(T0 + M, assignee="a1").value
    case = case.assign(T0 + 2 * M, team="tier2").value
    assert case.assignee is None and case.team == "tier2"
    assert [c.assignment for c in case.history] == [Assignment("a1"), Assignment(None, "tier2")]
    with pytest.raises(ValidationError) as info:
        case.assign(T0 + 3 * M, assignee="bad id")
    assert info.value.field == "assignee"


def test_facts_only_on_their_trigger() -> None:
    case = opened()
    with pytest.raises(ValidationError) as info:
        case.fire("acknowledge", T0 + M, resolution=Resolution("x", "y"))
    assert info.value.field == "resolution"
    with pytest.raises(ValidationError) as info:
        CaseChange(at=T0, trigger="assign", from_state="new", to_state="new")
    assert info.value.field == "assignment"
    with pytest.raises(ValidationError) as info:
        FollowUp("meh", 3)
    assert info.value.field == "follow_up.verdict"
    with pytest.raises(ValidationError) as info:
        FollowUp("resolved", 6)
    assert info.value.field == "follow_up.satisfaction"


def test_bad_open_arguments_are_named() -> None:
    with pytest.raises(ValidationError) as info:
        Case.open("case-1", "c-1", datetime(2026, 3, 2), priority="high")
    assert info.value.field == "opened_at"
    with pytest.raises(ValidationError) as info:
        Case.open("case-1", "c-1", T0, priority="critical")
    assert info.value.field == "priority"
    with pytest.raises(ValidationError) as info:
        opened().fire("explode", T0 + M)
    assert info.value.field == "trigger"


def test_history_is_checked_on_construction() -> None:
    good = closed()
    with pytest.raises(ValidationError) as info:
        attrs.evolve(good, state=CaseState.RESOLVED)
    assert info.value.field == "state"
    skipped = tuple(c for c in good.history if c.trigger is not CaseTrigger.FOLLOW_UP)
    with pytest.raises(ValidationError):  # a close without the follow-up
        attrs.evolve(good, history=skipped)
    reordered = (good.history[1], good.history[0], *good.history[2:])
    with pytest.raises(ValidationError):
        attrs.evolve(good, history=reordered)
    early = (attrs.evolve(good.history[0], at=T0 - M), *good.history[1:])
    with pytest.raises(ValidationError) as info:
        attrs.evolve(good, history=early)
    assert info.value.field == "history[0].at"


def test_codec_round_trip_and_decode_validates() -> None:
    case = resolved().assign(T0 + 3 * H, assignee="a2", team="care").value
    case = case.follow_up(T0 + D, verdict="not_resolved", satisfaction=1, note="still broken")
    value = case.value
    data = codec.encode(value, Case)
    assert codec.decode(Case, data) == value
    assert codec.decode(Case, codec.encode(closed(), Case)) == closed()
    data["state"] = "closed"  # type: ignore[index]
    with pytest.raises(ValidationError):
        codec.decode(Case, data)


def test_events_round_trip_and_carry_no_text() -> None:
    case = resolved()
    outcome = case.follow_up(T0 + D, verdict="not_resolved", satisfaction=1, note="secret")
    for event in outcome.events:
        payload = event.payload()
        assert "secret" not in repr(payload)
        assert event_from_json(event.kind, payload) == event
    opened_event = Case.open("k", "c", T0, rules=["nps_detractor"]).events[0]
    assert isinstance(opened_event, CaseOpened) and opened_event.rules == ("nps_detractor",)


def test_table_is_data() -> None:
    assert {r.guard for r in CASE_TRANSITIONS} <= set(CASE_GUARDS)
    assert CaseTrigger.CLOSE in allowed_triggers(CaseState.RESOLVED)
    assert allowed_triggers(CaseState.CLOSED) == frozenset({CaseTrigger.REOPEN})
    assert [r.guard for r in transitions_on(CaseState.RESOLVED, CaseTrigger.FOLLOW_UP)] == [
        "customer_satisfied",
        "customer_unhappy",
    ]
    # every state is reachable and every non-closed state can reach closed
    states = {CaseState.NEW}
    for _ in range(len(CaseState)):
        states |= {r.target for r in CASE_TRANSITIONS if r.source in states}
    assert states == set(CaseState)
    assert Priority.parse("urgent") > Priority.parse("low")
