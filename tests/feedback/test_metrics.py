"""NPS, CSAT, CES, durations and rates: formulas, intervals, errors, and object == vectorised."""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.feedback.breakdowns import breakdown, trend
from crmcore.feedback.case_metrics import CaseColumns, case_report, sla_verdicts
from crmcore.feedback.cases import Case
from crmcore.feedback.durations import duration_breakdown, durations
from crmcore.feedback.feedback import Feedback
from crmcore.feedback.feedback_metrics import feedback_breakdown, feedback_score, feedback_trend
from crmcore.feedback.grouping import period_codes
from crmcore.feedback.rates import Rate, loop_closure_rate, reopen_rate, sla_attainment
from crmcore.feedback.sla import SlaMetric, SlaPolicy, SlaTarget
from crmcore.feedback.survey_scores import CesScore, CsatScore, NpsScore, ces, csat, nps, score
from crmcore.journey.scores import Scale
from crmcore.kernel.errors import IllegalTransitionError, ValidationError

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
Z95 = statistics.NormalDist().inv_cdf(0.975)


def reference_nps(scores: list[int]) -> float:
    """Plain Python: % promoters - % detractors."""
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return 100 * (promoters - detractors) / len(scores)


# -- NPS ---------------------------------------------------------------------------------------


def test_nps_peers_example_fifty_promoters_forty_detractors_is_ten() -> None:
    # PEERS.md §5.2: 50 % promoters, 40 % detractors -> NPS 10; passives only in the denominator.
    result = nps([10] * 5 + [7] + [3] * 4)
    assert result.value == pytest.approx(10.0)
    assert (result.promoters, result.passives, result.detractors, result.n) == (5, 1, 4, 10)


def test_nps_band_edges() -> None:
    assert nps([9]).value == 100 and nps([10]).value == 100
    assert nps([7]).value == 0 and nps([8]).value == 0
    assert nps([6]).value == -100 and nps([0]).value == -100


def test_nps_interval_is_wald_on_the_trinomial_variable() -> None:
    scores = [10, 10, 9, 8, 7, 6, 5, 0, 9, 10]
    result = nps(scores)
    x = [1 if s >= 9 else -1 if s <= 6 else 0 for s in scores]
    se = 100 * math.sqrt(statistics.pvariance(x) / len(x))
    assert result.stderr == pytest.approx(se)
    assert result.low == pytest.approx(result.value - Z95 * se)
    assert result.high == pytest.approx(result.value + Z95 * se)
    wider = nps(scores, confidence=0.99)
    assert wider.low < result.low and wider.high > result.high


def test_nps_interval_is_clipped_and_degenerate_when_all_agree() -> None:
    all_promoters = nps([10, 9, 9])
    assert (all_promoters.stderr, all_promoters.low, all_promoters.high) == (0.0, 100.0, 100.0)
    tiny = nps([10, 0])
    assert tiny.low == -100.0 and tiny.high == 100.0


def test_nps_empty_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="at least one answer") as info:
        nps([])
    assert info.value.field == "scores"


@pytest.mark.parametrize(
    ("scores", "field", "value"),
    [([9, 11], "scores[1]", 11), ([-1], "scores[0]", -1), ([9, 8.5], "scores[1]", 8.5)],
)
def test_nps_off_scale_names_the_position(scores: list[float], field: str, value: float) -> None:
    with pytest.raises(ValidationError) as info:
        nps(scores)
    assert info.value.field == field and info.value.value == value


