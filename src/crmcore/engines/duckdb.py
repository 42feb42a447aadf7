"""The analytics inside DuckDB: on tables, relations and Parquet files, larger than memory.

Each function has the signature and the report of its numpy twin, plus
``connection`` (a ``duckdb.DuckDBPyConnection``; default: the relation's own,
or a new in-memory database) and ``order`` (an integer column holding each
row's position in the log, when the source's own order is not the log
order). The source is a crmcore frame (scanned in place through Arrow), a
DuckDB relation (``connection.table("purchases")``, any query) or Parquet
paths (files, globs, directories, URLs DuckDB reads); the work runs as
DuckDB SQL, and only the result comes back to Python. A transaction log is
read by the library's one rule
([`crmcore.columnar.occasions`][crmcore.columnar.occasions]: orders, returns, guests
left out and counted), with the loaders' row checks.

The ``*_relation`` functions return the per-customer result as a lazy
``DuckDBPyRelation`` instead, to write to Parquet or join further, for
customer bases too large to hold as numpy arrays. The temporary views they
read stay on the connection (named ``crm_*``); the other functions drop
theirs when done.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.columnar import TransactionLog
    >>> t = datetime(2026, 6, 1, tzinfo=UTC)
    >>> log = TransactionLog.from_records([{"customer_id": "a", "at": t, "amount": 30.0},
    ...                                    {"customer_id": "b", "at": t, "amount": 5.0}])
    >>> from crmcore.analytics import rfm as numpy_rfm
    >>> table = rfm_scores(log, t)
    >>> table.code_labels(), table.code_labels() == numpy_rfm.rfm_scores(log, t).code_labels()
    (['515', '151'], True)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from crmcore.analytics.bgnbd import BgNbdModel
from crmcore.analytics.btyd import BtydSummary, SummaryPeriod
from crmcore.analytics.clv import MonthRule, PredictedClv
from crmcore.analytics.cohorts import CohortMatrix, CohortPeriod
from crmcore.analytics.gamma_gamma import GammaGammaModel
from crmcore.analytics.quantiles import Ties
from crmcore.analytics.rfm import RfmTable
from crmcore.analytics.rfm_segments import RFM_SEGMENTS, SegmentMap
from crmcore.columnar import CustomerFrame
from crmcore.columnar.arrow import import_pyarrow
from crmcore.engines._btyd_sql import btyd_summary
from crmcore.engines._clv import (
    SCORES,
    check_summary,
    clv_template,
    fit_models,
    predicted_clv,
    score_arrays,
)
from crmcore.engines._cohort_sql import cohort_table
from crmcore.engines._duckdb_runner import DuckRunner, DuckSource
from crmcore.engines._funnel_sql import funnel_report_of
from crmcore.engines._lifecycle_sql import lifecycle_classification
from crmcore.engines._queries import (
    cohort_query,
    funnel_query,
    lifecycle_query,
    rfm_query,
    segment_sql,
    summary_query,
)
from crmcore.engines._rfm_sql import rfm_table
from crmcore.funnel._steps import DEFAULT_WINDOW, Exclusion, FunnelCounting, FunnelMode, FunnelStep
from crmcore.funnel.analytics import FunnelReport
from crmcore.lifecycle.policy import DEFAULT_POLICY, LifecyclePolicy
from crmcore.lifecycle.policy_batch import BatchClassification
from crmcore.segments.rules import Predicate, RuleSchema

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

__all__ = [
    "DuckSource",
    "classify_log",
    "clv_relation",
    "cohort_matrix",
    "customer_lifetime_value",
    "fit_clv_models",
    "funnel_relation",
    "funnel_report",
    "lifecycle_relation",
    "rfm_relation",
    "rfm_scores",
    "segment_members",
    "segment_relation",
    "summary_from_transactions",
    "summary_relation",
]

# -- RFM ---------------------------------------------------------------------------------------


def rfm_scores(
    log: DuckSource,
    as_of: datetime,
    *,
    ties: Ties = "first",
    bins: int = 5,
    segments: SegmentMap = RFM_SEGMENTS,
    monetary: Literal["sum", "mean"] = "sum",
    spend: Literal["net", "gross"] = "net",
    whole_days: bool = False,
    connection: duckdb.DuckDBPyConnection | None = None,
    order: str | None = None,
) -> RfmTable:
    """[`rfm_scores()`][crmcore.analytics.rfm.rfm_scores] inside DuckDB: the same table, exactly.

    Scores, codes and segments equal numpy's, ties included (``"first"``
    follows the log order); recency and monetary values are the same
    doubles. The same input errors as numpy, and a
    [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the column for a missing
    column, a naive timestamp or an amount held as text.
    """
    with DuckRunner(connection, "rfm_scores", log) as runner:
        sql, options, data = rfm_query(
            runner, log, as_of, ties, bins, segments, monetary, spend, whole_days, order
        )
        return rfm_table(runner.fetch(sql), options, data)


def rfm_relation(
    log: DuckSource,
    as_of: datetime,
    *,
    ties: Ties = "first",
    bins: int = 5,
    segments: SegmentMap = RFM_SEGMENTS,
    monetary: Literal["sum", "mean"] = "sum",
    spend: Literal["net", "gross"] = "net",
    whole_days: bool = False,
    connection: duckdb.DuckDBPyConnection | None = None,
    order: str | None = None,
) -> duckdb.DuckDBPyRelation:
    """The rows of [`rfm_scores()`][crmcore.engines.duckdb.rfm_scores] as a lazy relation.

    Columns ``customer_id, recency_days, frequency, monetary, revenue, r, f,
    m, segment_code`` (an index into ``segments.names``), in table order.
    """
    runner = DuckRunner(connection, "rfm_relation", log)
    sql, _, _ = rfm_query(
        runner, log, as_of, ties, bins, segments, monetary, spend, whole_days, order
    )
    return runner.lazy(sql)


# -- cohorts -----------------------------------------------------------------------------------


def cohort_matrix(
    log: DuckSource,
    as_of: datetime,
    *,
    period: CohortPeriod = "month",
    max_periods: int | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
    order: str | None = None,
) -> CohortMatrix:
    """[`cohort_matrix()`][crmcore.analytics.cohorts.cohort_matrix] inside DuckDB: the same matrix.

    Counts and revenue are exact (spend is summed in units of 1/10,000 as
    integers). Only the non-empty cells leave the engine.
    """
    with DuckRunner(connection, "cohort_matrix", log) as runner:
        sql, options, data = cohort_query(runner, log, as_of, period, max_periods, order)
        return cohort_table(runner.fetch(sql), options, data)


# -- BTYD summary and CLV ----------------------------------------------------------------------


def summary_from_transactions(
    log: DuckSource,
    as_of: datetime,
    period: SummaryPeriod = "D",
    *,
    time_unit: SummaryPeriod | None = None,
    holdout_end: datetime | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
    order: str | None = None,
) -> BtydSummary:
    """[`summary_from_transactions()`][crmcore.analytics.btyd.summary_from_transactions] inside
    DuckDB.

    Frequencies, recencies, ``T`` and holdout counts are exact; ``monetary``
    is a sum of doubles in DuckDB's order (numpy's within 1e-9 relative).
    """
    with DuckRunner(connection, "summary_from_transactions", log) as runner:
        sql, options, data = summary_query(
            runner, log, as_of, period, time_unit, holdout_end, order
        )
        return btyd_summary(runner.fetch(sql), options, data)


def summary_relation(
    log: DuckSource,
    as_of: datetime,
    period: SummaryPeriod = "D",
    *,
    time_unit: SummaryPeriod | None = None,
    holdout_end: datetime | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
    order: str | None = None,
) -> duckdb.DuckDBPyRelation:
    """The rows of [`summary_from_transactions()`][crmcore.engines.duckdb.summary_from_transactions]
    as a lazy relation: ``customer_id, frequency, recency, T, monetary`` (then the holdout columns,
    ``return_count`` and ``return_value``),
    the input of [`fit_clv_models()`][crmcore.engines.duckdb.fit_clv_models] and
    [`customer_lifetime_value()`][crmcore.engines.duckdb.customer_lifetime_value]."""
    runner = DuckRunner(connection, "summary_relation", log)
    sql, _, _ = summary_query(runner, log, as_of, period, time_unit, holdout_end, order)
    return runner.lazy(sql)


def fit_clv_models(
    summary: DuckSource,
    time_unit: SummaryPeriod = "D",
    *,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> tuple[BgNbdModel, GammaGammaModel]:
    """Fit BG/NBD and Gamma-Gamma on an engine summary (from
    [`summary_relation()`][crmcore.engines.duckdb.summary_relation]), grouped inside DuckDB.

    ``time_unit`` is the summary's. Only the distinct rows and their counts
    leave the engine, and the fits are those of
    [`fit_bgnbd()`][crmcore.analytics.bgnbd.fit_bgnbd] and
    [`fit_gamma_gamma()`][crmcore.analytics.gamma_gamma.fit_gamma_gamma] on the full summary.
    """
    with DuckRunner(connection, "fit_clv_models", summary) as runner:
        return fit_models(runner, runner.raw(summary, None, "summary"), str(time_unit))


def clv_relation(
    purchases: BgNbdModel,
    spend: GammaGammaModel | float,
    summary: DuckSource,
    *,
    months: int = 12,
    discount_rate: float = 0.01,
    month: MonthRule = "30-day",
    as_of: datetime | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> duckdb.DuckDBPyRelation:
    """The summary's rows with ``clv``, ``expected_purchases``, ``probability_alive`` and
    ``expected_spend`` added, scored inside DuckDB.

    A vectorised Arrow UDF runs
    [`customer_lifetime_value()`][crmcore.analytics.clv.customer_lifetime_value] on each batch
    of rows, so the numbers are numpy's. The arguments are those of
    [`customer_lifetime_value()`][crmcore.engines.duckdb.customer_lifetime_value].
    """
    template = clv_template(purchases, spend, months, discount_rate, month, as_of)
    return _scored(template, purchases, spend, summary, connection, "clv_relation")


def _scored(
    template: PredictedClv,
    purchases: BgNbdModel,
    spend: GammaGammaModel | float,
    summary: DuckSource,
    connection: duckdb.DuckDBPyConnection | None,
    feature: str,
) -> duckdb.DuckDBPyRelation:
    runner = DuckRunner(connection, feature, summary)
    view = runner.raw(summary, None, "summary")
    check_summary(runner, view)
    arrow = import_pyarrow(feature)

    # DuckDB evaluates a UDF's annotations at registration: only names it can resolve here.
    def score(frequency: object, recency: object, age: object, monetary: object) -> object:
        columns: list[pa.Array] = [frequency, recency, age, monetary]
        values = [c.to_numpy(zero_copy_only=False) for c in columns]
        arrays = score_arrays(template, purchases, spend, *values)
        return arrow.StructArray.from_arrays([arrow.array(a) for a in arrays], names=list(SCORES))

    function = runner.fresh("clv_udf")
    struct = runner.connection.struct_type(dict.fromkeys(SCORES, "DOUBLE"))
    # "arrow" works across DuckDB versions; the enum moved between them (functional, func).
    runner.connection.create_function(  # type: ignore[call-overload]
        function, score, ["DOUBLE"] * 4, struct, type="arrow"
    )
    inputs = ", ".join(f"CAST({c} AS DOUBLE)" for c in ("frequency", "recency", "T", "monetary"))
    scores = ", ".join(f"s.{name} AS {name}" for name in SCORES)
    return runner.lazy(
        f"SELECT * EXCLUDE (s, crm_row), {scores} FROM "
        f"(SELECT *, {function}({inputs}) AS s FROM {view}) scored ORDER BY crm_row"
    )


def customer_lifetime_value(
    purchases: BgNbdModel,
    spend: GammaGammaModel | float,
    summary: DuckSource,
    *,
    months: int = 12,
    discount_rate: float = 0.01,
    month: MonthRule = "30-day",
    as_of: datetime | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> PredictedClv:
    """[`customer_lifetime_value()`][crmcore.analytics.clv.customer_lifetime_value] of every
    customer of an engine summary (with ``customer_id``), scored inside DuckDB.

    ``spend`` is a Gamma-Gamma model or one expected spend for everyone. The
    summary is taken to be in the purchase model's time unit; ``as_of`` is
    the summary's (needed for ``month="calendar"``, and reported).
    """
    template = clv_template(purchases, spend, months, discount_rate, month, as_of)
    relation = _scored(template, purchases, spend, summary, connection, "customer_lifetime_value")
    table = relation.select(", ".join(("customer_id", *SCORES))).to_arrow_table()
    return predicted_clv(table, template)


# -- lifecycle -----------------------------------------------------------------------------------


def classify_log(
    log: DuckSource,
    as_of: datetime,
    *,
    policy: LifecyclePolicy = DEFAULT_POLICY,
    customers: CustomerFrame | Sequence[str] | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
    order: str | None = None,
) -> BatchClassification:
    """[`classify_log()`][crmcore.lifecycle.policy_batch.classify_log] inside DuckDB: the same
    states, reasons, risk scores and facts, bit for bit."""
    with DuckRunner(connection, "classify_log", log) as runner:
        sql, options = lifecycle_query(runner, log, as_of, policy, customers, order)
        return lifecycle_classification(runner.fetch(sql), options)


def lifecycle_relation(
    log: DuckSource,
    as_of: datetime,
    *,
    policy: LifecyclePolicy = DEFAULT_POLICY,
    customers: CustomerFrame | Sequence[str] | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
    order: str | None = None,
) -> duckdb.DuckDBPyRelation:
    """The rows of [`classify_log()`][crmcore.engines.duckdb.classify_log] as a lazy relation
    (``states`` are [`LifecycleState.code`][crmcore.lifecycle.states.LifecycleState.code]
    values, times microseconds since the epoch)."""
    runner = DuckRunner(connection, "lifecycle_relation", log)
    sql, _ = lifecycle_query(runner, log, as_of, policy, customers, order)
    return runner.lazy(sql)


# -- funnels -------------------------------------------------------------------------------------


def funnel_report(
    log: DuckSource,
    steps: Sequence[FunnelStep],
    *,
    window: timedelta | None = DEFAULT_WINDOW,
    mode: FunnelMode = "ordered",
    exclusions: Sequence[Exclusion] = (),
    counting: FunnelCounting = "trials",
    allow_unseen_kinds: bool = False,
    connection: duckdb.DuckDBPyConnection | None = None,
    order: str | None = None,
) -> FunnelReport:
    """[`funnel_report()`][crmcore.funnel.analytics.funnel_report] inside DuckDB: the same report.

    Both ways of counting (``"trials"``, Mixpanel's; ``"max_step"``,
    ClickHouse ``windowFunnel`` and PostHog's), every mode and exclusions.
    Step counts are exact; times to convert equal numpy's within 1e-9.
    """
    with DuckRunner(connection, "funnel_report", log) as runner:
        ev, outcomes, funnel = funnel_query(
            runner, log, steps, window, mode, exclusions, counting, allow_unseen_kinds, order
        )
        return funnel_report_of(runner, ev, funnel, outcomes)


def funnel_relation(
    log: DuckSource,
    steps: Sequence[FunnelStep],
    *,
    window: timedelta | None = DEFAULT_WINDOW,
    mode: FunnelMode = "ordered",
    exclusions: Sequence[Exclusion] = (),
    counting: FunnelCounting = "trials",
    allow_unseen_kinds: bool = False,
    connection: duckdb.DuckDBPyConnection | None = None,
    order: str | None = None,
) -> duckdb.DuckDBPyRelation:
    """Who reached what, as a lazy relation: one row per customer with an attempt.

    Columns ``customer_id``, ``reached`` (0: every attempt was excluded),
    ``excluded``, ``t0`` (the chosen attempt's start) and ``t1`` ... (the
    instant of each later step reached, else NULL), times in microseconds
    since the epoch: the rows of [`funnel_customers()`][crmcore.funnel.analytics.funnel_customers].
    """
    runner = DuckRunner(connection, "funnel_relation", log)
    _, outcomes, _ = funnel_query(
        runner, log, steps, window, mode, exclusions, counting, allow_unseen_kinds, order
    )
    return runner.lazy(outcomes)


# -- segments ------------------------------------------------------------------------------------


def segment_members(
    rule: Predicate,
    as_of: datetime,
    *,
    customers: DuckSource,
    purchases: DuckSource | None = None,
    events: DuckSource | None = None,
    schema: RuleSchema | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> list[str]:
    """The ids of the customers matching ``rule`` at ``as_of``, in id order, computed in DuckDB.

    ``customers`` is a [`CustomerFrame`][crmcore.columnar.CustomerFrame], a relation or Parquet
    files in the layout [`crmcore.columnar.arrow`][crmcore.columnar.arrow] writes (tag columns
    as lists of text, ``attr.<name>`` columns); ``purchases`` and ``events`` are the logs the
    aggregate fields read. The rule compiles with [`to_sql()`][crmcore.segments.sql.to_sql],
    every value a parameter, and means exactly what
    [`matches()`][crmcore.segments.evaluate.matches] means. ``schema`` defaults to the
    standard fields plus the ``attr.*`` columns found.
    """
    sources = (customers, purchases, events)
    with DuckRunner(connection, "segment_members", *sources) as runner:
        sql, params = segment_sql(runner, rule, as_of, *sources, schema)
        return [str(row[0]) for row in runner.rows(sql, params)]


def segment_relation(
    rule: Predicate,
    as_of: datetime,
    *,
    customers: DuckSource,
    purchases: DuckSource | None = None,
    events: DuckSource | None = None,
    schema: RuleSchema | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> duckdb.DuckDBPyRelation:
    """The members of [`segment_members()`][crmcore.engines.duckdb.segment_members] as a lazy
    relation of one column, ``id``."""
    sources = (customers, purchases, events)
    runner = DuckRunner(connection, "segment_relation", *sources)
    sql, params = segment_sql(runner, rule, as_of, *sources, schema)
    return runner.lazy(sql, params)
