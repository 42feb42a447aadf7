"""The vectorised journey report: definitions on small fixtures, edge cases and errors."""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from crmcore.columnar import Column, EventLog
from crmcore.customers import Interaction
from crmcore.funnel import Stage
from crmcore.journey import (
    JourneyMap,
    PainWeights,
    Scale,
    Touchpoint,
    TouchpointScore,
    TouchpointScores,
    journey_report,
    reference_journey_report,
)
from crmcore.kernel.errors import NotFoundError, ValidationError

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
H = timedelta(hours=1)


def _log(*rows: tuple[str, float, str | None, str, str | None]) -> EventLog:
    """Events as (customer, hours after T0, channel, kind, stage)."""
    return EventLog.from_records(
        {"customer_id": c, "at": T0 + h * H, "channel": ch, "kind": k, "stage": s}
        for c, h, ch, k, s in rows
    )


WEB = Touchpoint("web", "visit")
CALL = Touchpoint("phone", "call")


def test_conversion_counts_customers_reaching_a_later_stage_after_the_first_touch() -> None:
    log = _log(
        ("A", 0, "web", "visit", "awareness"),
        ("A", 1, "web", "visit", "awareness"),  # repeat visit: volume 2, one customer
        ("A", 2, None, "intent", "intent"),  # a stage marker without a channel counts
        ("B", 0, "web", "visit", "awareness"),
        ("B", 3, "web", "visit", "awareness"),  # same stage again is not "later"
        ("C", 5, None, "interest", "interest"),  # before C's visit: not after it
        ("C", 6, "web", "visit", "awareness"),
    )
    report = journey_report(log)
    row = report.row(WEB)
    assert (row.volume, row.customers, row.converted) == (5, 3, 1)
    assert row.conversion == pytest.approx(1 / 3)
    assert row.stage is Stage.AWARENESS and row.stage_source == "log"
    assert (report.customers, report.events, report.other_events) == (3, 7, 2)
    assert len(report) == 1  # events without a channel are not touchpoints


def test_an_event_at_the_same_instant_is_not_after_the_touchpoint() -> None:
    log = _log(
        ("A", 0, "web", "visit", "awareness"),
        ("A", 0, "phone", "call", "interest"),
        ("B", 0, "web", "visit", "awareness"),
        ("B", 0.5, "phone", "call", "interest"),
    )
    assert journey_report(log).row(WEB).converted == 1


def test_the_window_is_measured_from_the_first_touch_and_is_inclusive() -> None:
    log = _log(
        ("A", 0, "web", "visit", "awareness"),
        ("A", 2, "phone", "call", "interest"),  # exactly 2 h after the first visit
        ("B", 0, "web", "visit", "awareness"),
        ("B", 5, "web", "visit", "awareness"),  # a later visit does not restart the clock
        ("B", 6, "phone", "call", "interest"),
    )
    assert journey_report(log).row(WEB).converted == 2
    assert journey_report(log, window=2 * H).row(WEB).converted == 1
    assert journey_report(log, window=2 * H - timedelta(microseconds=1)).row(WEB).converted == 0
    assert journey_report(log, window=2 * H).window == 2 * H


def test_the_earliest_later_stage_event_decides_the_window() -> None:
    log = _log(
        ("A", 0, "web", "visit", "awareness"),
        ("A", 1, "chat", "hi", "consideration"),
        ("A", 9, "phone", "call", "interest"),
    )
    assert journey_report(log, window=H).row(WEB).converted == 1


def test_an_events_own_stage_wins_over_its_touchpoints_stage() -> None:
    log = _log(
        ("A", 0, "web", "visit", None),
        ("A", 1, "phone", "call", "awareness"),  # the call itself was recorded at awareness
        ("B", 0, "web", "visit", None),
        ("B", 1, "phone", "call", None),  # takes the call's mapped stage, intent
    )
    plan = JourneyMap({WEB: "awareness", CALL: "intent"})
    report = journey_report(log, journey_map=plan)
    assert report.row(WEB).converted == 1
    assert report.row(CALL).stage_source == "map"


