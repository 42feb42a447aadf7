"""Block kernels of the numpy segment mask: a resolved rule as a tree of per-block tests.

[`MaskEvaluator`][crmcore.segments.evaluate_batch.MaskEvaluator] compiles a resolved rule
([`crmcore.segments.resolved`][crmcore.segments.resolved]) into
[`Kernel`][crmcore.segments._mask_kernels.Kernel]s, and
[`run()`][crmcore.segments._mask_kernels.run] evaluates them over the rows in blocks of
[`BLOCK_ROWS`][crmcore.segments._mask_kernels.BLOCK_ROWS]:

* every leaf writes into a block-sized buffer that stays in the CPU cache (``out=`` everywhere,
  no full-length temporary), and ``and``/``or``/``not`` combine block by block;
* an ``and`` runs its cheapest tests first and stops on a block as soon as it is all false;
  once few rows of the block are left, the remaining tests run on those rows only (gathered),
  so an expensive test after a selective one costs next to nothing. An ``or`` does the same
  with the rows still false.

Missing values follow the null semantics of [`crmcore.segments.rules`][crmcore.segments.rules]:
a leaf is false on a missing value and ``not`` is the plain complement. Each value source
carries its [`Gaps`][crmcore.segments._mask_kernels.Gaps] — a mask, ``NaN``, or a sentinel
(``NaT``, code ``-1``) — and a leaf excludes them only when its test could be true on the missing
marker (``NaN`` fails every comparison but ``!=``; ``NaT`` is below every instant, so
``last_purchase_at > t`` needs no exclusion at all).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Final

import numpy as np

from crmcore.kernel.arrays import AnyArray, BoolArray, Int64Array
from crmcore.segments._membership import Membership

__all__ = [
    "BLOCK_ROWS",
    "AllOf",
    "AnyOf",
    "Buffers",
    "Compare",
    "Constant",
    "Gaps",
    "Kernel",
    "MaskGaps",
    "Member",
    "Missing",
    "NanGaps",
    "Negation",
    "Rows",
    "SentinelGaps",
    "Stored",
    "run",
]

BLOCK_ROWS: Final = 131_072
"""Rows per block: a block's bool buffers (128 KB each) stay in a core's L2 cache while the
columns stream by, and the interpreter's cost per block (some 15 µs) stays a few per cent of
the block's work (64K-row blocks measured 10% slower on 1M and 10M rows, 256K no faster)."""
_GATHER_COST: Final = 2048
"""The cost of gathering one row for the remaining tests, in the units of ``Kernel.cost``
(bytes streamed per row). Scattered reads miss the cache and defeat the prefetcher: measured
on 1M rows, gathering 2% of a column cost as much as streaming all of it, so the remaining
tests run on the undecided rows only when very few are left."""
_SCAN_COST: Final = 12
"""The cost of finding the undecided rows (``np.flatnonzero``), per row of the block."""


class Rows:
    """The rows a kernel tests: a block ``lo:hi``, or some of its rows (``index``, in order)."""

    __slots__ = ("hi", "index", "lo", "size")

    def __init__(self, lo: int, hi: int, index: Int64Array | None = None) -> None:
        """Rows ``lo:hi``, or the rows ``lo + index`` when an index is given."""
        self.lo = lo
        self.hi = hi
        self.index = index
        self.size = hi - lo if index is None else len(index)

    def of(self, array: AnyArray) -> AnyArray:
        """``array`` at these rows: a view of the block, or a small gathered copy."""
        block = array[self.lo : self.hi]
        return block if self.index is None else block[self.index]

    def narrow(self, positions: Int64Array) -> Rows:
        """The rows at ``positions`` (indices into these rows)."""
        index = positions if self.index is None else self.index[positions]
        return Rows(self.lo, self.hi, index)


