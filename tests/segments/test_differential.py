"""Three back ends, one meaning: matches == mask == SQL in SQLite == SQL in DuckDB."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings

from crmcore.columnar import CustomerFrame, EventLog, TransactionLog
from crmcore.segments.evaluate import matches
from crmcore.segments.evaluate_batch import mask
from crmcore.segments.rules import Predicate, TextMatch, walk
from crmcore.segments.sql import to_sql
from crmcore.storage.sqlite.schema import migrate
from crmcore.testing.rule_strategies import (
    RuleScenario,
    load_duckdb,
    load_sqlite,
    rule_schema,
    rules,
    scenarios,
)

SCHEMA = rule_schema()


def _python(rule: Predicate, scenario: RuleScenario) -> list[bool]:
    return [
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


def _numpy(rule: Predicate, scenario: RuleScenario) -> list[bool]:
    frame = CustomerFrame.from_records(scenario.records)
    transactions = TransactionLog.from_records(scenario.purchases)
    events = EventLog.from_records(scenario.events)
    result = mask(
        rule, frame, scenario.as_of, transactions=transactions, events=events, schema=SCHEMA
    )
    return [bool(x) for x in result]


def _sqlite(rule: Predicate, scenario: RuleScenario) -> list[str]:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(connection)  # the SqliteStore schema
        load_sqlite(connection, scenario)
        sql, params = to_sql(rule, "sqlite", as_of=scenario.as_of, schema=SCHEMA)
        return [row[0] for row in connection.execute(sql, params)]
    finally:
        connection.close()


def _duckdb(rule: Predicate, scenario: RuleScenario) -> list[str]:
    duckdb = pytest.importorskip("duckdb")
    connection = duckdb.connect(":memory:")
    try:
        load_duckdb(connection, scenario)
        sql, params = to_sql(rule, "duckdb", as_of=scenario.as_of, schema=SCHEMA)
        return [row[0] for row in connection.execute(sql, list(params)).fetchall()]
    finally:
        connection.close()


def _lower_is_casefold(rule: Predicate, scenario: RuleScenario) -> bool:
    """SQL ``lower()`` equals ``str.casefold`` here (no case-insensitive match on non-ASCII)."""
    if not any(isinstance(n, TextMatch) and n.ignore_case for n in walk(rule)):
        return True
    texts = [v for r in scenario.records for v in r.values() if isinstance(v, str)]
    texts += [n.text for n in walk(rule) if isinstance(n, TextMatch)]
    return all(t.isascii() for t in texts)


def _ids(scenario: RuleScenario, flags: list[bool]) -> list[str]:
    return sorted(str(r["id"]) for r, hit in zip(scenario.records, flags, strict=True) if hit)


def _check(rule: Predicate, scenario: RuleScenario, *, duck: bool) -> None:
    expected = _python(rule, scenario)
    assert _numpy(rule, scenario) == expected
    if _lower_is_casefold(rule, scenario):
        assert _sqlite(rule, scenario) == _ids(scenario, expected)
        if duck:
            assert _duckdb(rule, scenario) == _ids(scenario, expected)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules(), scenarios())
def test_python_numpy_sqlite_agree(rule: Predicate, scenario: RuleScenario) -> None:
    _check(rule, scenario, duck=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules(max_leaves=5), scenarios(max_customers=4))
def test_duckdb_agrees(rule: Predicate, scenario: RuleScenario) -> None:
    pytest.importorskip("duckdb")
    _check(rule, scenario, duck=True)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules(max_leaves=12), scenarios(max_customers=10))
def test_all_backends_agree_many(rule: Predicate, scenario: RuleScenario) -> None:
    _check(rule, scenario, duck=True)
