"""Property tests: records, CSV and pandas round trips of every frame type are exact."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.columnar import (
    CUSTOMER_SCHEMA,
    EVENT_SCHEMA,
    TRANSACTION_SCHEMA,
    ColumnKind,
    CustomerFrame,
    EventLog,
    Frame,
    Schema,
    TransactionLog,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that CSV can carry: no NUL (the csv module refuses it), no lone surrogates (not UTF-8).
TEXT = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    min_size=1,
    max_size=12,
)
LABEL = st.sampled_from(["CN", "TW", "US", "de", "Zürich", "a b", "x,y", 'q"t', "1"])
TAG = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00|"),
    min_size=1,
    max_size=8,
)
ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)
DATETIME = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2099, 12, 30), timezones=ZONES
)
DATE = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
FLOAT = st.floats(allow_nan=False, allow_infinity=True)

SCALARS: dict[ColumnKind, st.SearchStrategy[Any]] = {
    "string": TEXT,
    "float": FLOAT,
    "int": INT64,
    "bool": st.booleans(),
    "datetime": DATETIME,
    "date": DATE,
    "category": LABEL,
    "tags": st.frozensets(TAG, max_size=4),
}

# Attribute values whose CSV text cannot be mistaken for another kind.
ATTRIBUTES: dict[ColumnKind, st.SearchStrategy[Any]] = {
    "string": st.text(st.characters(categories=["L"]), max_size=8).map(lambda s: "x" + s),
    "int": INT64,
    "float": st.floats(allow_nan=False, allow_infinity=False),
    "bool": st.booleans(),
    "datetime": DATETIME,
    "date": DATE,
}


def _value(kind: ColumnKind, nullable: bool) -> st.SearchStrategy[Any]:
    # A tags column has no missing state (an empty set is its "nothing").
    if nullable and kind != "tags":
        return st.none() | SCALARS[kind]
    return SCALARS[kind]


@st.composite
def records_of(
    draw: st.DrawFn, schema: Schema, ids: st.SearchStrategy[str] | None = None
) -> list[dict[str, object]]:
    """Records with every schema column; ``ids`` (unique) fill the ``id`` column if given."""
    n = draw(st.integers(min_value=0, max_value=12))
    unique_ids = draw(st.lists(ids, min_size=n, max_size=n, unique=True)) if ids is not None else []
    rows: list[dict[str, object]] = []
    for i in range(n):
        row: dict[str, object] = {}
        for spec in schema.columns:
            if spec.name == "id" and ids is not None:
                row["id"] = unique_ids[i]
            else:
                row[spec.name] = draw(_value(spec.kind, spec.nullable))
        rows.append(row)
    return rows


@st.composite
def customer_records(draw: st.DrawFn) -> list[dict[str, object]]:
    """Customer records with 0-3 ``attr.*`` columns present (possibly None) in every row."""
    rows = draw(records_of(CUSTOMER_SCHEMA, ids=TEXT))
    kinds = draw(
        st.dictionaries(
            st.sampled_from(["attr.a", "attr.b", "attr.tier", "attr.z9"]),
            st.sampled_from(sorted(ATTRIBUTES)),
            max_size=3,
        )
    )
    for row in rows:
        for name, kind in kinds.items():
            row[name] = draw(st.none() | ATTRIBUTES[kind])
    return rows


def _with_customer_ids(schema: Schema) -> st.SearchStrategy[list[dict[str, object]]]:
    ids = st.sampled_from(["c-1", "c-2", "c-3", "ü-4", "c,5"])
    return records_of(schema).flatmap(
        lambda rows: st.lists(ids, min_size=len(rows), max_size=len(rows)).map(
            lambda chosen: [{**row, "customer_id": c} for row, c in zip(rows, chosen, strict=True)]
        )
    )


@st.composite
def _line(draw: st.DrawFn, row: dict[str, object]) -> dict[str, object]:
    """A consistent order line: amount = quantity x unit price where both are given; an
    order id belongs to one customer."""
    quantity = draw(st.none() | st.integers(-50, 50))
    price = None if quantity is None else draw(st.none() | st.integers(-(10**6), 10**6))
    amount: object = draw(st.floats(allow_nan=False, allow_infinity=False))
    if quantity is not None and price is not None:
        amount = quantity * price / 100
    order = draw(st.none() | st.sampled_from(["1", "2", "x,3"]))
    return {
        **row,
        "quantity": quantity,
        "unit_price": None if price is None else price / 100,
        "amount": amount,
        "order_id": None if order is None else f"{row['customer_id']}/{order}",
    }


def _transactions() -> st.SearchStrategy[list[dict[str, object]]]:
    return _with_customer_ids(TRANSACTION_SCHEMA).flatmap(
        lambda rows: st.tuples(*(_line(row) for row in rows)).map(list)
    )


FRAMES: list[tuple[type[Frame], st.SearchStrategy[list[dict[str, object]]]]] = [
    (CustomerFrame, customer_records()),
    (TransactionLog, _transactions()),
    (EventLog, _with_customer_ids(EVENT_SCHEMA)),
]
IDS = ["customers", "transactions", "events"]


@pytest.mark.parametrize(("frame_type", "strategy"), FRAMES, ids=IDS)
def test_records_to_frame_to_records_is_identity(
    frame_type: type[Frame], strategy: st.SearchStrategy[list[dict[str, object]]]
) -> None:
    @SETTINGS
    @given(strategy)
    def check(rows: list[dict[str, object]]) -> None:
        frame = frame_type.from_records(rows)
        assert len(frame) == len(rows)
        back = frame.to_records()
        assert back == rows
        for got, want in zip(back, rows, strict=True):
            for key, value in want.items():
                if isinstance(value, datetime):
                    assert got[key].tzinfo is UTC  # type: ignore[attr-defined]
        assert frame_type.from_records(back) == frame

    check()


@pytest.mark.parametrize(("frame_type", "strategy"), FRAMES, ids=IDS)
def test_frame_to_csv_to_frame_is_identity(
    frame_type: type[Frame], strategy: st.SearchStrategy[list[dict[str, object]]]
) -> None:
    @SETTINGS
    @given(strategy)
    def check(rows: list[dict[str, object]]) -> None:
        frame = frame_type.from_records(rows)
        buffer = io.StringIO(newline="")
        frame.to_csv(buffer)
        buffer.seek(0)
        again = frame_type.from_csv(buffer, float_ids=False)
        assert again == frame
        assert again.names == frame.names

    check()


@pytest.mark.parametrize(("frame_type", "strategy"), FRAMES, ids=IDS)
def test_frame_to_pandas_to_frame_is_identity(
    frame_type: type[Frame], strategy: st.SearchStrategy[list[dict[str, object]]]
) -> None:
    pytest.importorskip("pandas")

    @SETTINGS
    @given(strategy)
    def check(rows: list[dict[str, object]]) -> None:
        frame = frame_type.from_records(rows)
        df = frame.to_pandas()
        assert list(df.columns) == list(frame.names)
        assert len(df) == len(frame)
        assert frame_type.from_pandas(df, float_ids=False) == frame

    check()


@SETTINGS
@given(_transactions(), st.data())
def test_take_matches_picking_records(rows: list[dict[str, object]], data: st.DataObject) -> None:
    log = TransactionLog.from_records(rows)
    picks = data.draw(st.lists(st.integers(0, max(len(rows) - 1, 0)), max_size=8))
    if not rows:
        picks = []
    assert log.take(picks).to_records() == [log.to_records()[i] for i in picks]


@SETTINGS
@given(_with_customer_ids(EVENT_SCHEMA))
def test_sort_by_customer_time_orders_and_keeps_rows(rows: list[dict[str, object]]) -> None:
    log = EventLog.from_records(rows)
    ordered = log.sort_by_customer_time()
    keys = list(zip(ordered.customer_codes.tolist(), ordered.at.tolist(), strict=True))
    assert keys == sorted(keys)
    assert sorted(map(repr, ordered.to_records())) == sorted(map(repr, log.to_records()))
