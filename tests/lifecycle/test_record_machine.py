"""Stateful property test: random triggers and moves against a model built from the table."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from crmcore.kernel.codec import decode, encode
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.lifecycle import (
    EVENT_FOR_KIND,
    INITIAL_STATE,
    TRANSITIONS,
    Evidence,
    Lifecycle,
    LifecycleState,
    Reason,
    Trigger,
)

from .helpers import JUSTIFIES, T0

#: The model: (state, trigger) -> (target, kind), straight from the table's rows.
MOVES = {(row.source, row.trigger): (row.target, row.kind) for row in TRANSITIONS}
BY_TARGET = {(row.source, row.target): row.trigger for row in TRANSITIONS}

REASONS = st.frozensets(st.sampled_from(list(Reason)), max_size=3)
STEP = st.integers(min_value=0, max_value=72).map(lambda h: timedelta(hours=h))


class LifecycleMachine(RuleBasedStateMachine):
    """Drive a record with random triggers; a plain model predicts every outcome."""

    def __init__(self) -> None:
        super().__init__()
        self.record = Lifecycle("c-1")
        self.state = INITIAL_STATE
        self.changes: list[tuple[datetime, LifecycleState]] = []
        self.now = T0

    def _evidence(self, at: datetime, reasons: frozenset[Reason], target: LifecycleState | None,
                  justify: bool) -> Evidence:  # fmt: skip
        if justify and target is not None:
            reasons = reasons | JUSTIFIES[target]
        return Evidence(at, reasons, 0.25)

    def _accept(self, outcome_value: Lifecycle, events: tuple[object, ...], at: datetime,
                target: LifecycleState) -> None:  # fmt: skip
        kind = MOVES[self.state, BY_TARGET[self.state, target]][1]
        assert outcome_value.state is target
        assert len(events) == 1 and type(events[0]) is EVENT_FOR_KIND[kind]
        self.record, self.state, self.now = outcome_value, target, at
        self.changes.append((at, target))

    @rule(trigger=st.sampled_from(list(Trigger)), reasons=REASONS, justify=st.booleans(),
          step=STEP)  # fmt: skip
    def fire(self, trigger: Trigger, reasons: frozenset[Reason], justify: bool,
             step: timedelta) -> None:  # fmt: skip
        at = self.now + step
        move = MOVES.get((self.state, trigger))
        evidence = self._evidence(at, reasons, move[0] if move else None, justify)
        if move is None or not (evidence.reasons and set(evidence.reasons) & JUSTIFIES[move[0]]):
            with pytest.raises(IllegalTransitionError):
                self.record.fire(trigger, at, evidence)
            return
        outcome = self.record.fire(trigger, at, evidence)
        self._accept(outcome.value, outcome.events, at, move[0])

    @rule(goal=st.sampled_from(list(LifecycleState)), reasons=REASONS, justify=st.booleans(),
          step=STEP)  # fmt: skip
    def move_to(self, goal: LifecycleState, reasons: frozenset[Reason], justify: bool,
                step: timedelta) -> None:  # fmt: skip
        target = goal
        at = self.now + step
        evidence = self._evidence(at, reasons, target, justify)
        if target is self.state:
            outcome = self.record.move_to(target, at, evidence)
            assert outcome.value is self.record and outcome.events == ()
            return
        legal = (self.state, target) in BY_TARGET and set(evidence.reasons) & JUSTIFIES[target]
        if not legal:
            with pytest.raises(IllegalTransitionError) as caught:
                self.record.move_to(target, at, evidence)
            assert caught.value.from_state is self.state
            assert caught.value.to_state is target
            return
        outcome = self.record.move_to(target, at, evidence)
        self._accept(outcome.value, outcome.events, at, target)

    @precondition(lambda self: bool(self.changes))
    @rule(back=st.integers(min_value=1, max_value=10_000))
    def a_change_before_the_last_is_refused(self, back: int) -> None:
        at = self.now - timedelta(seconds=back)
        for target in LifecycleState:
            if (self.state, target) in BY_TARGET:
                with pytest.raises(ValidationError, match="before the last change"):
                    self.record.move_to(target, at, Evidence(at, JUSTIFIES[target]))

    @rule(hours=st.integers(min_value=-24, max_value=24 * 40))
    def state_as_of(self, hours: int) -> None:
        when = T0 + timedelta(hours=hours)
        expected = INITIAL_STATE
        for at, target in self.changes:
            if at <= when:
                expected = target
        assert self.record.state_at(when) is expected

    @invariant()
    def history_is_consistent(self) -> None:
        record = self.record
        assert record.state is self.state
        assert [(c.at, c.to_state) for c in record.history] == self.changes
        previous = INITIAL_STATE
        for change in record.history:
            assert change.from_state is previous
            assert MOVES[change.from_state, change.trigger] == (change.to_state, change.kind)
            previous = change.to_state
        assert decode(Lifecycle, encode(record)) == record


LifecycleMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLifecycleMachine = LifecycleMachine.TestCase
