"""Deals at risk: slipped deals (close date pushed), overdue deals, and aged or stuck deals.

Two lists a sales manager reviews every week, computed vectorised over an
[`OpportunityFrame`][crmcore.sales.opportunity_frame.OpportunityFrame] as of ``as_of`` (the open
deals then):

* [`slipped_deals()`][crmcore.sales.deal_risks.slipped_deals]: deals whose expected close date was
  pushed later at least ``min_slips`` times (since ``since``, if given), with how often and by how
  many days in all; and, with ``include_overdue``, deals whose close date has passed;
* [`aged_deals()`][crmcore.sales.deal_risks.aged_deals]: deals open longer than ``older_than_days``
  or in their stage longer than ``in_stage_days``.

Both return a [`DealList`][crmcore.sales.deal_risks.DealList], largest amount first.

Examples:
    >>> from datetime import UTC, date, datetime, timedelta
    >>> from crmcore.kernel.money import Money
    >>> from crmcore.sales.opportunities import Opportunity
    >>> from crmcore.sales.pipeline import DEFAULT_PIPELINE as P
    >>> t = datetime(2026, 1, 5, tzinfo=UTC)
    >>> deal = Opportunity.open("o1", P, owner="ann", amount=Money(900, "EUR"),
    ...                         close_date=date(2026, 1, 31), at=t).value
    >>> deal = deal.change_close_date(date(2026, 2, 28), t + timedelta(days=20)).value
    >>> deal = deal.change_close_date(date(2026, 3, 31), t + timedelta(days=50)).value
    >>> late = slipped_deals([deal], t + timedelta(days=60), pipeline=P)
    >>> [(d.id, d.slips, d.slipped_days) for d in late.deals]
    [('o1', 2, 59)]
    >>> aged_deals([deal], t + timedelta(days=60), pipeline=P, older_than_days=45).deals[0].age_days
    60.0
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Final

import attrs
import numpy as np

from crmcore.kernel.arrays import BoolArray, Int64Array
from crmcore.kernel.clock import DAY_US, from_micros, to_micros
from crmcore.kernel.errors import MissingDependencyError, ValidationError
from crmcore.kernel.money import Money, minor_units
from crmcore.kernel.reports import html_table
from crmcore.kernel.validators import boolean
from crmcore.sales._exact import exact_money
from crmcore.sales._reports import money_text
from crmcore.sales.exchange_rates import ExchangeRates
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.opportunity_frame import OpportunityFrame
from crmcore.sales.pipeline import Pipeline
from crmcore.sales.pipeline_reports_batch import as_frame, entered_stage_at

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DealAtRisk", "DealList", "aged_deals", "slipped_deals"]

_EPOCH_DAY: Final = date(1970, 1, 1)
_HTML_ROWS: Final = 50


@attrs.frozen(kw_only=True)
class DealAtRisk:
    """One open deal of a risk list, as of the list's ``as_of``."""

    id: str
    owner: str
    stage: str
    amount: Money
    close_date: date
    age_days: float
    days_in_stage: float
    slips: int
    slipped_days: int
    overdue: bool

    def to_dict(self) -> dict[str, object]:
        """JSON data (the amount as exact decimal text)."""
        return attrs.asdict(self) | {
            "amount": money_text(self.amount),
            "close_date": self.close_date.isoformat(),
        }


