"""The rule parser: every construct, positions, error messages and limits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings

from crmcore.kernel.errors import RuleSyntaxError, RuleTypeError
from crmcore.segments.grammar import MAX_DEPTH, boolean_depth, parse_rule_with_positions
from crmcore.segments.parser import parse_rule
from crmcore.segments.printer import to_text
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
    Node,
    Not,
    Or,
    Predicate,
    RuleSchema,
    TextMatch,
    TimeCompare,
    Within,
    children,
)
from crmcore.segments.tokenizer import tokenize
from tests.segments.test_printer import rules


def cmp(name: str, op: str, value: object) -> Compare:
    return Compare(Field(name), op, Literal(value))  # type: ignore[arg-type]


T = Literal(True)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            'total_spent >= 1000 and country in ("CN", "TW") and last_purchase_at within 90 days',
            And(
                [
                    cmp("total_spent", ">=", 1000),
                    InList(Field("country"), [Literal("CN"), Literal("TW")]),
                    Within(Field("last_purchase_at"), Duration(90, "days")),
                ]
            ),
        ),
        (
            'not (gender = "female") or age between 18 and 30',
            Or(
                [Not(cmp("gender", "=", "female")), Between(Field("age"), Literal(18), Literal(30))]
            ),
        ),
        (
            'email is not null and name contains "lee" ignoring case',
            And(
                [
                    IsNull(Field("email"), negated=True),
                    TextMatch(Field("name"), "contains", "lee", ignore_case=True),
                ]
            ),
        ),
        ('name starts with "A"', TextMatch(Field("name"), "starts_with", "A")),
        ("name ends with 'son'", TextMatch(Field("name"), "ends_with", "son")),
        ('has tag "vip"', HasTag("vip")),
        ('interests has "music"', HasTag("music", Field("interests"))),
        (
            "created_at before 2024-01-01",
            TimeCompare(Field("created_at"), "before", Literal(date(2024, 1, 1))),
        ),
        (
            "last_purchase_at after 30 days ago",
            TimeCompare(Field("last_purchase_at"), "after", Duration(30, "days")),
        ),
        (
            "created_at after 2024-01-01T09:30:00+08:00",
            TimeCompare(
                Field("created_at"), "after", Literal(datetime(2024, 1, 1, 1, 30, tzinfo=UTC))
            ),
        ),
        (
            "created_at < 2024-01-01T09:30Z",
            cmp("created_at", "<", datetime(2024, 1, 1, 9, 30, tzinfo=UTC)),
        ),
        (
            "count(purchases in last 90 days) >= 3",
            Compare(Aggregate("count", "purchases", window=Duration(90, "days")), ">=", Literal(3)),
        ),
        (
            "sum(amount in last 365 days) > 1000",
            Compare(
                Aggregate("sum", "purchases", column="amount", window=Duration(365, "days")),
                ">",
                Literal(1000),
            ),
        ),
        (
            "avg(amount) > 50",
            Compare(Aggregate("avg", "purchases", column="amount"), ">", Literal(50)),
        ),
        (
            'count(events "email_open" in last 30 days) > 0',
            Compare(
                Aggregate("count", "events", event_kind="email_open", window=Duration(30, "days")),
                ">",
                Literal(0),
            ),
        ),
        ("count(events) = 0", Compare(Aggregate("count", "events"), "=", Literal(0))),
        (
            "max(items) not in (1, 2,)",
            InList(Aggregate("max", "purchases", column="items"), [Literal(1), Literal(2)], True),
        ),
        ("min(amount) is null", IsNull(Aggregate("min", "purchases", column="amount"))),
        ('did "cart_abandoned" within 7 days', Did("cart_abandoned", Duration(7, "days"))),
        ('did "signup"', Did("signup")),
        ("consent_email", Compare(Field("consent_email"), "=", T)),
        ("not consent_email", Not(Compare(Field("consent_email"), "=", T))),
        ("x != 12.50", cmp("x", "!=", Decimal("12.50"))),
        ("x <= 1.5e3", cmp("x", "<=", 1500.0)),
        ("x > -2", cmp("x", ">", -2)),
        ("x < -0.5", cmp("x", "<", Decimal("-0.5"))),
        ("x = false", cmp("x", "=", False)),
        ("x = null", cmp("x", "=", None)),
        ("x not between 'a' and 'b'", Between(Field("x"), Literal("a"), Literal("b"), True)),
        ("`weird name` = 1", cmp("weird name", "=", 1)),
        ("`and` = 1", cmp("and", "=", 1)),
        ("attr.loyalty_tier = 'gold'", cmp("attr.loyalty_tier", "=", "gold")),
        ("attr.and = 1", cmp("attr.and", "=", 1)),
        ("x within 1 week", Within(Field("x"), Duration(1, "weeks"))),
        ("x within 0 days", Within(Field("x"), Duration(0, "days"))),
        ("x within 6 Months", Within(Field("x"), Duration(6, "months"))),
        ("x after 1 year ago", TimeCompare(Field("x"), "after", Duration(1, "years"))),
        ("x before 5", TimeCompare(Field("x"), "before", Literal(5))),
    ],
)
def test_parses(text: str, rule: Predicate) -> None:
    assert parse_rule(text) == rule


def test_keywords_are_case_insensitive_names_are_not() -> None:
    upper = parse_rule('Total_Spent >= 1 AND NOT Country IN ("CN") Or HAS TAG "x"')
    assert upper == Or(
        [
            And([cmp("Total_Spent", ">=", 1), Not(InList(Field("Country"), [Literal("CN")]))]),
            HasTag("x"),
        ]
    )


def test_and_or_chains_flatten_but_parentheses_group() -> None:
    a, b, c = (Compare(Field(n), "=", T) for n in "abc")
    assert parse_rule("a and b and c") == And([a, b, c])
    assert parse_rule("a or b or c") == Or([a, b, c])
    assert parse_rule("a and (b and c)") == And([a, And([b, c])])
    assert parse_rule("a or b and c") == Or([a, And([b, c])])
    assert parse_rule("(a or b) and c") == And([Or([a, b]), c])
    assert parse_rule("not a and b") == And([Not(a), b])
    assert parse_rule("((((a))))") == a


def test_strings_and_escapes() -> None:
    rule = parse_rule(r"""x in ("a\"b", 'c\'d', "\\", "\n\t\r", "\u00e9\U0001F600", "`")""")
    assert isinstance(rule, InList)
    assert [v.value for v in rule.values] == ['a"b', "c'd", "\\", "\n\t\r", "é😀", "`"]
    assert parse_rule(r"`a\`b` = 1") == cmp("a`b", "=", 1)


def test_comments_and_line_breaks() -> None:
    text = "# big spenders\ntotal_spent >= 1000  # in their currency\n  and consent_email\n"
    assert parse_rule(text) == And(
        [cmp("total_spent", ">=", 1000), Compare(Field("consent_email"), "=", T)]
    )


def test_tokens() -> None:
    kinds = [t.kind for t in tokenize("x = 2024-01-01 or y = 2024-01-01T00:00Z or (z, 1.5)")]
    assert kinds == [
        *("name", "op", "date", "keyword", "name", "op", "datetime", "keyword"),
        *("(", "name", ",", "number", ")", "end"),
    ]


def test_positions_of_nodes() -> None:
    text = 'a = 1 and\n  (b in (1, "x") or not has tag "t")'
    rule, where = parse_rule_with_positions(text)
    assert isinstance(rule, And)
    assert where.position(()) == (1, 1)
    assert where.position((0,)) == (1, 1)
    assert where.position((0, 1)) == (1, 5)
    assert where.position((1,)) == (2, 4)  # the or-chain starts at its first item
    assert where.position((1, 0, 2)) == (2, 13)  # "x"
    assert where.position((1, 1)) == (2, 21)  # not
    assert where.position((1, 1, 0)) == (2, 25)  # has
    assert where.position((7, 7)) == (0, 0)


def error_of(text: str) -> RuleSyntaxError:
    with pytest.raises(RuleSyntaxError) as info:
        parse_rule(text)
    return info.value


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ("", 1, 1, "expected a condition"),
        ("total_spent >=", 1, 15, "expected a value"),
        ("total_spent >= 1000 and", 1, 24, "expected a condition (a field name"),
        ("a = 1 b = 2", 1, 7, "expected 'and', 'or' or end of input, found 'b'"),
        ("(a = 1", 1, 7, "expected ')' to close the '(' at line 1, column 1"),
        ("a = 1)", 1, 6, "found ')'"),
        ("(a = 1 b", 1, 8, "expected 'and', 'or' or ')'"),
        ("x in 1", 1, 6, "expected '(' to open the list"),
        ("x in ()", 1, 7, "expected a value"),
        ("x in (1 2)", 1, 9, "expected ',' or ')' in the list"),
        ("x between 1 or 2", 1, 13, "expected 'and' between the two ends"),
        ("x is nul", 1, 6, "expected 'null' after 'is'"),
        ("x is not 1", 1, 10, "expected 'null' after 'is not'"),
        ("x starts 'a'", 1, 10, "expected 'with' after 'starts'"),
        ("x contains 1", 1, 12, "expected text in quotes after 'contains'"),
        ("x contains 'a' ignoring", 1, 24, "expected 'case' after 'ignoring'"),
        ("has 'vip'", 1, 5, "expected 'tag' after 'has'"),
        ("has tag vip", 1, 9, "expected a tag in quotes"),
        ("did signup", 1, 5, "expected an event kind in quotes"),
        ("x within 90", 1, 12, "expected a unit"),
        ("x within 1.5 days", 1, 10, "whole number >= 0"),
        ("x within -1 days", 1, 10, "whole number >= 0"),
        ("x after 30 days", 1, 16, "expected 'ago'"),
        ("count(amount) > 1", 1, 1, "count takes no column"),
        ("sum(purchases) > 1", 1, 1, "sum needs a purchases column"),
        ("sum(events 'x') > 1", 1, 1, "sum needs a purchases column"),
        ("count(1) > 1", 1, 7, "expected 'purchases', 'events' or a purchase column"),
        ("count(purchases in 90 days) > 1", 1, 20, "expected 'last' after 'in'"),
        ("count(purchases) within 1 day", 1, 18, "after the aggregate"),
        ("x = 'open", 1, 5, "unterminated string"),
        ("`x = 1", 1, 1, "unterminated name"),
        ("`` = 1", 1, 1, "empty field name"),
        ("x = 'a\\qb'", 1, 7, "unknown escape \\q"),
        ("x = 1 & y", 1, 7, "unexpected character '&'"),
        ("x = 2024-02-30", 1, 5, "is not a valid date"),
        ("x = 2024-01-01T09:30:00", 1, 5, "has no UTC offset"),
        ("x = 2024-01-01T25:00Z", 1, 5, "is not a valid datetime"),
        ("x = 0001-01-01T00:00+05:00", 1, 5, "is not a valid datetime"),
        ("x = 1e999", 1, 5, "out of range"),
        ("x = " + "9" * 5000, 1, 5, "too long"),
        ("x = 'a'\n  and\n  y ~ 2", 3, 5, "unexpected character '~'"),
        ("x y", 1, 3, "expected a comparison"),
        ("and", 1, 1, "expected a condition"),
        ("last = 1", 1, 1, "found keyword 'last' (a field named 'last' is written in backquotes"),
        ("x = 1 and\n", 1, 10, "found end of input"),
    ],
)
def test_syntax_errors_say_what_and_where(text: str, line: int, column: int, message: str) -> None:
    error = error_of(text)
    assert message in error.message
    assert (error.line, error.column) == (line, column)
    assert error.text == text


def test_error_excerpt_has_a_caret() -> None:
    error = error_of("total_spent >= 1000 and country in CN")
    assert str(error) == (
        "line 1, column 36: expected '(' to open the list after 'in', found 'CN'\n"
        "total_spent >= 1000 and country in CN\n"
        "                                   ^"
    )


def test_non_string_input() -> None:
    with pytest.raises(RuleSyntaxError, match="must be a string"):
        parse_rule(42)  # type: ignore[arg-type]


def test_nesting_is_capped_without_recursion_error() -> None:
    ok = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert parse_rule(ok) == Compare(Field("a"), "=", T)
    for deep in ("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), "not " * 20_000 + "a"):
        error = error_of(deep)
        assert "deeper than" in error.message
    nots = parse_rule("not " * MAX_DEPTH + "a")
    assert boolean_depth(nots) == MAX_DEPTH
    # a chain at the root adds a level of depth: not^200 inside an and is 201 deep
    assert "deeper than" in error_of("b and " + "not " * MAX_DEPTH + "a").message


def test_boolean_depth() -> None:
    assert boolean_depth(parse_rule("a")) == 0
    assert boolean_depth(parse_rule("a and (b or not c)")) == 3


def test_parse_with_a_schema_type_checks_with_position() -> None:
    schema = RuleSchema.default()
    assert parse_rule("total_spent > 10", schema) == cmp("total_spent", ">", 10)
    with pytest.raises(RuleTypeError) as info:
        parse_rule("total_spent > 10 and\n   country = 5", schema)
    assert (info.value.line, info.value.column) == (2, 14)
    assert "country is a string" in info.value.message


@settings(max_examples=200, deadline=None)
@given(rules)
def test_every_node_of_a_parsed_rule_has_a_position(rule: Predicate) -> None:
    text = to_text(rule)
    parsed, where = parse_rule_with_positions(text)
    stack: list[tuple[Node, tuple[int, ...]]] = [(parsed, ())]
    while stack:
        node, path = stack.pop()
        line, column = where.position(path)
        assert line >= 1
        assert column >= 1
        kids = children(node)
        stack.extend((kid, (*path, i)) for i, kid in enumerate(kids))
    assert where.position((len(children(parsed)),)) == (0, 0)


@pytest.mark.parametrize(
    "payload",
    [
        "'; DROP TABLE customers; --",
        '" OR 1=1 --',
        "Robert'); DELETE FROM customers WHERE ('1'='1",
        "\\'; SELECT * FROM sqlite_master; --",
    ],
)
def test_injection_strings_are_just_literals(payload: str) -> None:
    rule = Compare(Field("name"), "=", Literal(payload))
    text = to_text(rule)
    assert parse_rule(text) == rule
    parsed = parse_rule(text)
    assert isinstance(parsed, Compare)
    assert parsed.value.value == payload


@pytest.mark.parametrize(
    "text", ['has tag ""', 'interests has ""', 'did ""', 'did "" within 3 days']
)
def test_values_a_node_refuses_are_syntax_errors_with_a_position(text: str) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(text)
    assert (caught.value.line, caught.value.column) == (1, 1)
    assert "non-empty" in caught.value.message


def test_limits_are_checked_up_front_with_a_position() -> None:
    """Rule length, list size, number range and NUL are refused before anything runs."""
    from crmcore.segments.grammar import MAX_RULE_LENGTH
    from crmcore.segments.rules import MAX_LIST_VALUES, MAX_RULE_NUMBER

    long = "a = 1 or " * (MAX_RULE_LENGTH // 9) + "a = 1"
    assert "characters long; the limit is" in error_of(long).message
    many = "x in (" + ", ".join(["1"] * (MAX_LIST_VALUES + 1)) + ")"
    assert "at most 10,000 values" in error_of(many).message
    for number in (MAX_RULE_NUMBER + 1, -(MAX_RULE_NUMBER + 1), "1e400", "1" + "0" * 400):
        error = error_of(f"total_spent > {number}")
        assert "2**53" in error.message or "out of range" in error.message
        assert error.column == 15
    assert parse_rule(f"x = {MAX_RULE_NUMBER}") == Compare(Field("x"), "=", Literal(2**53))
    for text in ('name = "x\\u0000"', 'name contains "\\u0000"', "`a\x00b` is null"):
        assert "NUL" in error_of(text).message
