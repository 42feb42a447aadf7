"""Touchpoints and journey maps: parsing, normalisation, derivation from a log, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from crmcore.columnar import EventLog
from crmcore.customers.records import Interaction
from crmcore.datasets.synthetic import generate
from crmcore.funnel import DEFAULT_TOUCHPOINTS, Stage, TouchpointMap
from crmcore.journey import JourneyMap, Touchpoint, journey_report
from crmcore.kernel.errors import ValidationError

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def test_touchpoint_normalises_and_orders() -> None:
    tp = Touchpoint("Web", "Website Visit")
    assert tp == Touchpoint("web", "website_visit")
    assert tp.label == str(tp) == "web/website_visit"
    assert sorted([Touchpoint("web", "b"), Touchpoint("app", "z"), Touchpoint("web", "a")]) == [
        Touchpoint("app", "z"),
        Touchpoint("web", "a"),
        Touchpoint("web", "b"),
    ]
    assert hash(tp) == hash(Touchpoint("web", "website_visit"))


@pytest.mark.parametrize(
    "value", ["web/visit", ("web", "visit"), Touchpoint("web", "visit"), "Web/Visit"]
)
def test_touchpoint_parse_accepts_the_three_spellings(value: object) -> None:
    assert Touchpoint.parse(value) == Touchpoint("web", "visit")


@pytest.mark.parametrize("value", ["web", "a/b/c", ("web",), 3, None, ("web", 1)])
def test_touchpoint_parse_rejects_other_values(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        Touchpoint.parse(value, "where")
    assert info.value.field.startswith("where")


def test_touchpoint_rejects_bad_slugs() -> None:
    with pytest.raises(ValidationError, match=r"touchpoint\.kind"):
        Touchpoint("web", "9lives")
    with pytest.raises(ValidationError, match=r"touchpoint\.channel"):
        Touchpoint("", "visit")


def test_journey_map_keys_and_stages_are_normalised() -> None:
    m = JourneyMap({"web/visit": "awareness", ("Phone", "Sales Call"): 4, Touchpoint("a", "b"): 7})
    assert m.stages == {
        Touchpoint("a", "b"): Stage.ADVOCACY,
        Touchpoint("phone", "sales_call"): Stage.INTENT,
        Touchpoint("web", "visit"): Stage.AWARENESS,
    }
    assert m.touchpoints == tuple(sorted(m.stages))
    assert m.stage_of("phone/sales_call") is Stage.INTENT
    assert m.stage_of("web/other") is None
    assert m.by_stage() == {
        Stage.AWARENESS: (Touchpoint("web", "visit"),),
        Stage.INTENT: (Touchpoint("phone", "sales_call"),),
        Stage.ADVOCACY: (Touchpoint("a", "b"),),
    }
    assert hash(m) == hash(JourneyMap(dict(m.stages)))


def test_journey_map_round_trips_through_json() -> None:
    m = JourneyMap({"web/visit": "awareness", "store/purchase": "conversion"}, derive=False)
    data = json.loads(json.dumps(m.to_dict()))
    assert data == {
        "stages": {"store/purchase": "conversion", "web/visit": "awareness"},
        "derive": False,
    }
    assert JourneyMap.from_dict(data) == m


def test_with_stage_returns_an_edited_copy() -> None:
    m = JourneyMap({"web/visit": "awareness"})
    edited = m.with_stage(("web", "visit"), "interest").with_stage("app/open", Stage.RETENTION)
    assert m.stage_of("web/visit") is Stage.AWARENESS
    assert edited.stages == {
        Touchpoint("app", "open"): Stage.RETENTION,
        Touchpoint("web", "visit"): Stage.INTEREST,
    }


@pytest.mark.parametrize(
    ("stages", "field"),
    [
        ({"web/visit": "purchase"}, "journey_map[web/visit]"),
        ({"web/visit": 8}, "journey_map[web/visit]"),
        ({"web": "awareness"}, "journey_map"),
        ({"web/visit": "awareness", "Web/Visit": "interest"}, "journey_map[web/visit]"),
        (["web/visit"], "journey_map"),
    ],
)
def test_journey_map_errors_name_the_entry(stages: object, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        JourneyMap(stages)
    assert info.value.field == field


def test_journey_map_rejects_a_non_bool_derive_and_unknown_keys() -> None:
    with pytest.raises(ValidationError, match="derive"):
        JourneyMap({}, derive="yes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="unknown keys"):
        JourneyMap.from_dict({"stages": {}, "strict": True})
    with pytest.raises(ValidationError):
        JourneyMap.from_dict([])  # type: ignore[arg-type]


def test_derived_from_takes_the_most_common_stage_earlier_on_ties() -> None:
    rows = [
        ("C1", "web", "visit", "awareness"),
        ("C2", "web", "visit", "interest"),
        ("C3", "web", "visit", "interest"),
        ("C1", "phone", "call", "intent"),
        ("C2", "phone", "call", "consideration"),  # tie 1:1 -> the earlier stage
        ("C1", "chat", "hello", None),  # no stage carried: left out
        ("C1", None, "conversion", "conversion"),  # no channel: not a touchpoint
    ]
    log = EventLog.from_records(
        {"customer_id": c, "at": T0 + timedelta(hours=i), "channel": ch, "kind": k, "stage": s}
        for i, (c, ch, k, s) in enumerate(rows)
    )
    assert JourneyMap.derived_from(log).stages == {
        Touchpoint("phone", "call"): Stage.CONSIDERATION,
        Touchpoint("web", "visit"): Stage.INTEREST,
    }


def test_derived_from_names_the_row_of_an_unknown_stage_or_bad_slug() -> None:
    log = EventLog.from_records(
        [
            {"customer_id": "C1", "at": T0, "channel": "web", "kind": "visit", "stage": "interest"},
            {"customer_id": "C1", "at": T0, "channel": "web", "kind": "visit", "stage": "bought"},
        ]
    )
    with pytest.raises(ValidationError) as info:
        JourneyMap.derived_from(log)
    assert info.value.field == "row 1: stage" and info.value.value == "bought"
    log = EventLog.from_records(
        [
            {"customer_id": "C1", "at": T0, "channel": "web", "kind": "visit"},
            {"customer_id": "C1", "at": T0, "channel": "web", "kind": "1 visit"},
        ]
    )
    with pytest.raises(ValidationError) as info:
        JourneyMap.derived_from(log)
    assert info.value.field == "row 1: kind"


def test_derived_from_an_empty_log_is_empty() -> None:
    assert JourneyMap.derived_from(EventLog.from_records([])) == JourneyMap()


def test_a_journey_map_from_funnel_touchpoint_rules_agrees_with_them() -> None:
    data = generate(200, seed=4)
    log = EventLog.from_interactions(data.interactions)
    journey = JourneyMap.from_touchpoint_map(DEFAULT_TOUCHPOINTS, log)
    assert journey.stages  # the default rules cover the demo's touchpoints
    for point, stage in journey.stages.items():
        assert DEFAULT_TOUCHPOINTS.lookup(point.kind, point.channel) is stage
    report = journey_report(log, journey_map=journey)
    assert report.unmapped == ()
    # A kind-only rule covers the kind on every channel; uncovered touchpoints stay unmapped.
    rules = TouchpointMap.of({"checkout": "conversion"})
    at = data.interactions[0].at
    small = EventLog.from_interactions(
        [
            Interaction("i1", "c1", at, "web", "checkout"),
            Interaction("i2", "c1", at, "store", "checkout"),
            Interaction("i3", "c1", at, "web", "website_visit"),
        ]
    )
    narrow = JourneyMap.from_touchpoint_map(rules, small)
    assert narrow.stage_of("web/checkout") is narrow.stage_of("store/checkout") is Stage.CONVERSION
    assert narrow.stage_of("web/website_visit") is None
