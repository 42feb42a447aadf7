"""The journey report in plain Python, one interaction at a time.

This is the definition written out as directly as possible (see
[`crmcore.journey.analysis`][crmcore.journey.analysis] for the words): the test-suite checks that
the vectorised [`journey_report()`][crmcore.journey.analysis.journey_report] agrees with
it on random data. It is also handy for an application that holds a few
[`Interaction`][crmcore.customers.records.Interaction] objects and no frame. It is
quadratic per customer, so keep it to small inputs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from crmcore.customers.records import Interaction
from crmcore.journey.analysis import check_map, check_window
from crmcore.journey.journey_map import JourneyMap
from crmcore.journey.report import JourneyReport, JourneyStats, PainWeights, StageSource, assemble
from crmcore.journey.scores import Scale, TouchpointScore
from crmcore.journey.touchpoint import Touchpoint
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.stage import Stage
from crmcore.kernel.validators import items_of

__all__ = ["reference_journey_report"]


def reference_journey_report(
    interactions: Iterable[Interaction],
    scores: Iterable[TouchpointScore] = (),
    *,
    journey_map: JourneyMap | None = None,
    window: timedelta | None = None,
    weights: PainWeights | None = None,
) -> JourneyReport:
    """The journey report of ``interactions`` and ``scores``, computed object by object.

    Same arguments and result as
    [`journey_report()`][crmcore.journey.analysis.journey_report] (which takes an
    ``EventLog``); every interaction has a channel, so ``other_events`` is 0.
    """
    span = check_window(window)
    plan = check_map(journey_map)
    events = list(items_of(interactions, "interactions", "interactions"))
    for i, event in enumerate(events):
        if not isinstance(event, Interaction):
            raise ValidationError(f"row {i}", event, "must be an Interaction")
    answers = list(items_of(scores, "scores", "touchpoint scores"))
    scale = _one_scale(answers)

    touchpoint_of = [Touchpoint(e.channel, e.kind) for e in events]
    carried: dict[Touchpoint, Counter[Stage]] = defaultdict(Counter)
    for event, tp in zip(events, touchpoint_of, strict=True):
        if event.stage is not None:
            carried[tp][event.stage] += 1
    universe = sorted({*touchpoint_of, *plan.stages, *(s.touchpoint for s in answers)})

    stage_of: dict[Touchpoint, Stage | None] = {}
    source_of: dict[Touchpoint, StageSource | None] = {}
    for tp in universe:
        if tp in plan.stages:
            stage_of[tp], source_of[tp] = plan.stages[tp], "map"
        elif plan.derive and carried[tp]:
            # The most frequent carried stage; on a tie the earlier stage.
            best = max(carried[tp].values())
            stage_of[tp] = min(s for s, c in carried[tp].items() if c == best)
            source_of[tp] = "log"
        else:
            stage_of[tp], source_of[tp] = None, None

    def stage_number(event: Interaction, tp: Touchpoint) -> int:
        stage = event.stage if event.stage is not None else stage_of[tp]
        return 0 if stage is None else int(stage)

    volume: Counter[Touchpoint] = Counter(touchpoint_of)
    reach: Counter[Touchpoint] = Counter()
    converted: Counter[Touchpoint] = Counter()
    timeline: dict[str, list[tuple[datetime, int, Touchpoint]]] = defaultdict(list)
    for event, tp in zip(events, touchpoint_of, strict=True):
        timeline[event.customer_id].append((event.at, stage_number(event, tp), tp))
    for history in timeline.values():
        first_at: dict[Touchpoint, datetime] = {}
        for at, _stage, tp in history:
            if tp not in first_at or at < first_at[tp]:
                first_at[tp] = at
        for tp, t0 in first_at.items():
            reach[tp] += 1
            own = stage_of[tp]
            if own is None or own == max(Stage):
                continue
            if any(
                at > t0 and stage > own and (span is None or at - t0 <= span)
                for at, stage, _tp in history
            ):
                converted[tp] += 1

    score_count: Counter[Touchpoint] = Counter()
    score_sum: dict[Touchpoint, float] = defaultdict(float)
    negatives: Counter[Touchpoint] = Counter()
    for answer in answers:
        tp = answer.touchpoint
        score_count[tp] += 1
        score_sum[tp] += float(answer.score)
        negatives[tp] += answer.negative

    stats = JourneyStats(
        touchpoints=tuple(universe),
        stages=tuple(stage_of[tp] for tp in universe),
        sources=tuple(source_of[tp] for tp in universe),
        volume=tuple(volume[tp] for tp in universe),
        customers=tuple(reach[tp] for tp in universe),
        converted=tuple(converted[tp] for tp in universe),
        score_count=tuple(score_count[tp] for tp in universe),
        score_sum=tuple(score_sum[tp] for tp in universe),
        negatives=tuple(negatives[tp] for tp in universe),
        customers_total=len(timeline),
        events=len(events),
        other_events=0,
        scale=scale,
        window=span,
    )
    return assemble(stats, weights)


def _one_scale(answers: list[TouchpointScore]) -> Scale | None:
    for i, answer in enumerate(answers):
        if not isinstance(answer, TouchpointScore):
            raise ValidationError(f"row {i}", answer, "must be a TouchpointScore")
        if answer.scale is not answers[0].scale:
            raise ValidationError(
                f"row {i}: scale",
                answer.scale.value,
                f"differs from {answers[0].scale.value}: one report summarises one scale",
            )
    return answers[0].scale if answers else None
