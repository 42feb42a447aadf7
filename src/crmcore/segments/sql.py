"""Compile a segment rule to parameterised SQL for SQLite, PostgreSQL, DuckDB and Spark SQL.

[`to_sql()`][crmcore.segments.sql.to_sql] returns ``(sql_text, params)``: a ``SELECT`` of the
matching customer ids (or, with ``what="where"``, just the condition over the customers table
aliased ``c``). The rule is resolved and type-checked first
([`crmcore.segments.resolved.resolve()`][crmcore.segments.resolved.resolve]), so an unknown field
never reaches SQL text; identifiers are quoted; **every literal value travels as a parameter**
(placeholders ``?`` for SQLite, DuckDB and Spark SQL, ``%s`` for psycopg), including LIKE
patterns, whose ``%``, ``_`` and ``\\`` are escaped. Spark SQL can also take safe literals instead
(``inline=True``, [`spark_literal()`][crmcore.segments.sql.spark_literal]).

SQL's three-valued logic is neutralised: every leaf is compiled so that it is
TRUE or FALSE, never NULL (``COALESCE(<test>, FALSE)``, ``IS NULL``,
``EXISTS``), before ``NOT``, ``AND`` and ``OR`` combine them. So
``NOT (country = 'CN')`` matches customers without a country, exactly as
[`matches()`][crmcore.segments.evaluate.matches] and
[`mask()`][crmcore.segments.evaluate_batch.mask] do.

Aggregates are correlated subqueries over the purchase and event tables;
tag tests are ``EXISTS`` over the tag table; computed fields are expressions
over the stored columns. [`SqlTables`][crmcore.segments.sql.SqlTables] names the tables and columns
and says how times are stored: the defaults for ``sqlite`` follow
[`SqliteStore`][crmcore.storage.sqlite.SqliteStore] (datetimes as integer microseconds since the
epoch, dates as ``YYYY-MM-DD`` text, amounts as decimal text, custom attributes in
``customer_attributes``); for ``postgresql``, ``duckdb`` and ``spark`` datetimes are
``TIMESTAMPTZ`` (Spark: ``TimestampType``), dates ``DATE`` and custom attributes are columns named
``attr.<name>`` of the customers table.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.segments.rules import Compare, Field, Literal
    >>> sql, params = to_sql(Compare(Field("country"), "=", Literal("CN")), "sqlite",
    ...                      as_of=datetime(2026, 1, 1, tzinfo=UTC))
    >>> sql
    'SELECT c."id" FROM "customers" AS c WHERE COALESCE(c."country" = ?, FALSE) ORDER BY c."id"'
    >>> params
    ('CN',)
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Final, Literal

import attrs

from crmcore.kernel.clock import DAY_US, EPOCH, to_micros, to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import choice, instance_of
from crmcore.segments.resolved import (
    AggRef,
    Const,
    FieldRef,
    RAnd,
    RCompare,
    Ref,
    Resolved,
    RIn,
    RNot,
    RNull,
    ROr,
    RTag,
    RText,
    Value,
    resolve,
)
from crmcore.segments.rules import COMPUTED_FIELDS, Predicate, RuleSchema

__all__ = [
    "DIALECTS",
    "Dialect",
    "SqlTables",
    "escape_like",
    "quote_identifier",
    "spark_literal",
    "to_sql",
]

Dialect = Literal["sqlite", "postgresql", "duckdb", "spark"]
DIALECTS: Final[tuple[Dialect, ...]] = ("sqlite", "postgresql", "duckdb", "spark")

_PLACEHOLDER: Final = {"sqlite": "?", "postgresql": "%s", "duckdb": "?", "spark": "?"}
_REAL: Final = {
    "sqlite": "REAL",
    "postgresql": "DOUBLE PRECISION",
    "duckdb": "DOUBLE",
    "spark": "DOUBLE",
}
_LIKE_ESCAPE: Final = "\\"


def quote_identifier(name: str, dialect: Dialect | None = None) -> str:
    """``name`` as a quoted SQL identifier (``"`` doubled); NUL and empty names are refused.

    For ``postgresql`` a ``%`` is doubled too: psycopg reads every ``%`` of the query text as the
    start of a placeholder, quoted or not, so an unescaped one would shift the parameters.
    """
    if not isinstance(name, str) or not name or "\x00" in name:
        raise ValidationError("identifier", name, "must be a non-empty name without NUL")
    if dialect is not None:
        _check_dialect(dialect)
    if dialect == "spark":  # Spark SQL quotes identifiers with backticks
        return "`" + name.replace("`", "``") + "`"
    quoted = '"' + name.replace('"', '""') + '"'
    return quoted.replace("%", "%%") if dialect == "postgresql" else quoted


def escape_like(text: str) -> str:
    """``text`` with the LIKE wildcards ``%``, ``_`` and the escape ``\\`` escaped.

    Examples:
        >>> escape_like("50%_off\\\\")
        '50\\\\%\\\\_off\\\\\\\\'
    """
    instance_of(text, str, "text", "a text")
    return (
        text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )


def spark_literal(value: object) -> str:
    """A Spark SQL literal of a rule value, safe for any text: the rule behind ``inline=True``.

    Text is written as its UTF-8 bytes in hex, ``decode(X'68C3A9', 'UTF-8')``:
    the literal holds hex digits only, so no quote, backslash or comment can
    end it early, whatever the parser's escaping settings. Numbers are
    written from Python's ``int`` / ``repr(float)`` (digits, sign, point,
    exponent), datetimes as ``timestamp_micros(<int>)`` (an instant, whatever
    the session time zone), dates as ``DATE 'YYYY-MM-DD'``, booleans as
    ``TRUE``/``FALSE``.

    Examples:
        >>> spark_literal("O'Brien")
        "decode(X'4F27427269656E', 'UTF-8')"
        >>> spark_literal(2.5), spark_literal(7), spark_literal(True)
        ("CAST('2.5' AS DOUBLE)", 'CAST(7 AS BIGINT)', 'TRUE')
    """
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return f"CAST({int(value)} AS BIGINT)"
    if isinstance(value, float):
        return f"CAST('{float(value)!r}' AS DOUBLE)"
    if isinstance(value, str):
        return f"decode(X'{value.encode('utf-8').hex().upper()}', 'UTF-8')"
    if isinstance(value, datetime):
        return f"timestamp_micros(CAST({to_micros(value)} AS BIGINT))"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    raise ValidationError("value", value, "has no Spark literal (str, number, bool, date, time)")


def _identifier(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value or "\x00" in value:
        raise ValidationError(attribute.name, value, "must be a non-empty identifier without NUL")


def _optional_identifier(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _identifier(_instance, attribute, value)


def _check_times(_instance: object, _attribute: object, value: str) -> None:
    choice(value, "time_encoding", ("micros", "timestamp"))


def _check_dates(_instance: object, _attribute: object, value: str) -> None:
    choice(value, "date_encoding", ("iso_text", "date"))


@attrs.frozen(kw_only=True)
class SqlTables:
    """Where the customers, tags, attributes, purchases and events live, and their encodings.

    ``time_encoding`` is ``"micros"`` (integer microseconds since the Unix
    epoch, the SQLite store) or ``"timestamp"`` (a ``TIMESTAMPTZ`` column);
    ``date_encoding`` is ``"iso_text"`` (``YYYY-MM-DD``) or ``"date"``.
    ``attributes`` names an entity-attribute-value table
    ``(customer_id, name, value)``; ``None`` means custom attributes are
    columns of the customers table named ``attr.<name>``.
    """

    customers: str = attrs.field(default="customers", validator=_identifier)
    customer_id: str = attrs.field(default="id", validator=_identifier)
    tags: str = attrs.field(default="customer_tags", validator=_identifier)
    tags_customer: str = attrs.field(default="customer_id", validator=_identifier)
    tags_field: str = attrs.field(default="field", validator=_identifier)
    tags_tag: str = attrs.field(default="tag", validator=_identifier)
    attributes: str | None = attrs.field(
        default="customer_attributes", validator=_optional_identifier
    )
    attributes_customer: str = attrs.field(default="customer_id", validator=_identifier)
    attributes_name: str = attrs.field(default="name", validator=_identifier)
    attributes_value: str = attrs.field(default="value", validator=_identifier)
    purchases: str = attrs.field(default="purchases", validator=_identifier)
    purchases_customer: str = attrs.field(default="customer_id", validator=_identifier)
    purchases_at: str = attrs.field(default="at", validator=_identifier)
    events: str = attrs.field(default="interactions", validator=_identifier)
    events_customer: str = attrs.field(default="customer_id", validator=_identifier)
    events_at: str = attrs.field(default="at", validator=_identifier)
    events_kind: str = attrs.field(default="kind", validator=_identifier)
    time_encoding: str = attrs.field(default="micros", validator=_check_times)
    date_encoding: str = attrs.field(default="iso_text", validator=_check_dates)

    @classmethod
    def default(cls, dialect: Dialect) -> SqlTables:
        """The default layout of ``dialect`` (the SQLite store's for ``sqlite``)."""
        _check_dialect(dialect)
        if dialect == "sqlite":
            return cls()
        return cls(attributes=None, time_encoding="timestamp", date_encoding="date")


def _check_dialect(dialect: object) -> None:
    choice(dialect, "dialect", DIALECTS)


class _Compiler:
    """Emits SQL text and collects parameters in placeholder order."""

    def __init__(
        self, dialect: Dialect, tables: SqlTables, as_of: datetime, inline: bool = False
    ) -> None:
        self.dialect = dialect
        self.t = tables
        self.as_of = as_of
        self.inline = inline
        self.params: list[object] = []
        self.c = "c." + self.quote(tables.customer_id)

    def quote(self, name: str) -> str:
        """An identifier quoted for this dialect
        ([`quote_identifier()`][crmcore.segments.sql.quote_identifier])."""
        return quote_identifier(name, self.dialect)

    # -- parameters --------------------------------------------------------------------
    def param(self, value: object) -> str:
        if self.inline:
            return spark_literal(value)
        self.params.append(value)
        return _PLACEHOLDER[self.dialect]

    def time_param(self, us: int) -> str:
        """A datetime (µs since the epoch) as a parameter in the table's time encoding."""
        if self.t.time_encoding == "micros":
            return self.param(us)
        return self.param(EPOCH + timedelta(microseconds=us))

    def date_param(self, day: date) -> str:
        if self.t.date_encoding == "iso_text":
            return self.param(day.isoformat())
        return self.param(day)

    def value_param(self, ref: Ref, value: Value) -> str:
        if isinstance(ref, FieldRef) and ref.type == "datetime" and isinstance(value, int):
            return self.time_param(value)
        if isinstance(ref, FieldRef) and ref.type == "date" and isinstance(value, date):
            return self.date_param(value)
        return self.param(value)

    def real(self, expression: str) -> str:
        return f"CAST({expression} AS {_REAL[self.dialect]})"

    # -- operands ----------------------------------------------------------------------
    def column(self, name: str) -> str:
        return "c." + self.quote(name)

    def ref(self, ref: Ref) -> str:
        if isinstance(ref, AggRef):
            return self.aggregate(ref)
        name = ref.name
        if name in COMPUTED_FIELDS:
            return self.computed(name)
        if name.startswith("attr.") and self.t.attributes is not None:
            return self.attribute(ref)
        text = self.column(name)
        if ref.type == "string" and self.dialect == "postgresql":
            text += ' COLLATE "C"'  # code point order, as in Python and numpy
        return text

    def attribute(self, ref: FieldRef) -> str:
        t = self.t
        assert t.attributes is not None
        a = "a." + self.quote(t.attributes_value)
        value = self.real(a) if ref.type == "number" else a
        name = self.param(ref.name[len("attr.") :])
        return (
            f"(SELECT {value} FROM {self.quote(t.attributes)} AS a"
            f" WHERE a.{self.quote(t.attributes_customer)} = {self.c}"
            f" AND a.{self.quote(t.attributes_name)} = {name})"
        )

    def micros_of(self, expression: str) -> str:
        """An expression of a stored datetime as integer microseconds since the epoch."""
        if self.t.time_encoding == "micros":
            return expression
        if self.dialect == "duckdb":
            return f"epoch_us({expression})"
        if self.dialect == "spark":
            return f"unix_micros({expression})"
        return f"(EXTRACT(EPOCH FROM {expression}) * 1000000)"

    def computed(self, name: str) -> str:
        if name in ("tenure_days", "days_since_last_purchase"):
            column = "created_at" if name == "tenure_days" else "last_purchase_at"
            end = self.param(to_micros(self.as_of))
            stored = self.micros_of(self.column(column))
            return f"(({end} - {stored}) / {self.real(str(DAY_US))})"
        if name == "average_order_value":
            count = self.column("purchase_count")
            total = self.real(self.column("total_spent"))
            return f"(CASE WHEN {count} > 0 THEN {total} / {count} END)"
        # age: whole years from birth_date to as_of's date (a year older on the birthday)
        day = self.as_of.date()
        birth = self.column("birth_date")
        if self.t.date_encoding == "iso_text":
            year = f"CAST(substr({birth}, 1, 4) AS INTEGER)"
            month_day = f"CAST(substr({birth}, 6, 2) || substr({birth}, 9, 2) AS INTEGER)"
        else:
            year = f"CAST(EXTRACT(YEAR FROM {birth}) AS INTEGER)"
            month_day = (
                f"CAST(EXTRACT(MONTH FROM {birth}) * 100 + EXTRACT(DAY FROM {birth}) AS INTEGER)"
            )
        y = self.param(day.year)
        md = self.param(day.month * 100 + day.day)
        return (
            f"(CASE WHEN {birth} IS NULL THEN NULL"
            f" ELSE {y} - {year} - (CASE WHEN {md} < {month_day} THEN 1 ELSE 0 END) END)"
        )

    def aggregate(self, ref: AggRef) -> str:
        t = self.t
        if ref.source == "purchases":
            table, who, at = t.purchases, t.purchases_customer, t.purchases_at
        else:
            table, who, at = t.events, t.events_customer, t.events_at
        if ref.function == "count":
            select = "COUNT(*)"
        else:
            assert ref.column is not None
            value = self.real("l." + self.quote(ref.column))
            function = ref.function.upper()
            select = f"COALESCE(SUM({value}), 0)" if function == "SUM" else f"{function}({value})"
        at_column = "l." + self.quote(at)
        where = [
            f"l.{self.quote(who)} = {self.c}",
            f"{at_column} <= {self.time_param(ref.end)}",
        ]
        if ref.start is not None:
            where.append(f"{at_column} > {self.time_param(ref.start)}")
        if ref.event_kind is not None:
            where.append(f"l.{self.quote(t.events_kind)} = {self.param(ref.event_kind)}")
        return f"(SELECT {select} FROM {self.quote(table)} AS l WHERE {' AND '.join(where)})"

    # -- predicates --------------------------------------------------------------------
    def node(self, node: Resolved) -> str:
        match node:
            case RAnd(items=items):
                return "(" + " AND ".join(self.node(i) for i in items) + ")"
            case ROr(items=items):
                return "(" + " OR ".join(self.node(i) for i in items) + ")"
            case RNot(item=item):
                return f"(NOT {self.node(item)})"
            case Const(value=constant):
                return "(1 = 1)" if constant else "(1 = 0)"
            case RTag(field=field, tag=tag):
                t = self.t
                return (
                    f"EXISTS (SELECT 1 FROM {self.quote(t.tags)} AS t"
                    f" WHERE t.{self.quote(t.tags_customer)} = {self.c}"
                    f" AND t.{self.quote(t.tags_field)} = {self.param(field)}"
                    f" AND t.{self.quote(t.tags_tag)} = {self.param(tag)})"
                )
            case RNull(ref=ref, negated=negated):
                return f"({self.ref(ref)} IS {'NOT ' if negated else ''}NULL)"
            case RText():
                return self.text(node)
            case RIn(ref=ref, values=values, negated=negated):
                operand = self.ref(ref)
                options = ", ".join(self.value_param(ref, v) for v in values)
                return f"COALESCE({operand} {'NOT ' if negated else ''}IN ({options}), FALSE)"
            case RCompare(ref=ref, op=op, value=value):
                operand = self.ref(ref)
                sql_op = "<>" if op == "!=" else op
                return f"COALESCE({operand} {sql_op} {self.value_param(ref, value)}, FALSE)"
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover

    def text(self, node: RText) -> str:
        operand = self.ref(node.ref)
        if self.dialect == "sqlite" and not node.ignore_case:
            # SQLite's LIKE ignores ASCII case: use exact, wildcard-free functions instead.
            if node.op == "contains":
                return f"COALESCE(instr({operand}, {self.param(node.text)}) > 0, FALSE)"
            n = self.param(len(node.text))
            start = f"1, {n}" if node.op == "starts_with" else f"-{n}"
            test = f"substr({operand}, {start}) = {self.param(node.text)}"
            return f"COALESCE({test}, FALSE)"
        escaped = escape_like(node.text)
        pattern = {
            "contains": f"%{escaped}%",
            "starts_with": f"{escaped}%",
            "ends_with": f"%{escaped}",
        }[node.op]
        # Spark's LIKE escapes with "\\" already, and its literal '\\' would depend on a parser
        # setting (spark.sql.parser.escapedStringLiterals): say nothing there.
        escape = "" if self.dialect == "spark" else " ESCAPE '\\'"
        if node.ignore_case:
            test = f"lower({operand}) LIKE lower({self.param(pattern)}){escape}"
        else:
            test = f"{operand} LIKE {self.param(pattern)}{escape}"
        return f"COALESCE({test}, FALSE)"


def to_sql(
    rule: Predicate,
    dialect: Dialect,
    *,
    as_of: datetime,
    tables: SqlTables | None = None,
    schema: RuleSchema | None = None,
    what: Literal["select", "where"] = "select",
    inline: bool = False,
) -> tuple[str, tuple[object, ...]]:
    """Compile ``rule`` at ``as_of`` to ``(sql_text, params)`` for ``dialect``.

    ``what="select"`` (default): ``SELECT c.<id> FROM <customers> AS c WHERE
    ... ORDER BY c.<id>``; ``what="where"``: the condition alone, over
    customers aliased ``c``. ``tables`` defaults to
    [`SqlTables.default()`][crmcore.segments.sql.SqlTables.default] of the dialect, ``schema`` to
    the standard rule schema (add ``attr.*`` fields with
    [`with_attributes()`][crmcore.segments.rules.RuleSchema.with_attributes]). Raises
    [`RuleTypeError`][crmcore.kernel.errors.RuleTypeError] for a rule that does not fit the schema,
    before any SQL is built.

    For ``spark``, run the text with ``spark.sql(sql_text, args=list(params))``
    (Spark 3.5+). Where parameters cannot go (``DataFrame.filter``, older
    Spark, a JDBC bridge), ``inline=True`` writes every value as a literal
    made by [`spark_literal()`][crmcore.segments.sql.spark_literal] instead, and ``params`` is
    empty; other dialects keep their parameters (``inline`` is refused there).
    """
    _check_dialect(dialect)
    choice(what, "what", ("select", "where"))
    if tables is not None:
        instance_of(tables, SqlTables, "tables")
    if schema is not None:
        instance_of(schema, RuleSchema, "schema")
    if inline is not False and (inline is not True or dialect != "spark"):
        raise ValidationError("inline", inline, "literals are written only for 'spark'; "
                              "the other dialects take parameters")  # fmt: skip
    at = to_utc(as_of, "as_of")
    resolved = resolve(rule, RuleSchema.default() if schema is None else schema, at)
    layout = SqlTables.default(dialect) if tables is None else tables
    compiler = _Compiler(dialect, layout, at, inline)
    condition = compiler.node(resolved)
    if condition.startswith("(") and condition.endswith(")") and _balanced(condition[1:-1]):
        condition = condition[1:-1]
    if what == "where":
        return condition, tuple(compiler.params)
    c = compiler.c
    sql = f"SELECT {c} FROM {compiler.quote(layout.customers)} AS c WHERE {condition} ORDER BY {c}"
    return sql, tuple(compiler.params)


def _balanced(text: str) -> bool:
    """Whether the parentheses of ``text`` (no string literals in our SQL) never close early."""
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0
