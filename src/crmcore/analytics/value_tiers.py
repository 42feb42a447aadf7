"""Value tiers: the top 1 %, 5 %, 20 % of customers by spend or CLV, and the rest.

Value segmentation (DOMAIN.md §4) splits customers by what they are worth:
historical spend, historical CLV
([`crmcore.analytics.kpis.historical_clv()`][crmcore.analytics.kpis.historical_clv]) or a predicted
CLV from a model. [`value_tiers()`][crmcore.analytics.value_tiers.value_tiers] takes *any*
per-customer value array, so each of these feeds it the same way.

The rule. Customers are ordered by value, highest first (equal values in
input order). With cumulative cuts ``c1 < c2 < ...`` (shares of customers,
default 1 %, 5 %, 20 %), tier *j* holds the positions from
``ceil(c[j-1] * n)`` up to (excluding) ``ceil(c[j] * n)``, and the last tier
("Rest") everything after. ``ceil`` means a non-empty top tier as soon as
``c1 * n > 0``: the top 1 % of 50 customers is one customer.

Ties (``ties=``): ``"first"`` (default) keeps exact tier sizes and gives a
tie that straddles a boundary to the customers earlier in the input;
``"share"`` puts every customer into the best tier any customer with the
same value reached, so equal values always share a tier (tiers may then be
larger than their nominal share).

Examples:
    >>> tiers = value_tiers([5.0, 100.0, 7.0, 1.0, 30.0], cuts=(0.2, 0.6))
    >>> tiers.tier_list()
    ['Rest', 'Top 20%', 'Top 60%', 'Rest', 'Top 60%']
    >>> [row.customers for row in tiers.summary()]
    [1, 2, 2]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Final, Literal

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.columnar import STRING_DTYPE
from crmcore.columnar.id_index import rows_equal_to
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array, Int8Array, read_only
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.reports import data_frame, html_table, json_number
from crmcore.kernel.validators import choice, instance_of, storable_text

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_CUTS", "TierSummary", "ValueTiers", "value_tiers"]


DEFAULT_CUTS: Final = (0.01, 0.05, 0.20)
"""The default cumulative cuts: top 1 %, top 5 %, top 20 % (then the rest)."""
_MAX_TIERS: Final = 100


def _check_cuts(cuts: object) -> tuple[float, ...]:
    if isinstance(cuts, str | bytes) or not isinstance(cuts, Sequence):
        raise ValidationError("cuts", cuts, "must be a sequence of shares in (0, 1)")
    values = tuple(cuts)
    if not 1 <= len(values) < _MAX_TIERS:
        raise ValidationError("cuts", values, f"must list 1..{_MAX_TIERS - 1} shares")
    for i, c in enumerate(values):
        if isinstance(c, bool) or not isinstance(c, int | float) or not 0.0 < float(c) < 1.0:
            raise ValidationError(f"cuts[{i}]", c, "must be a share strictly between 0 and 1")
    shares = tuple(float(c) for c in values)
    if any(b <= a for a, b in pairwise(shares)):
        raise ValidationError("cuts", shares, "must increase strictly (cumulative shares)")
    return shares


def _default_name(share: float) -> str:
    return f"Top {share * 100:g}%"


def _check_names(names: object, cuts: tuple[float, ...], rest: object) -> tuple[str, ...]:
    if not isinstance(rest, str) or not rest.strip():
        raise ValidationError("rest", rest, "must be a non-empty str")
    if names is None:
        chosen = tuple(_default_name(c) for c in cuts)
    else:
        if isinstance(names, str | bytes) or not isinstance(names, Sequence):
            raise ValidationError("names", names, "must be a sequence of str, one per cut")
        chosen = tuple(names)
        if len(chosen) != len(cuts):
            raise ValidationError("names", chosen, f"must name each of the {len(cuts)} cuts")
        for i, name in enumerate(chosen):
            if not isinstance(name, str) or not name.strip():
                raise ValidationError(f"names[{i}]", name, "must be a non-empty str")
    everything = (*chosen, rest)
    if len(set(everything)) != len(everything):
        raise ValidationError("names", everything, "must be distinct")
    return everything


def _values(values: object) -> Float64Array:
    try:
        array = np.array(values, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise ValidationError("values", values, "must be numbers") from None
    if array.ndim != 1:
        raise ValidationError("values", array.shape, "must be one-dimensional")
    bad = ~np.isfinite(array)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValidationError(f"values[{i}]", float(array[i]), "must be finite")
    return array


@attrs.frozen(kw_only=True)
class TierSummary:
    """One tier of a [`ValueTiers`][crmcore.analytics.value_tiers.ValueTiers] report (value
    statistics ``None`` when empty)."""

    name: str
    cut: float | None
    customers: int
    share: float | None
    value: float
    value_share: float | None
    min_value: float | None
    max_value: float | None
    mean_value: float | None

    def to_dict(self) -> dict[str, object]:
        """The row as JSON data."""
        return {
            f.name: getattr(self, f.name)
            if f.name == "name"
            else json_number(getattr(self, f.name))
            for f in attrs.fields(type(self))
        }


@attrs.frozen(eq=False, kw_only=True)
class ValueTiers:
    """The tier of every customer (``tiers`` index `names`, 0 = the top tier).

    Row ``i`` is ``values[i]`` (and ``customer_ids[i]`` when ids were given).
    A report: [`summary()`][crmcore.analytics.value_tiers.ValueTiers.summary], ``to_dict()`` and
    ``_repr_html_()`` give per tier the customers, the value they hold and its share of the total.
    """

    names: tuple[str, ...]
    cuts: tuple[float, ...]
    ties: Literal["first", "share"]
    label: str
    values: Float64Array
    tiers: Int8Array
    customer_ids: AnyArray | None

    def __len__(self) -> int:
        return len(self.values)

    def tier_list(self) -> list[str]:
        """Every row's tier name, in row order."""
        return [self.names[t] for t in self.tiers.tolist()]

    def mask(self, tier: str) -> BoolArray:
        """Rows in ``tier``; [`NotFoundError`][crmcore.kernel.errors.NotFoundError] for an unknown
        name."""
        instance_of(tier, str, "tier", "a tier name")
        if tier not in self.names:
            raise NotFoundError("tier", tier)
        mask: BoolArray = self.tiers == self.names.index(tier)
        return mask

    def customers_in(self, tier: str) -> list[str]:
        """The ids of the customers in ``tier`` (needs ``customer_ids``)."""
        if self.customer_ids is None:
            raise ValidationError("customer_ids", None, "were not given to value_tiers")
        ids: list[str] = self.customer_ids[self.mask(tier)].tolist()
        return ids

    def tier_of(self, customer: str) -> str:
        """The tier of one customer id (needs ``customer_ids``)."""
        if self.customer_ids is None:
            raise ValidationError("customer_ids", None, "were not given to value_tiers")
        storable_text(instance_of(customer, str, "customer"), "customer")
        hits = rows_equal_to(self.customer_ids, customer)
        if not len(hits):
            raise NotFoundError("customer", customer)
        return self.names[int(self.tiers[hits[0]])]

    def summary(self) -> tuple[TierSummary, ...]:
        """Per tier, top first: customers, share, value, value share, min / max / mean value."""
        k = len(self.names)
        tiers = self.tiers.astype(np.int64)
        counts = np.bincount(tiers, minlength=k)
        sums = np.bincount(tiers, weights=self.values, minlength=k)
        low = np.full(k, np.inf)
        high = np.full(k, -np.inf)
        np.minimum.at(low, tiers, self.values)
        np.maximum.at(high, tiers, self.values)
        n = len(self)
        total = float(self.values.sum())
        cuts: list[float | None] = [*self.cuts, None]
        return tuple(
            TierSummary(
                name=name,
                cut=cuts[i],
                customers=int(counts[i]),
                share=float(counts[i] / n) if n else None,
                value=float(sums[i]),
                value_share=float(sums[i] / total) if total else None,
                min_value=float(low[i]) if counts[i] else None,
                max_value=float(high[i]) if counts[i] else None,
                mean_value=float(sums[i] / counts[i]) if counts[i] else None,
            )
            for i, name in enumerate(self.names)
        )

    def to_dict(self) -> dict[str, object]:
        """The report as JSON data."""
        return {
            "label": self.label,
            "ties": self.ties,
            "customers": len(self),
            "total": json_number(self.values.sum()),
            "tiers": [row.to_dict() for row in self.summary()],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per customer: ``customer_id`` (when ids were given), ``value`` and ``tier``."""
        ids = {} if self.customer_ids is None else {"customer_id": self.customer_ids}
        tiers = np.array(self.names, dtype=object)[self.tiers.astype(np.intp)]
        return data_frame({**ids, "value": self.values, "tier": tiers}, "ValueTiers.to_pandas")

    def _repr_html_(self) -> str:
        rows = [
            [t.name, t.customers, t.share, t.value, t.value_share, t.min_value, t.mean_value]
            for t in self.summary()
        ]
        return html_table(
            f"Value tiers by {self.label}",
            ["tier", "customers", "share", self.label, "share of total", "min", "mean"],
            rows,
            kinds=["auto", "int", "pct", "float", "pct", "float", "float"],
            bars={4: 1.0},
            caption=f"{len(self):,} customers; ties={self.ties!r}",
        )


def value_tiers(
    values: npt.ArrayLike,
    *,
    customer_ids: Sequence[str] | npt.ArrayLike | None = None,
    cuts: Sequence[float] = DEFAULT_CUTS,
    names: Sequence[str] | None = None,
    rest: str = "Rest",
    ties: Literal["first", "share"] = "first",
    label: str = "value",
) -> ValueTiers:
    """Tier customers by ``values`` (spend, historical or predicted CLV; see the module docs).

    ``cuts`` are increasing cumulative shares of customers from the top
    (default top 1 %, 5 %, 20 %); ``names`` name those tiers (default
    ``"Top 1%"`` ...), ``rest`` the last one; ``label`` names the value in
    the report. Values must be finite. Vectorised: one sort.
    """
    shares = _check_cuts(cuts)
    all_names = _check_names(names, shares, rest)
    ties = choice(ties, "ties", ("first", "share"))
    if not isinstance(label, str) or not label:
        raise ValidationError("label", label, "must be a non-empty str")
    array = _values(values)
    n = len(array)
    ids: AnyArray | None = None
    if customer_ids is not None:
        try:
            ids = np.array(customer_ids, dtype=STRING_DTYPE, copy=True)
        except (TypeError, ValueError):
            raise ValidationError("customer_ids", customer_ids, "must be str ids") from None
        if ids.shape != (n,):
            raise ValidationError("customer_ids", ids.shape, f"must be {n} ids, one per value")
        ids = read_only(ids)
    order = np.argsort(-array, kind="stable")  # highest first; ties in input order
    bounds = [math.ceil(round(c * n, 9)) for c in shares]
    by_position = np.repeat(
        np.arange(len(all_names), dtype=np.int8),
        np.diff([0, *bounds, n]),
    )
    if ties == "share" and n:
        ordered = array[order]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        best = np.minimum.reduceat(by_position, starts)
        by_position = np.repeat(best, np.diff(np.append(starts, n)))
    tiers = np.empty(n, dtype=np.int8)
    tiers[order] = by_position
    return ValueTiers(
        names=all_names,
        cuts=shares,
        ties=ties,
        label=label,
        values=read_only(array),
        tiers=read_only(tiers),
        customer_ids=ids,
    )