@pytest.mark.parametrize("bad", [[True, 9], ["9"], "910", None, [[9, 10]], [float("nan")]])
def test_nps_rejects_non_numbers(bad: object) -> None:
    with pytest.raises(ValidationError):
        nps(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("confidence", [0, 1, 1.5, True, "0.9"])
def test_confidence_must_lie_strictly_between_zero_and_one(confidence: object) -> None:
    with pytest.raises(ValidationError, match="confidence"):
        nps([9], confidence=confidence)  # type: ignore[arg-type]


def test_nps_accepts_numpy_and_whole_floats_and_leaves_input_alone() -> None:
    array = np.array([10.0, 3.0, 8.0])
    before = array.copy()
    assert nps(array).value == pytest.approx(0.0)
    assert nps(np.array([10, 3, 8], dtype=np.int8)).value == pytest.approx(0.0)
    assert np.array_equal(array, before)


@given(st.lists(st.integers(0, 10), min_size=1, max_size=200))
@settings(max_examples=60, deadline=None)
def test_nps_matches_plain_python(scores: list[int]) -> None:
    result = nps(scores)
    assert result.value == pytest.approx(reference_nps(scores))
    assert -100 <= result.low <= result.value <= result.high <= 100
    assert result.promoters + result.passives + result.detractors == len(scores)


# -- CSAT / CES --------------------------------------------------------------------------------


def test_csat_is_top_two_box_with_wilson_interval() -> None:
    result = csat([5, 4, 4, 3, 1])
    assert result.value == pytest.approx(60.0) and result.satisfied == 3
    assert result.mean == pytest.approx(17 / 5)
    p, n, z = 0.6, 5, Z95
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert result.low == pytest.approx(100 * (centre - half))
    assert result.high == pytest.approx(100 * (centre + half))
    perfect = csat([5, 5])
    assert perfect.value == 100.0 and perfect.high == pytest.approx(100.0) and perfect.low < 100


def test_csat_off_scale() -> None:
    with pytest.raises(ValidationError, match=r"1\.\.5") as info:
        csat([5, 0])
    assert info.value.field == "scores[1]"


def test_ces_mean_interval_and_index() -> None:
    result = ces([7, 6, 5, 2, 1])
    assert result.mean == pytest.approx(4.2)
    assert (result.easy, result.difficult) == (2, 2) and result.index == 0.0
    se = statistics.stdev([7, 6, 5, 2, 1]) / math.sqrt(5)
    assert result.stderr == pytest.approx(se)
    assert result.low == pytest.approx(4.2 - Z95 * se)
    single = ces([4])
    assert (single.stderr, single.low, single.high) == (None, None, None)
    with pytest.raises(ValidationError):
        ces([8])


def test_score_dispatches_on_scale() -> None:
    assert isinstance(score([9], "nps"), NpsScore)
    assert isinstance(score([4], Scale.CSAT), CsatScore)
    assert isinstance(score([4], "ces"), CesScore)
    with pytest.raises(ValidationError, match="scale"):
        score([4], "stars")


def test_results_serialise_and_render() -> None:
    for result in (nps([9, 3]), csat([4, 2]), ces([6, 1])):
        data = result.to_dict()
        assert json.loads(json.dumps(data)) == data
        assert data["metric"] == result.scale.value
        assert "<table" in result._repr_html_()
    assert ces([4]).to_dict()["stderr"] is None


# -- breakdowns and trends ----------------------------------------------------------------------


@given(
    st.lists(st.tuples(st.integers(0, 10), st.sampled_from("abcd")), min_size=1, max_size=150),
    st.sampled_from(list(Scale)),
)
@settings(max_examples=50, deadline=None)
def test_breakdown_agrees_with_the_metric_per_group(
    rows: list[tuple[int, str]], scale: Scale
) -> None:
    scores = [min(max(s, scale.low), scale.high) for s, _ in rows]
    labels = [label for _, label in rows]
    result = breakdown(scores, labels, scale=scale)
    groups: dict[str, list[int]] = defaultdict(list)
    for s, label in zip(scores, labels, strict=True):
        groups[label].append(s)
    assert [r.key for r in result.rows] == sorted(groups)
    for r in result.rows:
        expected = score(groups[r.key], scale)
        assert r.n == len(groups[r.key])
        assert r.result is not None
        assert r.result.to_dict() == pytest.approx(expected.to_dict())
    assert result.overall is not None
    assert result.overall.to_dict() == pytest.approx(score(scores, scale).to_dict())


@given(
    st.lists(st.tuples(st.integers(0, 10), st.integers(-5, 5)), min_size=1, max_size=100),
    st.sampled_from([1, 10**6]),
)
@settings(max_examples=40, deadline=None)
def test_integer_labels_dense_and_sparse(rows: list[tuple[int, int]], spread: int) -> None:
    scores = np.array([s for s, _ in rows])
    labels = np.array([g * spread for _, g in rows], dtype=np.int64)
    result = breakdown(scores, labels, scale="nps")
    distinct = sorted(set(labels.tolist()))
    assert [r.key for r in result.rows] == [str(g) for g in distinct]
    for r in result.rows:
        group = [
            s for s, g in zip(scores.tolist(), labels.tolist(), strict=True) if str(g) == r.key
        ]
        assert r.n == len(group) and r.value == pytest.approx(reference_nps(group))


def test_breakdown_errors() -> None:
    with pytest.raises(ValidationError, match="one label per score"):
        breakdown([9, 9], ["a"], scale="nps")
    with pytest.raises(ValidationError) as info:
        breakdown([9, 9], ["a", None], scale="nps")
    assert info.value.field == "labels[1]"
    empty = breakdown([], [], scale="nps")
    assert empty.rows == () and empty.overall is None
    with pytest.raises(ValidationError):
        breakdown([9], ["a"], scale="nps").row("zzz")


def test_breakdown_html_and_dict() -> None:
    result = breakdown([10, 0, 9], ["web", "web", "phone"], scale="nps", by="channel")
    assert result.row("web").value == 0.0
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data and data["by"] == "channel"
    assert "NPS by channel" in result._repr_html_()


def python_period(at: datetime, period: str) -> str:
    if period == "day":
        return at.date().isoformat()
    if period == "week":
        year, week, _ = at.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{at.year:04d}-{at.month:02d}"


@given(
    st.lists(st.tuples(st.integers(0, 10), st.integers(0, 400 * 24 * 60)), min_size=1, max_size=80),
    st.sampled_from(["day", "week", "month"]),
)
@settings(max_examples=40, deadline=None)
def test_trend_agrees_with_python_calendar(rows: list[tuple[int, int]], period: str) -> None:
    base = datetime(2025, 12, 20, tzinfo=UTC)
    scores = [s for s, _ in rows]
    times = [base + timedelta(minutes=m) for _, m in rows]
    result = trend(scores, times, scale="nps", period=period)  # type: ignore[arg-type]
    groups: dict[str, list[int]] = defaultdict(list)
    for s, t in zip(scores, times, strict=True):
        groups[python_period(t, period)].append(s)
    nonempty = {r.key: r for r in result.rows if r.n}
    assert sorted(nonempty) == sorted(groups)
    for key, r in nonempty.items():
        assert r.value == pytest.approx(reference_nps(groups[key]))
    assert sum(r.n for r in result.rows) == len(scores)
    # contiguous: every period between the first and the last appears, in order
    assert [r.key for r in result.rows] == sorted(r.key for r in result.rows)
    assert result.rows[0].key == python_period(min(times), period)
    assert result.rows[-1].key == python_period(max(times), period)


def test_trend_fills_empty_periods_and_rejects_bad_input() -> None:
    at = [datetime(2026, 1, 3, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC)]
    result = trend([10, 0], at, scale="nps", period="month")
    assert result.values() == {"2026-01": 100.0, "2026-02": None, "2026-03": -100.0}
    with pytest.raises(ValidationError, match="period"):
        trend([10], at[:1], scale="nps", period="year")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="timezone-aware"):
        trend([10], [datetime(2026, 1, 3)], scale="nps")
    with pytest.raises(ValidationError, match="known instant"):
        trend([10], np.array(["NaT"], dtype="datetime64[us]"), scale="nps")
    assert trend([], [], scale="nps").rows == ()


