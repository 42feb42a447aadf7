"""The squarified treemap layout tiles its rectangle with areas proportional to the sizes."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.plotting._treemap import squarify

SIZES = st.lists(st.floats(0.01, 1e6), min_size=1, max_size=12).map(
    lambda xs: sorted(xs, reverse=True)
)


@given(SIZES, st.floats(1, 200), st.floats(1, 200))
def test_tiles_cover_the_rectangle_without_overlap_in_proportion(
    sizes: list[float], width: float, height: float
) -> None:
    tiles = squarify(sizes, 0.0, 0.0, width, height)
    assert len(tiles) == len(sizes)
    total = sum(sizes)
    for size, (x, y, w, h) in zip(sizes, tiles, strict=True):
        assert w * h == pytest.approx(width * height * size / total, rel=1e-6)
        assert x >= -1e-6 and x + w <= width * (1 + 1e-9) + 1e-6
        assert y >= -1e-6 and y + h <= height * (1 + 1e-9) + 1e-6
    for (ax, ay, aw, ah), (bx, by, bw, bh) in itertools.combinations(tiles, 2):
        overlap_w = min(ax + aw, bx + bw) - max(ax, bx)
        overlap_h = min(ay + ah, by + bh) - max(ay, by)
        assert min(overlap_w, overlap_h) <= 1e-6 * max(width, height)


def test_equal_sizes_in_a_square_make_squares() -> None:
    tiles = squarify([1, 1, 1, 1], 0, 0, 2, 2)
    assert sorted(tiles) == [(0.0, 0.0, 1.0, 1.0), (0.0, 1.0, 1.0, 1.0),
                             (1.0, 0.0, 1.0, 1.0), (1.0, 1.0, 1.0, 1.0)]  # fmt: skip
