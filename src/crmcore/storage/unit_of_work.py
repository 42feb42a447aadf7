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
([`BufferedUnitOfWork.records()`][crmcore.storage.unit_of_work.BufferedUnitOfWork.records]).
"""

from __future__ import annotations

import builtins
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, TypeVar

from crmcore.customers.contact import normalize_email
from crmcore.customers.customer import Customer
from crmcore.customers.records import Interaction, Purchase, ServiceRecord
from crmcore.feedback.cases import Case
from crmcore.feedback.feedback import Feedback
from crmcore.feedback.improvement import ImprovementAction
from crmcore.funnel.position import FunnelPosition
from crmcore.kernel.errors import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    IllegalTransitionError,
    NotFoundError,
    ValidationError,
)
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.lifecycle.record import Lifecycle
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.referrals import ReferralClaim, ReferralCode
from crmcore.loyalty.tiers import TierStatus
from crmcore.ports import Page
from crmcore.storage.backend import (
    AggregateWrite,
    Backend,
    ChangeSet,
    RecordWrite,
    check_limit,
    sort_records,
)
from crmcore.storage.kinds import (
    CASES,
    CUSTOMERS,
    FEEDBACK,
    FUNNEL_POSITIONS,
    IMPROVEMENT_ACTIONS,
    INTERACTIONS,
    LIFECYCLES,
    LOYALTY_ACCOUNTS,
    PURCHASES,
    REFERRAL_CLAIMS,
    REFERRAL_CODES,
    SERVICE_RECORDS,
    TIER_STATUSES,
    AggregateKind,
    RecordKind,
    account_key,
)

if TYPE_CHECKING:
    from crmcore.columnar.frame import CustomerFrame, EventLog, TransactionLog

__all__ = ["BufferedUnitOfWork"]

A = TypeVar("A")
R = TypeVar("R")
T = TypeVar("T")


class _AggregateRepository(Generic[A]):
    def __init__(self, uow: BufferedUnitOfWork, kind: AggregateKind[A]) -> None:
        self._uow = uow
        self._kind = kind

    def _pending(self, id: str) -> AggregateWrite | None:
        return self._uow._aggregates.get((self._kind.name, id))

    def _check_type(self, aggregate: object) -> A:
        if not isinstance(aggregate, self._kind.cls):
            raise ValidationError(
                self._kind.name, aggregate, f"must be a {self._kind.cls.__name__}"
            )
        return aggregate

    def _check_keys(self, aggregate: A, previous: A | None = None) -> None:
        """Refuse key values held by another aggregate.

        ``previous`` is this aggregate as pending or last read in this unit of
        work: a value it already held is its own and needs no lookup.
        """
        id = self._kind.id_of(aggregate)
        held = {} if previous is None else self._kind.keys_of(previous)
        for key, value in self._kind.keys_of(aggregate).items():
            if value is None or held.get(key) == value:
                continue
            holder = self._find_by_key(key, value)
            if holder is not None and self._kind.id_of(holder) != id:
                raise AlreadyExistsError(self._kind.name, value, key)

    def _find_by_key(self, key: str, value: str) -> A | None:
        pending_id = self._uow._pending_keys.get((self._kind.name, key, value))
        if pending_id is not None:
            return self.find(pending_id)
        stored = self._uow._backend.fetch_by_key(self._kind, key, value)
        if stored is not None and self._pending(self._kind.id_of(stored)) is not None:
            return None  # changed in this unit of work: its pending value no longer matches
        return stored

    def _stage(self, aggregate: A, expected: int) -> None:
        id = self._kind.id_of(aggregate)
        keys = self._uow._pending_keys
        previous = self._pending(id)
        if previous is not None:
            for key, value in self._kind.keys_of(previous.aggregate).items():
                if value is not None:
                    keys.pop((self._kind.name, key, value), None)
        for key, value in self._kind.keys_of(aggregate).items():
            if value is not None:
                keys[(self._kind.name, key, value)] = id
        self._uow._aggregates[(self._kind.name, id)] = AggregateWrite(
            self._kind, aggregate, expected
        )

    def add(self, aggregate: A) -> A:
        self._uow._require_open()
        aggregate = self._check_type(aggregate)
        id = self._kind.id_of(aggregate)
        version = self._kind.version_of(aggregate)
        if version != 0:
            raise ValidationError("version", version, "a new aggregate has version 0; use save")
        if self._pending(id) is not None or self._uow._backend.fetch(self._kind, id) is not None:
            raise AlreadyExistsError(self._kind.name, id)
        self._check_keys(aggregate)
        stored = self._kind.with_version(aggregate, 1)
        self._stage(stored, 0)
        return stored

    def save(self, aggregate: A) -> A:
        self._uow._require_open()
        aggregate = self._check_type(aggregate)
        id = self._kind.id_of(aggregate)
        version = self._kind.version_of(aggregate)
        if version < 1:
            raise ValidationError("version", version, "was never stored; use add")
        pending = self._pending(id)
        previous: A | None
        if pending is not None:
            previous = pending.aggregate
            expected = pending.expected
        else:
            # What this unit of work read (the backend re-checks the version at commit),
            # else what the store holds now.
            previous = self._uow._loaded.get((self._kind.name, id))
            if previous is None:
                previous = self._uow._backend.fetch(self._kind, id)
            expected = version
        current = None if previous is None else self._kind.version_of(previous)
        if current != version:
            raise ConcurrencyConflictError(self._kind.name, id, version, current)
        self._check_keys(aggregate, previous)
        saved = self._kind.with_version(aggregate, version + 1)
        self._stage(saved, expected)
        return saved

    def find(self, id: str) -> A | None:
        self._uow._require_open()
        pending = self._pending(id)
        if pending is not None:
            found: A = pending.aggregate
            return found
        stored = self._uow._backend.fetch(self._kind, id)
        if stored is not None:
            self._uow._loaded[(self._kind.name, id)] = stored
        return stored

    def get(self, id: str) -> A:
        found = self.find(id)
        if found is None:
            raise NotFoundError(self._kind.name, id)
        return found

    def list(self, *, limit: int = 100, after: str | None = None) -> Page[A]:
        self._uow._require_open()
        items = self._uow._backend.fetch_page(self._kind, check_limit(limit), after)
        next_after = self._kind.id_of(items[-1]) if len(items) == limit else None
        return Page(tuple(items), next_after)

    def count(self) -> int:
        self._uow._require_open()
        return self._uow._backend.count(self._kind)


class _CustomerRepository(_AggregateRepository[Customer]):
    def find_by_email(self, email: str) -> Customer | None:
        self._uow._require_open()
        return self._find_by_key("email", normalize_email(email))

    def get_by_email(self, email: str) -> Customer:
        found = self.find_by_email(email)
        if found is None:
            raise NotFoundError("customer", email)
        return found

    def to_frame(self) -> CustomerFrame:
        self._uow._require_open()
        return self._uow._backend.customer_frame()


class _CaseRepository(_AggregateRepository[Case]):
    def find_by_feedback(self, feedback_id: str) -> Case | None:
        self._uow._require_open()
        return self._find_by_key("feedback_id", feedback_id)


class _LoyaltyAccountRepository(_AggregateRepository[LoyaltyAccount]):
    def find_for_customer(self, program_id: str, customer_id: str) -> LoyaltyAccount | None:
        self._uow._require_open()
        return self._find_by_key("customer", account_key(program_id, customer_id))

    def get_for_customer(self, program_id: str, customer_id: str) -> LoyaltyAccount:
        found = self.find_for_customer(program_id, customer_id)
        if found is None:
            raise NotFoundError("loyalty_account", account_key(program_id, customer_id))
        return found


class _RecordRepository(Generic[R]):
    def __init__(self, uow: BufferedUnitOfWork, kind: RecordKind[R]) -> None:
        self._uow = uow
        self._kind = kind

    def add(self, record: R) -> None:
        self._uow._require_open()
        if not isinstance(record, self._kind.cls):
            raise ValidationError(self._kind.name, record, f"must be a {self._kind.cls.__name__}")
        id = self._kind.id_of(record)
        key = (self._kind.name, id)
        if key in self._uow._records or self._uow._backend.fetch_record(self._kind, id) is not None:
            raise AlreadyExistsError(self._kind.name, id)
        self._uow._records[key] = RecordWrite(self._kind, record)

    def find(self, id: str) -> R | None:
        self._uow._require_open()
        pending = self._uow._records.get((self._kind.name, id))
        if pending is not None:
            found: R = pending.record
            return found
        return self._uow._backend.fetch_record(self._kind, id)

    def get(self, id: str) -> R:
        found = self.find(id)
        if found is None:
            raise NotFoundError(self._kind.name, id)
        return found

    def for_customer(self, customer_id: str) -> tuple[R, ...]:
        self._uow._require_open()
        merged: dict[str, R] = {
            self._kind.id_of(r): r for r in self._uow._backend.records_for(self._kind, customer_id)
        }
        for (kind_name, id), write in self._uow._records.items():
            if kind_name == self._kind.name and write.record.customer_id == customer_id:
                merged[id] = write.record
        return tuple(sort_records(self._kind, merged.values()))

    def count(self) -> int:
        self._uow._require_open()
        return self._uow._backend.count_records(self._kind)

    def redact(self, customer_id: str) -> int:
        redact = self._kind.redact
        if redact is None:
            return 0
        changed = 0
        for record in self.for_customer(customer_id):
            clean = redact(record)
            if clean == record:
                continue
            key = (self._kind.name, self._kind.id_of(record))
            pending = self._uow._records.get(key)
            replace = pending.replace if pending is not None else True
            self._uow._records[key] = RecordWrite(self._kind, clean, replace)
            changed += 1
        return changed


class _PurchaseRepository(_RecordRepository[Purchase]):
    def to_log(self) -> TransactionLog:
        self._uow._require_open()
        return self._uow._backend.transaction_log()


class _InteractionRepository(_RecordRepository[Interaction]):
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
        self._records: dict[tuple[str, str], RecordWrite] = {}
        self._loaded: dict[tuple[str, str], Any] = {}  # (kind, id) -> as read from the backend
        self._events: builtins.list[DomainEvent] = []
        self._state: State = "open"
        self._customers = _CustomerRepository(self, CUSTOMERS)
        self._purchases = _PurchaseRepository(self, PURCHASES)
        self._interactions = _InteractionRepository(self, INTERACTIONS)
        self._service_records = _RecordRepository(self, SERVICE_RECORDS)
        self._funnel_positions = _AggregateRepository(self, FUNNEL_POSITIONS)
        self._lifecycles = _AggregateRepository(self, LIFECYCLES)
        self._feedback = _RecordRepository(self, FEEDBACK)
        self._cases = _CaseRepository(self, CASES)
        self._improvement_actions = _AggregateRepository(self, IMPROVEMENT_ACTIONS)
        self._loyalty_accounts = _LoyaltyAccountRepository(self, LOYALTY_ACCOUNTS)
        self._tier_statuses = _AggregateRepository(self, TIER_STATUSES)
        self._referral_codes = _AggregateRepository(self, REFERRAL_CODES)
        self._referral_claims = _AggregateRepository(self, REFERRAL_CLAIMS)

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
    def service_records(self) -> _RecordRepository[ServiceRecord]:
        """The service records."""
        return self._service_records

    @property
    def funnel_positions(self) -> _AggregateRepository[FunnelPosition]:
        """Customers' funnel positions, stored by customer id."""
        return self._funnel_positions

    @property
    def lifecycles(self) -> _AggregateRepository[Lifecycle]:
        """Customers' lifecycle records, stored by customer id."""
        return self._lifecycles

    @property
    def feedback(self) -> _RecordRepository[Feedback]:
        """Customer feedback: append-only records; erasure blanks their text."""
        return self._feedback

    @property
    def cases(self) -> _CaseRepository:
        """Closed-loop feedback cases, stored by case id (unique by feedback id)."""
        return self._cases

    @property
    def improvement_actions(self) -> _AggregateRepository[ImprovementAction]:
        """Improvement actions on feedback themes, stored by action id."""
        return self._improvement_actions

    @property
    def loyalty_accounts(self) -> _LoyaltyAccountRepository:
        """Loyalty points accounts (ledgers), by account id; one per program and customer."""
        return self._loyalty_accounts

    @property
    def tier_statuses(self) -> _AggregateRepository[TierStatus]:
        """Loyalty tier statuses, stored by loyalty account id."""
        return self._tier_statuses

    @property
    def referral_codes(self) -> _AggregateRepository[ReferralCode]:
        """Referral codes, by the normalised code."""
        return self._referral_codes

    @property
    def referral_claims(self) -> _AggregateRepository[ReferralClaim]:
        """Referral claims, by ``claim_id(program_id, referee)``."""
        return self._referral_claims

    def repository(self, kind: AggregateKind[A]) -> _AggregateRepository[A]:
        """A repository for any [`AggregateKind`][crmcore.storage.unit_of_work.AggregateKind] (how
        later modules plug in)."""
        return _AggregateRepository(self, kind)

    def records(self, kind: RecordKind[R]) -> _RecordRepository[R]:
        """A repository for any [`RecordKind`][crmcore.storage.unit_of_work.RecordKind]."""
        return _RecordRepository(self, kind)

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
