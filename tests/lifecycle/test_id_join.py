"""The vectorised hash join of string ids against a dict, with NULs, long ids and duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.columnar import STRING_DTYPE, TransactionLog
from crmcore.kernel.errors import ValidationError
from crmcore.lifecycle import LifecycleState, _id_join, classify_log
from crmcore.lifecycle._id_join import positions


def by_dict(population: list[str], ids: list[str]) -> list[int]:
    index = {name: i for i, name in enumerate(population)}
    return [index.get(name, -1) for name in ids]


# ASCII ids that collide in fixed-width views unless handled: NULs (also trailing), empty ids,
# ids of 15, 16 and 17 bytes (the first width and one past it), long ids.
tricky = st.one_of(
    st.text(alphabet="ab\x00\x01 ", max_size=4),
    st.sampled_from(["", "a", "a\x00", "a\x00\x00", "\x00", "x" * 15, "x" * 16, "x" * 17]),
    st.text(alphabet="0123456789ABC-_.", min_size=1, max_size=70),
)


@given(population=st.lists(tricky, unique=True, max_size=80), others=st.lists(tricky, max_size=80))
@settings(max_examples=300, deadline=None)
def test_positions_equal_a_dict_lookup(population: list[str], others: list[str]) -> None:
    ids = others + population[::2]
    got = positions(np.array(population, dtype=STRING_DTYPE), np.array(ids, dtype=STRING_DTYPE))
    assert got is not None
    assert got.tolist() == by_dict(population, ids)


@given(population=st.lists(tricky, min_size=1, max_size=60, unique=True), repeat=st.data())
@settings(max_examples=150, deadline=None)
def test_a_repeated_id_is_found(population: list[str], repeat: st.DataObject) -> None:
    twin = repeat.draw(st.sampled_from(population))
    listed = [*population, twin]
    with pytest.raises(ValidationError, match="twice") as caught:
        positions(np.array(listed, dtype=STRING_DTYPE), np.array(["z"], dtype=STRING_DTYPE))
    assert caught.value.field == "population"
    assert listed.count(caught.value.value) == 2


def test_ids_that_are_not_ascii_are_left_to_the_caller() -> None:
    known = np.array(["anna", "zoë"], dtype=STRING_DTYPE)
    assert positions(known, np.array(["anna"], dtype=STRING_DTYPE)) is None
    assert positions(np.array(["anna"], dtype=STRING_DTYPE), known) is None


def test_a_million_ids_with_colliding_home_slots() -> None:
    rng = np.random.default_rng(11)
    population = np.array([f"C{i:08d}" for i in range(300_000)], dtype=STRING_DTYPE)
    order = rng.permutation(len(population))[:200_000]
    ids = np.concatenate([population[order], np.array(["nobody", "C1"], dtype=STRING_DTYPE)])
    got = positions(population, ids)
    assert got is not None
    assert np.array_equal(got[:-2], order) and got[-2:].tolist() == [-1, -1]
    # a tiny table (4 slots more than ids) makes most ids probe far: still exact
    raw = _id_join._ascii(population[:1000], 16)
    assert raw is not None
    table, twin = _id_join._insert(raw, 11)
    assert twin == -1 and (table >= 0).sum() == 1000
    assert np.array_equal(_id_join._look_up(table, raw, raw, 11), np.arange(1000))


# -- classify_log through the join -----------------------------------------------------------

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
FIELDS = (
    "states", "risk_scores", "reason_bits", "purchases", "spend_total", "spend_current",
    "spend_previous", "frequency_current", "frequency_previous", "first_purchase_at",
    "last_purchase_at", "recency_days", "usual_gap_days",
)  # fmt: skip
ASCII_IDS = ["a", "a\x00", "\x00", "b", "x" * 17, "c1", ""]


@given(
    rows=st.lists(
        st.tuples(st.sampled_from(ASCII_IDS), st.integers(0, 800), st.integers(-5, 90)),
        min_size=1,
        max_size=40,
    ),
    extra=st.lists(st.sampled_from(["p", "p\x00", "a\x00\x00", "y" * 30]), unique=True),
    accents=st.booleans(),
    data=st.data(),
)
@settings(max_examples=100, deadline=None)
def test_classify_log_with_a_population_equals_the_plain_call(
    rows: list[tuple[str, int, int]], extra: list[str], accents: bool, data: st.DataObject
) -> None:
    """Whichever way the ids are matched (the hash join, or a dict when an id is not ASCII),
    each listed customer's row is the plain call's, and the others are prospects."""
    if accents:  # a customer id that is not ASCII: the dict path
        rows = [*rows, ("zoë", 3, 10)]
    log = TransactionLog.from_records(
        {"customer_id": c, "at": AS_OF - timedelta(days=d), "amount": float(a)} for c, d, a in rows
    )
    plain = classify_log(log, AS_OF)
    index = {c: i for i, c in enumerate(plain.customer_ids.tolist())}
    chosen = data.draw(st.lists(st.sampled_from(list(index)), unique=True))
    population = data.draw(st.permutations([*chosen, *extra]))
    listed = classify_log(log, AS_OF, customers=population)
    assert listed.customer_ids.tolist() == population
    known = [i for i, c in enumerate(population) if c in index]
    others = [i for i, c in enumerate(population) if c not in index]
    rows = [index[population[i]] for i in known]
    prospects = classify_log(log.take(np.arange(0)), AS_OF, customers=["nobody"])
    for name in FIELDS:
        mine, theirs = getattr(listed, name), getattr(plain, name)
        assert np.array_equal(mine[known], theirs[rows], equal_nan=mine.dtype.kind in "fM"), name
        blank = getattr(prospects, name)[[0] * len(others)]
        assert np.array_equal(mine[others], blank, equal_nan=mine.dtype.kind in "fM"), name
    assert (listed.states[others] == LifecycleState.PROSPECT.code).all()
