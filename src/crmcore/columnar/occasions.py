"""Purchase occasions and returns: the one rule by which every analysis reads a log.

A [`TransactionLog`][crmcore.columnar.TransactionLog] may hold one row per purchase or
one row per order *line*, and returns as rows with a negative amount or
quantity. Every analysis (RFM, cohorts, KPIs, the lifecycle, BTYD/CLV
summaries, churn) reads it through
[`purchase_occasions()`][crmcore.columnar.occasions.purchase_occasions]:

* **order**: the rows sharing an ``order_id``; a row without one is an order by itself.
  Its time is the time of its first row, its value the sum of its rows (exact to 1/10,000).
* **purchase occasion**: an order whose value is not negative, unless every row of it
  returns goods (a negative amount or quantity).
* **return**: any other order: one that only returns goods, or whose value is negative.
* **net spend** = purchase occasions plus returns (returns are negative);
  **gross spend** = purchase occasions only.
* **guest rows** (no customer id) are left out when the log is read and counted in its
  [`skipped`][crmcore.columnar.table.Frame.skipped].

Returns never make a customer active, never count as a purchase, and are
never silently dropped: a report says how many there were and what they were
worth ([`DataUsed`][crmcore.columnar.occasions.DataUsed]), including returns of
customers with no purchase in the data (they bought before it starts; legal,
kept, and counted).

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.columnar import TransactionLog
    >>> t = datetime(2024, 5, 1, tzinfo=UTC)
    >>> log = TransactionLog.from_records([
    ...     {"customer_id": "a", "at": t, "order_id": "1", "quantity": 2, "unit_price": 5.0},
    ...     {"customer_id": "a", "at": t, "order_id": "1", "quantity": 1, "unit_price": 3.0},
    ...     {"customer_id": "a", "at": t, "order_id": "C2", "quantity": -1, "unit_price": 3.0},
    ... ])
    >>> o = purchase_occasions(log)
    >>> o.value.tolist(), o.return_value.tolist()
    ([13.0], [-3.0])
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import attrs
import numpy as np

from crmcore.columnar._layout import MAX_US, MIN_US
from crmcore.columnar._lines import UNITS, units_of
from crmcore.columnar.frame import TransactionLog
from crmcore.columnar.reading import SkippedRows
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array, Int64Array, read_only
from crmcore.kernel.clock import from_micros
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.reports import fmt_datetime, json_number
from crmcore.kernel.validators import instance_of, integer

__all__ = ["UNITS", "DataUsed", "Occasions", "data_used", "purchase_occasions"]

_CACHE_KEY: Final = "purchase_occasions"
_I64_MAX: Final = np.iinfo(np.int64).max


@attrs.frozen(eq=False, kw_only=True)
class Occasions:
    """The purchase occasions and returns of a log, as aligned read-only arrays.

    ``codes`` index ``vocabulary`` (the log's customer ids), ``t`` is
    microseconds since the epoch, ``units`` the value in 1/10,000 of the
    currency (exact integers; `value` gives floats). The ``return_*``
    arrays hold the returns the same way (their units are negative or zero).
    Neither is sorted by time.
    """

    codes: Int64Array
    t: Int64Array
    units: Int64Array
    return_codes: Int64Array
    return_t: Int64Array
    return_units: Int64Array
    vocabulary: AnyArray
    rows: int

    @property
    def value(self) -> Float64Array:
        """The value of each purchase occasion."""
        out: Float64Array = self.units / UNITS
        return out

    @property
    def return_value(self) -> Float64Array:
        """The value of each return (zero or negative)."""
        out: Float64Array = self.return_units / UNITS
        return out

    def up_to(self, as_us: int) -> Occasions:
        """The occasions and returns at or before ``as_us`` (microseconds since the epoch)."""
        as_us = integer(as_us, "as_us", low=MIN_US, high=MAX_US)
        keep = self.t <= as_us
        back = self.return_t <= as_us
        if keep.all() and back.all():
            return self
        return Occasions(
            codes=read_only(self.codes[keep]),
            t=read_only(self.t[keep]),
            units=read_only(self.units[keep]),
            return_codes=read_only(self.return_codes[back]),
            return_t=read_only(self.return_t[back]),
            return_units=read_only(self.return_units[back]),
            vocabulary=self.vocabulary,
            rows=self.rows,
        )


def _order_keys(log: TransactionLog) -> tuple[Int64Array, int]:
    """An order number per row (rows without an order id numbered after the ids) and the count."""
    codes = log.order_codes
    vocabulary = log["order_id"].vocabulary
    known = 0 if vocabulary is None else len(vocabulary)
    loose = codes < 0
    if not loose.any():
        return codes, known
    keys = codes.copy()
    keys[loose] = known + np.arange(int(loose.sum()), dtype=np.int64)
    return keys, known + int(loose.sum())


def purchase_occasions(log: TransactionLog) -> Occasions:
    """The purchase occasions and returns of ``log`` (the rule of the module docs; cached).

    Vectorised: one ``np.bincount`` per order statistic, ``np.minimum.at``
    for order times; no loop per order or customer.
    """
    if not isinstance(log, TransactionLog):
        raise ValidationError("log", type(log).__name__, "must be a TransactionLog")
    cached = log._cache.get(_CACHE_KEY)
    if isinstance(cached, Occasions):
        return cached
    amount = log["amount"].values
    if len(amount) and not np.isfinite(amount).all():
        i = int(np.argmax(~np.isfinite(amount)))
        raise ValidationError(f"row {i}: amount", float(amount[i]), "must be a finite number")
    units = units_of(amount)
    t: Int64Array = log.at.view(np.int64)
    people = log.customer_codes
    quantity = log["quantity"]
    returning = (units < 0) | ((quantity.values < 0) & ~quantity.missing)
    if not len(units) or int(log.order_codes.max()) < 0:
        result = _one_row_orders(log, units, t, people, returning)
        log._cache[_CACHE_KEY] = result
        return result
    keys, count = _order_keys(log)
    lines = np.bincount(keys, minlength=count)
    kept_lines = np.bincount(keys, weights=~returning, minlength=count)
    totals = np.bincount(keys, weights=units.astype(np.float64), minlength=count)
    if len(totals) and np.abs(totals).max() >= 2.0**62:
        raise ValidationError(
            "amount", float(np.abs(totals).max() / UNITS), "an order is beyond 2**62 / 10,000"
        )
    first = np.full(count, _I64_MAX, dtype=np.int64)
    np.minimum.at(first, keys, t)
    owner = np.zeros(count, dtype=np.int64)
    owner[keys] = people
    present = lines > 0
    purchase = present & (totals >= 0) & (kept_lines > 0)
    back = present & ~purchase
    result = Occasions(
        codes=read_only(owner[purchase]),
        t=read_only(first[purchase]),
        units=read_only(totals[purchase].astype(np.int64)),
        return_codes=read_only(owner[back]),
        return_t=read_only(first[back]),
        return_units=read_only(totals[back].astype(np.int64)),
        vocabulary=log.customer_ids,
        rows=len(log),
    )
    log._cache[_CACHE_KEY] = result
    return result


def _one_row_orders(
    log: TransactionLog, units: Int64Array, t: Int64Array, people: Int64Array, returning: BoolArray
) -> Occasions:
    """The occasions of a log without order ids: every row is an order by itself, so the
    rule reduces to the row's own sign (no group-by, no copy when nothing is returned)."""
    if len(units) and int(np.abs(units).max()) >= 2**62:
        raise ValidationError(
            "amount", float(np.abs(units).max() / UNITS), "an order is beyond 2**62 / 10,000"
        )
    if not returning.any():
        none = read_only(np.empty(0, dtype=np.int64))
        return Occasions(
            codes=read_only(people), t=read_only(t), units=read_only(units),
            return_codes=none, return_t=none, return_units=none,
            vocabulary=log.customer_ids, rows=len(log),
        )  # fmt: skip
    kept = ~returning
    return Occasions(
        codes=read_only(people[kept]), t=read_only(t[kept]), units=read_only(units[kept]),
        return_codes=read_only(people[returning]), return_t=read_only(t[returning]),
        return_units=read_only(units[returning]), vocabulary=log.customer_ids, rows=len(log),
    )  # fmt: skip


@attrs.frozen(kw_only=True)
class DataUsed:
    """What an analysis read from its log, and what it left out and why (part of every report).

    Counts are as of ``as_of``: ``purchase_occasions`` and ``purchase_value``
    are the orders that counted as purchases, ``returns`` / ``return_value``
    the returns (value zero or negative), of which
    ``returns_without_purchase`` / ``return_value_without_purchase`` belong to
    customers with no purchase occasion in the data (bought before it starts).
    ``rows_after_as_of`` rows are later than ``as_of``; ``skipped`` lists what
    the loader left out (guest checkouts).
    """

    as_of: datetime
    rows: int
    rows_after_as_of: int
    purchase_occasions: int
    purchase_value: float
    returns: int
    return_value: float
    returns_without_purchase: int
    return_value_without_purchase: float
    currency: str | None
    skipped: tuple[SkippedRows, ...] = ()

    @property
    def net_value(self) -> float:
        """Purchases plus returns (returns are negative)."""
        return self.purchase_value + self.return_value

    def notes(self) -> list[str]:
        """One sentence per fact a reader should know about the input."""
        money = f" {self.currency}" if self.currency else ""
        out = [
            f"{self.purchase_occasions:,} purchase occasions worth {self.purchase_value:,.2f}"
            f"{money} from {self.rows - self.rows_after_as_of:,} rows up to "
            f"{fmt_datetime(self.as_of)}",
        ]
        if self.returns:
            out.append(
                f"{self.returns:,} returns worth {self.return_value:,.2f}{money} "
                f"(net {self.net_value:,.2f}{money})"
            )
        if self.returns_without_purchase:
            out.append(
                f"{self.returns_without_purchase:,} of the returns "
                f"({self.return_value_without_purchase:,.2f}{money}) are by customers with no "
                "purchase in the data"
            )
        if self.rows_after_as_of:
            out.append(f"{self.rows_after_as_of:,} rows after as_of left out")
        out += [f"{s} left out" for s in self.skipped]
        return out

    def to_dict(self) -> dict[str, object]:
        """The facts as JSON data."""
        return {
            "as_of": self.as_of.isoformat(),
            "rows": self.rows,
            "rows_after_as_of": self.rows_after_as_of,
            "purchase_occasions": self.purchase_occasions,
            "purchase_value": json_number(self.purchase_value),
            "returns": self.returns,
            "return_value": json_number(self.return_value),
            "returns_without_purchase": self.returns_without_purchase,
            "return_value_without_purchase": json_number(self.return_value_without_purchase),
            "currency": self.currency,
            "skipped": [s.to_dict() for s in self.skipped],
        }


def _currency(log: TransactionLog) -> str | None:
    column = log["currency"]
    used = np.unique(column.codes[column.codes >= 0]) if len(column) else column.codes
    return column.categories[int(used[0])] if len(used) == 1 else None


def data_used(log: TransactionLog, occasions: Occasions, as_us: int) -> DataUsed:
    """The [`DataUsed`][crmcore.columnar.occasions.DataUsed] of an analysis of ``log`` as of
    ``as_us``, from its occasions up to then."""
    instance_of(log, TransactionLog, "log")
    instance_of(occasions, Occasions, "occasions")
    as_us = integer(as_us, "as_us", low=MIN_US, high=MAX_US)
    buyers: BoolArray = np.zeros(len(occasions.vocabulary), dtype=bool)
    buyers[occasions.codes] = True
    orphan = ~buyers[occasions.return_codes]
    later = int(np.count_nonzero(log.at.view(np.int64) > as_us))
    return DataUsed(
        as_of=from_micros(as_us),
        rows=len(log),
        rows_after_as_of=later,
        purchase_occasions=len(occasions.units),
        purchase_value=int(occasions.units.sum()) / UNITS,
        returns=len(occasions.return_units),
        return_value=int(occasions.return_units.sum()) / UNITS,
        returns_without_purchase=int(np.count_nonzero(orphan)),
        return_value_without_purchase=int(occasions.return_units[orphan].sum()) / UNITS,
        currency=_currency(log),
        skipped=log.skipped,
    )
