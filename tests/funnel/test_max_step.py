"""The sliding-window max-step count (ClickHouse windowFunnel, PostHog) beside Mixpanel's trials.

The vectorised engine is held to the per-customer reference on random logs,
customer by customer, and the two ways of counting are compared: max-step
never counts fewer customers at a step, and on logs with repeated step-1
events it counts more.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from crmcore.columnar import EventLog
from crmcore.funnel import Exclusion, FunnelReport
from crmcore.funnel._reference import customer_outcome
from crmcore.funnel._steps import plan
from crmcore.funnel.analytics import (
    funnel_breakdown,
    funnel_customers,
    funnel_report,
    funnel_report_python,
)
from crmcore.kernel.errors import ValidationError
from tests.funnel.test_analytics_agreement import (
    Row,
    event_rows,
    funnels,
    to_events,
    to_log,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
MIXPANEL = [
    ("u", "A", ONE),
    ("u", "A", ONE + 30 * MINUTE),
    ("u", "B", ONE + 45 * MINUTE),
    ("u", "C", ONE + 75 * MINUTE),
]


def test_mixpanels_example_converts_under_max_step_only() -> None:
    trials = funnel_report_python(MIXPANEL, ["A", "B", "C"], HOUR)
    chains = funnel_report_python(MIXPANEL, ["A", "B", "C"], HOUR, counting="max_step")
    assert trials.counts == (1, 1, 0)
    assert chains.counts == (1, 1, 1)
    assert (trials.counting, chains.counting) == ("trials", "max_step")
    # The chain from the 1:30 A is the one that counts: B 15 minutes later, C 30 after B.
    assert chains.steps[1].time is not None and chains.steps[1].time.mean == 15 * 60
    assert chains.steps[2].time is not None and chains.steps[2].time.mean == 30 * 60


def test_ties_go_to_the_latest_chain() -> None:
    events = [("u", "A", ONE), ("u", "B", ONE + 10 * MINUTE), ("u", "A", ONE + 20 * MINUTE),
              ("u", "B", ONE + 21 * MINUTE)]  # fmt: skip
    log = EventLog.from_records({"customer_id": c, "kind": k, "at": t} for c, k, t in events)
    who = funnel_customers(log, ["A", "B"], window=HOUR, counting="max_step")
    assert who.entered_at.tolist() == [np.datetime64(ONE.replace(tzinfo=None) + 20 * MINUTE)]
    trials = funnel_customers(log, ["A", "B"], window=HOUR)
    assert trials.entered_at.tolist() == [np.datetime64(ONE.replace(tzinfo=None))]


def test_an_exclusion_discards_only_the_chains_it_hits() -> None:
    events = [
        ("p", "visit", ONE), ("p", "ticket", ONE + MINUTE), ("p", "visit", ONE + 2 * MINUTE),
        ("p", "signup", ONE + 3 * MINUTE),
        ("q", "visit", ONE), ("q", "ticket", ONE + MINUTE), ("q", "signup", ONE + 3 * MINUTE),
    ]  # fmt: skip
    rule = [Exclusion("ticket")]
    chains = funnel_report_python(
        events, ["visit", "signup"], HOUR, exclusions=rule, counting="max_step"
    )
    assert (chains.counts, chains.excluded) == ((1, 1), 1)
    assert chains.steps[1].time is not None and chains.steps[1].time.mean == 60


def test_an_unknown_counting_is_refused_by_every_path() -> None:
    log = EventLog.from_records([{"customer_id": "a", "kind": "A", "at": ONE}])
    for call in (
        lambda: funnel_report(log, ["A", "B"], counting="windowed", allow_unseen_kinds=True),  # type: ignore[arg-type]
        lambda: funnel_report_python([], ["A", "B"], counting="windowed"),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == "counting"


def test_the_report_says_how_it_counted() -> None:
    report = funnel_report_python(MIXPANEL, ["A", "B", "C"], HOUR, counting="max_step")
    assert report.to_dict()["counting"] == "max_step"
    assert "max-step" in report._repr_html_()


def _customer_outcomes(rows: list[Row], f: dict[str, object]) -> dict[str, tuple[object, ...]]:
    who = funnel_customers(to_log(rows), **f, counting="max_step", allow_unseen_kinds=True)  # type: ignore[arg-type]
    out = {}
    for i, customer in enumerate(who.customer_ids.tolist()):
        reached = int(who.reached[i])
        times = tuple(int(v) for v in who.step_at[i, :reached].astype(np.int64).tolist())
        out[customer] = (reached, int(who.entered_at[i].astype(np.int64)), times)
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_rows(), funnels())
def test_numpy_equals_the_reference_customer_by_customer(
    rows: list[Row], f: dict[str, object]
) -> None:
    expected = _reference(rows, f)
    assert _customer_outcomes(rows, f) == expected
    numpy_report = funnel_report(to_log(rows), **f, counting="max_step", allow_unseen_kinds=True)  # type: ignore[arg-type]
    python_report = funnel_report_python(
        to_events(rows),
        **f,
        counting="max_step",
        allow_unseen_kinds=True,  # type: ignore[arg-type]
    )
    _same_report(numpy_report, python_report)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_rows(), funnels())
def test_max_step_never_counts_fewer_than_trials(rows: list[Row], f: dict[str, object]) -> None:
    log = to_log(rows)
    trials = funnel_customers(log, **f, allow_unseen_kinds=True)  # type: ignore[arg-type]
    chains = funnel_customers(log, **f, counting="max_step", allow_unseen_kinds=True)  # type: ignore[arg-type]
    assert trials.customer_ids.tolist() == chains.customer_ids.tolist()
    assert (chains.reached >= trials.reached).all()
    assert not (chains.excluded & ~trials.excluded).any()


def test_the_two_countings_differ_by_several_percent_on_random_logs() -> None:
    log = random_visits(customers=4000, seed=7)
    steps = ["visit", "signup", "purchase"]
    trials = funnel_report(log, steps, window=timedelta(days=7))
    chains = funnel_report(log, steps, window=timedelta(days=7), counting="max_step")
    assert trials.counts[0] == chains.counts[0]
    gap = (chains.counts[1] - trials.counts[1]) / trials.counts[1]
    assert gap > 0.03, (trials.counts, chains.counts)


def test_breakdowns_count_the_same_way() -> None:
    log = random_visits(customers=300, seed=3)
    steps = ["visit", "signup", "purchase"]
    weekly = funnel_breakdown(log, steps, cohort="month", counting="max_step")
    total = funnel_report(log, steps, counting="max_step")
    assert sum(r.counts[1] for r in weekly.values()) == total.counts[1]
    assert {r.counting for r in weekly.values()} == {"max_step"}


def random_visits(customers: int, seed: int) -> EventLog:
    """Customers who visit repeatedly over two months, some sign up and buy later."""
    rng = np.random.default_rng(seed)
    visits = rng.poisson(4, customers) + 1
    who = np.repeat(np.arange(customers), visits)
    at = rng.uniform(0, 60, len(who))
    signup = rng.random(customers) < 0.5
    s_at = rng.uniform(0, 60, customers)
    buy = signup & (rng.random(customers) < 0.6)
    b_at = s_at + rng.exponential(4, customers)
    ids = np.char.add("c", np.arange(customers).astype(str))
    t0 = np.datetime64("2026-01-01T00:00:00", "us")
    day = np.timedelta64(86_400_000_000, "us")
    kinds = np.concatenate(
        [np.full(len(who), "visit"), np.full(int(signup.sum()), "signup"),
         np.full(int(buy.sum()), "purchase")]
    )  # fmt: skip
    customer = np.concatenate([ids[who], ids[signup], ids[buy]])
    days = np.concatenate([at, s_at[signup], b_at[buy]])
    when = t0 + (days * day / np.timedelta64(1, "us")).astype(np.int64).astype("timedelta64[us]")
    return EventLog.from_records(
        {"customer_id": c, "kind": k, "at": t.astype(datetime).replace(tzinfo=UTC)}
        for c, k, t in zip(customer.tolist(), kinds.tolist(), when, strict=True)
    )


def _reference(rows: list[Row], f: dict[str, object]) -> dict[str, tuple[object, ...]]:
    """Per customer: (reached, entry µs, step instants µs) from the plain-Python rules."""
    funnel = plan(f["steps"], f["window"], f["mode"], f["exclusions"], "max_step")  # type: ignore[arg-type]
    matchers = funnel.matchers + funnel.exclusion_matchers
    per: dict[str, list[tuple[int, int]]] = {}
    for c, k, s, t in rows:
        bits = sum(
            1 << bit
            for bit, m in enumerate(matchers)
            if (m.column == "kind" and m.value == k)
            or (m.column == "stage" and s is not None and m.value == s.label)
        )
        per.setdefault(c, []).append(((t - EPOCH) // timedelta(microseconds=1), bits))
    out = {}
    for c, events in per.items():
        o = customer_outcome(events, funnel)
        if o is not None:
            out[c] = (o.reached, o.entry_us, o.times_us)
    return out


def _same_report(a: FunnelReport, b: FunnelReport) -> None:
    assert a.counts == b.counts
    assert (a.customers, a.excluded, a.counting) == (b.customers, b.excluded, b.counting)
    for x, y in zip(a.steps, b.steps, strict=True):
        if x.time is None or y.time is None:
            assert x.time == y.time
            continue
        assert x.time.count == y.time.count
        for stat in ("median", "p25", "p75", "p90"):
            assert getattr(x.time, stat) == getattr(y.time, stat)
        if x.time.mean is None:
            assert y.time.mean is None
        else:
            assert x.time.mean == pytest.approx(y.time.mean, rel=1e-12)


def test_reference_helper_plans_max_step() -> None:
    assert plan(["A", "B"], HOUR, "ordered", (), "max_step").counting == "max_step"
