"""The grammar of segment rule text and its hand-written one-pass parser.

A rule reads like a sentence:

    total_spent >= 1000 and country in ("CN", "TW") and last_purchase_at within 90 days

[`parse_rule_with_positions()`][crmcore.segments.grammar.parse_rule_with_positions] turns the tokens
of such text ([`tokenize()`][crmcore.segments.tokenizer.tokenize]) into the AST of
[`crmcore.segments.rules`][crmcore.segments.rules], and
[`to_text()`][crmcore.segments.printer.to_text] turns an AST back into text, so
``parse_rule(to_text(rule)) == rule`` for every rule. The grammar (in EBNF, with the full
description in ``docs/segments.md``):

    rule      = or_expr EOF ;
    or_expr   = and_expr { "or" and_expr } ;
    and_expr  = not_expr { "and" not_expr } ;
    not_expr  = { "not" } ( "(" or_expr ")" | condition ) ;
    condition = "has" "tag" STRING
              | "did" STRING [ "within" duration ]
              | aggregate agg_test
              | field [ field_test ] ;

Keywords are case-insensitive; field names are case-sensitive. Why a hand-written
parser: the grammar is small, error messages can say exactly what was expected, and
the whole parse is one linear pass with no recursion (nesting is kept on an explicit
stack and capped at [`MAX_DEPTH`][crmcore.segments.grammar.MAX_DEPTH]), so hostile input can neither
hang it nor exhaust Python's stack.

Every node's position is recorded in a [`SourceMap`][crmcore.segments.positions.SourceMap],
keyed by the node's *path* (the tuple of child indices from the root, in
[`children()`][crmcore.segments.rules.children] order), so the type checker can point at the
offending node. [`crmcore.segments.parser.parse_rule()`][crmcore.segments.parser.parse_rule] is the
entry point that also type-checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeAlias, TypeVar
from typing import Literal as TypingLiteral

import attrs

from crmcore.kernel.errors import RuleSyntaxError, ValidationError
from crmcore.segments.positions import SourceMap, Span, line_column, line_starts, syntax_error
from crmcore.segments.rules import (
    MAX_LIST_VALUES,
    Aggregate,
    AggregateFunction,
    And,
    Between,
    Compare,
    ComparisonOperator,
    Did,
    Duration,
    DurationUnit,
    Field,
    HasTag,
    InList,
    IsNull,
    Literal,
    LiteralValue,
    Not,
    Operand,
    Or,
    Predicate,
    TextMatch,
    TextOperator,
    TimeCompare,
    Within,
)
from crmcore.segments.tokenizer import Token, tokenize

T = TypeVar("T")

__all__ = ["MAX_DEPTH", "MAX_RULE_LENGTH", "boolean_depth", "parse_rule_with_positions"]

MAX_DEPTH: Final = 200
"""The deepest nesting of and/or/not a rule may have."""
MAX_RULE_LENGTH: Final = 100_000
"""The longest rule text, in characters, checked before anything is parsed."""
"""How deeply ``and``/``or``/``not`` may nest (and parentheses in text). Deeper rules are
rejected with a [`RuleSyntaxError`][crmcore.kernel.errors.RuleSyntaxError] rather than a
RecursionError in some back end.
"""

_UNITS: Final[dict[str, DurationUnit]] = {
    "day": "days",
    "days": "days",
    "week": "weeks",
    "weeks": "weeks",
    "month": "months",
    "months": "months",
    "year": "years",
    "years": "years",
}
_FUNCTIONS: Final[dict[str, AggregateFunction]] = {
    "count": "count",
    "sum": "sum",
    "avg": "avg",
    "min": "min",
    "max": "max",
}
_COMPARISONS: Final[dict[str, ComparisonOperator]] = {
    "=": "=",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "end of input"
    shown = token.text if len(token.text) <= 30 else token.text[:27] + "..."
    if token.kind == "string":
        return f"string {shown}"
    if token.kind == "keyword":
        return f"keyword '{token.value}'"
    return f"'{shown}'"


_Term: TypeAlias = tuple[Predicate, Span, int]  # node, its span, its boolean depth


@attrs.define
class _Frame:
    """One level of parentheses: the or-chain of and-chains built so far."""

    nots: list[int]  # offsets of the `not`s in front of the "("
    depth: int  # nesting (parentheses + nots) of this level
    offset: int  # where the "(" is
    ands: list[_Term] = attrs.field(factory=list)
    ors: list[_Term] = attrs.field(factory=list)


def _chain(kind: type[And] | type[Or], terms: list[_Term]) -> _Term:
    if len(terms) == 1:
        return terms[0]
    node = kind(t[0] for t in terms)
    return (
        node,
        Span(terms[0][1].offset, tuple(t[1] for t in terms)),
        1 + max(t[2] for t in terms),
    )


class _Parser:
    """A one-pass parser over the token list; ``steps`` counts token reads (for tests)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.steps = 0

    # token access

    def peek(self, ahead: int = 0) -> Token:
        self.steps += 1
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        if token.kind != "end":
            self.index += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        return token.kind == "keyword" and token.value in words

    def error(self, expected: str, token: Token | None = None) -> RuleSyntaxError:
        found = self.peek() if token is None else token
        offset = found.offset
        if found.kind == "end" and self.index > 0:
            previous = self.tokens[self.index - 1]
            offset = previous.offset + len(previous.text)
        return syntax_error(f"expected {expected}, found {_describe(found)}", self.text, offset)

    def keyword(self, word: str, context: str = "") -> Token:
        if not self.at_keyword(word):
            raise self.error(f"'{word}'{context}")
        return self.take()

    # the boolean structure: iterative, with an explicit stack of parenthesis frames

    def parse(self) -> tuple[Predicate, Span]:
        stack = [_Frame(nots=[], depth=0, offset=0)]
        while True:
            nots: list[int] = []
            while self.at_keyword("not"):
                nots.append(self.take().offset)
            depth = stack[-1].depth + len(nots)
            if self.peek().kind == "(":
                if depth + 1 > MAX_DEPTH:
                    raise syntax_error(
                        f"rule nests deeper than {MAX_DEPTH} levels", self.text, self.peek().offset
                    )
                stack.append(_Frame(nots=nots, depth=depth + 1, offset=self.take().offset))
                continue
            if depth > MAX_DEPTH:
                raise syntax_error(
                    f"rule nests deeper than {MAX_DEPTH} levels", self.text, nots[-1]
                )
            node, span = self.condition()
            term = self._negate(nots, (node, span, 0))
            # Attach the term, then close as many parentheses as follow it.
            while True:
                frame = stack[-1]
                frame.ands.append(term)
                token = self.peek()
                if token.kind == "keyword" and token.value == "and":
                    self.take()
                    break
                if token.kind == "keyword" and token.value == "or":
                    frame.ors.append(self._checked(_chain(And, frame.ands)))
                    frame.ands = []
                    self.take()
                    break
                done = self._checked(
                    _chain(Or, [*frame.ors, self._checked(_chain(And, frame.ands))])
                )
                if token.kind == ")":
                    if len(stack) == 1:
                        raise self.error("'and', 'or' or end of input")
                    self.take()
                    stack.pop()
                    term = self._negate(frame.nots, done)
                    continue
                if token.kind == "end":
                    if len(stack) > 1:
                        raise syntax_error(
                            f"expected ')' to close the '(' at {self._where(stack[-1].offset)}, "
                            "found end of input",
                            self.text,
                            self._end_offset(),
                        )
                    return done[0], done[1]
                if len(stack) > 1:
                    raise self.error("'and', 'or' or ')'")
                raise self.error("'and', 'or' or end of input")

    def _checked(self, term: _Term) -> _Term:
        if term[2] > MAX_DEPTH:
            raise syntax_error(
                f"rule nests deeper than {MAX_DEPTH} levels", self.text, term[1].offset
            )
        return term

    def _negate(self, nots: list[int], term: _Term) -> _Term:
        node, span, depth = term
        for offset in reversed(nots):
            node, span, depth = Not(node), Span(offset, (span,)), depth + 1
        return self._checked((node, span, depth))

    def _where(self, offset: int) -> str:
        line, column = line_column(line_starts(self.text), offset)
        return f"line {line}, column {column}"

    def _end_offset(self) -> int:
        if self.index == 0:
            return 0
        previous = self.tokens[self.index - 1]
        return previous.offset + len(previous.text)

    # conditions

    def condition(self) -> tuple[Predicate, Span]:
        token = self.peek()
        if token.kind == "keyword":
            if token.value == "has":
                self.take()
                self.keyword("tag", " after 'has' (as in: has tag \"vip\")")
                tag = self.string("a tag in quotes after 'has tag'")
                field = Field("tags")
                return self.node(token.offset, HasTag, tag, field), Span(
                    token.offset, (Span(token.offset),)
                )
            if token.value == "did":
                self.take()
                kind = self.string("an event kind in quotes after 'did'")
                if self.at_keyword("within"):
                    self.take()
                    window, wspan = self.duration()
                    return self.node(token.offset, Did, kind, window), Span(token.offset, (wspan,))
                return self.node(token.offset, Did, kind), Span(token.offset)
            if token.value in _FUNCTIONS and self.peek(1).kind == "(":
                aggregate, aspan = self.aggregate()
                return self.operand_test(aggregate, aspan, is_field=False)
        if token.kind != "name":
            expected = "a condition (a field name, 'has tag', 'did', 'not' or '(')"
            if token.kind == "keyword":
                hint = f" (a field named {token.text!r} is written in backquotes: `{token.text}`)"
                raise syntax_error(
                    f"expected {expected}, found {_describe(token)}{hint}", self.text, token.offset
                )
            raise self.error(expected)
        self.take()
        assert isinstance(token.value, str)
        field = self.node(token.offset, Field, token.value)
        return self.operand_test(field, Span(token.offset), is_field=True)

    def operand_test(
        self, operand: Operand, span: Span, *, is_field: bool
    ) -> tuple[Predicate, Span]:
        start = span.offset
        token = self.peek()
        if token.kind == "op":
            self.take()
            value, vspan = self.literal()
            return Compare(operand, _COMPARISONS[token.text], value), Span(start, (span, vspan))
        word = token.value if token.kind == "keyword" else None
        negated = False
        if word == "not":
            following = self.peek(1)
            if following.kind == "keyword" and following.value in ("in", "between"):
                self.take()
                negated = True
                word = following.value
        if word == "in":
            self.take()
            return self.in_list(operand, span, negated)
        if word == "between":
            self.take()
            low, lspan = self.literal()
            self.keyword("and", " between the two ends of 'between'")
            high, hspan = self.literal()
            return Between(operand, low, high, negated), Span(start, (span, lspan, hspan))
        if word == "is":
            self.take()
            null_negated = False
            if self.at_keyword("not"):
                self.take()
                null_negated = True
            self.keyword("null", " after 'is not'" if null_negated else " after 'is'")
            return IsNull(operand, null_negated), Span(start, (span,))
        expected_generic = "a comparison (=, !=, <, <=, >, >=), 'in', 'not in', 'between' or 'is'"
        if not is_field:
            raise self.error(f"{expected_generic} after the aggregate")
        assert isinstance(operand, Field)
        if word in ("contains", "starts", "ends"):
            self.take()
            operator: TextOperator = "contains"
            if word != "contains":
                self.keyword("with", f" after '{word}'")
                operator = "starts_with" if word == "starts" else "ends_with"
            text = self.string(f"text in quotes after '{operator.replace('_', ' ')}'")
            ignore = False
            if self.at_keyword("ignoring"):
                self.take()
                self.keyword("case", " after 'ignoring'")
                ignore = True
            match = self.node(start, TextMatch, operand, operator, text, ignore)
            return match, Span(start, (span,))
        if word == "has":
            self.take()
            tag = self.string("a tag in quotes after 'has'")
            return self.node(start, HasTag, tag, operand), Span(start, (span,))
        if word == "within":
            self.take()
            duration, dspan = self.duration()
            return Within(operand, duration), Span(start, (span, dspan))
        if word in ("before", "after"):
            self.take()
            time_operator: TypingLiteral["before", "after"] = (
                "before" if word == "before" else "after"
            )
            point: Literal | Duration
            if (
                self.peek().kind == "number"
                and self.peek(1).kind == "keyword"
                and (self.peek(1).value in _UNITS)
            ):
                point, pspan = self.duration()
                self.keyword("ago", " after the duration (as in: after 30 days ago)")
            else:
                point, pspan = self.literal()
            return TimeCompare(operand, time_operator, point), Span(start, (span, pspan))
        if token.kind in ("end", ")") or word in ("and", "or"):
            # A bare field is a boolean test: `consent_email` means `consent_email = true`.
            return Compare(operand, "=", Literal(True)), Span(start, (span, Span(start)))
        raise self.error(
            f"{expected_generic}, 'contains', 'starts with', 'ends with', 'has', 'within', "
            "'before' or 'after' after the field name"
        )

    def in_list(self, operand: Operand, span: Span, negated: bool) -> tuple[Predicate, Span]:
        if self.peek().kind != "(":
            raise self.error("'(' to open the list after 'in'")
        self.take()
        values: list[Literal] = []
        spans: list[Span] = [span]
        while True:
            value, vspan = self.literal()
            values.append(value)
            spans.append(vspan)
            if len(values) > MAX_LIST_VALUES:
                raise syntax_error(
                    f"an in-list takes at most {MAX_LIST_VALUES:,} values", self.text, vspan.offset
                )
            token = self.take()
            if token.kind == ")":
                break
            if token.kind != ",":
                raise self.error("',' or ')' in the list", token)
            if self.peek().kind == ")":  # a trailing comma
                self.take()
                break
        return InList(operand, tuple(values), negated), Span(span.offset, tuple(spans))

    def aggregate(self) -> tuple[Aggregate, Span]:
        head = self.take()
        function = _FUNCTIONS[str(head.value)]
        self.take()  # "("
        token = self.peek()
        column: str | None = None
        kind: str | None = None
        source: TypingLiteral["purchases", "events"] = "purchases"
        if token.kind == "keyword" and token.value in ("purchases", "events"):
            self.take()
            if token.value == "events":
                source = "events"
                if self.peek().kind == "string":
                    kind = str(self.take().value)
        elif token.kind == "name":
            self.take()
            column = str(token.value)
        else:
            raise self.error(
                "'purchases', 'events' or a purchase column (as in: sum(amount)) "
                f"after '{function}('"
            )
        window: Duration | None = None
        children: tuple[Span, ...] = ()
        if self.at_keyword("in"):
            self.take()
            self.keyword("last", " after 'in' (as in: in last 90 days)")
            window, wspan = self.duration()
            children = (wspan,)
        if self.peek().kind != ")":
            raise self.error(f"'in last <duration>' or ')' to close '{function}('")
        self.take()
        try:
            node = Aggregate(function, source, column, kind, window)
        except ValidationError as error:
            raise syntax_error(
                f"{function}(...): {error.reason}", self.text, head.offset
            ) from error
        return node, Span(head.offset, children)

    def node(self, offset: int, build: Callable[..., T], *args: object) -> T:
        """``build(*args)``, a node constructor's validation error reported at ``offset``."""
        try:
            return build(*args)
        except ValidationError as error:
            raise syntax_error(f"{error.field}: {error.reason}", self.text, offset) from error

    # leaves

    def string(self, expected: str) -> str:
        token = self.peek()
        if token.kind != "string":
            raise self.error(expected)
        self.take()
        assert isinstance(token.value, str)
        return token.value

    def duration(self) -> tuple[Duration, Span]:
        token = self.peek()
        if token.kind != "number":
            raise self.error("a duration (as in: 90 days)")
        if not isinstance(token.value, int) or token.value < 0:
            raise syntax_error(
                "a duration needs a whole number >= 0, as in: 90 days", self.text, token.offset
            )
        self.take()
        unit = self.peek()
        if unit.kind != "keyword" or unit.value not in _UNITS:
            raise self.error("a unit (days, weeks, months or years) after the number")
        self.take()
        return Duration(token.value, _UNITS[str(unit.value)]), Span(token.offset)

    def literal(self) -> tuple[Literal, Span]:
        token = self.peek()
        value: LiteralValue
        if token.kind in ("string", "number", "date", "datetime"):
            value = token.value
        elif token.kind == "keyword" and token.value in ("true", "false", "null"):
            value = {"true": True, "false": False, "null": None}[str(token.value)]
        else:
            raise self.error('a value (a number, "text", true, false, null or a date)')
        self.take()
        try:
            return Literal(value), Span(token.offset)
        except ValidationError as error:
            raise syntax_error(error.reason, self.text, token.offset) from error


def parse_rule_with_positions(text: str) -> tuple[Predicate, SourceMap]:
    """Parse rule text; return the rule and where each of its nodes starts.

    Raises:
        RuleSyntaxError: the text does not follow the grammar (with line, column
            and a caret excerpt).
    """
    if isinstance(text, str) and len(text) > MAX_RULE_LENGTH:
        raise syntax_error(
            f"rule text is {len(text):,} characters long; the limit is {MAX_RULE_LENGTH:,}",
            text[:200],
            0,
        )
    parser = _Parser(text)
    rule, span = parser.parse()
    return rule, SourceMap(text, span)


def boolean_depth(rule: Predicate) -> int:
    """How many ``and``/``or``/``not`` nodes are on the longest path from the root.

    Examples:
        >>> from crmcore.segments.parser import parse_rule
        >>> boolean_depth(parse_rule("not (a or b and c)"))
        3
    """
    deepest = 0
    stack: list[tuple[Predicate, int]] = [(rule, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, And | Or):
            stack.extend((item, depth + 1) for item in node.items)
        elif isinstance(node, Not):
            stack.append((node.item, depth + 1))
        else:
            deepest = max(deepest, depth)
            continue
        deepest = max(deepest, depth + 1)
    return deepest
