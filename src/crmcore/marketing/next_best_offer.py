"""Next best offer: for each mature customer, the items the rules say they are likeliest to add.

The seeds ask for cross-sell and up-sell to customers in the Mature lifecycle stage, from their
purchase history. [`next_best_offers()`][crmcore.marketing.next_best_offer.next_best_offers] reads
what each customer has bought (their [`Baskets`][crmcore.marketing.baskets.Baskets]) and the
[`AssociationRules`][crmcore.marketing.association_report.AssociationRules] mined from everyone's
baskets, and for each eligible customer:

* a rule ``X -> {y}`` (one-item consequent) **applies** when the customer has bought every item
  of ``X`` (in any of their baskets) and has **never bought** ``y``;
* each candidate item keeps its best applying rule, ranked by a measure (``lift`` by default,
  then confidence, then the rules' report order);
* the best ``per_customer`` items are the offers, each with its **reason**: the rule, with its
  antecedent, confidence and lift, so a salesperson or a message can say "people who bought A
  and B also bought C".

Eligibility: pass the customer ids (e.g. the Mature ones), or a lifecycle
[`BatchClassification`][crmcore.lifecycle.policy_batch.BatchClassification] and the ``stage``
(Mature by default). Vectorised: the rules are joined to the customers owning their first
antecedent item by expanding CSR ranges, further items are checked with ``searchsorted`` over
packed (customer, item) keys, and the ranking is two ``lexsort`` s; no loop per customer.
[`offers_for()`][crmcore.marketing.next_best_offer.offers_for] is the same rule for one customer's
items, in plain Python.

Examples:
    >>> from crmcore.marketing.association_rules import association_rules
    >>> from crmcore.marketing.baskets import Baskets
    >>> history = Baskets.from_lists(
    ...     [["tent", "stove"], ["tent", "stove", "lamp"], ["tent", "lamp"], ["tent"],
    ...      ["stove", "lamp"]], customers=["ann", "bob", "cy", "dee", "eve"])
    >>> rules = association_rules(history, min_support=0.4, min_confidence=0.5)
    >>> offers = next_best_offers(history, rules, customers=["dee", "cy"], per_customer=1)
    >>> [(o.customer_id, o.item, o.antecedent) for o in offers]
    [('cy', 'stove', ('lamp',)), ('dee', 'lamp', ('tent',))]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Final

import attrs
import numpy as np

from crmcore.columnar.arguments import codes_in, float_column, int_column, same_length, text_column
from crmcore.columnar.id_index import rows_equal_to
from crmcore.kernel.arrays import AnyArray, Int64Array, read_only
from crmcore.kernel.errors import MissingDependencyError, ValidationError
from crmcore.kernel.reports import html_table
from crmcore.kernel.validators import choice, instance_of, instances_of, integer, storable_text
from crmcore.lifecycle.policy_batch import BatchClassification
from crmcore.lifecycle.states import LifecycleState
from crmcore.marketing.association_report import MEASURES, AssociationRules
from crmcore.marketing.baskets import Baskets

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["NextBestOffers", "Offer", "next_best_offers", "offers_for"]

_CHUNK: Final = 1 << 21  # candidate rows per chunk
_BITMAP_CELLS: Final = 1 << 29  # customers x items up to this: membership by a 64 MB bitmap
_HTML_ROWS: Final = 15


@attrs.frozen
class Offer:
    """One offer: ``item`` for ``customer_id`` at ``rank`` (1 is best), and why.

    The reason is rule number ``rule`` of the rules passed in: ``antecedent -> {item}`` with its
    ``confidence`` and ``lift``; ``score`` is the ranking measure's value.
    """

    customer_id: str
    rank: int
    item: str
    score: float
    rule: int
    antecedent: tuple[str, ...]
    confidence: float
    lift: float

    @property
    def reason(self) -> str:
        """The reason in words."""
        return (
            f"bought {' and '.join(self.antecedent)}; {self.confidence:.0%} of those baskets "
            f"also hold {self.item} (lift {self.lift:.2f})"
        )

    def to_dict(self) -> dict[str, object]:
        """The offer as JSON data."""
        return {
            "customer_id": self.customer_id,
            "rank": self.rank,
            "item": self.item,
            "score": self.score,
            "rule": self.rule,
            "antecedent": list(self.antecedent),
            "confidence": self.confidence,
            "lift": self.lift,
            "reason": self.reason,
        }


class NextBestOffers:
    """Offers as columns, sorted by customer id then rank: ``customer_ids``, ``ranks`` (from 1),
    ``items`` (item codes), ``scores`` and ``rules`` (the reason: indices into ``source``).

    Raises:
        ValidationError: (constructing one) a column that is not an array of the expected kind
            and shape, columns of different lengths, or codes out of range, naming the column.
    """

    __slots__ = ("customer_ids", "items", "ranks", "rules", "scores", "source")

    def __init__(
        self,
        source: AssociationRules,
        customer_ids: AnyArray,
        ranks: Int64Array,
        items: Int64Array,
        scores: AnyArray,
        rules: Int64Array,
    ) -> None:
        self.source: Final = instance_of(source, AssociationRules, "source")
        ids = text_column(customer_ids, "customer_ids")
        columns = {
            "ranks": int_column(ranks, "ranks"),
            "items": codes_in(int_column(items, "items"), "items", 0, len(source.items) - 1),
            "scores": float_column(scores, "scores"),
            "rules": codes_in(int_column(rules, "rules"), "rules", 0, len(source) - 1),
        }
        same_length("customer_ids", len(ids), **columns)
        self.customer_ids: Final = read_only(ids)
        self.ranks: Final = read_only(columns["ranks"])
        self.items: Final = read_only(columns["items"])
        self.scores: Final = read_only(columns["scores"])
        self.rules: Final = read_only(columns["rules"])

    def __len__(self) -> int:
        return len(self.ranks)

    def __repr__(self) -> str:
        customers = len(np.unique(self.customer_ids)) if len(self) else 0
        return f"NextBestOffers({len(self)} offers to {customers} customers)"

    def offer(self, i: int) -> Offer:
        """Offer row ``i`` (negative counts from the end).

        Raises:
            ValidationError: ``i`` is not an integer in ``-len(self)..len(self) - 1``.
        """
        return self._offer(integer(i, "i", low=-len(self), high=len(self) - 1))

    def _offer(self, i: int) -> Offer:
        r = int(self.rules[i])
        rule = self.source.rule(r)
        return Offer(
            customer_id=str(self.customer_ids[i]),
            rank=int(self.ranks[i]),
            item=self.source.items[int(self.items[i])],
            score=float(self.scores[i]),
            rule=r,
            antecedent=rule.antecedent,
            confidence=rule.confidence,
            lift=rule.lift,
        )

    def __iter__(self) -> Iterator[Offer]:
        return (self._offer(i) for i in range(len(self)))

    def for_customer(self, customer_id: str) -> list[Offer]:
        """The offers of one customer, best first (empty when none)."""
        instance_of(customer_id, str, "customer_id", "a customer id")
        rows = rows_equal_to(self.customer_ids, storable_text(customer_id, "customer_id"))
        return [self._offer(int(i)) for i in rows]

    def to_dict(self) -> dict[str, object]:
        """Every offer as JSON data."""
        return {"offers": [offer.to_dict() for offer in self]}

    def to_pandas(self) -> pd.DataFrame:
        """One row per offer, with the reason's antecedent, confidence and lift (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "NextBestOffers.to_pandas") from None
        return pd.DataFrame([offer.to_dict() for offer in self])

    def _repr_html_(self) -> str:
        rows = [
            (o.customer_id, o.rank, o.item, ", ".join(o.antecedent), o.confidence, o.lift)
            for o in (self._offer(i) for i in range(min(len(self), _HTML_ROWS)))
        ]
        return html_table(
            "Next best offers",
            ["customer", "rank", "offer", "because they bought", "confidence", "lift"],
            rows,
            kinds=["auto", "int", "auto", "auto", "pct", "float"],
            caption=f"{len(self)} offers (first {len(rows)} shown)",
        )


