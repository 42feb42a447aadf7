"""SQLite adapter specifics: schema and migrations, exact round trips, frames, outbox, errors.

The behaviour every store shares is the contract kit's business
(:mod:`crmcore.testing.contract`); these tests cover what only this adapter has.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from crmcore.columnar.schema import CUSTOMER_SCHEMA, customer_record
from crmcore.customers import (
    ActivitySummary,
    ConsentRecord,
    Contact,
    Customer,
    CustomerErased,
    Demographics,
    Education,
    Gender,
    Geography,
    IncomeBand,
    Interaction,
    Psychographics,
    Purchase,
    PurchaseSummary,
    ServiceRecord,
)
from crmcore.kernel.clock import EPOCH
from crmcore.kernel.errors import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    CrmError,
    IllegalTransitionError,
    NotFoundError,
    SchemaVersionError,
    StorageError,
    ValidationError,
)
from crmcore.kernel.money import Money
from crmcore.kernel.stage import Stage
from crmcore.storage.backend import AggregateWrite, ChangeSet, RecordWrite
from crmcore.storage.kinds import CUSTOMERS, PURCHASES, AggregateKind, RecordKind
from crmcore.storage.sqlite import SCHEMA_VERSION, SqliteStore, customer_columns
from crmcore.storage.sqlite.backend import SqliteBackend
from crmcore.storage.sqlite.schema import MIGRATIONS, migrate, user_version
from crmcore.storage.unit_of_work import BufferedUnitOfWork

T0 = datetime(2024, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
US = timedelta(microseconds=1)
CET = timezone(timedelta(hours=1))


def rich_customer(n: int = 1) -> Customer:
    """A customer with every field set (and a time zone other than UTC on the way in)."""
    first = T0 - timedelta(days=90, microseconds=7)
    return Customer(
        id=f"C-{n:04d}",
        name=f"Ann  Lee {n}",
        created_at=datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=CET),
        contact=Contact(email=f"Ann.Lee{n}@Example.COM", phone="+44 20 7946 0958"),
        demographics=Demographics(
            birth_date=date(1988, 2, 29),
            gender=Gender.FEMALE,
            income_band=IncomeBand.UPPER_MIDDLE,
            education=Education.MASTER,
        ),
        geography=Geography(country="de", region="Berlin", city="Berlin", postal_code="10115"),
        psychographics=Psychographics(
            interests={"hiking", "jazz"}, lifestyle={"urban"}, values={"sustainability"}
        ),
        tags={"vip", "newsletter:2024"},
        attributes={
            "tier": "gold",
            "visits": 42,
            "huge": -(2**63),
            "ratio": 0.1,
            "negative_zero": -0.0,
            "credit_limit": Decimal("1000.50"),
            "tiny": Decimal("1E-30"),
            "member": True,
            "opted_out": False,
            "member_since": date(2019, 7, 4),
            "last_login": datetime(2024, 2, 29, 23, 0, 0, 1, tzinfo=CET),
            "empty": "",
        },
        consents=(
            ConsentRecord("email", True, first, "signup form"),
            ConsentRecord("sms", True, first),
            ConsentRecord("sms", False, T0, "unsubscribe link"),
        ),
        purchases=PurchaseSummary(3, 7, Money("123.450", "EUR"), first, T0),
        interactions=ActivitySummary(5, first, T0),
        service=ActivitySummary(1, T0, T0),
    )


def plain_customer(n: int, email: str | None = None) -> Customer:
    return Customer.register(f"C-{n:04d}", f"Customer {n}", T0, contact=Contact(email=email)).value


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "crm.db"


@pytest.fixture
def store(db: Path) -> Iterator[SqliteStore]:
    with SqliteStore(db) as opened:
        yield opened


def raw(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Run one query on a separate plain connection (closed again)."""
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def add_all(store: SqliteStore, *customers: Customer) -> list[Customer]:
    with store.unit_of_work() as uow:
        return [uow.customers.add(c) for c in customers]


# --------------------------------------------------------------------------- schema


