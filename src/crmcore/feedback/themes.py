"""Themes: what customers talk about, how often, how it trends, and what it does to NPS.

The outer loop of closed-loop feedback (PEERS.md §5.1, Medallia's inner vs
outer loop; DOMAIN.md §6 "improve continuously: aggregate themes, act,
measure the effect") starts by aggregating the theme tags of many pieces of
feedback. For each theme [`theme_report()`][crmcore.feedback.themes.theme_report] gives:

* ``volume``: feedback tagged with the theme; ``customers``: distinct
  customers among them; ``share = volume / all feedback`` (a piece of
  feedback may carry several themes, so shares need not sum to 1);
* ``trend``: the volume per period (UTC day, ISO week or month), contiguous
  from the first to the last feedback of the whole log;
* ``nps``: the [`nps()`][crmcore.feedback.survey_scores.nps] of the tagged feedback
  that has an NPS answer, and ``nps_impact = theme NPS - overall NPS``
  (negative: the theme's customers are less likely to recommend);
* ``nps_drag = (theme NPS answers / all NPS answers) * (overall NPS - theme
  NPS)``: how many points of the overall NPS the theme's gap accounts for,
  weighting the gap by how many respondents it touches.

Themes rank by ``volume`` (default), ``nps_impact`` (most negative first)
or ``nps_drag`` (largest first); ties break by volume, then name. A theme
with fewer NPS answers than ``min_answers`` gets no NPS figures (its
impact would be noise) and ranks last under the NPS rankings.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.feedback.feedback import Feedback
    >>> at = datetime(2026, 3, 2, tzinfo=UTC)
    >>> items = [
    ...     Feedback(id="a", customer_id="c1", channel="survey", kind="complaint", at=at,
    ...              scores={"nps": 2}, themes=["delivery"]),
    ...     Feedback(id="b", customer_id="c2", channel="survey", kind="praise", at=at,
    ...              scores={"nps": 10}, themes=["staff"]),
    ...     Feedback(id="c", customer_id="c3", channel="email", kind="complaint", at=at,
    ...              scores={"nps": 6}, themes=["delivery", "price"]),
    ... ]
    >>> report = theme_report(items)
    >>> [(row.theme, row.volume, row.nps_impact) for row in report.top(2)]
    [('delivery', 2, -66.66...), ('price', 1, -66.66...)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final, Literal, TypeAlias

import attrs
import numpy as np

from crmcore.feedback.feedback import Feedback, FeedbackLog
from crmcore.feedback.feedback_metrics import feedback_log
from crmcore.feedback.grouping import PERIODS, Period, period_index, period_label
from crmcore.feedback.survey_scores import NpsScore, confidence_level, score_from_histogram, z_value
from crmcore.journey.scores import Scale
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.reports import html_table, json_number, records_frame
from crmcore.kernel.validators import choice, instance_of

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RankBy", "ThemeReport", "ThemeRow", "theme_report"]

RankBy: TypeAlias = Literal["volume", "nps_impact", "nps_drag"]
"""How themes are ranked."""
_RANKS: Final = ("volume", "nps_impact", "nps_drag")


@attrs.frozen
class ThemeRow:
    """One theme's figures (module docs); NPS figures are ``None`` below ``min_answers``."""

    theme: str
    volume: int
    customers: int
    share: float
    trend: tuple[int, ...]
    nps_answers: int
    nps: NpsScore | None
    nps_impact: float | None
    nps_drag: float | None

    def to_dict(self) -> dict[str, object]:
        """The row as JSON-compatible data."""
        return {
            "theme": self.theme,
            "volume": self.volume,
            "customers": self.customers,
            "share": json_number(self.share),
            "trend": list(self.trend),
            "nps_answers": self.nps_answers,
            "nps": None if self.nps is None else self.nps.to_dict(),
            "nps_impact": json_number(self.nps_impact),
            "nps_drag": json_number(self.nps_drag),
        }


@attrs.frozen
class ThemeReport:
    """Themes ranked (module docs), with the totals they are measured against.

    ``feedback`` is the number of feedback rows, ``untagged`` those with no
    theme; ``overall_nps`` the NPS of every row with an NPS answer (``None``
    without any); ``periods`` label the columns of each row's ``trend``.
    """

    rows: tuple[ThemeRow, ...]
    feedback: int
    untagged: int
    overall_nps: NpsScore | None
    period: Period
    periods: tuple[str, ...]
    rank_by: RankBy
    min_answers: int

    def __len__(self) -> int:
        return len(self.rows)

    def top(self, k: int = 10) -> tuple[ThemeRow, ...]:
        """The first ``k`` themes of the ranking."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValidationError("k", k, "must be a positive int")
        return self.rows[:k]

    def row(self, theme: str) -> ThemeRow:
        """The row of ``theme``; [`NotFoundError`][crmcore.NotFoundError] when no feedback carries
        it."""
        instance_of(theme, str, "theme", "a text")
        for r in self.rows:
            if r.theme == theme:
                return r
        raise NotFoundError("theme", theme)

    def to_dict(self) -> dict[str, object]:
        """The report as JSON-compatible data."""
        return {
            "feedback": self.feedback,
            "untagged": self.untagged,
            "overall_nps": None if self.overall_nps is None else self.overall_nps.to_dict(),
            "period": self.period,
            "periods": list(self.periods),
            "rank_by": self.rank_by,
            "min_answers": self.min_answers,
            "rows": [r.to_dict() for r in self.rows],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per theme, in rank order: the columns of
        [`ThemeRow.to_dict()`][crmcore.feedback.themes.ThemeRow.to_dict] with the NPS flattened
        (``nps_value``, ``nps_low``, ...) and ``trend`` as a list per row (counts per period of
        ``periods``)."""
        return records_frame([r.to_dict() for r in self.rows], "ThemeReport.to_pandas")

    def _repr_html_(self) -> str:
        header = ["theme", "feedback", "customers", "share", "NPS", "NPS answers", "impact", "drag"]
        kinds = ["auto", "int", "int", "pct", "float", "int", "float", "float"]
        rows = [
            [
                r.theme,
                r.volume,
                r.customers,
                r.share,
                None if r.nps is None else r.nps.value,
                r.nps_answers,
                r.nps_impact,
                r.nps_drag,
            ]
            for r in self.rows
        ]
        overall = "-" if self.overall_nps is None else f"{self.overall_nps.value:+.1f}"
        return html_table(
            f"Themes by {self.rank_by}: {len(self.rows)} themes, {self.feedback:,} feedback",
            header,
            rows,
            kinds=kinds,
            bars={1: float(max((r.volume for r in self.rows), default=0)), 3: 1.0},
            caption=f"overall NPS {overall}; {self.untagged:,} feedback without a theme; "
            f"NPS figures need at least {self.min_answers} answers",
        )


