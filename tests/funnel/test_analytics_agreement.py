"""Differential tests: the vectorised funnel equals the per-customer reference, number for number.

Random event logs (several customers, repeated events, ties in time, rows in
random order, kinds and stages) x random steps x modes x windows x
exclusions: every customer's outcome (steps reached, entry, the instant of
each step) and every number of the report must agree; times to convert
within float tolerance (only the mean's summation order differs).
"""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime, timedelta
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.columnar import CustomerFrame, EventLog
from crmcore.customers.customer import Customer
from crmcore.customers.profile import Geography
from crmcore.funnel import Stage, _engine
from crmcore.funnel._reference import _ordered, customer_outcome
from crmcore.funnel._steps import plan
from crmcore.funnel.analytics import (
    Exclusion,
    FunnelReport,
    funnel_breakdown,
    funnel_customers,
    funnel_report,
    funnel_report_from_positions,
    funnel_report_python,
)
from crmcore.funnel.position import FunnelPosition

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
TICK = timedelta(minutes=10)
KINDS = ["A", "B", "C", "D", "X"]
STAGES = [Stage.AWARENESS, Stage.INTEREST, Stage.CONSIDERATION]
CUSTOMERS = ["c0", "c1", "c2", "c3", "c4"]

Row = tuple[str, str, Stage | None, datetime]


@st.composite
def event_rows(draw: st.DrawFn, max_rows: int = 40) -> list[Row]:
    """Events in random row order; times on a 10-minute grid, so ties are common."""
    n = draw(st.integers(0, max_rows))
    spread = draw(st.sampled_from([3, 12, 60, 400]))
    return [
        (
            draw(st.sampled_from(CUSTOMERS)),
            draw(st.sampled_from(KINDS)),
            draw(st.one_of(st.none(), st.sampled_from(STAGES))),
            T0 + TICK * draw(st.integers(0, spread)),
        )
        for _ in range(n)
    ]


STEP_POOL: list[str | Stage] = ["A", "B", "C", "D", *STAGES]


@st.composite
def funnels(draw: st.DrawFn) -> dict[str, object]:
    mode = draw(st.sampled_from(["ordered", "strict", "any"]))
    size = draw(st.integers(2, 4))
    if mode == "any":
        steps = draw(
            st.lists(st.sampled_from(STEP_POOL), min_size=size, max_size=size, unique=True)
        )
    else:
        steps = draw(st.lists(st.sampled_from(STEP_POOL), min_size=size, max_size=size))
    window = draw(st.one_of(st.none(), st.integers(1, 40).map(lambda k: TICK * k / 2)))
    pool: list[str | Stage] = [e for e in ["X", "D", Stage.RETENTION] if e not in steps]
    exclusions = []
    for _ in range(draw(st.integers(0, 2))):
        after = draw(st.integers(1, size - 1))
        before = draw(st.one_of(st.none(), st.integers(after + 1, size)))
        exclusions.append(Exclusion(draw(st.sampled_from(pool)), after=after, before=before))
    return {"steps": steps, "window": window, "mode": mode, "exclusions": exclusions}


def to_log(rows: list[Row]) -> EventLog:
    return EventLog.from_records(
        {"customer_id": c, "kind": k, "stage": None if s is None else s.label, "at": t}
        for c, k, s, t in rows
    )


def to_events(rows: list[Row]) -> list[tuple[str, str | tuple[str, Stage], datetime]]:
    return [(c, k if s is None else (k, s), t) for c, k, s, t in rows]


def reference_outcomes(
    rows: list[Row], f: dict[str, object]
) -> dict[str, tuple[int, int, tuple[int, ...]]]:
    """Per customer: (reached, entry µs, step instants µs) from the plain-Python rules."""
    funnel = plan(f["steps"], f["window"], f["mode"], f["exclusions"])  # type: ignore[arg-type]
    matchers = funnel.matchers + funnel.exclusion_matchers
    per: dict[str, list[tuple[int, int]]] = {}
    for c, k, s, t in rows:
        bits = 0
        for bit, m in enumerate(matchers):
            if (m.column == "kind" and m.value == k) or (
                m.column == "stage" and s is not None and m.value == s.label
            ):
                bits |= 1 << bit
        per.setdefault(c, []).append(
            ((t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1), bits)
        )
    out = {}
    for c, events in per.items():
        o = customer_outcome(events, funnel)
        if o is not None:
            out[c] = (o.reached, o.entry_us, o.times_us)
    return out


