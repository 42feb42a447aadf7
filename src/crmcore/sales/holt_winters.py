"""Exponential smoothing with trend and seasonality (Holt-Winters), and the seasonal naive method.

Implemented with numpy after Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*
(3rd ed., 2021), "FPP3". With level ``l``, trend ``b``, season ``s`` of period ``m``, smoothing
parameters ``alpha``, ``beta`` (FPP3's beta-star), ``gamma`` and damping ``phi`` (``phi = 1``: no
damping; ``phi_h = phi + phi² + … + phi^h``):

* **additive seasonality** (FPP3 §8.3, eq. 8.3 with the damped trend of §8.2)::

      l_t = alpha (y_t - s_{t-m}) + (1 - alpha)(l_{t-1} + phi b_{t-1})
      b_t = beta (l_t - l_{t-1}) + (1 - beta) phi b_{t-1}
      s_t = gamma (y_t - l_{t-1} - phi b_{t-1}) + (1 - gamma) s_{t-m}
      ŷ_{t+h|t} = l_t + phi_h b_t + s_{t+h-m(k+1)},   k = ⌊(h - 1)/m⌋

* **multiplicative seasonality** (FPP3 §8.3, eq. 8.4)::

      l_t = alpha (y_t / s_{t-m}) + (1 - alpha)(l_{t-1} + phi b_{t-1})
      b_t = beta (l_t - l_{t-1}) + (1 - beta) phi b_{t-1}
      s_t = gamma y_t / (l_{t-1} + phi b_{t-1}) + (1 - gamma) s_{t-m}
      ŷ_{t+h|t} = (l_t + phi_h b_t) s_{t+h-m(k+1)}

* **no seasonality**: Holt's linear (damped) trend, FPP3 §8.2.

Initial states come from a classical decomposition of the first two seasons (in the spirit of
Hyndman et al., *Forecasting with Exponential Smoothing*, 2008, §2.6.1): the slope from the
difference of the two seasons' means, the level and seasonal indices from the detrended values;
two full seasons are needed (three values without seasonality). The parameters minimise the sum
of squared one-step errors over a grid (``alpha`` in 0.05…0.95, ``beta`` in 0…0.5,
``gamma ≤ 1 - alpha``, ``phi`` in {0.85, 0.9, 0.95, 0.98} when damped), all candidates smoothed at
once as numpy vectors, one step per period: no optimiser, no new dependency.

Prediction intervals (80 %) for the additive models use FPP3 Table 8.8:
``sigma_h² = sigma² (1 + Σ_{j=1}^{h-1} c_j²)``,
``c_j = alpha (1 + beta phi_j) + gamma·[j mod m = 0]``, with ``sigma²`` the mean squared one-step
error; the multiplicative model gives none.

The **seasonal naive** forecast (FPP3 §5.2) repeats the last observed season:
``ŷ_{T+h|T} = y_{T+h-m(k+1)}``.

Examples:
    >>> import numpy as np
    >>> y = 100 + 10 * np.tile([0.0, 1.0, 3.0, 1.0], 4) + np.arange(16)
    >>> fit = fit_holt_winters(y, 4)
    >>> fit.forecast(4).round(1).tolist()    # the series continues 116, 127, 148, 129
    [116.0, 127.0, 148.0, 129.0]
    >>> seasonal_naive(y, 4, 2).tolist()
    [112.0, 123.0]
"""

from __future__ import annotations

from typing import Final, Literal, get_args

import attrs
import numpy as np

from crmcore.columnar.arguments import float_column
from crmcore.kernel.arrays import Float64Array
from crmcore.kernel.errors import ModelFitError, ValidationError
from crmcore.kernel.validators import boolean, choice, integer

__all__ = ["HoltWintersFit", "Seasonality", "fit_holt_winters", "seasonal_naive"]

Seasonality = Literal["additive", "multiplicative", "none"]
"""How the season combines with level and trend (``"none"``: Holt's linear trend)."""
_Z80: Final = 1.2815515655446004  # the 90th percentile of the standard normal: an 80 % interval
_ALPHAS: Final = np.round(np.arange(0.05, 0.951, 0.05), 2)
_BETAS: Final = np.array([0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5])
_GAMMAS: Final = np.round(np.arange(0.0, 0.951, 0.05), 2)
_PHIS: Final = np.array([0.85, 0.9, 0.95, 0.98])
_INIT_PASSES: Final = 8
_MAX_HORIZON: Final = 10_000  # periods ahead: a longer horizon is a mistake, not a forecast