def test_an_explicit_map_overrides_the_derived_stage() -> None:
    log = _log(("A", 0, "web", "visit", "interest"), ("A", 1, "phone", "call", "interest"))
    derived = journey_report(log)
    assert derived.row(WEB).stage is Stage.INTEREST and derived.row(WEB).converted == 0
    pinned = journey_report(log, journey_map=JourneyMap({WEB: "awareness"}))
    assert pinned.row(WEB).stage is Stage.AWARENESS and pinned.row(WEB).stage_source == "map"
    assert pinned.row(WEB).converted == 1
    assert pinned.row(CALL).stage_source == "log"


def test_unmapped_and_unseen_touchpoints_are_reported_not_dropped() -> None:
    log = _log(("A", 0, "web", "visit", "awareness"), ("A", 1, "chat", "hi", None))
    scores = [TouchpointScore("A", "email", "survey", T0, 2, "csat")]
    plan = JourneyMap({"store/purchase": "conversion"})
    report = journey_report(log, scores, journey_map=plan)
    assert [r.touchpoint.label for r in report.rows] == [
        "web/visit",
        "store/purchase",
        "chat/hi",
        "email/survey",
    ]
    assert [r.touchpoint.label for r in report.unmapped] == ["chat/hi", "email/survey"]
    assert [r.touchpoint.label for r in report.unseen] == ["store/purchase", "email/survey"]
    chat = report.row("chat/hi")
    assert chat.stage is None and chat.conversion is None and chat.stage_conversion is None
    email = report.row("email/survey")
    assert (email.volume, email.score_count, email.share_negative) == (0, 1, 1.0)
    assert email.pain == 0.0  # no logged volume: no measured impact
    assert list(report.by_stage()) == [Stage.AWARENESS, Stage.CONVERSION, None]


def test_derive_false_leaves_touchpoints_without_an_entry_unmapped() -> None:
    log = _log(("A", 0, "web", "visit", "awareness"), ("A", 1, "phone", "call", "interest"))
    report = journey_report(log, journey_map=JourneyMap({CALL: "interest"}, derive=False))
    assert report.row(WEB).stage is None and report.row(WEB).stage_source is None
    assert report.row(CALL).stage is Stage.INTEREST


def test_the_last_stage_has_no_conversion() -> None:
    log = _log(("A", 0, "web", "review", "advocacy"), ("A", 1, "web", "visit", "awareness"))
    row = journey_report(log).row("web/review")
    assert row.stage is Stage.ADVOCACY
    assert row.conversion is None and row.stage_conversion is None and row.conversion_gap is None


def test_scores_give_mean_share_negative_and_shortfall() -> None:
    log = _log(("A", 0, "web", "visit", "awareness"), ("B", 0, "web", "visit", "awareness"))
    scores = TouchpointScores.from_arrays(
        ["A", "B", "A", "B"], ["web"] * 4, ["visit"] * 4, [0, 6, 7, 10], scale="nps"
    )
    row = journey_report(log, scores).row(WEB)
    assert (row.score_count, row.negative_count) == (4, 2)
    assert row.mean_score == 5.75 and row.share_negative == 0.5
    assert row.shortfall == pytest.approx((7.5 - 5.75) / 7.5)


def test_pain_combines_negative_shortfall_conversion_gap_and_volume() -> None:
    # Two awareness touchpoints: web (4 visits, 4 customers, 3 convert) and app (1, 1, 0).
    log = _log(
        *[(c, 0, "web", "visit", "awareness") for c in "ABCD"],
        *[(c, 1, None, "signup", "interest") for c in "ABC"],
        ("E", 0, "app", "open", "awareness"),
    )
    scores = [
        TouchpointScore("A", "web", "visit", T0, 1, "csat"),
        TouchpointScore("B", "web", "visit", T0, 5, "csat"),
        TouchpointScore("E", "app", "open", T0, 2, "csat"),
    ]
    report = journey_report(log, scores)
    web, app = report.row("web/visit"), report.row("app/open")
    assert web.stage_conversion == app.stage_conversion == 3 / 5
    assert web.conversion_gap == 0.0  # above the stage average
    assert app.conversion_gap == 1.0  # (0.6 - 0) / 0.6
    assert web.shortfall == 0.0  # mean 3 = the CSAT neutral point
    assert app.shortfall == 0.5  # (3 - 2) / (3 - 1)
    assert web.pain == pytest.approx((0.5 + 0 + 0) / 3 * 1.0)
    assert app.pain == pytest.approx((1.0 + 0.5 + 1.0) / 3 * math.sqrt(1 / 4))
    assert report.pain_points() == (app, web)
    assert report.pain_points(top=1) == (app,)
    weighted = journey_report(
        log, scores, weights=PainWeights(negative=1, shortfall=0, conversion=0)
    )
    assert weighted.row("app/open").pain == pytest.approx(0.5)
    assert weighted.pain_points() == (weighted.row("web/visit"), weighted.row("app/open"))


