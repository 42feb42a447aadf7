"""Random transaction logs for the engine differential tests, and the comparisons they share.

The logs have what real order exports have: order lines sharing an order id,
returns (negative amounts, or a negative quantity), orders that are net
returns, guest rows without a customer, times that tie, and rows after
``AS_OF``. An engine reads them either as a frame (guests already left out
by the loader) or as the raw table (the engine leaves the guests out itself);
numpy always reads the frame. Either way the reports must be equal, down to
what they say they used ([`DataUsed`][crmcore.columnar.occasions.DataUsed]).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import numpy as np
import pyarrow as pa
from hypothesis import strategies as st

from crmcore.columnar import TransactionLog
from crmcore.columnar.arrow import from_arrow

T0 = datetime(2024, 1, 1, 9, 30, tzinfo=UTC)
AS_OF = T0 + timedelta(days=600)

# Cents (not binary fractions: float sums then depend on the order), and round amounts.
AMOUNTS = st.one_of(
    st.integers(0, 50_000).map(lambda c: c / 100),
    st.sampled_from([0.0, 5.0, 10.0, 10.0, 99.99, 1e6]),
)
RETURNS = st.one_of(
    st.integers(-20_000, -1).map(lambda c: c / 100), st.sampled_from([-5.0, -10.0, -0.0])
)
_TYPES = {
    "customer_id": pa.string(),
    "at": pa.timestamp("us", tz="UTC"),
    "amount": pa.float64(),
    "currency": pa.string(),
    "order_id": pa.string(),
    "quantity": pa.int64(),
}


@st.composite
def transaction_rows(
    draw: st.DrawFn,
    max_rows: int = 40,
    customers: int = 8,
    days: int = 720,
    lines: bool = True,
) -> list[dict[str, object]]:
    """Rows in random order: few customers, coarse times (ties), some after ``AS_OF``.

    With ``lines``: order lines (a few order ids per customer), returns and
    guest rows too.
    """
    pool = [f"c{i}" for i in range(draw(st.integers(1, customers)))]
    who = st.sampled_from(pool)
    if lines:
        who = st.one_of(who, who, who, who, who, who, st.none())  # a guest now and then
    row = st.tuples(
        who,
        st.integers(0, days),
        st.sampled_from([0, 1, 6 * 60, 23 * 60 + 59]),
        st.one_of(AMOUNTS, AMOUNTS, AMOUNTS, RETURNS) if lines else AMOUNTS,
        st.one_of(st.none(), st.integers(0, 2)) if lines else st.none(),
        st.one_of(st.none(), st.none(), st.integers(-2, 3)) if lines else st.none(),
    )
    drawn = draw(st.lists(row, min_size=1, max_size=max_rows))
    if all(c is None for c, *_ in drawn):  # the loaders refuse a log of guests only
        drawn[0] = (pool[0], *drawn[0][1:])
    return [
        {
            "customer_id": c,
            "at": T0 + timedelta(days=d, minutes=m),
            "amount": a,
            "currency": "EUR",
            # One customer per order (the loaders refuse an order of two); guests share theirs.
            "order_id": None if k is None else f"{c or 'guest'}-o{k}",
            "quantity": q,
        }
        for c, d, m, a, k, q in drawn
    ]


def merged(scenarios: list[list[dict[str, object]]]) -> list[dict[str, object]]:
    """Several scenarios in one log, customers and orders renamed apart."""
    out = []
    for i, rows in enumerate(scenarios):
        for row in rows:
            renamed = dict(row)
            if row["customer_id"] is not None:
                renamed["customer_id"] = f"s{i}-{row['customer_id']}"
            if row.get("order_id") is not None:
                renamed["order_id"] = f"s{i}-{row['order_id']}"
            out.append(renamed)
    return out


def table_of(rows: list[dict[str, object]]) -> pa.Table:
    """``rows`` as an Arrow table, guests included, with a ``position`` column (the log order)."""
    columns = {
        name: pa.array([row.get(name) for row in rows], type=kind) for name, kind in _TYPES.items()
    }
    columns["position"] = pa.array(np.arange(len(rows), dtype=np.int64))
    return pa.table(columns)


def log_of(rows: list[dict[str, object]]) -> TransactionLog:
    """The transaction log of ``rows`` (guests left out and counted, as the loaders do)."""
    return from_arrow(TransactionLog, table_of(rows).drop_columns(["position"]))


def engine_source(
    engine: ModuleType, rows: list[dict[str, object]], raw: bool
) -> tuple[Any, dict[str, Any]]:
    """What an engine reads, and the extra arguments: the frame, or (``raw``) the table itself,
    guests and all, as a DuckDB relation or a Spark DataFrame ordered by ``position``."""
    if not raw:
        return log_of(rows), {}
    table = table_of(rows)
    if engine.__name__.endswith("duckdb"):
        import duckdb

        connection = duckdb.connect()
        return connection.from_arrow(table), {"connection": connection, "order": "position"}
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    assert session is not None
    return session.createDataFrame(table), {"order": "position"}


def assert_same_arrays(a: Any, b: Any, exact: tuple[str, ...], close: tuple[str, ...] = ()) -> None:
    """Fields ``exact`` equal (NaN/NaT equal to themselves); ``close`` within 1e-9 relative."""
    for name in exact:
        x, y = getattr(a, name), getattr(b, name)
        nan = x.dtype.kind in "fmM"
        assert x.dtype == y.dtype, (name, x.dtype, y.dtype)
        assert np.array_equal(x, y, equal_nan=nan), (name, x, y)
    for name in close:
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape, name
        np.testing.assert_allclose(y, x, rtol=1e-9, atol=1e-9, err_msg=name)
