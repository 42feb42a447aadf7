"""The resolved form of a segment rule: the small tree every back end evaluates.

A rule ([`crmcore.segments.rules`][crmcore.segments.rules]) is first *resolved* against a
[`RuleSchema`][crmcore.segments.rules.RuleSchema] and an ``as_of`` instant by
[`resolve()`][crmcore.segments.resolved.resolve]: every field is checked to exist and to take the
literal's type (else [`RuleTypeError`][crmcore.kernel.errors.RuleTypeError], before any value or SQL
is touched), every relative time becomes a fixed instant, literals are converted to the one value
domain their field compares in, and sugar (``between``, ``within``, ``did``, time tests) is
rewritten into plain comparisons. The three back ends
([`crmcore.segments.evaluate.matches()`][crmcore.segments.evaluate.matches],
[`crmcore.segments.evaluate_batch.mask()`][crmcore.segments.evaluate_batch.mask] and
[`crmcore.segments.sql.to_sql()`][crmcore.segments.sql.to_sql]) then evaluate the same small
resolved tree, which is why they agree.

Value domains of the resolved comparisons:

| field type | compared as |
|---|---|
| ``number`` | ``float`` (ints, floats and Decimals alike) |
| ``string`` | ``str``, by code point (categories too) |
| ``bool`` | ``bool`` |
| ``datetime`` | ``int`` microseconds since the Unix epoch (a date literal is midnight UTC) |
| ``date`` | ``date`` (a datetime bound becomes the date bound it means) |

A datetime bound on a date field means the equivalent date bound:
``birth_date > 2000-01-01T12:00Z`` is ``birth_date > 2000-01-01``.

Null semantics (see [`crmcore.segments.rules`][crmcore.segments.rules]): every leaf is *false* on
a missing value, ``not`` is the plain complement, ``count``/``sum`` over no
rows are ``0`` and ``avg``/``min``/``max`` missing. Aggregate windows cover
``(as_of - window, as_of]``; rows after ``as_of`` never count; ``did "x"
within 7 days`` means ``count(events "x" in last 7 days) >= 1``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final, TypeAlias

import attrs

from crmcore.kernel.clock import DAY_US, to_micros, to_utc
from crmcore.kernel.errors import RuleTypeError
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
    Not,
    Or,
    Predicate,
    RuleSchema,
    TextMatch,
    TimeCompare,
    Within,
)
from crmcore.segments.typecheck import check_predicate, check_schema

__all__ = [
    "AggRef",
    "Const",
    "FieldRef",
    "Leaf",
    "RAnd",
    "RCompare",
    "RIn",
    "RNot",
    "RNull",
    "ROr",
    "RTag",
    "RText",
    "Ref",
    "Resolved",
    "resolve",
]


Value: TypeAlias = float | str | bool | int | date
"""A resolved comparison value: float, str, bool, int (microseconds) or date."""


# --- the resolved tree -------------------------------------------------------------------


@attrs.frozen(cache_hash=True)
class FieldRef:
    """A customer field (stored, ``attr.*`` or computed) and the type it compares as."""

    name: str
    type: FieldType


@attrs.frozen(cache_hash=True)
class AggRef:
    """An aggregate of one customer's log rows with ``start < at <= end`` (microseconds).

    ``start`` is ``None`` for no lower bound. ``count`` and ``sum`` are never
    missing; ``avg``/``min``/``max`` are missing over no rows.
    """

    function: str
    source: str
    column: str | None
    event_kind: str | None
    start: int | None
    end: int

    @property
    def nullable(self) -> bool:
        """Whether the aggregate can be missing (no rows)."""
        return self.function not in ("count", "sum")


Ref: TypeAlias = FieldRef | AggRef
"""What a resolved leaf tests."""


@attrs.frozen(cache_hash=True)
class RCompare:
    """``ref <op> value``; false when ``ref`` is missing."""

    ref: Ref
    op: str
    value: Value


@attrs.frozen(cache_hash=True)
class RIn:
    """``ref in values`` (``negated``: ``not in``); false when ``ref`` is missing."""

    ref: Ref
    values: tuple[Value, ...]
    negated: bool = False


@attrs.frozen(cache_hash=True)
class RNull:
    """``ref is null`` (``negated``: ``is not null``)."""

    ref: Ref
    negated: bool = False


@attrs.frozen(cache_hash=True)
class RText:
    """A string field contains / starts with / ends with ``text`` (non-empty)."""

    ref: FieldRef
    op: str
    text: str
    ignore_case: bool = False


@attrs.frozen(cache_hash=True)
class RTag:
    """The tags field ``field`` holds ``tag``."""

    field: str
    tag: str


@attrs.frozen(cache_hash=True)
class Const:
    """A constant truth value (e.g. ``tags is null`` is always false)."""

    value: bool


@attrs.frozen(cache_hash=True)
class RAnd:
    """All items hold."""

    items: tuple[Resolved, ...]


@attrs.frozen(cache_hash=True)
class ROr:
    """Any item holds."""

    items: tuple[Resolved, ...]


@attrs.frozen(cache_hash=True)
class RNot:
    """The complement of ``item``."""

    item: Resolved


Leaf: TypeAlias = RCompare | RIn | RNull | RText | RTag | Const
"""A resolved leaf."""
Resolved: TypeAlias = Leaf | RAnd | ROr | RNot
TYPES: Final = (RCompare, RIn, RNull, RText, RTag, Const, RAnd, ROr, RNot)
"""The classes of a resolved node, for ``isinstance``."""
"""A resolved rule."""


# --- resolution -----------------------------------------------------------------------------


def _error(message: str) -> RuleTypeError:
    return RuleTypeError(message)


def _field_ref(field: Field, schema: RuleSchema) -> FieldRef:
    tp = schema.fields.get(field.name)
    if tp is None:
        raise _error(f"unknown field {field.name!r}")
    return FieldRef(field.name, tp)


def _agg_ref(agg: Aggregate, schema: RuleSchema, end: int, as_of: datetime) -> AggRef:
    if agg.column is not None and schema.purchase_columns.get(agg.column) != "number":
        raise _error(f"unknown numeric purchase column {agg.column!r}")
    if (
        agg.event_kind is not None
        and schema.event_kinds is not None
        and agg.event_kind not in schema.event_kinds
    ):
        raise _error(f"unknown event kind {agg.event_kind!r}")
    start = None if agg.window is None else to_micros(agg.window.before(as_of))
    return AggRef(agg.function, agg.source, agg.column, agg.event_kind, start, end)


def is_number(value: object) -> bool:
    """Whether ``value`` is a number of the rule language: int, float or Decimal, not bool."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _midnight_us(day: date) -> int:
    return (day - date(1970, 1, 1)).days * DAY_US


