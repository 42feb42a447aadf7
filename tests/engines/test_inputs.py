"""Every engine refuses bad input the same way: a CrmError naming the column, or the row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from crmcore.analytics.rfm import rfm_scores
from crmcore.columnar import CustomerFrame, EventLog, TransactionLog
from crmcore.columnar.arrow import read_parquet, to_arrow, write_parquet
from crmcore.engines import duckdb as duck
from crmcore.funnel.analytics import funnel_report
from crmcore.kernel.errors import CurrencyMismatchError, ValidationError
from crmcore.segments.rules import Compare, Field, Literal
from crmcore.testing.factories import make_customer

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AS_OF = T + timedelta(days=30)


def _log() -> TransactionLog:
    return TransactionLog.from_records(
        {"customer_id": c, "at": T + timedelta(days=d), "amount": a, "currency": "EUR"}
        for c, d, a in [("a", 0, 10.0), ("b", 1, 20.0), ("a", 2, 5.5)]
    )


def _transaction_uses(engine: ModuleType) -> dict[str, Callable[[object], object]]:
    return {
        "rfm_scores": lambda src: engine.rfm_scores(src, AS_OF),
        "cohort_matrix": lambda src: engine.cohort_matrix(src, AS_OF),
        "summary_from_transactions": lambda src: engine.summary_from_transactions(src, AS_OF),
        "classify_log": lambda src: engine.classify_log(src, AS_OF),
    }


def _parquet(tmp_path: Path, table: Any, name: str = "bad.parquet") -> str:
    path = tmp_path / name
    pq.write_table(table, path)
    return str(path)


@pytest.mark.parametrize(
    ("column", "replacement", "words"),
    [
        ("at", lambda n: pa.array([T.replace(tzinfo=None)] * n), "without time zone"),
        ("amount", lambda n: pa.array(["10.0"] * n), "holds text"),
        ("at", None, "missing"),
        ("customer_id", None, "missing"),
        ("amount", None, "missing"),
    ],
)
def test_bad_transaction_columns_are_named_by_every_analytic(
    engine: ModuleType, tmp_path: Path, column: str, replacement: Any, words: str
) -> None:
    table = to_arrow(_log())
    index = table.column_names.index(column)
    if replacement is None:
        table = table.remove_column(index)
        if column == "amount":  # else quantity x unit_price could stand in, row by row
            table = table.drop_columns(["quantity", "unit_price"])
    else:
        table = table.set_column(index, column, replacement(table.num_rows))
    path = _parquet(tmp_path, table)
    for name, use in _transaction_uses(engine).items():
        with pytest.raises(ValidationError) as caught:
            use(path)
        assert caught.value.field == column, name
        assert words in str(caught.value), name


def test_a_naive_event_time_is_named_by_the_funnel(engine: ModuleType, tmp_path: Path) -> None:
    events = EventLog.from_records([{"customer_id": "a", "kind": "visit", "at": T}])
    table = to_arrow(events)
    table = table.set_column(1, "at", pa.array([T.replace(tzinfo=None)]))
    with pytest.raises(ValidationError) as caught:
        engine.funnel_report(_parquet(tmp_path, table), ["visit", "buy"])
    assert caught.value.field == "at"


def test_a_naive_customer_time_is_named_by_the_segments(engine: ModuleType, tmp_path: Path) -> None:
    table = to_arrow(CustomerFrame.from_customers([make_customer("a")]))
    index = table.column_names.index("created_at")
    table = table.set_column(index, "created_at", pa.array([T.replace(tzinfo=None)]))
    rule = Compare(Field("country"), "=", Literal("DE"))
    with pytest.raises(ValidationError) as caught:
        engine.segment_members(rule, AS_OF, customers=_parquet(tmp_path, table))
    assert caught.value.field == "created_at"


def _rows_table(rows: list[dict[str, Any]]) -> Any:
    """A Parquet-ready table of ``rows`` (``None`` is null), typed as a loader would see it."""
    columns = {name: [row.get(name) for row in rows] for name in rows[0]}
    types = {"customer_id": pa.string(), "at": pa.timestamp("us", tz="UTC"),
             "amount": pa.float64(), "order_id": pa.string(), "quantity": pa.int64(),
             "unit_price": pa.float64(), "currency": pa.string()}  # fmt: skip
    return pa.table({name: pa.array(values, type=types[name]) for name, values in columns.items()})


BAD_ROWS = {
    "a missing time": [{"customer_id": "a", "at": T, "amount": 1.0},
                       {"customer_id": None, "at": None, "amount": 2.0}],
    "a missing amount": [{"customer_id": "a", "at": T, "amount": 1.0},
                         {"customer_id": "b", "at": T, "amount": None}],
    "NaN for an amount": [{"customer_id": "a", "at": T, "amount": float("nan")}],
    "an infinite amount": [{"customer_id": "a", "at": T, "amount": float("-inf")}],
    "a price without a quantity": [
        {"customer_id": "a", "at": T, "amount": None, "quantity": 2, "unit_price": 1.5},
        {"customer_id": "a", "at": T, "amount": None, "quantity": None, "unit_price": 1.5}],
    "a price below a minor unit": [
        {"customer_id": "a", "at": T, "amount": None, "quantity": 2, "unit_price": 0.00001}],
    "an amount that is not quantity x price": [
        {"customer_id": "a", "at": T, "amount": 3.0, "quantity": 2, "unit_price": 1.5},
        {"customer_id": "a", "at": T, "amount": 3.5, "quantity": 2, "unit_price": 1.5}],
    "an order of two customers": [
        {"customer_id": "a", "at": T, "amount": 1.0, "order_id": "o1"},
        {"customer_id": None, "at": T, "amount": 1.0, "order_id": "o1"},
        {"customer_id": "b", "at": T, "amount": 1.0, "order_id": "o2"},
        {"customer_id": "b", "at": T, "amount": 1.0, "order_id": "o1"}],
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_bad_rows_get_the_loaders_error_from_every_analytic(
    engine: ModuleType, tmp_path: Path, case: str
) -> None:
    """The same error as reading the file into a frame: field, value and reason."""
    path = _parquet(tmp_path, _rows_table(BAD_ROWS[case]))
    with pytest.raises(ValidationError) as want:
        read_parquet(TransactionLog, path)
    expected = (want.value.field, repr(want.value.value), want.value.reason)
    assert want.value.field.startswith("row ")
    uses = _transaction_uses(engine)
    if engine is not duck:  # the checks are one plan for all analytics: one suffices on Spark
        uses = {"rfm_scores": uses["rfm_scores"]}
    for name, use in uses.items():
        with pytest.raises(ValidationError) as got:
            use(path)
        assert (got.value.field, repr(got.value.value), got.value.reason) == expected, name


def test_two_currencies_are_refused_as_by_numpy(engine: ModuleType) -> None:
    mixed = TransactionLog.from_records(
        [{"customer_id": "a", "at": T, "amount": 1.0, "currency": k} for k in ("USD", "EUR")]
    )
    with pytest.raises(CurrencyMismatchError) as mismatch:
        engine.rfm_scores(mixed, AS_OF)
    assert (mismatch.value.left, mismatch.value.right) == ("EUR", "USD")


def test_parquet_files_globs_and_directories_read_in_order(
    engine: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows are numbered file by file (files by name within a glob or a directory), so the
    log order, and every row's own number, survive a split into files."""
    log = _log()
    parts = tmp_path / "parts"
    parts.mkdir()
    write_parquet(log.take([0, 1]), parts / "part-1.parquet")
    write_parquet(log.take([2]), parts / "part-2.parquet")
    expected = rfm_scores(log, AS_OF, ties="first")
    monkeypatch.chdir(tmp_path)  # relative paths are this process's, also for Spark's JVM
    for source in (["parts/part-1.parquet", parts / "part-2.parquet"], "parts/part-*.parquet",
                   "parts"):  # fmt: skip
        got = engine.rfm_scores(source, AS_OF)
        assert got.code_labels() == expected.code_labels()
        assert got.customer_ids.tolist() == expected.customer_ids.tolist()
    with pytest.raises(ValidationError) as caught:
        engine.rfm_scores(str(tmp_path / "nothing-*.parquet"), AS_OF)
    assert caught.value.field == "log"
    # A funnel joins rows by their number: it must be unique across the files.
    events = EventLog.from_records(
        {"customer_id": "a", "kind": kind, "at": T + timedelta(minutes=i)}
        for i, kind in enumerate(["visit", "visit", "buy", "visit", "buy"])
    )
    write_parquet(events.take([0, 1, 2]), parts / "events-1.parquet")
    write_parquet(events.take([3, 4]), parts / "events-2.parquet")
    got_funnel = engine.funnel_report("parts/events-*.parquet", ["visit", "buy"], mode="strict")
    assert got_funnel.counts == funnel_report(events, ["visit", "buy"], mode="strict").counts


