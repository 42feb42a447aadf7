"""Needs analysis: classify customer needs from feedback and rank them into a backlog.

Feedback also feeds needs analysis (DOMAIN.md §6; seed 000 §4 "客户需求分析";
seed 002 §4.1.1: "确定需求优先级:根据客户需求的紧急程度和重要性,确定需求的
优先级", set each need's priority by its urgency and importance).

**Classification is data.** A [`NeedRule`][crmcore.feedback.needs.NeedRule] maps feedback to a need
category when the feedback carries one of the rule's ``themes`` *or* its
text contains one of the rule's ``keywords`` (case-insensitive substring,
``str.lower``), and, if the rule names ``kinds``, the feedback is of one of
them. A rule with neither themes nor keywords matches on kind alone. A
piece of feedback may express several needs (every matching category
counts once); feedback no rule matches is counted as ``unclassified``.

**Scores** (every component is on 0..1 and shown in the backlog):

* urgency of one feedback ``u = max(kind weight, negative weight if any of
  its scores is in its scale's negative band)``, with the
  [`UrgencyWeights`][crmcore.feedback.needs.UrgencyWeights] (default complaint 1, inquiry 0.5,
  suggestion 0.25, praise 0; negative score 1). A need's ``urgency`` is the mean ``u`` of its
  feedback;
* ``frequency`` = distinct customers with the need / distinct customers in
  all the analysed feedback;
* ``value_share`` = the summed value of those customers / the summed value
  of all customers in the feedback, with customer values (e.g. CLV) passed
  in by the caller; ``None`` when no values are given or they sum to 0;
* ``importance = (wf * frequency + wv * value_share) / (wf + wv)``
  ([`ImportanceWeights`][crmcore.feedback.needs.ImportanceWeights], default 1 and 1; ``frequency``
  alone when ``value_share`` is ``None``);
* ``priority = urgency * importance``: the backlog order (ties: more
  feedback first, then the category name).

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.feedback.feedback import Feedback
    >>> at = datetime(2026, 3, 2, tzinfo=UTC)
    >>> rules = [
    ...     NeedRule("faster_refunds", themes=["refunds"], keywords=["money back"]),
    ...     NeedRule("dark_mode", keywords=["dark mode"], kinds=["suggestion"]),
    ... ]
    >>> items = [
    ...     Feedback(id="a", customer_id="c1", channel="email", kind="complaint", at=at,
    ...              text="Still waiting for my money back"),
    ...     Feedback(id="b", customer_id="c2", channel="in_app", kind="suggestion", at=at,
    ...              text="Please add a dark mode"),
    ... ]
    >>> backlog = needs_backlog(items, rules, values={"c1": 300.0, "c2": 100.0})
    >>> [(n.category, n.urgency, n.value_share, round(n.priority, 3)) for n in backlog.rows]
    [('faster_refunds', 1.0, 0.75, 0.625), ('dark_mode', 0.25, 0.25, 0.094)]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs
import numpy as np

from crmcore.columnar import STRING_DTYPE
from crmcore.customers.records import normalize_slug
from crmcore.feedback.feedback import Feedback, FeedbackLog
from crmcore.feedback.vocabulary import KINDS, FeedbackKind
from crmcore.journey.scores import Scale
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.reports import html_table, json_number, records_frame
from crmcore.kernel.validators import instance_of

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ImportanceWeights",
    "NeedRow",
    "NeedRule",
    "NeedsBacklog",
    "UrgencyWeights",
    "classify_needs",
    "classify_needs_log",
    "needs_backlog",
]


def _category(value: object) -> str:
    return normalize_slug(value, "category")


def _rule_themes(value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("themes", value, "must be a collection of theme tags")
    return frozenset(normalize_slug(v, "themes") for v in value)


def _keywords(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("keywords", value, "must be a collection of strings")
    out = []
    for v in value:
        if not isinstance(v, str) or not v.strip():
            raise ValidationError("keywords", v, "must be non-empty strings")
        out.append(v.strip().lower())
    return tuple(sorted(set(out)))


def _kinds(value: object) -> frozenset[FeedbackKind]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("kinds", value, "must be a collection of feedback kinds")
    return frozenset(FeedbackKind.parse(v, "kinds") for v in value)


@attrs.frozen
class NeedRule:
    """Feedback → need ``category`` when a theme or keyword matches (and the kind, if given).

    Examples:
        >>> rule = NeedRule("Faster Refunds", themes=["refunds"], kinds=["complaint"])
        >>> rule.category, sorted(rule.themes), sorted(k.value for k in rule.kinds)
        ('faster_refunds', ['refunds'], ['complaint'])
    """

    category: str = attrs.field(converter=_category)
    themes: frozenset[str] = attrs.field(default=frozenset(), converter=_rule_themes)
    keywords: tuple[str, ...] = attrs.field(default=(), converter=_keywords)
    kinds: frozenset[FeedbackKind] = attrs.field(default=frozenset(), converter=_kinds)

    def __attrs_post_init__(self) -> None:
        if not (self.themes or self.keywords or self.kinds):
            raise ValidationError(
                "rule", self.category, "needs at least one of themes, keywords or kinds"
            )

    def matches(self, feedback: Feedback) -> bool:
        """Whether ``feedback`` expresses this rule's need (module docs)."""
        instance_of(feedback, Feedback, "feedback")
        if self.kinds and feedback.kind not in self.kinds:
            return False
        if not (self.themes or self.keywords):
            return True
        if not self.themes.isdisjoint(feedback.themes):
            return True
        text = feedback.text.lower()
        return any(k in text for k in self.keywords)


