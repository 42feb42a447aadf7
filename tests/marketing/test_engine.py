"""The automation engine: enrolment, goals, re-enrolment, versions, guardrails, time, bad input."""

from __future__ import annotations

import random
from datetime import date, time, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.customers.events import ConsentChanged, CustomerErased, PurchaseRecorded
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.money import Money
from crmcore.marketing import automation_events as ev
from crmcore.marketing.customer_facts import CustomerFacts
from crmcore.marketing.engine import Advance, advance
from crmcore.marketing.enrolment_machine import EnrolmentStatus, RefusalReason, WaitReason
from crmcore.marketing.enrolments import EnrolRequest
from crmcore.marketing.guardrails import Guardrails, QuietHours, SendLimit
from crmcore.marketing.steps import (
    END,
    AddTag,
    AwardPoints,
    Branch,
    CreateTask,
    EnterWorkflow,
    IssueCoupon,
    RemoveTag,
    SendMessage,
    SetField,
    Wait,
)
from crmcore.marketing.triggers import (
    DateTrigger,
    EventTrigger,
    HolidayTrigger,
    InactivityTrigger,
    SegmentTrigger,
)
from crmcore.marketing.workflows import Goal, Reenrolment, Workflow, WorkflowCatalog
from crmcore.segments.events import SegmentEntered

from .automation_helpers import T0, churn_warning

DAY = timedelta(days=1)
FREE = Guardrails(max_lateness=None)


def facts(cid: str = "c-1", **record: object) -> CustomerFacts:
    base = {"id": cid, "consent_email": True, "consent_sms": True, "tags": frozenset()}
    return CustomerFacts.from_record({**base, **record}, T0)


def purchase(cid: str, at: object) -> PurchaseRecorded:
    return PurchaseRecorded(
        aggregate_id=cid,
        occurred_at=at,
        order_id="o-1",
        amount=Money("5", "EUR"),
        items=1,
        channel="web",
    )


def entered(cid: str, at: object, segment: str = "vip") -> SegmentEntered:
    return SegmentEntered(aggregate_id=cid, occurred_at=at, segment=segment, as_of=at)


def flow(**changes: object) -> Workflow:
    base = Workflow(
        id="vip-welcome",
        version=1,
        name="VIP welcome",
        trigger=SegmentTrigger("vip"),
        steps=[
            SendMessage("hello", channel="email", template="vip-hello"),
            Wait("pause", 2 * DAY),
            SendMessage("perks", channel="email", template="vip-perks"),
        ],
        goal=Goal(events={"customer.purchase_recorded"}),
    )
    return attrs.evolve(base, **changes)


def run(
    *workflows: Workflow, events: tuple[object, ...] = (), now: object = None, **kw: object
) -> Advance:
    args: dict[str, object] = {
        "workflows": WorkflowCatalog(workflows or (flow(),)),
        "customers": [facts()],
        "guardrails": FREE,
    }
    args.update(kw)
    enrolments = args.pop("enrolments", ())
    return advance(enrolments, events, now or T0 + timedelta(minutes=1), **args)  # type: ignore[arg-type]


def templates(result: Advance) -> list[str]:
    return [a.template for a in result.actions if isinstance(a, ev.SendMessageIntent)]


# -- enrolling and running ----------------------------------------------------------------------


def test_an_event_enrols_and_the_first_steps_run_at_its_instant() -> None:
    result = run(events=(entered("c-1", T0),))
    (enrolment,) = result.enrolments
    assert (enrolment.id, enrolment.status, enrolment.step) == (
        "vip-welcome:1:c-1",
        EnrolmentStatus.WAITING,
        "pause",
    )
    (action,) = result.actions
    assert isinstance(action, ev.SendMessageIntent)
    assert (action.occurred_at, action.idempotency_key, action.channel) == (
        T0,
        "vip-welcome:1:c-1/hello",
        "email",
    )
    assert [e.kind for e in result.events] == [
        "marketing.workflow.enrolled",
        "marketing.workflow.send_message",
    ]
    assert enrolment.wake_at == T0 + 2 * DAY


