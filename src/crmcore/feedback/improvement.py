"""Improvement actions: the outer loop's fixes, planned, worked and finished through a table.

Closing single cases is the inner loop; the outer loop fixes the cause that
many customers complain about and checks that it worked (PEERS.md §5.1:
Medallia's inner vs outer loop; §7 gap 4, "nobody links ... theme-level
improvement actions with a measured effect"). An
[`ImprovementAction`][crmcore.feedback.improvement.ImprovementAction] names the themes it addresses
(the tags of [`crmcore.feedback.themes`][crmcore.feedback.themes]), an owner and a status that moves
through one table of transitions:

    planned      --start-->     in_progress
    planned      --drop-->      dropped
    in_progress  --complete-->  done
    in_progress  --drop-->      dropped

Every move is kept with its time ([`ActionChange`][crmcore.feedback.improvement.ActionChange]); a
move not in the table raises
[`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError]. Their effect is measured
by
[`crmcore.feedback.improvement_effect.measure_effect()`][crmcore.feedback.improvement_effect.measure_effect].

Examples:
    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 3, 1, tzinfo=UTC)
    >>> plan = ImprovementAction.plan("act-1", "Same-day refunds", ["refunds"], "ops-team", at=t)
    >>> action = plan.value.start(datetime(2026, 3, 2, tzinfo=UTC)).value
    >>> action = action.complete(datetime(2026, 3, 20, tzinfo=UTC)).value
    >>> action.status, action.done_at.date()
    (<ActionStatus.DONE: 'done'>, datetime.date(2026, 3, 20))
    >>> action.start(datetime(2026, 3, 21, tzinfo=UTC))
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.IllegalTransitionError: cannot go from done on 'start': ...
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from typing import Final, TypeAlias

import attrs

from crmcore.customers.records import normalize_slug
from crmcore.kernel import machine, validators
from crmcore.kernel.clock import ensure_date, to_utc
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.events import DomainEvent, Outcome, event_type
from crmcore.kernel.ids import validate_id

__all__ = [
    "ACTION_TRANSITIONS",
    "ActionChange",
    "ActionPlanned",
    "ActionReassigned",
    "ActionStatus",
    "ActionStatusChanged",
    "ActionTransition",
    "ActionTrigger",
    "ImprovementAction",
    "MACHINE",
]


class ActionStatus(enum.StrEnum):
    """Where an improvement action stands."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"

    @property
    def is_final(self) -> bool:
        """Done and dropped accept no further moves."""
        return self in (ActionStatus.DONE, ActionStatus.DROPPED)


class ActionTrigger(enum.StrEnum):
    """What happened to an action."""

    START = "start"
    COMPLETE = "complete"
    DROP = "drop"


ActionTransition: TypeAlias = machine.Transition[ActionStatus, ActionTrigger]
"""One row of the table: ``source`` --``trigger``--> ``target`` (the kernel's row, unguarded)."""

_S, _T = ActionStatus, ActionTrigger
ACTION_TRANSITIONS: Final[tuple[ActionTransition, ...]] = (
    ActionTransition(_S.PLANNED, _T.START, _S.IN_PROGRESS),
    ActionTransition(_S.PLANNED, _T.DROP, _S.DROPPED),
    ActionTransition(_S.IN_PROGRESS, _T.COMPLETE, _S.DONE),
    ActionTransition(_S.IN_PROGRESS, _T.DROP, _S.DROPPED),
)
"""The status table (module docs): the only moves an action can make."""
MACHINE: Final = machine.Machine[ActionStatus, ActionTrigger, ActionTransition, None](
    "improvement action",
    ActionStatus,
    ActionTrigger,
    initial=ActionStatus.PLANNED,
    transitions=ACTION_TRANSITIONS,
    final=(ActionStatus.DONE, ActionStatus.DROPPED),
)
"""The table on the kernel's state-machine engine; done and dropped are final."""


def _status(value: object) -> ActionStatus:
    return machine.parse_member(ActionStatus, value, "status")


def _trigger(value: object) -> ActionTrigger:
    return machine.parse_member(ActionTrigger, value, "trigger")


def _at(value: object) -> datetime:
    return to_utc(value, "at")


def _note(value: object) -> str:
    if not isinstance(value, str) or len(value) > 2000:
        raise ValidationError("note", value, "must be a string of at most 2000 characters")
    return value


