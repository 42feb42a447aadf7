"""The lead status table: its shape, guards and the kernel's array views of it."""

from __future__ import annotations

import numpy as np
import pytest

from crmcore.kernel.machine import Machine
from crmcore.sales.lead_machine import (
    CLOSED_STATUSES,
    DISQUALIFY_REASONS,
    LEAD_GUARDS,
    LEAD_TRANSITIONS,
    MACHINE,
    OPEN_STATUSES,
    LeadStatus,
    LeadTrigger,
    normalize_reason,
)

S, T = LeadStatus, LeadTrigger


def test_the_machine_is_built_on_the_kernel_with_converted_final() -> None:
    assert isinstance(MACHINE, Machine)
    assert MACHINE.initial is S.NEW and MACHINE.final == frozenset({S.CONVERTED})
    assert MACHINE.allowed_triggers(S.CONVERTED) == ()
    assert set(LeadStatus) == OPEN_STATUSES | CLOSED_STATUSES
    assert not OPEN_STATUSES & CLOSED_STATUSES


@pytest.mark.parametrize(
    ("source", "trigger", "target"),
    [
        (S.NEW, T.WORK, S.WORKING),
        (S.QUALIFIED, T.WORK, S.WORKING),
        (S.WORKING, T.NURTURE, S.NURTURING),
        (S.NURTURING, T.QUALIFY, S.QUALIFIED),
        (S.QUALIFIED, T.DISQUALIFY, S.DISQUALIFIED),
        (S.DISQUALIFIED, T.REOPEN, S.WORKING),
        (S.QUALIFIED, T.CONVERT, S.CONVERTED),
        (S.NURTURING, T.ASSIGN, S.NURTURING),
    ],
)
def test_rows(source: LeadStatus, trigger: LeadTrigger, target: LeadStatus) -> None:
    (row,) = MACHINE.rows_on(source, trigger)
    assert row.target is target


def test_only_qualified_converts_and_nothing_goes_back_to_new() -> None:
    assert [r.source for r in LEAD_TRANSITIONS if r.trigger is T.CONVERT] == [S.QUALIFIED]
    assert all(r.target is not S.NEW or r.source is S.NEW for r in LEAD_TRANSITIONS)
    assert S.NEW not in MACHINE.allowed_targets(S.DISQUALIFIED)


def test_every_guard_is_used_and_described() -> None:
    used = {r.guard for r in LEAD_TRANSITIONS if r.guard}
    assert used == set(LEAD_GUARDS)
    assert all(g.description for g in LEAD_GUARDS.values())


def test_the_table_as_arrays() -> None:
    states = np.array([MACHINE.state_code(S.NEW), MACHINE.state_code(S.CONVERTED)])
    triggers = np.array([MACHINE.trigger_code(T.WORK)] * 2)
    assert MACHINE.targets(states, triggers).tolist() == [MACHINE.state_code(S.WORKING), -1]
    assert "qualified --> converted: convert" in MACHINE.to_mermaid()


def test_reasons_are_slugs() -> None:
    assert normalize_reason("Bad Timing") == "bad_timing"
    assert all(normalize_reason(r) == r for r in DISQUALIFY_REASONS)
