"""Workflow steps: waits, branches and actions, each a small frozen value with an id.

A workflow's steps run in list order unless a step says where to go: ``next`` (any step) or
``then`` / ``otherwise`` (a [`Branch`][crmcore.marketing.steps.Branch]) name another step's id,
or [`END`][crmcore.marketing.steps.END] to finish; ``None`` means "the following step". Steps never
run twice in one enrolment (the workflow checks that the steps form no loop), which is what makes
an action's idempotency key (enrolment id and step id) unique.

* [`Wait`][crmcore.marketing.steps.Wait] waits a duration;
  [`WaitUntil`][crmcore.marketing.steps.WaitUntil] for a weekday and wall time in the
  customer's zone;
* [`Branch`][crmcore.marketing.steps.Branch] goes one way or the other by a segment rule;
* actions ask the host to do something: [`SendMessage`][crmcore.marketing.steps.SendMessage]
  (guardrails apply), [`AddTag`][crmcore.marketing.steps.AddTag],
  [`RemoveTag`][crmcore.marketing.steps.RemoveTag],
  [`AwardPoints`][crmcore.marketing.steps.AwardPoints] (a loyalty action's points),
  [`IssueCoupon`][crmcore.marketing.steps.IssueCoupon] (of a coupon definition),
  [`CreateTask`][crmcore.marketing.steps.CreateTask] (a follow-up for an owner),
  [`SetField`][crmcore.marketing.steps.SetField] (a custom attribute);
* [`EnterWorkflow`][crmcore.marketing.steps.EnterWorkflow] enrols the customer in another
  workflow.

Examples:
    >>> from datetime import timedelta
    >>> Wait("cool-off", timedelta(days=-1))
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.ValidationError: steps.cool-off.duration: must not be negative ...
    >>> SendMessage("mail", channel="email", template="")
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.ValidationError: steps.mail.template: must be a template id ...
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time, timedelta
from typing import Any, Final, TypeAlias

import attrs

from crmcore.customers.customer import normalize_attribute
from crmcore.customers.profile import normalize_tag
from crmcore.customers.records import MarketingChannel
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.ids import validate_id
from crmcore.marketing.local_time import check_wall_time, check_weekdays
from crmcore.segments.parser import parse_rule
from crmcore.segments.rules import Predicate

__all__ = [
    "END",
    "Action",
    "AddTag",
    "AwardPoints",
    "Branch",
    "CreateTask",
    "EnterWorkflow",
    "FieldValue",
    "IssueCoupon",
    "PayloadValue",
    "RemoveTag",
    "SendMessage",
    "SetField",
    "Step",
    "Wait",
    "WaitUntil",
    "check_rule_value",
    "check_slug",
]

END: Final = "end"
"""The step id that means "finish the enrolment"."""

PayloadValue: TypeAlias = str | int | float | bool | None
"""A value of a message's payload: template variables such as an offer code (no personal data)."""

FieldValue: TypeAlias = str | int | float | bool
"""A value [`SetField`][crmcore.marketing.steps.SetField] may write."""

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}\Z")
_TEMPLATE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}\Z")


def check_slug(value: object, field: str) -> str:
    """A short lower-case id (``"win-back"``, ``"wait_3d"``): 1-40 of a-z, 0-9, ``_`` and ``-``."""
    if not isinstance(value, str) or not _SLUG.match(value):
        raise ValidationError(field, value, "must be 1-40 of a-z, 0-9, _ and - (lower case)")
    return value


def check_rule_value(value: object, field: str) -> Predicate:
    """A segment rule, from a rule or its text (parsed with
    [`parse_rule()`][crmcore.segments.parse_rule])."""
    if isinstance(value, str):
        return parse_rule(value)
    if not isinstance(value, Predicate):
        raise ValidationError(field, value, "must be a segment rule or its text")
    return value


def _step_id(value: object) -> str:
    name = check_slug(value, "steps.id")
    if name == END:
        raise ValidationError("steps.id", value, f"{END!r} is reserved for finishing")
    return name


def _target(value: object) -> str | None:
    return None if value is None else check_slug(value, "steps.next")


def _where(step: object, name: str) -> str:
    return f"steps.{getattr(step, 'id', '?')}.{name}"