def test_period_codes_weeks_start_on_monday() -> None:
    sunday, monday = datetime(2026, 1, 4, 23, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC)
    codes, labels = period_codes([sunday, monday], "week")
    assert codes.tolist() == [0, 1] and labels == ("2026-W01", "2026-W02")
    codes, labels = period_codes([datetime(2024, 12, 31, tzinfo=UTC)], "day")
    assert labels == (date(2024, 12, 31).isoformat(),)


# -- over feedback --------------------------------------------------------------------------------


def _feedback(i: int, channel: str, nps_score: int | None, csat_score: int | None) -> Feedback:
    scores: dict[str, int] = {}
    if nps_score is not None:
        scores["nps"] = nps_score
    if csat_score is not None:
        scores["csat"] = csat_score
    return Feedback(
        id=f"f{i}",
        customer_id=f"c{i % 7}",
        channel=channel,
        kind="complaint" if i % 3 == 0 else "praise",
        at=T0 + timedelta(days=3 * i),
        scores=scores,
        touchpoint="web/checkout" if i % 2 else None,
        stage="conversion" if i % 4 == 0 else None,
    )


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["email", "phone", "chat"]),
            st.none() | st.integers(0, 10),
            st.none() | st.integers(1, 5),
        ),
        min_size=1,
        max_size=40,
    )
)
@settings(max_examples=30, deadline=None)
def test_feedback_breakdown_object_path_equals_vectorised(
    rows: list[tuple[str, int | None, int | None]],
) -> None:
    items = [_feedback(i, ch, n, c) for i, (ch, n, c) in enumerate(rows)]
    for dimension in ("channel", "kind", "touchpoint", "stage"):
        result = feedback_breakdown(items, "nps", by=dimension)  # type: ignore[arg-type]
        groups: dict[str, list[int]] = defaultdict(list)
        for f in items:
            value = f.score("nps")
            if value is None:
                continue
            key = {
                "channel": f.channel.value,
                "kind": f.kind.value,
                "touchpoint": None if f.touchpoint is None else f.touchpoint.label,
                "stage": None if f.stage is None else f.stage.label,
            }[dimension]
            groups["none" if key is None else key].append(value)
        assert {r.key: r.value for r in result.rows} == pytest.approx(
            {k: reference_nps(v) for k, v in groups.items()}
        )
    answered = [f.score("csat") for f in items if f.score("csat") is not None]
    if answered:
        assert feedback_score(items, "csat").value == pytest.approx(csat(answered).value)
    else:
        with pytest.raises(ValidationError):
            feedback_score(items, "csat")


