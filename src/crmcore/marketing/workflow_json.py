"""A stable, versioned JSON form of workflows, for storage and APIs.

A document is ``{"crmcore_workflow": 1, "workflow": {...}}``; every trigger and step is an object
with a ``"type"`` tag, rules are embedded in their own versioned form
([`crmcore.segments.jsonform`][crmcore.segments.jsonform]), durations are
``{"days", "hours", "minutes", "seconds", "microseconds"}`` objects, wall times ``"HH:MM"`` (or
``"HH:MM:SS"``), dates ``"YYYY-MM-DD"``:

    {"crmcore_workflow": 1, "workflow": {
      "id": "win-back", "version": 2, "name": "Win back", "active": true,
      "trigger": {"type": "churn_risk", "level": 0.6},
      "conditions": null,
      "steps": [
        {"type": "send_message", "id": "offer", "channel": "email", "template": "winback",
         "variables": {"coupon": "BACK10"}, "next": null},
        {"type": "wait", "id": "pause", "duration": {"days": 3, ...}, "next": null}],
      "goal": {"events": ["customer.purchase_recorded"], "rule": null},
      "reenrolment": {"allowed": true, "cooldown": {"days": 90, ...}},
      "suppression_lists": ["staff"]}}

[`workflow_to_json()`][crmcore.marketing.workflow_json.workflow_to_json] writes every key;
[`workflow_from_json()`][crmcore.marketing.workflow_json.workflow_from_json] is strict: an unknown
``type``, a missing or unexpected key, a value of the wrong JSON type, a version other than
[`JSON_VERSION`][crmcore.marketing.workflow_json.JSON_VERSION], or a value the workflow refuses (a
negative wait, a message without a template, an unknown event kind) raises a
[`ValidationError`][crmcore.kernel.errors.ValidationError] whose field is the JSON path
(``$.workflow.steps[1].duration``). Keys whose value is the default (``next``, ``where``,
``variables``, ``conditions``, ``goal``, ...) may be left out when reading.

Examples:
    >>> from crmcore.marketing.steps import SendMessage
    >>> from crmcore.marketing.triggers import EventTrigger
    >>> from crmcore.marketing.workflows import Workflow
    >>> flow = Workflow(id="thanks", version=1, name="Thanks",
    ...                 trigger=EventTrigger("case.closed"),
    ...                 steps=[SendMessage("mail", channel="email", template="thanks")])
    >>> workflow_from_json(workflow_to_json(flow)) == flow
    True
    >>> bad = workflow_to_json(flow)
    >>> bad["workflow"]["steps"][0]["template"] = ""
    >>> workflow_from_json(bad)
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.ValidationError: $.workflow.steps[0].template: must be a template id ...
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date, time, timedelta
from typing import Any, Final

from crmcore.kernel.errors import RuleError, ValidationError
from crmcore.kernel.validators import integer
from crmcore.marketing.local_time import WEEKDAYS
from crmcore.marketing.steps import (
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
)
from crmcore.marketing.workflows import Goal, Reenrolment, Workflow
from crmcore.segments.jsonform import rule_from_json, rule_to_json
from crmcore.segments.rules import Predicate

__all__ = [
    "JSON_VERSION",
    "workflow_from_json",
    "workflow_from_json_text",
    "workflow_to_json",
    "workflow_to_json_text",
]

JSON_VERSION: Final = 1
"""The format version this crmcore writes and reads."""

_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_UNITS: Final = ("days", "hours", "minutes", "seconds", "microseconds")


# --- writing ---------------------------------------------------------------------------------


def _duration(value: timedelta) -> dict[str, int]:
    seconds = value.seconds
    return {
        "days": value.days,
        "hours": seconds // 3600,
        "minutes": seconds % 3600 // 60,
        "seconds": seconds % 60,
        "microseconds": value.microseconds,
    }


def _time(value: time) -> str:
    text = value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if value.microsecond:
        raise ValidationError("at", value, "must be whole seconds to be written as JSON")
    return text


def _rule(rule: Predicate | None) -> dict[str, Any] | None:
    return None if rule is None else rule_to_json(rule)


def _trigger_json(trigger: Trigger) -> dict[str, Any]:
    match trigger:
        case EventTrigger(kind=kind, where=where):
            return {"type": "event", "kind": kind, "where": dict(where)}
        case SegmentTrigger(segment=segment, on=on):
            return {"type": "segment", "segment": segment, "on": on}
        case LifecycleTrigger(to_state=to_state, from_state=from_state):
            return {
                "type": "lifecycle",
                "to_state": to_state.value,
                "from_state": None if from_state is None else from_state.value,
            }
        case ChurnRiskTrigger(level=level):
            return {"type": "churn_risk", "level": level}
        case DateTrigger():
            return {
                "type": "date",
                "field": trigger.field,
                "yearly": trigger.yearly,
                "offset_days": trigger.offset_days,
                "at": _time(trigger.at),
                "leap_day": trigger.leap_day,
            }
        case HolidayTrigger():
            return {
                "type": "holiday",
                "calendar": trigger.calendar,
                "dates": sorted(d.isoformat() for d in trigger.dates),
                "at": _time(trigger.at),
            }
        case InactivityTrigger(days=days, field=field):
            return {"type": "inactivity", "days": days, "field": field}
    raise ValidationError("trigger", trigger, "is not a trigger")


def _step_json(step: Step) -> dict[str, Any]:
    out: dict[str, Any]
    match step:
        case Wait():
            out = {"type": "wait", "id": step.id, "duration": _duration(step.duration)}
        case WaitUntil():
            out = {
                "type": "wait_until",
                "id": step.id,
                "weekdays": [WEEKDAYS[d] for d in sorted(step.weekdays)],
                "at": _time(step.at),
            }
        case Branch():
            return {
                "type": "branch",
                "id": step.id,
                "rule": rule_to_json(step.rule),
                "then": step.then,
                "otherwise": step.otherwise,
            }
        case SendMessage():
            out = {
                "type": "send_message",
                "id": step.id,
                "channel": step.channel.value,
                "template": step.template,
                "variables": dict(step.variables),
            }
        case AddTag() | RemoveTag():
            kind = "add_tag" if isinstance(step, AddTag) else "remove_tag"
            out = {"type": kind, "id": step.id, "tag": step.tag}
        case AwardPoints():
            out = {
                "type": "award_points",
                "id": step.id,
                "program": step.program,
                "action": step.action,
                "points": step.points,
            }
        case IssueCoupon():
            out = {"type": "issue_coupon", "id": step.id, "definition": step.definition}
        case CreateTask():
            out = {
                "type": "create_task",
                "id": step.id,
                "owner": step.owner,
                "task": step.task,
                "due_in": _duration(step.due_in),
            }
        case SetField():
            out = {"type": "set_field", "id": step.id, "name": step.name, "value": step.value}
        case EnterWorkflow():
            out = {"type": "enter_workflow", "id": step.id, "workflow": step.workflow}
        case _:
            raise ValidationError("step", step, "is not a step")
    out["next"] = step.next
    return out


def workflow_to_json(workflow: Workflow) -> dict[str, Any]:
    """The workflow as a JSON-ready dict: ``{"crmcore_workflow": 1, "workflow": {...}}``."""
    if not isinstance(workflow, Workflow):
        raise ValidationError("workflow", workflow, "must be a Workflow")
    goal = workflow.goal
    return {
        "crmcore_workflow": JSON_VERSION,
        "workflow": {
            "id": workflow.id,
            "version": workflow.version,
            "name": workflow.name,
            "active": workflow.active,
            "trigger": _trigger_json(workflow.trigger),
            "conditions": _rule(workflow.conditions),
            "steps": [_step_json(s) for s in workflow.steps],
            "goal": None
            if goal is None
            else {"events": sorted(goal.events), "rule": _rule(goal.rule)},
            "reenrolment": {
                "allowed": workflow.reenrolment.allowed,
                "cooldown": _duration(workflow.reenrolment.cooldown),
            },
            "suppression_lists": sorted(workflow.suppression_lists),
        },
    }


def workflow_to_json_text(workflow: Workflow, *, indent: int | None = None) -> str:
    """The JSON form as a string (keys in a fixed order: equal workflows give equal text).

    Raises:
        ValidationError: ``indent`` is neither ``None`` nor an integer of at most 100.
    """
    spaces = None if indent is None else integer(indent, "indent", high=100)
    return json.dumps(workflow_to_json(workflow), indent=spaces, ensure_ascii=False)


# --- reading ---------------------------------------------------------------------------------


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


class _Reader:
    """Reads one object's keys with their JSON paths; unknown keys left over are an error."""

    def __init__(self, obj: object, path: str) -> None:
        if not isinstance(obj, Mapping):
            raise ValidationError(path, obj, f"must be an object, found {_type_name(obj)}")
        self.obj, self.path, self.used = obj, path, set[str]()

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def raw(self, key: str, default: object = None, *, optional: bool = False) -> Any:
        self.used.add(key)
        if key not in self.obj:
            if optional:
                return default
            raise ValidationError(self.at(key), None, "is missing")
        return self.obj[key]

    def typed(
        self, key: str, kind: type, what: str, *, optional: bool = False, default: object = None
    ) -> Any:
        if optional and key not in self.obj:
            self.used.add(key)
            return default
        value = self.raw(key)
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            raise ValidationError(self.at(key), value, f"must be {what}, found {_type_name(value)}")
        return value

    def done(self) -> None:
        extra = sorted(str(k) for k in self.obj if k not in self.used)
        if extra:
            raise ValidationError(self.at(extra[0]), self.obj[extra[0]], "is not a known key")


