"""Storage of the sales and marketing kinds: indexes, time ranges, stored forms, the migration."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.customers.contact import Contact
from crmcore.customers.customer import Customer
from crmcore.kernel.errors import StorageError, ValidationError
from crmcore.marketing.enrolment_machine import ExitReason, WaitReason
from crmcore.marketing.enrolments import Enrolment
from crmcore.marketing.steps import SendMessage, Wait
from crmcore.marketing.triggers import EventTrigger
from crmcore.marketing.workflows import Workflow
from crmcore.ports import Store
from crmcore.sales.leads import Lead
from crmcore.storage.kinds import (
    ENROLMENTS,
    LEADS,
    WORKFLOWS,
    StoredWorkflow,
    due_value,
    sortable_time,
)
from crmcore.storage.memory import MemoryStore
from crmcore.storage.sqlite import SqliteStore
from crmcore.storage.sqlite.schema import SCHEMA_VERSION

T = datetime(2026, 5, 4, 8, tzinfo=UTC)
FLOW = Workflow(
    id="welcome",
    version=1,
    name="Welcome",
    trigger=EventTrigger("customer.registered"),
    steps=[Wait("pause", timedelta(hours=1)), SendMessage("hello", channel="email", template="w")],
)


@given(
    a=st.datetimes(timezones=st.just(UTC)),
    b=st.datetimes(timezones=st.just(UTC)),
)
def test_sortable_time_orders_like_time(a: datetime, b: datetime) -> None:
    assert (sortable_time(a) < sortable_time(b)) == (a < b)
    assert len(sortable_time(a)) == 18
    assert (due_value("active", a) < due_value("active", b)) == (a < b)


# -- the due index, against a scan ------------------------------------------------------------

_MOVES = st.lists(
    st.tuples(st.integers(0, 7), st.integers(-48, 48), st.sampled_from(["wait", "exit", "keep"])),
    min_size=1,
    max_size=25,
)


def _stores(tmp_path: Path) -> list[Store]:
    return [MemoryStore(), SqliteStore(tmp_path / f"due-{id(tmp_path)}.db")]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(moves=_MOVES, cut=st.integers(-48, 48), data=st.data())
def test_due_enrolments_are_those_a_scan_finds(
    tmp_path_factory: pytest.TempPathFactory, moves: list[tuple[int, int, str]], cut: int,
    data: st.DataObject,
) -> None:  # fmt: skip
    """Random enrolments, waits and exits, saved in units of work: ``due(before)`` (an index
    range) equals filtering every enrolment, in memory and in SQLite, pending writes included."""
    tmp = tmp_path_factory.mktemp("due")
    for store in _stores(tmp):
        model: dict[str, Enrolment] = {}
        with store.unit_of_work() as uow:
            uow.workflows.add(FLOW)
        for customer, hours, move in moves:
            with store.unit_of_work() as uow:
                eid = f"welcome:1:c{customer}"
                current = uow.enrolments.find(eid)
                if current is None:
                    model[eid] = uow.enrolments.add(Enrolment.start(FLOW, f"c{customer}", T).value)
                elif current.is_final or move == "keep":
                    continue
                elif move == "exit":
                    at = max(current.last_changed_at, T)
                    ended = current.exit(at, ExitReason.UNENROLLED).value
                    model[eid] = uow.enrolments.save(ended)
                elif current.status.value == "active":
                    at = current.last_changed_at
                    until = max(at, T + timedelta(hours=hours))
                    waiting = current.wait(at, until, WaitReason.DELAY).value
                    model[eid] = uow.enrolments.save(waiting)
                if data.draw(st.booleans(), label="look inside the unit of work"):
                    before = T + timedelta(hours=cut)
                    expected = sorted(
                        (e for e in model.values() if not e.is_final and e.wake_at <= before),  # type: ignore[operator]
                        key=lambda e: (e.wake_at, e.id),
                    )
                    assert uow.enrolments.due(before) == tuple(expected)
        before = T + timedelta(hours=cut)
        with store.unit_of_work() as uow:
            expected = sorted(
                (e for e in model.values() if not e.is_final and e.wake_at <= before),  # type: ignore[operator]
                key=lambda e: (e.wake_at, e.id),
            )
            assert uow.enrolments.due(before) == tuple(expected)
            assert uow.enrolments.count() == len(model)
        store.close()


# -- stored forms -----------------------------------------------------------------------------


def test_a_workflow_is_stored_in_its_versioned_json_form(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "w.db") as store, store.unit_of_work() as uow:
        uow.workflows.add(FLOW)
    connection = sqlite3.connect(tmp_path / "w.db")
    try:
        (body,) = connection.execute(
            "SELECT body FROM aggregates WHERE kind = 'workflow'"
        ).fetchone()
        document = json.loads(body)
        assert document["version"] == 1
        assert document["workflow"]["crmcore_workflow"] == 1
        assert document["workflow"]["workflow"]["id"] == "welcome"
        inner = {**document["workflow"]["workflow"], "steps": "x"}
        damaged = json.dumps(
            {"workflow": {**document["workflow"], "workflow": inner}, "version": 1}
        )
        connection.execute("UPDATE aggregates SET body = ? WHERE kind = 'workflow'", (damaged,))
        connection.commit()
    finally:
        connection.close()
    with (
        SqliteStore(tmp_path / "w.db") as store,
        store.unit_of_work() as uow,
        pytest.raises(StorageError, match="workflow"),
    ):
        uow.workflows.get("welcome", 1)
    with pytest.raises(ValidationError):
        WORKFLOWS.decode({"workflow": WORKFLOWS.encode(StoredWorkflow(workflow=FLOW))["workflow"],  # type: ignore[index]
                          "version": "1"})  # fmt: skip
    with pytest.raises(ValidationError):
        WORKFLOWS.decode([1, 2])
    with pytest.raises(ValidationError):
        StoredWorkflow(workflow="welcome")  # type: ignore[arg-type]


def test_the_indexes_of_a_lead_and_an_enrolment() -> None:
    lead = Lead.create("l-1", T, source="web", owner="rep-1", customer_id="c-1",
                       contact=Contact(email="A@x.com", phone="+442079460958")).value  # fmt: skip
    assert LEADS.index_values_of(lead) == {
        "email": ("a@x.com",), "phone": ("+442079460958",), "customer": ("c-1",),
        "owner_status": ("rep-1 new",), "merged_into": (),
    }  # fmt: skip
    started = Enrolment.start(FLOW, "c-1", T).value
    assert ENROLMENTS.index_values_of(started)["due"] == (due_value("active", T),)
    ended = started.exit(T, ExitReason.UNENROLLED).value
    assert ENROLMENTS.index_values_of(ended)["due"] == ()


# -- SQLite: the lookups read indexes, and old databases migrate ------------------------------


def test_sqlite_index_lookups_use_an_index(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "plan.db").close()
    connection = sqlite3.connect(tmp_path / "plan.db")
    try:
        queries = [
            "SELECT DISTINCT a.id, a.body FROM aggregate_index AS i JOIN aggregates AS a"
            " ON a.kind = i.kind AND a.id = i.id"
            " WHERE i.kind = ? AND i.name = ? AND i.value IN (?)",
            "SELECT i.value, a.id, a.body FROM aggregate_index AS i JOIN aggregates AS a"
            " ON a.kind = i.kind AND a.id = i.id"
            " WHERE i.kind = ? AND i.name = ? AND i.value BETWEEN ? AND ? ORDER BY i.value, i.id",
            "SELECT id, body FROM customers WHERE phone IN (?)",
        ]
        for sql in queries:
            plan = " ".join(str(row[-1]) for row in connection.execute(
                "EXPLAIN QUERY PLAN " + sql, ("k", "n", "a", "b")[: sql.count("?")]))  # fmt: skip
            assert "USING" in plan, plan
            assert "SCAN i" not in plan and "SCAN aggregate_index" not in plan, plan
            assert "SCAN customers" not in plan, plan
    finally:
        connection.close()


def test_a_version_1_database_migrates_and_finds_customers_by_phone(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with SqliteStore(path) as store, store.unit_of_work() as uow:
        uow.customers.add(Customer.register(
            "c-1", "Ann", T, contact=Contact(phone="+442079460958")).value)  # fmt: skip
    connection = sqlite3.connect(path)
    try:  # roll the file back to what version 1 made
        connection.execute("DROP TABLE aggregate_index")
        connection.execute("DROP INDEX customers_phone")
        connection.execute("PRAGMA user_version = 1")
        connection.commit()
    finally:
        connection.close()
    with SqliteStore(path) as store, store.unit_of_work() as uow:
        assert [c.id for c in uow.customers.with_phone("+44 20 7946 0958")] == ["c-1"]
        uow.leads.add(Lead.create("l-1", T, source="web", contact=Contact(email="a@x.com")).value)
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        rows = connection.execute("SELECT name, value FROM aggregate_index").fetchall()
        assert ("email", "a@x.com") in rows
    finally:
        connection.close()


def test_pending_index_entries_follow_a_changed_aggregate() -> None:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        lead = uow.leads.add(Lead.create("l-1", T, source="web", owner="rep-1",
                                         contact=Contact(email="a@x.com")).value)  # fmt: skip
        moved = uow.leads.save(attrs.evolve(lead, contact=Contact(email="b@x.com"), version=1))
        assert uow.leads.with_email("a@x.com") == ()
        assert uow.leads.with_email("b@x.com") == (moved,)
        uow.rollback()
        assert uow.leads.with_email("b@x.com") == ()
