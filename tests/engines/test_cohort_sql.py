"""Cohort matrices inside DuckDB and Spark equal ``cohort_matrix``, cell for cell."""

from __future__ import annotations

import re
from datetime import timedelta
from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.analytics.cohorts import CohortMatrix, cohort_matrix
from crmcore.engines import duckdb as duck
from crmcore.kernel.errors import CrmError
from tests.engines.strategies import AS_OF, T0, engine_source, log_of, transaction_rows

OPTIONS = st.fixed_dictionaries(
    {
        "period": st.sampled_from(["month", "week"]),
        "max_periods": st.sampled_from([None, 1, 3, 12]),
    }
)


def _same(a: CohortMatrix, b: CohortMatrix) -> None:
    assert (a.as_of, a.period, a.labels, a.starts) == (b.as_of, b.period, b.labels, b.starts)
    for name in ("sizes", "active", "revenue", "observed"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    assert a.to_dict() == b.to_dict()


def _check(
    engine: ModuleType, rows: list[dict[str, object]], options: dict[str, object], raw: bool = False
) -> None:
    log = log_of(rows)
    source, extra = engine_source(engine, rows, raw)
    failure: CrmError | None = None
    try:
        expected = cohort_matrix(log, AS_OF, **options)  # type: ignore[arg-type]
    except CrmError as error:
        failure = error
    if failure is not None:
        with pytest.raises(type(failure), match=re.escape(str(failure))):
            engine.cohort_matrix(source, AS_OF, **options, **extra)
        return
    _same(expected, engine.cohort_matrix(source, AS_OF, **options, **extra))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transaction_rows(), OPTIONS, st.booleans())
def test_duckdb_equals_numpy(
    rows: list[dict[str, object]], options: dict[str, object], raw: bool
) -> None:
    _check(duck, rows, options, raw)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transaction_rows(max_rows=80), OPTIONS, st.booleans())
def test_spark_equals_numpy(
    spark: ModuleType, rows: list[dict[str, object]], options: dict[str, object], raw: bool
) -> None:
    _check(spark, rows, options, raw)


def test_purchases_before_1970_and_at_period_edges(engine: ModuleType) -> None:
    """Negative times floor (not truncate) into their day, week and month."""
    edges = [T0.replace(year=1969, month=12, day=31, hour=23, minute=59), T0.replace(year=1970),
             T0.replace(year=1968, month=2, day=29), T0 - timedelta(microseconds=1)]  # fmt: skip
    rows = [{"customer_id": f"c{i % 3}", "at": at, "amount": 1.0} for i, at in enumerate(edges)]
    for period in ("month", "week"):
        _check(engine, rows, {"period": period, "max_periods": 4})
