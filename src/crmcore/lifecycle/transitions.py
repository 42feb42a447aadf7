"""The lifecycle state machine, declared as data: one table of transitions.

Each [`Transition`][crmcore.lifecycle.transitions.Transition] row reads "from ``source``, on
``trigger``, go to ``target`` if the ``guard`` holds". A trigger names where it leads (``grow``
always ends in growth, ``decline`` in decline, ...), so ``(source, trigger)`` and ``(source,
target)`` each pick at most one row. What kind of move a row is (acquisition, progression, the churn
early warning, churn, reactivation) is the row's
[`TransitionKind`][crmcore.lifecycle.transitions.TransitionKind], and the kind decides which event
is raised.

A guard is data too: a named set of reason codes, at least one of which the
move's [`Evidence`][crmcore.lifecycle.evidence.Evidence] must carry. A move into
decline needs a decline reason, a move into churned the churn-horizon reason,
and so on; a transition without receipts is refused.

Moves that are not in the table raise
[`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError]
([`crmcore.lifecycle.record`][crmcore.lifecycle.record]): nothing ever goes back to prospect, and
only a prospect becomes new.

Examples:
    >>> row = transition_for(LifecycleState.DECLINE, LifecycleState.MATURE)
    >>> row.trigger, row.kind, row.guard
    (<Trigger.MATURE: 'mature'>, <TransitionKind.REACTIVATION: 'reactivation'>, 'stable_activity')
    >>> transition_for(LifecycleState.MATURE, LifecycleState.NEW) is None
    True
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

import attrs

from crmcore.kernel import machine
from crmcore.kernel.arrays import Int16Array
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.validators import instance_of
from crmcore.lifecycle.evidence import Evidence, Reason
from crmcore.lifecycle.states import LifecycleState

__all__ = [
    "GUARDS",
    "MACHINE",
    "ROW_OF_PAIR",
    "TRANSITIONS",
    "Guard",
    "Transition",
    "TransitionKind",
    "Trigger",
    "allowed_targets",
    "allowed_triggers",
    "transition_for",
    "transition_on",
]

S = LifecycleState


class Trigger(enum.StrEnum):
    """What happened: each trigger names the state it leads to."""

    FIRST_PURCHASE = "first_purchase"
    """A prospect bought for the first time (to new)."""
    GROW = "grow"
    """Buying more, or rebuilding after a win-back (to growth)."""
    MATURE = "mature"
    """Settled into stable buying (to mature)."""
    DECLINE = "decline"
    """Buying less or overdue (to decline: the churn early warning)."""
    CHURN = "churn"
    """Silent beyond the churn horizon (to churned)."""


class TransitionKind(enum.StrEnum):
    """The business meaning of a move; it selects the event a move raises."""

    ACQUISITION = "acquisition"
    """From prospect into an active state."""
    PROGRESSION = "progression"
    """Between active states."""
    WARNING = "warning"
    """Into decline: the churn early warning."""
    CHURN = "churn"
    """Into churned."""
    REACTIVATION = "reactivation"
    """Win-back: from decline or churned back to an active state."""


@attrs.frozen
class Guard:
    """A named condition on a move's evidence: at least one of ``reasons`` fired."""

    name: str
    reasons: frozenset[Reason]
    description: str

    def allows(self, evidence: Evidence) -> bool:
        """True when ``evidence`` carries one of this guard's reasons."""
        return not self.reasons.isdisjoint(instance_of(evidence, Evidence, "evidence").reasons)

    def explain(self, evidence: Evidence) -> str:
        """Why the guard refuses ``evidence``: the reasons it needs and those it got."""
        wanted = ", ".join(sorted(r.value for r in self.reasons))
        got = ", ".join(r.value for r in instance_of(evidence, Evidence, "evidence").reasons)
        got = got or "none"
        return (
            f"guard '{self.name}' ({self.description}) needs one of the reasons {wanted}; "
            f"the evidence has {got}"
        )


