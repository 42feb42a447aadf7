"""The array path of the pipeline reports: sums, stays, medians and reach over an opportunity frame.

Every function here works on whole columns of an
[`OpportunityFrame`][crmcore.sales.opportunity_frame.OpportunityFrame] with no Python loop per
opportunity: group sums are exact integer sums (``crmcore.sales._exact``), medians per group come
from one ``lexsort`` and the group offsets, and "the furthest stage each deal reached" is one
``np.maximum.at`` over the stage moves. The report objects
([`crmcore.sales.pipeline_reports`][crmcore.sales.pipeline_reports],
[`crmcore.sales.snapshots`][crmcore.sales.snapshots],
[`crmcore.sales.deal_performance`][crmcore.sales.deal_performance]) are built from these; the
per-opportunity path is the [`Opportunity`][crmcore.sales.opportunities.Opportunity] queries, and
tests prove both agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.kernel.arrays import Float64Array, Int64Array
from crmcore.kernel.clock import to_micros
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import instance_of
from crmcore.sales._exact import group_sums, units_from_floats, weighted_group_sums
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.opportunity_frame import NO_PROBABILITY, OpportunityFrame
from crmcore.sales.pipeline import Pipeline

_FEW_GROUPS: Final = 64

__all__ = [
    "StageSums",
    "Stays",
    "as_frame",
    "closed_as_of",
    "entered_stage_at",
    "furthest_rank",
    "group_medians",
    "row_probability_units",
    "stage_sums",
    "stays",
    "when",
]


def as_frame(
    data: OpportunityFrame | Iterable[Opportunity], pipeline: Pipeline | None = None
) -> OpportunityFrame:
    """``data`` as a frame: a frame as it is, or opportunities of ``pipeline`` made into one."""
    if pipeline is not None:
        instance_of(pipeline, Pipeline, "pipeline")
    if isinstance(data, OpportunityFrame):
        if pipeline is not None and pipeline != data.pipeline:
            raise ValidationError("pipeline", pipeline.id, "is not the frame's pipeline")
        return data
    if pipeline is None:
        raise ValidationError("pipeline", None, "is required with a sequence of opportunities")
    if isinstance(data, str) or not isinstance(data, Iterable):
        raise ValidationError("opportunities", data, "must be an OpportunityFrame or opportunities")
    return OpportunityFrame.from_opportunities(data, pipeline)


def row_probability_units(
    frame: OpportunityFrame,
    probabilities: npt.ArrayLike | None = None,
    stage: Int64Array | None = None,
) -> Int64Array:
    """Each row's win probability in millionths, as an open deal.

    ``probabilities`` (one float per row, e.g. a predictive model's output) wins when given;
    otherwise a row's own override, or the default of its stage (``stage`` codes, by default the
    current ones). Rounded to millionths once.
    """
    if probabilities is not None:
        return units_from_floats(probabilities, len(frame))
    codes = frame.stage if stage is None else stage
    units = frame.pipeline.probability_units[codes]
    out: Int64Array = np.where(frame.probability != NO_PROBABILITY, frame.probability, units)
    return out


@attrs.frozen(eq=False)
class StageSums:
    """Per stage code: open deals, their amount (minor units) and weighted amount (minor units x
    1,000,000), all exact integers."""

    count: list[int]
    amount: list[int]
    weighted: list[int]


def stage_sums(
    frame: OpportunityFrame, t: int, amounts: Int64Array, units: Int64Array
) -> StageSums:
    """The open pipeline as of ``t`` (UTC microseconds) by stage, from ``amounts`` and ``units``
    as of ``t`` (one value per row)."""
    size = len(frame.pipeline.stages)
    live = frame.exists_at(t) & (frame.status_at(t) == 0)
    codes = frame.stage_at(t)[live].astype(np.intp)
    count = np.bincount(codes, minlength=size)
    return StageSums(
        [int(c) for c in count],
        group_sums(codes, amounts[live], size),
        weighted_group_sums(codes, amounts[live], units[live], size),
    )


@attrs.frozen(eq=False)
class Stays:
    """The stays of deals in stages up to ``as_of``: the ended ones (one per stage move: its
    stage code and length in microseconds) and the current ones (one per deal that exists: its
    row, stage code and length so far)."""

    ended_stage: Int64Array
    ended_length: Int64Array
    current_row: Int64Array
    current_stage: Int64Array
    current_length: Int64Array


def stays(frame: OpportunityFrame, as_of: int) -> Stays:
    """The stays in stages up to ``as_of``: one ended stay per stage move, one current per deal."""
    moves = frame.moves
    if len(moves) and int(moves.at.max()) <= as_of:  # the usual "as of now": nothing to cut
        rows, at, source = moves.row, moves.at, moves.from_code
    else:
        seen = moves.at <= as_of
        rows, at, source = moves.row[seen], moves.at[seen], moves.from_code[seen]
    # a move ends the stay that began at the deal's previous move, or at its creation
    entered = frame.created[rows]
    if len(rows) > 1:
        same = rows[1:] == rows[:-1]
        entered[1:] = np.where(same, at[:-1], entered[1:])
    live = np.flatnonzero(frame.exists_at(as_of))
    since = entered_stage_at(frame, as_of)[live]
    return Stays(
        ended_stage=source.astype(np.int64),
        ended_length=at - entered,
        current_row=live,
        current_stage=frame.stage_at(as_of)[live].astype(np.int64),
        current_length=as_of - since,
    )


def group_medians(keys: npt.ArrayLike, values: npt.ArrayLike, size: int) -> Float64Array:
    """The median of ``values`` per key in ``0..size-1`` (NaN for a key with no values).

    The median of an even count is the mean of the two middle values, ``(a + b) / 2``, as
    `statistics.median` computes it.

    Examples:
        >>> group_medians([0, 1, 0, 0, 1], [5, 2, 1, 3, 4], 3).tolist()
        [3.0, 3.0, nan]
    """
    k = np.asarray(keys, dtype=np.int64)
    v = np.asarray(values)
    out = np.full(size, np.nan)
    if not len(k):
        return out
    counts = np.bincount(k, minlength=size)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    has = counts > 0
    lo = starts[has] + (counts[has] - 1) // 2
    hi = starts[has] + counts[has] // 2
    if size <= _FEW_GROUPS:
        # a stable counting sort by key, then each group's two middle values selected in linear
        # time (np.partition): no full sort when the groups are few (stages, kinds)
        grouped = v[np.argsort(k.astype(np.int16), kind="stable")]
        for g in np.flatnonzero(counts > 2).tolist():
            start, n = int(starts[g]), int(counts[g])
            segment = grouped[start : start + n]
            segment.partition([(n - 1) // 2, n // 2])
        out[has] = (grouped[lo] + grouped[hi]) / 2
        return out
    ordered = v[np.lexsort((v, k))]
    out[has] = (ordered[lo] + ordered[hi]) / 2
    return out


def furthest_rank(frame: OpportunityFrame, as_of: int) -> Int64Array:
    """Per row, the furthest open rank reached by ``as_of`` (won: past the last open stage; a
    deal that never left its first stage: that stage's rank; lost stages do not count)."""
    ranks = frame.pipeline.open_ranks
    out = ranks[frame.opened_stage].astype(np.int64)
    seen = frame.moves.at <= as_of
    np.maximum.at(out, frame.moves.row[seen], ranks[frame.moves.to_code[seen]])
    return out


def when(value: datetime | None, field: str) -> int | None:
    """An optional aware datetime as UTC microseconds."""
    return None if value is None else to_micros(value, field)


def entered_stage_at(frame: OpportunityFrame, t: int) -> Int64Array:
    """Per row, when it entered the stage it is in as of ``t`` (its creation if it never moved)."""
    last = frame._last("moves", t)
    out = frame.created.copy()
    has = last >= 0
    out[has] = frame.moves.at[last[has]]
    return out


def closed_as_of(frame: OpportunityFrame, t: int) -> tuple[Int64Array, Int64Array]:
    """Per row, its status code as of ``t`` (open 0, won 1, lost 2) and, for closed rows, when
    it closed (the time of its latest move up to ``t``; -1 for open rows)."""
    status = frame.status_at(t).astype(np.int64)
    closed = np.where(status != 0, entered_stage_at(frame, t), -1)
    return status, closed
