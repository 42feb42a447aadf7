"""Helpers of the automation tests: events, and the engine's results as dry-run rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import attrs
import numpy as np

from crmcore.columnar import CustomerFrame
from crmcore.kernel.clock import to_micros
from crmcore.lifecycle.events import ChurnWarning
from crmcore.lifecycle.evidence import ActivityFacts
from crmcore.marketing import automation_events as ev
from crmcore.marketing.customer_facts import CustomerFacts
from crmcore.marketing.dry_run import OUTCOMES, DryRun
from crmcore.marketing.engine import Advance, advance
from crmcore.marketing.enrolment_machine import EnrolmentStatus
from crmcore.marketing.enrolments import EnrolRequest
from crmcore.marketing.guardrails import Guardrails
from crmcore.marketing.local_time_batch import NONE
from crmcore.marketing.triggers import ChurnRiskTrigger
from crmcore.marketing.workflows import WorkflowCatalog

T0 = datetime(2026, 5, 4, 6, tzinfo=UTC)

Row = tuple[str, str, str, int, str, int]
"""customer id, workflow, step, at (us), outcome, until (us or NONE)."""


def churn_warning(customer: str, at: datetime, risk: float) -> ChurnWarning:
    """A churn warning event as the lifecycle raises it (risk ``risk``)."""
    return ChurnWarning(
        aggregate_id=customer,
        occurred_at=at,
        from_state="mature",
        to_state="decline",
        trigger="decline",
        transition="warning",
        as_of=at,
        reasons=(),
        risk_score=risk,
        facts=ActivityFacts(),
        policy="default",
    )


def engine_rows(result: Advance) -> set[Row]:
    """The engine's messages and actions as dry-run rows."""
    out: set[Row] = set()
    for e in result.events:
        if not isinstance(e, ev.WorkflowEvent) or not hasattr(e, "step_id"):
            continue
        at = to_micros(e.occurred_at)
        step = e.step_id  # type: ignore[attr-defined]
        if isinstance(e, ev.SendMessageIntent):
            out.add((e.customer_id, e.workflow_id, step, at, "sent", NONE))
        elif isinstance(e, ev.MessageSuppressed):
            out.add((e.customer_id, e.workflow_id, step, at, e.reason, NONE))
        elif isinstance(e, ev.MessageDeferred):
            out.add((e.customer_id, e.workflow_id, step, at, "deferred", to_micros(e.until)))
        else:
            out.add((e.customer_id, e.workflow_id, step, at, "done", NONE))
    return out


def plan_rows(plan: DryRun) -> set[Row]:
    """The dry run's rows as tuples."""
    r = plan.rows
    return {
        (
            str(plan.ids[c]),
            plan.workflows[w],
            plan.steps[w][s],
            int(at),
            OUTCOMES[o],
            int(until),
        )
        for c, w, s, at, o, until in zip(
            r["customer"], r["workflow"], r["step"], r["at"], r["outcome"], r["until"], strict=True
        )
    }


def plan_runs(plan: DryRun) -> set[tuple[str, str, int, int, int]]:
    """The dry run's enrolments: customer, workflow, run, start, end (NONE: open)."""
    r = plan.runs
    return {
        (str(plan.ids[c]), plan.workflows[w], int(run), int(s), int(e))
        for c, w, run, s, e in zip(
            r["customer"], r["workflow"], r["run"], r["start"], r["end"], strict=True
        )
    }


def engine_runs(result: Advance) -> set[tuple[str, str, int, int, int]]:
    """The engine's enrolments in the same shape."""
    out = set()
    for e in result.enrolments:
        end = NONE
        if e.status is EnrolmentStatus.COMPLETED:
            assert e.ended_at is not None
            end = to_micros(e.ended_at)
        out.add((e.customer_id, e.workflow_id, e.run, to_micros(e.enrolled_at), end))
    return out


def per_customer(
    catalog: WorkflowCatalog,
    frame: CustomerFrame,
    start: datetime,
    horizon: timedelta,
    guardrails: Guardrails,
    *,
    triggered: Mapping[str, np.ndarray] | None = None,
    churn_risk: Sequence[float] | None = None,
    suppression_lists: Mapping[str, Iterable[str]] | None = None,
    default_time_zone: str = "UTC",
) -> tuple[set[Row], set[tuple[str, str, int, int, int]]]:
    """Run ``advance`` once per customer of ``frame`` as the dry run describes; rows and runs."""
    rails = attrs.evolve(guardrails, max_lateness=None)
    lists = {k: frozenset(v) for k, v in (suppression_lists or {}).items()}
    rows: set[Row] = set()
    runs: set[tuple[str, str, int, int, int]] = set()
    churny = any(isinstance(w.trigger, ChurnRiskTrigger) for w in catalog)
    for i, record in enumerate(frame.to_records()):
        cid = str(record["id"])
        facts = CustomerFacts.from_record(record, start, default_zone=default_time_zone)
        requests = [EnrolRequest(w, cid, start) for w, mask in (triggered or {}).items() if mask[i]]
        events = []
        if churny and churn_risk is not None:
            events.append(churn_warning(cid, start, float(churn_risk[i])))
        result = advance(
            [],
            events,
            start + horizon,
            since=start,
            workflows=catalog,
            customers=[facts],
            guardrails=rails,
            requests=requests,
            suppression_lists=lists,
        )
        rows |= engine_rows(result)
        runs |= engine_runs(result)
    return rows, runs
