"""Funnel plots: customers per step with conversion and drop-off, and funnels per group.

[`plot_funnel()`][crmcore.plotting.funnel.plot_funnel] draws a
[`FunnelReport`][crmcore.funnel.FunnelReport] as PostHog and Mixpanel do: a bar per step
for the customers who reached it, the customers who dropped off stacked above it in grey
(so each grey-and-blue column is the previous step), the step-to-step conversion above
each bar and the drop-off inside the grey.
[`plot_funnel_breakdown()`][crmcore.plotting.funnel.plot_funnel_breakdown] draws a
[`FunnelBreakdown`][crmcore.funnel.FunnelBreakdown]: one line per group, the share of
the group's entrants who reached each step.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from crmcore.plotting._figure import ACCENT, BLUE, GREY, PALETTE, axes_for, finish, require

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmcore.funnel import FunnelBreakdown, FunnelReport

__all__ = ["plot_funnel", "plot_funnel_breakdown"]


def _tick(number: int, label: str) -> str:
    return textwrap.fill(f"{number}. {label}", width=16)


def plot_funnel(report: FunnelReport, *, ax: Axes | None = None) -> Axes:
    """Bars of customers per step, drop-off stacked in grey, conversion above each bar.

    Returns the `Axes` (a new figure's unless ``ax`` is given). Raises
    [`MissingDependencyError`][crmcore.kernel.errors.MissingDependencyError] without the ``plot``
    extra, [`ValidationError`][crmcore.kernel.errors.ValidationError] for anything but a
    funnel report.

    Examples:
        >>> from datetime import UTC, datetime, timedelta
        >>> from crmcore.columnar import EventLog
        >>> from crmcore.funnel import funnel_report
        >>> t = datetime(2026, 1, 1, tzinfo=UTC)
        >>> log = EventLog.from_records(
        ...     {"customer_id": c, "at": t + timedelta(hours=h), "kind": k}
        ...     for c, steps in {"a": "vsp", "b": "vs", "c": "v"}.items()
        ...     for h, k in enumerate(steps)
        ... )
        >>> report = funnel_report(log, ["v", "s", "p"])
        >>> from matplotlib.figure import Figure
        >>> ax = plot_funnel(report, ax=Figure().subplots())
        >>> [int(bar.get_height()) for bar in ax.containers[0]]
        [3, 2, 1]
    """
    require(report, ("steps", "entered", "conversion"), "FunnelReport")
    ax = axes_for(ax, "plot_funnel")
    steps = report.steps
    x = list(range(len(steps)))
    customers = [s.customers for s in steps]
    dropped = [s.dropped or 0 for s in steps]
    ax.bar(x, customers, color=BLUE, width=0.62, label="reached the step")
    ax.bar(x, dropped, bottom=customers, color=GREY, width=0.62, label="dropped off")
    top = max(steps[0].customers, 1)
    for i, s in enumerate(steps):
        ax.text(i, s.customers / 2, f"{s.customers:,}", ha="center", va="center", color="white",
                fontsize=9, fontweight="bold")  # fmt: skip
        if s.conversion is not None:
            ax.text(i, s.customers + (s.dropped or 0) + top * 0.02, f"{s.conversion:.1%}",
                    ha="center", va="bottom", fontsize=9)  # fmt: skip
        if s.dropped:
            ax.text(i, s.customers + s.dropped / 2, f"-{s.dropped:,}", ha="center",
                    va="center", color=ACCENT, fontsize=8)  # fmt: skip
    ax.set_xticks(x, [_tick(s.number, s.label) for s in steps])
    ax.set_ylim(0, top * 1.12)
    conversion = "-" if report.conversion is None else f"{report.conversion:.1%}"
    ax.legend(loc="upper right", frameon=False, fontsize=8)
    return finish(
        ax, f"Funnel: {report.entered:,} entered, {conversion} converted", ylabel="customers"
    )


def plot_funnel_breakdown(breakdown: FunnelBreakdown, *, ax: Axes | None = None) -> Axes:
    """One line per group: the share of the group's entrants reaching each step.

    Groups keep the breakdown's order (the missing-value group is labelled
    ``(missing)``); at most ten are drawn, in the palette's ten colours.
    """
    require(breakdown, ("by", "groups"), "FunnelBreakdown", "breakdown")
    ax = axes_for(ax, "plot_funnel_breakdown")
    labels: list[str] = []
    for i, (name, report) in enumerate(breakdown.groups[: len(PALETTE)]):
        labels = [_tick(s.number, s.label) for s in report.steps]
        shares = [100.0 * (s.overall or 0.0) for s in report.steps]
        group = "(missing)" if name is None else name
        ax.plot(range(len(shares)), shares, marker="o", color=PALETTE[i],
                label=f"{group} ({report.entered:,})")  # fmt: skip
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylim(0, 105)
    if breakdown.groups:
        ax.legend(frameon=False, fontsize=8, title=breakdown.by, title_fontsize=8)
    return finish(ax, f"Funnel by {breakdown.by}", ylabel="% of the group's entrants")
