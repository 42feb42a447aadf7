"""Hypothesis strategies for segment rules and the customer data they run on.

[`rules()`][crmcore.testing.rule_strategies.rules] draws well-typed random rules for a
[`RuleSchema`][crmcore.segments.rules.RuleSchema] (every node kind, nested
``and``/``or``/``not``, aggregates, relative times);
[`scenarios()`][crmcore.testing.rule_strategies.scenarios] draws an ``as_of`` and small matching
data sets: customer records (flat [`CUSTOMER_SCHEMA`][crmcore.columnar.schema.CUSTOMER_SCHEMA]
records with two custom attributes), purchase rows and event rows. Values come from small pools
chosen to hit the hard cases often: missing values, empty strings, Unicode (``ß``, ``Σ``, CJK,
emoji), LIKE wildcards and quotes, times exactly at a window's cutoff (and one microsecond either
side), 29 February birthdays, empty tag sets, log rows after ``as_of`` and rows of unknown
customers.

Amounts and numbers are multiples of 0.5, so sums are exact in every back
end and the comparison at a boundary means the same everywhere.

    from hypothesis import given
    from crmcore.testing.rule_strategies import rules, scenarios

    @given(rules(), scenarios())
    def test_my_backend(rule, scenario): ...
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

import attrs
from dateutil.relativedelta import relativedelta
from hypothesis import strategies as st

from crmcore.columnar import CUSTOMER_SCHEMA
from crmcore.kernel.clock import to_micros
from crmcore.segments.rules import (
    COMPARISON_OPERATORS,
    Aggregate,
    And,
    Between,
    Compare,
    Did,
    Duration,
    Field,
    FieldType,
    HasTag,
    InList,
    IsNull,
    Literal,
    LiteralValue,
    Not,
    Or,
    Predicate,
    RuleSchema,
    TextMatch,
    TimeCompare,
    Within,
)

__all__ = [
    "ATTRIBUTES",
    "EVENT_KINDS",
    "RuleScenario",
    "load_duckdb",
    "load_sqlite",
    "rule_schema",
    "rules",
    "scenarios",
]

ATTRIBUTES: Final[dict[str, FieldType]] = {"attr.score": "number", "attr.plan": "string"}
"""The custom attributes the scenarios carry, with their rule types."""
EVENT_KINDS: Final = ("email_open", "cart_abandoned", "website_visit")
"""The event kinds the scenarios use (a rule may also name an unseen kind)."""

_AS_OF: Final = (
    datetime(2026, 3, 1, tzinfo=UTC),
    datetime(2024, 2, 29, 12, 0, tzinfo=UTC),
    datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=UTC),
)
_DURATIONS: Final = (
    Duration(0, "days"),
    Duration(1, "days"),
    Duration(7, "days"),
    Duration(30, "days"),
    Duration(2, "weeks"),
    Duration(1, "months"),
    Duration(1, "years"),
)
_TEXT: Final = (
    "", "a", "A", "ab", "Ab", "b", "abc", "%", "_", "\\", "a%b", "a_b", "x\\y", "O'Brien",
    '" OR 1=1 --', "'; DROP TABLE customers; --", "é", "É", "ß", "SS", "ss", "Σίσυφος",
    "日本", "😀", " ", "a b",
)  # fmt: skip
_FRAGMENTS: Final = ("", "a", "A", "b", "%", "_", "\\", "'", "é", "É", "ß", "s", "本", "😀", "ab")
_CATEGORIES: Final = {
    "gender": ("female", "male", "non_binary"),
    "income_band": ("low", "middle", "high"),
    "education": ("primary", "secondary", "tertiary"),
    "country": ("CN", "TW", "US", "DE", "FR"),
    "region": ("", "North", "Île-de-France", "广东"),
    "city": ("Paris", "São Paulo", "Shenzhen", "a%b"),
    "currency": ("USD", "EUR"),
}
_TAGS: Final = ("vip", "Vip", "new", "a b", "é", "%", "_")
_NUMBERS: Final = (0, 0.5, 1, 2, 3, 10, 99.5, 100, 250, 1000)
_SCORES: Final = (-1.5, 0.0, 0.5, 1.0, 2.5, 100.0)


def rule_schema() -> RuleSchema:
    """The schema the scenarios fit: the standard fields, the two attributes, the event kinds."""
    return RuleSchema.default(EVENT_KINDS).with_attributes(ATTRIBUTES)


@attrs.frozen
class RuleScenario:
    """An ``as_of`` and a small data set: customer records, purchase rows, event rows.

    Purchase rows have the [`TRANSACTION_SCHEMA`][crmcore.columnar.schema.TRANSACTION_SCHEMA]
    keys ``customer_id, at, amount, currency, order_id, items, channel``;
    event rows ``customer_id, at, kind, channel``. Some rows belong to a
    customer id that is not among the records.
    """

    as_of: datetime
    records: tuple[dict[str, object], ...]
    purchases: tuple[dict[str, object], ...]
    events: tuple[dict[str, object], ...]


def _times(as_of: datetime) -> list[datetime]:
    """Instants at and around every window cutoff, as_of itself and a little after."""
    us = timedelta(microseconds=1)
    out: list[datetime] = []
    for duration in _DURATIONS:
        cut = duration.before(as_of)
        out.extend((cut - us, cut, cut + us))
    out.extend((as_of + us, as_of + timedelta(days=3), as_of - timedelta(days=400)))
    day = as_of.replace(hour=0, minute=0, second=0, microsecond=0)
    out.extend((day, day - timedelta(days=1), day + timedelta(days=1)))
    return out


def _dates(as_of: datetime) -> list[date]:
    day = as_of.date()
    out = [date(2000, 2, 29), date(2004, 2, 29), date(1990, 3, 1), date(1990, 2, 28)]
    for years in (0, 1, 18, 30):
        born = day - relativedelta(years=years)
        out.extend((born - timedelta(days=1), born, born + timedelta(days=1)))
    return out


@st.composite
def _record(draw: st.DrawFn, cid: str, as_of: datetime, first: bool) -> dict[str, object]:
    times = _times(as_of)
    maybe_time = st.none() | st.sampled_from(times)
    record: dict[str, object] = {}
    for column in CUSTOMER_SCHEMA.columns:
        name = column.name
        kind = column.kind
        value: object
        if name == "id":
            value = cid
        elif kind == "string":
            value = draw(st.sampled_from(_TEXT))
        elif kind == "category":
            value = draw(st.sampled_from(_CATEGORIES.get(name, ("x", "y"))))
        elif kind == "tags":
            value = draw(st.frozensets(st.sampled_from(_TAGS), max_size=3))
        elif kind == "int":
            value = draw(st.sampled_from((0, 1, 2, 3, 10)))
        elif kind == "float":
            value = float(draw(st.sampled_from(_NUMBERS)))
        elif kind == "bool":
            value = draw(st.booleans())
        elif kind == "datetime":
            value = draw(st.sampled_from(times))
        else:
            value = draw(st.sampled_from(_dates(as_of)))
        if column.nullable and draw(st.integers(0, 4)) == 0:
            value = None
        if name == "email" and value is not None:
            value = f"{value}#{cid}"  # the store keeps e-mail addresses unique
        record[name] = value
    record["last_purchase_at"] = draw(maybe_time)
    # the first customer has both attributes, so a frame infers their column kinds
    record["attr.score"] = 1.0 if first else draw(st.none() | st.sampled_from(_SCORES))
    record["attr.plan"] = "pro" if first else draw(st.none() | st.sampled_from(("free", "pro", "")))
    return record


@st.composite
def scenarios(draw: st.DrawFn, max_customers: int = 6) -> RuleScenario:
    """An ``as_of`` with 1..``max_customers`` customers and their purchase and event rows."""
    as_of = draw(st.sampled_from(_AS_OF))
    n = draw(st.integers(1, max_customers))
    ids = [f"c{i}" for i in range(n)]
    records = tuple(draw(_record(cid, as_of, i == 0)) for i, cid in enumerate(ids))
    owners = st.sampled_from([*ids, "ghost"])
    times = st.sampled_from(_times(as_of))
    purchases = tuple(
        {
            "customer_id": draw(owners),
            "at": draw(times),
            "amount": float(draw(st.sampled_from((0.5, 1.0, 10.0, 99.5, 250.0)))),
            "currency": "USD",
            "order_id": f"o{i}",
            "items": draw(st.integers(1, 3)),
            "channel": "web",
        }
        for i in range(draw(st.integers(0, 3 * n)))
    )
    events = tuple(
        {
            "customer_id": draw(owners),
            "at": draw(times),
            "kind": draw(st.sampled_from(EVENT_KINDS)),
            "channel": "web",
        }
        for _i in range(draw(st.integers(0, 3 * n)))
    )
    return RuleScenario(as_of, records, purchases, events)


# --- rules ---------------------------------------------------------------------------------


def _literals(tp: FieldType, name: str) -> st.SearchStrategy[LiteralValue]:
    if tp == "number":
        numbers = st.sampled_from(_NUMBERS) | st.sampled_from(_SCORES)
        return numbers | numbers.map(float) | st.sampled_from((Decimal("99.5"), Decimal("100")))
    if tp == "string":
        pool = _CATEGORIES.get(name, ()) + _TEXT + ("free", "pro")
        return st.sampled_from(pool)
    if tp == "bool":
        return st.booleans()
    as_of = _AS_OF[0]
    instants = st.sampled_from([t for a in _AS_OF for t in _times(a)])
    days = st.sampled_from([d for a in _AS_OF for d in _dates(a)] + [as_of.date()])
    return instants | days


def _operands(schema: RuleSchema, tp: FieldType) -> st.SearchStrategy[Field]:
    names = sorted(n for n, t in schema.fields.items() if t == tp)
    return st.sampled_from(names).map(Field)


def _windows() -> st.SearchStrategy[Duration | None]:
    return st.none() | st.sampled_from(_DURATIONS)


def _aggregates(schema: RuleSchema) -> st.SearchStrategy[Aggregate]:
    kinds = sorted(schema.event_kinds or EVENT_KINDS)
    counts = st.builds(
        Aggregate,
        st.just("count"),
        st.just("purchases"),
        window=_windows(),
    ) | st.builds(
        Aggregate,
        st.just("count"),
        st.just("events"),
        event_kind=st.none() | st.sampled_from(kinds),
        window=_windows(),
    )
    columns = sorted(n for n, t in schema.purchase_columns.items() if t == "number")
    values = st.builds(
        Aggregate,
        st.sampled_from(("sum", "avg", "min", "max")),
        st.just("purchases"),
        column=st.sampled_from(columns),
        window=_windows(),
    )
    return counts | values


@st.composite
def _leaf(draw: st.DrawFn, schema: RuleSchema) -> Predicate:
    types = sorted(set(schema.fields.values()))
    choice = draw(st.integers(0, 10))
    scalar_types = [t for t in types if t != "tags"]
    if choice == 0:
        agg = draw(_aggregates(schema))
        op = draw(st.sampled_from(COMPARISON_OPERATORS))
        return Compare(agg, op, Literal(draw(_literals("number", ""))))
    if choice == 1:
        agg = draw(_aggregates(schema))
        return IsNull(agg, draw(st.booleans()))
    if choice == 2:
        return Did(
            draw(st.sampled_from(sorted(schema.event_kinds or EVENT_KINDS))), draw(_windows())
        )
    if choice == 3:
        field = draw(_operands(schema, "tags"))
        tag = draw(st.sampled_from(_TAGS))
        return HasTag(tag, field)
    if choice == 4:
        field = draw(_operands(schema, "string"))
        return TextMatch(
            field,
            draw(st.sampled_from(("contains", "starts_with", "ends_with"))),
            draw(st.sampled_from(_FRAGMENTS)),
            draw(st.booleans()),
        )
    if choice == 5:
        field = draw(_operands(schema, draw(st.sampled_from(("datetime", "date")))))
        return Within(field, draw(st.sampled_from(_DURATIONS)))
    if choice == 6:
        field = draw(_operands(schema, draw(st.sampled_from(("datetime", "date")))))
        point: Literal | Duration = draw(
            st.sampled_from(_DURATIONS) | _literals("datetime", "").map(Literal)
        )
        return TimeCompare(field, draw(st.sampled_from(("before", "after"))), point)
    if choice == 7:
        field = draw(_operands(schema, draw(st.sampled_from(types))))
        return IsNull(field, draw(st.booleans()))
    tp: FieldType = draw(st.sampled_from(scalar_types))
    field = draw(_operands(schema, tp))
    if tp == "date":
        literal = _literals(tp, field.name).filter(lambda v: not isinstance(v, datetime))
    else:
        literal = _literals(tp, field.name)
    if choice == 8:
        values = draw(st.lists(literal, min_size=1, max_size=3))
        return InList(field, tuple(Literal(v) for v in values), draw(st.booleans()))
    if choice == 9:
        low, high = draw(literal), draw(literal)
        if tp in ("datetime", "date") and type(low) is not type(high):
            high = low
        return Between(field, Literal(low), Literal(high), draw(st.booleans()))
    if tp == "date":
        literal = _literals(tp, field.name)
    op = draw(st.sampled_from(COMPARISON_OPERATORS))
    return Compare(field, op, Literal(draw(literal)))


def rules(schema: RuleSchema | None = None, max_leaves: int = 8) -> st.SearchStrategy[Predicate]:
    """Well-typed random rules over ``schema`` (default
    [`rule_schema()`][crmcore.testing.rule_strategies.rule_schema])."""
    base = rule_schema() if schema is None else schema
    return st.recursive(
        _leaf(base),
        lambda inner: (
            st.lists(inner, min_size=2, max_size=3).map(And)
            | st.lists(inner, min_size=2, max_size=3).map(Or)
            | inner.map(Not)
        ),
        max_leaves=max_leaves,
    )


# --- loading a scenario into a database ----------------------------------------------------

_SCALARS: Final = tuple(c for c in CUSTOMER_SCHEMA.columns if c.kind != "tags")
_TAG_FIELDS: Final = tuple(c.name for c in CUSTOMER_SCHEMA.columns if c.kind == "tags")


def _micros(value: object) -> int | None:
    if value is None:
        return None
    return to_micros(value)


def _sqlite_value(kind: str, value: object) -> object:
    if value is None:
        return None
    if kind == "datetime":
        return _micros(value)
    if kind == "date":
        assert isinstance(value, date)
        return value.isoformat()
    if kind == "bool":
        return int(bool(value))
    return value


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_sqlite(connection: Any, scenario: RuleScenario) -> None:
    """Insert ``scenario`` into a SQLite database migrated to the store's schema.

    ``connection`` is a `sqlite3` connection on which
    [`crmcore.storage.sqlite.schema.migrate()`][crmcore.storage.sqlite.schema.migrate] has run; rows
    are written with the encodings [`SqliteStore`][crmcore.storage.sqlite.SqliteStore] uses
    (microseconds, ISO dates, 0/1, amounts as decimal text, attributes and tags in their own
    tables).
    """
    names = ["id", "version", "body", *(c.name for c in _SCALARS if c.name != "id")]
    sql = (
        f"INSERT INTO customers ({', '.join(map(_quoted, names))}) "
        f"VALUES ({', '.join('?' * len(names))})"
    )
    for record in scenario.records:
        values = [_sqlite_value(c.kind, record.get(c.name)) for c in _SCALARS if c.name != "id"]
        connection.execute(sql, (record["id"], 1, "{}", *values))
        for field in _TAG_FIELDS:
            tags = record.get(field) or frozenset()
            assert isinstance(tags, frozenset)
            for tag in sorted(tags):
                connection.execute(
                    "INSERT INTO customer_tags (customer_id, field, tag) VALUES (?, ?, ?)",
                    (record["id"], field, tag),
                )
        ordinal = 0
        for key, value in record.items():
            if not key.startswith("attr.") or value is None:
                continue
            tag = "float" if isinstance(value, float) else "str"
            connection.execute(
                "INSERT INTO customer_attributes (customer_id, name, ordinal, type, value)"
                " VALUES (?, ?, ?, ?, ?)",
                (record["id"], key[len("attr.") :], ordinal, tag, value),
            )
            ordinal += 1
    for row in scenario.purchases:
        connection.execute(
            "INSERT INTO purchases (order_id, customer_id, at, amount, currency, items, channel)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                row["order_id"],
                row["customer_id"],
                _micros(row["at"]),
                str(Decimal(str(row["amount"]))),
                row["currency"],
                row["items"],
                row["channel"],
            ),
        )
    for i, row in enumerate(scenario.events):
        connection.execute(
            "INSERT INTO interactions (id, customer_id, at, channel, kind) VALUES (?, ?, ?, ?, ?)",
            (f"e{i}", row["customer_id"], _micros(row["at"]), row["channel"], row["kind"]),
        )


_DUCK_TYPES: Final = {
    "string": "VARCHAR",
    "category": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "datetime": "TIMESTAMPTZ",
    "date": "DATE",
}


def load_duckdb(connection: Any, scenario: RuleScenario) -> None:
    """Create and fill DuckDB tables in the default ``duckdb`` layout of `to_sql()`.

    Datetimes are ``TIMESTAMPTZ``, dates ``DATE``, custom attributes columns
    named ``attr.<name>``; tags in ``customer_tags``, purchases and events
    (``interactions``) in their tables.
    """
    columns = [(c.name, _DUCK_TYPES[c.kind]) for c in _SCALARS]
    columns += [("attr.score", "DOUBLE"), ("attr.plan", "VARCHAR")]
    connection.execute(
        f"CREATE TABLE customers ({', '.join(f'{_quoted(n)} {t}' for n, t in columns)})"
    )
    connection.execute(
        "CREATE TABLE customer_tags (customer_id VARCHAR, field VARCHAR, tag VARCHAR)"
    )
    connection.execute(
        'CREATE TABLE purchases (customer_id VARCHAR, "at" TIMESTAMPTZ,'
        " amount DOUBLE, items BIGINT)"
    )
    connection.execute(
        'CREATE TABLE interactions (customer_id VARCHAR, "at" TIMESTAMPTZ, kind VARCHAR)'
    )
    insert = (
        f"INSERT INTO customers ({', '.join(_quoted(n) for n, _t in columns)}) "
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    for record in scenario.records:
        connection.execute(insert, [record.get(n) for n, _t in columns])
        for field in _TAG_FIELDS:
            tags = record.get(field) or frozenset()
            assert isinstance(tags, frozenset)
            for tag in sorted(tags):
                connection.execute(
                    "INSERT INTO customer_tags VALUES (?, ?, ?)", [record["id"], field, tag]
                )
    for row in scenario.purchases:
        connection.execute(
            "INSERT INTO purchases VALUES (?, ?, ?, ?)",
            [row["customer_id"], row["at"], row["amount"], row["items"]],
        )
    for row in scenario.events:
        connection.execute(
            "INSERT INTO interactions VALUES (?, ?, ?)",
            [row["customer_id"], row["at"], row["kind"]],
        )
