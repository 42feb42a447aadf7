"""Stateful property test: random advance / regress attempts against a simple model.

The model is a dictionary of entry times per stage, written independently of
the implementation from the documented rules: bad input → ValidationError, the
current stage → no-op, a move the rules or the policy forbid → IllegalTransitionError,
a move before the latest change → ValidationError, otherwise the move.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from crmcore.funnel import (
    DEFAULT_POLICY,
    FunnelPolicy,
    FunnelPosition,
    Stage,
    StageEntered,
    StageMove,
    StageRegressed,
)
from crmcore.kernel.codec import JSON, decode, encode
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.events import DomainEvent, Outcome

Expected = Literal["ok", "noop", "illegal", "invalid"]

BASE = datetime(2025, 1, 1, tzinfo=UTC)
STAGES = st.sampled_from(list(Stage))
POLICIES = st.one_of(
    st.just(DEFAULT_POLICY),
    st.builds(
        FunnelPolicy,
        allow_skips=st.booleans(),
        allow_regress=st.booleans(),
        lock_at=st.none() | STAGES,
    ),
)
# Hours relative to the latest change: negative steps go back in time.
STEPS = st.integers(min_value=-3, max_value=8)
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5))])
REASONS = st.sampled_from(["", "   ", "went cold", " refund  requested ", "x" * 201])
SOURCES = st.none() | st.sampled_from(["I-1", "ad-17", "case:9"])


class FunnelMachine(RuleBasedStateMachine):
    """Drives one position; ``entries`` is the model of its entry times in the current run."""

    def __init__(self) -> None:
        super().__init__()
        self.position: FunnelPosition | None = None
        self.entries: dict[Stage, datetime] = {}
        self.last = BASE
        self.highest = Stage.AWARENESS
        self.events: list[DomainEvent] = []

    @property
    def p(self) -> FunnelPosition:
        assert self.position is not None
        return self.position

    @property
    def stage(self) -> Stage:
        return max(self.entries)

    # -- steps -----------------------------------------------------------------------------
    @initialize(stage=STAGES, policy=POLICIES, minutes=st.integers(0, 10**6), zone=ZONES)
    def start(self, stage: Stage, policy: FunnelPolicy, minutes: int, zone: timezone) -> None:
        at = (BASE + timedelta(minutes=minutes)).astimezone(zone)
        if stage > Stage.AWARENESS and not policy.allow_skips:
            with pytest.raises(IllegalTransitionError):
                FunnelPosition.start("C-1", stage, at, policy=policy)
            stage = Stage.AWARENESS
        outcome = FunnelPosition.start("C-1", stage, at, source="I-0", policy=policy)
        self.position = outcome.value
        self.entries = {s: at for s in Stage if s <= stage}
        self.last = at
        self.highest = stage
        self.events = list(outcome.events)
        assert len(outcome.events) == stage

    @rule(to=STAGES, hours=STEPS, policy=POLICIES, source=SOURCES, zone=ZONES)
    def advance(
        self, to: Stage, hours: int, policy: FunnelPolicy, source: str | None, zone: timezone
    ) -> None:
        at = (self.last + timedelta(hours=hours)).astimezone(zone)
        expected: Expected
        if to == self.stage:
            expected = "noop"
        elif to < self.stage or (to > self.stage + 1 and not policy.allow_skips):
            expected = "illegal"
        elif at < self.last:
            expected = "invalid"
        else:
            expected = "ok"
        old = self.stage
        outcome = self.attempt(
            lambda: self.p.advance(to, at, source=source, policy=policy), expected
        )
        if outcome is not None:
            assert len(outcome.events) == to - old
            assert all(isinstance(e, StageEntered) and e.source == source for e in outcome.events)
            for stage in Stage:
                if old < stage <= to:
                    self.entries[stage] = at
            self.last = at
            self.highest = max(self.highest, to)

    @rule(to=STAGES, hours=STEPS, policy=POLICIES, reason=REASONS)
    def regress(self, to: Stage, hours: int, policy: FunnelPolicy, reason: str) -> None:
        at = self.last + timedelta(hours=hours)
        expected: Expected
        if not reason.strip() or len(" ".join(reason.split())) > 200:
            expected = "invalid"
        elif to == self.stage:
            expected = "noop"
        elif (
            to > self.stage
            or not policy.allow_regress
            or (policy.lock_at is not None and to < policy.lock_at <= self.stage)
        ):
            expected = "illegal"
        elif at < self.last:
            expected = "invalid"
        else:
            expected = "ok"
        old = self.stage
        outcome = self.attempt(lambda: self.p.regress(to, at, reason, policy=policy), expected)
        if outcome is not None:
            regressed, entered = outcome.events
            assert isinstance(regressed, StageRegressed)
            assert (regressed.stage, regressed.previous) == (to, old)
            assert regressed.reason == " ".join(reason.split())
            assert isinstance(entered, StageEntered) and entered.how is StageMove.REGRESS
            self.entries = {s: t for s, t in self.entries.items() if s < to}
            self.entries[to] = at
            self.last = at

    @rule(to=STAGES, hours=STEPS)
    def naive_times_are_refused(self, to: Stage, hours: int) -> None:
        naive = (self.last + timedelta(hours=hours)).replace(tzinfo=None)
        self.attempt(lambda: self.p.advance(to, naive), "invalid")
        self.attempt(lambda: self.p.regress(to, naive, "cold"), "invalid")

    @rule(label=st.sampled_from(["lead", "", "8", "customer"]))
    def unknown_stages_are_refused(self, label: str) -> None:
        self.attempt(lambda: self.p.advance(label, self.last), "invalid")

    def attempt(
        self, move: Callable[[], Outcome[FunnelPosition]], expected: Expected
    ) -> Outcome[FunnelPosition] | None:
        """Run ``move``; check it did what the model expects. Returns the outcome of a real move."""
        before = self.p
        snapshot = encode(before)
        if expected in ("illegal", "invalid"):
            error = IllegalTransitionError if expected == "illegal" else ValidationError
            with pytest.raises(error):
                move()
            assert self.p is before and encode(self.p) == snapshot  # nothing changed
            return None
        outcome = move()
        if expected == "noop":
            assert outcome.value is before and outcome.events == ()
            return None
        assert encode(before) == snapshot  # the old value is untouched
        assert outcome.value.history[: len(before.history)] == before.history
        self.position = outcome.value
        self.events.extend(outcome.events)
        return outcome

    # -- invariants ------------------------------------------------------------------------
    @invariant()
    def stage_matches_the_model(self) -> None:
        if self.position is not None:
            assert self.p.stage == self.stage
            assert self.p.highest_stage == self.highest

    @invariant()
    def entry_times_match_the_model_and_are_ordered(self) -> None:
        if self.position is None:
            return
        times = self.p.entry_times()
        assert times == self.entries
        assert list(times) == [s for s in Stage if s <= self.p.stage]  # every stage ≤ current
        values = list(times.values())
        assert values == sorted(values)
        assert all(self.p.reached(s) == (s in times) for s in Stage)
        assert all(self.p.entered_at(s) == times.get(s) for s in Stage)

    @invariant()
    def history_times_never_go_backwards(self) -> None:
        if self.position is None:
            return
        times = [c.at for c in self.p.history]
        assert times == sorted(times)
        assert self.p.last_changed_at == times[-1] == self.last
        assert self.p.stage_at(self.last) == self.p.stage

    @invariant()
    def entered_events_replay_the_history(self) -> None:
        if self.position is None:
            return
        entered = [e for e in self.events if isinstance(e, StageEntered)]
        assert [(e.stage, e.how, e.occurred_at) for e in entered] == [
            (c.stage, c.how, c.at) for c in self.p.history
        ]

    @invariant()
    def survives_the_codec(self) -> None:
        if self.position is not None:
            data: JSON = encode(self.p)
            assert decode(FunnelPosition, data) == self.p


FunnelMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestFunnelMachine = FunnelMachine.TestCase
