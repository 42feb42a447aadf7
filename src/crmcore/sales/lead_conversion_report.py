"""Lead-to-opportunity conversion by source: what became of the leads created in a window.

[`conversion_by_source()`][crmcore.sales.lead_conversion_report.conversion_by_source] takes the
leads created in ``[created_from, created_to)`` (and by ``as_of``) and counts, per source (or
channel, or current owner), how many were worked, qualified, converted to an opportunity or
disqualified by ``as_of``, with the rates and the median days from creation to conversion, plus
the disqualification reasons. Vectorised over
[`LeadColumns`][crmcore.sales.lead_columns.LeadColumns]; leads merged into another take no part.

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> from crmcore.customers.contact import Contact
    >>> from crmcore.sales.lead_columns import LeadColumns
    >>> from crmcore.sales.lead_conversion import convert_lead
    >>> from crmcore.sales.leads import Lead
    >>> t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    >>> a = Lead.create("l-1", t, source="referral", name="Ann",
    ...                 contact=Contact(email="a@example.com")).value.qualify(t).value
    >>> a = convert_lead(a, t + timedelta(days=3), opportunity_id="o-1",
    ...                  new_customer_id="c-1").value.lead
    >>> b = Lead.create("l-2", t, source="referral").value.disqualify(t, "no_budget").value
    >>> report = conversion_by_source(LeadColumns.from_leads([a, b]), t + timedelta(days=7))
    >>> row = report.rows[0]
    >>> row.label, row.leads, row.converted, row.conversion_rate, row.median_days_to_convert
    ('referral', 2, 1, 0.5, 3.0)
    >>> report.reasons
    (('no_budget', 1),)
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import attrs
import numpy as np

from crmcore.kernel.arrays import BoolArray, Int64Array
from crmcore.kernel.clock import DAY_US, to_micros, to_utc
from crmcore.kernel.reports import html_table, json_number
from crmcore.sales._lead_report_kit import (
    TOTAL,
    LeadGrouping,
    checked_columns,
    import_pandas,
    lead_groups,
    median_of,
    percentiles,
    ratio,
)
from crmcore.sales.lead_columns import NONE, STATUSES, LeadColumns
from crmcore.sales.lead_machine import OPEN_STATUSES, LeadStatus

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ConversionReport", "ConversionRow", "conversion_by_source"]


@attrs.frozen
class ConversionRow:
    """What became of one group's leads by ``as_of``: counts, and the median days to convert.

    ``worked`` leads left ``new`` (any move but an assignment); ``qualified`` and ``converted``
    ones reached that status by ``as_of`` (ever: a qualified lead later disqualified still
    counts as qualified); ``disqualified`` and ``open`` are the status at ``as_of``.
    """

    label: str
    leads: int
    worked: int
    qualified: int
    converted: int
    disqualified: int
    open: int
    median_days_to_convert: float | None

    @property
    def qualification_rate(self) -> float | None:
        """Qualified / leads."""
        return ratio(self.qualified, self.leads)

    @property
    def conversion_rate(self) -> float | None:
        """Converted / leads: the lead-to-opportunity rate."""
        return ratio(self.converted, self.leads)

    @property
    def qualified_conversion_rate(self) -> float | None:
        """Converted / qualified."""
        return ratio(self.converted, self.qualified)

    def to_dict(self) -> dict[str, object]:
        """The row with its rates, as JSON data."""
        return {
            **attrs.asdict(self),
            "qualification_rate": self.qualification_rate,
            "conversion_rate": self.conversion_rate,
            "qualified_conversion_rate": self.qualified_conversion_rate,
        }


@attrs.frozen(kw_only=True)
class ConversionReport:
    """Lead-to-opportunity conversion per group for a creation window (a report object).

    ``reasons`` counts the disqualification reasons of the leads disqualified at ``as_of``,
    most frequent first.
    """

    as_of: datetime
    by: str
    created_from: datetime | None
    created_to: datetime | None
    rows: tuple[ConversionRow, ...]
    total: ConversionRow
    reasons: tuple[tuple[str, int], ...]

    def to_dict(self) -> dict[str, object]:
        """The report as JSON data."""
        return {
            "as_of": self.as_of.isoformat(),
            "by": self.by,
            "created_from": None if self.created_from is None else self.created_from.isoformat(),
            "created_to": None if self.created_to is None else self.created_to.isoformat(),
            "rows": [r.to_dict() for r in self.rows],
            "total": self.total.to_dict(),
            "disqualification_reasons": dict(self.reasons),
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per group, with the rates (needs the ``pandas`` extra)."""
        pandas = import_pandas("ConversionReport.to_pandas")
        return pandas.DataFrame([r.to_dict() for r in self.rows])  # type: ignore[attr-defined,no-any-return]

    def _repr_html_(self) -> str:
        rows = [
            (
                r.label,
                r.leads,
                r.qualified,
                r.converted,
                r.disqualified,
                r.open,
                r.qualification_rate,
                r.conversion_rate,
                r.median_days_to_convert,
            )
            for r in (*self.rows, self.total)
        ]
        top = max((r.conversion_rate or 0.0 for r in self.rows), default=0.0)
        return html_table(
            f"Lead-to-opportunity conversion by {self.by} as of {self.as_of.date().isoformat()}",
            [
                self.by,
                "leads",
                "qualified",
                "converted",
                "disqualified",
                "open",
                "qualified %",
                "converted %",
                "median days",
            ],
            rows,
            kinds=["auto", "int", "int", "int", "int", "int", "pct", "pct", "float"],
            bars={7: top} if top else None,
            caption=", ".join(f"{reason}: {n}" for reason, n in self.reasons[:8]),
        )


