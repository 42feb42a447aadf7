"""Churn early warning: a per-customer Python reference, reasons, inputs, reports, bad input."""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.analytics.churn import (
    DEFAULT_CHURN_WEIGHTS,
    ChurnReason,
    ChurnWeights,
    CustomerValues,
    churn_risk,
)
from crmcore.columnar import TransactionLog
from crmcore.journey import TouchpointScores
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.lifecycle import BatchClassification, LifecycleState, classify_log

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)
DAY = timedelta(days=1)
Record = tuple[str, datetime, float]
IDS = ["a", "b", "c", "d", "e"]


def make_log(records: list[Record]) -> TransactionLog:
    return TransactionLog.from_records(
        {"customer_id": c, "at": at, "amount": amount} for c, at, amount in records
    )


def reference(
    records: list[Record],
    p_alive: dict[str, float],
    states: dict[str, str],
    sat: list[tuple[str, datetime, int]],
    w: ChurnWeights,
) -> dict[str, tuple[float, float]]:
    """Customer by customer: (risk, coverage) by the rule in the module docstring."""
    kept = [r for r in records if r[1] <= AS_OF]
    times: dict[str, list[datetime]] = {}
    for c, at, _ in kept:
        times.setdefault(c, []).append(at)
    gaps = {
        c: (max(t) - min(t)) / (len(t) - 1)
        for c, t in times.items()
        if len(t) >= 2 and max(t) > min(t)
    }
    median = (
        timedelta(seconds=statistics.median(g.total_seconds() for g in gaps.values()))
        if gaps
        else None
    )
    out = {}
    for c, t in times.items():
        parts: list[tuple[float, float]] = []
        if c in p_alive:
            parts.append((w.p_alive, 1 - p_alive[c]))
        if c in states:
            parts.append((w.lifecycle, 1.0 if states[c] in ("decline", "churned") else 0.0))
        gap = gaps.get(c, median)
        if gap is not None:
            ratio = (AS_OF - max(t)) / gap
            parts.append((w.overdue, min(1.0, max(0.0, (ratio - 1) / 2))))
        recent = [s for cc, at, s in sat if cc == c and AS_OF - 90 * DAY < at <= AS_OF]
        earlier = [s for cc, at, s in sat if cc == c and at <= AS_OF - 90 * DAY]
        if recent and earlier:
            drop = (statistics.mean(earlier) - statistics.mean(recent)) / 2.0
            parts.append((w.satisfaction, min(1.0, max(0.0, drop))))
        parts = [(weight, value) for weight, value in parts if weight > 0]
        total = sum(weight for weight, _ in parts)
        risk = sum(weight * value for weight, value in parts) / total if total else 0.0
        out[c] = (risk, total / w.total)
    return out


records_strategy = st.lists(
    st.tuples(
        st.sampled_from(IDS),
        st.integers(-5, 400).map(lambda d: AS_OF - d * DAY),
        st.just(10.0),
    ),
    min_size=1,
    max_size=30,
)


@given(
    records=records_strategy,
    alive=st.dictionaries(st.sampled_from(IDS), st.floats(0, 1)),
    states=st.dictionaries(st.sampled_from(IDS), st.sampled_from(["mature", "decline", "churned"])),
    sat=st.lists(
        st.tuples(
            st.sampled_from(IDS),
            st.integers(0, 300).map(lambda d: AS_OF - d * DAY),
            st.integers(1, 5),
        ),
        max_size=20,
    ),
    weights=st.sampled_from([DEFAULT_CHURN_WEIGHTS, ChurnWeights(p_alive=0, satisfaction=1)]),
)
@settings(max_examples=80, deadline=None)
def test_vectorised_risk_equals_the_per_customer_reference(
    records: list[Record],
    alive: dict[str, float],
    states: dict[str, str],
    sat: list[tuple[str, datetime, int]],
    weights: ChurnWeights,
) -> None:
    log = make_log(records)
    if all(at > AS_OF for _, at, _ in records):
        return
    base = classify_log(log, AS_OF, customers=IDS)
    arrays = {
        name: getattr(base, name) for name in base.__slots__ if name not in ("as_of", "policy")
    }
    # The classifier's result with states of our choosing (the rule only reads the states).
    arrays["states"] = np.array(
        [LifecycleState(states.get(c, "mature")).code for c in IDS], np.int8
    )
    lifecycle = BatchClassification(base.as_of, base.policy, **arrays)
    scores = TouchpointScores.from_arrays(
        [s[0] for s in sat],
        ["web"] * len(sat),
        ["survey"] * len(sat),
        [s[2] for s in sat],
        scale="csat",
        at=[s[1] for s in sat],
    )
    result = churn_risk(
        log,
        AS_OF,
        p_alive=CustomerValues.from_mapping(alive),
        lifecycle=lifecycle,
        satisfaction=scores,
        weights=weights,
    )
    expected = reference(records, alive, {c: states.get(c, "mature") for c in IDS}, sat, weights)
    assert sorted(result.customer_ids.tolist()) == sorted(expected)
    for i, c in enumerate(result.customer_ids.tolist()):
        risk, coverage = expected[c]
        assert result.risk[i] == pytest.approx(risk, abs=1e-12)
        assert result.coverage[i] == pytest.approx(coverage, abs=1e-12)
    assert ((result.risk >= 0) & (result.risk <= 1)).all()


