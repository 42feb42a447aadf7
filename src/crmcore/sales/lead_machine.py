"""The lead status machine as data: statuses, triggers, guards and the transition table.

A lead moves through six statuses (HubSpot's lead status and Salesforce's lead status picklist
have the same shape; PEERS.md §1.1). Each row of
[`LEAD_TRANSITIONS`][crmcore.sales.lead_machine.LEAD_TRANSITIONS] reads "from ``source``, on
``trigger``, go to ``target`` if ``guard`` holds"; the table runs on the kernel's state-machine
engine ([`MACHINE`][crmcore.sales.lead_machine.MACHINE]).

    new --work--> working --nurture--> nurturing --work--> working
    new | working | nurturing --qualify [reachable]--> qualified --convert--> converted
    qualified --work--> working                          (sent back by sales)
    qualified --nurture--> nurturing                     (not ready to buy yet)
    any open status --disqualify [reason_given]--> disqualified
    disqualified --reopen [not_merged]--> working
    any open status --assign--> the same status          (a new owner)

``converted`` is final: the lead became a customer and an opportunity. Disqualification always
carries a reason code (``"no_budget"``, ``"duplicate"``, ...), so "why did we drop it" has an
answer per source. Every move is kept in the lead's history as a
[`LeadChange`][crmcore.sales.lead_history.LeadChange].

Examples:
    >>> [s.value for s in MACHINE.allowed_targets(LeadStatus.QUALIFIED)]
    ['qualified', 'working', 'nurturing', 'disqualified', 'converted']
    >>> MACHINE.allowed_triggers(LeadStatus.CONVERTED)
    ()
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final, TypeAlias

import attrs

from crmcore.customers.records import normalize_slug
from crmcore.kernel import machine
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.machine import Transition

__all__ = [
    "CLOSED_STATUSES",
    "DISQUALIFY_REASONS",
    "LEAD_GUARDS",
    "LEAD_TRANSITIONS",
    "MACHINE",
    "OPEN_STATUSES",
    "LeadGuard",
    "LeadGuardContext",
    "LeadStatus",
    "LeadTrigger",
    "normalize_reason",
]


class LeadStatus(enum.StrEnum):
    """Where a lead stands: open (new, working, nurturing, qualified) or closed."""

    NEW = "new"
    WORKING = "working"
    NURTURING = "nurturing"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    CONVERTED = "converted"

    @property
    def is_open(self) -> bool:
        """Whether the lead is still being worked (not disqualified, not converted)."""
        return self not in CLOSED_STATUSES


class LeadTrigger(enum.StrEnum):
    """What moves a lead: one trigger per row of the table."""

    WORK = "work"
    NURTURE = "nurture"
    QUALIFY = "qualify"
    DISQUALIFY = "disqualify"
    REOPEN = "reopen"
    CONVERT = "convert"
    ASSIGN = "assign"


OPEN_STATUSES: Final = frozenset(
    {LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.NURTURING, LeadStatus.QUALIFIED}
)
"""The statuses of a lead still being worked."""
CLOSED_STATUSES: Final = frozenset({LeadStatus.DISQUALIFIED, LeadStatus.CONVERTED})
"""The statuses of a lead no longer worked (disqualified can be reopened; converted is final)."""

DISQUALIFY_REASONS: Final = (
    "no_budget",
    "no_authority",
    "no_need",
    "bad_timing",
    "competitor",
    "unreachable",
    "bad_contact_data",
    "not_interested",
    "spam",
    "duplicate",
)
"""Common disqualification reasons (BANT plus data quality); any slug is accepted.