def _series(y: object, m: int, seasonality: str) -> Float64Array:
    values = float_column(y, "y", finite=True)
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise ValidationError("season_length", m, "must be a whole number of periods (>= 1)")
    choice(seasonality, "seasonality", get_args(Seasonality))
    if seasonality == "multiplicative" and len(values) and values.min() <= 0:
        raise ValidationError(
            "seasonality", seasonality, "needs a positive value in every period (use additive)"
        )
    return values


def seasonal_naive(y: object, m: int, h: int) -> Float64Array:
    """The next ``h`` values repeating the last season of ``y`` (FPP3 §5.2)."""
    values = _series(y, m, "none")
    h = integer(h, "h", low=0, high=_MAX_HORIZON)
    if len(values) < m:
        raise ValidationError("y", len(values), f"needs at least one season ({m} periods)")
    k = (np.arange(1, h + 1) - 1) // m
    out: Float64Array = values[len(values) + np.arange(1, h + 1) - m * (k + 1) - 1]
    return out


@attrs.frozen(eq=False, kw_only=True)
class HoltWintersFit:
    """A fitted Holt-Winters model: its parameters, final states and one-step errors."""

    seasonality: Seasonality
    season_length: int
    alpha: float
    beta: float
    gamma: float
    phi: float
    level: float
    trend: float
    season: Float64Array
    residuals: Float64Array

    @property
    def sigma2(self) -> float:
        """The mean squared one-step error."""
        return float(np.mean(self.residuals**2)) if len(self.residuals) else 0.0

    def _phi_sums(self, h: int) -> Float64Array:
        powers = self.phi ** np.arange(1, h + 1)
        out: Float64Array = np.cumsum(powers)
        return out

    def forecast(self, h: int) -> Float64Array:
        """Point forecasts for the next ``h`` periods."""
        h = integer(h, "horizon", low=1, high=_MAX_HORIZON)
        trend = self.level + self._phi_sums(h) * self.trend
        if self.seasonality == "none":
            return trend
        m = self.season_length
        # self.season holds s_{T-m+1} .. s_T: the season of T+h is at (h - 1) mod m
        seasonal = self.season[(np.arange(1, h + 1) - 1) % m]
        out: Float64Array = (
            trend * seasonal if self.seasonality == "multiplicative" else (trend + seasonal)
        )
        return out

    def interval(self, h: int) -> tuple[Float64Array, Float64Array] | None:
        """80 % prediction intervals (lower, upper) for the additive models (FPP3 Table 8.8);
        ``None`` for multiplicative seasonality."""
        if self.seasonality == "multiplicative":
            return None
        point = self.forecast(h)
        j = np.arange(1, h)
        c = self.alpha * (1 + self.beta * self._phi_sums(h)[: h - 1])
        if self.seasonality == "additive":
            c = c + self.gamma * ((j % self.season_length) == 0)
        variance = self.sigma2 * (1 + np.concatenate([[0.0], np.cumsum(c**2)]))
        half = _Z80 * np.sqrt(variance)
        return point - half, point + half


def _grid(seasonality: str, damped: bool) -> tuple[Float64Array, ...]:
    gammas = _GAMMAS if seasonality != "none" else np.array([0.0])
    phis = _PHIS if damped else np.array([1.0])
    a, b, g, p = (x.ravel() for x in np.meshgrid(_ALPHAS, _BETAS, gammas, phis, indexing="ij"))
    keep = g <= 1 - a  # the usual restriction 0 <= gamma <= 1 - alpha, FPP3 §8.3
    return a[keep], b[keep], g[keep], p[keep]


