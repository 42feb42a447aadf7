"""Shared helpers for the lifecycle tests: evidence that satisfies each target's guard."""

from __future__ import annotations

from datetime import UTC, datetime

from crmcore.lifecycle import Evidence, LifecycleState, Reason

T0 = datetime(2026, 1, 1, tzinfo=UTC)

#: Written out independently of the table's guards: the reasons that justify each state.
JUSTIFIES: dict[LifecycleState, frozenset[Reason]] = {
    LifecycleState.PROSPECT: frozenset({Reason.NO_PURCHASES}),
    LifecycleState.NEW: frozenset({Reason.FIRST_PURCHASE_RECENT}),
    LifecycleState.GROWTH: frozenset(
        {Reason.FREQUENCY_UP, Reason.SPEND_UP, Reason.BUILDING_HISTORY}
    ),
    LifecycleState.MATURE: frozenset({Reason.STABLE_ACTIVITY}),
    LifecycleState.DECLINE: frozenset(
        {
            Reason.RECENCY_BEYOND_USUAL_GAP,
            Reason.NO_REPEAT_PURCHASE,
            Reason.FREQUENCY_DOWN,
            Reason.SPEND_DOWN,
        }
    ),
    LifecycleState.CHURNED: frozenset({Reason.NO_ACTIVITY_BEYOND_CHURN_HORIZON}),
}


def evidence_for(state: LifecycleState, at: datetime = T0, risk: float = 0.5) -> Evidence:
    """Evidence carrying every reason that justifies ``state``."""
    return Evidence(at, JUSTIFIES[state], risk)
