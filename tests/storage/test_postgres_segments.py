"""Segments run inside PostgreSQL: ``PostgresStore.segment_members`` means what ``matches`` means.

A differential test runs random well-typed rules on random data through the per-object evaluator,
the numpy mask, SQLite and PostgreSQL (``crmcore.testing.rule_strategies``), and a real-server test
checks that identifiers holding a ``%`` reach psycopg escaped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.columnar import CUSTOMER_SCHEMA, CustomerFrame, EventLog, TransactionLog
from crmcore.kernel.errors import RuleTypeError
from crmcore.segments.evaluate import matches
from crmcore.segments.evaluate_batch import mask
from crmcore.segments.rules import (
    Compare,
    Field,
    InList,
    IsNull,
    Literal,
    Or,
    Predicate,
    RuleSchema,
    TextMatch,
    walk,
)
from crmcore.segments.sql import SqlTables, to_sql
from crmcore.storage.postgres.connections import load_psycopg
from crmcore.storage.sqlite.schema import migrate
from crmcore.testing.rule_strategies import (
    RuleScenario,
    load_sqlite,
    rule_schema,
    rules,
    scenarios,
)
from tests.segments.test_sqlite_segments import AS_OF, DATA, RULES
from tests.storage._postgres import ThrowawayStore, postgres_dsn

_SCALARS = [c for c in CUSTOMER_SCHEMA.columns if c.kind != "tags" and c.name != "id"]
_TAGS = [c.name for c in CUSTOMER_SCHEMA.columns if c.kind == "tags"]


@pytest.fixture(scope="module")
def synthetic() -> Iterator[ThrowawayStore]:
    """The synthetic data set of the SQLite segment tests, stored through units of work."""
    store = ThrowawayStore(postgres_dsn(), max_size=2)
    try:
        with store.unit_of_work() as uow:
            for customer in DATA.customers:
                uow.customers.add(customer)
            for purchase in DATA.purchases:
                uow.purchases.add(purchase)
            for interaction in DATA.interactions:
                uow.interactions.add(interaction)
        yield store
    finally:
        store.close()


@pytest.mark.parametrize("rule", RULES, ids=range(len(RULES)))
def test_segment_members_equal_matches(synthetic: ThrowawayStore, rule: Predicate) -> None:
    bought: dict[str, list[object]] = {}
    for p in DATA.purchases:
        bought.setdefault(p.customer_id, []).append(p)
    did: dict[str, list[object]] = {}
    for i in DATA.interactions:
        did.setdefault(i.customer_id, []).append(i)
    expected = sorted(
        c.id
        for c in DATA.customers
        if matches(
            rule,
            c,
            AS_OF,
            purchases=bought.get(c.id, []),  # type: ignore[arg-type]
            events=did.get(c.id, []),  # type: ignore[arg-type]
        )
    )
    assert synthetic.segment_members(rule, AS_OF) == expected


def test_the_rules_are_not_trivial_and_attributes_join_the_schema(
    synthetic: ThrowawayStore,
) -> None:
    sizes = [len(synthetic.segment_members(rule, AS_OF)) for rule in RULES]
    assert sum(1 for s in sizes if 0 < s < len(DATA.customers)) >= len(RULES) - 1
    assert synthetic.rule_schema().fields["attr.acquisition_channel"] == "string"
    with pytest.raises(RuleTypeError):
        synthetic.segment_members(Compare(Field("attr.nope"), "=", Literal("x")), AS_OF)


# --------------------------------------------------------------------------- differential

# The purchase columns the scenarios and both stores' purchases tables carry.
SCHEMA: RuleSchema = attrs.evolve(
    rule_schema(), purchase_columns={"amount": "number", "items": "number"}
)
RULES_PER_SCENARIO = 12
RANDOM_RULES = rules(SCHEMA)  # built once: building the strategy costs more than drawing


@pytest.fixture(scope="module")
def scratch() -> Iterator[ThrowawayStore]:
    store = ThrowawayStore(postgres_dsn(), max_size=1)
    try:
        yield store
    finally:
        store.close()


def _load(store: ThrowawayStore, scenario: RuleScenario) -> None:
    """Replace the store's rows with ``scenario`` (typed columns, as the adapter writes them)."""
    t = store._db.table
    names = ["id", "version", "body", *(c.name for c in _SCALARS)]
    columns = ", ".join(f'"{n}"' for n in names)
    marks = ", ".join("%s" for _n in names)
    with store._db.transaction() as connection:
        connection.execute(
            f"TRUNCATE {t('customers')}, {t('customer_tags')}, {t('customer_attributes')},"
            f" {t('purchases')}, {t('interactions')}",
            (),
        )
        for record in scenario.records:
            values = [record.get(c.name) for c in _SCALARS]
            connection.execute(
                f"INSERT INTO {t('customers')} ({columns}) VALUES ({marks})",
                (record["id"], 1, "{}", *values),
            )
            for field in _TAGS:
                tags = record.get(field) or frozenset()
                assert isinstance(tags, frozenset)
                for tag in sorted(tags):
                    connection.execute(
                        f"INSERT INTO {t('customer_tags')} (customer_id, field, tag)"
                        " VALUES (%s, %s, %s)",
                        (record["id"], field, tag),
                    )
            for ordinal, name in enumerate(("score", "plan")):
                value = record.get(f"attr.{name}")
                if value is None:
                    continue
                number = value if isinstance(value, float) else None
                text = value if isinstance(value, str) else None
                connection.execute(
                    f"INSERT INTO {t('customer_attributes')}"
                    " (customer_id, name, ordinal, type, value, text_value, number_value)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (record["id"], name, ordinal, "float" if number is not None else "str",
                     repr(value) if number is not None else value, text, number),
                )  # fmt: skip
        for row in scenario.purchases:
            connection.execute(
                f"INSERT INTO {t('purchases')}"
                " (order_id, customer_id, at, amount, currency, items, channel)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (row["order_id"], row["customer_id"], row["at"], Decimal(str(row["amount"])),
                 row["currency"], row["items"], row["channel"]),
            )  # fmt: skip
        for i, row in enumerate(scenario.events):
            connection.execute(
                f"INSERT INTO {t('interactions')} (id, customer_id, at, channel, kind)"
                " VALUES (%s, %s, %s, %s, %s)",
                (f"e{i}", row["customer_id"], row["at"], row["channel"], row["kind"]),
            )