def vector_outcomes(
    log: EventLog, f: dict[str, object], **kw: object
) -> dict[str, tuple[int, int, tuple[int, ...]]]:
    res = funnel_customers(log, allow_unseen_kinds=True, **f, **kw)  # type: ignore[arg-type]
    times = res.step_at.view(np.int64)
    entry = res.entered_at.view(np.int64)
    return {
        str(cid): (int(r), int(e), tuple(int(x) for x in times[i, :r]))
        for i, (cid, r, e) in enumerate(
            zip(res.customer_ids.tolist(), res.reached.tolist(), entry.tolist(), strict=True)
        )
    }


def assert_reports_equal(a: FunnelReport, b: FunnelReport) -> None:
    assert a.counts == b.counts
    assert (a.customers, a.excluded, a.mode, a.window) == (
        b.customers,
        b.excluded,
        b.mode,
        b.window,
    )
    for x, y in zip(a.steps, b.steps, strict=True):
        assert (x.number, x.step, x.label, x.dropped) == (y.number, y.step, y.label, y.dropped)
        assert (x.conversion, x.overall, x.drop_rate) == (y.conversion, y.overall, y.drop_rate)
        if x.time is None or y.time is None:
            assert x.time is y.time is None
            continue
        assert x.time.count == y.time.count
        for stat in ("mean", "median", "p25", "p75", "p90"):
            u, v = getattr(x.time, stat), getattr(y.time, stat)
            assert (u is None) == (v is None)
            if u is not None:
                assert u == pytest.approx(v, rel=1e-12, abs=1e-9)


def check(rows: list[Row], f: dict[str, object]) -> None:
    log = to_log(rows)
    expected = reference_outcomes(rows, f)
    got = vector_outcomes(log, f)
    # An excluded customer's entry may be any of its trials' starts: compare it only when counted.
    strip = lambda d: {c: (r, e if r else None, ts) for c, (r, e, ts) in d.items()}  # noqa: E731
    assert strip(got) == strip(expected)
    vectorised = funnel_report(log, allow_unseen_kinds=True, **f)  # type: ignore[arg-type]
    python = funnel_report_python(
        to_events(rows), f["steps"], f["window"], f["mode"],  # type: ignore[arg-type]
        exclusions=f["exclusions"], allow_unseen_kinds=True,  # type: ignore[arg-type]
    )  # fmt: skip
    assert_reports_equal(vectorised, python)
    if len(log):
        ordered = log.sort_by_customer_time()
        again = funnel_report(ordered, allow_unseen_kinds=True, assume_sorted=True, **f)  # type: ignore[arg-type]
        assert_reports_equal(again, python)


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(rows=event_rows(), f=funnels())
def test_vectorised_equals_reference(rows: list[Row], f: dict[str, object]) -> None:
    check(rows, f)


@SETTINGS
@given(rows=event_rows(), f=funnels(), size=st.integers(1, 6))
def test_chunks_of_customers_give_the_same_outcomes(
    rows: list[Row], f: dict[str, object], size: int
) -> None:
    """Large logs are computed in chunks of whole customers; tiny chunks must change nothing."""
    with mock.patch.object(_engine, "_CHUNK_ROWS", size):
        check(rows, f)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("CRMCORE_SLOW"), reason="set CRMCORE_SLOW=1 to run")
@settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=event_rows(max_rows=80), f=funnels(), size=st.sampled_from([3, 10, 1 << 20]))
def test_vectorised_equals_reference_many(rows: list[Row], f: dict[str, object], size: int) -> None:
    with mock.patch.object(_engine, "_CHUNK_ROWS", size):
        check(rows, f)


