"""Business-hours calendars: which instants count towards an SLA.

A [`BusinessCalendar`][crmcore.feedback.calendar.BusinessCalendar] holds weekly opening hours (one
or more [`Shift`][crmcore.feedback.calendar.Shift] per weekday, so split shifts such as 09:00-12:00
and 13:00-17:00 work), holidays as dates and as recurring rules (RFC 5545 ``RRULE`` text, expanded
with `dateutil.rrule`), and an IANA time zone (`zoneinfo`). Shifts are wall-clock times in that
zone; they are turned into instants day by day, so daylight-saving changes are exact: a shift
01:00-04:00 on the spring-forward night in Europe/Berlin is two hours long, on the autumn night
four.

Two operations, inverse to each other (PEERS.md §5.3: the osTicket, Chatwoot
and GLPI bugs were all about getting these wrong):

* [`BusinessCalendar.business_time()`][crmcore.feedback.calendar.BusinessCalendar.business_time]
  measures the business time between two instants: time outside the shifts, on closed weekdays and
  on holidays does not count. A span that lies wholly outside business hours measures zero; a start
  outside hours simply counts from the next opening.
* [`BusinessCalendar.add()`][crmcore.feedback.calendar.BusinessCalendar.add] adds business time to
  an instant: Friday 16:30 + 1 h with 09:00-17:00 hours ends Monday 09:30 (Chatwoot PR #13392);
  Friday 16:00 + 8 h ends Monday 16:00. When the time runs out exactly at a shift's end, the answer
  is that end (Friday 17:00, not Monday 09:00).

``business_time(start, add(start, d)) == d`` for every ``d >= 0``.

A shift's wall-clock start that falls in a spring-forward gap maps, as
:pep:`495` says for ``fold=0``, to the instant one hour later (the local
clock reads the post-transition time); a repeated autumn hour is counted
once per real hour, i.e. twice.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from dateutil.rrule import rrule, rrulestr

from crmcore.kernel.clock import ensure_date, to_utc
from crmcore.kernel.errors import ValidationError

__all__ = ["WEEKDAYS", "BusinessCalendar", "Shift"]

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names as accepted by
[`BusinessCalendar.from_hours()`][crmcore.feedback.calendar.BusinessCalendar.from_hours] (Monday
first)."""

SEARCH_DAYS: Final = 3 * 366 + 7
"""How far [`BusinessCalendar.add()`][crmcore.feedback.calendar.BusinessCalendar.add] searches for
business time before giving up."""

# The instants a calendar answers for: searching SEARCH_DAYS on from any of them stays inside
# datetime's range (years 1 to 9999) in every zone.
_EARLIEST: Final = datetime(1, 1, 3, tzinfo=UTC)
_LATEST: Final = datetime(9990, 1, 1, tzinfo=UTC)
# business_time() walks its span day by day: a span longer than a century is refused rather than
# left running.
_MAX_SPAN: Final = timedelta(days=36_525)

RRULE_START: Final = datetime(1900, 1, 1)
"""Default start of recurrence rules that carry no ``DTSTART``."""

_DAY_MINUTES: Final = 24 * 60
_HHMM: Final = re.compile(r"\s*(\d{1,2}):(\d{2})\s*\Z")


