"""Issuing, redeeming, reversing and voiding coupons: limits, budgets and idempotency keys.

The operations work on the three aggregates of
[`crmcore.marketing.coupon_wallet`][crmcore.marketing.coupon_wallet] (the code, the customer's
wallet, the definition's pool).

The operations are pure functions returning the new aggregates and their events, for a service to
save in one unit of work (with the loyalty points of the order, from
[`Redeemed.purchase()`][crmcore.marketing.coupon_redemption.Redeemed.purchase]):
[`issue_coupon()`][crmcore.marketing.coupon_redemption.issue_coupon],
[`redeem_coupon()`][crmcore.marketing.coupon_redemption.redeem_coupon],
[`reverse_redemption()`][crmcore.marketing.coupon_redemption.reverse_redemption] (the order was
cancelled: the use, the customer's count and the budget are given back) and
[`void_coupon()`][crmcore.marketing.coupon_redemption.void_coupon].

**Idempotency.** Every operation takes the caller's ``key``. Replaying a key with the same request
returns the stored result with ``replayed=True``, unchanged aggregates (the very same objects, so
a service saves nothing) and no events; the same key with another request raises
[`DuplicateOperationError`][crmcore.kernel.errors.DuplicateOperationError]. A redemption key is
scoped to the customer's wallet of that definition (the order id is a good key).

**Refusals** raise [`CouponRefusedError`][crmcore.marketing.coupon_refusals.CouponRefusedError]
with one [`RefusalReason`][crmcore.marketing.coupon_refusals.RefusalReason] per rule, checked in
the order listed there; nothing changes.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.kernel.money import Money
    >>> from crmcore.marketing.coupons import Checkout, CouponDefinition, Discount
    >>> from crmcore.marketing.coupon_wallet import CouponPool, CouponWallet
    >>> t = datetime(2026, 3, 1, tzinfo=UTC)
    >>> spring = CouponDefinition(id="spring", discount=Discount.fixed(Money("5", "EUR")),
    ...                           valid_from=t, per_customer_limit=1)
    >>> pool = CouponPool.new(spring)
    >>> issued = issue_coupon(spring, pool, "SPRING-7KQ2", at=t, key="issue-1").value
    >>> order = Checkout("o-1", "c-1", Money("40", "EUR"))
    >>> done = redeem_coupon(spring, issued.pool, issued.coupon, CouponWallet.new(spring, "c-1"),
    ...                      order, at=t, key="o-1").value
    >>> done.redemption.discount, done.coupon.status.value, done.purchase(t).amount
    (Money('5', 'EUR'), 'used_up', Money('35', 'EUR'))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TypeAlias

import attrs

from crmcore.customers.customer import Customer
from crmcore.customers.records import Purchase
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import (
    AlreadyExistsError,
    DuplicateOperationError,
    IllegalTransitionError,
    ValidationError,
)
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.ids import validate_id
from crmcore.kernel.validators import instance_of, items_of
from crmcore.marketing.coupon_refusals import CouponRefusedError, RefusalReason
from crmcore.marketing.coupon_wallet import (
    Coupon,
    CouponPool,
    CouponStatus,
    CouponTrigger,
    CouponWallet,
    Redemption,
)
from crmcore.marketing.coupons import Checkout, CouponDefinition, price_with_coupons
from crmcore.marketing.offer_events import (
    CouponBudgetExhausted,
    CouponIssued,
    CouponRedeemed,
    CouponRedemptionReversed,
    CouponVoided,
)
from crmcore.marketing.targeting import in_target

__all__ = [
    "Issued",
    "Redeemed",
    "Reversed",
    "issue_coupon",
    "redeem_coupon",
    "reverse_redemption",
    "void_coupon",
]

Context: TypeAlias = Customer | Mapping[str, object]
"""A customer for eligibility checks: a [`Customer`][crmcore.customers.Customer] or a record."""


@attrs.frozen
class Issued:
    """What [`issue_coupon()`][crmcore.marketing.coupon_redemption.issue_coupon] returns."""

    pool: CouponPool
    coupon: Coupon
    replayed: bool = False


@attrs.frozen
class Redeemed:
    """What [`redeem_coupon()`][crmcore.marketing.coupon_redemption.redeem_coupon] returns."""

    pool: CouponPool
    coupon: Coupon
    wallet: CouponWallet
    redemption: Redemption
    replayed: bool = False

    def purchase(self, at: datetime | None = None, *, channel: str = "web") -> Purchase:
        """The order as paid (amount after the discount): what loyalty points are earned on."""
        r = self.redemption
        return Purchase(
            r.order_id,
            self.wallet.customer_id,
            r.at if at is None else at,
            r.order_amount - r.discount,
            channel=channel,
        )


@attrs.frozen
class Reversed:
    """What [`reverse_redemption()`][crmcore.marketing.coupon_redemption.reverse_redemption]
    returns."""

    pool: CouponPool
    coupon: Coupon
    wallet: CouponWallet
    redemption: Redemption
    replayed: bool = False


def _definition(value: object) -> CouponDefinition:
    if not isinstance(value, CouponDefinition):
        raise ValidationError("definition", value, "must be a CouponDefinition")
    return value


def _check_parts(
    definition: CouponDefinition,
    pool: object,
    coupon: object = None,
    wallet: object = None,
) -> None:
    if not isinstance(pool, CouponPool) or pool.id != definition.id:
        raise ValidationError("pool", pool, f"must be the CouponPool of {definition.id!r}")
    if coupon is not None and (
        not isinstance(coupon, Coupon) or coupon.definition_id != definition.id
    ):
        raise ValidationError("coupon", coupon, f"must be a Coupon of {definition.id!r}")
    if wallet is not None and (
        not isinstance(wallet, CouponWallet) or wallet.definition_id != definition.id
    ):
        raise ValidationError("wallet", wallet, f"must be a CouponWallet of {definition.id!r}")


def issue_coupon(
    definition: CouponDefinition,
    pool: CouponPool,
    code: str,
    *,
    at: datetime,
    key: str,
    holder: str | None = None,
    existing: Coupon | None = None,
) -> Outcome[Issued]:
    """Issue ``code`` of ``definition`` (to ``holder``, or to anyone when ``None``).

    ``existing`` is the coupon already stored under ``code``, if any: the same ``key`` for the
    same request is a replay, another key an
    [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError].
    Refused with ``limit_reached`` past ``issue_limit`` and ``expired`` after ``valid_to``.
    """
    definition = _definition(definition)
    _check_parts(definition, pool)
    when = to_utc(at, "at")
    validate_id(key, "key")
    if existing is not None:
        if not isinstance(existing, Coupon) or existing.id != validate_id(code, "code"):
            raise ValidationError("existing", existing, f"must be the stored coupon {code!r}")
        if existing.issue_key != key:
            raise AlreadyExistsError("coupon", code, "code")
        if (existing.definition_id, existing.holder) != (definition.id, holder):
            raise DuplicateOperationError(key)
        return Outcome(Issued(pool, existing, replayed=True))
    if definition.valid_to is not None and when >= definition.valid_to:
        raise CouponRefusedError(
            RefusalReason.EXPIRED, code, f"the offer ended at {definition.valid_to.isoformat()}"
        )
    if definition.issue_limit and pool.issued >= definition.issue_limit:
        raise CouponRefusedError(
            RefusalReason.LIMIT_REACHED, code, f"all {definition.issue_limit} codes are issued"
        )
    coupon = Coupon(
        id=code,
        definition_id=definition.id,
        holder=holder,
        max_uses=definition.uses_per_code,
        issued_at=when,
        issue_key=key,
    )
    event = CouponIssued(
        aggregate_id=coupon.id,
        occurred_at=when,
        definition_id=definition.id,
        code=coupon.id,
        holder=holder,
        max_uses=coupon.max_uses,
        key=key,
    )
    return Outcome(Issued(attrs.evolve(pool, issued=pool.issued + 1), coupon), (event,))


def _refuse(reason: RefusalReason, code: str, detail: str) -> CouponRefusedError:
    return CouponRefusedError(reason, code, detail)


def redeem_coupon(
    definition: CouponDefinition,
    pool: CouponPool,
    coupon: Coupon,
    wallet: CouponWallet,
    checkout: Checkout,
    *,
    at: datetime,
    key: str,
    customer: Context | None = None,
    stacked_with: Sequence[CouponDefinition] = (),
) -> Outcome[Redeemed]:
    """Take the coupon's discount off ``checkout`` (one use), within every limit.

    ``wallet`` is the checkout customer's wallet for the definition
    ([`CouponWallet.new()`][crmcore.marketing.coupon_wallet.CouponWallet.new] for a first use);
    ``customer`` (a [`Customer`][crmcore.customers.Customer] or flat record) is needed when the
    definition targets a segment; ``stacked_with`` are the definitions of the coupons already on
    the order. See the module notes for replays and refusals.
    """
    definition = _definition(definition)
    instance_of(coupon, Coupon, "coupon")
    instance_of(wallet, CouponWallet, "wallet")
    stacked = items_of(stacked_with, "stacked_with", "coupon definitions")
    _check_parts(definition, pool, coupon, wallet)
    if not isinstance(checkout, Checkout):
        raise ValidationError("checkout", checkout, "must be a Checkout")
    if wallet.customer_id != checkout.customer_id:
        raise ValidationError("wallet", wallet.customer_id, f"must be {checkout.customer_id!r}'s")
    when = to_utc(at, "at")
    validate_id(key, "key")
    code = coupon.id
    for previous in wallet.redemptions:
        if previous.key == key:
            if (previous.code, previous.order_id, previous.order_amount) != (
                code,
                checkout.order_id,
                checkout.amount,
            ):
                raise DuplicateOperationError(key)
            return Outcome(Redeemed(pool, coupon, wallet, previous, replayed=True))
    _check_usable(definition, coupon, checkout, when, customer)
    price_with_coupons(checkout, [*stacked, definition])  # stackability of the whole order
    discount = definition.discount_for(checkout)
    if coupon.uses_left == 0:
        raise _refuse(
            RefusalReason.ALREADY_USED, code, f"used {coupon.uses} of {coupon.max_uses} times"
        )
    limit = definition.per_customer_limit
    if limit and wallet.uses >= limit:
        raise _refuse(
            RefusalReason.CUSTOMER_LIMIT_REACHED,
            code,
            f"the customer used it {wallet.uses} of {limit} times",
        )
    if definition.total_limit and pool.redemptions >= definition.total_limit:
        raise _refuse(
            RefusalReason.LIMIT_REACHED, code, f"all {definition.total_limit} redemptions are taken"
        )
    remaining = pool.remaining_budget(definition)
    if remaining is not None and discount > remaining:
        raise _refuse(
            RefusalReason.BUDGET_EXHAUSTED,
            code,
            f"{discount} off, {remaining} left of {definition.budget}",
        )
    redemption = Redemption(
        key=key,
        code=code,
        order_id=checkout.order_id,
        order_amount=checkout.amount,
        discount=discount,
        at=when,
    )
    total = discount if pool.discount_total is None else pool.discount_total + discount
    new_pool = attrs.evolve(pool, redemptions=pool.redemptions + 1, discount_total=total)
    events: list[DomainEvent] = [
        CouponRedeemed(
            aggregate_id=code,
            occurred_at=when,
            definition_id=definition.id,
            code=code,
            customer_id=checkout.customer_id,
            order_id=checkout.order_id,
            order_amount=checkout.amount,
            discount=discount,
            key=key,
        )
    ]
    for name, reached in (
        ("total_limit", definition.total_limit and new_pool.redemptions == definition.total_limit),
        ("budget", definition.budget is not None and total == definition.budget),
    ):
        if reached:
            events.append(
                CouponBudgetExhausted(aggregate_id=definition.id, occurred_at=when, budget=name)
            )
    result = Redeemed(
        new_pool,
        coupon.with_uses(CouponTrigger.USE, coupon.uses + 1),
        attrs.evolve(wallet, redemptions=(*wallet.redemptions, redemption)),
        redemption,
    )
    return Outcome(result, events)


def _check_usable(
    definition: CouponDefinition,
    coupon: Coupon,
    checkout: Checkout,
    when: datetime,
    customer: Context | None,
) -> None:
    code = coupon.id
    if coupon.status is CouponStatus.VOIDED:
        raise _refuse(RefusalReason.VOIDED, code, "the code was voided")
    if when < definition.valid_from:
        raise _refuse(
            RefusalReason.NOT_YET_VALID, code, f"valid from {definition.valid_from.isoformat()}"
        )
    if definition.valid_to is not None and when >= definition.valid_to:
        raise _refuse(RefusalReason.EXPIRED, code, f"expired at {definition.valid_to.isoformat()}")
    if coupon.holder is not None and coupon.holder != checkout.customer_id:
        raise _refuse(RefusalReason.NOT_ELIGIBLE, code, "the code belongs to another customer")
    if definition.segment is not None:
        if customer is None:
            raise ValidationError("customer", None, "is needed: the coupon targets a segment")
        record_id = customer.id if isinstance(customer, Customer) else customer.get("id")
        if record_id != checkout.customer_id:
            raise ValidationError("customer", record_id, f"must be {checkout.customer_id!r}")
        if not in_target(definition.segment, customer, when):
            raise _refuse(
                RefusalReason.NOT_ELIGIBLE, code, "the customer is outside the target segment"
            )


def reverse_redemption(
    definition: CouponDefinition,
    pool: CouponPool,
    coupon: Coupon,
    wallet: CouponWallet,
    *,
    of: str,
    at: datetime,
    key: str,
) -> Outcome[Reversed]:
    """Give back the redemption made under key ``of`` (the order was cancelled or returned).

    The code gets its use back (even a voided code keeps its status), the customer's count and the
    pool's redemptions and budget are freed. A replay of ``key`` returns the first result; the
    redemption reversed under another key raises
    [`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError].
    """
    definition = _definition(definition)
    instance_of(coupon, Coupon, "coupon")
    instance_of(wallet, CouponWallet, "wallet")
    _check_parts(definition, pool, coupon, wallet)
    when = to_utc(at, "at")
    validate_id(key, "key")
    original = wallet.redemption(instance_of(of, str, "of", "a redemption key"))
    if original.code != coupon.id:
        raise ValidationError("coupon", coupon.id, f"redemption {of!r} used {original.code!r}")
    if original.reverse_key is not None:
        if original.reverse_key == key:
            return Outcome(Reversed(pool, coupon, wallet, original, replayed=True))
        raise IllegalTransitionError(
            "redeemed", "reversed", f"already reversed under key {original.reverse_key!r}"
        )
    if when < original.at:
        raise ValidationError("at", when, "is before the redemption")
    for other in wallet.redemptions:
        if other.reverse_key == key:
            raise DuplicateOperationError(key)
    done = attrs.evolve(original, reversed_at=when, reverse_key=key)
    total = (pool.discount_total or original.discount) - original.discount
    new_pool = attrs.evolve(pool, redemptions=pool.redemptions - 1, discount_total=total)
    if coupon.status is CouponStatus.VOIDED:
        restored = attrs.evolve(coupon, uses=coupon.uses - 1)
    else:
        restored = coupon.with_uses(CouponTrigger.RESTORE, coupon.uses - 1)
    event = CouponRedemptionReversed(
        aggregate_id=coupon.id,
        occurred_at=when,
        definition_id=definition.id,
        code=coupon.id,
        customer_id=wallet.customer_id,
        order_id=original.order_id,
        discount=original.discount,
        reverses=of,
        key=key,
    )
    return Outcome(Reversed(new_pool, restored, wallet._replace(original, done), done), (event,))


def void_coupon(coupon: Coupon, *, at: datetime, key: str) -> Outcome[Coupon]:
    """Void a code: it accepts no more redemptions (those made stay). Replays return it as is."""
    if not isinstance(coupon, Coupon):
        raise ValidationError("coupon", coupon, "must be a Coupon")
    when = to_utc(at, "at")
    validate_id(key, "key")
    if coupon.status is CouponStatus.VOIDED and coupon.void_key == key:
        return Outcome(coupon)
    voided = coupon.voided(when, key)
    event = CouponVoided(
        aggregate_id=coupon.id,
        occurred_at=when,
        definition_id=coupon.definition_id,
        code=coupon.id,
        key=key,
    )
    return Outcome(voided, (event,))
