"""Evaluate a segment rule on one customer: the per-object back end.

[`matches()`][crmcore.segments.evaluate.matches] resolves the rule
([`crmcore.segments.resolved.resolve()`][crmcore.segments.resolved.resolve]: type check, fixed
instants, one value domain per field) and tests the resolved tree on one customer's record and log
rows; [`record_schema()`][crmcore.segments.evaluate.record_schema] is the rule schema of a record
(the standard fields plus its ``attr.*`` fields). The numpy back end
([`crmcore.segments.evaluate_batch.mask()`][crmcore.segments.evaluate_batch.mask]) and SQL
([`crmcore.segments.sql.to_sql()`][crmcore.segments.sql.to_sql]) evaluate the same resolved tree and
give the same answers.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.segments.rules import Compare, Field, Literal
    >>> rule = Compare(Field("total_spent"), ">=", Literal(100))
    >>> record = {"id": "c-1", "name": "Ann", "total_spent": 250.0}
    >>> matches(rule, record, datetime(2026, 1, 1, tzinfo=UTC))
    True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from crmcore.columnar import customer_record
from crmcore.customers.customer import Customer
from crmcore.customers.records import Interaction, Purchase
from crmcore.kernel.clock import DAY_US, to_micros, to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import items_of
from crmcore.segments.resolved import (
    COMPARATORS,
    AggRef,
    Const,
    RAnd,
    RCompare,
    Ref,
    Resolved,
    RIn,
    RNot,
    RNull,
    ROr,
    RTag,
    RText,
    Value,
    is_number,
    resolve,
)
from crmcore.segments.rules import (
    COMPUTED_FIELDS,
    FieldType,
    Predicate,
    RuleSchema,
)
from crmcore.segments.typecheck import check_schema

__all__ = ["matches", "record_schema"]


def _attribute_type(value: object) -> FieldType | None:
    if isinstance(value, bool):
        return "bool"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    return None


def record_schema(record: Mapping[str, object], base: RuleSchema | None = None) -> RuleSchema:
    """``base`` (default: the standard schema) plus the ``attr.*`` fields of ``record``."""
    schema = RuleSchema.default() if base is None else check_schema(base, "base")
    if not isinstance(record, Mapping):
        raise ValidationError("record", record, "must be a mapping of field name to value")
    extra: dict[str, FieldType] = {}
    for key, value in record.items():
        if isinstance(key, str) and key.startswith("attr.") and key not in schema.fields:
            tp = _attribute_type(value)
            if tp is not None:
                extra[key] = tp
    return schema.with_attributes(extra) if extra else schema


def _present_number(value: object) -> float | None:
    if value is None or isinstance(value, bool) or not is_number(value):
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def _age(birth: object, on: date) -> float | None:
    if not isinstance(birth, date):
        return None
    before = (on.month * 100 + on.day) < (birth.month * 100 + birth.day)
    return float(on.year - birth.year - before)


def _days_since(value: object, end: int) -> float | None:
    if not isinstance(value, datetime):
        return None
    return (end - to_micros(value)) / DAY_US


class _Customer:
    """One customer's record and log rows, evaluated against resolved rules."""

    def __init__(
        self,
        record: Mapping[str, object],
        as_of: datetime,
        purchases: Sequence[tuple[int, Mapping[str, float | None]]],
        events: Sequence[tuple[int, str]],
    ) -> None:
        self.record = record
        self.as_of = as_of
        self.end = to_micros(as_of)
        self.purchases = purchases
        self.events = events

    def value(self, ref: Ref) -> Value | None:
        if isinstance(ref, AggRef):
            return self.aggregate(ref)
        name = ref.name
        if name in COMPUTED_FIELDS and name not in self.record:
            return self.computed(name)
        raw = self.record.get(name)
        if raw is None:
            return None
        match ref.type:
            case "number":
                return _present_number(raw)
            case "datetime":
                return to_micros(raw) if isinstance(raw, datetime) else None
            case "date":
                if isinstance(raw, datetime):
                    raise ValidationError(name, raw, "must be a date, not a datetime")
                return raw if isinstance(raw, date) else None
            case "string":
                return raw if isinstance(raw, str) else None
            case "bool":
                return raw if isinstance(raw, bool) else None
        return None

    def computed(self, name: str) -> float | None:
        r = self.record
        if name == "age":
            return _age(r.get("birth_date"), self.as_of.date())
        if name == "tenure_days":
            return _days_since(r.get("created_at"), self.end)
        if name == "days_since_last_purchase":
            return _days_since(r.get("last_purchase_at"), self.end)
        count = _present_number(r.get("purchase_count"))
        total = _present_number(r.get("total_spent"))
        if not count or total is None:
            return None
        return total / count

    def aggregate(self, ref: AggRef) -> float | None:
        start, end = ref.start, ref.end
        if ref.source == "events":
            n = sum(
                1
                for at, kind in self.events
                if at <= end
                and (start is None or at > start)
                and (ref.event_kind is None or kind == ref.event_kind)
            )
            return float(n)
        rows = [row for at, row in self.purchases if at <= end and (start is None or at > start)]
        if ref.function == "count":
            return float(len(rows))
        assert ref.column is not None
        values = [v for v in (row.get(ref.column) for row in rows) if v is not None]
        if ref.function == "sum":
            total = 0.0
            for v in values:
                total += v
            return total
        if not values:
            return None
        if ref.function == "min":
            return min(values)
        if ref.function == "max":
            return max(values)
        total = 0.0
        for v in values:
            total += v
        return total / len(values)

    def tags(self, name: str) -> frozenset[str]:
        raw = self.record.get(name)
        if raw is None:
            return frozenset()
        if isinstance(raw, str) or not isinstance(raw, Iterable):
            raise ValidationError(name, raw, "must be a set of tags")
        return frozenset(raw)

    def test(self, node: Resolved) -> bool:
        match node:
            case RAnd(items=items):
                return all(self.test(i) for i in items)
            case ROr(items=items):
                return any(self.test(i) for i in items)
            case RNot(item=item):
                return not self.test(item)
            case Const(value=constant):
                return constant
            case RTag(field=field, tag=tag):
                return tag in self.tags(field)
            case RNull(ref=ref, negated=negated):
                return (self.value(ref) is None) != negated
            case RText(ref=ref, op=op, text=text, ignore_case=ignore_case):
                value = self.value(ref)
                if not isinstance(value, str):
                    return False
                if ignore_case:
                    value, text = value.casefold(), text.casefold()
                if op == "contains":
                    return text in value
                if op == "starts_with":
                    return value.startswith(text)
                return value.endswith(text)
            case RIn(ref=ref, values=values, negated=negated):
                value = self.value(ref)
                if value is None:
                    return False
                return (value in values) != negated
            case RCompare(ref=ref, op=op, value=literal):
                value = self.value(ref)
                if value is None:
                    return False
                return _compare_values(value, op, literal)
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover


