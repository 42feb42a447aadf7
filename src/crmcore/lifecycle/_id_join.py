"""Row positions of one list of string ids in another: a vectorised hash join.

[`classify_log()`][crmcore.lifecycle.policy_batch.classify_log] places the customers of a
log in a caller's population list of a million ids or more. A Python dict costs about a
microsecond per id there (a fresh ``str`` object per id, a hash, a cache miss) and sorting
numpy's variable-width strings costs more still (a sort and ``searchsorted`` of a million
``StringDType`` ids takes seconds), so ``positions()`` works on fixed-width bytes instead:

1. each id, with a ``\\x01`` appended (numpy reads trailing NULs as padding, even in
   ``StringDType``: without the mark ``"a"`` and ``"a\\x00"`` would be the same bytes),
   becomes ASCII bytes of one width, hashed 8 bytes at a time (multiply-xorshift with the
   Fibonacci-hashing constant, MurmurHash3's finaliser);
2. the population is inserted into an open-addressing table of at least twice its size
   with linear probing, all ids at once by rounds of scatter and check: an id that finds
   its slot taken moves one slot on in the next round, and one that meets its own bytes
   there is a duplicate (a [`ValidationError`][crmcore.kernel.errors.ValidationError]
   naming it);
3. the other ids are looked up by the same rounds of gather and compare, a match decided
   on the bytes themselves, so a hash collision costs a round, never a wrong row.

Ids that are not ASCII return ``None``: the caller then uses a dict.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from crmcore.kernel.arrays import AnyArray, Int64Array
from crmcore.kernel.errors import ValidationError

__all__ = ["positions"]

_GOLDEN: Final = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio (Knuth's multiplicative)
_FINAL: Final = np.uint64(0xFF51AFD7ED558CCD)  # MurmurHash3 fmix64


_END: Final = "\x01"
_MIN_WIDTH: Final = 16


def _ascii(ids: AnyArray, width: int) -> npt.NDArray[np.bytes_] | None:
    """``ids`` with ``_END`` appended as ASCII bytes of ``width`` or more (doubled until all
    fit), or ``None`` if an id is not ASCII."""
    marked = np.strings.add(ids, _END)
    while True:
        try:
            raw: npt.NDArray[np.bytes_] = marked.astype(f"S{width}")
        except UnicodeEncodeError:
            return None
        if not len(raw) or not raw.view(np.uint8).reshape(len(raw), width)[:, -1].any():
            return raw  # the last byte is padding everywhere: nothing was cut
        width *= 2


def _hash(raw: npt.NDArray[np.bytes_]) -> npt.NDArray[np.uint64]:
    width = raw.dtype.itemsize
    words = raw.view(np.uint64).reshape(len(raw), width // 8)
    h = words[:, 0] * _GOLDEN
    for j in range(1, width // 8):
        h ^= h >> np.uint64(29)
        h += words[:, j]
        h *= _GOLDEN
    h ^= h >> np.uint64(32)
    h *= _FINAL
    h ^= h >> np.uint64(29)
    return h


def positions(population: AnyArray, ids: AnyArray, field: str = "population") -> Int64Array | None:
    """For each of ``ids``, its row in ``population`` (-1 where absent); ``None`` when an id
    is not ASCII. Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] (naming
    ``field`` and the id) when ``population`` lists an id twice."""
    if not len(population):
        return np.full(len(ids), -1, dtype=np.int64)
    known = _ascii(population, _MIN_WIDTH)
    wanted = None if known is None else _ascii(ids, known.dtype.itemsize)
    if known is None or wanted is None:
        return None
    width = max(known.dtype.itemsize, wanted.dtype.itemsize)
    known, wanted = known.astype(f"S{width}", copy=False), wanted.astype(f"S{width}", copy=False)
    bits = max(4, (2 * len(known)).bit_length())
    table, twin = _insert(known, bits)
    if twin >= 0:
        raise ValidationError(field, str(population[twin]), "lists an id twice")
    return _look_up(table, known, wanted, bits)


def _slots(raw: npt.NDArray[np.bytes_], bits: int) -> npt.NDArray[np.intp]:
    slots: npt.NDArray[np.intp] = (_hash(raw) >> np.uint64(64 - bits)).astype(np.intp)
    return slots


def _insert(known: npt.NDArray[np.bytes_], bits: int) -> tuple[npt.NDArray[np.int32], int]:
    """The table: slot -> row of ``known`` (-1: empty), filled by rounds of scatter and check,
    and the row of an id found twice (-1: none; the table is then incomplete).

    Two equal ids start from the same slot and move in step, so they always meet: the one
    that loses a slot to its twin is the duplicate.
    """
    mask = (1 << bits) - 1
    table = np.full(1 << bits, -1, dtype=np.int32)
    values = known.view(f"V{known.dtype.itemsize}")
    pending = np.arange(len(known), dtype=np.int32)
    slot = _slots(known, bits)
    table[slot] = pending  # an empty table: every id writes, one per slot wins
    while True:
        owner = table[slot]
        lost = np.flatnonzero(owner != pending)
        if not len(lost):
            return table, -1
        pending, slot, owner = pending[lost], slot[lost], owner[lost]
        twin = values[owner] == values[pending]
        if twin.any():
            return table, int(pending[np.argmax(twin)])
        slot += 1
        slot &= mask
        free = table[slot] < 0
        table[slot[free]] = pending[free]


def _look_up(
    table: npt.NDArray[np.int32],
    known: npt.NDArray[np.bytes_],
    wanted: npt.NDArray[np.bytes_],
    bits: int,
) -> Int64Array:
    """Each wanted id's row in ``known`` (-1: absent), by the probes ``_insert`` made."""
    mask = (1 << bits) - 1
    width = known.dtype.itemsize
    values = known.view(f"V{width}")
    probe = wanted.view(f"V{width}")
    slot = _slots(wanted, bits)
    owner = table[slot]
    # the first probe of every id at once, without subsetting (most ids end here)
    found = values[np.maximum(owner, 0)] == probe
    found &= owner >= 0
    out: Int64Array = np.where(found, owner, -1).astype(np.int64)
    pending = np.flatnonzero(~found & (owner >= 0))
    slot, probe = slot[pending], probe[pending]
    while len(pending):
        slot += 1
        slot &= mask
        owner = table[slot]
        taken = np.flatnonzero(owner >= 0)
        same = values[owner[taken]] == probe[taken]
        hit = taken[same]
        out[pending[hit]] = owner[hit]
        go = taken[~same]
        pending, slot, probe = pending[go], slot[go], probe[go]
    return out