def test_the_wait_ends_at_its_wake_time_and_the_enrolment_completes() -> None:
    first = run(events=(entered("c-1", T0),))
    early = run(enrolments=first.enrolments, now=T0 + DAY)
    assert early.actions == () and early.enrolments == ()
    later = run(enrolments=first.enrolments, now=T0 + 3 * DAY)
    assert templates(later) == ["vip-perks"]
    assert later.actions[0].occurred_at == T0 + 2 * DAY  # its own instant, not the run's
    assert later.enrolments[0].status is EnrolmentStatus.COMPLETED


def test_every_action_becomes_an_intent_with_a_key() -> None:
    steps = [
        AddTag("tag", "winback"),
        RemoveTag("untag", "loyal"),
        AwardPoints("points", program="shop", action="winback", points=50),
        IssueCoupon("coupon", "back10"),
        CreateTask("call", owner="agent-7", task="call-back", due_in=2 * DAY),
        SetField("mark", name="winback_sent", value=True),
    ]
    result = run(flow(steps=steps), events=(entered("c-1", T0),))
    kinds = [type(a).__name__ for a in result.actions]
    assert kinds == [
        "AddTagIntent",
        "RemoveTagIntent",
        "AwardPointsIntent",
        "IssueCouponIntent",
        "CreateTaskIntent",
        "SetFieldIntent",
    ]
    task = result.actions[4]
    assert isinstance(task, ev.CreateTaskIntent) and task.due_at == T0 + 2 * DAY
    assert len({a.idempotency_key for a in result.actions}) == 6


def test_a_branch_follows_the_rule_on_the_customer() -> None:
    steps = [
        Branch("vip", 'has tag "gold"', then="gold", otherwise=END),
        SendMessage("gold", channel="email", template="gold"),
    ]
    gold = run(
        flow(steps=steps), events=(entered("c-1", T0),), customers=[facts(tags=frozenset({"gold"}))]
    )
    plain = run(flow(steps=steps), events=(entered("c-1", T0),))
    assert templates(gold) == ["gold"] and templates(plain) == []
    history = plain.enrolments[0].history
    assert (history[-1].step, history[-1].outcome.value) == ("vip", "no")  # type: ignore[union-attr]


def test_conditions_decide_who_enrols() -> None:
    result = run(flow(conditions='country = "CN"'), events=(entered("c-1", T0),))
    assert result.enrolments == ()
    assert [r.reason for r in result.refusals] == [RefusalReason.CONDITIONS_NOT_MET]
    cn = run(
        flow(conditions='country = "CN"'),
        events=(entered("c-1", T0),),
        customers=[facts(country="CN")],
    )
    assert len(cn.enrolments) == 1


def test_an_event_trigger_with_field_filters() -> None:
    trigger = EventTrigger("lifecycle.churn_warning", where={"to_state": "decline"})
    workflow = flow(trigger=trigger)
    assert len(run(workflow, events=(churn_warning("c-1", T0, 0.9),)).enrolments) == 1
    other = EventTrigger("lifecycle.churn_warning", where={"from_state": "growth"})
    assert run(flow(trigger=other), events=(churn_warning("c-1", T0, 0.9),)).enrolments == ()


# -- goals ------------------------------------------------------------------------------------


def test_a_goal_event_converts_a_waiting_enrolment() -> None:
    first = run(events=(entered("c-1", T0),))
    bought = run(enrolments=first.enrolments, events=(purchase("c-1", T0 + DAY),), now=T0 + 3 * DAY)
    assert bought.actions == ()
    (enrolment,) = bought.enrolments
    assert enrolment.status is EnrolmentStatus.CONVERTED
    assert enrolment.ended_at == T0 + DAY
    assert [e.kind for e in bought.events] == ["marketing.workflow.converted"]


def test_a_goal_event_before_the_enrolment_does_not_count() -> None:
    result = run(events=(purchase("c-1", T0 - DAY), entered("c-1", T0)), now=T0 + 3 * DAY)
    assert result.enrolments[0].status is EnrolmentStatus.COMPLETED


