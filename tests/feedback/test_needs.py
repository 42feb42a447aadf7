"""Needs analysis: rules as data, one-object == batch classification, scores and ranking."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.feedback.feedback import Feedback, FeedbackLog
from crmcore.feedback.needs import (
    ImportanceWeights,
    NeedRule,
    UrgencyWeights,
    classify_needs,
    classify_needs_log,
    needs_backlog,
)
from crmcore.kernel.errors import NotFoundError, ValidationError

T0 = datetime(2026, 3, 1, tzinfo=UTC)
RULES = [
    NeedRule("faster_refunds", themes=["refunds"], keywords=["money back", "refund"]),
    NeedRule("faster_refunds", keywords=["chargeback"]),
    NeedRule("dark_mode", keywords=["dark mode"], kinds=["suggestion"]),
    NeedRule("answers", kinds=["inquiry"]),
    NeedRule("delivery_tracking", themes=["delivery", "tracking"]),
]


def fb(
    i: int,
    kind: str,
    text: str = "",
    themes: tuple[str, ...] = (),
    customer: int | None = None,
    scores: dict[str, int] | None = None,
    day: int = 0,
) -> Feedback:
    return Feedback(
        id=f"f{i}",
        customer_id=f"c{i if customer is None else customer}",
        channel="email",
        kind=kind,
        text=text,
        themes=themes,
        scores=scores or {},
        at=T0 + timedelta(days=day),
    )


def test_rules_normalise_and_validate() -> None:
    rule = NeedRule("Faster Refunds", themes=["Refunds"], keywords=[" Money Back "])
    assert (rule.category, rule.themes, rule.keywords) == (
        "faster_refunds",
        frozenset({"refunds"}),
        ("money back",),
    )
    with pytest.raises(ValidationError, match="at least one"):
        NeedRule("empty")
    with pytest.raises(ValidationError):
        NeedRule("x", keywords=[""])
    with pytest.raises(ValidationError):
        NeedRule("x", keywords="refund")
    with pytest.raises(ValidationError):
        NeedRule("x", kinds=["rant"])
    with pytest.raises(ValidationError):
        NeedRule("", themes=["a"])


def test_classify_one_feedback() -> None:
    assert classify_needs(fb(0, "complaint", "I want my MONEY BACK"), RULES) == ("faster_refunds",)
    assert (
        classify_needs(fb(1, "complaint", "add dark mode"), RULES) == ()
    )  # kind must be suggestion
    assert classify_needs(fb(2, "suggestion", "Dark mode please"), RULES) == ("dark_mode",)
    assert classify_needs(fb(3, "inquiry", "where is it", ("tracking",)), RULES) == (
        "answers",
        "delivery_tracking",
    )
    with pytest.raises(ValidationError):
        classify_needs("text", RULES)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        classify_needs(fb(0, "praise"), ["refunds"])  # type: ignore[list-item]


WORDS = ["refund", "money back", "dark mode", "late", "chargeback", "hello", "Refund!"]

feedback_strategy = st.lists(
    st.tuples(
        st.sampled_from(["complaint", "suggestion", "praise", "inquiry"]),
        st.lists(st.sampled_from(WORDS), max_size=3),
        st.lists(st.sampled_from(["refunds", "delivery", "tracking", "price"]), max_size=2),
        st.integers(0, 6),
        st.none() | st.integers(0, 10),
    ),
    max_size=40,
)


def build(rows: list[tuple[str, list[str], list[str], int, int | None]]) -> list[Feedback]:
    return [
        fb(i, kind, " ".join(words), tuple(themes), customer, None if s is None else {"nps": s}, i)
        for i, (kind, words, themes, customer, s) in enumerate(rows)
    ]


@given(feedback_strategy)
@settings(max_examples=50, deadline=None)
def test_batch_classification_equals_one_object_path(
    rows: list[tuple[str, list[str], list[str], int, int | None]],
) -> None:
    items = build(rows)
    categories, matrix = classify_needs_log(
        FeedbackLog.from_feedback(items), RULES, [f.text for f in items]
    )
    assert categories == ("answers", "dark_mode", "delivery_tracking", "faster_refunds")
    for i, f in enumerate(items):
        batch = tuple(c for j, c in enumerate(categories) if matrix[i, j])
        assert batch == classify_needs(f, RULES)


@given(feedback_strategy, st.booleans())
@settings(max_examples=50, deadline=None)
def test_backlog_agrees_with_plain_python(
    rows: list[tuple[str, list[str], list[str], int, int | None]], with_values: bool
) -> None:
    items = build(rows)
    values = {f"c{c}": float(10 * c + 1) for c in range(7)} if with_values else None
    weights = UrgencyWeights()
    backlog = needs_backlog(items, RULES, values=values)
    all_customers = {f.customer_id for f in items}
    total_value = sum(values[c] for c in all_customers) if values else 0.0
    members: dict[str, list[Feedback]] = defaultdict(list)
    for f in items:
        for category in classify_needs(f, RULES):
            members[category].append(f)
    assert backlog.feedback == len(items) and backlog.customers == len(all_customers)
    assert backlog.unclassified == sum(1 for f in items if not classify_needs(f, RULES))
    assert {r.category for r in backlog.rows} == set(members)
    for r in backlog.rows:
        group = members[r.category]
        who = {f.customer_id for f in group}
        assert r.feedback == len(group) and r.customers == len(who)
        assert r.urgency == pytest.approx(sum(weights.of(f) for f in group) / len(group))
        assert r.frequency == pytest.approx(len(who) / len(all_customers))
        if values:
            share = sum(values[c] for c in who) / total_value
            assert r.value_share == pytest.approx(share)
            assert r.importance == pytest.approx((r.frequency + share) / 2)
        else:
            assert r.value_share is None and r.importance == pytest.approx(r.frequency)
        assert r.priority == pytest.approx(r.urgency * r.importance)
        assert set(r.examples) <= {f.id for f in group} and len(r.examples) == min(3, len(group))
    keys = [(-r.priority, -r.feedback, r.category) for r in backlog.rows]
    assert keys == sorted(keys)


def test_urgency_components_and_examples() -> None:
    items = [
        fb(0, "praise", "refund was quick", scores={"nps": 10}, day=0),
        fb(1, "praise", "refund please", scores={"csat": 1}, day=1),  # negative score: urgent
        fb(2, "suggestion", "refund option", day=2),
        fb(3, "complaint", "refund!", day=3),
    ]
    backlog = needs_backlog(items, RULES)
    row = backlog.row("faster_refunds")
    assert row.urgency == pytest.approx((0 + 1 + 0.25 + 1) / 4)
    assert row.examples == ("f3", "f1", "f2")  # most urgent, then latest
    gentle = needs_backlog(items, RULES, urgency=UrgencyWeights(negative_score=0.0))
    assert gentle.row("faster_refunds").urgency == pytest.approx((0 + 0 + 0.25 + 1) / 4)
    with pytest.raises(NotFoundError):
        backlog.row("teleportation")


def test_value_weighs_importance() -> None:
    items = [
        fb(0, "complaint", "refund", customer=1),
        fb(1, "complaint", "refund", customer=1),
        fb(2, "suggestion", "dark mode", customer=2),
        fb(3, "suggestion", "dark mode", customer=3),
    ]
    values = {"c1": Decimal("900"), "c2": 50, "c3": 50.0, "c9": 1}
    backlog = needs_backlog(items, RULES, values=values)
    refunds, dark = backlog.row("faster_refunds"), backlog.row("dark_mode")
    assert refunds.value_share == pytest.approx(0.9) and dark.value_share == pytest.approx(0.1)
    assert refunds.frequency == pytest.approx(1 / 3) and dark.frequency == pytest.approx(2 / 3)
    value_only = needs_backlog(
        items, RULES, values=values, importance=ImportanceWeights(frequency=0, value=1)
    )
    assert value_only.row("faster_refunds").importance == pytest.approx(0.9)
    zero = needs_backlog(items, RULES, values={"c1": 0, "c2": 0, "c3": 0})
    assert zero.row("dark_mode").value_share is None


def test_missing_and_bad_values() -> None:
    items = [fb(0, "complaint", "refund", customer=1), fb(1, "complaint", "refund", customer=2)]
    with pytest.raises(NotFoundError) as info:
        needs_backlog(items, RULES, values={"c1": 10})
    assert info.value.key == "c2"
    filled = needs_backlog(items, RULES, values={"c1": 10}, missing_value=30)
    assert filled.row("faster_refunds").value_share == pytest.approx(1.0)
    for bad in (-1, float("nan"), "10", True):
        with pytest.raises(ValidationError):
            needs_backlog(items, RULES, values={"c1": bad, "c2": 1})
    with pytest.raises(ValidationError):
        needs_backlog(items, RULES, values=[("c1", 1)])  # type: ignore[arg-type]


def test_log_input_needs_texts_for_keyword_rules() -> None:
    items = [fb(0, "complaint", "refund"), fb(1, "inquiry", "hi")]
    log = FeedbackLog.from_feedback(items)
    with pytest.raises(ValidationError, match="texts"):
        needs_backlog(log, RULES)
    with pytest.raises(ValidationError, match="one text per"):
        needs_backlog(log, RULES, texts=["refund"])
    with pytest.raises(ValidationError):
        needs_backlog(log, RULES, texts=["refund", 3])  # type: ignore[list-item]
    from_log = needs_backlog(log, RULES, texts=np.array(["refund", "hi"]))
    assert from_log.to_dict() == needs_backlog(items, RULES).to_dict()
    themes_only = needs_backlog(log, [NeedRule("answers", kinds=["inquiry"])])
    assert [r.category for r in themes_only.rows] == ["answers"]


def test_empty_inputs_and_report() -> None:
    empty = needs_backlog([], RULES)
    assert (empty.rows, empty.feedback, empty.unclassified) == ((), 0, 0)
    none_match = needs_backlog([fb(0, "praise", "lovely")], RULES)
    assert none_match.rows == () and none_match.unclassified == 1
    backlog = needs_backlog([fb(0, "complaint", "refund"), fb(1, "inquiry", "?")], RULES)
    data = backlog.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert [r.category for r in backlog.top(1)] == ["faster_refunds"]
    html = backlog._repr_html_()
    assert "Needs backlog" in html and "faster_refunds" in html
    with pytest.raises(ValidationError):
        backlog.top(0)
    with pytest.raises(ValidationError):
        needs_backlog("refund", RULES)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        UrgencyWeights(complaint=2)
    with pytest.raises(ValidationError):
        ImportanceWeights(frequency=0, value=0)
