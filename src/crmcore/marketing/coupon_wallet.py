"""Where a coupon's uses are kept: the code, the customer's wallet and the definition's pool.

Each limit of a [`CouponDefinition`][crmcore.marketing.coupons.CouponDefinition] lives in the
aggregate whose scope it is, so a redemption touches three small aggregates and never a list of
every customer:

* [`Coupon`][crmcore.marketing.coupon_wallet.Coupon], one per code (its id is the code): the
  holder (``None``: anyone may use it), its uses and ``uses_per_code``, its status on the kernel
  machine [`COUPON_MACHINE`][crmcore.marketing.coupon_wallet.COUPON_MACHINE]:

      active --use (the last one)--> used_up --restore--> active
      active --use (uses left)--> active --restore--> active
      active | used_up --void--> voided (final)

* [`CouponWallet`][crmcore.marketing.coupon_wallet.CouponWallet], one per customer and definition
  (id [`wallet_id()`][crmcore.marketing.coupon_wallet.wallet_id]): the customer's
  [`Redemption`][crmcore.marketing.coupon_wallet.Redemption] s, which enforce
  ``per_customer_limit`` and hold the idempotency keys;
* [`CouponPool`][crmcore.marketing.coupon_wallet.CouponPool], one per definition (same id): codes
  issued, redemptions in force and discount given, against ``issue_limit``, ``total_limit`` and
  ``budget``.

All three are versioned aggregates of ids, counts and amounts (no personal data), changed only by
the operations of [`crmcore.marketing.coupon_redemption`][crmcore.marketing.coupon_redemption].
The pool is the one aggregate every redemption of a definition writes: under heavy concurrent use
its version check makes a few redemptions retry, the price of an exact budget.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.kernel.money import Money
    >>> from crmcore.marketing.coupons import CouponDefinition, Discount
    >>> spring = CouponDefinition(id="spring", discount=Discount.fixed(Money("5", "EUR")),
    ...                           valid_from=datetime(2026, 3, 1, tzinfo=UTC))
    >>> CouponWallet.new(spring, "c-1").id == wallet_id("spring", "c-1")
    True
    >>> CouponPool.new(spring).remaining_budget(spring) is None
    True
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Final

import attrs

from crmcore.kernel import machine, validators
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.ids import validate_id
from crmcore.kernel.money import Money
from crmcore.marketing.coupons import CouponDefinition

__all__ = [
    "COUPON_MACHINE",
    "Coupon",
    "CouponPool",
    "CouponStatus",
    "CouponTrigger",
    "CouponWallet",
    "Redemption",
    "wallet_id",
]


class CouponStatus(enum.StrEnum):
    """Where a code stands."""

    ACTIVE = "active"
    USED_UP = "used_up"
    VOIDED = "voided"


class CouponTrigger(enum.StrEnum):
    """What changes a code's status."""

    USE = "use"
    RESTORE = "restore"
    VOID = "void"


@attrs.frozen
class _Uses:
    """What the guards see: the code's uses after the move and its maximum (0: unlimited)."""

    after: int
    maximum: int


_LAST = machine.Guard[_Uses](
    "last_use", "the use takes the code's last one", lambda u: 0 < u.maximum <= u.after
)
_MORE = machine.Guard[_Uses](
    "uses_left",
    "the code has uses left after this one",
    lambda u: u.maximum == 0 or u.after < u.maximum,
)
_S, _T = CouponStatus, CouponTrigger

COUPON_MACHINE: Final = machine.Machine[
    CouponStatus, CouponTrigger, machine.Transition[CouponStatus, CouponTrigger], _Uses
](
    "coupon",
    CouponStatus,
    CouponTrigger,
    initial=CouponStatus.ACTIVE,
    final=[CouponStatus.VOIDED],
    transitions=[
        machine.Transition(_S.ACTIVE, _T.USE, _S.USED_UP, guard="last_use"),
        machine.Transition(_S.ACTIVE, _T.USE, _S.ACTIVE, guard="uses_left"),
        machine.Transition(_S.ACTIVE, _T.RESTORE, _S.ACTIVE),
        machine.Transition(_S.USED_UP, _T.RESTORE, _S.ACTIVE),
        machine.Transition(_S.ACTIVE, _T.VOID, _S.VOIDED),
        machine.Transition(_S.USED_UP, _T.VOID, _S.VOIDED),
    ],
    guards=[_LAST, _MORE],
)
"""The status table of a code on the kernel machine."""


