"""Gamma-Gamma: the published CDNOW fit, the conditional expectation, recovery, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from crmcore.analytics.btyd import BtydSummary
from crmcore.analytics.gamma_gamma import GammaGammaModel, fit_gamma_gamma
from crmcore.kernel.errors import ModelFitError, ValidationError
from tests.analytics.test_btyd import cdnow_summary, published_summary

PUBLISHED = GammaGammaModel(p=6.25, q=3.74, v=15.44)


def spend_summary(x: list[int], z: list[float]) -> BtydSummary:
    n = len(x)
    return BtydSummary(
        customer_ids=np.array([f"c{i}" for i in range(n)], dtype=str),
        frequency=x,
        recency=[float(f) for f in x],
        T=[100.0] * n,
        monetary=z,
    )


def test_reproduces_the_published_cdnow_estimates() -> None:
    model = fit_gamma_gamma(cdnow_summary())
    assert model.n_customers == 946
    assert model.p == pytest.approx(6.25, rel=0.01)
    assert model.q == pytest.approx(3.74, rel=0.01)
    assert model.v == pytest.approx(15.44, rel=0.01)
    assert model.standard_errors is not None
    # Fader & Hardie report a correlation of 0.11 between frequency and mean spend
    assert model.frequency_spend_correlation == pytest.approx(0.11, abs=0.01)
    again = fit_gamma_gamma(published_summary())
    assert again.p == pytest.approx(6.25, rel=0.01) and again.v == pytest.approx(15.44, rel=0.01)


def test_conditional_expected_spend_is_a_weighted_mean() -> None:
    s = spend_summary([0, 1, 10, 100], [0.0, 20.0, 20.0, 20.0])
    spend = PUBLISHED.expected_spend(s)
    population = 6.25 * 15.44 / (3.74 - 1)
    assert PUBLISHED.mean_spend == pytest.approx(population)
    assert spend[0] == pytest.approx(population)
    weight = 6.25 * 10 / (6.25 * 10 + 3.74 - 1)
    assert spend[2] == pytest.approx((1 - weight) * population + weight * 20.0)
    # more purchases: closer to the customer's own mean
    assert abs(spend[3] - 20) < abs(spend[2] - 20) < abs(spend[1] - 20)


def test_recovers_parameters_from_simulated_spend() -> None:
    rng = np.random.default_rng(7)
    p, q, v = 4.0, 3.0, 20.0
    n = 5000
    x = rng.integers(1, 12, n)
    nu = rng.gamma(q, 1.0 / v, n)
    # the mean of x Gamma(p, nu) spends is Gamma(p x, nu x)
    z = rng.gamma(p * x, 1.0 / (nu * x))
    model = fit_gamma_gamma(spend_summary(x.tolist(), z.tolist()))
    assert model.standard_errors is not None
    for value, truth, se in zip(
        model.params.values(), (p, q, v), model.standard_errors, strict=True
    ):
        assert abs(value - truth) < 3.5 * se
        assert value == pytest.approx(truth, rel=0.15)


def test_customers_without_repeat_purchases_are_ignored_in_the_fit() -> None:
    s = cdnow_summary()
    model = fit_gamma_gamma(s)
    only = fit_gamma_gamma(s.filter(s.repeat_buyers))
    assert model.log_likelihood == pytest.approx(only.log_likelihood, abs=1e-6)


def test_bad_input() -> None:
    with pytest.raises(ModelFitError, match="at least 2"):
        fit_gamma_gamma(spend_summary([0, 0, 3], [0.0, 0.0, 10.0]))
    with pytest.raises(ModelFitError, match="no spend variation"):
        fit_gamma_gamma(spend_summary([1, 2, 3], [10.0, 10.0, 10.0]))
    with pytest.raises(ValidationError, match="monetary"):
        fit_gamma_gamma(spend_summary([1, 2, 3], [10.0, -5.0, 10.0]))
    with pytest.raises(ModelFitError, match=r"without converging.*max_iterations"):
        fit_gamma_gamma(cdnow_summary(), max_iterations=2)
    with pytest.raises(ValidationError):
        fit_gamma_gamma(cdnow_summary(), initial=(1.0, 0.0, 1.0))
    with pytest.raises(ValidationError):
        GammaGammaModel(p=1.0, q=float("inf"), v=1.0)
    heavy = GammaGammaModel(p=1.0, q=0.5, v=1.0)
    with pytest.raises(ModelFitError, match="infinite"):
        heavy.expected_spend(spend_summary([1], [5.0]))


def test_report() -> None:
    model = fit_gamma_gamma(cdnow_summary())
    data = model.to_dict()
    assert data["model"] == "Gamma-Gamma" and data["n_customers"] == 946
    assert data["params"]["q"] == pytest.approx(3.74, rel=0.01)  # type: ignore[index]
    assert (
        "Gamma-Gamma model" in model._repr_html_() and "946 repeat customers" in model._repr_html_()
    )
    assert PUBLISHED.to_dict()["standard_errors"] is None


def test_no_spend_variation_is_found_before_fitting_and_says_what_to_do() -> None:
    # Every purchase costs 10, but mean repeat spends carry float noise (30.000000000000004 / 3):
    # the fit used to stop with "did not converge after 37 iterations: ABNORMAL".
    rng = np.random.default_rng(5)
    x = rng.integers(1, 9, 400)
    noisy = 10.0 * (1 + rng.normal(0, 1e-13, 400))
    with pytest.raises(ModelFitError, match="no spend variation") as info:
        fit_gamma_gamma(spend_summary(x.tolist(), noisy.tolist()))
    assert "spend=10" in info.value.reason  # the next step, with the value to use


def test_a_fit_that_runs_away_names_the_parameter_and_the_next_step() -> None:
    # Three menu prices, the same for everyone: customers do not differ beyond chance.
    rng = np.random.default_rng(2)
    x = rng.integers(1, 10, 300)
    z = rng.choice([9.99, 10.0, 10.01], 300)
    with pytest.raises(ModelFitError) as info:
        fit_gamma_gamma(spend_summary(x.tolist(), z.tolist()))
    assert "customer_lifetime_value(..., spend=" in info.value.reason