def test_a_fresh_database_is_at_the_current_schema_version(store: SqliteStore, db: Path) -> None:
    assert SCHEMA_VERSION == len(MIGRATIONS) >= 1
    assert raw(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    tables = {name for (name,) in raw(db, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {
        "customers",
        "customer_tags",
        "customer_attributes",
        "aggregates",
        "aggregate_keys",
        "purchases",
        "interactions",
        "service_records",
        "records",
        "outbox",
    } <= tables


def test_reopening_changes_nothing(db: Path) -> None:
    with SqliteStore(db) as store:
        add_all(store, rich_customer())
    schema = raw(db, "SELECT type, name, sql FROM sqlite_master ORDER BY name")
    with SqliteStore(db) as store, store.unit_of_work() as uow:
        assert uow.customers.count() == 1
    assert raw(db, "SELECT type, name, sql FROM sqlite_master ORDER BY name") == schema
    assert raw(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_a_newer_schema_is_refused_and_left_alone(db: Path) -> None:
    SqliteStore(db).close()
    connection = sqlite3.connect(db)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(SchemaVersionError) as caught:
        SqliteStore(db)
    assert (caught.value.found, caught.value.supported) == (SCHEMA_VERSION + 1, SCHEMA_VERSION)
    assert isinstance(caught.value, StorageError)
    assert raw(db, "PRAGMA user_version") == [(SCHEMA_VERSION + 1,)]


def test_a_file_that_is_not_sqlite_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are not the tables you are looking for\n" * 100)
    with pytest.raises(StorageError, match="not a SQLite database") as caught:
        SqliteStore(path)
    assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)
    assert path.read_text().startswith("these are not")


def test_a_path_that_cannot_be_opened_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="open"):
        SqliteStore(tmp_path / "missing-dir" / "crm.db")
    with pytest.raises(StorageError):
        SqliteStore(tmp_path)  # a directory


@pytest.mark.parametrize("bad", ["", b"crm.db", 3])
def test_bad_paths_are_validation_errors(bad: Any) -> None:
    with pytest.raises(ValidationError):
        SqliteStore(bad)


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "5", True])
def test_bad_timeouts_are_validation_errors(db: Path, bad: Any) -> None:
    with pytest.raises(ValidationError):
        SqliteStore(db, timeout=bad)


def test_migrations_apply_in_order_all_or_nothing(tmp_path: Path) -> None:
    def create(connection: sqlite3.Connection) -> None:
        connection.execute("CREATE TABLE IF NOT EXISTS t (x)")

    def fill(connection: sqlite3.Connection) -> None:
        connection.execute("INSERT INTO t VALUES (1)")

    def broken(connection: sqlite3.Connection) -> None:
        connection.execute("INSERT INTO no_such_table VALUES (1)")

    connection = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError):
            migrate(connection, [create, fill, broken])
        assert user_version(connection) == 0
        assert connection.execute("SELECT name FROM sqlite_master").fetchall() == []
        assert migrate(connection, [create]) == 1
        assert migrate(connection, [create, fill]) == 2  # only the new one runs
        assert migrate(connection, [create, fill]) == 2  # up to date: nothing runs
        assert connection.execute("SELECT x FROM t").fetchall() == [(1,)]
        with pytest.raises(SchemaVersionError):
            migrate(connection, [create])
        assert not connection.in_transaction
    finally:
        connection.close()


def test_connections_use_wal_full_sync_and_foreign_keys(store: SqliteStore, db: Path) -> None:
    assert raw(db, "PRAGMA journal_mode") == [("wal",)]
    with store._connections.use() as connection:  # white box: per-connection settings
        assert connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        assert connection.execute("PRAGMA foreign_keys").fetchone() == (1,)
        assert connection.execute("PRAGMA busy_timeout").fetchone() == (5000,)
        assert connection.isolation_level is None


def test_customer_columns_follow_the_schema(store: SqliteStore, db: Path) -> None:
    columns = {name: kind for _cid, name, kind, *_rest in raw(db, "PRAGMA table_info(customers)")}
    scalars = [c for c in CUSTOMER_SCHEMA.columns if c.kind != "tags" and c.name != "id"]
    assert list(columns) == ["id", "version", "body", *(c.name for c in scalars)]
    sql_types = {
        "string": "TEXT",
        "category": "TEXT",
        "int": "INTEGER",
        "float": "REAL",
        "bool": "INTEGER",
        "datetime": "INTEGER",
        "date": "TEXT",
    }
    assert {c.name: sql_types[c.kind] for c in scalars} == {
        c.name: columns[c.name] for c in scalars
    }


