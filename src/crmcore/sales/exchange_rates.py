"""Exchange rates for reports over deals in several currencies.

Money in two currencies is never added silently: a pipeline report over opportunities in EUR and
USD raises [`CurrencyMismatchError`][crmcore.kernel.errors.CurrencyMismatchError] unless the caller
gives an [`ExchangeRates`][crmcore.sales.exchange_rates.ExchangeRates] table, which says what one
unit of each currency is worth in the report's currency. Each amount is then converted **once** and
rounded half-even to the report currency's minor unit; from there on every sum is exact.

Examples:
    >>> rates = ExchangeRates("EUR", {"USD": "0.92", "JPY": "0.0061"})
    >>> rates.convert(Money("100", "USD")), rates.convert(Money("1234", "JPY"))
    (Money('92.00', 'EUR'), Money('7.53', 'EUR'))
    >>> rates.convert(Money("5", "GBP"))
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.ValidationError: rates[GBP]: is missing: no rate converts GBP to EUR ...
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import attrs
import numpy as np

from crmcore.columnar.arguments import int_column
from crmcore.kernel.arrays import Int64Array
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.money import Money, currency_code, minor_units, to_decimal
from crmcore.sales._exact import divide_half_even

__all__ = ["ExchangeRates"]


def _target(value: object) -> str:
    return currency_code(value, "rates.currency")


def _rates(value: object) -> FrozenDict[str, Decimal]:
    if not isinstance(value, Mapping):
        raise ValidationError("rates", value, "must map currency codes to rates")
    out: dict[str, Decimal] = {}
    for code, rate in value.items():
        key = currency_code(code, "rates")
        number = to_decimal(str(rate) if isinstance(rate, float) else rate, f"rates[{key}]")
        if number <= 0:
            raise ValidationError(f"rates[{key}]", rate, "must be positive")
        out[key] = number
    return FrozenDict(out)


@attrs.frozen
class ExchangeRates:
    """What one unit of each currency is worth in ``currency`` (the report currency).

    ``rates`` maps ISO 4217 codes to positive decimals; ``currency`` itself is worth 1.
    """

    currency: str = attrs.field(converter=_target)
    rates: FrozenDict[str, Decimal] = attrs.field(factory=FrozenDict, converter=_rates)

    def rate(self, currency: str) -> Decimal:
        """The value of one unit of ``currency`` in the report currency."""
        code = currency_code(currency)
        if code == self.currency:
            return Decimal(1)
        found = self.rates.get(code)
        if found is None:
            raise ValidationError(
                f"rates[{code}]", code, f"is missing: no rate converts {code} to {self.currency}"
            )
        return found

    def convert(self, amount: Money) -> Money:
        """``amount`` in the report currency, rounded half-even to its minor unit."""
        if not isinstance(amount, Money):
            raise ValidationError("amount", amount, "must be a Money")
        if amount.currency == self.currency:
            return amount
        return Money(amount.amount * self.rate(amount.currency), self.currency).rounded()

    def convert_minor(self, units: Int64Array, currency: str) -> Int64Array:
        """Minor units of ``currency`` as minor units of the report currency (vectorised).

        Exact rational arithmetic: ``units x rate x 10**(target digits - source digits)`` as one
        fraction ``p / q`` of integers, rounded half-even, so it equals
        [`convert()`][crmcore.sales.exchange_rates.ExchangeRates.convert] amount by amount.
        """
        code = currency_code(currency)
        values = int_column(units, "units", what="amounts in minor units")
        if code == self.currency:
            return values
        scale = Decimal(10) ** (minor_units(self.currency) - minor_units(code))
        p, q = (self.rate(code) * scale).as_integer_ratio()
        if not len(values):
            return values
        top = int(np.abs(values).max())
        if top * p >= 2**62:  # beyond int64: exact Python integers, one by one
            exact = [divide_half_even(int(v) * p, q) for v in values.tolist()]
            return np.array(exact, dtype=np.int64)
        numerator = values * p
        quotient, remainder = np.divmod(numerator, q)
        twice = 2 * remainder
        up = (twice > q) | ((twice == q) & (quotient % 2 == 1))
        out: Int64Array = quotient + up
        return out