def _duration(instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, timedelta):
        raise ValidationError(_where(instance, "duration"), value, "must be a timedelta")
    if value < timedelta(0):
        raise ValidationError(_where(instance, "duration"), value, "must not be negative")
    if value > timedelta(days=3660):
        raise ValidationError(_where(instance, "duration"), value, "must be at most ten years")


@attrs.frozen
class Wait:
    """Wait ``duration`` (zero: go straight on), then go on."""

    id: str = attrs.field(converter=_step_id)
    duration: timedelta = attrs.field(validator=_duration)
    next: str | None = attrs.field(default=None, converter=_target, kw_only=True)


def _weekdays(value: object) -> frozenset[int]:
    return check_weekdays(value, "steps.weekdays")


def _until_at(value: object) -> time:
    return check_wall_time(value, "steps.at")


@attrs.frozen
class WaitUntil:
    """Wait for the first instant (now or later) that is ``at`` on one of ``weekdays``, local time.

    ``weekdays`` are 0 (Monday) to 6 or names (``{"tue", "thu"}``).
    """

    id: str = attrs.field(converter=_step_id)
    weekdays: frozenset[int] = attrs.field(converter=_weekdays)
    at: time = attrs.field(converter=_until_at)
    next: str | None = attrs.field(default=None, converter=_target, kw_only=True)


def _branch_rule(value: object) -> Predicate:
    return check_rule_value(value, "steps.rule")


@attrs.frozen
class Branch:
    """Go to ``then`` if ``rule`` holds for the customer, else to ``otherwise``.

    ``None`` is the following step, [`END`][crmcore.marketing.steps.END] finishes. The rule is
    tested on the customer's facts (what actions of the same run asked for is not seen yet).
    """

    id: str = attrs.field(converter=_step_id)
    rule: Predicate = attrs.field(converter=_branch_rule)
    then: str | None = attrs.field(default=None, converter=_target)
    otherwise: str | None = attrs.field(default=None, converter=_target)

    def __attrs_post_init__(self) -> None:
        if self.then == self.otherwise:
            raise ValidationError(
                _where(self, "otherwise"), self.otherwise, "must lead elsewhere than then"
            )


def _channel(instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, MarketingChannel):
        raise ValidationError(_where(instance, "channel"), value, "must be a MarketingChannel")


def _template(instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, str) or not _TEMPLATE.match(value):
        raise ValidationError(
            _where(instance, "template"), value, "must be a template id (1-100 characters)"
        )


def _variables(value: object) -> FrozenDict[str, PayloadValue]:
    if value is None:
        return FrozenDict()
    if not isinstance(value, Mapping):
        raise ValidationError("steps.variables", value, "must be a mapping of name to value")
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise ValidationError("steps.variables", key, "names must be non-empty strings")
        if isinstance(item, float) and item != item:
            raise ValidationError(f"steps.variables.{key}", item, "must be a finite number")
        if item is not None and not isinstance(item, str | int | float | bool):
            raise ValidationError(
                f"steps.variables.{key}", item, "must be a string, number, boolean or null"
            )
    return FrozenDict(value)


def _parse_channel(value: object) -> MarketingChannel:
    if isinstance(value, str) and value in MarketingChannel._value2member_map_:
        return MarketingChannel(value)
    return value  # type: ignore[return-value]  # the validator names the step


@attrs.frozen
class SendMessage:
    """Ask the host to send template ``template`` on ``channel``, with the payload ``variables``.

    Consent, frequency caps, quiet hours and send limits are checked when it runs
    ([`crmcore.marketing.guardrails`][crmcore.marketing.guardrails]). The variables travel in an
    event: template variables such as an offer code, never personal data.
    """

    id: str = attrs.field(converter=_step_id)
    channel: MarketingChannel = attrs.field(converter=_parse_channel, validator=_channel)
    template: str = attrs.field(validator=_template)
    variables: FrozenDict[str, PayloadValue] = attrs.field(factory=FrozenDict, converter=_variables)
    next: str | None = attrs.field(default=None, converter=_target, kw_only=True)


def _tag(value: object) -> str:
    return normalize_tag(value, "steps.tag")


