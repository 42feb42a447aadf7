"""Campaign results: sends, responses, attributed conversions, revenue, cost, ROI and uplift.

[`measure_campaign()`][crmcore.marketing.campaign_results.measure_campaign] reads three logs,
vectorised (sorts, ``searchsorted`` and ``np.bincount``; no loop per customer or per row):

* **touches**, an [`EventLog`][crmcore.columnar.EventLog] of campaign sends whose ``kind`` is the
  campaign id (rows of other kinds are other campaigns' touches, which compete for the credit);
* **conversions**, a [`TransactionLog`][crmcore.columnar.TransactionLog] of purchases;
* optionally **responses**, an [`EventLog`][crmcore.columnar.EventLog] of this campaign's opens or
  clicks (any kind).

Two questions are answered, and kept apart because they mean different things:

* **Attribution** (who gets the credit): each purchase in the measurement period is credited to
  the first or the last touch of its customer within the attribution window before it
  ([`Attribution`][crmcore.marketing.campaigns.Attribution]; on equal times the later row of the
  log is the last touch and the earlier the first). Purchases credited to this campaign are its
  *attributed conversions* and *attributed revenue*; ``ROI = (attributed revenue - cost) / cost``,
  with ``cost = sends x cost per send``.
* **Uplift** (what the campaign caused): every customer of the audience was assigned a group by
  hash, so the groups are comparable by construction. A group's *conversion rate* is the share of
  its customers who bought at least once in the measurement period, whether or not a message
  reached them (intent to treat). Each variant is compared with the control group, and each later
  variant with the first (A/B), by
  [`compare_proportions()`][crmcore.marketing.experiments.compare_proportions]: difference with a
  Newcombe interval, pooled z test, relative uplift. *Incremental conversions* are
  ``(rate - control rate) x customers``, *incremental revenue* likewise per customer.

The measurement period runs from ``starts_at`` to the earlier of ``as_of`` and ``ends_at`` plus
the attribution window, both ends included. Sends to customers outside the audience are counted as
``unknown_recipients``, control-group customers who were sent something as
``holdout_violations``: both should be 0.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import TYPE_CHECKING, Final

import attrs
import numpy as np

from crmcore.columnar import EventLog, IdIndex, TransactionLog
from crmcore.columnar.arguments import int_column, same_length
from crmcore.kernel.arrays import BoolArray, Int64Array
from crmcore.kernel.clock import DAY_US, MICROSECOND, to_micros, to_utc
from crmcore.kernel.errors import MissingDependencyError, NotFoundError, ValidationError
from crmcore.kernel.money import Money
from crmcore.kernel.reports import html_table, json_number
from crmcore.kernel.validators import choice, instance_of, integer
from crmcore.marketing.campaign_audience import CampaignAudience
from crmcore.marketing.campaigns import AttributionModel, Campaign
from crmcore.marketing.experiments import CONTROL, ProportionComparison, compare_proportions

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CampaignResults",
    "GroupResult",
    "VariantComparison",
    "attribute_touches",
    "measure_campaign",
]


@attrs.frozen
class GroupResult:
    """The figures of one group (``control`` or a variant) of a campaign."""

    name: str
    customers: int
    recipients: int
    sends: int
    cost: Money | None
    responders: int
    attributed_conversions: int
    attributed_revenue: float
    converters: int
    revenue: float

    @property
    def response_rate(self) -> float | None:
        """Responders per recipient."""
        return self.responders / self.recipients if self.recipients else None

    @property
    def conversion_rate(self) -> float | None:
        """Customers who bought in the period, per customer of the group (intent to treat)."""
        return self.converters / self.customers if self.customers else None

    @property
    def revenue_per_customer(self) -> float | None:
        """Revenue in the period per customer of the group."""
        return self.revenue / self.customers if self.customers else None

    @property
    def roi(self) -> float | None:
        """``(attributed revenue - cost) / cost``; ``None`` without a positive cost."""
        if self.cost is None or self.cost.amount <= 0:
            return None
        cost = float(self.cost.amount)
        return (self.attributed_revenue - cost) / cost

    def to_dict(self) -> dict[str, object]:
        """The group's figures as JSON data."""
        return {
            "name": self.name,
            "customers": self.customers,
            "recipients": self.recipients,
            "sends": self.sends,
            "cost": None if self.cost is None else self.cost.to_dict(),
            "responders": self.responders,
            "response_rate": json_number(self.response_rate),
            "attributed_conversions": self.attributed_conversions,
            "attributed_revenue": json_number(self.attributed_revenue),
            "roi": json_number(self.roi),
            "converters": self.converters,
            "conversion_rate": json_number(self.conversion_rate),
            "revenue": json_number(self.revenue),
            "revenue_per_customer": json_number(self.revenue_per_customer),
        }


