"""Points expiry policies: when the points of a lot stop being spendable.

One [`ExpiryPolicy`][crmcore.loyalty.expiry.ExpiryPolicy] value (serialisable data) names a rule and
its parameters; [`ExpiryPolicy.lot_expiry()`][crmcore.loyalty.expiry.ExpiryPolicy.lot_expiry] turns
an earning time into the instant the lot expires and
[`ExpiryPolicy.inactivity_deadline()`][crmcore.loyalty.expiry.ExpiryPolicy.inactivity_deadline]
gives the account-wide deadline of the inactivity rule. Expiry instants are exclusive: points are
spendable while ``at < expires_at`` and expired from ``expires_at`` on. Calendar arithmetic is done
in the program's time zone (wall clock, so a month end is the local month end) and the result
returned in UTC.

The rules (the union of the peers' taxonomies, PEERS.md §4.2):

* ``never``: points do not expire;
* ``months_after``: ``months`` calendar months after earning, by
  `dateutil.relativedelta.relativedelta` (Jan 31 + 1 month = Feb 28,
  or Feb 29 in a leap year: the day is clamped to the month's end);
* ``end_of_month``: at the end of the ``months``-th month after the month of
  earning (valid through its last day; 0 = the end of the month earned in;
  Square's ``P12M`` "valid through the end of the month");
* ``fixed_date``: at the end of a fixed day each year (``month``/``day``), the
  first such day at least ``months`` months after earning (Feb 29 is Feb 28
  in other years);
* ``inactivity``: every point expires once ``months`` months pass without
  activity (an earn, award or redemption); lots carry no date of their own.

Examples:
    >>> from datetime import UTC, datetime
    >>> ExpiryPolicy.months_after(1).lot_expiry(datetime(2024, 1, 31, 15, tzinfo=UTC))
    datetime.datetime(2024, 2, 29, 15, 0, tzinfo=datetime.timezone.utc)
    >>> ExpiryPolicy.end_of_month(12).lot_expiry(datetime(2020, 7, 6, tzinfo=UTC))
    datetime.datetime(2021, 8, 1, 0, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import calendar
import enum
import functools
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from dateutil.relativedelta import relativedelta

from crmcore.kernel import validators
from crmcore.kernel.errors import ValidationError

__all__ = ["ExpiryPolicy", "ExpiryRule", "add_months", "program_zone"]


class ExpiryRule(enum.StrEnum):
    """The closed set of expiry rules (see the module docstring)."""

    NEVER = "never"
    MONTHS_AFTER = "months_after"
    END_OF_MONTH = "end_of_month"
    FIXED_DATE = "fixed_date"
    INACTIVITY = "inactivity"


_MAX_MONTHS = 12 * 10_000  # more than the whole calendar datetime.date covers
_ZONE_NAME_LIMIT = 255  # IANA names are far shorter; a longer one is no file name either


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the month end (relativedelta).

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] for a ``day`` that is not a
    date, a ``months`` that is not a whole number, or a result beyond year 9999 (or before 1).

    Examples:
        >>> add_months(date(2024, 1, 31), 1)
        datetime.date(2024, 2, 29)
        >>> add_months(date(9999, 12, 1), 1)
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: months: plus 1 months from 9999-12-01 ...
    """
    if not isinstance(day, date):
        raise ValidationError("day", day, "must be a date")
    count = validators.integer(months, "months", low=-_MAX_MONTHS, high=_MAX_MONTHS)
    try:
        return _shifted(day, count)
    except (ValueError, OverflowError):  # the calendar ends at year 9999 (starts at year 1)
        raise ValidationError(
            "months", months, f"plus {count} months from {day} is outside years 1 to 9999"
        ) from None


@functools.lru_cache(maxsize=65536)
def _shifted(day: date, months: int) -> date:
    """`add_months()` on checked arguments (memoised: the expiry rules ask per earning day)."""
    result: date = day + relativedelta(months=months)
    return result


def program_zone(name: str) -> tzinfo:
    """The `ZoneInfo` named ``name`` (``"UTC"`` is `datetime.UTC`).

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] naming ``timezone`` when
    ``name`` is not the name of an IANA time zone.
    """
    if not isinstance(name, str) or len(name) > _ZONE_NAME_LIMIT:
        raise ValidationError("timezone", name, "is not an IANA time zone name")
    return _zone(name)


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo:
    if name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError("timezone", name, "is not an IANA time zone name") from None


def _rule(value: object) -> ExpiryRule:
    if isinstance(value, ExpiryRule):
        return value
    if isinstance(value, str) and value in ExpiryRule._value2member_map_:
        return ExpiryRule(value)
    allowed = ", ".join(r.value for r in ExpiryRule)
    raise ValidationError("expiry.rule", value, f"must be one of {allowed}")


