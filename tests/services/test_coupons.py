"""Coupon services: definitions with their pool, codes issued once, redemptions within every limit
(atomically, also when checkouts race for the last of a budget), reversal, voiding."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crmcore.customers.contact import Contact
from crmcore.customers.customer import Customer
from crmcore.kernel.errors import (
    AlreadyExistsError,
    DuplicateOperationError,
    NotFoundError,
    ValidationError,
)
from crmcore.kernel.money import Money
from crmcore.loyalty.program import LoyaltyProgram
from crmcore.marketing.coupon_codes import CodeFormat, generate_codes
from crmcore.marketing.coupon_refusals import CouponRefusedError, RefusalReason
from crmcore.marketing.coupons import Checkout, CouponDefinition, Discount
from crmcore.ports import Store
from crmcore.services.coupons import (
    define_coupon,
    issue_coupon,
    issue_coupons,
    redeem_coupon,
    reverse_coupon_redemption,
    void_coupon,
)
from crmcore.services.customers import register_customer
from crmcore.services.loyalty import open_account
from crmcore.services.retry import RetryPolicy
from crmcore.storage.memory import MemoryStore
from crmcore.storage.sqlite import SqliteStore
from tests.storage._postgres import ThrowawayStore, postgres_dsn

T = datetime(2026, 3, 1, 10, tzinfo=UTC)
H = timedelta(hours=1)
SPRING = CouponDefinition(
    id="spring",
    discount=Discount.fixed(Money("5", "EUR")),
    valid_from=T,
    valid_to=T + timedelta(days=30),
    per_customer_limit=1,
    budget=Money("20", "EUR"),
)


def _order(n: int, customer: str = "c-1", amount: str = "40") -> Checkout:
    return Checkout(f"o-{n}", customer, Money(amount, "EUR"))


def test_codes_are_issued_once_under_their_key(any_store: Store) -> None:
    assert define_coupon(any_store, SPRING).value.version == 1
    assert define_coupon(any_store, SPRING).value.version == 1  # a replay
    with pytest.raises(AlreadyExistsError):
        define_coupon(any_store, CouponDefinition(
            id="spring", discount=Discount.percentage(10), valid_from=T))  # fmt: skip
    one = issue_coupon(any_store, "spring", "SPRING-1", T, key="i-1", holder="c-1")
    assert [e.kind for e in one.events] == ["marketing.coupon_issued"]
    assert issue_coupon(any_store, "spring", "SPRING-1", T, key="i-1", holder="c-1").events == ()
    with pytest.raises(AlreadyExistsError):  # the code is taken (another issue key)
        issue_coupon(any_store, "spring", "SPRING-1", T, key="i-2")
    fmt = CodeFormat(length=6, prefix="SP")
    codes = generate_codes(fmt, 3, seed="test")
    batch = issue_coupons(any_store, "spring", codes, T, key="b-1", code_format=fmt)
    assert [c.id for c in batch.value] == [fmt.normalize(c) for c in codes]
    assert issue_coupons(any_store, "spring", codes, T, key="b-1", code_format=fmt).events == ()
    with pytest.raises(ValidationError):
        issue_coupon(any_store, "spring", codes[0][:-1] + "#", T, key="x", code_format=fmt)
    with pytest.raises(ValidationError):
        issue_coupons(any_store, "spring", ["A1", "A2"], T, key="b-2", holders=["c-1"])
    with pytest.raises(NotFoundError):
        issue_coupon(any_store, "autumn", "AUT-1", T, key="a")
    with any_store.unit_of_work() as uow:
        assert uow.coupon_pools.get("spring").issued == 4
        assert [c.id for c in uow.coupons.held_by("c-1")] == ["SPRING-1"]


def test_redemption_respects_each_limit_and_replays_write_nothing(any_store: Store) -> None:
    define_coupon(any_store, SPRING)
    issue_coupons(any_store, "spring", [f"S-{n}" for n in range(6)], T, key="b")
    done = redeem_coupon(any_store, "S-0", _order(1), T + H, key="o-1")
    assert done.value.redeemed.redemption.discount == Money("5", "EUR")
    assert redeem_coupon(any_store, "S-0", _order(1), T + H, key="o-1").events == ()
    with pytest.raises(DuplicateOperationError):
        redeem_coupon(any_store, "S-0", _order(9, amount="41"), T + H, key="o-1")
    refusals = {
        "already_used": ("S-0", _order(2, "c-2"), T + H),
        "customer_limit_reached": ("S-1", _order(3), T + H),
        "expired": ("S-1", _order(4, "c-3"), T + timedelta(days=31)),
    }
    for reason, (code, order, at) in refusals.items():
        with pytest.raises(CouponRefusedError) as refused:
            redeem_coupon(any_store, code, order, at, key=order.order_id)
        assert refused.value.reason is RefusalReason(reason)
    for n, customer in enumerate(("c-2", "c-3", "c-4"), start=1):
        redeem_coupon(any_store, f"S-{n}", _order(10 + n, customer), T + H, key=f"o-{10 + n}")
    with pytest.raises(CouponRefusedError) as spent:
        redeem_coupon(any_store, "S-4", _order(20, "c-5"), T + H, key="o-20")
    assert spent.value.reason is RefusalReason.BUDGET_EXHAUSTED
    with any_store.unit_of_work() as uow:
        pool = uow.coupon_pools.get("spring")
        assert (pool.redemptions, pool.discount_total) == (4, Money("20", "EUR"))
        assert uow.coupon_wallets.find_for("spring", "c-5") is None
    # the order is cancelled: the use, the customer's count and the budget come back
    back = reverse_coupon_redemption(any_store, "S-0", "c-1", T + 2 * H, of="o-1", key="r-1")
    assert back.value.redemption.reverse_key == "r-1"
    assert reverse_coupon_redemption(
        any_store, "S-0", "c-1", T + 2 * H, of="o-1", key="r-1").events == ()  # fmt: skip
    redeem_coupon(any_store, "S-4", _order(20, "c-5"), T + 3 * H, key="o-20")
    voided = void_coupon(any_store, "S-5", T + 3 * H, key="v-1")
    assert voided.value.status.value == "voided"
    assert void_coupon(any_store, "S-5", T + 3 * H, key="v-1").events == ()
    with pytest.raises(CouponRefusedError):
        redeem_coupon(any_store, "S-5", _order(30, "c-9"), T + 4 * H, key="o-30")


def test_the_order_and_its_points_are_stored_with_the_redemption(any_store: Store) -> None:
    program = LoyaltyProgram(id="P", currency="EUR", point_value=Money("0.01", "EUR"))
    register_customer(any_store, Customer.register("c-1", "Ann", T, contact=Contact()))
    open_account(any_store, "A-1", "c-1", program)
    define_coupon(any_store, SPRING)
    issue_coupon(any_store, "spring", "S-1", T, key="i-1")
    done = redeem_coupon(
        any_store, "S-1", _order(1, amount="40.50"), T + H, key="o-1", record_purchase=True,
        account_id="A-1", program=program,
    )  # fmt: skip
    assert done.value.account is not None
    assert done.value.account.balance(T + H) == 35  # points on the 35.50 paid
    kinds = [e.kind for e in done.events]
    assert kinds == [
        "marketing.coupon_redeemed", "customer.purchase_recorded", "loyalty.points_earned",
    ]  # fmt: skip
    with any_store.unit_of_work() as uow:
        (purchase,) = uow.purchases.for_customer("c-1")
        assert purchase.amount == Money("35.50", "EUR")
        assert uow.customers.get("c-1").purchases.count == 1
    # no account: the whole redemption fails, nothing is stored
    issue_coupon(any_store, "spring", "S-2", T, key="i-2")
    with pytest.raises(NotFoundError):
        redeem_coupon(
            any_store, "S-2", _order(2, "c-2"), T + H, key="o-2", account_id="A-2",
            program=program,
        )  # fmt: skip
    with any_store.unit_of_work() as uow:
        assert uow.coupons.get("S-2").uses == 0
        assert uow.coupon_pools.get("spring").redemptions == 1
    with pytest.raises(ValidationError):
        redeem_coupon(any_store, "S-2", _order(2), T, key="o-2", account_id="A-1")


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_checkouts_racing_for_a_budget_never_overspend_it(kind: str, tmp_path: Path) -> None:
    store: Store
    if kind == "memory":
        store = MemoryStore()
    elif kind == "sqlite":
        store = SqliteStore(tmp_path / "race.db")
    else:
        store = ThrowawayStore(postgres_dsn(), max_size=8)
    define_coupon(store, SPRING)  # 20 EUR of budget: four redemptions of 5 EUR
    codes = [f"R-{n}" for n in range(8)]
    issue_coupons(store, "spring", codes, T, key="race")
    patient = RetryPolicy(attempts=200, base_delay=0.001, max_delay=0.01)
    results: dict[str, str] = {}

    def checkout(n: int) -> None:
        try:
            redeem_coupon(store, codes[n], _order(n, f"c-{n}"), T + H, key=f"o-{n}", retry=patient)
            results[codes[n]] = "redeemed"
        except CouponRefusedError as error:
            results[codes[n]] = error.reason.value

    threads = [threading.Thread(target=checkout, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == ["budget_exhausted"] * 4 + ["redeemed"] * 4
    with store.unit_of_work() as uow:
        pool = uow.coupon_pools.get("spring")
        assert (pool.redemptions, pool.discount_total) == (4, Money("20", "EUR"))
        used = [c.id for c in uow.coupons.of_definition("spring") if c.uses]
        assert sorted(used) == sorted(code for code, r in results.items() if r == "redeemed")
    kinds = [m.kind for m in store.outbox.pending(limit=1000)]
    assert kinds.count("marketing.coupon_redeemed") == 4
    store.close()
