"""Spark as the plans' runner, and its inputs as raw views.

The [`Runner`][crmcore.engines._runner.Runner] over one session.

An input is a crmcore frame (sent to Spark as an Arrow table), a Spark
``DataFrame``, or Parquet paths (files, directories, globs or URLs such as
``s3a://``, read by Spark; a local relative path is taken from this
process's working directory, not the JVM's). Each becomes a temporary view
of the input's columns plus ``crm_row``, the log order: the frame's row, the
file and the row within it (``_metadata.row_index``; files in the order
given, those of one path by name, numbered through a small table of the
files that Spark lists, joined by broadcast), or for a DataFrame
``monotonically_increasing_id()``, which follows the order of its
partitions, unless ``order`` names an integer column that holds each row's
position.

Views are session-scoped temporary views named ``crm_<purpose>_<random>``;
results read more than once are materialised with ``localCheckpoint``, which
also cuts their lineage (the pointer-doubling rounds of the funnel would
otherwise grow the plan at every round).
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
from crmcore.engines._dialect import SPARK, Dialect
from crmcore.engines._duckdb_runner import FILE_BITS, is_url, source_paths
from crmcore.engines._runner import ROW, TypeClass, check_order, check_unique_rows, reserved
from crmcore.kernel.errors import MissingDependencyError, ValidationError

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SparkRunner", "SparkSource", "import_pyspark", "spark_type_class"]

SparkSource: TypeAlias = (
    "Frame | DataFrame | str | os.PathLike[str] | Sequence[str | os.PathLike[str]]"
)
"""What the Spark functions read: a frame, a DataFrame, or Parquet file paths (globs allowed)."""

_TYPES: Final[dict[str, TypeClass]] = {
    "StringType": "text",
    "VarcharType": "text",
    "CharType": "text",
    "DoubleType": "float",
    "FloatType": "float",
    "LongType": "integer",
    "IntegerType": "integer",
    "ShortType": "integer",
    "ByteType": "integer",
    "DecimalType": "decimal",
    "BooleanType": "bool",
    "TimestampType": "timestamp",
    "TimestampNTZType": "naive_timestamp",
    "DateType": "date",
}


def import_pyspark(feature: str) -> Any:
    """The ``pyspark.sql`` module, or [`MissingDependencyError`][crmcore.MissingDependencyError]."""
    try:
        import pyspark.sql
    except ImportError:
        raise MissingDependencyError("pyspark", "spark", feature) from None
    return pyspark.sql


def spark_type_class(data_type: object) -> TypeClass:
    """The type class of a Spark SQL data type."""
    name = type(data_type).__name__
    if name == "ArrayType":
        element = type(getattr(data_type, "elementType", None)).__name__
        return "text_list" if _TYPES.get(element) == "text" else "other"
    return _TYPES.get(name, "other")


def _file_key(path: str) -> str:
    """A file's name as ``_metadata.file_path`` spells it: ``file:/x`` where
    ``inputFiles()`` lists ``file:///x``."""
    return re.sub("^file:/+", "file:/", path)


def _plain(table: pa.Table) -> pa.Table:
    """``table`` with dictionary columns (and lists of them) decoded, for Spark."""
    pa = import_pyarrow("Spark input")
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_dictionary(kind):
            column = column.cast(kind.value_type)
        elif pa.types.is_large_list(kind) or pa.types.is_list(kind):
            column = column.cast(pa.list_(pa.string()))
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