@attrs.frozen(kw_only=True)
class DealList:
    """Open deals flagged by a risk rule (``rule`` says which), largest amount first."""

    pipeline_id: str
    as_of: datetime
    currency: str
    rule: str
    deals: tuple[DealAtRisk, ...]

    def __len__(self) -> int:
        return len(self.deals)

    @property
    def amount(self) -> Money:
        """The listed deals' total amount."""
        return Money.sum((d.amount for d in self.deals), self.currency)

    @property
    def ids(self) -> tuple[str, ...]:
        """The listed deals' ids, in list order."""
        return tuple(d.id for d in self.deals)

    def to_dict(self) -> dict[str, object]:
        """JSON data: the rule, the total and every deal."""
        return {
            "pipeline_id": self.pipeline_id,
            "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "rule": self.rule,
            "count": len(self.deals),
            "amount": money_text(self.amount),
            "deals": [d.to_dict() for d in self.deals],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per deal (the amount as a float; needs the ``pandas`` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "DealList.to_pandas") from None
        rows = [d.to_dict() | {"amount": float(d.amount.amount)} for d in self.deals]
        columns = [f.name for f in attrs.fields(DealAtRisk)]
        return pd.DataFrame(rows, columns=columns)

    def _repr_html_(self) -> str:
        shown = self.deals[:_HTML_ROWS]
        rows = [
            [
                d.id,
                d.owner,
                d.stage,
                float(d.amount.amount),
                d.close_date.isoformat(),
                d.age_days,
                d.days_in_stage,
                d.slips,
            ]
            for d in shown
        ]
        more = f" (first {len(shown)} of {len(self.deals)})" if len(shown) < len(self.deals) else ""
        return html_table(
            f"{self.rule} as of {self.as_of.date().isoformat()}{more}",
            ["deal", "owner", "stage", "amount", "close date", "age", "in stage", "slips"],
            rows,
            kinds=["auto", "auto", "auto", "float", "auto", "days", "days", "int"],
            caption=f"{len(self.deals):,} deals, {self.amount}",
        )


def _days(value: object, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(field, value, "must be a whole number of days (0 or more)")
    return value


def _listed(
    frame: OpportunityFrame,
    t: int,
    keep: BoolArray,
    rule: str,
    rates: ExchangeRates | None,
    slips: Int64Array,
    slipped_days: Int64Array,
) -> DealList:
    currency, _ = frame.report_currency(rates)
    amounts = (frame if rates is None else frame.in_currency(rates)).amount_at(t)
    rows = np.flatnonzero(keep)
    rows = rows[np.lexsort((frame.ids[rows], -amounts[rows]))]
    stage = frame.stage_at(t)
    close_day = frame.close_day_at(t)
    entered = entered_stage_at(frame, t)
    digits = minor_units(currency)
    today = t // DAY_US
    deals = tuple(
        DealAtRisk(
            id=str(frame.ids[i]),
            owner=frame.owners[frame.owner[i]] if frame.owner[i] >= 0 else "",
            stage=frame.pipeline.stages[stage[i]].key,
            amount=exact_money(int(amounts[i]), digits, currency),
            close_date=_EPOCH_DAY + timedelta(days=int(close_day[i])),
            age_days=(t - int(frame.created[i])) / DAY_US,
            days_in_stage=(t - int(entered[i])) / DAY_US,
            slips=int(slips[i]),
            slipped_days=int(slipped_days[i]),
            overdue=bool(close_day[i] < today),
        )
        for i in rows.tolist()
    )
    return DealList(
        pipeline_id=frame.pipeline.id,
        as_of=from_micros(t),
        currency=currency,
        rule=rule,
        deals=deals,
    )


def _slips(frame: OpportunityFrame, t: int, since: int | None) -> tuple[Int64Array, Int64Array]:
    log = frame.close_date_revisions
    pushed = (log.at <= t) & (log.new > log.old)
    if since is not None:
        pushed &= log.at > since
    n = len(frame)
    count = np.bincount(log.row[pushed], minlength=n).astype(np.int64)
    days = np.zeros(n, dtype=np.int64)
    np.add.at(days, log.row[pushed], (log.new - log.old)[pushed])
    return count, days


def _open_at(frame: OpportunityFrame, t: int) -> BoolArray:
    mask: BoolArray = frame.exists_at(t) & (frame.status_at(t) == 0)
    return mask


def slipped_deals(
    data: OpportunityFrame | Iterable[Opportunity],
    as_of: datetime,
    *,
    pipeline: Pipeline | None = None,
    min_slips: int = 1,
    since: datetime | None = None,
    include_overdue: bool = False,
    rates: ExchangeRates | None = None,
) -> DealList:
    """Open deals whose close date was pushed later at least ``min_slips`` times up to ``as_of``
    (counting pushes after ``since`` only, if given); with ``include_overdue``, also those whose
    close date (as of ``as_of``) is before ``as_of``'s day."""
    include_overdue = boolean(include_overdue, "include_overdue")
    frame = as_frame(data, pipeline)
    t = to_micros(as_of, "as_of")
    least = _days(min_slips, "min_slips")
    if not least:
        raise ValidationError("min_slips", min_slips, "must be at least 1")
    start = None if since is None else to_micros(since, "since")
    count, days = _slips(frame, t, start)
    keep = count >= least
    if include_overdue:
        keep |= frame.close_day_at(t) < t // DAY_US
    rule = "slipped deals" + (" and overdue deals" if include_overdue else "")
    return _listed(frame, t, keep & _open_at(frame, t), rule, rates, count, days)


def aged_deals(
    data: OpportunityFrame | Iterable[Opportunity],
    as_of: datetime,
    *,
    pipeline: Pipeline | None = None,
    older_than_days: int | None = None,
    in_stage_days: int | None = None,
    rates: ExchangeRates | None = None,
) -> DealList:
    """Open deals older than ``older_than_days`` or longer than ``in_stage_days`` in their stage
    (at least one of the two is required)."""
    frame = as_frame(data, pipeline)
    t = to_micros(as_of, "as_of")
    older, stuck = _days(older_than_days, "older_than_days"), _days(in_stage_days, "in_stage_days")
    if older is None and stuck is None:
        raise ValidationError("older_than_days", None, "give older_than_days or in_stage_days")
    keep = np.zeros(len(frame), dtype=bool)
    if older is not None:
        keep |= t - frame.created > older * DAY_US
    if stuck is not None:
        keep |= t - entered_stage_at(frame, t) > stuck * DAY_US
    parts = [f"open over {older} days"] if older is not None else []
    parts += [f"over {stuck} days in stage"] if stuck is not None else []
    count, days = _slips(frame, t, None)
    return _listed(
        frame, t, keep & _open_at(frame, t), "aged deals: " + " or ".join(parts), rates, count, days
    )
