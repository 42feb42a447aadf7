"""A perfect hash of a few distinct keys: the codes of a whole column of keys in one gather.

Category columns (currency, channel, country) hold a few distinct labels over
many rows. [`KeyTable`][crmcore.columnar._key_table.KeyTable] keeps those labels'
exact key words ([`Cells.words()`][crmcore.columnar._cells.Cells.words]) and the
fewest top bits of a multiplicative hash that tell them apart (Fibonacci hashing:
D. E. Knuth, *The Art of Computer Programming*, vol. 3, 6.4), with a table from
those bits to the label's code. A row's code then costs a multiply, a shift and a
gather, and one comparison per word proves it, so a key the table does not hold
(a label seen for the first time) is never taken for another: the lookup says so
and the caller learns the new labels.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from crmcore.columnar._cells import UInt64Array
from crmcore.kernel.arrays import BoolArray, Int64Array

__all__ = ["MAX_KEYS", "KeyTable", "first_seen"]

MAX_KEYS: Final = 1024
"""The most distinct keys a table holds (more: a column of ids, grouped by sorting)."""
_MAX_BITS: Final = 14  # the largest table: 16,384 slots
_MIX: Final = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio
_EMPTY: Final = -2  # a slot no key hashes to
_SAMPLE: Final = 4096  # rows whose keys first_seen() tries as all of them


def _mixed(keys: UInt64Array) -> UInt64Array:
    """A hash whose top bits depend on every bit of every word (multiply, fold, multiply)."""
    hashed: UInt64Array = keys[0] * _MIX
    for word in keys[1:]:
        hashed ^= word
        hashed *= _MIX
    return hashed


def first_seen(keys: UInt64Array) -> UInt64Array:
    """The distinct keys (columns) of ``keys``, in order of first appearance.

    Keys are told apart by their hash: two that collide come out as one, which the
    table built from them then fails to find (its lookup compares every word).
    Many rows of few keys (a chunk of a category column) are not sorted: the keys
    of the first `_SAMPLE` rows are looked up in all of them through a table, and
    only the rows it lacks are searched on (their keys first appear further down).
    """
    n = keys.shape[1]
    if n > 2 * _SAMPLE:
        head = first_seen(keys[:, :_SAMPLE])
        table = KeyTable.build(head, np.arange(head.shape[1], dtype=np.int64))
        if table is not None:
            _, unknown = table.lookup(keys)
            if not unknown.any():
                return head
            rest = first_seen(keys[:, unknown])
            if len(rest.T) + len(head.T) <= MAX_KEYS:
                return np.concatenate([head, rest], axis=1)
    _, first = np.unique(_mixed(keys), return_index=True)
    return np.ascontiguousarray(keys[:, np.sort(first)])


class KeyTable:
    """Distinct keys (``(words, k)``, one column each) with their codes and a perfect hash.

    Immutable: a table that learns new keys is a new table, so readers on other
    threads may hold the old one.
    """

    __slots__ = ("_shift", "_slots", "codes", "keys")

    keys: UInt64Array
    codes: Int64Array
    _shift: np.uint64
    _slots: Int64Array

    def __init__(self, keys: UInt64Array, codes: Int64Array, shift: int, slots: Int64Array):
        self.keys = keys
        self.codes = codes
        self._shift = np.uint64(shift)
        self._slots = slots

    @classmethod
    def build(cls, keys: UInt64Array, codes: Int64Array) -> KeyTable | None:
        """A table of distinct ``keys`` with ``codes`` (``None``: too many to hash perfectly)."""
        count = keys.shape[1]
        if count > MAX_KEYS:
            return None
        hashed = _mixed(keys)
        for bits in range(max(count - 1, 1).bit_length() + 1, _MAX_BITS + 1):
            slot = hashed >> np.uint64(64 - bits)
            if len(np.unique(slot)) == count:
                slots = np.full(1 << bits, _EMPTY, dtype=np.int64)
                slots[slot.astype(np.int64)] = np.arange(count, dtype=np.int64)
                return cls(keys, codes, 64 - bits, slots)
        return None

    @property
    def words(self) -> int:
        """Words per key."""
        return int(self.keys.shape[0])

    def lookup(self, keys: UInt64Array) -> tuple[Int64Array, BoolArray]:
        """The code of every key (column) of ``keys``, and where the table does not hold it."""
        n = keys.shape[1]
        if keys.shape[0] > self.words:
            longer = keys[self.words :].any(axis=0)  # longer than any key the table holds
            keys = keys[: self.words]
        else:
            longer = np.zeros(n, dtype=bool)
            if keys.shape[0] < self.words:
                wide = np.zeros((self.words, n), dtype=np.uint64)
                wide[: keys.shape[0]] = keys
                keys = wide
        at = self._slots[_mixed(keys) >> self._shift]
        unknown = at < 0
        np.maximum(at, 0, out=at)
        for word, known in zip(keys, self.keys, strict=True):
            unknown |= known[at] != word
        unknown |= longer
        codes: Int64Array = self.codes[at]
        return codes, unknown
