"""RFM: recency, frequency and monetary scores with named segments, vectorised.

:func:`rfm_scores` reads a :class:`~crmcore.columnar.TransactionLog` as of a
date and returns an :class:`RfmTable`: one row per customer with a purchase
up to ``as_of`` (DOMAIN.md §4, value segmentation), computed with
``np.bincount`` / ``np.minimum.at`` group-bys on the log's integer customer
codes and one sort per dimension, with no loop per customer.

Per customer:

* **recency** = days from the last purchase to ``as_of`` (fractional days;
  ``whole_days=True`` floors them, as ``timedelta.days`` does);
* **frequency** = number of purchases (log rows) up to ``as_of``;
* **monetary** = their total amount (``monetary="mean"``: the mean order value),
  summed exactly in units of 1/10,000 so that equal totals tie whatever the
  row order (plain float sums would differ in the last bit and break ties).

**Scores** are quantile bins of *ranks* (quintiles by default, ``bins=5``),
exactly what ``pandas.qcut(x.rank(method=ties), bins, labels=[1, ..., bins])``
gives: ranks 1..n, bin edges at the linear-interpolation quantiles of the
ranks, a rank falls in bin ``j`` when ``edge[j-1] < rank <= edge[j]`` (the
lowest edge included in bin 1). Recency is reversed (the most recent
customers score ``bins``): ``qcut(recency.rank(...), bins, labels=[5, ..., 1])``.

Ties (``ties=``):

* ``"first"`` (default, the common notebook recipe): ties are ranked in table
  order (order of first appearance in the log), so equal values may get
  different scores but every score holds ~1/bins of the customers;
* ``"average"`` or ``"dense"``: tied values share a rank, hence a score. Bins
  may then be uneven; with duplicate edges (many equal values) a score is
  still 1 + the number of inner edges strictly below the rank (pandas would
  raise "Bin edges must be unique" there).

Edge cases: customers without a purchase up to ``as_of`` are **excluded**
(they have no recency; they are lifecycle prospects, not an RFM segment). An
empty log raises :class:`~crmcore.kernel.errors.ValidationError`. With one customer,
or when every value of a dimension ties under ``"average"``/``"dense"``, that
dimension scores the middle bin (3 of 5) for everyone (pandas raises there).
With 2 to ``bins - 1`` customers the scores follow pandas and leave gaps (two
customers score 1 and 5).

**Segments** come from a :class:`SegmentMap`: an ordered table of R/F/M
score ranges; the first matching rule wins; a map must cover every code
(directly or with ``default``). :data:`RFM_SEGMENTS` is the default (11
segments, see the RFM guide, ``docs/rfm.md``); :data:`R_RFM_SEGMENTS`,
:data:`SEG_MAP_RF` and :data:`PYMC_MARKETING_SEGMENTS` reproduce the peers'
maps (R ``rfm``, the Python ``seg_map`` recipe, pymc-marketing's quartile config).

>>> from datetime import UTC, datetime, timedelta
>>> from crmcore.columnar import TransactionLog
>>> t = datetime(2026, 6, 1, tzinfo=UTC)
>>> rows = [{"customer_id": f"c{i}", "at": t - timedelta(days=10 * i + j), "amount": 10.0}
...         for i in range(5) for j in range(5 - i)]
>>> table = rfm_scores(TransactionLog.from_records(rows), t)
>>> table.code_labels()
['555', '444', '333', '222', '111']
>>> table.segment_list()
['Champions', 'Loyal', 'Need Attention', 'Lost', 'Lost']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.analytics.kpis import DAY_US, per_customer, read_purchases
from crmcore.columnar import STRING_DTYPE, TransactionLog
from crmcore.kernel.arrays import (
    AnyArray,
    BoolArray,
    Float64Array,
    Int8Array,
    Int64Array,
    read_only,
)
from crmcore.kernel.errors import MissingDependencyError, NotFoundError, ValidationError
from crmcore.kernel.reports import html_table, json_number

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PYMC_MARKETING_SEGMENTS",
    "RFM_SEGMENTS",
    "R_RFM_SEGMENTS",
    "SEG_MAP_RF",
    "RfmReport",
    "RfmTable",
    "SegmentMap",
    "SegmentRule",
    "SegmentSummary",
    "Ties",
    "quantile_scores",
    "rfm_scores",
]


#: How tied values are ranked before binning (pandas ``rank(method=...)``).
Ties: TypeAlias = Literal["first", "average", "dense"]
_TIES: Final = ("first", "average", "dense")
_MIN_BINS: Final = 2
_MAX_BINS: Final = 9  # a composite code stays three decimal digits
_HTML_ROWS: Final = 10


# ---------------------------------------------------------------------------------------------
# Scores: quantile bins of ranks, as pandas.qcut(x.rank(method), q) computes them
# ---------------------------------------------------------------------------------------------


def _check_bins(bins: object) -> int:
    if isinstance(bins, bool) or not isinstance(bins, int) or not _MIN_BINS <= bins <= _MAX_BINS:
        raise ValidationError("bins", bins, f"must be a whole number in {_MIN_BINS}..{_MAX_BINS}")
    return bins


def _check_ties(ties: object) -> Ties:
    if ties not in _TIES:
        raise ValidationError("ties", ties, f"must be one of {', '.join(_TIES)}")
    return ties


def _ranks(values: npt.NDArray[Any], ties: Ties) -> Float64Array:
    """pandas ``Series.rank(method=ties)`` of ``values`` (1-based, float64), via one sort."""
    n = len(values)
    keys = values
    if values.dtype.kind in "iu" and n and values.min() >= 0 and values.max() < 1 << 16:
        keys = values.astype(np.uint16)  # small counts: numpy's stable sort is then a radix sort
    order = np.argsort(keys, kind="stable")
    ranks = np.empty(n, dtype=np.float64)
    if ties == "first":
        ranks[order] = np.arange(1, n + 1, dtype=np.float64)
        return ranks
    ordered = values[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    group = np.cumsum(np.concatenate(([False], ordered[1:] != ordered[:-1])))
    if ties == "dense":
        ranks[order] = (group + 1).astype(np.float64)
        return ranks
    ends = np.append(starts[1:], n)  # exclusive; 1-based ranks starts+1 .. ends
    ranks[order] = ((starts + 1 + ends) / 2.0)[group]
    return ranks


def _quantiles(bins: int) -> Float64Array:
    """The quantile levels ``pandas.qcut`` uses for ``q=bins`` (rounded up when inexact)."""
    levels = np.linspace(0, 1, bins + 1)
    inexact = bins * levels != np.arange(bins + 1)
    np.putmask(levels, inexact, np.nextafter(levels, 1))
    return levels


def quantile_scores(values: npt.ArrayLike, bins: int = 5, ties: Ties = "first") -> Int8Array:
    """Scores 1..``bins`` of ``values``: ``pandas.qcut(rank(values, ties), bins, labels)``.

    Higher values score higher (reverse with ``bins + 1 - score``). One value,
    or all values tied under ``"average"``/``"dense"``, give the middle score
    ``(bins + 1) // 2`` for all. Raises
    :class:`~crmcore.kernel.errors.ValidationError` for ``NaN`` or an empty input.

    >>> quantile_scores([10.0, 30.0, 20.0, 50.0, 40.0]).tolist()
    [1, 3, 2, 5, 4]
    >>> quantile_scores([1, 1, 1, 1, 2], ties="first").tolist()
    [1, 2, 3, 4, 5]
    >>> quantile_scores([1, 1, 1, 1, 2], ties="average").tolist()
    [1, 1, 1, 1, 5]
    """
    q = _check_bins(bins)
    how = _check_ties(ties)
    array = np.asarray(values)
    if array.ndim != 1 or array.dtype.kind not in "iuf":
        raise ValidationError("values", array.dtype, "must be a one-dimensional numeric array")
    if not len(array):
        raise ValidationError("values", [], "must not be empty")
    if array.dtype.kind == "f" and np.isnan(array).any():
        raise ValidationError("values", int(np.argmax(np.isnan(array))), "must not contain NaN")
    ranks = _ranks(array, how)
    edges = np.quantile(ranks, _quantiles(q))
    if edges[0] == edges[-1]:  # one customer, or everybody tied
        return np.full(len(array), (q + 1) // 2, dtype=np.int8)
    scores = np.searchsorted(edges, ranks, side="left")
    scores[ranks == edges[0]] = 1
    return scores.astype(np.int8)


# ---------------------------------------------------------------------------------------------
# Segment maps: data, first match wins
# ---------------------------------------------------------------------------------------------


def _score_range(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    ok = (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and 1 <= value[0] <= value[1] <= _MAX_BINS
    )
    if not ok:
        raise ValidationError(
            attribute.name, value, "must be a (low, high) pair of scores, 1 <= low <= high <= 9"
        )


def _segment_name(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(attribute.name, value, "must be a non-empty str")


def _as_pair(value: object) -> object:
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    return value


@attrs.frozen
class SegmentRule:
    """One row of a segment map: a name and inclusive R, F and M score ranges.

    A range is ``(low, high)``; a single int means that score only.

    >>> SegmentRule("Champions", recency=5, frequency=(4, 5)).matches(5, 4, 1)
    True
    """

    name: str = attrs.field(validator=_segment_name)
    recency: tuple[int, int] = attrs.field(
        default=(1, 9), converter=_as_pair, validator=_score_range
    )
    frequency: tuple[int, int] = attrs.field(
        default=(1, 9), converter=_as_pair, validator=_score_range
    )
    monetary: tuple[int, int] = attrs.field(
        default=(1, 9), converter=_as_pair, validator=_score_range
    )

    def matches(self, r: int, f: int, m: int) -> bool:
        """Whether scores ``(r, f, m)`` lie in all three ranges."""
        return (
            self.recency[0] <= r <= self.recency[1]
            and self.frequency[0] <= f <= self.frequency[1]
            and self.monetary[0] <= m <= self.monetary[1]
        )

    def to_dict(self) -> dict[str, object]:
        """The rule as JSON data."""
        return {
            "name": self.name,
            "recency": list(self.recency),
            "frequency": list(self.frequency),
            "monetary": list(self.monetary),
        }


def _rules(value: object) -> tuple[SegmentRule, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ValidationError("rules", value, "must be a sequence of SegmentRule")
    rules = tuple(value)
    for i, rule in enumerate(rules):
        if not isinstance(rule, SegmentRule):
            raise ValidationError(f"rules[{i}]", rule, "must be a SegmentRule")
    return rules


def _optional_name(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _segment_name(_instance, attribute, value)


@attrs.frozen
class SegmentMap:
    """Named segments as data: ordered :class:`SegmentRule` rows, first match wins.

    Every code ``r f m`` with scores in ``1..bins`` must map to a segment:
    through a rule or, where no rule matches, ``default``. A map that leaves a
    code unmapped and has no default is rejected at construction, naming the
    code. :meth:`segment_of` is the per-code rule, :meth:`lookup` the same
    answer for all codes at once (the vectorised path uses it).
    """

    name: str = attrs.field(validator=_segment_name)
    rules: tuple[SegmentRule, ...] = attrs.field(converter=_rules)
    default: str | None = attrs.field(default=None, validator=_optional_name)
    bins: int = attrs.field(default=5)

    def __attrs_post_init__(self) -> None:
        _check_bins(self.bins)
        if not self.rules:
            raise ValidationError("rules", (), "must list at least one rule")
        for i, rule in enumerate(self.rules):
            for dim in ("recency", "frequency", "monetary"):
                low, high = getattr(rule, dim)
                if low > self.bins:
                    raise ValidationError(
                        f"rules[{i}].{dim}", (low, high), f"lies beyond the {self.bins} bins"
                    )
        if self.default is None:
            for r, f, m in self.codes():
                if not any(rule.matches(r, f, m) for rule in self.rules):
                    raise ValidationError(
                        "rules", f"{r}{f}{m}", "leave this code unmapped: add a rule or a default"
                    )

    @property
    def names(self) -> tuple[str, ...]:
        """Segment names in rule order (each once), then the default."""
        names = dict.fromkeys(rule.name for rule in self.rules)
        if self.default is not None:
            names[self.default] = None
        return tuple(names)

    def codes(self) -> list[tuple[int, int, int]]:
        """Every ``(r, f, m)`` with scores in ``1..bins``, in lexicographic order."""
        q = range(1, self.bins + 1)
        return [(r, f, m) for r in q for f in q for m in q]

    def segment_of(self, r: int, f: int, m: int) -> str:
        """The segment of one code: the first rule that matches, else the default."""
        for rule in self.rules:
            if rule.matches(r, f, m):
                return rule.name
        if self.default is None:  # unreachable for a constructed map; kept for safety
            raise NotFoundError("segment for code", f"{r}{f}{m}")
        return self.default

    def lookup(self) -> Int8Array:
        """Index into :attr:`names` for every code, at ``(r-1)*bins**2 + (f-1)*bins + (m-1)``."""
        q = self.bins
        r, f, m = np.indices((q, q, q)).reshape(3, -1) + 1
        out = np.full(q**3, -1, dtype=np.int8)
        position = {name: i for i, name in enumerate(self.names)}
        for rule in self.rules:
            hit = (out < 0) & (rule.recency[0] <= r) & (r <= rule.recency[1])
            hit &= (rule.frequency[0] <= f) & (f <= rule.frequency[1])
            hit &= (rule.monetary[0] <= m) & (m <= rule.monetary[1])
            out[hit] = position[rule.name]
        if self.default is not None:
            out[out < 0] = position[self.default]
        return out

    def to_dict(self) -> dict[str, object]:
        """The map as JSON data."""
        return {
            "name": self.name,
            "bins": self.bins,
            "default": self.default,
            "rules": [rule.to_dict() for rule in self.rules],
        }

    @classmethod
    def from_codes(
        cls,
        name: str,
        segments: Mapping[str, Sequence[str]],
        *,
        default: str | None = None,
        bins: int = 5,
    ) -> SegmentMap:
        """A map from explicit codes per segment (pymc-marketing's ``segment_config`` form).

        ``segments`` maps a segment name to codes such as ``"334"``; a code
        listed twice keeps its first segment.
        """
        rules: list[SegmentRule] = []
        for segment, codes in segments.items():
            if isinstance(codes, str):
                raise ValidationError(f"segments[{segment!r}]", codes, "must be a list of codes")
            for code in codes:
                if not (isinstance(code, str) and len(code) == 3 and code.isdigit()):
                    raise ValidationError(f"segments[{segment!r}]", code, "must be 3-digit codes")
                r, f, m = (int(c) for c in code)
                if min(r, f, m) < 1:
                    raise ValidationError(f"segments[{segment!r}]", code, "scores start at 1")
                rules.append(SegmentRule(segment, r, f, m))
        return cls(name, rules, default, bins)


def _rf(
    name: str, r: tuple[int, int], f: tuple[int, int], m: tuple[int, int] = (1, 5)
) -> SegmentRule:
    return SegmentRule(name, r, f, m)


#: crmcore's default map: the eleven widely used segments. The R/F cells follow
#: the Python ``seg_map`` recipe (PEERS.md §3.2 [R2], which covers all 25 R/F
#: cells); its ``hibernating`` cell ``[1-2][1-2]`` is split by monetary score
#: with the R ``rfm`` package's "Lost" rule (R 1-2, F 1-2, M 1-2; [R1]) first,
#: so every one of the 125 codes maps to exactly one segment.
RFM_SEGMENTS: Final = SegmentMap(
    "crmcore",
    (
        _rf("Champions", (5, 5), (4, 5)),
        _rf("Loyal", (3, 4), (4, 5)),
        _rf("Potential Loyalist", (4, 5), (2, 3)),
        _rf("New Customers", (5, 5), (1, 1)),
        _rf("Promising", (4, 4), (1, 1)),
        _rf("Need Attention", (3, 3), (3, 3)),
        _rf("About to Sleep", (3, 3), (1, 2)),
        _rf("Can't Lose Them", (1, 2), (5, 5)),
        _rf("At Risk", (1, 2), (3, 4)),
        _rf("Lost", (1, 2), (1, 2), (1, 2)),
        _rf("Hibernating", (1, 2), (1, 2)),
    ),
)

#: The R ``rfm`` package's example map (``rfm_segment``; PEERS.md §3.2 [R1]):
#: ten segments by R/F/M ranges, first match wins (current versions skip
#: customers already segmented), unmatched codes are "Others".
R_RFM_SEGMENTS: Final = SegmentMap(
    "R rfm",
    (
        SegmentRule("Champions", (4, 5), (4, 5), (4, 5)),
        SegmentRule("Loyal Customers", (2, 5), (3, 5), (3, 5)),
        SegmentRule("Potential Loyalist", (3, 5), (1, 3), (1, 3)),
        SegmentRule("New Customers", (4, 5), (1, 1), (1, 1)),
        SegmentRule("Promising", (3, 4), (1, 1), (1, 1)),
        SegmentRule("Need Attention", (2, 3), (2, 3), (2, 3)),
        SegmentRule("About To Sleep", (2, 3), (1, 2), (1, 2)),
        SegmentRule("At Risk", (1, 2), (2, 5), (2, 5)),
        SegmentRule("Can't Lose Them", (1, 1), (4, 5), (4, 5)),
        SegmentRule("Lost", (1, 2), (1, 2), (1, 2)),
    ),
    default="Others",
)

#: The Python ``seg_map`` recipe (PEERS.md §3.2 [R2]): regexes over the two-digit
#: R/F string, here as ranges (M is ignored). Covers all 25 R/F cells.
SEG_MAP_RF: Final = SegmentMap(
    "seg_map",
    (
        _rf("hibernating", (1, 2), (1, 2)),
        _rf("at_risk", (1, 2), (3, 4)),
        _rf("cant_loose", (1, 2), (5, 5)),
        _rf("about_to_sleep", (3, 3), (1, 2)),
        _rf("need_attention", (3, 3), (3, 3)),
        _rf("loyal_customers", (3, 4), (4, 5)),
        _rf("promising", (4, 4), (1, 1)),
        _rf("new_customers", (5, 5), (1, 1)),
        _rf("potential_loyalists", (4, 5), (2, 3)),
        _rf("champions", (5, 5), (4, 5)),
    ),
)

#: pymc-marketing's default ``rfm_segments`` config (PEERS.md §3.2 [R3]) on
#: quartile scores (``bins=4``); other codes are "Other".
PYMC_MARKETING_SEGMENTS: Final = SegmentMap.from_codes(
    "pymc-marketing",
    {
        "Premium Customer": ["334", "443", "444", "344", "434", "433", "343", "333"],
        "Repeat Customer": ["244", "234", "232", "332", "143", "233", "243"],
        "Top Spender": [
            "424",
            "414",
            "144",
            "314",
            "324",
            "124",
            "224",
            "423",
            "413",
            "133",
            "323",
            "313",
            "134",
        ],
        "At Risk Customer": [
            "422",
            "223",
            "212",
            "122",
            "222",
            "132",
            "322",
            "312",
            "412",
            "123",
            "214",
        ],
        "Inactive Customer": ["411", "111", "113", "114", "112", "211", "311"],
    },
    default="Other",
    bins=4,
)


# ---------------------------------------------------------------------------------------------
# The table and its report
# ---------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SegmentSummary:
    """One segment of an :class:`RfmReport`: size, revenue and mean R/F/M.

    Means are ``None`` for an empty segment.
    """

    name: str
    customers: int
    share: float | None
    revenue: float
    revenue_share: float | None
    mean_recency_days: float | None
    mean_frequency: float | None
    mean_monetary: float | None
    mean_r: float | None
    mean_f: float | None
    mean_m: float | None

    def to_dict(self) -> dict[str, object]:
        """The row as JSON data."""
        return {
            f.name: (
                getattr(self, f.name) if f.name == "name" else json_number(getattr(self, f.name))
            )
            for f in attrs.fields(type(self))
        }


@attrs.frozen(kw_only=True)
class RfmReport:
    """Segment sizes, revenue shares and mean R/F/M of an :class:`RfmTable` (a report)."""

    as_of: datetime
    segment_map: str
    customers: int
    revenue: float
    segments: tuple[SegmentSummary, ...]

    def segment(self, name: str) -> SegmentSummary:
        """The row of segment ``name``; :class:`~crmcore.kernel.errors.NotFoundError` if unknown."""
        for row in self.segments:
            if row.name == name:
                return row
        raise NotFoundError("segment", name)

    def to_dict(self) -> dict[str, object]:
        """The report as JSON data."""
        return {
            "as_of": self.as_of.isoformat(),
            "segment_map": self.segment_map,
            "customers": self.customers,
            "revenue": json_number(self.revenue),
            "segments": [row.to_dict() for row in self.segments],
        }

    def _repr_html_(self) -> str:
        rows = [
            [
                s.name,
                s.customers,
                s.share,
                s.revenue,
                s.revenue_share,
                s.mean_recency_days,
                s.mean_frequency,
                s.mean_monetary,
                s.mean_r,
                s.mean_f,
                s.mean_m,
            ]
            for s in self.segments
        ]
        top = max((s.customers for s in self.segments), default=0)
        return html_table(
            f"RFM segments as of {self.as_of.isoformat()}",
            [
                "segment",
                "customers",
                "share",
                "revenue",
                "revenue share",
                "recency",
                "frequency",
                "monetary",
                "R",
                "F",
                "M",
            ],
            rows,
            kinds=[
                "auto",
                "int",
                "pct",
                "float",
                "pct",
                "days",
                "float",
                "float",
                "float",
                "float",
                "float",
            ],
            bars={1: float(top)},
            caption=f"map {self.segment_map!r}; {self.customers:,} customers",
        )


@attrs.frozen(eq=False, kw_only=True)
class RfmTable:
    """RFM values, scores, codes and segments, one row per customer (read-only arrays).

    Row ``i`` is ``customer_ids[i]`` (customers with a purchase up to
    ``as_of``, in order of first appearance in the log). ``r``, ``f``, ``m``
    are ``int8`` scores in ``1..bins``; :attr:`codes` the composite
    ``100*r + 10*f + m`` (e.g. ``545``); ``segment_codes`` index
    ``segment_map.names``. :meth:`summary` is the report; ``to_dict()`` and
    ``_repr_html_()`` show it (plus the first rows in HTML).
    """

    as_of: datetime
    ties: Ties
    bins: int
    segment_map: SegmentMap
    customer_ids: AnyArray
    recency_days: Float64Array
    frequency: Int64Array
    monetary: Float64Array
    revenue: Float64Array
    r: Int8Array
    f: Int8Array
    m: Int8Array
    segment_codes: Int8Array

    def __len__(self) -> int:
        return len(self.r)

    def __repr__(self) -> str:
        return f"RfmTable({len(self)} customers as of {self.as_of.isoformat()})"

    @property
    def codes(self) -> npt.NDArray[np.int16]:
        """The composite codes ``100*r + 10*f + m`` (``int16``)."""
        codes: npt.NDArray[np.int16] = (
            self.r.astype(np.int16) * 100 + self.f.astype(np.int16) * 10 + self.m
        )
        return codes

    def code_labels(self) -> list[str]:
        """The composite codes as strings (``"545"``), in row order."""
        return [str(c) for c in self.codes.tolist()]

    @property
    def segment_names(self) -> tuple[str, ...]:
        """The segment names that ``segment_codes`` index."""
        return self.segment_map.names

    def segment_list(self) -> list[str]:
        """Every row's segment name, in row order."""
        names = self.segment_names
        return [names[c] for c in self.segment_codes.tolist()]

    def mask(self, segment: str) -> BoolArray:
        """Rows in ``segment``; :class:`~crmcore.NotFoundError` for a name not in the map."""
        if segment not in self.segment_names:
            raise NotFoundError("segment", segment)
        mask: BoolArray = self.segment_codes == self.segment_names.index(segment)
        return mask

    def customers_in(self, segment: str) -> list[str]:
        """The ids of the customers in ``segment``."""
        ids: list[str] = self.customer_ids[self.mask(segment)].tolist()
        return ids

    def index_of(self, customer: str) -> int:
        """The row of ``customer``; :class:`~crmcore.kernel.errors.NotFoundError` when absent."""
        hits = np.flatnonzero(self.customer_ids == np.array(customer, dtype=STRING_DTYPE))
        if not len(hits):
            raise NotFoundError("customer", customer)
        return int(hits[0])

    def row(self, customer: str | int) -> dict[str, object]:
        """One row (by customer id or position) as a dict of Python values."""
        if isinstance(customer, str):
            i = self.index_of(customer)
        elif (
            isinstance(customer, int)
            and not isinstance(customer, bool)
            and (0 <= customer < len(self))
        ):
            i = customer
        else:
            raise ValidationError("customer", customer, "must be a customer id or a row position")
        return {
            "customer_id": str(self.customer_ids[i]),
            "recency_days": float(self.recency_days[i]),
            "frequency": int(self.frequency[i]),
            "monetary": float(self.monetary[i]),
            "r": int(self.r[i]),
            "f": int(self.f[i]),
            "m": int(self.m[i]),
            "code": f"{self.r[i]}{self.f[i]}{self.m[i]}",
            "segment": self.segment_names[int(self.segment_codes[i])],
        }

    def to_records(self) -> list[dict[str, object]]:
        """Every row as a dict (see :meth:`row`), built column by column."""
        names = self.segment_names
        columns = (
            self.customer_ids.tolist(),
            self.recency_days.tolist(),
            self.frequency.tolist(),
            self.monetary.tolist(),
            self.r.tolist(),
            self.f.tolist(),
            self.m.tolist(),
            self.code_labels(),
            [names[c] for c in self.segment_codes.tolist()],
        )
        keys = ("customer_id", "recency_days", "frequency", "monetary", "r", "f", "m", "code",
                "segment")  # fmt: skip
        return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]

    def to_pandas(self) -> pd.DataFrame:
        """The table as a pandas DataFrame (needs the ``pandas`` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "RfmTable.to_pandas") from None
        names = np.array(self.segment_names, dtype=object)
        return pd.DataFrame(
            {
                "customer_id": self.customer_ids.astype(object),
                "recency_days": self.recency_days,
                "frequency": self.frequency,
                "monetary": self.monetary,
                "r": self.r,
                "f": self.f,
                "m": self.m,
                "code": self.codes,
                "segment": names[self.segment_codes],
            }
        )

    def summary(self) -> RfmReport:
        """Per segment (map order): customers, share, revenue, revenue share, mean R/F/M."""
        k = len(self.segment_names)
        seg = self.segment_codes.astype(np.int64)
        counts = np.bincount(seg, minlength=k)
        n = len(self)
        revenue = np.bincount(seg, weights=self.revenue, minlength=k)
        total = float(self.revenue.sum())

        def means(values: AnyArray) -> list[float | None]:
            sums = np.bincount(seg, weights=values, minlength=k)
            return [float(s / c) if c else None for s, c in zip(sums, counts, strict=True)]

        columns = [
            means(a)
            for a in (self.recency_days, self.frequency, self.monetary, self.r, self.f, self.m)
        ]
        rows = tuple(
            SegmentSummary(
                name=name,
                customers=int(counts[i]),
                share=float(counts[i] / n) if n else None,
                revenue=float(revenue[i]),
                revenue_share=float(revenue[i] / total) if total else None,
                mean_recency_days=columns[0][i],
                mean_frequency=columns[1][i],
                mean_monetary=columns[2][i],
                mean_r=columns[3][i],
                mean_f=columns[4][i],
                mean_m=columns[5][i],
            )
            for i, name in enumerate(self.segment_names)
        )
        return RfmReport(
            as_of=self.as_of,
            segment_map=self.segment_map.name,
            customers=n,
            revenue=total,
            segments=rows,
        )

    def to_dict(self) -> dict[str, object]:
        """The segment report as JSON data, plus the scoring options."""
        return self.summary().to_dict() | {"ties": self.ties, "bins": self.bins}

    def _repr_html_(self) -> str:
        head = [self.row(i) for i in range(min(len(self), _HTML_ROWS))]
        rows = [
            [
                h["customer_id"],
                h["recency_days"],
                h["frequency"],
                h["monetary"],
                h["code"],
                h["segment"],
            ]
            for h in head
        ]
        table = html_table(
            "RFM table",
            ["customer", "recency", "frequency", "monetary", "RFM", "segment"],
            rows,
            kinds=["auto", "days", "int", "float", "auto", "auto"],
            caption=f"first {len(rows)} of {len(self):,} rows; ties={self.ties!r}",
        )
        return self.summary()._repr_html_() + table


def rfm_scores(
    log: TransactionLog,
    as_of: datetime,
    *,
    ties: Ties = "first",
    bins: int = 5,
    segments: SegmentMap = RFM_SEGMENTS,
    monetary: Literal["sum", "mean"] = "sum",
    whole_days: bool = False,
) -> RfmTable:
    """Score every customer of ``log`` with a purchase up to ``as_of`` (see the module docs).

    ``ties`` picks the rank method (``"first"`` matches the pandas recipe),
    ``bins`` the number of quantile bins (``segments.bins`` must agree),
    ``monetary`` total spend (``"sum"``) or mean order value (``"mean"``),
    ``whole_days`` floors recency to whole days before ranking (so purchases
    on the same day tie). Raises :class:`~crmcore.kernel.errors.ValidationError`
    for bad options, a naive ``as_of``, negative or non-finite amounts, or no
    purchase up to ``as_of``; :class:`~crmcore.kernel.errors.CurrencyMismatchError` when
    the log mixes currencies.
    """
    how = _check_ties(ties)
    q = _check_bins(bins)
    if not isinstance(segments, SegmentMap):
        raise ValidationError("segments", segments, "must be a SegmentMap")
    if segments.bins != q:
        raise ValidationError(
            "segments", segments.name, f"is a map for {segments.bins} bins, not {q}"
        )
    if monetary not in ("sum", "mean"):
        raise ValidationError("monetary", monetary, "must be 'sum' or 'mean'")
    if not isinstance(whole_days, bool):
        raise ValidationError("whole_days", whole_days, "must be a bool")
    p = read_purchases(log, as_of)
    agg = per_customer(p, first=False)
    present = agg.present
    if not present.any():
        raise ValidationError("log", len(log), "has no purchase up to as_of to score")
    rows = np.flatnonzero(present) if not present.all() else None
    count, revenue, last = agg.count, agg.revenue, agg.last
    if rows is not None:
        count, revenue, last = count[rows], revenue[rows], last[rows]
    ids = p.vocabulary if rows is None else p.vocabulary[rows]
    elapsed = p.as_us - last
    if whole_days:
        elapsed = elapsed // DAY_US
        recency = elapsed.astype(np.float64)
    else:
        recency = elapsed / DAY_US
    value = revenue if monetary == "sum" else revenue / count
    r = (q + 1 - quantile_scores(elapsed, q, how)).astype(np.int8)
    f = quantile_scores(count, q, how)
    m = quantile_scores(value, q, how)
    code = (r.astype(np.int64) - 1) * q * q + (f.astype(np.int64) - 1) * q + (m - 1)
    segment_codes = segments.lookup()[code]
    return RfmTable(
        as_of=p.as_of,
        ties=how,
        bins=q,
        segment_map=segments,
        customer_ids=read_only(ids.copy() if rows is None else ids),
        recency_days=read_only(recency),
        frequency=read_only(count),
        monetary=read_only(value if monetary == "mean" else revenue.copy()),
        revenue=read_only(revenue),
        r=read_only(r),
        f=read_only(f),
        m=read_only(m),
        segment_codes=read_only(segment_codes),
    )
