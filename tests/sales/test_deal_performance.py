"""Closed-deal performance by group: vectorised, equal to the per-opportunity reference."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.kernel.errors import ValidationError
from crmcore.kernel.money import Money
from crmcore.sales import _pipeline_reference as ref
from crmcore.sales.deal_performance import deal_performance
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
    st.sampled_from([None, "owner", "source", "segment", "account", "stage"]),
)
def test_performance_equals_the_reference(
    deals: list[Opportunity], end: datetime, start: datetime | None, by: str | None
) -> None:
    start = None if start is None or start > end else start
    frame = OpportunityFrame.from_opportunities(deals, P)
    report = deal_performance(frame, end=end, start=start, by=by)  # type: ignore[arg-type]
    expected = ref.performance(deals, end, start, by)
    lines = {g.group: g for g in report.groups} if by is not None else {"all": report.total}
    if by is None and report.total.closed == 0:
        lines = {}
    assert set(lines) == set(expected)
    for name, line in lines.items():
        won, lost, won_amount, lost_amount, median, mean = expected[name]
        assert (line.won, line.lost) == (won, lost)
        assert (ref.minor(line.won_amount), ref.minor(line.lost_amount)) == (
            won_amount,
            lost_amount,
        )
        assert (line.median_cycle_days, line.mean_cycle_days) == (median, mean)
        if won:
            exact = line.won_amount.amount / won
            assert abs(line.average_deal_size.amount - exact) <= 0.005  # type: ignore[union-attr]
    assert report.total.won == sum(g.won for g in report.groups) or by is None


def deal(i: int, owner: str, amount: int, source: str | None = None) -> Opportunity:
    return Opportunity.open(
        f"o{i}",
        P,
        owner=owner,
        amount=Money(amount, "EUR"),
        close_date=date(2026, 3, 1),
        at=T,
        source=source,
    ).value


def test_win_rates_deal_size_and_cycle_by_source() -> None:
    deals = [
        deal(1, "ann", 1000, "web").win(T + timedelta(days=10), P).value,
        deal(2, "ann", 3001, "web").win(T + timedelta(days=20), P).value,
        deal(3, "bob", 500, "web").lose(T + timedelta(days=5), P, reason="price").value,
        deal(4, "bob", 700).lose(T + timedelta(days=5), P, reason="price").value,
        deal(5, "bob", 900, "event"),  # still open: not counted
    ]
    report = deal_performance(deals, end=T + timedelta(days=30), pipeline=P, by="source")
    web = report.group("web")
    assert (web.won, web.lost, web.win_rate) == (2, 1, 2 / 3)
    assert web.amount_win_rate == 4001 / 4501
    assert web.average_deal_size == Money("2000.50", "EUR")  # 4001 / 2, half-even
    assert (web.median_cycle_days, web.mean_cycle_days) == (15.0, 15.0)
    none = report.group("(none)")
    assert (none.won, none.lost, none.win_rate, none.average_deal_size) == (0, 1, 0.0, None)
    assert report.group("event").closed == 0  # open deals only: not a group with closed deals
    assert [g.group for g in report.groups] == ["web", "(none)"]
    late = deal_performance(
        deals, end=T + timedelta(days=30), start=T + timedelta(days=8), pipeline=P
    )
    assert (late.total.won, late.total.lost) == (2, 0)
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert list(report.to_pandas()["group"]) == ["web", "(none)"]
    assert "win rate" in report._repr_html_()


def test_bad_options() -> None:
    with pytest.raises(ValidationError) as error:
        deal_performance([deal(1, "a", 1)], end=T, pipeline=P, by="colour")  # type: ignore[arg-type]
    assert error.value.field == "by"
    with pytest.raises(ValidationError):
        deal_performance([deal(1, "a", 1)], end=T, start=T + timedelta(days=1), pipeline=P)
