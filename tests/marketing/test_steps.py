"""Workflow steps: each refuses bad values with the field named."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from crmcore.customers.records import MarketingChannel
from crmcore.kernel.errors import ValidationError
from crmcore.marketing.steps import (
    END,
    AddTag,
    AwardPoints,
    Branch,
    CreateTask,
    EnterWorkflow,
    IssueCoupon,
    SendMessage,
    SetField,
    Wait,
    WaitUntil,
)
from crmcore.segments.rules import HasTag


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Wait("w", timedelta(seconds=-1)), "steps.w.duration"),
        (lambda: Wait("w", 3), "steps.w.duration"),
        (lambda: Wait("end", timedelta(0)), "steps.id"),
        (lambda: Wait("W 1", timedelta(0)), "steps.id"),
        (lambda: WaitUntil("u", [], time(9)), "steps.weekdays"),
        (lambda: WaitUntil("u", {"mon"}, "09:00"), "steps.at"),
        (lambda: SendMessage("m", channel="fax", template="t"), "steps.m.channel"),
        (lambda: SendMessage("m", channel="email", template=""), "steps.m.template"),
        (lambda: SendMessage("m", channel="email", template=None), "steps.m.template"),
        (lambda: SendMessage("m", "email", "t", {"x": [1]}), "steps.variables.x"),
        (lambda: SendMessage("m", "email", "t", {"x": float("nan")}), "steps.variables.x"),
        (lambda: Branch("b", 42), "steps.rule"),
        (lambda: Branch("b", 'has tag "x"', then="c", otherwise="c"), "steps.b.otherwise"),
        (lambda: AddTag("t", "   "), "steps.tag"),
        (lambda: AwardPoints("p", program="shop", action="bonus", points=0), "steps.points"),
        (lambda: IssueCoupon("c", ""), "steps.definition"),
        (lambda: CreateTask("t", owner="", task="call"), "steps.owner"),
        (lambda: CreateTask("t", owner="ann", task="call", due_in=timedelta(-1)), "steps.t.due_in"),
        (lambda: SetField("f", name="Bad Name", value=1), "steps.name"),
        (lambda: SetField("f", name="time_zone", value="UTC"), "steps.name"),
        (lambda: SetField("f", name="score", value=[1]), "steps.f.value"),
        (lambda: EnterWorkflow("e", "Other Flow"), "steps.workflow"),
        (lambda: Wait("w", timedelta(0), next="Elsewhere"), "steps.next"),
    ],
)
def test_bad_steps_name_the_field(build: object, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        build()  # type: ignore[operator]
    assert error.value.field == field


def test_steps_normalise_their_values() -> None:
    message = SendMessage("m", channel="sms", template="hello", variables={"code": "X1"})
    assert message.channel is MarketingChannel.SMS and dict(message.variables) == {"code": "X1"}
    branch = Branch("b", 'has tag "vip"', then=END)
    assert branch.rule == HasTag("vip") and branch.otherwise is None
    assert AddTag("t", " Win Back ").tag == "win_back"
    assert WaitUntil("u", ["Tue", 3], time(9)).weekdays == frozenset({1, 3})
