"""The journey report: experience per touchpoint, grouped by stage, with pain points ranked.

Both ways of computing a journey report, the vectorised
[`journey_report()`][crmcore.journey.analysis.journey_report] and the plain-Python
`reference_journey_report()`, only *count*
(volume, customers, conversions, score sums, negatives) and hand the counts
to [`assemble()`][crmcore.journey.report.assemble]. Every derived number (rates, means, stage
averages, pain) is computed here, once, so the two cannot drift apart.

**Pain score.** Pain ranks where the journey hurts most, as severity times
impact (the usual prioritisation of problems by how bad and how wide; seed
002 §4.1.1 prioritises needs "by urgency and importance"):

    negative   N = share of the touchpoint's scores in the scale's negative band
    shortfall  S = clip((neutral - mean score) / (neutral - scale low), 0, 1)
    conv. gap  C = clip((stage conversion - conversion) / stage conversion, 0, 1)
    severity     = (wN*N + wS*S + wC*C) / (wN + wS + wC)       (default w = 1, 1, 1)
    impact       = sqrt(volume / largest touchpoint volume)
    pain         = severity * impact                           (0..1)

A missing part (no scores; no conversion defined) counts as 0: no evidence,
no pain. The square root sits between counting every bad experience (linear:
the busiest touchpoint always wins) and ignoring reach; it also discounts a
small touchpoint about as fast as the noise of its shares grows (a share's
standard error falls as 1/sqrt(n)).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

import attrs

from crmcore.journey.event_log import N_STAGES
from crmcore.journey.scores import Scale
from crmcore.journey.touchpoint import Touchpoint
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.reports import html_table, json_number, records_frame
from crmcore.kernel.stage import Stage

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "JourneyReport",
    "JourneyStats",
    "PainWeights",
    "StageSource",
    "TouchpointRow",
    "assemble",
]

StageSource = Literal["map", "log"]
"""Where a touchpoint's stage came from: the explicit map, the log's stage column, or nowhere."""


def _weight(_instance: object, attribute: attrs.Attribute[float], value: object) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < 0:  # type: ignore[arg-type,operator]
        raise ValidationError(f"weights.{attribute.name}", value, "must be a finite number >= 0")


@attrs.frozen
class PainWeights:
    """Relative weights of the three severity parts of the pain score (see module docs).

    Non-negative and not all zero; only their ratios matter.
    """

    negative: float = attrs.field(default=1.0, validator=_weight)
    shortfall: float = attrs.field(default=1.0, validator=_weight)
    conversion: float = attrs.field(default=1.0, validator=_weight)

    def __attrs_post_init__(self) -> None:
        if self.negative + self.shortfall + self.conversion <= 0:
            raise ValidationError("weights", self, "at least one weight must be positive")

    def to_dict(self) -> dict[str, float]:
        """The weights as JSON-compatible data."""
        return {
            "negative": self.negative,
            "shortfall": self.shortfall,
            "conversion": self.conversion,
        }


@attrs.frozen
class JourneyStats:
    """The raw counts per touchpoint that both computations produce (aligned tuples).

    ``touchpoints`` are sorted; ``stages``/``sources`` say where each sits
    (``None``: unmapped). ``volume`` counts interactions, ``customers`` the
    distinct customers who had one, ``converted`` those of them who later
    reached a later stage; ``score_count``, ``score_sum`` and ``negatives``
    summarise the scores. ``customers_total``, ``events`` and
    ``other_events`` (events without a channel) describe the whole log.
    """

    touchpoints: tuple[Touchpoint, ...]
    stages: tuple[Stage | None, ...]
    sources: tuple[StageSource | None, ...]
    volume: tuple[int, ...]
    customers: tuple[int, ...]
    converted: tuple[int, ...]
    score_count: tuple[int, ...]
    score_sum: tuple[float, ...]
    negatives: tuple[int, ...]
    customers_total: int
    events: int
    other_events: int
    scale: Scale | None
    window: timedelta | None


@attrs.frozen
class TouchpointRow:
    """The experience at one touchpoint.

    * ``volume``: interactions at the touchpoint; ``customers``: distinct
      customers who had one.
    * ``converted`` / ``conversion``: of those customers, how many (what
      share) reached a *later* funnel stage after their first interaction
      here, within the report's window. ``None`` when the touchpoint is
      unmapped, at the last stage (advocacy: nothing is later) or unvisited.
    * ``stage_conversion``: the pooled conversion of all touchpoints of this
      stage (sum converted / sum customers), the yardstick for ``conversion``.
    * ``score_count``, ``mean_score``, ``negative_count``, ``share_negative``:
      the scores given here (``None`` without scores).
    * ``shortfall``, ``conversion_gap``, ``pain``: the pain score and its
      parts (module docs); ``shortfall``/``conversion_gap`` are ``None`` when
      undefined.
    """

    touchpoint: Touchpoint
    stage: Stage | None
    stage_source: StageSource | None
    volume: int
    customers: int
    converted: int
    conversion: float | None
    stage_conversion: float | None
    score_count: int
    mean_score: float | None
    negative_count: int
    share_negative: float | None
    shortfall: float | None
    conversion_gap: float | None
    pain: float

    @property
    def channel(self) -> str:
        """The touchpoint's channel."""
        return self.touchpoint.channel

    @property
    def kind(self) -> str:
        """The touchpoint's interaction kind."""
        return self.touchpoint.kind

    def to_dict(self) -> dict[str, object]:
        """The row as JSON-compatible data (undefined numbers are ``None``)."""
        return {
            "touchpoint": self.touchpoint.label,
            "channel": self.channel,
            "kind": self.kind,
            "stage": None if self.stage is None else self.stage.label,
            "stage_source": self.stage_source,
            "volume": self.volume,
            "customers": self.customers,
            "converted": self.converted,
            "conversion": json_number(self.conversion),
            "stage_conversion": json_number(self.stage_conversion),
            "score_count": self.score_count,
            "mean_score": json_number(self.mean_score),
            "negative_count": self.negative_count,
            "share_negative": json_number(self.share_negative),
            "shortfall": json_number(self.shortfall),
            "conversion_gap": json_number(self.conversion_gap),
            "pain": json_number(self.pain),
        }


