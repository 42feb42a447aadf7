"""The lifecycle record: a customer's current state and every change, with evidence.

A [`Lifecycle`][crmcore.lifecycle.record.Lifecycle] is a frozen aggregate (its ``id`` is the
customer id). It starts as a prospect with an empty history and changes only through the table in
[`crmcore.lifecycle.transitions`][crmcore.lifecycle.transitions]:
[`Lifecycle.fire()`][crmcore.lifecycle.record.Lifecycle.fire] applies a trigger,
[`Lifecycle.move_to()`][crmcore.lifecycle.record.Lifecycle.move_to] a target state, and
[`reclassify()`][crmcore.lifecycle.record.reclassify] feeds it a
[`Classification`][crmcore.lifecycle.policy.Classification]. Each change is kept as a
[`LifecycleChange`][crmcore.lifecycle.record.LifecycleChange] (time, from, to, trigger, kind,
evidence), so the record answers "which state, as of when, and why" for any past time
([`Lifecycle.state_at()`][crmcore.lifecycle.record.Lifecycle.state_at]) and moves backwards (mature
→ decline) without losing what came before.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.lifecycle.policy import classify
    >>> june = datetime(2026, 6, 30, tzinfo=UTC)
    >>> c = classify("c-1", [(datetime(2026, 6, 1, tzinfo=UTC), 25)], june)
    >>> outcome = reclassify(Lifecycle("c-1"), c, june)
    >>> outcome.value.state, [e.kind for e in outcome.events]
    (<LifecycleState.NEW: 'new'>, ['lifecycle.changed'])
    >>> outcome.value.state_at(datetime(2026, 1, 1, tzinfo=UTC))
    <LifecycleState.PROSPECT: 'prospect'>
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

import attrs

from crmcore.kernel import machine, validators
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.ids import CustomerId, customer_id
from crmcore.lifecycle.events import EVENT_FOR_KIND
from crmcore.lifecycle.evidence import Evidence
from crmcore.lifecycle.policy import (
    DEFAULT_POLICY,
    Classification,
    LifecyclePolicy,
    PurchaseInput,
    classify,
)
from crmcore.lifecycle.states import LifecycleState
from crmcore.lifecycle.transitions import MACHINE, Transition, TransitionKind, Trigger

__all__ = ["INITIAL_STATE", "Lifecycle", "LifecycleChange", "reclassify", "replay"]

INITIAL_STATE: Final = LifecycleState.PROSPECT
"""Every record starts here; nothing ever moves back to it."""


def _at(value: object) -> datetime:
    return to_utc(value, "at")


def _state(value: object) -> LifecycleState:
    return LifecycleState.parse(value)


def _trigger(value: object) -> Trigger:
    if isinstance(value, Trigger):
        return value
    if isinstance(value, str) and value in _TRIGGERS:
        return Trigger(value)
    raise ValidationError("trigger", value, f"must be one of {', '.join(_TRIGGERS)}")


def _kind(value: object) -> TransitionKind:
    if isinstance(value, TransitionKind):
        return value
    if isinstance(value, str) and value in _KINDS:
        return TransitionKind(value)
    raise ValidationError("kind", value, f"must be one of {', '.join(_KINDS)}")


_TRIGGERS: Final = tuple(t.value for t in Trigger)
_KINDS: Final = tuple(k.value for k in TransitionKind)


def _evidence(_instance: object, _attribute: attrs.Attribute[Evidence], value: Evidence) -> None:
    if not isinstance(value, Evidence):
        raise ValidationError("evidence", value, "must be Evidence")


@attrs.frozen
class LifecycleChange:
    """One recorded move: when, from which state to which, on what trigger, and why."""

    at: datetime = attrs.field(converter=_at)
    from_state: LifecycleState = attrs.field(converter=_state)
    to_state: LifecycleState = attrs.field(converter=_state)
    trigger: Trigger = attrs.field(converter=_trigger)
    kind: TransitionKind = attrs.field(converter=_kind)
    evidence: Evidence = attrs.field(validator=_evidence)

    @property
    def is_reactivation(self) -> bool:
        """True for a win-back (decline or churned back to an active state)."""
        return self.kind is TransitionKind.REACTIVATION

    @property
    def is_warning(self) -> bool:
        """True for a move into decline: the churn early warning."""
        return self.kind is TransitionKind.WARNING


def _changes(values: Iterable[LifecycleChange]) -> tuple[LifecycleChange, ...]:
    changes = validators.items_of(values, "history", "lifecycle changes")
    for i, change in enumerate(changes):
        if not isinstance(change, LifecycleChange):
            raise ValidationError(f"history[{i}]", change, "must be a LifecycleChange")
    return changes


@attrs.frozen
class Lifecycle:
    """A customer's lifecycle: the current ``state`` and the ``history`` that led to it.

    ``id`` is the customer id and ``version`` the stored version (0 until a
    repository saves it). The history is checked on construction (also when
    decoded from storage): it starts at the prospect state, each change
    starts where the previous one ended, times (of the changes and of their
    evidence) never go back, every change
    is a row of the transition table whose guard its evidence satisfies, and
    ``state`` is where the last change ended.
    """

    id: CustomerId = attrs.field(converter=customer_id)
    state: LifecycleState = attrs.field(default=INITIAL_STATE, converter=_state)
    history: tuple[LifecycleChange, ...] = attrs.field(default=(), converter=_changes)
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        previous_as_of: datetime | None = None

        def is_a_row(i: int, change: LifecycleChange) -> None:
            nonlocal previous_as_of
            where = f"history[{i}]"
            if previous_as_of is not None and change.evidence.as_of < previous_as_of:
                raise ValidationError(
                    f"{where}.evidence.as_of",
                    change.evidence.as_of,
                    "must not be before the previous",
                )
            rows = MACHINE.rows_on(change.from_state, change.trigger)
            row = rows[0] if rows else None
            if row is None or row.target is not change.to_state or row.kind is not change.kind:
                raise ValidationError(where, change, "is not a row of the transition table")
            _check_evidence(row, change.evidence, change.at)
            previous_as_of = change.evidence.as_of

        current = machine.check_history(self.history, INITIAL_STATE, rule=is_a_row)
        if self.state is not current:
            raise ValidationError("state", self.state, f"must be {current}, where history ends")

    # -- queries -----------------------------------------------------------------------------
    @property
    def last_change(self) -> LifecycleChange | None:
        """The most recent change, or ``None`` for a record never changed."""
        return self.history[-1] if self.history else None

    @property
    def entered_at(self) -> datetime | None:
        """When the current state was entered (``None`` while still the initial prospect)."""
        return self.history[-1].at if self.history else None

    def state_at(self, when: datetime) -> LifecycleState:
        """The state as of ``when``: where the last change at or before it ended.

        Before the first recorded change the record was a prospect, as far as
        it knows (use [`replay()`][crmcore.lifecycle.record.replay] to rebuild a history from
        purchases).
        """
        return machine.state_at(self.history, when, INITIAL_STATE)

    def changes_between(self, start: datetime, end: datetime) -> tuple[LifecycleChange, ...]:
        """The changes recorded in ``(start, end]``."""
        return machine.changes_between(self.history, start, end)

    # -- changes -------------------------------------------------------------------------------
    def fire(self, trigger: Trigger | str, at: datetime, evidence: Evidence) -> Outcome[Lifecycle]:
        """Apply ``trigger`` at ``at``: the table's move from the current state, if its guard holds.

        Raises [`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError] when the
        table has no row for the trigger in this state or the evidence fails the row's guard, and
        [`ValidationError`][crmcore.kernel.errors.ValidationError] for a time before the last change
        or evidence from after ``at``.
        """
        (row,) = MACHINE.triggered(self.state, _trigger(trigger))
        return self._apply(row, at, evidence)

    def move_to(
        self, target: LifecycleState | str, at: datetime, evidence: Evidence
    ) -> Outcome[Lifecycle]:
        """Move to ``target`` at ``at`` by the table's row for it; no change, no event.

        Raises like [`fire()`][crmcore.lifecycle.record.Lifecycle.fire], naming the attempted from
        and to states.
        """
        state = LifecycleState.parse(target, "target")
        when = self._check_time(at, evidence)
        if state is self.state:
            return Outcome(self)
        if state is INITIAL_STATE:
            raise IllegalTransitionError(
                self.state, state, "a customer never becomes a prospect again"
            )
        (row,) = MACHINE.reaching(self.state, state)
        return self._apply(row, when, evidence)

    def _check_time(self, at: object, evidence: object) -> datetime:
        when = to_utc(at, "at")
        if not isinstance(evidence, Evidence):
            raise ValidationError("evidence", evidence, "must be Evidence")
        entered = self.entered_at
        if entered is not None and when < entered:
            raise ValidationError(
                "at", when, f"must not be before the last change ({entered.isoformat()})"
            )
        if evidence.as_of > when:
            raise ValidationError(
                "evidence.as_of",
                evidence.as_of,
                f"must not be after the change ({when.isoformat()})",
            )
        last = self.last_change
        if last is not None and evidence.as_of < last.evidence.as_of:
            raise ValidationError(
                "evidence.as_of",
                evidence.as_of,
                "is stale: the last change rests on evidence as of "
                + last.evidence.as_of.isoformat(),
            )
        return when

    def _apply(self, row: Transition, at: object, evidence: Evidence) -> Outcome[Lifecycle]:
        when = self._check_time(at, evidence)
        MACHINE.choose((row,), evidence)
        change = LifecycleChange(when, row.source, row.target, row.trigger, row.kind, evidence)
        updated = attrs.evolve(self, state=row.target, history=(*self.history, change))
        event = EVENT_FOR_KIND[row.kind](
            aggregate_id=self.id,
            occurred_at=when,
            from_state=row.source,
            to_state=row.target,
            trigger=row.trigger,
            transition=row.kind,
            as_of=evidence.as_of,
            reasons=evidence.reasons,
            risk_score=evidence.risk_score,
            facts=evidence.facts,
            policy=evidence.policy,
        )
        return Outcome(updated, (event,))


def _check_evidence(row: Transition, evidence: Evidence, at: datetime) -> None:
    """A stored change must satisfy its row's guard and rest on evidence from before it."""
    if not row.allows(evidence):
        raise ValidationError(
            "evidence", evidence.reasons, MACHINE.guards[row.guard].explain(evidence)
        )
    if evidence.as_of > at:
        raise ValidationError("evidence.as_of", evidence.as_of, "must not be after the change")


def reclassify(
    record: Lifecycle, classification: Classification, at: datetime
) -> Outcome[Lifecycle]:
    """Bring ``record`` to the state of ``classification``, recorded at ``at``.

    Raises one event when the state changed
    ([`EVENT_FOR_KIND`][crmcore.lifecycle.events.EVENT_FOR_KIND] picks it: a churn warning on
    entering decline, a reactivation on a win-back, ...) and none when it did not. ``at`` must not
    be before the last change nor before the classification's as-of time.
    """
    if not isinstance(record, Lifecycle):
        raise ValidationError("record", record, "must be a Lifecycle")
    if not isinstance(classification, Classification):
        raise ValidationError("classification", classification, "must be a Classification")
    if classification.customer_id != record.id:
        raise ValidationError(
            "classification.customer_id",
            classification.customer_id,
            f"is not the record's customer {record.id!r}",
        )
    return record.move_to(classification.state, at, classification.evidence)


def replay(
    customer: str,
    purchases: Iterable[PurchaseInput],
    checkpoints: Sequence[datetime],
    *,
    policy: LifecyclePolicy = DEFAULT_POLICY,
    record: Lifecycle | None = None,
) -> Outcome[Lifecycle]:
    """Rebuild a history: classify at each checkpoint (in time order) and reclassify.

    Starts from ``record`` (a new prospect record by default); the events of
    every change come back in order. Use it to backfill a record, e.g. at
    every month end, so that [`Lifecycle.state_at()`][crmcore.lifecycle.record.Lifecycle.state_at]
    answers for the past.
    """
    items = validators.items_of(purchases, "purchases", "purchases")
    current = (
        Lifecycle(customer)
        if record is None
        else validators.instance_of(record, Lifecycle, "record")
    )
    events: list[DomainEvent] = []
    instants = validators.items_of(checkpoints, "checkpoints", "datetimes")
    times = sorted(to_utc(t, f"checkpoints[{i}]") for i, t in enumerate(instants))
    for when in times:
        outcome = reclassify(current, classify(current.id, items, when, policy=policy), when)
        current = outcome.value
        events.extend(outcome.events)
    return Outcome(current, tuple(events))
