"""Wall-clock times in a customer's time zone: what "9:00 on Monday" and "quiet after 21:00" mean.

Automation speaks in the customer's local time (send at 09:00, never between 21:00 and 08:00) but
computes in UTC instants. Every wall-clock rule of [`crmcore.marketing`][crmcore.marketing] goes
through the few functions here, so the per-customer engine and the vectorised dry run (which
tabulates the same functions per zone and day,
[`crmcore.marketing.local_time_batch`][crmcore.marketing.local_time_batch]) agree to the
microsecond, daylight-saving changes included:

* [`local_instant()`][crmcore.marketing.local_time.local_instant]: the UTC instant of a wall time
  on a local date. A wall time that does not exist (the hour skipped in spring) or exists twice
  (the hour repeated in autumn) is read with ``fold=0`` (PEP 495): the offset in force *before* the
  change, so 02:30 on a spring-forward night is 03:30 summer time and 01:30 on a fall-back night is
  its first occurrence.
* [`next_weekly()`][crmcore.marketing.local_time.next_weekly]: the first instant at or after a time
  that falls on one of the given weekdays at a wall time.
* [`quiet_release()`][crmcore.marketing.local_time.quiet_release]: when a quiet period that holds an
  instant ends.

A customer's zone is an IANA name (``"Europe/Berlin"``), read from the custom attribute
``time_zone`` ([`TIME_ZONE_ATTRIBUTE`][crmcore.marketing.local_time.TIME_ZONE_ATTRIBUTE]) or a
default.

Examples:
    >>> from datetime import UTC, datetime, time
    >>> local_instant("Europe/Berlin", date(2026, 3, 29), time(2, 30))  # skipped: 03:30 CEST
    datetime.datetime(2026, 3, 29, 1, 30, tzinfo=datetime.timezone.utc)
    >>> monday = next_weekly(datetime(2026, 5, 1, 12, tzinfo=UTC), "Asia/Shanghai", {0}, time(9))
    >>> monday.astimezone(zone("Asia/Shanghai")).strftime("%a %H:%M")
    'Mon 09:00'
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import items_of

__all__ = [
    "DEFAULT_ZONE",
    "TIME_ZONE_ATTRIBUTE",
    "WEEKDAYS",
    "check_wall_time",
    "check_weekdays",
    "check_zone",
    "in_quiet_period",
    "local_instant",
    "next_weekly",
    "quiet_release",
    "zone",
    "zone_of_record",
]

DEFAULT_ZONE: Final = "UTC"
"""The zone of a customer whose record names none (unless the caller gives another default)."""

TIME_ZONE_ATTRIBUTE: Final = "time_zone"
"""The custom attribute holding a customer's IANA time zone (the ``attr.time_zone`` column)."""

