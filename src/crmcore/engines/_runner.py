"""What every engine offers the plans, and the checks every input goes through.

A [`Runner`][crmcore.engines._runner.Runner] is one engine seen by the plans: its
[`Dialect`][crmcore.engines._dialect.Dialect], fresh view names, views over SQL text or Arrow
tables, and queries fetched as Arrow tables or rows. The DuckDB and Spark modules implement it;
the analytics are written once against it.

Inputs reach the plans as *raw views*: the user's columns plus ``crm_row``,
the row's position in log order. [`check_columns()`][crmcore.engines._runner.check_columns] holds
them to what a plan needs, by the class of each column's type, so every engine refuses the same
input with the same [`ValidationError`][crmcore.kernel.errors.ValidationError]:
a missing column, a naive timestamp, an amount held as text.
[`events_sql()`][crmcore.engines._runner.events_sql] then gives the canonical events the funnel
reads, times as integer microseconds; transaction logs are read by the purchase-occasions rule
([`crmcore.engines._occasions_sql`][crmcore.engines._occasions_sql]).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

import attrs
import numpy as np

from crmcore.engines._dialect import Dialect
from crmcore.kernel.arrays import AnyArray, read_only
from crmcore.kernel.errors import ValidationError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "EVENT_COLUMNS",
    "NUMBERS",
    "ROW",
    "ColumnNeed",
    "Runner",
    "TypeClass",
    "check_columns",
    "check_order",
    "check_unique_rows",
    "events",
    "events_sql",
    "fetched",
    "reserved",
    "text_type",
]

ROW: Final = "crm_row"
"""The raw views' column of log order (0-based position; files: file by file)."""

TypeClass = Literal[
    "text", "float", "integer", "decimal", "bool", "timestamp", "naive_timestamp", "date",
    "text_list", "other",
]  # fmt: skip
"""What a column's type is, as far as the plans care (each engine maps its types to these)."""

NUMBERS: Final[tuple[TypeClass, ...]] = ("float", "integer", "decimal")
"""The type classes a number column may have."""


class Runner(Protocol):
    """One engine, as the plans use it."""

    @property
    def dialect(self) -> Dialect:
        """How this engine spells SQL."""
        ...

    def fresh(self, prefix: str) -> str:
        """A new view name, unique in this session."""
        ...

    def view(self, name: str, sql: str) -> None:
        """Define view ``name`` as the query ``sql`` (lazy)."""
        ...

    def table(self, name: str, sql: str) -> None:
        """Compute ``sql`` now and keep the result under ``name`` (for results read often)."""
        ...

    def arrow_view(self, name: str, table: pa.Table) -> None:
        """Define view ``name`` over an Arrow table."""
        ...

    def mark(self) -> int:
        """A mark of what this runner has made so far (for ``release``)."""
        ...

    def release(self, mark: int, keep: str) -> None:
        """Drop the views and tables made since ``mark``, all but ``keep``, newest first."""
        ...

    def batches(self, rows: int) -> int:
        """How many batches of customers to run ``rows`` event rows in (memory per batch)."""
        ...

    def fetch(self, sql: str) -> pa.Table:
        """Run ``sql`` and fetch the result as an Arrow table."""
        ...

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run ``sql`` (``params`` for its ``?`` placeholders) and fetch the few rows as tuples."""
        ...

    def columns(self, view: str) -> dict[str, tuple[TypeClass, str]]:
        """Each column of ``view``: its type class and the engine's name of its type."""
        ...


@attrs.frozen
class ColumnNeed:
    """A column a plan reads: its name, the type classes it accepts, and whether it must exist."""

    name: str
    accepts: tuple[TypeClass, ...]
    required: bool = True
    meaning: str = ""


