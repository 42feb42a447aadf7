"""Differential tests: the vectorised journey report equals the plain-Python reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.columnar import EventLog
from crmcore.customers import Interaction
from crmcore.funnel import Stage
from crmcore.journey import (
    JourneyMap,
    Scale,
    Touchpoint,
    TouchpointScore,
    TouchpointScores,
    journey_report,
    reference_journey_report,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CUSTOMERS = ["C1", "C2", "C3", "C4", "C5"]
CHANNELS = ["web", "phone", "chat"]
KINDS = ["visit", "inquiry"]
STAGES = st.none() | st.sampled_from(list(Stage))
# Few distinct minutes, so that same-instant ties and window edges happen often.
MINUTES = st.integers(0, 6)
TOUCHPOINTS = [Touchpoint(c, k) for c in [*CHANNELS, "email"] for k in KINDS]


@st.composite
def interactions(draw: st.DrawFn) -> list[Interaction]:
    # Sparse histories (few events per customer) make window edges decide more often.
    people = CUSTOMERS[: draw(st.integers(1, len(CUSTOMERS)))]
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(people),
                MINUTES,
                st.sampled_from(CHANNELS),
                st.sampled_from(KINDS),
                STAGES,
            ),
            max_size=40,
        )
    )
    return [
        Interaction(f"I{i}", c, T0 + timedelta(minutes=m), ch, k, s)
        for i, (c, m, ch, k, s) in enumerate(rows)
    ]


@st.composite
def scores(draw: st.DrawFn) -> list[TouchpointScore]:
    scale = draw(st.sampled_from(list(Scale)))
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(CUSTOMERS),
                st.sampled_from(TOUCHPOINTS),
                st.integers(scale.low, scale.high),
            ),
            max_size=20,
        )
    )
    return [TouchpointScore(c, tp.channel, tp.kind, T0, v, scale) for c, tp, v in rows]


MAPS = st.builds(
    JourneyMap,
    st.dictionaries(st.sampled_from(TOUCHPOINTS), st.sampled_from(list(Stage)), max_size=4),
    st.booleans(),
)
WINDOWS = st.none() | st.integers(1, 4).map(lambda m: timedelta(minutes=m))


@SETTINGS
@given(interactions(), scores(), st.none() | MAPS, WINDOWS)
def test_vectorised_report_equals_the_reference(
    xs: list[Interaction],
    answers: list[TouchpointScore],
    plan: JourneyMap | None,
    window: timedelta | None,
) -> None:
    expected = reference_journey_report(xs, answers, journey_map=plan, window=window)
    actual = journey_report(
        EventLog.from_interactions(xs), answers, journey_map=plan, window=window
    )
    assert actual == expected  # exact: both only count, and one function derives the rest
    assert actual.to_dict() == expected.to_dict()


@SETTINGS
@given(interactions(), scores(), WINDOWS, st.randoms(use_true_random=False))
def test_event_order_and_score_form_do_not_matter(
    xs: list[Interaction],
    answers: list[TouchpointScore],
    window: timedelta | None,
    rng: object,
) -> None:
    shuffled = list(xs)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    scale = answers[0].scale if answers else Scale.CSAT
    table = TouchpointScores.from_arrays(
        np.array([s.customer_id for s in answers], dtype=str),
        [s.channel for s in answers],
        [s.kind for s in answers],
        np.array([s.score for s in answers], dtype=np.int64),
        scale=scale,
    )
    expected = journey_report(EventLog.from_interactions(xs), answers or None, window=window)
    actual = journey_report(EventLog.from_interactions(shuffled), table, window=window)
    if not answers:  # an empty table still declares its scale
        assert actual.scale is Scale.CSAT and expected.scale is None
        actual = journey_report(EventLog.from_interactions(shuffled), None, window=window)
    assert actual == expected


@SETTINGS
@given(interactions(), WINDOWS)
def test_report_invariants(xs: list[Interaction], window: timedelta | None) -> None:
    report = journey_report(EventLog.from_interactions(xs), window=window)
    assert sum(r.volume for r in report.rows) == len(xs)
    for row in report.rows:
        assert 0 <= row.converted <= row.customers <= row.volume
        assert row.customers <= report.customers
        assert 0.0 <= row.pain <= 1.0
        if row.conversion is not None:
            assert row.stage is not None and row.stage < Stage.ADVOCACY
    # A longer window never converts fewer customers.
    unlimited = journey_report(EventLog.from_interactions(xs))
    for row in report.rows:
        assert row.converted <= unlimited.row(row.touchpoint).converted
    stages = [r.stage for r in report.rows]
    keys = [len(Stage) + 1 if s is None else int(s) for s in stages]
    assert keys == sorted(keys)
