"""The columns a CSV file fills: which header cell feeds which column, and their builders.

Both CSV engines (the built-in tokenizer and pyarrow's reader) end here: they
hand `CsvColumns` the header, then blocks of
[`Cells`][crmcore.columnar._cells.Cells], one per header cell, and it feeds
each to the builder of the column the cell fills (see `plan()`). The parsing
of text into numbers, times and codes is the same whichever engine split the
file, so both give the same frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from functools import partial

from crmcore.columnar._builder_base import Append
from crmcore.columnar._builders import Builder, make_builder
from crmcore.columnar._cells import Cells
from crmcore.columnar._kind_inference import infer_text_kind
from crmcore.columnar._timestamps import TimeReading
from crmcore.columnar._validation import first_error
from crmcore.columnar.columns import Column, empty_column
from crmcore.columnar.reading import ReadOptions
from crmcore.columnar.schema import Schema
from crmcore.kernel.errors import ValidationError

__all__ = ["CsvColumns", "Job", "plan", "run", "text_column"]


def plan(
    header: list[str],
    schema: Schema,
    options: ReadOptions,
    extra_prefix: str | None,
    lenient: frozenset[str],
    alternatives: tuple[tuple[str, ...], ...] = (),
) -> list[str | None]:
    """The column each header cell fills: ours, an extra column's name, or ``None`` (skipped)."""
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise ValidationError("header", name, "column appears more than once")
        seen.add(name)
    targets = options.targets(header, frozenset(schema.names))
    filled = {t for t in targets if t is not None}
    for spec in schema.columns:
        if not spec.nullable and spec.name not in lenient and spec.name not in filled:
            raise ValidationError(
                "header", spec.name,
                f"required column is missing: map one of yours to it with "
                f"columns={{{spec.name!r}: ...}} (the file has {', '.join(map(repr, header))})",
            )  # fmt: skip
    if alternatives and not any(set(group) <= filled for group in alternatives):
        first, *others = alternatives
        rest = " or ".join(" and ".join(group) for group in others)
        raise ValidationError(
            "header", first[0],
            f"required column is missing: map one of yours to it with "
            f"columns={{{first[0]!r}: ...}}, or give {rest} "
            f"(the file has {', '.join(map(repr, header))})",
        )  # fmt: skip
    out: list[str | None] = []
    for name, target in zip(header, targets, strict=True):
        if target is not None:
            out.append(target)
        elif extra_prefix is not None and name.startswith(extra_prefix) and name != extra_prefix:
            out.append(name)
        elif options.extra == "ignore":
            out.append(None)
        elif options.extra == "keep":
            out.append(name if name.startswith("attr.") else f"attr.{name}")
        else:
            hint = (
                f" (custom columns are named {extra_prefix}<name>)"
                if extra_prefix is not None
                else f"; expected columns: {', '.join(schema.names)}"
            )
            raise ValidationError(
                "header", name,
                "unknown column: pass extra='ignore' to skip it, extra='keep' to keep it, "
                f"or map it with columns={{...}}{hint}",
            )  # fmt: skip
    return out


Job = Future[Append]
"""A chunk of one column being parsed (on a worker thread, or already done)."""


def run(pool: Executor | None, task: Callable[..., Append], *args: object) -> Job:
    """``task(*args)`` on ``pool``, or at once (its error kept for `Future.result`)."""
    if pool is not None:
        return pool.submit(task, *args)
    job: Job = Future()
    try:
        job.set_result(task(*args))
    except BaseException as error:  # re-raised, in row order, by result()
        job.set_exception(error)
    return job


