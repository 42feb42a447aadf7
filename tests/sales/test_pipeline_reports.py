"""The pipeline report: vectorised over a frame, equal to the per-opportunity reference."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.kernel.errors import CurrencyMismatchError, MissingDependencyError, ValidationError
from crmcore.kernel.money import Money
from crmcore.sales import _pipeline_reference as ref
from crmcore.sales._exact import PROBABILITY_SCALE
from crmcore.sales.exchange_rates import ExchangeRates
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.opportunity_frame import OpportunityFrame
from crmcore.sales.pipeline import DEFAULT_PIPELINE as P
from crmcore.sales.pipeline import Pipeline
from crmcore.sales.pipeline_reports import pipeline_report

from .opportunity_strategies import opportunities, pipelines, times

T = datetime(2026, 3, 2, tzinfo=UTC)

pipeline_and_deals = pipelines.flatmap(lambda p: st.tuples(st.just(p), opportunities(p)))


@settings(max_examples=50, deadline=None)
@given(pipeline_and_deals, times, st.none() | times)
def test_report_equals_the_per_opportunity_reference(
    pair: tuple[Pipeline, list[Opportunity]], t: datetime, start: datetime | None
) -> None:
    pipeline, deals = pair
    start = None if start is None or start > t else start
    frame = OpportunityFrame.from_opportunities(deals, pipeline)
    report = pipeline_report(frame, t, start=start)
    expected = ref.snapshot(deals, pipeline, t)
    for line in report.snapshot.stages:
        count, amount, weighted = expected[line.stage]
        assert line.count == count
        assert ref.minor(line.amount) == amount
        assert line.weighted.amount == Decimal(weighted) / PROBABILITY_SCALE / 100
    conversion = [(c.stage, c.reached, c.reached_next, c.closed, c.won) for c in report.conversion]
    assert conversion == ref.conversion(deals, pipeline, t, start)
    velocity = [
        (v.stage, v.stays, v.median_days, v.mean_days, v.open_deals, v.median_age_days)
        for v in report.velocity
    ]
    assert velocity == ref.velocity(deals, pipeline, t)
    won, lost, won_amount, _, median, mean = ref.performance(deals, t, start).get(
        "all", (0, 0, 0, 0, None, None)
    )
    o = report.outcomes
    assert (o.won, o.lost, ref.minor(o.won_amount), o.median_cycle_days, o.mean_cycle_days) == (
        won,
        lost,
        won_amount,
        median,
        mean,
    )
    # the list of opportunities gives the same report as their frame
    assert pipeline_report(deals, t, pipeline=pipeline, start=start).to_dict() == report.to_dict()


@settings(max_examples=40, deadline=None)
@given(opportunities(), times, st.data())
def test_weighted_pipeline_is_the_exact_sum_of_amount_times_probability(
    deals: list[Opportunity], t: datetime, data: st.DataObject
) -> None:
    frame = OpportunityFrame.from_opportunities(deals, P)
    chances = data.draw(st.lists(st.integers(0, 1000), min_size=len(deals), max_size=len(deals)))
    given_p = np.array(chances) / 1000
    report = pipeline_report(frame, t, probabilities=given_p)
    total = Decimal(0)
    for o, p in zip(deals, chances, strict=True):
        if o.created_at <= t and o.status_at(t).value == "open":  # type: ignore[union-attr]
            total += o.amount_at(t).amount * Decimal(p) / 1000  # type: ignore[union-attr]
    assert report.weighted_amount.amount == total
    assert report.snapshot.probabilities == "given"
    by_stage = pipeline_report(frame, t).snapshot
    stage_total = sum(
        (
            o.amount_at(t).amount
            * (
                o.probability
                if o.probability is not None  # type: ignore[union-attr]
                else P.stage(o.stage_at(t)).probability
            )
            for o in deals
            if o.created_at <= t and o.status_at(t).value == "open"
        ),  # type: ignore[union-attr]
        Decimal(0),
    )
    assert by_stage.weighted_amount.amount == stage_total


def test_report_renders_and_serialises() -> None:
    a = Opportunity.open(
        "a", P, owner="ann", amount=Money("1000", "EUR"), close_date=date(2026, 4, 1), at=T
    ).value
    b = Opportunity.open(
        "b", P, owner="bob", amount=Money("500", "EUR"), close_date=date(2026, 4, 1), at=T
    ).value
    b = b.move_to("qualified_to_buy", T + timedelta(days=3), P).value
    b = b.win(T + timedelta(days=9), P).value
    report = pipeline_report([a, b], T + timedelta(days=30), pipeline=P)
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["snapshot"]["open_amount"] == "1000.00"  # type: ignore[index]
    html = report._repr_html_()
    assert "Appointment scheduled" in html and "win rate" in html
    df = report.to_pandas()
    assert list(df["stage"]) == [s.key for s in P.open_stages]
    assert report.coverage(Money("4000", "EUR")) == 0.25
    conversion, velocity = report.stage("appointment_scheduled")
    assert (conversion.reached, conversion.reached_next, conversion.win_rate) == (2, 1, 1.0)
    assert velocity.median_days == 3.0 and velocity.open_deals == 1
    assert report.outcomes.median_cycle_days == 9.0


def test_bad_input_is_refused() -> None:
    a = Opportunity.open(
        "a", P, owner="ann", amount=Money("1", "EUR"), close_date=date(2026, 4, 1), at=T
    ).value
    b = Opportunity.open(
        "b", P, owner="ann", amount=Money("1", "USD"), close_date=date(2026, 4, 1), at=T
    ).value
    with pytest.raises(CurrencyMismatchError):
        pipeline_report([a, b], T, pipeline=P)
    mixed = pipeline_report([a, b], T, pipeline=P, rates=ExchangeRates("EUR", {"USD": "0.5"}))
    assert mixed.snapshot.open_amount == Money("1.50", "EUR")
    with pytest.raises(ValidationError) as error:
        pipeline_report([a], T, pipeline=P, probabilities=[1.5])
    assert error.value.field == "probabilities[0]"
    with pytest.raises(ValidationError) as error:
        pipeline_report([a], datetime(2026, 3, 2), pipeline=P)
    assert error.value.field == "as_of"
    with pytest.raises(ValidationError):
        pipeline_report([a], T, pipeline=P, start=T + timedelta(days=1))
    with pytest.raises(ValidationError):
        pipeline_report([a], T)  # opportunities need their pipeline


def test_to_pandas_names_the_extra_when_pandas_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    a = Opportunity.open(
        "a", P, owner="ann", amount=Money("10", "EUR"), close_date=date(2026, 4, 1), at=T
    ).value
    frame = OpportunityFrame.from_opportunities([a], P)
    reports = [frame, pipeline_report(frame, T), pipeline_report(frame, T).snapshot]
    monkeypatch.setitem(sys.modules, "pandas", None)
    for report in reports:
        with pytest.raises(MissingDependencyError) as error:
            report.to_pandas()
        assert error.value.extra == "pandas"
