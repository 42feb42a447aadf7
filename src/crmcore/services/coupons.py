"""Coupon use cases: define an offer, issue codes, redeem within every limit, reverse, void.

Each function is one unit of work over a [`Store`][crmcore.ports.Store]: it loads the coupon
definition, its pool, the code and the customer's wallet
([`crmcore.marketing.coupon_wallet`][crmcore.marketing.coupon_wallet]), applies the domain
([`crmcore.marketing.coupon_redemption`][crmcore.marketing.coupon_redemption]) and saves the
changed aggregates with their events, so a redemption is counted against the code, the customer's
limit and the budget together, or not at all. It returns an
[`Outcome`][crmcore.kernel.events.Outcome]: what was stored and the events written with it.

* **Atomic budgets.** Every redemption of a definition writes its pool: two checkouts racing for
  the last euro of the budget conflict, the loser reloads (``retry``,
  [`DEFAULT_RETRY`][crmcore.services.retry.DEFAULT_RETRY]) and is refused with
  ``budget_exhausted`` instead of overspending.
* **Idempotency keys.** Every operation takes the caller's ``key`` (the order id is a good
  redemption key): a replay returns what is stored and writes nothing; the same key for another
  request raises [`DuplicateOperationError`][crmcore.kernel.errors.DuplicateOperationError].
* **Points with the order.** [`redeem_coupon()`][crmcore.services.coupons.redeem_coupon] can
  record the paid order and earn its loyalty points in the same unit of work.
* **Refusals** raise [`CouponRefusedError`][crmcore.marketing.coupon_refusals.CouponRefusedError]
  with the reason (expired, limit reached, not eligible, already used, budget exhausted, ...).

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.kernel.money import Money
    >>> from crmcore.marketing.coupons import Checkout, CouponDefinition, Discount
    >>> from crmcore.storage.memory import MemoryStore
    >>> store, t = MemoryStore(), datetime(2026, 3, 1, tzinfo=UTC)
    >>> spring = CouponDefinition(id="spring", discount=Discount.fixed(Money("5", "EUR")),
    ...                           valid_from=t, per_customer_limit=1, budget=Money("5", "EUR"))
    >>> _ = define_coupon(store, spring)
    >>> _ = issue_coupons(store, "spring", ["SPRING-1", "SPRING-2"], t, key="batch-1")
    >>> done = redeem_coupon(store, "SPRING-1", Checkout("o-1", "c-1", Money("40", "EUR")), t,
    ...                      key="o-1")
    >>> done.value.redeemed.redemption.discount, [e.kind for e in done.events]
    (Money('5', 'EUR'), ['marketing.coupon_redeemed', 'marketing.coupon_budget_exhausted'])
    >>> redeem_coupon(store, "SPRING-2", Checkout("o-2", "c-2", Money("40", "EUR")), t,
    ...               key="o-2")
    Traceback (most recent call last):
    ...
    crmcore.marketing.coupon_refusals.CouponRefusedError: coupon 'SPRING-2' refused (budget_ex...
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from crmcore.customers.records import Purchase
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import AlreadyExistsError, ValidationError
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.ids import validate_id
from crmcore.kernel.validators import instance_of, items_of
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.program import LoyaltyProgram
from crmcore.marketing import coupon_redemption as rules
from crmcore.marketing.coupon_codes import CodeFormat
from crmcore.marketing.coupon_redemption import Issued, Redeemed, Reversed
from crmcore.marketing.coupon_wallet import Coupon, CouponPool, CouponWallet
from crmcore.marketing.coupons import Checkout, CouponDefinition
from crmcore.ports import Store, UnitOfWork
from crmcore.services._checks import id_list, store_of
from crmcore.services.retry import DEFAULT_RETRY, RetryPolicy
from crmcore.services.retry import retry as run_retrying

__all__ = [
    "CouponRedemption",
    "define_coupon",
    "issue_coupon",
    "issue_coupons",
    "redeem_coupon",
    "reverse_coupon_redemption",
    "void_coupon",
]


def define_coupon(
    store: Store, definition: CouponDefinition, *, retry: RetryPolicy | None = DEFAULT_RETRY
) -> Outcome[CouponDefinition]:
    """Store a coupon definition and its empty pool together; storing the same definition again
    is a replay, another one under a taken id an
    [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError]."""
    store = store_of(store)
    if not isinstance(definition, CouponDefinition):
        raise ValidationError("definition", definition, "must be a CouponDefinition")

    def once() -> Outcome[CouponDefinition]:
        with store.unit_of_work() as uow:
            stored = uow.coupon_definitions.find(definition.id)
            if stored is not None:
                if attrs.evolve(stored, version=0) != attrs.evolve(definition, version=0):
                    raise AlreadyExistsError("coupon_definition", definition.id)
                return Outcome(stored)
            saved = uow.coupon_definitions.add(definition)
            uow.coupon_pools.add(CouponPool.new(definition))
        return Outcome(saved)

    return run_retrying(once, retry)


def _format(code_format: object) -> CodeFormat | None:
    return None if code_format is None else instance_of(code_format, CodeFormat, "code_format")


def _holder(holder: object, field: str = "holder") -> str | None:
    return None if holder is None else validate_id(holder, field)


def _code(code: str, code_format: CodeFormat | None) -> str:
    if code_format is None:
        return code
    if not code_format.is_valid(code):
        raise ValidationError("code", code, "is not a valid code of the format (check character)")
    return code_format.normalize(code)


def _issue(
    uow: UnitOfWork,
    definition: CouponDefinition,
    pool: CouponPool,
    code: str,
    at: datetime,
    key: str,
    holder: str | None,
) -> tuple[CouponPool, Issued, tuple[DomainEvent, ...]]:
    outcome = rules.issue_coupon(
        definition, pool, code, at=at, key=key, holder=holder, existing=uow.coupons.find(code)
    )
    issued = uow.take(outcome)
    if issued.replayed:
        return pool, issued, ()
    coupon = uow.coupons.add(issued.coupon)
    return issued.pool, Issued(issued.pool, coupon), outcome.events


def issue_coupon(
    store: Store,
    definition_id: str,
    code: str,
    at: datetime,
    *,
    key: str,
    holder: str | None = None,
    code_format: CodeFormat | None = None,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Issued]:
    """Issue ``code`` of the stored definition to ``holder`` (``None``: anyone may use it).

    With ``code_format`` the code's check character is verified and the code normalised first.
    Refused past the definition's ``issue_limit`` or after ``valid_to``
    ([`CouponRefusedError`][crmcore.marketing.coupon_refusals.CouponRefusedError]); a code issued
    under another key raises [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError].
    """
    store = store_of(store)
    chosen = _code(code, _format(code_format))
    _holder(holder)

    def once() -> Outcome[Issued]:
        with store.unit_of_work() as uow:
            definition = uow.coupon_definitions.get(definition_id)
            pool = uow.coupon_pools.get(definition_id)
            new_pool, issued, events = _issue(uow, definition, pool, chosen, at, key, holder)
            if not events:
                return Outcome(issued)
            saved = uow.coupon_pools.save(new_pool)
        return Outcome(Issued(saved, issued.coupon), events)

    return run_retrying(once, retry)


def issue_coupons(
    store: Store,
    definition_id: str,
    codes: Sequence[str],
    at: datetime,
    *,
    key: str,
    holders: Sequence[str | None] | None = None,
    code_format: CodeFormat | None = None,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[tuple[Coupon, ...]]:
    """Issue many codes of the stored definition in one unit of work (the pool is written once):
    all of them, or none. Code ``codes[i]`` goes to ``holders[i]`` (default: anyone) under the key
    ``"<key>:<code>"``, so replaying the batch issues nothing twice."""
    store = store_of(store)
    if isinstance(codes, str):
        raise ValidationError("codes", codes, "must be a sequence of codes, not one code")
    form = _format(code_format)
    chosen = [_code(code, form) for code in items_of(codes, "codes", "codes")]
    owners: Sequence[str | None] = (
        [None] * len(chosen)
        if holders is None
        else [_holder(h, f"holders[{i}]") for i, h in enumerate(items_of(holders, "holders"))]
    )
    if len(owners) != len(chosen):
        raise ValidationError(
            "holders", len(owners), f"must give one holder per code ({len(chosen)})"
        )

    def once() -> Outcome[tuple[Coupon, ...]]:
        with store.unit_of_work() as uow:
            definition = uow.coupon_definitions.get(definition_id)
            pool = original = uow.coupon_pools.get(definition_id)
            coupons: list[Coupon] = []
            events: list[DomainEvent] = []
            for code, holder in zip(chosen, owners, strict=True):
                pool, issued, raised = _issue(
                    uow, definition, pool, code, at, f"{key}:{code}", holder
                )
                coupons.append(issued.coupon)
                events.extend(raised)
            if pool is not original:
                uow.coupon_pools.save(pool)
        return Outcome(tuple(coupons), tuple(events))

    return run_retrying(once, retry)


@attrs.frozen
class CouponRedemption:
    """What [`redeem_coupon()`][crmcore.services.coupons.redeem_coupon] stored: the redemption's
    aggregates (``redeemed``) and, when points were earned, the loyalty account."""

    redeemed: Redeemed
    account: LoyaltyAccount | None = None


def redeem_coupon(
    store: Store,
    code: str,
    checkout: Checkout,
    at: datetime,
    *,
    key: str,
    stacked_with: Sequence[str] = (),
    record_purchase: bool = False,
    account_id: str | None = None,
    program: LoyaltyProgram | None = None,
    channel: str = "web",
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[CouponRedemption]:
    """Take the stored coupon's discount off ``checkout``, within every limit, atomically.

    The code's uses, the customer's wallet (``per_customer_limit``) and the definition's pool
    (``total_limit``, ``budget``) are saved together. ``stacked_with`` are the codes already on
    the order (their definitions decide stackability); a definition that targets a segment is
    checked on the stored customer. In the same unit of work, ``record_purchase`` stores the
    paid order (its amount after the discount) on the customer, and ``account_id`` with
    ``program`` earns its loyalty points (key ``"<key>/points"``).

    Raises:
        CouponRefusedError: a rule refuses (the reason says which); nothing is stored.
        DuplicateOperationError: ``key`` was used for another redemption.
        NotFoundError: the code, its definition, the customer or the account is not stored.
    """
    store = store_of(store)
    if not isinstance(checkout, Checkout):
        raise ValidationError("checkout", checkout, "must be a Checkout")
    stacked = id_list(stacked_with, "stacked_with")
    if (account_id is None) != (program is None):
        raise ValidationError("program", program, "give both account_id and program, or neither")
    when = to_utc(at, "at")

    def once() -> Outcome[CouponRedemption]:
        with store.unit_of_work() as uow:
            coupon = uow.coupons.get(code)
            definition = uow.coupon_definitions.get(coupon.definition_id)
            pool = uow.coupon_pools.get(definition.id)
            held = uow.coupon_wallets.find_for(definition.id, checkout.customer_id)
            wallet = CouponWallet.new(definition, checkout.customer_id) if held is None else held
            customer = (
                None if definition.segment is None else uow.customers.get(checkout.customer_id)
            )
            others = [
                uow.coupon_definitions.get(uow.coupons.get(other).definition_id)
                for other in stacked
            ]
            outcome = rules.redeem_coupon(
                definition, pool, coupon, wallet, checkout, at=when, key=key,
                customer=customer, stacked_with=others,
            )  # fmt: skip
            redeemed = uow.take(outcome)
            if redeemed.replayed:
                return Outcome(CouponRedemption(redeemed))
            events: list[DomainEvent] = list(outcome.events)
            saved = Redeemed(
                uow.coupon_pools.save(redeemed.pool),
                uow.coupons.save(redeemed.coupon),
                uow.coupon_wallets.add(redeemed.wallet)
                if held is None
                else uow.coupon_wallets.save(redeemed.wallet),
                redeemed.redemption,
            )
            paid = redeemed.purchase(when, channel=channel)
            if record_purchase:
                events.extend(_record(uow, paid))
            account = None
            if account_id is not None and program is not None:
                earned = uow.loyalty_accounts.get(account_id).earn(
                    program, paid, key=f"{key}/points"
                )
                account = uow.loyalty_accounts.save(uow.take(earned))
                events.extend(earned.events)
        return Outcome(CouponRedemption(saved, account), tuple(events))

    return run_retrying(once, retry)


def _record(uow: UnitOfWork, purchase: Purchase) -> tuple[DomainEvent, ...]:
    uow.purchases.add(purchase)
    recorded = uow.customers.get(purchase.customer_id).record_purchase(purchase)
    uow.customers.save(uow.take(recorded))
    return recorded.events


def reverse_coupon_redemption(
    store: Store,
    code: str,
    customer_id: str,
    at: datetime,
    *,
    of: str,
    key: str,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Reversed]:
    """Give back the redemption the customer made under key ``of`` (the order was cancelled): the
    code's use, the customer's count and the budget are freed together. A replay of ``key``
    writes nothing."""
    store = store_of(store)
    validate_id(of, "of")

    def once() -> Outcome[Reversed]:
        with store.unit_of_work() as uow:
            coupon = uow.coupons.get(code)
            definition = uow.coupon_definitions.get(coupon.definition_id)
            pool = uow.coupon_pools.get(definition.id)
            wallet = uow.coupon_wallets.find_for(definition.id, customer_id)
            if wallet is None:
                wallet = CouponWallet.new(definition, customer_id)  # its redemption() refuses
            outcome = rules.reverse_redemption(
                definition, pool, coupon, wallet, of=of, at=at, key=key
            )
            done = uow.take(outcome)
            if done.replayed:
                return Outcome(done)
            saved = Reversed(
                uow.coupon_pools.save(done.pool),
                uow.coupons.save(done.coupon),
                uow.coupon_wallets.save(done.wallet),
                done.redemption,
            )
        return Outcome(saved, outcome.events)

    return run_retrying(once, retry)


def void_coupon(
    store: Store,
    code: str,
    at: datetime,
    *,
    key: str,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Coupon]:
    """Void the stored code: it accepts no more redemptions (those made stay). A replay writes
    nothing."""

    store = store_of(store)

    def once() -> Outcome[Coupon]:
        with store.unit_of_work() as uow:
            coupon = uow.coupons.get(code)
            outcome = rules.void_coupon(coupon, at=at, key=key)
            if outcome.value is coupon:
                return Outcome(coupon)
            saved = uow.coupons.save(uow.take(outcome))
        return Outcome(saved, outcome.events)

    return run_retrying(once, retry)
