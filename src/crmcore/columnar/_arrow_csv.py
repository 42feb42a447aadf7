"""CSV through pyarrow: Arrow's reader splits the file and converts the typed columns.

When pyarrow is installed (``crmcore[arrow]``),
[`read_csv()`][crmcore.columnar.csvio.read_csv] hands a file to `read_with_pyarrow()`.
Arrow's C++ reader (multi-threaded where a core is idle) parses numbers,
booleans, ISO 8601 timestamps with an offset and ``YYYY-MM-DD`` dates itself,
and dictionary-encodes category columns block by block; those arrays become the
frame's columns with at most one copy (chunks joined, integers narrowed). Ids are
numbered in order of first appearance, the order the built-in reader gives, by
the same numpy grouping of their bytes (`crmcore.columnar._text_codes`). Text
columns, tags and kept extras arrive as Arrow string arrays, a data buffer and offsets, which
is exactly [`Cells`][crmcore.columnar._cells.Cells], and go through the same builders
as the built-in tokenizer's cells.

Arrow's rules are not Python's everywhere, so a column is converted by Arrow only
where they agree, and the built-in parsers read it otherwise:

* the first 256 kB of the file are read with every column typed; a column Arrow
  refuses there (naive timestamps, ``12/1/2010``, ``+5``, ``1_000``) is read as text;
* a column refused further down makes the whole file read again with every column
  as text;
* a file whose quoting is not RFC 4180 (a quote left open, which Arrow would close
  at the end of the file), a header Arrow reads otherwise than the csv module, a
  ragged row or bytes that are not UTF-8 are left to the built-in reader, so the
  error names the row and column the same way whichever engine ran;
* a missing or ``NaN`` value in a required column, or a time outside years 1 to
  9999, is read again by the built-in reader, whose message quotes the cell.

A differential test reads random hostile files with both engines and with the
cell-by-cell reference (`crmcore.columnar._reference`) and checks that the frames are
identical.
"""

from __future__ import annotations

import io
import mmap
import os
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, Final, Literal, TypeAlias, cast

import numpy as np

from crmcore.columnar._cells import Cells, UInt8Array
from crmcore.columnar._csv_columns import CsvColumns
from crmcore.columnar._layout import DT_D, DT_US, MAX_US, MIN_US, NAT, STRING_DTYPE, narrowest_int
from crmcore.columnar._text_codes import cell_keys, group_keys, key_labels
from crmcore.columnar._validation import first_error, row_error
from crmcore.columnar.columns import Column
from crmcore.kernel.arrays import AnyArray, BoolArray
from crmcore.kernel.errors import MissingDependencyError, ValidationError

__all__ = [
    "CsvEngine",
    "load_pyarrow_csv",
    "read_with_pyarrow",
    "rfc4180_quotes",
    "try_pyarrow_csv",
]

CsvEngine: TypeAlias = Literal["auto", "python", "pyarrow"]
"""The CSV parser: pyarrow's when installed (``"auto"``), the built-in one, or pyarrow's."""

_FEATURE: Final = "reading CSV with engine='pyarrow'"
_HEAD_BYTES: Final = 1 << 18  # the sample that decides which columns Arrow converts
_BLOCK_BYTES: Final = 1 << 22  # Arrow's blocks: the batches the builders are handed
_TRUE: Final = ["true", "True", "TRUE", "1"]  # the bool builder's spellings, no others
_FALSE: Final = ["false", "False", "FALSE", "0"]
_QUOTE, _COMMA, _NEWLINE, _RETURN = (ord(c) for c in '",\n\r')


class _RefusedError(Exception):
    """Arrow's result cannot stand for the built-in reader's: read the file that way."""


def load_pyarrow_csv() -> Any:
    """``(pyarrow, pyarrow.csv, pyarrow.compute)``, or
    [`MissingDependencyError`][crmcore.kernel.errors.MissingDependencyError] naming the extra."""
    try:
        import pyarrow
        import pyarrow.compute
        import pyarrow.csv
    except ImportError:
        raise MissingDependencyError("pyarrow", "arrow", _FEATURE) from None
    return pyarrow, pyarrow.csv, pyarrow.compute


