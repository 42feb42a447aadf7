"""Lead reports: overdue follow-ups and time to first touch (conversion by source beside them).

Three questions every sales manager asks, answered over
[`LeadColumns`][crmcore.sales.lead_columns.LeadColumns] with numpy (``np.bincount`` over group
codes, one sort per percentile; no loop per lead), each as of a date so last quarter's answer
can be asked again:

* [`overdue_follow_ups()`][crmcore.sales.lead_reports.overdue_follow_ups]: the activities open at
  ``as_of`` whose due time had passed, per owner (or kind, or lead source), with the most overdue
  listed. By default only follow-ups of leads still open then count.
* [`time_to_first_touch()`][crmcore.sales.lead_reports.time_to_first_touch]: from creation to the
  first completed call, e-mail or meeting (speed to lead), per source: median, 90th percentile and
  mean hours, and the share touched within each target. A lead created less than a target ago
  and not yet touched is *undecided* for that target and left out of its share.
* [`conversion_by_source()`][crmcore.sales.lead_conversion_report.conversion_by_source]: the
  leads created
  in a window, how many were worked, qualified, converted to an opportunity or disqualified by
  ``as_of``, with the rates and the median days to convert, per source (or channel, or owner),
  and the disqualification reasons.

Leads merged into another take no part (their survivor counts once). Every report has
``to_dict()``, ``to_pandas()`` (the ``pandas`` extra) and ``_repr_html_()``; its ``total`` row
is the whole population.

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> from crmcore.customers.contact import Contact
    >>> from crmcore.sales.lead_columns import LeadColumns
    >>> from crmcore.sales.leads import Lead
    >>> t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    >>> a = Lead.create("l-1", t, source="web_form", contact=Contact(email="a@example.com")).value
    >>> a = a.log_activity("a-1", "call", t + timedelta(hours=2), "connected").value
    >>> b = Lead.create("l-2", t, source="web_form").value
    >>> b = b.schedule("a-2", "call", t, due_at=t + timedelta(hours=1)).value
    >>> cols = LeadColumns.from_leads([a, b])
    >>> report = time_to_first_touch(cols, t + timedelta(days=2))
    >>> report.rows[0].label, report.rows[0].touched, report.rows[0].median_hours
    ('web_form', 1, 2.0)
    >>> overdue_follow_ups(cols, t + timedelta(days=2)).total.overdue
    1
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, Literal

import attrs
import numpy as np

from crmcore.kernel import validators
from crmcore.kernel.arrays import BoolArray, Int64Array
from crmcore.kernel.clock import DAY_US, from_micros, to_micros, to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.reports import html_table, json_number
from crmcore.sales._lead_report_kit import (
    NO_GROUP,
    TOTAL,
    LeadGrouping,
    checked_columns,
    import_pandas,
    lead_groups,
    median_of,
    percentiles,
    ratio,
)
from crmcore.sales.activities import TOUCH_KINDS
from crmcore.sales.lead_columns import KINDS, NONE, STATUSES, LeadColumns
from crmcore.sales.lead_machine import OPEN_STATUSES

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FirstTouchReport",
    "FirstTouchRow",
    "OverdueFollowUps",
    "OverdueItem",
    "OverdueRow",
    "overdue_follow_ups",
    "time_to_first_touch",
]

_HOUR_US: Final = 3_600_000_000


# -- overdue follow-ups --------------------------------------------------------------------------


@attrs.frozen
class OverdueRow:
    """One group of follow-ups open at ``as_of``: how many, how many overdue, how late."""

    label: str
    open: int
    overdue: int
    overdue_leads: int
    oldest_days: float | None
    median_days: float | None


@attrs.frozen
class OverdueItem:
    """One overdue follow-up: its lead, activity, kind, owner, due time and days overdue."""

    lead_id: str
    activity_id: str
    kind: str
    owner: str | None
    due_at: datetime
    days_overdue: float


@attrs.frozen(kw_only=True)
class OverdueFollowUps:
    """Follow-ups open at ``as_of`` per group, with the most overdue listed (a report object)."""

    as_of: datetime
    by: str
    rows: tuple[OverdueRow, ...]
    total: OverdueRow
    items: tuple[OverdueItem, ...]

    def to_dict(self) -> dict[str, object]:
        """The report as JSON data."""
        return {
            "as_of": self.as_of.isoformat(),
            "by": self.by,
            "rows": [attrs.asdict(r) for r in self.rows],
            "total": attrs.asdict(self.total),
            "most_overdue": [
                {**attrs.asdict(i), "due_at": i.due_at.isoformat()} for i in self.items
            ],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per group (needs the ``pandas`` extra)."""
        pandas = import_pandas("OverdueFollowUps.to_pandas")
        return pandas.DataFrame([attrs.asdict(r) for r in self.rows])  # type: ignore[attr-defined,no-any-return]

    def _repr_html_(self) -> str:
        rows = [
            (r.label, r.open, r.overdue, r.overdue_leads, r.oldest_days, r.median_days)
            for r in (*self.rows, self.total)
        ]
        top = max((r.overdue for r in self.rows), default=0)
        return html_table(
            f"Overdue follow-ups by {self.by} as of {self.as_of.date().isoformat()}",
            [self.by, "open", "overdue", "leads", "oldest (days)", "median (days)"],
            rows,
            kinds=["auto", "int", "int", "int", "float", "float"],
            bars={2: float(top)} if top else None,
            caption=f"{len(self.items)} most overdue listed in most_overdue",
        )