@attrs.frozen
class ActionChange:
    """One recorded move: when, from which status to which, on what trigger, with a note."""

    at: datetime = attrs.field(converter=_at)
    from_status: ActionStatus = attrs.field(converter=_status)
    to_status: ActionStatus = attrs.field(converter=_status)
    trigger: ActionTrigger = attrs.field(converter=_trigger)
    note: str = attrs.field(default="", converter=_note)

    @property
    def from_state(self) -> ActionStatus:
        """`from_status` under the name all histories share (the kernel's machine)."""
        return self.from_status

    @property
    def to_state(self) -> ActionStatus:
        """`to_status` under the name every history shares."""
        return self.to_status


# -- events ----------------------------------------------------------------------------------


@event_type("improvement.action_planned")
@attrs.frozen(kw_only=True)
class ActionPlanned(DomainEvent):
    """An improvement action was planned for ``themes``."""

    themes: tuple[str, ...]


@event_type("improvement.action_status_changed")
@attrs.frozen(kw_only=True)
class ActionStatusChanged(DomainEvent):
    """An improvement action moved from ``from_status`` to ``to_status``."""

    from_status: ActionStatus
    to_status: ActionStatus
    trigger: ActionTrigger


@event_type("improvement.action_reassigned")
@attrs.frozen(kw_only=True)
class ActionReassigned(DomainEvent):
    """An improvement action got a new owner (the owner itself is not in the event)."""


# -- the aggregate ---------------------------------------------------------------------------


def _id(value: object) -> str:
    return validate_id(value, "id")


