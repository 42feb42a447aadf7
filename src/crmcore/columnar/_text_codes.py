"""Dictionary encoding of text cells in numpy: the codes of category, id and tag columns.

A cell's bytes, zero-padded to whole 64-bit words, are its exact key
([`Cells.words()`][crmcore.columnar._cells.Cells.words]); no Python object is
made per cell. `group_keys()` numbers the distinct keys in order of first
appearance, by the cheapest way the data allows:

* **runs**: when equal keys sit together and the runs come in increasing
  order (order lines sorted by order id, a log sorted by customer), one linear
  pass numbers them and proves them distinct;
* **few distinct keys** (categories): the distinct keys of the first rows,
  then one binary search per row;
* otherwise **one sort** of a 64-bit hash of the keys (a one-word key is its
  own hash), checked word by word against each group's first row, so that a
  collision can never merge two labels (it falls back to an exact sort).

Labels are decoded once per distinct key. Cells longer than
[`KEY_BYTES`][crmcore.columnar._cells.KEY_BYTES], or holding a NUL byte, have
no keys: their builder encodes their text through a dictionary instead.
"""

from __future__ import annotations

from typing import Final, NamedTuple

import numpy as np

from crmcore.columnar._cells import KEY_BYTES, Cells, UInt64Array, utf8_strings
from crmcore.columnar._validation import row_error
from crmcore.kernel.arrays import AnyArray, BoolArray, Int64Array

__all__ = [
    "Groups",
    "cell_keys",
    "check_tags",
    "group_keys",
    "key_labels",
    "split_tags",
]

_SAMPLE: Final = 8192  # rows whose distinct keys are tried as the whole dictionary
_FEW: Final = 1024  # at most this many distinct keys in the sample to try it
_PROBE: Final = 4096  # rows whose runs are checked before all are
_PACKED_ROW_BITS: Final = 24  # up to 16M rows, 40 hash bits beside the row
_TABLE_ROUNDS: Final = 8  # hash tables tried before a sort groups the rest
_PERFECT_BITS: Final = 12  # the largest table of a perfect hash for few keys (4,096 slots)
_MIX: Final = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio (Fibonacci hashing)
_BAR: Final = ord("|")
_GRID_TAGS: Final = 256  # longest tags cell checked through one fixed-width grid


class Groups(NamedTuple):
    """Distinct keys in order of first appearance."""

    codes: Int64Array
    """The group of each row (``-1`` where missing)."""
    first: Int64Array
    """The row where each group first appears."""


