"""Storage ports: the repository and unit-of-work interfaces the rest of crmcore uses.

These are `typing.Protocol` classes: an adapter satisfies them by
shape, not by inheritance. crmcore ships three adapters,
[`crmcore.storage.memory`][crmcore.storage.memory],
[`crmcore.storage.sqlite`][crmcore.storage.sqlite] and
[`crmcore.storage.postgres`][crmcore.storage.postgres], and a contract test-kit,
[`crmcore.testing.contract`][crmcore.testing.contract], that any adapter must pass. The
repositories of the sales and marketing areas are declared beside this module, in
[`crmcore.sales_ports`][crmcore.sales_ports] and
[`crmcore.marketing_ports`][crmcore.marketing_ports].

Semantics every adapter honours:

* **Aggregates are versioned.** ``add`` stores a new aggregate (its
  ``version`` must be 0) and returns it at version 1; ``save`` stores a
  changed aggregate whose ``version`` is the one it was loaded at, and
  returns it at the next version. A save based on a stale version raises
  [`ConcurrencyConflictError`][crmcore.kernel.errors.ConcurrencyConflictError], at ``save`` when the
  store already shows it, and at commit at the latest.
* **A unit of work is all or nothing.** Writes are buffered and applied in
  one transaction when the ``with`` block ends without an exception; an
  exception (or [`UnitOfWork.rollback()`][crmcore.ports.UnitOfWork.rollback]) discards them. Domain
  events handed to [`UnitOfWork.collect()`][crmcore.ports.UnitOfWork.collect] are written to the
  outbox in that same transaction.
* **Reads inside a unit of work see its own pending writes** for lookups by
  id, unique key or index (``get``, ``find``, ``find_by_email``, ``with_email``,
  ``for_customers``, ``due``, ...); bulk queries (``list``, ``count``, records'
  ``for_customer``, ``to_frame``, ``to_log``) read committed data.
* **Lookups are indexed**: every lookup a repository offers (leads by e-mail,
  enrolments due, coupons of a holder, ...) reads an index, never a scan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Generic, Protocol, Self, TypeVar

import attrs

from crmcore.customers.customer import Customer
from crmcore.customers.records import Interaction, Purchase, ServiceRecord
from crmcore.feedback.cases import Case
from crmcore.feedback.feedback import Feedback
from crmcore.feedback.improvement import ImprovementAction
from crmcore.funnel.position import FunnelPosition
from crmcore.kernel.codec import JSON
from crmcore.kernel.events import DomainEvent, Outcome, event_from_json
from crmcore.lifecycle.record import Lifecycle
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.referrals import ReferralClaim, ReferralCode
from crmcore.loyalty.tiers import TierStatus

if TYPE_CHECKING:
    from crmcore.columnar import CustomerFrame, EventLog, TransactionLog
    from crmcore.marketing.campaigns import Campaign
    from crmcore.marketing.coupon_wallet import CouponPool
    from crmcore.marketing.coupons import CouponDefinition
    from crmcore.marketing_ports import (
        ContactHistoryRepository,
        CouponRepository,
        CouponWalletRepository,
        EnrolmentRepository,
        SendCountsRepository,
        WorkflowRepository,
    )
    from crmcore.sales_ports import (
        AccountRepository,
        LeadRepository,
        OpportunityRepository,
        PipelineRepository,
        RelationshipRepository,
    )

__all__ = [
    "AggregateRepository",
    "CaseRepository",
    "CustomerRepository",
    "InteractionRepository",
    "LoyaltyAccountRepository",
    "Outbox",
    "OutboxMessage",
    "Page",
    "PurchaseRepository",
    "RecordRepository",
    "Store",
    "UnitOfWork",
]

T = TypeVar("T")
A = TypeVar("A")
R = TypeVar("R")


@attrs.frozen
class Page(Generic[T]):
    """One page of a listing, ordered by id. Pass ``next_after`` as ``after`` for the next."""

    items: tuple[T, ...]
    next_after: str | None


class AggregateRepository(Protocol[A]):
    """Versioned aggregates stored by id."""

    def add(self, aggregate: A) -> A:
        """Store a new aggregate (version 0); return it at version 1.

        Raises [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError] for a taken id or
        unique key.
        """
        ...

    def save(self, aggregate: A) -> A:
        """Store a changed aggregate loaded at its ``version``; return it at the next version."""
        ...

    def get(self, id: str) -> A:
        """The aggregate stored under ``id``; `NotFoundError` otherwise."""
        ...

    def find(self, id: str) -> A | None:
        """The aggregate stored under ``id``, or ``None``."""
        ...

    def find_many(self, ids: Iterable[str]) -> tuple[A, ...]:
        """The aggregates stored under any of ``ids``, in id order (ids with nothing stored are
        left out): one read for many ids."""
        ...

    def list(self, *, limit: int = 100, after: str | None = None) -> Page[A]:
        """Up to ``limit`` aggregates with ids greater than ``after``, in id order."""
        ...

    def count(self) -> int:
        """How many aggregates are stored."""
        ...


class CustomerRepository(AggregateRepository[Customer], Protocol):
    """Customers, with the lookups a CRM needs."""

    def find_by_email(self, email: str) -> Customer | None:
        """The customer with this e-mail address (compared normalised), or ``None``."""
        ...

    def get_by_email(self, email: str) -> Customer:
        """The customer with this e-mail address; [`NotFoundError`][crmcore.NotFoundError]
        otherwise."""
        ...

    def with_phone(self, phone: str) -> tuple[Customer, ...]:
        """The customers with this phone number (compared in E.164 form), in id order."""
        ...

    def to_frame(self) -> CustomerFrame:
        """Every stored customer as a [`CustomerFrame`][crmcore.columnar.frame.CustomerFrame], id
        order."""
        ...


class RecordRepository(Protocol[R]):
    """Append-only records (purchases, interactions, service records) keyed by id."""

    def add(self, record: R) -> None:
        """Append a record; `AlreadyExistsError` if its id is taken."""
        ...

    def get(self, id: str) -> R:
        """The record with ``id``;
        [`NotFoundError`][crmcore.kernel.errors.NotFoundError] otherwise.
        """
        ...

    def find(self, id: str) -> R | None:
        """The record with ``id``, or ``None``."""
        ...

    def for_customer(self, customer_id: str) -> tuple[R, ...]:
        """A customer's records in time order (ties by id)."""
        ...

    def count(self) -> int:
        """How many records are stored."""
        ...

    def redact(self, customer_id: str) -> int:
        """Remove the free text of a customer's records (erasure); return how many changed."""
        ...