def _build(path: str, strip: str, make: Callable[[], Any]) -> Any:
    """Call ``make``; a ValidationError it raises is re-raised naming the JSON path."""
    try:
        return make()
    except ValidationError as error:
        field = re.sub(strip, "", error.field)
        raise ValidationError(f"{path}.{field}", error.value, error.reason) from None
    except RuleError as error:
        raise ValidationError(path, None, f"has an invalid rule: {error.message}") from None


def _read_duration(obj: object, path: str) -> timedelta:
    reader = _Reader(obj, path)
    parts = {u: reader.typed(u, int, "a whole number", optional=True, default=0) for u in _UNITS}
    reader.done()
    try:
        return timedelta(**parts)
    except OverflowError:
        raise ValidationError(path, obj, "is too long a duration") from None


def _read_time(value: object, path: str) -> time:
    match = _TIME.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValidationError(path, value, "must be a wall time 'HH:MM' or 'HH:MM:SS'")
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def _read_rule(value: object, path: str) -> Predicate | None:
    if value is None:
        return None
    try:
        return rule_from_json(value)
    except RuleError as error:
        raise ValidationError(path, None, f"is not a valid rule: {error.message}") from None


def _read_trigger(obj: object, path: str) -> Trigger:
    r = _Reader(obj, path)
    kind = r.typed("type", str, "a trigger type")
    cls: Callable[..., Trigger]
    if kind == "event":
        cls = EventTrigger
        kw = {"kind": r.raw("kind"), "where": r.typed("where", dict, "an object", optional=True)}
    elif kind == "segment":
        cls = SegmentTrigger
        kw = {"segment": r.raw("segment"), "on": r.raw("on", "entered", optional=True)}
    elif kind == "lifecycle":
        cls = LifecycleTrigger
        kw = {"to_state": r.raw("to_state"), "from_state": r.raw("from_state", optional=True)}
    elif kind == "churn_risk":
        cls, kw = ChurnRiskTrigger, {"level": r.raw("level")}
    elif kind == "date":
        cls = DateTrigger
        kw = {
            "field": r.raw("field"),
            "yearly": r.raw("yearly", True, optional=True),
            "offset_days": r.raw("offset_days", 0, optional=True),
            "at": _read_time(r.raw("at", "09:00", optional=True), r.at("at")),
            "leap_day": r.raw("leap_day", "feb28", optional=True),
        }
    elif kind == "holiday":
        cls = HolidayTrigger
        kw = {
            "dates": _read_dates(r.typed("dates", list, "an array of dates"), r.at("dates")),
            "at": _read_time(r.raw("at", "09:00", optional=True), r.at("at")),
            "calendar": r.raw("calendar", "holidays", optional=True),
        }
    elif kind == "inactivity":
        cls = InactivityTrigger
        kw = {"days": r.raw("days"), "field": r.raw("field", "last_purchase_at", optional=True)}
    else:
        raise ValidationError(r.at("type"), kind, "is not a trigger type")
    r.done()
    trigger: Trigger = _build(path, r"^trigger\.", lambda: cls(**kw))
    return trigger


