"""Money: an exact `Decimal` amount in one ISO 4217 currency.

Rounding policy (one place, documented):

* Arithmetic is exact; nothing is rounded implicitly. ``Money("10", "EUR") / 3``
  is not offered because it cannot be exact: use
  [`Money.allocate()`][crmcore.kernel.money.Money.allocate].
* [`Money.rounded()`][crmcore.kernel.money.Money.rounded] rounds to the currency's minor unit (2
  decimals for EUR, 0 for JPY, 3 for KWD) with banker's rounding, ``ROUND_HALF_EVEN``, by default
  (the IEEE 754 / accounting default, unbiased over many roundings); pass another `decimal` rounding
  mode where a contract says otherwise.
* [`Money.allocate()`][crmcore.kernel.money.Money.allocate] splits an amount by weights into rounded
  parts that add up exactly to the rounded whole (largest-remainder method), so a refund split over
  order lines never gains or loses a cent.

Amounts are exact at any precision: a unit price or a point value may be a
fraction of a cent, and `rounded()` brings a result to the minor unit. Facts
that are paid or stored as paid (a purchase, a deal amount) are checked at their
own boundary to be whole minor units. Amounts are at most
[`MAX_AMOUNT`][crmcore.kernel.money.MAX_AMOUNT] in magnitude, and numeric strings
are plain decimals (``"1_000"`` and ``"0x10"`` are refused, ``"1e3"`` is 1000).

Combining two currencies raises
[`CurrencyMismatchError`][crmcore.kernel.errors.CurrencyMismatchError]. Floats are refused
(``Money(0.1, "EUR")`` is not 0.1): pass a ``str``, ``int`` or ``Decimal``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import total_ordering
from typing import Any, Final

import attrs

from crmcore.kernel.currencies import CURRENCIES
from crmcore.kernel.errors import CurrencyMismatchError, ValidationError

__all__ = ["MAX_AMOUNT", "Money", "currency_code", "minor_units", "to_decimal"]

MAX_AMOUNT: Final = Decimal(10) ** 15
"""The largest magnitude of an amount (exclusive): 10**15 major units.

Every amount then fits in a signed 64-bit count of minor units for any currency
(at most 3 decimals: 10**18 < 2**63), which the columnar analytics rely on.
"""
_NUMBER: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")


def to_decimal(value: object, field: str = "amount") -> Decimal:
    """Convert ``int``, ``str`` or ``Decimal`` to a finite ``Decimal``; refuse floats."""
    if isinstance(value, bool | float):
        raise ValidationError(
            field, value, "must be a Decimal, int or numeric string (floats are inexact)"
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.lower().lstrip("+-") in ("nan", "snan", "inf", "infinity"):
            raise ValidationError(field, value, "must be a finite number")
        if not _NUMBER.match(text):
            raise ValidationError(
                field, value, "is not a number: write a plain decimal such as '19.99' or '-5'"
            )
        try:
            result = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            raise ValidationError(field, value, "is not a number") from None
    else:
        raise ValidationError(field, value, "must be a Decimal, int or numeric string")
    if not result.is_finite():
        raise ValidationError(field, value, "must be a finite number")
    if abs(result) >= MAX_AMOUNT:
        raise ValidationError(
            field, _shown(value), "must be less than 10**15 in magnitude (MAX_AMOUNT)"
        )
    return result


def _shown(value: object) -> object:
    text = str(value)
    return value if len(text) <= 40 else text[:37] + "..."


def currency_code(value: object, field: str = "currency") -> str:
    """Validate an ISO 4217 code (case-insensitive) and return it upper-cased."""
    if not isinstance(value, str) or value.strip().upper() not in CURRENCIES:
        raise ValidationError(field, value, "must be an ISO 4217 currency code such as 'EUR'")
    return value.strip().upper()


def minor_units(currency: str) -> int:
    """Decimal places of ``currency``'s minor unit (2 for EUR, 0 for JPY, 3 for KWD)."""
    return CURRENCIES[currency_code(currency)].minor_units


def _amount(value: object) -> Decimal:
    return to_decimal(value, "amount")


def _currency(value: object) -> str:
    return currency_code(value, "currency")


