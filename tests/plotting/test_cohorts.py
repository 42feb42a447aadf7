"""Cohort plots: the retention heatmap and the pooled retention curve."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from crmcore.analytics import CohortMatrix, cohort_matrix
from crmcore.columnar import TransactionLog
from crmcore.kernel.errors import ValidationError
from crmcore.plotting import plot_cohort_heatmap, plot_retention_curve
from tests.plotting.conftest import AS_OF, render, texts


@pytest.fixture(scope="module")
def matrix(retail_log: TransactionLog) -> CohortMatrix:
    return cohort_matrix(retail_log, AS_OF)


def test_the_heatmap_holds_the_retention_of_every_observed_cell(
    matrix: CohortMatrix, tmp_path: Path
) -> None:
    ax = matrix.plot()
    render(ax, tmp_path / "cohorts.png")
    image = ax.images[0].get_array()
    rates = matrix.retention()
    assert image.shape == matrix.shape == (13, 13)
    np.testing.assert_array_equal(image.mask, ~np.isfinite(rates))  # blank where unobserved
    np.testing.assert_allclose(image.filled(np.nan), rates)
    # one number per observed cell, written as a percentage
    observed = int(np.isfinite(rates).sum())
    assert len(ax.texts) == observed
    assert texts(ax)[0] == "100%"
    # cohort labels carry their sizes, offsets are +k
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[0] == f"{matrix.labels[0]}  ({int(matrix.sizes[0]):,})"
    assert [t.get_text() for t in ax.get_xticklabels()][:3] == ["+0", "+1", "+2"]
    assert "as of 2011-12-10" in ax.get_title(loc="left")


def test_retention_shades_end_at_the_largest_later_cell(matrix: CohortMatrix) -> None:
    ax = plot_cohort_heatmap(matrix)
    later = matrix.retention()[:, 1:]
    top = math.ceil(float(np.nanmax(later)) * 10) / 10
    assert ax.images[0].get_clim() == (0.0, top) and top < 1.0


def test_revenue_per_customer_is_in_the_cells_when_asked(matrix: CohortMatrix) -> None:
    ax = matrix.plot(value="revenue_per_customer")
    np.testing.assert_allclose(
        ax.images[0].get_array().filled(np.nan), matrix.revenue_per_customer()
    )
    colour_bar = ax.figure.axes[-1]
    assert colour_bar.get_ylabel() == "revenue per customer"


def test_large_matrices_are_not_annotated(retail_log: TransactionLog) -> None:
    weekly = cohort_matrix(retail_log, AS_OF, period="week")
    assert weekly.shape[0] * weekly.shape[1] > 24 * 24
    ax = plot_cohort_heatmap(weekly)
    assert len(ax.texts) == 0 and ax.images[0].get_array().shape == weekly.shape
    # at most 40 cohort labels, so they never overlap
    assert 0 < len(ax.get_yticklabels()) <= 40


def test_the_retention_curve_is_pooled_over_the_cohorts_that_reached_each_offset(
    matrix: CohortMatrix, tmp_path: Path
) -> None:
    ax = plot_retention_curve(matrix)
    render(ax, tmp_path / "curve.png")
    expected = [np.nan if v is None else 100 * v for v in matrix.retention_curve()]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), expected)
    assert ax.lines[0].get_ydata()[0] == 100.0


def test_a_wrong_value_or_object_is_refused(matrix: CohortMatrix) -> None:
    with pytest.raises(ValidationError, match="revenue_per_customer"):
        plot_cohort_heatmap(matrix, value="margin")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="CohortMatrix"):
        plot_cohort_heatmap([[1.0]])  # type: ignore[arg-type]
