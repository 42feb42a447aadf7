"""CSV files for frames: one header row, one row per record, UTF-8.

Cell encoding (what [`write_csv()`][crmcore.columnar.csvio.write_csv] writes and
[`read_csv()`][crmcore.columnar.csvio.read_csv] reads):

* missing: an empty cell (so an empty *string* cannot be written: it would
  read back as missing, and [`write_csv()`][crmcore.columnar.csvio.write_csv] refuses it);
* datetime: ISO 8601 in UTC with microseconds, ``2024-05-01T09:30:00.000000Z``;
  any ISO 8601 timestamp *with* an offset is read, a naive one needs ``tz``;
* date: ``YYYY-MM-DD``; bool: ``true`` / ``false``; float: shortest repr
  that round-trips (``0.1``, ``1e+20``, ``inf``);
* tags: the set's tags joined by ``|`` (tags never contain ``|``).

Reading makes no Python object per cell. The file is read in blocks of a few
megabytes, which `crmcore.columnar._tokenize` splits into fields with numpy
(commas and line ends outside quotes); each column of a block is then parsed
in numpy too, on a worker thread while the next block is split when a core is
idle (else on the caller's thread, which costs less CPU there): digits, ISO
8601 times and dictionary keys are read from the bytes at fixed offsets
(`crmcore.columnar._text_numbers`, `crmcore.columnar._text_times`,
`crmcore.columnar._text_codes`). Only cells outside those shapes (``12/1/2010
8:26``, ``1e5``) are parsed one by one, and a block that is not RFC 4180 (a
quote inside a field, a lone ``\\r``) is read, with the rest of the file, by the
csv module. With pyarrow installed, Arrow's reader converts the columns it reads
by the same rules instead (`crmcore.columnar._arrow_csv`); the frame is the same
either way. Row numbers in errors count data rows from 0; blank lines are not
rows. Of several bad cells, the error names the first row (then the leftmost
column), however the file was cut into blocks.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from itertools import chain, islice, pairwise
from operator import itemgetter
from typing import IO, Final, TypeAlias

import numpy as np

from crmcore.columnar._arrow_csv import (
    CsvEngine,
    load_pyarrow_csv,
    read_with_pyarrow,
    try_pyarrow_csv,
)
from crmcore.columnar._cells import Cells
from crmcore.columnar._csv_columns import CsvColumns, Job
from crmcore.columnar._layout import STRING_DTYPE
from crmcore.columnar._tokenize import BLOCK_BYTES, BOM, Block, blocks, mapped_blocks, tokenize
from crmcore.columnar._validation import row_error
from crmcore.columnar.columns import Column
from crmcore.columnar.reading import ReadOptions
from crmcore.columnar.schema import Schema
from crmcore.kernel.arrays import AnyArray
from crmcore.kernel.errors import ValidationError

__all__ = ["CsvEngine", "CsvSource", "read_csv", "read_header", "write_csv"]

CsvSource: TypeAlias = str | os.PathLike[str] | IO[str]
"""A path to a CSV file, or an open text stream (opened with ``newline=""``)."""

CHUNK_ROWS: Final = 8192
"""Rows per chunk where the csv module reads (a file that is not RFC 4180) and writes."""
WORKERS: Final = min(4, os.cpu_count() or 1)
"""Threads that parse columns beside the caller's, which splits the file (0: all on it).