@SETTINGS
@given(rows=event_rows(), f=funnels(), data=st.data())
def test_breakdowns_equal_the_funnel_of_each_group(
    rows: list[Row], f: dict[str, object], data: st.DataObject
) -> None:
    log = to_log(rows)
    ids = sorted({c for c, *_ in rows})
    tiers = {c: data.draw(st.sampled_from(["GB", "CN", None])) for c in ids}
    frame = CustomerFrame.from_customers(
        Customer.register(c, c, T0, geography=Geography(country=tiers[c])).value for c in ids
    )
    by = funnel_breakdown(log, by="country", frame=frame, allow_unseen_kinds=True, **f)  # type: ignore[arg-type]
    for key, report in by.items():
        members = [r for r in rows if tiers[r[0]] == key]
        assert_reports_equal(report, funnel_report(to_log(members), allow_unseen_kinds=True, **f))  # type: ignore[arg-type]
    assert sum(r.customers for r in by.values()) == len(ids)
    mask = np.array([tiers[c] == "GB" for c in frame.ids.tolist()], dtype=bool)
    seg = funnel_breakdown(
        log,
        segments={"gold": mask, "all": np.ones(len(frame), bool)},
        frame=frame,
        allow_unseen_kinds=True,
        **f,
    )  # type: ignore[arg-type]
    assert_reports_equal(seg["all"], funnel_report(log, allow_unseen_kinds=True, **f))  # type: ignore[arg-type]
    gold = [r for r in rows if tiers[r[0]] == "GB"]
    assert_reports_equal(seg["gold"], funnel_report(to_log(gold), allow_unseen_kinds=True, **f))  # type: ignore[arg-type]
    weekly = funnel_breakdown(log, cohort="week", allow_unseen_kinds=True, **f)  # type: ignore[arg-type]
    entered = funnel_customers(log, allow_unseen_kinds=True, **f)  # type: ignore[arg-type]
    assert sum(r.entered + r.excluded for r in weekly.values()) == len(entered)
    assert (
        sum(r.converted for r in weekly.values())
        == funnel_report(log, allow_unseen_kinds=True, **f).converted
    )  # type: ignore[arg-type]


def brute_force_ordered(rows: list[tuple[int, int]], steps: int, end: int | None) -> int:
    """The most steps any ordered path from row 0 reaches (every subsequence tried)."""
    best = 1
    for size in range(2, steps + 1):
        for combo in itertools.combinations(range(1, len(rows)), size - 1):
            if all((rows[j][1] >> k) & 1 for k, j in enumerate(combo, 1)) and (
                end is None or rows[combo[-1]][0] <= end
            ):
                best = size
                break
    return best


@settings(max_examples=300, deadline=None)
@given(
    times=st.lists(st.integers(0, 5), min_size=1, max_size=9),
    sigs=st.lists(st.integers(0, 15), min_size=9, max_size=9),
    end=st.one_of(st.none(), st.integers(0, 5)),
)
def test_greedy_ordered_path_is_the_longest(
    times: list[int], sigs: list[int], end: int | None
) -> None:
    """Taking the first matching event for each step never loses to any other choice."""
    rows = [(t, s) for t, s in zip(sorted(times), sigs, strict=False)]
    rows[0] = (rows[0][0], rows[0][1] | 1)
    path = _ordered(rows, 0, 4, end)
    assert len(path) == brute_force_ordered(rows, 4, end)


# -- positions ------------------------------------------------------------------------------


@st.composite
def positions(draw: st.DrawFn) -> list[FunnelPosition]:
    out = []
    for i in range(draw(st.integers(0, 6))):
        at = T0 + TICK * draw(st.integers(0, 20))
        position = FunnelPosition.start(f"p{i}", draw(st.sampled_from(list(Stage)[:3])), at).value
        for _ in range(draw(st.integers(0, 4))):
            at += TICK * draw(st.integers(0, 8))
            target = draw(st.sampled_from(list(Stage)))
            if target > position.stage:
                position = position.advance(target, at).value
            elif target < position.stage:
                position = position.regress(target, at, "test").value
        out.append(position)
    return out


@settings(max_examples=200, deadline=None)
@given(ps=positions(), window=st.one_of(st.none(), st.integers(1, 30).map(lambda k: TICK * k)))
def test_positions_equal_the_event_funnel_of_their_entries(
    ps: list[FunnelPosition], window: timedelta | None
) -> None:
    stages = tuple(Stage)
    report = funnel_report_from_positions(ps, stages, window)
    rows = [
        (p.customer_id, "stage_entered", stage, at)
        for p in ps
        for stage, at in p.entry_times().items()
    ]
    log = to_log(rows)
    vectorised = funnel_report(log, list(stages), window=window, mode="ordered")
    assert report.counts == vectorised.counts
    assert_reports_equal(
        report, funnel_report_python(to_events(rows), list(stages), window, "ordered")
    ) if rows else None
