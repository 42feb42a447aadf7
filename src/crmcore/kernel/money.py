"""Money: an exact `Decimal` amount in one ISO 4217 currency.

Rounding policy (one place, documented):

* Arithmetic is exact; nothing is rounded implicitly. Sums, differences, negations and
  products are computed exactly (in a 60-digit context that traps rounding), and a result that
  could only be rounded raises [`ValidationError`][crmcore.kernel.errors.ValidationError]
  instead of silently losing digits. ``Money("10", "EUR") / 3`` is not offered because it cannot
  be exact: use [`Money.allocate()`][crmcore.kernel.money.Money.allocate].
* [`Money.rounded()`][crmcore.kernel.money.Money.rounded] rounds to the currency's minor unit (2
  decimals for EUR, 0 for JPY, 3 for KWD) with banker's rounding, ``ROUND_HALF_EVEN``, by default
  (the IEEE 754 / accounting default, unbiased over many roundings); pass another `decimal` rounding
  mode where a contract says otherwise.
* [`Money.allocate()`][crmcore.kernel.money.Money.allocate] splits an amount by weights into rounded
  parts that add up exactly to the rounded whole (largest-remainder method, in integer
  arithmetic), so a refund split over order lines never gains or loses a cent.

**Amounts below the minor unit** are defined, not refused: a `Money` holds any exact amount, so a
unit price, a point value (``Money("0.004", "EUR")``) or a converted amount may carry fractions of
a cent, and [`rounded()`][crmcore.kernel.money.Money.rounded] brings a result to the minor unit.
Facts that are paid (a [`Purchase`][crmcore.customers.records.Purchase], a deal amount) are
checked at their own boundary to be whole minor units
([`Money.is_whole`][crmcore.kernel.money.Money.is_whole]) and refused otherwise.

Amounts are less than [`MAX_AMOUNT`][crmcore.kernel.money.MAX_AMOUNT] (10**15) in magnitude, so
``Money("1e400", "EUR")`` is refused, and numeric strings are plain decimals (``"1_000"`` and
``"0x10"`` are refused, ``"1e3"`` is 1000).

Combining two currencies raises
[`CurrencyMismatchError`][crmcore.kernel.errors.CurrencyMismatchError]. Floats are refused
(``Money(0.1, "EUR")`` is not 0.1): pass a ``str``, ``int`` or ``Decimal``.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal, DecimalException, InvalidOperation
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
_EXACT: Final = Context(
    prec=60,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, decimal.Inexact, decimal.Overflow, decimal.DivisionByZero],
)
"""The context of Money arithmetic: wide enough for any sum of amounts of up to 44 decimals,
and any operation that would have to round raises (``Inexact``) instead."""
_WIDE: Final = Context(prec=60, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation])
"""The context of explicit rounding (``quantize``, ``scaleb``): independent of the caller's."""
_ROUNDINGS: Final = frozenset(
    {
        decimal.ROUND_CEILING,
        decimal.ROUND_DOWN,
        decimal.ROUND_FLOOR,
        decimal.ROUND_HALF_DOWN,
        decimal.ROUND_HALF_EVEN,
        decimal.ROUND_HALF_UP,
        decimal.ROUND_UP,
        decimal.ROUND_05UP,
    }
)
_MAX_WEIGHT_PLACES: Final = 30


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
        except InvalidOperation:  # the pattern admits only numbers: the exponent is too large
            raise ValidationError(
                field, _shown(value), "is out of range: its exponent is too large"
            ) from None
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


def _exactly(operation: str, compute: Callable[..., Decimal], *operands: Decimal) -> Decimal:
    """``compute(*operands)`` in the exact context; ValidationError if it would have to round."""
    try:
        return compute(*operands)
    except DecimalException:
        shown = _shown(f" {operation} ".join(str(o) for o in operands))
        raise ValidationError(
            "amount", shown, f"cannot be computed exactly ({operation}): round an operand first"
        ) from None


