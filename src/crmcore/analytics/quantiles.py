"""Quantile scores: bins of ranks, as ``pandas.qcut(x.rank(method), q)`` computes them.

[`quantile_scores()`][crmcore.analytics.quantiles.quantile_scores] turns any numeric array into
scores ``1..bins`` (quintiles by default): ranks 1..n (ties per
[`Ties`][crmcore.analytics.quantiles.Ties]), bin edges at the linear-interpolation quantiles of the
ranks, a rank falls in bin ``j`` when ``edge[j-1] < rank <= edge[j]`` (the lowest edge included in
bin 1). [`rfm_scores()`][crmcore.analytics.rfm.rfm_scores] scores recency, frequency and monetary
value with it; [`SegmentMap`][crmcore.analytics.rfm_segments.SegmentMap] checks its ``bins`` with
the same rule.

With ``ties="first"`` the ranks are a permutation of 1..n, so the edges depend on ``n`` only and
a score only asks how many of the ``floor(edge)`` smallest values (ties in table order) a value is
among: one ``np.partition`` (linear time) and a few comparisons per edge, no sort. Shared ties
(``"average"``, ``"dense"``) need the whole rank distribution: one stable sort.
"""

from __future__ import annotations

from typing import Any, Final, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from crmcore.kernel.arrays import Float64Array, Int8Array
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import choice

__all__ = ["Ties", "quantile_scores"]


Ties: TypeAlias = Literal["first", "average", "dense"]
"""How tied values are ranked before binning (pandas ``rank(method=...)``)."""
_TIES: Final = ("first", "average", "dense")
_MIN_BINS: Final = 2
_MAX_BINS: Final = 9  # a composite code stays three decimal digits


def _check_bins(bins: object) -> int:
    if isinstance(bins, bool) or not isinstance(bins, int) or not _MIN_BINS <= bins <= _MAX_BINS:
        raise ValidationError("bins", bins, f"must be a whole number in {_MIN_BINS}..{_MAX_BINS}")
    return bins


def _check_ties(ties: object) -> Ties:
    found: Ties = choice(ties, "ties", _TIES)
    return found


def _ranks(values: npt.NDArray[Any], ties: Literal["average", "dense"]) -> Float64Array:
    """pandas ``Series.rank(method=ties)`` of ``values`` (1-based, float64), via one sort."""
    n = len(values)
    keys = values
    if values.dtype.kind in "iu" and n and values.min() >= 0 and values.max() < 1 << 16:
        keys = values.astype(np.uint16)  # small counts: numpy's stable sort is then a radix sort
    order = np.argsort(keys, kind="stable")
    ranks = np.empty(n, dtype=np.float64)
    ordered = values[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    group = np.cumsum(np.concatenate(([False], ordered[1:] != ordered[:-1])))
    if ties == "dense":
        ranks[order] = (group + 1).astype(np.float64)
        return ranks
    ends = np.append(starts[1:], n)  # exclusive; 1-based ranks starts+1 .. ends
    ranks[order] = ((starts + 1 + ends) / 2.0)[group]
    return ranks


def _first_rank_edges(n: int, bins: int) -> Float64Array:
    """The ``pandas.qcut`` edges of the ranks 1..``n`` without shared ties (``ties="first"``).

    The ranks are then a permutation of 1..n, so the edges are the quantiles of
    ``arange(1, n + 1)``, computed by the same ``np.quantile`` call as on the ranks.
    """
    edges: Float64Array = np.quantile(np.arange(1, n + 1, dtype=np.float64), _quantiles(bins))
    return edges


def _quantiles(bins: int) -> Float64Array:
    """The quantile levels ``pandas.qcut`` uses for ``q=bins`` (rounded up when inexact)."""
    levels = np.linspace(0, 1, bins + 1)
    inexact = bins * levels != np.arange(bins + 1)
    np.putmask(levels, inexact, np.nextafter(levels, 1))
    return levels


def quantile_scores(values: npt.ArrayLike, bins: int = 5, ties: Ties = "first") -> Int8Array:
    """Scores 1..``bins`` of ``values``: ``pandas.qcut(rank(values, ties), bins, labels)``.

    Higher values score higher (reverse with ``bins + 1 - score``). One value,
    or all values tied under ``"average"``/``"dense"``, give the middle score
    ``(bins + 1) // 2`` for all. Raises
    [`ValidationError`][crmcore.kernel.errors.ValidationError] for ``NaN`` or an empty input.

    Examples:
        >>> quantile_scores([10.0, 30.0, 20.0, 50.0, 40.0]).tolist()
        [1, 3, 2, 5, 4]
        >>> quantile_scores([1, 1, 1, 1, 2], ties="first").tolist()
        [1, 2, 3, 4, 5]
        >>> quantile_scores([1, 1, 1, 1, 2], ties="average").tolist()
        [1, 1, 1, 1, 5]
    """
    q = _check_bins(bins)
    how = _check_ties(ties)
    array = np.asarray(values)
    if array.ndim != 1 or array.dtype.kind not in "iuf":
        raise ValidationError("values", array.dtype, "must be a one-dimensional numeric array")
    if not len(array):
        raise ValidationError("values", [], "must not be empty")
    if array.dtype.kind == "f" and np.isnan(array).any():
        raise ValidationError("values", int(np.argmax(np.isnan(array))), "must not contain NaN")
    if how == "first":
        return _scores_first(array, q, _first_rank_edges(len(array), q))
    ranks = _ranks(array, how)
    edges = np.quantile(ranks, _quantiles(q))
    if edges[0] == edges[-1]:  # all values tied
        return np.full(len(array), (q + 1) // 2, dtype=np.int8)
    scores = np.searchsorted(edges, ranks, side="left")
    scores[ranks == edges[0]] = 1
    return scores.astype(np.int8)


def _scores_first(values: npt.NDArray[Any], bins: int, edges: Float64Array) -> Int8Array:
    """``quantile_scores(values, bins, "first")``, given ``_first_rank_edges(len(values), bins)``
    (a caller scoring several arrays of one length computes the edges once).

    Selection instead of a sort: a rank ``k`` scores ``1 + #{inner edges e: e < k}``, and for a
    whole rank ``k > floor(e)`` is ``e < k``: a value scores above an edge exactly when it is not
    among the ``floor(e)`` smallest values, ties taken in table order (``rank(method="first")``).
    ``np.partition`` finds the value at each such position; values above it are out, values
    below it in, and of the values equal to it the first ``floor(e) - #{smaller}`` (in table
    order) are in.
    """
    n = len(values)
    if edges[0] == edges[-1]:  # one value
        return np.full(n, (bins + 1) // 2, dtype=np.int8)
    cuts = np.floor(edges[1:-1]).astype(np.int64)  # 1 <= cut <= n - 1 for n >= 2
    pivots = np.partition(values, np.unique(cuts) - 1)[cuts - 1]
    scores = np.ones(n, dtype=np.int8)
    for cut, pivot in zip(cuts.tolist(), pivots, strict=True):
        above = values > pivot
        scores += above
        tied = np.flatnonzero(values == pivot)
        smaller = n - int(np.count_nonzero(above)) - len(tied)
        scores[tied[cut - smaller :]] += 1
    return scores
