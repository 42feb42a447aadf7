"""The points ledger: every operation, refund scenarios from peer bugs, idempotency, as-of."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import attrs
import pytest

from crmcore.customers import Purchase
from crmcore.kernel import codec
from crmcore.kernel.errors import (
    DuplicateOperationError,
    InsufficientPointsError,
    NotFoundError,
    ValidationError,
)
from crmcore.kernel.events import DomainEvent, Outcome, event_from_json
from crmcore.kernel.money import Money
from crmcore.loyalty.entries import EntryType, LedgerEntry
from crmcore.loyalty.events import PointsEarned, trusted_setters
from crmcore.loyalty.expiry import ExpiryPolicy
from crmcore.loyalty.ledger import LoyaltyAccount, replay
from crmcore.loyalty.program import EarnRule, LoyaltyProgram, RedemptionRule, ReturnPolicy

T0 = datetime(2026, 1, 10, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def program(**kwargs: object) -> LoyaltyProgram:
    base: dict[str, object] = {
        "id": "P",
        "currency": "EUR",
        "point_value": eur("0.01"),
        "actions": {"sign_up": 50, "review": 10, "referral": 100},
    }
    base.update(kwargs)
    return LoyaltyProgram(**base)  # type: ignore[arg-type]


def account() -> LoyaltyAccount:
    return LoyaltyAccount(id="A-1", customer_id="c-1", program_id="P")


def sale(order: str, amount: str, at: datetime = T0, **kwargs: object) -> Purchase:
    return Purchase(order, "c-1", at, eur(amount), **kwargs)  # type: ignore[arg-type]


def rebuilt(acc: LoyaltyAccount) -> LoyaltyAccount:
    return LoyaltyAccount.from_entries(
        id=acc.id, customer_id=acc.customer_id, program_id=acc.program_id, entries=acc.entries
    )


def check(acc: LoyaltyAccount) -> None:
    """The ledger's invariants, checked after every scenario."""
    assert acc.total_points == sum(e.points for e in acc.entries)
    assert acc.total_points == sum(lot.available for lot in acc.lots) - acc.debt
    assert all(0 < lot.available <= lot.points for lot in acc.lots)
    again = rebuilt(acc)
    assert again == acc
    assert (again.lots, again.debt) == (acc.lots, acc.debt)
    assert replay(acc.entries) == (acc.lots, acc.debt)
    assert codec.decode(LoyaltyAccount, codec.encode(acc, LoyaltyAccount)) == acc


# -- earn -----------------------------------------------------------------------------------


def test_earn_creates_a_lot_and_an_event() -> None:
    p = program(expiry=ExpiryPolicy.months_after(12))
    outcome = account().earn(p, sale("o-1", "42.50"), key="k1")
    acc = outcome.value
    assert acc.balance(T0) == 42
    (lot,) = acc.lots
    assert (lot.key, lot.points, lot.available, lot.order_id) == ("k1", 42, 42, "o-1")
    assert lot.expires_at == T0.replace(year=2027)
    (event,) = outcome.events
    assert event.kind == "loyalty.points_earned"
    assert (event.points, event.balance, event.order_id) == (42, 42, "o-1")  # type: ignore[attr-defined]
    assert event_from_json(event.kind, event.payload()) == event
    check(acc)


def test_earn_with_tier_multiplier_and_posting_time() -> None:
    p = program(earn=EarnRule(tier_multipliers={"gold": Decimal(2)}))
    acc = account().earn(p, sale("o-1", "10"), key="k1", tier="gold", at=T0 + DAY).value
    assert acc.entry("k1").points == 20
    assert acc.entry("k1").at == T0 + DAY
    assert acc.entry("k1").earned_at == T0
    with pytest.raises(ValidationError) as info:
        account().earn(p, sale("o-1", "10"), key="k1", at=T0 - DAY)
    assert info.value.field == "at"