def _ascii_or_exact(rule: Predicate, scenario: RuleScenario) -> bool:
    """SQL ``lower()`` equals ``str.casefold`` here (no case-insensitive match on non-ASCII)."""
    if not any(isinstance(n, TextMatch) and n.ignore_case for n in walk(rule)):
        return True
    texts = [v for r in scenario.records for v in r.values() if isinstance(v, str)]
    texts += [n.text for n in walk(rule) if isinstance(n, TextMatch)]
    return all(t.isascii() for t in texts)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), data=st.data())
def test_postgres_numpy_sqlite_and_python_agree(
    scratch: ThrowawayStore, scenario: RuleScenario, data: st.DataObject
) -> None:
    """One scenario in every back end, then a dozen random rules on it."""
    _load(scratch, scenario)
    frame = CustomerFrame.from_records(scenario.records)
    transactions = TransactionLog.from_records(scenario.purchases)
    events = EventLog.from_records(scenario.events)
    lite = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(lite)  # the SqliteStore schema
        load_sqlite(lite, scenario)
        for _ in range(RULES_PER_SCENARIO):
            rule = data.draw(RANDOM_RULES)
            flags = [
                matches(
                    rule,
                    record,
                    scenario.as_of,
                    purchases=scenario.purchases,
                    events=scenario.events,
                    schema=SCHEMA,
                )
                for record in scenario.records
            ]
            numpy = mask(
                rule, frame, scenario.as_of, transactions=transactions, events=events, schema=SCHEMA
            )
            assert [bool(x) for x in numpy] == flags
            if not _ascii_or_exact(rule, scenario):
                continue  # SQL's lower() and str.casefold differ on non-ASCII text
            hits = zip(scenario.records, flags, strict=True)
            expected = sorted(str(record["id"]) for record, hit in hits if hit)
            found = scratch.segment_members(rule, scenario.as_of, schema=SCHEMA)
            assert found == expected, rule
            sql, params = to_sql(rule, "sqlite", as_of=scenario.as_of, schema=SCHEMA)
            assert [row[0] for row in lite.execute(sql, params)] == expected
    finally:
        lite.close()


