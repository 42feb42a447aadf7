"""RFM inside DuckDB and Spark equals ``rfm_scores`` exactly: values, scores, ties, segments."""

from __future__ import annotations

import re
from datetime import timedelta
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.analytics.rfm import rfm_scores
from crmcore.analytics.rfm_segments import PYMC_MARKETING_SEGMENTS, RFM_SEGMENTS
from crmcore.engines import duckdb as duck
from crmcore.kernel.errors import CrmError
from tests.engines.strategies import (
    AS_OF,
    assert_same_arrays,
    engine_source,
    log_of,
    transaction_rows,
)

FIELDS = ("customer_ids", "recency_days", "frequency", "monetary", "revenue", "r", "f", "m",
          "segment_codes")  # fmt: skip
OPTIONS = st.fixed_dictionaries(
    {
        "ties": st.sampled_from(["first", "average", "dense"]),
        "monetary": st.sampled_from(["sum", "mean"]),
        "whole_days": st.booleans(),
        "segments": st.sampled_from([RFM_SEGMENTS, PYMC_MARKETING_SEGMENTS]),
        "spend": st.sampled_from(["net", "gross"]),
    }
)


def _check(
    engine: ModuleType, rows: list[dict[str, object]], options: dict[str, object], raw: bool = False
) -> None:
    log = log_of(rows)
    source, extra = engine_source(engine, rows, raw)
    options = {**options, "bins": options["segments"].bins}  # type: ignore[attr-defined]
    failure: CrmError | None = None
    try:
        expected = rfm_scores(log, AS_OF, **options)  # type: ignore[arg-type]
    except CrmError as error:
        failure = error
    if failure is not None:
        with pytest.raises(type(failure), match=re.escape(str(failure))):
            engine.rfm_scores(source, AS_OF, **options, **extra)
        return
    got = engine.rfm_scores(source, AS_OF, **options, **extra)
    assert_same_arrays(expected, got, FIELDS)
    assert (got.as_of, got.ties, got.bins, got.segment_map) == (
        expected.as_of, expected.ties, expected.bins, expected.segment_map,
    )  # fmt: skip
    assert got.to_dict() == expected.to_dict()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transaction_rows(), OPTIONS, st.booleans())
def test_duckdb_equals_numpy(
    rows: list[dict[str, object]], options: dict[str, object], raw: bool
) -> None:
    _check(duck, rows, options, raw)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transaction_rows(max_rows=60), OPTIONS, st.booleans())
def test_spark_equals_numpy(
    spark: ModuleType, rows: list[dict[str, object]], options: dict[str, object], raw: bool
) -> None:
    _check(spark, rows, options, raw)


def test_many_ties_and_one_customer(engine: ModuleType) -> None:
    rows = [{"customer_id": f"c{i % 7}", "at": AS_OF - timedelta(days=i % 3), "amount": 10.0}
            for i in range(40)]  # fmt: skip
    for ties in ("first", "average", "dense") if engine is duck else ("first", "average"):
        _check(engine, rows, {"ties": ties, "monetary": "sum", "whole_days": True,
                              "segments": RFM_SEGMENTS, "spend": "net"})  # fmt: skip
    _check(engine, rows[:1], {"ties": "average", "monetary": "mean", "whole_days": False,
                              "segments": RFM_SEGMENTS, "spend": "gross"})  # fmt: skip


def test_the_relation_holds_the_rows_in_table_order(tmp_path: object) -> None:
    data = [("b", 3, 5.0), ("a", 1, 7.5), ("b", 40, 1.0), ("z", 9, 2.0)]
    rows = [{"customer_id": c, "at": AS_OF - timedelta(days=d), "amount": a} for c, d, a in data]
    relation = duck.rfm_relation(log_of(rows), AS_OF)
    assert relation.columns == ["customer_id", "recency_days", "frequency", "monetary", "revenue",
                                "r", "f", "m", "segment_code"]  # fmt: skip
    assert [row[0] for row in relation.fetchall()] == ["b", "a", "z"]


def test_spark_spreads_the_ranking_of_many_customers(
    spark: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond a size, Spark ranks over range partitions, not one: the same scores."""
    from crmcore.engines import _rfm_sql

    monkeypatch.setattr(_rfm_sql, "SPARK_ONE_PARTITION_RANKS", 0)
    rows = [
        {"customer_id": f"c{i % 37}", "at": AS_OF - timedelta(days=(i * 7) % 90), "amount": i % 5}
        for i in range(300)
    ]
    for ties in ("average", "dense"):
        _check(spark, rows, {"ties": ties, "monetary": "sum", "whole_days": True,
                             "segments": RFM_SEGMENTS, "spend": "net"})  # fmt: skip
