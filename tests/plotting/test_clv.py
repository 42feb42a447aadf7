"""CLV and P(alive) plots, after lifetimes.plotting, on the CDNOW sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crmcore.analytics import (
    BgNbdModel,
    BtydSummary,
    GammaGammaModel,
    PredictedClv,
    customer_lifetime_value,
    summary_from_transactions,
)
from crmcore.datasets import CDNOW_CALIBRATION_END, CDNOW_HOLDOUT_END, load_cdnow
from crmcore.kernel.errors import ValidationError
from crmcore.plotting import (
    plot_calibration_purchases_vs_holdout_purchases,
    plot_clv,
    plot_frequency_recency_matrix,
    plot_probability_alive_matrix,
    plot_purchase_model,
)
from tests.plotting.conftest import render, texts

# The published CDNOW fits (Fader, Hardie & Lee 2005; lifetimes' docs): no fit needed here.
MODEL = BgNbdModel(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W")
SPEND = GammaGammaModel(p=6.25, q=3.74, v=15.44)


@pytest.fixture(scope="module")
def summary() -> BtydSummary:
    return summary_from_transactions(
        load_cdnow(), CDNOW_CALIBRATION_END, "D", time_unit="W", holdout_end=CDNOW_HOLDOUT_END
    )


def _one(frequency: int, recency: float, age: float) -> BtydSummary:
    return BtydSummary(
        customer_ids=["x"],
        frequency=[frequency],
        recency=[recency],
        T=[age],
        monetary=[10.0 if frequency else 0.0],
        time_unit="W",
    )


def test_the_probability_alive_matrix_is_p_alive_on_the_frequency_recency_grid(
    summary: BtydSummary, tmp_path: Path
) -> None:
    ax = MODEL.plot(summary)
    render(ax, tmp_path / "alive.png")
    grid = ax.images[0].get_array()
    top_f, top_r = int(summary.frequency.max()), int(np.ceil(summary.T.max()))
    assert grid.shape == (top_r + 1, top_f + 1)  # recency down, frequency across
    assert np.all(grid[:, 0] == 1.0)  # never came back: alive by the model's definition
    for f, r in [(1, 0), (3, 20), (10, 30), (top_f, top_r)]:
        expected = MODEL.probability_alive(_one(f, r, top_r))[0]
        assert grid[r, f] == pytest.approx(expected)
    assert ax.figure.axes[-1].get_ylabel() == "P(alive)"
    assert ax.get_xlabel() == "customer's historical frequency (repeat purchases)"
    assert ax.get_ylabel() == "customer's recency (weeks)"


def test_the_frequency_recency_matrix_is_the_expected_purchases_in_the_next_t(
    summary: BtydSummary, tmp_path: Path
) -> None:
    ax = plot_frequency_recency_matrix(MODEL, summary, t=4, max_frequency=12, max_recency=20)
    render(ax, tmp_path / "frequency_recency.png")
    grid = ax.images[0].get_array()
    assert grid.shape == (21, 13)
    assert grid[15, 7] == pytest.approx(MODEL.expected_purchases(_one(7, 15, 20), 4)[0])
    assert "next 4 weeks" in ax.get_title(loc="left")
    assert MODEL.plot(summary, kind="frequency_recency").images[0].get_array().shape == (
        int(np.ceil(summary.T.max())) + 1,
        int(summary.frequency.max()) + 1,
    )


def test_calibration_vs_holdout_compares_group_means_by_calibration_frequency(
    summary: BtydSummary, tmp_path: Path
) -> None:
    ax = MODEL.plot(summary, kind="calibration")
    render(ax, tmp_path / "calibration.png")
    actual, model = ax.lines
    assert list(actual.get_xdata()) == list(range(7))
    assert summary.holdout_frequency is not None and summary.holdout_duration is not None
    for x, y in zip(actual.get_xdata(), actual.get_ydata(), strict=True):
        group = summary.frequency == x
        assert y == pytest.approx(summary.holdout_frequency[group].mean())
    predicted = MODEL.expected_purchases(summary, summary.holdout_duration)
    assert model.get_ydata()[2] == pytest.approx(predicted[summary.frequency == 2].mean())
    assert ax.get_title(loc="left") == "Actual purchases in the holdout (39 weeks) vs predicted"


def test_calibration_groups_by_recency_and_needs_a_holdout(summary: BtydSummary) -> None:
    ax = plot_calibration_purchases_vs_holdout_purchases(MODEL, summary, kind="recency", n=10)
    assert list(ax.lines[0].get_xdata()) == list(range(10))
    calibration_only = summary_from_transactions(
        load_cdnow(), CDNOW_CALIBRATION_END, "D", time_unit="W"
    )
    with pytest.raises(ValidationError, match="holdout"):
        plot_calibration_purchases_vs_holdout_purchases(MODEL, calibration_only)


def test_the_clv_curve_shows_how_concentrated_the_value_is(
    summary: BtydSummary, tmp_path: Path
) -> None:
    clv = customer_lifetime_value(MODEL, SPEND, summary, months=12, discount_rate=0.01)
    assert isinstance(clv, PredictedClv)
    ax = clv.plot()
    render(ax, tmp_path / "clv.png")
    x, y = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    assert (x[0], y[0], x[-1]) == (0.0, 0.0, 100.0) and y[-1] == pytest.approx(100.0)
    assert np.all(np.diff(y) >= 0) and np.all(np.diff(y, 2) <= 1e-9)  # rises, ever slower
    ranked = np.sort(clv.clv)[::-1]
    top = int(np.ceil(0.2 * len(ranked)))
    held = 100 * ranked[:top].sum() / ranked.sum()
    assert f"top 20% hold {held:.0f}%" in texts(ax)
    assert plot_clv(clv).lines[0].get_ydata().tolist() == y.tolist()


def test_bad_arguments_are_refused(summary: BtydSummary) -> None:
    with pytest.raises(ValidationError, match="kind"):
        plot_purchase_model(MODEL, summary, kind="histogram")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="kind: must be one of 'probability_alive'"):
        MODEL.plot(summary, kind=np.array(["calibration"]))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="BgNbdModel"):
        plot_probability_alive_matrix(SPEND, summary)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="250,000"):
        plot_probability_alive_matrix(MODEL, summary, max_frequency=999, max_recency=999)
    with pytest.raises(ValidationError, match="t"):
        plot_frequency_recency_matrix(MODEL, summary, t=0)
    with pytest.raises(ValidationError, match="PredictedClv"):
        plot_clv(summary)  # type: ignore[arg-type]
