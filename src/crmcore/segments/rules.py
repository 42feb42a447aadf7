"""The segment rule language: an abstract syntax tree of frozen nodes.

A rule is a tree of *predicates* ([`Predicate`][crmcore.segments.rules.Predicate]) over *operands*
([`Operand`][crmcore.segments.rules.Operand]): customer fields
([`Field`][crmcore.segments.rules.Field], the columns of
[`CUSTOMER_SCHEMA`][crmcore.columnar.schema.CUSTOMER_SCHEMA] plus ``attr.<name>`` custom attributes
and the computed fields of [`COMPUTED_FIELDS`][crmcore.segments.rules.COMPUTED_FIELDS]) and
behavioural aggregates over a transaction or event log
([`Aggregate`][crmcore.segments.rules.Aggregate]). Literal values are
[`Literal`][crmcore.segments.rules.Literal] nodes.

The same tree is evaluated by three back ends (one customer, a numpy mask
over a [`CustomerFrame`][crmcore.columnar.CustomerFrame], SQL), printed as text and
parsed back, and stored as versioned JSON. Every node is immutable and
hashable, so rules compare by value: ``parse(print(rule)) == rule``.

Relative times (``within 90 days``, ``30 days ago``, ``in last 365 days``)
are [`Duration`][crmcore.segments.rules.Duration] nodes, resolved against the caller's ``as_of`` by
[`Duration.before()`][crmcore.segments.rules.Duration.before], once, before any back end compares
values; so all back ends see the same cutoff instant.

Null semantics (the same in every back end):

* a comparison, ``in``, ``not in``, ``between``, text match or time test on a
  *missing* value is **false**;
* ``not`` is the plain complement: ``not (country = "CN")`` matches customers
  whose country is missing, ``country != "CN"`` does not;
* ``is null`` / ``is not null`` test missingness; tag sets are never missing
  (an empty set has no tags);
* ``count`` and ``sum`` over no rows are ``0``; ``avg``, ``min`` and ``max``
  over no rows are missing.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final, TypeAlias, TypeGuard
from typing import Literal as TypingLiteral

import attrs
from attrs.validators import optional
from dateutil.relativedelta import relativedelta

from crmcore.columnar import CUSTOMER_SCHEMA, TRANSACTION_SCHEMA, ColumnKind, Schema
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.validators import instance_of, instances_of, items_of

__all__ = [
    "AGGREGATE_FUNCTIONS",
    "MAX_LIST_VALUES",
    "MAX_RULE_NUMBER",
    "MAX_STRING_LENGTH",
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
]

LiteralValue: TypeAlias = int | float | Decimal | str | bool | date | datetime | None
"""The value types a [`Literal`][crmcore.segments.rules.Literal] may hold."""

FieldType = TypingLiteral["string", "number", "bool", "datetime", "date", "tags"]
"""How a rule sees a column: categories compare as strings, ints and floats as numbers."""

ComparisonOperator = TypingLiteral["=", "!=", "<", "<=", ">", ">="]
COMPARISON_OPERATORS: Final[tuple[ComparisonOperator, ...]] = ("=", "!=", "<", "<=", ">", ">=")

TextOperator = TypingLiteral["contains", "starts_with", "ends_with"]
TimeOperator = TypingLiteral["before", "after"]
DurationUnit = TypingLiteral["days", "weeks", "months", "years"]
AggregateFunction = TypingLiteral["count", "sum", "avg", "min", "max"]
AGGREGATE_FUNCTIONS: Final[tuple[AggregateFunction, ...]] = ("count", "sum", "avg", "min", "max")
AggregateSource = TypingLiteral["purchases", "events"]

_DURATION_UNITS: Final = ("days", "weeks", "months", "years")
_EARLIEST: Final = datetime.min.replace(tzinfo=UTC)
_TEXT_OPERATORS: Final = ("contains", "starts_with", "ends_with")

COMPUTED_FIELDS: Final[Mapping[str, tuple[FieldType, str]]] = {
    "age": ("number", "whole years from birth_date to as_of (missing without a birth date)"),
    "tenure_days": ("number", "days from created_at to as_of (fractional)"),
    "days_since_last_purchase": (
        "number",
        "days from last_purchase_at to as_of (fractional; missing if never purchased)",
    ),
    "average_order_value": (
        "number",
        "total_spent / purchase_count (missing when there are no purchases)",
    ),
}
"""Fields computed from stored columns and ``as_of``: name → (type, meaning)."""

_KIND_TO_TYPE: Final[Mapping[ColumnKind, FieldType]] = {
    "string": "string",
    "category": "string",
    "float": "number",
    "int": "number",
    "bool": "bool",
    "datetime": "datetime",
    "date": "date",
    "tags": "tags",
}


def _is_operand(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Field | Aggregate):
        raise ValidationError(attribute.name, value, "must be a Field or an Aggregate")


def _is_field(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Field):
        raise ValidationError(attribute.name, value, "must be a Field")


def _is_literal(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Literal):
        raise ValidationError(attribute.name, value, "must be a Literal")


_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _no_nul(field: str, value: str) -> None:
    # numpy's fixed-width strings drop trailing NULs and SQLite's string functions stop at
    # the first one, so the back ends would disagree on text holding it: it is refused.
    if "\x00" in value:
        raise ValidationError(field, value, "must not contain the NUL character (U+0000)")
    if _SURROGATE.search(value):
        raise ValidationError(
            field, value, "must be valid Unicode text (no lone surrogates U+D800-U+DFFF)"
        )
    if len(value) > MAX_STRING_LENGTH:
        raise ValidationError(
            field, value[:40] + "...", f"is longer than {MAX_STRING_LENGTH} characters"
        )


def _is_text(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str):
        raise ValidationError(attribute.name, value, "must be a string")
    _no_nul(attribute.name, value)


def _is_name(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError(attribute.name, value, "must be a non-empty string")
    _no_nul(attribute.name, value)


def _is_bool(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise ValidationError(attribute.name, value, "must be True or False")


def _one_of(value: object, options: Iterable[str], field: str, shown: object) -> None:
    if not isinstance(value, str) or value not in options:
        raise ValidationError(field, value, f"must be one of {shown}")


def _is_duration(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Duration):
        raise ValidationError(attribute.name, value, "must be a Duration")


def _is_point(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Literal | Duration):
        raise ValidationError(attribute.name, value, "must be a Literal or a Duration")


def _is_predicate(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, _PREDICATE_TYPES):
        raise ValidationError(attribute.name, value, "must be a predicate node")


# --- literals and operands -------------------------------------------------------------


#: The largest magnitude of a number in a rule: every back end (Python, numpy float64,
#: SQLite, PostgreSQL, DuckDB) compares integers up to 2**53 exactly, and beyond it they
#: disagree (float rounding against exact integers), so larger numbers are refused.
MAX_RULE_NUMBER: Final = 2**53
#: The longest string literal in a rule, in characters.
MAX_STRING_LENGTH: Final = 10_000
#: The most values in one ``in (...)`` list.
MAX_LIST_VALUES: Final = 10_000


def _check_literal(_instance: object, _attribute: object, value: LiteralValue) -> None:
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        raise ValidationError("literal", value, "must be a finite number")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValidationError("literal", value, "must be a finite number")
    if is_rule_number(value) and not -MAX_RULE_NUMBER <= value <= MAX_RULE_NUMBER:
        raise ValidationError(
            "literal",
            _short(value),
            f"numbers in rules are at most 2**53 = {MAX_RULE_NUMBER} in magnitude, "
            "the range every back end compares exactly",
        )
    if isinstance(value, str):
        _no_nul("literal", value)
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValidationError("literal", value, "datetimes must be timezone-aware")
    if value is not None and not isinstance(
        value, bool | int | float | Decimal | str | date | datetime
    ):
        raise ValidationError("literal", value, "must be a number, string, bool, date or datetime")


def is_rule_number(value: object) -> TypeGuard[int | float | Decimal]:
    """Whether ``value`` is a number literal: an int, float or Decimal, but not a bool."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _short(value: object) -> str:
    try:
        text = repr(value)
    except ValueError:  # an int beyond Python's digit limit for str()
        return "a number with thousands of digits"
    return text if len(text) <= 40 else text[:37] + "..."