def test_pending_points_are_not_spendable_until_the_return_window_ends() -> None:
    p = program(pending_days=14)
    acc = account().earn(p, sale("o-1", "100"), key="k1").value
    assert acc.balance(T0) == 0
    assert acc.pending(T0) == 100
    with pytest.raises(InsufficientPointsError) as info:
        acc.redeem(p, 10, at=T0 + 13 * DAY, key="r1")
    assert (info.value.balance, info.value.requested) == (0, 10)
    assert acc.balance(T0 + 14 * DAY) == 100
    assert acc.pending(T0 + 14 * DAY) == 0
    assert acc.redeem(p, 10, at=T0 + 14 * DAY, key="r1").value.balance(T0 + 14 * DAY) == 90


def test_per_day_cap_counts_the_program_day() -> None:
    p = program(earn=EarnRule(max_points_per_day=100), timezone="Asia/Shanghai")
    acc = account()
    morning = datetime(2026, 1, 10, 1, tzinfo=UTC)  # 09:00 in Shanghai
    acc = acc.earn(p, sale("o-1", "70", morning), key="k1").value
    acc = acc.earn(p, sale("o-2", "70", morning + timedelta(hours=2)), key="k2").value
    assert acc.entry("k2").points == 30
    acc = acc.earn(p, sale("o-3", "70", morning + timedelta(hours=3)), key="k3").value
    assert acc.entry("k3").points == 0
    next_day = datetime(2026, 1, 10, 16, tzinfo=UTC)  # 00:00 on the 11th in Shanghai
    acc = acc.earn(p, sale("o-4", "70", next_day), key="k4").value
    assert acc.entry("k4").points == 70
    check(acc)


def test_an_order_earns_once() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "10"), key="k1").value
    with pytest.raises(DuplicateOperationError) as info:
        acc.earn(p, sale("o-1", "10"), key="k2")
    assert info.value.key == "k2"


def test_earn_rejects_another_customers_purchase() -> None:
    with pytest.raises(ValidationError) as info:
        account().earn(program(), Purchase("o-1", "c-2", T0, eur("1")), key="k1")
    assert info.value.field == "purchase.customer_id"


# -- idempotency ----------------------------------------------------------------------------


def test_replaying_a_key_posts_nothing_and_returns_the_same_account() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "10"), key="k1").value
    again = acc.earn(p, sale("o-1", "10"), key="k1", at=T0 + DAY)
    assert again.value is acc and again.events == ()
    acc = acc.redeem(p, 5, at=T0, key="r1").value
    replayed = acc.redeem(p, 5, at=T0 + DAY, key="r1")
    assert replayed.value is acc and replayed.events == ()
    assert (
        acc.award(p, "review", at=T0, key="a1").value.award(p, "review", at=T0, key="a1").events
        == ()
    )


@pytest.mark.parametrize(
    "second",
    [
        lambda a, p: a.earn(p, sale("o-1", "11"), key="k1"),
        lambda a, p: a.redeem(p, 5, at=T0, key="k1"),
        lambda a, p: a.award(p, "review", at=T0, key="k1"),
        lambda a, p: a.adjust(p, 5, reason="x", at=T0, key="k1"),
    ],
)
def test_same_key_different_payload_is_a_duplicate(second: object) -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "10"), key="k1").value
    with pytest.raises(DuplicateOperationError) as info:
        second(acc, p)  # type: ignore[operator]
    assert info.value.key == "k1"


# -- redeem ---------------------------------------------------------------------------------


def test_redeem_consumes_fifo_by_expiry_then_earning_time() -> None:
    p = program(expiry=ExpiryPolicy.months_after(12))
    acc = account().award(p, "sign_up", at=T0, key="a1").value  # expires T0 + 12 months
    acc = acc.earn(p, sale("o-1", "30", T0 + DAY), key="k1").value
    acc = acc.adjust(p, 20, reason="goodwill", at=T0 + DAY, key="j1").value
    outcome = acc.redeem(p, 60, at=T0 + 2 * DAY, key="r1", redemption_id="voucher-9")
    entry = outcome.value.entry("r1")
    assert entry.moves == (("a1", -50), ("k1", -10))
    assert entry.redemption_id == "voucher-9"
    assert entry.value == eur("0.60")
    assert [lot.key for lot in outcome.value.lots] == ["k1", "j1"]
    (event,) = outcome.events
    assert (event.kind, event.points, event.balance) == ("loyalty.points_redeemed", -60, 40)  # type: ignore[attr-defined]
    check(outcome.value)


