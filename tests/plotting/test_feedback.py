"""Feedback plots: NPS by month with its band, and NPS per group with its interval."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from crmcore.feedback.breakdowns import breakdown, trend
from crmcore.kernel.errors import ValidationError
from crmcore.plotting import plot_score_breakdown, plot_score_trend
from tests.plotting.conftest import render

START = datetime(2026, 1, 5, tzinfo=UTC)
# January: 2 promoters 1 detractor; February: nothing; March: 1 promoter 2 detractors 1 passive
ANSWERS = [(0, 10), (3, 9), (9, 2), (62, 10), (64, 3), (70, 0), (80, 8)]


def test_the_nps_trend_is_a_line_per_month_with_gaps_and_answers_behind(tmp_path: Path) -> None:
    scores = [s for _, s in ANSWERS]
    times = [START + timedelta(days=d) for d, _ in ANSWERS]
    monthly = trend(scores, times, scale="nps", period="month")
    ax = monthly.plot()
    render(ax, tmp_path / "nps_trend.png")
    values = ax.lines[0].get_ydata()
    assert [r.key for r in monthly.rows] == ["2026-01", "2026-02", "2026-03"]
    assert values[0] == pytest.approx(100 / 3) and values[2] == pytest.approx(-25.0)
    assert math.isnan(values[1])  # a month without answers is a gap, not a zero
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026-01", "2026-02", "2026-03"]
    answers = ax.figure.axes[1]  # the twin axis behind the line
    assert [b.get_height() for b in answers.patches] == [3, 0, 4]
    assert ax.lines[1].get_ydata()[0] == 0  # the zero line of NPS
    assert ax.get_title(loc="left").startswith("NPS by month (overall +0.0), 95% interval")


def test_a_breakdown_is_one_bar_per_group_with_its_interval(tmp_path: Path) -> None:
    scores = [10, 9, 2, 10, 3, 0, 8]
    labels = ["email", "email", "email", "app", "app", "phone", "phone"]
    by_channel = breakdown(scores, labels, scale="nps", by="channel")
    ax = by_channel.plot()
    render(ax, tmp_path / "nps_breakdown.png")
    bars = ax.patches
    widths = {r.key: bar.get_width() for r, bar in zip(by_channel.rows, bars, strict=True)}
    assert widths == pytest.approx({"email": 100 / 3, "app": 0.0, "phone": -50.0})
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(ticks) == ["app (2)", "email (3)", "phone (2)"]
    assert np.isclose(ax.lines[-1].get_xdata()[0], by_channel.overall.value)  # type: ignore[union-attr]
    again = plot_score_breakdown(by_channel).patches
    assert [bar.get_width() for bar in again] == [bar.get_width() for bar in bars]


def test_anything_else_is_refused() -> None:
    with pytest.raises(ValidationError, match="MetricBreakdown"):
        plot_score_trend({"rows": []})  # type: ignore[arg-type]