One per core, four at most: the caller's thread waits for them between blocks, so on two idle
cores two threads read the 500k-row file of ``benchmarks/bench_csv.py`` in about a quarter less
time than one (with pyarrow too, whose conversions run on them); where other processes keep a
core busy fewer are started (`_idle_workers()`)."""
IN_FLIGHT: Final = 2
"""Blocks parsed ahead of the one being committed (bounds the memory of a read)."""


@contextlib.contextmanager
def _open(target: CsvSource, mode: str) -> Iterator[IO[str]]:
    if isinstance(target, str | os.PathLike):
        encoding = "utf-8-sig" if mode == "r" else "utf-8"
        try:
            stream = open(target, mode, newline="", encoding=encoding)  # noqa: SIM115
        except (OSError, ValueError) as error:  # ValueError: a NUL or a lone surrogate
            raise _path_error(target, mode, error) from None
        with stream:
            yield stream
    else:
        yield target


def _path_error(path: str | os.PathLike[str], mode: str, error: Exception) -> ValidationError:
    """The error for a path that cannot be opened (``mode`` ``"r"``: read, else written)."""
    field, verb = ("source", "read") if mode == "r" else ("target", "written")
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    shown = os.fspath(path)
    return ValidationError(field, shown[:200], f"cannot be {verb}: {reason}")


def _check_stream(stream: object, field: str, method: str) -> None:
    """Refuse a ``source``/``target`` that is neither a path nor a text stream."""
    if isinstance(stream, io.RawIOBase | io.BufferedIOBase) or not callable(
        getattr(stream, method, None)
    ):
        raise ValidationError(
            field, type(stream).__name__, "must be a path or a text stream (opened in text mode)"
        )


def format_cells(column: Column, name: str, start: int) -> list[str]:
    """The CSV cells of a column (``start``: row number of its first row, for errors)."""
    kind = column.kind
    missing = column.missing
    if kind == "string":
        values = column.values
        empty = (values == "") & ~missing
        if empty.any():
            i = int(np.argmax(empty))
            raise row_error(start + i, name, "", "an empty string cannot be written to CSV")
        return list(values.tolist())
    if kind == "category":
        labels = np.array([*column.categories, ""], dtype=object)
        if "" in column.categories and (column.values == column.code_of("")).any():
            i = int(np.argmax(column.values == column.code_of("")))
            raise row_error(start + i, name, "", "an empty string cannot be written to CSV")
        return list(labels[column.values].tolist())
    if kind == "tags":
        flat = np.array(column.categories, dtype=object)[column.values].tolist()
        bounds = column.offsets.tolist()
        return ["|".join(flat[a:b]) for a, b in pairwise(bounds)]
    values = column.values
    text: AnyArray
    if kind == "datetime":
        text = np.datetime_as_string(values, unit="us", timezone="UTC")
    elif kind == "date":
        text = np.datetime_as_string(values, unit="D")
    elif kind == "bool":
        text = np.where(values, "true", "false")
    else:  # float, int
        text = values.astype(STRING_DTYPE)
    if missing.any():
        text = np.where(missing, "", text)
    return list(text.tolist())


def _has_carriage_return(column: Column) -> bool:
    if column.kind in ("category", "tags"):
        return any("\r" in label for label in column.categories)
    if column.kind != "string":
        return False
    strings = column.vocabulary if column.vocabulary is not None else column.values
    return bool(strings.size) and bool((np.strings.find(strings, "\r") >= 0).any())


def write_csv(target: CsvSource, names: Sequence[str], columns: Sequence[Column]) -> None:
    """Write columns as CSV with a header row (see the module docstring for cells).

    Lines end in ``\n``. The csv module quotes a field only for ``,``, ``"``
    and the line terminator, so when some text holds a carriage return the
    whole file is written with every field quoted, which keeps it readable.
    """
    if not isinstance(target, str | os.PathLike):
        _check_stream(target, "target", "write")
    length = len(columns[0]) if columns else 0
    quote_all = any(_has_carriage_return(column) for column in columns)
    with _open(target, "w") as stream:
        if quote_all:
            writer = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_ALL)
        else:
            writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(names)
        for start in range(0, length, CHUNK_ROWS):
            rows = np.arange(start, min(length, start + CHUNK_ROWS), dtype=np.int64)
            cells = [
                format_cells(column._take(rows), name, start)
                for name, column in zip(names, columns, strict=True)
            ]
            writer.writerows(zip(*cells, strict=True))


def read_csv(
    source: CsvSource,
    schema: Schema,
    options: ReadOptions | None = None,
    *,
    extra_prefix: str | None = None,
    encoded: frozenset[str] = frozenset(),
    lenient: frozenset[str] = frozenset(),
    alternatives: tuple[tuple[str, ...], ...] = (),
    engine: CsvEngine = "auto",
) -> dict[str, Column]:
    """Read a CSV into columns: the schema's (absent nullable ones all missing), then extras.

    ``options`` maps your column names to ours, says what to do with extra
    columns and how to read timestamps (see
    [`ReadOptions`][crmcore.columnar.reading.ReadOptions]). Extra columns that are kept
    get a kind inferred from their cells. Columns in ``lenient`` are read as nullable
    whatever the schema says (the frame completes or refuses them); the header must
    hold one of the groups of ``alternatives`` when given. Blank lines are
    skipped; a UTF-8 byte order mark is ignored. ``engine`` picks the parser that
    splits the file: pyarrow's (``"pyarrow"``; ``"auto"`` uses it for a path when
    it is installed) or the built-in one (``"python"``).
    """
    options = options or ReadOptions()
    if not isinstance(engine, str) or engine not in ("auto", "python", "pyarrow"):
        raise ValidationError("engine", engine, "must be 'auto', 'python' or 'pyarrow'")
    if isinstance(source, str | os.PathLike):
        try:
            with open(source, "rb"):
                pass
        except (OSError, ValueError) as error:  # ValueError: a NUL or a lone surrogate
            raise _path_error(source, "r", error) from None
    else:
        _check_stream(source, "source", "read")

    def fresh() -> CsvColumns:
        return CsvColumns(
            schema, options, extra_prefix=extra_prefix, encoded=encoded, lenient=lenient,
            alternatives=alternatives,
        )  # fmt: skip

    with _workers() as pool:
        columns = fresh()
        if engine != "python" and isinstance(source, str | os.PathLike):
            arrow = load_pyarrow_csv() if engine == "pyarrow" else try_pyarrow_csv()
            header = read_header(source) if arrow is not None else []
            if header and arrow is not None:
                columns.start(header)
                if read_with_pyarrow(arrow, source, header, columns, pool):
                    return columns.finish(pool)
                columns = fresh()
        if isinstance(source, str | os.PathLike):
            _tokenized(mapped_blocks(source, BLOCK_BYTES), columns, pool)
        else:
            _tokenized(blocks(_Encoded(source).readinto, BLOCK_BYTES), columns, pool)
        return columns.finish(pool)


_SINCE: Final = (time.perf_counter(), time.process_time())
"""When this module was imported, by the clock and by this process' CPU time."""