class Buffers:
    """Scratch arrays for one block, allocated once per evaluation and reused by every block.

    A kernel at depth ``d`` of the tree may use [`bools(d)`][crmcore.segments._mask_kernels.
    Buffers.bools] and deeper ones as temporaries; its output buffer always belongs to a
    shallower level (or is freshly allocated), so the two never alias.
    """

    def __init__(self, rows: int, depth: int = 4) -> None:
        """Buffers for blocks of up to ``rows`` rows (``depth`` levels to start with)."""
        self.rows = rows
        self._bools = [np.empty(rows, dtype=bool) for _ in range(depth)]
        self._index: Int64Array | None = None

    def bools(self, depth: int, size: int) -> BoolArray:
        """The bool buffer of ``depth``, cut to ``size``."""
        try:
            return self._bools[depth][:size]
        except IndexError:
            while len(self._bools) <= depth:
                self._bools.append(np.empty(self.rows, dtype=bool))
            return self._bools[depth][:size]

    def index(self, size: int) -> Int64Array:
        """An int64 buffer of ``size`` (table lookups)."""
        if self._index is None:
            self._index = np.empty(self.rows, dtype=np.int64)
        return self._index[:size]


# --- where values are missing ---------------------------------------------------------------


class Gaps:
    """Where a value source is missing (none at all, by default)."""

    def fill_missing(self, rows: Rows, out: BoolArray) -> None:
        """Write the missing mask of ``rows`` into ``out``."""
        out.fill(False)

    def exclude(self, rows: Rows, out: BoolArray, temp: BoolArray) -> None:
        """Set ``out`` false on the missing ``rows`` (``temp`` is scratch)."""

    def may_pass(self, test: Callable[[object], bool]) -> bool:
        """Whether ``test`` (a leaf's test of one value) could hold on a missing row."""
        return False


class MaskGaps(Gaps):
    """Missing where a bool mask says so (the stored value there is not relied upon)."""

    def __init__(self, mask: BoolArray) -> None:
        """Gaps of ``mask``."""
        self.mask = mask

    def fill_missing(self, rows: Rows, out: BoolArray) -> None:
        """The mask's rows."""
        np.copyto(out, rows.of(self.mask))

    def exclude(self, rows: Rows, out: BoolArray, temp: BoolArray) -> None:
        """``out & ~mask``, skipped for rows without a missing one."""
        gaps = rows.of(self.mask)
        if gaps.any():
            np.greater(out, gaps, out=out)  # a > b on bools is a & ~b

    def may_pass(self, test: Callable[[object], bool]) -> bool:
        """Always: the value under the mask is not part of the layout's promise."""
        return True


class NanGaps(Gaps):
    """Missing where a float array holds ``NaN``."""

    def __init__(self, values: AnyArray) -> None:
        """Gaps of the float array ``values``."""
        self.values = values

    def fill_missing(self, rows: Rows, out: BoolArray) -> None:
        """``isnan``."""
        np.isnan(rows.of(self.values), out=out)

    def exclude(self, rows: Rows, out: BoolArray, temp: BoolArray) -> None:
        """``out & ~isnan``."""
        np.isnan(rows.of(self.values), out=temp)
        np.greater(out, temp, out=out)

    def may_pass(self, test: Callable[[object], bool]) -> bool:
        """Whether ``test`` holds for ``NaN``."""
        return bool(test(float("nan")))


class SentinelGaps(Gaps):
    """Missing where an integer array is below ``bound`` (``NaT``; code ``-1``)."""

    def __init__(self, values: AnyArray, bound: int) -> None:
        """Gaps of ``values < bound``; ``bound - 1`` is the marker the layout writes."""
        self.values = values
        self.bound = bound

    def fill_missing(self, rows: Rows, out: BoolArray) -> None:
        """``values < bound``."""
        np.less(rows.of(self.values), self.bound, out=out)

    def exclude(self, rows: Rows, out: BoolArray, temp: BoolArray) -> None:
        """``out & (values >= bound)``."""
        np.greater_equal(rows.of(self.values), self.bound, out=temp)
        np.logical_and(out, temp, out=out)

    def may_pass(self, test: Callable[[object], bool]) -> bool:
        """Whether ``test`` holds for the marker."""
        return bool(test(self.bound - 1))


# --- kernels --------------------------------------------------------------------------------


