"""Breakdowns and trends: a survey score per label or per period, vectorised.

[`breakdown()`][crmcore.feedback.breakdowns.breakdown] gives the metric of a scale per distinct
label (one label per answer: a segment, a region, a plan),
[`trend()`][crmcore.feedback.breakdowns.trend] per UTC day, ISO week or month of the answers' times.
One `numpy.bincount()` over ``group * points + answer`` gives every group's histogram; each group is
then derived by the same code as a single score
([`score_from_histogram()`][crmcore.feedback.survey_scores.score_from_histogram]), so a row equals
the score of that group's answers. The result is a
[`MetricBreakdown`][crmcore.feedback.breakdowns.MetricBreakdown] of
[`GroupRow`][crmcore.feedback.breakdowns.GroupRow] items plus the overall score.

Examples:
    >>> breakdown([10, 3, 9, 9, 8], ["basic", "basic", "pro", "pro", "pro"], scale="nps").values()
    {'basic': 0.0, 'pro': 66.66...}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.feedback.grouping import (
    PERIODS,
    Period,
    instants_micros,
    label_codes,
    period_index,
    period_label,
)
from crmcore.feedback.survey_scores import (
    ScoreResult,
    answers_on_scale,
    confidence_level,
    score_from_histogram,
    z_value,
)
from crmcore.journey.scores import Scale
from crmcore.kernel.arrays import Int64Array
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.reports import html_table, records_frame
from crmcore.kernel.validators import choice, instance_of
from crmcore.plotting.feedback import plot_score_breakdown, plot_score_trend

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = [
    "GroupRow",
    "MetricBreakdown",
    "breakdown",
    "trend",
]


@attrs.frozen
class GroupRow:
    """One group of a breakdown: its key, answer count and result (``None`` if no answers)."""

    key: str
    n: int
    result: ScoreResult | None

    @property
    def value(self) -> float | None:
        """The group's headline number, or ``None`` without answers."""
        return None if self.result is None else self.result.value

    def to_dict(self) -> dict[str, object]:
        """The row as JSON-compatible data."""
        return {
            "key": self.key,
            "n": self.n,
            "result": None if self.result is None else self.result.to_dict(),
        }


