"""Predictive lead scoring: the fitted models recover a known generating model, and explain it."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.customers.contact import Contact
from crmcore.kernel.errors import ModelFitError, ValidationError
from crmcore.sales.lead_columns import LeadColumns, lead_frame
from crmcore.sales.leads import Lead
from crmcore.sales.model_evaluation import roc_auc
from crmcore.sales.predictive import (
    LogisticModel,
    NaiveBayesModel,
    conversion_outcomes,
    sigmoid,
)
from crmcore.sales.predictive_features import CategoricalFeature, NumericFeature, read_column

FEATURES = ["source", "industry", "size", "visits"]
EFFECTS = {
    "source": {"ads": -0.5, "event": 0.3, "organic": 0.0, "referral": 1.2, "webinar": 0.5},
    "industry": {"fintech": 0.6, "health": 0.2, "retail": -0.2, "software": 0.8, "student": -1.5},
    "size": {"1-10": -0.6, "11-50": 0.0, "51-200": 0.4, "200+": 0.9},
}


def synthetic(n: int, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Leads from a known logistic model: features, outcomes, and the true probabilities."""
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {
        name: rng.choice(sorted(levels), n) for name, levels in EFFECTS.items()
    }
    data["visits"] = rng.poisson(3, n).astype(float)
    data["visits"][rng.random(n) < 0.1] = np.nan  # some leads were never tracked
    logit = np.full(n, -2.0)
    for name, levels in EFFECTS.items():
        logit += np.array([levels[v] for v in data[name]])
    logit += 0.25 * np.nan_to_num(data["visits"], nan=1.0)
    truth = sigmoid(logit)
    return data, rng.random(n) < truth, truth


@pytest.mark.parametrize("model", [NaiveBayesModel, LogisticModel])
@pytest.mark.parametrize("seed", [1, 2])
def test_fitted_auc_reaches_95_percent_of_the_true_models(model: type, seed: int) -> None:
    train, won, _ = synthetic(20_000, seed)
    test, test_won, truth = synthetic(20_000, seed + 100)
    fitted = model.fit(train, won, FEATURES)
    ours, best = roc_auc(test_won, fitted.predict_proba(test)), roc_auc(test_won, truth)
    assert ours >= 0.95 * best, (ours, best)


def test_logistic_regression_recovers_the_effects() -> None:
    data, won, _ = synthetic(40_000, 3)
    model = LogisticModel.fit(data, won, FEATURES, l2=0.1)
    source = model.features[0]
    assert isinstance(source, CategoricalFeature)
    beta = dict(zip(source.labels, model.coefficients[0], strict=False))
    # differences between levels are identified (one-hot absorbs the level itself)
    assert beta["referral"] - beta["ads"] == pytest.approx(1.7, abs=0.15)
    visits = model.features[3]
    assert isinstance(visits, NumericFeature)
    assert model.coefficients[3][0] / visits.scale == pytest.approx(0.25, abs=0.03)
    assert 1 <= model.iterations < 20


def test_logistic_regression_minimises_the_penalised_loss() -> None:
    optimize = pytest.importorskip("scipy.optimize")
    data, won, _ = synthetic(3_000, 4)
    model = LogisticModel.fit(data, won, ["source", "visits"], l2=2.0)
    z = model.log_odds(data)
    beta = np.array([model.intercept, *model.coefficients[0], *model.coefficients[1]])
    source = model.features[0]
    x_source = np.eye(source.size)[source.codes(read_column(data, "source"))]  # type: ignore[union-attr]
    zs, missing = model.features[1].standardized(read_column(data, "visits"))  # type: ignore[union-attr]
    x = np.column_stack([np.ones(len(won)), x_source, zs, missing])
    assert np.allclose(x @ beta, z)

    def loss(b: np.ndarray) -> float:
        eta = x @ b
        return float(np.sum(np.logaddexp(0, eta) - won * eta) + 1.0 * np.dot(b[1:], b[1:]))

    best = optimize.minimize(loss, np.zeros_like(beta), method="BFGS").x
    assert loss(beta) <= loss(best) + 1e-6


