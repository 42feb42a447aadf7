"""Parse segment rule text into a rule, optionally type-checked against a schema.

[`parse_rule()`][crmcore.segments.parser.parse_rule] is the entry point of the text syntax. The text
is split into tokens by [`crmcore.segments.tokenizer`][crmcore.segments.tokenizer] and parsed by the
one-pass parser of [`crmcore.segments.grammar`][crmcore.segments.grammar] (which also documents the
grammar); given a [`RuleSchema`][crmcore.segments.rules.RuleSchema], the rule is then checked by
[`crmcore.segments.typecheck.check_positions()`][crmcore.segments.typecheck.check_positions], so a
type error points at the line and column of the offending node.
[`to_text()`][crmcore.segments.printer.to_text] turns a rule back into text:
``parse_rule(to_text(rule)) == rule`` for every rule.
"""

from __future__ import annotations

from crmcore.segments.grammar import parse_rule_with_positions
from crmcore.segments.rules import Predicate, RuleSchema
from crmcore.segments.typecheck import check_positions

__all__ = ["parse_rule"]


def parse_rule(text: str, schema: RuleSchema | None = None) -> Predicate:
    """Parse rule text into a rule; with a ``schema``, also type-check it.

    Examples:
        >>> parse_rule('total_spent >= 1000 and has tag "vip"')
        And(items=(Compare(operand=Field(name='total_spent'), operator='>=',
        value=Literal(value=1000)), HasTag(tag='vip', field=Field(name='tags'))))
        >>> parse_rule("total_spent >= ")
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.RuleSyntaxError: line 1, column 15: expected a value ...

    Raises:
        RuleSyntaxError: the text does not follow the grammar.
        RuleTypeError: a schema is given and the rule does not type-check against it
            (with the position of the offending node).
    """
    rule, where = parse_rule_with_positions(text)
    if schema is not None:
        check_positions(rule, schema, where)
    return rule
