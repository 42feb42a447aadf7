"""Plain-Python references for the vectorised offer analytics, used only by the tests.

* [`brute_force_rules()`][crmcore.marketing._offers_reference.brute_force_rules]: every itemset of
  up to three items counted by enumerating each basket's combinations, every rule of every frequent
  itemset, with the measures computed by the same formulas as
  [`association_rules()`][crmcore.marketing.association_rules.association_rules].
* [`attribute_one_by_one()`][crmcore.marketing._offers_reference.attribute_one_by_one]: first or
  last touch per conversion, by scanning the customer's touches.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

from crmcore.marketing.campaigns import AttributionModel

__all__ = ["attribute_one_by_one", "brute_force_rules"]

RuleKey = tuple[tuple[str, ...], tuple[str, ...]]


def brute_force_rules(
    baskets: Sequence[Sequence[str]],
    min_support: float,
    min_confidence: float = 0.0,
    max_size: int = 3,
) -> dict[RuleKey, dict[str, float]]:
    """``{(antecedent, consequent): {"count", "support", "confidence", ...}}`` by enumeration."""
    n = len(baskets)
    counts: Counter[tuple[str, ...]] = Counter()
    for basket in baskets:
        items = sorted(set(basket))
        for size in range(1, max_size + 1):
            counts.update(itertools.combinations(items, size))
    frequent = {s: c for s, c in counts.items() if c / n >= min_support}
    rules: dict[RuleKey, dict[str, float]] = {}
    for itemset, n_xy in frequent.items():
        for r in range(1, len(itemset)):
            for left in itertools.combinations(itemset, r):
                right = tuple(i for i in itemset if i not in left)
                n_x, n_y = frequent[left], frequent[right]
                s_xy, s_x, s_y = n_xy / n, n_x / n, n_y / n
                confidence = n_xy / n_x
                if confidence < min_confidence:
                    continue
                leverage = s_xy - s_x * s_y
                conviction = (
                    (1.0 - s_y) / (1.0 - confidence) if 1.0 - confidence > 0 else float("inf")
                )
                denominator = max(s_xy * (1.0 - s_x), s_x * (s_y - s_xy))
                rules[left, right] = {
                    "count": n_xy,
                    "support": s_xy,
                    "confidence": confidence,
                    "lift": confidence / s_y,
                    "leverage": leverage,
                    "conviction": conviction,
                    "zhangs_metric": 0.0 if denominator == 0 else leverage / denominator,
                }
    return rules


def attribute_one_by_one(
    touches: Sequence[tuple[int, int]],
    conversions: Sequence[tuple[int, int]],
    window: int,
    model: AttributionModel,
) -> list[int]:
    """For each ``(customer, time)`` conversion, the index of its credited ``(customer, time)``
    touch, or -1: the earliest (first touch) or latest (last touch) touch of the customer in
    ``[time - window, time]``; on equal times the earlier index is first and the later last."""
    out = []
    for customer, at in conversions:
        best = -1
        for i, (who, when) in enumerate(touches):
            if who != customer or not at - window <= when <= at:
                continue
            first = model is AttributionModel.FIRST_TOUCH
            if best < 0 or (when < touches[best][1] if first else when >= touches[best][1]):
                best = i
        out.append(best)
    return out
