"""Rule-based lead scoring, one lead at a time: explanation, properties, JSON, bad input."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.customers.contact import Contact
from crmcore.customers.customer import Customer
from crmcore.kernel.errors import RuleSyntaxError, RuleTypeError, ValidationError
from crmcore.sales.leads import Lead
from crmcore.sales.scoring import LeadScoring
from crmcore.sales.scoring_rules import Decay, EngagementRule, FitRule, Threshold

from .scoring_strategies import AS_OF, ATTRIBUTES, leads_and_events, record, scorings

D = timedelta(days=1)


def views(*days: float, kind: str = "pricing", who: str = "l-1") -> list[dict[str, object]]:
    return [{"customer_id": who, "at": AS_OF - d * D, "kind": kind} for d in days]


def test_the_explanation_adds_up_to_the_score() -> None:
    scoring = LeadScoring(
        fit=[
            FitRule("dach", 'country in ("DE", "AT")', 10),
            FitRule("student", 'attr.industry = "student"', 30, penalty=True),
        ],
        engagement=[
            EngagementRule(
                name="pricing", kinds="pricing", points=5, cap=12, decay=Decay(7, "step")
            )
        ],
        attributes=ATTRIBUTES,
        mql=Threshold(10),
    )
    score = scoring.score(
        record("l-1", "DE", "student", 5, True, 3), AS_OF, events=views(0, 1, 8, 8, 400)
    )
    assert [(c.rule, c.points) for c in score.contributions] == [
        ("dach", 10.0),
        ("student", -30.0),
        ("pricing", 12.0),
    ]
    pricing = score.contributions[2]
    assert pricing.events == 5 and pricing.capped  # 5 + 5 + 2.5 + 2.5 + ~0 = 15 > 12
    assert score.total == sum(c.points for c in score.contributions) == -8.0
    assert score.band == "D" and not score.mql
    assert "student -30" in score.explain() and "(capped)" in score.explain()
    assert score.points_of("dach") == 10.0
    json.dumps(score.to_dict())
    assert "<table" in score._repr_html_()


def test_windows_and_events_after_as_of_do_not_count() -> None:
    scoring = LeadScoring(
        engagement=[EngagementRule(name="v", kinds="view", points=1, window_days=7)]
    )
    events = views(0, 6.99, 7, 8, -1, kind="view") + views(0, kind="view", who="l-2")
    score = scoring.score({"id": "l-1"}, AS_OF, events=events)
    assert score.engagement == 2.0 and score.contributions[0].events == 2


def test_leads_and_customers_are_scored_from_their_records() -> None:
    scoring = LeadScoring(
        fit=[
            FitRule("referral", 'attr.source = "referral"', 15),
            FitRule("de", 'country = "DE"', 5),
        ],
        attributes={"attr.source": "string"},
    )
    lead = Lead.create(
        "l-1", AS_OF, source="referral", country="DE", contact=Contact(email="a@example.com")
    ).value
    assert scoring.score(lead, AS_OF).fit == 20.0
    customer = Customer.register("c-1", "Ann", AS_OF).value
    assert scoring.score(customer, AS_OF).fit == 0.0
    with pytest.raises(ValidationError):
        scoring.score(["not", "a", "lead"], AS_OF)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({}, ValidationError, "fit"),
        ({"fit": [FitRule("a", "country = 'DE'", 1)] * 2}, ValidationError, "name"),
        ({"fit": [FitRule("a", "country = 'DE'", 1)], "fit_cap": 0}, ValidationError, "fit_cap"),
        (
            {"fit": [FitRule("a", "country = 'DE'", 1)], "floor": 5, "ceiling": 5},
            ValidationError,
            "floor",
        ),
        (
            {"fit": [FitRule("a", "country = 'DE'", 1)], "attributes": {"industry": "string"}},
            ValidationError,
            "attributes",
        ),
        ({"fit": [FitRule("a", "attr.industry = 'x'", 1)]}, RuleTypeError, None),
        ({"fit": [FitRule("a", "country = 'DE'", 1)], "mql": 50}, ValidationError, "mql"),
    ],
)
def test_bad_definitions(
    kwargs: dict[str, object], error: type[Exception], field: str | None
) -> None:
    with pytest.raises(error) as raised:
        LeadScoring(**kwargs)  # type: ignore[arg-type]
    if field is not None:
        assert raised.value.field == field  # type: ignore[attr-defined]
    else:
        assert "fit rule 'a'" in str(raised.value)


def test_naive_as_of_is_refused() -> None:
    scoring = LeadScoring(fit=[FitRule("a", "country = 'DE'", 1)])
    with pytest.raises(ValidationError) as error:
        scoring.score({"id": "l-1"}, AS_OF.replace(tzinfo=None))
    assert error.value.field == "as_of"


@settings(max_examples=120, deadline=None)
@given(scorings())
def test_definitions_round_trip_through_json(scoring: LeadScoring) -> None:
    assert LeadScoring.from_json(scoring.to_json()) == scoring
    assert LeadScoring.from_json_text(scoring.to_json_text()) == scoring


def test_bad_json_names_the_path() -> None:
    data = LeadScoring(engagement=[EngagementRule(name="v", kinds="view", points=1)]).to_json()
    data["engagement"][0]["window_days"] = 0  # type: ignore[index]
    with pytest.raises(ValidationError) as error:
        LeadScoring.from_json(data)
    assert error.value.field == "engagement[0].window_days"
    data = LeadScoring(fit=[FitRule("a", "country = 'DE'", 1)]).to_json()
    data["fit"][0]["rule"] = {"version": 1, "rule": {"op": "nope"}}  # type: ignore[index]
    with pytest.raises(RuleSyntaxError, match="fit rule 'a'"):
        LeadScoring.from_json(data)
    with pytest.raises(ValidationError) as version:
        LeadScoring.from_json({**data, "version": 99})
    assert version.value.field == "version"
    with pytest.raises(ValidationError):
        LeadScoring.from_json_text("{not json")


@settings(max_examples=150, deadline=None)
@given(scorings(penalties=False), leads_and_events(max_leads=1))
def test_scores_are_never_negative_without_penalties(scoring, data) -> None:  # type: ignore[no-untyped-def]
    (lead,), events = data
    score = scoring.score(lead, AS_OF, events=events)
    assert score.fit >= 0 and score.engagement >= 0 and score.total >= 0
    assert all(c.points >= 0 for c in score.contributions)


@settings(max_examples=150, deadline=None)
@given(scorings(), leads_and_events(max_leads=1))
def test_caps_are_respected(scoring, data) -> None:  # type: ignore[no-untyped-def]
    (lead,), events = data
    score = scoring.score(lead, AS_OF, events=events)
    for rule, part in zip(scoring.engagement, score.contributions[len(scoring.fit) :], strict=True):
        if rule.cap is not None:
            assert abs(part.points) <= rule.cap
    if scoring.fit_cap is not None:
        assert score.fit <= scoring.fit_cap
    if scoring.engagement_cap is not None:
        assert score.engagement <= scoring.engagement_cap
    if scoring.floor is not None:
        assert score.total >= scoring.floor
    if scoring.ceiling is not None:
        assert score.total <= scoring.ceiling


@settings(max_examples=150, deadline=None)
@given(scorings(), leads_and_events(max_leads=1), st.floats(0, 60))
def test_engagement_points_only_fade_as_time_passes(scoring, data, later) -> None:  # type: ignore[no-untyped-def]
    (lead,), events = data
    past = [e for e in events if e["at"] <= AS_OF]  # type: ignore[operator]
    now = scoring.score(lead, AS_OF, events=past)
    then = scoring.score(lead, AS_OF + later * D, events=past)
    for rule, a, b in zip(
        scoring.engagement,
        now.contributions[len(scoring.fit) :],
        then.contributions[len(scoring.fit) :],
        strict=True,
    ):
        assert abs(b.points) <= abs(a.points), rule
        assert b.events <= a.events