def try_pyarrow_csv() -> Any | None:
    """The pyarrow modules when installed, else ``None`` (the built-in parser is used)."""
    try:
        return load_pyarrow_csv()
    except MissingDependencyError:
        return None


def read_with_pyarrow(
    arrow: Any,
    path: str | os.PathLike[str],
    header: list[str],
    columns: CsvColumns,
    pool: Executor | None = None,
) -> bool:
    """Feed ``columns`` (already started on ``header``) the file at ``path``, read by Arrow.

    ``False`` when the built-in reader must read the file instead (``columns`` is
    then half-fed: start again with a fresh one).
    """
    pa = arrow[0]
    if len(set(header)) != len(header) or not header:
        return False
    quoted = _quoting(path)
    if quoted is None:
        return False
    routes = _routes(columns)
    types = {header[i]: _arrow_type(pa, route) for i, route in routes.items()}
    wanted = [header[i] for i in sorted(routes)]
    try:
        types = _probe(arrow, path, wanted, types, quoted)
        threads = pool is not None  # Arrow's threads too only where a core is idle
        table = _read(arrow, path, wanted, types, quoted, threads)
        if table is None:  # a typed column refused below the sample: all as text
            types = {name: pa.string() for name in types}
            table = _read(arrow, path, wanted, types, quoted, threads)
        if table is None or table.column_names != wanted:
            return False
        converted = {
            position: _submit(pool, _convert, arrow, table.column(header[position]), route,
                              columns, position)
            for position, route in routes.items()
            if route == "encode" or not pa.types.is_string(types[header[position]])
        }  # fmt: skip
        errors: list[ValidationError] = []
        for position, job in converted.items():
            error = job.exception()
            if error is None:
                columns.adopt(position, job.result())
            elif isinstance(error, ValidationError):
                errors.append(error)
                columns.skip(position)  # the text of the others may hold an earlier bad row
            else:
                raise error
    except _RefusedError:
        return False
    try:
        _feed_text(table, header, columns, set(converted), pool)
    except ValidationError as error:
        errors.append(error)
    if errors:
        raise first_error(errors)  # the first bad row, whichever way its column was read
    return True


_Route: TypeAlias = Literal[
    "int", "float", "bool", "datetime", "date", "category", "encode", "text"
]


def _routes(columns: CsvColumns) -> dict[int, _Route]:
    """Header position → how the column is read: converted by Arrow, encoded, or as text."""
    out: dict[int, _Route] = {}
    for position, target in enumerate(columns.targets):
        if target is None:
            continue
        if target in columns.encoded:
            out[position] = "encode"
        elif target in columns.schema and columns.schema[target].kind in _TYPED:
            out[position] = cast(_Route, columns.schema[target].kind)
        else:
            out[position] = "text"  # strings, tags and extras: the builders read the cells
    return out


_TYPED: Final = frozenset({"int", "float", "bool", "datetime", "date", "category"})


def _arrow_type(pa: Any, route: _Route) -> Any:
    """The Arrow type a column is read as."""
    if route == "int":
        return pa.int64()
    if route == "float":
        return pa.float64()
    if route == "bool":
        return pa.bool_()
    if route == "datetime":
        return pa.timestamp("us", tz="UTC")  # refuses naive text: the builders place it
    if route == "date":
        return pa.date32()
    if route == "category":
        return pa.dictionary(pa.int32(), pa.string())
    return pa.string()  # encoded after the read, by one hash table for all blocks


def _quoting(path: str | os.PathLike[str]) -> bool | None:
    """Whether the file holds quotes (``None``: quoting that is not RFC 4180, or empty)."""
    with open(path, "rb") as stream:
        if not os.fstat(stream.fileno()).st_size:
            return None
        with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            if mapped.find(b'"') < 0:
                return False
            data = np.frombuffer(mapped, dtype=np.uint8)
            try:
                return True if rfc4180_quotes(data) else None
            finally:
                del data


