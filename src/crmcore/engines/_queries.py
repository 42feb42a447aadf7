"""Each analytic from its arguments to one SQL statement over a runner: checks, views, plan.

The DuckDB and Spark modules only open a runner, call one of these and
either fetch the statement (the report, as numpy's) or hand it back lazily.
Checks come in numpy's order: the options, then the columns, then the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from crmcore.columnar.occasions import DataUsed
from crmcore.engines._btyd_sql import BtydOptions, btyd_options, btyd_sql, check_btyd_data
from crmcore.engines._cohort_sql import (
    CohortOptions,
    check_cohort_data,
    cohort_options,
    cohort_sql,
)
from crmcore.engines._funnel_sql import funnel_plan
from crmcore.engines._lifecycle_sql import (
    LifecycleOptions,
    check_lifecycle_data,
    lifecycle_options,
    lifecycle_sql,
    population_table,
)
from crmcore.engines._occasions_sql import read_log
from crmcore.engines._rfm_sql import RfmOptions, check_rfm_data, rfm_options, rfm_program
from crmcore.engines._runner import Runner, events
from crmcore.engines._segments import segment_query
from crmcore.funnel._steps import Plan
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import instance_of
from crmcore.segments.rules import Predicate, RuleSchema

__all__ = [
    "EngineRunner",
    "cohort_query",
    "funnel_query",
    "lifecycle_query",
    "rfm_query",
    "segment_sql",
    "summary_query",
]


class EngineRunner(Runner, Protocol):
    """A runner that also turns inputs into raw views (both engines' runners are)."""

    def raw(self, source: object, order: str | None, what: str) -> str:
        """A view of ``source``'s columns plus ``crm_row``."""
        ...


def rfm_query(
    runner: EngineRunner,
    log: object,
    as_of: datetime,
    ties: object,
    bins: object,
    segments: object,
    monetary: object,
    spend: object,
    whole_days: object,
    order: str | None,
) -> tuple[str, RfmOptions, DataUsed]:
    """The RFM statement (see [`crmcore.engines._rfm_sql`][crmcore.engines._rfm_sql])."""
    options = rfm_options(as_of, ties, bins, segments, monetary, whole_days, spend)
    read = read_log(runner, runner.raw(log, order, "log"), log, options.as_us)
    totals, data = check_rfm_data(runner, read, options)
    return rfm_program(runner, totals, options), options, data


def cohort_query(
    runner: EngineRunner,
    log: object,
    as_of: datetime,
    period: object,
    max_periods: object,
    order: str | None,
) -> tuple[str, CohortOptions, DataUsed]:
    """The cohort statement (see [`crmcore.engines._cohort_sql`][crmcore.engines._cohort_sql])."""
    options = cohort_options(as_of, period, max_periods)
    read = read_log(runner, runner.raw(log, order, "log"), log, options.as_us)
    data = check_cohort_data(runner, read, options)
    return cohort_sql(runner.dialect, read, options), options, data


def summary_query(
    runner: EngineRunner,
    log: object,
    as_of: datetime,
    period: object,
    time_unit: object,
    holdout_end: object,
    order: str | None,
) -> tuple[str, BtydOptions, DataUsed]:
    """The BTYD summary statement (see [`crmcore.engines._btyd_sql`][crmcore.engines._btyd_sql])."""
    options = btyd_options(as_of, period, time_unit, holdout_end)
    read = read_log(runner, runner.raw(log, order, "log"), log, options.as_us, options.end_us)
    totals, data = check_btyd_data(runner, read, options)
    return btyd_sql(runner.dialect, read, totals, options), options, data


def lifecycle_query(
    runner: EngineRunner,
    log: object,
    as_of: datetime,
    policy: object,
    customers: object,
    order: str | None,
) -> tuple[str, LifecycleOptions]:
    """The classification statement (see
    [`crmcore.engines._lifecycle_sql`][crmcore.engines._lifecycle_sql])."""
    options = lifecycle_options(as_of, policy, customers)
    read = read_log(runner, runner.raw(log, order, "log"), log, options.as_us)
    check_lifecycle_data(runner, read, options)
    population = None
    if options.population is not None:
        population = runner.fresh("population")
        runner.arrow_view(population, population_table(options.population))
    return lifecycle_sql(runner.dialect, read, options, population), options


def funnel_query(
    runner: EngineRunner,
    log: object,
    steps: object,
    window: object,
    mode: object,
    exclusions: object,
    counting: object,
    allow_unseen_kinds: bool,
    order: str | None,
) -> tuple[str, str, Plan]:
    """The events view (rows with a customer), the outcomes statement and the funnel (see
    [`crmcore.engines._funnel_sql`][crmcore.engines._funnel_sql])."""
    ev = events(runner, runner.raw(log, order, "log"))
    funnel, customers, outcomes = funnel_plan(
        runner, ev, steps, window, mode, exclusions, counting, allow_unseen_kinds
    )
    return customers, outcomes, funnel


def segment_sql(
    runner: EngineRunner,
    rule: Predicate,
    as_of: datetime,
    customers: object,
    purchases: object | None,
    events_source: object | None,
    schema: RuleSchema | None,
) -> tuple[str, tuple[object, ...]]:
    """The segment's statement and parameters (see
    [`crmcore.engines._segments`][crmcore.engines._segments]).

    The arguments are checked before any source is read: ``rule`` a rule node, ``as_of`` an aware
    instant, ``schema`` a [`RuleSchema`][crmcore.segments.rules.RuleSchema] or ``None``, and
    ``customers`` given.
    """
    if not isinstance(rule, Predicate):
        raise ValidationError("rule", _shown(rule), "must be a rule (a crmcore.segments node)")
    to_utc(as_of, "as_of")
    if schema is not None:
        instance_of(schema, RuleSchema, "schema")
    if customers is None:
        raise ValidationError(
            "customers", None, "must be a CustomerFrame, a relation or Parquet files"
        )
    views: Sequence[str | None] = [
        None if source is None else runner.raw(source, None, what)
        for source, what in (
            (customers, "customers"),
            (purchases, "purchases"),
            (events_source, "events"),
        )
    ]
    assert views[0] is not None
    return segment_query(runner, rule, as_of, views[0], views[1], views[2], schema)


def _shown(value: object) -> object:
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."
