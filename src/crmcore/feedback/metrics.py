"""Feedback metrics: NPS, CSAT, CES, response and resolution times, loop rates, trends.

The measures of the closed loop (DOMAIN.md §6; definitions from PEERS.md §5.2):

* **NPS** (Reichheld, "The One Number You Need to Grow", *Harvard Business
  Review*, December 2003): answers 0-10 to "how likely are you to
  recommend ...". Promoters answer 9-10, passives 7-8, detractors 0-6;
  ``NPS = 100 * (promoters - detractors) / n`` on -100..100, passives
  count in the denominator only.
* **CSAT**, top-two box: the percentage of answers 4-5 on a 1-5 scale.
* **CES** 2.0 (CEB, "the company made it easy for me to handle my issue",
  1-7, high is good): the mean answer, and the index variant
  ``100 * (easy 6-7 - difficult 1-3) / n``.
* **Durations** (first response, resolution): count, mean, median, 90th
  percentile, maximum; unfinished items (``None``/``NaN``/``NaT``) are
  counted as ``pending``, never averaged in.
* **Rates**: SLA attainment (met / decided), loop closure (closed with a
  verified follow-up / opened), reopen rate (reopened / resolved).

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

**Entry points.** Over plain answers: :func:`nps`, :func:`csat`,
:func:`ces` (or :func:`score` with a scale), :func:`breakdown` (per label)
and :func:`trend` (per period). Over feedback (``Feedback`` items or a
``FeedbackLog``): :func:`feedback_score`, :func:`feedback_breakdown` (by
channel, kind, touchpoint, stage or a segment label per row) and
:func:`feedback_trend`. Over cases: :func:`case_report` (response and
resolution times, loop closure, reopen rate, SLA attainment via
:func:`sla_verdicts`), or the building blocks :func:`durations`,
:func:`duration_breakdown`, :func:`sla_attainment`, :func:`loop_closure_rate`
and :func:`reopen_rate` over your own arrays.

**One rule, two speeds.** Every score metric is derived from a histogram of
answers (one count per scale point) in exactly one place; :func:`nps` builds
one histogram, :func:`breakdown` and :func:`trend` build one per group with a
single :func:`numpy.bincount` over ``group * points + answer`` and derive each
group with the same code. The tests check both against plain Python.

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
from datetime import date, datetime, timedelta
from typing import Final, Literal, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.columnar import Column
from crmcore.feedback.cases import Case, CaseState, Priority
from crmcore.feedback.feedback import CHANNELS, KINDS, Feedback, FeedbackLog
from crmcore.feedback.sla import SlaMetric, SlaPolicy, SlaStatus, sla_status
from crmcore.journey.scores import Scale
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array, Int64Array
from crmcore.kernel.clock import EPOCH, to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.reports import html_table, json_number
from crmcore.kernel.stage import Stage

__all__ = [
    "CaseColumns",
    "CaseReport",
    "CesScore",
    "CsatScore",
    "Dimension",
    "DurationStats",
    "GroupRow",
    "MetricBreakdown",
    "NONE_KEY",
    "NpsScore",
    "Period",
    "Rate",
    "ScoreResult",
    "breakdown",
    "case_report",
    "ces",
    "csat",
    "duration_breakdown",
    "durations",
    "feedback_breakdown",
    "feedback_log",
    "feedback_score",
    "feedback_trend",
    "loop_closure_rate",
    "nps",
    "period_codes",
    "rate",
    "reopen_rate",
    "score",
    "sla_attainment",
    "sla_verdicts",
    "trend",
]

#: A trend period: calendar day, ISO week (from Monday) or calendar month, all in UTC.
Period: TypeAlias = Literal["day", "week", "month"]
_PERIODS: Final = ("day", "week", "month")
_DAY_US: Final = 86_400_000_000


# -- validation ------------------------------------------------------------------------------


def _confidence(value: object) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not 0 < value < 1:  # type: ignore[operator]
        raise ValidationError("confidence", value, "must be a number strictly between 0 and 1")
    return float(value)  # type: ignore[arg-type]


def _z(confidence: float) -> float:
    return statistics.NormalDist().inv_cdf(0.5 + confidence / 2)


def _answers(scores: object, scale: Scale, field: str = "scores") -> Int64Array:
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


def _labels(labels: object, n: int, field: str = "labels") -> tuple[Int64Array, tuple[str, ...]]:
    """Group codes (0..k-1, labels sorted) and the labels' names, one per distinct label."""
    if isinstance(labels, str | bytes) or labels is None:
        raise ValidationError(field, labels, "must be a sequence with one label per score")
    array = np.asarray(labels)
    if array.ndim != 1:
        raise ValidationError(field, array.shape, "must be one-dimensional")
    if len(array) != n:
        raise ValidationError(field, len(array), f"must have one label per score ({n})")
    if n == 0:
        return np.empty(0, dtype=np.int64), ()
    if array.dtype.kind == "O":
        missing = np.array([v is None for v in array.tolist()], dtype=bool)
        if missing.any():
            i = int(np.argmax(missing))
            raise ValidationError(f"{field}[{i}]", None, "must not be None")
    if array.dtype.kind in "iu" and array.dtype != np.bool_:
        low, high = int(array.min()), int(array.max())
        if (
            high - low <= 4 * n + 1024 and high < 2**63
        ):  # dense integer labels: O(n) with bincount, no sort
            offset = array.astype(np.int64) - low
            present = np.bincount(offset) > 0
            lookup = np.cumsum(present) - 1
            distinct_codes = np.flatnonzero(present) + low
            return lookup[offset].astype(np.int64), tuple(str(v) for v in distinct_codes.tolist())
    try:
        distinct, inverse = np.unique(array, return_inverse=True)
    except TypeError:
        raise ValidationError(field, str(array.dtype), "labels must be comparable") from None
    return inverse.reshape(-1).astype(np.int64), tuple(str(v) for v in distinct.tolist())