def test_lots_without_expiry_are_spent_last() -> None:
    p = program(expiry=ExpiryPolicy.never())
    acc = account().earn(p, sale("o-1", "10"), key="k1").value
    assert acc.lots[0].expires_at is None
    p2 = program(expiry=ExpiryPolicy.months_after(1))
    acc = acc.award(p2, "review", at=T0 + DAY, key="a1").value  # dated lot goes first
    assert [lot.key for lot in acc.lots] == ["a1", "k1"]


def test_insufficient_points_names_balance_and_request() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "40"), key="k1").value
    with pytest.raises(InsufficientPointsError) as info:
        acc.redeem(p, 100, at=T0, key="r1")
    assert (info.value.account, info.value.balance, info.value.requested) == ("A-1", 40, 100)


def test_redemption_rule_is_enforced() -> None:
    p = program(redemption=RedemptionRule(minimum=20, increment=10))
    acc = account().earn(p, sale("o-1", "100"), key="k1").value
    for bad in (0, -10, 10, 25):
        with pytest.raises(ValidationError) as info:
            acc.redeem(p, bad, at=T0, key="r1")
        assert info.value.field == "points"


# -- expiry ---------------------------------------------------------------------------------


def test_expired_points_are_never_redeemed_and_expire_is_idempotent() -> None:
    p = program(expiry=ExpiryPolicy.end_of_month(0))
    acc = account().earn(p, sale("o-1", "50"), key="k1").value
    feb = datetime(2026, 2, 1, tzinfo=UTC)
    assert acc.balance(feb - timedelta(microseconds=1)) == 50
    assert acc.balance(feb) == 0
    with pytest.raises(InsufficientPointsError):
        acc.redeem(p, 10, at=feb, key="r1")
    run = acc.expire(p, feb)
    assert [e.kind for e in run.events] == ["loyalty.points_expired"]
    assert run.value.total_points == 0 and run.value.lots == ()
    again = run.value.expire(p, feb + DAY)
    assert again.value is run.value and again.events == ()
    check(run.value)


def test_operations_post_due_expiry_first() -> None:
    p = program(expiry=ExpiryPolicy.months_after(1))
    acc = account().earn(p, sale("o-1", "50"), key="k1").value
    later = T0 + 40 * DAY
    outcome = acc.award(p, "review", at=later, key="a1")
    assert [e.kind for e in outcome.events] == ["loyalty.points_expired", "loyalty.points_awarded"]
    assert outcome.value.entry("a1#expire").points == -50
    assert outcome.value.balance(later) == 10
    check(outcome.value)


def test_inactivity_expiry_resets_with_activity() -> None:
    p = program(expiry=ExpiryPolicy.inactivity(6))
    acc = account().earn(p, sale("o-1", "50"), key="k1").value
    acc = acc.award(p, "review", at=T0 + 150 * DAY, key="a1").value  # activity moves the clock
    deadline = T0 + 150 * DAY
    assert acc.balance(deadline + 170 * DAY, p) == 60
    six_months = datetime(2026, 12, 9, 12, tzinfo=UTC)  # 2026-06-09 + 6 months
    assert acc.balance(six_months, p) == 0
    run = acc.expire(p, six_months)
    assert run.value.entry(f"expire#{six_months.isoformat()}#2").points == -60
    check(run.value)


def test_balance_as_of_the_past_replays_the_ledger() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "50"), key="k1").value
    acc = acc.redeem(p, 30, at=T0 + DAY, key="r1").value
    assert acc.balance(T0) == 50
    assert acc.balance(T0 + DAY) == 20
    assert acc.balance(T0 - DAY) == 0


# -- reversals ------------------------------------------------------------------------------