def rfc4180_quotes(data: UInt8Array) -> bool:
    """Whether every quote of ``data`` opens a field, closes one or is half of an escaped ``""``.

    Outside escaped pairs the quotes alternate, opening (at a field's start: after
    a comma, a line end or the start of the file) and closing (before a comma, a
    line end or the end of the file); an escaped pair is two adjacent quotes of
    which the first stands where a closing one would. So the check needs the
    positions of the quotes only, not a pass of the parser.
    """
    quotes = np.flatnonzero(data == _QUOTE)
    if len(quotes) % 2:
        return False
    last = len(data) - 1
    before = np.where(quotes > 0, data[np.maximum(quotes - 1, 0)], _NEWLINE)
    after = np.where(quotes < last, data[np.minimum(quotes + 1, last)], _NEWLINE)
    adjacent = np.flatnonzero(np.diff(quotes) == 1)
    escaped = adjacent[adjacent % 2 == 1]
    single = np.ones(len(quotes), dtype=bool)
    single[escaped] = False
    single[escaped + 1] = False
    bounds = np.array([_COMMA, _NEWLINE, _RETURN], dtype=np.uint8)
    opening = np.isin(before[single][0::2], bounds)
    closing = np.isin(after[single][1::2], bounds)
    return bool(opening.all() and closing.all())


def _options(
    arrow: Any, wanted: list[str], types: dict[str, Any], quoted: bool, threads: bool = True
) -> Any:
    _, csv, _ = arrow
    convert = csv.ConvertOptions(
        column_types=types,
        include_columns=wanted,
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        true_values=_TRUE,
        false_values=_FALSE,
    )
    parse = csv.ParseOptions(newlines_in_values=quoted)
    read = csv.ReadOptions(encoding="utf-8", block_size=_BLOCK_BYTES, use_threads=threads)
    return {"read_options": read, "parse_options": parse, "convert_options": convert}


def _refused(pa: Any, error: BaseException) -> bool:
    """Whether Arrow refused a value of a typed column (not the file itself)."""
    text = str(error)
    return isinstance(error, pa.ArrowInvalid) and (
        "conversion error" in text or "out of range" in text
    )


def _probe(
    arrow: Any,
    path: str | os.PathLike[str],
    wanted: list[str],
    types: dict[str, Any],
    quoted: bool,
) -> dict[str, Any]:
    """``types``, with the columns Arrow cannot convert in the file's first rows as text."""
    pa, csv, _ = arrow
    typed = [name for name in wanted if not pa.types.is_string(types[name])]
    if not typed:
        return types
    with open(path, "rb") as stream:
        head = stream.read(_HEAD_BYTES)
    if len(head) == _HEAD_BYTES:
        cut = head.rfind(b"\n")
        if quoted or cut < 0:  # a cut could fall inside a quoted field: no sample
            return types
        head = head[: cut + 1]
    try:
        csv.read_csv(io.BytesIO(head), **_options(arrow, wanted, types, quoted))
        return types
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        if not _refused(pa, error):
            raise _RefusedError from None  # the file itself (not a column) is the problem
    out = dict(types)
    for name in typed:  # which ones: one column at a time
        try:
            csv.read_csv(io.BytesIO(head), **_options(arrow, [name], {name: out[name]}, quoted))
        except pa.ArrowInvalid as error:
            if not _refused(pa, error):
                raise _RefusedError from None
            out[name] = pa.string()
    return out


def _read(
    arrow: Any,
    path: str | os.PathLike[str],
    wanted: list[str],
    types: dict[str, Any],
    quoted: bool,
    threads: bool,
) -> Any | None:
    """The table of the whole file (``None``: a typed column was refused).

    ``threads``: let Arrow parse on its own threads (on loaded cores one thread
    measured 5-15% less wall and CPU time in ``benchmarks/bench_csv.py``).
    """
    pa, csv, _ = arrow
    try:
        return csv.read_csv(os.fspath(path), **_options(arrow, wanted, types, quoted, threads))
    except (pa.ArrowInvalid, pa.ArrowKeyError, UnicodeDecodeError) as error:
        if _refused(pa, error):
            return None
        raise _RefusedError from None


