"""Segment rules inside an engine: a customers table, its tag lists, purchases and events.

The engines run [`to_sql()`][crmcore.segments.sql.to_sql] in their own dialect (``duckdb``,
``spark``), so a rule means there exactly what [`matches()`][crmcore.segments.evaluate.matches]
and [`mask()`][crmcore.segments.evaluate_batch.mask] mean in Python and numpy, parameters and all.
The customers table has the [`CUSTOMER_SCHEMA`][crmcore.columnar.schema.CUSTOMER_SCHEMA] columns
(any subset, ``id`` required) in the layout [`crmcore.columnar.arrow`][crmcore.columnar.arrow]
writes: times as timestamps with time zone, dates as dates, the tag columns (``tags``,
``interests``, ``lifestyle``, ``values``) as lists of text, custom attributes as columns named
``attr.<name>``. The tag table the compiler reads is derived from the lists (one row per
customer, field and tag); the rule schema gets the ``attr.*`` columns with their types.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from crmcore.engines._runner import ColumnNeed, Runner, TypeClass, check_columns
from crmcore.kernel.errors import ValidationError
from crmcore.segments.rules import FieldType, Predicate, RuleSchema
from crmcore.segments.sql import SqlTables, to_sql

__all__ = ["segment_query"]

TAG_COLUMNS: Final = ("tags", "interests", "lifestyle", "values")
_RULE_TYPES: Final[dict[TypeClass, FieldType]] = {
    "text": "string",
    "float": "number",
    "integer": "number",
    "decimal": "number",
    "bool": "bool",
    "timestamp": "datetime",
    "date": "date",
}
_CUSTOMERS: Final = (ColumnNeed("id", ("text",), meaning="a text column of customer ids"),)
_PURCHASES: Final = (
    ColumnNeed("customer_id", ("text",), meaning="a text column of customer ids"),
    ColumnNeed("at", ("timestamp",), meaning="a timestamp with time zone (an instant)"),
)
_EVENTS: Final = (
    *_PURCHASES,
    ColumnNeed("kind", ("text",), meaning="a text column of event kinds"),
)


def _naive(found: Mapping[str, tuple[TypeClass, str]]) -> None:
    """Raise for a timestamp column without time zone (the time fields compare instants)."""
    for name, (kind, _) in found.items():
        if kind == "naive_timestamp":
            check_columns(found, (ColumnNeed(name, ("timestamp",)),), "the input")


def _tags_sql(runner: Runner, customers: str, found: Mapping[str, tuple[TypeClass, str]]) -> str:
    d = runner.dialect
    text = "STRING" if d.name == "spark" else "VARCHAR"
    explode = "explode" if d.name == "spark" else "unnest"
    parts = [
        f"SELECT CAST({d.quote('id')} AS {text}) AS customer_id, '{name}' AS field, "
        f"{explode}({d.quote(name)}) AS tag FROM {customers}"
        for name in TAG_COLUMNS
        if found.get(name, ("other", ""))[0] == "text_list"
    ]
    if parts:
        return " UNION ALL ".join(parts)
    return (
        f"SELECT CAST(NULL AS {text}) AS customer_id, CAST(NULL AS {text}) AS field, "
        f"CAST(NULL AS {text}) AS tag WHERE FALSE"
    )


def _empty_log(runner: Runner, events: bool) -> str:
    d = runner.dialect
    text = "STRING" if d.name == "spark" else "VARCHAR"
    stamp = "TIMESTAMP" if d.name == "spark" else "TIMESTAMPTZ"
    columns = [
        f"CAST(NULL AS {text}) AS customer_id",
        f"CAST(NULL AS {stamp}) AS {d.quote('at')}",
    ]
    if events:
        columns.append(f"CAST(NULL AS {text}) AS kind")
    else:
        columns += ["CAST(NULL AS DOUBLE) AS amount", "CAST(NULL AS BIGINT) AS items"]
    return f"SELECT {', '.join(columns)} WHERE FALSE"


def segment_query(
    runner: Runner,
    rule: Predicate,
    as_of: datetime,
    customers: str,
    purchases: str | None,
    events: str | None,
    schema: RuleSchema | None,
) -> tuple[str, tuple[object, ...]]:
    """The rule's ``SELECT`` of matching ids (in id order) over the raw views, and parameters."""
    found = runner.columns(customers)
    check_columns(found, _CUSTOMERS, "customers")
    _naive(found)
    tags = runner.fresh("tags")
    runner.view(tags, _tags_sql(runner, customers, found))
    logs: list[str] = []
    for raw, needs, what, is_events in (
        (purchases, _PURCHASES, "purchases", False),
        (events, _EVENTS, "events", True),
    ):
        if raw is None:
            raw = runner.fresh(what)
            runner.view(raw, _empty_log(runner, is_events))
        else:
            columns = runner.columns(raw)
            check_columns(columns, needs, what)
            _naive(columns)
        logs.append(raw)
    if schema is None:
        attributes = {
            name: _RULE_TYPES[kind]
            for name, (kind, _) in found.items()
            if name.startswith("attr.") and kind in _RULE_TYPES
        }
        schema = RuleSchema.default().with_attributes(attributes)
    elif not isinstance(schema, RuleSchema):
        raise ValidationError("schema", schema, "must be a RuleSchema")
    tables = SqlTables(
        customers=customers,
        tags=tags,
        attributes=None,
        purchases=logs[0],
        events=logs[1],
        time_encoding="timestamp",
        date_encoding="date",
    )
    return to_sql(rule, runner.dialect.name, as_of=as_of, tables=tables, schema=schema)
