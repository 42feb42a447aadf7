"""Closed deals: win rates, average deal size and sales cycle, by owner, source or segment.

[`deal_performance()`][crmcore.sales.deal_performance.deal_performance] looks at the deals closed
in a window ``(start, end]`` (won or lost as of ``end``, at the time of their latest move) and
reports, overall or per group (``by="owner"``, ``"source"``, ``"segment"``, ``"account"`` or the
stage they closed in):

* **win rate** = won / (won + lost), by count, and by amount (won amount / closed amount);
* **average deal size** = the mean amount of the won deals (rounded half-even to the minor unit);
* **sales cycle** = days from creation to the win, median and mean over the won deals.

A ratio with no denominator is ``None``, never NaN. Vectorised over an
[`OpportunityFrame`][crmcore.sales.opportunity_frame.OpportunityFrame]: codes per group,
``np.bincount`` and exact integer sums, one ``lexsort`` for the medians.

Examples:
    >>> from datetime import UTC, date, datetime, timedelta
    >>> from crmcore.kernel.money import Money
    >>> from crmcore.sales.opportunities import Opportunity
    >>> from crmcore.sales.pipeline import DEFAULT_PIPELINE as P
    >>> t = datetime(2026, 1, 5, tzinfo=UTC)
    >>> def deal(i, owner, amount, days, won):
    ...     o = Opportunity.open(f"o{i}", P, owner=owner, amount=Money(amount, "EUR"),
    ...                          close_date=date(2026, 3, 31), at=t).value
    ...     at = t + timedelta(days=days)
    ...     return (o.win(at, P) if won else o.lose(at, P, reason="price")).value
    >>> deals = [deal(1, "ann", 1000, 10, True), deal(2, "ann", 3000, 30, True),
    ...          deal(3, "bob", 500, 5, False)]
    >>> report = deal_performance(deals, end=t + timedelta(days=60), pipeline=P, by="owner")
    >>> [(g.group, g.won, g.lost, g.win_rate) for g in report.groups]
    [('ann', 2, 0, 1.0), ('bob', 0, 1, 0.0)]
    >>> report.total.average_deal_size, report.total.median_cycle_days
    (Money('2000.00', 'EUR'), 20.0)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Literal, get_args

import attrs
import numpy as np

from crmcore.kernel.arrays import BoolArray, Int64Array
from crmcore.kernel.clock import DAY_US, from_micros, to_micros
from crmcore.kernel.errors import MissingDependencyError, ValidationError
from crmcore.kernel.money import Money, minor_units
from crmcore.kernel.reports import html_table
from crmcore.kernel.validators import choice, instance_of
from crmcore.sales._exact import divide_half_even, exact_money, group_sums
from crmcore.sales._reports import money_text
from crmcore.sales.exchange_rates import ExchangeRates
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.opportunity_frame import OpportunityFrame
from crmcore.sales.pipeline import Pipeline
from crmcore.sales.pipeline_reports_batch import as_frame, closed_as_of, group_medians

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DealPerformance", "GroupPerformance", "GroupBy", "deal_performance"]

GroupBy = Literal["owner", "source", "segment", "account", "stage"]
"""What closed deals can be grouped by (``"stage"``: the stage they closed in)."""
NONE_LABEL = "(none)"
"""The group of deals without a value (no source, say)."""


@attrs.frozen(kw_only=True)
class GroupPerformance:
    """The closed deals of one group: counts, amounts, win rates, deal size and cycle length."""

    group: str
    won: int
    lost: int
    won_amount: Money
    lost_amount: Money
    average_deal_size: Money | None
    median_cycle_days: float | None
    mean_cycle_days: float | None

    @property
    def closed(self) -> int:
        """Won plus lost."""
        return self.won + self.lost

    @property
    def win_rate(self) -> float | None:
        """won / (won + lost) by count (``None`` when nothing closed)."""
        return self.won / self.closed if self.closed else None

    @property
    def amount_win_rate(self) -> float | None:
        """Won amount / closed amount (``None`` when the closed amount is zero)."""
        total = self.won_amount.amount + self.lost_amount.amount
        return float(self.won_amount.amount / total) if total else None

    def to_dict(self) -> dict[str, object]:
        """JSON data (amounts as exact decimal strings)."""
        return {
            "group": self.group,
            "won": self.won,
            "lost": self.lost,
            "win_rate": self.win_rate,
            "won_amount": money_text(self.won_amount),
            "lost_amount": money_text(self.lost_amount),
            "amount_win_rate": self.amount_win_rate,
            "average_deal_size": None
            if self.average_deal_size is None
            else money_text(self.average_deal_size),
            "median_cycle_days": self.median_cycle_days,
            "mean_cycle_days": self.mean_cycle_days,
        }


@attrs.frozen(kw_only=True)
class DealPerformance:
    """Closed-deal performance in ``(start, end]``: ``total`` and, with ``by``, one line per group
    (groups in order of first appearance, then ``"(none)"``; groups without closed deals are
    left out)."""

    pipeline_id: str
    start: datetime | None
    end: datetime
    currency: str
    by: str | None
    total: GroupPerformance
    groups: tuple[GroupPerformance, ...]

    def group(self, name: str) -> GroupPerformance:
        """The line of group ``name`` (a group without closed deals: all zeros)."""
        instance_of(name, str, "name", "a group name")
        for line in self.groups:
            if line.group == name:
                return line
        zero = Money.zero(self.currency)
        return GroupPerformance(
            group=name,
            won=0,
            lost=0,
            won_amount=zero,
            lost_amount=zero,
            average_deal_size=None,
            median_cycle_days=None,
            mean_cycle_days=None,
        )

    def to_dict(self) -> dict[str, object]:
        """JSON data: the window, the total and the groups."""
        return {
            "pipeline_id": self.pipeline_id,
            "start": None if self.start is None else self.start.isoformat(),
            "end": self.end.isoformat(),
            "currency": self.currency,
            "by": self.by,
            "total": self.total.to_dict(),
            "groups": [g.to_dict() for g in self.groups],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per group (the total when not grouped); needs the ``pandas`` extra."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "DealPerformance.to_pandas") from None
        lines = self.groups if self.by is not None else (self.total,)
        return pd.DataFrame([line.to_dict() for line in lines])

    def _repr_html_(self) -> str:
        lines = [*self.groups, self.total] if self.by is not None else [self.total]
        rows = [
            [
                "all" if line is self.total else line.group,
                line.won,
                line.lost,
                line.win_rate,
                float(line.won_amount.amount),
                None if line.average_deal_size is None else float(line.average_deal_size.amount),
                line.median_cycle_days,
            ]
            for line in lines
        ]
        window = "" if self.start is None else f"{self.start.date().isoformat()} to "
        return html_table(
            f"Closed deals {window}{self.end.date().isoformat()} ({self.currency})",
            [self.by or "deals", "won", "lost", "win rate", "won amount", "avg deal", "cycle"],
            rows,
            kinds=["auto", "int", "int", "pct", "float", "float", "days"],
            bars={3: 1.0},
        )


def deal_performance(
    data: OpportunityFrame | Iterable[Opportunity],
    *,
    end: datetime,
    start: datetime | None = None,
    by: GroupBy | None = None,
    pipeline: Pipeline | None = None,
    rates: ExchangeRates | None = None,
) -> DealPerformance:
    """Win rates, deal size and cycle length of the deals closed in ``(start, end]`` (vectorised).

    ``start=None`` takes every deal closed up to ``end``. A deal counts as of ``end``: won or
    lost then, closed at its latest move up to ``end``, with its amount then. Mixed currencies
    need ``rates``.
    """
    if by is not None:
        by = choice(by, "by", get_args(GroupBy))
    frame = as_frame(data, pipeline)
    t1 = to_micros(end, "end")
    t0 = None if start is None else to_micros(start, "start")
    if t0 is not None and t1 < t0:
        raise ValidationError("end", end, "must not be before start")
    currency, _ = frame.report_currency(rates)
    amounts = (frame if rates is None else frame.in_currency(rates)).amount_at(t1)
    status, closed = closed_as_of(frame, t1)
    window = (status != 0) & frame.exists_at(t1)
    if t0 is not None:
        window &= closed > t0
    names: tuple[str, ...]
    if by is None:
        codes, names = np.zeros(len(frame), dtype=np.int64), ("all",)
    elif by == "stage":
        codes, names = frame.stage_at(t1).astype(np.int64), frame.pipeline.keys
    else:
        codes, names = frame.labels(by)
        codes = np.where(codes < 0, len(names), codes)
        names = (*names, NONE_LABEL)
    cycle = closed - frame.created
    lines = _lines(codes, names, status, window, amounts, cycle, currency)
    groups = tuple(line for line in lines if line.closed) if by is not None else ()
    if by is None:
        total = lines[0]
    else:
        everyone = np.zeros(len(frame), dtype=np.int64)
        total = _lines(everyone, ("all",), status, window, amounts, cycle, currency)[0]
    return DealPerformance(
        pipeline_id=frame.pipeline.id,
        start=None if t0 is None else from_micros(t0),
        end=from_micros(t1),
        currency=currency,
        by=by,
        total=total,
        groups=groups,
    )


def _lines(
    codes: Int64Array,
    names: tuple[str, ...],
    status: Int64Array,
    window: BoolArray,
    amounts: Int64Array,
    cycle: Int64Array,
    currency: str,
) -> list[GroupPerformance]:
    size = len(names)
    won_mask, lost_mask = window & (status == 1), window & (status == 2)
    won_codes, lost_codes = codes[won_mask], codes[lost_mask]
    won = np.bincount(won_codes, minlength=size)
    lost = np.bincount(lost_codes, minlength=size)
    won_amount = group_sums(won_codes, amounts[won_mask], size)
    lost_amount = group_sums(lost_codes, amounts[lost_mask], size)
    cycle_sum = group_sums(won_codes, cycle[won_mask], size)
    medians = group_medians(won_codes, cycle[won_mask], size)
    digits = minor_units(currency)
    out = []
    for k, name in enumerate(names):
        n = int(won[k])
        average = None
        if n:
            average = exact_money(divide_half_even(won_amount[k], n), digits, currency)
        out.append(
            GroupPerformance(
                group=name,
                won=n,
                lost=int(lost[k]),
                won_amount=exact_money(won_amount[k], digits, currency),
                lost_amount=exact_money(lost_amount[k], digits, currency),
                average_deal_size=average,
                median_cycle_days=float(medians[k]) / DAY_US if n else None,
                mean_cycle_days=cycle_sum[k] / n / DAY_US if n else None,
            )
        )
    return out
