"""PostgreSQL adapter specifics: schema and migrations, exact round trips, indexes, the outbox and
its relays, races between threads, borrowed pools, errors, and erasure leaving no personal data.

The behaviour every store shares is the contract kit's (``test_postgres_contract.py``); the
multi-process concurrency and crash tests are in ``test_postgres_concurrency.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest

from crmcore.customers import (
    ActivitySummary,
    ConsentRecord,
    Contact,
    Customer,
    Demographics,
    Gender,
    Geography,
    Interaction,
    Psychographics,
    Purchase,
    PurchaseSummary,
    ServiceRecord,
)
from crmcore.feedback import Feedback
from crmcore.kernel.errors import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    CrmError,
    MissingDependencyError,
    SchemaVersionError,
    StorageError,
    ValidationError,
)
from crmcore.kernel.money import Money
from crmcore.ports import OutboxMessage
from crmcore.segments.rules import And, Field, HasTag, IsNull
from crmcore.services import (
    act_on_case,
    erase_customer,
    record_interaction,
    record_purchase,
    record_service,
    register_customer,
    submit_feedback,
)
from crmcore.storage.kinds import AggregateKind, RecordKind
from crmcore.storage.memory import MemoryStore
from crmcore.storage.postgres import SCHEMA_VERSION, PostgresStore, migrate
from crmcore.storage.postgres.connections import Database, check_schema_name, load_psycopg
from tests.storage._postgres import ThrowawayStore, drop_schema, postgres_dsn, schema_name

T0 = datetime(2024, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
CET = timezone(timedelta(hours=1))
WAIT = 60.0


@pytest.fixture
def dsn() -> str:
    return postgres_dsn()


@pytest.fixture
def store(dsn: str) -> Iterator[ThrowawayStore]:
    opened = ThrowawayStore(dsn, max_size=6)
    try:
        yield opened
    finally:
        opened.close()


def raw(dsn: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement on a separate plain connection."""
    psycopg = load_psycopg()
    with psycopg.connect(dsn, autocommit=True) as connection:
        cursor = connection.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def q(name: str) -> str:
    return '"' + name.replace('"', '""').replace("%", "%%") + '"'


def rich_customer(n: int = 1) -> Customer:
    """A customer with every field set (and a time zone other than UTC on the way in)."""
    first = T0 - timedelta(days=90, microseconds=7)
    return Customer(
        id=f"C-{n:04d}",
        name=f"Ann  Lee {n}",
        created_at=datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=CET),
        contact=Contact(email=f"Ann.Lee{n}@Example.COM", phone="+44 20 7946 0958"),
        demographics=Demographics(birth_date=date(1988, 2, 29), gender=Gender.FEMALE),
        geography=Geography(country="de", region="Berlin", city="Berlin", postal_code="10115"),
        psychographics=Psychographics(interests={"hiking", "jazz"}, lifestyle={"urban"}),
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
            ConsentRecord("sms", False, T0, "unsubscribe link"),
        ),
        purchases=PurchaseSummary(3, 7, Money("123.450", "EUR"), first, T0),
        interactions=ActivitySummary(5, first, T0),
        service=ActivitySummary(1, T0, T0),
    )


# --------------------------------------------------------------------------- schema


def test_the_schema_holds_crmcores_tables_at_the_current_version(
    store: ThrowawayStore, dsn: str
) -> None:
    assert store.schema_version == SCHEMA_VERSION >= 1
    rows = raw(
        dsn,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
        (store.schema,),
    )
    assert {r[0] for r in rows} == {
        "schema_migrations", "customers", "customer_tags", "customer_attributes", "aggregates",
        "aggregate_keys", "aggregate_index", "purchases", "interactions", "service_records",
        "records", "outbox",
    }  # fmt: skip
    versions = raw(dsn, f"SELECT version, description FROM {q(store.schema)}.schema_migrations")
    assert [v for v, _d in versions] == list(range(1, SCHEMA_VERSION + 1))
    types = dict(
        raw(
            dsn,
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = %s",
            (store.schema,),
        )
    )
    assert types["customers.body"] == types["aggregates.body"] == "jsonb"
    assert types["records.body"] == types["outbox.payload"] == "jsonb"
    assert types["customers.created_at"] == "timestamp with time zone"
    assert types["customers.birth_date"] == "date"
    assert types["customers.total_spent"] == "double precision"
    assert types["customers.consent_email"] == "boolean"
    assert types["purchases.amount"] == "numeric"


