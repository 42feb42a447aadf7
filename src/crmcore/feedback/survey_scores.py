"""Survey scores: NPS, CSAT and CES of plain answers, with confidence intervals.

The headline measures of the closed loop (DOMAIN.md §6; definitions from PEERS.md §5.2):

* **NPS** (Reichheld, "The One Number You Need to Grow", *Harvard Business
  Review*, December 2003): answers 0-10 to "how likely are you to
  recommend ...". Promoters answer 9-10, passives 7-8, detractors 0-6;
  ``NPS = 100 * (promoters - detractors) / n`` on -100..100, passives
  count in the denominator only.
* **CSAT**, top-two box: the percentage of answers 4-5 on a 1-5 scale.
* **CES** 2.0 (CEB, "the company made it easy for me to handle my issue",
  1-7, high is good): the mean answer, and the index variant
  ``100 * (easy 6-7 - difficult 1-3) / n``.

**Confidence intervals** (normal approximation, ``z`` from the requested
confidence, default 95 %):

* NPS: score each answer +1 (promoter), 0 (passive), -1 (detractor); NPS is
  100 times the mean of that variable, whose variance is
  ``p + d - (p - d)**2`` (``p``, ``d`` the promoter and detractor shares),
  so ``SE = 100 * sqrt((p + d - (p - d)**2) / n)`` and the interval is
  ``NPS ± z * SE``, clipped to -100..100. This is the Wald interval studied
  by Rocks, "Interval Estimation for the 'Net Promoter Score'", *The
  American Statistician* 70(4), 2016. It is too narrow for small samples
  (under about 30 answers) and has zero width when every answer falls in one
  group (all promoters: SE 0); the report keeps ``n`` so a reader can judge.
* CSAT: the Wilson score interval for a proportion (Wilson, *JASA* 22, 1927),
  which stays inside 0..100 and behaves at 0 % and 100 %.
* CES mean: ``mean ± z * s / sqrt(n)`` with the sample standard deviation
  ``s``; undefined (``None``) for a single answer.

**Entry points:** [`nps()`][crmcore.feedback.survey_scores.nps],
[`csat()`][crmcore.feedback.survey_scores.csat], [`ces()`][crmcore.feedback.survey_scores.ces], or
[`score()`][crmcore.feedback.survey_scores.score] with a scale. Per label and per period:
[`breakdowns`][crmcore.feedback.breakdowns]; over ``Feedback`` items:
[`feedback_metrics`][crmcore.feedback.feedback_metrics].

**One rule.** Every score metric is derived from a histogram of answers
(one count per scale point) in exactly one place,
[`score_from_histogram()`][crmcore.feedback.survey_scores.score_from_histogram]:
[`nps()`][crmcore.feedback.survey_scores.nps] builds one histogram, the breakdowns and trends build
one per group and derive each group with the same code. The tests check both against plain Python.

Examples:
    >>> nps([10, 9, 9, 8, 7, 6, 3, 10]).value
    25.0
    >>> csat([5, 4, 3, 1]).value
    50.0
    >>> ces([7, 6, 2]).index
    33.33...
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.journey.scores import Scale
from crmcore.kernel.arrays import AnyArray, Int64Array
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.reports import html_table, json_number, records_frame

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CesScore",
    "CsatScore",
    "NpsScore",
    "ScoreResult",
    "ces",
    "csat",
    "nps",
    "score",
]


# -- confidence and answers ------------------------------------------------------------------


def confidence_level(value: object) -> float:
    """``value`` as a confidence level: a number strictly between 0 and 1, else ValidationError."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not 0 < value < 1:  # type: ignore[operator]
        raise ValidationError("confidence", value, "must be a number strictly between 0 and 1")
    return float(value)  # type: ignore[arg-type]


def z_value(confidence: float) -> float:
    """The two-sided standard normal quantile of ``confidence`` (1.96 for 0.95)."""
    return statistics.NormalDist().inv_cdf(0.5 + confidence / 2)


