"""The case state machine as data: the transition table, its named guards, the policy.

Each row of [`CASE_TRANSITIONS`][crmcore.feedback.case_machine.CASE_TRANSITIONS] reads "from
``source``, on ``trigger``, go to ``target`` if ``guard`` holds"; a ``(source, trigger)`` pair may
have several rows told apart by their guards (the follow-up goes to ``resolved`` or back to
``in_progress`` by the customer's verdict), and the first row whose guard holds wins. The table runs
on the kernel's state-machine engine ([`MACHINE`][crmcore.feedback.case_machine.MACHINE], a
[`crmcore.kernel.machine.Machine`][crmcore.kernel.machine.Machine]); the guards see a
[`GuardContext`][crmcore.feedback.case_machine.GuardContext] and are listed by name in
[`CASE_GUARDS`][crmcore.feedback.case_machine.CASE_GUARDS].


    new --acknowledge--> acknowledged --start--> in_progress
    in_progress --wait_on_customer--> waiting_on_customer --customer_replied--> in_progress
    in_progress | waiting_on_customer --resolve--> resolved
    resolved --follow_up (satisfied)--> resolved --close--> closed
    resolved --follow_up (unhappy)--> in_progress              (reopened by the customer)
    resolved | closed --reopen (within the reopen window)--> in_progress
    any open state --assign--> the same state

Rules the guards enforce:

* **close** only after a follow-up with the customer, recorded after the
  latest resolution, whose verdict is "resolved" and whose satisfaction is
  not in the CSAT negative band (1-2);
* an **unhappy follow-up reopens** the case (Qmeter "reopen-on-unhappy");
* **resolve** needs a [`Resolution`][crmcore.feedback.case_changes.Resolution]
  (root-cause code and action taken) when the
  [`CasePolicy`][crmcore.feedback.case_machine.CasePolicy] says so (the default: "fixed without a
  why does not count", Qmeter);
* **reopen** is allowed from resolved or closed within
  `CasePolicy.reopen_window` of the latest resolution.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final, TypeAlias

import attrs

from crmcore.feedback.case_changes import CaseChange, FollowUp, last_follow_up, resolved_at
from crmcore.feedback.vocabulary import CaseState, CaseTrigger
from crmcore.kernel import machine, validators
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.frozen import FrozenDict

__all__ = [
    "CASE_GUARDS",
    "CASE_TRANSITIONS",
    "DEFAULT_CASE_POLICY",
    "MACHINE",
    "CaseGuard",
    "CasePolicy",
    "CaseTransition",
    "GuardContext",
    "allowed_triggers",
    "transitions_on",
]


def _window(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise ValidationError("reopen_window", value, "must be a non-negative timedelta")


@attrs.frozen(kw_only=True)
class CasePolicy:
    """The tunable rules of the case machine.

    ``reopen_window``: how long after the latest resolution a resolved or
    closed case may be reopened (default 14 days); ``require_resolution``:
    whether resolving needs a [`Resolution`][crmcore.feedback.Resolution] (default True).
    """

    reopen_window: timedelta = attrs.field(default=timedelta(days=14), validator=_window)
    require_resolution: bool = attrs.field(default=True, validator=validators.flag)


DEFAULT_CASE_POLICY: Final = CasePolicy()
"""The default case policy."""


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
        """The latest follow-up after the latest resolution (see `Case.last_follow_up`)."""
        return last_follow_up(self.history)

    @property
    def resolved_at(self) -> datetime | None:
        """When the case was last resolved, if it is resolved or closed now."""
        return resolved_at(self.state, self.history)


CaseGuard: TypeAlias = machine.Guard[GuardContext]
"""A named condition on a move (the kernel's guard over a
[`GuardContext`][crmcore.feedback.case_machine.GuardContext])."""


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
"""Every guard of the case machine, by name."""


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
        return CASE_GUARDS[self.guard].allows(ctx)


S, T = CaseState, CaseTrigger

# fmt: off
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
"""The case state machine. Read a row as: from source, on trigger, to target, if guard."""
# fmt: on

MACHINE: Final = machine.Machine[CaseState, CaseTrigger, CaseTransition, GuardContext](
    "case",
    CaseState,
    CaseTrigger,
    initial=CaseState.NEW,
    transitions=CASE_TRANSITIONS,
    guards=CASE_GUARDS.values(),
)
"""The table on the kernel's state-machine engine."""


def transitions_on(source: CaseState, trigger: CaseTrigger) -> tuple[CaseTransition, ...]:
    """The rows for ``trigger`` in ``source``, in table order (empty: not allowed at all).

    Examples:
        >>> [r.target.value for r in transitions_on(CaseState.RESOLVED, CaseTrigger.FOLLOW_UP)]
        ['resolved', 'in_progress']
    """
    return MACHINE.rows_on(source, trigger)


def allowed_triggers(source: CaseState) -> frozenset[CaseTrigger]:
    """The triggers that have a row from ``source`` (their guards may still refuse)."""
    return frozenset(MACHINE.allowed_triggers(source))
