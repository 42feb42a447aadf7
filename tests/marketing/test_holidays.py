"""The host's holiday calendar: dates, RRULEs, and any {date: name} mapping."""

from __future__ import annotations

from datetime import date

import pytest

from crmcore.kernel.errors import ValidationError
from crmcore.marketing.holidays import Holiday, HolidayCalendar


def test_rules_and_dates_give_the_occurrences_in_a_half_open_window() -> None:
    christmas = Holiday(
        "christmas", "Christmas", rrule="RRULE:FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25"
    )
    assert christmas.occurrences(date(2025, 12, 25), date(2026, 12, 25)) == (date(2025, 12, 25),)
    store = Holiday(
        "store_day",
        "Store day",
        dates=[date(2026, 9, 1)],
        rrule="FREQ=YEARLY;BYMONTH=9;BYMONTHDAY=1",
        since=date(2027, 1, 1),
    )
    assert store.occurrences(date(2026, 1, 1), date(2029, 1, 1)) == (
        date(2026, 9, 1),
        date(2027, 9, 1),
        date(2028, 9, 1),
    )


def test_a_mapping_becomes_a_calendar() -> None:
    calendar = HolidayCalendar.from_mapping(
        {date(2026, 2, 17): "春节", date(2027, 2, 6): "春节", date(2026, 10, 1): "National Day"}
    )
    found = calendar.between(date(2026, 1, 1), date(2028, 1, 1))
    assert [(d.isoformat(), h.name) for d, h in found] == [
        ("2026-02-17", "春节"),
        ("2026-10-01", "National Day"),
        ("2027-02-06", "春节"),
    ]
    assert {h.code for _, h in found} == {"national_day", "holiday_1"}


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Holiday("X", "x", dates=[date(2026, 1, 1)]), "holiday.code"),
        (lambda: Holiday("x", "x"), "holiday.dates"),
        (lambda: Holiday("x", "x", rrule="DTSTART:20200101\nRRULE:FREQ=YEARLY"), "holiday.rrule"),
        (lambda: HolidayCalendar([Holiday("x", "x", dates=[date(2026, 1, 1)])] * 2), "holidays"),
    ],
)
def test_bad_holidays_name_the_field(make: object, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        make()  # type: ignore[operator]
    assert error.value.field == field
