"""The relationship graph: edge arrays and vectorised queries against plain-Python graph walks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.columnar import TransactionLog
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.sales.relationship_graph import RelationshipGraph
from crmcore.sales.relationships import NodeKind, Relationship, RelationshipKind

T = datetime(2026, 3, 2, tzinfo=UTC)
PEOPLE = [f"p{i}" for i in range(12)]


@st.composite
def graphs(draw: st.DrawFn) -> list[Relationship]:
    """Referrals that form a forest (each referee referred once, by someone earlier in a random
    order), plus households, colleagues and partner edges."""
    order = draw(st.permutations(PEOPLE))
    edges = []
    for i, person in enumerate(order[1:], 1):
        if draw(st.booleans()):
            referrer = order[draw(st.integers(0, i - 1))]
            edges.append(Relationship.referred(referrer, person, T + timedelta(days=i)))
    pairs = draw(st.lists(st.tuples(st.sampled_from(PEOPLE), st.sampled_from(PEOPLE)), max_size=8))
    seen = set()
    for a, b in pairs:
        kind = draw(st.sampled_from(["same_household", "colleague"]))
        if a != b and (kind, min(a, b), max(a, b)) not in seen:
            seen.add((kind, min(a, b), max(a, b)))
            edges.append(Relationship.between(kind, a, b, T))
    for partner, account in draw(
        st.lists(
            st.tuples(st.sampled_from(["agency", "p1"]), st.sampled_from(["acme", "globex"])),
            max_size=4,
            unique=True,
        )
    ):
        kind = NodeKind.CUSTOMER if partner == "p1" else NodeKind.ACCOUNT
        edges.append(Relationship.partner(partner, account, T, partner_kind=kind))
    return edges


def referees(edges: list[Relationship], who: str) -> list[str]:
    return [e.target for e in edges if e.kind is RelationshipKind.REFERRED and e.source == who]


def tree(edges: list[Relationship], who: str) -> list[str]:
    out, frontier = [], [who]
    while frontier:
        nxt = [r for f in frontier for r in referees(edges, f)]
        out += nxt
        frontier = nxt
    return out


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_queries_agree_with_walking_the_edges(edges: list[Relationship]) -> None:
    g = RelationshipGraph.from_relationships(edges)
    purchases = [
        {"customer_id": p, "at": T, "amount": float(10 * (i + 1))} for i, p in enumerate(PEOPLE)
    ]
    log = TransactionLog.from_records(purchases)
    spend = {p["customer_id"]: p["amount"] for p in purchases}
    ranking = g.advocates(log=log, as_of=T + timedelta(days=1), by="tree_size")
    rows = {a.customer_id: a for a in ranking.rows}
    for person in PEOPLE:
        parents = [
            e.source for e in edges if e.kind is RelationshipKind.REFERRED and e.target == person
        ]
        assert g.referrer_of(person) == (parents[0] if parents else None)
        assert set(g.referrals_of(person)) == set(referees(edges, person))
        members = tree(edges, person)
        if f"customer:{person}" in g.nodes:
            t = g.referral_tree(person, log=log, as_of=T + timedelta(days=1))
            assert sorted(t.members) == sorted(members)
            assert t.tree_revenue == pytest.approx(sum(spend[m] for m in members))
            connections = sum(
                (e.source_kind is NodeKind.CUSTOMER and e.source == person)
                + (e.target_kind is NodeKind.CUSTOMER and e.target == person)
                for e in edges
            )
            if person in rows:
                row = rows[person]
                assert row.referrals == len(referees(edges, person))
                assert row.tree_size == len(members)
                assert row.connections == connections
        household = {person}
        grew = True
        while grew:
            grew = False
            for e in edges:
                if e.kind is RelationshipKind.SAME_HOUSEHOLD and (e.source in household) != (
                    e.target in household
                ):
                    household |= {e.source, e.target}
                    grew = True
        if f"customer:{person}" in g.nodes:
            assert set(g.household(person)) == household
    sizes = [a.tree_size for a in ranking.rows]
    assert sizes == sorted(sizes, reverse=True)
    for partner, kind in (("agency", NodeKind.ACCOUNT), ("p1", NodeKind.CUSTOMER)):
        expected = {
            e.target
            for e in edges
            if e.kind is RelationshipKind.PARTNER_OF
            and e.source == partner
            and e.source_kind is kind
        }
        assert set(g.accounts_brought_by(partner, partner_kind=kind)) == expected


def test_the_referral_tree_report() -> None:
    g = RelationshipGraph.from_relationships(
        [
            Relationship.referred("ann", "bob", T),
            Relationship.referred("bob", "cy", T + timedelta(days=2)),
            Relationship.referred("ann", "dee", T + timedelta(days=1)),
        ]
    )
    log = TransactionLog.from_records(
        [
            {"customer_id": "bob", "at": T, "amount": 30.0},
            {"customer_id": "cy", "at": T, "amount": 5.0},
            {"customer_id": "ann", "at": T, "amount": 100.0},
        ]
    )
    t = g.referral_tree("ann", log=log, as_of=T + timedelta(days=3))
    assert t.members == ("bob", "dee", "cy") and t.depths.tolist() == [1, 1, 2]
    assert t.referrers == ("ann", "ann", "bob") and t.root_revenue == 100.0
    assert (t.tree_revenue, t.revenue_by_depth()) == (35.0, {1: 30.0, 2: 5.0})
    assert json.loads(json.dumps(t.to_dict()))["tree_size"] == 3
    assert list(t.to_pandas()["customer_id"]) == ["bob", "dee", "cy"]
    assert "Referral tree of ann" in t._repr_html_()
    assert g.referral_pairs()[0][:2] == ("ann", "bob")
    ranked = g.advocates(by="tree_revenue", log=log, as_of=T + timedelta(days=3))
    assert [a.customer_id for a in ranked.rows][:2] == ["ann", "bob"]
    assert ranked.to_dict()["by"] == "tree_revenue" and "tree revenue" in ranked._repr_html_()
    assert (
        len(g.advocates(top=1)) == 1 and g.advocates().to_pandas()["customer_id"].iloc[0] == "ann"
    )


def test_time_households_neighbours_and_partners() -> None:
    left = T + timedelta(days=30)
    g = RelationshipGraph.from_relationships(
        [
            Relationship.between("colleague", "ann", "bob", T).ended(left),
            Relationship.between("same_household", "ann", "cy", T),
            Relationship.between("same_household", "cy", "dee", T),
            Relationship.partner("agency", "acme", T, reseller=True),
            Relationship.partner("agency", "globex", T + timedelta(days=1)),
        ]
    )
    assert set(g.household("dee")) == {"ann", "cy", "dee"} and g.household("bob") == ("bob",)
    assert ("bob", RelationshipKind.COLLEAGUE) in g.neighbours("ann")
    later = g.active_at(left)
    assert len(later) == len(g) - 1 and ("bob", RelationshipKind.COLLEAGUE) not in later.neighbours(
        "ann"
    )
    assert g.accounts_brought_by("agency") == ("acme", "globex")
    assert g.partners_of("globex") == ("agency",) and g.partners_of("nobody") == ()
    assert g.neighbours("acme", kind="account") == (("agency", RelationshipKind.RESELLER_OF),)
    with pytest.raises(NotFoundError):
        g.household("zed")


def test_bad_edges_are_refused() -> None:
    with pytest.raises(ValidationError, match="already referred"):
        RelationshipGraph.from_relationships(
            [Relationship.referred("a", "c", T), Relationship.referred("b", "c", T)]
        )
    with pytest.raises(ValidationError, match="cycle: "):
        RelationshipGraph.from_relationships(
            [
                Relationship.referred("a", "b", T),
                Relationship.referred("b", "c", T),
                Relationship.referred("c", "a", T),
            ]
        )
    with pytest.raises(ValidationError, match="duplicate"):
        RelationshipGraph.from_relationships(
            [
                Relationship.between("colleague", "a", "b", T),
                Relationship.between("colleague", "b", "a", T),
            ]
        )
    with pytest.raises(ValidationError) as error:
        Relationship(kind="referred", source="a", target="acme", since=T, target_kind="account")
    assert error.value.field == "target_kind"
    with pytest.raises(ValidationError):
        Relationship.between("referred", "a", "b", T)
    with pytest.raises(ValidationError) as error:
        Relationship.referred("a", "b", T).ended(T)
    assert error.value.field == "until"
    with pytest.raises(ValidationError):
        RelationshipGraph.from_relationships(["a"])  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        RelationshipGraph.from_relationships([]).advocates(by="tree_revenue")