def test_full_refund_claws_back_all_points() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "80"), key="k1").value
    outcome = acc.refund(p, "o-1", at=T0 + DAY, key="f1")
    assert outcome.value.balance(T0 + DAY) == 0
    (event,) = outcome.events
    assert (event.kind, event.points, event.shortfall) == ("loyalty.points_reversed", -80, 0)  # type: ignore[attr-defined]
    check(outcome.value)


def test_partial_refunds_are_proportional_and_cumulative() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "99.99"), key="k1").value  # 99 points
    acc = acc.refund(p, "o-1", at=T0, key="f1", amount=eur("33.33")).value
    assert acc.entry("f1").points == -33  # floor(99 * 33.33 / 99.99) = 33
    acc = acc.refund(p, "o-1", at=T0, key="f1b", amount=eur("0.01")).value
    assert acc.entry("f1b").points == 0  # floor(99 * 33.34 / 99.99) = 33: nothing more yet
    acc = acc.refund(p, "o-1", at=T0, key="f2", amount=eur("33.33")).value
    acc = acc.refund(p, "o-1", at=T0, key="f3", amount=eur("33.32")).value
    assert acc.balance(T0) == 0  # refunding everything claws back everything
    with pytest.raises(ValidationError) as info:
        acc.refund(p, "o-1", at=T0, key="f4", amount=eur("0.01"))
    assert info.value.field == "amount"
    (qualifying,) = acc.qualifying_earns()
    assert (qualifying.points, qualifying.spend) == (0, eur("0.00"))
    check(acc)


def test_refunding_a_purchase_that_earned_nothing_records_the_spend() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "0.99"), key="k1").value
    assert acc.entry("k1").points == 0 and acc.lots == ()
    acc = acc.refund(p, "o-1", at=T0, key="f1").value
    assert (acc.entry("f1").points, acc.entry("f1").spend) == (0, eur("0.99"))
    assert acc.qualifying_earns()[0].spend == eur("0.00")
    with pytest.raises(ValidationError) as info:
        acc.refund(p, "o-1", at=T0, key="f2")
    assert info.value.field == "of"
    check(acc)


def test_refund_of_spent_points_within_balance_records_a_shortfall() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "100"), key="k1").value
    acc = acc.redeem(p, 70, at=T0, key="r1").value
    outcome = acc.refund(p, "o-1", at=T0 + DAY, key="f1")
    entry = outcome.value.entry("f1")
    assert (entry.points, entry.shortfall, outcome.value.balance(T0 + DAY)) == (-30, 70, 0)
    check(outcome.value)


def test_refund_of_spent_points_allow_negative_creates_a_debt() -> None:
    p = program(return_policy=ReturnPolicy.ALLOW_NEGATIVE)
    acc = account().earn(p, sale("o-1", "100"), key="k1").value
    acc = acc.redeem(p, 70, at=T0, key="r1").value
    acc = acc.refund(p, "o-1", at=T0 + DAY, key="f1").value
    assert (acc.balance(T0 + DAY), acc.debt) == (-70, 70)
    acc = acc.earn(p, sale("o-2", "100", T0 + 2 * DAY), key="k2").value  # settles the debt first
    assert (acc.balance(T0 + 2 * DAY), acc.debt) == (30, 0)
    assert acc.lots[0].available == 30
    check(acc)


def test_refund_does_not_owe_points_that_expired() -> None:
    p = program(expiry=ExpiryPolicy.months_after(1), return_policy=ReturnPolicy.ALLOW_NEGATIVE)
    acc = account().earn(p, sale("o-1", "100"), key="k1").value
    acc = acc.redeem(p, 40, at=T0, key="r1").value
    acc = acc.expire(p, T0 + 40 * DAY).value  # the other 60 expired
    acc = acc.refund(p, "o-1", at=T0 + 41 * DAY, key="f1").value
    entry = acc.entry("f1")
    assert (entry.points, entry.forgiven, entry.debt) == (-40, 60, 40)
    check(acc)


