"""Baskets: the sets of items bought together, as integer codes in one flat array.

[`Baskets`][crmcore.marketing.baskets.Baskets] is the input of cross-sell analysis. Items are
integer codes into a sorted vocabulary, and the baskets are CSR rows: basket ``b`` holds
``codes[offsets[b]:offsets[b + 1]]``, sorted and without repeats (a basket is a set; buying two of
an item does not make it more associated). Each basket may name its customer, as a code into
``customer_ids``, so the same object feeds both
[`association_rules()`][crmcore.marketing.association_rules.association_rules] and
[`next_best_offers()`][crmcore.marketing.next_best_offer.next_best_offers].

Build from order lines ([`from_lines()`][crmcore.marketing.baskets.Baskets.from_lines]: one
``(basket, item)`` pair per row, e.g. an order-lines export), from Python lists
([`from_lists()`][crmcore.marketing.baskets.Baskets.from_lists]), from a
[`TransactionLog`][crmcore.columnar.TransactionLog] (orders as baskets, the ``category`` column as
the item, [`from_transactions()`][crmcore.marketing.baskets.Baskets.from_transactions]) or, the
fast path, from codes already made ([`from_codes()`][crmcore.marketing.baskets.Baskets.from_codes]).

Examples:
    >>> baskets = Baskets.from_lists([["milk", "bread"], ["bread", "butter", "bread"]],
    ...                              customers=["c-1", "c-2"])
    >>> baskets.items, len(baskets), baskets.basket(1)
    (('bread', 'butter', 'milk'), 2, ('bread', 'butter'))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from crmcore.columnar import STRING_DTYPE, TransactionLog
from crmcore.columnar.arguments import int_column, text_column
from crmcore.kernel.arrays import AnyArray, Int32Array, Int64Array, read_only
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import choice, instance_of, items_of

__all__ = ["Baskets"]


def _strings(values: object, field: str) -> AnyArray:
    """``values`` (any collection of texts, also a generator) as a string column."""
    listed = values if hasattr(values, "__array__") else list(items_of(values, field, "texts"))
    return text_column(listed, field)


class Baskets:
    """Baskets of item codes (CSR rows), with the item vocabulary and each basket's customer.

    ``customer_codes[b]`` is -1 when basket ``b`` has no known customer.
    """

    __slots__ = ("_codes", "_customer_codes", "_customer_ids", "_items", "_offsets")

    def __init__(
        self,
        offsets: npt.ArrayLike,
        codes: npt.ArrayLike,
        items: Sequence[str],
        *,
        customer_codes: npt.ArrayLike | None = None,
        customer_ids: Sequence[str] = (),
    ) -> None:
        """Wrap CSR arrays, checking them (prefer the ``from_*`` builders)."""
        off = int_column(offsets, "offsets")
        wide = int_column(codes, "codes")
        vocabulary = items_of(items, "items", "item names")
        if len(off) < 1 or off[0] != 0 or off[-1] != len(wide):
            raise ValidationError("offsets", offsets, "must start at 0 and end at len(codes)")
        if np.any(np.diff(off) < 0):
            raise ValidationError("offsets", offsets, "must not decrease")
        if any(not isinstance(i, str) for i in vocabulary) or list(vocabulary) != sorted(
            set(vocabulary)
        ):
            raise ValidationError("items", vocabulary, "must be distinct strings, sorted")
        if len(wide) and (wide.min() < 0 or wide.max() >= len(vocabulary)):
            raise ValidationError("codes", codes, f"must be item codes in 0..{len(vocabulary) - 1}")
        cod = wide.astype(np.int32)
        starts = np.zeros(len(cod), dtype=bool)
        starts[off[:-1][np.diff(off) > 0]] = True
        if len(cod) > 1 and np.any((np.diff(cod.astype(np.int64)) <= 0) & ~starts[1:]):
            raise ValidationError("codes", codes, "must be sorted and distinct within a basket")
        n = len(off) - 1
        who = (
            np.full(n, -1, dtype=np.int64)
            if customer_codes is None
            else int_column(customer_codes, "customer_codes")
        )
        ids = _strings(customer_ids, "customer_ids")
        if len(who) != n or (len(who) and (who.min() < -1 or who.max() >= len(ids))):
            raise ValidationError("customer_codes", customer_codes, "must be -1 or an id index")
        self._offsets = read_only(off, copy=True)
        self._codes = read_only(cod, copy=True)
        self._items = vocabulary
        self._customer_codes = read_only(who, copy=True)
        self._customer_ids = read_only(ids, copy=True)

    # -- builders ---------------------------------------------------------------------------------
    @classmethod
    def from_codes(
        cls,
        basket_of_row: npt.ArrayLike,
        item_of_row: npt.ArrayLike,
        items: Sequence[str],
        *,
        customer_of_basket: npt.ArrayLike | None = None,
        customer_ids: Sequence[str] = (),
    ) -> Baskets:
        """Baskets from integer pairs: row ``r`` puts item ``item_of_row[r]`` in basket
        ``basket_of_row[r]`` (basket numbers ``0..B-1``; repeats and any order are fine)."""
        b = int_column(basket_of_row, "basket_of_row")
        i = int_column(item_of_row, "item_of_row")
        items = items_of(items, "items", "item names")
        if b.shape != i.shape:
            raise ValidationError("item_of_row", item_of_row, "must match basket_of_row")
        if len(b) and b.min() < 0:
            raise ValidationError("basket_of_row", basket_of_row, "must be basket numbers >= 0")
        if len(i) and (i.min() < 0 or i.max() >= len(items)):
            raise ValidationError("item_of_row", item_of_row, "must be codes into items")
        who = (
            None
            if customer_of_basket is None
            else int_column(customer_of_basket, "customer_of_basket")
        )
        n = int(b.max(initial=-1)) + 1 if who is None else max(len(who), int(b.max(initial=-1)) + 1)
        if who is not None and len(who) != n:
            raise ValidationError("customer_of_basket", customer_of_basket, f"must have {n} rows")
        width = np.int64(max(len(items), 1))
        pairs = np.sort(b * width + i)  # sort + diff: numpy 2's hashing np.unique is slower here
        if len(pairs):
            pairs = pairs[np.concatenate([[True], pairs[1:] != pairs[:-1]])]
        basket, code = np.divmod(pairs, width)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(basket, minlength=n), out=offsets[1:])
        return cls(offsets, code, items, customer_codes=who, customer_ids=customer_ids)

    @classmethod
    def from_lines(
        cls,
        baskets: npt.ArrayLike,
        items: npt.ArrayLike,
        *,
        customers: npt.ArrayLike | None = None,
    ) -> Baskets:
        """Baskets from order lines: ``baskets[r]`` (an order id) holds ``items[r]``; optional
        ``customers[r]`` names the basket's customer (the same on every line of a basket)."""
        basket_keys = _strings(baskets, "baskets")
        item_keys = _strings(items, "items")
        if len(basket_keys) != len(item_keys):
            raise ValidationError("items", items, "must have one item per basket row")
        _, basket_of_row = np.unique(basket_keys, return_inverse=True)
        vocabulary, item_of_row = np.unique(item_keys, return_inverse=True)
        who = None
        ids: list[str] = []
        if customers is not None:
            customer_keys = _strings(customers, "customers")
            if len(customer_keys) != len(basket_keys):
                raise ValidationError("customers", customers, "must have one id per basket row")
            id_list, customer_of_row = np.unique(customer_keys, return_inverse=True)
            n = int(basket_of_row.max(initial=-1)) + 1
            who = np.full(n, -1, dtype=np.int64)
            who[basket_of_row] = customer_of_row
            if np.any(who[basket_of_row] != customer_of_row):
                raise ValidationError("customers", customers, "differ within one basket")
            ids = [str(v) for v in id_list]
        return cls.from_codes(
            basket_of_row,
            item_of_row,
            [str(v) for v in vocabulary],
            customer_of_basket=who,
            customer_ids=ids,
        )

    @classmethod
    def from_lists(
        cls, baskets: Iterable[Iterable[str]], *, customers: Sequence[str] | None = None
    ) -> Baskets:
        """Baskets from Python lists of item ids, optionally with each basket's customer."""
        rows: list[int] = []
        names: list[str] = []
        count = 0
        for b, basket in enumerate(items_of(baskets, "baskets", "baskets")):
            if isinstance(basket, str) or not isinstance(basket, Iterable):
                raise ValidationError(f"baskets[{b}]", basket, "must be a collection of items")
            for item in basket:
                rows.append(b)
                names.append(item)
            count = b + 1
        vocabulary, codes = np.unique(_strings(names, "items"), return_inverse=True)
        who = None
        ids: list[str] = []
        if customers is not None:
            keys = _strings(customers, "customers")
            if len(keys) != count:
                raise ValidationError("customers", customers, f"must name {count} customers")
            id_list, who = np.unique(keys, return_inverse=True)
            ids = [str(v) for v in id_list]
        baskets_of_rows = np.array(rows, dtype=np.int64)
        if who is None and count:
            who = np.full(count, -1, dtype=np.int64)
        return cls.from_codes(
            baskets_of_rows,
            codes,
            [str(v) for v in vocabulary],
            customer_of_basket=who,
            customer_ids=ids,
        )

    @classmethod
    def from_transactions(cls, log: TransactionLog, *, item: str = "category") -> Baskets:
        """Orders of a transaction log as baskets: rows with the same ``order_id`` (and customer)
        form one basket of their ``item`` column; rows without an order id or item are skipped."""
        if not isinstance(log, TransactionLog):
            raise ValidationError("log", log, "must be a TransactionLog")
        item = choice(item, "item", ("category", "channel"))
        orders = log["order_id"]
        column = log[item]
        keep = ~orders.missing & (np.asarray(column.values) >= 0)
        customers = log.customer_ids[log.customer_codes[keep]]
        order_keys = np.strings.add(np.strings.add(customers, "\x1f"), orders.values[keep])
        names = np.array(column.categories, dtype=STRING_DTYPE)[np.asarray(column.values)[keep]]
        return cls.from_lines(order_keys, names, customers=customers)

    # -- reading ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __repr__(self) -> str:
        return f"Baskets({len(self)} baskets, {len(self._items)} items, {len(self._codes)} lines)"

    @property
    def items(self) -> tuple[str, ...]:
        """The item vocabulary, sorted: item code ``k`` is ``items[k]``."""
        return self._items

    @property
    def offsets(self) -> Int64Array:
        """CSR offsets: basket ``b`` is ``codes[offsets[b]:offsets[b + 1]]``."""
        return self._offsets

    @property
    def codes(self) -> Int32Array:
        """Item codes of all baskets back to back (sorted, distinct within a basket)."""
        return self._codes

    @property
    def customer_codes(self) -> Int64Array:
        """Each basket's customer as an index into `customer_ids` (-1: unknown)."""
        return self._customer_codes

    @property
    def customer_ids(self) -> AnyArray:
        """The customer ids the baskets name, sorted."""
        return self._customer_ids

    @property
    def sizes(self) -> Int64Array:
        """Items per basket."""
        sizes: Int64Array = np.diff(self._offsets)
        return sizes

    def basket(self, b: int) -> tuple[str, ...]:
        """The items of basket ``b``, sorted."""
        if isinstance(b, bool) or not isinstance(b, int) or not 0 <= b < len(self):
            raise ValidationError("b", b, f"must be a basket number in 0..{len(self) - 1}")
        codes = self._codes[self._offsets[b] : self._offsets[b + 1]]
        return tuple(self._items[int(c)] for c in codes)

    def item_counts(self) -> Int64Array:
        """In how many baskets each item appears."""
        counts: Int64Array = np.bincount(self._codes, minlength=len(self._items))
        return counts

    def code_of(self, item: str) -> int:
        """The code of ``item``; ValidationError for an unknown item."""
        instance_of(item, str, "item", "an item name")
        at = int(np.searchsorted(np.array(self._items, dtype=object), item))
        if at >= len(self._items) or self._items[at] != item:
            raise ValidationError("item", item, "is not in the baskets' items")
        return at
