"""Auto-open rules: conditions, match modes, priority from severity and customer value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.feedback.events import CaseAssigned, CaseOpened
from crmcore.feedback.feedback import Feedback
from crmcore.feedback.rules import (
    DEFAULT_CASE_RULES,
    CaseRule,
    CaseRules,
    MatchMode,
    PriorityPolicy,
    open_case_for,
)
from crmcore.feedback.vocabulary import CaseState, Priority
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.money import Money

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


def fb(**kw: object) -> Feedback:
    base: dict[str, object] = {
        "id": "fb-1",
        "customer_id": "c-1",
        "channel": "survey",
        "kind": "inquiry",
        "at": AT,
    }
    base.update(kw)
    return Feedback(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("feedback", "rule"),
    [
        (fb(scores={"nps": 6}), "nps_detractor"),
        (fb(scores={"nps": 0}), "nps_detractor"),
        (fb(scores={"csat": 2}), "csat_low"),
        (fb(kind="complaint"), "complaint"),
        (fb(kind="praise", text="Please REFUND the extra charge"), "alarm_keyword"),
        (fb(kind="complaint", scores={"nps": 2}, text="cancel my plan"), "alarm_keyword"),
    ],
)
def test_default_rules_first_match(feedback: Feedback, rule: str) -> None:
    outcome = open_case_for(feedback)
    assert outcome is not None
    case = outcome.value
    assert case.rules == (rule,)
    assert case.state is CaseState.NEW and case.feedback_id == feedback.id
    assert case.id == f"case-{feedback.id}" and case.opened_at == feedback.at
    (event,) = outcome.events
    assert isinstance(event, CaseOpened) and event.rules == (rule,)


@pytest.mark.parametrize(
    "feedback",
    [fb(scores={"nps": 7}), fb(scores={"csat": 3}), fb(kind="praise"), fb(scores={"ces": 1})],
)
def test_no_rule_no_case(feedback: Feedback) -> None:
    assert open_case_for(feedback) is None


def test_all_mode_records_every_match_and_takes_the_highest_severity() -> None:
    rules = CaseRules(rules=DEFAULT_CASE_RULES.rules, mode="all")
    f = fb(kind="complaint", scores={"nps": 2, "csat": 1}, text="I want a refund")
    outcome = open_case_for(f, rules)
    assert outcome is not None
    assert outcome.value.rules == ("alarm_keyword", "nps_detractor", "csat_low", "complaint")
    assert outcome.value.priority is Priority.HIGH
    first = open_case_for(attrs.evolve(f, text=""), DEFAULT_CASE_RULES)
    assert first is not None and first.value.rules == ("nps_detractor",)


def test_rule_conditions_all_must_hold_and_team_routes() -> None:
    rule = CaseRule(
        name="vip_phone_billing",
        severity="high",
        kinds=["complaint"],
        channels=["phone"],
        themes=["billing"],
        team="billing-desk",
    )
    rules = CaseRules(rules=[rule])
    hit = fb(kind="complaint", channel="phone", themes=["Billing"])
    assert rule.matches(hit)
    assert not rule.matches(fb(kind="complaint", channel="email", themes=["billing"]))
    assert not rule.matches(fb(kind="complaint", channel="phone", themes=["delivery"]))
    assert not rule.matches(fb(kind="praise", channel="phone", themes=["billing"]))
    outcome = open_case_for(hit, rules, at=AT + timedelta(minutes=3))
    assert outcome is not None
    assert outcome.value.team == "billing-desk"
    assert outcome.value.opened_at == AT + timedelta(minutes=3)
    assert [type(e) for e in outcome.events] == [CaseOpened, CaseAssigned]


def test_keyword_match_is_case_insensitive_substring() -> None:
    rule = CaseRule(name="refunds", severity="normal", keywords=["Refund", "退款"])
    assert rule.matches(fb(text="they REFUNDED half"))
    assert rule.matches(fb(text="我要退款"))
    assert not rule.matches(fb(text="all good"))


def test_score_condition_needs_the_score() -> None:
    rule = CaseRule(name="ces_hard", severity="low", scale="ces", score_at_most=3)
    assert rule.matches(fb(scores={"ces": 3}))
    assert not rule.matches(fb(scores={"ces": 4}))
    assert not rule.matches(fb(scores={"nps": 0}))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, Priority.NORMAL),
        (0, Priority.NORMAL),
        (999.99, Priority.NORMAL),
        (1000, Priority.HIGH),
        (Decimal("9999.99"), Priority.HIGH),
        (10_000, Priority.URGENT),
        (Money("25000", "EUR"), Priority.URGENT),
    ],
)
def test_priority_from_customer_value(value: object, expected: Priority) -> None:
    outcome = open_case_for(fb(kind="complaint"), customer_value=value)  # type: ignore[arg-type]
    assert outcome is not None and outcome.value.priority is expected


def test_priority_tiers_and_cap() -> None:
    tiers = PriorityPolicy(value_thresholds=(1, 2))
    assert tiers.priority("low", 0) is Priority.LOW
    assert tiers.priority("low", 2) is Priority.HIGH
    assert tiers.priority("urgent", 2) is Priority.URGENT


@given(
    st.sampled_from(list(Priority)),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
)
def test_priority_is_monotone_in_value(severity: Priority, a: int, b: int) -> None:
    policy = PriorityPolicy()
    lo, hi = sorted((a, b))
    assert severity <= policy.priority(severity, lo) <= policy.priority(severity, hi)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "x", "severity": "normal"}, "rule"),
        ({"name": "x", "severity": "critical", "kinds": ["complaint"]}, "rule.severity"),
        ({"name": "x", "severity": "low", "kinds": ["rant"]}, "rule.kinds"),
        ({"name": "x", "severity": "low", "channels": ["fax"]}, "rule.channels"),
        ({"name": "x", "severity": "low", "scale": "nps"}, "rule.score_at_most"),
        (
            {"name": "x", "severity": "low", "scale": "csat", "score_at_most": 9},
            "rule.score_at_most",
        ),
        ({"name": "x", "severity": "low", "keywords": "refund"}, "rule.keywords"),
        ({"name": "x", "severity": "low", "keywords": [""]}, "rule.keywords"),
        ({"name": "9x", "severity": "low", "kinds": ["complaint"]}, "rule.name"),
    ],
)
def test_bad_rules_are_named(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        CaseRule(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_bad_rule_sets_and_calls() -> None:
    rule = CaseRule(name="c", severity="low", kinds=["complaint"])
    with pytest.raises(ValidationError) as info:
        CaseRules(rules=[rule, rule])
    assert info.value.field == "rules"
    with pytest.raises(ValidationError) as info:
        CaseRules(rules=[rule], mode="some")
    assert info.value.field == "mode"
    assert CaseRules(rules=[rule], mode=MatchMode.ALL).mode is MatchMode.ALL
    with pytest.raises(ValidationError) as info:
        PriorityPolicy(value_thresholds=(10, 5))
    assert info.value.field == "value_thresholds"
    f = fb(kind="complaint")
    with pytest.raises(ValidationError) as info:
        open_case_for(f, at=AT - timedelta(seconds=1))
    assert info.value.field == "at"
    with pytest.raises(ValidationError) as info:
        open_case_for(f, at=datetime(2026, 3, 2, 10))
    assert info.value.field == "at"
    with pytest.raises(ValidationError) as info:
        open_case_for(f, customer_value="lots")  # type: ignore[arg-type]
    assert info.value.field == "customer_value"
    with pytest.raises(ValidationError) as info:
        open_case_for("feedback")  # type: ignore[arg-type]
    assert info.value.field == "feedback"
    with pytest.raises(ValidationError) as info:
        open_case_for(f, rules=[rule])  # type: ignore[arg-type]
    assert info.value.field == "rules"
    with pytest.raises(ValidationError) as info:
        open_case_for(f, customer_value=float("nan"))
    assert info.value.field == "customer_value"


def test_case_id_override() -> None:
    outcome = open_case_for(fb(kind="complaint"), case_id="K-77")
    assert outcome is not None and outcome.value.id == "K-77"
