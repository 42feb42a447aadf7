"""The BG/NBD likelihood machinery against eq. (6) as printed and against a plain reference fit.

The fit reads customers through per-frequency tables, compressed rows and an analytic
Hessian; the reference here does none of that: the plain vectorised eq. (6) over every
customer, Nelder-Mead without a gradient, and second differences of the log-likelihood for
the standard errors. Both must give the same model, the same standard errors and the same
CLV.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import scipy.optimize as so
import scipy.special as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.analytics import _bgnbd_likelihood, _optimize
from crmcore.analytics.bgnbd import BgNbdModel, bgnbd_log_likelihood, fit_bgnbd
from crmcore.analytics.btyd import BtydSummary
from crmcore.analytics.clv import customer_lifetime_value
from crmcore.analytics.gamma_gamma import fit_gamma_gamma
from tests.analytics.test_bgnbd import simulate_bgnbd
from tests.analytics.test_btyd import cdnow_summary

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]


def direct_log_likelihood(params: tuple[float, ...], x: np.ndarray, t_x: np.ndarray,
                          big_t: np.ndarray) -> np.ndarray:  # fmt: skip
    """Eq. (6), customer by customer, with the special functions evaluated per customer."""
    r, alpha, a, b = params
    out = []
    for xi, txi, ti in zip(x.tolist(), t_x.tolist(), big_t.tolist(), strict=True):
        head = sp.gammaln(r + xi) - sp.gammaln(r) + r * np.log(alpha) - sp.betaln(a, b)
        first = sp.betaln(a, b + xi) - (r + xi) * np.log(alpha + ti)
        second = (
            sp.betaln(a + 1, b + xi - 1) - (r + xi) * np.log(alpha + txi) if xi > 0 else -np.inf
        )
        out.append(head + np.logaddexp(first, second))
    return np.array(out)


def plain_log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray,
                         big_t: np.ndarray) -> np.ndarray:  # fmt: skip
    """Eq. (6) vectorised the plain way: every special function evaluated per customer."""
    r, alpha, a, b = params
    repeat = x > 0
    x1 = np.where(repeat, x, 1.0)
    first = sp.betaln(a, b + x) - (r + x) * np.log(alpha + big_t)
    second = np.where(repeat, sp.betaln(a + 1, b + x1 - 1) - (r + x) * np.log(alpha + t_x), -np.inf)
    head = sp.gammaln(r + x) - sp.gammaln(r) + r * np.log(alpha) - sp.betaln(a, b)
    out: np.ndarray = np.asarray(head + np.logaddexp(first, second), dtype=np.float64)
    return out


def columns(s: BtydSummary) -> Arrays:
    return s.frequency.astype(np.float64), np.asarray(s.recency), np.asarray(s.T)


def reference_fit(s: BtydSummary) -> np.ndarray:
    """Maximum likelihood the plain way: Nelder-Mead on the log-parameters, no gradient."""
    x, t_x, big_t = columns(s)

    def negative(z: np.ndarray) -> float:
        return -float(plain_log_likelihood(np.exp(z), x, t_x, big_t).mean())

    options = {"xatol": 1e-11, "fatol": 1e-15, "maxiter": 40_000, "maxfev": 40_000}
    start = np.zeros(4)
    for _ in range(2):  # a restart at the optimum guards against a collapsed simplex
        result = so.minimize(negative, start, method="Nelder-Mead", options=options)
        start = result.x
    assert result.success
    return np.exp(np.asarray(result.x, dtype=np.float64))


def numeric_standard_errors(params: np.ndarray, s: BtydSummary) -> np.ndarray:
    """Standard errors from second differences of the summed log-likelihood (natural scale)."""
    x, t_x, big_t = columns(s)

    def total(theta: np.ndarray) -> float:
        return float(plain_log_likelihood(theta, x, t_x, big_t).sum())

    steps = 1e-4 * params
    hess = np.empty((4, 4))
    for i in range(4):
        for j in range(4):
            ei, ej = np.eye(4)[i] * steps[i], np.eye(4)[j] * steps[j]
            hess[i, j] = (
                total(params + ei + ej) - total(params + ei - ej)
                - total(params - ei + ej) + total(params - ei - ej)
            ) / (4 * steps[i] * steps[j])  # fmt: skip
    out: np.ndarray = np.sqrt(np.diag(np.linalg.inv(-hess)))
    return out


@pytest.fixture(scope="module", params=["cdnow", "simulated"])
def summary(request: pytest.FixtureRequest) -> BtydSummary:
    if request.param == "cdnow":
        return cdnow_summary()
    rng = np.random.default_rng(8)
    return simulate_bgnbd(3000, 0.7, 6.0, 0.9, 3.5, rng.uniform(20, 60, 3000), seed=8)


def test_the_fit_equals_a_plain_reference_fit(summary: BtydSummary) -> None:
    model = fit_bgnbd(summary)
    expected = reference_fit(summary)
    np.testing.assert_allclose(list(model.params.values()), expected, rtol=1e-5)
    x, t_x, big_t = columns(summary)
    plain = float(plain_log_likelihood(expected, x, t_x, big_t).sum())
    assert model.log_likelihood is not None
    assert model.log_likelihood == pytest.approx(plain, abs=1e-6 * len(x))
    assert model.log_likelihood >= plain - 1e-9 * len(x)  # at least as good an optimum


def test_the_standard_errors_equal_a_numeric_hessian(summary: BtydSummary) -> None:
    model = fit_bgnbd(summary)
    assert model.standard_errors is not None
    params = np.array(list(model.params.values()))
    numeric = numeric_standard_errors(params, summary)
    np.testing.assert_allclose(model.standard_errors, numeric, rtol=1e-4)


def test_clv_equals_the_clv_of_the_reference_fit() -> None:
    s = cdnow_summary()
    spend = fit_gamma_gamma(s)
    r, alpha, a, b = reference_fit(s).tolist()
    reference = BgNbdModel(r=r, alpha=alpha, a=a, b=b, time_unit=s.time_unit)
    ours = customer_lifetime_value(fit_bgnbd(s), spend, s).clv
    theirs = customer_lifetime_value(reference, spend, s).clv
    np.testing.assert_allclose(ours, theirs, rtol=5e-6)
    assert float(ours.sum()) == pytest.approx(float(theirs.sum()), rel=5e-6)


# -- the tables and the compressed rows against the formulas as printed ----------------------


@given(
    rows=st.lists(
        st.tuples(st.integers(0, 40), st.floats(0, 1, allow_nan=False), st.floats(0.1, 80)),
        min_size=1,
        max_size=40,
    ),
    params=st.tuples(*[st.floats(0.05, 20)] * 4),
    fractional=st.booleans(),
)
@settings(max_examples=120, deadline=None)
def test_tabulated_likelihood_equals_eq6(
    rows: list[tuple[int, float, float]], params: tuple[float, ...], fractional: bool
) -> None:
    """The likelihood gathers its per-frequency terms from a table (or np.unique when the
    frequencies are not whole): customer by customer, the numbers are those of eq. (6)."""
    x = np.array([f for f, _, _ in rows], dtype=np.float64) + (0.5 if fractional else 0.0)
    big_t = np.array([t for _, _, t in rows])
    t_x = np.where(x > 0, big_t * np.array([u for _, u, _ in rows]), 0.0)
    got = bgnbd_log_likelihood(params, x, t_x, big_t)  # type: ignore[arg-type]
    np.testing.assert_allclose(got, direct_log_likelihood(params, x, t_x, big_t), rtol=1e-12)


repeated_rows = st.lists(
    st.tuples(st.integers(0, 6), st.sampled_from([0.0, 0.25, 0.5, 1.0]), st.integers(1, 5)),
    min_size=4,
    max_size=200,
)


@given(rows=repeated_rows, params=st.tuples(*[st.floats(0.1, 10)] * 4))
@settings(max_examples=100, deadline=None)
def test_the_objective_of_compressed_rows_equals_that_of_every_customer(
    rows: list[tuple[int, float, int]], params: tuple[float, ...]
) -> None:
    """Compression (distinct rows with weights) changes nothing but the cost: the mean
    log-likelihood and its gradient equal those over every customer, and the gradient is
    the derivative of the value."""
    x = np.array([f for f, _, _ in rows], dtype=np.float64)
    big_t = np.array([float(t) for _, _, t in rows])
    t_x = np.where(x > 0, big_t * np.array([u for _, u, _ in rows]), 0.0)
    (ux, utx, ut), weights = _optimize.compress_rows(x, t_x, big_t)
    compressed = _bgnbd_likelihood.rows_of(ux, utx, ut, weights)
    every = _bgnbd_likelihood.rows_of(x, t_x, big_t)
    z = np.log(np.array(params))
    value, gradient = _bgnbd_likelihood.objective(sp, z, compressed)
    plain = -float(plain_log_likelihood(np.array(params), x, t_x, big_t).mean())
    assert value == pytest.approx(plain, rel=1e-12, abs=1e-12)
    every_value, every_gradient = _bgnbd_likelihood.objective(sp, z, every)
    assert value == pytest.approx(every_value, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(gradient, every_gradient, rtol=1e-9, atol=1e-12)
    step = 1e-6
    for i in range(4):
        up, down = z.copy(), z.copy()
        up[i] += step
        down[i] -= step
        slope = (_bgnbd_likelihood.objective(sp, up, every)[0]
                 - _bgnbd_likelihood.objective(sp, down, every)[0]) / (2 * step)  # fmt: skip
        assert gradient[i] == pytest.approx(slope, rel=1e-5, abs=1e-7)


def test_analytic_hessian_matches_central_differences() -> None:
    simulated = simulate_bgnbd(3000, 0.7, 6.0, 0.9, 3.5, np.full(3000, 52.0), seed=3)
    for s in (cdnow_summary(), simulated):
        x = s.frequency.astype(np.float64)
        (ux, utx, ut), weights = _optimize.compress_rows(x, s.recency, s.T)
        rows = _bgnbd_likelihood.rows_of(ux, utx, ut, weights)
        for point in ([0.243, 4.414, 0.793, 2.426], [2.0, 0.5, 3.0, 0.4], [0.05, 40.0, 0.2, 9.0]):
            log_params = np.log(point)
            analytic = _bgnbd_likelihood.hessian(sp, log_params, rows)
            objective = functools.partial(_bgnbd_likelihood.objective, sp, rows=rows)
            numeric = _optimize._hessian(objective, log_params)
            np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)
            assert np.array_equal(analytic, analytic.T)
