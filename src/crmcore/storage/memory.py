"""In-memory storage: the reference adapter, for tests and notebooks.

It keeps the stored (immutable) objects in dictionaries behind one lock.
Commits validate the whole change set before touching anything, so a
failing commit changes nothing, exactly like a database transaction.
Thread-safe; not shared between processes; gone when the process ends.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from crmcore.columnar.frame import CustomerFrame, EventLog, TransactionLog
from crmcore.ports import OutboxMessage
from crmcore.storage._change_rules import KeyClaim, Stored, check_changes
from crmcore.storage.backend import ChangeSet, RecordWrite, check_limit, sort_records
from crmcore.storage.kinds import CUSTOMERS, INTERACTIONS, PURCHASES, AggregateKind, RecordKind
from crmcore.storage.outbox import new_message_id, relay
from crmcore.storage.unit_of_work import BufferedUnitOfWork

__all__ = ["MemoryOutbox", "MemoryStore"]

A = TypeVar("A")
R = TypeVar("R")


class _Data:
    """The committed state of a [`MemoryStore`][crmcore.storage.memory.MemoryStore]."""

    def __init__(self) -> None:
        self.aggregates: dict[str, dict[str, Any]] = defaultdict(dict)
        self.sorted_ids: dict[str, list[str]] = defaultdict(list)
        self.keys: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
        # (kind, index) -> value -> ids holding it, and the values in order (for ranges)
        self.index: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(dict)
        self.index_values: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.records: dict[str, dict[str, Any]] = defaultdict(dict)
        self.by_customer: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.outbox: list[OutboxMessage] = []
        self.published: set[int] = set()


class _MemoryBackend:
    def __init__(self, data: _Data, lock: threading.RLock) -> None:
        self._data = data
        self._lock = lock

    def fetch(self, kind: AggregateKind[A], id: str) -> A | None:
        with self._lock:
            found: A | None = self._data.aggregates[kind.name].get(id)
            return found

    def fetch_by_key(self, kind: AggregateKind[A], key: str, value: str) -> A | None:
        with self._lock:
            id = self._data.keys[(kind.name, key)].get(value)
            return None if id is None else self.fetch(kind, id)

    def fetch_page(self, kind: AggregateKind[A], limit: int, after: str | None) -> list[A]:
        with self._lock:
            ids = self._data.sorted_ids[kind.name]
            start = 0 if after is None else bisect.bisect_right(ids, after)
            stored = self._data.aggregates[kind.name]
            return [stored[i] for i in ids[start : start + limit]]

    def count(self, kind: AggregateKind[Any]) -> int:
        with self._lock:
            return len(self._data.aggregates[kind.name])

    def fetch_many(self, kind: AggregateKind[A], ids: Sequence[str]) -> list[A]:
        with self._lock:
            stored = self._data.aggregates[kind.name]
            return [stored[i] for i in sorted(set(ids)) if i in stored]

    def fetch_indexed(self, kind: AggregateKind[A], index: str, values: Sequence[str]) -> list[A]:
        with self._lock:
            held = self._data.index[(kind.name, index)]
            ids: set[str] = set()
            for value in set(values):
                ids.update(held.get(value, ()))
            return self.fetch_many(kind, list(ids))

    def fetch_range(self, kind: AggregateKind[A], index: str, low: str, high: str) -> list[A]:
        with self._lock:
            held = self._data.index[(kind.name, index)]
            values = self._data.index_values[(kind.name, index)]
            start, stop = bisect.bisect_left(values, low), bisect.bisect_right(values, high)
            stored = self._data.aggregates[kind.name]
            seen: set[str] = set()
            found: list[A] = []
            for value in values[start:stop]:
                for id in sorted(held[value]):
                    if id not in seen:
                        seen.add(id)
                        found.append(stored[id])
            return found

    def fetch_record(self, kind: RecordKind[R], id: str) -> R | None:
        with self._lock:
            found: R | None = self._data.records[kind.name].get(id)
            return found

    def records_for(self, kind: RecordKind[R], customer_id: str) -> list[R]:
        with self._lock:
            ids = self._data.by_customer[kind.name].get(customer_id, ())
            stored = self._data.records[kind.name]
            return sort_records(kind, (stored[i] for i in ids))

    def count_records(self, kind: RecordKind[Any]) -> int:
        with self._lock:
            return len(self._data.records[kind.name])

    def all_records(self, kind: RecordKind[R]) -> list[R]:
        return self._all_records(kind)

    def customer_frame(self) -> CustomerFrame:
        with self._lock:
            customers = self.fetch_page(CUSTOMERS, len(self._data.sorted_ids["customer"]), None)
        return CustomerFrame.from_customers(customers)

    def _all_records(self, kind: RecordKind[R]) -> list[R]:
        with self._lock:
            return sort_records(kind, self._data.records[kind.name].values())

    def transaction_log(self) -> TransactionLog:
        return TransactionLog.from_purchases(self._all_records(PURCHASES))

    def event_log(self) -> EventLog:
        return EventLog.from_interactions(self._all_records(INTERACTIONS))

    def apply(self, changes: ChangeSet) -> None:
        with self._lock:
            self._validate(changes)
            self._write(changes)

    def _validate(self, changes: ChangeSet) -> None:
        data = self._data
        stored: dict[tuple[str, str], Stored] = {}
        for write in changes.aggregates:
            kind = write.kind
            current = data.aggregates[kind.name].get(write.id)
            if current is not None:
                keys = {k: v for k, v in kind.keys_of(current).items() if v is not None}
                stored[(kind.name, write.id)] = Stored(kind.version_of(current), keys)

        def holders(wanted: list[KeyClaim]) -> dict[KeyClaim, str]:
            held = ((claim, data.keys.get(claim[:2], {}).get(claim[2])) for claim in wanted)
            return {claim: id for claim, id in held if id is not None}

        def existing(writes: list[RecordWrite]) -> set[tuple[str, str]]:
            return {
                (w.kind.name, w.id) for w in writes if w.id in data.records.get(w.kind.name, {})
            }

        check_changes(changes, stored, holders, existing)
        for event in changes.events:
            event.payload()  # encoding must succeed before anything is written

    def _write(self, changes: ChangeSet) -> None:
        data = self._data
        for write in changes.aggregates:
            kind, id = write.kind, write.id
            stored = data.aggregates[kind.name]
            current = stored.get(id)
            if current is None:
                bisect.insort(data.sorted_ids[kind.name], id)
            else:
                for key, value in kind.keys_of(current).items():
                    if value is not None and data.keys[(kind.name, key)].get(value) == id:
                        del data.keys[(kind.name, key)][value]
                for index, values in kind.index_values_of(current).items():
                    held = data.index[(kind.name, index)]
                    for value in values:
                        ids = held[value]
                        ids.discard(id)
                        if not ids:
                            del held[value]
                            ordered = data.index_values[(kind.name, index)]
                            del ordered[bisect.bisect_left(ordered, value)]
        for write in changes.aggregates:
            kind, id = write.kind, write.id
            data.aggregates[kind.name][id] = write.aggregate
            for key, value in kind.keys_of(write.aggregate).items():
                if value is not None:
                    data.keys[(kind.name, key)][value] = id
            for index, values in kind.index_values_of(write.aggregate).items():
                held = data.index[(kind.name, index)]
                for value in values:
                    if value not in held:
                        held[value] = set()
                        bisect.insort(data.index_values[(kind.name, index)], value)
                    held[value].add(id)
        for record_write in changes.records:
            record_kind, id = record_write.kind, record_write.id
            data.records[record_kind.name][id] = record_write.record
            owner = record_kind.owner_of(record_write.record)
            data.by_customer[record_kind.name][owner].add(id)
        for event in changes.events:
            data.outbox.append(
                OutboxMessage(
                    position=len(data.outbox) + 1,
                    message_id=new_message_id(),
                    kind=event.kind,
                    aggregate_id=event.aggregate_id,
                    occurred_at=event.occurred_at,
                    payload=event.payload(),
                )
            )


class MemoryOutbox:
    """The outbox of a [`MemoryStore`][crmcore.storage.memory.MemoryStore]."""

    def __init__(self, data: _Data, lock: threading.RLock) -> None:
        self._data = data
        self._lock = lock

    def pending(self, limit: int = 100) -> list[OutboxMessage]:
        """Up to ``limit`` unpublished messages, oldest first."""
        check_limit(limit)
        with self._lock:
            result: list[OutboxMessage] = []
            for message in self._data.outbox:
                if message.position not in self._data.published:
                    result.append(message)
                    if len(result) == limit:
                        break
            return result

    def mark_published(self, positions: Iterable[int]) -> None:
        """Mark messages published (idempotent)."""
        with self._lock:
            self._data.published.update(positions)

    def relay(self, handler: Callable[[OutboxMessage], None], *, limit: int = 100) -> int:
        """Hand pending messages to ``handler`` in order
        ([`relay()`][crmcore.storage.outbox.relay])."""
        return relay(self, handler, limit)


class MemoryStore:
    """An in-memory [`Store`][crmcore.ports.Store].

    Examples:
        >>> store = MemoryStore()
        >>> with store.unit_of_work() as uow:
        ...     uow.customers.count()
        0
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._data = _Data()
        self._outbox = MemoryOutbox(self._data, self._lock)

    def unit_of_work(self) -> BufferedUnitOfWork:
        """A new unit of work over this store."""
        return BufferedUnitOfWork(_MemoryBackend(self._data, self._lock))

    @property
    def outbox(self) -> MemoryOutbox:
        """The transactional outbox."""
        return self._outbox

    def close(self) -> None:
        """Nothing to release; present for the [`Store`][crmcore.ports.Store] protocol."""

    def scrub(self) -> None:
        """Nothing to scrub: memory keeps no copies of replaced values (the
        [`Store`][crmcore.ports.Store] protocol)."""

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