def _rank_key(rank_by: str) -> Callable[[ThemeRow], tuple[float, int, str]]:
    def key(row: ThemeRow) -> tuple[float, int, str]:
        if rank_by == "nps_impact":
            primary = float("inf") if row.nps_impact is None else row.nps_impact
        elif rank_by == "nps_drag":
            primary = float("inf") if row.nps_drag is None else -row.nps_drag
        else:
            primary = -float(row.volume)
        return (primary, -row.volume, row.theme)

    return key


def theme_report(
    feedback: FeedbackLog | Iterable[Feedback],
    *,
    period: Period = "month",
    rank_by: RankBy = "volume",
    min_answers: int = 1,
    confidence: float = 0.95,
) -> ThemeReport:
    """Aggregate the themes of ``feedback`` (module docs); vectorised over the CSR theme columns.

    ``min_answers`` (default 1) is the fewest NPS answers a theme needs for
    its NPS, impact and drag to be reported.
    """
    log = feedback_log(feedback)
    choice(period, "period", PERIODS)
    choice(rank_by, "rank_by", _RANKS)
    if isinstance(min_answers, bool) or not isinstance(min_answers, int) or min_answers < 1:
        raise ValidationError("min_answers", min_answers, "must be a positive int")
    confidence = confidence_level(confidence)
    z = z_value(confidence)
    n = len(log)
    k = len(log.themes)
    rows = log.theme_rows()
    codes = log.theme_codes
    volume = np.bincount(codes, minlength=k)
    tagged_rows = np.diff(log.theme_offsets) > 0

    # distinct customers per theme: unique (theme, customer) pairs
    _, customer = np.unique(log.customer_ids, return_inverse=True)
    customer = customer.reshape(-1).astype(np.int64)
    pairs = np.unique(codes * max(1, n) + customer[rows])
    customers = np.bincount(pairs // max(1, n), minlength=k)

    # volume per period
    if n:
        index = period_index(log.at.view(np.int64), period)
        first, last = int(index.min()), int(index.max())
        labels = tuple(period_label(i, period) for i in range(first, last + 1))
        period_of = index - first
    else:
        labels, period_of = (), np.empty(0, dtype=np.int64)
    p = len(labels)
    per_period = np.bincount(codes * p + period_of[rows], minlength=k * p).reshape(k, p)

    # NPS histogram per theme: one bincount over theme * 11 + answer
    nps_values = log.scores[Scale.NPS]
    answered = ~np.isnan(nps_values)
    overall_hist = np.bincount(nps_values[answered].astype(np.int64), minlength=11)
    total_answers = int(overall_hist.sum())
    overall_nps: NpsScore | None = None
    if total_answers:
        overall = score_from_histogram(Scale.NPS, overall_hist.tolist(), z, confidence)
        assert isinstance(overall, NpsScore)
        overall_nps = overall
    hit = answered[rows]
    theme_hist = np.bincount(
        codes[hit] * 11 + nps_values[rows[hit]].astype(np.int64), minlength=k * 11
    ).reshape(k, 11)

    out = []
    for j, theme in enumerate(log.themes):
        answers = int(theme_hist[j].sum())
        score: NpsScore | None = None
        impact = drag = None
        if answers >= min_answers and overall_nps is not None:
            result = score_from_histogram(Scale.NPS, theme_hist[j].tolist(), z, confidence)
            assert isinstance(result, NpsScore)
            score = result
            impact = score.value - overall_nps.value
            drag = answers / total_answers * (overall_nps.value - score.value)
        out.append(
            ThemeRow(
                theme=theme,
                volume=int(volume[j]),
                customers=int(customers[j]),
                share=float(volume[j] / n),
                trend=tuple(int(c) for c in per_period[j]),
                nps_answers=answers,
                nps=score,
                nps_impact=impact,
                nps_drag=drag,
            )
        )
    ranked = tuple(sorted(out, key=_rank_key(rank_by)))
    return ThemeReport(
        rows=ranked,
        feedback=n,
        untagged=int(n - tagged_rows.sum()),
        overall_nps=overall_nps,
        period=period,
        periods=labels,
        rank_by=rank_by,
        min_answers=min_answers,
    )
