"""Exact sums of amounts in minor units, and probabilities in millionths.

The pipeline reports and the forecast promise exact money: a weighted pipeline is
``Σ amount x probability`` to the last digit, and the forecast's mean is exactly ``Σ p x amount``.
Amounts are therefore held as ``int64`` counts of minor units (cents) and probabilities as whole
millionths (``PROBABILITY_SCALE``; a stage's default probability has at most six decimals, and a
model's float probability is rounded to the nearest millionth once, at the edge). Sums of such
integers are exact as long as no partial sum leaves ``int64``: the helpers here take the fast
one-pass route (``np.add.at`` on ``int64``) when a bound proves it safe and split the values into
limbs otherwise, returning Python integers, which never overflow.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

import numpy as np

from crmcore.kernel.arrays import AnyArray, Float64Array, Int64Array
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.money import Money, minor_units

__all__ = [
    "PROBABILITY_DIGITS",
    "PROBABILITY_SCALE",
    "divide_half_even",
    "exact_money",
    "group_sums",
    "probability_units",
    "units_from_floats",
    "weighted_group_sums",
]

PROBABILITY_DIGITS: Final = 6
"""Decimal places a probability keeps (its unit is one millionth)."""
PROBABILITY_SCALE: Final = 10**PROBABILITY_DIGITS
"""Probabilities are whole numbers of millionths: ``0.25`` is ``250_000``."""
_SAFE: Final = 2**62  # below int64's limit with room for one more addition
_LIMB_BITS: Final = 21
_LIMB_MASK: Final = (1 << _LIMB_BITS) - 1
_CHUNK: Final = 1 << 20  # rows per pass of the limb route: 2**41 x 2**20 < 2**62


def probability_units(value: Decimal) -> int:
    """A probability in ``[0, 1]`` with at most six decimals, as whole millionths."""
    units = value.scaleb(PROBABILITY_DIGITS)
    if units != units.to_integral_value():
        raise ValidationError("probability", value, "must have at most 6 decimal places")
    return int(units)


def units_from_floats(values: object, n: int, field: str = "probabilities") -> Int64Array:
    """An array of ``n`` probabilities in ``[0, 1]`` (floats) as whole millionths, rounded once.

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] naming ``field`` (and the
    first bad position) for a wrong length or a value outside ``[0, 1]`` (NaN included).
    """
    try:
        array: Float64Array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(field, values, "must be an array of numbers in [0, 1]") from None
    if array.ndim != 1 or len(array) != n:
        raise ValidationError(field, array.shape, f"must be one probability per row ({n})")
    bad = ~((array >= 0.0) & (array <= 1.0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValidationError(f"{field}[{i}]", float(array[i]), "must lie in [0, 1]")
    units: Int64Array = np.rint(array * PROBABILITY_SCALE).astype(np.int64)
    return units


def _limbs(values: Int64Array) -> list[tuple[int, Int64Array]]:
    """``values`` (non-negative) as ``(shift, limb)`` pairs with limbs below ``2**21``."""
    out: list[tuple[int, Int64Array]] = []
    shift, rest = 0, values
    while True:
        out.append((shift, rest & _LIMB_MASK))
        rest = rest >> _LIMB_BITS
        shift += _LIMB_BITS
        if not rest.any():
            return out


def _sums(keys: AnyArray, values: Int64Array, size: int, bound: int) -> list[int]:
    """Per-key sums of non-negative ``values``, each below ``bound``, exactly."""
    n = len(values)
    if n == 0:
        return [0] * size
    # no partial sum of non-negative values exceeds their total: a float estimate with room to
    # spare (relative error ~n x 2**-53) proves int64 cannot overflow
    if bound * n < _SAFE or float(np.sum(values, dtype=np.float64)) < _SAFE / 2:
        out = np.zeros(size, dtype=np.int64)
        np.add.at(out, keys, values)
        return [int(v) for v in out]
    totals = [0] * size
    for shift, limb in _limbs(values):
        for start in range(0, n, _CHUNK):
            part = np.zeros(size, dtype=np.int64)
            np.add.at(part, keys[start : start + _CHUNK], limb[start : start + _CHUNK])
            for k in np.flatnonzero(part).tolist():
                totals[k] += int(part[k]) << shift
    return totals


def group_sums(keys: AnyArray, values: Int64Array, size: int) -> list[int]:
    """Exact per-key sums of ``int64`` ``values`` (either sign) into ``0..size-1``.

    Examples:
        >>> group_sums(np.array([0, 1, 0]), np.array([2**62, 5, 2**62]), 2)
        [9223372036854775808, 5]
    """
    keys = np.asarray(keys, dtype=np.intp)
    values = np.asarray(values, dtype=np.int64)
    negative = values < 0
    if not negative.any():
        top = int(values.max()) + 1 if len(values) else 1
        return _sums(keys, values, size, top)
    plus = np.where(negative, 0, values)
    minus = np.where(negative, -(values + 1), 0)  # -(v+1) cannot overflow; add the 1s back
    ones = negative.astype(np.int64)
    up = _sums(keys, plus, size, int(plus.max()) + 1)
    down = _sums(keys, minus, size, int(minus.max()) + 1)
    count = _sums(keys, ones, size, 2)
    return [u - d - c for u, d, c in zip(up, down, count, strict=True)]


def weighted_group_sums(
    keys: AnyArray, amounts: Int64Array, units: Int64Array, size: int
) -> list[int]:
    """Exact per-key ``Σ amount x units`` (amounts ≥ 0 in minor units, units in millionths).

    The result is in minor units times ``PROBABILITY_SCALE``.

    Examples:
        >>> weighted_group_sums(np.array([0, 0, 1]), np.array([100, 300, 7]),
        ...                     np.array([500_000, 250_000, 1_000_000]), 2)
        [125000000, 7000000]
    """
    keys = np.asarray(keys, dtype=np.intp)
    amounts = np.asarray(amounts, dtype=np.int64)
    units = np.asarray(units, dtype=np.int64)
    if not len(amounts):
        return [0] * size
    top = int(amounts.max()) + 1
    if top * PROBABILITY_SCALE < _SAFE:
        return _sums(keys, amounts * units, size, top * PROBABILITY_SCALE)
    totals = [0] * size
    for shift, limb in _limbs(amounts):
        for k, total in enumerate(_sums(keys, limb * units, size, (1 << 41))):
            totals[k] += total << shift
    return totals


def exact_money(numerator: int, digits: int, currency: str) -> Money:
    """``numerator x 10**-digits`` in ``currency``, exact, shown with at least its minor units.

    Trailing zeros beyond the currency's minor unit are dropped, so a whole number of cents reads
    ``"12.50"`` and a weighted amount keeps only the digits it needs (``"12.505"``).

    Examples:
        >>> exact_money(1_250_500_000, 8, "EUR"), exact_money(1_250_000_000, 8, "EUR")
        (Money('12.505', 'EUR'), Money('12.50', 'EUR'))
    """
    minor = minor_units(currency)
    value = Decimal(numerator).scaleb(-digits)
    places = digits
    while places > minor and numerator % 10 ** (digits - places + 1) == 0:
        places -= 1
    return Money(value.quantize(Decimal(1).scaleb(-places)), currency)


def divide_half_even(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` (denominator > 0) rounded half-even, in exact integers.

    Examples:
        >>> divide_half_even(5, 2), divide_half_even(7, 2), divide_half_even(-5, 2)
        (2, 4, -2)
    """
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    return quotient + int(twice > denominator or (twice == denominator and quotient % 2 == 1))
