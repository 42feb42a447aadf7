"""Timestamps into UTC microseconds: aware datetimes and ISO 8601 text, vectorised.

The values of a datetime column are microseconds since the Unix epoch
(``datetime64[us]``, UTC). `aware_micros()` converts Python datetimes and
`parse_iso_micros()` CSV cells, each for a whole chunk at once inside C
(``map`` over ``operator`` functions, numpy's own parser); a per-value Python
loop runs only to find and name the offending row, or for text whose offset
is not UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import compress, repeat
from operator import attrgetter, floordiv, itemgetter, sub
from typing import Final

import numpy as np

from crmcore.columnar._layout import DT_US, MAX_US, MIN_US, NAT
from crmcore.columnar._validation import empty_mask, none_mask, present_cells, row_error
from crmcore.kernel.arrays import Int64Array
from crmcore.kernel.clock import EPOCH, MICROSECOND

__all__ = ["aware_micros", "parse_iso_micros"]

_EPOCHS: Final = repeat(EPOCH)
_USES: Final = repeat(MICROSECOND)


def aware_micros(values: Sequence[object], start: int, name: str) -> Int64Array:
    """Microseconds since the epoch of aware datetimes; ``NaT`` for ``None``.

    No separate type check: a value without ``tzinfo``, a naive one, or one
    that does not subtract from a datetime sends the chunk down the per-value
    path, which names the row.
    """
    missing = none_mask(values)
    present = list(compress(values, (~missing).tolist())) if missing.any() else values
    out = np.full(len(values), NAT, dtype=np.int64)
    try:
        zones = set(map(attrgetter("tzinfo"), present))
    except AttributeError:
        zones = {None}
    if None not in zones:
        try:
            # (dt - EPOCH) // 1us is exact; both steps run as C slot calls via map().
            micros = np.fromiter(map(floordiv, map(sub, present, _EPOCHS), _USES), np.int64)
        except (TypeError, OverflowError, ValueError):
            pass
        else:
            out[~missing] = micros
            return out
    # Slow path, only to find and name the offending row.
    for i, value in enumerate(values):
        if value is not None:
            out[i] = _one_micros(value, start + i, name)
    return out


_NAIVE: Final = "must be a timezone-aware datetime (naive datetimes are ambiguous)"


def _one_micros(value: object, row: int, name: str) -> int:
    if not isinstance(value, datetime):
        raise row_error(row, name, value, "must be a timezone-aware datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise row_error(row, name, value, _NAIVE)
    try:
        return (value - EPOCH) // MICROSECOND
    except (TypeError, OverflowError, ValueError):
        raise row_error(row, name, value, _NAIVE) from None


_LAST_1: Final = itemgetter(slice(-1, None))
_LAST_6: Final = itemgetter(slice(-6, None))
_BUT_LAST_1: Final = itemgetter(slice(None, -1))
_BUT_LAST_6: Final = itemgetter(slice(None, -6))


def _utc_bodies(cells: Sequence[str], present: list[str]) -> list[str] | None:
    """The cells without their UTC suffix when all end in ``Z`` or all in ``+00:00``.

    Also checks the shape numpy's parser needs (so it never sees an offset,
    which it would warn about): one ``T``/space separator, two ``-`` (a
    4-digit year), no ``+``/``Z`` left and at least ``YYYY-MM-DDTHH:MM``.
    """
    if not present:
        return list(cells)
    if set(map(_LAST_1, present)) == {"Z"}:
        strip = _BUT_LAST_1
    elif set(map(_LAST_6, present)) == {"+00:00"}:
        strip = _BUT_LAST_6
    else:
        return None
    bodies = list(map(strip, cells))
    text = "\n".join(map(strip, present))
    m = len(present)
    if (
        "+" in text
        or "Z" in text
        or text.count("-") != 2 * m
        or text.count("T") + text.count(" ") != m
        or min(map(len, present)) < 17
    ):
        return None
    return bodies


def parse_iso_micros(cells: Sequence[str], start: int, name: str) -> Int64Array:
    """ISO 8601 timestamps with an offset (``""`` = missing) to UTC microseconds.

    Fast path: every present cell ends in ``Z`` (or every one in ``+00:00``)
    and numpy parses the rest as UTC; otherwise each cell goes through
    `datetime.fromisoformat()` and must carry an offset.
    """
    missing = empty_mask(cells)
    bodies = _utc_bodies(cells, present_cells(cells, missing))
    if bodies is not None:
        try:
            ints = np.array(bodies, dtype=DT_US).view(np.int64)
        except ValueError:
            pass
        else:
            present = ints[~missing]
            if not present.size or (present.min() >= MIN_US and present.max() <= MAX_US):
                return ints
    out = np.full(len(cells), NAT, dtype=np.int64)
    for i, cell in enumerate(cells):
        if cell:
            try:
                parsed = datetime.fromisoformat(cell)
            except ValueError:
                raise row_error(start + i, name, cell, "must be an ISO 8601 timestamp") from None
            out[i] = _one_micros(parsed, start + i, name)
    return out