def _literal_value(value: LiteralValue) -> LiteralValue:
    # Aware datetimes are kept in canonical UTC so equal instants compare equal.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return to_utc(value, "literal")  # refuses an instant outside years 1 to 9999 in UTC
    return value


@attrs.frozen
class Literal:
    """A constant: int, float, Decimal, string, bool, date, aware datetime or ``None`` (null).

    ``Literal(1) != Literal(True)`` and ``Literal(1) != Literal(1.0)``: the
    type is part of the value, so that a printed and re-parsed rule is equal.
    """

    value: LiteralValue = attrs.field(
        converter=_literal_value, validator=_check_literal, eq=False, hash=False
    )
    _key: tuple[str, object] = attrs.field(init=False, repr=False)

    @_key.default
    def _key_default(self) -> tuple[str, object]:
        return (type(self.value).__name__, self.value)


def _check_name(_instance: object, _attribute: object, value: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError("field", value, "must be a non-empty name")
    _no_nul("field", value)


@attrs.frozen
class Field:
    """A customer field by name (a schema column, ``attr.<name>`` or a computed field)."""

    name: str = attrs.field(validator=_check_name)


def _check_amount(_instance: object, _attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError("duration.amount", value, "must be a whole number >= 0")


def _check_unit(_instance: object, _attribute: object, value: str) -> None:
    _one_of(value, _DURATION_UNITS, "duration.unit", _DURATION_UNITS)


@attrs.frozen
class Duration:
    """A length of calendar time: ``90 days``, ``2 weeks``, ``6 months``, ``1 years``.

    Months and years are calendar months (dateutil ``relativedelta``: Mar 31
    minus one month is Feb 28/29), days and weeks are exact.
    """

    amount: int = attrs.field(validator=_check_amount)
    unit: DurationUnit = attrs.field(validator=_check_unit)

    def before(self, as_of: datetime) -> datetime:
        """The instant this long before ``as_of`` (aware, UTC).

        A duration reaching before year 1 gives the earliest representable
        instant (``datetime.min`` in UTC): everything is within it.

        Examples:
            >>> from datetime import UTC
            >>> Duration(1, "months").before(datetime(2026, 3, 31, tzinfo=UTC))
            datetime.datetime(2026, 2, 28, 0, 0, tzinfo=datetime.timezone.utc)
        """
        at = to_utc(as_of)
        n = self.amount
        match self.unit:
            case "days":
                delta = relativedelta(days=n)
            case "weeks":
                delta = relativedelta(weeks=n)
            case "months":
                delta = relativedelta(months=n)
            case _:
                delta = relativedelta(years=n)
        try:
            return to_utc(at - delta)
        except (OverflowError, ValueError):
            # Reaches before year 1: every representable instant is within it.
            return _EARLIEST


def _check_function(_instance: object, _attribute: object, value: str) -> None:
    _one_of(value, AGGREGATE_FUNCTIONS, "aggregate.function", AGGREGATE_FUNCTIONS)


def _check_source(_instance: object, _attribute: object, value: str) -> None:
    _one_of(value, ("purchases", "events"), "aggregate.source", "'purchases' or 'events'")


@attrs.frozen
class Aggregate:
    """A behavioural aggregate of one customer's rows in a log, optionally in a window.

    * ``count(purchases in last 90 days)`` — ``Aggregate("count", "purchases", window=...)``
    * ``sum(amount in last 365 days)`` — ``Aggregate("sum", "purchases", column="amount", ...)``
    * ``count(events "email_open" in last 30 days)`` —
      ``Aggregate("count", "events", event_kind="email_open", ...)``

    ``count`` takes no column; ``sum``/``avg``/``min``/``max`` need a numeric
    transaction column (``amount``, ``items``). A window covers
    ``(as_of - window, as_of]``; rows after ``as_of`` never count.
    """

    function: AggregateFunction = attrs.field(validator=_check_function)
    source: AggregateSource = attrs.field(validator=_check_source)
    column: str | None = attrs.field(default=None, validator=attrs.validators.optional(_is_name))
    event_kind: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(_is_name)
    )
    window: Duration | None = attrs.field(default=None, validator=optional(_is_duration))

    def __attrs_post_init__(self) -> None:
        if self.function == "count" and self.column is not None:
            raise ValidationError("aggregate.column", self.column, "count takes no column")
        if self.function != "count" and (self.source != "purchases" or self.column is None):
            raise ValidationError(
                "aggregate.column", self.column, f"{self.function} needs a purchases column"
            )
        if self.event_kind is not None and self.source != "events":
            raise ValidationError("aggregate.event_kind", self.event_kind, "only for events")


Operand: TypeAlias = Field | Aggregate
"""What a predicate tests: a customer field or an aggregate of their log rows."""


# --- predicates ------------------------------------------------------------------------


def _check_operator(_instance: object, _attribute: object, value: str) -> None:
    _one_of(value, COMPARISON_OPERATORS, "operator", COMPARISON_OPERATORS)


@attrs.frozen
class Compare:
    """``operand <op> value``, e.g. ``total_spent >= 1000``."""

    operand: Operand = attrs.field(validator=_is_operand)
    operator: ComparisonOperator = attrs.field(validator=_check_operator)
    value: Literal = attrs.field(validator=_is_literal)


def _literal_tuple(values: Iterable[Literal]) -> tuple[Literal, ...]:
    return items_of(values, "values", "literals")


def _check_values(_instance: object, _attribute: object, value: tuple[Literal, ...]) -> None:
    if not value:
        raise ValidationError("values", value, "an in-list needs at least one value")
    if len(value) > MAX_LIST_VALUES:
        raise ValidationError(
            "values", len(value), f"an in-list takes at most {MAX_LIST_VALUES} values"
        )
    for i, item in enumerate(value):
        if not isinstance(item, Literal):
            raise ValidationError(f"values[{i}]", item, "must be a Literal")


@attrs.frozen
class InList:
    """``operand in (v1, v2, ...)``; ``negated`` for ``not in``."""

    operand: Operand = attrs.field(validator=_is_operand)
    values: tuple[Literal, ...] = attrs.field(converter=_literal_tuple, validator=_check_values)
    negated: bool = attrs.field(default=False, validator=_is_bool)


@attrs.frozen
class Between:
    """``operand between low and high``, both ends inclusive; ``negated`` for ``not between``."""

    operand: Operand = attrs.field(validator=_is_operand)
    low: Literal = attrs.field(validator=_is_literal)
    high: Literal = attrs.field(validator=_is_literal)
    negated: bool = attrs.field(default=False, validator=_is_bool)


@attrs.frozen
class IsNull:
    """``operand is null``; ``negated`` for ``is not null``."""

    operand: Operand = attrs.field(validator=_is_operand)
    negated: bool = attrs.field(default=False, validator=_is_bool)


def _check_text_operator(_instance: object, _attribute: object, value: str) -> None:
    _one_of(value, _TEXT_OPERATORS, "operator", _TEXT_OPERATORS)


@attrs.frozen
class TextMatch:
    """``operand contains "x"`` / ``starts with`` / ``ends with``.

    Case-sensitive unless ``ignore_case`` (text: ``... ignoring case``), which
    compares Unicode case-folded text in Python and numpy, and ``lower()`` in
    SQL (identical for the ASCII range; documented).
    """

    operand: Field = attrs.field(validator=_is_field)
    operator: TextOperator = attrs.field(validator=_check_text_operator)
    text: str = attrs.field(validator=_is_text)
    ignore_case: bool = attrs.field(default=False, validator=_is_bool)


@attrs.frozen
class HasTag:
    """``has tag "vip"`` (the ``tags`` field) or ``interests has "music"`` (any tags field)."""

    tag: str = attrs.field(validator=_is_name)
    field: Field = attrs.field(default=Field("tags"), validator=_is_field)


@attrs.frozen
class Within:
    """``last_purchase_at within 90 days``: in ``(as_of - duration, as_of]``.

    Every window of the language is half-open the same way: ``within``, ``did
    ... within`` and ``in last N days`` all cover ``(as_of - N days, as_of]``,
    so a 0-day window is empty and an instant exactly N days ago is outside.
    """

    operand: Field = attrs.field(validator=_is_field)
    duration: Duration = attrs.field(validator=_is_duration)


@attrs.frozen
class TimeCompare:
    """``created_at before 2024-01-01`` / ``last_purchase_at after 30 days ago``.

    ``point`` is a date or datetime [`Literal`][crmcore.segments.rules.Literal], or a
    [`Duration`][crmcore.segments.rules.Duration] meaning "that long before ``as_of``". ``before``
    is strict (``<``), ``after`` strict (``>``). A date compared with a datetime field means
    midnight UTC at the start of that date.
    """

    operand: Field = attrs.field(validator=_is_field)
    operator: TimeOperator
    point: Literal | Duration = attrs.field(validator=_is_point)

    def __attrs_post_init__(self) -> None:
        _one_of(self.operator, ("before", "after"), "operator", "'before' or 'after'")


@attrs.frozen
class Did:
    """``did "cart_abandoned"`` (ever, up to ``as_of``) or ``... within 7 days``.

    Means ``count(events "cart_abandoned" [in last 7 days]) >= 1``.
    """

    event_kind: str = attrs.field(validator=_is_name)
    window: Duration | None = attrs.field(default=None, validator=optional(_is_duration))


def _predicate_tuple(items: Iterable[Predicate]) -> tuple[Predicate, ...]:
    return items_of(items, "items", "predicates")


def _check_items(_instance: object, _attribute: object, value: tuple[Predicate, ...]) -> None:
    if len(value) < 2:
        raise ValidationError("items", value, "and/or need at least two operands")
    for i, item in enumerate(value):
        if not isinstance(item, _PREDICATE_TYPES):
            raise ValidationError(f"items[{i}]", item, "must be a predicate node")


@attrs.frozen
class And:
    """All of ``items`` hold (two or more, in order)."""

    items: tuple[Predicate, ...] = attrs.field(converter=_predicate_tuple, validator=_check_items)


@attrs.frozen
class Or:
    """Any of ``items`` holds (two or more, in order)."""

    items: tuple[Predicate, ...] = attrs.field(converter=_predicate_tuple, validator=_check_items)


@attrs.frozen
class Not:
    """``item`` does not hold (plain complement; see the null semantics above)."""

    item: Predicate = attrs.field(validator=_is_predicate)


Predicate: TypeAlias = (
    Compare
    | InList
    | Between
    | IsNull
    | TextMatch
    | HasTag
    | Within
    | TimeCompare
    | Did
    | And
    | Or
    | Not
)
"""A boolean rule node."""

Node: TypeAlias = Predicate | Operand | Literal | Duration
"""Any node of a rule tree."""

_PREDICATE_TYPES: Final = (
    Compare, InList, Between, IsNull, TextMatch, HasTag, Within, TimeCompare, Did, And, Or, Not
)  # fmt: skip


def children(node: Node) -> tuple[Node, ...]:
    """The direct child nodes of ``node``, in source order."""
    match node:
        case And(items=items) | Or(items=items):
            return items
        case Not(item=item):
            return (item,)
        case Compare(operand=o, value=v):
            return (o, v)
        case InList(operand=o, values=vs):
            return (o, *vs)
        case Between(operand=o, low=lo, high=hi):
            return (o, lo, hi)
        case IsNull(operand=o):
            return (o,)
        case TextMatch(operand=o):
            return (o,)
        case Within(operand=o, duration=d):
            return (o, d)
        case HasTag(field=f):
            return (f,)
        case TimeCompare(operand=o, point=p):
            return (o, p)
        case Did(window=w):
            return () if w is None else (w,)
        case Aggregate(window=w):
            return () if w is None else (w,)
        case _:
            return ()


def walk(node: Node) -> Iterable[Node]:
    """Every node of the tree under ``node`` (itself first), depth first."""
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


# --- schema ----------------------------------------------------------------------------


_FIELD_TYPES: Final = frozenset(typing.get_args(FieldType))


def _types(value: object, field: str) -> FrozenDict[str, FieldType]:
    if not isinstance(value, Mapping):
        raise ValidationError(field, value, "must be a mapping of name to field type")
    for name, tp in value.items():
        if not isinstance(name, str) or not name:
            raise ValidationError(field, name, "names must be non-empty strings")
        if not isinstance(tp, str) or tp not in _FIELD_TYPES:
            raise ValidationError(
                f"{field}[{name!r}]", tp, f"must be one of {', '.join(sorted(_FIELD_TYPES))}"
            )
    return FrozenDict(value)


def _field_types(value: object) -> FrozenDict[str, FieldType]:
    return _types(value, "fields")


def _column_types(value: object) -> FrozenDict[str, FieldType]:
    return _types(value, "purchase_columns")


def _event_kinds(value: object) -> frozenset[str] | None:
    return None if value is None else frozenset(instances_of(value, str, "event_kinds"))


@attrs.frozen
class RuleSchema:
    """What a rule may refer to: customer fields with their types, log columns, event kinds.

    ``event_kinds`` is ``None`` when any event kind is acceptable (no event
    log known yet); otherwise aggregates and ``did`` over an unlisted kind
    fail the type check.

    Examples:
        >>> schema = RuleSchema.default()
        >>> schema.fields["total_spent"], schema.fields["country"], schema.fields["age"]
        ('number', 'string', 'number')
    """

    fields: FrozenDict[str, FieldType] = attrs.field(converter=_field_types)
    purchase_columns: FrozenDict[str, FieldType] = attrs.field(converter=_column_types)
    event_kinds: frozenset[str] | None = attrs.field(default=None, converter=_event_kinds)

    @classmethod
    def from_schema(
        cls, customer_schema: Schema, event_kinds: Iterable[str] | None = None
    ) -> RuleSchema:
        """The rule schema of a customer column schema (plus the computed fields)."""
        instance_of(customer_schema, Schema, "customer_schema", "a columnar Schema")
        fields: dict[str, FieldType] = {
            c.name: _KIND_TO_TYPE[c.kind] for c in customer_schema.columns
        }
        for name, (tp, _doc) in COMPUTED_FIELDS.items():
            fields.setdefault(name, tp)
        # The purchase columns every back end has: a stored purchase (SQL) knows its
        # amount and item count, not the order lines a log may also carry.
        purchases: dict[str, FieldType] = {
            c.name: _KIND_TO_TYPE[c.kind]
            for c in TRANSACTION_SCHEMA.columns
            if c.name in ("amount", "items")
        }
        return cls(fields, purchases, _event_kinds(event_kinds))

    @classmethod
    def default(cls, event_kinds: Iterable[str] | None = None) -> RuleSchema:
        """The standard customer schema (no custom attributes)."""
        return cls.from_schema(CUSTOMER_SCHEMA, event_kinds)

    def with_attributes(self, attributes: Mapping[str, FieldType]) -> RuleSchema:
        """This schema plus ``attr.<name>`` fields of the given types."""
        fields = dict(self.fields)
        for name, tp in _types(attributes, "attributes").items():
            fields[name if name.startswith("attr.") else f"attr.{name}"] = tp
        return attrs.evolve(self, fields=fields)