def _minute(value: object, field: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(field, value, "must be a minute of the day")
    if isinstance(value, int):
        return value
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValidationError(field, value, "must be a wall-clock time without a time zone")
        if value.second or value.microsecond:
            raise ValidationError(field, value, "must be a whole minute")
        return value.hour * 60 + value.minute
    if isinstance(value, str):
        match = _HHMM.match(value)
        if match:
            hours, minutes = int(match[1]), int(match[2])
            if minutes < 60 and hours * 60 + minutes <= _DAY_MINUTES:
                return hours * 60 + minutes
    raise ValidationError(field, value, 'must be a time such as "09:00" (up to "24:00")')


def _start(value: object) -> int:
    return _minute(value, "shift.start")


def _end(value: object) -> int:
    return _minute(value, "shift.end")


@attrs.frozen(order=True)
class Shift:
    """Opening hours within one day, as minutes after local midnight: ``[start, end)``.

    ``start`` and ``end`` accept minutes, `time` or
    ``"HH:MM"`` text; ``end`` may be ``"24:00"`` (midnight at the end of the day).

    Examples:
        >>> Shift("09:00", "17:30")
        Shift(start=540, end=1050)
        >>> Shift.parse("13:00-17:00").label
        '13:00-17:00'
    """

    start: int = attrs.field(converter=_start)
    end: int = attrs.field(converter=_end)

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.start < self.end <= _DAY_MINUTES:
            raise ValidationError(
                "shift", self.label, "must start before it ends, within one day (00:00-24:00)"
            )

    @property
    def label(self) -> str:
        """``"HH:MM-HH:MM"``."""
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"

    @property
    def duration(self) -> timedelta:
        """The shift's wall-clock length (a DST change inside it changes the real length)."""
        return timedelta(minutes=self.end - self.start)

    @classmethod
    def parse(cls, value: object, field: str = "shift") -> Shift:
        """A shift from itself, a ``(start, end)`` pair or ``"HH:MM-HH:MM"``."""
        if isinstance(value, Shift):
            return value
        if isinstance(value, tuple) and len(value) == 2:
            return cls(value[0], value[1])
        if isinstance(value, str) and value.count("-") == 1:
            start, end = value.split("-")
            return cls(start, end)
        raise ValidationError(field, value, 'must be a Shift, a (start, end) pair or "HH:MM-HH:MM"')


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _day_shifts(value: object, field: str) -> tuple[Shift, ...]:
    if isinstance(value, str | Shift) or not isinstance(value, Iterable):
        raise ValidationError(field, value, "must be a sequence of shifts")
    shifts = tuple(sorted(_shift_in(v, field) for v in value))
    for before, after in itertools.pairwise(shifts):
        if after.start < before.end:
            raise ValidationError(field, after.label, f"overlaps {before.label}")
    return shifts


def _shift_in(value: object, field: str) -> Shift:
    """A shift of a named weekday; errors name the weekday (``"hours.mon"``)."""
    try:
        return Shift.parse(value, field)
    except ValidationError as error:
        raise ValidationError(field, value, error.reason) from None


def _week(value: object) -> tuple[tuple[Shift, ...], ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("week", value, "must hold the shifts of 7 weekdays, Monday first")
    days = tuple(value)
    if len(days) != 7:
        raise ValidationError("week", len(days), "must hold the shifts of 7 weekdays, Monday first")
    week = tuple(_day_shifts(day, f"week.{WEEKDAYS[i]}") for i, day in enumerate(days))
    if not any(week):
        raise ValidationError("week", value, "has no business hours on any weekday")
    return week


def _timezone(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 100:
        raise ValidationError("timezone", value, "must be an IANA time zone name")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name the OS cannot open
        raise ValidationError("timezone", value, "is not a known IANA time zone") from None
    return value


def _holidays(value: object) -> frozenset[date]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("holidays", value, "must be a collection of dates")
    return frozenset(ensure_date(v, "holidays") for v in value)


def _rules(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("recurring_holidays", value, "must be a sequence of RRULE texts")
    rules = tuple(value)
    for i, text in enumerate(rules):
        _parse_rule(text, f"recurring_holidays[{i}]")
    return rules


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 80:
        raise ValidationError("name", value, "must be a non-empty string of at most 80 characters")
    return value


def _parse_rule(text: object, field: str) -> rrule:
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(field, text, "must be RRULE text such as FREQ=YEARLY;BYMONTH=12")
    try:
        parsed = rrulestr(text.strip(), dtstart=RRULE_START)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise ValidationError(field, text, "is not a valid RFC 5545 RRULE") from None
    if not isinstance(parsed, rrule):
        raise ValidationError(field, text, "must be a single RRULE (not a rule set)")
    return parsed


@functools.lru_cache(maxsize=4096)
def _rule_dates(text: str, year: int) -> frozenset[date]:
    """The dates a recurrence rule hits in ``year`` (cached: calendars ask day by day)."""
    rule = _parse_rule(text, "recurring_holidays")
    first = datetime(year, 1, 1)
    last = datetime(year, 12, 31, 23, 59, 59)
    try:
        hits = rule.between(first, last, inc=True)
    except TypeError:  # a DTSTART with a zone: compare aware with aware
        hits = rule.between(first.replace(tzinfo=UTC), last.replace(tzinfo=UTC), inc=True)
    return frozenset(d.date() for d in hits)


@attrs.frozen(kw_only=True)
class BusinessCalendar:
    """Weekly business hours in a time zone, minus holidays.

    ``week`` holds the [`Shift`][crmcore.feedback.calendar.Shift] tuples of the seven weekdays,
    Monday first (most callers use
    [`from_hours()`][crmcore.feedback.calendar.BusinessCalendar.from_hours]); ``holidays`` are
    closed dates (local to ``timezone``); ``recurring_holidays`` are RRULE texts
    (``"FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25"``; a rule without ``DTSTART`` starts on 1900-01-01). A
    calendar with no business hours on any weekday is refused with a
    [`ValidationError`][crmcore.kernel.errors.ValidationError].

    Examples:
        >>> cal = BusinessCalendar.from_hours({"mon-fri": "09:00-17:00"}, timezone="Europe/Berlin")
        >>> friday = datetime(2026, 3, 6, 16, 30, tzinfo=ZoneInfo("Europe/Berlin"))
        >>> cal.add(friday, timedelta(hours=1)).astimezone(cal.zone).strftime("%a %H:%M")
        'Mon 09:30'
        >>> # Fri 16:30-17:00 and Mon 09:00-16:30:
        >>> cal.business_time(friday, friday + timedelta(days=3))
        datetime.timedelta(seconds=28800)
    """

    timezone: str = attrs.field(converter=_timezone)
    week: tuple[tuple[Shift, ...], ...] = attrs.field(converter=_week)
    holidays: frozenset[date] = attrs.field(factory=frozenset, converter=_holidays)
    recurring_holidays: tuple[str, ...] = attrs.field(default=(), converter=_rules)
    name: str = attrs.field(default="business hours", converter=_name)

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return ZoneInfo(self.timezone)

    @classmethod
    def from_hours(
        cls,
        hours: Mapping[str, str | Iterable[object]],
        *,
        timezone: str,
        holidays: Iterable[date] = (),
        recurring_holidays: Iterable[str] = (),
        name: str = "business hours",
    ) -> BusinessCalendar:
        """A calendar from readable hours: ``{"mon-fri": "09:00-12:00, 13:00-17:00"}``.

        Keys are weekdays (``"mon"``), ranges (``"mon-fri"``) or lists
        (``"sat,sun"``); values are comma-separated ``"HH:MM-HH:MM"`` shifts
        (``""`` for closed) or a sequence of shifts. Weekdays not named are
        closed; a weekday named twice is an error.
        """
        if not isinstance(hours, Mapping):
            raise ValidationError("hours", hours, "must map weekdays to shifts")
        week: list[tuple[Shift, ...] | None] = [None] * 7
        for key, spec in hours.items():
            for day in _weekday_keys(key):
                if week[day] is not None:
                    raise ValidationError("hours", key, f"names {WEEKDAYS[day]} twice")
                field = f"hours.{WEEKDAYS[day]}"
                if isinstance(spec, str):
                    parts = [p for p in (s.strip() for s in spec.split(",")) if p]
                    week[day] = _day_shifts(parts, field)
                else:
                    week[day] = _day_shifts(spec, field)
        return cls(
            timezone=timezone,
            week=tuple(day or () for day in week),
            holidays=holidays,
            recurring_holidays=recurring_holidays,
            name=name,
        )

    @classmethod
    def always(cls, timezone: str = "UTC") -> BusinessCalendar:
        """A 24/7 calendar: business time equals wall time (no holidays).

        Examples:
            >>> start = datetime(2026, 1, 3, tzinfo=UTC)
            >>> BusinessCalendar.always().business_time(start, start + timedelta(days=2))
            datetime.timedelta(days=2)
        """
        return cls(timezone=timezone, week=((Shift(0, _DAY_MINUTES),),) * 7, name="24/7")

    # -- days ---------------------------------------------------------------------------------
    def is_holiday(self, day: date) -> bool:
        """Whether the local date ``day`` is a holiday (listed, or hit by a recurring rule)."""
        day = ensure_date(day, "day")
        if day in self.holidays:
            return True
        return any(day in _rule_dates(text, day.year) for text in self.recurring_holidays)

    def shifts_on(self, day: date) -> tuple[Shift, ...]:
        """The shifts of the local date ``day`` (none on holidays)."""
        day = ensure_date(day, "day")
        return () if self.is_holiday(day) else self.week[day.weekday()]

    def _windows(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The business windows of the local date ``day``, as UTC instants."""
        zone = self.zone
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        for shift in self.shifts_on(day):
            start = (midnight + timedelta(minutes=shift.start)).astimezone(UTC)
            end = (midnight + timedelta(minutes=shift.end)).astimezone(UTC)
            if end > start:  # a shift wholly inside a spring-forward gap has no instants
                yield start, end

    @staticmethod
    def _instant(value: object, field: str) -> datetime:
        instant = to_utc(value, field)
        if not _EARLIEST <= instant < _LATEST:
            raise ValidationError(
                field,
                value,
                f"must be from {_EARLIEST:%Y-%m-%d} to before {_LATEST:%Y-%m-%d} (the calendar "
                f"searches up to {SEARCH_DAYS} days on)",
            )
        return instant

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    # -- instants -------------------------------------------------------------------------------
    def is_open(self, at: datetime) -> bool:
        """Whether the instant ``at`` lies in business hours."""
        instant = self._instant(at, "at")
        day = self._local_date(instant)
        return any(s <= instant < e for s, e in self._windows(day))

    def business_time(self, start: datetime, end: datetime) -> timedelta:
        """The business time between two instants (zero when ``end <= start``).

        Both lie before 9990-01-01 (as every instant a calendar takes) and at most a century
        apart, else a [`ValidationError`][crmcore.kernel.errors.ValidationError].
        """
        lo, hi = self._instant(start, "start"), self._instant(end, "end")
        total = timedelta(0)
        if hi <= lo:
            return total
        if hi - lo > _MAX_SPAN:
            raise ValidationError(
                "end", end, f"must be at most {_MAX_SPAN.days} days after start (a century)"
            )
        day, last = self._local_date(lo), self._local_date(hi)
        while day <= last:
            for s, e in self._windows(day):
                s, e = max(s, lo), min(e, hi)
                if e > s:
                    total += e - s
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant (UTC) at which ``duration`` of business time after ``start`` has passed.

        ``duration`` must be non-negative; zero returns ``start``. A calendar
        whose holidays leave no business time within about three years raises
        a [`ValidationError`][crmcore.kernel.errors.ValidationError].
        """
        instant = self._instant(start, "start")
        if not isinstance(duration, timedelta) or duration < timedelta(0):
            raise ValidationError("duration", duration, "must be a non-negative timedelta")
        remaining = duration
        if not remaining:
            return instant
        day = self._local_date(instant)
        for _ in range(SEARCH_DAYS):
            for s, e in self._windows(day):
                if e <= instant:
                    continue
                s = max(s, instant)
                if e - s >= remaining:
                    return s + remaining
                remaining -= e - s
            day += timedelta(days=1)
        raise ValidationError(
            "calendar", self.name, f"has no business time within {SEARCH_DAYS} days of {instant}"
        )

    def next_open(self, at: datetime) -> datetime:
        """The first instant at or after ``at`` that lies in business hours (UTC)."""
        instant = self._instant(at, "at")
        day = self._local_date(instant)
        for _ in range(SEARCH_DAYS):
            for s, e in self._windows(day):
                if e > instant:
                    return max(s, instant)
            day += timedelta(days=1)
        raise ValidationError(
            "calendar", self.name, f"has no business time within {SEARCH_DAYS} days of {instant}"
        )


def _weekday_keys(key: object) -> list[int]:
    """Weekday numbers named by ``"mon"``, ``"mon-fri"`` or ``"sat,sun"`` (Monday is 0)."""
    if not isinstance(key, str):
        raise ValidationError("hours", key, "weekday keys must be text such as 'mon-fri'")
    days: list[int] = []
    for part in key.replace(" ", "").lower().split(","):
        ends = [_weekday(p, key) for p in part.split("-")]
        if len(ends) == 1:
            days.append(ends[0])
        elif len(ends) == 2 and ends[0] <= ends[1]:
            days.extend(range(ends[0], ends[1] + 1))
        else:
            raise ValidationError("hours", key, "a range runs forwards within one week: mon-fri")
    return days


def _weekday(name: str, key: str) -> int:
    short = name[:3]
    if short not in WEEKDAYS or not _WEEKDAY_NAMES[WEEKDAYS.index(short)].startswith(name):
        raise ValidationError("hours", key, f"unknown weekday {name!r}; use mon..sun or mon-fri")
    return WEEKDAYS.index(short)


_WEEKDAY_NAMES: Final = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
