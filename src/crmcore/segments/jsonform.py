"""A stable, versioned JSON form of segment rules, for storage and APIs.

A document is ``{"crmcore_rule": 1, "rule": <node>}``. Every node is an object
with a ``"type"`` tag; literal values carry their own type, because ``1``,
``1.0``, ``Decimal("1")`` and ``true`` are different literals:

    {"type": "compare", "operator": ">=",
     "operand": {"type": "field", "name": "total_spent"},
     "value": {"type": "literal", "kind": "int", "value": 1000}}

Literal kinds: ``int`` (JSON integer), ``float`` (JSON number), ``decimal`` (string,
``"12.50"``), ``string``, ``bool``, ``date`` (``"2024-01-01"``), ``datetime`` (ISO
8601 in UTC, ``"2024-01-01T01:30:00Z"``) and ``null``. The full format is in
``docs/segments.md``.

[`rule_to_json()`][crmcore.segments.jsonform.rule_to_json] always writes every key;
[`rule_from_json()`][crmcore.segments.jsonform.rule_from_json] is strict — an unknown ``type``, a
missing or unexpected key, a value of the wrong JSON type or a version other than
[`JSON_VERSION`][crmcore.segments.jsonform.JSON_VERSION] raises
[`RuleSyntaxError`][crmcore.kernel.errors.RuleSyntaxError] whose message names the JSON path (e.g.
``$.rule.items[1].value.kind``). Optional keys (``negated``, ``ignore_case``, ``window``,
``column``, ``event_kind``) may be left out when reading. Both directions are iterative over
and/or/not, so deep documents cannot exhaust the stack; nesting beyond
[`MAX_DEPTH`][crmcore.segments.grammar.MAX_DEPTH] is rejected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

from crmcore.kernel.errors import RuleSyntaxError, ValidationError
from crmcore.segments.grammar import MAX_DEPTH
from crmcore.segments.rules import (
    AGGREGATE_FUNCTIONS,
    COMPARISON_OPERATORS,
    Aggregate,
    AggregateSource,
    And,
    Between,
    Compare,
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
    TimeOperator,
    Within,
)

__all__ = [
    "JSON_VERSION",
    "rule_from_json",
    "rule_from_json_text",
    "rule_to_json",
    "rule_to_json_text",
]

_S = TypeVar("_S", bound=str)

JSON_VERSION: Final = 1
"""The format version this crmcore writes and reads."""

_UNITS: Final[tuple[DurationUnit, ...]] = ("days", "weeks", "months", "years")
_SOURCES: Final[tuple[AggregateSource, ...]] = ("purchases", "events")
_TEXT_OPERATORS: Final[tuple[TextOperator, ...]] = ("contains", "starts_with", "ends_with")
_TIME_OPERATORS: Final[tuple[TimeOperator, ...]] = ("before", "after")
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
)


# --- writing ---------------------------------------------------------------------------


def _literal_json(literal: Literal) -> dict[str, Any]:
    value = literal.value
    kind: str
    out: Any = value
    if value is None:
        kind = "null"
    elif isinstance(value, bool):
        kind = "bool"
    elif isinstance(value, int):
        kind = "int"
    elif isinstance(value, float):
        kind = "float"
    elif isinstance(value, Decimal):
        kind, out = "decimal", str(value)
    elif isinstance(value, str):
        kind = "string"
    elif isinstance(value, datetime):
        kind, out = "datetime", value.isoformat().replace("+00:00", "Z")
    else:
        kind, out = "date", value.isoformat()
    return {"type": "literal", "kind": kind, "value": out}


def _duration_json(duration: Duration | None) -> dict[str, Any] | None:
    if duration is None:
        return None
    return {"type": "duration", "amount": duration.amount, "unit": duration.unit}


def _operand_json(operand: Operand) -> dict[str, Any]:
    if isinstance(operand, Field):
        return {"type": "field", "name": operand.name}
    return {
        "type": "aggregate",
        "function": operand.function,
        "source": operand.source,
        "column": operand.column,
        "event_kind": operand.event_kind,
        "window": _duration_json(operand.window),
    }


def _condition_json(node: Predicate) -> dict[str, Any]:
    match node:
        case Compare(operand=o, operator=op, value=v):
            return {
                "type": "compare",
                "operand": _operand_json(o),
                "operator": op,
                "value": _literal_json(v),
            }
        case InList(operand=o, values=vs, negated=n):
            return {
                "type": "in",
                "operand": _operand_json(o),
                "values": [_literal_json(v) for v in vs],
                "negated": n,
            }
        case Between(operand=o, low=lo, high=hi, negated=n):
            return {
                "type": "between",
                "operand": _operand_json(o),
                "low": _literal_json(lo),
                "high": _literal_json(hi),
                "negated": n,
            }
        case IsNull(operand=o, negated=n):
            return {"type": "is_null", "operand": _operand_json(o), "negated": n}
        case TextMatch(operand=o, operator=op, text=t, ignore_case=i):
            return {
                "type": "text_match",
                "operand": _operand_json(o),
                "operator": op,
                "text": t,
                "ignore_case": i,
            }
        case HasTag(tag=t, field=f):
            return {"type": "has_tag", "field": _operand_json(f), "tag": t}
        case Within(operand=o, duration=d):
            return {"type": "within", "operand": _operand_json(o), "duration": _duration_json(d)}
        case TimeCompare(operand=o, operator=op, point=p):
            point = _duration_json(p) if isinstance(p, Duration) else _literal_json(p)
            return {
                "type": "time_compare",
                "operand": _operand_json(o),
                "operator": op,
                "point": point,
            }
        case Did(event_kind=k, window=w):
            return {"type": "did", "event_kind": k, "window": _duration_json(w)}
    raise RuleSyntaxError(f"not a rule node: {type(node).__name__}")


def rule_to_json(rule: Predicate) -> dict[str, Any]:
    """The rule as a JSON-ready dict: ``{"crmcore_rule": 1, "rule": {...}}``.

    Examples:
        >>> from crmcore.segments.parser import parse_rule
        >>> rule_to_json(parse_rule('has tag "vip"'))
        {'crmcore_rule': 1,
         'rule': {'type': 'has_tag', 'field': {'type': 'field', 'name': 'tags'}, 'tag': 'vip'}}
    """
    out: list[dict[str, Any]] = []
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
            if isinstance(node, Not):
                out.append({"type": "not", "item": parts[0]})
            else:
                out.append({"type": "and" if isinstance(node, And) else "or", "items": parts})
        else:
            out.append(_condition_json(node))
    return {"crmcore_rule": JSON_VERSION, "rule": out[0]}


def rule_to_json_text(rule: Predicate, *, indent: int | None = None) -> str:
    """The JSON form as a string (keys in a fixed order, so equal rules give equal text).

    Examples:
        >>> from crmcore.segments.parser import parse_rule
        >>> rule_to_json_text(parse_rule('did "signup"'))
        '{"crmcore_rule": 1, "rule": {"type": "did", "event_kind": "signup", "window": null}}'
    """
    if indent is not None and (
        isinstance(indent, bool) or not isinstance(indent, int) or not 0 <= indent <= 16
    ):
        raise ValidationError("indent", indent, "must be None or a whole number from 0 to 16")
    document = rule_to_json(rule)
    try:
        return json.dumps(document, indent=indent, ensure_ascii=False, allow_nan=False)
    except ValueError as error:  # an int beyond Python's int-to-text digit limit
        raise RuleSyntaxError(f"rule cannot be written as JSON: {error}") from error


# --- reading ---------------------------------------------------------------------------


def _error(path: str, message: str) -> RuleSyntaxError:
    return RuleSyntaxError(f"invalid rule JSON at {path}: {message}")


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


class _Reader:
    """Reads one object's keys, checking types and that no unknown key is left over."""

    def __init__(self, obj: object, path: str, node_type: str | None = None) -> None:
        if not isinstance(obj, Mapping):
            raise _error(path, f"expected an object, found {_type_name(obj)}")
        self.obj = obj
        self.path = path
        self.used: set[str] = {"type"} if node_type is not None else set()
        if node_type is not None and obj.get("type") != node_type:
            raise _error(path, f"expected type {node_type!r}, found {obj.get('type')!r}")

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def raw(self, key: str, *, required: bool = True) -> object:
        self.used.add(key)
        if key not in self.obj:
            if required:
                raise _error(self.path, f"missing key {key!r}")
            return None
        return self.obj[key]

    def string(self, key: str, *, required: bool = True) -> str | None:
        value = self.raw(key, required=required)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise _error(self.at(key), f"expected a string, found {_type_name(value)}")
        return value

    def text(self, key: str) -> str:
        value = self.string(key)
        assert value is not None
        return value

    def choice(self, key: str, options: tuple[_S, ...]) -> _S:
        value = self.text(key)
        if value not in options:
            raise _error(self.at(key), f"expected one of {', '.join(options)}; found {value!r}")
        return options[options.index(value)]  # typed as the option, not a plain str

    def flag(self, key: str) -> bool:
        value = self.raw(key, required=False)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise _error(self.at(key), f"expected true or false, found {_type_name(value)}")
        return value

    def done(self) -> None:
        extra = sorted(str(k) for k in self.obj if k not in self.used)
        if extra:
            raise _error(self.path, f"unexpected key {extra[0]!r}")


