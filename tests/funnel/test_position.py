"""Example tests of the funnel position rules: skips, regress, time, no-ops, events, codec."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import attrs
import pytest

from crmcore.funnel import (
    DEFAULT_POLICY,
    FunnelPolicy,
    FunnelPosition,
    Stage,
    StageChange,
    StageEntered,
    StageMove,
    StageRegressed,
    normalize_reason,
)
from crmcore.kernel.codec import decode, encode
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.events import DomainEvent, event_from_json, event_kinds
from crmcore.storage.kinds import AggregateKind
from crmcore.storage.memory import MemoryStore
from crmcore.storage.sqlite import SqliteStore

T = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
STRICT = FunnelPolicy(allow_skips=False, allow_regress=False)
ALL_LABELS = "awareness, interest, consideration, intent, conversion, retention, advocacy"


def begin(stage: Stage = Stage.AWARENESS, at: datetime = T) -> FunnelPosition:
    return FunnelPosition.start("C-1", stage, at, source="I-0").value


def entered(events: tuple[DomainEvent, ...]) -> list[tuple[str, str, str | None]]:
    out = []
    for event in events:
        assert isinstance(event, StageEntered)
        previous = None if event.previous is None else event.previous.label
        out.append((event.stage.label, event.how.value, previous))
    return out


# -- start ---------------------------------------------------------------------------------


def test_start_at_awareness() -> None:
    outcome = FunnelPosition.start("C-1", "awareness", T, source="ad-17")
    p = outcome.value
    assert (p.id, p.customer_id, p.stage, p.version) == ("C-1", "C-1", Stage.AWARENESS, 0)
    assert p.history == (StageChange(Stage.AWARENESS, T, StageMove.START, "ad-17"),)
    assert p.entered_at(Stage.AWARENESS) == T
    assert p.entered_at("interest") is None
    assert p.reached("awareness") and not p.reached("interest")
    (event,) = outcome.events
    assert event == StageEntered(
        aggregate_id="C-1",
        occurred_at=T,
        stage=Stage.AWARENESS,
        how=StageMove.START,
        previous=None,
        source="ad-17",
    )
    assert event.kind == "funnel.stage_entered"


def test_start_beyond_awareness_records_earlier_stages_as_passed_through() -> None:
    outcome = FunnelPosition.start("C-1", Stage.INTENT, T, source="I-9")
    p = outcome.value
    assert p.stage is Stage.INTENT
    assert [(c.stage, c.how, c.at, c.source) for c in p.history] == [
        (Stage.AWARENESS, StageMove.SKIP, T, "I-9"),
        (Stage.INTEREST, StageMove.SKIP, T, "I-9"),
        (Stage.CONSIDERATION, StageMove.SKIP, T, "I-9"),
        (Stage.INTENT, StageMove.START, T, "I-9"),
    ]
    assert p.entry_times() == dict.fromkeys(
        [Stage.AWARENESS, Stage.INTEREST, Stage.CONSIDERATION, Stage.INTENT], T
    )
    assert entered(outcome.events) == [
        ("awareness", "skip", None),
        ("interest", "skip", "awareness"),
        ("consideration", "skip", "interest"),
        ("intent", "start", "consideration"),
    ]


def test_strict_policy_starts_only_at_awareness() -> None:
    assert FunnelPosition.start("C-1", "awareness", T, policy=STRICT).value.stage is Stage.AWARENESS
    with pytest.raises(IllegalTransitionError) as info:
        FunnelPosition.start("C-1", "interest", T, policy=STRICT)
    assert (info.value.from_state, info.value.to_state) == (None, "interest")
    assert "skips" in info.value.why


def test_start_accepts_any_timezone_and_stores_utc() -> None:
    plus8 = timezone(timedelta(hours=8))
    p = FunnelPosition.start("C-1", 1, T.astimezone(plus8)).value  # type: ignore[arg-type]
    assert p.entered_at("awareness") == T
    assert p.history[0].at.tzinfo is UTC


# -- advance -------------------------------------------------------------------------------


def test_advance_one_stage() -> None:
    p = begin()
    outcome = p.advance(Stage.INTEREST, T + HOUR, source="I-1")
    q = outcome.value
    assert q.stage is Stage.INTEREST
    assert q.history[-1] == StageChange(Stage.INTEREST, T + HOUR, StageMove.ADVANCE, "I-1")
    assert q.entry_times() == {Stage.AWARENESS: T, Stage.INTEREST: T + HOUR}
    assert entered(outcome.events) == [("interest", "advance", "awareness")]
    assert outcome.events[0].payload() == {
        "aggregate_id": "C-1",
        "occurred_at": "2026-03-01T10:00:00+00:00",
        "stage": "interest",
        "how": "advance",
        "previous": "awareness",
        "source": "I-1",
    }
    assert p.stage is Stage.AWARENESS and len(p.history) == 1  # the original is untouched


def test_skips_are_recorded_as_passed_through_at_the_same_instant() -> None:
    outcome = begin().advance("conversion", T + HOUR, source="order-1")
    p = outcome.value
    assert [(c.stage.label, c.how.value, c.at, c.source) for c in p.history[1:]] == [
        ("interest", "skip", T + HOUR, "order-1"),
        ("consideration", "skip", T + HOUR, "order-1"),
        ("intent", "skip", T + HOUR, "order-1"),
        ("conversion", "advance", T + HOUR, "order-1"),
    ]
    assert entered(outcome.events) == [
        ("interest", "skip", "awareness"),
        ("consideration", "skip", "interest"),
        ("intent", "skip", "consideration"),
        ("conversion", "advance", "intent"),
    ]
    times = p.entry_times()
    assert list(times) == [s for s in Stage if s <= Stage.CONVERSION]
    assert all(p.reached(s) for s in times)


def test_strict_policy_refuses_skips_and_names_them() -> None:
    p = begin()
    with pytest.raises(IllegalTransitionError) as info:
        p.advance("intent", T + HOUR, policy=STRICT)
    assert (info.value.from_state, info.value.to_state) == ("awareness", "intent")
    assert "interest, consideration" in info.value.why
    assert p.advance("interest", T + HOUR, policy=STRICT).value.stage is Stage.INTEREST


def test_advance_backwards_is_illegal() -> None:
    p = begin(Stage.INTENT)
    with pytest.raises(IllegalTransitionError) as info:
        p.advance("interest", T + HOUR)
    assert (info.value.from_state, info.value.to_state) == ("intent", "interest")
    assert "regress" in info.value.why


def test_moving_to_the_current_stage_again_is_a_no_op() -> None:
    p = begin(Stage.INTEREST)
    for outcome in (
        p.advance("interest", T + HOUR, source="I-5"),
        p.advance(Stage.INTEREST, T - HOUR),  # no-op wins over the time rule: nothing is recorded
        p.regress("interest", T + HOUR, "again"),
    ):
        assert outcome.value is p
        assert outcome.events == ()


def test_no_op_still_validates_its_input() -> None:
    p = begin(Stage.INTEREST)
    with pytest.raises(ValidationError):
        p.advance("interest", datetime(2026, 3, 2))  # naive
    with pytest.raises(ValidationError):
        p.regress("interest", T, "")


# -- time ----------------------------------------------------------------------------------


def test_time_never_goes_backwards() -> None:
    p = begin().advance("interest", T + 2 * HOUR).value
    with pytest.raises(ValidationError) as info:
        p.advance("consideration", T + HOUR)
    assert info.value.field == "at"
    assert "2026-03-01T11:00:00+00:00" in info.value.reason
    with pytest.raises(ValidationError):
        p.regress("awareness", T + HOUR, "too early")
    # the same instant is fine, also written in another zone
    same = (T + 2 * HOUR).astimezone(timezone(-timedelta(hours=5)))
    assert p.advance("consideration", same).value.last_changed_at == T + 2 * HOUR


def test_illegal_transition_is_reported_before_a_bad_time() -> None:
    p = begin(Stage.INTENT, T + HOUR)
    with pytest.raises(IllegalTransitionError):
        p.advance("awareness", T)


# -- regress -------------------------------------------------------------------------------


def test_regress_needs_a_reason() -> None:
    p = begin(Stage.INTENT)
    for reason in ("", "   ", None, 42):
        with pytest.raises(ValidationError) as info:
            p.regress("interest", T + HOUR, reason)  # type: ignore[arg-type]
        assert info.value.field == "reason"
    with pytest.raises(ValidationError):
        p.regress("interest", T + HOUR, "x" * 201)
    assert normalize_reason(" no \n budget ") == "no budget"


def test_regress_moves_back_with_events_and_keeps_history() -> None:
    p = begin().advance("conversion", T + HOUR, source="O-1").value
    outcome = p.regress("interest", T + 2 * HOUR, "  refunded,  no budget ", source="case-7")
    q = outcome.value
    assert q.stage is Stage.INTEREST
    assert q.history[: len(p.history)] == p.history  # nothing is lost
    assert q.history[-1] == StageChange(
        Stage.INTEREST, T + 2 * HOUR, StageMove.REGRESS, "case-7", "refunded, no budget"
    )
    regressed, entered_event = outcome.events
    assert regressed == StageRegressed(
        aggregate_id="C-1",
        occurred_at=T + 2 * HOUR,
        stage=Stage.INTEREST,
        previous=Stage.CONVERSION,
        reason="refunded, no budget",
        source="case-7",
    )
    assert regressed.kind == "funnel.stage_regressed"
    assert entered((entered_event,)) == [("interest", "regress", "conversion")]


def test_regress_starts_a_new_run_for_entry_times() -> None:
    p = begin().advance("intent", T + HOUR).value
    q = p.regress("interest", T + 2 * HOUR, "went cold").value
    # the target is re-entered now; stages above lose their times; stages below keep theirs
    assert q.entry_times() == {Stage.AWARENESS: T, Stage.INTEREST: T + 2 * HOUR}
    assert not q.reached("consideration") and q.entered_at("intent") is None
    assert q.highest_stage is Stage.INTENT  # the high-water mark survives
    r = q.advance("consideration", T + 3 * HOUR).value
    assert r.entry_times() == {
        Stage.AWARENESS: T,
        Stage.INTEREST: T + 2 * HOUR,
        Stage.CONSIDERATION: T + 3 * HOUR,
    }
    assert [c.how for c in r.history].count(StageMove.SKIP) == 2  # from the first advance


def test_regress_forwards_is_illegal() -> None:
    with pytest.raises(IllegalTransitionError) as info:
        begin(Stage.INTEREST).regress("intent", T + HOUR, "why not")
    assert (info.value.from_state, info.value.to_state) == ("interest", "intent")


def test_policy_can_forbid_regress() -> None:
    p = begin(Stage.INTENT)
    with pytest.raises(IllegalTransitionError) as info:
        p.regress("interest", T + HOUR, "cold", policy=FunnelPolicy(allow_regress=False))
    assert "does not allow moving back" in info.value.why


def test_lock_at_keeps_positions_at_or_above_it() -> None:
    policy = FunnelPolicy(lock_at="conversion")
    converted = begin(Stage.ADVOCACY)
    assert converted.regress("conversion", T, "quiet", policy=policy).value.stage == 5
    with pytest.raises(IllegalTransitionError) as info:
        converted.regress("intent", T, "refund", policy=policy)
    assert (info.value.from_state, info.value.to_state) == ("advocacy", "intent")
    assert "conversion" in info.value.why
    with pytest.raises(IllegalTransitionError):  # exactly at the lock counts as having reached it
        begin(Stage.CONVERSION).regress("intent", T, "refund", policy=policy)
    prospect = begin(Stage.INTENT)  # below the lock: free to move back
    assert prospect.regress("awareness", T, "lost", policy=policy).value.stage == 1


def test_policy_guards_can_be_asked_directly() -> None:
    strict = FunnelPolicy(allow_skips=False, allow_regress=False, lock_at=Stage.CONVERSION)
    strict.check_start(Stage.AWARENESS)
    strict.check_advance(Stage.INTEREST, Stage.CONSIDERATION)
    DEFAULT_POLICY.check_regress(Stage.ADVOCACY, Stage.AWARENESS)
    guards: list[Callable[[], None]] = [
        lambda: strict.check_start(Stage.INTEREST),
        lambda: strict.check_advance(Stage.INTEREST, Stage.INTENT),
        lambda: DEFAULT_POLICY.check_advance(Stage.INTENT, Stage.INTEREST),
        lambda: DEFAULT_POLICY.check_regress(Stage.INTEREST, Stage.INTENT),
        lambda: strict.check_regress(Stage.INTENT, Stage.INTEREST),
        lambda: FunnelPolicy(lock_at=5).check_regress(Stage.CONVERSION, Stage.INTENT),
    ]
    for guard in guards:
        with pytest.raises(IllegalTransitionError):
            guard()


# -- queries -------------------------------------------------------------------------------


def test_stage_at_answers_as_of_a_time() -> None:
    p = begin().advance("intent", T + HOUR).value.regress("interest", T + 3 * HOUR, "cold").value
    assert p.stage_at(T - HOUR) is None
    assert p.stage_at(T) is Stage.AWARENESS
    assert p.stage_at(T + 2 * HOUR) is Stage.INTENT
    assert p.stage_at(T + 3 * HOUR) is Stage.INTEREST


# -- bad input -----------------------------------------------------------------------------


def test_unknown_stages_list_the_labels() -> None:
    with pytest.raises(ValidationError) as info:
        begin().advance("purchase", T)
    assert info.value.field == "to"
    assert ALL_LABELS in info.value.reason
    with pytest.raises(ValidationError) as info:
        FunnelPosition.start("C-1", "lead", T)
    assert info.value.field == "stage"
    with pytest.raises(ValidationError):
        begin().entered_at("lead")
    with pytest.raises(ValidationError):
        FunnelPolicy(lock_at="vip")


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2026, 3, 1, 10)
    for attempt in (
        lambda: FunnelPosition.start("C-1", "awareness", naive),
        lambda: begin().advance("interest", naive),
        lambda: begin(Stage.INTENT).regress("interest", naive, "cold"),
        lambda: begin().stage_at(naive),
    ):
        with pytest.raises(ValidationError) as info:
            attempt()
        assert info.value.field == "at"


def test_other_bad_input() -> None:
    with pytest.raises(ValidationError):
        FunnelPosition.start("C 1", "awareness", T)
    with pytest.raises(ValidationError):
        begin().advance("interest", T, source="has space")
    with pytest.raises(ValidationError):
        begin().advance("interest", T, policy="strict")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        FunnelPolicy(allow_skips="yes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        StageChange(Stage.INTEREST, T, StageMove.ADVANCE, reason="not a regress")
    with pytest.raises(ValidationError):
        StageChange(Stage.INTEREST, T, "jump")


def test_malformed_histories_are_rejected() -> None:
    start = StageChange(Stage.AWARENESS, T, StageMove.START)
    bad_histories = [
        (),
        (StageChange(Stage.INTEREST, T, StageMove.START),),  # earlier stages missing
        (start, StageChange(Stage.CONSIDERATION, T, StageMove.ADVANCE)),  # a gap
        (start, StageChange(Stage.INTEREST, T - HOUR, StageMove.ADVANCE)),  # time reversed
        (StageChange(Stage.AWARENESS, T, StageMove.SKIP),),  # ends with a skip
        (
            StageChange(Stage.AWARENESS, T, StageMove.SKIP),
            StageChange(Stage.INTEREST, T + HOUR, StageMove.START),  # skip not at the same instant
        ),
        (start, StageChange(Stage.AWARENESS, T, StageMove.REGRESS, reason="r")),  # not back
        (start, StageChange(Stage.INTEREST, T, StageMove.START)),  # starts twice
        (StageChange(Stage.AWARENESS, T, StageMove.ADVANCE),),  # advance before start
        ("awareness",),
    ]
    for history in bad_histories:
        with pytest.raises(ValidationError):
            FunnelPosition("C-1", history)  # type: ignore[arg-type]


# -- serialisation, events, storage --------------------------------------------------------


def long_story() -> FunnelPosition:
    return (
        begin()
        .advance("intent", T + HOUR, source="I-1")
        .value.regress("interest", T + 2 * HOUR, "cold", source="case-1")
        .value.advance("advocacy", T + 3 * HOUR, source="O-1")
        .value
    )


def test_codec_round_trip() -> None:
    p = long_story()
    assert decode(FunnelPosition, encode(p)) == p
    policy = FunnelPolicy(allow_skips=False, lock_at=Stage.CONVERSION)
    assert encode(policy) == {"allow_skips": False, "allow_regress": True, "lock_at": "conversion"}
    assert decode(FunnelPolicy, encode(policy)) == policy
    assert decode(FunnelPolicy, encode(DEFAULT_POLICY)) == DEFAULT_POLICY


def test_decode_rejects_a_tampered_history() -> None:
    data = encode(long_story())
    assert isinstance(data, dict) and isinstance(data["history"], list)
    entry = data["history"][1]
    assert isinstance(entry, dict)
    entry["stage"] = "advocacy"
    with pytest.raises(ValidationError):
        decode(FunnelPosition, data)


def test_events_round_trip_through_json() -> None:
    assert {"funnel.stage_entered", "funnel.stage_regressed"} <= set(event_kinds())
    p = begin()
    steps = [
        FunnelPosition.start("C-1", "intent", T, source="I-1"),
        p.advance("conversion", T + HOUR),
        begin(Stage.RETENTION).regress("conversion", T + HOUR, "no repeat order"),
    ]
    events = [event for step in steps for event in step.events]
    assert {type(e) for e in events} == {StageEntered, StageRegressed}
    for event in events:
        assert event_from_json(event.kind, event.payload()) == event


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> MemoryStore | SqliteStore:
    made = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "f.db")
    return made


POSITIONS: AggregateKind[FunnelPosition] = AggregateKind("funnel_position", FunnelPosition)


def test_positions_are_storable_aggregates(store: MemoryStore | SqliteStore) -> None:
    outcome = FunnelPosition.start("C-1", "interest", T, source="I-1")
    with store.unit_of_work() as uow:
        saved = uow.repository(POSITIONS).add(uow.take(outcome))
    assert saved.version == 1
    with store.unit_of_work() as uow:
        loaded = uow.repository(POSITIONS).get("C-1")
        assert loaded == saved
        step = loaded.advance("conversion", T + HOUR, source="O-1")
        moved, moved_events = uow.take(step), step.events
        uow.repository(POSITIONS).save(moved)
    with store.unit_of_work() as uow:
        final = uow.repository(POSITIONS).get("C-1")
    assert final.version == 2
    assert final.stage is Stage.CONVERSION
    assert attrs.evolve(final, version=0) == attrs.evolve(moved, version=0)
    messages = store.outbox.pending()
    assert [m.kind for m in messages] == ["funnel.stage_entered"] * 5
    assert [m.event for m in messages] == [*outcome.events, *moved_events]
    store.close()


def test_policy_checks_refuse_what_is_not_a_stage() -> None:
    policy = FunnelPolicy()
    with pytest.raises(ValidationError, match=r"^target: must be a Stage"):
        policy.check_start("interest")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^current: must be a Stage"):
        policy.check_advance(2, Stage.INTEREST)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^target: must be a Stage"):
        policy.check_regress(Stage.INTEREST, None)  # type: ignore[arg-type]
