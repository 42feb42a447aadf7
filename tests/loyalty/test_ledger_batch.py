"""Batch expiry and the liability report: hand-checked figures and object == vectorised."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.customers import Purchase
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.money import Money
from crmcore.loyalty.expiry import ExpiryPolicy
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.ledger_batch import NEVER_US, expire_all, liability_report, lot_columns
from crmcore.loyalty.program import LoyaltyProgram

T0 = datetime(2026, 1, 15, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def program(expiry: ExpiryPolicy, **kwargs: object) -> LoyaltyProgram:
    return LoyaltyProgram(
        id="P",
        currency="EUR",
        point_value=Money("0.01", "EUR"),
        expiry=expiry,
        actions={"review": 10},
        **kwargs,  # type: ignore[arg-type]
    )


def accounts_with(p: LoyaltyProgram, plans: list[list[tuple[int, int]]]) -> list[LoyaltyAccount]:
    """One account per plan; a plan is (day offset, euros) purchases."""
    out = []
    for i, plan in enumerate(plans):
        acc = LoyaltyAccount(id=f"A{i}", customer_id=f"c{i}", program_id="P")
        for j, (offset, euros) in enumerate(plan):
            purchase = Purchase(f"o{i}-{j}", f"c{i}", T0 + offset * DAY, Money(euros, "EUR"))
            acc = acc.earn(p, purchase, key=f"e{j}").value
        out.append(acc)
    return out


def test_lot_columns_flatten_every_open_lot() -> None:
    p = program(ExpiryPolicy.never())
    accs = accounts_with(p, [[(0, 10), (1, 20)], [], [(2, 5)]])
    cols = lot_columns(p, accs)
    assert cols.account.tolist() == [0, 0, 2]
    assert cols.available.tolist() == [10, 20, 5]
    assert (cols.expires_us == NEVER_US).all()
    assert cols.account_ids == ("A0", "A1", "A2") and len(cols) == 3


def test_expire_all_matches_one_account_at_a_time() -> None:
    p = program(ExpiryPolicy.months_after(1))
    accs = accounts_with(p, [[(0, 10), (20, 20)], [(35, 7)], [], [(1, 3)]])
    as_of = T0 + 45 * DAY
    run = expire_all(p, accs, as_of)
    assert run.accounts_expired == 2 and run.expired_points == 13
    for before, after in zip(accs, run.accounts, strict=True):
        single = before.expire(p, as_of).value
        assert after == single
        assert after.balance(as_of) == single.balance(as_of)
    assert run.accounts[1] is accs[1]  # nothing due: the same object
    assert [e.kind for e in run.events] == ["loyalty.points_expired"] * 2


def test_expire_all_under_inactivity() -> None:
    p = program(ExpiryPolicy.inactivity(3))
    accs = accounts_with(p, [[(0, 10)], [(80, 10)]])
    run = expire_all(p, accs, T0 + 95 * DAY)
    assert run.accounts_expired == 1
    assert run.accounts[0].balance(T0 + 95 * DAY, p) == 0
    assert run.accounts[1].balance(T0 + 95 * DAY, p) == 10


def test_liability_by_expiry_month_with_value_and_ifrs_liability() -> None:
    p = program(ExpiryPolicy.end_of_month(1), pending_days=10)
    accs = accounts_with(p, [[(0, 100), (20, 50)], [(30, 200)]])
    # Lots: 100 (Jan 15, valid through Feb), 50 (Feb 4, through Mar), 200 (Feb 14, through Mar).
    report = liability_report(p, accs, T0 + 31 * DAY, expected_redemption=Decimal("0.85"))
    assert report.months == ("2026-02", "2026-03")
    assert report.points == (100, 50)
    assert report.pending == (0, 200)  # Feb 14 + 10 days: still pending on Feb 15
    assert report.total_points == 350
    assert report.values == (Money("1.00", "EUR"), Money("2.50", "EUR"))
    assert report.total_value == Money("3.50", "EUR")
    assert report.liability == Money("2.98", "EUR")  # 3.50 * 0.85 = 2.975, half-even
    data = report.to_dict()
    json.dumps(data)
    assert data["months"][1] == {"month": "2026-03", "points": 50, "pending": 200, "value": "2.50"}  # type: ignore[index]
    html = report._repr_html_()
    assert "2026-03" in html and "liability" in html


def test_liability_excludes_expired_and_lists_never() -> None:
    p = program(ExpiryPolicy.months_after(1))
    accs = accounts_with(p, [[(0, 10), (40, 20)]])
    report = liability_report(p, accs, T0 + 40 * DAY)
    assert report.months == ("2026-03",) and report.points == (20,)
    assert report.liability is None
    forever = program(ExpiryPolicy.never())
    never = liability_report(forever, accounts_with(forever, [[(0, 10), (40, 20)]]), T0 + 40 * DAY)
    assert liability_report(forever, accounts_with(forever, [[(0, 10), (40, 20)]]), T0).points == (
        10,
    )
    assert never.months == ("never",) and never.points == (30,)


def test_liability_months_follow_the_program_time_zone() -> None:
    p = program(ExpiryPolicy.end_of_month(0), timezone="Asia/Shanghai")
    accs = accounts_with(p, [[(16, 10)]])  # Jan 31 12:00 UTC = Jan 31 20:00 Shanghai
    report = liability_report(p, accs, T0 + 16 * DAY)
    assert report.months == ("2026-01",)


def test_bad_input() -> None:
    p = program(ExpiryPolicy.never())
    with pytest.raises(ValidationError) as info:
        liability_report(p, [], T0, expected_redemption=Decimal("1.5"))
    assert info.value.field == "expected_redemption"
    with pytest.raises(ValidationError) as info:
        expire_all(p, [LoyaltyAccount(id="A", customer_id="c", program_id="Q")], T0)
    assert info.value.field == "accounts[0]"
    with pytest.raises(ValidationError) as info:
        expire_all(p, [], datetime(2026, 1, 1))
    assert info.value.field == "as_of"
    empty = liability_report(p, [], T0)
    assert empty.months == () and empty.total_points == 0
    for call in (lambda: lot_columns(p, None), lambda: expire_all(p, 7, T0)):  # type: ignore[arg-type]
        with pytest.raises(ValidationError) as info:
            call()
        assert info.value.field == "accounts"
    with pytest.raises(ValidationError) as info:
        lot_columns("P", [])  # type: ignore[arg-type]
    assert info.value.field == "program"
    with pytest.raises(ValidationError) as info:
        liability_report(p, [], T0, expected_redemption="")
    assert info.value.field == "expected_redemption"


PLANS = st.lists(
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 500)), max_size=5), max_size=8
)


@settings(max_examples=30, deadline=None)
@given(plans=PLANS, days=st.integers(0, 800), rule=st.sampled_from([0, 1, 2, 3]))
def test_batch_equals_the_object_path(plans: list[list[tuple[int, int]]], days: int,
                                      rule: int) -> None:  # fmt: skip
    policy = [ExpiryPolicy.months_after(6), ExpiryPolicy.end_of_month(3),
              ExpiryPolicy.fixed_date(12, 31), ExpiryPolicy.inactivity(4)][rule]  # fmt: skip
    p = program(policy)
    plans = [sorted(plan) for plan in plans]
    accs = accounts_with(p, plans)
    as_of = T0 + (max((o for plan in plans for o, _ in plan), default=0) + days) * DAY
    run = expire_all(p, accs, as_of)
    report = liability_report(p, run.accounts, as_of)
    for before, after in zip(accs, run.accounts, strict=True):
        assert after == before.expire(p, as_of).value
    assert report.total_points == sum(a.balance(as_of, p) for a in run.accounts)
    assert run.expired_points == sum(a.total_points for a in accs) - sum(
        a.total_points for a in run.accounts
    )
    assert int(np.sum(report.points)) == report.total_points


@pytest.mark.parametrize(
    "policy", [ExpiryPolicy.months_after(1), ExpiryPolicy.inactivity(3), ExpiryPolicy.never()]
)
def test_expire_all_finds_the_same_accounts_with_or_without_lot_columns(
    policy: ExpiryPolicy,
) -> None:
    p = program(policy)
    accs = accounts_with(p, [[(0, 10), (20, 20)], [(35, 7)], [], [(1, 3)], [(80, 4)]])
    for days in (0, 30, 45, 95, 400):
        as_of = T0 + days * DAY
        plain = expire_all(p, accs, as_of)
        masked = expire_all(p, accs, as_of, columns=lot_columns(p, accs))
        assert plain.accounts == masked.accounts
        assert (plain.expired_points, plain.accounts_expired) == (
            masked.expired_points,
            masked.accounts_expired,
        )
        assert plain.expired_points == -sum(e.payload()["points"] for e in plain.events)  # type: ignore[operator]


def test_next_expiry_is_when_something_first_becomes_due() -> None:
    lots = program(ExpiryPolicy.months_after(1))
    (acc,) = accounts_with(lots, [[(0, 10), (20, 20)]])
    soonest = acc.next_expiry(lots)
    assert soonest is not None
    assert acc.expire(lots, soonest - timedelta(microseconds=1)).events == ()
    assert acc.expire(lots, soonest).events != ()
    idle = program(ExpiryPolicy.inactivity(3))
    (quiet,) = accounts_with(idle, [[(0, 10)]])
    deadline = quiet.next_expiry(idle)
    assert deadline is not None and quiet.expire(idle, deadline).events != ()
    forever = program(ExpiryPolicy.never())
    (kept,) = accounts_with(forever, [[(0, 10)]])
    assert kept.next_expiry(forever) is None
    assert LoyaltyAccount(id="E", customer_id="c", program_id="P").next_expiry(forever) is None
