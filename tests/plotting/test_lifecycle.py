"""Lifecycle plots: customers per state at one date, and the flow of states over time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from crmcore.columnar import TransactionLog
from crmcore.kernel.errors import ValidationError
from crmcore.lifecycle import BatchClassification, LifecycleState, classify_log
from crmcore.plotting import plot_lifecycle_flow
from tests.plotting.conftest import render, texts

STATES = [s.value for s in LifecycleState]


@pytest.fixture(scope="module")
def monthly(retail_log: TransactionLog) -> list[BatchClassification]:
    return [classify_log(retail_log, datetime(2011, m, 1, tzinfo=UTC)) for m in range(3, 13)]


def test_one_classification_is_one_bar_per_state(
    monthly: list[BatchClassification], tmp_path: Path
) -> None:
    last = monthly[-1]
    ax = last.plot()
    render(ax, tmp_path / "states.png")
    widths = {
        t.get_text(): b.get_width() for t, b in zip(ax.get_yticklabels(), ax.patches, strict=True)
    }
    assert widths == {s.value: n for s, n in last.counts().items()}
    assert sum(widths.values()) == len(last)
    assert f" {last.counts()[LifecycleState.NEW]:,}" in texts(ax)
    assert ax.get_title(loc="left") == "Lifecycle states as of 2011-12-01"


def test_several_dates_stack_the_customers_per_state_over_time(
    monthly: list[BatchClassification], tmp_path: Path
) -> None:
    ax = plot_lifecycle_flow(list(reversed(monthly)))  # any order: drawn by date
    render(ax, tmp_path / "flow.png")
    layers = ax.collections
    assert [layer.get_label() for layer in layers] == STATES
    # the top of the last layer is the whole base, at every date
    top = layers[-1].get_paths()[0].vertices[:, 1].max()
    assert top == pytest.approx(len(monthly[0]))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == STATES[::-1]  # read top-down like the stack
    assert ax.get_title(loc="left") == "Lifecycle flow, 2011-03-01 to 2011-12-01"


def test_shares_stack_to_one_hundred(monthly: list[BatchClassification]) -> None:
    ax = plot_lifecycle_flow(monthly, share=True)
    heights = np.array([[c[s] for s in c] for c in (r.counts() for r in monthly)], dtype=float)
    expected = 100 * heights / heights.sum(axis=1, keepdims=True)
    prospect = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert prospect.max() == pytest.approx(expected[:, 0].max())
    assert ax.get_ylim() == (0.0, 100.0)


def test_dates_must_differ_and_there_must_be_one(monthly: list[BatchClassification]) -> None:
    with pytest.raises(ValidationError, match="different dates"):
        plot_lifecycle_flow([monthly[0], monthly[0]])
    with pytest.raises(ValidationError, match="at least one"):
        plot_lifecycle_flow([])
    with pytest.raises(ValidationError, match="BatchClassification"):
        plot_lifecycle_flow([monthly[0], "March"])  # type: ignore[list-item]
