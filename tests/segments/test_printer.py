"""The printer: parse_rule(to_text(rule)) == rule for every AST (and the strategies for it)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.kernel.errors import RuleSyntaxError, ValidationError
from crmcore.segments.grammar import MAX_DEPTH
from crmcore.segments.parser import parse_rule
from crmcore.segments.printer import (
    format_literal,
    quote_name,
    quote_string,
    to_pretty_text,
    to_text,
)
from crmcore.segments.rules import (
    AGGREGATE_FUNCTIONS,
    COMPARISON_OPERATORS,
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
    Predicate,
    TextMatch,
    TimeCompare,
    Within,
)
from crmcore.segments.tokenizer import KEYWORDS

# --- strategies for arbitrary (not necessarily well-typed) rules ----------------------------

ZONES = [UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5, minutes=30))]

#: Text without NUL or lone surrogates, which rules refuse (the back ends disagree on them).
NO_NUL = st.characters(exclude_characters="\x00", exclude_categories=("Cs",))
names = st.one_of(
    st.sampled_from(["total_spent", "country", "attr.tier", "tags", "values", "x_1"]),
    st.sampled_from(sorted(KEYWORDS)).map(lambda w: w.upper() if len(w) % 2 else w),
    st.text(NO_NUL, min_size=1, max_size=8),
)
odd_decimals = st.sampled_from(
    [Decimal("1E+3"), Decimal("-0"), Decimal("0.000"), Decimal("1E-7"), Decimal("-12.50")]
)
literal_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(min_value=-(2.0**53), max_value=2.0**53),
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**15), max_value=10**15),
    odd_decimals,
    st.text(NO_NUL, max_size=12),
    st.dates(),
    st.datetimes(
        min_value=datetime(2, 1, 1),
        max_value=datetime(9998, 12, 31),
        timezones=st.sampled_from(ZONES),
    ),
)
literals = literal_values.map(Literal)
durations = st.builds(
    Duration,
    st.integers(min_value=0, max_value=10**6),
    st.sampled_from(["days", "weeks", "months", "years"]),
)
windows = st.none() | durations
fields = names.map(Field)
aggregates = st.one_of(
    st.builds(Aggregate, st.just("count"), st.just("purchases"), window=windows),
    st.builds(
        Aggregate,
        st.just("count"),
        st.just("events"),
        event_kind=st.none() | st.text(NO_NUL, min_size=1, max_size=8),
        window=windows,
    ),
    st.builds(
        Aggregate,
        st.sampled_from([f for f in AGGREGATE_FUNCTIONS if f != "count"]),
        st.just("purchases"),
        column=names,
        window=windows,
    ),
)
operands = fields | aggregates
conditions: st.SearchStrategy[Predicate] = st.one_of(
    st.builds(Compare, operands, st.sampled_from(COMPARISON_OPERATORS), literals),
    st.builds(InList, operands, st.lists(literals, min_size=1, max_size=4), st.booleans()),
    st.builds(Between, operands, literals, literals, st.booleans()),
    st.builds(IsNull, operands, st.booleans()),
    st.builds(
        TextMatch,
        fields,
        st.sampled_from(["contains", "starts_with", "ends_with"]),
        st.text(NO_NUL, max_size=10),
        st.booleans(),
    ),
    st.builds(HasTag, st.text(NO_NUL, min_size=1, max_size=8), fields | st.just(Field("tags"))),
    st.builds(Within, fields, durations),
    st.builds(TimeCompare, fields, st.sampled_from(["before", "after"]), literals | durations),
    st.builds(Did, st.text(NO_NUL, min_size=1, max_size=8), windows),
)


def _boolean(children: st.SearchStrategy[Predicate]) -> st.SearchStrategy[Predicate]:
    return st.one_of(
        st.lists(children, min_size=2, max_size=4).map(And),
        st.lists(children, min_size=2, max_size=4).map(Or),
        children.map(Not),
    )


#: Any rule the AST can express.
rules: st.SearchStrategy[Predicate] = st.recursive(conditions, _boolean, max_leaves=10)


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(rules)
def test_printed_rules_parse_back_equal(rule: Predicate) -> None:
    text = to_text(rule)
    assert parse_rule(text) == rule
    assert "\n" not in text  # one line, whatever the strings hold


@settings(max_examples=300, deadline=None)
@given(literal_values)
def test_literals_keep_their_type_through_text(value: object) -> None:
    literal = Literal(value)  # type: ignore[arg-type]
    parsed = parse_rule(f"x = {format_literal(literal.value)}")
    assert isinstance(parsed, Compare)
    assert parsed.value == literal
    assert type(parsed.value.value) is type(literal.value)


@settings(max_examples=200, deadline=None)
@given(st.text(NO_NUL, min_size=1))
def test_any_name_round_trips(name: str) -> None:
    assert parse_rule(f"{quote_name(name)} is null") == IsNull(Field(name))


# --- examples ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3, "3"),
        (-3, "-3"),
        (1500.0, "1500.0e0"),
        (1e-7, "1e-07"),
        (-0.0, "-0.0e0"),
        (Decimal("12.50"), "12.50"),
        (Decimal("1E+3"), "1000.0"),
        (True, "true"),
        (None, "null"),
        ('a "b"\\\n', '"a \\"b\\"\\\\\\n"'),
        ("\x01\u2028", '"\\u0001\\u2028"'),
        (date(2024, 1, 1), "2024-01-01"),
        (datetime(2024, 1, 1, 9, 30, tzinfo=timezone(timedelta(hours=8))), "2024-01-01T01:30:00Z"),
        (datetime(2024, 1, 1, 0, 0, 0, 5, tzinfo=UTC), "2024-01-01T00:00:00.000005Z"),
    ],
)
def test_literal_text(value: object, text: str) -> None:
    assert format_literal(Literal(value).value) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source", "printed"),
    [
        (
            'total_spent >= 1000 and country in ("CN", "TW") and last_purchase_at within 90 days',
            'total_spent >= 1000 and country in ("CN", "TW") and last_purchase_at within 90 days',
        ),
        ("a = 1 and (b = 2 and c = 3)", "a = 1 and (b = 2 and c = 3)"),
        ("(a = 1 and b = 2) and c = 3", "(a = 1 and b = 2) and c = 3"),
        ("a = 1 or b = 2 and c = 3", "a = 1 or b = 2 and c = 3"),
        ("(a = 1 or b = 2) and c = 3", "(a = 1 or b = 2) and c = 3"),
        ("a = 1 or (b = 2 or c = 3)", "a = 1 or (b = 2 or c = 3)"),
        ("NOT (a = 1 or b = 2)", "not (a = 1 or b = 2)"),
        ("not not a = 1", "not not a = 1"),
        ("((a = 1))", "a = 1"),
        ("consent_email", "consent_email = true"),
        ("tags has 'vip'", 'has tag "vip"'),
        ('interests HAS "music"', 'interests has "music"'),
        ("x within 1 day", "x within 1 day"),
        ("x after 2 weeks ago", "x after 2 weeks ago"),
        ('count(events "open" in last 1 month) > 0', 'count(events "open" in last 1 month) > 0'),
        ("sum(`count` in last 2 years) > 1", "sum(`count` in last 2 years) > 1"),
        ('did "x" within 7 days', 'did "x" within 7 days'),
        ('name starts with "A" ignoring case', 'name starts with "A" ignoring case'),
        ("`my field` not between 1 and 2", "`my field` not between 1 and 2"),
        ("avg(amount) is not null", "avg(amount) is not null"),
    ],
)
def test_canonical_text(source: str, printed: str) -> None:
    assert to_text(parse_rule(source)) == printed


def test_quoting() -> None:
    assert quote_name("And") == "`And`"
    assert quote_name("attr.x") == "attr.x"
    assert quote_name("a`b") == "`a\\`b`"
    assert quote_string("it's") == '"it\'s"'


def test_parentheses_only_where_needed() -> None:
    a, b, c = (Compare(Field(n), "=", Literal(1)) for n in "abc")
    assert to_text(And([Or([a, b]), c])) == "(a = 1 or b = 1) and c = 1"
    assert to_text(Or([And([a, b]), c])) == "a = 1 and b = 1 or c = 1"
    assert to_text(Not(Not(a))) == "not not a = 1"


def test_deep_rules_print_iteratively_up_to_the_cap() -> None:
    leaf: Predicate = Compare(Field("a"), "=", Literal(1))
    rule = leaf
    for _ in range(MAX_DEPTH):
        rule = Not(rule)
    assert parse_rule(to_text(rule)) == rule
    with pytest.raises(RuleSyntaxError, match="deeper than"):
        to_text(Not(rule))


def test_alternating_nesting_at_the_cap_round_trips() -> None:
    rule: Predicate = Compare(Field("a"), "=", Literal(1))
    for level in range(MAX_DEPTH):
        other = Compare(Field("b"), "=", Literal(level))
        rule = And([rule, other]) if level % 2 else Or([rule, other])
    assert parse_rule(to_text(rule)) == rule


def test_unprintable_values_raise_rule_errors() -> None:
    with pytest.raises(ValidationError, match=r"2\*\*53"):
        Literal(10**5000)  # refused when the node is made, so it never reaches the printer
    with pytest.raises(RuleSyntaxError, match="not a rule node"):
        to_text(Field("x"))  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(rules, st.integers(min_value=0, max_value=60))
def test_pretty_text_parses_back_equal(rule: Predicate, width: int) -> None:
    assert parse_rule(to_pretty_text(rule, width=width)) == rule


def test_pretty_text_layout() -> None:
    rule = parse_rule("a = 1 and not (b = 2 or c = 3 and d = 4) and (e = 5 or f = 6)")
    assert to_pretty_text(rule, width=200) == to_text(rule)
    assert to_pretty_text(rule, width=20, indent="    ") == "\n".join(
        [
            "a = 1",
            "and not (",
            "    b = 2",
            "    or c = 3 and d = 4",
            ")",
            "and (e = 5 or f = 6)",
        ]
    )
