"""Segments, segment sets, membership and diffs with their events."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.columnar import CustomerFrame, EventLog, TransactionLog
from crmcore.datasets import synthetic
from crmcore.kernel.errors import NotFoundError, RuleTypeError, ValidationError
from crmcore.kernel.events import event_from_json, event_kinds
from crmcore.kernel.reports import Report
from crmcore.segments.evaluate_batch import mask
from crmcore.segments.events import SegmentEntered, SegmentExited
from crmcore.segments.rules import (
    Aggregate,
    And,
    Compare,
    Duration,
    Field,
    HasTag,
    Literal,
    Not,
    Or,
    Predicate,
    Within,
)
from crmcore.segments.segment import MembershipDiff, Segment, SegmentMembership, SegmentSet, diff
from crmcore.testing.rule_strategies import RuleScenario, rule_schema, rules, scenarios

DATA = synthetic.generate(300, seed=5)
FRAME = CustomerFrame.from_customers(DATA.customers)
LOG = TransactionLog.from_purchases(DATA.purchases)
EVENTS = EventLog.from_interactions(DATA.interactions)
AS_OF = DATA.end

CN = Compare(Field("country"), "=", Literal("CN"))
RICH = Compare(Field("total_spent"), ">=", Literal(200))
RECENT = Within(Field("last_purchase_at"), Duration(90, "days"))
SEGMENTS = SegmentSet(
    [
        Segment("cn_rich", And((CN, RICH)), "big spenders in China"),
        Segment("cn_or_rich", Or((CN, RICH))),
        Segment("not_cn", Not(CN)),
        Segment("recent", RECENT),
        Segment("frequent", Compare(Aggregate("count", "purchases"), ">=", Literal(5))),
    ]
)


def test_membership_equals_single_masks() -> None:
    membership = SEGMENTS.evaluate(FRAME, AS_OF, transactions=LOG, events=EVENTS)
    for segment in SEGMENTS:
        expected = mask(segment.rule, FRAME, AS_OF, transactions=LOG, events=EVENTS)
        assert np.array_equal(membership.mask(segment.name), expected)
        assert membership.size(segment.name) == int(expected.sum())
        assert membership.members(segment.name) == FRAME.ids[expected].tolist()
    assert membership.sizes["cn_rich"] <= membership.sizes["cn_or_rich"]
    assert membership.sizes["not_cn"] + int(mask(CN, FRAME, AS_OF).sum()) == len(FRAME)


def test_shared_predicates_are_evaluated_once() -> None:
    membership = SEGMENTS.evaluate(FRAME, AS_OF, transactions=LOG)
    # distinct nodes: CN, RICH, And, Or, Not (5), RECENT (>=, <=, and: 3), frequent (1)
    assert membership.predicates == 9


def test_segments_of_one_customer_match_the_object_path() -> None:
    membership = SEGMENTS.evaluate(FRAME, AS_OF, transactions=LOG)
    by_customer = {c.id: c for c in DATA.customers}
    bought: dict[str, list[object]] = {}
    for p in DATA.purchases:
        bought.setdefault(p.customer_id, []).append(p)
    for cid in FRAME.ids[:40].tolist():
        names = SEGMENTS.matching(by_customer[cid], AS_OF, purchases=bought.get(cid, []))  # type: ignore[arg-type]
        assert membership.segments_of(cid) == names
    with pytest.raises(NotFoundError):
        membership.segments_of("nobody")


def test_type_errors_surface_before_any_mask() -> None:
    bad = SegmentSet([Segment("ok", CN), Segment("bad", Compare(Field("nope"), "=", Literal(1)))])
    with pytest.raises(RuleTypeError):
        bad.evaluate(FRAME, AS_OF)


def test_segment_validation() -> None:
    with pytest.raises(ValidationError):
        Segment("", CN)
    with pytest.raises(ValidationError):
        Segment(" padded", CN)
    with pytest.raises(ValidationError):
        Segment("x", "country = 'CN'")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        SegmentSet([Segment("a", CN), Segment("a", RICH)])
    assert SEGMENTS["recent"].rule == RECENT
    with pytest.raises(NotFoundError):
        SEGMENTS["missing"]
    assert SEGMENTS.names[0] == "cn_rich" and len(SEGMENTS) == 5


def test_diff_entered_exited_and_events() -> None:
    before = SEGMENTS.evaluate(FRAME, AS_OF - timedelta(days=60), transactions=LOG)
    after = SEGMENTS.evaluate(FRAME, AS_OF, transactions=LOG)
    change = diff(before, after)
    for name in SEGMENTS.names:
        old = set(before.members(name))
        new = set(after.members(name))
        assert set(change.entered[name]) == new - old
        assert set(change.exited[name]) == old - new
        assert list(change.entered[name]) == sorted(change.entered[name])
    assert change.changed == len(change.events) > 0
    entered = [e for e in change.events if isinstance(e, SegmentEntered)]
    exited = [e for e in change.events if isinstance(e, SegmentExited)]
    assert len(entered) == sum(map(len, change.entered.values()))
    assert len(exited) == sum(map(len, change.exited.values()))
    event = change.events[0]
    assert event.occurred_at == AS_OF
    assert set(event.payload()) == {"aggregate_id", "occurred_at", "segment", "as_of"}
    assert event_from_json(event.kind, event.payload()) == event


def test_event_kinds_registered() -> None:
    kinds = event_kinds()
    assert kinds["segment.entered"] is SegmentEntered
    assert kinds["segment.exited"] is SegmentExited


def test_diff_across_different_customers_and_segments() -> None:
    half = FRAME.take(np.arange(150))
    other = FRAME.take(np.arange(100, 300))
    first = SegmentSet([Segment("cn", CN), Segment("gone", RICH)]).evaluate(half, AS_OF)
    second = SegmentSet([Segment("cn", CN), Segment("new", RICH)]).evaluate(other, AS_OF)
    change = diff(first, second)
    assert set(change.entered) == {"cn", "new", "gone"}
    cn_first, cn_second = set(first.members("cn")), set(second.members("cn"))
    assert set(change.entered["cn"]) == cn_second - cn_first
    assert set(change.exited["cn"]) == cn_first - cn_second
    assert change.exited["gone"] == tuple(sorted(first.members("gone")))
    assert change.entered["new"] == tuple(sorted(second.members("new")))
    assert diff(first, first).changed == 0


def test_reports() -> None:
    membership = SEGMENTS.evaluate(FRAME, AS_OF, transactions=LOG)
    change = diff(
        SEGMENTS.evaluate(FRAME, AS_OF - timedelta(days=30), transactions=LOG), membership
    )
    for report in (membership, change):
        assert isinstance(report, Report)
        json.dumps(report.to_dict())
        assert "<table" in report._repr_html_()
    data = membership.to_dict()
    assert data["customers"] == len(FRAME)
    assert [s["name"] for s in data["segments"]] == list(SEGMENTS.names)  # type: ignore[index, union-attr]


def test_membership_is_immutable_and_compares_by_value() -> None:
    a = SEGMENTS.evaluate(FRAME, AS_OF, transactions=LOG)
    b = SEGMENTS.evaluate(FRAME, AS_OF, transactions=LOG)
    assert a == b
    with pytest.raises(ValueError, match="read-only"):
        a.matrix[0, 0] = True
    with pytest.raises(ValidationError):
        SegmentMembership(as_of=AS_OF, names=("x",), ids=a.ids, matrix=a.matrix)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.booleans(), min_size=4, max_size=4), st.lists(st.booleans(), min_size=4, max_size=4)
)
def test_diff_is_set_difference(old: list[bool], new: list[bool]) -> None:
    ids = np.array(["a", "b", "c", "d"])
    before = SegmentMembership(as_of=AS_OF, names=("s",), ids=ids, matrix=np.array([old]))
    after = SegmentMembership(as_of=AS_OF, names=("s",), ids=ids, matrix=np.array([new]))
    change = diff(before, after)
    assert isinstance(change, MembershipDiff)
    assert change.entered["s"] == tuple(
        i for i, o, n in zip("abcd", old, new, strict=True) if n and not o
    )
    assert change.exited["s"] == tuple(
        i for i, o, n in zip("abcd", old, new, strict=True) if o and not n
    )


def test_has_tag_segment_on_synthetic_lifestyle() -> None:
    seg = SegmentSet([Segment("travellers", HasTag("frequent_traveller", Field("lifestyle")))])
    membership = seg.evaluate(FRAME, AS_OF)
    expected = [
        cid
        for cid, r in zip(FRAME.ids.tolist(), FRAME.to_records(), strict=True)
        if "frequent_traveller" in r["lifestyle"]
    ]  # type: ignore[operator]
    assert membership.members("travellers") == expected


@settings(max_examples=40, deadline=None)
@given(st.lists(rules(max_leaves=4), min_size=1, max_size=4), scenarios())
def test_segment_set_equals_separate_masks(
    rule_list: list[Predicate], scenario: RuleScenario
) -> None:
    schema = rule_schema()
    frame = CustomerFrame.from_records(scenario.records)
    logs = {
        "transactions": TransactionLog.from_records(scenario.purchases),
        "events": EventLog.from_records(scenario.events),
    }
    shared = Not(Compare(Field("country"), "=", Literal("CN")))
    segments = SegmentSet([Segment(f"s{i}", And((r, shared))) for i, r in enumerate(rule_list)])
    membership = segments.evaluate(frame, scenario.as_of, schema=schema, **logs)  # type: ignore[arg-type]
    for segment in segments:
        alone = mask(segment.rule, frame, scenario.as_of, schema=schema, **logs)  # type: ignore[arg-type]
        assert np.array_equal(membership.mask(segment.name), alone)
