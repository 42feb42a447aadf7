"""Improvement actions (the outer loop) and their measured effect on the themes they address.

Closing single cases is the inner loop; the outer loop fixes the cause that
many customers complain about and checks that it worked (PEERS.md §5.1:
Medallia's inner vs outer loop; §7 gap 4, "nobody links ... theme-level
improvement actions with a measured effect"). An :class:`ImprovementAction`
names the themes it addresses (the tags of :mod:`crmcore.feedback.themes`),
an owner and a status that moves through one table of transitions::

    planned      --start-->     in_progress
    planned      --drop-->      dropped
    in_progress  --complete-->  done
    in_progress  --drop-->      dropped

Every move is kept with its time (:class:`ActionChange`); a move not in the
table raises :class:`~crmcore.kernel.errors.IllegalTransitionError`.

:func:`measure_effect` compares the addressed themes before and after the
action date (by default the day it was done) over two **equal** windows,
``[at - w, at)`` and ``[at, at + w)``: the themes' share of all feedback, the
NPS and the CSAT of the tagged feedback, each with its counts so a reader
sees how much evidence there is. If ``as_of`` cuts the after window short,
both windows shrink to the same length (``truncated`` says so). A before /
after difference is not proof of cause (seasonality, other changes); the
counts and intervals help judge it.

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
crmcore.kernel.errors.IllegalTransitionError: cannot go from done to start: ...
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Final

import attrs
import numpy as np

from crmcore.customers.records import normalize_slug
from crmcore.feedback.feedback import Feedback, FeedbackLog
from crmcore.feedback.metrics import CsatScore, NpsScore, _from_histogram, _z, feedback_log
from crmcore.journey.scores import Scale
from crmcore.kernel import validators
from crmcore.kernel.arrays import BoolArray, Int64Array
from crmcore.kernel.clock import ensure_date, to_micros, to_utc
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.events import DomainEvent, Outcome, event_type
from crmcore.kernel.ids import validate_id
from crmcore.kernel.reports import html_table, json_number

__all__ = [
    "ACTION_TRANSITIONS",
    "ActionChange",
    "ActionEffect",
    "ActionPlanned",
    "ActionReassigned",
    "ActionStatus",
    "ActionStatusChanged",
    "ActionTransition",
    "ActionTrigger",
    "ImprovementAction",
    "WindowMeasure",
    "measure_effect",
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


@attrs.frozen
class ActionTransition:
    """One row of the table: ``source`` --``trigger``--> ``target``."""

    source: ActionStatus
    trigger: ActionTrigger
    target: ActionStatus


_S, _T = ActionStatus, ActionTrigger
#: The status table (module docs): the only moves an action can make.
ACTION_TRANSITIONS: Final[tuple[ActionTransition, ...]] = (
    ActionTransition(_S.PLANNED, _T.START, _S.IN_PROGRESS),
    ActionTransition(_S.PLANNED, _T.DROP, _S.DROPPED),
    ActionTransition(_S.IN_PROGRESS, _T.COMPLETE, _S.DONE),
    ActionTransition(_S.IN_PROGRESS, _T.DROP, _S.DROPPED),
)
_TABLE: Final = {(row.source, row.trigger): row for row in ACTION_TRANSITIONS}


def _status(value: object) -> ActionStatus:
    if isinstance(value, ActionStatus):
        return value
    if isinstance(value, str) and value in ActionStatus._value2member_map_:
        return ActionStatus(value)
    raise ValidationError("status", value, f"must be one of {', '.join(ActionStatus)}")


def _trigger(value: object) -> ActionTrigger:
    if isinstance(value, ActionTrigger):
        return value
    if isinstance(value, str) and value in ActionTrigger._value2member_map_:
        return ActionTrigger(value)
    raise ValidationError("trigger", value, f"must be one of {', '.join(ActionTrigger)}")


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
    ``status`` and ``history`` follow :data:`ACTION_TRANSITIONS` (checked on
    construction, also when decoded from storage); ``version`` is the stored
    version (0 until saved). Change it with :meth:`plan`, :meth:`start`,
    :meth:`complete`, :meth:`drop`, :meth:`fire` and :meth:`reassign`: each
    returns an :class:`~crmcore.kernel.events.Outcome`.
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
        current = ActionStatus.PLANNED
        previous = self.planned_at
        for i, change in enumerate(self.history):
            where = f"history[{i}]"
            if change.from_status is not current:
                raise ValidationError(
                    f"{where}.from_status",
                    change.from_status.value,
                    f"must be {current.value} (the status then)",
                )
            row = _TABLE.get((change.from_status, change.trigger))
            if row is None or row.target is not change.to_status:
                raise ValidationError(where, change, "is not a row of the action table")
            if change.at < previous:
                raise ValidationError(f"{where}.at", change.at, "must not be before the previous")
            current, previous = change.to_status, change.at
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
        """A new planned action and its :class:`ActionPlanned` event."""
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
        wanted = _trigger(trigger)
        row = _TABLE.get((self.status, wanted))
        if row is None:
            allowed = ", ".join(
                r.trigger.value for r in ACTION_TRANSITIONS if r.source is self.status
            )
            raise IllegalTransitionError(
                self.status.value,
                wanted.value,
                f"no '{wanted.value}' move from {self.status.value} (allowed: {allowed or 'none'})",
            )
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
        """in_progress → done; ``at`` becomes the default date of :func:`measure_effect`."""
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


# -- measured effect -------------------------------------------------------------------------


@attrs.frozen
class WindowMeasure:
    """The addressed themes in one window ``[start, end)``.

    ``feedback`` counts all feedback in the window, ``tagged`` the feedback
    carrying any of the themes, ``share = tagged / feedback`` (``None``
    without feedback). ``nps``/``csat`` are the scores of the tagged
    feedback (``None`` without answers; their ``n`` is the evidence size).
    """

    start: datetime
    end: datetime
    feedback: int
    tagged: int
    share: float | None
    nps: NpsScore | None
    csat: CsatScore | None

    def to_dict(self) -> dict[str, object]:
        """The window as JSON-compatible data."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "feedback": self.feedback,
            "tagged": self.tagged,
            "share": json_number(self.share),
            "nps": None if self.nps is None else self.nps.to_dict(),
            "csat": None if self.csat is None else self.csat.to_dict(),
        }


