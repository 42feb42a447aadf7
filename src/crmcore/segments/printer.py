"""Print a segment rule as text that parses back to the same rule.

[`to_text()`][crmcore.segments.printer.to_text] is the inverse of
[`parse_rule()`][crmcore.segments.parser.parse_rule]: ``parse_rule(to_text(rule)) == rule`` for
every rule (a hypothesis property test checks it). That needs care with literals, whose type is part
of their value:

* ints print plainly (``3``), Decimals always with a point (``12.50``, ``1000.0``),
  floats always with an exponent (``1.5e0``, ``1e+16``) so each reads back as its
  own type;
* strings print in double quotes with backslash escapes for ``\\``, ``"`` and
  control or line-break characters, so a rule is always one line;
* datetimes print in UTC (``2024-01-01T01:30:00Z``), dates as ``2024-01-01``;
* field names that are keywords or not plain identifiers print in backquotes.

Parentheses appear only where needed: ``and`` binds tighter than ``or`` and an
``and`` inside an ``and`` (which the parser would otherwise flatten) is
parenthesised. The printer is iterative, so it does not recurse per level.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Final, TypeVar

from crmcore.kernel.errors import RuleSyntaxError, ValidationError
from crmcore.segments.grammar import MAX_DEPTH, boolean_depth
from crmcore.segments.rules import (
    And,
    Between,
    Compare,
    Did,
    Duration,
    Field,
    HasTag,
    InList,
    IsNull,
    LiteralValue,
    Not,
    Operand,
    Or,
    Predicate,
    TextMatch,
    TimeCompare,
    Within,
)
from crmcore.segments.tokenizer import KEYWORDS

__all__ = ["format_literal", "quote_name", "quote_string", "to_pretty_text", "to_text"]

_T = TypeVar("_T")

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
# Control characters, DEL, Unicode line breaks and lone surrogates print as \u escapes.
_UNSAFE = re.compile("[\\x00-\\x1f\\x7f\\x85\\u2028\\u2029\\ud800-\\udfff]")
_NAMED_ESCAPES: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(text: str, quote: str) -> str:
    text = text.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return _UNSAFE.sub(lambda m: _NAMED_ESCAPES.get(m.group(), f"\\u{ord(m.group()):04x}"), text)


def quote_string(text: str) -> str:
    """``text`` as a double-quoted string literal.

    Examples:
        >>> print(quote_string('say "hi"\\n'))
        "say \\"hi\\"\\n"
    """
    if not isinstance(text, str):
        raise ValidationError("text", text, "must be a string")
    return f'"{_escape(text, chr(34))}"'


def quote_name(name: str) -> str:
    """A field or column name as written in a rule: plain, or backquoted when needed.

    Examples:
        >>> quote_name("attr.loyalty_tier"), quote_name("count"), quote_name("my field")
        ('attr.loyalty_tier', '`count`', '`my field`')
    """
    if not isinstance(name, str):
        raise ValidationError("name", name, "must be a string")
    if _PLAIN_NAME.fullmatch(name) and name.lower() not in KEYWORDS:
        return name
    return f"`{_escape(name, '`')}`"


def format_literal(value: LiteralValue) -> str:
    """A literal value as rule text that reads back as the same type and value.

    Examples:
        >>> format_literal(1500.0), format_literal(Decimal("12.50")), format_literal(None)
        ('1500.0e0', '12.50', 'null')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError as error:  # beyond Python's int-to-text digit limit
            raise RuleSyntaxError("integer literal has too many digits to write") from error
    if isinstance(value, float):
        text = repr(value)
        return text if "e" in text else text + "e0"
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text if "." in text else text + ".0"
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise ValidationError(
        "value", value, "must be None, a bool, number, string, date or datetime (a literal value)"
    )


def _duration(duration: Duration) -> str:
    unit = duration.unit[:-1] if duration.amount == 1 else duration.unit
    return f"{duration.amount} {unit}"


def _operand(operand: Operand) -> str:
    if isinstance(operand, Field):
        return quote_name(operand.name)
    if operand.source == "events":
        inner = "events"
        if operand.event_kind is not None:
            inner += " " + quote_string(operand.event_kind)
    elif operand.column is not None:
        inner = quote_name(operand.column)
    else:
        inner = "purchases"
    if operand.window is not None:
        inner += f" in last {_duration(operand.window)}"
    return f"{operand.function}({inner})"


