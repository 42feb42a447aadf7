"""The pipeline forecast per period: exact expected value, categories, distribution, quotas."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.kernel.errors import ValidationError
from crmcore.kernel.money import Money
from crmcore.sales import _pipeline_reference as ref
from crmcore.sales.forecast import period_bounds, pipeline_forecast
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.opportunity_frame import OpportunityFrame
from crmcore.sales.pipeline import DEFAULT_PIPELINE as P
from crmcore.sales.pipeline import Pipeline
from crmcore.sales.pipeline_stages import ForecastCategory

from .opportunity_strategies import opportunities, pipelines, times

T = datetime(2026, 4, 2, tzinfo=UTC)


@settings(max_examples=50, deadline=None)
@given(
    pipelines.flatmap(lambda p: st.tuples(st.just(p), opportunities(p, max_size=15))),
    times,
    st.sampled_from(["month", "quarter"]),
    st.integers(1, 3),
    st.booleans(),
)
def test_forecast_mean_is_closed_won_plus_the_exact_sum_of_p_times_amount(
    pair: tuple[Pipeline, list[Opportunity]], t: datetime, period: str, n: int, overdue: bool
) -> None:
    pipeline, deals = pair
    frame = OpportunityFrame.from_opportunities(deals, pipeline)
    f = pipeline_forecast(frame, t, period=period, periods=n, include_overdue=overdue)  # type: ignore[arg-type]
    assert [line.label for line in f.periods] == [b[0] for b in period_bounds(t.date(), period, n)]  # type: ignore[arg-type]
    for line in (*f.periods, f.total):
        won, categories, expected, open_deals = ref.forecast_totals(
            deals,
            pipeline,
            t,
            line.start,
            line.end,
            overdue_from=f.periods[0].start if overdue else None,
        )
        assert ref.minor(line.closed_won) == won
        assert ref.minor(line.commit) == categories[ForecastCategory.COMMIT]
        assert ref.minor(line.best_case) == categories[ForecastCategory.BEST_CASE]
        assert ref.minor(line.pipeline) == categories[ForecastCategory.PIPELINE]
        assert line.expected.amount * 100 == expected  # exact, to the last digit
        assert line.deals == len(open_deals)
        assert line.closed_won <= line.p10 <= line.p50 <= line.p90
        top = won + sum(a for a, _ in open_deals)
        assert ref.minor(line.p90) <= top
        assert line.commit_forecast == line.closed_won + line.commit
    assert f.total.expected.amount == sum((line.expected.amount for line in f.periods), Decimal(0))


def deal(i: int, amount: int, stage: str, close: date, at: datetime = T) -> Opportunity:
    return Opportunity.open(
        f"o{i}", P, owner="ann", amount=Money(amount, "EUR"), close_date=close, at=at, stage=stage
    ).value


def test_quarters_quotas_overdue_and_the_report() -> None:
    won = deal(1, 5000, "contract_sent", date(2026, 4, 20)).win(T + timedelta(days=1), P).value
    deals = [
        won,
        deal(2, 10000, "contract_sent", date(2026, 5, 15)),
        deal(3, 4000, "qualified_to_buy", date(2026, 6, 30)),
        deal(4, 2000, "presentation_scheduled", date(2026, 8, 1)),
        deal(5, 1000, "appointment_scheduled", date(2026, 3, 20), T - timedelta(days=40)),
    ]
    # deal 5 was due in Q1 and is still open in Q2: overdue, counted in Q2 by default
    f = pipeline_forecast(
        deals, T + timedelta(days=5), pipeline=P, periods=2, quotas={"2026-Q2": Money(20000, "EUR")}
    )
    q2, q3 = f.periods
    assert (q2.label, q3.label) == ("2026-Q2", "2026-Q3")
    assert q2.closed_won == Money("5000.00", "EUR") and q2.commit == Money("10000.00", "EUR")
    assert q2.pipeline == Money("5000.00", "EUR") and q2.deals == 3
    assert q2.expected == Money("15800.00", "EUR")  # 5000 + 9000 + 1600 + 200
    assert q2.best_case_forecast == Money("15000.00", "EUR")
    assert (q2.attainment, q2.coverage) == (0.25, 1.0)  # 15000 open / 15000 to go
    assert q3.best_case == Money("2000.00", "EUR") and q3.quota is None and q3.coverage is None
    assert f.total.expected == Money("17000.00", "EUR")
    assert f.line("total") is f.total and f.line("2026-Q3") is q3
    without = pipeline_forecast(deals, T + timedelta(days=5), pipeline=P, include_overdue=False)
    assert without.periods[0].deals == 2
    data = f.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["periods"][0]["method"] == "exact"  # type: ignore[index]
    df = f.to_pandas()
    assert list(df["label"]) == ["2026-Q2", "2026-Q3", "total"] and df["expected"][0] == 15800.0
    assert "P90" in f._repr_html_()
    months = pipeline_forecast(deals, T + timedelta(days=5), pipeline=P, period="month", periods=3)
    assert [line.label for line in months.periods] == ["2026-04", "2026-05", "2026-06"]


def test_given_probabilities_replace_the_stage_defaults() -> None:
    deals = [
        deal(1, 1000, "qualified_to_buy", date(2026, 5, 1)),
        deal(2, 3000, "qualified_to_buy", date(2026, 5, 1)),
    ]
    f = pipeline_forecast(deals, T, pipeline=P, probabilities=[0.125, 0.5])
    assert f.periods[0].expected == Money("1625.00", "EUR") and f.probabilities == "given"


def test_monte_carlo_when_the_grid_is_too_large() -> None:
    deals = [deal(i, 1000 + 7 * i, "presentation_scheduled", date(2026, 5, 1)) for i in range(60)]
    exact = pipeline_forecast(deals, T, pipeline=P)
    simulated = pipeline_forecast(deals, T, pipeline=P, exact_limit=10, seed=11)
    line, sim = exact.periods[0], simulated.periods[0]
    assert (line.method, sim.method) == ("exact", "monte_carlo")
    assert sim.expected == line.expected
    for name in ("p10", "p50", "p90"):
        assert abs(getattr(sim, name).amount - getattr(line, name).amount) < 600


@pytest.mark.parametrize(("option", "value"), [("period", "week"), ("period", "Q"), ("periods", 0)])
def test_bad_periods_are_refused(option: str, value: object) -> None:
    with pytest.raises(ValidationError) as error:
        pipeline_forecast([], T, pipeline=P, **{option: value})  # type: ignore[arg-type]
    assert error.value.field == option


def test_bad_quota_and_label() -> None:
    with pytest.raises(ValidationError):
        pipeline_forecast([], T, pipeline=P, quotas={"2026-Q2": Money(1, "USD")})
    with pytest.raises(ValidationError):
        pipeline_forecast([], T, pipeline=P).line("2027-Q1")


def test_period_bounds_refuse_periods_beyond_the_calendar() -> None:
    with pytest.raises(ValidationError, match="end after the year 9999") as error:
        period_bounds(date(9999, 11, 3), "quarter", 1)
    assert error.value.field == "day"
    with pytest.raises(ValidationError, match="must be one of 'month', 'quarter'"):
        period_bounds(date(2026, 1, 1), "week", 1)  # type: ignore[arg-type]
