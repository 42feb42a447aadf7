"""Evaluating probabilities: AUC against every pair, Brier score, reliability and lift."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.kernel.errors import ValidationError
from crmcore.sales.model_evaluation import brier_score, evaluate, roc_auc

grid = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), grid), min_size=2, max_size=40))
def test_auc_is_the_share_of_correctly_ordered_pairs(rows: list[tuple[bool, float]]) -> None:
    won = np.array([w for w, _ in rows])
    p = np.array([q for _, q in rows])
    if won.all() or not won.any():
        with pytest.raises(ValidationError):
            roc_auc(won, p)
        assert evaluate(won, p).auc is None
        return
    pairs = [
        (a, b)
        for a, x in zip(p, won, strict=True)
        if x
        for b, y in zip(p, won, strict=True)
        if not y
    ]
    expected = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in pairs) / len(pairs)
    assert roc_auc(won, p) == pytest.approx(expected, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.floats(0, 1)), min_size=1, max_size=60))
def test_the_report_adds_up(rows: list[tuple[bool, float]]) -> None:
    won = np.array([w for w, _ in rows])
    p = np.array([q for _, q in rows])
    report = evaluate(won, p)
    assert sum(b.count for b in report.reliability) == len(rows)
    assert sum(r.count for r in report.lift) == len(rows)
    assert sum(r.positives for r in report.lift) == int(won.sum())
    assert report.brier == pytest.approx(brier_score(won, p))
    counts = [r.count for r in report.lift]
    assert max(counts) - min(counts) <= 1
    if won.any():
        assert report.lift[-1].cumulative_capture == pytest.approx(1.0)
    json.dumps(report.to_dict())


def test_a_perfect_and_a_useless_model() -> None:
    won = np.array([True] * 10 + [False] * 90)
    perfect = evaluate(won, won.astype(float))
    assert perfect.auc == 1.0 and perfect.brier == 0.0
    assert perfect.lift[0].lift == pytest.approx(10.0) and perfect.lift[0].cumulative_capture == 1.0
    flat = evaluate(won, np.full(100, 0.1))
    assert flat.auc == 0.5 and flat.brier == pytest.approx(0.09)
    calibrated = next(b for b in flat.reliability if b.count)
    assert calibrated.mean_predicted == pytest.approx(0.1) and calibrated.observed_rate == 0.1
    assert "Lift by decile" in flat._repr_html_() and len(flat.to_pandas()) == 10


def test_bad_input() -> None:
    with pytest.raises(ValidationError):
        roc_auc(np.array([1, 0]), np.array([0.5, 0.5]))
    with pytest.raises(ValidationError):
        roc_auc(np.array([True, False]), np.array([0.5]))
    with pytest.raises(ValidationError):
        evaluate(np.array([True, False]), np.array([0.5, 1.5]))
    with pytest.raises(ValidationError):
        evaluate(np.array([], dtype=bool), np.array([]))
    with pytest.raises(ValidationError):
        evaluate(np.array([True, False]), np.array([0.5, 0.5]), bins=1)
