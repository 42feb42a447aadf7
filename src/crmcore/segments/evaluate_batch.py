"""Evaluate a segment rule over a whole [`CustomerFrame`][crmcore.columnar.CustomerFrame] with
numpy.

[`mask()`][crmcore.segments.evaluate_batch.mask] returns one boolean per customer: the same answer
as [`crmcore.segments.evaluate.matches()`][crmcore.segments.evaluate.matches] on each customer's
record, computed column-wise without a per-customer Python loop (the batch speed of
[`crmcore.segments.evaluate`][crmcore.segments.evaluate]; both evaluate the tree of
[`crmcore.segments.resolved`][crmcore.segments.resolved]).

The resolved rule is compiled into block kernels (the private
``crmcore.segments._mask_kernels``) and run over the rows in cache-sized blocks (128K rows by
default): no leaf materialises a full-length temporary, an ``and`` runs its cheapest tests
first and skips the rest of a block once it is all false (an ``or`` once it is all true), and
when only a few rows of a block are left undecided the remaining tests run on those rows only.
The leaves:

* numbers, bools, datetimes and dates compare on their arrays as stored, whatever their width
  (datetimes and dates on their ``int64`` view, bools on their ``uint8`` view), an int column
  with an int bound (``x > 2.5`` is ``x >= 3``);
* ``in`` on a number, datetime or date is a run of comparisons, a lookup table or a sorted
  search, whichever touches the fewest bytes (the private ``crmcore.segments._membership``);
* categories (and dictionary-encoded strings) test each *category* once and become a membership
  test of the codes (code ``-1``, missing, is never a member);
* tags use the CSR columns ([`Column.has`][crmcore.columnar.columns.Column.has]);
* text matching uses ``numpy.strings`` on ``StringDType`` (``ignore case`` folds ASCII values
  with ``numpy.strings.lower`` and the few non-ASCII distinct values with `str.casefold()`);
* aggregates group the log rows by customer row (``TransactionLog.with_customer_index``) with
  ``np.bincount`` (count, sum, avg) and ``np.minimum.at``/``np.maximum.at``.

Missing values follow the null semantics of [`crmcore.segments.rules`][crmcore.segments.rules]:
a leaf is false on a missing value, ``not`` is the plain complement.

[`MaskEvaluator`][crmcore.segments.evaluate_batch.MaskEvaluator] memoises by value: every rule it
evaluates, and every sub-tree met a second time (in a later rule or twice in one), keeps its
mask, so a set of segments sharing predicates evaluates each distinct one at most twice
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

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any, Final

import numpy as np

from crmcore.columnar import (
    STRING_DTYPE,
    CustomerFrame,
    EventLog,
    TransactionLog,
    ages_on,
)
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array
from crmcore.kernel.clock import DAY_US, to_micros, to_utc
from crmcore.kernel.errors import RuleTypeError, ValidationError
from crmcore.segments._mask_kernels import (
    BLOCK_ROWS,
    AllOf,
    AnyOf,
    Compare,
    Constant,
    Gaps,
    Kernel,
    MaskGaps,
    Member,
    Missing,
    NanGaps,
    Negation,
    Rows,
    SentinelGaps,
    Stored,
    run,
)
from crmcore.segments._membership import float_membership, integer_membership
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
from crmcore.segments.resolved import TYPES as RESOLVED_TYPES
from crmcore.segments.rules import (
    COMPUTED_FIELDS,
    FieldType,
    Predicate,
    RuleSchema,
)
from crmcore.segments.typecheck import check_schema

__all__ = ["MaskEvaluator", "frame_schema", "mask"]

_NAT: Final = np.iinfo(np.int64).min
_EPOCH_DAY: Final = date(1970, 1, 1)
_UFUNCS: Final[dict[str, np.ufunc]] = {
    "=": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}

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
_EXPECTED_KINDS: Final[dict[FieldType, tuple[str, ...]]] = {
    "number": ("float", "int"),
    "string": ("string", "category"),
    "bool": ("bool",),
    "datetime": ("datetime",),
    "date": ("date",),
}


def frame_schema(frame: CustomerFrame, event_kinds: Iterable[str] | None = None) -> RuleSchema:
    """The rule schema of ``frame``: its columns (``attr.*`` included) plus computed fields."""
    if not isinstance(frame, CustomerFrame):
        raise ValidationError("frame", frame, "must be a CustomerFrame")
    base = _DEFAULT_SCHEMA if event_kinds is None else RuleSchema.default(event_kinds)
    extra = {
        name: _KIND_TYPES[frame.column(name).kind]
        for name in frame.names
        if name.startswith("attr.")  # cheaper than frame.attribute_names
    }
    return base.with_attributes(extra) if extra else base


class _Source:
    """The values a leaf tests, in the layout the kernels compare.

    ``values`` is numeric (a float array, an integer array of any width, the ``int64`` view
    of datetimes and dates, the ``uint8`` view of bools, the codes of categories) or, for a
    plain string column, ``StringDType``; ``labels`` are the strings the codes index.
    """

    __slots__ = ("domain", "gaps", "labels", "values")

    def __init__(
        self,
        values: AnyArray,
        gaps: Gaps,
        labels: AnyArray | None = None,
        domain: tuple[int, int] | None = None,
    ) -> None:
        self.values = values
        self.gaps = gaps
        self.labels = labels
        self.domain = domain


def _float_source(values: Float64Array) -> _Source:
    return _Source(values, NanGaps(values))


class MaskEvaluator:
    """Evaluates resolved rules over one frame (and its logs) at one ``as_of``, memoised.

    Every evaluated rule's mask is cached by value, as is every sub-tree met again, along with
    field values and aggregates, so evaluating many rules that share predicates costs each
    distinct predicate at most twice. Returned masks are read-only. ``block_size`` is the
    number of rows evaluated at a time (a tuning knob: the result never depends on it).
    """

    def __init__(
        self,
        frame: CustomerFrame,
        as_of: datetime,
        *,
        transactions: TransactionLog | None = None,
        events: EventLog | None = None,
        schema: RuleSchema | None = None,
        block_size: int = BLOCK_ROWS,
    ) -> None:
        """Prepare to evaluate over ``frame`` with the optional logs (nothing is computed yet)."""
        if not isinstance(frame, CustomerFrame):
            raise ValidationError("frame", frame, "must be a CustomerFrame")
        if transactions is not None and not isinstance(transactions, TransactionLog):
            raise ValidationError("transactions", transactions, "must be a TransactionLog")
        if events is not None and not isinstance(events, EventLog):
            raise ValidationError("events", events, "must be an EventLog")
        if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1:
            raise ValidationError("block_size", block_size, "must be a positive int")
        self.frame = frame
        self.as_of = to_utc(as_of, "as_of")
        self.end = to_micros(self.as_of)
        self.transactions = transactions
        self.events = events
        self.schema = frame_schema(frame) if schema is None else check_schema(schema)
        self.block_size = block_size
        self.n = len(frame)
        self._masks: dict[Resolved, BoolArray] = {}
        self._seen: set[Resolved] = set()
        self._sources: dict[Ref, _Source] = {}
        self._rows: dict[str, tuple[Any, Any, AnyArray]] = {}

    def mask(self, rule: Predicate) -> BoolArray:
        """The mask of ``rule`` (type-checked against the frame's schema)."""
        return self.evaluate(resolve(rule, self.schema, self.as_of))

    def evaluate(self, node: Resolved) -> BoolArray:
        """The mask of a resolved tree (cached by value)."""
        if not isinstance(node, RESOLVED_TYPES):
            raise ValidationError("node", node, "must be a resolved rule (see resolve())")
        found = self._masks.get(node)
        if found is None:
            found = self._compute(node)
            found.flags.writeable = False
            self._masks[node] = found
        return found

    @property
    def cached(self) -> int:
        """How many distinct sub-trees have been evaluated so far."""
        return len(self._seen)

    # -- compiling a tree into block kernels ----------------------------------------------------
    def _compute(self, node: Resolved) -> BoolArray:
        counts = Counter(_subtrees(node))
        kernel = self._kernel(node, counts, root=True)
        self._seen.update(counts)
        if isinstance(kernel, Stored):  # a leaf computed in full: that array is the answer
            return kernel.mask
        return run(kernel, self.n, self.block_size)

    def _kernel(self, node: Resolved, counts: Counter[Resolved], root: bool = False) -> Kernel:
        if not root and not isinstance(node, Const):
            found = self._masks.get(node)
            if found is None and (node in self._seen or counts[node] > 1):
                found = self.evaluate(node)  # shared: computed once, in full
            if found is not None:
                return Stored(found)
        match node:
            case RAnd(items=items):
                return AllOf([self._kernel(item, counts) for item in items])
            case ROr(items=items):
                return AnyOf([self._kernel(item, counts) for item in items])
            case RNot(item=item):
                return Negation(self._kernel(item, counts))
            case Const(value=constant):
                return Constant(constant)
            case RTag(field=field, tag=tag):
                return Stored(self.frame.column(field).has(tag))
            case RNull(ref=ref, negated=negated):
                return Missing(self._source(ref).gaps, negated)
            case RText():
                return self._text(node)
            case RIn(ref=ref, values=values, negated=negated):
                return self._in(ref, values, negated)
            case RCompare(ref=ref, op=op, value=value):
                return self._compare(ref, op, value)
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover

    def _compare(self, ref: Ref, op: str, value: object) -> Kernel:
        source = self._source(ref)
        if source.labels is not None:
            return self._labels(source, lambda labels: COMPARATORS[op](labels, value))
        values = source.values
        if values.dtype == STRING_DTYPE:
            return self._strings(source, lambda v: COMPARATORS[op](v, value))
        bound = _number(value)
        if values.dtype.kind in "iu" and isinstance(bound, float):
            if not bound.is_integer():
                return _between_integers(values, op, bound, source.gaps)
            bound = int(bound)  # an int column compares with an int: no float copy
        return Compare(values, _UFUNCS[op], bound, source.gaps)

    def _in(self, ref: Ref, wanted: tuple[object, ...], negated: bool) -> Kernel:
        source = self._source(ref)
        if source.labels is not None:
            options = np.array(wanted, dtype=STRING_DTYPE)
            return self._labels(source, lambda labels: np.isin(labels, options) != negated)
        values = source.values
        if values.dtype == STRING_DTYPE:
            options = np.array(wanted, dtype=STRING_DTYPE)
            return self._strings(source, lambda v: np.isin(v, options) != negated)
        numbers = [_number(w) for w in wanted]
        if values.dtype.kind == "f":
            floats = {float(x) for x in numbers}
            return Member(
                values, float_membership(floats), negated, source.gaps, floats.__contains__
            )
        # an int column holds no 2.5: only the whole numbers of the list can match
        ints = {int(x) for x in numbers if isinstance(x, int) or x.is_integer()}
        plan = integer_membership(ints, values.dtype, source.domain)
        return Member(values, plan, negated, source.gaps, ints.__contains__)

    def _text(self, node: RText) -> Kernel:
        def test(values: AnyArray) -> BoolArray:
            text = node.text
            if node.ignore_case:
                values = _casefold(values)
                text = text.casefold()
            if node.op == "contains":
                return np.asarray(np.strings.find(values, text) >= 0)
            if node.op == "starts_with":
                return np.asarray(np.strings.startswith(values, text))
            return np.asarray(np.strings.endswith(values, text))

        source = self._source(node.ref)
        if source.labels is not None:
            return self._labels(source, test)
        return self._strings(source, test)

    def _labels(self, source: _Source, test: Callable[[AnyArray], Any]) -> Kernel:
        """Run ``test`` once per category (or vocabulary entry), then test the codes."""
        assert source.labels is not None
        hits = np.flatnonzero(np.asarray(test(source.labels), dtype=bool))
        members = set(hits.tolist())
        plan = integer_membership(members, source.values.dtype, source.domain)
        return Member(source.values, plan, False, source.gaps, members.__contains__)

    def _strings(self, source: _Source, test: Callable[[AnyArray], Any]) -> Kernel:
        """A test of a plain string column, computed in full (missing rows false)."""
        result = np.asarray(test(source.values), dtype=bool)
        source.gaps.exclude(Rows(0, self.n), result, np.empty(self.n, dtype=bool))
        return Stored(result)

    # -- values ---------------------------------------------------------------------------------
    def _source(self, ref: Ref) -> _Source:
        """The values of ``ref`` in their comparison layout, with their gaps (cached)."""
        found = self._sources.get(ref)
        if found is None:
            if isinstance(ref, AggRef):
                found = _float_source(self._aggregate(ref))
            elif ref.name in COMPUTED_FIELDS and ref.name not in self.frame:
                found = _float_source(self._computed(ref.name))
            else:
                found = self._stored(ref)
            self._sources[ref] = found
        return found

    def _stored(self, ref: FieldRef) -> _Source:
        column = self.frame.column(ref.name)
        kind = column.kind
        if ref.type not in _EXPECTED_KINDS or kind not in _EXPECTED_KINDS[ref.type]:
            raise RuleTypeError(f"field {ref.name!r} is a {kind} column, not {ref.type}")
        if kind == "category":
            codes = column.codes
            labels = np.array(column.categories, dtype=STRING_DTYPE)
            return _Source(codes, SentinelGaps(codes, 0), labels, (-1, len(labels) - 1))
        if kind == "string" and column.vocabulary is not None:
            labels = column.vocabulary
            return _Source(column.codes, MaskGaps(column.missing), labels, (-1, len(labels) - 1))
        values = column.values
        if kind == "float":
            return _Source(values, NanGaps(values))
        if kind in ("datetime", "date"):
            ints = values.view(np.int64)
            return _Source(ints, SentinelGaps(ints, _NAT + 1))
        if kind == "bool":
            return _Source(values.view(np.uint8), MaskGaps(column.missing), domain=(0, 1))
        return _Source(values, MaskGaps(column.missing))  # int (any width) and plain string

    def _computed(self, name: str) -> Float64Array:
        frame = self.frame
        if name == "age":
            return ages_on(frame.column("birth_date").values, self.as_of.date())
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
        return cached

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


def _subtrees(node: Resolved) -> Iterator[Resolved]:
    """Every sub-tree of ``node``, ``node`` included, depth first."""
    yield node
    match node:
        case RAnd(items=items) | ROr(items=items):
            for item in items:
                yield from _subtrees(item)
        case RNot(item=item):
            yield from _subtrees(item)


def _number(value: object) -> float | int:
    """A resolved value as a number comparable with its column's numeric view.

    Numbers are floats, datetimes ``int`` microseconds (the ``int64`` view), dates the days since
    1970-01-01 (the ``int64`` view of ``datetime64[D]``), bools ``0``/``1`` (the ``uint8`` view).
    """
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return (value - _EPOCH_DAY).days
    raise AssertionError(f"not a resolved numeric value: {value!r}")  # pragma: no cover


def _between_integers(values: AnyArray, op: str, bound: float, gaps: Gaps) -> Kernel:
    """An integer column against a bound strictly between two integers."""
    if op == "=":
        return Constant(False)
    if op == "!=":
        return Missing(gaps, negated=True)  # every present value differs
    if op in ("<", "<="):
        return Compare(values, np.less_equal, math.floor(bound), gaps)
    return Compare(values, np.greater_equal, math.ceil(bound), gaps)


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
