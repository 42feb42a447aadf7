"""The enrolment aggregate and its machine: moves, guards, stored histories re-checked."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from crmcore.kernel import codec
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.marketing.enrolment_machine import (
    MACHINE,
    EnrolmentMove,
    EnrolmentStatus,
    EnrolmentTrigger,
    ExitReason,
    StepOutcome,
    WaitReason,
)
from crmcore.marketing.enrolments import (
    Enrolment,
    EnrolmentChange,
    enrolment_id,
    idempotency_key,
    latest_runs,
)
from crmcore.marketing.steps import END, SendMessage, Wait
from crmcore.marketing.triggers import SegmentTrigger
from crmcore.marketing.workflows import Workflow

from .automation_helpers import T0

H = timedelta(hours=1)
FLOW = Workflow(
    id="welcome",
    version=2,
    name="Welcome",
    trigger=SegmentTrigger("new"),
    steps=[SendMessage("hello", channel="email", template="t"), Wait("pause", H)],
)


def started() -> Enrolment:
    return Enrolment.start(FLOW, "c-1", T0, run=3, source="segment:entered").value


def test_a_run_through_the_machine() -> None:
    outcome = Enrolment.start(FLOW, "c-1", T0)
    assert [e.kind for e in outcome.events] == ["marketing.workflow.enrolled"]
    e = outcome.value
    assert (e.status, e.step, e.wake_at, e.key) == (
        EnrolmentStatus.ACTIVE,
        "hello",
        T0,
        "welcome@2",
    )
    e = e.ran(T0, StepOutcome.SENT, "pause").value
    e = e.wait(T0, T0 + H, WaitReason.DELAY).value
    assert (e.status, e.wake_at, e.wait_reason) == (
        EnrolmentStatus.WAITING,
        T0 + H,
        WaitReason.DELAY,
    )
    done = e.resume(T0 + H, END)
    assert [x.kind for x in done.events] == ["marketing.workflow.completed"]
    e = done.value
    assert (e.status, e.step, e.ended_at) == (EnrolmentStatus.COMPLETED, None, T0 + H)
    assert [c.trigger for c in e.history] == [
        EnrolmentTrigger.RUN,
        EnrolmentTrigger.WAIT,
        EnrolmentTrigger.RESUME,
        EnrolmentTrigger.COMPLETE,
    ]


def test_guards_refuse_an_early_resume_and_an_exit_without_a_reason() -> None:
    waiting = started().wait(T0, T0 + H, WaitReason.QUIET_HOURS).value
    with pytest.raises(IllegalTransitionError, match="not before"):
        waiting.resume(T0 + H / 2, "hello")
    assert waiting.resume(T0 + H, "hello").value.status is EnrolmentStatus.ACTIVE
    with pytest.raises(IllegalTransitionError, match="reason"):
        MACHINE.fire(EnrolmentStatus.ACTIVE, EnrolmentTrigger.EXIT, _move(None))
    with pytest.raises(ValidationError, match="reason"):
        started().exit(T0, "bored")


def _move(reason: str | None) -> EnrolmentMove:
    return EnrolmentMove(T0, reason, None)


def test_ended_enrolments_accept_nothing() -> None:
    converted = started().convert(T0 + H, "customer.purchase_recorded")
    assert [e.kind for e in converted.events] == ["marketing.workflow.converted"]
    ended = converted.value
    with pytest.raises(IllegalTransitionError):
        ended.exit(T0 + 2 * H, ExitReason.UNENROLLED)
    with pytest.raises(ValidationError, match="ended"):
        ended.ran(T0 + 2 * H, StepOutcome.DONE, "pause")
    exited = started().exit(T0, ExitReason.UNENROLLED)
    assert exited.events[0].reason == "unenrolled"  # type: ignore[attr-defined]


def test_times_never_go_back() -> None:
    e = started().ran(T0 + H, StepOutcome.SENT, "pause").value
    with pytest.raises(ValidationError, match="at"):
        e.ran(T0, StepOutcome.DONE, END)
    with pytest.raises(ValidationError, match="until"):
        e.wait(T0 + H, T0, WaitReason.DELAY)


def test_stored_enrolments_round_trip_and_tampered_ones_fail_to_load() -> None:
    e = started().ran(T0, StepOutcome.SUPPRESSED, "pause", reason="no_consent").value
    e = e.wait(T0, T0 + H, WaitReason.DELAY).value
    data = codec.encode(e, Enrolment)
    assert codec.decode(Enrolment, data) == e
    early = codec.encode(e, Enrolment)
    early["history"].append(  # type: ignore[index, union-attr]
        codec.encode(EnrolmentChange(T0 + H / 2, "resume", "waiting", "active", "pause"))
    )
    early.update(status="active")  # type: ignore[union-attr]
    with pytest.raises(IllegalTransitionError):
        codec.decode(Enrolment, early)
    with pytest.raises(ValidationError, match="status"):
        attrs.evolve(e, status=EnrolmentStatus.ACTIVE)
    with pytest.raises(ValidationError, match="id"):
        attrs.evolve(e, id="welcome:1:c-1")
    with pytest.raises(ValidationError, match="step"):
        attrs.evolve(e, step=None)


def test_ids_and_keys_are_deterministic_and_bounded() -> None:
    assert enrolment_id("welcome", "c-1", 2) == "welcome:2:c-1"
    long = "c" * 128
    key = enrolment_id("welcome", long, 1)
    assert key.startswith("enr-") and len(key) <= 128 and key == enrolment_id("welcome", long, 1)
    assert idempotency_key("welcome:2:c-1", "hello") == "welcome:2:c-1/hello"
    assert len(idempotency_key(key, "x" * 40)) <= 128
    assert idempotency_key("w:1:" + "c" * 120, "step").startswith("act-")


def test_latest_runs_keeps_the_highest_run() -> None:
    one = Enrolment.start(FLOW, "c-1", T0).value
    two = Enrolment.start(FLOW, "c-1", T0 + H, run=2).value
    other = Enrolment.start(FLOW, "c-2", T0).value
    assert latest_runs([two, one, other]) == {("welcome", "c-1"): two, ("welcome", "c-2"): other}
