"""Demo section: the closed feedback loop over the synthetic feedback, stored in SQLite."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TextIO

import numpy as np

from crmcore.columnar import CustomerFrame
from crmcore.demo._text import Timings, pct, section, table, timed
from crmcore.feedback import (
    BusinessCalendar,
    Case,
    CaseState,
    Feedback,
    FeedbackLog,
    ImprovementAction,
    NeedRule,
    SlaPolicy,
    SlaTarget,
    case_report,
    feedback_breakdown,
    feedback_score,
    measure_effect,
    needs_backlog,
    theme_report,
)
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import Outcome
from crmcore.services.feedback import act_on_case, add_improvement_action, submit_feedback
from crmcore.storage.sqlite import SqliteStore

__all__ = ["feedback"]

DESK = BusinessCalendar.from_hours(
    {"mon-fri": "09:00-18:00"},
    timezone="UTC",
    recurring_holidays=["FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25"],
)
"""The service desk: weekdays 09:00-18:00 UTC, closed on 25 December."""
SLA = SlaPolicy(
    name="service desk",
    calendar=DESK,
    targets=[
        SlaTarget("low", first_response=timedelta(hours=16), resolution=timedelta(hours=72)),
        SlaTarget("normal", first_response=timedelta(hours=8), resolution=timedelta(hours=40)),
        SlaTarget("high", first_response=timedelta(hours=4), resolution=timedelta(hours=24)),
        SlaTarget("urgent", first_response=timedelta(hours=1), resolution=timedelta(hours=8)),
    ],
)
NEEDS = (
    NeedRule("faster_delivery", themes=["late_delivery"]),
    NeedRule("easier_returns", themes=["returns"]),
    NeedRule("better_support", themes=["support_wait"]),
    NeedRule("fairer_prices", themes=["price"]),
    NeedRule("product_quality", themes=["product_quality"], kinds=["complaint"]),
)
"""Needs, classified from feedback themes (seed 002 §4.1.1)."""


def _work(case: Case, rng: np.random.Generator, as_of: datetime) -> Callable[[Case], Outcome[Case]]:
    """How the desk handles a case: hours to answer, days to fix, the customer's verdict."""
    hours = float(rng.gamma(2.0, 4.0))
    t1 = DESK.add(case.opened_at, timedelta(hours=hours))
    t2 = DESK.add(t1, timedelta(hours=float(rng.gamma(2.0, 8.0))))
    t3 = t2 + timedelta(days=float(rng.uniform(1, 4)))
    happy = rng.random() < 0.85

    def steps(c: Case) -> Outcome[Case]:
        plan: list[Callable[[Case], Outcome[Case]]] = []
        if t1 <= as_of:
            plan += [lambda x: x.acknowledge(t1), lambda x: x.start(t1)]
        if t2 <= as_of:
            plan.append(
                lambda x: x.resolve(t2, root_cause="courier_delay", action_taken="reshipped")
            )
        if t3 <= as_of:
            verdict, score = ("resolved", 4) if happy else ("not_resolved", 2)
            plan.append(lambda x: x.follow_up(t3, verdict=verdict, satisfaction=score))
            if happy:
                plan.append(lambda x: x.close(t3))
        outcome: Outcome[Case] = Outcome(c)
        for step in plan:
            outcome = outcome.then(step)
        return outcome

    return steps


