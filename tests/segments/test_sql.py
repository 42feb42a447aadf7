"""SQL compilation: text per dialect, parameters only, NULL neutralised, layouts."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime

import pytest

from crmcore.kernel.errors import RuleTypeError, ValidationError
from crmcore.segments.rules import (
    Aggregate,
    Compare,
    Did,
    Duration,
    Field,
    HasTag,
    InList,
    Literal,
    Not,
    RuleSchema,
    TextMatch,
    Within,
)
from crmcore.segments.sql import SqlTables, escape_like, quote_identifier, to_sql
from crmcore.storage.sqlite.schema import migrate

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
AS_OF_US = 1772323200000000


def test_sqlite_select_text_and_params() -> None:
    rule = Not(Compare(Field("country"), "=", Literal("CN")))
    sql, params = to_sql(rule, "sqlite", as_of=AS_OF)
    assert sql == (
        'SELECT c."id" FROM "customers" AS c WHERE NOT COALESCE(c."country" = ?, FALSE)'
        ' ORDER BY c."id"'
    )
    assert params == ("CN",)


def test_where_only() -> None:
    sql, params = to_sql(HasTag("vip"), "sqlite", as_of=AS_OF, what="where")
    assert sql == (
        'EXISTS (SELECT 1 FROM "customer_tags" AS t WHERE t."customer_id" = c."id"'
        ' AND t."field" = ? AND t."tag" = ?)'
    )
    assert params == ("tags", "vip")


def test_postgresql_uses_percent_s_and_timestamps() -> None:
    rule = Within(Field("last_purchase_at"), Duration(1, "days"))
    sql, params = to_sql(rule, "postgresql", as_of=AS_OF, what="where")
    assert sql == (
        'COALESCE(c."last_purchase_at" > %s, FALSE) AND COALESCE(c."last_purchase_at" <= %s, FALSE)'
    )
    assert params == (datetime(2026, 2, 28, tzinfo=UTC), AS_OF)


def test_postgresql_compares_text_by_code_point() -> None:
    sql, _params = to_sql(
        Compare(Field("name"), "<", Literal("b")), "postgresql", as_of=AS_OF, what="where"
    )
    assert sql == 'COALESCE(c."name" COLLATE "C" < %s, FALSE)'


def test_duckdb_question_marks_and_dates() -> None:
    rule = Compare(Field("birth_date"), ">=", Literal(date(2000, 1, 1)))
    sql, params = to_sql(rule, "duckdb", as_of=AS_OF, what="where")
    assert sql == 'COALESCE(c."birth_date" >= ?, FALSE)'
    assert params == (date(2000, 1, 1),)
    _sqlite_sql, sqlite_params = to_sql(rule, "sqlite", as_of=AS_OF, what="where")
    assert sqlite_params == ("2000-01-01",)


def test_aggregates_are_correlated_subqueries() -> None:
    rule = Compare(
        Aggregate("sum", "purchases", column="amount", window=Duration(30, "days")),
        ">",
        Literal(100),
    )
    sql, params = to_sql(rule, "sqlite", as_of=AS_OF, what="where")
    assert sql == (
        'COALESCE((SELECT COALESCE(SUM(CAST(l."amount" AS REAL)), 0) FROM "purchases" AS l'
        ' WHERE l."customer_id" = c."id" AND l."at" <= ? AND l."at" > ?) > ?, FALSE)'
    )
    assert params == (AS_OF_US, AS_OF_US - 30 * 86_400_000_000, 100.0)
    did_sql, did_params = to_sql(Did("cart_abandoned"), "duckdb", as_of=AS_OF, what="where")
    assert '"interactions" AS l' in did_sql and 'l."kind" = ?' in did_sql
    assert did_params == (AS_OF, "cart_abandoned", 1.0)


def test_text_matching_per_dialect() -> None:
    contains = TextMatch(Field("name"), "contains", "50%_off")
    sql, params = to_sql(contains, "sqlite", as_of=AS_OF, what="where")
    assert sql == 'COALESCE(instr(c."name", ?) > 0, FALSE)'
    assert params == ("50%_off",)
    sql, params = to_sql(contains, "postgresql", as_of=AS_OF, what="where")
    assert sql == 'COALESCE(c."name" COLLATE "C" LIKE %s ESCAPE \'\\\', FALSE)'
    assert params == ("%50\\%\\_off%",)
    folded = TextMatch(Field("name"), "ends_with", "X", ignore_case=True)
    sql, params = to_sql(folded, "sqlite", as_of=AS_OF, what="where")
    assert sql == "COALESCE(lower(c.\"name\") LIKE lower(?) ESCAPE '\\', FALSE)"
    assert params == ("%X",)


def test_escape_like() -> None:
    assert escape_like("a%b_c\\d") == "a\\%b\\_c\\\\d"
    assert escape_like("plain") == "plain"


def test_custom_attributes_sqlite_table_and_warehouse_columns() -> None:
    schema = RuleSchema.default().with_attributes({"score": "number"})
    rule = Compare(Field("attr.score"), ">", Literal(1))
    sql, params = to_sql(rule, "sqlite", as_of=AS_OF, schema=schema, what="where")
    assert sql == (
        'COALESCE((SELECT CAST(a."value" AS REAL) FROM "customer_attributes" AS a'
        ' WHERE a."customer_id" = c."id" AND a."name" = ?) > ?, FALSE)'
    )
    assert params == ("score", 1.0)
    sql, _ = to_sql(rule, "duckdb", as_of=AS_OF, schema=schema, what="where")
    assert sql == 'COALESCE(c."attr.score" > ?, FALSE)'


def test_custom_table_names_are_quoted() -> None:
    tables = SqlTables(customers='my "crm".people', customer_id="customer id")
    sql, _ = to_sql(HasTag("x"), "sqlite", as_of=AS_OF, tables=tables)
    assert sql.startswith('SELECT c."customer id" FROM "my ""crm"".people" AS c WHERE')


def test_quote_identifier_refuses_nul_and_empty() -> None:
    assert quote_identifier('a"b') == '"a""b"'
    with pytest.raises(ValidationError):
        quote_identifier("")
    with pytest.raises(ValidationError):
        quote_identifier("a\x00b")
    with pytest.raises(ValidationError):
        SqlTables(purchases="")
    with pytest.raises(ValidationError):
        SqlTables(time_encoding="seconds")


def test_bad_dialect_and_what() -> None:
    with pytest.raises(ValidationError):
        to_sql(HasTag("x"), "mysql", as_of=AS_OF)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        to_sql(HasTag("x"), "sqlite", as_of=AS_OF, what="delete")  # type: ignore[arg-type]


def test_unknown_field_fails_before_sql() -> None:
    with pytest.raises(RuleTypeError):
        to_sql(Compare(Field("password"), "=", Literal("x")), "sqlite", as_of=AS_OF)


def test_empty_in_list_after_nulls_is_false() -> None:
    sql, params = to_sql(
        InList(Field("country"), (Literal(None),)), "sqlite", as_of=AS_OF, what="where"
    )
    assert (sql, params) == ("1 = 0", ())


@pytest.mark.parametrize(
    "rule",
    [
        Compare(Field("age"), ">=", Literal(18)),
        Compare(Field("tenure_days"), ">", Literal(30)),
        Compare(Field("days_since_last_purchase"), "<", Literal(30)),
        Compare(Field("average_order_value"), ">", Literal(10)),
        Compare(Aggregate("avg", "purchases", column="items"), ">", Literal(1)),
        Compare(Aggregate("min", "purchases", column="amount"), ">", Literal(1)),
        TextMatch(Field("email"), "starts_with", "a", ignore_case=True),
        TextMatch(Field("email"), "ends_with", "a"),
    ],
)
def test_every_construct_runs_in_the_store_schema(rule: Compare) -> None:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    migrate(connection)
    sql, params = to_sql(rule, "sqlite", as_of=AS_OF)
    assert connection.execute(sql, params).fetchall() == []
    assert sql.count("?") == len(params)
    connection.close()


def test_options_are_checked_by_value_and_type() -> None:
    import numpy as np

    rule = Compare(Field("name"), "=", Literal("Ann"))
    for call, field in (
        (lambda: to_sql(rule, np.array(["sqlite"]), as_of=AS_OF), "dialect"),  # type: ignore[arg-type]
        (lambda: to_sql(rule, "sqlite", as_of=AS_OF, what=["where"]), "what"),  # type: ignore[arg-type]
        (lambda: to_sql(rule, "sqlite", as_of=AS_OF, tables=True), "tables"),  # type: ignore[arg-type]
        (lambda: quote_identifier("id", np.array([])), "dialect"),  # type: ignore[arg-type]
        (lambda: escape_like(None), "text"),  # type: ignore[arg-type]
        (lambda: SqlTables(time_encoding=np.array([np.nan])), "time_encoding"),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == field
