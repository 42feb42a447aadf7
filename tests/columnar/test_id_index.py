"""The vectorised hash join of string ids (IdIndex) against a dict: NULs, long ids, ids that
are not ASCII, duplicates; and classify_log, churn and campaign results through it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.columnar import STRING_DTYPE, CustomerFrame, IdIndex, TransactionLog
from crmcore.columnar import id_index as module
from crmcore.columnar.id_index import rows_equal_to, same_ids
from crmcore.customers import Customer
from crmcore.kernel.errors import ValidationError
from crmcore.lifecycle import LifecycleState, classify_log, transitions


def by_dict(population: list[str], ids: list[str]) -> list[int]:
    index = {name: i for i, name in enumerate(population)}
    return [index.get(name, -1) for name in ids]


def strings(values: list[str]) -> np.ndarray:
    return np.array(values, dtype=STRING_DTYPE)


# ASCII ids that collide in fixed-width views unless handled: NULs (also trailing), empty ids,
# ids of 15, 16 and 17 bytes (the first width and one past it), long ids; and a few that are
# not ASCII (the dict path).
tricky = st.one_of(
    st.text(alphabet="ab\x00\x01 ", max_size=4),
    st.sampled_from(["", "a", "a\x00", "a\x00\x00", "\x00", "x" * 15, "x" * 16, "x" * 17]),
    st.text(alphabet="0123456789ABC-_.", min_size=1, max_size=70),
)
accented = st.sampled_from(["zoë", "a\x00ë", "ü" * 20])


@given(
    population=st.lists(tricky, unique=True, max_size=80),
    others=st.lists(st.one_of(tricky, accented), max_size=80),
    foreign=st.lists(accented, unique=True, max_size=2),
)
@settings(max_examples=300, deadline=None)
def test_rows_equal_a_dict_lookup(
    population: list[str], others: list[str], foreign: list[str]
) -> None:
    """Whatever the ids (ASCII or not, on either side; longer or shorter than the indexed
    ones), the rows are a dict's."""
    population = [p for p in population if p not in foreign] + foreign
    ids = others + population[::2]
    got = IdIndex(strings(population)).rows(strings(ids))
    assert got.dtype == np.int64
    assert got.tolist() == by_dict(population, ids)


@given(population=st.lists(st.one_of(tricky, accented), min_size=1, max_size=60, unique=True),
       repeat=st.data())  # fmt: skip
@settings(max_examples=150, deadline=None)
def test_a_repeated_id_is_named(population: list[str], repeat: st.DataObject) -> None:
    twin = repeat.draw(st.sampled_from(population))
    listed = [*population, twin]
    with pytest.raises(ValidationError, match="twice") as caught:
        IdIndex(strings(listed), "population")
    assert caught.value.field == "population"
    assert listed.count(caught.value.value) == 2


def test_ids_with_a_nul_where_a_width_ends_are_not_cut() -> None:
    """A NUL at the last byte of a trial width once made a cut id look whole (found by review)."""
    cut = "a\x01" + "\x00" * 14 + "z"  # byte 15 is NUL: a cast to 16 bytes would end there
    assert IdIndex(["a"]).rows([cut]).tolist() == [-1]
    assert IdIndex(["a", cut]).rows([cut, "a"]).tolist() == [1, 0]
    long = "k" * 15 + "\x00" + "k"
    assert IdIndex([long]).rows([long, "r" * 40]).tolist() == [0, -1]
    twins = ["a" * 15 + "\x00" + "bbb", "a" * 15 + "\x00" + "ccc"]
    assert IdIndex(twins).rows(twins[::-1]).tolist() == [1, 0]


@given(
    population=st.lists(st.text(alphabet="a\x00\x01", max_size=40), unique=True, max_size=40),
    others=st.lists(st.text(alphabet="a\x00\x01", max_size=70), max_size=40),
)
@settings(max_examples=300, deadline=None)
def test_rows_equal_a_dict_lookup_with_nuls_everywhere(
    population: list[str], others: list[str]
) -> None:
    ids = others + population[::3]
    assert IdIndex(population).rows(ids).tolist() == by_dict(population, ids)


