"""RFM plots: the segment treemap and the R x F grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from crmcore.analytics import RfmTable, rfm_scores
from crmcore.columnar import TransactionLog
from crmcore.kernel.errors import ValidationError
from crmcore.plotting import plot_rfm_grid, plot_rfm_segments
from tests.plotting.conftest import AS_OF, render, texts


@pytest.fixture(scope="module")
def table(retail_log: TransactionLog) -> RfmTable:
    return rfm_scores(retail_log, AS_OF)


def _tiles(ax: object) -> dict[str, Rectangle]:
    return {p.get_label(): p for p in ax.patches if isinstance(p, Rectangle)}  # type: ignore[attr-defined]


def test_one_tile_per_segment_with_customers_sized_by_its_share(
    table: RfmTable, tmp_path: Path
) -> None:
    report = table.summary()
    ax = report.plot()
    render(ax, tmp_path / "segments.png")
    tiles = _tiles(ax)
    present = {s.name: s.customers for s in report.segments if s.customers}
    assert set(tiles) == set(present) and len(present) >= 5
    total = sum(present.values())
    for name, customers in present.items():
        tile = tiles[name]
        assert tile.get_width() * tile.get_height() == pytest.approx(100 * 60 * customers / total)
    # the tiles tile the canvas: their areas add up to it
    assert sum(t.get_width() * t.get_height() for t in tiles.values()) == pytest.approx(6000)
    champions = report.segment("Champions")
    assert f"Champions\n{champions.customers:,} customers" in "|".join(texts(ax))


def test_the_table_plots_its_summary_and_by_revenue_areas_follow_revenue(
    table: RfmTable,
) -> None:
    by_customers = _tiles(table.plot())
    assert set(by_customers) == {s.name for s in table.summary().segments if s.customers}
    ax = plot_rfm_segments(table, size="revenue")
    tiles = _tiles(ax)
    report = table.summary()
    paying = {s.name: s.revenue for s in report.segments if s.revenue > 0}
    assert set(tiles) == set(paying)
    share = {n: t.get_width() * t.get_height() / 6000 for n, t in tiles.items()}
    total = sum(paying.values())
    assert all(share[n] == pytest.approx(v / total) for n, v in paying.items())
    assert ax.get_title(loc="left").startswith("RFM segments by revenue")


def test_the_grid_counts_customers_per_r_and_f_score(table: RfmTable, tmp_path: Path) -> None:
    ax = table.plot(kind="grid")
    render(ax, tmp_path / "grid.png")
    counts = ax.images[0].get_array()
    assert counts.shape == (5, 5) and counts.sum() == len(table)
    # row 0 is R = 5 (the most recent), column 0 is F = 1
    r5_f1 = int(((table.r == 5) & (table.f == 1)).sum())
    r1_f5 = int(((table.r == 1) & (table.f == 5)).sum())
    assert (counts[0, 0], counts[4, 4]) == (r5_f1, r1_f5)
    assert len(ax.texts) == int(np.count_nonzero(counts))
    cell = (table.r == 1) & (table.f == 1)
    mean = table.monetary[cell].mean()
    assert f"{int(cell.sum()):,}\n{mean:,.0f}" in texts(ax)
    assert plot_rfm_grid(table).images[0].get_array().tolist() == counts.tolist()


def test_bad_arguments_are_refused(table: RfmTable) -> None:
    with pytest.raises(ValidationError, match="size"):
        plot_rfm_segments(table, size="margin")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="kind"):
        table.plot(kind="pie")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="RfmTable"):
        plot_rfm_grid(table.summary())  # type: ignore[arg-type]


def test_labels_shrink_to_fit_their_tiles_and_the_smallest_are_listed_below(
    table: RfmTable,
) -> None:
    ax = plot_rfm_segments(table, ax=Figure(figsize=(3, 2)).subplots())
    labels = texts(ax)
    listed = [t for t in labels if t.startswith("too small to label: ")]
    in_tiles = [t for t in labels if not t.startswith("too small")]
    assert len(listed) == 1 and in_tiles  # some tiles carry a label, some were too small
    assert any(size == 7.0 for size in (t.get_fontsize() for t in ax.texts))  # shrunk to fit
    segments = [s for s in table.summary().segments if s.customers]
    for segment in segments:
        shown = any(segment.name in t.replace("\n", " ") for t in in_tiles)
        assert shown or f"{segment.name} ({segment.customers:,})" in listed[0]
