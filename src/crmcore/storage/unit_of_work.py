"""The buffered unit of work and the repositories it hands out.

[`BufferedUnitOfWork`][crmcore.storage.unit_of_work.BufferedUnitOfWork] turns a
[`Backend`][crmcore.storage.backend.Backend] into the [`UnitOfWork`][crmcore.ports.UnitOfWork] port:
writes are checked early (so a stale save fails at ``save``), buffered, and applied at commit in one
transaction ([`apply()`][crmcore.storage.backend.Backend.apply]), so an exception anywhere leaves
storage untouched. Both shipped adapters use it.

An aggregate read in a unit of work is remembered: saving it checks its
version and unique keys against that copy instead of reading (and decoding)
it again. A change committed by someone else after the read is still caught,
by [`apply()`][crmcore.storage.backend.Backend.apply] at commit.

Any [`AggregateKind`][crmcore.storage.kinds.AggregateKind] gets a generic repository
([`BufferedUnitOfWork.repository()`][crmcore.storage.unit_of_work.BufferedUnitOfWork.repository]),
any [`RecordKind`][crmcore.storage.kinds.RecordKind] a record repository
([`BufferedUnitOfWork.records()`][crmcore.storage.unit_of_work.BufferedUnitOfWork.records]): both
live in [`crmcore.storage.repositories`][crmcore.storage.repositories]. The repositories of the
sales and marketing areas, with their lookups, are in
[`crmcore.storage.sales_repositories`][crmcore.storage.sales_repositories] and
[`crmcore.storage.marketing_repositories`][crmcore.storage.marketing_repositories].
"""

from __future__ import annotations

import builtins
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar

from crmcore.customers.contact import normalize_email, normalize_phone
from crmcore.customers.customer import Customer
from crmcore.customers.records import Interaction, Purchase, ServiceRecord
from crmcore.feedback.cases import Case
from crmcore.feedback.feedback import Feedback
from crmcore.feedback.improvement import ImprovementAction
from crmcore.funnel.position import FunnelPosition
from crmcore.kernel.errors import (
    IllegalTransitionError,
    NotFoundError,
    ValidationError,
)
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.lifecycle.record import Lifecycle
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.referrals import ReferralClaim, ReferralCode
from crmcore.loyalty.tiers import TierStatus
from crmcore.marketing.campaigns import Campaign
from crmcore.marketing.coupon_wallet import CouponPool
from crmcore.marketing.coupons import CouponDefinition
from crmcore.storage.backend import AggregateWrite, Backend, ChangeSet, RecordWrite
from crmcore.storage.kinds import (
    CAMPAIGNS,
    CASES,
    CONTACT_HISTORIES,
    COUPON_DEFINITIONS,
    COUPON_POOLS,
    COUPON_WALLETS,
    COUPONS,
    CUSTOMERS,
    ENROLMENTS,
    FEEDBACK,
    FUNNEL_POSITIONS,
    IMPROVEMENT_ACTIONS,
    INTERACTIONS,
    LEADS,
    LIFECYCLES,
    LOYALTY_ACCOUNTS,
    OPPORTUNITIES,
    PURCHASES,
    REFERRAL_CLAIMS,
    REFERRAL_CODES,
    SALES_ACCOUNTS,
    SERVICE_RECORDS,
    TIER_STATUSES,
    AggregateKind,
    RecordKind,
    account_key,
)
from crmcore.storage.marketing_repositories import (
    BufferedContactHistoryRepository,
    BufferedCouponRepository,
    BufferedCouponWalletRepository,
    BufferedEnrolmentRepository,
    BufferedSendCountsRepository,
    BufferedWorkflowRepository,
)
from crmcore.storage.repositories import BufferedRecordRepository, BufferedRepository
from crmcore.storage.sales_repositories import (
    BufferedAccountRepository,
    BufferedLeadRepository,
    BufferedOpportunityRepository,
    BufferedPipelineRepository,
    BufferedRelationshipRepository,
)

if TYPE_CHECKING:
    from crmcore.columnar.frame import CustomerFrame, EventLog, TransactionLog

__all__ = ["BufferedUnitOfWork"]

A = TypeVar("A")
R = TypeVar("R")
T = TypeVar("T")


class _CustomerRepository(BufferedRepository[Customer]):
    def find_by_email(self, email: str) -> Customer | None:
        self._uow._require_open()
        return self._find_by_key("email", normalize_email(email))

    def get_by_email(self, email: str) -> Customer:
        found = self.find_by_email(email)
        if found is None:
            raise NotFoundError("customer", email)
        return found

    def with_phone(self, phone: str) -> tuple[Customer, ...]:
        return self._indexed("phone", (normalize_phone(phone),))

    def to_frame(self) -> CustomerFrame:
        self._uow._require_open()
        return self._uow._backend.customer_frame()


class _CaseRepository(BufferedRepository[Case]):
    def find_by_feedback(self, feedback_id: str) -> Case | None:
        self._uow._require_open()
        return self._find_by_key("feedback_id", feedback_id)