def _weight(_instance: object, attribute: attrs.Attribute[float], value: object) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not 0 <= value <= 1:  # type: ignore[arg-type,operator]
        raise ValidationError(attribute.name, value, "must be a number in 0..1")


@attrs.frozen(kw_only=True)
class UrgencyWeights:
    """How urgent one piece of feedback is (0..1), by kind and by a negative score."""

    complaint: float = attrs.field(default=1.0, validator=_weight)
    inquiry: float = attrs.field(default=0.5, validator=_weight)
    suggestion: float = attrs.field(default=0.25, validator=_weight)
    praise: float = attrs.field(default=0.0, validator=_weight)
    negative_score: float = attrs.field(default=1.0, validator=_weight)

    def of(self, feedback: Feedback) -> float:
        """The urgency of ``feedback``: its kind's weight, raised by any negative score."""
        instance_of(feedback, Feedback, "feedback")
        base: float = getattr(self, feedback.kind.value)
        if any(scale.is_negative(v) for scale, v in feedback.scores.items()):
            return max(base, self.negative_score)
        return base

    def to_dict(self) -> dict[str, float]:
        """The weights as JSON-compatible data."""
        return attrs.asdict(self)


def _importance_weight(_instance: object, attribute: attrs.Attribute[float], value: object) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < 0:  # type: ignore[arg-type,operator]
        raise ValidationError(attribute.name, value, "must be a finite number >= 0")


@attrs.frozen(kw_only=True)
class ImportanceWeights:
    """Weights of frequency and customer value in importance (not both 0)."""

    frequency: float = attrs.field(default=1.0, validator=_importance_weight)
    value: float = attrs.field(default=1.0, validator=_importance_weight)

    def __attrs_post_init__(self) -> None:
        if self.frequency + self.value <= 0:
            raise ValidationError("weights", (self.frequency, self.value), "must not both be 0")

    def to_dict(self) -> dict[str, float]:
        """The weights as JSON-compatible data."""
        return attrs.asdict(self)


def _rules(rules: object) -> tuple[NeedRule, ...]:
    if isinstance(rules, str) or not isinstance(rules, Iterable):
        raise ValidationError("rules", rules, "must be a sequence of NeedRule")
    out = tuple(rules)
    for i, rule in enumerate(out):
        if not isinstance(rule, NeedRule):
            raise ValidationError(f"rules[{i}]", rule, "must be a NeedRule")
    return out


