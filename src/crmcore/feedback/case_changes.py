"""The history of a case: each change with the facts it records.

A [`CaseChange`][crmcore.feedback.case_changes.CaseChange] is one entry of
`crmcore.feedback.cases.Case.history`: when, which trigger, from which state to which, and the facts
that trigger records (an [`Assignment`][crmcore.feedback.case_changes.Assignment] on ``assign``, a
[`Resolution`][crmcore.feedback.case_changes.Resolution] on ``resolve``, a
[`FollowUp`][crmcore.feedback.case_changes.FollowUp] on ``follow_up``) plus a free-text note.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import attrs

from crmcore.customers.records import normalize_slug
from crmcore.feedback.vocabulary import CaseState, CaseTrigger, Verdict
from crmcore.journey.scores import Scale
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.ids import validate_id

__all__ = [
    "ERASED_TEXT",
    "Assignment",
    "CaseChange",
    "FollowUp",
    "Resolution",
    "last_follow_up",
    "resolved_at",
]


def _optional_name(value: object, field: str) -> str | None:
    if value is None:
        return None
    return validate_id(value, field)


def _assignee(value: object) -> str | None:
    return _optional_name(value, "assignee")


def _team(value: object) -> str | None:
    return _optional_name(value, "team")


@attrs.frozen
class Assignment:
    """Who owns the case: an ``assignee`` and/or a ``team`` (ids; both ``None``: unassigned)."""

    assignee: str | None = attrs.field(default=None, converter=_assignee)
    team: str | None = attrs.field(default=None, converter=_team)


def _root_cause(value: object) -> str:
    return normalize_slug(value, "resolution.root_cause")


def _action(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 2000:
        raise ValidationError(
            "resolution.action_taken", value, "must be non-empty text of at most 2000 characters"
        )
    return value


ERASED_TEXT: Final = "(erased)"
"""What an erased free-text field reads afterwards (where text is required)."""


@attrs.frozen
class Resolution:
    """What was wrong and what was done: a root-cause code (a slug) and the action taken.

    The root cause is a code (``"billing_error"``) so that the outer loop can
    count cases by cause; the action is free text.
    """

    root_cause: str = attrs.field(converter=_root_cause)
    action_taken: str = attrs.field(converter=_action)


def _verdict(value: object) -> Verdict:
    if isinstance(value, Verdict):
        return value
    if isinstance(value, str) and value in Verdict._value2member_map_:
        return Verdict(value)
    raise ValidationError(
        "follow_up.verdict", value, f"must be one of {', '.join(v.value for v in Verdict)}"
    )


def _satisfaction(_instance: object, _attribute: attrs.Attribute[int], value: int) -> None:
    scale = Scale.CSAT
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not scale.low <= value <= scale.high
    ):
        raise ValidationError(
            "follow_up.satisfaction", value, f"must be a whole number in {scale.low}..{scale.high}"
        )


@attrs.frozen
class FollowUp:
    """The customer's verdict after resolution, and their satisfaction on the CSAT scale (1-5).

    It is *unhappy* when the verdict is "not resolved" or the satisfaction is
    in the CSAT negative band (1-2).

    Examples:
        >>> FollowUp(Verdict.RESOLVED, 2).unhappy, FollowUp("resolved", 4).unhappy
        (True, False)
    """

    verdict: Verdict = attrs.field(converter=_verdict)
    satisfaction: int = attrs.field(validator=_satisfaction)

    @property
    def unhappy(self) -> bool:
        """Whether the follow-up says the loop is not closed."""
        return self.verdict is Verdict.NOT_RESOLVED or Scale.CSAT.is_negative(self.satisfaction)


def _change_at(value: object) -> datetime:
    return to_utc(value, "at")


def _change_state(value: object) -> CaseState:
    if isinstance(value, CaseState):
        return value
    if isinstance(value, str) and value in CaseState._value2member_map_:
        return CaseState(value)
    raise ValidationError("state", value, f"must be one of {', '.join(CaseState)}")


def _change_trigger(value: object) -> CaseTrigger:
    if isinstance(value, CaseTrigger):
        return value
    if isinstance(value, str) and value in CaseTrigger._value2member_map_:
        return CaseTrigger(value)
    raise ValidationError("trigger", value, f"must be one of {', '.join(CaseTrigger)}")


def _note(value: object) -> str:
    if not isinstance(value, str) or len(value) > 2000:
        raise ValidationError("note", value, "must be text of at most 2000 characters")
    return value


@attrs.frozen(kw_only=True)
class CaseChange:
    """One entry of a case's history: when, which trigger, from which state to which.

    ``assignment`` is set on ``assign`` changes only, ``resolution`` on
    ``resolve`` changes (optional unless the policy requires it),
    ``follow_up`` on ``follow_up`` changes only; ``note`` is free text.
    """

    at: datetime = attrs.field(converter=_change_at)
    trigger: CaseTrigger = attrs.field(converter=_change_trigger)
    from_state: CaseState = attrs.field(converter=_change_state)
    to_state: CaseState = attrs.field(converter=_change_state)
    assignment: Assignment | None = None
    resolution: Resolution | None = None
    follow_up: FollowUp | None = None
    note: str = attrs.field(default="", converter=_note)

    def __attrs_post_init__(self) -> None:
        facts = (
            ("assignment", self.assignment, Assignment, CaseTrigger.ASSIGN),
            ("resolution", self.resolution, Resolution, CaseTrigger.RESOLVE),
            ("follow_up", self.follow_up, FollowUp, CaseTrigger.FOLLOW_UP),
        )
        for name, value, cls, trigger in facts:
            if value is not None and not isinstance(value, cls):
                raise ValidationError(name, value, f"must be a {cls.__name__}")
            if value is not None and self.trigger is not trigger:
                raise ValidationError(name, value, f"is recorded on {trigger.value} only")
        if self.trigger is CaseTrigger.ASSIGN and self.assignment is None:
            raise ValidationError("assignment", None, "an assign change needs an Assignment")
        if self.trigger is CaseTrigger.FOLLOW_UP and self.follow_up is None:
            raise ValidationError("follow_up", None, "a follow_up change needs a FollowUp")


def last_follow_up(history: tuple[CaseChange, ...]) -> FollowUp | None:
    """The latest follow-up recorded after the latest resolution in ``history`` (``None``: none)."""
    for change in reversed(history):
        if change.trigger is CaseTrigger.RESOLVE:
            return None
        if change.follow_up is not None:
            return change.follow_up
    return None


def resolved_at(state: CaseState, history: tuple[CaseChange, ...]) -> datetime | None:
    """When the case was last resolved, if ``state`` is resolved or closed (else ``None``)."""
    if state not in (CaseState.RESOLVED, CaseState.CLOSED):
        return None
    for change in reversed(history):
        if change.trigger is CaseTrigger.RESOLVE:
            return change.at
    return None