EVENT_COLUMNS: Final = (
    ColumnNeed("customer_id", ("text",), meaning="a text column of customer ids"),
    ColumnNeed("at", ("timestamp",), meaning="a timestamp with time zone (an instant)"),
    ColumnNeed("kind", ("text",), meaning="a text column of event kinds"),
    ColumnNeed("stage", ("text",), required=False, meaning="a text column of stage labels"),
)
"""What the funnel plans read (the [`EventLog`][crmcore.columnar.EventLog] names)."""


def check_columns(
    found: Mapping[str, tuple[TypeClass, str]], needs: Sequence[ColumnNeed], what: str
) -> None:
    """Raise a [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the first column
    that is missing or of the wrong type.

    ``found`` maps each column of the input to its type class and the
    engine's own name of its type (quoted in the error).
    """
    for need in needs:
        if need.name not in found:
            if need.required:
                names = ", ".join(sorted(found)) or "none"
                raise ValidationError(
                    need.name, None, f"is a required column of {what}, missing (columns: {names})"
                )
            continue
        kind, spelled = found[need.name]
        if kind in need.accepts:
            continue
        if kind == "naive_timestamp":
            reason = (
                "is a timestamp without time zone: which instant is 09:00? Store instants as "
                "TIMESTAMP WITH TIME ZONE (DuckDB TIMESTAMPTZ, Spark TimestampType, Parquet "
                "isAdjustedToUTC=true)"
            )
        elif kind == "text" and need.accepts == NUMBERS:
            reason = "holds text, not numbers; cast it to DOUBLE (or DECIMAL) first"
        else:
            reason = f"must be {need.meaning}"
        raise ValidationError(need.name, spelled, reason)


def text_type(d: Dialect) -> str:
    """The engine's name of the text type."""
    return "STRING" if d.name == "spark" else "VARCHAR"


def events_sql(d: Dialect, raw: str, found: Mapping[str, object]) -> str:
    """The canonical events: ``customer_id, at_us, kind, stage, crm_row``."""
    text = text_type(d)
    q = d.quote
    stage = f"CAST({q('stage')} AS {text})" if "stage" in found else f"CAST(NULL AS {text})"
    return (
        f"SELECT CAST({q('customer_id')} AS {text}) AS customer_id, {d.micros(q('at'))} AS at_us, "
        f"CAST({q('kind')} AS {text}) AS kind, {stage} AS stage, {ROW} FROM {raw}"
    )


def fetched(result: pa.Table, name: str, dtype: object) -> AnyArray:
    """A fetched column as a read-only numpy array of ``dtype`` (nulls must be filled before)."""
    values = result.column(name).to_numpy(zero_copy_only=False)
    return read_only(np.array(values, dtype=dtype))  # type: ignore[call-overload]


def events(runner: Runner, raw: str, what: str = "log") -> str:
    """The canonical events view of a raw view, after the column checks (the funnel checks the
    nulls, in the same pass as its step kinds)."""
    found = runner.columns(raw)
    check_columns(found, EVENT_COLUMNS, what)
    view = runner.fresh("ev")
    runner.view(view, events_sql(runner.dialect, raw, found))
    return view


def reserved(columns: Mapping[str, object], what: str) -> None:
    """Raise if an input already has a column named like crmcore's own ``crm_row``."""
    if ROW in columns:
        raise ValidationError(
            ROW, None, f"is a name crmcore reserves; rename that column of {what}"
        )


def check_unique_rows(runner: Runner, view: str, order: str) -> None:
    """Raise unless the ``order`` column gave every row its own position."""
    row = runner.rows(f"SELECT count(*) - count(DISTINCT {ROW}), count({ROW}) FROM {view}")[0]
    if row[0]:
        raise ValidationError("order", order, "must hold a different position for every row")


def check_order(columns: Mapping[str, tuple[TypeClass, str]], order: object) -> None:
    """Raise unless ``order`` names an integer column of the input."""
    if not isinstance(order, str) or order not in columns:
        raise ValidationError("order", order, f"is not a column ({', '.join(columns)})")
    if columns[order][0] != "integer":
        raise ValidationError("order", order, "must be an integer column (each row's position)")
