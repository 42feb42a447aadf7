"""Arrow tables and Parquet files for frames: zero-copy where the types allow.

[`to_arrow()`][crmcore.columnar.arrow.to_arrow] turns a
[`CustomerFrame`][crmcore.columnar.CustomerFrame],
[`TransactionLog`][crmcore.columnar.TransactionLog] or
[`EventLog`][crmcore.columnar.EventLog] into a ``pyarrow.Table``;
[`from_arrow()`][crmcore.columnar.arrow.from_arrow] builds a frame from one (written by crmcore, by
DuckDB, by Spark or by hand); [`write_parquet()`][crmcore.columnar.arrow.write_parquet] and
[`read_parquet()`][crmcore.columnar.arrow.read_parquet] do the same through Parquet files. They
need the ``arrow`` extra (``pip install crmcore[arrow]``, pyarrow).

| column kind | Arrow type | zero-copy |
|---|---|---|
| ``float`` | ``float64`` (``NaN`` ↔ null) | the values, both ways (no nulls on the way in) |
| ``int`` | ``int64`` | the values, both ways, when held in 64 bits |
| ``datetime`` | ``timestamp[us, tz=UTC]`` | the values, both ways (no nulls on the way in) |
| ``category`` | ``dictionary<int32, string>`` | the codes, both ways, when held in 32 bits |
| ``string`` (log ids) | ``dictionary<int32, string>`` | the codes, to Arrow, when held in 32 bits |
| ``string`` | ``string`` | no (numpy ``StringDType`` is laid out differently) |
| ``bool``, ``date`` | ``bool``, ``date32`` | no (bits vs bytes, 32 vs 64 bits) |
| ``tags`` | ``large_list<dictionary<int32, string>>`` | offsets, and codes in 32 bits, to Arrow |

A frame holds integers and codes in the narrowest width that fits its data
(one byte a row for small counts); on the Arrow side the types are fixed
whatever the data, so that tables and Parquet files written from different
frames share one schema (Spark and DuckDB read a directory of them as one
table). Codes wider than 32 bits (over 2**31 distinct ids) stay ``int64``.
Read back, integers and codes are narrowed again.

Missing values are Arrow nulls. Each field carries its crmcore kind in the
field metadata (``crmcore.kind``) and the table its frame type
(``crmcore.frame``), so a round trip gives an equal frame. Tables from
elsewhere are read by column name: a schema column of the frame type must
have a compatible Arrow type, extra ``attr.*`` columns of a customer frame
take their kind from their Arrow type. A wrong type is a
[`ValidationError`][crmcore.kernel.errors.ValidationError] naming the column: a naive
timestamp (``timestamp`` without a time zone: which instant is ``09:00``?), an amount held as
text, a missing required column.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.columnar import TransactionLog
    >>> log = TransactionLog.from_records(
    ...     [{"customer_id": "a", "at": datetime(2026, 1, 5, tzinfo=UTC), "amount": 9.5}])
    >>> table = to_arrow(log)
    >>> str(table.schema.field("at").type), table.column("amount").to_pylist()
    ('timestamp[us, tz=UTC]', [9.5])
    >>> from_arrow(TransactionLog, table) == log
    True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

import numpy as np

from crmcore.columnar._layout import DT_D, DT_US, NAT, STRING_DTYPE, narrowest_int
from crmcore.columnar.columns import Column
from crmcore.columnar.schema import ColumnKind
from crmcore.columnar.table import Frame
from crmcore.kernel.arrays import AnyArray, BoolArray, Int64Array
from crmcore.kernel.errors import MissingDependencyError, ValidationError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["PathLike", "from_arrow", "import_pyarrow", "read_parquet", "to_arrow", "write_parquet"]

F = TypeVar("F", bound=Frame)

_KIND_KEY: Final = b"crmcore.kind"
_FRAME_KEY: Final = b"crmcore.frame"

PathLike = str | os.PathLike[str]
"""A file path."""


def import_pyarrow(feature: str) -> Any:
    """The ``pyarrow`` module, or [`MissingDependencyError`][crmcore.MissingDependencyError]."""
    try:
        import pyarrow
    except ImportError:
        raise MissingDependencyError("pyarrow", "arrow", feature) from None
    return pyarrow


# ---------------------------------------------------------------------------------------
# Frames to Arrow
# ---------------------------------------------------------------------------------------


def _validity(pa: Any, missing: BoolArray) -> Any:
    """An Arrow validity bitmap (``None`` when nothing is missing)."""
    if not missing.any():
        return None
    return pa.py_buffer(np.packbits(~missing, bitorder="little"))


def _primitive(pa: Any, arrow_type: Any, values: AnyArray, missing: BoolArray) -> Any:
    """An Arrow array over ``values``' own memory (no copy), nulls where ``missing``.

    ``values`` must be contiguous and of ``arrow_type``'s width.
    """
    return pa.Array.from_buffers(
        arrow_type,
        len(values),
        [_validity(pa, missing), pa.py_buffer(values)],
        null_count=int(missing.sum()),
    )


def _dictionary(pa: Any, codes: AnyArray, labels: Sequence[str] | AnyArray) -> Any:
    """A dictionary array over ``codes`` (``-1``: null) and ``labels``.

    The indices are ``int32`` (``int64`` for codes held in 64 bits); codes
    already held in that width are not copied.
    """
    wide = codes.dtype.itemsize > 4
    index, dtype = (pa.int64(), np.int64) if wide else (pa.int32(), np.int32)
    values: AnyArray = np.ascontiguousarray(codes, dtype=dtype)
    missing: BoolArray = values < 0
    indices = _primitive(pa, index, values, missing)
    return pa.DictionaryArray.from_arrays(indices, pa.array(labels, type=pa.string()))


def _column_to_arrow(pa: Any, column: Column) -> Any:
    kind = column.kind
    if kind == "float":
        values = np.ascontiguousarray(column.values)
        return _primitive(pa, pa.float64(), values, column.missing)
    if kind == "int":  # int64 whatever width the frame holds them in: one schema for all frames
        values = np.ascontiguousarray(column.values, dtype=np.int64)
        return _primitive(pa, pa.int64(), values, column.missing)
    if kind == "datetime":
        return _primitive(
            pa, pa.timestamp("us", tz="UTC"), column.values.view(np.int64), column.missing
        )
    if kind == "date":
        days = column.values.view(np.int64).astype(np.int32)
        return _primitive(pa, pa.date32(), days, column.missing)
    if kind == "bool":
        return pa.array(column.values, type=pa.bool_(), mask=column.missing)
    if kind == "category":
        return _dictionary(pa, column.codes, column.categories)
    if kind == "tags":
        flat = _dictionary(pa, column.codes, column.categories)
        return pa.LargeListArray.from_arrays(pa.array(column.offsets, type=pa.int64()), flat)
    if column.vocabulary is not None:
        return _dictionary(pa, column.codes, column.vocabulary)
    return pa.array(column.values, type=pa.string(), mask=column.missing)


def to_arrow(frame: Frame) -> pa.Table:
    """The frame as a ``pyarrow.Table``, one field per column (see the module docs for types).

    Numeric, timestamp and code arrays are shared with the frame, not copied;
    the frame is immutable, so the table cannot change under it either.
    """
    pa = import_pyarrow("to_arrow")
    if not isinstance(frame, Frame):
        raise ValidationError("frame", type(frame).__name__, "must be a crmcore frame")
    arrays = []
    fields = []
    for name in frame.names:
        column = frame.column(name)
        array = _column_to_arrow(pa, column)
        arrays.append(array)
        fields.append(pa.field(name, array.type, metadata={_KIND_KEY: column.kind.encode()}))
    schema = pa.schema(fields, metadata={_FRAME_KEY: type(frame).__name__.encode()})
    return pa.Table.from_arrays(arrays, schema=schema)


def write_parquet(
    frame: Frame, path: PathLike, *, compression: str = "zstd", row_group_size: int | None = None
) -> None:
    """Write ``frame`` to a Parquet file at ``path`` (through
    [`to_arrow()`][crmcore.columnar.arrow.to_arrow]).

    Timestamps are stored as ``TIMESTAMP(MICROS, isAdjustedToUTC=true)``, so
    DuckDB reads them as ``TIMESTAMPTZ`` and Spark as ``TimestampType``.
    """
    parquet = _parquet("write_parquet")
    parquet.write_table(
        to_arrow(frame), os.fspath(path), compression=compression, row_group_size=row_group_size
    )


def _parquet(feature: str) -> Any:
    import_pyarrow(feature)
    import pyarrow.parquet

    return pyarrow.parquet


# ---------------------------------------------------------------------------------------
# Arrow to frames
# ---------------------------------------------------------------------------------------


def _is_text(pa: Any, arrow_type: Any) -> bool:
    types = pa.types
    return bool(
        types.is_string(arrow_type)
        or types.is_large_string(arrow_type)
        or (hasattr(types, "is_string_view") and types.is_string_view(arrow_type))
    )


def _is_text_like(pa: Any, arrow_type: Any) -> bool:
    """Text, or a dictionary of text."""
    if pa.types.is_dictionary(arrow_type):
        return _is_text(pa, arrow_type.value_type)
    return _is_text(pa, arrow_type)


def _kind_of_type(pa: Any, arrow_type: Any) -> ColumnKind | None:
    """The column kind an Arrow type maps to (for columns whose kind is not fixed)."""
    t = pa.types
    if t.is_dictionary(arrow_type) and _is_text(pa, arrow_type.value_type):
        return "category"
    if _is_text(pa, arrow_type):
        return "string"
    if t.is_floating(arrow_type) or t.is_decimal(arrow_type):
        return "float"
    if t.is_integer(arrow_type):
        return "int"
    if t.is_boolean(arrow_type):
        return "bool"
    if t.is_timestamp(arrow_type):
        return "datetime"
    if t.is_date(arrow_type):
        return "date"
    if (t.is_list(arrow_type) or t.is_large_list(arrow_type)) and _is_text_like(
        pa, arrow_type.value_type
    ):
        return "tags"
    return None


def _wrong(name: str, arrow_type: Any, kind: ColumnKind) -> ValidationError:
    wanted = {
        "float": "a number column (float or integer)",
        "int": "an integer column",
        "bool": "a boolean column",
        "datetime": "a timestamp column with a time zone",
        "date": "a date column",
        "string": "a text column",
        "category": "a text or dictionary column",
        "tags": "a list of text",
    }[kind]
    return ValidationError(name, str(arrow_type), f"must be {wanted} for a {kind} column")


def _single(pa: Any, column: Any) -> Any:
    """One contiguous Arrow array of a (chunked) column: zero-copy when it has one chunk."""
    if isinstance(column, pa.ChunkedArray):
        if column.num_chunks == 1:
            return column.chunk(0)
        return column.combine_chunks()
    return column


def _null_mask(array: Any) -> BoolArray:
    if array.null_count == 0:
        return np.zeros(len(array), dtype=bool)
    mask: BoolArray = np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    return mask


def _numbers(pa: Any, array: Any, dtype: Any) -> AnyArray:
    """The values as ``dtype``: a view of the Arrow buffer when types match and nothing is null."""
    if array.type == dtype and array.null_count == 0:
        values: AnyArray = array.to_numpy(zero_copy_only=True)
        return values
    filled = array.cast(dtype) if array.type != dtype else array
    return np.asarray(filled.fill_null(0).to_numpy(zero_copy_only=False))


def _micros(pa: Any, array: Any, name: str) -> Int64Array:
    """Microseconds since the epoch of an aware timestamp array (NaT where null)."""
    arrow_type = array.type
    if arrow_type.tz is None:
        raise ValidationError(
            name,
            str(arrow_type),
            "is a naive timestamp (no time zone); store instants as timestamp with time zone "
            "(UTC), e.g. pyarrow.timestamp('us', tz='UTC') or TIMESTAMPTZ",
        )
    target = pa.timestamp("us", tz=arrow_type.tz)
    if arrow_type != target:
        try:
            array = array.cast(target, safe=True)
        except pa.ArrowInvalid:
            raise ValidationError(
                name, str(arrow_type), "has sub-microsecond values (crmcore keeps microseconds)"
            ) from None
    storage = array.view(pa.int64())
    values = _numbers(pa, storage, pa.int64())
    if array.null_count:
        values = np.where(_null_mask(array), NAT, values)
    return values


def _texts(pa: Any, array: Any) -> tuple[AnyArray, BoolArray]:
    """Text values as ``StringDType`` (``""`` where null) and the null mask."""
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    missing = _null_mask(array)
    values = np.asarray(array.fill_null("").to_numpy(zero_copy_only=False))
    return np.array(values, dtype=STRING_DTYPE), missing


def _codes(pa: Any, array: Any) -> tuple[AnyArray, AnyArray]:
    """Sorted distinct labels and int64 codes into them (``-1`` where null)."""
    if not pa.types.is_dictionary(array.type):
        array = array.dictionary_encode()
    labels = np.asarray(array.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    indices = array.indices
    codes = _numbers(pa, indices, indices.type).astype(np.int64, copy=False)
    if array.null_count:
        codes = np.where(_null_mask(array), -1, codes)
    categories, lut = np.unique(labels.astype(str), return_inverse=True)
    if len(categories) == len(labels) and (lut == np.arange(len(lut))).all():
        return categories, codes  # already sorted and distinct: the codes stand
    remapped = np.append(lut, -1).astype(np.int64)[codes]
    return categories, remapped


def _category(pa: Any, array: Any) -> Column:
    if (
        pa.types.is_dictionary(array.type)
        and array.type.index_type == pa.int32()
        and array.null_count == 0
    ):
        labels = array.dictionary.to_pylist()
        if labels == sorted(set(labels)):  # a crmcore-written dictionary: keep its codes
            return Column._new(
                "category",
                narrowest_int(_numbers(pa, array.indices, pa.int32())),
                None,
                tuple(labels),
            )
    categories, codes = _codes(pa, array)
    return Column._new("category", narrowest_int(codes), None, tuple(categories.tolist()))


def _encoded(pa: Any, array: Any) -> Column:
    """A string column dictionary-encoded in first-seen order (the logs' ``customer_id``)."""
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    encoded = array.dictionary_encode()  # Arrow hands out codes in order of first appearance
    vocabulary = np.array(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=STRING_DTYPE)
    codes = _numbers(pa, encoded.indices, encoded.indices.type).astype(np.int64, copy=False)
    mask = None
    if encoded.null_count:
        mask = _null_mask(encoded)
        codes = np.where(mask, -1, codes)
    return Column._new("string", narrowest_int(codes), mask, (), None, vocabulary)


def _tags(pa: Any, array: Any, name: str) -> Column:
    """A tags column: each row's codes sorted and distinct, as the builders make them."""
    if pa.types.is_list(array.type):
        array = array.cast(pa.large_list(array.type.value_type))
    if array.null_count:
        array = array.fill_null(pa.scalar([], type=array.type))
    offsets = np.asarray(array.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    flat = array.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    offsets = offsets - offsets[0]
    if flat.null_count:
        row = int(np.searchsorted(offsets, int(np.argmax(_null_mask(flat))), side="right")) - 1
        raise ValidationError(f"row {row}: {name}", None, "a tag must not be null")
    categories, codes = _codes(pa, flat)
    bad = [i for i, tag in enumerate(categories.tolist()) if not tag or "|" in tag]
    if bad:
        tag = str(categories[bad[0]])
        where = int(np.argmax(codes == bad[0]))
        row = int(np.searchsorted(offsets, where, side="right")) - 1
        raise ValidationError(
            f"row {row}: {name}", tag, "a tag must be non-empty and must not contain '|'"
        )
    n = len(offsets) - 1
    lengths = np.diff(offsets)
    k = max(len(categories), 1)
    if codes.size:
        rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
        key = rows * k + codes
        if not (np.diff(key) > 0).all():
            key = np.unique(key)
            codes = key % k
            lengths = np.bincount(key // k, minlength=n).astype(np.int64)
            offsets = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(lengths, out=offsets[1:])
    return Column._new(
        "tags", narrowest_int(codes), None, tuple(categories.tolist()), offsets.astype(np.int64)
    )


def _column_from_arrow(pa: Any, column: Any, name: str, kind: ColumnKind, encoded: bool) -> Column:
    array = _single(pa, column)
    arrow_type = array.type
    t = pa.types
    if kind == "tags":
        if _kind_of_type(pa, arrow_type) != "tags":
            raise _wrong(name, arrow_type, kind)
        return _tags(pa, array, name)
    if kind in ("string", "category"):
        if not _is_text_like(pa, arrow_type):
            raise _wrong(name, arrow_type, kind)
        if kind == "category":
            return _category(pa, array)
        if encoded:
            return _encoded(pa, array)
        values, missing = _texts(pa, array)
        return Column._new("string", values, missing)
    if kind == "float":
        if not (t.is_floating(arrow_type) or t.is_integer(arrow_type) or t.is_decimal(arrow_type)):
            raise _wrong(name, arrow_type, kind)
        values = _numbers(pa, array, pa.float64())
        if array.null_count:
            values = np.where(_null_mask(array), np.nan, values)
        return Column._new("float", values)
    if kind == "int":
        if not t.is_integer(arrow_type):
            raise _wrong(name, arrow_type, kind)
        values = _numbers(pa, array, pa.int64())
        return Column._new("int", narrowest_int(values), _null_mask(array))
    if kind == "bool":
        if not t.is_boolean(arrow_type):
            raise _wrong(name, arrow_type, kind)
        values = np.asarray(array.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
        return Column._new("bool", values, _null_mask(array))
    if kind == "datetime":
        if not t.is_timestamp(arrow_type):
            raise _wrong(name, arrow_type, kind)
        return Column._new("datetime", _micros(pa, array, name).view(DT_US))
    if not t.is_date(arrow_type):  # date
        raise _wrong(name, arrow_type, kind)
    days = _numbers(pa, array.cast(pa.date32()).view(pa.int32()), pa.int32()).astype(np.int64)
    if array.null_count:
        days = np.where(_null_mask(array), NAT, days)
    return Column._new("date", days.view(DT_D))


def from_arrow(frame_type: type[F], table: pa.Table) -> F:
    """Build a frame of ``frame_type`` from a ``pyarrow.Table`` (or a record batch).

    Columns are matched by name; absent nullable columns are missing, an
    absent required one is a [`ValidationError`][crmcore.kernel.errors.ValidationError] naming
    it, and so is a column of the wrong type. Values are shared with the
    table where the types allow (see the module docs); the frame's usual
    checks run (required values present, customer ids unique).
    """
    pa = import_pyarrow("from_arrow")
    if not (isinstance(frame_type, type) and issubclass(frame_type, Frame)):
        raise ValidationError(
            "frame_type", frame_type, "must be CustomerFrame, TransactionLog, ..."
        )
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    if not isinstance(table, pa.Table):
        raise ValidationError("table", type(table).__name__, "must be a pyarrow.Table")
    names = table.column_names
    if len(set(names)) != len(names):
        raise ValidationError("columns", names, "column names must be distinct")
    schema = frame_type.SCHEMA
    columns: dict[str, Column] = {}
    for name in names:
        field = table.schema.field(name)
        if name in schema:
            kind = schema[name].kind
        elif frame_type._is_extra(name):
            stored = (field.metadata or {}).get(_KIND_KEY)
            found = stored.decode() if stored else _kind_of_type(pa, field.type)
            if found is None or found == "tags":
                raise ValidationError(name, str(field.type), "has no crmcore column kind")
            kind = found
        else:
            raise ValidationError(name, None, frame_type._unknown(name))
        encoded = name in frame_type.ENCODED
        columns[name] = _column_from_arrow(pa, table.column(name), name, kind, encoded)
    return frame_type(columns)


def read_parquet(
    frame_type: type[F],
    source: PathLike | Sequence[PathLike],
    *,
    columns: Sequence[str] | None = None,
) -> F:
    """Read a frame from a Parquet file (or several, concatenated in the order given).

    ``columns`` limits the columns read (the required ones must be among
    them). See [`from_arrow()`][crmcore.columnar.arrow.from_arrow] for the checks.
    """
    parquet = _parquet("read_parquet")
    pa = import_pyarrow("read_parquet")
    paths = [source] if isinstance(source, str | os.PathLike) else list(source)
    if not paths:
        raise ValidationError("source", source, "must name at least one Parquet file")
    wanted = None if columns is None else list(columns)
    tables = [parquet.read_table(os.fspath(p), columns=wanted) for p in paths]
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="default")
    return from_arrow(frame_type, table)
