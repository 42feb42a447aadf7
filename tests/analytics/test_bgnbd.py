"""BG/NBD: the published CDNOW fit, the formulas, recovery from simulated data, bad input."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import scipy.special as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.analytics.bgnbd import BgNbdModel, bgnbd_log_likelihood, fit_bgnbd
from crmcore.analytics.btyd import BtydSummary
from crmcore.kernel.errors import MissingDependencyError, ModelFitError, ValidationError
from tests.analytics.test_btyd import cdnow_summary, published_summary

PUBLISHED = BgNbdModel(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W")


def simulate_bgnbd(
    n: int, r: float, alpha: float, a: float, b: float, big_t: np.ndarray, seed: int
) -> BtydSummary:
    """Customers drawn from the BG/NBD process itself, as an BtydSummary (continuous time).

    Rate lambda ~ Gamma(r, scale 1/alpha), dropout p ~ Beta(a, b); the customer makes
    J ~ Geometric(p) repeat purchases before dropping out (dropout only after a repeat
    purchase); N(T) ~ Poisson(lambda T) purchases would happen by T if alive, so
    x = min(J, N); given N = n, the x-th purchase time is T times the x-th of n uniform
    order statistics, T * Beta(x, n - x + 1).
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    lives = rng.geometric(p)
    possible = rng.poisson(lam * big_t)
    x = np.minimum(lives, possible)
    has = x > 0
    t_x = np.zeros(n)
    t_x[has] = big_t[has] * rng.beta(x[has], possible[has] - x[has] + 1)
    return BtydSummary(
        customer_ids=[f"s{i}" for i in range(n)],
        frequency=x,
        recency=t_x,
        T=big_t,
        monetary=np.where(has, 1.0, 0.0),
        time_unit="W",
    )


def direct_expectation(m: BgNbdModel, x: float, t_x: float, big_t: float, t: float) -> float:
    """Eq. (10) exactly as printed, with scipy's hyp2f1 (no transformation)."""
    r, alpha, a, b = m.r, m.alpha, m.a, m.b
    head = (a + b + x - 1) / (a - 1)
    gauss = sp.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + big_t + t))
    num = head * (1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * gauss)
    odds = a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x) if x > 0 else 0.0
    return float(num / (1 + odds))


# -- the published CDNOW results -----------------------------------------------------------


def test_reproduces_the_published_cdnow_estimates() -> None:
    model = fit_bgnbd(cdnow_summary())
    assert model.r == pytest.approx(0.243, rel=0.01)
    assert model.alpha == pytest.approx(4.414, rel=0.01)
    assert model.a == pytest.approx(0.793, rel=0.01)
    assert model.b == pytest.approx(2.426, rel=0.01)
    assert model.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert model.n_customers == 2357 and model.converged and model.time_unit == "W"
    assert model.standard_errors is not None
    assert all(
        0 < se < v for se, v in zip(model.standard_errors, model.params.values(), strict=True)
    )


def test_the_published_summary_file_gives_the_same_fit() -> None:
    model = fit_bgnbd(published_summary())
    assert model.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert model.r == pytest.approx(0.243, rel=0.01)


def test_log_likelihood_at_the_published_parameters() -> None:
    s = cdnow_summary()
    ll = bgnbd_log_likelihood((0.243, 4.414, 0.793, 2.426), s.frequency, s.recency, s.T)
    assert ll.shape == (2357,)
    assert float(ll.sum()) == pytest.approx(-9582.4, abs=0.5)


def test_customer_one_expectation_and_p_alive() -> None:
    s = BtydSummary(customer_ids=["1"], frequency=[2], recency=[30.43], T=[38.86], monetary=[22.35])
    assert float(PUBLISHED.expected_purchases(s, 39)[0]) == pytest.approx(1.226, abs=5e-4)
    odds = 0.793 / (2.426 + 1) * ((4.414 + 38.86) / (4.414 + 30.43)) ** (0.243 + 2)
    assert float(PUBLISHED.probability_alive(s)[0]) == pytest.approx(1 / (1 + odds))


