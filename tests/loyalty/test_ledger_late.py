"""Late arrivals: business time and posting order are separate, within the program's tolerance.

Two app servers' clocks differ by seconds, and requests overtake each other: an operation dated a
little before the account's latest entry is placed at its own business time (balances as of any
time, statements and expiry count it from there) and may only use what the account held at every
business time from then on. Anything older than the tolerance needs an explicit back-dated
adjustment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from crmcore.customers import Purchase
from crmcore.kernel import codec
from crmcore.kernel.errors import InsufficientPointsError, ValidationError
from crmcore.kernel.money import Money
from crmcore.loyalty.entries import EntryType, LedgerEntry
from crmcore.loyalty.expiry import ExpiryPolicy
from crmcore.loyalty.ledger import LoyaltyAccount, replay
from crmcore.loyalty.program import DEFAULT_OUT_OF_ORDER_TOLERANCE, LoyaltyProgram, ReturnPolicy

T0 = datetime(2026, 1, 10, 12, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


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
    return LoyaltyAccount(id="A-1", customer_id="c-1", program_id="P")


def sale(order: str, amount: str, at: datetime) -> Purchase:
    return Purchase(order, "c-1", at, Money(amount, "EUR"))


def consistent(acc: LoyaltyAccount) -> LoyaltyAccount:
    """The account rebuilt from its entries (which checks business order too) equals it."""
    again = LoyaltyAccount.from_entries(
        id=acc.id, customer_id=acc.customer_id, program_id=acc.program_id, entries=acc.entries
    )
    assert again == acc and (again.lots, again.debt) == (acc.lots, acc.debt)
    assert codec.decode(LoyaltyAccount, codec.encode(acc, LoyaltyAccount)) == acc
    assert acc.total_points == sum(lot.available for lot in acc.lots) - acc.debt
    return acc


def test_the_default_tolerance_is_five_minutes_and_configurable() -> None:
    assert program().out_of_order_tolerance == DEFAULT_OUT_OF_ORDER_TOLERANCE == 5 * MINUTE
    assert program(out_of_order_tolerance=timedelta(0)).out_of_order_tolerance == timedelta(0)
    for bad in (timedelta(days=2), -SECOND, 300, None):
        with pytest.raises(ValidationError) as info:
            program(out_of_order_tolerance=bad)
        assert info.value.field == "out_of_order_tolerance"


def test_a_redemption_two_minutes_late_is_placed_at_its_own_time() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "100", T0), key="e-1").value
    acc = acc.award(p, "review", at=T0 + 10 * MINUTE, key="a-1").value
    late = acc.redeem(p, 30, at=T0 + 8 * MINUTE, key="r-1")  # another server, clock behind
    acc = consistent(late.value)
    assert [e.key for e in acc.entries] == ["e-1", "a-1", "r-1"]  # posting order
    assert acc.last_at == T0 + 10 * MINUTE  # the latest business time is unchanged
    assert acc.balance(T0 + 7 * MINUTE) == 100
    assert acc.balance(T0 + 8 * MINUTE) == 70  # placed at its business time
    assert acc.balance(T0 + 10 * MINUTE) == 80
    (event,) = late.events
    assert event.occurred_at == T0 + 8 * MINUTE and event.balance == 80  # balance now
    statement = acc.statement(T0, T0 + timedelta(days=1))
    assert [e.key for e in statement.entries] == ["e-1", "r-1", "a-1"]  # business order
    assert (statement.opening, statement.closing) == (0, 80)


def test_a_late_redemption_cannot_spend_points_earned_after_it() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "20", T0), key="e-1").value
    acc = acc.earn(p, sale("o-2", "100", T0 + 4 * MINUTE), key="e-2").value
    assert acc.balance(T0 + 4 * MINUTE) == 120
    with pytest.raises(InsufficientPointsError) as info:
        acc.redeem(p, 50, at=T0 + 2 * MINUTE, key="r-1")  # at 2', only the first 20 existed
    assert (info.value.balance, info.value.requested) == (20, 50)
    acc = consistent(acc.redeem(p, 20, at=T0 + 2 * MINUTE, key="r-1").value)
    assert acc.entry("r-1").moves == (("e-1", -20),)
    assert acc.balance(T0 + 3 * MINUTE) == 0


def test_a_late_redemption_cannot_spend_points_a_later_one_already_spent() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "100", T0), key="e-1").value
    acc = acc.redeem(p, 60, at=T0 + 5 * MINUTE, key="r-late-clock").value
    # At 3' the lot held 100, but from 5' on only 40: a late redemption may take 40 at most.
    with pytest.raises(InsufficientPointsError) as info:
        acc.redeem(p, 41, at=T0 + 3 * MINUTE, key="r-2")
    assert info.value.balance == 40
    acc = consistent(acc.redeem(p, 40, at=T0 + 3 * MINUTE, key="r-2").value)
    assert [acc.balance(T0 + m * MINUTE) for m in (2, 3, 4, 5)] == [100, 60, 60, 0]


def test_a_late_redemption_cannot_use_points_restored_after_it() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "100", T0), key="e-1").value
    acc = acc.redeem(p, 100, at=T0 + MINUTE, key="r-1").value
    acc = acc.reverse(p, "r-1", at=T0 + 5 * MINUTE, key="x-1", points=50).value  # cancelled
    assert acc.balance(T0 + 5 * MINUTE) == 50
    # At 3' the points were spent; the restoration at 5' cannot fund a redemption dated 3'.
    with pytest.raises(InsufficientPointsError) as info:
        acc.redeem(p, 10, at=T0 + 3 * MINUTE, key="r-2")
    assert info.value.balance == 0
    consistent(acc)


def test_a_late_earn_counts_from_its_business_time_with_its_own_expiry() -> None:
    p = program(expiry=ExpiryPolicy.months_after(1))
    acc = account().award(p, "review", at=T0 + 4 * MINUTE, key="a-1").value
    late = acc.earn(p, sale("o-1", "50", T0 + MINUTE), key="e-1")
    acc = consistent(late.value)
    lot = next(lot for lot in acc.lots if lot.key == "e-1")
    assert lot.earned_at == T0 + MINUTE
    assert lot.expires_at == p._derived.lot_expiry(T0 + MINUTE)
    assert acc.balance(T0 + 2 * MINUTE) == 50
    assert acc.balance(T0 + 4 * MINUTE) == 60
    assert late.events[0].balance == 60
    assert acc.lots[0].key == "e-1"  # FIFO by expiry: the earlier lot is spent first


def test_expiry_is_placed_by_business_time_too() -> None:
    p = program(expiry=ExpiryPolicy.months_after(1))
    acc = account().earn(p, sale("o-1", "50", T0), key="e-1").value
    acc = acc.award(p, "review", at=T0 + 3 * MINUTE, key="a-1").value
    acc = acc.earn(p, sale("o-2", "30", T0 + 2 * MINUTE), key="e-2").value  # late
    expires = p._derived.lot_expiry(T0 + 2 * MINUTE)  # a month after the late purchase
    assert acc.balance(expires - 2 * MINUTE - SECOND) == 90
    assert acc.balance(expires - SECOND) == 40  # o-1 expired a month after its purchase
    assert acc.balance(expires) == 10  # o-2 too, counted from its own time
    run = acc.expire(p, expires)
    acc = consistent(run.value)
    assert run.events[0].points == -80
    assert acc.balance(expires) == 10


def test_anything_older_than_the_tolerance_needs_a_back_dated_adjustment() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "100", T0 + 10 * MINUTE), key="e-1").value
    too_late = T0 + 10 * MINUTE - 5 * MINUTE - SECOND
    calls = [
        lambda: acc.redeem(p, 5, at=too_late, key="r-1"),
        lambda: acc.award(p, "review", at=too_late, key="a-1"),
        lambda: acc.earn(p, sale("o-2", "5", too_late), key="e-2"),
        lambda: acc.adjust(p, -5, reason="fix", at=too_late, key="j-1"),
    ]
    for call in calls:
        with pytest.raises(ValidationError, match="back-dated adjustment") as info:
            call()
        assert info.value.field == "at"
    with pytest.raises(InsufficientPointsError):  # exactly the tolerance: placed, but at 5'
        acc.redeem(p, 5, at=T0 + 5 * MINUTE, key="r-1")  # the 100 points did not exist yet
    at_the_edge = acc.award(p, "review", at=T0 + 5 * MINUTE, key="a-1")
    assert consistent(at_the_edge.value).balance(T0 + 5 * MINUTE) == 10
    corrected = acc.adjust(p, 25, reason="missed bonus", at=T0, key="j-1", backdated=True)
    acc = consistent(corrected.value)
    assert acc.balance(T0) == 25 and acc.balance(T0 + 10 * MINUTE) == 125
    taken = acc.adjust(p, -20, reason="reversed bonus", at=T0, key="j-2", backdated=True)
    acc = consistent(taken.value)
    assert acc.balance(T0) == 5 and acc.balance(T0 + 10 * MINUTE) == 105
    with pytest.raises(InsufficientPointsError):  # the 100 points did not exist at T0
        acc.adjust(p, -6, reason="too much", at=T0, key="j-3", backdated=True)
    with pytest.raises(ValidationError) as info:
        acc.adjust(p, 1, reason="x", at=T0, key="j-4", backdated="yes")  # type: ignore[arg-type]
    assert info.value.field == "backdated"


def test_a_zero_tolerance_keeps_the_strict_order() -> None:
    p = program(out_of_order_tolerance=timedelta(0))
    acc = account().earn(p, sale("o-1", "100", T0 + SECOND), key="e-1").value
    with pytest.raises(ValidationError) as info:
        acc.redeem(p, 5, at=T0, key="r-1")
    assert info.value.field == "at"
    assert acc.redeem(p, 5, at=T0 + SECOND, key="r-1").value.balance(T0 + SECOND) == 95


def test_a_reversal_is_never_dated_before_what_it_reverses() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "100", T0), key="e-1").value
    acc = acc.redeem(p, 40, at=T0 + 3 * MINUTE, key="r-1").value
    with pytest.raises(ValidationError, match="before the entry it reverses") as info:
        acc.reverse(p, "r-1", at=T0 + 2 * MINUTE, key="x-1")
    assert info.value.field == "at"
    acc = consistent(acc.reverse(p, "r-1", at=T0 + 3 * MINUTE, key="x-1").value)
    assert acc.balance(T0 + 3 * MINUTE) == 100


def test_a_late_refund_claws_back_only_what_the_lot_held_from_then_on() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "100", T0), key="e-1").value
    acc = acc.redeem(p, 70, at=T0 + 4 * MINUTE, key="r-1").value
    acc = consistent(acc.refund(p, "o-1", at=T0 + 2 * MINUTE, key="f-1").value)
    entry = acc.entry("f-1")
    assert (entry.points, entry.shortfall) == (-30, 70)  # 70 were spent by 4'
    assert acc.balance(T0 + 3 * MINUTE) == 70 and acc.balance(T0 + 4 * MINUTE) == 0


def test_a_late_earn_settles_only_debt_owed_from_its_time_on() -> None:
    p = program(return_policy=ReturnPolicy.ALLOW_NEGATIVE)
    acc = account().earn(p, sale("o-1", "100", T0), key="e-1").value
    acc = acc.redeem(p, 100, at=T0 + MINUTE, key="r-1").value
    acc = acc.refund(p, "o-1", at=T0 + 4 * MINUTE, key="f-1").value
    assert acc.debt == 100
    acc = consistent(acc.earn(p, sale("o-2", "30", T0 + 2 * MINUTE), key="e-2").value)
    assert acc.entry("e-2").debt == 0  # at 2' nothing was owed yet: the lot stands
    assert acc.debt == 100 and acc.balance(T0 + 4 * MINUTE) == -70
    acc = consistent(acc.earn(p, sale("o-3", "30", T0 + 5 * MINUTE), key="e-3").value)
    assert acc.entry("e-3").debt == -30 and acc.debt == 70  # in order: settles the debt


def test_the_daily_cap_counts_late_earns_of_the_day() -> None:
    from crmcore.loyalty.program import EarnRule

    p = program(earn=EarnRule(max_points_per_day=100))
    acc = account().earn(p, sale("o-1", "80", T0), key="e-1").value
    acc = acc.award(p, "review", at=T0 + 4 * MINUTE, key="a-1").value
    acc = acc.earn(p, sale("o-2", "50", T0 + 2 * MINUTE), key="e-2").value  # late
    acc = consistent(acc.earn(p, sale("o-3", "50", T0 + 5 * MINUTE), key="e-3").value)
    assert [acc.entry(k).points for k in ("e-1", "e-2", "e-3")] == [80, 20, 0]


def test_inactivity_counts_from_the_latest_activity_in_business_time() -> None:
    p = program(expiry=ExpiryPolicy.inactivity(1))
    acc = account().award(p, "review", at=T0 + 4 * MINUTE, key="a-1").value
    acc = consistent(acc.earn(p, sale("o-1", "50", T0 + MINUTE), key="e-1").value)
    assert acc.last_activity == T0 + 4 * MINUTE  # the late earn does not move it back


def test_replay_checks_business_order() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "100", T0), key="e-1").value
    acc = acc.redeem(p, 60, at=T0 + 5 * MINUTE, key="r-1").value
    good = acc.entries
    # A late redemption taking 50 would leave the lot at -10 from 5' on, in business order.
    over = LedgerEntry(
        type=EntryType.REDEEM, key="r-2", at=T0 + MINUTE, points=-40, moves=(("e-1", -40),)
    )
    assert replay((*good, over)) == ((), 0)  # taking the 40 left is fine
    greedy = attrs.evolve(over, points=-41, moves=(("e-1", -41),))
    with pytest.raises(ValidationError) as info:
        replay((*good, greedy))  # posting order alone would be fine: 100 - 60 - 41 < 0 anyway
    assert info.value.field == "entries[2].moves"
    early = attrs.evolve(over, at=T0 - MINUTE)  # before the lot existed
    with pytest.raises(ValidationError) as info:
        replay((*good, early))
    assert info.value.field == "entries[2].at"


def test_replay_refuses_a_late_spend_that_only_posting_order_allows() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "100", T0), key="e-1").value
    acc = acc.redeem(p, 100, at=T0 + MINUTE, key="r-1").value
    acc = acc.reverse(p, "r-1", at=T0 + 5 * MINUTE, key="x-1", points=50).value
    forged = LedgerEntry(
        type=EntryType.REDEEM, key="r-2", at=T0 + 3 * MINUTE, points=-50, moves=(("e-1", -50),)
    )
    with pytest.raises(ValidationError) as info:  # fine in posting order, not in business order
        replay((*acc.entries, forged))
    assert info.value.field == "entries[3].moves"
