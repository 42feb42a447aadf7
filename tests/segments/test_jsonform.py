"""The versioned JSON form: round trips, a pinned golden document, strict reading."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings

from crmcore.kernel.errors import RuleSyntaxError, ValidationError
from crmcore.segments.grammar import MAX_DEPTH
from crmcore.segments.jsonform import (
    JSON_VERSION,
    rule_from_json,
    rule_from_json_text,
    rule_to_json,
    rule_to_json_text,
)
from crmcore.segments.parser import parse_rule
from crmcore.segments.rules import Compare, Field, Literal, Not, Predicate
from tests.segments.test_printer import rules

RICH_RULE = """
total_spent >= 1000.50 and country in ("CN", "TW") and last_purchase_at within 90 days
and not (gender = "female" or age not between 18 and 30.5e0) and email is not null
and name starts with "Lee" ignoring case and has tag "vip"
and created_at after 2024-01-01T09:30:00+08:00 and birth_date before 2000-01-01
and last_purchase_at after 2 weeks ago
and count(events "email_open" in last 30 days) > 0 and max(amount) = null
and did "signup" within 1 month and consent_email
"""

# The exact JSON of RICH_RULE. If this test fails, the stored format changed: that needs a
# new JSON_VERSION and a reader for the old one, not an edit of this text.
GOLDEN = """\
{
  "crmcore_rule": 1,
  "rule": {
    "type": "and",
    "items": [
      {
        "type": "compare",
        "operand": {
          "type": "field",
          "name": "total_spent"
        },
        "operator": ">=",
        "value": {
          "type": "literal",
          "kind": "decimal",
          "value": "1000.50"
        }
      },
      {
        "type": "in",
        "operand": {
          "type": "field",
          "name": "country"
        },
        "values": [
          {
            "type": "literal",
            "kind": "string",
            "value": "CN"
          },
          {
            "type": "literal",
            "kind": "string",
            "value": "TW"
          }
        ],
        "negated": false
      },
      {
        "type": "within",
        "operand": {
          "type": "field",
          "name": "last_purchase_at"
        },
        "duration": {
          "type": "duration",
          "amount": 90,
          "unit": "days"
        }
      },
      {
        "type": "not",
        "item": {
          "type": "or",
          "items": [
            {
              "type": "compare",
              "operand": {
                "type": "field",
                "name": "gender"
              },
              "operator": "=",
              "value": {
                "type": "literal",
                "kind": "string",
                "value": "female"
              }
            },
            {
              "type": "between",
              "operand": {
                "type": "field",
                "name": "age"
              },
              "low": {
                "type": "literal",
                "kind": "int",
                "value": 18
              },
              "high": {
                "type": "literal",
                "kind": "float",
                "value": 30.5
              },
              "negated": true
            }
          ]
        }
      },
      {
        "type": "is_null",
        "operand": {
          "type": "field",
          "name": "email"
        },
        "negated": true
      },
      {
        "type": "text_match",
        "operand": {
          "type": "field",
          "name": "name"
        },
        "operator": "starts_with",
        "text": "Lee",
        "ignore_case": true
      },
      {
        "type": "has_tag",
        "field": {
          "type": "field",
          "name": "tags"
        },
        "tag": "vip"
      },
      {
        "type": "time_compare",
        "operand": {
          "type": "field",
          "name": "created_at"
        },
        "operator": "after",
        "point": {
          "type": "literal",
          "kind": "datetime",
          "value": "2024-01-01T01:30:00Z"
        }
      },
      {
        "type": "time_compare",
        "operand": {
          "type": "field",
          "name": "birth_date"
        },
        "operator": "before",
        "point": {
          "type": "literal",
          "kind": "date",
          "value": "2000-01-01"
        }
      },
      {
        "type": "time_compare",
        "operand": {
          "type": "field",
          "name": "last_purchase_at"
        },
        "operator": "after",
        "point": {
          "type": "duration",
          "amount": 2,
          "unit": "weeks"
        }
      },
      {
        "type": "compare",
        "operand": {
          "type": "aggregate",
          "function": "count",
          "source": "events",
          "column": null,
          "event_kind": "email_open",
          "window": {
            "type": "duration",
            "amount": 30,
            "unit": "days"
          }
        },
        "operator": ">",
        "value": {
          "type": "literal",
          "kind": "int",
          "value": 0
        }
      },
      {
        "type": "compare",
        "operand": {
          "type": "aggregate",
          "function": "max",
          "source": "purchases",
          "column": "amount",
          "event_kind": null,
          "window": null
        },
        "operator": "=",
        "value": {
          "type": "literal",
          "kind": "null",
          "value": null
        }
      },
      {
        "type": "did",
        "event_kind": "signup",
        "window": {
          "type": "duration",
          "amount": 1,
          "unit": "months"
        }
      },
      {
        "type": "compare",
        "operand": {
          "type": "field",
          "name": "consent_email"
        },
        "operator": "=",
        "value": {
          "type": "literal",
          "kind": "bool",
          "value": true
        }
      }
    ]
  }
}
"""


def test_golden_document_is_pinned() -> None:
    rule = parse_rule(RICH_RULE)
    assert rule_to_json_text(rule, indent=2) + "\n" == GOLDEN
    assert rule_from_json_text(GOLDEN) == rule


@settings(max_examples=400, deadline=None)
@given(rules)
def test_json_round_trips(rule: Predicate) -> None:
    document = rule_to_json(rule)
    assert document["crmcore_rule"] == JSON_VERSION
    assert rule_from_json(document) == rule
    text = rule_to_json_text(rule)
    assert json.loads(text) == json.loads(json.dumps(document))
    assert rule_from_json_text(text) == rule


def test_optional_keys_may_be_left_out() -> None:
    document = {
        "crmcore_rule": 1,
        "rule": {
            "type": "in",
            "operand": {"type": "aggregate", "function": "count", "source": "purchases"},
            "values": [{"type": "literal", "kind": "float", "value": 1}],
        },
    }
    assert rule_from_json(document) == parse_rule("count(purchases) in (1.0e0)")


def doc(rule: Any) -> dict[str, Any]:
    return {"crmcore_rule": 1, "rule": rule}


FIELD = {"type": "field", "name": "x"}
ONE = {"type": "literal", "kind": "int", "value": 1}
GOOD = {"type": "compare", "operand": FIELD, "operator": "=", "value": ONE}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "at $: expected an object, found an array"),
        ({"rule": GOOD}, "at $: missing key 'crmcore_rule'"),
        ({"crmcore_rule": "1", "rule": GOOD}, "at $.crmcore_rule: expected the format version 1"),
        (
            {"crmcore_rule": 2, "rule": GOOD},
            "version 2 is not supported (this crmcore reads version 1)",
        ),
        ({"crmcore_rule": 1, "rule": GOOD, "extra": 1}, "at $: unexpected key 'extra'"),
        (doc(None), "at $.rule: expected an object, found null"),
        (doc({"type": "xor"}), "at $.rule.type: unknown node type 'xor'"),
        (doc({"items": []}), "at $.rule.type: expected a node type string"),
        (
            doc({"type": "and", "items": [GOOD]}),
            "at $.rule.items: expected an array of at least two",
        ),
        (doc({"type": "not"}), "at $.rule: missing key 'item'"),
        (
            doc({"type": "or", "items": [GOOD, {**GOOD, "operator": "=="}]}),
            "at $.rule.items[1].operator: expected one of =, !=, <, <=, >, >=; found '=='",
        ),
        (
            doc({**GOOD, "value": {"type": "literal", "kind": "int", "value": True}}),
            "at $.rule.value.value: expected an integer, found a boolean",
        ),
        (
            doc({**GOOD, "value": {"type": "literal", "kind": "int", "value": 1.5}}),
            "at $.rule.value.value: expected an integer, found a number",
        ),
        (
            doc({**GOOD, "value": {"type": "literal", "kind": "decimal", "value": "1,5"}}),
            "at $.rule.value.value: '1,5' is not a valid decimal",
        ),
        (
            doc({**GOOD, "value": {"type": "literal", "kind": "decimal", "value": 1.5}}),
            "at $.rule.value.value: expected a decimal string, found a number",
        ),
        (
            doc({**GOOD, "value": {"type": "literal", "kind": "float", "value": float("nan")}}),
            "at $.rule.value.value: must be a finite number",
        ),
        (
            doc({**GOOD, "value": {"type": "literal", "kind": "date", "value": "20240101"}}),
            "at $.rule.value.value: '20240101' is not a valid date",
        ),
        (
            doc(
                {
                    **GOOD,
                    "value": {"type": "literal", "kind": "datetime", "value": "2024-01-01T00:00"},
                }
            ),
            "is not a valid datetime",
        ),
        (
            doc({**GOOD, "value": {"type": "literal", "kind": "null", "value": 0}}),
            "at $.rule.value.value: a null literal has value null",
        ),
        (
            doc({**GOOD, "value": {"type": "literal", "kind": "money", "value": 0}}),
            "at $.rule.value.kind: expected one of int, float, decimal",
        ),
        (
            doc({**GOOD, "value": {"type": "field", "name": "y"}}),
            "at $.rule.value: expected type 'literal', found 'field'",
        ),
        (doc({**GOOD, "operand": {"type": "field", "name": ""}}), "a field name cannot be empty"),
        (
            doc({**GOOD, "operand": GOOD}),
            "at $.rule.operand.type: expected 'field' or 'aggregate', found 'compare'",
        ),
        (
            doc(
                {**GOOD, "operand": {"type": "aggregate", "function": "sum", "source": "purchases"}}
            ),
            "at $.rule.operand: sum needs a purchases column",
        ),
        (
            doc(
                {
                    "type": "within",
                    "operand": FIELD,
                    "duration": {"type": "duration", "amount": -1, "unit": "days"},
                }
            ),
            "at $.rule.duration.amount: expected a whole number >= 0",
        ),
        (
            doc(
                {
                    "type": "within",
                    "operand": FIELD,
                    "duration": {"type": "duration", "amount": 1, "unit": "hours"},
                }
            ),
            "at $.rule.duration.unit: expected one of days, weeks, months, years",
        ),
        (
            doc({"type": "in", "operand": FIELD, "values": []}),
            "at $.rule.values: expected a non-empty array of literals",
        ),
        (
            doc({"type": "in", "operand": FIELD, "values": [ONE, {}]}),
            "at $.rule.values[1]: expected type 'literal'",
        ),
        (
            doc({"type": "is_null", "operand": FIELD, "negated": "yes"}),
            "at $.rule.negated: expected true or false, found a string",
        ),
        (
            doc({"type": "has_tag", "field": FIELD, "tag": "a", "colour": "red"}),
            "at $.rule: unexpected key 'colour'",
        ),
    ],
)
def test_malformed_documents_name_the_path(document: Any, message: str) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        rule_from_json(document)
    assert message in info.value.message


def test_invalid_json_text_has_a_position() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        rule_from_json_text('{"crmcore_rule": 1,\n "rule": }')
    assert (info.value.line, info.value.column) == (2, 10)
    assert info.value.message.startswith("not valid JSON")
    with pytest.raises(RuleSyntaxError, match="must be a string"):
        rule_from_json_text(b"{}")  # type: ignore[arg-type]


def test_deep_documents_are_rejected_not_recursed() -> None:
    leaf: Any = GOOD
    for _ in range(MAX_DEPTH):
        leaf = {"type": "not", "item": leaf}
    rule = rule_from_json(doc(leaf))
    depth_rule: Predicate = Compare(Field("x"), "=", Literal(1))
    for _ in range(MAX_DEPTH):
        depth_rule = Not(depth_rule)
    assert rule == depth_rule
    with pytest.raises(RuleSyntaxError, match="deeper than"):
        rule_from_json(doc({"type": "not", "item": leaf}))
    hostile = '{"crmcore_rule": 1, "rule": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(RuleSyntaxError):
        rule_from_json_text(hostile)


def test_numbers_beyond_the_exact_range_are_refused_before_json() -> None:
    with pytest.raises(ValidationError, match=r"2\*\*53"):
        rule_to_json_text(Compare(Field("x"), "=", Literal(10**5000)))
    document = {"crmcore_rule": 1, "rule": {"type": "compare", "operand": {"field": "x"}}}
    document["rule"]["operator"] = "="
    document["rule"]["value"] = {"int": str(2**60)}
    with pytest.raises(RuleSyntaxError):
        rule_from_json(document)


def test_values_a_node_refuses_are_rule_syntax_errors_naming_the_path() -> None:
    document = {"crmcore_rule": 1, "rule": {"type": "did", "event_kind": ""}}
    with pytest.raises(RuleSyntaxError) as caught:
        rule_from_json(document)
    assert "$.rule.event_kind" in str(caught.value)