@pytest.mark.parametrize(
    ("x", "t_x", "big_t", "t"),
    [(0, 0.0, 38.86, 39.0), (1, 5.0, 30.0, 10.0), (7, 35.0, 38.0, 52.0), (40, 20.0, 60.0, 1.0)],
)
def test_expectation_matches_the_printed_formula(
    x: int, t_x: float, big_t: float, t: float
) -> None:
    s = BtydSummary(
        customer_ids=["c"], frequency=[x], recency=[t_x], T=[big_t], monetary=[float(x > 0)]
    )
    got = float(PUBLISHED.expected_purchases(s, t)[0])
    assert got == pytest.approx(direct_expectation(PUBLISHED, x, t_x, big_t, t), rel=1e-9)


def test_new_customer_expectation_is_eq7() -> None:
    m = PUBLISHED
    t = np.array([0.0, 1.0, 39.0, 78.0])
    expected = (
        (m.a + m.b - 1)
        / (m.a - 1)
        * (
            1
            - (m.alpha / (m.alpha + t)) ** m.r
            * sp.hyp2f1(m.r, m.b, m.a + m.b - 1, t / (m.alpha + t))
        )
    )
    np.testing.assert_allclose(m.expected_purchases_new(t), expected, rtol=1e-10)
    assert float(m.expected_purchases_new(0.0)) == 0.0


def test_predictions_are_sane_on_cdnow() -> None:
    s = cdnow_summary()
    alive = PUBLISHED.probability_alive(s)
    assert bool(np.all((alive > 0) & (alive <= 1)))
    assert bool(np.all(alive[s.frequency == 0] == 1.0))  # no repeat purchase: never dropped out
    e39 = PUBLISHED.expected_purchases(s, 39.0)
    e78 = PUBLISHED.expected_purchases(s, 78.0)
    assert bool(np.all((e39 >= 0) & (e78 >= e39)))
    path = PUBLISHED.expected_purchases_path(s, [0.0, 39.0, 78.0])
    assert path.shape == (2357, 3)
    np.testing.assert_allclose(path[:, 1], e39, rtol=1e-12)
    assert bool(np.all(path[:, 0] == 0))
    # the model's forecast for the 39-week holdout is close to what happened (1,882)
    assert 1500 < float(e39.sum()) < 2000


def test_frequent_buyers_do_not_overflow() -> None:
    """Huge frequencies (NaN/overflow in lifetimes, issues #25, #445) stay finite here."""
    x = np.array([300, 3000, 30000, 30000])
    s = BtydSummary(
        customer_ids=["a", "b", "c", "d"],
        frequency=x,
        recency=[38.86, 38.86, 38.86, 10.0],
        T=[38.86] * 4,
        monetary=[1.0] * 4,
    )
    e = PUBLISHED.expected_purchases(s, 39.0)
    alive = PUBLISHED.probability_alive(s)
    assert bool(np.all(np.isfinite(e))) and bool(np.all(np.isfinite(alive)))
    assert e[2] > e[1] > e[0] > 0  # more purchases, bought just now: more expected
    assert alive[3] < 1e-100  # a 30,000-purchase customer silent for 29 weeks is gone
    ll = bgnbd_log_likelihood((0.243, 4.414, 0.793, 2.426), x, s.recency, s.T)
    assert bool(np.all(np.isfinite(ll)))


# -- recovery ------------------------------------------------------------------------------


def test_recovers_parameters_from_simulated_customers() -> None:
    truth = {"r": 0.8, "alpha": 6.0, "a": 0.9, "b": 3.0}
    big_t = np.random.default_rng(11).uniform(52.0, 104.0, 5000)
    s = simulate_bgnbd(5000, 0.8, 6.0, 0.9, 3.0, big_t=big_t, seed=1)
    model = fit_bgnbd(s)
    assert model.standard_errors is not None
    for (name, value), se in zip(truth.items(), model.standard_errors, strict=True):
        estimate = model.params[name]
        assert abs(estimate - value) < 3.5 * se, (name, estimate, value, se)
        assert estimate == pytest.approx(value, rel=0.15), name
    # a and b are strongly correlated; what matters, the purchase forecast, is recovered closely
    true_model = BgNbdModel(r=0.8, alpha=6.0, a=0.9, b=3.0)
    t = np.array([13.0, 52.0, 104.0])
    np.testing.assert_allclose(
        model.expected_purchases_new(t), true_model.expected_purchases_new(t), rtol=0.05
    )
    np.testing.assert_allclose(
        model.expected_purchases(s, 52.0).sum(),
        true_model.expected_purchases(s, 52.0).sum(),
        rtol=0.03,
    )


