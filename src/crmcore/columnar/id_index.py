"""Rows of string ids, found a million at a time: a vectorised hash join.

Analytics join a caller's list of customer ids (a population, a frame) to the ids of a log, a
million or more at a time. A Python dict costs about a microsecond per id there (a fresh ``str``
object per id, a hash, a cache miss), and sorting numpy's variable-width strings costs more
still (a sort and ``searchsorted`` of a million ``StringDType`` ids takes seconds).
[`IdIndex`][crmcore.columnar.id_index.IdIndex] works on fixed-width bytes instead:

1. each id, with a ``\\x01`` appended (numpy reads trailing NULs as padding, even in
   ``StringDType``: without the mark ``"a"`` and ``"a\\x00"`` would be the same bytes),
   becomes ASCII bytes of one width (a multiple of 8 that holds the longest), read as 64-bit
   words and hashed a word at a time (multiply-xorshift with the Fibonacci-hashing constant,
   MurmurHash3's finaliser);
2. the indexed ids are inserted into an open-addressing table of at least four times their number
   with linear probing, all at once by rounds of scatter and check: an id that finds its slot
   taken moves one slot on in the next round, and one that meets its own bytes there is a
   duplicate (a [`ValidationError`][crmcore.kernel.errors.ValidationError] naming it);
3. the ids looked up take the same rounds of gather and compare. A match is decided on the
   words themselves, so a hash collision costs a round, never a wrong row. An empty slot reads
   a sentinel row of ``0xFF`` bytes, which no ASCII id equals, so the first probe of every id
   is one gather of the table and one of the words, with no masking.

Ids that are not ASCII (on either side) are matched by a dict built once per index instead.
Nothing here compares ``StringDType`` values with ``==``: numpy 2.4 stops such comparisons at
the first NUL (``"x\\x00y" == "x\\x00z"`` is true there).
An index is immutable and can be kept: a log keeps the one of its customer ids
([`TransactionLog.customer_index`][crmcore.columnar.frame.TransactionLog]).

Examples:
    >>> import numpy as np
    >>> from crmcore.columnar import STRING_DTYPE
    >>> from crmcore.columnar.id_index import IdIndex
    >>> index = IdIndex(np.array(["c1", "c2", "c3"], dtype=STRING_DTYPE))
    >>> index.rows(np.array(["c3", "nobody", "c1"], dtype=STRING_DTYPE)).tolist()
    [2, -1, 0]
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from typing import Final

import numpy as np
import numpy.typing as npt

from crmcore.columnar._layout import STRING_DTYPE
from crmcore.columnar._validation import strings_of
from crmcore.kernel.arrays import AnyArray, Int64Array
from crmcore.kernel.errors import ValidationError

__all__ = ["IdIndex", "rows_equal_to", "same_ids"]

_GOLDEN: Final = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio (Knuth's multiplicative)
_FINAL: Final = np.uint64(0xFF51AFD7ED558CCD)  # MurmurHash3 fmix64
_END: Final = "\x01"
_MIN_WIDTH: Final = 8
_ABSENT: Final = np.uint64(0xFFFF_FFFF_FFFF_FFFF)  # the sentinel word: no ASCII id has it

Words = npt.NDArray[np.uint64]


def _ids(values: object, field: str) -> AnyArray:
    """``values`` as a 1-d ``StringDType`` array: one already (kept), a ``str`` array, or a
    sequence (list, tuple, object array) of ``str``."""
    if isinstance(values, np.ndarray) and values.ndim == 1:
        if values.dtype == STRING_DTYPE:
            return values
        if values.dtype.kind == "U":
            return values.astype(STRING_DTYPE)
        if values.dtype.kind != "O":
            raise ValidationError(field, str(values.dtype), "must be str ids")
        values = values.tolist()
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
        raise ValidationError(
            field, type(values).__name__, "must be a 1-d array or list of str ids"
        )
    names = list(values)
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise ValidationError(f"{field}[{i}]", name, "must be a str id")
    return strings_of(names, field)


def _words(ids: AnyArray, width: int) -> Words | None:
    """``ids`` with ``_END`` appended, as ASCII bytes in rows of ``width`` bytes or more (a
    multiple of 8 that holds the longest), read as 64-bit words; ``None`` if an id is not ASCII.

    The width comes from the marked ids' lengths, never from trying a cast: a cast to a width
    that is too short cuts ids silently, and an id with a NUL where the cut falls would look
    whole. (The lengths are taken after marking: numpy's ``str_len`` leaves trailing NULs out.)
    """
    marked = np.strings.add(ids, _END)
    longest = int(np.strings.str_len(marked).max()) if len(ids) else 0
    width = max(width, (longest + 7) // 8 * 8)
    try:
        raw = marked.astype(f"S{width}")  # ASCII: one byte a character, NULs inside kept
    except UnicodeEncodeError:
        return None
    words: Words = raw.view(np.uint64).reshape(len(ids), width // 8)
    return words


def _hash(words: Words) -> Words:
    h = words[:, 0] * _GOLDEN
    for j in range(1, words.shape[1]):
        h ^= h >> np.uint64(29)
        h += words[:, j]
        h *= _GOLDEN
    h ^= h >> np.uint64(32)
    h *= _FINAL
    h ^= h >> np.uint64(29)
    return h


def _slots(words: Words, bits: int) -> npt.NDArray[np.intp]:
    slots: npt.NDArray[np.intp] = (_hash(words) >> np.uint64(64 - bits)).astype(np.intp)
    return slots


def _same(a: Words, b: Words) -> npt.NDArray[np.bool_]:
    """Row-wise equality of two word matrices of one width."""
    equal: npt.NDArray[np.bool_] = a[:, 0] == b[:, 0]
    for j in range(1, a.shape[1]):
        equal &= a[:, j] == b[:, j]
    return equal


def _insert(words: Words, bits: int) -> tuple[npt.NDArray[np.int32], int]:
    """The table: slot -> row of ``words`` (-1: empty), filled by rounds of scatter and check,
    and the row of an id found twice (-1: none; the table is then incomplete).

    Two equal ids start from the same slot and move in step, so they always meet: the one
    that loses a slot to its twin is the duplicate.
    """
    mask = (1 << bits) - 1
    table = np.full(1 << bits, -1, dtype=np.int32)
    pending = np.arange(len(words), dtype=np.int32)
    slot = _slots(words, bits)
    table[slot] = pending  # an empty table: every id writes, one per slot wins
    while True:
        owner = table[slot]
        lost = np.flatnonzero(owner != pending)
        if not len(lost):
            return table, -1
        pending, slot, owner = pending[lost], slot[lost], owner[lost]
        twin = _same(np.take(words, owner, axis=0), np.take(words, pending, axis=0))
        if twin.any():
            return table, int(pending[np.argmax(twin)])
        slot += 1
        slot &= mask
        free = table[slot] < 0
        table[slot[free]] = pending[free]


def _look_up(table: npt.NDArray[np.int32], words: Words, probe: Words, bits: int) -> Int64Array:
    """Each probed id's row in ``words`` (-1: absent), by the probes ``_insert`` made.

    ``words`` ends with the sentinel row, which an empty slot (-1) reads.
    """
    mask = (1 << bits) - 1
    slot = _slots(probe, bits)
    owner = table[slot]
    # the first probe of every id at once, without subsetting (most ids end here)
    found = _same(np.take(words, owner, axis=0), probe)
    out: Int64Array = owner.astype(np.int64)
    out[~found] = -1
    found |= owner < 0  # an empty slot ends the search too
    pending = np.flatnonzero(~found)
    slot, probe = slot[pending], probe[pending]
    while len(pending):
        slot += 1
        slot &= mask
        owner = table[slot]
        taken = np.flatnonzero(owner >= 0)
        same = _same(np.take(words, owner[taken], axis=0), np.take(probe, taken, axis=0))
        hit = taken[same]
        out[pending[hit]] = owner[hit]
        go = taken[~same]
        pending, slot, probe = pending[go], slot[go], probe[go]
    return out


class IdIndex:
    """Distinct string ids and their rows, for finding many ids at once (see the module docs).

    Built from distinct ids (a 1-d ``StringDType`` or ``str`` array, or a sequence of ``str``:
    a ``StringDType`` array is kept, not copied, so do not change it); a repeated id raises
    [`ValidationError`][crmcore.kernel.errors.ValidationError] naming ``field`` and the id.
    Building one costs a few tenths of a second per million ids; keep it to look up many times.
    """

    __slots__ = ("_bits", "_by_name", "_ids", "_table", "_words")

    def __init__(self, ids: AnyArray | Sequence[str], field: str = "ids") -> None:
        self._ids = _ids(ids, field)
        ids = self._ids
        self._by_name: dict[str, int] | None = None
        words = _words(ids, _MIN_WIDTH)
        self._bits = max(4, (4 * len(ids)).bit_length())  # a quarter full at most
        self._words: Words | None = None
        self._table: npt.NDArray[np.int32] | None = None
        if words is None:  # not ASCII: a dict, checked for repeats as it is built
            self._dictionary(field)
            return
        table, twin = _insert(words, self._bits)
        if twin >= 0:
            raise ValidationError(field, str(ids[twin]), "lists an id twice")
        self._table = table
        self._words = np.concatenate([words, np.full((1, words.shape[1]), _ABSENT)])

    def _dictionary(self, field: str = "ids") -> dict[str, int]:
        if self._by_name is None:
            names = self._ids.tolist()
            by_name = dict(zip(names, range(len(names)), strict=True))
            if len(by_name) != len(names):
                seen: set[str] = set()
                for name in names:
                    if name in seen:
                        raise ValidationError(field, name, "lists an id twice")
                    seen.add(name)
            self._by_name = by_name
        return self._by_name

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def ids(self) -> AnyArray:
        """The indexed ids (``StringDType``, read-only view), row by row."""
        view = self._ids.view()
        view.flags.writeable = False
        return view

    def rows_of_index(self, other: IdIndex) -> Int64Array:
        """For each id of ``other`` (in its row order), its row here, or -1: `rows` of
        ``other.ids``, reusing the bytes ``other`` already holds (no conversion of the ids)."""
        if not isinstance(other, IdIndex):
            raise ValidationError("other", type(other).__name__, "must be an IdIndex")
        words, table, theirs = self._words, self._table, other._words
        if words is None or table is None or theirs is None:
            return self.rows(other._ids)
        probe = theirs[:-1]  # without the sentinel row
        if not len(self._ids) or not len(probe):
            return np.full(len(probe), -1, dtype=np.int64)
        return self._probe(table, words, probe)

    def _probe(self, table: npt.NDArray[np.int32], words: Words, probe: Words) -> Int64Array:
        """The rows of marked ids ``probe`` (any width) in this index."""
        width = words.shape[1]
        if probe.shape[1] < width:  # shorter rows: zero padding, as a cast to the width gives
            pad = np.zeros((len(probe), width - probe.shape[1]), dtype=np.uint64)
            probe = np.concatenate([probe, pad], axis=1)
        if probe.shape[1] == width:
            return _look_up(table, words, np.ascontiguousarray(probe), self._bits)
        # some ids are longer than every indexed one: absent; the others fit the index's width
        longer = probe[:, width:].any(axis=1)
        out = _look_up(table, words, np.ascontiguousarray(probe[:, :width]), self._bits)
        out[longer] = -1
        return out

    def rows(self, ids: AnyArray | Sequence[str]) -> Int64Array:
        """For each of ``ids`` (as for building), its row here, or -1."""
        wanted = _ids(ids, "ids")
        if not len(self._ids) or not len(wanted):
            return np.full(len(wanted), -1, dtype=np.int64)
        words, table = self._words, self._table
        probe = None if words is None else _words(wanted, 8 * words.shape[1])
        if words is None or table is None or probe is None:
            index = self._dictionary()
            return np.fromiter(
                map(index.get, wanted.tolist(), repeat(-1)), dtype=np.int64, count=len(wanted)
            )
        return self._probe(table, words, probe)


def rows_equal_to(ids: AnyArray, wanted: str) -> Int64Array:
    """The rows of ``ids`` (a 1-d ``StringDType`` array) that equal ``wanted``, exactly.

    numpy 2.4 compares ``StringDType`` values of one length only up to their first NUL, so
    with a NUL in ``wanted`` the rows numpy finds are checked one by one.
    """
    hits: Int64Array = np.flatnonzero(ids == np.array(wanted, dtype=STRING_DTYPE))
    if "\x00" in wanted and len(hits):
        exact = [str(ids[i]) == wanted for i in hits.tolist()]
        hits = hits[np.array(exact, dtype=bool)]
    return hits


def same_ids(a: AnyArray, b: AnyArray) -> bool:
    """Whether two 1-d ``StringDType`` arrays hold the same ids in the same order, exactly
    (numpy's ``array_equal`` takes ``"x\\x00y"`` for ``"x\\x00z"``)."""
    if a.shape != b.shape or not np.array_equal(a, b):
        return False
    left = _words(a, 8)
    right = None if left is None else _words(b, 8 * left.shape[1])
    if left is None or right is None:
        return bool(a.tolist() == b.tolist())
    return left.shape == right.shape and bool(np.array_equal(left, right))
