"""Timestamps and dates from text cells: ISO 8601 read digit column by digit column in numpy.

A timestamp cell of the shape ``YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]]``, followed by
``Z``, by an offset ``+HH:MM``/``-HH:MM`` or by nothing (naive), has its digits
at fixed positions: numpy reads each field of every row at once, checks the
calendar (month lengths, leap years) and turns the fields into microseconds
with Howard Hinnant's ``days_from_civil`` ("chrono-Compatible Low-Level Date
Algorithms"). A date cell ``YYYY-MM-DD`` is read the same way.

The timestamps crmcore writes (``2024-05-01T09:30:00.000000Z``), and the
other UTC shapes of one length throughout a chunk (``...:00Z``, ``...:00.000Z``),
take a shorter road first: the cells' bytes as four 64-bit words, each checked
against the layout and turned into two-digit numbers with a few integer
operations per word (SIMD within a register), no byte-by-byte transposition. A
chunk where any cell is off that road is read the general way.

A cell of any other layout (``12/1/2010 8:26``, ``01.12.2010``, a
fraction of more than six digits) goes to the per-cell parsers of
`crmcore.columnar._timestamps`, which read each distinct cell once. Naive
timestamps are placed in ``reading.tz`` (an error naming the row without it).
"""

from __future__ import annotations

from datetime import date
from typing import Final, NoReturn

import numpy as np

from crmcore.columnar._cells import Cells, UInt8Array, UInt64Array
from crmcore.columnar._layout import MAX_US, MIN_US, NAT
from crmcore.columnar._timestamps import TimeReading, localize, naive_error, slow_times, split_date
from crmcore.columnar._validation import row_error
from crmcore.kernel.arrays import AnyArray, BoolArray, Int64Array

__all__ = ["date_cell", "parse_dates", "parse_datetimes"]

_WIDTH: Final = 32  # 26 bytes of body (to the microsecond) and a 6-byte offset
_DAY_US: Final = 86_400_000_000
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_DASH, _COLON, _DOT, _T, _SPACE, _Z, _PLUS, _MINUS = (ord(c) for c in "-:.T Z+-")
_DATE_DIGITS: Final = [0, 1, 2, 3, 5, 6, 8, 9]
_TIME_DIGITS: Final = [11, 12, 14, 15]


def _calendar() -> tuple[AnyArray, AnyArray, AnyArray, AnyArray]:
    """Tables by year (0..9999) and by (leap, month): days to 1 January, leap, month offsets."""
    years = np.arange(10_000, dtype=np.int64)
    january = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    leap = ((years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0))).astype(np.int64)
    lengths = np.array(
        [[0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0, 0, 0]] * 2, dtype=np.int64
    )
    lengths[1, 2] = 29
    starts = np.zeros_like(lengths)
    starts[:, 1:] = np.cumsum(lengths, axis=1)[:, :-1]
    return january, leap, starts.ravel(), lengths.ravel()


_JANUARY, _LEAP, _MONTH_START, _MONTH_LENGTH = _calendar()


def _word_layout(template: str) -> list[tuple[np.uint64, np.uint64, np.uint64]]:
    """For each 8-byte word of ``template``: where its digits are, where its fixed bytes are,
    and what those bytes are (``d``: a digit, ``?``: anything)."""
    padded_template = template.ljust(32, "?")
    out = []
    for w in range(4):
        digits = fixed = value = 0
        for k, char in enumerate(padded_template[8 * w : 8 * w + 8]):
            if char == "d":
                digits |= 0xFF << (8 * k)
            elif char != "?":
                fixed |= 0xFF << (8 * k)
                value |= ord(char) << (8 * k)
        out.append((np.uint64(digits), np.uint64(fixed), np.uint64(value)))
    return out


_ZULU_LAYOUTS: Final = {
    len(template): _word_layout(template)
    for template in (
        "dddd-dd-ddTdd:dd:ddZ",
        "dddd-dd-ddTdd:dd:dd.dddZ",
        "dddd-dd-ddTdd:dd:dd.ddddddZ",
    )
}
_ZEROS: Final = np.uint64(0x3030303030303030)  # "0" in every byte
_SEVEN_BITS: Final = np.uint64(0x7F7F7F7F7F7F7F7F)
_ABOVE_NINE: Final = np.uint64(0x7676767676767676)  # + a byte's value sets its top bit if > 9
_TOP_BITS: Final = np.uint64(0x8080808080808080)
_BYTE: Final = np.uint64(0xFF)


