"""Account rollups: revenue, open pipeline and health per account, with its subsidiaries.

[`account_rollups()`][crmcore.sales.account_rollups.account_rollups] adds up, per
[`Account`][crmcore.sales.accounts.Account] (and, with ``include_children``, everything under it in
the hierarchy):

* **revenue** and **orders**: the purchases of its contacts in a
  [`TransactionLog`][crmcore.columnar.TransactionLog] up to ``as_of`` (summed exactly to 1/10,000;
  a customer who is a contact of an account and of its parent counts once in the parent's total);
* **open pipeline**: its open opportunities as of ``as_of``, count, amount and weighted amount
  (exact, in the report currency);
* **health** (0-100) from its contacts' lifecycle states and their NPS answers, by a
  [`HealthPolicy`][crmcore.sales.account_rollups.HealthPolicy]: the lifecycle part is the mean
  score of the members' states (growth and mature 1, new 0.8, prospect 0.5, decline 0.3,
  churned 0), the NPS part ``(NPS + 100) / 200`` with NPS = % promoters (9-10) - % detractors
  (0-6); health = 100 x their weighted mean (0.6 and 0.4 by default) over the parts that have
  data, ``None`` when neither has. Bands: *healthy* from 70, *watch* from 40, *at risk* below.

Vectorised: contact pairs are lifted to every ancestor and deduplicated with one ``np.unique``,
sums are ``np.bincount`` / exact integer sums, subtree totals one level at a time.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.columnar import TransactionLog
    >>> from crmcore.lifecycle import LifecycleState
    >>> from crmcore.sales.accounts import Account
    >>> t = datetime(2026, 3, 2, tzinfo=UTC)
    >>> group = Account.open("group", "Group", t).value.add_contact("c1", "billing", t).value
    >>> eu = Account.open("eu", "EU", t).value.add_contact("c2", "decision_maker", t).value
    >>> eu = eu.set_parent("group", t, parents={"group": None}).value
    >>> log = TransactionLog.from_records([
    ...     {"customer_id": "c1", "at": t, "amount": 100.0},
    ...     {"customer_id": "c2", "at": t, "amount": 50.0}])
    >>> r = account_rollups([group, eu], t, log=log,
    ...                     lifecycle={"c1": LifecycleState.MATURE, "c2": LifecycleState.DECLINE},
    ...                     nps={"c1": 10, "c2": 3})
    >>> r.row("group")["revenue"], r.row("eu")["revenue"], r.row("group")["health"]
    (150.0, 50.0, 59.0)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Final

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.analytics.kpis import exact_sums, read_purchases
from crmcore.columnar import TransactionLog
from crmcore.kernel.arrays import AnyArray, Float64Array, Int64Array
from crmcore.kernel.clock import from_micros, to_micros
from crmcore.kernel.errors import MissingDependencyError, NotFoundError, ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.money import minor_units
from crmcore.kernel.reports import html_table, json_number
from crmcore.kernel.validators import boolean, instance_of, instances_of, number
from crmcore.lifecycle.states import LifecycleState
from crmcore.sales._exact import PROBABILITY_DIGITS, exact_money, group_sums, weighted_group_sums
from crmcore.sales.account_hierarchy import AccountHierarchy, id_positions
from crmcore.sales.accounts import Account
from crmcore.sales.exchange_rates import ExchangeRates
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.opportunity_frame import OpportunityFrame
from crmcore.sales.pipeline import Pipeline
from crmcore.sales.pipeline_reports_batch import as_frame, row_probability_units

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_STATE_SCORES", "AccountRollups", "HealthPolicy", "account_rollups"]

DEFAULT_STATE_SCORES: Final = FrozenDict(
    {
        LifecycleState.PROSPECT: 0.5,
        LifecycleState.NEW: 0.8,
        LifecycleState.GROWTH: 1.0,
        LifecycleState.MATURE: 1.0,
        LifecycleState.DECLINE: 0.3,
        LifecycleState.CHURNED: 0.0,
    }
)
"""How healthy a member in each lifecycle state is, from 0 to 1."""
_HTML_ROWS: Final = 30


def _scores(value: object) -> FrozenDict[LifecycleState, float]:
    if not isinstance(value, Mapping):
        raise ValidationError("state_scores", value, "must map lifecycle states to 0..1")
    out = {}
    for state, score in value.items():
        key = LifecycleState.parse(state, "state_scores")
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
            raise ValidationError(f"state_scores[{key.value}]", score, "must be in 0..1")
        out[key] = float(score)
    missing = [s.value for s in LifecycleState if s not in out]
    if missing:
        raise ValidationError("state_scores", missing, "must score every lifecycle state")
    return FrozenDict(out)


def _weight(_instance: object, attribute: attrs.Attribute[float], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValidationError(attribute.name, value, "must be a non-negative number")


@attrs.frozen(kw_only=True)
class HealthPolicy:
    """How account health is scored: state scores, the weights of the two parts, the bands."""

    state_scores: FrozenDict[LifecycleState, float] = attrs.field(
        default=DEFAULT_STATE_SCORES, converter=_scores
    )
    lifecycle_weight: float = attrs.field(default=0.6, validator=_weight)
    nps_weight: float = attrs.field(default=0.4, validator=_weight)
    healthy_from: float = attrs.field(default=70.0, validator=_weight)
    watch_from: float = attrs.field(default=40.0, validator=_weight)

    def __attrs_post_init__(self) -> None:
        if self.lifecycle_weight + self.nps_weight <= 0:
            raise ValidationError("nps_weight", self.nps_weight, "the weights must not both be 0")
        if not self.watch_from <= self.healthy_from <= 100:
            raise ValidationError(
                "healthy_from", self.healthy_from, "needs watch <= healthy <= 100"
            )

    def band(self, health: float | None) -> str | None:
        """``"healthy"``, ``"watch"`` or ``"at_risk"`` (``None`` without a score)."""
        if health is None:
            return None
        health = number(health, "health")
        if health >= self.healthy_from:
            return "healthy"
        return "watch" if health >= self.watch_from else "at_risk"


@attrs.frozen(eq=False, kw_only=True)
class AccountRollups:
    """Per account (``ids``, in hierarchy order) the rollups as arrays (see the module docs).

    Money columns hold minor units of ``currency`` (``open_amount``) and minor units x 1,000,000
    (``weighted``, exact); ``nps`` and ``health`` are NaN where there is no data.
    """

    as_of: datetime
    include_children: bool
    currency: str | None
    ids: tuple[str, ...]
    contacts: Int64Array
    revenue: Float64Array
    orders: Int64Array
    open_count: Int64Array
    open_amount: AnyArray
    weighted: AnyArray
    nps: Float64Array
    health: Float64Array
    policy: HealthPolicy

    def row(self, account_id: str) -> dict[str, object]:
        """One account's rollups as plain values (money as exact decimal text)."""
        if instance_of(account_id, str, "account_id", "an account id") not in self.ids:
            raise NotFoundError("account", account_id)
        i = self.ids.index(account_id)
        health = json_number(self.health[i])
        open_amount = weighted = None
        if self.currency is not None:
            digits = minor_units(self.currency)
            units, scaled = int(self.open_amount[i]), int(self.weighted[i])
            open_amount = str(exact_money(units, digits, self.currency).amount)
            weighted = str(exact_money(scaled, digits + PROBABILITY_DIGITS, self.currency).amount)
        return {
            "account_id": account_id,
            "contacts": int(self.contacts[i]),
            "revenue": json_number(self.revenue[i]),
            "orders": int(self.orders[i]),
            "open_count": int(self.open_count[i]),
            "open_amount": open_amount,
            "weighted": weighted,
            "nps": json_number(self.nps[i]),
            "health": None if health is None else round(float(health), 1),
            "band": self.policy.band(None if health is None else float(health)),
        }

    def to_dict(self) -> dict[str, object]:
        """JSON data: one row per account."""
        return {
            "as_of": self.as_of.isoformat(),
            "include_children": self.include_children,
            "currency": self.currency,
            "accounts": [self.row(i) for i in self.ids],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per account (needs the ``pandas`` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "AccountRollups.to_pandas") from None
        return pd.DataFrame([self.row(i) for i in self.ids])

    def _repr_html_(self) -> str:
        order = np.argsort(-self.revenue, kind="stable")[:_HTML_ROWS]
        rows = []
        for i in order.tolist():
            r = self.row(self.ids[i])
            rows.append(
                [
                    r["account_id"],
                    r["contacts"],
                    r["revenue"],
                    r["orders"],
                    r["open_count"],
                    r["health"],
                    r["band"] or "-",
                ]
            )
        return html_table(
            f"Accounts as of {self.as_of.date().isoformat()}"
            + (" (with subsidiaries)" if self.include_children else ""),
            ["account", "contacts", "revenue", "orders", "open deals", "health", "band"],
            rows,
            kinds=["auto", "int", "float", "int", "int", "float", "auto"],
            bars={2: float(self.revenue.max()) if len(self.revenue) else 0.0},
        )


def _member_pairs(
    accounts: list[Account], hierarchy: AccountHierarchy, include_children: bool
) -> tuple[Int64Array, Int64Array, tuple[str, ...]]:
    """(account position, member code) pairs, each once, and the member ids."""
    members: dict[str, int] = {}
    rows, codes = [], []
    for position, account in enumerate(accounts):
        for customer in account.customer_ids:
            rows.append(position)
            codes.append(members.setdefault(customer, len(members)))
    a, c = np.array(rows, dtype=np.int64), np.array(codes, dtype=np.int64)
    if include_children:
        a, c = hierarchy.lift_pairs(a, c)
    return a, c, tuple(members)


def account_rollups(
    accounts: Iterable[Account],
    as_of: datetime,
    *,
    log: TransactionLog | None = None,
    opportunities: OpportunityFrame | Iterable[Opportunity] | None = None,
    pipeline: Pipeline | None = None,
    lifecycle: Mapping[str, LifecycleState | str] | None = None,
    nps: Mapping[str, int] | None = None,
    include_children: bool = True,
    policy: HealthPolicy | None = None,
    rates: ExchangeRates | None = None,
) -> AccountRollups:
    """Revenue, open pipeline and health per account as of ``as_of`` (see the module docs).

    Every part is optional: without ``log`` revenue is zero, without ``opportunities`` the
    pipeline is empty, without ``lifecycle`` and ``nps`` health is unknown. ``nps`` maps
    customers to their latest answer (0-10).
    """
    items = list(instances_of(accounts, Account, "accounts"))
    include_children = boolean(include_children, "include_children")
    rule = HealthPolicy() if policy is None else instance_of(policy, HealthPolicy, "policy")
    t = to_micros(as_of, "as_of")
    hierarchy = AccountHierarchy.from_accounts(items)
    n = len(items)
    pair_account, pair_member, members = _member_pairs(items, hierarchy, include_children)
    contacts = np.bincount(pair_account, minlength=n).astype(np.int64)
    revenue, orders = np.zeros(n), np.zeros(n, dtype=np.int64)
    if log is not None:
        p = read_purchases(log, as_of)
        spend = exact_sums(p.codes, p.amount, p.k)
        count = np.bincount(p.codes, minlength=p.k)
        at = id_positions(p.vocabulary, np.array(members, dtype=object))[pair_member]
        bought = at >= 0
        revenue = exact_sums(pair_account[bought], spend[at[bought]], n)
        orders = np.bincount(pair_account[bought], weights=count[at[bought]], minlength=n)
        orders = orders.astype(np.int64)
    currency, open_count, open_amount, weighted = _pipeline(
        opportunities, pipeline, hierarchy, t, include_children, rates
    )
    score, nps_value = _health_parts(members, pair_account, pair_member, n, lifecycle, nps, rule)
    return AccountRollups(
        as_of=from_micros(t),
        include_children=include_children,
        currency=currency,
        ids=hierarchy.ids,
        contacts=contacts,
        revenue=revenue,
        orders=orders,
        open_count=open_count,
        open_amount=open_amount,
        weighted=weighted,
        nps=nps_value,
        health=_combine(score, nps_value, rule),
        policy=rule,
    )


def _pipeline(
    opportunities: OpportunityFrame | Iterable[Opportunity] | None,
    pipeline: Pipeline | None,
    hierarchy: AccountHierarchy,
    t: int,
    include_children: bool,
    rates: ExchangeRates | None,
) -> tuple[str | None, Int64Array, AnyArray, AnyArray]:
    n = len(hierarchy)
    empty = np.zeros(n, dtype=object)
    if opportunities is None:
        return None, np.zeros(n, dtype=np.int64), empty, empty.copy()
    frame = as_frame(opportunities, pipeline)
    currency, _ = frame.report_currency(rates)
    amounts = (frame if rates is None else frame.in_currency(rates)).amount_at(t)
    units = row_probability_units(frame, None, frame.stage_at(t).astype(np.int64))
    where = id_positions(hierarchy.ids, np.array(frame.accounts, dtype=object))
    position = np.where(frame.account >= 0, where[np.maximum(frame.account, 0)], -1)
    live = frame.exists_at(t) & (frame.status_at(t) == 0) & (position >= 0)
    keys = position[live]
    count = np.bincount(keys, minlength=n).astype(np.int64)
    amount = np.array([*group_sums(keys, amounts[live], n), 0], dtype=object)[:n]
    weighted_sums = weighted_group_sums(keys, amounts[live], units[live], n)
    weight = np.array([*weighted_sums, 0], dtype=object)[:n]
    if include_children:
        count, amount, weight = (hierarchy.rollup(v) for v in (count, amount, weight))
    return currency, count, amount, weight


def _health_parts(
    members: tuple[str, ...],
    pair_account: Int64Array,
    pair_member: Int64Array,
    n: int,
    lifecycle: Mapping[str, LifecycleState | str] | None,
    nps: Mapping[str, int] | None,
    rule: HealthPolicy,
) -> tuple[Float64Array, Float64Array]:
    """Per account: the mean lifecycle score of its members and their NPS (NaN: no data)."""
    score = np.full(n, np.nan)
    nps_value = np.full(n, np.nan)
    if lifecycle is not None:
        if not isinstance(lifecycle, Mapping):
            raise ValidationError("lifecycle", lifecycle, "must map customer ids to states")
        member_score = np.array(
            [
                rule.state_scores[LifecycleState.parse(lifecycle[m], f"lifecycle[{m}]")]
                if m in lifecycle
                else np.nan
                for m in members
            ],
            dtype=np.float64,
        )
        _mean_into(
            score, pair_account, member_score[pair_member] if len(members) else np.zeros(0), n
        )
    if nps is not None:
        if not isinstance(nps, Mapping):
            raise ValidationError("nps", nps, "must map customer ids to answers 0..10")
        answer = np.full(len(members), np.nan)
        for i, m in enumerate(members):
            value = nps.get(m)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
                raise ValidationError(f"nps[{m}]", value, "must be a whole number in 0..10")
            answer[i] = value
        # NPS = 100 x (promoters - detractors) / respondents; a member's contribution is +1/0/-1
        vote = np.where(answer >= 9, 1.0, np.where(answer <= 6, -1.0, 0.0))
        vote[np.isnan(answer)] = np.nan
        _mean_into(nps_value, pair_account, vote[pair_member] if len(members) else np.zeros(0), n)
        nps_value *= 100.0
    return score, nps_value


def _mean_into(
    out: Float64Array, keys: Int64Array, values: npt.NDArray[np.float64], n: int
) -> None:
    known = ~np.isnan(values)
    counts = np.bincount(keys[known], minlength=n)
    sums = np.bincount(keys[known], weights=values[known], minlength=n)
    np.divide(sums, counts, out=out, where=counts > 0)


def _combine(score: Float64Array, nps_value: Float64Array, rule: HealthPolicy) -> Float64Array:
    nps_part = (nps_value + 100.0) / 200.0
    wl = np.where(np.isnan(score), 0.0, rule.lifecycle_weight)
    wn = np.where(np.isnan(nps_part), 0.0, rule.nps_weight)
    total = wl + wn
    mixed = np.nan_to_num(score) * wl + np.nan_to_num(nps_part) * wn
    out = np.full(len(score), np.nan)
    np.divide(100.0 * mixed, total, out=out, where=total > 0)
    return out
