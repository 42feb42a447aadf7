"""Wall-clock times in a customer's zone, and their batch tables agreeing with them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.kernel.clock import from_micros, to_micros
from crmcore.kernel.errors import ValidationError
from crmcore.marketing.local_time import (
    check_weekdays,
    in_quiet_period,
    local_instant,
    next_weekly,
    quiet_release,
    zone,
    zone_of_record,
)
from crmcore.marketing.local_time_batch import NONE, ZoneTable, day_number

ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Havana",
)
TABLE = ZoneTable(ZONES, date(2026, 2, 20), date(2026, 11, 20))


def test_skipped_and_repeated_wall_times_use_the_offset_before_the_change() -> None:
    spring = local_instant("Europe/Berlin", date(2026, 3, 29), time(2, 30))
    assert spring == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # = 03:30 CEST
    autumn = local_instant("Europe/Berlin", date(2026, 10, 25), time(2, 30))
    assert autumn == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 02:30 (CEST)


def test_next_weekly_finds_the_next_matching_wall_time() -> None:
    monday_9 = datetime(2026, 5, 4, 1, tzinfo=UTC)  # 09:00 in Shanghai, a Monday
    assert next_weekly(monday_9, "Asia/Shanghai", {0}, time(9)) == monday_9
    assert next_weekly(monday_9 + timedelta(seconds=1), "Asia/Shanghai", {0}, time(9)) == (
        monday_9 + timedelta(days=7)
    )
    assert next_weekly(monday_9, "Asia/Shanghai", {2, 4}, time(9)) == monday_9 + timedelta(days=2)


def test_quiet_periods_wrap_midnight_and_end_at_their_end() -> None:
    late = datetime(2026, 5, 4, 22, tzinfo=UTC)
    assert in_quiet_period(late, "UTC", time(21), time(8))
    assert quiet_release(late, "UTC", time(21), time(8)) == datetime(2026, 5, 5, 8, tzinfo=UTC)
    early = datetime(2026, 5, 4, 7, tzinfo=UTC)
    assert quiet_release(early, "UTC", time(21), time(8)) == datetime(2026, 5, 4, 8, tzinfo=UTC)
    assert quiet_release(late, "UTC", time(12), time(14)) is None
    assert not in_quiet_period(late, "UTC", time(8), time(8))


def test_zone_names_and_weekdays_are_checked() -> None:
    with pytest.raises(ValidationError, match="time_zone"):
        zone("Mars/Olympus")
    with pytest.raises(ValidationError, match=r"attributes\.time_zone"):
        zone_of_record({"attr.time_zone": "Nowhere"})
    assert zone_of_record({"attr.time_zone": ""}, "Asia/Tokyo") == "Asia/Tokyo"
    assert check_weekdays(["Mon", "fri", 6], "w") == frozenset({0, 4, 6})
    with pytest.raises(ValidationError, match="w"):
        check_weekdays(["someday"], "w")
    with pytest.raises(ValidationError, match="w"):
        check_weekdays([], "w")


instants = st.datetimes(datetime(2026, 2, 25), datetime(2026, 11, 10), timezones=st.just(UTC)).map(
    lambda t: t.replace(microsecond=0)
)
walls = st.builds(time, st.integers(0, 23), st.sampled_from([0, 30, 59]))


@settings(max_examples=300, deadline=None)
@given(
    code=st.integers(0, len(ZONES) - 1),
    at=instants,
    start=walls,
    end=walls,
    weekdays=st.sets(st.integers(0, 6), min_size=1),
)
def test_the_tables_agree_with_zoneinfo(
    code: int, at: datetime, start: time, end: time, weekdays: set[int]
) -> None:
    table = TABLE
    name = ZONES[code]
    codes, t = np.array([code]), np.array([to_micros(at)])
    local = at.astimezone(zone(name))
    assert int(table.offsets(codes, t)[0]) == local.utcoffset() // timedelta(microseconds=1)
    days, _wall = table.wall(codes, t)
    assert int(days[0]) == day_number(local.date())
    assert int(table.next_weekly(codes, t, weekdays, start)[0]) == to_micros(
        next_weekly(at, name, weekdays, start)
    )
    if start != end:
        assert bool(table.quiet(codes, t, start, end)[0]) == in_quiet_period(at, name, start, end)
        release = quiet_release(at, name, start, end)
        got = int(table.quiet_release(codes, t, start, end)[0])
        assert from_micros(got) == (at if release is None else release)


def test_a_table_answers_never_outside_its_days() -> None:
    table = ZoneTable(("UTC",), date(2026, 5, 1), date(2026, 5, 3))
    out = table.at_wall(time(9), np.array([0, 0]), np.array([day_number(date(2026, 5, 2)), 0]))
    assert out.tolist() == [to_micros(datetime(2026, 5, 2, 9, tzinfo=UTC)), NONE]
    with pytest.raises(ValidationError, match="last"):
        ZoneTable(("UTC",), date(2026, 5, 3), date(2026, 5, 1))
    assert "1 zones" in repr(table)


def test_a_zone_name_that_is_no_file_name_or_no_text_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"^time_zone: is not an IANA time zone name"):
        zone("x" * 10_000)
    with pytest.raises(ValidationError, match=r"^time_zone: is not an IANA time zone name"):
        zone(["UTC"])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^quiet\.days: must be a collection of weekdays"):
        check_weekdays("mon", "quiet.days")