def test_a_goal_met_already_refuses_and_a_goal_met_later_converts() -> None:
    workflow = flow(goal=Goal(rule='has tag "bought"'))
    met = run(workflow, events=(entered("c-1", T0),), customers=[facts(tags=frozenset({"bought"}))])
    assert [r.reason for r in met.refusals] == [RefusalReason.GOAL_ALREADY_MET]
    first = run(workflow, events=(entered("c-1", T0),))
    later = run(
        workflow,
        enrolments=first.enrolments,
        now=T0 + 3 * DAY,
        customers=[facts(tags=frozenset({"bought"}))],
    )
    assert later.enrolments[0].status is EnrolmentStatus.CONVERTED and later.actions == ()


# -- re-enrolment, replays, versions --------------------------------------------------------------


def test_never_two_runs_at_once_and_once_unless_allowed() -> None:
    first = run(events=(entered("c-1", T0), entered("c-1", T0 + DAY)), now=T0 + DAY)
    assert [r.reason for r in first.refusals] == [RefusalReason.ALREADY_ENROLLED]
    done = run(enrolments=first.enrolments, now=T0 + 3 * DAY)
    again = run(
        enrolments=done.enrolments, events=(entered("c-1", T0 + 4 * DAY),), now=T0 + 4 * DAY
    )
    assert [r.reason for r in again.refusals] == [RefusalReason.NOT_REENROLABLE]


def test_reenrolment_after_the_cooldown_starts_a_new_run() -> None:
    workflow = flow(reenrolment=Reenrolment.after(5 * DAY))
    first = run(workflow, events=(entered("c-1", T0),), now=T0 + 3 * DAY)
    soon = run(
        workflow,
        enrolments=first.enrolments,
        events=(entered("c-1", T0 + 4 * DAY),),
        now=T0 + 4 * DAY,
    )
    assert [r.reason for r in soon.refusals] == [RefusalReason.COOLDOWN]
    later = run(
        workflow,
        enrolments=first.enrolments,
        events=(entered("c-1", T0 + 6 * DAY),),
        now=T0 + 6 * DAY,
    )
    (second,) = later.enrolments
    assert (second.id, second.run) == ("vip-welcome:2:c-1", 2)
    assert later.actions[0].idempotency_key == "vip-welcome:2:c-1/hello"


def test_replaying_the_same_events_enrols_no_one_twice() -> None:
    workflow = flow(reenrolment=Reenrolment.after(timedelta(0)))
    first = run(workflow, events=(entered("c-1", T0),), now=T0 + 3 * DAY)
    replay = run(
        workflow, enrolments=first.enrolments, events=(entered("c-1", T0),), now=T0 + 3 * DAY
    )
    assert replay.actions == () and replay.enrolments == ()
    assert [r.reason for r in replay.refusals] == [RefusalReason.ALREADY_TRIGGERED]
    assert run(workflow, events=(entered("c-1", T0),), now=T0 + 3 * DAY) == first


def test_a_message_in_the_contact_history_is_not_sent_again() -> None:
    first = run(events=(entered("c-1", T0),))
    # An older state of the enrolments, with the newer contact history: nothing goes twice.
    replay = run(events=(entered("c-1", T0),), contacts=first.contacts)
    assert replay.actions == ()
    assert replay.enrolments[0].history[0].reason == "already_sent"


def test_a_new_version_leaves_running_enrolments_on_theirs() -> None:
    v1 = flow()
    first = run(v1, events=(entered("c-1", T0),))
    v2 = flow(version=2, steps=[SendMessage("hello", channel="sms", template="v2-hello")])
    catalog = WorkflowCatalog([v1]).with_version(v2)
    later = advance(
        first.enrolments,
        [entered("c-2", T0 + 3 * DAY)],
        T0 + 3 * DAY,
        workflows=catalog,
        customers=[facts(), facts("c-2")],
        guardrails=FREE,
    )
    by_customer = {a.customer_id: a for a in later.actions}
    assert isinstance(by_customer["c-1"], ev.SendMessageIntent)
    assert (by_customer["c-1"].template, by_customer["c-1"].workflow_version) == ("vip-perks", 1)
    assert (by_customer["c-2"].template, by_customer["c-2"].workflow_version) == ("v2-hello", 2)


