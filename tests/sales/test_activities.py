"""Follow-up activities: outcomes per kind, states over time, touches, refusals, redaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.sales.activities import (
    OUTCOMES,
    TOUCH_KINDS,
    Activity,
    ActivityKind,
    ActivityState,
)

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
H = timedelta(hours=1)


def test_every_kind_has_outcomes_and_only_tasks_are_not_touches() -> None:
    assert set(OUTCOMES) == set(ActivityKind)
    assert set(ActivityKind) - {ActivityKind.TASK} == TOUCH_KINDS
    for kind, outcomes in OUTCOMES.items():
        done = Activity(id="a", kind=kind, created_at=T0).complete(T0, outcomes[0])
        assert done.is_touch is (kind in TOUCH_KINDS)


def test_state_over_time() -> None:
    call = Activity(id="a", kind="call", created_at=T0, due_at=T0 + H)
    done = call.complete(T0 + 3 * H, "no_answer")
    assert done.state_at(T0 - H) is None
    assert done.state_at(T0 + 2 * H) is ActivityState.OPEN
    assert done.is_overdue(T0 + 2 * H) and not done.is_overdue(T0 + 4 * H)
    assert not call.is_overdue(T0 + H)  # due strictly before as_of
    assert done.state is ActivityState.DONE and done.completed_late
    cancelled = call.cancel(T0 + 2 * H)
    assert cancelled.state_at(T0 + 2 * H) is ActivityState.CANCELLED
    assert cancelled.closed_at == T0 + 2 * H


def test_refusals() -> None:
    call = Activity(id="a", kind="call", created_at=T0)
    with pytest.raises(ValidationError) as error:
        call.complete(T0, "replied")
    assert error.value.field == "outcome"
    with pytest.raises(ValidationError) as early:
        call.complete(T0 - H, "connected")
    assert early.value.field == "at"
    done = call.complete(T0, "connected")
    with pytest.raises(IllegalTransitionError):
        done.cancel(T0 + H)
    with pytest.raises(ValidationError) as due:
        Activity(id="a", kind="call", created_at=T0, due_at=T0 - H)
    assert due.value.field == "activity.due_at"
    with pytest.raises(ValidationError):
        Activity(id="a", kind="call", created_at=T0, completed_at=T0)  # no outcome
    with pytest.raises(ValidationError) as kind:
        Activity(id="a", kind="fax", created_at=T0)
    assert kind.value.field == "activity.kind"
    with pytest.raises(ValidationError):
        Activity(id="a", kind="call", created_at=datetime(2026, 3, 2))


def test_redaction_blanks_free_text_only() -> None:
    call = Activity(id="a", kind="call", created_at=T0, subject="Ann's cell").complete(
        T0 + H, "connected", "she wants a demo"
    )
    blank = call.redacted()
    assert (blank.subject, blank.note, blank.outcome, blank.completed_at) == (
        "",
        "",
        call.outcome,
        call.completed_at,
    )
    assert blank.redacted() is blank