def test_migrating_is_idempotent_and_safe_from_many_processes_at_once(dsn: str) -> None:
    name = schema_name("mig")
    results: list[object] = []

    def run() -> None:
        try:
            results.append(migrate(dsn, schema=name))
        except BaseException as exc:  # pragma: no cover - reported by the assertion
            results.append(exc)

    try:
        threads = [threading.Thread(target=run) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)
        assert results == [SCHEMA_VERSION] * 6
        assert migrate(dsn, schema=name) == SCHEMA_VERSION
        count = raw(dsn, f"SELECT COUNT(*) FROM {q(name)}.schema_migrations")
        assert count == [(SCHEMA_VERSION,)]
        with PostgresStore(dsn, schema=name, migrate=False) as opened:
            assert opened.schema_version == SCHEMA_VERSION
    finally:
        drop_schema(dsn, name)


def test_opening_without_migrating_needs_a_migrated_schema(dsn: str) -> None:
    name = schema_name("nomig")
    with pytest.raises(StorageError, match="migrate"):
        PostgresStore(dsn, schema=name, migrate=False)
    assert raw(dsn, "SELECT 1 FROM pg_namespace WHERE nspname = %s", (name,)) == []


def test_a_newer_schema_is_refused_and_left_alone(store: ThrowawayStore, dsn: str) -> None:
    table = f"{q(store.schema)}.schema_migrations"
    raw(dsn, f"INSERT INTO {table} (version, description) VALUES (99, 'from the future')")
    for migrating in (True, False):
        with pytest.raises(SchemaVersionError) as info:
            PostgresStore(dsn, schema=store.schema, migrate=migrating)
        assert (info.value.found, info.value.supported) == (99, SCHEMA_VERSION)
    assert raw(dsn, f"SELECT MAX(version) FROM {table}") == [(99,)]


def test_schema_names_are_checked_and_any_valid_name_works(dsn: str) -> None:
    for bad in ("", "x" * 64, "pg_crm", "a\x00b", 7, None):
        with pytest.raises(ValidationError) as info:
            check_schema_name(bad)
        assert info.value.field == "schema"
    odd = schema_name('q"uote 50%')
    try:
        with PostgresStore(dsn, schema=odd) as opened, opened.unit_of_work() as uow:
            uow.customers.add(rich_customer())
        with PostgresStore(dsn, schema=odd, migrate=False) as opened:
            with opened.unit_of_work() as uow:
                assert uow.customers.get("C-0001").attributes["tier"] == "gold"
            rule = And((IsNull(Field("attr.tier"), negated=True), HasTag("vip")))
            assert opened.segment_members(rule, T0) == ["C-0001"]
    finally:
        drop_schema(dsn, odd)


# --------------------------------------------------------------------------- round trips


def test_a_rich_customer_round_trips_exactly(store: ThrowawayStore) -> None:
    customer = rich_customer()
    with store.unit_of_work() as uow:
        stored = uow.customers.add(customer)
    with store.unit_of_work() as uow:
        loaded = uow.customers.get(customer.id)
        assert loaded == stored == attrs.evolve(customer, version=1)
        assert uow.customers.find_by_email("ann.lee1@example.com") == stored
    for name, value in customer.attributes.items():
        assert type(loaded.attributes[name]) is type(value), name
        if name != "negative_zero":  # jsonb numbers are numeric: -0.0 comes back 0.0 (equal)
            assert str(loaded.attributes[name]) == str(value), name
    record = next(iter(store._backend.customer_records()))
    assert str(record["attr.negative_zero"]) == "-0.0"  # the attribute rows keep it exactly
    assert record["attr.huge"] == -(2**63)
    assert record["attr.last_login"] == datetime(2024, 2, 29, 22, 0, 0, 1, tzinfo=UTC)
    assert record["created_at"] == customer.created_at