def test_an_order_column_gives_the_log_order(engine: ModuleType, tmp_path: Path) -> None:
    log = _log()
    table = to_arrow(log.take([2, 1, 0])).append_column("position", pa.array([2, 1, 0]))
    path = _parquet(tmp_path, table)
    want = rfm_scores(log, AS_OF)
    got = engine.rfm_scores(path, AS_OF, order="position")
    assert got.customer_ids.tolist() == want.customer_ids.tolist()
    with pytest.raises(ValidationError) as caught:
        engine.rfm_scores(path, AS_OF, order="amount")
    assert caught.value.field == "order"
    twice = to_arrow(log).append_column("position", pa.array([0, 1, 1]))
    with pytest.raises(ValidationError) as caught:
        engine.funnel_report(
            _parquet(tmp_path, twice, "twice.parquet"), ["a", "b"], order="position"
        )
    assert caught.value.field == "order"


def test_duckdb_relations_are_read_in_place_and_checked() -> None:
    import duckdb

    connection = duckdb.connect()
    connection.execute(
        'CREATE TABLE purchases (customer_id VARCHAR, "at" TIMESTAMPTZ, amount DECIMAL(10, 2))'
    )
    connection.execute(
        "INSERT INTO purchases VALUES ('b', TIMESTAMPTZ '2026-03-02 09:00:00+00', 20.5), "
        "('a', TIMESTAMPTZ '2026-03-03 09:00:00+00', 3.25)"
    )
    table = duck.rfm_scores(connection.table("purchases"), AS_OF)
    assert table.customer_ids.tolist() == ["b", "a"]
    assert table.revenue.tolist() == [20.5, 3.25]
    naive = connection.sql("SELECT customer_id, CAST(\"at\" AS TIMESTAMP) AS \"at\", amount "
                           "FROM purchases")  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        duck.rfm_scores(naive, AS_OF)
    assert caught.value.field == "at"
    other = duckdb.connect()
    with pytest.raises(ValidationError):
        duck.rfm_scores(connection.table("purchases"), AS_OF, connection=other)
    assert "crm_" not in str(connection.execute("SELECT string_agg(view_name) FROM duckdb_views() "
                                                "WHERE NOT internal").fetchall())  # fmt: skip


