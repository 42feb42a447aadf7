from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from crmcore.columnar import CUSTOMER_SCHEMA
from crmcore.kernel.errors import ValidationError
from crmcore.segments.resolved import resolve
from crmcore.segments.rules import (
    COMPUTED_FIELDS,
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
    children,
    walk,
)

AS_OF = datetime(2026, 3, 31, 12, tzinfo=UTC)


def test_literal_equality_includes_the_type() -> None:
    assert Literal(1) == Literal(1)
    assert Literal(1) != Literal(True)
    assert Literal(1) != Literal(1.0)
    assert Literal(1) != Literal(Decimal(1))
    assert Literal(date(2026, 1, 1)) != Literal(datetime(2026, 1, 1, tzinfo=UTC))
    assert len({Literal(1), Literal(True), Literal(1.0), Literal(1)}) == 3


def test_datetime_literals_are_canonical_utc() -> None:
    shanghai = timezone(timedelta(hours=8))
    local = Literal(datetime(2026, 1, 1, 8, tzinfo=shanghai))
    assert local == Literal(datetime(2026, 1, 1, tzinfo=UTC))
    assert local.value.tzinfo is UTC  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), Decimal("NaN"), datetime(2026, 1, 1), [1], object()]
)
def test_bad_literals_are_rejected_naming_the_field(value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        Literal(value)  # type: ignore[arg-type]
    assert caught.value.field == "literal"


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (Duration(90, "days"), datetime(2025, 12, 31, 12, tzinfo=UTC)),
        (Duration(2, "weeks"), datetime(2026, 3, 17, 12, tzinfo=UTC)),
        (Duration(1, "months"), datetime(2026, 2, 28, 12, tzinfo=UTC)),
        (Duration(1, "years"), datetime(2025, 3, 31, 12, tzinfo=UTC)),
        (Duration(0, "days"), AS_OF),
    ],
)
def test_durations_resolve_against_as_of(duration: Duration, expected: datetime) -> None:
    assert duration.before(AS_OF) == expected


