"""Timestamps into UTC microseconds: datetimes, and the text that the fast path leaves over.

The values of a datetime column are microseconds since the Unix epoch
(``datetime64[us]``, UTC). `aware_micros()` converts Python datetimes for a
whole chunk at once. Text is read by `crmcore.columnar._text_times`, which
parses ISO 8601 in numpy and hands the rest here, to `slow_times()`: other
layouts (``12/1/2010 8:26``, ``01.12.2010``, seconds fractions beyond the
microsecond) are parsed once per *distinct* cell in Python (exports repeat
their timestamps: an order's lines share one) and gathered back with one
dictionary lookup per cell.

A timestamp without an offset is *naive*: it means nothing until someone
says where it was recorded. Without ``tz`` it is an error that says how to
pass one; with ``tz`` it is read as wall-clock time there (a time that a
daylight-saving change makes ambiguous takes the first of its two meanings;
one that falls in the gap the change skips takes the offset in force just
before the gap). Dates written with slashes or dots are month first
(``12/1/2010`` is 1 December) unless ``dayfirst``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import compress, repeat
from operator import attrgetter, floordiv, itemgetter, sub
from typing import Final

import attrs
import numpy as np

from crmcore.columnar._layout import MAX_US, MIN_US, NAT
from crmcore.columnar._validation import none_mask, row_error
from crmcore.kernel.arrays import Int64Array
from crmcore.kernel.clock import EPOCH, MICROSECOND
from crmcore.kernel.errors import ValidationError

__all__ = [
    "TimeReading",
    "aware_micros",
    "localize",
    "naive_error",
    "slow_times",
    "split_date",
]

_EPOCHS: Final = repeat(EPOCH)
_USES: Final = repeat(MICROSECOND)
_SLOT_US: Final = 15 * 60 * 1_000_000  # zone offsets change on quarter hours at the finest
_CACHE_LIMIT: Final = 1 << 20


@attrs.frozen
class TimeReading:
    """How to read timestamps: the zone of naive ones, and the order of day and month."""

    tz: tzinfo | None = None
    dayfirst: bool = False


_DEFAULT: Final = TimeReading()


def _naive_reason(tz: tzinfo | None) -> str:
    del tz
    return (
        "is naive (no time zone) but must be timezone-aware: say where it was recorded, "
        "pass tz='UTC' or the zone, e.g. tz='Europe/Berlin' (the CLI: --tz)"
    )


def localize(local: Int64Array, tz: tzinfo) -> Int64Array:
    """UTC microseconds of wall-clock microseconds ``local`` in zone ``tz`` (``NAT`` kept).

    The offset is looked up once per distinct quarter hour, not per value.
    """
    if tz is UTC:
        return local
    present = local != NAT
    values = local[present]
    if not values.size:
        return local
    slots, inverse = np.unique(values // _SLOT_US, return_inverse=True)
    offsets = np.empty(len(slots), dtype=np.int64)
    for i, slot in enumerate(slots.tolist()):
        wall = EPOCH.replace(tzinfo=None) + timedelta(microseconds=slot * _SLOT_US)
        offset = wall.replace(tzinfo=tz).utcoffset()
        offsets[i] = 0 if offset is None else offset // MICROSECOND
    out = local.copy()
    out[present] = values - offsets[inverse]
    return out


def aware_micros(
    values: Sequence[object], start: int, name: str, reading: TimeReading = _DEFAULT
) -> Int64Array:
    """Microseconds since the epoch of datetimes; ``NaT`` for ``None``.

    Naive datetimes are read in ``reading.tz`` and are an error without it.
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
    for i, value in enumerate(values):
        if value is not None:
            out[i] = _one_micros(value, start + i, name, reading.tz)
    return out