@attrs.frozen
class VariantComparison:
    """A variant against a baseline group (the control group, or variant A for A/B)."""

    variant: str
    baseline: str
    conversion: ProportionComparison
    incremental_conversions: float | None
    incremental_revenue: float | None

    def to_dict(self) -> dict[str, object]:
        """The comparison as JSON data."""
        return {
            "variant": self.variant,
            "baseline": self.baseline,
            "conversion": self.conversion.to_dict(),
            "incremental_conversions": json_number(self.incremental_conversions),
            "incremental_revenue": json_number(self.incremental_revenue),
        }


@attrs.frozen
class CampaignResults:
    """What a campaign did, per group, with its comparisons (a report object)."""

    campaign_id: str
    measured_from: datetime
    measured_to: datetime
    model: AttributionModel
    window_days: float
    groups: tuple[GroupResult, ...]
    comparisons: tuple[VariantComparison, ...]
    holdout_violations: int
    unknown_recipients: int

    def group(self, name: str) -> GroupResult:
        """The figures of group ``name``."""
        instance_of(name, str, "name", "a group name")
        for result in self.groups:
            if result.name == name:
                return result
        raise NotFoundError("campaign group", name)

    def comparison(self, variant: str, baseline: str = CONTROL) -> VariantComparison:
        """The comparison of ``variant`` with ``baseline`` (default the control group)."""
        instance_of(variant, str, "variant", "a group name")
        instance_of(baseline, str, "baseline", "a group name")
        for result in self.comparisons:
            if (result.variant, result.baseline) == (variant, baseline):
                return result
        raise NotFoundError("campaign comparison", f"{variant} vs {baseline}")

    @property
    def total(self) -> GroupResult:
        """All variants together (the control group left out)."""
        treated = [g for g in self.groups if g.name != CONTROL]
        costs = [g.cost for g in treated if g.cost is not None]
        return GroupResult(
            name="all variants",
            customers=sum(g.customers for g in treated),
            recipients=sum(g.recipients for g in treated),
            sends=sum(g.sends for g in treated),
            cost=Money.sum(costs, costs[0].currency) if costs else None,
            responders=sum(g.responders for g in treated),
            attributed_conversions=sum(g.attributed_conversions for g in treated),
            attributed_revenue=float(sum(g.attributed_revenue for g in treated)),
            converters=sum(g.converters for g in treated),
            revenue=float(sum(g.revenue for g in treated)),
        )

    def to_dict(self) -> dict[str, object]:
        """The whole report as JSON data."""
        return {
            "campaign_id": self.campaign_id,
            "measured_from": self.measured_from.isoformat(),
            "measured_to": self.measured_to.isoformat(),
            "attribution": {"model": self.model.value, "window_days": self.window_days},
            "groups": [g.to_dict() for g in self.groups],
            "total": self.total.to_dict(),
            "comparisons": [c.to_dict() for c in self.comparisons],
            "holdout_violations": self.holdout_violations,
            "unknown_recipients": self.unknown_recipients,
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per group with every figure (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "CampaignResults.to_pandas") from None
        rows = []
        for g in self.groups:
            row = g.to_dict()
            row["cost"] = None if g.cost is None else float(g.cost.amount)
            rows.append(row)
        return pd.DataFrame(rows).set_index("name")

    def _repr_html_(self) -> str:
        header = [
            "group",
            "customers",
            "sends",
            "responders",
            "attributed",
            "revenue",
            "ROI",
            "conversion",
            "uplift",
            "p-value",
        ]
        rows: list[list[object]] = []
        for g in self.groups:
            found = [c for c in self.comparisons if c.variant == g.name and c.baseline == CONTROL]
            cmp = found[0].conversion if found else None
            rows.append(
                [
                    g.name,
                    g.customers,
                    g.sends,
                    g.responders,
                    g.attributed_conversions,
                    g.attributed_revenue,
                    g.roi,
                    g.conversion_rate,
                    None if cmp is None else cmp.difference,
                    None if cmp is None else cmp.p_value,
                ]
            )
        caption = (
            f"{self.model.value.replace('_', ' ')} within {self.window_days:g} days; "
            f"measured {self.measured_from:%Y-%m-%d} to {self.measured_to:%Y-%m-%d}; "
            f"uplift = conversion rate minus the control group's"
        )
        return html_table(
            f"Campaign {html.escape(self.campaign_id)}",
            header,
            rows,
            kinds=["auto", "int", "int", "int", "int", "float", "pct", "pct", "pct", "float"],
            caption=caption,
        )


def _kind_mask(log: EventLog, kind: str) -> BoolArray:
    column = log["kind"]
    code = column.code_of(kind)
    if code is None:
        return np.zeros(len(log), dtype=bool)
    return np.asarray(column.values == code)


_MAX_WINDOW_US: Final = 10_000 * 366 * DAY_US
"""The longest attribution window, in microseconds (beyond it, time arithmetic would overflow)."""


def attribute_touches(
    touch_customers: Int64Array,
    touch_times: Int64Array,
    conversion_customers: Int64Array,
    conversion_times: Int64Array,
    window_us: int,
    model: AttributionModel,
) -> Int64Array:
    """For each conversion, the index of the touch it is credited to (-1: none in the window).

    Customers are integer codes, times integer microseconds. A touch at ``t`` qualifies for a
    conversion at ``p`` of the same customer when ``p - window <= t <= p``; of those, the first or
    the last (by time, then by position in the arrays) is credited. Vectorised: touches and
    conversion bounds are ranked on one time axis, packed with the customer into one sortable key,
    and looked up with ``searchsorted``.

    Raises:
        ValidationError: a column is not a one-dimensional integer array (or a touch or
            conversion column differs in length from its partner), ``window_us`` is not an
            integer from 0 to about 10,000 years, or ``model`` is not an
            [`AttributionModel`][crmcore.marketing.campaigns.AttributionModel] (or its value).
    """
    tc, tt = int_column(touch_customers, "touch_customers"), int_column(touch_times, "touch_times")
    cc = int_column(conversion_customers, "conversion_customers")
    ct = int_column(conversion_times, "conversion_times")
    same_length("touch_customers", len(tc), touch_times=tt)
    same_length("conversion_customers", len(cc), conversion_times=ct)
    window_us = integer(window_us, "window_us", low=0, high=_MAX_WINDOW_US)
    model = choice(model, "model", AttributionModel)
    out = np.full(len(cc), -1, dtype=np.int64)
    if not len(tc) or not len(cc):
        return out
    lower = ct - window_us
    times, inverse = np.unique(np.concatenate([tt, ct, lower]), return_inverse=True)
    span = np.int64(len(times) + 1)
    t_rank, c_rank, l_rank = np.split(inverse.astype(np.int64), [len(tt), len(tt) + len(ct)])
    keys = tc * span + t_rank
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    if model is AttributionModel.LAST_TOUCH:
        at = np.searchsorted(sorted_keys, cc * span + c_rank, side="right") - 1
        safe = np.maximum(at, 0)
        hit = (at >= 0) & (tc[order[safe]] == cc) & (tt[order[safe]] >= lower)
    else:
        at = np.searchsorted(sorted_keys, cc * span + l_rank, side="left")
        safe = np.minimum(at, len(order) - 1)
        hit = (at < len(order)) & (tc[order[safe]] == cc) & (tt[order[safe]] <= ct)
    out[hit] = order[safe[hit]]
    return out


def measure_campaign(
    campaign: Campaign,
    audience: CampaignAudience,
    touches: EventLog,
    conversions: TransactionLog,
    *,
    as_of: datetime,
    responses: EventLog | None = None,
    confidence: float = 0.95,
) -> CampaignResults:
    """The results of ``campaign`` at ``as_of`` (see the module notes for every definition).

    ``audience`` is the campaign's [`CampaignAudience`][crmcore.marketing.campaign_audience]; a
    conversion's amount is counted in the log's unit, and with a cost per send every conversion
    in the period must be in the cost's currency (or have none).

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] for an audience of another
    campaign, logs of the wrong type, ``as_of`` before the start, or conversions in another
    currency.
    """
    if not isinstance(campaign, Campaign):
        raise ValidationError("campaign", campaign, "must be a Campaign")
    if not isinstance(audience, CampaignAudience) or audience.campaign_id != campaign.id:
        raise ValidationError("audience", audience, f"must be the audience of {campaign.id!r}")
    for name, log, kind in (
        ("touches", touches, EventLog),
        ("conversions", conversions, TransactionLog),
        ("responses", responses, EventLog),
    ):
        if (log is not None or name != "responses") and not isinstance(log, kind):
            raise ValidationError(name, log, f"must be a {kind.__name__}")
    end = to_utc(as_of, "as_of")
    if end < campaign.starts_at:
        raise ValidationError("as_of", end, "is before the campaign starts")
    window = campaign.attribution.window
    if campaign.ends_at is not None:
        end = min(end, campaign.ends_at + window)
    start_us, end_us, as_of_us = to_micros(campaign.starts_at), to_micros(end), to_micros(as_of)
    window_us = window // MICROSECOND
    population = audience.customer_ids
    index = IdIndex(population, "audience.customer_ids")
    groups = audience.group_codes + 1  # 0 = control, 1.. = variants
    n_groups = len(audience.variant_names) + 1

    # touches: every campaign's, up to as_of; ours are those of kind == campaign id
    t_pos = index.rows(touches.customer_ids)[touches.customer_codes]
    t_time = touches.at.view(np.int64)
    ours = _kind_mask(touches, campaign.id) & (t_time >= start_us) & (t_time <= as_of_us)
    unknown = int(np.count_nonzero(ours & (t_pos < 0)))
    sends_mask = ours & (t_pos >= 0)
    sends_per_customer = np.bincount(t_pos[sends_mask], minlength=len(population))
    first_send = np.full(len(population), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_send, t_pos[sends_mask], t_time[sends_mask])
    received = sends_per_customer > 0
    violations = int(np.count_nonzero(received & (groups == 0)))

    # conversions in the measurement period, by audience customers
    c_pos = index.rows(conversions.customer_ids)[conversions.customer_codes]
    c_time = conversions.at.view(np.int64)
    amount = conversions["amount"].values
    in_period = (c_pos >= 0) & (c_time >= start_us) & (c_time <= end_us)
    _check_currency(conversions, in_period, campaign.cost_per_send)
    cp, ct, ca = c_pos[in_period], c_time[in_period], amount[in_period]

    usable = (t_pos >= 0) & (t_time <= as_of_us)
    t_index = np.flatnonzero(usable)
    credited = attribute_touches(
        t_pos[usable], t_time[usable], cp, ct, window_us, campaign.attribution.model
    )
    mine = credited >= 0
    mine[mine] = ours[t_index[credited[mine]]]
    attributed = np.bincount(groups[cp[mine]], minlength=n_groups)
    attributed_revenue = np.bincount(groups[cp[mine]], weights=ca[mine], minlength=n_groups)

    bought = np.zeros(len(population), dtype=bool)
    bought[cp] = True
    converters = np.bincount(groups[bought], minlength=n_groups)
    revenue = np.bincount(groups[cp], weights=ca, minlength=n_groups)

    responders = _responders(responses, index, first_send, as_of_us)
    customers = np.bincount(groups, minlength=n_groups)
    recipients = np.bincount(groups[received], minlength=n_groups)
    sends = np.bincount(groups, weights=sends_per_customer, minlength=n_groups).astype(np.int64)
    responded = np.bincount(groups[responders], minlength=n_groups)
    cost = campaign.cost_per_send
    results = tuple(
        GroupResult(
            name=name,
            customers=int(customers[g]),
            recipients=int(recipients[g]),
            sends=int(sends[g]),
            cost=None if cost is None else cost * int(sends[g]),
            responders=int(responded[g]),
            attributed_conversions=int(attributed[g]),
            attributed_revenue=float(attributed_revenue[g]),
            converters=int(converters[g]),
            revenue=float(revenue[g]),
        )
        for g, name in enumerate(audience.group_names)
    )
    comparisons = _comparisons(results, confidence, campaign.split.control_share > 0)
    return CampaignResults(
        campaign_id=campaign.id,
        measured_from=campaign.starts_at,
        measured_to=end,
        model=campaign.attribution.model,
        window_days=window.total_seconds() / 86_400,
        groups=results if campaign.split.control_share > 0 else results[1:],
        comparisons=comparisons,
        holdout_violations=violations,
        unknown_recipients=unknown,
    )


def _check_currency(log: TransactionLog, rows: BoolArray, cost: Money | None) -> None:
    if cost is None:
        return
    column = log["currency"]
    codes = np.asarray(column.values)[rows]
    allowed = column.code_of(cost.currency)
    wrong = (codes >= 0) & (codes != (-2 if allowed is None else allowed))
    if wrong.any():
        found = column.categories[int(codes[np.argmax(wrong)])]
        raise ValidationError(
            "conversions.currency", found, f"must be the cost's currency {cost.currency}"
        )


def _responders(
    responses: EventLog | None, index: IdIndex, first_send: Int64Array, as_of_us: int
) -> BoolArray:
    """Audience customers with a response at or after their first send (and by ``as_of``)."""
    out = np.zeros(len(index), dtype=bool)
    if responses is None:
        return out
    pos = index.rows(responses.customer_ids)[responses.customer_codes]
    at = responses.at.view(np.int64)
    keep = pos >= 0
    pos, at = pos[keep], at[keep]
    hit = (at >= first_send[pos]) & (at <= as_of_us)
    out[pos[hit]] = True
    return out


def _comparisons(
    groups: tuple[GroupResult, ...], confidence: float, with_control: bool
) -> tuple[VariantComparison, ...]:
    control, variants = groups[0], groups[1:]
    pairs = [(v, control) for v in variants] if with_control else []
    pairs += [(v, variants[0]) for v in variants[1:]]
    out = []
    for variant, base in pairs:
        comparison = compare_proportions(
            variant.converters,
            variant.customers,
            base.converters,
            base.customers,
            confidence=confidence,
        )
        rpc, base_rpc = variant.revenue_per_customer, base.revenue_per_customer
        out.append(
            VariantComparison(
                variant=variant.name,
                baseline=base.name,
                conversion=comparison,
                incremental_conversions=None
                if comparison.difference is None
                else comparison.difference * variant.customers,
                incremental_revenue=None
                if rpc is None or base_rpc is None
                else (rpc - base_rpc) * variant.customers,
            )
        )
    return tuple(out)
