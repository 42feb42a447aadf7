"""Feedback values, their validation, the columnar FeedbackLog and the codec round trip."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.feedback.events import FeedbackReceived
from crmcore.feedback.feedback import Feedback, FeedbackLog, receive_feedback
from crmcore.feedback.vocabulary import CHANNELS, KINDS, Channel, FeedbackKind
from crmcore.journey.scores import Scale
from crmcore.journey.touchpoint import Touchpoint
from crmcore.kernel import codec
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import event_from_json
from crmcore.kernel.stage import Stage

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def make(**kw: object) -> Feedback:
    base: dict[str, object] = {
        "id": "fb-1",
        "customer_id": "c-1",
        "channel": "email",
        "kind": "complaint",
        "at": AT,
    }
    base.update(kw)
    return Feedback(**base)  # type: ignore[arg-type]


def test_full_feedback_is_normalised() -> None:
    f = make(
        channel="In-App",
        kind="Suggestion",
        text="Make export faster",
        scores={"nps": 9, Scale.CSAT: 4.0, "ces": Decimal(6)},
        touchpoint="web/help_center",
        stage="retention",
        themes=["Speed", "export", "speed"],
        at=datetime(2026, 3, 2, 10, 30, tzinfo=timezone(timedelta(hours=1))),
    )
    assert f.channel is Channel.IN_APP
    assert f.kind is FeedbackKind.SUGGESTION
    assert dict(f.scores) == {Scale.CSAT: 4, Scale.NPS: 9, Scale.CES: 6}
    assert f.touchpoint == Touchpoint("web", "help_center")
    assert f.stage is Stage.RETENTION
    assert f.themes == ("export", "speed")
    assert f.at == AT and f.at.tzinfo is UTC
    assert f.score("nps") == 9 and f.score(Scale.CES) == 6
    assert not f.is_negative("nps") and not f.is_negative("csat")


def test_optional_parts_default_to_absent() -> None:
    f = make()
    assert f.text == "" and len(f.scores) == 0 and f.touchpoint is None and f.stage is None
    assert f.themes == () and f.version == 0
    assert f.score("nps") is None and not f.is_negative("nps")


@pytest.mark.parametrize(
    ("scale", "bad"),
    [("nps", 11), ("nps", -1), ("csat", 0), ("csat", 6), ("ces", 0), ("ces", 8)],
)
def test_scores_off_their_scale_are_refused(scale: str, bad: int) -> None:
    with pytest.raises(ValidationError) as info:
        make(scores={scale: bad})
    assert info.value.field == f"scores.{scale}"


@pytest.mark.parametrize("bad", [4.5, True, "7", float("nan"), None])
def test_scores_must_be_whole_numbers(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        make(scores={"nps": bad})
    assert info.value.field == "scores.nps"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("channel", "pigeon"),
        ("channel", 3),
        ("kind", "rant"),
        ("at", datetime(2026, 3, 2, 9, 30)),
        ("at", "2026-03-02"),
        ("stage", "purchase"),
        ("touchpoint", "web"),
        ("themes", "speed"),
        ("text", "x" * 20_001),
        ("customer_id", ""),
        ("id", "has space"),
        ("version", -1),
        ("scores", [("nps", 3)]),
    ],
)
def test_bad_fields_are_named(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        make(**{field: value})
    assert info.value.field.split(".")[0] == field


def test_unknown_scale_is_named() -> None:
    with pytest.raises(ValidationError) as info:
        make(scores={"csi": 3})
    assert info.value.field == "scores"


def test_channel_aliases_and_closed_set() -> None:
    assert Channel.parse("E-mail") is Channel.EMAIL
    assert Channel.parse("app") is Channel.IN_APP
    assert {c.value for c in CHANNELS} >= {
        "phone",
        "email",
        "social",
        "survey",
        "chat",
        "visit",
        "in_app",
        "web",
        "other",
    }
    assert [k.value for k in KINDS] == ["complaint", "suggestion", "praise", "inquiry"]


def test_negative_band_follows_scale() -> None:
    f = make(scores={"nps": 6, "csat": 3, "ces": 3})
    assert f.is_negative("nps") and not f.is_negative("csat") and f.is_negative("ces")


def test_codec_round_trip() -> None:
    f = make(
        text="Waited 3 weeks for my refund",
        scores={"nps": 2, "csat": 1},
        touchpoint=("phone", "after_sales"),
        stage=Stage.RETENTION,
        themes=["refunds"],
        version=3,
    )
    data = codec.encode(f, Feedback)
    assert codec.decode(Feedback, data) == f
    assert data["scores"] == {"csat": 1, "nps": 2}  # type: ignore[index]


def test_codec_decode_rejects_off_scale_scores() -> None:
    data = codec.encode(make(scores={"nps": 3}), Feedback)
    data["scores"] = {"nps": 12}  # type: ignore[index]
    with pytest.raises(ValidationError):
        codec.decode(Feedback, data)


def test_receive_feedback_event_has_no_text() -> None:
    f = make(text="private words", scores={"nps": 3}, themes=["billing"])
    outcome = receive_feedback(f)
    assert outcome.value is f
    (event,) = outcome.events
    assert isinstance(event, FeedbackReceived)
    payload = event.payload()
    assert "private words" not in repr(payload)
    assert payload["scores"] == {"nps": 3} and payload["feedback_type"] == "complaint"
    assert event_from_json(event.kind, payload) == event
    with pytest.raises(ValidationError):
        receive_feedback("not feedback")  # type: ignore[arg-type]


# -- the columnar form ---------------------------------------------------------------------------


def sample() -> list[Feedback]:
    return [
        make(id="a", customer_id="c1", channel="survey", kind="praise", scores={"nps": 10},
             themes=["staff"], stage="advocacy", touchpoint="visit/checkout"),
        make(id="b", customer_id="c2", channel="email", kind="complaint",
             themes=["price", "staff"], at=AT + timedelta(hours=1)),
        make(id="c", customer_id="c1", channel="chat", kind="inquiry",
             scores={"csat": 2, "ces": 5}, touchpoint="chat/support"),
    ]  # fmt: skip


def test_log_columns() -> None:
    log = FeedbackLog.from_feedback(sample())
    assert len(log) == 3
    assert log.ids.tolist() == ["a", "b", "c"]
    assert log.customer_ids.tolist() == ["c1", "c2", "c1"]
    assert [CHANNELS[i] for i in log.channel] == [Channel.SURVEY, Channel.EMAIL, Channel.CHAT]
    assert [KINDS[i] for i in log.kind] == [
        FeedbackKind.PRAISE,
        FeedbackKind.COMPLAINT,
        FeedbackKind.INQUIRY,
    ]
    assert log.stage.tolist() == [7, 0, 0]
    assert [t.label for t in log.touchpoints] == ["chat/support", "visit/checkout"]
    assert log.touchpoint.tolist() == [1, -1, 0]
    nps = log.scores[Scale.NPS]
    assert nps[0] == 10 and math.isnan(nps[1]) and math.isnan(nps[2])
    assert log.has_score("csat").tolist() == [False, False, True]
    assert log.at.dtype == np.dtype("datetime64[us]")
    assert log.at[1] - log.at[0] == np.timedelta64(3600 * 10**6, "us")
    assert log.at[0] == np.datetime64("2026-03-02T09:30:00", "us")
    assert log.themes == ("price", "staff")
    assert log.theme_offsets.tolist() == [0, 1, 3, 3]
    assert log.theme_codes.tolist() == [1, 0, 1]
    assert log.theme_rows().tolist() == [0, 1, 1]
    assert log.theme_mask("Staff").tolist() == [True, True, False]
    assert log.theme_mask("absent").tolist() == [False, False, False]
    assert log.theme_matrix().tolist() == [[False, True], [True, True], [False, False]]
    assert log.channel_mask("email").tolist() == [False, True, False]
    assert log.kind_mask("complaint").tolist() == [False, True, False]


def test_log_arrays_are_read_only() -> None:
    log = FeedbackLog.from_feedback(sample())
    with pytest.raises(ValueError, match="read-only"):
        log.channel[0] = 1
    with pytest.raises(ValueError, match="read-only"):
        log.scores[Scale.NPS][0] = 1.0


def test_empty_log() -> None:
    log = FeedbackLog.from_feedback([])
    assert len(log) == 0 and log.themes == () and log.theme_offsets.tolist() == [0]
    assert log.theme_matrix().shape == (0, 0)


def test_log_rejects_non_feedback_and_bad_codes() -> None:
    with pytest.raises(ValidationError) as info:
        FeedbackLog.from_feedback([make(), "nope"])  # type: ignore[list-item]
    assert info.value.field == "row 1"
    log = FeedbackLog.from_feedback(sample())
    import attrs

    with pytest.raises(ValidationError) as info:
        attrs.evolve(log, channel=np.array([0, 99, 0]))
    assert info.value.field == "row 1: channel"
    bad_scores = dict(log.scores)
    bad_scores[Scale.CSAT] = np.array([np.nan, 9.0, np.nan])
    with pytest.raises(ValidationError) as info:
        attrs.evolve(log, scores=bad_scores)
    assert info.value.field == "row 1: scores.csat"
    with pytest.raises(ValidationError):
        attrs.evolve(log, theme_offsets=np.array([0, 2, 1, 3]))


@given(
    st.lists(
        st.tuples(
            st.sampled_from(list(Channel)),
            st.sampled_from(list(FeedbackKind)),
            st.none() | st.integers(0, 10),
            st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
        ),
        max_size=12,
    )
)
def test_log_matches_objects(
    rows: list[tuple[Channel, FeedbackKind, int | None, list[str]]],
) -> None:
    items = [
        make(id=f"f{i}", channel=ch, kind=k, scores={} if s is None else {"nps": s}, themes=th)
        for i, (ch, k, s, th) in enumerate(rows)
    ]
    log = FeedbackLog.from_feedback(items)
    for i, f in enumerate(items):
        assert CHANNELS[log.channel[i]] is f.channel and KINDS[log.kind[i]] is f.kind
        nps = log.scores[Scale.NPS][i]
        assert (math.isnan(nps) and f.score("nps") is None) or nps == f.score("nps")
        codes = log.theme_codes[log.theme_offsets[i] : log.theme_offsets[i + 1]]
        assert tuple(log.themes[c] for c in codes) == f.themes


def test_log_columns_are_checked_where_they_enter() -> None:
    log = FeedbackLog.from_feedback(sample())
    fields = {f: getattr(log, f) for f in attrs.fields_dict(FeedbackLog)}
    for field, bad in (
        ("ids", None),
        ("channel", [0.5, 1.0, 2.0]),  # a float code would be truncated
        ("kind", np.array([np.nan, 0.0, 1.0])),
        ("stage", [2**63, 0, 0]),
        ("touchpoints", None),
        ("scores", None),
    ):
        with pytest.raises(ValidationError) as caught:
            FeedbackLog(**{**fields, field: bad})
        assert caught.value.field == field
    with pytest.raises(ValidationError) as caught:
        FeedbackLog.from_feedback(None)  # type: ignore[arg-type]
    assert caught.value.field == "items"
