"""Differential: crmcore on an Online-Retail-shaped export equals the pandas recipe (and lifetimes).

The export has order lines, cancellations ``C…`` with negative quantities (some by
customers with no purchase in the file), guest rows and float ids; crmcore reads it
with one ``from_csv`` call and no glue.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from crmcore.analytics import cohort_matrix, fit_bgnbd, rfm_scores, summary_from_transactions
from crmcore.analytics.btyd import BtydSummary
from crmcore.columnar import TransactionLog
from tests.analytics import retail_recipe as recipe

pd = pytest.importorskip("pandas")

AS_OF = datetime(2011, 12, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recipe.retail_file(str(tmp_path_factory.mktemp("retail")))


@pytest.fixture(scope="module")
def log(path: Path) -> TransactionLog:
    return TransactionLog.from_csv(path, columns=recipe.COLUMNS, tz="UTC", extra="ignore")


def test_the_file_has_every_trap(path: Path, log: TransactionLog) -> None:
    raw = pd.read_csv(path, dtype={"InvoiceNo": str})
    assert raw["CustomerID"].isna().mean() > 0.15  # guests
    assert raw["InvoiceNo"].str.startswith("C").any()  # cancellations
    assert (
        str(raw["CustomerID"].dropna().iloc[0]).endswith(".0") or raw["CustomerID"].dtype == float
    )
    (guests,) = log.skipped
    assert guests.rows == int(raw["CustomerID"].isna().sum())
    assert not any(cid.endswith(".0") for cid in log.customer_ids.tolist())


def test_rfm_equals_the_recipe(path: Path, log: TransactionLog) -> None:
    ours = rfm_scores(log, AS_OF)
    ref = recipe.rfm(path, AS_OF)
    assert ours.customer_ids.tolist() == ref.index.tolist()
    assert ours.frequency.tolist() == ref["frequency"].tolist()
    np.testing.assert_array_equal(ours.monetary, ref["monetary"].to_numpy())
    np.testing.assert_allclose(ours.recency_days, ref["recency"].to_numpy(), rtol=0, atol=1e-9)
    for score in ("r", "f", "m"):
        assert getattr(ours, score).tolist() == ref[score].tolist()
    data = ours.data
    assert data is not None and data.returns > 0 and data.returns_without_purchase > 0


def test_cohorts_equal_the_recipe(path: Path, log: TransactionLog) -> None:
    ours = cohort_matrix(log, AS_OF)
    ref = recipe.cohorts(path)
    first = int(ours.starts[0].year * 12 + ours.starts[0].month - 1)
    got = {
        (first + c, k): int(ours.active[c, k])
        for c in range(ours.shape[0])
        for k in range(ours.shape[1])
        if ours.active[c, k]
    }
    assert got == {key: int(v) for key, v in ref.items()}


def test_btyd_summary_equals_the_recipe(path: Path, log: TransactionLog) -> None:
    ours = summary_from_transactions(log, AS_OF, "D")
    ref = recipe.btyd_daily(path, AS_OF).reindex(ours.customer_ids.tolist())
    assert ours.frequency.tolist() == ref["frequency"].tolist()
    np.testing.assert_array_equal(ours.recency, ref["recency"].to_numpy())
    np.testing.assert_array_equal(ours.T, ref["T"].to_numpy())
    np.testing.assert_allclose(ours.monetary, ref["monetary"].to_numpy(), rtol=1e-12)
    assert ours.return_count is not None and int(ours.return_count.sum()) > 0
    assert ours.return_value is not None and float(ours.return_value.sum()) < 0


def _recipe_weeks(path: Path) -> BtydSummary:
    ref = recipe.btyd_daily(path, AS_OF)
    return BtydSummary(
        customer_ids=ref.index.to_numpy(dtype=str),
        frequency=ref["frequency"].to_numpy(),
        recency=ref["recency"].to_numpy() / 7,
        T=ref["T"].to_numpy() / 7,
        monetary=ref["monetary"].to_numpy(),
        time_unit="W",
    )


def test_bgnbd_fit_equals_the_fit_on_the_recipe_summary(path: Path, log: TransactionLog) -> None:
    pytest.importorskip("scipy")
    ours = fit_bgnbd(summary_from_transactions(log, AS_OF, "D", time_unit="W"))
    theirs = fit_bgnbd(_recipe_weeks(path))
    for name, value in ours.params.items():
        assert value == pytest.approx(theirs.params[name], rel=1e-9)


def test_bgnbd_fit_matches_lifetimes_on_the_recipe_summary(path: Path, log: TransactionLog) -> None:
    pytest.importorskip("scipy")
    lifetimes = pytest.importorskip("lifetimes", reason="pip install lifetimes to compare")
    ours = fit_bgnbd(summary_from_transactions(log, AS_OF, "D", time_unit="W"))
    ref = _recipe_weeks(path)
    fitter = lifetimes.BetaGeoFitter().fit(
        ref.frequency.astype(float), np.asarray(ref.recency), np.asarray(ref.T)
    )
    for name, value in ours.params.items():
        assert value == pytest.approx(float(fitter.params_[name]), rel=1e-3)
