"""The batch classifier and the batch transition diff: examples, reports, bad input."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from crmcore.columnar import CustomerFrame, TransactionLog
from crmcore.customers.customer import Customer
from crmcore.kernel.errors import (
    CurrencyMismatchError,
    IllegalTransitionError,
    NotFoundError,
    ValidationError,
)
from crmcore.lifecycle import (
    BatchClassification,
    LifecyclePolicy,
    LifecycleState,
    Reason,
    TransitionKind,
    classify,
    classify_log,
    reasons_from_bits,
    transitions,
)

from .helpers import T0

S = LifecycleState
DAY = timedelta(days=1)

HISTORIES: dict[str, list[tuple[datetime, float]]] = {
    "new": [(T0 - 10 * DAY, 20.0)],
    "one-timer": [(T0 - 120 * DAY, 20.0)],
    "monthly": [(T0 - (5 + 30 * k) * DAY, 30.0) for k in range(12)],
    "fading": [(T0 - (100 + 10 * k) * DAY, 30.0) for k in range(8)] + [(T0 - 60 * DAY, 30.0)],
    "growing": [(T0 - d * DAY, 15.0) for d in (300, 150, 100, 60, 40, 20, 5)],
    "lapsed": [(T0 - 400 * DAY, 10.0), (T0 - 380 * DAY, 10.0)],
    "later": [(T0 + 3 * DAY, 10.0)],
}


def make_log(histories: dict[str, list[tuple[datetime, float]]]) -> TransactionLog:
    return TransactionLog.from_records(
        {"customer_id": cid, "at": at, "amount": amount}
        for cid, rows in histories.items()
        for at, amount in rows
    )


def test_batch_matches_the_per_customer_classifier() -> None:
    batch = classify_log(make_log(HISTORIES), T0)
    assert batch.customer_ids.tolist() == list(HISTORIES)
    for cid, rows in HISTORIES.items():
        assert batch.classification(cid) == classify(cid, rows, T0)
    assert [s.value for s in batch.state_list()] == [
        "new", "decline", "mature", "decline", "growth", "churned", "prospect",
    ]  # fmt: skip
    assert batch.state_of("fading") is S.DECLINE and batch.state_of(-1) is S.PROSPECT


def test_a_customer_list_sets_the_rows_adds_prospects_and_drops_the_rest() -> None:
    batch = classify_log(make_log(HISTORIES), T0, customers=["nobody", "monthly", "new"])
    assert batch.customer_ids.tolist() == ["nobody", "monthly", "new"]
    assert batch.state_list() == [S.PROSPECT, S.MATURE, S.NEW]
    assert batch.classification("nobody") == classify("nobody", [], T0)
    assert batch.classification(1) == classify("monthly", HISTORIES["monthly"], T0)
    assert np.isnat(batch.last_purchase_at[0]) and np.isnan(batch.recency_days[0])


def test_a_customer_frame_gives_the_population() -> None:
    people = [Customer.register(c, c.title(), T0 - 500 * DAY).value for c in ("new", "zed")]
    batch = classify_log(make_log(HISTORIES), T0, customers=CustomerFrame.from_customers(people))
    assert batch.state_list() == [S.NEW, S.PROSPECT]


def test_row_order_does_not_matter() -> None:
    log = make_log(HISTORIES)
    shuffled = log.take(np.random.default_rng(7).permutation(len(log)))
    ids = list(HISTORIES)
    a = classify_log(log, T0, customers=ids)
    b = classify_log(shuffled, T0, customers=ids)
    c = classify_log(log.sort_by_customer_time(), T0, customers=ids)
    for name in BatchClassification.__slots__:
        if name not in ("as_of", "policy"):
            assert np.array_equal(
                getattr(a, name), getattr(b, name), equal_nan=name != "customer_ids"
            )
            assert np.array_equal(
                getattr(a, name), getattr(c, name), equal_nan=name != "customer_ids"
            )


def test_an_empty_log() -> None:
    empty = TransactionLog.from_records([])
    assert len(classify_log(empty, T0)) == 0
    batch = classify_log(empty, T0, customers=["a", "b"])
    assert batch.state_list() == [S.PROSPECT, S.PROSPECT]
    assert batch.to_dict()["states"] == {
        s.value: {"count": 2 if s is S.PROSPECT else 0, "share": 1.0 if s is S.PROSPECT else 0.0,
                  "mean_risk": 0.0 if s is S.PROSPECT else None}
        for s in S
    }  # fmt: skip
    assert classify_log(empty, T0, customers=[]).to_dict()["mean_risk"] is None


def test_masks_counts_and_arrays_are_read_only() -> None:
    batch = classify_log(make_log(HISTORIES), T0)
    assert batch.mask("decline").tolist() == [False, True, False, True, False, False, False]
    assert batch.has_reason(Reason.NO_REPEAT_PURCHASE).tolist()[1]
    assert batch.counts()[S.DECLINE] == 2 and sum(batch.counts().values()) == len(batch)
    assert batch.reason_counts()[Reason.FREQUENCY_DOWN] == 1
    with pytest.raises(ValueError, match="read-only"):
        batch.states[0] = 3
    with pytest.raises(NotFoundError):
        batch.classification("stranger")
    with pytest.raises(ValidationError, match="position"):
        batch.classification(99)


def test_report_to_dict_and_html() -> None:
    batch = classify_log(make_log(HISTORIES), T0)
    data = batch.to_dict()
    assert data["customers"] == 7 and data["policy"] == "default"
    states = data["states"]
    assert isinstance(states, dict) and states["decline"]["count"] == 2
    assert data["reasons"]["no_purchases"] == 1  # type: ignore[index]
    html = batch._repr_html_()
    assert "Lifecycle as of 2026-01-01" in html and "decline" in html and "<table" in html
    assert repr(batch) == "BatchClassification(7 customers as of 2026-01-01T00:00:00+00:00)"


def test_bad_input_raises_named_errors() -> None:
    log = make_log(HISTORIES)
    with pytest.raises(ValidationError, match="as_of"):
        classify_log(log, datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="TransactionLog"):
        classify_log([], T0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="twice"):
        classify_log(log, T0, customers=["a", "b", "a"])
    with pytest.raises(ValidationError, match=r"customers\[1\]"):
        classify_log(log, T0, customers=["a", 7])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="customers"):
        classify_log(log, T0, customers="abc")
    with pytest.raises(ValidationError, match="policy"):
        classify_log(log, T0, policy={"window_days": 30})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="finite") as caught:
        TransactionLog.from_records(
            [
                {"customer_id": "a", "at": T0, "amount": 1.0},
                {"customer_id": "a", "at": T0, "amount": float("inf")},
            ]
        )
    assert caught.value.field == "row 1: amount"


def test_returns_never_make_a_customer_active() -> None:
    rows = [
        {"customer_id": "a", "at": T0 - 400 * DAY, "amount": 30.0},
        {"customer_id": "a", "at": T0 - DAY, "amount": -30.0},  # a return: not activity
        {"customer_id": "b", "at": T0 - DAY, "amount": -5.0},  # bought before the data
    ]
    batch = classify_log(TransactionLog.from_records(rows), T0)
    assert batch.state_list() == [S.CHURNED, S.PROSPECT]
    assert batch.purchases.tolist() == [1, 0]


def test_spend_beyond_exact_summation_is_refused_in_both_paths() -> None:
    rows = [(T0 - DAY, 5e11), (T0 - 2 * DAY, 5e11)]
    log = make_log({"big": rows})
    with pytest.raises(ValidationError, match="2\\*\\*53"):
        classify_log(log, T0)
    with pytest.raises(ValidationError, match="2\\*\\*53"):
        classify("big", rows, T0)
    one = [(T0 - DAY, 1e12)]
    with pytest.raises(ValidationError, match="2\\*\\*53"):
        classify_log(make_log({"big": one}), T0)
    # a huge purchase after as_of does not count
    later = make_log({"big": [(T0 + DAY, 1e12)]})
    assert classify_log(later, T0).state_list() == [S.PROSPECT]
    assert classify("big", [(T0 + DAY, 1e12)], T0).state is S.PROSPECT


def test_currencies_per_customer() -> None:
    mixed_customers = TransactionLog.from_records(
        [
            {"customer_id": "a", "at": T0, "amount": 1.0, "currency": "EUR"},
            {"customer_id": "b", "at": T0, "amount": 1.0, "currency": "USD"},
            {"customer_id": "b", "at": T0, "amount": 1.0},
        ]
    )
    assert len(classify_log(mixed_customers, T0)) == 2  # one currency per customer is fine
    mixed = TransactionLog.from_records(
        [
            {"customer_id": "a", "at": T0, "amount": 1.0, "currency": "EUR"},
            {"customer_id": "a", "at": T0, "amount": 1.0, "currency": "USD"},
        ]
    )
    with pytest.raises(CurrencyMismatchError):
        classify_log(mixed, T0)


def test_policy_is_applied_and_recorded() -> None:
    policy = LifecyclePolicy(name="fast", window_days=7, new_days=7, churn_days=60)
    batch = classify_log(make_log(HISTORIES), T0, policy=policy)
    assert batch.policy is policy
    for cid, rows in HISTORIES.items():
        assert batch.classification(cid) == classify(cid, rows, T0, policy=policy)
    assert batch.classification("new").evidence.policy == "fast"


# -- transitions ------------------------------------------------------------------------------


def test_transitions_between_two_nights() -> None:
    log = make_log(HISTORIES)
    ids = [*HISTORIES, "nobody"]
    before = classify_log(log, T0 - 60 * DAY, customers=ids)
    after = classify_log(log, T0, customers=ids)
    diff = transitions(before, after)
    changed = {str(ids[i]) for i in diff.positions}
    assert changed == {cid for i, cid in enumerate(ids) if before.states[i] != after.states[i]}
    warned = {ids[i] for i in diff.warnings}
    assert warned == {"fading", "one-timer"} and not len(diff.reactivations)
    assert diff.to_dict()["changed"] == len(diff)
    assert sum(diff.counts().values()) == len(diff) == int(diff.matrix().sum())
    assert "Lifecycle transitions" in diff._repr_html_()
    assert repr(diff) == f"BatchTransitions({len(diff)} changes among {len(ids)} customers)"
    assert diff.customer_ids is not None


def test_transitions_from_codes_and_states() -> None:
    diff = transitions([4, 5, 3, 0], [S.GROWTH, S.MATURE, S.MATURE, "new"])
    assert diff.positions.tolist() == [0, 1, 3]
    kinds = list(TransitionKind)
    assert [kinds[k] for k in diff.kinds] == [
        TransitionKind.REACTIVATION, TransitionKind.REACTIVATION, TransitionKind.ACQUISITION,
    ]  # fmt: skip
    assert diff.reactivations.tolist() == [0, 1]
    assert diff.of_kind("acquisition").tolist() == [3]


def test_illegal_batch_moves_name_the_first_and_count_the_rest() -> None:
    with pytest.raises(IllegalTransitionError) as caught:
        transitions(np.array([2, 3, 2, 2]), np.array([1, 3, 0, 1]))
    error = caught.value
    assert (error.from_state, error.to_state) == (S.GROWTH, S.NEW)
    assert "row 0 and 2 more" in error.why


def test_transitions_reject_misaligned_input() -> None:
    log = make_log(HISTORIES)
    with pytest.raises(ValidationError, match="same customers"):
        transitions(
            classify_log(log, T0, customers=["a", "b"]), classify_log(log, T0, customers=["b", "a"])
        )
    with pytest.raises(ValidationError, match="rows"):
        transitions([0, 1], [0])
    with pytest.raises(ValidationError, match="state code"):
        transitions([0, 9], [0, 1])
    with pytest.raises(ValidationError, match="must be one of"):
        transitions(["new"], ["loyal"])


def test_a_batch_result_needs_all_arrays_of_one_length() -> None:
    batch = classify_log(make_log(HISTORIES), T0)
    arrays = {
        name: getattr(batch, name)
        for name in BatchClassification.__slots__
        if name not in ("as_of", "policy")
    }
    with pytest.raises(ValidationError, match="exactly"):
        BatchClassification(T0, batch.policy, **{k: v for k, v in arrays.items() if k != "states"})
    arrays["states"] = arrays["states"][:2]
    with pytest.raises(ValidationError, match="same length"):
        BatchClassification(T0, batch.policy, **arrays)


def test_row_and_code_lookups_refuse_bad_input_naming_it() -> None:
    batch = classify_log(make_log(HISTORIES), T0)
    with pytest.raises(ValidationError, match=r"^reason: must be one of"):
        batch.has_reason("because")
    with pytest.raises(ValidationError, match=r"^customer: must be a str customer id"):
        batch.index_of(7)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^customer: must not contain a lone surrogate"):
        batch.state_of("c\ud800")
    diff = transitions(batch, batch)
    with pytest.raises(ValidationError, match=r"^kind: must be one of"):
        diff.of_kind(["warning"])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^bits: must be an integer from 0"):
        reasons_from_bits(1 << 20)
    with pytest.raises(ValidationError, match=r"^bits: must be an integer"):
        reasons_from_bits("3")  # type: ignore[arg-type]
