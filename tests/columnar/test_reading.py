"""Your own data in one call: column mapping, time zones, date order, extras, guests, float ids."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.columnar import EventLog, TransactionLog
from crmcore.datasets import ONLINE_RETAIL_COLUMNS, online_retail_csv
from crmcore.kernel.errors import MissingDependencyError, ValidationError

MAP = {"customer_id": "CustomerID", "at": "InvoiceDate", "amount": "Total"}


def read(text: str, **options: object) -> TransactionLog:
    return TransactionLog.from_csv(io.StringIO(text), **options)  # type: ignore[arg-type]


def test_a_mapping_reads_your_column_names() -> None:
    text = "CustomerID,InvoiceDate,Total\n17850,2010-12-01T08:26:00Z,15.3\n"
    log = read(text, columns=MAP)
    assert log.customer_ids.tolist() == ["17850"]
    assert log["amount"].to_list() == [15.3]
    with pytest.raises(ValidationError, match=r"'Totl'.*it has") as info:
        read(text, columns={**MAP, "amount": "Totl"})
    assert info.value.field == "columns['amount']"
    with pytest.raises(ValidationError, match="not a column of this frame"):
        read(text, columns={"customer_id": "CustomerID", "at": "InvoiceDate", "amonut": "Total"})
    with pytest.raises(ValidationError, match=r"columns=\{'amount': \.\.\.\}, or give quantity"):
        read("CustomerID,InvoiceDate\n", columns={"customer_id": "CustomerID", "at": "InvoiceDate"})


def test_naive_times_are_refused_until_a_zone_is_named() -> None:
    text = "CustomerID,InvoiceDate,Total\n1,12/1/2010 8:26,1\n1,7/1/2011 8:26,2\n"
    with pytest.raises(ValidationError, match=r"tz='UTC'.*Europe/Berlin") as info:
        read(text, columns=MAP)
    assert info.value.field == "row 0: at"
    berlin = read(text, columns=MAP, tz="Europe/Berlin")
    # winter: UTC+1; summer: UTC+2 (daylight saving applied per timestamp)
    assert berlin.at.tolist() == [datetime(2010, 12, 1, 7, 26), datetime(2011, 7, 1, 6, 26)]
    with pytest.raises(ValidationError, match="not a known time zone"):
        read(text, columns=MAP, tz="Europe/Berln")
    iso = "customer_id,at,amount\na,2011-07-01 08:26:00,1\n"
    assert read(iso, tz="Europe/Berlin").at.tolist() == [datetime(2011, 7, 1, 6, 26)]
    with pytest.raises(ValidationError, match="naive"):
        read(iso)


def test_day_first_or_month_first() -> None:
    text = "customer_id,at,amount\na,1/12/2010 8:26,1\na,13/12/2010 23:59:59,1\n"
    with pytest.raises(ValidationError, match="dayfirst=True") as info:
        read(text, tz="UTC")
    assert info.value.field == "row 1: at"
    log = read(text, tz="UTC", dayfirst=True)
    assert log.at.tolist() == [datetime(2010, 12, 1, 8, 26), datetime(2010, 12, 13, 23, 59, 59)]
    us = read("customer_id,at,amount\na,12/1/10 8:26 PM,1\n", tz="UTC")
    assert us.at.tolist() == [datetime(2010, 12, 1, 20, 26)]


def test_extra_columns_are_refused_ignored_or_kept() -> None:
    text = "customer_id,at,amount,Country\na,2024-01-01T00:00:00Z,1,UK\n"
    with pytest.raises(ValidationError, match="extra='ignore'") as info:
        read(text)
    assert info.value.value == "Country"
    assert read(text, extra="ignore").names[-1] == "unit_price"
    kept = read(text, extra="keep")
    assert kept["attr.Country"].to_list() == ["UK"]


def test_float_ids_read_back_as_integers() -> None:
    text = "customer_id,at,amount,order_id\n17850.0,2024-01-01T00:00:00Z,1,536365.0\n" \
           "17851,2024-01-02T00:00:00Z,1,536366\n"  # fmt: skip
    log = read(text)
    assert log.customer_ids.tolist() == ["17850", "17851"]
    assert log["order_id"].to_list() == ["536365", "536366"]
    assert read(text, float_ids=False).customer_ids.tolist() == ["17850.0", "17851"]
    mixed = text + "17850.5,2024-01-03T00:00:00Z,1,536367\n"
    with pytest.raises(ValidationError, match="rows 2") as info:
        read(mixed)
    assert info.value.field == "row 2: customer_id"
    text_ids = "customer_id,at,amount\nA-1,2024-01-01T00:00:00Z,1\n7.0,2024-01-01T00:00:00Z,1\n"
    assert read(text_ids).customer_ids.tolist() == ["A-1", "7.0"]  # a text column: untouched


def test_guests_are_left_out_and_counted_or_refused() -> None:
    text = "customer_id,at,amount\na,2024-01-01T00:00:00Z,10\n,2024-01-01T00:00:00Z,2.5\n"
    log = read(text)
    assert len(log) == 1
    (skipped,) = log.skipped
    assert (skipped.rows, skipped.amount) == (1, 2.5)
    assert log.take([0]).skipped == log.skipped
    with pytest.raises(ValidationError, match="guests='exclude'") as info:
        read(text, guests="refuse")
    assert info.value.field == "row 1: customer_id"
    events = EventLog.from_records(
        [{"customer_id": None, "at": datetime(2024, 1, 1, tzinfo=UTC), "kind": "visit"}]
    )
    assert len(events) == 0 and events.skipped[0].amount is None


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ("a,2024-01-01T00:00:00Z,,x,2.0,o1", "row 0: quantity", "int64"),
        ("a,2024-01-01T00:00:00Z,,,2.0,o1", "row 0: quantity", "missing while unit_price"),
        ("a,2024-01-01T00:00:00Z,7,3,2.0,o1", "row 0: amount", r"3 x 2 = 6"),
        ("a,2024-01-01T00:00:00Z,,3,,o1", "row 0: amount", "required"),
        ("a,2024-01-01T00:00:00Z,,3,0.00001,o1", "row 0: unit_price", "4 decimals"),
    ],
)
def test_bad_order_lines_name_the_column_and_row(row: str, field: str, reason: str) -> None:
    header = "customer_id,at,amount,quantity,unit_price,order_id\n"
    with pytest.raises(ValidationError, match=reason) as info:
        read(header + row + "\n")
    assert info.value.field == field


def test_one_order_id_on_two_customers_is_refused() -> None:
    text = (
        "customer_id,at,amount,order_id\n"
        "a,2024-01-01T00:00:00Z,1,o1\n,2024-01-01T00:00:00Z,1,o1\nb,2024-01-01T00:00:00Z,1,o1\n"
    )
    with pytest.raises(ValidationError, match="'a' in row 0 and to 'b'") as info:
        read(text)
    assert info.value.field == "row 2: order_id"


def test_pandas_as_read_csv_gives_it(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    path = tmp_path / "orders.csv"
    online_retail_csv(path, customers=40, seed=2)
    df = pd.read_csv(path)
    assert df["CustomerID"].dtype == np.float64  # 17850.0 and NaN for guests
    options = {"columns": ONLINE_RETAIL_COLUMNS, "tz": "UTC", "extra": "ignore"}
    via_pandas = TransactionLog.from_pandas(df, **options)  # type: ignore[arg-type]
    via_csv = TransactionLog.from_csv(path, **options)  # type: ignore[arg-type]
    assert via_pandas == via_csv
    assert via_pandas.skipped == via_csv.skipped
    parsed = df.assign(InvoiceDate=pd.to_datetime(df["InvoiceDate"], format="%m/%d/%Y %H:%M"))
    assert TransactionLog.from_pandas(parsed, **options) == via_csv  # type: ignore[arg-type]
    ints = pd.DataFrame(
        {
            "customer_id": [17850, 17851],
            "at": pd.to_datetime(
                ["2024-01-01 00:00:00.123456789", "2024-01-02"], utc=True, format="ISO8601"
            ),
            "amount": [1.0, 2.0],
        }
    )
    log = TransactionLog.from_pandas(ints)
    assert log.customer_ids.tolist() == ["17850", "17851"]
    assert log.at[0] == np.datetime64("2024-01-01T00:00:00.123456")  # nanoseconds kept to the us


def test_the_pyarrow_engine_gives_the_same_frame(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "orders.csv"
    online_retail_csv(path, customers=80, seed=4)
    options = {"columns": ONLINE_RETAIL_COLUMNS, "tz": "Europe/London", "extra": "keep"}
    arrow = TransactionLog.from_csv(path, engine="pyarrow", **options)  # type: ignore[arg-type]
    python = TransactionLog.from_csv(path, engine="python", **options)  # type: ignore[arg-type]
    assert arrow == python and arrow.names == python.names and arrow.skipped == python.skipped
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,at,amount\na,2024-01-01T00:00:00Z,x\n")
    for engine in ("pyarrow", "python"):
        with pytest.raises(ValidationError) as info:
            TransactionLog.from_csv(bad, engine=engine)  # type: ignore[arg-type]
        assert info.value.field == "row 1: amount" or info.value.field == "row 0: amount"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "17850.0", "x,y"]),
            st.datetimes(datetime(1990, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
            st.integers(-(10**6), 10**6),
            st.none() | st.sampled_from(["EUR", "USD"]),
        ),
        max_size=15,
    )
)
def test_engines_agree_on_files_crmcore_writes(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, datetime, int, str | None]]
) -> None:
    pytest.importorskip("pyarrow")
    log = TransactionLog.from_records(
        {"customer_id": c, "at": t, "amount": a / 100, "currency": cur} for c, t, a, cur in rows
    )
    path = tmp_path_factory.mktemp("engines") / "log.csv"
    log.to_csv(path)
    arrow = TransactionLog.from_csv(path, engine="pyarrow", float_ids=False)
    assert arrow == TransactionLog.from_csv(path, engine="python", float_ids=False) == log


def test_missing_pyarrow_is_named_when_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    path = tmp_path / "log.csv"
    path.write_text("customer_id,at,amount\na,2024-01-01T00:00:00Z,1\n")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingDependencyError, match=r"crmcore\[arrow\]"):
        TransactionLog.from_csv(path, engine="pyarrow")
    assert len(TransactionLog.from_csv(path)) == 1  # "auto" falls back to the built-in parser


def test_nothing_is_half_loaded() -> None:
    text = "customer_id,at,amount\na,2024-01-01T00:00:00Z,1\nb,2024-01-01T00:00:00Z,oops\n"
    with pytest.raises(ValidationError):
        read(text)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    records = [
        {"customer_id": "a", "at": start + timedelta(days=i), "amount": 1.0} for i in range(3)
    ]
    assert len(TransactionLog.from_records(records)) == 3
