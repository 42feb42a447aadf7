"""Next best offers: the vectorised path equals the one-customer path; nothing already bought."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.columnar import TransactionLog
from crmcore.datasets import synthetic
from crmcore.kernel.errors import ValidationError
from crmcore.lifecycle.policy import LifecyclePolicy
from crmcore.lifecycle.policy_batch import classify_log
from crmcore.lifecycle.states import LifecycleState
from crmcore.marketing.association_rules import association_rules
from crmcore.marketing.baskets import Baskets
from crmcore.marketing.next_best_offer import next_best_offers, offers_for

ITEMS = list("abcdef")
CUSTOMERS = ["ann", "bob", "cy", "dee", "eve", "fay"]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(CUSTOMERS), st.lists(st.sampled_from(ITEMS), max_size=5)),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from([0.05, 0.1, 0.2]),
    st.integers(1, 4),
    st.sampled_from(["lift", "confidence", "leverage"]),
    st.lists(st.sampled_from(CUSTOMERS), max_size=4),
)
def test_batch_offers_equal_the_per_customer_offers(
    rows: list[tuple[str, list[str]]], support: float, k: int, by: str, eligible: list[str]
) -> None:
    baskets = Baskets.from_lists([items for _, items in rows], customers=[c for c, _ in rows])
    rules = association_rules(baskets, min_support=support)
    offers = next_best_offers(baskets, rules, customers=eligible, per_customer=k, by=by)
    for customer in set(eligible):
        bought = {i for c, items in rows if c == customer for i in items}
        expected = offers_for(bought, rules, customer_id=customer, per_customer=k, by=by)
        got = offers.for_customer(customer)
        assert got == expected
        assert not {o.item for o in got} & bought
    assert {o.customer_id for o in offers} <= set(eligible)


def test_offers_carry_their_reason() -> None:
    history = Baskets.from_lists(
        [["tent", "stove"], ["tent", "stove", "lamp"], ["tent", "stove", "lamp"], ["tent"]],
        customers=["ann", "bob", "cy", "dee"],
    )
    rules = association_rules(history, min_support=0.4)
    (offer,) = next_best_offers(history, rules, customers=["dee"], per_customer=1)
    assert (offer.item, offer.antecedent) == ("stove", ("tent",))
    assert "bought tent" in offer.reason and offer.to_dict()["rank"] == 1
    assert "Next best offers" in next_best_offers(history, rules)._repr_html_()
    with pytest.raises(ValidationError, match="per_customer"):
        next_best_offers(history, rules, per_customer=0)
    with pytest.raises(ValidationError, match="rules"):
        next_best_offers(Baskets.from_lists([["x"]]), rules)


def test_only_customers_in_the_mature_stage_by_default_with_a_classification() -> None:
    data = synthetic.generate(400, seed=4)
    log = TransactionLog.from_purchases(data.purchases)
    states = classify_log(log, data.end, policy=LifecyclePolicy())
    rng = np.random.default_rng(1)
    people = states.customer_ids.tolist()
    lists = [list(rng.choice(ITEMS, rng.integers(1, 5), replace=False)) for _ in people * 3]
    baskets = Baskets.from_lists(lists, customers=people * 3)
    rules = association_rules(baskets, min_support=0.05)
    offers = next_best_offers(baskets, rules, customers=states, per_customer=2)
    mature = set(states.customer_ids[states.mask(LifecycleState.MATURE)].tolist())
    assert {o.customer_id for o in offers} <= mature
    assert len({o.customer_id for o in offers}) > 0


def test_arguments_are_checked_once_and_valid_calls_answer_as_before() -> None:
    history = Baskets.from_lists(
        [["tent", "stove"], ["tent", "stove", "lamp"], ["tent", "lamp"], ["tent"]],
        customers=["ann", "bob", "cy", "dee"],
    )
    rules = association_rules(history, min_support=0.4)
    three = next_best_offers(history, rules, per_customer=3)
    # a cap beyond the number of items gives the same offers (and no int64 overflow)
    assert list(next_best_offers(history, rules, per_customer=2**63)) == list(three)
    assert list(next_best_offers(history, rules, stage="mature")) == list(three)
    with pytest.raises(ValidationError, match=r"^stage: must be one of 'prospect'"):
        next_best_offers(history, rules, stage="Mature")  # the value exactly, as before
    with pytest.raises(ValidationError, match=r"^per_customer: must be an integer of at least 1"):
        offers_for(["tent"], rules, per_customer=0)
    with pytest.raises(ValidationError, match=r"^i: must be an integer from -\d+ to \d+"):
        three.offer(len(three))
    assert three.offer(-1) == list(three)[-1]