def _eligible(
    customers: Iterable[str] | BatchClassification | None,
    stage: LifecycleState,
    baskets: Baskets,
) -> Int64Array:
    """The codes (into ``baskets.customer_ids``) of the eligible customers."""
    known = baskets.customer_ids
    if customers is None:
        return np.arange(len(known), dtype=np.int64)
    if isinstance(customers, BatchClassification):
        wanted = customers.customer_ids[customers.mask(stage)]
    elif isinstance(customers, str | bytes) or not isinstance(customers, Iterable):
        raise ValidationError("customers", customers, "must be ids, a BatchClassification or None")
    else:
        wanted = np.array([str(c) for c in customers], dtype=known.dtype)
    if not len(known) or not len(wanted):
        return np.zeros(0, dtype=np.int64)
    at = np.minimum(np.searchsorted(known, wanted), len(known) - 1)
    return np.unique(at[known[at] == wanted]).astype(np.int64)


def _owned(baskets: Baskets, eligible: Int64Array) -> Int64Array:
    """Sorted distinct packed keys ``customer * items + item`` of what eligible customers bought."""
    width = np.int64(max(len(baskets.items), 1))
    who = np.repeat(baskets.customer_codes, baskets.sizes)
    flags = np.zeros(len(baskets.customer_ids) + 1, dtype=bool)
    flags[eligible] = True
    keep = flags[who]  # who == -1 reads the extra False at the end
    keys = np.sort(who[keep] * width + baskets.codes[keep])
    if len(keys):
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    return keys


