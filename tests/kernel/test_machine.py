"""The state-machine kernel: tables checked once, moves by guard, arrays equal to lookups."""

from __future__ import annotations

import enum
import pickle
from datetime import UTC, datetime, timedelta

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.machine import (
    Guard,
    Machine,
    Transition,
    changes_between,
    check_history,
    parse_member,
    state_at,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Door(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    LOCKED = "locked"
    GONE = "gone"


class Act(enum.StrEnum):
    CLOSE = "close"
    OPEN = "open"
    LOCK = "lock"
    UNLOCK = "unlock"
    BREAK = "break"


def _owner(person: str) -> bool:
    return person == "owner"


HAS_KEY = Guard("has_key", "the person holds the key", _owner)
IS_THIEF = Guard(
    "is_thief",
    "only a thief breaks doors",
    lambda person: person == "thief",
    explain_with=lambda person: f"{person} is no thief",
)


def door(**overrides: object) -> Machine[Door, Act, Transition[Door, Act], str]:
    arguments: dict[str, object] = {
        "initial": Door.OPEN,
        "transitions": [
            Transition(Door.OPEN, Act.CLOSE, Door.CLOSED),
            Transition(Door.CLOSED, Act.OPEN, Door.OPEN),
            Transition(Door.CLOSED, Act.LOCK, Door.LOCKED, guard="has_key"),
            Transition(Door.LOCKED, Act.UNLOCK, Door.CLOSED, guard="has_key"),
            Transition(Door.LOCKED, Act.BREAK, Door.GONE, guard="is_thief"),
            Transition(Door.LOCKED, Act.BREAK, Door.CLOSED, guard="has_key"),
        ],
        "guards": [HAS_KEY, IS_THIEF],
        "final": [Door.GONE],
    }
    arguments.update(overrides)
    return Machine("door", Door, Act, **arguments)  # type: ignore[arg-type]


DOOR = door()


def test_fire_takes_the_row_whose_guard_holds() -> None:
    assert DOOR.fire(Door.OPEN, Act.CLOSE, "anyone").target is Door.CLOSED
    assert DOOR.fire(Door.CLOSED, Act.LOCK, "owner").target is Door.LOCKED
    # Two rows for (locked, break): the first whose guard holds wins.
    assert DOOR.fire(Door.LOCKED, Act.BREAK, "thief").target is Door.GONE
    assert DOOR.fire(Door.LOCKED, Act.BREAK, "owner").target is Door.CLOSED


def test_a_trigger_without_a_row_names_state_trigger_and_the_allowed_ones() -> None:
    with pytest.raises(IllegalTransitionError) as caught:
        DOOR.fire(Door.OPEN, Act.LOCK, "owner")
    error = caught.value
    assert (error.from_state, error.to_state, error.trigger) == (Door.OPEN, None, Act.LOCK)
    assert error.why == "no such move (allowed: close)"
    assert str(error) == "cannot go from open on 'lock': no such move (allowed: close)"


def test_a_refusing_guard_names_the_target_and_explains_itself() -> None:
    with pytest.raises(IllegalTransitionError) as caught:
        DOOR.fire(Door.CLOSED, Act.LOCK, "guest")
    error = caught.value
    assert (error.from_state, error.to_state, error.trigger) == (
        Door.CLOSED,
        Door.LOCKED,
        Act.LOCK,
    )
    assert error.why == "the person holds the key"
    with pytest.raises(IllegalTransitionError, match="guest is no thief / the person holds"):
        DOOR.fire(Door.LOCKED, Act.BREAK, "guest")


def test_move_finds_the_row_by_its_target() -> None:
    assert DOOR.move(Door.LOCKED, Door.CLOSED, "owner").trigger is Act.UNLOCK
    with pytest.raises(IllegalTransitionError) as caught:
        DOOR.move(Door.OPEN, Door.LOCKED, "owner")
    assert (caught.value.from_state, caught.value.to_state) == (Door.OPEN, Door.LOCKED)
    assert "the door table has no move from open to locked (allowed: closed)" in str(caught.value)


def test_triggered_and_choose_split_fire_for_aggregates_that_check_times_first() -> None:
    rows = DOOR.triggered(Door.LOCKED, Act.BREAK)
    assert [row.target for row in rows] == [Door.GONE, Door.CLOSED]
    assert DOOR.choose(rows, "thief") is rows[0]
    assert DOOR.reaching(Door.CLOSED, Door.OPEN)[0].trigger is Act.OPEN


def test_allowed_triggers_and_targets_are_in_table_order_each_once() -> None:
    assert DOOR.allowed_triggers(Door.LOCKED) == (Act.UNLOCK, Act.BREAK)
    assert DOOR.allowed_targets(Door.LOCKED) == (Door.CLOSED, Door.GONE)
    assert DOOR.allowed_triggers(Door.GONE) == ()


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"initial": "open"}, "initial"),
        ({"transitions": [Transition(Door.OPEN, Act.CLOSE, Door.CLOSED, guard="magic")]}, "guard"),
        ({"transitions": [Transition(Door.GONE, Act.OPEN, Door.OPEN)]}, "final state"),
        (
            {
                "transitions": [
                    Transition(Door.OPEN, Act.CLOSE, Door.CLOSED),
                    Transition(Door.OPEN, Act.CLOSE, Door.LOCKED),
                ]
            },
            "duplicate",
        ),
        ({"transitions": [Transition("open", Act.CLOSE, Door.CLOSED)]}, "states must be Door"),
        ({"transitions": [Transition(Door.OPEN, "close", Door.CLOSED)]}, "trigger must be"),
        ({"transitions": [("open", "close", "closed")]}, "must be a Transition"),
    ],
)
def test_a_bad_table_is_refused_when_the_machine_is_built(
    overrides: dict[str, object], match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        door(**overrides)


def test_rows_of_another_class_work_when_they_have_the_attributes() -> None:
    @attrs.frozen
    class Row:
        source: Door
        trigger: Act
        target: Door
        kind: str
        guard: str | None = None

    machine = Machine(
        "kinds",
        Door,
        Act,
        initial=Door.OPEN,
        transitions=[Row(Door.OPEN, Act.CLOSE, Door.CLOSED, "shut")],
    )
    assert machine.fire(Door.OPEN, Act.CLOSE, None).kind == "shut"


def test_the_table_as_arrays_and_as_a_diagram() -> None:
    codes = {s: DOOR.state_code(s) for s in Door}
    table = DOOR.target_table
    assert table[codes[Door.OPEN], DOOR.trigger_code(Act.CLOSE)] == codes[Door.CLOSED]
    assert table[codes[Door.OPEN], DOOR.trigger_code(Act.LOCK)] == -1
    assert table[codes[Door.LOCKED], DOOR.trigger_code(Act.BREAK)] == -2  # guards decide
    assert not table.flags.writeable and not DOOR.row_table.flags.writeable
    diagram = DOOR.to_mermaid()
    assert "closed --> locked: lock [has_key]" in diagram and "gone --> [*]" in diagram


@given(
    st.lists(st.sampled_from(list(Door)), max_size=30),
    st.lists(st.sampled_from(list(Act)), max_size=30),
)
def test_vectorised_lookups_equal_the_per_pair_lookups(
    states: list[Door], triggers: list[Act]
) -> None:
    n = min(len(states), len(triggers))
    states, triggers = states[:n], triggers[:n]
    state_codes = np.array([DOOR.state_code(s) for s in states], dtype=np.int64)
    trigger_codes = np.array([DOOR.trigger_code(t) for t in triggers], dtype=np.int64)
    expected_targets = []
    for s, t in zip(states, triggers, strict=True):
        targets = {row.target for row in DOOR.rows_on(s, t)}
        expected_targets.append(
            -1 if not targets else DOOR.state_code(targets.pop()) if len(targets) == 1 else -2
        )
    assert DOOR.targets(state_codes, trigger_codes).tolist() == expected_targets
    to_codes = state_codes[::-1].copy()
    expected_rows = []
    for s, to in zip(states, reversed(states), strict=True):
        rows = DOOR.rows_between(s, to)
        expected_rows.append(DOOR.transitions.index(rows[0]) if rows else -1)
    assert DOOR.rows_of(state_codes, to_codes).tolist() == expected_rows


@attrs.frozen
class Move:
    at: datetime
    from_state: Door
    to_state: Door


@given(st.lists(st.integers(0, 100), max_size=12), st.integers(-5, 110))
def test_state_at_equals_a_scan_of_the_history(offsets: list[int], probe: int) -> None:
    states = [Door.OPEN, Door.CLOSED]
    history = [
        Move(T0 + timedelta(hours=h), states[i % 2], states[(i + 1) % 2])
        for i, h in enumerate(sorted(offsets))
    ]
    when = T0 + timedelta(hours=probe)
    expected = Door.OPEN
    for move in history:
        if move.at <= when:
            expected = move.to_state
    assert state_at(history, when, Door.OPEN) is expected
    start = T0 + timedelta(hours=probe - 20)
    assert changes_between(history, start, when) == tuple(
        m for m in history if start < m.at <= when
    )


def test_check_history_names_the_change_and_the_field() -> None:
    good = [Move(T0, Door.OPEN, Door.CLOSED), Move(T0 + timedelta(1), Door.CLOSED, Door.OPEN)]
    assert check_history(good, Door.OPEN) is Door.OPEN
    with pytest.raises(ValidationError, match=r"history\[1\].from_state") as caught:
        check_history([good[0], Move(T0 + timedelta(1), Door.OPEN, Door.CLOSED)], Door.OPEN)
    assert "must be closed (the state then)" in str(caught.value)
    with pytest.raises(ValidationError, match=r"history\[1\].at.*the previous change"):
        check_history([good[0], Move(T0 - timedelta(1), Door.CLOSED, Door.OPEN)], Door.OPEN)
    with pytest.raises(ValidationError, match="must not be before opened_at"):
        check_history(good, Door.OPEN, start=T0 + timedelta(hours=1), start_name="opened_at")

    def no_reopening(i: int, change: Move) -> None:
        if change.to_state is Door.OPEN:
            raise ValidationError(f"history[{i}]", change, "is not a row")

    with pytest.raises(ValidationError, match=r"history\[1\]: is not a row"):
        check_history(good, Door.OPEN, rule=no_reopening)


def test_parse_member_takes_members_and_values_only() -> None:
    assert parse_member(Door, "locked", "door") is Door.LOCKED
    assert parse_member(Door, Door.OPEN, "door") is Door.OPEN
    with pytest.raises(ValidationError, match="door: must be one of open, closed, locked, gone"):
        parse_member(Door, "ajar", "door")
    with pytest.raises(ValidationError, match="door"):
        parse_member(Door, ["open"], "door")


def test_illegal_transition_pickles_with_its_trigger() -> None:
    error = IllegalTransitionError(Door.OPEN, None, "no such move", Act.LOCK)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.from_state, copy.to_state, copy.trigger, str(copy)) == (
        Door.OPEN,
        None,
        Act.LOCK,
        str(error),
    )


