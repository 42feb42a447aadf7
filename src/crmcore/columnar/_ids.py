"""Ids a spreadsheet turned into floats: ``17850.0`` reads back as ``17850``.

A column of whole-number ids with a few blanks becomes a float column in
Excel and in ``pandas.read_csv``, and is written back as ``17850.0``. When
*every* id of such a column is a whole number, `normalize_float_ids()` writes
them as integers again, so the same customer is the same id in every file. A
column of numbers where some are such floats and others are not whole numbers
(``17850.5``) is ambiguous and an error that names the rows. A column with any
id that is not a number is text, which spreadsheets leave alone, and so does
this. The work is done on the distinct
ids (the vocabulary of an encoded column), not on every row.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Final

import numpy as np

from crmcore.columnar._layout import STRING_DTYPE, narrowest_int
from crmcore.columnar._validation import row_error
from crmcore.columnar.columns import Column
from crmcore.kernel.arrays import AnyArray, Int64Array

__all__ = ["normalize_float_ids"]

_FLOATY: Final = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][+-]?\d+)\Z")
_INTEGER: Final = re.compile(r"[+-]?\d+\Z")


def _whole(word: str) -> str | None:
    """``word`` as an integer string when it is a float-formatted whole number."""
    try:
        value = Decimal(word)
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.to_integral_value():
        return None
    return str(int(value))


def _rewrite(words: list[str]) -> tuple[list[str], list[int]] | None:
    """The rewritten words and the positions of the ones that are not whole numbers.

    ``None`` when the column is not a spreadsheet's float column: no word is a
    float-formatted whole number, or some word is not a number at all (then it
    is a text column, which a spreadsheet leaves alone).
    """
    floaty = [w for w in words if _FLOATY.match(w)]
    if not floaty or not any(_whole(w) is not None for w in floaty):
        return None
    if len(floaty) + sum(1 for w in words if _INTEGER.match(w)) != len(words):
        return None
    out: list[str] = []
    bad: list[int] = []
    for i, word in enumerate(words):
        if _INTEGER.match(word):
            out.append(word)
            continue
        whole = _whole(word)
        if whole is None:
            bad.append(i)
            out.append(word)
        else:
            out.append(whole)
    return out, bad


def _mixed(codes: Int64Array, bad: list[int], words: list[str], name: str) -> Exception:
    rows = np.flatnonzero(np.isin(codes, np.array(bad, dtype=np.int64)))
    shown = ", ".join(str(r) for r in rows[:5].tolist())
    more = f" and {len(rows) - 5:,} more" if len(rows) > 5 else ""
    example = next(w for w in words if _FLOATY.match(w) and _whole(w) is not None)
    first = int(rows[0]) if len(rows) else 0
    value = words[bad[0]]
    return row_error(
        first, name, value,
        f"is not a whole number, while other ids in the column look like numbers a "
        f"spreadsheet wrote as floats ({example!r}); rows {shown}{more}: fix them, or pass "
        "float_ids=False to keep every id as written",
    )  # fmt: skip


def _maybe_floats(strings: AnyArray, sample: str) -> bool:
    """Whether any string could be a spreadsheet's float.

    ``sample`` is one of the strings: when it is not a number the column is text whatever the
    others hold (most id columns end here, at no cost); else one numpy pass looks for a decimal
    point, which spreadsheets and pandas write in every float (``17850.0``, ``1.785E+04``).
    """
    if not (_FLOATY.match(sample) or _INTEGER.match(sample)):
        return False
    return bool((np.strings.find(strings, ".") >= 0).any())


def normalize_float_ids(column: Column, name: str) -> Column:
    """``column`` with float-formatted whole-number ids written as integers (see module docs)."""
    if column.kind != "string":
        return column
    vocabulary = column.vocabulary
    if vocabulary is not None:
        if not len(vocabulary) or not _maybe_floats(vocabulary, str(vocabulary[0])):
            return column
        words: list[str] = vocabulary.tolist()
        found = _rewrite(words)
        if found is None:
            return column
        out, bad = found
        codes: Int64Array = column.codes
        if bad:
            raise _mixed(codes, bad, words, name)
        merged: dict[str, int] = {}
        lut = np.array([merged.setdefault(w, len(merged)) for w in out] + [-1], dtype=np.int64)
        new_codes = narrowest_int(lut[codes])
        mask = new_codes < 0
        return Column._new(
            "string", new_codes, mask if mask.any() else None, (), None,
            np.array(list(merged), dtype=STRING_DTYPE),
        )  # fmt: skip
    values: AnyArray = column.values
    missing = column.missing
    if missing.all() or not _maybe_floats(values, str(values[np.argmin(missing)])):
        return column
    distinct = sorted(set(values[~missing].tolist()))
    found = _rewrite(distinct)
    if found is None:
        return column
    out, bad = found
    position = np.searchsorted(np.array(distinct, dtype=STRING_DTYPE), values)
    position[missing] = -1
    if bad:
        raise _mixed(position.astype(np.int64), bad, distinct, name)
    table = np.array([*out, ""], dtype=STRING_DTYPE)
    return Column._new("string", table[position], missing if missing.any() else None)
