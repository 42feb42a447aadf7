"""Segments: named rules, evaluated together, and the diff between two evaluations.

A [`Segment`][crmcore.segments.segment.Segment] is a name, a rule and a description. A
[`SegmentSet`][crmcore.segments.segment.SegmentSet] evaluates many segments over one
[`CustomerFrame`][crmcore.columnar.CustomerFrame] at once: their rules are resolved
and every distinct sub-predicate is computed once
([`MaskEvaluator`][crmcore.segments.evaluate_batch.MaskEvaluator] memoises by value), so
ten segments that all test ``country = "CN"`` pay for it once. The result,
[`SegmentMembership`][crmcore.segments.segment.SegmentMembership], is columnar: one boolean row per
segment over the frame's customer ids.

[`diff()`][crmcore.segments.segment.diff] compares two memberships (say last night's and tonight's)
and returns who entered and who exited each segment, with one
[`SegmentEntered`][crmcore.segments.events.SegmentEntered] /
[`SegmentExited`][crmcore.segments.events.SegmentExited] event per change: the hook for automation.

Examples:
    >>> from datetime import timedelta
    >>> from crmcore.datasets import synthetic
    >>> from crmcore.columnar import CustomerFrame
    >>> from crmcore.segments.rules import Compare, Field, HasTag, Literal
    >>> data = synthetic.generate(300, seed=3)
    >>> frame = CustomerFrame.from_customers(data.customers)
    >>> segments = SegmentSet([
    ...     Segment("big_spenders", Compare(Field("total_spent"), ">=", Literal(500))),
    ...     Segment("recent", Compare(Field("days_since_last_purchase"), "<=", Literal(30))),
    ... ])
    >>> before = segments.evaluate(frame, data.end - timedelta(days=30))
    >>> after = segments.evaluate(frame, data.end)
    >>> change = diff(before, after)
    >>> change.entered["big_spenders"]
    ()
    >>> {e.kind for e in change.events} <= {"segment.entered", "segment.exited"}
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Final

import attrs
import numpy as np

from crmcore.columnar import STRING_DTYPE, CustomerFrame, EventLog, TransactionLog
from crmcore.columnar.id_index import rows_equal_to, same_ids
from crmcore.customers.customer import Customer
from crmcore.customers.records import Interaction, Purchase
from crmcore.kernel.arrays import AnyArray, BoolArray, read_only
from crmcore.kernel.clock import ensure_aware, to_utc
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.events import DomainEvent
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.reports import data_frame, fmt_datetime, html_table, records_frame
from crmcore.segments import rules
from crmcore.segments.evaluate import matches
from crmcore.segments.evaluate_batch import MaskEvaluator, frame_schema
from crmcore.segments.events import SegmentEntered, SegmentExited
from crmcore.segments.resolved import resolve

if TYPE_CHECKING:
    import pandas as pd
from crmcore.kernel.validators import instance_of, instances_of, items_of, storable_text
from crmcore.segments.rules import Predicate, RuleSchema

__all__ = ["MembershipDiff", "Segment", "SegmentMembership", "SegmentSet", "diff"]

_HTML_IDS: Final = 5


def _check_name(_instance: object, _attribute: object, value: str) -> None:
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise ValidationError("segment.name", value, "must be non-empty, without outer spaces")


def _check_rule(_instance: object, _attribute: object, value: Predicate) -> None:
    kinds = (
        rules.Compare,
        rules.InList,
        rules.Between,
        rules.IsNull,
        rules.TextMatch,
        rules.HasTag,
        rules.Within,
        rules.TimeCompare,
        rules.Did,
        rules.And,
        rules.Or,
        rules.Not,
    )
    if not isinstance(value, kinds):
        raise ValidationError("segment.rule", value, "must be a rule (a predicate node)")


def _check_description(_instance: object, _attribute: object, value: str) -> None:
    if not isinstance(value, str):
        raise ValidationError("segment.description", value, "must be a str")


@attrs.frozen
class Segment:
    """A named rule: ``Segment("vip", HasTag("vip"), "tagged VIP by sales")``."""

    name: str = attrs.field(validator=_check_name)
    rule: Predicate = attrs.field(validator=_check_rule)
    description: str = attrs.field(default="", validator=_check_description)


def _segments(values: Iterable[Segment]) -> tuple[Segment, ...]:
    return items_of(values, "segments", "segments")


def _check_segments(_instance: object, _attribute: object, value: tuple[Segment, ...]) -> None:
    seen: set[str] = set()
    for i, segment in enumerate(value):
        if not isinstance(segment, Segment):
            raise ValidationError(f"segments[{i}]", segment, "must be a Segment")
        if segment.name in seen:
            raise ValidationError(f"segments[{i}]", segment.name, "duplicate segment name")
        seen.add(segment.name)


@attrs.frozen
class SegmentSet:
    """Segments with distinct names, evaluated together."""

    segments: tuple[Segment, ...] = attrs.field(converter=_segments, validator=_check_segments)

    def __iter__(self) -> Iterator[Segment]:
        return iter(self.segments)

    def __len__(self) -> int:
        return len(self.segments)

    @property
    def names(self) -> tuple[str, ...]:
        """The segment names, in order."""
        return tuple(s.name for s in self.segments)

    def __getitem__(self, name: str) -> Segment:
        for segment in self.segments:
            if segment.name == name:
                return segment
        raise NotFoundError("segment", name)

    def check(self, schema: RuleSchema, as_of: datetime) -> None:
        """Type-check every rule against ``schema`` (raises the first RuleTypeError)."""
        for segment in self.segments:
            resolve(segment.rule, schema, as_of)

    def evaluate(
        self,
        frame: CustomerFrame,
        as_of: datetime,
        *,
        transactions: TransactionLog | None = None,
        events: EventLog | None = None,
        schema: RuleSchema | None = None,
    ) -> SegmentMembership:
        """Every segment's membership over ``frame`` at ``as_of`` (shared sub-predicates once).

        All rules are type-checked before any mask is computed.
        """
        at = to_utc(as_of, "as_of")
        rule_schema = frame_schema(frame) if schema is None else schema
        resolved = [resolve(s.rule, rule_schema, at) for s in self.segments]
        evaluator = MaskEvaluator(
            frame, at, transactions=transactions, events=events, schema=rule_schema
        )
        matrix = np.zeros((len(resolved), len(frame)), dtype=bool)
        for row, node in enumerate(resolved):
            matrix[row] = evaluator.evaluate(node)
        return SegmentMembership(
            as_of=at,
            names=self.names,
            ids=frame.ids,
            matrix=matrix,
            predicates=evaluator.cached,
        )

    def matching(
        self,
        customer: Customer | Mapping[str, object],
        as_of: datetime,
        *,
        purchases: Iterable[Purchase | Mapping[str, object]] = (),
        events: Iterable[Interaction | Mapping[str, object]] = (),
        schema: RuleSchema | None = None,
    ) -> tuple[str, ...]:
        """The names of the segments one customer belongs to (the object path)."""
        bought = items_of(purchases, "purchases", "purchases")
        did = items_of(events, "events", "events")
        return tuple(
            s.name
            for s in self.segments
            if matches(s.rule, customer, as_of, purchases=bought, events=did, schema=schema)
        )


def _frozen_array(value: AnyArray) -> AnyArray:
    return read_only(np.asarray(value), copy=True)


def _frozen_ids(value: AnyArray) -> AnyArray:
    ids = items_of(value, "ids", "customer ids")
    for i, cid in enumerate(ids):
        if not isinstance(cid, str):
            raise ValidationError(f"ids[{i}]", cid, "must be a string")
        storable_text(cid, f"ids[{i}]")
    return read_only(np.array(ids, dtype=STRING_DTYPE, copy=True))


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return instances_of(value, str, "names")


def _aware(_instance: object, _attribute: object, value: datetime) -> None:
    ensure_aware(value, "as_of")


@attrs.frozen(kw_only=True, eq=False)
class SegmentMembership:
    """Which customers are in which segment at ``as_of``: a segments-by-customers bool matrix.

    ``ids`` are the customer ids in frame order; ``matrix[i]`` is the mask of
    segment ``names[i]``; ``predicates`` is how many distinct sub-predicates
    the evaluation computed.
    """

    as_of: datetime = attrs.field(validator=_aware)
    names: tuple[str, ...] = attrs.field(converter=_names)
    ids: AnyArray = attrs.field(converter=_frozen_ids)
    matrix: BoolArray = attrs.field(converter=_frozen_array)
    predicates: int = 0

    def __attrs_post_init__(self) -> None:
        if self.matrix.shape != (len(self.names), len(self.ids)):
            raise ValidationError(
                "matrix", self.matrix.shape, "must be (number of segments, number of customers)"
            )

    def _row(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise NotFoundError("segment", name) from None

    def mask(self, name: str) -> BoolArray:
        """The membership mask of segment ``name`` (frame row order)."""
        row: BoolArray = self.matrix[self._row(name)]
        return row

    def members(self, name: str) -> list[str]:
        """The ids of the customers in segment ``name``, in frame order."""
        return [str(x) for x in self.ids[self.mask(name)].tolist()]

    def size(self, name: str) -> int:
        """How many customers are in segment ``name``."""
        return int(self.mask(name).sum())

    @property
    def sizes(self) -> dict[str, int]:
        """Segment name → number of members."""
        counts = self.matrix.sum(axis=1)
        return {name: int(n) for name, n in zip(self.names, counts, strict=True)}

    def segments_of(self, customer_id: str) -> tuple[str, ...]:
        """The segments ``customer_id`` belongs to
        ([`NotFoundError`][crmcore.segments.segment.NotFoundError] for an unknown id)."""
        instance_of(customer_id, str, "customer_id", "a customer id (a string)")
        storable_text(customer_id, "customer_id")
        where = rows_equal_to(self.ids, customer_id)
        if not where.size:
            raise NotFoundError("customer", customer_id)
        column = self.matrix[:, int(where[0])]
        return tuple(name for name, hit in zip(self.names, column, strict=True) if hit)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SegmentMembership):
            return NotImplemented
        return (
            self.as_of == other.as_of
            and self.names == other.names
            and same_ids(self.ids, other.ids)
            and bool(np.array_equal(self.matrix, other.matrix))
        )

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, object]:
        """JSON-safe summary: as_of, customer count and each segment's size and share."""
        n = len(self.ids)
        return {
            "as_of": self.as_of.isoformat(),
            "customers": n,
            "predicates": self.predicates,
            "segments": [
                {"name": name, "size": size, "share": size / n if n else None}
                for name, size in self.sizes.items()
            ],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per customer (frame order): ``customer_id``, then one boolean column per
        segment (its name)."""
        columns: dict[str, object] = {"customer_id": self.ids}
        columns |= {name: self.matrix[i] for i, name in enumerate(self.names)}
        return data_frame(columns, "SegmentMembership.to_pandas")

    def _repr_html_(self) -> str:
        n = len(self.ids)
        rows = [[name, size, size / n if n else None] for name, size in self.sizes.items()]
        return html_table(
            f"Segments as of {fmt_datetime(self.as_of)}",
            ["segment", "customers", "share"],
            rows,
            kinds=["str", "int", "pct"],
            bars={1: float(max(self.sizes.values(), default=0) or 1)},
            caption=f"{n:,} customers; {self.predicates} distinct predicates evaluated",
        )


def _frozen_ids_map(value: Mapping[str, Iterable[str]]) -> FrozenDict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise ValidationError("ids", value, "must be a mapping of segment name to customer ids")
    return FrozenDict(
        {
            instance_of(k, str, "segment name", "a string"): instances_of(v, str, f"ids[{k!r}]")
            for k, v in value.items()
        }
    )


@attrs.frozen(kw_only=True)
class MembershipDiff:
    """Who entered and who exited each segment between two evaluations, and the events.

    ``entered[name]`` / ``exited[name]`` are sorted customer ids; ``events``
    holds one [`SegmentEntered`][crmcore.segments.segment.SegmentEntered] /
    [`SegmentExited`][crmcore.segments.segment.SegmentExited] per change, segment by segment.
    """

    before_as_of: datetime
    after_as_of: datetime
    entered: FrozenDict[str, tuple[str, ...]] = attrs.field(converter=_frozen_ids_map)
    exited: FrozenDict[str, tuple[str, ...]] = attrs.field(converter=_frozen_ids_map)
    events: tuple[DomainEvent, ...] = ()

    @property
    def changed(self) -> int:
        """The total number of entries and exits."""
        return sum(map(len, self.entered.values())) + sum(map(len, self.exited.values()))

    def to_dict(self) -> dict[str, object]:
        """JSON-safe summary: per segment the counts of entries and exits."""
        return {
            "before": self.before_as_of.isoformat(),
            "after": self.after_as_of.isoformat(),
            "segments": [
                {"name": name, "entered": len(self.entered[name]), "exited": len(ids)}
                for name, ids in self.exited.items()
            ],
            "events": len(self.events),
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per change: ``segment``, ``customer_id`` and ``change`` (``"entered"`` or
        ``"exited"``), segment by segment, entries first."""
        rows = [
            {"segment": name, "customer_id": cid, "change": change}
            for name in self.exited
            for change, ids in (("entered", self.entered[name]), ("exited", self.exited[name]))
            for cid in ids
        ]
        return records_frame(rows, "MembershipDiff.to_pandas", ("segment", "customer_id", "change"))

    def _repr_html_(self) -> str:
        rows = [
            [
                name,
                len(self.entered[name]),
                len(ids),
                ", ".join(self.entered[name][:_HTML_IDS]),
            ]
            for name, ids in self.exited.items()
        ]
        return html_table(
            "Segment changes",
            ["segment", "entered", "exited", "first entries"],
            rows,
            kinds=["str", "int", "int", "str"],
            caption=f"{fmt_datetime(self.before_as_of)} → {fmt_datetime(self.after_as_of)}",
        )


def _members(membership: SegmentMembership, name: str) -> AnyArray:
    if name not in membership.names:
        return np.empty(0, dtype=STRING_DTYPE)
    return membership.ids[membership.mask(name)]


def diff(
    before: SegmentMembership,
    after: SegmentMembership,
    *,
    occurred_at: datetime | None = None,
) -> MembershipDiff:
    """Entries and exits per segment from ``before`` to ``after``, with their events.

    Segments are matched by name (one missing on a side counts as empty
    there) and customers by id, so the two evaluations may cover different
    customers. Events occur at ``occurred_at`` (default: ``after.as_of``).
    """
    if not isinstance(before, SegmentMembership) or not isinstance(after, SegmentMembership):
        raise ValidationError("membership", (before, after), "must be SegmentMembership values")
    at = after.as_of if occurred_at is None else to_utc(occurred_at, "occurred_at")
    names = list(dict.fromkeys((*after.names, *before.names)))
    entered: dict[str, tuple[str, ...]] = {}
    exited: dict[str, tuple[str, ...]] = {}
    events: list[DomainEvent] = []
    for name in names:
        old, new = _members(before, name), _members(after, name)
        came = tuple(str(x) for x in np.setdiff1d(new, old).tolist())
        left = tuple(str(x) for x in np.setdiff1d(old, new).tolist())
        entered[name], exited[name] = came, left
        events.extend(
            SegmentEntered(aggregate_id=cid, occurred_at=at, segment=name, as_of=after.as_of)
            for cid in came
        )
        events.extend(
            SegmentExited(aggregate_id=cid, occurred_at=at, segment=name, as_of=after.as_of)
            for cid in left
        )
    return MembershipDiff(
        before_as_of=before.as_of,
        after_as_of=after.as_of,
        entered=entered,
        exited=exited,
        events=tuple(events),
    )
