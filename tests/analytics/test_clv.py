"""Predictive CLV: the lifetimes discounted-cash-flow rule, money, reports, bad input."""

from __future__ import annotations

from decimal import Decimal

import attrs
import numpy as np
import pytest

from crmcore.analytics.bgnbd import BgNbdModel, fit_bgnbd
from crmcore.analytics.btyd import BtydSummary
from crmcore.analytics.clv import MONTH_LENGTH, PredictedClv, customer_lifetime_value
from crmcore.analytics.gamma_gamma import GammaGammaModel, fit_gamma_gamma
from crmcore.kernel.errors import ModelFitError, ValidationError
from crmcore.kernel.money import Money
from tests.analytics.test_btyd import cdnow_summary

BGNBD = BgNbdModel(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W")
GG = GammaGammaModel(p=6.25, q=3.74, v=15.44)


def lifetimes_rule(
    purchases: BgNbdModel,
    spend: GammaGammaModel,
    s: BtydSummary,
    months: int,
    rate: float,
) -> np.ndarray:
    """lifetimes' _customer_lifetime_value loop, month by month, as a reference."""
    factor = MONTH_LENGTH[s.time_unit]
    amount = spend.expected_spend(s)
    total = np.zeros(len(s))
    for i in np.arange(1, months + 1) * factor:
        bought = purchases.expected_purchases(s, i) - purchases.expected_purchases(s, i - factor)
        total += amount * bought / (1 + rate) ** (i / factor)
    return total


def test_matches_the_lifetimes_month_loop_on_cdnow() -> None:
    s = cdnow_summary()
    report = customer_lifetime_value(BGNBD, GG, s, months=12, discount_rate=0.01)
    np.testing.assert_allclose(report.clv, lifetimes_rule(BGNBD, GG, s, 12, 0.01), rtol=1e-10)
    assert len(report) == 2357 and bool(np.all(report.clv > 0))


def test_no_discount_is_expected_purchases_times_spend() -> None:
    s = cdnow_summary()
    report = customer_lifetime_value(BGNBD, GG, s, months=6, discount_rate=0.0)
    horizon = 6 * MONTH_LENGTH["W"]
    np.testing.assert_allclose(report.expected_purchases, BGNBD.expected_purchases(s, horizon))
    np.testing.assert_allclose(report.clv, report.expected_purchases * report.expected_spend)
    np.testing.assert_allclose(report.probability_alive, BGNBD.probability_alive(s))


def test_more_discount_less_value_and_more_months_more_value() -> None:
    s = cdnow_summary()
    base = customer_lifetime_value(BGNBD, GG, s, months=12, discount_rate=0.01).clv
    steeper = customer_lifetime_value(BGNBD, GG, s, months=12, discount_rate=0.05).clv
    longer = customer_lifetime_value(BGNBD, GG, s, months=24, discount_rate=0.01).clv
    assert bool(np.all(steeper < base)) and bool(np.all(longer > base))


def test_fitted_models_end_to_end_and_top_customers() -> None:
    s = cdnow_summary()
    report = customer_lifetime_value(fit_bgnbd(s), fit_gamma_gamma(s), s)
    top = report.top(5)
    assert len(top) == 5
    values = report.clv[top]
    assert bool(np.all(np.diff(values) <= 0)) and values[0] == report.clv.max()
    # the top customers are frequent, recent buyers
    assert bool(np.all(s.frequency[top] >= 5))
    assert report.top(0).size == 0


def test_as_money_rounds_to_the_minor_unit() -> None:
    s = BtydSummary(
        customer_ids=["a", "b"],
        frequency=[2, 0],
        recency=[30.43, 0.0],
        T=[38.86, 38.86],
        monetary=[22.35, 0.0],
        time_unit="W",
    )
    report = customer_lifetime_value(BGNBD, GG, s)
    money = report.as_money("usd")
    assert all(isinstance(m, Money) and m.currency == "USD" for m in money)
    assert money[0].amount == Decimal(repr(float(report.clv[0]))).quantize(Decimal("0.01"))
    assert report.as_money("JPY")[0].amount == money[0].amount.quantize(Decimal("1"))
    with pytest.raises(ValidationError):
        report.as_money("XXQ")


def test_report_output() -> None:
    s = cdnow_summary()
    report = customer_lifetime_value(BGNBD, GG, s, months=3)
    data = report.to_dict()
    assert data["months"] == 3 and data["customers"] == 2357
    assert data["total_clv"] == pytest.approx(float(report.clv.sum()))
    assert len(data["clv"]) == 2357  # type: ignore[arg-type]
    html = report._repr_html_()
    assert "Predicted customer lifetime value" in html and "3 months" in html
    assert "PredictedClv(2357 customers" in repr(report)
    with pytest.raises(ValueError, match="read-only"):
        report.clv[0] = 0.0


def test_empty_summary_gives_an_empty_report() -> None:
    empty = BtydSummary(
        customer_ids=np.array([], dtype=str),
        frequency=np.array([], dtype=np.int64),
        recency=[],
        T=[],
        monetary=[],
        time_unit="W",
    )
    report = customer_lifetime_value(BGNBD, GG, empty)
    assert isinstance(report, PredictedClv) and len(report) == 0
    assert report.to_dict()["total_clv"] == 0.0
    assert "0 customers" in report._repr_html_()


def test_bad_arguments() -> None:
    s = cdnow_summary()
    with pytest.raises(ValidationError, match="time unit"):
        customer_lifetime_value(attr_days(BGNBD), GG, s)
    for kwargs in (
        {"months": 0},
        {"months": 1.5},
        {"discount_rate": -1.0},
        {"discount_rate": float("nan")},
    ):
        with pytest.raises(ValidationError):
            customer_lifetime_value(BGNBD, GG, s, **kwargs)
    with pytest.raises(ValidationError):
        customer_lifetime_value(GG, BGNBD, s)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="months: must be an integer from 1 to 1200"):
        customer_lifetime_value(BGNBD, GG, s, months=2**63)
    with pytest.raises(ValidationError, match="month: must be one of '30-day', 'calendar'"):
        customer_lifetime_value(BGNBD, GG, s, month=np.array(["calendar"]))  # type: ignore[arg-type]
    with pytest.raises(ModelFitError):
        customer_lifetime_value(BGNBD, GammaGammaModel(p=1.0, q=0.9, v=1.0), s)
    with pytest.raises(ValidationError):
        customer_lifetime_value(BGNBD, GG, s).top(-1)


