"""Cohort plots: the retention heatmap (the cohort triangle) and the pooled retention curve.

[`plot_cohort_heatmap()`][crmcore.plotting.cohorts.plot_cohort_heatmap] draws a
[`CohortMatrix`][crmcore.analytics.cohorts.CohortMatrix] as a heatmap: one row per
acquisition cohort (oldest at the top, its size beside its label), one column per period
since acquisition, cells shaded by retention (or revenue per customer), and blank where
a period is not yet observed. The pooled retention curve ``R(k)`` (retention over the
cohorts old enough to reach offset ``k``) is
[`plot_retention_curve()`][crmcore.plotting.cohorts.plot_retention_curve].
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final, Literal, TypeAlias

import numpy as np

from crmcore.kernel.reports import fmt_date
from crmcore.kernel.validators import choice
from crmcore.plotting._figure import BLUE, axes_for, finish, require

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmcore.analytics.cohorts import CohortMatrix
    from crmcore.kernel.arrays import Float64Array

__all__ = ["CohortValue", "plot_cohort_heatmap", "plot_retention_curve"]

CohortValue: TypeAlias = Literal[
    "retention", "revenue_per_customer", "cumulative_revenue_per_customer"
]
"""What the cells of a cohort heatmap show."""
_VALUES: Final = ("retention", "revenue_per_customer", "cumulative_revenue_per_customer")
_ANNOTATE_CELLS: Final = 24 * 24  # beyond this many cells, numbers in cells are unreadable
_MAX_TICKS: Final = 40


def _cells(matrix: CohortMatrix, value: str) -> Float64Array:
    if value == "retention":
        return matrix.retention()
    if value == "revenue_per_customer":
        return matrix.revenue_per_customer()
    return matrix.cumulative_revenue_per_customer()


def _top(cells: Float64Array, share: bool) -> float:
    """The value of the darkest shade.

    Offset 0 is 100 % retention by definition, so for retention the scale
    ends at the largest later cell (rounded up to 10 %): otherwise every
    later cell would be a pale shade of one 100 % column.
    """
    later = cells[:, 1:] if share else cells
    finite = later[np.isfinite(later)]
    if not finite.size or float(finite.max()) <= 0:
        return 1.0
    top = float(finite.max())
    return min(1.0, math.ceil(top * 10) / 10) if share else top


def _every(count: int) -> int:
    return max(1, math.ceil(count / _MAX_TICKS))


def plot_cohort_heatmap(
    matrix: CohortMatrix, *, value: CohortValue = "retention", ax: Axes | None = None
) -> Axes:
    """A heatmap of cohorts x periods since acquisition, with a colour bar.

    ``value`` picks the cells: ``"retention"`` (the share of the cohort buying
    in that period, 0-100 %), ``"revenue_per_customer"`` or
    ``"cumulative_revenue_per_customer"`` (in the log's currency). Cells show
    their number when the matrix is small enough to read it (up to 24 x 24);
    cohort labels carry the cohort's size. Retention shades run to the
    largest cell after offset 0 (which is 100 % by definition), so the
    differences between later cells stay visible. Returns the `Axes`.

    Examples:
        >>> from datetime import UTC, datetime
        >>> from matplotlib.figure import Figure
        >>> from crmcore.analytics import cohort_matrix
        >>> from crmcore.columnar import TransactionLog
        >>> log = TransactionLog.from_records(
        ...     {"customer_id": c, "at": datetime(2026, m, 15, tzinfo=UTC), "amount": 10.0}
        ...     for c, m in [("a", 1), ("a", 2), ("b", 1), ("c", 2)]
        ... )
        >>> ax = plot_cohort_heatmap(cohort_matrix(log, datetime(2026, 2, 28, tzinfo=UTC)),
        ...                          ax=Figure().subplots())
        >>> ax.images[0].get_array().filled(-1).tolist()
        [[1.0, 0.5], [1.0, -1.0]]
    """
    require(matrix, ("labels", "sizes", "retention", "period", "as_of"), "CohortMatrix", "matrix")
    value = choice(value, "value", _VALUES)
    rows, columns = matrix.shape
    ax = axes_for(ax, "plot_cohort_heatmap", (min(3.0 + 0.45 * columns, 14.0),
                                              min(1.5 + 0.3 * rows, 12.0)))  # fmt: skip
    cells = _cells(matrix, value)
    masked = np.ma.masked_invalid(cells)
    share = value == "retention"
    top = _top(cells, share)
    image = ax.imshow(masked, cmap="Blues", vmin=0.0, vmax=top or 1.0, aspect="auto",
                      interpolation="nearest")  # fmt: skip
    currency = None if matrix.data is None else matrix.data.currency
    label = (
        "retention" if share else value.replace("_", " ") + (f" ({currency})" if currency else "")
    )
    clipped = "max" if share and top < 1.0 else "neither"
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.04, pad=0.02, extend=clipped)
    bar.set_label(label)
    if share:
        bar.ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    if rows * columns <= _ANNOTATE_CELLS:
        for r in range(rows):
            for k in range(columns):
                v = float(cells[r, k])
                if math.isfinite(v):
                    text = f"{v:.0%}" if share else f"{v:,.0f}"
                    ink = "white" if v > 0.55 * top else "#222222"
                    ax.text(k, r, text, ha="center", va="center", fontsize=7, color=ink)
    shown = range(0, rows, _every(rows))
    ax.set_yticks(shown, [f"{matrix.labels[r]}  ({int(matrix.sizes[r]):,})" for r in shown])
    step = _every(columns)
    ax.set_xticks(range(0, columns, step), [f"+{k}" for k in range(0, columns, step)])
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    title = (
        f"{label.capitalize()} by {matrix.period} of acquisition, as of {fmt_date(matrix.as_of)}"
    )
    return finish(ax, title, f"{matrix.period}s since acquisition", "cohort (customers)", grid="")


def plot_retention_curve(matrix: CohortMatrix, *, ax: Axes | None = None) -> Axes:
    """``R(k)``: retention at each offset, pooled over the cohorts that reached it (0-100 %)."""
    require(matrix, ("retention_curve", "period", "as_of"), "CohortMatrix", "matrix")
    ax = axes_for(ax, "plot_retention_curve")
    curve = [np.nan if v is None else 100.0 * v for v in matrix.retention_curve()]
    ax.plot(range(len(curve)), curve, marker="o", color=BLUE)
    ax.set_ylim(0, 105)
    ax.set_xticks(range(0, len(curve), _every(len(curve))))
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0f}%")
    return finish(
        ax,
        f"Retention curve by {matrix.period}, as of {fmt_date(matrix.as_of)}",
        f"{matrix.period}s since acquisition",
        "customers buying in the period",
    )
