"""The text syntax of segment rules: a tokenizer and a hand-written parser.

A rule reads like a sentence::

    total_spent >= 1000 and country in ("CN", "TW") and last_purchase_at within 90 days

:func:`parse_rule` turns such text into the AST of :mod:`crmcore.segments.rules`
and :func:`~crmcore.segments.printer.to_text` turns an AST back into text, so
``parse_rule(to_text(rule)) == rule`` for every rule. The grammar (in EBNF, with
the full description in ``docs/segments.md``)::

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
stack and capped at :data:`MAX_DEPTH`), so hostile input can neither hang it nor
exhaust Python's stack.

Every node's position is recorded in a :class:`SourceMap`, keyed by the node's *path*
(the tuple of child indices from the root, in :func:`~crmcore.segments.rules.children`
order), so the type checker can point at the offending node.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Final, NamedTuple, TypeAlias, TypeVar
from typing import Literal as TypingLiteral

import attrs

from crmcore.kernel.errors import RuleSyntaxError, ValidationError
from crmcore.segments.rules import (
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

if TYPE_CHECKING:
    from crmcore.segments.rules import RuleSchema

T = TypeVar("T")

__all__ = [
    "KEYWORDS",
    "MAX_DEPTH",
    "SourceMap",
    "Token",
    "TokenKind",
    "boolean_depth",
    "parse_rule",
    "parse_rule_with_positions",
    "tokenize",
]

#: How deeply ``and``/``or``/``not`` may nest (and parentheses in text). Deeper rules are
#: rejected with a :class:`~crmcore.kernel.errors.RuleSyntaxError` rather than a RecursionError
#: in some back end.
MAX_DEPTH: Final = 200

#: Reserved words (matched case-insensitively). A field with one of these names, or a
#: name that is not a plain ASCII identifier, is written in backquotes.
KEYWORDS: Final[frozenset[str]] = frozenset(
    {
        "and",
        "or",
        "not",
        "in",
        "between",
        "is",
        "null",
        "true",
        "false",
        "contains",
        "starts",
        "ends",
        "with",
        "ignoring",
        "case",
        "has",
        "tag",
        "within",
        "before",
        "after",
        "ago",
        "did",
        "count",
        "sum",
        "avg",
        "min",
        "max",
        "purchases",
        "events",
        "last",
        "day",
        "days",
        "week",
        "weeks",
        "month",
        "months",
        "year",
        "years",
    }
)

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

#: The kinds of :class:`Token`.
TokenKind = TypingLiteral[
    "name", "keyword", "string", "number", "date", "datetime", "op", "(", ")", ",", "end"
]

# Possessive quantifiers keep every pattern linear in the input length.
_SPACE = re.compile(r"(?:\s++|#[^\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]*+)++")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*+(?:\.[A-Za-z_][A-Za-z0-9_]*+)*+")
_NUMBER = re.compile(r"-?[0-9]++(\.[0-9]++)?+([eE][+-]?+[0-9]++)?+")
_TEMPORAL = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?"
)
_QUOTED = {
    '"': re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL),
    "'": re.compile(r"'(?:[^'\\]++|\\.)*+'", re.DOTALL),
    "`": re.compile(r"`(?:[^`\\]++|\\.)*+`", re.DOTALL),
}
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))", re.DOTALL)
_SIMPLE_ESCAPES: Final = {
    "\\": "\\",
    '"': '"',
    "'": "'",
    "`": "`",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_OPERATOR = re.compile(r"<=|>=|!=|[=<>]")


class Token(NamedTuple):
    """One lexical token: its kind, source text, decoded value and offset in the text.

    ``value`` is the lower-cased word of a keyword, the name of a field, the decoded
    text of a string, the number (``int``, ``Decimal`` or ``float``) of a number, the
    ``date`` or aware ``datetime`` of a date/datetime, and ``None`` for punctuation.
    """

    kind: TokenKind
    text: str
    value: LiteralValue
    offset: int


class _Span(NamedTuple):
    """Where a node starts, and the spans of its children (in ``children`` order)."""

    offset: int
    children: tuple[_Span, ...] = ()


class SourceMap:
    """Positions of a parsed rule's nodes: ``position(path)`` → (line, column), 1-based.

    A *path* is the tuple of child indices from the root (``()`` is the root), in
    :func:`~crmcore.segments.rules.children` order.

    >>> rule, where = parse_rule_with_positions("a = 1 and\\n  b = 2")
    >>> where.position((1,)), where.position((1, 1))
    ((2, 3), (2, 7))
    """

    def __init__(self, text: str, root: _Span) -> None:
        self.text = text
        self._root = root
        self._line_starts = _line_starts(text)

    def position(self, path: tuple[int, ...]) -> tuple[int, int]:
        """The (line, column) where the node at ``path`` starts; (0, 0) if there is none."""
        span = self._root
        for index in path:
            if not 0 <= index < len(span.children):
                return (0, 0)
            span = span.children[index]
        return _line_column(self._line_starts, span.offset)


def _line_starts(text: str) -> list[int]:
    # The same line breaks as str.splitlines, which the caret excerpt of RuleError uses.
    starts = [0]
    total = 0
    for line in text.splitlines(keepends=True):
        total += len(line)
        starts.append(total)
    return starts


def _line_column(starts: list[int], offset: int) -> tuple[int, int]:
    line = bisect.bisect_right(starts, offset) - 1
    if line >= 1 and line == len(starts) - 1:
        # The end of the text belongs to the last line (even after a final line break).
        line -= 1
    return (line + 1, offset - starts[line] + 1)


def _fail(message: str, text: str, offset: int) -> RuleSyntaxError:
    line, column = _line_column(_line_starts(text), offset)
    return RuleSyntaxError(message, text, line, column)


# --- tokenizer -------------------------------------------------------------------------


def _unescape(body: str, text: str, offset: int) -> str:
    """Decode backslash escapes in a quoted body starting at ``offset`` in ``text``."""

    def replace(match: re.Match[str]) -> str:
        hex4, hex8, char = match.group(1), match.group(2), match.group(3)
        if hex4 is not None:
            return chr(int(hex4, 16))
        if hex8 is not None:
            code = int(hex8, 16)
            if code > 0x10FFFF:
                raise _fail(f"\\U{hex8} is beyond Unicode", text, offset + match.start())
            return chr(code)
        if char in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[char]
        raise _fail(
            f"unknown escape \\{char!s} (use \\\\, \\\", \\', \\`, \\n, \\r, \\t, \\uXXXX)",
            text,
            offset + match.start(),
        )

    return _ESCAPE.sub(replace, body) if "\\" in body else body


def _number(source: str, match: re.Match[str], text: str, offset: int) -> int | Decimal | float:
    try:
        if match.group(2) is not None:
            value = float(source)
            if value in (float("inf"), float("-inf")):
                raise _fail(f"number {source} is out of range", text, offset)
            return value
        if match.group(1) is not None:
            return Decimal(source)
        return int(source)
    except (ValueError, InvalidOperation) as error:  # e.g. int() beyond the digit limit
        raise _fail(f"number {source[:20]}... is too long", text, offset) from error


def _temporal(source: str, match: re.Match[str], text: str, offset: int) -> date | datetime:
    if match.group(1) is None:
        try:
            return date.fromisoformat(source)
        except ValueError as error:
            raise _fail(f"{source} is not a valid date", text, offset) from error
    if match.group(2) is None:
        raise _fail(
            f"datetime {source} has no UTC offset; add one, e.g. {source}Z or {source}+08:00",
            text,
            offset,
        )
    try:
        # Literal normalises to UTC; that conversion can overflow near year 1 or 9999.
        value = Literal(datetime.fromisoformat(source)).value
    except (ValueError, OverflowError, ValidationError) as error:
        raise _fail(f"{source} is not a valid datetime", text, offset) from error
    assert isinstance(value, datetime)
    return value


def tokenize(text: str) -> list[Token]:
    """Split rule text into tokens (the last one has kind ``"end"``).

    Whitespace and ``#`` comments (to the end of the line) separate tokens.

    >>> [t.kind for t in tokenize('age >= 18 and has tag "vip"')]
    ['name', 'op', 'number', 'keyword', 'keyword', 'keyword', 'string', 'end']
    """
    if not isinstance(text, str):
        raise RuleSyntaxError(f"rule text must be a string, not {type(text).__name__}")
    tokens: list[Token] = []
    pos = 0
    size = len(text)
    while True:
        space = _SPACE.match(text, pos)
        if space is not None:
            pos = space.end()
        if pos >= size:
            tokens.append(Token("end", "", None, size))
            return tokens
        char = text[pos]
        if char.isascii() and (char.isalpha() or char == "_"):
            match = _IDENT.match(text, pos)
            assert match is not None
            word = match.group()
            lower = word.lower()
            if lower in KEYWORDS:
                tokens.append(Token("keyword", word, lower, pos))
            else:
                tokens.append(Token("name", word, word, pos))
            pos = match.end()
        elif char in _QUOTED:
            match = _QUOTED[char].match(text, pos)
            if match is None:
                what = "name" if char == "`" else "string"
                raise _fail(f"unterminated {what}: no closing {char}", text, pos)
            body = _unescape(match.group()[1:-1], text, pos + 1)
            if char == "`":
                if not body:
                    raise _fail("empty field name ``", text, pos)
                tokens.append(Token("name", match.group(), body, pos))
            else:
                tokens.append(Token("string", match.group(), body, pos))
            pos = match.end()
        elif (char.isascii() and char.isdigit()) or (
            char == "-" and text[pos + 1 : pos + 2].isdigit()
        ):
            temporal = _TEMPORAL.match(text, pos) if char != "-" else None
            if temporal is not None:
                source = temporal.group()
                value: LiteralValue = _temporal(source, temporal, text, pos)
                kind: TokenKind = "datetime" if isinstance(value, datetime) else "date"
                tokens.append(Token(kind, source, value, pos))
                pos = temporal.end()
            else:
                match = _NUMBER.match(text, pos)
                if match is None:  # "-" followed by a non-ASCII digit
                    raise _fail(f"unexpected character {char!r}", text, pos)
                source = match.group()
                tokens.append(Token("number", source, _number(source, match, text, pos), pos))
                pos = match.end()
        elif char in "(),":
            kind = "(" if char == "(" else ")" if char == ")" else ","
            tokens.append(Token(kind, char, None, pos))
            pos += 1
        else:
            match = _OPERATOR.match(text, pos)
            if match is None:
                raise _fail(f"unexpected character {char!r}", text, pos)
            tokens.append(Token("op", match.group(), match.group(), pos))
            pos = match.end()


# --- parser ----------------------------------------------------------------------------


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "end of input"
    shown = token.text if len(token.text) <= 30 else token.text[:27] + "..."
    if token.kind == "string":
        return f"string {shown}"
    if token.kind == "keyword":
        return f"keyword '{token.value}'"
    return f"'{shown}'"


_Term: TypeAlias = tuple[Predicate, _Span, int]  # node, its span, its boolean depth


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
        _Span(terms[0][1].offset, tuple(t[1] for t in terms)),
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
        return _fail(f"expected {expected}, found {_describe(found)}", self.text, offset)

    def keyword(self, word: str, context: str = "") -> Token:
        if not self.at_keyword(word):
            raise self.error(f"'{word}'{context}")
        return self.take()

    # the boolean structure: iterative, with an explicit stack of parenthesis frames

    def parse(self) -> tuple[Predicate, _Span]:
        stack = [_Frame(nots=[], depth=0, offset=0)]
        while True:
            nots: list[int] = []
            while self.at_keyword("not"):
                nots.append(self.take().offset)
            depth = stack[-1].depth + len(nots)
            if self.peek().kind == "(":
                if depth + 1 > MAX_DEPTH:
                    raise _fail(
                        f"rule nests deeper than {MAX_DEPTH} levels", self.text, self.peek().offset
                    )
                stack.append(_Frame(nots=nots, depth=depth + 1, offset=self.take().offset))
                continue
            if depth > MAX_DEPTH:
                raise _fail(f"rule nests deeper than {MAX_DEPTH} levels", self.text, nots[-1])
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
                        raise _fail(
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
            raise _fail(f"rule nests deeper than {MAX_DEPTH} levels", self.text, term[1].offset)
        return term

    def _negate(self, nots: list[int], term: _Term) -> _Term:
        node, span, depth = term
        for offset in reversed(nots):
            node, span, depth = Not(node), _Span(offset, (span,)), depth + 1
        return self._checked((node, span, depth))

    def _where(self, offset: int) -> str:
        line, column = _line_column(_line_starts(self.text), offset)
        return f"line {line}, column {column}"

    def _end_offset(self) -> int:
        if self.index == 0:
            return 0
        previous = self.tokens[self.index - 1]
        return previous.offset + len(previous.text)

    # conditions

    def condition(self) -> tuple[Predicate, _Span]:
        token = self.peek()
        if token.kind == "keyword":
            if token.value == "has":
                self.take()
                self.keyword("tag", " after 'has' (as in: has tag \"vip\")")
                tag = self.string("a tag in quotes after 'has tag'")
                field = Field("tags")
                return self.node(token.offset, HasTag, tag, field), _Span(
                    token.offset, (_Span(token.offset),)
                )
            if token.value == "did":
                self.take()
                kind = self.string("an event kind in quotes after 'did'")
                if self.at_keyword("within"):
                    self.take()
                    window, wspan = self.duration()
                    return self.node(token.offset, Did, kind, window), _Span(token.offset, (wspan,))
                return self.node(token.offset, Did, kind), _Span(token.offset)
            if token.value in _FUNCTIONS and self.peek(1).kind == "(":
                aggregate, aspan = self.aggregate()
                return self.operand_test(aggregate, aspan, is_field=False)
        if token.kind != "name":
            expected = "a condition (a field name, 'has tag', 'did', 'not' or '(')"
            if token.kind == "keyword":
                hint = f" (a field named {token.text!r} is written in backquotes: `{token.text}`)"
                raise _fail(
                    f"expected {expected}, found {_describe(token)}{hint}", self.text, token.offset
                )
            raise self.error(expected)
        self.take()
        assert isinstance(token.value, str)
        field = Field(token.value)
        return self.operand_test(field, _Span(token.offset), is_field=True)

    def operand_test(
        self, operand: Operand, span: _Span, *, is_field: bool
    ) -> tuple[Predicate, _Span]:
        start = span.offset
        token = self.peek()
        if token.kind == "op":
            self.take()
            value, vspan = self.literal()
            return Compare(operand, _COMPARISONS[token.text], value), _Span(start, (span, vspan))
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
            return Between(operand, low, high, negated), _Span(start, (span, lspan, hspan))
        if word == "is":
            self.take()
            null_negated = False
            if self.at_keyword("not"):
                self.take()
                null_negated = True
            self.keyword("null", " after 'is not'" if null_negated else " after 'is'")
            return IsNull(operand, null_negated), _Span(start, (span,))
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
            return TextMatch(operand, operator, text, ignore), _Span(start, (span,))
        if word == "has":
            self.take()
            tag = self.string("a tag in quotes after 'has'")
            return self.node(start, HasTag, tag, operand), _Span(start, (span,))
        if word == "within":
            self.take()
            duration, dspan = self.duration()
            return Within(operand, duration), _Span(start, (span, dspan))
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
            return TimeCompare(operand, time_operator, point), _Span(start, (span, pspan))
        if token.kind in ("end", ")") or word in ("and", "or"):
            # A bare field is a boolean test: `consent_email` means `consent_email = true`.
            return Compare(operand, "=", Literal(True)), _Span(start, (span, _Span(start)))
        raise self.error(
            f"{expected_generic}, 'contains', 'starts with', 'ends with', 'has', 'within', "
            "'before' or 'after' after the field name"
        )

    def in_list(self, operand: Operand, span: _Span, negated: bool) -> tuple[Predicate, _Span]:
        if self.peek().kind != "(":
            raise self.error("'(' to open the list after 'in'")
        self.take()
        values: list[Literal] = []
        spans: list[_Span] = [span]
        while True:
            value, vspan = self.literal()
            values.append(value)
            spans.append(vspan)
            token = self.take()
            if token.kind == ")":
                break
            if token.kind != ",":
                raise self.error("',' or ')' in the list", token)
            if self.peek().kind == ")":  # a trailing comma
                self.take()
                break
        return InList(operand, tuple(values), negated), _Span(span.offset, tuple(spans))

    def aggregate(self) -> tuple[Aggregate, _Span]:
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
        children: tuple[_Span, ...] = ()
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
            raise _fail(f"{function}(...): {error.reason}", self.text, head.offset) from error
        return node, _Span(head.offset, children)

    def node(self, offset: int, build: Callable[..., T], *args: object) -> T:
        """``build(*args)``, a node constructor's validation error reported at ``offset``."""
        try:
            return build(*args)
        except ValidationError as error:
            raise _fail(f"{error.field}: {error.reason}", self.text, offset) from error

    # leaves

    def string(self, expected: str) -> str:
        token = self.peek()
        if token.kind != "string":
            raise self.error(expected)
        self.take()
        assert isinstance(token.value, str)
        return token.value

    def duration(self) -> tuple[Duration, _Span]:
        token = self.peek()
        if token.kind != "number":
            raise self.error("a duration (as in: 90 days)")
        if not isinstance(token.value, int) or token.value < 0:
            raise _fail(
                "a duration needs a whole number >= 0, as in: 90 days", self.text, token.offset
            )
        self.take()
        unit = self.peek()
        if unit.kind != "keyword" or unit.value not in _UNITS:
            raise self.error("a unit (days, weeks, months or years) after the number")
        self.take()
        return Duration(token.value, _UNITS[str(unit.value)]), _Span(token.offset)

    def literal(self) -> tuple[Literal, _Span]:
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
            return Literal(value), _Span(token.offset)
        except ValidationError as error:
            raise _fail(error.reason, self.text, token.offset) from error


