"""The parts of a lead scoring: decay, rules, bands and thresholds, and their bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.kernel.clock import DAY_US
from crmcore.kernel.errors import RuleSyntaxError, ValidationError
from crmcore.sales.scoring_rules import (
    Band,
    Decay,
    EngagementRule,
    FitRule,
    ScoreBands,
    Threshold,
)


def test_continuous_and_step_decay() -> None:
    ages = np.array([0, DAY_US // 2, 10 * DAY_US, 20 * DAY_US + 1], dtype=np.int64)
    smooth = Decay(10).weights(ages).tolist()
    assert smooth[0] == 1.0 and smooth[2] == 0.5 and 0.7 < smooth[1] < 1.0
    assert Decay(10, "step").weights(ages).tolist() == [1.0, 1.0, 0.5, 0.25]


@given(st.floats(0.01, 1000), st.lists(st.integers(0, 400 * DAY_US), min_size=2, max_size=20))
def test_decay_is_monotone_and_between_0_and_1(half_life: float, ages: list[int]) -> None:
    ordered = np.array(sorted(ages), dtype=np.int64)
    for mode in ("continuous", "step"):
        w = Decay(half_life, mode).weights(ordered)  # type: ignore[arg-type]
        assert np.all((w >= 0) & (w <= 1))
        assert np.all(np.diff(w) <= 0)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Decay(0), "half_life_days"),
        (lambda: Decay(-1), "half_life_days"),
        (lambda: Decay(float("nan")), "half_life_days"),
        (lambda: Decay(7, "linear"), "mode"),
        (lambda: FitRule("x", "country = 'DE'", -5), "points"),
        (lambda: FitRule("x", 42, 5), "rule"),
        (lambda: FitRule("", "country = 'DE'", 5), "name"),
        (lambda: EngagementRule(name="x", kinds=(), points=1), "kinds"),
        (lambda: EngagementRule(name="x", kinds="a", points=-1), "points"),
        (lambda: EngagementRule(name="x", kinds="a", points=1, cap=0), "cap"),
        (lambda: EngagementRule(name="x", kinds="a", points=1, window_days=0), "window_days"),
        (lambda: EngagementRule(name="x", kinds="a", points=True), "points"),
        (lambda: Threshold("50"), "total"),
        (lambda: ScoreBands((Band("A", 10),)), "bands"),
        (lambda: ScoreBands((Band("A", 10), Band("B", 20), Band("C"))), "bands"),
    ],
)
def test_bad_definitions_name_the_field(build: object, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        build()  # type: ignore[operator]
    assert error.value.field == field


def test_a_rule_that_does_not_parse_names_the_rule_and_the_place() -> None:
    with pytest.raises(RuleSyntaxError) as error:
        FitRule("big", "attr.employees >> 5", 5)
    assert "fit rule 'big'" in str(error.value) and error.value.column == 17


def test_penalties_subtract() -> None:
    rule = FitRule("student", 'attr.industry = "student"', 25, penalty=True)
    assert rule.signed_points == -25.0 and rule.points == 25.0


def test_bands_and_thresholds() -> None:
    bands = ScoreBands.heat(hot=70, warm=40)
    assert bands.labels == ("HOT", "WARM", "COLD")
    totals = np.array([-5.0, 39.999, 40.0, 69.0, 70.0, 1e9])
    assert [bands.label_of(t) for t in totals] == ["COLD", "COLD", "WARM", "WARM", "HOT", "HOT"]
    assert bands.codes(totals).tolist() == [bands.code_of(t) for t in totals]
    mql = Threshold(50, fit=20, engagement=10)
    assert mql.met(20, 30, 50) and not mql.met(19, 40, 59) and not mql.met(40, 9, 70)
    fit, eng = np.array([20.0, 19.0]), np.array([30.0, 40.0])
    assert mql.met_all(fit, eng, fit + eng).tolist() == [True, False]


def test_rules_round_trip_through_json() -> None:
    fit = FitRule("dach", 'country in ("DE", "AT") and attr.employees >= 50', 10)
    assert FitRule.from_json(fit.to_json()) == fit
    engagement = EngagementRule(
        name="pricing",
        kinds=("pricing_view", "plans_view"),
        points=5,
        cap=25,
        window_days=60,
        decay=Decay(14, "step"),
    )
    assert EngagementRule.from_json(engagement.to_json()) == engagement
    bands = ScoreBands.letters(90, 70, 50)
    assert ScoreBands.from_json(bands.to_json()) == bands


def test_json_that_is_not_a_rule_is_refused_naming_what_is_missing() -> None:
    with pytest.raises(ValidationError, match="fit rule data misses name, rule, points"):
        FitRule.from_json({})
    with pytest.raises(ValidationError, match="must be a mapping") as error:
        EngagementRule.from_json(None)  # type: ignore[arg-type]
    assert error.value.field == "data"
    with pytest.raises(ValidationError, match="band data misses label") as error:
        ScoreBands.from_json([{"minimum": 10}])
    assert error.value.field == "data[0]"
    with pytest.raises(ValidationError, match="must be one of 'continuous', 'step'"):
        Decay(10, np.array(["step"]))  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as error:
        Decay(10).weights(np.array([np.nan]))  # type: ignore[arg-type]
    assert error.value.field == "age_us"