def test_cancelled_redemption_restores_original_lots_and_expiry() -> None:
    p = program(expiry=ExpiryPolicy.months_after(12))
    acc = account().earn(p, sale("o-1", "30"), key="k1").value
    acc = acc.earn(p, sale("o-2", "30", T0 + DAY), key="k2").value
    acc = acc.redeem(p, 50, at=T0 + DAY, key="r1").value
    assert [lot.key for lot in acc.lots] == ["k2"]
    acc = acc.reverse(p, "r1", at=T0 + 2 * DAY, key="x1", points=10).value  # partial
    assert acc.entry("x1").moves == (("k2", 10),)  # the last consumed comes back first
    acc = acc.reverse(p, "r1", at=T0 + 2 * DAY, key="x2").value
    first = acc.lots[0]
    assert (first.key, first.available, first.expires_at) == ("k1", 30, T0.replace(year=2027))
    assert acc.balance(T0 + 2 * DAY) == 60
    with pytest.raises(ValidationError):
        acc.reverse(p, "r1", at=T0 + 2 * DAY, key="x3")
    check(acc)


def test_restored_points_past_their_expiry_expire_at_the_next_run() -> None:
    p = program(expiry=ExpiryPolicy.months_after(1))
    acc = account().earn(p, sale("o-1", "30"), key="k1").value
    acc = acc.redeem(p, 30, at=T0, key="r1").value
    later = T0 + 60 * DAY
    acc = acc.reverse(p, "r1", at=later, key="x1").value
    assert acc.balance(later) == 0
    run = acc.expire(p, later)
    assert run.value.total_points == 0
    check(run.value)


def test_redeem_refund_cancel_never_hands_back_returned_points() -> None:
    """nopCommerce #5595 / Odoo #212922: redeem, refund the order, cancel the redemption."""
    p = program()
    acc = account().award(p, "sign_up", at=T0, key="a1").value
    acc = acc.earn(p, sale("o-1", "100"), key="k1").value
    acc = acc.redeem(p, 120, at=T0, key="r1").value
    acc = acc.refund(p, "o-1", at=T0 + DAY, key="f1").value
    assert acc.entry("f1").shortfall == 70
    acc = acc.reverse(p, "r1", at=T0 + 2 * DAY, key="x1").value
    assert acc.balance(T0 + 2 * DAY) == 50  # the sign-up points only
    assert acc.entry("x1").withheld == (("k1", 70),)
    check(acc)


def test_cancel_then_refund_is_also_right() -> None:
    p = program()
    acc = account().award(p, "sign_up", at=T0, key="a1").value
    acc = acc.earn(p, sale("o-1", "100"), key="k1").value
    acc = acc.redeem(p, 120, at=T0, key="r1").value
    acc = acc.reverse(p, "r1", at=T0 + DAY, key="x1").value
    acc = acc.refund(p, "o-1", at=T0 + 2 * DAY, key="f1").value
    assert acc.balance(T0 + 2 * DAY) == 50
    check(acc)


def test_reversal_validation() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "100"), key="k1").value
    with pytest.raises(NotFoundError):
        acc.reverse(p, "nope", at=T0, key="x1")
    with pytest.raises(ValidationError) as info:
        acc.reverse(p, "k1", at=T0, key="x1", points=101)
    assert info.value.field == "points"
    with pytest.raises(ValidationError) as info:
        acc.reverse(p, "k1", at=T0, key="x1", points=5, amount=eur("5"))
    assert info.value.field == "points"
    with pytest.raises(ValidationError) as info:
        acc.reverse(p, "k1", at=T0, key="x1", amount=Money("5", "USD"))
    assert info.value.field == "amount"
    acc = acc.refund(p, "o-1", at=T0, key="f1").value
    with pytest.raises(ValidationError) as info:
        acc.reverse(p, "f1", at=T0, key="x2")
    assert info.value.field == "of"


# -- award and adjust -----------------------------------------------------------------------


def test_award_actions_and_referral_override() -> None:
    p = program()
    outcome = account().award(p, "referral", at=T0, key="referral:c-9", points=300)
    assert outcome.value.balance(T0) == 300
    (event,) = outcome.events
    assert (event.kind, event.action) == ("loyalty.points_awarded", "referral")  # type: ignore[attr-defined]
    with pytest.raises(ValidationError) as info:
        account().award(p, "tweet", at=T0, key="a1")
    assert info.value.field == "action"


