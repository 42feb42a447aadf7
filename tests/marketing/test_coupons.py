"""Coupon definitions: exact discounts, stacking, and bad definitions refused when made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.kernel import codec
from crmcore.kernel.errors import CurrencyMismatchError, ValidationError
from crmcore.kernel.money import Money
from crmcore.marketing.coupon_refusals import CouponRefusedError, RefusalReason
from crmcore.marketing.coupons import Checkout, CouponDefinition, Discount, price_with_coupons

T = datetime(2026, 3, 1, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def definition(discount: Discount, **changes: object) -> CouponDefinition:
    return CouponDefinition(id="d", discount=discount, valid_from=T, **changes)  # type: ignore[arg-type]


def checkout(amount: str, items: tuple[str, ...] = ()) -> Checkout:
    return Checkout("o-1", "c-1", eur(amount), items)


def test_percentage_discounts_round_once_to_the_minor_unit() -> None:
    ten = definition(Discount.percentage("10"))
    assert ten.discount_for(checkout("84.95")) == eur("8.50")  # 8.495 -> 8.50 (half even)
    assert ten.discount_for(checkout("84.85")) == eur("8.48")  # 8.485 -> 8.48 (half even)
    capped = definition(Discount.percentage(50, cap=eur("20")))
    assert capped.discount_for(checkout("100")) == eur("20")
    yen = definition(Discount.percentage("15"))
    assert yen.discount_for(Checkout("o", "c", Money("999", "JPY"))) == Money("150", "JPY")


@given(st.decimals(min_value="0", max_value="100000", places=2), st.integers(1, 100))
def test_a_discount_is_never_negative_nor_more_than_the_order(
    amount: Decimal, percent: int
) -> None:
    for discount in (Discount.percentage(percent), Discount.fixed(eur("25"))):
        off = definition(discount).discount_for(Checkout("o", "c", eur(str(amount))))
        assert Money.zero("EUR") <= off <= eur(str(amount))
        assert off.amount == off.rounded().amount


def test_fixed_and_free_item_discounts() -> None:
    assert definition(Discount.fixed(eur("5"))).discount_for(checkout("3")) == eur("3")
    free = definition(Discount.free_item("mug", eur("9.90")))
    assert free.discount_for(checkout("30", ("mug", "tea"))) == eur("9.90")
    with pytest.raises(CouponRefusedError) as refused:
        free.discount_for(checkout("30", ("tea",)))
    assert refused.value.reason is RefusalReason.NOT_ELIGIBLE


def test_minimum_order_and_currency() -> None:
    fifty = definition(Discount.fixed(eur("5")), minimum_order=eur("50"))
    with pytest.raises(CouponRefusedError) as refused:
        fifty.discount_for(checkout("49.99"))
    assert refused.value.reason == "below_minimum_order"
    with pytest.raises(CurrencyMismatchError):
        fifty.discount_for(Checkout("o", "c", Money("80", "USD")))


def test_stacking_needs_every_coupon_to_stack() -> None:
    five = definition(Discount.fixed(eur("5")), stackable=True)
    half = CouponDefinition(id="h", discount=Discount.percentage(50), valid_from=T)
    assert price_with_coupons(checkout("25"), [half]) == (eur("12.50"),)
    with pytest.raises(CouponRefusedError) as refused:
        price_with_coupons(checkout("25"), [five, half])
    assert (refused.value.reason, refused.value.code) == (RefusalReason.NOT_STACKABLE, "h")


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Discount.percentage(120), "discount.percent"),
        (lambda: Discount.percentage(0), "discount.percent"),
        (lambda: Discount.fixed(eur("-1")), "discount.amount"),
        (lambda: definition(Discount.fixed(eur("1")), valid_to=T - timedelta(days=1)), "valid_to"),
        (lambda: definition(Discount.fixed(eur("1")), budget=Money("9", "USD")), "currency"),
        (lambda: definition(Discount.fixed(eur("1")), per_customer_limit=-1), "per_customer_limit"),
        (lambda: definition(Discount.fixed(eur("1")), segment="a >>> 1"), "segment"),
        (lambda: Checkout("o", "c", eur("-1")), "checkout.amount"),
    ],
)
def test_bad_definitions_are_refused_naming_the_field(make: object, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        make()  # type: ignore[operator]
    assert error.value.field == field


def test_a_definition_round_trips_through_the_codec() -> None:
    original = definition(
        Discount.percentage("12.5", cap=eur("30")),
        valid_to=T + timedelta(days=30),
        minimum_order=eur("20"),
        budget=eur("1000"),
        segment='country = "CN"',
    )
    assert codec.decode(CouponDefinition, codec.encode(original)) == original


def test_refusals_pickle_and_compare_with_their_value() -> None:
    import pickle

    error = CouponRefusedError(RefusalReason.EXPIRED, "X", "expired at noon")
    again = pickle.loads(pickle.dumps(error))
    assert (again.reason, again.code, str(again)) == ("expired", "X", str(error))
