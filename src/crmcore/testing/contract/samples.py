"""The sample data the contract tests share: a start time, customers, records and programs.

Each helper builds a fresh value (``new_customer(1)`` is customer ``C0001``, ``_lead(1)`` lead
``L0001``), so that tests in any group, and the random-operations model, agree on ids.
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
from crmcore.marketing.coupons import CouponDefinition, Discount
from crmcore.marketing.enrolment_machine import WaitReason
from crmcore.marketing.enrolments import Enrolment
from crmcore.marketing.steps import SendMessage, Wait
from crmcore.marketing.triggers import EventTrigger
from crmcore.marketing.workflows import Workflow
from crmcore.sales.leads import Lead
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.pipeline import DEFAULT_PIPELINE

__all__ = ["COUPONS", "PIPELINE", "PROGRAM", "REFERRALS", "T0", "TIERS", "new_customer"]

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


# -- sales -----------------------------------------------------------------------------------------

PIPELINE = DEFAULT_PIPELINE
"""The pipeline of the contract tests (stored under ``"sales"``)."""


def _lead(
    n: int,
    *,
    email: str | None = "default",
    phone: str | None = None,
    owner: str | None = "rep-1",
    customer: str | None = None,
    at: datetime = T0,
) -> Lead:
    address = f"lead{n}@example.com" if email == "default" else email
    return Lead.create(
        f"L{n:04d}",
        at,
        source="web_form",
        name=f"Lead {n}",
        contact=Contact(email=address, phone=phone),
        customer_id=customer,
        owner=owner,
        notes=f"met lead {n} at the fair",
    ).value


def _opportunity(
    n: int,
    *,
    lead: str | None = None,
    account: str | None = None,
    customer: str | None = None,
    owner: str = "rep-1",
    amount: str = "1000",
) -> Opportunity:
    return Opportunity.open(
        f"OP{n:04d}",
        PIPELINE,
        owner=owner,
        close_date=(T0 + timedelta(days=30)).date(),
        at=T0,
        amount=Money(amount, "EUR"),
        lead_id=lead,
        account_id=account,
        customer_id=customer,
    ).value


# -- marketing -------------------------------------------------------------------------------------


def _workflow(version: int = 1, *, pause: timedelta = timedelta(hours=1)) -> Workflow:
    return Workflow(
        id="welcome",
        version=version,
        name=f"Welcome v{version}",
        trigger=EventTrigger("customer.registered"),
        steps=[
            Wait("pause", pause),
            SendMessage("hello", channel="email", template=f"welcome-{version}"),
        ],
    )


def _waiting(customer: str, wait: timedelta, *, at: datetime = T0) -> Enrolment:
    """An enrolment of ``customer`` in the welcome workflow, waiting until ``at + wait``."""
    started = Enrolment.start(_workflow(), customer, at).value
    return started.wait(at, at + wait, WaitReason.DELAY).value


COUPONS = CouponDefinition(
    id="spring",
    discount=Discount.fixed(Money("5", "EUR")),
    valid_from=T0,
    per_customer_limit=1,
    budget=Money("10", "EUR"),
)
"""The coupon definition of the contract tests: 5 EUR off, once per customer, 10 EUR budget."""
