"""Strict funnels by runs of instants (`crmcore.funnel._runs`) against the walk and the reference.

When no instant of a customer matches more than one step, the engine reads
the strict paths off runs of instants instead of walking them. These tests
make that path the one taken (steps that share no events, times on a coarse
grid so instants with several events are common), check it against the
per-customer reference and the general walk, and check customers of both
kinds mixed in one chunk: those with an instant matching two steps take the
walk, the rest the runs, merged back in stream order.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.funnel import _engine, _runs
from crmcore.funnel.analytics import funnel_customers
from tests.funnel.test_analytics_agreement import (
    CUSTOMERS,
    T0,
    TICK,
    Row,
    check,
    to_log,
    vector_outcomes,
)
from tests.funnel.test_max_step import _customer_outcomes as max_step_outcomes
from tests.funnel.test_max_step import _reference as max_step_reference

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def plain_rows(draw: st.DrawFn) -> list[Row]:
    """Events of kinds A-D and X (no stages), on a grid of 3 to 60 ticks: many ties."""
    spread = draw(st.sampled_from([3, 12, 60]))
    return [
        (
            draw(st.sampled_from(CUSTOMERS)),
            draw(st.sampled_from(["A", "B", "C", "D", "X"])),
            None,
            T0 + TICK * draw(st.integers(0, spread)),
        )
        for _ in range(draw(st.integers(0, 50)))
    ]


@st.composite
def strict_funnels(draw: st.DrawFn) -> dict[str, object]:
    size = draw(st.integers(2, 4))
    steps = draw(st.lists(st.sampled_from("ABCD"), min_size=size, max_size=size))
    window = draw(st.one_of(st.none(), st.integers(1, 40).map(lambda k: TICK * k / 2)))
    return {"steps": steps, "window": window, "mode": "strict", "exclusions": []}


class Spy:
    """Counts the customers each way served, through ``strict_runs``."""

    def __init__(self) -> None:
        self.by_runs = self.by_walk = 0

    def __call__(self, s: Any, plan: Any) -> _runs.Runs | None:
        runs = _runs.strict_runs(s, plan)
        if runs is not None:
            blocks = runs.block
            self.by_runs += len(np.unique(blocks[runs.plain]))
            self.by_walk += len(np.unique(blocks[~runs.plain]))
        return runs


def _check_both_ways(rows: list[Row], f: dict[str, object], counting: str = "trials") -> Spy:
    """Runs == the reference (and, counting trials, every report path) == the walk."""
    spy = Spy()
    with mock.patch.object(_engine, "strict_runs", spy):
        if counting == "trials":
            check(rows, f)  # the reference, the report, the pre-sorted (grouped) log
        else:
            assert max_step_outcomes(rows, f) == max_step_reference(rows, f)
        by_runs = vector_outcomes(to_log(rows), f, counting=counting)
    with mock.patch.object(_engine, "strict_runs", return_value=None):
        walked = vector_outcomes(to_log(rows), f, counting=counting)
    assert by_runs == walked
    return spy


COUNTING = st.sampled_from(["trials", "max_step"])


@SETTINGS
@given(rows=plain_rows(), f=strict_funnels(), counting=COUNTING)
def test_runs_equal_the_reference_and_the_walk(
    rows: list[Row], f: dict[str, object], counting: str
) -> None:
    _check_both_ways(rows, f, counting)


@SETTINGS
@given(rows=plain_rows(), f=strict_funnels(), counting=COUNTING, size=st.integers(1, 6))
def test_runs_in_tiny_chunks(
    rows: list[Row], f: dict[str, object], counting: str, size: int
) -> None:
    with mock.patch.object(_engine, "_CHUNK_ROWS", size):
        _check_both_ways(rows, f, counting)


def test_distinct_steps_go_by_runs_and_shared_events_by_the_walk() -> None:
    """c0 and c2 go by runs; c1 has A and B at one instant (two steps), so it is walked."""
    day = timedelta(days=1)
    rows: list[Row] = [
        ("c2", "A", None, T0),
        ("c2", "B", None, T0 + TICK),
        ("c2", "C", None, T0 + 2 * TICK),
        ("c1", "A", None, T0),
        ("c1", "B", None, T0),
        ("c1", "X", None, T0 + TICK),
        ("c0", "A", None, T0),
        ("c0", "A", None, T0 + TICK),  # a repeat: stays
        ("c0", "B", None, T0 + 2 * TICK),
        ("c0", "D", None, T0 + 3 * TICK),  # interrupts
        ("c0", "A", None, T0 + 4 * TICK),
        ("c0", "B", None, T0 + 5 * TICK),
        ("c0", "C", None, T0 + 6 * TICK),
    ]
    f = {"steps": ["A", "B", "C"], "window": day, "mode": "strict", "exclusions": []}
    spy = _check_both_ways(rows, f)
    assert (spy.by_runs, spy.by_walk) > (0, 0)
    got = funnel_customers(to_log(rows), ["A", "B", "C"], window=day, mode="strict")
    assert got.customer_ids.tolist() == ["c2", "c1", "c0"]  # first seen first (log order)
    assert got.reached.tolist() == [3, 2, 3]
    start = np.datetime64(T0.replace(tzinfo=None), "us")
    assert got.entered_at.tolist() == [start, start, start + np.timedelta64(4 * TICK)]


def test_the_runs_serve_every_customer_of_the_benchmark_shape() -> None:
    """Microsecond times and distinct kinds per step: no customer needs the walk."""
    rng = np.random.default_rng(7)
    kinds = ["A", "B", "C", "D", "X"]
    rows: list[Row] = [
        (f"c{int(c)}", kinds[int(k)], None, T0 + timedelta(microseconds=int(t)))
        for c, k, t in zip(
            rng.integers(0, 40, 400),
            rng.integers(0, 5, 400),
            rng.integers(0, 10**9, 400),
            strict=True,
        )
    ]
    spy = _check_both_ways(rows, {"steps": ["A", "B", "C", "D"], "window": timedelta(seconds=300),
                                  "mode": "strict", "exclusions": []})  # fmt: skip
    assert spy.by_walk == 0 and spy.by_runs > 30