def _condition(node: Predicate) -> str:
    """A predicate that is not and/or/not."""
    match node:
        case Compare(operand=o, operator=op, value=v):
            return f"{_operand(o)} {op} {format_literal(v.value)}"
        case InList(operand=o, values=vs, negated=n):
            values = ", ".join(format_literal(v.value) for v in vs)
            return f"{_operand(o)} {'not in' if n else 'in'} ({values})"
        case Between(operand=o, low=lo, high=hi, negated=n):
            word = "not between" if n else "between"
            return f"{_operand(o)} {word} {format_literal(lo.value)} and {format_literal(hi.value)}"
        case IsNull(operand=o, negated=n):
            return f"{_operand(o)} is {'not null' if n else 'null'}"
        case TextMatch(operand=o, operator=op, text=t, ignore_case=i):
            word = op.replace("_", " ")
            return f"{_operand(o)} {word} {quote_string(t)}{' ignoring case' if i else ''}"
        case HasTag(tag=t, field=f):
            if f == Field("tags"):
                return f"has tag {quote_string(t)}"
            return f"{_operand(f)} has {quote_string(t)}"
        case Within(operand=o, duration=d):
            return f"{_operand(o)} within {_duration(d)}"
        case TimeCompare(operand=o, operator=op, point=p):
            point = f"{_duration(p)} ago" if isinstance(p, Duration) else format_literal(p.value)
            return f"{_operand(o)} {op} {point}"
        case Did(event_kind=k, window=w):
            return f"did {quote_string(k)}" + ("" if w is None else f" within {_duration(w)}")
    raise RuleSyntaxError(f"not a rule node: {type(node).__name__}")


def _needs_parens(parent: Predicate, child: Predicate) -> bool:
    if isinstance(parent, Not):
        return isinstance(child, And | Or)
    if isinstance(parent, And):
        return isinstance(child, And | Or)
    return isinstance(child, Or)


def _fold(
    rule: Predicate,
    leaf: Callable[[Predicate], _T],
    combine: Callable[[And | Or | Not, list[_T]], _T],
) -> _T:
    """Post-order over and/or/not without recursion: ``combine(node, child results)``."""
    if boolean_depth(rule) > MAX_DEPTH:
        raise RuleSyntaxError(f"rule nests deeper than {MAX_DEPTH} levels of and/or/not")
    out: list[_T] = []
    stack: list[tuple[Predicate, bool]] = [(rule, False)]
    while stack:
        node, visited = stack.pop()
        if isinstance(node, And | Or | Not):
            items: tuple[Predicate, ...] = (node.item,) if isinstance(node, Not) else node.items
            if not visited:
                stack.append((node, True))
                stack.extend((item, False) for item in reversed(items))
                continue
            parts = out[len(out) - len(items) :]
            del out[len(out) - len(items) :]
            out.append(combine(node, parts))
        else:
            out.append(leaf(node))
    return out[0]


def _items(node: And | Or | Not) -> tuple[Predicate, ...]:
    return (node.item,) if isinstance(node, Not) else node.items


def _flat(node: And | Or | Not, parts: list[str]) -> str:
    wrapped = [
        f"({part})" if _needs_parens(node, item) else part
        for part, item in zip(parts, _items(node), strict=True)
    ]
    if isinstance(node, Not):
        return f"not {wrapped[0]}"
    return (" and " if isinstance(node, And) else " or ").join(wrapped)


def to_text(rule: Predicate) -> str:
    """The rule as one line of text; ``parse_rule(to_text(rule)) == rule``.

    Examples:
        >>> from crmcore.segments.parser import parse_rule
        >>> to_text(parse_rule("(a = 1 OR b = 2) AND NOT c IS NULL and x = 1.5e3"))
        '(a = 1 or b = 2) and not c is null and x = 1500.0e0'

    Raises:
        RuleSyntaxError: the rule nests deeper than
            [`MAX_DEPTH`][crmcore.segments.grammar.MAX_DEPTH] levels of and/or/not, which the
            parser would not read back.
    """
    return _fold(rule, _condition, _flat)


def to_pretty_text(rule: Predicate, *, width: int = 80, indent: str = "  ") -> str:
    """The rule over several lines: an and/or group longer than ``width`` puts one item
    per line, each after its ``and``/``or``, with parenthesised groups indented.

    It parses back to the same rule, like [`to_text()`][crmcore.segments.printer.to_text].

    Examples:
        >>> from crmcore.segments.parser import parse_rule
        >>> rule = parse_rule(
        ...     'total_spent >= 1000 and (country = "CN" or country = "TW") and consent_email'
        ... )
        >>> print(to_pretty_text(rule, width=40))
        total_spent >= 1000
        and (country = "CN" or country = "TW")
        and consent_email = true
        >>> print(to_pretty_text(rule, width=30))
        total_spent >= 1000
        and (
          country = "CN"
          or country = "TW"
        )
        and consent_email = true
    """

    def leaf(node: Predicate) -> tuple[str, list[str]]:
        text = _condition(node)
        return text, [text]

    def combine(node: And | Or | Not, parts: list[tuple[str, list[str]]]) -> tuple[str, list[str]]:
        flat = _flat(node, [p[0] for p in parts])
        if len(flat) <= width:
            return flat, [flat]
        lines: list[str] = []
        keyword = "not " if isinstance(node, Not) else "and " if isinstance(node, And) else "or "
        for i, ((_, item_lines), item) in enumerate(zip(parts, _items(node), strict=True)):
            lead = keyword if i > 0 or isinstance(node, Not) else ""
            if not _needs_parens(node, item):
                lines.append(lead + item_lines[0])
                lines.extend(item_lines[1:])
            elif len(item_lines) == 1:
                lines.append(f"{lead}({item_lines[0]})")
            else:
                lines.append(f"{lead}(")
                lines.extend(indent + line for line in item_lines)
                lines.append(")")
        return flat, lines

    return "\n".join(_fold(rule, leaf, combine)[1])
