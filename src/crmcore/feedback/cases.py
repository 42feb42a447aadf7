"""Closed-loop cases: a state machine declared as data, and the case aggregate.

A :class:`Case` follows one piece of feedback (or any customer issue) through
the inner loop (DOMAIN.md §6; PEERS.md §5.1, Qmeter and Sprinklr):

.. code-block:: text

    new --acknowledge--> acknowledged --start--> in_progress
    in_progress --wait_on_customer--> waiting_on_customer --customer_replied--> in_progress
    in_progress | waiting_on_customer --resolve--> resolved
    resolved --follow_up (satisfied)--> resolved --close--> closed
    resolved --follow_up (unhappy)--> in_progress              (reopened by the customer)
    resolved | closed --reopen (within the reopen window)--> in_progress
    any open state --assign--> the same state

The table :data:`CASE_TRANSITIONS` is the whole machine: each row reads
"from ``source``, on ``trigger``, go to ``target`` if ``guard`` holds". A
``(source, trigger)`` pair may have several rows told apart by their guards
(the follow-up goes to ``resolved`` or back to ``in_progress`` by the
customer's verdict); the first row whose guard holds wins. Guards are named
(:data:`CASE_GUARDS`) so they can be listed and documented.

Rules the guards enforce:

* **close** only after a follow-up with the customer, recorded after the
  latest resolution, whose verdict is "resolved" and whose satisfaction is
  not in the CSAT negative band (1-2);
* an **unhappy follow-up reopens** the case (Qmeter "reopen-on-unhappy");
* **resolve** needs a :class:`Resolution` (root-cause code and action taken)
  when the :class:`CasePolicy` says so (the default: "fixed without a why does
  not count", Qmeter);
* **reopen** is allowed from resolved or closed within
  :attr:`CasePolicy.reopen_window` of the latest resolution.

Every change is kept in :attr:`Case.history` with its time; times never go
back. Misuse raises :class:`~crmcore.kernel.errors.IllegalTransitionError` naming the
state, the trigger or target, and the rule that forbids it; nothing changes
(operations return new values in an :class:`~crmcore.kernel.events.Outcome`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import attrs

from crmcore.customers.records import normalize_slug
from crmcore.journey.scores import Scale
from crmcore.kernel import validators
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.ids import CustomerId, validate_id
from crmcore.kernel.ids import customer_id as to_customer_id

if TYPE_CHECKING:
    from crmcore.feedback.events import CaseEvent

__all__ = [
    "ERASED_TEXT",
    "CASE_GUARDS",
    "CASE_TRANSITIONS",
    "DEFAULT_CASE_POLICY",
    "OPEN_STATES",
    "Assignment",
    "Case",
    "CaseChange",
    "CaseGuard",
    "CasePolicy",
    "CaseState",
    "CaseTransition",
    "CaseTrigger",
    "FollowUp",
    "GuardContext",
    "Priority",
    "Resolution",
    "Verdict",
    "allowed_triggers",
    "transitions_on",
]


class CaseState(enum.StrEnum):
    """Where a case stands."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


class CaseTrigger(enum.StrEnum):
    """What happened to a case."""

    ASSIGN = "assign"
    ACKNOWLEDGE = "acknowledge"
    START = "start"
    WAIT_ON_CUSTOMER = "wait_on_customer"
    CUSTOMER_REPLIED = "customer_replied"
    RESOLVE = "resolve"
    FOLLOW_UP = "follow_up"
    CLOSE = "close"
    REOPEN = "reopen"


class Priority(enum.IntEnum):
    """A case's priority (Zendesk's four levels); ordered, stored by name (``"high"``)."""

    LOW = 1
    NORMAL = 2
    HIGH = 3
    URGENT = 4

    @property
    def label(self) -> str:
        """The lower-case name used in JSON and rules."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: object, field: str = "priority") -> Priority:
        """A priority from itself or its label; ValidationError otherwise."""
        if isinstance(value, Priority):
            return value
        if isinstance(value, str) and value.strip().upper() in cls.__members__:
            return cls[value.strip().upper()]
        labels = ", ".join(p.label for p in cls)
        raise ValidationError(field, value, f"must be one of {labels}")


class Verdict(enum.StrEnum):
    """The customer's answer to "was your issue resolved?" at follow-up."""

    RESOLVED = "resolved"
    NOT_RESOLVED = "not_resolved"


#: States in which the case still needs work or a verdict (all but closed).
OPEN_STATES: Final = frozenset(s for s in CaseState if s is not CaseState.CLOSED)


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