def _node_type(obj: object, path: str) -> str:
    if not isinstance(obj, Mapping):
        raise _error(path, f"expected an object, found {_type_name(obj)}")
    tag = obj.get("type")
    if not isinstance(tag, str):
        raise _error(f"{path}.type", f"expected a node type string, found {_type_name(tag)}")
    return tag


def _read_literal(obj: object, path: str) -> Literal:
    reader = _Reader(obj, path, "literal")
    kind = reader.choice(
        "kind", ("int", "float", "decimal", "string", "bool", "date", "datetime", "null")
    )
    raw = reader.raw("value")
    where = reader.at("value")
    reader.done()
    value: LiteralValue
    if kind == "null":
        if raw is not None:
            raise _error(where, f"a null literal has value null, found {_type_name(raw)}")
        value = None
    elif kind == "bool":
        if not isinstance(raw, bool):
            raise _error(where, f"expected true or false, found {_type_name(raw)}")
        value = raw
    elif kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise _error(where, f"expected an integer, found {_type_name(raw)}")
        value = raw
    elif kind == "float":
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise _error(where, f"expected a number, found {_type_name(raw)}")
        value = float(raw)
    elif kind == "string":
        if not isinstance(raw, str):
            raise _error(where, f"expected a string, found {_type_name(raw)}")
        value = raw
    else:
        if not isinstance(raw, str):
            raise _error(where, f"expected a {kind} string, found {_type_name(raw)}")
        value = _parse_value(kind, raw, where)
    try:
        return Literal(value)
    except ValidationError as error:
        raise _error(where, error.reason) from error