def _literal(tp: FieldType, literal: Literal, name: str) -> Value | None:
    """The literal in the field's value domain (a datetime for a date field stays µs)."""
    v = literal.value
    if v is None:
        return None
    if tp == "number" and is_number(v):
        return float(v)  # type: ignore[arg-type]
    if tp == "string" and isinstance(v, str):
        return v
    if tp == "bool" and isinstance(v, bool):
        return v
    if tp in ("datetime", "date") and isinstance(v, datetime):
        return to_micros(v)
    if tp == "datetime" and isinstance(v, date):
        return _midnight_us(v)
    if tp == "date" and isinstance(v, date):
        return v
    raise _error(f"field {name!r} of type {tp} cannot be compared with {v!r}")


COMPARATORS: Final[Mapping[str, Callable[[Any, Any], Any]]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
"""The Python function of each comparison operator."""


def _date_compare(ref: Ref, op: str, us: int) -> Resolved:
    """``date_field <op> instant`` as the equivalent comparison of dates."""
    day = date(1970, 1, 1) + timedelta(days=us // DAY_US)
    exact = us % DAY_US == 0
    if op == ">":
        return RCompare(ref, ">", day)
    if op == "<=":
        return RCompare(ref, "<=", day)
    if op == "=":
        return RCompare(ref, "=", day) if exact else Const(False)
    if op == "!=":
        # every present date differs from a non-midnight instant
        return RCompare(ref, "!=", day) if exact else RNull(ref, negated=True)
    if not exact and day == date.max:
        # The first date after the instant would be past 9999-12-31: every present date
        # is before it, none at or after it.
        return Const(False) if op == ">=" else RNull(ref, negated=True)
    ceil = day if exact else day + timedelta(days=1)
    return RCompare(ref, op, ceil)  # ">=" or "<"


def _compare(ref: Ref, tp: FieldType, op: str, value: Value | None) -> Resolved:
    if value is None:
        return Const(False)  # a comparison with null is never true (use "is null")
    if tp == "date" and isinstance(value, int) and not isinstance(value, bool):
        return _date_compare(ref, op, value)
    return RCompare(ref, op, value)


def _operand(
    operand: Field | Aggregate, schema: RuleSchema, end: int, as_of: datetime
) -> tuple[Ref, FieldType]:
    if isinstance(operand, Aggregate):
        return _agg_ref(operand, schema, end, as_of), "number"
    ref = _field_ref(operand, schema)
    if ref.type == "tags":
        raise _error(f"tags field {operand.name!r} takes 'has', not a comparison")
    return ref, ref.type


def _time_field(field: Field, schema: RuleSchema) -> FieldRef:
    ref = _field_ref(field, schema)
    if ref.type not in ("datetime", "date"):
        raise _error(f"field {field.name!r} of type {ref.type} is not a date or datetime")
    return ref


def resolve(rule: Predicate, schema: RuleSchema, as_of: datetime) -> Resolved:
    """Type-check ``rule`` against ``schema`` and resolve it at ``as_of``.

    Raises [`RuleTypeError`][crmcore.kernel.errors.RuleTypeError] for an unknown field,
    purchase column or event kind, or a literal of the wrong type.

    Examples:
        >>> from datetime import UTC, datetime
        >>> from crmcore.segments.rules import Field, Within, Duration
        >>> r = resolve(Within(Field("last_purchase_at"), Duration(1, "days")),
        ...             RuleSchema.default(), datetime(1970, 1, 2, tzinfo=UTC))
        >>> [(c.op, c.value) for c in r.items]
        [('>', 0), ('<=', 86400000000)]
    """
    check_predicate(rule)
    check_schema(schema)
    at = to_utc(as_of, "as_of")
    end = to_micros(at)
    return _resolve(rule, schema, at, end)


def _resolve(rule: Predicate, schema: RuleSchema, at: datetime, end: int) -> Resolved:
    match rule:
        case And(items=items):
            return RAnd(tuple(_resolve(i, schema, at, end) for i in items))
        case Or(items=items):
            return ROr(tuple(_resolve(i, schema, at, end) for i in items))
        case Not(item=item):
            return RNot(_resolve(item, schema, at, end))
        case Compare(operand=operand, operator=op, value=literal):
            ref, tp = _operand(operand, schema, end, at)
            return _compare(ref, tp, op, _literal(tp, literal, _name(operand)))
        case InList(operand=operand, values=values, negated=negated):
            ref, tp = _operand(operand, schema, end, at)
            converted = [_literal(tp, v, _name(operand)) for v in values]
            if tp == "date" and any(isinstance(v, int) for v in converted):
                raise _error(f"date field {_name(operand)!r} takes dates in a list")
            present = tuple(dict.fromkeys(v for v in converted if v is not None))
            if not present:
                return Const(False)
            return RIn(ref, present, negated)
        case Between(operand=operand, low=low, high=high, negated=negated):
            ref, tp = _operand(operand, schema, end, at)
            lo = _literal(tp, low, _name(operand))
            hi = _literal(tp, high, _name(operand))
            if negated:
                return ROr((_compare(ref, tp, "<", lo), _compare(ref, tp, ">", hi)))
            return RAnd((_compare(ref, tp, ">=", lo), _compare(ref, tp, "<=", hi)))
        case IsNull(operand=operand, negated=negated):
            if isinstance(operand, Aggregate):
                agg = _agg_ref(operand, schema, end, at)
                return RNull(agg, negated) if agg.nullable else Const(negated)
            ref = _field_ref(operand, schema)
            if ref.type == "tags":
                return Const(negated)  # a tag set is never missing
            return RNull(ref, negated)
        case TextMatch(operand=field, operator=op, text=text, ignore_case=ignore_case):
            ref = _field_ref(field, schema)
            if ref.type != "string":
                raise _error(f"field {field.name!r} of type {ref.type} is not text")
            if text == "":
                return RNull(ref, negated=True)  # every present text contains ""
            return RText(ref, op, text, ignore_case)
        case HasTag(tag=tag, field=field):
            ref = _field_ref(field, schema)
            if ref.type != "tags":
                raise _error(f"field {field.name!r} of type {ref.type} holds no tags")
            return RTag(field.name, tag)
        case Within(operand=field, duration=duration):
            ref = _time_field(field, schema)
            cutoff = to_micros(duration.before(at))
            return RAnd((_compare(ref, ref.type, ">", cutoff), _compare(ref, ref.type, "<=", end)))
        case TimeCompare(operand=field, operator=op, point=point):
            ref = _time_field(field, schema)
            if isinstance(point, Duration):
                bound: Value | None = to_micros(point.before(at))
            else:
                if not isinstance(point.value, date):
                    raise _error(f"time test on {field.name!r} needs a date or datetime")
                bound = _literal("datetime", point, field.name)
            if ref.type == "date" and isinstance(point, Literal):
                bound = _literal("date", point, field.name)
            return _compare(ref, ref.type, "<" if op == "before" else ">", bound)
        case Did(event_kind=kind, window=window):
            did = Aggregate("count", "events", event_kind=kind, window=window)
            return RCompare(_agg_ref(did, schema, end, at), ">=", 1.0)
    raise _error(f"not a rule node: {rule!r}")


def _name(operand: Field | Aggregate) -> str:
    return operand.name if isinstance(operand, Field) else f"{operand.function}(...)"


def leaves(node: Resolved) -> Iterable[Leaf]:
    """The leaves of a resolved tree, depth first."""
    match node:
        case RAnd(items=items) | ROr(items=items):
            for item in items:
                yield from leaves(item)
        case RNot(item=item):
            yield from leaves(item)
        case _:
            yield node