GUARDS: Final[Mapping[str, Guard]] = FrozenDict(
    (guard.name, guard)
    for guard in (
        Guard(
            "first_purchase_recent",
            frozenset({Reason.FIRST_PURCHASE_RECENT}),
            "the first purchase lies within the new-customer window",
        ),
        Guard(
            "growth_signal",
            frozenset({Reason.FREQUENCY_UP, Reason.SPEND_UP, Reason.BUILDING_HISTORY}),
            "frequency or spend rose, or the customer is still building a history",
        ),
        Guard(
            "stable_activity",
            frozenset({Reason.STABLE_ACTIVITY}),
            "an established customer buying steadily",
        ),
        Guard(
            "decline_signal",
            frozenset(
                {
                    Reason.RECENCY_BEYOND_USUAL_GAP,
                    Reason.NO_REPEAT_PURCHASE,
                    Reason.FREQUENCY_DOWN,
                    Reason.SPEND_DOWN,
                }
            ),
            "overdue against the usual gap, no repeat purchase, or frequency or spend fell",
        ),
        Guard(
            "churn_horizon_passed",
            frozenset({Reason.NO_ACTIVITY_BEYOND_CHURN_HORIZON}),
            "no purchase within the churn horizon",
        ),
    )
)
"""Every guard, by name."""


def _guard_name(value: object) -> str:
    if not isinstance(value, str) or value not in GUARDS:
        raise ValidationError("guard", value, f"must be one of {', '.join(GUARDS)}")
    return value


@attrs.frozen
class Transition:
    """One row of the table: ``source`` --``trigger``--> ``target``, if ``guard`` holds.

    A row of the kernel's state machine ([`crmcore.kernel.machine.Row`][crmcore.kernel.machine.Row])
    that also says what ``kind`` of move it is; every lifecycle row is guarded.
    """

    source: LifecycleState
    trigger: Trigger
    target: LifecycleState
    kind: TransitionKind
    guard: str = attrs.field(converter=_guard_name)
    description: str = ""

    def allows(self, evidence: Evidence) -> bool:
        """True when the row's guard accepts ``evidence``."""
        return GUARDS[self.guard].allows(evidence)


T, K = Trigger, TransitionKind

TRANSITIONS: Final[tuple[Transition, ...]] = (
    # acquisition: a prospect starts buying (or is first seen with a purchase history)
    Transition(S.PROSPECT, T.FIRST_PURCHASE, S.NEW, K.ACQUISITION, "first_purchase_recent",
               "first purchase"),
    Transition(S.PROSPECT, T.GROW, S.GROWTH, K.ACQUISITION, "growth_signal",
               "first classified with a growing purchase history"),
    Transition(S.PROSPECT, T.MATURE, S.MATURE, K.ACQUISITION, "stable_activity",
               "first classified with an established purchase history"),
    Transition(S.PROSPECT, T.DECLINE, S.DECLINE, K.WARNING, "decline_signal",
               "first classified with a declining purchase history"),
    Transition(S.PROSPECT, T.CHURN, S.CHURNED, K.CHURN, "churn_horizon_passed",
               "first classified after the customer had already lapsed"),
    # progression between active states
    Transition(S.NEW, T.GROW, S.GROWTH, K.PROGRESSION, "growth_signal", "came back for more"),
    Transition(S.NEW, T.MATURE, S.MATURE, K.PROGRESSION, "stable_activity",
               "became an established buyer straight away"),
    Transition(S.GROWTH, T.MATURE, S.MATURE, K.PROGRESSION, "stable_activity", "settled"),
    Transition(S.MATURE, T.GROW, S.GROWTH, K.PROGRESSION, "growth_signal", "growing again"),
    # the churn early warning
    Transition(S.NEW, T.DECLINE, S.DECLINE, K.WARNING, "decline_signal",
               "no repeat purchase after the first"),
    Transition(S.GROWTH, T.DECLINE, S.DECLINE, K.WARNING, "decline_signal", "buying less"),
    Transition(S.MATURE, T.DECLINE, S.DECLINE, K.WARNING, "decline_signal", "buying less"),
    Transition(S.CHURNED, T.DECLINE, S.DECLINE, K.WARNING, "decline_signal",
               "bought again after churning, but not enough to count as active"),
    # churn
    Transition(S.NEW, T.CHURN, S.CHURNED, K.CHURN, "churn_horizon_passed", "lapsed"),
    Transition(S.GROWTH, T.CHURN, S.CHURNED, K.CHURN, "churn_horizon_passed", "lapsed"),
    Transition(S.MATURE, T.CHURN, S.CHURNED, K.CHURN, "churn_horizon_passed", "lapsed"),
    Transition(S.DECLINE, T.CHURN, S.CHURNED, K.CHURN, "churn_horizon_passed",
               "the warning was not heeded"),
    # win-back
    Transition(S.DECLINE, T.GROW, S.GROWTH, K.REACTIVATION, "growth_signal",
               "won back: buying more again"),
    Transition(S.DECLINE, T.MATURE, S.MATURE, K.REACTIVATION, "stable_activity",
               "won back: steady again"),
    Transition(S.CHURNED, T.GROW, S.GROWTH, K.REACTIVATION, "growth_signal",
               "won back after churning"),
    Transition(S.CHURNED, T.MATURE, S.MATURE, K.REACTIVATION, "stable_activity",
               "won back after churning, straight to steady buying"),
)  # fmt: skip
"""The lifecycle state machine. Read a row as: from source, on trigger, to target."""