def classify_needs(feedback: Feedback, rules: Iterable[NeedRule]) -> tuple[str, ...]:
    """The need categories ``feedback`` expresses (sorted, distinct): the one-object path."""
    if not isinstance(feedback, Feedback):
        raise ValidationError("feedback", feedback, "must be a Feedback")
    return tuple(sorted({r.category for r in _rules(rules) if r.matches(feedback)}))


def _texts(texts: object, n: int) -> AnyArray:
    if isinstance(texts, str) or not isinstance(texts, Sequence | np.ndarray):
        raise ValidationError("texts", texts, "must be one text per feedback row")
    if len(texts) != n:
        raise ValidationError("texts", len(texts), f"must have one text per feedback row ({n})")
    array = np.asarray(texts, dtype=object) if not isinstance(texts, np.ndarray) else texts
    if array.dtype.kind == "O":
        for i, t in enumerate(array.tolist()):
            if not isinstance(t, str):
                raise ValidationError(f"texts[{i}]", t, "must be a str")
    return np.strings.lower(array.astype(STRING_DTYPE))


def classify_needs_log(
    log: FeedbackLog, rules: Iterable[NeedRule], texts: Sequence[str] | AnyArray | None = None
) -> tuple[tuple[str, ...], BoolArray]:
    """Need categories (sorted) and a ``(rows, categories)`` match matrix: the batch path.

    ``texts`` (one per row, e.g. ``[f.text for f in items]``) are needed when
    a rule has keywords. Vectorised per rule: theme columns from the CSR
    themes, substring search with `numpy.strings.find()`, kinds with
    `numpy.isin()`.
    """
    chosen = _rules(rules)
    instance_of(log, FeedbackLog, "log")
    n = len(log)
    categories = tuple(sorted({r.category for r in chosen}))
    matrix = np.zeros((n, len(categories)), dtype=np.bool_)
    lowered = None
    if any(r.keywords for r in chosen):
        if texts is None:
            raise ValidationError("texts", None, "are needed: some rules match keywords")
        lowered = _texts(texts, n)
    theme_matrix = log.theme_matrix()
    theme_index = {t: j for j, t in enumerate(log.themes)}
    for rule in chosen:
        if rule.themes or rule.keywords:
            content = np.zeros(n, dtype=np.bool_)
            columns = [theme_index[t] for t in rule.themes if t in theme_index]
            if columns:
                content |= theme_matrix[:, columns].any(axis=1)
            for keyword in rule.keywords:
                assert lowered is not None
                content |= np.strings.find(lowered, keyword) >= 0
        else:
            content = np.ones(n, dtype=np.bool_)
        if rule.kinds:
            codes = [KINDS.index(k) for k in rule.kinds]
            content &= np.isin(log.kind, codes)
        matrix[:, categories.index(rule.category)] |= content
    return categories, matrix


@attrs.frozen
class NeedRow:
    """One need in the backlog with its score components (module docs).

    ``examples`` are up to three feedback ids, most urgent (then latest) first.
    """

    category: str
    feedback: int
    customers: int
    urgency: float
    frequency: float
    value_share: float | None
    importance: float
    priority: float
    examples: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        """The row as JSON-compatible data."""
        return {
            "category": self.category,
            "feedback": self.feedback,
            "customers": self.customers,
            "urgency": json_number(self.urgency),
            "frequency": json_number(self.frequency),
            "value_share": json_number(self.value_share),
            "importance": json_number(self.importance),
            "priority": json_number(self.priority),
            "examples": list(self.examples),
        }


