"""Relationships between customers and accounts: typed, dated edges of the relationship graph.

The seed's customer relationship graph (客户关系图, seed 002 §3.1: who is connected to whom, and
how) is a set of [`Relationship`][crmcore.sales.relationships.Relationship] s, each an edge with a
kind, two endpoints, and the time it began (and ended, if it did):

* **referred**: a customer referred another customer (directed: referrer → referee); a customer is
  referred once at most, and referral chains never loop;
* **same_household**, **colleague**: two customers live together / work together (symmetric);
* **partner_of**, **reseller_of**: a partner or reseller (an account, or an individual customer)
  brought or serves an account (directed: partner → account).

Endpoints are ids with a [`NodeKind`][crmcore.sales.relationships.NodeKind]; each relationship kind
fixes which kinds it joins. The graph over many edges, and its queries, are in
[`crmcore.sales.relationship_graph`][crmcore.sales.relationship_graph].

Examples:
    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 3, 2, tzinfo=UTC)
    >>> Relationship.referred("ann", "bob", t).key
    ('referred', 'customer:ann', 'customer:bob')
    >>> Relationship.between("same_household", "cy", "ann", t).key    # symmetric: sorted
    ('same_household', 'customer:ann', 'customer:cy')
    >>> Relationship.partner("agency", "acme", t, reseller=True).target_kind
    <NodeKind.ACCOUNT: 'account'>
    >>> Relationship.referred("ann", "ann", t)
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.ValidationError: target: a relationship joins two different parties ...
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Final

import attrs

from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.ids import validate_id
from crmcore.kernel.machine import parse_member
from crmcore.kernel.validators import boolean, choice

__all__ = ["NodeKind", "Relationship", "RelationshipKind", "node_key"]


class NodeKind(enum.StrEnum):
    """What an endpoint of a relationship is."""

    CUSTOMER = "customer"
    ACCOUNT = "account"


class RelationshipKind(enum.StrEnum):
    """The kinds of relationship (edge types of the graph)."""

    REFERRED = "referred"
    """A customer referred another (referrer → referee)."""
    SAME_HOUSEHOLD = "same_household"
    """Two customers share a household (symmetric)."""
    COLLEAGUE = "colleague"
    """Two customers work together (symmetric)."""
    PARTNER_OF = "partner_of"
    """A partner brought or serves an account (partner → account)."""
    RESELLER_OF = "reseller_of"
    """A reseller sells to an account (reseller → account)."""

    @property
    def symmetric(self) -> bool:
        """Whether the edge has no direction."""
        return self in (RelationshipKind.SAME_HOUSEHOLD, RelationshipKind.COLLEAGUE)

    @property
    def code(self) -> int:
        """The kind's integer code in edge arrays (declaration order)."""
        return _KIND_CODE[self]


_KIND_CODE: Final = {k: i for i, k in enumerate(RelationshipKind)}
_C, _A = NodeKind.CUSTOMER, NodeKind.ACCOUNT
ENDPOINTS: Final = {
    RelationshipKind.REFERRED: ({_C}, {_C}),
    RelationshipKind.SAME_HOUSEHOLD: ({_C}, {_C}),
    RelationshipKind.COLLEAGUE: ({_C}, {_C}),
    RelationshipKind.PARTNER_OF: ({_C, _A}, {_A}),
    RelationshipKind.RESELLER_OF: ({_C, _A}, {_A}),
}
"""Which node kinds each relationship kind may join (source kinds, target kinds)."""


def node_key(kind: NodeKind, id: str) -> str:
    """The graph's key of a node: ``"customer:ann"``, ``"account:acme"``."""
    if not isinstance(kind, NodeKind):
        kind = choice(kind, "kind", NodeKind)
    return f"{kind.value}:{id}"


def _kind(value: object) -> RelationshipKind:
    return parse_member(RelationshipKind, value, "kind")


def _source_kind(value: object) -> NodeKind:
    return parse_member(NodeKind, value, "source_kind")


