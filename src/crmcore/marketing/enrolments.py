"""The enrolment aggregate: one customer's run through one version of a workflow.

An [`Enrolment`][crmcore.marketing.enrolments.Enrolment] keeps the version of the workflow it
started on (a new version of the workflow changes nothing for it), where it stands (its status,
current step and ``wake_at``) and its history: one
[`EnrolmentChange`][crmcore.marketing.enrolments.EnrolmentChange] per step run, wait, resume and
ending, each a row of the enrolment machine
([`crmcore.marketing.enrolment_machine`][crmcore.marketing.enrolment_machine]). The history is
re-checked when an enrolment is built (also when it is decoded from storage): it is a path through
the table, its times never go back, a resume is never before its wait ends, and the status is where
it ends.

The engine ([`advance()`][crmcore.marketing.engine.advance]) moves enrolments; a host only starts
them by request or takes a customer out
([`exit()`][crmcore.marketing.enrolments.Enrolment.exit]). The id is
[`enrolment_id()`][crmcore.marketing.enrolments.enrolment_id] of the workflow, the customer and the
run number, so the same run is the same aggregate however often it is computed.

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> from crmcore.marketing.steps import SendMessage, Wait
    >>> from crmcore.marketing.triggers import EventTrigger
    >>> from crmcore.marketing.workflows import Workflow
    >>> flow = Workflow(id="welcome", version=1, name="Welcome",
    ...                 trigger=EventTrigger("customer.registered"),
    ...                 steps=[Wait("pause", timedelta(hours=1)),
    ...                        SendMessage("hello", channel="email", template="welcome")])
    >>> t = datetime(2026, 5, 4, 8, tzinfo=UTC)
    >>> enrolment = Enrolment.start(flow, "c-1", t).value
    >>> enrolment.id, enrolment.status.value, enrolment.step
    ('welcome:1:c-1', 'active', 'pause')
    >>> waiting = enrolment.wait(t, t + timedelta(hours=1), WaitReason.DELAY).value
    >>> waiting.resume(t, "hello")
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.IllegalTransitionError: cannot go from waiting to active on 'resume': ...
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

import attrs

from crmcore.kernel import machine, validators
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import Outcome
from crmcore.kernel.ids import CustomerId, customer_id, validate_id
from crmcore.marketing.automation_events import (
    WorkflowCompleted,
    WorkflowConverted,
    WorkflowEnrolled,
    WorkflowExited,
)
from crmcore.marketing.enrolment_machine import (
    MACHINE,
    EnrolmentMove,
    EnrolmentStatus,
    EnrolmentTrigger,
    ExitReason,
    RefusalReason,
    StepOutcome,
    WaitReason,
)
from crmcore.marketing.steps import END, check_slug
from crmcore.marketing.workflows import Workflow

__all__ = [
    "EnrolRequest",
    "Enrolment",
    "EnrolmentChange",
    "Refusal",
    "enrolment_id",
    "idempotency_key",
    "latest_runs",
]

S, T = EnrolmentStatus, EnrolmentTrigger


def _bounded(plain: str, prefix: str) -> str:
    """``plain`` if it is a valid id, else a stable digest of it (ids are at most 128 chars)."""
    if len(plain) <= 128:
        return plain
    return f"{prefix}-{hashlib.sha256(plain.encode()).hexdigest()[:48]}"


def enrolment_id(workflow_id: str, customer: str, run: int) -> str:
    """The id of ``customer``'s ``run``-th enrolment in ``workflow_id``:
    ``"<workflow>:<run>:<customer>"`` (a digest when that would exceed 128 characters)."""
    return _bounded(f"{workflow_id}:{run}:{customer}", "enr")


def idempotency_key(enrolment: str, step_id: str) -> str:
    """The key of the action of step ``step_id`` in enrolment ``enrolment``: unique, since a step
    runs at most once per enrolment."""
    return _bounded(f"{enrolment}/{step_id}", "act")


def _at(value: object) -> datetime:
    return _utc(value, "at")


def _trigger(value: object) -> EnrolmentTrigger:
    return machine.parse_member(EnrolmentTrigger, value, "trigger")


def _from_state(value: object) -> EnrolmentStatus:
    return machine.parse_member(EnrolmentStatus, value, "from_state")


def _to_state(value: object) -> EnrolmentStatus:
    return machine.parse_member(EnrolmentStatus, value, "to_state")


def _status(value: object) -> EnrolmentStatus:
    return machine.parse_member(EnrolmentStatus, value, "status")


def _outcome(value: object) -> StepOutcome | None:
    return None if value is None else machine.parse_member(StepOutcome, value, "outcome")


def _wait_reason(value: object) -> WaitReason | None:
    return None if value is None else machine.parse_member(WaitReason, value, "wait_reason")


def _enrolment_id(value: object) -> str:
    return validate_id(value, "id")


def _workflow_id(value: object) -> str:
    return check_slug(value, "workflow_id")


def _enrolled_at(value: object) -> datetime:
    return to_utc(value, "enrolled_at")


def _optional_utc(value: object) -> datetime | None:
    return None if value is None else _utc(value, "at")


def _utc(value: object, field: str) -> datetime:
    if type(value) is datetime and value.tzinfo is UTC and not value.fold:
        return value  # already what to_utc returns
    return to_utc(value, field)


_C = TypeVar("_C")


_set: Final = object.__setattr__  # frozen attrs classes refuse the ordinary setattr


def _built(cls: type[_C], **values: object) -> _C:
    """An instance of the attrs class ``cls`` from values already checked and canonical."""
    new = object.__new__(cls)
    for name, value in values.items():
        _set(new, name, value)
    return new


def _step(value: object) -> str | None:
    return None if value is None else check_slug(value, "step")


@attrs.frozen
class EnrolmentChange:
    """One move of an enrolment: when, on which trigger, between which statuses; the step it
    concerns, what running it did (``outcome``), why (``reason``: a suppression, wait, exit or
    refusal code) and, for a wait, until when (``wake_at``)."""

    at: datetime = attrs.field(converter=_at)
    trigger: EnrolmentTrigger = attrs.field(converter=_trigger)
    from_state: EnrolmentStatus = attrs.field(converter=_from_state)
    to_state: EnrolmentStatus = attrs.field(converter=_to_state)
    step: str | None = attrs.field(default=None, converter=_step)
    outcome: StepOutcome | None = attrs.field(
        default=None,
        converter=_outcome,
    )
    reason: str | None = None
    wake_at: datetime | None = attrs.field(default=None, converter=_optional_utc)


def _changes(value: object) -> tuple[EnrolmentChange, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("history", value, "must be a sequence of EnrolmentChange")
    changes = tuple(value)
    for i, change in enumerate(changes):
        if not isinstance(change, EnrolmentChange):
            raise ValidationError(f"history[{i}]", change, "must be an EnrolmentChange")
    return changes


def _run(_instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError("run", value, "must be a whole number >= 1")


def _source(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 200:
        raise ValidationError("source", value, "must be 1-200 characters")
    return value


@attrs.frozen(kw_only=True)
class Enrolment:
    """One run of one customer through one workflow version (see the module docstring)."""

    id: str = attrs.field(converter=_enrolment_id)
    workflow_id: str = attrs.field(converter=_workflow_id)
    workflow_version: int = attrs.field(validator=_run)
    customer_id: CustomerId = attrs.field(converter=customer_id)
    run: int = attrs.field(validator=_run)
    source: str = attrs.field(converter=_source)
    enrolled_at: datetime = attrs.field(converter=_enrolled_at)
    status: EnrolmentStatus = attrs.field(default=S.ACTIVE, converter=_status)
    step: str | None = attrs.field(default=None, converter=_step)
    wake_at: datetime | None = attrs.field(default=None, converter=_optional_utc)
    wait_reason: WaitReason | None = attrs.field(
        default=None,
        converter=_wait_reason,
    )
    history: tuple[EnrolmentChange, ...] = attrs.field(default=(), converter=_changes)
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        def is_a_row(i: int, change: EnrolmentChange) -> None:
            wake = _wake_before(self.history[:i]) if change.trigger is T.RESUME else None
            move = EnrolmentMove(change.at, change.reason, wake)
            row = MACHINE.choose(MACHINE.triggered(change.from_state, change.trigger), move)
            if row.target is not change.to_state:
                raise ValidationError(f"history[{i}].to_state", change.to_state, "is not the row's")

        status = machine.check_history(
            self.history, S.ACTIVE, start=self.enrolled_at, start_name="enrolled_at", rule=is_a_row
        )
        if self.status is not status:
            raise ValidationError("status", self.status, f"must be {status}, where history ends")
        if self.status.is_final:
            if (self.step, self.wake_at, self.wait_reason) != (None, None, None):
                raise ValidationError("step", self.step, "an ended enrolment has no step or wake")
        elif self.step is None or self.wake_at is None:
            raise ValidationError("step", self.step, "an open enrolment has a step and a wake time")
        elif (self.status is S.WAITING) != (self.wait_reason is not None):
            raise ValidationError("wait_reason", self.wait_reason, "is set exactly when waiting")
        if self.id != enrolment_id(self.workflow_id, self.customer_id, self.run):
            raise ValidationError("id", self.id, "must be enrolment_id(workflow, customer, run)")

    # -- queries ---------------------------------------------------------------------------------
    @property
    def is_final(self) -> bool:
        """Whether the enrolment has ended."""
        return self.status.is_final

    @property
    def ended_at(self) -> datetime | None:
        """When the enrolment ended (``None`` while it runs)."""
        return self.history[-1].at if self.is_final else None

    @property
    def last_changed_at(self) -> datetime:
        """The time of the latest change (``enrolled_at`` if none)."""
        return self.history[-1].at if self.history else self.enrolled_at

    @property
    def key(self) -> str:
        """``"<workflow>@<version>"`` of the workflow version it runs."""
        return f"{self.workflow_id}@{self.workflow_version}"

    def action_key(self, step_id: str) -> str:
        """The idempotency key of step ``step_id``'s action in this enrolment."""
        return idempotency_key(self.id, step_id)

    # -- operations ------------------------------------------------------------------------------
    @classmethod
    def start(
        cls,
        workflow: Workflow,
        customer: str,
        at: datetime,
        *,
        run: int = 1,
        source: str = "request",
    ) -> Outcome[Enrolment]:
        """Enrol ``customer`` in ``workflow`` at ``at``: active at the first step, due at once."""
        if not isinstance(workflow, Workflow):
            raise ValidationError("workflow", workflow, "must be a Workflow")
        cid = customer_id(customer)
        _run(None, None, run)
        instant = _utc(at, "at")
        # Every value is checked above or comes from a checked workflow: build it directly.
        enrolment = _built(
            cls,
            id=validate_id(enrolment_id(workflow.id, cid, run), "id"),
            workflow_id=workflow.id,
            workflow_version=workflow.version,
            customer_id=cid,
            run=run,
            source=_source(source),
            enrolled_at=instant,
            status=S.ACTIVE,
            step=workflow.first,
            wake_at=instant,
            wait_reason=None,
            history=(),
            version=0,
        )
        event = WorkflowEnrolled(**enrolment._common(enrolment.enrolled_at), run=run, source=source)
        return Outcome(enrolment, (event,))

    def _common(self, at: datetime) -> dict[str, Any]:
        return {
            "aggregate_id": self.id,
            "occurred_at": at,
            "customer_id": self.customer_id,
            "workflow_id": self.workflow_id,
            "workflow_version": self.workflow_version,
        }

    def _move(
        self,
        trigger: EnrolmentTrigger,
        at: datetime,
        *,
        step: str | None = None,
        outcome: StepOutcome | None = None,
        reason: str | None = None,
        wake_at: datetime | None = None,
        then_step: str | None = None,
        then_wake: datetime | None = None,
        wait_reason: WaitReason | None = None,
    ) -> Enrolment:
        instant = _utc(at, "at")
        if instant < self.last_changed_at:
            raise ValidationError(
                "at",
                at,
                f"must not be before the enrolment's latest change ({self.last_changed_at})",
            )
        if reason is not None and not isinstance(reason, str):
            raise ValidationError("reason", reason, "must be a reason code")
        rows = MACHINE.triggered(self.status, trigger)
        guard_wake = self.wake_at if trigger is T.RESUME else None
        row = MACHINE.choose(rows, EnrolmentMove(instant, reason, guard_wake))
        # The machine has checked the move and every value is already in canonical form, so the
        # new values skip the converters and the history re-check that building one from stored
        # data runs: a run stays linear in its number of steps.
        change = _built(
            EnrolmentChange,
            at=instant,
            trigger=trigger,
            from_state=self.status,
            to_state=row.target,
            step=step,
            outcome=outcome,
            reason=reason,
            wake_at=wake_at,
        )
        moved = object.__new__(Enrolment)
        for name in _FIELDS:
            _set(moved, name, getattr(self, name))
        _set(moved, "status", row.target)
        _set(moved, "step", then_step)
        _set(moved, "wake_at", then_wake)
        _set(moved, "wait_reason", wait_reason)
        _set(moved, "history", (*self.history, change))
        return moved

    def ran(
        self,
        at: datetime,
        outcome: StepOutcome,
        next_step: str,
        *,
        reason: str | None = None,
    ) -> Outcome[Enrolment]:
        """The current step ran at ``at`` with ``outcome``; go to ``next_step`` (``END``:
        complete)."""
        step = self._current("ran")
        validators.instance_of(next_step, str, "next_step", "a step id")
        outcome = machine.parse_member(StepOutcome, outcome, "outcome")
        if next_step == END:
            done = self._move(T.COMPLETE, at, step=step, outcome=outcome, reason=reason)
            return Outcome(done, (WorkflowCompleted(**done._common(done.last_changed_at)),))
        moved = self._move(
            T.RUN,
            at,
            step=step,
            outcome=outcome,
            reason=reason,
            then_step=check_slug(next_step, "next_step"),
            then_wake=_utc(at, "at"),
        )
        return Outcome(moved)

    def wait(self, at: datetime, until: datetime, reason: WaitReason) -> Outcome[Enrolment]:
        """Wait in the current step from ``at`` until ``until`` (a delay, or a held message)."""
        step = self._current("wait")
        wake = _utc(until, "until")
        if wake < _utc(at, "at"):
            raise ValidationError("until", until, "must not be before the wait starts")
        why = machine.parse_member(WaitReason, reason, "reason")
        moved = self._move(
            T.WAIT,
            at,
            step=step,
            reason=why.value,
            wake_at=wake,
            then_step=step,
            then_wake=wake,
            wait_reason=why,
        )
        return Outcome(moved)

    def resume(self, at: datetime, next_step: str) -> Outcome[Enrolment]:
        """The wait is over at ``at`` (not before ``wake_at``): run ``next_step`` next (the same
        step again for a held message; ``END`` completes)."""
        step = self._current("resume")
        validators.instance_of(next_step, str, "next_step", "a step id")
        if next_step == END:
            active = self._move(
                T.RESUME,
                at,
                step=step,
                outcome=StepOutcome.DONE,
                then_step=step,
                then_wake=_utc(at, "at"),
            )
            done = active._move(T.COMPLETE, at, step=step)
            return Outcome(done, (WorkflowCompleted(**done._common(done.last_changed_at)),))
        outcome = None if next_step == step else StepOutcome.DONE
        moved = self._move(
            T.RESUME,
            at,
            step=step,
            outcome=outcome,
            then_step=check_slug(next_step, "next_step"),
            then_wake=_utc(at, "at"),
        )
        return Outcome(moved)

    def convert(self, at: datetime, goal: str) -> Outcome[Enrolment]:
        """The goal was met at ``at`` (``goal``: the event kind, or ``"rule"``)."""
        moved = self._move(T.CONVERT, at, step=self.step, reason=goal)
        return Outcome(
            moved, (WorkflowConverted(**moved._common(moved.last_changed_at), goal=goal),)
        )

    def exit(self, at: datetime, reason: ExitReason | str) -> Outcome[Enrolment]:
        """End the enrolment at ``at`` without converting (``reason``: an
        [`ExitReason`][crmcore.marketing.enrolment_machine.ExitReason])."""
        why = machine.parse_member(ExitReason, reason, "reason")
        moved = self._move(T.EXIT, at, step=self.step, reason=why.value)
        event = WorkflowExited(**moved._common(moved.last_changed_at), reason=why.value)
        return Outcome(moved, (event,))

    def _current(self, operation: str) -> str:
        if self.step is None:
            raise ValidationError("step", None, f"an ended enrolment cannot {operation}")
        return self.step


