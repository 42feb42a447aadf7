"""The journey report over an [`EventLog`][crmcore.columnar.EventLog], vectorised.

Definitions (the reference implementation in
`reference_journey_report()` spells them out event by event):

* A **touchpoint event** is an event with a channel; its touchpoint is
  ``(channel, kind)``. Events without a channel (e.g. stage markers) are
  counted as ``other_events``; their stage still counts as "reached".
* A **touchpoint's stage** comes from the explicit
  [`JourneyMap`][crmcore.journey.analysis.JourneyMap] entry, else (``derive=True``) the stage its
  events carry most often (ties: the earlier stage), else none: *unmapped*.
* An **event's stage** is its own ``stage`` value when it has one, else its
  touchpoint's stage.
* **Conversion to a later stage**: a customer who touched touchpoint *T*
  (stage *s*), first at time *t0*, *converted* when they have any event with
  stage > *s* at a time strictly after *t0* (and, with a window *w*, at most
  *t0 + w*). An event at the same instant as *t0* is not "after" it.
  Conversion = converted customers / customers who touched *T*; undefined
  for unmapped touchpoints and for the last stage (advocacy).

Work per event is numpy (sort, ``np.unique``, ``np.bincount``, one running
minimum per stage); Python loops run over distinct touchpoints and the seven
stages only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import numpy as np

from crmcore.columnar import EventLog
from crmcore.journey.event_log import N_STAGES, derive_stages, event_stages, event_touchpoints
from crmcore.journey.journey_map import JourneyMap
from crmcore.journey.report import (
    JourneyReport,
    JourneyStats,
    PainWeights,
    StageSource,
    assemble,
)
from crmcore.journey.scores import TouchpointScore, TouchpointScores
from crmcore.journey.touchpoint import Touchpoint
from crmcore.kernel.arrays import AnyArray, BoolArray, Int64Array
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.stage import Stage

__all__ = ["as_scores", "check_map", "check_window", "journey_report"]

_US = timedelta(microseconds=1)


def check_window(window: object) -> timedelta | None:
    """``window`` if it is ``None`` or a positive `timedelta`, else raise."""
    if window is None:
        return None
    if not isinstance(window, timedelta):
        raise ValidationError("window", window, "must be a timedelta or None")
    if window <= timedelta(0):
        raise ValidationError("window", window, "must be positive")
    return window


def check_map(journey_map: object) -> JourneyMap:
    """``journey_map`` if it is a [`JourneyMap`][crmcore.journey.analysis.JourneyMap]; ``None``
    means derive from the log."""
    if journey_map is None:
        return JourneyMap()
    if not isinstance(journey_map, JourneyMap):
        raise ValidationError("journey_map", journey_map, "must be a JourneyMap or None")
    return journey_map


def as_scores(
    scores: TouchpointScores | Iterable[TouchpointScore] | None,
) -> TouchpointScores | None:
    """Scores in columnar form; ``None`` or an empty sequence means no scores."""
    if scores is None or isinstance(scores, TouchpointScores):
        return scores
    if isinstance(scores, str | bytes) or not isinstance(scores, Iterable):
        raise ValidationError("scores", scores, "must be TouchpointScores or TouchpointScore items")
    items = list(scores)
    return TouchpointScores.from_scores(items) if items else None


def journey_report(
    log: EventLog,
    scores: TouchpointScores | Iterable[TouchpointScore] | None = None,
    *,
    journey_map: JourneyMap | None = None,
    window: timedelta | None = None,
    weights: PainWeights | None = None,
) -> JourneyReport:
    """Measure the journey in ``log``: per touchpoint volume, reach, conversion, scores, pain.

    ``scores`` (one scale) may be [`TouchpointScores`][crmcore.journey.analysis.TouchpointScores] or
    [`TouchpointScore`][crmcore.journey.analysis.TouchpointScore] objects. ``journey_map`` places
    touchpoints in stages (default: derived from the log's ``stage`` column). ``window`` bounds the
    time from a touchpoint to the later stage (``None``: any time). See the module docs for the
    definitions and [`crmcore.journey.report`][crmcore.journey.report] for the pain score. An empty
    log gives a report whose rows are only the map's and the scores' touchpoints (none at all when
    there are neither).
    """
    if not isinstance(log, EventLog):
        raise ValidationError("log", log, "must be an EventLog")
    span = check_window(window)
    plan = check_map(journey_map)
    table = as_scores(scores)
    return assemble(_count(log, table, plan, span), weights)


def _count(
    log: EventLog, scores: TouchpointScores | None, plan: JourneyMap, window: timedelta | None
) -> JourneyStats:
    n = len(log)
    log_points, log_index = event_touchpoints(log)
    own_stage = event_stages(log)
    score_points = () if scores is None else scores.touchpoints
    universe = tuple(sorted({*log_points, *plan.stages, *score_points}))
    size = len(universe)
    position = {tp: i for i, tp in enumerate(universe)}

    # Each event's touchpoint as an index into the universe (-1: no channel).
    lut = np.array([position[tp] for tp in log_points] + [-1], dtype=np.int64)
    event_tp = lut[log_index]

    # Touchpoint stages: explicit map, else derived from the events' own stages.
    derived = derive_stages(event_tp, own_stage, size).tolist()
    tp_stage = np.zeros(size + 1, dtype=np.int64)  # the last slot serves index -1
    stages: list[Stage | None] = []
    sources: list[StageSource | None] = []
    for i, tp in enumerate(universe):
        explicit = plan.stages.get(tp)
        if explicit is not None:
            stages.append(explicit)
            sources.append("map")
        elif plan.derive and derived[i]:
            stages.append(Stage(derived[i]))
            sources.append("log")
        else:
            stages.append(None)
            sources.append(None)
        tp_stage[i] = 0 if stages[-1] is None else int(stages[-1])
    event_stage = np.where(own_stage > 0, own_stage, tp_stage[event_tp])

    # Sort by customer, then time (stable), as the per-customer scan needs.
    customer = log.customer_codes
    micros = log.at.view(np.int64)
    order = np.lexsort((micros, customer))
    customer, micros = customer[order], micros[order]
    event_tp, event_stage = event_tp[order], event_stage[order]

    touched = np.flatnonzero(event_tp >= 0)
    volume = np.bincount(event_tp[touched], minlength=size)
    # First event of each (customer, touchpoint) pair: np.unique reports first occurrences,
    # and within a customer the events are in time order.
    _, first = np.unique(customer[touched] * max(size, 1) + event_tp[touched], return_index=True)
    pair_at = touched[first]
    pair_tp = event_tp[pair_at]
    reached = _reached_later_stage(
        customer, micros, event_stage, pair_at, tp_stage[pair_tp], window
    )
    reach = np.bincount(pair_tp, minlength=size)
    converted = np.bincount(pair_tp[reached], minlength=size)

    count, total, negatives = _score_sums(scores, position, size)
    return JourneyStats(
        touchpoints=universe,
        stages=tuple(stages),
        sources=tuple(sources),
        volume=tuple(volume.tolist()),
        customers=tuple(reach.tolist()),
        converted=tuple(converted.tolist()),
        score_count=tuple(count.tolist()),
        score_sum=tuple(total.tolist()),
        negatives=tuple(negatives.tolist()),
        customers_total=int(np.count_nonzero(np.bincount(customer))) if n else 0,
        events=n,
        other_events=int(n - len(touched)),
        scale=None if scores is None else scores.scale,
        window=window,
    )


def _reached_later_stage(
    customer: Int64Array,
    micros: Int64Array,
    stage: Int64Array,
    pair_at: Int64Array,
    pair_stage: Int64Array,
    window: timedelta | None,
) -> BoolArray:
    """For each pair (its first event at ``pair_at``, its touchpoint's stage), did it convert?

    Events are sorted by customer then time. For a stage ``s`` the next event
    with stage > ``s`` at or after each position is a running minimum from the
    right; looked up just past the pair's *time group* (events of the same
    customer at the same instant), it is the earliest later-stage event
    strictly after the touchpoint. It converts when that event belongs to the
    same customer (and falls within the window).
    """
    n = len(customer)
    out = np.zeros(len(pair_at), dtype=bool)
    if not n or not len(pair_at):
        return out
    boundary = np.flatnonzero((np.diff(customer) != 0) | (np.diff(micros) != 0)) + 1
    group_end = np.append(boundary, n)  # end (exclusive) of each (customer, instant) group
    group = np.zeros(n, dtype=np.int64)
    group[boundary] = 1
    after = group_end[np.cumsum(group)]  # first position strictly later than each event
    positions = np.arange(n, dtype=np.int64)
    limit = None if window is None else window // _US
    for s in range(1, N_STAGES):  # the last stage has nothing later
        chosen = np.flatnonzero(pair_stage == s)
        if not len(chosen):
            continue
        candidate = np.where(stage > s, positions, n)
        nearest = np.append(np.minimum.accumulate(candidate[::-1])[::-1], n)
        at = pair_at[chosen]
        hit = nearest[after[at]]
        ok = hit < n
        hit = np.where(ok, hit, 0)
        ok &= customer[hit] == customer[at]
        if limit is not None:
            ok &= micros[hit] - micros[at] <= limit
        out[chosen] = ok
    return out


def _score_sums(
    scores: TouchpointScores | None, position: dict[Touchpoint, int], size: int
) -> tuple[AnyArray, AnyArray, AnyArray]:
    """Per universe touchpoint: score count, score sum, negative count."""
    if scores is None or not len(scores):
        zeros = np.zeros(size, dtype=np.int64)
        return zeros, np.zeros(size, dtype=np.float64), zeros
    lut = np.array([position[tp] for tp in scores.touchpoints], dtype=np.int64)
    index = lut[scores.codes]
    count = np.bincount(index, minlength=size)
    total = np.bincount(index, weights=scores.scores, minlength=size)
    negatives = np.bincount(index[scores.negative], minlength=size)
    return count, total, negatives