def test_feedback_breakdown_by_segment_labels_and_trend() -> None:
    items = [_feedback(i, "email", s, None) for i, s in enumerate([10, 9, 2, 8, 10, 0])]
    segments = ["gold", "gold", "gold", "basic", "basic", "basic"]
    result = feedback_breakdown(items, "nps", by=segments)
    assert result.by == "segment"
    assert result.values() == pytest.approx({"basic": 0.0, "gold": 100 / 3})
    monthly = feedback_trend(items, "nps", period="month")
    assert sum(r.n for r in monthly.rows) == 6
    with pytest.raises(ValidationError, match="by"):
        feedback_breakdown(items, "nps", by="colour")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        feedback_breakdown("not feedback", "nps", by="channel")  # type: ignore[arg-type]


# -- durations and rates ------------------------------------------------------------------------


def test_durations_from_timedeltas_seconds_and_timedelta64() -> None:
    hours = [timedelta(hours=h) for h in (1, 2, 3, 4, 10)]
    stats = durations([*hours, None], name="resolution")
    assert (stats.count, stats.pending, stats.name) == (5, 1, "resolution")
    assert stats.as_timedelta("median") == timedelta(hours=3)
    assert stats.mean == pytest.approx(4 * 3600)
    assert stats.p90 == pytest.approx(
        statistics.quantiles([1, 2, 3, 4, 10], n=10, method="inclusive")[8] * 3600
    )
    assert stats.as_timedelta("max") == timedelta(hours=10)
    td64 = np.array([3600, 7200, "NaT"], dtype="timedelta64[s]")
    assert durations(td64).to_dict()["pending"] == 1
    assert durations(np.array([1.0, np.nan])).count == 1
    none = durations([None])
    assert (none.count, none.median, none.as_timedelta("p90")) == (0, None, None)
    assert "pending" in none._repr_html_()


@pytest.mark.parametrize(
    "bad", [[timedelta(hours=-1)], [-1.0], ["1h"], [float("inf")], "abc", np.array([np.inf])]
)
def test_durations_reject_bad_values(bad: object) -> None:
    with pytest.raises(ValidationError):
        durations(bad)


@given(
    st.lists(
        st.tuples(
            st.none() | st.floats(0, 1e6, allow_nan=False), st.sampled_from(["high", "low", "x"])
        ),
        min_size=1,
        max_size=80,
    )
)
@settings(max_examples=50, deadline=None)
def test_grouped_durations_agree_with_statistics_module(
    rows: list[tuple[float | None, str]],
) -> None:
    values = [v for v, _ in rows]
    labels = [g for _, g in rows]
    result = duration_breakdown(values, labels)
    for key, stats in result.items():
        done = [v for v, g in rows if g == key and v is not None]
        assert stats.count == len(done)
        assert stats.pending == sum(1 for v, g in rows if g == key and v is None)
        if done:
            assert stats.median == pytest.approx(statistics.median(done))
            assert stats.mean == pytest.approx(statistics.fmean(done))
            assert stats.max == max(done)
            expected_p90 = (
                done[0]
                if len(done) == 1
                else statistics.quantiles(done, n=10, method="inclusive")[8]
            )
            assert stats.p90 == pytest.approx(expected_p90)
            assert durations(done).to_dict() == pytest.approx(
                {**stats.to_dict(), "name": "duration", "pending": 0}
            )
        else:
            assert stats.median is None


