"""Fuzzing the parser: hostile text raises only rule errors, and parsing is linear."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.kernel.errors import RuleError, RuleSyntaxError
from crmcore.segments.grammar import MAX_DEPTH, _Parser
from crmcore.segments.jsonform import rule_from_json, rule_to_json
from crmcore.segments.parser import parse_rule
from crmcore.segments.printer import to_text
from crmcore.segments.rules import RuleSchema
from crmcore.segments.tokenizer import KEYWORDS

SCHEMA = RuleSchema.default(event_kinds=["email_open", "signup"])

VALID = [
    'total_spent >= 1000 and country in ("CN", "TW") and last_purchase_at within 90 days',
    'not (gender = "female") or age between 18 and 30',
    "email is not null and name contains 'lee' ignoring case",
    'name starts with "A" or name ends with "z"',
    'has tag "vip" and interests has "music"',
    "created_at before 2024-01-01 and created_at after 2024-01-01T09:30:00+08:00",
    "last_purchase_at after 30 days ago",
    "count(purchases in last 90 days) >= 3 and sum(amount in last 365 days) > 1000.50",
    'avg(amount) > 5e1 and count(events "email_open" in last 30 days) > 0',
    'did "cart_abandoned" within 7 days or did "signup"',
    "consent_email and `attr.x y` not in (1, 2.5, -3e-2, true, null)",
    "# comment\n(a = 1 or\n b = 2) and not not c",
]
VOCABULARY = [
    *sorted(KEYWORDS),
    *("(", ")", ",", "=", "!=", "<", "<=", ">", ">=", "-", "#", "\n", "`", "'", '"'),
    *("1", "-2", "3.5", "1e3", "1e999", "2024-01-01", "2024-01-01T00:00Z", "2024-01-01T00:00"),
    *('"s"', "'\\u00e9'", '"\\q"', "`f`", "total_spent", "attr.x", "tags", "x.", "é", "\x00"),
]


def _mutate(parts: tuple[str, int, int, str]) -> str:
    text, at, cut, insert = parts
    at %= len(text) + 1
    return text[:at] + insert + text[at + cut :]


# Cheap strategies on purpose: 10,000 examples must run in well under 30 s.
token_soup = st.lists(st.sampled_from(VOCABULARY), max_size=12).map(" ".join)
char_soup = st.text(alphabet="()\"' ,=<>!-.#`\n\tabcdeinorstz0123456789TZ:", max_size=40)
#: A valid rule with a stretch replaced by a token or a few random characters.
mutated = st.tuples(
    st.sampled_from(VALID),
    st.integers(0, 200),
    st.integers(0, 6),
    st.sampled_from(VOCABULARY) | st.text(max_size=3),
).map(_mutate)
hostile_text = st.one_of(st.text(), token_soup, char_soup, mutated)


@pytest.mark.slow
@settings(
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(hostile_text)
def test_parser_raises_only_rule_errors(text: str) -> None:
    try:
        rule = parse_rule(text, SCHEMA)
    except RuleSyntaxError as error:
        where = (error.text, error.line >= 1, error.column >= 1)
        assert where == (text, True, True)
        return
    except RuleError:  # a type error against the schema: also a clean failure
        return
    # Whatever parses prints and stores back to the same rule.
    assert parse_rule(to_text(rule)) == rule
    assert rule_from_json(rule_to_json(rule)) == rule


def parse_counting(text: str) -> tuple[int, int]:
    """(token reads, tokens) for one parse, whether it succeeds or fails."""
    try:
        parser = _Parser(text)  # tokenizes
    except RuleSyntaxError:
        return 0, 0  # the tokenizer is one pass of linear regular expressions
    with contextlib.suppress(RuleSyntaxError):
        parser.parse()
    return parser.steps, len(parser.tokens)


@pytest.mark.parametrize(
    "text",
    [
        " and ".join(f"total_spent > {i}" for i in range(8_000)),  # ~ 150 KB, parses
        " or ".join('(a in (1, 2, "x") and not b)' for i in range(4_000)),
        "(" * MAX_DEPTH + " or ".join(["a"] * 20_000) + ")" * MAX_DEPTH,
        "not " * 30_000 + "a",  # fails at the depth cap
        "(" * 100_000,  # fails at the depth cap
        "a = 1 and " * 10_000 + "and",  # fails at the very end
        "x in (" + ", ".join(["1.5"] * 30_000) + ")",
        "x = '" + "\\\\" * 50_000 + "'",
        "x = '" + "a" * 100_000,  # unterminated string
    ],
)
def test_parsing_is_linear_in_the_input(text: str) -> None:
    assert len(text) >= 100_000
    steps, tokens = parse_counting(text)
    assert tokens <= len(text) + 1
    # Each token is looked at a bounded number of times: no backtracking, no rescans.
    assert steps <= 12 * tokens