def test_reasons_and_at_risk_list() -> None:
    monthly = [("steady", AS_OF - (5 + 30 * k) * DAY, 20.0) for k in range(6)]
    lapsed = [("lapsed", AS_OF - (200 + 30 * k) * DAY, 50.0) for k in range(6)]
    log = make_log(monthly + lapsed + [("once", AS_OF - 10 * DAY, 5.0)])
    lifecycle = classify_log(log, AS_OF)
    alive = CustomerValues(["steady", "lapsed"], [0.95, 0.1])
    result = churn_risk(log, AS_OF, p_alive=alive, lifecycle=lifecycle)
    assert result.customer_ids.tolist() == ["steady", "lapsed", "once"]
    assert result.expected_gap_days.tolist() == [30.0, 30.0, 30.0]  # 'once': the median gap
    steady, lapsed_reasons = result.reasons_of("steady"), result.reasons_of("lapsed")
    assert steady == ()
    assert ChurnReason.LOW_P_ALIVE in lapsed_reasons and ChurnReason.OVERDUE in lapsed_reasons
    assert lifecycle.state_of("lapsed") in (LifecycleState.DECLINE, LifecycleState.CHURNED)
    assert {ChurnReason.LIFECYCLE_DECLINE, ChurnReason.LIFECYCLE_CHURNED} & set(lapsed_reasons)
    assert result.risk[1] == pytest.approx(
        (0.35 * 0.9 + 0.25 * 1.0 + 0.25 * 1.0) / (0.35 + 0.25 + 0.25)
    )
    assert result.coverage[1] == pytest.approx(0.85)
    assert result.coverage[2] == pytest.approx(0.5)  # no P(alive), no scores
    at_risk = result.at_risk()
    assert [r["customer_id"] for r in at_risk] == ["lapsed"]
    churned = ChurnReason.LIFECYCLE_CHURNED in lapsed_reasons
    assert len(result.at_risk(include_churned=False)) == (0 if churned else 1)
    assert result.at_risk(top=0) == []
    assert at_risk[0]["reasons"] == ["low_p_alive", "lifecycle_churned", "overdue"] or at_risk[0][
        "reasons"
    ] == ["low_p_alive", "lifecycle_decline", "overdue"]
    counts = result.reason_counts()
    assert counts[ChurnReason.OVERDUE] == 1 and counts[ChurnReason.FALLING_SATISFACTION] == 0
    data = json.loads(json.dumps(result.to_dict()))
    assert data["at_risk"] == 1 and data["weights"]["p_alive"] == 0.35
    assert "lapsed" in result._repr_html_()
    with pytest.raises(NotFoundError):
        result.reasons_of("nobody")
    with pytest.raises(ValidationError):
        result.reasons_of(99)
    with pytest.raises(ValidationError, match="top: must be an integer of at least 0"):
        result.at_risk(top=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="include_churned: must be True or False"):
        result.at_risk(include_churned=np.array([True]))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="reason: must be one of"):
        result.has_reason(None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="values: must be a mapping"):
        CustomerValues.from_mapping([("a", 0.5)])  # type: ignore[arg-type]


def test_falling_satisfaction_from_journey_scores() -> None:
    log = make_log([("a", AS_OF - 5 * DAY, 1.0), ("b", AS_OF - 5 * DAY, 1.0)])
    scores = TouchpointScores.from_arrays(
        ["a", "a", "b", "b", "a"],
        ["web"] * 5,
        ["checkout"] * 5,
        [5, 1, 4, 4, 3],
        scale="csat",
        at=[AS_OF - 200 * DAY, AS_OF - 10 * DAY, AS_OF - 200 * DAY, AS_OF - 10 * DAY,
            AS_OF + DAY],
    )  # fmt: skip
    result = churn_risk(log, AS_OF, satisfaction=scores)
    assert result.components[:, 3].tolist() == [1.0, 0.0]  # 5 -> 1 on a 1-5 scale: fell by 2+
    assert result.reasons_of("a") == (ChurnReason.FALLING_SATISFACTION,)
    assert np.isnan(result.components[:, 2]).all()  # nobody bought twice: no gap to compare
    assert result.risk.tolist() == [1.0, 0.0]


def test_no_signal_means_zero_risk_and_zero_coverage() -> None:
    result = churn_risk(make_log([("a", AS_OF - 400 * DAY, 1.0)]), AS_OF)
    assert result.risk.tolist() == [0.0] and result.coverage.tolist() == [0.0]


def test_bad_input() -> None:
    log = make_log([("a", AS_OF - DAY, 1.0)])
    with pytest.raises(ValidationError):
        ChurnWeights(p_alive=-1)
    with pytest.raises(ValidationError):
        ChurnWeights(p_alive=0, lifecycle=0, overdue=0, satisfaction=0)
    with pytest.raises(ValidationError):
        CustomerValues(["a", "b"], [0.5])
    with pytest.raises(ValidationError):
        CustomerValues(["a"], [float("nan")])
    with pytest.raises(ValidationError):
        CustomerValues([1], [0.5])
    with pytest.raises(ValidationError, match="probabilities"):
        churn_risk(log, AS_OF, p_alive=CustomerValues(["a"], [1.5]))
    with pytest.raises(ValidationError, match="twice"):
        churn_risk(log, AS_OF, p_alive=CustomerValues(["a", "a"], [0.5, 0.5]))
    for kwargs in (
        {"gap_multiple": 1},
        {"threshold": 0},
        {"reason_at": 2},
        {"satisfaction_days": 0},
        {"weights": {"p_alive": 1}},
        {"p_alive": {"a": 0.5}},
        {"lifecycle": "decline"},
        {"satisfaction": [1, 2]},
    ):
        with pytest.raises(ValidationError):
            churn_risk(log, AS_OF, **kwargs)
    with pytest.raises(ValidationError):
        churn_risk(log, datetime(2026, 1, 1))
