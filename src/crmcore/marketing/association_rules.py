"""Association rules: which items are bought together, by vectorised counting of pairs and triples.

[`association_rules()`][crmcore.marketing.association_rules.association_rules] finds the frequent
itemsets of up to three items in [`Baskets`][crmcore.marketing.baskets.Baskets] and the rules
``X -> Y`` they give, with the measures of mlxtend's ``association_rules``. With ``s(Z)`` the share
of baskets holding every item of ``Z``:

| measure | formula | reads |
|---|---|---|
| support | ``s(X u Y)`` | how common the whole rule is |
| confidence | ``s(X u Y) / s(X)`` | P(Y in basket given X in basket) |
| lift | ``confidence / s(Y)`` | > 1: X makes Y likelier (Brin et al. 1997) |
| leverage | ``s(X u Y) - s(X) s(Y)`` | co-occurrence over independence (Piatetsky-Shapiro) |
| conviction | ``(1 - s(Y)) / (1 - confidence)`` | infinite for a rule that never fails |
| zhangs_metric | ``leverage / max(s(XY)(1-s(X)), s(X)(s(Y)-s(XY)))`` | in [-1, 1] (Zhang 2000) |

An itemset is frequent when ``count / baskets >= min_support`` (computed in float64, as written);
a rule is kept when ``confidence >= min_confidence`` (and ``lift >= min_lift`` if given).

**How it counts.** Apriori's pruning (Agrawal and Srikant, VLDB 1994) with numpy doing the work:
items below the support are dropped from every basket and the rest renumbered densely; baskets are
grouped by their remaining size ``k``, and for each ``k`` the items of all its baskets form one
``(baskets, k)`` matrix whose column combinations (``itertools.combinations(range(k), 2)``, built
once per ``k``) give every pair at once. A pair ``(a, b)`` is packed into one integer ``a F + b``
(``F`` frequent items) and counted with ``np.bincount`` (or ``np.unique`` when ``F^2`` is large).
Triples are counted the same way, only over items that are in some frequent pair and only where all
three of their pairs are frequent. Work is chunked so no temporary array passes a few million rows.
A million baskets take seconds; ``benchmarks/bench_cross_sell.py`` measures it against a
pure-Python count, and a hypothesis test checks the result equals a brute-force reference.

Examples:
    >>> from crmcore.marketing.baskets import Baskets
    >>> baskets = Baskets.from_lists([["milk", "bread"], ["milk", "bread", "butter"],
    ...                               ["bread", "butter"], ["milk", "eggs"]])
    >>> rules = association_rules(baskets, min_support=0.5, min_confidence=0.6)
    >>> [(r.antecedent, r.consequent, r.confidence) for r in rules.top(2)]
    [(('butter',), ('bread',), 1.0), (('bread',), ('butter',), 0.6666666666666666)]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from functools import lru_cache
from typing import Final

import numpy as np

from crmcore.kernel.arrays import BoolArray, Float64Array, Int64Array, read_only
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import integer
from crmcore.marketing.association_report import AssociationRules, FrequentItemsets
from crmcore.marketing.baskets import Baskets

__all__ = ["association_rules", "frequent_itemsets"]

_BUDGET: Final = 1 << 22  # combinations per chunk: bounds every temporary array
_DENSE: Final = 1 << 24  # count pairs in a dense bincount up to this many cells


def _fraction(value: object, field: str, *, zero_ok: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(field, value, "must be a number")
    number = float(value)
    low_ok = number >= 0.0 if zero_ok else number > 0.0
    if not (low_ok and number <= 1.0):
        interval = "[0, 1]" if zero_ok else "(0, 1]"
        raise ValidationError(field, value, f"must be in {interval}")
    return number


def _max_size(value: object) -> int:
    return integer(value, "max_size", low=1, high=3)


@lru_cache(maxsize=256)
def _combinations(k: int, r: int) -> Int64Array:
    return read_only(np.array(list(itertools.combinations(range(k), r)), dtype=np.int64))


def _groups(codes: Int64Array, sizes: Int64Array, r: int) -> Iterator[Int64Array]:
    """Every ``r``-combination of every basket's codes, as ``(m, r)`` arrays, chunk by chunk."""
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    for k in np.unique(sizes[sizes >= r]).tolist():
        combos = _combinations(int(k), r)
        starts = offsets[:-1][sizes == k]
        rows = max(1, _BUDGET // len(combos))
        step = min(len(combos), _BUDGET)  # a huge basket: its combinations in slices
        for first in range(0, len(starts), rows):
            block = codes[starts[first : first + rows, None] + np.arange(k)]
            for c0 in range(0, len(combos), step):
                yield block[:, combos[c0 : c0 + step]].reshape(-1, r)


def _unique_counts(keys: Int64Array) -> tuple[Int64Array, Int64Array]:
    """Distinct keys (sorted) and their counts, by sort and diff (numpy 2's ``np.unique`` hashes
    integers first, several times slower on millions of keys)."""
    ranked = np.sort(keys)
    starts = np.flatnonzero(np.concatenate([[True], ranked[1:] != ranked[:-1]]))
    counts = np.diff(np.append(starts, len(ranked)))
    return ranked[starts], counts.astype(np.int64)


class _Counter:
    """Counts of packed integer keys, accumulated chunk by chunk."""

    def __init__(self, cells: int) -> None:
        self._dense = np.zeros(cells, dtype=np.int64) if 0 < cells <= _DENSE else None
        self._parts: list[tuple[Int64Array, Int64Array]] = []

    def add(self, keys: Int64Array) -> None:
        if self._dense is not None:
            self._dense += np.bincount(keys, minlength=len(self._dense))
        elif len(keys):
            self._parts.append(_unique_counts(keys))

    def result(self) -> tuple[Int64Array, Int64Array]:
        """The distinct keys (sorted) and their counts."""
        if self._dense is not None:
            keys = np.flatnonzero(self._dense)
            return keys.astype(np.int64), self._dense[keys]
        if not self._parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        keys = np.concatenate([k for k, _ in self._parts])
        counts = np.concatenate([c for _, c in self._parts])
        order = np.argsort(keys, kind="stable")
        keys, counts = keys[order], counts[order]
        starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
        return keys[starts], np.add.reduceat(counts, starts)


def _keep(
    codes: Int64Array, basket_of: Int64Array, wanted: BoolArray, n: int
) -> tuple[Int64Array, Int64Array, Int64Array]:
    """Rows whose item is ``wanted``: their codes, their baskets, and the new basket sizes."""
    rows = wanted[codes]
    kept_baskets = basket_of[rows]
    return codes[rows], kept_baskets, np.bincount(kept_baskets, minlength=n)


def frequent_itemsets(
    baskets: Baskets, *, min_support: float, max_size: int = 3
) -> FrequentItemsets:
    """The itemsets of 1 to ``max_size`` items with ``count / len(baskets) >= min_support``.

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] for ``min_support`` outside
    (0, 1] or ``max_size`` not 1, 2 or 3.
    """
    if not isinstance(baskets, Baskets):
        raise ValidationError("baskets", baskets, "must be Baskets")
    support = _fraction(min_support, "min_support", zero_ok=False)
    size = _max_size(max_size)
    n = len(baskets)
    item_counts = baskets.item_counts()
    frequent = (item_counts / max(n, 1) >= support) & (item_counts > 0) if n else item_counts > 0
    dense_of = np.cumsum(frequent) - 1  # old code -> dense code among frequent items
    original = np.flatnonzero(frequent).astype(np.int64)  # dense code -> old code
    f = len(original)
    basket_of = np.repeat(np.arange(n, dtype=np.int64), baskets.sizes)
    codes, kept_baskets, sizes = _keep(baskets.codes.astype(np.int64), basket_of, frequent, n)
    codes = dense_of[codes]
    sets = [original[:, None]]
    counts = [item_counts[original]]
    if size >= 2 and f >= 2:
        counter = _Counter(f * f)
        for pairs in _groups(codes, sizes, 2):
            counter.add(pairs[:, 0] * f + pairs[:, 1])
        keys, pair_counts = counter.result()
        good = pair_counts / n >= support
        pair_keys, pair_counts = keys[good], pair_counts[good]
        a, b = np.divmod(pair_keys, f)
        sets.append(np.stack([original[a], original[b]], axis=1))
        counts.append(pair_counts)
        if size == 3 and len(pair_keys) >= 3:
            triples, triple_counts = _triples(codes, kept_baskets, n, f, pair_keys, support)
            if len(triples):
                sets.append(original[triples])
                counts.append(triple_counts)
    return FrequentItemsets.build(baskets.items, n, sets, counts)


def _triples(
    codes: Int64Array,
    basket_of: Int64Array,
    n: int,
    f: int,
    pair_keys: Int64Array,
    support: float,
) -> tuple[Int64Array, Int64Array]:
    """Frequent triples (dense codes, ``(m, 3)``) and their counts, from the frequent pairs."""
    in_pair = np.zeros(f, dtype=bool)
    a, b = np.divmod(pair_keys, f)
    in_pair[a] = True
    in_pair[b] = True
    codes, _, sizes = _keep(codes, basket_of, in_pair, n)
    dense = None
    if f * f <= _DENSE:
        dense = np.zeros(f * f, dtype=bool)
        dense[pair_keys] = True

    def frequent_pair(x: Int64Array, y: Int64Array) -> BoolArray:
        keys = x * f + y
        if dense is not None:
            hit: BoolArray = dense[keys]
            return hit
        at = np.minimum(np.searchsorted(pair_keys, keys), len(pair_keys) - 1)
        found: BoolArray = np.asarray(pair_keys[at] == keys)
        return found

    counter = _Counter(0)
    for t in _groups(codes, sizes, 3):
        x, y, z = t[:, 0], t[:, 1], t[:, 2]
        ok = frequent_pair(x, y) & frequent_pair(x, z) & frequent_pair(y, z)
        counter.add((x[ok] * f + y[ok]) * f + z[ok])
    keys, counts = counter.result()
    good = counts / n >= support
    keys, counts = keys[good], counts[good]
    xy, z = np.divmod(keys, f)
    x, y = np.divmod(xy, f)
    return np.stack([x, y, z], axis=1), counts


def association_rules(
    baskets: Baskets,
    *,
    min_support: float,
    min_confidence: float = 0.0,
    max_size: int = 3,
    min_lift: float | None = None,
) -> AssociationRules:
    """The rules ``X -> Y`` of the frequent itemsets of up to ``max_size`` items.

    Every split of a frequent itemset into a non-empty antecedent and consequent is a candidate
    (a pair gives two rules, a triple six); rules with ``confidence >= min_confidence`` and, when
    given, ``lift >= min_lift`` are kept, sorted by lift, then confidence, then support
    (descending), then items.

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] naming ``min_support``
    (outside (0, 1]), ``min_confidence`` (outside [0, 1]), ``min_lift`` (negative) or
    ``max_size``.
    """
    confidence = _fraction(min_confidence, "min_confidence", zero_ok=True)
    if min_lift is not None and (
        isinstance(min_lift, bool) or not isinstance(min_lift, int | float) or min_lift < 0
    ):
        raise ValidationError("min_lift", min_lift, "must be None or a number >= 0")
    itemsets = frequent_itemsets(baskets, min_support=min_support, max_size=max_size)
    return _rules(itemsets, confidence, None if min_lift is None else float(min_lift))


def _rules(
    itemsets: FrequentItemsets, min_confidence: float, min_lift: float | None
) -> AssociationRules:
    n = itemsets.baskets
    lookup = itemsets.lookup()
    antecedents: list[Int64Array] = []
    consequents: list[Int64Array] = []
    together: list[Int64Array] = []
    sets, counts = itemsets.itemsets, itemsets.counts
    sizes = (sets >= 0).sum(axis=1)
    for size in (2, 3):
        rows = np.flatnonzero(sizes == size)
        if not len(rows):
            continue
        members = sets[rows, :size]
        for r in range(1, size):
            for left in itertools.combinations(range(size), r):
                right = [i for i in range(size) if i not in left]
                antecedents.append(_pad(members[:, list(left)]))
                consequents.append(_pad(members[:, right]))
                together.append(counts[rows])
    if not antecedents:
        return AssociationRules.empty(itemsets.items, n)
    ante = np.concatenate(antecedents)
    cons = np.concatenate(consequents)
    n_xy = np.concatenate(together)
    n_x = lookup(ante)
    n_y = lookup(cons)
    s_xy, s_x, s_y = n_xy / n, n_x / n, n_y / n
    conf = n_xy / n_x
    keep = conf >= min_confidence
    lift = conf / s_y
    if min_lift is not None:
        keep &= lift >= min_lift
    measures = _measures(s_xy[keep], s_x[keep], s_y[keep], conf[keep], lift[keep])
    return AssociationRules.build(
        itemsets.items, n, ante[keep], cons[keep], n_xy[keep], n_x[keep], n_y[keep], measures
    )


def _pad(block: Int64Array) -> Int64Array:
    out = np.full((len(block), 2), -1, dtype=np.int64)
    out[:, : block.shape[1]] = block
    return out


def _measures(
    s_xy: Float64Array, s_x: Float64Array, s_y: Float64Array, conf: Float64Array, lift: Float64Array
) -> dict[str, Float64Array]:
    leverage = s_xy - s_x * s_y
    with np.errstate(divide="ignore", invalid="ignore"):
        failing = 1.0 - conf
        conviction = np.where(
            failing > 0, (1.0 - s_y) / np.where(failing > 0, failing, 1.0), np.inf
        )
        denominator = np.maximum(s_xy * (1.0 - s_x), s_x * (s_y - s_xy))
        zhang = np.where(
            denominator == 0, 0.0, leverage / np.where(denominator == 0, 1.0, denominator)
        )
    return {
        "support": s_xy,
        "confidence": conf,
        "lift": lift,
        "leverage": leverage,
        "conviction": conviction,
        "zhangs_metric": zhang,
    }
