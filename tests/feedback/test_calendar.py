"""Business-hours calendars: weekly hours, split shifts, holidays, time zones, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.feedback.calendar import BusinessCalendar, Shift
from crmcore.kernel import codec
from crmcore.kernel.errors import ValidationError

BERLIN = ZoneInfo("Europe/Berlin")
NY = ZoneInfo("America/New_York")
H = timedelta(hours=1)


def office(**kw: object) -> BusinessCalendar:
    return BusinessCalendar.from_hours(
        {"mon-fri": "09:00-17:00"},
        timezone=str(kw.pop("timezone", "Europe/Berlin")),
        **kw,  # type: ignore[arg-type]
    )


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0, zone: ZoneInfo = BERLIN) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=zone)


# -- peer fixtures (PEERS.md §8) -------------------------------------------------------------------


def test_chatwoot_friday_1630_plus_1h_is_monday_0930() -> None:
    cal = office()
    due = cal.add(local(2026, 3, 6, 16, 30), H)  # Friday
    assert due == local(2026, 3, 9, 9, 30)
    assert due.tzinfo is UTC


def test_helpdesk_friday_1600_plus_8h_is_monday_1600() -> None:
    cal = office()
    assert cal.add(local(2026, 3, 6, 16), 8 * H) == local(2026, 3, 9, 16)


def test_time_running_out_at_closing_stays_at_closing() -> None:
    cal = office()
    assert cal.add(local(2026, 3, 6, 16), H) == local(2026, 3, 6, 17)


def test_opened_outside_hours_starts_at_opening_not_zero() -> None:
    # GLPI #687: tickets opened outside the calendar got no delay at all.
    cal = office()
    saturday = local(2026, 3, 7, 11)
    assert cal.add(saturday, 2 * H) == local(2026, 3, 9, 11)
    assert cal.business_time(saturday, local(2026, 3, 9, 11)) == 2 * H
    assert cal.next_open(saturday) == local(2026, 3, 9, 9)
    assert cal.next_open(local(2026, 3, 9, 10)) == local(2026, 3, 9, 10)


def test_business_time_across_weekend_and_holiday() -> None:
    cal = office(holidays=[date(2026, 3, 9)])  # Monday is a holiday
    start, end = local(2026, 3, 6, 15), local(2026, 3, 10, 11)
    assert cal.business_time(start, end) == 4 * H  # Fri 15-17, Tue 9-11
    assert cal.add(start, 4 * H) == end
    assert cal.business_time(end, start) == timedelta(0)


def test_split_shift_lunch_break_does_not_count() -> None:
    cal = BusinessCalendar.from_hours(
        {"mon-fri": "09:00-12:00, 13:00-17:00"}, timezone="Europe/Berlin"
    )
    assert cal.business_time(local(2026, 3, 2, 11), local(2026, 3, 2, 14)) == 2 * H
    assert cal.add(local(2026, 3, 2, 11, 30), H) == local(2026, 3, 2, 13, 30)
    assert not cal.is_open(local(2026, 3, 2, 12, 30))
    assert cal.is_open(local(2026, 3, 2, 13)) and not cal.is_open(local(2026, 3, 2, 17))


def test_recurring_holidays_from_rrule() -> None:
    cal = office(
        recurring_holidays=[
            "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25",
            "FREQ=YEARLY;BYMONTH=11;BYDAY=+4TH",  # US Thanksgiving
        ]
    )
    assert cal.is_holiday(date(2026, 12, 25)) and cal.is_holiday(date(2031, 12, 25))
    assert cal.is_holiday(date(2026, 11, 26)) and not cal.is_holiday(date(2026, 11, 19))
    assert cal.shifts_on(date(2026, 12, 25)) == ()
    assert cal.business_time(local(2026, 12, 24, 9), local(2026, 12, 26)) == 8 * H


def test_time_zone_is_respected() -> None:
    cal = office(timezone="America/New_York")
    # 14:00 UTC on a Monday in March (after US DST start) is 10:00 in New York.
    start = datetime(2026, 3, 9, 14, tzinfo=UTC)
    assert cal.add(start, 7 * H) == local(2026, 3, 9, 17, zone=NY)
    assert cal.add(start, 8 * H) == local(2026, 3, 10, 10, zone=NY)


def test_spring_forward_week_in_berlin() -> None:
    # Clocks go 02:00 -> 03:00 on Sunday 2026-03-29.
    day = BusinessCalendar.from_hours({"mon-fri": "09:00-17:00"}, timezone="Europe/Berlin")
    week = day.business_time(local(2026, 3, 23), local(2026, 3, 30, 12))
    assert week == 5 * 8 * H + 3 * H
    # Friday 16:00 + 2h crosses the change: Monday 10:00 CEST = 08:00 UTC.
    due = day.add(local(2026, 3, 27, 16), 2 * H)
    assert due == datetime(2026, 3, 30, 8, tzinfo=UTC)
    # 24/7 support with a night shift spanning the gap: 01:00-04:00 lasts 2 real hours.
    night = BusinessCalendar.from_hours({"mon-sun": "01:00-04:00"}, timezone="Europe/Berlin")
    assert night.business_time(local(2026, 3, 29), local(2026, 3, 30)) == 2 * H
    assert night.business_time(local(2026, 3, 28), local(2026, 3, 29)) == 3 * H
    assert night.add(local(2026, 3, 29, 1), 90 * timedelta(minutes=1)) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )
    # A shift wholly inside the gap has no instants at all.
    gap = BusinessCalendar.from_hours(
        {"sun": "02:00-03:00", "mon": "09:00-10:00"}, timezone="Europe/Berlin"
    )
    assert gap.business_time(local(2026, 3, 29), local(2026, 3, 30)) == timedelta(0)
    assert gap.business_time(local(2026, 3, 22), local(2026, 3, 23)) == H


def test_fall_back_night_counts_the_repeated_hour() -> None:
    night = BusinessCalendar.from_hours({"mon-sun": "01:00-04:00"}, timezone="Europe/Berlin")
    assert night.business_time(local(2026, 10, 25), local(2026, 10, 26)) == 4 * H


def test_always_calendar_is_wall_time() -> None:
    cal = BusinessCalendar.always("Europe/Berlin")
    start = local(2026, 3, 28, 22)
    # Across the spring-forward night: 30 real hours, though the wall clock moved 31.
    end = start.astimezone(UTC) + 30 * H
    assert cal.business_time(start, end) == 30 * H
    assert cal.add(start, 30 * H) == end
    assert cal.business_time(start, start + 30 * H) == 29 * H  # wall-clock arithmetic


def test_add_zero_returns_start() -> None:
    cal = office()
    sunday = local(2026, 3, 8, 12)
    assert cal.add(sunday, timedelta(0)) == sunday


# -- bad input -------------------------------------------------------------------------------------


def test_calendar_with_no_business_hours_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        BusinessCalendar.from_hours({"mon-sun": ""}, timezone="UTC")
    assert info.value.field == "week"
    with pytest.raises(ValidationError):
        BusinessCalendar.from_hours({}, timezone="UTC")


@pytest.mark.parametrize(
    ("hours", "field"),
    [
        ({"mon": "17:00-09:00"}, "hours.mon"),
        ({"mon": "09:00-25:00"}, "hours.mon"),
        ({"mon": ["09:00-10:00", "nine"]}, "hours.mon"),
        ({"mon": "9-17"}, "hours.mon"),
        ({"mon": "09:00-12:00, 11:00-13:00"}, "hours.mon"),
        ({"funday": "09:00-17:00"}, "hours"),
        ({"fri-mon": "09:00-17:00"}, "hours"),
        ({"mon-fri": "09:00-17:00", "fri": "10:00-11:00"}, "hours"),
    ],
)
def test_bad_hours_are_named(hours: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        BusinessCalendar.from_hours(hours, timezone="UTC")
    assert info.value.field == field


def test_bad_timezone_holidays_and_rules() -> None:
    with pytest.raises(ValidationError) as info:
        office(timezone="Mars/Olympus")
    assert info.value.field == "timezone"
    with pytest.raises(ValidationError) as info:
        office(holidays=[datetime(2026, 1, 1, tzinfo=UTC)])
    assert info.value.field == "holidays"
    with pytest.raises(ValidationError) as info:
        office(recurring_holidays=["FREQ=SOMETIMES"])
    assert info.value.field == "recurring_holidays[0]"


def test_naive_datetimes_are_refused() -> None:
    cal = office()
    with pytest.raises(ValidationError) as info:
        cal.add(datetime(2026, 3, 2, 9), H)
    assert info.value.field == "start"
    with pytest.raises(ValidationError) as info:
        cal.business_time(local(2026, 3, 2), datetime(2026, 3, 3))
    assert info.value.field == "end"
    with pytest.raises(ValidationError):
        cal.add(local(2026, 3, 2), -H)


def test_a_calendar_closed_by_holidays_forever_raises() -> None:
    cal = office(recurring_holidays=["FREQ=DAILY"])
    with pytest.raises(ValidationError) as info:
        cal.add(local(2026, 3, 2), H)
    assert info.value.field == "calendar"
    assert cal.business_time(local(2026, 3, 2), local(2026, 4, 2)) == timedelta(0)


def test_shift_forms() -> None:
    assert Shift(time(9), time(17)) == Shift("09:00", "17:00") == Shift(540, 1020)
    assert Shift.parse(("08:30", "24:00")).end == 1440
    assert Shift("09:00", "17:00").duration == 8 * H
    with pytest.raises(ValidationError) as info:
        Shift(time(9, 0, 30), time(17))
    assert info.value.field == "shift.start"
    with pytest.raises(ValidationError) as info:
        Shift("17:00", "09:00")
    assert info.value.field == "shift"


def test_calendar_codec_round_trip() -> None:
    cal = office(
        holidays=[date(2026, 5, 1)], recurring_holidays=["FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1"]
    )
    assert codec.decode(BusinessCalendar, codec.encode(cal, BusinessCalendar)) == cal


# -- properties ------------------------------------------------------------------------------------

CALENDARS = [
    office(holidays=[date(2026, 3, 9)]),
    BusinessCalendar.from_hours(
        {"mon-fri": "08:00-12:00, 13:30-18:00", "sat": "10:00-14:00"},
        timezone="Europe/Berlin",
        recurring_holidays=["FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=31"],
    ),
    BusinessCalendar.from_hours({"mon-sun": "01:00-04:00, 22:00-24:00"}, timezone="Europe/Berlin"),
    BusinessCalendar.from_hours({"mon-fri": "09:00-17:00"}, timezone="America/New_York"),
]
BASE = datetime(2026, 3, 20, tzinfo=UTC)
instants = st.integers(0, 20 * 24 * 60).map(lambda m: BASE + timedelta(minutes=m))
durations = st.integers(0, 40 * 60).map(lambda m: timedelta(minutes=m))


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(CALENDARS), instants, durations)
def test_add_then_measure_gives_it_back(
    cal: BusinessCalendar, start: datetime, d: timedelta
) -> None:
    end = cal.add(start, d)
    assert end >= start
    assert cal.business_time(start, end) == d


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(CALENDARS), instants, instants, instants)
def test_business_time_is_additive_and_bounded(
    cal: BusinessCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    a, b, c = sorted((a, b, c))
    ab, bc, ac = cal.business_time(a, b), cal.business_time(b, c), cal.business_time(a, c)
    assert ab + bc == ac
    assert timedelta(0) <= ac <= c - a


def test_instants_near_the_end_of_time_and_spans_over_a_century_are_refused() -> None:
    cal = office()
    last = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    for call, field in (
        (lambda: cal.is_open(last), "at"),
        (lambda: cal.next_open(last), "at"),
        (lambda: cal.add(last, H), "start"),
        (lambda: cal.business_time(local(2026, 1, 5), last), "end"),
        (lambda: cal.business_time(local(1900, 1, 1), local(2026, 1, 5)), "end"),
    ):
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == field
    # the last decade still answers
    assert cal.is_open(local(9989, 12, 1, 10)) is True  # a Friday
    assert cal.business_time(local(9989, 12, 1, 9), local(9989, 12, 1, 17)) == 8 * H


def test_a_time_zone_name_the_system_cannot_open_is_a_validation_error() -> None:
    for name in ("x" * 5000, "a\x00b", "../../etc/passwd"):
        with pytest.raises(ValidationError) as caught:
            BusinessCalendar.always(name)
        assert caught.value.field == "timezone"
