"""Workflow events: registered kinds, exact JSON round trips, no personal data."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crmcore.kernel.events import event_from_json, event_kinds
from crmcore.kernel.frozen import FrozenDict
from crmcore.marketing import automation_events as ev

from .automation_helpers import T0

COMMON = {
    "aggregate_id": "win-back:1:c-1",
    "occurred_at": T0,
    "customer_id": "c-1",
    "workflow_id": "win-back",
    "workflow_version": 1,
}
ACTION = {**COMMON, "step_id": "s", "idempotency_key": "win-back:1:c-1/s"}

EVENTS = [
    ev.WorkflowEnrolled(**COMMON, run=1, source="churn_risk:0.6"),
    ev.WorkflowConverted(**COMMON, goal="customer.purchase_recorded"),
    ev.WorkflowCompleted(**COMMON),
    ev.WorkflowExited(**COMMON, reason="suppression_list"),
    ev.MessageSuppressed(
        **COMMON, step_id="s", channel="email", reason="frequency_cap", rule="email: 2 per 7 days"
    ),
    ev.MessageDeferred(
        **COMMON, step_id="s", channel="sms", reason="quiet_hours", until=T0 + timedelta(hours=9)
    ),
    ev.SendMessageIntent(
        **ACTION,
        channel="email",
        template="winback",
        variables=FrozenDict({"code": "B10", "pct": 10, "x": None}),
    ),
    ev.AddTagIntent(**ACTION, tag="win_back"),
    ev.RemoveTagIntent(**ACTION, tag="loyal"),
    ev.AwardPointsIntent(**ACTION, program="shop", action="winback", points=None),
    ev.IssueCouponIntent(**ACTION, definition="back10"),
    ev.CreateTaskIntent(**ACTION, owner="agent-7", task="call", due_at=T0 + timedelta(days=1)),
    ev.SetFieldIntent(**ACTION, name="score", value=0.5),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.kind)
def test_events_round_trip_through_json(event: ev.WorkflowEvent) -> None:
    assert event_kinds()[event.kind] is type(event)
    assert event.kind.startswith("marketing.workflow.")
    assert event_from_json(event.kind, event.payload()) == event
    assert "Ann" not in str(event.payload())
