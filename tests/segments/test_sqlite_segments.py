"""SqliteStore.segment_members: the rule runs inside the database and means what matches means."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from crmcore.datasets import synthetic
from crmcore.kernel.errors import RuleTypeError, StorageError
from crmcore.segments.evaluate import matches
from crmcore.segments.rules import (
    Aggregate,
    And,
    Compare,
    Did,
    Duration,
    Field,
    HasTag,
    InList,
    IsNull,
    Literal,
    Not,
    Or,
    Predicate,
    TextMatch,
    Within,
)
from crmcore.storage.sqlite import SqliteStore

DATA = synthetic.generate(150, seed=21)
AS_OF = DATA.end - timedelta(days=10)

RULES: list[Predicate] = [
    Compare(Field("total_spent"), ">=", Literal(150)),
    Not(InList(Field("country"), (Literal("CN"), Literal("US")))),
    And(
        (
            Within(Field("last_purchase_at"), Duration(6, "months")),
            Compare(Field("age"), "<", Literal(40)),
        )
    ),
    Or((HasTag("frequent_traveller", Field("lifestyle")), IsNull(Field("phone")))),
    TextMatch(Field("name"), "contains", "LI", ignore_case=True),
    Compare(
        Aggregate("sum", "purchases", column="amount", window=Duration(1, "years")),
        ">",
        Literal(100),
    ),
    Compare(Aggregate("min", "purchases", column="amount"), "<", Literal(20)),
    Did("email_open", Duration(90, "days")),
    Compare(Field("attr.acquisition_channel"), "=", Literal("social")),
    Compare(Field("tenure_days"), ">", Literal(365)),
]


@pytest.fixture(scope="module")
def store() -> Iterator[SqliteStore]:
    with SqliteStore() as s:
        with s.unit_of_work() as uow:
            for customer in DATA.customers:
                uow.customers.add(customer)
            for purchase in DATA.purchases:
                uow.purchases.add(purchase)
            for interaction in DATA.interactions:
                uow.interactions.add(interaction)
        yield s


@pytest.mark.parametrize("rule", RULES, ids=range(len(RULES)))
def test_segment_members_equal_matches(store: SqliteStore, rule: Predicate) -> None:
    bought: dict[str, list[object]] = {}
    for p in DATA.purchases:
        bought.setdefault(p.customer_id, []).append(p)
    did: dict[str, list[object]] = {}
    for i in DATA.interactions:
        did.setdefault(i.customer_id, []).append(i)
    expected = sorted(
        c.id
        for c in DATA.customers
        if matches(
            rule,
            c,
            AS_OF,
            purchases=bought.get(c.id, []),  # type: ignore[arg-type]
            events=did.get(c.id, []),  # type: ignore[arg-type]
        )
    )
    assert store.segment_members(rule, AS_OF) == expected


def test_rules_are_not_trivial(store: SqliteStore) -> None:
    sizes = [len(store.segment_members(rule, AS_OF)) for rule in RULES]
    assert sum(1 for s in sizes if 0 < s < len(DATA.customers)) >= len(RULES) - 1


def test_stored_attributes_join_the_schema(store: SqliteStore) -> None:
    rule = IsNull(Field("attr.acquisition_channel"), negated=True)
    assert len(store.segment_members(rule, AS_OF)) > 0


def test_unknown_field_is_rejected(store: SqliteStore) -> None:
    with pytest.raises(RuleTypeError):
        store.segment_members(Compare(Field("attr.nope"), "=", Literal("x")), AS_OF)


def test_closed_store() -> None:
    s = SqliteStore()
    s.close()
    with pytest.raises(StorageError):
        s.segment_members(HasTag("vip"), AS_OF)
