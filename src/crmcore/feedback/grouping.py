"""Grouping rows for breakdowns: a code per distinct label or per calendar period.

A breakdown needs each row's group as a code ``0..k-1`` and the groups'
keys. [`label_codes()`][crmcore.feedback.grouping.label_codes] gives them for any comparable labels
(a segment, a channel, a priority; keys in sorted order),
[`period_codes()`][crmcore.feedback.grouping.period_codes] for instants by UTC day, ISO week (from
Monday) or calendar month (periods contiguous from the first to the last instant, empty ones
included). Used by [`breakdowns`][crmcore.feedback.breakdowns],
[`durations`][crmcore.feedback.durations], [`feedback_metrics`][crmcore.feedback.feedback_metrics]
and [`themes`][crmcore.feedback.themes].
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Final, Literal, TypeAlias

import numpy as np

from crmcore.columnar import Column
from crmcore.kernel.arrays import Int64Array
from crmcore.kernel.clock import DAY_US
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import choice

__all__ = [
    "Period",
    "period_codes",
]

Period: TypeAlias = Literal["day", "week", "month"]
"""A trend period: calendar day, ISO week (from Monday) or calendar month, all in UTC."""
PERIODS: Final = ("day", "week", "month")
"""The periods, as accepted by [`period_codes()`][crmcore.feedback.grouping.period_codes] and the
trends."""


# -- labels ----------------------------------------------------------------------------------


def label_codes(
    labels: object, n: int, field: str = "labels"
) -> tuple[Int64Array, tuple[str, ...]]:
    """Group codes (0..k-1, labels sorted) and the labels' names, one per distinct label."""
    if isinstance(labels, str | bytes) or labels is None:
        raise ValidationError(field, labels, "must be a sequence with one label per score")
    array = np.asarray(labels)
    if array.ndim != 1:
        raise ValidationError(field, array.shape, "must be one-dimensional")
    if len(array) != n:
        raise ValidationError(field, len(array), f"must have one label per score ({n})")
    if n == 0:
        return np.empty(0, dtype=np.int64), ()
    if array.dtype.kind == "O":
        missing = np.array([v is None for v in array.tolist()], dtype=bool)
        if missing.any():
            i = int(np.argmax(missing))
            raise ValidationError(f"{field}[{i}]", None, "must not be None")
    if array.dtype.kind in "iu" and array.dtype != np.bool_:
        low, high = int(array.min()), int(array.max())
        if (
            high - low <= 4 * n + 1024 and high < 2**63
        ):  # dense integer labels: O(n) with bincount, no sort
            offset = array.astype(np.int64) - low
            present = np.bincount(offset) > 0
            lookup = np.cumsum(present) - 1
            distinct_codes = np.flatnonzero(present) + low
            return lookup[offset].astype(np.int64), tuple(str(v) for v in distinct_codes.tolist())
    try:
        distinct, inverse = np.unique(array, return_inverse=True)
    except TypeError:
        raise ValidationError(field, str(array.dtype), "labels must be comparable") from None
    return inverse.reshape(-1).astype(np.int64), tuple(str(v) for v in distinct.tolist())


# -- periods ---------------------------------------------------------------------------------


def instants_micros(at: object, n: int, field: str = "at") -> Int64Array:
    """Instants as int64 microseconds since the epoch (UTC); NaT and naive datetimes refused."""
    if isinstance(at, np.ndarray) and at.dtype.kind == "M":
        values = at.astype("datetime64[us]")
    elif isinstance(at, Sequence | np.ndarray) and not isinstance(at, str | bytes):
        values = Column.from_values("datetime", list(at), name=field).values
    else:
        raise ValidationError(field, at, "must be aware datetimes or a datetime64 array")
    if values.ndim != 1 or len(values) != n:
        raise ValidationError(field, len(values), f"must have one instant per score ({n})")
    missing = np.isnat(values)
    if missing.any():
        i = int(np.argmax(missing))
        raise ValidationError(f"{field}[{i}]", None, "must be a known instant")
    return values.view(np.int64)


def period_codes(at: object, period: Period = "month") -> tuple[Int64Array, tuple[str, ...]]:
    """Each instant's period (a code 0..k-1) and the labels of *every* period in between.

    Periods are contiguous from the earliest to the latest instant, so a
    period with no data still gets a label (and a row with ``n`` 0 in a
    trend). UTC days are keyed ``"2026-01-05"``, ISO weeks from Monday
    ``"2026-W02"``, months ``"2026-01"``. ``at`` holds aware datetimes or a
    ``datetime64`` array (taken as UTC).

    Examples:
        >>> from datetime import UTC, datetime
        >>> codes, labels = period_codes(
        ...     [datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 20, tzinfo=UTC)], "week"
        ... )
        >>> codes.tolist(), labels
        ([0, 2], ('2026-W02', '2026-W03', '2026-W04'))
    """
    choice(period, "period", PERIODS)
    n = len(at) if isinstance(at, Sequence | np.ndarray) else -1
    us = instants_micros(at, n)
    if len(us) == 0:
        return np.empty(0, dtype=np.int64), ()
    index = period_index(us, period)
    first, last = int(index.min()), int(index.max())
    labels = tuple(period_label(i, period) for i in range(first, last + 1))
    return index - first, labels


def period_index(us: Int64Array, period: str) -> Int64Array:
    """Period numbers of instants in µs since the epoch: days, ISO weeks or months since 1970."""
    days = us // DAY_US
    if period == "day":
        return days
    if period == "week":
        return (days + 3) // 7  # 1970-01-01 was a Thursday; week 0 starts Monday 1969-12-29
    months: Int64Array = us.view("datetime64[us]").astype("datetime64[M]").view(np.int64)
    return months


def period_label(index: int, period: str) -> str:
    """The key of period number ``index`` of
    [`period_index()`][crmcore.feedback.grouping.period_index] (``"2026-W02"``, ...)."""
    if period == "day":
        return (date(1970, 1, 1) + timedelta(days=index)).isoformat()
    if period == "week":
        year, week, _ = (date(1969, 12, 29) + timedelta(weeks=index)).isocalendar()
        return f"{year}-W{week:02d}"
    return f"{1970 + index // 12:04d}-{index % 12 + 1:02d}"
