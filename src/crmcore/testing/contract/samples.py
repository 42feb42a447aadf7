"""The sample data the contract tests share: a start time, customers, records and programs.

Each helper builds a fresh value (``new_customer(1)`` is customer ``C0001``), so
that tests in any group, and the random-operations model, agree on ids.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from crmcore.customers import Contact, Customer, Purchase
from crmcore.feedback import Feedback
from crmcore.kernel.events import DomainEvent
from crmcore.kernel.money import Money
from crmcore.loyalty import (
    ExpiryPolicy,
    LoyaltyAccount,
    LoyaltyProgram,
    ReferralProgram,
    Tier,
    TierPolicy,
)

__all__ = ["PROGRAM", "REFERRALS", "T0", "TIERS", "new_customer"]

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
"""The time every sample starts at."""


class _BoomError(Exception):
    """Raised inside units of work to test rollback."""


def new_customer(n: int, *, email: str | None = "default", at: datetime = T0) -> Customer:
    """A customer ``C<n>`` registered at ``at`` (e-mail ``c<n>@example.com`` by default)."""
    address = f"c{n}@example.com" if email == "default" else email
    return Customer.register(f"C{n:04d}", f"Customer {n}", at, contact=Contact(email=address)).value


def _registered(n: int) -> tuple[Customer, tuple[DomainEvent, ...]]:
    outcome = Customer.register(f"C{n:04d}", f"Customer {n}", T0)
    return outcome.value, outcome.events


def _purchase(order: str, customer: str, days: int = 0, amount: str = "10.00") -> Purchase:
    return Purchase(order, customer, T0 + timedelta(days=days), Money(amount, "EUR"))


def _feedback(
    n: int, customer: str = "C0001", *, text: str = "", days: int = 0, **fields: object
) -> Feedback:
    return Feedback(
        id=f"F{n}",
        customer_id=customer,
        channel=fields.pop("channel", "email"),
        kind=fields.pop("kind", "complaint"),
        text=text,
        at=T0 + timedelta(days=days),
        **fields,  # type: ignore[arg-type]
    )


PROGRAM = LoyaltyProgram(
    id="P",
    currency="EUR",
    point_value=Money("0.01", "EUR"),
    actions={"referral": 100},
    expiry=ExpiryPolicy.months_after(12),
)
"""The loyalty program of the contract tests: 1 point per EUR, points expire after 12 months."""
TIERS = TierPolicy(
    name="status",
    currency="EUR",
    tiers=(Tier("base"), Tier("gold", min_points=50, multiplier=Decimal(2))),
)
REFERRALS = ReferralProgram(
    id="friends", referrer_points=100, referee_points=50, minimum_purchase=Money("20", "EUR")
)
"""The referral program of the contract tests."""


def _account(n: int, *, program_id: str = "P") -> LoyaltyAccount:
    return LoyaltyAccount(id=f"{program_id}-A{n}", customer_id=f"C{n:04d}", program_id=program_id)


def _earned(account: LoyaltyAccount, order: str, amount: str, days: int = 0) -> LoyaltyAccount:
    sale = _purchase(order, account.customer_id, days, amount)
    return account.earn(PROGRAM, sale, key=f"earn-{order}").value
