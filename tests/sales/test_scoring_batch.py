"""Batch scoring against the per-object path: identical scores, to the last bit."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from hypothesis import given, settings

from crmcore.columnar import CustomerFrame, EventLog
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.sales.scoring import LeadScoring
from crmcore.sales.scoring_batch import EngagementIndex, score_frame
from crmcore.sales.scoring_rules import Decay, EngagementRule, FitRule, Threshold

from .scoring_strategies import AS_OF, ATTRIBUTES, leads_and_events, record, scorings


def frame_and_log(
    leads: list[dict[str, object]], events: list[dict[str, object]]
) -> tuple[CustomerFrame, EventLog]:
    return CustomerFrame.from_records(leads), EventLog.from_records(events)


@settings(max_examples=250, deadline=None)
@given(scorings(), leads_and_events())
def test_batch_scores_equal_per_object_scores_exactly(scoring, data) -> None:  # type: ignore[no-untyped-def]
    leads, events = data
    frame, log = frame_and_log(leads, events)
    table = score_frame(scoring, frame, AS_OF, events=log)
    shuffled = list(events)
    random.Random(len(events)).shuffle(shuffled)  # the per-object path takes any order
    for row, lead in zip(frame.to_records(), leads, strict=True):
        one = scoring.score(row, AS_OF, events=shuffled)
        assert table.score_of(str(lead["id"])) == one
    assert table.band.tolist() == [scoring.bands.code_of(t) for t in table.total.tolist()]


def test_a_prebuilt_index_gives_the_same_table_at_several_dates() -> None:
    leads = [record(f"l-{i}", "DE", "software", 10 * i, True, i) for i in range(4)]
    events = [
        {
            "customer_id": f"l-{i % 4}",
            "at": AS_OF - i * np.timedelta64(1, "D").item(),
            "kind": "view",
        }
        for i in range(12)
    ]
    frame, log = frame_and_log(leads, events)
    scoring = LeadScoring(
        fit=[FitRule("big", "attr.employees >= 20", 10)],
        engagement=[EngagementRule(name="v", kinds="view", points=3, decay=Decay(2))],
        attributes=ATTRIBUTES,
    )
    index = EngagementIndex.build(frame, log)
    for days in (0, 3, 30):
        at = AS_OF + days * np.timedelta64(1, "D").item()
        with_index = score_frame(scoring, frame, at, index=index)
        without = score_frame(scoring, frame, at, events=log)
        assert with_index.total.tolist() == without.total.tolist()


def test_columns_no_lead_has_are_missing_not_an_error() -> None:
    leads = [record("l-1", "DE", None, None, True, 1)]
    frame = CustomerFrame.from_records(
        [{k: v for k, v in leads[0].items() if k != "attr.employees"}]
    )
    scoring = LeadScoring(
        fit=[
            FitRule("big", "attr.employees >= 20", 10),
            FitRule("sw", 'attr.industry = "software"', 5),
        ],
        attributes=ATTRIBUTES,
    )
    table = score_frame(scoring, frame, AS_OF)
    assert table.total.tolist() == [0.0] == [scoring.score(leads[0], AS_OF).total]


def test_the_table_as_a_report() -> None:
    leads = [record(f"l-{i}", ["DE", "FR"][i % 2], "software", 100, True, 1) for i in range(6)]
    frame = CustomerFrame.from_records(leads)
    scoring = LeadScoring(
        name="demo",
        fit=[FitRule("de", 'country = "DE"', 50), FitRule("sw", 'attr.industry = "software"', 20)],
        attributes=ATTRIBUTES,
        mql=Threshold(60),
    )
    table = score_frame(scoring, frame, AS_OF)
    assert table.band_counts() == {"A": 0, "B": 3, "C": 0, "D": 3}
    assert int(table.mql.sum()) == 3 and table.top(2)[0].lead_id == "l-0"
    summary = table.to_dict()
    json.dumps(summary)
    assert summary["leads"] == 6 and summary["rules"][0] == {  # type: ignore[index]
        "rule": "de",
        "leads": 3,
        "mean_points": 25.0,
    }
    df = table.to_pandas()
    assert list(df["points.de"]) == [50.0, 0.0] * 3 and list(df["band"])[:2] == ["B", "D"]
    assert "demo" in table._repr_html_()
    with pytest.raises(NotFoundError):
        table.score_of("nobody")


def test_bad_input() -> None:
    frame = CustomerFrame.from_records([record("l-1", "DE", None, None, True, 1)])
    engaged = LeadScoring(engagement=[EngagementRule(name="v", kinds="view", points=1)])
    with pytest.raises(ValidationError) as error:
        score_frame(engaged, frame, AS_OF)
    assert error.value.field == "events"
    with pytest.raises(ValidationError):
        score_frame(engaged, frame, AS_OF.replace(tzinfo=None))
    with pytest.raises(ValidationError):
        score_frame("scoring", frame, AS_OF)  # type: ignore[arg-type]
    other = CustomerFrame.from_records(
        [record("l-1", "DE", None, None, True, 1), record("l-2", "DE", None, None, True, 1)]
    )
    log = EventLog.from_records([{"customer_id": "l-1", "at": AS_OF, "kind": "view"}])
    with pytest.raises(ValidationError) as index:
        score_frame(engaged, frame, AS_OF, index=EngagementIndex.build(other, log))
    assert index.value.field == "index"
    with pytest.raises(ValidationError):
        EngagementIndex.from_arrays(n=1, rows=[0], at=[0], kind_codes=[0], kinds=["b", "a"])
