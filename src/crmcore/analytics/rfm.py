"""RFM: recency, frequency and monetary scores with named segments, vectorised.

[`rfm_scores()`][crmcore.analytics.rfm.rfm_scores] reads a
[`TransactionLog`][crmcore.columnar.TransactionLog] as of a date and returns an
[`RfmTable`][crmcore.analytics.rfm.RfmTable]: one row per customer with a purchase up to ``as_of``
(DOMAIN.md §4, value segmentation), computed with ``np.bincount`` / ``np.maximum.at`` group-bys on
the log's integer customer codes and, per dimension, one linear-time selection
(``np.partition``; one sort with shared ties), with no loop per customer.

The log is read by the one rule of [`crmcore.columnar.occasions`][crmcore.columnar.occasions]
(orders, not rows; returns are data; guests left out and counted; see the guide
"Your data: orders, lines, returns, guests"). Per customer:

* **recency** = days from the last purchase occasion to ``as_of`` (fractional days;
  ``whole_days=True`` floors them, as ``timedelta.days`` does);
* **frequency** = number of purchase occasions up to ``as_of`` (a return is not one);
* **monetary** = net spend, purchases minus returns up to ``as_of`` (``spend="gross"``:
  purchases only; ``monetary="mean"``: per purchase occasion), summed exactly in
  units of 1/10,000 so that equal totals tie whatever the row order (plain float
  sums would differ in the last bit and break ties).

**Scores** are quantile bins of *ranks* (quintiles by default, ``bins=5``),
computed by [`quantile_scores()`][crmcore.analytics.quantiles.quantile_scores] exactly as
``pandas.qcut(x.rank(method=ties), bins, labels=[1, ..., bins])`` does:
ranks 1..n, bin edges at the linear-interpolation quantiles of the ranks, a
rank falls in bin ``j`` when ``edge[j-1] < rank <= edge[j]`` (the lowest
edge included in bin 1). Recency is reversed (the most recent
customers score ``bins``): ``qcut(recency.rank(...), bins, labels=[5, ..., 1])``.

Ties (``ties=``):

* ``"first"`` (default, the common notebook recipe): ties are ranked in table
  order (order of first appearance in the log), so equal values may get
  different scores but every score holds ~1/bins of the customers;
* ``"average"`` or ``"dense"``: tied values share a rank, hence a score. Bins
  may then be uneven; with duplicate edges (many equal values) a score is
  still 1 + the number of inner edges strictly below the rank (pandas would
  raise "Bin edges must be unique" there).

Edge cases: customers without a purchase occasion up to ``as_of`` are **excluded**
(they have no recency; they are lifecycle prospects, not an RFM segment; their
returns are counted in the report's ``data``). An
empty log raises [`ValidationError`][crmcore.kernel.errors.ValidationError]. With one customer,
or when every value of a dimension ties under ``"average"``/``"dense"``, that
dimension scores the middle bin (3 of 5) for everyone (pandas raises there).
With 2 to ``bins - 1`` customers the scores follow pandas and leave gaps (two
customers score 1 and 5).

**Segments** come from a [`SegmentMap`][crmcore.analytics.rfm_segments.SegmentMap]
([`crmcore.analytics.rfm_segments`][crmcore.analytics.rfm_segments]): an ordered table of R/F/M
score ranges; the first matching rule wins; a map must cover every code (directly or with
``default``). [`RFM_SEGMENTS`][crmcore.analytics.rfm_segments.RFM_SEGMENTS] is the default (11
segments, see the RFM guide, ``docs/rfm.md``); the module also holds the peers' maps (R ``rfm``, the
Python ``seg_map`` recipe, pymc-marketing's quartile config).

Examples:
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

from datetime import datetime
from typing import TYPE_CHECKING, Final, Literal

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.analytics.kpis import per_customer, read_purchases
from crmcore.analytics.quantiles import (
    Ties,
    _check_bins,
    _check_ties,
    _first_rank_edges,
    _scores_first,
    quantile_scores,
)
from crmcore.analytics.rfm_segments import RFM_SEGMENTS, SegmentMap
from crmcore.columnar import TransactionLog
from crmcore.columnar.id_index import rows_equal_to
from crmcore.columnar.occasions import DataUsed
from crmcore.kernel.arrays import (
    AnyArray,
    BoolArray,
    Float64Array,
    Int8Array,
    Int64Array,
    read_only,
)
from crmcore.kernel.clock import DAY_US
from crmcore.kernel.errors import MissingDependencyError, NotFoundError, ValidationError
from crmcore.kernel.reports import fmt_datetime, html_table, json_number, records_frame
from crmcore.kernel.validators import choice, instance_of, storable_text
from crmcore.plotting.rfm import plot_rfm_grid, plot_rfm_segments

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = [
    "RfmReport",
    "RfmTable",
    "SegmentSummary",
    "rfm_scores",
]


_HTML_ROWS: Final = 10


# ---------------------------------------------------------------------------------------------
# The table and its report
# ---------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SegmentSummary:
    """One segment of an [`RfmReport`][crmcore.analytics.rfm.RfmReport]: size, revenue and mean
    R/F/M.

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
    """Segment sizes, revenue shares and mean R/F/M of an
    [`RfmTable`][crmcore.analytics.rfm.RfmTable] (a report)."""

    as_of: datetime
    segment_map: str
    customers: int
    revenue: float
    segments: tuple[SegmentSummary, ...]
    spend: str = "net"
    data: DataUsed | None = None

    def segment(self, name: str) -> SegmentSummary:
        """The row of segment ``name``; [`NotFoundError`][crmcore.kernel.errors.NotFoundError] if
        unknown."""
        instance_of(name, str, "name", "a segment name")
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
            "spend": self.spend,
            "segments": [row.to_dict() for row in self.segments],
            "data": None if self.data is None else self.data.to_dict(),
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per segment (map order), with the columns of
        [`SegmentSummary.to_dict()`][crmcore.analytics.rfm.SegmentSummary.to_dict]."""
        columns = [f.name for f in attrs.fields(SegmentSummary)]
        rows = [s.to_dict() for s in self.segments]
        return records_frame(rows, "RfmReport.to_pandas", columns)

    def plot(
        self, *, size: Literal["customers", "revenue"] = "customers", ax: Axes | None = None
    ) -> Axes:
        """The segments as a treemap, areas by ``size``:
        [`plot_rfm_segments()`][crmcore.plotting.rfm.plot_rfm_segments]."""
        return plot_rfm_segments(self, size=size, ax=ax)

    def _repr_html_(self) -> str:
        currency = None if self.data is None else self.data.currency
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
            f"RFM segments as of {fmt_datetime(self.as_of)}",
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
                "money",
                "pct",
                "days",
                "float",
                "money",
                "float",
                "float",
                "float",
            ],
            bars={1: float(top)},
            currency=currency,
            caption=f"map {self.segment_map!r}; {self.customers:,} customers; "
            f"{self.spend} spend"
            + ("" if self.data is None else "; " + "; ".join(self.data.notes())),
        )


@attrs.frozen(eq=False, kw_only=True)
class RfmTable:
    """RFM values, scores, codes and segments, one row per customer (read-only arrays).

    Row ``i`` is ``customer_ids[i]`` (customers with a purchase up to
    ``as_of``, in order of first appearance in the log). ``r``, ``f``, ``m``
    are ``int8`` scores in ``1..bins``; [`codes`][crmcore.analytics.rfm.RfmTable.codes] the
    composite ``100*r + 10*f + m`` (e.g. ``545``); ``segment_codes`` index ``segment_map.names``.
    [`summary()`][crmcore.analytics.rfm.RfmTable.summary] is the report; ``to_dict()`` and
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
    spend: str = "net"
    data: DataUsed | None = None

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
        """Rows in ``segment``;
        [`NotFoundError`][crmcore.NotFoundError] for a name not in the map.
        """
        instance_of(segment, str, "segment", "a segment name")
        if segment not in self.segment_names:
            raise NotFoundError("segment", segment)
        mask: BoolArray = self.segment_codes == self.segment_names.index(segment)
        return mask

    def customers_in(self, segment: str) -> list[str]:
        """The ids of the customers in ``segment``."""
        ids: list[str] = self.customer_ids[self.mask(segment)].tolist()
        return ids

    def index_of(self, customer: str) -> int:
        """The row of ``customer``; [`NotFoundError`][crmcore.kernel.errors.NotFoundError] when
        absent."""
        wanted = storable_text(instance_of(customer, str, "customer", "a customer id"), "customer")
        hits = rows_equal_to(self.customer_ids, wanted)
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
        """Every row as a dict (see [`row()`][crmcore.analytics.rfm.RfmTable.row]), built column by
        column."""
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
            spend=self.spend,
            data=self.data,
        )

    def to_dict(self) -> dict[str, object]:
        """The segment report as JSON data, plus the scoring options."""
        return self.summary().to_dict() | {"ties": self.ties, "bins": self.bins}

    def plot(
        self, *, kind: Literal["segments", "grid"] = "segments", ax: Axes | None = None
    ) -> Axes:
        """The segments as a treemap
        ([`plot_rfm_segments()`][crmcore.plotting.rfm.plot_rfm_segments]) or, ``kind="grid"``,
        customers per R x F cell ([`plot_rfm_grid()`][crmcore.plotting.rfm.plot_rfm_grid])."""
        if choice(kind, "kind", ("segments", "grid")) == "grid":
            return plot_rfm_grid(self, ax=ax)
        return plot_rfm_segments(self, ax=ax)

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
            kinds=["auto", "days", "int", "money", "auto", "auto"],
            currency=None if self.data is None else self.data.currency,
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
    spend: Literal["net", "gross"] = "net",
    whole_days: bool = False,
) -> RfmTable:
    """Score every customer of ``log`` with a purchase up to ``as_of`` (see the module docs).

    ``ties`` picks the rank method (``"first"`` matches the pandas recipe),
    ``bins`` the number of quantile bins (``segments.bins`` must agree),
    ``monetary`` total spend (``"sum"``) or spend per purchase occasion (``"mean"``),
    ``spend`` net of returns (``"net"``) or purchases only (``"gross"``),
    ``whole_days`` floors recency to whole days before ranking (so purchases
    on the same day tie). Raises [`ValidationError`][crmcore.kernel.errors.ValidationError]
    for bad options, a naive ``as_of``, non-finite amounts, or no purchase up to
    ``as_of``; [`CurrencyMismatchError`][crmcore.kernel.errors.CurrencyMismatchError]
    when the log mixes currencies.
    """
    how = _check_ties(ties)
    q = _check_bins(bins)
    if not isinstance(segments, SegmentMap):
        raise ValidationError("segments", segments, "must be a SegmentMap")
    if segments.bins != q:
        raise ValidationError(
            "segments", segments.name, f"is a map for {segments.bins} bins, not {q}"
        )
    monetary = choice(monetary, "monetary", ("sum", "mean"))
    if not isinstance(whole_days, bool):
        raise ValidationError("whole_days", whole_days, "must be a bool")
    spend = choice(spend, "spend", ("net", "gross"))
    p = read_purchases(log, as_of)
    agg = per_customer(p, first=False)
    present = agg.present
    if not present.any():
        raise ValidationError("log", len(log), "has no purchase up to as_of to score")
    rows = np.flatnonzero(present) if not present.all() else None
    count, last = agg.count, agg.last
    revenue = agg.net if spend == "net" else agg.revenue
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
    if how == "first":  # the edges depend on the number of customers only: compute them once
        edges = _first_rank_edges(len(count), q)
        r = q + 1 - _scores_first(elapsed, q, edges)
        f = _scores_first(count, q, edges)
        m = _scores_first(value, q, edges)
    else:
        r = q + 1 - quantile_scores(elapsed, q, how)
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
        spend=spend,
        data=p.data,
    )
