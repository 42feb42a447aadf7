"""Evaluate a segment rule over a whole [`CustomerFrame`][crmcore.columnar.CustomerFrame] with
numpy.

[`mask()`][crmcore.segments.evaluate_batch.mask] returns one boolean per customer: the same answer
as [`crmcore.segments.evaluate.matches()`][crmcore.segments.evaluate.matches] on each customer's
record, computed column-wise without a per-customer Python loop (the batch speed of
[`crmcore.segments.evaluate`][crmcore.segments.evaluate]; both evaluate the tree of
[`crmcore.segments.resolved`][crmcore.segments.resolved]).

* numbers, bools, datetimes and dates compare on their numpy arrays, with the
  column's missing mask (``NaN``/``NaT``/mask) and-ed out of every leaf;
* categories compare by code: the predicate runs once per *category* and the
  result is gathered by code (code ``-1``, missing, is false);
* tags use the CSR columns ([`Column.has`][crmcore.columnar.columns.Column.has]);
* text matching uses ``numpy.strings`` on ``StringDType`` (``ignore case``
  folds ASCII values with ``numpy.strings.lower`` and the few non-ASCII
  distinct values with `str.casefold()`);
* aggregates group the log rows by customer row
  (:meth:`TransactionLog.with_customer_index
  <crmcore.columnar.TransactionLog.with_customer_index>`) with
  ``np.bincount`` (count, sum, avg) and ``np.minimum.at``/``np.maximum.at``.

[`MaskEvaluator`][crmcore.segments.evaluate_batch.MaskEvaluator] memoises every resolved sub-tree by
value, so a set of segments sharing predicates evaluates each distinct one once
([`crmcore.segments.segment.SegmentSet`][crmcore.segments.segment.SegmentSet] relies on it).

Examples:
    >>> from crmcore.datasets import synthetic
    >>> from crmcore.columnar import CustomerFrame
    >>> from crmcore.segments.rules import Compare, Field, Literal
    >>> data = synthetic.generate(200, seed=1)
    >>> frame = CustomerFrame.from_customers(data.customers)
    >>> big = mask(Compare(Field("total_spent"), ">=", Literal(100)), frame, data.end)
    >>> big.dtype, big.shape == (len(frame),), bool(0 < big.sum() < len(frame))
    (dtype('bool'), True, True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, Final, cast

import numpy as np

from crmcore.columnar import (
    STRING_DTYPE,
    Column,
    CustomerFrame,
    EventLog,
    TransactionLog,
    ages_on,
)
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array
from crmcore.kernel.clock import DAY_US, to_micros, to_utc
from crmcore.kernel.errors import RuleTypeError, ValidationError
from crmcore.segments.resolved import (
    COMPARATORS,
    AggRef,
    Const,
    FieldRef,
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
    resolve,
)
from crmcore.segments.rules import COMPUTED_FIELDS, FieldType, Predicate, RuleSchema

__all__ = ["MaskEvaluator", "frame_schema", "mask"]

_NAT: Final = np.iinfo(np.int64).min


_DEFAULT_SCHEMA: Final = RuleSchema.default()
_KIND_TYPES: Final[dict[str, FieldType]] = {
    "string": "string",
    "category": "string",
    "float": "number",
    "int": "number",
    "bool": "bool",
    "datetime": "datetime",
    "date": "date",
}


def frame_schema(frame: CustomerFrame, event_kinds: Iterable[str] | None = None) -> RuleSchema:
    """The rule schema of ``frame``: its columns (``attr.*`` included) plus computed fields."""
    base = _DEFAULT_SCHEMA if event_kinds is None else RuleSchema.default(event_kinds)
    extra = {
        name: _KIND_TYPES[frame.column(name).kind]
        for name in frame.names
        if name.startswith("attr.")  # cheaper than frame.attribute_names
    }
    return base.with_attributes(extra) if extra else base


class MaskEvaluator:
    """Evaluates resolved rules over one frame (and its logs) at one ``as_of``, memoised.

    Every sub-tree's mask is cached by value, as are field values and
    aggregates, so evaluating many rules that share predicates costs each
    distinct predicate once. Returned masks are read-only.
    """

    def __init__(
        self,
        frame: CustomerFrame,
        as_of: datetime,
        *,
        transactions: TransactionLog | None = None,
        events: EventLog | None = None,
        schema: RuleSchema | None = None,
    ) -> None:
        """Prepare to evaluate over ``frame`` with the optional logs (nothing is computed yet)."""
        if not isinstance(frame, CustomerFrame):
            raise ValidationError("frame", frame, "must be a CustomerFrame")
        if transactions is not None and not isinstance(transactions, TransactionLog):
            raise ValidationError("transactions", transactions, "must be a TransactionLog")
        if events is not None and not isinstance(events, EventLog):
            raise ValidationError("events", events, "must be an EventLog")
        self.frame = frame
        self.as_of = to_utc(as_of, "as_of")
        self.end = to_micros(self.as_of)
        self.transactions = transactions
        self.events = events
        self.schema = frame_schema(frame) if schema is None else schema
        self.n = len(frame)
        self._masks: dict[Resolved, BoolArray] = {}
        self._values: dict[Ref, tuple[AnyArray, BoolArray]] = {}
        self._rows: dict[object, Any] = {}

    def mask(self, rule: Predicate) -> BoolArray:
        """The mask of ``rule`` (type-checked against the frame's schema)."""
        return self.evaluate(resolve(rule, self.schema, self.as_of))

    def evaluate(self, node: Resolved) -> BoolArray:
        """The mask of a resolved tree (cached by value)."""
        found = self._masks.get(node)
        if found is None:
            found = self._compute(node)
            found.flags.writeable = False
            self._masks[node] = found
        return found

    @property
    def cached(self) -> int:
        """How many distinct sub-trees have been evaluated so far."""
        return len(self._masks)

    # -- trees and leaves ---------------------------------------------------------------
    def _compute(self, node: Resolved) -> BoolArray:
        match node:
            case RAnd(items=items):
                out = self.evaluate(items[0]).copy()
                for item in items[1:]:
                    out &= self.evaluate(item)
                return out
            case ROr(items=items):
                out = self.evaluate(items[0]).copy()
                for item in items[1:]:
                    out |= self.evaluate(item)
                return out
            case RNot(item=item):
                return ~self.evaluate(item)
            case Const(value=constant):
                return np.full(self.n, constant, dtype=bool)
            case RTag(field=field, tag=tag):
                return self.frame.column(field).has(tag).copy()
            case RNull(ref=ref, negated=negated):
                _values, missing = self._value(ref)
                return ~missing if negated else missing.copy()
            case RText():
                return self._text(node)
            case RIn(ref=ref, values=values, negated=negated):
                return self._in(ref, values, negated)
            case RCompare(ref=ref, op=op, value=value):
                return self._compare(ref, op, value)
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover

    def _category(self, ref: Ref) -> Column | None:
        if isinstance(ref, FieldRef) and ref.name in self.frame:
            column = self.frame.column(ref.name)
            if column.kind == "category":
                return column
        return None

    def _by_category(self, column: Column, test: Callable[[AnyArray], BoolArray]) -> BoolArray:
        """Run ``test`` on the categories once, then map it onto the codes (missing: false)."""
        categories = np.array(column.categories, dtype=STRING_DTYPE)
        return _gather(np.asarray(test(categories), dtype=bool), column.codes)

    def _compare(self, ref: Ref, op: str, value: object) -> BoolArray:
        compare = COMPARATORS[op]
        column = self._category(ref)
        if column is not None:
            return self._by_category(column, lambda cats: np.asarray(compare(cats, value)))
        values, missing = self._value(ref)
        if values.dtype.kind in "iu" and isinstance(value, float) and value.is_integer():
            value = int(value)  # an int column compares with an int: no float copy
        result: BoolArray = np.asarray(compare(values, _scalar(ref, value)))
        # NaN and NaT already compare false, except under "!="
        if values.dtype.kind in "fmM" and op != "!=":
            return result
        return self._present(ref, result, missing)

    def _present(self, ref: Ref, result: BoolArray, missing: BoolArray) -> BoolArray:
        """``result`` with missing rows set false (skipped when nothing is missing)."""
        key = ("any-missing", ref)
        any_missing = self._rows.get(key)
        if any_missing is None:
            any_missing = bool(missing.any())
            self._rows[key] = any_missing
        if any_missing:
            result &= ~missing
        return result

    def _in(self, ref: Ref, wanted: tuple[object, ...], negated: bool) -> BoolArray:
        column = self._category(ref)
        if column is not None:
            table = np.zeros(len(column.categories), dtype=bool)
            for label in wanted:
                code = column.code_of(cast(str, label))
                if code is not None:
                    table[code] = True
            return _gather(~table if negated else table, column.codes)
        values, missing = self._value(ref)
        if values.dtype == STRING_DTYPE:
            options: AnyArray = np.array(wanted, dtype=STRING_DTYPE)
        else:
            options = np.array([_scalar(ref, w) for w in wanted])
            if options.dtype.kind == "M":
                options = options.astype(values.dtype)
        found = np.isin(values, options)
        return self._present(ref, ~found if negated else found, missing)

    def _text(self, node: RText) -> BoolArray:
        def test(values: AnyArray) -> BoolArray:
            text = node.text
            if node.ignore_case:
                values = _casefold(values)
                text = text.casefold()
            if node.op == "contains":
                return np.strings.find(values, text) >= 0
            if node.op == "starts_with":
                return np.strings.startswith(values, text)
            return np.strings.endswith(values, text)

        column = self._category(node.ref)
        if column is not None:
            return self._by_category(column, test)
        values, missing = self._value(node.ref)
        return self._present(node.ref, test(values), missing)

    # -- values ---------------------------------------------------------------------------
    def _value(self, ref: Ref) -> tuple[AnyArray, BoolArray]:
        """The values of ``ref`` in its comparison layout, and the missing mask."""
        found = self._values.get(ref)
        if found is None:
            if isinstance(ref, AggRef):
                values: AnyArray = self._aggregate(ref)
                missing = np.isnan(values)
            elif ref.name in COMPUTED_FIELDS and ref.name not in self.frame:
                values = self._computed(ref.name)
                missing = np.isnan(values)
            else:
                values, missing = self._stored(ref)
            found = (values, missing)
            self._values[ref] = found
        return found

    def _stored(self, ref: FieldRef) -> tuple[AnyArray, BoolArray]:
        column = self.frame.column(ref.name)
        kind = column.kind
        expected = {
            "number": ("float", "int"),
            "string": ("string", "category"),
            "bool": ("bool",),
            "datetime": ("datetime",),
            "date": ("date",),
        }[ref.type]
        if kind not in expected:
            raise RuleTypeError(f"field {ref.name!r} is a {kind} column, not {ref.type}")
        missing = column.missing
        if kind == "category":  # only "is null" reads these; comparisons go by code
            return column.codes, missing
        return column.values, missing

    def _computed(self, name: str) -> Float64Array:
        frame = self.frame
        if name == "age":
            return _ages(frame.column("birth_date").values, self.as_of.date())
        if name == "average_order_value":
            count = frame.column("purchase_count").values
            total = frame.column("total_spent").values
            out = np.full(self.n, np.nan)
            ok = count > 0
            np.divide(total, count, out=out, where=ok)
            return out
        column = "created_at" if name == "tenure_days" else "last_purchase_at"
        us = frame.column(column).values.view(np.int64)
        days = (self.end - us).astype(np.float64) / DAY_US
        days[us == _NAT] = np.nan
        return days

    def _log_rows(self, source: str) -> tuple[Any, Any, AnyArray]:
        """(log, customer row of each log row, at in µs) for ``source`` (cached)."""
        cached = self._rows.get(source)
        if cached is None:
            log: TransactionLog | EventLog | None = (
                self.transactions if source == "purchases" else self.events
            )
            if log is None:
                what = "transactions=" if source == "purchases" else "events="
                raise ValidationError(
                    source, None, f"the rule aggregates {source}: pass {what} (a log)"
                )
            rows = log.with_customer_index(self.frame)
            cached = (log, rows, log.at.view(np.int64))
            self._rows[source] = cached
        return cast(tuple[Any, Any, AnyArray], cached)

    def _aggregate(self, ref: AggRef) -> Float64Array:
        log, rows, at = self._log_rows(ref.source)
        keep = (rows >= 0) & (at <= ref.end)
        if ref.start is not None:
            keep &= at > ref.start
        if ref.event_kind is not None:
            kinds = log.column("kind")
            code = kinds.code_of(ref.event_kind)
            keep &= (kinds.codes == code) if code is not None else False
        if ref.function == "count":
            counts: Float64Array = np.bincount(rows[keep], minlength=self.n).astype(np.float64)
            return counts
        assert ref.column is not None
        column = log.column(ref.column)
        keep &= ~column.missing
        values = column.values[keep].astype(np.float64)
        who = rows[keep]
        total: Float64Array = np.bincount(who, weights=values, minlength=self.n).astype(np.float64)
        if ref.function == "sum":
            return total
        count = np.bincount(who, minlength=self.n)
        out = np.full(self.n, np.nan)
        present = count > 0
        if ref.function == "avg":
            np.divide(total, count, out=out, where=present)
            return out
        if ref.function == "min":
            fill = np.full(self.n, np.inf)
            np.minimum.at(fill, who, values)
        else:
            fill = np.full(self.n, -np.inf)
            np.maximum.at(fill, who, values)
        out[present] = fill[present]
        return out


_FEW: Final = 4


def _gather(table: BoolArray, codes: AnyArray) -> BoolArray:
    """``table[codes]`` for category codes, code -1 (missing) false.

    A few hits (or a few misses) compare the codes directly, which is several
    times faster than a gather; otherwise a gather through a lookup table.
    """
    hits = np.flatnonzero(table)
    if len(hits) <= _FEW:
        out = np.zeros(len(codes), dtype=bool)
        for code in hits.tolist():
            out |= codes == code
        return out
    misses = np.flatnonzero(~table)
    if len(misses) <= _FEW:
        out = codes >= 0
        for code in misses.tolist():
            out &= codes != code
        return out
    lookup = np.append(table, False)  # index -1: missing
    result: BoolArray = np.take(lookup, codes)
    return result


def _scalar(ref: Ref, value: object) -> object:
    """A resolved value as a numpy scalar comparable with the column's array."""
    if isinstance(ref, FieldRef):
        if ref.type == "datetime" and isinstance(value, int):
            return np.datetime64(value, "us")
        if ref.type == "date" and isinstance(value, date):
            return np.datetime64(value, "D")
    return value


def _ages(born: AnyArray, day: date) -> Float64Array:
    """Whole years from each birth date to ``day`` (the rule of ``CustomerFrame.age_at``)."""
    return ages_on(born, day)


def _casefold(values: AnyArray) -> AnyArray:
    """Unicode case folding of a StringDType array: numpy for ASCII, ``str.casefold`` otherwise."""
    folded = np.strings.lower(values)
    wide = np.strings.str_len(np.strings.encode(values, "utf-8")) != np.strings.str_len(values)
    if wide.any():
        odd = values[wide]
        unique, inverse = np.unique(odd, return_inverse=True)
        fixed = np.array([s.casefold() for s in unique.tolist()], dtype=STRING_DTYPE)
        folded[wide] = fixed[inverse]
    return folded


def mask(
    rule: Predicate,
    frame: CustomerFrame,
    as_of: datetime,
    *,
    transactions: TransactionLog | None = None,
    events: EventLog | None = None,
    schema: RuleSchema | None = None,
) -> BoolArray:
    """One bool per customer of ``frame`` (row order): does the customer match ``rule``?

    ``transactions`` / ``events`` are needed only by aggregates over them
    (a [`ValidationError`][crmcore.kernel.errors.ValidationError] names the missing log);
    ``schema`` defaults to the frame's columns plus the computed fields.
    Raises [`RuleTypeError`][crmcore.kernel.errors.RuleTypeError] when the rule does not fit
    the schema. The array is read-only.
    """
    evaluator = MaskEvaluator(frame, as_of, transactions=transactions, events=events, schema=schema)
    return evaluator.mask(rule)