def test_naive_bayes_is_the_odoo_formula() -> None:
    data = {"source": np.array(["a", "a", "b", "b", "b"])}
    won = np.array([True, False, True, True, False])
    model = NaiveBayesModel.fit(data, won, ["source"], alpha=1.0)
    # codes: "b" (3 rows) first, "a", "(other)", "(missing)": k = 4
    p_b_won, p_b_lost = (2 + 1) / (3 + 4), (1 + 1) / (2 + 4)
    expected = math.log(3 / 2) + math.log(p_b_won) - math.log(p_b_lost)
    assert model.explain({"source": "b"}).log_odds == pytest.approx(expected, rel=1e-12)
    assert model.predict_one({"source": "b"}) == pytest.approx(1 / (1 + math.exp(-expected)))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([NaiveBayesModel, LogisticModel]))
def test_one_lead_and_the_batch_agree_exactly(seed: int, model: type) -> None:
    data, won, _ = synthetic(300, seed)
    if won.all() or not won.any():
        return
    fitted = (
        model.fit(data, won, FEATURES, bins=4)
        if model is NaiveBayesModel
        else model.fit(data, won, FEATURES)
    )
    batch = fitted.predict_proba(data)
    for i in range(0, 300, 37):
        record = {name: data[name][i] for name in FEATURES}
        record["visits"] = None if math.isnan(record["visits"]) else float(record["visits"])
        explained = fitted.explain(record)
        assert explained.probability == float(batch[i])
        total = explained.base
        for part in explained.contributions:
            total += part.log_odds
        assert total == explained.log_odds


def test_unseen_and_missing_values_have_their_own_codes() -> None:
    data, won, _ = synthetic(2_000, 5)
    model = NaiveBayesModel.fit(data, won, FEATURES)
    explained = model.explain({"source": "tv", "industry": None, "size": "51-200"})
    values = [c.value for c in explained.contributions]
    assert values[:3] == ["(other)", "(missing)", "51-200"] and values[3] == "(missing)"
    assert 0 < explained.probability < 1
    assert [c.feature for c in explained.strongest(2)] != []
    assert "P(conversion)" in explained._repr_html_()


def test_models_learn_from_a_frame_of_leads() -> None:
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    leads = []
    for i in range(60):
        source = ["referral", "ads", "webinar"][i % 3]
        lead = Lead.create(
            f"l-{i}",
            t0,
            source=source,
            country=["DE", "FR"][i % 2],
            contact=Contact(email=f"l{i}@example.com"),
        ).value
        if i % 3 == 0 or i % 5 == 0:
            lead = (
                lead.qualify(t0)
                .value.mark_converted(
                    t0 + timedelta(days=1), customer_id=f"c-{i}", opportunity_id=f"o-{i}"
                )
                .value
            )
        elif i % 4:
            lead = lead.disqualify(t0, "no_need").value
        leads.append(lead)
    decided, won = conversion_outcomes(LeadColumns.from_leads(leads))
    frame = lead_frame(leads)
    assert decided.sum() < len(leads) and won.sum() > 0
    rows = np.flatnonzero(decided)
    model = LogisticModel.fit(frame.take(rows), won[rows], ["attr.source", "country"])
    p = model.predict_proba(frame)
    assert p[0] > p[1]  # a referral converts more than an ads lead
    assert model.predict_one({"attr.source": "referral", "country": "FR"}) == pytest.approx(
        float(p[3]), abs=0
    )


def test_fits_that_cannot_succeed() -> None:
    data = {"source": np.array(["a", "b"])}
    with pytest.raises(ModelFitError, match="both won and lost"):
        NaiveBayesModel.fit(data, np.array([True, True]), ["source"])
    with pytest.raises(ModelFitError, match="no rows"):
        LogisticModel.fit({"source": np.array([], dtype=str)}, np.array([], dtype=bool), ["source"])
    with pytest.raises(ValidationError) as error:
        NaiveBayesModel.fit(data, np.array([True]), ["source"])
    assert error.value.field == "won"
    with pytest.raises(ValidationError):
        NaiveBayesModel.fit(data, np.array([True, False]), ["nope"])
    with pytest.raises(ValidationError):
        NaiveBayesModel.fit(data, np.array([True, False]), ["source"], alpha=0)
    with pytest.raises(ValidationError):
        LogisticModel.fit(data, np.array([True, False]), ["source"], l2=-1)
    model = NaiveBayesModel.fit(data, np.array([True, False]), ["source"])
    with pytest.raises(ValidationError):
        model.predict_proba({"source": np.array([1.0, 2.0])})  # text at fit, numbers now
