"""Coupon codes: distinct, deterministic, and every single-character typo is caught."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.kernel.errors import ValidationError
from crmcore.marketing.coupon_codes import (
    DEFAULT_ALPHABET,
    CodeFormat,
    check_character,
    generate_code_array,
    generate_codes,
    luhn_mod_n_valid,
)

even_alphabets = st.sampled_from(
    [DEFAULT_ALPHABET, "0123456789", "ABCDEF", "01", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
)


@settings(max_examples=40, deadline=None)
@given(even_alphabets, st.integers(1, 8), st.integers(0, 2000), st.integers(0, 10**6))
def test_codes_are_distinct_deterministic_and_valid(
    alphabet: str, length: int, count: int, seed: int
) -> None:
    fmt = CodeFormat(alphabet=alphabet, length=length)
    count = min(count, fmt.capacity)
    codes = generate_codes(fmt, count, seed=seed)
    assert len(set(codes)) == count
    assert codes == generate_codes(fmt, count, seed=seed)
    assert all(fmt.is_valid(code) for code in codes)


def test_a_whole_small_space_is_a_permutation_and_batches_continue_it() -> None:
    fmt = CodeFormat(alphabet="0123456789", length=3)
    everything = generate_codes(fmt, 1000, seed="s")
    assert len(set(everything)) == 1000
    assert generate_codes(fmt, 400, seed="s", start=600) == everything[600:]
    assert generate_codes(fmt, 10, seed="t") != everything[:10]
    with pytest.raises(ValidationError, match="count"):
        generate_codes(fmt, 1, seed="s", start=1000)


@settings(max_examples=60)
@given(even_alphabets, st.data())
def test_every_single_character_error_is_detected(alphabet: str, data: st.DataObject) -> None:
    body = data.draw(st.text(alphabet=alphabet, min_size=1, max_size=12))
    code = body + check_character(body, alphabet)
    assert luhn_mod_n_valid(code, alphabet)
    for position in range(len(code)):
        for wrong in alphabet:
            if wrong != code[position]:
                typo = code[:position] + wrong + code[position + 1 :]
                assert not luhn_mod_n_valid(typo, alphabet)


def test_the_classic_luhn_example_and_the_printed_form() -> None:
    assert check_character("7992739871", "0123456789") == "3"
    fmt = CodeFormat(length=8, prefix="spring", group=4)
    (code,) = generate_codes(fmt, 1, seed=1)
    assert code.startswith("SPRING-") and code.count("-") == 3
    assert fmt.is_valid(code.lower()) and fmt.is_valid(code.replace("-", ""))
    assert not fmt.is_valid(code[7:])  # without the prefix
    assert len(generate_code_array(fmt, 5, seed=1)[0]) == 9


@pytest.mark.parametrize(
    ("alphabet", "reason"),
    [("ABCA", "repeats"), ("ABC", "even"), ("AB-D", "ASCII"), ("aA", "repeats"), ("", "even")],
)
def test_bad_alphabets_are_refused(alphabet: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason) as error:
        CodeFormat(alphabet=alphabet)
    assert error.value.field == "alphabet"


def test_formats_past_the_capacity_are_refused() -> None:
    with pytest.raises(ValidationError, match="length"):
        CodeFormat(length=13)  # 32^13 = 2^65
    assert CodeFormat(length=12).capacity == 2**60


def test_a_large_batch_is_vectorised_and_distinct() -> None:
    codes = generate_code_array(CodeFormat(length=6), 50_000, seed="bulk")
    assert len(np.unique(codes)) == 50_000
