"""Wall-clock times at batch speed: the rules of [`local_time`][crmcore.marketing.local_time] for
arrays of instants in many zones.

A [`ZoneTable`][crmcore.marketing.local_time_batch.ZoneTable] covers a span of days for a set of
zones. It holds each zone's UTC offsets (every change in the span, found from `zoneinfo` and
pinned to the second) and, per wall time asked for, the UTC instant of that wall time on every local
day of the span, computed with [`local_instant()`][crmcore.marketing.local_time.local_instant]
itself. Lookups are then `numpy.searchsorted` and fancy indexing over keys ``zone * SPAN + time``,
with no loop over customers: the dry run of a million customers asks a few hundred Python calls
of `zoneinfo` per zone, not a million.

Times are int64 microseconds since the epoch (UTC); ``NONE`` (the largest int64) means "never".

Examples:
    >>> from datetime import UTC, date, datetime, time
    >>> import numpy as np
    >>> from crmcore.kernel.clock import to_micros
    >>> table = ZoneTable(("UTC", "Europe/Berlin"), date(2026, 3, 25), date(2026, 4, 5))
    >>> at = to_micros(datetime(2026, 3, 30, 19, 30, tzinfo=UTC))  # 21:30 in Berlin (CEST)
    >>> table.quiet(np.array([0, 1]), np.array([at, at]), time(21), time(8)).tolist()
    [False, True]
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, time, timedelta
from typing import Final

import numpy as np

from crmcore.kernel.arrays import BoolArray, Int64Array
from crmcore.kernel.clock import DAY_US, EPOCH, to_micros
from crmcore.kernel.errors import ValidationError
from crmcore.marketing.local_time import local_instant, zone

__all__ = ["NONE", "ZoneTable", "day_number", "wall_micros"]

NONE: Final = np.iinfo(np.int64).max
"""The "never" time of the batch arrays."""

_SECOND: Final = 1_000_000
_STEP: Final = 3 * 3600 * _SECOND  # no zone changes its offset twice within three hours


def day_number(day: date) -> int:
    """Days since 1970-01-01 of a date (the index the tables use)."""
    return (day - date(1970, 1, 1)).days


def wall_micros(at: time) -> int:
    """Microseconds since midnight of a wall time."""
    return ((at.hour * 60 + at.minute) * 60 + at.second) * _SECOND + at.microsecond


def _offset_us(name: str, t_us: int) -> int:
    offset = (EPOCH + timedelta(microseconds=t_us)).astimezone(zone(name)).utcoffset()
    assert offset is not None
    return int(offset // timedelta(microseconds=1))


def _transitions(name: str, lo: int, hi: int) -> tuple[list[int], list[int]]:
    """Instants (from ``lo``) and the offsets in force from each, over ``[lo, hi]``."""
    times, offsets = [lo], [_offset_us(name, lo)]
    t = lo
    while t < hi:
        nxt = min(t + _STEP, hi)
        after = _offset_us(name, nxt)
        if after != offsets[-1]:
            a, b = t, nxt  # offset(a) is the old one, offset(b) the new: bisect to the second
            while b - a > _SECOND:
                mid = a + (b - a) // (2 * _SECOND) * _SECOND
                if _offset_us(name, mid) == offsets[-1]:
                    a = mid
                else:
                    b = mid
            times.append(b)
            offsets.append(after)
        t = nxt
    return times, offsets


class ZoneTable:
    """UTC offsets and wall-clock instants of ``zones`` over the local days ``first``..``last``.

    Zone codes are positions in ``zones``. Instants outside the span are clamped to it for offset
    lookups; callers ask only inside it (the dry run builds the table with margins).
    """

    def __init__(self, zones: Sequence[str], first: date, last: date) -> None:
        if last < first:
            raise ValidationError("last", last, f"must not be before first ({first})")
        for name in zones:
            zone(name)
        self.zones: Final = tuple(zones)
        self.first: Final = day_number(first)
        self.days: Final = day_number(last) - self.first + 1
        self._lo = (self.first - 2) * DAY_US
        self._hi = (self.first + self.days + 2) * DAY_US
        self._span = self._hi - self._lo + 1
        keys: list[int] = []
        offsets: list[int] = []
        for code, name in enumerate(self.zones):
            times, offs = _transitions(name, self._lo, self._hi)
            keys.extend(code * self._span + (t - self._lo) for t in times)
            offsets.extend(offs)
        self._keys = np.array(keys, dtype=np.int64)
        self._offsets = np.array(offsets, dtype=np.int64)
        self._instants: dict[time, Int64Array] = {}
        self._weekly: dict[tuple[frozenset[int], time], tuple[Int64Array, Int64Array]] = {}

    def __repr__(self) -> str:
        return f"ZoneTable({len(self.zones)} zones, {self.days} days)"

    def _key(self, codes: Int64Array, t_us: Int64Array) -> Int64Array:
        inside = np.clip(t_us, self._lo, self._hi) - self._lo
        key: Int64Array = codes.astype(np.int64) * self._span + inside
        return key

    def offsets(self, codes: Int64Array, t_us: Int64Array) -> Int64Array:
        """The UTC offset (microseconds) of each zone code at each instant."""
        at = np.searchsorted(self._keys, self._key(codes, t_us), side="right") - 1
        out: Int64Array = self._offsets[at]
        return out

    def wall(self, codes: Int64Array, t_us: Int64Array) -> tuple[Int64Array, Int64Array]:
        """Local day numbers and wall times (microseconds since local midnight) of instants."""
        local = t_us + self.offsets(codes, t_us)
        days = np.floor_divide(local, DAY_US)
        return days, local - days * DAY_US

    def instants(self, at: time) -> Int64Array:
        """``table[zone, day - first]``: the UTC instant of wall time ``at`` on each local day."""
        cached = self._instants.get(at)
        if cached is None:
            grid = np.empty((len(self.zones), self.days), dtype=np.int64)
            for code, name in enumerate(self.zones):
                for d in range(self.days):
                    day = date(1970, 1, 1) + timedelta(days=self.first + d)
                    grid[code, d] = to_micros(local_instant(name, day, at))
            grid.setflags(write=False)
            self._instants[at] = cached = grid
        return cached

    def at_wall(self, at: time, codes: Int64Array, days: Int64Array) -> Int64Array:
        """The UTC instant of ``at`` on local day number ``days`` per zone (``NONE`` outside)."""
        grid = self.instants(at)
        index = days - self.first
        inside = (index >= 0) & (index < self.days)
        out = np.full(len(codes), NONE, dtype=np.int64)
        out[inside] = grid[codes[inside], index[inside]]
        return out

    def next_weekly(
        self, codes: Int64Array, t_us: Int64Array, weekdays: Collection[int], at: time
    ) -> Int64Array:
        """Per instant, the first at or after it that is ``at`` on one of ``weekdays`` (or NONE)."""
        key = (frozenset(weekdays), at)
        cached = self._weekly.get(key)
        if cached is None:
            grid = self.instants(at)
            keys: list[Int64Array] = []
            values: list[Int64Array] = []
            wanted = np.array(
                [
                    (date(1970, 1, 1) + timedelta(days=self.first + d)).weekday() in key[0]
                    for d in range(self.days)
                ]
            )
            for code in range(len(self.zones)):
                row = grid[code, wanted]
                keys.append(code * self._span + (np.clip(row, self._lo, self._hi) - self._lo))
                values.append(row)
            cached = (np.concatenate(keys), np.concatenate(values))
            self._weekly[key] = cached
        table_keys, table_values = cached
        at_index = np.searchsorted(table_keys, self._key(codes, t_us), side="left")
        found = at_index < len(table_keys)
        safe = np.minimum(at_index, max(len(table_keys) - 1, 0))
        same_zone = found & (table_keys[safe] // self._span == codes)
        result = np.where(same_zone, table_values[safe], NONE)
        out: Int64Array = np.where(result >= t_us, result, NONE)
        return out

    def quiet(self, codes: Int64Array, t_us: Int64Array, start: time, end: time) -> BoolArray:
        """Whether each instant falls in the local quiet period ``[start, end)``."""
        _days, wall = self.wall(codes, t_us)
        s, e = wall_micros(start), wall_micros(end)
        if s < e:
            result: BoolArray = (wall >= s) & (wall < e)
        elif s > e:
            result = (wall >= s) | (wall < e)
        else:
            result = np.zeros(len(t_us), dtype=bool)
        return result

    def quiet_release(
        self, codes: Int64Array, t_us: Int64Array, start: time, end: time
    ) -> Int64Array:
        """The end of the quiet period holding each instant; the instant itself when not quiet."""
        days, wall = self.wall(codes, t_us)
        s, e = wall_micros(start), wall_micros(end)
        quiet = self.quiet(codes, t_us, start, end)
        release_day = days + ((s > e) & (wall >= s))
        release = self.at_wall(end, codes, release_day)
        out: Int64Array = np.where(quiet, release, t_us)
        return out