def _submit(pool: Executor | None, task: Callable[..., Column], *args: Any) -> Future[Column]:
    """``task(*args)`` on ``pool``, or at once (its error kept for ``result()``)."""
    if pool is not None:
        return pool.submit(task, *args)
    job: Future[Column] = Future()
    try:
        job.set_result(task(*args))
    except BaseException as error:  # re-raised by result()
        job.set_exception(error)
    return job


def _convert(arrow: Any, chunked: Any, route: _Route, columns: CsvColumns, position: int) -> Column:
    """The frame's column of an Arrow column (run on the pool: Arrow and numpy drop the GIL)."""
    pa, _, compute = arrow
    target = columns.targets[position]
    assert target is not None
    nullable = columns.schema[target].nullable or target in columns.lenient
    if route == "encode":
        return _encoded(pa, compute, chunked, target, nullable)
    if route == "category":
        return _category(pa, chunked, target, nullable)
    return _scalar(pa, chunked, route, target, nullable)


def _joined(pa: Any, chunked: Any) -> Any:
    """One array of a chunked column (no copy when it has one chunk)."""
    if chunked.num_chunks == 1:
        return chunked.chunk(0)
    if chunked.num_chunks == 0:
        return pa.array([], type=chunked.type)
    return chunked.combine_chunks()


def _nulls(array: Any) -> BoolArray | None:
    """The null rows of ``array`` (``None``: none)."""
    if not array.null_count:
        return None
    missing: BoolArray = array.is_null().to_numpy(zero_copy_only=False)
    return missing


def _require(missing: BoolArray | None, name: str, nullable: bool) -> None:
    if not nullable and missing is not None and missing.any():
        raise row_error(int(np.argmax(missing)), name, "", "is required (column is not nullable)")


def _scalar(pa: Any, chunked: Any, kind: _Route, name: str, nullable: bool) -> Column:
    array = _joined(pa, chunked)
    missing = _nulls(array)
    if kind == "float":
        values = array.to_numpy(zero_copy_only=False)
        if not nullable and np.isnan(values).any():
            raise _RefusedError  # the built-in reader says which: missing or "nan"
        return Column._new("float", values)
    _require(missing, name, nullable)
    if kind == "int":
        filled = array.fill_null(0) if missing is not None else array
        return Column._new("int", narrowest_int(filled.to_numpy()), missing)
    if kind == "bool":
        filled = array.fill_null(False) if missing is not None else array
        return Column._new("bool", filled.to_numpy(zero_copy_only=False), missing)
    if kind == "datetime":
        micros = np.frombuffer(array.buffers()[1], dtype=np.int64)[
            array.offset : array.offset + len(array)
        ]
        present = micros if missing is None else micros[~missing]
        if present.size and (present.min() < MIN_US or present.max() > MAX_US):
            raise _RefusedError
        if missing is not None:
            micros = np.where(missing, NAT, micros)
        return Column._new("datetime", micros.view(DT_US))
    assert kind == "date"
    days = np.frombuffer(array.buffers()[1], dtype=np.int32)[
        array.offset : array.offset + len(array)
    ].astype(np.int64)
    if missing is not None:
        days[missing] = NAT
    return Column._new("date", days.view(DT_D))


def _labels(pa: Any, dictionary: Any) -> AnyArray:
    """A string array's values as a StringDType array (Arrow has checked their UTF-8)."""
    if not len(dictionary):
        return np.empty(0, dtype=STRING_DTYPE)
    _, offsets, data = dictionary.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)[
        dictionary.offset : dictionary.offset + len(dictionary) + 1
    ]
    return Cells.from_offsets(data, bounds).strings()