def _compare_values(value: Value, op: str, literal: Value) -> bool:
    return bool(COMPARATORS[op](value, literal))


def _purchase_rows(
    rows: Iterable[Purchase | Mapping[str, object]], customer_id: object
) -> list[tuple[int, Mapping[str, float | None]]]:
    out: list[tuple[int, Mapping[str, float | None]]] = []
    for i, row in enumerate(items_of(rows, "purchases", "purchases")):
        if not isinstance(row, Purchase | Mapping):
            raise ValidationError(f"purchases[{i}]", row, "must be a Purchase or a log record")
        if isinstance(row, Purchase):
            if row.customer_id != customer_id:
                continue
            out.append(
                (to_micros(row.at), {"amount": float(row.amount.amount), "items": row.items})
            )
            continue
        if row.get("customer_id", customer_id) != customer_id:
            continue
        at = row.get("at")
        if not isinstance(at, datetime):
            raise ValidationError("purchases.at", at, "must be an aware datetime")
        values = {key: _present_number(value) for key, value in row.items() if key not in ("at",)}
        out.append((to_micros(at), values))
    return out


def _event_rows(
    rows: Iterable[Interaction | Mapping[str, object]], customer_id: object
) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for i, row in enumerate(items_of(rows, "events", "events")):
        if not isinstance(row, Interaction | Mapping):
            raise ValidationError(f"events[{i}]", row, "must be an Interaction or a log record")
        if isinstance(row, Interaction):
            if row.customer_id == customer_id:
                out.append((to_micros(row.at), row.kind))
            continue
        if row.get("customer_id", customer_id) != customer_id:
            continue
        at, kind = row.get("at"), row.get("kind")
        if not isinstance(at, datetime) or not isinstance(kind, str):
            raise ValidationError("events", row, "needs an aware datetime 'at' and a str 'kind'")
        out.append((to_micros(at), kind))
    return out


def matches(
    rule: Predicate,
    customer: Customer | Mapping[str, object],
    as_of: datetime,
    *,
    purchases: Iterable[Purchase | Mapping[str, object]] = (),
    events: Iterable[Interaction | Mapping[str, object]] = (),
    schema: RuleSchema | None = None,
) -> bool:
    """Whether one customer matches ``rule`` at ``as_of`` (the reference evaluator).

    ``customer`` is a [`Customer`][crmcore.customers.Customer] or a flat record
    ([`customer_record()`][crmcore.columnar.schema.customer_record], or a row of
    `CustomerFrame.to_records()`). ``purchases`` are
    [`Purchase`][crmcore.customers.Purchase] objects or transaction-log records,
    ``events`` [`Interaction`][crmcore.customers.Interaction] objects or event-log
    records (the event kind is the interaction kind); rows of other
    customers are ignored. ``schema`` defaults to the standard schema plus
    the record's ``attr.*`` fields. Raises
    [`RuleTypeError`][crmcore.kernel.errors.RuleTypeError] when the rule does not fit the
    schema.

    Examples:
        >>> from datetime import UTC, datetime
        >>> from crmcore.segments.rules import HasTag, Not
        >>> at = datetime(2026, 1, 1, tzinfo=UTC)
        >>> matches(Not(HasTag("vip")), {"id": "c-1", "tags": frozenset()}, at)
        True
    """
    record = customer_record(customer) if isinstance(customer, Customer) else customer
    if not isinstance(record, Mapping):
        raise ValidationError("customer", customer, "must be a Customer or a record mapping")
    at = to_utc(as_of, "as_of")
    base = None if schema is None else check_schema(schema)
    resolved = resolve(rule, record_schema(record, base), at)
    cid = record.get("id")
    one = _Customer(record, at, _purchase_rows(purchases, cid), _event_rows(events, cid))
    return one.test(resolved)
