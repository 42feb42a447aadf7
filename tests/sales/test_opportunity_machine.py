"""A stateful hypothesis test of the opportunity aggregate against a model of its pipeline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from crmcore.kernel import codec
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.money import Money
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.pipeline import DEFAULT_PIPELINE, Pipeline
from crmcore.sales.pipeline_stages import StageKind, StageRequirement

from .opportunity_strategies import STRICT

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
steps = st.integers(0, 5 * 24 * 60).map(lambda m: timedelta(minutes=m))


class OpportunityMachine(RuleBasedStateMachine):
    """Random operations; the model (written from the pipeline's flags, not its table) says which
    are allowed and where they lead."""

    @initialize(
        pipeline=st.sampled_from([DEFAULT_PIPELINE, STRICT]),
        cents=st.integers(0, 10_000),
        account=st.booleans(),
    )
    def start(self, pipeline: Pipeline, cents: int, account: bool) -> None:
        self.pipeline = pipeline
        self.deal = Opportunity.open(
            "opp",
            pipeline,
            owner="ann",
            amount=Money.of_minor(cents, "EUR"),
            close_date=date(2026, 4, 1),
            at=T0,
            account_id="acme" if account else None,
        ).value
        self.now = T0
        self.stage = pipeline.first_stage.key
        self.cents = cents
        self.close = date(2026, 4, 1)
        self.moves = 0
        self.account = account

    def expect_move(self, target: str, reason: str | None) -> bool:
        p = self.pipeline
        here, there = p.stage(self.stage), p.stage(target)
        if target == self.stage:
            return False
        needs = {StageRequirement.AMOUNT: self.cents > 0, StageRequirement.ACCOUNT: self.account}
        if not all(needs.get(r, False) for r in there.requires):
            return False
        if here.kind is not StageKind.OPEN:
            return there.kind is StageKind.OPEN and p.allow_reopen
        if there.kind is StageKind.LOST:
            return reason is not None or not p.require_lost_reason
        if there.kind is StageKind.WON:
            return True
        i, j = p.open_stages.index(here), p.open_stages.index(there)
        if j < i:
            return p.allow_backward
        return p.allow_skip or j == i + 1

    @rule(data=st.data(), step=steps, reason=st.none() | st.just("price"))
    def move(self, data: st.DataObject, step: timedelta, reason: str | None) -> None:
        target = data.draw(st.sampled_from(self.pipeline.keys))
        at = self.now + step
        expected = self.expect_move(target, reason)
        before = self.deal
        try:
            outcome = self.deal.move_to(target, at, self.pipeline, reason=reason)
        except IllegalTransitionError:
            assert not expected, f"{self.stage} -> {target} refused"
            assert self.deal is before
            return
        assert expected, f"{self.stage} -> {target} accepted"
        assert len(outcome.events) == 1
        self.deal, self.now, self.stage, self.moves = outcome.value, at, target, self.moves + 1
        event(f"moved to a {self.pipeline.stage(target).kind.value} stage")

    @rule(step=steps, cents=st.integers(-5, 10_000))
    def change_amount(self, step: timedelta, cents: int) -> None:
        at = self.now + step
        allowed = cents >= 0 and self.pipeline.stage(self.stage).is_open
        try:
            outcome = self.deal.change_amount(Money.of_minor(cents, "EUR"), at)
        except ValidationError:
            assert not allowed
            return
        assert allowed
        assert bool(outcome.events) == (cents != self.cents)
        if outcome.events:  # a change to the same amount records nothing
            self.deal, self.now, self.cents = outcome.value, at, cents

    @rule(step=steps, shift=st.integers(-60, 60))
    def change_close_date(self, step: timedelta, shift: int) -> None:
        at = self.now + step
        new = self.close + timedelta(days=shift)
        allowed = new >= T0.date() and self.pipeline.stage(self.stage).is_open
        try:
            outcome = self.deal.change_close_date(new, at)
        except ValidationError:
            assert not allowed
            return
        assert allowed
        assert bool(outcome.events) == (new != self.close)
        if outcome.events:
            self.deal, self.now, self.close = outcome.value, at, new

    @rule(step=steps)
    def out_of_order(self, step: timedelta) -> None:
        if step:
            with pytest.raises(ValidationError, match="latest change"):
                self.deal.change_amount(Money(1, "EUR"), self.now - step)

    @rule()
    def round_trip(self) -> None:
        assert codec.decode(Opportunity, codec.encode(self.deal, Opportunity)) == self.deal

    @invariant()
    def matches_the_model(self) -> None:
        d = self.deal
        assert (d.stage, d.amount.to_minor(), d.close_date) == (self.stage, self.cents, self.close)
        assert len(d.stage_history) == self.moves
        assert d.status is self.pipeline.stage(self.stage).kind
        d.check(self.pipeline)

    @invariant()
    def history_answers_the_present(self) -> None:
        d = self.deal
        later = self.now + timedelta(days=1)
        assert d.stage_at(later) == d.stage and d.amount_at(later) == d.amount
        assert d.close_date_at(later) == d.close_date and d.status_at(later) is d.status
        assert d.stage_periods(later)[-1].stage == d.stage


OpportunityMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None
)
test_opportunity_machine = OpportunityMachine.TestCase
