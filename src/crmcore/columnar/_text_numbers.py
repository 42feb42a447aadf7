"""Numbers and booleans from text cells, a whole column at a time in numpy.

* **ints**: a cell of the shape ``[+-]?[0-9]{1,18}`` is read digit column by
  digit column (Horner's rule over a fixed-width grid of the cells' bytes);
  any other cell (spaces, more digits, ``1_000``) goes through ``int()``.
* **floats**: a cell of the shape ``[+-]?[0-9]*.?[0-9]*`` whose digits make an
  integer ``m`` below 2**53 is ``m / 10**k`` with ``k`` its decimals: both are
  exact doubles, so the quotient is the correctly rounded value, the float
  ``float()`` returns (Clinger's fast path: W. D. Clinger, "How to Read
  Floating Point Numbers Accurately", PLDI 1990). Exponents, ``inf``, ``nan``
  and longer mantissas go through ``float()``.
* **bools**: the cell's bytes as one integer, looked up among the spellings
  ``true``/``True``/``TRUE``/``1`` and ``false``/``False``/``FALSE``/``0``.

Only cells that do not fit the fast shape are read one by one in Python, and
the first one that does not parse is an error naming its row.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from crmcore.columnar._cells import Cells, UInt8Array
from crmcore.columnar._validation import row_error
from crmcore.kernel.arrays import BoolArray, Float64Array, Int64Array

__all__ = ["parse_bools", "parse_floats", "parse_ints", "plain_ints"]

_MINUS: Final = ord("-")
_PLUS: Final = ord("+")
_DOT: Final = ord(".")
_INT_DIGITS: Final = 18  # 10**18 < 2**63: no overflow on the fast path
_FLOAT_WIDTH: Final = 18  # a sign, a point and 16 digits; the mantissa test does the rest
_EXACT: Final = 2**53
_POWERS: Final = 10.0 ** np.arange(23)  # exact doubles up to 10**22


def _signs(first: UInt8Array) -> tuple[BoolArray, BoolArray]:
    """(has a sign, is negative) from each cell's first byte."""
    negative: BoolArray = first == _MINUS
    return negative | (first == _PLUS), negative


def parse_ints(cells: Cells, start: int, name: str) -> tuple[Int64Array, BoolArray]:
    """Integers of ``cells`` (``0`` where missing) and the missing mask."""
    lengths = cells.lengths
    missing: BoolArray = lengths == 0
    n = len(cells)
    values = np.zeros(n, dtype=np.int64)
    if not n or missing.all():
        return values, missing
    width = min(int(lengths.max()), _INT_DIGITS + 1)
    rows = cells.columns(width)  # zero past each cell's end: no digit there
    signed, negative = _signs(rows[0])
    good = np.zeros(n, dtype=np.int64)
    for p in range(width):
        d = rows[p] - np.uint8(48)
        digit = d <= 9
        good += digit
        values = np.where(digit, values * 10 + d, values)
    ok = (good == lengths - signed) & (good > 0) & (lengths <= _INT_DIGITS + signed)
    np.negative(values, out=values, where=negative)
    slow = np.flatnonzero(~ok & ~missing)
    if slow.size:
        values[slow] = _slow_ints(cells.take(slow), slow, start, name)
    values[missing] = 0
    return values, missing


def plain_ints(cells: Cells) -> bool:
    """Whether every cell is ``[+-]?[0-9]+`` (whatever its length)."""
    lengths = cells.lengths
    if not len(cells):
        return True
    grid = cells.grid(int(lengths.max()))
    signed, _ = _signs(grid[:, 0])
    inside = np.arange(grid.shape[1]) < lengths[:, None]
    inside[:, 0] &= ~signed
    digit = (grid - np.uint8(48)) <= 9
    return bool((digit | ~inside).all() and (lengths > signed).all())


