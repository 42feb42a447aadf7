"""Quantile scores by selection: ``ties="first"`` against pandas and a sort, at sizes with ties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from crmcore.analytics.quantiles import (
    _first_rank_edges,
    _quantiles,
    _scores_first,
    quantile_scores,
)

pd = pytest.importorskip("pandas")


def sorted_first_scores(values: np.ndarray, bins: int) -> np.ndarray:
    """The definition: ranks 1..n by a stable sort, then the qcut edges of the ranks."""
    ranks = np.empty(len(values))
    ranks[np.argsort(values, kind="stable")] = np.arange(1, len(values) + 1)
    edges = np.quantile(ranks, _quantiles(bins))
    if edges[0] == edges[-1]:
        return np.full(len(values), (bins + 1) // 2)
    scores = np.searchsorted(edges, ranks, side="left")
    scores[ranks == edges[0]] = 1
    return scores


few_values = st.sampled_from([-1.5, -0.0, 0.0, 1.0, 2.0, 2.5, 1e15])


@given(
    values=hnp.arrays(
        np.float64,
        st.integers(1, 3000),
        elements=st.one_of(few_values, st.floats(-1e6, 1e6, allow_nan=False)),
    ),
    bins=st.integers(2, 9),
)
@settings(max_examples=200, deadline=None)
def test_selection_equals_the_sorted_ranks_at_any_size(values: np.ndarray, bins: int) -> None:
    assert quantile_scores(values, bins).tolist() == sorted_first_scores(values, bins).tolist()


@given(
    values=hnp.arrays(np.int64, st.integers(2, 400), elements=st.integers(0, 4)),
    bins=st.integers(2, 9),
)
@settings(max_examples=150, deadline=None)
def test_heavily_tied_counts_match_pandas(values: np.ndarray, bins: int) -> None:
    """Counts (frequency) tie at almost every edge: the table order decides, as in pandas."""
    labels = list(range(1, bins + 1))
    expected = pd.qcut(pd.Series(values).rank(method="first"), bins, labels=labels)
    assert quantile_scores(values, bins).tolist() == [int(v) for v in expected]


def test_large_inputs_of_every_dtype_match_pandas() -> None:
    rng = np.random.default_rng(5)
    n = 200_003
    cases: list[np.ndarray] = [
        rng.integers(0, 10**14, n),  # microseconds since a purchase
        rng.poisson(2.0, n).astype(np.int32),  # narrow counts
        np.round(rng.lognormal(3.0, 1.0, n), 2),  # spend, with ties
        np.where(rng.random(n) < 0.3, -0.0, rng.integers(-3, 3, n).astype(np.float64)),
    ]
    for values in cases:
        expected = pd.qcut(pd.Series(values).rank(method="first"), 5, labels=[1, 2, 3, 4, 5])
        assert np.array_equal(quantile_scores(values), expected.to_numpy().astype(np.int8))


def test_edges_are_those_of_the_ranks() -> None:
    for n in (1, 2, 3, 7, 10, 11, 99_999):
        for bins in range(2, 10):
            ranks = np.random.default_rng(n).permutation(n) + 1.0
            expected = np.quantile(ranks, _quantiles(bins))
            assert np.array_equal(_first_rank_edges(n, bins), expected)
    edges = _first_rank_edges(1, 5)
    assert _scores_first(np.array([4.0]), 5, edges).tolist() == [3]
