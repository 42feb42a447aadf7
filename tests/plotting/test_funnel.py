"""Funnel plots: bars per step with drop-off and conversion; one line per group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from crmcore import Customer, Geography
from crmcore.columnar import CustomerFrame, EventLog
from crmcore.funnel import FunnelReport, funnel_breakdown, funnel_report
from crmcore.kernel.errors import ValidationError
from crmcore.plotting import plot_funnel, plot_funnel_breakdown
from tests.plotting.conftest import render, texts

T = datetime(2026, 3, 2, 9, tzinfo=UTC)
PATHS = {"ann": "vscp", "bo": "vsc", "cy": "vs", "di": "v", "ed": "vscp", "flo": "vs"}
COUNTRY = {"ann": "DE", "bo": "DE", "cy": "FR", "di": "FR", "ed": "DE", "flo": "FR"}


@pytest.fixture
def log() -> EventLog:
    kinds = {"v": "visit", "s": "signup", "c": "cart", "p": "purchase"}
    return EventLog.from_records(
        {"customer_id": c, "at": T + timedelta(hours=h), "kind": kinds[k]}
        for c, path in PATHS.items()
        for h, k in enumerate(path)
    )


@pytest.fixture
def report(log: EventLog) -> FunnelReport:
    return funnel_report(log, ["visit", "signup", "cart", "purchase"])


def test_bars_are_the_customers_per_step_with_the_drop_off_stacked_above(
    report: FunnelReport, tmp_path: Path
) -> None:
    ax = report.plot()
    render(ax, tmp_path / "funnel.png")
    reached, dropped = ax.containers
    assert [b.get_height() for b in reached] == [6, 5, 3, 2]
    assert [b.get_height() for b in dropped] == [0, 1, 2, 1]
    # each grey-and-blue column is as tall as the step before it
    tops = [r.get_height() + d.get_height() for r, d in zip(reached, dropped, strict=True)]
    assert tops == [6, 6, 5, 3]
    labels = texts(ax)
    assert {"83.3%", "60.0%", "66.7%"} <= set(labels)  # step-to-step conversion
    assert {"-1", "-2"} <= set(labels)  # drop-off inside the grey
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "1. visit",
        "2. signup",
        "3. cart",
        "4. purchase",
    ]
    assert ax.get_title(loc="left") == "Funnel: 6 entered, 33.3% converted"


def test_the_method_and_the_function_draw_the_same(report: FunnelReport) -> None:
    a, b = report.plot(), plot_funnel(report)
    assert [p.get_height() for p in a.patches] == [p.get_height() for p in b.patches]


def test_a_given_axes_is_drawn_on_and_returned(report: FunnelReport) -> None:
    import matplotlib.pyplot as plt

    _, (left, right) = plt.subplots(1, 2)
    assert plot_funnel(report, ax=right) is right
    assert not left.patches and len(right.patches) == 8


def test_the_breakdown_draws_one_line_per_group(log: EventLog, tmp_path: Path) -> None:
    frame = CustomerFrame.from_customers(
        Customer.register(c, c.title(), T, geography=Geography(country=k)).value
        for c, k in COUNTRY.items()
    )
    steps = ["visit", "signup", "cart", "purchase"]
    breakdown = funnel_breakdown(log, steps, by="country", frame=frame)
    ax = breakdown.plot()
    render(ax, tmp_path / "breakdown.png")
    assert len(ax.lines) == 2
    by_group = {line.get_label(): line.get_ydata() for line in ax.lines}
    assert set(by_group) == {"DE (3)", "FR (3)"}
    np.testing.assert_allclose(by_group["DE (3)"], [100, 100, 100, 200 / 3])
    np.testing.assert_allclose(by_group["FR (3)"], [100, 200 / 3, 0, 0])


def test_anything_but_a_funnel_report_is_refused() -> None:
    with pytest.raises(ValidationError, match="FunnelReport"):
        plot_funnel("not a report")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="FunnelBreakdown"):
        plot_funnel_breakdown(object())  # type: ignore[arg-type]


def test_an_axes_that_is_not_one_is_refused(report: FunnelReport) -> None:
    with pytest.raises(ValidationError, match="matplotlib Axes"):
        plot_funnel(report, ax="axes")  # type: ignore[arg-type]