#: What an erased free-text field reads afterwards (where text is required).
ERASED_TEXT: Final = "(erased)"


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

    >>> FollowUp(Verdict.RESOLVED, 2).unhappy, FollowUp("resolved", 4).unhappy
    (True, False)
    """

    verdict: Verdict = attrs.field(converter=_verdict)
    satisfaction: int = attrs.field(validator=_satisfaction)

    @property
    def unhappy(self) -> bool:
        """Whether the follow-up says the loop is not closed."""
        return self.verdict is Verdict.NOT_RESOLVED or Scale.CSAT.is_negative(self.satisfaction)


def _window(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise ValidationError("reopen_window", value, "must be a non-negative timedelta")


def _flag(_instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise ValidationError(attribute.name, value, "must be True or False")


@attrs.frozen(kw_only=True)
class CasePolicy:
    """The tunable rules of the case machine.

    ``reopen_window``: how long after the latest resolution a resolved or
    closed case may be reopened (default 14 days); ``require_resolution``:
    whether resolving needs a :class:`Resolution` (default True).
    """

    reopen_window: timedelta = attrs.field(default=timedelta(days=14), validator=_window)
    require_resolution: bool = attrs.field(default=True, validator=_flag)


#: The default case policy.
DEFAULT_CASE_POLICY: Final = CasePolicy()


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


# -- guards -------------------------------------------------------------------------------------


@attrs.frozen
class GuardContext:
    """What a guard sees: the case's state and history before the move, the move, the policy.

    ``policy`` is ``None`` when a stored history is re-checked on
    construction: policy-dependent guards (the reopen window, a required
    resolution) then pass, since the policy in force at the time is not stored.
    """

    state: CaseState
    history: tuple[CaseChange, ...]
    change: CaseChange
    policy: CasePolicy | None

    @property
    def last_follow_up(self) -> FollowUp | None:
        """The latest follow-up after the latest resolution (see :attr:`Case.last_follow_up`)."""
        return _last_follow_up(self.history)

    @property
    def resolved_at(self) -> datetime | None:
        """When the case was last resolved, if it is resolved or closed now."""
        return _resolved_at(self.state, self.history)


def _last_follow_up(history: tuple[CaseChange, ...]) -> FollowUp | None:
    for change in reversed(history):
        if change.trigger is CaseTrigger.RESOLVE:
            return None
        if change.follow_up is not None:
            return change.follow_up
    return None


def _resolved_at(state: CaseState, history: tuple[CaseChange, ...]) -> datetime | None:
    if state not in (CaseState.RESOLVED, CaseState.CLOSED):
        return None
    for change in reversed(history):
        if change.trigger is CaseTrigger.RESOLVE:
            return change.at
    return None


@attrs.frozen
class CaseGuard:
    """A named condition on a move; ``check`` answers whether it holds."""

    name: str
    description: str
    check: Callable[[GuardContext], bool] = attrs.field(eq=False, repr=False)


def _always(_ctx: GuardContext) -> bool:
    return True


def _resolution_recorded(ctx: GuardContext) -> bool:
    if ctx.policy is None or not ctx.policy.require_resolution:
        return True
    return ctx.change.resolution is not None


def _customer_satisfied(ctx: GuardContext) -> bool:
    return ctx.change.follow_up is not None and not ctx.change.follow_up.unhappy


def _customer_unhappy(ctx: GuardContext) -> bool:
    return ctx.change.follow_up is not None and ctx.change.follow_up.unhappy


def _verified_follow_up(ctx: GuardContext) -> bool:
    follow_up = ctx.last_follow_up
    return follow_up is not None and not follow_up.unhappy


def _within_reopen_window(ctx: GuardContext) -> bool:
    if ctx.policy is None:
        return True
    resolved = ctx.resolved_at
    return resolved is not None and ctx.change.at - resolved <= ctx.policy.reopen_window


#: Every guard of the case machine, by name.
CASE_GUARDS: Final[Mapping[str, CaseGuard]] = FrozenDict(
    (g.name, g)
    for g in (
        CaseGuard("always", "no condition", _always),
        CaseGuard(
            "resolution_recorded",
            "the policy requires a root cause and the action taken to resolve",
            _resolution_recorded,
        ),
        CaseGuard(
            "customer_satisfied",
            "the customer says the issue is resolved and is not dissatisfied (CSAT 3-5)",
            _customer_satisfied,
        ),
        CaseGuard(
            "customer_unhappy",
            "the customer says the issue is not resolved, or is dissatisfied (CSAT 1-2)",
            _customer_unhappy,
        ),
        CaseGuard(
            "verified_follow_up",
            "closing needs a follow-up after the latest resolution in which the customer "
            "confirmed the resolution and was satisfied",
            _verified_follow_up,
        ),
        CaseGuard(
            "within_reopen_window",
            "a case reopens only within the policy's reopen window after its latest resolution",
            _within_reopen_window,
        ),
    )
)


def _guard_name(value: object) -> str:
    if not isinstance(value, str) or value not in CASE_GUARDS:
        raise ValidationError("guard", value, f"must be one of {', '.join(CASE_GUARDS)}")
    return value


@attrs.frozen
class CaseTransition:
    """One row of the table: ``source`` --``trigger``--> ``target``, if ``guard`` holds."""

    source: CaseState
    trigger: CaseTrigger
    target: CaseState
    guard: str = attrs.field(converter=_guard_name)
    description: str = ""

    def allows(self, ctx: GuardContext) -> bool:
        """Whether the row's guard holds in ``ctx``."""
        return CASE_GUARDS[self.guard].check(ctx)