class SparkRunner:
    """A [`Runner`][crmcore.engines._runner.Runner] over one ``SparkSession``."""

    def __init__(self, session: SparkSession | None, feature: str, *sources: object) -> None:
        sql = import_pyspark(feature)
        if session is None:
            owners = [getattr(s, "sparkSession", None) for s in sources]
            found = [s for s in owners if isinstance(s, sql.SparkSession)]
            session = found[0] if found else sql.SparkSession.getActiveSession()
        if not isinstance(session, sql.SparkSession):
            raise ValidationError(
                "session", type(session).__name__,
                "must be a SparkSession (none is active: pass session=... or start one)",
            )  # fmt: skip
        self.session: SparkSession = session
        self._made: list[str] = []

    def __enter__(self) -> SparkRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop every temporary view this runner made."""
        self.release(0, "")

    def mark(self) -> int:
        """A mark of what this runner has made so far."""
        return len(self._made)

    def release(self, mark: int, keep: str) -> None:
        """Drop the temporary views made since ``mark``, all but ``keep``."""
        for name in reversed(self._made[mark:]):
            if name != keep:
                self.session.catalog.dropTempView(name)
        self._made[mark:] = [name for name in self._made[mark:] if name == keep]

    def batches(self, rows: int) -> int:
        """One: Spark spreads a run over its executors and spills by itself."""
        return 1

    @property
    def dialect(self) -> Dialect:
        """Spark SQL."""
        return SPARK

    def fresh(self, prefix: str) -> str:
        """A new view name."""
        return f"crm_{prefix}_{uuid.uuid4().hex[:12]}"

    def view(self, name: str, sql: str) -> None:
        """A temporary view over ``sql``."""
        self.session.sql(sql).createOrReplaceTempView(name)
        self._made.append(name)

    def table(self, name: str, sql: str) -> None:
        """A temporary view over the materialised result of ``sql``."""
        self.session.sql(sql).localCheckpoint(eager=True).createOrReplaceTempView(name)
        self._made.append(name)

    def arrow_view(self, name: str, table: pa.Table) -> None:
        """A temporary view over an Arrow table sent to Spark."""
        self.session.createDataFrame(_plain(table)).createOrReplaceTempView(name)
        self._made.append(name)

    def fetch(self, sql: str) -> pa.Table:
        """The result of ``sql`` as an Arrow table."""
        return self.session.sql(sql).toArrow()

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The (few) rows of ``sql``, with ``params`` for its ``?`` placeholders."""
        frame = self.session.sql(sql, args=list(params)) if params else self.session.sql(sql)
        return [tuple(row) for row in frame.collect()]

    def lazy(self, sql: str, params: Sequence[object] = ()) -> DataFrame:
        """A DataFrame over ``sql``, not yet run."""
        return self.session.sql(sql, args=list(params)) if params else self.session.sql(sql)

    def columns(self, view: str) -> dict[str, tuple[TypeClass, str]]:
        """Each column of ``view``: its type class and Spark's name of its type."""
        schema = self.session.table(view).schema
        return {f.name: (spark_type_class(f.dataType), f.dataType.simpleString()) for f in schema}

    # -- inputs ---------------------------------------------------------------------------
    def raw(self, source: object, order: str | None, what: str) -> str:
        """A view of ``source``'s columns plus ``crm_row`` (see the module docs)."""
        view = self._raw(source, order, what)
        if order is not None:
            check_unique_rows(self, view, order)
        return view

    def _raw(self, source: object, order: str | None, what: str) -> str:
        sql = import_pyspark(what)
        functions = sql.functions
        name = self.fresh("raw")
        if isinstance(source, Frame):
            pa = import_pyarrow(what)
            table = to_arrow(source)
            if order is None:
                table = table.append_column(ROW, pa.array(np.arange(len(source), dtype=np.int64)))
            frame = self.session.createDataFrame(_plain(table))
        elif isinstance(source, sql.DataFrame):
            reserved({f.name: None for f in source.schema}, what)
            frame = source
            if order is None:
                frame = frame.withColumn(ROW, functions.monotonically_increasing_id())
        else:
            frame = self._files(source_paths(source, what), order, what)
        if order is not None:
            found = {f.name: (spark_type_class(f.dataType), "") for f in frame.schema}
            check_order(found, order)
            frame = frame.withColumn(ROW, functions.col(order).cast("bigint"))
        frame.createOrReplaceTempView(name)
        self._made.append(name)
        return name

    def _files(self, paths: list[str], order: str | None, what: str) -> DataFrame:
        """The rows of Parquet ``paths``, with ``crm_row`` unless ``order`` gives it."""
        functions = import_pyspark(what).functions
        frame = None
        files: list[tuple[str, str]] = []  # (name as Spark lists it, as _metadata spells it)
        for path in paths:
            where = path if is_url(path) else os.path.abspath(path)
            try:
                part = self.session.read.parquet(where)
            except Exception as error:  # Spark raises its own AnalysisException
                raise ValidationError(what, path, f"cannot be read as Parquet: {error}") from None
            reserved({f.name: None for f in part.schema}, what)
            files += sorted(((f, _file_key(f)) for f in part.inputFiles()), key=lambda f: f[1])
            if order is None:  # the file metadata exists only on the file scan itself
                part = part.withColumn("crm_file", functions.col("_metadata.file_path"))
                part = part.withColumn("crm_file_row", functions.col("_metadata.row_index"))
            frame = part if frame is None else frame.unionByName(part)
        assert frame is not None
        if order is not None:
            return frame
        names = {
            name: i for i, (listed, key) in enumerate(files) for name in (listed, key)
        }  # either spelling finds the file's index: no string work per row
        index = self.session.createDataFrame(
            list(names.items()), "crm_file string, crm_file_index bigint"
        )
        row = functions.shiftleft("crm_file_index", FILE_BITS) + functions.col("crm_file_row")
        return (
            frame.join(functions.broadcast(index), "crm_file")
            .withColumn(ROW, row.cast("bigint"))
            .drop("crm_file", "crm_file_index", "crm_file_row")
        )
