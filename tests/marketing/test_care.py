"""The care calendar: 29 February, time zones, holidays; batch path = per-customer path."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.columnar import CustomerFrame
from crmcore.kernel.errors import ValidationError
from crmcore.marketing.care import CarePlan, LeapDayRule, Occasion, care_triggers, occasion_date
from crmcore.marketing.care_batch import care_due
from crmcore.marketing.holidays import Holiday, HolidayCalendar

ZONES = [
    "UTC",
    "Asia/Shanghai",
    "Europe/Berlin",
    "America/New_York",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Australia/Lord_Howe",
]
CALENDAR = HolidayCalendar(
    [
        Holiday("new_year", "New Year", rrule="FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1"),
        Holiday("mothers_day", "Mother's Day", rrule="FREQ=YEARLY;BYMONTH=5;BYDAY=2SU"),
        Holiday("spring_festival", "Spring Festival", dates=[date(2026, 2, 17), date(2027, 2, 6)]),
    ]
)


def record(i: int, born: date | None, zone: str | None, created: datetime) -> dict[str, object]:
    base: dict[str, object] = {
        "id": f"c-{i}",
        "name": "x",
        "created_at": created,
        "birth_date": born,
        "purchase_count": 0,
        "items_purchased": 0,
        "total_spent": 0.0,
        "interaction_count": 0,
        "service_count": 0,
        "erased": False,
        **{f"consent_{c}": False for c in ("email", "sms", "phone", "post", "push", "messaging")},
    }
    base["attr.time_zone"] = zone
    return base


def test_a_leap_day_birthday_follows_the_rule() -> None:
    assert occasion_date(date(2004, 2, 29), 2027) == date(2027, 2, 28)
    assert occasion_date(date(2004, 2, 29), 2027, LeapDayRule.MAR_1) == date(2027, 3, 1)
    assert occasion_date(date(2004, 2, 29), 2028) == date(2028, 2, 29)
    person = record(1, date(2004, 2, 29), "UTC", datetime(2020, 1, 1, tzinfo=UTC))
    start = datetime(2027, 2, 25, tzinfo=UTC)
    feb = care_triggers(person, CarePlan(), start, 10)
    march = care_triggers(person, CarePlan(leap_day="mar_1"), start, 10)
    assert [t.occasion_date for t in feb] == [date(2027, 2, 28)]
    assert [t.occasion_date for t in march] == [date(2027, 3, 1)]
    assert feb[0].years == 23


def test_the_greeting_is_due_at_the_local_wall_time_with_the_lead() -> None:
    start = datetime(2026, 6, 1, tzinfo=UTC)
    plan = CarePlan(lead_days=2, send_at=time(9, 30))
    shanghai = care_triggers(record(1, date(1990, 6, 10), "Asia/Shanghai", start), plan, start, 30)
    new_york = care_triggers(
        record(2, date(1990, 6, 10), "America/New_York", start), plan, start, 30
    )
    assert shanghai[0].due_at == datetime(2026, 6, 8, 1, 30, tzinfo=UTC)  # 09:30 +08:00
    assert new_york[0].due_at == datetime(2026, 6, 8, 13, 30, tzinfo=UTC)  # 09:30 -04:00
    assert shanghai[0].occasion_date == date(2026, 6, 10) and shanghai[0].years == 36
    assert shanghai[0].to_event().kind == "marketing.care_due"


def test_holidays_and_anniversaries() -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    plan = CarePlan(birthday=False, anniversary=True, holidays=CALENDAR)
    person = record(1, None, "Europe/Berlin", datetime(2024, 5, 5, 23, 30, tzinfo=UTC))
    found = care_triggers(person, plan, start, 14)
    assert [(t.occasion, t.occasion_date, t.holiday, t.years) for t in found] == [
        (Occasion.ANNIVERSARY, date(2025 + 1, 5, 6), None, 2),  # 23:30 UTC is the 6th in Berlin
        (Occasion.HOLIDAY, date(2026, 5, 10), "mothers_day", None),
    ]


def test_bad_plans_and_windows_name_the_field() -> None:
    with pytest.raises(ValidationError, match="lead_days"):
        CarePlan(lead_days=-1)
    with pytest.raises(ValidationError, match="default_time_zone"):
        CarePlan(default_time_zone="Mars/Olympus")
    with pytest.raises(ValidationError, match="days"):
        care_triggers(
            record(1, None, None, datetime(2020, 1, 1, tzinfo=UTC)),
            CarePlan(),
            datetime(2026, 1, 1, tzinfo=UTC),
            0,
        )
    with pytest.raises(ValidationError, match=r"holiday\.rrule"):
        Holiday("x", "X", rrule="FREQ=SOMETIMES")
    frame = CustomerFrame.from_records(
        [record(1, None, "Nowhere/Land", datetime(2020, 1, 1, tzinfo=UTC))]
    )
    with pytest.raises(ValidationError, match="row 0"):
        care_due(frame, CarePlan(), datetime(2026, 1, 1, tzinfo=UTC), 5)


days_2000 = st.dates(min_value=date(1950, 1, 1), max_value=date(2026, 12, 31))
leap_days = st.sampled_from([date(2000, 2, 29), date(2004, 2, 29), date(1996, 2, 29)])
instants = st.datetimes(
    min_value=datetime(2015, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.none() | days_2000 | leap_days, st.none() | st.sampled_from(ZONES), instants),
        min_size=1,
        max_size=12,
    ),
    st.datetimes(
        min_value=datetime(2025, 12, 1), max_value=datetime(2027, 3, 1), timezones=st.just(UTC)
    ),
    st.integers(1, 400),
    st.integers(0, 10),
    st.sampled_from(list(LeapDayRule)),
    st.sampled_from([time(0), time(9), time(2, 30), time(23, 59)]),
)
def test_the_batch_path_equals_the_per_customer_path(
    people: list[tuple[date | None, str | None, datetime]],
    start: datetime,
    days: int,
    lead: int,
    leap: LeapDayRule,
    send_at: time,
) -> None:
    records = [record(i, born, zone, created) for i, (born, zone, created) in enumerate(people)]
    frame = CustomerFrame.from_records(records)
    plan = CarePlan(
        anniversary=True,
        holidays=CALENDAR,
        lead_days=lead,
        leap_day=leap,
        send_at=send_at,
        default_time_zone="Asia/Shanghai",
    )
    schedule = care_due(frame, plan, start, days)
    expected = [t for r in frame.to_records() for t in care_triggers(r, plan, start, days)]
    key = lambda t: (t.due_at, t.customer_id, t.occasion.value, t.holiday or "")  # noqa: E731
    assert sorted(schedule.triggers(), key=key) == sorted(expected, key=key)
    assert sum(schedule.counts().values()) == len(expected)


def test_the_schedule_reports() -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    frame = CustomerFrame.from_records(
        [
            record(i, date(1990, 5, 1 + i), ZONES[i % 3], start - timedelta(days=400))
            for i in range(6)
        ]
    )
    schedule = care_due(frame, CarePlan(holidays=CALENDAR), start, 31)
    assert schedule.counts() == {"birthday": 6, "anniversary": 0, "holiday": 6}
    assert np.all(np.diff(schedule.due_at.astype(np.int64)) >= 0)
    data = schedule.to_dict()
    assert len(data["greetings"]) == 12  # type: ignore[arg-type]
    assert "Care greetings" in schedule._repr_html_()
    pytest.importorskip("pandas")
    assert set(schedule.to_pandas()["occasion"]) == {"birthday", "holiday"}


def test_dates_past_the_calendar_are_refused_naming_the_argument() -> None:
    end = datetime(9999, 12, 30, tzinfo=UTC)
    with pytest.raises(ValidationError, match=r"^start: would lie outside years 1 to 9999"):
        care_triggers({"id": "c-1"}, CarePlan(), end, 5)
    with pytest.raises(ValidationError, match=r"^year: must be an integer from 1 to 9999"):
        occasion_date(date(2000, 2, 29), 10_000)
    with pytest.raises(ValidationError, match=r"^original: must be a date"):
        occasion_date(None, 2026)  # type: ignore[arg-type]


def test_a_birth_date_given_as_a_datetime_still_greets() -> None:
    record = {"id": "c-1", "birth_date": datetime(1990, 5, 3)}
    (greeting,) = care_triggers(record, CarePlan(), datetime(2026, 5, 1, tzinfo=UTC), 30)
    assert (greeting.occasion_date.month, greeting.occasion_date.day, greeting.years) == (5, 3, 36)
    with pytest.raises(ValidationError, match=r"^rule: must be one of 'feb_28', 'mar_1'"):
        occasion_date(date(2000, 2, 29), 2026, "march")
