"""The customer relationship graph as edge arrays, and the questions a salesperson asks of it.

A [`RelationshipGraph`][crmcore.sales.relationship_graph.RelationshipGraph] holds
[`Relationship`][crmcore.sales.relationships.Relationship] s as numpy arrays: a node vocabulary
(``"customer:ann"``, ``"account:acme"``) and per edge its source and target node, kind code, and
validity in UTC microseconds. No graph database and no networkx: every query is a few passes over
the arrays.

* **who referred whom**:
  [`referrer_of()`][crmcore.sales.relationship_graph.RelationshipGraph.referrer_of],
  [`referrals_of()`][crmcore.sales.relationship_graph.RelationshipGraph.referrals_of],
  [`referral_pairs()`][crmcore.sales.relationship_graph.RelationshipGraph.referral_pairs];
* **the referral tree and its revenue**:
  [`referral_tree()`][crmcore.sales.relationship_graph.RelationshipGraph.referral_tree] (one
  customer's referees, theirs, and so on, with what each spent in a
  [`TransactionLog`][crmcore.columnar.TransactionLog]);
* **the most connected advocates**:
  [`advocates()`][crmcore.sales.relationship_graph.RelationshipGraph.advocates] ranks every customer
  by direct referrals, referral-tree size, tree revenue or connections, all at once (subtree sums
  level by level, degrees by ``np.bincount``);
* **the accounts a partner brought**:
  [`accounts_brought_by()`][crmcore.sales.relationship_graph.RelationshipGraph.accounts_brought_by];
* **households**: [`household()`][crmcore.sales.relationship_graph.RelationshipGraph.household],
  connected components of ``same_household`` edges by label propagation.

The referral edges form a forest: a customer is referred once at most and chains never loop, both
checked (vectorised) when the graph is built.
[`active_at()`][crmcore.sales.relationship_graph.RelationshipGraph.active_at] restricts a graph to
the edges that held at a time.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.sales.relationships import Relationship
    >>> t = datetime(2026, 3, 2, tzinfo=UTC)
    >>> graph = RelationshipGraph.from_relationships([
    ...     Relationship.referred("ann", "bob", t), Relationship.referred("ann", "cy", t),
    ...     Relationship.referred("bob", "dee", t),
    ...     Relationship.between("colleague", "bob", "cy", t),
    ...     Relationship.partner("agency", "acme", t)])
    >>> graph.referrer_of("dee"), graph.referrals_of("ann")
    ('bob', ('bob', 'cy'))
    >>> graph.referral_tree("ann").members
    ('bob', 'cy', 'dee')
    >>> [a.customer_id for a in graph.advocates(top=2).rows]
    ['ann', 'bob']
    >>> graph.accounts_brought_by("agency")
    ('acme',)
    >>> RelationshipGraph.from_relationships([Relationship.referred("ann", "bob", t),
    ...                                       Relationship.referred("bob", "ann", t)])
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.ValidationError: referred: referrals go round in a cycle: ...
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import Final, Literal, get_args

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.analytics.kpis import exact_sums, read_purchases
from crmcore.columnar import STRING_DTYPE, TransactionLog
from crmcore.columnar.arguments import int_column
from crmcore.kernel.arrays import BoolArray, Float64Array, Int8Array, Int64Array, read_only
from crmcore.kernel.clock import from_micros, to_micros
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.validators import choice, instances_of, integer, items_of
from crmcore.sales._forest import cycle_from, roots_and_depths, subtree_mask, subtree_sums
from crmcore.sales.account_hierarchy import id_positions
from crmcore.sales.relationship_reports import AdvocateRanking, ReferralTree
from crmcore.sales.relationships import NodeKind, Relationship, RelationshipKind, node_key

__all__ = ["AdvocateOrder", "RelationshipGraph"]

NEVER: Final = np.iinfo(np.int64).max
_REFERRED: Final = RelationshipKind.REFERRED.code
_HOUSEHOLD: Final = RelationshipKind.SAME_HOUSEHOLD.code
_PARTNERS: Final = (RelationshipKind.PARTNER_OF.code, RelationshipKind.RESELLER_OF.code)
AdvocateOrder = Literal["referrals", "tree_size", "tree_revenue", "connections"]
"""What advocates are ranked by."""


@attrs.frozen(eq=False, kw_only=True)
class RelationshipGraph:
    """Edges as arrays over a node vocabulary (``nodes`` are ``"kind:id"`` keys)."""

    nodes: tuple[str, ...]
    source: Int64Array
    target: Int64Array
    kind: Int8Array
    since: Int64Array
    until: Int64Array

    def __attrs_post_init__(self) -> None:
        self._check_columns()
        parent = self._referral_parent
        _, _, cyclic = roots_and_depths(parent)
        if cyclic.any():
            loop = cycle_from(parent, int(np.argmax(cyclic)))
            raise ValidationError(
                "referred",
                self._id(loop[0]),
                "referrals go round in a cycle: " + " -> ".join(self._id(i) for i in loop[::-1]),
            )

    def _check_columns(self) -> None:
        nodes = instances_of(self.nodes, str, "nodes")
        n = len(nodes)
        columns = {
            name: int_column(getattr(self, name), name)
            for name in ("source", "target", "kind", "since", "until")
        }
        size = len(columns["source"])
        for name, column in columns.items():
            if len(column) != size:
                raise ValidationError(name, len(column), f"must be one value per edge ({size})")
        for name in ("source", "target"):
            ends = columns[name]
            if size and (int(ends.min()) < 0 or int(ends.max()) >= n):
                raise ValidationError(
                    name, int(ends.min()), f"must be node positions in 0..{n - 1}"
                )
        kinds = columns["kind"]
        if size and (int(kinds.min()) < 0 or int(kinds.max()) >= len(RelationshipKind)):
            raise ValidationError("kind", int(kinds.min()), "must be relationship kind codes")
        object.__setattr__(self, "nodes", nodes)
        for name, column in columns.items():
            dtype = np.int8 if name == "kind" else np.int64
            object.__setattr__(self, name, read_only(column.astype(dtype, copy=False)))

    # -- building --------------------------------------------------------------------------------
    @classmethod
    def from_relationships(cls, relationships: Iterable[Relationship]) -> RelationshipGraph:
        """The graph of ``relationships``; the same edge twice (same kind, ends and start) and a
        customer referred twice are refused, naming them."""
        index: dict[str, int] = {}
        columns: list[list[int]] = [[], [], [], [], []]
        seen: set[tuple[tuple[str, str, str], datetime]] = set()
        referred: dict[str, str] = {}
        for i, r in enumerate(instances_of(relationships, Relationship, "relationships")):
            if (r.key, r.since) in seen:
                raise ValidationError(f"relationships[{i}]", r.key, "is a duplicate edge")
            seen.add((r.key, r.since))
            if r.kind is RelationshipKind.REFERRED:
                if r.target in referred:
                    raise ValidationError(
                        f"relationships[{i}].target",
                        r.target,
                        f"was already referred by {referred[r.target]!r}",
                    )
                referred[r.target] = r.source
            a = index.setdefault(node_key(r.source_kind, r.source), len(index))
            b = index.setdefault(node_key(r.target_kind, r.target), len(index))
            until = NEVER if r.until is None else to_micros(r.until)
            for column, value in zip(
                columns, (a, b, r.kind.code, to_micros(r.since), until), strict=True
            ):
                column.append(value)
        return cls(
            nodes=tuple(index),
            source=read_only(np.array(columns[0], dtype=np.int64)),
            target=read_only(np.array(columns[1], dtype=np.int64)),
            kind=read_only(np.array(columns[2], dtype=np.int8)),
            since=read_only(np.array(columns[3], dtype=np.int64)),
            until=read_only(np.array(columns[4], dtype=np.int64)),
        )

    def active_at(self, when: datetime) -> RelationshipGraph:
        """The graph of the edges that held at ``when`` (``since <= when < until``)."""
        t = to_micros(when, "when")
        keep = (self.since <= t) & (self.until > t)
        return attrs.evolve(
            self,
            source=read_only(self.source[keep]),
            target=read_only(self.target[keep]),
            kind=read_only(self.kind[keep]),
            since=read_only(self.since[keep]),
            until=read_only(self.until[keep]),
        )

    def __len__(self) -> int:
        return len(self.source)

    # -- nodes -----------------------------------------------------------------------------------
    def _id(self, node: int) -> str:
        return self.nodes[node].split(":", 1)[1]

    def _node(self, id: str, kind: NodeKind | str = NodeKind.CUSTOMER) -> int:
        kind = choice(kind, "kind", NodeKind)
        key = node_key(kind, id)
        position = self._index.get(key)
        if position is None:
            raise NotFoundError(f"{kind.value} in the graph", id)
        return position

    @functools.cached_property
    def _index(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.nodes)}

    @functools.cached_property
    def _ids(self) -> npt.NDArray[np.str_]:
        """The node ids without their kind prefix (``StringDType``)."""
        return read_only(np.array([k.split(":", 1)[1] for k in self.nodes], dtype=STRING_DTYPE))

    @functools.cached_property
    def _is_customer(self) -> BoolArray:
        return read_only(np.array([k.startswith("customer:") for k in self.nodes], dtype=bool))

    # -- referrals -------------------------------------------------------------------------------
    @functools.cached_property
    def _referral_parent(self) -> Int64Array:
        parent = np.full(len(self.nodes), -1, dtype=np.int64)
        referred = self.kind == _REFERRED
        parent[self.target[referred]] = self.source[referred]
        return read_only(parent)

    @functools.cached_property
    def _referral_depth(self) -> Int64Array:
        return read_only(roots_and_depths(self._referral_parent)[1])

    def referrer_of(self, customer: str) -> str | None:
        """Who referred ``customer`` (``None``: nobody, or not in the graph)."""
        position = self._index.get(node_key(NodeKind.CUSTOMER, customer))
        if position is None:
            return None
        parent = int(self._referral_parent[position])
        return None if parent < 0 else self._id(parent)

    def referrals_of(self, customer: str) -> tuple[str, ...]:
        """The customers ``customer`` referred directly, in order of referral."""
        position = self._index.get(node_key(NodeKind.CUSTOMER, customer))
        if position is None:
            return ()
        edges = np.flatnonzero((self.kind == _REFERRED) & (self.source == position))
        edges = edges[np.argsort(self.since[edges], kind="stable")]
        return tuple(self._id(int(self.target[e])) for e in edges)

    def referral_pairs(self) -> tuple[tuple[str, str, datetime], ...]:
        """Every referral as (referrer, referee, when), in time order."""
        edges = np.flatnonzero(self.kind == _REFERRED)
        edges = edges[np.argsort(self.since[edges], kind="stable")]
        return tuple(
            (
                self._id(int(self.source[e])),
                self._id(int(self.target[e])),
                from_micros(int(self.since[e])),
            )
            for e in edges
        )

    def _revenue(self, log: TransactionLog | None, as_of: datetime | None) -> Float64Array:
        """Each node's revenue in ``log`` up to ``as_of`` (0 for accounts and non-buyers)."""
        out = np.zeros(len(self.nodes))
        if log is None:
            return out
        if as_of is None:
            raise ValidationError("as_of", None, "is required with a log")
        p = read_purchases(log, as_of)
        spend = exact_sums(p.codes, p.amount, p.k)
        at = id_positions(p.vocabulary, self._ids)
        hit = (at >= 0) & self._is_customer
        out[hit] = spend[at[hit]]
        return out

    def referral_tree(
        self, customer: str, *, log: TransactionLog | None = None, as_of: datetime | None = None
    ) -> ReferralTree:
        """``customer``'s referral tree: every customer referred by them, directly or down the
        chain, with depth, referrer, when, and (with ``log`` and ``as_of``) revenue."""
        root = self._node(customer)
        depth = self._referral_depth
        members = subtree_mask(self._referral_parent, depth, root)
        members[root] = False
        rows = np.flatnonzero(members)
        rows = rows[np.lexsort((rows, depth[rows]))]
        revenue = self._revenue(log, as_of)
        since = np.zeros(len(self.nodes), dtype=np.int64)
        referred = self.kind == _REFERRED
        since[self.target[referred]] = self.since[referred]
        return ReferralTree(
            root=customer,
            as_of=None if as_of is None else from_micros(to_micros(as_of, "as_of")),
            members=tuple(self._id(int(i)) for i in rows),
            referrers=tuple(self._id(int(self._referral_parent[i])) for i in rows),
            depths=read_only((depth[rows] - depth[root]).astype(np.int64)),
            joined=tuple(from_micros(int(since[i])) for i in rows),
            revenue=read_only(revenue[rows]),
            root_revenue=float(revenue[root]),
        )

    def advocates(
        self,
        *,
        by: AdvocateOrder = "tree_size",
        top: int | None = None,
        log: TransactionLog | None = None,
        as_of: datetime | None = None,
    ) -> AdvocateRanking:
        """Every customer ranked by ``by`` (ties: more direct referrals, then id), vectorised.

        ``tree_size`` counts everyone down the referral chain; ``tree_revenue`` (needs ``log`` and
        ``as_of``) what they spent; ``connections`` the edges of every kind at the customer.
        Customers with none of these are left out; ``top`` keeps the first ``top``.
        """
        by = choice(by, "by", get_args(AdvocateOrder))
        if top is not None:
            top = integer(top, "top", low=0)
        if by == "tree_revenue" and log is None:
            raise ValidationError("log", None, "is required to rank by tree revenue")
        n = len(self.nodes)
        referred = self.kind == _REFERRED
        direct = np.bincount(self.source[referred], minlength=n).astype(np.int64)
        parent, depth = self._referral_parent, self._referral_depth
        tree = subtree_sums(parent, depth, np.ones(n, dtype=np.int64)) - 1
        revenue = self._revenue(log, as_of)
        tree_revenue = subtree_sums(parent, depth, revenue) - revenue
        degree = np.bincount(np.concatenate([self.source, self.target]), minlength=n).astype(
            np.int64
        )
        keys = {
            "referrals": direct,
            "tree_size": tree,
            "tree_revenue": tree_revenue,
            "connections": degree,
        }
        rows = np.flatnonzero(self._is_customer & ((direct > 0) | (degree > 0)))
        order = np.lexsort((self._ids[rows], -direct[rows], -keys[by][rows]))
        rows = rows[order][: top if top is not None else None]
        return AdvocateRanking(
            by=by,
            customer_ids=tuple(self._id(int(i)) for i in rows),
            referrals=read_only(direct[rows]),
            tree_size=read_only(tree[rows]),
            tree_revenue=read_only(tree_revenue[rows]),
            connections=read_only(degree[rows]),
        )

    # -- partners, households, neighbours --------------------------------------------------------
    def accounts_brought_by(
        self, partner: str, *, partner_kind: NodeKind | str = NodeKind.ACCOUNT
    ) -> tuple[str, ...]:
        """The accounts ``partner`` is partner or reseller of, in order of ``since``."""
        kind = choice(partner_kind, "partner_kind", NodeKind)
        position = self._index.get(node_key(kind, partner))
        if position is None:
            return ()
        edges = np.flatnonzero(np.isin(self.kind, _PARTNERS) & (self.source == position))
        edges = edges[np.argsort(self.since[edges], kind="stable")]
        return tuple(dict.fromkeys(self._id(int(self.target[e])) for e in edges))

    def partners_of(self, account: str) -> tuple[str, ...]:
        """The partners and resellers of ``account`` (their ids), in order of ``since``."""
        position = self._index.get(node_key(NodeKind.ACCOUNT, account))
        if position is None:
            return ()
        edges = np.flatnonzero(np.isin(self.kind, _PARTNERS) & (self.target == position))
        edges = edges[np.argsort(self.since[edges], kind="stable")]
        return tuple(dict.fromkeys(self._id(int(self.source[e])) for e in edges))

    @functools.cached_property
    def _households(self) -> Int64Array:
        """A component label per node over ``same_household`` edges (label propagation: each
        pass gives both ends of an edge the smaller label, until nothing changes)."""
        label = np.arange(len(self.nodes), dtype=np.int64)
        edges = self.kind == _HOUSEHOLD
        a, b = self.source[edges], self.target[edges]
        while len(a):
            low = np.minimum(label[a], label[b])
            before = label.copy()
            np.minimum.at(label, a, low)
            np.minimum.at(label, b, low)
            label = label[label]  # follow labels to their own labels: components merge faster
            if np.array_equal(before, label):
                break
        return read_only(label)

    def household(self, customer: str) -> tuple[str, ...]:
        """``customer`` and everyone in the same household (through ``same_household`` edges)."""
        position = self._node(customer)
        members = np.flatnonzero(self._households == self._households[position])
        return tuple(self._id(int(i)) for i in members)

    def neighbours(
        self,
        id: str,
        *,
        kind: NodeKind | str = NodeKind.CUSTOMER,
        kinds: Iterable[RelationshipKind | str] | None = None,
    ) -> tuple[tuple[str, RelationshipKind], ...]:
        """The nodes joined to ``id`` by an edge (of ``kinds``, default all), and the edge kind."""
        position = self._node(id, kind)
        wanted = (
            None
            if kinds is None
            else [
                choice(k, "kinds", RelationshipKind).code for k in items_of(kinds, "kinds", "kinds")
            ]
        )
        mask = (self.source == position) | (self.target == position)
        if wanted is not None:
            mask &= np.isin(self.kind, wanted)
        edges = np.flatnonzero(mask)
        out = []
        for e in edges.tolist():
            other = int(self.target[e]) if int(self.source[e]) == position else int(self.source[e])
            out.append((self._id(other), list(RelationshipKind)[int(self.kind[e])]))
        return tuple(dict.fromkeys(out))