def _idle_workers() -> int:
    """How many of the `WORKERS` threads to start now: one per core no other process keeps busy.

    The load average counts this process too, so its own share (the CPU time it has used
    per second since this module was imported) is taken out first: an analysis that keeps
    one core busy does not stop its own reads from using the other. See `_idle_cores()`.
    """
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average (Windows): trust the core count
        return WORKERS
    elapsed = time.perf_counter() - _SINCE[0]
    own = (time.process_time() - _SINCE[1]) / elapsed if elapsed > 0 else 0.0
    return min(WORKERS, _idle_cores(os.cpu_count() or 1, load, own))


def _idle_cores(cores: int, load: float, own: float) -> int:
    """The cores that processes other than this one leave idle: ``cores`` less the load
    average ``load`` without this process' own average ``own`` (busy cores), rounded.

    Where other processes keep the cores busy, a parsing thread gains no time and costs CPU (on
    a 2-core machine with one core busy elsewhere, a second thread took 3-14% more time than
    one, measured by ``benchmarks/bench_csv.py``).
    """
    others = max(load - min(max(own, 0.0), float(cores)), 0.0)
    return max(round(cores - others), 0)


@contextlib.contextmanager
def _workers() -> Iterator[Executor | None]:
    """Threads that parse columns while the file is split (numpy releases the GIL)."""
    count = _idle_workers()
    if count < 1:
        yield None
        return
    pool = ThreadPoolExecutor(count, thread_name_prefix="crmcore-csv")
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _tokenized(parts: Iterator[Block], columns: CsvColumns, pool: Executor | None) -> None:
    """Feed ``columns`` the blocks of a file: tokenized in numpy, else by the csv module.

    Blocks are split here, in order, while ``pool`` parses the columns of the
    ones before; at most `IN_FLIGHT` blocks wait to be committed.
    """
    started = False
    waiting: deque[list[Job]] = deque()
    for block in parts:
        if not started and block.data[block.begin : block.begin + len(BOM)] == BOM:
            block = block._replace(begin=block.begin + len(BOM))
        records = tokenize(block, columns.width if started else None)
        if records is None:
            while waiting:
                columns.commit(waiting.popleft())
            rest = chain([block.raw()], (part.raw() for part in parts))
            _with_csv_module(rest, columns, not started)
            return
        if records.header is not None:
            if not records.header:
                continue  # only blank lines so far
            columns.start(records.header)
            started = True
        if records.rows:
            waiting.append(columns.submit(pool, records.columns, records.rows))
        while len(waiting) > IN_FLIGHT:
            columns.commit(waiting.popleft())
    while waiting:
        columns.commit(waiting.popleft())
    if not started:
        raise ValidationError("header", "", "the CSV has no header row")


