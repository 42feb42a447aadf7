"""Coupon definitions: what a coupon takes off, for whom, when, how often, within which budget.

A [`CouponDefinition`][crmcore.marketing.coupons.CouponDefinition] is the rule set that the codes
of one offer share (Voucherify calls it a campaign, Talon.One a coupon campaign):

* a [`Discount`][crmcore.marketing.coupons.Discount]: a **percentage** (0 < p <= 100, optionally
  capped at a maximum amount), a **fixed amount**, or a **free item** (worth its stated value, only
  on an order that contains it);
* a **minimum order**, a validity window ``[valid_from, valid_to)``;
* limits: ``uses_per_code`` (1 for single-use codes, n for multi-use, 0 unlimited),
  ``per_customer_limit`` (redemptions per customer), ``total_limit`` (redemptions in all),
  ``issue_limit`` (codes issued), and a **budget** (the most discount all redemptions may give);
* whether it **stacks** with other coupons on one order, and a **target segment** (rule text).

Bad definitions are refused when they are made, with a
[`ValidationError`][crmcore.kernel.errors.ValidationError] naming the field: a 120 % discount, a
``valid_to`` not after ``valid_from``, money in two currencies.

Discounts are exact [`Money`][crmcore.kernel.money.Money]: a percentage of an amount is rounded
once, to the currency's minor unit with banker's rounding (the library's rounding policy,
[`crmcore.kernel.money`][crmcore.kernel.money]), then capped at the maximum and at the order
amount, so a discount never makes an order negative.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.kernel.money import Money
    >>> ten = CouponDefinition(id="spring-10", discount=Discount.percentage("10"),
    ...     valid_from=datetime(2026, 3, 1, tzinfo=UTC), minimum_order=Money("50", "EUR"))
    >>> ten.discount_for(Checkout("o-1", "c-1", Money("84.95", "EUR")))
    Money('8.50', 'EUR')
    >>> Discount.percentage(120)
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.ValidationError: discount.percent: must be more than 0 and at most 100 ...
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

import attrs

from crmcore.kernel import validators
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import CurrencyMismatchError, ValidationError
from crmcore.kernel.ids import validate_id
from crmcore.kernel.money import Money, to_decimal
from crmcore.marketing.coupon_refusals import CouponRefusedError, RefusalReason
from crmcore.marketing.targeting import target_text

__all__ = [
    "Checkout",
    "CouponDefinition",
    "Discount",
    "DiscountKind",
    "price_with_coupons",
]

_HUNDRED = Decimal(100)


class DiscountKind(enum.StrEnum):
    """What a coupon takes off."""

    PERCENTAGE = "percentage"
    FIXED_AMOUNT = "fixed_amount"
    FREE_ITEM = "free_item"


def _optional_percent(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value, "discount.percent")


def _optional_money(
    _instance: object, attribute: attrs.Attribute[Money | None], value: object
) -> None:
    if value is not None and not isinstance(value, Money):
        raise ValidationError(f"discount.{attribute.name}", value, "must be Money or None")


def _optional_item(value: object) -> str | None:
    return None if value is None else validate_id(value, "discount.item")


def _kind(value: object) -> DiscountKind:
    return validators.choice(value, "kind", DiscountKind)


@attrs.frozen(kw_only=True)
class Discount:
    """What a coupon takes off: build one with
    [`percentage()`][crmcore.marketing.coupons.Discount.percentage],
    [`fixed()`][crmcore.marketing.coupons.Discount.fixed] or
    [`free_item()`][crmcore.marketing.coupons.Discount.free_item].

    ``percent`` (for percentages) is exact, in (0, 100]; ``amount`` is the fixed amount, the free
    item's value, or a percentage's optional cap; ``item`` the free item's id.
    """

    kind: DiscountKind = attrs.field(converter=_kind)
    percent: Decimal | None = attrs.field(default=None, converter=_optional_percent)
    amount: Money | None = attrs.field(default=None, validator=_optional_money)
    item: str | None = attrs.field(default=None, converter=_optional_item)

    def __attrs_post_init__(self) -> None:
        kind = self.kind
        if kind is DiscountKind.PERCENTAGE:
            if self.percent is None or not Decimal(0) < self.percent <= _HUNDRED:
                raise ValidationError(
                    "discount.percent", self.percent, "must be more than 0 and at most 100"
                )
            if self.amount is not None and self.amount.amount <= 0:
                raise ValidationError("discount.amount", self.amount, "a cap must be positive")
        else:
            if self.percent is not None:
                raise ValidationError("discount.percent", self.percent, f"is not used by {kind}")
            if self.amount is None or self.amount.amount <= 0:
                raise ValidationError("discount.amount", self.amount, "must be a positive Money")
        if (kind is DiscountKind.FREE_ITEM) != (self.item is not None):
            raise ValidationError("discount.item", self.item, "is the free item's id, and only it")

    @classmethod
    def percentage(cls, percent: Decimal | int | str, *, cap: Money | None = None) -> Discount:
        """``percent`` % off (in (0, 100]), at most ``cap`` when given."""
        return cls(kind=DiscountKind.PERCENTAGE, percent=percent, amount=cap)

    @classmethod
    def fixed(cls, amount: Money) -> Discount:
        """``amount`` off (never more than the order)."""
        return cls(kind=DiscountKind.FIXED_AMOUNT, amount=amount)

    @classmethod
    def free_item(cls, item: str, value: Money) -> Discount:
        """Item ``item`` for free, worth ``value``; the order must contain it."""
        return cls(kind=DiscountKind.FREE_ITEM, amount=value, item=item)

    @property
    def currency(self) -> str | None:
        """The currency of the discount's money (``None`` for an uncapped percentage)."""
        return None if self.amount is None else self.amount.currency


