"""A campaign's audience: who is targeted, and whether each is in the control group or a variant.

[`campaign_audience()`][crmcore.marketing.campaign_audience.campaign_audience] evaluates the
campaign's target over a [`CustomerFrame`][crmcore.columnar.CustomerFrame] (erased customers are
never targeted) and assigns every member a group by hash
([`crmcore.marketing.experiments`][crmcore.marketing.experiments], salted with the campaign id):
the same customer gets the same group in every run. The result,
[`CampaignAudience`][crmcore.marketing.campaign_audience.CampaignAudience], is columnar: the ids,
their group codes (-1 for control, else the variant's index) and their assignment numbers.

When the budget allows fewer sends than there are treated customers,
[`CampaignAudience.send_list()`][crmcore.marketing.campaign_audience.CampaignAudience.send_list]
keeps those with the lowest assignment numbers: a random sample that does not change from run to
run, so a re-run after a crash sends to the same people.

Examples:
    >>> from crmcore.columnar import CustomerFrame
    >>> from crmcore.datasets import synthetic
    >>> from crmcore.marketing.campaigns import Campaign
    >>> from crmcore.marketing.experiments import Split, Variant
    >>> data = synthetic.generate(400, seed=5)
    >>> frame = CustomerFrame.from_customers(data.customers)
    >>> campaign = Campaign.draft("june", "June", channels=["email"], starts_at=data.end,
    ...     at=data.end, segment="purchase_count >= 1",
    ...     split=Split("0.2", (Variant("A"), Variant("B")))).value
    >>> audience = campaign_audience(campaign, frame, data.end)
    >>> sum(audience.sizes().values()) == len(audience) > 0
    True
    >>> someone = str(audience.customer_ids[0])
    >>> audience.group_of(someone) == campaign_audience(campaign, frame, data.end).group_of(someone)
    True
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import TYPE_CHECKING

import attrs
import numpy as np

from crmcore.columnar import STRING_DTYPE, CustomerFrame, EventLog, TransactionLog
from crmcore.columnar.id_index import rows_equal_to
from crmcore.kernel.arrays import AnyArray, Float64Array, Int64Array, read_only
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import MissingDependencyError, NotFoundError, ValidationError
from crmcore.kernel.reports import html_table
from crmcore.kernel.validators import instance_of, storable_text
from crmcore.marketing.campaigns import Campaign
from crmcore.marketing.experiments import CONTROL, assignment_numbers
from crmcore.marketing.targeting import target_mask

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CampaignAudience", "campaign_audience"]


def _frozen(value: AnyArray) -> AnyArray:
    return read_only(np.asarray(value), copy=True)


@attrs.frozen(eq=False)
class CampaignAudience:
    """The targeted customers of a campaign with their groups, as columns.

    ``group_codes[i]`` is -1 when ``customer_ids[i]`` is in the control group, else the index of
    its variant in ``variant_names``; ``numbers[i]`` is its assignment number in [0, 1).
    """

    campaign_id: str
    as_of: datetime
    variant_names: tuple[str, ...]
    customer_ids: AnyArray = attrs.field(converter=_frozen)
    group_codes: Int64Array = attrs.field(converter=_frozen)
    numbers: Float64Array = attrs.field(converter=_frozen)

    def __len__(self) -> int:
        return len(self.customer_ids)

    @property
    def group_names(self) -> tuple[str, ...]:
        """``control`` then the variant names: the names of codes -1, 0, 1, ..."""
        return (CONTROL, *self.variant_names)

    def _code(self, group: str) -> int:
        instance_of(group, str, "group", "a group name")
        if group == CONTROL:
            return -1
        if group not in self.variant_names:
            raise NotFoundError("campaign group", group)
        return self.variant_names.index(group)

    def sizes(self) -> dict[str, int]:
        """Customers per group, ``control`` first."""
        counts = np.bincount(self.group_codes + 1, minlength=len(self.variant_names) + 1)
        return {name: int(n) for name, n in zip(self.group_names, counts, strict=True)}

    def members(self, group: str) -> list[str]:
        """The ids of one group (``control`` or a variant), in frame order."""
        return [str(v) for v in self.customer_ids[self.group_codes == self._code(group)]]

    def group_of(self, customer_id: str) -> str:
        """The group of one targeted customer; NotFoundError when not targeted."""
        instance_of(customer_id, str, "customer_id", "a customer id")
        hits = rows_equal_to(self.customer_ids, storable_text(customer_id, "customer_id"))
        if not len(hits):
            raise NotFoundError("audience member", customer_id)
        return self.group_names[int(self.group_codes[hits[0]]) + 1]

    def send_list(self, limit: int | None = None) -> list[tuple[str, str]]:
        """``(customer_id, variant)`` of the treated customers, lowest assignment numbers first.

        ``limit`` caps the list (e.g. with
        [`Campaign.allowance()`][crmcore.marketing.campaigns.Campaign.allowance]); the kept
        customers are the same in every run.
        """
        treated = np.flatnonzero(self.group_codes >= 0)
        order = treated[np.argsort(self.numbers[treated], kind="stable")]
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise ValidationError("limit", limit, "must be None or a non-negative integer")
            order = order[:limit]
        names = self.variant_names
        return [(str(self.customer_ids[i]), names[int(self.group_codes[i])]) for i in order]

    def to_dict(self) -> dict[str, object]:
        """Sizes per group as JSON data (the member lists stay in the arrays)."""
        return {
            "campaign_id": self.campaign_id,
            "as_of": self.as_of.isoformat(),
            "customers": len(self),
            "groups": self.sizes(),
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per targeted customer: ``customer_id``, ``group``, ``number`` (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "CampaignAudience.to_pandas") from None
        names = np.array(self.group_names, dtype=object)
        return pd.DataFrame(
            {
                "customer_id": self.customer_ids.astype(object),
                "group": names[self.group_codes + 1],
                "number": self.numbers,
            }
        )

    def _repr_html_(self) -> str:
        sizes = self.sizes()
        total = max(len(self), 1)
        rows = [(name, n, n / total) for name, n in sizes.items()]
        return html_table(
            f"Audience of campaign {html.escape(self.campaign_id)}",
            ["group", "customers", "share"],
            rows,
            kinds=["auto", "int", "pct"],
            bars={1: max(sizes.values(), default=0) or 1},
        )


def campaign_audience(
    campaign: Campaign,
    frame: CustomerFrame,
    as_of: datetime,
    *,
    transactions: TransactionLog | None = None,
    events: EventLog | None = None,
) -> CampaignAudience:
    """The customers of ``frame`` in the campaign's target at ``as_of``, with their groups.

    ``transactions`` / ``events`` are needed only by a target rule that aggregates over them.
    Erased customers are left out.
    """
    if not isinstance(campaign, Campaign):
        raise ValidationError("campaign", campaign, "must be a Campaign")
    at = to_utc(as_of, "as_of")
    chosen = target_mask(campaign.segment, frame, at, transactions=transactions, events=events)
    chosen = chosen & ~frame["erased"].values
    ids = np.asarray(frame.ids[chosen], dtype=STRING_DTYPE)
    numbers = assignment_numbers(campaign.id, ids)
    return CampaignAudience(
        campaign_id=campaign.id,
        as_of=at,
        variant_names=tuple(v.name for v in campaign.split.variants),
        customer_ids=ids,
        group_codes=campaign.split.group_codes(numbers),
        numbers=numbers,
    )