def _datetimes(at: object, n: int, field: str = "at") -> Int64Array:
    """Instants as int64 microseconds since the epoch (UTC); NaT and naive datetimes refused."""
    if isinstance(at, np.ndarray) and at.dtype.kind == "M":
        values = at.astype("datetime64[us]")
    elif isinstance(at, Sequence | np.ndarray) and not isinstance(at, str | bytes):
        values = Column.from_values("datetime", list(at), name=field).values
    else:
        raise ValidationError(field, at, "must be aware datetimes or a datetime64 array")
    if values.ndim != 1 or len(values) != n:
        raise ValidationError(field, len(values), f"must have one instant per score ({n})")
    missing = np.isnat(values)
    if missing.any():
        i = int(np.argmax(missing))
        raise ValidationError(f"{field}[{i}]", None, "must be a known instant")
    return values.view(np.int64)


def period_codes(at: object, period: Period = "month") -> tuple[Int64Array, tuple[str, ...]]:
    """Each instant's period (a code 0..k-1) and the labels of *every* period in between.

    Periods are contiguous from the earliest to the latest instant, so a
    period with no data still gets a label (and a row with ``n`` 0 in a
    trend). UTC days are keyed ``"2026-01-05"``, ISO weeks from Monday
    ``"2026-W02"``, months ``"2026-01"``. ``at`` holds aware datetimes or a
    ``datetime64`` array (taken as UTC).

    >>> from datetime import UTC, datetime
    >>> codes, labels = period_codes(
    ...     [datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 20, tzinfo=UTC)], "week"
    ... )
    >>> codes.tolist(), labels
    ([0, 2], ('2026-W02', '2026-W03', '2026-W04'))
    """
    if period not in _PERIODS:
        raise ValidationError("period", period, f"must be one of {', '.join(_PERIODS)}")
    n = len(at) if isinstance(at, Sequence | np.ndarray) else -1
    us = _datetimes(at, n)
    if len(us) == 0:
        return np.empty(0, dtype=np.int64), ()
    index = _period_index(us, period)
    first, last = int(index.min()), int(index.max())
    labels = tuple(_period_label(i, period) for i in range(first, last + 1))
    return index - first, labels


def _period_index(us: Int64Array, period: str) -> Int64Array:
    days = us // _DAY_US
    if period == "day":
        return days
    if period == "week":
        return (days + 3) // 7  # 1970-01-01 was a Thursday; week 0 starts Monday 1969-12-29
    months: Int64Array = us.view("datetime64[us]").astype("datetime64[M]").view(np.int64)
    return months


def _period_label(index: int, period: str) -> str:
    if period == "day":
        return (date(1970, 1, 1) + timedelta(days=index)).isoformat()
    if period == "week":
        year, week, _ = (date(1969, 12, 29) + timedelta(weeks=index)).isocalendar()
        return f"{year}-W{week:02d}"
    return f"{1970 + index // 12:04d}-{index % 12 + 1:02d}"


# -- results ---------------------------------------------------------------------------------


