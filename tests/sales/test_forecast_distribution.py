"""The revenue distribution of open deals: exact convolution, Monte Carlo, and their promises."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.kernel.errors import ValidationError
from crmcore.sales.forecast_distribution import bernoulli_sum

deals = st.lists(
    st.tuples(st.integers(0, 50).map(lambda a: a * 100), st.integers(0, 1_000_000)),
    min_size=0,
    max_size=9,
)


def brute_force(pairs: list[tuple[int, int]]) -> dict[int, Fraction]:
    """Every outcome of every deal, with exact probabilities."""
    out: dict[int, Fraction] = {}
    for won in itertools.product((0, 1), repeat=len(pairs)):
        p = Fraction(1)
        total = 0
        for (amount, units), w in zip(pairs, won, strict=True):
            q = Fraction(units, 1_000_000)
            p *= q if w else 1 - q
            total += amount * w
        out[total] = out.get(total, Fraction(0)) + p
    return out


def quantile(dist: dict[int, Fraction], q: Fraction) -> int:
    running = Fraction(0)
    for value in sorted(dist):
        running += dist[value]
        if running >= q:
            return value
    return max(dist)


@settings(max_examples=80, deadline=None)
@given(deals)
def test_exact_convolution_equals_brute_force(pairs: list[tuple[int, int]]) -> None:
    amounts = [a for a, _ in pairs]
    units = [u for _, u in pairs]
    d = bernoulli_sum(amounts, units)
    assert d.method == "exact"
    assert d.mean == sum((Fraction(a * u, 1_000_000) for a, u in pairs), Fraction(0))
    exact = brute_force(pairs)
    for q in (Fraction(1, 10), Fraction(1, 2), Fraction(9, 10)):
        # the float CDF may land a hair off a boundary the fractions hit exactly
        got = d.quantile(float(q))
        want = quantile(exact, q)
        assert (
            got == want
            or abs(float(sum(p for v, p in exact.items() if v <= want)) - float(q)) < 1e-9
        )
    assert d.quantile(0.1) <= d.quantile(0.5) <= d.quantile(0.9)
    variance = sum(u / 1e6 * (1 - u / 1e6) * a * a for a, u in pairs)
    assert d.variance == pytest.approx(variance)
    if pairs:
        support = {int(v): float(m) for v, m in zip(d.values, d.mass, strict=True)}
        for value, p in exact.items():
            if p:
                assert support[value] == pytest.approx(float(p), abs=1e-12)


def test_monte_carlo_is_seeded_and_close_to_exact() -> None:
    rng = np.random.default_rng(3)
    amounts = rng.integers(1, 500, 40) * 1000
    units = rng.integers(0, 1_000_001, 40)
    exact = bernoulli_sum(amounts, units)
    assert exact.method == "exact"
    mc = bernoulli_sum(amounts, units, exact_limit=0, simulations=20_000, seed=7)
    again = bernoulli_sum(amounts, units, exact_limit=0, simulations=20_000, seed=7)
    assert mc.method == "monte_carlo" and (mc.simulations, mc.seed) == (20_000, 7)
    assert np.array_equal(mc.values, again.values)
    assert mc.mean == exact.mean  # the mean is always the exact one, never a sample mean
    spread = exact.std
    for q in (0.1, 0.5, 0.9):
        assert abs(mc.quantile(q) - exact.quantile(q)) < 0.05 * spread
    assert mc.quantile(0.1) <= mc.quantile(0.5) <= mc.quantile(0.9)


def test_certain_and_impossible_deals() -> None:
    d = bernoulli_sum([500, 700, 300], [1_000_000, 0, 1_000_000])
    assert (d.fixed, d.mean, d.quantile(0.1), d.quantile(1.0)) == (800, Fraction(800), 800, 800)
    empty = bernoulli_sum([], [])
    assert (empty.mean, empty.quantile(0.5)) == (Fraction(0), 0)


def test_bad_input() -> None:
    with pytest.raises(ValidationError):
        bernoulli_sum([1, 2], [1])
    with pytest.raises(ValidationError):
        bernoulli_sum([-1], [5])
    with pytest.raises(ValidationError):
        bernoulli_sum([1], [2_000_000])
    with pytest.raises(ValidationError):
        bernoulli_sum([1], [5], simulations=10)
    with pytest.raises(ValidationError):
        bernoulli_sum([1], [5]).quantile(0)


def test_many_small_deals_use_the_normal_approximation_and_big_ones_are_simulated() -> None:
    rng = np.random.default_rng(5)
    small = rng.integers(100, 200, 3000) * 100
    units = rng.integers(100_000, 900_000, 3000)
    mc = bernoulli_sum(small, units, exact_limit=0, simulations=4000, seed=1)
    normal = bernoulli_sum(small, units, exact_limit=0, simulations=4000, simulation_limit=1000)
    assert (mc.method, normal.method) == ("monte_carlo", "normal")
    for q in (0.1, 0.5, 0.9):
        assert abs(normal.quantile(q) - mc.quantile(q)) < 0.1 * mc.std
    # one deal carries most of the variance: it is simulated, the rest drawn as one normal
    amounts = np.concatenate([small, [50_000_000]])
    chances = np.concatenate([units, [500_000]])
    hybrid = bernoulli_sum(amounts, chances, exact_limit=0, simulations=4000, simulation_limit=1000)
    full = bernoulli_sum(amounts, chances, exact_limit=0, simulations=4000, seed=2)
    assert hybrid.method == "hybrid" and hybrid.mean == full.mean
    # the same distribution (two modes: with and without the big deal): compare the CDFs
    for x in np.quantile(full.values, [0.05, 0.25, 0.45, 0.55, 0.75, 0.95]):
        share_h = np.mean(hybrid.values <= x)
        share_f = np.mean(full.values <= x)
        assert abs(share_h - share_f) < 0.04
    assert hybrid.quantile(0.1) <= hybrid.quantile(0.5) <= hybrid.quantile(0.9) <= hybrid.top


def test_inputs_that_are_not_minor_units_or_millionths_are_refused() -> None:
    with pytest.raises(ValidationError, match="1 is not a whole number") as error:
        bernoulli_sum(np.array([100.0, np.nan]), [500_000, 500_000])
    assert error.value.field == "amounts"
    with pytest.raises(ValidationError) as error:
        bernoulli_sum([2**63], [500_000])
    assert error.value.field == "amounts"
    with pytest.raises(ValidationError) as error:
        bernoulli_sum([100], [500_000], simulations=2**63)
    assert error.value.field == "simulations"
