"""The numpy mask: same answers as matches, read-only results, memoisation, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from crmcore.columnar import CustomerFrame, EventLog, TransactionLog
from crmcore.datasets import synthetic
from crmcore.kernel.errors import RuleTypeError, ValidationError
from crmcore.segments.evaluate import matches
from crmcore.segments.evaluate_batch import MaskEvaluator, mask
from crmcore.segments.rules import (
    Aggregate,
    And,
    Compare,
    Did,
    Duration,
    Field,
    HasTag,
    InList,
    IsNull,
    Literal,
    Not,
    Or,
    TextMatch,
    Within,
)

DATA = synthetic.generate(400, seed=11)
FRAME = CustomerFrame.from_customers(DATA.customers)
LOG = TransactionLog.from_purchases(DATA.purchases)
EVENTS = EventLog.from_interactions(DATA.interactions)
AS_OF = DATA.end
RECORDS = FRAME.to_records()
BOUGHT: dict[str, list[object]] = {}
for _p in DATA.purchases:
    BOUGHT.setdefault(_p.customer_id, []).append(_p)
DID: dict[str, list[object]] = {}
for _i in DATA.interactions:
    DID.setdefault(_i.customer_id, []).append(_i)

RULES = [
    Compare(Field("total_spent"), ">=", Literal(300)),
    InList(Field("country"), (Literal("CN"), Literal("TW"))),
    Not(Compare(Field("country"), "=", Literal("US"))),
    And(
        (
            Within(Field("last_purchase_at"), Duration(90, "days")),
            Compare(Field("age"), ">=", Literal(30)),
        )
    ),
    Or((HasTag("frequent_traveller", Field("lifestyle")), IsNull(Field("birth_date")))),
    TextMatch(Field("name"), "contains", "LEE", ignore_case=True),
    TextMatch(Field("city"), "starts_with", "S"),
    Compare(Aggregate("count", "purchases", window=Duration(1, "years")), ">=", Literal(3)),
    Compare(Aggregate("avg", "purchases", column="amount"), ">", Literal(40)),
    Compare(Aggregate("max", "purchases", column="items"), ">=", Literal(3)),
    Did("email_open", Duration(6, "months")),
    Compare(Field("attr.acquisition_channel"), "=", Literal("social")),
    Compare(Field("days_since_last_purchase"), "<", Literal(60)),
    Compare(Field("average_order_value"), ">", Literal(25)),
]


@pytest.mark.parametrize("rule", RULES, ids=range(len(RULES)))
def test_mask_equals_matches_on_synthetic_data(rule: object) -> None:
    got = mask(rule, FRAME, AS_OF, transactions=LOG, events=EVENTS)  # type: ignore[arg-type]
    expected = [
        matches(
            rule,  # type: ignore[arg-type]
            r,
            AS_OF,
            purchases=BOUGHT.get(str(r["id"]), []),  # type: ignore[arg-type]
            events=DID.get(str(r["id"]), []),  # type: ignore[arg-type]
        )
        for r in RECORDS
    ]
    assert got.tolist() == expected


def test_the_synthetic_rules_are_not_trivial() -> None:
    sizes = [int(mask(r, FRAME, AS_OF, transactions=LOG, events=EVENTS).sum()) for r in RULES]
    assert all(0 < s < len(FRAME) for s in sizes[:3])
    assert sum(1 for s in sizes if 0 < s < len(FRAME)) >= len(RULES) - 2


def test_result_is_read_only_bool() -> None:
    m = mask(HasTag("vip"), FRAME, AS_OF)
    assert m.dtype == np.bool_ and m.shape == (len(FRAME),)
    with pytest.raises(ValueError, match="read-only"):
        m[0] = True


def test_missing_log_is_a_clear_error() -> None:
    rule = Compare(Aggregate("count", "purchases"), ">", Literal(1))
    with pytest.raises(ValidationError, match="transactions="):
        mask(rule, FRAME, AS_OF)
    with pytest.raises(ValidationError, match="events="):
        mask(Did("email_open"), FRAME, AS_OF, transactions=LOG)


def test_unknown_field_is_rule_type_error() -> None:
    with pytest.raises(RuleTypeError):
        mask(Compare(Field("attr.nope"), "=", Literal(1)), FRAME, AS_OF)


def test_wrong_frame_type() -> None:
    with pytest.raises(ValidationError):
        mask(HasTag("vip"), RECORDS, AS_OF)  # type: ignore[arg-type]


def test_evaluator_memoises_shared_subtrees() -> None:
    evaluator = MaskEvaluator(FRAME, AS_OF)
    cn = Compare(Field("country"), "=", Literal("CN"))
    rich = Compare(Field("total_spent"), ">", Literal(100))
    evaluator.mask(And((cn, rich)))
    before = evaluator.cached
    evaluator.mask(Or((cn, rich)))
    assert evaluator.cached == before + 1  # only the new Or node


def test_unicode_case_folding_in_numpy() -> None:
    base = RECORDS[0]
    records = [
        {**base, "id": "a", "name": "Hauptstraße", "email": None},
        {**base, "id": "b", "name": "HAUPTSTRASSE", "email": None},
        {**base, "id": "c", "name": "ΣΊΣΥΦΟΣ", "email": None},
        {**base, "id": "d", "name": "plain", "email": None},
    ]
    frame = CustomerFrame.from_records(records)
    rule = TextMatch(Field("name"), "contains", "strasse", ignore_case=True)
    assert mask(rule, frame, AS_OF).tolist() == [True, True, False, False]
    sigma = TextMatch(Field("name"), "starts_with", "σίσυφος", ignore_case=True)
    assert mask(sigma, frame, AS_OF).tolist() == [False, False, True, False]
    assert [matches(sigma, r, AS_OF) for r in records] == [False, False, True, False]


def test_future_birth_date_gives_negative_age_not_an_error() -> None:
    base = RECORDS[0]
    frame = CustomerFrame.from_records([{**base, "birth_date": AS_OF.date() + timedelta(days=400)}])
    rule = Compare(Field("age"), "<", Literal(0))
    assert mask(rule, frame, AS_OF).tolist() == [True]
    assert matches(rule, frame.to_records()[0], AS_OF)


def test_empty_frame() -> None:
    frame = FRAME.take(np.empty(0, dtype=np.int64))
    assert mask(HasTag("vip"), frame, AS_OF).shape == (0,)


def test_age_matches_frame_age_at() -> None:
    ages = FRAME.age_at(AS_OF.date())
    rule = Compare(Field("age"), ">=", Literal(40))
    assert mask(rule, FRAME, AS_OF).tolist() == (np.nan_to_num(ages, nan=-1) >= 40).tolist()
    assert date(2000, 1, 1) < AS_OF.date()


def test_as_of_must_be_aware() -> None:
    with pytest.raises(ValidationError):
        mask(HasTag("vip"), FRAME, datetime(2026, 1, 1))
    assert mask(HasTag("vip"), FRAME, datetime(2026, 1, 1, tzinfo=UTC)).dtype == np.bool_


def test_category_lookup_paths_agree_with_matches() -> None:
    base = RECORDS[0]
    countries = [None, "AU", "BR", "CN", "DE", "FR", "GB", "IN", "JP", "SG", "TW", "US"]
    records = [{**base, "id": f"x{i}", "country": c} for i, c in enumerate(countries)]
    frame = CustomerFrame.from_records(records)
    for k in (1, 3, 5, 6, 8, 10, 11):
        values = tuple(Literal(c) for c in countries[1 : k + 1])
        for negated in (False, True):
            rule = InList(Field("country"), values, negated)
            expected = [matches(rule, r, AS_OF) for r in records]
            assert mask(rule, frame, AS_OF).tolist() == expected
        for op in ("<", ">=", "!="):
            cmp = Compare(Field("country"), op, Literal(countries[k]))  # type: ignore[arg-type]
            assert mask(cmp, frame, AS_OF).tolist() == [matches(cmp, r, AS_OF) for r in records]
