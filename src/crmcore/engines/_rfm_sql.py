"""RFM in SQL: the scores of ``rfm_scores``, exactly, ties and segments included.

The result is the table of [`rfm_scores()`][crmcore.analytics.rfm.rfm_scores].

The statement encodes the numpy definitions of [`crmcore.analytics.rfm`][crmcore.analytics.rfm]
and [`crmcore.analytics.quantiles`][crmcore.analytics.quantiles] step by step:

* the log is read as purchase occasions
  ([`crmcore.engines._occasions_sql`][crmcore.engines._occasions_sql]); per customer with a
  purchase occasion up to ``as_of``: their number, the spend net of returns (or gross) summed
  exactly in units of 1/10,000, then ``/ 10000.0``, the last occasion, and ``first_row``, the
  customer's first row in the whole log, which orders the table (and the ``"first"`` ties);
* the ranks of ``pandas.rank(method=ties)``: ``row_number`` over (value,
  first row) for ``"first"``, ``(lowest + highest rank) / 2`` of a tie for
  ``"average"``, ``dense_rank`` for ``"dense"``;
* the bin edges of ``numpy.quantile(ranks, levels)`` ("linear"): virtual index
  ``(n - 1) * level``, its floor and the next order statistic, and numpy's
  two-sided interpolation (``b - (b - a) * (1 - g)`` when ``g >= 0.5``), in
  the same double arithmetic, so every edge is the very double numpy gets;
* a score is the number of edges below the rank (at least 1), the middle
  score when all edges are equal; recency is reversed;
* the segment is the [`SegmentMap`][crmcore.analytics.rfm_segments.SegmentMap]'s lookup table,
  indexed by the composite code.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final

import attrs
import numpy as np

from crmcore.analytics.quantiles import Ties, _check_bins, _check_ties, _quantiles
from crmcore.analytics.rfm import RfmTable
from crmcore.analytics.rfm_segments import SegmentMap
from crmcore.columnar import STRING_DTYPE
from crmcore.columnar.occasions import DataUsed
from crmcore.engines._dialect import Dialect, cte
from crmcore.engines._occasions_sql import (
    EngineLog,
    check_currency,
    data_used,
    exact_limit,
    exact_sum,
    totals_sql,
)
from crmcore.engines._runner import Runner, fetched
from crmcore.kernel.arrays import AnyArray
from crmcore.kernel.clock import DAY_US, from_micros, to_micros
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import choice

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["RfmOptions", "check_rfm_data", "rfm_options", "rfm_program", "rfm_table"]

SPEND_SCALE: Final = 10_000.0
"""Units of spend per currency unit in exact sums (``crmcore.analytics.kpis.SPEND_SCALE``)."""
SPARK_ONE_PARTITION_RANKS: Final = 2_000_000
"""Up to this many customers Spark ranks them with one window over the whole table (one
partition, no extra jobs); beyond, the sort is spread over range partitions."""
_DIMENSIONS: Final = ("r", "f", "m")


@attrs.frozen
class RfmOptions:
    """The checked options of one RFM run."""

    as_us: int
    ties: Ties
    bins: int
    segments: SegmentMap
    monetary: str
    whole_days: bool
    spend: str


def rfm_options(
    as_of: datetime,
    ties: object,
    bins: object,
    segments: object,
    monetary: object,
    whole_days: object,
    spend: object,
) -> RfmOptions:
    """The options checked as [`rfm_scores()`][crmcore.analytics.rfm.rfm_scores] checks them."""
    choice(ties, "ties", ("first", "average", "dense"))  # before numpy compares an array to it
    how = _check_ties(ties)
    q = _check_bins(bins)
    if not isinstance(segments, SegmentMap):
        raise ValidationError("segments", segments, "must be a SegmentMap")
    if segments.bins != q:
        raise ValidationError(
            "segments", segments.name, f"is a map for {segments.bins} bins, not {q}"
        )
    choice(monetary, "monetary", ("sum", "mean"))
    if not isinstance(whole_days, bool):
        raise ValidationError("whole_days", whole_days, "must be a bool")
    choice(spend, "spend", ("net", "gross"))
    return RfmOptions(
        to_micros(as_of, "as_of"), how, q, segments, str(monetary), whole_days, str(spend)
    )


def check_rfm_data(runner: Runner, log: EngineLog, o: RfmOptions) -> tuple[str, DataUsed]:
    """The data checks of ``rfm_scores`` after the log's own, in numpy's order.

    One currency, exact totals (purchases, then returns, per customer), a
    purchase to score. Returns the table of per-customer totals (every customer
    of the log) and what the report used.
    """
    check_currency(runner, log, "aggregate spend in")
    d = runner.dialect
    as_of = d.integer(o.as_us)
    for kept in ("purchase", "NOT purchase"):
        exact_limit(
            runner, log,
            f"SELECT {exact_sum('units')} AS total FROM {log.occasions} "
            f"WHERE {kept} AND at_us <= {as_of} GROUP BY customer_id",
        )  # fmt: skip
    totals = runner.fresh("rfm_totals")
    runner.table(totals, totals_sql(d, log.occasions, o.as_us))
    data = data_used(runner, log, totals, o.as_us)
    if not data.purchase_occasions:
        raise ValidationError("log", log.facts.rows, "has no purchase up to as_of to score")
    return totals, data


def _rank(d: Dialect, value: str, ties: Ties) -> str:
    if ties == "first":
        return d.to_double(f"row_number() OVER (ORDER BY {value}, first_row)")
    if ties == "dense":
        return d.to_double(f"dense_rank() OVER (ORDER BY {value})")
    both = f"2 * rank() OVER (ORDER BY {value}) + count(*) OVER (PARTITION BY {value}) - 1"
    return f"{d.to_double(both)} / {d.double(2.0)}"


def _lerp(d: Dialect, a: str, b: str, g: str) -> str:
    """numpy's ``_lerp``: exact at both ends, one formula per half."""
    one, half = d.double(1.0), d.double(0.5)
    return (
        f"(CASE WHEN {g} >= {half} THEN {b} - ({b} - {a}) * ({one} - {g})"
        f" ELSE {a} + ({b} - {a}) * {g} END)"
    )


