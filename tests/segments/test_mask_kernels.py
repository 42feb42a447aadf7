"""The block kernels of the numpy mask and their membership plans, against plain Python."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.segments._mask_kernels import (
    AllOf,
    AnyOf,
    Buffers,
    Compare,
    Constant,
    Kernel,
    MaskGaps,
    Member,
    Missing,
    NanGaps,
    Negation,
    Rows,
    SentinelGaps,
    Stored,
    run,
)
from crmcore.segments._membership import Membership, float_membership, integer_membership

INT_DTYPES = [np.dtype(t) for t in ("int8", "int16", "int32", "int64")]
UINT_DTYPES = [np.dtype(t) for t in ("uint8", "uint16", "uint32", "uint64")]


def _fill(plan: Membership, values: np.ndarray) -> list[bool]:
    n = len(values)
    out = np.empty(n, dtype=bool)
    temps = (np.empty(n, dtype=bool), np.empty(n, dtype=bool))
    plan.fill(values, out, temps, np.empty(n, dtype=np.int64))
    return out.tolist()


@st.composite
def _int_case(draw: st.DrawFn) -> tuple[np.dtype, list[int], list[int]]:
    dtype = draw(st.sampled_from(INT_DTYPES + UINT_DTYPES))
    info = np.iinfo(dtype)
    low, high = int(info.min), int(info.max)
    edges = st.sampled_from([low, low + 1, -1, 0, 1, 2, high - 1, high])
    anywhere = st.integers(low, high)
    near = st.integers(-40, 40)
    inside = (edges | anywhere | near).filter(lambda v: low <= v <= high)
    values = draw(st.lists(inside, max_size=40))
    # few members (runs), many in a small span (table), many over a wide span (search), and
    # members outside the dtype's range (never matched)
    members = draw(
        st.lists(near, max_size=6)
        | st.lists(st.integers(-300, 300), min_size=10, max_size=60)
        | st.lists(anywhere, min_size=10, max_size=60)
        | st.lists(edges | st.integers(low - 5, high + 5), max_size=8)
    )
    return dtype, values, members


@settings(max_examples=400, deadline=None)
@given(_int_case())
def test_integer_membership_is_python_membership(
    case: tuple[np.dtype, list[int], list[int]],
) -> None:
    dtype, values, members = case
    plan = integer_membership(members, dtype)
    array = np.array(values, dtype=dtype)
    assert _fill(plan, array) == [v in set(members) for v in values]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 12), st.sets(st.integers(0, 11)), st.sampled_from(INT_DTYPES))
def test_codes_membership_within_their_domain(
    categories: int, members: set[int], dtype: np.dtype
) -> None:
    """Codes lie in -1 .. categories - 1; -1 (missing) is never a member."""
    members = {m for m in members if m < categories}
    codes = np.arange(-1, categories, dtype=dtype)
    plan = integer_membership(members, dtype, (-1, categories - 1))
    assert _fill(plan, codes) == [int(c) in members for c in codes]


def test_each_plan_is_chosen_where_it_is_cheapest() -> None:
    int64 = np.dtype(np.int64)
    assert type(integer_membership([1, 4, 6, 9], int64)).__name__ == "_Runs"
    assert type(integer_membership(range(0, 100, 3), int64)).__name__ == "_Table"
    assert type(integer_membership(range(0, 10**9, 10**7), int64)).__name__ == "_Sorted"
    assert type(integer_membership(range(0, 60, 3), np.dtype(np.int8))).__name__ == "_Runs"
    assert type(integer_membership([], int64)).__name__ == "_Nothing"
    assert type(integer_membership([0, 1], np.dtype(np.uint8), (0, 1))).__name__ == "_Everything"
    assert type(integer_membership([300], np.dtype(np.int8))).__name__ == "_Nothing"
    assert type(float_membership([float(v) for v in range(100)])).__name__ == "_Sorted"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True) | st.sampled_from([0.0, -0.0, 1.5, math.inf])),
    st.lists(st.floats(allow_nan=False) | st.sampled_from([0.0, -0.0, 1.5]), max_size=50),
)
def test_float_membership_is_python_membership(values: list[float], members: list[float]) -> None:
    plan = float_membership(members)
    assert _fill(plan, np.array(values, dtype=np.float64)) == [v in members for v in values]


# --- kernels: a random tree of tests over random columns, blocked and not ----------------

N = 37
RNG = np.random.default_rng(7)
FLOATS = np.where(RNG.random(N) < 0.2, np.nan, RNG.integers(0, 5, N).astype(np.float64))
INTS = RNG.integers(-3, 4, N).astype(np.int16)
INT_GAPS = RNG.random(N) < 0.25
TIMES = np.where(RNG.random(N) < 0.2, np.iinfo(np.int64).min, RNG.integers(0, 5, N))
MASK = RNG.random(N) < 0.5


def _leaves() -> st.SearchStrategy[tuple[Kernel, list[bool]]]:
    """A leaf kernel and its expected mask computed in plain Python (missing: false)."""
    ops = {"=": np.equal, "!=": np.not_equal, "<": np.less, ">=": np.greater_equal}
    pyops = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        ">=": lambda a, b: a >= b,
    }

    def floats(op: str, bound: int) -> tuple[Kernel, list[bool]]:
        kernel = Compare(FLOATS, ops[op], float(bound), NanGaps(FLOATS))
        return kernel, [not math.isnan(v) and pyops[op](v, bound) for v in FLOATS.tolist()]

    def ints(op: str, bound: int) -> tuple[Kernel, list[bool]]:
        kernel = Compare(INTS, ops[op], bound, MaskGaps(INT_GAPS))
        pairs = zip(INTS.tolist(), INT_GAPS.tolist(), strict=True)
        return kernel, [not gap and pyops[op](v, bound) for v, gap in pairs]

    def times(op: str, bound: int) -> tuple[Kernel, list[bool]]:
        nat = np.iinfo(np.int64).min
        kernel = Compare(TIMES, ops[op], bound, SentinelGaps(TIMES, nat + 1))
        return kernel, [v != nat and pyops[op](v, bound) for v in TIMES.tolist()]

    def member(wanted: frozenset[int], negated: bool) -> tuple[Kernel, list[bool]]:
        plan = integer_membership(wanted, INTS.dtype)
        kernel = Member(INTS, plan, negated, MaskGaps(INT_GAPS), wanted.__contains__)
        pairs = zip(INTS.tolist(), INT_GAPS.tolist(), strict=True)
        return kernel, [not gap and ((v in wanted) != negated) for v, gap in pairs]

    def missing(negated: bool) -> tuple[Kernel, list[bool]]:
        return Missing(NanGaps(FLOATS), negated), [math.isnan(v) != negated for v in FLOATS]

    op = st.sampled_from(sorted(ops))
    bound = st.integers(-4, 5)
    return st.one_of(
        st.builds(floats, op, bound),
        st.builds(ints, op, bound),
        st.builds(times, op, bound),
        st.builds(member, st.frozensets(st.integers(-5, 5)), st.booleans()),
        st.builds(missing, st.booleans()),
        st.booleans().map(lambda v: (Constant(v), [v] * N)),
        st.just((Stored(MASK), MASK.tolist())),
    )


def _combine(children: list[tuple[Kernel, list[bool]]], how: str) -> tuple[Kernel, list[bool]]:
    kernels = [k for k, _ in children]
    columns = list(zip(*(m for _, m in children), strict=True))
    if how == "and":
        return AllOf(kernels), [all(c) for c in columns]
    return AnyOf(kernels), [any(c) for c in columns]


TREES = st.recursive(
    _leaves(),
    lambda inner: (
        st.lists(inner, min_size=1, max_size=4).map(lambda c: _combine(c, "and"))
        | st.lists(inner, min_size=1, max_size=4).map(lambda c: _combine(c, "or"))
        | inner.map(lambda c: (Negation(c[0]), [not v for v in c[1]]))
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(TREES, st.integers(1, N + 5))
def test_a_tree_of_kernels_gives_the_same_mask_for_any_block_size(
    tree: tuple[Kernel, list[bool]], block: int
) -> None:
    kernel, expected = tree
    assert run(kernel, N, block).tolist() == expected
    assert run(kernel, N, N).tolist() == expected


def test_rows_gather_and_narrow() -> None:
    values = np.arange(10) * 10
    rows = Rows(2, 8)
    assert rows.of(values).tolist() == [20, 30, 40, 50, 60, 70]
    few = rows.narrow(np.array([1, 4]))
    assert few.size == 2 and few.of(values).tolist() == [30, 60]
    assert few.narrow(np.array([1])).of(values).tolist() == [60]


def test_buffers_grow_with_the_depth_of_the_tree() -> None:
    buffers = Buffers(16, depth=1)
    deep = buffers.bools(5, 4)
    assert deep.shape == (4,) and deep.dtype == np.bool_
    assert buffers.bools(5, 16).base is deep.base


def test_an_empty_frame_has_an_empty_mask() -> None:
    assert run(Constant(True), 0).shape == (0,)


@pytest.mark.parametrize("dtype", INT_DTYPES + UINT_DTYPES)
def test_comparisons_with_bounds_beyond_the_dtype(dtype: np.dtype) -> None:
    """numpy compares an int array with any Python int exactly (NEP 50), at every width."""
    info = np.iinfo(dtype)
    values = np.array([info.min, 0, info.max], dtype=dtype)
    never = MaskGaps(np.zeros(3, dtype=bool))
    above = Compare(values, np.greater, int(info.max) + 1, never)
    below = Compare(values, np.greater_equal, int(info.min) - 1, never)
    assert run(above, 3).tolist() == [False] * 3
    assert run(below, 3).tolist() == [True] * 3
