"""The distribution of what open deals will bring: a sum of independent Bernoulli amounts.

Each open deal ``i`` closes won with probability ``p_i`` and brings ``a_i`` (minor units), so the
revenue from a set of deals is ``S = Σ a_i X_i`` with independent ``X_i ~ Bernoulli(p_i)``. Its
mean ``Σ p_i a_i`` and variance ``Σ p_i (1 - p_i) a_i²`` are exact sums; its quantiles need the
whole distribution:

* **exact convolution** when it is small enough: the amounts are put on a grid of their greatest
  common divisor ``g`` (in minor units), and the probability mass function over ``0 .. Σ a_i / g``
  is built deal by deal, ``f ← (1 - p_i) f + p_i shift(f, a_i / g)`` (the textbook recursion for
  a Poisson-binomial with weights; work ∝ deals x cells, bounded by ``exact_limit``);
* **Monte Carlo** otherwise: ``simulations`` draws of all deals with a seeded
  `numpy.random.Generator` (PCG64), in chunks; the same seed gives the same numbers;
* when even that is too much work (deals x simulations above ``simulation_limit``), the deals
  are split: the few that matter on their own (removed largest variance first until no remaining
  deal carries over 1 % of the remaining variance, the Lindeberg condition of the central limit
  theorem in practice) are simulated, and the sum of the many small rest is drawn from its
  normal approximation (``"hybrid"``); with no deal that matters on its own, ``S`` itself is
  normal and ``mean + z_q x sd`` (clipped to the possible range) is used (``"normal"``).

A quantile ``P_q`` is the smallest value ``s`` with ``P(S <= s) >= q`` (the inverse of the
distribution function; ``numpy.quantile(method="inverted_cdf")`` on draws), so
``P10 <= P50 <= P90`` always, whatever the method. The mean reported is always the exact
``Σ p_i a_i``, never a sample mean.

Examples:
    >>> d = bernoulli_sum([100, 200], [500_000, 500_000])
    >>> d.method, d.mean, d.quantile(0.1), d.quantile(0.5), d.quantile(0.9)
    ('exact', Fraction(150, 1), 0, 100, 300)
"""

from __future__ import annotations

import math
from fractions import Fraction
from statistics import NormalDist
from typing import Final, Literal

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.columnar.arguments import int_column
from crmcore.kernel.arrays import Float64Array, Int64Array, read_only
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import integer
from crmcore.sales._exact import PROBABILITY_SCALE, group_sums, weighted_group_sums

__all__ = [
    "DEFAULT_EXACT_LIMIT",
    "DEFAULT_SIMULATIONS",
    "DEFAULT_SIMULATION_LIMIT",
    "DistributionMethod",
    "OutcomeDistribution",
    "bernoulli_sum",
]

DEFAULT_EXACT_LIMIT: Final = 50_000_000
"""Deals x grid cells up to which the distribution is convolved exactly."""
DEFAULT_SIMULATIONS: Final = 10_000
"""Monte Carlo draws when the exact convolution is too large."""
DEFAULT_SIMULATION_LIMIT: Final = 50_000_000
"""Deals x simulations up to which the Monte Carlo runs (beyond: the normal approximation, when
no deal dominates)."""
_DOMINANCE: Final = 0.01
DistributionMethod = Literal["exact", "monte_carlo", "hybrid", "normal"]
"""How a distribution was computed."""
_MAX_CELLS: Final = 5_000_000
_MAX_SIMULATIONS: Final = 10_000_000  # one int64 draw sum per simulation: 80 MB
_CHUNK_ELEMENTS: Final = 4_000_000
_TOLERANCE: Final = 1e-12  # float rounding of a CDF that should reach q exactly