def _stage_key(stage: Stage | None) -> int:
    return N_STAGES + 1 if stage is None else int(stage)


def _rank_key(row: TouchpointRow) -> tuple[float, int, int, str, str]:
    # Deterministic: pain, then volume (both descending), then funnel order, then name.
    return (-row.pain, -row.volume, _stage_key(row.stage), row.channel, row.kind)


@attrs.frozen
class JourneyReport:
    """A journey map measured: one row per touchpoint, grouped by stage.

    ``rows`` run through the stages in funnel order, unmapped touchpoints
    last; within a stage, by volume (descending), then name. Every touchpoint
    seen in the log, listed in the map or scored appears: unmapped ones under
    [`unmapped`][crmcore.journey.report.JourneyReport.unmapped], mapped or scored ones never seen in
    the log under [`unseen`][crmcore.journey.report.JourneyReport.unseen]. ``other_events`` counts
    events without a channel (not touchpoints; their stage still counts as "reached").

    ``window`` is the conversion window (``None``: unlimited), ``scale`` the
    scores' scale (``None``: no scores), ``customers`` the distinct customers
    in the log, ``events`` its size. Render it in Jupyter, or
    [`to_dict()`][crmcore.journey.report.JourneyReport.to_dict] it.
    """

    rows: tuple[TouchpointRow, ...]
    scale: Scale | None
    window: timedelta | None
    customers: int
    events: int
    other_events: int
    weights: PainWeights

    def __len__(self) -> int:
        return len(self.rows)

    def by_stage(self) -> dict[Stage | None, tuple[TouchpointRow, ...]]:
        """Rows per stage, in funnel order, ``None`` (unmapped) last; empty stages left out."""
        out: dict[Stage | None, list[TouchpointRow]] = {}
        for row in self.rows:
            out.setdefault(row.stage, []).append(row)
        return {stage: tuple(rows) for stage, rows in out.items()}

    @property
    def stage_conversion(self) -> dict[Stage, float | None]:
        """Pooled conversion of each stage that has touchpoints (the rows' yardstick)."""
        return {row.stage: row.stage_conversion for row in self.rows if row.stage is not None}

    @property
    def unmapped(self) -> tuple[TouchpointRow, ...]:
        """Rows of touchpoints with no stage (neither in the map nor derivable from the log)."""
        return tuple(row for row in self.rows if row.stage is None)

    @property
    def unseen(self) -> tuple[TouchpointRow, ...]:
        """Rows of touchpoints that the map lists or scores mention but the log never shows."""
        return tuple(row for row in self.rows if row.volume == 0)

    def row(self, touchpoint: Touchpoint | tuple[str, str] | str) -> TouchpointRow:
        """The row of ``touchpoint``; `NotFoundError` when it has none."""
        point = Touchpoint.parse(touchpoint)
        for row in self.rows:
            if row.touchpoint == point:
                return row
        raise NotFoundError("touchpoint", point.label)

    def pain_points(self, top: int | None = None) -> tuple[TouchpointRow, ...]:
        """Touchpoints with pain > 0, worst first; at most ``top`` of them.

        Ties break by volume (descending), funnel stage, then channel and kind,
        so the ranking is deterministic.
        """
        if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
            raise ValidationError("top", top, "must be a positive int or None")
        ranked = sorted((row for row in self.rows if row.pain > 0), key=_rank_key)
        return tuple(ranked if top is None else ranked[:top])

    def to_dict(self) -> dict[str, object]:
        """The report as JSON-compatible data: totals, rows, stage conversion, pain ranking."""
        return {
            "scale": None if self.scale is None else self.scale.value,
            "window_seconds": None if self.window is None else self.window.total_seconds(),
            "customers": self.customers,
            "events": self.events,
            "other_events": self.other_events,
            "weights": self.weights.to_dict(),
            "stage_conversion": {
                stage.label: json_number(value) for stage, value in self.stage_conversion.items()
            },
            "rows": [row.to_dict() for row in self.rows],
            "unmapped": [row.touchpoint.label for row in self.unmapped],
            "unseen": [row.touchpoint.label for row in self.unseen],
            "pain_points": [row.touchpoint.label for row in self.pain_points()],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per touchpoint, with the columns of
        [`TouchpointRow.to_dict()`][crmcore.journey.report.TouchpointRow.to_dict]."""
        return records_frame([row.to_dict() for row in self.rows], "JourneyReport.to_pandas")

    def _repr_html_(self) -> str:
        """The report as an HTML table with bars for volume, share negative and pain."""
        scale = "" if self.scale is None else f" ({self.scale.value.upper()})"
        header = [
            "stage",
            "touchpoint",
            "interactions",
            "customers",
            "to later stage",
            "stage avg",
            "scores",
            "mean score",
            "negative",
            "pain",
        ]
        kinds = ["auto", "auto", "int", "int", "pct", "pct", "int", "float", "pct", "float"]
        rows = [
            [
                "unmapped" if r.stage is None else r.stage.label,
                r.touchpoint.label,
                r.volume,
                r.customers,
                r.conversion,
                r.stage_conversion,
                r.score_count,
                r.mean_score,
                r.share_negative,
                r.pain,
            ]
            for r in self.rows
        ]
        top_volume = max((r.volume for r in self.rows), default=0)
        top_pain = max((r.pain for r in self.rows), default=0.0)
        window = "any time" if self.window is None else f"within {self.window}"
        worst = ", ".join(r.touchpoint.label for r in self.pain_points(3)) or "none"
        caption = (
            f"{self.customers:,} customers, {self.events:,} events "
            f"({self.other_events:,} without a channel); "
            f"'to later stage' = share of the touchpoint's customers reaching a later stage "
            f"{window}; {len(self.unmapped)} unmapped touchpoint(s); worst pain points: {worst}"
        )
        return html_table(
            f"Journey map{scale}: {len(self.rows)} touchpoints",
            header,
            rows,
            kinds=kinds,
            bars={2: float(top_volume), 8: 1.0, 9: float(top_pain)},
            caption=caption,
        )


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _clip01(value: float) -> float:
    return min(1.0, max(0.0, value))


def assemble(stats: JourneyStats, weights: PainWeights | None = None) -> JourneyReport:
    """The report from raw counts: rates, stage averages, pain (the one place they are computed)."""
    weights = PainWeights() if weights is None else weights
    if not isinstance(weights, PainWeights):
        raise ValidationError("weights", weights, "must be PainWeights")
    n = len(stats.touchpoints)
    # A touchpoint converts only if a later stage exists: not unmapped, not the last stage.
    open_stage = [s is not None and s < N_STAGES for s in stats.stages]
    pooled_customers: dict[Stage, int] = {}
    pooled_converted: dict[Stage, int] = {}
    for i in range(n):
        stage = stats.stages[i]
        if stage is not None and open_stage[i]:
            pooled_customers[stage] = pooled_customers.get(stage, 0) + stats.customers[i]
            pooled_converted[stage] = pooled_converted.get(stage, 0) + stats.converted[i]
    stage_rate: Mapping[Stage, float | None] = {
        stage: _ratio(pooled_converted[stage], pooled_customers[stage])
        for stage in pooled_customers
    }
    top_volume = max(stats.volume, default=0)
    scale = stats.scale
    total_weight = weights.negative + weights.shortfall + weights.conversion
    rows: list[TouchpointRow] = []
    for i in range(n):
        stage = stats.stages[i]
        conversion = _ratio(stats.converted[i], stats.customers[i]) if open_stage[i] else None
        stage_conversion = None if stage is None else stage_rate.get(stage)
        count = stats.score_count[i]
        mean = _ratio(stats.score_sum[i], count)
        share_negative = _ratio(stats.negatives[i], count)
        shortfall = None
        if mean is not None and scale is not None:
            shortfall = _clip01((scale.neutral - mean) / (scale.neutral - scale.low))
        gap = None
        if conversion is not None and stage_conversion:  # a stage average of 0 sets no bar
            gap = _clip01((stage_conversion - conversion) / stage_conversion)
        severity = (
            weights.negative * (share_negative or 0.0)
            + weights.shortfall * (shortfall or 0.0)
            + weights.conversion * (gap or 0.0)
        ) / total_weight
        impact = math.sqrt(stats.volume[i] / top_volume) if top_volume else 0.0
        rows.append(
            TouchpointRow(
                touchpoint=stats.touchpoints[i],
                stage=stage,
                stage_source=stats.sources[i],
                volume=stats.volume[i],
                customers=stats.customers[i],
                converted=stats.converted[i],
                conversion=conversion,
                stage_conversion=stage_conversion,
                score_count=count,
                mean_score=mean,
                negative_count=stats.negatives[i],
                share_negative=share_negative,
                shortfall=shortfall,
                conversion_gap=gap,
                pain=severity * impact,
            )
        )
    rows.sort(key=lambda r: (_stage_key(r.stage), -r.volume, r.channel, r.kind))
    return JourneyReport(
        rows=tuple(rows),
        scale=scale,
        window=stats.window,
        customers=stats.customers_total,
        events=stats.events,
        other_events=stats.other_events,
        weights=weights,
    )
