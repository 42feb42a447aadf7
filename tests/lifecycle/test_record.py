"""The lifecycle record: moves by the table, evidence, events, as-of queries, storage."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import attrs
import pytest

from crmcore.kernel.codec import decode, encode
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.events import event_from_json
from crmcore.lifecycle import (
    ChurnWarning,
    Classification,
    CustomerChurned,
    CustomerReactivated,
    Evidence,
    Lifecycle,
    LifecycleChange,
    LifecycleChanged,
    LifecycleState,
    Reason,
    TransitionKind,
    Trigger,
    classify,
    reclassify,
    replay,
)
from crmcore.storage.kinds import AggregateKind
from crmcore.storage.memory import MemoryStore
from crmcore.storage.sqlite import SqliteStore

from .helpers import T0, evidence_for

S = LifecycleState
DAY = timedelta(days=1)


def walk(*states: LifecycleState) -> Lifecycle:
    """A record moved through ``states``, one day apart from T0."""
    record = Lifecycle("c-1")
    for i, state in enumerate(states):
        at = T0 + i * DAY
        record = record.move_to(state, at, evidence_for(state, at)).value
    return record


def test_a_new_record_is_a_prospect_with_no_history() -> None:
    record = Lifecycle("c-1")
    assert record.state is S.PROSPECT and record.history == () and record.version == 0
    assert record.entered_at is None and record.last_change is None
    assert record.state_at(T0) is S.PROSPECT


def test_fire_applies_the_table_row_and_raises_one_event() -> None:
    evidence = evidence_for(S.NEW)
    outcome = Lifecycle("c-1").fire(Trigger.FIRST_PURCHASE, T0, evidence)
    record = outcome.value
    assert record.state is S.NEW
    assert record.history == (
        LifecycleChange(T0, S.PROSPECT, S.NEW, Trigger.FIRST_PURCHASE,
                        TransitionKind.ACQUISITION, evidence),
    )  # fmt: skip
    (event,) = outcome.events
    assert isinstance(event, LifecycleChanged)
    assert (event.aggregate_id, event.from_state, event.to_state) == ("c-1", S.PROSPECT, S.NEW)
    assert event.reasons == (Reason.FIRST_PURCHASE_RECENT,) and event.risk_score == 0.5


def test_fire_accepts_trigger_names() -> None:
    record = Lifecycle("c-1").fire("first_purchase", T0, evidence_for(S.NEW)).value
    assert record.state is S.NEW
    with pytest.raises(ValidationError, match="trigger"):
        record.fire("sparkle", T0, evidence_for(S.NEW))


def test_a_trigger_without_a_row_is_an_illegal_transition() -> None:
    with pytest.raises(IllegalTransitionError) as caught:
        Lifecycle("c-1").fire(Trigger.GROW, T0, evidence_for(S.GROWTH)).value.fire(
            Trigger.FIRST_PURCHASE, T0, evidence_for(S.NEW)
        )
    error = caught.value
    # No row leads anywhere: the trigger is named as the trigger, not as a target.
    assert (error.from_state, error.to_state, error.trigger) == (
        S.GROWTH,
        None,
        Trigger.FIRST_PURCHASE,
    )
    assert "allowed: mature, decline, churn" in error.why


def test_a_move_without_a_row_names_from_and_to() -> None:
    record = walk(S.NEW, S.GROWTH)
    with pytest.raises(IllegalTransitionError) as caught:
        record.move_to(S.NEW, T0 + 5 * DAY, evidence_for(S.NEW, T0 + 5 * DAY))
    assert (caught.value.from_state, caught.value.to_state) == (S.GROWTH, S.NEW)
    assert "no move from growth to new" in str(caught.value)
    with pytest.raises(IllegalTransitionError, match="never becomes a prospect again"):
        record.move_to(S.PROSPECT, T0 + 5 * DAY, evidence_for(S.PROSPECT, T0 + 5 * DAY))


def test_the_guard_demands_evidence_for_the_target() -> None:
    wrong = Evidence(T0 + 3 * DAY, [Reason.FREQUENCY_UP], 0.1)
    with pytest.raises(IllegalTransitionError) as caught:
        walk(S.NEW, S.MATURE).move_to(S.DECLINE, T0 + 3 * DAY, wrong)
    assert "guard 'decline_signal'" in caught.value.why
    assert "frequency_up" in caught.value.why


def test_no_change_no_event_but_the_time_is_still_checked() -> None:
    record = walk(S.NEW, S.GROWTH)
    outcome = record.move_to(S.GROWTH, T0 + 9 * DAY, evidence_for(S.GROWTH, T0 + 9 * DAY))
    assert outcome.value is record and outcome.events == ()
    with pytest.raises(ValidationError, match="before the last change"):
        record.move_to(S.GROWTH, T0, evidence_for(S.GROWTH))


def test_times_must_be_aware_ordered_and_not_before_the_evidence() -> None:
    record = walk(S.NEW)
    with pytest.raises(ValidationError, match="timezone-aware"):
        record.move_to(S.GROWTH, datetime(2026, 1, 5), evidence_for(S.GROWTH))
    with pytest.raises(ValidationError, match="before the last change"):
        record.move_to(S.GROWTH, T0 - DAY, evidence_for(S.GROWTH, T0 - 2 * DAY))
    with pytest.raises(ValidationError, match=r"evidence\.as_of"):
        record.move_to(S.GROWTH, T0 + DAY, evidence_for(S.GROWTH, T0 + 2 * DAY))
    with pytest.raises(ValidationError, match="stale"):
        walk(S.NEW, S.GROWTH).move_to(S.MATURE, T0 + 5 * DAY, evidence_for(S.MATURE, T0))
    with pytest.raises(ValidationError, match="must be Evidence"):
        record.move_to(S.GROWTH, T0 + DAY, "because")  # type: ignore[arg-type]


def test_events_per_kind_warning_churn_reactivation() -> None:
    record = walk(S.NEW, S.MATURE)
    at = T0 + 10 * DAY
    warning = Evidence(at, [Reason.FREQUENCY_DOWN, Reason.SPEND_DOWN], 0.625)
    outcome = record.move_to(S.DECLINE, at, warning)
    (event,) = outcome.events
    assert isinstance(event, ChurnWarning) and event.transition is TransitionKind.WARNING
    assert event.risk_score == 0.625
    assert event.reasons == (Reason.FREQUENCY_DOWN, Reason.SPEND_DOWN)
    churned = outcome.value.move_to(S.CHURNED, at + DAY, evidence_for(S.CHURNED, at + DAY, 1.0))
    assert isinstance(churned.events[0], CustomerChurned)
    back = churned.value.move_to(S.GROWTH, at + 2 * DAY, evidence_for(S.GROWTH, at + 2 * DAY))
    (won,) = back.events
    assert isinstance(won, CustomerReactivated) and won.from_state is S.CHURNED
    assert back.value.last_change is not None and back.value.last_change.is_reactivation
    # events survive the outbox's JSON round trip
    for e in (*outcome.events, *churned.events, *back.events):
        assert event_from_json(e.kind, e.payload()) == e


def test_win_back_from_decline_is_a_reactivation_but_churned_to_decline_is_a_warning() -> None:
    from_decline = walk(S.NEW, S.DECLINE, S.MATURE)
    assert from_decline.history[-1].kind is TransitionKind.REACTIVATION
    relapse = walk(S.NEW, S.CHURNED, S.DECLINE)
    assert relapse.history[-1].is_warning


def test_state_at_answers_for_any_time_backward_moves_included() -> None:
    record = walk(S.NEW, S.GROWTH, S.MATURE, S.DECLINE, S.MATURE, S.DECLINE, S.CHURNED)
    assert record.state_at(T0 - DAY) is S.PROSPECT
    assert record.state_at(T0) is S.NEW
    assert record.state_at(T0 + 3 * DAY - timedelta(microseconds=1)) is S.MATURE
    assert record.state_at(T0 + 3 * DAY) is S.DECLINE
    assert record.state_at(T0 + 4 * DAY + timedelta(hours=3)) is S.MATURE
    assert record.state_at(T0 + 100 * DAY) is S.CHURNED
    other_zone = (T0 + DAY).astimezone(timezone(timedelta(hours=-8)))
    assert record.state_at(other_zone) is S.GROWTH
    assert [c.to_state for c in record.changes_between(T0, T0 + 3 * DAY)] == [
        S.GROWTH, S.MATURE, S.DECLINE,
    ]  # fmt: skip
    with pytest.raises(ValidationError):
        record.state_at(datetime(2026, 1, 1))


def test_two_changes_at_one_instant_the_later_one_wins() -> None:
    record = Lifecycle("c-1").move_to(S.NEW, T0, evidence_for(S.NEW)).value
    record = record.move_to(S.DECLINE, T0, evidence_for(S.DECLINE)).value
    assert record.state_at(T0) is S.DECLINE


def test_round_trips_through_the_codec_and_pickle() -> None:
    record = walk(S.NEW, S.GROWTH, S.DECLINE, S.MATURE)
    assert decode(Lifecycle, encode(record)) == record
    assert pickle.loads(pickle.dumps(record)) == record


def test_a_tampered_history_is_rejected_on_decode() -> None:
    data = encode(walk(S.NEW, S.GROWTH))
    assert isinstance(data, dict)
    history = data["history"]
    assert isinstance(history, list) and isinstance(history[1], dict)
    history[1]["to_state"] = "mature"  # the grow trigger never leads to mature
    with pytest.raises(ValidationError, match="not a row of the transition table"):
        decode(Lifecycle, data)
    data = encode(walk(S.NEW, S.GROWTH))
    assert isinstance(data, dict)
    data["state"] = "churned"
    with pytest.raises(ValidationError, match="where history ends"):
        decode(Lifecycle, data)
    skipped = walk(S.NEW, S.GROWTH)
    with pytest.raises(ValidationError, match="from_state"):
        attrs.evolve(skipped, history=skipped.history[1:])
    backwards = walk(S.NEW, S.GROWTH)
    swapped = (backwards.history[0], attrs.evolve(backwards.history[1], at=T0 - DAY))
    with pytest.raises(ValidationError, match="before the previous"):
        attrs.evolve(backwards, history=swapped)
    first = backwards.history[0]
    no_receipts = attrs.evolve(first, evidence=Evidence(T0, [Reason.SPEND_UP]))
    with pytest.raises(ValidationError, match="guard 'first_purchase_recent'"):
        Lifecycle("c-1", S.NEW, (no_receipts,))


def test_reclassify_moves_by_the_classification_and_checks_the_customer() -> None:
    purchases = [(T0 - 200 * DAY, 50), (T0 - 170 * DAY, 50), (T0 - 140 * DAY, 50)]
    record = Lifecycle("c-9")
    first = reclassify(record, classify("c-9", purchases, T0), T0)
    assert first.value.state is S.DECLINE  # overdue: 140 days against a 30-day habit
    assert isinstance(first.events[0], ChurnWarning)
    assert Reason.RECENCY_BEYOND_USUAL_GAP in first.events[0].reasons
    same = reclassify(first.value, classify("c-9", purchases, T0 + DAY), T0 + DAY)
    assert same.events == () and same.value is first.value
    with pytest.raises(ValidationError, match="not the record's customer"):
        reclassify(record, classify("c-8", purchases, T0), T0)
    with pytest.raises(ValidationError, match="Classification"):
        reclassify(record, "decline", T0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"evidence\.as_of"):
        reclassify(record, classify("c-9", purchases, T0), T0 - DAY)


def test_a_win_back_after_churning_raises_a_reactivation() -> None:
    old = [(T0 - (400 + 30 * i) * DAY, 40) for i in range(6)]
    record = reclassify(Lifecycle("c-2"), classify("c-2", old, T0), T0).value
    assert record.state is S.CHURNED
    later = T0 + 20 * DAY
    back = [*old, (T0 + 5 * DAY, 40), (T0 + 15 * DAY, 40)]
    outcome = reclassify(record, classify("c-2", back, later), later)
    (event,) = outcome.events
    assert isinstance(event, CustomerReactivated)
    assert (event.from_state, event.to_state) == (S.CHURNED, S.GROWTH)


def test_replay_rebuilds_an_as_of_history_from_purchases() -> None:
    buys = [(T0 + d * DAY, 20) for d in (0, 25, 50, 80, 110, 140, 170)]
    month_ends = [T0 + d * DAY for d in range(29, 700, 30)]
    outcome = replay("c-3", buys, month_ends)
    record = outcome.value
    states = [c.to_state for c in record.history]
    assert states == [S.NEW, S.MATURE, S.DECLINE, S.CHURNED]  # a monthly buyer who stops
    assert len(outcome.events) == len(record.history)
    assert record.state_at(T0 + 100 * DAY) is S.NEW
    assert record.state_at(T0 + 130 * DAY) is S.MATURE
    for change in record.history:  # every state is what classify says at that time
        assert classify("c-3", buys, change.at).state is change.to_state


@pytest.mark.parametrize("store_type", ["memory", "sqlite"])
def test_stored_and_loaded_by_a_generic_repository(store_type: str, tmp_path: Path) -> None:
    kind = AggregateKind("lifecycle", Lifecycle)
    store = MemoryStore() if store_type == "memory" else SqliteStore(tmp_path / "crm.db")
    record = walk(S.NEW, S.GROWTH, S.DECLINE)
    with store:
        with store.unit_of_work() as uow:
            saved = uow.repository(kind).add(record)
        with store.unit_of_work() as uow:
            loaded = uow.repository(kind).get("c-1")
        assert loaded == saved and loaded.version == 1
        assert loaded.state_at(T0 + DAY) is S.GROWTH


def test_classification_validates_its_parts() -> None:
    with pytest.raises(ValidationError, match="customer_id"):
        Classification("bad id", S.NEW, evidence_for(S.NEW))
    with pytest.raises(ValidationError, match="Evidence"):
        Classification("c-1", S.NEW, "evidence")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"0\.\.1"):
        Evidence(T0, [], 1.5)
    with pytest.raises(ValidationError, match="reason"):
        Evidence(T0, ["because"])
    with pytest.raises(ValidationError, match="not a str"):
        Evidence(T0, "frequency_down")
    assert Evidence(T0.astimezone(timezone(timedelta(hours=8))), []).as_of.tzinfo is UTC


def test_wrong_types_are_refused_naming_the_argument() -> None:
    with pytest.raises(ValidationError, match=r"^reasons: must be a collection"):
        Evidence(T0, 3)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^purchases: must be a collection"):
        classify("c-1", None, T0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^history: must be a collection"):
        Lifecycle("c-1", history=5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^checkpoints: must be a collection"):
        replay("c-1", [], T0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^record: must be a Lifecycle"):
        replay("c-1", [], [T0], record="c-1")  # type: ignore[arg-type]