def _parse_value(kind: str, raw: str, where: str) -> LiteralValue:
    try:
        if kind == "decimal":
            if not _DECIMAL.fullmatch(raw):
                raise ValueError(raw)
            return Decimal(raw)
        if kind == "date":
            if not _DATE.fullmatch(raw):
                raise ValueError(raw)
            return date.fromisoformat(raw)
        if not _DATETIME.fullmatch(raw):
            raise ValueError(raw)
        return Literal(datetime.fromisoformat(raw)).value
    except (ValueError, InvalidOperation, OverflowError, ValidationError) as error:
        example = {"decimal": "12.50", "date": "2024-01-01", "datetime": "2024-01-01T09:30:00Z"}
        raise _error(
            where, f"{raw[:40]!r} is not a valid {kind} (expected e.g. {example[kind]!r})"
        ) from error


def _read_duration(obj: object, path: str, *, required: bool = True) -> Duration | None:
    if obj is None and not required:
        return None
    reader = _Reader(obj, path, "duration")
    amount = reader.raw("amount")
    unit = reader.choice("unit", _UNITS)
    reader.done()
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise _error(reader.at("amount"), "expected a whole number >= 0")
    return Duration(amount, unit)


def _read_field(obj: object, path: str) -> Field:
    reader = _Reader(obj, path, "field")
    name = reader.text("name")
    reader.done()
    if not name:
        raise _error(reader.at("name"), "a field name cannot be empty")
    return Field(name)


