"""The tokenizer of segment rule text: keywords, names, strings, numbers, dates, operators.

[`tokenize()`][crmcore.segments.tokenizer.tokenize] splits rule text into
[`Token`][crmcore.segments.tokenizer.Token] values for the parser
([`crmcore.segments.grammar`][crmcore.segments.grammar]). Whitespace and ``#`` comments separate
tokens; keywords ([`KEYWORDS`][crmcore.segments.tokenizer.KEYWORDS]) are matched case-insensitively;
strings and backquoted names take backslash escapes; numbers are ``int``, ``Decimal`` or ``float``
by how they are written; dates and datetimes are ISO 8601 (a datetime needs a UTC offset). Every
pattern is linear in the input length, and a bad token is a
[`RuleSyntaxError`][crmcore.kernel.errors.RuleSyntaxError] at its line and column.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Final, NamedTuple
from typing import Literal as TypingLiteral

from crmcore.kernel.errors import RuleSyntaxError, ValidationError
from crmcore.segments.positions import syntax_error
from crmcore.segments.rules import Literal, LiteralValue

__all__ = ["KEYWORDS", "Token", "TokenKind", "tokenize"]

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
"""Reserved words (matched case-insensitively). A field with one of these names, or a
name that is not a plain ASCII identifier, is written in backquotes.
"""

TokenKind = TypingLiteral[
    "name", "keyword", "string", "number", "date", "datetime", "op", "(", ")", ",", "end"
]
"""The kinds of [`Token`][crmcore.segments.tokenizer.Token]."""

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


def _unescape(body: str, text: str, offset: int) -> str:
    """Decode backslash escapes in a quoted body starting at ``offset`` in ``text``."""

    def replace(match: re.Match[str]) -> str:
        hex4, hex8, char = match.group(1), match.group(2), match.group(3)
        if hex4 is not None:
            return chr(int(hex4, 16))
        if hex8 is not None:
            code = int(hex8, 16)
            if code > 0x10FFFF:
                raise syntax_error(f"\\U{hex8} is beyond Unicode", text, offset + match.start())
            return chr(code)
        if char in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[char]
        raise syntax_error(
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
                raise syntax_error(f"number {source} is out of range", text, offset)
            return value
        if match.group(1) is not None:
            return Decimal(source)
        return int(source)
    except (ValueError, InvalidOperation) as error:  # e.g. int() beyond the digit limit
        raise syntax_error(f"number {source[:20]}... is too long", text, offset) from error


def _temporal(source: str, match: re.Match[str], text: str, offset: int) -> date | datetime:
    if match.group(1) is None:
        try:
            return date.fromisoformat(source)
        except ValueError as error:
            raise syntax_error(f"{source} is not a valid date", text, offset) from error
    if match.group(2) is None:
        raise syntax_error(
            f"datetime {source} has no UTC offset; add one, e.g. {source}Z or {source}+08:00",
            text,
            offset,
        )
    try:
        # Literal normalises to UTC; that conversion can overflow near year 1 or 9999.
        value = Literal(datetime.fromisoformat(source)).value
    except (ValueError, OverflowError, ValidationError) as error:
        raise syntax_error(f"{source} is not a valid datetime", text, offset) from error
    assert isinstance(value, datetime)
    return value


def tokenize(text: str) -> list[Token]:
    """Split rule text into tokens (the last one has kind ``"end"``).

    Whitespace and ``#`` comments (to the end of the line) separate tokens.

    Examples:
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
                raise syntax_error(f"unterminated {what}: no closing {char}", text, pos)
            body = _unescape(match.group()[1:-1], text, pos + 1)
            if char == "`":
                if not body:
                    raise syntax_error("empty field name ``", text, pos)
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
                    raise syntax_error(f"unexpected character {char!r}", text, pos)
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
                raise syntax_error(f"unexpected character {char!r}", text, pos)
            tokens.append(Token("op", match.group(), match.group(), pos))
            pos = match.end()