def _one_micros(value: object, row: int, name: str, tz: tzinfo | None = None) -> int:
    if not isinstance(value, datetime):
        raise row_error(row, name, value, "must be a timezone-aware datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        if tz is None:
            raise row_error(row, name, value, _naive_reason(tz))
        value = value.replace(tzinfo=tz)
    try:
        return (value - EPOCH) // MICROSECOND
    except (TypeError, OverflowError, ValueError):
        raise row_error(row, name, value, "is out of range") from None


_SLASHED: Final = re.compile(
    r"(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*([AaPp][Mm])?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?\Z"
)


def split_date(cell: str, dayfirst: bool) -> tuple[int, int, int] | None:
    """Year, month, day of ``2010-12-01``, ``12/1/2010`` (``1/12/2010`` with ``dayfirst``)."""
    match = _SLASHED.match(cell.strip())
    if match is None or match.group(4) is not None:
        return None
    return _ymd(match, dayfirst)


def _ymd(match: re.Match[str], dayfirst: bool) -> tuple[int, int, int]:
    a, b, c = match.group(1), match.group(2), match.group(3)
    if len(a) == 4:
        return int(a), int(b), int(c)
    year = int(c)
    if len(c) <= 2:
        year += 2000 if year < 69 else 1900  # POSIX %y: 69-99 are 1969-1999
    if dayfirst:
        return year, int(b), int(a)
    return year, int(a), int(b)


def _parse_text(cell: str, dayfirst: bool) -> tuple[datetime, bool]:
    """A datetime from one cell, and whether the cell carried an offset.

    Raises ``ValueError`` with a reason when the cell is no timestamp.
    """
    text = cell.strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        return value, value.tzinfo is not None
    match = _SLASHED.match(text)
    if match is None:
        raise ValueError(
            "is not a timestamp: write ISO 8601 (2010-12-01T08:26:00Z) or "
            "month/day/year (12/1/2010 8:26; day first with dayfirst=True)"
        )
    year, month, day = _ymd(match, dayfirst)
    hour = int(match.group(4) or 0)
    minute = int(match.group(5) or 0)
    second = int(match.group(6) or 0)
    fraction = match.group(7) or ""
    micro = int((fraction + "000000")[:6])
    meridiem = (match.group(8) or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            raise ValueError("has an hour outside 1..12 before AM/PM")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    try:
        value = datetime(year, month, day, hour, minute, second, micro)
    except ValueError as error:
        other = "dayfirst=False" if dayfirst else "dayfirst=True"
        raise ValueError(
            f"is not a valid date ({error}); if the file writes the day and month the "
            f"other way round, pass {other}"
        ) from None
    offset = match.group(9)
    if offset:
        value = datetime.fromisoformat(value.isoformat() + ("+00:00" if offset == "Z" else offset))
        return value, True
    return value, False


def _cell_micros(cell: str, row: int, name: str, reading: TimeReading) -> tuple[int, bool]:
    """(microseconds, naive): UTC microseconds, or wall-clock ones when the cell is naive."""
    try:
        value, aware = _parse_text(cell, reading.dayfirst)
    except ValueError as error:
        raise row_error(row, name, cell, str(error)) from None
    if aware:
        return (value - EPOCH) // MICROSECOND, False
    if reading.tz is None:
        raise row_error(row, name, cell, _naive_reason(reading.tz))
    return (value - EPOCH.replace(tzinfo=None)) // MICROSECOND, True


def slow_times(
    cells: Sequence[str],
    rows: Int64Array,
    start: int,
    name: str,
    reading: TimeReading = _DEFAULT,
    cache: dict[str, tuple[int, bool]] | None = None,
) -> Int64Array:
    """UTC microseconds of timestamp text, one distinct cell at a time (``""``: missing).

    ``rows`` are the cells' rows (counted from ``start``) for errors; ``cache``
    maps cells already parsed to their result, so a column read in blocks
    parses each distinct cell once. The first cell that does not parse, or
    lies outside years 1 to 9999, is an error naming its row.
    """
    known: dict[str, tuple[int, bool]] = {} if cache is None else cache
    row_of = rows.tolist()
    for i, cell in enumerate(cells):  # each distinct cell once, errors at its first row
        if cell not in known and cell:
            known[cell] = _cell_micros(cell, start + row_of[i], name, reading)
    pairs = [known.get(cell, (NAT, False)) for cell in cells]
    micros = np.fromiter(map(itemgetter(0), pairs), np.int64, len(pairs))
    naive = np.fromiter(map(itemgetter(1), pairs), np.bool_, len(pairs))
    if naive.any():
        assert reading.tz is not None
        micros[naive] = localize(micros[naive], reading.tz)
    missing = np.fromiter(map(operator.not_, cells), np.bool_, len(cells))
    micros[missing] = NAT
    out_of_range = ~missing & ((micros < MIN_US) | (micros > MAX_US))
    if out_of_range.any():
        i = int(np.argmax(out_of_range))
        raise row_error(start + row_of[i], name, cells[i], "must lie within years 1 to 9999")
    if cache is not None and len(cache) > _CACHE_LIMIT:
        cache.clear()
    return micros


def naive_error(row: int, name: str, value: object) -> ValidationError:
    """The error for a naive timestamp when no zone was given."""
    return row_error(row, name, value, _naive_reason(None))
