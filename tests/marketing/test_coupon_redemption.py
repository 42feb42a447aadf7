"""Issue, redeem, reverse and void: one refusal per rule, replays, and limits that always hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from crmcore.kernel import codec
from crmcore.kernel.errors import (
    AlreadyExistsError,
    DuplicateOperationError,
    IllegalTransitionError,
    ValidationError,
)
from crmcore.kernel.money import Money
from crmcore.marketing.coupon_redemption import (
    issue_coupon,
    redeem_coupon,
    reverse_redemption,
    void_coupon,
)
from crmcore.marketing.coupon_refusals import CouponRefusedError, RefusalReason
from crmcore.marketing.coupon_wallet import Coupon, CouponPool, CouponStatus, CouponWallet
from crmcore.marketing.coupons import Checkout, CouponDefinition, Discount

T = datetime(2026, 3, 1, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def spring(**changes: object) -> CouponDefinition:
    fields: dict[str, object] = {
        "id": "spring",
        "discount": Discount.fixed(eur("5")),
        "valid_from": T,
        "valid_to": T + timedelta(days=30),
        "minimum_order": eur("20"),
    }
    fields.update(changes)
    return CouponDefinition(**fields)  # type: ignore[arg-type]


def issued(
    definition: CouponDefinition, code: str = "CODE-1", holder: str | None = None
) -> tuple[CouponPool, Coupon]:
    result = issue_coupon(
        definition, CouponPool.new(definition), code, at=T, key=f"i-{code}", holder=holder
    ).value
    return result.pool, result.coupon


def redeem(
    definition: CouponDefinition,
    pool: CouponPool,
    coupon: Coupon,
    who: str = "c-1",
    amount: str = "40",
    key: str = "o-1",
    at: datetime = T,
    **kw: object,
):  # type: ignore[no-untyped-def]
    wallet = kw.pop("wallet", None) or CouponWallet.new(definition, who)
    return redeem_coupon(
        definition, pool, coupon, wallet, Checkout(key, who, eur(amount)), at=at, key=key, **kw
    )  # type: ignore[arg-type]


def refusal(call: object) -> RefusalReason:
    with pytest.raises(CouponRefusedError) as error:
        call()  # type: ignore[operator]
    return error.value.reason


def test_a_redemption_uses_the_code_and_gives_the_net_purchase() -> None:
    definition = spring()
    pool, coupon = issued(definition)
    outcome = redeem(definition, pool, coupon)
    done = outcome.value
    assert (done.coupon.status, done.pool.redemptions, done.wallet.uses) == (
        CouponStatus.USED_UP,
        1,
        1,
    )
    assert done.purchase().amount == eur("35") and done.purchase().order_id == "o-1"
    assert [e.kind for e in outcome.events] == ["marketing.coupon_redeemed"]


def test_each_rule_refuses_with_its_own_reason() -> None:
    d = spring()
    pool, coupon = issued(d)
    assert refusal(lambda: redeem(d, pool, coupon, at=T - timedelta(days=1))) == "not_yet_valid"
    assert refusal(lambda: redeem(d, pool, coupon, at=T + timedelta(days=30))) == "expired"
    assert refusal(lambda: redeem(d, pool, coupon, amount="19.99")) == "below_minimum_order"
    used = redeem(d, pool, coupon).value
    assert refusal(lambda: redeem(d, used.pool, used.coupon, key="o-2")) == "already_used"
    voided = void_coupon(coupon, at=T, key="v-1").value
    assert refusal(lambda: redeem(d, pool, voided)) == "voided"
    mine_pool, mine = issued(d, holder="c-9")
    assert refusal(lambda: redeem(d, mine_pool, mine)) == "not_eligible"


def test_customer_total_and_budget_limits() -> None:
    d = spring(uses_per_code=0, per_customer_limit=1, total_limit=2, budget=eur("12"))
    pool, coupon = issued(d)
    first = redeem(d, pool, coupon).value
    assert refusal(lambda: redeem(d, first.pool, first.coupon, key="o-2", wallet=first.wallet)) == (
        "customer_limit_reached"
    )
    second = redeem(d, first.pool, first.coupon, who="c-2", key="o-2").value
    assert refusal(lambda: redeem(d, second.pool, second.coupon, who="c-3", key="o-3")) == (
        "limit_reached"
    )
    roomy = spring(uses_per_code=0, budget=eur("12"))
    pool, coupon = issued(roomy)
    a = redeem(roomy, pool, coupon).value
    b = redeem(roomy, a.pool, a.coupon, who="c-2", key="o-2").value
    assert b.pool.remaining_budget(roomy) == eur("2")
    assert refusal(lambda: redeem(roomy, b.pool, b.coupon, who="c-3", key="o-3")) == (
        "budget_exhausted"
    )


def test_target_segments_need_the_customer() -> None:
    d = spring(segment='country = "CN"')
    pool, coupon = issued(d)
    with pytest.raises(ValidationError, match="customer"):
        redeem(d, pool, coupon)
    outsider = {"id": "c-1", "country": "DE"}
    assert refusal(lambda: redeem(d, pool, coupon, customer=outsider)) == "not_eligible"
    assert redeem(d, pool, coupon, customer={"id": "c-1", "country": "CN"}).value.redemption


def test_replays_return_the_first_result_and_other_payloads_are_duplicates() -> None:
    d = spring(uses_per_code=3)
    pool, coupon = issued(d)
    done = redeem(d, pool, coupon).value
    again = redeem(d, done.pool, done.coupon, wallet=done.wallet)
    assert again.value.replayed and again.events == ()
    assert again.value.pool is done.pool and again.value.redemption == done.redemption
    with pytest.raises(DuplicateOperationError):
        redeem(d, done.pool, done.coupon, wallet=done.wallet, amount="50")
    replay = issue_coupon(d, pool, "CODE-1", at=T, key="i-CODE-1", existing=coupon)
    assert replay.value.replayed and replay.value.coupon is coupon
    with pytest.raises(AlreadyExistsError):
        issue_coupon(d, pool, "CODE-1", at=T, key="other", existing=coupon)


def test_a_reversal_gives_the_use_back_once() -> None:
    d = spring(per_customer_limit=1)
    pool, coupon = issued(d)
    done = redeem(d, pool, coupon).value
    back = reverse_redemption(d, done.pool, done.coupon, done.wallet, of="o-1", at=T, key="r-1")
    undone = back.value
    assert (undone.coupon.status, undone.pool.redemptions, undone.wallet.uses) == (
        CouponStatus.ACTIVE,
        0,
        0,
    )
    assert undone.pool.discount_total == Money.zero("EUR")
    replay = reverse_redemption(
        d, undone.pool, undone.coupon, undone.wallet, of="o-1", at=T, key="r-1"
    )
    assert replay.value.replayed and replay.events == ()
    with pytest.raises(IllegalTransitionError):
        reverse_redemption(d, undone.pool, undone.coupon, undone.wallet, of="o-1", at=T, key="r-2")
    again = redeem(d, undone.pool, undone.coupon, key="o-2", wallet=undone.wallet).value
    assert again.wallet.uses == 1


def test_voiding_is_final_and_idempotent() -> None:
    _, coupon = issued(spring())
    voided = void_coupon(coupon, at=T, key="v-1")
    assert voided.value.status is CouponStatus.VOIDED and voided.events[0].kind == (
        "marketing.coupon_voided"
    )
    assert void_coupon(voided.value, at=T, key="v-1").value is voided.value
    with pytest.raises(IllegalTransitionError):
        void_coupon(voided.value, at=T, key="v-2")


def test_the_aggregates_round_trip_through_the_codec() -> None:
    d = spring(uses_per_code=2)
    pool, coupon = issued(d)
    done = redeem(d, pool, coupon).value
    for value in (
        done.pool,
        done.coupon,
        done.wallet,
        void_coupon(done.coupon, at=T, key="v").value,
    ):
        assert codec.decode(type(value), codec.encode(value)) == value


def test_issue_limits_and_expired_offers() -> None:
    d = spring(issue_limit=1)
    pool, _ = issued(d)
    assert refusal(lambda: issue_coupon(d, pool, "CODE-2", at=T, key="i-2")) == "limit_reached"
    late = T + timedelta(days=31)
    assert (
        refusal(lambda: issue_coupon(spring(), CouponPool.new(spring()), "X-1", at=late, key="i"))
        == "expired"
    )


CUSTOMERS = ["c-1", "c-2", "c-3"]
CODES = ["A-1", "A-2", "A-3"]


class CouponLimits(RuleBasedStateMachine):
    """Random issues, redemptions, reversals, voids and replays; the limits always hold."""

    def __init__(self) -> None:
        super().__init__()
        self.definition = spring(
            uses_per_code=2,
            per_customer_limit=2,
            total_limit=4,
            budget=eur("15"),
            issue_limit=3,
            minimum_order=None,
        )
        self.pool = CouponPool.new(self.definition)
        self.coupons: dict[str, Coupon] = {}
        self.wallets = {c: CouponWallet.new(self.definition, c) for c in CUSTOMERS}
        self.done: list[tuple[str, str, str]] = []  # (customer, key, code) in force
        self.keys = 0

    def _save(self, pool: CouponPool, coupon: Coupon, wallet: CouponWallet) -> None:
        self.pool = pool
        self.coupons[coupon.id] = coupon
        self.wallets[wallet.customer_id] = wallet

    @rule(code=st.sampled_from(CODES))
    def issue(self, code: str) -> None:
        existing = self.coupons.get(code)
        if existing is None and self.pool.issued >= 3:
            with pytest.raises(CouponRefusedError) as refused:
                issue_coupon(self.definition, self.pool, code, at=T, key=f"issue-{code}")
            assert refused.value.reason is RefusalReason.LIMIT_REACHED
            return
        result = issue_coupon(
            self.definition, self.pool, code, at=T, key=f"issue-{code}", existing=existing
        ).value
        assert result.replayed == (existing is not None)
        self.pool = result.pool
        self.coupons[code] = result.coupon

    @rule(
        code=st.sampled_from(CODES),
        customer=st.sampled_from(CUSTOMERS),
        amount=st.sampled_from(["3", "5", "8"]),
        replay=st.booleans(),
    )
    def redeem(self, code: str, customer: str, amount: str, replay: bool) -> None:
        if code not in self.coupons:
            return
        mine = [k for c, k, _ in self.done if c == customer]
        if replay and mine:
            key = mine[-1]
            before = self.wallets[customer].redemption(key)
            checkout = Checkout(before.order_id, customer, before.order_amount)
            code = before.code
        else:
            self.keys += 1
            key = f"o-{self.keys}"
            checkout = Checkout(key, customer, eur(amount))
        try:
            outcome = redeem_coupon(
                self.definition,
                self.pool,
                self.coupons[code],
                self.wallets[customer],
                checkout,
                at=T,
                key=key,
            )
        except CouponRefusedError:
            return
        except DuplicateOperationError:
            assert replay
            return
        result = outcome.value
        if result.replayed:
            assert outcome.events == () and result.pool is self.pool
            return
        self._save(result.pool, result.coupon, result.wallet)
        self.done.append((customer, key, code))

    @rule(data=st.data(), replay=st.booleans())
    def reverse(self, data: st.DataObject, replay: bool) -> None:
        if not self.done:
            return
        customer, key, code = data.draw(st.sampled_from(self.done))
        outcome = reverse_redemption(
            self.definition,
            self.pool,
            self.coupons[code],
            self.wallets[customer],
            of=key,
            at=T,
            key=f"undo-{key}",
        )
        self._save(outcome.value.pool, outcome.value.coupon, outcome.value.wallet)
        self.done.remove((customer, key, code))
        if replay:
            again = reverse_redemption(
                self.definition,
                self.pool,
                self.coupons[code],
                self.wallets[customer],
                of=key,
                at=T,
                key=f"undo-{key}",
            )
            assert again.value.replayed and again.events == ()

    @rule(code=st.sampled_from(CODES))
    def void(self, code: str) -> None:
        if code in self.coupons:
            self.coupons[code] = void_coupon(self.coupons[code], at=T, key=f"void-{code}").value

    @invariant()
    def limits_hold(self) -> None:
        d = self.definition
        assert self.pool.issued <= d.issue_limit
        assert self.pool.redemptions == len(self.done) <= d.total_limit
        spent = self.pool.discount_total or Money.zero("EUR")
        assert Money.zero("EUR") <= spent <= eur("15")
        assert spent == Money.sum(
            (self.wallets[c].redemption(k).discount for c, k, _ in self.done), "EUR"
        )
        for wallet in self.wallets.values():
            assert wallet.uses <= d.per_customer_limit
        for coupon in self.coupons.values():
            assert coupon.uses <= coupon.max_uses
            assert coupon.uses == sum(1 for _, _, code in self.done if code == coupon.id)


TestCouponLimits = CouponLimits.TestCase
TestCouponLimits.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