def _items(value: object) -> frozenset[str]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError("checkout.items", value, "must be a collection of item ids")
    return frozenset(validate_id(v, "checkout.items") for v in value)


def _order_id(value: object) -> str:
    return validate_id(value, "checkout.order_id")


def _customer_id(value: object) -> str:
    return validate_id(value, "checkout.customer_id")


def _order_amount(_instance: object, _attribute: object, value: Money) -> None:
    if not isinstance(value, Money) or value.is_negative:
        raise ValidationError("checkout.amount", value, "must be a non-negative Money")


@attrs.frozen
class Checkout:
    """An order about to be paid: its id, customer, amount before this coupon, and item ids."""

    order_id: str = attrs.field(converter=_order_id)
    customer_id: str = attrs.field(converter=_customer_id)
    amount: Money = attrs.field(validator=_order_amount)
    items: frozenset[str] = attrs.field(default=frozenset(), converter=_items)


def _limit(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(attribute.name, value, "must be a whole number, 0 for unlimited")


def _definition_id(value: object) -> str:
    return validate_id(value, "id")


def _valid_from(value: object) -> datetime:
    return to_utc(value, "valid_from")


def _optional_time(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "valid_to")


def _segment(value: object) -> str | None:
    return target_text(value, "segment")


def _discount(_instance: object, _attribute: object, value: Discount) -> None:
    if not isinstance(value, Discount):
        raise ValidationError("discount", value, "must be a Discount")


def _positive_money(
    _instance: object, attribute: attrs.Attribute[Money | None], value: object
) -> None:
    if value is not None and (not isinstance(value, Money) or value.is_negative):
        raise ValidationError(attribute.name, value, "must be None or a non-negative Money")


@attrs.frozen(kw_only=True)
class CouponDefinition:
    """The rules of one coupon offer (a versioned aggregate; see the module notes).

    Limits of 0 mean unlimited; ``uses_per_code`` defaults to 1 (single-use codes).
    """

    id: str = attrs.field(converter=_definition_id)
    discount: Discount = attrs.field(validator=_discount)
    valid_from: datetime = attrs.field(converter=_valid_from)
    valid_to: datetime | None = attrs.field(default=None, converter=_optional_time)
    minimum_order: Money | None = attrs.field(default=None, validator=_positive_money)
    uses_per_code: int = attrs.field(default=1, validator=_limit)
    per_customer_limit: int = attrs.field(default=0, validator=_limit)
    total_limit: int = attrs.field(default=0, validator=_limit)
    issue_limit: int = attrs.field(default=0, validator=_limit)
    budget: Money | None = attrs.field(default=None, validator=_positive_money)
    stackable: bool = attrs.field(default=False, validator=validators.flag)
    segment: str | None = attrs.field(default=None, converter=_segment)
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValidationError("valid_to", self.valid_to, "must be after valid_from")
        currencies = {
            name: money.currency
            for name, money in (
                ("discount.amount", self.discount.amount),
                ("minimum_order", self.minimum_order),
                ("budget", self.budget),
            )
            if money is not None
        }
        if len(set(currencies.values())) > 1:
            raise ValidationError(
                "currency", currencies, "the discount, minimum order and budget must share one"
            )

    @property
    def currency(self) -> str | None:
        """The one currency of the definition's amounts (``None`` when it has none)."""
        for money in (self.discount.amount, self.minimum_order, self.budget):
            if money is not None:
                return money.currency
        return None

    def discount_for(self, checkout: Checkout) -> Money:
        """The discount this coupon gives ``checkout`` (exact; never more than the order).

        Raises [`CouponRefusedError`][crmcore.marketing.coupon_refusals.CouponRefusedError] with
        ``not_eligible`` for a free item the order lacks and ``below_minimum_order`` under the
        minimum; [`CurrencyMismatchError`][crmcore.kernel.errors.CurrencyMismatchError] for an
        order in another currency.
        """
        if not isinstance(checkout, Checkout):
            raise ValidationError("checkout", checkout, "must be a Checkout")
        amount = checkout.amount
        currency = self.currency
        if currency is not None and amount.currency != currency:
            raise CurrencyMismatchError(currency, amount.currency, "apply a coupon to")
        if self.minimum_order is not None and amount < self.minimum_order:
            raise CouponRefusedError(
                RefusalReason.BELOW_MINIMUM_ORDER,
                self.id,
                f"the order of {amount} is below the minimum of {self.minimum_order}",
            )
        discount = self.discount
        if discount.kind is DiscountKind.PERCENTAGE:
            assert discount.percent is not None
            off = Money(amount.amount * discount.percent / _HUNDRED, amount.currency).rounded()
            if discount.amount is not None:
                off = min(off, discount.amount)
        else:
            if discount.kind is DiscountKind.FREE_ITEM and discount.item not in checkout.items:
                raise CouponRefusedError(
                    RefusalReason.NOT_ELIGIBLE, self.id, f"the order has no {discount.item!r}"
                )
            assert discount.amount is not None
            off = discount.amount
        return min(off, amount)


def price_with_coupons(
    checkout: Checkout, definitions: Sequence[CouponDefinition]
) -> tuple[Money, ...]:
    """The discount of each coupon applied in order, each on what the previous ones left.

    More than one coupon needs every one of them to be stackable; otherwise
    [`CouponRefusedError`][crmcore.marketing.coupon_refusals.CouponRefusedError] with
    ``not_stackable`` names the first that is not. The discounts never add up to more than the
    order.

    Examples:
        >>> from datetime import UTC, datetime
        >>> from crmcore.kernel.money import Money
        >>> t = datetime(2026, 1, 1, tzinfo=UTC)
        >>> five = CouponDefinition(id="five", discount=Discount.fixed(Money("5", "EUR")),
        ...                         valid_from=t, stackable=True)
        >>> half = CouponDefinition(id="half", discount=Discount.percentage(50),
        ...                         valid_from=t, stackable=True)
        >>> price_with_coupons(Checkout("o-1", "c-1", Money("25", "EUR")), [five, half])
        (Money('5', 'EUR'), Money('10.00', 'EUR'))
    """
    if not isinstance(checkout, Checkout):
        raise ValidationError("checkout", checkout, "must be a Checkout")
    coupons = list(validators.items_of(definitions, "definitions", "coupon definitions"))
    for i, definition in enumerate(coupons):
        if not isinstance(definition, CouponDefinition):
            raise ValidationError(f"definitions[{i}]", definition, "must be a CouponDefinition")
    if len(coupons) > 1:
        for definition in coupons:
            if not definition.stackable:
                raise CouponRefusedError(
                    RefusalReason.NOT_STACKABLE,
                    definition.id,
                    "it does not combine with other coupons on one order",
                )
    discounts: list[Money] = []
    remaining = checkout
    for definition in coupons:
        off = definition.discount_for(remaining)
        discounts.append(off)
        remaining = attrs.evolve(remaining, amount=remaining.amount - off)
    return tuple(discounts)