def rfm_program(runner: Runner, totals: str, o: RfmOptions) -> str:
    """Materialise the ranked customers; return the statement of the scored rows.

    One row per scored customer, in table order (see the module docs). The
    ranks are kept in a table because both the bin edges and the scores read
    them (an engine that inlines the query, like Spark, would rank twice).
    """
    d = runner.dialect
    values = _values_sql(d, totals, o)
    ranked = runner.fresh("rfm_ranked")
    if d.name == "spark":
        table = runner.fresh("rfm_values")
        runner.table(table, values)
        if int(runner.rows(f"SELECT count(*) FROM {table}")[0][0]) > SPARK_ONE_PARTITION_RANKS:
            runner.table(ranked, _spread_ranks(runner, table, o))
            return _scored_sql(d, ranked, o)
        values = f"SELECT * FROM {table}"
    ranks = [f"{_rank(d, f'v_{x}', o.ties)} AS rank_{x}" for x in _DIMENSIONS]
    if o.ties != "first":  # the order statistics of the ranks are looked up by position
        ranks += [f"row_number() OVER (ORDER BY v_{x}, first_row) - 1 AS pos_{x}" for x in "rfm"]
    runner.table(ranked, f"SELECT *, {', '.join(ranks)} FROM ({values}) v")
    return _scored_sql(d, ranked, o)


