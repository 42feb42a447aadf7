"""Feedback use cases: store feedback, open and work closed-loop cases, plan improvements.

Each function is one unit of work: it loads what it changes, calls the domain
([`crmcore.feedback`][crmcore.feedback]), saves, and hands the events to the outbox in the
same transaction, so it either completes entirely or leaves the store
unchanged. Functions that change a stored aggregate reload it first, so each redoes its unit of
work after a concurrent change (or a transient database failure) with the ``retry`` policy
([`DEFAULT_RETRY`][crmcore.services.retry.DEFAULT_RETRY]; ``retry=None`` raises at once); a change
guarded by ``expected_version`` is never retried.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.storage.memory import MemoryStore
    >>> store = MemoryStore()
    >>> at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    >>> complaint = Feedback(id="fb-1", customer_id="c-1", channel="email", kind="complaint",
    ...                      text="Still no refund", scores={"nps": 2}, at=at)
    >>> result = submit_feedback(store, complaint, customer_value=2500)
    >>> result.case.id, result.case.priority.label, result.case.rules
    ('case-fb-1', 'urgent', ('alarm_keyword',))
    >>> case = act_on_case(store, "case-fb-1", lambda c: c.acknowledge(at))
    >>> case.state.value, case.version
    ('acknowledged', 2)
    >>> [m.kind for m in store.outbox.pending()]
    ['feedback.received', 'case.opened', 'case.acknowledged']
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import attrs

from crmcore.feedback.cases import Case
from crmcore.feedback.feedback import Feedback, receive_feedback
from crmcore.feedback.improvement import ImprovementAction
from crmcore.feedback.rules import DEFAULT_CASE_RULES, CaseRules, open_case_for
from crmcore.kernel.errors import ConcurrencyConflictError, ValidationError
from crmcore.kernel.events import Outcome
from crmcore.kernel.money import Money
from crmcore.kernel.validators import integer
from crmcore.ports import Store
from crmcore.services._checks import callback, store_of
from crmcore.services.retry import DEFAULT_RETRY, RetryPolicy
from crmcore.services.retry import retry as run_retrying

__all__ = [
    "FeedbackSubmission",
    "act_on_case",
    "add_improvement_action",
    "change_improvement_action",
    "submit_feedback",
]


@attrs.frozen
class FeedbackSubmission:
    """What [`submit_feedback()`][crmcore.services.feedback.submit_feedback] stored: the feedback
    and the case it opened, if any."""

    feedback: Feedback
    case: Case | None


def submit_feedback(
    store: Store,
    feedback: Feedback,
    *,
    rules: CaseRules = DEFAULT_CASE_RULES,
    customer_value: int | float | Decimal | Money | None = None,
    at: datetime | None = None,
    case_id: str | None = None,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> FeedbackSubmission:
    """Store ``feedback`` and, when an auto-open rule matches, open its case, atomically.

    The case (see [`open_case_for()`][crmcore.feedback.rules.open_case_for]: priority from
    the matched severity and ``customer_value``, id ``"case-" + feedback.id``
    unless ``case_id`` is given) opens at ``at`` (default: when the feedback
    was given). The feedback, the case and their events
    (``feedback.received``, ``case.opened``, ``case.assigned`` when a rule
    routes to a team) are written in one transaction.

    Submitting a feedback id that is already stored raises
    [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError] and changes nothing, so a
    retried request opens no second case; so does a case id (or a case for this feedback) that is
    already taken.
    """
    store = store_of(store)
    if not isinstance(feedback, Feedback):
        raise ValidationError("feedback", feedback, "must be a Feedback")
    opened = open_case_for(feedback, rules, customer_value, at, case_id=case_id)

    def once() -> FeedbackSubmission:
        with store.unit_of_work() as uow:
            uow.feedback.add(uow.take(receive_feedback(feedback)))
            case = None if opened is None else uow.cases.add(uow.take(opened))
        return FeedbackSubmission(feedback, case)

    return run_retrying(once, retry)


def act_on_case(
    store: Store,
    case_id: str,
    operation: Callable[[Case], Outcome[Case]],
    *,
    expected_version: int | None = None,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Case:
    """Apply ``operation`` (a [`Case`][crmcore.feedback.cases.Case] method) to a stored case.

    ``operation`` receives the stored case and returns the outcome of one of
    its operations, e.g. ``lambda c: c.resolve(at, root_cause="billing",
    action_taken="refunded")``, ``lambda c: c.follow_up(at, verdict="resolved",
    satisfaction=5)``, ``lambda c: c.close(at)`` or ``lambda c: c.fire(trigger,
    at)``. The case is saved and the events queued in one transaction; an
    [`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError] (or any error) changes
    nothing. ``expected_version``: the version the caller last saw; a newer stored version raises
    [`ConcurrencyConflictError`][crmcore.kernel.errors.ConcurrencyConflictError] (never retried);
    otherwise a conflict runs ``operation`` again on the reloaded case.
    """
    store = store_of(store)
    callback(operation, "operation")
    if expected_version is not None:
        expected_version = integer(expected_version, "expected_version", low=0)

    def once() -> Case:
        with store.unit_of_work() as uow:
            current = uow.cases.get(case_id)
            if expected_version is not None and current.version != expected_version:
                raise ConcurrencyConflictError("case", case_id, expected_version, current.version)
            outcome = operation(current)
            if not isinstance(outcome, Outcome) or not isinstance(outcome.value, Case):
                raise ValidationError("operation", outcome, "must return an Outcome of a Case")
            if outcome.value.id != current.id:
                raise ValidationError(
                    "operation", outcome.value.id, f"must change case {case_id!r}"
                )
            if outcome.value is current:
                return current
            case = uow.cases.save(uow.take(outcome))
        return case

    return run_retrying(once, None if expected_version is not None else retry)


def add_improvement_action(
    store: Store,
    planned: Outcome[ImprovementAction],
    *,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> ImprovementAction:
    """Store an action made with
    [`ImprovementAction.plan()`][crmcore.feedback.improvement.ImprovementAction.plan] and its event;
    return it stored.

    An id already taken raises [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError].
    """
    store = store_of(store)
    if not isinstance(planned, Outcome) or not isinstance(planned.value, ImprovementAction):
        raise ValidationError("planned", planned, "must be an Outcome of an ImprovementAction")

    def once() -> ImprovementAction:
        with store.unit_of_work() as uow:
            action = uow.improvement_actions.add(uow.take(planned))
        return action

    return run_retrying(once, retry)


def change_improvement_action(
    store: Store,
    action_id: str,
    operation: Callable[[ImprovementAction], Outcome[ImprovementAction]],
    *,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> ImprovementAction:
    """Apply ``operation`` (start, complete, drop, reassign...) to a stored action and save it
    (run again on the reloaded action after a conflict)."""
    store = store_of(store)
    callback(operation, "operation")

    def once() -> ImprovementAction:
        with store.unit_of_work() as uow:
            current = uow.improvement_actions.get(action_id)
            outcome = operation(current)
            if not isinstance(outcome, Outcome) or not isinstance(outcome.value, ImprovementAction):
                raise ValidationError(
                    "operation", outcome, "must return an Outcome of an ImprovementAction"
                )
            if outcome.value.id != current.id:
                raise ValidationError(
                    "operation", outcome.value.id, f"must change action {action_id!r}"
                )
            if outcome.value is current:
                return current
            action = uow.improvement_actions.save(uow.take(outcome))
        return action

    return run_retrying(once, retry)