def test_rates() -> None:
    attained = sla_attainment([True, False, True, True], decided=[True, True, True, False])
    assert (attained.numerator, attained.denominator) == (2, 3)
    assert sla_attainment(np.array([True, True])).value == 1.0
    assert loop_closure_rate(opened=8, closed_verified=6).value == 0.75
    assert reopen_rate(resolved=0, reopened=0).value is None
    assert reopen_rate(resolved=4, reopened=1).to_dict()["value"] == 0.25
    assert "loop closure" in loop_closure_rate(4, 1)._repr_html_()
    with pytest.raises(ValidationError):
        Rate("x", 3, 2)
    with pytest.raises(ValidationError):
        Rate("x", -1, 2)
    with pytest.raises(ValidationError, match="booleans"):
        sla_attainment([1, 0])
    with pytest.raises(ValidationError, match="one flag per target"):
        sla_attainment([True], decided=[True, False])


# -- cases ----------------------------------------------------------------------------------------

STEPS = ["ack", "start", "wait", "reply", "resolve", "happy", "unhappy", "close", "reopen"]


def build_case(i: int, priority: str, steps: list[tuple[str, int]]) -> Case:
    """A case driven through whichever of ``steps`` are legal at the time."""
    t = T0 + timedelta(hours=i)
    case = Case.open(f"k{i}", f"c{i}", t, priority=priority).value
    for step, minutes in steps:
        t = t + timedelta(minutes=minutes)
        ops = {
            "ack": lambda c, at: c.acknowledge(at),
            "start": lambda c, at: c.start(at),
            "wait": lambda c, at: c.wait_on_customer(at),
            "reply": lambda c, at: c.customer_replied(at),
            "resolve": lambda c, at: c.resolve(at, root_cause="bug", action_taken="fixed"),
            "happy": lambda c, at: c.follow_up(at, verdict="resolved", satisfaction=5),
            "unhappy": lambda c, at: c.follow_up(at, verdict="not_resolved", satisfaction=1),
            "close": lambda c, at: c.close(at),
            "reopen": lambda c, at: c.reopen(at),
        }
        try:
            case = ops[step](case, t).value
        except (IllegalTransitionError, ValidationError):
            continue
    return case


case_strategy = st.lists(
    st.tuples(
        st.sampled_from(["low", "normal", "high", "urgent"]),
        st.lists(st.tuples(st.sampled_from(STEPS), st.integers(1, 600)), max_size=14),
    ),
    max_size=25,
)


@given(case_strategy, st.integers(0, 3000))
@settings(max_examples=40, deadline=None)
def test_case_report_agrees_with_case_objects(
    specs: list[tuple[str, list[tuple[str, int]]]], cut_minutes: int
) -> None:
    cases = [build_case(i, p, steps) for i, (p, steps) in enumerate(specs)]
    as_of = T0 + timedelta(minutes=cut_minutes)
    report = case_report(cases, as_of=as_of)
    seen = [c for c in cases if c.opened_at <= as_of]
    # the same cases, cut at as_of, in plain Python
    cut = []
    for c in seen:
        kept = tuple(ch for ch in c.history if ch.at <= as_of)
        cut.append(
            Case(
                id=c.id,
                customer_id=c.customer_id,
                opened_at=c.opened_at,
                priority=c.priority,
                history=kept,
                state=kept[-1].to_state if kept else "new",
            )
        )
    firsts = [
        (c.acknowledged_at - c.opened_at).total_seconds()
        for c in cut
        if c.acknowledged_at is not None
    ]
    resolutions = [
        (c.resolved_at - c.opened_at).total_seconds() for c in cut if c.resolved_at is not None
    ]
    assert report.cases == len(cut)
    assert report.open == sum(1 for c in cut if c.is_open)
    assert report.first_response.count == len(firsts)
    assert report.first_response.pending == len(cut) - len(firsts)
    if firsts:
        assert report.first_response.median == pytest.approx(statistics.median(firsts))
    assert report.resolution.count == len(resolutions)
    if resolutions:
        assert report.resolution.mean == pytest.approx(statistics.fmean(resolutions))
    assert report.loop_closure.numerator == sum(1 for c in cut if c.loop_closed)
    assert report.loop_closure.denominator == len(cut)
    ever = [c for c in cut if any(ch.to_state.value == "resolved" for ch in c.history)]
    assert report.reopen.denominator == len(ever)
    assert report.reopen.numerator == sum(1 for c in cut if c.reopen_count > 0)
    assert sum(f.count + f.pending for _, f, _ in report.by_priority) == len(cut)
    for label, first, _ in report.by_priority:
        group = [c for c in cut if c.priority.label == label]
        assert first.count == sum(1 for c in group if c.acknowledged_at is not None)
    # the columns path gives the same report
    assert case_report(CaseColumns.from_cases(cases, as_of=as_of)).to_dict() == report.to_dict()