def _zulu_words(cells: Cells, length: int) -> Int64Array | None:
    """UTC microseconds of cells all ``length`` long in a layout of `_ZULU_LAYOUTS`.

    ``None`` when a present cell does not fit (a byte out of place, a date or
    time out of range): the general reader then takes the chunk. Within a word,
    ``x = byte ^ "0"`` is a digit's value; it is a digit when neither ``x`` nor
    ``(x & 0x7F) + 0x76`` has its top bit set; ``10 * x + (x >> 8)`` puts the
    number of digits ``k, k + 1`` in byte ``k`` (at most 99: no carry between bytes).
    """
    words = np.ascontiguousarray(cells.grid(32, zero=False).view("<u8").T)
    missing = cells.lengths == 0
    ok = (cells.lengths == length) | missing
    pairs: list[UInt64Array] = []
    for word, (digits, fixed, value) in zip(words, _ZULU_LAYOUTS[length], strict=True):
        if not digits and not fixed:
            pairs.append(word)  # past the cell: not read
            continue
        if fixed:
            ok &= (word & fixed) == value
        x = word ^ _ZEROS
        x &= digits
        bad = x & _SEVEN_BITS
        bad += _ABOVE_NINE
        bad |= x
        bad &= _TOP_BITS & digits
        ok &= bad == 0
        pair = x * np.uint64(10)
        pair += x >> np.uint64(8)
        pairs.append(pair)

    def at(w: int, k: int) -> Int64Array:
        number: Int64Array = ((pairs[w] >> np.uint64(8 * k)) & _BYTE).view(np.int64)
        return number

    year, month, day = at(0, 0) * 100 + at(0, 2), at(0, 5), at(1, 0)
    hour, minute, second = at(1, 3), at(1, 6), at(2, 1)
    leap = np.take(_LEAP, year, mode="clip")  # (a year of a bad cell may be past 9999)
    slot = leap * 16 + np.minimum(month, 15)
    ok &= (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)
    ok &= (day <= _MONTH_LENGTH[slot]) & (hour <= 23) & (minute <= 59) & (second <= 59)
    if not (ok | missing).all():
        return None
    days = np.take(_JANUARY, year, mode="clip") + _MONTH_START[slot] + day - 1
    seconds = days * 86_400 + hour * 3600 + minute * 60 + second
    micros: Int64Array = seconds * 1_000_000
    if length == 27:  # six decimals: bytes 20-21, 22-23 and 24-25
        micros += at(2, 4) * 10_000 + at(2, 6) * 100 + at(3, 0)
    elif length == 24:  # three decimals: bytes 20-21 and 22
        third = ((words[2] ^ _ZEROS) >> np.uint64(48)) & _BYTE
        micros += (at(2, 4) * 10 + third.view(np.int64)) * 1_000
    micros[missing] = NAT
    return micros


def _pair(digits: UInt8Array, p: int) -> AnyArray:
    """The two-digit numbers at byte rows ``p`` and ``p + 1`` (int16)."""
    pair: AnyArray = digits[p].astype(np.int16) * 10 + digits[p + 1]
    return pair


def _date_rows(rows: UInt8Array, digits: UInt8Array) -> tuple[Int64Array, BoolArray]:
    """Days since 1970-01-01 of the ``YYYY-MM-DD`` in byte rows 0..9, and whether valid.

    Calendar tables instead of arithmetic: the days to 1 January of the year,
    and the days to the 1st of the month in a common or a leap year.
    """
    ok = (digits[_DATE_DIGITS] <= 9).all(axis=0)
    ok &= (rows[4] == _DASH) & (rows[7] == _DASH)
    year = _pair(digits, 0) * 100 + _pair(digits, 2)
    month = _pair(digits, 5)
    day = _pair(digits, 8)
    leap = np.take(_LEAP, year, mode="clip")
    slot = leap * 16 + np.clip(month, 0, 15)
    ok &= (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)
    ok &= day <= _MONTH_LENGTH[slot]
    days = np.take(_JANUARY, year, mode="clip") + _MONTH_START[slot] + day - 1
    return days, ok


