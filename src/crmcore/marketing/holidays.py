"""A holiday calendar the host supplies: fixed dates and recurrence rules (RFC 5545 RRULEs).

crmcore ships no holidays of its own: which days a business greets its customers on (节日问候:
Spring Festival, Mid-Autumn, Christmas, a store's anniversary) is the host's choice, and lunar
festivals move every year. A [`Holiday`][crmcore.marketing.holidays.Holiday] is a code, a name and
either explicit dates, an RRULE evaluated by ``dateutil`` (a runtime dependency) or both:

* ``Holiday("christmas", "Christmas", rrule="FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25")``
* ``Holiday("mothers_day", "Mother's Day", rrule="FREQ=YEARLY;BYMONTH=5;BYDAY=2SU")``
* ``Holiday("spring_festival", "春节", dates=[date(2026, 2, 17), date(2027, 2, 6)])``

[`HolidayCalendar.from_mapping()`][crmcore.marketing.holidays.HolidayCalendar.from_mapping] takes
any ``{date: name}`` mapping, such as the ``holidays`` package's
``holidays.country_holidays("CN", years=2026)``, without crmcore depending on it.

Examples:
    >>> from datetime import date
    >>> calendar = HolidayCalendar([
    ...     Holiday("mothers_day", "Mother's Day", rrule="FREQ=YEARLY;BYMONTH=5;BYDAY=2SU"),
    ...     Holiday("spring_festival", "Spring Festival", dates=[date(2027, 2, 6)]),
    ... ])
    >>> days = calendar.between(date(2026, 5, 1), date(2027, 6, 1))
    >>> [(d.isoformat(), h.code) for d, h in days]  # doctest: +NORMALIZE_WHITESPACE
    [('2026-05-10', 'mothers_day'), ('2027-02-06', 'spring_festival'),
     ('2027-05-09', 'mothers_day')]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time

import attrs
from dateutil.rrule import rrule, rrulestr

from crmcore.kernel.clock import ensure_date
from crmcore.kernel.errors import ValidationError

__all__ = ["Holiday", "HolidayCalendar"]

_CODE = re.compile(r"[a-z0-9][a-z0-9_]{0,63}\Z")
_EPOCH_DAY = date(1900, 1, 1)


def _code(value: object) -> str:
    if not isinstance(value, str) or not _CODE.match(value):
        raise ValidationError("holiday.code", value, "must be 1-64 of a-z, 0-9 and _")
    return value


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise ValidationError("holiday.name", value, "must be 1-100 characters, not blank")
    return value.strip()


def _dates(value: object) -> tuple[date, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError("holiday.dates", value, "must be a collection of dates")
    return tuple(sorted({ensure_date(d, "holiday.dates") for d in value}))


def _parse(text: str) -> rrule:
    parsed = rrulestr(text, dtstart=datetime.combine(_EPOCH_DAY, time()), forceset=False)
    if not isinstance(parsed, rrule):
        raise ValueError("a single RRULE is expected")
    return parsed


def _rule(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("holiday.rrule", value, "must be RRULE text or None")
    text = value.strip().removeprefix("RRULE:")
    if "DTSTART" in text.upper():
        raise ValidationError("holiday.rrule", value, "must not carry a DTSTART (use since)")
    try:
        _parse(text)
    except (ValueError, TypeError, OverflowError) as error:
        raise ValidationError("holiday.rrule", value, f"is not an RRULE: {error}") from None
    return text


@attrs.frozen
class Holiday:
    """A holiday: ``code`` (an identifier), ``name``, explicit ``dates`` and/or an ``rrule``.

    The rule's occurrences count from ``since`` (default 1900-01-01); only their dates matter.
    """

    code: str = attrs.field(converter=_code)
    name: str = attrs.field(converter=_name)
    dates: tuple[date, ...] = attrs.field(default=(), converter=_dates)
    rrule: str | None = attrs.field(default=None, converter=_rule)
    since: date = attrs.field(default=_EPOCH_DAY)

    def __attrs_post_init__(self) -> None:
        ensure_date(self.since, "holiday.since")
        if not self.dates and self.rrule is None:
            raise ValidationError("holiday.dates", self.dates, "give dates, an rrule, or both")

    def occurrences(self, start: date, end: date) -> tuple[date, ...]:
        """The holiday's dates in ``[start, end)``, sorted."""
        first, last = ensure_date(start, "start"), ensure_date(end, "end")
        found = {d for d in self.dates if first <= d < last}
        if self.rrule is not None and first < last:
            rule = _parse(self.rrule).replace(dtstart=datetime.combine(self.since, time()))
            lo = datetime.combine(max(first, self.since), time())
            hi = datetime.combine(last, time())
            found.update(moment.date() for moment in rule.between(lo, hi, inc=True) if moment < hi)
        return tuple(sorted(found))


def _holidays(value: object) -> tuple[Holiday, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError("holidays", value, "must be a collection of Holiday")
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, Holiday):
            raise ValidationError(f"holidays[{i}]", item, "must be a Holiday")
    codes = [h.code for h in items]
    if len(set(codes)) != len(codes):
        raise ValidationError("holidays", codes, "must have distinct codes")
    return items


@attrs.frozen
class HolidayCalendar:
    """The holidays a business observes."""

    holidays: tuple[Holiday, ...] = attrs.field(default=(), converter=_holidays)

    @classmethod
    def from_mapping(cls, days: Mapping[date, str]) -> HolidayCalendar:
        """A calendar from ``{date: name}``; each distinct name becomes a holiday whose code is
        the name in lower case with other characters as ``_`` (non-ASCII names: ``holiday_N``)."""
        if not isinstance(days, Mapping):
            raise ValidationError("days", days, "must map dates to names")
        by_name: dict[str, list[date]] = {}
        for day, name in days.items():
            by_name.setdefault(_name(name), []).append(ensure_date(day, "days"))
        holidays = []
        used: set[str] = set()
        for n, (name, dates) in enumerate(sorted(by_name.items())):
            code = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:60] or f"holiday_{n}"
            if not code[0].isalnum() or code in used:
                code = f"holiday_{n}"
            used.add(code)
            holidays.append(Holiday(code, name, dates=dates))
        return cls(holidays)

    def between(self, start: date, end: date) -> list[tuple[date, Holiday]]:
        """Every holiday date in ``[start, end)`` with its holiday, by date then code."""
        pairs = [(d, h) for h in self.holidays for d in h.occurrences(start, end)]
        return sorted(pairs, key=lambda pair: (pair[0], pair[1].code))