def _read_operand(obj: object, path: str) -> Operand:
    tag = _node_type(obj, path)
    if tag == "field":
        return _read_field(obj, path)
    if tag != "aggregate":
        raise _error(f"{path}.type", f"expected 'field' or 'aggregate', found {tag!r}")
    reader = _Reader(obj, path, "aggregate")
    function = reader.choice("function", AGGREGATE_FUNCTIONS)
    source = reader.choice("source", _SOURCES)
    column = reader.string("column", required=False)
    kind = reader.string("event_kind", required=False)
    window = _read_duration(
        reader.raw("window", required=False), reader.at("window"), required=False
    )
    reader.done()
    try:
        return Aggregate(function, source, column, kind, window)
    except ValidationError as error:
        raise _error(path, error.reason) from error


def _read_condition(obj: object, path: str, tag: str) -> Predicate:
    try:
        return _build_condition(obj, path, tag)
    except ValidationError as error:  # a node constructor refused a value
        raise _error(f"{path}.{error.field}", error.reason) from error


def _build_condition(obj: object, path: str, tag: str) -> Predicate:
    reader = _Reader(obj, path, tag)
    node: Predicate
    if tag == "compare":
        operand = _read_operand(reader.raw("operand"), reader.at("operand"))
        operator = reader.choice("operator", COMPARISON_OPERATORS)
        value = _read_literal(reader.raw("value"), reader.at("value"))
        node = Compare(operand, operator, value)
    elif tag == "in":
        operand = _read_operand(reader.raw("operand"), reader.at("operand"))
        raw = reader.raw("values")
        if not isinstance(raw, list) or not raw:
            raise _error(reader.at("values"), "expected a non-empty array of literals")
        values = [_read_literal(v, f"{reader.at('values')}[{i}]") for i, v in enumerate(raw)]
        node = InList(operand, values, reader.flag("negated"))
    elif tag == "between":
        operand = _read_operand(reader.raw("operand"), reader.at("operand"))
        low = _read_literal(reader.raw("low"), reader.at("low"))
        high = _read_literal(reader.raw("high"), reader.at("high"))
        node = Between(operand, low, high, reader.flag("negated"))
    elif tag == "is_null":
        operand = _read_operand(reader.raw("operand"), reader.at("operand"))
        node = IsNull(operand, reader.flag("negated"))
    elif tag == "text_match":
        field = _read_field(reader.raw("operand"), reader.at("operand"))
        text_operator = reader.choice("operator", _TEXT_OPERATORS)
        node = TextMatch(field, text_operator, reader.text("text"), reader.flag("ignore_case"))
    elif tag == "has_tag":
        field = _read_field(reader.raw("field"), reader.at("field"))
        node = HasTag(reader.text("tag"), field)
    elif tag == "within":
        field = _read_field(reader.raw("operand"), reader.at("operand"))
        duration = _read_duration(reader.raw("duration"), reader.at("duration"))
        assert duration is not None
        node = Within(field, duration)
    elif tag == "time_compare":
        field = _read_field(reader.raw("operand"), reader.at("operand"))
        time_operator = reader.choice("operator", _TIME_OPERATORS)
        raw_point = reader.raw("point")
        point: Literal | Duration | None
        if _node_type(raw_point, reader.at("point")) == "duration":
            point = _read_duration(raw_point, reader.at("point"))
        else:
            point = _read_literal(raw_point, reader.at("point"))
        assert point is not None
        node = TimeCompare(field, time_operator, point)
    elif tag == "did":
        kind = reader.text("event_kind")
        window = _read_duration(
            reader.raw("window", required=False), reader.at("window"), required=False
        )
        node = Did(kind, window)
    else:
        raise _error(
            f"{path}.type",
            f"unknown node type {tag!r} (expected and, or, not, compare, in, between, "
            "is_null, text_match, has_tag, within, time_compare or did)",
        )
    reader.done()
    return node


