"""The array-argument checks shared by the sales and marketing batch functions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.columnar import STRING_DTYPE
from crmcore.columnar.arguments import (
    codes_in,
    float_column,
    int_column,
    same_length,
    text_column,
    time_column,
)
from crmcore.kernel.errors import ValidationError

INT64 = st.integers(-(2**63), 2**63 - 1)


@given(st.lists(INT64, max_size=20))
def test_int_column_takes_ints_lists_and_whole_floats(values: list[int]) -> None:
    got = int_column(values, "x")
    assert got.dtype == np.int64 and got.tolist() == values
    small = [v % 1000 for v in values]
    assert int_column(np.array(small, dtype=np.float64), "x").tolist() == small
    assert int_column(np.array(small, dtype=np.uint16), "x").tolist() == small


def test_an_int64_array_passes_without_a_copy() -> None:
    given_ = np.arange(5, dtype=np.int64)
    assert int_column(given_, "x") is given_


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ([1.0, 2.5], "position 1 is not a whole number"),
        ([0.0, float("nan")], "position 1 is not a whole number"),
        (np.array([2**64 - 1], dtype=np.uint64), "within int64"),
        ([2**70], "within int64"),
        ([True, False], "must be an array of counts"),
        (["1"], "must be an array of counts"),
        ("123", "one-dimensional array of counts"),
        ({1, 2}, "one-dimensional array of counts"),
        (5, "one-dimensional array of counts"),
        ([[1, 2], [3]], "must be an array of counts"),
        ([[1, 2]], "one-dimensional array of counts"),
    ],
)
def test_int_column_refuses_naming_the_argument(value: object, reason: str) -> None:
    with pytest.raises(ValidationError, match=r"^n: ") as caught:
        int_column(value, "n", what="counts")
    assert reason in str(caught.value)


def test_two_dimensional_int_columns_have_their_width() -> None:
    assert int_column([[1, 2], [3, 4]], "m", ndim=2, width=2).shape == (2, 2)
    with pytest.raises(ValidationError, match="must have 3 columns"):
        int_column([[1, 2]], "m", ndim=2, width=3)


def test_float_column_keeps_nan_unless_finite_is_asked() -> None:
    assert np.isnan(float_column([1, float("nan")], "p")[1])
    with pytest.raises(ValidationError, match=r"position 2 is not finite"):
        float_column([0.5, 1, float("inf")], "p", finite=True, what="probabilities")
    with pytest.raises(ValidationError, match="must be an array of numbers"):
        float_column(["a"], "p")
    assert float_column(np.array([2**70], dtype=object), "p")[0] == 2.0**70


def test_text_column_takes_strings_only() -> None:
    got = text_column(["a", "b"], "ids", what="ids")
    assert got.dtype == STRING_DTYPE and got.tolist() == ["a", "b"]
    assert text_column([], "ids").tolist() == []
    with pytest.raises(ValidationError, match="must be an array of ids"):
        text_column([1, 2], "ids", what="ids")  # not turned into "1", "2"
    with pytest.raises(ValidationError, match="lone surrogate"):
        text_column(["\ud800"], "ids")


def test_times_codes_and_lengths() -> None:
    days = time_column(np.array(["2026-01-01"], dtype="datetime64[D]"), "at", "us")
    assert days.dtype == np.dtype("datetime64[us]")
    with pytest.raises(ValidationError, match="datetime64"):
        time_column([1, 2], "at", "us")
    assert codes_in(np.array([0, 3]), "c", 0, 3).tolist() == [0, 3]
    with pytest.raises(ValidationError, match=r"codes in 0\.\.2"):
        codes_in(np.array([0, 3]), "c", 0, 2)
    same_length("a", 2, b=np.zeros(2))
    with pytest.raises(ValidationError, match=r"^b: .*as many rows as a \(2\)"):
        same_length("a", 2, b=np.zeros(3))
