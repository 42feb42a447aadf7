"""Account hierarchies as arrays: pointer jumping against walking up one account at a time."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.sales.account_hierarchy import AccountHierarchy, id_positions


@st.composite
def forests(draw: st.DrawFn) -> list[int]:
    """Parent positions where every parent comes earlier (so no cycles), shuffled."""
    n = draw(st.integers(1, 40))
    parents = [-1] + [draw(st.integers(-1, i - 1)) for i in range(1, n)]
    order = draw(st.permutations(range(n)))
    where = {old: new for new, old in enumerate(order)}
    shuffled = [0] * n
    for old, parent in enumerate(parents):
        shuffled[where[old]] = -1 if parent < 0 else where[parent]
    return shuffled


def walk(parents: list[int], i: int) -> list[int]:
    chain = []
    while parents[i] >= 0:
        i = parents[i]
        chain.append(i)
    return chain


@settings(max_examples=80, deadline=None)
@given(forests(), st.data())
def test_roots_depths_subtrees_and_rollups_agree_with_walking(
    parents: list[int], data: st.DataObject
) -> None:
    ids = tuple(f"a{i}" for i in range(len(parents)))
    h = AccountHierarchy(ids, np.array(parents))
    values = data.draw(st.lists(st.integers(0, 100), min_size=len(ids), max_size=len(ids)))
    totals = h.rollup(values)
    for i in range(len(ids)):
        chain = walk(parents, i)
        assert h.depth[i] == len(chain)
        assert h.root[i] == (chain[-1] if chain else i)
        assert h.ancestors(ids[i]) == tuple(ids[j] for j in chain)
        below = [j for j in range(len(ids)) if j == i or i in walk(parents, j)]
        assert h.subtree(ids[i]) == tuple(ids[j] for j in below)
        assert totals[i] == sum(values[j] for j in below)
        assert h.children(ids[i]) == tuple(ids[j] for j, p in enumerate(parents) if p == i)


@settings(max_examples=40, deadline=None)
@given(forests(), st.data())
def test_any_extra_edge_that_closes_a_loop_is_found(
    parents: list[int], data: st.DataObject
) -> None:
    n = len(parents)
    child = data.draw(st.integers(0, n - 1))
    below = [j for j in range(n) if j == child or child in walk(parents, j)]
    target = data.draw(st.sampled_from(below))  # hang the child under its own descendant
    broken = list(parents)
    broken[child] = target
    ids = tuple(f"a{i}" for i in range(n))
    with pytest.raises(ValidationError, match="the hierarchy has a cycle") as error:
        AccountHierarchy(ids, np.array(broken))
    assert error.value.field == "parent_id"


def test_lifted_pairs_count_a_member_once_per_subtree() -> None:
    h = AccountHierarchy.from_parents({"g": None, "a": "g", "b": "g"})
    accounts, items = h.lift_pairs(np.array([1, 2, 0]), np.array([7, 7, 7]))
    assert sorted(zip(accounts.tolist(), items.tolist(), strict=True)) == [(0, 7), (1, 7), (2, 7)]


def test_lookups_and_errors() -> None:
    h = AccountHierarchy.from_parents({"g": None, "a": "g"})
    assert h.positions(["a", "zz", "g"]).tolist() == [1, -1, 0]
    assert id_positions([], ["a"]).tolist() == [-1]
    # exact: numpy's own comparison takes "x\x00z" for "x\x00y"
    assert id_positions(["x\x00y", "b"], ["x\x00z", "x\x00y", "b"]).tolist() == [-1, 0, 1]
    # an id listed twice is found at its first position
    assert id_positions(["b", "a", "b"], ["b", "a", "c"]).tolist() == [0, 1, -1]
    with pytest.raises(NotFoundError):
        h.position("zz")
    with pytest.raises(ValidationError, match="names no known account"):
        AccountHierarchy.from_parents({"a": "ghost"})
    with pytest.raises(ValidationError):
        h.rollup([1])
    assert h.rollup(np.array([1.5, 2.0])).tolist() == [3.5, 2.0]


def test_wrong_arguments_are_refused_naming_them() -> None:
    h = AccountHierarchy.from_parents({"group": None, "eu": "group"})
    with pytest.raises(ValidationError, match="lone surrogate") as error:
        id_positions(["a"], ["\ud800"])
    assert error.value.field == "wanted"
    with pytest.raises(ValidationError) as error:
        h.lift_pairs(np.array([5]), np.array([0]))
    assert error.value.field == "accounts"
    with pytest.raises(ValidationError) as error:
        AccountHierarchy(("a", "b"), np.array([np.nan, -1.0]))  # type: ignore[arg-type]
    assert error.value.field == "parent"
    with pytest.raises(ValidationError, match="must be numbers"):
        h.rollup(np.array(["1", "2"]))
