"""The BTYD summary inside DuckDB and Spark equals ``summary_from_transactions``; CLV at scale."""

from __future__ import annotations

import re
from datetime import timedelta
from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.analytics.bgnbd import BgNbdModel, fit_bgnbd
from crmcore.analytics.btyd import summary_from_transactions
from crmcore.analytics.clv import customer_lifetime_value
from crmcore.analytics.gamma_gamma import GammaGammaModel, fit_gamma_gamma
from crmcore.columnar import TransactionLog
from crmcore.datasets import generate
from crmcore.engines import duckdb as duck
from crmcore.kernel.errors import CrmError, ModelFitError, ValidationError
from tests.engines.strategies import (
    AS_OF,
    assert_same_arrays,
    engine_source,
    log_of,
    merged,
    transaction_rows,
)

OPTIONS = st.sampled_from(
    [("D", None), ("D", "W"), ("W", None), ("M", None), ("h", "D"), ("M", "M")]
).flatmap(
    lambda pair: st.fixed_dictionaries(
        {
            "period": st.just(pair[0]),
            "time_unit": st.just(pair[1]),
            "holdout_end": st.sampled_from([None, AS_OF + timedelta(days=100)]),
        }
    )
)
EXACT = ("customer_ids", "frequency", "recency", "T", "return_count", "return_value")


def _check(
    engine: ModuleType, rows: list[dict[str, object]], options: dict[str, object], raw: bool = False
) -> None:
    log = log_of(rows)
    source, extra = engine_source(engine, rows, raw)
    failure: CrmError | None = None
    try:
        expected = summary_from_transactions(log, AS_OF, **options)  # type: ignore[arg-type]
    except CrmError as error:
        failure = error
    if failure is not None:
        with pytest.raises(type(failure), match=re.escape(str(failure))):
            engine.summary_from_transactions(source, AS_OF, **options, **extra)
        return
    got = engine.summary_from_transactions(source, AS_OF, **options, **extra)
    holdout = () if options["holdout_end"] is None else ("holdout_frequency",)
    assert_same_arrays(expected, got, EXACT + holdout, ("monetary",))
    if holdout:
        assert_same_arrays(expected, got, (), ("holdout_monetary",))
        assert got.holdout_duration == expected.holdout_duration
    assert (got.time_unit, got.period, got.as_of, got.data) == (
        expected.time_unit, expected.period, expected.as_of, expected.data,
    )  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transaction_rows(), OPTIONS, st.booleans())
def test_duckdb_equals_numpy(
    rows: list[dict[str, object]], options: dict[str, object], raw: bool
) -> None:
    _check(duck, rows, options, raw)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(transaction_rows(), min_size=1, max_size=8), OPTIONS, st.booleans())
def test_spark_equals_numpy(
    spark: ModuleType,
    scenarios: list[list[dict[str, object]]],
    options: dict[str, object],
    raw: bool,
) -> None:
    _check(spark, merged(scenarios), options, raw)


def test_a_holdout_in_the_same_period_is_refused_as_by_numpy(engine: ModuleType) -> None:
    rows = [{"customer_id": "a", "at": AS_OF - timedelta(days=3), "amount": 1.0}]
    with pytest.raises(ValidationError) as caught:
        engine.summary_from_transactions(log_of(rows), AS_OF, "M",
                                         holdout_end=AS_OF + timedelta(hours=1))  # fmt: skip
    assert caught.value.field == "holdout_end"


@pytest.fixture(scope="module")
def cdnow_like() -> TransactionLog:
    data = generate(1500, seed=11)
    return TransactionLog.from_purchases(data.purchases)


def test_clv_at_scale_equals_numpy(engine: ModuleType, cdnow_like: TransactionLog) -> None:
    as_of = cdnow_like.at.max().astype("datetime64[us]").item().replace(tzinfo=AS_OF.tzinfo)
    summary = summary_from_transactions(cdnow_like, as_of, "D", time_unit="W")
    purchases, spend = fit_bgnbd(summary), fit_gamma_gamma(summary)
    lazy = "summary_relation" if engine is duck else "summary_dataframe"
    in_engine = getattr(engine, lazy)(cdnow_like, as_of, "D", time_unit="W")
    fitted_purchases, fitted_spend = engine.fit_clv_models(in_engine, "W")
    assert fitted_purchases.params == purchases.params  # the same rows, the same fit
    for name, value in spend.params.items():
        assert fitted_spend.params[name] == pytest.approx(value, rel=1e-9)
    rules = ("30-day", "calendar") if engine is duck else ("calendar",)
    for month in rules:
        options = {"months": 6, "discount_rate": 0.02, "month": month}
        expected = customer_lifetime_value(purchases, spend, summary, **options)  # type: ignore[arg-type]
        got = engine.customer_lifetime_value(purchases, spend, in_engine, as_of=as_of, **options)
        assert np.array_equal(got.customer_ids, expected.customer_ids)
        for name in ("months", "discount_rate", "month", "time_unit", "as_of", "horizon_end",
                     "month_lengths", "purchase_model", "spend_model", "horizon"):  # fmt: skip
            assert getattr(got, name) == getattr(expected, name), name
        for name in ("clv", "expected_purchases", "probability_alive", "expected_spend"):
            np.testing.assert_allclose(getattr(got, name), getattr(expected, name), rtol=1e-9)
        assert expected.clv.sum() > 0


def test_clv_refuses_bad_models_before_running(engine: ModuleType) -> None:
    rows = [{"customer_id": "a", "at": AS_OF, "amount": 1.0}]
    lazy = "summary_relation" if engine is duck else "summary_dataframe"
    summary = getattr(engine, lazy)(log_of(rows), AS_OF)
    good = BgNbdModel(r=0.2, alpha=4.0, a=0.8, b=2.4, time_unit="D")
    spend = GammaGammaModel(p=6.0, q=3.7, v=15.0)
    with pytest.raises(ModelFitError):
        engine.customer_lifetime_value(good, GammaGammaModel(p=6.0, q=0.5, v=15.0), summary)
    for bad, field in (({"months": 0}, "months"), ({"month": "lunar"}, "month"),
                       ({"month": "calendar"}, "as_of"), ({"discount_rate": -1.0}, "discount_rate"),
                       ({"as_of": AS_OF.replace(tzinfo=None)}, "as_of")):  # fmt: skip
        with pytest.raises(ValidationError) as caught:
            engine.customer_lifetime_value(good, spend, summary, **bad)
        assert caught.value.field == field
    with pytest.raises(ValidationError) as caught:
        engine.customer_lifetime_value(good, [1.0], summary)
    assert caught.value.field == "spend"
    flat = engine.customer_lifetime_value(good, 25.0, summary, months=3)
    assert flat.expected_spend.tolist() == [25.0] and flat.spend_model == {"spend": 25.0}
