"""The lead reports in plain Python, one lead object at a time: the reference the tests compare
[`crmcore.sales.lead_reports`][crmcore.sales.lead_reports] and
[`crmcore.sales.lead_conversion_report`][crmcore.sales.lead_conversion_report] with.

Written from the definitions in those modules' docs, straight over
[`Lead`][crmcore.sales.leads.Lead] objects, without numpy or the columns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from crmcore.sales.activities import ActivityState
from crmcore.sales.lead_machine import LeadStatus
from crmcore.sales.leads import Lead

__all__ = ["conversion", "first_touch", "overdue", "percentile"]

_NONE = "(none)"


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile by linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _group(lead: Lead, by: str) -> str:
    value = {"source": lead.source, "channel": lead.channel, "owner": lead.owner}[by]
    return _NONE if value is None else value


def overdue(
    leads: Sequence[Lead], as_of: datetime, by: str, open_leads_only: bool
) -> tuple[dict[str, tuple[int, int, int, float | None, float | None]], list[tuple[str, str]]]:
    """Per group: (open, overdue, leads with an overdue follow-up, oldest days, median days);
    and every overdue (lead id, activity id), most overdue first."""
    groups: dict[str, list[tuple[str, float | None]]] = {}
    late: list[tuple[float, str, str]] = []
    for lead in leads:
        if lead.merged_into is not None:
            continue
        status = lead.state_at(as_of)
        if open_leads_only and (status is None or not status.is_open):
            continue
        for activity in lead.activities:
            if activity.state_at(as_of) is not ActivityState.OPEN:
                continue
            key = {
                "owner": activity.owner or "(unassigned)",
                "kind": activity.kind.value,
                "source": lead.source,
            }[by]
            days = None
            if activity.is_overdue(as_of):
                assert activity.due_at is not None
                days = (as_of - activity.due_at) / timedelta(days=1)
                late.append((days, activity.id, lead.id))
            groups.setdefault(key, []).append((lead.id, days))
    out = {}
    for key, rows in groups.items():
        days_list = [d for _, d in rows if d is not None]
        out[key] = (
            len(rows),
            len(days_list),
            len({who for who, d in rows if d is not None}),
            max(days_list) if days_list else None,
            percentile(days_list, 50),
        )
    late.sort(key=lambda x: (-x[0], x[1]))
    return out, [(who, act) for _, act, who in late]


def first_touch(
    leads: Sequence[Lead], as_of: datetime, by: str, targets: Sequence[timedelta]
) -> dict[str, tuple[int, int, float | None, float | None, float | None, tuple[float | None, ...]]]:
    """Per group: (leads, touched, median h, p90 h, mean h, share within each target)."""
    rows: dict[str, list[tuple[Lead, float | None]]] = {}
    for lead in leads:
        if lead.merged_into is not None or lead.created_at > as_of:
            continue
        touches = [
            a.completed_at
            for a in lead.touches
            if a.completed_at is not None and a.completed_at <= as_of
        ]
        hours = None
        if touches:
            hours = (min(touches) - lead.created_at) / timedelta(hours=1)
        rows.setdefault(_group(lead, by), []).append((lead, hours))
    out = {}
    for key, items in rows.items():
        hours_list = [h for _, h in items if h is not None]
        within = []
        for target in targets:
            limit = target / timedelta(hours=1)
            hit = sum(1 for _, h in items if h is not None and h <= limit)
            decided = sum(
                1
                for lead, h in items
                if (h is not None and h <= limit) or lead.created_at <= as_of - target
            )
            within.append(hit / decided if decided else None)
        out[key] = (
            len(items),
            len(hours_list),
            percentile(hours_list, 50),
            percentile(hours_list, 90),
            sum(hours_list) / len(hours_list) if hours_list else None,
            tuple(within),
        )
    return out


def conversion(
    leads: Sequence[Lead],
    as_of: datetime,
    by: str,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> tuple[dict[str, tuple[int, ...] | tuple[float | None]], dict[str, int]]:
    """Per group: (leads, worked, qualified, converted, disqualified, open) and the median days
    to convert (key ``"<group>:median"``); and the disqualification reasons."""
    counts: dict[str, list[int]] = {}
    days: dict[str, list[float]] = {}
    reasons: dict[str, int] = {}
    for lead in leads:
        if lead.merged_into is not None or lead.created_at > as_of:
            continue
        if created_from is not None and lead.created_at < created_from:
            continue
        if created_to is not None and lead.created_at >= created_to:
            continue
        history = [c for c in lead.history if c.at <= as_of]
        status = lead.state_at(as_of)
        entered = {c.to_state for c in history if c.to_state is not c.from_state}

        def reached(status: LeadStatus, entered: set[LeadStatus] = entered) -> bool:
            return status in entered

        key = _group(lead, by)
        row = counts.setdefault(key, [0] * 6)
        row[0] += 1
        row[1] += any(c.from_state is not c.to_state for c in history)
        row[2] += reached(LeadStatus.QUALIFIED)
        row[3] += reached(LeadStatus.CONVERTED)
        row[4] += status is LeadStatus.DISQUALIFIED
        row[5] += status is not None and status.is_open
        if reached(LeadStatus.CONVERTED):
            at = next(c.at for c in history if c.to_state is LeadStatus.CONVERTED)
            days.setdefault(key, []).append((at - lead.created_at) / timedelta(days=1))
        if status is LeadStatus.DISQUALIFIED:
            last = [c for c in history if c.to_state is LeadStatus.DISQUALIFIED][-1]
            if last.reason is not None:
                reasons[last.reason] = reasons.get(last.reason, 0) + 1
    out: dict[str, tuple[int, ...] | tuple[float | None]] = {
        key: tuple(row) for key, row in counts.items()
    }
    for key in counts:
        out[f"{key}:median"] = (percentile(days.get(key, []), 50),)
    return out, reasons
