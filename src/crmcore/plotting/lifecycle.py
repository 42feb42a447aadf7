"""Lifecycle plots: customers per lifecycle state, and how the states flow over time.

[`plot_lifecycle_flow()`][crmcore.plotting.lifecycle.plot_lifecycle_flow] takes the
[`BatchClassification`][crmcore.lifecycle.BatchClassification] results of
[`classify_log()`][crmcore.lifecycle.classify_log] at successive dates and stacks the
customers in each state (prospect, new, growth, mature, decline, churned) over time, as
counts or as shares of the base; a single classification is drawn as one bar per state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Final, cast

from crmcore.kernel.errors import ValidationError
from crmcore.kernel.reports import fmt_date
from crmcore.kernel.validators import boolean, items_of
from crmcore.plotting._figure import PALETTE, axes_for, date_axis, finish, require

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmcore.lifecycle.policy_batch import BatchClassification

__all__ = ["plot_lifecycle_flow"]

STATE_COLOURS: Final = {
    "prospect": "#bab0ac",
    "new": "#72b7b2",
    "growth": "#54a24b",
    "mature": "#4c78a8",
    "decline": "#f58518",
    "churned": "#e45756",
}
"""One colour per lifecycle state: cool while the relationship grows, warm as it fades."""


def _colour(name: str, i: int) -> str:
    return STATE_COLOURS.get(name, PALETTE[i % len(PALETTE)])


def plot_lifecycle_flow(
    classifications: BatchClassification | Sequence[BatchClassification],
    *,
    share: bool = False,
    ax: Axes | None = None,
) -> Axes:
    """Customers per lifecycle state over time (a stacked area), or per state at one date.

    ``classifications`` are results of ``classify_log`` at several dates
    (drawn in date order; the dates must differ) or one result (drawn as
    bars). ``share=True`` stacks shares of the base (0-100 %) instead of
    counts. Returns the `Axes`.
    """
    boolean(share, "share")
    results: list[BatchClassification] = (
        [cast("BatchClassification", classifications)]
        if hasattr(classifications, "counts")
        else list(items_of(classifications, "classifications", "classifications"))
    )
    if not results:
        raise ValidationError("classifications", 0, "must hold at least one classification")
    for i, result in enumerate(results):
        require(result, ("counts", "as_of"), "BatchClassification", f"classifications[{i}]")
    results.sort(key=lambda r: r.as_of)
    dates: list[datetime] = [r.as_of for r in results]
    if len(set(dates)) != len(dates):
        raise ValidationError("classifications", "as_of", "must be at different dates")
    counts = [r.counts() for r in results]
    states = [state.value for state in counts[0]]
    table = [[float(c[state]) for c in counts] for state in counts[0]]
    if share:
        totals = [sum(column) or 1.0 for column in zip(*table, strict=True)]
        table = [[100.0 * v / t for v, t in zip(row, totals, strict=True)] for row in table]
    unit = "% of customers" if share else "customers"
    if len(results) == 1:
        ax = axes_for(ax, "plot_lifecycle_flow", (7.0, 3.5))
        values = [row[0] for row in table]
        colours = [_colour(s, i) for i, s in enumerate(states)]
        ax.barh(states[::-1], values[::-1], color=colours[::-1])
        for y, v in enumerate(values[::-1]):
            ax.text(v, y, f" {v:,.1f}%" if share else f" {v:,.0f}", va="center", fontsize=8)
        title = f"Lifecycle states as of {fmt_date(dates[0])}"
        return finish(ax, title, xlabel=unit, grid="x")
    ax = axes_for(ax, "plot_lifecycle_flow", (8.0, 4.0))
    x = date_axis(ax, dates)
    ax.stackplot(x, table, labels=states,
                 colors=[_colour(s, i) for i, s in enumerate(states)], alpha=0.9)  # fmt: skip
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="center left", bbox_to_anchor=(1.0, 0.5),
              frameon=False, fontsize=8)  # fmt: skip
    ax.set_xlim(float(x[0]), float(x[-1]))
    if share:
        ax.set_ylim(0, 100)
    title = f"Lifecycle flow, {fmt_date(dates[0])} to {fmt_date(dates[-1])}"
    return finish(ax, title, ylabel=unit)
