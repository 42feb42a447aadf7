"""Feedback plots: a survey score's trend (NPS by month) and its breakdown by group.

[`plot_score_trend()`][crmcore.plotting.feedback.plot_score_trend] draws a
[`MetricBreakdown`][crmcore.feedback.breakdowns.MetricBreakdown] made by
[`trend()`][crmcore.feedback.breakdowns.trend]: the score per period as a line with its
confidence band, periods without answers left as gaps, and the number of answers as light
bars behind it. [`plot_score_breakdown()`][crmcore.plotting.feedback.plot_score_breakdown]
draws one made by [`breakdown()`][crmcore.feedback.breakdowns.breakdown]: a bar per group
with its interval.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

from crmcore.plotting._figure import ACCENT, BLUE, GREY, axes_for, finish, require

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmcore.feedback.breakdowns import GroupRow, MetricBreakdown

__all__ = ["plot_score_breakdown", "plot_score_trend"]

_MAX_TICKS: Final = 24


def _bounds(row: GroupRow) -> tuple[float, float, float]:
    if row.result is None:
        return math.nan, math.nan, math.nan
    low = getattr(row.result, "low", None)
    high = getattr(row.result, "high", None)
    value = float(row.result.value)
    return (
        value,
        value if low is None else float(low),
        value if high is None else float(high),
    )


def _name(breakdown: MetricBreakdown) -> str:
    return str(breakdown.scale.value).upper()


def plot_score_trend(trend: MetricBreakdown, *, ax: Axes | None = None) -> Axes:
    """The score per period with its confidence band, and answers per period behind it.

    Returns the `Axes` of the score (line 0 holds the values; the answers are
    on a twin axis). NPS gets a zero line.
    """
    require(trend, ("scale", "by", "rows", "overall"), "MetricBreakdown", "trend")
    ax = axes_for(ax, "plot_score_trend", (8.0, 4.0))
    from matplotlib.ticker import MaxNLocator

    rows = trend.rows
    x = list(range(len(rows)))
    values, lows, highs = zip(*(_bounds(r) for r in rows), strict=True) if rows else ((), (), ())
    counts = ax.twinx()
    answers = [r.n for r in rows]
    counts.bar(x, answers, color=GREY, alpha=0.45, width=0.7)
    # The answers sit in the lower third, behind the score, in whole numbers.
    counts.set_ylim(0, 3 * max(answers, default=0) or 1)
    counts.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    counts.set_ylabel("answers", color="#888888")
    counts.tick_params(axis="y", colors="#888888")
    counts.spines["top"].set_visible(False)
    ax.set_zorder(counts.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.fill_between(x, lows, highs, color=BLUE, alpha=0.15, linewidth=0)
    ax.plot(x, values, marker="o", color=BLUE, label=_name(trend))
    name = _name(trend)
    if name == "NPS":
        ax.axhline(0, color=ACCENT, linewidth=0.8)
    low, high = ax.get_ylim()  # the band's sticky edges leave no margin: add one
    ax.set_ylim(low - 0.05 * (high - low), high + 0.05 * (high - low))
    step = max(1, math.ceil(len(rows) / _MAX_TICKS))
    ax.set_xticks(x[::step], [r.key for r in rows][::step], rotation=45 if len(rows) > 8 else 0,
                  ha="right" if len(rows) > 8 else "center")  # fmt: skip
    overall = "" if trend.overall is None else f" (overall {trend.overall.value:+.1f})"
    confidence = "" if trend.overall is None else f", {trend.overall.confidence:.0%} interval"
    return finish(ax, f"{name} by {trend.by}{overall}{confidence}", ylabel=name)


def plot_score_breakdown(breakdown: MetricBreakdown, *, ax: Axes | None = None) -> Axes:
    """One horizontal bar per group with its confidence interval (groups without answers empty).

    Returns the `Axes` (its patches are the bars, top to bottom in the order of the rows).
    """
    require(breakdown, ("scale", "by", "rows", "overall"), "MetricBreakdown", "breakdown")
    rows = breakdown.rows
    ax = axes_for(ax, "plot_score_breakdown", (7.0, max(2.5, 0.8 + 0.35 * len(rows))))
    bounds = [_bounds(r) for r in rows]
    values = [0.0 if math.isnan(v) else v for v, _, _ in bounds]
    errors = [
        [0.0 if math.isnan(v) else v - lo for v, lo, _ in bounds],
        [0.0 if math.isnan(v) else hi - v for v, _, hi in bounds],
    ]
    y = list(range(len(rows)))[::-1]
    ax.barh(y, values, xerr=errors, color=BLUE, ecolor="#555555", capsize=3)
    ax.set_yticks(y, [f"{r.key} ({r.n:,})" for r in rows])
    name = _name(breakdown)
    if breakdown.overall is not None:
        ax.axvline(breakdown.overall.value, color=ACCENT, linewidth=1, linestyle="--")
    overall = "" if breakdown.overall is None else f" (overall {breakdown.overall.value:+.1f})"
    return finish(ax, f"{name} by {breakdown.by}{overall}", xlabel=name, grid="x")