def test_case_report_example_and_sla_verdicts() -> None:
    t = T0
    closed = Case.open("k1", "c1", t, priority="high").value
    closed = closed.acknowledge(t + timedelta(hours=1)).value.start(t + timedelta(hours=2)).value
    closed = closed.resolve(t + timedelta(hours=5), root_cause="billing", action_taken="refund")
    closed = closed.value.follow_up(t + timedelta(hours=30), verdict="resolved", satisfaction=5)
    closed = closed.value.close(t + timedelta(hours=31)).value
    waiting = Case.open("k2", "c2", t).value.acknowledge(t + timedelta(hours=3)).value
    report = case_report([closed, waiting], sla_met=[True, False, None])
    assert report.loop_closure.value == 0.5
    assert report.first_response.as_timedelta("mean") == timedelta(hours=2)
    assert report.resolution.as_timedelta("median") == timedelta(hours=5)
    assert report.resolution.pending == 1
    assert report.sla is not None and (report.sla.numerator, report.sla.denominator) == (1, 2)
    assert [p for p, _, _ in report.by_priority] == ["normal", "high"]
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert "loop closure 50.0%" in report._repr_html_()
    before_close = case_report([closed, waiting], as_of=t + timedelta(hours=6))
    assert before_close.loop_closure.numerator == 0 and before_close.resolution.count == 1
    assert case_report([]).cases == 0
    with pytest.raises(ValidationError):
        case_report([closed], sla_met=[1])
    with pytest.raises(ValidationError):
        case_report(["k1"])  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        case_report(CaseColumns.from_cases([closed]), as_of=t)


def test_case_report_with_sla_policy() -> None:
    policy = SlaPolicy(
        name="support",
        targets=[
            SlaTarget("normal", first_response=timedelta(hours=2), resolution=timedelta(days=2))
        ],
    )
    t = T0
    fast = Case.open("k1", "c1", t).value.acknowledge(t + timedelta(hours=1)).value
    slow = Case.open("k2", "c2", t).value.acknowledge(t + timedelta(hours=3)).value
    fresh = Case.open("k3", "c3", t + timedelta(hours=4)).value
    later = Case.open("k4", "c4", t + timedelta(days=9)).value
    as_of = t + timedelta(hours=5)
    verdicts = sla_verdicts([fast, slow, fresh, later], policy, as_of)
    assert verdicts[SlaMetric.FIRST_RESPONSE] == (True, False, None)
    assert verdicts[SlaMetric.RESOLUTION] == (None, None, None)
    report = case_report([fast, slow, fresh, later], as_of=as_of, sla_policy=policy)
    assert report.cases == 3
    assert report.sla is not None and (report.sla.numerator, report.sla.denominator) == (1, 2)
    by_metric = dict(report.sla_by_metric)
    assert by_metric["first_response"].value == 0.5
    assert by_metric["resolution"].value is None
    assert report.to_dict()["sla_by_metric"]["resolution"]["denominator"] == 0
    with pytest.raises(ValidationError, match="not both"):
        case_report([fast], as_of=as_of, sla_policy=policy, sla_met=[True])
    with pytest.raises(ValidationError, match="as_of"):
        case_report([fast], sla_policy=policy)