def test_pain_point_ties_break_by_volume_stage_then_name() -> None:
    log = _log(
        ("A", 0, "web", "b", "interest"),
        ("A", 0, "web", "a", "interest"),
        ("A", 0, "app", "z", "awareness"),
        ("B", 0, "app", "z", "awareness"),
    )
    scores = [
        TouchpointScore("A", "web", "b", T0, 1, "csat"),
        TouchpointScore("A", "web", "a", T0, 1, "csat"),
        TouchpointScore("A", "app", "z", T0, 1, "csat"),
    ]
    ranked = journey_report(log, scores).pain_points()
    assert [r.touchpoint.label for r in ranked] == ["app/z", "web/a", "web/b"]
    assert ranked[1].pain == ranked[2].pain


def test_pain_points_top_must_be_positive() -> None:
    report = journey_report(_log(("A", 0, "web", "visit", "awareness")))
    assert report.pain_points() == ()
    for top in (0, -1, True, 1.5):
        with pytest.raises(ValidationError, match="top"):
            report.pain_points(top=top)  # type: ignore[arg-type]


def test_to_dict_is_json_and_html_escapes_and_draws_bars() -> None:
    log = _log(("A", 0, "web", "visit", "awareness"), ("A", 1, "phone", "call", "interest"))
    scores = [TouchpointScore("A", "phone", "call", T0, 1, "ces")]
    report = journey_report(log, scores, window=24 * H)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["scale"] == "ces" and data["window_seconds"] == 86400.0
    assert data["stage_conversion"] == {"awareness": 1.0, "interest": 0.0}
    assert data["pain_points"] == ["phone/call"]
    assert data["rows"][0]["touchpoint"] == "web/visit" and data["rows"][0]["mean_score"] is None
    assert data["unmapped"] == [] and data["unseen"] == []
    html = report._repr_html_()
    assert "Journey map (CES): 2 touchpoints" in html
    assert "phone/call" in html and "background:#4c78a8" in html
    assert "<script" not in html


def test_row_lookup_raises_not_found() -> None:
    report = journey_report(_log(("A", 0, "web", "visit", "awareness")))
    with pytest.raises(NotFoundError):
        report.row("web/other")


def test_empty_inputs_give_an_empty_report() -> None:
    empty = EventLog.from_records([])
    report = journey_report(empty, [], window=H)
    assert report.rows == () and report.pain_points() == ()
    assert (report.customers, report.events, report.other_events, report.scale) == (0, 0, 0, None)
    assert json.loads(json.dumps(report.to_dict()))["rows"] == []
    assert "0 touchpoints" in report._repr_html_()
    scored = journey_report(empty, TouchpointScores.from_scores([], scale="nps"))
    assert scored.rows == () and scored.scale is Scale.NPS
    assert reference_journey_report([]) == journey_report(empty)


def test_an_empty_log_with_a_map_lists_the_maps_touchpoints_unseen() -> None:
    report = journey_report(EventLog.from_records([]), journey_map=JourneyMap({WEB: 1}))
    assert [r.touchpoint for r in report.unseen] == [WEB]
    assert report.row(WEB).conversion is None  # nobody touched it: 0 / 0 is undefined


@pytest.mark.parametrize("window", [timedelta(0), -H, 3600, "1h"])
def test_window_must_be_a_positive_timedelta(window: object) -> None:
    log = _log(("A", 0, "web", "visit", "awareness"))
    with pytest.raises(ValidationError) as info:
        journey_report(log, window=window)  # type: ignore[arg-type]
    assert info.value.field == "window"
    with pytest.raises(ValidationError):
        reference_journey_report([], window=window)  # type: ignore[arg-type]