@attrs.frozen(eq=False, kw_only=True)
class OutcomeDistribution:
    """The distribution of ``S = Σ a_i X_i`` (minor units).

    ``method`` is ``"exact"`` (then ``values``/``mass`` hold the support and its probabilities),
    ``"monte_carlo"`` or ``"hybrid"`` (``values`` holds the sorted draws, ``mass`` is empty) or
    ``"normal"`` (both empty). ``top`` is the largest possible value. ``mean`` is the
    exact fraction ``Σ p_i a_i``; ``variance`` is ``Σ p_i (1 - p_i) a_i²`` in floating point;
    ``fixed`` is the part certain to come (deals with p = 1).
    """

    method: DistributionMethod
    mean: Fraction
    variance: float
    fixed: int
    deals: int
    top: int
    values: Int64Array
    mass: Float64Array
    simulations: int | None = None
    seed: int | None = None

    def quantile(self, q: float) -> int:
        """The smallest value ``s`` (minor units) with ``P(S <= s) >= q``, for ``q`` in (0, 1]."""
        if isinstance(q, bool) or not isinstance(q, int | float) or not 0.0 < float(q) <= 1.0:
            raise ValidationError("q", q, "must be a probability in (0, 1]")
        if self.method == "normal":
            guess = float(self.mean) + NormalDist().inv_cdf(min(float(q), 1 - 1e-12)) * self.std
            return int(min(max(round(guess), self.fixed), self.top))
        if not len(self.values):
            return self.fixed
        if self.method == "exact":
            cdf = np.cumsum(self.mass)
            i = int(np.searchsorted(cdf, q - _TOLERANCE, side="left"))
            return int(self.values[min(i, len(self.values) - 1)])
        return int(np.quantile(self.values, q, method="inverted_cdf"))

    @property
    def std(self) -> float:
        """The standard deviation (minor units)."""
        return math.sqrt(self.variance)


def _checked(amounts: npt.ArrayLike, units: npt.ArrayLike) -> tuple[Int64Array, Int64Array]:
    a = int_column(amounts, "amounts", what="amounts in minor units")
    u = int_column(units, "units", what="probabilities in millionths")
    if u.shape != a.shape:
        raise ValidationError("units", u.shape, f"must be one probability per amount ({a.shape})")
    if len(a) and a.min() < 0:
        raise ValidationError("amounts", int(a.min()), "must not be negative")
    if len(u) and (u.min() < 0 or u.max() > PROBABILITY_SCALE):
        raise ValidationError("units", int(u.min()), "must be millionths in 0..1,000,000")
    return a, u