def _int(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(field, value, f"must be an integer from {low} to {high}")
    return value


def _months(value: object) -> int:
    return _int(value, "expiry.months", 0, 1200)


def _month(value: object) -> int:
    return _int(value, "expiry.month", 1, 12)


def _day(value: object) -> int:
    return _int(value, "expiry.day", 1, 31)


@functools.lru_cache(maxsize=65536)
def _local_midnight(day: date, zone: tzinfo) -> datetime:
    """The first instant of ``day`` in ``zone``, in UTC."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@attrs.frozen(kw_only=True)
class ExpiryPolicy:
    """When points expire: a rule and its parameters (frozen, serialisable).

    Build one with the class methods ([`never()`][crmcore.loyalty.expiry.ExpiryPolicy.never],
    [`months_after()`][crmcore.loyalty.expiry.ExpiryPolicy.months_after],
    [`end_of_month()`][crmcore.loyalty.expiry.ExpiryPolicy.end_of_month],
    [`fixed_date()`][crmcore.loyalty.expiry.ExpiryPolicy.fixed_date],
    [`inactivity()`][crmcore.loyalty.expiry.ExpiryPolicy.inactivity]).
    """

    rule: ExpiryRule = attrs.field(default=ExpiryRule.NEVER, converter=_rule)
    months: int = attrs.field(default=0, converter=_months)
    month: int = attrs.field(default=12, converter=_month)
    day: int = attrs.field(default=31, converter=_day)

    def __attrs_post_init__(self) -> None:
        needs_months = (ExpiryRule.MONTHS_AFTER, ExpiryRule.INACTIVITY)
        if self.rule in needs_months and self.months < 1:
            raise ValidationError("expiry.months", self.months, f"must be >= 1 for {self.rule}")
        if self.day > calendar.monthrange(2024, self.month)[1]:
            raise ValidationError("expiry.day", self.day, f"does not exist in month {self.month}")

    @classmethod
    def never(cls) -> ExpiryPolicy:
        """Points never expire."""
        return cls(rule=ExpiryRule.NEVER)

    @classmethod
    def months_after(cls, months: int) -> ExpiryPolicy:
        """Points expire ``months`` calendar months after they were earned."""
        return cls(rule=ExpiryRule.MONTHS_AFTER, months=months)

    @classmethod
    def end_of_month(cls, months: int) -> ExpiryPolicy:
        """Points expire at the end of the ``months``-th month after the month earned."""
        return cls(rule=ExpiryRule.END_OF_MONTH, months=months)

    @classmethod
    def fixed_date(cls, month: int, day: int, *, months: int = 0) -> ExpiryPolicy:
        """Points expire at the end of ``month``/``day``, at least ``months`` after earning."""
        return cls(rule=ExpiryRule.FIXED_DATE, month=month, day=day, months=months)

    @classmethod
    def inactivity(cls, months: int) -> ExpiryPolicy:
        """All points expire after ``months`` months without activity."""
        return cls(rule=ExpiryRule.INACTIVITY, months=months)

    @property
    def per_lot(self) -> bool:
        """True when each lot carries its own expiry date (not never, not inactivity)."""
        return self.rule not in (ExpiryRule.NEVER, ExpiryRule.INACTIVITY)

    def lot_expiry(self, earned_at: datetime, timezone: str = "UTC") -> datetime | None:
        """The instant (UTC) a lot earned at ``earned_at`` expires; ``None`` if it has none.

        The calendar ends on 9999-12-31: a date the rule would put after it is no expiry.
        """
        rule = self.rule
        if rule is ExpiryRule.NEVER or rule is ExpiryRule.INACTIVITY:
            return None
        zone = program_zone(timezone)
        try:
            return self._lot_expiry(earned_at, zone)
        except (OverflowError, ValueError):  # past year 9999 (date arithmetic and astimezone)
            return None

    def _lot_expiry(self, earned_at: datetime, zone: tzinfo) -> datetime:
        rule = self.rule
        local = earned_at.astimezone(zone) if zone is not UTC else earned_at
        day = local.date()
        if rule is ExpiryRule.MONTHS_AFTER:
            shifted = _shifted(day, self.months)
            return datetime.combine(shifted, local.timetz()).astimezone(UTC)
        if rule is ExpiryRule.END_OF_MONTH:
            first = _shifted(day.replace(day=1), self.months + 1)
            return _local_midnight(first, zone)
        # FIXED_DATE: the first month/day on or after the earliest date allowed.
        earliest = _shifted(day, self.months)
        target = _clamped(earliest.year, self.month, self.day)
        if target < earliest:
            target = _clamped(earliest.year + 1, self.month, self.day)
        return _local_midnight(target + timedelta(days=1), zone)

    def inactivity_deadline(
        self, last_activity: datetime | None, timezone: str = "UTC"
    ) -> datetime | None:
        """When every point expires under the inactivity rule (``None`` for other rules, and
        when the deadline would fall after 9999-12-31)."""
        if self.rule is not ExpiryRule.INACTIVITY or last_activity is None:
            return None
        zone = program_zone(timezone)
        try:
            local = last_activity.astimezone(zone) if zone is not UTC else last_activity
            shifted = _shifted(local.date(), self.months)
            return datetime.combine(shifted, local.timetz()).astimezone(UTC)
        except (OverflowError, ValueError):  # past year 9999: no deadline the calendar can hold
            return None

    def describe(self) -> str:
        """A one-line description for reports and docs."""
        if self.rule is ExpiryRule.NEVER:
            return "points never expire"
        if self.rule is ExpiryRule.MONTHS_AFTER:
            return f"points expire {self.months} months after earning"
        if self.rule is ExpiryRule.END_OF_MONTH:
            return f"points expire at the end of the {self.months}th month after earning"
        if self.rule is ExpiryRule.FIXED_DATE:
            return f"points expire at the end of {self.month:02d}-{self.day:02d} each year"
        return f"points expire after {self.months} months without activity"


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))
