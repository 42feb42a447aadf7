"""Type-check a segment rule against the schema it will run on.

A rule can be well formed and still meaningless for the data: a misspelt field,
``total_spent >= "high"``, ``gender before 2024-01-01``, ``sum(order_id)`` or
``did "cart_abandonned"``. [`check_rule()`][crmcore.segments.typecheck.check_rule] finds the first
such problem (in source order) before any back end runs, and raises
[`RuleTypeError`][crmcore.kernel.errors.RuleTypeError] with the position of the offending node when
the rule's text is known.

The rules, by field type (see [`RuleSchema`][crmcore.segments.rules.RuleSchema]):

| field type | literals it compares with | tests allowed |
|---|---|---|
| number | int, float, Decimal (not bool) | = != < <= > >=, in, between, is null |
| string | string | the same, plus contains / starts with / ends with (ordering is by code point) |
| bool | true / false | = !=, in, is null |
| datetime | datetime or date (midnight) | compare, in, between, is null, within, before, after |
| date | date | the same as datetime |
| tags | string tags | only ``has`` (tags are never null) |

Aggregates are numbers: ``count`` of any log, ``sum``/``avg``/``min``/``max`` of a
numeric purchase column (``schema.purchase_columns``). Event kinds (in aggregates and
``did``) must be in ``schema.event_kinds`` when that is known.

A duration longer than the calendar (over 9,998 years) is rejected too.

``= null``, ``!= null`` and ``null`` in a list or range are rejected: under the null
semantics of [`crmcore.segments.rules`][crmcore.segments.rules] they would never match, which is
never what was meant; write ``is null`` / ``is not null``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from crmcore.kernel.errors import RuleError, RuleTypeError, ValidationError
from crmcore.segments.grammar import parse_rule_with_positions
from crmcore.segments.positions import SourceMap
from crmcore.segments.rules import (
    Aggregate,
    And,
    Between,
    Compare,
    Did,
    Duration,
    Field,
    FieldType,
    HasTag,
    InList,
    IsNull,
    Literal,
    Node,
    Not,
    Operand,
    Or,
    Predicate,
    RuleSchema,
    TextMatch,
    TimeCompare,
    Within,
    children,
)

__all__ = ["check_positions", "check_rule"]

_Path = tuple[int, ...]


class _FailError(Exception):
    """A type error found at a node path (turned into RuleTypeError with a position)."""

    def __init__(self, path: _Path, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?"


def _literal_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, datetime):
        return "a datetime"
    if isinstance(value, date):
        return "a date"
    return type(value).__name__


def _fits(field_type: FieldType, value: object) -> bool:
    """Whether a non-null literal ``value`` can be compared with a ``field_type`` value."""
    match field_type:
        case "number":
            return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
        case "string":
            return isinstance(value, str)
        case "bool":
            return isinstance(value, bool)
        case "datetime":
            return isinstance(value, date)  # a datetime, or a date meaning midnight UTC
        case "date":
            return isinstance(value, date) and not isinstance(value, datetime)
    return False


# The longest durations that fit between datetime.min and datetime.max (years 1..9999).
_LONGEST: dict[str, int] = {"days": 3_652_058, "weeks": 521_722, "months": 119_987, "years": 9_998}

_ARTICLE: dict[str, str] = {
    "number": "a number",
    "string": "a string",
    "bool": "a bool",
    "datetime": "a datetime",
    "date": "a date",
    "tags": "a tags field",
}
_WANTED: dict[str, str] = {
    "number": "a number",
    "string": "a string",
    "bool": "true or false",
    "datetime": "a datetime or a date",
    "date": "a date",
}


class _Checker:
    def __init__(self, schema: RuleSchema) -> None:
        self.schema = schema

    def field_type(self, field: Field, path: _Path) -> FieldType:
        tp = self.schema.fields.get(field.name)
        if tp is None:
            raise _FailError(
                path, f"unknown field {field.name!r}{_suggest(field.name, self.schema.fields)}"
            )
        return tp

    def event_kind(self, kind: str, path: _Path) -> None:
        known = self.schema.event_kinds
        if known is not None and kind not in known:
            raise _FailError(path, f"unknown event kind {kind!r}{_suggest(kind, known)}")

    def operand_type(self, operand: Operand, path: _Path) -> FieldType:
        if isinstance(operand, Field):
            return self.field_type(operand, path)
        self.aggregate(operand, path)
        return "number"

    def aggregate(self, node: Aggregate, path: _Path) -> None:
        if node.event_kind is not None:
            self.event_kind(node.event_kind, path)
        if node.column is not None:
            columns = self.schema.purchase_columns
            tp = columns.get(node.column)
            if tp is None:
                raise _FailError(
                    path,
                    f"unknown purchase column {node.column!r} in {node.function}()"
                    f"{_suggest(node.column, columns)}",
                )
            if tp != "number":
                raise _FailError(
                    path, f"{node.function}() needs a numeric column; {node.column!r} is {tp}"
                )

    def value(self, name: str, tp: FieldType, literal: Literal, path: _Path, test: str) -> None:
        value = literal.value
        if value is None:
            raise _FailError(
                path,
                f"{test} null never matches (a missing value compares false); "
                f"write '{name} is null' or '{name} is not null'",
            )
        if not _fits(tp, value):
            raise _FailError(
                path,
                f"{name} is {_ARTICLE[tp]}; compare it with {_WANTED.get(tp, 'has')}, "
                f"not {_literal_type(value)} ({value!r})",
            )

    def predicate(self, node: Predicate, path: _Path) -> None:
        match node:
            case Compare(operand=o, operator=op, value=v):
                tp = self.operand_type(o, (*path, 0))
                name = _name(o)
                self.no_tags(tp, name, path)
                if tp == "bool" and op not in ("=", "!="):
                    raise _FailError(path, f"{name} is a bool; only = and != apply, not {op}")
                self.value(name, tp, v, (*path, 1), f"'{op}'")
            case InList(operand=o, values=vs):
                tp = self.operand_type(o, (*path, 0))
                name = _name(o)
                self.no_tags(tp, name, path)
                for i, v in enumerate(vs):
                    self.value(name, tp, v, (*path, i + 1), "'in' with")
            case Between(operand=o, low=lo, high=hi):
                tp = self.operand_type(o, (*path, 0))
                name = _name(o)
                self.no_tags(tp, name, path)
                if tp == "bool":
                    raise _FailError(path, f"{name} is a bool; 'between' needs an ordered type")
                self.value(name, tp, lo, (*path, 1), "'between'")
                self.value(name, tp, hi, (*path, 2), "'between'")
            case IsNull(operand=o):
                tp = self.operand_type(o, (*path, 0))
                if tp == "tags":
                    raise _FailError(
                        path, f"{_name(o)} is a tags field; tags are never null (use has)"
                    )
            case TextMatch(operand=o, operator=op):
                tp = self.field_type(o, (*path, 0))
                if tp != "string":
                    raise _FailError(
                        path, f"'{op.replace('_', ' ')}' needs a string field; {o.name} is {tp}"
                    )
            case HasTag(field=f):
                tp = self.field_type(f, (*path, 0))
                if tp != "tags":
                    raise _FailError(path, f"'has' needs a tags field; {f.name} is {tp}")
            case Within(operand=o):
                self.temporal(o, path, "within")
            case TimeCompare(operand=o, operator=op, point=p):
                tp = self.temporal(o, path, op)
                if isinstance(p, Literal):
                    self.time_point(o.name, tp, p, (*path, 1), op)
            case Did(event_kind=k):
                self.event_kind(k, path)

    def no_tags(self, tp: FieldType, name: str, path: _Path) -> None:
        if tp == "tags":
            raise _FailError(
                path, f'{name} is a tags field; test it with has, as in: {name} has "x"'
            )

    def temporal(self, field: Field, path: _Path, word: str) -> FieldType:
        tp = self.field_type(field, (*path, 0))
        if tp not in ("datetime", "date"):
            raise _FailError(path, f"'{word}' needs a datetime or date field; {field.name} is {tp}")
        return tp

    def time_point(self, name: str, tp: FieldType, point: Literal, path: _Path, word: str) -> None:
        value = point.value
        if tp == "date" and isinstance(value, datetime):
            raise _FailError(path, f"{name} is a date; '{word}' needs a date, not a datetime")
        if not isinstance(value, date):
            raise _FailError(
                path,
                f"'{word}' needs a date, a datetime or 'N days ago', not {_literal_type(value)}",
            )


def _name(operand: Operand) -> str:
    if isinstance(operand, Field):
        return operand.name
    return f"{operand.function}(...)"


def _check_duration(duration: Duration, path: _Path) -> None:
    if duration.amount > _LONGEST[duration.unit]:
        raise _FailError(
            path,
            f"{duration.amount} {duration.unit} is longer than the calendar "
            f"(at most {_LONGEST[duration.unit]} {duration.unit})",
        )


def _check(rule: Predicate, schema: RuleSchema) -> None:
    checker = _Checker(schema)
    stack: list[tuple[Node, _Path]] = [(rule, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, Duration):
            _check_duration(node, path)
        elif not isinstance(node, And | Or | Not | Field | Aggregate | Literal):
            checker.predicate(node, path)
        kids = children(node)
        stack.extend((kids[i], (*path, i)) for i in reversed(range(len(kids))))


def check_schema(value: object, field: str = "schema") -> RuleSchema:
    """``value`` if it is a [`RuleSchema`][crmcore.segments.rules.RuleSchema], else a
    ValidationError naming ``field``."""
    if not isinstance(value, RuleSchema):
        raise ValidationError(field, value, "must be a RuleSchema")
    return value


def check_predicate(value: object, field: str = "rule") -> Predicate:
    """``value`` if it is a rule (a predicate node), else a ValidationError naming ``field``."""
    if not isinstance(value, Predicate):
        raise ValidationError(field, value, "must be a segment rule (a predicate node)")
    return value


def check_positions(rule: Predicate, schema: RuleSchema, where: SourceMap | None) -> None:
    """Type-check ``rule``, locating an error with ``where`` (from the parser) if given."""
    check_predicate(rule)
    check_schema(schema)
    if where is not None and not isinstance(where, SourceMap):
        raise ValidationError("where", where, "must be None or the parser's SourceMap")
    try:
        _check(rule, schema)
    except _FailError as failure:
        if where is None:
            raise RuleTypeError(failure.message) from None
        line, column = where.position(failure.path)
        raise RuleTypeError(failure.message, where.text, line, column) from None


def check_rule(rule: Predicate, schema: RuleSchema, text: str | None = None) -> None:
    """Raise [`RuleTypeError`][crmcore.kernel.errors.RuleTypeError] if ``rule`` does not fit
    ``schema``.

    Pass the rule's source ``text`` to get the line and column of the problem (the
    text is parsed again to locate nodes; if it does not parse to ``rule`` the
    position is line 0).

    Examples:
        >>> from crmcore.segments.parser import parse_rule
        >>> schema = RuleSchema.default()
        >>> text = "country = 'CN' and total_spnt > 10"
        >>> check_rule(parse_rule(text), schema, text)
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.RuleTypeError: line 1, column 20: unknown field 'total_spnt'; ...
    """
    where: SourceMap | None = None
    if text is not None and not isinstance(text, str):
        raise ValidationError("text", text, "must be None or the rule's source text")
    if text is not None:
        try:
            parsed, where = parse_rule_with_positions(text)
        except RuleError:  # the text is only a hint for positions
            where = None
        else:
            if parsed != rule:
                where = None
    check_positions(rule, schema, where)