class _LoyaltyAccountRepository(BufferedRepository[LoyaltyAccount]):
    def find_for_customer(self, program_id: str, customer_id: str) -> LoyaltyAccount | None:
        self._uow._require_open()
        return self._find_by_key("customer", account_key(program_id, customer_id))

    def get_for_customer(self, program_id: str, customer_id: str) -> LoyaltyAccount:
        found = self.find_for_customer(program_id, customer_id)
        if found is None:
            raise NotFoundError("loyalty_account", account_key(program_id, customer_id))
        return found


class _PurchaseRepository(BufferedRecordRepository[Purchase]):
    def to_log(self) -> TransactionLog:
        self._uow._require_open()
        return self._uow._backend.transaction_log()


class _InteractionRepository(BufferedRecordRepository[Interaction]):
    def to_log(self) -> EventLog:
        self._uow._require_open()
        return self._uow._backend.event_log()


State = Literal["open", "closed"]


class BufferedUnitOfWork:
    """A [`UnitOfWork`][crmcore.ports.UnitOfWork] that buffers writes and applies them at commit."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._aggregates: dict[tuple[str, str], AggregateWrite] = {}
        self._pending_keys: dict[tuple[str, str, str], str] = {}  # (kind, key, value) -> id
        # (kind, index) -> value -> ids of the pending aggregates holding it
        self._pending_index: dict[tuple[str, str], dict[str, set[str]]] = {}
        self._records: dict[tuple[str, str], RecordWrite] = {}
        self._loaded: dict[tuple[str, str], Any] = {}  # (kind, id) -> as read from the backend
        self._events: builtins.list[DomainEvent] = []
        self._state: State = "open"
        self._customers = _CustomerRepository(self, CUSTOMERS)
        self._purchases = _PurchaseRepository(self, PURCHASES)
        self._interactions = _InteractionRepository(self, INTERACTIONS)
        self._service_records = BufferedRecordRepository(self, SERVICE_RECORDS)
        self._funnel_positions = BufferedRepository(self, FUNNEL_POSITIONS)
        self._lifecycles = BufferedRepository(self, LIFECYCLES)
        self._feedback = BufferedRecordRepository(self, FEEDBACK)
        self._cases = _CaseRepository(self, CASES)
        self._improvement_actions = BufferedRepository(self, IMPROVEMENT_ACTIONS)
        self._loyalty_accounts = _LoyaltyAccountRepository(self, LOYALTY_ACCOUNTS)
        self._tier_statuses = BufferedRepository(self, TIER_STATUSES)
        self._referral_codes = BufferedRepository(self, REFERRAL_CODES)
        self._referral_claims = BufferedRepository(self, REFERRAL_CLAIMS)
        self._leads = BufferedLeadRepository(self, LEADS)
        self._opportunities = BufferedOpportunityRepository(self, OPPORTUNITIES)
        self._accounts = BufferedAccountRepository(self, SALES_ACCOUNTS)
        self._relationships = BufferedRelationshipRepository(self)
        self._pipelines = BufferedPipelineRepository(self)
        self._workflows = BufferedWorkflowRepository(self)
        self._enrolments = BufferedEnrolmentRepository(self, ENROLMENTS)
        self._contact_histories = BufferedContactHistoryRepository(self, CONTACT_HISTORIES)
        self._send_counts = BufferedSendCountsRepository(self)
        self._campaigns = BufferedRepository(self, CAMPAIGNS)
        self._coupon_definitions = BufferedRepository(self, COUPON_DEFINITIONS)
        self._coupon_pools = BufferedRepository(self, COUPON_POOLS)
        self._coupons = BufferedCouponRepository(self, COUPONS)
        self._coupon_wallets = BufferedCouponWalletRepository(self, COUPON_WALLETS)

    @property
    def customers(self) -> _CustomerRepository:
        """The customers."""
        return self._customers

    @property
    def purchases(self) -> _PurchaseRepository:
        """The purchases."""
        return self._purchases

    @property
    def interactions(self) -> _InteractionRepository:
        """The touchpoint interactions."""
        return self._interactions

    @property
    def service_records(self) -> BufferedRecordRepository[ServiceRecord]:
        """The service records."""
        return self._service_records

    @property
    def funnel_positions(self) -> BufferedRepository[FunnelPosition]:
        """Customers' funnel positions, stored by customer id."""
        return self._funnel_positions

    @property
    def lifecycles(self) -> BufferedRepository[Lifecycle]:
        """Customers' lifecycle records, stored by customer id."""
        return self._lifecycles

    @property
    def feedback(self) -> BufferedRecordRepository[Feedback]:
        """Customer feedback: append-only records; erasure blanks their text."""
        return self._feedback

    @property
    def cases(self) -> _CaseRepository:
        """Closed-loop feedback cases, stored by case id (unique by feedback id)."""
        return self._cases

    @property
    def improvement_actions(self) -> BufferedRepository[ImprovementAction]:
        """Improvement actions on feedback themes, stored by action id."""
        return self._improvement_actions

    @property
    def loyalty_accounts(self) -> _LoyaltyAccountRepository:
        """Loyalty points accounts (ledgers), by account id; one per program and customer."""
        return self._loyalty_accounts

    @property
    def tier_statuses(self) -> BufferedRepository[TierStatus]:
        """Loyalty tier statuses, stored by loyalty account id."""
        return self._tier_statuses

    @property
    def referral_codes(self) -> BufferedRepository[ReferralCode]:
        """Referral codes, by the normalised code."""
        return self._referral_codes

    @property
    def referral_claims(self) -> BufferedRepository[ReferralClaim]:
        """Referral claims, by ``claim_id(program_id, referee)``."""
        return self._referral_claims

    # -- sales -------------------------------------------------------------------------------------
    @property
    def leads(self) -> BufferedLeadRepository:
        """Sales leads (indexed by e-mail, phone, customer, owner and status)."""
        return self._leads

    @property
    def opportunities(self) -> BufferedOpportunityRepository:
        """Sales opportunities (one per lead; indexed by account, customer, owner, pipeline)."""
        return self._opportunities

    @property
    def accounts(self) -> BufferedAccountRepository:
        """Sales accounts: companies and households (indexed by parent and contact)."""
        return self._accounts

    @property
    def relationships(self) -> BufferedRelationshipRepository:
        """The edges of the customer relationship graph."""
        return self._relationships

    @property
    def pipelines(self) -> BufferedPipelineRepository:
        """Sales pipelines, by id."""
        return self._pipelines

    # -- marketing ---------------------------------------------------------------------------------
    @property
    def workflows(self) -> BufferedWorkflowRepository:
        """Marketing workflow definitions, every version."""
        return self._workflows

    @property
    def enrolments(self) -> BufferedEnrolmentRepository:
        """Workflow enrolments (by customer, by workflow, due by wake time)."""
        return self._enrolments

    @property
    def contact_histories(self) -> BufferedContactHistoryRepository:
        """Customers' recent messages, by customer id."""
        return self._contact_histories

    @property
    def send_counts(self) -> BufferedSendCountsRepository:
        """The automation's global send counts."""
        return self._send_counts

    @property
    def campaigns(self) -> BufferedRepository[Campaign]:
        """Marketing campaigns, by id."""
        return self._campaigns

    @property
    def coupon_definitions(self) -> BufferedRepository[CouponDefinition]:
        """Coupon definitions (the rules of an offer), by id."""
        return self._coupon_definitions

    @property
    def coupon_pools(self) -> BufferedRepository[CouponPool]:
        """Coupon pools (issued, redeemed, budget used), by definition id."""
        return self._coupon_pools

    @property
    def coupons(self) -> BufferedCouponRepository:
        """Coupons, by code (indexed by definition and holder)."""
        return self._coupons

    @property
    def coupon_wallets(self) -> BufferedCouponWalletRepository:
        """Customers' coupon wallets, one per customer and definition."""
        return self._coupon_wallets

    # -- any kind ----------------------------------------------------------------------------------
    def repository(self, kind: AggregateKind[A]) -> BufferedRepository[A]:
        """A repository for any [`AggregateKind`][crmcore.storage.unit_of_work.AggregateKind] (how
        later modules plug in)."""
        return BufferedRepository(self, kind)

    def records(self, kind: RecordKind[R]) -> BufferedRecordRepository[R]:
        """A repository for any [`RecordKind`][crmcore.storage.unit_of_work.RecordKind]."""
        return BufferedRecordRepository(self, kind)

    def _require_open(self) -> None:
        if self._state != "open":
            raise IllegalTransitionError(
                "closed", "use", "this unit of work has ended; open a new one"
            )

    def collect(self, *events: DomainEvent) -> None:
        """Queue events for the outbox; they are written in the commit's transaction."""
        self._require_open()
        for i, event in enumerate(events):
            if not isinstance(event, DomainEvent):
                raise ValidationError(f"events[{i}]", event, "must be a DomainEvent")
        self._events.extend(events)

    def take(self, outcome: Outcome[T]) -> T:
        """Collect the outcome's events and return its value."""
        if not isinstance(outcome, Outcome):
            raise ValidationError("outcome", outcome, "must be an Outcome")
        self.collect(*outcome.events)
        return outcome.value

    def commit(self) -> None:
        """Apply every pending write and event in one transaction."""
        self._require_open()
        changes = ChangeSet(
            tuple(self._aggregates.values()), tuple(self._records.values()), tuple(self._events)
        )
        self._clear()
        if changes:
            self._backend.apply(changes)

    def rollback(self) -> None:
        """Discard every pending write and event."""
        self._clear()

    def _clear(self) -> None:
        self._loaded.clear()
        self._aggregates.clear()
        self._pending_keys.clear()
        self._pending_index.clear()
        self._records.clear()
        self._events.clear()

    def __enter__(self) -> Self:
        self._require_open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.commit()
            else:
                self.rollback()
        finally:
            self._clear()
            self._state = "closed"
