"""Workflow definitions and catalogs: the step graph, versions, cycles between workflows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crmcore.kernel.errors import NotFoundError, RuleTypeError, ValidationError
from crmcore.marketing.steps import END, AddTag, Branch, EnterWorkflow, SendMessage, Wait
from crmcore.marketing.triggers import EventTrigger, SegmentTrigger
from crmcore.marketing.workflows import Goal, Reenrolment, Workflow, WorkflowCatalog
from crmcore.segments.rules import RuleSchema


def make(wid: str = "w", steps: list[object] | None = None, **kw: object) -> Workflow:
    kw.setdefault("version", 1)
    kw.setdefault("trigger", SegmentTrigger("s"))
    return Workflow(
        id=wid,
        name=wid,
        steps=[AddTag("a", "x")] if steps is None else steps,  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def test_the_step_graph_is_followed() -> None:
    flow = make(
        steps=[
            Branch("vip", 'has tag "vip"', then="gold", otherwise=END),
            AddTag("plain", "plain", next=END),
            AddTag("gold", "gold", next="plain"),
        ]
    )
    assert flow.next_of("vip", True) == "gold" and flow.next_of("vip", False) == END
    assert flow.next_of("gold") == "plain" and flow.next_of("plain") == END
    assert flow.successors("vip") == ("gold", END)
    assert flow.order.index("gold") < flow.order.index("plain")
    assert [s.id for s in flow.actions] == ["plain", "gold"]
    with pytest.raises(ValidationError, match="branch"):
        flow.next_of("vip")
    with pytest.raises(NotFoundError):
        flow.step("nope")


def test_a_loop_of_steps_is_refused_and_named() -> None:
    with pytest.raises(ValidationError) as error:
        make(steps=[AddTag("a", "x"), AddTag("b", "y", next="a")])
    assert (error.value.field, error.value.value) == ("steps", "a -> b -> a")


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        ([AddTag("a", "x"), AddTag("a", "y")], "steps[1].id"),
        ([AddTag("a", "x", next="zz")], "steps.a.next"),
        ([AddTag("a", "x", next=END), AddTag("b", "y")], "steps.b"),
        ([], "steps"),
        (["not a step"], "steps[0]"),
    ],
)
def test_bad_step_lists_name_the_field(steps: list[object], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        make(steps=steps)
    assert error.value.field == field


def test_other_fields_are_checked() -> None:
    with pytest.raises(ValidationError, match="version"):
        make(version=0)
    with pytest.raises(ValidationError, match="goal"):
        Goal()
    with pytest.raises(ValidationError, match=r"goal\.events"):
        Goal(events={"customer.bought"})
    with pytest.raises(ValidationError, match=r"reenrolment\.cooldown"):
        Reenrolment(True, timedelta(-1))
    with pytest.raises(ValidationError, match="trigger"):
        make(trigger="purchase")
    with pytest.raises(ValidationError, match="suppression_lists"):
        make(suppression_lists="staff")
    with pytest.raises(ValidationError, match="name"):
        Workflow(id="w", version=1, name=" ", trigger=SegmentTrigger("s"), steps=[AddTag("a", "x")])


def test_a_cycle_of_workflows_entering_each_other_is_named() -> None:
    a = make("a", [EnterWorkflow("to-b", "b")])
    b = make("b", [EnterWorkflow("to-c", "c")])
    c = make("c", [Wait("pause", timedelta(days=1)), EnterWorkflow("to-a", "a")])
    with pytest.raises(ValidationError) as error:
        WorkflowCatalog([a, b, c])
    assert (error.value.field, error.value.value) == ("workflows", "a -> b -> c -> a")
    with pytest.raises(ValidationError, match="a -> a"):
        WorkflowCatalog([make("a", [EnterWorkflow("again", "a")])])
    with pytest.raises(ValidationError, match="is not a workflow of the set"):
        WorkflowCatalog([a])
    catalog = WorkflowCatalog([a, b, make("c")])
    assert catalog.entry_order.index("a") < catalog.entry_order.index("b")


def test_a_cycle_through_an_old_version_counts_too() -> None:
    a1 = make("a", [EnterWorkflow("to-b", "b")])
    a2 = make("a", version=2)
    b = make("b", [EnterWorkflow("to-a", "a")])
    with pytest.raises(ValidationError, match="a -> b -> a"):
        WorkflowCatalog([a1, a2, b])


def test_versions() -> None:
    v1 = make("w")
    catalog = WorkflowCatalog([v1])
    v2 = make("w", version=2, steps=[AddTag("b", "y")])
    newer = catalog.with_version(v2)
    assert catalog.latest("w") is v1 and newer.latest("w") is v2
    assert newer.get("w", 1) is v1 and newer.versions("w") == (v1, v2)
    with pytest.raises(ValidationError, match="version"):
        newer.with_version(make("w", version=2, steps=[AddTag("c", "z")]))
    with pytest.raises(ValidationError, match="workflows"):
        WorkflowCatalog([v2, make("w", version=2)])
    with pytest.raises(NotFoundError, match="w@3"):
        newer.get("w", 3)
    assert newer == WorkflowCatalog([v2, v1]) and len(newer) == 1 and "w" in newer


def test_rules_are_type_checked_against_a_schema() -> None:
    flow = make(conditions="total_spnt > 10")
    with pytest.raises(RuleTypeError, match="w@1 conditions"):
        WorkflowCatalog([flow]).check(RuleSchema.default())
    WorkflowCatalog([make(conditions="total_spent > 10")]).check(RuleSchema.default())


def test_a_goal_is_met_by_its_events() -> None:
    goal = Goal(events={"customer.purchase_recorded"})
    assert goal.events == {"customer.purchase_recorded"}
    flow = make(
        trigger=EventTrigger("case.closed"), steps=[SendMessage("m", "email", "t")], goal=goal
    )
    assert flow.key == "w@1" and flow.goal is goal