class PurchaseRepository(RecordRepository[Purchase], Protocol):
    """Purchases, and the transaction log analytics read."""

    def to_log(self) -> TransactionLog:
        """Every stored purchase as a [`TransactionLog`][crmcore.columnar.frame.TransactionLog]."""
        ...


class InteractionRepository(RecordRepository[Interaction], Protocol):
    """Touchpoint interactions, and the event log analytics read."""

    def to_log(self) -> EventLog:
        """Every stored interaction as an [`EventLog`][crmcore.columnar.frame.EventLog]."""
        ...


class CaseRepository(AggregateRepository[Case], Protocol):
    """Closed-loop feedback cases, with the lookup by the feedback that opened them."""

    def find_by_feedback(self, feedback_id: str) -> Case | None:
        """The case opened for the feedback ``feedback_id`` (at most one), or ``None``."""
        ...


class LoyaltyAccountRepository(AggregateRepository[LoyaltyAccount], Protocol):
    """Loyalty points accounts, with the lookup by program and customer (one account each)."""

    def find_for_customer(self, program_id: str, customer_id: str) -> LoyaltyAccount | None:
        """The customer's account in the program ``program_id``, or ``None``."""
        ...

    def get_for_customer(self, program_id: str, customer_id: str) -> LoyaltyAccount:
        """The customer's account in ``program_id``; [`NotFoundError`][crmcore.NotFoundError]
        otherwise."""
        ...


