"""Pipeline snapshots: the pipeline as it stood on any past date, and the waterfall between two.

Because every opportunity keeps its stage moves, amount revisions and close-date changes, the open
pipeline *as of* any instant can be rebuilt:
[`pipeline_snapshot()`][crmcore.sales.snapshots.pipeline_snapshot] gives, per open stage, the deals
that were open in it then, their amount then and their weighted amount (the amount times the
stage's default probability, a row's override, or a given probability per row). It is exactly what
replaying each opportunity's [`stage_at()`][crmcore.sales.opportunities.Opportunity.stage_at] and
[`amount_at()`][crmcore.sales.opportunities.Opportunity.amount_at] gives (a tested promise), for a
million deals in one vectorised pass.

[`pipeline_movement()`][crmcore.sales.snapshots.pipeline_movement] is the waterfall every sales
manager asks for: what the pipeline was at ``start``, what came in, what changed, what went out,
and what it is at ``end``. A deal is *in* the pipeline at a time when it exists, is open and (with
``close_between``) its expected close date then falls in that date range. Per deal, with ``A`` its
amount as of ``end``:

* in at both times: the amount change is **increased** or **decreased**; stage moves are counted
  as **advanced** or **moved back**, and a later close date as **slipped** (counts, not flows);
* in at ``start`` only: it left as **won**, **lost** or (still open, close date out of the range)
  **pushed out**, each with ``A``, after its change since ``start``;
* in at ``end`` only: it came in as **new** (created in between), **reopened** (closed at
  ``start``) or **pulled in** (open at ``start`` with a close date out of the range), with ``A``;
* in at neither but closed in between, in range: it came in and went out (both with ``A``).

So ``start + new + reopened + pulled in + increased - decreased - won - lost - pushed out = end``
holds exactly, in minor units
([`PipelineMovement.reconciles`][crmcore.sales.snapshots.PipelineMovement.reconciles]).

Examples:
    >>> from datetime import UTC, date, datetime, timedelta
    >>> from crmcore.kernel.money import Money
    >>> from crmcore.sales.opportunities import Opportunity
    >>> from crmcore.sales.pipeline import DEFAULT_PIPELINE as P
    >>> t = datetime(2026, 1, 5, tzinfo=UTC)
    >>> def deal(i, amount):
    ...     return Opportunity.open(f"o{i}", P, owner="ann", amount=Money(amount, "EUR"),
    ...                             close_date=date(2026, 3, 31), at=t).value
    >>> a = deal(1, 1000).win(t + timedelta(days=20), P).value
    >>> b = deal(2, 500).change_amount(Money(800, "EUR"), t + timedelta(days=3)).value
    >>> snap = pipeline_snapshot([a, b], t + timedelta(days=1), pipeline=P)
    >>> snap.open_count, snap.open_amount, snap.weighted_amount
    (2, Money('1500.00', 'EUR'), Money('300.00', 'EUR'))
    >>> flow = pipeline_movement([a, b], t + timedelta(days=1), t + timedelta(days=30), pipeline=P)
    >>> flow.start_amount, flow.flow("won").amount, flow.flow("increased").amount
    (Money('1500.00', 'EUR'), Money('1000.00', 'EUR'), Money('300.00', 'EUR'))
    >>> flow.end_amount, flow.reconciles
    (Money('800.00', 'EUR'), True)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.kernel.clock import from_micros, to_micros
from crmcore.kernel.errors import MissingDependencyError, NotFoundError, ValidationError
from crmcore.kernel.money import Money, minor_units
from crmcore.kernel.reports import html_table
from crmcore.kernel.validators import instance_of, instances_of
from crmcore.sales._exact import PROBABILITY_DIGITS, exact_money, group_sums
from crmcore.sales._reports import money_text
from crmcore.sales.exchange_rates import ExchangeRates
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.opportunity_frame import OpportunityFrame, day_number
from crmcore.sales.pipeline import Pipeline
from crmcore.sales.pipeline_reports_batch import (
    StageSums,
    as_frame,
    closed_as_of,
    row_probability_units,
    stage_sums,
)
from crmcore.sales.pipeline_stages import ForecastCategory

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FLOWS",
    "MovementFlow",
    "PipelineMovement",
    "PipelineSnapshot",
    "StageLine",
    "pipeline_movement",
    "pipeline_snapshot",
]

FLOWS: Final = (
    "new",
    "reopened",
    "pulled_in",
    "increased",
    "decreased",
    "won",
    "lost",
    "pushed_out",
)
"""The flows of a waterfall, in order; the first four add, the last four subtract."""
_SIGN: Final = dict(zip(FLOWS, (1, 1, 1, 1, -1, -1, -1, -1), strict=True))


@attrs.frozen
class StageLine:
    """One open stage of a snapshot: its deals then, their amount and weighted amount."""

    stage: str
    name: str
    probability: Decimal
    forecast_category: ForecastCategory
    count: int
    amount: Money
    weighted: Money


def _stage_lines(value: object) -> tuple[StageLine, ...]:
    return instances_of(value, StageLine, "stages")


@attrs.frozen(kw_only=True)
class PipelineSnapshot:
    """The open pipeline as of ``as_of``, per open stage (in pipeline order), with totals.

    ``probabilities`` says where the weights came from: ``"stage"`` (each deal's override, or its
    stage's default then) or ``"given"`` (an array passed in, one per deal).
    """

    pipeline_id: str
    as_of: datetime
    currency: str
    probabilities: str
    stages: tuple[StageLine, ...] = attrs.field(converter=_stage_lines)

    @property
    def open_count(self) -> int:
        """Open deals in all stages."""
        return sum(line.count for line in self.stages)

    @property
    def open_amount(self) -> Money:
        """Their total amount."""
        return Money.sum((line.amount for line in self.stages), self.currency)

    @property
    def weighted_amount(self) -> Money:
        """Their total weighted amount (``Σ amount x probability``, exact)."""
        return Money.sum((line.weighted for line in self.stages), self.currency)

    def line(self, stage: str) -> StageLine:
        """The line of ``stage``; [`NotFoundError`][crmcore.kernel.errors.NotFoundError] if the
        stage is not an open stage of the pipeline."""
        instance_of(stage, str, "stage", "a stage key")
        for line in self.stages:
            if line.stage == stage:
                return line
        raise NotFoundError("open stage", stage)

    def by_category(self) -> dict[ForecastCategory, Money]:
        """Open amount per forecast category (categories without deals left out)."""
        out: dict[ForecastCategory, Money] = {}
        for line in self.stages:
            if line.count:
                total = out.get(line.forecast_category, Money.zero(self.currency))
                out[line.forecast_category] = total + line.amount
        return out

    def coverage(self, quota: Money) -> float | None:
        """Open amount / ``quota`` (``None`` for a zero quota)."""
        if not isinstance(quota, Money) or quota.currency != self.currency:
            raise ValidationError("quota", quota, f"must be a Money in {self.currency}")
        return float(self.open_amount.amount / quota.amount) if quota.amount else None

    def to_dict(self) -> dict[str, object]:
        """JSON data: amounts as exact decimal strings in ``currency``."""
        return {
            "pipeline_id": self.pipeline_id,
            "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "probabilities": self.probabilities,
            "open_count": self.open_count,
            "open_amount": money_text(self.open_amount),
            "weighted_amount": money_text(self.weighted_amount),
            "stages": [
                {
                    "stage": line.stage,
                    "name": line.name,
                    "probability": str(line.probability),
                    "forecast_category": line.forecast_category.value,
                    "count": line.count,
                    "amount": money_text(line.amount),
                    "weighted": money_text(line.weighted),
                }
                for line in self.stages
            ],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per open stage (amounts as floats; needs the ``pandas`` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "PipelineSnapshot.to_pandas") from None
        return pd.DataFrame(
            {
                "stage": [line.stage for line in self.stages],
                "probability": [float(line.probability) for line in self.stages],
                "forecast_category": [line.forecast_category.value for line in self.stages],
                "count": [line.count for line in self.stages],
                "amount": [float(line.amount.amount) for line in self.stages],
                "weighted": [float(line.weighted.amount) for line in self.stages],
            }
        )

    def _repr_html_(self) -> str:
        rows = [
            [
                line.name,
                float(line.probability),
                line.count,
                float(line.amount.amount),
                float(line.weighted.amount),
            ]
            for line in self.stages
        ]
        top = max((float(line.amount.amount) for line in self.stages), default=0.0)
        return html_table(
            f"Pipeline {self.pipeline_id} as of {self.as_of.date().isoformat()} ({self.currency})",
            ["stage", "probability", "deals", "amount", "weighted"],
            rows,
            kinds=["auto", "pct", "int", "float", "float"],
            bars={3: top},
            caption=f"{self.open_count:,} open deals, {self.open_amount} "
            f"(weighted {self.weighted_amount.rounded()})",
        )


def pipeline_snapshot(
    data: OpportunityFrame | Iterable[Opportunity],
    as_of: datetime,
    *,
    pipeline: Pipeline | None = None,
    probabilities: npt.ArrayLike | None = None,
    rates: ExchangeRates | None = None,
) -> PipelineSnapshot:
    """The open pipeline as it stood at ``as_of``, per open stage (vectorised).

    ``data`` is an [`OpportunityFrame`][crmcore.sales.opportunity_frame.OpportunityFrame] or
    opportunities of ``pipeline``. Amounts are those as of ``as_of``; probabilities a row's override
    (overrides have no history: today's) or its stage's default then, unless ``probabilities`` (one
    float per row) are given. Mixed currencies need ``rates``
    ([`CurrencyMismatchError`][crmcore.kernel.errors.CurrencyMismatchError] otherwise).
    """
    frame = as_frame(data, pipeline)
    t = to_micros(as_of, "as_of")
    currency, amounts = _amounts_at(frame, t, rates)
    units = row_probability_units(frame, probabilities, frame.stage_at(t).astype(np.int64))
    sums = stage_sums(frame, t, amounts, units)
    return _snapshot(frame, t, currency, sums, "stage" if probabilities is None else "given")


def _amounts_at(
    frame: OpportunityFrame, t: int, rates: ExchangeRates | None
) -> tuple[str, npt.NDArray[np.int64]]:
    """The rows' amounts as of ``t``, in the report currency."""
    currency, _ = frame.report_currency(rates)
    source = frame if rates is None else frame.in_currency(rates)
    return currency, source.amount_at(t)


def _snapshot(
    frame: OpportunityFrame, t: int, currency: str, sums: StageSums, source: str
) -> PipelineSnapshot:
    digits = minor_units(currency)
    lines = []
    for code, stage in enumerate(frame.pipeline.stages):
        if not stage.is_open:
            continue
        lines.append(
            StageLine(
                stage=stage.key,
                name=stage.name,
                probability=stage.probability,
                forecast_category=stage.forecast_category,
                count=sums.count[code],
                amount=exact_money(sums.amount[code], digits, currency),
                weighted=exact_money(sums.weighted[code], digits + PROBABILITY_DIGITS, currency),
            )
        )
    return PipelineSnapshot(
        pipeline_id=frame.pipeline.id,
        as_of=from_micros(t),
        currency=currency,
        probabilities=source,
        stages=tuple(lines),
    )


@attrs.frozen
class MovementFlow:
    """One bar of the waterfall: ``name`` (one of [`FLOWS`][crmcore.sales.snapshots.FLOWS]), the
    deals and their amount (positive; ``sign`` says whether it adds or subtracts)."""

    name: str
    count: int
    amount: Money

    @property
    def sign(self) -> int:
        """+1 for a flow into the pipeline, -1 for one out of it."""
        return _SIGN[self.name]


@attrs.frozen(kw_only=True)
class PipelineMovement:
    """The waterfall between ``start`` and ``end`` (see the module docs for the definitions).

    ``close_between`` is the inclusive range of expected close dates in scope (``None``: all).
    ``advanced``, ``moved_back`` and ``slipped`` count deals in the pipeline at both times whose
    stage moved forward, back, or whose close date moved later; ``slipped_amount`` is their amount.
    """

    pipeline_id: str
    start: datetime
    end: datetime
    currency: str
    close_between: tuple[date, date] | None
    start_count: int
    start_amount: Money
    end_count: int
    end_amount: Money
    flows: tuple[MovementFlow, ...]
    advanced: int
    moved_back: int
    slipped: int
    slipped_amount: Money

    def flow(self, name: str) -> MovementFlow:
        """The flow called ``name``; [`NotFoundError`][crmcore.kernel.errors.NotFoundError] for
        another name."""
        instance_of(name, str, "name", "a flow name")
        for flow in self.flows:
            if flow.name == name:
                return flow
        raise NotFoundError("flow", name)

    @property
    def net_change(self) -> Money:
        """``end_amount - start_amount``."""
        return self.end_amount - self.start_amount

    @property
    def reconciles(self) -> bool:
        """Whether ``start + flows (signed) = end`` (always, by construction)."""
        total = self.start_amount
        for flow in self.flows:
            total = total + flow.amount * flow.sign
        return total == self.end_amount

    def to_dict(self) -> dict[str, object]:
        """JSON data: amounts as exact decimal strings in ``currency``."""
        scope = None
        if self.close_between is not None:
            scope = [self.close_between[0].isoformat(), self.close_between[1].isoformat()]
        return {
            "pipeline_id": self.pipeline_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "currency": self.currency,
            "close_between": scope,
            "start_count": self.start_count,
            "start_amount": money_text(self.start_amount),
            "flows": [
                {"flow": f.name, "sign": f.sign, "count": f.count, "amount": money_text(f.amount)}
                for f in self.flows
            ],
            "end_count": self.end_count,
            "end_amount": money_text(self.end_amount),
            "advanced": self.advanced,
            "moved_back": self.moved_back,
            "slipped": self.slipped,
            "slipped_amount": money_text(self.slipped_amount),
        }

    def to_pandas(self) -> pd.DataFrame:
        """The waterfall as rows: start, each flow (signed amount), end (needs ``pandas``)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "PipelineMovement.to_pandas") from None
        names = ["start", *(f.name for f in self.flows), "end"]
        counts = [self.start_count, *(f.count for f in self.flows), self.end_count]
        amounts = [
            float(self.start_amount.amount),
            *(f.sign * float(f.amount.amount) for f in self.flows),
            float(self.end_amount.amount),
        ]
        return pd.DataFrame({"step": names, "deals": counts, "amount": amounts})

    def _repr_html_(self) -> str:
        rows: list[list[object]] = [["start", self.start_count, float(self.start_amount.amount)]]
        rows += [[f.name, f.count, f.sign * float(f.amount.amount)] for f in self.flows]
        rows.append(["end", self.end_count, float(self.end_amount.amount)])
        amounts = [self.start_amount, *(f.amount for f in self.flows), self.end_amount]
        top = max(float(a.amount) for a in amounts)
        return html_table(
            f"Pipeline movement {self.start.date().isoformat()} to {self.end.date().isoformat()} "
            f"({self.currency})",
            ["step", "deals", "amount"],
            rows,
            kinds=["auto", "int", "float"],
            bars={2: top},
            caption=f"advanced {self.advanced}, moved back {self.moved_back}, "
            f"slipped {self.slipped} ({self.slipped_amount})",
        )


def pipeline_movement(
    data: OpportunityFrame | Iterable[Opportunity],
    start: datetime,
    end: datetime,
    *,
    pipeline: Pipeline | None = None,
    close_between: tuple[date, date] | None = None,
    rates: ExchangeRates | None = None,
) -> PipelineMovement:
    """The waterfall of the open pipeline from ``start`` to ``end`` (vectorised).

    ``close_between`` (two dates, inclusive) restricts the pipeline to deals expected to close in
    that range, as a quarter's pipeline is; deals then move in and out by their close dates too.
    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] when ``end`` is before
    ``start`` or the range is reversed.
    """
    frame = as_frame(data, pipeline)
    t0, t1 = to_micros(start, "start"), to_micros(end, "end")
    if t1 < t0:
        raise ValidationError("end", end, "must not be before start")
    low, high = _scope(close_between)
    currency, _ = frame.report_currency(rates)
    source = frame if rates is None else frame.in_currency(rates)
    status0, status1 = frame.status_at(t0), frame.status_at(t1)
    exists0, exists1 = frame.exists_at(t0), frame.exists_at(t1)
    day0, day1 = frame.close_day_at(t0), frame.close_day_at(t1)
    scoped0, scoped1 = (day0 >= low) & (day0 <= high), (day1 >= low) & (day1 <= high)
    in0 = exists0 & (status0 == 0) & scoped0
    in1 = exists1 & (status1 == 0) & scoped1
    a0, a1 = source.amount_at(t0), source.amount_at(t1)
    created_in = exists1 & ~exists0
    _, closed1 = closed_as_of(frame, t1)
    closed_in = (closed1 > t0) & (closed1 <= t1) & (status1 != 0)
    passing = ~in0 & ~in1 & exists1 & closed_in & scoped1
    entering = (~in0 & in1) | passing
    leaving = (in0 & ~in1) | passing
    change = np.where(in0, a1 - a0, 0)
    reopened_from = exists0 & (status0 != 0)
    masks = {
        "new": entering & created_in,
        "reopened": entering & reopened_from,
        "pulled_in": entering & exists0 & ~reopened_from,
        "increased": change > 0,
        "decreased": change < 0,
        "won": leaving & (status1 == 1),
        "lost": leaving & (status1 == 2),
        "pushed_out": leaving & (status1 == 0),
    }
    values = dict.fromkeys(FLOWS, a1)
    values["increased"], values["decreased"] = change, -change
    keys = np.zeros(len(frame), dtype=np.intp)
    digits = minor_units(currency)

    def total(mask: npt.NDArray[np.bool_], amounts: npt.NDArray[np.int64]) -> Money:
        return exact_money(group_sums(keys[mask], amounts[mask], 1)[0], digits, currency)

    flows = tuple(
        MovementFlow(name, int(masks[name].sum()), total(masks[name], values[name]))
        for name in FLOWS
    )
    both = in0 & in1
    ranks = frame.pipeline.open_ranks
    rank0, rank1 = ranks[frame.stage_at(t0)], ranks[frame.stage_at(t1)]
    slipped = both & (day1 > day0)
    return PipelineMovement(
        pipeline_id=frame.pipeline.id,
        start=from_micros(t0),
        end=from_micros(t1),
        currency=currency,
        close_between=None if close_between is None else (close_between[0], close_between[1]),
        start_count=int(in0.sum()),
        start_amount=total(in0, a0),
        end_count=int(in1.sum()),
        end_amount=total(in1, a1),
        flows=flows,
        advanced=int((both & (rank1 > rank0)).sum()),
        moved_back=int((both & (rank1 < rank0)).sum()),
        slipped=int(slipped.sum()),
        slipped_amount=total(slipped, a1),
    )


def _scope(close_between: object) -> tuple[int, int]:
    """The close-date range as inclusive day numbers (everything when ``None``)."""
    if close_between is None:
        return -(2**62), 2**62
    if (
        not isinstance(close_between, tuple | list)
        or len(close_between) != 2
        or not all(isinstance(d, date) and not isinstance(d, datetime) for d in close_between)
    ):
        raise ValidationError("close_between", close_between, "must be two dates (first, last)")
    first, last = day_number(close_between[0]), day_number(close_between[1])
    if last < first:
        raise ValidationError("close_between", close_between, "the last date is before the first")
    return first, last