class _Owned:
    """Membership of packed ``customer * items + item`` keys: a bitmap when it fits in 64 MB,
    else ``searchsorted`` over the sorted keys."""

    def __init__(self, keys: Int64Array, cells: int) -> None:
        self._keys = keys
        self._bits: AnyArray | None = None
        if cells <= _BITMAP_CELLS:
            bits = np.zeros((cells + 7) // 8, dtype=np.uint8)
            np.bitwise_or.at(bits, keys >> 3, (1 << (keys & 7)).astype(np.uint8))
            self._bits = bits

    def has(self, keys: Int64Array) -> AnyArray:
        if self._bits is not None:
            found: AnyArray = ((self._bits[keys >> 3] >> (keys & 7).astype(np.uint8)) & 1) == 1
            return found
        if not len(self._keys):
            return np.zeros(len(keys), dtype=bool)
        at = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        hit: AnyArray = self._keys[at] == keys
        return hit


def _first_of_groups(keys: Int64Array) -> Int64Array:
    """Positions of the first row of each distinct key (rows are in preference order)."""
    order = np.argsort(keys, kind="stable")
    ranked = keys[order]
    first = np.concatenate([[True], ranked[1:] != ranked[:-1]]) if len(ranked) else ranked > 0
    positions: Int64Array = np.sort(order[first])
    return positions


def _group_rank(sorted_codes: Int64Array) -> Int64Array:
    """0, 1, 2, ... within each run of equal codes of a sorted array."""
    if not len(sorted_codes):
        return np.zeros(0, dtype=np.int64)
    starts = np.concatenate([[True], sorted_codes[1:] != sorted_codes[:-1]])
    positions = np.arange(len(sorted_codes))
    rank: Int64Array = positions - np.maximum.accumulate(np.where(starts, positions, 0))
    return rank


def next_best_offers(
    baskets: Baskets,
    rules: AssociationRules,
    *,
    customers: Iterable[str] | BatchClassification | None = None,
    stage: LifecycleState | str = LifecycleState.MATURE,
    per_customer: int = 3,
    by: str = "lift",
) -> NextBestOffers:
    """Up to ``per_customer`` offers per eligible customer, with the rule behind each.

    ``rules`` must be mined over the same item vocabulary as ``baskets`` (usually from them).
    Rules are visited in preference order, a chunk at a time, and a customer who has all their
    offers is not looked at again: every later rule ranks lower.

    Raises:
        ValidationError: ``baskets`` are not [`Baskets`][crmcore.marketing.baskets.Baskets],
            ``rules`` are not rules over the baskets' items, ``customers`` are neither ids, a
            [`BatchClassification`][crmcore.lifecycle.policy_batch.BatchClassification] nor
            ``None``, ``stage`` is not a lifecycle state (or its value), ``by`` not a measure, or
            ``per_customer`` not an integer of at least 1.
    """
    if not isinstance(baskets, Baskets):
        raise ValidationError("baskets", baskets, "must be Baskets")
    if not isinstance(rules, AssociationRules) or rules.items != baskets.items:
        raise ValidationError("rules", rules, "must be AssociationRules over the baskets' items")
    by = choice(by, "by", MEASURES)
    # No customer can get more offers than there are items: the same answer, in int64 range.
    per_customer = min(integer(per_customer, "per_customer", low=1), max(len(baskets.items), 1))
    eligible = _eligible(customers, choice(stage, "stage", LifecycleState), baskets)
    owned_keys = _owned(baskets, eligible)
    width = np.int64(max(len(baskets.items), 1))
    owned = _Owned(owned_keys, len(baskets.customer_ids) * int(width))
    usable = np.flatnonzero(rules.consequents[:, 1] < 0)
    # preference order: by the measure, then confidence, then report order
    usable = usable[
        np.lexsort((usable, -rules.measures["confidence"][usable], -rules.measures[by][usable]))
    ]
    owner, item = np.divmod(owned_keys, width)
    by_item = np.lexsort((owner, item))
    owners_by_item = owner[by_item]
    item_start = np.searchsorted(item[by_item], np.arange(len(baskets.items) + 1))
    first = rules.antecedents[usable, 0]
    counts = item_start[first + 1] - item_start[first]
    bounds = np.concatenate([[0], np.cumsum(counts)])
    given = np.zeros(len(baskets.customer_ids), dtype=np.int64)  # offers chosen so far
    chosen: list[tuple[Int64Array, Int64Array, Int64Array]] = []
    chosen_keys = np.zeros(0, dtype=np.int64)
    lo = 0
    while lo < len(usable):
        hi = max(int(np.searchsorted(bounds, bounds[lo] + _CHUNK, side="right")) - 1, lo + 1)
        n = counts[lo:hi]
        preference = np.repeat(np.arange(lo, hi), n)  # position in preference order
        offset = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        who = owners_by_item[np.repeat(item_start[first[lo:hi]], n) + offset]
        live = given[who] < per_customer
        who, preference = who[live], preference[live]
        rule_of = usable[preference]
        second = rules.antecedents[rule_of, 1]
        target = rules.consequents[rule_of, 0]
        ok = (second < 0) | owned.has(who * width + np.maximum(second, 0))
        ok &= ~owned.has(who * width + target)
        who, target, preference = who[ok], target[ok], preference[ok]
        keys = who * width + target
        keep = _first_of_groups(keys)
        if len(chosen_keys):
            at = np.minimum(np.searchsorted(chosen_keys, keys[keep]), len(chosen_keys) - 1)
            keep = keep[chosen_keys[at] != keys[keep]]
        who, target, preference, keys = who[keep], target[keep], preference[keep], keys[keep]
        order = np.argsort(who, kind="stable")  # keeps preference order within a customer
        who, target, preference, keys = who[order], target[order], preference[order], keys[order]
        room = _group_rank(who) < per_customer - given[who]
        who, target, preference, keys = who[room], target[room], preference[room], keys[room]
        given += np.bincount(who, minlength=len(given))
        chosen.append((who, target, preference))
        chosen_keys = np.sort(np.concatenate([chosen_keys, keys]))
        lo = hi
    c = np.concatenate([part[0] for part in chosen]) if chosen else np.zeros(0, np.int64)
    i = np.concatenate([part[1] for part in chosen]) if chosen else np.zeros(0, np.int64)
    p = np.concatenate([part[2] for part in chosen]) if chosen else np.zeros(0, np.int64)
    order = np.lexsort((p, c))  # customer codes follow the sorted customer ids
    c, i, p = c[order], i[order], p[order]
    rule_index = usable[p].astype(np.int64)
    return NextBestOffers(
        rules,
        baskets.customer_ids[c],
        (_group_rank(c) + 1).astype(np.int64),
        i.astype(np.int64),
        rules.measures[by][rule_index],
        rule_index,
    )


def offers_for(
    bought: Iterable[str],
    rules: AssociationRules,
    *,
    customer_id: str = "",
    per_customer: int = 3,
    by: str = "lift",
) -> list[Offer]:
    """The offers for one customer who bought ``bought``: the same rule as
    [`next_best_offers()`][crmcore.marketing.next_best_offer.next_best_offers], in plain Python.

    Raises:
        ValidationError: ``bought`` is not a collection of item ids, ``rules`` are not
            association rules, ``by`` not a measure, or ``per_customer`` not an integer of at
            least 1.
    """
    if not isinstance(rules, AssociationRules):
        raise ValidationError("rules", rules, "must be AssociationRules")
    by = choice(by, "by", MEASURES)
    per_customer = integer(per_customer, "per_customer", low=1)
    owned = set(instances_of(bought, str, "bought"))
    best: dict[str, tuple[float, float, int]] = {}
    for index, rule in enumerate(rules):
        if len(rule.consequent) != 1 or not set(rule.antecedent) <= owned:
            continue
        item = rule.consequent[0]
        if item in owned:
            continue
        key = (-getattr(rule, by), -rule.confidence, index)
        if item not in best or key < best[item]:
            best[item] = key
    ranked = sorted(best.items(), key=lambda pair: pair[1])[:per_customer]
    out = []
    for rank, (item, (_, _, index)) in enumerate(ranked, 1):
        rule = rules.rule(index)
        out.append(
            Offer(
                customer_id=customer_id,
                rank=rank,
                item=item,
                score=float(getattr(rule, by)),
                rule=index,
                antecedent=rule.antecedent,
                confidence=rule.confidence,
                lift=rule.lift,
            )
        )
    return out
