"""Demo section: leads captured, scored and converted, the pipeline and its forecast, in SQLite.

A seeded synthetic sales year over the demo's customers: prospects arrive from five sources
(some are known customers, some arrive twice), are worked by five reps, scored by rules, and the
sales-qualified ones are converted into customers and opportunities (one unit of work each,
[`convert_lead()`][crmcore.services.sales.convert_lead]); with the other deals of the season they
make the pipeline, its snapshot and the quarter's forecast.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final, TextIO

from crmcore.columnar import EventLog
from crmcore.customers.contact import Contact
from crmcore.customers.customer import Customer
from crmcore.demo._text import Timings, section, table, timed
from crmcore.kernel.money import Money
from crmcore.sales.duplicates import duplicates_of
from crmcore.sales.forecast import pipeline_forecast
from crmcore.sales.lead_columns import lead_frame
from crmcore.sales.lead_machine import LeadStatus
from crmcore.sales.leads import Lead
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.pipeline import DEFAULT_PIPELINE as PIPELINE
from crmcore.sales.scoring import LeadScoring
from crmcore.sales.scoring_batch import ScoreTable, score_frame
from crmcore.sales.scoring_rules import Decay, EngagementRule, FitRule, ScoreBands, Threshold
from crmcore.services.opportunities import pipeline_snapshot, save_pipeline
from crmcore.services.sales import convert_lead, merge_leads
from crmcore.storage.sqlite import SqliteStore

__all__ = ["SCORING", "sales"]

_SOURCES: Final = ("web_form", "webinar", "referral", "ads", "event")
_REPS: Final = ("rep-1", "rep-2", "rep-3", "rep-4", "rep-5")
_INDUSTRIES: Final = ("software", "fintech", "retail", "health", "logistics")
_LEADS: Final = 400
_DEALS: Final = 200
_CONVERSIONS: Final = 25

SCORING: Final = LeadScoring(
    name="demo-b2b",
    fit=[
        FitRule("target_industry", 'attr.industry in ("software", "fintech")', 20),
        FitRule("large", "attr.employees >= 200", 15),
        FitRule("europe", 'country in ("DE", "FR", "GB")', 10),
        FitRule("no_email", "email is null", 10, penalty=True),
    ],
    engagement=[
        EngagementRule(
            name="pricing", kinds="pricing_view", points=5, cap=20, window_days=60, decay=Decay(14)
        ),
        EngagementRule(name="demo", kinds="demo_request", points=30, cap=30),
        EngagementRule(name="unsubscribed", kinds="unsubscribe", points=25, penalty=True),
    ],
    fit_cap=40,
    bands=ScoreBands.letters(a=70, b=50, c=30),
    mql=Threshold(50, fit=20),
    sql=Threshold(60, fit=25, engagement=20),
    attributes={"attr.industry": "string", "attr.employees": "number"},
)
"""The demo's lead scoring: fit by industry, size and region; engagement by pricing views
(halving every 14 days) and demo requests."""


def _lead(
    rng: random.Random, i: int, end: datetime, known: Sequence[Customer], seen: list[str]
) -> tuple[Lead, list[dict[str, Any]]]:
    """One prospect: created in the 120 days before ``end``, touched, moved, with web events."""
    created = end - timedelta(days=rng.randrange(6, 120), hours=rng.randrange(24))
    draw = rng.random()
    if draw < 0.12 and known:
        email = known[rng.randrange(len(known))].contact.email  # a customer, known already
    elif draw < 0.18 and seen:
        email = seen[rng.randrange(len(seen))].upper()  # the same prospect, again
    else:
        email = None if draw > 0.96 else f"prospect{i}@example.com"
    if email is not None:
        seen.append(email.lower())
    lead = Lead.create(
        f"lead-{i:04d}",
        created,
        source=rng.choice(_SOURCES),
        name=f"Prospect {i}",
        company=f"Company {i}",
        contact=Contact(email=email),
        country=rng.choice(("DE", "FR", "GB", "US", "CN")),
        owner=rng.choice(_REPS),
        attributes={"industry": rng.choice(_INDUSTRIES), "employees": rng.randrange(5, 2000)},
    ).value
    at = created + timedelta(hours=rng.randrange(1, 72))
    outcome = rng.choice(("connected", "no_answer"))
    lead = lead.log_activity(f"{lead.id}/call", "call", at, outcome).value.work(at).value
    fate = rng.random()
    at += timedelta(days=rng.randrange(1, 5))
    if fate < 0.4 and lead.is_reachable:
        lead = lead.qualify(at).value
    elif fate < 0.6:
        lead = lead.disqualify(at, rng.choice(("no_budget", "no_fit", "competitor"))).value
    elif fate < 0.75:
        lead = lead.nurture(at).value
    events = [
        {"customer_id": lead.id, "at": created + timedelta(days=rng.randrange(1, 5)), "kind": kind}
        for kind in ["pricing_view"] * rng.randrange(0, 5)
        + (["demo_request"] if rng.random() < 0.3 else [])
        + (["unsubscribe"] if rng.random() < 0.05 else [])
    ]
    return lead, events


def _capture(
    store: SqliteStore, leads: Sequence[Lead]
) -> tuple[list[Lead], int, int, list[tuple[str, str]]]:
    """Store the leads in one unit of work, each after a duplicate check: linked to the known
    customer holding its e-mail address, duplicates of earlier leads reported (not merged)."""
    stored: list[Lead] = []
    linked = 0
    duplicates: list[tuple[str, str]] = []
    with store.unit_of_work() as uow:
        for lead in leads:
            found = duplicates_of(lead, uow.leads.matching(lead))
            if found:
                duplicates.append((found[0].id, lead.id))
            customer = None
            if lead.contact.email is not None:
                customer = uow.customers.find_by_email(lead.contact.email)
            if customer is not None and not customer.is_erased:
                lead = uow.take(lead.link_customer(customer.id, lead.created_at))
                linked += 1
            stored.append(uow.leads.add(lead))
    return stored, linked, len(duplicates), duplicates


def _deal(rng: random.Random, i: int, end: datetime, currency: str) -> Opportunity:
    """One deal of the season, opened in the 180 days before ``end`` and moved on since."""
    opened = end - timedelta(days=rng.randrange(20, 180))
    deal = Opportunity.open(
        f"deal-{i:04d}",
        PIPELINE,
        owner=rng.choice(_REPS),
        amount=Money(rng.randrange(5, 200) * 100, currency),
        close_date=(opened + timedelta(days=rng.randrange(30, 150))).date(),
        at=opened,
        source=rng.choice(_SOURCES),
    ).value
    at = opened
    for stage in [s.key for s in PIPELINE.open_stages[1:]][: rng.randrange(0, 5)]:
        at += timedelta(days=rng.randrange(1, 15))
        deal = deal.move_to(stage, at, PIPELINE).value
    fate = rng.random()
    at += timedelta(days=rng.randrange(1, 15))
    if at < end and fate < 0.3:
        deal = deal.win(at, PIPELINE, reason="value").value
    elif at < end and fate < 0.5:
        deal = deal.lose(at, PIPELINE, reason=rng.choice(("price", "timing"))).value
    return deal


def _convert(
    store: SqliteStore,
    leads: Sequence[Lead],
    scores: ScoreTable,
    currency: str,
    end: datetime,
    seed: int,
) -> list[str]:
    """Convert the best sales-qualified leads (no duplicates left open), one unit of work each."""
    rng = random.Random(seed + 1)
    ready = [
        lead
        for lead in leads
        if lead.status is LeadStatus.QUALIFIED and lead.merged_into is None
        and bool(scores.sql[scores.row_of(lead.id)])
    ]  # fmt: skip
    ready.sort(key=lambda lead: (-float(scores.total[scores.row_of(lead.id)]), lead.id))
    converted: list[str] = []
    for lead in ready[:_CONVERSIONS]:
        at = max(lead.last_changed_at, end - timedelta(days=2))
        done = convert_lead(
            store,
            lead.id,
            at,
            opportunity_id=f"opp-{lead.id}",
            new_customer_id=None if lead.customer_id else f"c-{lead.id}",
            pipeline_id=PIPELINE.id,
            close_date=(at + timedelta(days=rng.randrange(30, 90))).date(),
            amount=Money(rng.randrange(20, 400) * 100, currency),
        )
        converted.append(done.value.opportunity.id)
    return converted


def sales(
    out: TextIO,
    store: SqliteStore,
    customers: Sequence[Customer],
    currency: str,
    end: datetime,
    seed: int,
    timings: Timings,
) -> None:
    """Leads captured with a duplicate check, scored, merged, converted; the pipeline, the
    forecast."""
    rng = random.Random(seed)
    known = [c for c in customers if c.contact.email is not None and not c.is_erased]
    seen: list[str] = []
    made = [_lead(rng, i, end, known, seen) for i in range(_LEADS)]
    made.sort(key=lambda pair: (pair[0].created_at, pair[0].id))  # captured as they arrived
    leads, linked, duplicated, pairs = timed(
        f"capture {_LEADS} leads (duplicate check, one unit of work)",
        timings,
        lambda: _capture(store, [lead for lead, _ in made]),
    )
    log = EventLog.from_records([event for _, events in made for event in events])
    scores = timed(
        f"score {_LEADS} leads ({len(SCORING.fit) + len(SCORING.engagement)} rules, vectorised)",
        timings,
        lambda: score_frame(SCORING, lead_frame(leads), end, events=log),
    )
    by_id = {lead.id: lead for lead in leads}
    touched: set[str] = set()
    merged = 0
    for keep, gone in pairs:  # a few merged on purpose, through the service
        first, second = by_id[keep], by_id[gone]
        if merged == 5 or touched & {keep, gone} or first.customer_id != second.customer_id:
            continue
        at = max(first.last_changed_at, second.last_changed_at)
        merge_leads(store, keep, gone, at, survivor=keep)
        touched.update((keep, gone))
        merged += 1
    with store.unit_of_work() as uow:
        leads = list(uow.leads.find_many(by_id))
    save_pipeline(store, PIPELINE)
    converted = timed(
        f"convert up to {_CONVERSIONS} leads (a unit of work each)",
        timings,
        lambda: _convert(store, leads, scores, currency, end, seed),
    )

    def season() -> None:
        with store.unit_of_work() as uow:
            for i in range(_DEALS):
                uow.opportunities.add(_deal(rng, i, end, currency))

    timed(f"store {_DEALS} more deals (one unit of work)", timings, season)
    snap = pipeline_snapshot(store, PIPELINE.id, end)
    with store.unit_of_work() as uow:
        frame = uow.opportunities.to_frame(PIPELINE)
    forecast = timed(
        "pipeline forecast (2 quarters, exact distribution)",
        timings,
        lambda: pipeline_forecast(frame, end, period="quarter", periods=2, seed=seed),
    )

    with store.unit_of_work() as uow:
        statuses = Counter(lead.status.value for lead in uow.leads.find_many(by_id))
    section(out, f"Sales: leads, scoring and the pipeline (as of {end:%Y-%m-%d})")
    table(
        out,
        ["measure", "value"],
        [
            ("leads captured", len(leads)),
            ("linked to a known customer", linked),
            ("duplicates of an earlier lead (reported)", duplicated),
            ("duplicates merged on purpose", merged),
            *((f"status {status}", n) for status, n in sorted(statuses.items())),
            ("marketing-qualified (MQL)", int(scores.mql.sum())),
            ("sales-qualified (SQL)", int(scores.sql.sum())),
            ("converted to customer + opportunity", len(converted)),
        ],
    )
    bands = scores.band_counts()
    table(out, ["score band", "leads"], [(band, bands.get(band, 0)) for band in "ABCD"])
    best = scores.top(1)
    if best:
        out.write("  best lead: " + best[0].explain().replace("\n", "\n  ") + "\n")
    table(
        out,
        ["open stage", "deals", "amount", "weighted"],
        [
            (line.name, line.count, str(line.amount.rounded()), str(line.weighted.rounded()))
            for line in snap.stages
        ],
    )
    out.write(
        f"  open pipeline {snap.open_amount.rounded()}, weighted {snap.weighted_amount.rounded()}\n"
    )
    table(
        out,
        ["quarter", "closed won", "commit", "best case", "expected", "P10", "P90"],
        [
            (
                line.label,
                str(line.closed_won.rounded()),
                str(line.commit_forecast.rounded()),
                str(line.best_case_forecast.rounded()),
                str(line.expected.rounded()),
                str(line.p10.rounded()),
                str(line.p90.rounded()),
            )
            for line in (*forecast.periods, forecast.total)
        ],
    )