def test_fit_is_invariant_to_customer_order_and_duplication_weights() -> None:
    s = cdnow_summary()
    flipped = s.take(np.arange(len(s))[::-1])
    a, b = fit_bgnbd(s), fit_bgnbd(flipped)
    assert a.log_likelihood == pytest.approx(b.log_likelihood, abs=1e-6)
    assert a.r == pytest.approx(b.r, rel=1e-5)


# -- bad input -----------------------------------------------------------------------------


def _summary(freq: list[int], rec: list[float], age: list[float]) -> BtydSummary:
    return BtydSummary(
        customer_ids=np.array([f"c{i}" for i in range(len(freq))], dtype=str),
        frequency=freq,
        recency=rec,
        T=age,
        monetary=[1.0 if f else 0.0 for f in freq],
    )


def test_empty_summary_is_refused() -> None:
    with pytest.raises(ModelFitError, match="no customers"):
        fit_bgnbd(_summary([], [], []))


def test_no_repeat_purchases_is_refused() -> None:
    with pytest.raises(ModelFitError, match="repeat purchase"):
        fit_bgnbd(_summary([0] * 50, [0.0] * 50, list(np.linspace(1, 40, 50))))


def test_no_observed_time_is_refused() -> None:
    with pytest.raises(ModelFitError):
        fit_bgnbd(_summary([0, 0], [0.0, 0.0], [0.0, 0.0]))


def test_a_single_customer_is_refused() -> None:
    with pytest.raises(ModelFitError, match="identical"):
        fit_bgnbd(_summary([3], [20.0], [30.0]))


def test_zero_variance_data_is_refused() -> None:
    with pytest.raises(ModelFitError, match="identical"):
        fit_bgnbd(_summary([2] * 100, [20.0] * 100, [30.0] * 100))


def test_unidentified_parameters_are_refused() -> None:
    """Five customers: the optimum runs off to r, alpha -> infinity (a flat likelihood)."""
    with pytest.raises(ModelFitError, match="do not identify"):
        fit_bgnbd(_summary([1, 2, 0, 3, 1], [5.0, 6.0, 0.0, 9.0, 2.0], [10.0] * 5))


def test_non_convergence_is_an_error_not_a_result() -> None:
    with pytest.raises(ModelFitError, match=r"without converging.*max_iterations"):
        fit_bgnbd(cdnow_summary(), max_iterations=2)


def test_bad_arguments() -> None:
    s = cdnow_summary()
    with pytest.raises(ValidationError):
        fit_bgnbd(s, initial=(1.0, -1.0, 1.0, 1.0))
    with pytest.raises(ValidationError):
        fit_bgnbd("not a summary")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        PUBLISHED.expected_purchases(s, -1.0)
    with pytest.raises(ValidationError):
        PUBLISHED.expected_purchases(s, float("inf"))
    with pytest.raises(ValidationError):
        PUBLISHED.expected_purchases_new("soon")
    for params in ({"r": 0.0}, {"alpha": float("nan")}, {"a": -1.0}, {"b": "2"}):
        with pytest.raises(ValidationError):
            BgNbdModel(**{"r": 1.0, "alpha": 1.0, "a": 1.0, "b": 1.0, **params})  # type: ignore[arg-type]


def test_fit_options_and_likelihood_columns_are_checked_first() -> None:
    s = cdnow_summary()
    for kwargs, field in (
        ({"initial": None}, "initial"),
        ({"initial": (1.0, 1.0, 1.0)}, "initial"),
        ({"max_iterations": 1.5}, "max_iterations"),
        ({"max_iterations": 0}, "max_iterations"),
        ({"tolerance": float("nan")}, "tolerance"),
        ({"tolerance": 0.0}, "tolerance"),
    ):
        with pytest.raises(ValidationError) as caught:
            fit_bgnbd(s, **kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field
    with pytest.raises(ValidationError, match="params: must be 4 finite numbers > 0"):
        bgnbd_log_likelihood(None, [1], [1.0], [2.0])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="frequency: must be a sequence of numbers"):
        bgnbd_log_likelihood((1, 1, 1, 1), ["x1"], [1.0], [2.0])
    with pytest.raises(ValidationError, match="recency: must hold finite numbers >= 0"):
        bgnbd_log_likelihood((1, 1, 1, 1), [1], [float("nan")], [2.0])
    with pytest.raises(ValidationError, match="equally long"):
        bgnbd_log_likelihood((1, 1, 1, 1), [1, 2], [1.0], [2.0])