def conversion_by_source(
    columns: LeadColumns,
    as_of: datetime,
    *,
    by: LeadGrouping = "source",
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> ConversionReport:
    """What became of the leads created in ``[created_from, created_to)`` (and by ``as_of``),
    per group: worked, qualified, converted to an opportunity, disqualified, still open."""
    cols = checked_columns(columns)
    t = to_micros(as_of, "as_of")
    start = None if created_from is None else to_micros(created_from, "created_from")
    end = None if created_to is None else to_micros(created_to, "created_to")
    groups, labels = lead_groups(cols, by)
    size = len(labels)
    cohort = (cols.created <= t) & ~cols.merged
    if start is not None:
        cohort &= cols.created >= start
    if end is not None:
        cohort &= cols.created < end
    status = cols.status_codes_at(to_utc(as_of, "as_of"))
    change_lead = cols.change_lead
    moved = (cols.change_at <= t) & (cols.change_from != cols.change_to)
    worked = np.bincount(change_lead[moved], minlength=len(cols)) > 0
    qualified = cols.reached_by(LeadStatus.QUALIFIED, to_utc(as_of))
    converted_at = cols.first_entered(LeadStatus.CONVERTED, to_utc(as_of))
    converted = converted_at != NONE
    disqualified = status == STATUSES.index(LeadStatus.DISQUALIFIED)
    open_codes = [STATUSES.index(s) for s in OPEN_STATUSES]
    still_open = np.isin(status, open_codes)
    days = (converted_at - cols.created).astype(np.float64) / DAY_US
    won = cohort & converted

    def counts(mask: BoolArray) -> Int64Array:
        out: Int64Array = np.bincount(groups[cohort & mask], minlength=size)
        return out

    n, w, q, c = counts(cohort), counts(worked), counts(qualified), counts(converted)
    d, o = counts(disqualified), counts(still_open)
    median = percentiles(days[won], groups[won], size, 50.0)
    rows = tuple(
        ConversionRow(
            labels[g],
            int(n[g]),
            int(w[g]),
            int(q[g]),
            int(c[g]),
            int(d[g]),
            int(o[g]),
            json_number(median[g]),
        )
        for g in range(size)
        if n[g]
    )
    total = ConversionRow(
        TOTAL,
        int(n.sum()),
        int(w.sum()),
        int(q.sum()),
        int(c.sum()),
        int(d.sum()),
        int(o.sum()),
        median_of(days[won]),
    )
    reasons = _reasons(cols, cohort & disqualified, t)
    return ConversionReport(
        as_of=to_utc(as_of),
        by=by,
        created_from=None if created_from is None else to_utc(created_from),
        created_to=None if created_to is None else to_utc(created_to),
        rows=rows,
        total=total,
        reasons=reasons,
    )


def _reasons(cols: LeadColumns, leads: BoolArray, t: int) -> tuple[tuple[str, int], ...]:
    """The reason of each lead's latest disqualification by ``t``, counted over ``leads``."""
    disqualify = STATUSES.index(LeadStatus.DISQUALIFIED)
    picked = (cols.change_to == disqualify) & (cols.change_at <= t)
    picked &= leads[cols.change_lead]
    rows = np.flatnonzero(picked)
    if not len(rows):
        return ()
    who = cols.change_lead[rows]
    last = rows[np.r_[who[1:] != who[:-1], True]]  # changes are lead by lead, in time order
    codes = cols.change_reason[last]
    counted = np.bincount(codes[codes >= 0], minlength=len(cols.reasons))
    pairs = [(cols.reasons[i], int(k)) for i, k in enumerate(counted.tolist()) if k]
    return tuple(sorted(pairs, key=lambda p: (-p[1], p[0])))
