"""The numpy mask: same answers as matches, for any block size and int width; memo; errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.columnar import CustomerFrame, EventLog, TransactionLog
from crmcore.datasets import synthetic
from crmcore.kernel.errors import RuleTypeError, ValidationError
from crmcore.segments.evaluate import matches
from crmcore.segments.evaluate_batch import MaskEvaluator, frame_schema, mask
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
    Predicate,
    TextMatch,
    Within,
)
from crmcore.testing.rule_strategies import EVENT_KINDS, rules

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


# --- blocks, widths, memo -------------------------------------------------------------------

SYNTHETIC_SCHEMA = frame_schema(FRAME, EVENT_KINDS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rules(SYNTHETIC_SCHEMA, max_leaves=6),
    st.sampled_from([1, 2, 7, 64, 133, len(RECORDS) - 1, len(RECORDS) + 1])
    | st.integers(1, len(RECORDS)),
)
def test_blocked_equals_unblocked_for_any_block_size(rule: Predicate, block: int) -> None:
    """Any block size, dividing the rows or not, gives the one-block answer (and matches')."""
    logs = {"transactions": LOG, "events": EVENTS, "schema": SYNTHETIC_SCHEMA}
    whole = MaskEvaluator(FRAME, AS_OF, block_size=len(FRAME), **logs).mask(rule)  # type: ignore[arg-type]
    blocked = MaskEvaluator(FRAME, AS_OF, block_size=block, **logs).mask(rule)  # type: ignore[arg-type]
    assert blocked.tolist() == whole.tolist()
    sample = range(0, len(RECORDS), 37)
    expected = [
        matches(
            rule,
            RECORDS[i],
            AS_OF,
            purchases=BOUGHT.get(str(RECORDS[i]["id"]), []),  # type: ignore[arg-type]
            events=DID.get(str(RECORDS[i]["id"]), []),  # type: ignore[arg-type]
            schema=SYNTHETIC_SCHEMA,
        )
        for i in sample
    ]
    assert [bool(whole[i]) for i in sample] == expected


def _wide_and_narrow_frame() -> tuple[CustomerFrame, list[dict[str, object]]]:
    """Int attributes whose values need 8, 16, 32 and 64 bits, some missing."""
    base = RECORDS[0]
    records: list[dict[str, object]] = []
    for i in range(40):
        missing = i % 9 == 4
        records.append(
            {
                **base,
                "id": f"w{i}",
                "attr.tiny": None if missing else i % 7 - 3,
                "attr.short": None if missing else (i - 20) * 1_000,
                "attr.int": None if i % 11 == 5 else (i - 20) * 100_000,
                "attr.long": None if missing else (i - 20) * 2**40,
            }
        )
    return CustomerFrame.from_records(records), records


def test_int_columns_of_every_width_match_the_object_path() -> None:
    frame, records = _wide_and_narrow_frame()
    widths = {frame.column(n).values.dtype.itemsize for n in frame.names if n.startswith("attr.")}
    assert len(widths) >= 2  # the frames keep narrow ints: more than one width is tested
    tests: list[Predicate] = []
    for name, scale in (("tiny", 1), ("short", 1_000), ("int", 100_000), ("long", 2**40)):
        field = Field(f"attr.{name}")
        for bound in (-3 * scale, 0, 2.5 * scale, 2 * scale, 10**15, -(10**15), 0.5):
            for op in ("=", "!=", "<", "<=", ">", ">="):
                tests.append(Compare(field, op, Literal(bound)))  # type: ignore[arg-type]
        values = tuple(Literal(v) for v in (-3 * scale, 0, 1 * scale, 2.5, 10**15, 300))
        tests += [InList(field, values), InList(field, values, negated=True)]
        tests += [IsNull(field), IsNull(field, negated=True)]
        tests += [Not(InList(field, (Literal(0),))), Not(Compare(field, ">", Literal(0)))]
    schema = frame_schema(frame)
    for block in (3, 64):
        evaluator = MaskEvaluator(frame, AS_OF, block_size=block)
        for rule in tests:
            expected = [matches(rule, r, AS_OF, schema=schema) for r in records]
            assert evaluator.mask(rule).tolist() == expected, (rule, block)


def test_shared_subtrees_are_computed_once_and_kept() -> None:
    evaluator = MaskEvaluator(FRAME, AS_OF, block_size=100)
    cn = Compare(Field("country"), "=", Literal("CN"))
    rich = Compare(Field("total_spent"), ">", Literal(100))
    first = evaluator.mask(And((cn, rich)))
    assert evaluator.cached == 3  # the and, cn, rich: evaluated block by block, not kept
    second = evaluator.mask(Or((cn, rich)))  # met again: cn and rich get masks of their own
    kept = evaluator.mask(cn)
    assert evaluator.mask(cn) is kept and not kept.flags.writeable
    assert evaluator.cached == 4
    assert (first == (kept & evaluator.mask(rich))).all()
    assert (second == (kept | evaluator.mask(rich))).all()
    twice = And((cn, Or((cn, rich))))  # a sub-tree twice in one rule
    assert evaluator.mask(twice).tolist() == kept.tolist()  # cn and (cn or rich) is cn


@pytest.mark.parametrize("bad", [0, -1, True, 2.5, "64"])
def test_block_size_must_be_a_positive_int(bad: object) -> None:
    with pytest.raises(ValidationError, match="block_size"):
        MaskEvaluator(FRAME, AS_OF, block_size=bad)  # type: ignore[arg-type]


def test_a_rule_decided_early_in_every_block_is_still_exact() -> None:
    """``and`` stops on an all-false block, ``or`` on an all-true one, gathers sparse rows."""
    never = Compare(Field("total_spent"), "<", Literal(-1))
    always = Not(never)
    rare = Compare(Field("total_spent"), ">=", Literal(float(np.nanquantile(
        FRAME.column("total_spent").values, 0.98))))  # fmt: skip
    text = TextMatch(Field("name"), "contains", "a", ignore_case=True)
    for rule in (
        And((never, text)),
        Or((always, text)),
        And((rare, text, InList(Field("country"), (Literal("CN"), Literal("US"))))),
        Or((Not(rare), text)),
    ):
        for block in (1, 5, 64, 1000):
            got = MaskEvaluator(FRAME, AS_OF, block_size=block).mask(rule)
            assert got.tolist() == [matches(rule, r, AS_OF) for r in RECORDS]