def test_an_inactive_newest_version_enrols_no_one() -> None:
    result = run(flow(active=False), events=(entered("c-1", T0),))
    assert [r.reason for r in result.refusals] == [RefusalReason.INACTIVE_WORKFLOW]


# -- suppression, erasure, consent ---------------------------------------------------------------


def test_suppression_lists_refuse_and_exit() -> None:
    workflow = flow(suppression_lists={"staff"})
    refused = run(workflow, events=(entered("c-1", T0),), suppression_lists={"staff": {"c-1"}})
    assert [(r.reason, r.detail) for r in refused.refusals] == [
        (RefusalReason.SUPPRESSION_LIST, "staff")
    ]
    first = run(workflow, events=(entered("c-1", T0),))
    later = run(
        workflow,
        enrolments=first.enrolments,
        now=T0 + 3 * DAY,
        suppression_lists={"staff": ["c-1"]},
    )
    (enrolment,) = later.enrolments
    assert enrolment.status is EnrolmentStatus.EXITED and later.actions == ()
    assert enrolment.history[-1].reason == "suppression_list"


def test_an_erasure_ends_every_open_enrolment() -> None:
    first = run(events=(entered("c-1", T0),))
    erased = CustomerErased(aggregate_id="c-1", occurred_at=T0 + DAY, reason="request")
    later = run(enrolments=first.enrolments, events=(erased,), now=T0 + 3 * DAY)
    assert later.enrolments[0].status is EnrolmentStatus.EXITED and later.actions == ()
    refused = run(events=(entered("c-1", T0),), customers=[facts(erased=True)])
    assert [r.reason for r in refused.refusals] == [RefusalReason.ERASED]


def test_consent_is_checked_at_the_instant_of_sending() -> None:
    withdrawn = ConsentChanged(
        aggregate_id="c-1", occurred_at=T0 + DAY, channel="email", granted=False
    )
    result = run(events=(entered("c-1", T0), withdrawn), now=T0 + 3 * DAY)
    assert templates(result) == ["vip-hello"]
    suppressed = [e for e in result.events if isinstance(e, ev.MessageSuppressed)]
    assert [(e.step_id, e.reason) for e in suppressed] == [("perks", "consent_withdrawn")]
    never = run(events=(entered("c-1", T0),), customers=[facts(consent_email=False)])
    assert [e.reason for e in never.events if isinstance(e, ev.MessageSuppressed)] == ["no_consent"]


@pytest.mark.parametrize("grant_first", [True, False])
def test_a_grant_and_a_withdrawal_at_one_instant_count_as_a_withdrawal(grant_first: bool) -> None:
    changes = [
        ConsentChanged(aggregate_id="c-1", occurred_at=T0 + DAY, channel="email", granted=g)
        for g in ((True, False) if grant_first else (False, True))
    ]
    result = run(events=(entered("c-1", T0), *changes), now=T0 + 3 * DAY)
    assert templates(result) == ["vip-hello"]
    suppressed = [e for e in result.events if isinstance(e, ev.MessageSuppressed)]
    assert [(e.step_id, e.reason) for e in suppressed] == [("perks", "consent_withdrawn")]


# -- quiet hours, limits, lateness ---------------------------------------------------------------


def test_quiet_hours_hold_a_message_until_they_end_in_the_customers_zone() -> None:
    rails = Guardrails(quiet_hours=QuietHours(time(21), time(8)), max_lateness=None)
    late = T0.replace(hour=14)  # 22:00 in Shanghai
    result = run(
        events=(entered("c-1", late),),
        now=late + DAY,
        guardrails=rails,
        customers=[facts(**{"attr.time_zone": "Asia/Shanghai"})],
    )
    (held,) = [e for e in result.events if isinstance(e, ev.MessageDeferred)]
    assert (held.reason, held.until) == ("quiet_hours", late.replace(hour=0) + DAY)
    (sent,) = result.actions
    assert sent.occurred_at == held.until  # 08:00 in Shanghai
    waits = [c for c in result.enrolments[0].history if c.reason == WaitReason.QUIET_HOURS.value]
    assert len(waits) == 1


