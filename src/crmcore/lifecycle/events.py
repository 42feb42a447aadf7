"""Events raised when a customer's lifecycle state changes.

A state change raises exactly one event; its class follows from the
[`TransitionKind`][crmcore.lifecycle.transitions.TransitionKind] of the table row
([`EVENT_FOR_KIND`][crmcore.lifecycle.events.EVENT_FOR_KIND]):
[`ChurnWarning`][crmcore.lifecycle.events.ChurnWarning] on entering decline (the churn early
warning, with its risk score and reason codes),
[`CustomerChurned`][crmcore.lifecycle.events.CustomerChurned] on entering churned,
[`CustomerReactivated`][crmcore.lifecycle.events.CustomerReactivated] on a win-back,
[`LifecycleChanged`][crmcore.lifecycle.events.LifecycleChanged] otherwise. All carry the full
evidence: the reasons, the risk score, the activity facts and the policy name. They hold no personal
data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

import attrs

from crmcore.kernel.events import DomainEvent, event_type
from crmcore.kernel.frozen import FrozenDict
from crmcore.lifecycle.evidence import ActivityFacts, Reason
from crmcore.lifecycle.states import LifecycleState
from crmcore.lifecycle.transitions import TransitionKind, Trigger

__all__ = [
    "EVENT_FOR_KIND",
    "ChurnWarning",
    "CustomerChurned",
    "CustomerReactivated",
    "LifecycleChanged",
    "LifecycleEvent",
]


@attrs.frozen(kw_only=True)
class LifecycleEvent(DomainEvent):
    """Base of the lifecycle events: the move and its evidence.

    ``aggregate_id`` is the customer id, ``occurred_at`` when the change was
    recorded and ``as_of`` the instant the evidence describes.
    """

    from_state: LifecycleState
    to_state: LifecycleState
    trigger: Trigger
    transition: TransitionKind
    as_of: datetime
    reasons: tuple[Reason, ...]
    risk_score: float
    facts: ActivityFacts
    policy: str


@event_type("lifecycle.changed")
@attrs.frozen(kw_only=True)
class LifecycleChanged(LifecycleEvent):
    """A customer was acquired or moved between active states."""


@event_type("lifecycle.churn_warning")
@attrs.frozen(kw_only=True)
class ChurnWarning(LifecycleEvent):
    """The churn early warning (流失预警): the customer entered decline.

    ``risk_score`` (0..1) and ``reasons`` (e.g. ``recency_beyond_usual_gap``,
    ``frequency_down``, ``spend_down``) say how urgent and why.
    """


@event_type("lifecycle.churned")
@attrs.frozen(kw_only=True)
class CustomerChurned(LifecycleEvent):
    """The customer made no purchase within the churn horizon."""


@event_type("lifecycle.reactivated")
@attrs.frozen(kw_only=True)
class CustomerReactivated(LifecycleEvent):
    """Win-back: a declining or churned customer is active again (``from_state`` says which)."""


EVENT_FOR_KIND: Final[Mapping[TransitionKind, type[LifecycleEvent]]] = FrozenDict(
    {
        TransitionKind.ACQUISITION: LifecycleChanged,
        TransitionKind.PROGRESSION: LifecycleChanged,
        TransitionKind.WARNING: ChurnWarning,
        TransitionKind.CHURN: CustomerChurned,
        TransitionKind.REACTIVATION: CustomerReactivated,
    }
)
"""The event class each kind of move raises."""