def test_bad_arguments_raise_named_errors() -> None:
    log = _log(("A", 0, "web", "visit", "awareness"))
    with pytest.raises(ValidationError, match="log"):
        journey_report([])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="journey_map"):
        journey_report(log, journey_map={"web/visit": 1})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="scores"):
        journey_report(log, "csat")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="weights"):
        journey_report(log, weights={"negative": 1})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"weights\.shortfall"):
        PainWeights(shortfall=-1)
    with pytest.raises(ValidationError, match="at least one"):
        PainWeights(0, 0, 0)
    mixed = [
        TouchpointScore("A", "web", "visit", T0, 4, "csat"),
        TouchpointScore("A", "web", "visit", T0, 4, "nps"),
    ]
    with pytest.raises(ValidationError, match="row 1: scale"):
        journey_report(log, mixed)
    with pytest.raises(ValidationError, match="row 1: scale"):
        reference_journey_report([], mixed)
    with pytest.raises(ValidationError, match="row 0"):
        reference_journey_report(["x"])  # type: ignore[list-item]


def test_unknown_stages_and_naive_datetimes_are_named() -> None:
    with pytest.raises(ValidationError) as info:
        journey_report(_log(("A", 0, "web", "visit", "awareness"), ("A", 1, "web", "x", "won")))
    assert info.value.field == "row 1: stage"
    with pytest.raises(ValidationError, match="row 0: at"):
        EventLog.from_records([{"customer_id": "A", "at": datetime(2026, 3, 1), "kind": "visit"}])
    with pytest.raises(ValidationError, match=r"score\.at"):
        TouchpointScore("A", "web", "visit", datetime(2026, 3, 1), 3, "csat")


def test_the_result_does_not_depend_on_event_order() -> None:
    rows = [
        ("A", 0, "web", "visit", "awareness"),
        ("B", 1, "phone", "call", "interest"),
        ("A", 2, "phone", "call", "interest"),
        ("B", 0, "web", "visit", None),
        ("A", 2, None, "buy", "conversion"),
    ]
    forward = journey_report(_log(*rows), window=H)
    assert journey_report(_log(*reversed(rows)), window=H) == forward


def test_a_large_log_runs_vectorised() -> None:
    rng = np.random.default_rng(7)
    n, people = 200_000, 20_000
    channels = ["web", "phone", "chat", "store", None]
    kinds = ["visit", "inquiry", "demo", "purchase"]
    stages = ["awareness", "interest", "consideration", "intent", "conversion", None]
    ch = rng.integers(0, len(channels), n)
    log = EventLog(
        {
            "customer_id": Column.from_numpy(
                "string", np.char.add("C", rng.integers(0, people, n).astype(str))
            ),
            "at": Column.from_numpy(
                "datetime",
                np.datetime64("2026-01-01T00:00", "us") + rng.integers(0, 10**12, n),
            ),
            "kind": Column.from_numpy("category", rng.integers(0, 4, n), categories=sorted(kinds)),
            "channel": Column.from_numpy(
                "category", np.where(ch == 4, -1, ch), categories=sorted(c for c in channels if c)
            ),
            "stage": Column.from_numpy(
                "category",
                np.where((s := rng.integers(0, 6, n)) == 5, -1, s),
                categories=sorted(x for x in stages if x),
            ),
        }
    )
    start = time.perf_counter()
    report = journey_report(log, window=timedelta(days=30))
    elapsed = time.perf_counter() - start
    assert len(report) == 16 and sum(r.volume for r in report.rows) + report.other_events == n
    assert elapsed < 3.0, elapsed  # typically ~0.1 s; a per-event Python loop would take far longer


def test_interactions_build_the_same_log() -> None:
    xs = [
        Interaction("i1", "A", T0, "web", "visit", "awareness"),
        Interaction("i2", "A", T0 + H, "phone", "call"),
    ]
    plan = JourneyMap({CALL: "intent"})
    log = EventLog.from_interactions(xs)
    assert journey_report(log, journey_map=plan) == reference_journey_report(xs, journey_map=plan)