def test_adjust_both_ways() -> None:
    p = program()
    acc = account().adjust(p, 25, reason="service recovery", at=T0, key="j1").value
    acc = acc.adjust(p, -5, reason="typo", at=T0, key="j2").value
    assert acc.balance(T0) == 20
    with pytest.raises(InsufficientPointsError):
        acc.adjust(p, -50, reason="x", at=T0, key="j3")
    acc = acc.reverse(p, "j2", at=T0, key="x1").value
    assert acc.balance(T0) == 25
    check(acc)


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda a, p: a.redeem(p, -5, at=T0, key="r"), "points"),
        (lambda a, p: a.redeem(p, 0, at=T0, key="r"), "points"),
        (lambda a, p: a.redeem(p, 5, at=datetime(2026, 1, 1), key="r"), "at"),
        (lambda a, p: a.award(p, "unknown", at=T0, key="r"), "action"),
        (lambda a, p: a.award(p, "review", at=T0, key="bad key"), "key"),
        (lambda a, p: a.award(p, "review", at=T0, key="x#expire"), "key"),
        (lambda a, p: a.adjust(p, 0, reason="x", at=T0, key="j"), "delta"),
        (lambda a, p: a.adjust(p, 5, reason=" ", at=T0, key="j"), "reason"),
        (lambda a, p: a.earn(p, "not a purchase", key="k"), "purchase"),
        (lambda a, p: a.balance(datetime(2026, 1, 1)), "as_of"),
        (lambda a, p: a.expire(p, datetime(2026, 1, 1)), "as_of"),
        (lambda a, p: a.statement(T0, T0 - DAY), "end"),
        (lambda a, p: a.redeem(program(id="Q"), 5, at=T0, key="r"), "program"),
        (lambda a, p: a.balance(T0, program=1.5), "program"),
        (
            lambda a, p: LoyaltyAccount.from_entries(
                id="A", customer_id="c", program_id="P", entries=7
            ),
            "entries",
        ),
        (lambda a, p: replay(None), "entries"),
        (lambda a, p: a.lots[0].spendable(1), "as_of"),
        (lambda a, p: p.value_of(1.5), "points"),
    ],
)
def test_bad_input_names_the_field(call: object, field: str) -> None:
    acc = account().earn(program(), sale("o-1", "100"), key="k1").value
    with pytest.raises(ValidationError) as info:
        call(acc, program())  # type: ignore[operator]
    assert info.value.field == field


def test_out_of_order_operations_are_rejected() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "100", T0 + DAY), key="k1").value
    with pytest.raises(ValidationError) as info:
        acc.redeem(p, 5, at=T0, key="r1")
    assert info.value.field == "at"
    assert acc.redeem(p, 5, at=T0 + DAY, key="r1").value.balance(T0 + DAY) == 95  # same instant


def test_building_from_bad_entries_names_the_entry() -> None:
    good = account().earn(program(), sale("o-1", "10"), key="k1").value.entries
    over = LedgerEntry(type=EntryType.REDEEM, key="r1", at=T0, points=-20, moves=(("k1", -20),))
    with pytest.raises(ValidationError) as info:
        replay((*good, over))
    assert info.value.field == "entries[1].moves"
    back = LedgerEntry(type=EntryType.REDEEM, key="r1", at=T0 - DAY, points=-1, moves=(("k1", -1),))
    with pytest.raises(ValidationError) as info:
        replay((*good, back))
    assert info.value.field == "entries[1].at"
    with pytest.raises(ValidationError) as info:
        replay((*good, good[0]))
    assert info.value.field == "entries[1].key"
    wrong = LedgerEntry(type=EntryType.REDEEM, key="r1", at=T0, points=-2, moves=(("k1", -1),))
    with pytest.raises(ValidationError) as info:
        replay((*good, wrong))
    assert info.value.field == "entries[1].points"


# -- statement, facts, persistence ----------------------------------------------------------


