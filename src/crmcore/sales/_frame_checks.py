"""The checks of an opportunity frame built from arrays.

See [`from_arrays()`][crmcore.sales.opportunity_frame.OpportunityFrame.from_arrays].

Every check is vectorised (a handful of passes over each column) and names the column and the
first offending row, so a million-row import that is wrong says where.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Final, TypedDict

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.columnar import STRING_DTYPE
from crmcore.columnar.arguments import int_column, text_column
from crmcore.kernel.arrays import AnyArray, BoolArray, Int8Array, Int16Array, Int64Array, read_only
from crmcore.kernel.clock import DAY_US, ensure_date, to_micros
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.money import currency_code
from crmcore.kernel.validators import items_of
from crmcore.sales._exact import PROBABILITY_DIGITS, PROBABILITY_SCALE
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.pipeline import Pipeline
from crmcore.sales.pipeline_machine import PipelineMove

__all__ = [
    "MOVE_CODES",
    "CheckedColumns",
    "FrameColumns",
    "checked_columns",
    "day_number",
    "opportunity_columns",
]

MOVE_CODES: Final = {m: i for i, m in enumerate(PipelineMove)}
"""The integer code of each kind of stage move in a frame's move log (declaration order)."""
_EPOCH_DAY: Final = date(1970, 1, 1)


@attrs.frozen(eq=False)
class CheckedColumns:
    """The columns of a frame after the checks, read-only."""

    ids: AnyArray
    stage: Int16Array
    created: Int64Array
    amount: Int64Array
    currency: Int8Array
    currencies: tuple[str, ...]
    close_day: Int64Array
    probability: Int64Array
    labels: dict[str, tuple[Int64Array, tuple[str, ...]]]
    moves: tuple[Int64Array, Int64Array, Int16Array, Int16Array, Int8Array]
    amount_revisions: tuple[Int64Array, Int64Array, Int64Array, Int64Array]
    close_date_revisions: tuple[Int64Array, Int64Array, Int64Array, Int64Array]


def _fail(field: str, bad: BoolArray, values: AnyArray, reason: str) -> None:
    if bad.any():
        i = int(np.argmax(bad))
        raise ValidationError(f"{field}[{i}]", values[i].item() if values.ndim else values, reason)


def _column(value: npt.ArrayLike, dtype: npt.DTypeLike, field: str, n: int | None) -> AnyArray:
    kind = np.dtype(dtype)
    out: AnyArray
    if kind == STRING_DTYPE:
        found = text_column(value, field, what="ids")
        out = found.copy() if found is value else found
    else:
        whole = int_column(value, field, what=f"{kind} values")
        info = np.iinfo(kind)
        if kind != np.int64 and len(whole):
            bad = (whole < info.min) | (whole > info.max)
            _fail(field, bad, whole, f"must lie in {info.min}..{info.max}")
        # Never the caller's own array: the column is frozen and kept.
        out = whole.astype(kind, copy=whole is value)
    if n is not None and len(out) != n:
        raise ValidationError(field, out.shape, f"must be one value per row ({n})")
    return read_only(out)


def _in_range(field: str, values: AnyArray, low: int, high: int) -> None:
    if len(values):
        _fail(field, (values < low) | (values >= high), values, f"must lie in {low}..{high - 1}")


def _sorted_log(field: str, rows: Int64Array, at: Int64Array, n: int) -> None:
    _in_range(f"{field}.row", rows, 0, n)
    if len(rows) > 1:
        ok = (rows[1:] > rows[:-1]) | ((rows[1:] == rows[:-1]) & (at[1:] >= at[:-1]))
        bad = np.concatenate([[False], ~ok])
        _fail(f"{field}.at", bad, at, "the log must be sorted by (row, at)")


def _chained(
    field: str,
    rows: Int64Array,
    old: AnyArray,
    new: AnyArray,
    current: AnyArray,
    names: tuple[str, str] = ("old", "new"),
) -> None:
    """Each entry starts where the previous entry of its row ended; the last ends at ``current``."""
    if not len(rows):
        return
    same = rows[1:] == rows[:-1]
    bad = np.concatenate([[False], same & (old[1:] != new[:-1])])
    _fail(f"{field}.{names[0]}", bad, old, f"must equal the previous entry's {names[1]}")
    last = np.concatenate([~same, [True]])
    bad = np.zeros(len(rows), dtype=bool)
    bad[last] = new[last] != current[rows[last]]
    _fail(f"{field}.{names[1]}", bad, new, "the last entry must end at the row's current value")


