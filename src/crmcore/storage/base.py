"""Machinery shared by the shipped adapters: a buffered unit of work over a backend.

An adapter implements :class:`Backend`: reads of committed data, and
:meth:`Backend.apply`, which applies a whole :class:`ChangeSet` atomically,
checking versions and unique keys first. :class:`BufferedUnitOfWork` turns
that into the :class:`~crmcore.ports.UnitOfWork` port: writes are checked
early (so a stale save fails at ``save``), buffered, and applied at commit in
one transaction, so an exception anywhere leaves storage untouched.

An aggregate read in a unit of work is remembered: saving it checks its
version and unique keys against that copy instead of reading (and decoding)
it again. A change committed by someone else after the read is still caught,
by :meth:`Backend.apply` at commit.

New aggregate types plug in by declaring an :class:`AggregateKind` (and
records a :class:`RecordKind`); both adapters store any kind generically.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, Self, TypeVar

import attrs

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
from crmcore.ports import Outbox, OutboxMessage, Page

if TYPE_CHECKING:
    from crmcore.columnar.frame import CustomerFrame, EventLog, TransactionLog

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
    "AggregateWrite",
    "Backend",
    "BufferedUnitOfWork",
    "ChangeSet",
    "RecordKind",
    "RecordWrite",
    "account_key",
    "new_message_id",
    "redact_feedback",
    "relay",
]

A = TypeVar("A")
R = TypeVar("R")
T = TypeVar("T")

MAX_PAGE = 10_000


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


#: Customer feedback, append-only; erasure blanks the text.
FEEDBACK: RecordKind[Feedback] = RecordKind("feedback", Feedback, "id", redact_feedback)
#: Closed-loop cases; at most one case per feedback (unique key ``feedback_id``).
CASES: AggregateKind[Case] = AggregateKind("case", Case, (("feedback_id", _case_feedback),))
#: Improvement actions on feedback themes.
IMPROVEMENT_ACTIONS: AggregateKind[ImprovementAction] = AggregateKind(
    "improvement_action", ImprovementAction
)
#: Loyalty accounts (the ledger); one per program and customer (unique key ``customer``).
LOYALTY_ACCOUNTS: AggregateKind[LoyaltyAccount] = AggregateKind(
    "loyalty_account", LoyaltyAccount, (("customer", _account_owner),)
)
#: Loyalty tier statuses, by loyalty account id.
TIER_STATUSES: AggregateKind[TierStatus] = AggregateKind("loyalty_tier_status", TierStatus)
#: Referral codes, by the normalised code (unique across programs).
REFERRAL_CODES: AggregateKind[ReferralCode] = AggregateKind("loyalty_referral_code", ReferralCode)
#: Referral claims, by ``claim_id(program_id, referee)``: one per referee and program.
REFERRAL_CLAIMS: AggregateKind[ReferralClaim] = AggregateKind(
    "loyalty_referral_claim", ReferralClaim
)


@attrs.frozen
class AggregateWrite:
    """Store ``aggregate`` (already at its new version) if the stored version is ``expected``.

    ``expected == 0`` means "insert: nothing may be stored under this id".
    """

    kind: AggregateKind[Any]
    aggregate: Any
    expected: int

    @property
    def id(self) -> str:
        """The aggregate's id."""
        return self.kind.id_of(self.aggregate)


@attrs.frozen
class RecordWrite:
    """Insert a record, or (``replace=True``) overwrite a stored one (redaction)."""

    kind: RecordKind[Any]
    record: Any
    replace: bool = False

    @property
    def id(self) -> str:
        """The record's id."""
        return self.kind.id_of(self.record)


@attrs.frozen
class ChangeSet:
    """Everything one commit writes, applied all or nothing."""

    aggregates: tuple[AggregateWrite, ...] = ()
    records: tuple[RecordWrite, ...] = ()
    events: tuple[DomainEvent, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.aggregates or self.records or self.events)


class Backend(Protocol):
    """What an adapter implements for :class:`BufferedUnitOfWork` (committed data only)."""

    def fetch(self, kind: AggregateKind[A], id: str) -> A | None:
        """The stored aggregate or ``None``."""
        ...

    def fetch_by_key(self, kind: AggregateKind[A], key: str, value: str) -> A | None:
        """The stored aggregate whose unique ``key`` equals ``value``, or ``None``."""
        ...

    def fetch_page(self, kind: AggregateKind[A], limit: int, after: str | None) -> list[A]:
        """Up to ``limit`` aggregates with id > ``after`` in id order."""
        ...

    def count(self, kind: AggregateKind[Any]) -> int:
        """How many aggregates of ``kind`` are stored."""
        ...

    def fetch_record(self, kind: RecordKind[R], id: str) -> R | None:
        """The stored record or ``None``."""
        ...

    def records_for(self, kind: RecordKind[R], customer_id: str) -> list[R]:
        """A customer's records ordered by (at, id)."""
        ...

    def count_records(self, kind: RecordKind[Any]) -> int:
        """How many records of ``kind`` are stored."""
        ...

    def customer_frame(self) -> CustomerFrame:
        """All customers as a frame, in id order."""
        ...

    def transaction_log(self) -> TransactionLog:
        """All purchases as a log, ordered by (at, order id)."""
        ...

    def event_log(self) -> EventLog:
        """All interactions as a log, ordered by (at, id)."""
        ...

    def apply(self, changes: ChangeSet) -> None:
        """Apply ``changes`` atomically, or raise and change nothing.

        Raises :class:`~crmcore.kernel.errors.ConcurrencyConflictError` when a stored
        version is not the expected one and :class:`~crmcore.kernel.errors.AlreadyExistsError`
        for a taken id or unique key.
        """
        ...


def new_message_id() -> str:
    """A unique outbox message id."""
    return uuid.uuid4().hex


def relay(outbox: Outbox, handler: Callable[[OutboxMessage], None], limit: int) -> int:
    """The shared :meth:`Outbox.relay` loop: hand on in order, mark what was handed on.

    The marks of one call are written together when it ends, also when the
    handler raises (one transaction, one disk sync, per call rather than per
    message). A crash before that write hands those messages on again, which
    the outbox contract allows: consumers drop duplicates by ``message_id``.
    """
    handed: list[int] = []
    try:
        for message in outbox.pending(limit):
            handler(message)
            handed.append(message.position)
    finally:
        if handed:
            outbox.mark_published(handed)
    return len(handed)


def check_limit(limit: object) -> int:
    """Validate a page size (1 to 10,000)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError("limit", limit, f"must be an integer from 1 to {MAX_PAGE}")
    return limit


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
        return tuple(sorted(merged.values(), key=lambda r: (getattr(r, "at"), self._kind.id_of(r))))  # noqa: B009

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
    """A :class:`~crmcore.ports.UnitOfWork` that buffers writes and applies them at commit."""

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
        """A repository for any :class:`AggregateKind` (how later modules plug in)."""
        return _AggregateRepository(self, kind)

    def records(self, kind: RecordKind[R]) -> _RecordRepository[R]:
        """A repository for any :class:`RecordKind`."""
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


def sort_records(kind: RecordKind[R], records: Iterable[R]) -> builtins.list[R]:
    """Records ordered by (at, id), the order every adapter returns."""
    return sorted(records, key=lambda r: (getattr(r, "at"), kind.id_of(r)))  # noqa: B009