class CsvColumns:
    """Builders for the columns of one CSV read, fed a block of cells at a time.

    `submit()` parses a block's columns (on ``pool``'s threads when given) and
    `commit()` appends them; blocks are committed in file order, so an error
    is the one of the first bad row, whatever thread found it.
    """

    def __init__(
        self,
        schema: Schema,
        options: ReadOptions,
        *,
        extra_prefix: str | None,
        encoded: frozenset[str],
        lenient: frozenset[str],
        alternatives: tuple[tuple[str, ...], ...],
    ) -> None:
        self.schema = schema
        self.options = options
        self.extra_prefix = extra_prefix
        self.encoded = encoded
        self.lenient = lenient
        self.alternatives = alternatives
        self.reading = TimeReading(options.tz, options.dayfirst)
        self.targets: list[str | None] = []
        self.width = 0
        self.length = 0
        self._sinks: list[Builder | list[Cells] | Column | None] = []

    def start(self, header: list[str]) -> None:
        """Plan the columns of ``header`` (refusing it when a required column is absent)."""
        if header and header[0].startswith("\ufeff"):
            header = [header[0][1:], *header[1:]]
        self.targets = plan(
            header, self.schema, self.options, self.extra_prefix, self.lenient, self.alternatives
        )
        self.width = len(header)
        for target in self.targets:
            if target is None:
                self._sinks.append(None)
            elif target in self.schema:
                spec = self.schema[target]
                nullable = spec.nullable or target in self.lenient
                encoded = target in self.encoded
                self._sinks.append(make_builder(spec.kind, target, nullable, encoded, self.reading))
            else:
                self._sinks.append([])

    def wanted(self) -> list[int]:
        """The positions of the header cells that fill a column."""
        return [i for i, target in enumerate(self.targets) if target is not None]

    def adopt(self, position: int, column: Column) -> None:
        """Take ``column`` as the whole column of header cell ``position`` (read elsewhere).

        Its cells are then not wanted from `submit()`.
        """
        self._sinks[position] = column

    def skip(self, position: int) -> None:
        """Want no cells for header cell ``position`` (its column is being refused)."""
        self._sinks[position] = None

    def submit(
        self, pool: Executor | None, columns: Sequence[Cells | None], rows: int
    ) -> list[Job]:
        """Start parsing ``rows`` rows: one [`Cells`][crmcore.columnar._cells.Cells] per
        header cell (``None`` for a column nobody wants). Commit the result in order."""
        jobs: list[Job] = []
        for sink, cells in zip(self._sinks, columns, strict=True):
            if sink is None or isinstance(sink, Column):
                continue
            assert cells is not None
            if isinstance(sink, Builder):
                jobs.append(run(pool, sink.prepare, cells, self.length))
            else:
                jobs.append(run(pool, _kept, sink, cells))
        self.length += rows
        return jobs

    @staticmethod
    def commit(jobs: list[Job]) -> None:
        """Append a submitted block, or raise the error of its first bad row.

        Each column names its first bad row; of those, the first row wins (on a
        tie, the column further left), however the file was cut into blocks.
        """
        errors: list[ValidationError] = []
        for job in jobs:
            error = job.exception()
            if isinstance(error, ValidationError):
                errors.append(error)
            elif error is not None:
                raise error
        if errors:
            raise first_error(errors)
        for job in jobs:
            job.result()()

    def add(self, columns: Sequence[Cells | None], rows: int) -> None:
        """Parse and append ``rows`` rows at once (see `submit()`)."""
        self.commit(self.submit(None, columns, rows))

    def finish(self, pool: Executor | None = None) -> dict[str, Column]:
        """The schema's columns (absent nullable ones all missing), then extras by name."""
        built = {
            t: sink
            for t, sink in zip(self.targets, self._sinks, strict=True)
            if t and sink is not None
        }
        names = [spec.name for spec in self.schema.columns if spec.name in built]
        names += sorted(n for n in built if n not in self.schema)
        jobs = [_finish_job(pool, name, built[name], self.reading) for name in names]
        done = dict(zip(names, (job.result() for job in jobs), strict=True))
        result: dict[str, Column] = {}
        for spec in self.schema.columns:
            found = done.pop(spec.name, None)
            encoded = spec.name in self.encoded
            result[spec.name] = (
                found if found is not None else empty_column(spec.kind, self.length, encoded)
            )
        result.update(done)
        return result


def _kept(sink: list[Cells], cells: Cells) -> Append:
    """The append of an extra column's cells (kept compact until their kind is known)."""
    compact = cells.compact()
    return partial(sink.append, compact)


def _finish_job(
    pool: Executor | None, name: str, sink: Builder | list[Cells] | Column, reading: TimeReading
) -> Future[Column]:
    def task() -> Column:
        if isinstance(sink, Column):
            return sink
        if isinstance(sink, Builder):
            return Column._new(*sink.finish())
        return text_column(Cells.concat(sink), name, reading)

    if pool is not None:
        return pool.submit(task)
    job: Future[Column] = Future()
    try:
        job.set_result(task())
    except BaseException as error:
        job.set_exception(error)
    return job


def text_column(cells: Cells, name: str, reading: TimeReading) -> Column:
    """A kept extra column from its cells, of the kind they suggest."""
    builder = make_builder(infer_text_kind(cells, reading), name, True, reading=reading)
    builder.add_cells(cells, 0)
    return Column._new(*builder.finish())
