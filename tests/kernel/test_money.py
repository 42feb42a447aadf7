from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.kernel.errors import CurrencyMismatchError, ValidationError
from crmcore.kernel.money import Money, minor_units


def test_arithmetic_is_exact_and_keeps_currency() -> None:
    total = Money("0.10", "EUR") + Money("0.20", "eur")
    assert total == Money("0.30", "EUR")
    assert total.currency == "EUR"
    assert Money("5", "EUR") - Money("7.5", "EUR") == Money("-2.5", "EUR")
    assert Money("2.50", "EUR") * 3 == Money("7.50", "EUR")
    assert Decimal("0.5") * Money("3", "USD") == Money("1.5", "USD")
    assert -Money("1", "USD") == Money("-1", "USD")


def test_mixing_currencies_raises_currency_mismatch() -> None:
    with pytest.raises(CurrencyMismatchError) as info:
        Money("1", "EUR") + Money("1", "USD")
    assert (info.value.left, info.value.right) == ("EUR", "USD")
    with pytest.raises(CurrencyMismatchError):
        _ = Money("1", "EUR") < Money("2", "USD")


@pytest.mark.parametrize(
    ("amount", "currency", "reason"),
    [
        (0.1, "EUR", "floats are inexact"),
        ("abc", "EUR", "is not a number"),
        ("NaN", "EUR", "finite"),
        ("1", "EURO", "ISO 4217"),
        ("1", "XXX", "ISO 4217"),
        (True, "EUR", "floats"),
    ],
)
def test_bad_amounts_and_codes_name_the_field(amount: object, currency: str, reason: str) -> None:
    with pytest.raises(ValidationError) as info:
        Money(amount, currency)  # type: ignore[arg-type]
    assert reason in info.value.reason
    assert info.value.field in {"amount", "currency"}


def test_rounding_uses_the_minor_unit_and_bankers_rounding_by_default() -> None:
    assert Money("2.345", "EUR").rounded() == Money("2.34", "EUR")
    assert Money("2.355", "EUR").rounded() == Money("2.36", "EUR")
    assert Money("2.345", "EUR").rounded(ROUND_HALF_UP) == Money("2.35", "EUR")
    assert Money("1234.5", "JPY").rounded().amount == Decimal("1234")
    assert Money("1.2345", "KWD").rounded().amount == Decimal("1.234")
    assert minor_units("jpy") == 0
    assert Money("19.99", "EUR").to_minor() == 1999
    assert Money.of_minor(1999, "EUR") == Money("19.99", "EUR")


def test_allocate_splits_without_losing_a_cent() -> None:
    parts = Money("100", "EUR").allocate([1, 1, 1])
    assert parts == (Money("33.34", "EUR"), Money("33.33", "EUR"), Money("33.33", "EUR"))
    assert Money("-0.05", "EUR").allocate([1, 1]) == (Money("-0.03", "EUR"), Money("-0.02", "EUR"))
    with pytest.raises(ValidationError):
        Money("1", "EUR").allocate([0, 0])
    with pytest.raises(ValidationError):
        Money("1", "EUR").allocate([])


@given(
    cents=st.integers(-(10**9), 10**9),
    weights=st.lists(st.integers(0, 1000), min_size=1, max_size=8).filter(any),
)
def test_allocate_always_sums_to_the_rounded_whole(cents: int, weights: list[int]) -> None:
    whole = Money.of_minor(cents, "USD")
    parts = whole.allocate(weights)
    assert len(parts) == len(weights)
    assert Money.sum(parts, "USD") == whole
    total_weight = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(cents) * weight / total_weight
        assert abs(part.to_minor() - exact) < 1  # never off by a whole minor unit


@given(
    st.decimals(min_value=-(10**15) + 1, max_value=10**15 - 1, places=6),
    st.sampled_from(["EUR", "JPY"]),
)
def test_dict_round_trip_is_exact(amount: Decimal, currency: str) -> None:
    money = Money(amount, currency)
    assert Money.from_dict(money.to_dict()) == money
    assert str(Money.from_dict(money.to_dict()).amount) == str(amount)


