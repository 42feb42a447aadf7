"""Workflow definitions as data: trigger, conditions, steps, goal, re-enrolment, suppression.

A [`Workflow`][crmcore.marketing.workflows.Workflow] is one immutable *version* of an automation
(HubSpot workflow, Klaviyo flow, Braze canvas): what enrols a customer
([`crmcore.marketing.triggers`][crmcore.marketing.triggers]), the conditions they must meet then (a
segment rule), the [`steps`][crmcore.marketing.steps], a [`Goal`][crmcore.marketing.workflows.Goal]
that ends the enrolment early (the customer bought), whether and when a customer may go through it
again ([`Reenrolment`][crmcore.marketing.workflows.Reenrolment]) and the suppression lists whose
members it leaves alone. It is checked whole when built: step ids unique, every ``next`` /
``then`` / ``otherwise`` names a step, no step reachable from itself (the cycle is named), every
step reachable.

Changing a workflow while customers are in it means adding a version: a
[`WorkflowCatalog`][crmcore.marketing.workflows.WorkflowCatalog] holds every version of every
workflow; new enrolments take the newest, and each enrolment keeps the version it started on. A
catalog also checks what no single workflow can: that every workflow entered by an
[`EnterWorkflow`][crmcore.marketing.steps.EnterWorkflow] step exists, and that no workflows enter
each other in a cycle (over every version, since old enrolments still run old versions).

Examples:
    >>> from datetime import timedelta
    >>> from crmcore.marketing.steps import SendMessage, Wait
    >>> from crmcore.marketing.triggers import EventTrigger
    >>> welcome = Workflow(
    ...     id="welcome", version=1, name="Welcome",
    ...     trigger=EventTrigger("customer.registered"),
    ...     steps=[SendMessage("hello", channel="email", template="welcome-1"),
    ...            Wait("two-days", timedelta(days=2)),
    ...            SendMessage("tips", channel="email", template="welcome-2")],
    ...     goal=Goal(events={"customer.purchase_recorded"}),
    ... )
    >>> welcome.first, welcome.next_of("hello")
    ('hello', 'two-days')
    >>> WorkflowCatalog([welcome]).latest("welcome").version
    1
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Any, Final

import attrs

from crmcore.kernel.errors import NotFoundError, RuleError, RuleTypeError, ValidationError
from crmcore.kernel.events import DomainEvent
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.validators import instance_of, integer
from crmcore.marketing.steps import (
    END,
    Action,
    AddTag,
    AwardPoints,
    Branch,
    CreateTask,
    EnterWorkflow,
    IssueCoupon,
    RemoveTag,
    SendMessage,
    SetField,
    Step,
    Wait,
    WaitUntil,
    check_rule_value,
    check_slug,
)
from crmcore.marketing.triggers import (
    ChurnRiskTrigger,
    DateTrigger,
    EventTrigger,
    HolidayTrigger,
    InactivityTrigger,
    LifecycleTrigger,
    SegmentTrigger,
    Trigger,
    check_event_kind,
)
from crmcore.segments.rules import Predicate, RuleSchema
from crmcore.segments.typecheck import check_rule

__all__ = ["Goal", "Reenrolment", "Workflow", "WorkflowCatalog"]

_STEP_TYPES: Final = (
    Wait, WaitUntil, Branch, SendMessage, AddTag, RemoveTag, AwardPoints, IssueCoupon,
    CreateTask, SetField, EnterWorkflow,
)  # fmt: skip
_TRIGGER_TYPES: Final = (
    EventTrigger, SegmentTrigger, LifecycleTrigger, ChurnRiskTrigger, DateTrigger,
    HolidayTrigger, InactivityTrigger,
)  # fmt: skip


def _kinds(value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("goal.events", value, "must be a collection of event kinds")
    return frozenset(check_event_kind(v, "goal.events") for v in value)


def _goal_rule(value: object) -> Predicate | None:
    return None if value is None else check_rule_value(value, "goal.rule")


def _conditions(value: object) -> Predicate | None:
    return None if value is None else check_rule_value(value, "conditions")


def _workflow_id(value: object) -> str:
    return check_slug(value, "id")


@attrs.frozen
class Goal:
    """What ends an enrolment early as *converted*: an event of one of ``events`` (the customer
    bought) or ``rule`` holding for the customer when a step is about to run.

    A customer who meets the rule already when they would enrol is not enrolled.
    """

    events: frozenset[str] = attrs.field(factory=frozenset, converter=_kinds)
    rule: Predicate | None = attrs.field(default=None, converter=_goal_rule)

    def __attrs_post_init__(self) -> None:
        if not self.events and self.rule is None:
            raise ValidationError("goal", self, "needs events, a rule or both")

    def met_by(self, event: DomainEvent) -> bool:
        """Whether ``event`` meets the goal."""
        return instance_of(event, DomainEvent, "event", "a DomainEvent").kind in self.events


def _cooldown(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise ValidationError("reenrolment.cooldown", value, "must be a non-negative timedelta")


def _flag(field: str) -> Callable[[object, object, Any], None]:
    def check(_instance: object, _attribute: object, value: Any) -> None:
        if not isinstance(value, bool):
            raise ValidationError(field, value, "must be True or False")

    return check


@attrs.frozen
class Reenrolment:
    """Whether a customer may go through a workflow again, and how long after they last entered.

    A customer is never in one workflow twice at once; ``allowed=False`` (the default) lets them
    through once ever; ``allowed=True`` again once the previous run has ended and ``cooldown`` has
    passed since it started (Klaviyo's "not in this flow in the last 30 days").
    """

    allowed: bool = attrs.field(default=False, validator=_flag("reenrolment.allowed"))
    cooldown: timedelta = attrs.field(default=timedelta(0), validator=_cooldown)

    @classmethod
    def after(cls, cooldown: timedelta) -> Reenrolment:
        """Re-enrolment allowed ``cooldown`` after the previous enrolment started."""
        return cls(True, cooldown)


def _version(_instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError("version", value, "must be a whole number >= 1")


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ValidationError("name", value, "must be 1-200 characters")
    return " ".join(value.split())


def _trigger(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, _TRIGGER_TYPES):
        raise ValidationError("trigger", value, "must be a trigger of crmcore.marketing.triggers")


def _steps(value: object) -> tuple[Step, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("steps", value, "must be a sequence of steps")
    steps = tuple(value)
    if not steps:
        raise ValidationError("steps", value, "must hold at least one step")
    for i, step in enumerate(steps):
        if not isinstance(step, _STEP_TYPES):
            raise ValidationError(f"steps[{i}]", step, "must be a step of crmcore.marketing.steps")
    return steps


def _goal(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, Goal):
        raise ValidationError("goal", value, "must be a Goal or None")


def _reenrolment(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, Reenrolment):
        raise ValidationError("reenrolment", value, "must be a Reenrolment")


def _lists(value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("suppression_lists", value, "must be a collection of list names")
    return frozenset(check_slug(v, "suppression_lists") for v in value)


def _targets(step: Step) -> tuple[str | None, ...]:
    if isinstance(step, Branch):
        return (step.then, step.otherwise)
    return (step.next,)


@attrs.frozen(kw_only=True)
class Workflow:
    """One version of a workflow. ``id`` and ``version`` identify it; ``active=False`` stops new
    enrolments (running ones go on)."""

    id: str = attrs.field(converter=_workflow_id)
    version: int = attrs.field(validator=_version)
    name: str = attrs.field(converter=_name)
    trigger: Trigger = attrs.field(validator=_trigger)
    steps: tuple[Step, ...] = attrs.field(converter=_steps)
    conditions: Predicate | None = attrs.field(default=None, converter=_conditions)
    goal: Goal | None = attrs.field(default=None, validator=_goal)
    reenrolment: Reenrolment = attrs.field(factory=Reenrolment, validator=_reenrolment)
    suppression_lists: frozenset[str] = attrs.field(factory=frozenset, converter=_lists)
    active: bool = attrs.field(default=True, validator=_flag("active"))
    _index: FrozenDict[str, int] = attrs.field(init=False, eq=False, repr=False)
    _order: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        index: dict[str, int] = {}
        for i, step in enumerate(self.steps):
            if step.id in index:
                raise ValidationError(f"steps[{i}].id", step.id, "is used by an earlier step")
            index[step.id] = i
        object.__setattr__(self, "_index", FrozenDict(index))
        for step in self.steps:
            for target in _targets(step):
                if target is not None and target != END and target not in index:
                    raise ValidationError(
                        f"steps.{step.id}.next", target, "is not the id of a step of the workflow"
                    )
        object.__setattr__(self, "_order", self._topological_order())

    def _topological_order(self) -> tuple[str, ...]:
        """Steps reachable from the first, parents first; a loop or an unreachable step raises."""
        state: dict[str, int] = {}  # 1 on the path, 2 done
        order: list[str] = []
        stack: list[tuple[str, Iterator[str]]] = [(self.first, iter(self.successors(self.first)))]
        state[self.first] = 1
        path = [self.first]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
                order.append(node)
                continue
            if child == END or state.get(child) == 2:
                continue
            if state.get(child) == 1:
                cycle = " -> ".join([*path[path.index(child) :], child])
                raise ValidationError("steps", cycle, "the steps form a loop")
            state[child] = 1
            path.append(child)
            stack.append((child, iter(self.successors(child))))
        for step in self.steps:
            if step.id not in state:
                raise ValidationError(
                    f"steps.{step.id}", step.id, "cannot be reached from the first step"
                )
        return tuple(reversed(order))

    # -- queries ----------------------------------------------------------------------------------
    @property
    def key(self) -> str:
        """``"<id>@<version>"``: how events and errors name this version."""
        return f"{self.id}@{self.version}"

    @property
    def first(self) -> str:
        """The id of the step an enrolment starts at."""
        return self.steps[0].id

    @property
    def order(self) -> tuple[str, ...]:
        """Step ids in an order where every step comes after every step that leads to it."""
        return self._order

    def step(self, step_id: str) -> Step:
        """The step with id ``step_id`` (NotFoundError if none)."""
        position = self._index.get(instance_of(step_id, str, "step_id", "a step id"))
        if position is None:
            raise NotFoundError(f"step of workflow {self.key}", step_id)
        return self.steps[position]

    def _following(self, step_id: str) -> str:
        position = self._index[step_id]
        return self.steps[position + 1].id if position + 1 < len(self.steps) else END

    def _resolve(self, step_id: str, target: str | None) -> str:
        return self._following(step_id) if target is None else target

    def next_of(self, step_id: str, branch: bool | None = None) -> str:
        """Where the enrolment goes after ``step_id`` (a step id or ``END``); for a branch,
        ``branch`` is whether its rule held."""
        step = self.step(step_id)
        if isinstance(step, Branch):
            if branch is None:
                raise ValidationError(
                    "branch", branch, f"step {step_id!r} is a branch: say which way"
                )
            return self._resolve(step_id, step.then if branch else step.otherwise)
        return self._resolve(step_id, step.next)

    def successors(self, step_id: str) -> tuple[str, ...]:
        """The steps (or ``END``) that ``step_id`` may lead to."""
        step = self.step(step_id)
        return tuple(dict.fromkeys(self._resolve(step_id, t) for t in _targets(step)))

    @property
    def actions(self) -> tuple[Action, ...]:
        """The action steps, in list order."""
        return tuple(
            s for s in self.steps if not isinstance(s, Wait | WaitUntil | Branch | EnterWorkflow)
        )

    @property
    def entered_workflows(self) -> frozenset[str]:
        """The workflows this version's steps enter."""
        return frozenset(s.workflow for s in self.steps if isinstance(s, EnterWorkflow))

    def rules(self) -> Iterator[tuple[str, Predicate]]:
        """Every segment rule of the workflow with the field that holds it."""
        if self.conditions is not None:
            yield "conditions", self.conditions
        if self.goal is not None and self.goal.rule is not None:
            yield "goal.rule", self.goal.rule
        for step in self.steps:
            if isinstance(step, Branch):
                yield f"steps.{step.id}.rule", step.rule


def _workflows(value: Iterable[Workflow]) -> dict[str, dict[int, Workflow]]:
    if isinstance(value, str | Mapping) or not isinstance(value, Iterable):
        raise ValidationError("workflows", value, "must be a collection of Workflow")
    out: dict[str, dict[int, Workflow]] = {}
    for i, workflow in enumerate(value):
        if not isinstance(workflow, Workflow):
            raise ValidationError(f"workflows[{i}]", workflow, "must be a Workflow")
        versions = out.setdefault(workflow.id, {})
        if workflow.version in versions and versions[workflow.version] != workflow:
            raise ValidationError(
                f"workflows[{i}].version", workflow.key, "is another definition of a stored version"
            )
        versions[workflow.version] = workflow
    return out


class WorkflowCatalog:
    """Every version of a set of workflows, checked together.

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] when two different
    definitions share an id and version, a step enters a workflow that is not in the set, or
    workflows enter each other in a cycle (named in the error: ``"a -> b -> a"``).
    """

    def __init__(self, workflows: Iterable[Workflow] = ()) -> None:
        self._versions: Final = {
            k: FrozenDict(sorted(v.items())) for k, v in sorted(_workflows(workflows).items())
        }
        self._latest: Final = {k: list(v.values())[-1] for k, v in self._versions.items()}
        self._by_key: Final = {
            (w.id, w.version): w for v in self._versions.values() for w in v.values()
        }
        self._check_entries()
        self._entry_order: Final = self._order_by_entries()

    def __repr__(self) -> str:
        return f"WorkflowCatalog({', '.join(w.key for w in self)})"

    def __iter__(self) -> Iterator[Workflow]:
        """The newest version of each workflow, by id."""
        return (self.latest(k) for k in self._versions)

    def __len__(self) -> int:
        return len(self._versions)

    def __contains__(self, workflow_id: object) -> bool:
        return workflow_id in self._versions

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkflowCatalog) and self._versions == other._versions

    __hash__ = None  # type: ignore[assignment]

    @property
    def ids(self) -> tuple[str, ...]:
        """The workflow ids, sorted."""
        return tuple(self._versions)

    def versions(self, workflow_id: str) -> tuple[Workflow, ...]:
        """Every version of ``workflow_id``, oldest first (NotFoundError if unknown)."""
        versions = self._versions.get(instance_of(workflow_id, str, "workflow_id", "a workflow id"))
        if versions is None:
            raise NotFoundError("workflow", workflow_id)
        return tuple(versions.values())

    def latest(self, workflow_id: str) -> Workflow:
        """The newest version of ``workflow_id``: the one new enrolments take."""
        found = self._latest.get(instance_of(workflow_id, str, "workflow_id", "a workflow id"))
        if found is None:
            raise NotFoundError("workflow", workflow_id)
        return found

    def get(self, workflow_id: str, version: int) -> Workflow:
        """Version ``version`` of ``workflow_id`` (NotFoundError naming ``id@version``)."""
        instance_of(workflow_id, str, "workflow_id", "a workflow id")
        found = self._by_key.get((workflow_id, integer(version, "version")))
        if found is None:
            raise NotFoundError("workflow version", f"{workflow_id}@{version}")
        return found

    def all_versions(self) -> tuple[Workflow, ...]:
        """Every version of every workflow, by id then version."""
        return tuple(w for versions in self._versions.values() for w in versions.values())

    def with_version(self, workflow: Workflow) -> WorkflowCatalog:
        """A catalog with ``workflow`` added; it must be newer than the stored versions of its id.

        The catalog itself does not change, also when the new version is refused.
        """
        instance_of(workflow, Workflow, "workflow")
        if workflow.id in self._versions and workflow.version <= self.latest(workflow.id).version:
            raise ValidationError(
                "version",
                workflow.version,
                f"must be newer than {self.latest(workflow.id).key} (versions are never rewritten)",
            )
        return WorkflowCatalog((*self.all_versions(), workflow))

    @property
    def entry_order(self) -> tuple[str, ...]:
        """Workflow ids ordered so that a workflow comes after every workflow that enters it."""
        return self._entry_order

    def check(self, schema: RuleSchema) -> None:
        """Type-check every rule of every version against ``schema`` (the fields of your data).

        Raises [`RuleTypeError`][crmcore.kernel.errors.RuleTypeError] naming the field of the
        workflow in its message.
        """
        for workflow in self.all_versions():
            for field, rule in workflow.rules():
                try:
                    check_rule(rule, schema)
                except RuleError as error:
                    raise RuleTypeError(f"{workflow.key} {field}: {error.message}") from error

    def _edges(self) -> dict[str, frozenset[str]]:
        return {
            k: frozenset().union(*(w.entered_workflows for w in versions.values()))
            for k, versions in self._versions.items()
        }

    def _check_entries(self) -> None:
        for workflow in self.all_versions():
            for step in workflow.steps:
                if isinstance(step, EnterWorkflow) and step.workflow not in self._versions:
                    raise ValidationError(
                        f"workflows.{workflow.key}.steps.{step.id}.workflow",
                        step.workflow,
                        "is not a workflow of the set",
                    )

    def _order_by_entries(self) -> tuple[str, ...]:
        edges = self._edges()
        state: dict[str, int] = {}
        order: list[str] = []
        for root in self._versions:
            if root in state:
                continue
            path = [root]
            state[root] = 1
            stack: list[Iterator[str]] = [iter(sorted(edges[root]))]
            while stack:
                child = next(stack[-1], None)
                if child is None:
                    stack.pop()
                    state[path[-1]] = 2
                    order.append(path.pop())
                    continue
                if state.get(child) == 2:
                    continue
                if state.get(child) == 1:
                    cycle = " -> ".join([*path[path.index(child) :], child])
                    raise ValidationError(
                        "workflows", cycle, "the workflows enter each other in a cycle"
                    )
                state[child] = 1
                path.append(child)
                stack.append(iter(sorted(edges[child])))
        return tuple(reversed(order))
