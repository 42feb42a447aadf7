"""Association rules equal a brute-force count; baskets build from lines, lists and logs."""

from __future__ import annotations

import importlib
import math
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.columnar import TransactionLog
from crmcore.kernel.errors import ValidationError
from crmcore.marketing._offers_reference import brute_force_rules
from crmcore.marketing.association_report import AssociationRules, FrequentItemsets
from crmcore.marketing.association_rules import association_rules, frequent_itemsets
from crmcore.marketing.baskets import Baskets

ITEMS = list("abcdefg")
baskets_strategy = st.lists(st.lists(st.sampled_from(ITEMS), max_size=6), min_size=1, max_size=40)


@settings(max_examples=120, deadline=None)
@given(
    baskets_strategy,
    st.sampled_from([0.05, 0.1, 0.2, 0.25, 1 / 3, 0.5, 1.0]),
    st.sampled_from([0.0, 0.3, 0.5, 0.8, 1.0]),
    st.sampled_from([2, 3]),
)
def test_rules_equal_the_brute_force_reference(
    lists: list[list[str]], support: float, confidence: float, size: int
) -> None:
    got = association_rules(
        Baskets.from_lists(lists), min_support=support, min_confidence=confidence, max_size=size
    )
    expected = brute_force_rules(lists, support, confidence, size)
    found = {(r.antecedent, r.consequent): r for r in got}
    assert set(found) == set(expected)
    for key, values in expected.items():
        rule = found[key]
        assert rule.count == values["count"]
        for name in ("support", "confidence", "lift", "leverage", "conviction", "zhangs_metric"):
            assert getattr(rule, name) == pytest.approx(values[name], rel=1e-12, abs=1e-15)


def test_the_textbook_example_and_its_order() -> None:
    lists = [["milk", "bread"], ["milk", "bread", "butter"], ["bread", "butter"], ["milk", "eggs"]]
    rules = association_rules(Baskets.from_lists(lists), min_support=0.5)
    lifts = [r.lift for r in rules]
    assert lifts == sorted(lifts, reverse=True)
    best = rules.rule(0)
    assert (best.antecedent, best.consequent, best.confidence) == (("butter",), ("bread",), 1.0)
    assert math.isinf(best.conviction) and best.to_dict()["conviction"] is None
    assert "bread" in str(best) and "Association rules" in rules._repr_html_()


def test_itemsets_and_pandas_layout() -> None:
    lists = [["a", "b", "c"], ["a", "b", "c"], ["a", "b"], ["c"]]
    itemsets = frequent_itemsets(Baskets.from_lists(lists), min_support=0.5)
    as_dict = {tuple(i["items"]): i["count"] for i in itemsets.to_dict()["itemsets"]}  # type: ignore[index, union-attr]
    assert as_dict == {
        ("a",): 3,
        ("b",): 3,
        ("c",): 3,
        ("a", "b"): 3,
        ("a", "c"): 2,
        ("b", "c"): 2,
        ("a", "b", "c"): 2,
    }
    pytest.importorskip("pandas")
    frame = association_rules(Baskets.from_lists(lists), min_support=0.5).to_pandas()
    assert {"antecedents", "consequents", "antecedent support", "lift", "conviction"} <= set(frame)
    assert len(itemsets.to_pandas()) == 7


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"min_support": 0.0}, "min_support"),
        ({"min_support": 1.5}, "min_support"),
        ({"min_support": 0.1, "min_confidence": -0.1}, "min_confidence"),
        ({"min_support": 0.1, "max_size": 4}, "max_size"),
        ({"min_support": 0.1, "min_lift": -1}, "min_lift"),
    ],
)
def test_bad_thresholds_name_the_field(arguments: dict[str, float], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        association_rules(Baskets.from_lists([["a", "b"]]), **arguments)  # type: ignore[arg-type]
    assert error.value.field == field


def test_baskets_from_lines_lists_and_transactions_agree() -> None:
    lines = Baskets.from_lines(
        ["o1", "o1", "o2", "o1"],
        ["tea", "cup", "tea", "tea"],
        customers=["ann", "ann", "bob", "ann"],
    )
    assert lines.items == ("cup", "tea") and lines.basket(0) == ("cup", "tea")
    assert lines.customer_ids.tolist() == ["ann", "bob"]
    t = datetime(2026, 1, 1, tzinfo=UTC)
    log = TransactionLog.from_records(
        [
            {"customer_id": "ann", "at": t, "amount": 1.0, "order_id": "o1", "category": "tea"},
            {"customer_id": "ann", "at": t, "amount": 1.0, "order_id": "o1", "category": "cup"},
            {"customer_id": "bob", "at": t, "amount": 1.0, "order_id": "o2", "category": "tea"},
            {"customer_id": "bob", "at": t, "amount": 1.0, "order_id": None, "category": "cup"},
        ]
    )
    from_log = Baskets.from_transactions(log)
    assert np.array_equal(from_log.codes, lines.codes)
    assert np.array_equal(from_log.offsets, lines.offsets)
    with pytest.raises(ValidationError, match="customers"):
        Baskets.from_lines(["o1", "o1"], ["a", "b"], customers=["ann", "bob"])
    with pytest.raises(ValidationError, match="codes"):
        Baskets([0, 2], [1, 1], ["a", "b"])


def test_chunked_and_dense_counting_agree_on_a_wider_vocabulary() -> None:
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 30, 3000)
    items = rng.integers(0, 5000, int(sizes.sum()))
    basket = np.repeat(np.arange(3000), sizes)
    baskets = Baskets.from_codes(basket, items, [f"i{k:05d}" for k in range(5000)])
    rules = association_rules(baskets, min_support=0.002, max_size=3)
    lists = [list(baskets.basket(b)) for b in range(len(baskets))]
    expected = brute_force_rules(lists, 0.002, 0.0, 3)
    assert {(r.antecedent, r.consequent) for r in rules} == set(expected)