def _indices(chunked: Any, lut: AnyArray | None) -> AnyArray:
    """The codes of a dictionary column (``-1`` where null), through ``lut`` when given.

    Arrow's ``int32`` indices are read in place; ``lut`` (indexed by code, its last
    item for ``-1``) maps them to the frame's codes in the dtype it has.
    """
    parts = []
    for chunk in chunked.chunks:
        codes = chunk.indices
        if codes.null_count:
            codes = codes.fill_null(-1)
        raw = codes.to_numpy()
        parts.append(raw if lut is None else lut[raw])
    if not parts:
        return np.empty(0, dtype=np.int8 if lut is None else lut.dtype)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _category(pa: Any, chunked: Any, name: str, nullable: bool) -> Column:
    """A category column: Arrow's per-block dictionaries unified, codes into sorted labels."""
    unified = chunked.unify_dictionaries()
    dictionary = unified.chunk(0).dictionary if unified.num_chunks else pa.array([], pa.string())
    labels: list[str] = _labels(pa, dictionary).tolist()
    order = sorted(range(len(labels)), key=labels.__getitem__)
    rank = np.empty(len(labels) + 1, dtype=np.int64)
    rank[np.array(order, dtype=np.int64)] = np.arange(len(labels), dtype=np.int64)
    rank[-1] = -1  # the code of a null
    codes = _indices(unified, narrowest_int(rank))
    _require(codes < 0, name, nullable)
    return Column._new("category", codes, categories=tuple(labels[i] for i in order))


def _encoded(pa: Any, compute: Any, chunked: Any, name: str, nullable: bool) -> Column:
    """An encoded string column, its vocabulary in order of first appearance.

    Ids of up to [`KEY_BYTES`][crmcore.columnar._cells.KEY_BYTES] are numbered by
    their exact key words, as the built-in reader numbers them
    ([`group_keys()`][crmcore.columnar._text_codes.group_keys]: one linear pass when
    they come in increasing runs, as order ids do, else a hash table in numpy, which
    measured two to three times less CPU than Arrow's ``dictionary_encode``). Longer
    ids go through Arrow's hash kernel, which runs one hash table over all the
    chunks, so that every chunk shares the last one's dictionary.
    """
    if chunked.num_chunks:
        cells = _cells(_joined(pa, chunked))
        keys = cell_keys(cells)
        if keys is not None:
            groups = group_keys(keys, cells.missing)
            vocabulary = key_labels(keys, groups.first, name)
            return _encoded_column(groups.codes, vocabulary, name, nullable)
    found = compute.dictionary_encode(chunked)
    if not found.num_chunks:
        return _encoded_column(np.empty(0, np.int64), np.empty(0, STRING_DTYPE), name, nullable)
    vocabulary = _labels(pa, found.chunk(found.num_chunks - 1).dictionary)
    return _encoded_column(_indices(found, None), vocabulary, name, nullable)


def _encoded_column(codes: AnyArray, vocabulary: AnyArray, name: str, nullable: bool) -> Column:
    mask = codes < 0
    _require(mask, name, nullable)
    return Column._new(
        "string", narrowest_int(codes), mask if mask.any() else None, (), None, vocabulary
    )


def _feed_text(
    table: Any, header: list[str], columns: CsvColumns, done: set[int], pool: Executor | None
) -> None:
    """Hand the builders the columns Arrow read as text, a batch at a time, in order."""
    positions = {name: i for i, name in enumerate(header)}
    text = [name for name in table.column_names if positions[name] not in done]
    jobs = []
    for batch in table.select(text).to_batches() if text else [None]:
        cells: list[Cells | None] = [None] * len(header)
        rows = table.num_rows
        if batch is not None:
            rows = batch.num_rows
            for name, array in zip(batch.schema.names, batch.columns, strict=True):
                cells[positions[name]] = _cells(array)
        jobs.append(columns.submit(pool, cells, rows))
    for job in jobs:
        columns.commit(job)


def _cells(array: Any) -> Cells:
    """The cells of an Arrow string array (its data buffer and offsets; nulls are empty)."""
    _, offsets, data = array.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)[array.offset : array.offset + len(array) + 1]
    return Cells.from_offsets(data, bounds)