class Kernel(ABC):
    """A resolved (sub-)rule, evaluated one block of rows at a time."""

    cost: float = 1.0
    """Estimated bytes touched per row: an ``and`` runs its cheapest tests first."""

    @abstractmethod
    def fill(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """Write the mask of ``rows`` into ``out``."""

    def and_into(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """``out &= `` the mask of ``rows``."""
        mine = buffers.bools(depth, rows.size)
        self.fill(rows, mine, buffers, depth + 1)
        np.logical_and(out, mine, out=out)

    def or_into(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """``out |= `` the mask of ``rows``."""
        mine = buffers.bools(depth, rows.size)
        self.fill(rows, mine, buffers, depth + 1)
        np.logical_or(out, mine, out=out)


class Constant(Kernel):
    """Always ``value``."""

    cost = 0.0

    def __init__(self, value: bool) -> None:
        """The constant ``value``."""
        self.value = value

    def fill(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """Fill with the constant."""
        out.fill(self.value)

    def and_into(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """Nothing, or clear."""
        if not self.value:
            out.fill(False)

    def or_into(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """Nothing, or set."""
        if self.value:
            out.fill(True)


class Stored(Kernel):
    """A mask computed in full beforehand (text tests, tags, shared sub-rules)."""

    cost = 1.0

    def __init__(self, mask: BoolArray) -> None:
        """Blocks of ``mask``."""
        self.mask = mask

    def fill(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """Copy the rows."""
        np.copyto(out, rows.of(self.mask))

    def and_into(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """And the rows in place."""
        np.logical_and(out, rows.of(self.mask), out=out)

    def or_into(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """Or the rows in place."""
        np.logical_or(out, rows.of(self.mask), out=out)


class Compare(Kernel):
    """``values <op> bound`` (a numpy comparison ufunc), false on the gaps."""

    def __init__(self, values: AnyArray, op: np.ufunc, bound: object, gaps: Gaps) -> None:
        """Compare ``values`` with ``bound``; exclude ``gaps`` only if the test can pass them."""
        self.values = values
        self.op = op
        self.bound = bound
        self.gaps = gaps if gaps.may_pass(lambda v: bool(op(v, bound))) else None
        self.cost = values.dtype.itemsize + (0.0 if self.gaps is None else 2.0)

    def fill(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """One comparison (and the exclusion of gaps where needed)."""
        self.op(rows.of(self.values), self.bound, out=out)
        if self.gaps is not None:
            self.gaps.exclude(rows, out, buffers.bools(depth, rows.size))

    def and_into(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """The comparison into a buffer, and-ed into ``out``."""
        mine = buffers.bools(depth, rows.size)
        self.op(rows.of(self.values), self.bound, out=mine)
        if self.gaps is not None:
            self.gaps.exclude(rows, mine, buffers.bools(depth + 1, rows.size))
        np.logical_and(out, mine, out=out)


class Member(Kernel):
    """``values in set`` (``negated``: ``not in``) by a
    [`Membership`][crmcore.segments._membership.Membership] plan, false on the gaps."""

    def __init__(
        self,
        values: AnyArray,
        plan: Membership,
        negated: bool,
        gaps: Gaps,
        member: Callable[[object], bool],
    ) -> None:
        """Test ``values`` with ``plan``; ``member(v)`` tells whether one value is in the set."""
        self.values = values
        self.plan = plan
        self.negated = negated
        self.gaps = gaps if gaps.may_pass(lambda v: member(v) != negated) else None
        self.cost = plan.cost + (1.0 if negated else 0.0) + (0.0 if self.gaps is None else 2.0)

    def fill(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """The plan, the complement for ``not in``, then the gaps."""
        size = rows.size
        temps = (buffers.bools(depth, size), buffers.bools(depth + 1, size))
        self.plan.fill(rows.of(self.values), out, temps, buffers.index(size))
        if self.negated:
            np.logical_not(out, out=out)
        if self.gaps is not None:
            self.gaps.exclude(rows, out, temps[0])


class Missing(Kernel):
    """``is null`` (``negated``: ``is not null``) of a source."""

    def __init__(self, gaps: Gaps, negated: bool) -> None:
        """Test the ``gaps`` of a source."""
        self.gaps = gaps
        self.negated = negated

    def fill(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """The missing mask, or its complement."""
        self.gaps.fill_missing(rows, out)
        if self.negated:
            np.logical_not(out, out=out)


class _Combination(Kernel):
    """``and`` (``when=True``) or ``or`` (``when=False``) of several kernels.

    The items run cheapest first; ``when`` is the value that keeps a row undecided (true rows
    of an ``and``, false rows of an ``or``). A block stops once no row is undecided, and once
    few are, the remaining items run on those rows only.
    """

    when: bool

    def __init__(self, items: Sequence[Kernel]) -> None:
        """All (``and``) or any (``or``) of ``items`` (at least one)."""
        self.items = tuple(sorted(items, key=lambda k: k.cost))
        self.cost = sum(k.cost for k in self.items)
        # the cost of the items from i on, less that of scanning for the undecided rows
        self._later = [sum(k.cost for k in self.items[i:]) - _SCAN_COST for i in range(len(items))]

    def _step(self, item: Kernel, rows: Rows, out: BoolArray, buffers: Buffers, d: int) -> None:
        if self.when:
            item.and_into(rows, out, buffers, d)
        else:
            item.or_into(rows, out, buffers, d)

    def fill(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """The first item into ``out``, then the others combined in place."""
        self.items[0].fill(rows, out, buffers, depth)
        self._rest(1, rows, out, buffers, depth)

    def and_into(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """An ``and`` combines item by item (associativity); an ``or`` through a buffer."""
        if self.when:
            self._rest(0, rows, out, buffers, depth)
        else:
            super().and_into(rows, out, buffers, depth)

    def or_into(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """An ``or`` combines item by item (associativity); an ``and`` through a buffer."""
        if self.when:
            super().or_into(rows, out, buffers, depth)
        else:
            self._rest(0, rows, out, buffers, depth)

    def _rest(self, start: int, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        items, when, size = self.items, self.when, rows.size
        for i in range(start, len(items)):
            undecided = np.count_nonzero(out) if when else size - np.count_nonzero(out)
            if undecided == 0:
                return
            if undecided * _GATHER_COST <= size * self._later[i]:
                self._gathered(items[i:], rows, out, buffers, depth)
                return
            if when:
                items[i].and_into(rows, out, buffers, depth)
            else:
                items[i].or_into(rows, out, buffers, depth)

    def _gathered(
        self, items: Sequence[Kernel], rows: Rows, out: BoolArray, buffers: Buffers, depth: int
    ) -> None:
        """Run ``items`` on the undecided rows only, and write their verdict back."""
        positions = np.flatnonzero(out if self.when else ~out)
        few = rows.narrow(positions)
        verdict = np.empty(few.size, dtype=bool)
        items[0].fill(few, verdict, buffers, depth)  # those rows are all `when` so far
        for item in items[1:]:
            if not (verdict.any() if self.when else not verdict.all()):
                break  # every row decided
            self._step(item, few, verdict, buffers, depth)
        out[positions] = verdict


class AllOf(_Combination):
    """``and``: the cheapest tests first; a block stops once it is all false."""

    when = True


class AnyOf(_Combination):
    """``or``: the cheapest tests first; a block stops once it is all true."""

    when = False


class Negation(Kernel):
    """``not``: the plain complement."""

    def __init__(self, item: Kernel) -> None:
        """The complement of ``item``."""
        self.item = item
        self.cost = item.cost + 1.0

    def fill(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """The item, inverted in place."""
        self.item.fill(rows, out, buffers, depth)
        np.logical_not(out, out=out)

    def and_into(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """``out & ~item`` in one pass (``a > b`` on bools)."""
        mine = buffers.bools(depth, rows.size)
        self.item.fill(rows, mine, buffers, depth + 1)
        np.greater(out, mine, out=out)

    def or_into(self, rows: Rows, out: BoolArray, buffers: Buffers, depth: int) -> None:
        """``out | ~item`` in one pass (``a >= b`` on bools)."""
        mine = buffers.bools(depth, rows.size)
        self.item.fill(rows, mine, buffers, depth + 1)
        np.greater_equal(out, mine, out=out)


def run(kernel: Kernel, rows: int, block: int = BLOCK_ROWS) -> BoolArray:
    """The mask of ``kernel`` over ``rows`` rows, evaluated ``block`` rows at a time."""
    out = np.empty(rows, dtype=bool)
    buffers = Buffers(max(1, min(block, rows)))
    for lo in range(0, rows, block):
        hi = min(rows, lo + block)
        kernel.fill(Rows(lo, hi), out[lo:hi], buffers, 0)
    return out