def _target_kind(value: object) -> NodeKind:
    return parse_member(NodeKind, value, "target_kind")


def _source(value: object) -> str:
    return validate_id(value, "source")


def _target(value: object) -> str:
    return validate_id(value, "target")


def _since(value: object) -> datetime:
    return to_utc(value, "since")


def _until(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "until")


@attrs.frozen(kw_only=True)
class Relationship:
    """An edge: ``kind`` from ``source`` to ``target`` (ids of the given node kinds), valid from
    ``since`` until ``until`` (``None``: still). Symmetric kinds are stored with their endpoints
    in sorted order, so the same pair is always the same edge."""

    kind: RelationshipKind = attrs.field(converter=_kind)
    source: str = attrs.field(converter=_source)
    target: str = attrs.field(converter=_target)
    since: datetime = attrs.field(converter=_since)
    until: datetime | None = attrs.field(default=None, converter=_until)
    source_kind: NodeKind = attrs.field(default=NodeKind.CUSTOMER, converter=_source_kind)
    target_kind: NodeKind = attrs.field(default=NodeKind.CUSTOMER, converter=_target_kind)

    def __attrs_post_init__(self) -> None:
        sources, targets = ENDPOINTS[self.kind]
        if self.source_kind not in sources:
            allowed = " or ".join(sorted(sources))
            raise ValidationError(
                "source_kind",
                self.source_kind.value,
                f"a {self.kind.value} edge starts at a {allowed}",
            )
        if self.target_kind not in targets:
            allowed = " or ".join(sorted(targets))
            raise ValidationError(
                "target_kind",
                self.target_kind.value,
                f"a {self.kind.value} edge ends at a {allowed}",
            )
        if (self.source_kind, self.source) == (self.target_kind, self.target):
            raise ValidationError(
                "target", self.target, "a relationship joins two different parties"
            )
        if self.until is not None and self.until <= self.since:
            raise ValidationError("until", self.until, "must be after since")
        if self.kind.symmetric and self.target < self.source:
            source, target = self.target, self.source
            object.__setattr__(self, "source", source)
            object.__setattr__(self, "target", target)

    @property
    def key(self) -> tuple[str, str, str]:
        """(kind, source node, target node): what makes two relationships the same edge."""
        return (
            self.kind.value,
            node_key(self.source_kind, self.source),
            node_key(self.target_kind, self.target),
        )

    def active_at(self, when: datetime) -> bool:
        """Whether the relationship holds at ``when`` (``since <= when < until``)."""
        instant = to_utc(when, "when")
        return self.since <= instant and (self.until is None or instant < self.until)

    def ended(self, at: datetime) -> Relationship:
        """This relationship ended at ``at`` (a colleague left, a partner contract ran out)."""
        return attrs.evolve(self, until=at)

    @classmethod
    def referred(cls, referrer: str, referee: str, since: datetime) -> Relationship:
        """``referrer`` referred ``referee`` (both customers)."""
        return cls(kind=RelationshipKind.REFERRED, source=referrer, target=referee, since=since)

    @classmethod
    def between(cls, kind: RelationshipKind | str, a: str, b: str, since: datetime) -> Relationship:
        """A symmetric relationship (``same_household``, ``colleague``) between two customers."""
        chosen = _kind(kind)
        if not chosen.symmetric:
            raise ValidationError("kind", chosen.value, "must be same_household or colleague")
        return cls(kind=chosen, source=a, target=b, since=since)

    @classmethod
    def partner(
        cls,
        partner: str,
        account: str,
        since: datetime,
        *,
        reseller: bool = False,
        partner_kind: NodeKind | str = NodeKind.ACCOUNT,
    ) -> Relationship:
        """``partner`` (an account by default, or a customer) brought / resells to ``account``."""
        return cls(
            kind=(
                RelationshipKind.RESELLER_OF
                if boolean(reseller, "reseller")
                else RelationshipKind.PARTNER_OF
            ),
            source=partner,
            target=account,
            since=since,
            source_kind=partner_kind,
            target_kind=NodeKind.ACCOUNT,
        )
