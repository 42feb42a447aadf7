"""DuckDB as the plans' runner, and its inputs as raw views.

The [`Runner`][crmcore.engines._runner.Runner] over one connection.

An input is a crmcore frame (registered as an Arrow table, no copy), one or
more Parquet files (read by DuckDB itself, larger than memory; a path may be
a glob, a directory or a URL DuckDB reads, such as ``s3://`` with its
``httpfs`` extension), or a DuckDB relation (a table, a view, any query).
Each becomes a temporary view of the input's columns plus ``crm_row``, the
log order: the frame's row, the file and the row within it (files in the
order given, the files of a glob or directory sorted by name), or the
relation's own order (DuckDB keeps insertion order) unless ``order`` names
an integer column that holds each row's position.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import numpy as np

from crmcore.columnar.arrow import import_pyarrow, to_arrow
from crmcore.columnar.table import Frame
from crmcore.engines._dialect import DUCKDB, Dialect
from crmcore.engines._runner import ROW, TypeClass, check_order, check_unique_rows, reserved
from crmcore.kernel.errors import MissingDependencyError, ValidationError

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

__all__ = [
    "BATCH_ROWS",
    "FILE_BITS",
    "DuckRunner",
    "DuckSource",
    "duck_type_class",
    "import_duckdb",
    "is_url",
    "source_paths",
]

DuckSource: TypeAlias = (
    "Frame | duckdb.DuckDBPyRelation | str | os.PathLike[str] | Sequence[str | os.PathLike[str]]"
)
"""What the DuckDB functions read: a frame, a relation, or Parquet file paths (globs allowed)."""

_INTEGERS: Final = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
    | {"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
)
_NAIVE: Final = frozenset({"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"})
FILE_BITS: Final = 40
"""The log position of a file's row: ``file index << FILE_BITS | row in the file``."""
_GLOB: Final = re.compile(r"[*?\[]")
_SCHEME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
BATCH_ROWS: Final = 20_000_000
"""Event rows per batch of customers in a DuckDB funnel (a few GB of working tables)."""


def import_duckdb(feature: str) -> Any:
    """The ``duckdb`` module, or [`MissingDependencyError`][crmcore.MissingDependencyError]."""
    try:
        import duckdb
    except ImportError:
        raise MissingDependencyError("duckdb", "duckdb", feature) from None
    return duckdb


def duck_type_class(spelled: str) -> TypeClass:
    """The type class of a DuckDB type, by its name."""
    if spelled == "VARCHAR" or spelled.startswith("ENUM("):
        return "text"
    if spelled in ("DOUBLE", "FLOAT", "REAL"):
        return "float"
    if spelled in _INTEGERS:
        return "integer"
    if spelled.startswith("DECIMAL"):
        return "decimal"
    if spelled == "BOOLEAN":
        return "bool"
    if spelled == "TIMESTAMP WITH TIME ZONE":
        return "timestamp"
    if spelled in _NAIVE:
        return "naive_timestamp"
    if spelled == "DATE":
        return "date"
    if spelled == "VARCHAR[]":
        return "text_list"
    return "other"


