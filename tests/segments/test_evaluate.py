"""The one-customer evaluator: null semantics, relative times, computed fields, aggregates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from crmcore.columnar import customer_record
from crmcore.kernel.clock import to_micros
from crmcore.kernel.errors import RuleTypeError, ValidationError
from crmcore.segments.evaluate import matches, record_schema
from crmcore.segments.resolved import Const, RAnd, RCompare, RNull, resolve
from crmcore.segments.rules import (
    Aggregate,
    And,
    Between,
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
    RuleSchema,
    TextMatch,
    TimeCompare,
    Within,
)
from crmcore.testing.factories import make_customer, make_interaction, make_purchase

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)


def record(**values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "c-1",
        "name": "Ann",
        "created_at": datetime(2025, 3, 1, tzinfo=UTC),
        "purchase_count": 0,
        "items_purchased": 0,
        "total_spent": 0.0,
        "tags": frozenset(),
    }
    base.update(values)
    return base


def test_comparison_on_missing_value_is_false_and_not_is_the_complement() -> None:
    cn = Compare(Field("country"), "=", Literal("CN"))
    not_cn = Compare(Field("country"), "!=", Literal("CN"))
    missing = record(country=None)
    assert not matches(cn, missing, AS_OF)
    assert not matches(not_cn, missing, AS_OF)
    assert matches(Not(cn), missing, AS_OF)
    assert matches(not_cn, record(country="TW"), AS_OF)


def test_in_list_and_not_in_are_false_on_missing() -> None:
    values = (Literal("CN"), Literal("TW"))
    assert not matches(InList(Field("country"), values), record(), AS_OF)
    assert not matches(InList(Field("country"), values, negated=True), record(), AS_OF)
    assert matches(InList(Field("country"), values, negated=True), record(country="US"), AS_OF)


def test_between_is_inclusive_and_not_between_false_on_missing() -> None:
    rule = Between(Field("total_spent"), Literal(10), Literal(20))
    assert matches(rule, record(total_spent=10.0), AS_OF)
    assert matches(rule, record(total_spent=20.0), AS_OF)
    assert not matches(rule, record(total_spent=20.5), AS_OF)
    outside = Between(Field("attr.score"), Literal(10), Literal(20), negated=True)
    schema = RuleSchema.default().with_attributes({"score": "number"})
    assert not matches(outside, record(), AS_OF, schema=schema)
    assert matches(outside, record(**{"attr.score": 5}), AS_OF, schema=schema)


def test_is_null_and_tags_are_never_missing() -> None:
    assert matches(IsNull(Field("email")), record(), AS_OF)
    assert not matches(IsNull(Field("email"), negated=True), record(), AS_OF)
    assert not matches(IsNull(Field("tags")), record(tags=frozenset()), AS_OF)
    assert matches(IsNull(Field("tags"), negated=True), record(), AS_OF)
    assert matches(Not(HasTag("vip")), record(), AS_OF)
    assert matches(HasTag("vip"), record(tags=frozenset({"vip"})), AS_OF)
    assert matches(HasTag("music", Field("interests")), record(interests={"music"}), AS_OF)


def test_nan_number_is_missing() -> None:
    rule = Compare(Field("total_spent"), "!=", Literal(1))
    assert not matches(rule, record(total_spent=float("nan")), AS_OF)


def test_text_match_case_and_empty_text() -> None:
    name = Field("name")
    assert matches(TextMatch(name, "contains", "nn"), record(), AS_OF)
    assert not matches(TextMatch(name, "starts_with", "an"), record(), AS_OF)
    assert matches(TextMatch(name, "starts_with", "an", ignore_case=True), record(), AS_OF)
    assert matches(TextMatch(name, "ends_with", "NN", ignore_case=True), record(), AS_OF)
    assert matches(TextMatch(Field("email"), "contains", ""), record(email=""), AS_OF)
    assert not matches(TextMatch(Field("email"), "contains", ""), record(), AS_OF)
    assert matches(
        TextMatch(name, "contains", "STRASSE", ignore_case=True), record(name="Hauptstraße"), AS_OF
    )


def test_within_is_half_open_like_every_window() -> None:
    rule = Within(Field("last_purchase_at"), Duration(7, "days"))
    cutoff = AS_OF - timedelta(days=7)
    assert not matches(rule, record(last_purchase_at=cutoff), AS_OF)
    assert matches(rule, record(last_purchase_at=cutoff + timedelta(microseconds=1)), AS_OF)
    assert matches(rule, record(last_purchase_at=AS_OF), AS_OF)
    assert not matches(Within(Field("last_purchase_at"), Duration(0, "days")), record(), AS_OF)
    assert not matches(rule, record(last_purchase_at=AS_OF + timedelta(microseconds=1)), AS_OF)
    assert not matches(rule, record(), AS_OF)


def test_time_compare_is_strict_and_dates_mean_midnight_utc() -> None:
    field = Field("created_at")
    midnight = datetime(2025, 3, 1, tzinfo=UTC)
    assert not matches(TimeCompare(field, "before", Literal(date(2025, 3, 1))), record(), AS_OF)
    assert matches(TimeCompare(field, "before", Literal(date(2025, 3, 2))), record(), AS_OF)
    assert not matches(TimeCompare(field, "after", Literal(midnight)), record(), AS_OF)
    a_year = TimeCompare(field, "after", Duration(1, "years"))
    assert not matches(a_year, record(), AS_OF)  # exactly a year ago: not after
    assert matches(a_year, record(created_at=midnight + timedelta(seconds=1)), AS_OF)


def test_date_field_against_datetime_bound() -> None:
    birth = Field("birth_date")
    noon = Literal(datetime(2000, 1, 1, 12, tzinfo=UTC))
    on_day = record(birth_date=date(2000, 1, 1))
    assert matches(Compare(birth, "<", noon), on_day, AS_OF)  # midnight < noon
    assert not matches(Compare(birth, ">", noon), on_day, AS_OF)
    assert not matches(Compare(birth, "=", noon), on_day, AS_OF)
    assert matches(Compare(birth, "!=", noon), on_day, AS_OF)
    assert not matches(Compare(birth, "!=", noon), record(), AS_OF)
    midnight = Literal(datetime(2000, 1, 1, tzinfo=UTC))
    assert matches(Compare(birth, "=", midnight), on_day, AS_OF)
    assert matches(Compare(birth, ">=", midnight), on_day, AS_OF)


def test_resolved_date_bounds() -> None:
    schema = RuleSchema.default()
    noon = Literal(datetime(2000, 1, 1, 12, tzinfo=UTC))
    resolved = resolve(Compare(Field("birth_date"), ">=", noon), schema, AS_OF)
    assert resolved == RCompare(resolved.ref, ">=", date(2000, 1, 2))  # type: ignore[union-attr]
    assert resolve(Compare(Field("birth_date"), "=", noon), schema, AS_OF) == Const(False)


def test_computed_fields() -> None:
    r = record(
        birth_date=date(2000, 2, 29),
        total_spent=90.0,
        purchase_count=3,
        last_purchase_at=AS_OF - timedelta(days=1, hours=12),
    )
    at = datetime(2026, 2, 28, 23, tzinfo=UTC)
    assert not matches(Compare(Field("age"), ">=", Literal(26)), r, at)
    assert matches(Compare(Field("age"), "=", Literal(26)), r, AS_OF)  # a year older on 1 March
    assert matches(Compare(Field("average_order_value"), "=", Literal(30)), r, AS_OF)
    assert matches(Compare(Field("days_since_last_purchase"), "=", Literal(1.5)), r, AS_OF)
    assert matches(Compare(Field("tenure_days"), "=", Literal(365)), r, AS_OF)
    assert matches(IsNull(Field("average_order_value")), record(), AS_OF)
    assert matches(IsNull(Field("age")), record(), AS_OF)


def test_aggregates_over_purchases_and_events() -> None:
    c = make_customer("c-9")
    bought = [
        make_purchase("c-9", amount="10", at=AS_OF, days=-1, items=2),
        make_purchase("c-9", amount="30", at=AS_OF, days=-40),
        make_purchase("c-9", amount="1000", at=AS_OF, days=1),  # after as_of: never counts
        make_purchase("other", amount="500", at=AS_OF, days=-1),  # someone else's
    ]
    did = [make_interaction("c-9", kind="cart_abandoned", at=AS_OF, days=-3)]
    month = Duration(30, "days")
    count = Aggregate("count", "purchases", window=month)
    spent = Aggregate("sum", "purchases", column="amount")
    avg = Aggregate("avg", "purchases", column="amount", window=Duration(0, "days"))
    kw = {"purchases": bought, "events": did}
    assert matches(Compare(count, "=", Literal(1)), c, AS_OF, **kw)  # type: ignore[arg-type]
    assert matches(Compare(spent, "=", Literal(40)), c, AS_OF, **kw)  # type: ignore[arg-type]
    assert matches(IsNull(avg), c, AS_OF, **kw)  # type: ignore[arg-type]
    max_items = Compare(Aggregate("max", "purchases", column="items"), "=", Literal(2))
    assert matches(max_items, c, AS_OF, **kw)  # type: ignore[arg-type]
    assert matches(Did("cart_abandoned", Duration(7, "days")), c, AS_OF, **kw)  # type: ignore[arg-type]
    assert not matches(Did("cart_abandoned", Duration(3, "days")), c, AS_OF, **kw)  # type: ignore[arg-type]
    assert not matches(Did("email_open"), c, AS_OF, **kw)  # type: ignore[arg-type]
    assert matches(Compare(spent, "=", Literal(0)), c, AS_OF)  # no rows: sum is 0


def test_log_records_work_like_objects() -> None:
    rows = [{"customer_id": "c-1", "at": AS_OF - timedelta(days=1), "amount": 5.0}]
    events = [{"customer_id": "c-1", "at": AS_OF, "kind": "email_open"}]
    rule = And(
        (
            Compare(Aggregate("sum", "purchases", column="amount"), ">", Literal(4)),
            Did("email_open", Duration(1, "days")),
        )
    )
    assert not matches(rule, record(), AS_OF, purchases=rows)
    assert matches(rule, record(), AS_OF, purchases=rows, events=events)


def test_customer_objects_are_flattened() -> None:
    c = make_customer("c-2", country="CN", tags=frozenset({"vip"}))
    assert matches(And((HasTag("vip"), Compare(Field("country"), "=", Literal("CN")))), c, AS_OF)
    assert matches(Or((HasTag("x"), IsNull(Field("birth_date")))), customer_record(c), AS_OF)


def test_attributes_are_typed_from_the_record() -> None:
    r = record(**{"attr.plan": "pro", "attr.score": Decimal("2.5")})
    assert record_schema(r).fields["attr.score"] == "number"
    assert matches(Compare(Field("attr.score"), ">", Literal(2)), r, AS_OF)
    assert matches(Compare(Field("attr.plan"), "=", Literal("pro")), r, AS_OF)


@pytest.mark.parametrize(
    "rule",
    [
        Compare(Field("nope"), "=", Literal(1)),
        Compare(Field("country"), "=", Literal(1)),
        Compare(Field("total_spent"), "=", Literal("1")),
        Compare(Field("tags"), "=", Literal("vip")),
        HasTag("vip", Field("country")),
        TextMatch(Field("total_spent"), "contains", "1"),
        Within(Field("country"), Duration(1, "days")),
        Compare(Aggregate("sum", "purchases", column="order_id"), ">", Literal(1)),
        InList(Field("birth_date"), (Literal(datetime(2000, 1, 1, tzinfo=UTC)),)),
    ],
)
def test_ill_typed_rules_raise_rule_type_error(rule: object) -> None:
    with pytest.raises(RuleTypeError):
        matches(rule, record(), AS_OF)  # type: ignore[arg-type]


def test_unknown_event_kind_is_rejected_when_kinds_are_known() -> None:
    schema = RuleSchema.default(event_kinds=["email_open"])
    with pytest.raises(RuleTypeError):
        resolve(Did("cart"), schema, AS_OF)


def test_bad_inputs_raise_validation_error() -> None:
    with pytest.raises(ValidationError):
        matches(HasTag("x"), record(), datetime(2026, 1, 1))  # naive as_of
    with pytest.raises(ValidationError):
        matches(HasTag("x"), ["not", "a", "record"], AS_OF)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        matches(HasTag("x"), record(tags="vip"), AS_OF)


def test_resolution_rewrites_sugar() -> None:
    schema = RuleSchema.default()
    within = resolve(Within(Field("created_at"), Duration(1, "days")), schema, AS_OF)
    assert isinstance(within, RAnd)
    assert within.items[1] == RCompare(within.items[1].ref, "<=", to_micros(AS_OF))  # type: ignore[union-attr]
    assert resolve(IsNull(Aggregate("count", "purchases")), schema, AS_OF) == Const(False)
    assert isinstance(
        resolve(IsNull(Aggregate("min", "purchases", column="amount")), schema, AS_OF), RNull
    )
    assert resolve(Compare(Field("country"), "=", Literal(None)), schema, AS_OF) == Const(False)