def rule_from_json(document: object) -> Predicate:
    """Read a rule from its JSON form (as produced by
    [`rule_to_json()`][crmcore.segments.jsonform.rule_to_json]).

    Examples:
        >>> rule_from_json({"crmcore_rule": 1, "rule": {"type": "did", "event_kind": "signup"}})
        Did(event_kind='signup', window=None)
        >>> rule_from_json({"crmcore_rule": 2, "rule": {}})
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.RuleSyntaxError: invalid rule JSON at $.crmcore_rule: version 2 ...

    Raises:
        RuleSyntaxError: the document is malformed or of another version; the
            message names the JSON path of the problem.
    """
    top = _Reader(document, "$")
    version = top.raw("crmcore_rule")
    if isinstance(version, bool) or not isinstance(version, int):
        raise _error(
            "$.crmcore_rule", f"expected the format version 1, found {_type_name(version)}"
        )
    if version != JSON_VERSION:
        raise _error(
            "$.crmcore_rule",
            f"version {version} is not supported (this crmcore reads version {JSON_VERSION})",
        )
    root = top.raw("rule")
    top.done()
    # Iterative post-order over and/or/not: (object, path, depth, visited).
    out: list[Predicate] = []
    stack: list[tuple[object, str, int, bool]] = [(root, "$.rule", 0, False)]
    while stack:
        obj, path, depth, visited = stack.pop()
        tag = _node_type(obj, path)
        if tag not in ("and", "or", "not"):
            out.append(_read_condition(obj, path, tag))
            continue
        reader = _Reader(obj, path, tag)
        if tag == "not":
            children = [(reader.raw("item"), f"{path}.item")]
        else:
            items = reader.raw("items")
            if not isinstance(items, list) or len(items) < 2:
                raise _error(f"{path}.items", "expected an array of at least two rules")
            children = [(item, f"{path}.items[{i}]") for i, item in enumerate(items)]
        reader.done()
        if visited:
            parts = out[len(out) - len(children) :]
            del out[len(out) - len(children) :]
            if tag == "not":
                out.append(Not(parts[0]))
            else:
                out.append(And(parts) if tag == "and" else Or(parts))
            continue
        if depth + 1 > MAX_DEPTH:
            raise _error(path, f"rule nests deeper than {MAX_DEPTH} levels of and/or/not")
        stack.append((obj, path, depth, True))
        stack.extend((child, where, depth + 1, False) for child, where in reversed(children))
    return out[0]


def rule_from_json_text(text: str) -> Predicate:
    """Read a rule from a JSON string (see
    [`rule_from_json()`][crmcore.segments.jsonform.rule_from_json]).

    Raises:
        RuleSyntaxError: not JSON (with the line and column of the JSON error),
            or not a valid rule document.
    """
    if not isinstance(text, str):
        raise RuleSyntaxError(f"rule JSON must be a string, not {type(text).__name__}")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise RuleSyntaxError(
            f"not valid JSON: {error.msg}", text, error.lineno, error.colno
        ) from None
    except (ValueError, RecursionError) as error:
        raise RuleSyntaxError(f"not valid JSON: {error}") from None
    return rule_from_json(document)