def _opt(value: float | None) -> int | float | None:
    return json_number(value)


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
            "stderr": _opt(self.stderr),
            "low": _opt(self.low),
            "high": _opt(self.high),
            "easy": self.easy,
            "difficult": self.difficult,
            "index": json_number(self.index),
            "confidence": self.confidence,
        }

    def _repr_html_(self) -> str:
        return html_table(
            f"CES mean {self.mean:.2f} (1-7), index {self.index:+.1f}",
            ["answers", "easy (6-7)", "difficult (1-3)", "CI low", "CI high"],
            [[self.n, self.easy, self.difficult, self.low, self.high]],
            kinds=["int", "int", "int", "float", "float"],
            caption=f"{self.confidence:.0%} normal interval of the mean",
        )


#: Any of the three score results.
ScoreResult: TypeAlias = NpsScore | CsatScore | CesScore


def _from_histogram(scale: Scale, hist: Sequence[int], z: float, confidence: float) -> ScoreResult:
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

    Raises :class:`~crmcore.kernel.errors.ValidationError` for an empty input (a
    score of nothing is undefined, not 0) and for any answer off the scale,
    naming its position (``"scores[3]"``).
    """
    chosen = Scale.parse(scale)
    z = _z(_confidence(confidence))
    answers = _answers(scores, chosen)
    if len(answers) == 0:
        raise ValidationError("scores", [], f"{chosen.value} needs at least one answer")
    hist = np.bincount(answers - chosen.low, minlength=chosen.high - chosen.low + 1)
    return _from_histogram(chosen, hist.tolist(), z, confidence)


def nps(scores: npt.ArrayLike, *, confidence: float = 0.95) -> NpsScore:
    """Net Promoter Score of 0-10 answers: % promoters (9-10) - % detractors (0-6).

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
    crmcore.kernel.errors.ValidationError: scores[1]: must lie in 0..10 on the nps scale (got 11)
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


# -- breakdowns and trends -------------------------------------------------------------------


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