def test_frames_and_logs_equal_those_of_the_memory_store(store: ThrowawayStore) -> None:
    memory = MemoryStore()
    customers = [rich_customer(n) for n in (2, 1, 3)]
    purchases = [
        Purchase("O-2", "C-0002", T0 + timedelta(hours=2), Money("0.10", "EUR")),
        Purchase("O-1", "C-0001", T0.astimezone(CET), Money("19.99", "EUR"), category="shoes"),
        Purchase("O-3", "C-0009", T0, Money("1E+2", "USD"), items=3),
    ]
    interactions = [
        Interaction("I-1", "C-0001", T0, "web", "website_visit", note="hi"),
        Interaction("I-0", "C-0002", T0, "email", "email_open"),
    ]
    for target in (memory, store):
        with target.unit_of_work() as uow:
            for customer in customers:
                uow.customers.add(customer)
            for purchase in purchases:
                uow.purchases.add(purchase)
            for interaction in interactions:
                uow.interactions.add(interaction)
    with memory.unit_of_work() as left, store.unit_of_work() as right:
        assert right.customers.to_frame() == left.customers.to_frame()
        assert right.purchases.to_log() == left.purchases.to_log()
        assert right.interactions.to_log() == left.interactions.to_log()
        assert right.purchases.for_customer("C-0001") == left.purchases.for_customer("C-0001")
        assert right.purchases.get("O-3").amount == Money("100", "USD")
        assert right.purchases.get("O-2").amount.amount.as_tuple().exponent == -2  # exact


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


def test_kinds_declared_later_use_the_generic_tables(store: ThrowawayStore, dsn: str) -> None:
    with store.unit_of_work() as uow:
        vouchers = uow.repository(VOUCHERS)
        first = vouchers.add(Voucher("V-1", "SPRING", Decimal("5.00")))
        vouchers.add(Voucher("V-2", None, Decimal("1")))
        uow.records(VISITS).add(Visit("W-1", "C-1", T0.astimezone(CET), "/home"))
        uow.records(VISITS).add(Visit("W-0", "C-1", T0 - timedelta(seconds=1), "/"))
    with store.unit_of_work() as uow:
        vouchers = uow.repository(VOUCHERS)
        assert vouchers.get("V-1") == first
        with pytest.raises(AlreadyExistsError) as caught:
            vouchers.add(Voucher("V-3", "SPRING", Decimal("1")))
        assert caught.value.field == "code"
        vouchers.save(attrs.evolve(first, code=None))  # move the code in one unit of work
        vouchers.save(attrs.evolve(vouchers.get("V-2"), code="SPRING"))
    with store.unit_of_work() as uow:
        assert uow.repository(VOUCHERS).get("V-2").code == "SPRING"
        visits = uow.records(VISITS).for_customer("C-1")
        assert [v.id for v in visits] == ["W-0", "W-1"]
        assert visits[1].at.utcoffset() == timedelta(hours=1)  # the exact document
    keys = raw(dsn, f"SELECT kind, key, value, id FROM {q(store.schema)}.aggregate_keys")
    assert keys == [("voucher", "code", "SPRING", "V-2")]


# --------------------------------------------------------------------------- indexes


