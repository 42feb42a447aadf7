"""The repositories a buffered unit of work hands out for any kind: aggregates and records.

[`BufferedRepository`][crmcore.storage.repositories.BufferedRepository] stores the aggregates of
one [`AggregateKind`][crmcore.storage.kinds.AggregateKind] and
[`BufferedRecordRepository`][crmcore.storage.repositories.BufferedRecordRepository] the records of
one [`RecordKind`][crmcore.storage.kinds.RecordKind], through a
[`BufferedUnitOfWork`][crmcore.storage.unit_of_work.BufferedUnitOfWork]: writes are checked at once
and buffered there, reads go to its [`Backend`][crmcore.storage.backend.Backend]. The repositories
of each area (customers, sales, marketing, ...) add their lookups on top.

Lookups by id, by unique key and by index see the unit of work's own pending writes (an
aggregate changed in it is found by its new values, not its stored ones); listings and counts
read committed data.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import TYPE_CHECKING, Generic, TypeVar

from crmcore.kernel import validators
from crmcore.kernel.errors import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    NotFoundError,
    ValidationError,
)
from crmcore.ports import Page
from crmcore.storage.backend import AggregateWrite, RecordWrite, check_limit, sort_records
from crmcore.storage.kinds import AggregateKind, RecordKind

if TYPE_CHECKING:
    from crmcore.storage.unit_of_work import BufferedUnitOfWork

__all__ = ["BufferedRecordRepository", "BufferedRepository", "check_text"]

A = TypeVar("A")
R = TypeVar("R")


def check_text(value: object, field: str) -> str:
    """``value`` if it is a non-empty string (a lookup value), else a
    [`ValidationError`][crmcore.kernel.errors.ValidationError] naming ``field``."""
    if not isinstance(value, str) or not value:
        raise ValidationError(field, value, "must be a non-empty string")
    return value


_ID_LIMIT = 1000


def _check_id(value: object, field: str = "id") -> str:
    """``value`` if it can be a stored id: a one-line string of 1 to 1000 characters, no control
    character or lone surrogate; else a [`ValidationError`][crmcore.kernel.errors.ValidationError]
    naming ``field``. Looser than ``validate_id()``: some stored ids are composed and hold
    spaces (a relationship's)."""
    return validators.text(value, field, limit=_ID_LIMIT)


class BufferedRepository(Generic[A]):
    """The [`AggregateRepository`][crmcore.ports.AggregateRepository] of one kind in a unit of
    work."""

    def __init__(self, uow: BufferedUnitOfWork, kind: AggregateKind[A]) -> None:
        self._uow = uow
        validators.instance_of(kind, AggregateKind, "kind")
        self._kind = kind

    def _pending(self, id: str) -> AggregateWrite | None:
        return self._uow._aggregates.get((self._kind.name, id))

    def _pending_writes(self) -> builtins.list[AggregateWrite]:
        name = self._kind.name
        return [w for (kind, _id), w in self._uow._aggregates.items() if kind == name]

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

    def _as_read(self, id: str) -> A | None:
        """The aggregate as this unit of work holds it: pending, else as it was first read here,
        else read now. A wrapper that saves a changed copy of it (a pipeline, the send counts)
        then conflicts with a change committed since that first read."""
        self._uow._require_open()
        pending = self._pending(id)
        if pending is not None:
            found: A = pending.aggregate
            return found
        loaded: A | None = self._uow._loaded.get((self._kind.name, id))
        return loaded if loaded is not None else self.find(id)

    def _remember(self, stored: A) -> None:
        self._uow._loaded[(self._kind.name, self._kind.id_of(stored))] = stored

    def find_many(self, ids: Iterable[str]) -> tuple[A, ...]:
        """The aggregates stored (or pending) under any of ``ids``, in id order; ids with nothing
        stored are left out. One read for all of them."""
        self._uow._require_open()
        if isinstance(ids, str):
            raise ValidationError("ids", ids, "must be ids, not one id")
        if isinstance(ids, bytes) or not isinstance(ids, Iterable):  # a mapping gives its keys
            raise ValidationError("ids", ids, "must be a collection of ids")
        wanted = sorted({_check_id(id, "ids") for id in ids})
        found: dict[str, A] = {}
        missing = []
        for id in wanted:
            pending = self._pending(id)
            if pending is None:
                missing.append(id)
            else:
                found[id] = pending.aggregate
        if missing:
            for stored in self._uow._backend.fetch_many(self._kind, missing):
                self._remember(stored)
                found[self._kind.id_of(stored)] = stored
        return tuple(found[id] for id in sorted(found))

    def _indexed(self, index: str, values: Iterable[str]) -> tuple[A, ...]:
        """The aggregates holding any of ``values`` in ``index`` (pending writes included), in id
        order."""
        self._uow._require_open()
        wanted = {check_text(v, index) for v in values}
        if not wanted:
            return ()
        found: dict[str, A] = {}
        for stored in self._uow._backend.fetch_indexed(self._kind, index, sorted(wanted)):
            id = self._kind.id_of(stored)
            if self._pending(id) is None:
                self._remember(stored)
                found[id] = stored
        held = self._uow._pending_index.get((self._kind.name, index), {})
        for value in wanted:
            for id in held.get(value, ()):
                found[id] = self._uow._aggregates[(self._kind.name, id)].aggregate
        return tuple(found[id] for id in sorted(found))

    def _range(self, index: str, low: str, high: str) -> tuple[A, ...]:
        """The aggregates holding a value in ``[low, high]`` in ``index`` (pending writes
        included), ordered by (lowest such value, id)."""
        self._uow._require_open()

        def first(aggregate: A) -> str | None:
            values = self._kind.index_values_of(aggregate)[index]
            return min((v for v in values if low <= v <= high), default=None)

        found: dict[str, tuple[str, A]] = {}
        for stored in self._uow._backend.fetch_range(self._kind, index, low, high):
            id = self._kind.id_of(stored)
            value = first(stored)
            if self._pending(id) is None and value is not None:
                self._remember(stored)
                found[id] = (value, stored)
        held = self._uow._pending_index.get((self._kind.name, index), {})
        for value, ids in held.items():
            if low <= value <= high:
                for id in ids:
                    write = self._uow._aggregates[(self._kind.name, id)]
                    if id not in found or value < found[id][0]:
                        found[id] = (value, write.aggregate)
        ordered = sorted(found.items(), key=lambda item: (item[1][0], item[0]))
        return tuple(aggregate for _id, (_value, aggregate) in ordered)

    def _stage(self, aggregate: A, expected: int) -> None:
        id = self._kind.id_of(aggregate)
        keys = self._uow._pending_keys
        indexes = self._uow._pending_index
        previous = self._pending(id)
        if previous is not None:
            for key, value in self._kind.keys_of(previous.aggregate).items():
                if value is not None:
                    keys.pop((self._kind.name, key, value), None)
            for index, values in self._kind.index_values_of(previous.aggregate).items():
                held = indexes[(self._kind.name, index)]
                for value in values:
                    held[value].discard(id)
                    if not held[value]:
                        del held[value]
        for key, value in self._kind.keys_of(aggregate).items():
            if value is not None:
                keys[(self._kind.name, key, value)] = id
        for index, values in self._kind.index_values_of(aggregate).items():
            held = indexes.setdefault((self._kind.name, index), {})
            for value in values:
                held.setdefault(value, set()).add(id)
        self._uow._aggregates[(self._kind.name, id)] = AggregateWrite(
            self._kind, aggregate, expected
        )

    def add(self, aggregate: A) -> A:
        """Store a new aggregate (version 0); return it at version 1."""
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
        """Store a changed aggregate loaded at its ``version``; return it at the next version."""
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
        """The aggregate stored (or pending) under ``id``, or ``None``."""
        self._uow._require_open()
        _check_id(id)
        pending = self._pending(id)
        if pending is not None:
            found: A = pending.aggregate
            return found
        stored = self._uow._backend.fetch(self._kind, id)
        if stored is not None:
            self._remember(stored)
        return stored

    def get(self, id: str) -> A:
        """The aggregate under ``id``; [`NotFoundError`][crmcore.kernel.errors.NotFoundError]
        otherwise."""
        found = self.find(id)
        if found is None:
            raise NotFoundError(self._kind.name, id)
        return found

    def list(self, *, limit: int = 100, after: str | None = None) -> Page[A]:
        """Up to ``limit`` stored aggregates with ids greater than ``after``, in id order."""
        self._uow._require_open()
        if after is not None:
            _check_id(after, "after")
        items = self._uow._backend.fetch_page(self._kind, check_limit(limit), after)
        next_after = self._kind.id_of(items[-1]) if len(items) == limit else None
        return Page(tuple(items), next_after)

    def count(self) -> int:
        """How many aggregates are stored."""
        self._uow._require_open()
        return self._uow._backend.count(self._kind)


class BufferedRecordRepository(Generic[R]):
    """The [`RecordRepository`][crmcore.ports.RecordRepository] of one record kind in a unit of
    work."""

    def __init__(self, uow: BufferedUnitOfWork, kind: RecordKind[R]) -> None:
        self._uow = uow
        validators.instance_of(kind, RecordKind, "kind")
        self._kind = kind

    def add(self, record: R) -> None:
        """Append a record; [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError] if
        its id is taken."""
        self._uow._require_open()
        if not isinstance(record, self._kind.cls):
            raise ValidationError(self._kind.name, record, f"must be a {self._kind.cls.__name__}")
        id = self._kind.id_of(record)
        key = (self._kind.name, id)
        if key in self._uow._records or self._uow._backend.fetch_record(self._kind, id) is not None:
            raise AlreadyExistsError(self._kind.name, id)
        self._uow._records[key] = RecordWrite(self._kind, record)

    def _replace(self, record: R) -> None:
        """Overwrite a stored (or pending) record with a changed copy of it (same id)."""
        key = (self._kind.name, self._kind.id_of(record))
        pending = self._uow._records.get(key)
        replace = pending.replace if pending is not None else True
        self._uow._records[key] = RecordWrite(self._kind, record, replace)

    def find(self, id: str) -> R | None:
        """The record with ``id`` (pending or stored), or ``None``."""
        self._uow._require_open()
        _check_id(id)
        pending = self._uow._records.get((self._kind.name, id))
        if pending is not None:
            found: R = pending.record
            return found
        return self._uow._backend.fetch_record(self._kind, id)

    def get(self, id: str) -> R:
        """The record with ``id``; [`NotFoundError`][crmcore.kernel.errors.NotFoundError]
        otherwise."""
        found = self.find(id)
        if found is None:
            raise NotFoundError(self._kind.name, id)
        return found

    def for_customer(self, customer_id: str) -> tuple[R, ...]:
        """A customer's (an owner's) records in time order, ties by id."""
        self._uow._require_open()
        _check_id(customer_id, "customer_id")
        merged: dict[str, R] = {
            self._kind.id_of(r): r for r in self._uow._backend.records_for(self._kind, customer_id)
        }
        for (kind_name, id), write in self._uow._records.items():
            if kind_name == self._kind.name and self._kind.owner_of(write.record) == customer_id:
                merged[id] = write.record
        return tuple(sort_records(self._kind, merged.values()))

    def count(self) -> int:
        """How many records are stored."""
        self._uow._require_open()
        return self._uow._backend.count_records(self._kind)

    def redact(self, customer_id: str) -> int:
        """Blank the free text of a customer's records (erasure); return how many changed."""
        self._uow._require_open()
        _check_id(customer_id, "customer_id")
        redact = self._kind.redact
        if redact is None:
            return 0
        changed = 0
        for record in self.for_customer(customer_id):
            clean = redact(record)
            if clean == record:
                continue
            self._replace(clean)
            changed += 1
        return changed