S, T = CaseState, CaseTrigger

# fmt: off
#: The case state machine. Read a row as: from source, on trigger, to target, if guard.
CASE_TRANSITIONS: Final[tuple[CaseTransition, ...]] = (
    *(CaseTransition(s, T.ASSIGN, s, "always", "(re)assign the owner")
      for s in (S.NEW, S.ACKNOWLEDGED, S.IN_PROGRESS, S.WAITING_ON_CUSTOMER, S.RESOLVED)),
    CaseTransition(S.NEW, T.ACKNOWLEDGE, S.ACKNOWLEDGED, "always",
                   "first response to the customer"),
    CaseTransition(S.ACKNOWLEDGED, T.START, S.IN_PROGRESS, "always", "work starts"),
    CaseTransition(S.IN_PROGRESS, T.WAIT_ON_CUSTOMER, S.WAITING_ON_CUSTOMER, "always",
                   "asked the customer; the SLA clock pauses"),
    CaseTransition(S.WAITING_ON_CUSTOMER, T.CUSTOMER_REPLIED, S.IN_PROGRESS, "always",
                   "the customer answered; the clock runs again"),
    CaseTransition(S.IN_PROGRESS, T.RESOLVE, S.RESOLVED, "resolution_recorded", "fixed"),
    CaseTransition(S.WAITING_ON_CUSTOMER, T.RESOLVE, S.RESOLVED, "resolution_recorded",
                   "fixed without a further answer from the customer"),
    CaseTransition(S.RESOLVED, T.FOLLOW_UP, S.RESOLVED, "customer_satisfied",
                   "the customer confirms the fix"),
    CaseTransition(S.RESOLVED, T.FOLLOW_UP, S.IN_PROGRESS, "customer_unhappy",
                   "the customer is unhappy: the case reopens"),
    CaseTransition(S.RESOLVED, T.CLOSE, S.CLOSED, "verified_follow_up", "the loop is closed"),
    CaseTransition(S.RESOLVED, T.REOPEN, S.IN_PROGRESS, "within_reopen_window", "reopened"),
    CaseTransition(S.CLOSED, T.REOPEN, S.IN_PROGRESS, "within_reopen_window", "reopened"),
)
# fmt: on

_ROWS: Final[dict[tuple[CaseState, CaseTrigger], tuple[CaseTransition, ...]]] = {}
for _row in CASE_TRANSITIONS:
    _ROWS[(_row.source, _row.trigger)] = (*_ROWS.get((_row.source, _row.trigger), ()), _row)


def transitions_on(source: CaseState, trigger: CaseTrigger) -> tuple[CaseTransition, ...]:
    """The rows for ``trigger`` in ``source``, in table order (empty: not allowed at all).

    >>> [r.target.value for r in transitions_on(CaseState.RESOLVED, CaseTrigger.FOLLOW_UP)]
    ['resolved', 'in_progress']
    """
    return _ROWS.get((source, trigger), ())


def allowed_triggers(source: CaseState) -> frozenset[CaseTrigger]:
    """The triggers that have a row from ``source`` (their guards may still refuse)."""
    return frozenset(t for (s, t) in _ROWS if s is source)


def _pick(ctx: GuardContext) -> CaseTransition | None:
    """The first row for the change's trigger in the state whose guard holds."""
    for row in transitions_on(ctx.state, ctx.change.trigger):
        if row.allows(ctx):
            return row
    return None