def test_a_send_limit_holds_messages_for_the_next_window() -> None:
    rails = Guardrails(send_limits=[SendLimit(2, timedelta(hours=1))], max_lateness=None)
    people = [facts(f"c-{i}") for i in range(3)]
    result = run(
        events=tuple(entered(f"c-{i}", T0) for i in range(3)),
        guardrails=rails,
        customers=people,
        now=T0 + timedelta(minutes=90),
    )
    hello = sorted((a.occurred_at, a.customer_id) for a in result.actions if a.step_id == "hello")
    assert hello == [(T0, "c-0"), (T0, "c-1"), (T0 + timedelta(hours=1), "c-2")]
    # The full window has ended and is dropped; the next one holds the message it took.
    assert [(c.start, c.count) for c in result.send_counts.windows] == [
        (T0 + timedelta(hours=1), 1)
    ]


def test_a_late_run_sends_at_now_not_in_the_past() -> None:
    rails = Guardrails(quiet_hours=QuietHours(time(21), time(8)), max_lateness=timedelta(hours=1))
    first = run(events=(entered("c-1", T0),))
    noon = T0.replace(hour=12) + 5 * DAY
    late = run(enrolments=first.enrolments, now=noon, guardrails=rails)
    assert [a.occurred_at for a in late.actions] == [noon]
    night = T0.replace(hour=23) + 5 * DAY
    held = run(enrolments=first.enrolments, now=night, guardrails=rails)
    assert held.actions == () and held.enrolments[0].wait_reason is WaitReason.QUIET_HOURS


# -- time triggers --------------------------------------------------------------------------------


def test_a_birthday_fires_once_at_its_local_time() -> None:
    birthday = flow(
        id="birthday",
        trigger=DateTrigger("birth_date", at=time(10)),
        steps=[IssueCoupon("gift", "birthday-coupon")],
        reenrolment=Reenrolment.after(timedelta(days=300)),
        goal=None,
    )
    person = facts(birth_date=date(1990, 5, 5), **{"attr.time_zone": "Europe/Berlin"})
    first = run(birthday, customers=[person], now=T0 + 2 * DAY, since=T0)
    (gift,) = first.actions
    assert gift.occurred_at == T0.replace(day=5, hour=8)  # 10:00 CEST
    again = run(birthday, enrolments=first.enrolments, customers=[person], now=T0 + 3 * DAY)
    assert again.actions == () and again.enrolments == ()


def test_holidays_and_inactivity_fire_from_the_record() -> None:
    holiday = flow(
        id="holiday",
        trigger=HolidayTrigger({date(2026, 5, 5)}, at=time(9)),
        steps=[AddTag("greeted", "may-5")],
        goal=None,
    )
    idle = flow(id="idle", trigger=InactivityTrigger(30), steps=[AddTag("idle", "idle")], goal=None)
    person = facts(last_purchase_at=T0 - timedelta(days=29))
    result = run(holiday, idle, customers=[person], now=T0 + 2 * DAY, since=T0)
    assert sorted((a.workflow_id, a.occurred_at) for a in result.actions) == [
        ("holiday", T0.replace(day=5, hour=9)),
        ("idle", T0 + DAY),
    ]


# -- entering other workflows ---------------------------------------------------------------------


def test_a_step_enters_another_workflow() -> None:
    parent = flow(steps=[EnterWorkflow("to-child", "child"), AddTag("after", "parent-done")])
    child = flow(
        id="child", trigger=SegmentTrigger("never"), steps=[AddTag("hi", "child")], goal=None
    )
    result = run(parent, child, events=(entered("c-1", T0),))
    assert [(a.workflow_id, a.tag) for a in result.actions] == [  # type: ignore[attr-defined]
        ("vip-welcome", "parent-done"),
        ("child", "child"),
    ]
    kid = next(e for e in result.enrolments if e.workflow_id == "child")
    assert kid.source == "workflow:vip-welcome"
    refused = flow(
        id="child",
        trigger=SegmentTrigger("never"),
        steps=[AddTag("hi", "child")],
        goal=None,
        conditions='country = "CN"',
    )
    blocked = run(parent, refused, events=(entered("c-1", T0),))
    history = blocked.enrolments[0].history
    assert (history[0].outcome.value, history[0].reason) == (  # type: ignore[union-attr]
        "not_entered",
        "conditions_not_met",
    )