def parse_datetimes(
    cells: Cells,
    start: int,
    name: str,
    reading: TimeReading,
    cache: dict[str, tuple[int, bool]] | None = None,
) -> Int64Array:
    """UTC microseconds of timestamp cells, ``NAT`` where missing (see the module docs)."""
    n = len(cells)
    lengths = cells.lengths
    missing = lengths == 0
    micros = np.full(n, NAT, dtype=np.int64)
    if not n or missing.all():
        return micros
    longest = int(lengths.max())
    if longest in _ZULU_LAYOUTS:
        fast = _zulu_words(cells, longest)
        if fast is not None:
            return fast
    rows = cells.columns(max(min(longest, _WIDTH), 26), zero=False)
    digits = rows - np.uint8(48)
    data, ends = cells.data, cells.ends
    zulu = data[ends - 1] == _Z
    offset = lengths >= 22
    offset &= (data[ends - 6] == _PLUS) | (data[ends - 6] == _MINUS)
    offset &= data[ends - 3] == _COLON
    body = lengths - zulu - 6 * offset
    days, ok = _date_rows(rows, digits)
    ok &= (rows[10] == _T) | (rows[10] == _SPACE)
    ok &= (rows[13] == _COLON) & (digits[_TIME_DIGITS] <= 9).all(axis=0)
    clock = _pair(digits, 11).astype(np.int64) * 3600 + _pair(digits, 14) * 60
    ok &= (clock < 86_400) & (_pair(digits, 14) <= 59)
    seconds = body >= 19
    if seconds.any():
        second = _pair(digits, 17)
        ok &= ~seconds | ((rows[16] == _COLON) & (digits[17] <= 9) & (digits[18] <= 9))
        ok &= second <= 59
        clock += np.where(seconds, second, 0)
    fraction = np.zeros(n, dtype=np.int64)
    decimals = int(body.max()) - 20
    if decimals > 0:
        for p in range(20, 26):
            inside = p < body
            ok &= ~inside | (digits[p] <= 9)
            fraction *= 10
            fraction += np.where(inside, digits[p], 0)
    ok &= (body == 16) | (body == 19) | ((body >= 21) & (body <= 26) & (rows[19] == _DOT))
    ok &= ~(offset & zulu)
    shift, valid = _offsets(cells, offset)
    ok &= valid & ~missing
    local = days * _DAY_US + clock * 1_000_000 + fraction - shift
    naive = ok & ~zulu & ~offset
    micros[ok] = local[ok]
    if naive.any():
        tz = reading.tz
        if tz is None:
            _refuse_naive(cells, naive, ~ok & ~missing, start, name, reading, cache)
        micros[naive] = localize(micros[naive], tz)
    outside = ok & ((micros < MIN_US) | (micros > MAX_US))
    slow = np.flatnonzero((~ok & ~missing) | outside)
    if slow.size:
        texts = cells.take(slow).texts(start, name)
        micros[slow] = slow_times(texts, slow, start, name, reading, cache)
    return micros


def _offsets(cells: Cells, offset: BoolArray) -> tuple[Int64Array, BoolArray]:
    """Microseconds east of UTC of the ``±HH:MM`` ending each row that has one; valid."""
    data, ends = cells.data, cells.ends
    values = np.zeros(len(cells), dtype=np.int64)
    ok = np.ones(len(cells), dtype=bool)
    rows = np.flatnonzero(offset)
    if rows.size:
        tail = ends[rows]
        d = [data[tail - k] - np.uint8(48) for k in (5, 4, 2, 1)]
        valid = (d[0] <= 9) & (d[1] <= 9) & (d[2] <= 9) & (d[3] <= 9)
        hours = d[0].astype(np.int64) * 10 + d[1]
        minutes = d[2].astype(np.int64) * 10 + d[3]
        valid &= (hours <= 23) & (minutes <= 59)
        sign = np.where(data[tail - 6] == _MINUS, -1, 1)
        values[rows] = sign * (hours * 60 + minutes) * 60_000_000
        ok[rows] = valid
    return values, ok


def _refuse_naive(
    cells: Cells,
    naive: BoolArray,
    slow: BoolArray,
    start: int,
    name: str,
    reading: TimeReading,
    cache: dict[str, tuple[int, bool]] | None,
) -> NoReturn:
    """The error for the first naive cell (or for a bad cell above it) when no zone is given."""
    first = int(np.argmax(naive))
    above = np.flatnonzero(slow[:first])
    if above.size:
        slow_times(cells.take(above).texts(start, name), above, start, name, reading, cache)
    raise naive_error(start + first, name, cells.text(first))


def parse_dates(cells: Cells, start: int, name: str, dayfirst: bool) -> Int64Array:
    """Days since 1970-01-01 of date cells, ``NAT`` where missing.

    ``YYYY-MM-DD`` is read in numpy; anything else (``12/1/2010``, with
    ``dayfirst`` ``1/12/2010``) per cell.
    """
    n = len(cells)
    lengths = cells.lengths
    missing = lengths == 0
    days = np.full(n, NAT, dtype=np.int64)
    if not n or missing.all():
        return days
    rows = cells.columns(10, zero=False)
    parsed, ok = _date_rows(rows, rows - np.uint8(48))
    ok &= lengths == 10
    days[ok] = parsed[ok]
    slow = np.flatnonzero(~ok & ~missing)
    if slow.size:
        texts = cells.take(slow).texts(start, name)
        days[slow] = [
            date_cell(cell, start + row, name, dayfirst)
            for cell, row in zip(texts, slow.tolist(), strict=True)
        ]
    return days


def date_cell(cell: str, row: int, name: str, dayfirst: bool) -> int:
    """Days since 1970-01-01 of one date cell in any layout the module docs name."""
    try:
        return date.fromisoformat(cell).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        pass
    parts = split_date(cell, dayfirst)
    if parts is None:
        raise row_error(row, name, cell, "must be a date: YYYY-MM-DD or month/day/year")
    try:
        return date(*parts).toordinal() - _EPOCH_ORDINAL
    except ValueError as error:
        hint = "write YYYY-MM-DD"
        if not cell.strip()[:4].isdigit():
            other = "dayfirst=False" if dayfirst else "dayfirst=True"
            hint = f"if day and month are the other way round, pass {other}"
        raise row_error(row, name, cell, f"is not a valid date ({error}); {hint}") from None