# -- the aggregate ------------------------------------------------------------------------------


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

    Open one with :meth:`open` (or :func:`crmcore.feedback.rules.open_case_for`);
    change it with the trigger methods (:meth:`acknowledge`, :meth:`start`,
    :meth:`wait_on_customer`, :meth:`customer_replied`, :meth:`resolve`,
    :meth:`follow_up`, :meth:`close`, :meth:`reopen`, :meth:`assign`) or
    :meth:`fire`; each returns an :class:`~crmcore.kernel.events.Outcome` with the new
    case and its events. The history is re-checked on construction (also when
    decoded from storage): it starts at ``new``, each change starts where the
    previous ended, is a row of :data:`CASE_TRANSITIONS` whose
    policy-independent guard holds, times never go back (nor before
    ``opened_at``), and ``state`` is where the history ends.

    >>> from datetime import UTC, datetime, timedelta
    >>> t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    >>> case = Case.open("case-1", "c-1", t, priority="high").value
    >>> case = case.acknowledge(t + timedelta(minutes=5)).value
    >>> case.state, case.acknowledged_at
    (<CaseState.ACKNOWLEDGED: 'acknowledged'>, datetime.datetime(2026, 3, 2, 9, 5, tzinfo=...))
    >>> case.close(t + timedelta(hours=1))
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.IllegalTransitionError: cannot go from acknowledged to close: no close ...
    """

    id: str = attrs.field(converter=_case_id)
    customer_id: CustomerId = attrs.field(converter=_customer)
    opened_at: datetime = attrs.field(converter=_opened_at)
    priority: Priority = attrs.field(default=Priority.NORMAL, converter=_priority)
    state: CaseState = attrs.field(default=CaseState.NEW, converter=_change_state)
    history: tuple[CaseChange, ...] = attrs.field(default=(), converter=_changes)
    feedback_id: str | None = attrs.field(default=None, converter=_feedback_id)
    rules: tuple[str, ...] = attrs.field(default=(), converter=_rule_names)
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        state, previous = CaseState.NEW, self.opened_at
        for i, change in enumerate(self.history):
            where = f"history[{i}]"
            if change.at < previous:
                what = "opened_at" if i == 0 else "the previous change"
                raise ValidationError(f"{where}.at", change.at, f"must not be before {what}")
            if change.from_state is not state:
                raise ValidationError(
                    f"{where}.from_state", change.from_state, f"must be {state} (the state then)"
                )
            row = _pick(GuardContext(state, self.history[:i], change, None))
            if row is None or row.target is not change.to_state:
                raise ValidationError(where, change.trigger.value, "is not an allowed transition")
            state, previous = change.to_state, change.at
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
        return _resolved_at(self.state, self.history)

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
        return _last_follow_up(self.history)

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
        state = CaseState.NEW
        for change in self.history:
            if change.at > instant:
                break
            state = change.to_state
        return state

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
        from crmcore.feedback import events as ev

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

        Raises :class:`~crmcore.kernel.errors.IllegalTransitionError` when the table has
        no row for the trigger in the current state, or no row whose guard
        holds; :class:`~crmcore.kernel.errors.ValidationError` for bad facts or a
        time before the latest change.
        """
        chosen = _change_trigger(trigger)
        if not isinstance(policy, CasePolicy):
            raise ValidationError("policy", policy, "must be a CasePolicy")
        instant = to_utc(at, "at")
        if instant < self.last_changed_at:
            raise ValidationError(
                "at", at, f"must not be before the case's latest change ({self.last_changed_at})"
            )
        rows = transitions_on(self.state, chosen)
        if not rows:
            raise IllegalTransitionError(
                self.state.value,
                chosen.value,
                f"no {chosen.value} from {self.state.value}; allowed: "
                + (", ".join(sorted(allowed_triggers(self.state))) or "none"),
            )
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
        row = _pick(GuardContext(self.state, self.history, change, policy))
        if row is None:
            why = " / ".join(CASE_GUARDS[r.guard].description for r in rows)
            raise IllegalTransitionError(self.state.value, rows[0].target.value, why)
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
    from crmcore.feedback import events as ev

    common: dict[str, Any] = {
        "aggregate_id": case.id,
        "occurred_at": change.at,
        "customer_id": case.customer_id,
        "from_state": change.from_state,
        "to_state": change.to_state,
        "trigger": change.trigger,
    }
    trigger = change.trigger
    out: list[CaseEvent] = []
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
