"""Segment rules inside DuckDB and Spark: the same members as Python, and no text ever spliced."""

from __future__ import annotations

from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from crmcore.columnar import CustomerFrame, EventLog, TransactionLog
from crmcore.engines import duckdb as duck
from crmcore.kernel.errors import ValidationError
from crmcore.segments.evaluate import matches
from crmcore.segments.rules import (
    Compare,
    Field,
    HasTag,
    Literal,
    Not,
    Predicate,
    TextMatch,
    walk,
)
from crmcore.segments.sql import SqlTables, spark_literal, to_sql
from crmcore.testing.factories import make_customer
from crmcore.testing.rule_strategies import RuleScenario, rule_schema, rules, scenarios

SCHEMA = rule_schema()
AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
HOSTILE = (
    "'; DROP TABLE customers; --", '" OR 1=1 --', "' OR '1'='1", "x'); DELETE FROM t; --",
    "%", "_", "50% off", "a_b", "\\", "a\\%b", "?", ":x", "$1", "O'Brien", "/* c */", "`id`",
    "\\' OR 1=1 --", "-- x", "日本", "😀", "a\nb", "x\\",
)  # fmt: skip


def _expected(rule: Predicate, scenario: RuleScenario) -> list[str]:
    hits = [
        str(record["id"])
        for record in scenario.records
        if matches(
            rule,
            record,
            scenario.as_of,
            purchases=scenario.purchases,
            events=scenario.events,
            schema=SCHEMA,
        )
    ]
    return sorted(hits)


def _comparable(rule: Predicate, scenario: RuleScenario) -> bool:
    """SQL ``lower()`` equals ``str.casefold`` here (no case-insensitive match on non-ASCII)."""
    if not any(isinstance(n, TextMatch) and n.ignore_case for n in walk(rule)):
        return True
    texts = [v for r in scenario.records for v in r.values() if isinstance(v, str)]
    texts += [n.text for n in walk(rule) if isinstance(n, TextMatch)]
    return all(t.isascii() for t in texts)


def _check(engine: ModuleType, rule: Predicate, scenario: RuleScenario) -> None:
    if not _comparable(rule, scenario):
        return
    got = engine.segment_members(
        rule,
        scenario.as_of,
        customers=CustomerFrame.from_records(scenario.records),
        purchases=TransactionLog.from_records(scenario.purchases),
        events=EventLog.from_records(scenario.events),
        schema=SCHEMA,
    )
    assert got == _expected(rule, scenario)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules(max_leaves=6), scenarios(max_customers=6))
def test_duckdb_members_equal_python(rule: Predicate, scenario: RuleScenario) -> None:
    _check(duck, rule, scenario)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules(max_leaves=8), scenarios(max_customers=8))
def test_spark_members_equal_python(
    spark: ModuleType, rule: Predicate, scenario: RuleScenario
) -> None:
    _check(spark, rule, scenario)


def _frame() -> CustomerFrame:
    people = [
        make_customer(f"c{i:02d}", name=name, email=None, tags=frozenset({"vip"} if i % 2 else ()))
        for i, name in enumerate(HOSTILE)
    ]
    return CustomerFrame.from_customers(people)


def test_hostile_names_match_literally_in_every_engine(engine: ModuleType) -> None:
    frame = _frame()
    names = [str(n) for n in frame["name"].values.tolist()]
    for i, text in enumerate(names):
        rule = Compare(Field("name"), "=", Literal(text))
        assert engine.segment_members(rule, AS_OF, customers=frame) == [f"c{i:02d}"]
    contains = TextMatch(Field("name"), "contains", "%")
    want = sorted(f"c{i:02d}" for i, t in enumerate(HOSTILE) if "%" in t)
    assert engine.segment_members(contains, AS_OF, customers=frame) == want
    assert len(engine.segment_members(Not(HasTag("vip")), AS_OF, customers=frame)) == 11


def test_spark_literals_are_hex_and_match_literally(spark_session: Any) -> None:
    """``inline=True``: every value a literal, and still only the exact name matches."""
    pa = pytest.importorskip("pyarrow")
    from crmcore.columnar.arrow import to_arrow

    frame = _frame()
    names = [str(n) for n in frame["name"].values.tolist()]
    table = to_arrow(frame).select(["id", "name"])
    plain = table.cast(pa.schema([("id", pa.string()), ("name", pa.string())]))
    spark_session.createDataFrame(plain).createOrReplaceTempView("crm_hostile")
    tables = SqlTables(customers="crm_hostile", attributes=None, time_encoding="timestamp",
                       date_encoding="date")  # fmt: skip
    for i, text in enumerate(names):
        for rule, want in (
            (Compare(Field("name"), "=", Literal(text)), [f"c{i:02d}"]),
            (TextMatch(Field("name"), "ends_with", text),
             sorted(f"c{j:02d}" for j, t in enumerate(names) if t.endswith(text))),
        ):  # fmt: skip
            sql, params = to_sql(rule, "spark", as_of=AS_OF, tables=tables, inline=True)
            assert params == ()
            # The only quotes are the literal's own: X'<hex>' and 'UTF-8'.
            assert sql.count("'") == 4
            assert spark_literal(text) in sql or isinstance(rule, TextMatch)
            assert [r[0] for r in spark_session.sql(sql).collect()] == want
            sql, params = to_sql(rule, "spark", as_of=AS_OF, tables=tables)
            assert [r[0] for r in spark_session.sql(sql, args=list(params)).collect()] == want
    spark_session.catalog.dropTempView("crm_hostile")


def test_spark_literal_alphabet() -> None:
    for text in HOSTILE:
        literal = spark_literal(text)
        inner = literal[len("decode(X'") : -len("', 'UTF-8')")]
        assert set(inner) <= set("0123456789ABCDEF")
        assert bytes.fromhex(inner).decode("utf-8") == text
    assert spark_literal(datetime(1969, 12, 31, 23, 59, tzinfo=UTC)) == (
        "timestamp_micros(CAST(-60000000 AS BIGINT))"
    )
    with pytest.raises(ValidationError):
        spark_literal(object())
    with pytest.raises(ValidationError):
        to_sql(Compare(Field("name"), "=", Literal("x")), "duckdb", as_of=AS_OF, inline=True)
