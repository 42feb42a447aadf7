"""Arrow tables and Parquet files: exact round trips, shared memory, clear errors on bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.columnar import CustomerFrame, EventLog, Frame, TransactionLog
from crmcore.customers.profile import Demographics
from crmcore.kernel.errors import ValidationError
from crmcore.testing.factories import make_customer
from tests.columnar.test_frame_properties import FRAMES, IDS, SETTINGS

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from crmcore.columnar.arrow import (  # noqa: E402 - after the importorskip
    from_arrow,
    read_parquet,
    to_arrow,
    write_parquet,
)

T = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def _log() -> TransactionLog:
    return TransactionLog.from_records(
        [
            {"customer_id": "b", "at": T, "amount": 10.5, "currency": "EUR", "items": 2},
            {"customer_id": "a", "at": T, "amount": 3.0, "channel": "web"},
            {"customer_id": "b", "at": T, "amount": 1.25, "category": "books"},
        ]
    )


@pytest.mark.parametrize(("frame_type", "strategy"), FRAMES, ids=IDS)
def test_frame_to_arrow_to_frame_is_identity(
    frame_type: type[Frame], strategy: st.SearchStrategy[list[dict[str, object]]]
) -> None:
    @SETTINGS
    @given(strategy)
    def check(rows: list[dict[str, object]]) -> None:
        frame = frame_type.from_records(rows)
        table = to_arrow(frame)
        assert table.num_rows == len(frame) and table.column_names == list(frame.names)
        again = from_arrow(frame_type, table)
        assert again == frame
        assert again.names == frame.names

    check()


@pytest.mark.parametrize(("frame_type", "strategy"), FRAMES, ids=IDS)
def test_frame_to_parquet_to_frame_is_identity(
    frame_type: type[Frame], strategy: st.SearchStrategy[list[dict[str, object]]], tmp_path: Path
) -> None:
    @SETTINGS
    @given(strategy)
    def check(rows: list[dict[str, object]]) -> None:
        frame = frame_type.from_records(rows)
        path = tmp_path / "frame.parquet"
        write_parquet(frame, path)
        assert read_parquet(frame_type, path) == frame

    check()


def test_numbers_times_and_codes_are_shared_not_copied() -> None:
    log = _log()
    table = to_arrow(log)
    for name in ("amount", "at"):
        data = table.column(name).chunk(0).buffers()[1]
        assert data.address == log[name].values.ctypes.data
    back = from_arrow(TransactionLog, table)
    assert back["amount"].values.ctypes.data == log["amount"].values.ctypes.data
    assert back["at"].values.ctypes.data == log["at"].values.ctypes.data
    assert not back["amount"].values.flags.writeable


def test_codes_held_in_32_bits_are_shared_not_copied() -> None:
    n = 40_000  # more customers than int16 codes hold: the frame keeps int32 codes
    table = pa.table(
        {
            "customer_id": pa.array([f"c{i}" for i in range(n)]),
            "at": pa.array(np.zeros(n, dtype=np.int64), type=pa.timestamp("us", tz="UTC")),
            "amount": pa.array(np.ones(n)),
        }
    )
    log = from_arrow(TransactionLog, table)
    codes = log["customer_id"].codes
    assert codes.dtype == np.int32
    indices = to_arrow(log).column("customer_id").chunk(0).indices.buffers()[1]
    assert indices.address == codes.ctypes.data


def test_arrow_types_do_not_depend_on_the_width_a_frame_holds() -> None:
    small = _log()
    assert small["items"].values.dtype == np.int8
    assert small["customer_id"].codes.dtype == small["channel"].codes.dtype == np.int8
    schema = to_arrow(small).schema
    assert schema.field("items").type == pa.int64()
    assert schema.field("customer_id").type == pa.dictionary(pa.int32(), pa.string())
    assert schema.field("channel").type == pa.dictionary(pa.int32(), pa.string())
    back = from_arrow(TransactionLog, to_arrow(small))
    assert back["items"].values.dtype == small["items"].values.dtype  # narrowed again
    assert back == small


def _customers() -> CustomerFrame:
    return CustomerFrame.from_customers(
        [
            make_customer("c1", tags=frozenset({"vip", "new"}), attributes={"score": 2.5},
                          demographics=Demographics(birth_date=date(1990, 2, 28))),
            make_customer("c2", country=None),
        ]
    )  # fmt: skip


def test_types_on_the_arrow_side() -> None:
    table = to_arrow(_customers())
    schema = table.schema
    assert schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("birth_date").type == pa.date32()
    assert schema.field("country").type == pa.dictionary(pa.int32(), pa.string())
    assert schema.field("tags").type == pa.large_list(pa.dictionary(pa.int32(), pa.string()))
    assert schema.field("attr.score").metadata == {b"crmcore.kind": b"float"}
    assert table.column("tags").to_pylist() == [["new", "vip"], []]
    assert table.column("country").to_pylist() == ["DE", None]
    assert table.column("birth_date").to_pylist() == [date(1990, 2, 28), None]


def test_a_table_from_elsewhere_is_read_by_name() -> None:
    table = pa.table(
        {
            "at": pa.array([T, T], type=pa.timestamp("ms", tz="Europe/Paris")),
            "customer_id": pa.array(["x", "y"]),
            "amount": pa.array([1, 2], type=pa.int32()),
            "currency": pa.array(["USD", None]),
        }
    )
    log = from_arrow(TransactionLog, table)
    assert log.customer_ids.tolist() == ["x", "y"]
    assert log["amount"].values.tolist() == [1.0, 2.0]
    assert log.to_records()[0]["at"] == T
    assert log["currency"].missing.tolist() == [False, True]


def test_lists_of_text_become_canonical_tag_sets() -> None:
    table = to_arrow(_customers())
    lists = pa.array([["z", "a", "z"], None], type=pa.list_(pa.string()))
    frame = from_arrow(CustomerFrame, table.set_column(13, "tags", lists))
    assert frame["tags"].to_list() == [frozenset({"a", "z"}), frozenset()]
    assert frame == CustomerFrame.from_records(frame.to_records())


def test_a_naive_timestamp_is_refused_naming_the_column() -> None:
    table = to_arrow(_log()).set_column(1, "at", pa.array([T.replace(tzinfo=None)] * 3))
    with pytest.raises(ValidationError) as caught:
        from_arrow(TransactionLog, table)
    assert caught.value.field == "at" and "naive" in str(caught.value)


def test_an_amount_held_as_text_is_refused_naming_the_column() -> None:
    table = to_arrow(_log()).set_column(2, "amount", pa.array(["10.5", "3", "1.25"]))
    with pytest.raises(ValidationError) as caught:
        from_arrow(TransactionLog, table)
    assert caught.value.field == "amount" and "number" in str(caught.value)


def test_a_missing_required_column_is_named() -> None:
    table = to_arrow(_log()).drop_columns(["at"])
    with pytest.raises(ValidationError) as caught:
        from_arrow(TransactionLog, table)
    assert caught.value.field == "at"


def test_a_null_in_a_required_column_names_row_and_column() -> None:
    amounts = pa.array([1.0, None, 2.0])
    with pytest.raises(ValidationError) as caught:
        from_arrow(TransactionLog, to_arrow(_log()).set_column(2, "amount", amounts))
    assert caught.value.field == "row 1: amount"


def test_unknown_columns_and_bad_tags_are_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        from_arrow(TransactionLog, to_arrow(_log()).append_column("amountx", pa.array([1, 2, 3])))
    assert caught.value.field == "amountx"
    bad = to_arrow(_customers()).set_column(13, "tags", pa.array([["ok"], ["ok", "a|b"]]))
    with pytest.raises(ValidationError) as caught:
        from_arrow(CustomerFrame, bad)
    assert caught.value.field == "row 1: tags"


def test_duplicate_customer_ids_are_refused() -> None:
    table = to_arrow(_customers())
    with pytest.raises(ValidationError):
        from_arrow(CustomerFrame, pa.concat_tables([table, table]))


def test_several_files_and_row_groups_read_in_order(tmp_path: Path) -> None:
    log = _log()
    write_parquet(log, tmp_path / "a.parquet", row_group_size=1)
    write_parquet(log.take([2, 0]), tmp_path / "b.parquet")
    both = read_parquet(TransactionLog, [tmp_path / "a.parquet", tmp_path / "b.parquet"])
    assert both.to_records() == log.to_records() + log.take([2, 0]).to_records()
    amounts = read_parquet(TransactionLog, tmp_path / "a.parquet", columns=["customer_id", "at",
                                                                            "amount"])  # fmt: skip
    assert amounts["amount"].values.tolist() == [10.5, 3.0, 1.25]
    assert amounts["currency"].missing.all()


def test_customer_codes_follow_first_appearance() -> None:
    table = pa.table(
        {
            "customer_id": pa.array(["q", "p", "q"])
            .dictionary_encode()
            .cast(pa.dictionary(pa.int32(), pa.string())),
            "at": pa.array([T] * 3, type=pa.timestamp("us", tz="UTC")),
            "kind": ["visit", "visit", "buy"],
        }
    )
    log = from_arrow(EventLog, table)
    assert log.customer_ids.tolist() == ["q", "p"]
    assert log.customer_codes.tolist() == [0, 1, 0]
    assert np.array_equal(log["kind"].categories, ["buy", "visit"])