@attrs.frozen
class NeedsBacklog:
    """Needs ranked by ``priority = urgency * importance`` (module docs)."""

    rows: tuple[NeedRow, ...]
    feedback: int
    customers: int
    unclassified: int
    urgency_weights: UrgencyWeights
    importance_weights: ImportanceWeights

    def __len__(self) -> int:
        return len(self.rows)

    def top(self, k: int = 10) -> tuple[NeedRow, ...]:
        """The ``k`` needs with the highest priority."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValidationError("k", k, "must be a positive int")
        return self.rows[:k]

    def row(self, category: str) -> NeedRow:
        """The row of ``category``; [`NotFoundError`][crmcore.NotFoundError] when no feedback has
        it."""
        instance_of(category, str, "category", "a text")
        for r in self.rows:
            if r.category == category:
                return r
        raise NotFoundError("need", category)

    def to_dict(self) -> dict[str, object]:
        """The backlog as JSON-compatible data."""
        return {
            "feedback": self.feedback,
            "customers": self.customers,
            "unclassified": self.unclassified,
            "urgency_weights": self.urgency_weights.to_dict(),
            "importance_weights": self.importance_weights.to_dict(),
            "rows": [r.to_dict() for r in self.rows],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per need, highest priority first, with the columns of
        [`NeedRow.to_dict()`][crmcore.feedback.needs.NeedRow.to_dict]."""
        columns = [f.name for f in attrs.fields(NeedRow)]
        return records_frame([r.to_dict() for r in self.rows], "NeedsBacklog.to_pandas", columns)

    def _repr_html_(self) -> str:
        header = [
            "need",
            "feedback",
            "customers",
            "urgency",
            "frequency",
            "value share",
            "importance",
            "priority",
        ]
        kinds = ["auto", "int", "int", "float", "pct", "pct", "float", "float"]
        rows = [
            [
                r.category,
                r.feedback,
                r.customers,
                r.urgency,
                r.frequency,
                r.value_share,
                r.importance,
                r.priority,
            ]
            for r in self.rows
        ]
        return html_table(
            f"Needs backlog: {len(self.rows)} needs from {self.feedback:,} feedback",
            header,
            rows,
            kinds=kinds,
            bars={7: max((r.priority for r in self.rows), default=0.0)},
            caption=f"priority = urgency x importance; {self.unclassified:,} feedback matched "
            "no rule",
        )


