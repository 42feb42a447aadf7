"""Expiry policies: every rule, month-end edges, time zones, bad input naming the field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crmcore.kernel import codec
from crmcore.kernel.errors import ValidationError
from crmcore.loyalty.expiry import ExpiryPolicy, ExpiryRule, add_months, program_zone


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_never_has_no_date() -> None:
    policy = ExpiryPolicy.never()
    assert policy.lot_expiry(utc(2026, 1, 1)) is None
    assert not policy.per_lot
    assert policy.inactivity_deadline(utc(2026, 1, 1)) is None


@pytest.mark.parametrize(
    ("earned", "months", "expected"),
    [
        (utc(2024, 1, 31, 15), 1, utc(2024, 2, 29, 15)),  # leap year: clamped to Feb 29
        (utc(2025, 1, 31, 15), 1, utc(2025, 2, 28, 15)),  # clamped to Feb 28
        (utc(2025, 3, 31), 1, utc(2025, 4, 30)),
        (utc(2025, 3, 15, 8, 30), 12, utc(2026, 3, 15, 8, 30)),
        (utc(2024, 2, 29), 12, utc(2025, 2, 28)),
    ],
)
def test_months_after_uses_relativedelta_clamping(
    earned: datetime, months: int, expected: datetime
) -> None:
    assert ExpiryPolicy.months_after(months).lot_expiry(earned) == expected


@pytest.mark.parametrize(
    ("earned", "months", "expected"),
    [
        (utc(2020, 7, 6), 12, utc(2021, 8, 1)),  # Square's P12M example
        (utc(2025, 1, 31), 1, utc(2025, 3, 1)),  # Jan 31 + 1 month: valid through Feb 28
        (utc(2025, 12, 1), 0, utc(2026, 1, 1)),  # 0 = end of the month earned in
        (utc(2025, 12, 31, 23, 59), 2, utc(2026, 3, 1)),
    ],
)
def test_end_of_month(earned: datetime, months: int, expected: datetime) -> None:
    assert ExpiryPolicy.end_of_month(months).lot_expiry(earned) == expected


def test_end_of_month_in_program_time_zone() -> None:
    # 2025-01-31 23:30 UTC is already February in Shanghai (UTC+8).
    expires = ExpiryPolicy.end_of_month(0).lot_expiry(utc(2025, 1, 31, 23, 30), "Asia/Shanghai")
    assert expires == utc(2025, 2, 28, 16)  # 2025-03-01 00:00 in Shanghai


def test_fixed_yearly_date() -> None:
    policy = ExpiryPolicy.fixed_date(12, 31)
    assert policy.lot_expiry(utc(2025, 3, 1)) == utc(2026, 1, 1)
    assert policy.lot_expiry(utc(2025, 12, 31, 10)) == utc(2026, 1, 1)  # same day: end of it
    held = ExpiryPolicy.fixed_date(12, 31, months=6)
    assert held.lot_expiry(utc(2025, 6, 30)) == utc(2026, 1, 1)  # + 6 months = Dec 30
    assert held.lot_expiry(utc(2025, 7, 1)) == utc(2027, 1, 1)  # + 6 months = Jan 1


def test_fixed_date_feb_29_is_feb_28_in_common_years() -> None:
    policy = ExpiryPolicy.fixed_date(2, 29)
    assert policy.lot_expiry(utc(2025, 1, 10)) == utc(2025, 3, 1)  # end of Feb 28
    assert policy.lot_expiry(utc(2027, 6, 1)) == utc(2028, 3, 1)  # end of Feb 29, 2028


def test_inactivity_deadline() -> None:
    policy = ExpiryPolicy.inactivity(18)
    assert policy.lot_expiry(utc(2025, 1, 1)) is None
    assert policy.inactivity_deadline(utc(2025, 8, 31, 12)) == utc(2027, 2, 28, 12)
    assert policy.inactivity_deadline(None) is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rule": "sometimes"}, "expiry.rule"),
        ({"rule": "months_after", "months": 0}, "expiry.months"),
        ({"rule": "inactivity"}, "expiry.months"),
        ({"rule": "fixed_date", "month": 13}, "expiry.month"),
        ({"rule": "fixed_date", "month": 4, "day": 31}, "expiry.day"),
        ({"rule": "end_of_month", "months": -1}, "expiry.months"),
        ({"rule": "end_of_month", "months": True}, "expiry.months"),
    ],
)
def test_bad_policies_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        ExpiryPolicy(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_unknown_time_zone_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        program_zone("Mars/Olympus")
    assert info.value.field == "timezone"


def test_policies_round_trip_through_the_codec() -> None:
    for policy in (
        ExpiryPolicy.never(),
        ExpiryPolicy.months_after(12),
        ExpiryPolicy.end_of_month(3),
        ExpiryPolicy.fixed_date(6, 30, months=1),
        ExpiryPolicy.inactivity(24),
    ):
        assert codec.decode(ExpiryPolicy, codec.encode(policy, ExpiryPolicy)) == policy
        assert policy.describe()
    assert ExpiryPolicy.end_of_month(1).rule is ExpiryRule.END_OF_MONTH


def test_add_months_clamps() -> None:
    assert add_months(datetime(2024, 1, 31).date(), 1) == datetime(2024, 2, 29).date()


def test_add_months_and_program_zone_refuse_bad_input_naming_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        add_months(datetime(9999, 12, 1).date(), 1)  # past the calendar's end
    assert info.value.field == "months" and "years 1 to 9999" in info.value.reason
    with pytest.raises(ValidationError) as info:
        add_months(datetime(2026, 1, 1).date(), 1.5)  # type: ignore[arg-type]
    assert info.value.field == "months"
    with pytest.raises(ValidationError) as info:
        add_months("2026-01-01", 1)  # type: ignore[arg-type]
    assert info.value.field == "day"
    for name in ("x" * 5000, {"zone": "UTC"}):
        with pytest.raises(ValidationError) as info:
            program_zone(name)  # type: ignore[arg-type]
        assert info.value.field == "timezone"
