"""Slipped, overdue and aged deals: vectorised lists equal to the per-opportunity reference."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.kernel.errors import ValidationError
from crmcore.kernel.money import Money
from crmcore.sales import _pipeline_reference as ref
from crmcore.sales.deal_risks import aged_deals, slipped_deals
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.opportunity_frame import OpportunityFrame
from crmcore.sales.pipeline import DEFAULT_PIPELINE as P

from .opportunity_strategies import opportunities, times

T = datetime(2026, 1, 5, tzinfo=UTC)


@settings(max_examples=50, deadline=None)
@given(
    opportunities(),
    times,
    st.none() | times,
    st.integers(1, 2),
    st.booleans(),
    st.none() | st.integers(0, 60),
    st.none() | st.integers(0, 30),
)
def test_lists_equal_the_reference(
    deals: list[Opportunity],
    t: datetime,
    since: datetime | None,
    least: int,
    overdue: bool,
    older: int | None,
    stuck: int | None,
) -> None:
    frame = OpportunityFrame.from_opportunities(deals, P)
    slipped = slipped_deals(frame, t, min_slips=least, since=since, include_overdue=overdue)
    assert list(slipped.ids) == ref.slipped(
        deals, t, since=since, min_slips=least, include_overdue=overdue
    )
    by_id = {o.id: o for o in deals}
    for row in slipped.deals:
        o = by_id[row.id]
        pushes = [
            c
            for c in o.close_date_history
            if c.at <= t and c.slipped and (since is None or c.at > since)
        ]
        assert (row.slips, row.slipped_days) == (len(pushes), sum(c.days for c in pushes))
        assert row.stage == o.stage_at(t) and row.close_date == o.close_date_at(t)
    if older is not None or stuck is not None:
        aged = aged_deals(frame, t, older_than_days=older, in_stage_days=stuck)
        assert list(aged.ids) == ref.aged(deals, t, older_than_days=older, in_stage_days=stuck)


def test_slipped_overdue_and_aged_examples() -> None:
    def deal(i: int, amount: int) -> Opportunity:
        return Opportunity.open(
            f"o{i}", P, owner="ann", amount=Money(amount, "EUR"), close_date=date(2026, 1, 20), at=T
        ).value

    slipper = deal(1, 500).change_close_date(date(2026, 2, 20), T + timedelta(days=3)).value
    overdue = deal(2, 900)
    stuck = deal(3, 100).move_to("qualified_to_buy", T + timedelta(days=40), P).value
    now = T + timedelta(days=45)
    late = slipped_deals([slipper, overdue, stuck], now, pipeline=P, include_overdue=True)
    assert late.ids == ("o2", "o1", "o3")  # largest amount first
    assert [d.overdue for d in late.deals] == [True, False, True]
    assert late.amount == Money("1500.00", "EUR")
    only = slipped_deals([slipper, overdue, stuck], now, pipeline=P)
    assert only.ids == ("o1",) and only.deals[0].slipped_days == 31
    old = aged_deals([slipper, overdue, stuck], now, pipeline=P, in_stage_days=30)
    assert old.ids == ("o2", "o1")  # o3 entered its stage 5 days ago
    assert old.deals[0].days_in_stage == 45.0
    data = old.to_dict()
    assert json.loads(json.dumps(data)) == data and data["count"] == 2
    assert list(old.to_pandas()["id"]) == ["o2", "o1"]
    assert "aged deals" in old._repr_html_()


def test_bad_options() -> None:
    with pytest.raises(ValidationError) as error:
        aged_deals([], T, pipeline=P)
    assert error.value.field == "older_than_days"
    with pytest.raises(ValidationError):
        aged_deals([], T, pipeline=P, older_than_days=-1)
    with pytest.raises(ValidationError):
        slipped_deals([], T, pipeline=P, min_slips=0)
