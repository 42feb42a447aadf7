"""The enrolment state machine as data, and the vocabulary of enrolments.

An enrolment is *active* (its current step runs at ``wake_at``) or *waiting* (inside a wait, or a
message held back by quiet hours or a send limit, until ``wake_at``) and ends *completed* (it ran
its last step), *converted* (it met the workflow's goal) or *exited* (suppressed, erased or
unenrolled by the host). The rows, on the kernel's
[`Machine`][crmcore.kernel.machine.Machine]:

    active --run--> active                      a step ran; on to the next
    active --wait--> waiting                    [reason_given]
    waiting --resume--> active                  [due: not before wake_at]
    active --complete--> completed              the last step ran
    active | waiting --convert--> converted
    active | waiting --exit--> exited           [reason_given]

Examples:
    >>> [s.value for s in MACHINE.allowed_targets(EnrolmentStatus.WAITING)]
    ['active', 'converted', 'exited']
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Final, TypeAlias

import attrs

from crmcore.kernel import machine

__all__ = [
    "ENROLMENT_GUARDS",
    "FINAL_STATUSES",
    "MACHINE",
    "EnrolmentGuard",
    "EnrolmentMove",
    "EnrolmentStatus",
    "EnrolmentTrigger",
    "ExitReason",
    "RefusalReason",
    "StepOutcome",
    "WaitReason",
]


class EnrolmentStatus(enum.StrEnum):
    """Where an enrolment stands."""

    ACTIVE = "active"
    """Its current step runs at ``wake_at``."""
    WAITING = "waiting"
    """It waits (a wait step, quiet hours, a send limit) until ``wake_at``."""
    COMPLETED = "completed"
    """It ran its last step."""
    CONVERTED = "converted"
    """It met the workflow's goal."""
    EXITED = "exited"
    """It was ended without converting (suppression list, erasure, the host)."""

    @property
    def is_final(self) -> bool:
        """Whether nothing more happens to the enrolment."""
        return self in FINAL_STATUSES


FINAL_STATUSES: Final = frozenset(
    {EnrolmentStatus.COMPLETED, EnrolmentStatus.CONVERTED, EnrolmentStatus.EXITED}
)
"""The statuses an enrolment ends in."""


class EnrolmentTrigger(enum.StrEnum):
    """What moves an enrolment."""

    RUN = "run"
    WAIT = "wait"
    RESUME = "resume"
    COMPLETE = "complete"
    CONVERT = "convert"
    EXIT = "exit"


class WaitReason(enum.StrEnum):
    """Why an enrolment waits."""

    DELAY = "delay"
    """A [`Wait`][crmcore.marketing.steps.Wait] step."""
    UNTIL = "until"
    """A [`WaitUntil`][crmcore.marketing.steps.WaitUntil] step."""
    QUIET_HOURS = "quiet_hours"
    """A message held until the customer's quiet hours end."""
    SEND_LIMIT = "send_limit"
    """A message held until the next window of a global send limit."""


class StepOutcome(enum.StrEnum):
    """What running a step did."""

    SENT = "sent"
    """A message intent was emitted."""
    SUPPRESSED = "suppressed"
    """A message was skipped by a guardrail (the change's reason says which)."""
    DONE = "done"
    """Another action's intent was emitted, or a wait ended."""
    YES = "yes"
    """A branch's rule held."""
    NO = "no"
    """A branch's rule did not hold."""
    ENTERED = "entered"
    """The customer was enrolled in another workflow."""
    NOT_ENTERED = "not_entered"
    """The other workflow refused the customer (the change's reason says why)."""


class ExitReason(enum.StrEnum):
    """Why an enrolment was ended without converting."""

    SUPPRESSION_LIST = "suppression_list"
    """The customer is on one of the workflow's suppression lists."""
    ERASED = "erased"
    """The customer's personal data was erased."""
    UNENROLLED = "unenrolled"
    """The host took the customer out."""


class RefusalReason(enum.StrEnum):
    """Why a customer was not enrolled."""

    INACTIVE_WORKFLOW = "inactive_workflow"
    """The newest version of the workflow is not active."""
    ERASED = "erased"
    """The customer's personal data was erased."""
    SUPPRESSION_LIST = "suppression_list"
    """The customer is on one of the workflow's suppression lists."""
    CONDITIONS_NOT_MET = "conditions_not_met"
    """The workflow's conditions do not hold for the customer."""
    GOAL_ALREADY_MET = "goal_already_met"
    """The goal's rule already holds: nothing to achieve."""
    ALREADY_ENROLLED = "already_enrolled"
    """A run of the workflow is going on (or ended at that very instant)."""
    ALREADY_TRIGGERED = "already_triggered"
    """The latest run started at or after this trigger (a replayed event or a duplicate)."""
    NOT_REENROLABLE = "not_reenrolable"
    """The customer went through once and the workflow does not allow re-enrolment."""
    COOLDOWN = "cooldown"
    """The re-enrolment cooldown since the previous run started has not passed."""


@attrs.frozen
class EnrolmentMove:
    """What a guard sees: the move asked for and, for a resume, when the wait ends."""

    at: datetime
    reason: str | None
    wake_at: datetime | None


EnrolmentGuard: TypeAlias = machine.Guard[EnrolmentMove]
"""A named condition on an enrolment move."""

ENROLMENT_GUARDS: Final = (
    EnrolmentGuard(
        "reason_given",
        "a wait or an exit records its reason",
        lambda move: move.reason is not None,
    ),
    EnrolmentGuard(
        "due",
        "a wait ends at its wake time, not before",
        lambda move: move.wake_at is None or move.at >= move.wake_at,
    ),
)
"""The guards of the enrolment machine."""

S, T = EnrolmentStatus, EnrolmentTrigger
T_ = machine.Transition

# fmt: off
MACHINE: Final = machine.Machine[
    EnrolmentStatus, EnrolmentTrigger, machine.Transition[EnrolmentStatus, EnrolmentTrigger],
    EnrolmentMove,
](
    "enrolment", EnrolmentStatus, EnrolmentTrigger, initial=S.ACTIVE, final=FINAL_STATUSES,
    transitions=[
        T_(S.ACTIVE, T.RUN, S.ACTIVE, description="a step ran"),
        T_(S.ACTIVE, T.WAIT, S.WAITING, "reason_given", "wait until wake_at"),
        T_(S.WAITING, T.RESUME, S.ACTIVE, "due", "the wait is over"),
        T_(S.ACTIVE, T.COMPLETE, S.COMPLETED, description="the last step ran"),
        T_(S.ACTIVE, T.CONVERT, S.CONVERTED, description="the goal was met"),
        T_(S.WAITING, T.CONVERT, S.CONVERTED, description="the goal was met while waiting"),
        T_(S.ACTIVE, T.EXIT, S.EXITED, "reason_given", "taken out"),
        T_(S.WAITING, T.EXIT, S.EXITED, "reason_given", "taken out while waiting"),
    ],
    guards=ENROLMENT_GUARDS,
)
"""The enrolment table on the kernel's state-machine engine."""
# fmt: on
