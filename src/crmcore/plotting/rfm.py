"""RFM plots: the segments as a treemap, and the recency x frequency grid.

[`plot_rfm_segments()`][crmcore.plotting.rfm.plot_rfm_segments] draws the segments of an
[`RfmReport`][crmcore.analytics.rfm.RfmReport] (or of an
[`RfmTable`][crmcore.analytics.rfm.RfmTable], via its ``summary()``) as a squarified treemap:
each segment's area is its share of customers, its label says how many customers it has
and what share of the revenue they bring. [`plot_rfm_grid()`][crmcore.plotting.rfm.plot_rfm_grid]
draws the classic R x F grid of an ``RfmTable``: customers per (recency score, frequency
score) cell, with their mean monetary value.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Final, Literal

import numpy as np

from crmcore.kernel.reports import fmt_date
from crmcore.kernel.validators import choice
from crmcore.plotting._figure import PALETTE, axes_for, finish, require
from crmcore.plotting._treemap import squarify

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.patches import Rectangle

    from crmcore.analytics.rfm import RfmReport, RfmTable

__all__ = ["plot_rfm_grid", "plot_rfm_segments"]

_MORE_COLOURS: Final = ("#bcbd22", "#393b79", "#17becf", "#7b4173")
"""After the ten of the palette: the standard map has eleven segments, each its own colour."""


def _report(value: RfmReport | RfmTable) -> RfmReport:
    if hasattr(value, "summary") and hasattr(value, "segment_codes"):
        return value.summary()
    require(value, ("segments", "customers", "as_of"), "RfmReport or RfmTable")
    return value


def plot_rfm_segments(
    report: RfmReport | RfmTable,
    *,
    size: Literal["customers", "revenue"] = "customers",
    ax: Axes | None = None,
) -> Axes:
    """A treemap of the RFM segments, areas by ``size`` (customers or revenue).

    Empty segments (and, by revenue, segments with no positive revenue) are
    left out; each tile is labelled with the segment's name, customers and
    revenue share, or as much of that as fits (tiles too small for their
    name are listed under the map). Returns the `Axes`.
    """
    size = choice(size, "size", ("customers", "revenue"))
    summary = _report(report)
    ax = axes_for(ax, "plot_rfm_segments", (8.0, 5.0))
    colours = PALETTE + _MORE_COLOURS
    colour = {s.name: colours[i % len(colours)] for i, s in enumerate(summary.segments)}
    shown = [s for s in summary.segments if (s.customers if size == "customers" else s.revenue) > 0]
    shown.sort(key=lambda s: -(s.customers if size == "customers" else s.revenue))
    weights = [float(s.customers if size == "customers" else s.revenue) for s in shown]
    tiles = squarify(weights, 0.0, 0.0, 100.0, 60.0) if shown else []
    box = ax.get_window_extent()  # before layout: close enough to size the labels
    points = (72 * box.width / ax.figure.dpi / 100, 72 * box.height / ax.figure.dpi / 60)
    unlabelled = []
    for s, (x, y, w, h) in zip(shown, tiles, strict=True):
        ax.add_patch(_rectangle(x, y, w, h, colour[s.name], s.name))
        revenue = "-" if s.revenue_share is None else f"{s.revenue_share:.0%}"
        fitted = _label(
            (s.name, f"{s.customers:,} customers", f"{revenue} of revenue"),
            w * points[0],
            h * points[1],
        )
        if fitted is None:
            unlabelled.append(f"{s.name} ({s.customers:,})")
            continue
        text, fontsize = fitted
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", color=_ink(colour[s.name]),
                fontsize=fontsize, clip_on=True)  # fmt: skip
    if unlabelled:
        ax.text(0, -1.5, "too small to label: " + ", ".join(unlabelled), fontsize=7,
                color="#555555", va="top")  # fmt: skip
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 60)
    ax.set_axis_off()
    title = (
        f"RFM segments by {size}: {summary.customers:,} customers, as of {fmt_date(summary.as_of)}"
    )
    return finish(ax, title, grid="")


def _label(lines: tuple[str, ...], width: float, height: float) -> tuple[str, float] | None:
    """The fullest label that fits a tile of ``width`` x ``height`` points, and its size.

    Text width is estimated at 0.55 em per character (about DejaVu Sans'
    average), a line at 1.25 em. Tries every line at 9 pt, then 7 pt, then the
    name wrapped to the tile with the customers, then the name alone; ``None``
    when not even that fits.
    """
    columns = max(1, int(0.95 * width / (0.55 * 7.0)))
    name = tuple(textwrap.wrap(lines[0], columns, break_long_words=False)) or (lines[0],)
    candidates = ((lines, 9.0), (lines, 7.0), ((*name, lines[1]), 7.0), (name, 7.0))
    for text, fontsize in candidates:
        wide = max(len(line) for line in text) * 0.55 * fontsize
        tall = len(text) * 1.25 * fontsize
        if wide <= 0.95 * width and tall <= 0.9 * height:
            return "\n".join(text), fontsize
    return None


def _ink(colour: str) -> str:
    """White on dark tiles, near-black on light ones (relative luminance, ITU-R BT.709)."""
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "#222222" if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.6 else "white"


def _rectangle(x: float, y: float, w: float, h: float, colour: str, name: str) -> Rectangle:
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=colour, edgecolor="white", linewidth=2, label=name)


def plot_rfm_grid(table: RfmTable, *, ax: Axes | None = None) -> Axes:
    """Customers per (R score, F score) cell, recent customers at the top, mean monetary inside.

    Returns the `Axes`; the image holds the counts (``ax.images[0]``).
    """
    require(table, ("r", "f", "monetary", "bins", "as_of"), "RfmTable", "table")
    ax = axes_for(ax, "plot_rfm_grid", (6.0, 5.0))
    bins = int(table.bins)
    cell = (bins - table.r.astype(np.int64)) * bins + (table.f.astype(np.int64) - 1)
    counts = np.bincount(cell, minlength=bins * bins).reshape(bins, bins)
    sums = np.bincount(cell, weights=table.monetary, minlength=bins * bins).reshape(bins, bins)
    image = ax.imshow(counts, cmap="Blues", aspect="auto", interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03).set_label("customers")
    top = max(int(counts.max()), 1)
    for row in range(bins):
        for column in range(bins):
            n = int(counts[row, column])
            if n:
                ink = "white" if n > 0.55 * top else "#222222"
                ax.text(column, row, f"{n:,}\n{sums[row, column] / n:,.0f}", ha="center",
                        va="center", fontsize=8, color=ink)  # fmt: skip
    ax.set_xticks(range(bins), [str(f) for f in range(1, bins + 1)])
    ax.set_yticks(range(bins), [str(r) for r in range(bins, 0, -1)])
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    currency = None if table.data is None else table.data.currency
    money = f" ({currency})" if currency else ""
    return finish(
        ax,
        f"RFM grid: customers and mean monetary{money}, as of {fmt_date(table.as_of)}",
        "F score (frequency)",
        "R score (recency)",
        grid="",
    )