def test_ordering_and_truthiness() -> None:
    assert Money("1", "EUR") < Money("2", "EUR") <= Money("2.00", "EUR")
    assert not Money("0.00", "EUR")
    assert Money("-1", "EUR").is_negative
    assert str(Money("1.50", "EUR")) == "1.50 EUR"
    assert hash(Money("1.0", "EUR")) == hash(Money("1.00", "EUR"))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1_000", "is not a number"),
        ("0x10", "is not a number"),
        ("1 000", "is not a number"),
        ("1e400", r"10\*\*15"),
        ("-1000000000000000", r"10\*\*15"),
        ("Infinity", "finite"),
        ("-nan", "finite"),
    ],
)
def test_amounts_are_plain_bounded_decimals(text: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason) as caught:
        Money(text, "EUR")
    assert caught.value.field == "amount"


def test_the_largest_amounts_fit_in_minor_units_of_64_bits() -> None:
    from crmcore.kernel.money import MAX_AMOUNT

    largest = Money(MAX_AMOUNT - Decimal("0.001"), "KWD")
    assert largest.to_minor() < 2**63
    assert Money(" 1e3 ", "EUR").amount == 1000


def test_amounts_below_the_minor_unit_are_exact_and_known() -> None:
    point_value = Money("0.004", "EUR")  # a fraction of a cent is a valid amount ...
    assert point_value * 250 == Money("1.000", "EUR")
    assert not point_value.is_whole  # ... that a paid fact refuses at its own boundary
    assert Money("19.990", "EUR").is_whole
    assert Money("1234", "JPY").is_whole and not Money("1234.5", "JPY").is_whole


def test_arithmetic_never_rounds_silently() -> None:
    tiny = Money("0.0000000000000000000000000001", "EUR")  # 28 decimals
    assert (tiny + Money("1", "EUR")).amount == Decimal("1.0000000000000000000000000001")
    assert (Money("999999999999999", "EUR") + tiny) - tiny == Money("999999999999999", "EUR")
    with pytest.raises(ValidationError, match="exactly"):
        Money(Decimal("1e-100"), "EUR") + Money("1", "EUR")
    with pytest.raises(ValidationError, match="exactly"):
        Money(0, "EUR") * Decimal("Infinity")


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: Money("1e999999999999999999999", "EUR"), "amount"),
        (lambda: Money.of_minor(0.5, "EUR"), "units"),  # type: ignore[arg-type]
        (lambda: Money.of_minor("12", "EUR"), "units"),  # type: ignore[arg-type]
        (lambda: Money("1", "EUR").rounded("ROUND_SIDEWAYS"), "rounding"),
        (lambda: Money("1", "EUR").allocate(5), "weights"),  # type: ignore[arg-type]
        (lambda: Money("1", "EUR").allocate("11"), "weights"),  # type: ignore[arg-type]
        (lambda: Money("1", "EUR").allocate([Decimal("1e-40"), 1]), "weights"),
        (lambda: Money.sum([Money("1", "EUR"), 1], "EUR"), "amounts[1]"),  # type: ignore[list-item]
        (lambda: Money.sum(None, "EUR"), "amounts"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_to_money_operations_are_validation_errors(call: Any, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.field == field


@given(
    cents=st.integers(-(10**17) + 1, 10**17 - 1),
    weights=st.lists(
        st.decimals(min_value=0, max_value=10**6, places=8), min_size=1, max_size=6
    ).filter(any),
)
def test_allocate_is_exact_for_decimal_weights(cents: int, weights: list[Decimal]) -> None:
    whole = Money.of_minor(cents, "EUR")
    parts = whole.allocate(weights)
    assert Money.sum(parts, "EUR") == whole
    total = sum(weights, Decimal(0))
    for part, weight in zip(parts, weights, strict=True):
        exact = Fraction(abs(cents)) * Fraction(weight) / Fraction(total)
        assert abs(abs(part.to_minor()) - exact) < 1