def _with_csv_module(rest: Iterator[bytes], columns: CsvColumns, header: bool) -> None:
    """Feed ``columns`` the rest of the file through `csv`, `CHUNK_ROWS` rows at a time."""
    raw = b"".join(rest)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        row = columns.length + max(raw.count(b"\n", 0, error.start) - header, 0)
        raise ValidationError(
            f"row {row}", raw[error.start : error.start + 8].decode("utf-8", errors="replace"),
            "is not valid UTF-8: save the file as UTF-8",
        ) from None  # fmt: skip
    if raw.count(b'"') % 2:
        raise _unterminated(raw, columns.length, header)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        if header:
            first = next((row for row in reader if row), None)
            if first is None:
                raise ValidationError("header", "", "the CSV has no header row")
            columns.start(first)
        while rows := list(islice(reader, CHUNK_ROWS)):
            cells = _columns_of_rows(rows, columns.width, columns.length)
            if cells and cells[0]:
                start = columns.length
                chunk = [
                    Cells.from_strings(column, start, target or "")
                    for column, target in zip(cells, columns.targets, strict=True)
                ]
                columns.add(chunk, len(cells[0]))
    except csv.Error as error:
        raise ValidationError(f"row {columns.length}", "", f"is not valid CSV: {error}") from None


def _unterminated(raw: bytes, start: int, header: bool) -> ValidationError:
    """The error for a quote opened and never closed (an odd number of quotes)."""
    quotes = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == ord('"'))
    opening = int(quotes[-1 if len(quotes) % 2 else -2])  # every other quote opens a field
    prefix = raw[: raw.rfind(b"\n", 0, opening) + 1].decode("utf-8")  # the rows before its own
    rows = sum(1 for row in csv.reader(io.StringIO(prefix, newline="")) if row)
    value = raw[opening : opening + 80].decode("utf-8", errors="replace")
    row = start + max(rows - (1 if header else 0), 0)
    return ValidationError(f"row {row}", value, "has an unterminated quote")


def _columns_of_rows(rows: list[list[str]], width: int, start: int) -> list[list[str]]:
    """Transpose parsed rows into columns, skipping blank lines and checking widths."""
    if set(map(len, rows)) != {width}:
        rows = [row for row in rows if row]
        for i, row in enumerate(rows):
            if len(row) != width:
                raise ValidationError(
                    f"row {start + i}", row, f"has {len(row)} cells, the header {width}"
                )
    return [list(map(itemgetter(j), rows)) for j in range(width)]


class _Encoded:
    """A text stream read as UTF-8 bytes, a chunk at a time."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._pending = b""

    def readinto(self, target: memoryview) -> int:
        while len(self._pending) < len(target):
            text = self._stream.read(max(len(target) // 2, 1))
            if not text:
                break
            if not isinstance(text, str):
                raise ValidationError(
                    "source", type(text).__name__, "must be a text stream (opened in text mode)"
                )
            try:
                self._pending += text.encode("utf-8")
            except UnicodeEncodeError as error:
                raise ValidationError(
                    "source", text[error.start : error.end], "is not valid text (a lone surrogate)"
                ) from None
        count = min(len(target), len(self._pending))
        target[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


def read_header(path: str | os.PathLike[str]) -> list[str]:
    """The header row of the CSV file at ``path`` (``[]`` when there is none to read)."""
    try:
        with _open(path, "r") as stream:
            return next(csv.reader(stream), [])
    except (csv.Error, UnicodeDecodeError):
        return []