# -- determinism and ticking ---------------------------------------------------------------------


def test_the_order_of_the_inputs_does_not_matter() -> None:
    events = [entered(f"c-{i}", T0 + timedelta(minutes=i % 3)) for i in range(6)]
    people = [facts(f"c-{i}") for i in range(6)]
    one = run(events=tuple(events), customers=people, now=T0 + 3 * DAY)
    shuffled = list(events)
    random.Random(4).shuffle(shuffled)
    two = run(events=tuple(shuffled), customers=list(reversed(people)), now=T0 + 3 * DAY)
    assert one == two


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(1, 6 * 24 * 60), max_size=6))
def test_ticking_often_or_once_gives_the_same_actions(cuts: list[int]) -> None:
    catalog = WorkflowCatalog(
        [
            flow(),
            flow(
                id="birthday",
                trigger=DateTrigger("birth_date"),
                steps=[AddTag("b", "bday")],
                goal=None,
            ),
        ]
    )
    rails = Guardrails(quiet_hours=QuietHours(time(21), time(8)), max_lateness=None)
    people = [facts(birth_date=date(1990, 5, 6)), facts("c-2", birth_date=date(1980, 5, 8))]
    events = [entered("c-1", T0 + timedelta(hours=15)), entered("c-2", T0 + 2 * DAY)]
    end = T0 + 7 * DAY
    once = advance([], events, end, since=T0, workflows=catalog, customers=people, guardrails=rails)
    ticks = sorted({T0 + timedelta(minutes=m) for m in cuts} | {end})
    enrolments: dict[str, object] = {}
    actions: list[object] = []
    since = T0
    for now in ticks:
        due = [e for e in events if since < e.occurred_at <= now]
        step = advance(
            list(enrolments.values()),
            due,
            now,
            since=since,
            workflows=catalog,  # type: ignore[arg-type]
            customers=people,
            guardrails=rails,
        )
        enrolments.update({e.id: e for e in step.enrolments})
        actions.extend(step.actions)
        since = now
    assert sorted(actions, key=lambda a: (a.occurred_at, a.idempotency_key)) == sorted(  # type: ignore[attr-defined]
        once.actions, key=lambda a: (a.occurred_at, a.idempotency_key)
    )
    assert len(once.actions) == 6  # two welcomes of two messages, two birthdays


# -- bad input -------------------------------------------------------------------------------------


def test_bad_input_names_what_is_wrong() -> None:
    with pytest.raises(NotFoundError, match="customer facts"):
        run(events=(entered("c-9", T0),))
    with pytest.raises(ValidationError, match="after now"):
        run(events=(entered("c-1", T0 + DAY),))
    first = run(events=(entered("c-1", T0),))
    with pytest.raises(NotFoundError, match="vip-welcome@1"):
        run(flow(version=2), enrolments=first.enrolments)
    with pytest.raises(ValidationError, match="workflows"):
        advance([], [], T0, workflows=[flow()], customers=[])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="requests"):
        run(requests=[EnrolRequest("vip-welcome", "c-1", T0 + DAY)])
    with pytest.raises(ValidationError, match="since"):
        run(since=T0 + DAY)
    with pytest.raises(ValidationError, match="customers"):
        run(customers=[facts(), facts()])


def test_results_serialise_and_render() -> None:
    result = run(events=(entered("c-1", T0),))
    data = result.to_dict()
    assert data["counts"] == {
        "marketing.workflow.enrolled": 1,
        "marketing.workflow.send_message": 1,
    }
    assert data["actions"][0]["idempotency_key"] == "vip-welcome:1:c-1/hello"  # type: ignore[index]
    assert "send_message" in result._repr_html_()
