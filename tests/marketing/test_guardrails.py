"""Guardrails: consent, quiet hours, caps, send limits, and the state they keep."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from crmcore.customers.records import ConsentStatus, MarketingChannel
from crmcore.kernel.errors import ValidationError
from crmcore.marketing.guardrails import (
    ContactHistory,
    Defer,
    FrequencyCap,
    Guardrails,
    QuietHours,
    Send,
    SendCounts,
    SendLimit,
    Suppress,
    SuppressionReason,
    check_send,
)

T = datetime(2026, 5, 4, 12, tzinfo=UTC)
EMAIL = MarketingChannel.EMAIL


def decide(rails: Guardrails, *, at: datetime = T, **kw: object) -> object:
    args: dict[str, object] = {
        "consent": ConsentStatus.GRANTED,
        "zone_name": "UTC",
        "history": ContactHistory(id="c-1"),
        "counts": SendCounts(),
    }
    args.update(kw)
    return check_send(rails, EMAIL, at, **args)  # type: ignore[arg-type]


def test_consent_comes_first_and_names_the_reason() -> None:
    rails = Guardrails(quiet_hours=QuietHours(time(0), time(23, 59)))
    assert decide(rails, consent=ConsentStatus.UNKNOWN) == Suppress(SuppressionReason.NO_CONSENT)
    assert decide(rails, consent=ConsentStatus.WITHDRAWN) == Suppress(
        SuppressionReason.CONSENT_WITHDRAWN
    )


def test_quiet_hours_hold_the_message_in_the_customers_zone() -> None:
    rails = Guardrails(quiet_hours=QuietHours(time(21), time(8), channels={"sms"}))
    assert decide(rails, zone_name="Asia/Tokyo") == Send()  # e-mail is not covered
    held = check_send(
        rails,
        MarketingChannel.SMS,
        T,
        consent=ConsentStatus.GRANTED,
        zone_name="Asia/Tokyo",
        history=ContactHistory(id="c-1"),
        counts=SendCounts(),
    )
    assert held == Defer(datetime(2026, 5, 4, 23, tzinfo=UTC), "quiet_hours")  # 08:00 in Tokyo


def test_caps_count_sends_in_the_window_ending_now() -> None:
    cap = FrequencyCap(2, timedelta(days=1), "email")
    rails = Guardrails(caps=[cap])
    history = ContactHistory(id="c-1").record(EMAIL, T - timedelta(hours=30), "k0")
    history = history.record(EMAIL, T - timedelta(hours=2), "k1")
    assert decide(rails, history=history) == Send()
    history = history.record(MarketingChannel.SMS, T - timedelta(hours=1), "k2")
    assert decide(rails, history=history) == Send()  # an SMS does not count for e-mail
    history = history.record(EMAIL, T, "k3")
    assert decide(rails, history=history) == Suppress(
        SuppressionReason.FREQUENCY_CAP, "email: 2 per 1 day"
    )
    assert history.count(None, T - timedelta(days=1), T) == 3 and history.has("k2")
    assert history.pruned(T - timedelta(hours=3)).sends[0].key == "k1"


def test_send_limits_hold_messages_for_the_next_window() -> None:
    limit = SendLimit(2, timedelta(hours=1))
    rails = Guardrails(send_limits=[limit])
    counts = SendCounts().add(limit, T).add(limit, T + timedelta(minutes=59))
    assert counts.count(limit, T + timedelta(minutes=30)) == 2
    assert decide(rails, counts=counts) == Defer(T + timedelta(hours=1), "send_limit")
    assert decide(rails, at=T + timedelta(hours=1), counts=counts) == Send()
    assert counts.pruned([limit], T + timedelta(hours=1)).windows == ()
    assert limit.label == "all channels: 2 per 1 hour"


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: FrequencyCap(0, timedelta(days=1)), "caps.limit"),
        (lambda: FrequencyCap(1, timedelta(0)), "caps.window"),
        (lambda: FrequencyCap(1, timedelta(days=1), "fax"), "consent.channel"),
        (lambda: QuietHours(time(8), time(8)), "quiet_hours.end"),
        (lambda: QuietHours("21:00", time(8)), "quiet_hours.start"),
        (lambda: SendLimit(5, timedelta(milliseconds=5)), "send_limits.window"),
        (lambda: Guardrails(caps=["2 per day"]), "caps[0]"),
        (lambda: Guardrails(max_lateness=timedelta(-1)), "max_lateness"),
        (
            lambda: Guardrails(send_limits=[SendLimit(1, timedelta(hours=1))] * 2),
            "send_limits",
        ),
    ],
)
def test_bad_guardrails_name_the_field(build: object, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        build()  # type: ignore[operator]
    assert error.value.field == field
