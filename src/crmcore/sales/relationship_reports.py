"""Reports of the relationship graph: a referral tree with its revenue, and the advocates ranked.

Both are built by [`RelationshipGraph`][crmcore.sales.relationship_graph.RelationshipGraph]
([`referral_tree()`][crmcore.sales.relationship_graph.RelationshipGraph.referral_tree],
[`advocates()`][crmcore.sales.relationship_graph.RelationshipGraph.advocates]) and render in
Jupyter, serialise with ``to_dict()`` and convert with ``to_pandas()``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final

import attrs
import numpy as np

from crmcore.kernel.arrays import Float64Array, Int64Array
from crmcore.kernel.errors import MissingDependencyError
from crmcore.kernel.reports import html_table, json_number

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Advocate", "AdvocateRanking", "ReferralTree"]

_HTML_ROWS: Final = 30


@attrs.frozen(eq=False, kw_only=True)
class ReferralTree:
    """Everyone ``root`` brought in, directly or down the chain, in order of depth.

    Per member: who referred them, their depth below ``root`` (1: referred by ``root``), when they
    were referred and (with a log) their revenue up to ``as_of``.
    """

    root: str
    as_of: datetime | None
    members: tuple[str, ...]
    referrers: tuple[str, ...]
    depths: Int64Array
    joined: tuple[datetime, ...]
    revenue: Float64Array
    root_revenue: float

    def __len__(self) -> int:
        return len(self.members)

    @property
    def tree_revenue(self) -> float:
        """What the members spent (the root's own revenue not included)."""
        return float(self.revenue.sum())

    def revenue_by_depth(self) -> dict[int, float]:
        """Members' revenue per depth (1, 2, ...)."""
        if not len(self.members):
            return {}
        sums = np.bincount(self.depths, weights=self.revenue)
        return {d: float(sums[d]) for d in range(1, len(sums)) if (self.depths == d).any()}

    def to_dict(self) -> dict[str, object]:
        """JSON data: the root, its revenue, every member and the totals by depth."""
        return {
            "root": self.root,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "root_revenue": self.root_revenue,
            "tree_size": len(self.members),
            "tree_revenue": self.tree_revenue,
            "revenue_by_depth": {str(k): v for k, v in self.revenue_by_depth().items()},
            "members": [
                {
                    "customer_id": m,
                    "referrer": r,
                    "depth": int(d),
                    "joined": j.isoformat(),
                    "revenue": json_number(v),
                }
                for m, r, d, j, v in zip(
                    self.members,
                    self.referrers,
                    self.depths,
                    self.joined,
                    self.revenue,
                    strict=True,
                )
            ],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per member (needs the ``pandas`` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "ReferralTree.to_pandas") from None
        return pd.DataFrame(
            {
                "customer_id": list(self.members),
                "referrer": list(self.referrers),
                "depth": self.depths,
                "joined": list(self.joined),
                "revenue": self.revenue,
            }
        )

    def _repr_html_(self) -> str:
        rows = [
            [m, r, int(d), j.date().isoformat(), float(v)]
            for m, r, d, j, v in list(
                zip(
                    self.members,
                    self.referrers,
                    self.depths,
                    self.joined,
                    self.revenue,
                    strict=True,
                )
            )[:_HTML_ROWS]
        ]
        return html_table(
            f"Referral tree of {self.root}",
            ["customer", "referred by", "depth", "joined", "revenue"],
            rows,
            kinds=["auto", "auto", "int", "auto", "float"],
            bars={4: float(self.revenue.max()) if len(self.revenue) else 0.0},
            caption=f"{len(self.members):,} customers brought in, revenue {self.tree_revenue:,.2f}",
        )


@attrs.frozen
class Advocate:
    """One customer of an advocate ranking."""

    customer_id: str
    referrals: int
    tree_size: int
    tree_revenue: float
    connections: int


@attrs.frozen(eq=False, kw_only=True)
class AdvocateRanking:
    """Customers ranked by ``by``: direct referrals, referral-tree size and revenue, connections."""

    by: str
    customer_ids: tuple[str, ...]
    referrals: Int64Array
    tree_size: Int64Array
    tree_revenue: Float64Array
    connections: Int64Array

    def __len__(self) -> int:
        return len(self.customer_ids)

    @property
    def rows(self) -> tuple[Advocate, ...]:
        """The ranking as [`Advocate`][crmcore.sales.relationship_reports.Advocate] values."""
        return tuple(
            Advocate(c, int(r), int(s), float(v), int(k))
            for c, r, s, v, k in zip(
                self.customer_ids,
                self.referrals,
                self.tree_size,
                self.tree_revenue,
                self.connections,
                strict=True,
            )
        )

    def to_dict(self) -> dict[str, object]:
        """JSON data: the ranking order and one row per customer."""
        return {"by": self.by, "advocates": [attrs.asdict(a) for a in self.rows]}

    def to_pandas(self) -> pd.DataFrame:
        """One row per customer, in rank order (needs the ``pandas`` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "AdvocateRanking.to_pandas") from None
        return pd.DataFrame([attrs.asdict(a) for a in self.rows])

    def _repr_html_(self) -> str:
        rows = [
            [a.customer_id, a.referrals, a.tree_size, a.tree_revenue, a.connections]
            for a in self.rows[:_HTML_ROWS]
        ]
        column = {"referrals": 1, "tree_size": 2, "tree_revenue": 3, "connections": 4}[self.by]
        top = max((float(r[column]) for r in rows), default=0.0)  # type: ignore[arg-type]
        return html_table(
            f"Advocates by {self.by.replace('_', ' ')}",
            ["customer", "referrals", "tree size", "tree revenue", "connections"],
            rows,
            kinds=["auto", "int", "int", "float", "int"],
            bars={column: top},
        )