def test_statement_opening_entries_closing() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "100"), key="k1").value
    acc = acc.redeem(p, 30, at=T0 + DAY, key="r1").value
    acc = acc.award(p, "review", at=T0 + 2 * DAY, key="a1").value
    st = acc.statement(T0 + DAY, T0 + 2 * DAY)
    assert (st.opening, [e.key for e in st.entries], st.closing) == (100, ["r1"], 70)
    data = st.to_dict()
    assert data["closing"] == 70 and data["entries"][0]["type"] == "redeem"  # type: ignore[index]
    assert "Statement A-1" in st._repr_html_()


def test_qualifying_earns_are_net_of_refunds() -> None:
    p = program()
    acc = account().earn(p, sale("o-1", "100"), key="k1").value
    acc = acc.earn(p, sale("o-2", "50", T0 + DAY), key="k2").value
    acc = acc.refund(p, "o-1", at=T0 + DAY, key="f1", amount=eur("40")).value
    acc = acc.award(p, "review", at=T0 + DAY, key="a1").value
    facts = acc.qualifying_earns()
    assert [(f.order_id, f.points, f.spend) for f in facts] == [
        ("o-1", 60, eur("60")),
        ("o-2", 50, eur("50")),
    ]
    assert facts[0].at == T0


def test_an_older_version_branches_without_disturbing_the_newer() -> None:
    p = program()
    base = account().earn(p, sale("o-1", "100"), key="k1").value
    left = base.redeem(p, 10, at=T0, key="r1").value
    right = base.redeem(p, 30, at=T0, key="r2").value  # acts on the same version again
    assert (left.balance(T0), right.balance(T0)) == (90, 70)
    assert [e.key for e in left.entries] == ["k1", "r1"]
    assert [e.key for e in right.entries] == ["k1", "r2"]
    assert not left.has_entry("r2") and not right.has_entry("r1")
    assert not base.has_entry("r1")
    left2 = left.redeem(p, 10, at=T0, key="r3").value
    assert [e.key for e in left2.entries] == ["k1", "r1", "r3"]
    check(left2)
    check(right)


def test_account_survives_codec_pickle_and_evolve() -> None:
    p = program(pending_days=3, expiry=ExpiryPolicy.end_of_month(2))
    acc = account().earn(p, sale("o-1", "100"), key="k1").value
    acc = acc.award(p, "sign_up", at=T0, key="a1").value
    stored = codec.decode(LoyaltyAccount, codec.encode(acc, LoyaltyAccount))
    assert stored == acc and stored.lots == acc.lots
    assert pickle.loads(pickle.dumps(acc)) == acc
    bumped = attrs.evolve(acc, version=3)
    assert bumped.version == 3 and bumped.entries == acc.entries
    assert bumped.redeem(p, 50, at=T0, key="r1").value.balance(T0) == 0
    assert "A-1" in repr(acc) and len(acc) == 2


# -- values the ledger builds without re-validating equal publicly built ones -----------------


def _public_copy(value: object) -> object:
    """The same value rebuilt through its class's validating constructor."""
    cls = type(value)
    fields = {f.name: getattr(value, f.name) for f in attrs.fields(cls)}
    return cls(**fields)


def test_trusted_entries_lots_and_events_equal_validated_ones() -> None:
    prog = program(
        pending_days=14,
        expiry=ExpiryPolicy.end_of_month(12),
        earn=EarnRule(channel_multipliers={"app": Decimal(2)}),
    )
    acc = account()
    events: list[object] = []
    steps = [
        lambda a: a.award(prog, "sign_up", at=T0, key="s"),
        lambda a: a.earn(prog, sale("o-1", "19.99", T0, channel="app"), key="e1"),
        lambda a: a.earn(prog, sale("o-2", "5.00", T0 + 20 * DAY), key="e2"),
        lambda a: a.redeem(prog, 30, at=T0 + 21 * DAY, key="r1"),
        lambda a: a.adjust(prog, 5, reason="goodwill", at=T0 + 22 * DAY, key="adj"),
        lambda a: a.expire(prog, T0 + 800 * DAY),
    ]
    for step in steps:
        outcome = step(acc)
        assert type(outcome) is Outcome
        assert isinstance(outcome.events, tuple)
        acc = outcome.value
        events.extend(outcome.events)
    assert len(events) == 6
    for value in (*acc.entries, *rebuilt(acc).entries, *events):
        copy = _public_copy(value)
        assert copy == value
        assert hash(copy) == hash(value)
        assert repr(copy) == repr(value)
    for event in events:
        assert isinstance(event, DomainEvent)
        assert event_from_json(event.kind, event.payload()) == event
    mid = account()
    for step in steps[:3]:
        mid = step(mid).value
    for lot in mid.lots:
        assert _public_copy(lot) == lot
    check(acc)