def _id_code(value: object) -> str:
    return validate_id(value, "code")


def _id_definition_id(value: object) -> str:
    return validate_id(value, "definition_id")


def _opt_id_holder(value: object) -> str | None:
    return None if value is None else validate_id(value, "holder")


def _time_issued_at(value: object) -> datetime:
    return to_utc(value, "issued_at")


def _id_key(value: object) -> str:
    return validate_id(value, "key")


def _opt_time_voided_at(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "voided_at")


def _opt_id_key(value: object) -> str | None:
    return None if value is None else validate_id(value, "key")


def _id_order_id(value: object) -> str:
    return validate_id(value, "order_id")


def _time_at(value: object) -> datetime:
    return to_utc(value, "at")


def _opt_time_reversed_at(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "reversed_at")


def _opt_id_reverse_key(value: object) -> str | None:
    return None if value is None else validate_id(value, "reverse_key")


def _id_id(value: object) -> str:
    return validate_id(value, "id")


def _id_customer_id(value: object) -> str:
    return validate_id(value, "customer_id")


def _count(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(attribute.name, value, "must be a non-negative whole number")


def _status(value: object) -> CouponStatus:
    return validators.choice(value, "status", CouponStatus)


@attrs.frozen(kw_only=True)
class Coupon:
    """One code of a definition (an aggregate; its ``id`` is the code)."""

    id: str = attrs.field(converter=_id_code)
    definition_id: str = attrs.field(converter=_id_definition_id)
    holder: str | None = attrs.field(default=None, converter=_opt_id_holder)
    max_uses: int = attrs.field(default=1, validator=_count)
    uses: int = attrs.field(default=0, validator=_count)
    status: CouponStatus = attrs.field(default=CouponStatus.ACTIVE, converter=_status)
    issued_at: datetime = attrs.field(converter=_time_issued_at)
    issue_key: str = attrs.field(converter=_id_key)
    voided_at: datetime | None = attrs.field(default=None, converter=_opt_time_voided_at)
    void_key: str | None = attrs.field(default=None, converter=_opt_id_key)
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        if self.max_uses and self.uses > self.max_uses:
            raise ValidationError("uses", self.uses, f"must not exceed max_uses ({self.max_uses})")
        used_up = bool(self.max_uses) and self.uses == self.max_uses
        expected = CouponStatus.USED_UP if used_up else CouponStatus.ACTIVE
        if self.status is CouponStatus.VOIDED:
            if self.voided_at is None or self.void_key is None:
                raise ValidationError(
                    "voided_at", None, "a voided code records when and by which key"
                )
        elif self.status is not expected:
            raise ValidationError(
                "status", self.status.value, f"must be {expected.value} at {self.uses} uses"
            )

    @property
    def code(self) -> str:
        """The code (the same as ``id``)."""
        return self.id

    @property
    def uses_left(self) -> int | None:
        """Uses still possible (``None``: unlimited; 0 for a voided code)."""
        if self.status is CouponStatus.VOIDED:
            return 0
        return None if self.max_uses == 0 else self.max_uses - self.uses

    def with_uses(self, trigger: CouponTrigger, uses: int) -> Coupon:
        """This code after ``trigger`` leaves it with ``uses`` uses (checked by the machine)."""
        trigger = validators.choice(trigger, "trigger", CouponTrigger)
        uses = validators.integer(uses, "uses", low=0)
        row = COUPON_MACHINE.fire(self.status, trigger, _Uses(uses, self.max_uses))
        return attrs.evolve(self, uses=uses, status=row.target)

    def voided(self, at: datetime, key: str) -> Coupon:
        """This code voided at ``at`` under ``key`` (IllegalTransitionError when already voided)."""
        row = COUPON_MACHINE.fire(self.status, CouponTrigger.VOID, _Uses(self.uses, self.max_uses))
        return attrs.evolve(self, status=row.target, voided_at=at, void_key=key)


@attrs.frozen(kw_only=True)
class CouponPool:
    """A definition's totals (an aggregate with the definition's id): codes issued, redemptions
    in force and the discount they gave (``None`` before the first)."""

    id: str = attrs.field(converter=_id_definition_id)
    issued: int = attrs.field(default=0, validator=_count)
    redemptions: int = attrs.field(default=0, validator=_count)
    discount_total: Money | None = attrs.field(default=None)
    version: int = attrs.field(default=0, validator=validators.version)

    @classmethod
    def new(cls, definition: CouponDefinition) -> CouponPool:
        """The empty pool of ``definition``."""
        return cls(id=_definition(definition).id)

    def remaining_budget(self, definition: CouponDefinition) -> Money | None:
        """What is left of the definition's budget (``None``: no budget)."""
        validators.instance_of(definition, CouponDefinition, "definition")
        if definition.budget is None:
            return None
        spent = self.discount_total
        return definition.budget if spent is None else definition.budget - spent


@attrs.frozen(kw_only=True)
class Redemption:
    """One use of a coupon on one order, and its reversal if the order was cancelled."""

    key: str = attrs.field(converter=_id_key)
    code: str = attrs.field(converter=_id_code)
    order_id: str = attrs.field(converter=_id_order_id)
    order_amount: Money
    discount: Money
    at: datetime = attrs.field(converter=_time_at)
    reversed_at: datetime | None = attrs.field(default=None, converter=_opt_time_reversed_at)
    reverse_key: str | None = attrs.field(default=None, converter=_opt_id_reverse_key)

    @property
    def in_force(self) -> bool:
        """Whether the redemption still counts (it was not reversed)."""
        return self.reversed_at is None


def _redemptions(value: object) -> tuple[Redemption, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ValidationError("redemptions", value, "must be a sequence of Redemption")
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, Redemption):
            raise ValidationError(f"redemptions[{i}]", item, "must be a Redemption")
    return items


def wallet_id(definition_id: str, customer_id: str) -> str:
    """The id of a customer's wallet for one definition: ``cw-`` and 40 hex digits of SHA-256.

    Examples:
        >>> wallet_id("spring", "c-1") == wallet_id("spring", "c-1") != wallet_id("spring", "c-2")
        True
    """
    definition = validate_id(definition_id, "definition_id")
    pair = f"{definition}\x1f{validate_id(customer_id, 'customer_id')}"
    return "cw-" + hashlib.sha256(pair.encode()).hexdigest()[:40]


@attrs.frozen(kw_only=True)
class CouponWallet:
    """A customer's redemptions of one definition (an aggregate, id
    [`wallet_id()`][crmcore.marketing.coupon_wallet.wallet_id])."""

    id: str = attrs.field(converter=_id_id)
    definition_id: str = attrs.field(converter=_id_definition_id)
    customer_id: str = attrs.field(converter=_id_customer_id)
    redemptions: tuple[Redemption, ...] = attrs.field(default=(), converter=_redemptions)
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        if self.id != wallet_id(self.definition_id, self.customer_id):
            raise ValidationError("id", self.id, "must be wallet_id(definition_id, customer_id)")
        keys = [r.key for r in self.redemptions]
        if len(set(keys)) != len(keys):
            raise ValidationError("redemptions", keys, "repeat a key")

    @classmethod
    def new(cls, definition: CouponDefinition, customer_id: str) -> CouponWallet:
        """The empty wallet of ``customer_id`` for ``definition``."""
        definition = _definition(definition)
        return cls(
            id=wallet_id(definition.id, customer_id),
            definition_id=definition.id,
            customer_id=customer_id,
        )

    @property
    def uses(self) -> int:
        """Redemptions in force."""
        return sum(1 for r in self.redemptions if r.in_force)

    def redemption(self, key: str) -> Redemption:
        """The redemption made under ``key``; NotFoundError otherwise.

        Raises:
            NotFoundError: no redemption was made under ``key``.
            ValidationError: ``key`` is not a text.
        """
        validators.instance_of(key, str, "key", "a redemption key")
        for item in self.redemptions:
            if item.key == key:
                return item
        raise NotFoundError("coupon redemption", key)

    def _replace(self, old: Redemption, new: Redemption) -> CouponWallet:
        items = tuple(new if r is old else r for r in self.redemptions)
        return attrs.evolve(self, redemptions=items)


def _definition(value: object) -> CouponDefinition:
    if not isinstance(value, CouponDefinition):
        raise ValidationError("definition", value, "must be a CouponDefinition")
    return value
