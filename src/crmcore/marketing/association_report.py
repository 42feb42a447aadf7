"""The results of market-basket analysis: frequent itemsets and association rules, as columns.

[`FrequentItemsets`][crmcore.marketing.association_report.FrequentItemsets] and
[`AssociationRules`][crmcore.marketing.association_report.AssociationRules] hold numpy columns
(itemsets as item codes padded with -1, counts, measures) and render like every crmcore report:
``to_dict()``, ``to_pandas()`` (mlxtend's column names: ``antecedents``, ``consequents``,
``antecedent support``, ...) and a Jupyter table. One rule reads as an
[`AssociationRule`][crmcore.marketing.association_report.AssociationRule]. They are made by
[`crmcore.marketing.association_rules`][crmcore.marketing.association_rules].
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Final

import attrs
import numpy as np

from crmcore.columnar.arguments import float_column, int_column, same_length
from crmcore.kernel.arrays import Float64Array, Int64Array, read_only
from crmcore.kernel.errors import MissingDependencyError, ValidationError
from crmcore.kernel.reports import html_table, json_number
from crmcore.kernel.validators import choice, instances_of, integer, items_of, mapping_of

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MEASURES", "AssociationRule", "AssociationRules", "FrequentItemsets"]

MEASURES: Final = ("support", "confidence", "lift", "leverage", "conviction", "zhangs_metric")
"""The measures of each rule, in report order."""
_HTML_ROWS: Final = 15


def _names(items: Sequence[str], codes: Int64Array) -> tuple[str, ...]:
    return tuple(items[int(c)] for c in codes if c >= 0)


def _item_names(items: object) -> tuple[str, ...]:
    """``items`` checked to be a collection of texts. A tuple of texts (the usual case: the
    baskets' vocabulary) is kept as it is, checked without a function call per item."""
    if isinstance(items, tuple) and all(isinstance(v, str) for v in items):
        return items
    return instances_of(items, str, "items")


class FrequentItemsets:
    """Frequent itemsets: ``itemsets[i]`` (item codes, sorted, padded with -1) in ``counts[i]``
    of the ``baskets`` baskets.

    Raises:
        ValidationError: (constructing one) a column that is not an array of the expected kind
            and shape, columns of different lengths, or codes out of range, naming the column.
    """

    __slots__ = ("baskets", "counts", "items", "itemsets")

    def __init__(
        self, items: tuple[str, ...], baskets: int, itemsets: Int64Array, counts: Int64Array
    ):
        sets = int_column(itemsets, "itemsets", ndim=2, width=3)
        numbers = int_column(counts, "counts")
        same_length("itemsets", len(sets), counts=numbers)
        self.items: Final = _item_names(items)
        self.baskets: Final = integer(baskets, "baskets", low=0)
        self.itemsets: Final = read_only(sets)
        self.counts: Final = read_only(numbers)

    @classmethod
    def build(
        cls,
        items: tuple[str, ...],
        baskets: int,
        sets: Sequence[Int64Array],
        counts: Sequence[Int64Array],
    ) -> FrequentItemsets:
        """From blocks of itemsets of one size each (``(m, size)`` code arrays) and their counts."""
        padded = []
        for k, given in enumerate(items_of(sets, "sets", "itemset blocks")):
            block = int_column(given, f"sets[{k}]", ndim=2)
            if not 1 <= block.shape[1] <= 3:
                raise ValidationError(f"sets[{k}]", block.shape, "must have 1 to 3 columns")
            out = np.full((len(block), 3), -1, dtype=np.int64)
            out[:, : block.shape[1]] = block
            padded.append(out)
        blocks = [int_column(c, f"counts[{k}]") for k, c in enumerate(items_of(counts, "counts"))]
        table = np.concatenate(padded) if padded else np.zeros((0, 3), dtype=np.int64)
        numbers = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int64)
        return cls(items, baskets, table, numbers.astype(np.int64))

    def __len__(self) -> int:
        return len(self.counts)

    def __repr__(self) -> str:
        return f"FrequentItemsets({len(self)} itemsets over {self.baskets} baskets)"

    def _keys(self, sets: Int64Array) -> Int64Array:
        width = np.int64(len(self.items) + 1)
        padded = np.full((len(sets), 3), -1, dtype=np.int64)
        padded[:, : sets.shape[1]] = sets
        keys: Int64Array = (
            ((padded[:, 0] + 1) * width + padded[:, 1] + 1) * width + padded[:, 2] + 1
        )
        return keys

    def lookup(self) -> Callable[[Int64Array], Int64Array]:
        """A function from itemsets (padded code rows) to their counts; all must be frequent."""
        keys = self._keys(self.itemsets)
        order = np.argsort(keys, kind="stable")
        ranked = keys[order]

        def find(sets: Int64Array) -> Int64Array:
            wanted = self._keys(sets)
            at = np.minimum(np.searchsorted(ranked, wanted), max(len(ranked) - 1, 0))
            if not len(ranked) or np.any(ranked[at] != wanted):
                raise ValidationError("itemsets", sets, "hold an itemset that is not frequent")
            found: Int64Array = self.counts[order[at]]
            return found

        return find

    def to_dict(self) -> dict[str, object]:
        """Every itemset with its count and support, as JSON data."""
        n = max(self.baskets, 1)
        return {
            "baskets": self.baskets,
            "itemsets": [
                {"items": list(_names(self.items, row)), "count": int(c), "support": int(c) / n}
                for row, c in zip(self.itemsets, self.counts, strict=True)
            ],
        }

    def to_pandas(self) -> pd.DataFrame:
        """mlxtend's layout: ``support`` and ``itemsets`` (frozensets of item names)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "FrequentItemsets.to_pandas") from None
        return pd.DataFrame(
            {
                "support": self.counts / max(self.baskets, 1),
                "itemsets": [frozenset(_names(self.items, row)) for row in self.itemsets],
            }
        )

    def _repr_html_(self) -> str:
        rows = [
            (", ".join(_names(self.items, r)), int(c), int(c) / max(self.baskets, 1))
            for r, c in zip(self.itemsets[:_HTML_ROWS], self.counts[:_HTML_ROWS], strict=True)
        ]
        return html_table(
            "Frequent itemsets",
            ["items", "baskets", "support"],
            rows,
            kinds=["auto", "int", "pct"],
            caption=f"{len(self)} itemsets over {self.baskets:,} baskets",
        )


@attrs.frozen
class AssociationRule:
    """One association rule ``antecedent -> consequent`` and its measures.

    ``count`` is the number of baskets holding both sides; ``conviction`` is ``inf`` for a rule
    that never fails.
    """

    antecedent: tuple[str, ...]
    consequent: tuple[str, ...]
    count: int
    antecedent_support: float
    consequent_support: float
    support: float
    confidence: float
    lift: float
    leverage: float
    conviction: float
    zhangs_metric: float

    def to_dict(self) -> dict[str, object]:
        """The rule as JSON data (an infinite conviction is ``None``)."""
        data: dict[str, object] = {
            "antecedent": list(self.antecedent),
            "consequent": list(self.consequent),
            "count": self.count,
        }
        for name in ("antecedent_support", "consequent_support", *MEASURES):
            data[name] = json_number(getattr(self, name))
        return data

    def __str__(self) -> str:
        left, right = ", ".join(self.antecedent), ", ".join(self.consequent)
        return f"{{{left}}} -> {{{right}}} (confidence {self.confidence:.0%}, lift {self.lift:.2f})"


class AssociationRules:
    """Association rules as columns: ``antecedents`` / ``consequents`` (item codes padded with
    -1), counts of both sides and of each, and one array per measure (`MEASURES`).

    Raises:
        ValidationError: (constructing one) a column that is not an array of the expected kind
            and shape, columns of different lengths, or codes out of range, naming the column.
    """

    __slots__ = (
        "antecedents",
        "baskets",
        "both",
        "consequents",
        "items",
        "left",
        "measures",
        "right",
    )

    def __init__(
        self,
        items: tuple[str, ...],
        baskets: int,
        antecedents: Int64Array,
        consequents: Int64Array,
        both: Int64Array,
        left: Int64Array,
        right: Int64Array,
        measures: Mapping[str, Float64Array],
    ) -> None:
        sides = int_column(antecedents, "antecedents", ndim=2, width=2)
        given = mapping_of(measures, "measures", str)
        missing = [name for name in MEASURES if name not in given]
        if missing:
            raise ValidationError("measures", sorted(given), f"must hold {', '.join(MEASURES)}")
        columns = {
            "consequents": int_column(consequents, "consequents", ndim=2, width=2),
            "both": int_column(both, "both"),
            "left": int_column(left, "left"),
            "right": int_column(right, "right"),
        }
        values = {name: float_column(given[name], f"measures[{name!r}]") for name in MEASURES}
        same_length("antecedents", len(sides), **columns, **values)
        self.items: Final = _item_names(items)
        self.baskets: Final = integer(baskets, "baskets", low=0)
        self.antecedents: Final = read_only(sides)
        self.consequents: Final = read_only(columns["consequents"])
        self.both: Final = read_only(columns["both"])
        self.left: Final = read_only(columns["left"])
        self.right: Final = read_only(columns["right"])
        self.measures: Final = {name: read_only(values[name]) for name in MEASURES}

    @classmethod
    def empty(cls, items: tuple[str, ...], baskets: int) -> AssociationRules:
        """No rules."""
        none = np.zeros((0, 2), dtype=np.int64)
        count = np.zeros(0, dtype=np.int64)
        measures = {name: np.zeros(0, dtype=np.float64) for name in MEASURES}
        return cls(items, baskets, none, none.copy(), count, count.copy(), count.copy(), measures)

    @classmethod
    def build(
        cls,
        items: tuple[str, ...],
        baskets: int,
        antecedents: Int64Array,
        consequents: Int64Array,
        both: Int64Array,
        left: Int64Array,
        right: Int64Array,
        measures: Mapping[str, Float64Array],
    ) -> AssociationRules:
        """Rules in report order: lift, confidence, support (descending), then item codes."""
        given = cls(items, baskets, antecedents, consequents, both, left, right, measures)
        ante, cons, values = given.antecedents, given.consequents, given.measures
        order = np.lexsort(
            (
                cons[:, 1],
                cons[:, 0],
                ante[:, 1],
                ante[:, 0],
                -values["support"],
                -values["confidence"],
                -values["lift"],
            )
        )
        return cls(
            given.items,
            given.baskets,
            ante[order],
            cons[order],
            given.both[order],
            given.left[order],
            given.right[order],
            {name: values[name][order] for name in MEASURES},
        )

    def __len__(self) -> int:
        return len(self.both)

    def __repr__(self) -> str:
        return f"AssociationRules({len(self)} rules over {self.baskets} baskets)"

    def rule(self, i: int) -> AssociationRule:
        """Rule number ``i`` (report order)."""
        if isinstance(i, bool) or not isinstance(i, int) or not -len(self) <= i < len(self):
            raise ValidationError("i", i, f"must be a rule number in 0..{len(self) - 1}")
        n = max(self.baskets, 1)
        values = {name: float(self.measures[name][i]) for name in MEASURES}
        return AssociationRule(
            antecedent=_names(self.items, self.antecedents[i]),
            consequent=_names(self.items, self.consequents[i]),
            count=int(self.both[i]),
            antecedent_support=int(self.left[i]) / n,
            consequent_support=int(self.right[i]) / n,
            **values,
        )

    def __iter__(self) -> Iterator[AssociationRule]:
        return (self.rule(i) for i in range(len(self)))

    def top(self, n: int = 10, *, by: str = "lift") -> list[AssociationRule]:
        """The ``n`` best rules by measure ``by`` (ties keep report order)."""
        by = choice(by, "by", MEASURES)
        n = integer(n, "n", low=0)
        order = np.argsort(-self.measures[by], kind="stable")[:n]
        return [self.rule(int(i)) for i in order]

    def to_dict(self) -> dict[str, object]:
        """Every rule as JSON data."""
        return {"baskets": self.baskets, "rules": [rule.to_dict() for rule in self]}

    def to_pandas(self) -> pd.DataFrame:
        """mlxtend's layout: ``antecedents``, ``consequents`` (frozensets), supports, measures."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "AssociationRules.to_pandas") from None
        n = max(self.baskets, 1)
        data: dict[str, object] = {
            "antecedents": [frozenset(_names(self.items, r)) for r in self.antecedents],
            "consequents": [frozenset(_names(self.items, r)) for r in self.consequents],
            "antecedent support": self.left / n,
            "consequent support": self.right / n,
        }
        data.update({name: np.asarray(self.measures[name]) for name in MEASURES})
        return pd.DataFrame(data)

    def _repr_html_(self) -> str:
        rows = []
        for i in range(min(len(self), _HTML_ROWS)):
            r = self.rule(i)
            conviction = None if math.isinf(r.conviction) else r.conviction
            rows.append(
                (
                    ", ".join(r.antecedent),
                    ", ".join(r.consequent),
                    r.support,
                    r.confidence,
                    r.lift,
                    r.leverage,
                    conviction,
                )
            )
        return html_table(
            "Association rules",
            ["if bought", "then also", "support", "confidence", "lift", "leverage", "conviction"],
            rows,
            kinds=["auto", "auto", "pct", "pct", "float", "float", "float"],
            caption=f"{len(self)} rules over {self.baskets:,} baskets (first {len(rows)} shown)",
        )