def test_an_index_takes_str_ids_only() -> None:
    assert IdIndex(np.array(["a", "b"])).rows(np.array(["b"])).tolist() == [1]  # "U" arrays
    listed = IdIndex(["a", "b"])  # a list, a tuple or an object array of str
    assert listed.rows(("b", "c")).tolist() == [1, -1]
    assert listed.rows(np.array(["a"], dtype=object)).tolist() == [0]
    bad_values: list[object] = [
        np.array([1, 2]), np.array([["a"]], dtype=STRING_DTYPE), "ab", None, [1], ["a", None],
        np.array(["a", 3], dtype=object), ["\ud800"],
    ]  # fmt: skip
    for bad in bad_values:
        with pytest.raises(ValidationError):
            IdIndex(bad)  # type: ignore[arg-type]
        with pytest.raises(ValidationError):
            listed.rows(bad)  # type: ignore[arg-type]
    assert IdIndex(strings([])).rows(strings(["a"])).tolist() == [-1]
    assert IdIndex(strings(["a"])).rows(strings([])).tolist() == []
    index = IdIndex(strings(["a", "b"]))
    assert len(index) == 2 and index.ids.tolist() == ["a", "b"]
    assert not index.ids.flags.writeable


def test_a_million_ids_with_colliding_home_slots() -> None:
    rng = np.random.default_rng(11)
    population = strings([f"C{i:08d}" for i in range(300_000)])
    order = rng.permutation(len(population))[:200_000]
    ids = np.concatenate([population[order], strings(["nobody", "C1"])])
    got = IdIndex(population).rows(ids)
    assert np.array_equal(got[:-2], order) and got[-2:].tolist() == [-1, -1]
    # a tiny table (4 slots more than ids) makes most ids probe far: still exact
    words = module._words(population[:1000], 8)
    assert words is not None
    table, twin = module._insert(words, 11)
    assert twin == -1 and (table >= 0).sum() == 1000
    ended = np.concatenate([words, np.full((1, words.shape[1]), module._ABSENT)])
    found = module._look_up(table, ended, words, 11)
    assert np.array_equal(found, np.arange(1000))
    missing = module._words(strings([f"D{i:08d}" for i in range(500)]), 8)
    assert missing is not None
    assert (module._look_up(table, ended, missing, 11) == -1).all()


def test_a_log_and_a_frame_keep_their_index() -> None:
    log = TransactionLog.from_records(
        {"customer_id": c, "at": AS_OF, "amount": 1.0} for c in ["b", "a", "b"]
    )
    assert log.customer_index is log.customer_index
    assert log.customer_index.rows(strings(["a", "b", "c"])).tolist() == [1, 0, -1]
    frame = CustomerFrame.from_customers(
        Customer.register(name, name, AS_OF).value for name in ("x", "y")
    )
    assert frame.id_index is frame.id_index
    assert frame.index_of(["y", "x"]).tolist() == [1, 0]


@pytest.mark.parametrize(
    "population",
    [["a", "b", "a"], ["p", "a", "p"], ["zoë", "a", "zoë"], ["b", "a", "b"], ["b", "a", "a", "b"]],
    ids=["a customer", "a prospect", "not ascii", "the last row", "the first in list order"],
)
def test_classify_log_names_an_id_listed_twice(population: list[str]) -> None:
    log = TransactionLog.from_records(
        {"customer_id": c, "at": AS_OF - timedelta(days=1), "amount": 1.0} for c in ["a", "b"]
    )
    with pytest.raises(ValidationError, match="twice") as caught:
        classify_log(log, AS_OF, customers=population)
    assert caught.value.field == "customers"
    assert caught.value.value == population[0]


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


# -- numpy compares StringDType values of one length only up to a NUL: exact helpers ----------

