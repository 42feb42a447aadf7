"""The type check: a well-formed rule that does not fit the schema fails with a position."""

from __future__ import annotations

import pytest

from crmcore.kernel.errors import RuleTypeError
from crmcore.segments.parser import parse_rule
from crmcore.segments.rules import Compare, Field, Literal, RuleSchema
from crmcore.segments.typecheck import check_rule

SCHEMA = RuleSchema.default(event_kinds=["email_open", "cart_abandoned", "signup"]).with_attributes(
    {"tier": "string", "vip_since": "date"}
)


@pytest.mark.parametrize(
    "text",
    [
        'total_spent >= 1000 and country in ("CN", "TW") and last_purchase_at within 90 days',
        "total_spent > 12.50 or total_spent < 1.5e3 or purchase_count = 3",
        'not (gender = "female") or age between 18 and 30',
        'email is not null and name contains "lee" ignoring case',
        'name starts with "A" and name ends with "z" and name < "M"',
        'has tag "vip" and interests has "music"',
        "created_at before 2024-01-01 and created_at > 2024-01-01T09:30:00Z",
        "last_purchase_at after 30 days ago and birth_date before 2000-01-01",
        "birth_date between 1990-01-01 and 1999-12-31 and birth_date within 100 years",
        "count(purchases in last 90 days) >= 3 and sum(amount in last 365 days) > 1000",
        "avg(amount) > 50 and max(items) in (1, 2) and min(amount) is null",
        'count(events "email_open" in last 30 days) > 0 and count(events) between 1 and 9',
        'did "cart_abandoned" within 7 days and did "signup"',
        "consent_email and not erased and consent_sms != false and consent_push in (true)",
        "attr.tier = 'gold' and attr.vip_since before 2020-01-01 and attr.vip_since is null",
        "days_since_last_purchase > 30 and tenure_days < 5 and average_order_value > 10",
        "created_at within 9998 years and created_at after 3652058 days ago",
    ],
)
def test_well_typed_rules_pass(text: str) -> None:
    check_rule(parse_rule(text), SCHEMA, text)
    assert parse_rule(text, SCHEMA) == parse_rule(text)


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("total_spnt > 1", 1, "unknown field 'total_spnt'; did you mean 'total_spent'?"),
        ("zzz = 1", 1, "unknown field 'zzz'"),
        ("attr.tir = 'x'", 1, "did you mean 'attr.tier'?"),
        (
            "total_spent >= '1000'",
            16,
            "total_spent is a number; compare it with a number, not a string",
        ),
        ("total_spent = true", 15, "not a bool"),
        ("country = 5", 11, "country is a string; compare it with a string, not a number"),
        ("country in ('CN', 5)", 19, "not a number"),
        ("consent_email = 1", 17, "compare it with true or false, not a number"),
        ("consent_email > false", 1, "consent_email is a bool; only = and != apply, not >"),
        ("consent_email between false and true", 1, "'between' needs an ordered type"),
        ("created_at = 5", 14, "compare it with a datetime or a date, not a number"),
        ("birth_date = 2000-01-01T00:00Z", 14, "birth_date is a date; compare it with a date"),
        ("tags = 'vip'", 1, "tags is a tags field; test it with has"),
        ("interests in ('a')", 1, "interests is a tags field"),
        ("tags is null", 1, "tags are never null"),
        ("total_spent = null", 15, "write 'total_spent is null' or 'total_spent is not null'"),
        ("email != null", 10, "null never matches"),
        ("country in ('CN', null)", 19, "null never matches"),
        ("age between null and 3", 13, "null never matches"),
        ("total_spent contains '1'", 1, "'contains' needs a string field; total_spent is number"),
        ("country has 'x'", 1, "'has' needs a tags field; country is string"),
        ("country within 3 days", 1, "'within' needs a datetime or date field; country is string"),
        ("age before 2024-01-01", 1, "'before' needs a datetime or date field"),
        (
            "created_at after 5",
            18,
            "'after' needs a date, a datetime or 'N days ago', not a number",
        ),
        ("birth_date after 2024-01-01T00:00Z", 18, "needs a date, not a datetime"),
        ("sum(amont) > 1", 1, "unknown purchase column 'amont' in sum(); did you mean 'amount'?"),
        ("count(purchases) > 'x'", 20, "count(...) is a number"),
        ("count(purchases) = null", 20, "null never matches"),
        (
            'count(events "email_opn") > 0',
            1,
            "unknown event kind 'email_opn'; did you mean 'email_open'?",
        ),
        ('did "cart_abandonned"', 1, "did you mean 'cart_abandoned'?"),
        ("total_spent > 1 and\n  x = 1", 3, "unknown field 'x'"),
        ("created_at within 9999 years", 19, "9999 years is longer than the calendar"),
        ("did 'signup' within 3652059 days", 21, "longer than the calendar"),
        ("count(purchases in last 119988 months) > 1", 25, "longer than the calendar"),
    ],
)
def test_type_errors_say_what_and_where(text: str, column: int, message: str) -> None:
    with pytest.raises(RuleTypeError) as info:
        check_rule(parse_rule(text), SCHEMA, text)
    error = info.value
    assert message in error.message
    assert error.column == column
    assert error.line == text.count("\n") + 1
    assert error.excerpt.endswith("^")


def test_non_numeric_purchase_column_is_rejected() -> None:
    schema = RuleSchema(SCHEMA.fields, {"amount": "number", "channel": "string"})
    with pytest.raises(
        RuleTypeError, match="sum\\(\\) needs a numeric column; 'channel' is string"
    ):
        check_rule(parse_rule("sum(channel) > 1"), schema)


def test_any_event_kind_when_the_log_is_unknown() -> None:
    check_rule(parse_rule('did "anything" and count(events "x") > 1'), RuleSchema.default())


def test_without_text_the_position_is_line_zero() -> None:
    rule = Compare(Field("nope"), "=", Literal(1))
    with pytest.raises(RuleTypeError) as info:
        check_rule(rule, SCHEMA)
    assert (info.value.line, info.value.column, info.value.excerpt) == (0, 0, "")
    assert str(info.value) == "unknown field 'nope'"


def test_text_that_is_not_the_rule_gives_no_position() -> None:
    rule = Compare(Field("nope"), "=", Literal(1))
    for text in ("nope = 2", "nope = (", "nope = 1 and"):
        with pytest.raises(RuleTypeError) as info:
            check_rule(rule, SCHEMA, text)
        assert info.value.line == 0


def test_first_error_in_source_order_wins() -> None:
    text = "a = 1 or b = 2"
    with pytest.raises(RuleTypeError, match="unknown field 'a'"):
        check_rule(parse_rule(text), SCHEMA, text)