def test_lookups_take_members_or_their_values_and_refuse_strangers() -> None:
    assert DOOR.rows_on("open", "close") == DOOR.rows_on(Door.OPEN, Act.CLOSE)
    assert DOOR.state_code("closed") == DOOR.state_code(Door.CLOSED) == 1
    assert DOOR.rows_between(Door.OPEN, Door.LOCKED) == ()
    for call, field in (
        (lambda: DOOR.rows_on([], Act.CLOSE), "source"),
        (lambda: DOOR.rows_on(Door.OPEN, [None]), "trigger"),
        (lambda: DOOR.rows_between(Door.OPEN, "ajar"), "target"),
        (lambda: DOOR.fire(None, Act.CLOSE, "anyone"), "state"),
        (lambda: DOOR.move(Door.OPEN, 3, "anyone"), "target"),
        (lambda: DOOR.trigger_code(Door.LOCKED), "trigger"),  # "locked" is no trigger
        (lambda: DOOR.allowed_triggers({}), "source"),
    ):
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == field


def test_choose_refuses_no_rows_and_rows_of_another_table() -> None:
    with pytest.raises(ValidationError, match="non-empty"):
        DOOR.choose((), "owner")
    stranger = Transition(Door.OPEN, Act.CLOSE, Door.CLOSED, guard="is_admin")
    with pytest.raises(ValidationError, match="rows of door"):
        DOOR.choose((stranger,), "owner")


@pytest.mark.parametrize(
    "codes", [[-1], [4], [1.0], np.array([np.nan]), "0", None, np.array([2**63], dtype=np.uint64)]
)
def test_code_arrays_must_be_integer_codes_within_the_enums(codes: object) -> None:
    with pytest.raises(ValidationError) as caught:
        DOOR.targets(codes, [0])  # type: ignore[arg-type]
    assert caught.value.field == "states"
    with pytest.raises(ValidationError) as caught:
        DOOR.rows_of([0], codes)  # type: ignore[arg-type]
    assert caught.value.field == "targets"
    with pytest.raises(ValidationError, match="shape"):
        DOOR.targets([0, 1], [0, 1, 2])
