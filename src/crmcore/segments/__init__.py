"""Segment rules: one rule language, evaluated on objects, numpy frames and SQL.

A rule is a tree of frozen nodes ([`rules`][crmcore.segments.rules]), written as
text ([`parser`][crmcore.segments.parser], [`printer`][crmcore.segments.printer]),
stored as versioned JSON ([`jsonform`][crmcore.segments.jsonform]) and type-checked
against a schema ([`typecheck`][crmcore.segments.typecheck]) before it runs. It runs
three ways with one meaning: on one customer ([`matches()`][crmcore.segments.matches]), as a numpy
mask over a frame ([`mask()`][crmcore.segments.mask]) and as parameterised SQL
([`to_sql()`][crmcore.segments.to_sql]), all three from the rule's resolved form
([`resolved`][crmcore.segments.resolved]). Segments ([`segment`][crmcore.segments.segment]) name
rules, evaluate many at once and diff memberships into ``segment.entered`` / ``segment.exited``
events.
"""

from __future__ import annotations

from crmcore.segments.evaluate import matches, record_schema
from crmcore.segments.evaluate_batch import MaskEvaluator, frame_schema, mask
from crmcore.segments.events import SegmentEntered, SegmentEvent, SegmentExited
from crmcore.segments.grammar import MAX_DEPTH, boolean_depth, parse_rule_with_positions
from crmcore.segments.jsonform import (
    JSON_VERSION,
    rule_from_json,
    rule_from_json_text,
    rule_to_json,
    rule_to_json_text,
)
from crmcore.segments.parser import parse_rule
from crmcore.segments.positions import SourceMap
from crmcore.segments.printer import (
    format_literal,
    quote_name,
    quote_string,
    to_pretty_text,
    to_text,
)
from crmcore.segments.resolved import Resolved, resolve
from crmcore.segments.rules import (
    AGGREGATE_FUNCTIONS,
    COMPARISON_OPERATORS,
    COMPUTED_FIELDS,
    Aggregate,
    AggregateFunction,
    AggregateSource,
    And,
    Between,
    Compare,
    ComparisonOperator,
    Did,
    Duration,
    DurationUnit,
    Field,
    FieldType,
    HasTag,
    InList,
    IsNull,
    Literal,
    LiteralValue,
    Node,
    Not,
    Operand,
    Or,
    Predicate,
    RuleSchema,
    TextMatch,
    TextOperator,
    TimeCompare,
    TimeOperator,
    Within,
    children,
    walk,
)
from crmcore.segments.segment import (
    MembershipDiff,
    Segment,
    SegmentMembership,
    SegmentSet,
    diff,
)
from crmcore.segments.sql import (
    DIALECTS,
    Dialect,
    SqlTables,
    escape_like,
    quote_identifier,
    to_sql,
)
from crmcore.segments.tokenizer import KEYWORDS, Token, TokenKind, tokenize
from crmcore.segments.typecheck import (
    check_positions,
    check_rule,
)

__all__ = [
    "Resolved",
    "matches",
    "record_schema",
    "resolve",
    "SegmentEntered",
    "SegmentEvent",
    "SegmentExited",
    "MembershipDiff",
    "Segment",
    "SegmentMembership",
    "SegmentSet",
    "diff",
    "DIALECTS",
    "Dialect",
    "SqlTables",
    "escape_like",
    "quote_identifier",
    "to_sql",
    "MaskEvaluator",
    "frame_schema",
    "mask",
    "AGGREGATE_FUNCTIONS",
    "COMPARISON_OPERATORS",
    "COMPUTED_FIELDS",
    "Aggregate",
    "AggregateFunction",
    "AggregateSource",
    "And",
    "Between",
    "Compare",
    "ComparisonOperator",
    "Did",
    "Duration",
    "DurationUnit",
    "Field",
    "FieldType",
    "HasTag",
    "InList",
    "IsNull",
    "Literal",
    "LiteralValue",
    "Node",
    "Not",
    "Operand",
    "Or",
    "Predicate",
    "RuleSchema",
    "TextMatch",
    "TextOperator",
    "TimeCompare",
    "TimeOperator",
    "Within",
    "children",
    "walk",
    "KEYWORDS",
    "MAX_DEPTH",
    "SourceMap",
    "Token",
    "TokenKind",
    "boolean_depth",
    "parse_rule",
    "parse_rule_with_positions",
    "tokenize",
    "format_literal",
    "quote_name",
    "quote_string",
    "to_pretty_text",
    "to_text",
    "JSON_VERSION",
    "rule_from_json",
    "rule_from_json_text",
    "rule_to_json",
    "rule_to_json_text",
    "check_positions",
    "check_rule",
]
