"""A stateful hypothesis test of the case machine against an independent model of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from crmcore.feedback.case_changes import Assignment, FollowUp, Resolution
from crmcore.feedback.case_machine import CasePolicy
from crmcore.feedback.cases import Case
from crmcore.feedback.vocabulary import CaseState, CaseTrigger
from crmcore.kernel import codec
from crmcore.kernel.errors import IllegalTransitionError

S = CaseState
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
WINDOW = timedelta(days=2)
POLICY = CasePolicy(reopen_window=WINDOW)

steps = st.integers(0, 3 * 24 * 60).map(lambda m: timedelta(minutes=m))
follow_ups = st.builds(FollowUp, st.sampled_from(["resolved", "not_resolved"]), st.integers(1, 5))
resolutions = st.none() | st.just(Resolution("root_cause", "fixed it"))


class CaseMachine(RuleBasedStateMachine):
    """Random triggers; the model says which are allowed and where they lead."""

    def __init__(self) -> None:
        super().__init__()
        self.case = Case.open("case-1", "c-1", T0).value
        self.now = T0
        self.state = S.NEW
        self.resolved_at: datetime | None = None
        self.verified = False
        self.accepted = 0

    def expect(
        self, trigger: CaseTrigger, at: datetime, follow_up: FollowUp | None, res: Resolution | None
    ) -> CaseState | None:
        s = self.state
        if trigger is CaseTrigger.ASSIGN:
            return s if s is not S.CLOSED else None
        if trigger is CaseTrigger.ACKNOWLEDGE:
            return S.ACKNOWLEDGED if s is S.NEW else None
        if trigger is CaseTrigger.START:
            return S.IN_PROGRESS if s is S.ACKNOWLEDGED else None
        if trigger is CaseTrigger.WAIT_ON_CUSTOMER:
            return S.WAITING_ON_CUSTOMER if s is S.IN_PROGRESS else None
        if trigger is CaseTrigger.CUSTOMER_REPLIED:
            return S.IN_PROGRESS if s is S.WAITING_ON_CUSTOMER else None
        if trigger is CaseTrigger.RESOLVE:
            ok = s in (S.IN_PROGRESS, S.WAITING_ON_CUSTOMER) and res is not None
            return S.RESOLVED if ok else None
        if trigger is CaseTrigger.FOLLOW_UP:
            if s is not S.RESOLVED or follow_up is None:
                return None
            unhappy = follow_up.verdict.value == "not_resolved" or follow_up.satisfaction <= 2
            return S.IN_PROGRESS if unhappy else S.RESOLVED
        if trigger is CaseTrigger.CLOSE:
            return S.CLOSED if s is S.RESOLVED and self.verified else None
        assert trigger is CaseTrigger.REOPEN
        assert self.resolved_at is not None or s not in (S.RESOLVED, S.CLOSED)
        ok = s in (S.RESOLVED, S.CLOSED) and at - self.resolved_at <= WINDOW  # type: ignore[operator]
        return S.IN_PROGRESS if ok else None

    @rule(
        trigger=st.sampled_from(list(CaseTrigger)),
        step=steps,
        follow_up=follow_ups,
        resolution=resolutions,
    )
    def fire(
        self,
        trigger: CaseTrigger,
        step: timedelta,
        follow_up: FollowUp,
        resolution: Resolution | None,
    ) -> None:
        self.apply(trigger, step, follow_up, resolution)

    @rule(step=steps, follow_up=follow_ups)
    def advance(self, step: timedelta, follow_up: FollowUp) -> None:
        """The next step along the happy path, so that long loops (and closing) are reached."""
        nxt = {
            S.NEW: CaseTrigger.ACKNOWLEDGE,
            S.ACKNOWLEDGED: CaseTrigger.START,
            S.IN_PROGRESS: CaseTrigger.RESOLVE,
            S.WAITING_ON_CUSTOMER: CaseTrigger.CUSTOMER_REPLIED,
            S.RESOLVED: CaseTrigger.CLOSE if self.verified else CaseTrigger.FOLLOW_UP,
            S.CLOSED: CaseTrigger.REOPEN,
        }[self.state]
        self.apply(nxt, step // 4, follow_up, Resolution("root_cause", "fixed it"))

    def apply(
        self,
        trigger: CaseTrigger,
        step: timedelta,
        follow_up: FollowUp,
        resolution: Resolution | None,
    ) -> None:
        at = self.now + step
        fu = follow_up if trigger is CaseTrigger.FOLLOW_UP else None
        res = resolution if trigger is CaseTrigger.RESOLVE else None
        assignment = Assignment("agent-1", "team-a") if trigger is CaseTrigger.ASSIGN else None
        expected = self.expect(trigger, at, fu, res)
        before = self.case
        try:
            outcome = self.case.fire(
                trigger, at, policy=POLICY, follow_up=fu, resolution=res, assignment=assignment
            )
        except IllegalTransitionError:
            outcome = None
        if outcome is None:
            assert expected is None, f"{trigger} refused in {self.state}"
            assert self.case is before and len(before.history) == self.accepted
            return
        assert expected is not None, f"{trigger} accepted in {self.state}"
        assert outcome.value.state is expected
        assert outcome.events, "every accepted move raises an event"
        assert before.state is self.state  # the old value did not change
        self.case, self.now, self.accepted = outcome.value, at, self.accepted + 1
        if trigger is CaseTrigger.RESOLVE:
            self.resolved_at, self.verified = at, False
        elif trigger is CaseTrigger.FOLLOW_UP:
            self.verified = expected is S.RESOLVED
        elif trigger is CaseTrigger.REOPEN:
            self.verified = False
        self.state = expected
        event(f"reached {expected.value}")

    @rule()
    def round_trip(self) -> None:
        assert codec.decode(Case, codec.encode(self.case, Case)) == self.case

    @invariant()
    def state_matches_model(self) -> None:
        assert self.case.state is self.state
        assert len(self.case.history) == self.accepted

    @invariant()
    def history_is_monotone_and_chained(self) -> None:
        previous_at, previous_state = self.case.opened_at, S.NEW
        for change in self.case.history:
            assert change.at >= previous_at
            assert change.from_state is previous_state
            previous_at, previous_state = change.at, change.to_state

    @invariant()
    def closed_only_with_a_verified_follow_up(self) -> None:
        if self.case.state is not S.CLOSED:
            return
        last_resolve = max(
            i for i, c in enumerate(self.case.history) if c.trigger is CaseTrigger.RESOLVE
        )
        later = [c.follow_up for c in self.case.history[last_resolve:] if c.follow_up]
        assert later and not later[-1].unhappy


CaseMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
test_case_machine = CaseMachine.TestCase
