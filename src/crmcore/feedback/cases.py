"""The case aggregate: one customer issue followed through the closed loop.

A [`Case`][crmcore.feedback.cases.Case] follows one piece of feedback (or any customer issue)
through the inner loop (DOMAIN.md §6; PEERS.md §5.1, Qmeter and Sprinklr): opened, acknowledged,
worked, resolved with a root cause, followed up with the customer and closed only when the customer
is satisfied. Its moves are the rows of the case machine
([`crmcore.feedback.case_machine`][crmcore.feedback.case_machine], where the table and the rules its
guards enforce are written down); its history is a tuple of
[`CaseChange`][crmcore.feedback.case_changes.CaseChange].

Every change is kept in `Case.history` with its time; times never go
back. Misuse raises [`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError]
naming the state, the trigger or target, and the rule that forbids it;
nothing changes (operations return new values in an
[`Outcome`][crmcore.kernel.events.Outcome]).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from crmcore.customers.records import normalize_slug
from crmcore.feedback import events as ev
from crmcore.feedback.case_changes import (
    ERASED_TEXT,
    Assignment,
    CaseChange,
    FollowUp,
    Resolution,
    last_follow_up,
    resolved_at,
)
from crmcore.feedback.case_machine import (
    DEFAULT_CASE_POLICY,
    MACHINE,
    CasePolicy,
    CaseTransition,
    GuardContext,
)
from crmcore.feedback.vocabulary import CaseState, CaseTrigger, Priority, Verdict
from crmcore.kernel import machine, validators
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.ids import CustomerId, validate_id
from crmcore.kernel.ids import customer_id as to_customer_id
from crmcore.kernel.machine import parse_member

__all__ = ["Case"]


# -- the aggregate ------------------------------------------------------------------------------


def _state(value: object) -> CaseState:
    return parse_member(CaseState, value, "state")


def _first_allowed(
    state: CaseState, trigger: CaseTrigger, context: GuardContext
) -> CaseTransition | None:
    """The first row for ``trigger`` in ``state`` whose guard holds (``None``: none)."""
    for row in MACHINE.rows_on(state, trigger):
        if row.allows(context):
            return row
    return None


def _case_id(value: object) -> str:
    return validate_id(value, "id")


def _customer(value: object) -> CustomerId:
    return to_customer_id(value)


def _opened_at(value: object) -> datetime:
    return to_utc(value, "opened_at")


def _priority(value: object) -> Priority:
    return Priority.parse(value)


def _feedback_id(value: object) -> str | None:
    return None if value is None else validate_id(value, "feedback_id")


def _rule_names(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("rules", value, "must be a sequence of rule names")
    return tuple(normalize_slug(v, "rules") for v in value)


def _changes(value: object) -> tuple[CaseChange, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("history", value, "must be a sequence of CaseChange")
    changes = tuple(value)
    for i, change in enumerate(changes):
        if not isinstance(change, CaseChange):
            raise ValidationError(f"history[{i}]", change, "must be a CaseChange")
    return changes


@attrs.frozen(kw_only=True)
class Case:
    """A closed-loop case: its current ``state`` and the ``history`` that led there.

    Open one with [`open()`][crmcore.feedback.cases.Case.open] (or
    [`crmcore.feedback.rules.open_case_for()`][crmcore.feedback.rules.open_case_for]); change it
    with the trigger methods ([`acknowledge()`][crmcore.feedback.cases.Case.acknowledge],
    [`start()`][crmcore.feedback.cases.Case.start],
    [`wait_on_customer()`][crmcore.feedback.cases.Case.wait_on_customer],
    [`customer_replied()`][crmcore.feedback.cases.Case.customer_replied],
    [`resolve()`][crmcore.feedback.cases.Case.resolve],
    [`follow_up()`][crmcore.feedback.cases.Case.follow_up],
    [`close()`][crmcore.feedback.cases.Case.close],
    [`reopen()`][crmcore.feedback.cases.Case.reopen],
    [`assign()`][crmcore.feedback.cases.Case.assign]) or
    [`fire()`][crmcore.feedback.cases.Case.fire]; each returns an
    [`Outcome`][crmcore.kernel.events.Outcome] with the new case and its events. The history is
    re-checked on construction (also when decoded from storage): it starts at ``new``, each change
    starts where the previous ended, is a row of
    [`CASE_TRANSITIONS`][crmcore.feedback.CASE_TRANSITIONS] whose policy-independent guard holds,
    times never go back (nor before ``opened_at``), and ``state`` is where the history ends.

    Examples:
        >>> from datetime import UTC, datetime, timedelta
        >>> t = datetime(2026, 3, 2, 9, tzinfo=UTC)
        >>> case = Case.open("case-1", "c-1", t, priority="high").value
        >>> case = case.acknowledge(t + timedelta(minutes=5)).value
        >>> case.state, case.acknowledged_at
        (<CaseState.ACKNOWLEDGED: 'acknowledged'>, datetime.datetime(2026, 3, 2, 9, 5, tzinfo=...))
        >>> case.close(t + timedelta(hours=1))
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.IllegalTransitionError: cannot go from acknowledged on 'close': ...
    """

    id: str = attrs.field(converter=_case_id)
    customer_id: CustomerId = attrs.field(converter=_customer)
    opened_at: datetime = attrs.field(converter=_opened_at)
    priority: Priority = attrs.field(default=Priority.NORMAL, converter=_priority)
    state: CaseState = attrs.field(default=CaseState.NEW, converter=_state)
    history: tuple[CaseChange, ...] = attrs.field(default=(), converter=_changes)
    feedback_id: str | None = attrs.field(default=None, converter=_feedback_id)
    rules: tuple[str, ...] = attrs.field(default=(), converter=_rule_names)
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        def is_a_row(i: int, change: CaseChange) -> None:
            # The policy in force then is not stored: policy guards pass (GuardContext).
            context = GuardContext(change.from_state, self.history[:i], change, None)
            row = _first_allowed(change.from_state, change.trigger, context)
            if row is None or row.target is not change.to_state:
                raise ValidationError(
                    f"history[{i}]", change.trigger.value, "is not an allowed transition"
                )

        state = machine.check_history(
            self.history,
            CaseState.NEW,
            start=self.opened_at,
            start_name="opened_at",
            rule=is_a_row,
        )
        if self.state is not state:
            raise ValidationError("state", self.state, f"must be {state}, where history ends")

    # -- queries ---------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        """Whether the case is not closed."""
        return self.state is not CaseState.CLOSED

    @property
    def assignment(self) -> Assignment:
        """The current owner (the latest ``assign`` change; unassigned if none)."""
        for change in reversed(self.history):
            if change.assignment is not None:
                return change.assignment
        return Assignment()

    @property
    def assignee(self) -> str | None:
        """The current assignee, if any."""
        return self.assignment.assignee

    @property
    def team(self) -> str | None:
        """The current team, if any."""
        return self.assignment.team

    def _first(self, trigger: CaseTrigger) -> CaseChange | None:
        return next((c for c in self.history if c.trigger is trigger), None)

    def _latest(self, trigger: CaseTrigger) -> CaseChange | None:
        return next((c for c in reversed(self.history) if c.trigger is trigger), None)

    @property
    def acknowledged_at(self) -> datetime | None:
        """When the case was first acknowledged (the first response)."""
        change = self._first(CaseTrigger.ACKNOWLEDGE)
        return change.at if change else None

    @property
    def resolved_at(self) -> datetime | None:
        """When the case was last resolved, while it is resolved or closed (else ``None``)."""
        return resolved_at(self.state, self.history)

    @property
    def closed_at(self) -> datetime | None:
        """When the case was closed, while it is closed (else ``None``)."""
        if self.state is not CaseState.CLOSED:
            return None
        change = self._latest(CaseTrigger.CLOSE)
        return change.at if change else None

    @property
    def resolution(self) -> Resolution | None:
        """The resolution recorded on the latest ``resolve``, if any."""
        change = self._latest(CaseTrigger.RESOLVE)
        return change.resolution if change else None

    @property
    def last_follow_up(self) -> FollowUp | None:
        """The latest follow-up recorded after the latest resolution (``None`` if none yet)."""
        return last_follow_up(self.history)

    @property
    def follow_ups(self) -> tuple[FollowUp, ...]:
        """Every follow-up, oldest first."""
        return tuple(c.follow_up for c in self.history if c.follow_up is not None)

    @property
    def reopen_count(self) -> int:
        """How often the case went back to work after a resolution (reopen or unhappy follow-up)."""
        return sum(
            1
            for c in self.history
            if c.to_state is CaseState.IN_PROGRESS
            and c.from_state in (CaseState.RESOLVED, CaseState.CLOSED)
        )

    @property
    def loop_closed(self) -> bool:
        """Whether the case is closed (which implies a verified, satisfied follow-up)."""
        return self.state is CaseState.CLOSED

    @property
    def last_changed_at(self) -> datetime:
        """The time of the latest change (``opened_at`` if none)."""
        return self.history[-1].at if self.history else self.opened_at

    def redacted(self) -> Case:
        """This case without free text, for a customer's erasure.

        Transition notes are blanked and the action taken becomes
        ``"(erased)"``; states, times, assignments, root-cause codes and
        follow-up verdicts stay, so the metrics and the outer loop still count it.
        """
        history = tuple(
            attrs.evolve(
                change,
                note="",
                resolution=None
                if change.resolution is None
                else Resolution(change.resolution.root_cause, ERASED_TEXT),
            )
            for change in self.history
        )
        return self if history == self.history else attrs.evolve(self, history=history)

    def state_at(self, when: datetime) -> CaseState | None:
        """The state as of ``when`` (``None`` before the case was opened)."""
        instant = to_utc(when, "when")
        if instant < self.opened_at:
            return None
        return machine.state_at(self.history, instant, CaseState.NEW)

    def segments(self, as_of: datetime) -> tuple[tuple[CaseState, datetime, datetime], ...]:
        """The states the case was in up to ``as_of``: ``(state, start, end)`` spans in order.

        Empty when ``as_of`` is before ``opened_at``; zero-length spans (two
        changes at the same instant) are left out.
        """
        end = to_utc(as_of, "as_of")
        out: list[tuple[CaseState, datetime, datetime]] = []
        state, start = CaseState.NEW, self.opened_at
        for change in self.history:
            if change.at >= end:
                break
            if change.at > start:
                out.append((state, start, change.at))
            state, start = change.to_state, max(start, change.at)
        if end > start:
            out.append((state, start, end))
        return tuple(out)

    def can(
        self, trigger: CaseTrigger | str, at: datetime, policy: CasePolicy = DEFAULT_CASE_POLICY
    ) -> bool:
        """Whether ``trigger`` (with no extra facts) would be accepted at ``at``."""
        try:
            self.fire(trigger, at, policy=policy)
        except (IllegalTransitionError, ValidationError):
            return False
        return True

    # -- operations ------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        id: str,
        customer_id: str,
        at: datetime,
        *,
        priority: Priority | str = Priority.NORMAL,
        feedback_id: str | None = None,
        rules: Iterable[str] = (),
        assignee: str | None = None,
        team: str | None = None,
    ) -> Outcome[Case]:
        """Open a case at ``at`` (state ``new``); an owner, if given, is recorded as an assign."""
        case = cls(
            id=id,
            customer_id=customer_id,
            opened_at=at,
            priority=priority,
            feedback_id=feedback_id,
            rules=rules,
        )
        opened = ev.CaseOpened(
            aggregate_id=case.id,
            occurred_at=case.opened_at,
            customer_id=case.customer_id,
            priority=case.priority,
            feedback_id=case.feedback_id,
            rules=case.rules,
        )
        outcome: Outcome[Case] = Outcome(case, (opened,))
        if assignee is not None or team is not None:
            return outcome.then(lambda c: c.assign(at, assignee=assignee, team=team))
        return outcome

    def fire(
        self,
        trigger: CaseTrigger | str,
        at: datetime,
        *,
        policy: CasePolicy = DEFAULT_CASE_POLICY,
        assignment: Assignment | None = None,
        resolution: Resolution | None = None,
        follow_up: FollowUp | None = None,
        note: str = "",
    ) -> Outcome[Case]:
        """Apply ``trigger`` at ``at`` with its facts; the generic form of the named operations.

        Raises [`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError] when the
        table has no row for the trigger in the current state, or no row whose guard holds;
        [`ValidationError`][crmcore.kernel.errors.ValidationError] for bad facts or a time before
        the latest change.
        """
        chosen = parse_member(CaseTrigger, trigger, "trigger")
        if not isinstance(policy, CasePolicy):
            raise ValidationError("policy", policy, "must be a CasePolicy")
        instant = to_utc(at, "at")
        if instant < self.last_changed_at:
            raise ValidationError(
                "at", at, f"must not be before the case's latest change ({self.last_changed_at})"
            )
        rows = MACHINE.triggered(self.state, chosen)
        change = CaseChange(
            at=instant,
            trigger=chosen,
            from_state=self.state,
            to_state=rows[0].target,
            assignment=assignment,
            resolution=resolution,
            follow_up=follow_up,
            note=note,
        )
        row = MACHINE.choose(rows, GuardContext(self.state, self.history, change, policy))
        change = attrs.evolve(change, to_state=row.target)
        case = attrs.evolve(self, state=row.target, history=(*self.history, change))
        return Outcome(case, _events_for(case, change))

    def assign(
        self, at: datetime, *, assignee: str | None = None, team: str | None = None
    ) -> Outcome[Case]:
        """Set the owner (``None`` for both: unassign); allowed in every state but closed."""
        return self.fire(CaseTrigger.ASSIGN, at, assignment=Assignment(assignee, team))

    def acknowledge(self, at: datetime, *, note: str = "") -> Outcome[Case]:
        """The first response to the customer: new → acknowledged."""
        return self.fire(CaseTrigger.ACKNOWLEDGE, at, note=note)

    def start(self, at: datetime, *, note: str = "") -> Outcome[Case]:
        """Work starts: acknowledged → in_progress."""
        return self.fire(CaseTrigger.START, at, note=note)

    def wait_on_customer(self, at: datetime, *, note: str = "") -> Outcome[Case]:
        """Ask the customer and wait (the SLA clock pauses): in_progress → waiting_on_customer."""
        return self.fire(CaseTrigger.WAIT_ON_CUSTOMER, at, note=note)

    def customer_replied(self, at: datetime, *, note: str = "") -> Outcome[Case]:
        """The customer answered: waiting_on_customer → in_progress."""
        return self.fire(CaseTrigger.CUSTOMER_REPLIED, at, note=note)

    def resolve(
        self,
        at: datetime,
        *,
        root_cause: str | None = None,
        action_taken: str | None = None,
        policy: CasePolicy = DEFAULT_CASE_POLICY,
        note: str = "",
    ) -> Outcome[Case]:
        """Resolve, recording the root-cause code and the action taken (required by default)."""
        resolution = None
        if root_cause is not None or action_taken is not None:
            resolution = Resolution(root_cause, action_taken)
        return self.fire(CaseTrigger.RESOLVE, at, policy=policy, resolution=resolution, note=note)

    def follow_up(
        self, at: datetime, *, verdict: Verdict | str, satisfaction: int, note: str = ""
    ) -> Outcome[Case]:
        """Record the customer's verdict and satisfaction; an unhappy answer reopens the case."""
        return self.fire(
            CaseTrigger.FOLLOW_UP, at, follow_up=FollowUp(verdict, satisfaction), note=note
        )

    def close(self, at: datetime, *, note: str = "") -> Outcome[Case]:
        """Close the loop: only after a satisfied follow-up since the latest resolution."""
        return self.fire(CaseTrigger.CLOSE, at, note=note)

    def reopen(
        self, at: datetime, *, policy: CasePolicy = DEFAULT_CASE_POLICY, note: str = ""
    ) -> Outcome[Case]:
        """Back to work from resolved or closed, within the policy's reopen window."""
        return self.fire(CaseTrigger.REOPEN, at, policy=policy, note=note)


def _events_for(case: Case, change: CaseChange) -> tuple[DomainEvent, ...]:
    common: dict[str, Any] = {
        "aggregate_id": case.id,
        "occurred_at": change.at,
        "customer_id": case.customer_id,
        "from_state": change.from_state,
        "to_state": change.to_state,
        "trigger": change.trigger,
    }
    trigger = change.trigger
    out: list[ev.CaseEvent] = []
    if trigger is CaseTrigger.ASSIGN and change.assignment is not None:
        out.append(
            ev.CaseAssigned(
                **common, assignee=change.assignment.assignee, team=change.assignment.team
            )
        )
    elif trigger is CaseTrigger.ACKNOWLEDGE:
        out.append(ev.CaseAcknowledged(**common))
    elif trigger is CaseTrigger.RESOLVE:
        cause = change.resolution.root_cause if change.resolution else None
        out.append(ev.CaseResolved(**common, root_cause=cause))
    elif trigger is CaseTrigger.FOLLOW_UP and change.follow_up is not None:
        f = change.follow_up
        out.append(
            ev.CaseFollowedUp(
                **common, verdict=f.verdict, satisfaction=f.satisfaction, unhappy=f.unhappy
            )
        )
        if f.unhappy:
            out.append(
                ev.CaseReopened(**common, reason="customer_unhappy", reopen_count=case.reopen_count)
            )
    elif trigger is CaseTrigger.CLOSE:
        out.append(ev.CaseClosed(**common))
    elif trigger is CaseTrigger.REOPEN:
        out.append(ev.CaseReopened(**common, reason="reopened", reopen_count=case.reopen_count))
    else:
        out.append(ev.CaseMoved(**common))
    return tuple(out)
