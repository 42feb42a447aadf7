"""Why a coupon is refused: one reason per rule, and the error that carries it.

A refused redemption (or issue) raises
[`CouponRefusedError`][crmcore.marketing.coupon_refusals.CouponRefusedError], whose ``reason`` is a
[`RefusalReason`][crmcore.marketing.coupon_refusals.RefusalReason]; a checkout branches on it
(``if error.reason is RefusalReason.BELOW_MINIMUM_ORDER: suggest adding an item``) rather than
parsing a message. ``detail`` says the facts (the minimum, the expiry, the limit) in words and
``code`` names the coupon.

The reasons are checked in a fixed order, so a coupon that is both expired and used up is refused
as expired, every time: voided, not yet valid, expired, not eligible (holder or target segment),
below the minimum order, not stackable, code used up, customer limit, total limit, budget.

Examples:
    >>> error = CouponRefusedError(RefusalReason.EXPIRED, "SPRING-7KQ2", "expired at 2026-05-31")
    >>> error.reason is RefusalReason.EXPIRED, str(error)
    (True, "coupon 'SPRING-7KQ2' refused (expired): expired at 2026-05-31")
"""

from __future__ import annotations

import enum
from typing import Any

from crmcore.kernel.errors import CrmError

__all__ = ["CouponRefusedError", "RefusalReason"]


class RefusalReason(enum.StrEnum):
    """Each reason a coupon can be refused."""

    VOIDED = "voided"
    """The code was voided."""
    NOT_YET_VALID = "not_yet_valid"
    """Before the definition's ``valid_from``."""
    EXPIRED = "expired"
    """At or after the definition's ``valid_to``."""
    NOT_ELIGIBLE = "not_eligible"
    """Another customer's coupon, a customer outside the target segment, or an order without
    the free item."""
    BELOW_MINIMUM_ORDER = "below_minimum_order"
    """The order is below the definition's minimum."""
    NOT_STACKABLE = "not_stackable"
    """The order carries other coupons and one of them, or this one, does not stack."""
    ALREADY_USED = "already_used"
    """The code has no use left (a single-use code that was used)."""
    CUSTOMER_LIMIT_REACHED = "customer_limit_reached"
    """The customer used this definition as often as allowed."""
    LIMIT_REACHED = "limit_reached"
    """The definition reached its total limit of redemptions (or of issued codes)."""
    BUDGET_EXHAUSTED = "budget_exhausted"
    """The discount would exceed what is left of the definition's budget."""


class CouponRefusedError(CrmError):
    """A coupon was refused: ``reason`` says which rule, ``detail`` the facts, ``code`` which code.

    ``reason`` is a [`RefusalReason`][crmcore.marketing.coupon_refusals.RefusalReason] (a string
    enum, so it also compares equal to its value, ``"expired"``).
    """

    def __init__(self, reason: RefusalReason | str, code: str, detail: str = "") -> None:
        self.reason = RefusalReason(reason)
        self.code = code
        self.detail = detail
        message = f"coupon {code!r} refused ({self.reason.value})"
        super().__init__(f"{message}: {detail}" if detail else message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self.code, self.detail))
