"""SQL injection: hostile literals only ever travel as parameters and match literally."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from crmcore.kernel.errors import RuleError, RuleTypeError, ValidationError
from crmcore.segments.evaluate import matches
from crmcore.segments.rules import (
    Compare,
    Field,
    HasTag,
    InList,
    Literal,
    Not,
    RuleSchema,
    TextMatch,
)
from crmcore.segments.sql import DIALECTS, SqlTables, to_sql
from crmcore.storage.sqlite import SqliteStore
from crmcore.testing.factories import make_customer

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)

HOSTILE = (
    "'; DROP TABLE customers; --",
    '" OR 1=1 --',
    "' OR '1'='1",
    "x'); DELETE FROM customers; --",
    "Robert'); DROP TABLE customer_tags;--",
    "%",
    "_",
    "50% off",
    "a_b",
    "\\",
    "a\\%b",
    "?",
    "%s",
    "$1",
    "O'Brien",
    "/* comment */",
)
NAMES = (*HOSTILE, "plain", "a%b", "axb", "50 off", "ab", "x")


@pytest.fixture
def store() -> Iterator[SqliteStore]:
    with SqliteStore() as s:
        with s.unit_of_work() as uow:
            for i, name in enumerate(NAMES):
                uow.customers.add(
                    make_customer(f"c{i:02d}", name=name, email=None, tags=frozenset({f"t{i:02d}"}))
                )
        yield s


def _tables(store: SqliteStore) -> dict[str, int]:
    with store._connections.use() as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            name: connection.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
            for name in names
        }


def _ids_named(predicate: object) -> list[str]:
    return [f"c{i:02d}" for i, name in enumerate(NAMES) if predicate(name)]  # type: ignore[operator]


@pytest.mark.parametrize("text", HOSTILE)
def test_equality_matches_only_that_exact_name_and_changes_nothing(
    store: SqliteStore, text: str
) -> None:
    before = _tables(store)
    got = store.segment_members(Compare(Field("name"), "=", Literal(text)), AS_OF)
    assert got == _ids_named(lambda n: n == text)
    assert store.segment_members(HasTag(text), AS_OF) == []  # no customer has that tag
    assert store.segment_members(HasTag("t00"), AS_OF) == ["c00"]
    negated = store.segment_members(Not(Compare(Field("name"), "=", Literal(text))), AS_OF)
    assert len(negated) == len(NAMES) - 1
    assert _tables(store) == before


@pytest.mark.parametrize("text", [t for t in HOSTILE if "\x00" not in t])
@pytest.mark.parametrize("op", ["contains", "starts_with", "ends_with"])
@pytest.mark.parametrize("ignore_case", [False, True])
def test_text_matching_is_literal(
    store: SqliteStore, text: str, op: str, ignore_case: bool
) -> None:
    before = _tables(store)
    rule = TextMatch(Field("name"), op, text, ignore_case)  # type: ignore[arg-type]
    got = store.segment_members(rule, AS_OF)
    records = [{"id": f"c{i:02d}", "name": n} for i, n in enumerate(NAMES)]
    expected = [str(r["id"]) for r in records if matches(rule, r, AS_OF)]
    assert got == expected
    assert _tables(store) == before


def test_percent_matches_only_a_literal_percent(store: SqliteStore) -> None:
    for ignore_case in (False, True):
        rule = TextMatch(Field("name"), "contains", "%", ignore_case)
        got = store.segment_members(rule, AS_OF)
        assert got == _ids_named(lambda n: "%" in n)
        assert "c{:02d}".format(NAMES.index("plain")) not in got
    underscore = store.segment_members(TextMatch(Field("name"), "contains", "a_b", True), AS_OF)
    assert underscore == _ids_named(lambda n: "a_b" in n)  # "axb" does not match


def test_in_list_of_hostile_strings(store: SqliteStore) -> None:
    rule = InList(Field("name"), tuple(Literal(t) for t in HOSTILE[:5]))
    assert store.segment_members(rule, AS_OF) == _ids_named(lambda n: n in HOSTILE[:5])


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("text", HOSTILE)
def test_literals_never_appear_in_sql_text(dialect: str, text: str) -> None:
    for rule in (
        Compare(Field("name"), "=", Literal(text)),
        TextMatch(Field("email"), "contains", text),
        HasTag(text),
    ):
        sql, params = to_sql(rule, dialect, as_of=AS_OF)  # type: ignore[arg-type]
        if len(text) > 2:
            assert text not in sql
        assert any(text in str(p) or text.replace("\\", "\\\\") in str(p) for p in params) or (
            "%" in text or "_" in text
        )


@pytest.mark.parametrize(
    "name",
    [
        'name" = name OR "1',
        "name; DROP TABLE customers",
        "customers.name",
        "attr.x",
        "NAME",
        "",
    ],
)
def test_unknown_identifiers_are_rejected_before_sql(name: str) -> None:
    with pytest.raises((RuleTypeError, ValidationError)):
        to_sql(Compare(Field(name), "=", Literal("x")), "sqlite", as_of=AS_OF)


def test_hostile_attribute_names_are_quoted_when_in_schema() -> None:
    evil = 'x") OR 1=1 --'
    schema = RuleSchema.default().with_attributes({evil: "string"})
    sql, params = to_sql(
        Compare(Field(f"attr.{evil}"), "=", Literal("y")), "duckdb", as_of=AS_OF, schema=schema
    )
    assert 'c."attr.x"") OR 1=1 --"' in sql
    sql, params = to_sql(
        Compare(Field(f"attr.{evil}"), "=", Literal("y")), "sqlite", as_of=AS_OF, schema=schema
    )
    assert evil not in sql and evil in params


def test_hostile_event_kind_and_table_names() -> None:
    from crmcore.segments.rules import Did

    sql, params = to_sql(Did("x'; DROP TABLE interactions; --"), "sqlite", as_of=AS_OF)
    assert "DROP" not in sql and params[-2] == "x'; DROP TABLE interactions; --"
    tables = SqlTables(customers='customers" WHERE 1=1; --')
    sql, _ = to_sql(HasTag("x"), "sqlite", as_of=AS_OF, tables=tables)
    assert 'FROM "customers"" WHERE 1=1; --" AS c' in sql


def test_rule_errors_are_crm_errors() -> None:
    assert issubclass(RuleTypeError, RuleError)


def test_nul_in_a_literal_is_refused_so_no_back_end_can_disagree_on_it() -> None:
    """numpy strips trailing NULs and SQLite's lower() stops at one: NUL is refused."""
    for text in ("x\x00y", "\x00", "x\x00"):
        with pytest.raises(ValidationError, match="NUL"):
            Literal(text)
        with pytest.raises(ValidationError, match="NUL"):
            TextMatch(Field("name"), "contains", text, ignore_case=True)
