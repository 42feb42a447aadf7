"""Improvement actions: status table, history checks, events, codec round trip, measured effect."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from crmcore.feedback.feedback import Feedback
from crmcore.feedback.improvement import (
    ACTION_TRANSITIONS,
    ActionChange,
    ActionPlanned,
    ActionReassigned,
    ActionStatus,
    ActionStatusChanged,
    ActionTrigger,
    ImprovementAction,
)
from crmcore.feedback.improvement_effect import measure_effect
from crmcore.feedback.survey_scores import csat, nps
from crmcore.kernel import codec
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.events import event_from_json

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def planned(**overrides: object) -> ImprovementAction:
    kwargs: dict[str, object] = {
        "id": "act-1",
        "title": "Same-day refunds",
        "themes": ["Refunds", "billing"],
        "owner": "ops-team",
        "at": T0,
    }
    kwargs.update(overrides)
    return ImprovementAction.plan(**kwargs).value  # type: ignore[arg-type]


def done(start: datetime, end: datetime) -> ImprovementAction:
    return planned(at=start - timedelta(days=1)).start(start).value.complete(end).value


# -- status table -----------------------------------------------------------------------------


def test_plan_normalises_and_raises_event() -> None:
    outcome = ImprovementAction.plan(
        "act-1", " Same-day refunds ", ["Refunds", "refunds", "Billing"], "ops", at=T0
    )
    action = outcome.value
    assert action.themes == ("billing", "refunds") and action.title == "Same-day refunds"
    assert action.status is ActionStatus.PLANNED and action.history == ()
    (event,) = outcome.events
    assert isinstance(event, ActionPlanned) and event.themes == ("billing", "refunds")
    assert event_from_json(event.kind, event.payload()) == event


def test_full_lifecycle_records_dates_and_events() -> None:
    action = planned()
    started = action.start(T0 + timedelta(days=1))
    (event,) = started.events
    assert isinstance(event, ActionStatusChanged)
    assert (event.from_status, event.to_status, event.trigger) == (
        ActionStatus.PLANNED,
        ActionStatus.IN_PROGRESS,
        ActionTrigger.START,
    )
    finished = started.value.complete(T0 + timedelta(days=9), note="rolled out").value
    assert finished.status is ActionStatus.DONE
    assert finished.started_at == T0 + timedelta(days=1)
    assert finished.done_at == T0 + timedelta(days=9)
    assert finished.dropped_at is None and finished.history[-1].note == "rolled out"
    assert action.status is ActionStatus.PLANNED  # the original is unchanged


@pytest.mark.parametrize(
    ("path", "trigger"),
    [
        ([], "complete"),
        (["start"], "start"),
        (["start", "complete"], "drop"),
        (["drop"], "start"),
        (["start", "drop"], "complete"),
    ],
)
def test_moves_not_in_the_table_are_illegal(path: list[str], trigger: str) -> None:
    action = planned()
    for i, step in enumerate(path):
        action = action.fire(step, T0 + timedelta(days=i + 1)).value
    with pytest.raises(IllegalTransitionError) as info:
        action.fire(trigger, T0 + timedelta(days=10))
    error = info.value
    assert (error.from_state, error.to_state, error.trigger) == (action.status, None, trigger)


def test_table_is_the_whole_machine() -> None:
    pairs = {(r.source, r.trigger, r.target) for r in ACTION_TRANSITIONS}
    assert pairs == {
        (ActionStatus.PLANNED, ActionTrigger.START, ActionStatus.IN_PROGRESS),
        (ActionStatus.PLANNED, ActionTrigger.DROP, ActionStatus.DROPPED),
        (ActionStatus.IN_PROGRESS, ActionTrigger.COMPLETE, ActionStatus.DONE),
        (ActionStatus.IN_PROGRESS, ActionTrigger.DROP, ActionStatus.DROPPED),
    }
    assert not any(r.source.is_final for r in ACTION_TRANSITIONS)


def test_time_never_goes_back_and_bad_fields_are_named() -> None:
    action = planned()
    with pytest.raises(ValidationError, match="at"):
        action.start(T0 - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="timezone-aware"):
        action.start(datetime(2026, 3, 2))
    with pytest.raises(ValidationError, match="trigger"):
        action.fire("launch", T0)
    for field, value in [
        ("themes", []),
        ("themes", "refunds"),
        ("title", " "),
        ("owner", ""),
        ("id", ""),
        ("due_on", datetime(2026, 1, 1, tzinfo=UTC)),
    ]:
        with pytest.raises(ValidationError) as info:
            planned(**{field: value})
        assert info.value.field.startswith(field)


def test_constructor_rechecks_history() -> None:
    change = ActionChange(T0 + timedelta(days=1), "planned", "done", "complete")
    with pytest.raises(ValidationError, match="not a row"):
        ImprovementAction(
            id="a",
            title="t",
            themes=["x"],
            owner="o",
            planned_at=T0,
            history=[change],
            status="done",
        )
    start = ActionChange(T0 + timedelta(days=1), "planned", "in_progress", "start")
    with pytest.raises(ValidationError, match="status"):
        ImprovementAction(
            id="a", title="t", themes=["x"], owner="o", planned_at=T0, history=[start]
        )
    early = ActionChange(T0 - timedelta(days=1), "planned", "in_progress", "start")
    with pytest.raises(ValidationError, match="before"):
        ImprovementAction(
            id="a",
            title="t",
            themes=["x"],
            owner="o",
            planned_at=T0,
            history=[early],
            status="in_progress",
        )


def test_reassign_and_overdue() -> None:
    action = planned(due_on=date(2026, 3, 10))
    outcome = action.reassign("cx-team", T0 + timedelta(days=1))
    assert outcome.value.owner == "cx-team" and isinstance(outcome.events[0], ActionReassigned)
    assert action.reassign("ops-team", T0).events == ()
    assert not action.is_overdue(datetime(2026, 3, 10, 23, tzinfo=UTC))
    assert action.is_overdue(datetime(2026, 3, 11, tzinfo=UTC))
    finished = action.start(T0).value.complete(T0 + timedelta(days=30)).value
    assert not finished.is_overdue(datetime(2026, 5, 1, tzinfo=UTC))
    with pytest.raises(IllegalTransitionError):
        finished.reassign("someone", T0 + timedelta(days=31))


def test_codec_round_trip() -> None:
    action = planned(due_on=date(2026, 4, 1)).start(T0 + timedelta(hours=5)).value
    action = action.drop(T0 + timedelta(days=2), note="superseded").value
    action = attrs.evolve(action, version=3)
    data = codec.encode(action, ImprovementAction)
    assert json.loads(json.dumps(data)) == data
    decoded = codec.decode(ImprovementAction, data)
    assert decoded == action and decoded.version == 3
    broken = dict(data)  # type: ignore[arg-type]
    broken["status"] = "done"
    with pytest.raises(ValidationError):
        codec.decode(ImprovementAction, broken)


class ActionMachine(RuleBasedStateMachine):
    """Random walks through the table: status and history always agree."""

    def __init__(self) -> None:
        super().__init__()
        self.action = planned()
        self.now = T0

    @rule(trigger=st.sampled_from(list(ActionTrigger)), minutes=st.integers(0, 5000))
    def fire(self, trigger: ActionTrigger, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        legal = any(
            r.source is self.action.status and r.trigger is trigger for r in ACTION_TRANSITIONS
        )
        if legal:
            before = len(self.action.history)
            self.action = self.action.fire(trigger, self.now).value
            assert len(self.action.history) == before + 1
        else:
            with pytest.raises(IllegalTransitionError):
                self.action.fire(trigger, self.now)

    @precondition(lambda self: not self.action.status.is_final)
    @rule()
    def reassign(self) -> None:
        self.action = self.action.reassign(f"owner-{len(self.action.history)}", self.now).value

    @invariant()
    def consistent(self) -> None:
        rebuilt = ImprovementAction(
            id=self.action.id,
            title=self.action.title,
            themes=self.action.themes,
            owner=self.action.owner,
            planned_at=self.action.planned_at,
            status=self.action.status,
            history=self.action.history,
        )
        assert rebuilt == self.action
        assert codec.decode(ImprovementAction, codec.encode(self.action)) == self.action
        times = [c.at for c in self.action.history]
        assert times == sorted(times)


ActionMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=12, deadline=None)
TestActionMachine = ActionMachine.TestCase


# -- measured effect ----------------------------------------------------------------------------


def fb(
    i: int,
    day: float,
    themes: list[str],
    nps_score: int | None = None,
    csat_score: int | None = None,
) -> Feedback:
    scores = {}
    if nps_score is not None:
        scores["nps"] = nps_score
    if csat_score is not None:
        scores["csat"] = csat_score
    return Feedback(
        id=f"f{i}",
        customer_id=f"c{i}",
        channel="survey",
        kind="complaint",
        at=T0 + timedelta(days=day),
        scores=scores,
        themes=themes,
    )


def test_effect_compares_equal_windows_with_counts() -> None:
    action = done(T0, T0 + timedelta(days=10))  # effect date: day 10
    items = [
        fb(0, 1, ["refunds"], 2, 1),  # before
        fb(1, 5, ["billing"], 3, 2),  # before
        fb(2, 6, ["delivery"], 9),  # before, other theme
        fb(3, 9.9, [], 10),  # before, untagged
        fb(4, 12, ["refunds"], 9, 5),  # after
        fb(5, 15, ["delivery"], 2),  # after, other theme
        fb(6, 40, ["refunds"], 0),  # outside the 14-day after window
        fb(7, -10, ["refunds"], 0),  # outside the before window
    ]
    effect = measure_effect(action, items, as_of=T0 + timedelta(days=60), window=timedelta(days=14))
    assert effect.at == T0 + timedelta(days=10) and not effect.truncated
    assert effect.before.start == T0 - timedelta(days=4)
    assert (effect.before.feedback, effect.before.tagged) == (4, 2)
    assert (effect.after.feedback, effect.after.tagged) == (2, 1)
    assert effect.share_change == pytest.approx(0.5 - 0.5)
    assert effect.before.nps is not None and effect.before.nps.value == nps([2, 3]).value
    assert effect.after.nps is not None and effect.after.nps.n == 1
    assert effect.nps_change == pytest.approx(100 - -100)
    assert effect.csat_change == pytest.approx(csat([5]).value - csat([1, 2]).value)
    data = effect.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert "Effect of act-1" in effect._repr_html_()


def test_effect_window_shrinks_to_as_of() -> None:
    action = done(T0, T0 + timedelta(days=10))
    items = [fb(0, 2, ["refunds"], 2), fb(1, 8, ["refunds"], 3), fb(2, 11, ["refunds"], 9)]
    effect = measure_effect(action, items, as_of=T0 + timedelta(days=13))
    assert effect.truncated and effect.window == timedelta(days=3)
    assert effect.before.start == T0 + timedelta(days=7)
    assert (effect.before.tagged, effect.after.tagged) == (1, 1)


def test_effect_without_data_reports_none() -> None:
    action = done(T0, T0 + timedelta(days=10))
    effect = measure_effect(action, [fb(0, 12, ["other"])], as_of=T0 + timedelta(days=30))
    assert effect.before.share is None and effect.after.share == 0.0
    assert effect.nps_change is None and effect.share_change is None and effect.csat_change is None


def test_effect_needs_a_date_and_a_later_as_of() -> None:
    running = planned().start(T0 + timedelta(days=1)).value
    with pytest.raises(ValidationError, match="pass at="):
        measure_effect(running, [], as_of=T0 + timedelta(days=5))
    effect = measure_effect(running, [], as_of=T0 + timedelta(days=5), at=running.started_at)
    assert effect.at == T0 + timedelta(days=1)
    with pytest.raises(ValidationError, match="as_of"):
        measure_effect(running, [], as_of=T0, at=T0 + timedelta(days=1))
    with pytest.raises(ValidationError, match="window"):
        measure_effect(running, [], as_of=T0 + timedelta(days=5), at=T0, window=timedelta(0))
    with pytest.raises(ValidationError, match="action"):
        measure_effect("act-1", [], as_of=T0)  # type: ignore[arg-type]


@given(
    st.lists(
        st.tuples(
            st.floats(-40, 80, allow_nan=False),
            st.lists(st.sampled_from(["refunds", "billing", "delivery"]), max_size=2),
            st.none() | st.integers(0, 10),
        ),
        max_size=40,
    ),
    st.integers(1, 30),
)
@settings(max_examples=40, deadline=None)
def test_effect_agrees_with_plain_python(
    rows: list[tuple[float, list[str], int | None]], days: int
) -> None:
    action = done(T0, T0 + timedelta(days=10))
    items = [fb(i, day, themes, score) for i, (day, themes, score) in enumerate(rows)]
    as_of = T0 + timedelta(days=100)
    effect = measure_effect(action, items, as_of=as_of, window=timedelta(days=days))
    pivot = T0 + timedelta(days=10)
    for measure, lo, hi in (
        (effect.before, pivot - timedelta(days=days), pivot),
        (effect.after, pivot, pivot + timedelta(days=days)),
    ):
        inside = [f for f in items if lo <= f.at < hi]
        tagged = [f for f in inside if set(f.themes) & {"refunds", "billing"}]
        assert (measure.feedback, measure.tagged) == (len(inside), len(tagged))
        scores = [f.score("nps") for f in tagged if f.score("nps") is not None]
        if scores:
            assert measure.nps is not None and measure.nps.value == pytest.approx(nps(scores).value)
        else:
            assert measure.nps is None