def test_spark_dataframes_are_checked(spark: ModuleType, spark_session: Any) -> None:
    frame = spark_session.createDataFrame(
        [("a", datetime(2026, 3, 2, 9, 0), 1.0)],
        "customer_id string, at timestamp_ntz, amount double",
    )
    with pytest.raises(ValidationError) as caught:
        spark.rfm_scores(frame, AS_OF)
    assert caught.value.field == "at"
    text = spark_session.createDataFrame(
        [("a", T, "1.0")], "customer_id string, at timestamp, amount string"
    )
    with pytest.raises(ValidationError) as caught:
        spark.classify_log(text, AS_OF)
    assert caught.value.field == "amount"
    good = spark_session.createDataFrame(
        [("b", T, 2.0), ("a", T, 1.0)], "customer_id string, at timestamp, amount double"
    )
    assert spark.rfm_scores(good, AS_OF).customer_ids.tolist() == ["b", "a"]


def test_duckdb_options_are_checked_before_the_engine_runs() -> None:
    pytest.importorskip("duckdb")
    log = _log()
    frame = make_customer_frame()
    rule = Compare(Field("name"), "=", Literal("Ann"))
    for call, field in (
        (lambda: duck.rfm_scores(log, AS_OF, spend=pa.array(["net"]).to_numpy(False)), "spend"),
        (lambda: duck.cohort_matrix(log, AS_OF, period=["month"]), "period"),
        (lambda: duck.cohort_matrix(log, datetime(9999, 12, 31, tzinfo=UTC)), "as_of"),
        (lambda: duck.segment_members(None, AS_OF, customers=frame), "rule"),  # type: ignore[arg-type]
        (lambda: duck.segment_members(rule, None, customers=frame), "as_of"),  # type: ignore[arg-type]
        (lambda: duck.segment_members(rule, AS_OF, customers=None), "customers"),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == field


def make_customer_frame() -> CustomerFrame:
    return CustomerFrame.from_customers([make_customer("c-1", name="Ann")])