WEEKDAYS: Final[tuple[str, ...]] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names in JSON forms, Monday first (their position is `date.weekday()`)."""


def zone(name: str) -> tzinfo:
    """The time zone named ``name`` (``"UTC"`` is `datetime.UTC`).

    Raises:
        ValidationError: ``name`` is not an IANA time zone name (field ``time_zone``).
    """
    if not isinstance(name, str):
        raise ValidationError("time_zone", name, "is not an IANA time zone name")
    return _zone(name)


@functools.lru_cache(maxsize=1024)
def _zone(name: str) -> tzinfo:
    if name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    # OSError: a name too long for a file name (ZoneInfo looks the name up as a path)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise ValidationError("time_zone", name, "is not an IANA time zone name") from None


def check_zone(value: object, field: str = "time_zone") -> str:
    """``value`` if it names a time zone; a `ValidationError` naming ``field`` otherwise."""
    if not isinstance(value, str) or not value:
        raise ValidationError(
            field, value, "must be an IANA time zone name such as 'Asia/Shanghai'"
        )
    try:
        zone(value)
    except ValidationError:
        raise ValidationError(field, value, "is not an IANA time zone name") from None
    return value


def zone_of_record(record: Mapping[str, object], default: str = DEFAULT_ZONE) -> str:
    """The zone named by a flat record's ``attr.time_zone`` (``default`` when missing or empty).

    Raises:
        ValidationError: the attribute names no time zone (field ``attributes.time_zone``).
    """
    value = record.get(f"attr.{TIME_ZONE_ATTRIBUTE}")
    if value is None or value == "":
        return default
    return check_zone(value, f"attributes.{TIME_ZONE_ATTRIBUTE}")


def check_wall_time(value: object, field: str) -> time:
    """``value`` as a naive wall-clock `time` (whole minutes or finer, no tzinfo)."""
    if not isinstance(value, time) or value.tzinfo is not None:
        raise ValidationError(field, value, "must be a wall-clock time without a time zone")
    return value.replace(fold=0)


def check_weekdays(value: object, field: str) -> frozenset[int]:
    """Weekdays as numbers 0 (Monday) to 6, from numbers or names (``"mon"``); at least one."""
    items = items_of(value, field, "weekdays")
    if not items:
        raise ValidationError(field, value, "must be a non-empty collection of weekdays")
    out: set[int] = set()
    for item in items:
        if isinstance(item, str) and item.lower()[:3] in WEEKDAYS:
            out.add(WEEKDAYS.index(item.lower()[:3]))
        elif isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 6:
            out.add(item)
        else:
            raise ValidationError(field, item, "must be a weekday: 0-6 (Monday 0) or 'mon'..'sun'")
    return frozenset(out)


def local_instant(zone_name: str, day: date, at: time) -> datetime:
    """The UTC instant of wall time ``at`` on the local date ``day`` in ``zone_name``.

    Wall times skipped or repeated by a clock change are read with ``fold=0``: the offset before
    the change (the module docstring has the examples).
    """
    local = datetime.combine(day, at.replace(fold=0), tzinfo=zone(zone_name))
    return local.astimezone(UTC)


def _local(instant: datetime, zone_name: str) -> datetime:
    return to_utc(instant, "at").astimezone(zone(zone_name))


def next_weekly(after: datetime, zone_name: str, weekdays: Collection[int], at: time) -> datetime:
    """The first instant at or after ``after`` that is wall time ``at`` on one of ``weekdays``.

    ``weekdays`` are numbers 0 (Monday) to 6. The result is in UTC.
    """
    start = to_utc(after, "after")
    first = _local(start, zone_name).date()
    for k in range(-1, 9):  # a day either side covers repeated and skipped wall times
        day = first + timedelta(days=k)
        if day.weekday() in weekdays:
            candidate = local_instant(zone_name, day, at)
            if candidate >= start:
                return candidate
    raise ValidationError("weekdays", weekdays, "must name at least one weekday")


def in_quiet_period(instant: datetime, zone_name: str, start: time, end: time) -> bool:
    """Whether ``instant`` falls in the daily quiet period ``[start, end)`` (local wall time).

    ``start > end`` wraps midnight (21:00-08:00); ``start == end`` is never quiet.
    """
    wall = _local(instant, zone_name).time().replace(tzinfo=None, fold=0)
    if start < end:
        return start <= wall < end
    if start > end:
        return wall >= start or wall < end
    return False


def quiet_release(instant: datetime, zone_name: str, start: time, end: time) -> datetime | None:
    """When the quiet period holding ``instant`` ends (UTC), or ``None`` if it is not quiet then.

    Raises:
        ValidationError: the quiet period holding ``instant`` would end after 9999-12-31.
    """
    if not in_quiet_period(instant, zone_name, start, end):
        return None
    local = _local(instant, zone_name)
    wall = local.time().replace(tzinfo=None, fold=0)
    day = local.date()
    if start > end and wall >= start:
        try:
            day += timedelta(days=1)
        except OverflowError:  # the quiet period would end after 9999-12-31
            raise ValidationError(
                "instant", instant, "has its quiet period end after year 9999"
            ) from None
    return local_instant(zone_name, day, end)
