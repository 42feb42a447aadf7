"""Frames: customers, transactions and events as immutable numpy columns.

The frame types, each a [`Frame`][crmcore.columnar.table.Frame] with a fixed
schema and its domain helpers:

* [`CustomerFrame`][crmcore.columnar.frame.CustomerFrame]:
  [`CUSTOMER_SCHEMA`][crmcore.columnar.schema.CUSTOMER_SCHEMA] plus custom attribute columns
  ``attr.<name>`` (kind inferred from values).
* [`TransactionLog`][crmcore.columnar.frame.TransactionLog]:
  [`TRANSACTION_SCHEMA`][crmcore.columnar.schema.TRANSACTION_SCHEMA].
* [`EventLog`][crmcore.columnar.frame.EventLog]:
  [`EVENT_SCHEMA`][crmcore.columnar.schema.EVENT_SCHEMA].

In the logs the ``customer_id`` column is dictionary-encoded: integer
`customer_codes` into a first-seen
`customer_ids` vocabulary, so grouping by customer is
an integer operation. Records, CSV and pandas still see the id string.

Every frame builds from records (dicts), CSV and pandas, and writes back to
all three; a round trip gives an equal frame. Input is validated at that
boundary and errors name the row and column (``"row 17: at"``).

Examples:
    >>> from datetime import datetime, UTC
    >>> t = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    >>> log = TransactionLog.from_records([
    ...     {"customer_id": "c-1", "at": t, "amount": 19.5},
    ...     {"customer_id": "c-2", "at": t, "amount": 5.0},
    ...     {"customer_id": "c-1", "at": t, "amount": 7.25},
    ... ])
    >>> log.customer_codes.tolist(), log.customer_ids.tolist()
    ([0, 1, 0], ['c-1', 'c-2'])
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Self

import numpy as np
import numpy.typing as npt

from crmcore.columnar._lines import (
    cancel_orders,
    check_one_customer_per_order,
    line_amounts,
    total_of,
)
from crmcore.columnar._validation import each_of, row_error, strings_of
from crmcore.columnar.columns import Column
from crmcore.columnar.id_index import IdIndex
from crmcore.columnar.reading import ReadOptions, SkippedRows
from crmcore.columnar.schema import (
    CUSTOMER_SCHEMA,
    EVENT_SCHEMA,
    TRANSACTION_SCHEMA,
    customer_record,
)
from crmcore.columnar.table import Frame
from crmcore.customers.customer import Customer
from crmcore.customers.records import Interaction, Purchase
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array, Int64Array, read_only
from crmcore.kernel.clock import ensure_date
from crmcore.kernel.errors import ValidationError

__all__ = ["CustomerFrame", "EventLog", "TransactionLog", "ages_on"]


def _wide(codes: AnyArray) -> Int64Array:
    """``codes`` as read-only ``int64`` (a copy when they are held narrower)."""
    return read_only(codes.astype(np.int64, copy=False))


# ---------------------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------------------


def _kept_index(frame: Frame, key: str, ids: AnyArray, field: str) -> IdIndex:
    """An [`IdIndex`][crmcore.columnar.id_index.IdIndex] of ``ids`` kept in ``frame``'s cache
    under ``key`` (built on first use; a repeated id is an error naming ``field``)."""
    cached = frame._cache.get(key)
    if not isinstance(cached, IdIndex):
        cached = IdIndex(ids, field)
        frame._cache[key] = cached
    return cached


def ages_on(born: AnyArray, day: date) -> Float64Array:
    """Whole years from each birth date (``datetime64[D]``) to ``day``; ``NaN`` where missing.

    Born 29 February: a year older on 1 March in common years. A birth date
    after ``day`` gives a negative age
    ([`CustomerFrame.age_at()`][crmcore.columnar.frame.CustomerFrame.age_at] refuses it).
    """
    if not isinstance(born, np.ndarray) or born.dtype != np.dtype("datetime64[D]"):
        raise ValidationError("born", type(born).__name__, "must be a datetime64[D] array")
    day = ensure_date(day, "day")
    missing = np.isnat(born)
    month_start = born.astype("datetime64[M]")
    year = born.astype("datetime64[Y]").astype(np.int64) + 1970
    month = month_start.astype(np.int64) % 12 + 1
    dom = (born - month_start).astype(np.int64) + 1
    before_birthday = (day.month * 100 + day.day) < (month * 100 + dom)
    ages: Float64Array = (day.year - year - before_birthday).astype(np.float64)
    ages[missing] = np.nan
    return ages


class CustomerFrame(Frame):
    """Customers as columns: [`CUSTOMER_SCHEMA`][crmcore.columnar.schema.CUSTOMER_SCHEMA] plus
    ``attr.*``.

    Custom attributes become ``attr.<name>`` columns whose kind is inferred
    from the values (str, bool, int, float/Decimal, datetime, date; ints
    mixed with floats make a float column). Customer ids are unique.
    """

    SCHEMA = CUSTOMER_SCHEMA
    EXTRA_PREFIX = "attr."
    ID_COLUMNS = frozenset({"id"})

    __slots__ = ()

    @classmethod
    def from_customers(cls, customers: Iterable[Customer]) -> Self:
        """The frame of ``customers``, one row each (via
        [`customer_record()`][crmcore.columnar.frame.customer_record])."""
        return cls.from_records(map(customer_record, each_of(customers, Customer, "customers")))

    def _validate(self) -> None:
        ids = self._columns["id"].values.tolist()
        if len(set(ids)) != len(ids):
            seen: set[str] = set()
            for i, value in enumerate(ids):
                if value in seen:
                    raise row_error(i, "id", value, "duplicate customer id")
                seen.add(value)

    def take(self, indices: npt.ArrayLike) -> Self:
        """The rows at ``indices``; a position may appear once (ids stay unique)."""
        idx = self._indices(indices)
        if idx.size and np.bincount(idx, minlength=self._length).max() > 1:
            raise ValidationError("indices", indices, "repeat a row (customer ids must be unique)")
        return super().take(idx)

    @property
    def ids(self) -> AnyArray:
        """The customer ids (``StringDType``), in row order."""
        return self._columns["id"].values

    @property
    def attribute_names(self) -> tuple[str, ...]:
        """Names of the custom attribute columns (``attr.`` prefix included)."""
        return tuple(name for name in self._columns if name not in self.SCHEMA)

    @property
    def id_index(self) -> IdIndex:
        """The customer ids as an [`IdIndex`][crmcore.columnar.id_index.IdIndex] (built on first
        use, then kept with the frame)."""
        return _kept_index(self, "id_index", self.ids, "id")

    def index_of(self, ids: Iterable[str]) -> Int64Array:
        """Row positions of ``ids``; a [`ValidationError`][crmcore.columnar.frame.ValidationError]
        names the first unknown id."""
        wanted = list(each_of(ids, str, "ids"))
        strings = strings_of(wanted, "ids")
        positions = self.id_index.rows(strings)
        if (positions < 0).any():
            i = int(np.argmax(positions < 0))
            raise ValidationError(f"ids[{i}]", wanted[i], "is not a customer in this frame")
        return positions

    def age_at(self, on: date) -> Float64Array:
        """Age in whole years on ``on`` for every customer (``NaN`` without a birth date).

        The same rule as [`age_at()`][crmcore.customers.profile.Demographics.age_at]
        (born 29 February: a year older on 1 March in common years), and like
        it a [`ValidationError`][crmcore.columnar.frame.ValidationError] when a birth date is after
        ``on``.
        """
        day = ensure_date(on, "on")
        born = self._columns["birth_date"].values
        missing = np.isnat(born)
        after = (born > np.datetime64(day, "D")) & ~missing
        if after.any():
            i = int(np.argmax(after))
            raise row_error(i, "birth_date", str(born[i]), f"is after {day.isoformat()}")
        return ages_on(born, day)


# ---------------------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------------------


class _Log(Frame):
    """Shared by the transaction and event logs: customer codes, guests and time ordering."""

    ENCODED = frozenset({"customer_id"})
    ID_COLUMNS = frozenset({"customer_id"})
    DERIVED = frozenset({"customer_id"})
    EXTRA_PREFIX = "attr."

    __slots__ = ()

    @classmethod
    def _assemble(
        cls, columns: dict[str, Column], length: int, options: ReadOptions
    ) -> tuple[dict[str, Column], int, tuple[SkippedRows, ...]]:
        columns = cls._complete_rows(columns, options)
        columns, length, skipped = super()._assemble(columns, length, options)
        guests = columns["customer_id"].missing
        cls._check_rows(columns, guests)
        if not guests.any():
            return columns, length, skipped
        if options.guests == "refuse":
            i = int(np.argmax(guests))
            raise row_error(
                i, "customer_id", None,
                "is missing (a guest checkout?): give every row a customer, or pass "
                "guests='exclude' to leave such rows out (they are counted in .skipped)",
            )  # fmt: skip
        keep = np.flatnonzero(~guests)
        note = SkippedRows(
            reason="without a customer id (guest checkouts)",
            rows=int(length - len(keep)),
            amount=cls._amount_of(columns, guests),
        )
        kept = {name: column._take(keep) for name, column in columns.items()}
        return kept, len(keep), (*skipped, note)

    @classmethod
    def _complete_rows(cls, columns: dict[str, Column], options: ReadOptions) -> dict[str, Column]:
        """Fill derived values before the rows are checked (a hook; the logs' rules)."""
        if options.cancellations is not None:
            raise ValidationError(
                "cancellations", options.cancellations.pattern, "applies to transaction logs only"
            )
        return columns

    @classmethod
    def _check_rows(cls, columns: dict[str, Column], guests: BoolArray) -> None:
        """Row rules across columns, on the file's row numbers (a hook)."""

    @classmethod
    def _amount_of(cls, columns: dict[str, Column], rows: BoolArray) -> float | None:
        """The total amount of ``rows`` (``None``: rows of this log carry no amount)."""
        del columns, rows
        return None

    @property
    def customer_codes(self) -> Int64Array:
        """Each row's customer as an ``int64`` code into `customer_ids`.

        The column holds its codes in the narrowest width that fits (``int32``
        for up to 2**31 customers); this widens them, so arithmetic on them
        cannot overflow.
        """
        return _wide(self._columns["customer_id"].codes)

    @property
    def customer_ids(self) -> AnyArray:
        """The distinct customer ids (``StringDType``), in order of first appearance."""
        vocabulary = self._columns["customer_id"].vocabulary
        assert vocabulary is not None
        return vocabulary

    @property
    def customer_index(self) -> IdIndex:
        """`customer_ids` as an [`IdIndex`][crmcore.columnar.id_index.IdIndex] (built on first
        use, then kept with the log): ``log.customer_index.rows(ids)`` are the customer codes of
        ``ids`` (-1 where a customer has no row)."""
        return _kept_index(self, "customer_index", self.customer_ids, "customer_id")

    @property
    def at(self) -> AnyArray:
        """The ``at`` column (``datetime64[us]``, UTC)."""
        return self._columns["at"].values

    def with_customer_index(self, customers: CustomerFrame) -> Int64Array:
        """For each row, the row of its customer in ``customers`` (-1 where absent)."""
        if not isinstance(customers, CustomerFrame):
            raise ValidationError("customers", type(customers).__name__, "must be a CustomerFrame")
        vocabulary_rows = customers.id_index.rows(self.customer_ids)
        return vocabulary_rows[self._columns["customer_id"].codes]

    def sort_by_customer_time(self) -> Self:
        """A copy sorted by customer code, then time (stable: ties keep their order)."""
        order = np.lexsort((self.at.view(np.int64), self.customer_codes))
        return self.take(order)


class TransactionLog(_Log):
    """Purchases, or order lines, as columns
    ([`TRANSACTION_SCHEMA`][crmcore.columnar.schema.TRANSACTION_SCHEMA]).

    Rows sharing an ``order_id`` are the lines of one order. ``amount`` may be
    left out where ``quantity`` and ``unit_price`` are given: it is their
    product, computed exactly (see `crmcore.columnar._lines`). A negative amount
    or quantity is a return; so are the lines of orders whose id matches the
    ``cancellations`` pattern of a loader. How the analytics read the rows
    (purchase occasions, returns, guests) is
    [`crmcore.columnar.occasions`][crmcore.columnar.occasions].

    Examples:
        >>> from datetime import datetime, UTC
        >>> t = datetime(2024, 5, 1, tzinfo=UTC)
        >>> log = TransactionLog.from_records([
        ...     {"customer_id": "a", "at": t, "order_id": "o1", "quantity": 3, "unit_price": 0.1},
        ...     {"customer_id": "a", "at": t, "order_id": "o1", "quantity": 1, "unit_price": 2.0},
        ...     {"customer_id": None, "at": t, "amount": 9.0},
        ... ])
        >>> log["amount"].to_list(), [str(s) for s in log.skipped]
        ([0.3, 2.0], ['1 rows without a customer id (guest checkouts) (amount 9.00)'])
    """

    SCHEMA = TRANSACTION_SCHEMA
    ENCODED = frozenset({"customer_id", "order_id"})
    ID_COLUMNS = frozenset({"customer_id", "order_id"})
    DERIVED = frozenset({"customer_id", "amount"})
    ALTERNATIVES = (("amount",), ("quantity", "unit_price"))

    __slots__ = ()

    @classmethod
    def _complete_rows(cls, columns: dict[str, Column], options: ReadOptions) -> dict[str, Column]:
        amount = line_amounts(columns["amount"], columns["quantity"], columns["unit_price"])
        quantity = columns["quantity"]
        if options.cancellations is not None:
            amount, quantity = cancel_orders(
                columns["order_id"], amount, quantity, options.cancellations
            )
        return {**columns, "amount": amount, "quantity": quantity}

    @classmethod
    def _check_rows(cls, columns: dict[str, Column], guests: BoolArray) -> None:
        check_one_customer_per_order(columns["order_id"], columns["customer_id"], guests)

    @classmethod
    def _amount_of(cls, columns: dict[str, Column], rows: BoolArray) -> float | None:
        return total_of(columns["amount"].values[rows])

    @classmethod
    def from_purchases(cls, purchases: Iterable[Purchase]) -> Self:
        """The log of ``purchases``, one row each (amounts as float)."""
        return cls.from_records(
            {
                "customer_id": p.customer_id,
                "at": p.at,
                "amount": float(p.amount.amount),
                "currency": p.amount.currency,
                "order_id": p.order_id,
                "items": p.items,
                "channel": p.channel,
                "category": p.category,
            }
            for p in each_of(purchases, Purchase, "purchases")
        )

    @property
    def order_codes(self) -> Int64Array:
        """Each row's order as an ``int64`` code into the ``order_id`` vocabulary (-1: none)."""
        return _wide(self._columns["order_id"].codes)


class EventLog(_Log):
    """Customer events as columns ([`EVENT_SCHEMA`][crmcore.columnar.schema.EVENT_SCHEMA])."""

    SCHEMA = EVENT_SCHEMA

    __slots__ = ()

    @classmethod
    def from_interactions(cls, interactions: Iterable[Interaction]) -> Self:
        """The log of ``interactions``: kind, channel and funnel stage label (if any)."""
        return cls.from_records(
            {
                "customer_id": i.customer_id,
                "at": i.at,
                "kind": i.kind,
                "channel": i.channel,
                "stage": None if i.stage is None else i.stage.label,
            }
            for i in each_of(interactions, Interaction, "interactions")
        )