def feedback(
    out: TextIO,
    store: SqliteStore,
    frame: CustomerFrame,
    items: Sequence[Feedback],
    as_of: datetime,
    seed: int,
    timings: Timings,
) -> None:
    """Collect → open cases by rule → work them → follow up → measure → improve."""
    spent = dict(zip(frame.ids.tolist(), frame["total_spent"].values.tolist(), strict=True))

    def collect() -> list[Case]:
        return [
            opened
            for f in items
            if (opened := submit_feedback(store, f, customer_value=spent.get(f.customer_id)).case)
        ]

    opened = timed(f"submit {len(items):,} feedback (one unit of work each)", timings, collect)
    rng = np.random.default_rng([seed, 7])

    def work() -> list[Case]:
        return [act_on_case(store, c.id, _work(c, rng, as_of)) for c in opened]

    cases = timed(f"work {len(opened):,} cases", timings, work)

    section(out, f"Feedback loop: {len(items):,} feedback, {len(cases):,} cases opened by rule")
    if not items:
        return
    log = FeedbackLog.from_feedback(items)
    out.write(f"  {_score(log, 'nps')}; {_score(log, 'csat')}\n")
    by_channel = feedback_breakdown(log, "nps", by="channel")
    table(
        out,
        ["channel", "NPS answers", "NPS"],
        [
            (r.key, r.n, "-" if r.result is None else f"{r.result.value:+.1f}")
            for r in by_channel.rows
        ],
    )
    if not cases:
        return
    report = case_report(cases, as_of=as_of, sla_policy=SLA)
    sla = None if report.sla is None else report.sla.value
    closed = sum(c.state is CaseState.CLOSED for c in cases)
    hours = 3600.0
    table(
        out,
        ["closed loop", "value"],
        [
            ("cases closed after a satisfied follow-up", f"{closed:,} of {len(cases):,}"),
            ("loop closure rate", pct(report.loop_closure.value)),
            ("reopen rate (unhappy follow-ups)", pct(report.reopen.value)),
            ("median first response (hours)", _hours(report.first_response.median, hours)),
            ("median resolution (hours)", _hours(report.resolution.median, hours)),
            ("SLA attainment (business hours)", pct(sla)),
        ],
    )

    themes = theme_report(log, rank_by="nps_drag")
    section(out, "Top themes by NPS drag, and the needs backlog")
    table(
        out,
        ["theme", "feedback", "share", "theme NPS", "impact"],
        [
            (
                row.theme,
                row.volume,
                pct(row.share),
                "-" if row.nps is None else f"{row.nps.value:+.1f}",
                "-" if row.nps_impact is None else f"{row.nps_impact:+.1f}",
            )
            for row in themes.top(4)
        ],
    )
    backlog = needs_backlog(items, NEEDS, values=spent)
    table(
        out,
        ["need", "feedback", "urgency", "importance", "priority"],
        [
            (n.category, n.feedback, f"{n.urgency:.2f}", f"{n.importance:.2f}", f"{n.priority:.2f}")
            for n in backlog.top(3)
        ],
    )
    if not themes.rows:
        return
    top = themes.top(1)[0].theme
    started = as_of - timedelta(days=90)
    action = add_improvement_action(
        store,
        ImprovementAction.plan(
            f"A-{top}", f"Fix {top.replace('_', ' ')}", [top], "ops", at=started
        ),
    )
    effect = measure_effect(action, items, as_of=as_of, window=timedelta(days=90), at=started)
    before, after = effect.before, effect.after
    out.write(
        f"  improvement action {action.id!r} on {started:%Y-%m-%d}: '{top}' was "
        f"{pct(before.share)} of feedback in the 90 days before, {pct(after.share)} after "
        f"({before.tagged} vs {after.tagged} mentions)\n"
    )


def _score(log: FeedbackLog, scale: str) -> str:
    """``NPS +19.0 (95% CI ...)``, or why there is none."""
    try:
        result = feedback_score(log, scale)
    except ValidationError:
        return f"no {scale.upper()} answers yet"
    # NPS is a signed difference of shares; CSAT a share of satisfied answers, in %.
    sign, unit = ("+", "") if scale == "nps" else ("", "%")
    return (
        f"{scale.upper()} {result.value:{sign}.1f}{unit} "
        f"(95% CI {result.low:{sign}.1f} to {result.high:{sign}.1f}, n={result.n:,})"
    )


def _hours(seconds: float | None, unit: float) -> str:
    return "-" if seconds is None else f"{seconds / unit:.1f}"