def _diff(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


@attrs.frozen
class ActionEffect:
    """An action's themes before and after its date, over two equal windows (module docs).

    ``share_change`` is in shares (0..1), ``nps_change`` in NPS points,
    ``csat_change`` in percentage points; each is ``None`` when either
    window lacks the data.
    """

    action_id: str
    themes: tuple[str, ...]
    at: datetime
    window: timedelta
    truncated: bool
    before: WindowMeasure
    after: WindowMeasure

    @property
    def share_change(self) -> float | None:
        """After minus before: the themes' share of all feedback."""
        return _diff(self.after.share, self.before.share)

    @property
    def nps_change(self) -> float | None:
        """After minus before: the tagged feedback's NPS."""
        return _diff(
            None if self.after.nps is None else self.after.nps.value,
            None if self.before.nps is None else self.before.nps.value,
        )

    @property
    def csat_change(self) -> float | None:
        """After minus before: the tagged feedback's CSAT (% satisfied)."""
        return _diff(
            None if self.after.csat is None else self.after.csat.value,
            None if self.before.csat is None else self.before.csat.value,
        )

    def to_dict(self) -> dict[str, object]:
        """The effect as JSON-compatible data."""
        return {
            "action_id": self.action_id,
            "themes": list(self.themes),
            "at": self.at.isoformat(),
            "window_seconds": self.window.total_seconds(),
            "truncated": self.truncated,
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "share_change": json_number(self.share_change),
            "nps_change": json_number(self.nps_change),
            "csat_change": json_number(self.csat_change),
        }

    def _repr_html_(self) -> str:
        def row(label: str, w: WindowMeasure) -> list[object]:
            return [
                label,
                w.feedback,
                w.tagged,
                w.share,
                None if w.nps is None else w.nps.value,
                0 if w.nps is None else w.nps.n,
                None if w.csat is None else w.csat.value,
                0 if w.csat is None else w.csat.n,
            ]

        header = ["window", "feedback", "tagged", "share", "NPS", "NPS n", "CSAT %", "CSAT n"]
        kinds = ["auto", "int", "int", "pct", "float", "int", "float", "int"]
        days = self.window.total_seconds() / 86400
        return html_table(
            f"Effect of {self.action_id} on {', '.join(self.themes)}",
            header,
            [row("before", self.before), row("after", self.after)],
            kinds=kinds,
            caption=f"two windows of {days:.1f} days around {self.at.isoformat()}"
            + (" (shortened: after window reaches as_of)" if self.truncated else ""),
        )


def _window(
    log: FeedbackLog, tagged: BoolArray, us: Int64Array, start: datetime, end: datetime, z: float
) -> WindowMeasure:
    lo, hi = to_micros(start), to_micros(end)
    inside = (us >= lo) & (us < hi)
    hits = inside & tagged
    total, count = int(inside.sum()), int(hits.sum())
    scores: dict[Scale, NpsScore | CsatScore | None] = {}
    for scale in (Scale.NPS, Scale.CSAT):
        raw = log.scores[scale][hits]
        answers = raw[~np.isnan(raw)].astype(np.int64) - scale.low
        if len(answers):
            hist = np.bincount(answers, minlength=scale.high - scale.low + 1)
            result = _from_histogram(scale, hist.tolist(), z, 0.95)
            assert isinstance(result, NpsScore | CsatScore)
            scores[scale] = result
        else:
            scores[scale] = None
    nps_score, csat_score = scores[Scale.NPS], scores[Scale.CSAT]
    assert nps_score is None or isinstance(nps_score, NpsScore)
    assert csat_score is None or isinstance(csat_score, CsatScore)
    return WindowMeasure(
        start=start,
        end=end,
        feedback=total,
        tagged=count,
        share=count / total if total else None,
        nps=nps_score,
        csat=csat_score,
    )


def measure_effect(
    action: ImprovementAction,
    feedback: FeedbackLog | Iterable[Feedback],
    *,
    as_of: datetime,
    window: timedelta = timedelta(days=28),
    at: datetime | None = None,
) -> ActionEffect:
    """The action's themes in ``[at - window, at)`` vs ``[at, at + window)`` (module docs).

    ``at`` defaults to the action's completion time; an action not done
    needs an explicit ``at`` (e.g. its start, for a gradual rollout).
    ``as_of`` is when the measurement is made: feedback after it is
    ignored, and if the after window would reach past it both windows
    shrink to ``as_of - at`` (``truncated``). Intervals are 95 %.
    """
    if not isinstance(action, ImprovementAction):
        raise ValidationError("action", action, "must be an ImprovementAction")
    log = feedback_log(feedback)
    now = to_utc(as_of, "as_of")
    if at is None:
        if action.done_at is None:
            raise ValidationError(
                "at", None, f"action {action.id!r} is {action.status.value}: pass at= explicitly"
            )
        pivot = action.done_at
    else:
        pivot = to_utc(at, "at")
    if not isinstance(window, timedelta) or window <= timedelta(0):
        raise ValidationError("window", window, "must be a positive timedelta")
    length = min(window, now - pivot)
    if length <= timedelta(0):
        raise ValidationError("as_of", now, f"must be after the action date {pivot.isoformat()}")
    us = log.at.view(np.int64)
    tagged = np.zeros(len(log), dtype=bool)
    wanted = [i for i, t in enumerate(log.themes) if t in action.themes]
    if wanted:
        hit = np.isin(log.theme_codes, wanted)
        tagged[log.theme_rows()[hit]] = True
    z = _z(0.95)
    return ActionEffect(
        action_id=action.id,
        themes=action.themes,
        at=pivot,
        window=length,
        truncated=length < window,
        before=_window(log, tagged, us, pivot - length, pivot, z),
        after=_window(log, tagged, us, pivot, pivot + length, z),
    )
