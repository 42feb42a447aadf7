"""Touchpoint maps, driving positions from interactions, and replay."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.customers.records import Interaction
from crmcore.datasets.synthetic import generate
from crmcore.funnel import (
    DEFAULT_TOUCHPOINTS,
    FunnelPolicy,
    FunnelPosition,
    Stage,
    StageEntered,
    StageMove,
    TouchpointMap,
    TouchpointRule,
    apply_interaction,
    replay,
)
from crmcore.kernel.codec import decode, encode
from crmcore.kernel.errors import IllegalTransitionError, ValidationError

T = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)
UNTAGGED = attrs.evolve(DEFAULT_TOUCHPOINTS, use_tagged_stage=False)


def visit(
    id: str, kind: str, at: datetime = T, channel: str = "web", stage: Stage | None = None
) -> Interaction:
    return Interaction(id, "C-1", at, channel, kind, stage=stage)


# -- the map -------------------------------------------------------------------------------


def test_default_map_covers_the_demo_data() -> None:
    data = generate(customers=300, seed=3)
    kinds = {(i.channel, i.kind) for i in data.interactions}
    assert len(kinds) == 14  # every kind synthetic.py uses
    for interaction in data.interactions:
        assert UNTAGGED.stage_for(interaction) == interaction.stage


def test_replaying_the_demo_data_reaches_each_customers_furthest_stage() -> None:
    data = generate(customers=80, seed=5)
    by_customer: dict[str, list[Interaction]] = defaultdict(list)
    for interaction in data.interactions:
        by_customer[interaction.customer_id].append(interaction)
    for cid, interactions in by_customer.items():
        position = replay(interactions, UNTAGGED)
        assert position is not None and position.customer_id == cid
        assert position.stage == max(i.stage for i in interactions if i.stage is not None)
        assert position.entered_at(Stage.AWARENESS) == min(i.at for i in interactions)


def test_lookup_order_tag_then_channel_and_kind_then_kind() -> None:
    m = TouchpointMap.of({"demo": "consideration", ("store", "demo"): "intent"})
    assert m.stage_for(visit("I-1", "demo")) is Stage.CONSIDERATION
    assert m.stage_for(visit("I-1", "demo", channel="store")) is Stage.INTENT
    tagged = visit("I-1", "demo", channel="store", stage=Stage.INTEREST)
    assert m.stage_for(tagged) is Stage.INTEREST
    assert attrs.evolve(m, use_tagged_stage=False).stage_for(tagged) is Stage.INTENT
    assert m.stage_for(visit("I-1", "page_scroll")) is None
    assert m.lookup("Demo", "Store") is Stage.INTENT
    assert m.lookup("demo", "web") is Stage.CONSIDERATION


def test_rules_are_normalised_canonical_and_unambiguous() -> None:
    a = TouchpointMap.of({"Cart Add": "intent", ("Web", "demo-request"): 3})  # type: ignore[dict-item]
    b = TouchpointMap(
        [TouchpointRule("demo_request", Stage.CONSIDERATION, "web"), TouchpointRule("cart_add", 4)]
    )
    assert a == b and hash(a) == hash(b)
    assert a.rules[0] == TouchpointRule("cart_add", Stage.INTENT)
    same_twice = TouchpointMap([TouchpointRule("x", 1), TouchpointRule("X", 1)])
    assert len(same_twice.rules) == 1
    with pytest.raises(ValidationError) as info:
        TouchpointMap([TouchpointRule("x", 1), TouchpointRule("X", 2)])
    assert "awareness and interest" in info.value.reason
    with pytest.raises(ValidationError):
        TouchpointMap.of({"Web Visit": "interest", "web_visit": "intent"})


def test_updated_replaces_rules_with_the_same_key() -> None:
    m = DEFAULT_TOUCHPOINTS.updated({"website_visit": "interest", ("store", "visit"): "interest"})
    assert m.lookup("website_visit") is Stage.INTEREST
    assert m.lookup("visit", "store") is Stage.INTEREST
    assert m.lookup("cart_add") is Stage.INTENT
    assert DEFAULT_TOUCHPOINTS.lookup("website_visit") is Stage.AWARENESS
    assert len(m.rules) == len(DEFAULT_TOUCHPOINTS.rules) + 1


def test_bad_maps_are_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        TouchpointMap.of({"demo": "lead"})
    assert "awareness, interest" in info.value.reason
    for bad in (
        lambda: TouchpointMap.of({("web",): "intent"}),  # type: ignore[dict-item]
        lambda: TouchpointMap.of({"": "intent"}),
        lambda: TouchpointMap.of([("demo", "intent")]),  # type: ignore[arg-type]
        lambda: TouchpointMap({"demo": Stage.INTENT}),  # type: ignore[dict-item]
        lambda: TouchpointMap(["demo"]),  # type: ignore[list-item]
        lambda: TouchpointMap(use_tagged_stage="no"),  # type: ignore[arg-type]
        lambda: DEFAULT_TOUCHPOINTS.stage_for("demo"),  # type: ignore[arg-type]
        lambda: DEFAULT_TOUCHPOINTS.lookup("not a slug!"),
    ):
        with pytest.raises(ValidationError):
            bad()


def test_maps_round_trip_through_the_codec() -> None:
    custom = TouchpointMap.of({("store", "visit"): "interest"}, use_tagged_stage=False)
    for m in (DEFAULT_TOUCHPOINTS, custom, TouchpointMap()):
        assert decode(TouchpointMap, encode(m)) == m


# -- apply_interaction ---------------------------------------------------------------------


def test_unmapped_interactions_change_nothing() -> None:
    outcome = apply_interaction(None, visit("I-1", "page_scroll"))
    assert outcome.value is None and outcome.events == ()
    p = FunnelPosition.start("C-1", "interest", T).value
    assert apply_interaction(p, visit("I-2", "page_scroll")).value is p


def test_first_mapped_interaction_starts_the_position() -> None:
    outcome = apply_interaction(None, visit("I-1", "content_view", T))
    p = outcome.value
    assert p is not None and p.stage is Stage.INTEREST
    assert [(c.stage, c.how, c.source) for c in p.history] == [
        (Stage.AWARENESS, StageMove.SKIP, "I-1"),
        (Stage.INTEREST, StageMove.START, "I-1"),
    ]
    assert [e.kind for e in outcome.events] == ["funnel.stage_entered"] * 2


def test_interactions_only_move_forward() -> None:
    p = FunnelPosition.start("C-1", "intent", T).value
    for earlier in ("website_visit", "content_view", "cart_add"):
        outcome = apply_interaction(p, visit("I-9", earlier, T + DAY))
        assert outcome.value is p and outcome.events == ()
    outcome = apply_interaction(p, visit("I-10", "referral_sent", T + DAY))
    assert outcome.value is not None and outcome.value.stage is Stage.ADVOCACY
    last = outcome.events[-1]
    assert isinstance(last, StageEntered)
    assert (last.how, last.source, last.previous) == (StageMove.ADVANCE, "I-10", Stage.RETENTION)


def test_apply_interaction_errors() -> None:
    p = FunnelPosition.start("C-1", "interest", T + DAY).value
    with pytest.raises(ValidationError) as info:
        apply_interaction(p, Interaction("I-1", "C-2", T + DAY, "web", "checkout"))
    assert info.value.field == "interaction.customer_id"
    with pytest.raises(ValidationError) as info:
        apply_interaction(p, visit("I-1", "checkout", T))  # forward, but dated too early
    assert info.value.field == "at"
    assert apply_interaction(p, visit("I-1", "website_visit", T)).value is p  # earlier: ignored
    with pytest.raises(IllegalTransitionError):
        apply_interaction(
            p, visit("I-1", "checkout", T + DAY), policy=FunnelPolicy(allow_skips=False)
        )
    with pytest.raises(ValidationError):
        apply_interaction(p, "checkout")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        apply_interaction("C-1", visit("I-1", "checkout"))  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        apply_interaction(p, visit("I-1", "checkout"), {"checkout": 5})  # type: ignore[arg-type]


# -- replay --------------------------------------------------------------------------------


def test_replay_sorts_by_time_then_id() -> None:
    story = [
        visit("I-3", "checkout", T + 2 * DAY),
        visit("I-1", "website_visit", T),
        visit("I-2b", "cart_add", T + DAY),
        visit("I-2a", "content_view", T + DAY),  # same instant: I-2a before I-2b
    ]
    p = replay(story)
    assert p is not None and p.stage is Stage.CONVERSION
    assert [(c.stage.label, c.how.value, c.source) for c in p.history] == [
        ("awareness", "start", "I-1"),
        ("interest", "advance", "I-2a"),
        ("consideration", "skip", "I-2b"),
        ("intent", "advance", "I-2b"),
        ("conversion", "advance", "I-3"),
    ]
    assert replay(reversed(story)) == p


def test_replay_edge_cases() -> None:
    assert replay([]) is None
    assert replay([visit("I-1", "page_scroll")]) is None
    with pytest.raises(ValidationError):
        replay([visit("I-1", "checkout"), Interaction("I-2", "C-2", T, "web", "checkout")])
    with pytest.raises(ValidationError):
        replay(["I-1"])  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        replay("I-1")  # type: ignore[arg-type]


KINDS = st.sampled_from(
    [
        "website_visit",
        "content_view",
        "product_compare",
        "cart_add",
        "checkout",
        "repeat_visit",
        "review_posted",
        "page_scroll",
        "demo",
    ]
)
STORY = st.lists(
    st.tuples(
        st.integers(0, 20),  # day: small range, so ties are common
        KINDS,
        st.sampled_from(["web", "store", "email"]),
        st.none() | st.sampled_from(list(Stage)),
    ),
    max_size=25,
)
MAPS = st.sampled_from(
    [
        DEFAULT_TOUCHPOINTS,
        UNTAGGED,
        DEFAULT_TOUCHPOINTS.updated({("store", "demo"): "intent", "demo": "consideration"}),
    ]
)


@settings(max_examples=200, deadline=None)
@given(story=STORY, touchpoints=MAPS, seed=st.integers(0, 2**32 - 1))
def test_replay_of_shuffled_interactions_equals_replay_of_sorted(
    story: list[tuple[int, str, str, Stage | None]], touchpoints: TouchpointMap, seed: int
) -> None:
    interactions = [
        Interaction(f"I-{n:02d}", "C-1", T + day * DAY, channel, kind, stage=stage)
        for n, (day, kind, channel, stage) in enumerate(story)
    ]
    ordered = sorted(interactions, key=lambda i: (i.at, i.id))
    shuffled = interactions[:]
    random.Random(seed).shuffle(shuffled)
    p = replay(ordered, touchpoints)
    assert replay(shuffled, touchpoints) == p

    # the same as feeding the sorted interactions one by one
    folded: FunnelPosition | None = None
    for interaction in ordered:
        folded = apply_interaction(folded, interaction, touchpoints).value
    assert folded == p

    mapped = [(i, touchpoints.stage_for(i)) for i in ordered]
    stages = [s for _, s in mapped if s is not None]
    if not stages:
        assert p is None
        return
    assert p is not None
    assert p.stage == max(stages)  # interactions never move a customer back
    assert p.history[0].at == next(i.at for i, s in mapped if s is not None)
    assert all(c.how is not StageMove.REGRESS for c in p.history)
    assert {c.source for c in p.history} <= {i.id for i in interactions}