@attrs.frozen
class MetricBreakdown:
    """A score metric per group (segment, channel, touchpoint, period) and overall.

    ``by`` names the grouping (``"segment"``, ``"month"``, ...). Rows keep
    the groups' sorted order (periods: chronological, contiguous, empty
    periods included with ``n`` 0 and ``result`` ``None``). ``overall`` is
    the metric over every answer (``None`` when there are none).
    """

    scale: Scale
    by: str
    rows: tuple[GroupRow, ...]
    overall: ScoreResult | None

    def __len__(self) -> int:
        return len(self.rows)

    def row(self, key: str) -> GroupRow:
        """The row of ``key``; ValidationError when there is none."""
        instance_of(key, str, "key", "a text")
        for r in self.rows:
            if r.key == key:
                return r
        raise ValidationError("key", key, f"is not a group of this breakdown by {self.by}")

    def values(self) -> dict[str, float | None]:
        """``{key: headline value}`` (``None`` for groups without answers)."""
        return {r.key: r.value for r in self.rows}

    def to_dict(self) -> dict[str, object]:
        """The breakdown as JSON-compatible data."""
        return {
            "metric": self.scale.value,
            "by": self.by,
            "overall": None if self.overall is None else self.overall.to_dict(),
            "rows": [r.to_dict() for r in self.rows],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per group: ``key``, ``n`` (answers), ``value`` and the interval ``low`` and
        ``high`` (``NaN`` without answers, or without an interval)."""
        rows = [
            {
                "key": r.key,
                "n": r.n,
                "value": r.value,
                "low": None if r.result is None else getattr(r.result, "low", None),
                "high": None if r.result is None else getattr(r.result, "high", None),
            }
            for r in self.rows
        ]
        return records_frame(
            rows, "MetricBreakdown.to_pandas", ("key", "n", "value", "low", "high")
        )

    def plot(self, *, ax: Axes | None = None) -> Axes:
        """A trend (by day, week or month) as a line with its band:
        [`plot_score_trend()`][crmcore.plotting.feedback.plot_score_trend]; any other breakdown
        as bars: [`plot_score_breakdown()`][crmcore.plotting.feedback.plot_score_breakdown]."""
        if self.by in PERIODS:
            return plot_score_trend(self, ax=ax)
        return plot_score_breakdown(self, ax=ax)

    def _repr_html_(self) -> str:
        rows = [
            [
                r.key,
                r.n,
                r.value,
                None if r.result is None else getattr(r.result, "low", None),
                None if r.result is None else getattr(r.result, "high", None),
            ]
            for r in self.rows
        ]
        top = max((abs(v) for v in self.values().values() if v is not None), default=0.0)
        overall = "-" if self.overall is None else f"{self.overall.value:.1f}"
        return html_table(
            f"{self.scale.value.upper()} by {self.by} (overall {overall})",
            [self.by, "answers", self.scale.value.upper(), "CI low", "CI high"],
            rows,
            kinds=["auto", "int", "float", "float", "float"],
            bars={1: float(max((r.n for r in self.rows), default=0)), 2: top},
        )


def grouped_breakdown(
    answers: Int64Array,
    codes: Int64Array,
    keys: tuple[str, ...],
    scale: Scale,
    confidence: float,
    by: str,
) -> MetricBreakdown:
    """The breakdown of ``answers`` by group ``codes`` (keys ``keys``): one bincount for all."""
    z = z_value(confidence)
    width = scale.high - scale.low + 1
    groups = len(keys)
    flat = np.bincount(codes * width + (answers - scale.low), minlength=groups * width)
    hist = flat.reshape(groups, width)
    totals = hist.sum(axis=1)
    rows = tuple(
        GroupRow(
            key,
            int(totals[g]),
            score_from_histogram(scale, hist[g].tolist(), z, confidence) if totals[g] else None,
        )
        for g, key in enumerate(keys)
    )
    overall = (
        score_from_histogram(scale, hist.sum(axis=0).tolist(), z, confidence)
        if len(answers)
        else None
    )
    return MetricBreakdown(scale, by, rows, overall)


def breakdown(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike | Sequence[object],
    *,
    scale: Scale | str,
    by: str = "segment",
    confidence: float = 0.95,
) -> MetricBreakdown:
    """The metric of ``scale`` per distinct label (one label per score, e.g. a segment name).

    Vectorised: one `numpy.bincount()` over ``label code * points +
    answer`` gives every group's histogram. Labels are any comparable
    values (strings, ints, touchpoints); keys are their ``str``.

    Examples:
        >>> channels = ["web", "web", "phone", "phone"]
        >>> b = breakdown([10, 0, 9, 9], channels, scale="nps", by="channel")
        >>> b.values()
        {'phone': 100.0, 'web': 0.0}
    """
    chosen = Scale.parse(scale)
    level = confidence_level(confidence)
    answers = answers_on_scale(scores, chosen)
    codes, keys = label_codes(labels, len(answers))
    return grouped_breakdown(answers, codes, keys, chosen, level, by)


def trend(
    scores: npt.ArrayLike,
    at: object,
    *,
    scale: Scale | str,
    period: Period = "month",
    confidence: float = 0.95,
) -> MetricBreakdown:
    """The metric of ``scale`` per period (UTC day, ISO week or month) of the answers' times.

    Periods run contiguously from the first to the last answer; empty ones
    have ``n`` 0 and no result ([`period_codes()`][crmcore.feedback.grouping.period_codes]).
    """
    chosen = Scale.parse(scale)
    level = confidence_level(confidence)
    answers = answers_on_scale(scores, chosen)
    choice(period, "period", PERIODS)
    us = instants_micros(at, len(answers))
    if len(us) == 0:
        return MetricBreakdown(chosen, period, (), None)
    index = period_index(us, period)
    first, last = int(index.min()), int(index.max())
    keys = tuple(period_label(i, period) for i in range(first, last + 1))
    return grouped_breakdown(answers, index - first, keys, chosen, level, period)