def _weight_units(weights: object) -> list[int]:
    """Weights as integers on one scale (exact), validated."""
    if isinstance(weights, str | bytes) or not isinstance(weights, Sequence):
        raise ValidationError("weights", weights, "must be a list of non-negative numbers")
    if not weights:
        raise ValidationError("weights", weights, "must not be empty")
    ws = [to_decimal(w, f"weights[{i}]") for i, w in enumerate(weights)]
    if any(w < 0 for w in ws):
        raise ValidationError("weights", list(weights), "must not be negative")
    try:
        normal = [_EXACT.normalize(w) for w in ws]
    except DecimalException:
        raise ValidationError(
            "weights", list(weights), f"must have at most {_MAX_WEIGHT_PLACES} decimal places"
        ) from None
    places = max(0, *(-int(w.as_tuple().exponent) for w in normal))
    if places > _MAX_WEIGHT_PLACES:
        raise ValidationError(
            "weights", list(weights), f"must have at most {_MAX_WEIGHT_PLACES} decimal places"
        )
    units = [int(w.scaleb(places, context=_EXACT)) for w in normal]
    if not any(units):
        raise ValidationError("weights", list(weights), "must not all be zero")
    return units


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
        if isinstance(units, bool) or not isinstance(units, int):
            raise ValidationError("units", units, "must be an integer count of minor units")
        code = currency_code(currency)
        return cls(Decimal(units).scaleb(-minor_units(code), context=_WIDE), code)

    # -- arithmetic -------------------------------------------------------------
    def _same(self, other: Money, operation: str) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(self.currency, other.currency, operation)

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "add")
        return Money(_exactly("+", _EXACT.add, self.amount, other.amount), self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "subtract")
        return Money(_exactly("-", _EXACT.subtract, self.amount, other.amount), self.currency)

    def __mul__(self, factor: object) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            return NotImplemented
        return Money(_exactly("*", _EXACT.multiply, self.amount, Decimal(factor)), self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(_exactly("-", _EXACT.minus, self.amount), self.currency)

    def __abs__(self) -> Money:
        return Money(_exactly("abs", _EXACT.abs, self.amount), self.currency)

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

    @property
    def is_whole(self) -> bool:
        """True when the amount is a whole number of minor units (19.99 EUR, not 19.995 EUR).

        Examples:
            >>> Money("19.990", "EUR").is_whole, Money("19.995", "EUR").is_whole
            (True, False)
        """
        exponent = Decimal(1).scaleb(-self.minor_units)
        return self.amount == self.amount.quantize(exponent, context=_WIDE)

    def rounded(self, rounding: str = ROUND_HALF_EVEN) -> Money:
        """Round to the currency's minor unit (banker's rounding by default).

        ``rounding`` is one of the `decimal` module's rounding modes (``ROUND_HALF_UP``, ...).
        """
        if not isinstance(rounding, str) or rounding not in _ROUNDINGS:
            raise ValidationError(
                "rounding", rounding, "must be a decimal rounding mode such as ROUND_HALF_EVEN"
            )
        exponent = Decimal(1).scaleb(-self.minor_units)
        return Money(self.amount.quantize(exponent, rounding, _WIDE), self.currency)

    def to_minor(self, rounding: str = ROUND_HALF_EVEN) -> int:
        """The amount as an integer count of minor units, after
        [`rounded()`][crmcore.kernel.money.Money.rounded]."""
        return int(self.rounded(rounding).amount.scaleb(self.minor_units, _WIDE))

    def allocate(self, weights: Sequence[int | Decimal]) -> tuple[Money, ...]:
        """Split into parts proportional to ``weights`` that sum exactly to the rounded whole.

        Each part is rounded down to the minor unit, then the leftover minor
        units go one each to the parts with the largest remainders (earlier
        parts win ties), the largest-remainder (Hamilton) method. The arithmetic
        is on integers, so it is exact for any weights of at most 30 decimal places.
        """
        units = _weight_units(weights)
        total_weight = sum(units)
        total = self.to_minor()
        sign = -1 if total < 0 else 1
        shares = [divmod(abs(total) * u, total_weight) for u in units]
        floors = [share for share, _ in shares]
        leftover = abs(total) - sum(floors)
        order = sorted(range(len(units)), key=lambda i: (-shares[i][1], i))
        for i in order[:leftover]:
            floors[i] += 1
        return tuple(Money.of_minor(sign * f, self.currency) for f in floors)

    @staticmethod
    def sum(amounts: Iterable[Money], currency: str) -> Money:
        """Add up ``amounts`` (all in ``currency``); zero when empty."""
        total = Money.zero(currency)
        if isinstance(amounts, str | bytes) or not isinstance(amounts, Iterable):
            raise ValidationError("amounts", amounts, "must be an iterable of Money")
        for i, amount in enumerate(amounts):
            if not isinstance(amount, Money):
                raise ValidationError(f"amounts[{i}]", amount, "must be Money")
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