def cell_keys(cells: Cells) -> UInt64Array | None:
    """The exact key words of every cell, shape ``(words, n)``, or ``None`` when some cell
    is too long or holds NUL."""
    longest = int(cells.lengths.max()) if len(cells) else 0
    if longest > KEY_BYTES or cells.has_nul:
        return None
    return cells.words(max(1, -(-longest // 8)))


def key_labels(
    keys: UInt64Array, rows: Int64Array, name: str = "", report: Int64Array | None = None
) -> AnyArray:
    """The text of the keys (``(words, n)``) at ``rows``, a StringDType array.

    Bytes that are not UTF-8 are an error naming the row (``report[i]`` for
    ``rows[i]`` when given).
    """
    every = len(rows) == keys.shape[1] and (len(rows) == 0 or rows[-1] == len(rows) - 1)
    chosen = np.ascontiguousarray((keys if every else keys[:, rows]).T, dtype="<u8")
    fixed = chosen.view(f"S{8 * keys.shape[0]}").reshape(len(rows))
    strings, bad = utf8_strings(fixed)
    if bad is not None:
        value = fixed[bad].decode("utf-8", errors="replace")
        row = int((rows if report is None else report)[bad])
        raise row_error(row, name, value, "is not valid UTF-8: save the file as UTF-8")
    return strings


def group_keys(keys: UInt64Array, missing: BoolArray) -> Groups:
    """Number the distinct keys (columns of ``keys``) in order of first appearance.

    Missing rows (empty cells, whose key is all zero: no other cell's is) are
    grouped like the others, then their group is taken out.
    """
    return _without_missing(_groups(keys), missing)


def _without_missing(found: Groups, missing: BoolArray) -> Groups:
    if not missing.any():
        return found
    empty = int(found.codes[int(np.argmax(missing))])
    codes = found.codes
    codes[codes == empty] = -1
    codes[codes > empty] -= 1
    return Groups(codes, np.delete(found.first, empty))


def _groups(keys: UInt64Array) -> Groups:
    n = keys.shape[1]
    if not n:
        return Groups(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    runs = _runs(keys)
    if runs is not None:
        return runs
    hashed = _hash(keys)
    few = _few(keys, hashed)
    if few is not None:
        return few
    tabled = _table(keys, hashed)
    if tabled is not None:
        return tabled
    if n.bit_length() <= _PACKED_ROW_BITS:
        found = _sorted_packed(hashed, n.bit_length())
        if _same(keys, found):
            return _first_seen(*found)
    found = _sorted_stable(hashed)
    if _same(keys, found):
        return _first_seen(*found)
    return _exact(keys)


def _table(keys: UInt64Array, hashed: UInt64Array) -> Groups | None:
    """Groups through a hash table of rows: no sort (``None`` if collisions persist).

    Each row's slot is the top bits of its hash; ``np.minimum.at`` leaves the first
    row of each slot there. A row whose key equals that row's key belongs to it: it
    is the first row of the key, since every row of the key shares the slot. Rows
    of keys that lost their slot to another key try again, on a fresh table with
    another hash; with at least as many slots as rows few do, and fewer each round.
    """
    n = keys.shape[1]
    bits = max(n.bit_length(), 4)
    first_of = np.empty(n, dtype=np.int64)
    own = np.zeros(n, dtype=bool)  # the first row of its key
    todo = np.arange(n, dtype=np.int64)
    mixed = hashed
    for attempt in range(_TABLE_ROUNDS):
        if attempt:
            mixed = (hashed[todo] + np.uint64(attempt)) * _MIX
            mixed ^= mixed >> np.uint64(29)
        slots = (mixed >> np.uint64(64 - bits)).astype(np.int64)
        table = np.full(1 << bits, n, dtype=np.int64)
        np.minimum.at(table, slots, todo)
        candidate = table[slots]
        same = np.ones(len(todo), dtype=bool)
        for word in keys:
            same &= word[candidate] == (word if attempt == 0 else word[todo])
        found = candidate[same]
        first_of[todo[same]] = found
        own[found] = True
        todo = todo[~same]
        if not todo.size:
            break
    else:
        return None
    rank = np.cumsum(own) - 1
    return Groups(rank[first_of], np.flatnonzero(own))


def _same(keys: UInt64Array, found: tuple[Int64Array, Int64Array]) -> bool:
    """Whether every row's key equals the key of its group's first row (no hash collision)."""
    inverse, first = found
    representative = first[inverse]
    return all(bool((word[representative] == word).all()) for word in keys)


def _sorted_packed(hashed: UInt64Array, bits: int) -> tuple[Int64Array, Int64Array]:
    """Groups by the top ``64 - bits`` hash bits: one sort of (hash bits, row) packed in a word.

    A plain sort of integers is the cheapest sort numpy has; the row in the low
    bits makes equal hashes come out in row order, so each group's first row is
    its first appearance.
    """
    low = np.uint64((1 << bits) - 1)
    packed = hashed & ~low
    packed |= np.arange(len(hashed), dtype=np.uint64)
    packed.sort()
    rows = (packed & low).astype(np.int64)
    packed >>= np.uint64(bits)
    head = np.empty(len(rows), dtype=bool)
    head[0] = True
    np.not_equal(packed[1:], packed[:-1], out=head[1:])
    inverse = np.empty(len(rows), dtype=np.int64)
    inverse[rows] = np.cumsum(head) - 1
    return inverse, rows[head]


def _sorted_stable(hashed: UInt64Array) -> tuple[Int64Array, Int64Array]:
    """Groups by the whole hash: a stable sort puts each group's first row first."""
    order = np.argsort(hashed, kind="stable")
    ordered = hashed[order]
    head = np.empty(len(order), dtype=bool)
    head[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=head[1:])
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.cumsum(head) - 1
    return inverse, order[head]


def _first_seen(inverse: Int64Array, first: Int64Array) -> Groups:
    """Renumber groups (any order) so that codes follow the rows of first appearance.

    Many groups: mark their first rows and count the marks (linear); few: sort them.
    """
    n = len(inverse)
    if len(first) * 16 > n:
        marked = np.zeros(n, dtype=bool)
        marked[first] = True
        rank = np.cumsum(marked) - 1
        return Groups(rank[first][inverse], np.flatnonzero(marked))
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(first), dtype=np.int64)
    rank[order] = np.arange(len(first), dtype=np.int64)
    return Groups(rank[inverse], first[order])


def _exact(keys: UInt64Array) -> Groups:
    _, first, inverse = np.unique(keys.T, axis=0, return_index=True, return_inverse=True)
    return _first_seen(inverse.reshape(-1).astype(np.int64), first.astype(np.int64))


def _hash(keys: UInt64Array) -> UInt64Array:
    """A 64-bit hash of each key whose top bits depend on every byte (Fibonacci hashing)."""
    hashed: UInt64Array = keys[0] * _MIX
    for word in keys[1:]:
        hashed ^= word
        hashed *= _MIX
    hashed ^= hashed >> np.uint64(29)
    return hashed


def _runs(keys: UInt64Array) -> Groups | None:
    """Groups of rows with equal keys side by side, when the runs increase (else ``None``)."""
    n = keys.shape[1]
    if n > _PROBE and _runs(keys[:, :_PROBE]) is None:  # cheap refusal of unsorted keys
        return None
    change = np.empty(n, dtype=bool)
    change[0] = True
    np.not_equal(keys[0, 1:], keys[0, :-1], out=change[1:])
    for word in keys[1:]:
        change[1:] |= word[1:] != word[:-1]
    heads = np.flatnonzero(change)
    every = len(heads) == n  # each row a run of its own, as order ids of one-line orders
    big = (keys if every else keys[:, heads]).byteswap()  # first byte most significant
    larger = np.zeros(len(heads) - 1, dtype=bool)
    equal = np.ones(len(heads) - 1, dtype=bool)
    for word in big:
        before, after = word[:-1], word[1:]
        larger |= equal & (after > before)
        equal &= after == before
    if not larger.all():
        return None
    codes = heads.copy() if every else np.cumsum(change) - 1  # every: row i is run i
    return Groups(codes, heads)


def _few(keys: UInt64Array, hashed: UInt64Array) -> Groups | None:
    """Groups when the first rows hold every distinct key (categories), else ``None``.

    The distinct hashes of the first rows get a perfect hash (the fewest top
    bits that tell them apart) and a table from it to their number, so a row
    costs a shift and two lookups; without one, a binary search.
    """
    probe = hashed[:_SAMPLE]
    distinct, first = np.unique(probe, return_index=True)
    if len(distinct) > _FEW:
        return None
    at = _perfect(distinct, hashed)
    if at is None:
        at = np.searchsorted(distinct, hashed)
        np.minimum(at, len(distinct) - 1, out=at)
    if not (distinct[at] == hashed).all():
        return None
    found = (at.astype(np.int64), first.astype(np.int64))
    if keys.shape[0] > 1 and not _same(keys, found):
        return None
    return _first_seen(*found)


def _perfect(distinct: UInt64Array, hashed: UInt64Array) -> Int64Array | None:
    """The position in ``distinct`` of each hash's top bits, if few bits tell ``distinct`` apart."""
    for bits in range(max(len(distinct) - 1, 1).bit_length() + 1, _PERFECT_BITS + 1):
        shift = np.uint64(64 - bits)
        slots = distinct >> shift
        if len(np.unique(slots)) == len(distinct):
            table = np.zeros(1 << bits, dtype=np.int64)
            table[slots] = np.arange(len(distinct), dtype=np.int64)
            found: Int64Array = table[hashed >> shift]
            return found
    return None


def check_tags(cells: Cells, start: int, name: str) -> None:
    """Refuse the first cell with an empty tag: ``a||b``, or a ``|`` at either end."""
    n = len(cells)
    lengths = cells.lengths
    if not n or not lengths.any():
        return
    longest = int(lengths.max())
    if longest > _GRID_TAGS:  # long cells: look at the ones holding a bar, one by one
        texts = cells.texts(start, name)
        bad = np.array(["" in text.split("|") and bool(text) for text in texts], dtype=bool)
    else:
        bars = cells.grid(longest) == _BAR
        inside = np.arange(longest) < lengths[:, None]
        bad = (bars[:, 1:] & bars[:, :-1]).any(axis=1) | bars[:, 0]
        bad |= bars[np.arange(n), np.maximum(lengths - 1, 0)] & inside[:, 0]
    if bad.any():
        row = int(np.argmax(bad))
        raise row_error(start + row, name, "", "a tag must be non-empty and must not contain '|'")


def split_tags(cells: Cells, start: int, name: str) -> tuple[Cells, Int64Array]:
    """The tags of ``a|b|c`` cells (over the same bytes) and the number on each row.

    An empty tag (``a||b``, a trailing ``|``) is an error naming its row.
    """
    n = len(cells)
    lengths = cells.lengths
    present = lengths > 0
    grid = cells.grid(int(lengths.max()) if n else 0)
    rows, columns = np.nonzero(grid == _BAR)
    counts = np.where(present, np.bincount(rows, minlength=n) + 1, 0).astype(np.int64)
    total = int(counts.sum())
    bounds = np.cumsum(counts)
    bars = cells.starts[rows] + columns
    last = np.zeros(total, dtype=bool)
    last[bounds[present] - 1] = True
    first = np.zeros(total, dtype=bool)
    first[(bounds - counts)[present]] = True
    tag_starts = np.empty(total, dtype=np.int64)
    tag_ends = np.empty(total, dtype=np.int64)
    tag_ends[last] = cells.ends[present]
    tag_ends[~last] = bars
    tag_starts[first] = cells.starts[present]
    tag_starts[~first] = bars + 1
    empty = tag_ends == tag_starts
    if empty.any():
        row = int(np.searchsorted(bounds, int(np.argmax(empty)), side="right"))
        raise row_error(start + row, name, "", "a tag must be non-empty and must not contain '|'")
    return Cells(cells.data, tag_starts, tag_ends, False if not cells.has_nul else None), counts