def _grouped(
    answers: Int64Array,
    codes: Int64Array,
    keys: tuple[str, ...],
    scale: Scale,
    confidence: float,
    by: str,
) -> MetricBreakdown:
    z = _z(confidence)
    width = scale.high - scale.low + 1
    groups = len(keys)
    flat = np.bincount(codes * width + (answers - scale.low), minlength=groups * width)
    hist = flat.reshape(groups, width)
    totals = hist.sum(axis=1)
    rows = tuple(
        GroupRow(
            key,
            int(totals[g]),
            _from_histogram(scale, hist[g].tolist(), z, confidence) if totals[g] else None,
        )
        for g, key in enumerate(keys)
    )
    overall = (
        _from_histogram(scale, hist.sum(axis=0).tolist(), z, confidence) if len(answers) else None
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

    Vectorised: one :func:`numpy.bincount` over ``label code * points +
    answer`` gives every group's histogram. Labels are any comparable
    values (strings, ints, touchpoints); keys are their ``str``.

    >>> b = breakdown([10, 0, 9, 9], ["web", "web", "phone", "phone"], scale="nps", by="channel")
    >>> b.values()
    {'phone': 100.0, 'web': 0.0}
    """
    chosen = Scale.parse(scale)
    level = _confidence(confidence)
    answers = _answers(scores, chosen)
    codes, keys = _labels(labels, len(answers))
    return _grouped(answers, codes, keys, chosen, level, by)


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
    have ``n`` 0 and no result (:func:`period_codes`).
    """
    chosen = Scale.parse(scale)
    level = _confidence(confidence)
    answers = _answers(scores, chosen)
    if period not in _PERIODS:
        raise ValidationError("period", period, f"must be one of {', '.join(_PERIODS)}")
    us = _datetimes(at, len(answers))
    if len(us) == 0:
        return MetricBreakdown(chosen, period, (), None)
    index = _period_index(us, period)
    first, last = int(index.min()), int(index.max())
    keys = tuple(_period_label(i, period) for i in range(first, last + 1))
    return _grouped(answers, index - first, keys, chosen, level, period)


# -- durations -------------------------------------------------------------------------------


def _seconds(values: object, field: str = "durations") -> Float64Array:
    """Durations as float seconds; ``None``/``NaN``/``NaT`` stay ``NaN`` (pending)."""
    if isinstance(values, str | bytes) or values is None:
        raise ValidationError(field, values, "must be a sequence of durations")
    if isinstance(values, np.ndarray) and values.dtype.kind == "m":
        if values.ndim != 1:
            raise ValidationError(field, values.shape, "must be one-dimensional")
        us = values.astype("timedelta64[us]")
        out: Float64Array = us.view(np.int64).astype(np.float64) / 1e6
        out[np.isnat(us)] = np.nan
    elif isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        if values.ndim != 1:
            raise ValidationError(field, values.shape, "must be one-dimensional")
        out = values.astype(np.float64)
        if np.isinf(out).any():
            i = int(np.argmax(np.isinf(out)))
            raise ValidationError(f"{field}[{i}]", float(out[i]), "must be finite")
    elif isinstance(values, Sequence | np.ndarray):
        items = list(values)
        out = np.empty(len(items), dtype=np.float64)
        for i, v in enumerate(items):
            if v is None:
                out[i] = np.nan
            elif isinstance(v, timedelta):
                out[i] = v.total_seconds()
            elif isinstance(v, int | float) and not isinstance(v, bool) and not math.isinf(v):
                out[i] = float(v)
            else:
                raise ValidationError(f"{field}[{i}]", v, "must be a timedelta, seconds or None")
    else:
        raise ValidationError(field, values, "must be a sequence of durations")
    negative = out < 0
    if negative.any():
        i = int(np.argmax(negative))
        raise ValidationError(f"{field}[{i}]", float(out[i]), "must not be negative")
    return out


@attrs.frozen
class DurationStats:
    """The distribution of finished durations (seconds), with unfinished ones counted apart.

    ``count`` finished items and ``pending`` unfinished ones (``None``,
    ``NaN`` or ``NaT`` in the input). Mean, median, 90th percentile
    (linear interpolation between order statistics, Hyndman & Fan type 7,
    NumPy's default) and maximum are ``None`` when ``count`` is 0.
    """

    name: str
    count: int
    pending: int
    mean: float | None
    median: float | None
    p90: float | None
    max: float | None

    def as_timedelta(self, which: Literal["mean", "median", "p90", "max"]) -> timedelta | None:
        """One statistic as a :class:`~datetime.timedelta` (``None`` without data)."""
        value: float | None = getattr(self, which)
        return None if value is None else timedelta(seconds=value)

    def to_dict(self) -> dict[str, object]:
        """The statistics as JSON-compatible data (seconds)."""
        return {
            "name": self.name,
            "count": self.count,
            "pending": self.pending,
            "mean_seconds": _opt(self.mean),
            "median_seconds": _opt(self.median),
            "p90_seconds": _opt(self.p90),
            "max_seconds": _opt(self.max),
        }

    def _repr_html_(self) -> str:
        def hours(v: float | None) -> float | None:
            return None if v is None else v / 3600

        return html_table(
            f"{self.name}: {self.count} finished, {self.pending} pending",
            ["mean (h)", "median (h)", "p90 (h)", "max (h)"],
            [[hours(self.mean), hours(self.median), hours(self.p90), hours(self.max)]],
            kinds=["float"] * 4,
        )


def _grouped_quantiles(
    values: Float64Array, codes: Int64Array, groups: int, q: float
) -> Float64Array:
    """The ``q`` quantile of each group (type 7); NaN for empty groups. Values must be finite."""
    order = np.lexsort((values, codes))
    sorted_values = values[order]
    counts = np.bincount(codes, minlength=groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    out = np.full(groups, np.nan)
    has = counts > 0
    h = (counts[has] - 1) * q
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, counts[has] - 1)
    base = starts[has]
    below, above = sorted_values[base + lo], sorted_values[base + hi]
    out[has] = below + (h - lo) * (above - below)
    return out


def _duration_rows(
    seconds: Float64Array, codes: Int64Array, keys: tuple[str, ...], name: str
) -> tuple[DurationStats, ...]:
    groups = len(keys)
    done = ~np.isnan(seconds)
    pending = np.bincount(codes[~done], minlength=groups)
    values, vcodes = seconds[done], codes[done]
    counts = np.bincount(vcodes, minlength=groups)
    sums = np.bincount(vcodes, weights=values, minlength=groups)
    medians = _grouped_quantiles(values, vcodes, groups, 0.5)
    p90 = _grouped_quantiles(values, vcodes, groups, 0.9)
    maxima = np.full(groups, -np.inf)
    np.maximum.at(maxima, vcodes, values)
    rows = []
    for g, key in enumerate(keys):
        c = int(counts[g])
        rows.append(
            DurationStats(
                name=key if name == "" else name,
                count=c,
                pending=int(pending[g]),
                mean=float(sums[g] / c) if c else None,
                median=float(medians[g]) if c else None,
                p90=float(p90[g]) if c else None,
                max=float(maxima[g]) if c else None,
            )
        )
    return tuple(rows)


def durations(values: object, *, name: str = "duration") -> DurationStats:
    """Count, mean, median, p90 and maximum of durations (timedeltas, seconds or timedelta64).

    Unfinished items (``None``, ``NaN``, ``NaT``) are counted in
    ``pending``; negative durations raise a ValidationError naming the
    position.

    >>> from datetime import timedelta
    >>> d = durations([timedelta(hours=1), timedelta(hours=3), None], name="first response")
    >>> d.count, d.pending, d.as_timedelta("median")
    (2, 1, datetime.timedelta(seconds=7200))
    """
    seconds = _seconds(values)
    codes = np.zeros(len(seconds), dtype=np.int64)
    return _duration_rows(seconds, codes, ("all",), name)[0]


def duration_breakdown(
    values: object, labels: npt.ArrayLike | Sequence[object]
) -> dict[str, DurationStats]:
    """:func:`durations` per distinct label (e.g. priority or channel), vectorised.

    Returns ``{label: stats}`` in sorted label order; each stats' ``name`` is the label.
    """
    seconds = _seconds(values)
    codes, keys = _labels(labels, len(seconds))
    return dict(zip(keys, _duration_rows(seconds, codes, keys, ""), strict=True))


# -- rates -----------------------------------------------------------------------------------


@attrs.frozen
class Rate:
    """A share: ``numerator / denominator`` (``value`` ``None`` when the denominator is 0)."""

    name: str
    numerator: int
    denominator: int

    def __attrs_post_init__(self) -> None:
        for field in ("numerator", "denominator"):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValidationError(field, v, "must be a non-negative int")
        if self.numerator > self.denominator:
            raise ValidationError(
                "numerator", self.numerator, f"must not exceed the denominator {self.denominator}"
            )

    @property
    def value(self) -> float | None:
        """The share (0..1), or ``None`` with nothing to divide by."""
        return self.numerator / self.denominator if self.denominator else None

    def to_dict(self) -> dict[str, object]:
        """The rate as JSON-compatible data."""
        return {
            "name": self.name,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "value": _opt(self.value),
        }

    def _repr_html_(self) -> str:
        return html_table(
            self.name,
            ["count", "of", "rate"],
            [[self.numerator, self.denominator, self.value]],
            kinds=["int", "int", "pct"],
        )


def _flags(values: object, field: str) -> BoolArray:
    if isinstance(values, str | bytes) or values is None:
        raise ValidationError(field, values, "must be a sequence of booleans")
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValidationError(field, array.shape, "must be one-dimensional")
    if array.size and array.dtype != np.bool_:
        raise ValidationError(field, str(array.dtype), "must hold booleans")
    return array.astype(bool)


def rate(name: str, numerator: int, denominator: int) -> Rate:
    """A named :class:`Rate` (validated: ``0 <= numerator <= denominator``)."""
    return Rate(name, numerator, denominator)


def sla_attainment(met: npt.ArrayLike, *, decided: npt.ArrayLike | None = None) -> Rate:
    """Share of SLA targets met among those decided.

    ``met[i]`` says target ``i`` was met; ``decided`` (optional, same
    length) marks targets already settled (met, or breached); undecided ones
    (still running, not yet breached) are left out of both counts.

    >>> sla_attainment([True, False, True, True], decided=[True, True, True, False]).value
    0.66...
    """
    hit = _flags(met, "met")
    settled = np.ones(len(hit), dtype=bool) if decided is None else _flags(decided, "decided")
    if len(settled) != len(hit):
        raise ValidationError(
            "decided", len(settled), f"must have one flag per target ({len(hit)})"
        )
    return Rate("sla attainment", int((hit & settled).sum()), int(settled.sum()))


def loop_closure_rate(opened: int, closed_verified: int) -> Rate:
    """Cases closed with a verified follow-up / cases opened (PEERS.md §5, Medallia inner loop)."""
    return Rate("loop closure", closed_verified, opened)


def reopen_rate(resolved: int, reopened: int) -> Rate:
    """Cases reopened / cases ever resolved."""
    return Rate("reopen rate", reopened, resolved)


# -- over feedback ---------------------------------------------------------------------------

#: A built-in feedback dimension to break a metric down by.
Dimension: TypeAlias = Literal["channel", "kind", "touchpoint", "stage"]
_DIMENSIONS: Final = ("channel", "kind", "touchpoint", "stage")
#: The key of rows that name no touchpoint or stage.
NONE_KEY: Final = "none"


def feedback_log(feedback: FeedbackLog | Iterable[Feedback]) -> FeedbackLog:
    """``feedback`` as a :class:`~crmcore.feedback.feedback.FeedbackLog` (built once if needed)."""
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
    codes, keys = _labels(by, len(log), "by")
    return codes, keys, "segment"


def feedback_score(
    feedback: FeedbackLog | Iterable[Feedback], scale: Scale | str, *, confidence: float = 0.95
) -> ScoreResult:
    """The metric of ``scale`` over the feedback that carries a score on it.

    Raises :class:`~crmcore.kernel.errors.ValidationError` when none does.
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
    level = _confidence(confidence)
    codes, keys, name = _dimension_labels(log, by)
    values = log.scores[chosen]
    present = ~np.isnan(values)
    answers = _answers(values[present], chosen)
    result = _grouped(answers, codes[present], keys, chosen, level, name)
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


# -- over cases ------------------------------------------------------------------------------


def _case_as_of(case: Case, as_of: datetime | None) -> Case | None:
    """The case as it stood at ``as_of`` (its history cut there); ``None`` if not yet opened."""
    if as_of is None:
        return case
    if case.opened_at > as_of:
        return None
    kept = tuple(c for c in case.history if c.at <= as_of)
    if len(kept) == len(case.history):
        return case
    state = kept[-1].to_state if kept else CaseState.NEW
    return attrs.evolve(case, history=kept, state=state)


@attrs.frozen(eq=False)
class CaseColumns:
    """Cases as columns, the input of the vectorised case metrics.

    ``opened``, ``first_response`` (first acknowledgement) and ``resolved``
    (the latest resolution, only while the case is resolved or closed) are
    ``datetime64[us]`` UTC, ``NaT`` where it has not happened; ``closed``,
    ``ever_resolved`` and ``reopened`` (at least once) are booleans;
    ``priority`` holds :class:`~crmcore.feedback.cases.Priority` values (1-4).
    """

    ids: AnyArray
    opened: AnyArray
    first_response: AnyArray
    resolved: AnyArray
    closed: BoolArray
    ever_resolved: BoolArray
    reopened: BoolArray
    priority: Int64Array

    def __attrs_post_init__(self) -> None:
        n = len(self.ids)
        for name in ("opened", "first_response", "resolved"):
            if getattr(self, name).dtype != np.dtype("datetime64[us]"):
                raise ValidationError(name, getattr(self, name).dtype, "must be datetime64[us]")
        for name in ("closed", "ever_resolved", "reopened"):
            if getattr(self, name).dtype != np.bool_:
                raise ValidationError(name, getattr(self, name).dtype, "must be booleans")
        for name in (
            "opened", "first_response", "resolved", "closed", "ever_resolved", "reopened",
            "priority",
        ):  # fmt: skip
            if len(getattr(self, name)) != n:
                raise ValidationError(name, len(getattr(self, name)), f"must have {n} rows")
        if np.isnat(self.opened).any():
            raise ValidationError("opened", "NaT", "every case has an opening time")
        bad = (self.priority < 1) | (self.priority > len(Priority))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValidationError(f"priority[{i}]", int(self.priority[i]), "must lie in 1..4")

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_cases(cls, cases: Iterable[Case], *, as_of: datetime | None = None) -> CaseColumns:
        """Columns of ``cases`` as they stood at ``as_of`` (default: as recorded).

        Cases opened after ``as_of`` are left out; later changes are ignored.
        """
        if isinstance(cases, str | bytes | Case) or not isinstance(cases, Iterable):
            raise ValidationError("cases", cases, "must be Case items")
        cut = None if as_of is None else to_utc(as_of, "as_of")
        rows: list[Case] = []
        for i, case in enumerate(cases):
            if not isinstance(case, Case):
                raise ValidationError(f"cases[{i}]", case, "must be a Case")
            seen = _case_as_of(case, cut)
            if seen is not None:
                rows.append(seen)

        def stamps(values: list[datetime | None]) -> AnyArray:
            us = [_NAT_US if v is None else (v - EPOCH) // _MICROSECOND for v in values]
            return np.array(us, dtype=np.int64).view("datetime64[us]")

        return cls(
            ids=np.array([c.id for c in rows], dtype=object),
            opened=stamps([c.opened_at for c in rows]),
            first_response=stamps([c.acknowledged_at for c in rows]),
            resolved=stamps([c.resolved_at for c in rows]),
            closed=np.array([c.loop_closed for c in rows], dtype=bool),
            ever_resolved=np.array(
                [any(ch.to_state is CaseState.RESOLVED for ch in c.history) for c in rows],
                dtype=bool,
            ),
            reopened=np.array([c.reopen_count > 0 for c in rows], dtype=bool),
            priority=np.array([int(c.priority) for c in rows], dtype=np.int64),
        )


_NAT_US: Final = int(np.datetime64("NaT", "us").view(np.int64))
_MICROSECOND: Final = timedelta(microseconds=1)


@attrs.frozen
class CaseReport:
    """Inner-loop performance over a set of cases.

    * ``first_response``: opened → first acknowledgement; ``resolution``:
      opened → latest resolution (for cases resolved or closed; reopened
      cases count as pending until resolved again). Calendar time, not
      business time: business-hours SLA clocks live in the SLA module, whose
      met/breached verdicts feed ``sla``.
    * ``loop_closure``: cases closed (which needs a verified, satisfied
      follow-up) / cases opened; ``reopen``: cases reopened at least once /
      cases ever resolved; ``sla``: SLA targets met / decided (``None``
      when no verdicts were given); ``sla_by_metric``: the same per metric
      (first response, resolution) when an SLA policy was given.
    * ``by_priority``: first-response and resolution statistics per priority.
    """

    cases: int
    open: int
    first_response: DurationStats
    resolution: DurationStats
    loop_closure: Rate
    reopen: Rate
    sla: Rate | None
    by_priority: tuple[tuple[str, DurationStats, DurationStats], ...]
    sla_by_metric: tuple[tuple[str, Rate], ...] = ()

    def to_dict(self) -> dict[str, object]:
        """The report as JSON-compatible data (durations in seconds)."""
        return {
            "cases": self.cases,
            "open": self.open,
            "first_response": self.first_response.to_dict(),
            "resolution": self.resolution.to_dict(),
            "loop_closure": self.loop_closure.to_dict(),
            "reopen": self.reopen.to_dict(),
            "sla": None if self.sla is None else self.sla.to_dict(),
            "sla_by_metric": {m: r.to_dict() for m, r in self.sla_by_metric},
            "by_priority": [
                {"priority": p, "first_response": f.to_dict(), "resolution": r.to_dict()}
                for p, f, r in self.by_priority
            ],
        }

    def _repr_html_(self) -> str:
        def hours(v: float | None) -> float | None:
            return None if v is None else v / 3600

        rows: list[list[object]] = []
        for label, first, resolved in (
            ("all", self.first_response, self.resolution),
            *self.by_priority,
        ):
            rows.append(
                [
                    label,
                    first.count,
                    hours(first.median),
                    hours(first.p90),
                    resolved.count,
                    hours(resolved.median),
                    hours(resolved.p90),
                ]
            )
        sla = "-" if self.sla is None or self.sla.value is None else f"{self.sla.value:.1%}"
        closure = self.loop_closure.value
        reopen = self.reopen.value
        return html_table(
            f"Cases: {self.cases:,} ({self.open:,} open)",
            ["priority", "responded", "median (h)", "p90 (h)", "resolved", "median (h)", "p90 (h)"],
            rows,
            kinds=["auto", "int", "float", "float", "int", "float", "float"],
            caption=f"loop closure {'-' if closure is None else f'{closure:.1%}'}; "
            f"reopen rate {'-' if reopen is None else f'{reopen:.1%}'}; SLA attainment {sla}",
        )


def sla_verdicts(
    cases: Iterable[Case], policy: SlaPolicy, as_of: datetime
) -> dict[SlaMetric, tuple[bool | None, ...]]:
    """Each case's SLA verdict per metric as of ``as_of``: met, breached or ``None`` (running).

    One :func:`~crmcore.feedback.sla.sla_status` per case (business-hours
    clocks, paused while waiting on the customer); cases opened after
    ``as_of`` and metrics without a target for a case's priority are left out.
    """
    instant = to_utc(as_of, "as_of")
    out: dict[SlaMetric, list[bool | None]] = {m: [] for m in SlaMetric}
    for i, case in enumerate(cases):
        if not isinstance(case, Case):
            raise ValidationError(f"cases[{i}]", case, "must be a Case")
        if case.opened_at > instant:
            continue
        for clock in sla_status(case, policy, instant).clocks:
            verdict = {SlaStatus.MET: True, SlaStatus.BREACHED: False}.get(clock.status)
            out[clock.metric].append(verdict)
    return {m: tuple(v) for m, v in out.items()}


def case_report(
    cases: CaseColumns | Iterable[Case],
    *,
    as_of: datetime | None = None,
    sla_met: Sequence[bool | None] | npt.ArrayLike | None = None,
    sla_policy: SlaPolicy | None = None,
) -> CaseReport:
    """First-response and resolution times, loop closure, reopen rate and SLA attainment.

    ``cases`` are :class:`~crmcore.feedback.cases.Case` objects (read as
    they stood at ``as_of``) or :class:`CaseColumns`. SLA attainment comes
    from ``sla_policy`` (with Case objects and ``as_of``: every target of
    every case, via :func:`sla_verdicts`) or from ``sla_met``, one verdict
    per target computed elsewhere (``True`` met, ``False`` breached,
    ``None`` still running; it need not align with the cases). Everything
    else is computed with numpy over the columns.
    """
    per_metric: list[tuple[str, Rate]] = []
    if sla_policy is not None:
        if sla_met is not None:
            raise ValidationError("sla_met", sla_met, "give sla_met or sla_policy, not both")
        if as_of is None or isinstance(cases, CaseColumns):
            raise ValidationError(
                "sla_policy", sla_policy, "needs Case objects and as_of (SLA clocks run to a time)"
            )
        cases = list(cases)
        by_metric = sla_verdicts(cases, sla_policy, as_of)
        sla_met = [v for metric in SlaMetric for v in by_metric[metric]]
        for metric in SlaMetric:
            flags = _verdicts(by_metric[metric])
            per_metric.append((metric.value, _attained(flags)))
    if isinstance(cases, CaseColumns):
        if as_of is not None:
            raise ValidationError("as_of", as_of, "applies to Case objects, not CaseColumns")
        columns = cases
    else:
        columns = CaseColumns.from_cases(cases, as_of=as_of)
    opened = columns.opened.view(np.int64)
    first = _elapsed(columns.first_response, opened)
    resolved = _elapsed(columns.resolved, opened)
    labels = np.array([Priority(int(p)).label for p in np.unique(columns.priority)], dtype=object)
    codes = np.searchsorted(np.unique(columns.priority), columns.priority).astype(np.int64)
    keys = tuple(str(v) for v in labels.tolist())
    by_first = _duration_rows(first, codes, keys, "")
    by_resolved = _duration_rows(resolved, codes, keys, "")
    sla: Rate | None = None
    if sla_met is not None:
        sla = _attained(_verdicts(sla_met))
    n = len(columns)
    return CaseReport(
        cases=n,
        open=int(n - columns.closed.sum()),
        first_response=durations(first, name="first response"),
        resolution=durations(resolved, name="resolution"),
        loop_closure=loop_closure_rate(n, int(columns.closed.sum())),
        reopen=reopen_rate(int(columns.ever_resolved.sum()), int(columns.reopened.sum())),
        sla=sla,
        by_priority=tuple(
            (key, attrs.evolve(f, name="first response"), attrs.evolve(r, name="resolution"))
            for key, f, r in zip(keys, by_first, by_resolved, strict=True)
        ),
        sla_by_metric=tuple(per_metric),
    )


def _attained(verdicts: Int64Array) -> Rate:
    met: BoolArray = verdicts == 1
    decided: BoolArray = verdicts >= 0
    return sla_attainment(met, decided=decided)


def _elapsed(ends: AnyArray, starts_us: Int64Array) -> Float64Array:
    """Seconds from start to end; NaN where the end is NaT."""
    missing = np.isnat(ends)
    out: Float64Array = (ends.view(np.int64) - starts_us).astype(np.float64) / 1e6
    out[missing] = np.nan
    return out


def _verdicts(values: object) -> Int64Array:
    """SLA verdicts as 1 (met), 0 (breached), -1 (undecided)."""
    if isinstance(values, np.ndarray) and values.dtype == np.bool_:
        return values.astype(np.int64)
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError("sla_met", values, "must be a sequence of True, False or None")
    out = []
    for i, v in enumerate(values):
        if v is None:
            out.append(-1)
        elif isinstance(v, bool | np.bool_):
            out.append(int(v))
        else:
            raise ValidationError(f"sla_met[{i}]", v, "must be True, False or None")
    return np.array(out, dtype=np.int64)