class DuckRunner:
    """A [`Runner`][crmcore.engines._runner.Runner] over one DuckDB connection.

    Views are temporary (they live as long as the connection) and named
    ``crm_<purpose>_<random>``, so runs never collide.
    """

    def __init__(
        self, connection: duckdb.DuckDBPyConnection | None, feature: str, *sources: object
    ) -> None:
        duckdb = import_duckdb(feature)
        if connection is None:  # a relation's views live in its own connection: use that one
            owners = [getattr(s, "_con", None) for s in sources]
            owned = [c for c in owners if isinstance(c, duckdb.DuckDBPyConnection)]
            connection = owned[0] if owned else duckdb.connect()
        elif not isinstance(connection, duckdb.DuckDBPyConnection):
            raise ValidationError(
                "connection", type(connection).__name__, "must be a duckdb.DuckDBPyConnection"
            )
        self.connection = connection
        self._keep: list[object] = []  # Arrow tables the views scan
        self._made: list[tuple[str, str]] = []  # (kind, name) of what this runner created

    def __enter__(self) -> DuckRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop every view, table and registration this runner made (newest first)."""
        self.release(0, "")
        self._keep.clear()

    def mark(self) -> int:
        """A mark of what this runner has made so far."""
        return len(self._made)

    def release(self, mark: int, keep: str) -> None:
        """Drop what was made since ``mark``, all but ``keep``, newest first."""
        kept = []
        for kind, name in reversed(self._made[mark:]):
            if name == keep:
                kept.append((kind, name))
            elif kind == "arrow":
                self.connection.unregister(name)
            else:
                self.connection.execute(f"DROP {kind} IF EXISTS {name}")
        self._made[mark:] = kept

    def batches(self, rows: int) -> int:
        """Batches of customers for ``rows`` event rows: a run holds one batch's tables."""
        return max(1, -(-rows // BATCH_ROWS))

    @property
    def dialect(self) -> Dialect:
        """DuckDB's SQL."""
        return DUCKDB

    def fresh(self, prefix: str) -> str:
        """A new view name."""
        return f"crm_{prefix}_{uuid.uuid4().hex[:12]}"

    def view(self, name: str, sql: str) -> None:
        """A temporary view over ``sql``."""
        self.connection.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        self._made.append(("VIEW", name))

    def table(self, name: str, sql: str) -> None:
        """A temporary table holding the result of ``sql``."""
        self.connection.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        self._made.append(("TABLE", name))

    def arrow_view(self, name: str, table: pa.Table) -> None:
        """A view scanning an Arrow table in place."""
        self._keep.append(table)
        self.connection.register(name, table)
        self._made.append(("arrow", name))

    def fetch(self, sql: str) -> pa.Table:
        """The result of ``sql`` as an Arrow table."""
        return self.connection.sql(sql).to_arrow_table()

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The (few) rows of ``sql``, with ``params`` for its ``?`` placeholders."""
        return self.connection.execute(sql, list(params)).fetchall()

    def lazy(self, sql: str, params: Sequence[object] = ()) -> duckdb.DuckDBPyRelation:
        """A relation over ``sql``, not yet run."""
        return self.connection.sql(sql, params=list(params) or None)

    def columns(self, view: str) -> dict[str, tuple[TypeClass, str]]:
        """Each column of ``view``: its type class and DuckDB's name of its type."""
        relation = self.connection.sql(f"SELECT * FROM {view} LIMIT 0")
        return {
            name: (duck_type_class(str(kind)), str(kind))
            for name, kind in zip(relation.columns, relation.types, strict=True)
        }

    # -- inputs ---------------------------------------------------------------------------
    def raw(self, source: object, order: str | None, what: str) -> str:
        """A view of ``source``'s columns plus ``crm_row`` (see the module docs)."""
        view = self._raw(source, order, what)
        if order is not None:
            check_unique_rows(self, view, order)
        return view

    def _raw(self, source: object, order: str | None, what: str) -> str:
        duckdb = import_duckdb(what)
        name = self.fresh("raw")
        if isinstance(source, Frame):
            pa = import_pyarrow(what)
            table = to_arrow(source)
            if order is None:
                table = table.append_column(ROW, pa.array(np.arange(len(source), dtype=np.int64)))
            self.arrow_view(name + "_in", table)
            self.view(name, self._ordered(name + "_in", order))
            return name
        if isinstance(source, duckdb.DuckDBPyRelation):
            owner = getattr(source, "_con", self.connection)  # where DuckDB exposes it
            if owner is not self.connection:
                raise ValidationError(
                    what, "relation", "belongs to another DuckDB connection; pass that one"
                )
            source.create_view(name + "_in", replace=True)
            self._made.append(("VIEW", name + "_in"))
            try:
                self.rows(f"SELECT 1 FROM {name}_in LIMIT 0")
            except duckdb.Error:
                raise ValidationError(
                    what, "relation", "belongs to another DuckDB connection; pass that one"
                ) from None
            reserved(self.columns(name + "_in"), what)
            self.view(name, self._ordered(name + "_in", order))
            return name
        files = self._files(source_paths(source, what), what)
        try:
            # The names travel as a parameter (a view cannot take one: the relation can).
            self.connection.sql(
                "SELECT * FROM read_parquet($files, file_row_number = true, "
                "filename = 'crm_file', union_by_name = true)",
                params={"files": files},
            ).create_view(name + "_f")
            self._made.append(("VIEW", name + "_f"))
            columns = self.columns(name + "_f")
        except duckdb.Error as error:
            raise ValidationError(what, files[0], f"cannot be read as Parquet: {error}") from None
        reserved({c: None for c in columns if c not in ("crm_file", "file_row_number")}, what)
        rest = "* EXCLUDE (file_row_number, crm_file)"
        if order is not None:
            self.view(name + "_in", f"SELECT {rest} FROM {name}_f")
            self.view(name, self._ordered(name + "_in", order))
        elif len(files) == 1:
            self.view(name, f"SELECT {rest}, file_row_number AS {ROW} FROM {name}_f")
        else:  # each file's index, from a small table of the file names
            pa = import_pyarrow(what)
            index = pa.table({"crm_file": files, "crm_file_index": np.arange(len(files))})
            self.arrow_view(name + "_files", index)
            self.view(
                name,
                f"SELECT f.{rest}, (i.crm_file_index << {FILE_BITS}) + f.file_row_number AS "
                f"{ROW} FROM {name}_f f JOIN {name}_files i ON f.crm_file = i.crm_file",
            )
        return name

    def _files(self, paths: list[str], what: str) -> list[str]:
        """The files of ``paths``: globs and directories expanded by DuckDB, sorted by name."""
        files: list[str] = []
        for path in paths:
            if _GLOB.search(path):
                pattern = path
            elif not is_url(path) and os.path.isdir(path):
                pattern = os.path.join(path, "**", "*.parquet")
            else:
                files.append(path)
                continue
            found = sorted(str(row[0]) for row in self.rows("SELECT file FROM glob(?)", [pattern]))
            if not found:
                raise ValidationError(what, path, "matches no file")
            files.extend(found)
        return files

    def _ordered(self, view: str, order: str | None) -> str:
        columns = self.columns(view)
        if order is None:
            if ROW in columns:  # a frame's own position column
                return f"SELECT * FROM {view}"
            return f"SELECT *, row_number() OVER () - 1 AS {ROW} FROM {view}"
        check_order(columns, order)
        return f"SELECT *, CAST({self.dialect.quote(order)} AS BIGINT) AS {ROW} FROM {view}"


def is_url(path: str) -> bool:
    """Whether ``path`` is a URL (``s3://...``, ``hdfs://...``, ``file://...``), not a local
    path."""
    return bool(_SCHEME.match(path))


def source_paths(source: object, what: str) -> list[str]:
    """The path entries of a file source: one path, or several, in the order given."""
    if isinstance(source, str | os.PathLike):
        items: list[object] = [source]
    elif isinstance(source, Sequence) and not isinstance(source, bytes):
        items = list(source)
    else:
        raise ValidationError(
            what, type(source).__name__, "must be a frame, an engine table or Parquet path(s)"
        )
    paths: list[str] = []
    for item in items:
        if not isinstance(item, str | os.PathLike):
            raise ValidationError(what, item, "must be a path to a Parquet file")
        paths.append(os.fspath(item))
    if not paths:
        raise ValidationError(what, source, "names no file")
    return paths
