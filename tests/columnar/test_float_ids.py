"""Float-formatted ids (``17850.0``) read back as integers: the rule against a plain reference."""

from __future__ import annotations

import re
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.columnar import STRING_DTYPE
from crmcore.columnar._ids import normalize_float_ids
from crmcore.columnar.columns import Column
from crmcore.kernel.errors import ValidationError

FLOATY = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][+-]?\d+)\Z")
INTEGER = re.compile(r"[+-]?\d+\Z")


def whole(word: str) -> str | None:
    value = Decimal(word)
    return str(int(value)) if value.is_finite() and value == value.to_integral_value() else None


def reference(words: list[str]) -> list[str] | None:
    """The ids as the rule reads them, every word looked at; ``None``: refused (mixed)."""
    if not all(FLOATY.match(w) or INTEGER.match(w) for w in words):
        return words  # a text column: left alone
    floaty = [w for w in words if FLOATY.match(w)]
    if not any(whole(w) is not None for w in floaty):
        return words
    if any(whole(w) is None for w in floaty):
        return None
    return [w if INTEGER.match(w) else str(whole(w)) for w in words]


WORDS = st.lists(
    st.sampled_from(["17850", "17850.0", "17851.00", "1.785E+04", "17850.5", "C17", "x.y", "-3"]),
    min_size=1,
    max_size=12,
)


def encoded(words: list[str]) -> Column:
    vocabulary = list(dict.fromkeys(words))
    codes = np.array([vocabulary.index(w) for w in words], dtype=np.int64)
    return Column._new("string", codes, None, (), None, np.array(vocabulary, dtype=STRING_DTYPE))


@given(WORDS, st.booleans(), st.integers(0, 3))
def test_the_rule_looks_at_every_id_whichever_comes_first(
    words: list[str], vocab: bool, gaps: int
) -> None:
    """Every column, encoded or not, with missing ids first (the values a rule must skip)."""
    if vocab:
        column = encoded(words)
    else:
        values = np.array([""] * gaps + words, STRING_DTYPE)
        column = Column.from_numpy("string", values, missing=np.arange(len(values)) < gaps)
    expected = reference(words)
    if expected is None:
        with pytest.raises(ValidationError, match="not a whole number"):
            normalize_float_ids(column, "customer_id")
        return
    found = normalize_float_ids(column, "customer_id")
    assert found.values.tolist()[0 if vocab else gaps :] == expected
    assert found.missing.tolist() == column.missing.tolist()


def test_a_text_id_anywhere_keeps_the_column_as_written() -> None:
    words = ["17850.0", "17851.0", "C17"]  # the first two alone would be rewritten
    for column in (encoded(words), Column.from_numpy("string", np.array(words, STRING_DTYPE))):
        assert normalize_float_ids(column, "customer_id").values.tolist() == words
    assert normalize_float_ids(encoded(words[:2]), "c").values.tolist() == ["17850", "17851"]