def test_a_schema_column_without_a_migration_fails_clearly(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SqliteStore(db).close()
    columns = (*customer_columns.CUSTOMER_COLUMNS, "loyalty_tier")
    monkeypatch.setattr(customer_columns, "CUSTOMER_COLUMNS", columns)
    with pytest.raises(StorageError, match="loyalty_tier"):
        SqliteStore(db)


# --------------------------------------------------------------------------- round trips


def test_a_rich_customer_round_trips_exactly(db: Path) -> None:
    customer = rich_customer()
    with SqliteStore(db) as store:
        (stored,) = add_all(store, customer)
    with SqliteStore(db) as store, store.unit_of_work() as uow:
        loaded = uow.customers.get(customer.id)
        assert loaded == stored == attrs.evolve(customer, version=1)
        assert uow.customers.find_by_email("ann.lee1@example.com") == stored
        assert uow.customers.list().items == (stored,)
    for name, value in customer.attributes.items():
        assert type(loaded.attributes[name]) is type(value), name
        assert str(loaded.attributes[name]) == str(value), name
    assert loaded.created_at.tzinfo is UTC


def test_an_erased_customer_round_trips(store: SqliteStore) -> None:
    (stored,) = add_all(store, rich_customer())
    erased = stored.erase(T0 + timedelta(days=1)).value
    with store.unit_of_work() as uow:
        saved = uow.customers.save(erased)
    with store.unit_of_work() as uow:
        assert uow.customers.get(stored.id) == saved
        assert uow.customers.find_by_email("ann.lee1@example.com") is None
    assert next(store._backend.customer_records())["erased"] is True


def test_real_columns_hold_the_documented_encodings(store: SqliteStore, db: Path) -> None:
    add_all(store, rich_customer())
    (row,) = raw(
        db,
        "SELECT email, created_at, birth_date, gender, country, total_spent, currency,"
        " consent_email, consent_sms, erased, purchase_count, last_service_at FROM customers",
    )
    micros = (datetime(2023, 12, 31, 22, 59, 59, 999999, tzinfo=UTC) - EPOCH) // US
    assert row == (
        "ann.lee1@example.com",
        micros,
        "1988-02-29",
        "female",
        "DE",
        123.45,
        "EUR",
        1,
        0,
        0,
        3,
        (T0 - EPOCH) // US,
    )
    tags = raw(db, "SELECT field, tag FROM customer_tags ORDER BY field, tag")
    assert tags == [
        ("interests", "hiking"),
        ("interests", "jazz"),
        ("lifestyle", "urban"),
        ("tags", "newsletter:2024"),
        ("tags", "vip"),
        ("values", "sustainability"),
    ]
    attributes = {
        name: (kind, value)
        for name, kind, value in raw(db, "SELECT name, type, value FROM customer_attributes")
    }
    assert attributes["credit_limit"] == ("decimal", "1000.50")
    assert attributes["huge"] == ("int", -(2**63))
    assert attributes["member_since"] == ("date", "2019-07-04")
    assert attributes["member"] == ("bool", 1)


def test_customer_records_equal_customer_record_including_key_order(store: SqliteStore) -> None:
    customers = add_all(store, rich_customer(2), plain_customer(3), rich_customer(1))
    expected = [customer_record(c) for c in sorted(customers, key=lambda c: c.id)]
    records = list(store._backend.customer_records())
    assert records == expected
    assert [list(r) for r in records] == [list(r) for r in expected]
    for got, want in zip(records, expected, strict=True):
        for key, value in want.items():
            assert type(got[key]) is type(value), key


def test_to_frame_equals_a_frame_of_the_customers(store: SqliteStore) -> None:
    frame_module = pytest.importorskip("crmcore.columnar.frame")
    rich = [rich_customer(2), rich_customer(1)]
    customers = add_all(store, rich[0], plain_customer(3), rich[1])
    with store.unit_of_work() as uow:
        frame = uow.customers.to_frame()
    ordered = sorted(customers, key=lambda c: c.id)
    assert frame == frame_module.CustomerFrame.from_customers(ordered)


def test_to_frame_of_an_empty_store(store: SqliteStore) -> None:
    frame_module = pytest.importorskip("crmcore.columnar.frame")
    with store.unit_of_work() as uow:
        assert uow.customers.to_frame() == frame_module.CustomerFrame.from_customers([])


AMOUNTS = ["0", "0.1", "19.990", "1E+2", "123456789012345.12", "-0", "0.010"]


def test_purchase_amounts_are_exact(store: SqliteStore, db: Path) -> None:
    purchases = [
        Purchase(f"O-{i}", "C-0001", T0 + timedelta(hours=i), Money(amount, "EUR"))
        for i, amount in enumerate(AMOUNTS)
    ]
    with store.unit_of_work() as uow:
        for purchase in purchases:
            uow.purchases.add(purchase)
    with store.unit_of_work() as uow:
        loaded = uow.purchases.for_customer("C-0001")
    assert loaded == tuple(purchases)
    assert [str(p.amount.amount) for p in loaded] == [str(Decimal(a)) for a in AMOUNTS]
    assert [a for (a,) in raw(db, "SELECT amount FROM purchases ORDER BY at")] == [
        str(Decimal(a)) for a in AMOUNTS
    ]


def test_transaction_records_and_log(store: SqliteStore) -> None:
    at = T0 + timedelta(days=1)
    purchases = [
        Purchase("O-2", "C-0002", at, Money("5.50", "USD"), items=2, channel="store"),
        Purchase("O-1", "C-0001", at, Money("19.99", "EUR"), category="Shoes"),
        Purchase("O-0", "C-0001", T0, Money("0.10", "EUR")),
    ]
    with store.unit_of_work() as uow:
        for purchase in purchases:
            uow.purchases.add(purchase)
    records = list(store._backend.transaction_records())
    assert [r["order_id"] for r in records] == ["O-0", "O-1", "O-2"]  # by (at, order id)
    assert records[1] == {
        "customer_id": "C-0001",
        "at": at,
        "amount": 19.99,
        "currency": "EUR",
        "order_id": "O-1",
        "items": 1,
        "channel": "web",
        "category": "shoes",
    }
    frame_module = pytest.importorskip("crmcore.columnar.frame")
    ordered = sorted(purchases, key=lambda p: (p.at, p.order_id))
    with store.unit_of_work() as uow:
        assert uow.purchases.to_log() == frame_module.TransactionLog.from_purchases(ordered)


def test_interactions_and_service_records_round_trip_in_time_order(store: SqliteStore) -> None:
    interactions = [
        Interaction("I-2", "C-0001", T0, "web", "website_visit", Stage.INTEREST, "asked for €"),
        Interaction("I-1", "C-0001", T0, "email", "newsletter_click"),
        Interaction("I-0", "C-0001", T0 + timedelta(microseconds=1), "store", "demo_request"),
        Interaction("I-9", "C-0002", T0 - timedelta(days=1), "chat", "service_inquiry"),
    ]
    services = [
        ServiceRecord("S-1", "C-0001", T0, "repair", "phone", "screen", T0 + timedelta(hours=2)),
        ServiceRecord("S-0", "C-0001", T0 - timedelta(days=3), "complaint", "email"),
    ]
    with store.unit_of_work() as uow:
        for interaction in interactions:
            uow.interactions.add(interaction)
        for service in services:
            uow.service_records.add(service)
    with store.unit_of_work() as uow:
        assert uow.interactions.for_customer("C-0001") == (
            interactions[1],
            interactions[0],
            interactions[2],
        )
        assert uow.interactions.get("I-2").stage is Stage.INTEREST
        assert uow.service_records.for_customer("C-0001") == (services[1], services[0])
        assert uow.interactions.count() == 4
        assert uow.service_records.count() == 2
        assert uow.interactions.find("I-404") is None
        assert uow.interactions.redact("C-0001") == 1
        assert uow.service_records.redact("C-0001") == 1
    with store.unit_of_work() as uow:
        assert uow.interactions.get("I-2").note is None
        assert uow.service_records.get("S-1").summary == ""
        assert uow.service_records.get("S-1").resolved_at == T0 + timedelta(hours=2)
    frame_module = pytest.importorskip("crmcore.columnar.frame")
    ordered = sorted(interactions, key=lambda i: (i.at, i.id))
    with store.unit_of_work() as uow:
        expected = frame_module.EventLog.from_interactions(
            [attrs.evolve(i, note=None) if i.id == "I-2" else i for i in ordered]
        )
        assert uow.interactions.to_log() == expected


# --------------------------------------------------------------------------- generic kinds


@attrs.frozen
class Voucher:
    """A plug-in aggregate with a unique code (stored in the generic tables)."""

    id: str
    code: str | None
    value: Decimal
    version: int = 0


@attrs.frozen
class Visit:
    """A plug-in record kind (stored in the generic records table)."""

    id: str
    customer_id: str
    at: datetime
    page: str


VOUCHERS: AggregateKind[Voucher] = AggregateKind("voucher", Voucher, (("code", lambda v: v.code),))
VISITS: RecordKind[Visit] = RecordKind("visit", Visit, "id")


def test_plug_in_aggregates_use_the_generic_tables(store: SqliteStore, db: Path) -> None:
    with store.unit_of_work() as uow:
        vouchers = uow.repository(VOUCHERS)
        a = vouchers.add(Voucher("V-1", "SPRING", Decimal("5.00")))
        vouchers.add(Voucher("V-2", None, Decimal("1")))
        vouchers.add(Voucher("V-3", None, Decimal("2")))
    with store.unit_of_work() as uow:
        vouchers = uow.repository(VOUCHERS)
        assert vouchers.get("V-1") == a
        assert vouchers.count() == 3
        assert [v.id for v in vouchers.list(limit=2).items] == ["V-1", "V-2"]
        assert [v.id for v in vouchers.list(after="V-1").items] == ["V-2", "V-3"]
        with pytest.raises(AlreadyExistsError) as caught:
            vouchers.add(Voucher("V-4", "SPRING", Decimal("1")))
        assert caught.value.field == "code"
        # Move the code from V-1 to V-2 in one unit of work.
        vouchers.save(attrs.evolve(a, code=None))
        vouchers.save(attrs.evolve(vouchers.get("V-2"), code="SPRING"))
    assert raw(db, "SELECT kind, key, value, id FROM aggregate_keys") == [
        ("voucher", "code", "SPRING", "V-2")
    ]
    with store.unit_of_work() as uow:
        assert store._backend.fetch_by_key(VOUCHERS, "code", "SPRING") == uow.repository(
            VOUCHERS
        ).get("V-2")
        assert uow.customers.count() == 0


def test_plug_in_records_use_the_generic_table(store: SqliteStore) -> None:
    visits = [
        Visit("W-2", "C-0001", T0.astimezone(CET), "/home"),
        Visit("W-1", "C-0001", T0 + timedelta(seconds=1), "/cart"),
        Visit("W-0", "C-0001", T0, "/"),
    ]
    with store.unit_of_work() as uow:
        for visit in visits:
            uow.records(VISITS).add(visit)
    with store.unit_of_work() as uow:
        repository = uow.records(VISITS)
        assert repository.for_customer("C-0001") == (visits[2], visits[0], visits[1])
        assert repository.get("W-2").at.utcoffset() == timedelta(hours=1)  # exact document
        assert repository.count() == 3
        assert uow.interactions.count() == 0


# --------------------------------------------------------------------------- outbox


def test_the_outbox_persists_across_reopening(db: Path) -> None:
    with SqliteStore(db) as store:
        with store.unit_of_work() as uow:
            uow.customers.add(uow.take(Customer.register("C-1", "Ann", T0)))
        with store.unit_of_work() as uow:
            customer = uow.customers.get("C-1")
            uow.customers.save(uow.take(customer.tag(["vip"], T0)))
            uow.collect(
                CustomerErased(aggregate_id="C-1", occurred_at=T0.astimezone(CET), reason="x")
            )
        first = store.outbox.pending()
        store.outbox.mark_published([first[0].position])
    with SqliteStore(db) as store:
        pending = store.outbox.pending()
        assert pending == first[1:]
        kinds = ["customer.registered", "customer.tags_changed", "customer.erased"]
        assert [m.kind for m in first] == kinds
        assert first[0].event == Customer.register("C-1", "Ann", T0).events[0]
        assert first[2].occurred_at == T0
        assert first[2].occurred_at.utcoffset() == timedelta(hours=1)  # exactly as collected
        assert [m.position for m in first] == sorted({m.position for m in first})
        handed: list[int] = []
        assert store.outbox.relay(lambda m: handed.append(m.position)) == 2
        assert handed == [m.position for m in first[1:]]
        assert store.outbox.pending() == []
        store.outbox.mark_published([m.position for m in first] + [999])  # idempotent
    stamps = raw(db, "SELECT published_at FROM outbox ORDER BY position")
    assert all(datetime.fromisoformat(s).tzinfo is not None for (s,) in stamps)


def test_relay_marks_what_it_handed_on_even_when_the_handler_fails(db: Path) -> None:
    class RefusedError(Exception):
        pass

    with SqliteStore(db) as store:
        add_all(store, *(plain_customer(n) for n in range(3)))
        with store.unit_of_work() as uow:
            for n in range(4):
                uow.collect(CustomerErased(aggregate_id=f"C-{n}", occurred_at=T0, reason="test"))
        messages = store.outbox.pending()
        handed: list[str] = []

        def handler(message: Any) -> None:
            if message.aggregate_id == "C-2":
                raise RefusedError
            handed.append(message.aggregate_id)

        with pytest.raises(RefusedError):
            store.outbox.relay(handler)
        assert handed == ["C-0", "C-1"]
    with SqliteStore(db) as store:
        assert store.outbox.pending() == messages[2:]
        assert store.outbox.relay(lambda m: None, limit=1) == 1
        assert store.outbox.pending() == messages[3:]


def test_outbox_arguments_are_validated(store: SqliteStore) -> None:
    with pytest.raises(ValidationError):
        store.outbox.pending(0)
    with pytest.raises(ValidationError):
        store.outbox.mark_published(["1"])  # type: ignore[list-item]
    store.outbox.mark_published([])


# --------------------------------------------------------------------------- errors


def test_duplicate_id_is_already_exists(store: SqliteStore) -> None:
    add_all(store, plain_customer(1))
    with pytest.raises(AlreadyExistsError) as caught, store.unit_of_work() as uow:
        uow.customers.add(plain_customer(1))
    assert (caught.value.entity, caught.value.key, caught.value.field) == (
        "customer",
        "C-0001",
        "id",
    )


def test_duplicate_email_is_already_exists_even_when_found_at_commit(store: SqliteStore) -> None:
    first, second = store.unit_of_work(), store.unit_of_work()
    with first, second:
        first.customers.add(plain_customer(1, "ann@example.com"))
        second.customers.add(plain_customer(2, "ANN@example.com"))
        first.commit()
        with pytest.raises(AlreadyExistsError) as caught:
            second.commit()
    assert (caught.value.entity, caught.value.key, caught.value.field) == (
        "customer",
        "ann@example.com",
        "email",
    )
    with store.unit_of_work() as uow:
        assert uow.customers.count() == 1


def test_stale_version_is_a_conflict_at_save_and_at_commit(store: SqliteStore) -> None:
    (customer,) = add_all(store, plain_customer(1))
    with store.unit_of_work() as uow:
        uow.customers.save(customer.tag(["a"], T0).value)
    with pytest.raises(ConcurrencyConflictError) as caught, store.unit_of_work() as uow:
        uow.customers.save(customer.tag(["b"], T0).value)
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    late = store.unit_of_work()
    with late:
        late.customers.save(attrs.evolve(customer, version=2, name="Late"))
        with store.unit_of_work() as uow:
            uow.customers.save(uow.customers.get(customer.id).tag(["c"], T0).value)
        with pytest.raises(ConcurrencyConflictError) as caught:
            late.commit()
    assert (caught.value.expected, caught.value.actual) == (2, 3)


def test_a_closed_unit_of_work_and_a_closed_store_refuse_use(db: Path) -> None:
    store = SqliteStore(db)
    with store.unit_of_work() as uow:
        pass
    with pytest.raises(IllegalTransitionError):
        uow.customers.count()
    open_uow = store.unit_of_work()
    store.close()
    store.close()  # idempotent
    with pytest.raises(StorageError, match="closed"):
        open_uow.customers.find("C-0001")
    with pytest.raises(StorageError, match="closed"):
        store.unit_of_work()
    with pytest.raises(StorageError, match="closed"):
        store.outbox.pending()


def test_a_locked_database_is_a_storage_error_after_the_timeout(db: Path) -> None:
    with SqliteStore(db, timeout=0.05) as store:
        blocker = sqlite3.connect(db, isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")
            with pytest.raises(StorageError, match="locked") as caught:
                add_all(store, plain_customer(1))
            assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
            with store.unit_of_work() as uow:  # readers are not blocked (WAL)
                assert uow.customers.count() == 0
            blocker.execute("ROLLBACK")
        finally:
            blocker.close()
        add_all(store, plain_customer(1))  # and the store recovers


def test_unstorable_values_are_storage_errors_not_overflow(store: SqliteStore) -> None:
    customer = attrs.evolve(plain_customer(1), purchases=PurchaseSummary(count=2**70))
    with pytest.raises(StorageError, match="cannot be stored") as caught:
        add_all(store, customer)
    assert isinstance(caught.value.__cause__, OverflowError)


def test_database_unique_constraints_surface_as_already_exists(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the adapter's own checks switched off, SQLite's constraints still speak crmcore."""
    add_all(store, plain_customer(1, "ann@example.com"))
    with store.unit_of_work() as uow:
        uow.purchases.add(Purchase("O-1", "C-0001", T0, Money("1", "EUR")))
        uow.repository(VOUCHERS).add(Voucher("V-1", "SPRING", Decimal("5")))
    monkeypatch.setattr(SqliteBackend, "_validate", lambda *_args: {})
    twin = attrs.evolve(plain_customer(2, "ann@example.com"), version=1)
    late_order = Purchase("O-1", "C-0002", T0, Money("2", "EUR"))
    cases: list[tuple[ChangeSet, tuple[str, object, str]]] = [
        (
            ChangeSet(aggregates=(AggregateWrite(CUSTOMERS, twin, 0),)),
            ("customer", "ann@example.com", "email"),
        ),
        (ChangeSet(records=(RecordWrite(PURCHASES, late_order),)), ("purchase", "O-1", "id")),
        (
            ChangeSet(
                aggregates=(AggregateWrite(VOUCHERS, Voucher("V-2", "SPRING", Decimal(1), 1), 0),)
            ),
            ("voucher", "SPRING", "code"),
        ),
    ]
    for changes, expected in cases:
        with pytest.raises(AlreadyExistsError) as caught:
            store._backend.apply(changes)
        assert (caught.value.entity, caught.value.key, caught.value.field) == expected
        assert isinstance(caught.value.__cause__, sqlite3.IntegrityError)
    with store.unit_of_work() as uow:  # every commit was rolled back
        assert uow.customers.count() == 1
        assert uow.purchases.get("O-1").customer_id == "C-0001"
        assert uow.repository(VOUCHERS).count() == 1


def test_other_constraint_failures_are_storage_errors(store: SqliteStore, db: Path) -> None:
    connection = sqlite3.connect(db)
    connection.execute(
        "CREATE TRIGGER no_vips BEFORE INSERT ON customer_tags WHEN NEW.tag = 'vip'"
        " BEGIN SELECT RAISE(ABORT, 'no VIPs here'); END"
    )
    connection.commit()
    connection.close()
    with pytest.raises(StorageError, match="no VIPs here"), store.unit_of_work() as uow:
        uow.customers.add(attrs.evolve(plain_customer(1), tags={"vip"}))
    with store.unit_of_work() as uow:
        assert uow.customers.count() == 0


def test_the_public_api_raises_only_crm_errors(store: SqliteStore) -> None:
    """Each failure mode of this adapter, caught as CrmError."""
    add_all(store, plain_customer(1, "ann@example.com"))
    attempts: list[Callable[[BufferedUnitOfWork], object]] = [
        lambda uow: uow.customers.add(plain_customer(1)),
        lambda uow: uow.customers.add(plain_customer(2, "ann@example.com")),
        lambda uow: uow.customers.save(attrs.evolve(plain_customer(1), version=7)),
        lambda uow: uow.customers.get("C-0404"),
        lambda uow: uow.customers.list(limit=0),
    ]
    for attempt in attempts:
        with pytest.raises(CrmError), store.unit_of_work() as uow:
            attempt(uow)
    with pytest.raises(NotFoundError), store.unit_of_work() as uow:
        uow.customers.get_by_email("nobody@example.com")


# --------------------------------------------------------------------------- threads and memory


def test_each_thread_gets_its_own_connection_and_ended_threads_release_theirs(
    store: SqliteStore,
) -> None:
    add_all(store, plain_customer(1))
    counts: list[int] = []

    def count() -> None:
        with store.unit_of_work() as uow:
            counts.append(uow.customers.count())

    for _ in range(5):
        thread = threading.Thread(target=count)
        thread.start()
        thread.join()
    assert counts == [1] * 5
    count()
    # The main thread's connection, plus at most the last thread's (closed on next open).
    assert len(store._connections._open) <= 2


def test_memory_store_is_shared_by_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with SqliteStore() as store:
        assert store.path == ":memory:"
        errors: list[BaseException] = []

        def add(n: int) -> None:
            try:
                add_all(store, plain_customer(n, f"c{n}@example.com"))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 8
        assert repr(store) == "SqliteStore(':memory:')"
    assert list(tmp_path.iterdir()) == []  # no file was created