def overdue_follow_ups(
    columns: LeadColumns,
    as_of: datetime,
    *,
    by: Literal["owner", "kind", "source"] = "owner",
    open_leads_only: bool = True,
    top: int = 20,
) -> OverdueFollowUps:
    """The follow-ups open at ``as_of`` and those overdue (due strictly before ``as_of``).

    ``by`` groups them by the activity's owner, its kind, or the lead's source;
    ``open_leads_only`` leaves out follow-ups of leads disqualified or converted by then; ``top``
    is how many of the most overdue to list.
    """
    cols = checked_columns(columns)
    t = to_micros(as_of, "as_of")
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise ValidationError("top", top, "must be a non-negative whole number")
    open_leads_only = validators.boolean(open_leads_only, "open_leads_only")
    by = validators.choice(by, "by", ("owner", "kind", "source"))
    lead = cols.activity_lead
    open_now = (
        (cols.activity_created <= t)
        & ~((cols.activity_completed != NONE) & (cols.activity_completed <= t))
        & ~((cols.activity_cancelled != NONE) & (cols.activity_cancelled <= t))
        & ~cols.merged[lead]
    )
    if open_leads_only:
        status = cols.status_codes_at(to_utc(as_of, "as_of"))
        open_codes = np.array([s in OPEN_STATUSES for s in STATUSES] + [False])
        open_now &= open_codes[status[lead]]
    overdue = open_now & (cols.activity_due != NONE) & (cols.activity_due < t)
    if by == "owner":
        groups, labels = cols.activity_owner.astype(np.int64), (*cols.owners, "(unassigned)")
    elif by == "kind":
        groups, labels = cols.activity_kind.astype(np.int64), tuple(k.value for k in KINDS)
    elif by == "source":
        groups, labels = cols.source[lead].astype(np.int64), (*cols.sources, NO_GROUP)
    else:
        raise ValidationError("by", by, "must be 'owner', 'kind' or 'source'")
    groups = np.where(groups < 0, len(labels) - 1, groups)
    size = len(labels)
    days = (t - cols.activity_due[overdue]).astype(np.float64) / DAY_US
    g_over = groups[overdue]
    open_count = np.bincount(groups[open_now], minlength=size)
    over_count = np.bincount(g_over, minlength=size)
    # distinct (group, lead) pairs with an overdue follow-up
    pairs = np.unique(g_over * (len(cols) + 1) + lead[overdue])
    lead_count = np.bincount(pairs // (len(cols) + 1), minlength=size)
    oldest = np.full(size, -np.inf)
    np.maximum.at(oldest, g_over, days)
    median = percentiles(days, g_over, size, 50.0)

    rows = tuple(
        OverdueRow(
            labels[g],
            int(open_count[g]),
            int(over_count[g]),
            int(lead_count[g]),
            float(oldest[g]) if over_count[g] else None,
            json_number(median[g]),
        )
        for g in range(size)
        if open_count[g]
    )
    total = OverdueRow(
        TOTAL,
        int(open_now.sum()),
        int(overdue.sum()),
        len(np.unique(lead[overdue])),
        float(days.max()) if len(days) else None,
        median_of(days),
    )
    order = np.lexsort((cols.activity_ids[overdue], -days))[:top]
    where = np.flatnonzero(overdue)[order]
    owners = (*cols.owners, None)
    items = tuple(
        OverdueItem(
            str(cols.ids[lead[k]]),
            str(cols.activity_ids[k]),
            KINDS[int(cols.activity_kind[k])].value,
            owners[int(cols.activity_owner[k])],
            from_micros(int(cols.activity_due[k])),
            float(days[j]),
        )
        for j, k in zip(order.tolist(), where.tolist(), strict=True)
    )
    return OverdueFollowUps(as_of=to_utc(as_of), by=by, rows=rows, total=total, items=items)


# -- time to first touch -------------------------------------------------------------------------


@attrs.frozen
class FirstTouchRow:
    """Speed to lead for one group: leads, touched, hours to the first touch, shares in target.

    ``within`` holds, per target of the report, the share of *decided* leads touched within it
    (``None`` when no lead is decided yet).
    """

    label: str
    leads: int
    touched: int
    median_hours: float | None
    p90_hours: float | None
    mean_hours: float | None
    within: tuple[float | None, ...]

    @property
    def untouched(self) -> int:
        """Leads not touched by ``as_of``."""
        return self.leads - self.touched


@attrs.frozen(kw_only=True)
class FirstTouchReport:
    """Time from lead creation to the first touch, per group (a report object)."""

    as_of: datetime
    by: str
    targets: tuple[timedelta, ...]
    rows: tuple[FirstTouchRow, ...]
    total: FirstTouchRow

    def _target_names(self) -> list[str]:
        return [f"within_{_hours(t)}h" for t in self.targets]

    def _flat(self, row: FirstTouchRow) -> dict[str, object]:
        data: dict[str, object] = {
            "label": row.label,
            "leads": row.leads,
            "touched": row.touched,
            "untouched": row.untouched,
            "median_hours": row.median_hours,
            "p90_hours": row.p90_hours,
            "mean_hours": row.mean_hours,
        }
        data.update(zip(self._target_names(), row.within, strict=True))
        return data

    def to_dict(self) -> dict[str, object]:
        """The report as JSON data."""
        return {
            "as_of": self.as_of.isoformat(),
            "by": self.by,
            "targets_hours": [_hours(t) for t in self.targets],
            "rows": [self._flat(r) for r in self.rows],
            "total": self._flat(self.total),
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per group (needs the ``pandas`` extra)."""
        pandas = import_pandas("FirstTouchReport.to_pandas")
        return pandas.DataFrame([self._flat(r) for r in self.rows])  # type: ignore[attr-defined,no-any-return]

    def _repr_html_(self) -> str:
        header = [self.by, "leads", "touched", "median h", "p90 h", "mean h"]
        header += [f"≤ {_hours(t)} h" for t in self.targets]
        rows = [
            (r.label, r.leads, r.touched, r.median_hours, r.p90_hours, r.mean_hours, *r.within)
            for r in (*self.rows, self.total)
        ]
        kinds = ["auto", "int", "int", "float", "float", "float"] + ["pct"] * len(self.targets)
        return html_table(
            f"Time to first touch by {self.by} as of {self.as_of.date().isoformat()}",
            header,
            rows,
            kinds=kinds,
            caption="share = touched within the target / leads decided for it",
        )


def _hours(t: timedelta) -> float | int:
    hours = t / timedelta(hours=1)
    return int(hours) if hours.is_integer() else hours


def _targets(values: object) -> tuple[timedelta, ...]:
    if isinstance(values, timedelta) or not isinstance(values, Sequence):
        raise ValidationError("targets", values, "must be a sequence of timedelta")
    out = tuple(values)
    for i, target in enumerate(out):
        if not isinstance(target, timedelta) or target <= timedelta(0):
            raise ValidationError(f"targets[{i}]", target, "must be a positive timedelta")
    return out


def first_touches(columns: LeadColumns, as_of_us: int) -> Int64Array:
    """Each lead's first touch (a completed call, e-mail or meeting) by ``as_of_us``
    (``NONE``: not touched by then)."""
    touch_kinds = np.array([k in TOUCH_KINDS for k in KINDS])
    done = columns.activity_completed
    touch = touch_kinds[columns.activity_kind] & (done != NONE) & (done <= as_of_us)
    first = np.full(len(columns), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, columns.activity_lead[touch], done[touch])
    first[first == np.iinfo(np.int64).max] = NONE
    return first


def time_to_first_touch(
    columns: LeadColumns,
    as_of: datetime,
    *,
    by: LeadGrouping = "source",
    targets: Sequence[timedelta] = (timedelta(hours=1), timedelta(hours=24)),
) -> FirstTouchReport:
    """Speed to lead per group: the hours from creation to the first touch, for the leads created
    by ``as_of``, and the share touched within each target."""
    cols = checked_columns(columns)
    t = to_micros(as_of, "as_of")
    wanted = _targets(targets)
    groups, labels = lead_groups(cols, by)
    size = len(labels)
    alive = (cols.created <= t) & ~cols.merged
    first = first_touches(cols, t)
    touched = alive & (first != NONE)
    hours = (first[touched] - cols.created[touched]).astype(np.float64) / _HOUR_US
    g_touched = groups[touched]
    leads = np.bincount(groups[alive], minlength=size)
    n_touched = np.bincount(g_touched, minlength=size)
    sums = np.bincount(g_touched, weights=hours, minlength=size)
    median = percentiles(hours, g_touched, size, 50.0)
    p90 = percentiles(hours, g_touched, size, 90.0)
    within: list[tuple[Int64Array, Int64Array]] = []
    for target in wanted:
        limit = target // timedelta(microseconds=1)
        hit = touched & (first - cols.created <= limit)
        decided = hit | (alive & (cols.created <= t - limit))
        within.append(
            (
                np.bincount(groups[hit], minlength=size),
                np.bincount(groups[decided], minlength=size),
            )
        )

    def row(label: str, pick: BoolArray | None, g: int | None) -> FirstTouchRow:
        if g is not None:
            return FirstTouchRow(
                label,
                int(leads[g]),
                int(n_touched[g]),
                json_number(median[g]),
                json_number(p90[g]),
                ratio(sums[g], n_touched[g]),
                tuple(ratio(hit[g], dec[g]) for hit, dec in within),
            )
        return FirstTouchRow(
            label,
            int(leads.sum()),
            int(n_touched.sum()),
            median_of(hours),
            float(np.percentile(hours, 90.0)) if len(hours) else None,
            float(hours.mean()) if len(hours) else None,
            tuple(ratio(hit.sum(), dec.sum()) for hit, dec in within),
        )

    rows = tuple(row(labels[g], None, g) for g in range(size) if leads[g])
    return FirstTouchReport(
        as_of=to_utc(as_of), by=by, targets=wanted, rows=rows, total=row(TOTAL, None, None)
    )