_FIELDS: Final = tuple(
    a.name
    for a in attrs.fields(Enrolment)
    if a.name not in ("status", "step", "wake_at", "wait_reason", "history")
)


def _wake_before(history: tuple[EnrolmentChange, ...]) -> datetime | None:
    for change in reversed(history):
        if change.trigger is T.WAIT:
            return change.wake_at
    return None


def latest_runs(enrolments: Iterable[Enrolment]) -> dict[tuple[str, str], Enrolment]:
    """The latest run of each (workflow, customer) pair among ``enrolments``."""
    out: dict[tuple[str, str], Enrolment] = {}
    for enrolment in enrolments:
        key = (enrolment.workflow_id, enrolment.customer_id)
        held = out.get(key)
        if held is None or enrolment.run > held.run:
            out[key] = enrolment
    return out


@attrs.frozen
class EnrolRequest:
    """The host asks to enrol ``customer_id`` in ``workflow_id`` at ``at`` (a manual enrolment).

    The workflow's conditions, suppression lists and re-enrolment policy apply; its trigger does
    not.
    """

    workflow_id: str = attrs.field(converter=_workflow_id)
    customer_id: CustomerId = attrs.field(converter=customer_id)
    at: datetime = attrs.field(converter=_at)


@attrs.frozen
class Refusal:
    """A customer the engine did not enrol: which workflow, when, by which source, and why
    (``detail`` names the suppression list or the refusing workflow)."""

    workflow_id: str
    customer_id: str
    at: datetime
    source: str
    reason: RefusalReason
    detail: str | None = None
