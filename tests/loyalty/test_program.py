"""Program configuration: earning rules, campaigns, caps, rounding, actions, validation, codec."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.customers import Purchase
from crmcore.kernel import codec
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.money import Money
from crmcore.loyalty.expiry import ExpiryPolicy
from crmcore.loyalty.program import (
    Campaign,
    EarnRule,
    LoyaltyProgram,
    RedemptionRule,
    ReturnPolicy,
)

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def sale(
    amount: str,
    *,
    at: datetime = T0,
    channel: str = "web",
    category: str | None = None,
    currency: str = "EUR",
) -> Purchase:
    return Purchase("o-1", "c-1", at, Money(amount, currency), channel=channel, category=category)


def program(**kwargs: object) -> LoyaltyProgram:
    return LoyaltyProgram(id="P", currency="EUR", point_value=eur("0.01"), **kwargs)  # type: ignore[arg-type]


def full_program() -> LoyaltyProgram:
    return LoyaltyProgram(
        id="gold-club",
        name="Gold Club",
        currency="EUR",
        point_value=eur("0.005"),
        earn=EarnRule(
            points_per_unit=Decimal("1.5"),
            rounding=ROUND_HALF_UP,
            channel_multipliers={"app": Decimal(2)},
            category_multipliers={"shoes": Decimal("1.5")},
            tier_multipliers={"Gold": Decimal("1.25")},
            max_points_per_order=5000,
            max_points_per_day=8000,
        ),
        campaigns=(
            Campaign(
                name="Spring x3",
                starts_at=T0,
                ends_at=T0 + timedelta(days=7),
                multiplier=Decimal(3),
                bonus_points=50,
                channels={"app"},
            ),
        ),
        actions={"sign_up": 100, "review": 20, "referral": 250, "birthday": 200},
        redemption=RedemptionRule(minimum=500, increment=100),
        expiry=ExpiryPolicy.end_of_month(12),
        pending_days=30,
        return_policy=ReturnPolicy.ALLOW_NEGATIVE,
        timezone="Europe/Berlin",
    )


def test_default_floor_rounding_never_pays_an_unpaid_point() -> None:
    assert program().quote(sale("19.99")).points == 19
    assert program().quote(sale("0.99")).points == 0


def test_rounding_mode_is_configurable() -> None:
    half_up = program(earn=EarnRule(rounding=ROUND_HALF_UP))
    assert half_up.quote(sale("19.50")).points == 20
    assert half_up.quote(sale("19.49")).points == 19


def test_multipliers_multiply_by_channel_category_and_tier() -> None:
    p = program(
        earn=EarnRule(
            channel_multipliers={"App": Decimal(2)},  # names are normalised
            category_multipliers={"shoes": Decimal("1.5")},
            tier_multipliers={"Gold": Decimal("1.1")},
        )
    )
    purchase = sale("100", channel="app", category="shoes")
    quote = p.quote(purchase, tier="Gold")
    assert quote.multiplier == Decimal("3.30")
    assert quote.points == 330
    assert p.quote(purchase, tier="Silver").points == 300  # tiers without a multiplier: x1
    assert p.quote(sale("100")).points == 100


def test_campaign_boundaries_are_half_open() -> None:
    spring = Campaign(
        name="spring",
        starts_at=T0,
        ends_at=T0 + timedelta(days=1),
        multiplier=Decimal(2),
        bonus_points=10,
    )
    p = program(campaigns=(spring,))
    before = p.quote(sale("10", at=T0 - timedelta(microseconds=1)))
    start = p.quote(sale("10", at=T0))
    last = p.quote(sale("10", at=T0 + timedelta(days=1) - timedelta(microseconds=1)))
    end = p.quote(sale("10", at=T0 + timedelta(days=1)))
    assert (before.points, start.points, last.points, end.points) == (10, 30, 30, 10)
    assert start.campaigns == ("spring",) and end.campaigns == ()


def test_campaign_filters_by_channel_and_category() -> None:
    boost = Campaign(
        name="app shoes",
        starts_at=T0,
        ends_at=T0 + timedelta(days=1),
        bonus_points=5,
        channels={"app"},
        categories={"shoes"},
    )
    p = program(campaigns=(boost,))
    assert p.quote(sale("10", channel="app", category="shoes")).points == 15
    assert p.quote(sale("10", channel="web", category="shoes")).points == 10
    assert p.quote(sale("10", channel="app", category="bags")).points == 10


def test_per_order_cap_includes_bonus() -> None:
    p = program(
        earn=EarnRule(max_points_per_order=100),
        campaigns=(Campaign(name="b", starts_at=T0, ends_at=T0 + timedelta(1), bonus_points=50),),
    )
    assert p.quote(sale("80")).points == 100
    assert p.quote(sale("20")).points == 70


def test_full_program_round_trips_through_the_codec() -> None:
    p = full_program()
    data = codec.encode(p, LoyaltyProgram)
    assert codec.decode(LoyaltyProgram, data) == p
    assert p.allows_negative
    assert p.quote(sale("100", channel="app"), tier="Gold").points == 1175  # 150*2*1.25*3 + 50


def test_actions_and_override() -> None:
    p = full_program()
    assert p.action_points("Sign Up") == ("sign_up", 100)
    assert p.action_points("referral", 400) == ("referral", 400)
    with pytest.raises(ValidationError) as info:
        p.action_points("tweet")
    assert info.value.field == "action"
    with pytest.raises(ValidationError) as info:
        p.action_points("review", 0)
    assert info.value.field == "points"


def test_redemption_rule() -> None:
    rule = RedemptionRule(minimum=500, increment=100)
    assert rule.check(700) == 700
    for bad in (0, -100, 400, 550, True, "500"):
        with pytest.raises(ValidationError) as info:
            rule.check(bad)
        assert info.value.field == "points"


def test_value_of_points() -> None:
    assert full_program().value_of(1000) == eur("5.000")


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: EarnRule(points_per_unit=Decimal(-1)), "earn.points_per_unit"),
        (lambda: EarnRule(points_per_unit=0.5), "earn.points_per_unit"),
        (lambda: EarnRule(rounding="ROUND_SOMETIMES"), "earn.rounding"),
        (
            lambda: EarnRule(channel_multipliers={"app": Decimal(-2)}),
            "earn.channel_multipliers.app",
        ),
        (lambda: EarnRule(max_points_per_order=-1), "earn.max_points_per_order"),
        (lambda: EarnRule(max_points_per_day=1.5), "earn.max_points_per_day"),
        (lambda: Campaign(name="x", starts_at=T0, ends_at=T0), "campaign.ends_at"),
        (
            lambda: Campaign(name="x", starts_at=datetime(2026, 1, 1), ends_at=T0),
            "campaign.starts_at",
        ),
        (lambda: Campaign(name="", starts_at=T0, ends_at=T0 + timedelta(1)), "campaign.name"),
        (
            lambda: Campaign(name="x", starts_at=T0, ends_at=T0 + timedelta(1), bonus_points=-5),
            "campaign.bonus_points",
        ),
        (lambda: RedemptionRule(minimum=0), "redemption.minimum"),
        (lambda: RedemptionRule(increment=-1), "redemption.increment"),
        (lambda: program(actions={"review": -5}), "actions.review"),
        (lambda: program(actions={"": 5}), "actions"),
        (lambda: program(pending_days=-1), "pending_days"),
        (lambda: program(timezone="Nowhere/Land"), "timezone"),
        (lambda: program(return_policy="forgive"), "return_policy"),
        (
            lambda: LoyaltyProgram(id="P", currency="EUR", point_value=Money("1", "USD")),
            "program.point_value",
        ),
        (lambda: LoyaltyProgram(id="P", currency="XXX1", point_value=eur("1")), "program.currency"),
        (lambda: LoyaltyProgram(id="", currency="EUR", point_value=eur("1")), "program.id"),
    ],
)
def test_bad_configuration_names_the_field(build: object, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        build()  # type: ignore[operator]
    assert info.value.field == field


def test_quote_rejects_another_currency() -> None:
    with pytest.raises(ValidationError) as info:
        program().quote(sale("10", currency="USD"))
    assert info.value.field == "purchase.amount"


def test_configuration_is_frozen_data() -> None:
    p = full_program()
    assert isinstance(p.actions, FrozenDict)
    assert hash(p) == hash(codec.decode(LoyaltyProgram, codec.encode(p, LoyaltyProgram)))


# -- the per-program memos never change a result ---------------------------------------------

_RICH = {
    "earn": EarnRule(
        points_per_unit=Decimal("1.5"),
        rounding=ROUND_HALF_UP,
        channel_multipliers={"app": Decimal(2)},
        category_multipliers={"shoes": Decimal("1.25")},
        tier_multipliers={"gold": Decimal("1.5")},
        max_points_per_order=900,
    ),
    "campaigns": (
        Campaign(name="spring", starts_at=T0, ends_at=T0 + timedelta(days=10), multiplier=2),
        Campaign(
            name="app-bonus",
            starts_at=T0 - timedelta(days=5),
            ends_at=T0 + timedelta(days=5),
            bonus_points=7,
            channels={"app"},
        ),
    ),
    "expiry": ExpiryPolicy.end_of_month(3),
    "timezone": "Europe/Berlin",
}


def rich_program() -> LoyaltyProgram:
    return LoyaltyProgram(id="P", currency="EUR", point_value=eur("0.01"), **_RICH)  # type: ignore[arg-type]


@given(
    st.lists(
        st.tuples(
            st.integers(0, 500_000),
            st.integers(-20 * 24, 20 * 24),
            st.sampled_from(["web", "app"]),
            st.sampled_from([None, "shoes", "hats"]),
            st.sampled_from([None, "gold", " gold ", "silver"]),
        ),
        min_size=1,
        max_size=30,
    )
)
@settings(max_examples=60, deadline=None)
def test_memoised_quotes_equal_cold_quotes(
    requests: list[tuple[int, int, str, str | None, str | None]],
) -> None:
    warm = rich_program()
    for cents, hours, channel, category, tier in requests:
        at = T0 + timedelta(hours=hours)
        purchase = Purchase(
            "o-1", "c-1", at, Money.of_minor(cents, "EUR"), channel=channel, category=category
        )
        cold = rich_program()  # a fresh value: nothing memoised yet
        assert warm.quote(purchase, tier) == cold.quote(purchase, tier)
        assert warm.expiry.lot_expiry(at, warm.timezone) == warm._derived.lot_expiry(at)


def test_bad_tier_still_raises_once_memoised() -> None:
    program = rich_program()
    assert program.quote(sale("10"), "gold").points == program.quote(sale("10"), "gold").points
    for bad in ("", "  ", 5, ["gold"]):
        with pytest.raises(ValidationError) as caught:
            program.quote(sale("10"), bad)  # type: ignore[arg-type]
        assert caught.value.field == "tier"


@pytest.mark.parametrize(
    "policy",
    [
        ExpiryPolicy.months_after(1),
        ExpiryPolicy.end_of_month(0),
        ExpiryPolicy.end_of_month(12),
        ExpiryPolicy.fixed_date(2, 29, months=3),
        ExpiryPolicy.never(),
        ExpiryPolicy.inactivity(6),
    ],
)
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York"])
def test_memoised_lot_expiry_equals_the_policy(policy: ExpiryPolicy, zone: str) -> None:
    program = LoyaltyProgram(
        id="P", currency="EUR", point_value=eur("0.01"), expiry=policy, timezone=zone
    )
    start = datetime(2024, 1, 31, 22, 30, tzinfo=UTC)
    for step in range(0, 24 * 800, 7):  # every 7 hours over two DST years and a leap day
        at = start + timedelta(hours=step)
        assert program._derived.lot_expiry(at) == policy.lot_expiry(at, zone)


def test_value_of_is_memoised_but_equal() -> None:
    program = LoyaltyProgram(id="P", currency="EUR", point_value=eur("0.05"))
    for points in (0, 1, 10, 10, 12_345):
        assert program.value_of(points) == eur("0.05") * points
    with pytest.raises(ValidationError, match="points: must be an integer"):
        program.value_of("10")  # type: ignore[arg-type]


def test_memos_stay_out_of_equality_hash_and_codec() -> None:
    program = rich_program()
    program.quote(sale("10", channel="app"), "gold")
    fresh = rich_program()
    assert program == fresh
    assert hash(program) == hash(fresh)
    assert codec.encode(program, LoyaltyProgram) == codec.encode(fresh, LoyaltyProgram)
    assert codec.decode(LoyaltyProgram, codec.encode(program, LoyaltyProgram)) == program