def test_public_construction_still_validates() -> None:
    naive = datetime(2026, 1, 1)  # naive on purpose
    with pytest.raises(ValidationError):
        PointsEarned(
            aggregate_id="A",
            occurred_at=naive,
            customer_id="c",
            entry_key="k",
            points=1,
            balance=1,
            order_id="o",
            pending_until=None,
            expires_at=None,
        )


def test_aware_non_utc_times_post_the_same_as_utc() -> None:
    prog = program(actions={"sign_up": 50})
    berlin = ZoneInfo("Europe/Berlin")
    local = account().award(prog, "sign_up", at=T0.astimezone(berlin), key="s")
    utc = account().award(prog, "sign_up", at=T0, key="s")
    assert local.value == utc.value
    assert local.events == utc.events
    assert local.value.entries[0].at.tzinfo is UTC


def test_balance_releases_each_pending_lot_at_its_own_time() -> None:
    prog = program(pending_days=10)
    acc = account()
    # Posted later than bought, so pending_until is not in posting order.
    acc = acc.earn(prog, sale("o-1", "100", T0 + 3 * DAY), key="e1").value
    acc = acc.earn(prog, sale("o-2", "20", T0), key="e2", at=T0 + 4 * DAY).value
    acc = acc.earn(prog, sale("o-3", "5", T0 + 5 * DAY), key="e3").value
    releases = {lot.key: lot.pending_until for lot in acc.lots}
    assert sorted(releases) == ["e1", "e2", "e3"]
    for hours in range(5 * 24, 17 * 24, 6):
        at = T0 + timedelta(hours=hours)
        expected = sum(
            lot.available
            for lot in acc.lots
            if lot.pending_until is None or at >= lot.pending_until
        )
        assert acc.balance(at) == expected
        assert acc.pending(at) == acc.total_points - expected
    later = acc.redeem(prog, 20, at=T0 + 10 * DAY, key="r1").value  # o-2 released, o-1 not
    assert later.balance(T0 + 10 * DAY) == 0
    assert later.balance(T0 + 13 * DAY) == 100
    assert later.balance(T0 + 15 * DAY) == 105
    check(later)


def test_trusted_setters_must_name_every_field() -> None:
    with pytest.raises(TypeError):
        trusted_setters(LedgerEntry, "type", "key")
    with pytest.raises(TypeError):
        trusted_setters(PointsEarned, *(f.name for f in attrs.fields(PointsEarned)), "extra")


def test_with_version_stamps_a_version_without_replaying() -> None:
    program = _program_for_with_version()
    account = LoyaltyAccount(id="A1", customer_id="C1", program_id=program.id)
    at = datetime(2026, 1, 5, tzinfo=UTC)
    for n in range(3):
        account = account.award(program, "sign_up", at=at, key=f"k{n}", points=10).value
    stamped = account.with_version(7)
    assert stamped.version == 7 and account.version == 0
    assert stamped == attrs.evolve(account, version=7)  # same value as a full rebuild
    assert stamped.balance(at) == account.balance(at) == 30
    assert stamped.__dict__["_st"] is account.__dict__["_st"]  # the replayed state is shared
    with pytest.raises(ValidationError):
        account.with_version(-1)


def _program_for_with_version() -> LoyaltyProgram:
    return LoyaltyProgram(
        id="P", currency="EUR", point_value=Money("0.01", "EUR"), actions={"sign_up": 10}
    )