def test_a_equal_to_one_is_handled() -> None:
    m = BgNbdModel(r=0.5, alpha=3.0, a=1.0, b=2.0)
    near = BgNbdModel(r=0.5, alpha=3.0, a=1.0 + 1e-6, b=2.0)
    t = np.array([10.0, 50.0])
    np.testing.assert_allclose(
        m.expected_purchases_new(t), near.expected_purchases_new(t), rtol=1e-4
    )


def test_missing_scipy_raises_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    with pytest.raises(MissingDependencyError) as error:
        fit_bgnbd(cdnow_summary())
    assert error.value.package == "scipy" and error.value.extra == "models"


def test_report() -> None:
    model = fit_bgnbd(cdnow_summary())
    data = model.to_dict()
    assert data["model"] == "BG/NBD"
    assert data["params"]["r"] == pytest.approx(0.243, rel=0.01)  # type: ignore[index]
    assert isinstance(data["standard_errors"], dict)
    assert set(data["standard_errors"]) == {"r", "alpha", "a", "b"}
    html = model._repr_html_()
    assert "BG/NBD model" in html and "-9,582.4" in html
    bare = PUBLISHED.to_dict()
    assert bare["log_likelihood"] is None and bare["standard_errors"] is None
    assert "BG/NBD" in PUBLISHED._repr_html_()


@settings(max_examples=50, deadline=None)
@given(
    params=st.tuples(*[st.floats(0.01, 50.0) for _ in range(4)]),
    x=st.integers(0, 2000),
    share=st.floats(0.0, 1.0),
    big_t=st.floats(0.1, 500.0),
    t=st.floats(0.0, 500.0),
)
def test_predictions_are_finite_and_coherent(
    params: tuple[float, float, float, float], x: int, share: float, big_t: float, t: float
) -> None:
    """Over a wide parameter range: finite, 0 < P(alive) <= 1, expectations grow with t."""
    m = BgNbdModel(r=params[0], alpha=params[1], a=params[2], b=params[3])
    t_x = share * big_t if x > 0 else 0.0
    s = _summary([x], [t_x], [big_t])
    alive = float(m.probability_alive(s)[0])
    assert 0.0 <= alive <= 1.0
    path = m.expected_purchases_path(s, [0.0, t, t + 10.0])[0]
    assert bool(np.all(np.isfinite(path)))
    assert path[0] == 0.0
    assert -1e-9 <= path[1] <= path[2] + 1e-9 * max(1.0, abs(path[2]))
    assert bool(np.isfinite(bgnbd_log_likelihood(params, [x], [t_x], [big_t])).all())


def test_p_alive_at_a_future_horizon_integrates_the_posterior() -> None:
    """P(alive at T+t) = P(alive) E[exp(-lambda p t)] over the alive-posterior (Monte Carlo)."""
    m = PUBLISHED
    rng = np.random.default_rng(5)
    for x, t_x, big_t, t in [
        (2, 30.43, 38.86, 26.0),
        (0, 0.0, 38.86, 52.0),
        (12, 35.0, 38.0, 10.0),
    ]:
        s = _summary([x], [t_x], [big_t])
        lam = rng.gamma(m.r + x, 1.0 / (m.alpha + big_t), 400_000)
        p = rng.beta(m.a, m.b + x, 400_000)
        now = float(m.probability_alive(s)[0])
        later = float(m.probability_alive(s, t)[0])
        assert later == pytest.approx(now * float(np.exp(-lam * p * t).mean()), rel=5e-3)
        assert 0 < later < now
    assert float(m.probability_alive(_summary([2], [30.43], [38.86]), 0.0)[0]) == pytest.approx(
        float(m.probability_alive(_summary([2], [30.43], [38.86]))[0])
    )


def test_p_alive_at_a_future_horizon_matches_a_forward_simulation() -> None:
    """Simulate to T, keep customers with a given history, run them on: the share alive later."""
    r, alpha, a, b = 0.8, 6.0, 0.9, 3.0
    n, big_t, t = 400_000, 20.0, 15.0
    rng = np.random.default_rng(9)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    # customers with no repeat purchase by T are still alive at T (dropout follows purchases)
    none_yet = rng.poisson(lam * big_t) == 0
    survive = rng.random(n) < np.exp(-lam * p * t)
    share = float(survive[none_yet].mean())
    m = BgNbdModel(r=r, alpha=alpha, a=a, b=b)
    predicted = float(m.probability_alive(_summary([0], [0.0], [big_t]), t)[0])
    assert predicted == pytest.approx(share, abs=3e-3)