@total_ordering
@attrs.frozen(eq=True, order=False, repr=False)
class Money:
    """An amount of money in one currency.

    Examples:
        >>> Money("19.99", "eur") + Money("0.01", "EUR")
        Money('20.00', 'EUR')
        >>> Money("10", "EUR").allocate([1, 1, 1])
        (Money('3.34', 'EUR'), Money('3.33', 'EUR'), Money('3.33', 'EUR'))
    """

    amount: Decimal = attrs.field(converter=_amount)
    currency: str = attrs.field(converter=_currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in ``currency``."""
        return cls(Decimal(0), currency)

    @classmethod
    def of_minor(cls, units: int, currency: str) -> Money:
        """From an integer count of minor units: ``Money.of_minor(1999, "EUR")`` is 19.99."""
        code = currency_code(currency)
        return cls(Decimal(units).scaleb(-minor_units(code)), code)

    # -- arithmetic -------------------------------------------------------------
    def _same(self, other: Money, operation: str) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(self.currency, other.currency, operation)

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "add")
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "subtract")
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: object) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            return NotImplemented
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "compare")
        return self.amount < other.amount

    def __bool__(self) -> bool:
        return bool(self.amount)

    # -- queries ----------------------------------------------------------------
    @property
    def is_negative(self) -> bool:
        """True when the amount is below zero."""
        return self.amount < 0

    @property
    def minor_units(self) -> int:
        """Decimal places of this currency's minor unit."""
        return minor_units(self.currency)

    def rounded(self, rounding: str = ROUND_HALF_EVEN) -> Money:
        """Round to the currency's minor unit (banker's rounding by default)."""
        exponent = Decimal(1).scaleb(-self.minor_units)
        return Money(self.amount.quantize(exponent, rounding=rounding), self.currency)

    def to_minor(self, rounding: str = ROUND_HALF_EVEN) -> int:
        """The amount as an integer count of minor units, after
        [`rounded()`][crmcore.kernel.money.Money.rounded]."""
        return int(self.rounded(rounding).amount.scaleb(self.minor_units))

    def allocate(self, weights: Sequence[int | Decimal]) -> tuple[Money, ...]:
        """Split into parts proportional to ``weights`` that sum exactly to the rounded whole.

        Each part is rounded down to the minor unit, then the leftover minor
        units go one each to the parts with the largest remainders (earlier
        parts win ties), the largest-remainder (Hamilton) method.
        """
        if not weights:
            raise ValidationError("weights", weights, "must not be empty")
        ws = [to_decimal(w, f"weights[{i}]") for i, w in enumerate(weights)]
        if any(w < 0 for w in ws):
            raise ValidationError("weights", list(weights), "must not be negative")
        total_weight = sum(ws, Decimal(0))
        if total_weight == 0:
            raise ValidationError("weights", list(weights), "must not all be zero")
        total = self.to_minor()
        sign = -1 if total < 0 else 1
        exact = [abs(total) * w / total_weight for w in ws]
        floors = [int(e.to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
        leftover = abs(total) - sum(floors)
        order = sorted(range(len(ws)), key=lambda i: (-(exact[i] - floors[i]), i))
        for i in order[:leftover]:
            floors[i] += 1
        return tuple(Money.of_minor(sign * f, self.currency) for f in floors)

    @staticmethod
    def sum(amounts: Iterable[Money], currency: str) -> Money:
        """Add up ``amounts`` (all in ``currency``); zero when empty."""
        total = Money.zero(currency)
        for amount in amounts:
            total = total + amount
        return total

    def to_dict(self) -> dict[str, str]:
        """``{"amount": "19.99", "currency": "EUR"}``: JSON-safe, exact."""
        return {"amount": str(self.amount), "currency": self.currency}

    @classmethod
    def from_dict(cls, data: Any) -> Money:
        """Inverse of [`to_dict()`][crmcore.kernel.money.Money.to_dict]."""
        if not isinstance(data, dict) or set(data) != {"amount", "currency"}:
            raise ValidationError("money", data, "must be {'amount': ..., 'currency': ...}")
        return cls(data["amount"], data["currency"])

    def __repr__(self) -> str:
        return f"Money({str(self.amount)!r}, {self.currency!r})"

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
