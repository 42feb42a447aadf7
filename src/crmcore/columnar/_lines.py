"""Order lines as a log reads them: exact amounts, cancellations, one customer per order.

* **amount = quantity x unit price**, computed exactly: the unit price is
  taken in units of 1/10,000 of the currency (`UNITS`, a multiple of every
  ISO 4217 minor unit, and the scale the analytics sum in), multiplied by the
  quantity as an integer, and only then turned into the ``float`` the
  ``amount`` column holds (the nearest float to the exact decimal, so
  ``3 x 0.10`` is ``0.3``). A row that gives an amount *and* a quantity and
  unit price must agree with their product to the unit.
* **cancellations**: the rows of orders whose id matches a pattern are
  returns (their amount and quantity become negative).
* **one customer per order**: the lines of an order belong to one customer.

Every problem is a [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the
row and column, raised before the frame exists (nothing is half-loaded).
"""

from __future__ import annotations

import math
import re
from typing import Final

import numpy as np

from crmcore.columnar._validation import row_error
from crmcore.columnar.columns import Column
from crmcore.kernel.arrays import BoolArray, Float64Array, Int64Array

__all__ = [
    "UNITS",
    "cancel_orders",
    "check_one_customer_per_order",
    "line_amounts",
    "total_of",
    "units_of",
]

UNITS: Final = 10_000
"""Amounts are exact in units of 1/10,000 of the currency (covers every ISO 4217 minor unit)."""
_MAX_UNITS: Final = 2**62


def units_of(amount: Float64Array) -> Int64Array:
    """Amounts in exact units of 1/10,000 (rounded half to even, as numpy rounds).

    An amount too large for that (2**62 units and more, about 4.6e14) comes out as
    ±2**62, which no sum of the lines' quantities and prices can equal.
    """
    scaled = np.clip(np.rint(amount * UNITS), -_MAX_UNITS, _MAX_UNITS)
    units: Int64Array = scaled.astype(np.int64)
    return units


def total_of(amount: Float64Array) -> float:
    """The sum of ``amount``: exact in units of 1/10,000, as a float beyond their range."""
    if amount.size and float(np.abs(amount).max()) * UNITS >= _MAX_UNITS / max(amount.size, 1):
        return math.fsum(amount.tolist())
    return int(units_of(amount).sum()) / UNITS


def _first(mask: BoolArray) -> int:
    return int(np.argmax(mask))


def line_amounts(amount: Column, quantity: Column, unit_price: Column) -> Column:
    """The ``amount`` column, with missing amounts computed from quantity x unit price."""
    a = np.array(amount.values, dtype=np.float64)
    q_missing = quantity.missing
    p = unit_price.values
    p_missing = np.isnan(p)
    a_missing = np.isnan(a)
    lonely = ~p_missing & q_missing
    if lonely.any():
        i = _first(lonely)
        raise row_error(
            i, "quantity", None,
            "is missing while unit_price is given: give both (amount = quantity x unit_price), "
            "or give only an amount",
        )  # fmt: skip
    unpriced = a_missing & (q_missing | p_missing)
    if unpriced.any():
        i = _first(unpriced)
        raise row_error(
            i, "amount", None,
            "is required (missing or NaN): give an amount, or a quantity and a unit_price",
        )  # fmt: skip
    infinite = np.isinf(a)
    if infinite.any():
        i = _first(infinite)
        raise row_error(i, "amount", float(a[i]), "must be a finite number")
    lines = np.flatnonzero(~q_missing & ~p_missing)
    if not lines.size:
        return amount if not a_missing.any() else Column.from_numpy("float", a)
    scaled = p[lines] * UNITS
    price = np.rint(scaled)
    fine = np.abs(scaled - price) <= 1e-6 * np.maximum(1.0, np.abs(scaled))
    if not fine.all():
        i = int(lines[_first(~fine)])
        raise row_error(
            i, "unit_price", float(p[i]),
            "has more than 4 decimals, below any currency's minor unit: round it",
        )  # fmt: skip
    count = quantity.values[lines].astype(np.int64)
    too_big = np.abs(price) * np.abs(count.astype(np.float64)) >= _MAX_UNITS
    if too_big.any():
        i = int(lines[_first(too_big)])
        raise row_error(i, "quantity", int(quantity.values[i]), "x unit_price is too large")
    total = price.astype(np.int64) * count
    given = ~a_missing[lines]
    conflict = np.zeros(len(lines), dtype=bool)
    conflict[given] = units_of(a[lines[given]]) != total[given]
    if conflict.any():
        k = _first(conflict)
        i = int(lines[k])
        raise row_error(
            i, "amount", float(a[i]),
            f"differs from quantity x unit_price = {int(count[k])} x {float(p[i]):g} = "
            f"{total[k] / UNITS:g}: drop one of them, or fix the row",
        )  # fmt: skip
    fill = lines[~given]
    a[fill] = total[~given] / UNITS
    return Column.from_numpy("float", a)


def cancel_orders(
    order: Column, amount: Column, quantity: Column, pattern: re.Pattern[str]
) -> tuple[Column, Column]:
    """Amount and quantity with the lines of orders whose id matches ``pattern`` made negative."""
    vocabulary = order.vocabulary
    if vocabulary is None or not len(vocabulary):
        return amount, quantity
    hit = np.array([pattern.search(w) is not None for w in vocabulary.tolist()] + [False])
    rows = hit[order.codes]
    if not rows.any():
        return amount, quantity
    a = np.array(amount.values, dtype=np.float64)
    a[rows] = -np.abs(a[rows])
    q = np.array(quantity.values, dtype=np.int64)
    q[rows] = -np.abs(q[rows])
    new_quantity = Column.from_numpy("int", q, missing=quantity.missing)
    return Column.from_numpy("float", a), new_quantity


def check_one_customer_per_order(order: Column, customer: Column, guests: BoolArray) -> None:
    """Refuse an order id whose lines belong to two customers (naming the row; guests aside)."""
    vocabulary = order.vocabulary
    if vocabulary is None or not len(vocabulary):
        return
    codes: Int64Array = order.codes
    people: Int64Array = customer.codes
    rows = np.flatnonzero((codes >= 0) & ~guests)
    if not rows.size or (np.diff(codes[rows]) > 0).all():
        return  # each order id on one row (codes increase): every order has one customer
    first = np.full(len(vocabulary), len(codes), dtype=np.int64)
    np.minimum.at(first, codes[rows], rows)
    owner = people[first[codes[rows]]]
    clash = owner != people[rows]
    if clash.any():
        k = _first(clash)
        i = int(rows[k])
        ids = customer.vocabulary
        assert ids is not None
        earlier = int(first[codes[i]])
        raise row_error(
            i, "order_id", str(vocabulary[codes[i]]),
            f"belongs to customer {str(ids[people[earlier]])!r} in row {earlier} and to "
            f"{str(ids[people[i]])!r} here: the lines of an order have one customer",
        )  # fmt: skip
