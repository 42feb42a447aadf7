"""The storage layer refuses bad arguments where they enter: repositories, units of work, the
outbox relay and the SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crmcore import Customer, MemoryStore, ValidationError
from crmcore.storage import kinds
from crmcore.storage.outbox import relay
from crmcore.storage.repositories import BufferedRecordRepository, BufferedRepository
from crmcore.storage.sqlite import SqliteStore
from crmcore.storage.unit_of_work import BufferedUnitOfWork

T = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.customers.add(uow.take(Customer.register("c-1", "Ann Lee", T)))
    return store


def test_a_repository_needs_a_kind(store: MemoryStore) -> None:
    with store.unit_of_work() as uow:
        assert isinstance(uow, BufferedUnitOfWork)
        with pytest.raises(ValidationError, match="kind: must be an AggregateKind"):
            BufferedRepository(uow, "customer")  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="kind: must be a RecordKind"):
            uow.records(kinds.CUSTOMERS)  # type: ignore[arg-type]
        assert uow.repository(kinds.CUSTOMERS).get("c-1").name == "Ann Lee"
        assert isinstance(uow.records(kinds.PURCHASES), BufferedRecordRepository)


@pytest.mark.parametrize("id", [["c-1"], "", "c-1\x00", "\ud800", "x" * 1001, None])
def test_lookups_refuse_what_cannot_be_an_id(store: MemoryStore, id: object) -> None:
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError):
            uow.customers.find(id)  # type: ignore[arg-type]
        with pytest.raises(ValidationError):
            uow.customers.find_many([id])  # type: ignore[list-item]
        with pytest.raises(ValidationError):
            uow.purchases.for_customer(id)  # type: ignore[arg-type]
        with pytest.raises(ValidationError):
            uow.interactions.redact(id)  # type: ignore[arg-type]
        if id is not None:  # no ``after``: the first page
            with pytest.raises(ValidationError):
                uow.customers.list(after=id)  # type: ignore[arg-type]


def test_ids_with_spaces_are_still_found(store: MemoryStore) -> None:
    # A relationship's stored id is composed with spaces: lookups must not refuse it.
    with store.unit_of_work() as uow:
        assert uow.records(kinds.RELATIONSHIPS).find("referred customer:c-9") is None


def test_find_many_takes_a_collection_of_ids(store: MemoryStore) -> None:
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationError, match="ids: must be a collection"):
            uow.customers.find_many(None)  # type: ignore[arg-type]
        assert [c.id for c in uow.customers.find_many(["c-1", "c-2"])] == ["c-1"]


def test_take_refuses_what_is_not_an_outcome(store: MemoryStore) -> None:
    with (
        store.unit_of_work() as uow,
        pytest.raises(ValidationError, match="outcome: must be an Outcome"),
    ):
        uow.take(Customer("c-2", "Bo Chan", T))  # type: ignore[arg-type]


def test_the_relay_checks_its_arguments_before_handing_anything_on(store: MemoryStore) -> None:
    pending = len(store.outbox.pending())
    with pytest.raises(ValidationError, match="outbox: must be an Outbox"):
        relay(None, print, 10)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="handler: must be callable"):
        relay(store.outbox, None, 10)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="limit"):
        relay(store.outbox, print, 0)
    assert len(store.outbox.pending()) == pending > 0


def test_redact_feedback_takes_feedback() -> None:
    with pytest.raises(ValidationError, match="feedback: must be a Feedback"):
        kinds.redact_feedback(None)  # type: ignore[arg-type]


def test_a_sqlite_path_with_a_nul_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="path: must not contain a NUL"):
        SqliteStore(str(tmp_path / "a\x00b.db"))
