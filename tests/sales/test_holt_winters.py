"""Holt-Winters exponential smoothing against a plain scalar implementation of FPP3's equations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.kernel.errors import ValidationError
from crmcore.sales.holt_winters import fit_holt_winters, seasonal_naive


def scalar(
    y: list[float],
    m: int,
    kind: str,
    a: float,
    b: float,
    g: float,
    phi: float,
    level: float,
    trend: float,
    season: list[float],
) -> tuple[list[float], float, float, list[float]]:
    """FPP3 §8.3 component form, one period at a time (the reference)."""
    s = list(season)
    errors = []
    for t, value in enumerate(y):
        base = level + phi * trend
        old = s[t % m] if kind != "none" else 0.0
        if kind == "multiplicative":
            errors.append(value - base * old)
            new_level = a * value / old + (1 - a) * base
            s[t % m] = g * value / base + (1 - g) * old
        else:
            errors.append(value - base - old)
            new_level = a * (value - old) + (1 - a) * base
            if kind == "additive":
                s[t % m] = g * (value - base) + (1 - g) * old
        trend = b * (new_level - level) + (1 - b) * phi * trend
        level = new_level
    return errors, level, trend, s


def initial(y: np.ndarray, m: int, kind: str) -> tuple[float, float, list[float]]:
    if kind == "none":
        slope = float(y[1] - y[0])
        return float(y[0]) - slope, slope, [0.0] * m
    t = np.arange(2 * m)
    idx = np.ones(m) if kind == "multiplicative" else np.zeros(m)
    for _ in range(8 if kind == "multiplicative" else 1):
        plain = y[: 2 * m] / np.tile(idx, 2) if kind == "multiplicative" else y[: 2 * m]
        slope = float(plain[m:].mean() - plain[:m].mean()) / m
        level = float((plain - slope * t).mean())
        if kind == "multiplicative":
            idx = (y[: 2 * m] / (level + slope * t)).reshape(2, m).mean(axis=0)
            idx = idx / idx.mean()
        else:
            idx = (y[: 2 * m] - slope * t).reshape(2, m).mean(axis=0) - level
    return level - slope, slope, list(idx)


series = st.tuples(
    st.integers(2, 6),
    st.integers(2, 4),
    st.sampled_from(["additive", "multiplicative", "none"]),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)


@settings(max_examples=40, deadline=None)
@given(series)
def test_the_fit_is_the_scalar_recursion_with_the_best_grid_parameters(
    case: tuple[int, int, str, bool, int],
) -> None:
    m, seasons, kind, damped, seed = case
    rng = np.random.default_rng(seed)
    n = m * (seasons + 1)
    t = np.arange(n)
    pattern = rng.uniform(0.8, 1.2, m)
    y = (200 + 3 * t) * pattern[t % m] + rng.normal(0, 5, n)
    fit = fit_holt_winters(y, m, seasonality=kind, damped=damped)  # type: ignore[arg-type]
    level0, trend0, season0 = initial(y, m, kind)
    errors, level, trend, season = scalar(
        list(y), m, kind, fit.alpha, fit.beta, fit.gamma, fit.phi, level0, trend0, season0
    )
    assert np.allclose(fit.residuals, errors)
    assert fit.level == pytest.approx(level) and fit.trend == pytest.approx(trend)
    # the forecast of FPP3 eq. 8.3/8.4 from the scalar states
    h = 2 * m + 1
    phis = np.cumsum(fit.phi ** np.arange(1, h + 1))
    steps = np.arange(1, h + 1)
    s = np.array(season)[(n + steps - 1) % m] if kind != "none" else 0.0
    expected = (level + phis * trend) * s if kind == "multiplicative" else level + phis * trend + s
    assert np.allclose(fit.forecast(h), expected)
    # and no other grid point has smaller squared errors: spot-check a few
    sse = float(np.sum(fit.residuals**2))
    for a, b, g in ((0.5, 0.1, 0.1), (0.2, 0.0, 0.3), (0.9, 0.5, 0.05)):
        if kind == "none":
            g = 0.0
        other, *_ = scalar(
            list(y), m, kind, a, b, g, fit.phi if not damped else 0.9, level0, trend0, season0
        )
        assert sse <= float(np.sum(np.square(other))) + 1e-6


def test_exact_series_are_continued_exactly() -> None:
    t = np.arange(24.0)
    y = 50 + 2 * t + np.tile([5.0, -3.0, 0.0, -2.0], 6)
    fit = fit_holt_winters(y, 4)
    assert np.allclose(fit.forecast(4), 50 + 2 * np.arange(24, 28) + [5.0, -3.0, 0.0, -2.0])
    mult = (100 + 4 * t) * np.tile([1.2, 0.8, 1.1, 0.9], 6)
    fit = fit_holt_winters(mult, 4, seasonality="multiplicative")
    assert np.allclose(fit.forecast(4), (100 + 4 * np.arange(24, 28)) * [1.2, 0.8, 1.1, 0.9])
    line = fit_holt_winters(3 + 0.5 * t[:10], 1, seasonality="none")
    assert np.allclose(line.forecast(3), [8.0, 8.5, 9.0])


def test_intervals_widen_with_the_horizon_and_exist_for_additive_models_only() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(36)
    y = 100 + t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 3, 36)
    fit = fit_holt_winters(y, 12)
    lower, upper = fit.interval(12)  # type: ignore[misc]
    width = upper - lower
    assert (width > 0).all() and (np.diff(width) >= -1e-9).all()
    assert np.allclose((lower + upper) / 2, fit.forecast(12))
    assert fit_holt_winters(y + 50, 12, seasonality="multiplicative").interval(3) is None


def test_seasonal_naive_repeats_the_last_season() -> None:
    y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert seasonal_naive(y, 3, 5).tolist() == [4.0, 5.0, 6.0, 4.0, 5.0]
    with pytest.raises(ValidationError):
        seasonal_naive([1.0], 3, 1)


@pytest.mark.parametrize(
    ("y", "m", "kind", "field"),
    [
        ([1.0] * 7, 4, "additive", "y"),  # fewer than two seasons
        ([1.0, np.nan] * 8, 4, "additive", "y"),
        ([0.0] * 16, 4, "multiplicative", "seasonality"),
        ([1.0] * 16, 4, "cubic", "seasonality"),
        ([1.0] * 16, 0, "additive", "season_length"),
    ],
)
def test_bad_series_are_refused(y: list[float], m: int, kind: str, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        fit_holt_winters(y, m, seasonality=kind)  # type: ignore[arg-type]
    assert error.value.field == field


def test_bad_horizon() -> None:
    with pytest.raises(ValidationError):
        fit_holt_winters([1.0, 2.0, 3.0], 1, seasonality="none").forecast(0)
