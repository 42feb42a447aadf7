"""The opportunity aggregate: one deal moving through a pipeline, with its full history.

An [`Opportunity`][crmcore.sales.opportunities.Opportunity] is a potential sale (seed 002 §3.1.3,
销售机会): an amount in one currency (a [`Money`][crmcore.kernel.money.Money]), an expected close
date, an owner, the account and/or customer it is with, its source, optional line items, and its
stage in a [`Pipeline`][crmcore.sales.pipeline.Pipeline]. Stage moves are rows of the pipeline's
table on the kernel's state machine
([`Pipeline.machine`][crmcore.sales.pipeline.Pipeline.machine]): an unknown stage is a
[`ValidationError`][crmcore.kernel.errors.ValidationError] naming ``stage``, a move the table does
not have (or whose entry rules refuse) an
[`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError] naming both stages.

Nothing is overwritten: stage moves, amount revisions and close-date changes are kept in time order
([`crmcore.sales.opportunity_changes`][crmcore.sales.opportunity_changes]), so the stage, amount
and close date *as of* any past instant are answerable
([`stage_at()`][crmcore.sales.opportunities.Opportunity.stage_at],
[`amount_at()`][crmcore.sales.opportunities.Opportunity.amount_at],
[`close_date_at()`][crmcore.sales.opportunities.Opportunity.close_date_at]), as are the periods
spent in each stage and the deals that slipped. Operations return an
[`Outcome`][crmcore.kernel.events.Outcome] (the new opportunity and its events); the old value
never changes. A won or lost opportunity keeps its amount and dates: reopen it to change them.

Examples:
    >>> from datetime import UTC, date, datetime, timedelta
    >>> from crmcore.kernel.money import Money
    >>> from crmcore.sales.pipeline import DEFAULT_PIPELINE as P
    >>> t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    >>> deal = Opportunity.open("opp-1", P, owner="rep-1", amount=Money("12000", "EUR"),
    ...                         close_date=date(2026, 4, 30), at=t, account_id="acme").value
    >>> deal = deal.move_to("presentation_scheduled", t + timedelta(days=5), P).value
    >>> deal = deal.change_close_date(date(2026, 5, 31), t + timedelta(days=9)).value
    >>> deal.weighted_amount(P)
    Money('7200.0', 'EUR')
    >>> deal.stage_at(t + timedelta(days=1)), deal.slip_count
    ('appointment_scheduled', 1)
    >>> deal.lose(t + timedelta(days=20), P)
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.IllegalTransitionError: cannot go from presentation_scheduled to ...
    >>> won = deal.win(t + timedelta(days=20), P, reason="value").value
    >>> won.status, won.closed_at.date()
    (<StageKind.WON: 'won'>, datetime.date(2026, 3, 22))
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

import attrs

from crmcore.kernel import machine, validators
from crmcore.kernel.clock import DAY_US, to_micros, to_utc
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.events import Outcome
from crmcore.kernel.money import Money
from crmcore.sales import _opportunity_fields as fields
from crmcore.sales import opportunity_events as ev
from crmcore.sales.opportunity_changes import (
    AmountChange,
    CloseDateChange,
    LineItem,
    StageChange,
    StagePeriod,
    line_items_total,
    reason_code,
)
from crmcore.sales.pipeline import Pipeline
from crmcore.sales.pipeline_machine import MoveContext, PipelineMove, entry_problems
from crmcore.sales.pipeline_stages import PipelineStage, StageKind

__all__ = ["Opportunity", "StagePeriod"]


@attrs.frozen(kw_only=True)
class Opportunity:
    """A deal in a pipeline: amount, expected close date, owner, stage, and every change.

    Open one with [`open()`][crmcore.sales.opportunities.Opportunity.open]; move it with
    [`move_to()`][crmcore.sales.opportunities.Opportunity.move_to],
    [`advance()`][crmcore.sales.opportunities.Opportunity.advance],
    [`win()`][crmcore.sales.opportunities.Opportunity.win],
    [`lose()`][crmcore.sales.opportunities.Opportunity.lose],
    [`reopen()`][crmcore.sales.opportunities.Opportunity.reopen]; revise it with
    [`change_amount()`][crmcore.sales.opportunities.Opportunity.change_amount],
    [`change_close_date()`][crmcore.sales.opportunities.Opportunity.change_close_date],
    [`set_line_items()`][crmcore.sales.opportunities.Opportunity.set_line_items],
    [`reassign()`][crmcore.sales.opportunities.Opportunity.reassign],
    [`set_probability()`][crmcore.sales.opportunities.Opportunity.set_probability]. The stage
    moves take the [`Pipeline`][crmcore.sales.pipeline.Pipeline] (the opportunity stores its id
    only, so editing a pipeline's probabilities is not retroactive, as in Salesforce).

    The histories are re-checked on construction (also when decoded from storage): times never go
    back nor before ``created_at``; each change starts where the previous ended; ``stage``,
    ``amount`` and ``close_date`` are where they end; no close date is before the day the
    opportunity was created (UTC); amounts are never negative and stay in one currency; with line
    items, the amount is their total. [`check()`][crmcore.sales.opportunities.Opportunity.check]
    re-checks the stage moves against a pipeline's table.
    """

    id: str = attrs.field(converter=fields.opportunity_id)
    pipeline_id: str = attrs.field(converter=fields.pipeline_ref)
    owner: str = attrs.field(converter=fields.owner)
    created_at: datetime = attrs.field(converter=fields.created)
    amount: Money = attrs.field(converter=fields.amount)
    close_date: date = attrs.field(converter=fields.close_date)
    stage: str = attrs.field(converter=fields.stage)
    name: str = attrs.field(default="", converter=fields.name)
    account_id: str | None = attrs.field(default=None, converter=fields.account_id)
    customer_id: str | None = attrs.field(default=None, converter=fields.customer_id)
    source: str | None = attrs.field(default=None, converter=fields.source)
    segment: str | None = attrs.field(default=None, converter=fields.segment)
    lead_id: str | None = attrs.field(default=None, converter=fields.lead_id)
    probability: Decimal | None = attrs.field(default=None, converter=fields.probability_override)
    line_items: tuple[LineItem, ...] = attrs.field(default=(), converter=fields.line_items)
    stage_history: tuple[StageChange, ...] = attrs.field(default=(), converter=fields.stage_history)
    amount_history: tuple[AmountChange, ...] = attrs.field(
        default=(), converter=fields.amount_history
    )
    close_date_history: tuple[CloseDateChange, ...] = attrs.field(
        default=(), converter=fields.close_date_history
    )
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        ends = machine.check_history(
            self.stage_history, self.opened_stage, start=self.created_at, start_name="created_at"
        )
        if ends != self.stage:
            raise ValidationError("stage", self.stage, f"must be {ends}, where the history ends")
        fields.check_revisions("amount_history", self.amount_history, self.amount, self.created_at)
        fields.check_revisions(
            "close_date_history", self.close_date_history, self.close_date, self.created_at
        )
        for change in self.amount_history:
            if change.old.currency != self.amount.currency:
                raise ValidationError(
                    "amount_history", change.old, f"must be in {self.amount.currency}"
                )
        created = self.created_at.date()
        dates = [self.close_date, *(c.old for c in self.close_date_history)]
        for day in dates:
            if day < created:
                raise ValidationError(
                    "close_date", day, f"must not be before the day it was created ({created})"
                )
        if self.line_items:
            total = line_items_total(self.line_items, self.amount.currency)
            if total != self.amount:
                raise ValidationError("amount", self.amount, f"must be the line items' {total}")

    # -- queries ---------------------------------------------------------------------------------
    @property
    def opened_stage(self) -> str:
        """The stage the opportunity was opened in."""
        return self.stage_history[0].from_state if self.stage_history else self.stage

    @property
    def opening_amount(self) -> Money:
        """The amount when the opportunity was opened."""
        return self.amount_history[0].old if self.amount_history else self.amount

    @property
    def opening_close_date(self) -> date:
        """The expected close date when the opportunity was opened."""
        return self.close_date_history[0].old if self.close_date_history else self.close_date

    @property
    def status(self) -> StageKind:
        """Open, won or lost: from the latest stage move (opportunities open in an open stage)."""
        if self.stage_history:
            move = self.stage_history[-1].move
            if move is PipelineMove.WIN:
                return StageKind.WON
            if move is PipelineMove.LOSE:
                return StageKind.LOST
        return StageKind.OPEN

    @property
    def is_open(self) -> bool:
        """Whether the opportunity is neither won nor lost."""
        return self.status is StageKind.OPEN

    @property
    def closed_at(self) -> datetime | None:
        """When it was won or lost (``None`` while open)."""
        return None if self.is_open else self.stage_history[-1].at

    @property
    def close_reason(self) -> str | None:
        """The reason code given when it was won or lost (``None`` while open)."""
        return None if self.is_open else self.stage_history[-1].reason

    @property
    def last_changed_at(self) -> datetime:
        """The time of the latest recorded change (``created_at`` if none)."""
        times = [self.created_at]
        for history in (self.stage_history, self.amount_history, self.close_date_history):
            if history:
                times.append(history[-1].at)
        return max(times)

    def _instant(self, when: datetime, field: str = "when") -> datetime | None:
        instant = to_utc(when, field)
        return None if instant < self.created_at else instant

    def stage_at(self, when: datetime) -> str | None:
        """The stage as of ``when`` (``None`` before the opportunity was created)."""
        instant = self._instant(when)
        if instant is None:
            return None
        stage: str = machine.state_at(self.stage_history, instant, self.opened_stage)
        return stage

    def status_at(self, when: datetime) -> StageKind | None:
        """Open, won or lost as of ``when`` (``None`` before the opportunity was created)."""
        instant = self._instant(when)
        if instant is None:
            return None
        last = [c for c in self.stage_history if c.at <= instant]
        if last and last[-1].move is PipelineMove.WIN:
            return StageKind.WON
        if last and last[-1].move is PipelineMove.LOSE:
            return StageKind.LOST
        return StageKind.OPEN

    def amount_at(self, when: datetime) -> Money | None:
        """The amount as of ``when`` (``None`` before the opportunity was created)."""
        instant = self._instant(when)
        if instant is None:
            return None
        changes = [c for c in self.amount_history if c.at <= instant]
        return changes[-1].new if changes else self.opening_amount

    def close_date_at(self, when: datetime) -> date | None:
        """The expected close date as of ``when`` (``None`` before it was created)."""
        instant = self._instant(when)
        if instant is None:
            return None
        changes = [c for c in self.close_date_history if c.at <= instant]
        return changes[-1].new if changes else self.opening_close_date

    def stage_periods(self, as_of: datetime | None = None) -> tuple[StagePeriod, ...]:
        """Every stay in a stage, in order, up to ``as_of`` (default: all of the history).

        The last stay has ``left_at=None`` while it lasts; stays entered after ``as_of`` are left
        out. Zero-length stays (two moves at one instant) are kept.
        """
        end = None if as_of is None else to_utc(as_of, "as_of")
        if end is not None and end < self.created_at:
            return ()
        out: list[StagePeriod] = []
        stage, entered = self.opened_stage, self.created_at
        for change in self.stage_history:
            if end is not None and change.at > end:
                break
            out.append(StagePeriod(stage, entered, change.at))
            stage, entered = change.to_state, change.at
        out.append(StagePeriod(stage, entered, None))
        return tuple(out)

    def days_in_stage(self, as_of: datetime) -> float:
        """Days since the opportunity entered its stage as of ``as_of``."""
        periods = self.stage_periods(as_of)
        if not periods:
            raise ValidationError("as_of", as_of, "is before the opportunity was created")
        return periods[-1].days(as_of)

    def age_days(self, as_of: datetime) -> float:
        """Days from creation to ``as_of`` (to the close, once closed before ``as_of``)."""
        end = to_utc(as_of, "as_of")
        closed = self.closed_at
        if closed is not None and closed < end:
            end = closed
        return (to_micros(end) - to_micros(self.created_at)) / DAY_US

    @property
    def slips(self) -> tuple[CloseDateChange, ...]:
        """The close-date changes that pushed the deal later."""
        return tuple(c for c in self.close_date_history if c.slipped)

    @property
    def slip_count(self) -> int:
        """How many times the close date was pushed later."""
        return len(self.slips)

    @property
    def slipped_days(self) -> int:
        """Total days the close date was pushed (pulls-in are not subtracted)."""
        return sum(c.days for c in self.slips)

    def effective_probability(self, pipeline: Pipeline) -> Decimal:
        """1 when won, 0 when lost; else the override, or the stage's default probability."""
        stage = self._stage_in(pipeline)
        if stage.kind is not StageKind.OPEN:
            return stage.probability
        return self.probability if self.probability is not None else stage.probability

    def weighted_amount(self, pipeline: Pipeline) -> Money:
        """``amount x effective probability``: exact (no rounding)."""
        return self.amount * self.effective_probability(pipeline)

    def check(self, pipeline: Pipeline) -> None:
        """Re-check the opportunity against ``pipeline``: its stages exist, every stage move is a
        row of the table (with the recorded kind), and the status agrees with the stage's kind.

        Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the change.
        """
        self._stage_in(pipeline)
        table = pipeline.machine
        if not pipeline.stage(self.opened_stage, "opened_stage").is_open:
            raise ValidationError("opened_stage", self.opened_stage, "must be an open stage")
        for i, change in enumerate(self.stage_history):
            source = table.stage_of(pipeline.stage(change.from_state, f"stage_history[{i}]").key)
            target = table.stage_of(pipeline.stage(change.to_state, f"stage_history[{i}]").key)
            rows = table.rows_between(source, target)
            if not rows or rows[0].move is not change.move:
                raise ValidationError(
                    f"stage_history[{i}]", change.move.value, "is not a move of the pipeline"
                )
        if pipeline.stage(self.stage).kind is not self.status:
            raise ValidationError("stage", self.stage, f"must be a {self.status.value} stage")

    def redacted(self) -> Opportunity:
        """This opportunity without free text (its name and notes), for a person's erasure.

        Stages, times, amounts, reason codes and links (ids) stay, so the reports still count it.
        """
        history = tuple(attrs.evolve(c, note="") for c in self.stage_history)
        if not self.name and history == self.stage_history:
            return self
        return attrs.evolve(self, name="", stage_history=history)

    # -- operations ------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        id: str,
        pipeline: Pipeline,
        *,
        owner: str,
        close_date: date,
        at: datetime,
        amount: Money | None = None,
        stage: str | None = None,
        name: str = "",
        account_id: str | None = None,
        customer_id: str | None = None,
        source: str | None = None,
        segment: str | None = None,
        lead_id: str | None = None,
        probability: Decimal | str | None = None,
        line_items: Iterable[LineItem] = (),
    ) -> Outcome[Opportunity]:
        """Open an opportunity at ``at`` in ``stage`` (default: the pipeline's first open stage).

        ``amount`` may be left out when ``line_items`` are given (it is then their total); with
        both, they must agree. The stage must be open and its entry requirements met.
        """
        checked = _pipeline(pipeline)
        key = checked.first_stage.key if stage is None else checked.stage(stage).key
        if not checked.stage(key).is_open:
            raise ValidationError("stage", key, "an opportunity opens in an open stage")
        items = fields.line_items(line_items)
        if amount is None:
            if not items:
                raise ValidationError("amount", None, "is required (or line items to sum)")
            amount = line_items_total(items, items[0].unit_price.currency)
        opportunity = cls(
            id=id,
            pipeline_id=checked.id,
            owner=owner,
            created_at=at,
            amount=amount,
            close_date=close_date,
            stage=key,
            name=name,
            account_id=account_id,
            customer_id=customer_id,
            source=source,
            segment=segment,
            lead_id=lead_id,
            probability=probability,
            line_items=items,
        )
        problems = entry_problems(attrs.evolve(opportunity._facts(), stage=checked.stage(key)))
        if problems:
            raise ValidationError("stage", key, f"entering {key} needs " + ", ".join(problems))
        opened = ev.OpportunityOpened(
            aggregate_id=opportunity.id,
            occurred_at=opportunity.created_at,
            pipeline_id=opportunity.pipeline_id,
            stage=key,
            owner=opportunity.owner,
            amount=opportunity.amount,
            close_date=opportunity.close_date,
            account_id=opportunity.account_id,
            customer_id=opportunity.customer_id,
            source=opportunity.source,
            lead_id=opportunity.lead_id,
        )
        return Outcome(opportunity, (opened,))

    def move_to(
        self,
        stage: str,
        at: datetime,
        pipeline: Pipeline,
        *,
        reason: str | None = None,
        note: str = "",
    ) -> Outcome[Opportunity]:
        """Move to ``stage`` at ``at``; the pipeline's table decides the kind of move.

        Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] for an unknown stage,
        another pipeline or a time before the latest change, and
        [`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError] for a move the
        table does not have, or whose entry rules the opportunity does not meet.
        """
        checked = _pipeline(pipeline)
        self._stage_in(checked)
        target = checked.stage(stage).key
        instant = self._after(at)
        code = reason_code(reason)
        if target == self.stage:
            raise IllegalTransitionError(self.stage, target, "the opportunity is already there")
        row = checked.machine.row_between(
            self.stage, target, attrs.evolve(self._facts(), reason=code)
        )
        change = StageChange(
            at=instant,
            from_state=self.stage,
            to_state=target,
            move=row.move,
            reason=code,
            note=note,
        )
        moved = attrs.evolve(self, stage=target, stage_history=(*self.stage_history, change))
        return Outcome(moved, (fields.stage_event(moved, change),))

    def advance(self, at: datetime, pipeline: Pipeline, *, note: str = "") -> Outcome[Opportunity]:
        """Move to the next open stage."""
        nxt = _pipeline(pipeline).next_open_stage(self._stage_in(pipeline).key)
        if nxt is None or not self.is_open:
            raise IllegalTransitionError(self.stage, None, "there is no later open stage")
        return self.move_to(nxt.key, at, pipeline, note=note)

    def win(
        self,
        at: datetime,
        pipeline: Pipeline,
        *,
        stage: str | None = None,
        reason: str | None = None,
        note: str = "",
    ) -> Outcome[Opportunity]:
        """Close as won, in ``stage`` (default: the pipeline's first won stage)."""
        target = _pipeline(pipeline).won_stages[0].key if stage is None else stage
        if pipeline.stage(target).kind is not StageKind.WON:
            raise ValidationError("stage", target, "must be a won stage")
        return self.move_to(target, at, pipeline, reason=reason, note=note)

    def lose(
        self,
        at: datetime,
        pipeline: Pipeline,
        *,
        reason: str | None = None,
        stage: str | None = None,
        note: str = "",
    ) -> Outcome[Opportunity]:
        """Close as lost with a ``reason`` code, in ``stage`` (default: the first lost stage)."""
        target = _pipeline(pipeline).lost_stages[0].key if stage is None else stage
        if pipeline.stage(target).kind is not StageKind.LOST:
            raise ValidationError("stage", target, "must be a lost stage")
        return self.move_to(target, at, pipeline, reason=reason, note=note)

    def reopen(
        self, at: datetime, pipeline: Pipeline, *, stage: str | None = None, note: str = ""
    ) -> Outcome[Opportunity]:
        """Reopen a won or lost opportunity into ``stage`` (default: the stage it closed from)."""
        if self.is_open:
            raise IllegalTransitionError(self.stage, stage, "the opportunity is not closed")
        target = self.stage_history[-1].from_state if stage is None else stage
        return self.move_to(target, at, pipeline, note=note)

    def change_amount(self, amount: Money, at: datetime) -> Outcome[Opportunity]:
        """Revise the amount (same currency, not negative); only while open and without line
        items (with line items, use
        [`set_line_items()`][crmcore.sales.opportunities.Opportunity.set_line_items])."""
        new = fields.amount(amount)
        instant = self._after(at)
        self._must_be_open("amount")
        if self.line_items:
            raise ValidationError("amount", new, "is the line items' total: change the items")
        return self._revise_amount(new, instant, from_items=False, items=())

    def set_line_items(self, items: Iterable[LineItem], at: datetime) -> Outcome[Opportunity]:
        """Replace the line items; the amount becomes their total (empty: the amount stays)."""
        checked = fields.line_items(items)
        instant = self._after(at)
        self._must_be_open("line_items")
        new = line_items_total(checked, self.amount.currency) if checked else self.amount
        return self._revise_amount(new, instant, from_items=True, items=checked)

    def _revise_amount(
        self, new: Money, at: datetime, *, from_items: bool, items: tuple[LineItem, ...]
    ) -> Outcome[Opportunity]:
        if new.currency != self.amount.currency:
            raise ValidationError("amount", new, f"must stay in {self.amount.currency}")
        if new == self.amount:
            return Outcome(attrs.evolve(self, line_items=items) if from_items else self)
        change = AmountChange(at=at, old=self.amount, new=new)
        revised = attrs.evolve(
            self,
            amount=new,
            line_items=items if from_items else self.line_items,
            amount_history=(*self.amount_history, change),
        )
        event = ev.OpportunityAmountChanged(
            aggregate_id=self.id,
            occurred_at=at,
            old=self.amount,
            new=new,
            from_line_items=from_items,
        )
        return Outcome(revised, (event,))

    def change_close_date(self, close_date: date, at: datetime) -> Outcome[Opportunity]:
        """Move the expected close date (not before the day it was created); only while open."""
        new = fields.close_date(close_date)
        instant = self._after(at)
        self._must_be_open("close_date")
        if new < self.created_at.date():
            raise ValidationError(
                "close_date",
                new,
                f"must not be before the day it was created ({self.created_at.date()})",
            )
        if new == self.close_date:
            return Outcome(self)
        change = CloseDateChange(at=instant, old=self.close_date, new=new)
        moved = attrs.evolve(
            self, close_date=new, close_date_history=(*self.close_date_history, change)
        )
        event = ev.OpportunityCloseDateChanged(
            aggregate_id=self.id,
            occurred_at=instant,
            old=change.old,
            new=new,
            slipped=change.slipped,
        )
        return Outcome(moved, (event,))

    def reassign(self, owner: str, at: datetime) -> Outcome[Opportunity]:
        """Give the opportunity to another owner."""
        new = fields.owner(owner)
        instant = self._after(at)
        if new == self.owner:
            return Outcome(self)
        event = ev.OpportunityReassigned(
            aggregate_id=self.id, occurred_at=instant, old_owner=self.owner, new_owner=new
        )
        return Outcome(attrs.evolve(self, owner=new), (event,))

    def set_probability(self, value: Decimal | str | None, at: datetime) -> Outcome[Opportunity]:
        """Override the win probability (``None``: use the stage's default again)."""
        new = fields.probability_override(value)
        instant = self._after(at)
        if new == self.probability:
            return Outcome(self)
        event = ev.OpportunityProbabilitySet(
            aggregate_id=self.id, occurred_at=instant, probability=new
        )
        return Outcome(attrs.evolve(self, probability=new), (event,))

    # -- helpers ---------------------------------------------------------------------------------
    def _facts(self) -> MoveContext:
        return MoveContext.of(
            amount_positive=self.amount.amount > 0,
            has_account=self.account_id is not None,
            has_contact=self.customer_id is not None,
            has_line_items=bool(self.line_items),
        )

    def _after(self, at: datetime) -> datetime:
        instant = to_utc(at, "at")
        latest = self.last_changed_at
        if instant < latest:
            raise ValidationError("at", at, f"must not be before the latest change ({latest})")
        return instant

    def _must_be_open(self, field: str) -> None:
        if not self.is_open:
            raise ValidationError(
                field, self.stage, f"the opportunity is {self.status.value}: reopen it first"
            )

    def _stage_in(self, pipeline: Pipeline) -> PipelineStage:
        if _pipeline(pipeline).id != self.pipeline_id:
            raise ValidationError(
                "pipeline", pipeline.id, f"the opportunity runs in pipeline {self.pipeline_id!r}"
            )
        return pipeline.stage(self.stage)


def _pipeline(value: object) -> Pipeline:
    if not isinstance(value, Pipeline):
        raise ValidationError("pipeline", value, "must be a Pipeline")
    return value
