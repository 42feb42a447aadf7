"""Events of automated workflows: enrolments, suppressed and deferred messages, action intents.

Every event names the enrolment (``aggregate_id``), the customer, the workflow and its version.
Two families:

* what happened to an enrolment:
  [`WorkflowEnrolled`][crmcore.marketing.automation_events.WorkflowEnrolled],
  [`WorkflowConverted`][crmcore.marketing.automation_events.WorkflowConverted],
  [`WorkflowCompleted`][crmcore.marketing.automation_events.WorkflowCompleted],
  [`WorkflowExited`][crmcore.marketing.automation_events.WorkflowExited], and what a guardrail
  did to a message: [`MessageSuppressed`][crmcore.marketing.automation_events.MessageSuppressed]
  (with the reason), [`MessageDeferred`][crmcore.marketing.automation_events.MessageDeferred]
  (until when, and why);
* **action intents** ([`ActionIntent`][crmcore.marketing.automation_events.ActionIntent]): what
  the host application must do (send a message, tag, award points, issue a coupon, create a task,
  set a field). Each carries an ``idempotency_key`` unique to the enrolment and step, so a host
  that relays its outbox twice executes each intent once: pass the key on (the loyalty ledger's
  ``award(key=...)``, a coupon's issue key, the e-mail provider's idempotency header).

Events carry ids and codes only. A message intent names the template and its payload (variables
fixed in the workflow definition, such as an offer code); the host renders it with the customer's
details, which never enter an event.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from crmcore.kernel.events import DomainEvent, event_type
from crmcore.kernel.frozen import FrozenDict
from crmcore.marketing.steps import FieldValue, PayloadValue

__all__ = [
    "ActionIntent",
    "AddTagIntent",
    "AwardPointsIntent",
    "CreateTaskIntent",
    "IssueCouponIntent",
    "MessageDeferred",
    "MessageSuppressed",
    "RemoveTagIntent",
    "SendMessageIntent",
    "SetFieldIntent",
    "WorkflowCompleted",
    "WorkflowConverted",
    "WorkflowEnrolled",
    "WorkflowEvent",
    "WorkflowExited",
]


@attrs.frozen(kw_only=True)
class WorkflowEvent(DomainEvent):
    """Base of the workflow events: ``aggregate_id`` is the enrolment id."""

    customer_id: str
    workflow_id: str
    workflow_version: int


@event_type("marketing.workflow.enrolled")
@attrs.frozen(kw_only=True)
class WorkflowEnrolled(WorkflowEvent):
    """The customer entered the workflow (their ``run``-th time) by ``source``.

    ``source`` names the trigger: ``event:<kind>``, ``segment:entered``, ``date:<field>``,
    ``workflow:<id>`` (entered by another workflow), ``request`` (the host asked).
    """

    run: int
    source: str


@event_type("marketing.workflow.converted")
@attrs.frozen(kw_only=True)
class WorkflowConverted(WorkflowEvent):
    """The enrolment met its goal: ``goal`` is the event kind that met it, or ``rule``."""

    goal: str


@event_type("marketing.workflow.completed")
@attrs.frozen(kw_only=True)
class WorkflowCompleted(WorkflowEvent):
    """The enrolment ran its last step."""


@event_type("marketing.workflow.exited")
@attrs.frozen(kw_only=True)
class WorkflowExited(WorkflowEvent):
    """The enrolment was ended without converting (``reason``: an
    [`ExitReason`][crmcore.marketing.enrolment_machine.ExitReason] value)."""

    reason: str


@event_type("marketing.workflow.message_suppressed")
@attrs.frozen(kw_only=True)
class MessageSuppressed(WorkflowEvent):
    """A message step was skipped: ``reason`` is a
    [`SuppressionReason`][crmcore.marketing.guardrails.SuppressionReason] value, ``rule`` the cap
    that refused it (``email/2 per 7d``) or ``None``."""

    step_id: str
    channel: str
    reason: str
    rule: str | None = None


@event_type("marketing.workflow.message_deferred")
@attrs.frozen(kw_only=True)
class MessageDeferred(WorkflowEvent):
    """A message waits until ``until`` (``reason``: ``quiet_hours`` or ``send_limit``)."""

    step_id: str
    channel: str
    reason: str
    until: datetime


@attrs.frozen(kw_only=True)
class ActionIntent(WorkflowEvent):
    """Something the host must do once: ``idempotency_key`` is unique per enrolment and step."""

    step_id: str
    idempotency_key: str


@event_type("marketing.workflow.send_message")
@attrs.frozen(kw_only=True)
class SendMessageIntent(ActionIntent):
    """Send template ``template`` on ``channel`` with ``variables`` (consent and caps checked)."""

    channel: str
    template: str
    variables: FrozenDict[str, PayloadValue] = attrs.field(factory=FrozenDict)


@event_type("marketing.workflow.add_tag")
@attrs.frozen(kw_only=True)
class AddTagIntent(ActionIntent):
    """Add ``tag`` to the customer."""

    tag: str


@event_type("marketing.workflow.remove_tag")
@attrs.frozen(kw_only=True)
class RemoveTagIntent(ActionIntent):
    """Remove ``tag`` from the customer."""

    tag: str


@event_type("marketing.workflow.award_points")
@attrs.frozen(kw_only=True)
class AwardPointsIntent(ActionIntent):
    """Award the loyalty ``action`` of ``program`` (``points`` overrides the configured amount)."""

    program: str
    action: str
    points: int | None = None


@event_type("marketing.workflow.issue_coupon")
@attrs.frozen(kw_only=True)
class IssueCouponIntent(ActionIntent):
    """Issue a coupon of the coupon definition ``definition`` to the customer."""

    definition: str


@event_type("marketing.workflow.create_task")
@attrs.frozen(kw_only=True)
class CreateTaskIntent(ActionIntent):
    """Create a follow-up task of kind ``task`` for ``owner``, due at ``due_at``."""

    owner: str
    task: str
    due_at: datetime


@event_type("marketing.workflow.set_field")
@attrs.frozen(kw_only=True)
class SetFieldIntent(ActionIntent):
    """Set the customer's custom attribute ``name`` to ``value``."""

    name: str
    value: FieldValue