def _value_number(customer: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValidationError(f"values[{customer!r}]", value, "must be a number")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValidationError(f"values[{customer!r}]", value, "must be a finite number >= 0")
    return number


def _customer_values(
    ids: AnyArray, values: Mapping[str, object], missing_value: float | None
) -> Float64Array:
    """The value of each distinct customer in ``ids`` (sorted), joined with searchsorted."""
    keys = np.array(list(values.keys()), dtype=STRING_DTYPE)
    numbers = np.array([_value_number(str(k), v) for k, v in values.items()], dtype=np.float64)
    order = np.argsort(keys)
    keys, numbers = keys[order], numbers[order]
    at = np.searchsorted(keys, ids)
    found = np.zeros(len(ids), dtype=np.bool_)
    inside = at < len(keys)
    found[inside] = keys[at[inside]] == ids[inside]
    out = np.zeros(len(ids), dtype=np.float64)
    out[found] = numbers[at[found]]
    if not found.all():
        if missing_value is None:
            i = int(np.argmin(found))
            raise NotFoundError("customer value", str(ids[i]))
        out[~found] = _value_number("missing_value", missing_value)
    return out


def needs_backlog(
    feedback: FeedbackLog | Iterable[Feedback],
    rules: Iterable[NeedRule],
    *,
    values: Mapping[str, float | int | Decimal] | None = None,
    missing_value: float | None = None,
    texts: Sequence[str] | AnyArray | None = None,
    urgency: UrgencyWeights | None = None,
    importance: ImportanceWeights | None = None,
) -> NeedsBacklog:
    """Classify ``feedback`` by ``rules`` and rank the needs (module docs); vectorised.

    ``values`` maps customer ids to their value (e.g. CLV; no storage is
    read). A customer in the feedback without a value raises
    [`NotFoundError`][crmcore.kernel.errors.NotFoundError] unless ``missing_value`` is given.
    ``texts`` are taken from the feedback items; for a
    [`FeedbackLog`][crmcore.feedback.feedback.FeedbackLog] pass them when rules use
    keywords.
    """
    if isinstance(feedback, FeedbackLog):
        log = feedback
    else:
        if isinstance(feedback, str | bytes | Feedback) or not isinstance(feedback, Iterable):
            raise ValidationError("feedback", feedback, "must be a FeedbackLog or Feedback items")
        items = list(feedback)
        log = FeedbackLog.from_feedback(items)
        if texts is None:
            texts = [f.text for f in items]
    u_weights = UrgencyWeights() if urgency is None else urgency
    i_weights = ImportanceWeights() if importance is None else importance
    if not isinstance(u_weights, UrgencyWeights):
        raise ValidationError("urgency", urgency, "must be UrgencyWeights")
    if not isinstance(i_weights, ImportanceWeights):
        raise ValidationError("importance", importance, "must be ImportanceWeights")
    categories, matrix = classify_needs_log(log, rules, texts)
    n, k = matrix.shape

    # urgency of each row: kind weight, raised by any negative score
    kind_weight = np.array([getattr(u_weights, kind.value) for kind in KINDS], dtype=np.float64)
    row_urgency = kind_weight[log.kind]
    negative = np.zeros(n, dtype=np.bool_)
    for scale in Scale:
        with np.errstate(invalid="ignore"):
            negative |= log.scores[scale] <= scale.negative_max  # NaN compares False
    row_urgency = np.where(negative, np.maximum(row_urgency, u_weights.negative_score), row_urgency)

    distinct, customer = np.unique(log.customer_ids, return_inverse=True)
    customer = customer.reshape(-1).astype(np.int64)
    n_customers = len(distinct)
    rows_hit, cats_hit = np.nonzero(matrix)
    pairs = np.unique(cats_hit.astype(np.int64) * max(1, n_customers) + customer[rows_hit])
    pair_cat, pair_customer = pairs // max(1, n_customers), pairs % max(1, n_customers)
    counts = matrix.sum(axis=0)
    customers = np.bincount(pair_cat, minlength=k)
    urgency_sum = np.bincount(cats_hit, weights=row_urgency[rows_hit], minlength=k)

    value_share: Float64Array | None = None
    if values is not None:
        if not isinstance(values, Mapping):
            raise ValidationError("values", values, "must map customer ids to numbers")
        per_customer = _customer_values(distinct, values, missing_value)
        total_value = float(per_customer.sum())
        if total_value > 0:
            value_share = (
                np.bincount(pair_cat, weights=per_customer[pair_customer], minlength=k)
                / total_value
            )

    out = []
    at_us = log.at.view(np.int64)
    for j, category in enumerate(categories):
        c = int(counts[j])
        if c == 0:
            continue
        freq = float(customers[j] / n_customers)
        share = None if value_share is None else float(value_share[j])
        if share is None:
            imp = freq
        else:
            imp = (i_weights.frequency * freq + i_weights.value * share) / (
                i_weights.frequency + i_weights.value
            )
        urg = float(urgency_sum[j] / c)
        members = np.flatnonzero(matrix[:, j])
        order = np.lexsort((-at_us[members], -row_urgency[members]))
        out.append(
            NeedRow(
                category=category,
                feedback=c,
                customers=int(customers[j]),
                urgency=urg,
                frequency=freq,
                value_share=share,
                importance=imp,
                priority=urg * imp,
                examples=tuple(str(log.ids[i]) for i in members[order[:3]]),
            )
        )
    out.sort(key=lambda r: (-r.priority, -r.feedback, r.category))
    return NeedsBacklog(
        rows=tuple(out),
        feedback=n,
        customers=n_customers,
        unclassified=int(n - matrix.any(axis=1).sum()) if k else n,
        urgency_weights=u_weights,
        importance_weights=i_weights,
    )
