"""The adapter side of a unit of work: change sets and the
[`Backend`][crmcore.storage.backend.Backend] protocol.

An adapter implements [`Backend`][crmcore.storage.backend.Backend]: reads of committed data, and
[`Backend.apply()`][crmcore.storage.backend.Backend.apply], which applies a whole
[`ChangeSet`][crmcore.storage.backend.ChangeSet] (aggregate writes, record writes and events)
atomically, checking versions and unique keys first (and keeping every kind's indexes, which
[`fetch_indexed()`][crmcore.storage.backend.Backend.fetch_indexed] and
[`fetch_range()`][crmcore.storage.backend.Backend.fetch_range] read). The conventions every adapter
follows live here too: records are returned ordered by (at, id)
([`sort_records()`][crmcore.storage.backend.sort_records]) and a page holds 1 to 10,000 items
([`check_limit()`][crmcore.storage.backend.check_limit]).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs

from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import DomainEvent
from crmcore.storage.kinds import AggregateKind, RecordKind

if TYPE_CHECKING:
    from crmcore.columnar.frame import CustomerFrame, EventLog, TransactionLog

__all__ = [
    "MAX_PAGE",
    "AggregateWrite",
    "Backend",
    "ChangeSet",
    "RecordWrite",
    "check_limit",
    "sort_records",
]

A = TypeVar("A")
R = TypeVar("R")

MAX_PAGE = 10_000
"""The largest page a repository or an outbox hands out at once."""


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
    """What an adapter implements for a unit of work (committed data only).

    [`BufferedUnitOfWork`][crmcore.storage.unit_of_work.BufferedUnitOfWork] runs over it.
    """

    def fetch(self, kind: AggregateKind[A], id: str) -> A | None:
        """The stored aggregate or ``None``."""
        ...

    def fetch_by_key(self, kind: AggregateKind[A], key: str, value: str) -> A | None:
        """The stored aggregate whose unique ``key`` equals ``value``, or ``None``."""
        ...

    def fetch_page(self, kind: AggregateKind[A], limit: int, after: str | None) -> list[A]:
        """Up to ``limit`` aggregates with id > ``after`` in id order."""
        ...

    def fetch_many(self, kind: AggregateKind[A], ids: Sequence[str]) -> list[A]:
        """The stored aggregates among ``ids``, in id order (ids not stored are left out)."""
        ...

    def fetch_indexed(self, kind: AggregateKind[A], index: str, values: Sequence[str]) -> list[A]:
        """The aggregates holding any of ``values`` in ``index``, each once, in id order."""
        ...

    def fetch_range(self, kind: AggregateKind[A], index: str, low: str, high: str) -> list[A]:
        """The aggregates holding a value from ``low`` to ``high`` (inclusive, compared as text
        code point by code point) in ``index``, ordered by (value, id), each once (at its lowest
        value)."""
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

    def all_records(self, kind: RecordKind[R]) -> list[R]:
        """Every record of ``kind``, ordered by (at, id)."""
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

        Raises [`ConcurrencyConflictError`][crmcore.kernel.errors.ConcurrencyConflictError] when a
        stored version is not the expected one and
        [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError] for a taken id or unique
        key.
        """
        ...


def check_limit(limit: object) -> int:
    """Validate a page size (1 to 10,000)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError("limit", limit, f"must be an integer from 1 to {MAX_PAGE}")
    return limit


def sort_records(kind: RecordKind[R], records: Iterable[R]) -> list[R]:
    """Records ordered by (at, id), the order every adapter returns."""
    return sorted(records, key=lambda r: (kind.at_of(r), kind.id_of(r)))