NUL_IDS = ["x\x00y", "x\x00z", "x", "x\x00", "zoë\x00a", "zoë\x00b"]


def test_rows_equal_to_is_exact_past_a_nul() -> None:
    ids = strings(NUL_IDS)
    assert bool((strings(["x\x00y"]) == strings(["x\x00z"]))[0])  # the numpy behaviour
    for wanted in [*NUL_IDS, "x\x00q", "nobody"]:
        expected = [i for i, name in enumerate(NUL_IDS) if name == wanted]
        assert rows_equal_to(ids, wanted).tolist() == expected


@given(
    a=st.lists(st.text(alphabet="ab\x00ë", max_size=5), max_size=8), data=st.data()
)  # fmt: skip
@settings(max_examples=200, deadline=None)
def test_same_ids_is_list_equality(a: list[str], data: st.DataObject) -> None:
    same_length = st.lists(
        st.text(alphabet="ab\x00ë", max_size=5), min_size=len(a), max_size=len(a)
    )
    b = data.draw(st.one_of(st.just(list(a)), same_length))
    assert same_ids(strings(a), strings(b)) is (a == b)
    assert same_ids(strings(a), strings([*a, "c"])) is False


def test_lookups_and_diffs_tell_ids_apart_past_a_nul() -> None:
    log = TransactionLog.from_records(
        {"customer_id": c, "at": AS_OF - timedelta(days=d), "amount": 5.0}
        for c, d in [("x\x00y", 400), ("x\x00z", 3)]
    )
    batch = classify_log(log, AS_OF)
    assert batch.customer_ids.tolist() == ["x\x00y", "x\x00z"]
    assert batch.index_of("x\x00z") == 1
    swapped = classify_log(log, AS_OF, customers=["x\x00z", "x\x00y"])
    assert swapped.states.tolist() == batch.states.tolist()[::-1]
    with pytest.raises(ValidationError, match="same customers"):
        transitions(batch, swapped)


@given(
    population=st.lists(st.one_of(tricky, accented), unique=True, max_size=40),
    others=st.lists(st.one_of(tricky, accented), unique=True, max_size=40),
)
@settings(max_examples=200, deadline=None)
def test_rows_of_an_index_equal_rows_of_its_ids(population: list[str], others: list[str]) -> None:
    """Looking up another index reuses its bytes (any width, either side not ASCII)."""
    here, there = IdIndex(population), IdIndex(others)
    assert here.rows_of_index(there).tolist() == by_dict(population, others)
    assert here.rows_of_index(there).tolist() == here.rows(others).tolist()


def test_rows_of_index_takes_an_index_only() -> None:
    with pytest.raises(ValidationError):
        IdIndex(["a"]).rows_of_index(["a"])  # type: ignore[arg-type]


@pytest.mark.parametrize("names", [["c-2", "c-9", "c-1"], ["c-1" * 20, "c-1", "c-5" * 30]])
def test_classify_log_with_a_frame_equals_its_id_list(names: list[str]) -> None:
    """A frame's ids are looked up by its own index: the same rows as the list of its ids."""
    log = TransactionLog.from_records(
        {"customer_id": c, "at": AS_OF - timedelta(days=d), "amount": 10.0}
        for c, d in [("c-1", 3), ("c-2", 40), ("c-1", 90), ("c-3", 500), ("c-5" * 30, 9)]
    )
    frame = CustomerFrame.from_customers(
        Customer.register(name, name, AS_OF - timedelta(days=900)).value for name in names
    )
    by_frame = classify_log(log, AS_OF, customers=frame)
    by_list = classify_log(log, AS_OF, customers=names)
    assert by_frame.customer_ids.tolist() == names
    for name in FIELDS:
        mine, theirs = getattr(by_frame, name), getattr(by_list, name)
        assert np.array_equal(mine, theirs, equal_nan=mine.dtype.kind in "fM"), name
    assert (by_frame.purchases > 0).sum() == len(set(names) & {"c-1", "c-2", "c-5" * 30})
