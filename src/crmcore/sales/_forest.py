"""Forests as parent-pointer arrays: roots and depths by pointer jumping, and cycles found.

Shared by the account hierarchy and the referral graph: both are forests (each node has at most
one parent) whose cycles must be refused.
"""

from __future__ import annotations

import numpy as np

from crmcore.kernel.arrays import AnyArray, BoolArray, Int64Array

__all__ = ["cycle_from", "roots_and_depths", "subtree_mask", "subtree_sums"]


def roots_and_depths(parent: Int64Array) -> tuple[Int64Array, Int64Array, BoolArray]:
    """Per node its root, its depth, and whether it is on or under a cycle (then the root and
    depth are meaningless).

    Wyllie's pointer jumping (list ranking): after ``k`` passes every pointer spans ``2**k`` steps
    or has reached its root, whose count is 0; ``⌈log₂ n⌉ + 1`` passes suffice for any depth.
    """
    n = len(parent)
    nodes = np.arange(n, dtype=np.int64)
    up = np.where(parent >= 0, parent, nodes)
    steps = (parent >= 0).astype(np.int64)
    for _ in range(max(1, n.bit_length()) + 1):
        steps = steps + steps[up]
        up = up[up]
    cyclic: BoolArray = parent[up] >= 0 if n else np.zeros(0, dtype=bool)
    return up, steps, cyclic


def cycle_from(parent: Int64Array, start: int) -> list[int]:
    """The nodes around the cycle reached from ``start``, the first repeated at the end (for an
    error message: a walk, not a batch path)."""
    seen: dict[int, int] = {}
    path: list[int] = []
    node = start
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = int(parent[node])
    return [*path[seen[node] :], node]


def subtree_sums(parent: Int64Array, depth: Int64Array, values: AnyArray) -> AnyArray:
    """Per node, the sum of ``values`` over its subtree: one ``np.add.at`` per level, deepest
    first (``values`` is copied; its dtype is kept)."""
    total = values.copy()
    for level in range(int(depth.max()) if len(depth) else 0, 0, -1):
        nodes = np.flatnonzero(depth == level)
        np.add.at(total, parent[nodes], total[nodes])
    return total


def subtree_mask(parent: Int64Array, depth: Int64Array, root: int) -> BoolArray:
    """The nodes in the subtree of ``root`` (itself included), top down, one pass per level."""
    mask = np.zeros(len(parent), dtype=bool)
    mask[root] = True
    has_parent = parent >= 0
    safe = np.where(has_parent, parent, 0)
    for _ in range(int(depth.max()) if len(depth) else 0):
        mask |= has_parent & mask[safe]
    return mask
