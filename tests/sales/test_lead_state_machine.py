"""A stateful hypothesis test of the lead: random operations against an independent model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from crmcore.customers.contact import Contact
from crmcore.kernel import codec
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.sales import lead_events as ev
from crmcore.sales.activities import OUTCOMES, ActivityKind
from crmcore.sales.lead_machine import LeadStatus
from crmcore.sales.leads import Lead

S = LeadStatus
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
OPEN = {S.NEW, S.WORKING, S.NURTURING, S.QUALIFIED}
# the lead table written out again, independently: trigger -> {source: target}
MODEL = {
    "work": {S.NEW: S.WORKING, S.NURTURING: S.WORKING, S.QUALIFIED: S.WORKING},
    "nurture": {S.NEW: S.NURTURING, S.WORKING: S.NURTURING, S.QUALIFIED: S.NURTURING},
    "qualify": {S.NEW: S.QUALIFIED, S.WORKING: S.QUALIFIED, S.NURTURING: S.QUALIFIED},
    "disqualify": dict.fromkeys(OPEN, S.DISQUALIFIED),
    "reopen": {S.DISQUALIFIED: S.WORKING},
    "assign": {s: s for s in OPEN},
}
steps = st.integers(0, 3 * 24 * 60).map(lambda m: timedelta(minutes=m))


class LeadMachine(RuleBasedStateMachine):
    """Random moves; the model says which are allowed and where they lead."""

    def __init__(self) -> None:
        super().__init__()
        self.lead = Lead.create("l-1", T0, source="web_form").value
        self.now = T0
        self.status = S.NEW
        self.reachable = False
        self.owner: str | None = None
        self.moves = 0
        self.open_activities: set[str] = set()

    def expect(self, trigger: str, reason: str | None) -> LeadStatus | None:
        target = MODEL[trigger].get(self.status)
        if trigger == "qualify" and not self.reachable:
            return None
        if trigger == "disqualify" and reason is None:
            return None
        return target

    @rule(
        trigger=st.sampled_from(sorted(MODEL)),
        step=steps,
        reason=st.none() | st.sampled_from(["no_budget", "spam"]),
        owner=st.none() | st.sampled_from(["rep-1", "rep-2"]),
    )
    def fire(self, trigger: str, step: timedelta, reason: str | None, owner: str | None) -> None:
        at = self.now + step
        expected = self.expect(trigger, reason)
        before = self.lead
        try:
            outcome = self.lead.fire(trigger, at, reason=reason, owner=owner)
        except IllegalTransitionError:
            assert expected is None, f"{trigger} refused in {self.status}"
            assert self.lead is before
            return
        assert expected is not None, f"{trigger} accepted in {self.status}"
        assert outcome.value.status is expected
        (raised,) = outcome.events
        if trigger == "assign":
            assert isinstance(raised, ev.LeadAssigned) and raised.previous == self.owner
            self.owner = owner
        else:
            assert isinstance(raised, ev.LeadStatusChanged) and raised.to_state is expected
        self.lead, self.now, self.status = outcome.value, at, expected
        self.moves += 1
        event(f"reached {expected.value}")

    @rule(step=steps)
    def convert(self, step: timedelta) -> None:
        at = self.now + step
        try:
            outcome = self.lead.mark_converted(at, customer_id="c-1", opportunity_id="o-1")
        except IllegalTransitionError:
            assert self.status is not S.QUALIFIED
            return
        assert self.status is S.QUALIFIED
        assert [type(e) for e in outcome.events] == [ev.LeadStatusChanged, ev.LeadConverted]
        self.lead, self.now, self.status = outcome.value, at, S.CONVERTED
        self.moves += 1
        event("converted")

    @rule(email=st.booleans())
    def change_contact(self, email: bool) -> None:
        contact = Contact(email="ann@example.com") if email else Contact()
        self.lead = self.lead.update_details(self.now, contact=contact).value
        self.reachable = email

    @rule(kind=st.sampled_from(list(ActivityKind)), step=steps, done=st.booleans())
    def add_activity(self, kind: ActivityKind, step: timedelta, done: bool) -> None:
        at = self.now + step
        number = f"a{len(self.lead.activities)}"
        try:
            if done:
                outcome = self.lead.log_activity(number, kind, at, OUTCOMES[kind][0])
            else:
                outcome = self.lead.schedule(number, kind, at, due_at=at + timedelta(hours=4))
        except IllegalTransitionError:
            assert self.status is S.CONVERTED
            return
        assert self.status is not S.CONVERTED
        self.lead, self.now = outcome.value, at
        if not done:
            self.open_activities.add(number)

    @rule(step=steps, cancel=st.booleans())
    def close_activity(self, step: timedelta, cancel: bool) -> None:
        if not self.open_activities:
            return
        target = sorted(self.open_activities)[0]
        at = self.now + step
        kind = self.lead.activity(target).kind
        if cancel:
            self.lead = self.lead.cancel_activity(target, at).value
        else:
            self.lead = self.lead.complete_activity(target, at, OUTCOMES[kind][-1]).value
        self.now = at
        self.open_activities.discard(target)

    @rule()
    def stale_times_are_refused(self) -> None:
        if not self.lead.history or self.lead.last_changed_at == T0:
            return
        try:
            self.lead.fire("assign", self.lead.last_changed_at - timedelta(seconds=1))
        except (ValidationError, IllegalTransitionError):
            return
        raise AssertionError("a move before the latest change was accepted")

    @invariant()
    def status_and_history_match_the_model(self) -> None:
        assert self.lead.status is self.status
        assert self.lead.owner == self.owner
        non_assign = [c for c in self.lead.history if c.trigger.value != "assign"]
        assert len(self.lead.history) == self.moves
        for change in non_assign:
            assert change.from_state is not change.to_state
        assert {a.id for a in self.lead.open_activities} == self.open_activities

    @invariant()
    def state_at_replays_the_history(self) -> None:
        status = S.NEW
        for change in self.lead.history:
            assert change.from_state is status
            assert self.lead.state_at(change.at) is not None
            status = change.to_state
        assert self.lead.state_at(self.now + timedelta(days=365)) is status

    @rule()
    def round_trip(self) -> None:
        assert codec.decode(Lead, codec.encode(self.lead, Lead)) == self.lead


TestLeadMachine = LeadMachine.TestCase
TestLeadMachine.settings = settings(max_examples=100, stateful_step_count=30, deadline=None)