class UnitOfWork(Protocol):
    """One atomic piece of work: repositories plus commit-or-nothing.

    Examples:
        >>> from crmcore.storage.memory import MemoryStore
        >>> from datetime import datetime, UTC
        >>> store = MemoryStore()
        >>> with store.unit_of_work() as uow:
        ...     outcome = Customer.register("c-1", "Ann", datetime(2024, 1, 1, tzinfo=UTC))
        ...     _ = uow.customers.add(outcome.value)
        ...     uow.collect(*outcome.events)
        >>> with store.unit_of_work() as uow:
        ...     uow.customers.get("c-1").version
        1
    """

    @property
    def customers(self) -> CustomerRepository:
        """The customers."""
        ...

    @property
    def purchases(self) -> PurchaseRepository:
        """The purchases."""
        ...

    @property
    def interactions(self) -> InteractionRepository:
        """The touchpoint interactions."""
        ...

    @property
    def service_records(self) -> RecordRepository[ServiceRecord]:
        """The service records."""
        ...

    @property
    def funnel_positions(self) -> AggregateRepository[FunnelPosition]:
        """Customers' funnel positions, stored by customer id."""
        ...

    @property
    def lifecycles(self) -> AggregateRepository[Lifecycle]:
        """Customers' lifecycle records, stored by customer id."""
        ...

    @property
    def feedback(self) -> RecordRepository[Feedback]:
        """Customer feedback: append-only records; erasure blanks their text."""
        ...

    @property
    def cases(self) -> CaseRepository:
        """Closed-loop feedback cases, stored by case id (unique by feedback id)."""
        ...

    @property
    def improvement_actions(self) -> AggregateRepository[ImprovementAction]:
        """Improvement actions on feedback themes, stored by action id."""
        ...

    @property
    def loyalty_accounts(self) -> LoyaltyAccountRepository:
        """Loyalty points accounts (ledgers), by account id; one per program and customer."""
        ...

    @property
    def tier_statuses(self) -> AggregateRepository[TierStatus]:
        """Loyalty tier statuses, stored by loyalty account id."""
        ...

    @property
    def referral_codes(self) -> AggregateRepository[ReferralCode]:
        """Referral codes, by the normalised code."""
        ...

    @property
    def referral_claims(self) -> AggregateRepository[ReferralClaim]:
        """Referral claims, by ``claim_id(program_id, referee)``."""
        ...

    @property
    def leads(self) -> LeadRepository:
        """Sales leads."""
        ...

    @property
    def opportunities(self) -> OpportunityRepository:
        """Sales opportunities."""
        ...

    @property
    def accounts(self) -> AccountRepository:
        """Sales accounts: companies and households."""
        ...

    @property
    def relationships(self) -> RelationshipRepository:
        """The edges of the customer relationship graph."""
        ...

    @property
    def pipelines(self) -> PipelineRepository:
        """Sales pipelines."""
        ...

    @property
    def workflows(self) -> WorkflowRepository:
        """Marketing workflow definitions, every version."""
        ...

    @property
    def enrolments(self) -> EnrolmentRepository:
        """Workflow enrolments."""
        ...

    @property
    def contact_histories(self) -> ContactHistoryRepository:
        """Customers' recent messages, by customer id."""
        ...

    @property
    def send_counts(self) -> SendCountsRepository:
        """The automation's global send counts."""
        ...

    @property
    def campaigns(self) -> AggregateRepository[Campaign]:
        """Marketing campaigns."""
        ...

    @property
    def coupon_definitions(self) -> AggregateRepository[CouponDefinition]:
        """Coupon definitions (the rules of an offer)."""
        ...

    @property
    def coupon_pools(self) -> AggregateRepository[CouponPool]:
        """Coupon pools, by definition id."""
        ...

    @property
    def coupons(self) -> CouponRepository:
        """Coupons, by code."""
        ...

    @property
    def coupon_wallets(self) -> CouponWalletRepository:
        """Customers' coupon wallets."""
        ...

    def collect(self, *events: DomainEvent) -> None:
        """Queue events for the outbox; written in the commit's transaction."""
        ...

    def take(self, outcome: Outcome[T]) -> T:
        """Collect ``outcome.events`` and return ``outcome.value``."""
        ...

    def commit(self) -> None:
        """Apply every pending write and event atomically. Also done on a clean exit."""
        ...

    def rollback(self) -> None:
        """Discard every pending write and event. Also done on an exception."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@attrs.frozen
class OutboxMessage:
    """A domain event as stored in the outbox.

    ``position`` is its place in the outbox's total order (strictly
    increasing with commit order); ``message_id`` is a unique id a consumer
    can use to drop duplicates.
    """

    position: int
    message_id: str
    kind: str
    aggregate_id: str
    occurred_at: datetime
    payload: dict[str, JSON]

    @property
    def event(self) -> DomainEvent:
        """The event, rebuilt as its domain class."""
        return event_from_json(self.kind, self.payload)


class Outbox(Protocol):
    """Committed domain events waiting to be handed to the host application.

    The relay contract: [`pending()`][crmcore.ports.Outbox.pending] returns unpublished messages in
    position order; after a message has been handed on,
    [`mark_published()`][crmcore.ports.Outbox.mark_published] removes it from ``pending``. A crash
    between the two hands the message on again, so consumers drop duplicates by ``message_id``:
    together this is effectively-once delivery.
    """

    def pending(self, limit: int = 100) -> list[OutboxMessage]:
        """Up to ``limit`` unpublished messages, oldest first."""
        ...

    def mark_published(self, positions: Iterable[int]) -> None:
        """Mark messages published (idempotent)."""
        ...

    def relay(self, handler: Callable[[OutboxMessage], None], *, limit: int = 100) -> int:
        """Hand up to ``limit`` pending messages to ``handler`` in order.

        Stops at the first exception, which propagates; that message and the
        ones after it stay pending. The messages handed on are marked
        published when the call ends. Returns how many were handed on.
        """
        ...


class Store(Protocol):
    """A storage back end: opens units of work and exposes the outbox."""

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work (use it as a context manager)."""
        ...

    @property
    def outbox(self) -> Outbox:
        """The transactional outbox."""
        ...

    def close(self) -> None:
        """Release resources (connections, files)."""
        ...

    def scrub(self) -> None:
        """Remove the copies of overwritten and deleted data the back end keeps outside its live
        rows (write-ahead logs, free pages, dead row versions), so erased personal data is gone
        from disk. [`erase_customer`][crmcore.services.customers.erase_customer] calls it after
        committing an erasure. A no-op for a back end that keeps no such copies.
        """
        ...