def _read_dates(raw: list[object], path: str) -> list[date]:
    days = []
    for i, text in enumerate(raw):
        if not isinstance(text, str) or not _DATE.match(text):
            raise ValidationError(f"{path}[{i}]", text, "must be a date 'YYYY-MM-DD'")
        try:
            days.append(date.fromisoformat(text))
        except ValueError:
            raise ValidationError(f"{path}[{i}]", text, "is not a date") from None
    return days


_STEP_TYPES: Final = (
    "wait", "wait_until", "branch", "send_message", "add_tag", "remove_tag", "award_points",
    "issue_coupon", "create_task", "set_field", "enter_workflow",
)  # fmt: skip


def _read_step(obj: object, path: str) -> Step:
    r = _Reader(obj, path)
    kind = r.typed("type", str, "a step type")
    kw: dict[str, Any] = {"id": r.raw("id")}
    cls: Callable[..., Step]
    if kind == "branch":
        cls = Branch
        kw["rule"] = _read_rule(r.raw("rule"), r.at("rule"))
        kw["then"] = r.raw("then", optional=True)
        kw["otherwise"] = r.raw("otherwise", optional=True)
    elif kind == "wait":
        cls = Wait
        kw["duration"] = _read_duration(r.raw("duration"), r.at("duration"))
    elif kind == "wait_until":
        cls = WaitUntil
        kw["weekdays"] = r.typed("weekdays", list, "an array of weekdays")
        kw["at"] = _read_time(r.raw("at"), r.at("at"))
    elif kind == "send_message":
        cls = SendMessage
        kw["channel"], kw["template"] = r.raw("channel"), r.raw("template")
        kw["variables"] = r.typed("variables", dict, "an object", optional=True)
    elif kind in ("add_tag", "remove_tag"):
        cls = AddTag if kind == "add_tag" else RemoveTag
        kw["tag"] = r.raw("tag")
    elif kind == "award_points":
        cls = AwardPoints
        kw["program"], kw["action"] = r.raw("program"), r.raw("action")
        kw["points"] = r.raw("points", optional=True)
    elif kind == "issue_coupon":
        cls, kw["definition"] = IssueCoupon, r.raw("definition")
    elif kind == "create_task":
        cls = CreateTask
        kw["owner"], kw["task"] = r.raw("owner"), r.raw("task")
        due = r.raw("due_in", optional=True)
        kw["due_in"] = timedelta(days=1) if due is None else _read_duration(due, r.at("due_in"))
    elif kind == "set_field":
        cls = SetField
        kw["name"], kw["value"] = r.raw("name"), r.raw("value")
    elif kind == "enter_workflow":
        cls, kw["workflow"] = EnterWorkflow, r.raw("workflow")
    else:
        raise ValidationError(r.at("type"), kind, f"must be one of {', '.join(_STEP_TYPES)}")
    if kind != "branch":
        kw["next"] = r.raw("next", optional=True)
    r.done()
    step: Step = _build(path, r"^steps\.([^.]+\.)?", lambda: cls(**kw))
    return step


