"""The pipeline report: open pipeline by stage, weighted pipeline, conversion, velocity, outcomes.

[`pipeline_report()`][crmcore.sales.pipeline_reports.pipeline_report] answers the questions of a
pipeline review in one vectorised pass over an
[`OpportunityFrame`][crmcore.sales.opportunity_frame.OpportunityFrame] (or a list of
[`Opportunity`][crmcore.sales.opportunities.Opportunity] s), as of ``as_of``:

* **open pipeline by stage**: open deals, their amount and **weighted amount** = Σ amount x
  probability, exact (the stage's default probability, a deal's override, or a given probability
  per deal such as a predictive model's) — the
  [`PipelineSnapshot`][crmcore.sales.snapshots.PipelineSnapshot];
* **stage-to-stage conversion**: of the deals that *reached* an open stage (were in it or any later
  stage, or won), the share that reached the next one (or won, after the last); skipped stages do
  not count against a deal. Beside it, of the closed deals that reached the stage, the share won:
  the empirical win probability of the stage, to set its default against;
* **stage velocity**: days spent in each open stage, median and mean over the stays that ended,
  and the median age of the deals in it now;
* **outcomes** of the deals closed in the window: win rate, average deal size, sales cycle
  ([`crmcore.sales.deal_performance`][crmcore.sales.deal_performance], by owner, source or segment).

``start`` (optional) limits conversion to the deals created after it and the outcomes to the
deals closed after it. Amounts in several currencies need ``rates``.

Examples:
    >>> from datetime import UTC, date, datetime, timedelta
    >>> from crmcore.kernel.money import Money
    >>> from crmcore.sales.opportunities import Opportunity
    >>> from crmcore.sales.pipeline import DEFAULT_PIPELINE as P
    >>> t = datetime(2026, 1, 5, tzinfo=UTC)
    >>> def deal(i, amount):
    ...     return Opportunity.open(f"o{i}", P, owner="ann", amount=Money(amount, "EUR"),
    ...                             close_date=date(2026, 3, 31), at=t).value
    >>> a = deal(1, 1000).move_to("qualified_to_buy", t + timedelta(days=4), P).value
    >>> b = deal(2, 2000).win(t + timedelta(days=10), P).value
    >>> report = pipeline_report([a, b, deal(3, 400)], t + timedelta(days=20), pipeline=P)
    >>> report.snapshot.weighted_amount, report.conversion[0].conversion
    (Money('480.00', 'EUR'), 0.6666666666666666)
    >>> report.velocity[0].median_days, report.outcomes.win_rate
    (7.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.kernel.clock import DAY_US, from_micros, to_micros
from crmcore.kernel.errors import MissingDependencyError, NotFoundError, ValidationError
from crmcore.kernel.money import Money
from crmcore.kernel.reports import html_table
from crmcore.kernel.validators import instance_of
from crmcore.sales._exact import group_sums
from crmcore.sales.deal_performance import GroupPerformance, deal_performance
from crmcore.sales.exchange_rates import ExchangeRates
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.opportunity_frame import OpportunityFrame
from crmcore.sales.pipeline import Pipeline
from crmcore.sales.pipeline_reports_batch import (
    as_frame,
    furthest_rank,
    group_medians,
    stays,
)
from crmcore.sales.snapshots import PipelineSnapshot, pipeline_snapshot

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ConversionLine", "PipelineReport", "VelocityLine", "pipeline_report"]


@attrs.frozen
class ConversionLine:
    """One open stage's conversion: deals that reached it, reached the next step, and closed.

    ``next_step`` is the next open stage (``"won"`` after the last one).
    """

    stage: str
    next_step: str
    reached: int
    reached_next: int
    closed: int
    won: int

    @property
    def conversion(self) -> float | None:
        """reached_next / reached (``None`` when no deal reached the stage)."""
        return self.reached_next / self.reached if self.reached else None

    @property
    def win_rate(self) -> float | None:
        """Of the closed deals that reached the stage, the share won (``None``: none closed)."""
        return self.won / self.closed if self.closed else None


@attrs.frozen
class VelocityLine:
    """Days in one open stage: over the stays that ended, and for the deals there now."""

    stage: str
    stays: int
    median_days: float | None
    mean_days: float | None
    open_deals: int
    median_age_days: float | None


@attrs.frozen(kw_only=True)
class PipelineReport:
    """The pipeline as of ``as_of`` (see the module docs): the snapshot, conversion and velocity
    per open stage (pipeline order), and the outcomes of the deals closed in the window."""

    pipeline_id: str
    as_of: datetime
    start: datetime | None
    snapshot: PipelineSnapshot
    conversion: tuple[ConversionLine, ...]
    velocity: tuple[VelocityLine, ...]
    outcomes: GroupPerformance

    @property
    def currency(self) -> str:
        """The currency of every amount in the report."""
        return self.snapshot.currency

    @property
    def weighted_amount(self) -> Money:
        """The weighted open pipeline (Σ amount x probability, exact)."""
        return self.snapshot.weighted_amount

    def coverage(self, quota: Money) -> float | None:
        """Open pipeline / ``quota`` (``None`` for a zero quota)."""
        return self.snapshot.coverage(quota)

    def stage(self, key: str) -> tuple[ConversionLine, VelocityLine]:
        """The conversion and velocity lines of open stage ``key``."""
        instance_of(key, str, "key", "a stage key")
        for conversion, velocity in zip(self.conversion, self.velocity, strict=True):
            if conversion.stage == key:
                return conversion, velocity
        raise NotFoundError("open stage", key)

    def to_dict(self) -> dict[str, object]:
        """JSON data: the snapshot, conversion, velocity and outcomes."""
        return {
            "pipeline_id": self.pipeline_id,
            "as_of": self.as_of.isoformat(),
            "start": None if self.start is None else self.start.isoformat(),
            "currency": self.currency,
            "snapshot": self.snapshot.to_dict(),
            "conversion": [
                attrs.asdict(c) | {"conversion": c.conversion, "win_rate": c.win_rate}
                for c in self.conversion
            ],
            "velocity": [attrs.asdict(v) for v in self.velocity],
            "outcomes": self.outcomes.to_dict(),
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per open stage: snapshot, conversion and velocity (needs ``pandas``)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "PipelineReport.to_pandas") from None
        rows = []
        for line, c, v in zip(self.snapshot.stages, self.conversion, self.velocity, strict=True):
            rows.append(
                {
                    "stage": line.stage,
                    "deals": line.count,
                    "amount": float(line.amount.amount),
                    "weighted": float(line.weighted.amount),
                    "reached": c.reached,
                    "conversion": c.conversion,
                    "win_rate": c.win_rate,
                    "median_days": v.median_days,
                    "mean_days": v.mean_days,
                    "median_age_days": v.median_age_days,
                }
            )
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        rows = [
            [
                line.name,
                line.count,
                float(line.amount.amount),
                float(line.weighted.amount),
                c.conversion,
                c.win_rate,
                v.median_days,
            ]
            for line, c, v in zip(self.snapshot.stages, self.conversion, self.velocity, strict=True)
        ]
        top = max((float(r[2]) for r in rows), default=0.0)  # type: ignore[arg-type]
        o = self.outcomes
        return html_table(
            f"Pipeline {self.pipeline_id} as of {self.as_of.date().isoformat()} ({self.currency})",
            ["stage", "deals", "amount", "weighted", "to next", "win rate", "median stay"],
            rows,
            kinds=["auto", "int", "float", "float", "pct", "pct", "days"],
            bars={2: top},
            caption=f"open {self.snapshot.open_amount}, weighted "
            f"{self.snapshot.weighted_amount.rounded()}; closed: {o.won} won, {o.lost} lost"
            + (f", win rate {o.win_rate:.1%}" if o.win_rate is not None else ""),
        )


def pipeline_report(
    data: OpportunityFrame | Iterable[Opportunity],
    as_of: datetime,
    *,
    pipeline: Pipeline | None = None,
    start: datetime | None = None,
    probabilities: npt.ArrayLike | None = None,
    rates: ExchangeRates | None = None,
) -> PipelineReport:
    """The pipeline report as of ``as_of`` (vectorised; see the module docs).

    ``probabilities`` (one float in ``[0, 1]`` per deal, rounded to millionths) replace the
    stages' defaults in the weighted pipeline. Raises
    [`ValidationError`][crmcore.kernel.errors.ValidationError] for a naive time, ``start`` after
    ``as_of`` or bad probabilities, and
    [`CurrencyMismatchError`][crmcore.kernel.errors.CurrencyMismatchError] for mixed currencies
    without ``rates``.
    """
    frame = as_frame(data, pipeline)
    t = to_micros(as_of, "as_of")
    t0 = None if start is None else to_micros(start, "start")
    if t0 is not None and t0 > t:
        raise ValidationError("start", start, "must not be after as_of")
    snapshot = pipeline_snapshot(frame, as_of, probabilities=probabilities, rates=rates)
    outcomes = deal_performance(frame, end=as_of, start=start, rates=rates).total
    return PipelineReport(
        pipeline_id=frame.pipeline.id,
        as_of=from_micros(t),
        start=None if t0 is None else from_micros(t0),
        snapshot=snapshot,
        conversion=_conversion(frame, t, t0),
        velocity=_velocity(frame, t),
        outcomes=outcomes,
    )


def _conversion(frame: OpportunityFrame, t: int, t0: int | None) -> tuple[ConversionLine, ...]:
    pipeline = frame.pipeline
    cohort = frame.exists_at(t)
    if t0 is not None:
        cohort &= frame.created > t0
    rank = furthest_rank(frame, t)[cohort]
    status = frame.status_at(t)[cohort]
    k = len(pipeline.open_stages)
    # reached[s] = deals whose furthest rank is >= s: a reversed cumulative count (rank k = won)
    counts = np.bincount(rank[rank >= 0], minlength=k + 1)
    reached = np.cumsum(counts[::-1])[::-1]
    closed_counts = np.bincount(rank[(rank >= 0) & (status != 0)], minlength=k + 1)
    won_counts = np.bincount(rank[(rank >= 0) & (status == 1)], minlength=k + 1)
    closed = np.cumsum(closed_counts[::-1])[::-1]
    won = np.cumsum(won_counts[::-1])[::-1]
    stages = pipeline.open_stages
    return tuple(
        ConversionLine(
            stage=stage.key,
            next_step=stages[s + 1].key if s + 1 < k else "won",
            reached=int(reached[s]),
            reached_next=int(reached[s + 1]),
            closed=int(closed[s]),
            won=int(won[s]),
        )
        for s, stage in enumerate(stages)
    )


def _velocity(frame: OpportunityFrame, t: int) -> tuple[VelocityLine, ...]:
    pipeline = frame.pipeline
    size = len(pipeline.stages)
    s = stays(frame, t)
    ended = pipeline.kind_codes[s.ended_stage] == 0
    current = (pipeline.kind_codes[s.current_stage] == 0) & (frame.status_at(t)[s.current_row] == 0)
    ended_stage, ended_length = s.ended_stage[ended], s.ended_length[ended]
    current_stage, current_length = s.current_stage[current], s.current_length[current]
    ended_count = np.bincount(ended_stage, minlength=size)
    ended_sum = group_sums(ended_stage, ended_length, size)
    medians = group_medians(ended_stage, ended_length, size)
    ages = group_medians(current_stage, current_length, size)
    current_count = np.bincount(current_stage, minlength=size)
    out = []
    for code, stage in enumerate(pipeline.stages):
        if not stage.is_open:
            continue
        n, m = int(ended_count[code]), int(current_count[code])
        out.append(
            VelocityLine(
                stage=stage.key,
                stays=n,
                median_days=float(medians[code]) / DAY_US if n else None,
                mean_days=ended_sum[code] / n / DAY_US if n else None,
                open_deals=m,
                median_age_days=float(ages[code]) / DAY_US if m else None,
            )
        )
    return tuple(out)
