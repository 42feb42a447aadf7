"""Enrolment triggers: event kinds and filters, lifecycle moves, churn levels, dates, inactivity."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from crmcore.kernel.errors import ValidationError
from crmcore.marketing.triggers import (
    ChurnRiskTrigger,
    DateTrigger,
    EventTrigger,
    HolidayTrigger,
    InactivityTrigger,
    LifecycleTrigger,
    SegmentTrigger,
    anniversary,
)
from crmcore.segments.events import SegmentEntered, SegmentExited

from .automation_helpers import churn_warning

T = datetime(2026, 5, 4, tzinfo=UTC)


def test_an_unknown_event_kind_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as error:
        EventTrigger("customer.purchased")
    assert error.value.field == "trigger.kind"
    with pytest.raises(ValidationError, match=r"trigger.where.nope"):
        EventTrigger("case.closed", where={"nope": 1})
    with pytest.raises(ValidationError, match=r"trigger.where.channel"):
        EventTrigger("customer.purchase_recorded", where={"channel": ["web"]})


def test_event_triggers_match_kind_and_fields() -> None:
    trigger = EventTrigger("lifecycle.churn_warning", where={"to_state": "decline"})
    assert trigger.matches(churn_warning("c-1", T, 0.4))
    assert not EventTrigger("lifecycle.churn_warning", where={"policy": "x"}).matches(
        churn_warning("c-1", T, 0.4)
    )
    assert trigger.kinds == {"lifecycle.churn_warning"} and trigger.label.startswith("event:")


def test_segment_lifecycle_and_churn_triggers() -> None:
    entered = SegmentEntered(aggregate_id="c-1", occurred_at=T, segment="vip", as_of=T)
    exited = SegmentExited(aggregate_id="c-1", occurred_at=T, segment="vip", as_of=T)
    assert SegmentTrigger("vip").matches(entered) and not SegmentTrigger("vip").matches(exited)
    assert SegmentTrigger("vip", on="exited").matches(exited)
    assert not SegmentTrigger("gold").matches(entered)
    warning = churn_warning("c-1", T, 0.7)
    assert LifecycleTrigger("decline").matches(warning)
    assert LifecycleTrigger("decline", from_state="mature").matches(warning)
    assert not LifecycleTrigger("decline", from_state="growth").matches(warning)
    assert not LifecycleTrigger("churned").matches(warning)
    assert ChurnRiskTrigger(0.6).matches(warning) and not ChurnRiskTrigger(0.8).matches(warning)
    with pytest.raises(ValidationError, match=r"trigger\.level"):
        ChurnRiskTrigger(1.5)
    with pytest.raises(ValidationError, match=r"trigger\.from_state"):
        LifecycleTrigger("decline", from_state="decline")
    with pytest.raises(ValidationError, match=r"trigger\.to_state"):
        LifecycleTrigger("asleep")


def test_29_february_falls_on_28_february_or_1_march_in_common_years() -> None:
    leap = date(1992, 2, 29)
    assert anniversary(leap, 2026) == date(2026, 2, 28)
    assert anniversary(leap, 2026, "mar1") == date(2026, 3, 1)
    assert anniversary(leap, 2028) == date(2028, 2, 29)
    record = {"birth_date": leap}
    week = (datetime(2026, 2, 25, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
    assert DateTrigger("birth_date", at=time(0)).occurrences(record, "UTC", *week) == (
        datetime(2026, 2, 28, tzinfo=UTC),
    )
    assert DateTrigger("birth_date", at=time(0), leap_day="mar1").occurrences(
        record, "UTC", *week
    ) == (datetime(2026, 3, 1, tzinfo=UTC),)


def test_date_triggers_in_the_customers_zone_with_offsets() -> None:
    record = {"birth_date": date(1990, 5, 10), "attr.expires": date(2026, 5, 12)}
    week = (T, T + timedelta(days=7))
    before = DateTrigger("birth_date", offset_days=-2, at=time(9))
    assert before.occurrences(record, "Asia/Shanghai", *week) == (
        datetime(2026, 5, 8, 1, tzinfo=UTC),
    )
    once = DateTrigger("attr.expires", yearly=False, offset_days=-7, at=time(9))
    assert once.occurrences(record, "UTC", *week) == (datetime(2026, 5, 5, 9, tzinfo=UTC),)
    assert DateTrigger("birth_date").occurrences({"birth_date": None}, "UTC", *week) == ()
    born_now = {"birth_date": date(2026, 5, 6)}  # a birth is not a birthday
    assert DateTrigger("birth_date").occurrences(born_now, "UTC", *week) == ()
    signup = {"created_at": datetime(2025, 5, 6, 23, 30, tzinfo=UTC)}
    assert DateTrigger("created_at", at=time(9)).occurrences(signup, "UTC", *week) == (
        datetime(2026, 5, 6, 9, tzinfo=UTC),
    )
    with pytest.raises(ValidationError, match=r"trigger\.field"):
        DateTrigger("name")
    with pytest.raises(ValidationError, match=r"trigger\.offset_days"):
        DateTrigger("birth_date", offset_days=400)
    with pytest.raises(ValidationError, match=r"trigger\.yearly"):
        DateTrigger("birth_date", yearly="yes")  # type: ignore[arg-type]


def test_holidays_and_inactivity() -> None:
    week = (T, T + timedelta(days=7))
    holidays = HolidayTrigger({date(2026, 5, 5), date(2026, 10, 1)}, at=time(10), calendar="cn")
    assert holidays.occurrences({}, "Asia/Shanghai", *week) == (
        datetime(2026, 5, 5, 2, tzinfo=UTC),
    )
    assert holidays.label == "holiday:cn"
    idle = InactivityTrigger(30)
    assert idle.occurrences({"last_purchase_at": T - timedelta(days=27)}, "UTC", *week) == (
        T + timedelta(days=3),
    )
    assert idle.occurrences({"last_purchase_at": T - timedelta(days=40)}, "UTC", *week) == ()
    assert idle.occurrences({}, "UTC", *week) == ()
    with pytest.raises(ValidationError, match=r"trigger\.dates"):
        HolidayTrigger(set())
    with pytest.raises(ValidationError, match=r"trigger\.days"):
        InactivityTrigger(0)
    with pytest.raises(ValidationError, match=r"trigger\.field"):
        InactivityTrigger(3, field="birth_date")


def test_occurrences_check_their_window_and_zone() -> None:
    holidays = HolidayTrigger({date(2026, 5, 5)})
    start = datetime(2026, 5, 1, tzinfo=UTC)
    with pytest.raises(ValidationError, match=r"^now: would lie outside years 1 to 9999"):
        holidays.occurrences({}, "UTC", start, datetime(9999, 12, 31, tzinfo=UTC))
    with pytest.raises(ValidationError, match=r"^zone_name: must be an IANA time zone name"):
        holidays.occurrences({}, ["UTC"], start, start)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^record: must be a mapping"):
        InactivityTrigger(30).occurrences(None, "UTC", start, start)  # type: ignore[arg-type]


def test_an_inactivity_window_may_start_at_the_calendars_beginning() -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    record = {"last_purchase_at": now - timedelta(days=40)}
    since = datetime(1, 1, 1, tzinfo=UTC)
    assert InactivityTrigger(30).occurrences(record, "UTC", since, now) == (
        now - timedelta(days=10),
    )