``"duplicate"`` is the reason [`merge_leads()`][crmcore.sales.duplicates.merge_leads] records on
the lead it absorbs.
"""


def normalize_reason(value: object, field: str = "reason") -> str:
    """A disqualification reason as a slug code (``"No budget"`` → ``"no_budget"``).

    Examples:
        >>> normalize_reason("No Budget")
        'no_budget'
    """
    return normalize_slug(value, field)


@attrs.frozen
class LeadGuardContext:
    """What a guard sees: the lead's facts before the move, and the facts of the move.

    ``reason`` is the reason code given with the move; ``reachable`` says whether the lead has
    an e-mail address, a phone number or a known customer; ``merged`` whether it was merged into
    another lead. ``recheck`` is true when a stored history is re-checked on construction: the
    guards over the lead's *current* facts then pass (those facts may have changed since, e.g.
    erased contact details), and only the facts recorded in the change itself are judged.
    """

    status: LeadStatus
    trigger: LeadTrigger
    reason: str | None = None
    reachable: bool = True
    merged: bool = False
    recheck: bool = False


LeadGuard: TypeAlias = machine.Guard[LeadGuardContext]
"""A named condition on a lead move (the kernel's guard over a
[`LeadGuardContext`][crmcore.sales.lead_machine.LeadGuardContext])."""


def _reachable(ctx: LeadGuardContext) -> bool:
    return ctx.recheck or ctx.reachable


def _reason_given(ctx: LeadGuardContext) -> bool:
    return ctx.reason is not None


def _not_merged(ctx: LeadGuardContext) -> bool:
    return ctx.recheck or not ctx.merged


LEAD_GUARDS: Final[Mapping[str, LeadGuard]] = FrozenDict(
    (g.name, g)
    for g in (
        LeadGuard(
            "reachable",
            "a lead is qualified only when it can be reached: an e-mail address, a phone "
            "number or a known customer",
            _reachable,
        ),
        LeadGuard(
            "reason_given",
            "disqualifying a lead needs a reason code (e.g. 'no_budget')",
            _reason_given,
        ),
        LeadGuard(
            "not_merged",
            "a lead merged into another is closed for good; work the surviving lead",
            _not_merged,
        ),
    )
)
"""Every guard of the lead machine, by name."""

S, T = LeadStatus, LeadTrigger
_OPEN = (S.NEW, S.WORKING, S.NURTURING, S.QUALIFIED)

# fmt: off
LEAD_TRANSITIONS: Final[tuple[Transition[LeadStatus, LeadTrigger], ...]] = (
    *(Transition(s, T.ASSIGN, s, None, "a new owner") for s in _OPEN),
    Transition(S.NEW, T.WORK, S.WORKING, None, "first worked"),
    Transition(S.NURTURING, T.WORK, S.WORKING, None, "re-engaged"),
    Transition(S.QUALIFIED, T.WORK, S.WORKING, None, "sent back by sales"),
    Transition(S.NEW, T.NURTURE, S.NURTURING, None, "not ready: nurture"),
    Transition(S.WORKING, T.NURTURE, S.NURTURING, None, "not ready: nurture"),
    Transition(S.QUALIFIED, T.NURTURE, S.NURTURING, None, "not ready to buy yet"),
    *(Transition(s, T.QUALIFY, S.QUALIFIED, "reachable", "qualified")
      for s in (S.NEW, S.WORKING, S.NURTURING)),
    *(Transition(s, T.DISQUALIFY, S.DISQUALIFIED, "reason_given", "disqualified")
      for s in _OPEN),
    Transition(S.DISQUALIFIED, T.REOPEN, S.WORKING, "not_merged", "reopened"),
    Transition(S.QUALIFIED, T.CONVERT, S.CONVERTED, None,
               "converted to a customer and an opportunity"),
)
"""The lead machine. Read a row as: from source, on trigger, to target, if guard."""
# fmt: on

MACHINE: Final = machine.Machine[
    LeadStatus, LeadTrigger, Transition[LeadStatus, LeadTrigger], LeadGuardContext
](
    "lead",
    LeadStatus,
    LeadTrigger,
    initial=LeadStatus.NEW,
    transitions=LEAD_TRANSITIONS,
    guards=LEAD_GUARDS.values(),
    final=[LeadStatus.CONVERTED],
)
"""The lead table on the kernel's state-machine engine."""