@attrs.frozen
class AddTag:
    """Ask the host to add ``tag`` to the customer."""

    id: str = attrs.field(converter=_step_id)
    tag: str = attrs.field(converter=_tag)
    next: str | None = attrs.field(default=None, converter=_target, kw_only=True)


@attrs.frozen
class RemoveTag:
    """Ask the host to remove ``tag`` from the customer."""

    id: str = attrs.field(converter=_step_id)
    tag: str = attrs.field(converter=_tag)
    next: str | None = attrs.field(default=None, converter=_target, kw_only=True)


def _program(value: object) -> str:
    return validate_id(value, "steps.program")


def _action(value: object) -> str:
    return check_slug(value, "steps.action")


def _points(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000_000:
        raise ValidationError("steps.points", value, "must be a whole number of points, 1..10^7")
    return value


@attrs.frozen
class AwardPoints:
    """Ask the host to award the loyalty ``action`` of ``program`` (``points`` overrides its
    configured amount), as `LoyaltyAccount.award(..., key=...)` takes it."""

    id: str = attrs.field(converter=_step_id)
    program: str = attrs.field(converter=_program)
    action: str = attrs.field(converter=_action)
    points: int | None = attrs.field(default=None, converter=_points)
    next: str | None = attrs.field(default=None, converter=_target, kw_only=True)


def _definition(value: object) -> str:
    return validate_id(value, "steps.definition")


@attrs.frozen
class IssueCoupon:
    """Ask the host to issue a coupon of the coupon definition ``definition`` to the customer."""

    id: str = attrs.field(converter=_step_id)
    definition: str = attrs.field(converter=_definition)
    next: str | None = attrs.field(default=None, converter=_target, kw_only=True)


def _owner(value: object) -> str:
    return validate_id(value, "steps.owner")


def _task(value: object) -> str:
    return check_slug(value, "steps.task")


def _due(instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise ValidationError(_where(instance, "due_in"), value, "must be a non-negative timedelta")


@attrs.frozen
class CreateTask:
    """Ask the host to create a follow-up task of kind ``task`` for ``owner``, due ``due_in``
    later."""

    id: str = attrs.field(converter=_step_id)
    owner: str = attrs.field(converter=_owner)
    task: str = attrs.field(converter=_task)
    due_in: timedelta = attrs.field(default=timedelta(days=1), validator=_due)
    next: str | None = attrs.field(default=None, converter=_target, kw_only=True)


def _field_value(instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, float) and value != value:
        raise ValidationError(_where(instance, "value"), value, "must be a finite number")
    if not isinstance(value, str | int | float | bool):
        raise ValidationError(_where(instance, "value"), value, "must be a string, number or bool")
    normalize_attribute(getattr(instance, "name", "x"), value)


def _attribute_name(value: object) -> str:
    try:
        name, _ = normalize_attribute(value, "")
    except ValidationError as error:
        raise ValidationError("steps.name", value, error.reason) from None
    if name == "time_zone":
        raise ValidationError("steps.name", value, "the time zone is not set by a workflow")
    return name


@attrs.frozen
class SetField:
    """Ask the host to set the custom attribute ``name`` to ``value``."""

    id: str = attrs.field(converter=_step_id)
    name: str = attrs.field(converter=_attribute_name)
    value: FieldValue = attrs.field(validator=_field_value)
    next: str | None = attrs.field(default=None, converter=_target, kw_only=True)


def _workflow(value: object) -> str:
    return check_slug(value, "steps.workflow")


@attrs.frozen
class EnterWorkflow:
    """Enrol the customer in the workflow ``workflow`` (its newest version), then go on.

    The other workflow's conditions, suppression lists and re-enrolment policy apply; its trigger
    does not. Workflows that enter each other in a cycle are refused when the set is validated.
    """

    id: str = attrs.field(converter=_step_id)
    workflow: str = attrs.field(converter=_workflow)
    next: str | None = attrs.field(default=None, converter=_target, kw_only=True)


Action: TypeAlias = (
    SendMessage | AddTag | RemoveTag | AwardPoints | IssueCoupon | CreateTask | SetField
)
"""A step that asks the host to do something (an action intent)."""

Step: TypeAlias = Wait | WaitUntil | Branch | Action | EnterWorkflow
"""Any workflow step."""
