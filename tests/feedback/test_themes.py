"""Themes: volume, share, customers, trend and NPS impact agree with plain Python; ranking."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.feedback.feedback import Feedback, FeedbackLog
from crmcore.feedback.survey_scores import nps
from crmcore.feedback.themes import theme_report
from crmcore.kernel.errors import NotFoundError, ValidationError

T0 = datetime(2026, 1, 1, tzinfo=UTC)
THEMES = ["delivery", "price", "staff", "app"]


def item(i: int, themes: list[str], score: int | None, customer: int, day: int) -> Feedback:
    return Feedback(
        id=f"f{i}",
        customer_id=f"c{customer}",
        channel="survey",
        kind="complaint",
        at=T0 + timedelta(days=day),
        scores={} if score is None else {"nps": score},
        themes=themes,
    )


rows_strategy = st.lists(
    st.tuples(
        st.lists(st.sampled_from(THEMES), max_size=3),
        st.none() | st.integers(0, 10),
        st.integers(0, 5),
        st.integers(0, 120),
    ),
    max_size=60,
)


@given(rows_strategy)
@settings(max_examples=50, deadline=None)
def test_theme_report_agrees_with_plain_python(
    rows: list[tuple[list[str], int | None, int, int]],
) -> None:
    items = [item(i, *row) for i, row in enumerate(rows)]
    report = theme_report(items, period="month")
    answered = [f.score("nps") for f in items if f.score("nps") is not None]
    overall = nps(answered).value if answered else None
    assert report.feedback == len(items)
    assert report.untagged == sum(1 for f in items if not f.themes)
    assert {r.theme for r in report.rows} == {t for f in items for t in f.themes}
    for r in report.rows:
        tagged = [f for f in items if r.theme in f.themes]
        assert r.volume == len(tagged)
        assert r.customers == len({f.customer_id for f in tagged})
        assert r.share == pytest.approx(len(tagged) / len(items))
        assert sum(r.trend) == r.volume and len(r.trend) == len(report.periods)
        for label, count in zip(report.periods, r.trend, strict=True):
            assert count == sum(1 for f in tagged if f.at.strftime("%Y-%m") == label)
        scores = [f.score("nps") for f in tagged if f.score("nps") is not None]
        assert r.nps_answers == len(scores)
        if scores:
            assert r.nps is not None and overall is not None
            assert r.nps.value == pytest.approx(nps(scores).value)
            assert r.nps_impact == pytest.approx(r.nps.value - overall)
            assert r.nps_drag == pytest.approx(
                len(scores) / len(answered) * (overall - r.nps.value)
            )
        else:
            assert r.nps is None and r.nps_impact is None and r.nps_drag is None
    volumes = [(-r.volume, r.theme) for r in report.rows]
    assert volumes == sorted(volumes)
    # the FeedbackLog path gives the same report
    assert theme_report(FeedbackLog.from_feedback(items)).to_dict() == report.to_dict()


def test_rankings_and_min_answers() -> None:
    items = [
        item(0, ["delivery"], 0, 0, 0),
        item(1, ["delivery"], 2, 1, 1),
        item(2, ["delivery"], 10, 2, 2),
        item(3, ["price"], 0, 3, 3),
        item(4, ["staff"], 10, 4, 4),
        item(5, ["staff"], 9, 5, 5),
        item(6, ["app"], None, 5, 6),
    ]
    by_volume = theme_report(items)
    assert [r.theme for r in by_volume.rows] == ["delivery", "staff", "app", "price"]
    by_impact = theme_report(items, rank_by="nps_impact")
    assert [r.theme for r in by_impact.rows] == ["price", "delivery", "staff", "app"]
    by_drag = theme_report(items, rank_by="nps_drag")
    # overall NPS = (3 - 3) / 6 = 0; delivery drags 3/6 * (0 - -33.3) = 16.7, price 1/6 * 100
    assert [r.theme for r in by_drag.rows][:2] == ["delivery", "price"]
    assert by_drag.row("price").nps_drag == pytest.approx(100 / 6)
    strict = theme_report(items, rank_by="nps_impact", min_answers=2)
    assert strict.row("price").nps is None and strict.row("price").nps_answers == 1
    assert [r.theme for r in strict.rows][:2] == ["delivery", "staff"]
    assert [r.theme for r in by_volume.top(2)] == ["delivery", "staff"]
    with pytest.raises(NotFoundError):
        by_volume.row("parking")


def test_weekly_trend_is_contiguous() -> None:
    items = [item(0, ["app"], None, 0, 0), item(1, ["app"], None, 0, 21)]
    report = theme_report(items, period="week")
    assert report.periods == ("2026-W01", "2026-W02", "2026-W03", "2026-W04")
    assert report.row("app").trend == (1, 0, 0, 1)


def test_empty_and_untagged_feedback() -> None:
    empty = theme_report([])
    assert (empty.rows, empty.feedback, empty.overall_nps, empty.periods) == ((), 0, None, ())
    untagged = theme_report([item(0, [], 9, 0, 0)])
    assert untagged.rows == () and untagged.untagged == 1
    assert untagged.overall_nps is not None and untagged.overall_nps.value == 100


@pytest.mark.parametrize(
    "kwargs",
    [
        {"period": "year"},
        {"rank_by": "loudness"},
        {"min_answers": 0},
        {"min_answers": True},
        {"confidence": 2},
    ],
)
def test_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        theme_report([item(0, ["app"], 9, 0, 0)], **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        theme_report([item(0, ["app"], 9, 0, 0)]).top(0)


def test_report_serialises_and_renders() -> None:
    report = theme_report([item(0, ["app"], 3, 0, 0), item(1, ["price"], 10, 1, 40)])
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["periods"] == ["2026-01", "2026-02"]
    html = report._repr_html_()
    assert "Themes by volume" in html and "price" in html
