from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from crmcore.kernel.clock import (
    Clock,
    FixedClock,
    SystemClock,
    ensure_aware,
    ensure_date,
    parse_datetime,
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