def _initial_states(y: Float64Array, m: int, seasonality: str) -> tuple[float, float, Float64Array]:
    """The states before the first period, from the first two seasons.

    The slope ``b`` is the difference of the two seasons' means divided by ``m``; the values less
    ``b·t`` give the level at ``t = 0`` (their mean) and the seasonal indices (each position's
    mean deviation, or ratio to the trend line for multiplicative seasonality, normalised to sum to
    zero or average one): a classical decomposition of the first two seasons, in the spirit of
    Hyndman et al. (2008) §2.6.1. For multiplicative seasonality the line is fitted to the
    deseasonalised values and the indices re-estimated, a few passes. Exact for a series that is a
    line plus (or times) a repeating season.
    """
    if seasonality == "none":
        slope = float(y[1] - y[0])
        return float(y[0]) - slope, slope, np.zeros(1)
    t = np.arange(2 * m)
    first = y[: 2 * m]
    indices = np.ones(m) if seasonality == "multiplicative" else np.zeros(m)
    for _ in range(_INIT_PASSES if seasonality == "multiplicative" else 1):
        # deseasonalise, fit the line through the two seasons' means, re-estimate the season
        plain = first / np.tile(indices, 2) if seasonality == "multiplicative" else first
        slope = float(plain[m:].mean() - plain[:m].mean()) / m
        level = float((plain - slope * t).mean())
        if seasonality == "multiplicative":
            indices = (first / (level + slope * t)).reshape(2, m).mean(axis=0)
            indices = indices / indices.mean()
        else:
            indices = (first - slope * t).reshape(2, m).mean(axis=0) - level
    return level - slope, slope, indices


def _smooth(
    y: Float64Array, m: int, seasonality: str, params: tuple[Float64Array, ...]
) -> tuple[Float64Array, Float64Array, Float64Array, Float64Array]:
    """Run the recursions for every candidate at once (one numpy step per period).

    Returns the final level, trend and season (the season of the next period first) and the
    one-step errors, each with one column (or row) per candidate.
    """
    alpha, beta, gamma, phi = params
    k = len(alpha)
    level0, trend0, init = _initial_states(y, m, seasonality)
    level, trend = np.full(k, level0), np.full(k, trend0)
    season = np.tile(init, (k, 1))
    errors = np.zeros((len(y), k))
    for t in range(len(y)):
        damped = phi * trend
        base = level + damped
        s = season[:, t % m] if seasonality != "none" else np.zeros(k)
        if seasonality == "multiplicative":
            errors[t] = y[t] - base * s
            new_level = alpha * (y[t] / s) + (1 - alpha) * base
            season[:, t % m] = gamma * y[t] / base + (1 - gamma) * s
        else:
            errors[t] = y[t] - base - s
            new_level = alpha * (y[t] - s) + (1 - alpha) * base
            if seasonality == "additive":
                season[:, t % m] = gamma * (y[t] - base) + (1 - gamma) * s
        trend = beta * (new_level - level) + (1 - beta) * damped
        level = new_level
    last = np.roll(season, -(len(y) % m), axis=1) if seasonality != "none" else season
    return level, trend, last, errors


def fit_holt_winters(
    y: object, season_length: int, *, seasonality: Seasonality = "additive", damped: bool = False
) -> HoltWintersFit:
    """Fit Holt-Winters to ``y`` (two full seasons at least; three periods without seasonality).

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] for too short a series,
    non-finite values, or multiplicative seasonality with a value that is not positive.
    """
    m = season_length
    values = _series(y, m, seasonality)
    needed = 3 if seasonality == "none" else 2 * m
    if len(values) < needed:
        raise ValidationError(
            "y", len(values), f"needs at least {needed} periods for {seasonality} Holt-Winters"
        )
    params = _grid(seasonality, boolean(damped, "damped"))
    # Some candidates of the grid diverge on some series (a large trend weight on a long run of
    # zeros, say): their errors overflow to inf or NaN and they are simply not chosen.
    with np.errstate(over="ignore", invalid="ignore"):
        level, trend, season, errors = _smooth(values, m, seasonality, params)
        sse = np.sum(errors**2, axis=0)
    sse[~np.isfinite(sse)] = np.inf
    best = int(np.argmin(sse))
    if not np.isfinite(sse[best]):
        raise ModelFitError("Holt-Winters", "every smoothing candidate diverges on this series")
    alpha, beta, gamma, phi = (float(p[best]) for p in params)
    return HoltWintersFit(
        seasonality=seasonality,
        season_length=m,
        alpha=alpha,
        beta=beta,
        gamma=gamma,
        phi=phi,
        level=float(level[best]),
        trend=float(trend[best]),
        season=season[best].copy(),
        residuals=errors[:, best].copy(),
    )
