"""Rule-based lead scoring at batch speed: a whole frame of leads and their event log at once.

[`score_frame()`][crmcore.sales.scoring_batch.score_frame] computes, for every row of a
[`CustomerFrame`][crmcore.columnar.frame.CustomerFrame] (leads as records:
[`lead_frame()`][crmcore.sales.lead_columns.lead_frame]), what
[`LeadScoring.score()`][crmcore.sales.scoring.LeadScoring.score] computes for one lead, with the
same numbers to the last bit:

* each fit rule is one mask of the segment evaluator
  ([`MaskEvaluator`][crmcore.segments.evaluate_batch.MaskEvaluator], which evaluates a predicate
  shared by several rules once);
* the events are indexed once ([`EngagementIndex`][crmcore.sales.scoring_batch.EngagementIndex]):
  the lead row of each event, sorted by (kind, time), so an engagement rule's events in its window
  are one contiguous slice per kind, found by binary search; the weights of a slice are one call
  of [`Decay.weights()`][crmcore.sales.scoring_rules.Decay.weights] and the sums per lead one
  ``np.bincount``, which adds in the slice's order: (kind, time), the order the per-object path
  adds in (events of equal kind and time weigh the same, so their order changes no sum).

Build the index once per data load and pass it to score at several dates (joining event ids to
lead rows is the costly step for millions of events; it is not repeated).

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> from crmcore.columnar import CustomerFrame, EventLog
    >>> from crmcore.sales.scoring import LeadScoring
    >>> from crmcore.sales.scoring_rules import EngagementRule, FitRule
    >>> at = datetime(2026, 3, 2, tzinfo=UTC)
    >>> frame = CustomerFrame.from_records(
    ...     {"id": i, "name": "", "created_at": at, "country": c, "purchase_count": 0,
    ...      "items_purchased": 0, "total_spent": 0.0, "interaction_count": 0, "service_count": 0,
    ...      **{f"consent_{ch}": False for ch in ("email", "sms", "phone", "post", "push",
    ...                                          "messaging")}, "erased": False}
    ...     for i, c in (("l-1", "DE"), ("l-2", "FR")))
    >>> log = EventLog.from_records([{"customer_id": "l-2", "at": at, "kind": "demo"}])
    >>> scoring = LeadScoring(fit=[FitRule("german", 'country = "DE"', 10)],
    ...                       engagement=[EngagementRule(name="demo", kinds="demo", points=25)])
    >>> table = score_frame(scoring, frame, at, events=log)
    >>> table.total.tolist(), table.band_labels()
    ([10.0, 25.0], ['D', 'D'])
    >>> table.score_of("l-2") == scoring.score(frame.to_records()[1], at,
    ...                                         events=log.to_records())
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import attrs
import numpy as np

from crmcore.columnar import STRING_DTYPE, Column, CustomerFrame, EventLog, TransactionLog
from crmcore.columnar.arguments import int_column
from crmcore.columnar.id_index import same_ids
from crmcore.kernel.arrays import (
    AnyArray,
    BoolArray,
    Float64Array,
    Int8Array,
    Int64Array,
    read_only,
)
from crmcore.kernel.clock import to_micros, to_utc
from crmcore.kernel.errors import MissingDependencyError, NotFoundError, ValidationError
from crmcore.kernel.ids import validate_id
from crmcore.kernel.reports import html_table, json_number
from crmcore.kernel.validators import instance_of, instances_of, integer
from crmcore.sales.scoring import Contribution, LeadScore, LeadScoring
from crmcore.sales.scoring_rules import EngagementRule
from crmcore.segments.evaluate_batch import MaskEvaluator

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EngagementIndex", "ScoreTable", "score_frame"]

_TOP: Final = 10


@attrs.frozen(eq=False, kw_only=True)
class EngagementIndex:
    """Events joined to lead rows and sorted by (kind, time): what engagement rules read.

    ``rows`` (the lead row of each event), ``at`` (µs) and the per-kind slices ``offsets``
    (``offsets[k]:offsets[k + 1]`` are the events of ``kinds[k]``, in time order). Events of ids
    not in the frame are dropped.
    """

    n: int
    kinds: tuple[str, ...]
    offsets: Int64Array
    rows: Int64Array
    at: Int64Array

    @classmethod
    def build(cls, frame: CustomerFrame, events: EventLog) -> EngagementIndex:
        """The index of ``events`` over the rows of ``frame``."""
        if not isinstance(frame, CustomerFrame):
            raise ValidationError("frame", frame, "must be a CustomerFrame")
        if not isinstance(events, EventLog):
            raise ValidationError("events", events, "must be an EventLog")
        vocabulary = events.customer_ids
        if same_ids(vocabulary, frame.ids):
            rows = events.customer_codes.astype(np.int64)  # the log already lists the frame's ids
        else:
            rows = events.with_customer_index(frame)
        kind = events.column("kind")
        return cls.from_arrays(
            n=len(frame),
            rows=rows,
            at=events.at.view(np.int64),
            kind_codes=kind.codes,
            kinds=tuple(kind.categories),
        )

    @classmethod
    def from_arrays(
        cls,
        *,
        n: int,
        rows: AnyArray,
        at: AnyArray,
        kind_codes: AnyArray,
        kinds: Sequence[str],
    ) -> EngagementIndex:
        """An index from arrays: each event's lead row (-1: not a lead), time in µs, kind code.

        ``kinds`` must be sorted (as an [`EventLog`][crmcore.columnar.frame.EventLog] keeps its
        categories), so kind codes order events as the per-object path orders kind names.
        """
        n = integer(n, "n", low=0)
        labels = instances_of(kinds, str, "kinds")
        if list(labels) != sorted(labels):
            raise ValidationError("kinds", labels, "must be sorted")
        rows = int_column(rows, "rows", what="lead rows")
        at = int_column(at, "at", what="times in µs")
        codes = int_column(kind_codes, "kind_codes", what="kind codes")
        if not rows.shape == at.shape == codes.shape:
            raise ValidationError("rows", rows.shape, "rows, at and kind codes must match")
        if len(codes) and int(codes.max()) >= len(labels):
            raise ValidationError("kind_codes", int(codes.max()), f"must be below {len(labels)}")
        keep = (rows >= 0) & (rows < n) & (codes >= 0)
        rows, at, codes = rows[keep], at[keep], codes[keep]
        order = _kind_time_order(codes, at, len(labels))
        counts = np.bincount(codes, minlength=len(labels))
        offsets = np.zeros(len(labels) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return cls(
            n=n,
            kinds=labels,
            offsets=read_only(offsets),
            rows=read_only(rows[order]),
            at=read_only(at[order]),
        )

    def slices(self, rule: EngagementRule, end: int) -> list[slice]:
        """The slices of ``rule``'s events in its window ending at ``end`` µs, by kind code."""
        instance_of(rule, EngagementRule, "rule")
        end = integer(end, "end", low=-(2**62), high=2**62)
        out = []
        for kind in sorted(rule.kinds):
            try:
                k = self.kinds.index(kind)
            except ValueError:
                continue
            lo, hi = int(self.offsets[k]), int(self.offsets[k + 1])
            times = self.at[lo:hi]
            stop = lo + int(np.searchsorted(times, end, side="right"))
            start = lo
            if rule.window_us is not None:
                start += int(np.searchsorted(times, end - rule.window_us, side="right"))
            if start < stop:
                out.append(slice(start, stop))
        return out


