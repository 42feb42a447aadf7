"""The per-customer classifier: each rule, its boundaries, the risk score, bad input."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from crmcore.customers.records import Purchase
from crmcore.kernel.codec import decode, encode
from crmcore.kernel.errors import CurrencyMismatchError, ValidationError
from crmcore.kernel.money import Money
from crmcore.lifecycle import (
    DEFAULT_POLICY,
    ActivityFacts,
    Classification,
    LifecyclePolicy,
    LifecycleState,
    Reason,
    classify,
)

from .helpers import T0

S, R = LifecycleState, Reason
DAY = timedelta(days=1)
US = timedelta(microseconds=1)


def ago(days: float) -> datetime:
    return T0 - timedelta(days=days)


def buys(*days: float, amount: float = 10.0) -> list[tuple[datetime, float]]:
    return [(ago(d), amount) for d in days]


def state(
    purchases: list[tuple[datetime, float]], policy: LifecyclePolicy = DEFAULT_POLICY
) -> tuple[LifecycleState, tuple[Reason, ...]]:
    c = classify("c-1", purchases, T0, policy=policy)
    return c.state, c.reasons


def test_no_purchase_is_a_prospect_with_no_risk() -> None:
    c = classify("c-1", [], T0)
    assert (c.state, c.reasons, c.risk_score) == (S.PROSPECT, (R.NO_PURCHASES,), 0.0)
    assert c.facts == ActivityFacts()
    assert c.as_of == T0 and c.evidence.policy == "default"


def test_purchases_after_as_of_are_ignored() -> None:
    assert state([(T0 + US, 99.0)]) == (S.PROSPECT, (R.NO_PURCHASES,))
    assert classify("c-1", [(T0, 5.0), (T0 + DAY, 7.0)], T0).facts.spend_total == 5.0


def test_churn_horizon_boundary() -> None:
    assert state(buys(365)) == (S.CHURNED, (R.NO_ACTIVITY_BEYOND_CHURN_HORIZON,))
    assert classify("c-1", buys(365), T0).risk_score == 1.0
    assert state([(ago(365) + US, 10.0)])[0] is S.DECLINE


def test_new_customer_boundary() -> None:
    assert state(buys(89, 3)) == (S.NEW, (R.FIRST_PURCHASE_RECENT,))
    assert state([(ago(90) + US, 1.0)])[0] is S.NEW
    assert state(buys(90)) == (S.DECLINE, (R.NO_REPEAT_PURCHASE,))


def test_windows_are_half_open_and_end_at_as_of() -> None:
    facts = classify("c-1", [*buys(0, 90, 180, 500), (ago(90) + US, 1.0)], T0).facts
    assert (facts.frequency_current, facts.frequency_previous) == (2, 1)
    assert facts.purchases == 5 and facts.spend_total == 41.0


def test_overdue_against_the_usual_gap_with_a_floor() -> None:
    weekly = [d + 7 * k for k in range(20) for d in (0,)]
    # weekly buyer, silent 20 days: more than 2 gaps, but below the 30-day floor
    assert state(buys(*[20 + w for w in weekly]))[0] is not S.DECLINE
    reasons = state(buys(*[31 + w for w in weekly]))[1]
    assert R.RECENCY_BEYOND_USUAL_GAP in reasons
    # a monthly buyer silent 59 days is on time; 61 days is overdue
    monthly = [30 * k for k in range(8)]
    assert R.RECENCY_BEYOND_USUAL_GAP not in state(buys(*[59 + m for m in monthly]))[1]
    assert R.RECENCY_BEYOND_USUAL_GAP in state(buys(*[61 + m for m in monthly]))[1]


def test_same_instant_purchases_have_no_usual_gap() -> None:
    c = classify("c-1", [(ago(200), 5.0), (ago(200), 6.0)], T0)
    assert c.state is S.DECLINE and c.reasons == (R.RECENCY_BEYOND_USUAL_GAP,)
    assert c.facts.usual_gap_days == 0.0
    assert c.risk_score == 200 / 365  # silence only: no usual gap to be overdue against


def test_frequency_and_spend_trends() -> None:
    # 4 purchases in the previous window, 2 in the current: halved
    steady_then_less = buys(100, 120, 140, 160, 10, 40, 200, 250)
    assert state(steady_then_less) == (S.DECLINE, (R.FREQUENCY_DOWN, R.SPEND_DOWN))
    # same count, spend halved
    spend_only = [*buys(100, 130, 160, amount=20.0), *buys(5, 35, 65, amount=10.0), *buys(300)]
    assert state(spend_only) == (S.DECLINE, (R.SPEND_DOWN,))
    # one purchase before, none now: below min_trend_purchases, not a trend
    assert R.FREQUENCY_DOWN not in state(buys(100, 200, 300, 400 - 40))[1]
    doubling = buys(100, 150, 10, 30, 50, 70, 250)
    assert state(doubling) == (S.GROWTH, (R.FREQUENCY_UP, R.SPEND_UP))
    bigger = [*buys(100, 130, 160, amount=10.0), *buys(5, 35, 65, amount=25.0), *buys(300)]
    assert state(bigger) == (S.GROWTH, (R.SPEND_UP,))


def test_building_history_then_stable() -> None:
    assert state(buys(200, 150, 20)) == (S.GROWTH, (R.BUILDING_HISTORY,))
    assert state(buys(150, 60, 20)) == (S.GROWTH, (R.FREQUENCY_UP, R.SPEND_UP, R.BUILDING_HISTORY))
    monthly = buys(*[5 + 30 * k for k in range(10)])
    c = classify("c-1", monthly, T0)
    assert (c.state, c.reasons) == (S.MATURE, (R.STABLE_ACTIVITY,))
    assert c.facts.usual_gap_days == 30.0 and c.facts.recency_days == 5.0


def test_risk_score_formula() -> None:
    # overdue dominates: 6 purchases 20 days apart, the last 50 days ago
    c = classify("c-1", buys(*[50 + 20 * k for k in range(6)]), T0)
    assert (c.facts.usual_gap_days, c.facts.frequency_current, c.facts.frequency_previous) == (
        20.0, 2, 4,
    )  # fmt: skip
    silence, overdue, trend = 50 / 365, min(1.0, 50 / (2 * 2.0 * 20)), 1 - 2 / 4
    assert c.risk_score == max(silence, overdue, trend) == 0.625
    assert c.reasons == (R.RECENCY_BEYOND_USUAL_GAP, R.FREQUENCY_DOWN, R.SPEND_DOWN)
    # silence dominates: a one-time buyer
    assert classify("c-1", buys(200), T0).risk_score == 200 / 365
    # the trend dominates: four purchases before, one now
    trend_only = classify("c-1", buys(5, 100, 120, 140, 160, 300), T0)
    assert trend_only.risk_score == 0.75 and trend_only.state is S.DECLINE
    # spend can dominate frequency
    spend = classify(
        "c-1", [*buys(100, 130, amount=40.0), *buys(5, 35, amount=10.0), *buys(300)], T0
    )
    assert spend.risk_score == 0.75 and spend.reasons == (R.SPEND_DOWN,)


def test_spend_is_exact_at_a_ten_thousandth_and_order_free() -> None:
    amounts = [0.1, 0.2, 0.3, 19.99, 0.00005, 0.00015]
    forward = [(ago(10 + i), a) for i, a in enumerate(amounts)]
    c = classify("c-1", forward, T0)
    # 0.00005 is half a unit: rounds to even (0); 0.00015 is 1.4999... units in binary: 1
    assert c.facts.spend_total == 20.5901
    assert classify("c-1", forward[::-1], T0) == c


def test_purchase_objects_money_and_decimals() -> None:
    p = [
        Purchase("o-1", "c-1", ago(10), Money("19.99", "EUR")),
        Purchase("o-2", "c-1", ago(40), Money("5", "EUR")),
    ]
    c = classify("c-1", p, T0)
    assert c.facts.spend_total == 24.99 and c.state is S.NEW
    pairs = [(ago(10), Decimal("19.99")), (ago(40), 5)]
    assert classify("c-1", pairs, T0) == c
    assert classify("c-1", [(ago(10), Money("19.99", "EUR")), (ago(40), 5.0)], T0) == c


def test_one_customer_one_currency() -> None:
    p = [
        Purchase("o-1", "c-1", ago(10), Money("1", "EUR")),
        Purchase("o-2", "c-1", ago(20), Money("1", "USD")),
    ]
    with pytest.raises(CurrencyMismatchError):
        classify("c-1", p, T0)


@pytest.mark.parametrize(
    ("purchases", "field"),
    [
        ([(datetime(2025, 12, 1), 1.0)], "purchases[0].at"),
        ([(ago(1), math.nan)], "purchases[0].amount"),
        ([(ago(1), math.inf)], "purchases[0].amount"),
        ([(ago(1), "12")], "purchases[0].amount"),
        ([(ago(1), True)], "purchases[0].amount"),
        ([(ago(1), 1.0), (ago(1),)], "purchases[1]"),
        ([Purchase("o-1", "c-2", ago(1), Money("1", "EUR"))], "purchases[0].customer_id"),
        ([(ago(1), 1e12)], "amount"),
    ],
)
def test_bad_purchases_are_named(purchases: list[object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        classify("c-1", purchases, T0)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_bad_as_of_customer_and_policy() -> None:
    with pytest.raises(ValidationError, match="as_of"):
        classify("c-1", [], datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="customer_id"):
        classify("not an id", [], T0)
    with pytest.raises(ValidationError, match="policy"):
        classify("c-1", [], T0, policy="strict")  # type: ignore[arg-type]


def test_as_of_in_any_zone_means_the_same_instant() -> None:
    east = T0.astimezone(timezone(timedelta(hours=8)))
    assert classify("c-1", buys(3, 50), east) == classify("c-1", buys(3, 50), T0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("window_days", 0),
        ("window_days", -90),
        ("window_days", 1.5),
        ("window_days", True),
        ("new_days", 0),
        ("churn_days", 40_000),
        ("churn_days", 60),  # shorter than new_days: new customers could churn and be new again
        ("min_silence_days", -1),
        ("gap_multiple", 0),
        ("gap_multiple", -2.0),
        ("gap_multiple", math.inf),
        ("decline_ratio", 0),
        ("decline_ratio", 1.0),
        ("growth_ratio", 1.0),
        ("growth_ratio", math.nan),
        ("min_trend_purchases", 0),
        ("mature_min_purchases", -4),
        ("name", ""),
        ("gap_multiple", "2"),
    ],
)
def test_policy_rejects_bad_thresholds(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        LifecyclePolicy(**{field: value})  # type: ignore[arg-type]
    assert caught.value.field in (field, "value", "new_days")


def test_policy_is_serialisable_data_and_named_in_evidence() -> None:
    policy = LifecyclePolicy(name="weekly-shop", window_days=28, churn_days=120, growth_ratio=1.5)
    assert decode(LifecyclePolicy, encode(policy)) == policy
    assert decode(LifecyclePolicy, encode(DEFAULT_POLICY)) == DEFAULT_POLICY
    assert LifecyclePolicy(gap_multiple=3).gap_multiple == 3.0
    c = classify("c-1", buys(3, 50), T0, policy=policy)
    assert c.evidence.policy == "weekly-shop"
    assert decode(Classification, encode(c)) == c


def test_defaults_are_the_documented_ones() -> None:
    assert (
        DEFAULT_POLICY.window_days, DEFAULT_POLICY.new_days, DEFAULT_POLICY.churn_days,
        DEFAULT_POLICY.gap_multiple, DEFAULT_POLICY.min_silence_days, DEFAULT_POLICY.decline_ratio,
        DEFAULT_POLICY.growth_ratio, DEFAULT_POLICY.min_trend_purchases,
        DEFAULT_POLICY.mature_min_purchases,
    ) == (90, 90, 365, 2.0, 30, 0.5, 2.0, 2, 4)  # fmt: skip


def test_a_return_is_not_activity() -> None:
    bought = [(ago(400), 30.0)]
    returned = [*bought, (ago(2), -30.0)]
    assert classify("c-1", returned, T0).state is classify("c-1", bought, T0).state is S.CHURNED
    # the lines of one order are one purchase occasion, at its first time
    lines = [
        Purchase("o-1", "c-1", ago(5), Money("10", "EUR")),
        Purchase("o-1", "c-1", ago(4), Money("5", "EUR")),
    ]
    facts = classify("c-1", lines, T0).facts
    assert (facts.purchases, facts.spend_total) == (1, 15.0)