MACHINE: Final = machine.Machine[LifecycleState, Trigger, Transition, Evidence](
    "lifecycle",
    LifecycleState,
    Trigger,
    initial=LifecycleState.PROSPECT,
    transitions=TRANSITIONS,
    guards=GUARDS.values(),
)
"""The table on the kernel's state-machine engine: lookups, guards, and the array form."""


def _check_table() -> None:
    """The lifecycle's own promises on top of the kernel's checks (at import).

    A row changes the state, a trigger always leads to one state, and
    ``(source, trigger)`` and ``(source, target)`` each pick at most one row.
    """
    leads_to: dict[Trigger, LifecycleState] = {}
    for row in TRANSITIONS:
        if row.source is row.target:
            raise ValidationError("TRANSITIONS", row, "a row must change the state")
        if leads_to.setdefault(row.trigger, row.target) is not row.target:
            raise ValidationError("TRANSITIONS", row, "a trigger must always lead to one state")
        if len(MACHINE.rows_on(row.source, row.trigger)) > 1:
            raise ValidationError("TRANSITIONS", row, "duplicate row")
        if len(MACHINE.rows_between(row.source, row.target)) > 1:
            raise ValidationError("TRANSITIONS", row, "duplicate row")


_check_table()


def transition_on(source: LifecycleState, trigger: Trigger) -> Transition | None:
    """The row for ``trigger`` fired in ``source``, or ``None`` when the table has none."""
    rows = MACHINE.rows_on(source, trigger)
    return rows[0] if rows else None


def transition_for(source: LifecycleState, target: LifecycleState) -> Transition | None:
    """The row that moves ``source`` to ``target``, or ``None`` when the table has none."""
    rows = MACHINE.rows_between(source, target)
    return rows[0] if rows else None


def allowed_triggers(source: LifecycleState) -> tuple[Trigger, ...]:
    """The triggers with a row from ``source``, in table order."""
    return MACHINE.allowed_triggers(source)


def allowed_targets(source: LifecycleState) -> tuple[LifecycleState, ...]:
    """The states reachable from ``source`` in one move, in table order."""
    return MACHINE.allowed_targets(source)


ROW_OF_PAIR: Final[Int16Array] = MACHINE.row_table
"""For the batch diff: the index of the row from state code ``i`` to ``j``, or -1."""