def _kind_time_order(codes: Int64Array, at: Int64Array, kinds: int) -> Int64Array:
    """The order of events by (kind, time).

    One sort of a packed ``int64`` key (kind in the high bits, time since the first event in
    the low 52) when it fits, which is several times faster than ``np.lexsort``. Events with
    equal kind and time may come in any order: they weigh the same, so no sum depends on it.
    """
    if not len(at):
        return np.zeros(0, dtype=np.int64)
    span = int(at.max()) - int(at.min())
    if kinds <= 1 << 11 and span < 1 << 52:
        key = (codes << 52) | (at - at.min())
        order: Int64Array = np.argsort(key)
        return order
    fallback: Int64Array = np.lexsort((at, codes))
    return fallback


@attrs.frozen(eq=False, kw_only=True)
class ScoreTable:
    """Every lead's score as of ``as_of``: arrays in frame order, and each rule's points.

    ``points[r]``, ``matched[r]`` and ``events[r]`` hold rule ``rule_names[r]``'s signed points,
    whether it matched (fit) or counted an event (engagement), and its event counts, per lead.
    [`score_of()`][crmcore.sales.scoring_batch.ScoreTable.score_of] rebuilds one lead's
    [`LeadScore`][crmcore.sales.scoring.LeadScore] (equal to the per-object path's).
    """

    scoring: LeadScoring
    as_of: datetime
    ids: AnyArray
    fit: Float64Array
    engagement: Float64Array
    total: Float64Array
    fit_uncapped: Float64Array
    engagement_uncapped: Float64Array
    band: Int8Array
    mql: BoolArray
    sql: BoolArray
    points: tuple[Float64Array, ...]
    matched: tuple[BoolArray, ...]
    events: tuple[Int64Array, ...]
    capped: tuple[BoolArray, ...]

    def __len__(self) -> int:
        return len(self.ids)

    def row_of(self, lead_id: str) -> int:
        """The row of ``lead_id``; [`NotFoundError`][crmcore.kernel.errors.NotFoundError] if
        absent."""
        hits = np.flatnonzero(self.ids == validate_id(lead_id, "lead_id"))
        if not len(hits):
            raise NotFoundError("lead", lead_id)
        return int(hits[0])

    def band_labels(self) -> list[str]:
        """Each lead's band label."""
        labels = np.array(self.scoring.bands.labels, dtype=object)
        return list(labels[self.band])

    def band_counts(self) -> dict[str, int]:
        """How many leads fall in each band, highest band first."""
        counts = np.bincount(self.band, minlength=len(self.scoring.bands.labels))
        return dict(zip(self.scoring.bands.labels, map(int, counts), strict=True))

    def score_of(self, lead_id: str) -> LeadScore:
        """One lead's score with its explanation."""
        i = self.row_of(lead_id)
        names = self.scoring.rule_names
        n_fit = len(self.scoring.fit)
        parts = tuple(
            Contribution(
                name,
                "fit" if r < n_fit else "engagement",
                float(self.points[r][i]),
                bool(self.matched[r][i]),
                int(self.events[r][i]),
                bool(self.capped[r][i]),
            )
            for r, name in enumerate(names)
        )
        return self.scoring.finish(
            lead_id,
            self.as_of,
            float(self.fit_uncapped[i]),
            float(self.engagement_uncapped[i]),
            parts,
        )

    def top(self, n: int = _TOP) -> list[LeadScore]:
        """The ``n`` best scored leads (ties: frame order)."""
        n = integer(n, "n", low=0)
        order = np.argsort(-self.total, kind="stable")[:n]
        return [self.score_of(str(self.ids[i])) for i in order.tolist()]

    def rule_summary(self) -> list[dict[str, object]]:
        """Per rule: how many leads it gave points and its mean points per lead."""
        out: list[dict[str, object]] = []
        for r, name in enumerate(self.scoring.rule_names):
            given = self.points[r] != 0
            out.append(
                {
                    "rule": name,
                    "leads": int(given.sum()),
                    "mean_points": json_number(self.points[r].mean()) if len(self) else None,
                }
            )
        return out

    def to_dict(self) -> dict[str, object]:
        """A summary as JSON data: bands, MQL/SQL counts, score statistics, rules, the top."""
        return {
            "scoring": self.scoring.name,
            "as_of": self.as_of.isoformat(),
            "leads": len(self),
            "bands": self.band_counts(),
            "mql": int(self.mql.sum()),
            "sql": int(self.sql.sum()),
            "mean_total": json_number(self.total.mean()) if len(self) else None,
            "rules": self.rule_summary(),
            "top": [s.to_dict() for s in self.top()],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per lead: the scores, band, flags and each rule's points (``pandas`` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "ScoreTable.to_pandas") from None
        data: dict[str, object] = {
            "lead_id": self.ids.astype(object),
            "fit": self.fit,
            "engagement": self.engagement,
            "total": self.total,
            "band": pd.Categorical.from_codes(
                self.band, categories=pd.Index(self.scoring.bands.labels)
            ),
            "mql": self.mql,
            "sql": self.sql,
        }
        data.update(
            (f"points.{name}", self.points[r]) for r, name in enumerate(self.scoring.rule_names)
        )
        return pd.DataFrame(data)

    def _repr_html_(self) -> str:
        counts = self.band_counts()
        rows = [(label, n, n / len(self) if len(self) else None) for label, n in counts.items()]
        return html_table(
            f"{self.scoring.name}: {len(self):,} leads as of {self.as_of.date().isoformat()}",
            ["band", "leads", "share"],
            rows,
            kinds=["auto", "int", "pct"],
            bars={1: float(max(counts.values(), default=0))},
            caption=f"MQL {int(self.mql.sum()):,}, SQL {int(self.sql.sum()):,}",
        )


def score_frame(
    scoring: LeadScoring,
    frame: CustomerFrame,
    as_of: datetime,
    *,
    events: EventLog | None = None,
    index: EngagementIndex | None = None,
    transactions: TransactionLog | None = None,
) -> ScoreTable:
    """Score every lead of ``frame`` as of ``as_of`` (the vectorised
    [`LeadScoring.score()`][crmcore.sales.scoring.LeadScoring.score]).

    ``events`` is the leads' event log (for engagement rules, and for fit rules that look at
    events); ``index`` a prebuilt [`EngagementIndex`][crmcore.sales.scoring_batch.EngagementIndex]
    of it (built from ``events`` when not given). ``transactions`` serves fit rules over
    purchases.

    Raises:
        ValidationError: a bad argument, or engagement rules without events.
        RuleTypeError: a fit rule reads a column the frame has with another type.
    """
    if not isinstance(scoring, LeadScoring):
        raise ValidationError("scoring", scoring, "must be a LeadScoring")
    if not isinstance(frame, CustomerFrame):
        raise ValidationError("frame", frame, "must be a CustomerFrame")
    at = to_utc(as_of, "as_of")
    n = len(frame)
    frame = _with_declared_columns(frame, scoring)
    fit_parts = _fit(scoring, frame, at, events, transactions)
    if scoring.engagement and index is None:
        if events is None:
            raise ValidationError("events", None, "engagement rules need events= (an EventLog)")
        index = EngagementIndex.build(frame, events)
    if index is not None and (not isinstance(index, EngagementIndex) or index.n != n):
        raise ValidationError("index", index, "must be an EngagementIndex of this frame")
    end = to_micros(at)
    points, matched, counts, capped = fit_parts
    fit_total = np.zeros(n)
    for p in points:
        fit_total += p
    engagement_total = np.zeros(n)
    for rule in scoring.engagement:
        assert index is not None
        p, hit, count, cut = _engagement(rule, index, end, n)
        engagement_total += p
        points.append(p)
        matched.append(hit)
        counts.append(count)
        capped.append(cut)
    fit = fit_total if scoring.fit_cap is None else np.minimum(fit_total, scoring.fit_cap)
    engagement = engagement_total
    if scoring.engagement_cap is not None:
        engagement = np.minimum(engagement_total, scoring.engagement_cap)
    total = fit + engagement
    if scoring.floor is not None:
        total = np.maximum(total, scoring.floor)
    if scoring.ceiling is not None:
        total = np.minimum(total, scoring.ceiling)
    no: BoolArray = np.zeros(n, dtype=bool)
    return ScoreTable(
        scoring=scoring,
        as_of=at,
        ids=frame.ids,
        fit=read_only(fit),
        engagement=read_only(engagement),
        total=read_only(total),
        fit_uncapped=read_only(fit_total),
        engagement_uncapped=read_only(engagement_total),
        band=scoring.bands.codes(total),
        mql=read_only(no if scoring.mql is None else scoring.mql.met_all(fit, engagement, total)),
        sql=read_only(no if scoring.sql is None else scoring.sql.met_all(fit, engagement, total)),
        points=tuple(read_only(p) for p in points),
        matched=tuple(read_only(m) for m in matched),
        events=tuple(read_only(c) for c in counts),
        capped=tuple(read_only(c) for c in capped),
    )


_EMPTY: Final[dict[str, tuple[str, Any]]] = {
    "string": ("string", STRING_DTYPE),
    "number": ("float", np.float64),
    "bool": ("bool", np.bool_),
    "datetime": ("datetime", "datetime64[us]"),
    "date": ("date", "datetime64[D]"),
}


def _with_declared_columns(frame: CustomerFrame, scoring: LeadScoring) -> CustomerFrame:
    """``frame`` with an all-missing column for each declared attribute that no lead has.

    A frame built from records has no ``attr.x`` column when no lead has ``x`` (and a text one
    when every value is missing), yet a rule over ``x`` is simply false for every lead, as it is
    for one lead's record.
    """
    columns = {}
    for name, tp in scoring.attributes.items():
        present = name in frame
        if present and not frame.column(name).missing.all():
            continue
        if tp not in _EMPTY:
            raise ValidationError("frame", name, f"has no {tp} column the scoring reads")
        kind, dtype = _EMPTY[tp]
        if present and frame.column(name).kind == kind:
            continue
        n = len(frame)
        columns[name] = Column.from_numpy(
            kind,  # type: ignore[arg-type]
            np.zeros(n, dtype=dtype),
            missing=np.ones(n, dtype=bool),
        )
    if not columns:
        return frame
    every = {name: frame.column(name) for name in frame.names}
    every.update(columns)
    return CustomerFrame(every)


def _fit(
    scoring: LeadScoring,
    frame: CustomerFrame,
    at: datetime,
    events: EventLog | None,
    transactions: TransactionLog | None,
) -> tuple[list[Float64Array], list[BoolArray], list[Int64Array], list[BoolArray]]:
    n = len(frame)
    evaluator = MaskEvaluator(
        frame, at, transactions=transactions, events=events, schema=scoring.schema
    )
    points: list[Float64Array] = []
    matched: list[BoolArray] = []
    zeros = read_only(np.zeros(n, dtype=np.int64))
    no = read_only(np.zeros(n, dtype=bool))
    for rule in scoring.fit:
        hit = evaluator.mask(rule.rule)
        points.append(np.where(hit, rule.signed_points, 0.0))
        matched.append(hit)
    k = len(scoring.fit)
    return points, matched, [zeros] * k, [no] * k


def _engagement(
    rule: EngagementRule, index: EngagementIndex, end: int, n: int
) -> tuple[Float64Array, BoolArray, Int64Array, BoolArray]:
    slices = index.slices(rule, end)
    if slices:
        rows = np.concatenate([index.rows[s] for s in slices])
        ages = end - np.concatenate([index.at[s] for s in slices])
    else:
        rows = ages = np.zeros(0, dtype=np.int64)
    count: Int64Array = np.bincount(rows, minlength=n)
    raw: Float64Array
    if rule.decay is None:
        raw = count.astype(np.float64)
    else:
        raw = np.bincount(rows, weights=rule.decay.weights(ages), minlength=n).astype(
            np.float64, copy=False
        )
    points = rule.points * raw
    capped = np.zeros(n, dtype=bool)
    if rule.cap is not None:
        capped = points > rule.cap
        points = np.minimum(points, rule.cap)
    return (-points if rule.penalty else points), count > 0, count, capped