def test_the_differential_data_is_not_trivial(scratch: ThrowawayStore) -> None:
    """The loader and the derived attribute columns do what the differential test relies on."""
    as_of = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [(1.0, "pro", "Ann"), (None, "free", "bob"), (2.5, None, "O'Brien")]
    zero = {"purchase_count": 0, "items_purchased": 0, "total_spent": 0.0}
    zero |= {"interaction_count": 0, "service_count": 0, "erased": False}
    zero |= {c.name: False for c in CUSTOMER_SCHEMA.columns if c.name.startswith("consent_")}
    records = []
    for n, (score, plan, name) in enumerate(rows):
        record: dict[str, object] = {c.name: None for c in CUSTOMER_SCHEMA.columns}
        record |= zero | {"id": f"c{n}", "name": name, "created_at": as_of}
        for field in _TAGS:
            record[field] = frozenset()
        record["attr.score"], record["attr.plan"] = score, plan
        records.append(record)
    _load(scratch, RuleScenario(as_of, tuple(records), (), ()))
    starts = TextMatch(Field("name"), "starts_with", "a", ignore_case=True)
    either = Or((starts, Compare(Field("attr.score"), "<", Literal(0))))
    cases = [
        (Compare(Field("attr.score"), ">", Literal(1.5)), ["c2"]),
        (IsNull(Field("attr.plan")), ["c2"]),
        (InList(Field("attr.plan"), (Literal("pro"), Literal("free"))), ["c0", "c1"]),
        (TextMatch(Field("name"), "contains", "'"), ["c2"]),
        (either, ["c0"]),
    ]
    for rule, expected in cases:
        assert scratch.segment_members(rule, as_of, schema=SCHEMA) == expected


# --------------------------------------------------------------------------- identifiers


def test_a_percent_sign_in_a_quoted_identifier_does_not_shift_the_parameters() -> None:
    """The issue-18 case: with an attribute column named ``attr.50%_off`` an unescaped ``%``
    would make psycopg read ``%_`` as a placeholder and misplace every parameter."""
    psycopg = load_psycopg()
    schema = RuleSchema.default().with_attributes({"attr.50%_off": "number", "attr.x": "string"})
    layout = SqlTables.default("postgresql")
    rule = Or((
        Compare(Field("attr.50%_off"), ">", Literal(10)),
        Compare(Field("attr.x"), "=", Literal("%s")),
    ))  # fmt: skip
    sql, params = to_sql(rule, "postgresql", as_of=AS_OF, schema=schema, tables=layout)
    assert '"attr.50%%_off"' in sql
    with psycopg.connect(postgres_dsn()) as connection:  # one transaction, rolled back
        connection.execute(
            'CREATE TEMP TABLE customers (id text, "attr.50%%_off" double precision,'
            ' "attr.x" text)',
            (),
        )
        connection.execute(
            "INSERT INTO customers VALUES ('a', 5, 'no'), ('b', 20, 'no'), ('c', 1, '%%s')", ()
        )
        rows = connection.execute(sql, params).fetchall()
        connection.rollback()
    assert [r[0] for r in rows] == ["b", "c"]