def _slow_ints(cells: Cells, rows: Int64Array, start: int, name: str) -> Int64Array:
    out = np.empty(len(cells), dtype=np.int64)
    for i, (row, cell) in enumerate(zip(rows.tolist(), cells.texts(start, name), strict=True)):
        try:
            number = int(cell)
        except ValueError:
            number = None
        if number is None or not -(2**63) <= number < 2**63:
            raise row_error(start + row, name, cell, "must be an int64")
        out[i] = number
    return out


def parse_floats(cells: Cells, start: int, name: str) -> Float64Array:
    """Floats of ``cells``, ``NaN`` where missing.

    One pass per byte position over the transposed cells, all in place: a digit
    multiplies the mantissa by 10 and adds itself (anything else multiplies by 1
    and adds 0), the point is counted and its position kept.
    """
    lengths = cells.lengths
    missing = lengths == 0
    n = len(cells)
    if not n or missing.all():
        return np.full(n, np.nan)
    width = min(int(lengths.max()), _FLOAT_WIDTH)
    rows = cells.columns(width, zero=False)  # bytes past a cell's end are masked below
    size = np.minimum(lengths, 255).astype(np.uint8)
    signed, negative = _signs(rows[0])
    mantissa = np.zeros(n, dtype=np.int64)
    digits = np.zeros(n, dtype=np.uint8)
    points = np.zeros(n, dtype=np.uint8)
    point = np.zeros(n, dtype=np.uint8)  # one past the position of the point
    for p in range(width):
        row = rows[p]
        inside = size > p
        d = row - np.uint8(48)
        digit = (d <= 9) & inside
        dot = (row == _DOT) & inside
        mantissa *= 1 + 9 * digit.view(np.uint8)
        mantissa += d * digit
        digits += digit
        points += dot
        point[dot] = p + 1
    decimals = np.where(points > 0, lengths - point, 0)
    ok = (digits + points == lengths - signed) & (points <= 1) & (digits > 0)
    ok &= (lengths <= width) & (mantissa <= _EXACT)
    quotient = mantissa / _POWERS[np.minimum(decimals, len(_POWERS) - 1)]
    np.negative(quotient, out=quotient, where=negative)
    values: Float64Array = np.where(ok, quotient, np.nan)
    slow = np.flatnonzero(~ok & ~missing)
    if slow.size:
        values[slow] = _slow_floats(cells.take(slow), slow, start, name)
    return values


def _slow_floats(cells: Cells, rows: Int64Array, start: int, name: str) -> Float64Array:
    out = np.empty(len(cells), dtype=np.float64)
    for i, (row, cell) in enumerate(zip(rows.tolist(), cells.texts(start, name), strict=True)):
        try:
            out[i] = float(cell)
        except ValueError:
            raise row_error(start + row, name, cell, "must be a number") from None
    return out


def _word(text: str) -> int:
    return int.from_bytes(text.encode("ascii"), "little")


_SPELLINGS: Final = {
    **{_word(t): True for t in ("true", "True", "TRUE", "1")},
    **{_word(f): False for f in ("false", "False", "FALSE", "0")},
}
_KEYS: Final = np.array(sorted(_SPELLINGS), dtype=np.uint64)
_TRUTH: Final = np.array([_SPELLINGS[int(k)] for k in _KEYS], dtype=bool)


def parse_bools(cells: Cells, start: int, name: str) -> tuple[BoolArray, BoolArray]:
    """Booleans of ``cells`` (``False`` where missing) and the missing mask."""
    lengths = cells.lengths
    missing: BoolArray = lengths == 0
    keys = cells.words(1)[0]
    at = np.minimum(np.searchsorted(_KEYS, keys), len(_KEYS) - 1)
    known = (_KEYS[at] == keys) & (lengths <= 5)
    bad = ~known & ~missing
    if bad.any():
        i = int(np.argmax(bad))
        raise row_error(start + i, name, cells.text(i), "must be true or false")
    values: BoolArray = _TRUTH[at] & known
    return values, missing
