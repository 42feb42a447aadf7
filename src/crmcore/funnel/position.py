"""Where one customer stands in the seven-stage funnel, and how they got there.

A [`FunnelPosition`][crmcore.funnel.position.FunnelPosition] is a small, storable aggregate (one per
customer, ``id`` = the customer id). Its `history` is the single source of truth: every stage
entered, when, from which touchpoint or interaction, and how (start, advance, skip, regress with a
reason). The current stage and the entry time of each stage are derived from it, so they can never
disagree with the audit trail.

The rules, in the order they are checked by
[`advance()`][crmcore.funnel.position.FunnelPosition.advance] and
[`regress()`][crmcore.funnel.position.FunnelPosition.regress]:

1. *Bad input* (an unknown stage, a naive datetime, an empty regress reason,
   a malformed source id) raises [`ValidationError`][crmcore.kernel.errors.ValidationError].
2. *Moving to the current stage again* is a no-op: the same object, no
   event, nothing recorded (not even when ``at`` is old).
3. *Illegal moves* raise [`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError]
   naming from/to and why: advancing backwards, regressing forwards, skipping when the
   [`FunnelPolicy`][crmcore.funnel.position.FunnelPolicy] forbids it, regressing when it forbids it
   or below its ``lock_at`` stage.
4. *Time never goes backwards within a position*: a move at an instant
   before the latest history entry raises ``ValidationError`` on ``at``
   (the move itself would be legal; the timestamp is the bad input). Equal
   instants are fine.

A forward move past several stages records each stage passed through as a
``SKIP`` entry at the same instant, so every stage up to the current one has
an entry time. A regress to stage ``r`` at ``t`` starts a new run from
``r``: ``entered_at(r)`` becomes ``t``, stages above ``r`` lose their entry
times (they are entered afresh when the customer advances again), stages
below keep theirs. Nothing is deleted from the history, and
[`highest_stage`][crmcore.funnel.position.FunnelPosition.highest_stage] keeps the high-water mark.

Examples:
    >>> from datetime import datetime, UTC
    >>> t = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    >>> p = FunnelPosition.start("C-1", Stage.AWARENESS, t, source="ad-17").value
    >>> step = p.advance("intent", t.replace(hour=10), source="I-42")
    >>> ", ".join(f"{e.stage.label}:{e.how.value}" for e in step.events)
    'interest:skip, consideration:skip, intent:advance'
    >>> p = step.value
    >>> p.stage.label, p.entered_at("consideration").hour
    ('intent', 10)
    >>> p = p.regress("interest", t.replace(hour=11), "no budget this year").value
    >>> p.stage.label, p.reached("intent"), p.highest_stage.label
    ('interest', False, 'intent')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

import attrs

from crmcore.funnel.events import StageEntered, StageMove, StageRegressed
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.ids import CustomerId, validate_id
from crmcore.kernel.ids import customer_id as _customer_id
from crmcore.kernel.stage import Stage
from crmcore.kernel.validators import instance_of

__all__ = [
    "DEFAULT_POLICY",
    "MAX_REASON_LENGTH",
    "FunnelPolicy",
    "FunnelPosition",
    "StageChange",
    "normalize_reason",
]

MAX_REASON_LENGTH: Final = 200
"""The longest regress reason accepted (it travels in events and audit logs)."""


def normalize_reason(value: object) -> str:
    """A regress reason: a non-empty one-line string of at most 200 characters.

    Whitespace is collapsed. Reasons are operational ("disqualified: no
    budget", "no purchase in 12 months"), never personal data: they are part
    of the audit trail and of the ``funnel.stage_regressed`` event.

    Examples:
        >>> normalize_reason("  no   budget ")
        'no budget'
    """
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("reason", value, "a move back needs a non-empty reason")
    reason = " ".join(value.split())
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError("reason", value, f"must be at most {MAX_REASON_LENGTH} characters")
    return reason


def _stage(value: object) -> Stage:
    return Stage.parse(value, "stage")


def _lock_at(value: object) -> Stage | None:
    return None if value is None else Stage.parse(value, "lock_at")


def _change_at(value: object) -> datetime:
    return to_utc(value, "at")


def _how(value: object) -> StageMove:
    if isinstance(value, StageMove):
        return value
    if isinstance(value, str) and value in {m.value for m in StageMove}:
        return StageMove(value)
    allowed = ", ".join(m.value for m in StageMove)
    raise ValidationError("how", value, f"must be one of {allowed}")


def _source(value: object) -> str | None:
    return None if value is None else validate_id(value, "source")


def _optional_reason(value: object) -> str | None:
    return None if value is None else normalize_reason(value)


def _flag(_instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise ValidationError(attribute.name, value, "must be True or False")


def _non_negative(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(attribute.name, value, "must be a non-negative integer")


@attrs.frozen
class FunnelPolicy:
    """Which moves a funnel allows: plain, serialisable data passed to each operation.

    ``allow_skips``: a forward move may pass over stages (they are recorded
    as ``SKIP`` entries at the same instant). Without it every stage must be
    entered by its own move and a new position must start at awareness.

    ``allow_regress``: an explicit
    [`FunnelPosition.regress()`][crmcore.funnel.position.FunnelPosition.regress] with a reason may
    move a customer back. Without it the funnel is forward-only (like HubSpot's lifecycle stage, but
    a backward move raises instead of being silently ignored).

    ``lock_at``: once a position is at or beyond this stage, a regress may
    not take it below it (e.g. ``Stage.CONVERSION``: a customer who bought
    never becomes a prospect again, but may drop from advocacy to
    retention). Positions still below ``lock_at`` move back freely.
    """

    allow_skips: bool = attrs.field(default=True, validator=_flag)
    allow_regress: bool = attrs.field(default=True, validator=_flag)
    lock_at: Stage | None = attrs.field(default=None, converter=_lock_at)

    # The guards of every move live here, in one place; FunnelPosition calls them
    # after its input checks and no-op test, before its time check.
    def check_start(self, target: Stage) -> None:
        """Raise ``IllegalTransitionError`` unless a new position may start at ``target``."""
        if instance_of(target, Stage, "target") > Stage.AWARENESS and not self.allow_skips:
            raise IllegalTransitionError(
                None,
                target.label,
                "the funnel policy does not allow skips, so a new position starts at awareness",
            )

    def check_advance(self, current: Stage, target: Stage) -> None:
        """Raise ``IllegalTransitionError`` unless ``current`` may advance to ``target``."""
        if instance_of(target, Stage, "target") < instance_of(current, Stage, "current"):
            raise IllegalTransitionError(
                current.label,
                target.label,
                "advance only moves forward; move back with regress(...) and a reason",
            )
        passed = [s.label for s in Stage if current < s < target]
        if passed and not self.allow_skips:
            raise IllegalTransitionError(
                current.label,
                target.label,
                f"the funnel policy does not allow skipping {', '.join(passed)}",
            )

    def check_regress(self, current: Stage, target: Stage) -> None:
        """Raise ``IllegalTransitionError`` unless ``current`` may move back to ``target``."""
        if instance_of(target, Stage, "target") > instance_of(current, Stage, "current"):
            raise IllegalTransitionError(
                current.label, target.label, "regress only moves back; use advance(...)"
            )
        if not self.allow_regress:
            raise IllegalTransitionError(
                current.label, target.label, "the funnel policy does not allow moving back"
            )
        if self.lock_at is not None and target < self.lock_at <= current:
            raise IllegalTransitionError(
                current.label,
                target.label,
                f"the funnel policy locks positions that reached {self.lock_at.label}: "
                "they never move back below it",
            )


DEFAULT_POLICY: Final = FunnelPolicy()
"""Skips allowed, regress allowed (with a reason), no lock."""


def _policy(value: object) -> FunnelPolicy:
    if not isinstance(value, FunnelPolicy):
        raise ValidationError("policy", value, "must be a FunnelPolicy")
    return value


@attrs.frozen
class StageChange:
    """One entry of a position's history: ``stage`` entered at ``at``, and how.

    ``source`` is the touchpoint or interaction id that caused the move (the
    receipt); ``reason`` is set on, and only on, ``REGRESS`` entries.
    """

    stage: Stage = attrs.field(converter=_stage)
    at: datetime = attrs.field(converter=_change_at)
    how: StageMove = attrs.field(converter=_how)
    source: str | None = attrs.field(default=None, converter=_source)
    reason: str | None = attrs.field(default=None, converter=_optional_reason)

    @reason.validator
    def _check_reason(self, _attribute: object, value: str | None) -> None:
        if self.how is StageMove.REGRESS and value is None:
            raise ValidationError("reason", value, "a move back needs a non-empty reason")
        if self.how is not StageMove.REGRESS and value is not None:
            raise ValidationError("reason", value, f"only a regress has a reason, not {self.how}")


def _history(values: Iterable[StageChange]) -> tuple[StageChange, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValidationError("history", values, "must be a sequence of StageChange")
    return tuple(values)


def _check_history(history: Sequence[StageChange]) -> None:
    """The structural rules every stored history obeys (policies aside)."""
    if not history:
        raise ValidationError("history", history, "must have at least one entry")
    started = False
    prior: StageChange | None = None
    for i, change in enumerate(history):
        field = f"history[{i}]"
        if not isinstance(change, StageChange):
            raise ValidationError(field, change, "must be a StageChange")
        if prior is not None and change.at < prior.at:
            raise ValidationError(
                f"{field}.at", change.at, f"is before the previous entry ({prior.at.isoformat()})"
            )
        if (
            prior is not None
            and prior.how is StageMove.SKIP
            and (change.how is StageMove.REGRESS or change.at != prior.at)
        ):
            raise ValidationError(
                field,
                change,
                "a skipped stage must be followed, at the same instant, by the next stage",
            )
        if change.how is StageMove.REGRESS:
            if prior is None or not started or change.stage >= prior.stage:
                raise ValidationError(
                    f"{field}.stage", change.stage.label, "a regress must move to an earlier stage"
                )
        else:
            expected = 1 if prior is None else prior.stage + 1
            if change.stage != expected:
                after = "start at awareness" if prior is None else f"follow {prior.stage.label}"
                raise ValidationError(
                    f"{field}.stage",
                    change.stage.label,
                    f"must {after} directly (stages passed through are recorded as skips)",
                )
            if change.how is StageMove.START:
                if started:
                    raise ValidationError(f"{field}.how", change.how, "a position starts once")
                started = True
            elif change.how is StageMove.ADVANCE and not started:
                raise ValidationError(f"{field}.how", change.how, "a position starts first")
        prior = change
    if history[-1].how is StageMove.SKIP:
        raise ValidationError("history", history[-1], "must not end with a skipped stage")


def _valid_history(_instance: object, _attribute: object, value: tuple[StageChange, ...]) -> None:
    _check_history(value)


@attrs.frozen
class FunnelPosition:
    """One customer's position in the funnel, with its complete history.

    ``id`` is the customer id (one position per customer); ``version`` is the
    stored version for optimistic concurrency (0 until first saved). Build
    one with [`start()`][crmcore.funnel.position.FunnelPosition.start] (or from interactions with
    [`apply_interaction()`][crmcore.funnel.touchpoints.apply_interaction]) and change it only
    through [`advance()`][crmcore.funnel.position.FunnelPosition.advance] and
    [`regress()`][crmcore.funnel.position.FunnelPosition.regress], which return an
    [`Outcome`][crmcore.kernel.events.Outcome] with the new position and its events.
    """

    id: CustomerId = attrs.field(converter=_customer_id)
    history: tuple[StageChange, ...] = attrs.field(converter=_history, validator=_valid_history)
    version: int = attrs.field(default=0, validator=_non_negative)

    # -- creation ---------------------------------------------------------------
    @classmethod
    def start(
        cls,
        customer_id: str,
        stage: Stage | str,
        at: datetime,
        *,
        source: str | None = None,
        policy: FunnelPolicy = DEFAULT_POLICY,
    ) -> Outcome[FunnelPosition]:
        """A new position at ``stage``, entered at ``at``.

        Starting beyond awareness records the earlier stages as passed
        through (``SKIP``) at the same instant when the policy allows skips,
        and raises ``IllegalTransitionError`` otherwise. Raises one
        ``funnel.stage_entered`` event per history entry.
        """
        target = Stage.parse(stage, "stage")
        when = to_utc(at, "at")
        src = _source(source)
        rules = _policy(policy)
        cid = _customer_id(customer_id)
        rules.check_start(target)
        new = [StageChange(s, when, StageMove.SKIP, src) for s in Stage if s < target]
        new.append(StageChange(target, when, StageMove.START, src))
        position = cls(cid, tuple(new))
        return Outcome(position, position._entered(new, None))

    # -- queries ----------------------------------------------------------------
    @property
    def customer_id(self) -> CustomerId:
        """The customer this position belongs to (the same as ``id``)."""
        return self.id

    @property
    def stage(self) -> Stage:
        """The current stage."""
        return self.history[-1].stage

    @property
    def last_changed_at(self) -> datetime:
        """When the position last changed; no move may be recorded before it."""
        return self.history[-1].at

    @property
    def highest_stage(self) -> Stage:
        """The furthest stage ever reached, regresses notwithstanding (a high-water mark)."""
        return max(change.stage for change in self.history)

    def entry_times(self) -> dict[Stage, datetime]:
        """When each stage of the current run was entered, in stage order.

        Holds every stage from awareness to the current one. A regress to
        ``r`` at ``t`` sets ``r`` to ``t`` and drops the stages above ``r``.
        """
        entered: dict[Stage, datetime] = {}
        for change in self.history:
            if change.how is StageMove.REGRESS:
                for stage in [s for s in entered if s > change.stage]:
                    del entered[stage]
            entered[change.stage] = change.at
        return dict(sorted(entered.items()))

    def entered_at(self, stage: Stage | str) -> datetime | None:
        """When ``stage`` was entered in the current run, or ``None`` if it was not reached.

        See [`entry_times()`][crmcore.funnel.position.FunnelPosition.entry_times] for what a regress
        does.
        """
        return self.entry_times().get(Stage.parse(stage, "stage"))

    def reached(self, stage: Stage | str) -> bool:
        """True if the position is at or beyond ``stage`` now (every such stage has an entry)."""
        return Stage.parse(stage, "stage") <= self.stage

    def stage_at(self, at: datetime) -> Stage | None:
        """The stage the position was at, at instant ``at`` (``None`` before it started)."""
        when = to_utc(at, "at")
        current: Stage | None = None
        for change in self.history:
            if change.at > when:
                break
            current = change.stage
        return current

    # -- changes ----------------------------------------------------------------
    def advance(
        self,
        to: Stage | str,
        at: datetime,
        *,
        source: str | None = None,
        policy: FunnelPolicy = DEFAULT_POLICY,
    ) -> Outcome[FunnelPosition]:
        """Move forward to ``to`` at ``at``; ``source`` names the touchpoint or interaction.

        Stages passed over are recorded as ``SKIP`` entries at ``at`` (if
        the policy allows skips). Advancing to the current stage is a no-op;
        to an earlier one raises ``IllegalTransitionError`` (use
        [`regress()`][crmcore.funnel.position.FunnelPosition.regress]).
        """
        target = Stage.parse(to, "to")
        when = to_utc(at, "at")
        src = _source(source)
        rules = _policy(policy)
        current = self.stage
        if target == current:
            return Outcome(self)
        rules.check_advance(current, target)
        self._check_time(at, when)
        new = [StageChange(s, when, StageMove.SKIP, src) for s in Stage if current < s < target]
        new.append(StageChange(target, when, StageMove.ADVANCE, src))
        moved = attrs.evolve(self, history=(*self.history, *new))
        return Outcome(moved, self._entered(new, current))

    def regress(
        self,
        to: Stage | str,
        at: datetime,
        reason: str,
        *,
        source: str | None = None,
        policy: FunnelPolicy = DEFAULT_POLICY,
    ) -> Outcome[FunnelPosition]:
        """Move back to ``to`` at ``at``, for ``reason`` (required, non-empty).

        Regressing to the current stage is a no-op; to a later one raises
        ``IllegalTransitionError``, as does a regress the policy forbids. Raises
        ``funnel.stage_regressed`` (with the reason), then
        ``funnel.stage_entered``.
        """
        target = Stage.parse(to, "to")
        when = to_utc(at, "at")
        why = normalize_reason(reason)
        src = _source(source)
        rules = _policy(policy)
        current = self.stage
        if target == current:
            return Outcome(self)
        rules.check_regress(current, target)
        self._check_time(at, when)
        change = StageChange(target, when, StageMove.REGRESS, src, why)
        moved = attrs.evolve(self, history=(*self.history, change))
        regressed = StageRegressed(
            aggregate_id=self.id,
            occurred_at=when,
            stage=target,
            previous=current,
            reason=why,
            source=src,
        )
        return Outcome(moved, (regressed, *self._entered([change], current)))

    # -- helpers ----------------------------------------------------------------
    def _check_time(self, at: object, when: datetime) -> None:
        latest = self.last_changed_at
        if when < latest:
            raise ValidationError(
                "at",
                at,
                f"is before the position's latest change ({latest.isoformat()}); "
                "time never goes backwards within a position",
            )

    def _entered(self, changes: Sequence[StageChange], previous: Stage | None) -> list[DomainEvent]:
        events: list[DomainEvent] = []
        for change in changes:
            events.append(
                StageEntered(
                    aggregate_id=self.id,
                    occurred_at=change.at,
                    stage=change.stage,
                    how=change.how,
                    previous=previous,
                    source=change.source,
                )
            )
            previous = change.stage
        return events
