"""The shared fitting machinery: row compression, the analytic-Hessian hook, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.analytics import _optimize
from crmcore.analytics._optimize import compress_rows


def reference(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The definition: distinct rows of the stacked columns in sorted order, with counts."""
    stacked = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return tuple(unique[:, i] for i in range(len(columns))), counts.astype(np.float64)


columns_strategy = st.integers(1, 4).flatmap(
    lambda k: st.integers(1, 300).flatmap(
        lambda n: st.lists(
            st.lists(
                st.one_of(
                    st.integers(0, 6).map(float),
                    st.sampled_from([0.5, 1 / 7, 3 / 7, 1e12, 2.0**60]),
                    st.floats(0, 50, allow_nan=False),
                ),
                min_size=n,
                max_size=n,
            ),
            min_size=k,
            max_size=k,
        )
    )
)


@given(columns=columns_strategy)
@settings(max_examples=200, deadline=None)
def test_compression_equals_the_sorted_distinct_rows(columns: list[list[float]]) -> None:
    arrays = [np.array(c) for c in columns]
    (rows, counts), (expected, expected_counts) = compress_rows(*arrays), reference(*arrays)
    assert np.array_equal(counts, expected_counts)
    for got, want in zip(rows, expected, strict=True):
        assert np.array_equal(got, want)


@given(columns=columns_strategy)
@settings(max_examples=60, deadline=None)
def test_a_combined_key_past_int64_is_renumbered(columns: list[list[float]]) -> None:
    arrays = [np.array(c) for c in columns]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_optimize, "_MAX_KEY", 4)  # forces the renumbering path on tiny data
        rows, counts = compress_rows(*arrays)
    expected, expected_counts = reference(*arrays)
    assert np.array_equal(counts, expected_counts)
    for got, want in zip(rows, expected, strict=True):
        assert np.array_equal(got, want)


def test_continuous_columns_of_a_large_input_are_not_compressed() -> None:
    rng = np.random.default_rng(3)
    n = 60_000
    x = rng.integers(0, 5, n).astype(np.float64)
    t = rng.random(n) * 100  # continuous: nearly every value distinct
    (rx, rt), weights = compress_rows(x, t)
    assert len(weights) == n and (weights == 1).all()
    assert np.array_equal(rx, x) and np.array_equal(rt, t)
    days = np.floor(t)  # whole days: at most 5 x 100 distinct rows, compressed
    (rx, rd), counts = compress_rows(x, days)
    (ex, ed), expected_counts = reference(x, days)
    assert len(counts) <= 500 and counts.sum() == n
    assert np.array_equal(rx, ex) and np.array_equal(rd, ed)
    assert np.array_equal(counts, expected_counts)


def test_empty_columns() -> None:
    (a, b), weights = compress_rows(np.empty(0), np.empty(0))
    assert len(a) == len(b) == len(weights) == 0


def test_a_large_column_that_repeats_is_still_compressed() -> None:
    """The sample that spots continuous columns does not mistake repeated values for them."""
    rng = np.random.default_rng(4)
    n = 200_000
    times = rng.random(n // 8) * 100  # continuous values, but each used eight times on average
    t = rng.choice(times, n)
    x = rng.integers(0, 3, n).astype(np.float64)
    assert not _optimize._mostly_distinct(t)
    assert _optimize._mostly_distinct(rng.random(n))
    (rx, rt), counts = compress_rows(x, t)
    (ex, et), expected_counts = reference(x, t)
    assert len(counts) < n / 2
    assert np.array_equal(rx, ex) and np.array_equal(rt, et)
    assert np.array_equal(counts, expected_counts)