def parse_rule_with_positions(text: str) -> tuple[Predicate, SourceMap]:
    """Parse rule text; return the rule and where each of its nodes starts.

    :raises RuleSyntaxError: the text does not follow the grammar (with line, column
        and a caret excerpt).
    """
    parser = _Parser(text)
    rule, span = parser.parse()
    return rule, SourceMap(text, span)


def parse_rule(text: str, schema: RuleSchema | None = None) -> Predicate:
    """Parse rule text into a rule; with a ``schema``, also type-check it.

    >>> parse_rule('total_spent >= 1000 and has tag "vip"')
    And(items=(Compare(operand=Field(name='total_spent'), operator='>=',
    value=Literal(value=1000)), HasTag(tag='vip', field=Field(name='tags'))))
    >>> parse_rule("total_spent >= ")
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.RuleSyntaxError: line 1, column 15: expected a value ...

    :raises RuleSyntaxError: the text does not follow the grammar.
    :raises RuleTypeError: a schema is given and the rule does not type-check against it
        (with the position of the offending node).
    """
    rule, where = parse_rule_with_positions(text)
    if schema is not None:
        from crmcore.segments.typecheck import check_positions

        check_positions(rule, schema, where)
    return rule


def boolean_depth(rule: Predicate) -> int:
    """How many ``and``/``or``/``not`` nodes are on the longest path from the root.

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
