"""The versioned JSON form of workflows: round trips and strict reading with JSON paths."""

from __future__ import annotations

import copy
import json
from datetime import date, time, timedelta

import pytest
from hypothesis import given, settings

from crmcore.kernel.errors import ValidationError
from crmcore.marketing.steps import (
    END,
    AddTag,
    AwardPoints,
    Branch,
    CreateTask,
    EnterWorkflow,
    IssueCoupon,
    RemoveTag,
    SendMessage,
    SetField,
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
)
from crmcore.marketing.workflow_json import (
    workflow_from_json,
    workflow_from_json_text,
    workflow_to_json,
    workflow_to_json_text,
)
from crmcore.marketing.workflows import Goal, Reenrolment, Workflow

from .automation_strategies import catalogs

EVERY_STEP = [
    SendMessage("offer", channel="email", template="winback", variables={"code": "B10", "n": 2}),
    Wait("pause", timedelta(days=3, hours=4, seconds=5)),
    WaitUntil("tuesday", {"tue", "thu"}, time(9, 30)),
    Branch("vip", 'has tag "vip" and total_spent >= 100', then="call", otherwise="tag"),
    CreateTask("call", owner="agent-7", task="call-back", due_in=timedelta(hours=6), next=END),
    AddTag("tag", "win_back"),
    RemoveTag("untag", "loyal"),
    AwardPoints("points", program="shop", action="winback", points=200),
    IssueCoupon("coupon", "back10"),
    SetField("mark", name="winback_score", value=0.5),
    EnterWorkflow("nurture", "nurture"),
]

TRIGGERS = [
    EventTrigger("customer.purchase_recorded", where={"channel": "web"}),
    SegmentTrigger("vip", on="exited"),
    LifecycleTrigger("decline", from_state="mature"),
    ChurnRiskTrigger(0.65),
    DateTrigger("birth_date", offset_days=-3, at=time(10), leap_day="mar1"),
    DateTrigger("attr.points_expire_on", yearly=False, offset_days=-7),
    HolidayTrigger({date(2026, 2, 17), date(2026, 10, 1)}, at=time(8), calendar="cn"),
    InactivityTrigger(60, field="last_interaction_at"),
]


def full(trigger: object = TRIGGERS[3]) -> Workflow:
    return Workflow(
        id="win-back",
        version=3,
        name="Win back",
        trigger=trigger,  # type: ignore[arg-type]
        conditions='country in ("CN", "TW")',
        steps=EVERY_STEP,
        goal=Goal(events={"customer.purchase_recorded"}, rule='has tag "bought"'),
        reenrolment=Reenrolment.after(timedelta(days=90)),
        suppression_lists={"staff", "competitors"},
        active=False,
    )


@pytest.mark.parametrize("trigger", TRIGGERS, ids=lambda t: type(t).__name__)
def test_every_trigger_and_step_round_trips(trigger: object) -> None:
    workflow = full(trigger)
    document = workflow_to_json(workflow)
    assert workflow_from_json(document) == workflow
    text = workflow_to_json_text(workflow, indent=2)
    assert workflow_from_json_text(text) == workflow
    assert json.loads(text) == document


@settings(max_examples=100, deadline=None)
@given(catalogs())
def test_random_workflows_round_trip(workflows: list[Workflow]) -> None:
    for workflow in workflows:
        assert workflow_from_json(workflow_to_json(workflow)) == workflow


def test_defaults_may_be_left_out() -> None:
    document = {
        "crmcore_workflow": 1,
        "workflow": {
            "id": "thanks",
            "version": 1,
            "name": "Thanks",
            "trigger": {"type": "event", "kind": "case.closed"},
            "steps": [
                {"type": "send_message", "id": "mail", "channel": "email", "template": "thanks"}
            ],
        },
    }
    workflow = workflow_from_json(document)
    assert workflow.active and workflow.goal is None and workflow.reenrolment == Reenrolment()


def _broken(path: list[object], value: object) -> dict[str, object]:
    document = copy.deepcopy(workflow_to_json(full()))
    target = document
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    if value is KeyError:
        del target[path[-1]]  # type: ignore[arg-type]
    else:
        target[path[-1]] = value  # type: ignore[index]
    return document


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (["crmcore_workflow"], 2, "$.crmcore_workflow"),
        (["workflow", "steps", 1, "duration", "days"], -4, "$.workflow.steps[1].duration"),
        (["workflow", "steps", 1, "duration", "days"], "3", "$.workflow.steps[1].duration.days"),
        (["workflow", "steps", 0, "template"], KeyError, "$.workflow.steps[0].template"),
        (["workflow", "steps", 0, "template"], "", "$.workflow.steps[0].template"),
        (["workflow", "steps", 0, "colour"], "red", "$.workflow.steps[0].colour"),
        (["workflow", "steps", 2, "at"], "9am", "$.workflow.steps[2].at"),
        (["workflow", "steps", 4, "type"], "teleport", "$.workflow.steps[4].type"),
        (
            ["workflow", "steps", 3, "rule"],
            {"crmcore_rule": 1, "rule": {}},
            "$.workflow.steps[3].rule",
        ),
        (["workflow", "trigger"], {"type": "event", "kind": "nope"}, "$.workflow.trigger.kind"),
        (["workflow", "trigger", "type"], "psychic", "$.workflow.trigger.type"),
        (["workflow", "trigger", "level"], 3, "$.workflow.trigger.level"),
        (["workflow", "goal", "events"], ["customer.bought"], "$.workflow.goal.events"),
        (["workflow", "reenrolment", "cooldown"], {"days": -1}, "$.workflow.reenrolment.cooldown"),
        (["workflow", "version"], 0, "$.workflow.version"),
        (["workflow", "steps"], "all of them", "$.workflow.steps"),
        (["workflow", "steps", 4, "next"], "tuesday", "$.workflow.steps"),
    ],
)
def test_bad_documents_name_the_json_path(path: list[object], value: object, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        workflow_from_json(_broken(path, value))
    assert error.value.field == field


def test_bad_text_and_holiday_dates() -> None:
    with pytest.raises(ValidationError, match=r"\$: is not JSON"):
        workflow_from_json_text("{")
    trigger = {"type": "holiday", "dates": ["2026-02-30"]}
    with pytest.raises(ValidationError, match=r"trigger.dates\[0\]"):
        workflow_from_json(_broken(["workflow", "trigger"], trigger))
    with pytest.raises(ValidationError, match=r"\$"):
        workflow_from_json([])
