"""SQL building blocks shared by the DuckDB and Spark plans: what differs, and how to be exact.

The plans of [`crmcore.engines`][crmcore.engines] are written once as SQL text over a
[`Dialect`][crmcore.engines._dialect.Dialect], which spells the few things DuckDB and Spark SQL
say differently: integer division (``//`` vs ``div``; both truncate), the
positive remainder, half-to-even rounding (``round_even`` vs ``bround``),
microseconds of a timestamp (``epoch_us`` vs ``unix_micros``), identifiers
(``"x"`` vs ``` `x` ```) and array literals.

Exactness rules every plan follows, so that the engines compute the very
numbers numpy does:

* times are integer microseconds since the epoch from the start, and
  calendar periods come from *dates* (``DATE '1970-01-01'`` plus whole
  days), which have no time zone: the session's zone never enters;
* floor division of possibly negative integers is spelled out
  (``(a - pmod(a, b)) / b``, an exact quotient);
* doubles are written as ``CAST('<repr>' AS DOUBLE)``: the shortest
  round-trip text, parsed correctly by both engines (a bare ``0.1`` is a
  DECIMAL in DuckDB);
* a float expression keeps numpy's order of operations (no reassociation;
  neither engine reorders floating-point arithmetic).

No user text is ever spliced into these plans: numbers are formatted from
Python ``int``/``float``, names are generated, and strings a user chose
(event kinds, stage labels, customer ids) travel as rows of a small table
that the plan joins.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Final, Literal

import attrs

from crmcore.kernel.errors import ValidationError

__all__ = ["Dialect", "EngineName", "cte", "DUCKDB", "SPARK"]

EngineName = Literal["duckdb", "spark"]
"""The engines crmcore runs its analytics on."""

_EPOCH_DATE: Final = "DATE '1970-01-01'"


@attrs.frozen
class Dialect:
    """How one engine spells the building blocks of a plan (see the module docs)."""

    name: EngineName

    # -- names and literals ---------------------------------------------------------------
    def quote(self, name: str) -> str:
        """An identifier, quoted (the quote character doubled inside)."""
        if not isinstance(name, str) or not name or "\x00" in name:
            raise ValidationError("identifier", name, "must be a non-empty name without NUL")
        mark = "`" if self.name == "spark" else '"'
        return mark + name.replace(mark, mark * 2) + mark

    def double(self, value: float) -> str:
        """A DOUBLE literal with exactly the value of ``value``."""
        number = float(value)
        if not math.isfinite(number):
            raise ValidationError("value", value, "must be a finite number")
        return f"CAST('{number!r}' AS DOUBLE)"

    def integer(self, value: int) -> str:
        """A BIGINT literal."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("value", value, "must be an int")
        return f"CAST({value} AS BIGINT)"

    def int_array(self, values: Sequence[int]) -> str:
        """An array literal of BIGINTs."""
        items = ", ".join(self.integer(v) for v in values)
        return f"array({items})" if self.name == "spark" else f"list_value({items})"

    def array_at(self, values: Sequence[int], index: str) -> str:
        """Element ``index`` (0-based expression) of an array literal of ``values``."""
        array = self.int_array(values)
        if self.name == "spark":
            return f"element_at({array}, CAST({index} AS INT) + 1)"
        return f"list_extract({array}, ({index}) + 1)"

    def sorted_array(self, values: Sequence[str]) -> str:
        """An array of the expressions ``values``, ascending, NULLs last."""
        items = ", ".join(values)
        if self.name == "spark":
            return f"array_sort(array({items}))"
        return f"list_sort(list_value({items}), 'ASC', 'NULLS LAST')"

    def element(self, array: str, index: int) -> str:
        """Element ``index`` (0-based, within the array's length) of an array expression."""
        if self.name == "spark":
            return f"element_at({array}, {index + 1})"
        return f"list_extract({array}, {index + 1})"

    def bucket(self, value: str, buckets: int) -> str:
        """A bucket ``0 .. buckets - 1`` of ``value`` by its hash (equal values: equal buckets)."""
        if self.name == "spark":
            return f"pmod(xxhash64({value}), {buckets})"
        return f"(hash({value}) % {buckets})"

    def first_value(self, value: str) -> str:
        """The window function: the first non-NULL ``value`` of the frame."""
        if self.name == "spark":
            return f"first_value({value}, true)"
        return f"first_value({value} IGNORE NULLS)"

    def quantiles(self, value: str, levels: Sequence[float]) -> str:
        """The linearly interpolated quantiles of ``value`` (NULLs ignored), as an array."""
        items = ", ".join(self.double(level) for level in levels)
        if self.name == "spark":
            return f"percentile({value}, array({items}))"
        return f"quantile_cont({value}, list_value({items}))"

    # -- arithmetic --------------------------------------------------------------------------
    def idiv(self, a: str, b: str) -> str:
        """``a / b`` truncated: the floor quotient when both are >= 0."""
        return f"(({a}) div ({b}))" if self.name == "spark" else f"(({a}) // ({b}))"

    def pmod(self, a: str, b: str) -> str:
        """The remainder of ``a / b`` in ``[0, b)`` for ``b > 0``."""
        if self.name == "spark":
            return f"pmod({a}, {b})"
        return f"(((({a}) % ({b})) + ({b})) % ({b}))"

    def floordiv(self, a: str, b: str) -> str:
        """``floor(a / b)`` of integers for ``b > 0``, any sign of ``a`` (numpy's ``//``)."""
        return self.idiv(f"({a}) - {self.pmod(a, b)}", b)

    def round_even(self, x: str) -> str:
        """``x`` rounded to a whole number, halves to even (numpy's ``rint``), as a DOUBLE."""
        return f"bround({x}, 0)" if self.name == "spark" else f"round_even({x}, 0)"

    def to_double(self, x: str) -> str:
        """``x`` as a DOUBLE."""
        return f"CAST({x} AS DOUBLE)"

    def to_bigint(self, x: str) -> str:
        """``x`` as a BIGINT."""
        return f"CAST({x} AS BIGINT)"

    # -- time --------------------------------------------------------------------------------
    def micros(self, timestamp: str) -> str:
        """Microseconds since the epoch of a timestamp with time zone."""
        return f"unix_micros({timestamp})" if self.name == "spark" else f"epoch_us({timestamp})"

    def month_of_day(self, days: str) -> str:
        """The month index (months since January 1970) of a day number (days since 1970-01-01)."""
        if self.name == "spark":
            day = f"date_add({_EPOCH_DATE}, CAST({days} AS INT))"
        else:
            day = f"({_EPOCH_DATE} + CAST({days} AS INTEGER))"
        return f"((CAST(year({day}) AS BIGINT) - 1970) * 12 + CAST(month({day}) AS BIGINT) - 1)"

    def day_of_month(self, month: str) -> str:
        """The day number of the first day of a month index."""
        year = f"CAST(1970 + {self.floordiv(month, '12')} AS INT)"
        number = f"CAST({self.pmod(month, '12')} + 1 AS INT)"
        if self.name == "spark":
            return f"CAST(datediff(make_date({year}, {number}, 1), {_EPOCH_DATE}) AS BIGINT)"
        return f"CAST(make_date({year}, {number}, 1) - {_EPOCH_DATE} AS BIGINT)"


DUCKDB: Final = Dialect("duckdb")
"""DuckDB's SQL."""
SPARK: Final = Dialect("spark")
"""Spark SQL."""


def cte(steps: Iterable[tuple[str, str]], final: str) -> str:
    """One statement: ``WITH name AS (sql), ... final``."""
    parts = [f"{name} AS (\n{sql}\n)" for name, sql in steps]
    if not parts:
        return final
    return "WITH " + ",\n".join(parts) + "\n" + final
