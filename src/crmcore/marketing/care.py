"""The customer care calendar: birthday, anniversary and holiday greetings, due in local time.

The seeds' 生日祝福 and 节日问候: a [`CarePlan`][crmcore.marketing.care.CarePlan] says which
occasions a business greets (birthdays, sign-up anniversaries, the holidays of a host-supplied
[`HolidayCalendar`][crmcore.marketing.holidays.HolidayCalendar]), how many days ahead
(``lead_days``, e.g. to send a birthday coupon a week early) and at which local wall time
(``send_at``, 09:00).
A greeting is *due* at that wall time, in the **customer's time zone** (the ``time_zone`` custom
attribute, else the plan's default), on the occasion's local date minus the lead: a customer in
Shanghai and one in Berlin get their 09:00 greeting at different instants.

**29 February.** A birthday or sign-up on 29 February falls, in common years, on 28 February
(``LeapDayRule.FEB_28``, the default, keeping it in the birth month) or on 1 March
(``LeapDayRule.MAR_1``, the day a leap-day baby legally comes of age in many countries); leap years
use 29 February itself. An anniversary's local date is the sign-up instant's date in the
customer's zone. ``years`` is the age reached, or the anniversary's number (from 1).

[`care_triggers()`][crmcore.marketing.care.care_triggers] answers for one customer;
[`care_due()`][crmcore.marketing.care_batch.care_due] answers "who is due in the next N days" for
a whole [`CustomerFrame`][crmcore.columnar.CustomerFrame], vectorised, with the same rules (a
differential test holds them together). Wall times that a daylight-saving change skips or repeats
follow [`crmcore.marketing.local_time`][crmcore.marketing.local_time] (``fold=0``). Erased
customers get no greetings; consent is the sender's check at send time.

Examples:
    >>> from datetime import UTC, date, datetime
    >>> leapling = {"id": "c-1", "birth_date": date(2004, 2, 29),
    ...             "created_at": datetime(2020, 5, 1, tzinfo=UTC),
    ...             "attr.time_zone": "Asia/Shanghai"}
    >>> plan = CarePlan(lead_days=0)
    >>> [(t.occasion.value, t.occasion_date.isoformat(), t.years, t.due_at.isoformat())
    ...  for t in care_triggers(leapling, plan, datetime(2026, 2, 20, tzinfo=UTC), days=14)]
    [('birthday', '2026-02-28', 22, '2026-02-28T01:00:00+00:00')]
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Final

import attrs

from crmcore.columnar.schema import customer_record
from crmcore.customers.customer import Customer
from crmcore.kernel import validators
from crmcore.kernel.clock import shifted, to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.marketing.holidays import HolidayCalendar
from crmcore.marketing.local_time import (
    DEFAULT_ZONE,
    check_wall_time,
    check_zone,
    local_instant,
    zone,
    zone_of_record,
)
from crmcore.marketing.offer_events import CareOccasionDue
from crmcore.marketing.targeting import in_target, target_text

__all__ = [
    "MAX_DAYS",
    "CarePlan",
    "CareTrigger",
    "LeapDayRule",
    "Occasion",
    "care_triggers",
    "check_window",
    "occasion_date",
]

MAX_DAYS: Final = 3660
"""The longest window one call looks ahead (ten years)."""


class Occasion(enum.StrEnum):
    """What a greeting is for."""

    BIRTHDAY = "birthday"
    ANNIVERSARY = "anniversary"
    HOLIDAY = "holiday"


class LeapDayRule(enum.StrEnum):
    """Where 29 February falls in a common year."""

    FEB_28 = "feb_28"
    MAR_1 = "mar_1"


def occasion_date(original: date, year: int, rule: LeapDayRule | str = LeapDayRule.FEB_28) -> date:
    """The date in ``year`` of the yearly occasion first held on ``original``.

    Examples:
        >>> occasion_date(date(2000, 2, 29), 2026), occasion_date(date(2000, 2, 29), 2026, "mar_1")
        (datetime.date(2026, 2, 28), datetime.date(2026, 3, 1))
        >>> occasion_date(date(2000, 2, 29), 2028)
        datetime.date(2028, 2, 29)

    Raises:
        ValidationError: ``original`` is not a date, ``year`` not an integer in 1..9999, or
            ``rule`` not a [`LeapDayRule`][crmcore.marketing.care.LeapDayRule] (or its value).
    """
    if not isinstance(original, date):  # a datetime is a date too, and keeps its time
        raise ValidationError("original", original, "must be a date")
    year = validators.integer(year, "year", low=1, high=9999)
    return _occasion_date(original, year, validators.choice(rule, "rule", LeapDayRule))


def _occasion_date(original: date, year: int, rule: LeapDayRule) -> date:
    """[`occasion_date()`][crmcore.marketing.care.occasion_date] of checked arguments (the
    per-customer loop of ``care_triggers`` calls this once per year)."""
    if (original.month, original.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 3, 1) if rule is LeapDayRule.MAR_1 else date(year, 2, 28)
    return original.replace(year=year)


def _lead(_instance: object, _attribute: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 366:
        raise ValidationError("lead_days", value, "must be a whole number of days in 0..366")


def _send_at(value: object) -> time:
    return check_wall_time(value, "send_at")


def _zone(value: object) -> str:
    return check_zone(value, "default_time_zone")


def _calendar(_instance: object, _attribute: object, value: HolidayCalendar) -> None:
    if not isinstance(value, HolidayCalendar):
        raise ValidationError("holidays", value, "must be a HolidayCalendar")


def _segment(value: object) -> str | None:
    return target_text(value, "segment")


def _leap_day(value: object) -> LeapDayRule:
    return validators.choice(value, "leap_day", LeapDayRule)


@attrs.frozen(kw_only=True)
class CarePlan:
    """Which occasions to greet, how early, at which local time, for whom."""

    birthday: bool = attrs.field(default=True, validator=validators.flag)
    anniversary: bool = attrs.field(default=False, validator=validators.flag)
    holidays: HolidayCalendar = attrs.field(factory=HolidayCalendar, validator=_calendar)
    lead_days: int = attrs.field(default=0, validator=_lead)
    send_at: time = attrs.field(default=time(9), converter=_send_at)
    leap_day: LeapDayRule = attrs.field(default=LeapDayRule.FEB_28, converter=_leap_day)
    default_time_zone: str = attrs.field(default=DEFAULT_ZONE, converter=_zone)
    segment: str | None = attrs.field(default=None, converter=_segment)


@attrs.frozen
class CareTrigger:
    """One greeting due: for ``customer_id``, the ``occasion`` on the local ``occasion_date``,
    due at ``due_at`` (UTC); ``years`` reached (birthdays, anniversaries) or the ``holiday``."""

    customer_id: str
    occasion: Occasion
    occasion_date: date
    due_at: datetime
    years: int | None = None
    holiday: str | None = None

    def to_event(self) -> CareOccasionDue:
        """The ``marketing.care_due`` event of this greeting (no personal data)."""
        return CareOccasionDue(
            aggregate_id=self.customer_id,
            occurred_at=self.due_at,
            occasion=self.occasion.value,
            occasion_date=self.occasion_date,
            holiday=self.holiday,
            years=self.years,
        )


def check_window(start: datetime, days: int) -> tuple[datetime, datetime]:
    """``[start, start + days)`` in UTC, checked.

    Raises:
        ValidationError: ``start`` is not an aware datetime, ``days`` not a whole number in
            1..`MAX_DAYS`, or the window (and a day after it) would reach past year 9999.
    """
    first = to_utc(start, "start")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationError("days", days, f"must be a whole number in 1..{MAX_DAYS}")
    # A day of margin: the window's last local date may lie a day past its UTC end.
    shifted(first, timedelta(days=days + 1), "start")
    return first, first + timedelta(days=days)


def _local_date(instant: datetime, zone_name: str) -> date:
    return instant.astimezone(zone(zone_name)).date()


def care_triggers(
    customer: Customer | Mapping[str, object], plan: CarePlan, start: datetime, days: int
) -> tuple[CareTrigger, ...]:
    """The greetings due for one customer in ``[start, start + days)``, by due time.

    ``customer`` is a [`Customer`][crmcore.customers.Customer] or a flat record with ``id``,
    ``birth_date`` (a date), ``created_at`` (aware) and optionally ``attr.time_zone`` and
    ``erased``. Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] for a bad
    window or an unknown time zone.
    """
    if not isinstance(plan, CarePlan):
        raise ValidationError("plan", plan, "must be a CarePlan")
    record = customer_record(customer) if isinstance(customer, Customer) else customer
    if not isinstance(record, Mapping):
        raise ValidationError("customer", customer, "must be a Customer or a record")
    first, end = check_window(start, days)
    if record.get("erased") or not in_target(plan.segment, record, first):
        return ()
    who = str(record.get("id"))
    zone_name = zone_of_record(record, plan.default_time_zone)
    lead = timedelta(days=plan.lead_days)
    local_first = _local_date(first, zone_name) - timedelta(days=1)
    local_last = _local_date(end, zone_name) + timedelta(days=1) + lead
    out: list[CareTrigger] = []

    def due(day: date) -> datetime | None:
        moment = local_instant(zone_name, day - lead, plan.send_at)
        return moment if first <= moment < end else None

    yearly: list[tuple[Occasion, date]] = []
    born = record.get("birth_date")
    if plan.birthday and isinstance(born, date):
        yearly.append((Occasion.BIRTHDAY, born))
    created = record.get("created_at")
    if plan.anniversary and isinstance(created, datetime):
        yearly.append((Occasion.ANNIVERSARY, _local_date(to_utc(created, "created_at"), zone_name)))
    for occasion, original in yearly:
        for year in range(max(local_first.year, original.year + 1), local_last.year + 1):
            day = _occasion_date(original, year, plan.leap_day)
            moment = due(day)
            if moment is not None:
                out.append(CareTrigger(who, occasion, day, moment, years=year - original.year))
    for day, holiday in plan.holidays.between(local_first, local_last + timedelta(days=1)):
        moment = due(day)
        if moment is not None:
            out.append(CareTrigger(who, Occasion.HOLIDAY, day, moment, holiday=holiday.code))
    order = list(Occasion)
    out.sort(key=lambda t: (t.due_at, order.index(t.occasion), t.holiday or ""))
    return tuple(out)
