"""Follow-up activities: calls, e-mails, meetings and tasks, with a due time and an outcome.

An [`Activity`][crmcore.sales.activities.Activity] is something a salesperson does (or plans to
do) about a lead: it is created (scheduled, or logged when already done), may have a due time,
and ends either **completed** with an [`ActivityOutcome`][crmcore.sales.activities.ActivityOutcome]
that fits its kind (a call is connected, left a voicemail, got no answer...; a meeting was held or
the lead did not show) or **cancelled**. Its state as of any instant is known from its times, so
overdue follow-ups can be counted as of a past date too.

A **touch** is a completed call, e-mail or meeting, whatever its outcome: an attempt to reach
the lead counts (the speed-to-lead convention); a task is internal work and never a touch.

Activities are values held by their lead ([`Lead.activities`][crmcore.sales.leads.Lead]); the
lead's operations record them and raise the events. Free text (``subject``, ``note``) is blanked
by [`redacted()`][crmcore.sales.activities.Activity.redacted]; kinds, times and outcomes stay.

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    >>> call = Activity(id="a-1", kind="call", created_at=t, due_at=t + timedelta(hours=4))
    >>> call.is_overdue(t + timedelta(hours=5))
    True
    >>> done = call.complete(t + timedelta(hours=6), "left_voicemail")
    >>> done.is_touch, done.completed_late
    (True, True)
    >>> call.complete(t, "held")
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.ValidationError: outcome: a call ends connected, left_voicemail, ...
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Final

import attrs

from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.ids import validate_id
from crmcore.kernel.machine import parse_member

__all__ = [
    "OUTCOMES",
    "TOUCH_KINDS",
    "Activity",
    "ActivityKind",
    "ActivityOutcome",
    "ActivityState",
]


class ActivityKind(enum.StrEnum):
    """What kind of follow-up an activity is."""

    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    TASK = "task"


class ActivityOutcome(enum.StrEnum):
    """How a completed activity went.

    Which outcomes fit which kind: [`OUTCOMES`][crmcore.sales.activities.OUTCOMES].
    """

    CONNECTED = "connected"
    LEFT_VOICEMAIL = "left_voicemail"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    SENT = "sent"
    REPLIED = "replied"
    BOUNCED = "bounced"
    HELD = "held"
    NO_SHOW = "no_show"
    DONE = "done"


class ActivityState(enum.StrEnum):
    """Where an activity stands: open (to do), done, or cancelled."""

    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


K, Out = ActivityKind, ActivityOutcome
OUTCOMES: Final[Mapping[ActivityKind, tuple[ActivityOutcome, ...]]] = FrozenDict(
    {
        K.CALL: (Out.CONNECTED, Out.LEFT_VOICEMAIL, Out.NO_ANSWER, Out.WRONG_NUMBER),
        K.EMAIL: (Out.SENT, Out.REPLIED, Out.BOUNCED),
        K.MEETING: (Out.HELD, Out.NO_SHOW),
        K.TASK: (Out.DONE,),
    }
)
"""The outcomes each kind of activity may end with."""

TOUCH_KINDS: Final = frozenset({ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING})
"""The kinds whose completion is a touch (an attempt to reach the lead)."""


def _id(value: object) -> str:
    return validate_id(value, "activity.id")


def _kind(value: object) -> ActivityKind:
    return parse_member(ActivityKind, value, "activity.kind")


def _created(value: object) -> datetime:
    return to_utc(value, "activity.created_at")


def _due(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "activity.due_at")


def _completed(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "activity.completed_at")


def _cancelled(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "activity.cancelled_at")


def _owner(value: object) -> str | None:
    return None if value is None else validate_id(value, "activity.owner")


def _outcome(value: object) -> ActivityOutcome | None:
    return None if value is None else parse_member(ActivityOutcome, value, "outcome")


def _text(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationError(field, value, f"must be a string of at most {limit} characters")
    return value


def _subject(value: object) -> str:
    return _text(value, "activity.subject", 500)


def _note(value: object) -> str:
    return _text(value, "activity.note", 4000)


@attrs.frozen(kw_only=True)
class Activity:
    """A follow-up activity on a lead: its kind, times, owner, outcome and free text.

    Invariants (checked on construction, also when decoded from storage): completed and
    cancelled exclude each other; an outcome is recorded exactly when the activity is completed,
    and fits its kind ([`OUTCOMES`][crmcore.sales.activities.OUTCOMES]); no time is before
    ``created_at``.
    """

    id: str = attrs.field(converter=_id)
    kind: ActivityKind = attrs.field(converter=_kind)
    created_at: datetime = attrs.field(converter=_created)
    due_at: datetime | None = attrs.field(default=None, converter=_due)
    owner: str | None = attrs.field(default=None, converter=_owner)
    subject: str = attrs.field(default="", converter=_subject)
    completed_at: datetime | None = attrs.field(default=None, converter=_completed)
    outcome: ActivityOutcome | None = attrs.field(default=None, converter=_outcome)
    cancelled_at: datetime | None = attrs.field(default=None, converter=_cancelled)
    note: str = attrs.field(default="", converter=_note)

    def __attrs_post_init__(self) -> None:
        for name in ("due_at", "completed_at", "cancelled_at"):
            value = getattr(self, name)
            if value is not None and value < self.created_at:
                raise ValidationError(
                    f"activity.{name}", value, f"must not be before created_at ({self.created_at})"
                )
        if self.completed_at is not None and self.cancelled_at is not None:
            raise ValidationError(
                "activity.cancelled_at", self.cancelled_at, "a completed activity is not cancelled"
            )
        if (self.outcome is None) != (self.completed_at is None):
            raise ValidationError(
                "activity.outcome", self.outcome, "is recorded exactly when the activity completes"
            )
        if self.outcome is not None and self.outcome not in OUTCOMES[self.kind]:
            allowed = ", ".join(o.value for o in OUTCOMES[self.kind])
            raise ValidationError("outcome", self.outcome.value, f"a {self.kind} ends {allowed}")

    # -- queries ---------------------------------------------------------------------------------
    @property
    def state(self) -> ActivityState:
        """Open, done or cancelled (now)."""
        if self.completed_at is not None:
            return ActivityState.DONE
        if self.cancelled_at is not None:
            return ActivityState.CANCELLED
        return ActivityState.OPEN

    @property
    def is_open(self) -> bool:
        """Whether the activity is still to do."""
        return self.state is ActivityState.OPEN

    @property
    def is_touch(self) -> bool:
        """Whether it is a completed call, e-mail or meeting (an attempt to reach the lead)."""
        return self.completed_at is not None and self.kind in TOUCH_KINDS

    @property
    def closed_at(self) -> datetime | None:
        """When it was completed or cancelled (``None`` while open)."""
        return self.completed_at if self.completed_at is not None else self.cancelled_at

    @property
    def completed_late(self) -> bool:
        """Whether it was completed after its due time."""
        return (
            self.completed_at is not None
            and self.due_at is not None
            and self.completed_at > self.due_at
        )

    def state_at(self, when: datetime) -> ActivityState | None:
        """Its state as of ``when`` (``None`` before it was created)."""
        instant = to_utc(when, "when")
        if instant < self.created_at:
            return None
        if self.completed_at is not None and self.completed_at <= instant:
            return ActivityState.DONE
        if self.cancelled_at is not None and self.cancelled_at <= instant:
            return ActivityState.CANCELLED
        return ActivityState.OPEN

    def is_overdue(self, as_of: datetime) -> bool:
        """Whether it was open at ``as_of`` with its due time strictly before then."""
        instant = to_utc(as_of, "as_of")
        return (
            self.due_at is not None
            and self.due_at < instant
            and self.state_at(instant) is ActivityState.OPEN
        )

    # -- changes (new values; the lead records them and raises the events) -----------------------
    def _check_open(self, at: datetime, action: str) -> None:
        if not self.is_open:
            raise IllegalTransitionError(
                self.state,
                None,
                f"activity {self.id!r} is {self.state.value}, so it cannot be {action}",
            )
        if at < self.created_at:
            raise ValidationError(
                "at", at, f"must not be before the activity's creation ({self.created_at})"
            )

    def complete(
        self, at: datetime, outcome: ActivityOutcome | str, note: str | None = None
    ) -> Activity:
        """This activity completed at ``at`` with ``outcome`` (and a note, if given)."""
        instant = to_utc(at, "at")
        self._check_open(instant, "completed")
        return attrs.evolve(
            self,
            completed_at=instant,
            outcome=outcome,
            note=self.note if note is None else note,
        )

    def cancel(self, at: datetime, note: str | None = None) -> Activity:
        """This activity cancelled at ``at``."""
        instant = to_utc(at, "at")
        self._check_open(instant, "cancelled")
        return attrs.evolve(self, cancelled_at=instant, note=self.note if note is None else note)

    def reschedule(self, due_at: datetime, at: datetime) -> Activity:
        """This activity with a new due time (it must still be open at ``at``)."""
        instant = to_utc(at, "at")
        self._check_open(instant, "rescheduled")
        return attrs.evolve(self, due_at=due_at)

    def redacted(self) -> Activity:
        """This activity without free text (subject and note blanked), for an erasure."""
        if not self.subject and not self.note:
            return self
        return attrs.evolve(self, subject="", note="")