def workflow_from_json(document: object) -> Workflow:
    """Read a workflow from its JSON form (as written by
    [`workflow_to_json()`][crmcore.marketing.workflow_json.workflow_to_json]).

    Raises:
        ValidationError: the document is malformed, of another version, or describes a workflow
            that does not validate; the field is the JSON path of the problem.
    """
    top = _Reader(document, "$")
    version = top.raw("crmcore_workflow")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValidationError("$.crmcore_workflow", version, "must be the format version 1")
    if version != JSON_VERSION:
        raise ValidationError(
            "$.crmcore_workflow", version, f"is not supported (this crmcore reads {JSON_VERSION})"
        )
    r = _Reader(top.raw("workflow"), "$.workflow")
    top.done()
    raw_steps = r.typed("steps", list, "an array of steps")
    steps = [_read_step(s, f"{r.at('steps')}[{i}]") for i, s in enumerate(raw_steps)]
    trigger = _read_trigger(r.raw("trigger"), r.at("trigger"))
    conditions = _read_rule(r.raw("conditions", None, optional=True), r.at("conditions"))
    goal = _read_goal(r.raw("goal", None, optional=True), r.at("goal"))
    reenrolment = _read_reenrolment(r.raw("reenrolment", None, optional=True), r.at("reenrolment"))
    fields: dict[str, Any] = {
        "id": r.raw("id"),
        "version": r.raw("version"),
        "name": r.raw("name"),
        "active": r.raw("active", True, optional=True),
        "suppression_lists": r.typed(
            "suppression_lists", list, "an array of list names", optional=True, default=[]
        ),
    }
    r.done()
    workflow: Workflow = _build(
        "$.workflow",
        r"^$",
        lambda: Workflow(
            trigger=trigger,
            steps=steps,
            conditions=conditions,
            goal=goal,
            reenrolment=reenrolment,
            **fields,
        ),
    )
    return workflow


def _read_goal(obj: object, path: str) -> Goal | None:
    if obj is None:
        return None
    r = _Reader(obj, path)
    events = r.typed("events", list, "an array of event kinds", optional=True, default=[])
    rule = _read_rule(r.raw("rule", None, optional=True), r.at("rule"))
    r.done()
    goal: Goal = _build(path, r"^goal\.?", lambda: Goal(events, rule))
    return goal


def _read_reenrolment(obj: object, path: str) -> Reenrolment:
    if obj is None:
        return Reenrolment()
    r = _Reader(obj, path)
    allowed = r.raw("allowed", False, optional=True)
    raw = r.raw("cooldown", None, optional=True)
    cooldown = timedelta(0) if raw is None else _read_duration(raw, r.at("cooldown"))
    r.done()
    policy: Reenrolment = _build(path, r"^reenrolment\.", lambda: Reenrolment(allowed, cooldown))
    return policy


def workflow_from_json_text(text: str) -> Workflow:
    """Read a workflow from JSON text."""
    if not isinstance(text, str):
        raise ValidationError("$", text, "must be JSON text")
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ValidationError("$", text[:40], f"is not JSON: {error}") from None
    return workflow_from_json(document)