def _positions(runner: Runner, source: str, keys: tuple[str, ...]) -> str:
    """A table of ``keys`` and ``pos``, each row's 0-based place in the order of ``keys``.

    Spark computes a window over the whole table in one partition; this
    spreads the sort instead: the rows are range-partitioned by ``keys``
    (each partition then holds a contiguous stretch of the order) and
    materialised, so the partitioning is sampled once; a row's place is the
    number of rows in the partitions before its own plus its place within it.
    ``keys`` must be unique.
    """
    order = ", ".join(keys)
    tagged = runner.fresh("rfm_tagged")
    runner.table(
        tagged,
        f"SELECT *, spark_partition_id() AS pid FROM "
        f"(SELECT /*+ REPARTITION_BY_RANGE({order}) */ {order} FROM {source}) s",
    )
    sizes = f"SELECT pid, count(*) AS n FROM {tagged} GROUP BY pid"
    offsets = (
        "SELECT pid, coalesce(sum(n) OVER (ORDER BY pid ROWS BETWEEN UNBOUNDED PRECEDING "
        f"AND 1 PRECEDING), 0) AS off FROM ({sizes}) c"
    )
    places = runner.fresh("rfm_positions")
    runner.view(
        places,
        f"SELECT {', '.join(f't.{k}' for k in keys)}, o.off + row_number() OVER "
        f"(PARTITION BY t.pid ORDER BY {', '.join(f't.{k}' for k in keys)}) - 1 AS pos "
        f"FROM {tagged} t JOIN ({offsets}) o ON t.pid = o.pid",
    )
    return places


def _spread_ranks(runner: Runner, values: str, o: RfmOptions) -> str:
    """The ranks of ``_rank`` for a large Spark table, with no window over the whole table."""
    d = runner.dialect
    columns = ["v.*"]
    joins = []
    for x in _DIMENSIONS:
        value = f"v_{x}"
        places = _positions(runner, values, (value, "first_row"))
        joins.append(f"JOIN {places} p{x} ON p{x}.first_row = v.first_row")
        columns.append(f"p{x}.pos AS pos_{x}")
        if o.ties == "dense":
            distinct = runner.fresh("rfm_distinct")
            runner.view(distinct, f"SELECT DISTINCT {value} FROM {values}")
            levels = _positions(runner, distinct, (value,))
            joins.append(f"JOIN {levels} d{x} ON d{x}.{value} = v.{value}")
            columns.append(f"{d.to_double(f'd{x}.pos + 1')} AS rank_{x}")
    ranked = f"SELECT {', '.join(columns)} FROM {values} v {' '.join(joins)}"
    if o.ties == "first":
        ranks = [f"{d.to_double(f'pos_{x} + 1')} AS rank_{x}" for x in _DIMENSIONS]
    elif o.ties == "average":  # (lowest + highest rank of the tie) / 2, over a hash window
        tie = "OVER (PARTITION BY v_{x})"
        both = "2 * min(pos_{x}) " + tie + " + 2 + count(*) " + tie + " - 1"
        ranks = [
            f"{d.to_double(both.format(x=x))} / {d.double(2.0)} AS rank_{x}" for x in _DIMENSIONS
        ]
    else:
        return ranked
    return f"SELECT *, {', '.join(ranks)} FROM ({ranked}) r"


def _values_sql(d: Dialect, totals: str, o: RfmOptions) -> str:
    """Per scored customer: ``first_row``, the values of each dimension (``v_r``, ``v_f``,
    ``v_m``) and the revenue (net or gross)."""
    as_of = d.integer(o.as_us)
    elapsed = f"{as_of} - last_us"
    if o.whole_days:
        elapsed = d.floordiv(elapsed, d.integer(DAY_US))
        recency = d.to_double("v_r")
    else:
        recency = f"{d.to_double('v_r')} / {d.double(float(DAY_US))}"
    units = "gross + back" if o.spend == "net" else "gross"
    revenue = f"{d.to_double(units)} / {d.double(SPEND_SCALE)}"
    value_m = "revenue" if o.monetary == "sum" else f"revenue / {d.to_double('frequency')}"
    steps = [
        (
            "base",
            f"SELECT customer_id, first_row, n AS frequency, {elapsed} AS v_r, "
            f"{revenue} AS revenue FROM {totals} WHERE n > 0",
        ),
        (
            "vals",
            f"SELECT *, frequency AS v_f, {value_m} AS v_m, {recency} AS recency_days FROM base",
        ),
    ]
    return cte(steps, "SELECT * FROM vals")