@settings(max_examples=30, deadline=None)
@given(baskets_strategy, st.sampled_from([0.05, 0.1, 0.25]))
def test_the_sparse_and_chunked_paths_equal_the_reference(
    lists: list[list[str]], support: float
) -> None:
    module = importlib.import_module("crmcore.marketing.association_rules")

    dense, budget = module._DENSE, module._BUDGET
    module._DENSE, module._BUDGET = 0, 7  # no dense counting, chunks of a few combinations
    try:
        got = association_rules(Baskets.from_lists(lists), min_support=support)
    finally:
        module._DENSE, module._BUDGET = dense, budget
    assert {(r.antecedent, r.consequent) for r in got} == set(brute_force_rules(lists, support))


def test_report_columns_are_checked_where_they_enter() -> None:
    with pytest.raises(ValidationError, match=r"^itemsets: must be a 2-dimensional array"):
        FrequentItemsets(("a",), 1, np.zeros(3, dtype=np.int64), np.zeros(0, dtype=np.int64))
    with pytest.raises(ValidationError, match=r"^counts: must have as many rows as itemsets"):
        FrequentItemsets(("a",), 1, np.zeros((2, 3), np.int64), np.zeros(1, np.int64))
    rules = AssociationRules.empty(("a", "b"), 3)
    with pytest.raises(ValidationError, match=r"^by: must be one of"):
        rules.top(by=np.array(["lift"]))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^offsets: must be an array of integers"):
        Baskets([0.0, 1.5], [0], ["a"])
    with pytest.raises(ValidationError, match=r"^max_size: must be an integer from 1 to 3"):
        frequent_itemsets(Baskets.from_lists([["a"]]), min_support=0.1, max_size=np.array([2]))  # type: ignore[arg-type]


def test_integer_columns_from_other_libraries_and_whole_floats_are_taken() -> None:
    pd = pytest.importorskip("pandas")
    items = ["a", "b", "c"]
    plain = Baskets.from_codes(np.array([0, 0, 1]), np.array([0, 2, 1]), items)
    for basket_of_row, item_of_row in [
        (pd.Series([0, 0, 1]), pd.Series([0, 2, 1])),
        (np.array([0.0, 0.0, 1.0]), [0, 2, 1]),
        (np.array([0, 0, 1], dtype=object), (0, 2, 1)),
    ]:
        got = Baskets.from_codes(basket_of_row, item_of_row, items)
        assert got.offsets.tolist() == plain.offsets.tolist()
        assert got.codes.tolist() == plain.codes.tolist()
    with pytest.raises(ValidationError, match=r"^basket_of_row: must be an array of integers"):
        Baskets.from_codes(np.array([0.0, 0.5, 1.0]), [0, 2, 1], items)
    with pytest.raises(ValidationError, match=r"^basket_of_row: must be an array of integers"):
        Baskets.from_codes(np.array([0.0, np.nan, 1.0]), [0, 2, 1], items)
    with pytest.raises(ValidationError, match=r"^items: must be a collection of texts"):
        Baskets.from_lines(["o1"], "a")
