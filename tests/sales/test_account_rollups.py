"""Account rollups: revenue, pipeline and health per account, against a plain-Python count."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.columnar import TransactionLog
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.money import Money
from crmcore.lifecycle import LifecycleState
from crmcore.sales.account_rollups import HealthPolicy, account_rollups
from crmcore.sales.accounts import Account
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.pipeline import DEFAULT_PIPELINE as P

T = datetime(2026, 3, 2, tzinfo=UTC)
CUSTOMERS = [f"c{i}" for i in range(6)]


@st.composite
def books(
    draw: st.DrawFn,
) -> tuple[list[Account], list[dict[str, object]], dict[str, LifecycleState], dict[str, int]]:
    n = draw(st.integers(1, 6))
    accounts = []
    for i in range(n):
        a = Account.open(f"a{i}", f"A{i}", T).value
        if i:
            a = Account(
                id=a.id,
                name=a.name,
                created_at=T,
                parent_id=draw(st.sampled_from([None, *(f"a{j}" for j in range(i))])),
            )
        for c in draw(st.lists(st.sampled_from(CUSTOMERS), max_size=3, unique=True)):
            a = a.add_contact(c, draw(st.sampled_from(["user", "billing"])), T).value
        accounts.append(a)
    purchases = [
        {
            "customer_id": draw(st.sampled_from(CUSTOMERS)),
            "at": T - timedelta(days=draw(st.integers(-5, 30))),
            "amount": draw(st.integers(0, 10_000)) / 100,
        }
        for _ in range(draw(st.integers(1, 12)))
    ]
    states = draw(
        st.dictionaries(st.sampled_from(CUSTOMERS), st.sampled_from(list(LifecycleState)))
    )
    nps = draw(st.dictionaries(st.sampled_from(CUSTOMERS), st.integers(0, 10)))
    return accounts, purchases, states, nps


def subtree(accounts: list[Account], root: str) -> list[Account]:
    parents = {a.id: a.parent_id for a in accounts}

    def under(a: str) -> bool:
        while a is not None:
            if a == root:
                return True
            a = parents[a]  # type: ignore[assignment]
        return False

    return [a for a in accounts if under(a.id)]


@settings(max_examples=60, deadline=None)
@given(books(), st.booleans())
def test_rollups_equal_a_count_by_hand(book: tuple, children: bool) -> None:  # type: ignore[type-arg]
    accounts, purchases, states, nps = book
    log = TransactionLog.from_records(purchases)
    r = account_rollups(accounts, T, log=log, lifecycle=states, nps=nps, include_children=children)
    policy = HealthPolicy()
    for a in accounts:
        group = subtree(accounts, a.id) if children else [a]
        members = {c for g in group for c in g.customer_ids}
        row = r.row(a.id)
        assert row["contacts"] == len(members)
        spent = [p["amount"] for p in purchases if p["customer_id"] in members and p["at"] <= T]
        assert row["revenue"] == pytest.approx(sum(spent))  # type: ignore[arg-type]
        assert row["orders"] == len(spent)
        scores = [policy.state_scores[states[m]] for m in members if m in states]
        answers = [nps[m] for m in members if m in nps]
        part_l = sum(scores) / len(scores) if scores else None
        nps_value = (
            100 * (sum(x >= 9 for x in answers) - sum(x <= 6 for x in answers)) / len(answers)
            if answers
            else None
        )
        assert (row["nps"] is None) == (nps_value is None)
        if nps_value is not None:
            assert row["nps"] == pytest.approx(nps_value)
        parts = [
            (w, v)
            for w, v in (
                (0.6, part_l),
                (0.4, None if nps_value is None else (nps_value + 100) / 200),
            )
            if v is not None
        ]
        if parts:
            health = 100 * sum(w * v for w, v in parts) / sum(w for w, _ in parts)
            assert row["health"] == round(health, 1)
            assert row["band"] == policy.band(health)
        else:
            assert row["health"] is None and row["band"] is None


def test_open_pipeline_rolls_up_exactly() -> None:
    group = Account.open("group", "Group", T).value
    eu = Account(id="eu", name="EU", created_at=T, parent_id="group")

    def deal(i: int, account: str, amount: str) -> Opportunity:
        return Opportunity.open(
            f"o{i}",
            P,
            owner="ann",
            amount=Money(amount, "EUR"),
            close_date=date(2026, 4, 1),
            at=T,
            account_id=account,
        ).value

    deals = [
        deal(1, "group", "100"),
        deal(2, "eu", "200.01"),
        deal(3, "eu", "50").win(T + timedelta(days=1), P).value,
        deal(4, "ghost", "9"),
    ]
    r = account_rollups([group, eu], T + timedelta(days=2), opportunities=deals, pipeline=P)
    assert (r.row("group")["open_count"], r.row("group")["open_amount"]) == (2, "300.01")
    assert r.row("group")["weighted"] == "60.002"  # (100 + 200.01) x 0.2
    flat = account_rollups(
        [group, eu], T + timedelta(days=2), opportunities=deals, pipeline=P, include_children=False
    )
    assert flat.row("group")["open_amount"] == "100.00"
    assert r.currency == "EUR" and r.row("group")["health"] is None
    data = r.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert list(r.to_pandas()["account_id"]) == ["group", "eu"]
    assert "Accounts as of" in r._repr_html_()


def test_bad_input() -> None:
    a = Account.open("a", "A", T).value.add_contact("c1", "user", T).value
    with pytest.raises(ValidationError):
        account_rollups([a], T, nps={"c1": 11})
    with pytest.raises(ValidationError):
        account_rollups([a], T, lifecycle={"c1": "zombie"})
    with pytest.raises(ValidationError):
        account_rollups(["a"], T)  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        HealthPolicy(lifecycle_weight=0, nps_weight=0)
    with pytest.raises(ValidationError):
        HealthPolicy(state_scores={LifecycleState.NEW: 1.0})
    assert np.isnan(account_rollups([a], T).health[0])