def test_scipy_hyp2f1_infinity_is_guarded() -> None:
    """scipy returns inf for 2F1(1, 1; 101; 10/11) (= 1.00917); predictions stay right."""
    assert not np.isfinite(sp.hyp2f1(1.0, 1.0, 101.0, 10 / 11))  # the scipy behaviour guarded
    m = BgNbdModel(r=1.0, alpha=0.5, a=2.0, b=1.0)
    s = _summary([99], [0.5], [0.5])
    got = float(m.expected_purchases(s, 10.0)[0])
    # the series by hand: 2F1(1, 1; 101; z) = sum_n z^n n! / (101)_n
    z, term, total = 10 / 11, 1.0, 1.0
    for n in range(2000):
        term *= (1 + n) * (1 + n) / ((101 + n) * (n + 1)) * z
        total += term
    c = 2.0 + 1.0 + 99 - 1
    tail = (1.0 / 11.0) ** (2.0 - 1) * total  # (1-z)^(a-1) F, 1-z = (alpha+T)/(alpha+T+t)
    alive = float(m.probability_alive(s)[0])
    assert got == pytest.approx(c / (2.0 - 1) * (1 - tail) * alive, rel=1e-7)


# -- P(alive) against the formula as printed ---------------------------------------------


@given(
    rows=st.lists(
        st.tuples(st.integers(0, 3000), st.floats(0, 1), st.floats(0.01, 500)),
        min_size=1,
        max_size=50,
    ),
    params=st.tuples(*[st.floats(0.01, 50)] * 4),
)
@settings(max_examples=120, deadline=None)
def test_p_alive_is_the_logistic_of_the_log_odds(
    rows: list[tuple[int, float, float]], params: tuple[float, ...]
) -> None:
    """P(alive) = expit(-log odds) (note 021) to 1e-12, however large x and silent the customer."""
    r, alpha, a, b = params
    x = np.array([f for f, _, _ in rows])
    big_t = np.array([t for _, _, t in rows])
    t_x = np.where(x > 0, big_t * np.array([u for _, u, _ in rows]), 0.0)
    s = BtydSummary(
        customer_ids=[f"c{i}" for i in range(len(x))],
        frequency=x,
        recency=t_x,
        T=big_t,
        monetary=np.where(x > 0, 1.0, 0.0),
    )
    safe = np.maximum(x, 1)
    log_odds = (
        np.log(a) - np.log(b + safe - 1) + (r + safe) * np.log((alpha + big_t) / (alpha + t_x))
    )
    expected = np.where(x > 0, sp.expit(-log_odds), 1.0)
    got = BgNbdModel(r=r, alpha=alpha, a=a, b=b).probability_alive(s)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    ("params", "x", "big_t"),
    [
        ((1.0, 0.0625, 1.0, 1.0), 773, 0.5),  # found by hypothesis: about a million terms
        ((1.0, 0.01, 1.0, 1.0), 2000, 0.1),  # the corner of that test's range: over ten million
    ],
)
def test_long_horizons_after_short_histories_sum_their_long_series(
    params: tuple[float, float, float, float], x: int, big_t: float
) -> None:
    """z near 1 and many purchases: the 2F1 series runs to millions of terms (it stopped at a
    million and raised); the expectations are finite and grow with t; and the a = 1 step-off
    agrees with a = 1 +- 1e-9 to 1e-8 (c - B, formed from the sums, had kept 3 digits: 1e-4)."""
    for share in (0.0, 1.0):
        s = _summary([x], [share * big_t], [big_t])
        path = BgNbdModel(r=params[0], alpha=params[1], a=params[2], b=params[3])
        values = path.expected_purchases_path(s, [0.0, 500.0, 510.0])[0]
        assert bool(np.all(np.isfinite(values))) and values[0] == 0.0
        assert values[1] <= values[2]
        if share:
            assert values[1] > x  # alive, with a long horizon: more than it has bought so far
            for nudge in (-1e-9, 1e-9):
                near = BgNbdModel(r=params[0], alpha=params[1], a=params[2] + nudge, b=params[3])
                again = near.expected_purchases_path(s, [0.0, 500.0, 510.0])[0]
                assert again[1] == pytest.approx(values[1], rel=1e-8)
