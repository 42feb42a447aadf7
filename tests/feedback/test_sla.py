"""SLA clocks from case history: business time, pauses, breaches, escalations, properties."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.feedback.calendar import BusinessCalendar
from crmcore.feedback.case_changes import FollowUp, Resolution
from crmcore.feedback.cases import Case
from crmcore.feedback.events import SlaWarning
from crmcore.feedback.sla import (
    SlaMetric,
    SlaPolicy,
    SlaStatus,
    SlaTarget,
    escalations,
    sla_status,
)
from crmcore.feedback.vocabulary import CaseTrigger
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.events import event_from_json

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
M = timedelta(minutes=1)
OFFICE = BusinessCalendar.from_hours(
    {"mon-fri": "09:00-17:00"}, timezone="Europe/Berlin", holidays=[date(2026, 3, 9)]
)
POLICY = SlaPolicy(
    name="support",
    targets=[
        SlaTarget("urgent", first_response=H, resolution=4 * H),
        SlaTarget("high", first_response=2 * H, resolution=8 * H),
        SlaTarget("normal", first_response=8 * H, resolution=24 * H),
    ],
    calendar=OFFICE,
    warn_at=0.5,
    escalate_to="team-leads",
)


def b(d: int, hh: int = 0, mm: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, d, hh, mm, tzinfo=BERLIN)


def open_case(at: datetime, priority: str = "high") -> Case:
    return Case.open("case-1", "c-1", at, priority=priority).value


def test_first_response_over_a_weekend_and_a_holiday() -> None:
    # Friday 16:30, two business hours to respond; Monday 9 March is a holiday.
    case = open_case(b(6, 16, 30))
    report = sla_status(case, POLICY, b(10, 9, 0))
    clock = report.clock("first_response")
    assert clock is not None
    assert clock.elapsed == 30 * M and clock.status is SlaStatus.RUNNING
    assert clock.time_to_breach == 90 * M
    assert clock.due_at == b(10, 10, 30)
    assert (
        sla_status(case, POLICY, b(10, 10, 29)).clock("first_response").status is SlaStatus.RUNNING
    )  # type: ignore[union-attr]
    late = sla_status(case, POLICY, b(10, 11)).clock("first_response")
    assert late is not None and late.breached and late.breached_at == b(10, 10, 30)
    assert late.time_to_breach == timedelta(0) and late.elapsed == 150 * M
    met = case.acknowledge(b(10, 9, 15)).value
    clock = sla_status(met, POLICY, b(10, 12)).clock("first_response")
    assert clock is not None and clock.status is SlaStatus.MET
    assert clock.fulfilled_at == b(10, 9, 15) and clock.elapsed == 45 * M
    assert clock.due_at is None and clock.breached_at is None


def test_case_opened_outside_hours_starts_counting_at_the_next_opening() -> None:
    case = open_case(b(8, 20), priority="urgent")  # Sunday evening; Monday is a holiday
    early = sla_status(case, POLICY, b(10, 8, 59)).clock("first_response")
    assert early is not None and early.elapsed == timedelta(0) and not early.breached
    assert early.due_at == b(10, 10)
    late = sla_status(case, POLICY, b(10, 10, 1)).clock("first_response")
    assert late is not None and late.breached_at == b(10, 10)


def test_answering_after_the_due_time_outside_hours_is_still_a_breach() -> None:
    case = open_case(b(6, 15))  # Friday 15:00, 2 business hours: due Friday 17:00
    answered = case.acknowledge(b(7, 10)).value  # Saturday
    clock = sla_status(answered, POLICY, b(7, 11)).clock("first_response")
    assert clock is not None
    assert clock.elapsed == 2 * H  # no business time passed after the due time...
    assert clock.status is SlaStatus.BREACHED and clock.breached_at == b(6, 17)  # ...yet late


def test_waiting_on_customer_pauses_the_resolution_clock() -> None:
    case = open_case(b(2, 9))  # Monday
    case = case.acknowledge(b(2, 9, 10)).value.start(b(2, 9, 20)).value
    case = case.wait_on_customer(b(2, 11)).value
    paused = sla_status(case, POLICY, b(4, 12)).clock("resolution")
    assert paused is not None and paused.status is SlaStatus.PAUSED
    assert paused.elapsed == 2 * H and paused.due_at is None
    case = case.customer_replied(b(4, 13)).value
    running = sla_status(case, POLICY, b(4, 15)).clock("resolution")
    assert running is not None and running.status is SlaStatus.RUNNING
    assert running.elapsed == 4 * H and running.due_at == b(5, 11)
    case = case.resolve(b(4, 16), root_cause="config", action_taken="fixed").value
    done = sla_status(case, POLICY, b(20, 12)).clock("resolution")
    assert done is not None and done.status is SlaStatus.MET and done.elapsed == 5 * H


def test_reopen_resumes_the_resolution_clock_and_can_breach() -> None:
    case = open_case(b(2, 9))
    case = case.acknowledge(b(2, 9)).value.start(b(2, 9)).value
    case = case.resolve(b(2, 15), root_cause="x", action_taken="y").value
    case = case.follow_up(b(3, 9), verdict="not_resolved", satisfaction=1).value  # reopens
    report = sla_status(case, POLICY, b(3, 12))
    clock = report.clock(SlaMetric.RESOLUTION)
    assert clock is not None and clock.status is SlaStatus.BREACHED
    assert clock.breached_at == b(3, 11)  # 6h Monday + 2h Tuesday
    assert report.breached
    data = report.to_dict()
    assert data["breached"] is True and data["priority"] == "high"
    clocks = data["clocks"]
    assert isinstance(clocks, list) and clocks[1]["status"] == "breached"
    assert "<table" in report._repr_html_()


def test_only_targeted_metrics_are_reported() -> None:
    policy = SlaPolicy(name="p", targets=[SlaTarget("low", first_response=H)])
    assert sla_status(open_case(b(2, 9), "low"), policy, b(2, 10)).clock("resolution") is None
    assert sla_status(open_case(b(2, 9), "urgent"), policy, b(2, 10)).clocks == ()


def test_escalation_events_dated_when_they_happened() -> None:
    case = open_case(b(6, 16, 30), priority="urgent")  # 1h first response, warn at 50 %
    events = escalations(case, POLICY, b(9, 12))  # Monday is a holiday: nothing more yet
    assert [type(e) for e in events] == [SlaWarning]
    warning = events[0]
    assert isinstance(warning, SlaWarning)
    assert warning.occurred_at == b(6, 17) and warning.due_at == b(10, 9, 30)
    assert warning.metric == "first_response" and warning.escalate_to == "team-leads"
    assert warning.fraction == 0.5 and warning.elapsed_seconds == 1800
    events = escalations(case, POLICY, b(10, 13), since=b(9, 12))
    kinds = [(e.kind, e.metric) for e in events]  # type: ignore[attr-defined]
    assert kinds == [
        ("sla.breached", "first_response"),
        ("sla.warning", "resolution"),
        ("sla.breached", "resolution"),
    ]
    # first response due Tue 09:30; resolution (4h): Fri 0.5h + Tue 09:00-12:30
    assert [e.occurred_at for e in events] == [b(10, 9, 30), b(10, 10, 30), b(10, 12, 30)]
    for event in events:
        assert event_from_json(event.kind, event.payload()) == event
    assert escalations(case, POLICY, b(10, 13), since=b(10, 13)) == ()


def test_a_met_metric_never_warns() -> None:
    case = open_case(b(2, 9), priority="urgent").acknowledge(b(2, 9, 20)).value
    events = escalations(case, POLICY, b(2, 10))
    assert all(e.metric != "first_response" for e in events)  # type: ignore[attr-defined]


def test_dst_spring_forward_week_berlin() -> None:
    night = BusinessCalendar.from_hours({"mon-sun": "00:00-06:00"}, timezone="Europe/Berlin")
    policy = SlaPolicy(
        name="night", targets=[SlaTarget("normal", first_response=6 * H)], calendar=night
    )
    case = open_case(b(29, 0), priority="normal")  # Sunday of the change: 00:00-06:00 is 5h
    clock = sla_status(case, policy, b(30, 0)).clock("first_response")
    assert clock is not None and clock.elapsed == 5 * H and clock.due_at == b(30, 1)
    assert clock.due_at == datetime(2026, 3, 29, 23, tzinfo=UTC)


def test_bad_input_is_named() -> None:
    case = open_case(b(2, 9))
    with pytest.raises(ValidationError) as info:
        sla_status(case, POLICY, datetime(2026, 3, 2, 10))
    assert info.value.field == "as_of"
    with pytest.raises(ValidationError) as info:
        sla_status("case", POLICY, b(2, 10))  # type: ignore[arg-type]
    assert info.value.field == "case"
    with pytest.raises(ValidationError) as info:
        SlaPolicy(name="p", targets=[SlaTarget("low", H), SlaTarget("low", 2 * H)])
    assert info.value.field == "targets"
    with pytest.raises(ValidationError) as info:
        SlaTarget("low", first_response=timedelta(0))
    assert info.value.field == "target"
    for bad in (0, 1, 1.5, float("nan"), True):
        with pytest.raises(ValidationError) as info:
            SlaPolicy(name="p", targets=[], warn_at=bad)
        assert info.value.field == "warn_at"
    with pytest.raises(ValidationError) as info:
        SlaPolicy(name="p", targets=[], calendar="office")  # type: ignore[arg-type]
    assert info.value.field == "calendar"
    with pytest.raises(ValidationError) as info:
        POLICY.target("high", "next_reply")
    assert info.value.field == "metric"
    with pytest.raises(ValidationError) as info:
        escalations(case, POLICY, b(2, 10), since=b(2, 11))
    assert info.value.field == "since"


def test_report_json_is_plain_data() -> None:
    case = open_case(b(2, 9)).acknowledge(b(2, 9, 30)).value
    data = sla_status(case, POLICY, b(3, 12)).to_dict()
    assert json.loads(json.dumps(data)) == data
    clocks = data["clocks"]
    assert isinstance(clocks, list)
    assert clocks[0] == {
        "metric": "first_response",
        "status": "met",
        "target_seconds": 7200.0,
        "elapsed_seconds": 1800.0,
        "time_to_breach_seconds": 5400.0,
        "used": 0.25,
        "due_at": None,
        "warn_at": None,
        "breached_at": None,
        "fulfilled_at": "2026-03-02T08:30:00+00:00",
    }


# -- properties ------------------------------------------------------------------------------------

START = b(20, 8)  # Friday before the spring-forward weekend
FACTS = {
    CaseTrigger.RESOLVE: {"resolution": Resolution("cause", "action")},
}


@st.composite
def histories(draw: st.DrawFn, start: datetime = START, span: int = 6 * 24 * 60) -> Case:
    case = Case.open("k", "c", start + timedelta(minutes=draw(st.integers(0, 600)))).value
    limit = start + timedelta(minutes=span)
    for _ in range(draw(st.integers(0, 10))):
        at = case.last_changed_at + timedelta(minutes=draw(st.integers(0, 24 * 60)))
        if at > limit:
            break
        trigger = draw(st.sampled_from(list(CaseTrigger)))
        facts: dict[str, object] = dict(FACTS.get(trigger, {}))
        if trigger is CaseTrigger.FOLLOW_UP:
            facts["follow_up"] = FollowUp(draw(st.sampled_from(["resolved", "not_resolved"])), 4)
        if trigger is CaseTrigger.ASSIGN:
            continue
        try:
            case = case.fire(trigger, at, **facts).value  # type: ignore[arg-type]
        except IllegalTransitionError:
            continue
    return case


as_of_offsets = st.integers(0, 8 * 24 * 60).map(lambda m: timedelta(minutes=m))


@settings(max_examples=60, deadline=None)
@given(histories(), as_of_offsets, as_of_offsets)
def test_elapsed_never_decreases_as_as_of_grows(case: Case, a: timedelta, b_: timedelta) -> None:
    early, late = sorted((START + a, START + b_))
    before = sla_status(case, POLICY, early)
    after = sla_status(case, POLICY, late)
    for x, y in zip(before.clocks, after.clocks, strict=True):
        assert x.elapsed <= y.elapsed
        assert x.time_to_breach >= y.time_to_breach
        if x.breached:
            assert y.breached and y.breached_at == x.breached_at


@settings(max_examples=60, deadline=None)
@given(histories(), as_of_offsets)
def test_pausing_never_adds_time(case: Case, offset: timedelta) -> None:
    as_of = START + offset
    ceiling = OFFICE.business_time(case.opened_at, as_of)
    for clock in sla_status(case, POLICY, as_of).clocks:
        assert timedelta(0) <= clock.elapsed <= ceiling
    # The same case without its waits counts at least as much.
    waiting = sum(
        (
            OFFICE.business_time(s, e)
            for st_, s, e in case.segments(as_of)
            if st_.value == "waiting_on_customer"
        ),
        timedelta(0),
    )
    resolution = sla_status(case, POLICY, as_of).clock("resolution")
    assert resolution is not None and resolution.elapsed + waiting <= ceiling


@settings(max_examples=40, deadline=None)
@given(histories(), as_of_offsets, as_of_offsets)
def test_consecutive_windows_report_each_escalation_once(
    case: Case, a: timedelta, b_: timedelta
) -> None:
    t1, t2 = sorted((START + a, START + b_))
    whole = escalations(case, POLICY, t2)
    split = escalations(case, POLICY, t1) + escalations(case, POLICY, t2, since=t1)
    assert sorted(split, key=repr) == sorted(whole, key=repr)
    assert all(e.occurred_at <= t2 for e in whole)


@settings(max_examples=40, deadline=None)
@given(histories(start=b(21, 0), span=2 * 24 * 60 - 60 * 11), st.integers(0, 23 * 60))
def test_a_case_handled_outside_business_hours_has_elapsed_zero(case: Case, minutes: int) -> None:
    # Saturday 21 March 00:00 to Sunday 22 March 23:59 Berlin: no business hours at all.
    as_of = min(case.last_changed_at + timedelta(minutes=minutes), b(22, 23, 59))
    for clock in sla_status(case, POLICY, as_of).clocks:
        assert clock.elapsed == timedelta(0)
        assert clock.status is not SlaStatus.BREACHED
