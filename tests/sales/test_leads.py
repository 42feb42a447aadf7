"""The lead aggregate: status moves, activities, details, history invariants, erasure, codec."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.customers.contact import Contact
from crmcore.kernel import codec
from crmcore.kernel.errors import IllegalTransitionError, NotFoundError, ValidationError
from crmcore.kernel.events import event_from_json
from crmcore.sales import lead_events as ev
from crmcore.sales.activities import ActivityState
from crmcore.sales.lead_history import LeadChange
from crmcore.sales.lead_machine import LeadStatus, LeadTrigger
from crmcore.sales.leads import Lead

from .lead_strategies import leads

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)


def new_lead(**kwargs: object) -> Lead:
    values: dict[str, object] = {
        "source": "web_form",
        "contact": Contact(email="ann@example.com"),
        "owner": "rep-1",
    }
    values.update(kwargs)
    return Lead.create("l-1", T0, **values).value  # type: ignore[arg-type]


def test_create_records_origin_owner_and_raises_created_then_assigned() -> None:
    outcome = Lead.create(
        "l-1", T0, source="Web Form", channel="Paid Search", campaign="spring-26", owner="rep-1"
    )
    lead = outcome.value
    assert (lead.source, lead.channel, lead.campaign, lead.owner) == (
        "web_form",
        "paid_search",
        "spring-26",
        "rep-1",
    )
    assert lead.status is LeadStatus.NEW and lead.is_open
    assert [type(e) for e in outcome.events] == [ev.LeadCreated, ev.LeadAssigned]
    assert outcome.events[0].owner == "rep-1"  # type: ignore[attr-defined]


def test_the_happy_path_to_qualified_keeps_every_move() -> None:
    lead = new_lead()
    lead = lead.work(T0 + H).value.nurture(T0 + 2 * H).value.work(T0 + D).value
    lead = lead.qualify(T0 + 2 * D).value
    assert [c.trigger for c in lead.history] == [
        LeadTrigger.ASSIGN,
        LeadTrigger.WORK,
        LeadTrigger.NURTURE,
        LeadTrigger.WORK,
        LeadTrigger.QUALIFY,
    ]
    assert lead.qualified_at == T0 + 2 * D
    assert lead.entered_at("working") == T0 + H
    assert lead.entered_at("new") == T0
    assert lead.state_at(T0 - H) is None
    assert lead.state_at(T0 + 90 * timedelta(minutes=1)) is LeadStatus.WORKING
    assert lead.state_at(T0 + 150 * timedelta(minutes=1)) is LeadStatus.NURTURING


def test_status_moves_raise_status_changed_with_the_customer_and_no_personal_data() -> None:
    lead = new_lead(customer_id="c-9", name="Ann Lee")
    outcome = lead.disqualify(T0 + H, "No Budget", note="said: call me in 2030, Ann")
    (event,) = outcome.events
    assert isinstance(event, ev.LeadStatusChanged)
    assert (event.from_state, event.to_state, event.reason, event.customer_id) == (
        LeadStatus.NEW,
        LeadStatus.DISQUALIFIED,
        "no_budget",
        "c-9",
    )
    text = str(event.payload())
    assert "Ann" not in text and "ann@example.com" not in text
    assert event_from_json(event.kind, event.payload()) == event
    assert outcome.value.disqualify_reason == "no_budget"


@pytest.mark.parametrize(
    ("prepare", "trigger", "status"),
    [
        (lambda lead: lead, "reopen", LeadStatus.NEW),
        (lambda lead: lead.disqualify(T0, "spam").value, "work", LeadStatus.DISQUALIFIED),
        (lambda lead: lead.disqualify(T0, "spam").value, "qualify", LeadStatus.DISQUALIFIED),
    ],
)
def test_a_move_the_table_does_not_have_is_refused_naming_the_status(
    prepare: object, trigger: str, status: LeadStatus
) -> None:
    lead = prepare(new_lead())  # type: ignore[operator]
    with pytest.raises(IllegalTransitionError) as error:
        lead.fire(trigger, T0 + H)
    assert error.value.from_state is status
    assert error.value.trigger is LeadTrigger(trigger)


def test_guards_refuse_with_their_reason() -> None:
    unreachable = Lead.create("l-2", T0, source="web_form").value
    with pytest.raises(IllegalTransitionError, match="can be reached"):
        unreachable.qualify(T0)
    with pytest.raises(IllegalTransitionError, match="reason code"):
        new_lead().fire("disqualify", T0)
    assert Lead.create("l-3", T0, source="x", customer_id="c-1").value.qualify(T0).value.status


def test_converting_an_unqualified_lead_is_an_illegal_transition_to_converted() -> None:
    lead = new_lead().work(T0).value
    with pytest.raises(IllegalTransitionError) as error:
        lead.mark_converted(T0 + H, customer_id="c-1", opportunity_id="o-1")
    assert (error.value.from_state, error.value.to_state) == (LeadStatus.WORKING, None)
    assert error.value.trigger is LeadTrigger.CONVERT
    with pytest.raises(IllegalTransitionError):
        lead.fire("convert", T0 + H)


def test_mark_converted_links_customer_and_opportunity_and_is_final() -> None:
    lead = new_lead().qualify(T0 + H).value
    outcome = lead.mark_converted(T0 + D, customer_id="c-1", opportunity_id="o-1")
    converted = outcome.value
    assert (converted.status, converted.customer_id, converted.opportunity_id) == (
        LeadStatus.CONVERTED,
        "c-1",
        "o-1",
    )
    assert [type(e) for e in outcome.events] == [ev.LeadStatusChanged, ev.LeadConverted]
    assert converted.converted_at == T0 + D and not converted.is_open
    with pytest.raises(IllegalTransitionError):
        converted.assign(T0 + 2 * D, "rep-2")
    with pytest.raises(IllegalTransitionError, match="converted"):
        converted.schedule("a-1", "call", T0 + 2 * D)


def test_a_lead_linked_to_a_customer_converts_to_that_customer_only() -> None:
    lead = new_lead(customer_id="c-1").qualify(T0).value
    with pytest.raises(ValidationError) as error:
        lead.mark_converted(T0, customer_id="c-2", opportunity_id="o-1")
    assert error.value.field == "customer_id"


def test_times_never_go_back() -> None:
    lead = new_lead().work(T0 + D).value
    with pytest.raises(ValidationError) as error:
        lead.nurture(T0 + H)
    assert error.value.field == "at"
    with pytest.raises(ValidationError) as naive:
        lead.nurture(datetime(2026, 3, 4, 9))
    assert naive.value.field == "at"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"source": ""}, "source"),
        ({"source": "web", "contact": "ann@example.com"}, "contact"),
        ({"source": "web", "country": "XX"}, "country"),
        ({"source": "web", "attributes": {"status": "vip"}}, "attributes.status"),
        ({"source": "web", "attributes": {"Bad Name": 1}}, "attributes"),
        ({"source": "web", "owner": "no spaces allowed"}, "owner"),
        ({"source": "web", "customer_id": ""}, "customer_id"),
    ],
)
def test_bad_details_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        Lead.create("l-1", T0, **kwargs)  # type: ignore[arg-type]
    assert error.value.field == field


def test_an_unknown_status_or_trigger_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as error:
        Lead(id="l-1", created_at=T0, source="web", status="hot")
    assert error.value.field == "status"
    with pytest.raises(ValidationError) as trigger:
        new_lead().fire("promote", T0)
    assert trigger.value.field == "trigger"


def test_a_tampered_history_is_refused_on_construction() -> None:
    lead = new_lead().work(T0 + H).value
    bad = LeadChange(at=T0 + 2 * H, trigger="convert", from_state="working", to_state="converted")
    with pytest.raises(ValidationError, match="not an allowed move"):
        attrs.evolve(lead, history=(*lead.history, bad), status="converted")
    with pytest.raises(ValidationError) as status:
        attrs.evolve(lead, status="qualified")
    assert status.value.field == "status"
    early = LeadChange(at=T0 - H, trigger="work", from_state="new", to_state="working")
    with pytest.raises(ValidationError, match="created_at"):
        attrs.evolve(lead, history=(early,), status="working")


def test_activities_schedule_complete_cancel_reschedule() -> None:
    lead = new_lead()
    lead = lead.schedule("a-1", "call", T0, due_at=T0 + 4 * H, subject="intro call").value
    assert lead.activity("a-1").owner == "rep-1"  # the lead's owner by default
    assert [a.id for a in lead.overdue_activities(T0 + 5 * H)] == ["a-1"]
    moved = lead.reschedule_activity("a-1", T0 + D, T0 + 5 * H)
    assert moved.value.overdue_activities(T0 + 5 * H) == ()
    assert moved.events[0].previous_due_at == T0 + 4 * H  # type: ignore[attr-defined]
    done = moved.value.complete_activity("a-1", T0 + 6 * H, "connected")
    assert done.value.first_touch_at == T0 + 6 * H
    assert done.events[0].first_touch  # type: ignore[attr-defined]
    again = done.value.log_activity("a-2", "email", T0 + 7 * H, "sent")
    assert not again.events[1].first_touch  # type: ignore[attr-defined]
    cancelled = again.value.schedule("a-3", "task", T0 + 8 * H).value.cancel_activity(
        "a-3", T0 + 9 * H
    )
    assert cancelled.value.activity("a-3").state is ActivityState.CANCELLED
    with pytest.raises(IllegalTransitionError):
        cancelled.value.complete_activity("a-3", T0 + 10 * H, "done")
    with pytest.raises(NotFoundError):
        lead.activity("nope")
    with pytest.raises(ValidationError) as duplicate:
        lead.schedule("a-1", "call", T0)
    assert duplicate.value.field == "activity.id"
    with pytest.raises(ValidationError) as outcome:
        lead.complete_activity("a-1", T0 + H, "held")
    assert outcome.value.field == "outcome"


def test_a_task_is_never_a_touch() -> None:
    lead = new_lead().log_activity("a-1", "task", T0 + H, "done").value
    assert lead.first_touch_at is None and lead.time_to_first_touch is None


def test_update_details_reports_the_fields_that_changed_not_their_values() -> None:
    lead = new_lead()
    outcome = lead.update_details(
        T0 + H, name="Ann  Lee", contact=Contact(email="ann@example.com"), tags=["vip"]
    )
    (event,) = outcome.events
    assert event.fields == ("name", "tags")  # type: ignore[attr-defined]
    assert outcome.value.name == "Ann Lee"
    assert lead.update_details(T0 + H, notes="").events == ()


def test_link_customer_is_idempotent_and_refuses_another_customer() -> None:
    lead = new_lead()
    linked = lead.link_customer("c-1", T0 + H)
    assert linked.value.customer_id == "c-1" and len(linked.events) == 1
    assert linked.value.link_customer("c-1", T0 + H).events == ()
    with pytest.raises(ValidationError):
        linked.value.link_customer("c-2", T0 + H)


def test_redaction_blanks_personal_data_and_keeps_what_reports_need() -> None:
    lead = new_lead(name="Ann Lee", company="Lee & Co", country="DE", notes="met at fair")
    lead = lead.log_activity(
        "a-1", "call", T0 + H, "connected", subject="ann's mobile", note="x"
    ).value
    lead = lead.disqualify(T0 + D, "no_budget", note="Ann has no money").value
    outcome = lead.erase(T0 + 2 * D)
    erased = outcome.value
    assert erased.erased and isinstance(outcome.events[0], ev.LeadRedacted)
    assert (erased.name, erased.company, erased.contact, erased.country) == (
        None,
        None,
        Contact(),
        None,
    )
    assert erased.notes == "" and all(c.note == "" for c in erased.history)
    assert erased.activities[0].subject == "" and erased.activities[0].note == ""
    assert erased.status is lead.status and erased.first_touch_at == lead.first_touch_at
    assert erased.disqualify_reason == "no_budget" and erased.source == lead.source
    assert "Ann" not in str(codec.encode(erased, Lead))
    with pytest.raises(IllegalTransitionError, match="erased"):
        erased.reopen(T0 + 3 * D)


def test_the_codec_round_trips_a_lead_with_everything() -> None:
    lead = new_lead(name="Ann", tags=["vip"], attributes={"employees": 120, "industry": "saas"})
    lead = lead.schedule("a-1", "meeting", T0, due_at=T0 + D).value.qualify(T0 + H).value
    assert codec.decode(Lead, codec.encode(lead, Lead)) == lead


def replay(lead: Lead, when: datetime) -> LeadStatus | None:
    """The status at ``when`` by replaying the history from the start."""
    if when < lead.created_at:
        return None
    status = LeadStatus.NEW
    for change in lead.history:
        if change.at <= when:
            assert change.from_state is status  # each change starts where the last ended
            status = change.to_state
    return status


@settings(max_examples=150, deadline=None)
@given(leads(), st.lists(st.integers(-2 * 24 * 60, 40 * 24 * 60), max_size=6))
def test_state_at_agrees_with_replaying_the_history(lead: Lead, minutes: list[int]) -> None:
    instants = [lead.created_at + timedelta(minutes=m) for m in minutes]
    for change in lead.history:
        instants += [change.at, change.at - timedelta(microseconds=1)]
    for when in instants:
        assert lead.state_at(when) is replay(lead, when)
    times = [c.at for c in lead.history]
    assert times == sorted(times) and all(t >= lead.created_at for t in times)
    assert replay(lead, lead.last_changed_at) is lead.status
    assert codec.decode(Lead, codec.encode(lead, Lead)) == lead


@settings(max_examples=100, deadline=None)
@given(leads(), st.integers(0, 20 * 24))
def test_entered_at_is_the_first_change_into_the_status(lead: Lead, hours: int) -> None:
    for status in LeadStatus:
        entered = lead.entered_at(status)
        if entered is not None and status is not LeadStatus.NEW:
            assert lead.state_at(entered) is not None
            firsts = [c.at for c in lead.history if c.to_state is status]
            assert entered == firsts[0]
    when = lead.created_at + timedelta(hours=hours)
    assert (lead.state_at(when) is None) == (when < lead.created_at)


def test_no_event_of_a_whole_life_carries_personal_data() -> None:
    secret = ("Zed Quux", "zed@example.com", "+4915199999999", "Quux GmbH", "private note")
    outcome = Lead.create(
        "l-9",
        T0,
        source="web",
        name=secret[0],
        company=secret[3],
        owner="rep-1",
        contact=Contact(email=secret[1], phone=secret[2]),
        notes=secret[4],
    )
    events = list(outcome.events)
    lead = outcome.value
    steps = [
        lambda x: x.schedule("a-1", "call", T0 + H, due_at=T0 + 2 * H, subject=secret[4]),
        lambda x: x.complete_activity("a-1", T0 + 3 * H, "connected", note=secret[4]),
        lambda x: x.update_details(T0 + 4 * H, name="Zed Q", notes=secret[4] + "!"),
        lambda x: x.work(T0 + 5 * H, note=secret[4]),
        lambda x: x.qualify(T0 + 6 * H),
        lambda x: x.mark_converted(T0 + 7 * H, customer_id="c-1", opportunity_id="o-1"),
        lambda x: x.erase(T0 + 8 * H),
    ]
    for step in steps:
        moved = step(lead)
        lead, events = moved.value, events + list(moved.events)
    assert len({type(e) for e in events}) >= 8
    for raised in events:
        text = str(raised.payload())
        assert not any(s in text for s in secret), raised
        assert event_from_json(raised.kind, raised.payload()) == raised
