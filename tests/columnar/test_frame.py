"""Example tests for columnar frames: construction, conversion, selection, errors."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from crmcore.columnar import (
    CUSTOMER_SCHEMA,
    EVENT_SCHEMA,
    TRANSACTION_SCHEMA,
    Column,
    CustomerFrame,
    EventLog,
    Frame,
    TransactionLog,
    customer_record,
)
from crmcore.customers import (
    Contact,
    Customer,
    Demographics,
    Gender,
    Geography,
    Interaction,
    Psychographics,
    Purchase,
)
from crmcore.kernel.errors import MissingDependencyError, NotFoundError, ValidationError
from crmcore.kernel.money import Money

T0 = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def _customers() -> list[Customer]:
    ann = Customer.register(
        "c-1",
        "Ann Lee",
        T0,
        contact=Contact(email="ann@example.com", phone="+442079460958"),
        demographics=Demographics(birth_date=date(1990, 2, 28), gender=Gender.FEMALE),
        geography=Geography(country="CN", region="Shanghai", city="Shanghai"),
        psychographics=Psychographics(interests=["hiking", "books"]),
        tags=["vip", "newsletter"],
        attributes={"score": 3, "ratio": Decimal("1.5"), "tier": "gold"},
    ).value
    ann = ann.grant_consent("email", T0).value
    ann = ann.record_purchase(
        Purchase("o-1", "c-1", T0 + timedelta(days=1), Money("19.90", "CNY"), items=2)
    ).value
    bob = Customer.register(
        "c-2",
        "Bob <script>alert(1)</script>",
        T0 + timedelta(hours=1),
        geography=Geography(country="TW"),
        attributes={"score": 4.5, "joined": date(2020, 1, 31)},
    ).value
    cy = Customer.register("c-3", "Cy", T0 + timedelta(days=2), tags=["vip"]).value
    return [ann, bob, cy]


@pytest.fixture
def customers() -> CustomerFrame:
    return CustomerFrame.from_customers(_customers())


def _transactions() -> list[dict[str, object]]:
    return [
        {"customer_id": "c-2", "at": T0 + timedelta(days=3), "amount": 5.0, "currency": "TWD"},
        {"customer_id": "c-1", "at": T0 + timedelta(days=2), "amount": 19.9, "items": 2},
        {"customer_id": "c-9", "at": T0, "amount": 1, "channel": "web", "order_id": "o-9"},
        {"customer_id": "c-2", "at": T0 + timedelta(days=1), "amount": 7.25, "category": "toys"},
        {"customer_id": "c-2", "at": T0 + timedelta(days=1), "amount": 8.0},
    ]


# -- construction from customers and records ----------------------------------------------


def test_from_customers_flattens_every_schema_column(customers: CustomerFrame) -> None:
    assert len(customers) == 3
    assert customers.names[: len(CUSTOMER_SCHEMA.names)] == CUSTOMER_SCHEMA.names
    assert customers.attribute_names == ("attr.joined", "attr.ratio", "attr.score", "attr.tier")
    assert customers.ids.tolist() == ["c-1", "c-2", "c-3"]
    assert customers["email"].to_list() == ["ann@example.com", None, None]
    assert customers["created_at"].to_list()[1] == T0 + timedelta(hours=1)
    assert customers["birth_date"].to_list() == [date(1990, 2, 28), None, None]
    assert customers["gender"].to_list() == ["female", None, None]
    assert customers["country"].to_list() == ["CN", "TW", None]
    assert customers["tags"].to_list() == [
        frozenset({"vip", "newsletter"}),
        frozenset(),
        frozenset({"vip"}),
    ]
    assert customers["total_spent"].to_list() == [19.9, 0.0, 0.0]
    assert customers["purchase_count"].to_list() == [1, 0, 0]
    assert customers["consent_email"].to_list() == [True, False, False]
    assert customers["first_purchase_at"].to_list() == [T0 + timedelta(days=1), None, None]


def test_attribute_kinds_are_inferred_from_values(customers: CustomerFrame) -> None:
    kinds = {name: customers[name].kind for name in customers.attribute_names}
    assert kinds == {
        "attr.joined": "date",
        "attr.ratio": "float",  # Decimal -> float
        "attr.score": "float",  # int mixed with float -> float
        "attr.tier": "string",
    }
    assert customers["attr.score"].to_list() == [3.0, 4.5, None]
    assert customers["attr.tier"].to_list() == ["gold", None, None]


def test_records_round_trip_exactly(customers: CustomerFrame) -> None:
    records = customers.to_records()
    assert records[0]["attr.ratio"] == 1.5
    assert records[2]["attr.joined"] is None
    assert CustomerFrame.from_records(records) == customers
    assert CustomerFrame.from_records(iter(records)) == customers  # a one-shot iterator


def test_from_records_matches_customer_record(customers: CustomerFrame) -> None:
    expected = [customer_record(c) for c in _customers()]
    for got, want in zip(customers.to_records(), expected, strict=True):
        for key, value in want.items():
            assert got[key] == value, key


def test_aware_datetimes_in_any_zone_are_stored_in_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    log = TransactionLog.from_records(
        [
            {
                "customer_id": "c",
                "at": datetime(2024, 5, 1, 11, 30, 0, 7, tzinfo=plus_two),
                "amount": 1,
            }
        ]
    )
    assert log.at.tolist() == [datetime(2024, 5, 1, 9, 30, 0, 7)]
    (at,) = log["at"].to_list()
    assert isinstance(at, datetime)
    assert at.tzinfo is UTC
    assert at == datetime(2024, 5, 1, 9, 30, 0, 7, tzinfo=UTC)


def test_empty_input_gives_an_empty_frame() -> None:
    frame = CustomerFrame.from_records([])
    assert len(frame) == 0
    assert frame.names == CUSTOMER_SCHEMA.names
    assert frame.to_records() == []
    assert len(TransactionLog.from_records([])) == 0


def test_logs_from_purchases_and_interactions() -> None:
    purchases = [
        Purchase("o-1", "c-1", T0, Money("10.50", "EUR"), items=3, channel="store"),
        Purchase("o-2", "c-2", T0, Money("1", "EUR"), category="Toys"),
    ]
    log = TransactionLog.from_purchases(purchases)
    assert log["amount"].to_list() == [10.5, 1.0]
    assert log["order_id"].to_list() == ["o-1", "o-2"]
    assert log["category"].to_list() == [None, "toys"]
    assert log.customer_ids.tolist() == ["c-1", "c-2"]
    interactions = [
        Interaction("i-1", "c-1", T0, "web", "website_visit", stage="awareness"),
        Interaction("i-2", "c-1", T0, "email", "demo_request"),
    ]
    events = EventLog.from_interactions(interactions)
    assert events["kind"].to_list() == ["website_visit", "demo_request"]
    assert events["stage"].to_list() == ["awareness", None]
    assert events.names == EVENT_SCHEMA.names


# -- layout: missing values per kind, codes, tags ---------------------------------------


def test_missing_values_follow_the_schema_table() -> None:
    frame = CustomerFrame.from_records(
        [
            {
                "id": "a",
                "name": "A",
                "created_at": T0,
                "purchase_count": 0,
                "items_purchased": 0,
                "total_spent": 0.0,
                "interaction_count": 0,
                "service_count": 0,
                **{s.name: False for s in CUSTOMER_SCHEMA.columns if s.kind == "bool"},
                "attr.n": None,
                "attr.flag": None,
            },
            {
                "id": "b",
                "name": "B",
                "email": "b@example.com",
                "birth_date": date(2000, 1, 1),
                "country": "DE",
                "last_purchase_at": T0,
                "created_at": T0,
                "purchase_count": 1,
                "items_purchased": 1,
                "total_spent": 2.5,
                "interaction_count": 0,
                "service_count": 0,
                **{s.name: True for s in CUSTOMER_SCHEMA.columns if s.kind == "bool"},
                "attr.n": 7,
                "attr.flag": True,
            },
        ]
    )
    email = frame["email"]
    assert email.values.dtype == np.dtypes.StringDType()
    assert email.values.tolist() == ["", "b@example.com"]
    assert email.missing.tolist() == [True, False]
    assert np.isnan(frame["attr.n"].values).tolist() == [False, False]  # an int column
    assert frame["attr.n"].kind == "int"
    assert frame["attr.n"].values.tolist() == [0, 7]
    assert frame["attr.n"].missing.tolist() == [True, False]
    assert frame["attr.flag"].values.tolist() == [False, True]
    assert frame["attr.flag"].missing.tolist() == [True, False]
    assert np.isnat(frame["last_purchase_at"].values).tolist() == [True, False]
    assert frame["last_purchase_at"].values.dtype == np.dtype("datetime64[us]")
    assert frame["birth_date"].values.dtype == np.dtype("datetime64[D]")
    assert frame["birth_date"].missing.tolist() == [True, False]
    assert frame["country"].values.tolist() == [-1, 0]
    assert frame["country"].values.dtype == np.int8  # the narrowest codes that hold them
    assert frame["tags"].missing.tolist() == [False, False]
    nan_frame = TransactionLog.from_records(
        [{"customer_id": "c", "at": T0, "amount": 1.0, "items": None}]
    )
    assert nan_frame["items"].missing.tolist() == [True]


def test_category_codes_index_sorted_categories() -> None:
    column = Column.from_values("category", ["TW", "CN", None, "US", "CN"])
    assert column.categories == ("CN", "TW", "US")
    assert column.codes.tolist() == [1, 0, -1, 2, 0]
    assert column.code_of("US") == 2
    assert column.code_of("FR") is None
    assert column.isin(["CN", "FR"]).tolist() == [False, True, False, False, True]
    assert column.to_list() == ["TW", "CN", None, "US", "CN"]


def test_tags_are_csr_with_sorted_distinct_codes_per_row() -> None:
    column = Column.from_values("tags", [["b", "a", "b"], None, frozenset({"c"}), ("a",)])
    assert column.categories == ("a", "b", "c")
    assert column.offsets.tolist() == [0, 2, 2, 3, 4]
    assert column.codes.tolist() == [0, 1, 2, 0]
    assert column.lengths.tolist() == [2, 0, 1, 1]
    assert column.has("a").tolist() == [True, False, False, True]
    assert column.has("c").tolist() == [False, False, True, False]
    assert column.has("zzz").tolist() == [False] * 4
    assert column.to_list() == [frozenset("ab"), frozenset(), frozenset("c"), frozenset("a")]


def test_string_isin_ignores_missing_rows() -> None:
    column = Column.from_values("string", ["x", None, "y"])
    assert column.isin(["x", ""]).tolist() == [True, False, False]


def test_columns_compare_by_value_not_by_code_layout() -> None:
    a = Column.from_values("category", ["x", "y"])
    b = Column.from_numpy("category", np.array([1, 2]), categories=["a", "x", "y"])
    assert a == b
    assert a != Column.from_values("category", ["y", "x"])
    tags_a = Column.from_values("tags", [{"x"}, {"y", "x"}])
    tags_b = Column.from_values("tags", [{"x", "q"}, {"y", "x"}]).take(np.array([0, 1]))
    assert tags_a != tags_b
    assert Column.from_values("float", [1.0, None]) == Column.from_values("float", [1, None])


def test_from_numpy_validates_and_copies() -> None:
    source = np.array([1.5, 2.0])
    column = Column.from_numpy("float", source, missing=np.array([False, True]))
    source[0] = 99.0
    assert column.to_list() == [1.5, None]
    with pytest.raises(ValidationError):
        Column.from_numpy("category", np.array([0, 3]), categories=["a", "b"])
    with pytest.raises(ValidationError):
        Column.from_numpy("category", np.array([0]), categories=["b", "a"])
    with pytest.raises(ValidationError):
        Column.from_numpy("int", np.array([1.5]))
    with pytest.raises(ValidationError):
        Column.from_numpy("datetime", np.array(["2024-01-01T00:00:00.000000001"], "M8[ns]"))
    with pytest.raises(TypeError):
        Column()


def test_base_frame_has_no_schema() -> None:
    with pytest.raises(ValidationError, match="has no schema"):
        Frame.from_records([])


def test_bad_paths_and_streams_are_refused_naming_them(
    customers: CustomerFrame, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError, match="source: cannot be read: No such file"):
        CustomerFrame.from_csv(tmp_path / "absent.csv")
    with pytest.raises(ValidationError, match="source: must be a path or a text stream"):
        CustomerFrame.from_csv(io.BytesIO(b"id\n"))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="target: must be a path or a text stream"):
        customers.to_csv(True)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="target: cannot be written"):
        customers.to_csv(tmp_path / "no such folder" / "customers.csv")


def test_columns_and_frames_refuse_wrong_arguments(customers: CustomerFrame) -> None:
    column = Column.from_values("int", [1, 2])
    with pytest.raises(ValidationError, match=r"indices: must lie in 0\.\.1"):
        column.take(np.array([2]))
    with pytest.raises(ValidationError, match="indices: must be a 1-d array of int positions"):
        column.take(np.array([0.5]))
    with pytest.raises(ValidationError, match="row 1: values: is not valid text"):
        Column.from_values("string", ["a", "b\ud800"])
    with pytest.raises(ValidationError, match=r"ids\[0\]: is not valid text"):
        customers.index_of(["\ud800"])
    with pytest.raises(ValidationError, match=r"customers\[1\]: must be a Customer"):
        CustomerFrame.from_customers([_customers()[0], "c-2"])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="name: must be a column name"):
        customers.column(["id"])  # type: ignore[arg-type]


# -- immutability ---------------------------------------------------------------------------


def test_arrays_are_read_only(customers: CustomerFrame) -> None:
    for name in customers.names:
        column = customers[name]
        with pytest.raises(ValueError, match="read-only"):
            column.values[...] = column.values
        assert not column.missing.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        customers["tags"].offsets[0] = 1
    log = TransactionLog.from_records(_transactions())
    with pytest.raises(ValueError, match="read-only"):
        log.customer_codes[0] = 1
    with pytest.raises(ValueError, match="read-only"):
        log.customer_ids[0] = "x"


def test_from_records_does_not_mutate_its_input() -> None:
    records = _transactions()
    snapshot = [dict(r) for r in records]
    TransactionLog.from_records(records)
    assert records == snapshot


# -- selection -----------------------------------------------------------------------------


def test_take_and_filter_return_the_same_type(customers: CustomerFrame) -> None:
    picked = customers.take([2, 0])
    assert isinstance(picked, CustomerFrame)
    assert picked.ids.tolist() == ["c-3", "c-1"]
    assert picked["tags"].to_list() == [frozenset({"vip"}), frozenset({"vip", "newsletter"})]
    vip = customers.filter(customers["tags"].has("vip"))
    assert vip.ids.tolist() == ["c-1", "c-3"]
    assert vip == customers.take(np.array([0, 2]))
    assert len(customers.filter(np.zeros(3, dtype=bool))) == 0


def test_take_rejects_bad_indices(customers: CustomerFrame) -> None:
    with pytest.raises(ValidationError):
        customers.take([3])
    with pytest.raises(ValidationError):
        customers.take([-1])
    with pytest.raises(ValidationError):
        customers.take([0, 0])  # a customer frame keeps ids unique
    with pytest.raises(ValidationError):
        customers.filter([True, False])
    log = TransactionLog.from_records(_transactions())
    assert len(log.take([0, 0, 0])) == 3  # repeating rows is fine in a log


def test_column_lookup(customers: CustomerFrame) -> None:
    assert "email" in customers
    assert customers.column("email") is customers["email"]
    with pytest.raises(NotFoundError):
        customers["nope"]


# -- customer helpers ----------------------------------------------------------------------


def test_index_of(customers: CustomerFrame) -> None:
    assert customers.index_of(["c-3", "c-1", "c-3"]).tolist() == [2, 0, 2]
    assert customers.index_of([]).tolist() == []
    with pytest.raises(ValidationError) as info:
        customers.index_of(["c-1", "nobody"])
    assert info.value.field == "ids[1]"


def _born(births: list[date | None]) -> CustomerFrame:
    return CustomerFrame.from_records(
        customer_record(
            Customer.register(f"c{i}", "X", T0, demographics=Demographics(birth_date=b)).value
        )
        for i, b in enumerate(births)
    )


def test_age_at_agrees_with_the_scalar_rule() -> None:
    births = [date(2000, 2, 29), date(1990, 3, 1), None, date(1990, 2, 28), date(2021, 2, 28)]
    frame = _born(births)
    for on in (date(2024, 1, 1), date(2021, 2, 28), date(2021, 3, 1), date(2024, 2, 29)):
        expected = [np.nan if b is None else Demographics(birth_date=b).age_at(on) for b in births]
        np.testing.assert_array_equal(frame.age_at(on), np.array(expected, dtype=float))
    assert frame.age_at(date(2021, 2, 28)).tolist()[:2] == [20.0, 30.0]


def test_age_at_rejects_births_after_the_day_like_the_scalar_rule() -> None:
    frame = _born([date(1990, 1, 1), date(2023, 12, 31)])
    with pytest.raises(ValidationError) as info:
        frame.age_at(date(2023, 6, 1))
    assert info.value.field == "row 1: birth_date"
    with pytest.raises(ValidationError):
        Demographics(birth_date=date(2023, 12, 31)).age_at(date(2023, 6, 1))
    with pytest.raises(ValidationError):
        frame.age_at(datetime(2024, 1, 1, tzinfo=UTC))  # a datetime is not a date here


def test_duplicate_customer_ids_are_rejected() -> None:
    record = customer_record(_customers()[2])
    with pytest.raises(ValidationError) as info:
        CustomerFrame.from_records([record, {**record, "name": "other"}])
    assert info.value.field == "row 1: id"


# -- logs ----------------------------------------------------------------------------------


def test_customer_codes_follow_first_appearance() -> None:
    log = TransactionLog.from_records(_transactions())
    assert log.customer_ids.tolist() == ["c-2", "c-1", "c-9"]
    assert log.customer_codes.tolist() == [0, 1, 2, 0, 0]
    assert log["customer_id"].to_list() == ["c-2", "c-1", "c-9", "c-2", "c-2"]
    assert log["customer_id"].values.tolist() == ["c-2", "c-1", "c-9", "c-2", "c-2"]


def test_with_customer_index(customers: CustomerFrame) -> None:
    log = TransactionLog.from_records(_transactions())
    assert log.with_customer_index(customers).tolist() == [1, 0, -1, 1, 1]
    reordered = customers.take([2, 1, 0])
    assert log.with_customer_index(reordered).tolist() == [1, 2, -1, 1, 1]
    assert log.with_customer_index(CustomerFrame.from_records([])).tolist() == [-1] * 5


def test_sort_by_customer_time_is_stable() -> None:
    log = TransactionLog.from_records(_transactions())
    ordered = log.sort_by_customer_time()
    assert ordered.customer_codes.tolist() == [0, 0, 0, 1, 2]
    assert ordered["amount"].to_list() == [7.25, 8.0, 5.0, 19.9, 1.0]  # ties keep input order
    assert ordered.customer_ids.tolist() == log.customer_ids.tolist()
    events = EventLog.from_records(
        [
            {"customer_id": "b", "at": T0 + timedelta(1), "kind": "visit"},
            {"customer_id": "a", "at": T0, "kind": "visit"},
            {"customer_id": "b", "at": T0, "kind": "buy"},
        ]
    ).sort_by_customer_time()
    assert events["kind"].to_list() == ["buy", "visit", "visit"]


# -- CSV ---------------------------------------------------------------------------------------


def test_csv_round_trip(tmp_path: Path, customers: CustomerFrame) -> None:
    path = tmp_path / "customers.csv"
    customers.to_csv(path)
    assert CustomerFrame.from_csv(path) == customers
    assert CustomerFrame.from_csv(str(path)) == customers
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == list(customers.names)
    log = TransactionLog.from_records(_transactions())
    log.to_csv(tmp_path / "log.csv")
    assert TransactionLog.from_csv(tmp_path / "log.csv") == log


def test_csv_cell_format() -> None:
    log = TransactionLog.from_records(
        [{"customer_id": "c-1", "at": T0, "amount": 0.1, "items": 3, "currency": "EUR"}]
    )
    buffer = io.StringIO()
    log.to_csv(buffer)
    assert buffer.getvalue() == (
        "customer_id,at,amount,currency,order_id,items,channel,category,quantity,unit_price\n"
        "c-1,2024-05-01T09:30:00.000000Z,0.1,EUR,,3,,,,\n"
    )


def test_csv_quotes_commas_quotes_and_newlines(tmp_path: Path) -> None:
    awkward = ["Lee, Ann", 'say "hi"', "two\nlines", "carriage\rreturn", "|pipe|", " pad "]
    records = [
        {"customer_id": f"c{i}", "at": T0, "amount": 1.0, "order_id": text}
        for i, text in enumerate(awkward)
    ]
    log = TransactionLog.from_records(records)
    log.to_csv(tmp_path / "x.csv")
    again = TransactionLog.from_csv(tmp_path / "x.csv")
    assert again["order_id"].to_list() == awkward
    assert again == log


def test_csv_reads_other_offsets_and_pandas_style_timestamps() -> None:
    text = (
        "customer_id,at,amount\n"
        "a,2024-05-01T11:30:00+02:00,1\n"
        "b,2024-05-01 09:30:00.5+00:00,2.5\n"
        "c,2024-05-01T04:30:00-05:00,3\n"
    )
    log = TransactionLog.from_csv(io.StringIO(text))
    assert log.at.tolist() == [
        datetime(2024, 5, 1, 9, 30),
        datetime(2024, 5, 1, 9, 30, 0, 500000),
        datetime(2024, 5, 1, 9, 30),
    ]
    same = TransactionLog.from_csv(io.StringIO("customer_id,at,amount\na,2024-05-01 09:30Z,1\n"))
    assert same.at.tolist() == [datetime(2024, 5, 1, 9, 30)]


def test_csv_optional_columns_may_be_absent_and_blank_lines_are_skipped() -> None:
    text = "\ufeffamount,customer_id,at\n1.5,a,2024-05-01T09:30:00Z\n\n2,b,2024-05-02T00:00:00Z\n"
    log = TransactionLog.from_csv(io.StringIO(text))
    assert log.names == TRANSACTION_SCHEMA.names
    assert log["amount"].to_list() == [1.5, 2.0]
    assert log["currency"].to_list() == [None, None]


def test_csv_attribute_kinds_are_inferred(tmp_path: Path) -> None:
    text = (
        "id,name,created_at,purchase_count,items_purchased,total_spent,interaction_count,"
        "service_count,consent_email,consent_sms,consent_phone,consent_post,consent_push,"
        "consent_messaging,erased,attr.n,attr.x,attr.ok,attr.on,attr.at,attr.s\n"
        "a,A,2024-05-01T09:30:00Z,0,0,0,0,0,true,false,false,false,false,false,false,"
        "1,1.5,true,2024-01-02,2024-01-02T03:04:05+01:00,hello\n"
        "b,B,2024-05-01T09:30:00Z,0,0,0,0,0,TRUE,False,0,1,false,false,false,"
        ",2,FALSE,,,\n"
    )
    frame = CustomerFrame.from_csv(io.StringIO(text))
    kinds = {name: frame[name].kind for name in frame.attribute_names}
    assert kinds == {
        "attr.at": "datetime",
        "attr.n": "int",
        "attr.ok": "bool",
        "attr.on": "date",
        "attr.s": "string",
        "attr.x": "float",
    }
    assert frame["attr.n"].to_list() == [1, None]
    assert frame["attr.at"].to_list() == [datetime(2024, 1, 2, 2, 4, 5, tzinfo=UTC), None]
    assert frame["consent_email"].to_list() == [True, True]
    assert frame["consent_post"].to_list() == [False, True]


def test_to_csv_refuses_empty_strings() -> None:
    log = TransactionLog.from_records([{"customer_id": "a", "at": T0, "amount": 1, "order_id": ""}])
    with pytest.raises(ValidationError) as info:
        log.to_csv(io.StringIO())
    assert info.value.field == "row 0: order_id"


# -- pandas -------------------------------------------------------------------------------------


def test_pandas_round_trip(customers: CustomerFrame) -> None:
    pd = pytest.importorskip("pandas")
    df = customers.to_pandas()
    assert str(df["created_at"].dtype) == "datetime64[us, UTC]"
    assert isinstance(df["country"].dtype, pd.CategoricalDtype)
    assert str(df["purchase_count"].dtype) == "int64"
    assert str(df["attr.score"].dtype) == "float64"
    assert df["tags"].iloc[0] == frozenset({"vip", "newsletter"})
    assert CustomerFrame.from_pandas(df) == customers
    log = TransactionLog.from_records(_transactions())
    log_df = log.to_pandas()
    assert str(log_df["items"].dtype) == "Int64"
    assert log_df["customer_id"].tolist() == ["c-2", "c-1", "c-9", "c-2", "c-2"]
    assert TransactionLog.from_pandas(log_df) == log


def test_from_pandas_accepts_plain_dtypes() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "at": pd.to_datetime(["2024-05-01T11:30:00+02:00", "2024-05-01T09:30:00Z"], utc=True),
            "amount": [1, 2],
            "currency": ["EUR", None],
            "items": [1.0, None],
        }
    )
    with pytest.raises(ValidationError) as info:
        TransactionLog.from_pandas(df)  # floats in an int column
    assert info.value.field == "row 0: items"
    log = TransactionLog.from_pandas(df.drop(columns=["items"]))
    assert log.at.tolist() == [datetime(2024, 5, 1, 9, 30)] * 2
    assert log["currency"].to_list() == ["EUR", None]
    naive = df.assign(at=pd.to_datetime(["2024-05-01", "2024-05-02"]))
    with pytest.raises(ValidationError, match="naive"):
        TransactionLog.from_pandas(naive.drop(columns=["items"]))


def test_missing_pandas_gives_an_install_hint(
    customers: CustomerFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'crmcore\[pandas\]'") as info:
        customers.to_pandas()
    assert (info.value.package, info.value.extra) == ("pandas", "pandas")
    with pytest.raises(MissingDependencyError):
        CustomerFrame.from_pandas(object())  # type: ignore[arg-type]


# -- errors name the row and column ---------------------------------------------------------


def _log_records(**changes: object) -> Iterator[dict[str, object]]:
    yield {"customer_id": "a", "at": T0, "amount": 1.0}
    yield {"customer_id": "b", "at": T0, "amount": 2.0, **changes}


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"at": datetime(2024, 5, 1)}, "row 1: at", "naive"),
        ({"at": "2024-05-01T00:00:00Z"}, "row 1: at", "timezone-aware"),
        ({"amount": "2.5"}, "row 1: amount", "number"),
        ({"amount": True}, "row 1: amount", "number"),
        ({"amount": float("nan")}, "row 1: amount", "NaN"),
        ({"amount": None}, "row 1: amount", "required"),
        ({"customer_id": 7}, "row 1: customer_id", "str"),
        ({"items": 2.0}, "row 1: items", "int"),
        ({"items": 2**64}, "row 1: items", "int64"),
        ({"currency": 3}, "row 1: currency", "str"),
        ({"surprise": 1}, "row 1: surprise", "unknown column"),
    ],
)
def test_record_errors_name_row_and_column(
    change: dict[str, object], field: str, reason: str
) -> None:
    with pytest.raises(ValidationError, match=reason) as info:
        TransactionLog.from_records(_log_records(**change))
    assert info.value.field == field


def test_missing_required_key_names_the_row() -> None:
    records = [{"customer_id": "a", "at": T0, "amount": 1.0}, {"customer_id": "b", "at": T0}]
    with pytest.raises(ValidationError) as info:
        TransactionLog.from_records(records)
    assert info.value.field == "row 1: amount"


def test_customer_record_errors() -> None:
    record = customer_record(_customers()[2])
    with pytest.raises(ValidationError) as info:
        CustomerFrame.from_records([record, {**record, "id": "x", "mystery": 1}])
    assert info.value.field == "row 1: mystery"
    with pytest.raises(ValidationError) as info:
        CustomerFrame.from_records([{**record, "attr.a": 1}, {**record, "id": "x", "attr.a": "1"}])
    assert info.value.field == "row 1: attr.a"
    with pytest.raises(ValidationError) as info:
        CustomerFrame.from_records([{**record, "tags": "vip"}])  # a bare string is not a set
    assert info.value.field == "row 0: tags"
    with pytest.raises(ValidationError) as info:
        CustomerFrame.from_records([{**record, "tags": {"a|b"}}])
    assert info.value.field == "row 0: tags"
    with pytest.raises(ValidationError) as info:
        CustomerFrame.from_records([{**record, "birth_date": T0}])  # a datetime is not a date
    assert info.value.field == "row 0: birth_date"
    with pytest.raises(ValidationError) as info:
        CustomerFrame.from_records([record, ["not", "a", "mapping"]])  # type: ignore[list-item]
    assert info.value.field == "row 1"


HEADER = "customer_id,at,amount\n"


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        (HEADER + "a,2024-05-01T09:30:00Z,1\nb,2024-05-01T09:30:00,2\n", "row 1: at", "naive"),
        (HEADER + "a,2024-05-01T09:30:00Z,1\nb,yesterday,2\n", "row 1: at", "ISO 8601"),
        (
            HEADER + "a,2024-05-01T09:30:00Z,1\nb,2024-05-01T09:30:00Z,x\n",
            "row 1: amount",
            "number",
        ),
        (HEADER + "a,2024-05-01T09:30:00Z,nan\n", "row 0: amount", "NaN"),
        (HEADER + "a,2024-05-01T09:30:00Z,\n", "row 0: amount", "required"),
        (HEADER + "a,2024-05-01T09:30:00Z,1,9\n", "row 0", "cells"),
        ("customer_id,at\na,2024-05-01T09:30:00Z\n", "header", "or give quantity"),
        ("customer_id,amount\na,1\n", "header", "required column"),
        ("customer_id,at,amount,mystery\n", "header", "unknown column"),
        ("customer_id,at,amount,amount\n", "header", "more than once"),
        ("", "header", "no header"),
        (HEADER + 'a,2024-05-01T09:30:00Z,"1\n', "row 0", "unterminated"),
        ("customer_id,at,amount,items\na,2024-05-01T09:30:00Z,1,1.5\n", "row 0: items", "int64"),
    ],
)
def test_csv_errors_name_row_and_column(text: str, field: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason) as info:
        TransactionLog.from_csv(io.StringIO(text))
    assert info.value.field == field


def test_csv_customer_header_allows_only_attr_extras() -> None:
    required = [s.name for s in CUSTOMER_SCHEMA.columns if not s.nullable]
    header = ",".join([*required, "nickname"]) + "\n"
    with pytest.raises(ValidationError, match=r"attr\.<name>") as info:
        CustomerFrame.from_csv(io.StringIO(header))
    assert info.value.value == "nickname"
    assert len(CustomerFrame.from_csv(io.StringIO(",".join([*required, "attr.nick"])))) == 0


def test_csv_bad_bool_and_date() -> None:
    text = "customer_id,at,kind\na,2024-05-01T09:30:00Z,visit\n"
    assert len(EventLog.from_csv(io.StringIO(text))) == 1
    record = customer_record(_customers()[2])
    buffer = io.StringIO()
    CustomerFrame.from_records([record]).to_csv(buffer)
    good = buffer.getvalue()
    with pytest.raises(ValidationError, match="true or false") as info:
        CustomerFrame.from_csv(io.StringIO(good.replace(",false,", ",maybe,", 1)))
    assert info.value.field.startswith("row 0: consent_")
    header, row = good.splitlines()
    cells = row.split(",")
    cells[list(CUSTOMER_SCHEMA.names).index("birth_date")] = "2024-02-30"
    with pytest.raises(ValidationError, match="YYYY-MM-DD") as info:
        CustomerFrame.from_csv(io.StringIO(header + "\n" + ",".join(cells) + "\n"))
    assert info.value.field == "row 0: birth_date"


def test_csv_errors_count_rows_across_chunks() -> None:
    rows = [f"c{i},2024-05-01T09:30:00Z,{i}" for i in range(1500)]
    rows[1234] = "c1234,2024-05-01T09:30:00,1"
    with pytest.raises(ValidationError) as info:
        TransactionLog.from_csv(io.StringIO(HEADER + "\n".join(rows) + "\n"))
    assert info.value.field == "row 1234: at"


def test_record_errors_count_rows_across_chunks() -> None:
    records = [{"customer_id": f"c{i}", "at": T0, "amount": 1.0} for i in range(10_000)]
    records[9_999] = {**records[9_999], "at": datetime(2024, 1, 1)}
    with pytest.raises(ValidationError) as info:
        TransactionLog.from_records(records)
    assert info.value.field == "row 9999: at"


# -- display -----------------------------------------------------------------------------------


def test_repr_html_escapes_values(customers: CustomerFrame) -> None:
    html = customers._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    width = len(CUSTOMER_SCHEMA.names) + 4
    assert f"3 rows \N{MULTIPLICATION SIGN} {width} columns" in html
    assert html.count("<tr>") == 1 + 3
    big = TransactionLog.from_records(
        [{"customer_id": "c", "at": T0, "amount": float(i)} for i in range(25)]
    )
    assert big._repr_html_().count("<tr>") == 1 + 10


def test_repr_and_memory(customers: CustomerFrame) -> None:
    width = len(CUSTOMER_SCHEMA.names) + 4
    assert repr(customers) == f"CustomerFrame(3 rows x {width} columns)"
    log = TransactionLog.from_records(_transactions())
    # int64 code + datetime + float + ... : well under a kilobyte for 5 rows
    assert 5 * (8 + 8 + 8) < log.memory_bytes() < 1024
    assert customers.memory_bytes() > 0


def test_frames_of_different_types_or_values_differ(customers: CustomerFrame) -> None:
    assert customers != customers.take([0, 1])
    assert customers != customers.take([1, 0, 2])
    assert customers == CustomerFrame.from_customers(_customers())
    log = TransactionLog.from_records(_transactions())
    assert log != EventLog.from_records([])
    assert log != customers


def test_csv_quoted_newlines_across_chunk_boundaries_and_crlf(tmp_path: Path) -> None:
    texts = [f"line {i}\nsecond, part" if i % 97 == 0 else f"o{i}" for i in range(1300)]
    log = TransactionLog.from_records(
        {"customer_id": f"c{i % 7}", "at": T0, "amount": float(i), "order_id": text}
        for i, text in enumerate(texts)
    )
    path = tmp_path / "log.csv"
    log.to_csv(path)
    assert TransactionLog.from_csv(path) == log
    plain = log.filter(~log["order_id"].isin([t for t in texts if "\n" in t]))
    plain.to_csv(path)
    crlf = path.read_text(encoding="utf-8").replace("\n", "\r\n")  # a Windows-style file
    assert TransactionLog.from_csv(io.StringIO(crlf, newline="")) == plain


def test_frames_assemble_from_columns() -> None:
    log = TransactionLog(
        {
            "customer_id": Column.from_values("string", ["b", "a", "b"]),
            "at": Column.from_values("datetime", [T0, T0, T0]),
            "amount": Column.from_numpy("float", np.array([1.0, 2.0, 3.0])),
        }
    )
    assert log.customer_ids.tolist() == ["b", "a"]  # encoded on the way in
    assert log.customer_codes.tolist() == [0, 1, 0]
    assert log["currency"].missing.tolist() == [True] * 3  # absent nullable column
    assert log == TransactionLog.from_records(log.to_records())
    with pytest.raises(ValidationError):
        TransactionLog({"customer_id": Column.from_values("string", ["a"])})  # no "at"
    with pytest.raises(ValidationError):
        TransactionLog(
            {
                "customer_id": Column.from_values("string", ["a"]),
                "at": Column.from_values("datetime", [T0]),
                "amount": Column.from_values("float", [None]),  # required
            }
        )
    with pytest.raises(ValidationError):
        EventLog(
            {
                "customer_id": Column.from_values("string", ["a", "b"]),
                "at": Column.from_values("datetime", [T0]),  # length mismatch
                "kind": Column.from_values("category", ["x", "y"]),
            }
        )
    record = customer_record(_customers()[2])
    frame = CustomerFrame.from_records([record])
    columns = {name: frame[name] for name in frame.names}
    assert CustomerFrame({**columns, "attr.new": Column.from_values("int", [5])})[
        "attr.new"
    ].to_list() == [5]
    with pytest.raises(ValidationError):
        CustomerFrame({**columns, "extra": Column.from_values("int", [5])})