def _scored_sql(d: Dialect, ranked: str, o: RfmOptions) -> str:
    """The bin edges, the scores and the segment of every ranked customer."""
    ties, bins, segments = o.ties, o.bins, o.segments
    steps: list[tuple[str, str]] = []
    levels = [float(v) for v in _quantiles(bins)]
    index = ["n"]
    for j, level in enumerate(levels):
        virtual = f"{d.to_double('n - 1')} * {d.double(level)}"
        above = f"{virtual} >= n - 1"
        floor = d.to_bigint(f"floor({virtual})")
        index += [
            f"{virtual} - floor({virtual}) AS g{j}",
            f"CASE WHEN {above} THEN n - 1 ELSE {floor} END AS lo{j}",
            f"CASE WHEN {above} THEN n - 1 ELSE {floor} + 1 END AS hi{j}",
        ]
    steps.append(("idx", f"SELECT {', '.join(index)} FROM (SELECT count(*) AS n FROM {ranked}) s"))
    edges = []
    for x in _DIMENSIONS:
        for j in range(len(levels)):
            if ties == "first":  # ranks are 1..n: the order statistic at position p is p + 1
                a, b = d.to_double(f"lo{j} + 1"), d.to_double(f"hi{j} + 1")
                edges.append(f"{_lerp(d, a, b, f'g{j}')} AS e{x}{j}")
            else:
                a = f"max(CASE WHEN r.pos_{x} = i.lo{j} THEN r.rank_{x} END)"
                b = f"max(CASE WHEN r.pos_{x} = i.hi{j} THEN r.rank_{x} END)"
                edges.append(f"{_lerp(d, a, b, f'max(i.g{j})')} AS e{x}{j}")
    source = "idx" if ties == "first" else f"{ranked} r CROSS JOIN idx i"
    steps.append(("edges", f"SELECT {', '.join(edges)} FROM {source}"))
    middle = (bins + 1) // 2
    scores = []
    for x in _DIMENSIONS:
        below = " + ".join(
            f"CASE WHEN e{x}{j} < rank_{x} THEN 1 ELSE 0 END" for j in range(len(levels))
        )
        score = (
            f"CASE WHEN e{x}0 = e{x}{len(levels) - 1} THEN {middle} ELSE GREATEST(1, {below}) END"
        )
        scores.append(f"{bins + 1} - ({score})" if x == "r" else score)
    steps.append(
        (
            "scored",
            f"SELECT k.*, {scores[0]} AS r, {scores[1]} AS f, {scores[2]} AS m "
            f"FROM {ranked} k CROSS JOIN edges",
        )
    )
    lookup = [int(v) for v in segments.lookup().tolist()]
    code = f"(r - 1) * {bins * bins} + (f - 1) * {bins} + (m - 1)"
    final = (
        "SELECT customer_id, recency_days, frequency, v_m AS monetary, revenue, "
        f"CAST(r AS TINYINT) AS r, CAST(f AS TINYINT) AS f, CAST(m AS TINYINT) AS m, "
        f"CAST({d.array_at(lookup, code)} AS TINYINT) AS segment_code "
        "FROM scored ORDER BY first_row"
    )
    return cte(steps, final)


def rfm_table(result: pa.Table, o: RfmOptions, data: DataUsed) -> RfmTable:
    """The [`RfmTable`][crmcore.analytics.rfm.RfmTable] of the statement's fetched rows."""

    def column(name: str, dtype: object) -> AnyArray:
        return fetched(result, name, dtype)

    return RfmTable(
        as_of=from_micros(o.as_us),
        ties=o.ties,
        bins=o.bins,
        segment_map=o.segments,
        customer_ids=column("customer_id", STRING_DTYPE),
        recency_days=column("recency_days", np.float64),
        frequency=column("frequency", np.int64),
        monetary=column("monetary", np.float64),
        revenue=column("revenue", np.float64),
        r=column("r", np.int8),
        f=column("f", np.int8),
        m=column("m", np.int8),
        segment_codes=column("segment_code", np.int8),
        spend=o.spend,
        data=data,
    )
