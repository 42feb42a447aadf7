"""Survey scores over feedback: the metrics of ``Feedback`` items or a ``FeedbackLog``.

[`feedback_score()`][crmcore.feedback.feedback_metrics.feedback_score],
[`feedback_breakdown()`][crmcore.feedback.feedback_metrics.feedback_breakdown] (by channel, kind,
touchpoint, stage, or a segment label per row) and
[`feedback_trend()`][crmcore.feedback.feedback_metrics.feedback_trend] take the feedback that
carries a score on the requested scale and compute with
[`survey_scores`][crmcore.feedback.survey_scores] and [`breakdowns`][crmcore.feedback.breakdowns].
[`feedback_log()`][crmcore.feedback.feedback_metrics.feedback_log] is the one conversion of feedback
items to the columnar [`FeedbackLog`][crmcore.feedback.feedback.FeedbackLog].
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final, Literal, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.feedback.breakdowns import MetricBreakdown, grouped_breakdown, trend
from crmcore.feedback.feedback import Feedback, FeedbackLog
from crmcore.feedback.grouping import Period, label_codes
from crmcore.feedback.survey_scores import (
    ScoreResult,
    answers_on_scale,
    confidence_level,
    score,
)
from crmcore.feedback.vocabulary import CHANNELS, KINDS
from crmcore.journey.scores import Scale
from crmcore.kernel.arrays import Int64Array
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.stage import Stage

__all__ = [
    "Dimension",
    "NONE_KEY",
    "feedback_breakdown",
    "feedback_log",
    "feedback_score",
    "feedback_trend",
]

Dimension: TypeAlias = Literal["channel", "kind", "touchpoint", "stage"]
"""A built-in feedback dimension to break a metric down by."""
_DIMENSIONS: Final = ("channel", "kind", "touchpoint", "stage")
NONE_KEY: Final = "none"
"""The key of rows that name no touchpoint or stage."""


def feedback_log(feedback: FeedbackLog | Iterable[Feedback]) -> FeedbackLog:
    """``feedback`` as a [`FeedbackLog`][crmcore.feedback.feedback.FeedbackLog] (built once if
    needed)."""
    if isinstance(feedback, FeedbackLog):
        return feedback
    if isinstance(feedback, str | bytes | Feedback) or not isinstance(feedback, Iterable):
        raise ValidationError("feedback", feedback, "must be a FeedbackLog or Feedback items")
    return FeedbackLog.from_feedback(feedback)


def _dimension_labels(log: FeedbackLog, by: object) -> tuple[Int64Array, tuple[str, ...], str]:
    """Each row's group code, the group keys and the grouping's name."""
    if isinstance(by, str):
        if by not in _DIMENSIONS:
            raise ValidationError(
                "by", by, f"must be one of {', '.join(_DIMENSIONS)} or one label per feedback"
            )
        if by == "channel":
            return log.channel, tuple(c.value for c in CHANNELS), by
        if by == "kind":
            return log.kind, tuple(k.value for k in KINDS), by
        if by == "touchpoint":
            keys = (*(tp.label for tp in log.touchpoints), NONE_KEY)
            codes = np.where(log.touchpoint < 0, len(log.touchpoints), log.touchpoint)
            return codes.astype(np.int64), keys, by
        keys = (*(s.label for s in Stage), NONE_KEY)
        codes = np.where(log.stage == 0, len(Stage), log.stage - 1)
        return codes.astype(np.int64), keys, by
    codes, keys = label_codes(by, len(log), "by")
    return codes, keys, "segment"


def feedback_score(
    feedback: FeedbackLog | Iterable[Feedback], scale: Scale | str, *, confidence: float = 0.95
) -> ScoreResult:
    """The metric of ``scale`` over the feedback that carries a score on it.

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] when none does.
    """
    log = feedback_log(feedback)
    chosen = Scale.parse(scale)
    values = log.scores[chosen]
    return score(values[~np.isnan(values)], chosen, confidence=confidence)


def feedback_breakdown(
    feedback: FeedbackLog | Iterable[Feedback],
    scale: Scale | str,
    *,
    by: Dimension | npt.ArrayLike | Sequence[object],
    confidence: float = 0.95,
) -> MetricBreakdown:
    """The metric of ``scale`` per channel, kind, touchpoint or stage, or per given label.

    ``by`` is a dimension name or one label per feedback row (e.g. each
    customer's segment name, looked up by the caller). Only rows with a
    score on ``scale`` count. Rows naming no touchpoint/stage fall under
    the key ``"none"``; dimension groups without answers are left out.
    """
    log = feedback_log(feedback)
    chosen = Scale.parse(scale)
    level = confidence_level(confidence)
    codes, keys, name = _dimension_labels(log, by)
    values = log.scores[chosen]
    present = ~np.isnan(values)
    answers = answers_on_scale(values[present], chosen)
    result = grouped_breakdown(answers, codes[present], keys, chosen, level, name)
    if isinstance(by, str):
        result = attrs.evolve(result, rows=tuple(r for r in result.rows if r.n))
    return result


def feedback_trend(
    feedback: FeedbackLog | Iterable[Feedback],
    scale: Scale | str,
    *,
    period: Period = "month",
    confidence: float = 0.95,
) -> MetricBreakdown:
    """The metric of ``scale`` per period of the feedback's time (rows with a score only)."""
    log = feedback_log(feedback)
    chosen = Scale.parse(scale)
    values = log.scores[chosen]
    present = ~np.isnan(values)
    return trend(
        values[present], log.at[present], scale=chosen, period=period, confidence=confidence
    )
