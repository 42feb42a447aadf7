"""What every plot shares: matplotlib imported on demand, new or given axes, the house look.

matplotlib is the ``plot`` extra: it is imported inside
[`axes_for()`][crmcore.plotting._figure.axes_for], when a figure is drawn, never when crmcore is
imported; without it the call raises
[`MissingDependencyError`][crmcore.kernel.errors.MissingDependencyError] naming the extra. The
colours are those of the HTML reports (the bar blue ``#4c78a8``), so a report and its plot look
like one product.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

import numpy as np

from crmcore.kernel.errors import MissingDependencyError, ValidationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmcore.kernel.arrays import Float64Array

__all__ = [
    "ACCENT",
    "BLUE",
    "GREY",
    "PALETTE",
    "axes_for",
    "date_axis",
    "finish",
    "require",
]

BLUE: Final = "#4c78a8"
"""The colour of bars and lines (the blue of the HTML reports' inline bars)."""
GREY: Final = "#c9ced6"
"""The colour of what is context, not data: drop-off, reference lines, empty cells."""
ACCENT: Final = "#e45756"
"""The colour of what needs attention (drop-off labels, liability, detractors)."""
PALETTE: Final = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#eeca3b",
    "#b279a2",
    "#ff9da6",
    "#9d755d",
    "#bab0ac",
)
"""Colours of categories, in order (Tableau 10, as Vega-Lite draws them)."""


def axes_for(ax: Axes | None, feature: str, size: tuple[float, float] = (7.0, 4.0)) -> Axes:
    """``ax`` itself, or the axes of a new figure of ``size`` inches.

    Imports matplotlib (the ``plot`` extra); ``feature`` names the caller in
    the error when it is missing. A new figure comes from `matplotlib.pyplot`,
    so it shows in a notebook like any other.
    """
    try:
        import matplotlib.pyplot as plt
        from matplotlib.axes import Axes
    except ImportError:
        raise MissingDependencyError("matplotlib", "plot", feature) from None
    if ax is None:
        _, new = plt.subplots(figsize=size, layout="constrained")
        return new
    if not isinstance(ax, Axes):
        raise ValidationError("ax", type(ax).__name__, "must be a matplotlib Axes or None")
    return ax


def finish(ax: Axes, title: str, xlabel: str = "", ylabel: str = "", *, grid: str = "y") -> Axes:
    """The house look: a left-aligned title, light grid lines on ``grid``, no top/right frame."""
    ax.set_title(title, loc="left", fontsize=11)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if grid:
        ax.grid(axis=grid, color="#e6e6e6", linewidth=0.8)  # type: ignore[arg-type]
        ax.set_axisbelow(True)
    return ax


def date_axis(ax: Axes, dates: Sequence[datetime]) -> Float64Array:
    """Make the x axis of ``ax`` a UTC date axis; returns ``dates`` as its coordinates."""
    import matplotlib.dates as mdates

    ax.xaxis_date(tz=UTC)
    locator = ax.xaxis.get_major_locator()
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))  # type: ignore[no-untyped-call]
    x: Float64Array = np.asarray(mdates.date2num(list(dates)), dtype=np.float64)  # type: ignore[no-untyped-call]
    return x


def require(value: object, names: Sequence[str], expected: str, field: str = "report") -> None:
    """Refuse a value that lacks the attributes a plot reads, naming what was expected.

    Plots read reports by their public attributes (``crmcore.plotting`` sits
    below the analytics that return them, so it does not import their
    classes); anything else is a [`ValidationError`][crmcore.kernel.errors.ValidationError],
    not an `AttributeError` from deep inside matplotlib.
    """
    if not all(hasattr(value, name) for name in names):
        raise ValidationError(field, type(value).__name__, f"must be a {expected}")