def answers_on_scale(scores: object, scale: Scale, field: str = "scores") -> Int64Array:
    """Whole-number answers within ``scale`` as int64; errors name the position."""
    if isinstance(scores, str | bytes) or scores is None:
        raise ValidationError(field, scores, "must be a sequence of whole numbers")
    if isinstance(scores, np.ndarray):
        raw = scores
    elif isinstance(scores, Iterable):
        items = list(scores)
        raw = np.empty(len(items), dtype=object)
        raw[:] = items
    else:
        raise ValidationError(field, scores, "must be a sequence of whole numbers")
    if raw.ndim != 1:
        raise ValidationError(field, raw.shape, "must be one-dimensional")
    if raw.size == 0:
        return np.empty(0, dtype=np.int64)
    if raw.dtype == np.bool_:
        raise ValidationError(field, str(raw.dtype), "must hold numbers, not booleans")
    if raw.dtype.kind == "O":
        for i, value in enumerate(raw.tolist()):
            whole = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
            if not whole and not (
                isinstance(value, float | np.floating)
                and math.isfinite(value)
                and value == int(value)
            ):
                raise ValidationError(f"{field}[{i}]", value, "must be a whole number")
        original = raw.tolist()
        raw = raw.astype(np.float64)
    else:
        original = None
    if raw.dtype.kind not in "iuf":
        raise ValidationError(field, str(raw.dtype), "must hold numbers")
    if raw.dtype.kind in "iu":
        values = raw  # integers are whole: only the range needs checking
    else:
        values = raw.astype(np.float64)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(values) | (values != np.round(values))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValidationError(
                f"{field}[{i}]", _item(raw, original, i), "must be a whole number"
            )
    outside = (values < scale.low) | (values > scale.high)
    if outside.any():
        i = int(np.argmax(outside))
        raise ValidationError(
            f"{field}[{i}]",
            _item(raw, original, i),
            f"must lie in {scale.low}..{scale.high} on the {scale.value} scale",
        )
    return values.astype(np.int64)


def _item(raw: AnyArray, original: list[object] | None, i: int) -> object:
    """The ``i``-th input value as the caller gave it (for error messages)."""
    return raw[i].item() if original is None else original[i]


# -- results ---------------------------------------------------------------------------------


