"""Domain events of the closed loop: feedback received, case moves, SLA escalations.

Feedback raises ``feedback.received``; each case operation raises one
``case.*`` event (an unhappy follow-up raises ``case.followed_up`` and then
``case.reopened``); the SLA clock raises ``sla.warning`` (about to breach) and
``sla.breached``. Events carry ids, codes and numbers only: no feedback text,
no notes, no descriptions of the action taken.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from crmcore.feedback.vocabulary import (
    CaseState,
    CaseTrigger,
    Channel,
    FeedbackKind,
    Priority,
    Verdict,
)
from crmcore.journey.scores import Scale
from crmcore.kernel.events import DomainEvent, event_type
from crmcore.kernel.frozen import FrozenDict

__all__ = [
    "CaseAcknowledged",
    "CaseAssigned",
    "CaseClosed",
    "CaseEvent",
    "CaseFollowedUp",
    "CaseMoved",
    "CaseOpened",
    "CaseReopened",
    "CaseResolved",
    "FeedbackReceived",
    "SlaBreached",
    "SlaEvent",
    "SlaWarning",
]


@event_type("feedback.received")
@attrs.frozen(kw_only=True)
class FeedbackReceived(DomainEvent):
    """Feedback arrived (``aggregate_id`` is the feedback id); its codes and scores, no text."""

    customer_id: str
    channel: Channel
    feedback_type: FeedbackKind
    scores: FrozenDict[Scale, int]
    themes: tuple[str, ...]


@attrs.frozen(kw_only=True)
class CaseEvent(DomainEvent):
    """Base of the case events: ``aggregate_id`` is the case id; the move it records."""

    customer_id: str
    from_state: CaseState
    to_state: CaseState
    trigger: CaseTrigger


@event_type("case.opened")
@attrs.frozen(kw_only=True)
class CaseOpened(DomainEvent):
    """A case was opened (state ``new``), from ``feedback_id`` if any, by the ``rules`` matched."""

    customer_id: str
    priority: Priority
    feedback_id: str | None = None
    rules: tuple[str, ...] = ()


@event_type("case.assigned")
@attrs.frozen(kw_only=True)
class CaseAssigned(CaseEvent):
    """The case's assignee and/or team changed (``None`` means unassigned)."""

    assignee: str | None
    team: str | None


@event_type("case.acknowledged")
@attrs.frozen(kw_only=True)
class CaseAcknowledged(CaseEvent):
    """The first response: the customer was told the case is being handled."""


@event_type("case.moved")
@attrs.frozen(kw_only=True)
class CaseMoved(CaseEvent):
    """Work started, or paused waiting on the customer, or resumed on their reply."""


@event_type("case.resolved")
@attrs.frozen(kw_only=True)
class CaseResolved(CaseEvent):
    """The case was resolved; ``root_cause`` is the root-cause code when one was recorded."""

    root_cause: str | None


@event_type("case.followed_up")
@attrs.frozen(kw_only=True)
class CaseFollowedUp(CaseEvent):
    """The customer's verdict on the resolution and their satisfaction (CSAT 1-5)."""

    verdict: Verdict
    satisfaction: int
    unhappy: bool


@event_type("case.closed")
@attrs.frozen(kw_only=True)
class CaseClosed(CaseEvent):
    """The loop closed: resolved, followed up, and the customer was satisfied."""


@event_type("case.reopened")
@attrs.frozen(kw_only=True)
class CaseReopened(CaseEvent):
    """The case went back to work: ``reason`` is ``"customer_unhappy"`` or ``"reopened"``."""

    reason: str
    reopen_count: int


@attrs.frozen(kw_only=True)
class SlaEvent(DomainEvent):
    """Base of the SLA escalations; ``aggregate_id`` is the case id.

    ``occurred_at`` is the instant the threshold was crossed (computed from
    the case history, not when it was noticed); ``target_seconds`` and
    ``elapsed_seconds`` are business time; ``escalate_to`` is the policy's
    escalation team, if any.
    """

    policy: str
    metric: str
    priority: Priority
    target_seconds: int
    elapsed_seconds: int
    due_at: datetime
    escalate_to: str | None = None


@event_type("sla.warning")
@attrs.frozen(kw_only=True)
class SlaWarning(SlaEvent):
    """About to breach: ``fraction`` of the target has elapsed and the metric is still open."""

    fraction: float


@event_type("sla.breached")
@attrs.frozen(kw_only=True)
class SlaBreached(SlaEvent):
    """The target elapsed before the metric was fulfilled."""
