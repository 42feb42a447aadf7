"""Scales, single scores and score columns: ranges, negative bands, row-named errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest

from crmcore.journey import Scale, Touchpoint, TouchpointScore, TouchpointScores
from crmcore.kernel.errors import ValidationError

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("scale", "low", "high", "negative", "not_negative", "neutral"),
    [
        (Scale.CSAT, 1, 5, 2, 3, 3.0),  # PEERS.md §5.2: satisfied = top-two box 4-5
        (Scale.NPS, 0, 10, 6, 7, 7.5),  # detractors 0-6, passives 7-8
        (Scale.CES, 1, 7, 3, 4, 4.5),  # CES 2.0: difficult 1-3, neutral 4-5, easy 6-7
    ],
)
def test_scale_table_follows_peers_definitions(
    scale: Scale, low: int, high: int, negative: int, not_negative: int, neutral: float
) -> None:
    assert (scale.low, scale.high, scale.negative_max, scale.neutral) == (
        low,
        high,
        negative,
        neutral,
    )
    assert scale.is_negative(low) and scale.is_negative(negative)
    assert not scale.is_negative(not_negative) and not scale.is_negative(high)


def test_scale_parse() -> None:
    assert Scale.parse(" NPS ") is Scale.NPS
    assert Scale.parse(Scale.CES) is Scale.CES
    with pytest.raises(ValidationError, match="csat, nps, ces"):
        Scale.parse("stars", "survey")


def test_touchpoint_score_normalises_and_flags_negative() -> None:
    at = datetime(2026, 3, 1, 17, tzinfo=timezone(timedelta(hours=8)))
    s = TouchpointScore("C1", "Phone", "Service Inquiry", at, 6.0, "nps")
    assert s.score == 6 and type(s.score) is int
    assert s.at == datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert s.touchpoint == Touchpoint("phone", "service_inquiry")
    assert s.negative
    assert not TouchpointScore("C1", "web", "visit", T0, Decimal(7), Scale.NPS).negative


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"score": 6, "scale": "csat"}, "score"),
        ({"score": 0, "scale": "csat"}, "score"),
        ({"score": 11, "scale": "nps"}, "score"),
        ({"score": 2.5, "scale": "csat"}, "score"),
        ({"score": True, "scale": "csat"}, "score"),
        ({"score": float("nan"), "scale": "csat"}, "score"),
        ({"score": 3, "scale": "stars"}, "score.scale"),
        ({"score": 3, "scale": "csat", "at": datetime(2026, 3, 1)}, "score.at"),
        ({"score": 3, "scale": "csat", "customer_id": "bad id"}, "customer_id"),
        ({"score": 3, "scale": "csat", "channel": "?"}, "score.channel"),
    ],
)
def test_touchpoint_score_errors_name_the_field(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "customer_id": "C1",
        "channel": "web",
        "kind": "visit",
        "at": T0,
        **kwargs,
    }
    with pytest.raises(ValidationError) as info:
        TouchpointScore(**args)
    assert info.value.field == field


def test_from_arrays_encodes_touchpoints_once_per_distinct_pair() -> None:
    table = TouchpointScores.from_arrays(
        ["C1", "C2", "C3", "C1"],
        np.array(["web", "Phone", "web", "phone"]),
        ["visit", "call", "visit", "call"],
        np.array([5, 1, 4, 2]),
        scale="csat",
    )
    assert table.touchpoints == (Touchpoint("phone", "call"), Touchpoint("web", "visit"))
    assert table.codes.tolist() == [1, 0, 1, 0]
    assert table.scores.tolist() == [5.0, 1.0, 4.0, 2.0]
    assert table.negative.tolist() == [False, True, False, True]
    assert table.customer_ids.tolist() == ["C1", "C2", "C3", "C1"]
    assert np.isnat(table.at).all()
    assert len(table) == 4
    assert not table.scores.flags.writeable and not table.codes.flags.writeable


def test_from_arrays_takes_aware_datetimes_or_datetime64() -> None:
    later = T0 + timedelta(hours=1)
    a = TouchpointScores.from_arrays(
        ["C1", "C2"], ["web"] * 2, ["v"] * 2, [1, 2], scale="ces", at=[T0, later]
    )
    b = TouchpointScores.from_arrays(
        ["C1", "C2"],
        ["web"] * 2,
        ["v"] * 2,
        [1, 2],
        scale="ces",
        at=np.array(["2026-03-01T09:00", "2026-03-01T10:00"], dtype="datetime64[us]"),
    )
    assert a.at.tolist() == b.at.tolist()
    with pytest.raises(ValidationError, match="row 1: at"):
        TouchpointScores.from_arrays(
            ["C1", "C2"], ["web"] * 2, ["v"] * 2, [1, 2], scale="ces", at=[T0, datetime(2026, 3, 1)]
        )


@pytest.mark.parametrize(
    ("scores", "field"),
    [
        ([3, 6, 1], "row 1: score"),
        ([3, 2.5, 1], "row 1: score"),
        ([3, 3, float("nan")], "row 2: score"),
        ([0, 3, 3], "row 0: score"),
        (["3", "4", "5"], "scores"),
    ],
)
def test_from_arrays_names_the_bad_score_row(scores: list[float | str], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        TouchpointScores.from_arrays(["C1"] * 3, ["web"] * 3, ["v"] * 3, scores, scale="csat")
    assert info.value.field == field


def test_from_arrays_names_bad_rows_of_the_other_columns() -> None:
    with pytest.raises(ValidationError, match="row 1: kind"):
        TouchpointScores.from_arrays(["C1", "C2"], ["web", "web"], ["v", "9"], [1, 2], scale="nps")
    with pytest.raises(ValidationError, match="row 1: customer_id"):
        TouchpointScores.from_arrays(["C1", ""], ["web", "web"], ["v", "v"], [1, 2], scale="nps")
    with pytest.raises(ValidationError, match="row 0: channel"):
        TouchpointScores.from_arrays(["C1"], np.array([7], dtype=object), ["v"], [1], scale="nps")
    with pytest.raises(ValidationError, match="kinds"):
        TouchpointScores.from_arrays(["C1", "C2"], ["web", "web"], ["v"], [1, 2], scale="nps")
    with pytest.raises(ValidationError, match="scale"):
        TouchpointScores.from_arrays(["C1"], ["web"], ["v"], [1], scale="stars")


def test_from_scores_requires_one_scale_and_names_the_odd_row() -> None:
    a = TouchpointScore("C1", "web", "visit", T0, 4, "csat")
    b = TouchpointScore("C2", "web", "visit", T0, 9, "nps")
    table = TouchpointScores.from_scores([a, a])
    assert table.scale is Scale.CSAT and table.scores.tolist() == [4.0, 4.0]
    assert table.at.tolist() == [T0.replace(tzinfo=None)] * 2
    with pytest.raises(ValidationError) as info:
        TouchpointScores.from_scores([a, a, b])
    assert info.value.field == "row 2: scale"
    with pytest.raises(ValidationError, match="row 0: scale"):
        TouchpointScores.from_scores([a], scale="nps")
    with pytest.raises(ValidationError, match="row 1"):
        TouchpointScores.from_scores([a, "oops"])  # type: ignore[list-item]


def test_empty_scores_need_a_declared_scale() -> None:
    assert len(TouchpointScores.from_scores([], scale="nps")) == 0
    assert len(TouchpointScores.from_arrays([], [], [], [], scale="nps")) == 0
    with pytest.raises(ValidationError, match="scale"):
        TouchpointScores.from_scores([])


def test_the_constructor_copies_and_checks() -> None:
    codes = np.array([0, 1])
    table = TouchpointScores(
        "csat",
        ("web/a", "web/b"),
        codes,
        ["C1", "C2"],
        [1, 5],
        np.array(["NaT", "NaT"], dtype="datetime64[us]"),
    )
    assert codes.flags.writeable  # the caller's array is left alone
    assert table.touchpoints == (Touchpoint("web", "a"), Touchpoint("web", "b"))
    with pytest.raises(ValidationError, match="row 1: code"):
        TouchpointScores(
            Scale.CSAT, (Touchpoint("web", "a"),), [0, 1], ["C1", "C2"], [1, 5], ["NaT", "NaT"]
        )
    with pytest.raises(ValidationError, match="distinct and sorted"):
        TouchpointScores(Scale.CSAT, ("web/b", "web/a"), [0], ["C1"], [1], ["NaT"])
    with pytest.raises(ValidationError, match="as many rows"):
        TouchpointScores(Scale.CSAT, ("web/a",), [0, 0], ["C1"], [1, 1], ["NaT"] * 2)
    with pytest.raises(ValidationError, match="row 0: score"):
        TouchpointScores(Scale.CSAT, ("web/a",), [0], ["C1"], [9], ["NaT"])
