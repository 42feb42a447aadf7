"""Membership of a block of numbers in a fixed set: the plans behind ``in`` on numeric columns.

[`integer_membership()`][crmcore.segments._membership.integer_membership] plans the test
``value in {members}`` for an integer array of any width (category codes, int columns, the
``int64`` view of datetimes and dates, the ``uint8`` view of bools);
[`float_membership()`][crmcore.segments._membership.float_membership] for a float array. A plan
fills one block's result; the block runner of
[`crmcore.segments._mask_kernels`][crmcore.segments._mask_kernels] calls it block by block.

Three plans, chosen by an estimate of the bytes each touches per row:

* **runs**: the sorted members become runs of consecutive integers, each one or two
  comparisons (``== a``, ``<= b``, ``>= a``, ``a <= x <= b``, and ``0 <= x <= b`` as one unsigned
  comparison); a comparison streams the block once at memory speed, so a few of them beat any
  lookup (``np.take`` gathers one value at a time: some seven comparisons per row);
* **table**: a boolean lookup table over the members' span, indexed by ``value - shift`` with
  ``np.take(..., mode="clip")`` and a ``False`` sentinel at both ends, so values outside the span
  (even those that wrap around when shifted) land on a sentinel;
* **sorted**: ``np.searchsorted`` into the sorted members, for a large set over a wide span.

Values outside the declared *domain* (e.g. codes outside ``-1 .. categories - 1``) never occur,
so a run that reaches the end of the domain needs only one comparison.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Final

import numpy as np

from crmcore.kernel.arrays import AnyArray, BoolArray, Int64Array

__all__ = ["Membership", "float_membership", "integer_membership"]

_TABLE_COST: Final = 56.0
"""What a table lookup costs per row (``np.take`` gathers one value at a time: some seven
``int64`` comparisons); a plan of comparisons up to this cost is chosen instead."""
_TABLE_ENTRIES: Final = 1 << 20
"""The largest lookup table (entries); wider sets are searched."""
_FLOAT_VALUES: Final = 32
"""The most float members tested by ``==`` one by one; more are searched."""
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1

Temps = tuple[BoolArray, BoolArray]
"""Two block-sized bool buffers a plan may write."""


class Membership(ABC):
    """A plan for ``value in members`` over one block of values."""

    cost: float = 0.0
    """Estimated bytes touched per row (to order the tests of an ``and``)."""

    @abstractmethod
    def fill(self, values: AnyArray, out: BoolArray, temps: Temps, index: Int64Array) -> None:
        """Write ``values in members`` into ``out``; ``temps`` and ``index`` are scratch."""


class _Nothing(Membership):
    def fill(self, values: AnyArray, out: BoolArray, temps: Temps, index: Int64Array) -> None:
        out.fill(False)


class _Everything(Membership):
    def fill(self, values: AnyArray, out: BoolArray, temps: Temps, index: Int64Array) -> None:
        out.fill(True)


# One comparison of a run's test: (ufunc, bound, the dtype to view the values as, or None).
_Step = tuple[np.ufunc, float, "np.dtype[np.generic] | None"]


class _Runs(Membership):
    """Each run tested by one comparison or two (and-ed), the runs or-ed together."""

    def __init__(self, tests: list[tuple[_Step, ...]], itemsize: int) -> None:
        self.tests = tuple(tests)
        self.cost = sum(len(t) * itemsize + len(t) - 1 for t in tests) + len(tests) - 1.0

    def fill(self, values: AnyArray, out: BoolArray, temps: Temps, index: Int64Array) -> None:
        either, both = temps
        for i, test in enumerate(self.tests):
            target = out if i == 0 else either
            for j, (compare, bound, view) in enumerate(test):
                seen = values if view is None else values.view(view)
                compare(seen, bound, out=both if j else target)
            if len(test) == 2:
                np.logical_and(target, both, out=target)
            if i:
                np.logical_or(out, either, out=out)


class _Table(Membership):
    """A bool table over ``shift .. shift + len - 1`` with a False entry at both ends."""

    def __init__(self, members: list[int], direct: bool) -> None:
        # direct: the members start at 1 or later and the values are intp already, so the
        # values index a table that starts at 0 (negatives clip onto its False entry 0).
        self.shift = 0 if direct else members[0] - 1
        self.direct = direct
        self.table = np.zeros(members[-1] - self.shift + 2, dtype=bool)
        self.table[np.array(members, dtype=np.int64) - self.shift] = True
        self.cost = _TABLE_COST if direct else _TABLE_COST + 8.0

    def fill(self, values: AnyArray, out: BoolArray, temps: Temps, index: Int64Array) -> None:
        if self.direct:
            np.take(self.table, values, out=out, mode="clip")
            return
        # In int64 arithmetic the shift is a bijection modulo 2**64, so only the members land
        # inside the table; everything else clips onto a False end.
        np.subtract(values, self.shift, out=index, dtype=np.int64, casting="unsafe")
        np.take(self.table, index, out=out, mode="clip")


class _Sorted(Membership):
    """A binary search of each value among the sorted members."""

    def __init__(self, keys: AnyArray) -> None:
        self.keys = keys
        self.cost = 64.0 * math.log2(len(keys) + 1)  # a branchy search per row

    def fill(self, values: AnyArray, out: BoolArray, temps: Temps, index: Int64Array) -> None:
        found = np.searchsorted(self.keys, values)
        np.minimum(found, len(self.keys) - 1, out=found)
        np.equal(self.keys[found], values, out=out)


def _runs(members: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    first = last = members[0]
    for m in members[1:]:
        if m == last + 1:
            last = m
        else:
            runs.append((first, last))
            first = last = m
    runs.append((first, last))
    return runs


def integer_membership(
    members: Iterable[int],
    dtype: np.dtype[np.generic],
    domain: tuple[int, int] | None = None,
) -> Membership:
    """The cheapest plan for ``value in members`` over integer values of ``dtype``.

    ``domain`` is the range the values can take (default: all of ``dtype``); members outside
    it are dropped. The plan is exact for every value of ``dtype``, inside the domain or not,
    except that a run reaching an end of the domain is open-ended.

    Examples:
        >>> plan = integer_membership([1, 2, 3, 9], np.dtype(np.int16))
        >>> values = np.array([0, 1, 3, 4, 9, -1], dtype=np.int16)
        >>> out = np.empty(6, dtype=bool)
        >>> temps = (np.empty(6, dtype=bool), np.empty(6, dtype=bool))
        >>> plan.fill(values, out, temps, np.empty(6, dtype=np.int64))
        >>> out.tolist()
        [False, True, True, False, True, False]
    """
    info = np.iinfo(dtype)  # type: ignore[type-var]
    low, high = (int(info.min), int(info.max)) if domain is None else domain
    low, high = max(low, int(info.min)), min(high, int(info.max))
    kept = sorted({int(m) for m in members if low <= m <= high})
    if not kept:
        return _Nothing()
    unsigned = np.dtype(f"u{dtype.itemsize}") if dtype.kind == "i" else None
    tests: list[tuple[_Step, ...]] = []
    for first, last in _runs(kept):
        if first <= low and last >= high:
            return _Everything()
        if first == last:
            tests.append(((np.equal, first, None),))
        elif first <= low:  # nothing below the run: one comparison
            tests.append(((np.less_equal, last, None),))
        elif last >= high:  # nothing above it
            tests.append(((np.greater_equal, first, None),))
        elif first == 0 and unsigned is not None:  # negatives are huge when seen unsigned
            tests.append(((np.less_equal, last, unsigned),))
        else:
            tests.append(((np.greater_equal, first, None), (np.less_equal, last, None)))
    runs = _Runs(tests, dtype.itemsize)
    if runs.cost <= _TABLE_COST:
        return runs
    if kept[0] >= 1 and kept[-1] + 2 <= _TABLE_ENTRIES and dtype == np.dtype(np.intp):
        return _Table(kept, direct=True)
    if kept[-1] - kept[0] + 3 <= _TABLE_ENTRIES and _INT64_MIN < kept[0] <= _INT64_MAX:
        return _Table(kept, direct=False)
    return _Sorted(np.array(kept, dtype=dtype))


def float_membership(members: Iterable[float]) -> Membership:
    """The plan for ``value in members`` over ``float64`` values (``NaN`` is never a member).

    Examples:
        >>> plan = float_membership([0.5, 2.0])
        >>> out = np.empty(3, dtype=bool)
        >>> temps = (np.empty(3, dtype=bool), np.empty(3, dtype=bool))
        >>> plan.fill(np.array([2.0, np.nan, 1.0]), out, temps, np.empty(3, dtype=np.int64))
        >>> out.tolist()
        [True, False, False]
    """
    kept = sorted({float(m) for m in members if not math.isnan(m)})
    if not kept:
        return _Nothing()
    if len(kept) <= _FLOAT_VALUES:
        return _Runs([((np.equal, v, None),) for v in kept], 8)
    return _Sorted(np.array(kept, dtype=np.float64))