def attr_days(model: BgNbdModel) -> BgNbdModel:
    return attrs.evolve(model, time_unit="D")


def test_the_report_names_its_horizon_models_and_data() -> None:
    s = cdnow_summary()
    report = customer_lifetime_value(BGNBD, GG, s, months=12)
    assert report.horizon == (
        "12 months of 4.345 weeks (52.14 weeks = 365 days in all; the lifetimes convention)"
    )
    assert report.as_of is not None and report.as_of.isoformat().startswith("1997-09-30")
    assert report.purchase_model == BGNBD.params and report.spend_model == GG.params
    data = report.to_dict()
    assert data["time_unit"] == "W" and data["data"] is not None  # type: ignore[comparison-overlap]
    assert "BG/NBD r 0.243" in report._repr_html_()


def test_calendar_months_count_real_months_from_as_of() -> None:
    s = cdnow_summary()  # as of 1997-09-30: to Oct 30 (30 days), Nov 30 (31), Dec 30 (30)
    report = customer_lifetime_value(BGNBD, GG, s, months=3, month="calendar")
    assert report.month_lengths == pytest.approx((30 / 7, 31 / 7, 30 / 7))
    assert report.horizon == "3 calendar months after 1997-09-30 to 1997-12-30 (13 weeks)"
    year = customer_lifetime_value(BGNBD, GG, s, months=12, month="calendar")
    assert sum(year.month_lengths) == pytest.approx(365 / 7)
    assert year.horizon_end is not None and year.horizon_end.date().isoformat() == "1998-09-30"
    no_date = attrs.evolve(s, as_of=None)
    with pytest.raises(ValidationError, match="month='30-day'"):
        customer_lifetime_value(BGNBD, GG, no_date, month="calendar")


def test_spend_can_be_one_number_or_one_per_customer() -> None:
    s = cdnow_summary()
    flat = customer_lifetime_value(BGNBD, 20.0, s)
    assert flat.expected_spend.tolist() == [20.0] * len(s)
    assert flat.spend_model == {"spend": 20.0}
    own = customer_lifetime_value(BGNBD, np.full(len(s), 20.0), s)
    np.testing.assert_allclose(own.clv, flat.clv)
    with pytest.raises(ValidationError):
        customer_lifetime_value(BGNBD, [1.0, 2.0], s)
    with pytest.raises(ValidationError):
        customer_lifetime_value(BGNBD, -1.0, s)
