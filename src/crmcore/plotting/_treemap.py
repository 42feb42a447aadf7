"""The squarified treemap layout (Bruls, Huizing & van Wijk, "Squarified Treemaps", 2000).

Rectangles for sizes in descending order are laid out in rows along the shorter side of
the space left, and a row grows while adding the next rectangle does not make its worst
aspect ratio worse. Plain Python over a handful of segments, so no dependency.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

__all__ = ["Rect", "squarify"]

Rect: TypeAlias = tuple[float, float, float, float]
"""``(x, y, width, height)``."""


def _layout(
    sizes: Sequence[float], x: float, y: float, dx: float, dy: float, *, last: bool = False
) -> list[Rect]:
    """One strip along the shorter side; the last tile of a strip (and the ``last`` strip,
    all that is left) ends exactly on the edge, so rounding never pushes a tile outside."""
    covered = sum(sizes)
    out: list[Rect] = []
    end = len(sizes) - 1
    if dx >= dy:  # a column along the left edge
        width = dx if last else min(covered / dy, dx)
        top = y + dy
        for i, size in enumerate(sizes):
            height = top - y if i == end else size / width
            out.append((x, y, width, height))
            y += height
    else:  # a row along the bottom edge
        height = dy if last else min(covered / dx, dy)
        right = x + dx
        for i, size in enumerate(sizes):
            width = right - x if i == end else size / height
            out.append((x, y, width, height))
            x += width
    return out


def _leftover(sizes: Sequence[float], x: float, y: float, dx: float, dy: float) -> Rect:
    covered = sum(sizes)
    if dx >= dy:
        width = min(covered / dy, dx)
        return x + width, y, dx - width, dy
    height = min(covered / dx, dy)
    return x, y + height, dx, dy - height


def _worst(sizes: Sequence[float], x: float, y: float, dx: float, dy: float) -> float:
    return max(max(w / h, h / w) for _, _, w, h in _layout(sizes, x, y, dx, dy))


def squarify(sizes: Sequence[float], x: float, y: float, dx: float, dy: float) -> list[Rect]:
    """Rectangles tiling ``(x, y, dx, dy)`` with areas proportional to ``sizes``.

    ``sizes`` must be positive and sorted in descending order; the result
    lists one rectangle per size, in the same order.

    Examples:
        >>> [tuple(round(v, 2) for v in r) for r in squarify([3, 1], 0, 0, 4, 1)]
        [(0.0, 0.0, 3.0, 1.0), (3.0, 0.0, 1.0, 1.0)]
    """
    x, y, dx, dy = float(x), float(y), float(dx), float(dy)
    total = float(sum(sizes))
    scaled = [s * dx * dy / total for s in sizes]
    out: list[Rect] = []
    while scaled:
        i = 1
        while i < len(scaled) and _worst(scaled[:i], x, y, dx, dy) >= _worst(
            scaled[: i + 1], x, y, dx, dy
        ):
            i += 1
        row, scaled = scaled[:i], scaled[i:]
        out += _layout(row, x, y, dx, dy, last=not scaled)
        x, y, dx, dy = _leftover(row, x, y, dx, dy)
    return out
