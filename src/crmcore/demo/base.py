"""Demo sections about the customer base: summary, funnel, lifecycle, journey, privacy."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TextIO

import numpy as np

from crmcore.columnar import CustomerFrame, EventLog, TransactionLog
from crmcore.demo._text import section, table
from crmcore.funnel.analytics import funnel_breakdown, funnel_report
from crmcore.journey import JourneyReport
from crmcore.kernel.stage import Stage
from crmcore.lifecycle import BatchClassification, LifecycleState
from crmcore.lifecycle import transitions as lifecycle_transitions
from crmcore.services.customers import erase_customer, export_customer_data, retry_on_conflict
from crmcore.storage.sqlite import SqliteStore

__all__ = ["journey", "lifecycle", "privacy", "summarise"]


def summarise(
    out: TextIO, frame: CustomerFrame, log: TransactionLog, events: EventLog, as_of: datetime
) -> None:
    n = len(frame)
    purchases = frame["purchase_count"].values
    spent = frame["total_spent"].values
    buyers = purchases > 0
    section(out, "Customers")
    ages = frame.age_at(as_of.date())
    consent = frame["consent_email"].values
    table(
        out,
        ["measure", "value"],
        [
            ("customers", n),
            ("buyers (at least one purchase)", int(buyers.sum())),
            ("repeat buyers (2+ purchases)", int((purchases >= 2).sum())),
            ("repeat purchase rate", f"{(purchases >= 2).sum() / max(buyers.sum(), 1):.1%}"),
            ("median age", f"{np.nanmedian(ages):.0f}" if n else "-"),
            ("e-mail marketing consent", f"{consent.mean():.1%}" if n else "-"),
            ("tagged vip", int(frame["tags"].has("vip").sum())),
        ],
    )
    country = frame["country"]
    counts = np.bincount(country.values[country.values >= 0], minlength=len(country.categories))
    revenue = np.bincount(
        country.values[country.values >= 0],
        weights=spent[country.values >= 0],
        minlength=len(country.categories),
    )
    top = np.argsort(-counts, kind="stable")[:6]
    section(out, "Top countries")
    table(
        out,
        ["country", "customers", "revenue"],
        [(country.categories[i], int(counts[i]), float(revenue[i])) for i in top if counts[i]],
    )

    section(out, "Sales")
    amounts = log["amount"].values
    orders = len(log)
    table(
        out,
        ["measure", "value"],
        [
            ("orders", orders),
            ("revenue", float(amounts.sum())),
            ("average order value", float(amounts.mean()) if orders else 0.0),
            ("orders per buyer", float(orders / max(buyers.sum(), 1))),
            ("spend per buyer (median)", float(np.median(spent[buyers])) if buyers.any() else 0.0),
        ],
    )
    channel = log["channel"]
    by_channel = np.bincount(channel.values, weights=amounts, minlength=len(channel.categories))
    table(
        out,
        ["sales channel", "revenue", "share"],
        [
            (name, float(by_channel[i]), f"{by_channel[i] / max(amounts.sum(), 1e-9):.1%}")
            for i, name in enumerate(channel.categories)
        ],
    )
    at = log["at"].values
    months = at.astype("datetime64[M]")
    last = np.datetime64(as_of.replace(tzinfo=None), "M")
    recent = [(last - k) for k in range(5, -1, -1)]
    section(out, "Revenue by month (last 6)")
    table(
        out,
        ["month", "orders", "revenue"],
        [(str(m), int((months == m).sum()), float(amounts[months == m].sum())) for m in recent],
    )

    _funnel(out, frame, events)


def _funnel(out: TextIO, frame: CustomerFrame, events: EventLog) -> None:
    steps = list(Stage)
    report = funnel_report(events, steps, window=None)
    section(out, "Funnel (all seven stages, ordered, no window)")
    rows = []
    for step in report.steps:
        median = None if step.time is None else step.time.median
        rows.append(
            (
                step.label,
                step.customers,
                "-" if step.conversion is None else f"{step.conversion:.1%}",
                "-" if step.overall is None else f"{step.overall:.1%}",
                "-" if median is None else f"{median / 86_400:.1f}",
            )
        )
    table(out, ["stage", "customers", "from previous", "overall", "median days"], rows)
    by_channel = funnel_breakdown(
        events, steps[:5], by="attr.acquisition_channel", frame=frame, window=timedelta(days=60)
    )
    section(out, "Conversion within 60 days of first touch, by acquisition channel")
    table(
        out,
        ["channel", "entered", "converted", "rate"],
        [
            (
                str(group),
                r.entered,
                r.converted,
                "-" if r.conversion is None else f"{r.conversion:.1%}",
            )
            for group, r in sorted(by_channel.groups, key=lambda kv: str(kv[0]))
        ],
    )


def lifecycle(out: TextIO, before: BatchClassification, now: BatchClassification) -> None:
    section(out, f"Lifecycle as of {now.as_of:%Y-%m-%d} (and 90 days earlier)")
    was, counts, n = before.counts(), now.counts(), max(len(now.states), 1)
    table(
        out,
        ["state", "customers", "share", "90 days earlier"],
        [(s.value, counts[s], f"{counts[s] / n:.1%}", was[s]) for s in LifecycleState],
    )
    changes = lifecycle_transitions(before, now)
    warned = changes.warnings
    section(out, f"Churn early warning: {len(warned):,} customers entered decline")
    order = warned[np.argsort(-now.risk_scores[warned], kind="stable")][:5]
    rows = []
    for row in order:
        facts = now.classification(int(row)).evidence
        reasons = ", ".join(sorted(r.value for r in facts.reasons))
        rows.append((str(now.customer_ids[row]), f"{now.risk_scores[row]:.2f}", reasons))
    table(out, ["customer", "risk", "reasons"], rows)
    out.write(
        f"  {len(changes.reactivations):,} reactivated (won back), "
        f"{len(changes.of_kind('churn')):,} churned in the last 90 days\n"
    )


def journey(out: TextIO, report: JourneyReport) -> None:
    section(out, "Journey map: top pain points (CSAT 1-5 from touchpoint ratings)")
    rows = [
        (
            row.touchpoint.label,
            "-" if row.stage is None else row.stage.label,
            row.volume,
            "-" if row.mean_score is None else f"{row.mean_score:.2f}",
            "-" if row.share_negative is None else f"{row.share_negative:.0%}",
            "-" if row.conversion is None else f"{row.conversion:.0%}",
            f"{row.pain:.3f}",
        )
        for row in report.pain_points(top=5)
    ]
    header = ["touchpoint", "stage", "events", "mean CSAT", "negative", "converts", "pain"]
    table(out, header, rows)


def privacy(out: TextIO, store: SqliteStore, customer_id: str, at: datetime) -> None:
    section(out, "Data protection")
    document = export_customer_data(store, customer_id)
    held = {key: len(value) for key, value in document.items() if isinstance(value, list)}
    erased = retry_on_conflict(lambda: erase_customer(store, customer_id, at, "demo request"))
    out.write(
        f"  export of {customer_id}: {held.get('purchases', 0)} purchases, "
        f"{held.get('interactions', 0)} interactions, "
        f"{held.get('service_records', 0)} service records\n"
        f"  erased {customer_id}: name now {erased.name!r}, e-mail {erased.contact.email}, "
        f"purchases kept: {erased.purchases.count}\n"
    )
