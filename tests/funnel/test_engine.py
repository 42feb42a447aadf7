"""The vectorised engine's walk of trial chains: short walks, long chains, the same outcomes.

Where a trial may close before its window (strict interruptions,
exclusions), ``_walk`` follows each customer's chain a round at a time and
finishes chains longer than ``_FRONTIER_ROUNDS`` by pointer jumping over
every later attempt. With the rounds cut to 0, 1 or 2 the second way runs
on almost every customer; both must give the reference outcomes.
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.funnel import _engine
from crmcore.funnel.analytics import Exclusion, funnel_report
from tests.funnel.test_analytics_agreement import T0, TICK, Row, check, event_rows, funnels, to_log


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=event_rows(max_rows=60), f=funnels(), rounds=st.integers(0, 2))
def test_long_chains_finished_by_jumping_equal_the_reference(
    rows: list[Row], f: dict[str, object], rounds: int
) -> None:
    with mock.patch.object(_engine, "_FRONTIER_ROUNDS", rounds):
        check(rows, f)


def test_a_chain_longer_than_the_walk_is_followed_to_its_end() -> None:
    """50 strict trials in a row, each interrupted; only the last one converts."""
    rows: list[Row] = []
    for i in range(50):
        rows += [("a", "A", None, T0 + 4 * i * TICK), ("a", "X", None, T0 + (4 * i + 1) * TICK)]
    rows.append(("a", "B", None, T0 + (4 * 49 + 2) * TICK))
    rows.pop(-2)  # the last trial is not interrupted before its B
    log, day = to_log(rows), timedelta(days=1)
    for rounds in (32, 3):
        with mock.patch.object(_engine, "_FRONTIER_ROUNDS", rounds):
            report = funnel_report(log, ["A", "B"], window=day, mode="strict")
            excluded = funnel_report(log, ["A", "B"], window=day, exclusions=[Exclusion("X")])
        assert report.counts == excluded.counts == (1, 1)
        assert report.steps[1].time is not None and report.steps[1].time.mean == 2 * 600