def test_durations_resolve_in_utc_whatever_the_zone_of_as_of() -> None:
    tokyo = AS_OF.astimezone(timezone(timedelta(hours=9)))
    assert Duration(3, "days").before(tokyo) == Duration(3, "days").before(AS_OF)
    assert Duration(3, "days").before(tokyo).tzinfo is UTC


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Duration(-1, "days"), "duration.amount"),
        (lambda: Duration(True, "days"), "duration.amount"),
        (lambda: Duration(1, "hours"), "duration.unit"),
        (lambda: Compare(Field("a"), "==", Literal(1)), "operator"),  # type: ignore[arg-type]
        (lambda: InList(Field("a"), []), "values"),
        (lambda: And([Compare(Field("a"), "=", Literal(1))]), "items"),
        (lambda: Or([]), "items"),
        (lambda: Field(""), "field"),
        (lambda: TextMatch(Field("a"), "like", "x"), "operator"),  # type: ignore[arg-type]
        (lambda: TimeCompare(Field("a"), "during", Literal(1)), "operator"),  # type: ignore[arg-type]
        (lambda: Aggregate("median", "purchases", "amount"), "aggregate.function"),  # type: ignore[arg-type]
        (lambda: Aggregate("count", "orders"), "aggregate.source"),  # type: ignore[arg-type]
        (lambda: Aggregate("count", "purchases", "amount"), "aggregate.column"),
        (lambda: Aggregate("sum", "purchases"), "aggregate.column"),
        (lambda: Aggregate("sum", "events", "amount"), "aggregate.column"),
        (lambda: Aggregate("count", "purchases", event_kind="x"), "aggregate.event_kind"),
    ],
)
def test_malformed_nodes_raise_validation_errors(build: object, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        build()  # type: ignore[operator]
    assert caught.value.field == field


def test_walk_visits_every_node_depth_first_in_source_order() -> None:
    window = Duration(90, "days")
    rule = And(
        [
            Compare(Aggregate("count", "purchases", window=window), ">=", Literal(3)),
            Not(Or([HasTag("vip"), IsNull(Field("email"))])),
            Between(Field("age"), Literal(18), Literal(30)),
        ]
    )
    kinds = [type(node).__name__ for node in walk(rule)]
    assert kinds == [
        "And",
        "Compare", "Aggregate", "Duration", "Literal",
        "Not", "Or", "HasTag", "Field", "IsNull", "Field",
        "Between", "Field", "Literal", "Literal",
    ]  # fmt: skip


def test_children_cover_every_predicate_type() -> None:
    f = Field("last_purchase_at")
    assert children(Within(f, Duration(7, "days"))) == (f, Duration(7, "days"))
    assert children(TimeCompare(f, "before", Literal(date(2026, 1, 1)))) == (
        f,
        Literal(date(2026, 1, 1)),
    )
    assert children(Did("cart_abandoned")) == ()
    assert children(Did("cart_abandoned", Duration(7, "days"))) == (Duration(7, "days"),)
    assert children(InList(Field("country"), [Literal("CN"), Literal("TW")])) == (
        Field("country"),
        Literal("CN"),
        Literal("TW"),
    )
    assert children(TextMatch(Field("name"), "contains", "lee")) == (Field("name"),)


def test_rules_are_values() -> None:
    def build() -> And:
        return And(
            [
                Compare(Field("total_spent"), ">=", Literal(1000)),
                InList(Field("country"), (Literal("CN"), Literal("TW"))),
                Within(Field("last_purchase_at"), Duration(90, "days")),
            ]
        )

    assert build() == build()
    assert hash(build()) == hash(build())
    assert build() != And([*build().items[:2], Within(Field("created_at"), Duration(90, "days"))])


def test_default_schema_types_every_customer_column_and_computed_field() -> None:
    schema = RuleSchema.default()
    for name in CUSTOMER_SCHEMA.names:
        assert name in schema.fields
    assert schema.fields["country"] == "string"  # categories compare as strings
    assert schema.fields["purchase_count"] == "number"
    assert schema.fields["last_purchase_at"] == "datetime"
    assert schema.fields["birth_date"] == "date"
    assert schema.fields["tags"] == "tags"
    assert schema.fields["consent_email"] == "bool"
    for name in COMPUTED_FIELDS:
        assert schema.fields[name] == "number"
    assert dict(schema.purchase_columns) == {"amount": "number", "items": "number"}
    assert schema.event_kinds is None


def test_schema_with_attributes_and_event_kinds() -> None:
    schema = RuleSchema.default(["cart_abandoned", "email_open"]).with_attributes(
        {"tier": "string", "attr.score": "number"}
    )
    assert schema.fields["attr.tier"] == "string"
    assert schema.fields["attr.score"] == "number"
    assert schema.event_kinds == frozenset({"cart_abandoned", "email_open"})
    assert hash(schema) == hash(schema)


def test_an_out_of_range_datetime_literal_is_a_validation_error() -> None:
    east = timezone(timedelta(hours=5))
    with pytest.raises(ValidationError) as caught:
        Literal(datetime(1, 1, 1, tzinfo=east))
    assert caught.value.field == "literal"


def test_a_duration_reaching_before_year_one_clamps_to_the_earliest_instant() -> None:
    earliest = datetime.min.replace(tzinfo=UTC)
    assert Duration(10**6, "years").before(AS_OF) == earliest
    assert Duration(10**9, "days").before(AS_OF) == earliest


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Compare(Field("a"), "=", 1), "value"),  # type: ignore[arg-type]
        (lambda: Compare("a", "=", Literal(1)), "operand"),  # type: ignore[arg-type]
        (lambda: InList(Field("a"), [1]), "values[0]"),  # type: ignore[list-item]
        (lambda: Between(Field("a"), Literal(1), 2), "high"),  # type: ignore[arg-type]
        (lambda: IsNull(Field("a"), negated=1), "negated"),  # type: ignore[arg-type]
        (lambda: TextMatch(Field("a"), "contains", 5), "text"),  # type: ignore[arg-type]
        (lambda: HasTag(""), "tag"),
        (lambda: Did(""), "event_kind"),
        (lambda: Within(Field("a"), 90), "duration"),  # type: ignore[arg-type]
        (lambda: Not(Field("a")), "item"),  # type: ignore[arg-type]
        (lambda: And([HasTag("x"), Field("a")]), "items[1]"),  # type: ignore[list-item]
    ],
)
def test_nodes_check_the_types_of_their_children(build: object, field: str) -> None:
    with pytest.raises((ValidationError, TypeError)) as caught:
        build()  # type: ignore[operator]
    if isinstance(caught.value, ValidationError):
        assert caught.value.field == field


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: RuleSchema({"age": "age"}, {}), "fields['age']"),  # type: ignore[dict-item]
        (lambda: RuleSchema(["age"], {}), "fields"),  # type: ignore[arg-type]
        (lambda: RuleSchema.default(event_kinds=5), "event_kinds"),  # type: ignore[arg-type]
        (lambda: RuleSchema.default().with_attributes(None), "attributes"),  # type: ignore[arg-type]
        (lambda: Duration(1, np.array(["days"])), "duration.unit"),  # type: ignore[arg-type]
        (lambda: And(5), "items"),  # type: ignore[arg-type]
    ],
)
def test_wrong_types_in_rules_and_schemas_are_validation_errors(build: Any, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        build()
    assert caught.value.field == field


def test_resolve_names_a_wrong_rule_or_schema() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationError, match="schema"):
        resolve(HasTag("vip"), {"tags": "tags"}, at)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="rule"):
        resolve("vip", RuleSchema.default(), at)  # type: ignore[arg-type]
