"""Opportunity use cases: pipelines, opening and moving deals, winning, losing, the snapshot.

Each function is one unit of work over a [`Store`][crmcore.ports.Store]: it loads the
[`Opportunity`][crmcore.sales.opportunities.Opportunity] and its stored
[`Pipeline`][crmcore.sales.pipeline.Pipeline] (the table its stage moves are checked against),
applies the domain, saves, and queues the events in the same transaction. It returns an
[`Outcome`][crmcore.kernel.events.Outcome]: the opportunity stored (at its new version) and the
events written with it. A stage move already stored at its time is a replay that writes nothing,
so a request that timed out can be sent again; every function redoes its unit of work after a
concurrent change with the ``retry`` policy
([`DEFAULT_RETRY`][crmcore.services.retry.DEFAULT_RETRY]). Opportunities are born of a lead's
conversion ([`convert_lead()`][crmcore.services.sales.convert_lead]) or opened directly
([`open_opportunity()`][crmcore.services.opportunities.open_opportunity]).

Examples:
    >>> from datetime import UTC, date, datetime, timedelta
    >>> from crmcore.kernel.money import Money
    >>> from crmcore.sales.opportunities import Opportunity
    >>> from crmcore.sales.pipeline import DEFAULT_PIPELINE as P
    >>> from crmcore.storage.memory import MemoryStore
    >>> store, t = MemoryStore(), datetime(2026, 3, 2, 9, tzinfo=UTC)
    >>> _ = save_pipeline(store, P)
    >>> deal = Opportunity.open("opp-1", P, owner="rep-1", amount=Money("12000", "EUR"),
    ...                         close_date=date(2026, 4, 30), at=t)
    >>> _ = open_opportunity(store, deal)
    >>> moved = move_opportunity(store, "opp-1", "presentation_scheduled", t + timedelta(days=5))
    >>> moved.value.version, [e.kind for e in moved.events]
    (2, ['opportunity.stage_changed'])
    >>> again = move_opportunity(store, "opp-1", "presentation_scheduled", t + timedelta(days=5))
    >>> again.value.version, again.events                    # a replay: nothing written
    (2, ())
    >>> snap = pipeline_snapshot(store, "sales", t + timedelta(days=6))
    >>> snap.open_count, snap.weighted_amount
    (1, Money('7200.00', 'EUR'))
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import Outcome
from crmcore.ports import Store
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.pipeline import Pipeline
from crmcore.sales.pipeline_stages import StageKind
from crmcore.sales.snapshots import PipelineSnapshot
from crmcore.sales.snapshots import pipeline_snapshot as snapshot
from crmcore.services._checks import callback, store_of
from crmcore.services.retry import DEFAULT_RETRY, RetryPolicy
from crmcore.services.retry import retry as run_retrying

__all__ = [
    "change_opportunity",
    "lose_opportunity",
    "move_opportunity",
    "open_opportunity",
    "pipeline_snapshot",
    "save_pipeline",
    "win_opportunity",
]


def save_pipeline(
    store: Store, pipeline: Pipeline, *, retry: RetryPolicy | None = DEFAULT_RETRY
) -> Outcome[Pipeline]:
    """Store ``pipeline``: a new one, or a new configuration of a stored one.

    A stored pipeline's new configuration must still hold every opportunity in it (their stages
    and stage moves, re-checked with
    [`Opportunity.check()`][crmcore.sales.opportunities.Opportunity.check]): a stage in use cannot
    be removed. Editing probabilities is not retroactive (the opportunities keep their stage
    keys). No event is raised: a pipeline is configuration.
    """
    store = store_of(store)
    if not isinstance(pipeline, Pipeline):
        raise ValidationError("pipeline", pipeline, "must be a Pipeline")

    def once() -> Outcome[Pipeline]:
        with store.unit_of_work() as uow:
            if uow.pipelines.find(pipeline.id) is None:
                return Outcome(uow.pipelines.add(pipeline))
            for opportunity in uow.opportunities.in_pipeline(pipeline.id):
                opportunity.check(pipeline)
            saved = uow.pipelines.save(pipeline)
        return Outcome(saved)

    return run_retrying(once, retry)


# -- opportunities ------------------------------------------------------------------------------


def open_opportunity(
    store: Store, outcome: Outcome[Opportunity], *, retry: RetryPolicy | None = DEFAULT_RETRY
) -> Outcome[Opportunity]:
    """Store an opportunity made with
    [`Opportunity.open()`][crmcore.sales.opportunities.Opportunity.open]; its pipeline must be
    stored (and hold its stage)."""
    store = store_of(store)
    if not isinstance(outcome, Outcome) or not isinstance(outcome.value, Opportunity):
        raise ValidationError("outcome", outcome, "must be an Outcome of Opportunity.open()")
    opportunity = outcome.value

    def once() -> Outcome[Opportunity]:
        with store.unit_of_work() as uow:
            opportunity.check(uow.pipelines.get(opportunity.pipeline_id))
            stored = uow.opportunities.add(uow.take(outcome))
        return Outcome(stored, outcome.events)

    return run_retrying(once, retry)


def change_opportunity(
    store: Store,
    opportunity_id: str,
    change: Callable[[Opportunity, Pipeline], Outcome[Opportunity]],
    *,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Opportunity]:
    """Apply ``change(opportunity, pipeline)`` to the stored opportunity (with its stored
    pipeline) and save it."""
    store = store_of(store)
    callback(change, "change")

    def once() -> Outcome[Opportunity]:
        with store.unit_of_work() as uow:
            current = uow.opportunities.get(opportunity_id)
            outcome = change(current, uow.pipelines.get(current.pipeline_id))
            if not isinstance(outcome, Outcome):
                raise ValidationError("change", outcome, "must return an Outcome")
            if outcome.value is current:
                return Outcome(current)
            saved = uow.opportunities.save(uow.take(outcome))
        return Outcome(saved, outcome.events)

    return run_retrying(once, retry)


def move_opportunity(
    store: Store,
    opportunity_id: str,
    stage: str,
    at: datetime,
    *,
    reason: str | None = None,
    note: str = "",
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Opportunity]:
    """Move the stored opportunity to ``stage`` at ``at`` (the pipeline's table decides the kind
    of move: advance, back, win, lose, reopen). Moving it again to the stage it entered at ``at``
    is a replay that writes nothing."""
    store = store_of(store)

    def change(opportunity: Opportunity, pipeline: Pipeline) -> Outcome[Opportunity]:
        if _replayed_move(opportunity, stage, at):
            return Outcome(opportunity)
        return opportunity.move_to(stage, at, pipeline, reason=reason, note=note)

    return change_opportunity(store, opportunity_id, change, retry=retry)


def _replayed_move(opportunity: Opportunity, stage: str | None, at: datetime) -> bool:
    history = opportunity.stage_history
    return (
        bool(history)
        and history[-1].at == to_utc(at, "at")
        and (stage is None or history[-1].to_state == stage)
    )


def win_opportunity(
    store: Store,
    opportunity_id: str,
    at: datetime,
    *,
    stage: str | None = None,
    reason: str | None = None,
    note: str = "",
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Opportunity]:
    """Close the stored opportunity as won (in ``stage``, default the first won stage); a replay
    of a win stored at ``at`` writes nothing."""
    store = store_of(store)

    def change(opportunity: Opportunity, pipeline: Pipeline) -> Outcome[Opportunity]:
        if opportunity.status is StageKind.WON and _replayed_move(opportunity, stage, at):
            return Outcome(opportunity)
        return opportunity.win(at, pipeline, stage=stage, reason=reason, note=note)

    return change_opportunity(store, opportunity_id, change, retry=retry)


def lose_opportunity(
    store: Store,
    opportunity_id: str,
    at: datetime,
    *,
    reason: str | None = None,
    stage: str | None = None,
    note: str = "",
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Opportunity]:
    """Close the stored opportunity as lost with a ``reason`` code; a replay of a loss stored at
    ``at`` writes nothing."""
    store = store_of(store)

    def change(opportunity: Opportunity, pipeline: Pipeline) -> Outcome[Opportunity]:
        if opportunity.status is StageKind.LOST and _replayed_move(opportunity, stage, at):
            return Outcome(opportunity)
        return opportunity.lose(at, pipeline, reason=reason, stage=stage, note=note)

    return change_opportunity(store, opportunity_id, change, retry=retry)


def pipeline_snapshot(store: Store, pipeline_id: str, as_of: datetime) -> PipelineSnapshot:
    """The stored pipeline ``pipeline_id`` as it stood at ``as_of``: open count, amount and
    weighted amount per stage ([`pipeline_snapshot()`][crmcore.sales.snapshots.pipeline_snapshot]
    over its stored opportunities, read in one unit of work)."""
    store = store_of(store)
    with store.unit_of_work() as uow:
        pipeline = uow.pipelines.get(pipeline_id)
        frame = uow.opportunities.to_frame(pipeline)
    return snapshot(frame, as_of, pipeline=pipeline)
