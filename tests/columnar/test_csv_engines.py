"""Differential tests: every CSV reader gives the frame of the cell-by-cell reference.

Random files of the shapes real exports have (quoting, line breaks inside quotes,
a byte order mark, CRLF, blank lines, empty cells, odd and huge numbers, every id
and timestamp form the readers take) are read by the numpy reader from a path and
from a stream, by the numpy reader cut into tiny blocks, and by the pyarrow engine;
each must give exactly what `crmcore.columnar._reference` gives (the same columns,
dtypes, vocabularies in the same order, float bits), or, where the reference refuses
the file, refuse it too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.columnar import Column, CustomerFrame, Frame, TransactionLog, csvio
from crmcore.columnar._reference import frame_from_csv
from crmcore.kernel.errors import ValidationError

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00\r"), max_size=12)
LONG = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=60, max_size=90)
WORD_IDS = st.sampled_from(["c1", "c2", "x,y", 'q"t', "a\nb", " s ", "Zürich", "\u4e2d\u6587"])
PLAIN_IDS = st.sampled_from(["c1", "c2", "c10", " s ", "Zürich", "\u4e2d\u6587", "-"])
ID_STYLES = [
    WORD_IDS,
    PLAIN_IDS,
    st.integers(-(10**20), 10**20).map(str),
    st.integers(0, 10**6).map(lambda i: f"{i}.0"),  # a spreadsheet's float ids
    TEXT.filter(bool),
    LONG,
]
LABELS = st.sampled_from(["EUR", "USD", "", "Zürich", "a,b", 'x"y', "line\nbreak", "ä" * 40])
PLAIN_LABELS = st.sampled_from(["EUR", "USD", "", "Zürich", "ä" * 40, "x y"])
INTS = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.integers(-99, 99).map(str),
    st.sampled_from(["+5", "-0", "007", " 7", "1_000", "9" * 18, "-" + "9" * 18, ""]),
)
FLOATS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-(10**7), 10**7).map(lambda c: f"{c / 100:.2f}"),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["1e5", "-0", "-0.0", "+3.50", ".5", "5.", "1_000.5", " 2.5", "1E-7"]),
    st.sampled_from(["0.1", "123456789012345678.5", "4.35", "9007199254740993", "1e300"]),
)
BAD: dict[str, st.SearchStrategy[str]] = {
    "at": st.sampled_from(
        ["2024-02-30T00:00:00Z", "2024-13-01T00:00Z", "nope", "1/2", "2024-01-01T24:00Z",
         "2020-06-15T23Z", "2020-06-15T23:41:60Z", "0000-01-01T00:00:00Z", "",
         "2020-06-15T23:41:41z", "2020-06-15T23:41:41.5+05"]
    ),
    "amount": st.sampled_from(["abc", "1e400", "nan", "inf", "1.2.3", ".", "0x10", ""]),
    "items": st.sampled_from(["9" * 19, "9" * 20, "1.0", "x", "--1", "+", "1e3"]),
    "quantity": st.sampled_from(["9" * 20, "1.0", "x", ""]),
    "unit_price": st.sampled_from(["1.23456", "x", "nan"]),
    "customer_id": st.just(""),  # a guest: left out and counted, or refused
    "order_id": st.just("shared"),  # one order on two customers
}  # fmt: skip
ZONE_SUFFIX = st.sampled_from(["Z", "+05:30", "-08:00", "+00:00", "+0530"])


EXTRAS: list[st.SearchStrategy[str]] = [
    INTS,
    FLOATS,
    st.sampled_from(["true", "false", "True", "FALSE", "tRuE", ""]),
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.sampled_from(["12/01/2010", "2010-12-01", "1/12/2010", ""]),
    PLAIN_LABELS,
    TEXT,  # (the last two need quotes)
    LABELS,
]


@st.composite
def timestamp_style(draw: st.DrawFn) -> tuple[st.SearchStrategy[str], bool, bool]:
    """A way a file writes its timestamps, whether they are naive, and day first."""
    form = draw(st.sampled_from(["iso", "iso", "minutes", "naive", "slashed"]))
    digits = draw(st.sampled_from([0, 1, 3, 6, 7, 9]))
    separator = draw(st.sampled_from(["T", "T", " "]))
    suffix = draw(ZONE_SUFFIX)
    dayfirst = draw(st.booleans())

    def cell(moment: datetime, extra: int) -> str:
        if form == "slashed":
            day, month = moment.day, moment.month
            first, second = (day, month) if dayfirst else (month, day)
            return f"{first}/{second}/{moment.year:04d} {moment.hour}:{moment.minute:02d}"
        day = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}{separator}"
        if form == "minutes":
            return f"{day}{moment.hour:02d}:{moment.minute:02d}{suffix}"
        fraction = f"{moment.microsecond:06d}{extra:03d}"[:digits]
        body = f"{day}{moment:%H:%M:%S}" + ("." + fraction) * bool(digits)
        return body + ("" if form == "naive" else suffix)

    moments = st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30))
    cells = st.builds(cell, moments, st.integers(0, 999))
    return cells, form in ("naive", "slashed"), dayfirst


@st.composite
def files(draw: st.DrawFn) -> tuple[bytes, dict[str, Any]]:
    """A CSV file of transaction-log columns in any order, and the options to read it.

    Each column keeps one style, as an export does; now and then one cell is bad.
    """
    optional = ["currency", "order_id", "items", "channel", "category", "quantity"]
    names = ["customer_id", "at", "amount", *[n for n in optional if draw(st.booleans())]]
    lines = "quantity" in names and draw(st.booleans())
    if lines:
        names.append("unit_price")
    if lines and draw(st.booleans()):
        names.remove("amount")
    names = draw(st.permutations(names))
    times, naive, dayfirst = draw(timestamp_style())
    plain = draw(st.booleans())  # no cell that needs quotes: the tokenizer's fast path
    ids = [PLAIN_IDS, *ID_STYLES[2:3]] if plain else ID_STYLES
    labels = PLAIN_LABELS if plain else LABELS
    columns: dict[str, st.SearchStrategy[str]] = {
        "customer_id": draw(st.sampled_from(ids)),
        "at": times,
        "amount": FLOATS,
        "currency": labels,
        "order_id": draw(st.sampled_from(ids)),
        "items": INTS,
        "channel": labels,
        "category": labels,
        "quantity": st.integers(-(10**6), 10**6).map(str),
        "unit_price": st.integers(-(10**8), 10**8).map(lambda c: f"{c / 10_000}"),
    }
    extra = draw(st.none() | st.sampled_from(EXTRAS[:-2] if plain else EXTRAS))
    header = [*names, *(["note"] if extra is not None else [])]
    rows = draw(st.integers(0, 40))
    table = []
    for _ in range(rows):
        row = {name: draw(columns[name]) for name in names}
        if lines and "amount" in row:  # the product, or left to be computed
            product = Decimal(row["quantity"]) * Decimal(row["unit_price"])
            row["amount"] = draw(st.sampled_from(["", str(product)]))
        if "order_id" in row:
            row["order_id"] = f"{row['customer_id']}/{row['order_id']}"  # one customer each
        table.append([row[n] for n in names] + ([draw(extra)] if extra is not None else []))
    if table and draw(st.integers(0, 5)) == 0:  # one bad cell
        name = draw(st.sampled_from([n for n in names if n in BAD] or names))
        row = draw(st.integers(0, len(table) - 1))
        table[row][names.index(name)] = draw(BAD.get(name, st.just("")))
    options: dict[str, Any] = {
        "tz": draw(st.sampled_from(["UTC", "Europe/Berlin"]))
        if naive and draw(st.integers(0, 9))
        else draw(st.sampled_from([None, "UTC"])),
        "dayfirst": dayfirst if draw(st.integers(0, 9)) else not dayfirst,
        "float_ids": draw(st.booleans()),
        "extra": "keep",
    }
    if draw(st.booleans()):
        header[0] = "Renamed"
        options["columns"] = {names[0]: "Renamed"}
    buffer = io.StringIO(newline="")
    terminator = draw(st.sampled_from(["\n", "\r\n"]))
    quoting = (
        csv.QUOTE_MINIMAL if plain else draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    )
    if any("\r" in cell for row in table for cell in row):
        quoting = csv.QUOTE_ALL  # a bare carriage return would end the line
    writer = csv.writer(buffer, lineterminator=terminator, quoting=quoting)
    writer.writerow(header)
    for record in table:
        writer.writerow(record)
        if draw(st.integers(0, 9)) == 0:
            buffer.write(terminator)  # a blank line, which is no record
    text = buffer.getvalue()
    if draw(st.booleans()):
        text = text.removesuffix(terminator)  # no final line end
    raw = text.encode("utf-8")
    if draw(st.booleans()):
        raw = b"\xef\xbb\xbf" + raw
    return raw, options


def same_layout(a: Frame, b: Frame) -> None:
    """The two frames hold identical arrays: not only equal values (``==``)."""
    assert type(a) is type(b)
    assert a.names == b.names
    assert a.skipped == b.skipped
    for name in a.names:
        x, y = a[name], b[name]
        assert x.kind == y.kind, name
        assert _arrays(x) == _arrays(y), name


def _arrays(column: Column) -> list[object]:
    """Every array of a column as (dtype, bytes-or-list), floats and times by their bits."""
    out: list[object] = [column.categories]
    for array in (
        column._values, column._mask, column._offsets, column._vocabulary,
    ):  # fmt: skip
        if array is None:
            out.append(None)
        elif array.dtype.kind in "TU" or array.dtype == object:
            out.append((str(array.dtype), array.tolist()))
        else:
            out.append((str(array.dtype), array.tobytes()))
    return out


def outcome(read: Callable[[], Frame]) -> Frame | ValidationError:
    try:
        return read()
    except ValidationError as error:
        return error


def readers(path: Path, raw: bytes, options: dict[str, Any]) -> dict[str, Callable[[], Frame]]:
    text = raw.decode("utf-8")
    out: dict[str, Callable[[], Frame]] = {
        "path": lambda: TransactionLog.from_csv(path, engine="python", **options),
        "stream": lambda: TransactionLog.from_csv(
            io.StringIO(text, newline=""), engine="python", **options
        ),
    }
    try:
        import pyarrow  # noqa: F401
    except ImportError:  # pragma: no cover - the dev extra has pyarrow
        return out
    out["pyarrow"] = lambda: TransactionLog.from_csv(path, engine="pyarrow", **options)
    return out


@SETTINGS
@given(files())
def test_every_reader_gives_the_reference_frame(
    tmp_path: Path, file: tuple[bytes, dict[str, Any]]
) -> None:
    raw, options = file
    path = tmp_path / "log.csv"
    path.write_bytes(raw)
    expected = outcome(lambda: frame_from_csv(TransactionLog, raw.decode("utf-8"), **options))
    for name, read in readers(path, raw, options).items():
        got = outcome(read)
        if isinstance(expected, ValidationError):
            assert isinstance(got, ValidationError), (name, expected)
            assert got.field == expected.field, (name, got, expected)  # the first bad row
        else:
            assert not isinstance(got, ValidationError), (name, got)
            same_layout(got, expected)


@SETTINGS
@given(files(), st.sampled_from([1, 7, 64, 300]))
def test_blocks_of_any_size_give_the_same_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: tuple[bytes, dict[str, Any]], size: int
) -> None:
    raw, options = file
    path = tmp_path / "log.csv"
    path.write_bytes(raw)
    whole = outcome(lambda: TransactionLog.from_csv(path, engine="python", **options))
    with monkeypatch.context() as patch:
        patch.setattr(csvio, "BLOCK_BYTES", size)
        for read in (
            lambda: TransactionLog.from_csv(path, engine="python", **options),
            lambda: TransactionLog.from_csv(
                io.StringIO(raw.decode("utf-8"), newline=""), engine="python", **options
            ),
        ):
            cut = outcome(read)
            if isinstance(whole, ValidationError):
                assert isinstance(cut, ValidationError)
            else:
                assert not isinstance(cut, ValidationError), cut
                same_layout(cut, whole)


EDGES = {
    "crlf, no quotes": "at,amount,customer_id\r\n"
    "2024-01-01T00:00:00Z,1,c1\r\n2024-01-02T00:00Z,2,c2\r\n",
    "crlf, quotes": "at,amount,customer_id\r\n"
    '2024-01-01T00:00:00Z,1,"c,1"\r\n2024-01-02 00:00Z,2,c2\r\n',
    "line break in quotes": "customer_id,at,amount\n"
    '"a\nb",2024-01-01T00:00:00Z,1\n"c\r\nd",2024-01-01T00:00Z,2\n',
    "escaped quotes": "customer_id,at,amount\n"
    '"a""b",2024-01-01T00:00:00Z,1\n"""",2024-01-01T00:00Z,2\n',
    "blank lines": "customer_id,at,amount\n\n"
    "a,2024-01-01T00:00:00Z,1\n\n\nb,2024-01-01T00:00Z,2\n\n",
    "no final line end": "customer_id,at,amount\na,2024-01-01T00:00:00Z,1\nb,2024-01-01T00:00Z,2",
    "byte order mark": "\ufeffcustomer_id,at,amount\na,2024-01-01T00:00:00Z,1\n",
    "header only": "customer_id,at,amount\n",
    "quote inside a field": 'customer_id,at,amount\nab"c",2024-01-01T00:00:00Z,1\n',
    "text after a quote": 'customer_id,at,amount\n"ab"c,2024-01-01T00:00:00Z,1\n',
    "lone carriage return": "customer_id,at,amount\r"
    "a,2024-01-01T00:00:00Z,1\rb,2024-01-01T00:00Z,2\r",
    "empty quoted cells": 'customer_id,at,amount,currency\na,2024-01-01T00:00:00Z,"1",""\n',
    "odd numbers": "customer_id,at,amount,items\n"
    "a,2024-01-01T00:00:00Z,-0,+7\nb,2024-01-01T00:00Z, 1e5 ,007\n",
    "float ids": "customer_id,at,amount\n"
    "17850.0,2024-01-01T00:00:00Z,1\n17851,2024-01-01T00:00Z,2\n",
    "offsets and fractions": "customer_id,at,amount\n"
    "a,2024-01-01T00:00:00.1234567+05:30,1\n"
    "b,2024-01-01 00:00:00.5-08:00,2\nc,2024-01-01T00:00:00+0530,3\n",
}