def bernoulli_sum(
    amounts: npt.ArrayLike,
    units: npt.ArrayLike,
    *,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
    simulations: int = DEFAULT_SIMULATIONS,
    seed: int = 0,
    simulation_limit: int = DEFAULT_SIMULATION_LIMIT,
) -> OutcomeDistribution:
    """The distribution of the revenue of deals with ``amounts`` (minor units) and win
    probabilities ``units`` (millionths).

    Exact convolution when deals x grid cells <= ``exact_limit``; else ``simulations`` Monte
    Carlo draws with ``seed`` when deals x simulations <= ``simulation_limit`` or one deal
    dominates the variance; else the normal approximation.
    """
    a, u = _checked(amounts, units)
    exact_limit = integer(exact_limit, "exact_limit", low=0)
    simulations = integer(simulations, "simulations", low=100, high=_MAX_SIMULATIONS)
    seed = integer(seed, "seed", low=0)
    simulation_limit = integer(simulation_limit, "simulation_limit", low=0)
    keys = np.zeros(len(a), dtype=np.intp)
    mean = Fraction(weighted_group_sums(keys, a, u, 1)[0], PROBABILITY_SCALE)
    uncertain = (u > 0) & (u < PROBABILITY_SCALE) & (a > 0)
    ua, uu = a[uncertain], u[uncertain]
    pu = uu / PROBABILITY_SCALE
    spread = pu * (1.0 - pu) * ua.astype(np.float64) ** 2
    variance = float(np.sum(spread))
    certain = a[u == PROBABILITY_SCALE]
    fixed = group_sums(np.zeros(len(certain), dtype=np.intp), certain, 1)[0]
    top = fixed + group_sums(np.zeros(len(ua), dtype=np.intp), ua, 1)[0]
    common = _Common(mean, variance, fixed, len(a), top)
    if not len(ua):
        return common.build("exact", np.array([fixed], dtype=np.int64), np.ones(1))
    step = int(np.gcd.reduce(ua))
    cells = (top - fixed) // step + 1
    if cells <= _MAX_CELLS and len(ua) * cells <= exact_limit:
        mass = _convolve(ua // step, pu, cells)
        support = np.flatnonzero(mass > 0)
        return common.build("exact", fixed + support.astype(np.int64) * step, mass[support])
    if len(ua) * simulations <= simulation_limit:
        draws = _simulate(ua, pu, simulations, np.random.default_rng(seed))
        return common.build(
            "monte_carlo", np.sort(draws) + fixed, np.zeros(0), simulations=simulations, seed=seed
        )
    big = _dominant(spread, variance)
    if not len(big):
        return common.build("normal", np.zeros(0, dtype=np.int64), np.zeros(0))
    rng = np.random.default_rng(seed)
    draws = _simulate(ua[big], pu[big], simulations, rng)
    rest = np.ones(len(ua), dtype=bool)
    rest[big] = False
    if rest.any():
        centre = float(np.sum(pu[rest] * ua[rest]))
        sd = float(np.sqrt(np.sum(spread[rest])))
        most = float(np.sum(ua[rest], dtype=np.float64))
        normal = np.clip(rng.normal(centre, sd, simulations), 0.0, most)
        draws = draws + np.rint(normal).astype(np.int64)
    method: DistributionMethod = "hybrid" if rest.any() else "monte_carlo"
    return common.build(
        method, np.sort(draws) + fixed, np.zeros(0), simulations=simulations, seed=seed
    )


@attrs.frozen
class _Common:
    mean: Fraction
    variance: float
    fixed: int
    deals: int
    top: int

    def build(
        self,
        method: DistributionMethod,
        values: Int64Array,
        mass: Float64Array,
        *,
        simulations: int | None = None,
        seed: int | None = None,
    ) -> OutcomeDistribution:
        return OutcomeDistribution(
            method=method,
            mean=self.mean,
            variance=self.variance,
            fixed=self.fixed,
            deals=self.deals,
            top=self.top,
            values=read_only(values),
            mass=read_only(mass),
            simulations=simulations,
            seed=seed,
        )


def _dominant(spread: Float64Array, variance: float) -> Int64Array:
    """The deals to simulate one by one: largest variance first, until no remaining deal carries
    more than 1 % of the remaining variance (empty: none matters on its own)."""
    order = np.argsort(-spread, kind="stable")
    ranked = spread[order]
    remaining = variance - np.concatenate([[0.0], np.cumsum(ranked)[:-1]])
    fine = ranked <= _DOMINANCE * remaining
    count = int(np.argmax(fine)) if fine.any() else len(ranked)
    return order[:count]


def _convolve(steps: Int64Array, p: Float64Array, cells: int) -> Float64Array:
    """The mass function of ``Σ steps_i X_i`` on ``0 .. cells - 1``, deal by deal."""
    f = np.zeros(cells)
    f[0] = 1.0
    top = 0  # the support so far is 0..top
    for k, q in zip(steps.tolist(), p.tolist(), strict=True):
        head = f[: top + 1].copy()
        f[: top + 1] *= 1.0 - q
        f[k : k + top + 1] += q * head
        top += k
    return f


def _simulate(
    a: Int64Array, p: Float64Array, simulations: int, rng: np.random.Generator
) -> Int64Array:
    """``simulations`` draws of ``Σ a_i X_i`` (from ``rng``), in chunks that bound memory."""
    per_chunk = max(1, _CHUNK_ELEMENTS // max(len(a), 1))
    # Totals are sums of integers: exact in float64 below 2**53 minor units (90 trillion euros).
    weights = a.astype(np.float64)
    chances = p.astype(np.float32)  # single-precision uniforms: half the cost, 2**-24 resolution
    out = np.empty(simulations, dtype=np.int64)
    for start in range(0, simulations, per_chunk):
        n = min(per_chunk, simulations - start)
        won = rng.random((n, len(a)), dtype=np.float32) < chances
        out[start : start + n] = np.rint(won @ weights).astype(np.int64)
    return out
