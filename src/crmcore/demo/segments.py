"""Demo section: segments written in the rule language, evaluated three ways."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TextIO

from crmcore.columnar import CustomerFrame, EventLog, TransactionLog
from crmcore.demo._text import Timings, section, table, timed
from crmcore.segments import RuleSchema, Segment, SegmentSet, diff, parse_rule, to_sql
from crmcore.storage.sqlite import SqliteStore

__all__ = ["SEGMENTS", "segments"]

SEGMENTS: tuple[tuple[str, str, str], ...] = (
    (
        "high_value_recent",
        "value",
        "total_spent >= 300 and last_purchase_at within 180 days",
    ),
    (
        "greater_china_repeat",
        "geographic + behavioural",
        'country in ("CN", "TW") and count(purchases in last 365 days) >= 2',
    ),
    (
        "young_outdoor_fans",
        "demographic + psychographic",
        'age between 18 and 34 and interests has "outdoor"',
    ),
    (
        "researching_not_buying",
        "behavioural (funnel)",
        'did "product_compare" within 90 days and count(purchases in last 90 days) = 0',
    ),
    (
        "lapsed_email_reachable",
        "win-back",
        "purchase_count >= 1 and not (last_purchase_at within 365 days) and consent_email",
    ),
)
"""The demo's segments, as a marketer would write them (DOMAIN.md §4: demographic,
geographic, psychographic, behavioural and value criteria, combined).
"""


def segments(
    out: TextIO,
    store: SqliteStore,
    frame: CustomerFrame,
    log: TransactionLog,
    events: EventLog,
    as_of: datetime,
    timings: Timings,
) -> None:
    """Parse, type-check and evaluate the demo segments; diff 30 days; run one in SQLite."""
    schema = RuleSchema.from_schema(frame.schema)  # any event kind: new kinds may come later
    chosen = SegmentSet(
        [Segment(name, parse_rule(text, schema), kind) for name, kind, text in SEGMENTS]
    )
    before = chosen.evaluate(frame, as_of - timedelta(days=30), transactions=log, events=events)
    now = timed(
        "evaluate 5 segments (numpy)",
        timings,
        lambda: chosen.evaluate(frame, as_of, transactions=log, events=events),
    )
    change = diff(before, now, occurred_at=as_of)
    section(out, f"Segments ({len(frame):,} customers, as of {as_of:%Y-%m-%d})")
    table(
        out,
        ["segment", "kind", "members", "entered (30 d)", "exited (30 d)"],
        [
            (
                s.name,
                s.description,
                now.size(s.name),
                len(change.entered[s.name]),
                len(change.exited[s.name]),
            )
            for s in chosen
        ],
    )
    for name, _kind, text in SEGMENTS[:2]:
        out.write(f"  {name}: {text}\n")
    rule = chosen["greater_china_repeat"].rule
    members = timed(
        "the same segment as SQL inside SQLite", timings, lambda: store.segment_members(rule, as_of)
    )
    sql, params = to_sql(rule, "postgresql", as_of=as_of, what="where")
    out.write(
        f"  greater_china_repeat inside SQLite: {len(members):,} members "
        f"(numpy: {now.size('greater_china_repeat'):,}); {len(change.events):,} "
        "segment.entered/exited events for automation\n"
        f"  as PostgreSQL: WHERE {sql[:90]}... with {len(params)} parameters\n"
    )