@pytest.mark.parametrize("text", list(EDGES.values()), ids=list(EDGES))
def test_edge_files_give_the_reference_frame(tmp_path: Path, text: str) -> None:
    path = tmp_path / "edge.csv"
    path.write_bytes(text.encode("utf-8"))
    options = {"float_ids": True}
    expected = outcome(lambda: frame_from_csv(TransactionLog, text, **options))
    assert not isinstance(expected, ValidationError), expected
    for name, read in readers(path, text.encode("utf-8"), options).items():
        got = outcome(read)
        assert not isinstance(got, ValidationError), (name, got)
        same_layout(got, expected)


def test_files_crmcore_writes_read_back_the_same_through_every_reader(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    n = 3000
    log = TransactionLog(
        {
            "customer_id": Column.from_numpy(
                "string", np.array([f"c{i}" for i in rng.integers(0, 400, n)], dtype="T")
            ),
            "at": Column.from_numpy(
                "datetime", rng.integers(0, 2 * 10**15, n).astype("datetime64[us]")
            ),
            "amount": Column.from_numpy("float", np.round(rng.normal(50, 40, n), 2)),
            "currency": Column.from_numpy(
                "category", rng.integers(-1, 2, n), categories=["EUR", "USD"]
            ),
        }
    )
    path = tmp_path / "log.csv"
    log.to_csv(path)
    text = path.read_text()
    for name, read in readers(path, path.read_bytes(), {"float_ids": False}).items():
        same_layout(read(), log)
        assert read() == log, name
    same_layout(frame_from_csv(TransactionLog, text, float_ids=False), log)


HEAD = "customer_id,at,amount\n"
GOOD = "a,2024-01-01T00:00:00Z,1\n"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (HEAD + GOOD + "b,2024-01-01T00:00:00Z,x\n", "row 1: amount"),
        (HEAD + GOOD + "b,2024-01-01T00:00:00,2\n", "row 1: at"),
        (HEAD + 'a,2024-01-01T00:00:00Z,"1\n', "row 0"),
        (HEAD + "a,2024-01-01T00:00:00Z,1,2\n", "row 0"),
        (HEAD + "a\x00,2024-01-01T00:00:00Z,1\n", None),
        (HEAD.encode() + b"\xff,2024-01-01T00:00:00Z,1\n", "row 0: customer_id"),
        (HEAD + "b,,2\n" + "c,2024-01-01T00:00:00Z,x\n", "row 0: at"),
    ],
)
def test_bad_files_are_refused_naming_the_row_by_every_engine(
    tmp_path: Path, raw: str | bytes, field: str | None
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(raw.encode("utf-8") if isinstance(raw, str) else raw)
    engines = ["python", "pyarrow"] if _has_pyarrow() else ["python"]
    for engine in engines:
        result = outcome(lambda e=engine: TransactionLog.from_csv(path, engine=e))  # type: ignore[misc]
        if field is None:  # a NUL byte: read as text by the csv module
            assert not isinstance(result, ValidationError), (engine, result)
            assert result["customer_id"].to_list() == ["a\x00"]
            continue
        assert isinstance(result, ValidationError), engine
        assert result.field.startswith(field), (engine, result)


def test_a_customer_frame_reads_the_same_through_every_reader(tmp_path: Path) -> None:
    text = (
        "id,name,created_at,purchase_count,items_purchased,total_spent,interaction_count,"
        "service_count,consent_email,consent_sms,consent_phone,consent_post,consent_push,"
        "consent_messaging,erased,tags,birth_date,attr.tier,attr.n\r\n"
        'c1,"Ann, B",2024-01-01T00:00:00Z,3,4,10.5,0,0,true,false,True,FALSE,0,1,false,a|b,'
        "1990-02-28,gold,7\r\n"
        "c2,Bo,2024-01-02T10:00:00+08:00,0,0,0,1,2,false,false,false,false,false,false,true,,"
        ",,\r\n"
    )
    path = tmp_path / "customers.csv"
    path.write_text(text, newline="")
    expected = frame_from_csv(CustomerFrame, text)
    for engine in ["python", "pyarrow"] if _has_pyarrow() else ["python"]:
        same_layout(CustomerFrame.from_csv(path, engine=engine), expected)  # type: ignore[arg-type]
    assert expected["attr.n"].kind == "int" and expected["tags"].to_list()[0] == {"a", "b"}


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:  # pragma: no cover
        return False
    return True


def test_the_reference_is_plain_python(tmp_path: Path) -> None:
    """The reference reads what the csv module reads: check it on one hand-made file."""
    text = '\ufeffcustomer_id,at,amount,items\n"a,1",2024-01-01 00:00:00.5+01:00,-0,+7\n\n'
    log = frame_from_csv(TransactionLog, text)
    assert log.customer_ids.tolist() == ["a,1"]
    assert log.at[0] == np.datetime64("2023-12-31T23:00:00.500000")
    assert str(log["amount"].values[0]) == "-0.0"
    assert log["items"].to_list() == [7]
    assert log.at[0] - np.datetime64("2023-12-31T23:00:00") == np.timedelta64(
        timedelta(milliseconds=500)
    )


def test_parsing_threads_start_only_on_idle_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csvio.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(csvio.os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    assert csvio._idle_workers() == 0  # whatever this process' own share
    monkeypatch.setattr(csvio.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert csvio._idle_workers() == csvio.WORKERS


@pytest.mark.parametrize(
    ("cores", "load", "own", "idle"),
    [
        (2, 1.0, 1.0, 2),  # this process keeps one core busy: both are free for its read
        (2, 2.0, 1.0, 1),  # another process keeps the other busy
        (2, 0.1, 0.0, 2),  # an idle machine
        (2, 1.6, 0.0, 0),  # busy elsewhere
        (4, 2.2, 0.5, 2),
        (4, 0.5, 3.0, 4),  # this process used more than the load shows (a decayed average)
        (2, 9.0, 9.0, 0),  # its share counts for its cores at most
        (2, 0.0, -1.0, 2),
    ],
)
def test_idle_cores_leave_out_this_process_share(
    cores: int, load: float, own: float, idle: int
) -> None:
    assert csvio._idle_cores(cores, load, own) == idle
