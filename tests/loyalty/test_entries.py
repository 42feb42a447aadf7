"""The ledger's values at their edges: the bound on points, malformed entries, the calendar's end.

Issue 18 found a zero point value and a 10**19-point adjustment accepted. Points are now bounded
by ``MAX_POINTS`` (10**12) everywhere they enter (adjustments, awards, redemptions, purchases, the
account's total, replayed entries), the point value must be positive, and every refusal is a
``ValidationError`` naming the field, never a bare ``TypeError`` or ``OverflowError``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from crmcore.customers import Purchase
from crmcore.kernel import codec
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.money import Money
from crmcore.loyalty.entries import MAX_POINTS, EntryType, LedgerEntry
from crmcore.loyalty.expiry import ExpiryPolicy
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.program import EarnRule, LoyaltyProgram, RedemptionRule

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def program(**kwargs: object) -> LoyaltyProgram:
    base: dict[str, object] = {
        "id": "P",
        "currency": "EUR",
        "point_value": Money("0.01", "EUR"),
        "actions": {"review": 10},
    }
    base.update(kwargs)
    return LoyaltyProgram(**base)  # type: ignore[arg-type]


def account() -> LoyaltyAccount:
    return LoyaltyAccount(id="A", customer_id="c", program_id="P")


@pytest.mark.parametrize("value", [Money("0", "EUR"), Money("-0.01", "EUR"), "0.01", None])
def test_a_point_is_worth_something(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        program(point_value=value)
    assert info.value.field == "program.point_value"


def test_an_adjustment_of_ten_to_the_nineteen_points_is_refused_naming_delta() -> None:
    p = program()
    for delta in (10**19, -(10**19), MAX_POINTS, -MAX_POINTS, True, 1.5, "5"):
        with pytest.raises(ValidationError) as info:
            account().adjust(p, delta, reason="fix", at=T0, key="j")  # type: ignore[arg-type]
        assert info.value.field == "delta"
    acc = account().adjust(p, MAX_POINTS - 1, reason="fix", at=T0, key="j1").value
    assert acc.balance(T0) == MAX_POINTS - 1
    with pytest.raises(ValidationError) as info:  # the account's total stays below the bound
        acc.adjust(p, 1, reason="fix", at=T0, key="j2")
    assert info.value.field == "delta"


def test_awards_and_redemptions_are_bounded() -> None:
    p = program()
    for points in (MAX_POINTS, 10**19):
        with pytest.raises(ValidationError) as info:
            account().award(p, "review", at=T0, key="a", points=points)
        assert info.value.field == "points"
        with pytest.raises(ValidationError) as info:
            account().redeem(p, points, at=T0, key="r")
        assert info.value.field == "points"
    for build, field in [
        (lambda: program(actions={"review": MAX_POINTS}), "actions.review"),
        (lambda: RedemptionRule(minimum=10**19), "redemption.minimum"),
    ]:
        with pytest.raises(ValidationError) as info:
            build()
        assert info.value.field == field


def test_a_purchase_that_would_cross_the_bound_names_the_amount() -> None:
    p = program(earn=EarnRule(points_per_unit=Decimal(1000)))
    huge = Purchase("o-1", "c", T0, Money("999999999999999", "EUR"))
    with pytest.raises(ValidationError) as info:
        account().earn(p, huge, key="e")
    assert info.value.field == "purchase.amount"


def test_a_redemption_worth_more_than_money_holds_is_refused_naming_points() -> None:
    p = program(point_value=Money("2000", "EUR"))
    acc = account().adjust(p, MAX_POINTS - 1, reason="fix", at=T0, key="j").value
    with pytest.raises(ValidationError) as info:
        acc.redeem(p, MAX_POINTS - 1, at=T0, key="r")
    assert info.value.field == "points"


def _entry(**changes: object) -> LedgerEntry:
    base = LedgerEntry(
        type=EntryType.ADJUST, key="j", at=T0, points=5, moves=(("j", 5),), earned_at=T0
    )
    return attrs.evolve(base, **changes)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"points": 10**19, "moves": (("j", 10**19),)}, "entries[0].points"),
        ({"points": "5"}, "entries[0].points"),
        ({"key": 7}, "entries[0].key"),
        ({"type": "adjust"}, "entries[0].type"),
        ({"moves": [("j", 5)]}, "entries[0].moves"),
        ({"moves": (("j", "5"),)}, "entries[0].moves"),
        ({"at": "2026-03-01"}, "entries[0].at"),
        ({"expires_at": datetime(2027, 1, 1)}, "entries[0].expires_at"),
        ({"shortfall": -1}, "entries[0].shortfall"),
    ],
)
def test_malformed_entries_are_refused_naming_them(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        LoyaltyAccount.from_entries(
            id="A", customer_id="c", program_id="P", entries=[_entry(**changes)]
        )
    assert info.value.field == field


def test_a_stored_ledger_beyond_the_bound_does_not_load() -> None:
    data = codec.encode(account().adjust(program(), 5, reason="x", at=T0, key="j").value)
    assert isinstance(data, dict) and isinstance(data["entries"], list)
    entry = data["entries"][0]
    assert isinstance(entry, dict)
    entry["points"] = 10**19
    entry["moves"] = [["j", 10**19]]
    with pytest.raises(ValidationError, match="entries"):
        codec.decode(LoyaltyAccount, data)


@pytest.mark.parametrize(
    "policy",
    [ExpiryPolicy.months_after(12), ExpiryPolicy.end_of_month(0), ExpiryPolicy.fixed_date(12, 31)],
)
def test_points_whose_expiry_the_calendar_cannot_hold_do_not_expire(policy: ExpiryPolicy) -> None:
    p = program(expiry=policy, timezone="America/New_York")
    late = datetime(9999, 12, 31, 12, tzinfo=UTC)
    acc = account().earn(p, Purchase("o-1", "c", late, Money("10", "EUR")), key="e").value
    assert acc.lots[0].expires_at is None
    assert acc.balance(late + timedelta(hours=11)) == 10
    assert ExpiryPolicy.inactivity(1).inactivity_deadline(late) is None
