"""Lifecycle classification inside DuckDB and Spark equals ``classify_log``, bit for bit."""

from __future__ import annotations

import re
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.engines import duckdb as duck
from crmcore.kernel.errors import CrmError
from crmcore.lifecycle.policy import DEFAULT_POLICY, LifecyclePolicy
from crmcore.lifecycle.policy_batch import BatchClassification, classify_log
from tests.engines.strategies import (
    AS_OF,
    assert_same_arrays,
    engine_source,
    log_of,
    merged,
    transaction_rows,
)

FIELDS = tuple(name for name in BatchClassification.__slots__ if name not in ("as_of", "policy"))
POLICIES = st.sampled_from(
    [
        DEFAULT_POLICY,
        LifecyclePolicy(name="tight", window_days=30, new_days=20, churn_days=120,
                        gap_multiple=1.5, min_silence_days=0, decline_ratio=0.8,
                        growth_ratio=1.2, min_trend_purchases=1, mature_min_purchases=2),
    ]
)  # fmt: skip


def _check(
    engine: ModuleType,
    rows: list[dict[str, object]],
    policy: LifecyclePolicy,
    customers: list[str] | None,
    raw: bool = False,
) -> None:
    log = log_of(rows)
    source, extra = engine_source(engine, rows, raw)
    failure: CrmError | None = None
    try:
        expected = classify_log(log, AS_OF, policy=policy, customers=customers)
    except CrmError as error:
        failure = error
    if failure is not None:
        with pytest.raises(type(failure), match=re.escape(str(failure))):
            engine.classify_log(source, AS_OF, policy=policy, customers=customers, **extra)
        return
    got = engine.classify_log(source, AS_OF, policy=policy, customers=customers, **extra)
    assert_same_arrays(expected, got, FIELDS)
    assert got.to_dict() == expected.to_dict()


POPULATION = st.one_of(
    st.none(), st.lists(st.sampled_from(["c0", "c3", "c9", "zz", "c1"]), unique=True)
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transaction_rows(), POLICIES, POPULATION, st.booleans())
def test_duckdb_equals_numpy(
    rows: list[dict[str, object]],
    policy: LifecyclePolicy,
    customers: list[str] | None,
    raw: bool,
) -> None:
    _check(duck, rows, policy, customers, raw)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(transaction_rows(), min_size=1, max_size=10), POLICIES)
def test_spark_equals_numpy(
    spark: ModuleType, scenarios: list[list[dict[str, object]]], policy: LifecyclePolicy
) -> None:
    rows = merged(scenarios)
    _check(spark, rows, policy, None, raw=True)
    _check(spark, rows, policy, ["s0-c0", "nobody", "s0-c1"])


def test_mixed_currencies_of_one_customer_are_refused_by_name(engine: ModuleType) -> None:
    rows = [{"customer_id": c, "at": AS_OF, "amount": 1.0, "currency": k}
            for c, k in [("a", "EUR"), ("b", "USD"), ("b", "GBP")]]  # fmt: skip
    _check(engine, rows, DEFAULT_POLICY, None)