def _title(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ValidationError("title", value, "must be a non-empty string of at most 200 chars")
    return value.strip()


def _owner(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise ValidationError("owner", value, "must be a non-empty string of at most 100 chars")
    return value.strip()


def _themes(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("themes", value, "must be a collection of theme tags")
    themes = tuple(sorted({normalize_slug(v, "themes") for v in value}))
    if not themes:
        raise ValidationError("themes", value, "an action must address at least one theme")
    return themes


def _due(value: object) -> date | None:
    return None if value is None else ensure_date(value, "due_on")


def _history(value: object) -> tuple[ActionChange, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("history", value, "must be a sequence of ActionChange")
    changes = tuple(value)
    for i, change in enumerate(changes):
        if not isinstance(change, ActionChange):
            raise ValidationError(f"history[{i}]", change, "must be an ActionChange")
    return changes


@attrs.frozen(kw_only=True)
class ImprovementAction:
    """A change made to fix what feedback themes point at, and the record of its progress.

    ``themes`` (slugs, sorted, at least one) are the themes it addresses;
    ``planned_at`` when it was planned; ``due_on`` an optional target date;
    ``status`` and ``history`` follow
    [`ACTION_TRANSITIONS`][crmcore.feedback.improvement.ACTION_TRANSITIONS] (checked on
    construction, also when decoded from storage); ``version`` is the stored version (0 until
    saved). Change it with [`plan()`][crmcore.feedback.improvement.ImprovementAction.plan],
    [`start()`][crmcore.feedback.improvement.ImprovementAction.start],
    [`complete()`][crmcore.feedback.improvement.ImprovementAction.complete],
    [`drop()`][crmcore.feedback.improvement.ImprovementAction.drop],
    [`fire()`][crmcore.feedback.improvement.ImprovementAction.fire] and
    [`reassign()`][crmcore.feedback.improvement.ImprovementAction.reassign]: each returns an
    [`Outcome`][crmcore.kernel.events.Outcome].
    """

    id: str = attrs.field(converter=_id)
    title: str = attrs.field(converter=_title)
    themes: tuple[str, ...] = attrs.field(converter=_themes)
    owner: str = attrs.field(converter=_owner)
    planned_at: datetime = attrs.field(converter=_at)
    due_on: date | None = attrs.field(default=None, converter=_due)
    status: ActionStatus = attrs.field(default=ActionStatus.PLANNED, converter=_status)
    history: tuple[ActionChange, ...] = attrs.field(default=(), converter=_history)
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        def is_a_row(i: int, change: ActionChange) -> None:
            rows = MACHINE.rows_on(change.from_status, change.trigger)
            if not rows or rows[0].target is not change.to_status:
                raise ValidationError(f"history[{i}]", change, "is not a row of the action table")

        current = machine.check_history(
            self.history, ActionStatus.PLANNED, start=self.planned_at, rule=is_a_row
        )
        if self.status is not current:
            raise ValidationError("status", self.status.value, f"must be {current.value}")

    # -- queries -------------------------------------------------------------------------------
    def _entered(self, status: ActionStatus) -> datetime | None:
        for change in self.history:
            if change.to_status is status:
                return change.at
        return None

    @property
    def started_at(self) -> datetime | None:
        """When work started (``None`` if it never did)."""
        return self._entered(ActionStatus.IN_PROGRESS)

    @property
    def done_at(self) -> datetime | None:
        """When the action was completed: the default date its effect is measured from."""
        return self._entered(ActionStatus.DONE)

    @property
    def dropped_at(self) -> datetime | None:
        """When the action was dropped (``None`` if it was not)."""
        return self._entered(ActionStatus.DROPPED)

    def status_at(self, when: datetime) -> ActionStatus | None:
        """The status as of ``when`` (``None`` before the action was planned)."""
        instant = to_utc(when, "when")
        if instant < self.planned_at:
            return None
        return machine.state_at(self.history, instant, ActionStatus.PLANNED)

    def is_overdue(self, as_of: datetime) -> bool:
        """Not done or dropped and past ``due_on`` (compared as UTC dates) as of ``as_of``."""
        when = to_utc(as_of, "as_of")
        return self.due_on is not None and not self.status.is_final and when.date() > self.due_on

    # -- changes -------------------------------------------------------------------------------
    @classmethod
    def plan(
        cls,
        id: str,
        title: str,
        themes: Iterable[str],
        owner: str,
        *,
        at: datetime,
        due_on: date | None = None,
    ) -> Outcome[ImprovementAction]:
        """A new planned action and its
        [`ActionPlanned`][crmcore.feedback.improvement.ActionPlanned] event."""
        action = cls(id=id, title=title, themes=themes, owner=owner, planned_at=at, due_on=due_on)
        event = ActionPlanned(
            aggregate_id=action.id, occurred_at=action.planned_at, themes=action.themes
        )
        return Outcome(action, (event,))

    def fire(
        self, trigger: ActionTrigger | str, at: datetime, note: str = ""
    ) -> Outcome[ImprovementAction]:
        """Apply ``trigger`` at ``at`` by the table; IllegalTransitionError when it has no such row.

        ``at`` must not be before the last change (or the planning time).
        """
        row = MACHINE.fire(self.status, _trigger(trigger), None)
        when = to_utc(at, "at")
        last = self.history[-1].at if self.history else self.planned_at
        if when < last:
            raise ValidationError("at", when, f"must not be before {last.isoformat()}")
        change = ActionChange(when, row.source, row.target, row.trigger, note)
        updated = attrs.evolve(self, status=row.target, history=(*self.history, change))
        event = ActionStatusChanged(
            aggregate_id=self.id,
            occurred_at=when,
            from_status=row.source,
            to_status=row.target,
            trigger=row.trigger,
        )
        return Outcome(updated, (event,))

    def start(self, at: datetime, note: str = "") -> Outcome[ImprovementAction]:
        """planned → in_progress."""
        return self.fire(ActionTrigger.START, at, note)

    def complete(self, at: datetime, note: str = "") -> Outcome[ImprovementAction]:
        """in_progress → done; ``at`` becomes the default date of
        [`measure_effect()`][crmcore.feedback.measure_effect]."""
        return self.fire(ActionTrigger.COMPLETE, at, note)

    def drop(self, at: datetime, note: str = "") -> Outcome[ImprovementAction]:
        """planned or in_progress → dropped (``note``: why)."""
        return self.fire(ActionTrigger.DROP, at, note)

    def reassign(self, owner: str, at: datetime) -> Outcome[ImprovementAction]:
        """A new owner; not allowed once the action is done or dropped."""
        if self.status.is_final:
            raise IllegalTransitionError(self.status.value, "reassign", "the action is finished")
        when = to_utc(at, "at")
        updated = attrs.evolve(self, owner=owner)
        if updated.owner == self.owner:
            return Outcome(self)
        return Outcome(updated, (ActionReassigned(aggregate_id=self.id, occurred_at=when),))
