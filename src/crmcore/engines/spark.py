"""The analytics on Apache Spark: DataFrames and Parquet files, from local mode to a cluster.

Each function has the signature and the report of its numpy twin, plus
``session`` (a ``SparkSession``; default: the DataFrame's own, or the active
one) and ``order`` (an integer column holding each row's position in the
log, when the source's own order is not the log order). The source is a
crmcore frame (sent to Spark as Arrow), a Spark ``DataFrame`` or Parquet
paths (files, globs, directories, URLs such as ``s3a://``); the work runs as
Spark SQL plans (and, for the CLV scores, ``mapInArrow``), and only the
result comes back to Python. A transaction log is read by the library's one
rule ([`crmcore.columnar.occasions`][crmcore.columnar.occasions]: orders, returns,
guests left out and counted), with the loaders' row checks.

The ``*_dataframe`` functions return the per-customer result as a lazy
``DataFrame`` instead, to write out or join further, for customer bases too
large to hold as numpy arrays. The same code runs on a cluster: pass the
cluster's session (crmcore, with its ``spark`` extra, must be installed on
the executors for the CLV scores). Results do not depend on the session's
time zone.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

import numpy as np

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
from crmcore.engines._spark_runner import SparkRunner, SparkSource, import_pyspark
from crmcore.funnel._steps import DEFAULT_WINDOW, Exclusion, FunnelCounting, FunnelMode, FunnelStep
from crmcore.funnel.analytics import FunnelReport
from crmcore.lifecycle.policy import DEFAULT_POLICY, LifecyclePolicy
from crmcore.lifecycle.policy_batch import BatchClassification
from crmcore.segments.rules import Predicate, RuleSchema

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "SparkSource",
    "classify_log",
    "clv_dataframe",
    "cohort_matrix",
    "customer_lifetime_value",
    "fit_clv_models",
    "funnel_dataframe",
    "funnel_report",
    "lifecycle_dataframe",
    "rfm_dataframe",
    "rfm_scores",
    "segment_members",
    "segment_dataframe",
    "summary_from_transactions",
    "summary_dataframe",
]

# -- RFM ---------------------------------------------------------------------------------------


def rfm_scores(
    log: SparkSource,
    as_of: datetime,
    *,
    ties: Ties = "first",
    bins: int = 5,
    segments: SegmentMap = RFM_SEGMENTS,
    monetary: Literal["sum", "mean"] = "sum",
    spend: Literal["net", "gross"] = "net",
    whole_days: bool = False,
    session: SparkSession | None = None,
    order: str | None = None,
) -> RfmTable:
    """[`rfm_scores()`][crmcore.analytics.rfm.rfm_scores] on Spark: the same table, exactly.

    Scores, codes and segments equal numpy's, ties included (``"first"``
    follows the log order); recency and monetary values are the same
    doubles. The same input errors as numpy, and a
    [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the column for a missing
    column, a naive timestamp or an amount held as text.
    """
    with SparkRunner(session, "rfm_scores", log) as runner:
        sql, options, data = rfm_query(
            runner, log, as_of, ties, bins, segments, monetary, spend, whole_days, order
        )
        return rfm_table(runner.fetch(sql), options, data)


def rfm_dataframe(
    log: SparkSource,
    as_of: datetime,
    *,
    ties: Ties = "first",
    bins: int = 5,
    segments: SegmentMap = RFM_SEGMENTS,
    monetary: Literal["sum", "mean"] = "sum",
    spend: Literal["net", "gross"] = "net",
    whole_days: bool = False,
    session: SparkSession | None = None,
    order: str | None = None,
) -> DataFrame:
    """The rows of [`rfm_scores()`][crmcore.engines.spark.rfm_scores] as a lazy DataFrame.

    Columns ``customer_id, recency_days, frequency, monetary, revenue, r, f,
    m, segment_code`` (an index into ``segments.names``), in table order.
    """
    runner = SparkRunner(session, "rfm_dataframe", log)
    sql, _, _ = rfm_query(
        runner, log, as_of, ties, bins, segments, monetary, spend, whole_days, order
    )
    return runner.lazy(sql)


# -- cohorts -----------------------------------------------------------------------------------


def cohort_matrix(
    log: SparkSource,
    as_of: datetime,
    *,
    period: CohortPeriod = "month",
    max_periods: int | None = None,
    session: SparkSession | None = None,
    order: str | None = None,
) -> CohortMatrix:
    """[`cohort_matrix()`][crmcore.analytics.cohorts.cohort_matrix] on Spark: the same matrix.

    Counts and revenue are exact (spend is summed in units of 1/10,000 as
    integers). Only the non-empty cells leave the engine.
    """
    with SparkRunner(session, "cohort_matrix", log) as runner:
        sql, options, data = cohort_query(runner, log, as_of, period, max_periods, order)
        return cohort_table(runner.fetch(sql), options, data)


# -- BTYD summary and CLV ----------------------------------------------------------------------


def summary_from_transactions(
    log: SparkSource,
    as_of: datetime,
    period: SummaryPeriod = "D",
    *,
    time_unit: SummaryPeriod | None = None,
    holdout_end: datetime | None = None,
    session: SparkSession | None = None,
    order: str | None = None,
) -> BtydSummary:
    """[`summary_from_transactions()`][crmcore.analytics.btyd.summary_from_transactions] on
    Spark.

    Frequencies, recencies, ``T`` and holdout counts are exact; ``monetary``
    is a sum of doubles in Spark's order (numpy's within 1e-9 relative).
    """
    with SparkRunner(session, "summary_from_transactions", log) as runner:
        sql, options, data = summary_query(
            runner, log, as_of, period, time_unit, holdout_end, order
        )
        return btyd_summary(runner.fetch(sql), options, data)


def summary_dataframe(
    log: SparkSource,
    as_of: datetime,
    period: SummaryPeriod = "D",
    *,
    time_unit: SummaryPeriod | None = None,
    holdout_end: datetime | None = None,
    session: SparkSession | None = None,
    order: str | None = None,
) -> DataFrame:
    """The rows of [`summary_from_transactions()`][crmcore.engines.spark.summary_from_transactions]
    as a lazy DataFrame: ``customer_id, frequency, recency, T, monetary`` (then the holdout columns,
    ``return_count`` and ``return_value``),
    the input of [`fit_clv_models()`][crmcore.engines.spark.fit_clv_models] and
    [`customer_lifetime_value()`][crmcore.engines.spark.customer_lifetime_value]."""
    runner = SparkRunner(session, "summary_dataframe", log)
    sql, _, _ = summary_query(runner, log, as_of, period, time_unit, holdout_end, order)
    return runner.lazy(sql)


def fit_clv_models(
    summary: SparkSource,
    time_unit: SummaryPeriod = "D",
    *,
    session: SparkSession | None = None,
) -> tuple[BgNbdModel, GammaGammaModel]:
    """Fit BG/NBD and Gamma-Gamma on an engine summary (from
    [`summary_dataframe()`][crmcore.engines.spark.summary_dataframe]), grouped on Spark.

    ``time_unit`` is the summary's. Only the distinct rows and their counts
    leave the engine, and the fits are those of
    [`fit_bgnbd()`][crmcore.analytics.bgnbd.fit_bgnbd] and
    [`fit_gamma_gamma()`][crmcore.analytics.gamma_gamma.fit_gamma_gamma] on the full summary.
    """
    with SparkRunner(session, "fit_clv_models", summary) as runner:
        return fit_models(runner, runner.raw(summary, None, "summary"), str(time_unit))


def clv_dataframe(
    purchases: BgNbdModel,
    spend: GammaGammaModel | float,
    summary: SparkSource,
    *,
    months: int = 12,
    discount_rate: float = 0.01,
    month: MonthRule = "30-day",
    as_of: datetime | None = None,
    session: SparkSession | None = None,
) -> DataFrame:
    """The summary's rows with ``clv``, ``expected_purchases``, ``probability_alive`` and
    ``expected_spend`` added, scored on the executors.

    ``mapInArrow`` runs [`customer_lifetime_value()`][crmcore.analytics.clv.customer_lifetime_value]
    on each Arrow batch, so the numbers are numpy's. The arguments are those of
    [`customer_lifetime_value()`][crmcore.engines.spark.customer_lifetime_value].
    """
    template = clv_template(purchases, spend, months, discount_rate, month, as_of)
    return _scored(template, purchases, spend, summary, session, "clv_dataframe")


def _scored(
    template: PredictedClv,
    purchases: BgNbdModel,
    spend: GammaGammaModel | float,
    summary: SparkSource,
    session: SparkSession | None,
    feature: str,
) -> DataFrame:
    runner = SparkRunner(session, feature, summary)
    view = runner.raw(summary, None, "summary")
    check_summary(runner, view)
    frame = runner.lazy(f"SELECT * FROM {view} ORDER BY crm_row").drop("crm_row")
    types = import_pyspark(feature).types
    schema = types.StructType(
        [*frame.schema.fields, *(types.StructField(n, types.DoubleType()) for n in SCORES)]
    )
    arrow = import_pyarrow(feature)

    def score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            values = [
                np.asarray(batch.column(c).to_numpy(zero_copy_only=False), dtype=np.float64)
                for c in ("frequency", "recency", "T", "monetary")
            ]
            arrays = score_arrays(template, purchases, spend, *values)
            for name, array in zip(SCORES, arrays, strict=True):
                batch = batch.append_column(name, arrow.array(array))
            yield batch

    with warnings.catch_warnings():  # pyspark frowns on pandas 3 here, though no pandas is used
        warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)
        return frame.mapInArrow(score, schema)


def customer_lifetime_value(
    purchases: BgNbdModel,
    spend: GammaGammaModel | float,
    summary: SparkSource,
    *,
    months: int = 12,
    discount_rate: float = 0.01,
    month: MonthRule = "30-day",
    as_of: datetime | None = None,
    session: SparkSession | None = None,
) -> PredictedClv:
    """[`customer_lifetime_value()`][crmcore.analytics.clv.customer_lifetime_value] of every
    customer of an engine summary (with ``customer_id``), scored on Spark.

    ``spend`` is a Gamma-Gamma model or one expected spend for everyone. The
    summary is taken to be in the purchase model's time unit; ``as_of`` is
    the summary's (needed for ``month="calendar"``, and reported).
    """
    template = clv_template(purchases, spend, months, discount_rate, month, as_of)
    frame = _scored(template, purchases, spend, summary, session, "customer_lifetime_value")
    table = frame.select("customer_id", *SCORES).toArrow()
    return predicted_clv(table, template)


# -- lifecycle -----------------------------------------------------------------------------------


def classify_log(
    log: SparkSource,
    as_of: datetime,
    *,
    policy: LifecyclePolicy = DEFAULT_POLICY,
    customers: CustomerFrame | Sequence[str] | None = None,
    session: SparkSession | None = None,
    order: str | None = None,
) -> BatchClassification:
    """[`classify_log()`][crmcore.lifecycle.policy_batch.classify_log] on Spark: the same
    states, reasons, risk scores and facts, bit for bit."""
    with SparkRunner(session, "classify_log", log) as runner:
        sql, options = lifecycle_query(runner, log, as_of, policy, customers, order)
        return lifecycle_classification(runner.fetch(sql), options)


def lifecycle_dataframe(
    log: SparkSource,
    as_of: datetime,
    *,
    policy: LifecyclePolicy = DEFAULT_POLICY,
    customers: CustomerFrame | Sequence[str] | None = None,
    session: SparkSession | None = None,
    order: str | None = None,
) -> DataFrame:
    """The rows of [`classify_log()`][crmcore.engines.spark.classify_log] as a lazy DataFrame
    (``states`` are [`LifecycleState.code`][crmcore.lifecycle.states.LifecycleState.code]
    values, times microseconds since the epoch)."""
    runner = SparkRunner(session, "lifecycle_dataframe", log)
    sql, _ = lifecycle_query(runner, log, as_of, policy, customers, order)
    return runner.lazy(sql)


# -- funnels -------------------------------------------------------------------------------------


def funnel_report(
    log: SparkSource,
    steps: Sequence[FunnelStep],
    *,
    window: timedelta | None = DEFAULT_WINDOW,
    mode: FunnelMode = "ordered",
    exclusions: Sequence[Exclusion] = (),
    counting: FunnelCounting = "trials",
    allow_unseen_kinds: bool = False,
    session: SparkSession | None = None,
    order: str | None = None,
) -> FunnelReport:
    """[`funnel_report()`][crmcore.funnel.analytics.funnel_report] on Spark: the same report.

    Both ways of counting (``"trials"``, Mixpanel's; ``"max_step"``,
    ClickHouse ``windowFunnel`` and PostHog's), every mode and exclusions.
    Step counts are exact; times to convert equal numpy's within 1e-9.
    """
    with SparkRunner(session, "funnel_report", log) as runner:
        ev, outcomes, funnel = funnel_query(
            runner, log, steps, window, mode, exclusions, counting, allow_unseen_kinds, order
        )
        return funnel_report_of(runner, ev, funnel, outcomes)


def funnel_dataframe(
    log: SparkSource,
    steps: Sequence[FunnelStep],
    *,
    window: timedelta | None = DEFAULT_WINDOW,
    mode: FunnelMode = "ordered",
    exclusions: Sequence[Exclusion] = (),
    counting: FunnelCounting = "trials",
    allow_unseen_kinds: bool = False,
    session: SparkSession | None = None,
    order: str | None = None,
) -> DataFrame:
    """Who reached what, as a lazy DataFrame: one row per customer with an attempt.

    Columns ``customer_id``, ``reached`` (0: every attempt was excluded),
    ``excluded``, ``t0`` (the chosen attempt's start) and ``t1`` ... (the
    instant of each later step reached, else NULL), times in microseconds
    since the epoch: the rows of [`funnel_customers()`][crmcore.funnel.analytics.funnel_customers].
    """
    runner = SparkRunner(session, "funnel_dataframe", log)
    _, outcomes, _ = funnel_query(
        runner, log, steps, window, mode, exclusions, counting, allow_unseen_kinds, order
    )
    return runner.lazy(outcomes)


# -- segments ------------------------------------------------------------------------------------


def segment_members(
    rule: Predicate,
    as_of: datetime,
    *,
    customers: SparkSource,
    purchases: SparkSource | None = None,
    events: SparkSource | None = None,
    schema: RuleSchema | None = None,
    session: SparkSession | None = None,
) -> list[str]:
    """The ids of the customers matching ``rule`` at ``as_of``, in id order, computed by Spark.

    ``customers`` is a [`CustomerFrame`][crmcore.columnar.CustomerFrame], a DataFrame or Parquet
    files in the layout [`crmcore.columnar.arrow`][crmcore.columnar.arrow] writes (tag columns
    as lists of text, ``attr.<name>`` columns); ``purchases`` and ``events`` are the logs the
    aggregate fields read. The rule compiles with [`to_sql()`][crmcore.segments.sql.to_sql],
    every value a parameter, and means exactly what
    [`matches()`][crmcore.segments.evaluate.matches] means. ``schema`` defaults to the
    standard fields plus the ``attr.*`` columns found.
    """
    sources = (customers, purchases, events)
    with SparkRunner(session, "segment_members", *sources) as runner:
        sql, params = segment_sql(runner, rule, as_of, *sources, schema)
        return [str(row[0]) for row in runner.rows(sql, params)]


def segment_dataframe(
    rule: Predicate,
    as_of: datetime,
    *,
    customers: SparkSource,
    purchases: SparkSource | None = None,
    events: SparkSource | None = None,
    schema: RuleSchema | None = None,
    session: SparkSession | None = None,
) -> DataFrame:
    """The members of [`segment_members()`][crmcore.engines.spark.segment_members] as a lazy
    DataFrame of one column, ``id``."""
    sources = (customers, purchases, events)
    runner = SparkRunner(session, "segment_dataframe", *sources)
    sql, params = segment_sql(runner, rule, as_of, *sources, schema)
    return runner.lazy(sql, params)
