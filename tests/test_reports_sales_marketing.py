"""The report objects of sales and marketing that gained ``to_pandas()`` in this round.

Each is built with the helpers of its own tests, so the data is the one those
tests already trust.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from crmcore.kernel.reports import REPORT_FONT
from crmcore.sales.predictive import NaiveBayesModel
from crmcore.sales.scoring import LeadScoring
from crmcore.sales.scoring_rules import Decay, EngagementRule, FitRule, Threshold
from tests.marketing.automation_helpers import T0
from tests.marketing.test_engine import entered, facts, run
from tests.sales.scoring_strategies import AS_OF, ATTRIBUTES, record
from tests.sales.test_predictive import FEATURES, synthetic


def test_an_automation_run_has_a_row_per_action_due() -> None:
    result = run(
        events=(entered("c-1", T0), entered("c-2", T0)), customers=[facts("c-1"), facts("c-2")]
    )
    frame = result.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == len(result.actions) == 2
    assert frame["kind"].tolist() == [a.kind for a in result.actions]
    assert REPORT_FONT in result._repr_html_() and "T00:" not in result._repr_html_()


def test_a_prediction_explanation_has_the_base_then_a_row_per_feature() -> None:
    data, won, _ = synthetic(1_000, 3)
    explained = NaiveBayesModel.fit(data, won, FEATURES).explain({"source": "tv", "size": "1-10"})
    frame = explained.to_pandas()
    assert frame["feature"].tolist() == ["(base)", *(c.feature for c in explained.contributions)]
    assert (
        frame["log_odds"].sum() == explained.log_odds
        or abs(frame["log_odds"].sum() - explained.log_odds) < 1e-12
    )


def test_a_lead_score_has_a_row_per_rule() -> None:
    scoring = LeadScoring(
        fit=[FitRule("dach", 'country in ("DE", "AT")', 10)],
        engagement=[
            EngagementRule(name="pricing", kinds="pricing", points=5, decay=Decay(7, "step"))
        ],
        attributes=ATTRIBUTES,
        mql=Threshold(10),
    )
    views = [
        {"customer_id": "l-1", "at": AS_OF - timedelta(days=d), "kind": "pricing"} for d in (0, 2)
    ]
    score = scoring.score(record("l-1", "DE", "retail", 5, True, 3), AS_OF, events=views)
    frame = score.to_pandas()
    assert frame["rule"].tolist() == ["dach", "pricing"]
    assert frame["points"].sum() == score.total == 20.0
    assert list(frame.columns) == ["rule", "dimension", "points", "matched", "events", "capped"]
