"""Kinds of stored things: how an adapter names, identifies and indexes them.

An [`AggregateKind`][crmcore.storage.kinds.AggregateKind] describes a type of versioned aggregate
(its name, class and unique keys) and a [`RecordKind`][crmcore.storage.kinds.RecordKind] a type of
append-only record owned by a customer. Both adapters store any kind generically, so new aggregate
types plug in by declaring a kind and asking the unit of work for its repository
([`repository()`][crmcore.storage.unit_of_work.BufferedUnitOfWork.repository]).

The kinds of the built-in aggregates and records are declared here too
(`CUSTOMERS`, `PURCHASES`, [`LOYALTY_ACCOUNTS`][crmcore.storage.kinds.LOYALTY_ACCOUNTS], ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import attrs

from crmcore.customers.customer import Customer
from crmcore.customers.records import Interaction, Purchase, ServiceRecord
from crmcore.feedback.cases import Case
from crmcore.feedback.feedback import Feedback
from crmcore.feedback.improvement import ImprovementAction
from crmcore.funnel.position import FunnelPosition
from crmcore.kernel.errors import ValidationError
from crmcore.lifecycle.record import Lifecycle
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.referrals import ReferralClaim, ReferralCode
from crmcore.loyalty.tiers import TierStatus

__all__ = [
    "CASES",
    "CUSTOMERS",
    "FEEDBACK",
    "FUNNEL_POSITIONS",
    "IMPROVEMENT_ACTIONS",
    "INTERACTIONS",
    "LIFECYCLES",
    "LOYALTY_ACCOUNTS",
    "PURCHASES",
    "REFERRAL_CLAIMS",
    "REFERRAL_CODES",
    "SERVICE_RECORDS",
    "TIER_STATUSES",
    "AggregateKind",
    "RecordKind",
    "account_key",
    "redact_feedback",
]

A = TypeVar("A")
R = TypeVar("R")


@attrs.frozen
class AggregateKind(Generic[A]):
    """A type of versioned aggregate: its name, class and unique keys.

    Aggregates have ``id: str`` and ``version: int`` attributes and are
    frozen attrs classes. ``unique_keys`` maps a key name to a function giving
    the aggregate's value for it (``None`` = no value, not indexed).
    """

    name: str
    cls: type[A]
    unique_keys: tuple[tuple[str, Callable[[A], str | None]], ...] = ()

    def id_of(self, aggregate: A) -> str:
        """The aggregate's id."""
        value: str = getattr(aggregate, "id")  # noqa: B009 - generic over attrs classes
        return value

    def version_of(self, aggregate: A) -> int:
        """The aggregate's version."""
        value: int = getattr(aggregate, "version")  # noqa: B009
        return value

    def with_version(self, aggregate: A, version: int) -> A:
        """A copy of the aggregate at ``version``.

        ``attrs.evolve`` by default. A class whose construction is costly (one
        that replays its history, like a ledger) may define a method
        ``with_version(version)`` returning the copy more cheaply; it is used instead.
        """
        own = getattr(type(aggregate), "with_version", None)
        if not callable(own):
            return attrs.evolve(aggregate, version=version)  # type: ignore[misc]
        copy: A = own(aggregate, version)
        if type(copy) is not type(aggregate) or self.version_of(copy) != version:
            raise ValidationError(
                f"{self.name}.with_version", copy, f"must return the aggregate at version {version}"
            )
        return copy

    def keys_of(self, aggregate: A) -> dict[str, str | None]:
        """The aggregate's unique-key values."""
        return {name: get(aggregate) for name, get in self.unique_keys}


@attrs.frozen
class RecordKind(Generic[R]):
    """A type of append-only record owned by a customer."""

    name: str
    cls: type[R]
    id_field: str
    redact: Callable[[R], R] | None = None

    def id_of(self, record: R) -> str:
        """The record's id."""
        value: str = getattr(record, self.id_field)
        return value


CUSTOMERS: AggregateKind[Customer] = AggregateKind(
    "customer", Customer, (("email", lambda c: c.contact.email),)
)
FUNNEL_POSITIONS: AggregateKind[FunnelPosition] = AggregateKind("funnel_position", FunnelPosition)
LIFECYCLES: AggregateKind[Lifecycle] = AggregateKind("lifecycle", Lifecycle)
PURCHASES: RecordKind[Purchase] = RecordKind("purchase", Purchase, "order_id")
INTERACTIONS: RecordKind[Interaction] = RecordKind(
    "interaction", Interaction, "id", Interaction.redacted
)
SERVICE_RECORDS: RecordKind[ServiceRecord] = RecordKind(
    "service_record", ServiceRecord, "id", ServiceRecord.redacted
)


def redact_feedback(feedback: Feedback) -> Feedback:
    """The feedback without its free text (erasure keeps channel, kind, scores, themes)."""
    return feedback if feedback.text == "" else attrs.evolve(feedback, text="")


def account_key(program_id: str, customer_id: str) -> str:
    """The unique-key value of a loyalty account: program and customer (ids hold no spaces)."""
    return f"{program_id} {customer_id}"


def _case_feedback(case: Case) -> str | None:
    return case.feedback_id


def _account_owner(account: LoyaltyAccount) -> str:
    return account_key(account.program_id, account.customer_id)


FEEDBACK: RecordKind[Feedback] = RecordKind("feedback", Feedback, "id", redact_feedback)
"""Customer feedback, append-only; erasure blanks the text."""
CASES: AggregateKind[Case] = AggregateKind("case", Case, (("feedback_id", _case_feedback),))
"""Closed-loop cases; at most one case per feedback (unique key ``feedback_id``)."""
IMPROVEMENT_ACTIONS: AggregateKind[ImprovementAction] = AggregateKind(
    "improvement_action", ImprovementAction
)
"""Improvement actions on feedback themes."""
LOYALTY_ACCOUNTS: AggregateKind[LoyaltyAccount] = AggregateKind(
    "loyalty_account", LoyaltyAccount, (("customer", _account_owner),)
)
"""Loyalty accounts (the ledger); one per program and customer (unique key ``customer``)."""
TIER_STATUSES: AggregateKind[TierStatus] = AggregateKind("loyalty_tier_status", TierStatus)
"""Loyalty tier statuses, by loyalty account id."""
REFERRAL_CODES: AggregateKind[ReferralCode] = AggregateKind("loyalty_referral_code", ReferralCode)
"""Referral codes, by the normalised code (unique across programs)."""
REFERRAL_CLAIMS: AggregateKind[ReferralClaim] = AggregateKind(
    "loyalty_referral_claim", ReferralClaim
)
"""Referral claims, by ``claim_id(program_id, referee)``: one per referee and program."""