@attrs.frozen
class NpsScore:
    """A Net Promoter Score with its parts and a confidence interval (module docs).

    ``value`` is on -100..100; ``low``/``high`` bound it at ``confidence``;
    ``stderr`` is its standard error in NPS points.
    """

    n: int
    promoters: int
    passives: int
    detractors: int
    value: float
    stderr: float
    low: float
    high: float
    confidence: float

    @property
    def scale(self) -> Scale:
        """The scale the answers were on (NPS)."""
        return Scale.NPS

    @property
    def share_promoters(self) -> float:
        """Promoters (9-10) as a share of all answers (0..1)."""
        return self.promoters / self.n

    @property
    def share_detractors(self) -> float:
        """Detractors (0-6) as a share of all answers (0..1)."""
        return self.detractors / self.n

    def to_dict(self) -> dict[str, object]:
        """The score as JSON-compatible data."""
        return {
            "metric": "nps",
            "n": self.n,
            "promoters": self.promoters,
            "passives": self.passives,
            "detractors": self.detractors,
            "value": json_number(self.value),
            "stderr": json_number(self.stderr),
            "low": json_number(self.low),
            "high": json_number(self.high),
            "confidence": self.confidence,
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row: the columns of ``to_dict()``."""
        return records_frame([self.to_dict()], "NpsScore.to_pandas")

    def _repr_html_(self) -> str:
        rows = [
            ["promoters (9-10)", self.promoters, self.share_promoters],
            ["passives (7-8)", self.passives, self.passives / self.n],
            ["detractors (0-6)", self.detractors, self.share_detractors],
        ]
        return html_table(
            f"NPS {self.value:+.1f} ({self.confidence:.0%} CI {self.low:+.1f}..{self.high:+.1f})",
            ["group", "answers", "share"],
            rows,
            kinds=["auto", "int", "pct"],
            bars={2: 1.0},
            caption=f"n = {self.n}; Wald interval, normal approximation",
        )


@attrs.frozen
class CsatScore:
    """CSAT: the percentage of satisfied answers (4-5 of 1-5), with a Wilson interval.

    ``value``, ``low`` and ``high`` are percentages (0..100); ``mean`` is the
    mean answer (1..5), reported beside it because some tools call that CSAT.
    """

    n: int
    satisfied: int
    value: float
    low: float
    high: float
    mean: float
    confidence: float

    @property
    def scale(self) -> Scale:
        """The scale the answers were on (CSAT)."""
        return Scale.CSAT

    def to_dict(self) -> dict[str, object]:
        """The score as JSON-compatible data."""
        return {
            "metric": "csat",
            "n": self.n,
            "satisfied": self.satisfied,
            "value": json_number(self.value),
            "low": json_number(self.low),
            "high": json_number(self.high),
            "mean": json_number(self.mean),
            "confidence": self.confidence,
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row: the columns of ``to_dict()``."""
        return records_frame([self.to_dict()], "CsatScore.to_pandas")

    def _repr_html_(self) -> str:
        return html_table(
            f"CSAT {self.value:.1f}% ({self.confidence:.0%} CI {self.low:.1f}..{self.high:.1f})",
            ["answers", "satisfied (4-5)", "mean (1-5)"],
            [[self.n, self.satisfied, self.mean]],
            kinds=["int", "int", "float"],
            caption="top-two box; Wilson score interval",
        )


@attrs.frozen
class CesScore:
    """CES 2.0 (1-7, high = easy): the mean with a normal interval, and the index variant.

    ``index`` is ``100 * (easy 6-7 - difficult 1-3) / n`` on -100..100.
    ``stderr``/``low``/``high`` are ``None`` for a single answer.
    """

    n: int
    mean: float
    stderr: float | None
    low: float | None
    high: float | None
    easy: int
    difficult: int
    index: float
    confidence: float

    @property
    def scale(self) -> Scale:
        """The scale the answers were on (CES)."""
        return Scale.CES

    @property
    def value(self) -> float:
        """The headline number: the mean answer."""
        return self.mean

    def to_dict(self) -> dict[str, object]:
        """The score as JSON-compatible data."""
        return {
            "metric": "ces",
            "n": self.n,
            "mean": json_number(self.mean),
            "stderr": json_number(self.stderr),
            "low": json_number(self.low),
            "high": json_number(self.high),
            "easy": self.easy,
            "difficult": self.difficult,
            "index": json_number(self.index),
            "confidence": self.confidence,
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row: the columns of ``to_dict()``."""
        return records_frame([self.to_dict()], "CesScore.to_pandas")

    def _repr_html_(self) -> str:
        return html_table(
            f"CES mean {self.mean:.2f} (1-7), index {self.index:+.1f}",
            ["answers", "easy (6-7)", "difficult (1-3)", "CI low", "CI high"],
            [[self.n, self.easy, self.difficult, self.low, self.high]],
            kinds=["int", "int", "int", "float", "float"],
            caption=f"{self.confidence:.0%} normal interval of the mean",
        )


ScoreResult: TypeAlias = NpsScore | CsatScore | CesScore
"""Any of the three score results."""


def score_from_histogram(
    scale: Scale, hist: Sequence[int], z: float, confidence: float
) -> ScoreResult:
    """The one place a score metric is derived: from counts per scale point."""
    counts = [int(c) for c in hist]
    n = sum(counts)
    points = range(scale.low, scale.high + 1)
    if scale is Scale.NPS:
        promoters = counts[9] + counts[10]
        detractors = sum(counts[:7])
        passives = n - promoters - detractors
        p, d = promoters / n, detractors / n
        value = 100.0 * (p - d)
        variance = max(0.0, p + d - (p - d) ** 2)
        stderr = 100.0 * math.sqrt(variance / n)
        return NpsScore(
            n=n,
            promoters=promoters,
            passives=passives,
            detractors=detractors,
            value=value,
            stderr=stderr,
            low=max(-100.0, value - z * stderr),
            high=min(100.0, value + z * stderr),
            confidence=confidence,
        )
    total = sum(c * x for c, x in zip(counts, points, strict=True))
    mean = total / n
    if scale is Scale.CSAT:
        satisfied = counts[3] + counts[4]
        share = satisfied / n
        z2 = z * z
        centre = (share + z2 / (2 * n)) / (1 + z2 / n)
        half = z / (1 + z2 / n) * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n))
        return CsatScore(
            n=n,
            satisfied=satisfied,
            value=100.0 * share,
            low=100.0 * max(0.0, centre - half),
            high=100.0 * min(1.0, centre + half),
            mean=mean,
            confidence=confidence,
        )
    easy = counts[5] + counts[6]
    difficult = counts[0] + counts[1] + counts[2]
    stderr_: float | None = None
    low: float | None = None
    high: float | None = None
    if n > 1:
        squares = sum(c * (x - mean) ** 2 for c, x in zip(counts, points, strict=True))
        stderr_ = math.sqrt(squares / (n - 1) / n)
        low, high = mean - z * stderr_, mean + z * stderr_
    return CesScore(
        n=n,
        mean=mean,
        stderr=stderr_,
        low=low,
        high=high,
        easy=easy,
        difficult=difficult,
        index=100.0 * (easy - difficult) / n,
        confidence=confidence,
    )


def score(scores: npt.ArrayLike, scale: Scale | str, *, confidence: float = 0.95) -> ScoreResult:
    """The headline metric of ``scale`` (NPS, CSAT or CES) over ``scores``.

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] for an empty input (a
    score of nothing is undefined, not 0) and for any answer off the scale,
    naming its position (``"scores[3]"``).
    """
    chosen = Scale.parse(scale)
    z = z_value(confidence_level(confidence))
    answers = answers_on_scale(scores, chosen)
    if len(answers) == 0:
        raise ValidationError("scores", [], f"{chosen.value} needs at least one answer")
    hist = np.bincount(answers - chosen.low, minlength=chosen.high - chosen.low + 1)
    return score_from_histogram(chosen, hist.tolist(), z, confidence)


def nps(scores: npt.ArrayLike, *, confidence: float = 0.95) -> NpsScore:
    """Net Promoter Score of 0-10 answers: % promoters (9-10) - % detractors (0-6).

    Examples:
        >>> s = nps([10, 10, 9, 8, 6, 0])
        >>> s.value, s.promoters, s.passives, s.detractors
        (16.66..., 3, 1, 2)
        >>> nps([])
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: scores: nps needs at least one answer (got [])
        >>> nps([9, 11])
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: scores[1]: must lie in 0..10 on the nps scale (got
        11)
    """
    result = score(scores, Scale.NPS, confidence=confidence)
    assert isinstance(result, NpsScore)
    return result


def csat(scores: npt.ArrayLike, *, confidence: float = 0.95) -> CsatScore:
    """CSAT of 1-5 answers: the percentage of 4-5 (top-two box), with a Wilson interval."""
    result = score(scores, Scale.CSAT, confidence=confidence)
    assert isinstance(result, CsatScore)
    return result


def ces(scores: npt.ArrayLike, *, confidence: float = 0.95) -> CesScore:
    """CES of 1-7 answers (CES 2.0, high = easy): mean, interval and index."""
    result = score(scores, Scale.CES, confidence=confidence)
    assert isinstance(result, CesScore)
    return result
