"""The transition table: a function both ways, and the shape the domain demands."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from crmcore.kernel.errors import ValidationError
from crmcore.lifecycle import (
    ACTIVE_STATES,
    EVENT_FOR_KIND,
    GUARDS,
    TRANSITIONS,
    ChurnWarning,
    CustomerChurned,
    CustomerReactivated,
    LifecycleChanged,
    LifecycleState,
    Reason,
    Transition,
    TransitionKind,
    Trigger,
    allowed_targets,
    allowed_triggers,
    transition_for,
    transition_on,
)
from crmcore.lifecycle.transitions import ROW_OF_PAIR

from .helpers import JUSTIFIES

S = LifecycleState


def test_rows_are_unique_per_trigger_and_per_target() -> None:
    by_trigger = {(r.source, r.trigger) for r in TRANSITIONS}
    by_target = {(r.source, r.target) for r in TRANSITIONS}
    assert len(by_trigger) == len(by_target) == len(TRANSITIONS) == 21


def test_each_trigger_names_one_destination() -> None:
    destinations = {t: {r.target for r in TRANSITIONS if r.trigger is t} for t in Trigger}
    assert destinations == {
        Trigger.FIRST_PURCHASE: {S.NEW},
        Trigger.GROW: {S.GROWTH},
        Trigger.MATURE: {S.MATURE},
        Trigger.DECLINE: {S.DECLINE},
        Trigger.CHURN: {S.CHURNED},
    }


def test_nothing_returns_to_prospect_and_only_a_prospect_becomes_new() -> None:
    assert all(r.target is not S.PROSPECT for r in TRANSITIONS)
    assert {r.source for r in TRANSITIONS if r.target is S.NEW} == {S.PROSPECT}
    assert all(r.source is not r.target for r in TRANSITIONS)


def test_every_state_but_new_is_reachable_from_every_non_prospect_state_sensibly() -> None:
    # The classifier can produce any move below, so the table must hold a row for each.
    reachable = {
        S.PROSPECT: {S.NEW, S.GROWTH, S.MATURE, S.DECLINE, S.CHURNED},
        S.NEW: {S.GROWTH, S.MATURE, S.DECLINE, S.CHURNED},
        S.GROWTH: {S.MATURE, S.DECLINE, S.CHURNED},
        S.MATURE: {S.GROWTH, S.DECLINE, S.CHURNED},
        S.DECLINE: {S.GROWTH, S.MATURE, S.CHURNED},
        S.CHURNED: {S.GROWTH, S.MATURE, S.DECLINE},
    }
    assert {s: set(allowed_targets(s)) for s in S} == reachable


def test_kinds_follow_the_business_meaning() -> None:
    for row in TRANSITIONS:
        if row.target is S.DECLINE:
            assert row.kind is TransitionKind.WARNING
        elif row.target is S.CHURNED:
            assert row.kind is TransitionKind.CHURN
        elif row.source in (S.DECLINE, S.CHURNED):
            assert row.target in ACTIVE_STATES
            assert row.kind is TransitionKind.REACTIVATION
        elif row.source is S.PROSPECT:
            assert row.kind is TransitionKind.ACQUISITION
        else:
            assert row.kind is TransitionKind.PROGRESSION


def test_each_kind_raises_its_event() -> None:
    assert dict(EVENT_FOR_KIND) == {
        TransitionKind.ACQUISITION: LifecycleChanged,
        TransitionKind.PROGRESSION: LifecycleChanged,
        TransitionKind.WARNING: ChurnWarning,
        TransitionKind.CHURN: CustomerChurned,
        TransitionKind.REACTIVATION: CustomerReactivated,
    }
    assert ChurnWarning.kind == "lifecycle.churn_warning"
    assert CustomerReactivated.kind == "lifecycle.reactivated"


def test_guards_accept_exactly_the_reasons_of_their_target() -> None:
    for row in TRANSITIONS:
        assert GUARDS[row.guard].reasons == JUSTIFIES[row.target]
        assert row.description


def test_lookups_and_the_pair_matrix_agree_with_the_table() -> None:
    for i, row in enumerate(TRANSITIONS):
        assert transition_on(row.source, row.trigger) is row
        assert transition_for(row.source, row.target) is row
        assert ROW_OF_PAIR[row.source.code, row.target.code] == i
    assert np.count_nonzero(ROW_OF_PAIR >= 0) == len(TRANSITIONS)
    assert transition_on(S.MATURE, Trigger.FIRST_PURCHASE) is None
    assert allowed_triggers(S.CHURNED) == (Trigger.DECLINE, Trigger.GROW, Trigger.MATURE)
    assert not ROW_OF_PAIR.flags.writeable


def test_a_row_names_a_known_guard() -> None:
    with pytest.raises(ValidationError, match="guard"):
        Transition(S.NEW, Trigger.GROW, S.GROWTH, TransitionKind.PROGRESSION, "vibes")
    row = TRANSITIONS[0]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        row.target = S.MATURE  # type: ignore[misc]


def test_state_codes_and_parsing() -> None:
    assert [s.code for s in S] == [0, 1, 2, 3, 4, 5]
    assert all(S.from_code(s.code) is s for s in S)
    assert S.parse(" Growth ") is S.GROWTH
    assert S.MATURE.is_active and not S.DECLINE.is_active
    with pytest.raises(ValidationError, match="must be one of prospect"):
        S.parse("loyal")
    with pytest.raises(ValidationError, match="state code"):
        S.from_code(6)
    assert [r.bit for r in Reason][:3] == [1, 2, 4]


def test_guards_refuse_what_is_not_evidence() -> None:
    guard = next(iter(GUARDS.values()))
    with pytest.raises(ValidationError, match=r"^evidence: must be an Evidence"):
        guard.allows("frequency_down")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^evidence: must be an Evidence"):
        TRANSITIONS[0].allows(None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^evidence: must be an Evidence"):
        guard.explain(42)  # type: ignore[arg-type]
