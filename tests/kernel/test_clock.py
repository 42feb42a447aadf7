from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

import numpy as np
import pytest

from crmcore.kernel.clock import (
    Clock,
    FixedClock,
    SystemClock,
    ensure_aware,
    ensure_date,
    from_micros,
    parse_datetime,
    shifted,
    to_micros,
    to_utc,
)
from crmcore.kernel.errors import ValidationError


def test_naive_datetimes_are_rejected_with_the_field_name() -> None:
    with pytest.raises(ValidationError) as info:
        ensure_aware(datetime(2024, 1, 1), "purchase.at")
    assert info.value.field == "purchase.at"
    assert "naive" in info.value.reason
    with pytest.raises(ValidationError):
        ensure_aware("2024-01-01", "at")


def test_to_utc_converts_offsets() -> None:
    shanghai = timezone(timedelta(hours=8))
    assert to_utc(datetime(2024, 1, 1, 8, tzinfo=shanghai)) == datetime(2024, 1, 1, tzinfo=UTC)
    assert to_utc(datetime(2024, 1, 1, 8, tzinfo=shanghai)).tzinfo is UTC


def test_to_utc_is_canonical_whatever_the_fold() -> None:
    folded = datetime(2024, 1, 1, tzinfo=UTC).replace(fold=1)
    assert to_utc(folded).fold == 0
    assert repr(to_utc(folded)) == repr(to_utc(datetime(2024, 1, 1, tzinfo=UTC)))


def test_parse_datetime_requires_an_offset() -> None:
    assert parse_datetime("2024-05-01T10:00:00Z") == datetime(2024, 5, 1, 10, tzinfo=UTC)
    with pytest.raises(ValidationError):
        parse_datetime("2024-05-01T10:00:00")
    with pytest.raises(ValidationError):
        parse_datetime("yesterday")


def test_ensure_date_refuses_datetimes() -> None:
    assert ensure_date(date(2024, 1, 1), "d") == date(2024, 1, 1)
    with pytest.raises(ValidationError):
        ensure_date(datetime(2024, 1, 1, tzinfo=UTC), "d")


def test_fixed_clock_moves_only_forward() -> None:
    clock = FixedClock(datetime(2024, 1, 1, tzinfo=UTC))
    assert isinstance(clock, Clock)
    assert clock.advance(hours=2).now() == datetime(2024, 1, 1, 2, tzinfo=UTC)
    with pytest.raises(ValidationError):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValidationError):
        FixedClock(datetime(2024, 1, 1))  # naive


def test_system_clock_is_aware() -> None:
    now = SystemClock().now()
    assert now.tzinfo is not None
    assert isinstance(SystemClock(), Clock)


LAST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
FIRST = datetime(1, 1, 1, tzinfo=UTC)


def test_the_ends_of_time_are_valid_instants() -> None:
    assert to_utc(LAST) == LAST
    assert to_utc(FIRST) == FIRST
    assert from_micros(to_micros(LAST)) == LAST
    assert from_micros(np.int64(to_micros(FIRST))) == FIRST
    assert parse_datetime("9999-12-31T23:59:59.999999Z") == LAST


@pytest.mark.parametrize(
    "local",
    [
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),  # year 10000 in UTC
        datetime(1, 1, 1, 1, tzinfo=timezone(timedelta(hours=5))),  # year 0 in UTC
    ],
)
def test_a_local_time_beyond_the_ends_in_utc_is_refused(local: datetime) -> None:
    with pytest.raises(ValidationError, match="years 1 to 9999") as caught:
        to_utc(local, "purchase.at")
    assert caught.value.field == "purchase.at"


def test_shifting_past_the_ends_is_a_validation_error() -> None:
    assert shifted(LAST, timedelta(0)) == LAST
    with pytest.raises(ValidationError, match="years 1 to 9999") as caught:
        shifted(LAST, timedelta(microseconds=1), "expires_at")
    assert caught.value.field == "expires_at"
    with pytest.raises(ValidationError):
        shifted(FIRST, -timedelta(days=1))


@pytest.mark.parametrize("micros", [1.5, "1", None, True, 10**20, -(10**20)])
def test_from_micros_takes_integers_in_range(micros: object) -> None:
    with pytest.raises(ValidationError) as caught:
        from_micros(micros)  # type: ignore[arg-type]
    assert caught.value.field == "micros"


class _BrokenZone(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=30)  # datetime refuses offsets of a day or more

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)


def test_a_broken_time_zone_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        to_utc(datetime(2024, 1, 1, tzinfo=_BrokenZone()))