def test_every_query_the_repositories_and_the_outbox_make_uses_an_index(
    store: ThrowawayStore, dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_customer(store, Customer.register("C-1", "Ann", T0, contact=Contact(email="a@x.io")))
    psycopg = load_psycopg()
    seen: list[tuple[str, tuple[Any, ...]]] = []
    real_execute = psycopg.Connection.execute

    def execute(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        if isinstance(query, str) and query.lstrip().upper().startswith("SELECT"):
            seen.append((query, tuple(params or ())))
        return real_execute(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", execute)
    record_purchase(store, Purchase("O-1", "C-1", T0, Money("5", "EUR")))
    record_interaction(store, Interaction("I-1", "C-1", T0, "web", "website_visit"))
    record_service(store, ServiceRecord("S-1", "C-1", T0, "repair", "phone", "broken"))
    submit_feedback(
        store, Feedback(id="F-1", customer_id="C-1", channel="email", kind="complaint", at=T0)
    )
    with store.unit_of_work() as uow:
        uow.customers.get_by_email("A@X.IO")
        uow.customers.list(limit=5, after="A")
        uow.customers.count()
        uow.purchases.for_customer("C-1")
        uow.interactions.get("I-1")
        uow.service_records.count()
        uow.cases.find_by_feedback("F-1")
        uow.loyalty_accounts.find_for_customer("P", "C-1")
        uow.records(VISITS).for_customer("C-1")
        uow.repository(VOUCHERS).list()
        uow.purchases.to_log()
        uow.interactions.to_log()
    store.outbox.pending()
    store.outbox.relay(lambda m: None, limit=1)
    store.outbox.count(published=False)
    monkeypatch.undo()
    queries = {sql: params for sql, params in seen if "information_schema" not in sql}
    assert len(queries) >= 20
    psycopg = load_psycopg()
    with psycopg.connect(dsn) as connection:
        connection.execute("SET LOCAL enable_seqscan = off", ())
        for sql, params in queries.items():
            plan = "\n".join(
                row[0] for row in connection.execute("EXPLAIN " + sql, params).fetchall()
            )
            assert "Seq Scan" not in plan, f"{sql}\n{plan}"


# --------------------------------------------------------------------------- the outbox


def test_several_relays_hand_on_every_message_exactly_once(store: ThrowawayStore) -> None:
    with store.unit_of_work() as uow:
        for n in range(300):
            uow.collect(*Customer.register(f"C-{n:04d}", f"C {n}", T0).events)
    handed: list[tuple[str, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(4, timeout=WAIT)

    def relay(name: str) -> None:
        start.wait()

        def handle(message: OutboxMessage) -> None:
            with lock:
                handed.append((name, message.position))

        while store.outbox.relay(handle, limit=7):
            pass

    threads = [threading.Thread(target=relay, args=(f"relay-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    positions = [p for _name, p in handed]
    assert sorted(positions) == sorted(set(positions)) and len(positions) == 300
    assert len({name for name, _p in handed}) >= 2  # the relays did share the work
    assert store.outbox.pending() == [] and store.outbox.count(published=True) == 300


def test_a_claimed_batch_is_skipped_by_other_relays(store: ThrowawayStore) -> None:
    with store.unit_of_work() as uow:
        for n in range(5):
            uow.collect(*Customer.register(f"C-{n}", f"C {n}", T0).events)
    with store.outbox.claim(limit=2) as first:
        assert [m.aggregate_id for m in first] == ["C-0", "C-1"]
        with store.outbox.claim(limit=10) as second:
            assert [m.aggregate_id for m in second] == ["C-2", "C-3", "C-4"]
            second.done(second.messages[0])
        first.done(first.messages[0])
        first.done(first.messages[1])
        with pytest.raises(ValidationError):
            first.done(second.messages[1])
    assert [m.aggregate_id for m in store.outbox.pending()] == ["C-3", "C-4"]
    with pytest.raises(ValidationError):
        store.outbox.count(published="yes")  # type: ignore[arg-type]


def test_positions_follow_commit_order_so_one_relay_hands_them_on_in_order(
    store: ThrowawayStore,
) -> None:
    """Writers commit events concurrently while one relay runs: it never sees a position after
    one that is still to come (the outbox's ordering lock)."""
    writers, per_writer = 4, 40
    stop = threading.Event()
    batches: list[list[int]] = []
    errors: list[BaseException] = []

    def write(w: int) -> None:
        try:
            for n in range(per_writer):
                with store.unit_of_work() as uow:
                    uow.collect(*Customer.register(f"W{w}-{n}", "x", T0).events)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def relay() -> None:
        while not stop.is_set() or store.outbox.pending(limit=1):
            batch: list[int] = []
            store.outbox.relay(lambda m, into=batch: into.append(m.position), limit=25)
            if batch:
                batches.append(batch)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    relay_thread = threading.Thread(target=relay)
    relay_thread.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    stop.set()
    relay_thread.join(WAIT)
    assert errors == []
    handed = [p for batch in batches for p in batch]
    assert len(handed) == writers * per_writer
    assert handed == sorted(handed)  # never a smaller position after a larger one


# --------------------------------------------------------------------------- races


def test_two_threads_saving_one_customer_one_wins_one_conflicts(store: ThrowawayStore) -> None:
    register_customer(store, Customer.register("X", "Xena", T0))
    loaded, saved = threading.Barrier(2, timeout=WAIT), threading.Barrier(2, timeout=WAIT)
    outcomes: dict[str, str] = {}

    def edit(name: str) -> None:
        try:
            with store.unit_of_work() as uow:
                customer = uow.customers.get("X")
                loaded.wait()
                uow.customers.save(uow.take(customer.update_profile(T0, name=name)))
                saved.wait()
            outcomes[name] = "ok"
        except ConcurrencyConflictError as conflict:
            outcomes[name] = f"conflict {conflict.expected} {conflict.actual}"

    threads = [threading.Thread(target=edit, args=(n,)) for n in ("Alice", "Bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert sorted(outcomes.values()) == ["conflict 1 2", "ok"], outcomes
    with store.unit_of_work() as uow:
        assert uow.customers.get("X").version == 2
    assert [m.kind for m in store.outbox.pending()] == [
        "customer.registered",
        "customer.profile_updated",
    ]


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda n: Customer.register("SAME", f"N{n}", T0), id="same id"),
        pytest.param(
            lambda n: Customer.register(f"C{n}", "N", T0, contact=Contact(email="same@x.io")),
            id="same e-mail",
        ),
    ],
)
def test_racing_inserts_of_one_id_or_email_raise_already_exists(
    store: ThrowawayStore, make: Callable[[int], Any]
) -> None:
    start = threading.Barrier(6, timeout=WAIT)
    outcomes: list[str] = []

    def add(n: int) -> None:
        outcome = make(n)
        start.wait()
        try:
            with store.unit_of_work() as uow:
                uow.customers.add(uow.take(outcome))
            outcomes.append("ok")
        except AlreadyExistsError as error:
            outcomes.append(f"exists {error.field}")
        except CrmError as error:  # pragma: no cover - reported by the assertion
            outcomes.append(repr(error))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) - {"ok"} <= {"exists id", "exists email"}
    assert len(store.outbox.pending()) == 1


# --------------------------------------------------------------------------- pools and errors


def test_a_borrowed_pool_is_used_as_found_and_left_open(dsn: str) -> None:
    pool_module = pytest.importorskip("psycopg_pool")
    pool = pool_module.ConnectionPool(dsn, min_size=1, max_size=2, open=True)  # autocommit off
    name = schema_name("pool")
    try:
        with PostgresStore(pool, schema=name) as borrowed, borrowed.unit_of_work() as uow:
            uow.customers.add(rich_customer())
        with pool.connection() as connection:
            assert connection.autocommit is False
            rows = connection.execute(f"SELECT id FROM {q(name)}.customers", ()).fetchall()
        assert rows == [("C-0001",)]
    finally:
        pool.close()
        drop_schema(dsn, name)


def test_bad_arguments_are_validation_errors(dsn: str) -> None:
    for bad in (None, "", 42):
        with pytest.raises(ValidationError):
            PostgresStore(bad)  # type: ignore[arg-type]
    for options in ({"max_size": 0}, {"min_size": 3, "max_size": 2}, {"timeout": -1.0},
                    {"migrate": "yes"}):  # fmt: skip
        with pytest.raises(ValidationError):
            PostgresStore(dsn, **options)  # type: ignore[arg-type]


def test_an_unreachable_server_or_a_wrong_database_is_a_clear_storage_error(dsn: str) -> None:
    with pytest.raises(StorageError, match="PostgreSQL connect failed"):
        PostgresStore("postgresql://nobody@127.0.0.1:9/none", timeout=1.0)
    conninfo = load_psycopg().conninfo.make_conninfo(dsn, dbname="crm_no_such_database")
    with pytest.raises(StorageError, match='database "crm_no_such_database" does not exist'):
        PostgresStore(conninfo, timeout=5.0)


def test_a_closed_store_and_unstorable_text_are_storage_errors(dsn: str) -> None:
    opened = ThrowawayStore(dsn)
    with pytest.raises(StorageError, match="NUL"), opened.unit_of_work() as uow:
        uow.interactions.add(Interaction("I-1", "C-1", T0, "web", "website_visit", note="a\x00"))
    opened.close()
    with pytest.raises(StorageError, match="closed"):
        opened.unit_of_work()
    with pytest.raises(StorageError, match="closed"):
        opened.outbox.pending()


def test_a_missing_driver_is_a_missing_dependency_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingDependencyError) as info:
        Database("postgresql://x", "crmcore")
    assert (info.value.package, info.value.extra) == ("psycopg", "postgres")


# --------------------------------------------------------------------------- erasure


def test_erasure_leaves_no_personal_data_in_any_table(store: ThrowawayStore, dsn: str) -> None:
    secrets = ["Zelda Quartermaine", "zelda.q@example.org", "+44 20 7946 0111", "SW1A 2AA",
               "Kensington", "12 Privet Drive", "my card ends 4242", "zelda-q-handle"]  # fmt: skip
    customer = Customer(
        id="C-Z",
        name=secrets[0],
        created_at=T0,
        contact=Contact(email=secrets[1], phone=secrets[2]),
        geography=Geography(country="GB", city=secrets[4], postal_code=secrets[3]),
        attributes={"handle": secrets[7], "street": secrets[5]},
        consents=(ConsentRecord("email", True, T0, "form-17"),),
    )
    register_customer(store, Customer.register(customer.id, customer.name, T0))
    with store.unit_of_work() as uow:  # the full record, as an import would store it
        current = uow.customers.get("C-Z")
        uow.customers.save(attrs.evolve(customer, version=current.version))
    record_interaction(store, Interaction("I-1", "C-Z", T0, "chat", "question", note=secrets[5]))
    record_service(store, ServiceRecord("S-1", "C-Z", T0, "repair", "phone", secrets[6]))
    said = Feedback(id="F-1", customer_id="C-Z", channel="email", kind="complaint", at=T0,
                    text=f"{secrets[0]} here, {secrets[6]}", scores={"csat": 1})  # fmt: skip
    submission = submit_feedback(store, said, customer_value=5000)
    assert submission.case is not None
    act_on_case(store, submission.case.id, lambda c: c.acknowledge(T0, note=secrets[1]))
    record_purchase(store, Purchase("O-1", "C-Z", T0, Money("9.99", "GBP")))

    def holding(values: list[str]) -> list[str]:
        """Every (column, value) where some text or jsonb column of a crmcore table holds it."""
        psycopg = load_psycopg()
        found = []
        with psycopg.connect(dsn, autocommit=True) as connection:
            columns = connection.execute(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = %s AND data_type IN ('text', 'jsonb')",
                (store.schema,),
            ).fetchall()
            assert len(columns) > 40  # every table's text: ids, names, notes, bodies, payloads
            for table, column in columns:
                rows = connection.execute(
                    f"SELECT v FROM unnest(%s::text[]) AS v WHERE EXISTS (SELECT 1 FROM"
                    f" {q(store.schema)}.{q(table)} WHERE strpos(lower({q(column)}::text),"
                    " lower(v)) > 0)",
                    (values,),
                ).fetchall()
                found.extend(f"{table}.{column}: {value}" for (value,) in rows)
        return found

    assert len(holding(secrets)) >= len(secrets)  # the check sees the data before erasure
    erase_customer(store, "C-Z", T0 + timedelta(days=1))
    assert holding(secrets) == []
    with store.unit_of_work() as uow:  # what analytics needs stays
        erased = uow.customers.get("C-Z")
        assert erased.erased_at is not None and erased.purchases.count == 1
        assert uow.feedback.get("F-1").score("csat") == 1