def _log(
    field: str, columns: Sequence[npt.ArrayLike], width: int, n: int, created: Int64Array
) -> list[AnyArray]:
    columns = items_of(columns, field, "columns")
    if len(columns) != width:
        raise ValidationError(field, len(columns), f"must be {width} columns")
    rows = _column(columns[0], np.int64, f"{field}.row", None)
    out = [rows] + [
        _column(c, np.int64, f"{field}[{k}]", len(rows)) for k, c in enumerate(columns[1:], 1)
    ]
    _sorted_log(field, rows, out[1], n)
    if len(rows):
        _fail(
            f"{field}.at", out[1] < created[rows], out[1], "must not be before the row's creation"
        )
    return out


def checked_columns(
    pipeline: Pipeline,
    *,
    ids: npt.ArrayLike,
    stage: npt.ArrayLike,
    created: npt.ArrayLike,
    amount: npt.ArrayLike,
    close_day: npt.ArrayLike,
    currencies: Sequence[str],
    currency: npt.ArrayLike | None,
    probability: npt.ArrayLike | None,
    labels: Mapping[str, tuple[npt.ArrayLike | None, Sequence[str]]],
    moves: Sequence[npt.ArrayLike],
    amount_revisions: Sequence[npt.ArrayLike],
    close_date_revisions: Sequence[npt.ArrayLike],
) -> CheckedColumns:
    """The columns, checked (see the frame's ``from_arrays``)."""
    if not isinstance(pipeline, Pipeline):
        raise ValidationError("pipeline", pipeline, "must be a Pipeline")
    ids_column = _column(ids, STRING_DTYPE, "ids", None)
    n = len(ids_column)
    if n > 1 and len(np.unique(ids_column)) != n:
        raise ValidationError("ids", n, "must be unique")
    stages = _column(stage, np.int16, "stage", n)
    _in_range("stage", stages, 0, len(pipeline.stages))
    born = _column(created, np.int64, "created", n)
    amounts = _column(amount, np.int64, "amount", n)
    if n:
        _fail("amount", amounts < 0, amounts, "must not be negative")
    codes = tuple(
        currency_code(c, "currencies") for c in items_of(currencies, "currencies", "currencies")
    )
    if not codes:
        raise ValidationError("currencies", currencies, "must name at least one currency")
    money = _column(np.zeros(n) if currency is None else currency, np.int8, "currency", n)
    _in_range("currency", money, 0, len(codes))
    days = _column(close_day, np.int64, "close_day", n)
    if n:
        _fail("close_day", days < born // DAY_US, days, "must not be before the row's creation")
    chances = _column(
        np.full(n, -1) if probability is None else probability, np.int64, "probability", n
    )
    if n:
        _fail(
            "probability",
            (chances < -1) | (chances > PROBABILITY_SCALE),
            chances,
            "must be -1 (none) or millionths in 0..1,000,000",
        )
    coded: dict[str, tuple[Int64Array, tuple[str, ...]]] = {}
    for name, (values, vocabulary) in labels.items():
        words = tuple(str(v) for v in items_of(vocabulary, f"{name}s", "labels"))
        column = _column(np.full(n, -1) if values is None else values, np.int64, name, n)
        _in_range(name, column, -1, len(words))
        coded[name] = (column, words)
    m = _log("moves", moves, 5, n, born)
    size = len(pipeline.stages)
    for k, part in ((2, "moves.from_code"), (3, "moves.to_code")):
        _in_range(part, m[k], 0, size)
    _in_range("moves.move", m[4], 0, len(MOVE_CODES))
    _chained("moves", m[0], m[2], m[3], stages, ("from_code", "to_code"))
    if len(m[0]):
        table = _move_table(pipeline)
        kind = table[m[2], m[3]]
        _fail("moves.move", kind != m[4], m[4], "is not the pipeline's move between the stages")
    a = _log("amount_revisions", amount_revisions, 4, n, born)
    if len(a[0]):
        _fail("amount_revisions.new", (a[2] < 0) | (a[3] < 0), a[3], "must not be negative")
    _chained("amount_revisions", a[0], a[2], a[3], amounts)
    d = _log("close_date_revisions", close_date_revisions, 4, n, born)
    if len(d[0]):
        day0 = born[d[0]] // DAY_US
        _fail(
            "close_date_revisions.new",
            (d[2] < day0) | (d[3] < day0),
            d[3],
            "must not be before the row's creation",
        )
    _chained("close_date_revisions", d[0], d[2], d[3], days)
    return CheckedColumns(
        ids=ids_column,
        stage=stages,
        created=born,
        amount=amounts,
        currency=money,
        currencies=codes,
        close_day=days,
        probability=chances,
        labels=coded,
        moves=(
            m[0],
            m[1],
            read_only(m[2].astype(np.int16)),
            read_only(m[3].astype(np.int16)),
            read_only(m[4].astype(np.int8)),
        ),
        amount_revisions=(a[0], a[1], a[2], a[3]),
        close_date_revisions=(d[0], d[1], d[2], d[3]),
    )


def _move_table(pipeline: Pipeline) -> Int64Array:
    """``table[from, to]``: the move code of the pipeline's row between two stages, -1 if none."""
    machine = pipeline.machine
    size = len(pipeline.stages)
    table = np.full((size, size), -1, dtype=np.int64)
    for row in machine.transitions:
        table[machine.state_code(row.source), machine.state_code(row.target)] = MOVE_CODES[row.move]
    return table


def day_number(day: date) -> int:
    """Days since 1970-01-01 (the integer form of a close date).

    Raises:
        ValidationError: ``day`` is not a date (a datetime included).
    """
    return _days(ensure_date(day, "day"))


def _days(day: date) -> int:
    # The per-row form: the dates of checked opportunities are dates already.
    return (day - _EPOCH_DAY).days


def _minor(amount: object, digits: int) -> int:
    value = amount.scaleb(digits)  # type: ignore[attr-defined]
    if value != value.to_integral_value():
        raise ValidationError("amount", amount, "must be a whole number of minor units")
    return int(value)


def _codes(values: Iterable[str | None]) -> tuple[Int64Array, tuple[str, ...]]:
    """Codes into a vocabulary in order of first appearance (-1 for ``None``)."""
    vocabulary: dict[str, int] = {}
    codes = [-1 if v is None else vocabulary.setdefault(v, len(vocabulary)) for v in values]
    return read_only(np.array(codes, dtype=np.int64)), tuple(vocabulary)


class FrameColumns(TypedDict):
    """The columns of opportunities, as ``from_arrays`` takes them."""

    ids: list[str]
    stage: list[int]
    created: list[int]
    amount: list[int]
    currency: list[int]
    currencies: tuple[str, ...]
    close_day: list[int]
    probability: list[int]
    owner: Int64Array
    owners: tuple[str, ...]
    source: Int64Array
    sources: tuple[str, ...]
    segment: Int64Array
    segments: tuple[str, ...]
    account: Int64Array
    accounts: tuple[str, ...]
    moves: list[tuple[int, ...]]
    amount_revisions: list[tuple[int, ...]]
    close_date_revisions: list[tuple[int, ...]]


def opportunity_columns(items: list[Opportunity], pipeline: Pipeline) -> FrameColumns:
    """The columns of opportunities (all of ``pipeline``), as ``from_arrays`` takes them."""
    order = pipeline.order
    moves: list[tuple[int, int, int, int, int]] = []
    amounts: list[tuple[int, int, int, int]] = []
    dates: list[tuple[int, int, int, int]] = []
    currencies: dict[str, int] = {}
    for row, o in enumerate(items):
        digits = o.amount.minor_units
        currencies.setdefault(o.amount.currency, len(currencies))
        for c in o.stage_history:
            moves.append(
                (row, to_micros(c.at), order(c.from_state), order(c.to_state), MOVE_CODES[c.move])
            )
        for a in o.amount_history:
            old, new = _minor(a.old.amount, digits), _minor(a.new.amount, digits)
            amounts.append((row, to_micros(a.at), old, new))
        for d in o.close_date_history:
            dates.append((row, to_micros(d.at), _days(d.old), _days(d.new)))
    owner, owners = _codes(o.owner for o in items)
    source, sources = _codes(o.source for o in items)
    segment, segments = _codes(o.segment for o in items)
    account, accounts = _codes(o.account_id for o in items)
    return {
        "ids": [o.id for o in items],
        "stage": [order(o.stage) for o in items],
        "created": [to_micros(o.created_at) for o in items],
        "amount": [_minor(o.amount.amount, o.amount.minor_units) for o in items],
        "currency": [currencies[o.amount.currency] for o in items],
        "currencies": tuple(currencies) or ("EUR",),
        "close_day": [_days(o.close_date) for o in items],
        "probability": [
            -1 if o.probability is None else int(o.probability.scaleb(PROBABILITY_DIGITS))
            for o in items
        ],
        "owner": owner,
        "owners": owners,
        "source": source,
        "sources": sources,
        "segment": segment,
        "segments": segments,
        "account": account,
        "accounts": accounts,
        "moves": list(zip(*moves, strict=True)) if moves else [()] * 5,
        "amount_revisions": list(zip(*amounts, strict=True)) if amounts else [()] * 4,
        "close_date_revisions": list(zip(*dates, strict=True)) if dates else [()] * 4,
    }
